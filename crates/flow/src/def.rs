//! The validated shape of a workflow: what [`crate::parse_workflow`] produces and [`crate::apply`] reads.
//!
//! Every type here can only hold valid values: durations are [`Duration`]s, jumps are [`Target`]s that name a step
//! that exists, templates compiled. Validation happens once, in `parse`, where the file and line are known; the
//! state machine trusts these types and never re-checks them.
//!
//! The types serialize, so a runtime can store the exact definition a run is pinned to next to the run.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::template::Template;
use crate::time::Duration;

/// One workflow file, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    pub name: String,
    pub zone: Zone,
    /// Bumped by the author on every change; a run stays on the version it started with.
    pub version: u32,
    /// The assessment task this workflow closes, by the starter catalogue's name (`"Retry failed charges"`), so
    /// the engine's records can be joined to the assessment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// `[settings]`: named values the workflow's author exposes for people to choose (who retries, thresholds),
    /// read in step templates as `settings.<name>`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, Value>,
    pub trigger: Trigger,
    pub cancel_on: Option<CancelOn>,
    /// In file order; a step's default `next` is the one after it.
    pub steps: Vec<Step>,
}

/// The name and version a run is pinned to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WorkflowRef {
    pub name: String,
    pub version: u32,
}

/// The assessment zone a workflow closes a gap in, so the engine's evidence lands on the right score. It is the
/// assessment's own type: the engine and the assessment must never disagree on what a zone is.
pub use seam_assess::Zone;

/// What starts a run: one event type from one source, and the key that names the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    pub event: EventType,
    /// Rendered over the trigger `event`; at most one live run exists per key, and cancel and wait-for events
    /// find their run by rendering their own key template to the same value.
    pub key: Template,
    pub if_running: IfRunning,
    /// `[[trigger.also]]`: more events that start the same workflow, each with its own key (a Stripe checkout as
    /// well as a Shopify order). The run reads which one started it as `run.trigger_event`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<AlsoTrigger>,
}

/// Another event that starts the workflow, with the key its runs get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlsoTrigger {
    pub event: EventType,
    pub key: Template,
}

impl Trigger {
    /// Every event that starts the workflow, with its key: the main one first.
    pub fn events(&self) -> impl Iterator<Item = (&EventType, &Template)> {
        std::iter::once((&self.event, &self.key)).chain(self.also.iter().map(|also| (&also.event, &also.key)))
    }
}

/// What to do when a trigger arrives for a key whose run is still live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IfRunning {
    /// Keep the live run and drop the new trigger (audited). Right for repeated failure notices.
    Ignore,
    /// Cancel the live run and start a new one from the new trigger.
    Restart,
}

/// Events that end a run whatever it is doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelOn {
    pub events: Vec<EventType>,
    /// Rendered over the incoming `event`; must equal the run's key.
    pub key: Template,
    /// A step to run after cancelling (for instance to record the outcome); `None` ends the run at once.
    pub then: Option<StepId>,
}

/// A `source:type` pair such as `stripe:invoice.paid`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EventType {
    pub source: String,
    pub name: String,
}

/// A step's id: a lowercase identifier, so `steps.<id>` works in templates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StepId(String);

/// Where a step goes next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Step(StepId),
    /// End the run successfully.
    End,
    /// End the run as failed.
    Fail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub id: StepId,
    pub action: Action,
    /// Where to go when the step succeeds; defaults to the following step, or `End` after the last.
    pub next: Target,
    /// Sets `run.outcome` when the step succeeds, such as `"recovered"`.
    pub outcome: Option<Template>,
}

/// Exactly one per step. (A handful per workflow, built once: the size difference between variants is harmless.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Call(Call),
    Wait(Wait),
    WaitFor(WaitFor),
    Condition(Condition),
    Escalate(Escalate),
    Record(Record),
    Set(Set),
}

/// Computes named values from the run's data, kept as the step's `result` (`steps.<id>.result.<name>`): a
/// playbook's way to normalise what different vendors send. A value that does not render (data missing from a
/// payload) sends the run to `on_error` with the reasons in the step's `errors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Set {
    pub values: BTreeMap<String, Arg>,
    /// `check`: what the data must satisfy, by the sentence a person reads when it does not ("every line has a
    /// SKU"); each a template over the step variables and `result` (the values just set). One that is false or
    /// does not render sends the run to `on_error` like a value that does not render.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checks: BTreeMap<String, Template>,
    pub on_error: Target,
}

/// Calls a connector action (`stripe.pay_invoice`) or the generic `http` action, with retries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub action: ActionName,
    pub with: BTreeMap<String, Arg>,
    pub retry: RetryPolicy,
}

/// `connector.action`, or `http`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionName(pub String);

impl ActionName {
    /// The connector that serves an action: the part before the first `.` (`stripe` for `stripe.pay_invoice`,
    /// `http` for `http`).
    pub fn connector_of(action: &str) -> &str {
        action.split('.').next().unwrap_or(action)
    }

    pub fn connector(&self) -> &str {
        ActionName::connector_of(&self.0)
    }
}

/// A call argument or ledger field: templates inside any nesting of tables and arrays; other scalars literal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arg {
    Template(Template),
    Literal(Value),
    Array(Vec<Arg>),
    Table(BTreeMap<String, Arg>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Total attempts, the first included. At least 1.
    pub attempts: u32,
    pub schedule: Schedule,
    /// Retryable error kinds that are retried; `None` retries every retryable error.
    pub retry_on: Option<Vec<ErrorKind>>,
    /// The call succeeded only if this is true of `result`; otherwise it counts as a retryable `unsatisfied`.
    pub until: Option<Template>,
    pub on_exhausted: Target,
    pub on_fatal: Target,
}

/// When each attempt happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub delays: Delays,
    /// Spreads each delay by up to this many percent either way, from the run's seed (never drawn here).
    pub jitter_percent: u32,
    /// Moves an attempt to the next payday when one falls within the given span after it.
    pub prefer_paydays: Option<Paydays>,
    /// Moves an attempt forward into the next business-hours window.
    pub business_hours: Option<BusinessHours>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delays {
    /// `after[n]` is the wait before attempt n+1: from entering the step for the first attempt, from the
    /// previous failure after that. The last entry repeats if `attempts` is larger.
    After(Vec<Duration>),
    /// The first attempt after `first`, then `initial`, doubling (or `factor`) up to `max`.
    Backoff { first: Duration, initial: Duration, factor: u32, max: Duration },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paydays {
    /// Days of the month; `-1` is the last day.
    pub days: Vec<i32>,
    /// How far an attempt may be pushed to reach a payday.
    pub within: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessHours {
    /// Seconds after local midnight when the window opens and closes.
    pub from: u32,
    pub to: u32,
    /// Weekdays the window is open, 0 for Monday through 6 for Sunday.
    pub days: Vec<u32>,
    /// The local time's offset from UTC, in seconds.
    pub utc_offset: i32,
    /// The offset read from the data at each attempt instead (`utc_offset = "{{ ... }}"`), such as the customer's
    /// own: it renders to `+HH:MM` / `-HH:MM`; when it cannot, `utc_offset` (UTC) is used and the audit says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset_from: Option<crate::Template>,
}

/// What went wrong with an outside call, as a connector classifies it. Retryable or fatal is decided by the
/// connector and carried next to the kind; the kind only says what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    SoftDecline,
    HardDecline,
    RateLimited,
    ServerError,
    Timeout,
    Network,
    /// The request itself was wrong (a 4xx other than 429).
    Request,
    /// The call answered but `until` was false.
    Unsatisfied,
    /// A template of the step failed to render, so the call could not be made.
    Template,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    For(Duration),
    /// Rendered to RFC 3339 text or Unix seconds.
    Until(Template),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitFor {
    pub event: EventType,
    /// Rendered over the incoming `event`; must equal the run's key.
    pub key: Template,
    /// A filter over the incoming `event` and the step variables: an event of the right type and key for which
    /// it is false does not end the wait (it is audited as ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Template>,
    /// `match`: the values of the event's `key` this run waits for, rendered over the step variables when the
    /// wait starts (a SKU, or a list of them). With it, the event is routed to every run waiting for its value
    /// instead of to the run whose key it names.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matches: Option<Template>,
    pub timeout: Duration,
    pub on_timeout: Target,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub test: Template,
    pub then: Target,
    pub otherwise: Target,
}

/// Puts an item in the inbox and waits for a human's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalate {
    pub team: String,
    pub due: Duration,
    pub title: Template,
    pub context: BTreeMap<String, Arg>,
    /// The step a `retry` decision runs once more; `None` means the step whose failure led here.
    pub retry: Option<StepId>,
    /// Where a `dismiss` decision goes; `resolve` goes to the step's `next`.
    pub on_dismiss: Target,
    /// Named decisions beyond resolve, retry and dismiss, each with its own next step and the fields a person
    /// fills in.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub choices: BTreeMap<String, Choice>,
    /// The fields a built-in decision takes (`[steps.escalate.choices.resolve] fields = { … }`): with them
    /// declared, that decision's fields are checked as a choice's are.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub built_in_fields: BTreeMap<String, BTreeMap<String, FieldSpec>>,
}

/// A named decision an escalate step offers (`ship_partial`, `cancel`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// What the person sees on the button.
    pub label: String,
    /// Where the run goes when this is chosen.
    pub next: Target,
    /// The fields the person fills in, by name; read as `steps.<id>.decision.fields.<name>`.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldSpec>,
}

/// A field a person fills in with a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSpec {
    #[serde(rename = "type")]
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    Bool,
    /// A whole number, 0 or more (an amount in minor units).
    Amount,
}

impl FieldKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Bool => "bool",
            FieldKind::Amount => "amount",
        }
    }
}

/// The decision names every escalate step offers; a choice may not take one of them.
pub const BUILT_IN_DECISIONS: [&str; 3] = ["resolve", "retry", "dismiss"];

impl Escalate {
    /// Every decision this step offers, as the inbox shows them: the three built-in ones, then the choices, each
    /// `{name, label, fields: {name: {type, required}}}`.
    pub fn offered(&self) -> Value {
        let mut offered: Vec<Value> = BUILT_IN_DECISIONS
            .iter()
            .map(|name| {
                let fields = self.built_in_fields.get(*name).cloned().unwrap_or_default();
                serde_json::json!({ "name": name, "label": name, "fields": fields })
            })
            .collect();
        for (name, choice) in &self.choices {
            offered.push(serde_json::json!({ "name": name, "label": choice.label, "fields": choice.fields }));
        }
        Value::Array(offered)
    }

    /// Whether `fields` fit the decision `name`: a choice's required fields present, every field of its type, no
    /// field it does not name. Built-in decisions take any plain fields. The error says what is wrong, by field.
    pub fn check_fields(&self, name: &str, fields: &serde_json::Map<String, Value>) -> Result<(), String> {
        let declared = match (self.choices.get(name), self.built_in_fields.get(name)) {
            (Some(choice), _) => &choice.fields,
            (None, Some(declared)) => declared,
            (None, None) if BUILT_IN_DECISIONS.contains(&name) => return Ok(()),
            (None, None) => {
                let names: Vec<&str> = BUILT_IN_DECISIONS
                    .iter()
                    .copied()
                    .chain(self.choices.keys().map(String::as_str))
                    .collect();
                return Err(format!("no decision {name:?} here; use one of {}", names.join(", ")));
            }
        };
        for (field, spec) in declared {
            if spec.required && fields.get(field).is_none_or(Value::is_null) {
                return Err(format!("fields.{field}: required for {name}"));
            }
        }
        for (field, value) in fields {
            let Some(spec) = declared.get(field) else {
                let known: Vec<&str> = declared.keys().map(String::as_str).collect();
                let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
                return Err(format!("fields.{field}: {name} takes no such field; it takes {known}"));
            };
            let fits = match spec.kind {
                FieldKind::Text => value.is_string(),
                FieldKind::Number => value.is_number(),
                FieldKind::Bool => value.is_boolean(),
                FieldKind::Amount => value.as_u64().is_some(),
            };
            if !fits && !value.is_null() {
                let expected = match spec.kind {
                    FieldKind::Amount => "a whole number, 0 or more".to_owned(),
                    other => other.as_str().to_owned(),
                };
                return Err(format!("fields.{field}: expected {expected}, got {value}"));
            }
        }
        Ok(())
    }
}

/// Appends one entry to a ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub ledger: String,
    pub fields: BTreeMap<String, Arg>,
}

/// Why a text is not a [`StepId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a step id; use lowercase letters, digits and `_`, starting with a letter, and not `end` or `fail`"
)]
pub struct BadStepId(pub String);

impl Workflow {
    pub fn reference(&self) -> WorkflowRef {
        WorkflowRef { name: self.name.clone(), version: self.version }
    }

    pub fn step(&self, id: &StepId) -> Option<&Step> {
        self.steps.iter().find(|step| &step.id == id)
    }
}

impl EventType {
    /// Parses `source:type`, such as `stripe:invoice.paid`.
    pub fn parse(text: &str) -> Option<EventType> {
        let (source, name) = text.split_once(':')?;
        let valid = |part: &str| {
            !part.is_empty()
                && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/' | ':'))
        };
        (valid(source) && valid(name) && !source.contains(':'))
            .then(|| EventType { source: source.to_owned(), name: name.to_owned() })
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.name)
    }
}

impl StepId {
    pub fn parse(text: &str) -> Result<StepId, BadStepId> {
        let mut characters = text.chars();
        let starts_well = characters.next().is_some_and(|first| first.is_ascii_lowercase());
        let rest_ok = characters.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if starts_well && rest_ok && text != "end" && text != "fail" {
            Ok(StepId(text.to_owned()))
        } else {
            Err(BadStepId(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for StepId {
    type Error = BadStepId;

    fn try_from(text: String) -> Result<StepId, BadStepId> {
        StepId::parse(&text)
    }
}

impl From<StepId> for String {
    fn from(id: StepId) -> String {
        id.0
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Step(id) => write!(f, "{id}"),
            Target::End => f.write_str("end"),
            Target::Fail => f.write_str("fail"),
        }
    }
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::SoftDecline,
        ErrorKind::HardDecline,
        ErrorKind::RateLimited,
        ErrorKind::ServerError,
        ErrorKind::Timeout,
        ErrorKind::Network,
        ErrorKind::Request,
        ErrorKind::Unsatisfied,
        ErrorKind::Template,
    ];

    /// Failures that say nothing about the request itself: it may not have arrived (timeout, network), or the
    /// other side asked to be tried again (rate limited, server error). Retrying these repeats the same request
    /// with the same idempotency key; any other failure is an answer, and the next attempt is a new request.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited | ErrorKind::ServerError | ErrorKind::Timeout | ErrorKind::Network
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::SoftDecline => "soft_decline",
            ErrorKind::HardDecline => "hard_decline",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::ServerError => "server_error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Network => "network",
            ErrorKind::Request => "request",
            ErrorKind::Unsatisfied => "unsatisfied",
            ErrorKind::Template => "template",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
