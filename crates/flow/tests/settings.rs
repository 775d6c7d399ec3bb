//! The format's choices for people and its filters: `[settings]` read as `settings.*`, a `wait_for` that only
//! takes events its `when` accepts, a second trigger reaching a run that waits for it, the cancelling event as
//! `run.cancel_event`, and what a person fills in with a decision as `steps.<id>.decision.fields`.

use seam_flow::{
    DecisionKind, Effect, Event, Input, RunId, RunState, Timestamp, Transition, Waiting, Workflow, apply,
    parse_workflow,
};
use serde_json::{Value, json};

const WHO_RETRIES: &str = r#"
name = "who-retries"
zone = "order_to_cash"
version = 1

[settings]
retries = "stripe"
threshold_minor = 20000

[trigger]
source = "stripe"
event = "invoice.payment_failed"
key = "{{ event.data.object.id }}"

[cancel_on]
events = ["stripe:invoice.paid"]
then = "record"

[[steps]]
id = "who"
condition = { if = "{{ settings.retries == 'stripe' and trigger.data.object.next_payment_attempt }}", then = "await_stripe", else = "escalate" }

[[steps]]
id = "await_stripe"
wait_for = { event = "stripe:invoice.payment_failed", when = "{{ event.data.object.next_payment_attempt is none }}", timeout = "30d", on_timeout = "escalate" }
next = "escalate"

[[steps]]
id = "escalate"
next = "record"

[steps.escalate]
team = "finance"
title = "Invoice {{ trigger.data.object.id }} over {{ settings.threshold_minor }}"

[[steps]]
id = "record"

[steps.record]
ledger = "finance"
paid_by = "{{ run.cancel_event.data.object.paid_by if run.cancel_event else 'nobody' }}"
stated = "{{ steps.escalate.decision.fields.recovered_minor if steps.escalate.decision and 'recovered_minor' in steps.escalate.decision.fields else 'none' }}"
"#;

fn workflow(text: &str) -> Workflow {
    parse_workflow("w.toml", text).unwrap_or_else(|diagnostics| {
        panic!("{}", diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
    })
}

fn at(hours: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_767_607_200 + hours * 3600)
}

fn failed(n: u32, next_attempt: Value) -> Event {
    Event {
        id: format!("evt_{n}"),
        source: "stripe".into(),
        event_type: "invoice.payment_failed".into(),
        payload: json!({ "id": format!("evt_{n}"), "type": "invoice.payment_failed",
            "data": { "object": { "id": "in_1", "next_payment_attempt": next_attempt } } }),
    }
}

fn paid(n: u32) -> Event {
    Event {
        id: format!("evt_{n}"),
        source: "stripe".into(),
        event_type: "invoice.paid".into(),
        payload: json!({ "id": format!("evt_{n}"), "type": "invoice.paid",
            "data": { "object": { "id": "in_1", "paid_by": "stripe_retry" } } }),
    }
}

fn step(def: &Workflow, state: &RunState, input: Input, hours: i64) -> Transition {
    apply(def, state, input, at(hours)).expect("a valid input")
}

fn start(def: &Workflow, trigger: Event) -> RunState {
    let fresh = RunState::new(def, RunId::new("run_1").unwrap(), 7);
    step(def, &fresh, Input::Start { trigger, earlier: Vec::new() }, 0).state
}

fn waits_in(state: &RunState) -> String {
    match &state.waiting {
        Waiting::Event { step, .. } => format!("event in {step}"),
        Waiting::Decision { step, .. } => format!("decision in {step}"),
        other => format!("{other:?}"),
    }
}

fn records(transition: &Transition) -> Vec<Value> {
    transition
        .effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Record { entry, .. } => Some(entry.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn settings_choose_the_path_and_are_read_in_templates() {
    let def = workflow(WHO_RETRIES);
    assert_eq!(def.settings["retries"], json!("stripe"));
    // Stripe says it will retry: the run waits for Stripe.
    let state = start(&def, failed(1, json!(1_767_900_000)));
    assert_eq!(waits_in(&state), "event in await_stripe");
    // Stripe will not retry: straight to the person, whose item names the setting's threshold.
    let fresh = RunState::new(&def, RunId::new("run_1").unwrap(), 7);
    let started =
        step(&def, &fresh, Input::Start { trigger: failed(1, Value::Null), earlier: Vec::new() }, 0);
    assert_eq!(waits_in(&started.state), "decision in escalate");
    let title = started.effects.iter().find_map(|effect| match effect {
        Effect::Escalate { title, .. } => Some(title.clone()),
        _ => None,
    });
    assert_eq!(title.as_deref(), Some("Invoice in_1 over 20000"));
    // Another choice in the file takes the other path.
    let seam = workflow(&WHO_RETRIES.replace("retries = \"stripe\"", "retries = \"seam\""));
    assert_eq!(waits_in(&start(&seam, failed(1, json!(1_767_900_000)))), "decision in escalate");
}

#[test]
fn a_setting_is_a_plain_value_not_a_template() {
    let text = WHO_RETRIES.replace("threshold_minor = 20000", "threshold_minor = \"{{ trigger.id }}\"");
    let diagnostics = parse_workflow("w.toml", &text).unwrap_err();
    let shown: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        shown.iter().any(|d| d.contains("settings.threshold_minor") && d.contains("plain value")),
        "{shown:?}"
    );
    let text = WHO_RETRIES
        .replace("{{ settings.threshold_minor }}", "{{ settings.threshold_minor }} {{ event.id }}");
    let diagnostics = parse_workflow("w.toml", &text).unwrap_err();
    assert!(diagnostics[0].to_string().contains("`event`"), "{}", diagnostics[0]);
}

#[test]
fn a_later_trigger_reaches_the_run_that_waits_for_it_and_when_filters_it() {
    let def = workflow(WHO_RETRIES);
    let state = start(&def, failed(1, json!(1_767_900_000)));
    // Stripe retried and failed again, with another retry to come: still waiting, audited.
    let again =
        step(&def, &state, Input::Start { trigger: failed(2, json!(1_768_000_000)), earlier: vec![] }, 72);
    assert_eq!(waits_in(&again.state), "event in await_stripe");
    let audit = format!("{:?}", again.effects);
    assert!(audit.contains("`when` is false"), "{audit}");
    // Stripe gave up: the wait ends and the person is asked.
    let gave_up =
        step(&def, &again.state, Input::Start { trigger: failed(3, Value::Null), earlier: vec![] }, 144);
    assert_eq!(waits_in(&gave_up.state), "decision in escalate");
    assert_eq!(gave_up.state.steps[&seam_flow::StepId::parse("await_stripe").unwrap()].status, "succeeded");
}

#[test]
fn the_cancelling_event_and_the_decision_fields_are_readable_by_later_steps() {
    let def = workflow(WHO_RETRIES);
    let state = start(&def, failed(1, json!(1_767_900_000)));
    let cancelled = step(&def, &state, Input::Event(paid(2)), 5);
    assert_eq!(records(&cancelled)[0]["paid_by"], "stripe_retry");
    assert_eq!(cancelled.state.cancel_event.as_ref().unwrap()["type"], "invoice.paid");

    let state = start(&def, failed(1, Value::Null));
    let Waiting::Decision { escalation, .. } = state.waiting.clone() else { panic!() };
    let mut fields = serde_json::Map::new();
    fields.insert("recovered_minor".into(), json!(2500));
    let decided = step(
        &def,
        &state,
        Input::Decision { escalation, decision: DecisionKind::Resolve, by: "ana".into(), fields },
        6,
    );
    let record = &records(&decided)[0];
    assert_eq!(record["stated"], 2500);
    assert_eq!(record["paid_by"], "nobody");
}

/// A run stored before these fields existed still loads.
#[test]
fn a_state_without_the_new_fields_still_loads() {
    let def = workflow(WHO_RETRIES);
    let state = start(&def, failed(1, Value::Null));
    let mut stored = serde_json::to_value(&state).unwrap();
    stored.as_object_mut().unwrap().remove("cancel_event");
    let back: RunState = serde_json::from_value(stored).unwrap();
    assert_eq!(back, state);
    let decision = json!({ "decision": "resolve", "by": "ana", "at": "2026-01-05T10:00:00Z" });
    let decision: seam_flow::Decision = serde_json::from_value(decision).unwrap();
    assert!(decision.fields.is_empty());
}

const TWO_DOORS: &str = r#"
name = "two-doors"
zone = "fulfillment"
version = 1

[trigger]
source = "shopify"
event = "orders/create"
key = "{{ event.admin_graphql_api_id }}"

[[trigger.also]]
source = "stripe"
event = "checkout.session.completed"
key = "{{ event.data.object.id }}"

[[steps]]
id = "lines"
set = { from = "{{ run.trigger_event }}", lines = "{{ trigger.line_items if run.trigger_event == 'shopify:orders/create' else trigger.data.object.lines }}", skus = "{% set ns = namespace(out=[]) %}{% for line in (trigger.line_items if run.trigger_event == 'shopify:orders/create' else trigger.data.object.lines) %}{% set ns.out = ns.out + [line.sku] %}{% endfor %}{{ ns.out | tojson }}" }
on_error = "bad_data"

[[steps]]
id = "record"
next = "end"
[steps.record]
ledger = "inventory"
from = "{{ steps.lines.result.from }}"
count = "{{ steps.lines.result.lines | length }}"
skus = "{{ steps.lines.result.skus | fromjson }}"

[[steps]]
id = "bad_data"
[steps.record]
ledger = "inventory"
problem = "{{ steps.lines.errors[0].message }}"
"#;

fn event_of(source: &str, event_type: &str, payload: Value) -> Event {
    Event { id: "evt_1".into(), source: source.into(), event_type: event_type.into(), payload }
}

#[test]
fn one_workflow_starts_from_either_door_and_set_normalises_what_each_sends() {
    let def = workflow(TWO_DOORS);
    let shopify = event_of(
        "shopify",
        "orders/create",
        json!({ "admin_graphql_api_id": "gid://shopify/Order/9007199254740993",
                "line_items": [{ "sku": "MUG-01", "quantity": 2 }, { "sku": "TEE-M", "quantity": 1 }] }),
    );
    let key = def.trigger_key(&shopify).unwrap().unwrap();
    assert_eq!(key.as_str(), "gid://shopify/Order/9007199254740993", "64-bit ids stay exact as text");
    let fresh = RunState::new(&def, RunId::new("run_1").unwrap(), 7);
    let started = step(&def, &fresh, Input::Start { trigger: shopify, earlier: vec![] }, 0);
    let record = &records(&started)[0];
    assert_eq!(record["from"], "shopify:orders/create", "{record}");
    assert_eq!(record["count"], 2);
    assert_eq!(record["skus"], json!(["MUG-01", "TEE-M"]));

    let stripe = event_of(
        "stripe",
        "checkout.session.completed",
        json!({ "data": { "object": { "id": "cs_1", "lines": [{ "sku": "CAP" }] } } }),
    );
    assert_eq!(def.trigger_key(&stripe).unwrap().unwrap().as_str(), "cs_1");
    let started = step(&def, &fresh, Input::Start { trigger: stripe, earlier: vec![] }, 0);
    assert_eq!(records(&started)[0]["from"], "stripe:checkout.session.completed");

    // An order without line items: the run goes to `on_error`, saying what was missing; it does not crash.
    let bare =
        event_of("shopify", "orders/create", json!({ "admin_graphql_api_id": "gid://shopify/Order/1" }));
    let started = step(&def, &fresh, Input::Start { trigger: bare, earlier: vec![] }, 0);
    let problem = records(&started)[0]["problem"].as_str().unwrap().to_owned();
    assert!(problem.contains("line_items"), "{problem}");
    assert_eq!(started.state.outcome, "bad_data");
}
