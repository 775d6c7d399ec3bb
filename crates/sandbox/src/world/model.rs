//! The things in the world, one struct each. They hold facts, not vendor JSON: each vendor face renders them in
//! its own shapes, so one purchase reads the same from every vendor.

use serde::Serialize;

/// One product the shop sells, known to Shopify (product, variant, inventory item), ShipBob (inventory id) and
/// Stripe (product and price).
#[derive(Debug, Clone)]
pub(crate) struct Sku {
    pub sku: String,
    pub title: String,
    /// Minor units (cents), in the shop's currency.
    pub price: i64,
    pub grams: i64,
    pub product_id: u64,
    pub variant_id: u64,
    pub inventory_item_id: u64,
    pub shipbob_inventory_id: u64,
    pub stripe_product: String,
    pub stripe_price: String,
}

/// A Shopify location or a ShipBob fulfillment center.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub id: u64,
    pub name: String,
}

/// Shopify's count for one SKU at one location. `on_hand` is `available + committed`; `available` goes negative
/// when an order oversells.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ShopifyLevel {
    pub available: i64,
    pub committed: i64,
    pub updated: i64,
}

impl ShopifyLevel {
    pub fn on_hand(&self) -> i64 {
        self.available + self.committed
    }
}

/// ShipBob's count for one SKU at one fulfillment center. `fulfillable` is what is on hand and not committed to
/// an order.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CenterLevel {
    pub on_hand: i64,
    pub committed: i64,
    pub awaiting: i64,
}

impl CenterLevel {
    pub fn fulfillable(&self) -> i64 {
        (self.on_hand - self.committed).max(0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Address {
    pub address1: String,
    pub city: String,
    pub province: String,
    pub province_code: String,
    pub zip: String,
    pub country: String,
    pub country_code: String,
}

/// A person, with an id at each vendor that knows them (every seeded customer is known to all five).
#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub first: String,
    pub last: String,
    pub email: String,
    pub phone: Option<String>,
    pub address: Address,
    pub created: i64,
    pub shopify_id: u64,
    pub zendesk_user_id: Option<u64>,
    pub gorgias_id: Option<u64>,
    pub stripe_id: Option<String>,
}

impl Customer {
    pub fn name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub id: u64,
    /// The catalogue entry, or none for a custom line (which may carry a SKU text of its own, or none).
    pub item: Option<usize>,
    pub sku: Option<String>,
    pub title: String,
    pub quantity: i64,
    pub price: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Financial {
    Pending,
    Paid,
    PartiallyRefunded,
    Refunded,
    Voided,
}

impl Financial {
    pub fn graphql(self) -> &'static str {
        match self {
            Financial::Pending => "PENDING",
            Financial::Paid => "PAID",
            Financial::PartiallyRefunded => "PARTIALLY_REFUNDED",
            Financial::Refunded => "REFUNDED",
            Financial::Voided => "VOIDED",
        }
    }

    pub fn rest(self) -> &'static str {
        match self {
            Financial::Pending => "pending",
            Financial::Paid => "paid",
            Financial::PartiallyRefunded => "partially_refunded",
            Financial::Refunded => "refunded",
            Financial::Voided => "voided",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tracking {
    pub company: String,
    pub number: String,
    pub url: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Fulfillment {
    pub id: u64,
    pub created: i64,
    pub tracking: Option<Tracking>,
    pub delivered: Option<i64>,
    /// (line index, quantity).
    pub lines: Vec<(usize, i64)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub id: u64,
    pub created: i64,
    pub amount: i64,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct OrderReturn {
    pub id: u64,
    pub name: String,
    /// `REQUESTED`, `OPEN`, `CLOSED`.
    pub status: &'static str,
}

#[derive(Debug, Clone)]
pub(crate) struct Metafield {
    pub id: u64,
    pub namespace: String,
    pub key: String,
    pub kind: String,
    pub value: String,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct FulfillmentOrder {
    pub id: u64,
    /// `OPEN`, `IN_PROGRESS`, `CLOSED`, `CANCELLED`.
    pub status: &'static str,
    pub location: usize,
}

/// An order placed in Shopify.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: u64,
    pub number: u64,
    pub customer: Option<usize>,
    pub email: String,
    pub created: i64,
    pub updated: i64,
    pub lines: Vec<Line>,
    pub financial: Financial,
    pub cancelled: Option<i64>,
    pub cancel_reason: Option<String>,
    pub fulfillments: Vec<Fulfillment>,
    pub refunds: Vec<Refund>,
    pub returns: Vec<OrderReturn>,
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub metafields: Vec<Metafield>,
    pub fulfillment_orders: Vec<FulfillmentOrder>,
    pub address: Address,
    /// The Shopify location the order's stock is committed at.
    pub location: usize,
}

impl Order {
    pub fn name(&self) -> String {
        format!("#{}", self.number)
    }

    pub fn total(&self) -> i64 {
        self.lines.iter().map(|l| l.price * l.quantity).sum()
    }

    pub fn refunded(&self) -> i64 {
        self.refunds.iter().map(|r| r.amount).sum()
    }

    /// How many of line `i` are fulfilled.
    pub fn fulfilled(&self, i: usize) -> i64 {
        self.fulfillments.iter().flat_map(|f| &f.lines).filter(|(l, _)| *l == i).map(|(_, q)| q).sum()
    }

    /// Shopify's `displayFulfillmentStatus`.
    pub fn fulfillment_status(&self) -> &'static str {
        let ordered: i64 = self.lines.iter().map(|l| l.quantity).sum();
        let done: i64 = (0..self.lines.len()).map(|i| self.fulfilled(i)).sum();
        if done == 0 {
            "UNFULFILLED"
        } else if done < ordered {
            "PARTIALLY_FULFILLED"
        } else {
            "FULFILLED"
        }
    }
}

/// ShipBob's `OrderStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShipbobStatus {
    Processing,
    Exception,
    Fulfilled,
    Cancelled,
}

impl ShipbobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ShipbobStatus::Processing => "Processing",
            ShipbobStatus::Exception => "Exception",
            ShipbobStatus::Fulfilled => "Fulfilled",
            ShipbobStatus::Cancelled => "Cancelled",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ShipbobProduct {
    /// The catalogue entry, when the reference id is a known SKU.
    pub item: Option<usize>,
    pub reference_id: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: Option<f64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Shipment {
    pub id: u64,
    pub center: usize,
    pub created: i64,
    pub tracking: Option<Tracking>,
    pub shipped: Option<i64>,
    pub delivered: Option<i64>,
    /// Whether every product was fulfillable when the order came in; if not the shipment waits in `Exception`.
    pub short: bool,
}

impl Shipment {
    /// ShipBob's shipment `status` (`OrderStatusEnum`): `Processing` until shipped, then `Completed`.
    pub fn status(&self, order: ShipbobStatus) -> &'static str {
        if order == ShipbobStatus::Cancelled {
            "Cancelled"
        } else if self.shipped.is_some() {
            "Completed"
        } else if self.short {
            "Exception"
        } else {
            "Processing"
        }
    }
}

/// An order at ShipBob, keyed by the upstream `reference_id`.
#[derive(Debug, Clone)]
pub(crate) struct ShipbobOrder {
    pub id: u64,
    pub reference_id: String,
    pub order_number: String,
    pub channel_id: i64,
    pub created: i64,
    pub purchase_date: Option<String>,
    /// The recipient as the request gave it (ShipBob echoes it).
    pub recipient: serde_json::Value,
    pub products: Vec<ShipbobProduct>,
    pub shipping_method: String,
    pub order_type: String,
    pub tags: serde_json::Value,
    pub total_price: Option<f64>,
    pub status: ShipbobStatus,
    pub shipments: Vec<Shipment>,
}

#[derive(Debug, Clone)]
pub(crate) struct ShipbobReturn {
    pub id: u64,
    pub order: usize,
    pub reference_id: String,
    pub store_order_id: String,
    pub original_shipment_id: u64,
    pub center: usize,
    /// `Awaiting Arrival`, `Arrived`, `Processing`, `Completed`, `Cancelled`.
    pub status: &'static str,
    /// (status, when).
    pub history: Vec<(&'static str, i64)>,
    /// (product index in the order, quantity).
    pub lines: Vec<(usize, i64)>,
    pub created: i64,
    pub completed: Option<i64>,
    pub tracking_number: String,
}

#[derive(Debug, Clone)]
pub(crate) struct ZendeskUser {
    pub id: u64,
    pub name: String,
    pub email: String,
    /// `end-user` or `agent`.
    pub role: &'static str,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct ZendeskComment {
    pub id: u64,
    pub author_id: u64,
    pub body: String,
    pub public: bool,
    pub created: i64,
    /// `web`, `email` or `api`.
    pub channel: &'static str,
}

#[derive(Debug, Clone)]
pub(crate) struct ZendeskTicket {
    pub id: u64,
    pub subject: String,
    pub requester_id: u64,
    pub status: &'static str,
    pub tags: Vec<String>,
    pub comments: Vec<ZendeskComment>,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct GorgiasCustomer {
    pub id: u64,
    pub email: String,
    pub name: String,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct GorgiasMessage {
    pub id: u64,
    /// `email` or `internal-note`.
    pub channel: String,
    /// `email`, `api` or `helpdesk`.
    pub via: String,
    pub from_agent: bool,
    pub sender_email: String,
    pub sender_name: Option<String>,
    pub subject: Option<String>,
    pub body_text: String,
    pub body_html: String,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct GorgiasTicket {
    pub id: u64,
    pub customer: usize,
    pub subject: String,
    pub status: &'static str,
    pub channel: &'static str,
    /// (tag id, name).
    pub tags: Vec<(u64, String)>,
    pub messages: Vec<GorgiasMessage>,
    pub created: i64,
    pub updated: i64,
}

/// Which helpdesk a ticket lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Helpdesk {
    Zendesk,
    Gorgias,
}
