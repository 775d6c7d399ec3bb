//! The default task catalogue and the assessment file writer.
//!
//! The catalogue lists the recurring tasks the source names for each zone (five to eight per zone), so a team
//! starts from a list and scores it instead of facing a blank page. The writer produces the same TOML the parser
//! reads, with a guide in comments; `seam assess new` and `seam assess wizard` both write through it, so a file
//! either of them writes is a file `seam assess report` accepts.

use crate::model::{Assessment, Brand, MATURITY_SCALE, Task, Zone};
use std::fmt::Write as _;

/// One task of the default catalogue.
#[derive(Debug, Clone, Copy)]
pub struct CatalogueTask {
    pub zone: Zone,
    pub name: &'static str,
    /// Tools this task commonly touches, as a hint to edit.
    pub typical_tools: &'static [&'static str],
    /// The obvious evidence link: the built-in playbook that runs the task.
    pub evidence: Option<&'static str>,
}

const fn entry(zone: Zone, name: &'static str, typical_tools: &'static [&'static str]) -> CatalogueTask {
    CatalogueTask { zone, name, typical_tools, evidence: None }
}

/// A task a built-in playbook runs (its `task`), linked to the workflow's records.
const fn run_by(
    zone: Zone,
    name: &'static str,
    typical_tools: &'static [&'static str],
    workflow: &'static str,
) -> CatalogueTask {
    CatalogueTask { zone, name, typical_tools, evidence: Some(workflow) }
}

/// The default catalogue, drawn from the source's zone table and recipe.
pub const CATALOGUE: &[CatalogueTask] = &[
    entry(Zone::OrderToCash, "Capture payment", &["shopify", "stripe"]),
    entry(Zone::OrderToCash, "Screen fraud", &["shopify", "stripe"]),
    entry(Zone::OrderToCash, "Issue refunds", &["shopify", "stripe", "helpdesk"]),
    run_by(Zone::OrderToCash, "Retry failed charges", &["stripe"], "workflow:failed-payment-recovery"),
    entry(Zone::OrderToCash, "Answer chargebacks and disputes", &["stripe"]),
    entry(Zone::OrderToCash, "Reconcile payouts with the books", &["stripe", "accounting"]),
    entry(Zone::Fulfillment, "Sync stock across channels", &["shopify", "3pl"]),
    entry(Zone::Fulfillment, "Raise purchase orders", &["spreadsheet", "email"]),
    run_by(
        Zone::Fulfillment,
        "Hand orders to the 3PL",
        &["shopify", "3pl"],
        "workflow:checkout-stock-validation",
    ),
    entry(Zone::Fulfillment, "Send restock alerts", &["shopify"]),
    entry(Zone::Fulfillment, "Handle fulfillment exceptions", &["3pl", "helpdesk"]),
    entry(Zone::CustomerService, "Route tickets", &["helpdesk"]),
    entry(Zone::CustomerService, "Answer order status questions", &["helpdesk", "shopify", "3pl"]),
    entry(Zone::CustomerService, "Process returns and exchanges", &["helpdesk", "shopify", "3pl"]),
    run_by(
        Zone::CustomerService,
        "Look up order data for tickets",
        &["helpdesk", "shopify"],
        "workflow:ticket-context",
    ),
    entry(Zone::CustomerService, "Escalate refund requests", &["helpdesk", "stripe"]),
    entry(Zone::PostPurchase, "Request reviews", &["email"]),
    entry(Zone::PostPurchase, "Send upsells and cross-sells", &["email", "shopify"]),
    entry(Zone::PostPurchase, "Segment customers", &["email", "shopify"]),
    entry(Zone::PostPurchase, "Run retargeting audiences", &["ads", "shopify"]),
    entry(Zone::PostPurchase, "Recover abandoned checkouts", &["email", "shopify"]),
];

/// The catalogue's tasks for one zone.
pub fn catalogue_for(zone: Zone) -> impl Iterator<Item = &'static CatalogueTask> {
    CATALOGUE.iter().filter(move |task| task.zone == zone)
}

/// A starter assessment for `brand`: every catalogue task, none scored yet.
pub fn starter_assessment(brand: Brand) -> Assessment {
    let tasks = CATALOGUE.iter().map(|entry| unscored_task(entry, &brand)).collect();
    Assessment { brand, tasks }
}

/// One catalogue task of `brand`, waiting to be scored. `seam assess new` writes every task this way, and the
/// wizard keeps a task this way when it is skipped, so a skipped task stays in the file instead of vanishing.
pub fn unscored_task(entry: &CatalogueTask, brand: &Brand) -> Task {
    Task {
        zone: entry.zone,
        name: entry.name.to_string(),
        score: None,
        monthly_orders: brand.monthly_orders,
        tools: entry.typical_tools.iter().map(|tool| tool.to_string()).collect(),
        owner: None,
        growing: brand.growing,
        leak_cost_usd: None,
        evidence: entry.evidence.map(str::to_string),
        line: 0,
    }
}

/// Writes an assessment as the TOML file the parser reads, with a short guide in comments. Fields equal to the
/// brand's defaults (monthly orders, growing) are left out so the file stays short; unscored tasks get commented
/// placeholders to fill in.
pub fn to_toml(assessment: &Assessment) -> String {
    let brand = &assessment.brand;
    let mut out = String::new();
    let _ = writeln!(out, "# Seam ops automation self-assessment.");
    let _ = writeln!(out, "# Score every task 0-3 (when unsure between two scores, take the lower):");
    for row in &MATURITY_SCALE {
        let _ = writeln!(
            out,
            "#   {} {:<13} {:<32} typically {}",
            row.score, row.name, row.human_touch, row.typical_hours
        );
    }
    let _ = writeln!(out, "# Then run: seam assess report THIS_FILE");
    let _ = writeln!(out);
    let _ = writeln!(out, "[brand]");
    let _ = writeln!(out, "name = {}", quote(&brand.name));
    let _ = writeln!(out, "annual_gmv_usd = {}", number(brand.annual_gmv_usd));
    let _ = writeln!(out, "monthly_orders = {}", brand.monthly_orders);
    let _ = writeln!(
        out,
        "hourly_cost_usd = {}        # loaded cost of one ops hour",
        number(brand.hourly_cost_usd)
    );
    let _ = writeln!(out, "platforms = {}", list(&brand.platforms));
    let _ = writeln!(out, "growing = {}                  # will order volume grow this year?", brand.growing);
    if let Some(zone) = &brand.timezone {
        let _ = writeln!(out, "timezone = {}", quote(zone));
    }
    if let Some(code) = &brand.currency {
        let _ = writeln!(out, "currency = {}", quote(code));
    }
    if let Some(minutes) = brand.minutes_per_decision {
        let _ = writeln!(
            out,
            "minutes_per_decision = {}  # an assumption: minutes one decision takes",
            number(minutes)
        );
    }
    for zone in Zone::ALL {
        let zone_tasks: Vec<&Task> = assessment.tasks.iter().filter(|task| task.zone == zone).collect();
        if zone_tasks.is_empty() {
            continue;
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "# ---- {} ({}) ----", zone.title(), zone.covers());
        for task in zone_tasks {
            let _ = writeln!(out);
            let _ = writeln!(out, "[[tasks]]");
            let _ = writeln!(out, "zone = {}", quote(zone.key()));
            let _ = writeln!(out, "name = {}", quote(&task.name));
            match task.score {
                Some(score) => {
                    let _ = writeln!(
                        out,
                        "maturity = {}                # {}",
                        score.maturity.value(),
                        score.maturity.name()
                    );
                    let _ = writeln!(out, "weekly_hours = {}", number(score.weekly_hours));
                    let _ = writeln!(out, "leak_rate = {}", number(score.leak_rate.value()));
                }
                None => {
                    let _ = writeln!(out, "# maturity = 0..3            # not scored yet");
                    let _ = writeln!(out, "# weekly_hours = 0.0         # hours of human work a week");
                    let _ = writeln!(
                        out,
                        "# leak_rate = 0.00           # share of orders that hit a problem, 0.0-1.0"
                    );
                }
            }
            if task.monthly_orders != brand.monthly_orders {
                let _ = writeln!(out, "monthly_orders = {}", task.monthly_orders);
            }
            let _ = writeln!(out, "tools = {}", list(&task.tools));
            match &task.owner {
                Some(owner) => {
                    let _ = writeln!(out, "owner = {}", quote(owner));
                }
                None => {
                    let _ =
                        writeln!(out, "# owner = \"...\"              # who owns it; absent means nobody");
                }
            }
            if task.growing != brand.growing {
                let _ = writeln!(out, "growing = {}", task.growing);
            }
            if let Some(cost) = task.leak_cost_usd {
                let _ = writeln!(out, "leak_cost_usd = {}", number(cost));
            }
            if let Some(link) = &task.evidence {
                let _ = writeln!(out, "evidence = {}        # where measured figures come from", quote(link));
            }
        }
    }
    out
}

fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| quote(item)).collect();
    format!("[{}]", quoted.join(", "))
}

/// A TOML number: integers without a fraction, others in their shortest exact form.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{}", value as i64) } else { format!("{value}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LeakRate, Maturity, Score};
    use crate::parse::parse_assessment;

    fn brand() -> Brand {
        Brand {
            name: "Quote \"Co\"".to_string(),
            annual_gmv_usd: 3_000_000.0,
            monthly_orders: 4000,
            hourly_cost_usd: 32.5,
            platforms: vec!["shopify".to_string()],
            growing: true,
            timezone: None,
            currency: None,
            minutes_per_decision: None,
        }
    }

    #[test]
    fn the_catalogue_has_five_to_eight_tasks_per_zone() {
        for zone in Zone::ALL {
            let n_tasks = catalogue_for(zone).count();
            assert!((5..=8).contains(&n_tasks), "{zone} has {n_tasks} tasks");
        }
    }

    #[test]
    fn a_starter_file_parses_back_with_every_task_waiting_to_be_scored() {
        let starter = starter_assessment(brand());
        let parsed = parse_assessment("starter.toml", &to_toml(&starter)).expect("starter parses");
        assert_eq!(parsed.tasks.len(), CATALOGUE.len());
        assert!(parsed.tasks.iter().all(|task| task.score.is_none()));
        assert_eq!(parsed.brand, starter.brand);
    }

    #[test]
    fn a_written_assessment_parses_back_to_the_same_assessment() {
        let mut assessment = starter_assessment(brand());
        assessment.tasks.truncate(3);
        assessment.tasks[0].score = Some(Score {
            maturity: Maturity::TRIGGERED,
            weekly_hours: 6.5,
            leak_rate: LeakRate::new(0.031).expect("valid"),
        });
        assessment.tasks[0].owner = Some("Finance analyst".to_string());
        assessment.tasks[0].monthly_orders = 1234;
        assessment.tasks[0].growing = false;
        assessment.tasks[0].leak_cost_usd = Some(55.0);
        let mut parsed = parse_assessment("x.toml", &to_toml(&assessment)).expect("parses");
        for task in &mut parsed.tasks {
            task.line = 0;
        }
        assert_eq!(parsed, assessment);
    }
}
