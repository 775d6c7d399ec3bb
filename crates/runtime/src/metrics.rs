//! Counters for `/metrics` (Prometheus text format). Every intake outcome and every engine action is counted.
//!
//! Every counter is exported from start-up: a counter that has not moved yet shows 0 for each label value it is
//! known to take ([`KnownLabels`] and the lists below), so a dashboard or an alert on `rate(...)` sees a series from
//! the first scrape instead of "no data" until the first event.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Labelled counters. A `Mutex<BTreeMap>` is plenty: each increment is a few nanoseconds next to a database commit.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
}

/// What each counter means, for the `# HELP` lines.
const HELP: &[(&str, &str)] = &[
    ("seam_webhooks_total", "Webhook deliveries by source and outcome."),
    ("seam_runs_started_total", "Runs started, by workflow."),
    (
        "seam_bad_data_total",
        "Vendor data a workflow could not read (a `set` step sent to on_error), by workflow.",
    ),
    ("seam_transitions_total", "Run transitions committed, by input kind."),
    ("seam_calls_total", "Outside calls made, by action and result."),
    ("seam_timers_fired_total", "Wake-ups fired."),
    ("seam_decisions_total", "Inbox decisions, by decision."),
    ("seam_ledger_shipped_total", "Ledger entries written to the sink, by result."),
    ("seam_reconciler_total", "Reconciler findings, by kind."),
    ("seam_engine_errors_total", "Engine loop errors (retried), by loop."),
];

/// Every outcome of `POST /webhooks/{source}` (docs/engine.md, "Webhook intake"), as `seam-web` counts them.
pub const WEBHOOK_OUTCOMES: &[&str] = &[
    "accepted",
    "unmatched",
    "duplicate",
    "bad_signature",
    "missing_signature",
    "stale_timestamp",
    "unparseable",
    "too_large",
    "store_error",
];

/// The label values the engine counts with that do not depend on the configuration.
const FIXED_LABELS: &[(&str, &str)] = &[
    ("seam_webhooks_total", "source=\"unknown\",outcome=\"unknown_source\""),
    ("seam_transitions_total", "input=\"start\""),
    ("seam_transitions_total", "input=\"step_result\""),
    ("seam_transitions_total", "input=\"timer\""),
    ("seam_transitions_total", "input=\"event\""),
    ("seam_transitions_total", "input=\"cancel\""),
    ("seam_transitions_total", "input=\"decision\""),
    ("seam_timers_fired_total", ""),
    ("seam_decisions_total", "decision=\"resolved\""),
    ("seam_decisions_total", "decision=\"retried\""),
    ("seam_decisions_total", "decision=\"dismissed\""),
    ("seam_decisions_total", "decision=\"decided\""),
    ("seam_ledger_shipped_total", "result=\"appended\""),
    ("seam_ledger_shipped_total", "result=\"duplicate\""),
    ("seam_ledger_shipped_total", "result=\"error\""),
    ("seam_reconciler_total", "kind=\"repaired\""),
    ("seam_reconciler_total", "kind=\"stuck\""),
    ("seam_reconciler_total", "kind=\"wake_at_repaired\""),
    ("seam_engine_errors_total", "loop=\"router\""),
    ("seam_engine_errors_total", "loop=\"timers\""),
    ("seam_engine_errors_total", "loop=\"calls\""),
    ("seam_engine_errors_total", "loop=\"ledger\""),
    ("seam_engine_errors_total", "loop=\"reconciler\""),
    ("seam_engine_errors_total", "loop=\"router\",kind=\"event_set_aside\""),
    ("seam_engine_errors_total", "loop=\"timers\",kind=\"run_set_aside\""),
];

/// The label values that depend on the configuration: shown at zero from start-up too.
#[derive(Debug, Clone, Default)]
pub struct KnownLabels {
    /// Configured webhook sources: each gets every outcome of [`WEBHOOK_OUTCOMES`].
    pub sources: Vec<String>,
    /// Loaded workflows, for `seam_runs_started_total`.
    pub workflows: Vec<String>,
    /// The outside actions the workflows call, for `seam_calls_total{result="ok"}` (an error result appears when
    /// it first happens: there are too many kinds to list every one for every action).
    pub actions: Vec<String>,
}

impl Metrics {
    /// Adds one to `name{labels}`; `labels` is the Prometheus label text without braces, such as
    /// `source="stripe",outcome="accepted"`.
    pub fn inc(&self, name: &'static str, labels: impl Into<String>) {
        self.add(name, labels, 1);
    }

    pub fn add(&self, name: &'static str, labels: impl Into<String>, by: u64) {
        if let Ok(mut counters) = self.counters.lock() {
            *counters.entry((name, labels.into())).or_default() += by;
        }
    }

    pub fn get(&self, name: &'static str, labels: &str) -> u64 {
        self.counters
            .lock()
            .ok()
            .and_then(|counters| counters.get(&(name, labels.to_owned())).copied())
            .unwrap_or_default()
    }

    /// The counters in Prometheus text format, with every known label value (a counter not yet moved shows 0).
    pub fn render(&self, known: &KnownLabels) -> String {
        let mut out = String::new();
        let mut counters = match self.counters.lock() {
            Ok(counters) => counters.clone(),
            Err(_) => return out,
        };
        let mut zero = |name: &'static str, labels: String| {
            counters.entry((name, labels)).or_insert(0);
        };
        for (name, labels) in FIXED_LABELS {
            zero(name, (*labels).to_owned());
        }
        for source in &known.sources {
            for outcome in WEBHOOK_OUTCOMES {
                zero("seam_webhooks_total", format!("source=\"{}\",outcome=\"{outcome}\"", label(source)));
            }
        }
        for workflow in &known.workflows {
            zero("seam_runs_started_total", format!("workflow=\"{}\"", label(workflow)));
            zero("seam_bad_data_total", format!("workflow=\"{}\"", label(workflow)));
        }
        for action in &known.actions {
            zero("seam_calls_total", format!("action=\"{}\",result=\"ok\"", label(action)));
        }
        for (name, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for ((counter, labels), value) in counters.iter().filter(|((counter, _), _)| counter == name) {
                if labels.is_empty() {
                    let _ = writeln!(out, "{counter} {value}");
                } else {
                    let _ = writeln!(out, "{counter}{{{labels}}} {value}");
                }
            }
        }
        out
    }
}

/// Quotes a label value for the Prometheus text format.
pub fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_is_shown_at_zero_before_it_moves() {
        let metrics = Metrics::default();
        let known = KnownLabels {
            sources: vec!["stripe".to_owned()],
            workflows: vec!["failed-payment-recovery".to_owned()],
            actions: vec!["stripe.pay_invoice".to_owned()],
        };
        let text = metrics.render(&known);
        for (name, _) in HELP {
            assert!(
                text.lines().any(|line| line.starts_with(name) && line.ends_with(" 0")),
                "{name}:\n{text}"
            );
        }
        assert!(
            text.contains("seam_webhooks_total{source=\"stripe\",outcome=\"bad_signature\"} 0"),
            "{text}"
        );
        assert!(text.contains("seam_runs_started_total{workflow=\"failed-payment-recovery\"} 0"), "{text}");
        assert!(text.contains("seam_calls_total{action=\"stripe.pay_invoice\",result=\"ok\"} 0"), "{text}");
        assert!(text.contains("seam_timers_fired_total 0"), "{text}");
        metrics.inc("seam_webhooks_total", "source=\"stripe\",outcome=\"accepted\"");
        let text = metrics.render(&known);
        assert!(text.contains("seam_webhooks_total{source=\"stripe\",outcome=\"accepted\"} 1"), "{text}");
    }
}
