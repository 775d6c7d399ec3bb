//! Seam's storage: one interface ([`Store`], [`Tx`]) and two implementations, SQLite (one WAL file, the embedded
//! default) and PostgreSQL (several Seam processes sharing one database).
//!
//! The store owns SQL and nothing else: it does not know what a run *means* (that is `seam-flow`) nor when to do
//! what (that is `seam-runtime`). It offers rows and transactions. Both implementations are compiled from one
//! source file, `shared.rs`, included into each backend module with that backend's `DB` type and the few
//! statements where the dialects differ (row locks, `SKIP LOCKED`, advisory locks), so the SQL cannot drift apart.
//!
//! Concurrency rules the runtime relies on:
//!
//! - Every change to a run happens inside one [`Tx`] that first locks the run ([`Tx::lock_run`],
//!   [`Tx::live_run`], [`Tx::due_run`]) and ends with [`Tx::update_run`], which checks the run's fencing token
//!   (`fence`) and bumps it. A writer holding a stale copy gets [`StoreError::Conflict`] and nothing is written.
//! - Outside calls are claimed with a lease ([`Store::claim_calls`]): the claim bumps the call's fence, and
//!   [`Tx::finish_call`] only succeeds with the fence of the latest claim, so a worker whose lease expired cannot
//!   record an outcome over its successor's.
//! - On PostgreSQL, claims use `FOR UPDATE SKIP LOCKED` and routing takes a transaction-scoped advisory lock per
//!   (workflow, key) ([`Tx::lock_key`]); on SQLite the single writer connection serialises all of it.
//! - The audit log is append-only: there is no update or delete in this interface, and a trigger in each schema
//!   refuses them.

pub mod evidence;
mod maintenance;
mod postgres;
mod sqlite;
pub mod testing;

use std::sync::Arc;

use serde::Serialize;

pub use evidence::{
    EvidenceSpan, EvidenceStore, EvidenceTotals, ImportOutcome, ImportRow, ImportTx, NewImport,
};
pub use maintenance::{SchemaStatus, backup_sqlite, schema_status};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("run {0} was changed by another writer (fencing token moved); the transition was not written")]
    Conflict(String),
    #[error("{0}")]
    BadUrl(String),
    /// A database file failed SQLite's integrity check.
    #[error("integrity check failed: {0}")]
    Integrity(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Opens the database named by `url`: `sqlite:PATH` (created on first use) or `postgres://...`, and applies
/// migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    match parse_url(url)? {
        DbUrl::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path).await?)),
        DbUrl::Postgres(url) => Ok(Arc::new(PostgresStore::open(url).await?)),
    }
}

/// A database URL, checked: which backend, and the SQLite file's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbUrl<'a> {
    Sqlite(&'a str),
    Postgres(&'a str),
}

/// Reads a database URL: `sqlite:PATH` or `sqlite://PATH`, `postgres://…` or `postgresql://…`.
pub fn parse_url(url: &str) -> Result<DbUrl<'_>> {
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        if path.is_empty() {
            return Err(StoreError::BadUrl("sqlite: needs a path, as in sqlite:./seam.db".into()));
        }
        Ok(DbUrl::Sqlite(path))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DbUrl::Postgres(url))
    } else {
        Err(StoreError::BadUrl(format!(
            "unsupported database URL {url:?}; use sqlite:PATH (such as sqlite:./seam.db) or postgres://USER@HOST/DB"
        )))
    }
}

/// An event as intake stores it, after its signature was verified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewEvent {
    pub source: String,
    pub event_id: String,
    pub event_type: String,
    /// The raw body (JSON text).
    pub payload: String,
    pub received_at: i64,
    /// `pending` (to be routed) or `unmatched` (no workflow listens to its type; kept for the record).
    pub status: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New(i64),
    /// (source, event id) was stored before: a redelivery.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    pub seq: i64,
    pub source: String,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    pub received_at: i64,
    /// `pending`, `routed` or `unmatched`.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    pub id: i64,
    pub source: String,
    pub received_at: i64,
    pub reason: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub id: String,
    pub workflow: String,
    pub version: i64,
    pub key: Option<String>,
    pub status: String,
    /// The run's `seam_flow::RunState` as JSON.
    pub state: String,
    /// The one authoritative wake-up time.
    pub wake_at: Option<i64>,
    /// The fencing token: bumped by every committed transition.
    pub fence: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A run's new state after a transition.
#[derive(Debug, Clone, PartialEq)]
pub struct RunUpdate<'a> {
    pub status: &'a str,
    pub key: Option<&'a str>,
    pub state: &'a str,
    pub wake_at: Option<i64>,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewCall {
    pub run_id: String,
    pub step: String,
    pub attempt: i64,
    pub idempotency_key: String,
    pub action: String,
    pub args: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRow {
    pub id: i64,
    pub run_id: String,
    pub step: String,
    pub attempt: i64,
    pub idempotency_key: String,
    pub action: String,
    pub args: String,
    /// `pending` or `done`.
    pub status: String,
    pub fence: i64,
    pub tries: i64,
    /// The `seam_flow::CallOutcome` as JSON, once done.
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InboxItem {
    pub id: String,
    pub run_id: String,
    pub workflow: String,
    pub step: String,
    pub team: String,
    pub assignee: String,
    pub zone: String,
    pub title: String,
    /// JSON object of the context fields the workflow names.
    pub context: String,
    pub due_at: i64,
    /// `open`, `resolved`, `retried`, `dismissed`, `decided` (one of the step's named choices), or `closed` (the
    /// run ended without a decision).
    pub status: String,
    /// JSON list of the decisions the item offers: `[{name, label, fields}]`.
    pub decisions: String,
    /// The decision made (`resolve`, `ship_partial`, …), once made.
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub note: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewAudit {
    pub at: i64,
    pub kind: String,
    pub run_id: Option<String>,
    pub event_id: Option<String>,
    pub workflow: Option<String>,
    pub step: Option<String>,
    pub attempt: Option<i64>,
    pub actor: Option<String>,
    pub detail: String,
    /// Extra structured data (JSON), such as an amount or a decision.
    pub data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    pub run_id: Option<String>,
    pub event_id: Option<String>,
    pub workflow: Option<String>,
    pub step: Option<String>,
    pub attempt: Option<i64>,
    pub actor: Option<String>,
    pub detail: String,
    pub data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerRow {
    pub seq: i64,
    pub idempotency_key: String,
    pub ledger: String,
    pub run_id: String,
    pub workflow: String,
    pub at: i64,
    /// JSON object.
    pub fields: String,
    pub shipped: bool,
}

/// Counts for `/metrics` and `/healthz`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub runs_by_status: Vec<(String, i64)>,
    pub events_by_status: Vec<(String, i64)>,
    pub inbox_open: i64,
    pub calls_pending: i64,
    pub dead_letters: i64,
    pub ledger_unshipped: i64,
    pub audit_entries: i64,
}

/// What a run listing filters on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    pub status: Option<String>,
    pub workflow: Option<String>,
    pub key: Option<String>,
    /// Only runs of these workflows (`None`: any workflow; an empty list: none), for a caller whose role sees
    /// some workflows only.
    pub workflows: Option<Vec<String>>,
    pub limit: i64,
}

/// What an inbox listing filters on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboxFilter {
    /// `None`: every status.
    pub status: Option<String>,
    /// Only items of these teams (`None`: any team; an empty list: none), for a caller whose role sees some
    /// teams only.
    pub teams: Option<Vec<String>>,
    pub limit: i64,
}

/// A person who signs in. The password is kept only as an Argon2id PHC string.
#[derive(Clone, PartialEq, Serialize)]
pub struct UserRow {
    /// Lowercased; the user's identity in sessions and in the audit log.
    pub email: String,
    /// `admin`, `finance`, `fulfillment` or `support`.
    pub role: String,
    #[serde(skip)]
    pub password_hash: String,
    pub created_at: i64,
    pub password_changed_at: i64,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("email", &self.email)
            .field("role", &self.role)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// An API token as stored: its name, role and times; the secret itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenRow {
    /// Unique for ever (a revoked token's name is not reused), so an audit entry's actor names one token.
    pub name: String,
    pub role: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A signed-in browser: the SHA-256 of its cookie's random id, whose session it is, and its CSRF token.
#[derive(Clone, PartialEq)]
pub struct SessionRow {
    pub id_hash: String,
    pub email: String,
    /// The user's role, read with the session (not stored in it: a role changed by an admin applies at once).
    pub role: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl std::fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRow")
            .field("email", &self.email)
            .field("role", &self.role)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The database. Methods outside a [`Tx`] each run in their own short transaction. The evidence tables' methods
/// are in [`EvidenceStore`].
#[async_trait::async_trait]
pub trait Store: EvidenceStore + Send + Sync + std::fmt::Debug {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Applies pending migrations (idempotent).
    async fn migrate(&self) -> Result<()>;
    /// `SELECT 1`.
    async fn ping(&self) -> Result<()>;
    async fn begin(&self) -> Result<Box<dyn Tx>>;

    /// Stores a batch of verified events in one transaction (group commit). Duplicates are reported, not errors.
    async fn insert_events(&self, events: &[NewEvent]) -> Result<Vec<Inserted>>;
    async fn insert_dead_letter(
        &self,
        source: &str,
        received_at: i64,
        reason: &str,
        body: &str,
    ) -> Result<i64>;
    async fn dead_letters(&self, limit: i64) -> Result<Vec<DeadLetter>>;
    async fn event(&self, source: &str, event_id: &str) -> Result<Option<StoredEvent>>;
    async fn count_events(&self) -> Result<i64>;

    /// Claims up to `limit` pending calls whose lease is free or expired: sets owner and `lease_until`, bumps the
    /// fence and the try count. The returned rows carry the new fence.
    async fn claim_calls(&self, owner: &str, now: i64, lease_secs: i64, limit: i64) -> Result<Vec<CallRow>>;
    async fn calls_for_run(&self, run_id: &str) -> Result<Vec<CallRow>>;

    async fn run(&self, id: &str) -> Result<Option<RunRow>>;
    async fn runs(&self, filter: &RunFilter) -> Result<Vec<RunRow>>;
    /// Live runs that have no wake-up time, for the reconciler.
    async fn runs_without_wakeup(&self, limit: i64) -> Result<Vec<RunRow>>;
    /// The earliest wake-up among live runs, so timer loops can sleep until then.
    async fn next_wake(&self) -> Result<Option<i64>>;

    async fn inbox(&self, status: Option<&str>, limit: i64) -> Result<Vec<InboxItem>>;
    /// Inbox items by status and team, soonest due first.
    async fn inbox_filtered(&self, filter: &InboxFilter) -> Result<Vec<InboxItem>>;
    async fn inbox_item(&self, id: &str) -> Result<Option<InboxItem>>;

    /// Audit entries at or after `since`, after sequence `after_seq`, oldest first.
    async fn audit(&self, since: Option<i64>, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>>;
    async fn audit_for_run(&self, run_id: &str) -> Result<Vec<AuditRow>>;

    async fn ledger_unshipped(&self, limit: i64) -> Result<Vec<LedgerRow>>;
    async fn ledger(&self, after_seq: i64, limit: i64) -> Result<Vec<LedgerRow>>;
    async fn mark_shipped(&self, seqs: &[i64]) -> Result<()>;

    async fn counts(&self) -> Result<Counts>;

    /// Keeps a workflow version's source. Storing the same (name, version) again with the same source is a no-op;
    /// with a different source it is refused (returns the stored source), so a version's meaning never changes
    /// under the runs pinned to it.
    async fn save_workflow(
        &self,
        name: &str,
        version: i64,
        source: &str,
        origin: &str,
        now: i64,
    ) -> Result<Option<String>>;
    /// Every stored workflow version: (name, version, source, origin).
    async fn workflows(&self) -> Result<Vec<(String, i64, String, String)>>;

    // ----- accounts and access (see `seam-web`'s `auth` and `session`) -----

    /// Adds a user; false (and nothing written) when the e-mail is taken.
    async fn insert_user(&self, user: &UserRow) -> Result<bool>;
    async fn user(&self, email: &str) -> Result<Option<UserRow>>;
    /// Every user, by e-mail.
    async fn users(&self) -> Result<Vec<UserRow>>;
    /// Removes a user and their sessions; false when there is no such user.
    async fn remove_user(&self, email: &str) -> Result<bool>;
    /// Replaces a user's password hash and ends their sessions; false when there is no such user.
    async fn set_password(&self, email: &str, password_hash: &str, now: i64) -> Result<bool>;

    /// Adds a token by the SHA-256 of its secret; false (and nothing written) when the name was ever used.
    async fn insert_token(&self, name: &str, role: &str, secret_hash: &str, now: i64) -> Result<bool>;
    /// The live (not revoked) token whose secret has this SHA-256.
    async fn token_by_secret_hash(&self, secret_hash: &str) -> Result<Option<TokenRow>>;
    /// Every token, revoked ones too, by name.
    async fn tokens(&self) -> Result<Vec<TokenRow>>;
    async fn touch_token(&self, name: &str, now: i64) -> Result<()>;
    /// Revokes a live token; false when there is no live token by that name.
    async fn revoke_token(&self, name: &str, now: i64) -> Result<bool>;

    async fn insert_session(&self, session: &SessionRow) -> Result<()>;
    /// The session whose id has this SHA-256, if it has not expired at `now`, with its user's current role.
    async fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRow>>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    /// Removes sessions that expired before `now`, and login failures older than `failures_before`.
    async fn delete_expired(&self, now: i64, failures_before: i64) -> Result<()>;

    /// The times of the failed sign-ins for (e-mail, address) at or after `since`, oldest first.
    async fn login_failures(&self, email: &str, address: &str, since: i64) -> Result<Vec<i64>>;
    async fn add_login_failure(&self, email: &str, address: &str, now: i64) -> Result<()>;
    async fn clear_login_failures(&self, email: &str, address: &str) -> Result<()>;
}

/// One transaction. Dropping it without [`Tx::commit`] rolls back.
#[async_trait::async_trait]
pub trait Tx: Send {
    /// Pending events, oldest first; on PostgreSQL locked with `SKIP LOCKED` so several nodes route different ones.
    async fn pending_events(&mut self, limit: i64) -> Result<Vec<StoredEvent>>;
    /// Moves a pending event to `status`; false if it was no longer pending (another node routed it).
    async fn set_event_status(&mut self, seq: i64, status: &str, now: i64) -> Result<bool>;
    /// Moves many pending events to `status` in one statement.
    async fn set_events_status(&mut self, seqs: &[i64], status: &str, now: i64) -> Result<()>;
    /// Serialises routing for one (workflow, key) until commit (PostgreSQL advisory lock; a no-op on SQLite).
    async fn lock_key(&mut self, workflow: &str, key: &str) -> Result<()>;
    /// The live (not finished) run for (workflow, key), locked.
    async fn live_run(&mut self, workflow: &str, key: &str) -> Result<Option<RunRow>>;
    async fn lock_run(&mut self, id: &str) -> Result<Option<RunRow>>;
    /// Replaces what a run waits for by value (`wait_for` with `match`): `event` is `source:type`; no values
    /// removes the run's rows.
    async fn set_run_waits(
        &mut self,
        run_id: &str,
        workflow: &str,
        event: &str,
        values: &[String],
    ) -> Result<()>;
    /// The runs of `workflow` waiting for `event` naming `value`, in id order.
    async fn runs_waiting(&mut self, workflow: &str, event: &str, value: &str) -> Result<Vec<String>>;
    /// A stored workflow version's (source, origin), for a run pinned to a version this process did not load.
    async fn workflow_source(&mut self, name: &str, version: i64) -> Result<Option<(String, String)>>;
    /// Whether any run, live or finished, exists for (workflow, key).
    async fn any_run(&mut self, workflow: &str, key: &str) -> Result<bool>;
    /// One live run whose wake-up time is due, locked (skipping runs another node holds).
    async fn due_run(&mut self, now: i64) -> Result<Option<RunRow>>;
    async fn insert_run(&mut self, row: &RunRow) -> Result<()>;
    /// Writes a transition if the run's fence is still `fence`, and bumps it. [`StoreError::Conflict`] otherwise.
    async fn update_run(&mut self, id: &str, fence: i64, update: &RunUpdate<'_>) -> Result<i64>;

    async fn add_early_event(&mut self, workflow: &str, key: &str, event: &str, at: i64) -> Result<()>;
    /// Removes and returns the events kept for a run that did not exist yet, oldest first.
    async fn take_early_events(&mut self, workflow: &str, key: &str) -> Result<Vec<String>>;

    /// Inserts a call; a call for the same (run, step, attempt) already stored is left as it is (returns false).
    /// Two attempts may share an idempotency key: a transient failure's retry repeats the same request.
    async fn insert_call(&mut self, call: &NewCall) -> Result<bool>;
    /// Records a call's outcome if `fence` is still the latest claim's. Returns false if another claim won. A call
    /// skipped because its run ended while the request was out is recorded too: it was made, and the audit says so.
    async fn finish_call(&mut self, id: i64, fence: i64, outcome: &str, now: i64) -> Result<bool>;
    async fn call_for_attempt(&mut self, run_id: &str, step: &str, attempt: i64) -> Result<Option<CallRow>>;
    /// Marks a finished run's pending calls `skipped`, so no worker makes them. Returns how many.
    async fn skip_pending_calls(&mut self, run_id: &str, now: i64) -> Result<u64>;

    async fn insert_inbox(&mut self, item: &InboxItem) -> Result<()>;
    async fn lock_inbox(&mut self, id: &str) -> Result<Option<InboxItem>>;
    async fn decide_inbox(
        &mut self,
        id: &str,
        status: &str,
        decision: &str,
        by: Option<&str>,
        note: Option<&str>,
        now: i64,
    ) -> Result<()>;
    /// Closes the run's open items (the run ended without a decision on them).
    async fn close_inbox_for_run(&mut self, run_id: &str, now: i64) -> Result<()>;
    /// Closes one open item (its run no longer waits for it).
    async fn close_inbox(&mut self, id: &str, now: i64) -> Result<()>;

    /// Appends audit entries; they are written at [`Tx::commit`], with the rest of the transaction.
    async fn append_audit(&mut self, entries: &[NewAudit]) -> Result<()>;
    /// Inserts a ledger entry; a duplicate idempotency key is ignored (returns false).
    async fn insert_ledger(
        &mut self,
        key: &str,
        ledger: &str,
        run_id: &str,
        workflow: &str,
        at: i64,
        fields: &str,
    ) -> Result<bool>;

    async fn commit(self: Box<Self>) -> Result<()>;
}
