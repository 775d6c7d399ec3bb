//! The sandbox's shared world: one store's catalogue, stock, customers, orders, shipments, returns and tickets,
//! as Stripe, Shopify, ShipBob, Zendesk and Gorgias each know them.
//!
//! [`World`] holds every vendor's state (the Stripe account included) and the rules that keep them one story: an
//! order placed in Shopify commits Shopify's stock; the 3PL order Seam creates for it commits the fulfillment
//! center's; shipping it closes Shopify's fulfillment orders and gives both the same tracking number. Each vendor
//! face adds an `impl World` block for its own rules and renders the same facts in its own shapes.
//!
//! The world does no I/O and never reads the clock or draws randomness: `now` (Unix seconds, or milliseconds
//! where Shopify's bucket needs them) is an argument, and ids come from the seed and the start's salt
//! ([`ids`]). Webhooks it emits wait in an outbox the server drains and delivers.

pub(crate) mod ids;
pub(crate) mod model;
mod seed;
pub(crate) mod stock;
mod summary;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::calls::CallRecord;
use crate::config::Vendor;
use crate::scenario::Scenario;
use crate::state::{DeliveryAttempt, DeliveryStatus, Sandbox};
pub(crate) use ids::{Ids, Kind};
pub(crate) use model::*;
pub use summary::{
    CustomerSummary, LineSummary, OrderSummary, PlaceSummary, ShipbobOrderSummary, ShipmentSummary,
    SkuSummary, TicketSummary, WorldSummary,
};

/// What the world is made from, besides `now`.
#[derive(Debug, Clone)]
pub(crate) struct WorldSettings {
    pub seed: u64,
    /// Salts the ids of everything created after the seeded history (see [`ids`]).
    pub salt: u64,
    pub scenario: Scenario,
    pub shop_domain: String,
    /// (maximum available, restore rate per second).
    pub bucket: (f64, f64),
    pub max_query_cost: u64,
    pub channel_id: i64,
    /// The vendors whose webhooks are delivered; the others' are listed as not configured.
    pub delivered: BTreeSet<Vendor>,
}

/// A webhook a vendor sent (or would have sent), with its delivery record. Stripe's are
/// [`crate::EventRecord`]s and are listed here too (`GET /_sandbox/webhooks`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookRecord {
    /// The id the receiver deduplicates by: `X-Shopify-Webhook-Id`, `webhook-id`, the body's `id`.
    pub id: String,
    pub source: Vendor,
    /// `orders/create`, `order.shipped`, `zen:event-type:ticket.created`, `ticket-created`, `invoice.paid`, ...
    pub topic: String,
    pub created: i64,
    /// What the webhook is about: the order, shipment, ticket or invoice id.
    pub object_id: String,
    pub delivery: DeliveryStatus,
    pub attempts: Vec<DeliveryAttempt>,
    /// The headers that name the webhook (`X-Shopify-Topic`, `webhook-id`, ...); the signature and its
    /// timestamp are added at each attempt.
    pub headers: Vec<(String, String)>,
    /// The body as delivered.
    pub payload: Value,
    /// The exact bytes POSTed (and signed).
    #[serde(skip)]
    pub body: String,
}

/// A webhook waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// A Stripe event, by id.
    Stripe(String),
    /// Another vendor's webhook, by index in the world's list.
    Webhook(usize),
}

/// Shopify's leaky bucket of query cost points.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    pub maximum: f64,
    pub restore_rate: f64,
    pub available: f64,
    pub at_ms: i64,
}

impl Bucket {
    /// The points available at `now_ms`.
    pub fn level(&mut self, now_ms: i64) -> f64 {
        let elapsed = (now_ms - self.at_ms).max(0) as f64 / 1_000.0;
        self.available = (self.available + elapsed * self.restore_rate).min(self.maximum);
        self.at_ms = now_ms.max(self.at_ms);
        self.available
    }
}

/// A mutation answered under an `@idempotent` key: replayed for the same key.
#[derive(Debug, Clone)]
pub(crate) struct SavedMutation {
    pub field: String,
    pub arguments: Value,
    pub answer: Value,
}

/// The whole world. See the module documentation.
#[derive(Debug)]
pub struct World {
    pub(crate) settings: WorldSettings,
    pub(crate) ids: Ids,
    pub(crate) stripe: Sandbox,
    pub(crate) skus: Vec<Sku>,
    pub(crate) locations: Vec<Place>,
    pub(crate) centers: Vec<Place>,
    /// `[sku][location]`.
    pub(crate) shopify_levels: Vec<Vec<ShopifyLevel>>,
    /// `[sku][center]`.
    pub(crate) center_levels: Vec<Vec<CenterLevel>>,
    pub(crate) customers: Vec<Customer>,
    pub(crate) orders: Vec<Order>,
    pub(crate) next_order_number: u64,
    pub(crate) shipbob_orders: Vec<ShipbobOrder>,
    pub(crate) shipbob_returns: Vec<ShipbobReturn>,
    pub(crate) zendesk_users: Vec<ZendeskUser>,
    /// The agent Seam's API calls act as in Zendesk.
    pub(crate) zendesk_agent: usize,
    pub(crate) zendesk_tickets: Vec<ZendeskTicket>,
    pub(crate) gorgias_customers: Vec<GorgiasCustomer>,
    pub(crate) gorgias_tickets: Vec<GorgiasTicket>,
    pub(crate) gorgias_tags: Vec<(u64, String)>,
    pub(crate) bucket: Bucket,
    pub(crate) idempotent: HashMap<String, SavedMutation>,
    pub(crate) log: Vec<CallRecord>,
    webhooks: Vec<WebhookRecord>,
    outbox: Vec<Outgoing>,
}

impl World {
    /// The seeded world at `now`: see [`seed`] for what it holds.
    pub(crate) fn new(settings: WorldSettings, now: i64) -> World {
        let stripe = Sandbox::new(
            settings.seed,
            settings.scenario.clone(),
            settings.delivered.contains(&Vendor::Stripe),
        );
        let bucket = Bucket {
            maximum: settings.bucket.0,
            restore_rate: settings.bucket.1,
            available: settings.bucket.0,
            at_ms: now * 1_000,
        };
        let mut world = World {
            ids: Ids::new(settings.seed),
            settings,
            stripe,
            skus: Vec::new(),
            locations: Vec::new(),
            centers: Vec::new(),
            shopify_levels: Vec::new(),
            center_levels: Vec::new(),
            customers: Vec::new(),
            orders: Vec::new(),
            next_order_number: 1001,
            shipbob_orders: Vec::new(),
            shipbob_returns: Vec::new(),
            zendesk_users: Vec::new(),
            zendesk_agent: 0,
            zendesk_tickets: Vec::new(),
            gorgias_customers: Vec::new(),
            gorgias_tickets: Vec::new(),
            gorgias_tags: Vec::new(),
            bucket,
            idempotent: HashMap::new(),
            log: Vec::new(),
            webhooks: Vec::new(),
            outbox: Vec::new(),
        };
        world.seed(now);
        world.ids.start_epoch(world.settings.salt);
        // The seeded history emitted nothing; whatever it did to the Stripe account is history too.
        let _ = world.stripe.take_outbox();
        world
    }

    /// Webhooks emitted since the last call, oldest first, for delivery.
    pub(crate) fn take_outbox(&mut self) -> Vec<Outgoing> {
        let mut out: Vec<Outgoing> = self.stripe.take_outbox().into_iter().map(Outgoing::Stripe).collect();
        out.append(&mut self.outbox);
        out
    }

    /// Records a webhook from `source` and queues it when that source is delivered.
    pub(crate) fn emit(
        &mut self,
        source: Vendor,
        (id, topic): (String, &str),
        object_id: String,
        headers: Vec<(String, String)>,
        payload: Value,
        now: i64,
    ) {
        let delivered = self.settings.delivered.contains(&source);
        let body = payload.to_string();
        self.webhooks.push(WebhookRecord {
            id,
            source,
            topic: topic.to_owned(),
            created: now,
            object_id,
            delivery: if delivered { DeliveryStatus::Pending } else { DeliveryStatus::NotConfigured },
            attempts: Vec::new(),
            headers,
            payload,
            body,
        });
        if delivered {
            self.outbox.push(Outgoing::Webhook(self.webhooks.len() - 1));
        }
    }

    /// Sends webhook `id` again, the same id and body (a vendor redelivering, or a duplicate): true when it is
    /// queued, false when no delivered webhook has that id.
    pub(crate) fn redeliver(&mut self, id: &str, times: u32) -> bool {
        let Some(at) = self.webhooks.iter().position(|w| w.id == id) else {
            return (0..times).all(|_| self.stripe.requeue(id));
        };
        if !self.settings.delivered.contains(&self.webhooks[at].source) {
            return false;
        }
        self.webhooks[at].delivery = DeliveryStatus::Pending;
        for _ in 0..times {
            self.outbox.push(Outgoing::Webhook(at));
        }
        true
    }

    pub(crate) fn webhook(&self, index: usize) -> Option<&WebhookRecord> {
        self.webhooks.get(index)
    }

    pub(crate) fn webhook_mut(&mut self, index: usize) -> Option<&mut WebhookRecord> {
        self.webhooks.get_mut(index)
    }

    /// Every webhook emitted, Stripe's events included, oldest first within each vendor.
    pub(crate) fn webhooks(&self) -> Vec<WebhookRecord> {
        let stripe = self.stripe.events().iter().map(|e| WebhookRecord {
            id: e.id.clone(),
            source: Vendor::Stripe,
            topic: e.event_type.clone(),
            created: e.created,
            object_id: e.object_id.clone(),
            delivery: e.delivery,
            attempts: e.attempts.clone(),
            headers: Vec::new(),
            payload: e.event.clone(),
            body: e.body.clone(),
        });
        stripe.chain(self.webhooks.iter().cloned()).collect()
    }

    /// The webhooks of every vendor but Stripe emitted after the first `seen`, oldest first.
    pub(crate) fn webhooks_after(&self, seen: usize) -> Vec<WebhookRecord> {
        self.webhooks.get(seen..).unwrap_or_default().to_vec()
    }

    /// Every webhook's delivery is final.
    pub(crate) fn settled(&self) -> bool {
        self.stripe.settled() && self.webhooks.iter().all(|w| w.delivery.is_final())
    }

    pub(crate) fn sku_index(&self, sku: &str) -> Option<usize> {
        self.skus.iter().position(|s| s.sku == sku)
    }

    pub(crate) fn customer_by_email(&self, email: &str) -> Option<usize> {
        self.customers.iter().position(|c| c.email.eq_ignore_ascii_case(email.trim()))
    }

    pub(crate) fn order_index(&self, id: u64) -> Option<usize> {
        self.orders.iter().position(|o| o.id == id)
    }

    /// The Shopify order a 3PL `reference_id` names: its numeric id, or its gid.
    pub(crate) fn order_for_reference(&self, reference_id: &str) -> Option<usize> {
        let id = ids::gid_number(reference_id)?;
        if reference_id.contains('/') && !reference_id.starts_with("gid://shopify/Order/") {
            return None;
        }
        self.order_index(id)
    }

    /// A new customer known to Shopify only (the other vendors learn of them when they write in or pay).
    pub(crate) fn add_customer(&mut self, email: &str, name: Option<&str>, now: i64) -> usize {
        let (first, last) = split_name(name.unwrap_or(""), email);
        let address = seed::address(self.settings.seed, self.customers.len() as u64);
        self.customers.push(Customer {
            first,
            last,
            email: email.trim().to_owned(),
            phone: None,
            address,
            created: now,
            shopify_id: self.ids.next(Kind::Customer),
            zendesk_user_id: None,
            gorgias_id: None,
            stripe_id: None,
        });
        self.customers.len() - 1
    }
}

/// "Ada Okafor" → ("Ada", "Okafor"); no name → the e-mail's local part.
pub(crate) fn split_name(name: &str, email: &str) -> (String, String) {
    let name = name.trim();
    let name = if name.is_empty() { email.split('@').next().unwrap_or(email) } else { name };
    match name.split_once(' ') {
        Some((first, last)) => (first.to_owned(), last.trim().to_owned()),
        None => (name.to_owned(), String::new()),
    }
}
