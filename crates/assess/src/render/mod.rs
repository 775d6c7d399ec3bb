//! Rendering a `Report` as text, Markdown, HTML, CSV or JSON.
//!
//! Renderers only format: every figure is computed by `crate::score` before it gets here, so the five formats
//! can never disagree. Each returns a `String`; writing it anywhere is the caller's business.

mod csv;
mod html;
mod markdown;
mod text;

pub use self::csv::render_csv;
pub use html::render_html;
pub use markdown::render_markdown;
pub use text::render_text;

use crate::report::{Report, TaskDrift, ZoneDrift};
use crate::score::fmt_number;

/// The JSON report: the `Report` struct as pretty JSON (its keys are documented in `docs/assessment.md`).
pub fn render_json(report: &Report) -> String {
    let mut json =
        serde_json::to_string_pretty(report).unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}"));
    json.push('\n');
    json
}

/// Whole US dollars with thousands separators: `$31,730`.
pub fn fmt_usd(amount: f64) -> String {
    let rounded = amount.round() as i64;
    let sign = if rounded < 0 { "-" } else { "" };
    format!("{sign}${}", group_thousands(rounded.unsigned_abs()))
}

/// An integer with thousands separators: `18,000`.
pub fn fmt_count(count: u64) -> String {
    group_thousands(count)
}

/// Affected orders: whole when whole, otherwise one decimal.
pub fn fmt_orders(orders: f64) -> String {
    if (orders - orders.round()).abs() < 0.05 {
        group_thousands(orders.round() as u64)
    } else {
        format!("{orders:.1}")
    }
}

/// A share as a percentage with one decimal: `3.1%`.
pub fn fmt_pct(rate: Option<f64>) -> String {
    // `+ 0.0` turns a `-0.0` (from a report saved by an older version) into `0.0`, which prints without a sign.
    rate.map_or_else(|| "-".to_string(), |rate| format!("{:.1}%", rate * 100.0 + 0.0))
}

pub fn fmt_score(score: Option<f64>) -> String {
    score.map_or_else(|| "-".to_string(), |score| format!("{score:.2}"))
}

pub fn fmt_target(min: Option<u8>, max: Option<u8>) -> String {
    match (min, max) {
        (Some(min), Some(max)) if min == max => format!("{min}"),
        (Some(min), Some(max)) => format!("{min}-{max}"),
        _ => "-".to_string(),
    }
}

pub fn fmt_hours(hours: f64) -> String {
    fmt_number(hours)
}

fn yes_no(answer: bool) -> &'static str {
    if answer { "yes" } else { "no" }
}

/// One line describing a zone's drift, for every format.
fn zone_drift_line(drift: &ZoneDrift) -> String {
    let title = crate::model::Zone::title(drift.zone);
    match drift.change.as_str() {
        "newly_assessed" => format!("{title}: newly assessed at {}", fmt_score(drift.score)),
        "no_longer_assessed" => {
            format!("{title}: no longer assessed (was {})", fmt_score(drift.previous_score))
        }
        change => {
            let level = match (drift.previous_level, drift.level) {
                (Some(then), Some(now)) if then != now => format!(", level {then} -> {now}"),
                _ => String::new(),
            };
            format!(
                "{title}: {} {} -> {}{level}; {} -> {} a month; {} -> {} h/week",
                change.replace('_', " "),
                fmt_score(drift.previous_score),
                fmt_score(drift.score),
                fmt_usd(drift.previous_monthly_cost_usd),
                fmt_usd(drift.monthly_cost_usd),
                fmt_hours(drift.previous_weekly_hours),
                fmt_hours(drift.weekly_hours),
            )
        }
    }
}

/// One line describing a task's drift, for every format.
fn task_drift_line(drift: &TaskDrift) -> String {
    let score = |maturity: Option<u8>| maturity.map_or_else(|| "unscored".to_string(), |m| m.to_string());
    let hours = |hours: Option<f64>| hours.map_or_else(|| "-".to_string(), fmt_hours);
    match drift.change.as_str() {
        "added" => format!("{} ({}): added, score {}", drift.name, drift.zone, score(drift.maturity)),
        "removed" => {
            format!("{} ({}): removed (was {})", drift.name, drift.zone, score(drift.previous_maturity))
        }
        change => format!(
            "{} ({}): {change}, score {} -> {}, {} -> {} h/week, leak {} -> {}",
            drift.name,
            drift.zone,
            score(drift.previous_maturity),
            score(drift.maturity),
            hours(drift.previous_weekly_hours),
            hours(drift.weekly_hours),
            fmt_pct(drift.previous_leak_rate),
            fmt_pct(drift.leak_rate),
        ),
    }
}

fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (idx, digit) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The band as the reports print it.
fn band_text(report: &Report) -> String {
    report
        .band
        .map_or_else(|| "outside $1M-$50M (no band targets)".to_string(), |band| format!("${}", band.label()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_formatted_for_people() {
        assert_eq!(fmt_usd(31_730.4), "$31,730");
        assert_eq!(fmt_usd(999.5), "$1,000");
        assert_eq!(fmt_count(18_000), "18,000");
        assert_eq!(fmt_count(1_234_567), "1,234,567");
        assert_eq!(fmt_pct(Some(0.031)), "3.1%");
        assert_eq!(fmt_pct(None), "-");
        assert_eq!(fmt_orders(558.0), "558");
        assert_eq!(fmt_orders(12.34), "12.3");
        assert_eq!(fmt_target(Some(2), Some(3)), "2-3");
        assert_eq!(fmt_target(Some(2), Some(2)), "2");
    }
}
