//! The mutations Seam uses: `metafieldsSet` (a note that overwrites nothing), `tagsAdd` and `tagsRemove` (tags
//! added to what the order holds) and `orderCancel` (with reason, refund and restock). Bad input is answered in
//! the payload's `userErrors` (`orderCancelUserErrors`), as Shopify does; missing required arguments and bad
//! enum values are top-level errors.

use serde_json::{Map, Value as Json, json};

use super::graphql::Field;
use super::resolve::parse_gid;
use super::select::argument;
use crate::world::ids::{gid, utc};
use crate::world::{Kind, Metafield, World};

const CANCEL_REASONS: &[&str] = &["CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"];

/// The metafield types the sandbox knows (Shopify has more; an unknown one is `INVALID_TYPE`).
const METAFIELD_TYPES: &[&str] = &[
    "single_line_text_field",
    "multi_line_text_field",
    "json",
    "boolean",
    "number_integer",
    "number_decimal",
    "date",
    "date_time",
    "url",
    "id",
];

fn missing(field: &Field, names: &[&str]) -> Json {
    json!({
        "message": format!("Field '{}' is missing required arguments: {}", field.name, names.join(", ")),
        "locations": [{ "line": field.line, "column": field.column }],
        "path": ["mutation", field.name],
        "extensions": { "code": "missingRequiredArguments", "className": "Field", "name": field.name, "arguments": names.join(", ") }
    })
}

fn user_error(field: &[&str], message: &str, code: &str) -> Json {
    json!({ "__typename": "UserError", "field": field, "message": message, "code": code })
}

/// Shopify's handles for metafield namespaces and keys: letters, digits, `-` and `_`.
fn handle_chars(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn valid_value(kind: &str, value: &str) -> bool {
    match kind {
        "single_line_text_field" => !value.contains('\n'),
        "json" => serde_json::from_str::<Json>(value).is_ok(),
        "boolean" => value == "true" || value == "false",
        "number_integer" => value.parse::<i64>().is_ok(),
        "number_decimal" => value.parse::<f64>().is_ok(),
        _ => true,
    }
}

impl World {
    /// A payload with every field filled, against which a mutation's selection is checked before it runs.
    pub(crate) fn mutation_example(&self, name: &str) -> Option<Json> {
        let error = |typename: &str| json!([{ "__typename": typename, "field": ["x"], "message": "m", "code": "INVALID", "elementIndex": 0 }]);
        let order = (!self.orders.is_empty()).then(|| self.order_node(0));
        Some(match name {
            "metafieldsSet" => json!({
                "__typename": "MetafieldsSetPayload",
                "metafields": [self.metafield_json(&Metafield {
                    id: 0, namespace: String::new(), key: String::new(), kind: String::new(), value: String::new(), created: 0, updated: 0,
                }, 0)],
                "userErrors": error("MetafieldsSetUserError"),
            }),
            "tagsAdd" | "tagsRemove" => json!({
                "__typename": if name == "tagsAdd" { "TagsAddPayload" } else { "TagsRemovePayload" },
                "node": { "__typename": "Order", "id": "gid://shopify/Order/0" },
                "userErrors": error("UserError"),
            }),
            "orderCancel" => json!({
                "__typename": "OrderCancelPayload",
                "job": { "__typename": "Job", "id": "gid://shopify/Job/0", "done": false, "query": { "__typename": "QueryRoot" } },
                "jobResult": {
                    "__typename": "OrderCancelJobResult", "id": "gid://shopify/Job/0", "done": true,
                    "status": "SUCCEEDED", "errors": error("OrderCancelUserError"), "order": order,
                },
                "orderCancelUserErrors": error("OrderCancelUserError"),
                "userErrors": error("UserError"),
            }),
            _ => return None,
        })
    }

    fn metafield_json(&self, m: &Metafield, owner: u64) -> Json {
        json!({
            "__typename": "Metafield",
            "id": gid("Metafield", m.id),
            "namespace": m.namespace,
            "key": m.key,
            "type": m.kind,
            "value": m.value,
            "ownerType": "ORDER",
            "owner": { "__typename": "Order", "id": gid("Order", owner) },
            "createdAt": utc(m.created),
            "updatedAt": utc(m.updated),
        })
    }

    /// Runs a mutation; `Err` is a top-level error (the field answers null).
    pub(crate) fn mutation(
        &mut self,
        field: &Field,
        vars: &Map<String, Json>,
        now: i64,
    ) -> Result<Json, Json> {
        match field.name.as_str() {
            "metafieldsSet" => self.metafields_set(field, vars, now),
            "tagsAdd" | "tagsRemove" => self.tags_change(field, vars, now),
            "orderCancel" => self.order_cancel(field, vars, now),
            other => Err(json!({ "message": format!("Field '{other}' doesn't exist on type 'Mutation'") })),
        }
    }

    fn metafields_set(&mut self, field: &Field, vars: &Map<String, Json>, now: i64) -> Result<Json, Json> {
        let Json::Array(inputs) = argument(field, "metafields", vars) else {
            return Err(missing(field, &["metafields"]));
        };
        let payload = |metafields: Json, errors: Vec<Json>| json!({ "__typename": "MetafieldsSetPayload", "metafields": metafields, "userErrors": errors });
        if inputs.len() > 25 {
            let e = json!({ "__typename": "MetafieldsSetUserError", "field": ["metafields"],
                "message": "Exceeded the maximum metafields input limit of 25.", "code": "LESS_THAN_OR_EQUAL_TO", "elementIndex": null });
            return Ok(payload(json!([]), vec![e]));
        }
        let mut errors = Vec::new();
        let mut writes = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            let index = i.to_string();
            let mut fail = |name: &str, message: String, code: &str| {
                errors.push(
                    json!({ "__typename": "MetafieldsSetUserError", "field": ["metafields", index, name],
                    "message": message, "code": code, "elementIndex": i }),
                );
            };
            let text = |name: &str| input.get(name).and_then(Json::as_str).map(str::to_owned);
            let owner = match input.get("ownerId").map(|o| parse_gid(o, "Order")) {
                Some(Ok(id)) if self.order_index(id).is_some() => id,
                _ => {
                    fail("ownerId", "Owner does not exist.".to_owned(), "INVALID");
                    continue;
                }
            };
            let namespace = text("namespace").unwrap_or_else(|| "$app".to_owned());
            let key = text("key").unwrap_or_default();
            if !(3..=255).contains(&namespace.len())
                || !handle_chars(namespace.trim_start_matches("$app:").trim_start_matches('$'))
            {
                fail(
                    "namespace",
                    "Namespace must be 3-255 characters of letters, digits, hyphens and underscores."
                        .to_owned(),
                    "INVALID",
                );
            }
            if key.len() < 2 {
                fail("key", "Key is too short (minimum is 2 characters)".to_owned(), "TOO_SHORT");
            } else if key.len() > 64 {
                fail("key", "Key is too long (maximum is 64 characters)".to_owned(), "TOO_LONG");
            } else if !handle_chars(&key) {
                fail("key", "Key contains one or more invalid characters.".to_owned(), "INVALID");
            }
            let order = self.order_index(owner).map(|o| &self.orders[o]);
            let existing =
                order.and_then(|o| o.metafields.iter().find(|m| m.namespace == namespace && m.key == key));
            let kind = text("type").or_else(|| existing.map(|m| m.kind.clone()));
            match kind.as_deref() {
                None => fail("type", "Type can't be blank".to_owned(), "BLANK"),
                Some(k) if !METAFIELD_TYPES.contains(&k) => {
                    fail("type", format!("Type '{k}' is invalid"), "INVALID_TYPE")
                }
                Some(_) => {}
            }
            let value = text("value").unwrap_or_default();
            if value.trim().is_empty() {
                fail("value", "Value can't be blank.".to_owned(), "BLANK");
            } else if let Some(k) = kind.as_deref()
                && !valid_value(k, &value)
            {
                fail("value", format!("Value is invalid for type {k}."), "INVALID_VALUE");
            }
            writes.push((owner, namespace, key, kind.unwrap_or_default(), value));
        }
        if !errors.is_empty() {
            return Ok(payload(json!([]), errors));
        }
        let mut written = Vec::new();
        for (owner, namespace, key, kind, value) in writes {
            let Some(at) = self.order_index(owner) else { continue };
            let id = self.ids.next(Kind::Metafield);
            let order = &mut self.orders[at];
            let index = match order.metafields.iter().position(|m| m.namespace == namespace && m.key == key) {
                Some(i) => {
                    let m = &mut order.metafields[i];
                    m.value = value;
                    m.kind = kind;
                    m.updated = now;
                    i
                }
                None => {
                    order.metafields.push(Metafield {
                        id,
                        namespace,
                        key,
                        kind,
                        value,
                        created: now,
                        updated: now,
                    });
                    order.metafields.len() - 1
                }
            };
            order.updated = now;
            written.push(self.metafield_json(&self.orders[at].metafields[index], owner));
        }
        Ok(payload(Json::Array(written), Vec::new()))
    }

    fn tags_change(&mut self, field: &Field, vars: &Map<String, Json>, now: i64) -> Result<Json, Json> {
        let adding = field.name == "tagsAdd";
        let (id, tags) = (argument(field, "id", vars), argument(field, "tags", vars));
        if id.is_null() || tags.is_null() {
            return Err(missing(field, &["id", "tags"]));
        }
        let typename = if adding { "TagsAddPayload" } else { "TagsRemovePayload" };
        let fail = |message: &str| {
            Ok(
                json!({ "__typename": typename, "node": null, "userErrors": [user_error(&["id"], message, "INVALID")] }),
            )
        };
        let Ok(number) = parse_gid(&id, "Order") else { return fail("Invalid global id") };
        let Some(at) = self.order_index(number) else { return fail("Order does not exist") };
        // A list of tags, or one string of comma-separated tags; either way each is split on commas.
        let given: Vec<String> = match &tags {
            Json::Array(items) => items
                .iter()
                .filter_map(Json::as_str)
                .flat_map(|t| t.split(','))
                .map(|t| t.trim().to_owned())
                .collect(),
            Json::String(text) => text.split(',').map(|t| t.trim().to_owned()).collect(),
            _ => Vec::new(),
        };
        if let Some(long) = given.iter().find(|t| t.len() > 255) {
            let message = format!("Tag '{}…' is too long (maximum is 255 characters)", &long[..20]);
            return Ok(
                json!({ "__typename": typename, "node": null, "userErrors": [user_error(&["tags"], &message, "TOO_LONG")] }),
            );
        }
        let order = &mut self.orders[at];
        for tag in given.into_iter().filter(|t| !t.is_empty()) {
            let present = order.tags.iter().position(|t| t.eq_ignore_ascii_case(&tag));
            match (adding, present) {
                (true, None) => order.tags.push(tag),
                (false, Some(i)) => {
                    order.tags.remove(i);
                }
                _ => {}
            }
        }
        order.updated = now;
        Ok(
            json!({ "__typename": typename, "node": { "__typename": "Order", "id": gid("Order", number) }, "userErrors": [] }),
        )
    }

    fn order_cancel(&mut self, field: &Field, vars: &Map<String, Json>, now: i64) -> Result<Json, Json> {
        let arg = |name: &str| argument(field, name, vars);
        let missing_names: Vec<&str> =
            ["orderId", "reason", "restock"].into_iter().filter(|n| arg(n).is_null()).collect();
        if !missing_names.is_empty() {
            return Err(missing(field, &missing_names));
        }
        let reason = arg("reason").as_str().unwrap_or_default().to_owned();
        if !CANCEL_REASONS.contains(&reason.as_str()) {
            return Err(json!({
                "message": format!("Argument 'reason' on Field 'orderCancel' has an invalid value ({reason}). Expected type 'OrderCancelReason!'."),
                "locations": [{ "line": field.line, "column": field.column }],
                "path": ["mutation", "orderCancel", "reason"],
                "extensions": { "code": "argumentLiteralsIncompatible", "typeName": "Field", "argumentName": "reason" }
            }));
        }
        let restock = arg("restock").as_bool().unwrap_or(false);
        // `refund` (deprecated) or `refundMethod: {originalPaymentMethodsRefund}` (its replacement).
        let refund = match (arg("refund"), arg("refundMethod")) {
            (Json::Bool(b), _) => Some(b),
            (_, Json::Object(m)) => {
                Some(m.get("originalPaymentMethodsRefund").and_then(Json::as_bool).unwrap_or(false))
            }
            _ => None,
        };
        let job_id = format!("gid://shopify/Job/{}", self.ids.uuid());
        let payload = |world: &World, errors: Vec<Json>, order: Option<usize>| {
            let ok = errors.is_empty();
            json!({
                "__typename": "OrderCancelPayload",
                "job": ok.then(|| json!({ "__typename": "Job", "id": job_id, "done": false, "query": { "__typename": "QueryRoot" } })),
                "jobResult": ok.then(|| json!({
                    "__typename": "OrderCancelJobResult", "id": job_id, "done": false, "status": "STARTED",
                    "errors": [], "order": order.map(|o| world.order_node(o)),
                })),
                "orderCancelUserErrors": errors,
                "userErrors": [],
            })
        };
        let error = |field: &str, message: &str, code: &str| json!({ "__typename": "OrderCancelUserError", "field": [field], "message": message, "code": code });
        let Some(refund) = refund else {
            let e = error("refundMethod", "Either refund or refundMethod must be provided.", "INVALID");
            return Ok(payload(self, vec![e], None));
        };
        let Ok(number) = parse_gid(&arg("orderId"), "Order") else {
            return Ok(payload(self, vec![error("orderId", "Invalid global id", "INVALID")], None));
        };
        let Some(at) = self.order_index(number) else {
            return Ok(payload(self, vec![error("orderId", "Order does not exist", "NOT_FOUND")], None));
        };
        let order = &self.orders[at];
        let refusal = if order.cancelled.is_some() {
            Some("Order has already been cancelled")
        } else if !order.fulfillments.is_empty() {
            Some("Cannot cancel an order with fulfillments; cancel the fulfillments first")
        } else if order.returns.iter().any(|r| r.status != "CLOSED") {
            Some("Cannot cancel an order with a return in progress")
        } else {
            None
        };
        if let Some(message) = refusal {
            return Ok(payload(self, vec![error("orderId", message, "INVALID")], Some(at)));
        }
        self.cancel_in_shopify(at, &reason, refund, restock, now);
        Ok(payload(self, Vec::new(), Some(at)))
    }
}
