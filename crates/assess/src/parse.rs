//! Reading an assessment file (TOML) into the validated model.
//!
//! This is the boundary: everything the user typed is checked here, and every problem becomes a `Diagnostic`
//! naming the file, the line, the field and what would be accepted. All problems in a file are reported at once,
//! so a user fixes the file in one pass instead of one error per run. Nothing here reads files: the caller passes
//! the text and the name to show.

use crate::model::{Assessment, Brand, LeakRate, Maturity, Score, Task, Zone};
use serde::Deserialize;
use std::fmt;
use toml::Spanned;

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
pub fn parse_assessment(source_name: &str, text: &str) -> Result<Assessment, ParseError> {
    let mut checker = Checker { source_name, text, diagnostics: Vec::new() };
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(error) => {
            let offset = error.span().map(|span| span.start);
            let (line, field) = match offset {
                Some(offset) => (line_of(text, offset), field_at(text, offset)),
                None => (0, String::new()),
            };
            let message = error.message().trim().replace('\n', " ");
            let message = if field.is_empty() && offset.is_some() && !looks_like_toml(text) {
                format!("this is not a TOML assessment file ({message})")
            } else {
                message
            };
            checker.diagnostics.push(Diagnostic {
                source_name: source_name.to_string(),
                line,
                field,
                message,
            });
            return Err(ParseError { diagnostics: checker.diagnostics });
        }
    };
    let brand = checker.brand(raw.brand);
    let tasks = checker.tasks(raw.tasks, brand.as_ref());
    match brand {
        Some(brand) if checker.diagnostics.is_empty() => Ok(Assessment { brand, tasks }),
        _ => Err(ParseError { diagnostics: checker.diagnostics }),
    }
}

/// The file as TOML gives it, with positions kept for messages.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    brand: Option<Spanned<RawBrand>>,
    #[serde(default)]
    tasks: Vec<Spanned<RawTask>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBrand {
    name: Option<Spanned<String>>,
    annual_gmv_usd: Option<Spanned<f64>>,
    monthly_orders: Option<Spanned<i64>>,
    hourly_cost_usd: Option<Spanned<f64>>,
    #[serde(default)]
    platforms: Vec<String>,
    growing: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    zone: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    maturity: Option<Spanned<i64>>,
    weekly_hours: Option<Spanned<f64>>,
    leak_rate: Option<Spanned<f64>>,
    monthly_orders: Option<Spanned<i64>>,
    #[serde(default)]
    tools: Vec<String>,
    owner: Option<String>,
    growing: Option<bool>,
    leak_cost_usd: Option<Spanned<f64>>,
}

struct Checker<'a> {
    source_name: &'a str,
    text: &'a str,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn report(&mut self, offset: usize, field: impl Into<String>, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic {
            source_name: self.source_name.to_string(),
            line: line_of(self.text, offset),
            field: field.into(),
            message: message.into(),
        });
    }

    fn brand(&mut self, raw: Option<Spanned<RawBrand>>) -> Option<Brand> {
        let Some(raw) = raw else {
            self.report(
                0,
                "brand",
                "the [brand] table is missing; it needs name, annual_gmv_usd, monthly_orders and hourly_cost_usd",
            );
            return None;
        };
        let table_offset = raw.span().start;
        let raw = raw.into_inner();
        let name = match raw.name {
            Some(name) if !name.get_ref().trim().is_empty() => Some(name.into_inner().trim().to_string()),
            Some(name) => {
                self.report(name.span().start, "brand.name", "is empty; give the brand's name");
                None
            }
            None => {
                self.report(table_offset, "brand.name", "is missing; give the brand's name");
                None
            }
        };
        let annual_gmv_usd = self.required_amount(
            raw.annual_gmv_usd,
            table_offset,
            "brand.annual_gmv_usd",
            "the brand's annual GMV in US dollars, 0 or more (e.g. annual_gmv_usd = 12000000)",
        );
        let monthly_orders = self.required_count(
            raw.monthly_orders,
            table_offset,
            "brand.monthly_orders",
            "the brand's orders a month, 0 or more (e.g. monthly_orders = 18000)",
        );
        let hourly_cost_usd = self.required_amount(
            raw.hourly_cost_usd,
            table_offset,
            "brand.hourly_cost_usd",
            "the loaded cost of one ops hour in US dollars, 0 or more (e.g. hourly_cost_usd = 40)",
        );
        Some(Brand {
            name: name?,
            annual_gmv_usd: annual_gmv_usd?,
            monthly_orders: monthly_orders?,
            hourly_cost_usd: hourly_cost_usd?,
            platforms: clean_list(raw.platforms),
            growing: raw.growing.unwrap_or(false),
        })
    }

    fn tasks(&mut self, raw_tasks: Vec<Spanned<RawTask>>, brand: Option<&Brand>) -> Vec<Task> {
        let mut tasks: Vec<Task> = Vec::with_capacity(raw_tasks.len());
        for (task_idx, raw) in raw_tasks.into_iter().enumerate() {
            let table_offset = raw.span().start;
            let field = |name: &str| format!("tasks[{task_idx}].{name}");
            let raw = raw.into_inner();

            let zone = match &raw.zone {
                Some(zone) => match Zone::from_key(zone.get_ref().trim()) {
                    Some(parsed) => Some(parsed),
                    None => {
                        self.report(
                            zone.span().start,
                            field("zone"),
                            format!(
                                "{:?} is not a zone; use order_to_cash, fulfillment, customer_service or \
                                 post_purchase",
                                zone.get_ref()
                            ),
                        );
                        None
                    }
                },
                None => {
                    self.report(
                        table_offset,
                        field("zone"),
                        "is missing; use order_to_cash, fulfillment, customer_service or post_purchase",
                    );
                    None
                }
            };

            let name = match &raw.name {
                Some(name) if !name.get_ref().trim().is_empty() => {
                    let trimmed = name.get_ref().trim().to_string();
                    let clash = tasks.iter().find(|task| task.name.eq_ignore_ascii_case(&trimmed));
                    if let Some(clash) = clash {
                        let message = format!(
                            "{trimmed:?} is already the name of the task on line {}; give each task its own name",
                            clash.line
                        );
                        self.report(name.span().start, field("name"), message);
                    }
                    Some(trimmed)
                }
                Some(name) => {
                    self.report(name.span().start, field("name"), "is empty; name the task");
                    None
                }
                None => {
                    self.report(table_offset, field("name"), "is missing; name the task");
                    None
                }
            };

            let score = self.task_score(&raw, table_offset, &field);

            let monthly_orders = match raw.monthly_orders {
                Some(orders) => {
                    self.count(orders, &field("monthly_orders"), "orders a month through this step")
                }
                None => brand.map(|brand| brand.monthly_orders),
            };
            let leak_cost_usd = raw.leak_cost_usd.map(|cost| {
                self.amount(cost, &field("leak_cost_usd"), "the cost of one leaked order in US dollars")
            });

            let (Some(zone), Some(name), Ok(score), Some(monthly_orders)) =
                (zone, name, score, monthly_orders)
            else {
                continue;
            };
            let Some(leak_cost_usd) = leak_cost_usd.map_or(Some(None), |cost| cost.map(Some)) else {
                continue;
            };
            let owner = raw.owner.map(|owner| owner.trim().to_string()).filter(|owner| !owner.is_empty());
            tasks.push(Task {
                zone,
                name,
                score,
                monthly_orders,
                tools: clean_list(raw.tools),
                owner,
                growing: raw.growing.or(brand.map(|brand| brand.growing)).unwrap_or(false),
                leak_cost_usd,
                line: line_of(self.text, table_offset),
            });
        }
        tasks
    }

    /// The score of a task: all three of maturity, weekly hours and leak rate, or none of them (not yet scored).
    fn task_score(
        &mut self,
        raw: &RawTask,
        table_offset: usize,
        field: &dyn Fn(&str) -> String,
    ) -> Result<Option<Score>, ()> {
        let Some(maturity) = &raw.maturity else {
            for (given, name) in
                [(raw.weekly_hours.is_some(), "weekly_hours"), (raw.leak_rate.is_some(), "leak_rate")]
            {
                if given {
                    self.report(
                        table_offset,
                        field("maturity"),
                        format!("is missing but {name} is given; score the task 0-3 or remove {name}"),
                    );
                    return Err(());
                }
            }
            return Ok(None);
        };
        let parsed_maturity = Maturity::new(*maturity.get_ref());
        if parsed_maturity.is_none() {
            self.report(
                maturity.span().start,
                field("maturity"),
                format!(
                    "{} is outside the scale; use 0 (Manual), 1 (Triggered), 2 (Automated) or 3 (Orchestrated)",
                    maturity.get_ref()
                ),
            );
        }
        let weekly_hours = match &raw.weekly_hours {
            Some(hours) if hours.get_ref().is_finite() && *hours.get_ref() >= 0.0 => Some(*hours.get_ref()),
            Some(hours) => {
                self.report(
                    hours.span().start,
                    field("weekly_hours"),
                    format!(
                        "{} is not a number of hours; use 0 or more hours of human work a week",
                        hours.get_ref()
                    ),
                );
                None
            }
            None => {
                self.report(
                    table_offset,
                    field("weekly_hours"),
                    "is missing; give the hours of human work this task takes a week (0 or more)",
                );
                None
            }
        };
        let leak_rate = match &raw.leak_rate {
            Some(rate) => {
                let parsed = LeakRate::new(*rate.get_ref());
                if parsed.is_none() {
                    self.report(
                        rate.span().start,
                        field("leak_rate"),
                        format!(
                            "{} is not a share of orders; use 0.0 to 1.0 (0.031 means 3.1% of orders hit a problem)",
                            rate.get_ref()
                        ),
                    );
                }
                parsed
            }
            None => {
                self.report(
                    table_offset,
                    field("leak_rate"),
                    "is missing; give the share of orders through this step that hit a problem, 0.0 to 1.0",
                );
                None
            }
        };
        match (parsed_maturity, weekly_hours, leak_rate) {
            (Some(maturity), Some(weekly_hours), Some(leak_rate)) => {
                Ok(Some(Score { maturity, weekly_hours, leak_rate }))
            }
            _ => Err(()),
        }
    }

    fn required_amount(
        &mut self,
        value: Option<Spanned<f64>>,
        table_offset: usize,
        field: &str,
        what: &str,
    ) -> Option<f64> {
        match value {
            Some(value) => self.amount(value, field, what),
            None => {
                self.report(table_offset, field, format!("is missing; give {what}"));
                None
            }
        }
    }

    fn amount(&mut self, value: Spanned<f64>, field: &str, what: &str) -> Option<f64> {
        let amount = *value.get_ref();
        if amount.is_finite() && amount >= 0.0 {
            Some(amount)
        } else {
            self.report(value.span().start, field, format!("{amount} is not allowed; give {what}"));
            None
        }
    }

    fn required_count(
        &mut self,
        value: Option<Spanned<i64>>,
        table_offset: usize,
        field: &str,
        what: &str,
    ) -> Option<u64> {
        match value {
            Some(value) => self.count(value, field, what),
            None => {
                self.report(table_offset, field, format!("is missing; give {what}"));
                None
            }
        }
    }

    fn count(&mut self, value: Spanned<i64>, field: &str, what: &str) -> Option<u64> {
        match u64::try_from(*value.get_ref()) {
            Ok(count) => Some(count),
            Err(_) => {
                self.report(
                    value.span().start,
                    field,
                    format!("{} is not allowed; give {what} (a whole number, 0 or more)", value.get_ref()),
                );
                None
            }
        }
    }
}

/// Trims entries and drops empty ones and repeats, keeping the first spelling.
fn clean_list(items: Vec<String>) -> Vec<String> {
    let mut cleaned: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let item = item.trim();
        if !item.is_empty() && !cleaned.iter().any(|seen| seen.eq_ignore_ascii_case(item)) {
            cleaned.push(item.to_string());
        }
    }
    cleaned
}

/// The 1-based line holding byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset].iter().filter(|byte| **byte == b'\n').count() + 1
}

/// Best-effort field path for a syntax or type error at `offset`: the table the line sits in and the key on the
/// line, such as `tasks[1].maturity`. TOML's own messages do not name the field, and users look for it first.
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
                "a.toml:10: tasks[0].maturity: invalid type",
            ),
            (
                "zone = \"fulfillment\"\nname = \"x\"\nleak_rat = 0.1",
                "a.toml:10: tasks[0].leak_rat: unknown field",
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
}
