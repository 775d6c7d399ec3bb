//! The admin actions as the world carries them out: validate the request, change the world through its own
//! rules, and emit what each vendor would send.

use serde_json::{Value, json};

use super::{
    CheckoutRequest, LineRequest, OrderRequest, RestockRequest, ReturnRequest, TicketRequest, WorldError,
};
use crate::stripe::{Checkout, CheckoutLine};
use crate::world::ids::gid;
use crate::world::stock::{NewLine, NewOrder};
use crate::world::{Financial, Helpdesk, World};

fn quantity(line: &LineRequest, n: usize) -> Result<i64, WorldError> {
    match line.quantity.unwrap_or(1) {
        q if q >= 1 => Ok(q),
        q => Err(WorldError::invalid(format!("lines[{n}].quantity is {q}; expected at least 1"))),
    }
}

impl World {
    /// The customer an admin request names by e-mail (new to Shopify when unknown), or the first seeded one.
    fn buyer(&mut self, email: Option<&str>, name: Option<&str>, now: i64) -> Result<usize, WorldError> {
        match email.map(str::trim) {
            None => Ok(0),
            Some(email) if !email.contains('@') => {
                Err(WorldError::invalid(format!("email `{email}` is not an e-mail address")))
            }
            Some(email) => {
                Ok(self.customer_by_email(email).unwrap_or_else(|| self.add_customer(email, name, now)))
            }
        }
    }

    pub(crate) fn admin_place_order(
        &mut self,
        request: &OrderRequest,
        now: i64,
    ) -> Result<Value, WorldError> {
        match request.via.as_deref() {
            None | Some("shopify") => {}
            Some("stripe_checkout") => {
                let checkout = CheckoutRequest {
                    email: request.email.clone(),
                    name: request.name.clone(),
                    lines: request.lines.clone(),
                };
                return self.admin_checkout(&checkout, now);
            }
            Some(other) => {
                return Err(WorldError::invalid(format!(
                    "via `{other}`; expected shopify or stripe_checkout"
                )));
            }
        }
        if request.lines.is_empty() {
            return Err(WorldError::invalid("an order needs at least one line (`lines`)"));
        }
        let financial = match request.financial_status.as_deref() {
            None | Some("paid") => Financial::Paid,
            Some("pending") => Financial::Pending,
            Some(other) => {
                return Err(WorldError::invalid(format!(
                    "financial_status `{other}`; expected paid or pending"
                )));
            }
        };
        let mut lines = Vec::new();
        for (n, line) in request.lines.iter().enumerate() {
            lines.push(NewLine {
                sku: line.sku.clone(),
                title: line.title.clone(),
                price: line.price,
                quantity: quantity(line, n)?,
            });
        }
        let customer = self.buyer(request.email.as_deref(), request.name.as_deref(), now)?;
        let new =
            NewOrder { customer, lines, financial, tags: request.tags.clone(), note: request.note.clone() };
        let at = self.place_order(new, now).map_err(WorldError::invalid)?;
        let order = self.order_rest(at);
        self.emit_shopify("orders/create", gid("Order", self.orders[at].id), order.clone(), now);
        // Committing stock changes `available`, and Shopify says so for every level it touched.
        let items: Vec<usize> = self.orders[at].lines.iter().filter_map(|l| l.item).collect();
        let location = self.orders[at].location;
        for item in items {
            let level = self.level_rest(item, location);
            let id = level["admin_graphql_api_id"].as_str().unwrap_or_default().to_owned();
            self.emit_shopify("inventory_levels/update", id, level, now);
        }
        Ok(order)
    }

    pub(crate) fn admin_checkout(
        &mut self,
        request: &CheckoutRequest,
        now: i64,
    ) -> Result<Value, WorldError> {
        if request.lines.is_empty() {
            return Err(WorldError::invalid("a checkout needs at least one line (`lines`)"));
        }
        let mut lines = Vec::new();
        for (n, line) in request.lines.iter().enumerate() {
            let quantity = quantity(line, n)?;
            let item = line.sku.as_deref().and_then(|s| self.sku_index(s));
            let line_id = self.ids.token_id("li_", 24);
            let checkout_line = match item {
                Some(i) => {
                    let s = &self.skus[i];
                    CheckoutLine {
                        id: line_id,
                        description: line.title.clone().unwrap_or_else(|| s.title.clone()),
                        quantity,
                        unit_amount: line.price.unwrap_or(s.price),
                        price: s.stripe_price.clone(),
                        product: s.stripe_product.clone(),
                        sku: Some(s.sku.clone()),
                    }
                }
                None => {
                    let (Some(title), Some(price)) = (&line.title, line.price) else {
                        return Err(WorldError::invalid(format!(
                            "lines[{n}]: `{}` is not in the catalogue; a custom line needs a title and a price",
                            line.sku.as_deref().unwrap_or("(no sku)")
                        )));
                    };
                    CheckoutLine {
                        id: line_id,
                        description: title.clone(),
                        quantity,
                        unit_amount: price,
                        price: self.ids.token_id("price_", 24),
                        product: self.ids.token_id("prod_", 14),
                        sku: line.sku.clone(),
                    }
                }
            };
            lines.push(checkout_line);
        }
        let email = request.email.clone().unwrap_or_else(|| self.customers[0].email.clone());
        let known = self.customer_by_email(&email);
        let name =
            request.name.clone().or_else(|| known.map(|c| self.customers[c].name())).unwrap_or_default();
        let customer = match known.and_then(|c| self.customers[c].stripe_id.clone()) {
            Some(id) => id,
            None => {
                let id = self.ids.token_id("cus_", 14);
                let id = self.stripe.add_customer(id, &email, &name, now);
                if let Some(c) = known {
                    self.customers[c].stripe_id = Some(id.clone());
                }
                id
            }
        };
        let address = known.map_or_else(
            || json!({ "city": null, "country": "US", "line1": null, "line2": null, "postal_code": null, "state": null }),
            |c| {
                let a = &self.customers[c].address;
                json!({ "city": a.city, "country": a.country_code, "line1": a.address1, "line2": null,
                    "postal_code": a.zip, "state": a.province_code })
            },
        );
        let checkout = Checkout {
            id: self.ids.token_id("cs_test_", 58),
            created: now,
            customer,
            email,
            name,
            currency: "usd".to_owned(),
            lines,
            payment_intent: self.ids.token_id("pi_", 24),
            address,
        };
        Ok(self.stripe.complete_checkout(checkout, now))
    }

    pub(crate) fn admin_restock(&mut self, request: &RestockRequest, now: i64) -> Result<Value, WorldError> {
        let item = self
            .sku_index(&request.sku)
            .ok_or_else(|| WorldError::not_found(format!("no SKU `{}`", request.sku)))?;
        if request.quantity == 0 {
            return Err(WorldError::invalid("quantity is 0; expected a number of units to add (or remove)"));
        }
        let center = match request.fulfillment_center_id {
            None => 0,
            Some(id) => self
                .centers
                .iter()
                .position(|c| c.id == id)
                .ok_or_else(|| WorldError::not_found(format!("no fulfillment center {id}")))?,
        };
        if request.shipbob.unwrap_or(true) {
            self.restock_center(item, center, request.quantity);
            let level = &mut self.center_levels[item][center];
            level.on_hand = level.on_hand.max(0);
        }
        if request.shopify.unwrap_or(true) {
            self.restock_shopify(item, 0, request.quantity, now);
            let level = self.level_rest(item, 0);
            let id = level["admin_graphql_api_id"].as_str().unwrap_or_default().to_owned();
            self.emit_shopify("inventory_levels/update", id, level, now);
        }
        let shop = self.shopify_levels[item][0];
        Ok(json!({
            "sku": request.sku,
            "shopify": { "available": shop.available, "on_hand": shop.on_hand(), "committed": shop.committed },
            "shipbob": self.centers.iter().enumerate().map(|(c, place)| {
                let level = self.center_levels[item][c];
                json!({ "fulfillment_center_id": place.id, "on_hand": level.on_hand, "fulfillable": level.fulfillable() })
            }).collect::<Vec<_>>(),
        }))
    }

    fn shipbob_at(&self, id: u64) -> Result<usize, WorldError> {
        self.shipbob_index(id).ok_or_else(|| WorldError::not_found(format!("no ShipBob order {id}")))
    }

    pub(crate) fn admin_ship(&mut self, id: u64, now: i64) -> Result<Value, WorldError> {
        let at = self.shipbob_at(id)?;
        self.ship_shipbob_order(at, now).map_err(WorldError::conflict)?;
        let shipment = self.shipbob_shipment_json(at, 0);
        self.emit_shipbob("order.shipped", shipment["id"].to_string(), shipment.clone(), now);
        Ok(shipment)
    }

    pub(crate) fn admin_deliver(&mut self, id: u64, now: i64) -> Result<Value, WorldError> {
        let at = self.shipbob_at(id)?;
        self.deliver_shipbob_order(at, now).map_err(WorldError::conflict)?;
        let shipment = self.shipbob_shipment_json(at, 0);
        self.emit_shipbob("order.shipment.delivered", shipment["id"].to_string(), shipment.clone(), now);
        Ok(shipment)
    }

    pub(crate) fn admin_return(&mut self, request: &ReturnRequest, now: i64) -> Result<Value, WorldError> {
        let at = match (request.order_id, &request.reference_id) {
            (Some(id), _) => self.shipbob_at(id)?,
            (None, Some(reference)) => self.shipbob_by_reference(reference).ok_or_else(|| {
                WorldError::not_found(format!("no ShipBob order with reference_id `{reference}`"))
            })?,
            (None, None) => return Err(WorldError::invalid("name the order: `order_id` or `reference_id`")),
        };
        let r = self.create_return(at, request.refund.unwrap_or(true), now).map_err(WorldError::conflict)?;
        let body = self.shipbob_return_json(r);
        self.emit_shipbob("return.created", self.shipbob_returns[r].id.to_string(), body.clone(), now);
        Ok(body)
    }

    pub(crate) fn admin_complete_return(&mut self, id: u64, now: i64) -> Result<Value, WorldError> {
        let at = self
            .shipbob_returns
            .iter()
            .position(|r| r.id == id)
            .ok_or_else(|| WorldError::not_found(format!("no ShipBob return {id}")))?;
        if self.shipbob_returns[at].completed.is_some() {
            return Err(WorldError::conflict(format!("return {id} is already completed")));
        }
        self.complete_return(at, now);
        let body = self.shipbob_return_json(at);
        self.emit_shipbob("return.completed", id.to_string(), body.clone(), now);
        Ok(body)
    }

    pub(crate) fn admin_ticket(&mut self, request: &TicketRequest, now: i64) -> Result<Value, WorldError> {
        let email = request.email.trim();
        if !email.contains('@') {
            return Err(WorldError::invalid(format!("email `{email}` is not an e-mail address")));
        }
        if request.subject.trim().is_empty() || request.body.trim().is_empty() {
            return Err(WorldError::invalid("a ticket needs a subject and a body"));
        }
        Ok(match request.vendor {
            Helpdesk::Zendesk => {
                let user = self.zendesk_user_by_email(email, request.name.as_deref(), now);
                let at = self.open_zendesk_ticket(user, &request.subject, &request.body, now);
                self.emit_zendesk_created(at, now);
                self.zendesk_ticket_json(&self.zendesk_tickets[at])
            }
            Helpdesk::Gorgias => {
                let customer = self.gorgias_customer_for(email, request.name.as_deref(), now);
                let at = self.open_gorgias_ticket(customer, &request.subject, &request.body, now);
                self.emit_gorgias_created(at, now);
                self.gorgias_ticket_json(&self.gorgias_tickets[at])
            }
        })
    }
}
