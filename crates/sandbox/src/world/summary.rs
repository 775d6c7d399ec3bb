//! `GET /_sandbox/world`: the whole world at a glance, one line per thing, with every vendor's id for it. Tests
//! and demos read it to find "a customer with two orders" or "the SKU that is short" without guessing.

use serde::Serialize;

use super::ids::gid;
use super::{Helpdesk, World};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorldSummary {
    pub shop_domain: String,
    /// Shopify's locations (`id` a gid).
    pub locations: Vec<PlaceSummary>,
    /// ShipBob's fulfillment centers (`id` a number).
    pub fulfillment_centers: Vec<PlaceSummary>,
    pub skus: Vec<SkuSummary>,
    pub customers: Vec<CustomerSummary>,
    pub orders: Vec<OrderSummary>,
    pub shipbob_orders: Vec<ShipbobOrderSummary>,
    pub tickets: Vec<TicketSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceSummary {
    pub id: serde_json::Value,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineSummary {
    pub sku: Option<String>,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShipmentSummary {
    pub id: u64,
    pub status: &'static str,
    pub tracking_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkuSummary {
    pub sku: String,
    pub title: String,
    /// Minor units.
    pub price: i64,
    pub product_id: String,
    pub variant_id: String,
    pub inventory_item_id: String,
    pub shipbob_inventory_id: u64,
    pub stripe_price: String,
    /// Shopify's count at its (first) location.
    pub shopify_available: i64,
    pub shopify_on_hand: i64,
    pub shopify_committed: i64,
    /// Fulfillable units over every ShipBob center.
    pub shipbob_fulfillable: i64,
    pub shipbob_on_hand: i64,
    /// Shopify's available minus ShipBob's fulfillable.
    pub drift: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerSummary {
    pub email: String,
    pub name: String,
    pub shopify_id: String,
    pub zendesk_user_id: Option<u64>,
    pub gorgias_customer_id: Option<u64>,
    pub stripe_customer_id: Option<String>,
    pub orders: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderSummary {
    /// The gid.
    pub id: String,
    /// The numeric id (what ShipBob's `reference_id` holds for it).
    pub legacy_id: u64,
    pub name: String,
    pub email: String,
    pub financial_status: &'static str,
    pub fulfillment_status: &'static str,
    pub cancelled: bool,
    /// Minor units.
    pub total: i64,
    pub refunded: i64,
    pub lines: Vec<LineSummary>,
    pub tags: Vec<String>,
    pub returns: usize,
    pub tracking_numbers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShipbobOrderSummary {
    pub id: u64,
    pub reference_id: String,
    pub status: &'static str,
    pub shipments: Vec<ShipmentSummary>,
    pub returns: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketSummary {
    pub vendor: Helpdesk,
    pub id: u64,
    pub requester_email: String,
    pub subject: String,
    pub tags: Vec<String>,
    /// Internal notes (Zendesk private comments, Gorgias internal-note messages).
    pub notes: Vec<String>,
    pub messages: usize,
}

impl World {
    pub(crate) fn summary(&self) -> WorldSummary {
        let skus = self
            .skus
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let shop = self.shopify_levels[i][0];
                let fulfillable: i64 = self.center_levels[i].iter().map(|l| l.fulfillable()).sum();
                SkuSummary {
                    sku: s.sku.clone(),
                    title: s.title.clone(),
                    price: s.price,
                    product_id: gid("Product", s.product_id),
                    variant_id: gid("ProductVariant", s.variant_id),
                    inventory_item_id: gid("InventoryItem", s.inventory_item_id),
                    shipbob_inventory_id: s.shipbob_inventory_id,
                    stripe_price: s.stripe_price.clone(),
                    shopify_available: shop.available,
                    shopify_on_hand: shop.on_hand(),
                    shopify_committed: shop.committed,
                    shipbob_fulfillable: fulfillable,
                    shipbob_on_hand: self.center_levels[i].iter().map(|l| l.on_hand).sum(),
                    drift: shop.available - fulfillable,
                }
            })
            .collect();
        let customers = self
            .customers
            .iter()
            .enumerate()
            .map(|(i, c)| CustomerSummary {
                email: c.email.clone(),
                name: c.name(),
                shopify_id: gid("Customer", c.shopify_id),
                zendesk_user_id: c.zendesk_user_id,
                gorgias_customer_id: c.gorgias_id,
                stripe_customer_id: c.stripe_id.clone(),
                orders: self.orders.iter().filter(|o| o.customer == Some(i)).map(|o| o.name()).collect(),
            })
            .collect();
        let orders = self
            .orders
            .iter()
            .map(|o| OrderSummary {
                id: gid("Order", o.id),
                legacy_id: o.id,
                name: o.name(),
                email: o.email.clone(),
                financial_status: o.financial.graphql(),
                fulfillment_status: o.fulfillment_status(),
                cancelled: o.cancelled.is_some(),
                total: o.total(),
                refunded: o.refunded(),
                lines: o
                    .lines
                    .iter()
                    .map(|l| LineSummary { sku: l.sku.clone(), quantity: l.quantity })
                    .collect(),
                tags: o.tags.clone(),
                returns: o.returns.len(),
                tracking_numbers: o
                    .fulfillments
                    .iter()
                    .filter_map(|f| f.tracking.as_ref().map(|t| t.number.clone()))
                    .collect(),
            })
            .collect();
        let shipbob_orders = self
            .shipbob_orders
            .iter()
            .enumerate()
            .map(|(i, o)| ShipbobOrderSummary {
                id: o.id,
                reference_id: o.reference_id.clone(),
                status: o.status.as_str(),
                shipments: o
                    .shipments
                    .iter()
                    .map(|s| ShipmentSummary {
                        id: s.id,
                        status: s.status(o.status),
                        tracking_number: s.tracking.as_ref().map(|t| t.number.clone()),
                    })
                    .collect(),
                returns: self.shipbob_returns.iter().filter(|r| r.order == i).map(|r| r.id).collect(),
            })
            .collect();
        let zendesk = self.zendesk_tickets.iter().map(|t| TicketSummary {
            vendor: Helpdesk::Zendesk,
            id: t.id,
            requester_email: self
                .zendesk_users
                .iter()
                .find(|u| u.id == t.requester_id)
                .map_or_else(String::new, |u| u.email.clone()),
            subject: t.subject.clone(),
            tags: t.tags.clone(),
            notes: t.comments.iter().filter(|c| !c.public).map(|c| c.body.clone()).collect(),
            messages: t.comments.len(),
        });
        let gorgias = self.gorgias_tickets.iter().map(|t| TicketSummary {
            vendor: Helpdesk::Gorgias,
            id: t.id,
            requester_email: self.gorgias_customers[t.customer].email.clone(),
            subject: t.subject.clone(),
            tags: t.tags.iter().map(|(_, n)| n.clone()).collect(),
            notes: t
                .messages
                .iter()
                .filter(|m| m.channel == "internal-note")
                .map(|m| m.body_text.clone())
                .collect(),
            messages: t.messages.len(),
        });
        WorldSummary {
            shop_domain: self.settings.shop_domain.clone(),
            locations: self
                .locations
                .iter()
                .map(|l| PlaceSummary { id: gid("Location", l.id).into(), name: l.name.clone() })
                .collect(),
            fulfillment_centers: self
                .centers
                .iter()
                .map(|c| PlaceSummary { id: c.id.into(), name: c.name.clone() })
                .collect(),
            skus,
            customers,
            orders,
            shipbob_orders,
            tickets: zendesk.chain(gorgias).collect(),
        }
    }
}
