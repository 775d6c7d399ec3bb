//! One GraphQL request, start to finish: read the body, parse, pick the operation, price it, take the cost from
//! Shopify's bucket (or answer `MAX_COST_EXCEEDED` / `THROTTLED`), run it (mutations replayed under an
//! `@idempotent` key), and wrap the answer with `extensions.cost`.

use serde_json::{Map, Value as Json, json};

use super::graphql::{self, Document, Field, Operation, OperationKind};
use super::select::Selector;
use crate::world::{SavedMutation, World};

/// What the HTTP layer sends back.
#[derive(Debug)]
pub(crate) struct GraphqlAnswer {
    pub status: u16,
    pub body: Json,
    pub replayed: bool,
}

/// The operation a request runs: by `operationName`, else the only one.
pub(crate) fn pick_operation<'d>(doc: &'d Document, name: Option<&str>) -> Result<&'d Operation, String> {
    match name {
        Some(name) => doc
            .operations
            .iter()
            .find(|op| op.name.as_deref() == Some(name))
            .ok_or_else(|| format!("No operation named \"{name}\"")),
        None if doc.operations.len() == 1 => Ok(&doc.operations[0]),
        None => Err("An operation name is required".to_owned()),
    }
}

/// The `@idempotent(key:)` of a mutation field, or of its operation.
pub(crate) fn idempotency_key(
    op: &Operation,
    field: &Field,
    variables: &Map<String, Json>,
) -> Option<String> {
    field
        .directives
        .iter()
        .chain(&op.directives)
        .find(|d| d.name == "idempotent")
        .and_then(|d| d.arguments.iter().find(|(n, _)| n == "key"))
        .and_then(|(_, v)| v.resolve(variables).as_str().map(str::to_owned))
}

/// The request's `variables`: an object, a JSON string holding one, or nothing.
fn variables(request: &Json) -> Result<Map<String, Json>, String> {
    match request.get("variables") {
        None | Some(Json::Null) => Ok(Map::new()),
        Some(Json::Object(map)) => Ok(map.clone()),
        Some(Json::String(text)) if text.trim().is_empty() => Ok(Map::new()),
        Some(Json::String(text)) => match serde_json::from_str(text) {
            Ok(Json::Object(map)) => Ok(map),
            _ => Err("Variables must be an object".to_owned()),
        },
        Some(_) => Err("Variables must be an object".to_owned()),
    }
}

impl World {
    /// Shopify's `throttleStatus` at `now_ms`.
    pub(crate) fn throttle_status(&mut self, now_ms: i64) -> Json {
        let available = self.bucket.level(now_ms);
        json!({
            "maximumAvailable": self.bucket.maximum,
            "currentlyAvailable": available.floor(),
            "restoreRate": self.bucket.restore_rate,
        })
    }

    fn envelope(
        &mut self,
        mut body: Map<String, Json>,
        requested: Option<u64>,
        actual: Option<u64>,
        now_ms: i64,
    ) -> Json {
        let throttle = self.throttle_status(now_ms);
        body.insert(
            "extensions".to_owned(),
            json!({ "cost": { "requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": throttle } }),
        );
        Json::Object(body)
    }

    fn errors_only(&mut self, errors: Vec<Json>, requested: Option<u64>, now_ms: i64) -> GraphqlAnswer {
        let mut body = Map::new();
        body.insert("errors".to_owned(), Json::Array(errors));
        GraphqlAnswer { status: 200, body: self.envelope(body, requested, None, now_ms), replayed: false }
    }

    /// `POST /admin/api/{version}/graphql.json` with this body, at `now_ms`.
    pub(crate) fn graphql(&mut self, body: &[u8], now: i64, now_ms: i64) -> GraphqlAnswer {
        let bad = |message: &str| GraphqlAnswer {
            status: 400,
            body: json!({ "errors": { "query": message } }),
            replayed: false,
        };
        let Ok(request) = serde_json::from_slice::<Json>(body) else {
            return bad("Required parameter missing or invalid");
        };
        let Some(query) = request.get("query").and_then(Json::as_str).filter(|q| !q.trim().is_empty()) else {
            return bad("Required parameter missing or invalid");
        };
        let mut vars = match variables(&request) {
            Ok(vars) => vars,
            Err(message) => return self.errors_only(vec![json!({ "message": message })], None, now_ms),
        };
        let doc = match graphql::parse(query) {
            Ok(doc) => doc,
            Err(e) => {
                let error =
                    json!({ "message": e.message, "locations": [{ "line": e.line, "column": e.column }] });
                return self.errors_only(vec![error], None, now_ms);
            }
        };
        let op = match pick_operation(&doc, request.get("operationName").and_then(Json::as_str)) {
            Ok(op) => op,
            Err(message) => return self.errors_only(vec![json!({ "message": message })], None, now_ms),
        };
        for (name, default) in &op.variables {
            if !vars.contains_key(name)
                && let Some(default) = default
            {
                vars.insert(name.clone(), default.resolve(&Map::new()));
            }
        }
        let mut selector = Selector::new(&doc, &vars);
        let root_type = match op.kind {
            OperationKind::Query => "QueryRoot",
            OperationKind::Mutation => "Mutation",
            OperationKind::Subscription => {
                let error = json!({ "message": "Subscriptions are not supported by the Admin API" });
                return self.errors_only(vec![error], None, now_ms);
            }
        };
        let roots = selector.fields(&op.selection, Some(root_type));
        let requested = match op.kind {
            OperationKind::Mutation => 10 * roots.len() as u64,
            _ => selector.requested(&op.selection),
        };
        let max = self.settings.max_query_cost;
        if requested > max {
            let error = json!({
                "message": format!(
                    "Query cost is {requested}, which exceeds the single query max cost limit ({max}).\n\nSee \
                     https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a \
                     query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations \
                     should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api \
                     for usage details.\n"
                ),
                "extensions": { "code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": max }
            });
            return self.errors_only(vec![error], Some(requested), now_ms);
        }
        if requested as f64 > self.bucket.level(now_ms) {
            let error = json!({
                "message": "Throttled",
                "extensions": { "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits" }
            });
            return self.errors_only(vec![error], Some(requested), now_ms);
        }
        self.bucket.available -= requested as f64;
        let mut data = Map::new();
        let mut replayed = false;
        let actual = match op.kind {
            OperationKind::Mutation => {
                // Every payload's selection is checked before anything changes, as Shopify validates first.
                for field in &roots {
                    let example = self.mutation_example(&field.name);
                    let mut dry = Selector::new(&doc, &vars);
                    let mut path = vec![json!(field.key())];
                    let parent: Map<String, Json> =
                        example.map(|e| (field.name.clone(), e)).into_iter().collect();
                    dry.answer(&parent, root_type, field, &mut path);
                    selector.errors.append(&mut dry.errors);
                }
                if !selector.errors.is_empty() {
                    self.bucket.available += requested as f64;
                    let errors = std::mem::take(&mut selector.errors);
                    return self.errors_only(errors, Some(requested), now_ms);
                }
                for field in &roots {
                    let key = idempotency_key(op, field, &vars);
                    let arguments = Json::Object(field.arguments_json(&vars));
                    let payload = match key.as_ref().and_then(|k| self.idempotent.get(k)) {
                        Some(saved) if saved.field == field.name && saved.arguments == arguments => {
                            replayed = true;
                            Ok(saved.answer.clone())
                        }
                        Some(_) => Err(json!({
                            "message": format!(
                                "The idempotency key '{}' was already used for a different request",
                                key.as_deref().unwrap_or_default()
                            ),
                            "path": [field.key()],
                            "extensions": { "code": "IDEMPOTENCY_KEY_REUSED" }
                        })),
                        None => {
                            let payload = self.mutation(field, &vars, now);
                            if let (Some(key), Ok(answer)) = (&key, &payload) {
                                let saved = SavedMutation {
                                    field: field.name.clone(),
                                    arguments,
                                    answer: answer.clone(),
                                };
                                self.idempotent.insert(key.clone(), saved);
                            }
                            payload
                        }
                    };
                    let answer = match payload {
                        Ok(payload) => {
                            let mut path = vec![json!(field.key())];
                            let parent: Map<String, Json> =
                                [(field.name.clone(), payload)].into_iter().collect();
                            selector.answer(&parent, root_type, field, &mut path)
                        }
                        Err(error) => {
                            selector.errors.push(error);
                            Json::Null
                        }
                    };
                    data.insert(field.key().to_owned(), answer);
                }
                requested
            }
            _ => {
                for field in &roots {
                    let mut path = vec![json!(field.key())];
                    let value = match self.query(field, &vars) {
                        Ok(Some(value)) => Some(value),
                        Ok(None) => None,
                        Err(message) => {
                            selector.error(
                                message,
                                field,
                                &path,
                                json!({ "code": "argumentLiteralsIncompatible" }),
                            );
                            data.insert(field.key().to_owned(), Json::Null);
                            continue;
                        }
                    };
                    let parent: Map<String, Json> =
                        value.map(|v| (field.name.clone(), v)).into_iter().collect();
                    let answer = selector.answer(&parent, root_type, field, &mut path);
                    data.insert(field.key().to_owned(), answer);
                }
                selector.actual_cost.max(1)
            }
        };
        self.bucket.available =
            (self.bucket.available + requested as f64 - actual as f64).min(self.bucket.maximum);
        let invalid = selector.errors.iter().any(|e| {
            matches!(
                e.pointer("/extensions/code").and_then(Json::as_str),
                Some("undefinedField" | "selectionMismatch")
            )
        });
        let mut body = Map::new();
        if !selector.errors.is_empty() {
            body.insert("errors".to_owned(), Json::Array(std::mem::take(&mut selector.errors)));
        }
        if invalid {
            // A query that names fields the type lacks is refused whole, as Shopify's validation refuses it.
            return GraphqlAnswer {
                status: 200,
                body: self.envelope(body, Some(requested), None, now_ms),
                replayed,
            };
        }
        body.insert("data".to_owned(), Json::Object(data));
        GraphqlAnswer {
            status: 200,
            body: self.envelope(body, Some(requested), Some(actual), now_ms),
            replayed,
        }
    }
}
