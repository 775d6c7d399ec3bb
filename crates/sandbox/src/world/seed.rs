//! The seeded world: what a sandbox holds before anyone calls it.
//!
//! - A catalogue of ten SKUs, each a Shopify product with one variant and inventory item, a ShipBob inventory
//!   item and a Stripe product and price.
//! - One Shopify location and two ShipBob fulfillment centers. Stock per SKU per center is drawn; one SKU is out
//!   everywhere and one is short (two units in all); Shopify's count drifts from the 3PL's by a drawn amount
//!   (Shopify believes in one unit of the SKU that is out, and three more than there are of the short one).
//! - Six customers known to every vendor (Shopify customer, Zendesk user, Gorgias customer, Stripe customer).
//! - Their history: the first customer has two orders, one shipped and delivered with tracking (tagged
//!   `seam-3pl`, with Seam's `seam.3pl-order` metafield), one returned and refunded; the second has an order paid and waiting at the 3PL; the third has one in transit. Each exists at
//!   ShipBob under `reference_id` = the Shopify order's numeric id.
//! - Tickets: a Zendesk ticket from the first customer (with an agent's internal note) and a Gorgias ticket from
//!   the second.
//!
//! Everything is drawn from the seed alone (names, stock, drift, which SKU is short), and dated relative to `now`.

use super::stock::{NewLine, NewOrder};
use super::{
    Address, CenterLevel, Customer, Financial, Kind, Metafield, Place, ShopifyLevel, Sku, World, ZendeskUser,
};
use crate::scenario::draw;

const DAY: i64 = 86_400;

mod stream {
    pub const STOCK: u64 = 101;
    pub const DRIFT: u64 = 102;
    pub const SPECIAL: u64 = 103;
    pub const PEOPLE: u64 = 104;
    pub const ADDRESS: u64 = 105;
}

/// (sku, title, price in cents, grams).
const CATALOGUE: &[(&str, &str, i64, i64)] = &[
    ("TEE-BLK-M", "Heavyweight Tee - Black / M", 3200, 220),
    ("TEE-BLK-L", "Heavyweight Tee - Black / L", 3200, 240),
    ("TEE-OAT-M", "Heavyweight Tee - Oat / M", 3200, 220),
    ("HOOD-NVY-M", "Fleece Hoodie - Navy / M", 7800, 640),
    ("HOOD-NVY-L", "Fleece Hoodie - Navy / L", 7800, 680),
    ("CAP-OLV", "Six-Panel Cap - Olive", 2800, 90),
    ("MUG-STN", "Stoneware Mug", 2400, 450),
    ("TOTE-NAT", "Canvas Tote - Natural", 1800, 180),
    ("SOCK-GRY-3", "Merino Socks - Grey (3 pack)", 2200, 150),
    ("BEAN-BLK", "Ribbed Beanie - Black", 2600, 80),
];

const FIRST: &[&str] = &["Maya", "Theo", "Priya", "Lars", "Amara", "Jonah", "Sofia", "Kenji", "Ines", "Omar"];
const LAST: &[&str] =
    &["Castillo", "Brennan", "Okonkwo", "Lindgren", "Haddad", "Whitfield", "Moreau", "Sato"];

/// (address1, city, province, province code, zip).
const ADDRESSES: &[(&str, &str, &str, &str, &str)] = &[
    ("118 Larkin St", "San Francisco", "California", "CA", "94102"),
    ("52 Hoyt St", "Brooklyn", "New York", "NY", "11201"),
    ("901 W Randolph St", "Chicago", "Illinois", "IL", "60607"),
    ("2210 E Cesar Chavez St", "Austin", "Texas", "TX", "78702"),
    ("77 Pike St", "Seattle", "Washington", "WA", "98101"),
    ("15 Newbury St", "Boston", "Massachusetts", "MA", "02116"),
];

/// The seeded address for person `n`.
pub(crate) fn address(seed: u64, n: u64) -> Address {
    let (address1, city, province, code, zip) =
        ADDRESSES[(draw(seed, stream::ADDRESS, n, 0) % ADDRESSES.len() as u64) as usize];
    Address {
        address1: address1.to_owned(),
        city: city.to_owned(),
        province: province.to_owned(),
        province_code: code.to_owned(),
        zip: zip.to_owned(),
        country: "United States".to_owned(),
        country_code: "US".to_owned(),
    }
}

impl World {
    pub(super) fn seed(&mut self, now: i64) {
        let seed = self.settings.seed;
        self.seed_catalogue();
        let special = |salt: u64| (draw(seed, stream::SPECIAL, 0, salt) % CATALOGUE.len() as u64) as usize;
        let out = special(1);
        let short = (out + 1 + (draw(seed, stream::SPECIAL, 0, 2) % (CATALOGUE.len() as u64 - 1)) as usize)
            % CATALOGUE.len();
        self.seed_stock(out, short);
        self.seed_people(now);
        self.seed_history(out, short, now);
        self.seed_shopify_counts(out, short, now);
    }

    fn seed_catalogue(&mut self) {
        for &(sku, title, price, grams) in CATALOGUE {
            let slug = sku.to_ascii_lowercase().replace('-', "_");
            let item = Sku {
                sku: sku.to_owned(),
                title: title.to_owned(),
                price,
                grams,
                product_id: self.ids.next(Kind::Product),
                variant_id: self.ids.next(Kind::Variant),
                inventory_item_id: self.ids.next(Kind::InventoryItem),
                shipbob_inventory_id: self.ids.next(Kind::ShipbobInventory),
                stripe_product: format!("prod_seam_{slug}"),
                stripe_price: format!("price_seam_{slug}"),
            };
            self.skus.push(item);
        }
        self.locations
            .push(Place { id: self.ids.next(Kind::Location), name: "Main warehouse (ShipBob)".to_owned() });
        self.centers.push(Place { id: 10, name: "Moreno Valley (CA)".to_owned() });
        self.centers.push(Place { id: 6, name: "Cicero (IL)".to_owned() });
    }

    fn seed_stock(&mut self, out: usize, short: usize) {
        let seed = self.settings.seed;
        for item in 0..self.skus.len() {
            let levels = (0..self.centers.len())
                .map(|c| {
                    let drawn = 6 + (draw(seed, stream::STOCK, item as u64, c as u64) % 55) as i64;
                    let on_hand = match (item, c) {
                        (i, _) if i == out => 0,
                        (i, 0) if i == short => 2,
                        (i, _) if i == short => 0,
                        _ => drawn,
                    };
                    CenterLevel { on_hand, committed: 0, awaiting: if item == out { 24 } else { 0 } }
                })
                .collect();
            self.center_levels.push(levels);
            // Shopify's count is set once the history is in (see seed_shopify_counts).
            self.shopify_levels.push(vec![ShopifyLevel::default(); self.locations.len()]);
        }
    }

    /// Shopify's count: what the 3PL can fulfill, plus a drawn drift, with this store's open orders committed.
    fn seed_shopify_counts(&mut self, out: usize, short: usize, now: i64) {
        let seed = self.settings.seed;
        let mut levels = Vec::with_capacity(self.skus.len());
        for item in 0..self.skus.len() {
            let at_3pl: i64 = self.center_levels[item].iter().map(CenterLevel::fulfillable).sum();
            let drift = match item {
                i if i == out => 1,
                i if i == short => 3,
                // About half the other SKUs drift by -2..=+2.
                i => match draw(seed, stream::DRIFT, i as u64, 0) % 10 {
                    0..=4 => 0,
                    d => (d as i64 % 5) - 2,
                },
            };
            levels.push(vec![ShopifyLevel {
                available: (at_3pl + drift).max(0),
                committed: 0,
                updated: now - DAY,
            }]);
        }
        // Open (unfulfilled, not cancelled) orders hold committed units: Shopify's on hand includes them.
        for order in &self.orders {
            if order.cancelled.is_some() {
                continue;
            }
            for (i, line) in order.lines.iter().enumerate() {
                if let Some(item) = line.item {
                    levels[item][order.location].committed += line.quantity - order.fulfilled(i);
                }
            }
        }
        self.shopify_levels = levels;
    }

    fn seed_people(&mut self, now: i64) {
        let seed = self.settings.seed;
        let agent = self.ids.next(Kind::ZendeskUser);
        self.zendesk_users.push(ZendeskUser {
            id: agent,
            name: "Sam Rivera".to_owned(),
            email: "support@seam-sandbox.example".to_owned(),
            role: "agent",
            created: now - 400 * DAY,
        });
        self.zendesk_agent = 0;
        let offset = (draw(seed, stream::PEOPLE, 0, 0) % FIRST.len() as u64) as usize;
        for n in 0..6u64 {
            let first = FIRST[(offset + n as usize) % FIRST.len()];
            let last = LAST[(draw(seed, stream::PEOPLE, n, 1) % LAST.len() as u64) as usize];
            let email = format!("{}.{}@example.com", first.to_ascii_lowercase(), last.to_ascii_lowercase());
            let created = now - (200 + 30 * n as i64) * DAY;
            let customer = Customer {
                first: first.to_owned(),
                last: last.to_owned(),
                email: email.clone(),
                phone: Some(format!("+1 415 555 01{:02}", 10 + n)),
                address: address(seed, n),
                created,
                shopify_id: self.ids.next(Kind::Customer),
                zendesk_user_id: None,
                gorgias_id: None,
                stripe_id: None,
            };
            self.customers.push(customer);
            let at = self.customers.len() - 1;
            self.zendesk_user_for(at, created);
            self.gorgias_customer_for(&email, Some(&format!("{first} {last}")), created);
            let stripe_id = self.ids.token_id("cus_", 14);
            let stripe_id = self.stripe.add_customer(stripe_id, &email, &format!("{first} {last}"), created);
            self.customers[at].stripe_id = Some(stripe_id);
        }
    }

    fn seed_history(&mut self, out: usize, short: usize, now: i64) {
        let stocked: Vec<usize> = (0..self.skus.len()).filter(|&i| i != out && i != short).collect();
        let line = |world: &World, k: usize, quantity: i64| NewLine {
            sku: Some(world.skus[stocked[k % stocked.len()]].sku.clone()),
            title: None,
            price: None,
            quantity,
        };
        // Customer 0: an order shipped and delivered 40 days ago, and one returned and refunded.
        let delivered = self.seeded_order(0, vec![line(self, 0, 1), line(self, 5, 2)], now - 40 * DAY);
        self.seeded_shipment(delivered, true, now - 39 * DAY);
        // Seam handed it to the 3PL on an earlier run and noted so on the order, as its playbook does.
        let shipbob_id = self.shipbob_orders[self.shipbob_orders.len() - 1].id;
        let id = self.ids.next(Kind::Metafield);
        self.orders[delivered].metafields.push(Metafield {
            id,
            namespace: "seam".to_owned(),
            key: "3pl-order".to_owned(),
            kind: "single_line_text_field".to_owned(),
            value: format!("ShipBob order {shipbob_id}"),
            created: now - 39 * DAY,
            updated: now - 39 * DAY,
        });
        self.orders[delivered].tags.push("seam-3pl".to_owned());
        let returned = self.seeded_order(0, vec![line(self, 3, 1)], now - 12 * DAY);
        self.seeded_shipment(returned, true, now - 11 * DAY);
        let sb = self.shipbob_orders.len() - 1;
        self.seed_return(sb, now - 5 * DAY);
        // Customer 1: paid 2 days ago, waiting at the 3PL.
        let waiting = self.seeded_order(1, vec![line(self, 1, 1), line(self, 2, 1)], now - 2 * DAY);
        self.seeded_shipment(waiting, false, now - 2 * DAY);
        // Customer 2: shipped yesterday, in transit.
        let transit = self.seeded_order(2, vec![line(self, 4, 3)], now - 3 * DAY);
        self.seeded_shipment(transit, false, now - 3 * DAY);
        let sb = self.shipbob_orders.len() - 1;
        let _ = self.ship_shipbob_order(sb, now - DAY);

        let (user, order_name) = (self.customers[0].zendesk_user_id, self.orders[returned].name());
        if let Some(user) = user.and_then(|id| self.zendesk_users.iter().position(|u| u.id == id)) {
            let ticket = self.open_zendesk_ticket(
                user,
                &format!("Refund for order {order_name}?"),
                "Hi, I sent the hoodie back last week. Has my refund gone through?",
                now - 4 * DAY,
            );
            let agent = self.zendesk_agent;
            self.add_zendesk_comment(
                ticket,
                agent,
                "Return received at Moreno Valley; refund issued.",
                false,
                "web",
                now - 3 * DAY,
            );
        }
        let (email, name, order_name) =
            (self.customers[1].email.clone(), self.customers[1].name(), self.orders[waiting].name());
        let customer = self.gorgias_customer_for(&email, Some(&name), now - 2 * DAY);
        self.open_gorgias_ticket(
            customer,
            &format!("Where is my order {order_name}?"),
            "Hello! I ordered two days ago and have not had a shipping e-mail yet.",
            now - DAY,
        );
    }

    /// A paid order of customer `customer`, placed at `at`.
    fn seeded_order(&mut self, customer: usize, lines: Vec<NewLine>, at: i64) -> usize {
        let new = NewOrder { customer, lines, financial: Financial::Paid, tags: Vec::new(), note: None };
        self.place_order(new, at).unwrap_or_else(|e| unreachable!("the seeded order is valid: {e}"))
    }

    /// The 3PL order for Shopify order `order`, created `at`; shipped and delivered when `done`.
    fn seeded_shipment(&mut self, order: usize, done: bool, at: i64) {
        let sb = self.shipbob_order_for_shopify(order, at);
        if done {
            let _ = self.ship_shipbob_order(sb, at + DAY / 2);
            let _ = self.deliver_shipbob_order(sb, at + 3 * DAY);
        }
    }

    fn seed_return(&mut self, sb: usize, at: i64) {
        if let Ok(r) = self.create_return(sb, true, at) {
            self.complete_return(r, at + 2 * DAY);
        }
    }
}
