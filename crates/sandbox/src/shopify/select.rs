//! Answering with exactly what was selected, and what it costs.
//!
//! The resolvers build each root field's whole object as JSON in GraphQL's names (`displayFinancialStatus`,
//! `lineItems` as a connection whose `__typename` ends in `Connection`); [`Selector::project`] keeps what the
//! query selected, under its aliases, applies the arguments of nested fields (`first`/`last`/`after`/`before` on
//! connections and lists, `names` on `quantities`, `metafield(namespace:, key:)`), builds `edges` and `pageInfo`
//! on demand, and reports a field the type does not have the way Shopify does (`undefinedField`).
//!
//! Costs follow Shopify's published rules: scalars and enums 0, objects 1, a connection 2 plus `first` (or
//! `last`) times its node's cost, a mutation 10. The requested cost is computed before anything runs; the actual
//! cost counts what came back.

use base64::Engine as _;
use serde_json::{Map, Value as Json, json};

use super::graphql::{Document, Field, Selection, Value};

/// Shopify's largest page.
const MAX_PAGE: i64 = 250;

pub(crate) struct Selector<'a> {
    pub doc: &'a Document,
    pub variables: &'a Map<String, Json>,
    pub errors: Vec<Json>,
    pub actual_cost: u64,
}

impl<'a> Selector<'a> {
    pub fn new(doc: &'a Document, variables: &'a Map<String, Json>) -> Self {
        Selector { doc, variables, errors: Vec::new(), actual_cost: 0 }
    }

    /// The fields of `selection` that apply to an object of type `typename`, fragments flattened.
    pub fn fields(&self, selection: &'a [Selection], typename: Option<&str>) -> Vec<&'a Field> {
        let mut out = Vec::new();
        self.collect(selection, typename, &mut out, 0);
        out
    }

    fn collect(
        &self,
        selection: &'a [Selection],
        typename: Option<&str>,
        out: &mut Vec<&'a Field>,
        depth: usize,
    ) {
        if depth > 16 {
            return;
        }
        for item in selection {
            match item {
                Selection::Field(f) => out.push(f),
                Selection::Inline { on, selection } => {
                    if on.as_deref().is_none_or(|on| typename.is_none_or(|t| t == on)) {
                        self.collect(selection, typename, out, depth + 1);
                    }
                }
                Selection::Spread(name) => {
                    if let Some((on, selection)) = self.doc.fragments.get(name)
                        && typename.is_none_or(|t| t == on)
                    {
                        self.collect(selection, typename, out, depth + 1);
                    }
                }
            }
        }
    }

    pub fn error(&mut self, message: String, field: &Field, path: &[Json], extensions: Json) {
        self.errors.push(json!({
            "message": message,
            "locations": [{ "line": field.line, "column": field.column }],
            "path": path,
            "extensions": extensions,
        }));
    }

    fn int_argument(&self, field: &Field, name: &str) -> Option<i64> {
        field.argument(name).and_then(|v| v.resolve(self.variables).as_i64())
    }

    /// Projects `value` (a whole object, list or scalar) onto `field`'s selection.
    pub fn project(&mut self, value: &Json, field: &'a Field, path: &mut Vec<Json>) -> Json {
        match value {
            Json::Null => Json::Null,
            Json::Array(items) => Json::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        path.push(json!(i));
                        let out = self.project(item, field, path);
                        path.pop();
                        out
                    })
                    .collect(),
            ),
            Json::Object(object) => {
                let typename = object.get("__typename").and_then(Json::as_str).unwrap_or("Object").to_owned();
                self.actual_cost += if typename.ends_with("Connection") {
                    2
                } else if typename.ends_with("Edge") || typename == "PageInfo" {
                    0
                } else {
                    1
                };
                let mut out = Map::new();
                for child in self.fields(&field.selection, Some(&typename)) {
                    path.push(json!(child.key()));
                    let answer = self.answer(object, &typename, child, path);
                    path.pop();
                    merge(&mut out, child.key(), answer);
                }
                Json::Object(out)
            }
            scalar => scalar.clone(),
        }
    }

    pub fn answer(
        &mut self,
        object: &Map<String, Json>,
        typename: &str,
        field: &'a Field,
        path: &mut Vec<Json>,
    ) -> Json {
        if field.name == "__typename" {
            return json!(typename);
        }
        let raw = if field.name == "metafield" {
            let namespace = field.argument("namespace").map(|v| v.resolve(self.variables));
            let key = field.argument("key").map(|v| v.resolve(self.variables));
            let found = object.get("metafields").and_then(|m| m["nodes"].as_array()).and_then(|nodes| {
                nodes
                    .iter()
                    .find(|m| Some(&m["namespace"]) == namespace.as_ref() && Some(&m["key"]) == key.as_ref())
            });
            found.cloned().unwrap_or(Json::Null)
        } else {
            match object.get(&field.name) {
                Some(raw) => raw.clone(),
                None => {
                    self.error(
                        format!("Field '{}' doesn't exist on type '{typename}'", field.name),
                        field,
                        path,
                        json!({ "code": "undefinedField", "typeName": typename, "fieldName": field.name }),
                    );
                    return Json::Null;
                }
            }
        };
        let raw = match self.arguments(raw, field, path) {
            Some(raw) => raw,
            None => return Json::Null,
        };
        let composite = match &raw {
            Json::Object(_) => true,
            Json::Array(items) => items.iter().any(Json::is_object),
            _ => false,
        };
        match (field.selection.is_empty(), composite) {
            (true, true) => {
                let kind = raw.get("__typename").and_then(Json::as_str).unwrap_or("an object").to_owned();
                self.error(
                    format!(
                        "Field must have selections (field '{}' returns {kind} but has no selections. Did you mean '{} {{ ... }}'?)",
                        field.name, field.name
                    ),
                    field,
                    path,
                    json!({ "code": "selectionMismatch", "nodeName": format!("field '{}'", field.name), "typeName": kind }),
                );
                Json::Null
            }
            (false, false) if !raw.is_null() && !raw.as_array().is_some_and(Vec::is_empty) => {
                self.error(
                    format!("Selections can't be made on scalars (field '{}' returns a scalar but has selections)", field.name),
                    field,
                    path,
                    json!({ "code": "selectionMismatch", "nodeName": format!("field '{}'", field.name) }),
                );
                Json::Null
            }
            (true, false) => raw,
            (false, _) => self.project(&raw, field, path),
        }
    }

    /// Applies a nested field's arguments: paging on connections and lists, `names` on quantities.
    fn arguments(&mut self, raw: Json, field: &Field, path: &[Json]) -> Option<Json> {
        let first = self.int_argument(field, "first");
        let last = self.int_argument(field, "last");
        for (name, n) in [("first", first), ("last", last)] {
            if let Some(n) = n
                && !(0..=MAX_PAGE).contains(&n)
            {
                self.error(
                    format!("The '{name}' argument must be between 0 and {MAX_PAGE} (got {n})"),
                    field,
                    path,
                    json!({ "code": "argumentLiteralsIncompatible" }),
                );
                return None;
            }
        }
        let connection =
            raw.get("__typename").and_then(Json::as_str).is_some_and(|t| t.ends_with("Connection"));
        if connection {
            if first.is_none() && last.is_none() {
                self.error(
                    "you must provide one of first or last".to_owned(),
                    field,
                    path,
                    json!({ "code": "BAD_REQUEST" }),
                );
                return None;
            }
            let nodes = raw["nodes"].as_array().cloned().unwrap_or_default();
            let after = self.cursor_argument(field, "after");
            let before = self.cursor_argument(field, "before");
            let start = after.map_or(0, |a| a + 1).min(nodes.len());
            let end = before.unwrap_or(nodes.len()).clamp(start, nodes.len());
            let (mut from, mut to) = (start, end);
            if let Some(n) = first {
                to = to.min(from + n as usize);
            }
            if let Some(n) = last {
                from = from.max(to.saturating_sub(n as usize));
            }
            let page: Vec<Json> = nodes[from..to].to_vec();
            let cursor =
                |i: usize| base64::engine::general_purpose::STANDARD.encode(format!("{{\"last_id\":{i}}}"));
            let edges: Vec<Json> = page
                .iter()
                .enumerate()
                .map(|(k, node)| json!({ "__typename": "Edge", "cursor": cursor(from + k), "node": node }))
                .collect();
            return Some(json!({
                "__typename": raw["__typename"],
                "nodes": page,
                "edges": edges,
                "pageInfo": {
                    "__typename": "PageInfo",
                    "hasNextPage": to < nodes.len(),
                    "hasPreviousPage": from > 0,
                    "startCursor": (from < to).then(|| cursor(from)),
                    "endCursor": (from < to).then(|| cursor(to - 1)),
                }
            }));
        }
        let Json::Array(mut items) = raw else { return Some(raw) };
        if field.name == "quantities"
            && let Some(names) = field.argument("names").map(|v| v.resolve(self.variables))
        {
            let names: Vec<&str> =
                names.as_array().map(|a| a.iter().filter_map(Json::as_str).collect()).unwrap_or_default();
            items =
                names.iter().filter_map(|name| items.iter().find(|q| q["name"] == *name).cloned()).collect();
        }
        if let Some(n) = first {
            items.truncate(n as usize);
        }
        if let Some(n) = last {
            let skip = items.len().saturating_sub(n as usize);
            items.drain(..skip);
        }
        Some(Json::Array(items))
    }

    fn cursor_argument(&self, field: &Field, name: &str) -> Option<usize> {
        let text = field.argument(name)?.resolve(self.variables);
        let decoded = base64::engine::general_purpose::STANDARD.decode(text.as_str()?).ok()?;
        let parsed: Json = serde_json::from_slice(&decoded).ok()?;
        parsed["last_id"].as_u64().map(|n| n as usize)
    }

    /// The requested cost of a selection, before it runs (see the module docs).
    pub fn requested(&self, selection: &'a [Selection]) -> u64 {
        self.fields(selection, None).iter().map(|f| self.field_cost(f)).sum()
    }

    fn field_cost(&self, field: &'a Field) -> u64 {
        if field.selection.is_empty() {
            return 0;
        }
        let size = self.int_argument(field, "first").or_else(|| self.int_argument(field, "last"));
        let Some(n) = size else { return 1 + self.requested(&field.selection) };
        let n = n.clamp(0, MAX_PAGE) as u64;
        let children = self.fields(&field.selection, None);
        let is_connection =
            children.iter().any(|c| matches!(c.name.as_str(), "nodes" | "edges" | "pageInfo"));
        if !is_connection {
            return 2 + n * (1 + self.requested(&field.selection));
        }
        let node = children
            .iter()
            .map(|c| match c.name.as_str() {
                "nodes" => 1 + self.requested(&c.selection),
                "edges" => self
                    .fields(&c.selection, None)
                    .iter()
                    .filter(|e| e.name == "node")
                    .map(|e| 1 + self.requested(&e.selection))
                    .max()
                    .unwrap_or(0),
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        2 + n * node
    }
}

/// Puts `value` under `key`, merging objects selected twice (`id` and a fragment both selecting `lineItems`).
fn merge(out: &mut Map<String, Json>, key: &str, value: Json) {
    match (out.get_mut(key), value) {
        (Some(Json::Object(existing)), Json::Object(more)) => {
            for (k, v) in more {
                merge(existing, &k, v);
            }
        }
        (Some(Json::Array(existing)), Json::Array(more)) if existing.len() == more.len() => {
            for (a, b) in existing.iter_mut().zip(more) {
                if let (Json::Object(a), Json::Object(b)) = (a, b) {
                    for (k, v) in b {
                        merge(a, &k, v);
                    }
                }
            }
        }
        (_, value) => {
            out.insert(key.to_owned(), value);
        }
    }
}

/// A value a resolver reads from a root field's arguments.
pub(crate) fn argument(field: &Field, name: &str, variables: &Map<String, Json>) -> Json {
    field.argument(name).map_or(Json::Null, |v: &Value| v.resolve(variables))
}
