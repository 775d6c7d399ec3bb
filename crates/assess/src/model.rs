//! The assessment's input model: a brand and the tasks its team does, each already validated.
//!
//! Every type here can only hold a valid value (`Maturity` is 0..=3, `LeakRate` is 0.0..=1.0), so the scorer
//! never has to re-check anything. Values are parsed into these types at the boundary (`crate::parse`), where a
//! bad value can still be reported with its file, line and field.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One of the four zones where operational gaps hide (the source's table "The Four Zones Where Gaps Hide").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    OrderToCash,
    Fulfillment,
    CustomerService,
    PostPurchase,
}

impl Zone {
    /// All zones, in the order the source lists them (and the report shows them).
    pub const ALL: [Zone; 4] =
        [Zone::OrderToCash, Zone::Fulfillment, Zone::CustomerService, Zone::PostPurchase];

    /// The key used in files and JSON (`order_to_cash`).
    pub fn key(self) -> &'static str {
        match self {
            Zone::OrderToCash => "order_to_cash",
            Zone::Fulfillment => "fulfillment",
            Zone::CustomerService => "customer_service",
            Zone::PostPurchase => "post_purchase",
        }
    }

    /// The human title used in reports.
    pub fn title(self) -> &'static str {
        match self {
            Zone::OrderToCash => "Order-to-cash",
            Zone::Fulfillment => "Inventory and fulfillment",
            Zone::CustomerService => "Customer service",
            Zone::PostPurchase => "Post-purchase and marketing",
        }
    }

    /// What the zone covers, from the source.
    pub fn covers(self) -> &'static str {
        match self {
            Zone::OrderToCash => "checkout, payments, fraud, refunds, dunning",
            Zone::Fulfillment => "stock sync, purchase orders, 3PL hand-off, restock alerts",
            Zone::CustomerService => "ticket routing, order status, returns",
            Zone::PostPurchase => "reviews, upsells, segmentation, retargeting, abandoned checkout",
        }
    }

    /// Parses a zone key; accepts the exact keys only, so files stay portable.
    pub fn from_key(key: &str) -> Option<Zone> {
        Zone::ALL.into_iter().find(|zone| zone.key() == key)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// How automated a task is, on the source's 0-3 scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Maturity(u8);

impl Maturity {
    pub const MANUAL: Maturity = Maturity(0);
    pub const TRIGGERED: Maturity = Maturity(1);
    pub const AUTOMATED: Maturity = Maturity(2);
    pub const ORCHESTRATED: Maturity = Maturity(3);

    /// Returns `None` outside 0..=3.
    pub fn new(value: i64) -> Option<Maturity> {
        u8::try_from(value).ok().filter(|v| *v <= 3).map(Maturity)
    }

    pub fn value(self) -> u8 {
        self.0
    }

    /// The scale's name for the level ("Manual", "Triggered", ...).
    pub fn name(self) -> &'static str {
        MATURITY_SCALE[self.0 as usize].name
    }

    /// The scale's row for this level.
    pub fn scale(self) -> &'static ScaleRow {
        &MATURITY_SCALE[self.0 as usize]
    }
}

impl TryFrom<u8> for Maturity {
    type Error = String;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Maturity::new(i64::from(value)).ok_or_else(|| format!("maturity {value} is outside 0..=3"))
    }
}

impl From<Maturity> for u8 {
    fn from(value: Maturity) -> u8 {
        value.0
    }
}

/// One row of the source's maturity scale.
#[derive(Debug)]
pub struct ScaleRow {
    pub score: u8,
    pub name: &'static str,
    /// Human touch per task, as the source words it.
    pub human_touch: &'static str,
    /// Typical weekly hours of staying at this level, as the source words it.
    pub typical_hours: &'static str,
    /// Weekly hours above which a task no longer fits this level (exclusive for 2 and 3, inclusive for 0 and 1).
    pub max_hours: f64,
}

/// The source's maturity scale. `max_hours` encodes "typical cost of staying here": 0 is 5-15 h/week, 1 is 3-8,
/// 2 is under 2, 3 is under 1.
pub const MATURITY_SCALE: [ScaleRow; 4] = [
    ScaleRow {
        score: 0,
        name: "Manual",
        human_touch: "100% manual, every order",
        typical_hours: "5-15 h/week",
        max_hours: f64::INFINITY,
    },
    ScaleRow {
        score: 1,
        name: "Triggered",
        human_touch: "~50% manual finish step",
        typical_hours: "3-8 h/week",
        max_hours: 8.0,
    },
    ScaleRow {
        score: 2,
        name: "Automated",
        human_touch: "<10% exceptions only",
        typical_hours: "under 2 h/week",
        max_hours: 2.0,
    },
    ScaleRow {
        score: 3,
        name: "Orchestrated",
        human_touch: "<2% escalations, auto-retried",
        typical_hours: "under 1 h/week",
        max_hours: 1.0,
    },
];

/// The share of orders through a step that hit a problem, 0.0..=1.0.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct LeakRate(f64);

impl LeakRate {
    /// Returns `None` for NaN or values outside 0.0..=1.0.
    pub fn new(value: f64) -> Option<LeakRate> {
        (0.0..=1.0).contains(&value).then_some(LeakRate(value))
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

/// The brand being assessed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Brand {
    pub name: String,
    pub annual_gmv_usd: f64,
    pub monthly_orders: u64,
    /// Loaded cost of one ops hour.
    pub hourly_cost_usd: f64,
    pub platforms: Vec<String>,
    /// Whether order volume is expected to grow this year; the default for every task.
    pub growing: bool,
    /// The brand's time zone (an IANA name), for measures per calendar month; UTC when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The brand's currency (ISO 4217), for measured money; USD when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Minutes a person spends on one decision, for measured hours; 10 when absent (an assumption, shown as one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes_per_decision: Option<f64>,
}

impl Brand {
    /// The average order value, annual GMV / 12 / monthly orders; `None` without orders.
    pub fn average_order_value_usd(&self) -> Option<f64> {
        (self.monthly_orders > 0).then(|| self.annual_gmv_usd / 12.0 / self.monthly_orders as f64)
    }
}

/// How a task was scored. A task listed but not yet scored (as `seam assess new` writes them) is kept, shown and
/// counted as "not scored", never as a zero.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    pub maturity: Maturity,
    pub weekly_hours: f64,
    pub leak_rate: LeakRate,
}

/// One recurring operational task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    pub zone: Zone,
    pub name: String,
    /// `None` while the task waits to be scored.
    pub score: Option<Score>,
    /// Orders a month through this step (the brand's when the file leaves it out).
    pub monthly_orders: u64,
    pub tools: Vec<String>,
    pub owner: Option<String>,
    pub growing: bool,
    /// The cost of one leaked order; `None` means the brand's average order value.
    pub leak_cost_usd: Option<f64>,
    /// Where the task's evidence comes from: `workflow:NAME`, or an import (`stripe-payments[:LABEL]`,
    /// `shopify-orders[:LABEL]`, `shopify-inventory[:LABEL]`); `None` when the task is scored only as stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The line of the task's table in its file, for messages; 0 when built in code.
    pub line: usize,
}

/// A whole assessment: the brand and its tasks, in file order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub brand: Brand,
    pub tasks: Vec<Task>,
}
