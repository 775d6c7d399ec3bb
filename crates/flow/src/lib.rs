//! Seam's workflow core: the workflow file format, templates, retry schedules and the run state machine.
//!
//! This crate is pure. It decides; it never does. It reads no files, opens no sockets, starts no threads, reads
//! no clock and draws no random numbers: text comes in as `&str`, time as a [`Timestamp`] argument, jitter as a
//! seed stored in the run. That is what lets every rule of the engine (a retry five days out, a cancel that races
//! a call, an event that arrives before its wait) be tested exactly and in milliseconds, and what lets the runtime
//! recover from a crash by replaying the last committed state.
//!
//! The pieces, in the order data flows through them:
//!
//! - [`parse_workflow`] turns one TOML file into a validated [`Workflow`], or into [`Diagnostic`]s that name file,
//!   line and field (`seam workflows check` prints them).
//! - [`Template`] is the one way a workflow reads data; undefined is an error.
//! - [`apply`] takes a [`RunState`], one [`Input`] and `now`, and returns the next state and the [`Effect`]s for
//!   the runtime to carry out.

mod def;
mod parse;
mod run;
mod schedule;
mod template;
mod time;

pub use def::{
    Action, ActionName, AlsoTrigger, Arg, BUILT_IN_DECISIONS, BadStepId, BusinessHours, Call, CancelOn,
    Choice, Condition, Delays, ErrorKind, Escalate, EventType, FieldKind, FieldSpec, IfRunning, Paydays,
    Record, RetryPolicy, Schedule, Set, Step, StepId, Target, Trigger, Wait, WaitFor, Workflow, WorkflowRef,
    Zone,
};
pub use parse::{Diagnostic, parse_workflow};
pub use run::{
    AttemptError, Audit, AuditKind, BadId, CallOutcome, Decision, DecisionKind, Effect, ErrorClass, Event,
    EventKey, FlowError, Input, Request, RunId, RunState, RunStatus, StepState, Timer, Transition, Waiting,
    apply, idempotency_key,
};
pub use schedule::{attempt_at, delay_before};
pub use template::{Scope, Template, TemplateError};
pub use time::{Clock, Duration, ManualClock, SystemClock, TimeError, Timestamp};
