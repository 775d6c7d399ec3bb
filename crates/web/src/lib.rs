//! Seam's HTTP face, and the assembly of a running server.
//!
//! - [`server::start`] builds everything a `seam serve` process runs (store, workflows, connectors, ledger sink,
//!   engine loops, intake writer) and serves [`api::router`] on a listener until told to stop.
//! - [`api`] holds the handlers: `POST /webhooks/{source}` (verify, then store, then answer), the inbox and runs
//!   JSON API, `/healthz` and `/metrics`.
//!
//! Handlers never decide what a run does; they verify, store and hand over to the engine.

pub mod api;
pub mod server;
mod widget;

pub use server::{RunningServer, ServerOptions, start};
