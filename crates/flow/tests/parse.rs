//! The workflow format: what parses, and what each mistake is told as (file, line, field, and what is accepted).

use seam_flow::{Action, Delays, Duration, IfRunning, Target, Zone, parse_workflow};

const PLAYBOOK: &str = include_str!("fixtures/failed-payment-recovery.toml");

#[test]
fn the_failed_payment_playbook_parses() {
    let workflow = match parse_workflow("failed-payment-recovery.toml", PLAYBOOK) {
        Ok(workflow) => workflow,
        Err(diagnostics) => {
            panic!("{}", diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
        }
    };
    assert_eq!(workflow.name, "failed-payment-recovery");
    assert_eq!(workflow.zone, Zone::OrderToCash);
    assert_eq!(workflow.trigger.event.to_string(), "stripe:invoice.payment_failed");
    assert_eq!(workflow.trigger.if_running, IfRunning::Ignore);
    let cancel = workflow.cancel_on.as_ref().unwrap();
    let cancel_events: Vec<String> = cancel.events.iter().map(ToString::to_string).collect();
    assert_eq!(
        cancel_events,
        ["stripe:invoice.paid", "stripe:invoice.voided", "stripe:invoice.marked_uncollectible"]
    );
    let ids: Vec<&str> = workflow.steps.iter().map(|step| step.id.as_str()).collect();
    assert_eq!(ids, ["retry", "customer_update", "await_customer", "escalate", "record"]);

    let Action::Call(retry) = &workflow.steps[0].action else { panic!("retry is a call") };
    assert_eq!(retry.action.0, "stripe.pay_invoice");
    assert_eq!(retry.retry.attempts, 3);
    let days = |n: u64| Duration::from_seconds(n * 86_400);
    assert_eq!(retry.retry.schedule.delays, Delays::After(vec![days(1), days(3), days(5)]));
    assert!(retry.retry.schedule.business_hours.is_some());
    assert!(retry.retry.schedule.prefer_paydays.is_some());
    assert_eq!(retry.retry.on_fatal.to_string(), "customer_update");
    assert_eq!(retry.retry.on_exhausted.to_string(), "escalate");
    assert_eq!(workflow.steps[4].next, Target::End);
}

#[test]
fn a_mistake_deep_in_the_playbook_is_located_by_line_and_field() {
    let broken = PLAYBOOK.replace("due = \"2d\"", "due = \"2x\"").replace("\"5d\"]", "\"5d\", \"1y\"]");
    let line_of = |needle: &str| broken.lines().position(|line| line.contains(needle)).unwrap() + 1;
    let expect = format!(
        "playbook.toml:{}: steps[0].schedule.after[3]: \"1y\" is not a duration; use a number followed by s, m, h, d or w, such as \"3d\" or \"1h30m\"\n\
         playbook.toml:{}: steps[3].escalate.due: \"2x\" is not a duration; use a number followed by s, m, h, d or w, such as \"3d\" or \"1h30m\"\n",
        line_of("\"1y\""),
        line_of("\"2x\""),
    );
    check("playbook.toml", &broken, &expect);
}

#[test]
fn a_minimal_workflow_fills_in_defaults() {
    let workflow = parse_workflow("min.toml", MINIMAL).unwrap();
    let step = &workflow.steps[0];
    let Action::Call(call) = &step.action else { panic!("a call") };
    assert_eq!(call.retry.attempts, 1);
    assert_eq!(call.retry.on_fatal, Target::Fail);
    assert_eq!(step.next, Target::End);
    // `wait_for` and `cancel_on` default to the trigger's key template.
    assert!(workflow.cancel_on.is_none());
}

const MINIMAL: &str = r#"
name = "min"
zone = "fulfillment"
version = 1

[trigger]
source = "shop"
event = "order.created"
key = "{{ event.id }}"

[[steps]]
id = "hand_over"
call = "warehouse.create_shipment"
"#;

#[test]
fn a_bad_duration_names_the_line_and_the_list_index() {
    check(
        "payment.toml",
        r#"
name = "p"
zone = "order_to_cash"
version = 1
[trigger]
source = "stripe"
event = "invoice.payment_failed"
key = "{{ event.data.object.id }}"

[[steps]]
id = "first"
wait = "1h"

[[steps]]
id = "retry"
call = "stripe.pay_invoice"
schedule = { attempts = 3, after = ["1d", "3d", "5x"] }
"#,
        r#"
payment.toml:17: steps[1].schedule.after[2]: "5x" is not a duration; use a number followed by s, m, h, d or w, such as "3d" or "1h30m"
"#,
    );
}

#[test]
fn unknown_keys_are_refused_everywhere() {
    check(
        "w.toml",
        r#"
name = "w"
zone = "fulfillment"
version = 1
colour = "blue"

[trigger]
source = "shop"
event = "order.created"
key = "{{ event.id }}"
if_runing = "ignore"

[[steps]]
id = "a"
call = "x.y"
schedule = { attempts = 2, aftr = ["1d"] }
"#,
        r#"
w.toml:5: colour: unknown key `colour`; accepted here: name, zone, version, task, settings, trigger, cancel_on, steps
w.toml:11: trigger.if_runing: unknown key `if_runing`; did you mean `if_running`? accepted here: source, event, key, if_running, also
w.toml:16: steps[0].schedule.aftr: unknown key `aftr`; did you mean `after`? accepted here: attempts, after, backoff, jitter_percent, prefer_paydays, business_hours
"#,
    );
}

#[test]
fn duplicate_ids_and_unknown_jumps_are_reported() {
    check(
        "w.toml",
        r#"
name = "w"
zone = "fulfillment"
version = 1

[trigger]
source = "shop"
event = "order.created"
key = "{{ event.id }}"

[[steps]]
id = "a"
call = "x.y"
on_fatal = "nowhere"

[[steps]]
id = "a"
condition = { if = "{{ steps.ghost.result }}", then = "end", else = "b" }
"#,
        r#"
w.toml:14: steps[0].on_fatal: no step has id `nowhere`; use one of: a, or `end` or `fail`
w.toml:16: steps[1].id: step id `a` is already used by steps[0] on line 11; ids must be unique
w.toml:18: steps[1].condition.if: template reads `steps.ghost`, but no step has that id; the steps are: a
w.toml:18: steps[1].condition.else: no step has id `b`; use one of: a, or `end` or `fail`
"#,
    );
}

#[test]
fn a_duplicate_id_is_reported_even_when_the_first_step_has_another_mistake() {
    check(
        "w.toml",
        r#"
name = "w"
zone = "fulfillment"
version = 1

[trigger]
source = "shop"
event = "order.created"
key = "{{ event.id }}"

[[steps]]
id = "pause"
wait = "5x"

[[steps]]
id = "pause"
wait = "1d"
"#,
        r#"
w.toml:13: steps[0].wait: "5x" is not a duration; use a number followed by s, m, h, d or w, such as "3d" or "1h30m"
w.toml:15: steps[1].id: step id `pause` is already used by steps[0] on line 11; ids must be unique
"#,
    );
}

#[test]
fn a_duplicate_id_is_reported_even_when_the_duplicate_has_another_mistake() {
    check(
        "w.toml",
        r#"
name = "w"
zone = "fulfillment"
version = 1

[trigger]
source = "shop"
event = "order.created"
key = "{{ event.id }}"

[[steps]]
id = "pause"
wait = "1d"

[[steps]]
id = "pause"
wait = "5x"
colour = "blue"
"#,
        r#"
w.toml:15: steps[1].id: step id `pause` is already used by steps[0] on line 11; ids must be unique
w.toml:17: steps[1].wait: "5x" is not a duration; use a number followed by s, m, h, d or w, such as "3d" or "1h30m"
w.toml:18: steps[1].colour: unknown key `colour`; accepted here: id, next, outcome, call, wait, wait_for, condition, escalate, record, set, on_error, check, with, schedule, retry_on, until, on_exhausted, on_fatal
"#,
    );
}

#[test]
fn jumps_are_checked_when_a_step_has_a_mistake_and_a_broken_step_is_still_a_known_target() {
    // `broken` has its own mistake, reported once; jumping to it or reading `steps.broken` is not a second
    // problem. `nowhere` is unknown whatever else is wrong in the file.
    check(
        "w.toml",
        r#"
name = "w"
zone = "fulfillment"
version = 1

[trigger]
source = "shop"
event = "order.created"
key = "{{ event.id }}"

[cancel_on]
events = ["shop:order.cancelled"]
then = "broken"

[[steps]]
id = "start"
call = "x.y"
on_fatal = "broken"
on_exhausted = "nowhere"

[[steps]]
id = "broken"
wait = "5x"

[[steps]]
id = "report"
condition = { if = "{{ steps.broken.status == 'done' and steps.ghost.result }}", then = "end" }
"#,
        r#"
w.toml:19: steps[0].on_exhausted: no step has id `nowhere`; use one of: broken, report, start, or `end` or `fail`
w.toml:23: steps[1].wait: "5x" is not a duration; use a number followed by s, m, h, d or w, such as "3d" or "1h30m"
w.toml:27: steps[2].condition.if: template reads `steps.ghost`, but no step has that id; the steps are: broken, report, start
"#,
    );
}

#[test]
fn jumps_are_not_judged_while_a_step_id_is_unreadable() {
    // The step without a readable id may be the one `retry` means, so only the missing id is reported.
    check(
        "w.toml",
        r#"
name = "w"
zone = "fulfillment"
version = 1

[trigger]
source = "shop"
event = "order.created"
key = "{{ event.id }}"

[[steps]]
id = "start"
call = "x.y"
on_fatal = "retry"

[[steps]]
call = "x.y"

[[steps]]
id = "Ask"
escalate = { team = "ops", title = "{{ steps.retry.attempts }}" }
"#,
        r#"
w.toml:16: steps[1].id: missing `id`
w.toml:20: steps[2].id: "Ask" is not a step id; use lowercase letters, digits and `_`, starting with a letter, and not `end` or `fail`
"#,
    );
}

#[test]
fn a_step_needs_exactly_one_action() {
    check(
        "w.toml",
        r#"
name = "w"
zone = "fulfillment"
version = 1

[trigger]
source = "shop"
event = "order.created"
key = "{{ event.id }}"

[[steps]]
id = "nothing"
next = "end"

[[steps]]
id = "both"
call = "x.y"
wait = "1d"

[[steps]]
id = "misplaced"
wait = "1d"
retry_on = ["timeout"]
"#,
        r#"
w.toml:11: steps[0]: a step needs exactly one action: call, wait, wait_for, condition, escalate, record or set
w.toml:15: steps[1]: a step has exactly one action, but this one has both `call` and `wait`
w.toml:23: steps[2].retry_on: `retry_on` only applies to a `call` step
"#,
    );
}

#[test]
fn templates_must_compile_and_read_only_what_is_there() {
    check(
        "w.toml",
        r#"
name = "w"
zone = "fulfillment"
version = 1

[trigger]
source = "shop"
event = "order.created"
key = "{{ trigger.id }}"

[[steps]]
id = "a"
call = "x.y"
with = { order = "{{ trigger.id ", note = "{{ evnt.id }}" }
until = "{{ result.ok }}"
"#,
        r#"
w.toml:9: trigger.key: template uses `trigger`, which is not available here; use `event` (the incoming event)
w.toml:14: steps[0].with.order: template does not compile: syntax error: unexpected end of input, expected end of variable block
w.toml:14: steps[0].with.note: template uses `evnt`, which is not available here; use `trigger`, `steps.<id>`, `run` or `settings`
"#,
    );
}

#[test]
fn empty_steps_and_missing_fields_are_reported() {
    check(
        "w.toml",
        r#"
name = "w"
zone = "shipping"
version = 0
steps = []

[trigger]
source = "shop"
key = "{{ event.id }}"
if_running = "queue"
"#,
        r#"
w.toml:3: zone: "shipping" is not a zone; use one of order_to_cash, fulfillment, customer_service, post_purchase
w.toml:4: version: use a whole number from 1 to 4294967295
w.toml:5: steps: a workflow needs at least one step
w.toml:7: trigger.event: missing `event`
w.toml:10: trigger.if_running: "queue" is not accepted; use "ignore" or "restart"
"#,
    );
}

#[test]
fn other_value_checks() {
    check(
        "w.toml",
        r#"
name = "w"
zone = "fulfillment"
version = 1

[trigger]
source = "shop"
event = "order.created"
key = "{{ event.id }}"

[cancel_on]
events = ["order.cancelled"]

[[steps]]
id = "Bad-Id"
call = "http"
with = { method = "FETCH", url = "https://example.invalid" }
retry_on = ["soft_decline", "card_melted"]
schedule = { attempts = 2, after = ["1d", "2d", "3d"] }

[[steps]]
id = "wait_pack"
wait_for = { event = "shop:order.packed", timeout = "forever" }

[[steps]]
id = "ask"
escalate = { team = "ops", title = "Order {{ trigger.id }}", due = 3 }
"#,
        r#"
w.toml:12: cancel_on.events[0]: "order.cancelled" is not an event; use "source:type" such as "stripe:invoice.paid"
w.toml:15: steps[0].id: "Bad-Id" is not a step id; use lowercase letters, digits and `_`, starting with a letter, and not `end` or `fail`
w.toml:17: steps[0].with.method: "FETCH" is not accepted; use one of GET, POST, PUT, PATCH, DELETE
w.toml:19: steps[0].schedule.after: lists 3 delays but attempts is 2; give at most one per attempt
w.toml:23: steps[1].wait_for.timeout: "forever" is not a duration; use a number followed by s, m, h, d or w, such as "3d" or "1h30m"
w.toml:27: steps[2].escalate.due: expected a duration such as "2d" or "90m", found integer
"#,
    );
}

#[test]
fn a_toml_syntax_error_has_a_line_too() {
    check(
        "w.toml",
        "name = \"w\"\nzone = \n",
        r#"
w.toml:2: string values must be quoted, expected literal string
"#,
    );
}

/// Parses `text` as `file` and compares every diagnostic, one per line, with `expect`.
#[track_caller]
fn check(file: &str, text: &str, expect: &str) {
    let actual = match parse_workflow(file, text) {
        Ok(_) => "parsed without diagnostics".to_owned(),
        Err(diagnostics) => diagnostics.iter().map(|diagnostic| format!("{diagnostic}\n")).collect(),
    };
    let expect = expect.trim_start_matches('\n');
    if actual != expect {
        panic!("diagnostics differ.\n--- expected\n{expect}\n--- actual\n{actual}");
    }
}
