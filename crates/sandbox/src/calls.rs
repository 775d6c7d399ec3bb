//! The gate every vendor request passes: it names the vendor from the path, applies a fault when one is due,
//! and logs the call once (`GET /_sandbox/calls` → `log`), with the idempotency key or `reference_id` it
//! carried, so a test can prove nothing was done twice.
//!
//! The gate reads the body to find the key (Stripe's `Idempotency-Key` header, Shopify's `@idempotent(key:)`,
//! ShipBob's `reference_id`, a helpdesk note's `[seam:<key>]` marker) before the handler runs, so a request a
//! fault answered is logged with its key too.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::SandboxHandle;
use crate::config::Vendor;
use crate::faults::{FaultKind, fault_response};

/// The most a request body may hold.
const MAX_BODY: usize = 2 * 1024 * 1024;

/// One request to a vendor face, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    /// 1-based, in arrival order of answers.
    pub n: u64,
    /// When the answer was given (or the hang began), Unix milliseconds.
    pub at_ms: i64,
    pub vendor: Vendor,
    pub method: String,
    pub path: String,
    /// The query string, when there was one.
    pub query: Option<String>,
    /// Shopify: the GraphQL root fields, comma-separated (`orders`, `orderCancel`).
    pub operation: Option<String>,
    /// Stripe's `Idempotency-Key` header, Shopify's `@idempotent(key:)`, or a helpdesk note's `[seam:<key>]`.
    pub idempotency_key: Option<String>,
    /// ShipBob order creates: the body's `reference_id`.
    pub reference_id: Option<String>,
    /// The status sent; none when the request was held past the client's timeout.
    pub status: Option<u16>,
    pub fault: Option<FaultKind>,
    /// Answered from an idempotency record (Stripe's `Idempotent-Replayed`, Shopify's `@idempotent`).
    pub replayed: bool,
}

/// Put in a response's extensions by a handler that replayed a saved answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Replayed;

/// The vendor a path belongs to; none for `/_sandbox` and unknown paths (those are not logged).
pub(crate) fn vendor_of(path: &str) -> Option<Vendor> {
    if path.starts_with("/_sandbox") {
        return None;
    }
    if path.starts_with("/v1/") {
        return Some(Vendor::Stripe);
    }
    if path.starts_with("/admin/api/") {
        return Some(Vendor::Shopify);
    }
    if path.starts_with("/api/v2/") {
        return Some(Vendor::Zendesk);
    }
    if path.starts_with("/api/") {
        return Some(Vendor::Gorgias);
    }
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    is_shipbob_version(first).then_some(Vendor::Shipbob)
}

/// ShipBob's versions: `1.0`, `2.0`, `2025-07`, `2026-01`, `experimental`.
pub(crate) fn is_shipbob_version(segment: &str) -> bool {
    let dated = segment.len() == 7
        && segment.bytes().enumerate().all(|(i, b)| if i == 4 { b == b'-' } else { b.is_ascii_digit() });
    let numbered = segment.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && (a.to_owned() + b).bytes().all(|c| c.is_ascii_digit())
    });
    dated || numbered || segment == "experimental"
}

#[derive(Debug, Default)]
struct Notes {
    operation: Option<String>,
    idempotency_key: Option<String>,
    reference_id: Option<String>,
}

/// The `[seam:<key>]` marker a note carries.
fn marker(text: &str) -> Option<String> {
    let start = text.find("[seam:")? + "[seam:".len();
    let end = text[start..].find(']')? + start;
    Some(text[start..end].to_owned())
}

fn notes(vendor: Vendor, method: &str, path: &str, headers: &HeaderMap, body: &Bytes) -> Notes {
    let json = || serde_json::from_slice::<Value>(body).ok();
    match vendor {
        Vendor::Stripe => Notes {
            idempotency_key: headers
                .get("Idempotency-Key")
                .and_then(|v| v.to_str().ok())
                .map(|k| k.trim().to_owned()),
            ..Notes::default()
        },
        Vendor::Shopify => {
            let (operation, idempotency_key) = crate::shopify::request_notes(body);
            Notes { operation, idempotency_key, ..Notes::default() }
        }
        Vendor::Shipbob if method == "POST" && path.ends_with("/order") => Notes {
            reference_id: json()
                .and_then(|b| b.get("reference_id").and_then(Value::as_str).map(str::to_owned)),
            ..Notes::default()
        },
        Vendor::Zendesk if method == "PUT" => Notes {
            idempotency_key: json()
                .and_then(|b| b.pointer("/ticket/comment/body").and_then(Value::as_str).and_then(marker)),
            ..Notes::default()
        },
        Vendor::Gorgias if method == "POST" && path.ends_with("/messages") => Notes {
            idempotency_key: json().and_then(|b| {
                ["body_text", "body_html"]
                    .iter()
                    .find_map(|f| b.get(*f).and_then(Value::as_str).and_then(marker))
            }),
            ..Notes::default()
        },
        _ => Notes::default(),
    }
}

/// The middleware: fault, answer, log.
pub(crate) async fn gate(State(handle): State<SandboxHandle>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let Some(vendor) = vendor_of(&path) else { return next.run(request).await };
    let method = request.method().as_str().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let notes = notes(vendor, &method, &path, &parts.headers, &bytes);
    let now_ms = crate::now_millis();
    let shared = &handle.shared;
    let applied = shared.take_fault(vendor, &method, &path, now_ms);
    let request = Request::from_parts(parts, Body::from(bytes));
    let log = |status: Option<u16>, fault: Option<FaultKind>, replayed: bool| {
        shared.with_world(|w| {
            let n = w.log.len() as u64 + 1;
            w.log.push(CallRecord {
                n,
                at_ms: crate::now_millis(),
                vendor,
                method: method.clone(),
                path: path.clone(),
                query: query.clone(),
                operation: notes.operation.clone(),
                idempotency_key: notes.idempotency_key.clone(),
                reference_id: notes.reference_id.clone(),
                status,
                fault,
                replayed,
            });
        });
    };
    let replayed = |response: &Response| {
        response.extensions().get::<Replayed>().is_some()
            || response.headers().contains_key("Idempotent-Replayed")
    };
    let Some(applied) = applied else {
        let response = next.run(request).await;
        log(Some(response.status().as_u16()), None, replayed(&response));
        return response;
    };
    let hang = applied.hang.unwrap_or(Duration::ZERO);
    match applied.kind {
        FaultKind::TimeoutAfter => {
            let response = next.run(request).await;
            log(None, Some(applied.kind), replayed(&response));
            tokio::time::sleep(hang).await;
            response
        }
        FaultKind::TimeoutBefore => {
            log(None, Some(applied.kind), false);
            tokio::time::sleep(hang).await;
            fault_response(vendor, applied, Value::Null)
        }
        _ => {
            let throttle = shared.with_world(|w| w.throttle_status(now_ms));
            let response = fault_response(vendor, applied, throttle);
            log(Some(response.status().as_u16()), Some(applied.kind), false);
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendors_by_path() {
        assert_eq!(vendor_of("/v1/invoices/in_1"), Some(Vendor::Stripe));
        assert_eq!(vendor_of("/admin/api/2026-10/graphql.json"), Some(Vendor::Shopify));
        assert_eq!(vendor_of("/2026-07/order"), Some(Vendor::Shipbob));
        assert_eq!(vendor_of("/1.0/order"), Some(Vendor::Shipbob));
        assert_eq!(vendor_of("/api/v2/users/1.json"), Some(Vendor::Zendesk));
        assert_eq!(vendor_of("/api/tickets/1/messages"), Some(Vendor::Gorgias));
        assert_eq!(vendor_of("/_sandbox/calls"), None);
        assert_eq!(vendor_of("/nope/order"), None);
        assert_eq!(marker("hello\n\n[seam:run-1:step:1]"), Some("run-1:step:1".to_owned()));
    }
}
