//! The engine through its real server: port 0, a fresh SQLite file and a fresh PostgreSQL database, a manual
//! clock, and a mock HTTP service. Each test runs on both databases (`sqlite::…`, `postgres::…`).

mod support;

use seam_runtime::Role;
use serde_json::{Value, json};
use support::{Backend, World};

const THREE_STEP: &str = r#"
name = "three-step"
zone = "order_to_cash"
version = 1

[trigger]
source = "test"
event = "order.created"
key = "{{ event.data.id }}"

[cancel_on]
events = ["test:order.cancelled"]
key = "{{ event.data.id }}"

[[steps]]
id = "notify"
call = "http"
with = { method = "POST", url = "MOCK/notify", json = { order = "{{ trigger.data.id }}" } }

[[steps]]
id = "cool_off"
wait = "3d"

[[steps]]
id = "follow_up"
call = "http"
with = { method = "POST", url = "MOCK/follow-up", json = { order = "{{ trigger.data.id }}", after = "{{ steps.notify.result.status }}" } }
outcome = "followed_up"

[[steps]]
id = "record"
[steps.record]
ledger = "orders"
order = "{{ trigger.data.id }}"
outcome = "{{ run.outcome }}"
"#;

const FLAKY: &str = r#"
name = "flaky"
zone = "order_to_cash"
version = 1

[trigger]
source = "test"
event = "charge.failed"
key = "{{ event.data.id }}"

[[steps]]
id = "charge"
call = "http"
with = { method = "POST", url = "MOCK/charge", json = { charge = "{{ trigger.data.id }}" } }
schedule = { attempts = 3, after = ["0s", "1h", "2h"] }
retry_on = ["server_error"]
on_exhausted = "escalate"
on_fatal = "escalate"
next = "record"
outcome = "charged"

[[steps]]
id = "escalate"
next = "record"
[steps.escalate]
team = "finance"
due = "2d"
title = "Charge {{ trigger.data.id }} failed {{ steps.charge.attempts }} times"
on_dismiss = "record"
[steps.escalate.context]
charge = "{{ trigger.data.id }}"
amount_minor = "{{ trigger.data.amount }}"

[[steps]]
id = "record"
[steps.record]
ledger = "finance"
charge = "{{ trigger.data.id }}"
outcome = "{{ run.outcome }}"
"#;

fn event(id: &str, kind: &str, object: &str) -> Value {
    json!({ "id": id, "type": kind, "data": { "id": object, "amount": 4900 } })
}

async fn three_day_wait_fires_on_time(backend: Backend) {
    let Some(world) = World::start(backend, &[THREE_STEP], "").await else { return };
    let (status, body) = world.send(&event("evt_1", "order.created", "ord_1")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "accepted");
    world.settle().await;
    assert_eq!(world.mock.seen("notify").len(), 1);
    let run = world.only_run().await;
    assert_eq!(run["status"], "running");
    assert_eq!(run["waiting"]["for"], "timer");
    let started = world.now();
    let wake = seam_flow::Timestamp::parse_rfc3339(run["wake_at"].as_str().unwrap()).unwrap();
    assert_eq!(wake.unix_seconds(), started + 3 * 86_400, "the wake-up is exactly three days out");

    world.advance(3 * 86_400 - 1);
    world.settle().await;
    assert!(world.mock.seen("follow-up").is_empty(), "one second early, nothing fires");

    world.advance(1);
    world.settle().await;
    let follow = world.mock.seen("follow-up");
    assert_eq!(follow.len(), 1);
    assert_eq!(follow[0].body, json!({ "order": "ord_1", "after": 200 }));
    let run = world.only_run().await;
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["outcome"], "followed_up");
    assert_eq!(run["wake_at"], Value::Null);
    let ledger = world.ledger_lines();
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert_eq!(ledger[0]["order"], "ord_1");
    assert_eq!(ledger[0]["outcome"], "followed_up");
    world.stop().await;
}

async fn failing_call_is_retried_then_escalated_and_decisions_move_the_run(backend: Backend) {
    let Some(world) = World::start(backend, &[FLAKY], "").await else { return };
    world.mock.script("charge", &[500, 502, 503, 500, 500, 500]);
    world
        .send(&json!({ "id": "evt_c1", "type": "charge.failed", "data": { "id": "ch_1", "amount": 4900 } }))
        .await;
    world.settle().await;
    assert_eq!(world.mock.seen("charge").len(), 1);
    world.advance(3599);
    world.settle().await;
    assert_eq!(world.mock.seen("charge").len(), 1, "the second attempt waits a full hour");
    world.advance(1);
    world.settle().await;
    assert_eq!(world.mock.seen("charge").len(), 2);
    world.advance(2 * 3600);
    world.settle().await;
    let seen = world.mock.seen("charge");
    assert_eq!(seen.len(), 3, "three attempts, per the policy");
    let keys: Vec<&str> = seen.iter().map(|s| s.key.as_deref().unwrap()).collect();
    let run = world.only_run().await;
    let run_id = run["id"].as_str().unwrap();
    // A 5xx says nothing about whether the charge happened: every retry is the same request, same key.
    assert_eq!(keys, vec![format!("seam-{run_id}-charge-1"); 3]);
    assert!(seen.iter().all(|s| s.body == json!({ "charge": "ch_1" })));
    // Escalated: one open item, routed by the finance rule (4900 minor is under the CFO threshold).
    let items = world.inbox("open").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["assignee"], "finance-oncall@example.com");
    assert_eq!(items[0]["context"]["charge"], "ch_1");
    assert_eq!(items[0]["title"], "Charge ch_1 failed 3 times");
    assert_eq!(run["status"], "running");
    assert_eq!(run["waiting"]["for"], "decision");
    let item = items[0]["id"].as_str().unwrap().to_owned();

    // A decision needs someone to make it: without a token it is refused and nothing changes.
    let (status, body) = world.post_json_as(None, &format!("/api/inbox/{item}/resolve"), json!({})).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(world.inbox("open").await.len(), 1);
    // Ana and Bo decide with their own (finance) tokens; each decision is audited under the token's name.
    let ana = world.token("ana", Role::Finance).await;
    let bo = world.token("bo", Role::Finance).await;

    // retry: one more attempt now, with a new key; it fails again and comes back to the inbox.
    let (status, body) =
        world.post_json_as(Some(&ana), &format!("/api/inbox/{item}/retry"), json!({ "by": "ana" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "retried");
    assert_eq!(body["decided_by"], "ana");
    world.settle().await;
    let seen = world.mock.seen("charge");
    assert_eq!(seen.len(), 4);
    assert!(!keys.contains(&seen[3].key.as_deref().unwrap()), "a retry decision is a new attempt");
    let items = world.inbox("open").await;
    assert_eq!(items.len(), 1);
    let second = items[0]["id"].as_str().unwrap().to_owned();
    assert_ne!(second, item);

    // Deciding twice is refused.
    let (status, _) =
        world.post_json_as(Some(&ana), &format!("/api/inbox/{item}/resolve"), json!({ "by": "ana" })).await;
    assert_eq!(status, 409);

    // dismiss: the run goes to on_dismiss (record) and ends.
    let (status, body) = world
        .post_json_as(
            Some(&bo),
            &format!("/api/inbox/{second}/dismiss"),
            json!({ "by": "bo", "note": "write off" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    world.settle().await;
    let run = world.only_run().await;
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["outcome"], "dismissed");
    let ledger = world.ledger_lines();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0]["outcome"], "dismissed");
    let decisions: Vec<&Value> =
        run["audit"].as_array().unwrap().iter().filter(|a| a["kind"] == "decision").collect();
    assert_eq!(decisions.len(), 2);
    assert_eq!(decisions[1]["actor"], "bo");
    world.stop().await;
}

async fn resolve_continues_the_run(backend: Backend) {
    let Some(world) = World::start(backend, &[FLAKY], "").await else { return };
    world.mock.script("charge", &[404]);
    world
        .send(&json!({ "id": "evt_r1", "type": "charge.failed", "data": { "id": "ch_9", "amount": 250000 } }))
        .await;
    world.settle().await;
    assert_eq!(world.mock.seen("charge").len(), 1, "a 404 is fatal: no retry");
    let items = world.inbox("open").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["assignee"], "cfo@example.com", "amount over the CFO threshold");
    let item = items[0]["id"].as_str().unwrap();
    let (status, _) = world.post_json(&format!("/api/inbox/{item}/resolve"), json!({ "by": "cfo" })).await;
    assert_eq!(status, 200);
    world.settle().await;
    let run = world.only_run().await;
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["outcome"], "resolved");
    assert_eq!(world.ledger_lines()[0]["outcome"], "resolved");
    world.stop().await;
}

async fn cancel_before_during_and_after_the_wait(backend: Backend) {
    let Some(world) = World::start(backend, &[THREE_STEP], "").await else { return };
    // Before: the cancel arrives before the trigger.
    world.send(&event("evt_b0", "order.cancelled", "ord_b")).await;
    world.settle().await;
    world.send(&event("evt_b1", "order.created", "ord_b")).await;
    // During: cancel in the middle of the 3-day wait.
    world.send(&event("evt_d1", "order.created", "ord_d")).await;
    world.settle().await;
    world.advance(86_400);
    world.send(&event("evt_d2", "order.cancelled", "ord_d")).await;
    world.settle().await;
    // After the wait: the follow-up already happened; a cancel then changes nothing.
    world.send(&event("evt_a1", "order.created", "ord_a")).await;
    world.settle().await;
    world.advance(3 * 86_400);
    world.settle().await;
    world.send(&event("evt_a2", "order.cancelled", "ord_a")).await;
    world.settle().await;
    world.advance(10 * 86_400);
    world.settle().await;

    let runs = world.runs().await;
    let by_key = |key: &str| runs.iter().find(|r| r["key"] == key).cloned().unwrap();
    assert_eq!(by_key("ord_b")["status"], "cancelled");
    assert_eq!(by_key("ord_d")["status"], "cancelled");
    assert_eq!(by_key("ord_a")["status"], "succeeded");
    let notify: Vec<Value> = world.mock.seen("notify").iter().map(|s| s.body.clone()).collect();
    assert!(!notify.contains(&json!({ "order": "ord_b" })), "cancelled before any step");
    let follow: Vec<Value> = world.mock.seen("follow-up").iter().map(|s| s.body["order"].clone()).collect();
    assert_eq!(follow, vec![json!("ord_a")], "only the uncancelled run followed up");
    world.stop().await;
}

async fn every_webhook_delivered_three_times_yields_one_run(backend: Backend) {
    let Some(world) = World::start(backend, &[THREE_STEP], "").await else { return };
    for n in 0..5 {
        let created = event(&format!("evt_{n}"), "order.created", &format!("ord_{n}"));
        for delivery in 0..3 {
            let (status, body) = world.send(&created).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["status"], if delivery == 0 { "accepted" } else { "duplicate" });
        }
    }
    world.settle().await;
    let runs = world.runs().await;
    assert_eq!(runs.len(), 5);
    assert_eq!(world.mock.seen("notify").len(), 5);
    // A second, different event for a live key starts nothing either (if_running = ignore).
    world.send(&event("evt_other", "order.created", "ord_0")).await;
    world.settle().await;
    assert_eq!(world.runs().await.len(), 5);
    world.stop().await;
}

async fn bad_inputs_get_their_status_and_store_nothing(backend: Backend) {
    let Some(world) = World::start(backend, &[THREE_STEP], "[intake]\nmax_body_bytes = 4096\n").await else {
        return;
    };
    let body = event("evt_bad", "order.created", "ord_x").to_string();
    let store = world.server.as_ref().unwrap().engine.store().clone();
    // Bad signature, missing signature: 400, nothing stored.
    let (status, reply) = world
        .post_raw("/webhooks/test", body.clone().into_bytes(), &[("X-Seam-Signature", "sha256=00")])
        .await;
    assert_eq!(status, 400, "{reply}");
    assert!(reply["error"].as_str().unwrap().contains("signature"), "{reply}");
    let (status, _) = world.post_raw("/webhooks/test", body.clone().into_bytes(), &[]).await;
    assert_eq!(status, 400);
    // Too large: 413.
    let big =
        json!({ "id": "evt_big", "type": "order.created", "data": { "id": "x", "pad": "p".repeat(5000) } })
            .to_string();
    let signature = seam_connectors::verify::generic_signature(big.as_bytes(), support::SECRET);
    let (status, _) =
        world.post_raw("/webhooks/test", big.into_bytes(), &[("X-Seam-Signature", &signature)]).await;
    assert_eq!(status, 413);
    // Unknown source: 404.
    let (status, _) = world.post_raw("/webhooks/nope", body.clone().into_bytes(), &[]).await;
    assert_eq!(status, 404);
    assert_eq!(store.count_events().await.unwrap(), 0, "nothing stored");
    // Signed but unparseable: 400 and a dead letter with the reason.
    let junk = b"{\"no_id\": true}".to_vec();
    let signature = seam_connectors::verify::generic_signature(&junk, support::SECRET);
    let (status, reply) = world.post_raw("/webhooks/test", junk, &[("X-Seam-Signature", &signature)]).await;
    assert_eq!(status, 400, "{reply}");
    let (_, dead) = world.get("/api/dead-letters").await;
    assert_eq!(dead["dead_letters"].as_array().unwrap().len(), 1);
    assert!(dead["dead_letters"][0]["reason"].as_str().unwrap().contains("id"), "{dead}");
    assert_eq!(store.count_events().await.unwrap(), 0);
    // Signed, valid, no workflow wants it: 200, stored as unmatched.
    let (status, reply) = world.send(&event("evt_u", "order.shipped", "ord_u")).await;
    assert_eq!(status, 200);
    assert_eq!(reply["status"], "unmatched");
    // The server keeps serving, and every outcome was counted.
    let (status, health) = world.get("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    let metrics = world.client.get(world.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for outcome in
        ["bad_signature", "missing_signature", "too_large", "unknown_source", "unparseable", "unmatched"]
    {
        assert!(
            metrics.contains(&format!("outcome=\"{outcome}\"}} 1")),
            "{outcome} not counted in\n{metrics}"
        );
    }
    world.stop().await;
}

async fn audit_log_is_append_only_and_names_events(backend: Backend) {
    let Some(world) = World::start(backend, &[THREE_STEP], "").await else { return };
    world.send(&event("evt_au", "order.created", "ord_au")).await;
    world.settle().await;
    let store = world.server.as_ref().unwrap().engine.store().clone();
    let entries = store.audit(None, 0, 1000).await.unwrap();
    assert!(
        entries.iter().any(|e| e.kind == "started" && e.event_id.as_deref() == Some("evt_au")),
        "{entries:?}"
    );
    assert!(entries.iter().all(|e| e.run_id.is_some()));
    world.stop().await;
}

async fn a_late_cancel_is_not_kept_for_the_next_run_with_the_same_key(backend: Backend) {
    let Some(world) = World::start(backend, &[THREE_STEP], "").await else { return };
    world.send(&event("evt_k1", "order.created", "ord_k")).await;
    world.settle().await;
    world.advance(3 * 86_400);
    world.settle().await;
    assert_eq!(world.only_run().await["status"], "succeeded");
    // The cancel arrives after the run finished: it is late, not early.
    world.send(&event("evt_k2", "order.cancelled", "ord_k")).await;
    world.settle().await;
    // A new order reusing the key starts a run that the old cancel must not touch.
    world.send(&event("evt_k3", "order.created", "ord_k")).await;
    world.settle().await;
    let runs = world.runs().await;
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().any(|r| r["status"] == "running"), "{runs:?}");
    assert_eq!(world.mock.seen("notify").len(), 2);
    world.stop().await;
}

const ASK_FIRST: &str = r#"
name = "ask-first"
zone = "fulfillment"
version = 1

[trigger]
source = "test"
event = "refund.requested"
key = "{{ event.data.id }}"

[[steps]]
id = "approve"
[steps.escalate]
team = "support"
title = "Approve refund {{ trigger.data.id }}"
"#;

async fn a_retry_with_nothing_to_retry_is_refused_and_changes_nothing(backend: Backend) {
    let Some(world) = World::start(backend, &[ASK_FIRST], "").await else { return };
    world.send(&event("evt_r", "refund.requested", "re_1")).await;
    world.settle().await;
    let items = world.inbox("open").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["assignee"], "support", "no route matches: the team");
    let item = items[0]["id"].as_str().unwrap().to_owned();
    let (status, body) = world.post_json(&format!("/api/inbox/{item}/retry"), json!({ "by": "ana" })).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains("no call step to retry"), "{body}");
    assert_eq!(world.inbox("open").await.len(), 1, "the item is still open");
    let (status, _) = world.post_json(&format!("/api/inbox/{item}/resolve"), json!({ "by": "ana" })).await;
    assert_eq!(status, 200);
    world.settle().await;
    assert_eq!(world.only_run().await["status"], "succeeded");
    world.stop().await;
}

async fn control_characters_cannot_wedge_the_engine(backend: Backend) {
    let Some(world) = World::start(backend, &[THREE_STEP], "").await else { return };
    // A NUL inside the correlation key: stored, but it starts nothing (the key is refused and audited).
    let (status, _) =
        world.send(&json!({ "id": "evt_nul", "type": "order.created", "data": { "id": "a\u{0}b" } })).await;
    assert_eq!(status, 200);
    // A NUL in the event id: unparseable, kept as a dead letter.
    let (status, body) =
        world.send(&json!({ "id": "evt\u{0}x", "type": "order.created", "data": { "id": "z" } })).await;
    assert_eq!(status, 400, "{body}");
    // A raw NUL byte in an otherwise signed body: a dead letter too, not a database error.
    let raw = b"{\"id\": \"x\0\"}".to_vec();
    let signature = seam_connectors::verify::generic_signature(&raw, support::SECRET);
    let (status, body) = world.post_raw("/webhooks/test", raw, &[("X-Seam-Signature", &signature)]).await;
    assert_eq!(status, 400, "{body}");
    // Everything after still flows.
    world.send(&event("evt_ok", "order.created", "ord_ok")).await;
    world.settle().await;
    let runs = world.runs().await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["key"], "ord_ok");
    // A source name cannot write lines into /metrics.
    let (status, _) = world.post_raw("/webhooks/x%0Aseam_forged_total%201%0A%23", b"{}".to_vec(), &[]).await;
    assert_eq!(status, 404);
    let metrics = world.client.get(world.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("seam_forged_total"), "{metrics}");
    assert!(metrics.contains("source=\"unknown\",outcome=\"unknown_source\"} 1"), "{metrics}");
    world.stop().await;
}

/// Breaks a stored run behind the engine's back, as a bad manual edit or a bug would.
async fn corrupt_run_state(world: &World, key: &str) {
    let sql = format!("UPDATE runs SET state = '{{not json' WHERE key = '{key}'");
    if world.db_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&world.db_url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&world.db_url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

async fn an_unreadable_run_is_set_aside_and_blocks_nothing(backend: Backend) {
    let Some(world) = World::start(backend, &[THREE_STEP], "").await else { return };
    world.send(&event("evt_p1", "order.created", "ord_poison")).await;
    world.send(&event("evt_p2", "order.created", "ord_fine")).await;
    world.settle().await;
    corrupt_run_state(&world, "ord_poison").await;
    // An event for the broken run cannot be routed; it is set aside, and events behind it still flow.
    world.send(&event("evt_p3", "order.cancelled", "ord_poison")).await;
    world.send(&event("evt_p4", "order.created", "ord_after")).await;
    world.settle().await;
    let store = world.server.as_ref().unwrap().engine.store().clone();
    assert_eq!(store.event("test", "evt_p3").await.unwrap().unwrap().status, "failed");
    assert_eq!(store.event("test", "evt_p4").await.unwrap().unwrap().status, "routed");
    // The broken run's timer does not block the others: three days later the healthy runs follow up.
    world.advance(3 * 86_400);
    world.settle().await;
    let follow: Vec<Value> = world.mock.seen("follow-up").iter().map(|s| s.body["order"].clone()).collect();
    assert!(follow.contains(&json!("ord_fine")) && follow.contains(&json!("ord_after")), "{follow:?}");
    let (_, metrics) = world.get("/metrics").await;
    let metrics = metrics.as_str().unwrap_or_default().to_owned();
    assert!(metrics.contains("kind=\"event_set_aside\"} 1"), "{metrics}");
    // The reconciler reports it (and only it) as stuck.
    let report = world.server.as_ref().unwrap().engine.reconcile().await.unwrap();
    let runs = world.runs().await;
    let poison = runs.iter().find(|r| r["key"] == "ord_poison").unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(report.stuck, vec![poison]);
    world.stop().await;
}

/// An escalate step's named choices: each with its own next step and the fields a person fills in.
const CHOICES: &str = r#"
name = "short-stock"
zone = "fulfillment"
version = 1

[trigger]
source = "test"
event = "order.short"
key = "{{ event.data.id }}"

[[steps]]
id = "ask"
next = "end"

[steps.escalate]
team = "fulfillment"
title = "Order {{ trigger.data.id }} is short"

[steps.escalate.choices.ship_partial]
label = "Ship what is in stock"
next = "record"
fields = { note = "text" }

[steps.escalate.choices.cancel]
next = "record"
fields = { refund = { type = "bool", required = true }, restock = "bool" }

[[steps]]
id = "record"
[steps.record]
ledger = "inventory"
order = "{{ trigger.data.id }}"
decision = "{{ steps.ask.decision.decision }}"
refund = "{{ steps.ask.decision.fields.refund if 'refund' in steps.ask.decision.fields else 'n/a' }}"
outcome = "{{ run.outcome }}"
"#;

async fn named_choices_take_their_fields_and_their_own_next_step(backend: Backend) {
    let Some(world) = World::start(backend, &[CHOICES], "").await else { return };
    world.send(&event("evt_c1", "order.short", "ord_1")).await;
    world.send(&event("evt_c2", "order.short", "ord_2")).await;
    world.settle().await;
    let items = world.inbox("open").await;
    assert_eq!(items.len(), 2);
    let names: Vec<&str> =
        items[0]["decisions"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["resolve", "retry", "dismiss", "cancel", "ship_partial"]);
    let cancel = items[0]["decisions"].as_array().unwrap().iter().find(|d| d["name"] == "cancel").unwrap();
    assert_eq!(cancel["fields"]["refund"], json!({ "type": "bool", "required": true }));
    let item = |key: &str| {
        items
            .iter()
            .find(|i| i["run_id"].as_str().is_some() && i["title"].as_str().unwrap().contains(key))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (one, two) = (item("ord_1"), item("ord_2"));

    // Not offered: 404 naming what is; a required field missing or of the wrong type: 400. Nothing changes.
    let (status, body) =
        world.post_json(&format!("/api/inbox/{one}/refund_twice"), json!({ "by": "ana" })).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"].as_str().unwrap().contains("ship_partial"), "{body}");
    let (status, body) = world.post_json(&format!("/api/inbox/{one}/cancel"), json!({ "by": "ana" })).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("fields.refund"), "{body}");
    let bad = json!({ "by": "ana", "fields": { "refund": "yes" } });
    let (status, body) = world.post_json(&format!("/api/inbox/{one}/cancel"), bad).await;
    assert_eq!(status, 400, "{body}");
    let unknown = json!({ "by": "ana", "fields": { "refund": true, "colour": "red" } });
    let (status, _) = world.post_json(&format!("/api/inbox/{one}/cancel"), unknown).await;
    assert_eq!(status, 400);
    assert_eq!(world.inbox("open").await.len(), 2);

    let good = json!({ "by": "ana", "fields": { "refund": true, "restock": false } });
    let (status, body) = world.post_json(&format!("/api/inbox/{one}/cancel"), good).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "decided");
    assert_eq!(body["decision"], "cancel");
    let (status, _) = world.post_json(&format!("/api/inbox/{two}/ship_partial"), json!({ "by": "bo" })).await;
    assert_eq!(status, 200);
    let (status, _) = world
        .post_json(&format!("/api/inbox/{two}/cancel"), json!({ "by": "bo", "fields": { "refund": false } }))
        .await;
    assert_eq!(status, 409, "a second decision");
    world.settle().await;
    let mut lines = world.ledger_lines();
    lines.sort_by_key(|line| line["order"].as_str().unwrap().to_owned());
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        (lines[0]["decision"].as_str(), lines[0]["refund"].as_bool(), lines[0]["outcome"].as_str()),
        (Some("cancel"), Some(true), Some("cancel"))
    );
    assert_eq!(
        (lines[1]["decision"].as_str(), lines[1]["refund"].as_str()),
        (Some("ship_partial"), Some("n/a"))
    );
    world.stop().await;
}

/// `[ledgers.NAME]` gives a ledger its own sink; the others keep `[ledger]`.
async fn each_ledger_goes_to_its_own_sink(backend: Backend) {
    let extra = "\n[ledgers.inventory]\npath = \"inventory.jsonl\"\n";
    let Some(world) = World::start(backend, &[CHOICES, FLAKY], extra).await else { return };
    world.send(&event("evt_l1", "order.short", "ord_9")).await;
    world.send(&event("evt_l2", "charge.failed", "ch_9")).await;
    world.settle().await;
    let items = world.inbox("open").await;
    assert_eq!(items.len(), 1, "{items:?}");
    let id = items[0]["id"].as_str().unwrap();
    let (status, _) = world.post_json(&format!("/api/inbox/{id}/ship_partial"), json!({ "by": "ana" })).await;
    assert_eq!(status, 200);
    world.settle().await;
    let inventory = std::fs::read_to_string(world.dir.path().join("inventory.jsonl")).unwrap_or_default();
    let inventory: Vec<Value> = inventory.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(inventory.len(), 1, "{inventory:?}");
    assert_eq!(inventory[0]["order"], "ord_9");
    assert_eq!(inventory[0]["ledger"], "inventory");
    let others = world.ledger_lines();
    assert!(others.iter().all(|line| line["ledger"] != "inventory"), "{others:?}");
    assert_eq!(others.len(), 1, "the other workflow's entry stays in [ledger]: {others:?}");
    world.stop().await;
}

/// A `wait_for` with `match` waits for events naming a value (a SKU), not the run's key.
const RESTOCK: &str = r#"
name = "restock"
zone = "fulfillment"
version = 1

[trigger]
source = "test"
event = "order.short"
key = "{{ event.data.id }}"

[[steps]]
id = "await_restock"
wait_for = { event = "test:stock.restocked", key = "{{ event.data.sku }}", match = "{{ trigger.data.skus }}", timeout = "2d", on_timeout = "record" }
next = "record"

[[steps]]
id = "record"
[steps.record]
ledger = "inventory"
order = "{{ trigger.data.id }}"
restocked = "{{ steps.await_restock.result.data.sku if steps.await_restock.result else 'timed out' }}"
"#;

async fn a_restock_reaches_every_run_waiting_for_its_sku_and_no_other(backend: Backend) {
    let Some(world) = World::start(backend, &[RESTOCK], "").await else { return };
    let order = |id: &str, order: &str, skus: Value| json!({ "id": id, "type": "order.short", "data": { "id": order, "skus": skus } });
    let restock = |id: &str, sku: &str| json!({ "id": id, "type": "stock.restocked", "data": { "id": sku, "sku": sku } });
    world.send(&order("evt_o1", "ord_1", json!(["MUG-01", "TEE-M"]))).await;
    world.send(&order("evt_o2", "ord_2", json!(["MUG-01"]))).await;
    world.send(&order("evt_o3", "ord_3", json!(["CAP"]))).await;
    world.settle().await;
    let (status, answer) = world.send(&restock("evt_r0", "SOCKS")).await;
    assert_eq!(status, 200);
    world.settle().await;
    assert!(world.ledger_lines().is_empty(), "no run waits for SOCKS: {answer}");
    world.send(&restock("evt_r1", "MUG-01")).await;
    world.settle().await;
    let mut lines = world.ledger_lines();
    lines.sort_by_key(|line| line["order"].as_str().unwrap().to_owned());
    let orders: Vec<(&str, &str)> =
        lines.iter().map(|l| (l["order"].as_str().unwrap(), l["restocked"].as_str().unwrap())).collect();
    assert_eq!(
        orders,
        [("ord_1", "MUG-01"), ("ord_2", "MUG-01")],
        "both runs short on MUG-01, and only they"
    );
    // A second restock of MUG-01 finds nobody waiting any more; CAP's run still waits, then times out.
    world.send(&restock("evt_r2", "MUG-01")).await;
    world.advance(3 * 86_400);
    world.settle().await;
    let lines = world.ledger_lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines.iter().any(|l| l["order"] == "ord_3" && l["restocked"] == "timed out"), "{lines:?}");
    world.stop().await;
}

on_both_databases!(
    a_restock_reaches_every_run_waiting_for_its_sku_and_no_other,
    each_ledger_goes_to_its_own_sink,
    named_choices_take_their_fields_and_their_own_next_step,
    a_retry_with_nothing_to_retry_is_refused_and_changes_nothing,
    control_characters_cannot_wedge_the_engine,
    an_unreadable_run_is_set_aside_and_blocks_nothing,
    a_late_cancel_is_not_kept_for_the_next_run_with_the_same_key,
    three_day_wait_fires_on_time,
    failing_call_is_retried_then_escalated_and_decisions_move_the_run,
    resolve_continues_the_run,
    cancel_before_during_and_after_the_wait,
    every_webhook_delivered_three_times_yields_one_run,
    bad_inputs_get_their_status_and_store_nothing,
    audit_log_is_append_only_and_names_events,
);
