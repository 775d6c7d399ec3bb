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
