//! The one-page punch list as Markdown, for pasting into a wiki, an issue or an email.

use super::{
    band_text, fmt_count, fmt_hours, fmt_orders, fmt_pct, fmt_score, fmt_target, fmt_usd, task_drift_line,
    yes_no, zone_drift_line,
};
use crate::report::Report;
use std::fmt::Write as _;

pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    for warning in &report.warnings {
        let _ = writeln!(out, "> **Warning:** {}\n", escape(warning));
    }
    let brand = &report.brand;
    let _ = writeln!(out, "# Ops automation punch list: {}\n", escape(&brand.name));
    let _ = writeln!(
        out,
        "{} annual GMV, {} orders a month, band {}. Total at stake: **{} a month**, {} h/week of human work.\n",
        fmt_usd(brand.annual_gmv_usd),
        fmt_count(brand.monthly_orders),
        band_text(report),
        fmt_usd(report.totals.monthly_cost_usd),
        fmt_hours(report.totals.weekly_hours)
    );
    // The zones that slid are called out before anything else: drift is what a re-run is for.
    if let Some(compare) = &report.compare {
        let _ = writeln!(out, "## Since the previous run ({})\n", escape(&compare.previous));
        for drift in &compare.zones {
            let line = zone_drift_line(drift);
            let _ = writeln!(out, "- {}", if drift.slid { format!("**Slid:** {line}") } else { line });
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "| Zone | Score | Level | Hours/week | Leak rate | Affected orders/mo | Orders/mo | $/month | Target | Verdict |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for zone in &report.zones {
        let verdict = match zone.rank {
            Some(rank) => format!("**#{rank}** {}", zone.verdict_text),
            None => zone.verdict_text.clone(),
        };
        if zone.assessed {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                zone.title,
                fmt_score(zone.score),
                zone.level.map_or_else(|| "-".to_string(), |level| level.to_string()),
                fmt_hours(zone.weekly_hours),
                fmt_pct(zone.leak_rate),
                fmt_orders(zone.affected_orders),
                fmt_count(zone.monthly_orders),
                fmt_usd(zone.monthly_cost_usd),
                fmt_target(zone.target_min, zone.target_max),
                verdict
            );
        } else {
            let _ = writeln!(
                out,
                "| {} | not assessed | - | - | - | - | - | - | {} | {} |",
                zone.title,
                fmt_target(zone.target_min, zone.target_max),
                verdict
            );
        }
    }
    let _ = writeln!(out);
    if report.ranking.is_empty() {
        let _ = writeln!(out, "## Punch list\n\nNo gaps among the assessed zones.\n");
    } else {
        let _ = writeln!(out, "## Punch list (first project first)\n");
    }
    for gap in &report.ranking {
        let _ = writeln!(
            out,
            "### {}. {}: {} a month\n\n{} orders a month; score {}; {}.\n",
            gap.rank,
            gap.title,
            fmt_usd(gap.monthly_cost_usd),
            fmt_count(gap.monthly_orders),
            fmt_score(gap.score),
            gap.why
        );
        if gap.rank == 1 {
            let checklist = &gap.checklist;
            let _ = writeln!(out, "Decision checklist ({}/5 yes):\n", checklist.yes_count);
            for (question, answer) in [
                ("Costs more than 3 h/week?", checklist.hours_over_3),
                ("Leak rate above 2% of orders?", checklist.leak_over_2pct),
                ("Volume growing this year?", checklist.growing),
                ("Crosses more than one tool?", checklist.multi_tool),
                ("Has an owner?", checklist.has_owner),
            ] {
                let _ = writeln!(out, "- {question} **{}**", yes_no(answer));
            }
            let _ = writeln!(out);
        }
        let _ = writeln!(out, "**Verdict:** {}\n", gap.verdict_text);
        for advice in &gap.advice {
            let _ = writeln!(out, "- {advice}");
        }
        if !gap.advice.is_empty() {
            let _ = writeln!(out);
        }
        let _ = writeln!(
            out,
            "| Task | Score | Hours/week | Leak rate | Affected/mo | $/month | Tools | Owner |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|---|");
        for task in &gap.tasks {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                escape(&task.name),
                task.maturity.map_or_else(|| "not scored".to_string(), |m| m.to_string()),
                task.weekly_hours.map_or_else(|| "-".to_string(), fmt_hours),
                fmt_pct(task.leak_rate),
                fmt_orders(task.affected_orders),
                fmt_usd(task.monthly_cost_usd),
                escape(&task.tools.join(", ")),
                escape(task.owner.as_deref().unwrap_or("nobody"))
            );
        }
        let _ = writeln!(out);
    }
    for (title, items) in [
        ("Red flags", report.red_flags.iter().map(|flag| flag.message.clone()).collect::<Vec<_>>()),
        ("Notes", report.notes.iter().map(|note| note.message.clone()).collect()),
        (
            "Diagnostics",
            report
                .diagnostics
                .iter()
                .map(|d| format!("{} (line {}): {}", escape(&d.task), d.line, d.message))
                .collect(),
        ),
    ] {
        if !items.is_empty() {
            let _ = writeln!(out, "## {title}\n");
            for item in items {
                let _ = writeln!(out, "- {item}");
            }
            let _ = writeln!(out);
        }
    }
    if let Some(compare) = report.compare.as_ref().filter(|compare| !compare.tasks.is_empty()) {
        let _ = writeln!(out, "## Task changes since the previous run ({})\n", escape(&compare.previous));
        for drift in &compare.tasks {
            let _ = writeln!(out, "- {}", escape(&task_drift_line(drift)));
        }
        let _ = writeln!(out);
    }
    let assumptions = &report.assumptions;
    let _ = writeln!(
        out,
        "_Assumptions: an ops hour costs {}; weekly hours x {} = monthly hours; a leaked order costs {} (the average \
         order value, annual GMV / 12 / monthly orders) unless a task sets `leak_cost_usd`._",
        fmt_usd(assumptions.hourly_cost_usd),
        fmt_hours(assumptions.weeks_per_month),
        assumptions.default_leak_cost_usd.map_or_else(|| "nothing".to_string(), |cost| format!("${cost:.2}"))
    );
    out
}

/// Keeps user text from breaking a Markdown table.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
