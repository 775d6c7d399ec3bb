//! The store against both real databases: every test body runs once on a fresh SQLite file and once on a fresh
//! PostgreSQL database (`sqlite_<name>`, `postgres_<name>`); the concurrency tests that only mean something with
//! several connections (`SKIP LOCKED`, advisory locks, row locks) run on PostgreSQL only.
//!
//! SQLite has one writer connection: a body must commit (or drop) its [`Tx`] before calling a [`Store`] method,
//! or the second acquire waits for the first. On PostgreSQL a dropped (rolled-back) `Tx` keeps its row locks until
//! the pool flushes the rollback, so a body commits a transaction instead of dropping it when a later
//! `SKIP LOCKED` query must see those rows.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seam_store::testing::fresh_postgres;
use seam_store::{
    Counts, InboxFilter, InboxItem, Inserted, NewAudit, NewCall, NewEvent, RunFilter, RunRow, RunUpdate,
    SessionRow, Store, StoreError, UserRow,
};

// ---------------------------------------------------------------------------------------------------------------
// Harness

/// Runs `body` on a fresh SQLite file in a temporary directory.
async fn on_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Arc<dyn Store>, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite:{}", dir.path().join("seam.db").display());
    let store = seam_store::open(&url).await.expect("open sqlite");
    assert_eq!(store.backend(), "sqlite");
    body(store, url).await;
    drop(dir);
}

/// Runs `body` on a fresh PostgreSQL database, dropped when the body is done.
async fn on_postgres<F, Fut>(body: F)
where
    F: FnOnce(Arc<dyn Store>, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(pg) = fresh_postgres().await else { return };
    let store = seam_store::open(&pg.url).await.expect("open postgres");
    assert_eq!(store.backend(), "postgres");
    body(store, pg.url.clone()).await;
    drop(pg);
}

/// `both! { name => sqlite_name, postgres_name; }` defines both tests, each running `async fn name(store, url)`.
/// (No `paste` crate here, so the test names are spelled out.)
macro_rules! both {
    ($($body:ident => $sqlite:ident, $postgres:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            on_sqlite($body).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            on_postgres($body).await
        }
    )*};
}

/// `postgres_only! { name => postgres_name; }`.
macro_rules! postgres_only {
    ($($body:ident => $postgres:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            on_postgres($body).await
        }
    )*};
}

both! {
    migrations_apply_twice => sqlite_migrations_apply_twice, postgres_migrations_apply_twice;
    events_dedupe_on_source_and_id => sqlite_events_dedupe_on_source_and_id,
        postgres_events_dedupe_on_source_and_id;
    concurrent_batches_store_each_event_once => sqlite_concurrent_batches_store_each_event_once,
        postgres_concurrent_batches_store_each_event_once;
    pending_events_in_seq_order => sqlite_pending_events_in_seq_order, postgres_pending_events_in_seq_order;
    dead_letters_newest_first => sqlite_dead_letters_newest_first, postgres_dead_letters_newest_first;
    update_run_checks_and_bumps_fence => sqlite_update_run_checks_and_bumps_fence,
        postgres_update_run_checks_and_bumps_fence;
    one_live_run_per_workflow_key => sqlite_one_live_run_per_workflow_key,
        postgres_one_live_run_per_workflow_key;
    due_run_only_live_and_due => sqlite_due_run_only_live_and_due, postgres_due_run_only_live_and_due;
    runs_listing_filters => sqlite_runs_listing_filters, postgres_runs_listing_filters;
    early_events_taken_once_in_order => sqlite_early_events_taken_once_in_order,
        postgres_early_events_taken_once_in_order;
    insert_call_keeps_first => sqlite_insert_call_keeps_first, postgres_insert_call_keeps_first;
    claim_calls_lease_and_fence => sqlite_claim_calls_lease_and_fence, postgres_claim_calls_lease_and_fence;
    skipped_calls_are_never_made => sqlite_skipped_calls_are_never_made, postgres_skipped_calls_are_never_made;
    workflow_versions_never_change => sqlite_workflow_versions_never_change,
        postgres_workflow_versions_never_change;
    audit_is_append_only_and_filters => sqlite_audit_is_append_only_and_filters,
        postgres_audit_is_append_only_and_filters;
    ledger_dedupes_and_ships => sqlite_ledger_dedupes_and_ships, postgres_ledger_dedupes_and_ships;
    inbox_lifecycle => sqlite_inbox_lifecycle, postgres_inbox_lifecycle;
    counts_reflect_every_table => sqlite_counts_reflect_every_table, postgres_counts_reflect_every_table;
    inbox_listing_by_team => sqlite_inbox_listing_by_team, postgres_inbox_listing_by_team;
    users_tokens_and_sessions => sqlite_users_tokens_and_sessions, postgres_users_tokens_and_sessions;
    login_failures_count_per_email_and_address => sqlite_login_failures_count_per_email_and_address,
        postgres_login_failures_count_per_email_and_address;
}

postgres_only! {
    due_run_skips_locked_runs => postgres_due_run_skips_locked_runs;
    pending_events_skip_locked_events => postgres_pending_events_skip_locked_events;
    lock_run_waits_and_sees_new_fence => postgres_lock_run_waits_and_sees_new_fence;
    concurrent_claims_never_share_a_call => postgres_concurrent_claims_never_share_a_call;
    lock_key_serialises_one_workflow_key => postgres_lock_key_serialises_one_workflow_key;
    take_early_events_loses_none_added_meanwhile => postgres_take_early_events_loses_none_added_meanwhile;
    save_workflow_refuses_a_concurrent_different_source =>
        postgres_save_workflow_refuses_a_concurrent_different_source;
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

fn event(source: &str, event_id: &str, payload: &str) -> NewEvent {
    NewEvent {
        source: source.into(),
        event_id: event_id.into(),
        event_type: "invoice.paid".into(),
        payload: payload.into(),
        received_at: 1_000,
        status: "pending".into(),
    }
}

fn run(id: &str, workflow: &str, key: Option<&str>, status: &str, wake_at: Option<i64>) -> RunRow {
    RunRow {
        id: id.into(),
        workflow: workflow.into(),
        version: 1,
        key: key.map(Into::into),
        status: status.into(),
        state: format!("{{\"run\":\"{id}\"}}"),
        wake_at,
        fence: 0,
        created_at: 100,
        updated_at: 100,
    }
}

fn update<'a>(status: &'a str, key: Option<&'a str>, state: &'a str, wake_at: Option<i64>) -> RunUpdate<'a> {
    RunUpdate { status, key, state, wake_at, now: 500 }
}

fn call(run_id: &str, step: &str, attempt: i64, key: &str, args: &str) -> NewCall {
    NewCall {
        run_id: run_id.into(),
        step: step.into(),
        attempt,
        idempotency_key: key.into(),
        action: "http.post".into(),
        args: args.into(),
        created_at: 100,
    }
}

fn inbox_item(id: &str, run_id: &str, due_at: i64) -> InboxItem {
    InboxItem {
        id: id.into(),
        run_id: run_id.into(),
        workflow: "refunds".into(),
        step: "approve".into(),
        team: "finance".into(),
        assignee: "bob".into(),
        zone: "amber".into(),
        title: format!("item {id}"),
        context: "{\"amount\":12}".into(),
        due_at,
        status: "open".into(),
        decisions: r#"[{"name":"resolve","label":"resolve","fields":{}}]"#.into(),
        decision: None,
        decided_by: None,
        decided_at: None,
        note: None,
        created_at: 100,
    }
}

fn audit(at: i64, kind: &str, run_id: Option<&str>) -> NewAudit {
    NewAudit {
        at,
        kind: kind.into(),
        run_id: run_id.map(Into::into),
        detail: format!("{kind} at {at}"),
        data: Some("{\"n\":1}".into()),
        ..NewAudit::default()
    }
}

async fn insert_runs(store: &Arc<dyn Store>, rows: &[RunRow]) {
    let mut tx = store.begin().await.unwrap();
    for row in rows {
        tx.insert_run(row).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// Inserts calls (one transaction) and returns their ids in insertion order.
async fn insert_calls(store: &Arc<dyn Store>, run_id: &str, count: usize) -> Vec<i64> {
    let mut tx = store.begin().await.unwrap();
    for n in 0..count {
        let step = format!("step-{n}");
        assert!(tx.insert_call(&call(run_id, &step, 1, &format!("{run_id}-k{n}"), "{}")).await.unwrap());
    }
    tx.commit().await.unwrap();
    let ids: Vec<i64> = store.calls_for_run(run_id).await.unwrap().iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), count);
    ids
}

/// Executes one statement on a connection of our own, outside the store's interface.
async fn raw_execute(url: &str, sql: &'static str) -> Result<u64, sqlx::Error> {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let done = sqlx::query(sql).execute(&pool).await.map(|done| done.rows_affected());
        pool.close().await;
        done
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        let done = sqlx::query(sql).execute(&pool).await.map(|done| done.rows_affected());
        pool.close().await;
        done
    }
}

/// Waits (up to 20 s, polling) until `sql` on a separate connection returns `want`.
async fn pg_wait_for(url: &str, sql: &'static str, want: i64) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    for _ in 0..400 {
        let got: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        if got == want {
            pool.close().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{sql} never returned {want}");
}

const WAITING_ON_ADVISORY: &str = "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = \
     (SELECT oid FROM pg_database WHERE datname = current_database())";
const WAITING_ON_ROW: &str = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
     AND wait_event_type = 'Lock' AND query LIKE 'SELECT id, workflow%'";

// ---------------------------------------------------------------------------------------------------------------
// Both backends

async fn migrations_apply_twice(store: Arc<dyn Store>, url: String) {
    assert_eq!(store.insert_events(&[event("stripe", "evt_1", "{}")]).await.unwrap().len(), 1);
    store.migrate().await.expect("migrate again on the open store");

    let again = seam_store::open(&url).await.expect("open the same database a second time");
    again.migrate().await.expect("and migrate once more");
    again.ping().await.unwrap();
    assert_eq!(again.backend(), store.backend());
    assert_eq!(again.count_events().await.unwrap(), 1, "reopening keeps the data");
    assert_eq!(again.event("stripe", "evt_1").await.unwrap().unwrap().status, "pending");
}

async fn events_dedupe_on_source_and_id(store: Arc<dyn Store>, _url: String) {
    let first = store
        .insert_events(&[
            event("stripe", "evt_1", "{\"v\":1}"),
            event("stripe", "evt_2", "{}"),
            event("stripe", "evt_1", "{\"v\":2}"),
            event("github", "evt_1", "{\"gh\":true}"),
        ])
        .await
        .unwrap();
    let seqs: Vec<i64> = first
        .iter()
        .filter_map(|inserted| match inserted {
            Inserted::New(seq) => Some(*seq),
            Inserted::Duplicate => None,
        })
        .collect();
    assert_eq!(first[2], Inserted::Duplicate, "same (source, id) twice in one batch: {first:?}");
    assert!(matches!(first[0], Inserted::New(_)) && matches!(first[1], Inserted::New(_)), "{first:?}");
    assert!(matches!(first[3], Inserted::New(_)), "same id from another source is new: {first:?}");
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "seqs grow: {seqs:?}");

    let second = store
        .insert_events(&[event("stripe", "evt_1", "{\"v\":3}"), event("stripe", "evt_3", "{}")])
        .await
        .unwrap();
    assert_eq!(second[0], Inserted::Duplicate, "redelivery in a later batch");
    let Inserted::New(seq3) = second[1] else { panic!("evt_3 is new: {second:?}") };
    assert!(seq3 > *seqs.last().unwrap());

    assert_eq!(store.count_events().await.unwrap(), 4);
    let stored = store.event("stripe", "evt_1").await.unwrap().unwrap();
    assert_eq!(stored.payload, "{\"v\":1}", "the first delivery is kept");
    assert_eq!(stored.seq, seqs[0]);
    assert_eq!(stored.status, "pending");
    assert_eq!(stored.event_type, "invoice.paid");
    assert_eq!(store.event("github", "evt_1").await.unwrap().unwrap().payload, "{\"gh\":true}");
    assert_eq!(store.event("github", "evt_2").await.unwrap(), None);
}

async fn concurrent_batches_store_each_event_once(store: Arc<dyn Store>, _url: String) {
    let batch: Vec<NewEvent> = (0..20).map(|n| event("stripe", &format!("evt_{n}"), "{}")).collect();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            let batch = batch.clone();
            tokio::spawn(async move { store.insert_events(&batch).await.unwrap() })
        })
        .collect();
    let mut new_per_event = [0; 20];
    for task in tasks {
        for (n, inserted) in task.await.unwrap().into_iter().enumerate() {
            if matches!(inserted, Inserted::New(_)) {
                new_per_event[n] += 1;
            }
        }
    }
    assert_eq!(new_per_event, [1; 20], "each event is new for exactly one of the batches");
    assert_eq!(store.count_events().await.unwrap(), 20);
}

async fn pending_events_in_seq_order(store: Arc<dyn Store>, _url: String) {
    let mut unmatched = event("z", "1", "{}");
    unmatched.status = "unmatched".into();
    let inserted = store
        .insert_events(&[
            event("a", "1", "{}"),
            event("b", "1", "{}"),
            unmatched,
            event("a", "2", "{}"),
            event("c", "9", "{}"),
        ])
        .await
        .unwrap();
    let seqs: Vec<i64> = inserted
        .iter()
        .map(|inserted| match inserted {
            Inserted::New(seq) => *seq,
            Inserted::Duplicate => panic!("all new"),
        })
        .collect();
    assert_eq!(store.event("z", "1").await.unwrap().unwrap().status, "unmatched", "stored for the record");
    let seqs = [seqs[0], seqs[1], seqs[3], seqs[4]];

    let mut tx = store.begin().await.unwrap();
    let pending = tx.pending_events(10).await.unwrap();
    assert_eq!(pending.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs);
    assert!(pending.iter().all(|e| e.status == "pending"));
    assert_eq!((pending[1].source.as_str(), pending[1].event_id.as_str()), ("b", "1"));
    let first_two = tx.pending_events(2).await.unwrap();
    assert_eq!(first_two.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs[..2]);
    tx.set_event_status(seqs[0], "routed", 2_000).await.unwrap();
    tx.set_event_status(seqs[2], "unmatched", 2_000).await.unwrap();
    let in_tx = tx.pending_events(10).await.unwrap();
    assert_eq!(in_tx.iter().map(|e| e.seq).collect::<Vec<_>>(), [seqs[1], seqs[3]]);
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let pending = tx.pending_events(10).await.unwrap();
    assert_eq!(pending.iter().map(|e| e.seq).collect::<Vec<_>>(), [seqs[1], seqs[3]]);
    tx.commit().await.unwrap();

    // A change that is not committed is rolled back. (Only plain reads after a dropped transaction: on
    // PostgreSQL its row locks live until the pool flushes the rollback, and `SKIP LOCKED` would skip them.)
    let mut tx = store.begin().await.unwrap();
    tx.set_event_status(seqs[1], "routed", 2_001).await.unwrap();
    drop(tx);
    assert_eq!(store.event("a", "1").await.unwrap().unwrap().status, "routed");
    assert_eq!(store.event("a", "2").await.unwrap().unwrap().status, "unmatched");
    assert_eq!(store.event("b", "1").await.unwrap().unwrap().status, "pending");
}

async fn dead_letters_newest_first(store: Arc<dyn Store>, _url: String) {
    let first = store.insert_dead_letter("stripe", 10, "bad signature", "body-1").await.unwrap();
    let second = store.insert_dead_letter("github", 20, "no such source", "body-2").await.unwrap();
    assert!(second > first);
    let letters = store.dead_letters(10).await.unwrap();
    assert_eq!(letters.iter().map(|d| d.id).collect::<Vec<_>>(), [second, first]);
    assert_eq!(
        (
            letters[1].source.as_str(),
            letters[1].received_at,
            letters[1].reason.as_str(),
            letters[1].body.as_str()
        ),
        ("stripe", 10, "bad signature", "body-1")
    );
    assert_eq!(store.dead_letters(1).await.unwrap().len(), 1);
}

async fn update_run_checks_and_bumps_fence(store: Arc<dyn Store>, _url: String) {
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.lock_run("r1").await.unwrap(), None);
    tx.insert_run(&run("r1", "refunds", Some("cus_1"), "not_started", Some(150))).await.unwrap();
    tx.commit().await.unwrap();
    let inserted = store.run("r1").await.unwrap().unwrap();
    assert_eq!(inserted, run("r1", "refunds", Some("cus_1"), "not_started", Some(150)));

    let mut tx = store.begin().await.unwrap();
    let locked = tx.lock_run("r1").await.unwrap().unwrap();
    assert_eq!(locked.fence, 0);
    let fence =
        tx.update_run("r1", locked.fence, &update("running", Some("cus_1"), "{\"s\":1}", Some(300))).await;
    assert_eq!(fence.unwrap(), 1);
    tx.commit().await.unwrap();

    let after = store.run("r1").await.unwrap().unwrap();
    assert_eq!(
        (after.status.as_str(), after.state.as_str(), after.wake_at, after.fence, after.updated_at),
        ("running", "{\"s\":1}", Some(300), 1, 500)
    );
    assert_eq!(after.created_at, 100);

    // A writer still holding fence 0 loses and writes nothing.
    let mut tx = store.begin().await.unwrap();
    let stale = tx.update_run("r1", 0, &update("failed", None, "{\"stale\":true}", None)).await;
    match stale {
        Err(StoreError::Conflict(id)) => assert_eq!(id, "r1"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    tx.commit().await.unwrap();
    assert_eq!(store.run("r1").await.unwrap().unwrap(), after, "the stale update changed nothing");

    // The current fence works, and can change the key.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.update_run("r1", 1, &update("succeeded", Some("cus_2"), "{}", None)).await.unwrap(), 2);
    assert!(matches!(
        tx.update_run("no-such-run", 0, &update("running", None, "{}", None)).await,
        Err(StoreError::Conflict(_))
    ));
    tx.commit().await.unwrap();
    let done = store.run("r1").await.unwrap().unwrap();
    assert_eq!(
        (done.status.as_str(), done.key.as_deref(), done.fence, done.wake_at),
        ("succeeded", Some("cus_2"), 2, None)
    );
}

async fn one_live_run_per_workflow_key(store: Arc<dyn Store>, _url: String) {
    insert_runs(&store, &[run("r1", "refunds", Some("k"), "running", None)]).await;

    // A second live run for the same (workflow, key) is refused, whatever its live status.
    for status in ["running", "not_started"] {
        let mut tx = store.begin().await.unwrap();
        let refused = tx.insert_run(&run("r2", "refunds", Some("k"), status, None)).await;
        match refused {
            Err(StoreError::Db(error)) => {
                assert!(error.to_string().to_lowercase().contains("unique"), "{error}")
            }
            other => panic!("a second live run for (refunds, k) as {status} was accepted: {other:?}"),
        }
        drop(tx);
    }

    // Other workflows, other keys, keyless runs and finished runs are not constrained.
    insert_runs(
        &store,
        &[
            run("r3", "payouts", Some("k"), "running", None),
            run("r4", "refunds", Some("other"), "running", None),
            run("r5", "refunds", None, "running", None),
            run("r6", "refunds", None, "running", None),
            run("r7", "refunds", Some("k"), "failed", None),
        ],
    )
    .await;

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.live_run("refunds", "k").await.unwrap().unwrap().id, "r1");
    assert_eq!(tx.live_run("refunds", "nobody").await.unwrap(), None);
    tx.update_run("r1", 0, &update("succeeded", Some("k"), "{}", None)).await.unwrap();
    assert_eq!(tx.live_run("refunds", "k").await.unwrap(), None, "finished runs are not live");
    tx.insert_run(&run("r2", "refunds", Some("k"), "not_started", None)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let live = tx.live_run("refunds", "k").await.unwrap().unwrap();
    assert_eq!((live.id.as_str(), live.status.as_str()), ("r2", "not_started"));
    drop(tx);
    assert_eq!(store.run("r1").await.unwrap().unwrap().status, "succeeded");
}

async fn due_run_only_live_and_due(store: Arc<dyn Store>, _url: String) {
    insert_runs(
        &store,
        &[
            run("due-a", "w", Some("a"), "running", Some(100)),
            run("due-b", "w", Some("b"), "not_started", Some(150)),
            run("future", "w", Some("c"), "running", Some(151)),
            run("finished", "w", Some("d"), "succeeded", Some(10)),
            run("cancelled", "w", Some("e"), "cancelled", Some(10)),
            run("sleepless", "w", Some("f"), "running", None),
        ],
    )
    .await;
    assert_eq!(store.next_wake().await.unwrap(), Some(100), "only live runs count");

    let mut handled = BTreeSet::new();
    for _ in 0..2 {
        let mut tx = store.begin().await.unwrap();
        let due = tx.due_run(150).await.unwrap().expect("a due run");
        assert!(["due-a", "due-b"].contains(&due.id.as_str()), "{} is not due at 150", due.id);
        assert!(handled.insert(due.id.clone()), "{} came back after it was handled", due.id);
        tx.update_run(&due.id, due.fence, &update("running", due.key.as_deref(), "{}", Some(1_000)))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.due_run(150).await.unwrap(), None, "nothing else is due at 150");
    assert_eq!(tx.due_run(151).await.unwrap().unwrap().id, "future", "wake_at <= now is due");
    drop(tx);

    assert_eq!(store.next_wake().await.unwrap(), Some(151));
    let sleepless = store.runs_without_wakeup(10).await.unwrap();
    assert_eq!(sleepless.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["sleepless"]);
}

async fn runs_listing_filters(store: Arc<dyn Store>, _url: String) {
    let mut rows = vec![
        run("r1", "refunds", Some("a"), "running", None),
        run("r2", "refunds", Some("b"), "succeeded", None),
        run("r3", "payouts", Some("a"), "running", None),
    ];
    for (n, row) in rows.iter_mut().enumerate() {
        row.created_at = 100 + n as i64;
    }
    insert_runs(&store, &rows).await;

    let ids = |found: Vec<RunRow>| found.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(store.runs(&RunFilter::default()).await.unwrap()), ["r3", "r2", "r1"], "newest first");
    let running = RunFilter { status: Some("running".into()), ..RunFilter::default() };
    assert_eq!(ids(store.runs(&running).await.unwrap()), ["r3", "r1"]);
    let refunds = RunFilter { workflow: Some("refunds".into()), ..RunFilter::default() };
    assert_eq!(ids(store.runs(&refunds).await.unwrap()), ["r2", "r1"]);
    let key_a = RunFilter { key: Some("a".into()), workflow: Some("payouts".into()), ..RunFilter::default() };
    assert_eq!(ids(store.runs(&key_a).await.unwrap()), ["r3"]);
    let one = RunFilter { limit: 1, ..RunFilter::default() };
    assert_eq!(ids(store.runs(&one).await.unwrap()), ["r3"]);
    // A role's view: only the runs of some workflows; none at all for an empty list, whatever else is asked.
    let seen = RunFilter { workflows: Some(vec!["payouts".into(), "other".into()]), ..RunFilter::default() };
    assert_eq!(ids(store.runs(&seen).await.unwrap()), ["r3"]);
    let widened = RunFilter { workflow: Some("refunds".into()), ..seen.clone() };
    assert!(store.runs(&widened).await.unwrap().is_empty(), "a filter cannot widen the view");
    let nothing = RunFilter { workflows: Some(Vec::new()), ..RunFilter::default() };
    assert!(store.runs(&nothing).await.unwrap().is_empty());
    assert_eq!(store.run("nope").await.unwrap(), None);
}

async fn inbox_listing_by_team(store: Arc<dyn Store>, _url: String) {
    insert_runs(&store, &[run("r1", "refunds", Some("a"), "running", None)]).await;
    let mut tx = store.begin().await.unwrap();
    for (id, team, due) in [("i1", "finance", 300), ("i2", "support", 200), ("i3", "finance", 100)] {
        tx.insert_inbox(&InboxItem { team: team.into(), ..inbox_item(id, "r1", due) }).await.unwrap();
    }
    tx.decide_inbox("i3", "resolved", "resolve", Some("ana"), None, 150).await.unwrap();
    tx.commit().await.unwrap();
    let ids = |found: Vec<InboxItem>| found.into_iter().map(|i| i.id).collect::<Vec<_>>();
    let list = |status: Option<&str>, teams: Option<Vec<&str>>| InboxFilter {
        status: status.map(str::to_owned),
        teams: teams.map(|teams| teams.into_iter().map(str::to_owned).collect()),
        limit: 10,
    };
    assert_eq!(
        ids(store.inbox_filtered(&list(None, None)).await.unwrap()),
        ["i3", "i2", "i1"],
        "soonest due first"
    );
    assert_eq!(ids(store.inbox_filtered(&list(Some("open"), None)).await.unwrap()), ["i2", "i1"]);
    assert_eq!(ids(store.inbox_filtered(&list(None, Some(vec!["finance"]))).await.unwrap()), ["i3", "i1"]);
    assert_eq!(ids(store.inbox_filtered(&list(Some("open"), Some(vec!["finance"]))).await.unwrap()), ["i1"]);
    assert!(store.inbox_filtered(&list(None, Some(vec![]))).await.unwrap().is_empty());
}

async fn users_tokens_and_sessions(store: Arc<dyn Store>, _url: String) {
    let user = |email: &str, role: &str| UserRow {
        email: email.into(),
        role: role.into(),
        password_hash: format!("$argon2id$hash-of-{email}"),
        created_at: 100,
        password_changed_at: 100,
    };
    assert!(store.insert_user(&user("ana@brand.example", "finance")).await.unwrap());
    assert!(!store.insert_user(&user("ana@brand.example", "admin")).await.unwrap(), "a taken e-mail");
    assert!(store.insert_user(&user("bo@brand.example", "support")).await.unwrap());
    let emails: Vec<String> = store.users().await.unwrap().into_iter().map(|u| u.email).collect();
    assert_eq!(emails, ["ana@brand.example", "bo@brand.example"]);
    assert_eq!(store.user("ana@brand.example").await.unwrap().unwrap().role, "finance");

    // Tokens: found by the hash of their secret while live; a name is never reused; revoked once.
    assert!(store.insert_token("ci", "admin", "hash-ci", 100).await.unwrap());
    assert!(!store.insert_token("ci", "support", "hash-other", 101).await.unwrap());
    assert_eq!(store.token_by_secret_hash("hash-ci").await.unwrap().unwrap().name, "ci");
    assert!(store.token_by_secret_hash("hash-other").await.unwrap().is_none());
    store.touch_token("ci", 150).await.unwrap();
    assert_eq!(store.tokens().await.unwrap()[0].last_used_at, Some(150));
    assert!(store.revoke_token("ci", 200).await.unwrap());
    assert!(!store.revoke_token("ci", 201).await.unwrap(), "already revoked");
    assert!(store.token_by_secret_hash("hash-ci").await.unwrap().is_none());
    assert!(!store.insert_token("ci", "admin", "hash-new", 202).await.unwrap(), "a revoked name stays taken");
    assert_eq!(store.tokens().await.unwrap()[0].revoked_at, Some(200));

    // Sessions: read with the user's current role until they expire; ended by a new password or removal.
    let session = |id: &str, email: &str, expires_at: i64| SessionRow {
        id_hash: id.into(),
        email: email.into(),
        role: String::new(),
        csrf_token: format!("csrf-{id}"),
        created_at: 100,
        expires_at,
    };
    for row in [session("s1", "ana@brand.example", 1000), session("s2", "ana@brand.example", 500)] {
        store.insert_session(&row).await.unwrap();
    }
    store.insert_session(&session("s3", "bo@brand.example", 1000)).await.unwrap();
    let found = store.session("s1", 400).await.unwrap().unwrap();
    assert_eq!(
        (found.email.as_str(), found.role.as_str(), found.csrf_token.as_str()),
        ("ana@brand.example", "finance", "csrf-s1")
    );
    assert!(store.session("s2", 500).await.unwrap().is_none(), "expired");
    store.delete_expired(600, 0).await.unwrap();
    assert!(store.session("s2", 0).await.unwrap().is_none(), "expired sessions are removed");
    assert!(store.session("s1", 0).await.unwrap().is_some());
    store.delete_session("s1").await.unwrap();
    assert!(store.session("s1", 400).await.unwrap().is_none());
    store.insert_session(&session("s4", "ana@brand.example", 1000)).await.unwrap();
    assert!(store.set_password("ana@brand.example", "$argon2id$new", 300).await.unwrap());
    assert!(store.session("s4", 400).await.unwrap().is_none(), "a new password ends the sessions");
    assert_eq!(store.user("ana@brand.example").await.unwrap().unwrap().password_hash, "$argon2id$new");
    assert!(!store.set_password("zed@brand.example", "x", 300).await.unwrap());
    assert!(store.remove_user("bo@brand.example").await.unwrap());
    assert!(store.session("s3", 400).await.unwrap().is_none(), "removing a user ends their sessions");
    assert!(!store.remove_user("bo@brand.example").await.unwrap());
}

async fn login_failures_count_per_email_and_address(store: Arc<dyn Store>, _url: String) {
    for at in [100, 200, 300] {
        store.add_login_failure("ana@brand.example", "203.0.113.1", at).await.unwrap();
    }
    store.add_login_failure("ana@brand.example", "203.0.113.2", 250).await.unwrap();
    store.add_login_failure("bo@brand.example", "203.0.113.1", 250).await.unwrap();
    assert_eq!(store.login_failures("ana@brand.example", "203.0.113.1", 150).await.unwrap(), [200, 300]);
    store.delete_expired(0, 250).await.unwrap();
    assert_eq!(store.login_failures("ana@brand.example", "203.0.113.1", 0).await.unwrap(), [300]);
    store.clear_login_failures("ana@brand.example", "203.0.113.1").await.unwrap();
    assert!(store.login_failures("ana@brand.example", "203.0.113.1", 0).await.unwrap().is_empty());
    assert_eq!(store.login_failures("bo@brand.example", "203.0.113.1", 0).await.unwrap(), [250]);
}

async fn early_events_taken_once_in_order(store: Arc<dyn Store>, _url: String) {
    let mut tx = store.begin().await.unwrap();
    tx.add_early_event("refunds", "k", "e1", 10).await.unwrap();
    tx.add_early_event("refunds", "other", "e-other", 11).await.unwrap();
    tx.add_early_event("refunds", "k", "e2", 9).await.unwrap();
    tx.add_early_event("payouts", "k", "e-payout", 12).await.unwrap();
    tx.add_early_event("refunds", "k", "e3", 13).await.unwrap();
    tx.commit().await.unwrap();

    // Taken in a transaction that rolls back: still there afterwards.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.take_early_events("refunds", "k").await.unwrap(), ["e1", "e2", "e3"]);
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.take_early_events("refunds", "k").await.unwrap(), ["e1", "e2", "e3"], "in arrival order");
    assert!(tx.take_early_events("refunds", "k").await.unwrap().is_empty(), "gone within the transaction");
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(tx.take_early_events("refunds", "k").await.unwrap().is_empty(), "gone after commit");
    assert_eq!(tx.take_early_events("refunds", "other").await.unwrap(), ["e-other"]);
    assert_eq!(tx.take_early_events("payouts", "k").await.unwrap(), ["e-payout"]);
    assert!(tx.take_early_events("payouts", "k").await.unwrap().is_empty());
    tx.commit().await.unwrap();
}

async fn insert_call_keeps_first(store: Arc<dyn Store>, _url: String) {
    let mut tx = store.begin().await.unwrap();
    assert!(tx.insert_call(&call("r1", "charge", 1, "idem-1", "{\"first\":true}")).await.unwrap());
    let again = call("r1", "charge", 1, "idem-other", "{\"second\":true}");
    assert!(!tx.insert_call(&again).await.unwrap(), "same (run, step, attempt)");
    let retry = call("r1", "charge", 2, "idem-1", "{\"retry\":true}");
    assert!(tx.insert_call(&retry).await.unwrap(), "a retry is a new attempt and may repeat the key");
    assert!(tx.insert_call(&call("r1", "refund", 1, "idem-2", "{}")).await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(
        !tx.insert_call(&call("r1", "charge", 1, "idem-1", "{\"third\":true}")).await.unwrap(),
        "later too"
    );
    assert!(tx.insert_call(&call("r2", "charge", 1, "idem-1", "{}")).await.unwrap(), "another run's attempt");
    let stored = tx.call_for_attempt("r1", "charge", 1).await.unwrap().unwrap();
    let retried = tx.call_for_attempt("r1", "charge", 2).await.unwrap().unwrap();
    assert_eq!(tx.call_for_attempt("r1", "charge", 3).await.unwrap(), None);
    assert_eq!(tx.call_for_attempt("r9", "charge", 1).await.unwrap(), None);
    tx.commit().await.unwrap();

    assert_eq!(
        (
            stored.run_id.as_str(),
            stored.args.as_str(),
            stored.idempotency_key.as_str(),
            stored.action.as_str()
        ),
        ("r1", "{\"first\":true}", "idem-1", "http.post"),
        "the first insert is kept"
    );
    assert_eq!(
        (stored.status.as_str(), stored.fence, stored.tries, stored.outcome.as_deref()),
        ("pending", 0, 0, None)
    );
    assert_eq!((retried.attempt, retried.args.as_str()), (2, "{\"retry\":true}"));
    let calls = store.calls_for_run("r1").await.unwrap();
    let attempts: Vec<_> =
        calls.iter().map(|c| (c.step.as_str(), c.attempt, c.idempotency_key.as_str())).collect();
    assert_eq!(attempts, [("charge", 1, "idem-1"), ("charge", 2, "idem-1"), ("refund", 1, "idem-2")]);
    assert_eq!(calls[0], stored);
    assert_eq!(store.calls_for_run("r2").await.unwrap().len(), 1);
}

async fn claim_calls_lease_and_fence(store: Arc<dyn Store>, _url: String) {
    let ids = insert_calls(&store, "r1", 3).await;

    let first = store.claim_calls("w1", 1_000, 30, 2).await.unwrap();
    assert_eq!(first.iter().map(|c| c.id).collect::<Vec<_>>(), ids[..2], "oldest first, up to the limit");
    assert!(first.iter().all(|c| c.fence == 1 && c.tries == 1 && c.status == "pending"), "{first:?}");

    let second = store.claim_calls("w2", 1_010, 30, 10).await.unwrap();
    assert_eq!(second.iter().map(|c| c.id).collect::<Vec<_>>(), ids[2..], "leased calls are not claimable");
    assert!(store.claim_calls("w2", 1_029, 30, 10).await.unwrap().is_empty(), "every lease still runs");

    // w1's lease ended at 1030: its calls can be claimed again, with a new fence.
    let reclaimed = store.claim_calls("w3", 1_030, 30, 10).await.unwrap();
    assert_eq!(reclaimed.iter().map(|c| c.id).collect::<Vec<_>>(), ids[..2]);
    assert!(reclaimed.iter().all(|c| c.fence == 2 && c.tries == 2), "{reclaimed:?}");

    let mut tx = store.begin().await.unwrap();
    assert!(!tx.finish_call(ids[0], 1, "{\"late\":true}", 1_040).await.unwrap(), "w1's fence is stale");
    assert!(tx.finish_call(ids[0], 2, "{\"ok\":true}", 1_041).await.unwrap(), "w3 holds the latest claim");
    assert!(!tx.finish_call(ids[0], 2, "{\"twice\":true}", 1_042).await.unwrap(), "already done");
    tx.commit().await.unwrap();

    let calls = store.calls_for_run("r1").await.unwrap();
    assert_eq!(
        (calls[0].status.as_str(), calls[0].outcome.as_deref(), calls[0].fence),
        ("done", Some("{\"ok\":true}"), 2)
    );
    assert_eq!(calls[1].status, "pending");

    // Long after every lease: the done call is never handed out again.
    let late = store.claim_calls("w4", 10_000, 30, 10).await.unwrap();
    assert_eq!(late.iter().map(|c| c.id).collect::<Vec<_>>(), ids[1..]);
    assert_eq!(late.iter().map(|c| c.fence).collect::<Vec<_>>(), [3, 2]);
}

async fn skipped_calls_are_never_made(store: Arc<dyn Store>, _url: String) {
    let ids = insert_calls(&store, "r1", 3).await;
    let other = insert_calls(&store, "r2", 1).await;
    let claimed = store.claim_calls("w1", 1_000, 30, 1).await.unwrap();
    assert_eq!(claimed.iter().map(|c| c.id).collect::<Vec<_>>(), ids[..1]);
    let second = store.claim_calls("w1", 1_000, 30, 1).await.unwrap();
    assert_eq!(second.iter().map(|c| c.id).collect::<Vec<_>>(), ids[1..2]);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.finish_call(ids[1], second[0].fence, "{}", 1_001).await.unwrap());
    tx.commit().await.unwrap();

    // r1 finished: its pending calls, claimed or not, are skipped; r2's are untouched.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.skip_pending_calls("r1", 1_002).await.unwrap(), 2);
    assert_eq!(tx.skip_pending_calls("r1", 1_003).await.unwrap(), 0, "only pending calls");
    tx.commit().await.unwrap();

    let calls = store.calls_for_run("r1").await.unwrap();
    assert_eq!(calls.iter().map(|c| c.status.as_str()).collect::<Vec<_>>(), ["skipped", "done", "skipped"]);
    // A call that was already out when its run ended was made: its outcome is kept (the audit says the run did
    // not take it). A stale claim still cannot write.
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.finish_call(ids[0], claimed[0].fence - 1, "{}", 1_004).await.unwrap(), "stale fence");
    assert!(tx.finish_call(ids[0], claimed[0].fence, "{\"made\":true}", 1_004).await.unwrap());
    tx.commit().await.unwrap();
    let first = &store.calls_for_run("r1").await.unwrap()[0];
    assert_eq!((first.status.as_str(), first.outcome.as_deref()), ("done", Some("{\"made\":true}")));
    // A skipped call nobody claimed is never handed out.
    assert_eq!(store.calls_for_run("r1").await.unwrap()[2].status, "skipped");

    let late = store.claim_calls("w2", 10_000, 30, 10).await.unwrap();
    assert_eq!(late.iter().map(|c| c.id).collect::<Vec<_>>(), other, "only r2's call is claimable");
    assert_eq!(store.counts().await.unwrap().calls_pending, 1);
}

async fn workflow_versions_never_change(store: Arc<dyn Store>, _url: String) {
    assert!(store.workflows().await.unwrap().is_empty());
    assert_eq!(store.save_workflow("refunds", 1, "source v1", "a.yaml", 10).await.unwrap(), None);
    assert_eq!(
        store.save_workflow("refunds", 1, "source v1", "b.yaml", 11).await.unwrap(),
        None,
        "same source"
    );
    assert_eq!(
        store.save_workflow("refunds", 1, "edited v1", "c.yaml", 12).await.unwrap().as_deref(),
        Some("source v1"),
        "a changed source under an old version number is refused"
    );
    assert_eq!(store.save_workflow("refunds", 2, "edited v1", "c.yaml", 13).await.unwrap(), None);
    assert_eq!(store.save_workflow("payouts", 1, "payouts v1", "p.yaml", 14).await.unwrap(), None);

    let owned = |name: &str, version: i64, source: &str, origin: &str| {
        (name.to_owned(), version, source.to_owned(), origin.to_owned())
    };
    assert_eq!(
        store.workflows().await.unwrap(),
        [
            owned("payouts", 1, "payouts v1", "p.yaml"),
            owned("refunds", 1, "source v1", "a.yaml"),
            owned("refunds", 2, "edited v1", "c.yaml"),
        ]
    );
}

async fn audit_is_append_only_and_filters(store: Arc<dyn Store>, url: String) {
    let mut tx = store.begin().await.unwrap();
    tx.append_audit(&[audit(100, "event.received", None), audit(200, "run.started", Some("r1"))])
        .await
        .unwrap();
    tx.append_audit(&[audit(300, "run.finished", Some("r1")), audit(150, "late.clock", Some("r2"))])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.append_audit(&[audit(999, "rolled.back", None)]).await.unwrap();
    drop(tx);

    let all = store.audit(None, 0, 100).await.unwrap();
    assert_eq!(all.iter().map(|a| a.at).collect::<Vec<_>>(), [100, 200, 300, 150], "in sequence order");
    assert!(all.windows(2).all(|pair| pair[0].seq < pair[1].seq));
    assert_eq!(all[1].run_id.as_deref(), Some("r1"));
    assert_eq!(all[1].detail, "run.started at 200");
    assert_eq!(all[1].data.as_deref(), Some("{\"n\":1}"));
    assert_eq!((all[1].actor.as_deref(), all[1].attempt), (None, None));

    let at = |found: Vec<seam_store::AuditRow>| found.iter().map(|a| a.at).collect::<Vec<_>>();
    assert_eq!(at(store.audit(Some(150), 0, 100).await.unwrap()), [200, 300, 150], "at >= since");
    assert_eq!(at(store.audit(None, all[1].seq, 100).await.unwrap()), [300, 150], "seq > after_seq");
    assert_eq!(at(store.audit(Some(200), all[1].seq, 100).await.unwrap()), [300]);
    assert_eq!(at(store.audit(None, 0, 2).await.unwrap()), [100, 200], "limit");
    assert!(store.audit(Some(1_000), 0, 100).await.unwrap().is_empty());
    assert_eq!(at(store.audit_for_run("r1").await.unwrap()), [200, 300]);

    for sql in
        ["UPDATE audit SET detail = 'rewritten'", "DELETE FROM audit", "DELETE FROM audit WHERE at = 100"]
    {
        let error = raw_execute(&url, sql).await.expect_err(sql);
        assert!(error.to_string().contains("append-only"), "{sql}: {error}");
    }
    assert_eq!(store.audit(None, 0, 100).await.unwrap(), all, "the audit rows are unchanged");
    // Appending through the same raw connection is allowed: only changes to existing rows are refused.
    let appended =
        raw_execute(&url, "INSERT INTO audit (at, kind, detail) VALUES (400, 'raw', 'appended')").await;
    assert_eq!(appended.unwrap(), 1);
    assert_eq!(store.audit(None, 0, 100).await.unwrap().len(), 5);
}

async fn ledger_dedupes_and_ships(store: Arc<dyn Store>, _url: String) {
    let mut tx = store.begin().await.unwrap();
    assert!(tx.insert_ledger("k1", "refunds", "r1", "wf", 10, "{\"amount\":1}").await.unwrap());
    assert!(!tx.insert_ledger("k1", "other", "r9", "wf9", 11, "{\"amount\":2}").await.unwrap());
    assert!(tx.insert_ledger("k2", "refunds", "r2", "wf", 12, "{\"amount\":3}").await.unwrap());
    assert!(tx.insert_ledger("k3", "refunds", "r3", "wf", 13, "{}").await.unwrap());
    tx.commit().await.unwrap();

    let unshipped = store.ledger_unshipped(10).await.unwrap();
    assert_eq!(unshipped.iter().map(|l| l.idempotency_key.as_str()).collect::<Vec<_>>(), ["k1", "k2", "k3"]);
    assert_eq!(
        (unshipped[0].ledger.as_str(), unshipped[0].run_id.as_str(), unshipped[0].fields.as_str()),
        ("refunds", "r1", "{\"amount\":1}"),
        "the first entry for a key is kept"
    );
    assert!(unshipped.iter().all(|l| !l.shipped));
    assert_eq!(store.ledger_unshipped(1).await.unwrap().len(), 1);

    store.mark_shipped(&[unshipped[0].seq, unshipped[2].seq]).await.unwrap();
    store.mark_shipped(&[]).await.unwrap();
    let left = store.ledger_unshipped(10).await.unwrap();
    assert_eq!(left.iter().map(|l| l.idempotency_key.as_str()).collect::<Vec<_>>(), ["k2"]);

    let all = store.ledger(0, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|l| (l.idempotency_key.as_str(), l.shipped)).collect::<Vec<_>>(),
        [("k1", true), ("k2", false), ("k3", true)]
    );
    let after_first = store.ledger(all[0].seq, 1).await.unwrap();
    assert_eq!(after_first.iter().map(|l| l.idempotency_key.as_str()).collect::<Vec<_>>(), ["k2"]);
}

async fn inbox_lifecycle(store: Arc<dyn Store>, _url: String) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_inbox(&inbox_item("i1", "r1", 300)).await.unwrap();
    tx.insert_inbox(&inbox_item("i2", "r1", 100)).await.unwrap();
    tx.insert_inbox(&inbox_item("i3", "r1", 200)).await.unwrap();
    tx.insert_inbox(&inbox_item("i4", "r2", 400)).await.unwrap();
    let mut duplicate = inbox_item("i1", "r9", 1);
    duplicate.title = "replaced?".into();
    tx.insert_inbox(&duplicate).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(
        store.inbox_item("i1").await.unwrap().unwrap(),
        inbox_item("i1", "r1", 300),
        "first insert kept"
    );
    let ids = |found: Vec<InboxItem>| found.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(ids(store.inbox(Some("open"), 10).await.unwrap()), ["i2", "i3", "i1", "i4"], "by due time");

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.lock_inbox("missing").await.unwrap(), None);
    let locked = tx.lock_inbox("i3").await.unwrap().unwrap();
    assert_eq!(locked.status, "open");
    tx.decide_inbox("i3", "resolved", "resolve", Some("alice"), Some("looks fine"), 250).await.unwrap();
    tx.commit().await.unwrap();

    let decided = store.inbox_item("i3").await.unwrap().unwrap();
    assert_eq!(
        (decided.status.as_str(), decided.decided_by.as_deref(), decided.decided_at, decided.note.as_deref()),
        ("resolved", Some("alice"), Some(250), Some("looks fine"))
    );
    assert_eq!(decided.decision.as_deref(), Some("resolve"));
    assert!(
        decided.decisions.contains("\"resolve\""),
        "the offered decisions are kept: {}",
        decided.decisions
    );

    let mut tx = store.begin().await.unwrap();
    tx.close_inbox_for_run("r1", 260).await.unwrap();
    tx.commit().await.unwrap();

    let closed = store.inbox_item("i1").await.unwrap().unwrap();
    assert_eq!((closed.status.as_str(), closed.decided_at, closed.decided_by), ("closed", Some(260), None));
    assert_eq!(store.inbox_item("i2").await.unwrap().unwrap().status, "closed");
    assert_eq!(store.inbox_item("i3").await.unwrap().unwrap(), decided, "decided items are left alone");
    assert_eq!(ids(store.inbox(Some("open"), 10).await.unwrap()), ["i4"], "other runs' items stay open");
    assert_eq!(ids(store.inbox(Some("closed"), 10).await.unwrap()), ["i2", "i1"]);
    assert_eq!(ids(store.inbox(None, 10).await.unwrap()), ["i2", "i3", "i1", "i4"]);
    assert_eq!(ids(store.inbox(None, 2).await.unwrap()), ["i2", "i3"]);
    assert_eq!(store.inbox_item("missing").await.unwrap(), None);
}

async fn counts_reflect_every_table(store: Arc<dyn Store>, _url: String) {
    assert_eq!(store.counts().await.unwrap(), Counts::default(), "a fresh database is empty");

    let inserted = store
        .insert_events(&[event("a", "1", "{}"), event("a", "2", "{}"), event("a", "3", "{}")])
        .await
        .unwrap();
    let Inserted::New(first) = inserted[0] else { panic!("new") };
    store.insert_dead_letter("a", 1, "bad", "x").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.set_event_status(first, "routed", 5).await.unwrap();
    tx.insert_run(&run("r1", "w", Some("a"), "running", None)).await.unwrap();
    tx.insert_run(&run("r2", "w", Some("b"), "running", None)).await.unwrap();
    tx.insert_run(&run("r3", "w", Some("c"), "failed", None)).await.unwrap();
    assert!(tx.insert_call(&call("r1", "charge", 1, "c1", "{}")).await.unwrap());
    assert!(tx.insert_call(&call("r1", "notify", 1, "c2", "{}")).await.unwrap());
    tx.insert_inbox(&inbox_item("i1", "r1", 10)).await.unwrap();
    tx.insert_inbox(&inbox_item("i2", "r2", 10)).await.unwrap();
    tx.decide_inbox("i2", "dismissed", "dismiss", Some("bob"), None, 6).await.unwrap();
    tx.insert_ledger("l1", "ledger", "r1", "w", 5, "{}").await.unwrap();
    tx.insert_ledger("l2", "ledger", "r1", "w", 5, "{}").await.unwrap();
    tx.append_audit(&[audit(1, "a", None), audit(2, "b", None)]).await.unwrap();
    tx.commit().await.unwrap();

    let claimed = store.claim_calls("w", 100, 10, 1).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.finish_call(claimed[0].id, claimed[0].fence, "{}", 101).await.unwrap());
    tx.commit().await.unwrap();
    let ledger = store.ledger_unshipped(10).await.unwrap();
    store.mark_shipped(&[ledger[0].seq]).await.unwrap();

    assert_eq!(
        store.counts().await.unwrap(),
        Counts {
            runs_by_status: vec![("failed".into(), 1), ("running".into(), 2)],
            events_by_status: vec![("pending".into(), 2), ("routed".into(), 1)],
            inbox_open: 1,
            calls_pending: 1,
            dead_letters: 1,
            ledger_unshipped: 1,
            audit_entries: 2,
        }
    );
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL: several connections at once

async fn due_run_skips_locked_runs(store: Arc<dyn Store>, _url: String) {
    insert_runs(
        &store,
        &[run("a", "w", Some("a"), "running", Some(100)), run("b", "w", Some("b"), "running", Some(100))],
    )
    .await;
    let limit = Duration::from_secs(20);

    let mut first = store.begin().await.unwrap();
    let one = first.due_run(200).await.unwrap().expect("first transaction gets a due run");
    let mut second = store.begin().await.unwrap();
    let two = tokio::time::timeout(limit, second.due_run(200))
        .await
        .expect("due_run waited for a locked run instead of skipping it")
        .unwrap()
        .expect("second transaction gets the other due run");
    assert_ne!(one.id, two.id, "two transactions were handed the same run");

    let mut third = store.begin().await.unwrap();
    let none = tokio::time::timeout(limit, third.due_run(200)).await.expect("no waiting").unwrap();
    assert_eq!(none, None, "both due runs are held");
    drop(third);

    first
        .update_run(&one.id, one.fence, &update("running", one.key.as_deref(), "{}", Some(900)))
        .await
        .unwrap();
    first.commit().await.unwrap();
    second.commit().await.unwrap();

    let mut fourth = store.begin().await.unwrap();
    let again = fourth.due_run(200).await.unwrap().expect("the rolled-back run is due again");
    assert_eq!(again.id, two.id);
    drop(fourth);
}

async fn pending_events_skip_locked_events(store: Arc<dyn Store>, _url: String) {
    store
        .insert_events(&[event("a", "1", "{}"), event("a", "2", "{}"), event("a", "3", "{}")])
        .await
        .unwrap();
    let limit = Duration::from_secs(20);

    let mut first = store.begin().await.unwrap();
    let held = first.pending_events(1).await.unwrap();
    assert_eq!(held.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(), ["1"]);
    let mut second = store.begin().await.unwrap();
    let rest =
        tokio::time::timeout(limit, second.pending_events(10)).await.expect("skips, not waits").unwrap();
    assert_eq!(rest.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(), ["2", "3"]);
    second.commit().await.unwrap();
    first.set_event_status(held[0].seq, "routed", 10).await.unwrap();
    first.commit().await.unwrap();

    let mut third = store.begin().await.unwrap();
    let left = third.pending_events(10).await.unwrap();
    assert_eq!(left.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(), ["2", "3"]);
    drop(third);
}

async fn lock_run_waits_and_sees_new_fence(store: Arc<dyn Store>, url: String) {
    insert_runs(&store, &[run("r1", "w", Some("k"), "running", None)]).await;
    let log = Arc::new(Mutex::new(Vec::<String>::new()));

    let mut first = store.begin().await.unwrap();
    let held = first.lock_run("r1").await.unwrap().unwrap();
    log.lock().unwrap().push("first locked".into());

    let waiter = {
        let store = store.clone();
        let log = log.clone();
        tokio::spawn(async move {
            let mut second = store.begin().await.unwrap();
            let seen = second.lock_run("r1").await.unwrap().unwrap();
            log.lock().unwrap().push(format!("second locked at fence {}", seen.fence));
            let fence =
                second.update_run("r1", seen.fence, &update("running", Some("k"), "{\"by\":2}", None)).await;
            second.commit().await.unwrap();
            fence.unwrap()
        })
    };

    pg_wait_for(&url, WAITING_ON_ROW, 1).await;
    let fence = first.update_run("r1", held.fence, &update("running", Some("k"), "{\"by\":1}", None)).await;
    log.lock().unwrap().push("first commits".into());
    first.commit().await.unwrap();
    assert_eq!(fence.unwrap(), 1);

    assert_eq!(waiter.await.unwrap(), 2, "the waiter saw the committed fence and bumped it");
    assert_eq!(*log.lock().unwrap(), ["first locked", "first commits", "second locked at fence 1"]);
    assert_eq!(store.run("r1").await.unwrap().unwrap().state, "{\"by\":2}");
}

async fn concurrent_claims_never_share_a_call(store: Arc<dyn Store>, _url: String) {
    let mut ids = Vec::new();
    for run_id in ["r1", "r2", "r3", "r4", "r5"] {
        ids.extend(insert_calls(&store, run_id, 10).await);
    }
    ids.sort_unstable();

    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let claimed =
                        store.claim_calls(&format!("worker-{worker}"), 1_000, 600, 5).await.unwrap();
                    if claimed.is_empty() {
                        return mine;
                    }
                    assert!(claimed.len() <= 5);
                    assert!(claimed.iter().all(|c| c.fence == 1 && c.tries == 1), "{claimed:?}");
                    mine.extend(claimed.into_iter().map(|c| c.id));
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for worker in workers {
        claimed.extend(worker.await.unwrap());
    }
    claimed.sort_unstable();
    assert_eq!(claimed, ids, "every call claimed exactly once");
    assert!(store.claim_calls("late", 1_000, 600, 100).await.unwrap().is_empty());
}

async fn lock_key_serialises_one_workflow_key(store: Arc<dyn Store>, url: String) {
    let log = Arc::new(Mutex::new(Vec::<&str>::new()));

    let mut first = store.begin().await.unwrap();
    first.lock_key("refunds", "cus_1").await.unwrap();
    log.lock().unwrap().push("first holds");

    let mut waiter = {
        let store = store.clone();
        let log = log.clone();
        tokio::spawn(async move {
            let mut second = store.begin().await.unwrap();
            second.lock_key("refunds", "cus_1").await.unwrap();
            log.lock().unwrap().push("second holds");
            second.commit().await.unwrap();
        })
    };

    // The second transaction is queued on the advisory lock, and stays there while the first holds it.
    pg_wait_for(&url, WAITING_ON_ADVISORY, 1).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut waiter).await.is_err(),
        "the second transaction got the lock while the first held it"
    );

    // Other keys, and the same key in another workflow, are not serialised with it.
    let mut other = store.begin().await.unwrap();
    tokio::time::timeout(Duration::from_secs(20), async {
        other.lock_key("refunds", "cus_2").await.unwrap();
        other.lock_key("payouts", "cus_1").await.unwrap();
    })
    .await
    .expect("a different (workflow, key) does not wait");
    other.commit().await.unwrap();

    log.lock().unwrap().push("first commits");
    first.commit().await.unwrap();
    waiter.await.unwrap();
    assert_eq!(*log.lock().unwrap(), ["first holds", "first commits", "second holds"]);

    // The lock is transaction-scoped: after the commits, it is free again.
    let mut later = store.begin().await.unwrap();
    tokio::time::timeout(Duration::from_secs(20), later.lock_key("refunds", "cus_1"))
        .await
        .expect("released at commit")
        .unwrap();
    drop(later);
}

/// `take_early_events` must return every event it removes, including one committed by another transaction
/// while it ran. The interleaving is forced with a table lock that lets reads through but holds writes back.
async fn take_early_events_loses_none_added_meanwhile(store: Arc<dyn Store>, url: String) {
    let mut tx = store.begin().await.unwrap();
    tx.add_early_event("refunds", "k", "e1", 10).await.unwrap();
    tx.commit().await.unwrap();

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let mut other = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE early_events IN SHARE MODE").execute(&mut *other).await.unwrap();
    sqlx::query(
        "INSERT INTO early_events (workflow, key, event, received_at) VALUES ('refunds', 'k', 'e2', 11)",
    )
    .execute(&mut *other)
    .await
    .unwrap();

    let taker = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            let taken = tx.take_early_events("refunds", "k").await.unwrap();
            tx.commit().await.unwrap();
            taken
        })
    };
    // Wait until the taker's delete is held back by the table lock (its read is not), then let e2 in.
    pg_wait_for(
        &url,
        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'relation' AND NOT granted \
         AND relation = 'early_events'::regclass",
        1,
    )
    .await;
    other.commit().await.unwrap();
    let taken = taker.await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let left = tx.take_early_events("refunds", "k").await.unwrap();
    tx.commit().await.unwrap();
    pool.close().await;
    let mut seen: Vec<String> = taken.iter().chain(&left).cloned().collect();
    seen.sort();
    assert_eq!(
        seen,
        ["e1", "e2"],
        "taken {taken:?}, left {left:?}: an early event was deleted without being returned"
    );
}

/// `save_workflow` must refuse a different source for a (name, version) even when another node stores that
/// version at the same moment. The other node's insert is held uncommitted until ours is waiting on it.
async fn save_workflow_refuses_a_concurrent_different_source(store: Arc<dyn Store>, url: String) {
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let mut other = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO workflows (name, version, source, origin, loaded_at) \
         VALUES ('refunds', 1, 'their source', 'node-b', 10)",
    )
    .execute(&mut *other)
    .await
    .unwrap();

    let saver = {
        let store = store.clone();
        tokio::spawn(
            async move { store.save_workflow("refunds", 1, "our source", "node-a", 11).await.unwrap() },
        )
    };
    // Our insert waits on their uncommitted row; once they commit, ours must see it and refuse.
    let waiting = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                   AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO workflows%'";
    pg_wait_for(&url, waiting, 1).await;
    other.commit().await.unwrap();
    pool.close().await;

    let refused = saver.await.unwrap();
    let stored = store.workflows().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].2, "their source");
    assert_eq!(
        refused.as_deref(),
        Some("their source"),
        "save_workflow accepted \"our source\" for refunds v1 although \"their source\" is stored"
    );
}
