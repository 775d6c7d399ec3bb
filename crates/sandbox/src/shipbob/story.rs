//! ShipBob's rules in the world: an order is created once per `reference_id`; it commits stock at the
//! fulfillment center that can ship it; shipping and delivering it are the warehouse's doing (admin endpoints), and
//! when its `reference_id` names a Shopify order, Shopify learns of it the way ShipBob's Shopify app tells it
//! (a fulfillment with the same tracking number). A return is created against a shipped order, refunds the
//! Shopify order when asked, and restocks the center when it completes.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::config::Vendor;
use crate::world::{
    Kind, OrderReturn, ShipbobOrder, ShipbobProduct, ShipbobReturn, ShipbobStatus, Shipment, World,
};

/// Why ShipBob refused a create.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Refusal {
    /// 400, with ShipBob's `{"Field": ["message"]}` body.
    Invalid(BTreeMap<String, Vec<String>>),
    /// 422: the reference id is already used.
    Duplicate,
}

/// A create request, validated.
#[derive(Debug, Clone)]
pub(crate) struct NewShipbobOrder {
    pub reference_id: String,
    pub order_number: Option<String>,
    pub recipient: Json,
    /// (reference id, name, quantity, unit price).
    pub products: Vec<(String, Option<String>, i64, Option<f64>)>,
    pub shipping_method: String,
    pub order_type: String,
    pub tags: Json,
    pub purchase_date: Option<String>,
    pub total_price: Option<f64>,
}

impl World {
    pub(crate) fn shipbob_by_reference(&self, reference_id: &str) -> Option<usize> {
        self.shipbob_orders.iter().position(|o| o.reference_id == reference_id)
    }

    pub(crate) fn shipbob_index(&self, id: u64) -> Option<usize> {
        self.shipbob_orders.iter().position(|o| o.id == id)
    }

    /// Creates the order and its shipment, committing stock. Refused when a product is neither known nor named,
    /// or when the reference id is already used.
    pub(crate) fn create_shipbob_order(&mut self, new: NewShipbobOrder, now: i64) -> Result<usize, Refusal> {
        let unnamed: BTreeMap<String, Vec<String>> = new
            .products
            .iter()
            .enumerate()
            .filter(|(_, (reference, name, _, _))| name.is_none() && self.sku_index(reference).is_none())
            .map(|(i, (reference, _, _, _))| {
                let message =
                    format!("Name is required when there is no product with ReferenceId '{reference}'.");
                (format!("Products[{i}].Name"), vec![message])
            })
            .collect();
        if !unnamed.is_empty() {
            return Err(Refusal::Invalid(unnamed));
        }
        if self.shipbob_by_reference(&new.reference_id).is_some() {
            return Err(Refusal::Duplicate);
        }
        let products: Vec<ShipbobProduct> = new
            .products
            .into_iter()
            .map(|(reference_id, name, quantity, unit_price)| {
                let item = self.sku_index(&reference_id);
                let name = name
                    .or_else(|| item.map(|i| self.skus[i].title.clone()))
                    .unwrap_or_else(|| reference_id.clone());
                ShipbobProduct { item, reference_id, name, quantity, unit_price }
            })
            .collect();
        let wanted: Vec<(usize, i64)> =
            products.iter().filter_map(|p| p.item.map(|i| (i, p.quantity))).collect();
        let unknown = products.iter().any(|p| p.item.is_none());
        let (center, short) = self.choose_center(&wanted);
        self.commit_center(&wanted, center, 1);
        let short = short || unknown;
        let order = ShipbobOrder {
            id: self.ids.next(Kind::ShipbobOrder),
            order_number: new.order_number.unwrap_or_else(|| new.reference_id.clone()),
            reference_id: new.reference_id,
            channel_id: self.settings.channel_id,
            created: now,
            purchase_date: new.purchase_date,
            recipient: new.recipient,
            products,
            shipping_method: new.shipping_method,
            order_type: new.order_type,
            tags: new.tags,
            total_price: new.total_price,
            status: if short { ShipbobStatus::Exception } else { ShipbobStatus::Processing },
            shipments: vec![Shipment {
                id: self.ids.next(Kind::Shipment),
                center,
                created: now,
                tracking: None,
                shipped: None,
                delivered: None,
                short,
            }],
        };
        self.shipbob_orders.push(order);
        Ok(self.shipbob_orders.len() - 1)
    }

    /// The 3PL order for Shopify order `order`, as Seam (or ShipBob's Shopify app) would create it.
    pub(crate) fn shipbob_order_for_shopify(&mut self, order: usize, now: i64) -> usize {
        let o = &self.orders[order];
        let customer = o.customer.map(|c| &self.customers[c]);
        let recipient = json!({
            "name": customer.map_or_else(String::new, |c| c.name()),
            "email": o.email,
            "address": {
                "address1": o.address.address1, "address2": null, "city": o.address.city,
                "state": o.address.province_code, "zip_code": o.address.zip, "country": o.address.country_code,
            },
        });
        let new = NewShipbobOrder {
            reference_id: o.id.to_string(),
            order_number: Some(o.name()),
            recipient,
            products: o
                .lines
                .iter()
                .filter_map(|l| {
                    l.sku
                        .clone()
                        .map(|s| (s, Some(l.title.clone()), l.quantity, Some(l.price as f64 / 100.0)))
                })
                .collect(),
            shipping_method: "Standard".to_owned(),
            order_type: "DTC".to_owned(),
            tags: json!([]),
            purchase_date: Some(crate::world::ids::utc(o.created)),
            total_price: Some(o.total() as f64 / 100.0),
        };
        self.create_shipbob_order(new, now)
            .unwrap_or_else(|e| unreachable!("a seeded Shopify order is sent to the 3PL once: {e:?}"))
    }

    fn wanted(&self, at: usize) -> Vec<(usize, i64)> {
        self.shipbob_orders[at].products.iter().filter_map(|p| p.item.map(|i| (i, p.quantity))).collect()
    }

    /// The warehouse ships order `at`: tracking, stock out of the center, and Shopify's fulfillment with the same
    /// tracking when the reference id names a Shopify order.
    pub(crate) fn ship_shipbob_order(&mut self, at: usize, now: i64) -> Result<(), String> {
        let order = &self.shipbob_orders[at];
        match order.status {
            ShipbobStatus::Cancelled => return Err(format!("ShipBob order {} is cancelled", order.id)),
            ShipbobStatus::Fulfilled => {
                return Err(format!("ShipBob order {} has already shipped", order.id));
            }
            _ => {}
        }
        let center = order.shipments[0].center;
        let wanted = self.wanted(at);
        self.ship_from_center(&wanted, center);
        let tracking = self.new_tracking();
        let order = &mut self.shipbob_orders[at];
        order.status = ShipbobStatus::Fulfilled;
        let shipment = &mut order.shipments[0];
        shipment.short = false;
        shipment.shipped = Some(now);
        shipment.tracking = Some(tracking.clone());
        let reference = order.reference_id.clone();
        if let Some(shop) = self.order_for_reference(&reference) {
            self.fulfill_in_shopify(shop, Some(tracking), now);
        }
        Ok(())
    }

    /// The carrier delivers order `at`'s shipment.
    pub(crate) fn deliver_shipbob_order(&mut self, at: usize, now: i64) -> Result<(), String> {
        let order = &mut self.shipbob_orders[at];
        let id = order.id;
        let shipment = &mut order.shipments[0];
        if shipment.shipped.is_none() {
            return Err(format!("ShipBob order {id} has not shipped"));
        }
        if shipment.delivered.is_some() {
            return Err(format!("ShipBob order {id} was already delivered"));
        }
        shipment.delivered = Some(now);
        let number = shipment.tracking.as_ref().map(|t| t.number.clone());
        let reference = order.reference_id.clone();
        if let Some(shop) = self.order_for_reference(&reference) {
            for f in &mut self.orders[shop].fulfillments {
                if f.tracking.as_ref().map(|t| &t.number) == number.as_ref() {
                    f.delivered = Some(now);
                }
            }
        }
        Ok(())
    }

    /// The customer sends order `at` back: a ShipBob return awaiting arrival, a Shopify return, and a refund of
    /// what is left to refund when `refund`.
    pub(crate) fn create_return(&mut self, at: usize, refund: bool, now: i64) -> Result<usize, String> {
        let order = &self.shipbob_orders[at];
        let shipment = &order.shipments[0];
        if shipment.shipped.is_none() {
            return Err(format!("ShipBob order {} has not shipped; nothing to return", order.id));
        }
        let id = self.ids.next(Kind::ShipbobReturn);
        let tracking = self.new_tracking();
        let order = &self.shipbob_orders[at];
        let r = ShipbobReturn {
            id,
            order: at,
            reference_id: order.reference_id.clone(),
            store_order_id: order.reference_id.clone(),
            original_shipment_id: order.shipments[0].id,
            center: order.shipments[0].center,
            status: "Awaiting Arrival",
            history: vec![("Awaiting Arrival", now)],
            lines: order.products.iter().enumerate().map(|(i, p)| (i, p.quantity)).collect(),
            created: now,
            completed: None,
            tracking_number: tracking.number,
        };
        let reference = order.reference_id.clone();
        self.shipbob_returns.push(r);
        if let Some(shop) = self.order_for_reference(&reference) {
            let return_id = self.ids.next(Kind::ShopifyReturn);
            let o = &mut self.orders[shop];
            let name = format!("{}-R{}", o.name(), o.returns.len() + 1);
            o.returns.push(OrderReturn { id: return_id, name, status: "OPEN" });
            o.updated = now;
            if refund {
                self.refund_in_shopify(shop, None, "Return", now);
            }
        }
        Ok(self.shipbob_returns.len() - 1)
    }

    /// The return arrives and is restocked; Shopify's return closes.
    pub(crate) fn complete_return(&mut self, at: usize, now: i64) {
        let r = &mut self.shipbob_returns[at];
        r.status = "Completed";
        r.history.push(("Arrived", now));
        r.history.push(("Processing", now));
        r.history.push(("Completed", now));
        r.completed = Some(now);
        let (order, center, lines) = (r.order, r.center, r.lines.clone());
        for (product, quantity) in lines {
            if let Some(item) = self.shipbob_orders[order].products[product].item {
                self.restock_center(item, center, quantity);
            }
        }
        let reference = self.shipbob_orders[order].reference_id.clone();
        if let Some(shop) = self.order_for_reference(&reference) {
            for ret in &mut self.orders[shop].returns {
                ret.status = "CLOSED";
            }
        }
    }

    /// Records a ShipBob webhook (`order.shipped`, `order.shipment.delivered`, `return.created`, ...).
    pub(crate) fn emit_shipbob(&mut self, topic: &str, object_id: String, body: Json, now: i64) {
        let id = self.ids.token_id("msg_", 27);
        let headers =
            vec![("webhook-id".to_owned(), id.clone()), ("x-webhook-topic".to_owned(), topic.to_owned())];
        self.emit(Vendor::Shipbob, (id, topic), object_id, headers, body, now);
    }
}
