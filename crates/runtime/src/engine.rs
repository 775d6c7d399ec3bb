//! The engine: routes stored events to runs, commits every transition with its effects in one transaction, fires
//! timers, carries out calls under a lease, takes human decisions, ships ledger entries and reconciles.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use seam_connectors::Connector;
use seam_connectors::ledger::LedgerEntry;
use seam_flow::{
    CallOutcome, Clock, DecisionKind, Effect, ErrorClass, ErrorKind, Event, EventKey, FlowError, Input,
    RunId, RunState, RunStatus, StepId, SystemClock, Timestamp, Transition, Waiting, Workflow, apply,
};
use seam_store::{InboxItem, NewAudit, NewCall, RunRow, RunUpdate, Store, StoreError, StoredEvent, Tx};
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

use crate::config::{InboxRoute, route_escalation};
use crate::metrics::{Metrics, label};
use crate::workflows::Workflows;

/// Events routed per transaction: one commit (one fsync) for many events when they queue up.
const ROUTE_BATCH: i64 = 256;

/// How the engine's loops behave.
#[derive(Debug, Clone)]
pub struct Settings {
    /// This process's name in call leases.
    pub node: String,
    pub lease_secs: i64,
    pub poll: Duration,
    pub reconcile_every: Duration,
    pub call_concurrency: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            node: format!("seam-{}", std::process::id()),
            lease_secs: 30,
            poll: Duration::from_millis(200),
            reconcile_every: Duration::from_secs(30),
            call_concurrency: 16,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("run {run}: {error}")]
    Flow { run: String, error: FlowError },
    #[error("run {run} is pinned to {workflow}@{version}, which is not loaded")]
    MissingWorkflow { run: String, workflow: String, version: i64 },
    #[error("run {run}: stored state is unreadable: {error}")]
    BadState { run: String, error: String },
}

impl EngineError {
    /// A database problem that may go away (retry later), as opposed to a run or event that can never be handled.
    pub fn is_transient(&self) -> bool {
        matches!(self, EngineError::Store(_))
    }
}

/// Why a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("no inbox item {0}")]
    NotFound(String),
    #[error("inbox item {id} is already {status}{}", by.as_deref().map(|by| format!(" (by {by})")).unwrap_or_default())]
    AlreadyDecided { id: String, status: String, by: Option<String> },
    #[error("inbox item {id} cannot be {decision}: {why}")]
    NotApplicable { id: String, decision: String, why: String },
    #[error("inbox item {id} offers no decision {name:?}; it offers {offered}")]
    NoSuchDecision { id: String, name: String, offered: String },
    /// The decision's fields do not fit what the item offers.
    #[error("inbox item {id}: {why}")]
    Refused { id: String, why: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<StoreError> for DecideError {
    fn from(error: StoreError) -> Self {
        DecideError::Engine(EngineError::Store(error))
    }
}

/// Why a cancel was refused.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("no run {0}")]
    NotFound(String),
    #[error("run {id} is already {status}; there is nothing to cancel")]
    AlreadyFinished { id: String, status: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<StoreError> for CancelError {
    fn from(error: StoreError) -> Self {
        CancelError::Engine(EngineError::Store(error))
    }
}

/// What one reconciler pass found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reconciled {
    pub repaired: Vec<String>,
    /// Live runs nothing will ever move: no wake-up, no pending call, no open inbox item.
    pub stuck: Vec<String>,
}

pub struct Engine {
    store: Arc<dyn Store>,
    workflows: Arc<Workflows>,
    clock: Arc<dyn Clock>,
    connectors: BTreeMap<String, Arc<dyn Connector>>,
    routes: Vec<InboxRoute>,
    ledgers: crate::Ledgers,
    settings: Settings,
    pub metrics: Arc<Metrics>,
    /// Intake notifies this after storing new events.
    pub events_stored: Arc<Notify>,
    /// Woken when a transition created calls.
    calls_queued: Notify,
    /// Workflow versions read from the database after start (stored by another node).
    later_versions: std::sync::RwLock<std::collections::HashMap<(String, u32), Arc<Workflow>>>,
}

/// The audit detail and id of what a transition concerns.
#[derive(Debug, Clone, Copy, Default)]
struct Concerning<'a> {
    event_id: Option<&'a str>,
    actor: Option<&'a str>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store.backend())
            .field("workflows", &self.workflows.names())
            .field("connectors", &self.connectors.keys().collect::<Vec<_>>())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        workflows: Arc<Workflows>,
        clock: Arc<dyn Clock>,
        connectors: BTreeMap<String, Arc<dyn Connector>>,
        routes: Vec<InboxRoute>,
        ledgers: crate::Ledgers,
        settings: Settings,
        metrics: Arc<Metrics>,
    ) -> Engine {
        Engine {
            store,
            workflows,
            clock,
            connectors,
            routes,
            ledgers,
            settings,
            metrics,
            events_stored: Arc::new(Notify::new()),
            calls_queued: Notify::new(),
            later_versions: Default::default(),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn workflows(&self) -> &Arc<Workflows> {
        &self.workflows
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Leases are about processes, not workflow time: they use the real clock even when workflows run on a
    /// manual or accelerated one.
    fn wall_now(&self) -> i64 {
        SystemClock.now().unix_seconds()
    }

    // ----- routing -------------------------------------------------------------------------------------------

    /// Routes pending events to runs until none is left. Returns how many were routed.
    pub async fn route_pending(&self) -> Result<usize, EngineError> {
        let mut routed = 0;
        let mut one_at_a_time: usize = 0;
        loop {
            let mut tx = self.store.begin().await?;
            let limit = if one_at_a_time > 0 { 1 } else { ROUTE_BATCH };
            let events = tx.pending_events(limit).await?;
            if events.is_empty() {
                return Ok(routed);
            }
            match self.route_batch(tx.as_mut(), &events).await {
                Ok(()) => {
                    tx.commit().await?;
                    routed += events.len();
                    one_at_a_time = one_at_a_time.saturating_sub(1);
                    self.calls_queued.notify_one();
                }
                // A database problem: roll back and let the loop try again later.
                Err(error) if error.is_transient() => return Err(error),
                // An event whose routing can never succeed (a run whose stored state or definition cannot be
                // read). Find it by routing the batch one event at a time, and set it aside so it cannot block
                // every event behind it.
                Err(error) => {
                    drop(tx);
                    if events.len() > 1 {
                        one_at_a_time = events.len();
                        continue;
                    }
                    let event = &events[0];
                    let mut tx = self.store.begin().await?;
                    // Only if it is still pending: another router may have set it aside meanwhile.
                    if tx.set_event_status(event.seq, "failed", self.now().unix_seconds()).await? {
                        self.audit_event(tx.as_mut(), event, "routing_failed", error.to_string()).await?;
                        tx.commit().await?;
                        self.metrics
                            .inc("seam_engine_errors_total", "loop=\"router\",kind=\"event_set_aside\"");
                        tracing::error!(%error, event = %event.event_id, "an event could not be routed and was set aside");
                    }
                    one_at_a_time = one_at_a_time.saturating_sub(1);
                }
            }
        }
    }

    async fn route_batch(&self, tx: &mut dyn Tx, events: &[StoredEvent]) -> Result<(), EngineError> {
        // Take every (workflow, key) lock the batch needs up front, in one sorted order, so two nodes routing
        // overlapping batches queue behind each other instead of deadlocking.
        let mut keys: BTreeSet<(String, String)> = BTreeSet::new();
        for stored in events {
            if let Ok(event) = event_of(stored) {
                keys.extend(self.routing(&event).work.into_keys());
            }
        }
        for (workflow, key) in &keys {
            tx.lock_key(workflow, key).await?;
        }
        // Runs woken by value (not by key) are locked up front too, in run id order, so two nodes routing events
        // for the same SKUs in another order queue instead of deadlocking.
        let mut by_value: BTreeSet<String> = BTreeSet::new();
        for stored in events {
            if let Ok(event) = event_of(stored) {
                by_value.extend(self.value_waiters(tx, &event).await?.into_iter().map(|(_, run)| run));
            }
        }
        for run in &by_value {
            tx.lock_run(run).await?;
        }
        let (mut routed, mut unmatched) = (Vec::new(), Vec::new());
        for event in events {
            if self.route_event(tx, event).await? {
                routed.push(event.seq)
            } else {
                unmatched.push(event.seq)
            }
        }
        // The batch's events are locked by this transaction (SKIP LOCKED on PostgreSQL, one writer on SQLite).
        let now = self.now().unix_seconds();
        tx.set_events_status(&routed, "routed", now).await?;
        tx.set_events_status(&unmatched, "unmatched", now).await?;
        Ok(())
    }

    /// Feeds one event to every run it concerns: starting a run (trigger), or cancelling or waking one (by key).
    /// An event for a run that does not exist yet is kept for it. Returns whether any workflow wanted it.
    async fn route_event(&self, tx: &mut dyn Tx, stored: &StoredEvent) -> Result<bool, EngineError> {
        let now = self.now();
        let event = match event_of(stored) {
            Ok(event) => event,
            Err(error) => {
                self.audit_event(tx, stored, "ignored", format!("stored payload is not JSON: {error}"))
                    .await?;
                return Ok(false);
            }
        };
        let Routing { work, bad_keys } = self.routing(&event);
        let mut matched = !bad_keys.is_empty();
        for detail in bad_keys {
            self.audit_event(tx, stored, "ignored", detail).await?;
        }
        for ((name, key), is_trigger) in work {
            matched = true;
            tx.lock_key(&name, &key).await?;
            let live = tx.live_run(&name, &key).await?;
            let concerning = Concerning { event_id: Some(&event.id), actor: None };
            match (live, is_trigger) {
                (Some(row), is_trigger) => {
                    let (def, state) = self.load_in(tx, &row).await?;
                    let input = if is_trigger {
                        Input::Start { trigger: event.clone(), earlier: Vec::new() }
                    } else {
                        Input::Event(event.clone())
                    };
                    let transition = self.decide(&def, &state, input, now)?;
                    let restarts = self.commit(tx, &def, Some(&row), transition, concerning, now).await?;
                    for trigger in restarts {
                        self.start_run(tx, &name, trigger, now).await?;
                    }
                }
                (None, true) => self.start_run(tx, &name, event.clone(), now).await?,
                (None, false) if tx.any_run(&name, &key).await? => {
                    // Late, not early: the run for this key has finished. Keeping it would cancel or wake a
                    // future run that reuses the key.
                    let detail = format!("the {name} run with key {key} has finished; nothing to do");
                    self.audit_event(tx, stored, "ignored", detail).await?;
                }
                (None, false) => {
                    let kept = serde_json::to_string(&event).unwrap_or_default();
                    tx.add_early_event(&name, &key, &kept, now.unix_seconds()).await?;
                    let detail = format!("kept for a {name} run with key {key} that has not started yet");
                    self.audit_event(tx, stored, "event_buffered", detail).await?;
                }
            }
        }
        // Runs that wait for a value this event names (a restock of a SKU), whatever their key. A run that cannot
        // be read or decided is skipped (audited) so it never blocks the others waiting for the same value.
        for (name, run_id) in self.value_waiters(tx, &event).await? {
            let Some(row) = tx.lock_run(&run_id).await? else { continue };
            if matches!(row.status.as_str(), "succeeded" | "failed" | "cancelled") {
                continue;
            }
            matched = true;
            let decided = match self.load_in(tx, &row).await {
                Ok((def, state)) => self
                    .decide(&def, &state, Input::Event(event.clone()), now)
                    .map(|transition| (def, transition)),
                Err(error) => Err(error),
            };
            let (def, transition) = match decided {
                Ok(decided) => decided,
                Err(error) => {
                    let detail = format!("run {run_id} waiting for this event could not take it: {error}");
                    tracing::error!(run = %run_id, %error, "a run waiting by value could not take its event");
                    self.audit_event(tx, stored, "ignored", detail).await?;
                    continue;
                }
            };
            let concerning = Concerning { event_id: Some(&event.id), actor: None };
            let restarts = self.commit(tx, &def, Some(&row), transition, concerning, now).await?;
            for trigger in restarts {
                self.start_run(tx, &name, trigger, now).await?;
            }
        }
        Ok(matched)
    }

    /// The (workflow, run id) pairs of runs waiting for a value this event names, in run id order.
    async fn value_waiters(
        &self,
        tx: &mut dyn Tx,
        event: &Event,
    ) -> Result<Vec<(String, String)>, EngineError> {
        let mut found: BTreeSet<(String, String)> = BTreeSet::new();
        for name in self.workflows.names() {
            let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
            for def in self.workflows.versions_of(&name) {
                wanted.extend(def.matched_values(event));
            }
            for (event_type, value) in wanted {
                for run_id in tx.runs_waiting(&name, &event_type, &value).await? {
                    found.insert((name.clone(), run_id));
                }
            }
        }
        let mut found: Vec<(String, String)> = found.into_iter().collect();
        found.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(found)
    }

    /// The (workflow, key) pairs an event concerns, sorted (the order keys are locked in), each marked whether it
    /// is the workflow's trigger; and the trigger keys that did not render.
    fn routing(&self, event: &Event) -> Routing {
        let mut routing = Routing::default();
        for def in self.workflows.current() {
            match def.trigger_key(event) {
                Some(Ok(key)) => {
                    routing.work.insert((def.name.clone(), key.as_str().to_owned()), true);
                }
                Some(Err(error)) => {
                    routing.bad_keys.push(format!("{}: trigger key did not render: {error}", def.name));
                }
                None => {}
            }
        }
        for name in self.workflows.names() {
            let mut keys: BTreeSet<EventKey> = BTreeSet::new();
            for def in self.workflows.versions_of(&name) {
                keys.extend(def.listening_keys(event));
            }
            for key in keys {
                routing.work.entry((name.clone(), key.as_str().to_owned())).or_insert(false);
            }
        }
        routing
    }

    /// Starts a run of the current version of `name` from `trigger`, with any events kept for its key.
    async fn start_run(
        &self,
        tx: &mut dyn Tx,
        name: &str,
        trigger: Event,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        let Some(def) = self.workflows.current().find(|def| def.name == name).cloned() else {
            return Ok(());
        };
        let key = match def.trigger_key(&trigger) {
            Some(Ok(key)) => key,
            _ => return Ok(()),
        };
        let mut earlier = Vec::new();
        for kept in tx.take_early_events(name, key.as_str()).await? {
            if let Ok(event) = serde_json::from_str::<Event>(&kept) {
                earlier.push(event);
            }
        }
        let uuid = uuid::Uuid::new_v4();
        let run = RunId::new(format!("run_{}", uuid.simple()))
            .map_err(|error| EngineError::BadState { run: uuid.to_string(), error: error.to_string() })?;
        let seed = u64::from_le_bytes(uuid.as_bytes()[..8].try_into().unwrap_or_default());
        let state = RunState::new(&def, run, seed);
        let trigger_id = trigger.id.clone();
        let transition = self.decide(&def, &state, Input::Start { trigger, earlier }, now)?;
        let concerning = Concerning { event_id: Some(&trigger_id), actor: None };
        // A fresh run cannot restart itself, so the restarts list is empty here.
        let _ = self.commit(tx, &def, None, transition, concerning, now).await?;
        self.metrics.inc("seam_runs_started_total", format!("workflow=\"{}\"", label(name)));
        Ok(())
    }

    fn decide(
        &self,
        def: &Workflow,
        state: &RunState,
        input: Input,
        now: Timestamp,
    ) -> Result<Transition, EngineError> {
        let kind = match &input {
            Input::Start { .. } => "start",
            Input::StepResult { .. } => "step_result",
            Input::TimerFired { .. } => "timer",
            Input::Event(_) => "event",
            Input::Cancel { .. } => "cancel",
            Input::Decision { .. } => "decision",
        };
        let transition = apply(def, state, input, now)
            .map_err(|error| EngineError::Flow { run: state.run.to_string(), error })?;
        self.metrics.inc("seam_transitions_total", format!("input=\"{kind}\""));
        Ok(transition)
    }

    /// The definition a stored run is pinned to, and its state.
    fn load(&self, row: &RunRow) -> Result<(Arc<Workflow>, RunState), EngineError> {
        let version = u32::try_from(row.version).unwrap_or_default();
        let def = self
            .workflows
            .pinned(&row.workflow, version)
            .or_else(|| self.later_versions.read().ok()?.get(&(row.workflow.clone(), version)).cloned())
            .ok_or_else(|| EngineError::MissingWorkflow {
                run: row.id.clone(),
                workflow: row.workflow.clone(),
                version: row.version,
            })?;
        let state: RunState = serde_json::from_str(&row.state)
            .map_err(|error| EngineError::BadState { run: row.id.clone(), error: error.to_string() })?;
        Ok((def, state))
    }

    /// Like `load`, but a version this process did not load at start (another node stored it during a rolling
    /// deploy) is read from the database and kept.
    async fn load_in(&self, tx: &mut dyn Tx, row: &RunRow) -> Result<(Arc<Workflow>, RunState), EngineError> {
        match self.load(row) {
            Err(EngineError::MissingWorkflow { .. }) => {
                if let Some((source, origin)) = tx.workflow_source(&row.workflow, row.version).await?
                    && let Ok(def) = seam_flow::parse_workflow(&origin, &source)
                    && let Ok(mut later) = self.later_versions.write()
                {
                    later.insert((def.name.clone(), def.version), Arc::new(def));
                }
                self.load(row)
            }
            other => other,
        }
    }

    /// Writes a transition: the run's state and wake-up time (checking the fence), and every effect that is a
    /// row (audit, call, inbox item, ledger entry), all in the caller's transaction. Returns the triggers of runs
    /// to start (`if_running = "restart"`).
    async fn commit(
        &self,
        tx: &mut dyn Tx,
        def: &Workflow,
        existing: Option<&RunRow>,
        transition: Transition,
        concerning: Concerning<'_>,
        now: Timestamp,
    ) -> Result<Vec<Event>, EngineError> {
        let state = transition.state;
        let run_id = state.run.as_str().to_owned();
        let status = status_word(state.status);
        let state_json = serde_json::to_string(&state)
            .map_err(|error| EngineError::BadState { run: run_id.clone(), error: error.to_string() })?;
        let wake_at = wake_column(&state);
        let key = state.key.as_ref().map(|key| key.as_str().to_owned());
        match existing {
            Some(row) => {
                let update = RunUpdate {
                    status,
                    key: key.as_deref(),
                    state: &state_json,
                    wake_at,
                    now: now.unix_seconds(),
                };
                tx.update_run(&run_id, row.fence, &update).await?;
            }
            None => {
                tx.insert_run(&RunRow {
                    id: run_id.clone(),
                    workflow: def.name.clone(),
                    version: i64::from(def.version),
                    key,
                    status: status.to_owned(),
                    state: state_json,
                    wake_at,
                    fence: 0,
                    created_at: now.unix_seconds(),
                    updated_at: now.unix_seconds(),
                })
                .await?;
            }
        }
        // A run that waits by value (`wait_for` with `match`) is findable by those values while it waits.
        if def.waits_by_value() {
            match &state.waiting {
                Waiting::Event { event, values, .. } if !state.is_finished() && !values.is_empty() => {
                    tx.set_run_waits(&run_id, &def.name, &event.to_string(), values).await?;
                }
                _ => tx.set_run_waits(&run_id, &def.name, "", &[]).await?,
            }
        }
        let event_id = concerning
            .event_id
            .map(str::to_owned)
            .or_else(|| state.trigger.as_ref().map(|trigger| trigger.id.clone()));
        let workflow = format!("{}@{}", def.name, def.version);
        let entry =
            |kind: &str, step: Option<&StepId>, attempt: Option<u32>, detail: String, data: Option<Value>| {
                NewAudit {
                    at: now.unix_seconds(),
                    kind: kind.to_owned(),
                    run_id: Some(run_id.clone()),
                    event_id: event_id.clone(),
                    workflow: Some(workflow.clone()),
                    step: step.map(|step| step.as_str().to_owned()),
                    attempt: attempt.map(i64::from),
                    actor: concerning.actor.map(str::to_owned),
                    detail,
                    data: data.map(|data| data.to_string()),
                }
            };
        let mut audit = Vec::new();
        let mut restarts = Vec::new();
        for effect in transition.effects {
            match effect {
                Effect::Audit(item) => {
                    if item.kind == seam_flow::AuditKind::BadData {
                        self.metrics.inc("seam_bad_data_total", format!("workflow=\"{}\"", label(&def.name)));
                    }
                    let kind = serde_json::to_value(item.kind)
                        .ok()
                        .and_then(|kind| kind.as_str().map(str::to_owned))
                        .unwrap_or_else(|| format!("{:?}", item.kind));
                    audit.push(entry(&kind, item.step.as_ref(), item.attempt, item.detail, None));
                }
                Effect::Call { step, attempt, action, args, idempotency_key } => {
                    tx.insert_call(&NewCall {
                        run_id: run_id.clone(),
                        step: step.as_str().to_owned(),
                        attempt: i64::from(attempt),
                        idempotency_key: idempotency_key.clone(),
                        action: action.0.clone(),
                        args: args.to_string(),
                        created_at: now.unix_seconds(),
                    })
                    .await?;
                    let data =
                        json!({ "action": action.0, "idempotency_key": idempotency_key, "args": args });
                    audit.push(entry(
                        "call_queued",
                        Some(&step),
                        Some(attempt),
                        format!("{} queued", action.0),
                        Some(data),
                    ));
                }
                Effect::SetTimer { .. } => {}
                Effect::Escalate { escalation, step, team, zone, title, due, context, decisions } => {
                    let assignee = route_escalation(&self.routes, &zone, &team, &context);
                    tx.insert_inbox(&InboxItem {
                        id: escalation.clone(),
                        run_id: run_id.clone(),
                        workflow: def.name.clone(),
                        step: step.as_str().to_owned(),
                        team: team.clone(),
                        assignee: assignee.clone(),
                        zone: zone.clone(),
                        title: title.clone(),
                        context: context.to_string(),
                        due_at: due.unix_seconds(),
                        status: "open".to_owned(),
                        decisions: decisions.to_string(),
                        decision: None,
                        decided_by: None,
                        decided_at: None,
                        note: None,
                        created_at: now.unix_seconds(),
                    })
                    .await?;
                    let data = json!({ "inbox_item": escalation, "team": team, "assignee": assignee, "due": due, "context": context });
                    audit.push(entry(
                        "inbox_opened",
                        Some(&step),
                        None,
                        format!("{title} (assigned to {assignee})"),
                        Some(data),
                    ));
                }
                Effect::Record { step, ledger, entry: fields, idempotency_key } => {
                    let inserted = tx
                        .insert_ledger(
                            &idempotency_key,
                            &ledger,
                            &run_id,
                            &def.name,
                            now.unix_seconds(),
                            &fields.to_string(),
                        )
                        .await?;
                    if inserted {
                        let data =
                            json!({ "ledger": ledger, "idempotency_key": idempotency_key, "entry": fields });
                        audit.push(entry(
                            "ledger_entry",
                            Some(&step),
                            None,
                            format!("entry for ledger {ledger}"),
                            Some(data),
                        ));
                    }
                }
                Effect::Complete { status, outcome } => {
                    tx.skip_pending_calls(&run_id, now.unix_seconds()).await?;
                    tx.close_inbox_for_run(&run_id, now.unix_seconds()).await?;
                    let data = json!({ "status": status_word(status), "outcome": outcome });
                    audit.push(entry(
                        "run_finished",
                        None,
                        None,
                        format!("{} ({outcome})", status_word(status)),
                        Some(data),
                    ));
                }
                Effect::CloseEscalation { escalation } => {
                    tx.close_inbox(&escalation, now.unix_seconds()).await?;
                    audit.push(entry(
                        "inbox_closed",
                        None,
                        None,
                        format!("inbox item {escalation} closed: the run no longer waits for it"),
                        Some(json!({ "inbox_item": escalation })),
                    ));
                }
                Effect::StartRun { trigger } => restarts.push(trigger),
            }
        }
        tx.append_audit(&audit).await?;
        Ok(restarts)
    }

    async fn audit_event(
        &self,
        tx: &mut dyn Tx,
        event: &StoredEvent,
        kind: &str,
        detail: String,
    ) -> Result<(), EngineError> {
        tx.append_audit(&[NewAudit {
            at: self.now().unix_seconds(),
            kind: kind.to_owned(),
            event_id: Some(event.event_id.clone()),
            detail: format!("{} {}: {detail}", event.source, event.event_type),
            ..NewAudit::default()
        }])
        .await?;
        Ok(())
    }

    // ----- timers ----------------------------------------------------------------------------------------------

    /// Fires every due wake-up. Returns how many runs it moved.
    pub async fn fire_due(&self) -> Result<usize, EngineError> {
        let mut fired = 0;
        loop {
            let now = self.now();
            let mut tx = self.store.begin().await?;
            let Some(row) = tx.due_run(now.unix_seconds()).await? else { return Ok(fired) };
            let (def, state) = match self.load_in(tx.as_mut(), &row).await {
                Ok(loaded) => loaded,
                Err(error) => {
                    // The run cannot be read or its definition is gone: take its wake-up away so it cannot
                    // block the timers of every other run; the reconciler reports it as stuck.
                    self.set_aside_run(tx, &row, &error, now).await?;
                    continue;
                }
            };
            match state.timer {
                Some(timer) if timer.at <= now && !state.is_finished() => {
                    let transition = self.decide(&def, &state, Input::TimerFired { timer: timer.id }, now)?;
                    let restarts = self
                        .commit(tx.as_mut(), &def, Some(&row), transition, Concerning::default(), now)
                        .await?;
                    for trigger in restarts {
                        self.start_run(tx.as_mut(), &def.name, trigger, now).await?;
                    }
                    self.metrics.inc("seam_timers_fired_total", "");
                }
                _ => {
                    // The column disagrees with the state (which is authoritative): put the state's time back.
                    restore_wake_at(tx.as_mut(), &row, &state, now).await?;
                    self.metrics.inc("seam_reconciler_total", "kind=\"wake_at_repaired\"");
                }
            }
            tx.commit().await?;
            fired += 1;
            self.calls_queued.notify_one();
        }
    }

    async fn set_aside_run(
        &self,
        mut tx: Box<dyn Tx>,
        row: &RunRow,
        error: &EngineError,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        let update = RunUpdate {
            status: &row.status,
            key: row.key.as_deref(),
            state: &row.state,
            wake_at: None,
            now: now.unix_seconds(),
        };
        tx.update_run(&row.id, row.fence, &update).await?;
        // A run set aside waits for nothing any more: no event by value reaches it.
        tx.set_run_waits(&row.id, &row.workflow, "", &[]).await?;
        tx.append_audit(&[NewAudit {
            at: now.unix_seconds(),
            kind: "engine_error".to_owned(),
            run_id: Some(row.id.clone()),
            workflow: Some(format!("{}@{}", row.workflow, row.version)),
            detail: format!("the run cannot continue: {error}"),
            ..NewAudit::default()
        }])
        .await?;
        tx.commit().await?;
        self.metrics.inc("seam_engine_errors_total", "loop=\"timers\",kind=\"run_set_aside\"");
        tracing::error!(%error, run = %row.id, "a run cannot continue and was set aside");
        Ok(())
    }

    // ----- calls -----------------------------------------------------------------------------------------------

    /// Claims pending calls and carries them out concurrently. Returns how many it finished.
    pub async fn run_calls(self: &Arc<Self>) -> Result<usize, EngineError> {
        let limit = i64::try_from(self.settings.call_concurrency.max(1)).unwrap_or(16);
        let claimed = self
            .store
            .claim_calls(&self.settings.node, self.wall_now(), self.settings.lease_secs, limit)
            .await?;
        let count = claimed.len();
        let mut tasks = tokio::task::JoinSet::new();
        for call in claimed {
            let engine = Arc::clone(self);
            tasks.spawn(async move { engine.execute_call(call).await });
        }
        let mut first_error = None;
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Ok(())) => {}
                Ok(Err(error)) => first_error = first_error.or(Some(error)),
                Err(join) => tracing::error!(%join, "a call task panicked"),
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(count),
        }
    }

    async fn execute_call(&self, call: seam_store::CallRow) -> Result<(), EngineError> {
        let args: Value = serde_json::from_str(&call.args).unwrap_or(Value::Null);
        let outcome = match self.connector_for(&call.action) {
            Some((connector, action)) => connector.call(action, &args, &call.idempotency_key).await,
            None => CallOutcome::Err {
                class: ErrorClass::Fatal(ErrorKind::Request),
                message: format!(
                    "no connector serves action {:?}; check the workflow and seam.toml",
                    call.action
                ),
            },
        };
        let result = match &outcome {
            CallOutcome::Ok(_) => "ok".to_owned(),
            CallOutcome::Err { class: ErrorClass::Retryable(kind), .. } => format!("retryable_{kind}"),
            CallOutcome::Err { class: ErrorClass::Fatal(kind), .. } => format!("fatal_{kind}"),
        };
        self.metrics
            .inc("seam_calls_total", format!("action=\"{}\",result=\"{result}\"", label(&call.action)));
        // The outside call is made; recording its answer must not be lost to a busy database, or the call would be
        // made again when its lease runs out. A transient failure is retried for a while before giving up.
        let mut wait = Duration::from_millis(50);
        for attempt in 1.. {
            match self.record_call_outcome(&call, outcome.clone()).await {
                Err(error) if error.is_transient() && attempt < 8 => {
                    tracing::warn!(%error, key = %call.idempotency_key, attempt, "recording a call's answer; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
                other => return other,
            }
        }
        Ok(())
    }

    /// Writes a made call's answer and applies it to its run, in one transaction.
    async fn record_call_outcome(
        &self,
        call: &seam_store::CallRow,
        outcome: CallOutcome,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let outcome_json = serde_json::to_string(&outcome).unwrap_or_default();
        let mut tx = self.store.begin().await?;
        // The run first, then its call: the same lock order as a transition that ends the run.
        tx.lock_run(&call.run_id).await?;
        if !tx.finish_call(call.id, call.fence, &outcome_json, now.unix_seconds()).await? {
            // Our lease expired and another worker claimed the call (or the run finished): its outcome counts.
            tracing::warn!(key = %call.idempotency_key, "call outcome dropped: the claim is no longer ours");
            return Ok(());
        }
        match self.apply_call_outcome(tx.as_mut(), &call.run_id, &call.step, call.attempt, outcome, now).await
        {
            Ok(()) => tx.commit().await?,
            Err(error) if error.is_transient() => return Err(error),
            Err(error) => {
                // The run cannot take the result; keep the outcome with the call (so the call is not made
                // again and again) and say why.
                drop(tx);
                let mut tx = self.store.begin().await?;
                if tx.finish_call(call.id, call.fence, &outcome_json, now.unix_seconds()).await? {
                    tx.append_audit(&[NewAudit {
                        at: now.unix_seconds(),
                        kind: "engine_error".to_owned(),
                        run_id: Some(call.run_id.clone()),
                        step: Some(call.step.clone()),
                        attempt: Some(call.attempt),
                        detail: format!("the call's outcome could not be applied: {error}"),
                        ..NewAudit::default()
                    }])
                    .await?;
                    tx.commit().await?;
                }
                tracing::error!(%error, run = %call.run_id, "a call's outcome could not be applied to its run");
            }
        }
        self.calls_queued.notify_one();
        Ok(())
    }

    async fn apply_call_outcome(
        &self,
        tx: &mut dyn Tx,
        run_id: &str,
        step: &str,
        attempt: i64,
        outcome: CallOutcome,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        let Some(row) = tx.lock_run(run_id).await? else { return Ok(()) };
        let (def, state) = self.load_in(tx, &row).await?;
        let step = StepId::parse(step)
            .map_err(|error| EngineError::BadState { run: row.id.clone(), error: error.0.clone() })?;
        let attempt = u32::try_from(attempt).unwrap_or_default();
        let transition = self.decide(&def, &state, Input::StepResult { step, attempt, outcome }, now)?;
        let restarts = self.commit(tx, &def, Some(&row), transition, Concerning::default(), now).await?;
        for trigger in restarts {
            self.start_run(tx, &def.name, trigger, now).await?;
        }
        Ok(())
    }

    /// `http` (or `http.request`) goes to the generic HTTP connector; `stripe.pay_invoice` to `stripe`.
    fn connector_for<'a>(&self, action: &'a str) -> Option<(&Arc<dyn Connector>, &'a str)> {
        let prefix = seam_flow::ActionName::connector_of(action);
        let rest = action.strip_prefix(prefix).map_or("", |rest| rest.trim_start_matches('.'));
        self.connectors.get(prefix).map(|connector| (connector, rest))
    }

    /// The connector serving `name.*` actions, if configured (the web layer's read-only views use them).
    pub fn connector(&self, name: &str) -> Option<Arc<dyn Connector>> {
        self.connectors.get(name).cloned()
    }

    /// The action prefixes connectors serve (`http`, `stripe`, ...).
    pub fn connector_names(&self) -> Vec<String> {
        self.connectors.keys().cloned().collect()
    }

    /// Whether a connector serves this action's prefix.
    pub fn serves(&self, action: &str) -> bool {
        self.connector_for(action).is_some()
    }

    // ----- people ----------------------------------------------------------------------------------------------

    /// A human's decision on an inbox item: the run moves as the escalate step says, and the decision, who made
    /// it and the note are audited.
    pub async fn decide_item(
        &self,
        id: &str,
        decision: DecisionKind,
        by: &str,
        note: Option<&str>,
        fields: serde_json::Map<String, serde_json::Value>,
    ) -> Result<InboxItem, DecideError> {
        let now = self.now();
        // Lock order everywhere: the run, then what belongs to it (inbox item, call). Read the item first, outside
        // any transaction, only to learn its run.
        let Some(peek) = self.store.inbox_item(id).await? else {
            return Err(DecideError::NotFound(id.to_owned()));
        };
        let mut tx = self.store.begin().await?;
        let run = tx.lock_run(&peek.run_id).await?;
        let Some(item) = tx.lock_inbox(id).await? else { return Err(DecideError::NotFound(id.to_owned())) };
        if item.status != "open" {
            return Err(DecideError::AlreadyDecided {
                id: id.to_owned(),
                status: item.status,
                by: item.decided_by,
            });
        }
        let word = match decision {
            DecisionKind::Resolve => "resolved",
            DecisionKind::Retry => "retried",
            DecisionKind::Dismiss => "dismissed",
            DecisionKind::Choice(_) => "decided",
        };
        let name = decision.name().to_owned();
        let Some(row) = run else { return Err(DecideError::NotFound(id.to_owned())) };
        let (def, state) = self.load_in(tx.as_mut(), &row).await?;
        // Only the item the run waits on takes a decision; another (one a cancel or an event moved the run past) is
        // refused and changes nothing.
        if !matches!(&state.waiting, Waiting::Decision { escalation, .. } if escalation == id) {
            return Err(DecideError::AlreadyDecided {
                id: id.to_owned(),
                status: "closed".to_owned(),
                by: None,
            });
        }
        // What the step offers and the fields it takes are checked here, so a bad decision is refused with its
        // reason and changes nothing (the state machine would only ignore it).
        let escalate =
            def.steps.iter().find(|step| step.id.as_str() == item.step).and_then(|step| match &step.action {
                seam_flow::Action::Escalate(escalate) => Some(escalate),
                _ => None,
            });
        if let Some(escalate) = escalate {
            let offered = seam_flow::BUILT_IN_DECISIONS.contains(&name.as_str())
                || escalate.choices.contains_key(&name);
            if !offered {
                let mut names: Vec<&str> = seam_flow::BUILT_IN_DECISIONS.to_vec();
                names.extend(escalate.choices.keys().map(String::as_str));
                return Err(DecideError::NoSuchDecision {
                    id: id.to_owned(),
                    name,
                    offered: names.join(", "),
                });
            }
            if let Err(why) = escalate.check_fields(&name, &fields) {
                return Err(DecideError::Refused { id: id.to_owned(), why });
            }
        }
        let data = json!({ "inbox_item": id, "decision": name, "by": by, "note": note, "fields": fields });
        let input = Input::Decision { escalation: id.to_owned(), decision, by: by.to_owned(), fields };
        let transition = self.decide(&def, &state, input, now)?;
        if matches!(&transition.state.waiting, Waiting::Decision { escalation, .. } if escalation == id) {
            // The run did not take the decision (a retry with no step to retry): say so, change nothing.
            return Err(DecideError::NotApplicable {
                id: id.to_owned(),
                decision: word.to_owned(),
                why: "its escalate step has no call step to retry; resolve or dismiss it".to_owned(),
            });
        }
        tx.decide_inbox(id, word, &name, Some(by), note, now.unix_seconds()).await?;
        tx.append_audit(&[NewAudit {
            at: now.unix_seconds(),
            kind: "decision".to_owned(),
            run_id: Some(item.run_id.clone()),
            event_id: None,
            workflow: Some(item.workflow.clone()),
            step: Some(item.step.clone()),
            attempt: None,
            actor: Some(by.to_owned()),
            detail: format!(
                "{word} inbox item {id}{}",
                note.map(|note| format!(": {note}")).unwrap_or_default()
            ),
            data: Some(data.to_string()),
        }])
        .await?;
        let concerning = Concerning { event_id: None, actor: Some(by) };
        let restarts = self.commit(tx.as_mut(), &def, Some(&row), transition, concerning, now).await?;
        for trigger in restarts {
            self.start_run(tx.as_mut(), &def.name, trigger, now).await?;
        }
        tx.commit().await?;
        self.metrics.inc("seam_decisions_total", format!("decision=\"{word}\""));
        self.calls_queued.notify_one();
        let decided = self.store.inbox_item(id).await?;
        decided.ok_or_else(|| DecideError::NotFound(id.to_owned()))
    }

    /// Cancels a run from outside its workflow. Returns the run after. A run that has finished, or was already
    /// cancelled, is refused and left as it is.
    pub async fn cancel_run(&self, id: &str, reason: &str, by: &str) -> Result<RunRow, CancelError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let Some(row) = tx.lock_run(id).await? else { return Err(CancelError::NotFound(id.to_owned())) };
        let (def, state) = self.load_in(tx.as_mut(), &row).await?;
        if state.is_finished() || state.cancel_reason.is_some() {
            let status = if state.is_finished() { row.status.clone() } else { "cancelled".to_owned() };
            return Err(CancelError::AlreadyFinished { id: id.to_owned(), status });
        }
        let input = Input::Cancel { reason: format!("{reason} (by {by})") };
        let transition = self.decide(&def, &state, input, now)?;
        let concerning = Concerning { event_id: None, actor: Some(by) };
        let _ = self.commit(tx.as_mut(), &def, Some(&row), transition, concerning, now).await?;
        tx.commit().await?;
        self.calls_queued.notify_one();
        self.store.run(id).await?.ok_or_else(|| CancelError::NotFound(id.to_owned()))
    }

    // ----- ledger ----------------------------------------------------------------------------------------------

    /// Writes unshipped ledger entries to the sink. Returns how many it wrote.
    pub async fn ship_ledger(&self) -> Result<usize, EngineError> {
        if self.ledgers.is_empty() {
            return Ok(0);
        }
        let mut shipped = 0;
        loop {
            let rows = self.store.ledger_unshipped(200).await?;
            if rows.is_empty() {
                return Ok(shipped);
            }
            let mut done = Vec::new();
            for row in &rows {
                let fields =
                    serde_json::from_str::<serde_json::Map<String, Value>>(&row.fields).unwrap_or_default();
                let entry = LedgerEntry {
                    idempotency_key: row.idempotency_key.clone(),
                    ledger: row.ledger.clone(),
                    run_id: row.run_id.clone(),
                    workflow: row.workflow.clone(),
                    at: Timestamp::from_unix_seconds(row.at).to_string(),
                    fields,
                };
                // A ledger without a sink keeps its entries in the database (and the API) only.
                let Some(sink) = self.ledgers.sink_for(&row.ledger).await else { continue };
                match sink.write(&entry).await {
                    Ok(written) => {
                        self.metrics.inc(
                            "seam_ledger_shipped_total",
                            format!("result=\"{}\"", written_word(&written)),
                        );
                        done.push(row.seq);
                    }
                    Err(error) => {
                        self.metrics.inc("seam_ledger_shipped_total", "result=\"error\"");
                        tracing::warn!(%error, key = %row.idempotency_key, "ledger sink refused an entry; will retry");
                        break;
                    }
                }
            }
            if done.is_empty() {
                return Ok(shipped);
            }
            self.store.mark_shipped(&done).await?;
            shipped += done.len();
        }
    }

    // ----- reconciler ------------------------------------------------------------------------------------------

    /// Looks at every live run without a wake-up time and checks that something owes it an input: a pending call
    /// or an open inbox item. A call that finished without its outcome reaching the run is applied now; a wake-up
    /// missing from the column is restored from the state. Anything else is reported as stuck.
    pub async fn reconcile(&self) -> Result<Reconciled, EngineError> {
        let mut report = Reconciled::default();
        for row in self.store.runs_without_wakeup(1000).await? {
            let Ok((_, state)) = self.load(&row) else {
                report.stuck.push(row.id.clone());
                continue;
            };
            let now = self.now();
            if state.is_finished() {
                continue;
            }
            if state.timer.is_some() {
                let mut tx = self.store.begin().await?;
                // Decide from the locked row: the run may have moved since it was listed.
                if let Some(locked) = tx.lock_run(&row.id).await?
                    && let Ok((_, current)) = self.load(&locked)
                    && !current.is_finished()
                    && locked.wake_at.is_none()
                    && current.timer.is_some()
                {
                    restore_wake_at(tx.as_mut(), &locked, &current, now).await?;
                    tx.commit().await?;
                    report.repaired.push(row.id.clone());
                }
                continue;
            }
            let owed = match &state.waiting {
                Waiting::Call { step, attempt, in_flight: true, .. } => {
                    let mut tx = self.store.begin().await?;
                    let call = tx.call_for_attempt(&row.id, step.as_str(), i64::from(*attempt)).await?;
                    match call {
                        Some(call) if call.status == "pending" => true,
                        Some(call) if call.status == "done" => {
                            let outcome = call.outcome.as_deref().and_then(|o| serde_json::from_str(o).ok());
                            if let Some(outcome) = outcome {
                                self.apply_call_outcome(
                                    tx.as_mut(),
                                    &row.id,
                                    &call.step,
                                    call.attempt,
                                    outcome,
                                    now,
                                )
                                .await?;
                                tx.commit().await?;
                                report.repaired.push(row.id.clone());
                                continue;
                            }
                            false
                        }
                        _ => false,
                    }
                }
                Waiting::Decision { escalation, .. } => {
                    self.store.inbox_item(escalation).await?.is_some_and(|item| item.status == "open")
                }
                _ => false,
            };
            if !owed {
                report.stuck.push(row.id.clone());
            }
        }
        for _ in &report.repaired {
            self.metrics.inc("seam_reconciler_total", "kind=\"repaired\"");
        }
        for id in &report.stuck {
            self.metrics.inc("seam_reconciler_total", "kind=\"stuck\"");
            tracing::error!(run = %id, "run is live but nothing will move it (no wake-up, call or inbox item)");
        }
        Ok(report)
    }

    // ----- loops -----------------------------------------------------------------------------------------------

    /// Does every kind of due work once, until there is none. Used by tests and the demo between clock steps.
    pub async fn run_until_idle(self: &Arc<Self>) -> Result<(), EngineError> {
        loop {
            let moved = self.route_pending().await?
                + self.fire_due().await?
                + self.run_calls().await?
                + self.ship_ledger().await?;
            if moved == 0 {
                return Ok(());
            }
        }
    }

    /// Starts the engine's loops; they stop when `shutdown` turns true.
    pub fn spawn(self: &Arc<Self>, shutdown: watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
        let poll = self.settings.poll;
        let mut handles = Vec::new();
        let engine = Arc::clone(self);
        handles.push(spawn_loop(
            "router",
            shutdown.clone(),
            poll,
            self.metrics.clone(),
            Some(self.events_stored.clone()),
            move || {
                let engine = Arc::clone(&engine);
                async move { engine.route_pending().await.map(|n| n > 0) }
            },
        ));
        let engine = Arc::clone(self);
        handles.push(spawn_loop("timers", shutdown.clone(), poll, self.metrics.clone(), None, move || {
            let engine = Arc::clone(&engine);
            async move { engine.fire_due().await.map(|n| n > 0) }
        }));
        let engine = Arc::clone(self);
        let calls_wake = Arc::new(Notify::new());
        let relay = calls_wake.clone();
        let relay_engine = Arc::clone(self);
        let mut relay_shutdown = shutdown.clone();
        handles.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = relay_engine.calls_queued.notified() => relay.notify_one(),
                    _ = relay_shutdown.changed() => return,
                }
            }
        }));
        handles.push(spawn_loop(
            "calls",
            shutdown.clone(),
            poll,
            self.metrics.clone(),
            Some(calls_wake),
            move || {
                let engine = Arc::clone(&engine);
                async move { engine.run_calls().await.map(|n| n > 0) }
            },
        ));
        let engine = Arc::clone(self);
        handles.push(spawn_loop(
            "ledger",
            shutdown.clone(),
            poll * 5,
            self.metrics.clone(),
            None,
            move || {
                let engine = Arc::clone(&engine);
                async move { engine.ship_ledger().await.map(|n| n > 0) }
            },
        ));
        let engine = Arc::clone(self);
        let every = self.settings.reconcile_every;
        handles.push(spawn_loop("reconciler", shutdown, every, self.metrics.clone(), None, move || {
            let engine = Arc::clone(&engine);
            async move { engine.reconcile().await.map(|_| false) }
        }));
        handles
    }
}

/// Runs `work` until shutdown: again at once while it reports progress, else after `idle` or a wake-up.
fn spawn_loop<F, Fut>(
    name: &'static str,
    mut shutdown: watch::Receiver<bool>,
    idle: Duration,
    metrics: Arc<Metrics>,
    wake: Option<Arc<Notify>>,
    work: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<bool, EngineError>> + Send,
{
    tokio::spawn(async move {
        let wake = wake.unwrap_or_else(|| Arc::new(Notify::new()));
        loop {
            if *shutdown.borrow() {
                return;
            }
            let progressed = match work().await {
                Ok(progressed) => progressed,
                Err(error) => {
                    metrics.inc("seam_engine_errors_total", format!("loop=\"{name}\""));
                    tracing::warn!(loop = name, %error, "engine loop error; retrying");
                    false
                }
            };
            if progressed {
                continue;
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
                _ = shutdown.changed() => {}
            }
        }
    })
}

/// The `runs.wake_at` column for a state: its one wake-up time, none once it has finished.
fn wake_column(state: &RunState) -> Option<i64> {
    if state.is_finished() { None } else { state.wake_at().map(Timestamp::unix_seconds) }
}

/// Rewrites a run's columns from its stored state (which is authoritative) without changing the state.
async fn restore_wake_at(
    tx: &mut dyn Tx,
    row: &RunRow,
    state: &RunState,
    now: Timestamp,
) -> Result<(), EngineError> {
    let key = state.key.as_ref().map(|key| key.as_str().to_owned());
    let update = RunUpdate {
        status: status_word(state.status),
        key: key.as_deref(),
        state: &row.state,
        wake_at: wake_column(state),
        now: now.unix_seconds(),
    };
    tx.update_run(&row.id, row.fence, &update).await?;
    Ok(())
}

/// What `Engine::routing` found for one event.
#[derive(Debug, Default)]
struct Routing {
    work: BTreeMap<(String, String), bool>,
    bad_keys: Vec<String>,
}

/// A stored event as the state machine takes it.
fn event_of(stored: &StoredEvent) -> Result<Event, serde_json::Error> {
    Ok(Event {
        id: stored.event_id.clone(),
        source: stored.source.clone(),
        event_type: stored.event_type.clone(),
        payload: serde_json::from_str(&stored.payload)?,
    })
}

fn status_word(status: RunStatus) -> &'static str {
    match status {
        RunStatus::NotStarted => "not_started",
        RunStatus::Running => "running",
        RunStatus::Succeeded => "succeeded",
        RunStatus::Failed => "failed",
        RunStatus::Cancelled => "cancelled",
    }
}

fn written_word(written: &seam_connectors::ledger::Written) -> &'static str {
    match written {
        seam_connectors::ledger::Written::Appended => "appended",
        seam_connectors::ledger::Written::Duplicate => "duplicate",
    }
}
