//! Quarter-over-quarter drift: what moved between a previous run and this one.
//!
//! Both sides are `Report`s, so a previous run can come from its assessment file (scored again) or from the JSON
//! report saved at the time; the comparison never needs to know which. Zones and tasks that slid come first,
//! because the source's warning is that maturity drifts down as channels and SKUs are added.

use crate::report::{Comparison, Report, TaskDrift, TaskReport, ZoneDrift};
use crate::score::round2;
use std::cmp::Ordering;

/// Compares `report` with `previous` and attaches the drift to it; `previous_label` names where the previous run
/// came from.
///
/// When the previous run is another brand's, the comparison is still made (a brand may have been renamed), but a
/// warning naming both brands goes first in `report.warnings`, so no format shows the drift without it.
pub fn compare_with_previous(report: &mut Report, previous: &Report, previous_label: &str) {
    if let Some(warning) = other_brand_warning(report, previous, previous_label) {
        report.warnings.insert(0, warning);
    }
    report.compare = Some(compare(report, previous, previous_label));
}

/// A warning when `previous` is not a run of the same brand as `current` (names compared without case or
/// repeated spaces).
fn other_brand_warning(current: &Report, previous: &Report, previous_label: &str) -> Option<String> {
    let key = |name: &str| name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    if key(&current.brand.name) == key(&previous.brand.name) {
        return None;
    }
    Some(format!(
        "Another brand: this report is for {:?} but the previous run ({previous_label}) is for {:?}; the changes \
         compare two brands, not one brand over time",
        current.brand.name, previous.brand.name
    ))
}

/// Compares `current` with `previous`; `previous_label` names where the previous run came from.
pub fn compare(current: &Report, previous: &Report, previous_label: &str) -> Comparison {
    let mut zones: Vec<ZoneDrift> = current
        .zones
        .iter()
        .map(|zone| {
            let before = previous.zones.iter().find(|old| old.zone == zone.zone);
            let previous_score = before.and_then(|old| old.score);
            let score_delta = zone.score.zip(previous_score).map(|(now, then)| round2(now - then));
            let slid = score_delta.is_some_and(|delta| delta < 0.0);
            let change = match (previous_score, zone.score, score_delta) {
                (None, Some(_), _) => "newly_assessed",
                (Some(_), None, _) => "no_longer_assessed",
                (_, _, Some(delta)) if delta < 0.0 => "slid",
                (_, _, Some(delta)) if delta > 0.0 => "improved",
                _ => "unchanged",
            };
            ZoneDrift {
                zone: zone.zone,
                previous_score,
                score: zone.score,
                score_delta,
                previous_level: before.and_then(|old| old.level),
                level: zone.level,
                // Rounded again because a report saved by an older version may hold `-0.0`.
                previous_monthly_cost_usd: before.map_or(0.0, |old| round2(old.monthly_cost_usd)),
                monthly_cost_usd: zone.monthly_cost_usd,
                previous_weekly_hours: before.map_or(0.0, |old| round2(old.weekly_hours)),
                weekly_hours: zone.weekly_hours,
                previous_gap: before.is_some_and(|old| old.gap),
                gap: zone.gap,
                slid,
                change: change.to_string(),
            }
        })
        .collect();
    // Slid zones first, the biggest level drop and then the biggest score drop first; the rest keep zone order.
    zones.sort_by(|a, b| slide_key(b).partial_cmp(&slide_key(a)).unwrap_or(Ordering::Equal));
    let slid = zones.iter().filter(|zone| zone.slid).map(|zone| zone.zone).collect();

    let mut tasks: Vec<TaskDrift> = Vec::new();
    for task in &current.tasks {
        match find_task(&previous.tasks, task) {
            Some(old) => {
                if let Some(drift) = task_drift(Some(old), Some(task)) {
                    tasks.push(drift);
                }
            }
            None => tasks.extend(task_drift(None, Some(task))),
        }
    }
    for old in previous.tasks.iter().filter(|old| find_task(&current.tasks, old).is_none()) {
        tasks.extend(task_drift(Some(old), None));
    }
    tasks.sort_by_key(|drift| match drift.change.as_str() {
        "slid" => 0,
        "removed" => 1,
        "added" => 2,
        "changed" => 3,
        _ => 4,
    });

    Comparison {
        previous: previous_label.to_string(),
        previous_brand: previous.brand.name.clone(),
        slid,
        zones,
        tasks,
    }
}

/// (slid?, level drop, score drop): larger sorts first.
fn slide_key(zone: &ZoneDrift) -> (bool, i16, f64) {
    if !zone.slid {
        return (false, 0, 0.0);
    }
    let level_drop = match (zone.previous_level, zone.level) {
        (Some(then), Some(now)) => i16::from(then) - i16::from(now),
        _ => 0,
    };
    (zone.slid, level_drop, -zone.score_delta.unwrap_or(0.0))
}

fn find_task<'a>(tasks: &'a [TaskReport], wanted: &TaskReport) -> Option<&'a TaskReport> {
    tasks.iter().find(|task| task.zone == wanted.zone && task.name.eq_ignore_ascii_case(&wanted.name))
}

fn task_drift(before: Option<&TaskReport>, after: Option<&TaskReport>) -> Option<TaskDrift> {
    let any = after.or(before)?;
    let change = match (before, after) {
        (None, _) => "added",
        (_, None) => "removed",
        (Some(old), Some(new)) => match old.maturity.cmp(&new.maturity) {
            Ordering::Greater if new.maturity.is_some() => "slid",
            Ordering::Less if old.maturity.is_some() => "improved",
            _ if old.weekly_hours != new.weekly_hours
                || old.leak_rate != new.leak_rate
                || old.monthly_orders != new.monthly_orders
                || old.maturity != new.maturity =>
            {
                "changed"
            }
            _ => return None,
        },
    };
    Some(TaskDrift {
        zone: any.zone,
        name: any.name.clone(),
        change: change.to_string(),
        previous_maturity: before.and_then(|task| task.maturity),
        maturity: after.and_then(|task| task.maturity),
        previous_weekly_hours: before.and_then(|task| task.weekly_hours),
        weekly_hours: after.and_then(|task| task.weekly_hours),
        previous_leak_rate: before.and_then(|task| task.leak_rate),
        leak_rate: after.and_then(|task| task.leak_rate),
        previous_monthly_cost_usd: before.map(|task| task.monthly_cost_usd),
        monthly_cost_usd: after.map(|task| task.monthly_cost_usd),
    })
}
