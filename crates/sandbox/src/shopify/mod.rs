//! Shopify's face: the GraphQL Admin API at `POST /admin/api/{version}/graphql.json` (any dated version, or
//! `unstable`), with `X-Shopify-Access-Token` when one is configured.
//!
//! The HTTP layer only checks the token and hands the body to [`World::graphql`] (`execute.rs`), which parses
//! the document (`graphql.rs`), prices it and takes the cost from the world's bucket, runs the query root
//! (`resolve.rs`) or the mutations (`mutations.rs`) against the world's objects (`nodes.rs`), and cuts the
//! answer down to the selection (`select.rs`). Webhook bodies are REST-shaped (`rest.rs`).

mod execute;
mod graphql;
mod lexer;
mod mutations;
mod nodes;
mod resolve;
mod rest;
mod search;
mod select;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value as Json, json};

use crate::SandboxHandle;
use crate::calls::Replayed;

pub(crate) fn routes() -> Router<SandboxHandle> {
    Router::new().route("/admin/api/{version}/graphql.json", post(endpoint))
}

fn json_response(status: u16, body: &Json) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
}

/// `2026-10`, `2024-01`, `unstable`.
fn known_version(version: &str) -> bool {
    version == "unstable"
        || (version.len() == 7
            && version.bytes().enumerate().all(|(i, b)| if i == 4 { b == b'-' } else { b.is_ascii_digit() }))
}

async fn endpoint(
    State(h): State<SandboxHandle>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !known_version(&version) {
        return json_response(404, &json!({ "errors": "Not Found" }));
    }
    if let Some(expected) = h.shared.config.shopify_access_token.as_deref() {
        let given = headers.get("X-Shopify-Access-Token").and_then(|v| v.to_str().ok());
        if given != Some(expected) {
            return json_response(
                401,
                &json!({ "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)" }),
            );
        }
    }
    let now_ms = crate::now_millis();
    let answer = h.shared.with_world(|w| w.graphql(&body, now_ms.div_euclid(1_000), now_ms));
    let mut response = json_response(answer.status, &answer.body);
    if answer.replayed {
        response.extensions_mut().insert(Replayed);
    }
    response
}

/// For the call log: the root fields a request names (`orders`, `orderCancel`) and its `@idempotent` key.
pub(crate) fn request_notes(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(request) = serde_json::from_slice::<Json>(body) else { return (None, None) };
    let Some(doc) = request.get("query").and_then(Json::as_str).and_then(|q| graphql::parse(q).ok()) else {
        return (None, None);
    };
    let Ok(op) = execute::pick_operation(&doc, request.get("operationName").and_then(Json::as_str)) else {
        return (None, None);
    };
    let variables = request.get("variables").and_then(Json::as_object).cloned().unwrap_or_default();
    let selector = select::Selector::new(&doc, &variables);
    let fields = selector.fields(&op.selection, None);
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    let key = fields.iter().find_map(|f| execute::idempotency_key(op, f, &variables));
    ((!names.is_empty()).then(|| names.join(",")), key)
}
