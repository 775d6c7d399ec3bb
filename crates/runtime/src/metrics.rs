//! Counters for `/metrics` (Prometheus text format). Every intake outcome and every engine action is counted.

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
    ("seam_transitions_total", "Run transitions committed, by input kind."),
    ("seam_calls_total", "Outside calls made, by action and result."),
    ("seam_timers_fired_total", "Wake-ups fired."),
    ("seam_decisions_total", "Inbox decisions, by decision."),
    ("seam_ledger_shipped_total", "Ledger entries written to the sink, by result."),
    ("seam_reconciler_total", "Reconciler findings, by kind."),
    ("seam_engine_errors_total", "Engine loop errors (retried), by loop."),
];

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

    /// The counters in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters = match self.counters.lock() {
            Ok(counters) => counters.clone(),
            Err(_) => return out,
        };
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
