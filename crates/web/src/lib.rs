//! Seam's HTTP face, and the assembly of a running server.
//!
//! - [`server::start`] builds everything a `seam serve` process runs (store, workflows, connectors, ledger sink,
//!   engine loops, intake writer) and serves [`api::router`] on a listener until told to stop.
//! - [`api`] holds the handlers: `POST /webhooks/{source}` (verify, then store, then answer), the inbox and runs
//!   JSON API, `/healthz` and `/metrics`.
//! - [`auth`]: users, API tokens and roles; the one layer every `/api/` route sits behind.
//! - [`session`]: browser sessions, their cookie, CSRF tokens and the sign-in rate limit (`/login`, `/logout`).
//! - [`client`]: the client's address and scheme, believing `X-Forwarded-*` only from trusted proxies.
//!
//! Handlers never decide what a run does; they verify, store and hand over to the engine.

pub mod api;
pub mod auth;
pub mod client;
pub mod server;
pub mod session;
mod widget;

pub use auth::{create_token, create_user};
pub use server::{RunningServer, ServerOptions, start};
