//! The report model: every figure the one-page punch list shows, already computed and rounded for display.
//!
//! The JSON report is this struct serialized, so its field names are a contract (see `docs/assessment.md`). It
//! also deserializes, so a previous quarter's JSON report can be compared with today's assessment.

use crate::model::Zone;
use serde::{Deserialize, Serialize};

/// Version of the JSON report's shape; bumped only when a key changes meaning or disappears.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// What the reader must know before trusting the figures, such as a comparison with another brand's run. Shown
    /// first in every format; empty when there is nothing to say (an older report without the key reads as empty).
    #[serde(default)]
    pub warnings: Vec<String>,
    pub schema_version: u32,
    /// Quarter-over-quarter drift, when the report was asked to compare with a previous run. It comes before the
    /// figures, as in every format: the zones that slid are called out first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<Comparison>,
    pub brand: BrandSummary,
    /// `"1M-5M"`, `"5M-15M"`, `"15M-50M"`, or null outside $1M-$50M.
    pub band: Option<Band>,
    pub assumptions: Assumptions,
    /// The four zones, always all of them, in the source's order.
    pub zones: Vec<ZoneReport>,
    /// Gaps only, first project first.
    pub ranking: Vec<GapReport>,
    /// Every task in file order, with its figures.
    pub tasks: Vec<TaskReport>,
    pub red_flags: Vec<Finding>,
    /// Things the reader should know that are not red flags (GMV outside the bands, zones not assessed, ...).
    pub notes: Vec<Finding>,
    pub diagnostics: Vec<TaskDiagnostic>,
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrandSummary {
    pub name: String,
    pub annual_gmv_usd: f64,
    pub monthly_orders: u64,
    pub platforms: Vec<String>,
    pub growing: bool,
}

/// The GMV bands of the source's benchmark table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Band {
    #[serde(rename = "1M-5M")]
    From1MTo5M,
    #[serde(rename = "5M-15M")]
    From5MTo15M,
    #[serde(rename = "15M-50M")]
    From15MTo50M,
}

impl Band {
    /// The band for an annual GMV: $1M inclusive to $5M exclusive, $5M to $15M exclusive, $15M to $50M inclusive.
    pub fn for_gmv(annual_gmv_usd: f64) -> Option<Band> {
        match annual_gmv_usd {
            gmv if (1_000_000.0..5_000_000.0).contains(&gmv) => Some(Band::From1MTo5M),
            gmv if (5_000_000.0..15_000_000.0).contains(&gmv) => Some(Band::From5MTo15M),
            gmv if (15_000_000.0..=50_000_000.0).contains(&gmv) => Some(Band::From15MTo50M),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Band::From1MTo5M => "1M-5M",
            Band::From5MTo15M => "5M-15M",
            Band::From15MTo50M => "15M-50M",
        }
    }

    /// The source's target score range (min, max) for a zone in this band.
    pub fn target(self, zone: Zone) -> (u8, u8) {
        match (self, zone) {
            (Band::From1MTo5M, Zone::OrderToCash) => (2, 2),
            (Band::From1MTo5M, Zone::Fulfillment) => (1, 2),
            (Band::From1MTo5M, Zone::CustomerService) => (1, 1),
            (Band::From1MTo5M, Zone::PostPurchase) => (1, 1),
            (Band::From5MTo15M, Zone::OrderToCash) => (2, 3),
            (Band::From5MTo15M, _) => (2, 2),
            (Band::From15MTo50M, Zone::OrderToCash) => (3, 3),
            (Band::From15MTo50M, _) => (2, 3),
        }
    }
}

/// The figures the dollars rest on, printed under the report so a reader can check them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assumptions {
    pub hourly_cost_usd: f64,
    /// Annual GMV / 12 / monthly orders; null without orders.
    pub average_order_value_usd: Option<f64>,
    /// What one leaked order costs when a task does not say: the average order value.
    pub default_leak_cost_usd: Option<f64>,
    /// 52 / 12: weekly hours become monthly hours with this factor.
    pub weeks_per_month: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneReport {
    pub zone: Zone,
    pub title: String,
    /// False when the zone has no scored task: it then has no score (never a score of 0).
    pub assessed: bool,
    pub n_tasks: usize,
    pub n_scored: usize,
    /// Mean of the scored tasks' maturity, rounded to 2 decimals; null when not assessed.
    pub score: Option<f64>,
    /// The score rounded down.
    pub level: Option<u8>,
    pub weekly_hours: f64,
    /// Affected orders over the zone's monthly orders; null when not assessed or without orders.
    pub leak_rate: Option<f64>,
    /// The largest of the tasks' monthly orders (every order flows through each step).
    pub monthly_orders: u64,
    pub affected_orders: f64,
    pub monthly_cost_usd: f64,
    pub target_min: Option<u8>,
    pub target_max: Option<u8>,
    pub gap: bool,
    /// 1 for the first project, among gaps only.
    pub rank: Option<usize>,
    /// `not_assessed`, `gap`, `on_target`, `above_target` or `meets_automated` (no band, score 2 or more).
    pub verdict: String,
    pub verdict_text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapReport {
    pub rank: usize,
    pub zone: Zone,
    pub title: String,
    pub score: Option<f64>,
    pub level: Option<u8>,
    pub weekly_hours: f64,
    pub leak_rate: Option<f64>,
    pub monthly_orders: u64,
    pub affected_orders: f64,
    pub monthly_cost_usd: f64,
    pub target_min: Option<u8>,
    /// Why the zone is a gap, in words.
    pub why: String,
    pub checklist: Checklist,
    /// `wait`, `fix_ownership_first`, `point_app` or `first_project`.
    pub verdict: String,
    pub verdict_text: String,
    /// One line per "no" answer: what it means for this gap.
    pub advice: Vec<String>,
    /// The zone's tasks, the most expensive first.
    pub tasks: Vec<TaskReport>,
}

/// The source's five-question decision checklist, answered from the zone's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checklist {
    /// Does this step cost more than 3 hours a week?
    pub hours_over_3: bool,
    /// Does the leak rate exceed 2% of orders?
    pub leak_over_2pct: bool,
    /// Will order volume here grow this year (any task growing)?
    pub growing: bool,
    /// Does the workflow cross more than one tool (two or more distinct tools named by the zone's tasks)?
    pub multi_tool: bool,
    /// Is there an owner (every task in the zone has one)?
    pub has_owner: bool,
    pub yes_count: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskReport {
    pub zone: Zone,
    pub name: String,
    pub scored: bool,
    pub maturity: Option<u8>,
    pub maturity_name: Option<String>,
    pub weekly_hours: Option<f64>,
    pub leak_rate: Option<f64>,
    pub monthly_orders: u64,
    pub affected_orders: f64,
    /// The cost of one leaked order used for this task (its own, or the average order value).
    pub leak_cost_usd: Option<f64>,
    /// Weekly hours x 52/12 x hourly cost.
    pub hours_cost_usd: f64,
    /// Affected orders x cost of one leaked order.
    pub leak_cost_total_usd: f64,
    pub monthly_cost_usd: f64,
    pub tools: Vec<String>,
    pub owner: Option<String>,
    pub growing: bool,
    pub line: usize,
}

/// A red flag or note: a stable code for machines and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub message: String,
}

/// A task whose figures contradict its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDiagnostic {
    pub task: String,
    pub zone: Zone,
    pub line: usize,
    pub code: String,
    pub message: String,
    /// The lower score the figures suggest, where the diagnostic suggests one.
    pub suggested_maturity: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub weekly_hours: f64,
    pub monthly_cost_usd: f64,
    pub n_tasks: usize,
    pub n_scored: usize,
    pub n_gaps: usize,
}

/// Drift since a previous run, zones that slid first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Where the previous run came from (its file name).
    pub previous: String,
    pub previous_brand: String,
    /// The zones whose score went down, worst first.
    pub slid: Vec<Zone>,
    /// Every zone, those that slid first.
    pub zones: Vec<ZoneDrift>,
    /// Tasks that were added, removed or changed, slid first; unchanged tasks are left out.
    pub tasks: Vec<TaskDrift>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneDrift {
    pub zone: Zone,
    pub previous_score: Option<f64>,
    pub score: Option<f64>,
    pub score_delta: Option<f64>,
    pub previous_level: Option<u8>,
    pub level: Option<u8>,
    pub previous_monthly_cost_usd: f64,
    pub monthly_cost_usd: f64,
    pub previous_weekly_hours: f64,
    pub weekly_hours: f64,
    pub previous_gap: bool,
    pub gap: bool,
    /// The score went down since the previous run.
    pub slid: bool,
    /// `slid`, `improved`, `unchanged`, `newly_assessed` or `no_longer_assessed`.
    pub change: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDrift {
    pub zone: Zone,
    pub name: String,
    /// `added`, `removed`, `slid`, `improved` or `changed` (same score, other figures moved).
    pub change: String,
    pub previous_maturity: Option<u8>,
    pub maturity: Option<u8>,
    pub previous_weekly_hours: Option<f64>,
    pub weekly_hours: Option<f64>,
    pub previous_leak_rate: Option<f64>,
    pub leak_rate: Option<f64>,
    pub previous_monthly_cost_usd: Option<f64>,
    pub monthly_cost_usd: Option<f64>,
}
