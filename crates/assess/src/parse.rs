//! Reading an assessment file (TOML) into the validated model.
//!
//! This is the boundary: everything the user typed is checked here, and every problem becomes a `Diagnostic`
//! naming the file, the line, the field and what would be accepted. All problems in a file are reported at once,
//! type errors and unknown keys included, so a user fixes the file in one pass instead of one error per run.
//! Nothing here reads files: the caller passes the text and the name to show.
//!
//! It does not use serde's derive: a derive stops at the first error, does not know which field it was in, and
//! speaks in Rust types (`expected f64`). Instead the file is parsed into toml's spanned document tree
//! ([`DeTable`]) and walked once by a [`Reader`] that knows each node's byte span. Lines come from one index of
//! line starts searched by bisection, so reading a file costs time in proportion to its length (a task's line is
//! not counted from the start of the file).
//!
//! The file accepts what the wizard accepts, with one implementation for both: amounts as numbers or as text such
//! as `"12M"` or `"750k"` ([`parse_amount`]), counts such as `"18,000"` ([`parse_count`]) and leak rates such as
//! `"3.1%"` ([`parse_leak_rate`]).

use crate::model::{Assessment, Brand, LeakRate, Maturity, Score, Task, Zone};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One problem found in an assessment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name as the user gave it.
    pub source_name: String,
    /// 1-based line; 0 when the problem has no position (an empty file).
    pub line: usize,
    /// The field's path, such as `tasks[2].maturity`; empty when the problem is the file's syntax.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source_name)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found in one file; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (idx, diagnostic) in self.diagnostics.iter().enumerate() {
            if idx > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

/// Parses and validates an assessment file. `source_name` is only used in messages.
///
/// On failure every problem found is returned, in the order of the file's lines.
pub fn parse_assessment(source_name: &str, text: &str) -> Result<Assessment, ParseError> {
    let mut reader = Reader { source_name, text, line_starts: line_starts(text), diagnostics: Vec::new() };
    let document = match DeTable::parse(text) {
        Ok(document) => document,
        Err(error) => {
            reader.syntax_error(&error);
            return Err(ParseError { diagnostics: reader.diagnostics });
        }
    };
    let assessment = reader.assessment(&document);
    match assessment {
        Some(assessment) if reader.diagnostics.is_empty() => Ok(assessment),
        _ => {
            let mut diagnostics = reader.diagnostics;
            diagnostics.sort_by_key(|diagnostic| diagnostic.line);
            Err(ParseError { diagnostics })
        }
    }
}

/// Dollars as people write them: `12000000`, `12,000,000`, `$12M`, `750k`, `1.5m`; 0 or more, to the cent.
///
/// The wizard reads its answers with this, and the file reads amounts written as text (`"12M"`) with it.
pub fn parse_amount(answer: &str) -> Result<f64, String> {
    let cleaned: String =
        answer.trim().trim_start_matches('$').chars().filter(|c| *c != ',' && *c != '_').collect();
    let (number, factor) = match cleaned.chars().last().map(|c| c.to_ascii_lowercase()) {
        Some('k') => (&cleaned[..cleaned.len() - 1], 1e3),
        Some('m') => (&cleaned[..cleaned.len() - 1], 1e6),
        _ => (cleaned.as_str(), 1.0),
    };
    match number.trim().parse::<f64>() {
        // Rounded to the cent, so "1.1M" is 1100000 and not 1100000.0000000002.
        Ok(value) if value.is_finite() && value >= 0.0 => Ok((value * factor * 100.0).round() / 100.0 + 0.0),
        _ => Err(format!(
            "{answer:?} is not an amount; use a number of US dollars such as 12000000, 12M or 750k"
        )),
    }
}

/// A count as people write it: `18000`, `18,000` or `18_000`; a whole number, 0 or more.
pub fn parse_count(answer: &str) -> Result<u64, String> {
    let cleaned: String = answer.trim().chars().filter(|c| *c != ',' && *c != '_').collect();
    cleaned.parse().map_err(|_| format!("{answer:?} is not a count; use a whole number, 0 or more"))
}

/// A leak rate: `0.03`, `3%` or `3.1 %`. A bare number above 1 is refused rather than guessed at.
pub fn parse_leak_rate(answer: &str) -> Result<LeakRate, String> {
    let answer = answer.trim();
    let (number, divisor) = match answer.strip_suffix('%') {
        Some(number) => (number.trim(), 100.0),
        None => (answer, 1.0),
    };
    let refused =
        || format!("{answer:?} is not a share of orders; use 0.0 to 1.0 (0.03) or a percentage (3%)");
    let value: f64 = number.parse().map_err(|_| refused())?;
    LeakRate::new(value / divisor + 0.0).ok_or_else(refused)
}

const ROOT_KEYS: [&str; 2] = ["brand", "tasks"];
const BRAND_KEYS: [&str; 9] = [
    "name",
    "annual_gmv_usd",
    "monthly_orders",
    "hourly_cost_usd",
    "platforms",
    "growing",
    "timezone",
    "currency",
    "minutes_per_decision",
];
const TASK_KEYS: [&str; 11] = [
    "zone",
    "name",
    "maturity",
    "weekly_hours",
    "leak_rate",
    "monthly_orders",
    "tools",
    "owner",
    "growing",
    "leak_cost_usd",
    "evidence",
];
const EVIDENCE_ALLOWED: &str = "use \"workflow:NAME\" (a workflow's name) or an import: \"stripe-payments\", \
     \"shopify-orders\" or \"shopify-inventory\", each optionally with \":LABEL\" (\"stripe-payments:renewals\")";

/// `workflow:NAME`, or an import kind with an optional `:LABEL`; names and labels are lower-case letters, digits,
/// `-` and `_`.
fn is_evidence_link(link: &str) -> bool {
    let word = |text: &str| {
        !text.is_empty()
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    match link.split_once(':') {
        Some(("workflow", name)) => word(name),
        Some((kind, label)) => IMPORT_KINDS.contains(&kind) && word(label),
        None => IMPORT_KINDS.contains(&link),
    }
}

const IMPORT_KINDS: [&str; 3] = ["stripe-payments", "shopify-orders", "shopify-inventory"];
const TIMEZONE_ALLOWED: &str =
    "use an IANA name in quotes, such as timezone = \"America/New_York\", \"Europe/London\" or \"UTC\"";
const ZONES_ALLOWED: &str = "use order_to_cash, fulfillment, customer_service or post_purchase";
const MATURITY_ALLOWED: &str = "use 0 (Manual), 1 (Triggered), 2 (Automated) or 3 (Orchestrated)";

type Node<'a, 'i> = &'a Spanned<DeValue<'i>>;

/// Where a value sits, to name its field in messages. Paths are only spelt out when a problem is reported, so a
/// clean file of many tasks allocates none.
#[derive(Debug, Clone, Copy)]
enum Place {
    Root,
    Brand,
    Task(usize),
}

impl Place {
    fn field(self, key: &str) -> String {
        match self {
            Place::Root => key.to_string(),
            Place::Brand => format!("brand.{key}"),
            Place::Task(idx) if key.is_empty() => format!("tasks[{idx}]"),
            Place::Task(idx) => format!("tasks[{idx}].{key}"),
        }
    }

    /// How messages name the table, in "{what} takes …".
    fn what(self) -> &'static str {
        match self {
            Place::Root => "the file",
            Place::Brand => "[brand]",
            Place::Task(_) => "a task",
        }
    }
}

/// One value of a table, with its key, ready to be checked.
#[derive(Clone, Copy)]
struct Field<'a, 'i> {
    place: Place,
    key: &'static str,
    node: Node<'a, 'i>,
}

impl Field<'_, '_> {
    fn path(&self) -> String {
        self.place.field(self.key)
    }
}

/// The values of one table, by the position of their key in the table's accepted list.
struct Entries<'a, 'i, const N: usize> {
    place: Place,
    /// Where the table starts (its header), for problems such as a missing key.
    offset: usize,
    values: [Option<Node<'a, 'i>>; N],
    keys: [&'static str; N],
    /// Accepted keys an unknown key was probably meant to be; their absence is not reported again.
    suggested: [bool; N],
}

impl<'a, 'i, const N: usize> Entries<'a, 'i, N> {
    fn get(&self, key: &str) -> Option<Field<'a, 'i>> {
        let idx = self.keys.iter().position(|known| *known == key)?;
        self.values[idx].map(|node| Field { place: self.place, key: self.keys[idx], node })
    }
}

struct Reader<'t> {
    source_name: &'t str,
    text: &'t str,
    /// The byte offset where each line starts; line n (1-based) starts at `line_starts[n - 1]`.
    line_starts: Vec<usize>,
    diagnostics: Vec<Diagnostic>,
}

impl<'t> Reader<'t> {
    fn assessment(&mut self, document: &Spanned<DeTable<'_>>) -> Option<Assessment> {
        let root = self.entries(Place::Root, document.span().start, document.get_ref(), ROOT_KEYS);
        let brand = self
            .required(
                &root,
                "brand",
                "the file needs a [brand] table with name, annual_gmv_usd, monthly_orders and hourly_cost_usd",
            )
            .and_then(|field| self.brand(field));
        let tasks = match root.get("tasks") {
            Some(field) => self.tasks(field, brand.as_ref()),
            None => Some(Vec::new()),
        };
        Some(Assessment { brand: brand?, tasks: tasks? })
    }

    fn brand(&mut self, field: Field<'_, '_>) -> Option<Brand> {
        let DeValue::Table(table) = field.node.get_ref() else {
            let written = self.written(field.node);
            return self.fail(
                &field,
                format!(
                    "{written} is not a table; write a [brand] table with name, annual_gmv_usd, monthly_orders \
                     and hourly_cost_usd"
                ),
            );
        };
        let brand = self.entries(Place::Brand, field.node.span().start, table, BRAND_KEYS);
        let name = self.required(&brand, "name", "give the brand's name").and_then(|field| {
            let name =
                self.text_value(&field, "the brand's name in quotes, such as name = \"Example Apparel\"")?;
            if name.trim().is_empty() {
                return self.fail(&field, "is empty; give the brand's name");
            }
            Some(name.trim().to_string())
        });
        let annual_gmv_usd = self
            .required(
                &brand,
                "annual_gmv_usd",
                "give the brand's annual GMV in US dollars, 0 or more (e.g. annual_gmv_usd = 12000000)",
            )
            .and_then(|field| self.amount(&field, "the brand's annual GMV", "12000000, \"12M\" or \"750k\""));
        let monthly_orders = self
            .required(
                &brand,
                "monthly_orders",
                "give the brand's orders a month, 0 or more (e.g. monthly_orders = 18000)",
            )
            .and_then(|field| self.count(&field, "the brand's orders a month"));
        let hourly_cost_usd = self
            .required(
                &brand,
                "hourly_cost_usd",
                "give the loaded cost of one ops hour in US dollars, 0 or more (e.g. hourly_cost_usd = 40)",
            )
            .and_then(|field| self.amount(&field, "the loaded cost of one ops hour", "40 or \"$40\""));
        let platforms = match brand.get("platforms") {
            Some(field) => self.list(&field, "platforms = [\"shopify\", \"amazon\"]"),
            None => Some(Vec::new()),
        };
        let growing = match brand.get("growing") {
            Some(field) => self.yes_no(&field),
            None => Some(false),
        };
        let timezone = self.optional(brand.get("timezone"), |parser, field| {
            let zone =
                parser.text_value(&field, "a time zone's name in quotes, such as timezone = \"UTC\"")?;
            let looks_like_a_zone =
                !zone.is_empty() && zone.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
            if !looks_like_a_zone {
                let message = format!("{zone:?} is not a time zone's name; {TIMEZONE_ALLOWED}");
                return parser.fail(&field, message);
            }
            Some(zone.to_string())
        });
        let currency = self.optional(brand.get("currency"), |parser, field| {
            let code =
                parser.text_value(&field, "a currency's ISO code in quotes, such as currency = \"USD\"")?;
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
                return parser.fail(
                    &field,
                    format!("{code:?} is not a currency code; use three letters such as \"USD\" or \"EUR\""),
                );
            }
            Some(code.to_ascii_uppercase())
        });
        let minutes_per_decision = self.optional(brand.get("minutes_per_decision"), |parser, field| {
            match number(field.node) {
                Some(minutes) if minutes > 0.0 && minutes <= 480.0 => Some(minutes),
                _ => {
                    let written = parser.written(field.node);
                    let message = format!(
                        "{written} is not a number of minutes; give the minutes one decision takes, more than 0 \
                         and at most 480, such as 10"
                    );
                    parser.fail(&field, message)
                }
            }
        });
        Some(Brand {
            name: name?,
            annual_gmv_usd: annual_gmv_usd?,
            monthly_orders: monthly_orders?,
            hourly_cost_usd: hourly_cost_usd?,
            platforms: platforms?,
            growing: growing?,
            timezone: timezone?,
            currency: currency?,
            minutes_per_decision: minutes_per_decision?,
        })
    }

    fn tasks(&mut self, field: Field<'_, '_>, brand: Option<&Brand>) -> Option<Vec<Task>> {
        let DeValue::Array(items) = field.node.get_ref() else {
            let written = self.written(field.node);
            return self.fail(
                &field,
                format!("{written} is not a list of tasks; write each task as a [[tasks]] table"),
            );
        };
        let mut tasks = Vec::with_capacity(items.len());
        // Task names, lower-cased, to the line of the task that took each first: one look-up per task.
        let mut names: HashMap<String, usize> = HashMap::with_capacity(items.len());
        let mut all_read = true;
        for (task_idx, item) in items.iter().enumerate() {
            match self.task(Place::Task(task_idx), item, brand, &mut names) {
                Some(task) => tasks.push(task),
                None => all_read = false,
            }
        }
        all_read.then_some(tasks)
    }

    fn task(
        &mut self,
        place: Place,
        node: Node<'_, '_>,
        brand: Option<&Brand>,
        names: &mut HashMap<String, usize>,
    ) -> Option<Task> {
        let DeValue::Table(table) = node.get_ref() else {
            let written = self.written(node);
            self.report(
                node.span().start,
                place.field(""),
                format!("{written} is not a task; write each task as a [[tasks]] table with zone and name"),
            );
            return None;
        };
        let offset = node.span().start;
        let line = self.line_of(offset);
        let task = self.entries(place, offset, table, TASK_KEYS);

        let zone = self.required(&task, "zone", ZONES_ALLOWED).and_then(|field| self.zone(&field));
        let name = self.required(&task, "name", "name the task").and_then(|field| {
            let name = self.text_value(&field, "the task's name in quotes")?;
            let name = name.trim();
            if name.is_empty() {
                return self.fail(&field, "is empty; name the task");
            }
            match names.entry(name.to_lowercase()) {
                Entry::Occupied(first) => {
                    let first_line = *first.get();
                    self.fail(
                        &field,
                        format!(
                            "{name:?} is already the name of the task on line {first_line}; give each task its \
                             own name"
                        ),
                    )
                }
                Entry::Vacant(slot) => {
                    slot.insert(line);
                    Some(name.to_string())
                }
            }
        });
        let score = self.task_score(&task);
        let monthly_orders = match task.get("monthly_orders") {
            Some(field) => self.count(&field, "the orders a month through this step"),
            None => brand.map(|brand| brand.monthly_orders),
        };
        let tools = match task.get("tools") {
            Some(field) => self.list(&field, "tools = [\"stripe\", \"shopify\"]"),
            None => Some(Vec::new()),
        };
        let owner = match task.get("owner") {
            Some(field) => self
                .text_value(&field, "the owner's role or name in quotes, or leave owner out for nobody")
                .map(|owner| Some(owner.trim().to_string()).filter(|owner| !owner.is_empty())),
            None => Some(None),
        };
        let growing = match task.get("growing") {
            Some(field) => self.yes_no(&field),
            None => Some(brand.is_some_and(|brand| brand.growing)),
        };
        let leak_cost_usd = match task.get("leak_cost_usd") {
            Some(field) => self.amount(&field, "the cost of one leaked order", "55 or \"$55\"").map(Some),
            None => Some(None),
        };
        let evidence = self.optional(task.get("evidence"), |parser, field| {
            let link = parser.text_value(&field, EVIDENCE_ALLOWED)?;
            if !is_evidence_link(link) {
                return parser
                    .fail(&field, format!("{link:?} is not an evidence source; {EVIDENCE_ALLOWED}"));
            }
            Some(link.to_string())
        });
        Some(Task {
            zone: zone?,
            name: name?,
            score: score?,
            monthly_orders: monthly_orders?,
            tools: tools?,
            owner: owner?,
            growing: growing?,
            leak_cost_usd: leak_cost_usd?,
            evidence: evidence?,
            line,
        })
    }

    /// The score of a task: all three of maturity, weekly hours and leak rate, or none of them (not yet scored).
    /// `Some(None)` is a task waiting to be scored; `None` a task with a mistake, already reported.
    fn task_score(&mut self, task: &Entries<'_, '_, 11>) -> Option<Option<Score>> {
        let (maturity, weekly_hours, leak_rate) =
            (task.get("maturity"), task.get("weekly_hours"), task.get("leak_rate"));
        // The values given are checked in every case, so their mistakes come out along with the rest.
        let checked_hours = weekly_hours.map(|field| self.hours(&field));
        let checked_rate = leak_rate.map(|field| self.leak_rate(&field));
        let Some(maturity) = maturity else {
            let given = match (weekly_hours, leak_rate) {
                (None, None) => return Some(None),
                (Some(_), _) => "weekly_hours",
                (None, Some(_)) => "leak_rate",
            };
            // Either the score or the figure is what is missing; naming the other missing figure too would
            // contradict "remove it".
            self.missing(
                task,
                "maturity",
                &format!("is missing but {given} is given; score the task 0-3 or remove {given}"),
            );
            return None;
        };
        let maturity = self.maturity(&maturity);
        if checked_hours.is_none() {
            self.missing(
                task,
                "weekly_hours",
                "is missing; give the hours of human work this task takes a week (0 or more)",
            );
        }
        if checked_rate.is_none() {
            self.missing(
                task,
                "leak_rate",
                "is missing; give the share of orders through this step that hit a problem, 0.0 to 1.0",
            );
        }
        let (weekly_hours, leak_rate) = (checked_hours.flatten(), checked_rate.flatten());
        Some(Some(Score { maturity: maturity?, weekly_hours: weekly_hours?, leak_rate: leak_rate? }))
    }

    /// Sorts a table's values by key in one pass over it, reporting every key that is not accepted there.
    fn entries<'a, 'i, const N: usize>(
        &mut self,
        place: Place,
        offset: usize,
        table: &'a DeTable<'i>,
        keys: [&'static str; N],
    ) -> Entries<'a, 'i, N> {
        let mut entries = Entries { place, offset, values: [None; N], keys, suggested: [false; N] };
        for (key, node) in table.iter() {
            let name: &str = key.get_ref();
            if let Some(idx) = keys.iter().position(|known| *known == name) {
                entries.values[idx] = Some(node);
                continue;
            }
            let near = keys.iter().position(|known| is_misspelling(name, known));
            let hint = match near {
                Some(idx) => {
                    entries.suggested[idx] = true;
                    format!(" (did you mean {}?)", keys[idx])
                }
                None => String::new(),
            };
            self.report(
                key.span().start,
                place.field(name),
                format!("unknown key{hint}; {} takes {}", place.what(), keys.join(", ")),
            );
        }
        entries
    }

    /// The value under `key`, or a report that it is missing (unless a misspelt key was already reported for it).
    fn required<'a, 'i, const N: usize>(
        &mut self,
        entries: &Entries<'a, 'i, N>,
        key: &str,
        allowed: &str,
    ) -> Option<Field<'a, 'i>> {
        let found = entries.get(key);
        if found.is_none() {
            self.missing(entries, key, &format!("is missing; {allowed}"));
        }
        found
    }

    /// Reports that `key` is missing, at the table's header, unless a misspelling of it was already reported.
    fn missing<const N: usize>(&mut self, entries: &Entries<'_, '_, N>, key: &str, message: &str) {
        let misspelt =
            entries.keys.iter().zip(entries.suggested).any(|(known, hinted)| *known == key && hinted);
        if !misspelt {
            self.report(entries.offset, entries.place.field(key), message);
        }
    }

    fn zone(&mut self, field: &Field<'_, '_>) -> Option<Zone> {
        let zone = match field.node.get_ref() {
            DeValue::String(key) => Zone::from_key(key.trim()),
            _ => None,
        };
        if zone.is_none() {
            let written = self.written(field.node);
            self.report_at(field, format!("{written} is not a zone; {ZONES_ALLOWED}"));
        }
        zone
    }

    fn maturity(&mut self, field: &Field<'_, '_>) -> Option<Maturity> {
        let whole = match field.node.get_ref() {
            DeValue::String(text) => text.trim().parse::<i64>().ok(),
            _ => number(field.node).filter(|value| value.fract() == 0.0).map(|value| value as i64),
        };
        let problem = match whole {
            Some(value) => match Maturity::new(value) {
                Some(maturity) => return Some(maturity),
                None => "is outside the scale",
            },
            None => "is not a whole number",
        };
        let written = self.written(field.node);
        self.fail(field, format!("{written} {problem}; {MATURITY_ALLOWED}"))
    }

    fn hours(&mut self, field: &Field<'_, '_>) -> Option<f64> {
        let hours = match field.node.get_ref() {
            DeValue::String(text) => text.trim().parse::<f64>().ok().map(|hours| hours + 0.0),
            _ => number(field.node),
        };
        match hours {
            Some(hours) if hours.is_finite() && hours >= 0.0 => Some(hours),
            _ => {
                let written = self.written(field.node);
                self.fail(
                    field,
                    format!(
                        "{written} is not a number of hours; use 0 or more hours of human work a week, such as 6 \
                         or 1.5"
                    ),
                )
            }
        }
    }

    fn leak_rate(&mut self, field: &Field<'_, '_>) -> Option<LeakRate> {
        let rate = match field.node.get_ref() {
            DeValue::String(text) => parse_leak_rate(text).ok(),
            _ => number(field.node).and_then(LeakRate::new),
        };
        if rate.is_none() {
            let written = self.written(field.node);
            self.report_at(
                field,
                format!(
                    "{written} is not a share of orders; use 0.0 to 1.0 (0.031 means 3.1% of orders hit a problem) \
                     or a percentage such as \"3.1%\""
                ),
            );
        }
        rate
    }

    /// US dollars, 0 or more: a number, or text the way the wizard takes it (`"12M"`, `"750k"`, `"$12,000,000"`).
    /// `what` names the amount and `examples` shows how to write it, in messages.
    fn amount(&mut self, field: &Field<'_, '_>, what: &str, examples: &str) -> Option<f64> {
        let (amount, problem) = match field.node.get_ref() {
            DeValue::String(text) => (parse_amount(text).ok(), "is not an amount"),
            _ => match number(field.node) {
                Some(amount) if amount < 0.0 => (None, "is negative"),
                Some(amount) if amount.is_finite() => (Some(amount), ""),
                _ => (None, "is not an amount"),
            },
        };
        if amount.is_none() {
            let written = self.written(field.node);
            self.report_at(
                field,
                format!("{written} {problem}; give {what} in US dollars, 0 or more, such as {examples}"),
            );
        }
        amount
    }

    /// A whole number, 0 or more: a number, or text such as `"18,000"`.
    fn count(&mut self, field: &Field<'_, '_>, what: &str) -> Option<u64> {
        let count = match field.node.get_ref() {
            DeValue::String(text) => parse_count(text).ok(),
            DeValue::Integer(integer) => {
                let digits = integer.as_str();
                let digits = if digits.contains('_') { digits.replace('_', "") } else { digits.to_string() };
                u64::from_str_radix(&digits, integer.radix()).ok()
            }
            _ => number(field.node)
                .filter(|value| value.fract() == 0.0 && *value >= 0.0 && *value < 1e15)
                .map(|value| value as u64),
        };
        if count.is_none() {
            let written = self.written(field.node);
            self.report_at(
                field,
                format!("{written} is not a count; give {what} as a whole number, 0 or more, such as 18000 or \"18,000\""),
            );
        }
        count
    }

    /// A list of names: `["shopify", "amazon"]`, or one text the way the wizard takes it (`"shopify, amazon"`).
    /// Entries are trimmed; empty ones and repeats (whatever the case) are dropped, keeping the first spelling.
    fn list(&mut self, field: &Field<'_, '_>, example: &str) -> Option<Vec<String>> {
        let items: Vec<&str> = match field.node.get_ref() {
            DeValue::String(text) => text.split(',').collect(),
            DeValue::Array(nodes) => {
                let mut items = Vec::with_capacity(nodes.len());
                let mut all_text = true;
                for (idx, node) in nodes.iter().enumerate() {
                    match node.get_ref() {
                        DeValue::String(text) => items.push(text.as_ref()),
                        _ => {
                            let written = self.written(node);
                            self.report(
                                node.span().start,
                                format!("{}[{idx}]", field.path()),
                                format!(
                                    "{written} is not a name; write each name in quotes, such as {example}"
                                ),
                            );
                            all_text = false;
                        }
                    }
                }
                if !all_text {
                    return None;
                }
                items
            }
            _ => {
                let written = self.written(field.node);
                return self.fail(
                    field,
                    format!("{written} is not a list; write names in quotes, such as {example}"),
                );
            }
        };
        let mut cleaned: Vec<String> = Vec::with_capacity(items.len());
        for item in items {
            let item = item.trim();
            if !item.is_empty() && !cleaned.iter().any(|seen| seen.eq_ignore_ascii_case(item)) {
                cleaned.push(item.to_string());
            }
        }
        Some(cleaned)
    }

    /// true or false; text as the wizard takes it (`"yes"`, `"no"`, `"y"`, `"n"`) is accepted too.
    fn yes_no(&mut self, field: &Field<'_, '_>) -> Option<bool> {
        let answer = match field.node.get_ref() {
            DeValue::Boolean(answer) => Some(*answer),
            DeValue::String(text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" => Some(true),
                "false" | "no" | "n" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if answer.is_none() {
            let written = self.written(field.node);
            self.report_at(field, format!("{written} is not true or false; write true or false"));
        }
        answer
    }

    fn text_value<'a>(&mut self, field: &Field<'a, '_>, allowed: &str) -> Option<&'a str> {
        match field.node.get_ref() {
            DeValue::String(text) => Some(text.as_ref()),
            _ => {
                let written = self.written(field.node);
                self.fail(field, format!("{written} is not text; write {allowed}"))
            }
        }
    }

    /// The value as the user wrote it, for messages: its source text, on one line and at most 40 characters.
    fn written(&self, node: Node<'_, '_>) -> String {
        let span = node.span();
        let source = self.text.get(span.start..span.end.min(self.text.len())).unwrap_or("").trim();
        let first_line = source.lines().next().unwrap_or("");
        let mut shown: String = first_line.chars().take(40).collect();
        if shown.len() < source.len() {
            shown.push('…');
        }
        shown
    }

    /// An optional key: `Some(None)` when absent, `Some(Some(value))` when read, `None` when it was reported.
    fn optional<'a, 'i, T>(
        &mut self,
        field: Option<Field<'a, 'i>>,
        read: impl FnOnce(&mut Self, Field<'a, 'i>) -> Option<T>,
    ) -> Option<Option<T>> {
        match field {
            None => Some(None),
            Some(field) => read(self, field).map(Some),
        }
    }

    fn fail<T>(&mut self, field: &Field<'_, '_>, message: impl Into<String>) -> Option<T> {
        self.report_at(field, message);
        None
    }

    fn report_at(&mut self, field: &Field<'_, '_>, message: impl Into<String>) {
        self.report(field.node.span().start, field.path(), message);
    }

    fn report(&mut self, offset: usize, field: String, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic {
            source_name: self.source_name.to_string(),
            line: self.line_of(offset),
            field,
            message: message.into(),
        });
    }

    /// A TOML syntax error: there is no tree to walk, so this is the only problem reported.
    fn syntax_error(&mut self, error: &toml::de::Error) {
        let offset = error.span().map(|span| span.start);
        let (line, field) = match offset {
            Some(offset) => (self.line_of(offset), field_at(self.text, offset)),
            None => (0, String::new()),
        };
        let message = error.message().trim().replace('\n', " ");
        let message = if field.is_empty() && offset.is_some() && !looks_like_toml(self.text) {
            format!("this is not a TOML assessment file ({message})")
        } else {
            message
        };
        self.diagnostics.push(Diagnostic { source_name: self.source_name.to_string(), line, field, message });
    }

    /// The 1-based line holding byte `offset`, by bisection over the line starts.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|start| *start <= offset)
    }
}

/// The byte offset where each line starts.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(idx, _)| idx + 1)).collect()
}

/// A TOML integer or float as a number; `-0.0` is read as `0.0` so no figure can print as `-0`.
fn number(node: Node<'_, '_>) -> Option<f64> {
    let value = match node.get_ref() {
        DeValue::Integer(integer) => {
            let digits = integer.as_str();
            let digits = if digits.contains('_') { digits.replace('_', "") } else { digits.to_string() };
            i64::from_str_radix(&digits, integer.radix()).ok().map(|value| value as f64)
        }
        DeValue::Float(float) if float.as_str().contains('_') => float.as_str().replace('_', "").parse().ok(),
        DeValue::Float(float) => float.as_str().parse::<f64>().ok(),
        _ => None,
    };
    value.map(|value| value + 0.0)
}

/// Best-effort field path for a syntax error at `offset`: the table the line sits in and the key on the line,
/// such as `tasks[1].maturity`. TOML's own messages do not name the field, and users look for it first.
fn field_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |idx| idx + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |idx| offset + idx);
    let line = &text[line_start..line_end];
    let key = line
        .split_once('=')
        .map(|(key, _)| key.trim().trim_matches('"').to_string())
        .filter(|key| !key.is_empty() && !key.starts_with('['));
    let mut table = String::new();
    let mut n_tasks = 0usize;
    for header in text[..line_start].lines().map(str::trim) {
        if header.starts_with("[[tasks]]") {
            table = format!("tasks[{n_tasks}]");
            n_tasks += 1;
        } else if header.starts_with("[brand]") {
            table = "brand".to_string();
        } else if header.starts_with('[') {
            table = header.trim_matches(|c| c == '[' || c == ']').to_string();
        }
    }
    match (table.is_empty(), key) {
        (_, None) => String::new(),
        (true, Some(key)) => key,
        (false, Some(key)) => format!("{table}.{key}"),
    }
}

/// Whether the text plausibly meant to be TOML, to tell "not TOML at all" from "TOML with a typo".
fn looks_like_toml(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .any(|line| line.starts_with('[') && line.ends_with(']') && !line.contains(','))
}

/// Whether an unknown key was probably meant to be `known`: a letter or two off (`leak_rat`), or cut short or
/// run on (`annual_gmv` for `annual_gmv_usd`).
fn is_misspelling(written: &str, known: &str) -> bool {
    let (shorter, longer) = if written.len() < known.len() { (written, known) } else { (known, written) };
    edit_distance(written, known) <= 2 || (shorter.len() >= 4 && longer.starts_with(shorter))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match parse_assessment("a.toml", text) {
            Ok(_) => Vec::new(),
            Err(error) => error.diagnostics.iter().map(ToString::to_string).collect(),
        }
    }

    const BRAND: &str =
        "[brand]\nname = \"B\"\nannual_gmv_usd = 3000000\nmonthly_orders = 5000\nhourly_cost_usd = 30\n";

    fn with_task(task: &str) -> String {
        format!("{BRAND}\n[[tasks]]\n{task}")
    }

    #[test]
    fn a_valid_file_parses_with_defaults_from_the_brand() {
        let text = with_task(
            "zone = \"fulfillment\"\nname = \"Stock sync\"\nmaturity = 1\nweekly_hours = 4\nleak_rate = 0.01\n",
        );
        let assessment = parse_assessment("a.toml", &text).expect("valid");
        let task = &assessment.tasks[0];
        assert_eq!(task.monthly_orders, 5000);
        assert_eq!(task.owner, None);
        assert_eq!(task.line, 7, "a task is located by its [[tasks]] header");
        assert_eq!(task.score.map(|score| score.weekly_hours), Some(4.0));
    }

    #[test]
    fn each_bad_value_names_line_field_and_what_is_allowed() {
        let cases = [
            ("zone = \"shipping\"\nname = \"x\"", "a.toml:8: tasks[0].zone: \"shipping\" is not a zone"),
            (
                "zone = \"fulfillment\"\nname = \"x\"\nmaturity = 5\nweekly_hours = 1\nleak_rate = 0.1",
                "a.toml:10: tasks[0].maturity: 5 is outside the scale; use 0 (Manual)",
            ),
            (
                "zone = \"fulfillment\"\nname = \"x\"\nmaturity = 1\nweekly_hours = 1\nleak_rate = 1.7",
                "a.toml:12: tasks[0].leak_rate: 1.7 is not a share of orders; use 0.0 to 1.0",
            ),
            (
                "zone = \"fulfillment\"\nname = \"x\"\nmaturity = 1\nweekly_hours = -2\nleak_rate = 0.1",
                "a.toml:11: tasks[0].weekly_hours: -2 is not a number of hours; use 0 or more",
            ),
            (
                "zone = \"fulfillment\"\nname = \"x\"\nmaturity = \"high\"",
                "a.toml:10: tasks[0].maturity: \"high\" is not a whole number; use 0 (Manual)",
            ),
            (
                "zone = \"fulfillment\"\nname = \"x\"\nleak_rat = 0.1",
                "a.toml:10: tasks[0].leak_rat: unknown key (did you mean leak_rate?); a task takes zone, name",
            ),
        ];
        for (task, expected) in cases {
            let found = errors(&with_task(task));
            assert!(
                found.iter().any(|error| error.starts_with(expected)),
                "for task {task:?} expected an error starting {expected:?}, got {found:#?}"
            );
        }
    }

    #[test]
    fn missing_gmv_is_reported_at_the_brand_table() {
        let found = errors("[brand]\nname = \"B\"\nmonthly_orders = 10\nhourly_cost_usd = 30\n");
        assert_eq!(
            found,
            [
                "a.toml:1: brand.annual_gmv_usd: is missing; give the brand's annual GMV in US dollars, 0 or more (e.g. annual_gmv_usd = 12000000)"
            ]
        );
    }

    #[test]
    fn two_tasks_with_one_name_point_at_both_lines() {
        let text = format!(
            "{BRAND}\n[[tasks]]\nzone = \"fulfillment\"\nname = \"Stock sync\"\n\n[[tasks]]\nzone = \"post_purchase\"\nname = \"stock sync\"\n"
        );
        assert_eq!(
            errors(&text),
            [
                "a.toml:13: tasks[1].name: \"stock sync\" is already the name of the task on line 7; give each task its own name"
            ]
        );
    }

    #[test]
    fn a_file_that_is_not_toml_says_so_with_its_line() {
        let found = errors("{\"brand\": {\"name\": \"x\"}}\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("a.toml:1: this is not a TOML assessment file"), "{found:?}");
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let text =
            with_task("zone = \"nowhere\"\nname = \"\"\nmaturity = 9\nweekly_hours = 1\nleak_rate = 2");
        assert_eq!(errors(&text).len(), 4, "{:#?}", errors(&text));
    }

    #[test]
    fn a_task_without_a_score_waits_to_be_scored_but_half_a_score_is_an_error() {
        let unscored =
            parse_assessment("a.toml", &with_task("zone = \"fulfillment\"\nname = \"x\"")).expect("valid");
        assert_eq!(unscored.tasks[0].score, None);
        let found = errors(&with_task("zone = \"fulfillment\"\nname = \"x\"\nweekly_hours = 3"));
        assert_eq!(
            found,
            [
                "a.toml:7: tasks[0].maturity: is missing but weekly_hours is given; score the task 0-3 or remove weekly_hours"
            ]
        );
    }

    #[test]
    fn lines_are_found_by_bisection_over_line_starts() {
        let reader = Reader {
            source_name: "a.toml",
            text: "ab\n\ncd\n",
            line_starts: line_starts("ab\n\ncd\n"),
            diagnostics: Vec::new(),
        };
        let lines: Vec<usize> = (0..=7).map(|offset| reader.line_of(offset)).collect();
        assert_eq!(lines, [1, 1, 1, 2, 3, 3, 3, 4]);
    }

    #[test]
    fn amounts_accept_the_ways_people_write_them() {
        assert_eq!(parse_amount("12000000"), Ok(12_000_000.0));
        assert_eq!(parse_amount("$12,000,000"), Ok(12_000_000.0));
        assert_eq!(parse_amount("12M"), Ok(12_000_000.0));
        assert_eq!(parse_amount("750k"), Ok(750_000.0));
        assert_eq!(parse_amount("1.1M"), Ok(1_100_000.0), "to the cent, without a float's tail");
        assert!(parse_amount("-5").is_err());
        assert!(parse_amount("lots").is_err());
        assert!(parse_amount("inf").is_err());
    }
}
