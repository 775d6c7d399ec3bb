//! The terminal page: aligned tables, with ANSI colour only when the caller says the output is a terminal.

use super::{
    band_text, fmt_count, fmt_hours, fmt_orders, fmt_pct, fmt_score, fmt_target, fmt_usd, task_drift_line,
    yes_no, zone_drift_line,
};
use crate::report::{Report, ZoneReport};
use std::fmt::Write as _;

/// Renders the report for a terminal; `color` adds ANSI styles (bold headings, red gaps, yellow warnings).
pub fn render_text(report: &Report, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    for warning in &report.warnings {
        let _ = writeln!(out, "{}", style.yellow(&style.bold(&format!("WARNING: {warning}"))));
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(out);
    }
    let brand = &report.brand;
    let _ = writeln!(out, "{}", style.bold(&format!("Seam ops automation assessment: {}", brand.name)));
    let _ = writeln!(
        out,
        "{} annual GMV, {} orders a month, band {}",
        fmt_usd(brand.annual_gmv_usd),
        fmt_count(brand.monthly_orders),
        band_text(report)
    );
    let _ = writeln!(out);
    // The zones that slid are called out before anything else: drift is what a re-run is for.
    if let Some(compare) = &report.compare {
        let _ = writeln!(out, "{}", style.bold(&format!("Since the previous run ({})", compare.previous)));
        for drift in &compare.zones {
            let text = zone_drift_line(drift);
            let _ = writeln!(out, "  {}", if drift.slid { style.red(&format!("SLID {text}")) } else { text });
        }
        let _ = writeln!(out);
    }

    let header = [
        "Zone",
        "Score",
        "Lvl",
        "Target",
        "Hours/wk",
        "Leak",
        "Affected/mo",
        "Orders/mo",
        "$/month",
        "Verdict",
    ];
    let rows: Vec<Vec<String>> = report.zones.iter().map(zone_row).collect();
    let right_aligned = [false, true, true, true, true, true, true, true, true, false];
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.len()).collect();
    for row in &rows {
        for (idx, cell) in row.iter().enumerate() {
            widths[idx] = widths[idx].max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(idx, cell)| {
                let pad = widths[idx].saturating_sub(cell.chars().count());
                if right_aligned[idx] {
                    format!("{}{cell}", " ".repeat(pad))
                } else {
                    format!("{cell}{}", " ".repeat(pad))
                }
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let header_cells: Vec<String> = header.iter().map(|cell| cell.to_string()).collect();
    let _ = writeln!(out, "{}", style.bold(&line(&header_cells)));
    for (zone, row) in report.zones.iter().zip(&rows) {
        let text = line(row);
        let text = if zone.gap {
            style.red(&text)
        } else if !zone.assessed {
            style.dim(&text)
        } else {
            text
        };
        let _ = writeln!(out, "{text}");
    }
    let _ = writeln!(
        out,
        "Total: {} h/week of human work, {} a month at stake",
        fmt_hours(report.totals.weekly_hours),
        fmt_usd(report.totals.monthly_cost_usd)
    );

    let _ = writeln!(out);
    if report.ranking.is_empty() {
        let _ = writeln!(out, "{}", style.bold("Punch list: no gaps among the assessed zones."));
    } else {
        let _ = writeln!(out, "{}", style.bold("Punch list (gaps, first project first)"));
    }
    for gap in &report.ranking {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            style.bold(&format!(
                "{}. {}: {} a month, {} orders a month, score {}",
                gap.rank,
                gap.title,
                fmt_usd(gap.monthly_cost_usd),
                fmt_count(gap.monthly_orders),
                fmt_score(gap.score)
            ))
        );
        let _ = writeln!(out, "   Why: {}", gap.why);
        let checklist = &gap.checklist;
        let _ = writeln!(
            out,
            "   Checklist: over 3 h/week {} | leak over 2% {} | growing {} | crosses tools {} | has owner {} ({}/5 yes)",
            yes_no(checklist.hours_over_3),
            yes_no(checklist.leak_over_2pct),
            yes_no(checklist.growing),
            yes_no(checklist.multi_tool),
            yes_no(checklist.has_owner),
            checklist.yes_count
        );
        let _ = writeln!(out, "   Verdict: {}", gap.verdict_text);
        for advice in &gap.advice {
            let _ = writeln!(out, "     - {advice}");
        }
        let _ = writeln!(out, "   Tasks, most expensive first:");
        let name_width = gap.tasks.iter().map(|task| task.name.chars().count()).max().unwrap_or(0);
        for task in &gap.tasks {
            let detail = match (task.maturity, task.weekly_hours) {
                (Some(maturity), Some(hours)) => format!(
                    "{maturity} {:<12} {:>5} h/wk  leak {:>6}  {:>8} affected  {:>9}/mo  owner: {}",
                    task.maturity_name.as_deref().unwrap_or(""),
                    fmt_hours(hours),
                    fmt_pct(task.leak_rate),
                    fmt_orders(task.affected_orders),
                    fmt_usd(task.monthly_cost_usd),
                    task.owner.as_deref().unwrap_or("nobody")
                ),
                _ => "not scored yet".to_string(),
            };
            let _ = writeln!(out, "     {:<name_width$}  {detail}", task.name);
        }
    }

    if !report.red_flags.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", style.red(&style.bold("Red flags")));
        for flag in &report.red_flags {
            let _ = writeln!(out, "  ! {}", flag.message);
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", style.bold("Notes"));
        for note in &report.notes {
            let _ = writeln!(out, "  - {}", note.message);
        }
    }
    if !report.diagnostics.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", style.yellow(&style.bold("Diagnostics")));
        for diagnostic in &report.diagnostics {
            let _ =
                writeln!(out, "  - {} (line {}): {}", diagnostic.task, diagnostic.line, diagnostic.message);
        }
    }
    if let Some(compare) = report.compare.as_ref().filter(|compare| !compare.tasks.is_empty()) {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            style.bold(&format!("Task changes since the previous run ({})", compare.previous))
        );
        for drift in &compare.tasks {
            let _ = writeln!(out, "  - {}", task_drift_line(drift));
        }
    }
    let assumptions = &report.assumptions;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Assumptions: an ops hour costs {}; a month has {} weeks; a leaked order costs {} (average order value) \
         unless a task says otherwise.",
        fmt_usd(assumptions.hourly_cost_usd),
        fmt_hours(assumptions.weeks_per_month),
        assumptions.default_leak_cost_usd.map_or_else(|| "nothing".to_string(), |cost| format!("${cost:.2}"))
    );
    out
}

fn zone_row(zone: &ZoneReport) -> Vec<String> {
    if !zone.assessed {
        return vec![
            zone.title.clone(),
            "-".into(),
            "-".into(),
            fmt_target(zone.target_min, zone.target_max),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            zone.verdict_text.clone(),
        ];
    }
    let verdict = match zone.rank {
        Some(rank) => format!("#{rank} {}", zone.verdict_text),
        None => zone.verdict_text.clone(),
    };
    vec![
        zone.title.clone(),
        fmt_score(zone.score),
        zone.level.map_or_else(|| "-".to_string(), |level| level.to_string()),
        fmt_target(zone.target_min, zone.target_max),
        fmt_hours(zone.weekly_hours),
        fmt_pct(zone.leak_rate),
        fmt_orders(zone.affected_orders),
        fmt_count(zone.monthly_orders),
        fmt_usd(zone.monthly_cost_usd),
        verdict,
    ]
}

struct Style {
    color: bool,
}

impl Style {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
    fn red(&self, text: &str) -> String {
        self.wrap("31", text)
    }
    fn yellow(&self, text: &str) -> String {
        self.wrap("33", text)
    }
    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }
}
