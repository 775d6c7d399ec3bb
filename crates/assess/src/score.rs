//! Scoring: the rules of the assessment method, from a validated `Assessment` to a `Report`.
//!
//! Each rule is a small function named after it and documented with the rule's own words, so a reader can check
//! the code against `docs/assessment.md` line by line. Nothing here does I/O or reads the clock.

use crate::model::{Assessment, MATURITY_SCALE, Maturity, Task, Zone};
use crate::report::{
    Assumptions, Band, BrandSummary, Checklist, Finding, GapReport, REPORT_SCHEMA_VERSION, Report,
    TaskDiagnostic, TaskReport, Totals, ZoneReport,
};
use std::cmp::Ordering;

/// Weekly hours become monthly hours with this factor (52 weeks over 12 months).
pub const WEEKS_PER_MONTH: f64 = 52.0 / 12.0;
/// Below this many orders a month, an all-in-one platform is cheaper run by hand (source's red flags).
pub const TINY_MONTHLY_ORDERS: u64 = 50;
/// "Under a few hundred orders a month ... a well-trained VA is the honest answer": we read "a few hundred" as 300.
pub const FEW_HUNDRED_MONTHLY_ORDERS: u64 = 300;
/// Checklist thresholds: more than 3 hours a week, a leak rate above 2%.
pub const CHECKLIST_HOURS: f64 = 3.0;
pub const CHECKLIST_LEAK_RATE: f64 = 0.02;
/// Outside $1M-$50M of annual GMV the method fits less well.
pub const BAND_FLOOR_USD: f64 = 1_000_000.0;
pub const BAND_CEILING_USD: f64 = 50_000_000.0;

/// Scores an assessment into the full report (without a comparison).
pub fn score(assessment: &Assessment) -> Report {
    let brand = &assessment.brand;
    let band = Band::for_gmv(brand.annual_gmv_usd);
    let average_order_value = brand.average_order_value_usd();
    let tasks: Vec<TaskReport> = assessment
        .tasks
        .iter()
        .map(|task| task_figures(task, brand.hourly_cost_usd, average_order_value))
        .collect();

    let mut zones: Vec<ZoneReport> = Zone::ALL.iter().map(|zone| zone_figures(*zone, &tasks, band)).collect();
    let mut ranking: Vec<GapReport> =
        zones.iter().filter(|zone| zone.gap).map(|zone| gap_report(zone, &tasks)).collect();
    ranking.sort_by(rank_order);
    for (idx, gap) in ranking.iter_mut().enumerate() {
        gap.rank = idx + 1;
        if let Some(zone) = zones.iter_mut().find(|zone| zone.zone == gap.zone) {
            zone.rank = Some(gap.rank);
        }
    }

    let totals = Totals {
        weekly_hours: round2(tasks.iter().filter_map(|task| task.weekly_hours).sum()),
        monthly_cost_usd: round2(zones.iter().map(|zone| zone.monthly_cost_usd).sum()),
        n_tasks: tasks.len(),
        n_scored: tasks.iter().filter(|task| task.scored).count(),
        n_gaps: ranking.len(),
    };
    Report {
        warnings: Vec::new(),
        schema_version: REPORT_SCHEMA_VERSION,
        brand: BrandSummary {
            name: brand.name.clone(),
            annual_gmv_usd: brand.annual_gmv_usd,
            monthly_orders: brand.monthly_orders,
            platforms: brand.platforms.clone(),
            growing: brand.growing,
        },
        band,
        assumptions: Assumptions {
            hourly_cost_usd: brand.hourly_cost_usd,
            average_order_value_usd: average_order_value.map(round2),
            default_leak_cost_usd: average_order_value.map(round2),
            weeks_per_month: round4(WEEKS_PER_MONTH),
        },
        red_flags: red_flags(assessment),
        notes: notes(assessment, &zones),
        diagnostics: diagnostics(assessment),
        zones,
        ranking,
        tasks,
        totals,
        compare: None,
    }
}

/// A task's affected orders are its leak rate times its monthly orders; its dollars a month are its weekly hours
/// x 52/12 x the hourly cost, plus its affected orders x the cost of one leaked order (by default the average
/// order value).
fn task_figures(task: &Task, hourly_cost_usd: f64, average_order_value: Option<f64>) -> TaskReport {
    let leak_cost_usd = task.leak_cost_usd.or(average_order_value);
    let (affected_orders, hours_cost_usd, leak_cost_total_usd) = match task.score {
        Some(score) => {
            let affected = score.leak_rate.value() * task.monthly_orders as f64;
            (
                affected,
                score.weekly_hours * WEEKS_PER_MONTH * hourly_cost_usd,
                affected * leak_cost_usd.unwrap_or(0.0),
            )
        }
        None => (0.0, 0.0, 0.0),
    };
    TaskReport {
        zone: task.zone,
        name: task.name.clone(),
        scored: task.score.is_some(),
        maturity: task.score.map(|score| score.maturity.value()),
        maturity_name: task.score.map(|score| score.maturity.name().to_string()),
        weekly_hours: task.score.map(|score| score.weekly_hours),
        leak_rate: task.score.map(|score| score.leak_rate.value()),
        monthly_orders: task.monthly_orders,
        affected_orders: round2(affected_orders),
        leak_cost_usd: leak_cost_usd.map(round2),
        hours_cost_usd: round2(hours_cost_usd),
        leak_cost_total_usd: round2(leak_cost_total_usd),
        monthly_cost_usd: round2(hours_cost_usd + leak_cost_total_usd),
        tools: task.tools.clone(),
        owner: task.owner.clone(),
        growing: task.growing,
        line: task.line,
    }
}

/// A zone's score is the mean of its tasks' maturity and its level the score rounded down; its monthly orders are
/// the largest of its tasks'; its affected orders the sum over its tasks; its leak rate affected over monthly
/// orders; its dollars the sum over its tasks. A zone is a gap when its score is below 2 or below the minimum
/// target of the brand's GMV band. Only scored tasks count; a zone without any is "not assessed", never 0.
fn zone_figures(zone: Zone, tasks: &[TaskReport], band: Option<Band>) -> ZoneReport {
    let in_zone: Vec<&TaskReport> = tasks.iter().filter(|task| task.zone == zone).collect();
    let scored: Vec<&TaskReport> = in_zone.iter().copied().filter(|task| task.scored).collect();
    let exact_score = (!scored.is_empty()).then(|| {
        scored.iter().filter_map(|task| task.maturity).map(f64::from).sum::<f64>() / scored.len() as f64
    });
    let level = exact_score.map(|score| score.floor() as u8);
    let monthly_orders = scored.iter().map(|task| task.monthly_orders).max().unwrap_or(0);
    let affected_orders: f64 = scored.iter().map(|task| task.affected_orders).sum();
    let leak_rate =
        (monthly_orders > 0 && !scored.is_empty()).then(|| affected_orders / monthly_orders as f64);
    let target = band.map(|band| band.target(zone));
    let gap = exact_score.is_some_and(|score| is_gap(score, target.map(|(min, _)| min)));
    let (verdict, verdict_text) = zone_verdict(exact_score, target, gap);
    ZoneReport {
        zone,
        title: zone.title().to_string(),
        assessed: exact_score.is_some(),
        n_tasks: in_zone.len(),
        n_scored: scored.len(),
        score: exact_score.map(display_score),
        level,
        weekly_hours: round2(scored.iter().filter_map(|task| task.weekly_hours).sum()),
        leak_rate: leak_rate.map(round6),
        monthly_orders,
        affected_orders: round2(affected_orders),
        monthly_cost_usd: round2(scored.iter().map(|task| task.monthly_cost_usd).sum()),
        target_min: target.map(|(min, _)| min),
        target_max: target.map(|(_, max)| max),
        gap,
        rank: None,
        verdict: verdict.to_string(),
        verdict_text,
    }
}

/// A zone is a gap when its score is below 2, or below the minimum target of the brand's band.
pub fn is_gap(score: f64, target_min: Option<u8>) -> bool {
    score < 2.0 || target_min.is_some_and(|min| score < f64::from(min))
}

fn zone_verdict(score: Option<f64>, target: Option<(u8, u8)>, gap: bool) -> (&'static str, String) {
    let Some(score) = score else {
        return ("not_assessed", "Not assessed: no scored task".to_string());
    };
    match target {
        _ if gap && score < 2.0 => ("gap", "Gap: below 2".to_string()),
        Some((min, _)) if gap => ("gap", format!("Gap: below target {min}")),
        Some((_, max)) if score > f64::from(max) => ("above_target", "Above target".to_string()),
        Some(_) => ("on_target", "On target".to_string()),
        None => ("meets_automated", "Automated (no band target)".to_string()),
    }
}

/// Gaps are ranked by dollars at stake, then by order volume, then by lower score; the top is the first project.
fn rank_order(a: &GapReport, b: &GapReport) -> Ordering {
    b.monthly_cost_usd
        .total_cmp(&a.monthly_cost_usd)
        .then(b.monthly_orders.cmp(&a.monthly_orders))
        .then(a.score.unwrap_or(0.0).total_cmp(&b.score.unwrap_or(0.0)))
}

/// Tasks under a gap: the most dollars first, then the most orders, then the lower score; unscored tasks last.
fn task_order(a: &TaskReport, b: &TaskReport) -> Ordering {
    b.scored
        .cmp(&a.scored)
        .then(b.monthly_cost_usd.total_cmp(&a.monthly_cost_usd))
        .then(b.monthly_orders.cmp(&a.monthly_orders))
        .then(a.maturity.cmp(&b.maturity))
}

fn gap_report(zone: &ZoneReport, tasks: &[TaskReport]) -> GapReport {
    let mut zone_tasks: Vec<TaskReport> =
        tasks.iter().filter(|task| task.zone == zone.zone).cloned().collect();
    zone_tasks.sort_by(task_order);
    let scored: Vec<&TaskReport> = zone_tasks.iter().filter(|task| task.scored).collect();
    let checklist = checklist(zone, &scored);
    let (verdict, verdict_text) = checklist_verdict(&checklist);
    let why = match zone.target_min {
        Some(min) if zone.score.is_some_and(|score| score >= 2.0) => {
            format!("score {} is below the band's minimum target of {min}", fmt_score(zone.score))
        }
        _ => format!("score {} is below 2: a human still finishes the work", fmt_score(zone.score)),
    };
    GapReport {
        rank: 0,
        zone: zone.zone,
        title: zone.title.clone(),
        score: zone.score,
        level: zone.level,
        weekly_hours: zone.weekly_hours,
        leak_rate: zone.leak_rate,
        monthly_orders: zone.monthly_orders,
        affected_orders: zone.affected_orders,
        monthly_cost_usd: zone.monthly_cost_usd,
        target_min: zone.target_min,
        why,
        checklist,
        verdict: verdict.to_string(),
        verdict_text: verdict_text.to_string(),
        advice: checklist_advice(&checklist),
        tasks: zone_tasks,
    }
}

/// The five questions, answered from the zone's figures: more than 3 h/week? leak rate above 2%? volume growing
/// this year (any task growing)? crosses more than one tool (the zone's tasks name two or more tools together)?
/// has an owner (every task in the zone has one)?
fn checklist(zone: &ZoneReport, scored: &[&TaskReport]) -> Checklist {
    let mut tools: Vec<String> = Vec::new();
    for tool in scored.iter().flat_map(|task| task.tools.iter()) {
        let tool = tool.to_lowercase();
        if !tools.contains(&tool) {
            tools.push(tool);
        }
    }
    let hours_over_3 = zone.weekly_hours > CHECKLIST_HOURS;
    let leak_over_2pct = zone.leak_rate.is_some_and(|rate| rate > CHECKLIST_LEAK_RATE);
    let growing = scored.iter().any(|task| task.growing);
    let multi_tool = tools.len() >= 2;
    let has_owner = !scored.is_empty() && scored.iter().all(|task| task.owner.is_some());
    let yes_count =
        [hours_over_3, leak_over_2pct, growing, multi_tool, has_owner].iter().filter(|yes| **yes).count();
    Checklist { hours_over_3, leak_over_2pct, growing, multi_tool, has_owner, yes_count: yes_count as u8 }
}

/// A "no" on any of the first three says wait; otherwise no owner says fix ownership first; one tool only says a
/// point app may suffice; all five yes is a defensible first project (4 yes with one tool is defensible too, with a
/// point app).
pub fn checklist_verdict(checklist: &Checklist) -> (&'static str, &'static str) {
    if !(checklist.hours_over_3 && checklist.leak_over_2pct && checklist.growing) {
        ("wait", "Wait: a 'no' on hours, leak rate or growth says it is not worth automating yet")
    } else if !checklist.has_owner {
        ("fix_ownership_first", "Fix ownership first: an unowned workflow rots within a quarter")
    } else if !checklist.multi_tool {
        ("point_app", "Defensible, but it stays inside one tool: a point app may suffice")
    } else {
        ("first_project", "Defensible first project: costly, leaking, growing, cross-tool and owned")
    }
}

fn checklist_advice(checklist: &Checklist) -> Vec<String> {
    let mut advice = Vec::new();
    if !checklist.hours_over_3 {
        advice.push("3 h/week or less of human work: probably leave it manual".to_string());
    }
    if !checklist.leak_over_2pct {
        advice.push("leak rate at or under 2% of orders: lower priority".to_string());
    }
    if !checklist.growing {
        advice.push("volume not growing this year: reassess later".to_string());
    }
    if !checklist.multi_tool {
        advice.push("touches one tool or none: a point app may suffice".to_string());
    }
    if !checklist.has_owner {
        advice.push("not every task has an owner: fix the ownership gap first".to_string());
    }
    advice
}

/// Red flags that say skip the assessment or automation: no live orders; one all-in-one platform and under 50
/// orders a month; nobody to own a workflow.
fn red_flags(assessment: &Assessment) -> Vec<Finding> {
    let brand = &assessment.brand;
    let mut flags = Vec::new();
    if brand.monthly_orders == 0 {
        flags.push(Finding {
            code: "no_live_orders".to_string(),
            message: "No live orders: there is nothing to measure yet; skip the assessment until you sell"
                .to_string(),
        });
    } else if brand.platforms.len() <= 1 && brand.monthly_orders < TINY_MONTHLY_ORDERS {
        flags.push(Finding {
            code: "single_platform_tiny_volume".to_string(),
            message: format!(
                "One all-in-one platform and {} orders a month (under {TINY_MONTHLY_ORDERS}): manual is genuinely \
                 cheaper than tooling",
                brand.monthly_orders
            ),
        });
    }
    if !assessment.tasks.is_empty() && assessment.tasks.iter().all(|task| task.owner.is_none()) {
        flags.push(Finding {
            code: "no_owner".to_string(),
            message:
                "Nobody owns any task: automation without an owner rots within a quarter; name owners first"
                    .to_string(),
        });
    }
    flags
}

fn notes(assessment: &Assessment, zones: &[ZoneReport]) -> Vec<Finding> {
    let brand = &assessment.brand;
    let mut notes = Vec::new();
    if Band::for_gmv(brand.annual_gmv_usd).is_none() {
        let side = if brand.annual_gmv_usd < BAND_FLOOR_USD { "under $1M" } else { "over $50M" };
        notes.push(Finding {
            code: "outside_bands".to_string(),
            message: format!(
                "Annual GMV is {side}: the method is built for $1M-$50M brands and fits less well here; there are \
                 no band targets, so only scores below 2 count as gaps"
            ),
        });
    }
    if brand.monthly_orders > 0 && brand.monthly_orders < FEW_HUNDRED_MONTHLY_ORDERS {
        notes.push(Finding {
            code: "few_hundred_orders".to_string(),
            message: format!(
                "{} orders a month is under a few hundred: the hours a workflow saves won't clear the cost of \
                 building and owning it; a well-trained assistant is the honest answer",
                brand.monthly_orders
            ),
        });
    }
    for zone in zones.iter().filter(|zone| !zone.assessed) {
        let message = if zone.n_tasks == 0 {
            format!("{} was not assessed: it has no tasks (it is not scored 0)", zone.title)
        } else {
            format!(
                "{} was not assessed: none of its {} tasks is scored yet (it is not scored 0)",
                zone.title, zone.n_tasks
            )
        };
        notes.push(Finding { code: format!("not_assessed:{}", zone.zone), message });
    }
    let n_unscored = assessment.tasks.iter().filter(|task| task.score.is_none()).count();
    if n_unscored > 0 && zones.iter().any(|zone| zone.assessed) {
        notes.push(Finding {
            code: "unscored_tasks".to_string(),
            message: format!("{n_unscored} task(s) wait to be scored and are left out of the figures"),
        });
    }
    notes
}

/// A task whose weekly hours contradict its score gets a diagnostic suggesting the lower score the hours fit.
fn diagnostics(assessment: &Assessment) -> Vec<TaskDiagnostic> {
    let mut found = Vec::new();
    for task in &assessment.tasks {
        let Some(score) = task.score else { continue };
        let fitting = maturity_for_hours(score.weekly_hours);
        if fitting < score.maturity {
            let given = score.maturity.scale();
            let suggested = fitting.scale();
            found.push(TaskDiagnostic {
                task: task.name.clone(),
                zone: task.zone,
                line: task.line,
                code: "hours_contradict_score".to_string(),
                message: format!(
                    "scored {} ({}), which typically costs {}, but takes {} h/week; the hours fit {} ({}, {}): \
                     score it {} (when unsure, take the lower)",
                    given.score,
                    given.name,
                    given.typical_hours,
                    fmt_number(score.weekly_hours),
                    suggested.score,
                    suggested.name,
                    suggested.typical_hours,
                    suggested.score
                ),
                suggested_maturity: Some(suggested.score),
            });
        }
        if task.monthly_orders > assessment.brand.monthly_orders {
            found.push(TaskDiagnostic {
                task: task.name.clone(),
                zone: task.zone,
                line: task.line,
                code: "more_orders_than_brand".to_string(),
                message: format!(
                    "{} orders a month through this step is more than the brand's {}",
                    task.monthly_orders, assessment.brand.monthly_orders
                ),
                suggested_maturity: None,
            });
        }
    }
    found
}

/// The highest maturity whose typical hours admit `weekly_hours` (3: under 1, 2: under 2, 1: up to 8, else 0).
pub fn maturity_for_hours(weekly_hours: f64) -> Maturity {
    let fits = |row: &crate::model::ScaleRow| match row.score {
        2 | 3 => weekly_hours < row.max_hours,
        _ => weekly_hours <= row.max_hours,
    };
    let best = MATURITY_SCALE.iter().rev().find(|row| fits(row)).map_or(0, |row| row.score);
    Maturity::new(i64::from(best)).unwrap_or(Maturity::MANUAL)
}

fn fmt_score(score: Option<f64>) -> String {
    score.map_or_else(|| "-".to_string(), fmt_number)
}

/// Formats a number without trailing zeros (`6`, `1.5`, `1.67`).
pub fn fmt_number(value: f64) -> String {
    let text = format!("{:.2}", round2(value));
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A score rounded to 2 decimals for display, but never up into the next level: a zone at 1.9967 shows 1.99 (it is
/// level 1 and a gap), not 2.00, while 8/3 still shows 2.67.
fn display_score(score: f64) -> f64 {
    round2(score).min(score.floor() + 0.99)
}

/// Rounds a figure to 2 decimals. Every figure of the report is made by one of these roundings, and each of them
/// turns `-0.0` into `0.0` (adding `0.0` does that and changes no other value): a sum of nothing is `-0.0` in
/// Rust, and would otherwise print as `-0` in every format.
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0 + 0.0
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0 + 0.0
}

fn round6(value: f64) -> f64 {
    (value * 1_000_000.0).round() / 1_000_000.0 + 0.0
}
