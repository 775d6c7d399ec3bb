//! Faults on demand (`POST /_sandbox/faults`): a vendor's next requests answer 429, 500, Shopify's `THROTTLED`,
//! invalid JSON, or hang past the client's timeout, before or after doing the work.
//!
//! [`Faults`] is the schedule, pure (`now_ms` is an argument). What each fault looks like on the wire is
//! [`fault_response`], in each vendor's own error shape. A fault that answers instead of the vendor never reaches
//! the world, so it changes nothing; only `timeout_after` does the work and then hangs, which is how a test proves
//! that a create retried after a timeout is not doubled.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Vendor;

/// What a faulted request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 429 with `Retry-After` (seconds) and the vendor's rate-limit body.
    RateLimited,
    /// 500 with the vendor's error body.
    ServerError,
    /// No answer until the hang is over (the client times out); the request never reaches the world.
    #[serde(alias = "timeout")]
    TimeoutBefore,
    /// The request reaches the world and changes it, then the answer is held until the hang is over.
    TimeoutAfter,
    /// Shopify only: HTTP 200 with `{"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}`.
    Throttled,
    /// HTTP 200 with a body that is not valid JSON.
    Malformed,
}

/// `POST /_sandbox/faults`: which requests fail and how. With neither `count` nor `for_secs`, one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    pub vendor: Vendor,
    pub kind: FaultKind,
    /// How many matching requests fail.
    #[serde(default)]
    pub count: Option<u32>,
    /// For how long (seconds from now) matching requests fail.
    #[serde(default)]
    pub for_secs: Option<f64>,
    /// Only requests with this method (`POST`).
    #[serde(default)]
    pub method: Option<String>,
    /// Only requests whose path contains this text (`/order`).
    #[serde(default)]
    pub path: Option<String>,
    /// `Retry-After` for `rate_limited`, in seconds (default 1).
    #[serde(default)]
    pub retry_after: Option<u32>,
    /// How long a timeout holds the request, in seconds (default: the sandbox's `fault_hang`).
    #[serde(default)]
    pub hang_secs: Option<f64>,
}

/// A fault in force, as `GET /_sandbox/faults` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveFault {
    pub request: FaultRequest,
    /// Requests it will still fail (when counted).
    pub remaining: Option<u32>,
    /// Until when it lasts, Unix milliseconds (when timed).
    pub until_ms: Option<i64>,
    /// Requests it has failed so far.
    pub applied: u32,
}

/// What the gate does to one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Applied {
    pub kind: FaultKind,
    pub retry_after: u32,
    pub hang: Option<Duration>,
}

/// The faults in force, oldest first; the first that matches a request applies.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    active: Vec<ActiveFault>,
}

impl Faults {
    pub fn add(&mut self, request: FaultRequest, now_ms: i64) -> Result<ActiveFault, String> {
        if request.kind == FaultKind::Throttled && request.vendor != Vendor::Shopify {
            return Err(format!(
                "`throttled` is Shopify's GraphQL signal; {} rate-limits with `rate_limited` (429)",
                request.vendor
            ));
        }
        if request.count == Some(0) {
            return Err("count is 0; expected at least 1".to_owned());
        }
        if let Some(secs) = request.for_secs
            && !(secs.is_finite() && secs > 0.0)
        {
            return Err(format!("for_secs is {secs}; expected a positive number of seconds"));
        }
        if let Some(secs) = request.hang_secs
            && !(secs.is_finite() && secs >= 0.0)
        {
            return Err(format!("hang_secs is {secs}; expected a number of seconds"));
        }
        let remaining = match (request.count, request.for_secs) {
            (None, None) => Some(1),
            (count, _) => count,
        };
        let until_ms = request.for_secs.map(|secs| now_ms + (secs * 1_000.0) as i64);
        let fault = ActiveFault { request, remaining, until_ms, applied: 0 };
        self.active.push(fault.clone());
        Ok(fault)
    }

    /// Clears every fault, or one vendor's.
    pub fn clear(&mut self, vendor: Option<Vendor>) -> usize {
        let before = self.active.len();
        self.active.retain(|f| vendor.is_some_and(|v| v != f.request.vendor));
        before - self.active.len()
    }

    pub fn list(&mut self, now_ms: i64) -> Vec<ActiveFault> {
        self.expire(now_ms);
        self.active.clone()
    }

    fn expire(&mut self, now_ms: i64) {
        self.active.retain(|f| f.remaining != Some(0) && f.until_ms.is_none_or(|until| now_ms < until));
    }

    /// The fault for this request, if one applies (and counts it).
    pub fn take(
        &mut self,
        vendor: Vendor,
        method: &str,
        path: &str,
        now_ms: i64,
        hang: Duration,
    ) -> Option<Applied> {
        self.expire(now_ms);
        let fault = self.active.iter_mut().find(|f| {
            f.request.vendor == vendor
                && f.request.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
                && f.request.path.as_deref().is_none_or(|p| path.contains(p))
        })?;
        if let Some(remaining) = &mut fault.remaining {
            *remaining -= 1;
        }
        fault.applied += 1;
        let request = &fault.request;
        let hang = match request.kind {
            FaultKind::TimeoutBefore | FaultKind::TimeoutAfter => {
                Some(request.hang_secs.map_or(hang, Duration::from_secs_f64))
            }
            _ => None,
        };
        Some(Applied { kind: request.kind, retry_after: request.retry_after.unwrap_or(1), hang })
    }
}

fn json_response(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The answer a faulted request gets, in the vendor's shape. `throttle_status` is Shopify's bucket, for
/// `THROTTLED`.
pub(crate) fn fault_response(vendor: Vendor, applied: Applied, throttle_status: Value) -> Response {
    let mut response = match applied.kind {
        FaultKind::RateLimited => {
            let body = match vendor {
                Vendor::Stripe => json!({ "error": {
                    "code": "rate_limit",
                    "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
                    "message": "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
                    "type": "invalid_request_error"
                }}),
                Vendor::Shopify => json!({
                    "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
                }),
                Vendor::Shipbob => json!({
                    "type": "https://tools.ietf.org/html/rfc6585#section-4",
                    "title": "Too Many Requests",
                    "status": 429,
                    "detail": format!("API rate limit exceeded. Retry after {} seconds.", applied.retry_after)
                }),
                Vendor::Zendesk => json!({
                    "error": "APIRateLimitExceeded",
                    "description": "Number of allowed API requests per minute exceeded"
                }),
                Vendor::Gorgias => json!({ "error": { "msg": "Too many requests. Please retry later." } }),
            };
            let mut response = json_response(429, &body);
            if let Ok(value) = HeaderValue::from_str(&applied.retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        FaultKind::ServerError | FaultKind::TimeoutBefore => {
            let (status, body) = match (vendor, applied.kind) {
                (_, FaultKind::TimeoutBefore) => {
                    (504, json!({ "error": "the sandbox held this request past its timeout" }))
                }
                (Vendor::Stripe, _) => (
                    500,
                    json!({ "error": {
                        "message": "An unknown error occurred. Please try again.",
                        "type": "api_error"
                    }}),
                ),
                (Vendor::Shopify, _) => (500, json!({ "errors": "Internal Server Error" })),
                (Vendor::Shipbob, _) => (
                    500,
                    json!({
                        "type": "https://tools.ietf.org/html/rfc7231#section-6.6.1",
                        "title": "Internal Server Error",
                        "status": 500
                    }),
                ),
                (Vendor::Zendesk, _) => (
                    500,
                    json!({
                        "error": "InternalError",
                        "description": "Something went wrong. Please try again."
                    }),
                ),
                (Vendor::Gorgias, _) => (500, json!({ "error": { "msg": "Internal server error" } })),
            };
            json_response(status, &body)
        }
        FaultKind::Throttled => json_response(
            200,
            &json!({
                "errors": [{
                    "message": "Throttled",
                    "extensions": { "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits" }
                }],
                "extensions": { "cost": {
                    "requestedQueryCost": null,
                    "actualQueryCost": null,
                    "throttleStatus": throttle_status
                }}
            }),
        ),
        FaultKind::Malformed => {
            let mut response =
                (StatusCode::OK, "{\"data\": {\"order\": {\"id\": \"gid://shopify/Ord").into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        FaultKind::TimeoutAfter => unreachable!("timeout_after answers with the vendor's own answer"),
    };
    response.extensions_mut().insert(applied.kind);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: FaultKind) -> FaultRequest {
        FaultRequest {
            vendor: Vendor::Shipbob,
            kind,
            count: None,
            for_secs: None,
            method: None,
            path: None,
            retry_after: None,
            hang_secs: None,
        }
    }

    #[test]
    fn counted_timed_and_filtered_faults() {
        let hang = Duration::from_secs(9);
        let mut faults = Faults::default();
        faults
            .add(
                FaultRequest {
                    count: Some(2),
                    method: Some("POST".into()),
                    ..request(FaultKind::ServerError)
                },
                0,
            )
            .unwrap();
        assert!(faults.take(Vendor::Shipbob, "GET", "/2026-07/order", 0, hang).is_none());
        assert!(faults.take(Vendor::Shopify, "POST", "/admin/api/x/graphql.json", 0, hang).is_none());
        assert_eq!(
            faults.take(Vendor::Shipbob, "POST", "/2026-07/order", 0, hang).unwrap().kind,
            FaultKind::ServerError
        );
        assert!(faults.take(Vendor::Shipbob, "POST", "/2026-07/order", 0, hang).is_some());
        assert!(faults.take(Vendor::Shipbob, "POST", "/2026-07/order", 0, hang).is_none());

        faults.add(FaultRequest { for_secs: Some(1.5), ..request(FaultKind::TimeoutAfter) }, 1_000).unwrap();
        let applied = faults.take(Vendor::Shipbob, "GET", "/x", 2_000, hang).unwrap();
        assert_eq!(applied.hang, Some(hang));
        assert!(faults.take(Vendor::Shipbob, "GET", "/x", 2_499, hang).is_some());
        assert!(faults.take(Vendor::Shipbob, "GET", "/x", 2_500, hang).is_none());

        assert!(faults.add(request(FaultKind::Throttled), 0).is_err());
        faults.add(request(FaultKind::RateLimited), 0).unwrap();
        assert_eq!(faults.clear(Some(Vendor::Zendesk)), 0);
        assert_eq!(faults.clear(None), 1);
    }

    #[test]
    fn timeout_is_timeout_before() {
        let parsed: FaultRequest =
            serde_json::from_str(r#"{"vendor": "shipbob", "kind": "timeout"}"#).unwrap();
        assert_eq!(parsed.kind, FaultKind::TimeoutBefore);
    }
}
