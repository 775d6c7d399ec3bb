//! The HTTP face: Stripe's `/v1` endpoints the playbooks use, and the `/_sandbox` admin endpoints.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde::Serialize;
use serde_json::{Value, json};

use crate::SandboxHandle;
use crate::state::{API_VERSION, Action, PostRequest, RenewalRequest, StripeError, parse_form};

/// Stripe's `/v1` routes and the Stripe admin routes; the caller adds the state.
pub(crate) fn routes() -> Router<SandboxHandle> {
    Router::new()
        .route("/v1/customers/{id}", get(get_customer))
        .route("/v1/invoices", get(list_invoices))
        .route("/v1/invoices/{id}", get(get_invoice))
        .route("/v1/charges/{id}", get(get_charge))
        .route("/v1/events/{id}", get(get_event))
        .route("/v1/invoices/{id}/pay", post(pay))
        .route("/v1/invoices/{id}/send", post(send))
        .route("/v1/invoices/{id}/void", post(void))
        .route("/v1/invoices/{id}/mark_uncollectible", post(mark_uncollectible))
        .route("/_sandbox/renewals", post(admin_renewals))
        .route("/_sandbox/invoices", get(admin_invoices))
        .route("/_sandbox/invoices/{id}/pay_out_of_band", post(admin_pay_out_of_band))
        .route("/_sandbox/invoices/{id}/void", post(admin_void))
        .route("/_sandbox/invoices/{id}/mark_uncollectible", post(admin_mark_uncollectible))
        .route("/_sandbox/invoices/{id}/automatic_retry", post(admin_automatic_retry))
        .route("/_sandbox/calls", get(admin_calls))
        .route("/_sandbox/events", get(admin_events))
}

/// A Stripe request id (`req_…`), random: it names one HTTP request, not anything in the world.
pub(crate) fn request_id() -> String {
    random_id("req", 14)
}

fn random_id(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(prefix.len() + 1 + len);
    out.push_str(prefix);
    out.push('_');
    let mut bits = uuid::Uuid::new_v4().as_u128();
    let mut left = 21; // 62^21 < 2^128 > 122 random bits; refill after
    for _ in 0..len {
        if left == 0 {
            bits = uuid::Uuid::new_v4().as_u128();
            left = 21;
        }
        out.push(char::from(ALPHABET[(bits % 62) as usize]));
        bits /= 62;
        left -= 1;
    }
    out
}

/// A JSON response with Stripe's headers.
fn respond(status: u16, body: &Value, request_id: &str, original_request: Option<&str>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("Stripe-Version", HeaderValue::from_static(API_VERSION));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("Request-Id", value);
    }
    if let Some(original) = original_request.and_then(|o| HeaderValue::from_str(o).ok()) {
        headers.insert("Idempotent-Replayed", HeaderValue::from_static("true"));
        headers.insert("Original-Request", original);
    }
    response
}

/// A Stripe answer: the object, or the error in Stripe's shape.
pub(crate) fn respond_stripe(result: Result<Value, StripeError>) -> Response {
    let req = request_id();
    match result {
        Ok(object) => respond(200, &object, &req, None),
        Err(e) => respond_error(&e, &req),
    }
}

fn respond_error(e: &StripeError, request_id: &str) -> Response {
    respond(e.status, &e.to_json(Some(request_id)), request_id, None)
}

fn respond_json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_value(value) {
        Ok(v) => respond(200, &v, &request_id(), None),
        Err(e) => respond_error(&StripeError::invalid(e.to_string()), &request_id()),
    }
}

/// `Authorization: Bearer KEY`, or Basic with the key as user name (what `curl -u KEY:` sends).
fn authorize(handle: &SandboxHandle, headers: &HeaderMap) -> Result<(), StripeError> {
    let Some(expected) = handle.shared.config.api_key.as_deref() else { return Ok(()) };
    let unauthorized = |message: String| StripeError::new(401, "invalid_request_error", message);
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Err(unauthorized(
            "You did not provide an API key. You need to provide your API key in the Authorization header, using \
             Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
                .to_owned(),
        ));
    };
    let given = if let Some(token) = value.strip_prefix("Bearer ") {
        token.trim().to_owned()
    } else if let Some(encoded) = value.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).unwrap_or_default();
        let text = String::from_utf8_lossy(&decoded).into_owned();
        text.split_once(':').map_or(text.clone(), |(user, _)| user.to_owned())
    } else {
        return Err(unauthorized("Invalid Authorization header: use Bearer auth.".to_owned()));
    };
    if given == expected {
        return Ok(());
    }
    let tail: String = given.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    Err(unauthorized(format!(
        "Invalid API Key provided: {}****{tail}",
        given.chars().take(8).collect::<String>()
    )))
}

pub(crate) async fn retrieve(
    handle: SandboxHandle,
    headers: HeaderMap,
    what: &str,
    id: &str,
    find: impl FnOnce(&crate::state::Sandbox) -> Option<Value>,
) -> Response {
    let req = request_id();
    if let Err(e) = authorize(&handle, &headers) {
        return respond_error(&e, &req);
    }
    match handle.shared.read(find) {
        Some(object) => respond(200, &object, &req, None),
        None => respond_error(&StripeError::missing(what, id, "id"), &req),
    }
}

async fn get_customer(
    State(h): State<SandboxHandle>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    retrieve(h, headers, "customer", &id, |s| s.customer(&id)).await
}

async fn get_invoice(State(h): State<SandboxHandle>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    retrieve(h, headers, "invoice", &id, |s| s.invoice(&id)).await
}

/// `GET /v1/invoices?limit=N`: what `seam doctor` asks to see whether a key is accepted.
async fn list_invoices(State(h): State<SandboxHandle>, headers: HeaderMap, uri: Uri) -> Response {
    let req = request_id();
    if let Err(e) = authorize(&h, &headers) {
        return respond_error(&e, &req);
    }
    let query = match parse_form(uri.query().unwrap_or_default()) {
        Ok(query) => query,
        Err(message) => return respond_error(&StripeError::invalid(message), &req),
    };
    match h.shared.read(|s| s.list_invoices(&query)) {
        Ok(list) => respond(200, &list, &req, None),
        Err(e) => respond_error(&e, &req),
    }
}

async fn get_charge(State(h): State<SandboxHandle>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    retrieve(h, headers, "charge", &id, |s| s.charge(&id)).await
}

async fn get_event(State(h): State<SandboxHandle>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    retrieve(h, headers, "event", &id, |s| s.event(&id).map(|e| e.event.clone())).await
}

/// Every `POST /v1/...`: authenticate, read the body and the `Idempotency-Key`, then let the state decide.
pub(crate) fn v1_post(
    handle: &SandboxHandle,
    headers: &HeaderMap,
    uri: &Uri,
    body: &Bytes,
    action: Action,
) -> Response {
    let req = request_id();
    if let Err(e) = authorize(handle, headers) {
        return respond_error(&e, &req);
    }
    let Ok(body) = std::str::from_utf8(body) else {
        return respond_error(&StripeError::invalid("Invalid UTF-8 in request body."), &req);
    };
    let key = match headers.get("Idempotency-Key").map(HeaderValue::to_str) {
        None => None,
        Some(Ok(key)) => Some(key.trim()),
        Some(Err(_)) => {
            return respond_error(&StripeError::invalid("Idempotency-Key must be printable ASCII."), &req);
        }
    };
    let reply = handle.shared.with_state(|s| {
        s.post(PostRequest { path: uri.path(), key, body, action, request_id: &req }, crate::now_unix())
    });
    respond(reply.status, &reply.body, &req, reply.original_request.as_deref())
}

async fn pay(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    v1_post(&h, &headers, &uri, &body, Action::Pay(id))
}

async fn send(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    v1_post(&h, &headers, &uri, &body, Action::Send(id))
}

async fn void(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    v1_post(&h, &headers, &uri, &body, Action::Void(id))
}

async fn mark_uncollectible(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    v1_post(&h, &headers, &uri, &body, Action::MarkUncollectible(id))
}

async fn admin_renewals(State(h): State<SandboxHandle>, body: Bytes) -> Response {
    let req = request_id();
    let parsed: Result<RenewalRequest, _> = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(RenewalRequest::default())
    } else {
        serde_json::from_slice(&body)
    };
    let request = match parsed {
        Ok(r) => r,
        Err(e) => return respond_error(&StripeError::invalid(format!("Invalid renewal request: {e}")), &req),
    };
    match h.create_renewals(&request) {
        Ok(invoices) => respond(200, &json!({ "object": "list", "data": invoices }), &req, None),
        Err(e) => respond_error(&e, &req),
    }
}

fn admin_result(result: Result<Value, StripeError>) -> Response {
    let req = request_id();
    match result {
        Ok(invoice) => respond(200, &invoice, &req, None),
        Err(e) => respond_error(&e, &req),
    }
}

async fn admin_pay_out_of_band(State(h): State<SandboxHandle>, Path(id): Path<String>) -> Response {
    admin_result(h.pay_out_of_band(&id))
}

async fn admin_void(State(h): State<SandboxHandle>, Path(id): Path<String>) -> Response {
    admin_result(h.void(&id))
}

async fn admin_mark_uncollectible(State(h): State<SandboxHandle>, Path(id): Path<String>) -> Response {
    admin_result(h.mark_uncollectible(&id))
}

async fn admin_automatic_retry(State(h): State<SandboxHandle>, Path(id): Path<String>) -> Response {
    admin_result(h.automatic_retry(&id))
}

async fn admin_invoices(State(h): State<SandboxHandle>) -> Response {
    respond_json(&json!({ "object": "list", "data": h.invoices() }))
}

async fn admin_calls(State(h): State<SandboxHandle>) -> Response {
    respond_json(&h.calls())
}

async fn admin_events(State(h): State<SandboxHandle>) -> Response {
    respond_json(&json!({ "object": "list", "data": h.events() }))
}

/// A path no route matches: answered in the shape of the vendor whose paths it is under (Stripe's otherwise).
pub(crate) async fn unrecognized(method: Method, uri: Uri) -> Response {
    let not_found = |body: Value| {
        let mut response = (StatusCode::NOT_FOUND, body.to_string()).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    };
    match crate::calls::vendor_of(uri.path()) {
        Some(crate::Vendor::Shopify) => return not_found(json!({ "errors": "Not Found" })),
        Some(crate::Vendor::Shipbob) => {
            return not_found(
                json!({ "type": "https://tools.ietf.org/html/rfc9110", "title": "Not Found", "status": 404 }),
            );
        }
        Some(crate::Vendor::Zendesk) => {
            return not_found(json!({ "error": "InvalidEndpoint", "description": "Not found" }));
        }
        Some(crate::Vendor::Gorgias) => {
            return not_found(json!({ "error": { "msg": "Resource not found" } }));
        }
        Some(crate::Vendor::Stripe) | None => {}
    }
    let e = StripeError::new(
        404,
        "invalid_request_error",
        format!(
            "Unrecognized request URL ({method}: {}). Please see https://stripe.com/docs or we can help at \
             https://support.stripe.com/.",
            uri.path()
        ),
    );
    respond_error(&e, &request_id())
}
