//! The `/_sandbox` endpoints that make things happen in the world (JSON, no authentication), each also a method
//! on [`crate::SandboxHandle`]:
//!
//! | endpoint | body | does | emits |
//! |---|---|---|---|
//! | `POST /_sandbox/shopify/orders` | [`OrderRequest`] | places an order in Shopify (or, `via: "stripe_checkout"`, pays through Stripe Checkout) | `orders/create`, `inventory_levels/update` per SKU (or `checkout.session.completed`) |
//! | `POST /_sandbox/stripe/checkout_sessions` | [`CheckoutRequest`] | a buyer completes Stripe Checkout | `checkout.session.completed` |
//! | `POST /_sandbox/restock` | [`RestockRequest`] | more stock in Shopify and/or at a center | `inventory_levels/update` (Shopify only) |
//! | `POST /_sandbox/shipbob/orders/{id}/ship` | | the warehouse ships (Shopify gets the tracking) | `order.shipped` |
//! | `POST /_sandbox/shipbob/orders/{id}/deliver` | | the carrier delivers | `order.shipment.delivered` |
//! | `POST /_sandbox/shipbob/returns` | [`ReturnRequest`] | the customer sends it back (refunded in Shopify by default) | `return.created` |
//! | `POST /_sandbox/shipbob/returns/{id}/complete` | | the return is restocked | `return.completed` |
//! | `POST /_sandbox/tickets` | [`TicketRequest`] | a customer writes in | `zen:event-type:ticket.created` or `ticket-created` |
//! | `POST`/`GET`/`DELETE /_sandbox/faults` | [`crate::FaultRequest`] | faults on demand | |
//! | `POST /_sandbox/webhooks/{id}/redeliver` | `{"times": N}` | the same webhook again, N times | the webhook |
//! | `GET /_sandbox/world`, `GET /_sandbox/webhooks` | | the world at a glance; every webhook | |
//!
//! Errors are `{"error": {"message": ...}}` with 400 (bad input), 404 (no such thing) or 409 (not now).

mod actions;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::SandboxHandle;
use crate::config::Vendor;
use crate::faults::FaultRequest;
use crate::world::Helpdesk;

/// Why an admin action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct WorldError {
    pub status: u16,
    pub message: String,
}

impl WorldError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        WorldError { status: 400, message: message.into() }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        WorldError { status: 404, message: message.into() }
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        WorldError { status: 409, message: message.into() }
    }
}

/// One line of an order or checkout: a catalogue `sku`, or a custom line with `title` and `price` (minor
/// units), with or without a `sku` of its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LineRequest {
    pub sku: Option<String>,
    /// Default 1.
    pub quantity: Option<i64>,
    pub title: Option<String>,
    pub price: Option<i64>,
}

/// `POST /_sandbox/shopify/orders`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrderRequest {
    /// The buyer: a known customer's e-mail, or a new one's. Default: the first seeded customer.
    pub email: Option<String>,
    /// A new customer's name.
    pub name: Option<String>,
    pub lines: Vec<LineRequest>,
    pub tags: Vec<String>,
    pub note: Option<String>,
    /// `paid` (default) or `pending`.
    pub financial_status: Option<String>,
    /// `shopify` (default), or `stripe_checkout`: the buyer pays through Stripe Checkout instead, which emits
    /// `checkout.session.completed` and answers the session (as `POST /_sandbox/stripe/checkout_sessions`).
    pub via: Option<String>,
}

/// `POST /_sandbox/stripe/checkout_sessions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckoutRequest {
    /// Default: the first seeded customer.
    pub email: Option<String>,
    pub name: Option<String>,
    pub lines: Vec<LineRequest>,
}

/// `POST /_sandbox/restock`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestockRequest {
    pub sku: String,
    /// Units added (negative removes).
    pub quantity: i64,
    /// Change Shopify's count (default true).
    pub shopify: Option<bool>,
    /// Change the 3PL's on-hand count (default true).
    pub shipbob: Option<bool>,
    /// Which center (default the first).
    pub fulfillment_center_id: Option<u64>,
}

/// `POST /_sandbox/shipbob/returns`: by ShipBob order id or by its `reference_id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReturnRequest {
    pub order_id: Option<u64>,
    pub reference_id: Option<String>,
    /// Refund the Shopify order (default true).
    pub refund: Option<bool>,
}

/// `POST /_sandbox/tickets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    pub vendor: Helpdesk,
    /// The requester's e-mail.
    #[serde(alias = "requester_email")]
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    pub subject: String,
    pub body: String,
}

pub(crate) fn routes() -> Router<SandboxHandle> {
    Router::new()
        .route("/_sandbox/shopify/orders", post(place_order))
        .route("/_sandbox/stripe/checkout_sessions", post(checkout))
        .route("/_sandbox/restock", post(restock))
        .route("/_sandbox/shipbob/orders/{id}/ship", post(ship))
        .route("/_sandbox/shipbob/orders/{id}/deliver", post(deliver))
        .route("/_sandbox/shipbob/returns", post(create_return))
        .route("/_sandbox/shipbob/returns/{id}/complete", post(complete_return))
        .route("/_sandbox/tickets", post(ticket))
        .route("/_sandbox/faults", post(add_fault).get(list_faults).delete(clear_faults))
        .route("/_sandbox/world", axum::routing::get(world))
        .route("/_sandbox/webhooks", axum::routing::get(webhooks))
        .route("/_sandbox/webhooks/{id}/redeliver", post(redeliver))
}

fn respond(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn answer(result: Result<Value, WorldError>) -> Response {
    match result {
        Ok(value) => respond(200, &value),
        Err(e) => respond(e.status, &json!({ "error": { "message": e.message } })),
    }
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, WorldError> {
    serde_json::from_slice(body).map_err(|e| WorldError::invalid(format!("invalid request body: {e}")))
}

fn id(text: &str) -> Result<u64, WorldError> {
    text.parse().map_err(|_| WorldError::not_found(format!("no such id `{text}`")))
}

async fn place_order(State(h): State<SandboxHandle>, body: Bytes) -> Response {
    answer(parse(&body).and_then(|r| h.place_order(&r)))
}

async fn checkout(State(h): State<SandboxHandle>, body: Bytes) -> Response {
    answer(parse(&body).and_then(|r| h.create_checkout(&r)))
}

async fn restock(State(h): State<SandboxHandle>, body: Bytes) -> Response {
    answer(parse(&body).and_then(|r| h.restock(&r)))
}

async fn ship(State(h): State<SandboxHandle>, Path(order): Path<String>) -> Response {
    answer(id(&order).and_then(|id| h.ship(id)))
}

async fn deliver(State(h): State<SandboxHandle>, Path(order): Path<String>) -> Response {
    answer(id(&order).and_then(|id| h.deliver(id)))
}

async fn create_return(State(h): State<SandboxHandle>, body: Bytes) -> Response {
    answer(parse(&body).and_then(|r| h.create_return(&r)))
}

async fn complete_return(State(h): State<SandboxHandle>, Path(r): Path<String>) -> Response {
    answer(id(&r).and_then(|id| h.complete_return(id)))
}

async fn ticket(State(h): State<SandboxHandle>, body: Bytes) -> Response {
    answer(parse(&body).and_then(|r| h.open_ticket(&r)))
}

async fn add_fault(State(h): State<SandboxHandle>, body: Bytes) -> Response {
    answer(parse::<FaultRequest>(&body).and_then(|r| h.add_fault(r)).map(|f| json!(f)))
}

async fn list_faults(State(h): State<SandboxHandle>) -> Response {
    respond(200, &json!({ "faults": h.faults() }))
}

async fn clear_faults(State(h): State<SandboxHandle>, RawQuery(query): RawQuery) -> Response {
    let vendor = crate::state::parse_form(query.as_deref().unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "vendor")
        .map(|(_, v)| v.parse::<Vendor>());
    match vendor.transpose() {
        Ok(vendor) => respond(200, &json!({ "cleared": h.clear_faults(vendor) })),
        Err(message) => answer(Err(WorldError::invalid(message))),
    }
}

async fn world(State(h): State<SandboxHandle>) -> Response {
    respond(200, &json!(h.world()))
}

/// `{"times": N}` (default 1).
async fn redeliver(State(h): State<SandboxHandle>, Path(id): Path<String>, body: Bytes) -> Response {
    let times = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(1)
    } else {
        parse::<Value>(&body).map(|b| b.get("times").and_then(Value::as_u64).unwrap_or(1).min(100) as u32)
    };
    answer(times.and_then(|times| h.redeliver(&id, times)).map(|()| json!({ "redelivered": id })))
}

async fn webhooks(State(h): State<SandboxHandle>) -> Response {
    respond(200, &json!({ "data": h.webhooks() }))
}
