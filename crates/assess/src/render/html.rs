//! The one-page punch list as a self-contained, printable HTML page (one A4 page), with an SVG chart of each
//! zone's score against its band target. No scripts, fonts or images are loaded from anywhere.

use super::{
    band_text, fmt_count, fmt_hours, fmt_orders, fmt_pct, fmt_score, fmt_target, fmt_usd, task_drift_line,
    yes_no, zone_drift_line,
};
use crate::report::Report;
use minijinja::{Environment, Value, context};
use std::fmt::Write as _;

const TEMPLATE: &str = include_str!("../../templates/report.html");
/// The page lists at most this many tasks under each gap (the most expensive; the rest are summed in one row), so
/// the punch list stays one printed page whatever the file holds. The other formats list every task.
pub const HTML_MAX_TASKS_PER_GAP: usize = 5;
/// At most this many diagnostics and task changes are listed, for the same reason.
pub const HTML_MAX_LINES: usize = 3;

pub fn render_html(report: &Report) -> String {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("usd", |amount: f64| fmt_usd(amount));
    env.add_filter("count", |count: u64| fmt_count(count));
    env.add_filter("hours", |hours: f64| fmt_hours(hours));
    env.add_filter("orders", |orders: f64| fmt_orders(orders));
    env.add_filter("pct", |rate: Option<f64>| fmt_pct(rate));
    env.add_filter("score", |score: Option<f64>| fmt_score(score));
    env.add_function("target", |min: Option<u8>, max: Option<u8>| fmt_target(min, max));
    env.add_function("yn", yes_no);
    if let Err(error) = env.add_template("report.html", TEMPLATE) {
        return format!("<!doctype html><p>template error: {error}</p>");
    }
    let drift_zones: Vec<Value> = report
        .compare
        .iter()
        .flat_map(|compare| compare.zones.iter())
        .map(|drift| {
            let text =
                if drift.slid { format!("SLID: {}", zone_drift_line(drift)) } else { zone_drift_line(drift) };
            context! { text => text, slid => drift.slid }
        })
        .collect();
    let drift_tasks: Vec<String> =
        report.compare.iter().flat_map(|compare| compare.tasks.iter()).map(task_drift_line).collect();
    let rest_cost: std::collections::BTreeMap<String, f64> = report
        .ranking
        .iter()
        .map(|gap| {
            let rest = gap.tasks.iter().skip(HTML_MAX_TASKS_PER_GAP).map(|task| task.monthly_cost_usd).sum();
            (gap.zone.key().to_string(), rest)
        })
        .collect();
    let rendered = env.get_template("report.html").and_then(|template| {
        template.render(context! {
            report => Value::from_serialize(report),
            band => band_text(report),
            chart => Value::from_safe_string(score_chart(report)),
            drift_zones => drift_zones,
            drift_tasks => drift_tasks,
            max_tasks => HTML_MAX_TASKS_PER_GAP,
            max_lines => HTML_MAX_LINES,
            rest_cost => rest_cost,
            previous => report.compare.as_ref().map(|compare| compare.previous.clone()),
            leak_cost => report
                .assumptions
                .default_leak_cost_usd
                .map_or_else(|| "nothing".to_string(), |cost| format!("${cost:.2}")),
        })
    });
    rendered.unwrap_or_else(|error| format!("<!doctype html><p>report error: {error}</p>"))
}

/// A horizontal bar per zone on the 0-3 scale: the score as a bar, the band's target range as a shaded band with
/// a mark at its minimum, and the level-2 line ("Automated") that every zone should reach.
fn score_chart(report: &Report) -> String {
    const LABEL_WIDTH: f64 = 150.0;
    const SCALE_WIDTH: f64 = 420.0;
    const ROW_HEIGHT: f64 = 14.0;
    const TOP: f64 = 14.0;
    let width = LABEL_WIDTH + SCALE_WIDTH + 60.0;
    let height = TOP + ROW_HEIGHT * report.zones.len() as f64 + 4.0;
    let x = |score: f64| LABEL_WIDTH + score / 3.0 * SCALE_WIDTH;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="Zone scores against band targets" font-size="9" font-family="sans-serif">"##
    );
    for tick in 0..=3 {
        let tick_x = x(f64::from(tick));
        let name = crate::model::MATURITY_SCALE[tick as usize].name;
        let _ = write!(
            svg,
            r##"<line x1="{tick_x}" y1="{}" x2="{tick_x}" y2="{}" stroke="#d0d7de" stroke-width="0.6"/><text x="{tick_x}" y="9" text-anchor="middle" fill="#57606a">{tick} {name}</text>"##,
            TOP - 2.0,
            height - 2.0
        );
    }
    for (idx, zone) in report.zones.iter().enumerate() {
        let y = TOP + ROW_HEIGHT * idx as f64;
        let _ = write!(
            svg,
            r##"<text x="0" y="{}" fill="#1b1f24">{}</text>"##,
            y + ROW_HEIGHT * 0.62,
            escape_xml(&zone.title)
        );
        if let (Some(min), Some(max)) = (zone.target_min, zone.target_max) {
            let (from, to) = (x(f64::from(min)), x(f64::from(max)));
            let band_width = (to - from).max(3.0);
            let _ = write!(
                svg,
                r##"<rect x="{}" y="{}" width="{band_width}" height="{}" fill="#dafbe1" stroke="#1a7f37" stroke-width="0.5"><title>target {min}-{max}</title></rect><line x1="{from}" y1="{}" x2="{from}" y2="{}" stroke="#1a7f37" stroke-width="1.5"/>"##,
                from - if min == max { 1.5 } else { 0.0 },
                y + 1.0,
                ROW_HEIGHT - 2.0,
                y + 1.0,
                y + ROW_HEIGHT - 1.0
            );
        }
        match zone.score {
            Some(score) => {
                let colour = if zone.gap { "#cf222e" } else { "#0969da" };
                let bar_width = (x(score) - LABEL_WIDTH).max(1.5);
                let _ = write!(
                    svg,
                    r##"<rect x="{LABEL_WIDTH}" y="{}" width="{bar_width}" height="{}" fill="{colour}" opacity="0.85"><title>score {score:.2}</title></rect><text x="{}" y="{}" fill="#1b1f24">{score:.2}</text>"##,
                    y + 3.5,
                    ROW_HEIGHT - 7.0,
                    LABEL_WIDTH + SCALE_WIDTH + 6.0,
                    y + ROW_HEIGHT * 0.62
                );
            }
            None => {
                let _ = write!(
                    svg,
                    r##"<text x="{}" y="{}" fill="#8c959f" font-style="italic">not assessed</text>"##,
                    LABEL_WIDTH + 4.0,
                    y + ROW_HEIGHT * 0.62
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
