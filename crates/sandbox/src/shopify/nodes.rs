//! The world's things as Shopify's GraphQL objects, whole, in GraphQL's names. [`super::select`] cuts them down
//! to what a query selected. Ids are gids (text, so 64-bit exact); `UnsignedInt64` fields (`numberOfOrders`,
//! `legacyResourceId`) are strings, as Shopify serializes them; money is `MoneyBag { shopMoney { amount
//! currencyCode } }` with `amount` a `Decimal` string.

use serde_json::{Value as Json, json};

use crate::world::ids::{decimal, gid, utc};
use crate::world::{Address, Order, World};

pub(crate) const CURRENCY: &str = "USD";

pub(crate) fn money(cents: i64) -> Json {
    json!({ "__typename": "MoneyV2", "amount": decimal(cents), "currencyCode": CURRENCY })
}

pub(crate) fn money_bag(cents: i64) -> Json {
    json!({ "__typename": "MoneyBag", "shopMoney": money(cents), "presentmentMoney": money(cents) })
}

pub(crate) fn connection(node_type: &str, nodes: Vec<Json>) -> Json {
    json!({ "__typename": format!("{node_type}Connection"), "nodes": nodes })
}

fn address(a: &Address, name: &str) -> Json {
    json!({
        "__typename": "MailingAddress",
        "name": name,
        "address1": a.address1,
        "address2": null,
        "city": a.city,
        "province": a.province,
        "provinceCode": a.province_code,
        "zip": a.zip,
        "country": a.country,
        "countryCodeV2": a.country_code,
    })
}

impl World {
    pub(crate) fn customer_node(&self, at: usize) -> Json {
        let c = &self.customers[at];
        let orders: Vec<&Order> = self.orders.iter().filter(|o| o.customer == Some(at)).collect();
        let spent: i64 =
            orders.iter().filter(|o| o.cancelled.is_none()).map(|o| o.total() - o.refunded()).sum();
        json!({
            "__typename": "Customer",
            "id": gid("Customer", c.shopify_id),
            "legacyResourceId": c.shopify_id.to_string(),
            "email": c.email,
            "firstName": c.first,
            "lastName": c.last,
            "displayName": c.name(),
            "phone": c.phone,
            "state": "ENABLED",
            "verifiedEmail": true,
            "numberOfOrders": orders.len().to_string(),
            "amountSpent": money(spent),
            "createdAt": utc(c.created),
            "updatedAt": utc(c.created),
            "note": null,
            "tags": [],
            "defaultAddress": address(&c.address, &c.name()),
        })
    }

    pub(crate) fn order_node(&self, at: usize) -> Json {
        let o = &self.orders[at];
        let shipping_name = o.customer.map_or_else(String::new, |c| self.customers[c].name());
        let lines: Vec<Json> = o
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let item = l.item.map(|k| &self.skus[k]);
                let unfulfilled = if o.cancelled.is_some() { 0 } else { l.quantity - o.fulfilled(i) };
                json!({
                    "__typename": "LineItem",
                    "id": gid("LineItem", l.id),
                    "sku": l.sku,
                    "title": l.title,
                    "name": l.title,
                    "variantTitle": null,
                    "quantity": l.quantity,
                    "currentQuantity": if o.cancelled.is_some() { 0 } else { l.quantity },
                    "unfulfilledQuantity": unfulfilled,
                    "requiresShipping": true,
                    "originalUnitPriceSet": money_bag(l.price),
                    "discountedUnitPriceSet": money_bag(l.price),
                    "originalTotalSet": money_bag(l.price * l.quantity),
                    "variant": item.map(|s| json!({
                        "__typename": "ProductVariant",
                        "id": gid("ProductVariant", s.variant_id),
                        "sku": s.sku,
                        "title": "Default Title",
                    })),
                    "product": item.map(|s| json!({
                        "__typename": "Product",
                        "id": gid("Product", s.product_id),
                        "title": s.title,
                    })),
                })
            })
            .collect();
        let fulfillments: Vec<Json> = o
            .fulfillments
            .iter()
            .enumerate()
            .map(|(n, f)| {
                json!({
                    "__typename": "Fulfillment",
                    "id": gid("Fulfillment", f.id),
                    "name": format!("{}-F{}", o.name(), n + 1),
                    "status": "SUCCESS",
                    "displayStatus": if f.delivered.is_some() { "DELIVERED" } else if f.tracking.is_some() { "IN_TRANSIT" } else { "FULFILLED" },
                    "createdAt": utc(f.created),
                    "updatedAt": utc(f.delivered.unwrap_or(f.created)),
                    "deliveredAt": f.delivered.map(utc),
                    "inTransitAt": f.tracking.as_ref().map(|_| utc(f.created)),
                    "trackingInfo": f.tracking.iter().map(|t| json!({
                        "__typename": "FulfillmentTrackingInfo",
                        "number": t.number,
                        "url": t.url,
                        "company": t.company,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let refunds: Vec<Json> = o
            .refunds
            .iter()
            .map(|r| {
                json!({
                    "__typename": "Refund",
                    "id": gid("Refund", r.id),
                    "createdAt": utc(r.created),
                    "note": r.note,
                    "totalRefundedSet": money_bag(r.amount),
                })
            })
            .collect();
        let returns: Vec<Json> = o
            .returns
            .iter()
            .map(|r| json!({ "__typename": "Return", "id": gid("Return", r.id), "name": r.name, "status": r.status }))
            .collect();
        let fulfillment_orders: Vec<Json> = o
            .fulfillment_orders
            .iter()
            .map(|fo| {
                let place = &self.locations[fo.location];
                json!({
                    "__typename": "FulfillmentOrder",
                    "id": gid("FulfillmentOrder", fo.id),
                    "status": fo.status,
                    "requestStatus": "UNSUBMITTED",
                    "assignedLocation": {
                        "__typename": "FulfillmentOrderAssignedLocation",
                        "name": place.name,
                        "location": { "__typename": "Location", "id": gid("Location", place.id), "name": place.name },
                    },
                })
            })
            .collect();
        let metafields: Vec<Json> = o
            .metafields
            .iter()
            .map(|m| {
                json!({
                    "__typename": "Metafield",
                    "id": gid("Metafield", m.id),
                    "namespace": m.namespace,
                    "key": m.key,
                    "type": m.kind,
                    "value": m.value,
                    "ownerType": "ORDER",
                    "createdAt": utc(m.created),
                    "updatedAt": utc(m.updated),
                })
            })
            .collect();
        let total = o.total();
        json!({
            "__typename": "Order",
            "id": gid("Order", o.id),
            "legacyResourceId": o.id.to_string(),
            "name": o.name(),
            "email": o.email,
            "phone": null,
            "createdAt": utc(o.created),
            "updatedAt": utc(o.updated),
            "processedAt": utc(o.created),
            "cancelledAt": o.cancelled.map(utc),
            "cancelReason": o.cancel_reason.as_ref().map(|r| r.to_ascii_uppercase()),
            "closed": o.cancelled.is_some() || o.fulfillment_status() == "FULFILLED",
            "confirmed": true,
            "test": false,
            "sourceName": "web",
            "currencyCode": CURRENCY,
            "displayFinancialStatus": o.financial.graphql(),
            "displayFulfillmentStatus": o.fulfillment_status(),
            "totalPriceSet": money_bag(total),
            "subtotalPriceSet": money_bag(total),
            "currentTotalPriceSet": money_bag(if o.cancelled.is_some() { 0 } else { total - o.refunded() }),
            "totalRefundedSet": money_bag(o.refunded()),
            "totalShippingPriceSet": money_bag(0),
            "totalTaxSet": money_bag(0),
            "note": o.note,
            "tags": o.tags,
            "customer": o.customer.map(|c| self.customer_node(c)),
            "shippingAddress": address(&o.address, &shipping_name),
            "lineItems": connection("LineItem", lines),
            "fulfillments": fulfillments,
            "refunds": refunds,
            "returns": connection("Return", returns),
            "fulfillmentOrders": connection("FulfillmentOrder", fulfillment_orders),
            "metafields": connection("Metafield", metafields),
        })
    }

    pub(crate) fn location_node(&self, at: usize) -> Json {
        let place = &self.locations[at];
        json!({
            "__typename": "Location",
            "id": gid("Location", place.id),
            "legacyResourceId": place.id.to_string(),
            "name": place.name,
            "isActive": true,
            "fulfillsOnlineOrders": true,
        })
    }

    pub(crate) fn level_node(&self, item: usize, location: usize) -> Json {
        let level = self.shopify_levels[item][location];
        let s = &self.skus[item];
        let place = &self.locations[location];
        let incoming: i64 = self.center_levels[item].iter().map(|l| l.awaiting).sum();
        let quantity = |name: &str, quantity: i64| json!({ "__typename": "InventoryQuantity", "name": name, "quantity": quantity, "updatedAt": utc(level.updated) });
        json!({
            "__typename": "InventoryLevel",
            "id": format!("gid://shopify/InventoryLevel/{}?inventory_item_id={}", place.id, s.inventory_item_id),
            "updatedAt": utc(level.updated),
            "location": self.location_node(location),
            "item": { "__typename": "InventoryItem", "id": gid("InventoryItem", s.inventory_item_id), "sku": s.sku },
            "quantities": [
                quantity("available", level.available),
                quantity("committed", level.committed),
                quantity("damaged", 0),
                quantity("incoming", incoming),
                quantity("on_hand", level.on_hand()),
                quantity("quality_control", 0),
                quantity("reserved", 0),
                quantity("safety_stock", 0),
            ],
        })
    }

    pub(crate) fn variant_node(&self, item: usize) -> Json {
        let s = &self.skus[item];
        let levels: Vec<Json> = (0..self.locations.len()).map(|l| self.level_node(item, l)).collect();
        let available: i64 = self.shopify_levels[item].iter().map(|l| l.available).sum();
        json!({
            "__typename": "ProductVariant",
            "id": gid("ProductVariant", s.variant_id),
            "legacyResourceId": s.variant_id.to_string(),
            "sku": s.sku,
            "title": "Default Title",
            "displayName": format!("{} - Default Title", s.title),
            "price": format!("{}.{:02}", s.price / 100, s.price % 100),
            "inventoryQuantity": available,
            "product": {
                "__typename": "Product",
                "id": gid("Product", s.product_id),
                "title": s.title,
                "handle": s.sku.to_ascii_lowercase(),
            },
            "inventoryItem": {
                "__typename": "InventoryItem",
                "id": gid("InventoryItem", s.inventory_item_id),
                "legacyResourceId": s.inventory_item_id.to_string(),
                "sku": s.sku,
                "tracked": true,
                "inventoryLevels": connection("InventoryLevel", levels),
            },
        })
    }

    pub(crate) fn shop_node(&self) -> Json {
        json!({
            "__typename": "Shop",
            "name": "Seam Sandbox Supply Co.",
            "email": "owner@seam-sandbox.example",
            "myshopifyDomain": self.settings.shop_domain,
            "currencyCode": CURRENCY,
            "ianaTimezone": "Etc/UTC",
        })
    }
}
