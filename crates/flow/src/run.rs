//! The run state machine: given a run's state, one input and `now`, decide the next state and the effects.
//!
//! This is the "decide" half of a durable engine (as in restate): [`apply`] does nothing, it only says what must be
//! done. The runtime commits the new state and the effects atomically, then carries the effects out (calls,
//! timers, inbox items, ledger lines) and feeds their results back as new inputs. Because `apply` is a pure
//! function, a crash at any point is recovered by replaying the last committed state, and every rule below is
//! tested without a database, a network or a clock.
//!
//! The rules that make runs trustworthy live here and nowhere else:
//!
//! - A run waits for at most one thing at a time ([`Waiting`]) and has at most one wake-up time
//!   ([`RunState::wake_at`]); a timer, result or decision that does not match it is stale and only audited.
//! - An outside effect's idempotency key is a function of run, step and attempt only (`seam-{run}-{step}-{n}`), so
//!   re-doing an attempt after a crash reuses its key and a new attempt never does.
//! - A cancel wins over whatever the run is waiting for, and anything that arrives after it is ignored.
//! - An event a later `wait_for` will want is kept in the run when it arrives early, and matched when the wait
//!   starts.
//! - Every input produces at least one [`Effect::Audit`], so the audit log explains every transition.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::def::{
    Action, ActionName, Arg, ErrorKind, EventType, IfRunning, Step, StepId, Target, Wait, WaitFor, Workflow,
    WorkflowRef,
};
use crate::schedule;
use crate::template::{Template, TemplateError};
use crate::time::Timestamp;

/// Decides one transition of a run. See the module documentation for the rules.
///
/// Errors are reserved for inputs the runtime should never send (a state from another workflow version, a step
/// the definition does not have); anything that can happen in normal operation, including late or duplicate
/// inputs, is an `Ok` transition with an audit entry.
pub fn apply(
    def: &Workflow,
    state: &RunState,
    input: Input,
    now: Timestamp,
) -> Result<Transition, FlowError> {
    if state.workflow != def.reference() {
        return Err(FlowError::WrongWorkflow { run: state.workflow.clone(), given: def.reference() });
    }
    let mut machine = Machine { def, state: state.clone(), effects: Vec::new(), now, steps_entered: 0 };
    machine.input(input)?;
    Ok(Transition { state: machine.state, effects: machine.effects })
}

/// The state after an input, and what the runtime must now do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub state: RunState,
    pub effects: Vec<Effect>,
}

/// An event from an outside system, as the runtime stored it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The source's own event id (`evt_…`), for the audit trail.
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// The body as received; templates read it as `event` and `trigger`.
    pub payload: Value,
}

/// Everything that can happen to a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "input")]
pub enum Input {
    /// The trigger event. `earlier` holds events for the same key that the runtime received before the trigger
    /// (webhooks arrive in any order); they are processed as if they came right after it, so an early cancel
    /// still cancels.
    Start { trigger: Event, earlier: Vec<Event> },
    /// The outcome of a [`Effect::Call`].
    StepResult { step: StepId, attempt: u32, outcome: CallOutcome },
    /// The run's wake-up time arrived. `timer` is the id from [`Effect::SetTimer`].
    TimerFired { timer: u64 },
    /// An event the runtime routed to this run (by [`Workflow::listening_keys`]).
    Event(Event),
    /// A cancel from outside the workflow's own `cancel_on` (an operator, an API call).
    Cancel { reason: String },
    /// A human's answer to an escalation, with what they filled in (an empty map when nothing).
    Decision {
        escalation: String,
        decision: DecisionKind,
        by: String,
        fields: serde_json::Map<String, Value>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    Ok(Value),
    Err { class: ErrorClass, message: String },
}

/// A connector's verdict on a failed call: whether trying again could help, and what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    Retryable(ErrorKind),
    Fatal(ErrorKind),
}

/// A decision on an escalation; written as its name (`"resolve"`, `"ship_partial"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum DecisionKind {
    /// A human fixed it: the run continues with the escalate step's `next`.
    Resolve,
    /// Try the failed step once more, now: success continues as that step would, failure follows its
    /// `on_exhausted` or `on_fatal` again (usually back to the inbox).
    Retry,
    /// Give up: the run goes to the escalate step's `on_dismiss` (default: end).
    Dismiss,
    /// One of the escalate step's named `choices`: the run goes to that choice's `next`.
    Choice(String),
}

impl DecisionKind {
    pub fn name(&self) -> &str {
        match self {
            DecisionKind::Resolve => "resolve",
            DecisionKind::Retry => "retry",
            DecisionKind::Dismiss => "dismiss",
            DecisionKind::Choice(name) => name,
        }
    }
}

impl From<String> for DecisionKind {
    fn from(name: String) -> Self {
        match name.as_str() {
            "resolve" => DecisionKind::Resolve,
            "retry" => DecisionKind::Retry,
            "dismiss" => DecisionKind::Dismiss,
            _ => DecisionKind::Choice(name),
        }
    }
}

impl From<DecisionKind> for String {
    fn from(kind: DecisionKind) -> Self {
        kind.name().to_owned()
    }
}

/// What the runtime must do, in order, after committing the new state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "effect")]
pub enum Effect {
    /// Call a connector action. Report back with [`Input::StepResult`] carrying the same step and attempt.
    Call { step: StepId, attempt: u32, action: ActionName, args: Value, idempotency_key: String },
    /// The run's one wake-up time is now `at`; it replaces any earlier one. [`RunState::wake_at`] is the
    /// authoritative copy to store.
    SetTimer { timer: u64, at: Timestamp },
    /// Open an inbox item and wait for an [`Input::Decision`] naming `escalation`.
    Escalate {
        escalation: String,
        step: StepId,
        team: String,
        zone: String,
        title: String,
        due: Timestamp,
        context: Value,
        /// The decisions the step offers, as [`crate::Escalate::offered`] lists them.
        decisions: Value,
    },
    /// Append one ledger entry; `idempotency_key` lets the sink drop a duplicate after a crash.
    Record { step: StepId, ledger: String, entry: Value, idempotency_key: String },
    /// Append to the audit log.
    Audit(Audit),
    /// The run no longer waits for a decision on `escalation` (a cancel or an event moved it on): its inbox item
    /// is closed, and a decision on it is refused.
    CloseEscalation { escalation: String },
    /// The run is over.
    Complete { status: RunStatus, outcome: String },
    /// `if_running = "restart"`: this run was cancelled for a new trigger; start a new run from it.
    StartRun { trigger: Event },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    pub kind: AuditKind,
    pub step: Option<StepId>,
    pub attempt: Option<u32>,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    Started,
    /// An input that changed nothing: stale, late, duplicate or unrelated. The detail says which.
    Ignored,
    StepEntered,
    AttemptScheduled,
    AttemptStarted,
    AttemptSucceeded,
    AttemptFailed,
    Exhausted,
    Waiting,
    EventBuffered,
    EventMatched,
    TimedOut,
    Escalated,
    Overdue,
    Decided,
    Recorded,
    TemplateFailed,
    /// A `set` step could not read what the run's data should hold (a payload without line items): the data is
    /// bad, and the run goes to the step's `on_error`.
    BadData,
    Cancelled,
    Completed,
}

/// Everything the engine knows about one run. Serializable: this is what the store keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub run: RunId,
    /// The definition this run is pinned to; [`apply`] refuses any other.
    pub workflow: WorkflowRef,
    /// Chosen by the runtime at creation; the only source of jitter.
    pub jitter_seed: u64,
    pub status: RunStatus,
    pub key: Option<EventKey>,
    pub trigger: Option<Event>,
    pub started_at: Option<Timestamp>,
    /// `run.outcome` in templates: `running`, then what the last step or failure set (`recovered`, `exhausted`,
    /// `hard_decline`, `resolved`, `dismissed`, `cancelled`, …).
    pub outcome: String,
    /// Set once a cancel won; later cancels and results are ignored.
    pub cancel_reason: Option<String>,
    /// The payload of the `cancel_on` event that cancelled the run (`run.cancel_event` in templates); none for a
    /// cancel from outside (an operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_event: Option<Value>,
    pub waiting: Waiting,
    /// The one wake-up time.
    pub timer: Option<Timer>,
    pub next_timer: u64,
    pub steps: BTreeMap<StepId, StepState>,
    /// Events kept for a `wait_for` the run has not reached yet.
    pub buffered: Vec<Event>,
    /// The last call step that failed, which a `retry` decision retries by default.
    pub last_failed: Option<StepId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    NotStarted,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// The single thing a running run waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "for")]
pub enum Waiting {
    Nothing,
    /// A call step: `in_flight` once the call effect is out, else until the timer makes the attempt.
    /// `first` is this entry's first attempt number and `last` the last it may make.
    Call {
        step: StepId,
        attempt: u32,
        in_flight: bool,
        first: u32,
        last: u32,
    },
    /// A `wait` step's timer.
    Timer {
        step: StepId,
    },
    /// A `wait_for` step: a matching event, or the timer as timeout. `values` are what a `match` rendered: the
    /// event key values the run waits for (empty without `match`).
    Event {
        step: StepId,
        event: EventType,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        values: Vec<String>,
    },
    /// An escalate step: a decision on `escalation`. The timer (if any) marks it overdue.
    Decision {
        step: StepId,
        escalation: String,
        origin: Option<StepId>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub id: u64,
    pub at: Timestamp,
}

/// One step's record, readable in templates as `steps.<id>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepState {
    /// `pending`, `running`, `succeeded`, `exhausted`, `failed`, `timed_out`, `abandoned`.
    pub status: String,
    /// Times the step acted: calls made, or entries for other kinds. Numbers idempotency keys.
    pub attempts: u32,
    pub result: Option<Value>,
    pub errors: Vec<AttemptError>,
    pub decision: Option<Decision>,
    /// The last request a call step made: its idempotency key and arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// Set when the last attempt failed in a way that says nothing about the request itself (a timeout, a
    /// network error, a 5xx or 429): the next attempt repeats that request exactly, same key and same arguments,
    /// so if the first one did take effect the other side answers with it instead of doing it twice.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeat: bool,
}

/// A call step's request, kept so a transient failure can be retried as the very same request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub idempotency_key: String,
    pub args: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptError {
    pub attempt: u32,
    pub at: Timestamp,
    pub kind: ErrorKind,
    pub fatal: bool,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub decision: DecisionKind,
    pub by: String,
    pub at: Timestamp,
    /// What the person filled in with the decision (such as `recovered_minor`), read as
    /// `steps.<id>.decision.fields.<name>`.
    #[serde(default)]
    pub fields: serde_json::Map<String, Value>,
}

/// A run's id, assigned by the runtime.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(String);

/// A correlation key: the rendered trigger key, naming the one live run for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventKey(String);

/// Inputs the runtime must never send; each is a bug in the caller, not in the workflow or the data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlowError {
    #[error("run is pinned to {}@{} but was given {}@{}", run.name, run.version, given.name, given.version)]
    WrongWorkflow { run: WorkflowRef, given: WorkflowRef },
    #[error("run has not started; the first input must be Start")]
    NotStarted,
    #[error("event {got} does not trigger this workflow, which starts on {expected}")]
    NotTheTrigger { expected: String, got: String },
    #[error("the trigger event has no usable key: {0}")]
    TriggerKey(TemplateError),
    #[error("run state names step `{0}`, which the definition does not have")]
    UnknownStep(StepId),
}

/// Why a text is not an id or key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "an id or key must be non-empty, without control characters (and an id without whitespace), got {0:?}"
)]
pub struct BadId(pub String);

impl RunState {
    /// A run that exists but has not seen its trigger; the first input is [`Input::Start`].
    pub fn new(def: &Workflow, run: RunId, jitter_seed: u64) -> RunState {
        RunState {
            run,
            workflow: def.reference(),
            jitter_seed,
            status: RunStatus::NotStarted,
            key: None,
            trigger: None,
            started_at: None,
            outcome: "running".to_owned(),
            cancel_reason: None,
            cancel_event: None,
            waiting: Waiting::Nothing,
            timer: None,
            next_timer: 1,
            steps: BTreeMap::new(),
            buffered: Vec::new(),
            last_failed: None,
        }
    }

    /// When the runtime must wake this run, if ever. A run waiting for a call result or a decision past its due
    /// time has none, and that is not "stuck": the runtime or a human owes it an input.
    pub fn wake_at(&self) -> Option<Timestamp> {
        self.timer.map(|timer| timer.at)
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.status, RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled)
    }
}

impl Workflow {
    /// The key of the run this event would start, or `None` if it is not this workflow's trigger.
    pub fn trigger_key(&self, event: &Event) -> Option<Result<EventKey, TemplateError>> {
        let (_, key) = self
            .trigger
            .events()
            .find(|(trigger, _)| trigger.source == event.source && trigger.name == event.event_type)?;
        Some(key.render_key(&json!({ "event": event.payload })))
    }

    /// The run keys this event concerns through `cancel_on` or a `wait_for`, for the runtime to route it by
    /// (and to keep it for runs that do not exist yet). Keys that fail to render are skipped: the event does not
    /// concern such a run.
    pub fn listening_keys(&self, event: &Event) -> Vec<EventKey> {
        let mut keys: Vec<EventKey> = self
            .listeners()
            .filter(|(event_type, _)| {
                event_type.source == event.source && event_type.name == event.event_type
            })
            .filter_map(|(_, key)| key.render_key(&json!({ "event": event.payload })).ok())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The values this event names for `wait_for`s with `match`, with each wait's event type (`source:type`): the
    /// runtime finds the runs waiting for them by value. Keys that fail to render are skipped.
    pub fn matched_values(&self, event: &Event) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = self
            .steps
            .iter()
            .filter_map(|step| match &step.action {
                Action::WaitFor(wait_for)
                    if wait_for.matches.is_some()
                        && wait_for.event.source == event.source
                        && wait_for.event.name == event.event_type =>
                {
                    let value = wait_for.key.render_key(&json!({ "event": event.payload })).ok()?;
                    Some((wait_for.event.to_string(), value.as_str().to_owned()))
                }
                _ => None,
            })
            .collect();
        found.sort();
        found.dedup();
        found
    }

    /// Whether any `wait_for` of this workflow waits by `match`.
    pub fn waits_by_value(&self) -> bool {
        self.steps
            .iter()
            .any(|step| matches!(&step.action, Action::WaitFor(wait_for) if wait_for.matches.is_some()))
    }

    /// Whether a started run of this workflow listens for this event's type (through `cancel_on` or a
    /// `wait_for`).
    pub fn listens_for(&self, event: &Event) -> bool {
        self.listeners()
            .any(|(event_type, _)| event_type.source == event.source && event_type.name == event.event_type)
    }

    /// Every (event type, key template) pair the workflow listens to after starting.
    fn listeners(&self) -> impl Iterator<Item = (&EventType, &Template)> {
        let cancels = self
            .cancel_on
            .iter()
            .flat_map(|cancel| cancel.events.iter().map(move |event| (event, &cancel.key)));
        let waits = self.steps.iter().filter_map(|step| match &step.action {
            Action::WaitFor(wait_for) if wait_for.matches.is_none() => Some((&wait_for.event, &wait_for.key)),
            _ => None,
        });
        cancels.chain(waits)
    }
}

impl RunId {
    pub fn new(text: impl Into<String>) -> Result<RunId, BadId> {
        let text = text.into();
        if text.is_empty() || text.chars().any(char::is_whitespace) {
            return Err(BadId(text));
        }
        Ok(RunId(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl EventKey {
    pub fn new(text: impl Into<String>) -> Result<EventKey, BadId> {
        let text = text.into();
        // A key names a run and a lock in the database; control characters (NUL above all) cannot be stored.
        if text.trim().is_empty() || text.chars().any(char::is_control) {
            return Err(BadId(text));
        }
        Ok(EventKey(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The idempotency key of attempt `attempt` of `step` in `run`. The one place keys are made.
pub fn idempotency_key(run: &RunId, step: &StepId, attempt: u32) -> String {
    format!("seam-{run}-{step}-{attempt}")
}

/// How many steps one transition may pass through before the run is judged to loop. Conditions and records do
/// not wait, so a cycle of them would otherwise never return.
const MAX_STEPS_PER_TRANSITION: u32 = 100;

/// How many early events a run keeps for a `wait_for`; the oldest goes first.
const MAX_BUFFERED_EVENTS: usize = 32;

/// One transition in progress.
struct Machine<'d> {
    def: &'d Workflow,
    state: RunState,
    effects: Vec<Effect>,
    now: Timestamp,
    steps_entered: u32,
}

impl<'d> Machine<'d> {
    fn input(&mut self, input: Input) -> Result<(), FlowError> {
        if self.state.status == RunStatus::NotStarted && !matches!(input, Input::Start { .. }) {
            return Err(FlowError::NotStarted);
        }
        match input {
            Input::Start { trigger, earlier } => self.start(trigger, earlier),
            Input::StepResult { step, attempt, outcome } => self.step_result(step, attempt, outcome),
            Input::TimerFired { timer } => self.timer_fired(timer),
            Input::Event(event) => self.event(event),
            Input::Cancel { reason } => {
                self.cancel(reason, None);
                Ok(())
            }
            Input::Decision { escalation, decision, by, fields } => {
                self.decision(escalation, decision, by, fields)
            }
        }
    }

    fn start(&mut self, trigger: Event, earlier: Vec<Event>) -> Result<(), FlowError> {
        if self.state.status != RunStatus::NotStarted {
            return self.start_while_live(trigger);
        }
        let key = match self.def.trigger_key(&trigger) {
            Some(Ok(key)) => key,
            Some(Err(error)) => return Err(FlowError::TriggerKey(error)),
            None => {
                return Err(FlowError::NotTheTrigger {
                    expected: self.def.trigger.event.to_string(),
                    got: format!("{}:{}", trigger.source, trigger.event_type),
                });
            }
        };
        self.audit(
            AuditKind::Started,
            None,
            None,
            format!("{} {} for key {key}", trigger.event_type, trigger.id),
        );
        self.state.status = RunStatus::Running;
        self.state.key = Some(key);
        self.state.trigger = Some(trigger);
        self.state.started_at = Some(self.now);
        for event in earlier {
            self.event(event)?;
        }
        if self.state.cancel_reason.is_none() {
            let first = self.def.steps.first().map_or(Target::End, |step| Target::Step(step.id.clone()));
            self.go(first)?;
        }
        Ok(())
    }

    fn start_while_live(&mut self, trigger: Event) -> Result<(), FlowError> {
        let detail = format!("second trigger {} {}", trigger.event_type, trigger.id);
        if self.state.is_finished() {
            self.ignore(format!("{detail}: the run has finished; start a new run for it"));
            return Ok(());
        }
        match self.def.trigger.if_running {
            // A run that waits for (or is cancelled by) this very event type takes it as that event: a later
            // failure of the same invoice can end a wait for it.
            IfRunning::Ignore if self.def.listens_for(&trigger) => return self.event(trigger),
            IfRunning::Ignore => {
                self.ignore(format!("{detail}: a run for this key is live (if_running = ignore)"))
            }
            IfRunning::Restart => {
                self.abandon_wait();
                self.state.cancel_reason = Some(format!("restarted by {}", trigger.id));
                self.state.outcome = "restarted".to_owned();
                self.audit(
                    AuditKind::Cancelled,
                    None,
                    None,
                    format!("{detail}: restarting (if_running = restart)"),
                );
                self.complete(Target::End);
                self.effects.push(Effect::StartRun { trigger });
            }
        }
        Ok(())
    }

    fn step_result(&mut self, step_id: StepId, attempt: u32, outcome: CallOutcome) -> Result<(), FlowError> {
        let (first, last) = match &self.state.waiting {
            Waiting::Call { step, attempt: expected, in_flight: true, first, last }
                if *step == step_id && *expected == attempt =>
            {
                (*first, *last)
            }
            _ => {
                let why = self.why_not_waiting();
                self.ignore(format!("result of {step_id} attempt {attempt}: {why}"));
                return Ok(());
            }
        };
        let step = self.step(&step_id)?;
        let Action::Call(call) = &step.action else { return Err(FlowError::UnknownStep(step_id)) };
        let error = match outcome {
            CallOutcome::Ok(result) => {
                self.step_state(&step_id).result = Some(result.clone());
                match &call.retry.until {
                    None => None,
                    Some(until) => {
                        let mut context = self.context();
                        context["result"] = result;
                        match until.is_true(&context) {
                            Ok(true) => None,
                            Ok(false) => Some((
                                ErrorClass::Retryable(ErrorKind::Unsatisfied),
                                format!("`until` is false: {until}"),
                            )),
                            Err(error) => Some((ErrorClass::Fatal(ErrorKind::Template), error.to_string())),
                        }
                    }
                }
            }
            CallOutcome::Err { class, message } => Some((class, message)),
        };
        let Some((class, message)) = error else {
            self.audit(AuditKind::AttemptSucceeded, Some(&step_id), Some(attempt), String::new());
            return self.succeed(step);
        };
        self.attempt_failed(step, attempt, first, last, class, message)
    }

    fn attempt_failed(
        &mut self,
        step: &Step,
        attempt: u32,
        first: u32,
        last: u32,
        class: ErrorClass,
        message: String,
    ) -> Result<(), FlowError> {
        let Action::Call(call) = &step.action else { return Err(FlowError::UnknownStep(step.id.clone())) };
        let (kind, fatal) = match class {
            ErrorClass::Retryable(kind) => (kind, false),
            ErrorClass::Fatal(kind) => (kind, true),
        };
        let now = self.now;
        self.step_state(&step.id).errors.push(AttemptError {
            attempt,
            at: now,
            kind,
            fatal,
            message: message.clone(),
        });
        self.audit(AuditKind::AttemptFailed, Some(&step.id), Some(attempt), format!("{kind}: {message}"));
        self.state.timer = None;
        // An unmet `until` is retried whatever `retry_on` says: retrying until it holds is what `until` means.
        let listed = kind == ErrorKind::Unsatisfied
            || call.retry.retry_on.as_ref().is_none_or(|kinds| kinds.contains(&kind));
        if fatal || !listed {
            let why = if fatal { "fatal" } else { "not in retry_on" };
            self.audit(
                AuditKind::AttemptFailed,
                Some(&step.id),
                Some(attempt),
                format!("{kind} is {why}; no retry"),
            );
            self.step_state(&step.id).status = "failed".to_owned();
            self.state.outcome = kind.to_string();
            self.state.last_failed = Some(step.id.clone());
            return self.go(call.retry.on_fatal.clone());
        }
        if attempt >= last {
            let made = attempt + 1 - first;
            self.audit(AuditKind::Exhausted, Some(&step.id), Some(attempt), format!("attempts made: {made}"));
            self.step_state(&step.id).status = "exhausted".to_owned();
            self.state.outcome = "exhausted".to_owned();
            self.state.last_failed = Some(step.id.clone());
            return self.go(call.retry.on_exhausted.clone());
        }
        let next = attempt + 1;
        // Transient failures say nothing about the request; the next attempt is the same request.
        self.step_state(&step.id).repeat = kind.is_transient();
        let schedule = self.local_schedule(&call.retry.schedule, &step.id);
        let at = schedule::attempt_at(&schedule, &step.id, next + 1 - first, now, self.state.jitter_seed);
        self.schedule_attempt(step, next, first, last, at)
    }

    fn timer_fired(&mut self, timer: u64) -> Result<(), FlowError> {
        let due = match self.state.timer {
            Some(current) if current.id == timer && current.at <= self.now => current,
            Some(current) if current.id == timer => {
                self.ignore(format!("timer {timer} fired early; it is due at {}", current.at));
                return Ok(());
            }
            _ => {
                self.ignore(format!("timer {timer} is not the run's current timer"));
                return Ok(());
            }
        };
        self.state.timer = None;
        match self.state.waiting.clone() {
            Waiting::Call { step, attempt, in_flight: false, first, last } => {
                let step = self.step(&step)?;
                self.make_attempt(step, attempt, first, last)
            }
            Waiting::Timer { step } => {
                let step = self.step(&step)?;
                self.audit(AuditKind::Waiting, Some(&step.id), None, format!("wait over at {}", due.at));
                self.succeed(step)
            }
            Waiting::Event { step, event, .. } => {
                let step = self.step(&step)?;
                let Action::WaitFor(wait_for) = &step.action else {
                    return Err(FlowError::UnknownStep(step.id.clone()));
                };
                self.audit(AuditKind::TimedOut, Some(&step.id), None, format!("no {event} by {}", due.at));
                self.step_state(&step.id).status = "timed_out".to_owned();
                self.state.outcome = "timed_out".to_owned();
                self.go(wait_for.on_timeout.clone())
            }
            Waiting::Decision { step, escalation, .. } => {
                self.audit(
                    AuditKind::Overdue,
                    Some(&step),
                    None,
                    format!("escalation {escalation} is past due"),
                );
                Ok(())
            }
            Waiting::Call { .. } | Waiting::Nothing => {
                self.ignore(format!("timer {timer} fired with nothing to wake"));
                Ok(())
            }
        }
    }

    fn event(&mut self, event: Event) -> Result<(), FlowError> {
        let Some(run_key) = self.state.key.clone() else { return Err(FlowError::NotStarted) };
        let context = json!({ "event": event.payload });
        let is_type =
            |event_type: &EventType| event_type.source == event.source && event_type.name == event.event_type;
        let concerns_run = |key: &Template| key.render_key(&context).is_ok_and(|key| key == run_key);
        let label = format!("{}:{} {}", event.source, event.event_type, event.id);

        if self.state.is_finished() {
            self.ignore(format!("{label}: the run has finished"));
            return Ok(());
        }
        if let Some(cancel) = &self.def.cancel_on
            && cancel.events.iter().any(is_type)
            && concerns_run(&cancel.key)
        {
            self.cancel(format!("event {label}"), Some(event.payload.clone()));
            return Ok(());
        }
        if let Waiting::Event { step, values, .. } = self.state.waiting.clone() {
            let step = self.step(&step)?;
            let named = |key: &Template| match key.render_key(&context) {
                Ok(value) => values.iter().any(|wanted| wanted == value.as_str()),
                Err(_) => false,
            };
            if let Action::WaitFor(wait_for) = &step.action
                && is_type(&wait_for.event)
                && (if wait_for.matches.is_some() {
                    named(&wait_for.key)
                } else {
                    concerns_run(&wait_for.key)
                })
            {
                if !self.wanted(wait_for, &event, Some(&step.id), &label) {
                    return Ok(());
                }
                self.state.timer = None;
                return self.event_matched(step, event);
            }
        }
        let candidates: Vec<&WaitFor> = self
            .def
            .steps
            .iter()
            .filter_map(|step| match &step.action {
                Action::WaitFor(wait_for)
                    if wait_for.matches.is_none()
                        && is_type(&wait_for.event)
                        && concerns_run(&wait_for.key) =>
                {
                    Some(wait_for)
                }
                _ => None,
            })
            .collect();
        let wanted_later = candidates.iter().any(|wait_for| wait_for.when.is_none())
            || candidates.iter().any(|wait_for| self.when_holds(wait_for, &event) == Some(true));
        if !wanted_later {
            self.ignore(format!("{label}: nothing in this run listens for it"));
            return Ok(());
        }
        if self.state.buffered.iter().any(|kept| kept.id == event.id && kept.source == event.source) {
            self.ignore(format!("{label}: already kept"));
            return Ok(());
        }
        if self.state.buffered.len() >= MAX_BUFFERED_EVENTS {
            let dropped = self.state.buffered.remove(0);
            self.ignore(format!(
                "{} {}: dropped, the run keeps {MAX_BUFFERED_EVENTS} early events",
                dropped.event_type, dropped.id
            ));
        }
        self.audit(AuditKind::EventBuffered, None, None, format!("{label}: kept for a later wait_for"));
        self.state.buffered.push(event);
        Ok(())
    }

    /// Whether a `wait_for`'s `when` holds for this event (`None` when it does not render).
    fn when_holds(&self, wait_for: &WaitFor, event: &Event) -> Option<bool> {
        let when = wait_for.when.as_ref()?;
        let mut context = self.context();
        context["event"] = event.payload.clone();
        when.is_true(&context).ok()
    }

    /// Whether a waiting step takes this event: true without a `when`; otherwise the filter decides, and an event
    /// it turns away (or that it cannot judge) is audited and leaves the wait as it was.
    fn wanted(&mut self, wait_for: &WaitFor, event: &Event, step: Option<&StepId>, label: &str) -> bool {
        let Some(when) = &wait_for.when else { return true };
        let mut context = self.context();
        context["event"] = event.payload.clone();
        match when.is_true(&context) {
            Ok(true) => true,
            Ok(false) => {
                self.ignore(format!("{label}: `when` is false ({when}); still waiting"));
                false
            }
            Err(error) => {
                self.audit(
                    AuditKind::TemplateFailed,
                    step,
                    None,
                    format!("{label}: when: {error}; still waiting"),
                );
                false
            }
        }
    }

    fn event_matched(&mut self, step: &Step, event: Event) -> Result<(), FlowError> {
        self.audit(
            AuditKind::EventMatched,
            Some(&step.id),
            None,
            format!("{}:{} {}", event.source, event.event_type, event.id),
        );
        self.step_state(&step.id).result = Some(event.payload);
        self.succeed(step)
    }

    /// A cancel wins over whatever the run waits for. With `cancel_on.then`, that step runs next (to record the
    /// outcome); nothing else of the run does.
    fn cancel(&mut self, reason: String, event: Option<Value>) {
        if self.state.is_finished() || self.state.cancel_reason.is_some() {
            self.ignore(format!("cancel ({reason}): the run is already finished or cancelled"));
            return;
        }
        self.abandon_wait();
        self.audit(AuditKind::Cancelled, None, None, reason.clone());
        self.state.cancel_reason = Some(reason);
        self.state.cancel_event = event;
        self.state.outcome = "cancelled".to_owned();
        let then = self.def.cancel_on.as_ref().and_then(|cancel| cancel.then.clone());
        let target = then.map_or(Target::End, Target::Step);
        if let Err(error) = self.go(target) {
            // The cleanup step is validated to exist, so this is unreachable with a parsed definition; the run
            // still ends rather than staying live.
            self.audit(AuditKind::Ignored, None, None, error.to_string());
            self.complete(Target::Fail);
        }
    }

    fn decision(
        &mut self,
        escalation: String,
        decision: DecisionKind,
        by: String,
        fields: serde_json::Map<String, Value>,
    ) -> Result<(), FlowError> {
        let (step_id, origin) = match &self.state.waiting {
            Waiting::Decision { step, escalation: open, origin } if *open == escalation => {
                (step.clone(), origin.clone())
            }
            _ => {
                let why = self.why_not_waiting();
                self.ignore(format!("decision {} on {escalation} by {by}: {why}", decision.name()));
                return Ok(());
            }
        };
        let step = self.step(&step_id)?;
        let Action::Escalate(escalate) = &step.action else { return Err(FlowError::UnknownStep(step_id)) };
        if let Err(why) = escalate.check_fields(decision.name(), &fields) {
            self.ignore(format!("decision {} on {escalation} by {by}: {why}", decision.name()));
            return Ok(());
        }
        if decision == DecisionKind::Retry && origin.is_none() {
            self.ignore(format!(
                "retry on {escalation} by {by}: no failed step to retry; resolve or dismiss it"
            ));
            return Ok(());
        }
        let now = self.now;
        let name = decision.name().to_owned();
        self.step_state(&step_id).decision =
            Some(Decision { decision: decision.clone(), by: by.clone(), at: now, fields });
        self.audit(AuditKind::Decided, Some(&step_id), None, format!("{name} by {by} on {escalation}"));
        self.state.timer = None;
        self.state.waiting = Waiting::Nothing;
        match decision {
            DecisionKind::Resolve => {
                self.step_state(&step_id).status = "succeeded".to_owned();
                self.state.outcome = "resolved".to_owned();
                self.go(step.next.clone())
            }
            DecisionKind::Dismiss => {
                self.step_state(&step_id).status = "succeeded".to_owned();
                self.state.outcome = "dismissed".to_owned();
                self.go(escalate.on_dismiss.clone())
            }
            DecisionKind::Choice(name) => {
                self.step_state(&step_id).status = "succeeded".to_owned();
                self.state.outcome = name.clone();
                let Some(choice) = escalate.choices.get(&name) else { return Ok(()) };
                self.go(choice.next.clone())
            }
            DecisionKind::Retry => {
                self.step_state(&step_id).status = "succeeded".to_owned();
                let Some(origin) = origin else { return Ok(()) };
                let target = self.step(&origin)?;
                match &target.action {
                    Action::Call(_) => {
                        // One more attempt, now, outside the schedule: a human asked for it.
                        let attempt = self.state.steps.get(&origin).map_or(0, |step| step.attempts) + 1;
                        self.step_state(&origin).status = "running".to_owned();
                        self.make_attempt(target, attempt, attempt, attempt)
                    }
                    _ => self.go(Target::Step(origin)),
                }
            }
        }
    }

    /// Moves the run to `target` and runs steps until one waits or the run ends. Whatever the run waited for is
    /// over: the caller has already recorded how it ended.
    fn go(&mut self, mut target: Target) -> Result<(), FlowError> {
        self.state.waiting = Waiting::Nothing;
        self.state.timer = None;
        loop {
            let id = match target {
                Target::Step(id) => id,
                Target::End | Target::Fail => {
                    self.complete(target);
                    return Ok(());
                }
            };
            self.steps_entered += 1;
            if self.steps_entered > MAX_STEPS_PER_TRANSITION {
                self.audit(
                    AuditKind::Completed,
                    Some(&id),
                    None,
                    format!("passed {MAX_STEPS_PER_TRANSITION} steps without waiting; the workflow loops"),
                );
                self.state.outcome = "loop".to_owned();
                self.complete(Target::Fail);
                return Ok(());
            }
            let step = self.step(&id)?;
            match self.enter(step)? {
                Some(next) => target = next,
                None => return Ok(()),
            }
        }
    }

    /// Starts a step. Returns where to go at once, or `None` when the step now waits.
    fn enter(&mut self, step: &Step) -> Result<Option<Target>, FlowError> {
        let now = self.now;
        let entry = self.step_state(&step.id);
        entry.status = "running".to_owned();
        let attempts_before = entry.attempts;
        self.audit(AuditKind::StepEntered, Some(&step.id), None, String::new());
        match &step.action {
            Action::Call(call) => {
                let first = attempts_before + 1;
                let last = attempts_before + call.retry.attempts;
                let schedule = self.local_schedule(&call.retry.schedule, &step.id);
                let at = schedule::attempt_at(&schedule, &step.id, 1, now, self.state.jitter_seed);
                self.schedule_attempt(step, first, first, last, at)?;
                Ok(None)
            }
            Action::Wait(wait) => {
                self.step_state(&step.id).attempts += 1;
                let at = match wait {
                    Wait::For(duration) => now.plus(*duration),
                    Wait::Until(template) => match self.render_time(template) {
                        Ok(at) => at,
                        Err(error) => return Ok(Some(self.template_failed(step, &error))),
                    },
                };
                if at <= now {
                    self.audit(
                        AuditKind::Waiting,
                        Some(&step.id),
                        None,
                        format!("{at} has passed; not waiting"),
                    );
                    return Ok(Some(self.finish_step(step)));
                }
                self.audit(AuditKind::Waiting, Some(&step.id), None, format!("until {at}"));
                self.state.waiting = Waiting::Timer { step: step.id.clone() };
                self.set_timer(at);
                Ok(None)
            }
            Action::WaitFor(wait_for) => {
                self.step_state(&step.id).attempts += 1;
                let run_key = self.state.key.clone();
                // A kept event must still pass the wait's `when` now that the wait starts.
                let position = self.state.buffered.iter().position(|event| {
                    wait_for.matches.is_none()
                        && event.source == wait_for.event.source
                        && event.event_type == wait_for.event.name
                        && wait_for.key.render_key(&json!({ "event": event.payload })).ok() == run_key
                        && (wait_for.when.is_none() || self.when_holds(wait_for, event) == Some(true))
                });
                if let Some(position) = position {
                    let event = self.state.buffered.remove(position);
                    self.audit(
                        AuditKind::EventMatched,
                        Some(&step.id),
                        None,
                        format!("{} {} arrived early and was kept", event.event_type, event.id),
                    );
                    self.step_state(&step.id).result = Some(event.payload);
                    return Ok(Some(self.finish_step(step)));
                }
                let at = now.plus(wait_for.timeout);
                let values = match &wait_for.matches {
                    None => Vec::new(),
                    Some(template) => match template.render(&self.context()) {
                        Ok(value) => match_values(&value),
                        Err(error) => {
                            self.audit(
                                AuditKind::TemplateFailed,
                                Some(&step.id),
                                None,
                                format!("match: {error}"),
                            );
                            Vec::new()
                        }
                    },
                };
                let naming = if wait_for.matches.is_some() {
                    format!(" naming {}", values.join(", "))
                } else {
                    String::new()
                };
                self.audit(
                    AuditKind::Waiting,
                    Some(&step.id),
                    None,
                    format!("for {}{naming} until {at}", wait_for.event),
                );
                self.state.waiting =
                    Waiting::Event { step: step.id.clone(), event: wait_for.event.clone(), values };
                self.set_timer(at);
                Ok(None)
            }
            Action::Condition(condition) => {
                self.step_state(&step.id).attempts += 1;
                match condition.test.is_true(&self.context()) {
                    Ok(flag) => {
                        let target = if flag { &condition.then } else { &condition.otherwise };
                        self.audit(
                            AuditKind::StepEntered,
                            Some(&step.id),
                            None,
                            format!("{flag}: go to {target}"),
                        );
                        self.step_state(&step.id).status = "succeeded".to_owned();
                        self.step_state(&step.id).result = Some(Value::Bool(flag));
                        self.set_outcome(step);
                        Ok(Some(target.clone()))
                    }
                    Err(error) => Ok(Some(self.template_failed(step, &error))),
                }
            }
            Action::Escalate(escalate) => {
                let attempt = {
                    let entry = self.step_state(&step.id);
                    entry.attempts += 1;
                    entry.decision = None;
                    entry.attempts
                };
                let escalation = idempotency_key(&self.state.run, &step.id, attempt);
                let context = self.context();
                // The inbox is the path of last resort, so a template mistake must not stop the item from opening:
                // the failure is shown in its place.
                let title = match escalate.title.render(&context) {
                    Ok(Value::String(text)) => text,
                    Ok(other) => other.to_string(),
                    Err(error) => format!("{} ({error})", escalate.title),
                };
                let (fields, _errors) = render_args(&escalate.context, &context);
                let due = now.plus(escalate.due);
                let origin = escalate.retry.clone().or_else(|| self.state.last_failed.clone());
                self.audit(
                    AuditKind::Escalated,
                    Some(&step.id),
                    None,
                    format!("{escalation} to {}: {title}", escalate.team),
                );
                self.effects.push(Effect::Escalate {
                    escalation: escalation.clone(),
                    step: step.id.clone(),
                    team: escalate.team.clone(),
                    zone: self.def.zone.key().to_owned(),
                    title,
                    due,
                    context: fields,
                    decisions: escalate.offered(),
                });
                self.state.waiting = Waiting::Decision { step: step.id.clone(), escalation, origin };
                self.set_timer(due);
                Ok(None)
            }
            Action::Set(set) => {
                self.step_state(&step.id).attempts += 1;
                let (values, mut errors) = render_args(&set.values, &self.context());
                if errors.is_empty() {
                    let mut context = self.context();
                    context["result"] = values.clone();
                    for (name, check) in &set.checks {
                        match check.is_true(&context) {
                            Ok(true) => {}
                            Ok(false) => errors.push(format!("not so: {name}")),
                            Err(error) => errors.push(format!("{name}: {error}")),
                        }
                    }
                }
                if errors.is_empty() {
                    self.step_state(&step.id).result = Some(values);
                    return Ok(Some(self.finish_step(step)));
                }
                // The data the playbook needs is not there: say exactly what, and go where the playbook handles it.
                let now = self.now;
                let message = errors.join("; ");
                self.audit(AuditKind::BadData, Some(&step.id), None, message.clone());
                let entry = self.step_state(&step.id);
                entry.result = Some(values);
                entry.status = "failed".to_owned();
                entry.errors.push(AttemptError {
                    attempt: entry.attempts,
                    at: now,
                    kind: ErrorKind::Template,
                    fatal: true,
                    message,
                });
                self.state.outcome = "bad_data".to_owned();
                Ok(Some(set.on_error.clone()))
            }
            Action::Record(record) => {
                let attempt = {
                    let entry = self.step_state(&step.id);
                    entry.attempts += 1;
                    entry.attempts
                };
                let (mut entry, errors) = render_args(&record.fields, &self.context());
                // A ledger line is never lost to a template mistake: the failing field is null and the reason is
                // kept beside it for finance to see.
                if !errors.is_empty()
                    && let Value::Object(fields) = &mut entry
                {
                    fields.insert("template_errors".to_owned(), json!(errors));
                    self.audit(AuditKind::TemplateFailed, Some(&step.id), None, errors.join("; "));
                }
                let idempotency_key = idempotency_key(&self.state.run, &step.id, attempt);
                self.audit(AuditKind::Recorded, Some(&step.id), None, format!("to {}", record.ledger));
                self.effects.push(Effect::Record {
                    step: step.id.clone(),
                    ledger: record.ledger.clone(),
                    entry,
                    idempotency_key,
                });
                Ok(Some(self.finish_step(step)))
            }
        }
    }

    /// Waits for attempt `attempt` at `at`, or makes it now if `at` has come.
    fn schedule_attempt(
        &mut self,
        step: &Step,
        attempt: u32,
        first: u32,
        last: u32,
        at: Timestamp,
    ) -> Result<(), FlowError> {
        if at <= self.now {
            return self.make_attempt(step, attempt, first, last);
        }
        self.audit(AuditKind::AttemptScheduled, Some(&step.id), Some(attempt), format!("at {at}"));
        self.state.waiting = Waiting::Call { step: step.id.clone(), attempt, in_flight: false, first, last };
        self.set_timer(at);
        Ok(())
    }

    fn make_attempt(&mut self, step: &Step, attempt: u32, first: u32, last: u32) -> Result<(), FlowError> {
        let Action::Call(call) = &step.action else { return Err(FlowError::UnknownStep(step.id.clone())) };
        self.step_state(&step.id).attempts = attempt;
        self.state.timer = None;
        self.state.waiting = Waiting::Call { step: step.id.clone(), attempt, in_flight: true, first, last };
        let entry = self.step_state(&step.id);
        let repeat = std::mem::take(&mut entry.repeat);
        if let Some(request) = entry.request.clone().filter(|_| repeat) {
            self.audit(
                AuditKind::AttemptStarted,
                Some(&step.id),
                Some(attempt),
                format!("{} key {} (the same request again)", call.action.0, request.idempotency_key),
            );
            self.effects.push(Effect::Call {
                step: step.id.clone(),
                attempt,
                action: call.action.clone(),
                args: request.args,
                idempotency_key: request.idempotency_key,
            });
            return Ok(());
        }
        let (args, errors) = render_args(&call.with, &self.context());
        if !errors.is_empty() {
            // Without its arguments the call cannot be made, and rendering again will not help.
            let message = errors.join("; ");
            self.audit(AuditKind::TemplateFailed, Some(&step.id), Some(attempt), message.clone());
            return self.attempt_failed(
                step,
                attempt,
                first,
                last,
                ErrorClass::Fatal(ErrorKind::Template),
                message,
            );
        }
        let idempotency_key = idempotency_key(&self.state.run, &step.id, attempt);
        self.step_state(&step.id).request =
            Some(Request { idempotency_key: idempotency_key.clone(), args: args.clone() });
        self.audit(
            AuditKind::AttemptStarted,
            Some(&step.id),
            Some(attempt),
            format!("{} key {idempotency_key}", call.action.0),
        );
        self.effects.push(Effect::Call {
            step: step.id.clone(),
            attempt,
            action: call.action.clone(),
            args,
            idempotency_key,
        });
        Ok(())
    }

    /// The step finished well: set its outcome and follow `next`.
    fn succeed(&mut self, step: &Step) -> Result<(), FlowError> {
        self.state.waiting = Waiting::Nothing;
        let next = self.finish_step(step);
        self.go(next)
    }

    fn finish_step(&mut self, step: &Step) -> Target {
        self.step_state(&step.id).status = "succeeded".to_owned();
        self.set_outcome(step);
        step.next.clone()
    }

    /// A step that succeeded sets `run.outcome` to its `outcome`, if it has one.
    fn set_outcome(&mut self, step: &Step) {
        if let Some(outcome) = &step.outcome {
            match outcome.render(&self.context()) {
                Ok(Value::String(text)) => self.state.outcome = text,
                Ok(other) => self.state.outcome = other.to_string(),
                Err(error) => {
                    self.audit(AuditKind::TemplateFailed, Some(&step.id), None, format!("outcome: {error}"));
                }
            }
        }
    }

    /// A step that cannot proceed because a template failed ends the run as failed, audited.
    fn template_failed(&mut self, step: &Step, error: &TemplateError) -> Target {
        self.audit(AuditKind::TemplateFailed, Some(&step.id), None, error.to_string());
        self.step_state(&step.id).status = "failed".to_owned();
        self.state.outcome = "template_error".to_owned();
        Target::Fail
    }

    fn complete(&mut self, target: Target) {
        self.abandon_wait();
        let status = match (&target, &self.state.cancel_reason) {
            (Target::Fail, _) => RunStatus::Failed,
            (_, Some(_)) => RunStatus::Cancelled,
            _ => RunStatus::Succeeded,
        };
        if status == RunStatus::Succeeded && self.state.outcome == "running" {
            self.state.outcome = "completed".to_owned();
        }
        self.state.status = status;
        let outcome = self.state.outcome.clone();
        self.audit(AuditKind::Completed, None, None, format!("{status:?}: {outcome}"));
        self.effects.push(Effect::Complete { status, outcome });
    }

    /// Drops whatever the run waited for; its step is marked abandoned.
    fn abandon_wait(&mut self) {
        if let Waiting::Decision { escalation, .. } = &self.state.waiting {
            self.effects.push(Effect::CloseEscalation { escalation: escalation.clone() });
        }
        let step = match &self.state.waiting {
            Waiting::Nothing => None,
            Waiting::Call { step, .. }
            | Waiting::Timer { step }
            | Waiting::Event { step, .. }
            | Waiting::Decision { step, .. } => Some(step.clone()),
        };
        if let Some(step) = step {
            self.step_state(&step).status = "abandoned".to_owned();
        }
        self.state.waiting = Waiting::Nothing;
        self.state.timer = None;
    }

    /// The schedule with its business hours in the offset the data gives (`utc_offset = "{{ ... }}"`), or UTC
    /// (audited) when the template does not give one.
    fn local_schedule(&mut self, schedule: &crate::def::Schedule, step: &StepId) -> crate::def::Schedule {
        let mut local = schedule.clone();
        let Some(hours) = local.business_hours.as_mut() else { return local };
        let Some(template) = hours.utc_offset_from.take() else { return local };
        let rendered = template.render(&self.context());
        match rendered.as_ref().ok().and_then(Value::as_str).and_then(crate::parse::parse_utc_offset) {
            Some(offset) => hours.utc_offset = offset,
            None => {
                let why = match rendered {
                    Ok(value) => format!("{value} is not an offset such as \"-05:00\""),
                    Err(error) => error.to_string(),
                };
                self.audit(
                    AuditKind::TemplateFailed,
                    Some(step),
                    None,
                    format!("business hours in UTC: utc_offset {template}: {why}"),
                );
            }
        }
        local
    }

    fn set_timer(&mut self, at: Timestamp) {
        let id = self.state.next_timer;
        self.state.next_timer += 1;
        self.state.timer = Some(Timer { id, at });
        self.effects.push(Effect::SetTimer { timer: id, at });
    }

    fn render_time(&self, template: &Template) -> Result<Timestamp, TemplateError> {
        match template.render(&self.context())? {
            Value::Number(number) => number
                .as_i64()
                .map(Timestamp::from_unix_seconds)
                .ok_or_else(|| TemplateError::Render(format!("{number} is not a time in Unix seconds"))),
            Value::String(text) => match text.parse::<i64>() {
                Ok(seconds) => Ok(Timestamp::from_unix_seconds(seconds)),
                Err(_) => {
                    Timestamp::parse_rfc3339(&text).map_err(|error| TemplateError::Render(error.to_string()))
                }
            },
            other => Err(TemplateError::Render(format!("{other} is not a time"))),
        }
    }

    /// The variables templates see: `trigger`, `steps`, `run`.
    fn context(&self) -> Value {
        let steps: serde_json::Map<String, Value> = self
            .def
            .steps
            .iter()
            .map(|step| {
                let view = match self.state.steps.get(&step.id) {
                    Some(state) => {
                        let mut view = serde_json::to_value(state).unwrap_or(Value::Null);
                        if let Some(view) = view.as_object_mut() {
                            view.remove("request");
                            view.remove("repeat");
                        }
                        view
                    }
                    None => json!({ "status": "pending", "attempts": 0, "result": null, "errors": [], "decision": null }),
                };
                (step.id.to_string(), view)
            })
            .collect();
        json!({
            "trigger": self.state.trigger.as_ref().map_or(Value::Null, |trigger| trigger.payload.clone()),
            "steps": steps,
            "run": {
                "id": self.state.run.as_str(),
                "key": self.state.key.as_ref().map(EventKey::as_str),
                "workflow": self.def.name,
                "version": self.def.version,
                "outcome": self.state.outcome,
                "started_at": self.state.started_at.map(|at| at.to_string()),
                "now": self.now.to_string(),
                "cancel_reason": self.state.cancel_reason,
                "cancel_event": self.state.cancel_event,
                "trigger_event": self.state.trigger.as_ref().map(|t| format!("{}:{}", t.source, t.event_type)),
            },
            "settings": self.def.settings,
        })
    }

    fn why_not_waiting(&self) -> String {
        if self.state.cancel_reason.is_some() {
            return "the run was cancelled".to_owned();
        }
        if self.state.is_finished() {
            return "the run has finished".to_owned();
        }
        match &self.state.waiting {
            Waiting::Call { step, attempt, in_flight: true, .. } => {
                format!("stale; the run waits for {step} attempt {attempt}")
            }
            Waiting::Call { step, attempt, .. } => format!("stale; {step} attempt {attempt} is not made yet"),
            Waiting::Timer { step } => format!("stale; the run waits in {step}"),
            Waiting::Event { step, event, .. } => format!("stale; the run waits in {step} for {event}"),
            Waiting::Decision { escalation, .. } => {
                format!("stale; the run waits for a decision on {escalation}")
            }
            Waiting::Nothing => "the run waits for nothing".to_owned(),
        }
    }

    /// A step of the definition. It borrows the definition, not the machine, so it can be held while the state
    /// changes.
    fn step(&self, id: &StepId) -> Result<&'d Step, FlowError> {
        self.def.step(id).ok_or_else(|| FlowError::UnknownStep(id.clone()))
    }

    fn step_state(&mut self, id: &StepId) -> &mut StepState {
        self.state.steps.entry(id.clone()).or_default()
    }

    fn ignore(&mut self, detail: String) {
        self.audit(AuditKind::Ignored, None, None, detail);
    }

    fn audit(&mut self, kind: AuditKind, step: Option<&StepId>, attempt: Option<u32>, detail: String) {
        self.effects.push(Effect::Audit(Audit { kind, step: step.cloned(), attempt, detail }));
    }
}

/// Renders a table of arguments to a JSON object. Every failing template is reported (by its field path) and
/// left as null, so the caller decides whether a partial result is usable.
fn render_args(args: &BTreeMap<String, Arg>, context: &Value) -> (Value, Vec<String>) {
    let mut errors = Vec::new();
    let value = render_table(args, context, "", &mut errors);
    (value, errors)
}

fn render_table(
    args: &BTreeMap<String, Arg>,
    context: &Value,
    path: &str,
    errors: &mut Vec<String>,
) -> Value {
    let fields = args
        .iter()
        .map(|(key, arg)| {
            let path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            (key.clone(), render_arg(arg, context, &path, errors))
        })
        .collect();
    Value::Object(fields)
}

fn render_arg(arg: &Arg, context: &Value, path: &str, errors: &mut Vec<String>) -> Value {
    match arg {
        Arg::Literal(value) => value.clone(),
        Arg::Template(template) => template.render(context).unwrap_or_else(|error| {
            errors.push(format!("{path}: {error}"));
            Value::Null
        }),
        Arg::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| render_arg(item, context, &format!("{path}[{index}]"), errors))
                .collect(),
        ),
        Arg::Table(table) => render_table(table, context, path, errors),
    }
}

/// What a `match` rendered, as the values to wait for: a text, a number, or a list of them (others are dropped).
fn match_values(value: &Value) -> Vec<String> {
    let one = |value: &Value| match value {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}
