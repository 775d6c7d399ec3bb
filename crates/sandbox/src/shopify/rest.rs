//! Shopify's webhook bodies: the REST-shaped resource, as in `fixtures/shopify/webhooks/orders__create.payload.json`
//! and `inventory_levels__update.payload.json`. Numeric ids are JSON integers written exactly (a receiver that
//! reads them as doubles rounds them, which is why each carries `admin_graphql_api_id`).

use serde_json::{Value as Json, json};

use crate::world::ids::{gid, rest_money, shop_time, utc_millis};
use crate::world::{Address, World};

fn money_set(cents: i64) -> Json {
    let money = json!({ "amount": rest_money(cents), "currency_code": "USD" });
    json!({ "shop_money": money, "presentment_money": money })
}

fn address(a: &Address, first: &str, last: &str) -> Json {
    json!({
        "first_name": first,
        "last_name": last,
        "name": format!("{first} {last}").trim().to_owned(),
        "address1": a.address1,
        "address2": null,
        "city": a.city,
        "province": a.province,
        "province_code": a.province_code,
        "zip": a.zip,
        "country": a.country,
        "country_code": a.country_code,
        "company": null,
        "phone": null,
        "latitude": null,
        "longitude": null,
    })
}

impl World {
    /// The order as `orders/create` carries it.
    pub(crate) fn order_rest(&self, at: usize) -> Json {
        let o = &self.orders[at];
        let customer = o.customer.map(|c| &self.customers[c]);
        let (first, last) = customer.map_or(("", ""), |c| (c.first.as_str(), c.last.as_str()));
        let lines: Vec<Json> = o
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let item = l.item.map(|k| &self.skus[k]);
                let fulfilled = o.fulfilled(i);
                json!({
                    "id": l.id,
                    "admin_graphql_api_id": gid("LineItem", l.id),
                    "current_quantity": l.quantity,
                    "fulfillable_quantity": l.quantity - fulfilled,
                    "fulfillment_service": "manual",
                    "fulfillment_status": if fulfilled >= l.quantity { Some("fulfilled") } else { None },
                    "gift_card": false,
                    "grams": item.map_or(0, |s| s.grams),
                    "name": l.title,
                    "price": rest_money(l.price),
                    "price_set": money_set(l.price),
                    "product_exists": item.is_some(),
                    "product_id": item.map(|s| s.product_id),
                    "properties": [],
                    "quantity": l.quantity,
                    "requires_shipping": true,
                    "sku": l.sku,
                    "taxable": true,
                    "title": l.title,
                    "total_discount": "0.00",
                    "total_discount_set": money_set(0),
                    "variant_id": item.map(|s| s.variant_id),
                    "variant_inventory_management": item.map(|_| "shopify"),
                    "variant_title": null,
                    "vendor": "Seam Sandbox Supply Co.",
                    "tax_lines": [],
                    "duties": [],
                    "discount_allocations": [],
                })
            })
            .collect();
        let total = o.total();
        let customer_json = customer.map(|c| {
            json!({
                "id": c.shopify_id,
                "admin_graphql_api_id": gid("Customer", c.shopify_id),
                "email": c.email,
                "first_name": c.first,
                "last_name": c.last,
                "phone": c.phone,
                "state": "enabled",
                "verified_email": true,
                "currency": "USD",
                "tax_exempt": false,
                "tax_exemptions": [],
                "note": null,
                "multipass_identifier": null,
                "created_at": shop_time(c.created),
                "updated_at": shop_time(c.created),
                "default_address": address(&c.address, &c.first, &c.last),
            })
        });
        json!({
            "id": o.id,
            "admin_graphql_api_id": gid("Order", o.id),
            "app_id": null,
            "browser_ip": null,
            "buyer_accepts_marketing": false,
            "cancel_reason": o.cancel_reason,
            "cancelled_at": o.cancelled.map(shop_time),
            "closed_at": null,
            "confirmation_number": null,
            "confirmed": true,
            "contact_email": o.email,
            "created_at": shop_time(o.created),
            "currency": "USD",
            "current_subtotal_price": rest_money(total),
            "current_subtotal_price_set": money_set(total),
            "current_total_discounts": "0.00",
            "current_total_price": rest_money(total - o.refunded()),
            "current_total_price_set": money_set(total - o.refunded()),
            "current_total_tax": "0.00",
            "customer_locale": "en",
            "discount_codes": [],
            "email": o.email,
            "estimated_taxes": false,
            "financial_status": o.financial.rest(),
            "fulfillment_status": match o.fulfillment_status() {
                "FULFILLED" => Some("fulfilled"),
                "PARTIALLY_FULFILLED" => Some("partial"),
                _ => None,
            },
            "location_id": null,
            "name": o.name(),
            "note": o.note,
            "note_attributes": [],
            "number": o.number - 1000,
            "order_number": o.number,
            "order_status_url": format!("https://{}/orders/{}/authenticate", self.settings.shop_domain, o.id),
            "payment_gateway_names": ["shopify_payments"],
            "phone": null,
            "presentment_currency": "USD",
            "processed_at": shop_time(o.created),
            "source_name": "web",
            "subtotal_price": rest_money(total),
            "subtotal_price_set": money_set(total),
            "tags": o.tags.join(", "),
            "tax_exempt": false,
            "tax_lines": [],
            "taxes_included": false,
            "test": false,
            "total_discounts": "0.00",
            "total_discounts_set": money_set(0),
            "total_line_items_price": rest_money(total),
            "total_line_items_price_set": money_set(total),
            "total_outstanding": if o.financial.rest() == "pending" { rest_money(total) } else { "0.00".to_owned() },
            "total_price": rest_money(total),
            "total_price_set": money_set(total),
            "total_shipping_price_set": money_set(0),
            "total_tax": "0.00",
            "total_tax_set": money_set(0),
            "total_weight": o.lines.iter().map(|l| l.item.map_or(0, |k| self.skus[k].grams) * l.quantity).sum::<i64>(),
            "updated_at": shop_time(o.updated),
            "user_id": null,
            "billing_address": address(&o.address, first, last),
            "shipping_address": address(&o.address, first, last),
            "customer": customer_json,
            "discount_applications": [],
            "fulfillments": [],
            "line_items": lines,
            "payment_terms": null,
            "refunds": [],
            "shipping_lines": [],
            "returns": [],
            "line_item_groups": [],
        })
    }

    /// The level as `inventory_levels/update` carries it.
    pub(crate) fn level_rest(&self, item: usize, location: usize) -> Json {
        let place = &self.locations[location];
        let s = &self.skus[item];
        let level = self.shopify_levels[item][location];
        json!({
            "inventory_item_id": s.inventory_item_id,
            "location_id": place.id,
            "available": level.available,
            "updated_at": shop_time(level.updated),
            "admin_graphql_api_id": format!("gid://shopify/InventoryLevel/{}?inventory_item_id={}", place.id, s.inventory_item_id),
        })
    }

    /// Records a Shopify webhook for `topic` with this body.
    pub(crate) fn emit_shopify(&mut self, topic: &str, object_id: String, body: Json, now: i64) {
        let id = self.ids.uuid();
        let headers = vec![
            ("X-Shopify-Topic".to_owned(), topic.to_owned()),
            ("X-Shopify-Webhook-Id".to_owned(), id.clone()),
            ("X-Shopify-Event-Id".to_owned(), self.ids.uuid()),
            ("X-Shopify-Triggered-At".to_owned(), utc_millis(now * 1_000)),
            ("X-Shopify-API-Version".to_owned(), crate::config::SHOPIFY_API_VERSION.to_owned()),
            ("X-Shopify-Shop-Domain".to_owned(), self.settings.shop_domain.clone()),
        ];
        self.emit(crate::config::Vendor::Shopify, (id, topic), object_id, headers, body, now);
    }
}
