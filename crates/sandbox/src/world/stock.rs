//! Stock and the story of an order across vendors: placing it in Shopify commits Shopify's count; the 3PL
//! order commits a fulfillment center's; shipping takes the units off both; a cancel with restock gives
//! Shopify's back. These are the world's own rules; the vendor faces and the admin endpoints call them and emit
//! whatever webhooks the vendor would.

use super::{Customer, Financial, Fulfillment, FulfillmentOrder, Kind, Line, Order, Tracking, World};

/// A line of an order about to be placed: a catalogue SKU, or a custom line with its own title and price (and
/// maybe a SKU text no catalogue entry has, or none).
#[derive(Debug, Clone)]
pub(crate) struct NewLine {
    pub sku: Option<String>,
    pub title: Option<String>,
    pub price: Option<i64>,
    pub quantity: i64,
}

/// An order about to be placed in Shopify.
#[derive(Debug, Clone)]
pub(crate) struct NewOrder {
    pub customer: usize,
    pub lines: Vec<NewLine>,
    pub financial: Financial,
    pub tags: Vec<String>,
    pub note: Option<String>,
}

impl World {
    /// Places an order in Shopify: its lines, a fulfillment order at the first location, and the location's
    /// stock committed. Emits nothing.
    pub(crate) fn place_order(&mut self, new: NewOrder, now: i64) -> Result<usize, String> {
        if new.lines.is_empty() {
            return Err("an order needs at least one line".to_owned());
        }
        let mut lines = Vec::with_capacity(new.lines.len());
        for (n, line) in new.lines.iter().enumerate() {
            if line.quantity <= 0 {
                return Err(format!("lines[{n}].quantity is {}; expected at least 1", line.quantity));
            }
            let item = line.sku.as_deref().and_then(|sku| self.sku_index(sku));
            let (title, price) = match item {
                Some(i) => (
                    line.title.clone().unwrap_or_else(|| self.skus[i].title.clone()),
                    line.price.unwrap_or(self.skus[i].price),
                ),
                None => match (&line.title, line.price) {
                    (Some(title), Some(price)) if price >= 0 => (title.clone(), price),
                    _ => {
                        return Err(format!(
                            "lines[{n}]: `{}` is not in the catalogue; a custom line needs a title and a price",
                            line.sku.as_deref().unwrap_or("(no sku)")
                        ));
                    }
                },
            };
            lines.push(Line {
                id: self.ids.next(Kind::LineItem),
                item,
                sku: line.sku.clone(),
                title,
                quantity: line.quantity,
                price,
            });
        }
        let customer: &Customer = &self.customers[new.customer];
        let order = Order {
            id: self.ids.next(Kind::Order),
            number: self.next_order_number,
            customer: Some(new.customer),
            email: customer.email.clone(),
            created: now,
            updated: now,
            lines,
            financial: new.financial,
            cancelled: None,
            cancel_reason: None,
            fulfillments: Vec::new(),
            refunds: Vec::new(),
            returns: Vec::new(),
            tags: new.tags,
            note: new.note,
            metafields: Vec::new(),
            fulfillment_orders: vec![FulfillmentOrder {
                id: self.ids.next(Kind::FulfillmentOrder),
                status: "OPEN",
                location: 0,
            }],
            address: customer.address.clone(),
            location: 0,
        };
        self.next_order_number += 1;
        self.orders.push(order);
        let at = self.orders.len() - 1;
        for line in self.orders[at].lines.clone() {
            if let Some(item) = line.item {
                let level = &mut self.shopify_levels[item][self.orders[at].location];
                level.available -= line.quantity;
                level.committed += line.quantity;
                level.updated = now;
            }
        }
        Ok(at)
    }

    /// Fulfills every unfulfilled unit of Shopify order `at` with this tracking: the units leave Shopify's count
    /// (committed and on hand), the fulfillment orders close. False when nothing was left to fulfill.
    pub(crate) fn fulfill_in_shopify(&mut self, at: usize, tracking: Option<Tracking>, now: i64) -> bool {
        let order = &self.orders[at];
        if order.cancelled.is_some() {
            return false;
        }
        let lines: Vec<(usize, i64)> = (0..order.lines.len())
            .map(|i| (i, order.lines[i].quantity - order.fulfilled(i)))
            .filter(|(_, left)| *left > 0)
            .collect();
        if lines.is_empty() {
            return false;
        }
        let location = order.location;
        for &(i, quantity) in &lines {
            if let Some(item) = self.orders[at].lines[i].item {
                let level = &mut self.shopify_levels[item][location];
                level.committed -= quantity;
                level.updated = now;
            }
        }
        let id = self.ids.next(Kind::Fulfillment);
        let order = &mut self.orders[at];
        order.fulfillments.push(Fulfillment { id, created: now, tracking, delivered: None, lines });
        for fo in &mut order.fulfillment_orders {
            if fo.status != "CANCELLED" {
                fo.status = "CLOSED";
            }
        }
        order.updated = now;
        true
    }

    /// Shopify's side of a cancel: open units go back to `available` when `restock`, fulfillment orders are
    /// cancelled, and with `refund` the paid amount not yet refunded is refunded (a pending order is voided).
    pub(crate) fn cancel_in_shopify(
        &mut self,
        at: usize,
        reason: &str,
        refund: bool,
        restock: bool,
        now: i64,
    ) {
        let location = self.orders[at].location;
        for i in 0..self.orders[at].lines.len() {
            let line = &self.orders[at].lines[i];
            let open = line.quantity - self.orders[at].fulfilled(i);
            if let Some(item) = line.item
                && open > 0
            {
                let level = &mut self.shopify_levels[item][location];
                level.committed -= open;
                if restock {
                    level.available += open;
                }
                level.updated = now;
            }
        }
        let refund_id = self.ids.next(Kind::Refund);
        let order = &mut self.orders[at];
        order.cancelled = Some(now);
        order.cancel_reason = Some(reason.to_ascii_lowercase());
        order.updated = now;
        for fo in &mut order.fulfillment_orders {
            if fo.status != "CLOSED" {
                fo.status = "CANCELLED";
            }
        }
        if refund {
            match order.financial {
                Financial::Pending => order.financial = Financial::Voided,
                Financial::Paid | Financial::PartiallyRefunded => {
                    let amount = order.total() - order.refunded();
                    if amount > 0 {
                        order.refunds.push(super::Refund {
                            id: refund_id,
                            created: now,
                            amount,
                            note: Some("Order canceled".to_owned()),
                        });
                    }
                    order.financial = Financial::Refunded;
                }
                Financial::Refunded | Financial::Voided => {}
            }
        }
    }

    /// Refunds `amount` (all that is left when None) of Shopify order `at`.
    pub(crate) fn refund_in_shopify(&mut self, at: usize, amount: Option<i64>, note: &str, now: i64) {
        let id = self.ids.next(Kind::Refund);
        let order = &mut self.orders[at];
        let left = order.total() - order.refunded();
        let amount = amount.unwrap_or(left).min(left);
        if amount <= 0 {
            return;
        }
        order.refunds.push(super::Refund { id, created: now, amount, note: Some(note.to_owned()) });
        order.financial = if order.refunded() >= order.total() {
            Financial::Refunded
        } else {
            Financial::PartiallyRefunded
        };
        order.updated = now;
    }

    /// Adds `quantity` to Shopify's available count of `item` at `location`.
    pub(crate) fn restock_shopify(&mut self, item: usize, location: usize, quantity: i64, now: i64) {
        let level = &mut self.shopify_levels[item][location];
        level.available += quantity;
        level.updated = now;
    }

    /// Adds `quantity` on hand at fulfillment center `center`.
    pub(crate) fn restock_center(&mut self, item: usize, center: usize, quantity: i64) {
        self.center_levels[item][center].on_hand += quantity;
    }

    /// Where a 3PL order of these (catalogue item, quantity) pairs ships from: the first center that can fulfill
    /// every line, else the one that can fulfill the most units. Also whether it is short.
    pub(crate) fn choose_center(&self, wanted: &[(usize, i64)]) -> (usize, bool) {
        let covers =
            |c: usize| wanted.iter().all(|&(item, q)| self.center_levels[item][c].fulfillable() >= q);
        if let Some(c) = (0..self.centers.len()).find(|&c| covers(c)) {
            return (c, false);
        }
        let units = |c: usize| -> i64 {
            wanted.iter().map(|&(i, q)| q.min(self.center_levels[i][c].fulfillable())).sum()
        };
        let best = (0..self.centers.len()).max_by_key(|&c| (units(c), std::cmp::Reverse(c))).unwrap_or(0);
        (best, true)
    }

    /// Commits (or, with a negative sign, releases) the units at `center`.
    pub(crate) fn commit_center(&mut self, wanted: &[(usize, i64)], center: usize, sign: i64) {
        for &(item, quantity) in wanted {
            let level = &mut self.center_levels[item][center];
            level.committed = (level.committed + sign * quantity).max(0);
        }
    }

    /// Ships the units from `center`: they leave on hand and committed.
    pub(crate) fn ship_from_center(&mut self, wanted: &[(usize, i64)], center: usize) {
        for &(item, quantity) in wanted {
            let level = &mut self.center_levels[item][center];
            level.on_hand = (level.on_hand - quantity).max(0);
            level.committed = (level.committed - quantity).max(0);
        }
    }

    /// A carrier tracking number and link, drawn.
    pub(crate) fn new_tracking(&mut self) -> Tracking {
        let a = self.ids.number() % 1_000_000_000;
        let b = self.ids.number() % 1_000_000_000;
        let number = format!("9400{a:09}{b:09}");
        Tracking {
            company: "USPS".to_owned(),
            url: format!("https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"),
            number,
        }
    }
}
