//! The cross-tool half of the demo's month: Shopify orders (most in stock, a few short), two Stripe Checkout
//! purchases (one with a line the store cannot ship), the warehouse shipping what Seam handed it, customers
//! writing in through Zendesk and Gorgias, and the people who decide the fulfillment exceptions.
//!
//! Every choice is drawn from `--seed` with [`draw`], and every act happens at a fixed instant of the month (orders
//! at 20 past the hour, tickets at 40 past, a person's decision 2 h 5 min after the item appeared, a restock a day
//! and a half hour after the wait was chosen, shipping a day after the hand-over, delivery two days later). Acts are
//! done one at a time: at each instant the engine first finishes everything due (a run's wake-up), then each act is
//! done and the engine finishes everything it caused before the next. So one seed makes the same orders, the same
//! short lines and the same decisions on every machine. What the story learns while it runs (which inbox item an
//! order raised, which 3PL orders exist) it reads back from the engine's database and the sandbox's world.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use seam_sandbox::{CheckoutRequest, Helpdesk, LineRequest, OrderRequest, RestockRequest, TicketRequest};
use serde_json::{Value, json};

use super::{DAY, MONTH, MONTH_START, World};

/// The checkout-stock-validation playbook's name, as its runs, inbox items and ledger lines carry it.
pub const FULFILLMENT_WORKFLOW: &str = "checkout-stock-validation";
/// The ticket-context playbook's name.
pub const TICKETS_WORKFLOW: &str = "ticket-context";

/// Shopify orders over the month.
pub const ORDERS: usize = 24;
/// Tickets over the month.
pub const TICKETS: usize = 10;
/// Orders short at the 3PL: the first three are decided (ship partial, wait for restock, cancel, in an order
/// drawn from the seed); the last is left open for whoever looks around.
const SHORT_ORDERS: usize = 4;
/// A SKU is picked for an in-stock line only while the 3PL holds at least this many.
const PLENTY: i64 = 8;
const HOUR: i64 = 3_600;
const MINUTE: i64 = 60;

/// A number drawn from the seed for (`stream`, `n`): splitmix64, so one seed always draws the same story.
pub fn draw(seed: u64, stream: u64, n: u64) -> u64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(stream.wrapping_mul(0xD1B5_4A32_D192_ED03))
        .wrapping_add(n.wrapping_mul(0x8CB9_2BA7_2F3D_8DD7));
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

mod stream {
    pub const SHORT_AT: u64 = 1;
    pub const DECISIONS: u64 = 2;
    pub const CUSTOMER: u64 = 3;
    pub const LINES: u64 = 4;
    pub const SKU: u64 = 5;
    pub const QUANTITY: u64 = 6;
    pub const VIP: u64 = 7;
    pub const HELPDESK: u64 = 8;
    pub const TOPIC: u64 = 9;
    pub const STRANGERS: u64 = 10;
}

/// Something the story does at an instant.
#[derive(Debug, Clone)]
enum Act {
    /// The n-th Shopify order of the month.
    Order(usize),
    /// A Stripe Checkout purchase; `bad`: one of its lines has no SKU.
    Checkout { bad: bool },
    /// The n-th ticket of the month.
    Ticket(usize),
    /// A person decides an inbox item through the engine's JSON API. A wait for restock names the short SKUs and
    /// how many the order needs, for the restock that follows.
    Decide { item: String, decision: &'static str, by: String, fields: Value, short: Vec<(String, i64)> },
    /// More stock arrives, at the 3PL and in Shopify.
    Restock { sku: String, quantity: i64 },
    /// The warehouse ships a 3PL order.
    Ship(u64),
    /// The carrier delivers it.
    Deliver(u64),
}

/// A short order waiting for the story to find its inbox item.
#[derive(Debug, Clone)]
struct Short {
    order_id: String,
    /// What the person will decide; `None` leaves the item open.
    decision: Option<&'static str>,
}

/// The cross-tool story: what is planned, and what it has learned so far.
#[derive(Debug)]
pub struct Story {
    seed: u64,
    /// (instant, sequence) → act: acts at one instant happen in the order they were planned.
    plan: BTreeMap<(i64, u64), Act>,
    sequence: u64,
    /// Position of each short order among the month's orders → what its person decides.
    short_at: BTreeMap<usize, Option<&'static str>>,
    waiting_for_item: Vec<Short>,
    /// 3PL orders the story has seen (and planned to ship).
    known_3pl: BTreeSet<u64>,
    /// The Shopify order names placed so far, in order.
    placed: Vec<String>,
    /// For the progress line.
    pub orders: usize,
    pub tickets: usize,
}

impl Story {
    /// The month's plan for `seed`. `known_3pl`: the 3PL orders the sandbox starts with (its seeded history,
    /// which the story leaves alone).
    pub fn new(seed: u64, known_3pl: impl IntoIterator<Item = u64>) -> Story {
        let mut story = Story {
            seed,
            plan: BTreeMap::new(),
            sequence: 0,
            short_at: BTreeMap::new(),
            waiting_for_item: Vec::new(),
            known_3pl: known_3pl.into_iter().collect(),
            placed: Vec::new(),
            orders: 0,
            tickets: 0,
        };
        // One short order in each quarter of the month's orders, at a drawn position (never the first two, so
        // the story starts with orders that simply ship).
        let block = ORDERS / SHORT_ORDERS;
        let decisions = ["ship_partial", "wait_for_restock", "cancel"];
        let turn = (draw(seed, stream::DECISIONS, 0) % decisions.len() as u64) as usize;
        for j in 0..SHORT_ORDERS {
            let at = j * block + 2 + (draw(seed, stream::SHORT_AT, j as u64) % (block as u64 - 2)) as usize;
            let decision = (j < decisions.len()).then(|| decisions[(turn + j) % decisions.len()]);
            story.short_at.insert(at, decision);
        }
        let spacing = MONTH / ORDERS as i64;
        for n in 0..ORDERS {
            story.at(MONTH_START + n as i64 * spacing + 2 * HOUR + 20 * MINUTE, Act::Order(n));
        }
        // A headless-store purchase through Stripe Checkout, and one whose gift-wrap line has no SKU.
        story.at(MONTH_START + 11 * DAY + 5 * HOUR + 20 * MINUTE, Act::Checkout { bad: false });
        story.at(MONTH_START + 19 * DAY + 5 * HOUR + 20 * MINUTE, Act::Checkout { bad: true });
        for n in 0..TICKETS {
            story.at(MONTH_START + (2 + 3 * n as i64) * DAY + 4 * HOUR + 40 * MINUTE, Act::Ticket(n));
        }
        story
    }

    fn at(&mut self, instant: i64, act: Act) {
        self.plan.insert((instant, self.sequence), act);
        self.sequence += 1;
    }

    /// When the next act is due.
    pub fn next_at(&self) -> Option<i64> {
        self.plan.first_key_value().map(|((at, _), _)| *at)
    }

    /// Everything planned has happened.
    pub fn is_done(&self) -> bool {
        self.plan.is_empty()
    }

    /// Does every act due by `now`, each once the engine has done everything before it.
    pub async fn act(&mut self, now: i64, world: &mut World) -> anyhow::Result<()> {
        while let Some(entry) = self.plan.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let act = entry.remove();
            self.perform(act, now, world).await?;
            world.settle(now).await?;
            self.observe(now, world).await?;
        }
        Ok(())
    }

    async fn perform(&mut self, act: Act, now: i64, world: &mut World) -> anyhow::Result<()> {
        match act {
            Act::Order(n) => self.place_order(n, world),
            Act::Checkout { bad } => self.checkout(bad, world),
            Act::Ticket(n) => self.open_ticket(n, world),
            Act::Decide { item, decision, by, fields, short } => {
                self.decide(now, &item, (decision, &by, fields), &short, world).await
            }
            Act::Restock { sku, quantity } => {
                world
                    .sandbox
                    .restock(&RestockRequest { sku: sku.clone(), quantity, ..RestockRequest::default() })
                    .map_err(|error| anyhow::anyhow!("the sandbox did not restock {sku}: {error}"))?;
                Ok(())
            }
            Act::Ship(id) => {
                // A 3PL order the warehouse cannot ship (an exception) simply stays where it is.
                if world.sandbox.ship(id).is_ok() {
                    self.at(now + 2 * DAY + 20 * MINUTE, Act::Deliver(id));
                }
                Ok(())
            }
            Act::Deliver(id) => {
                let _ = world.sandbox.deliver(id);
                Ok(())
            }
        }
    }

    /// A Shopify order from a seeded customer: one or two lines the 3PL has plenty of, or (for a short order)
    /// one such line and one the 3PL cannot cover.
    fn place_order(&mut self, n: usize, world: &World) -> anyhow::Result<()> {
        let seed = self.seed;
        let n64 = n as u64;
        let summary = world.sandbox.world();
        // The seeded customers come first in the world's list.
        let customers = &summary.customers[..summary.customers.len().min(6)];
        let email =
            customers[(draw(seed, stream::CUSTOMER, n64) % customers.len() as u64) as usize].email.clone();
        let short = self.short_at.get(&n).copied();
        // The SKU the 3PL holds least of (the first in the catalogue on a tie) is the one a short order asks too
        // much of; in-stock lines never use it.
        let scarce = summary
            .skus
            .iter()
            .enumerate()
            .min_by_key(|(i, s)| (s.shipbob_fulfillable, *i))
            .map(|(_, s)| s.clone())
            .context("the sandbox has no SKUs")?;
        let mut plenty: Vec<&seam_sandbox::SkuSummary> =
            summary.skus.iter().filter(|s| s.shipbob_fulfillable >= PLENTY && s.sku != scarce.sku).collect();
        if plenty.is_empty() {
            plenty = summary.skus.iter().filter(|s| s.sku != scarce.sku).collect();
        }
        let wanted = if short.is_some() { 1 } else { 1 + (draw(seed, stream::LINES, n64) % 2) as usize };
        let mut lines: Vec<LineRequest> = Vec::new();
        for k in 0..wanted.min(plenty.len()) {
            let start = (draw(seed, stream::SKU, n64 * 8 + k as u64) % plenty.len() as u64) as usize;
            // The next SKU not already on the order.
            let pick = (0..plenty.len())
                .map(|step| plenty[(start + step) % plenty.len()])
                .find(|s| lines.iter().all(|l| l.sku.as_deref() != Some(s.sku.as_str())));
            if let Some(sku) = pick {
                let quantity = 1 + (draw(seed, stream::QUANTITY, n64 * 8 + k as u64) % 2) as i64;
                lines.push(LineRequest {
                    sku: Some(sku.sku.clone()),
                    quantity: Some(quantity.min(sku.shipbob_fulfillable.max(1))),
                    ..LineRequest::default()
                });
            }
        }
        if short.is_some() {
            let quantity =
                scarce.shipbob_fulfillable.max(0) + 1 + (draw(seed, stream::QUANTITY, n64) % 2) as i64;
            lines.push(LineRequest {
                sku: Some(scarce.sku.clone()),
                quantity: Some(quantity),
                ..LineRequest::default()
            });
        }
        // About one order in four is a VIP's, and so is the second short one: the inbox routes those to the VIP
        // desk.
        let vip = draw(seed, stream::VIP, n64).is_multiple_of(4) || self.short_at.keys().nth(1) == Some(&n);
        let request = OrderRequest {
            email: Some(email),
            lines,
            tags: if vip { vec!["vip".to_owned()] } else { Vec::new() },
            ..OrderRequest::default()
        };
        let order = world
            .sandbox
            .place_order(&request)
            .map_err(|error| anyhow::anyhow!("the sandbox placed no order: {error}"))?;
        let id = order["admin_graphql_api_id"].as_str().context("the sandbox's order has no id")?.to_owned();
        self.placed.push(order["name"].as_str().unwrap_or_default().to_owned());
        if let Some(decision) = short {
            self.waiting_for_item.push(Short { order_id: id, decision });
        }
        self.orders += 1;
        Ok(())
    }

    /// A Stripe Checkout purchase of something in stock; a bad one also has a gift-wrap line with no SKU.
    fn checkout(&mut self, bad: bool, world: &World) -> anyhow::Result<()> {
        let summary = world.sandbox.world();
        let customers = &summary.customers[..summary.customers.len().min(6)];
        let n = if bad { 1 } else { 0 };
        let email = customers
            [(draw(self.seed, stream::CUSTOMER, 1_000 + n) % customers.len() as u64) as usize]
            .email
            .clone();
        let sku = summary
            .skus
            .iter()
            .filter(|s| s.shipbob_fulfillable >= PLENTY)
            .max_by_key(|s| s.shipbob_fulfillable)
            .context("the sandbox has no SKU in stock")?;
        let mut lines =
            vec![LineRequest { sku: Some(sku.sku.clone()), quantity: Some(1), ..LineRequest::default() }];
        if bad {
            lines.push(LineRequest {
                sku: None,
                title: Some("Gift wrap".to_owned()),
                price: Some(500),
                ..LineRequest::default()
            });
        }
        world
            .sandbox
            .create_checkout(&CheckoutRequest { email: Some(email), name: None, lines })
            .map_err(|error| anyhow::anyhow!("the sandbox made no checkout: {error}"))?;
        self.orders += 1;
        Ok(())
    }

    /// A customer writes in. Most tickets come from customers the store knows; one from someone it does not
    /// know at all, and one from someone it does not know who names an order number.
    fn open_ticket(&mut self, n: usize, world: &World) -> anyhow::Result<()> {
        const TOPICS: &[(&str, &str)] = &[
            (
                "Where is my order?",
                "Hi, I ordered last week and have not had a shipping e-mail yet. Can you check?",
            ),
            ("Exchange for another size", "The tee I got is a little small. Can I swap it for a large?"),
            (
                "Has my refund gone through?",
                "I sent something back a while ago. Has the refund been processed?",
            ),
            ("Package arrived damaged", "The box was crushed and the mug inside is chipped. What can we do?"),
            ("Change of address", "I moved last week. Can you update the address on my order?"),
        ];
        let seed = self.seed;
        let n64 = n as u64;
        // Both helpdesks from the start, then as drawn.
        let vendor = match n {
            0 => Helpdesk::Zendesk,
            1 => Helpdesk::Gorgias,
            _ if draw(seed, stream::HELPDESK, n64) % 5 < 3 => Helpdesk::Zendesk,
            _ => Helpdesk::Gorgias,
        };
        // Two of the later tickets (from the fourth on) come from people the store does not know: two different
        // slots among the last seven.
        let later = (TICKETS - 3) as u64;
        let stranger = (draw(seed, stream::STRANGERS, 0) % later) as usize;
        let by_number =
            (stranger + 1 + (draw(seed, stream::STRANGERS, 1) % (later - 1)) as usize) % later as usize;
        let (stranger, by_number) = (3 + stranger, 3 + by_number);
        let (email, subject, body) = if n == stranger {
            (
                "curious.shopper@elsewhere.example".to_owned(),
                "Do you ship to Canada?".to_owned(),
                "Hi, before I order: do you ship to Toronto, and how long does it take?".to_owned(),
            )
        } else if n == by_number && !self.placed.is_empty() {
            let order = self.placed[self.placed.len() / 2].clone();
            (
                "gift.recipient@elsewhere.example".to_owned(),
                format!("A gift: order {order}"),
                format!("Hello, order {order} was a present to me and I would like to exchange one item."),
            )
        } else {
            let summary = world.sandbox.world();
            // Customers with orders, in the world's order.
            let buyers: Vec<&str> =
                summary.customers.iter().filter(|c| !c.orders.is_empty()).map(|c| c.email.as_str()).collect();
            let email = buyers
                .get((draw(seed, stream::CUSTOMER, 2_000 + n64) % buyers.len().max(1) as u64) as usize)
                .copied()
                .context("the sandbox has no customer with an order")?
                .to_owned();
            let (subject, body) = TOPICS[(draw(seed, stream::TOPIC, n64) % TOPICS.len() as u64) as usize];
            (email, subject.to_owned(), body.to_owned())
        };
        world
            .sandbox
            .open_ticket(&TicketRequest { vendor, email, name: None, subject, body })
            .map_err(|error| anyhow::anyhow!("the sandbox opened no ticket: {error}"))?;
        self.tickets += 1;
        Ok(())
    }

    /// `POST /api/inbox/{id}/{decision}`, as a person's tool would; a wait for restock plans the restock.
    async fn decide(
        &mut self,
        now: i64,
        item: &str,
        (decision, by, fields): (&'static str, &str, Value),
        short: &[(String, i64)],
        world: &World,
    ) -> anyhow::Result<()> {
        let url = format!("{}/api/inbox/{item}/{decision}", world.engine_url);
        let token = world.token_for(by).await?;
        let response = world
            .client
            .post(&url)
            .bearer_auth(token)
            .json(&json!({ "fields": fields }))
            .send()
            .await
            .with_context(|| format!("deciding inbox item {item}"))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        anyhow::ensure!(status.is_success(), "the engine answered {status} to {decision} on {item}: {body}");
        if decision == "wait_for_restock" {
            // The warehouse gets more of every short SKU a day later, at its first center: enough for the order
            // and some to spare.
            for (sku, quantity) in short {
                let restock = Act::Restock { sku: sku.clone(), quantity: quantity + 12 };
                self.at(now + DAY + 30 * MINUTE, restock);
            }
        }
        Ok(())
    }

    /// What the last act led to: the inbox item a short order raised (its person decides two hours later), and
    /// new 3PL orders (the warehouse ships each the next day).
    async fn observe(&mut self, now: i64, world: &World) -> anyhow::Result<()> {
        if !self.waiting_for_item.is_empty() {
            let items = world.store.inbox(Some("open"), 100_000).await?;
            let mut still = Vec::new();
            for short in std::mem::take(&mut self.waiting_for_item) {
                let found = items.iter().find_map(|item| {
                    let context = serde_json::from_str::<Value>(&item.context).unwrap_or_default();
                    (item.workflow == FULFILLMENT_WORKFLOW && context["order_id"] == short.order_id.as_str())
                        .then_some((item, context))
                });
                match (found, short.decision) {
                    (Some((item, context)), Some(decision)) => {
                        let short = context["short_lines"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|line| {
                                Some((line["sku"].as_str()?.to_owned(), line["quantity"].as_i64()?))
                            })
                            .collect();
                        let fields = if decision == "cancel" {
                            json!({ "refund": true, "restock": true })
                        } else {
                            json!({})
                        };
                        let act = Act::Decide {
                            item: item.id.clone(),
                            decision,
                            by: item.assignee.clone(),
                            fields,
                            short,
                        };
                        self.at(now + 2 * HOUR + 5 * MINUTE, act);
                    }
                    (Some(_), None) => {}
                    (None, _) => still.push(short),
                }
            }
            self.waiting_for_item = still;
        }
        let summary = world.sandbox.world();
        for order in &summary.shipbob_orders {
            if self.known_3pl.insert(order.id) {
                self.at(now + DAY + 10 * MINUTE, Act::Ship(order.id));
            }
        }
        Ok(())
    }
}
