//! Seam's durable runtime: the "do" half of the engine. `seam-flow` decides what a run does next; this crate
//! stores events, feeds them to runs, commits each transition atomically with its effects and its one wake-up
//! time, carries out calls under a lease, fires timers, opens inbox items, ships ledger entries, and repairs runs.
//!
//! The guarantees and how they are kept:
//!
//! - **An acknowledged event is never lost.** [`Intake`] answers only after the event's transaction committed
//!   (many events share one commit under load: group commit).
//! - **A step's outside effect takes effect once.** A `Call` effect becomes a row in `calls` in the same
//!   transaction as the state that expects its result. A worker claims it with a lease and a fencing token, makes
//!   the request with the attempt's idempotency key, and records the outcome only if its claim is still the
//!   latest. A crash anywhere means the call is claimed again and re-sent with the same key.
//! - **No run is stuck.** Every waiting run has its wake-up time in `runs.wake_at`, written with the state; the
//!   timer loop fires due runs; the [`Engine::reconcile`] pass looks at every live run without a wake-up and
//!   checks that something (a pending call, an open inbox item) owes it an input, and repairs what it can.

mod clock;
mod config;
mod engine;
mod intake;
mod ledgers;
mod metrics;
mod workflows;

pub use clock::ReplayClock;
pub use config::{
    Cidr, Config, ConfigError, InboxRoute, LedgerConfig, Role, RoleScope, RoleScopeConfig, RolesConfig,
    SourceConfig, StripeConfig, WebConfig, default_scope,
};
pub use engine::{CancelError, DecideError, Engine, EngineError, Reconciled, Settings};
pub use intake::{Intake, IntakeOutcome};
pub use ledgers::{Ledgers, default_file_for};
pub use metrics::{KnownLabels, Metrics, label};
pub use workflows::{WorkflowFile, Workflows, WorkflowsError, load_workflow_files};
