//! Reading a workflow file: TOML text in, a validated [`Workflow`] or every problem with its line and field out.
//!
//! This does not use serde's derive. A derive stops at the first error and does not know the path of the field
//! it failed on; a workflow author fixing a file wants all the problems at once, each as
//! `payment.toml:14: steps[1].schedule.after[2]: "5x" is not a duration; …`. So the file is parsed into toml's
//! spanned document tree ([`DeTable`]) and walked by one small [`Reader`] that knows, at each node, its byte span
//! and its field path. Every check (unknown keys, types, durations, templates, jumps) reports through that one
//! reader. Cross-references (duplicate ids, jumps and `steps.<id>` in templates) are checked against the ids written
//! in `[[steps]]`, including those of steps with other mistakes, so they are reported along with everything else.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use serde::Serialize;
use serde_json::Value;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::def::{
    Action, ActionName, AlsoTrigger, Arg, BUILT_IN_DECISIONS, BusinessHours, Call, CancelOn, Choice,
    Condition, Delays, ErrorKind, Escalate, EventType, FieldKind, FieldSpec, IfRunning, Paydays, Record,
    RetryPolicy, Schedule, Set, Step, StepId, Target, Trigger, Wait, WaitFor, Workflow, Zone,
};
use crate::template::{Scope, Template};
use crate::time::Duration;

/// One problem in a workflow file, located by line and field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The name the caller gave the file, such as its path.
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// The field's path, such as `steps[1].schedule.after[2]`; empty for a TOML syntax error.
    pub field: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

/// Parses and validates one workflow file. `source_name` only labels the diagnostics.
///
/// On failure every problem found is returned, sorted by position.
pub fn parse_workflow(source_name: &str, text: &str) -> Result<Workflow, Vec<Diagnostic>> {
    let mut reader =
        Reader { file: source_name, text, diagnostics: Vec::new(), references: Vec::new(), step_ids: None };
    let document = match DeTable::parse(text) {
        Ok(document) => document,
        Err(error) => {
            let span = error.span().unwrap_or(0..0);
            reader.report(span, "", error.message().trim_end());
            return Err(reader.diagnostics);
        }
    };
    let root = Spanned::new(document.span(), DeValue::Table(document.into_inner()));
    let workflow = reader.workflow(&root);
    reader.check_references();
    if reader.diagnostics.is_empty()
        && let Some(workflow) = workflow
    {
        return Ok(workflow);
    }
    let mut diagnostics = reader.diagnostics;
    diagnostics.sort_by_key(|diagnostic| (diagnostic.line, diagnostic.column));
    Err(diagnostics)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

type Node<'a, 'i> = &'a Spanned<DeValue<'i>>;

/// A value in the document together with its field path.
struct Field<'a, 'i> {
    path: String,
    node: Node<'a, 'i>,
}

/// A table whose keys were already checked against the accepted list.
struct Table<'a, 'i> {
    path: String,
    span: Range<usize>,
    entries: &'a DeTable<'i>,
}

/// A mention of a step id, checked once all steps are known.
struct Reference {
    id: String,
    span: Range<usize>,
    field: String,
    /// True for `steps.<id>` inside a template, false for a jump.
    in_template: bool,
}

struct Reader<'t> {
    file: &'t str,
    text: &'t str,
    diagnostics: Vec<Diagnostic>,
    references: Vec<Reference>,
    /// Every id written in `[[steps]]`, including those of steps with other mistakes; `None` when some step's id
    /// could not be read (or no steps were), so a reference to an unknown id might mean that step and is not judged.
    step_ids: Option<BTreeSet<String>>,
}

const ROOT_KEYS: &[&str] = &["name", "zone", "version", "task", "settings", "trigger", "cancel_on", "steps"];
const TRIGGER_KEYS: &[&str] = &["source", "event", "key", "if_running", "also"];
const ALSO_KEYS: &[&str] = &["source", "event", "key"];
const CANCEL_KEYS: &[&str] = &["events", "key", "then"];
const ACTION_KEYS: &[&str] = &["call", "wait", "wait_for", "condition", "escalate", "record", "set"];
const CALL_ONLY_KEYS: &[&str] = &["with", "schedule", "retry_on", "until", "on_exhausted", "on_fatal"];
const STEP_KEYS: &[&str] = &[
    "id",
    "next",
    "outcome",
    "call",
    "wait",
    "wait_for",
    "condition",
    "escalate",
    "record",
    "set",
    "on_error",
    "check",
    "with",
    "schedule",
    "retry_on",
    "until",
    "on_exhausted",
    "on_fatal",
];
const SCHEDULE_KEYS: &[&str] =
    &["attempts", "after", "backoff", "jitter_percent", "prefer_paydays", "business_hours"];
const BACKOFF_KEYS: &[&str] = &["first", "initial", "factor", "max"];
const PAYDAY_KEYS: &[&str] = &["days", "within"];
const BUSINESS_HOURS_KEYS: &[&str] = &["from", "to", "days", "utc_offset"];
const WAIT_KEYS: &[&str] = &["until"];
const WAIT_FOR_KEYS: &[&str] = &["event", "key", "when", "match", "timeout", "on_timeout"];
const CONDITION_KEYS: &[&str] = &["if", "then", "else"];
const ESCALATE_KEYS: &[&str] = &["team", "due", "title", "context", "retry", "on_dismiss", "choices"];
const CHOICE_KEYS: &[&str] = &["label", "next", "fields"];
const FIELD_SPEC_KEYS: &[&str] = &["type", "required"];
const HTTP_KEYS: &[&str] = &["method", "url", "headers", "json"];
const HTTP_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
const WEEKDAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Reader<'_> {
    fn workflow(&mut self, root: Node<'_, '_>) -> Option<Workflow> {
        let table = self.table("", root, ROOT_KEYS)?;
        let name = self.required(&table, "name").and_then(|field| self.name(&field));
        let zone = self.required(&table, "zone").and_then(|field| self.zone(&field));
        let version = self
            .required(&table, "version")
            .and_then(|field| self.integer(&field, 1, i64::from(u32::MAX)))
            .map(|version| version as u32);
        let task = match table.get("task") {
            Some(field) => self.string(&field).map(|task| Some(task.to_owned())),
            None => Some(None),
        };
        let settings = match table.get("settings") {
            Some(field) => self.settings(&field),
            None => Some(BTreeMap::new()),
        };
        let trigger = self.required(&table, "trigger").and_then(|field| self.trigger(&field));
        let trigger_key = trigger.as_ref().map(|trigger| trigger.key.source().to_owned());
        let cancel_on = match table.get("cancel_on") {
            Some(field) => self.cancel_on(&field, trigger_key.as_deref()).map(Some),
            None => Some(None),
        };
        let steps =
            self.required(&table, "steps").and_then(|field| self.steps(&field, trigger_key.as_deref()));
        Some(Workflow {
            name: name?,
            zone: zone?,
            version: version?,
            task: task?,
            settings: settings?,
            trigger: trigger?,
            cancel_on: cancel_on?,
            steps: steps?,
        })
    }

    fn trigger(&mut self, field: &Field<'_, '_>) -> Option<Trigger> {
        let table = self.table(&field.path, field.node, TRIGGER_KEYS)?;
        let source = self.required(&table, "source").and_then(|field| self.name(&field));
        let event = self.required(&table, "event").and_then(|field| self.name(&field));
        let key = self.required(&table, "key").and_then(|field| self.template(&field, Scope::Event));
        let if_running = match table.get("if_running") {
            None => Some(IfRunning::Ignore),
            Some(field) => match self.string(&field)? {
                "ignore" => Some(IfRunning::Ignore),
                "restart" => Some(IfRunning::Restart),
                other => {
                    self.fail(&field, format!("{other:?} is not accepted; use \"ignore\" or \"restart\""))
                }
            },
        };
        let also = match table.get("also") {
            None => Some(Vec::new()),
            Some(field) => self.array(&field).and_then(|items| {
                let read: Vec<Option<AlsoTrigger>> =
                    items.iter().map(|item| self.also_trigger(item)).collect();
                read.into_iter().collect::<Option<Vec<_>>>()
            }),
        };
        Some(Trigger {
            event: EventType { source: source?, name: event? },
            key: key?,
            if_running: if_running?,
            also: also?,
        })
    }

    fn also_trigger(&mut self, field: &Field<'_, '_>) -> Option<AlsoTrigger> {
        let table = self.table(&field.path, field.node, ALSO_KEYS)?;
        let source = self.required(&table, "source").and_then(|field| self.name(&field));
        let event = self.required(&table, "event").and_then(|field| self.name(&field));
        let key = self.required(&table, "key").and_then(|field| self.template(&field, Scope::Event));
        Some(AlsoTrigger { event: EventType { source: source?, name: event? }, key: key? })
    }

    fn cancel_on(&mut self, field: &Field<'_, '_>, trigger_key: Option<&str>) -> Option<CancelOn> {
        let table = self.table(&field.path, field.node, CANCEL_KEYS)?;
        let events = self.required(&table, "events").and_then(|field| {
            let items = self.array(&field)?;
            if items.is_empty() {
                return self.fail(&field, "list at least one event, such as \"stripe:invoice.paid\"");
            }
            let events: Vec<Option<EventType>> = items.iter().map(|item| self.event_type(item)).collect();
            events.into_iter().collect::<Option<Vec<_>>>()
        });
        let key = self.key_or_trigger_key(&table, trigger_key);
        let then = match table.get("then") {
            Some(field) => self.step_reference(&field).map(Some),
            None => Some(None),
        };
        Some(CancelOn { events: events?, key: key?, then: then? })
    }

    fn steps(&mut self, field: &Field<'_, '_>, trigger_key: Option<&str>) -> Option<Vec<Step>> {
        let items = self.array(field)?;
        if items.is_empty() {
            return self.fail(field, "a workflow needs at least one step");
        }
        // The ids are read first, apart from the rest of each step: a step's default `next` is the step after it,
        // and an id is taken (for duplicates and jumps) even when its step has other mistakes, which are reported
        // where they are. A missing or malformed id is reported by `step`.
        let ids: Vec<Option<StepId>> = items
            .iter()
            .map(|item| {
                item.node
                    .get_ref()
                    .as_table()
                    .and_then(|table| table.iter().find(|(key, _)| key.get_ref() == "id"))
                    .and_then(|(_, id)| id.get_ref().as_str())
                    .and_then(|id| StepId::parse(id).ok())
            })
            .collect();
        let mut first_seen: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
        for (item, id) in items.iter().zip(&ids) {
            let Some(id) = id else { continue };
            if let Some((first_path, first_line)) = first_seen.get(id.as_str()) {
                let message = format!(
                    "step id `{id}` is already used by {first_path} on line {first_line}; ids must be unique"
                );
                self.report(item.node.span(), &format!("{}.id", item.path), message);
            } else {
                first_seen.insert(id.as_str(), (&item.path, self.line_of(item.node.span().start)));
            }
        }
        if ids.iter().all(Option::is_some) {
            self.step_ids = Some(first_seen.keys().map(|id| (*id).to_owned()).collect());
        }
        let mut steps = Vec::new();
        let mut all_read = true;
        for (index, item) in items.iter().enumerate() {
            let following = ids.get(index + 1).cloned().flatten().map_or(Target::End, Target::Step);
            match self.step(item, following, trigger_key) {
                Some(step) => steps.push(step),
                None => all_read = false,
            }
        }
        all_read.then_some(steps)
    }

    fn step(&mut self, field: &Field<'_, '_>, following: Target, trigger_key: Option<&str>) -> Option<Step> {
        let table = self.table(&field.path, field.node, STEP_KEYS)?;
        let id = self.required(&table, "id").and_then(|field| {
            let text = self.string(&field)?;
            StepId::parse(text).map_err(|error| self.report_at(&field, error)).ok()
        });
        let kinds: Vec<&str> = ACTION_KEYS.iter().copied().filter(|kind| table.get(kind).is_some()).collect();
        let kind = match kinds.as_slice() {
            [kind] => Some(*kind),
            [] => self.fail_table(
                &table,
                "",
                "a step needs exactly one action: call, wait, wait_for, condition, escalate, record or set",
            ),
            [first, second, ..] => self.fail_table(
                &table,
                "",
                format!("a step has exactly one action, but this one has both `{first}` and `{second}`"),
            ),
        };
        for key in ["on_error", "check"] {
            if kind != Some("set")
                && let Some(extra) = table.get(key)
            {
                self.report_at(&extra, format!("`{key}` only applies to a `set` step"));
            }
        }
        if kind != Some("call") {
            for key in CALL_ONLY_KEYS {
                if let Some(extra) = table.get(key) {
                    self.report_at(&extra, format!("`{key}` only applies to a `call` step"));
                }
            }
        }
        let action = match kind {
            Some("call") => self.call(&table),
            Some("wait") => table.get("wait").and_then(|field| self.wait(&field)),
            Some("wait_for") => table.get("wait_for").and_then(|field| self.wait_for(&field, trigger_key)),
            Some("condition") => table.get("condition").and_then(|field| self.condition(&field, &following)),
            Some("escalate") => table.get("escalate").and_then(|field| self.escalate(&field)),
            Some("set") => table.get("set").and_then(|field| {
                let values = self.args(&field, false);
                let on_error = self.optional_target(&table, "on_error", Target::Fail);
                let checks = match table.get("check") {
                    None => Some(BTreeMap::new()),
                    Some(checks) => self.any_table(&checks.path, checks.node).and_then(|found| {
                        let mut read = BTreeMap::new();
                        let mut all = true;
                        for (name, _) in found.entries.iter() {
                            let name = name.get_ref().to_string();
                            let Some(entry) = found.get(&name) else { continue };
                            match self.template(&entry, Scope::Until) {
                                Some(template) => {
                                    read.insert(name, template);
                                }
                                None => all = false,
                            }
                        }
                        all.then_some(read)
                    }),
                };
                Some(Action::Set(Set { values: values?, checks: checks?, on_error: on_error? }))
            }),
            Some(_) => table.get("record").and_then(|field| self.record(&field)),
            None => None,
        };
        let next = match table.get("next") {
            Some(field) => self.target(&field),
            None => Some(following),
        };
        let outcome = match table.get("outcome") {
            Some(field) => self.template(&field, Scope::Step).map(Some),
            None => Some(None),
        };
        Some(Step { id: id?, action: action?, next: next?, outcome: outcome? })
    }

    fn call(&mut self, table: &Table<'_, '_>) -> Option<Action> {
        let call = table.get("call")?;
        let action = self.string(&call).and_then(|name| {
            let segment = |part: &str| {
                !part.is_empty()
                    && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            };
            let valid = name == "http" || name.split_once('.').is_some_and(|(a, b)| segment(a) && segment(b));
            if valid {
                Some(ActionName(name.to_owned()))
            } else {
                self.fail(&call, format!("{name:?} is not an action; use `connector.action` or `http`"))
            }
        });
        let with = match table.get("with") {
            Some(field) => self.args(&field, action.as_ref().is_some_and(|name| name.0 == "http")),
            None if action.as_ref().is_some_and(|name| name.0 == "http") => {
                self.fail(&call, "an `http` call needs `with = { method = …, url = … }`")
            }
            None => Some(BTreeMap::new()),
        };
        let retry = self.retry_policy(table);
        Some(Action::Call(Call { action: action?, with: with?, retry: retry? }))
    }

    fn retry_policy(&mut self, table: &Table<'_, '_>) -> Option<RetryPolicy> {
        let (attempts, schedule) = match table.get("schedule") {
            Some(field) => self.schedule(&field)?,
            None => (
                1,
                Schedule {
                    delays: Delays::After(vec![Duration::from_seconds(0)]),
                    jitter_percent: 0,
                    prefer_paydays: None,
                    business_hours: None,
                },
            ),
        };
        let retry_on = match table.get("retry_on") {
            None => Some(None),
            Some(field) => self.array(&field).and_then(|items| {
                let kinds: Vec<Option<ErrorKind>> = items.iter().map(|item| self.error_kind(item)).collect();
                kinds.into_iter().collect::<Option<Vec<_>>>().map(Some)
            }),
        };
        let until = match table.get("until") {
            Some(field) => self.template(&field, Scope::Until).map(Some),
            None => Some(None),
        };
        let on_exhausted = self.optional_target(table, "on_exhausted", Target::Fail);
        let on_fatal = self.optional_target(table, "on_fatal", Target::Fail);
        Some(RetryPolicy {
            attempts,
            schedule,
            retry_on: retry_on?,
            until: until?,
            on_exhausted: on_exhausted?,
            on_fatal: on_fatal?,
        })
    }

    fn schedule(&mut self, field: &Field<'_, '_>) -> Option<(u32, Schedule)> {
        let table = self.table(&field.path, field.node, SCHEDULE_KEYS)?;
        let attempts = match table.get("attempts") {
            Some(field) => self.integer(&field, 1, 100).map(|n| Some(n as u32)),
            None => Some(None),
        };
        let delays = match (table.get("after"), table.get("backoff")) {
            (Some(_), Some(backoff)) => self.fail(&backoff, "give either `after` or `backoff`, not both"),
            (Some(after), None) => self.array(&after).and_then(|items| {
                if items.is_empty() {
                    return self.fail(&after, "list at least one delay, such as [\"1d\", \"3d\"]");
                }
                let delays: Vec<Option<Duration>> = items.iter().map(|item| self.duration(item)).collect();
                delays.into_iter().collect::<Option<Vec<_>>>().map(Delays::After)
            }),
            (None, Some(backoff)) => self.backoff(&backoff),
            (None, None) => Some(Delays::After(vec![Duration::from_seconds(0)])),
        };
        let jitter_percent = match table.get("jitter_percent") {
            Some(field) => self.integer(&field, 0, 50).map(|n| n as u32),
            None => Some(0),
        };
        let prefer_paydays = match table.get("prefer_paydays") {
            Some(field) => self.paydays(&field),
            None => Some(None),
        };
        let business_hours = match table.get("business_hours") {
            Some(field) => self.business_hours(&field).map(Some),
            None => Some(None),
        };
        let (attempts, delays) = (attempts?, delays?);
        let attempts = match (&delays, attempts) {
            (Delays::After(list), Some(attempts)) if list.len() > attempts as usize => {
                let after = table.get("after")?;
                return self.fail(
                    &after,
                    format!(
                        "lists {} delays but attempts is {attempts}; give at most one per attempt",
                        list.len()
                    ),
                );
            }
            (_, Some(attempts)) => attempts,
            (Delays::After(list), None) => list.len() as u32,
            (Delays::Backoff { .. }, None) => 3,
        };
        let schedule = Schedule {
            delays,
            jitter_percent: jitter_percent?,
            prefer_paydays: prefer_paydays?,
            business_hours: business_hours?,
        };
        Some((attempts, schedule))
    }

    fn backoff(&mut self, field: &Field<'_, '_>) -> Option<Delays> {
        let table = self.table(&field.path, field.node, BACKOFF_KEYS)?;
        let first = self.optional_duration(&table, "first", Duration::from_seconds(0));
        let initial = self.required(&table, "initial").and_then(|field| self.duration(&field));
        let factor = match table.get("factor") {
            Some(field) => self.integer(&field, 1, 10).map(|n| n as u32),
            None => Some(2),
        };
        let max = self.optional_duration(&table, "max", Duration::from_seconds(86_400));
        Some(Delays::Backoff { first: first?, initial: initial?, factor: factor?, max: max? })
    }

    fn paydays(&mut self, field: &Field<'_, '_>) -> Option<Option<Paydays>> {
        let default_days = vec![1, 15, -1];
        let default_within = Duration::from_seconds(2 * 86_400);
        if let Some(flag) = field.node.get_ref().as_bool() {
            return Some(flag.then_some(Paydays { days: default_days, within: default_within }));
        }
        let table = self.table(&field.path, field.node, PAYDAY_KEYS)?;
        let days = match table.get("days") {
            Some(days) => self.array(&days).and_then(|items| {
                let days: Vec<Option<i32>> = items
                    .iter()
                    .map(|item| {
                        let day = self.integer(item, -1, 31)?;
                        if day == 0 {
                            return self.fail(item, "0 is not a day; use 1 to 31, or -1 for the last day");
                        }
                        Some(day as i32)
                    })
                    .collect();
                days.into_iter().collect::<Option<Vec<_>>>()
            }),
            None => Some(default_days),
        };
        let within = self.optional_duration(&table, "within", default_within);
        Some(Some(Paydays { days: days?, within: within? }))
    }

    fn business_hours(&mut self, field: &Field<'_, '_>) -> Option<BusinessHours> {
        let table = self.table(&field.path, field.node, BUSINESS_HOURS_KEYS)?;
        let from = self.required(&table, "from").and_then(|field| self.clock_time(&field));
        let to = self.required(&table, "to").and_then(|field| self.clock_time(&field));
        let days = match table.get("days") {
            Some(days) => self.array(&days).and_then(|items| {
                let days: Vec<Option<u32>> = items
                    .iter()
                    .map(|item| {
                        let name = self.string(item)?;
                        match WEEKDAYS.iter().position(|day| *day == name) {
                            Some(index) => Some(index as u32),
                            None => self.fail(item, format!("{name:?} is not a weekday; use mon … sun")),
                        }
                    })
                    .collect();
                days.into_iter().collect::<Option<Vec<_>>>()
            }),
            None => Some(vec![0, 1, 2, 3, 4]),
        };
        let mut utc_offset_from = None;
        let utc_offset = match table.get("utc_offset") {
            Some(offset) if offset.node.get_ref().as_str().is_some_and(|text| text.contains("{{")) => {
                utc_offset_from = Some(self.template(&offset, Scope::Step));
                Some(0)
            }
            Some(offset) => self.string(&offset).and_then(|text| {
                parse_utc_offset(text).or_else(|| {
                    self.fail(
                        &offset,
                        format!("{text:?} is not an offset; use \"+02:00\" or \"-05:00\", or a template giving one"),
                    )
                })
            }),
            None => Some(0),
        };
        let utc_offset_from = match utc_offset_from {
            Some(Some(template)) => Some(template),
            Some(None) => return None,
            None => None,
        };
        let (from, to) = (from?, to?);
        if from >= to {
            return self.fail_table(&table, "to", "the window must close after it opens");
        }
        Some(BusinessHours { from, to, days: days?, utc_offset: utc_offset?, utc_offset_from })
    }

    fn wait(&mut self, field: &Field<'_, '_>) -> Option<Action> {
        if field.node.get_ref().is_str() {
            return self.duration(field).map(|duration| Action::Wait(Wait::For(duration)));
        }
        let table = self.table(&field.path, field.node, WAIT_KEYS)?;
        let until = self.required(&table, "until").and_then(|field| self.template(&field, Scope::Step))?;
        Some(Action::Wait(Wait::Until(until)))
    }

    fn wait_for(&mut self, field: &Field<'_, '_>, trigger_key: Option<&str>) -> Option<Action> {
        let table = self.table(&field.path, field.node, WAIT_FOR_KEYS)?;
        let event = self.required(&table, "event").and_then(|field| self.event_type(&field));
        let key = self.key_or_trigger_key(&table, trigger_key);
        let when = match table.get("when") {
            Some(field) => self.template(&field, Scope::Filter).map(Some),
            None => Some(None),
        };
        let matches = match table.get("match") {
            Some(field) => {
                if table.get("key").is_none() {
                    self.report_at(
                        &field,
                        "`match` needs the wait's own `key`: the value in the event it compares",
                    );
                }
                self.template(&field, Scope::Step).map(Some)
            }
            None => Some(None),
        };
        let timeout = self.required(&table, "timeout").and_then(|field| self.duration(&field));
        let on_timeout = self.optional_target(&table, "on_timeout", Target::Fail);
        Some(Action::WaitFor(WaitFor {
            event: event?,
            key: key?,
            when: when?,
            matches: matches?,
            timeout: timeout?,
            on_timeout: on_timeout?,
        }))
    }

    fn condition(&mut self, field: &Field<'_, '_>, following: &Target) -> Option<Action> {
        let table = self.table(&field.path, field.node, CONDITION_KEYS)?;
        let test = self.required(&table, "if").and_then(|field| self.template(&field, Scope::Step));
        if table.get("then").is_none() && table.get("else").is_none() {
            return self.fail_table(
                &table,
                "",
                "a condition needs `then`, `else` or both (either defaults to the next step)",
            );
        }
        let then = self.optional_target(&table, "then", following.clone());
        let otherwise = self.optional_target(&table, "else", following.clone());
        Some(Action::Condition(Condition { test: test?, then: then?, otherwise: otherwise? }))
    }

    fn escalate(&mut self, field: &Field<'_, '_>) -> Option<Action> {
        let table = self.table(&field.path, field.node, ESCALATE_KEYS)?;
        let team = self.required(&table, "team").and_then(|field| self.name(&field));
        let due = self.optional_duration(&table, "due", Duration::from_seconds(86_400));
        let title = self.required(&table, "title").and_then(|field| self.template(&field, Scope::Step));
        let context = match table.get("context") {
            Some(field) => self.args(&field, false),
            None => Some(BTreeMap::new()),
        };
        let retry = match table.get("retry") {
            Some(field) => self.step_reference(&field).map(Some),
            None => Some(None),
        };
        let on_dismiss = self.optional_target(&table, "on_dismiss", Target::End);
        let choices = match table.get("choices") {
            Some(field) => self.choices(&field),
            None => Some((BTreeMap::new(), BTreeMap::new())),
        };
        let (choices, built_in_fields) = match choices {
            Some((choices, built_in)) => (Some(choices), Some(built_in)),
            None => (None, None),
        };
        Some(Action::Escalate(Escalate {
            team: team?,
            due: due?,
            title: title?,
            context: context?,
            retry: retry?,
            on_dismiss: on_dismiss?,
            choices: choices?,
            built_in_fields: built_in_fields?,
        }))
    }

    /// `choices`: a table of named decisions, each `{ label, next, fields = { name = "text" | "number" | "bool" |
    /// { type, required } } }`.
    #[allow(clippy::type_complexity)]
    fn choices(
        &mut self,
        field: &Field<'_, '_>,
    ) -> Option<(BTreeMap<String, Choice>, BTreeMap<String, BTreeMap<String, FieldSpec>>)> {
        let table = self.any_table(&field.path, field.node)?;
        let mut choices = BTreeMap::new();
        let mut built_in = BTreeMap::new();
        let mut all_read = true;
        for (key, _) in table.entries.iter() {
            let name = key.get_ref().to_string();
            let Some(entry) = table.get(&name) else { continue };
            if BUILT_IN_DECISIONS.contains(&name.as_str()) {
                // A built-in decision may only declare the fields it takes.
                let fields = self.table(&entry.path, entry.node, &["fields"]).and_then(|declared| {
                    match declared.get("fields") {
                        Some(fields) => self.field_specs(&fields),
                        None => Some(BTreeMap::new()),
                    }
                });
                match fields {
                    Some(fields) => {
                        built_in.insert(name, fields);
                    }
                    None => all_read = false,
                }
                continue;
            }
            if StepId::parse(&name).is_err() {
                let _: Option<()> = self.fail(
                    &entry,
                    format!("{name:?} cannot name a choice; use lowercase letters, digits and _"),
                );
                all_read = false;
                continue;
            }
            match self.choice(&entry, &name) {
                Some(choice) => {
                    choices.insert(name, choice);
                }
                None => all_read = false,
            }
        }
        all_read.then_some((choices, built_in))
    }

    fn choice(&mut self, field: &Field<'_, '_>, name: &str) -> Option<Choice> {
        let table = self.table(&field.path, field.node, CHOICE_KEYS)?;
        let label = match table.get("label") {
            Some(field) => self.string(&field).map(str::to_owned),
            None => Some(name.replace('_', " ")),
        };
        let next = self.required(&table, "next").and_then(|field| self.target(&field));
        let fields = match table.get("fields") {
            Some(field) => self.field_specs(&field),
            None => Some(BTreeMap::new()),
        };
        Some(Choice { label: label?, next: next?, fields: fields? })
    }

    fn field_specs(&mut self, field: &Field<'_, '_>) -> Option<BTreeMap<String, FieldSpec>> {
        let table = self.any_table(&field.path, field.node)?;
        let mut specs = BTreeMap::new();
        let mut all_read = true;
        for (key, _) in table.entries.iter() {
            let name = key.get_ref().to_string();
            let Some(entry) = table.get(&name) else { continue };
            let spec = match entry.node.get_ref() {
                DeValue::String(_) => self.field_kind(&entry).map(|kind| FieldSpec { kind, required: false }),
                DeValue::Table(_) => {
                    let Some(spec) = self.table(&entry.path, entry.node, FIELD_SPEC_KEYS) else {
                        all_read = false;
                        continue;
                    };
                    let kind = self.required(&spec, "type").and_then(|field| self.field_kind(&field));
                    let required = match spec.get("required") {
                        Some(field) => self.boolean(&field),
                        None => Some(false),
                    };
                    kind.zip(required).map(|(kind, required)| FieldSpec { kind, required })
                }
                _ => self.fail(
                    &entry,
                    "a field is \"text\", \"number\", \"bool\" or { type = …, required = true }",
                ),
            };
            match spec {
                Some(spec) => {
                    specs.insert(name, spec);
                }
                None => all_read = false,
            }
        }
        all_read.then_some(specs)
    }

    fn field_kind(&mut self, field: &Field<'_, '_>) -> Option<FieldKind> {
        match self.string(field)? {
            "text" => Some(FieldKind::Text),
            "number" => Some(FieldKind::Number),
            "bool" => Some(FieldKind::Bool),
            "amount" => Some(FieldKind::Amount),
            other => {
                self.fail(field, format!("{other:?} is not a field type; use text, number, bool or amount"))
            }
        }
    }

    fn record(&mut self, field: &Field<'_, '_>) -> Option<Action> {
        let mut fields = self.args(field, false)?;
        let ledger = match fields.remove("ledger") {
            Some(Arg::Literal(Value::String(ledger))) => ledger,
            Some(Arg::Template(template)) if !template.source().contains("{{") => {
                template.source().to_owned()
            }
            Some(_) => return self.fail(field, "`ledger` must be a plain name such as \"finance\""),
            None => return self.fail(field, "a record needs `ledger`, such as `ledger = \"finance\"`"),
        };
        if fields.is_empty() {
            return self.fail(field, "a record needs at least one field besides `ledger`");
        }
        Some(Action::Record(Record { ledger, fields }))
    }

    /// A table of arguments: strings are templates, other scalars literal, nesting kept. For the `http` action the
    /// top-level keys and the method are checked too.
    fn args(&mut self, field: &Field<'_, '_>, http: bool) -> Option<BTreeMap<String, Arg>> {
        let accepted: &[&str] = if http { HTTP_KEYS } else { &[] };
        let table = if http {
            self.table(&field.path, field.node, accepted)?
        } else {
            self.any_table(&field.path, field.node)?
        };
        if http {
            let method = self.required(&table, "method").and_then(|method| {
                let text = self.string(&method)?;
                if HTTP_METHODS.contains(&text) {
                    Some(())
                } else {
                    self.fail(
                        &method,
                        format!("{text:?} is not accepted; use one of {}", HTTP_METHODS.join(", ")),
                    )
                }
            });
            let url = self.required(&table, "url");
            method?;
            url?;
        }
        let mut args = BTreeMap::new();
        let mut all_read = true;
        for (key, _) in table.entries.iter() {
            if let Some(owned) = table.get(key.get_ref()) {
                match self.arg(&owned) {
                    Some(arg) => {
                        args.insert(key.get_ref().to_string(), arg);
                    }
                    None => all_read = false,
                }
            }
        }
        all_read.then_some(args)
    }

    fn arg(&mut self, field: &Field<'_, '_>) -> Option<Arg> {
        match field.node.get_ref() {
            DeValue::String(_) => self.template(field, Scope::Step).map(Arg::Template),
            DeValue::Integer(integer) => {
                let digits = integer.as_str().replace('_', "");
                match i64::from_str_radix(&digits, integer.radix()) {
                    Ok(number) => Some(Arg::Literal(Value::from(number))),
                    Err(_) => self.fail(field, "integer is out of range"),
                }
            }
            DeValue::Float(float) => {
                let number = float
                    .as_str()
                    .replace('_', "")
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64);
                match number {
                    Some(number) => Some(Arg::Literal(Value::Number(number))),
                    None => self.fail(field, "use a finite number"),
                }
            }
            DeValue::Boolean(flag) => Some(Arg::Literal(Value::Bool(*flag))),
            DeValue::Datetime(datetime) => Some(Arg::Literal(Value::String(datetime.to_string()))),
            DeValue::Array(items) => {
                let args: Vec<Option<Arg>> = items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| {
                        self.arg(&Field { path: format!("{}[{index}]", field.path), node: item })
                    })
                    .collect();
                args.into_iter().collect::<Option<Vec<_>>>().map(Arg::Array)
            }
            DeValue::Table(_) => self.args(field, false).map(Arg::Table),
        }
    }

    /// `[settings]`: plain values (text, numbers, booleans, lists and tables of them), never templates.
    fn settings(&mut self, field: &Field<'_, '_>) -> Option<BTreeMap<String, Value>> {
        let args = self.args(field, false)?;
        let mut settings = BTreeMap::new();
        let mut all_plain = true;
        for (name, arg) in args {
            match plain(arg) {
                Some(value) => {
                    settings.insert(name, value);
                }
                None => {
                    all_plain = false;
                    let path = format!("{}.{name}", field.path);
                    let node = field.node;
                    let _: Option<()> = self.fail(
                        &Field { path, node },
                        "a setting is a plain value such as \"seam\", 200 or true; templates are not read here",
                    );
                }
            }
        }
        all_plain.then_some(settings)
    }

    fn key_or_trigger_key(&mut self, table: &Table<'_, '_>, trigger_key: Option<&str>) -> Option<Template> {
        match table.get("key") {
            Some(field) => self.template(&field, Scope::Event),
            // The trigger's key was checked where it was written; if it failed, that is already reported.
            None => Template::parse(trigger_key?, Scope::Event).ok(),
        }
    }

    fn optional_target(&mut self, table: &Table<'_, '_>, key: &str, default: Target) -> Option<Target> {
        match table.get(key) {
            Some(field) => self.target(&field),
            None => Some(default),
        }
    }

    fn optional_duration(&mut self, table: &Table<'_, '_>, key: &str, default: Duration) -> Option<Duration> {
        match table.get(key) {
            Some(field) => self.duration(&field),
            None => Some(default),
        }
    }

    fn target(&mut self, field: &Field<'_, '_>) -> Option<Target> {
        match self.string(field)? {
            "end" => Some(Target::End),
            "fail" => Some(Target::Fail),
            _ => self.step_reference(field).map(Target::Step),
        }
    }

    /// A step id that must name a step; checked in [`Reader::check_references`].
    fn step_reference(&mut self, field: &Field<'_, '_>) -> Option<StepId> {
        let text = self.string(field)?;
        let id = StepId::parse(text).map_err(|error| self.report_at(field, error)).ok()?;
        self.references.push(Reference {
            id: text.to_owned(),
            span: field.node.span(),
            field: field.path.clone(),
            in_template: false,
        });
        Some(id)
    }

    fn template(&mut self, field: &Field<'_, '_>, scope: Scope) -> Option<Template> {
        let text = self.string(field)?;
        match Template::parse(text, scope) {
            Ok(template) => {
                for id in template.step_refs() {
                    self.references.push(Reference {
                        id: id.to_owned(),
                        span: field.node.span(),
                        field: field.path.clone(),
                        in_template: true,
                    });
                }
                Some(template)
            }
            Err(error) => self.fail(field, error),
        }
    }

    fn duration(&mut self, field: &Field<'_, '_>) -> Option<Duration> {
        let Some(text) = field.node.get_ref().as_str() else {
            let found = field.node.get_ref().type_str();
            return self.fail(field, format!("expected a duration such as \"2d\" or \"90m\", found {found}"));
        };
        Duration::parse(text).map_err(|error| self.report_at(field, error)).ok()
    }

    fn clock_time(&mut self, field: &Field<'_, '_>) -> Option<u32> {
        let text = self.string(field)?;
        let parsed = text.split_once(':').and_then(|(hours, minutes)| {
            let (hours, minutes): (u32, u32) = (hours.parse().ok()?, minutes.parse().ok()?);
            (hours <= 24 && minutes < 60 && hours * 60 + minutes <= 24 * 60)
                .then_some(hours * 3600 + minutes * 60)
        });
        parsed.or_else(|| {
            self.fail(field, format!("{text:?} is not a time of day; use \"09:00\" to \"24:00\""))
        })
    }

    fn event_type(&mut self, field: &Field<'_, '_>) -> Option<EventType> {
        let text = self.string(field)?;
        EventType::parse(text).or_else(|| {
            self.fail(
                field,
                format!("{text:?} is not an event; use \"source:type\" such as \"stripe:invoice.paid\""),
            )
        })
    }

    fn error_kind(&mut self, field: &Field<'_, '_>) -> Option<ErrorKind> {
        let text = self.string(field)?;
        ErrorKind::ALL.into_iter().find(|kind| kind.as_str() == text).or_else(|| {
            let accepted: Vec<&str> = ErrorKind::ALL.iter().map(|kind| kind.as_str()).collect();
            self.fail(field, format!("{text:?} is not an error kind; use one of {}", accepted.join(", ")))
        })
    }

    fn zone(&mut self, field: &Field<'_, '_>) -> Option<Zone> {
        let text = self.string(field)?;
        Zone::ALL.into_iter().find(|zone| zone.key() == text).or_else(|| {
            let accepted: Vec<&str> = Zone::ALL.iter().map(|zone| zone.key()).collect();
            self.fail(field, format!("{text:?} is not a zone; use one of {}", accepted.join(", ")))
        })
    }

    /// A non-empty plain name (workflow name, source, event type, team).
    fn name(&mut self, field: &Field<'_, '_>) -> Option<String> {
        let text = self.string(field)?;
        if text.trim().is_empty() || text.contains("{{") {
            return self.fail(field, "use a plain, non-empty name");
        }
        Some(text.to_owned())
    }

    fn integer(&mut self, field: &Field<'_, '_>, min: i64, max: i64) -> Option<i64> {
        let parsed = match field.node.get_ref() {
            DeValue::Integer(integer) => {
                i64::from_str_radix(&integer.as_str().replace('_', ""), integer.radix()).ok()
            }
            other => return self.fail(field, format!("expected an integer, found {}", other.type_str())),
        };
        match parsed {
            Some(number) if (min..=max).contains(&number) => Some(number),
            _ => self.fail(field, format!("use a whole number from {min} to {max}")),
        }
    }

    fn boolean(&mut self, field: &Field<'_, '_>) -> Option<bool> {
        match field.node.get_ref() {
            DeValue::Boolean(flag) => Some(*flag),
            other => self.fail(field, format!("expected true or false, found {}", other.type_str())),
        }
    }

    fn string<'a>(&mut self, field: &Field<'a, '_>) -> Option<&'a str> {
        match field.node.get_ref() {
            DeValue::String(text) => Some(text.as_ref()),
            other => self.fail(field, format!("expected a string, found {}", other.type_str())),
        }
    }

    fn array<'a, 'i>(&mut self, field: &Field<'a, 'i>) -> Option<Vec<Field<'a, 'i>>> {
        match field.node.get_ref() {
            DeValue::Array(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(index, node)| Field { path: format!("{}[{index}]", field.path), node })
                    .collect(),
            ),
            other => self.fail(field, format!("expected a list, found {}", other.type_str())),
        }
    }

    /// A table whose keys must all be in `accepted`; every other key is reported where it is written.
    fn table<'a, 'i>(&mut self, path: &str, node: Node<'a, 'i>, accepted: &[&str]) -> Option<Table<'a, 'i>> {
        let table = self.any_table(path, node)?;
        for (key, _) in table.entries.iter() {
            if !accepted.contains(&key.get_ref().as_ref()) {
                let hint = match accepted.iter().find(|known| edit_distance(known, key.get_ref()) <= 2) {
                    Some(known) => format!("did you mean `{known}`? "),
                    None => String::new(),
                };
                self.report(
                    key.span(),
                    &join(path, key.get_ref()),
                    format!("unknown key `{}`; {hint}accepted here: {}", key.get_ref(), accepted.join(", ")),
                );
            }
        }
        Some(table)
    }

    fn any_table<'a, 'i>(&mut self, path: &str, node: Node<'a, 'i>) -> Option<Table<'a, 'i>> {
        match node.get_ref() {
            DeValue::Table(entries) => Some(Table { path: path.to_owned(), span: node.span(), entries }),
            other => self.fail(
                &Field { path: path.to_owned(), node },
                format!("expected a table, found {}", other.type_str()),
            ),
        }
    }

    fn required<'a, 'i>(&mut self, table: &Table<'a, 'i>, key: &str) -> Option<Field<'a, 'i>> {
        let found = table.get(key);
        if found.is_none() {
            self.report(table.span.clone(), &join(&table.path, key), format!("missing `{key}`"));
        }
        found
    }

    /// Checks every jump and `steps.<id>` against the ids written in `[[steps]]`, whether or not the rest of the
    /// file read cleanly, so an unknown step is reported along with everything else.
    fn check_references(&mut self) {
        let Some(ids) = self.step_ids.take() else { return };
        let listed = ids.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
        let references = std::mem::take(&mut self.references);
        for reference in references {
            if ids.contains(&reference.id) {
                continue;
            }
            let message = if reference.in_template {
                format!(
                    "template reads `steps.{}`, but no step has that id; the steps are: {listed}",
                    reference.id
                )
            } else {
                format!("no step has id `{}`; use one of: {listed}, or `end` or `fail`", reference.id)
            };
            self.report(reference.span, &reference.field, message);
        }
    }

    fn fail<T>(&mut self, field: &Field<'_, '_>, message: impl fmt::Display) -> Option<T> {
        self.report_at(field, message);
        None
    }

    fn fail_table<T>(&mut self, table: &Table<'_, '_>, key: &str, message: impl fmt::Display) -> Option<T> {
        self.report(table.span.clone(), &join(&table.path, key), message);
        None
    }

    fn report_at(&mut self, field: &Field<'_, '_>, message: impl fmt::Display) {
        self.report(field.node.span(), &field.path, message);
    }

    fn report(&mut self, span: Range<usize>, field: &str, message: impl fmt::Display) {
        let start = span.start.min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |newline| newline + 1);
        self.diagnostics.push(Diagnostic {
            file: self.file.to_owned(),
            line: self.line_of(start),
            column: self.text[line_start..start].chars().count() + 1,
            field: field.to_owned(),
            message: message.to_string(),
        });
    }

    fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.text.as_bytes()[..offset].iter().filter(|byte| **byte == b'\n').count() + 1
    }
}

impl<'a, 'i> Table<'a, 'i> {
    fn get(&self, key: &str) -> Option<Field<'a, 'i>> {
        self.entries
            .iter()
            .find(|(name, _)| name.get_ref() == key)
            .map(|(_, node)| Field { path: join(&self.path, key), node })
    }
}

fn join(path: &str, key: &str) -> String {
    match (path.is_empty(), key.is_empty()) {
        (true, _) => key.to_owned(),
        (false, true) => path.to_owned(),
        (false, false) => format!("{path}.{key}"),
    }
}

/// Levenshtein distance, for "did you mean" hints on misspelt keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, a_char) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, b_char) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(a_char != *b_char);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// `+HH:MM` or `-HH:MM` (hours 0 to 14) as seconds east of UTC.
pub(crate) fn parse_utc_offset(text: &str) -> Option<i32> {
    let (sign, rest) = text.trim().split_at_checked(1)?;
    let sign = match sign {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':')?;
    let digits = hours.bytes().chain(minutes.bytes()).all(|b| b.is_ascii_digit());
    if !((1..=2).contains(&hours.len()) && minutes.len() == 2 && digits) {
        return None;
    }
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    ((0..=14).contains(&hours) && (0..60).contains(&minutes)).then_some(sign * (hours * 3600 + minutes * 60))
}

/// A setting's value: an argument tree with no template in it.
fn plain(arg: Arg) -> Option<Value> {
    match arg {
        Arg::Literal(value) => Some(value),
        Arg::Template(template) if !template.source().contains("{{") && !template.source().contains("{%") => {
            Some(Value::String(template.source().to_owned()))
        }
        Arg::Template(_) => None,
        Arg::Array(items) => items.into_iter().map(plain).collect::<Option<Vec<_>>>().map(Value::Array),
        Arg::Table(table) => table
            .into_iter()
            .map(|(key, value)| plain(value).map(|value| (key, value)))
            .collect::<Option<serde_json::Map<_, _>>>()
            .map(Value::Object),
    }
}
