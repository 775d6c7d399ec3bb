//! The HTTP handlers. Every response body is JSON (`/metrics` is Prometheus text); every error is
//! `{"error": "..."}` with a status that says what kind of problem it is.
//!
//! Every route under `/api/` is in one sub-router behind [`auth::require_token`]: a route added there cannot be
//! reached without a live token. What a caller sees follows its role (`auth::Access`): an inbox item or run the
//! role may not see is answered 404, exactly as one that does not exist, so ids do not leak.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use seam_connectors::verify::{Verifier, VerifyError, parse_event};
use seam_flow::{Clock, DecisionKind, SystemClock, Timestamp};
use seam_runtime::{
    CancelError, DecideError, Engine, Intake, IntakeOutcome, Metrics, Role, WebConfig, label,
};
use seam_store::{InboxFilter, InboxItem, NewEvent, RunFilter, RunRow};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{self, Access, Caller};
use crate::client::ClientInfo;
use crate::session;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub intake: Intake,
    pub sources: Arc<BTreeMap<String, Verifier>>,
    pub max_body_bytes: usize,
    pub metrics: Arc<Metrics>,
    /// Which teams and zones each role sees (`[roles]`).
    pub access: Arc<Access>,
    /// `[web]`: the `/metrics` allow-list and the trusted proxies.
    pub web: Arc<WebConfig>,
}

pub fn router(state: AppState) -> Router {
    // The JSON API: bearer tokens only, every route behind the one layer.
    let api = Router::new()
        .route("/api/inbox", get(inbox_list))
        .route("/api/inbox/{id}", get(inbox_read))
        .route("/api/inbox/{id}/{action}", post(inbox_decide))
        .route("/api/runs", get(runs_list))
        .route("/api/runs/{id}", get(run_read))
        .route("/api/runs/{id}/cancel", post(run_cancel))
        .route("/api/dead-letters", get(dead_letters))
        .route("/api/ledger", get(ledger))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_token));
    // Open routes: webhooks (signed), health, metrics (loopback, allow-list or a token), the widget (its own
    // token), and signing in and out.
    Router::new()
        .route("/webhooks/{source}", post(webhook))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/integrations/gorgias/customer", get(crate::widget::gorgias_customer))
        .route("/login", post(session::login))
        .route("/session", get(session::current))
        .route("/logout", post(session::logout))
        .merge(api)
        .fallback(not_found)
        .with_state(state)
}

pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

pub(crate) fn store_error(problem: impl std::fmt::Display) -> Response {
    tracing::error!(%problem, "store error in API");
    error(StatusCode::SERVICE_UNAVAILABLE, format!("the database is not available: {problem}"))
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such endpoint; see docs/engine.md for the API")
}

// ----- intake --------------------------------------------------------------------------------------------------

/// `POST /webhooks/{source}`: verify the raw body, then store it, then answer. See docs/engine.md for statuses.
async fn webhook(
    State(state): State<AppState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Only configured names become label values, so a stranger cannot grow (or forge lines in) /metrics.
    let shown = if state.sources.contains_key(&source) { label(&source) } else { "unknown".to_owned() };
    let count = |outcome: &str| {
        state.metrics.inc("seam_webhooks_total", format!("source=\"{shown}\",outcome=\"{outcome}\""))
    };
    let Some(verifier) = state.sources.get(&source) else {
        count("unknown_source");
        let known: Vec<&String> = state.sources.keys().collect();
        return error(
            StatusCode::NOT_FOUND,
            format!("no webhook source {source:?} is configured; configured sources: {known:?}"),
        );
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body is larger than the {} byte limit (intake.max_body_bytes)", state.max_body_bytes),
        )
    };
    if declared.is_some_and(|length| length > state.max_body_bytes) {
        count("too_large");
        return too_large();
    }
    let body: Bytes = match axum::body::to_bytes(body, state.max_body_bytes).await {
        Ok(body) => body,
        Err(_) => {
            count("too_large");
            return too_large();
        }
    };
    let now = SystemClock.now().unix_seconds();
    if let Err(problem) = verifier.verify(&headers, &body, now) {
        let outcome = match &problem {
            VerifyError::Stale { .. } => "stale_timestamp",
            VerifyError::MissingHeader(_) => "missing_signature",
            _ => "bad_signature",
        };
        count(outcome);
        return error(StatusCode::BAD_REQUEST, format!("signature rejected: {problem}; nothing was stored"));
    }
    let parsed = match parse_event(verifier.kind, &headers, &body) {
        Ok(parsed) => parsed,
        Err(problem) => {
            count("unparseable");
            let reason = problem.to_string();
            // Kept as text: invalid UTF-8 becomes U+FFFD and NUL (which PostgreSQL text cannot hold) `\u0000`.
            let text = String::from_utf8_lossy(&body).replace('\0', "\\u0000");
            return match state.engine.store().insert_dead_letter(&source, now, &reason, &text).await {
                Ok(id) => (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({
                        "error": format!("signed but unparseable: {reason}; kept as dead letter {id}"),
                        "dead_letter_id": id,
                    })),
                )
                    .into_response(),
                Err(e) => store_error(e),
            };
        }
    };
    let matched = state.engine.workflows().listens_to(&source, &parsed.event_type);
    let event = NewEvent {
        source: source.clone(),
        event_id: parsed.id.clone(),
        event_type: parsed.event_type.clone(),
        payload: String::from_utf8_lossy(&body).into_owned(),
        received_at: now,
        status: if matched { "pending" } else { "unmatched" }.to_owned(),
    };
    match state.intake.submit(event).await {
        Ok(IntakeOutcome::Stored(seq)) => {
            count(if matched { "accepted" } else { "unmatched" });
            let status = if matched { "accepted" } else { "unmatched" };
            axum::Json(
                json!({ "status": status, "event_id": parsed.id, "type": parsed.event_type, "seq": seq }),
            )
            .into_response()
        }
        Ok(IntakeOutcome::Duplicate) => {
            count("duplicate");
            axum::Json(json!({ "status": "duplicate", "event_id": parsed.id, "type": parsed.event_type }))
                .into_response()
        }
        Err(problem) => {
            count("store_error");
            error(StatusCode::SERVICE_UNAVAILABLE, format!("event not stored, retry later: {problem}"))
        }
    }
}

// ----- health and metrics --------------------------------------------------------------------------------------

async fn healthz(State(state): State<AppState>) -> Response {
    let store = state.engine.store();
    match store.ping().await {
        Ok(()) => axum::Json(json!({
            "status": "ok",
            "db": store.backend(),
            "workflows": state.engine.workflows().names(),
            "sources": state.sources.keys().collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(problem) => error(StatusCode::SERVICE_UNAVAILABLE, format!("database check failed: {problem}")),
    }
}

/// Every metric of docs/engine.md, from start-up: a counter that has not moved shows 0 for each label value it is
/// known to take (every outcome for every configured source, every loaded workflow, every action they call), and
/// the gauges show every status, 0 included.
async fn metrics(State(state): State<AppState>, client: ClientInfo, headers: HeaderMap) -> Response {
    let allowed =
        client.is_loopback() || state.web.metrics_allow.iter().any(|range| range.contains(client.address));
    if !allowed {
        let Some(secret) = auth::bearer(&headers) else {
            return auth::unauthorized(
                "/metrics is open to loopback and [web] metrics_allow; from elsewhere send a token",
                false,
            );
        };
        match auth::token_caller(state.engine.store().as_ref(), secret, session::unix_now()).await {
            Ok(Some(_)) => {}
            Ok(None) => return auth::unauthorized("the token is unknown or revoked", true),
            Err(problem) => return store_error(problem),
        }
    }
    let workflows = state.engine.workflows();
    let mut actions: Vec<String> = workflows
        .current()
        .flat_map(|def| def.steps.iter())
        .filter_map(|step| match &step.action {
            seam_flow::Action::Call(call) => Some(call.action.0.clone()),
            _ => None,
        })
        .collect();
    actions.sort();
    actions.dedup();
    let known = seam_runtime::KnownLabels {
        sources: state.sources.keys().cloned().collect(),
        workflows: workflows.names(),
        actions,
    };
    let mut text = state.metrics.render(&known);
    if let Ok(counts) = state.engine.store().counts().await {
        use std::fmt::Write;
        // Every status the schema allows, then any other the database holds.
        let with_zeros = |known: &[&str], counted: &[(String, i64)]| {
            let mut all: BTreeMap<String, i64> =
                known.iter().map(|status| ((*status).to_owned(), 0)).collect();
            all.extend(counted.iter().cloned());
            all
        };
        let runs = with_zeros(
            &["not_started", "running", "succeeded", "failed", "cancelled"],
            &counts.runs_by_status,
        );
        let events = with_zeros(&["pending", "routed", "unmatched", "failed"], &counts.events_by_status);
        let _ = writeln!(text, "# HELP seam_runs Runs stored, by status.\n# TYPE seam_runs gauge");
        for (status, n) in &runs {
            let _ = writeln!(text, "seam_runs{{status=\"{}\"}} {n}", label(status));
        }
        let _ =
            writeln!(text, "# HELP seam_events Events stored, by routing status.\n# TYPE seam_events gauge");
        for (status, n) in &events {
            let _ = writeln!(text, "seam_events{{status=\"{}\"}} {n}", label(status));
        }
        for (name, help, value) in [
            ("seam_inbox_open", "Open inbox items.", counts.inbox_open),
            ("seam_calls_pending", "Calls waiting to be made.", counts.calls_pending),
            ("seam_dead_letters", "Signed but unparseable deliveries kept.", counts.dead_letters),
            ("seam_ledger_unshipped", "Ledger entries not yet in the sink.", counts.ledger_unshipped),
            ("seam_audit_entries", "Audit log entries.", counts.audit_entries),
        ] {
            let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

// ----- inbox ---------------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    workflow: Option<String>,
    key: Option<String>,
    limit: Option<i64>,
    after: Option<i64>,
}

fn time(seconds: i64) -> String {
    Timestamp::from_unix_seconds(seconds).to_string()
}

fn item_json(item: &InboxItem) -> Value {
    json!({
        "id": item.id,
        "run_id": item.run_id,
        "workflow": item.workflow,
        "step": item.step,
        "team": item.team,
        "assignee": item.assignee,
        "zone": item.zone,
        "title": item.title,
        "context": serde_json::from_str::<Value>(&item.context).unwrap_or(Value::Null),
        "due_at": time(item.due_at),
        "status": item.status,
        "decisions": serde_json::from_str::<Value>(&item.decisions).unwrap_or(Value::Null),
        "decision": item.decision,
        "decided_by": item.decided_by,
        "decided_at": item.decided_at.map(time),
        "note": item.note,
        "created_at": time(item.created_at),
    })
}

async fn inbox_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Response {
    let status = match query.status.as_deref() {
        None => Some("open"),
        Some("all") => None,
        Some(status) => Some(status),
    };
    let filter = InboxFilter {
        status: status.map(str::to_owned),
        teams: state.access.teams(&caller),
        limit: query.limit.unwrap_or(100).clamp(1, 1000),
    };
    match state.engine.store().inbox_filtered(&filter).await {
        Ok(items) => {
            axum::Json(json!({ "items": items.iter().map(item_json).collect::<Vec<_>>() })).into_response()
        }
        Err(problem) => store_error(problem),
    }
}

/// The item, if it exists and the caller's role sees its team; `Ok(None)` either way otherwise.
async fn visible_item(state: &AppState, caller: &Caller, id: &str) -> Result<Option<InboxItem>, Response> {
    match state.engine.store().inbox_item(id).await {
        Ok(Some(item)) if state.access.scope(caller).sees_team(&item.team) => Ok(Some(item)),
        Ok(_) => Ok(None),
        Err(problem) => Err(store_error(problem)),
    }
}

async fn inbox_read(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    match visible_item(&state, &caller, &id).await {
        Ok(Some(item)) => axum::Json(item_json(&item)).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no inbox item {id}")),
        Err(response) => response,
    }
}

#[derive(Debug, Deserialize, Default)]
struct DecisionBody {
    by: Option<String>,
    note: Option<String>,
    reason: Option<String>,
    /// What the person fills in with the decision (such as `recovered_minor` on a resolve); plain values.
    fields: Option<serde_json::Map<String, Value>>,
}

/// At most this many fields on one decision.
const MAX_DECISION_FIELDS: usize = 20;

/// A decision's fields are named in lowercase letters, digits and `_`, and hold text (at most 1,000
/// characters), numbers or booleans.
fn check_fields(fields: &serde_json::Map<String, Value>) -> Result<(), String> {
    if fields.len() > MAX_DECISION_FIELDS {
        return Err(format!("fields: {} given; at most {MAX_DECISION_FIELDS}", fields.len()));
    }
    for (name, value) in fields {
        let good_name = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !good_name {
            return Err(format!("fields: {name:?} is not a field name; use lowercase letters, digits and _"));
        }
        match value {
            Value::String(text) if text.chars().count() > 1_000 => {
                return Err(format!("fields.{name}: longer than 1,000 characters"));
            }
            Value::String(_) | Value::Bool(_) => {}
            Value::Number(number) if number.as_f64().is_some_and(f64::is_finite) => {}
            _ => return Err(format!("fields.{name}: use text, a number or true/false")),
        }
    }
    Ok(())
}

/// Reads `{"by": "...", "note": "...", "fields": {...}}`; `by` may also come as the `X-Seam-User` header. The
/// actor of the decision is the caller (the token's name); a `by` is kept as a note of who it was for.
fn decision_body(headers: &HeaderMap, body: &Bytes) -> Result<(Option<String>, DecisionBody), Box<Response>> {
    let parsed: DecisionBody = if body.iter().all(u8::is_ascii_whitespace) {
        DecisionBody::default()
    } else {
        serde_json::from_slice(body).map_err(|problem| {
            error(StatusCode::BAD_REQUEST, format!("body is not the expected JSON: {problem}"))
        })?
    };
    let by = parsed
        .by
        .clone()
        .or_else(|| headers.get("x-seam-user").and_then(|v| v.to_str().ok()).map(str::to_owned))
        .map(|by| by.trim().to_owned())
        .filter(|by| !by.is_empty());
    if let Some(fields) = &parsed.fields {
        check_fields(fields).map_err(|problem| Box::new(error(StatusCode::BAD_REQUEST, problem)))?;
    }
    Ok((by, parsed))
}

/// The note recorded with a decision: the caller's note, and who it was for when a `by` other than the
/// caller's own name was given.
fn note_with_by(caller: &Caller, by: Option<&str>, note: Option<&str>) -> Option<String> {
    match (by.filter(|by| *by != caller.name), note) {
        (Some(by), Some(note)) => Some(format!("by {by}: {note}")),
        (Some(by), None) => Some(format!("by {by}")),
        (None, note) => note.map(str::to_owned),
    }
}

async fn inbox_decide(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // resolve, retry, dismiss, or one of the item's named choices (checked by the engine against its step).
    let well_formed = !action.is_empty()
        && action.len() <= 64
        && action.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        return error(
            StatusCode::NOT_FOUND,
            format!("no inbox action {action:?}; use resolve, retry, dismiss or one of the item's decisions"),
        );
    }
    let decision = DecisionKind::from(action);
    match visible_item(&state, &caller, &id).await {
        Ok(Some(_)) => {}
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("no inbox item {id}")),
        Err(response) => return response,
    }
    let (by, body) = match decision_body(&headers, &body) {
        Ok(parsed) => parsed,
        Err(response) => return *response,
    };
    let note = note_with_by(&caller, by.as_deref(), body.note.as_deref());
    let fields = body.fields.unwrap_or_default();
    match state.engine.decide_item(&id, decision, &caller.name, note.as_deref(), fields).await {
        Ok(item) => axum::Json(item_json(&item)).into_response(),
        Err(DecideError::NotFound(id)) => error(StatusCode::NOT_FOUND, format!("no inbox item {id}")),
        Err(problem @ (DecideError::AlreadyDecided { .. } | DecideError::NotApplicable { .. })) => {
            error(StatusCode::CONFLICT, problem.to_string())
        }
        Err(problem @ DecideError::NoSuchDecision { .. }) => {
            error(StatusCode::NOT_FOUND, problem.to_string())
        }
        Err(problem @ DecideError::Refused { .. }) => error(StatusCode::BAD_REQUEST, problem.to_string()),
        Err(DecideError::Engine(problem)) => store_error(problem),
    }
}

// ----- runs ----------------------------------------------------------------------------------------------------

fn run_json(row: &RunRow, with_state: bool) -> Value {
    let state: Value = serde_json::from_str(&row.state).unwrap_or(Value::Null);
    let mut out = json!({
        "id": row.id,
        "workflow": row.workflow,
        "version": row.version,
        "key": row.key,
        "status": row.status,
        "outcome": state.get("outcome").cloned().unwrap_or(Value::Null),
        "waiting": state.get("waiting").cloned().unwrap_or(Value::Null),
        "wake_at": row.wake_at.map(time),
        "created_at": time(row.created_at),
        "updated_at": time(row.updated_at),
    });
    if with_state {
        out["state"] = state;
    }
    out
}

async fn runs_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Response {
    let filter = RunFilter {
        status: query.status,
        workflow: query.workflow,
        key: query.key,
        workflows: state.access.workflows(&caller, state.engine.workflows()),
        limit: query.limit.unwrap_or(100).clamp(1, 10_000),
    };
    match state.engine.store().runs(&filter).await {
        Ok(runs) => {
            axum::Json(json!({ "runs": runs.iter().map(|r| run_json(r, false)).collect::<Vec<_>>() }))
                .into_response()
        }
        Err(problem) => store_error(problem),
    }
}

async fn run_read(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    let store = state.engine.store();
    let run = match store.run(&id).await {
        Ok(Some(run)) if state.access.sees_workflow(&caller, state.engine.workflows(), &run.workflow) => run,
        Ok(_) => return error(StatusCode::NOT_FOUND, format!("no run {id}")),
        Err(problem) => return store_error(problem),
    };
    let (audit, calls) = match (store.audit_for_run(&id).await, store.calls_for_run(&id).await) {
        (Ok(audit), Ok(calls)) => (audit, calls),
        (Err(problem), _) | (_, Err(problem)) => return store_error(problem),
    };
    let mut out = run_json(&run, true);
    out["audit"] = json!(
        audit
            .iter()
            .map(|entry| json!({
                "at": time(entry.at), "kind": entry.kind, "step": entry.step, "attempt": entry.attempt,
                "actor": entry.actor, "detail": entry.detail, "event_id": entry.event_id,
            }))
            .collect::<Vec<_>>()
    );
    out["calls"] = json!(
        calls
            .iter()
            .map(|call| json!({
                "step": call.step, "attempt": call.attempt, "idempotency_key": call.idempotency_key,
                "action": call.action, "status": call.status, "tries": call.tries,
                "args": serde_json::from_str::<Value>(&call.args).unwrap_or(Value::Null),
                "outcome": call.outcome.as_deref().and_then(|o| serde_json::from_str::<Value>(o).ok()),
            }))
            .collect::<Vec<_>>()
    );
    axum::Json(out).into_response()
}

/// A 403 unless the caller has one of `roles` (for whole endpoints, where there is no id to hide).
fn refusal_unless(caller: &Caller, roles: &[Role], what: &str) -> Option<Response> {
    if roles.contains(&caller.role) {
        return None;
    }
    let allowed: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
    Some(error(
        StatusCode::FORBIDDEN,
        format!(
            "{what} is for the {} role(s); {} has the {} role",
            allowed.join(", "),
            caller.name,
            caller.role
        ),
    ))
}

async fn run_cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(response) = refusal_unless(&caller, &[Role::Admin], "cancelling a run") {
        return response;
    }
    let (by, body) = match decision_body(&headers, &body) {
        Ok(parsed) => parsed,
        Err(response) => return *response,
    };
    let reason = body.reason.or(body.note).unwrap_or_else(|| "cancelled through the API".to_owned());
    let reason = note_with_by(&caller, by.as_deref(), Some(&reason)).unwrap_or(reason);
    match state.engine.cancel_run(&id, &reason, &caller.name).await {
        Ok(run) => axum::Json(run_json(&run, false)).into_response(),
        Err(CancelError::NotFound(id)) => error(StatusCode::NOT_FOUND, format!("no run {id}")),
        Err(problem @ CancelError::AlreadyFinished { .. }) => {
            error(StatusCode::CONFLICT, problem.to_string())
        }
        Err(CancelError::Engine(problem)) => store_error(problem),
    }
}

async fn dead_letters(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Response {
    // Raw bodies from any source: admin only.
    if let Some(response) = refusal_unless(&caller, &[Role::Admin], "reading dead letters") {
        return response;
    }
    match state.engine.store().dead_letters(query.limit.unwrap_or(100).clamp(1, 1000)).await {
        Ok(found) => axum::Json(json!({ "dead_letters": found.iter().map(|d| json!({
            "id": d.id, "source": d.source, "received_at": time(d.received_at), "reason": d.reason, "body": d.body,
        })).collect::<Vec<_>>() }))
        .into_response(),
        Err(problem) => store_error(problem),
    }
}

async fn ledger(State(state): State<AppState>, caller: Caller, Query(query): Query<ListQuery>) -> Response {
    if let Some(response) = refusal_unless(&caller, &[Role::Admin, Role::Finance], "reading the ledger") {
        return response;
    }
    match state
        .engine
        .store()
        .ledger(query.after.unwrap_or(0), query.limit.unwrap_or(1000).clamp(1, 10_000))
        .await
    {
        Ok(rows) => axum::Json(json!({ "entries": rows.iter().map(|row| json!({
            "seq": row.seq, "at": time(row.at), "ledger": row.ledger, "workflow": row.workflow,
            "run_id": row.run_id, "idempotency_key": row.idempotency_key, "shipped": row.shipped,
            "fields": serde_json::from_str::<Value>(&row.fields).unwrap_or(Value::Null),
        })).collect::<Vec<_>>() }))
        .into_response(),
        Err(problem) => store_error(problem),
    }
}
