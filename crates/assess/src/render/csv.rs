//! One CSV row per task, with its zone's figures beside it, for spreadsheets.

use super::zone_drift_line;
use crate::model::Zone;
use crate::report::{Report, TaskReport};

/// The CSV header; a contract for spreadsheets built on the export (see `docs/assessment.md`).
pub const CSV_HEADER: [&str; 24] = [
    "zone",
    "task",
    "maturity",
    "maturity_name",
    "weekly_hours",
    "leak_rate",
    "monthly_orders",
    "affected_orders",
    "leak_cost_usd",
    "hours_cost_usd",
    "leak_cost_total_usd",
    "monthly_cost_usd",
    "tools",
    "owner",
    "growing",
    "line",
    "zone_score",
    "zone_level",
    "zone_target_min",
    "zone_target_max",
    "zone_gap",
    "zone_rank",
    "zone_monthly_cost_usd",
    "task_rank_in_zone",
];

/// One row per task under the header. With a comparison, lines starting with `#` come before the header (the
/// warnings, then each zone that slid, in the words of the other formats) and the rows of the zones that slid come
/// first, worst slide first; the other rows keep file order. Without one, the header is the first line.
pub fn render_csv(report: &Report) -> String {
    let mut preamble = String::new();
    for warning in &report.warnings {
        preamble.push_str(&comment_line(&format!("Warning: {warning}")));
    }
    let mut slid: Vec<Zone> = Vec::new();
    if let Some(compare) = &report.compare {
        for drift in compare.zones.iter().filter(|drift| drift.slid) {
            preamble.push_str(&comment_line(&format!(
                "Slid since the previous run ({}): {}",
                compare.previous,
                zone_drift_line(drift)
            )));
        }
        slid.clone_from(&compare.slid);
    }
    // Rows of zones that slid first (in the comparison's order, worst first); a stable sort keeps file order within.
    let mut tasks: Vec<&TaskReport> = report.tasks.iter().collect();
    tasks.sort_by_key(|task| slid.iter().position(|zone| *zone == task.zone).unwrap_or(slid.len()));

    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(CSV_HEADER);
    let opt = |value: Option<String>| value.unwrap_or_default();
    for task in tasks {
        let zone = report.zones.iter().find(|zone| zone.zone == task.zone);
        let rank_in_zone = report
            .ranking
            .iter()
            .find(|gap| gap.zone == task.zone)
            .and_then(|gap| gap.tasks.iter().position(|ranked| ranked.name == task.name))
            .map(|idx| (idx + 1).to_string());
        let record = [
            task.zone.key().to_string(),
            task.name.clone(),
            opt(task.maturity.map(|m| m.to_string())),
            opt(task.maturity_name.clone()),
            opt(task.weekly_hours.map(|h| h.to_string())),
            opt(task.leak_rate.map(|r| r.to_string())),
            task.monthly_orders.to_string(),
            task.affected_orders.to_string(),
            opt(task.leak_cost_usd.map(|c| format!("{c:.2}"))),
            format!("{:.2}", task.hours_cost_usd),
            format!("{:.2}", task.leak_cost_total_usd),
            format!("{:.2}", task.monthly_cost_usd),
            task.tools.join(";"),
            opt(task.owner.clone()),
            task.growing.to_string(),
            task.line.to_string(),
            opt(zone.and_then(|z| z.score).map(|s| s.to_string())),
            opt(zone.and_then(|z| z.level).map(|l| l.to_string())),
            opt(zone.and_then(|z| z.target_min).map(|t| t.to_string())),
            opt(zone.and_then(|z| z.target_max).map(|t| t.to_string())),
            zone.is_some_and(|z| z.gap).to_string(),
            opt(zone.and_then(|z| z.rank).map(|r| r.to_string())),
            opt(zone.map(|z| format!("{:.2}", z.monthly_cost_usd))),
            opt(rank_in_zone),
        ];
        let _ = writer.write_record(&record);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    preamble + &String::from_utf8(bytes).unwrap_or_default()
}

/// A line before the header, for people reading the file: `#` then the text on one line.
fn comment_line(text: &str) -> String {
    format!("# {}\n", text.replace(['\r', '\n'], " "))
}
