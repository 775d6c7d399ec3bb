//! Seam's edges to outside systems. Everything here talks to (or checks bytes from) something Seam does not own:
//!
//! - [`verify`]: webhook signature verification for Stripe, Shopify, Zendesk, ShipBob (Standard Webhooks), Gorgias
//!   (a shared token) and a generic HMAC source, and the extraction of (event id, event type, payload) from a
//!   verified body. Pure: bytes and `now` in, verdict out.
//! - [`http`]: the generic `http` call action (method, URL, headers, JSON body) with a host allow-list, and the
//!   classification of HTTP failures into the engine's error classes.
//! - [`stripe`], [`shopify`], [`shipbob`], [`zendesk`], [`gorgias`]: one connector per vendor, each speaking the
//!   vendor's published API (`docs/connectors.md` is the contract), classifying every failure and keeping its
//!   credentials out of every message. The four added with issue 9 share one JSON client (`vendor`, private).
//! - [`ledger`]: ledger sinks (CSV or JSON-lines file, HTTP) that drop duplicate entries by idempotency key.

pub mod gorgias;
pub mod http;
pub mod ledger;
pub mod shipbob;
pub mod shopify;
pub mod stripe;
mod vendor;
pub mod verify;
pub mod zendesk;

use seam_flow::CallOutcome;
use serde_json::Value;

/// One connector: carries out `action` (the part after the connector's prefix, or the whole name for `http`) with
/// rendered arguments. The idempotency key must be sent to the outside system so a redone attempt takes effect
/// once. Never panics and never returns a Rust error: every failure is a classified [`CallOutcome::Err`].
#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    async fn call(&self, action: &str, args: &Value, idempotency_key: &str) -> CallOutcome;
}

/// Stock levels (one per SKU and location) summed per SKU over its locations: `{sku: {field: total}}`, so a
/// workflow can compare a line's quantity with one number. A SKU with no level is absent.
pub(crate) fn sum_by_sku(levels: &[Value], fields: &[&str]) -> Value {
    let mut totals = serde_json::Map::new();
    for level in levels {
        let Some(sku) = level.get("sku").and_then(Value::as_str) else { continue };
        let entry = totals.entry(sku.to_owned()).or_insert_with(|| {
            Value::Object(fields.iter().map(|f| ((*f).to_owned(), Value::from(0))).collect())
        });
        for field in fields {
            let add = level.get(*field).and_then(Value::as_i64).unwrap_or(0);
            if let Some(total) = entry.get_mut(*field) {
                *total = Value::from(total.as_i64().unwrap_or(0).saturating_add(add));
            }
        }
    }
    Value::Object(totals)
}
