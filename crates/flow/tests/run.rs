//! Behaviour of the run state machine, told as stories.
//!
//! Each test is a workflow, a script of inputs, and the transcript the engine must produce: every effect of every
//! input, and where the run waits afterwards. One [`check`] helper runs them all, so a test reads as what happens
//! to a run, not as calls to an API.
//!
//! Script lines:
//!
//! - `start <source:type> <object id>`: the trigger, for an invoice-like object with that id.
//! - `event <source:type> <object id>`: an outside event.
//! - `fire`: the clock moves to the run's wake-up time and its timer fires.
//! - `timer <id>`: timer `<id>` fires now (for stale timers).
//! - `advance <duration>`: the clock moves on.
//! - `ok <step> <attempt> <json>` / `err <step> <attempt> retryable|fatal <kind> <message>`: a call's result.
//! - `cancel <reason>`, `decide resolve|retry|dismiss [escalation]`.
//! - `early <source:type> <object id>`: an event the runtime received before the trigger; the next `start`
//!   carries it.
//! - `replay`: applies the previous input again to the state before it (a runtime redoing it after a crash).

use seam_flow::{
    CallOutcome, DecisionKind, Effect, ErrorClass, ErrorKind, Event, Input, RunId, RunState, StepId,
    Timestamp, Waiting, Workflow, apply, parse_workflow,
};
use serde_json::{Value, json};

const START: &str = "2026-01-05T10:00:00Z";

/// Three steps: a call, a 3-day wait, a call; cancelled by `shop:order.cancelled`; `shop:order.packed` is
/// awaited by a `wait_for` in [`WAIT_FOR`].
const THREE_STEPS: &str = r#"
name = "three-steps"
zone = "fulfillment"
version = 1

[trigger]
source = "shop"
event = "order.created"
key = "{{ event.data.object.id }}"

[cancel_on]
events = ["shop:order.cancelled"]

[[steps]]
id = "notify"
call = "http"
with = { method = "POST", url = "https://example.invalid/orders", json = { order = "{{ trigger.data.object.id }}" } }

[[steps]]
id = "pause"
wait = "3d"

[[steps]]
id = "follow_up"
call = "helpdesk.add_note"
with = { order = "{{ trigger.data.object.id }}", note = "paused {{ steps.pause.attempts }} time(s)" }
"#;

const RETRIES: &str = r#"
name = "retries"
zone = "order_to_cash"
version = 2

[trigger]
source = "stripe"
event = "invoice.payment_failed"
key = "{{ event.data.object.id }}"

[[steps]]
id = "retry"
call = "stripe.pay_invoice"
with = { invoice = "{{ trigger.data.object.id }}" }
schedule = { after = ["1d", "3d", "5d"] }
retry_on = ["soft_decline", "server_error"]
until = "{{ result.status == 'paid' }}"
outcome = "recovered"
on_exhausted = "escalate"
on_fatal = "escalate"
next = "end"

[[steps]]
id = "escalate"
escalate = { team = "finance", due = "2d", title = "{{ trigger.data.object.id }} unpaid after {{ steps.retry.attempts }} tries", on_dismiss = "fail" }
next = "end"
"#;

const WAIT_FOR: &str = r#"
name = "wait-for"
zone = "fulfillment"
version = 1

[trigger]
source = "shop"
event = "order.created"
key = "{{ event.data.object.id }}"

[cancel_on]
events = ["shop:order.cancelled"]

[[steps]]
id = "hand_over"
call = "warehouse.create_shipment"
with = { order = "{{ trigger.data.object.id }}" }

[[steps]]
id = "packed"
wait_for = { event = "shop:order.packed", timeout = "2d", on_timeout = "fail" }
outcome = "{{ 'packed by ' ~ steps.packed.result.data.object.packer }}"
"#;

const PLAYBOOK: &str = include_str!("fixtures/failed-payment-recovery.toml");

#[test]
fn three_steps_with_a_three_day_wait_fire_exactly_on_time() {
    check(
        THREE_STEPS,
        "
        start shop:order.created ord_1
        ok notify 1 {\"status\": 201}
        fire
        ok follow_up 1 {}
        ",
        r#"
> start shop:order.created ord_1 @ 2026-01-05T10:00:00Z
  audit started: order.created evt_1 for key ord_1
  audit step_entered notify
  audit attempt_started notify#1: http key seam-run_1-notify-1
  call notify#1 http {"json":{"order":"ord_1"},"method":"POST","url":"https://example.invalid/orders"} key=seam-run_1-notify-1
  = running, waits for notify#1 result, no wake-up
> ok notify 1 {"status": 201} @ 2026-01-05T10:00:00Z
  audit attempt_succeeded notify#1
  audit step_entered pause
  audit waiting pause: until 2026-01-08T10:00:00Z
  set timer 1 at 2026-01-08T10:00:00Z
  = running, waits in pause, wakes at 2026-01-08T10:00:00Z
> fire @ 2026-01-08T10:00:00Z
  audit waiting pause: wait over at 2026-01-08T10:00:00Z
  audit step_entered follow_up
  audit attempt_started follow_up#1: helpdesk.add_note key seam-run_1-follow_up-1
  call follow_up#1 helpdesk.add_note {"note":"paused 1 time(s)","order":"ord_1"} key=seam-run_1-follow_up-1
  = running, waits for follow_up#1 result, no wake-up
> ok follow_up 1 {} @ 2026-01-08T10:00:00Z
  audit attempt_succeeded follow_up#1
  audit completed: Succeeded: completed
  complete Succeeded completed
  = succeeded
"#,
    );
}

#[test]
fn retries_follow_the_schedule_with_one_key_per_attempt_then_escalate() {
    check(
        RETRIES,
        "
        start stripe:invoice.payment_failed in_1
        fire
        replay
        err retry 1 retryable soft_decline insufficient_funds
        err retry 1 retryable soft_decline insufficient_funds
        fire
        ok retry 2 {\"status\": \"open\"}
        fire
        err retry 3 retryable server_error 503
        ",
        r#"
> start stripe:invoice.payment_failed in_1 @ 2026-01-05T10:00:00Z
  audit started: invoice.payment_failed evt_1 for key in_1
  audit step_entered retry
  audit attempt_scheduled retry#1: at 2026-01-06T10:00:00Z
  set timer 1 at 2026-01-06T10:00:00Z
  = running, waits for retry#1 due, wakes at 2026-01-06T10:00:00Z
> fire @ 2026-01-06T10:00:00Z
  audit attempt_started retry#1: stripe.pay_invoice key seam-run_1-retry-1
  call retry#1 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-1
  = running, waits for retry#1 result, no wake-up
> replay @ 2026-01-06T10:00:00Z
  audit attempt_started retry#1: stripe.pay_invoice key seam-run_1-retry-1
  call retry#1 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-1
  = running, waits for retry#1 result, no wake-up
> err retry 1 retryable soft_decline insufficient_funds @ 2026-01-06T10:00:00Z
  audit attempt_failed retry#1: soft_decline: insufficient_funds
  audit attempt_scheduled retry#2: at 2026-01-09T10:00:00Z
  set timer 2 at 2026-01-09T10:00:00Z
  = running, waits for retry#2 due, wakes at 2026-01-09T10:00:00Z
> err retry 1 retryable soft_decline insufficient_funds @ 2026-01-06T10:00:00Z
  audit ignored: result of retry attempt 1: stale; retry attempt 2 is not made yet
  = running, waits for retry#2 due, wakes at 2026-01-09T10:00:00Z
> fire @ 2026-01-09T10:00:00Z
  audit attempt_started retry#2: stripe.pay_invoice key seam-run_1-retry-2
  call retry#2 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-2
  = running, waits for retry#2 result, no wake-up
> ok retry 2 {"status": "open"} @ 2026-01-09T10:00:00Z
  audit attempt_failed retry#2: unsatisfied: `until` is false: {{ result.status == 'paid' }}
  audit attempt_scheduled retry#3: at 2026-01-14T10:00:00Z
  set timer 3 at 2026-01-14T10:00:00Z
  = running, waits for retry#3 due, wakes at 2026-01-14T10:00:00Z
> fire @ 2026-01-14T10:00:00Z
  audit attempt_started retry#3: stripe.pay_invoice key seam-run_1-retry-3
  call retry#3 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-3
  = running, waits for retry#3 result, no wake-up
> err retry 3 retryable server_error 503 @ 2026-01-14T10:00:00Z
  audit attempt_failed retry#3: server_error: 503
  audit exhausted retry#3: attempts made: 3
  audit step_entered escalate
  audit escalated escalate: seam-run_1-escalate-1 to finance: in_1 unpaid after 3 tries
  escalate seam-run_1-escalate-1 finance order_to_cash "in_1 unpaid after 3 tries" due 2026-01-16T10:00:00Z {}
  set timer 4 at 2026-01-16T10:00:00Z
  = running, waits for decision on seam-run_1-escalate-1, wakes at 2026-01-16T10:00:00Z
"#,
    );
}

#[test]
fn a_fatal_error_skips_the_remaining_retries() {
    check(
        RETRIES,
        "
        start stripe:invoice.payment_failed in_1
        fire
        err retry 1 fatal hard_decline expired_card
        ",
        r#"
> start stripe:invoice.payment_failed in_1 @ 2026-01-05T10:00:00Z
  audit started: invoice.payment_failed evt_1 for key in_1
  audit step_entered retry
  audit attempt_scheduled retry#1: at 2026-01-06T10:00:00Z
  set timer 1 at 2026-01-06T10:00:00Z
  = running, waits for retry#1 due, wakes at 2026-01-06T10:00:00Z
> fire @ 2026-01-06T10:00:00Z
  audit attempt_started retry#1: stripe.pay_invoice key seam-run_1-retry-1
  call retry#1 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-1
  = running, waits for retry#1 result, no wake-up
> err retry 1 fatal hard_decline expired_card @ 2026-01-06T10:00:00Z
  audit attempt_failed retry#1: hard_decline: expired_card
  audit attempt_failed retry#1: hard_decline is fatal; no retry
  audit step_entered escalate
  audit escalated escalate: seam-run_1-escalate-1 to finance: in_1 unpaid after 1 tries
  escalate seam-run_1-escalate-1 finance order_to_cash "in_1 unpaid after 1 tries" due 2026-01-08T10:00:00Z {}
  set timer 2 at 2026-01-08T10:00:00Z
  = running, waits for decision on seam-run_1-escalate-1, wakes at 2026-01-08T10:00:00Z
"#,
    );
}

#[test]
fn resolve_continues_with_next() {
    check(
        RETRIES,
        "
        start stripe:invoice.payment_failed in_1
        fire
        err retry 1 fatal hard_decline expired_card
        decide resolve seam-run_1-escalate-9
        decide resolve
        decide resolve
        ",
        r#"
> start stripe:invoice.payment_failed in_1 @ 2026-01-05T10:00:00Z
  audit started: invoice.payment_failed evt_1 for key in_1
  audit step_entered retry
  audit attempt_scheduled retry#1: at 2026-01-06T10:00:00Z
  set timer 1 at 2026-01-06T10:00:00Z
  = running, waits for retry#1 due, wakes at 2026-01-06T10:00:00Z
> fire @ 2026-01-06T10:00:00Z
  audit attempt_started retry#1: stripe.pay_invoice key seam-run_1-retry-1
  call retry#1 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-1
  = running, waits for retry#1 result, no wake-up
> err retry 1 fatal hard_decline expired_card @ 2026-01-06T10:00:00Z
  audit attempt_failed retry#1: hard_decline: expired_card
  audit attempt_failed retry#1: hard_decline is fatal; no retry
  audit step_entered escalate
  audit escalated escalate: seam-run_1-escalate-1 to finance: in_1 unpaid after 1 tries
  escalate seam-run_1-escalate-1 finance order_to_cash "in_1 unpaid after 1 tries" due 2026-01-08T10:00:00Z {}
  set timer 2 at 2026-01-08T10:00:00Z
  = running, waits for decision on seam-run_1-escalate-1, wakes at 2026-01-08T10:00:00Z
> decide resolve seam-run_1-escalate-9 @ 2026-01-06T10:00:00Z
  audit ignored: decision resolve on seam-run_1-escalate-9 by ana: stale; the run waits for a decision on seam-run_1-escalate-1
  = running, waits for decision on seam-run_1-escalate-1, wakes at 2026-01-08T10:00:00Z
> decide resolve @ 2026-01-06T10:00:00Z
  audit decided escalate: resolve by ana on seam-run_1-escalate-1
  audit completed: Succeeded: resolved
  complete Succeeded resolved
  = succeeded
> decide resolve @ 2026-01-06T10:00:00Z
  audit ignored: decision resolve on none by ana: the run has finished
  = succeeded
"#,
    );
}

#[test]
fn dismiss_goes_to_on_dismiss() {
    check(
        RETRIES,
        "
        start stripe:invoice.payment_failed in_1
        fire
        err retry 1 fatal hard_decline expired_card
        fire
        decide dismiss
        ",
        r#"
> start stripe:invoice.payment_failed in_1 @ 2026-01-05T10:00:00Z
  audit started: invoice.payment_failed evt_1 for key in_1
  audit step_entered retry
  audit attempt_scheduled retry#1: at 2026-01-06T10:00:00Z
  set timer 1 at 2026-01-06T10:00:00Z
  = running, waits for retry#1 due, wakes at 2026-01-06T10:00:00Z
> fire @ 2026-01-06T10:00:00Z
  audit attempt_started retry#1: stripe.pay_invoice key seam-run_1-retry-1
  call retry#1 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-1
  = running, waits for retry#1 result, no wake-up
> err retry 1 fatal hard_decline expired_card @ 2026-01-06T10:00:00Z
  audit attempt_failed retry#1: hard_decline: expired_card
  audit attempt_failed retry#1: hard_decline is fatal; no retry
  audit step_entered escalate
  audit escalated escalate: seam-run_1-escalate-1 to finance: in_1 unpaid after 1 tries
  escalate seam-run_1-escalate-1 finance order_to_cash "in_1 unpaid after 1 tries" due 2026-01-08T10:00:00Z {}
  set timer 2 at 2026-01-08T10:00:00Z
  = running, waits for decision on seam-run_1-escalate-1, wakes at 2026-01-08T10:00:00Z
> fire @ 2026-01-08T10:00:00Z
  audit overdue escalate: escalation seam-run_1-escalate-1 is past due
  = running, waits for decision on seam-run_1-escalate-1, no wake-up
> decide dismiss @ 2026-01-08T10:00:00Z
  audit decided escalate: dismiss by ana on seam-run_1-escalate-1
  audit completed: Failed: dismissed
  complete Failed dismissed
  = failed
"#,
    );
}

#[test]
fn retry_makes_one_more_attempt_now_and_escalates_again_if_it_fails() {
    check(
        RETRIES,
        "
        start stripe:invoice.payment_failed in_1
        fire
        err retry 1 fatal hard_decline expired_card
        advance 1h
        decide retry
        err retry 2 retryable soft_decline insufficient_funds
        decide retry
        ok retry 3 {\"status\": \"paid\"}
        ",
        r#"
> start stripe:invoice.payment_failed in_1 @ 2026-01-05T10:00:00Z
  audit started: invoice.payment_failed evt_1 for key in_1
  audit step_entered retry
  audit attempt_scheduled retry#1: at 2026-01-06T10:00:00Z
  set timer 1 at 2026-01-06T10:00:00Z
  = running, waits for retry#1 due, wakes at 2026-01-06T10:00:00Z
> fire @ 2026-01-06T10:00:00Z
  audit attempt_started retry#1: stripe.pay_invoice key seam-run_1-retry-1
  call retry#1 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-1
  = running, waits for retry#1 result, no wake-up
> err retry 1 fatal hard_decline expired_card @ 2026-01-06T10:00:00Z
  audit attempt_failed retry#1: hard_decline: expired_card
  audit attempt_failed retry#1: hard_decline is fatal; no retry
  audit step_entered escalate
  audit escalated escalate: seam-run_1-escalate-1 to finance: in_1 unpaid after 1 tries
  escalate seam-run_1-escalate-1 finance order_to_cash "in_1 unpaid after 1 tries" due 2026-01-08T10:00:00Z {}
  set timer 2 at 2026-01-08T10:00:00Z
  = running, waits for decision on seam-run_1-escalate-1, wakes at 2026-01-08T10:00:00Z
> advance 1h @ 2026-01-06T11:00:00Z
> decide retry @ 2026-01-06T11:00:00Z
  audit decided escalate: retry by ana on seam-run_1-escalate-1
  audit attempt_started retry#2: stripe.pay_invoice key seam-run_1-retry-2
  call retry#2 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-2
  = running, waits for retry#2 result, no wake-up
> err retry 2 retryable soft_decline insufficient_funds @ 2026-01-06T11:00:00Z
  audit attempt_failed retry#2: soft_decline: insufficient_funds
  audit exhausted retry#2: attempts made: 1
  audit step_entered escalate
  audit escalated escalate: seam-run_1-escalate-2 to finance: in_1 unpaid after 2 tries
  escalate seam-run_1-escalate-2 finance order_to_cash "in_1 unpaid after 2 tries" due 2026-01-08T11:00:00Z {}
  set timer 3 at 2026-01-08T11:00:00Z
  = running, waits for decision on seam-run_1-escalate-2, wakes at 2026-01-08T11:00:00Z
> decide retry @ 2026-01-06T11:00:00Z
  audit decided escalate: retry by ana on seam-run_1-escalate-2
  audit attempt_started retry#3: stripe.pay_invoice key seam-run_1-retry-3
  call retry#3 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-3
  = running, waits for retry#3 result, no wake-up
> ok retry 3 {"status": "paid"} @ 2026-01-06T11:00:00Z
  audit attempt_succeeded retry#3
  audit completed: Succeeded: recovered
  complete Succeeded recovered
  = succeeded
"#,
    );
}

#[test]
fn cancel_before_the_wait_wins_over_the_call_in_flight() {
    check(
        THREE_STEPS,
        "
        start shop:order.created ord_1
        event shop:order.cancelled ord_2
        event shop:order.cancelled ord_1
        ok notify 1 {}
        ",
        r#"
> start shop:order.created ord_1 @ 2026-01-05T10:00:00Z
  audit started: order.created evt_1 for key ord_1
  audit step_entered notify
  audit attempt_started notify#1: http key seam-run_1-notify-1
  call notify#1 http {"json":{"order":"ord_1"},"method":"POST","url":"https://example.invalid/orders"} key=seam-run_1-notify-1
  = running, waits for notify#1 result, no wake-up
> event shop:order.cancelled ord_2 @ 2026-01-05T10:00:00Z
  audit ignored: shop:order.cancelled evt_2: nothing in this run listens for it
  = running, waits for notify#1 result, no wake-up
> event shop:order.cancelled ord_1 @ 2026-01-05T10:00:00Z
  audit cancelled: event shop:order.cancelled evt_3
  audit completed: Cancelled: cancelled
  complete Cancelled cancelled
  = cancelled
> ok notify 1 {} @ 2026-01-05T10:00:00Z
  audit ignored: result of notify attempt 1: the run was cancelled
  = cancelled
"#,
    );
}

#[test]
fn cancel_during_the_wait_stops_the_timer() {
    check(
        THREE_STEPS,
        "
        start shop:order.created ord_1
        ok notify 1 {}
        advance 1d
        cancel operator asked
        timer 1
        ",
        r#"
> start shop:order.created ord_1 @ 2026-01-05T10:00:00Z
  audit started: order.created evt_1 for key ord_1
  audit step_entered notify
  audit attempt_started notify#1: http key seam-run_1-notify-1
  call notify#1 http {"json":{"order":"ord_1"},"method":"POST","url":"https://example.invalid/orders"} key=seam-run_1-notify-1
  = running, waits for notify#1 result, no wake-up
> ok notify 1 {} @ 2026-01-05T10:00:00Z
  audit attempt_succeeded notify#1
  audit step_entered pause
  audit waiting pause: until 2026-01-08T10:00:00Z
  set timer 1 at 2026-01-08T10:00:00Z
  = running, waits in pause, wakes at 2026-01-08T10:00:00Z
> advance 1d @ 2026-01-06T10:00:00Z
> cancel operator asked @ 2026-01-06T10:00:00Z
  audit cancelled: operator asked
  audit completed: Cancelled: cancelled
  complete Cancelled cancelled
  = cancelled
> timer 1 @ 2026-01-06T10:00:00Z
  audit ignored: timer 1 is not the run's current timer
  = cancelled
"#,
    );
}

#[test]
fn cancel_after_the_wait_stops_the_last_call_and_after_the_end_changes_nothing() {
    check(
        THREE_STEPS,
        "
        start shop:order.created ord_1
        ok notify 1 {}
        fire
        event shop:order.cancelled ord_1
        ok follow_up 1 {}
        cancel again
        ",
        r#"
> start shop:order.created ord_1 @ 2026-01-05T10:00:00Z
  audit started: order.created evt_1 for key ord_1
  audit step_entered notify
  audit attempt_started notify#1: http key seam-run_1-notify-1
  call notify#1 http {"json":{"order":"ord_1"},"method":"POST","url":"https://example.invalid/orders"} key=seam-run_1-notify-1
  = running, waits for notify#1 result, no wake-up
> ok notify 1 {} @ 2026-01-05T10:00:00Z
  audit attempt_succeeded notify#1
  audit step_entered pause
  audit waiting pause: until 2026-01-08T10:00:00Z
  set timer 1 at 2026-01-08T10:00:00Z
  = running, waits in pause, wakes at 2026-01-08T10:00:00Z
> fire @ 2026-01-08T10:00:00Z
  audit waiting pause: wait over at 2026-01-08T10:00:00Z
  audit step_entered follow_up
  audit attempt_started follow_up#1: helpdesk.add_note key seam-run_1-follow_up-1
  call follow_up#1 helpdesk.add_note {"note":"paused 1 time(s)","order":"ord_1"} key=seam-run_1-follow_up-1
  = running, waits for follow_up#1 result, no wake-up
> event shop:order.cancelled ord_1 @ 2026-01-08T10:00:00Z
  audit cancelled: event shop:order.cancelled evt_2
  audit completed: Cancelled: cancelled
  complete Cancelled cancelled
  = cancelled
> ok follow_up 1 {} @ 2026-01-08T10:00:00Z
  audit ignored: result of follow_up attempt 1: the run was cancelled
  = cancelled
> cancel again @ 2026-01-08T10:00:00Z
  audit ignored: cancel (again): the run is already finished or cancelled
  = cancelled
"#,
    );
}

#[test]
fn a_cancel_that_arrived_before_the_trigger_cancels_at_start() {
    check(
        THREE_STEPS,
        "
        early shop:order.cancelled ord_1
        start shop:order.created ord_1
        ",
        r#"
> early shop:order.cancelled ord_1
> start shop:order.created ord_1 @ 2026-01-05T10:00:00Z
  audit started: order.created evt_2 for key ord_1
  audit cancelled: event shop:order.cancelled evt_1
  audit completed: Cancelled: cancelled
  complete Cancelled cancelled
  = cancelled
"#,
    );
}

#[test]
fn an_event_before_its_wait_is_kept_and_matched_when_the_wait_starts() {
    check(
        WAIT_FOR,
        "
        start shop:order.created ord_1
        event shop:order.packed ord_2
        event shop:order.packed ord_1
        event shop:order.packed ord_1
        ok hand_over 1 {}
        ",
        r#"
> start shop:order.created ord_1 @ 2026-01-05T10:00:00Z
  audit started: order.created evt_1 for key ord_1
  audit step_entered hand_over
  audit attempt_started hand_over#1: warehouse.create_shipment key seam-run_1-hand_over-1
  call hand_over#1 warehouse.create_shipment {"order":"ord_1"} key=seam-run_1-hand_over-1
  = running, waits for hand_over#1 result, no wake-up
> event shop:order.packed ord_2 @ 2026-01-05T10:00:00Z
  audit ignored: shop:order.packed evt_2: nothing in this run listens for it
  = running, waits for hand_over#1 result, no wake-up
> event shop:order.packed ord_1 @ 2026-01-05T10:00:00Z
  audit event_buffered: shop:order.packed evt_3: kept for a later wait_for
  = running, waits for hand_over#1 result, no wake-up, keeps 1 event(s)
> event shop:order.packed ord_1 @ 2026-01-05T10:00:00Z
  audit event_buffered: shop:order.packed evt_4: kept for a later wait_for
  = running, waits for hand_over#1 result, no wake-up, keeps 2 event(s)
> ok hand_over 1 {} @ 2026-01-05T10:00:00Z
  audit attempt_succeeded hand_over#1
  audit step_entered packed
  audit event_matched packed: order.packed evt_3 arrived early and was kept
  audit completed: Succeeded: packed by sam
  complete Succeeded packed by sam
  = succeeded
"#,
    );
}

#[test]
fn a_wait_for_times_out_without_its_event() {
    check(
        WAIT_FOR,
        "
        start shop:order.created ord_1
        ok hand_over 1 {}
        fire
        ",
        r#"
> start shop:order.created ord_1 @ 2026-01-05T10:00:00Z
  audit started: order.created evt_1 for key ord_1
  audit step_entered hand_over
  audit attempt_started hand_over#1: warehouse.create_shipment key seam-run_1-hand_over-1
  call hand_over#1 warehouse.create_shipment {"order":"ord_1"} key=seam-run_1-hand_over-1
  = running, waits for hand_over#1 result, no wake-up
> ok hand_over 1 {} @ 2026-01-05T10:00:00Z
  audit attempt_succeeded hand_over#1
  audit step_entered packed
  audit waiting packed: for shop:order.packed until 2026-01-07T10:00:00Z
  set timer 1 at 2026-01-07T10:00:00Z
  = running, waits in packed for shop:order.packed, wakes at 2026-01-07T10:00:00Z
> fire @ 2026-01-07T10:00:00Z
  audit timed_out packed: no shop:order.packed by 2026-01-07T10:00:00Z
  audit completed: Failed: timed_out
  complete Failed timed_out
  = failed
"#,
    );
}

#[test]
fn a_wait_for_wakes_on_its_event() {
    check(
        WAIT_FOR,
        "
        start shop:order.created ord_1
        ok hand_over 1 {}
        advance 1h
        event shop:order.packed ord_1
        ",
        r#"
> start shop:order.created ord_1 @ 2026-01-05T10:00:00Z
  audit started: order.created evt_1 for key ord_1
  audit step_entered hand_over
  audit attempt_started hand_over#1: warehouse.create_shipment key seam-run_1-hand_over-1
  call hand_over#1 warehouse.create_shipment {"order":"ord_1"} key=seam-run_1-hand_over-1
  = running, waits for hand_over#1 result, no wake-up
> ok hand_over 1 {} @ 2026-01-05T10:00:00Z
  audit attempt_succeeded hand_over#1
  audit step_entered packed
  audit waiting packed: for shop:order.packed until 2026-01-07T10:00:00Z
  set timer 1 at 2026-01-07T10:00:00Z
  = running, waits in packed for shop:order.packed, wakes at 2026-01-07T10:00:00Z
> advance 1h @ 2026-01-05T11:00:00Z
> event shop:order.packed ord_1 @ 2026-01-05T11:00:00Z
  audit event_matched packed: shop:order.packed evt_2
  audit completed: Succeeded: packed by sam
  complete Succeeded packed by sam
  = succeeded
"#,
    );
}

#[test]
fn a_second_trigger_for_a_live_key_is_ignored() {
    check(
        RETRIES,
        "
        start stripe:invoice.payment_failed in_1
        start stripe:invoice.payment_failed in_1
        ",
        r#"
> start stripe:invoice.payment_failed in_1 @ 2026-01-05T10:00:00Z
  audit started: invoice.payment_failed evt_1 for key in_1
  audit step_entered retry
  audit attempt_scheduled retry#1: at 2026-01-06T10:00:00Z
  set timer 1 at 2026-01-06T10:00:00Z
  = running, waits for retry#1 due, wakes at 2026-01-06T10:00:00Z
> start stripe:invoice.payment_failed in_1 @ 2026-01-05T10:00:00Z
  audit ignored: second trigger invoice.payment_failed evt_2: a run for this key is live (if_running = ignore)
  = running, waits for retry#1 due, wakes at 2026-01-06T10:00:00Z
"#,
    );
}

#[test]
fn playbook_recovers_on_the_second_attempt_and_records_it() {
    check(
        PLAYBOOK,
        "
        start stripe:invoice.payment_failed in_1
        fire
        err retry 1 retryable soft_decline insufficient_funds
        fire
        ok retry 2 {\"status\": \"paid\"}
        ",
        r#"
> start stripe:invoice.payment_failed in_1 @ 2026-01-05T10:00:00Z
  audit started: invoice.payment_failed evt_1 for key in_1
  audit step_entered retry
  audit attempt_scheduled retry#1: at 2026-01-06T09:00:00Z
  set timer 1 at 2026-01-06T09:00:00Z
  = running, waits for retry#1 due, wakes at 2026-01-06T09:00:00Z
> fire @ 2026-01-06T09:00:00Z
  audit attempt_started retry#1: stripe.pay_invoice key seam-run_1-retry-1
  call retry#1 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-1
  = running, waits for retry#1 result, no wake-up
> err retry 1 retryable soft_decline insufficient_funds @ 2026-01-06T09:00:00Z
  audit attempt_failed retry#1: soft_decline: insufficient_funds
  audit attempt_scheduled retry#2: at 2026-01-09T09:33:28Z
  set timer 2 at 2026-01-09T09:33:28Z
  = running, waits for retry#2 due, wakes at 2026-01-09T09:33:28Z
> fire @ 2026-01-09T09:33:28Z
  audit attempt_started retry#2: stripe.pay_invoice key seam-run_1-retry-2
  call retry#2 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-2
  = running, waits for retry#2 result, no wake-up
> ok retry 2 {"status": "paid"} @ 2026-01-09T09:33:28Z
  audit attempt_succeeded retry#2
  audit step_entered record
  audit recorded record: to finance
  record finance {"amount_minor":4900,"attempts":2,"currency":"usd","customer":"cus_9","decision":"none","invoice":"in_1","outcome":"recovered","recovered_minor":4900} key=seam-run_1-record-1
  audit completed: Succeeded: recovered
  complete Succeeded recovered
  = succeeded
"#,
    );
}

#[test]
fn playbook_sends_a_hard_decline_to_the_customer_update_path() {
    check(
        PLAYBOOK,
        "
        start stripe:invoice.payment_failed in_1
        fire
        err retry 1 fatal hard_decline expired_card
        ok customer_update 1 {}
        fire
        decide dismiss
        ",
        r#"
> start stripe:invoice.payment_failed in_1 @ 2026-01-05T10:00:00Z
  audit started: invoice.payment_failed evt_1 for key in_1
  audit step_entered retry
  audit attempt_scheduled retry#1: at 2026-01-06T09:00:00Z
  set timer 1 at 2026-01-06T09:00:00Z
  = running, waits for retry#1 due, wakes at 2026-01-06T09:00:00Z
> fire @ 2026-01-06T09:00:00Z
  audit attempt_started retry#1: stripe.pay_invoice key seam-run_1-retry-1
  call retry#1 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-1
  = running, waits for retry#1 result, no wake-up
> err retry 1 fatal hard_decline expired_card @ 2026-01-06T09:00:00Z
  audit attempt_failed retry#1: hard_decline: expired_card
  audit attempt_failed retry#1: hard_decline is fatal; no retry
  audit step_entered customer_update
  audit attempt_started customer_update#1: stripe.send_invoice key seam-run_1-customer_update-1
  call customer_update#1 stripe.send_invoice {"invoice":"in_1"} key=seam-run_1-customer_update-1
  = running, waits for customer_update#1 result, no wake-up
> ok customer_update 1 {} @ 2026-01-06T09:00:00Z
  audit attempt_succeeded customer_update#1
  audit step_entered await_customer
  audit waiting await_customer: until 2026-01-13T09:00:00Z
  set timer 2 at 2026-01-13T09:00:00Z
  = running, waits in await_customer, wakes at 2026-01-13T09:00:00Z
> fire @ 2026-01-13T09:00:00Z
  audit waiting await_customer: wait over at 2026-01-13T09:00:00Z
  audit step_entered escalate
  audit escalated escalate: seam-run_1-escalate-1 to finance: Invoice INV-0042 unpaid after 1 tries
  escalate seam-run_1-escalate-1 finance order_to_cash "Invoice INV-0042 unpaid after 1 tries" due 2026-01-15T09:00:00Z {"amount_minor":4900,"attempt_times":["2026-01-06T09:00:00Z"],"currency":"usd","customer":"cus_9","declines":["hard_decline"],"invoice":"in_1"}
  set timer 3 at 2026-01-15T09:00:00Z
  = running, waits for decision on seam-run_1-escalate-1, wakes at 2026-01-15T09:00:00Z
> decide dismiss @ 2026-01-13T09:00:00Z
  audit decided escalate: dismiss by ana on seam-run_1-escalate-1
  audit step_entered record
  audit recorded record: to finance
  record finance {"amount_minor":4900,"attempts":1,"currency":"usd","customer":"cus_9","decision":"dismiss","invoice":"in_1","outcome":"dismissed","recovered_minor":0} key=seam-run_1-record-1
  audit completed: Succeeded: dismissed
  complete Succeeded dismissed
  = succeeded
"#,
    );
}

#[test]
fn playbook_invoice_paid_during_the_schedule_cancels_and_records() {
    check(
        PLAYBOOK,
        "
        start stripe:invoice.payment_failed in_1
        fire
        err retry 1 retryable soft_decline insufficient_funds
        event stripe:invoice.paid in_1
        timer 2
        ok retry 2 {\"status\": \"paid\"}
        ",
        r#"
> start stripe:invoice.payment_failed in_1 @ 2026-01-05T10:00:00Z
  audit started: invoice.payment_failed evt_1 for key in_1
  audit step_entered retry
  audit attempt_scheduled retry#1: at 2026-01-06T09:00:00Z
  set timer 1 at 2026-01-06T09:00:00Z
  = running, waits for retry#1 due, wakes at 2026-01-06T09:00:00Z
> fire @ 2026-01-06T09:00:00Z
  audit attempt_started retry#1: stripe.pay_invoice key seam-run_1-retry-1
  call retry#1 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-1
  = running, waits for retry#1 result, no wake-up
> err retry 1 retryable soft_decline insufficient_funds @ 2026-01-06T09:00:00Z
  audit attempt_failed retry#1: soft_decline: insufficient_funds
  audit attempt_scheduled retry#2: at 2026-01-09T09:33:28Z
  set timer 2 at 2026-01-09T09:33:28Z
  = running, waits for retry#2 due, wakes at 2026-01-09T09:33:28Z
> event stripe:invoice.paid in_1 @ 2026-01-06T09:00:00Z
  audit cancelled: event stripe:invoice.paid evt_2
  audit step_entered record
  audit recorded record: to finance
  record finance {"amount_minor":4900,"attempts":1,"currency":"usd","customer":"cus_9","decision":"none","invoice":"in_1","outcome":"cancelled","recovered_minor":4900} key=seam-run_1-record-1
  audit completed: Cancelled: cancelled
  complete Cancelled cancelled
  = cancelled
> timer 2 @ 2026-01-06T09:00:00Z
  audit ignored: timer 2 is not the run's current timer
  = cancelled
> ok retry 2 {"status": "paid"} @ 2026-01-06T09:00:00Z
  audit ignored: result of retry attempt 2: the run was cancelled
  = cancelled
"#,
    );
}

const BRANCHES: &str = r#"
name = "branches"
zone = "post_purchase"
version = 1

[trigger]
source = "shop"
event = "order.created"
key = "{{ event.data.object.id }}"

[[steps]]
id = "big"
condition = { if = "{{ trigger.data.object.amount_due > 1000 }}", else = "small" }

[[steps]]
id = "until_due"
wait = { until = "{{ trigger.data.object.due }}" }
next = "book"

[[steps]]
id = "small"
condition = { if = "{{ false }}", then = "small" }
outcome = "small order"

[[steps]]
id = "book"
record = { ledger = "sales", order = "{{ trigger.data.object.id }}", amount = "{{ trigger.data.object.amount_due }}", missing = "{{ trigger.data.object.nope }}", branch = "{{ 'big' if steps.big.result else 'small' }}" }
"#;

#[test]
fn conditions_branch_and_a_wait_can_run_until_a_time_in_the_data() {
    check(
        BRANCHES,
        "
        start shop:order.created ord_1
        fire
        ",
        r#"
> start shop:order.created ord_1 @ 2026-01-05T10:00:00Z
  audit started: order.created evt_1 for key ord_1
  audit step_entered big
  audit step_entered big: true: go to until_due
  audit step_entered until_due
  audit waiting until_due: until 2026-01-20T08:00:00Z
  set timer 1 at 2026-01-20T08:00:00Z
  = running, waits in until_due, wakes at 2026-01-20T08:00:00Z
> fire @ 2026-01-20T08:00:00Z
  audit waiting until_due: wait over at 2026-01-20T08:00:00Z
  audit step_entered book
  audit template_failed book: missing: template `trigger.data.object.nope` is undefined for this run
  audit recorded book: to sales
  record sales {"amount":4900,"branch":"big","missing":null,"order":"ord_1","template_errors":["missing: template `trigger.data.object.nope` is undefined for this run"]} key=seam-run_1-book-1
  audit completed: Succeeded: completed
  complete Succeeded completed
  = succeeded
"#,
    );
}

#[test]
fn a_loop_of_steps_that_never_wait_fails_the_run() {
    // `small` jumps to itself without ever waiting; the transition must end instead of spinning.
    let def = workflow_from(
        &BRANCHES.replace("amount_due > 1000", "amount_due > 100000").replace("{{ false }}", "{{ true }}"),
    );
    let state = RunState::new(&def, RunId::new("run_1").unwrap(), 7);
    let input = Input::Start { trigger: event(1, "shop:order.created", "ord_1"), earlier: Vec::new() };
    let transition = apply(&def, &state, input, Timestamp::parse_rfc3339(START).unwrap()).unwrap();
    let shown: Vec<String> = transition.effects.iter().rev().take(3).map(show_effect).collect();
    assert_eq!(
        shown,
        [
            "complete Failed loop",
            "audit completed: Failed: loop",
            "audit completed small: passed 100 steps without waiting; the workflow loops",
        ]
    );
}

#[test]
fn restart_cancels_the_live_run_and_asks_for_a_new_one() {
    check(
        &RETRIES.replace(
            "key = \"{{ event.data.object.id }}\"\n",
            "key = \"{{ event.data.object.id }}\"\nif_running = \"restart\"\n",
        ),
        "
        start stripe:invoice.payment_failed in_1
        start stripe:invoice.payment_failed in_1
        ",
        r#"
> start stripe:invoice.payment_failed in_1 @ 2026-01-05T10:00:00Z
  audit started: invoice.payment_failed evt_1 for key in_1
  audit step_entered retry
  audit attempt_scheduled retry#1: at 2026-01-06T10:00:00Z
  set timer 1 at 2026-01-06T10:00:00Z
  = running, waits for retry#1 due, wakes at 2026-01-06T10:00:00Z
> start stripe:invoice.payment_failed in_1 @ 2026-01-05T10:00:00Z
  audit cancelled: second trigger invoice.payment_failed evt_2: restarting (if_running = restart)
  audit completed: Cancelled: restarted
  complete Cancelled restarted
  start a new run from evt_2
  = cancelled
"#,
    );
}

#[test]
fn events_are_routed_by_the_keys_the_workflow_extracts() {
    let def = workflow_from(PLAYBOOK);
    let failed = event(1, "stripe:invoice.payment_failed", "in_7");
    assert_eq!(def.trigger_key(&failed).unwrap().unwrap().as_str(), "in_7");
    assert!(def.listening_keys(&failed).is_empty());
    let paid = event(2, "stripe:invoice.paid", "in_7");
    assert!(def.trigger_key(&paid).is_none());
    let keys: Vec<String> = def.listening_keys(&paid).iter().map(ToString::to_string).collect();
    assert_eq!(keys, ["in_7"]);
}

#[test]
fn a_failed_step_keeps_its_status_when_the_run_fails() {
    let def = workflow_from(&RETRIES.replace("on_fatal = \"escalate\"", "on_fatal = \"fail\""));
    let mut state = RunState::new(&def, RunId::new("run_1").unwrap(), 7);
    let now = Timestamp::parse_rfc3339(START).unwrap();
    let start =
        Input::Start { trigger: event(1, "stripe:invoice.payment_failed", "in_1"), earlier: Vec::new() };
    state = apply(&def, &state, start, now).unwrap().state;
    let timer = state.timer.unwrap();
    state = apply(&def, &state, Input::TimerFired { timer: timer.id }, timer.at).unwrap().state;
    let outcome =
        CallOutcome::Err { class: ErrorClass::Fatal(ErrorKind::HardDecline), message: "lost_card".into() };
    let result = Input::StepResult { step: StepId::parse("retry").unwrap(), attempt: 1, outcome };
    state = apply(&def, &state, result, timer.at).unwrap().state;
    let retry = &state.steps[&StepId::parse("retry").unwrap()];
    assert_eq!((retry.status.as_str(), state.outcome.as_str()), ("failed", "hard_decline"));
    assert_eq!(retry.errors.len(), 1);
    assert!(state.is_finished() && state.wake_at().is_none());
}

#[test]
fn a_run_stays_on_its_version() {
    let def = workflow_from(RETRIES);
    let state = RunState::new(&def, RunId::new("run_1").unwrap(), 7);
    let newer = workflow_from(&RETRIES.replace("version = 2", "version = 3"));
    let input = Input::Cancel { reason: "test".to_owned() };
    let error = apply(&newer, &state, input, Timestamp::from_unix_seconds(0)).unwrap_err();
    assert_eq!(error.to_string(), "run is pinned to retries@2 but was given retries@3");
}

/// Runs `script` against a fresh run of `workflow` and compares the transcript with `expect`.
#[track_caller]
fn check(workflow: &str, script: &str, expect: &str) {
    let def = workflow_from(workflow);
    let mut state = RunState::new(&def, RunId::new("run_1").unwrap(), 7);
    let mut now = Timestamp::parse_rfc3339(START).unwrap();
    let mut transcript = String::new();
    let mut n_events = 0;
    let mut previous: Option<(RunState, Input)> = None;
    let mut early = Vec::new();
    for line in script.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        let before = state.clone();
        let input = match command {
            "advance" => {
                now = now.plus(seam_flow::Duration::parse(rest).unwrap());
                transcript.push_str(&format!("> {line} @ {now}\n"));
                continue;
            }
            "replay" => {
                let (earlier_state, input) = previous.clone().expect("replay needs an earlier input");
                state = earlier_state;
                input
            }
            "fire" => {
                let timer = state.timer.expect("`fire` needs a pending timer");
                now = timer.at;
                Input::TimerFired { timer: timer.id }
            }
            "timer" => Input::TimerFired { timer: rest.parse().unwrap() },
            "start" | "event" | "early" => {
                n_events += 1;
                let (event_type, object) = rest.split_once(' ').unwrap();
                let event = event(n_events, event_type, object);
                match command {
                    "early" => {
                        early.push(event);
                        transcript.push_str(&format!("> {line}\n"));
                        continue;
                    }
                    "start" => Input::Start { trigger: event, earlier: std::mem::take(&mut early) },
                    _ => Input::Event(event),
                }
            }
            "ok" => {
                let mut parts = rest.splitn(3, ' ');
                let step = StepId::parse(parts.next().unwrap()).unwrap();
                let attempt = parts.next().unwrap().parse().unwrap();
                let result: Value = serde_json::from_str(parts.next().unwrap()).unwrap();
                Input::StepResult { step, attempt, outcome: CallOutcome::Ok(result) }
            }
            "err" => {
                let parts: Vec<&str> = rest.splitn(5, ' ').collect();
                let step = StepId::parse(parts[0]).unwrap();
                let attempt = parts[1].parse().unwrap();
                let kind: ErrorKind = serde_json::from_value(json!(parts[3])).unwrap();
                let class =
                    if parts[2] == "fatal" { ErrorClass::Fatal(kind) } else { ErrorClass::Retryable(kind) };
                let outcome = CallOutcome::Err { class, message: parts[4].to_owned() };
                Input::StepResult { step, attempt, outcome }
            }
            "cancel" => Input::Cancel { reason: rest.to_owned() },
            "decide" => {
                let (decision, escalation) = rest.split_once(' ').unwrap_or((rest, ""));
                let decision: DecisionKind = serde_json::from_value(json!(decision)).unwrap();
                let escalation = match (&state.waiting, escalation) {
                    (_, given) if !given.is_empty() => given.to_owned(),
                    (Waiting::Decision { escalation, .. }, _) => escalation.clone(),
                    _ => "none".to_owned(),
                };
                Input::Decision { escalation, decision, by: "ana".to_owned(), fields: Default::default() }
            }
            other => panic!("unknown script command {other:?}"),
        };
        transcript.push_str(&format!("> {line} @ {now}\n"));
        let transition = apply(&def, &state, input.clone(), now).unwrap();
        assert!(
            transition.effects.iter().any(|effect| matches!(effect, Effect::Audit(_))),
            "every transition is audited: {line}"
        );
        for effect in &transition.effects {
            transcript.push_str(&format!("  {}\n", show_effect(effect)));
        }
        state = transition.state;
        transcript.push_str(&format!("  = {}\n", show_state(&state)));
        previous = Some((before, input));
    }
    let expect = expect.trim_start_matches('\n');
    if transcript != expect {
        panic!("transcript differs.\n--- expected\n{expect}\n--- actual\n{transcript}");
    }
}

fn workflow_from(text: &str) -> Workflow {
    match parse_workflow("test.toml", text) {
        Ok(workflow) => workflow,
        Err(diagnostics) => {
            let shown: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
            panic!("test workflow does not parse:\n{}", shown.join("\n"))
        }
    }
}

/// A Stripe-shaped event about an invoice-like object.
fn event(n: usize, event_type: &str, object: &str) -> Event {
    let (source, name) = event_type.split_once(':').unwrap();
    Event {
        id: format!("evt_{n}"),
        source: source.to_owned(),
        event_type: name.to_owned(),
        payload: json!({
            "id": format!("evt_{n}"),
            "type": name,
            "data": { "object": {
                "id": object,
                "number": "INV-0042",
                "customer": "cus_9",
                "amount_due": 4900,
                "currency": "usd",
                "packer": "sam",
                "due": "2026-01-20T08:00:00Z",
            }},
        }),
    }
}

fn show_effect(effect: &Effect) -> String {
    match effect {
        Effect::Call { step, attempt, action, args, idempotency_key } => {
            format!("call {step}#{attempt} {} {args} key={idempotency_key}", action.0)
        }
        Effect::SetTimer { timer, at } => format!("set timer {timer} at {at}"),
        Effect::Escalate { escalation, team, zone, title, due, context, .. } => {
            format!("escalate {escalation} {team} {zone} {title:?} due {due} {context}")
        }
        Effect::Record { ledger, entry, idempotency_key, .. } => {
            format!("record {ledger} {entry} key={idempotency_key}")
        }
        Effect::Audit(audit) => {
            let mut shown = format!("audit {}", serde_json::to_value(audit.kind).unwrap().as_str().unwrap());
            if let Some(step) = &audit.step {
                shown.push_str(&format!(" {step}"));
                if let Some(attempt) = audit.attempt {
                    shown.push_str(&format!("#{attempt}"));
                }
            }
            if !audit.detail.is_empty() {
                shown.push_str(&format!(": {}", audit.detail));
            }
            shown
        }
        Effect::Complete { status, outcome } => format!("complete {status:?} {outcome}"),
        Effect::CloseEscalation { escalation } => format!("close {escalation}"),
        Effect::StartRun { trigger } => format!("start a new run from {}", trigger.id),
    }
}

fn show_state(state: &RunState) -> String {
    let status = serde_json::to_value(state.status).unwrap().as_str().unwrap().to_owned();
    if state.is_finished() {
        return status;
    }
    let waits = match &state.waiting {
        Waiting::Nothing => "nothing".to_owned(),
        Waiting::Call { step, attempt, in_flight: true, .. } => format!("for {step}#{attempt} result"),
        Waiting::Call { step, attempt, .. } => format!("for {step}#{attempt} due"),
        Waiting::Timer { step } => format!("in {step}"),
        Waiting::Event { step, event, .. } => format!("in {step} for {event}"),
        Waiting::Decision { escalation, .. } => format!("for decision on {escalation}"),
    };
    let wake = state.wake_at().map_or("no wake-up".to_owned(), |at| format!("wakes at {at}"));
    let kept = if state.buffered.is_empty() {
        String::new()
    } else {
        format!(", keeps {} event(s)", state.buffered.len())
    };
    format!("{status}, waits {waits}, {wake}{kept}")
}

#[test]
fn a_transient_failure_repeats_the_same_request_and_an_answer_starts_a_new_one() {
    check(
        RETRIES,
        "
        start stripe:invoice.payment_failed in_1
        fire
        err retry 1 retryable server_error 503
        fire
        err retry 2 retryable soft_decline insufficient_funds
        fire
        ",
        r#"
> start stripe:invoice.payment_failed in_1 @ 2026-01-05T10:00:00Z
  audit started: invoice.payment_failed evt_1 for key in_1
  audit step_entered retry
  audit attempt_scheduled retry#1: at 2026-01-06T10:00:00Z
  set timer 1 at 2026-01-06T10:00:00Z
  = running, waits for retry#1 due, wakes at 2026-01-06T10:00:00Z
> fire @ 2026-01-06T10:00:00Z
  audit attempt_started retry#1: stripe.pay_invoice key seam-run_1-retry-1
  call retry#1 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-1
  = running, waits for retry#1 result, no wake-up
> err retry 1 retryable server_error 503 @ 2026-01-06T10:00:00Z
  audit attempt_failed retry#1: server_error: 503
  audit attempt_scheduled retry#2: at 2026-01-09T10:00:00Z
  set timer 2 at 2026-01-09T10:00:00Z
  = running, waits for retry#2 due, wakes at 2026-01-09T10:00:00Z
> fire @ 2026-01-09T10:00:00Z
  audit attempt_started retry#2: stripe.pay_invoice key seam-run_1-retry-1 (the same request again)
  call retry#2 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-1
  = running, waits for retry#2 result, no wake-up
> err retry 2 retryable soft_decline insufficient_funds @ 2026-01-09T10:00:00Z
  audit attempt_failed retry#2: soft_decline: insufficient_funds
  audit attempt_scheduled retry#3: at 2026-01-14T10:00:00Z
  set timer 3 at 2026-01-14T10:00:00Z
  = running, waits for retry#3 due, wakes at 2026-01-14T10:00:00Z
> fire @ 2026-01-14T10:00:00Z
  audit attempt_started retry#3: stripe.pay_invoice key seam-run_1-retry-3
  call retry#3 stripe.pay_invoice {"invoice":"in_1"} key=seam-run_1-retry-3
  = running, waits for retry#3 result, no wake-up
"#,
    );
}

#[test]
fn business_hours_can_follow_the_customer_s_offset_from_the_data() {
    let text = |offset: &str| {
        format!(
            r#"
name = "local"
zone = "order_to_cash"
version = 1

[trigger]
source = "stripe"
event = "invoice.payment_failed"
key = "{{{{ event.data.object.id }}}}"

[[steps]]
id = "retry"
call = "stripe.pay_invoice"
with = {{ invoice = "{{{{ trigger.data.object.id }}}}" }}
schedule = {{ after = ["1d"], business_hours = {{ from = "09:00", to = "18:00", utc_offset = "{offset}" }} }}
"#
        )
    };
    let wake = |offset: &str, tz: serde_json::Value| {
        let def = workflow_from(&text(offset));
        let state = RunState::new(&def, RunId::new("run_1").unwrap(), 7);
        let trigger = Event {
            id: "evt_1".into(),
            source: "stripe".into(),
            event_type: "invoice.payment_failed".into(),
            payload: serde_json::json!({ "data": { "object": { "id": "in_1", "tz": tz } } }),
        };
        // Monday 5 January 2026, 10:00 UTC: the first attempt is due Tuesday 10:00 UTC before placement.
        let now = Timestamp::parse_rfc3339("2026-01-05T10:00:00Z").unwrap();
        let transition = apply(&def, &state, Input::Start { trigger, earlier: vec![] }, now).unwrap();
        let audits: Vec<String> = transition
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::Audit(a) => Some(a.detail.clone()),
                _ => None,
            })
            .collect();
        (transition.state.wake_at().unwrap().to_string(), audits)
    };
    // 10:00 UTC is 05:00 in New York (-05:00): moved to 09:00 there, 14:00 UTC.
    assert_eq!(wake("{{ trigger.data.object.tz }}", serde_json::json!("-05:00")).0, "2026-01-06T14:00:00Z");
    // The same in a fixed offset, for comparison, and in UTC it is already inside the window.
    assert_eq!(wake("-05:00", serde_json::json!(null)).0, "2026-01-06T14:00:00Z");
    assert_eq!(wake("{{ trigger.data.object.tz }}", serde_json::json!("+00:00")).0, "2026-01-06T10:00:00Z");
    // Data without a usable offset: UTC, and the audit says why.
    let (at, audits) = wake("{{ trigger.data.object.tz }}", serde_json::json!("Mars/Olympus"));
    assert_eq!(at, "2026-01-06T10:00:00Z");
    assert!(audits.iter().any(|a| a.contains("business hours in UTC")), "{audits:?}");
}
