//! The typed records an export is read into. Every value has been checked: a record exists only if its row was
//! valid.

use crate::money::Currency;

/// A Shopify order: its first row's order-level cells and every row's line item.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The line of its first row.
    pub line: u64,
    /// `#1060`: the order's name, unique in a store.
    pub name: String,
    /// Shopify's numeric order id (`Id`), when the export has the column.
    pub shopify_id: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// The offset `Created at` was written with, seconds east of UTC (kept as exported; months use the brand's
    /// time zone).
    pub created_offset: i32,
    pub currency: Currency,
    pub total_minor: i64,
    /// `Refunded Amount`; 0 when the column is absent or the cell empty.
    pub refunded_minor: i64,
    /// `paid`, `refunded`, `partially_refunded`, ... in lower case, as exported.
    pub financial_status: String,
    /// `fulfilled`, `unfulfilled`, `partial`, `restocked`, ... in lower case, as exported.
    pub fulfillment_status: String,
    pub paid_at: Option<i64>,
    pub fulfilled_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub lines: Vec<LineItem>,
}

impl Order {
    /// Refunded in full or in part: the financial status says so, or an amount was refunded.
    pub fn refunded(&self) -> bool {
        matches!(self.financial_status.as_str(), "refunded" | "partially_refunded") || self.refunded_minor > 0
    }

    /// Not (fully) fulfilled when exported: `unfulfilled`, `partial`, or no status at all.
    pub fn unfulfilled(&self) -> bool {
        matches!(self.fulfillment_status.as_str(), "unfulfilled" | "partial" | "partially_fulfilled" | "")
    }

    /// The key a new order is stored under: its Shopify id, else its name.
    pub fn default_key(&self) -> String {
        match &self.shopify_id {
            Some(id) => format!("id:{id}"),
            None => format!("name:{}", self.name),
        }
    }
}

/// One row's line item.
#[derive(Debug, Clone, PartialEq)]
pub struct LineItem {
    pub name: String,
    pub sku: Option<String>,
    pub quantity: i64,
    pub price_minor: Option<i64>,
    pub fulfillment_status: Option<String>,
}

/// What became of a payment attempt, from Stripe's `Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The money was taken: `Paid`, `Succeeded`, or since `Refunded` / `Partially Refunded` / `Disputed`.
    Paid,
    /// The charge was declined or blocked: `Failed`, `Blocked`.
    Failed,
    /// Neither (yet): `requires_payment_method`, `Incomplete`, `Canceled`, `Uncaptured`, `Pending`, ...
    Other,
}

impl Outcome {
    pub fn of_status(status: &str) -> Outcome {
        match status.trim().to_lowercase().replace(['_', '-'], " ").as_str() {
            "paid" | "succeeded" | "refunded" | "partially refunded" | "partial refund" | "disputed" => {
                Outcome::Paid
            }
            "failed" | "blocked" => Outcome::Failed,
            _ => Outcome::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Paid => "paid",
            Outcome::Failed => "failed",
            Outcome::Other => "other",
        }
    }
}

/// A row of a Stripe payments export.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub line: u64,
    /// The charge id (`ch_…`, `py_…`), else `pi:<PaymentIntent ID>@<Unix seconds>`: the dedupe key.
    pub key: String,
    pub charge_id: Option<String>,
    pub payment_intent: Option<String>,
    pub invoice: Option<String>,
    pub customer: Option<String>,
    pub created_at: i64,
    /// `Refunded date (UTC)`, when refunded.
    pub refunded_at: Option<i64>,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub currency: Currency,
    /// `Status` as exported.
    pub status: String,
    pub outcome: Outcome,
    /// `Decline Reason`, else the decline code Stripe's `Seller Message` quotes, for a failed payment.
    pub decline_reason: Option<String>,
    pub description: Option<String>,
}

/// A variant's stock at one location, from a Shopify inventory export.
#[derive(Debug, Clone, PartialEq)]
pub struct StockLevel {
    pub line: u64,
    pub location: String,
    pub handle: String,
    /// The handle and the option values (`tee/Blue/M`): unique per row of an export, as a SKU need not be.
    pub variant: String,
    pub sku: Option<String>,
    /// The SKU, else the variant: what "a SKU" counts in the measures.
    pub sku_key: String,
    pub title: Option<String>,
    /// `Available`; `None` when the cell says `not stocked` (the variant is not stocked at this location).
    pub available: Option<i64>,
    /// `On hand`; `None` for `not stocked` or without the column.
    pub on_hand: Option<i64>,
}

/// One record of any kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Order(Order),
    Payment(Payment),
    Stock(StockLevel),
}
