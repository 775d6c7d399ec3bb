//! The sample events `seam trigger` sends: one per (source, event type) it knows, shaped as each vendor sends them
//! (Stripe event envelopes, Shopify's REST-shaped resources with `admin_graphql_api_id`, Zendesk's event bodies,
//! the body Seam documents for Gorgias' HTTP integration, ShipBob's webhook bodies).

use serde_json::{Value, json};

/// What a sample is about; every field has a default made up for the occasion.
#[derive(Debug, Clone, Default)]
pub struct SampleArgs {
    pub invoice: Option<String>,
    pub customer: Option<String>,
    pub amount: i64,
    pub stripe_retrying: bool,
    pub email: Option<String>,
    pub sku: Option<String>,
    pub order: Option<String>,
    pub ticket: Option<String>,
}

/// The (source, event types) `seam trigger` can send.
pub const EVENTS: &[(&str, &[&str])] = &[
    (
        "stripe",
        &[
            "invoice.payment_failed",
            "invoice.paid",
            "invoice.payment_succeeded",
            "invoice.voided",
            "invoice.marked_uncollectible",
            "checkout.session.completed",
        ],
    ),
    ("shopify", &["orders/create", "inventory_levels/update"]),
    ("zendesk", &["ticket.created"]),
    ("gorgias", &["ticket-created"]),
    ("shipbob", &["order.shipped", "order.shipment.delivered", "return.created"]),
];

/// The event type as the vendor writes it: Zendesk's `ticket.created` is `zen:event-type:ticket.created`.
pub fn vendor_type(source: &str, event: &str) -> String {
    match (source, event) {
        ("zendesk", "ticket.created") => "zen:event-type:ticket.created".to_owned(),
        _ => event.to_owned(),
    }
}

pub fn random_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..24].to_owned()
}

/// A number that looks like one of the vendor's 64-bit ids (above 2^53, as Shopify's are).
fn big_id() -> u64 {
    let bytes = uuid::Uuid::new_v4();
    9_007_199_254_740_993
        + u64::from_le_bytes(bytes.as_bytes()[..8].try_into().unwrap_or_default()) % 1_000_000_000_000
}

/// The sample body for `source` `event` at `now`; `None` when `seam trigger` does not know that event.
pub fn sample(source: &str, event: &str, args: &SampleArgs, now: i64) -> Option<Value> {
    let email = args.email.clone().unwrap_or_else(|| "jenny.rosen@example.com".to_owned());
    let sku = args.sku.clone().unwrap_or_else(|| "MUG-01".to_owned());
    match (source, event) {
        ("stripe", "checkout.session.completed") => Some(stripe_checkout(&email, args, now)),
        ("stripe", kind) if EVENTS[0].1.contains(&kind) => {
            let invoice = args.invoice.clone().unwrap_or_else(|| format!("in_{}", random_suffix()));
            let customer = args.customer.clone().unwrap_or_else(|| format!("cus_{}", &random_suffix()[..14]));
            Some(stripe_invoice_event(kind, &invoice, &customer, args.amount, now, args.stripe_retrying))
        }
        ("shopify", "orders/create") => Some(shopify_order(&email, &sku, args, now)),
        ("shopify", "inventory_levels/update") => {
            let item = big_id();
            Some(json!({
                "inventory_item_id": item,
                "location_id": 24_826_418,
                "available": 12,
                "updated_at": rfc3339(now),
                "admin_graphql_api_id": format!("gid://shopify/InventoryLevel/24826418?inventory_item_id={item}"),
            }))
        }
        ("zendesk", "ticket.created") => {
            let ticket: u64 =
                args.ticket.as_deref().and_then(|t| t.parse().ok()).unwrap_or(big_id() % 100_000);
            Some(json!({
                "account_id": 12345,
                "detail": {
                    "actor_id": 123_456, "assignee_id": null, "brand_id": null, "created_at": rfc3339(now),
                    "description": format!("Hi, where is my order {}?", args.order.clone().unwrap_or_else(|| "#1001".into())),
                    "id": ticket, "is_public": true, "priority": "normal", "requester_id": 1234,
                    "status": "new", "subject": "Where is my order?", "tags": "", "type": "question",
                    "updated_at": rfc3339(now), "via": { "channel": "web_form" }
                },
                "event": {},
                "id": uuid::Uuid::new_v4().to_string(),
                "subject": format!("ticket:{ticket}:created"),
                "time": rfc3339(now),
                "type": "zen:event-type:ticket.created",
                "zendesk_event_version": "2022-11-22"
            }))
        }
        ("gorgias", "ticket-created") => {
            let ticket = args.ticket.clone().unwrap_or_else(|| (big_id() % 1_000_000).to_string());
            Some(json!({
                "id": format!("ticket-created-{ticket}"),
                "type": "ticket-created",
                "ticket": {
                    "id": ticket,
                    "subject": "Where is my order?",
                    "channel": "email",
                    "customer": { "email": email, "name": "Jenny Rosen" }
                }
            }))
        }
        ("shipbob", topic) if EVENTS[4].1.contains(&topic) => {
            let order = args.order.clone().unwrap_or_else(|| format!("gid://shopify/Order/{}", big_id()));
            Some(json!({
                "topic": topic,
                "id": big_id() % 100_000_000,
                "reference_id": order,
                "order_number": "#1001",
                "status": if topic == "return.created" { "AwaitingArrival" } else { "Fulfilled" },
                "created_date": rfc3339(now),
                "shipments": [{
                    "id": big_id() % 100_000_000,
                    "status": if topic == "order.shipment.delivered" { "Delivered" } else { "Completed" },
                    "tracking": { "carrier": "USPS", "tracking_number": "9400100000000000000000", "tracking_url": "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400100000000000000000" }
                }]
            }))
        }
        _ => None,
    }
}

fn rfc3339(unix: i64) -> String {
    seam_flow::Timestamp::from_unix_seconds(unix).to_string()
}

fn stripe_checkout(email: &str, args: &SampleArgs, now: i64) -> Value {
    let session = format!("cs_test_{}", random_suffix());
    json!({
        "id": format!("evt_{}", random_suffix()),
        "object": "event",
        "api_version": "2024-06-20",
        "created": now,
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": "checkout.session.completed",
        "data": { "object": {
            "id": session,
            "object": "checkout.session",
            "amount_total": args.amount,
            "currency": "usd",
            "customer": args.customer,
            "customer_details": { "email": email, "name": "Jenny Rosen", "address": {
                "line1": "1 Market St", "line2": null, "city": "San Francisco", "state": "CA",
                "postal_code": "94105", "country": "US" } },
            "shipping_details": null,
            "mode": "payment",
            "payment_intent": format!("pi_{}", random_suffix()),
            "payment_status": "paid",
            "status": "complete"
        }}
    })
}

fn shopify_order(email: &str, sku: &str, args: &SampleArgs, now: i64) -> Value {
    let id = big_id();
    let name = args.order.clone().unwrap_or_else(|| format!("#{}", 1000 + id % 9000));
    let price = format!("{}.{:02}", args.amount / 100, args.amount % 100);
    json!({
        "id": id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{id}"),
        "name": name,
        "email": email,
        "created_at": rfc3339(now),
        "currency": "USD",
        "total_price": price,
        "financial_status": "paid",
        "fulfillment_status": null,
        "tags": "",
        "line_items": [{
            "id": big_id(),
            "admin_graphql_api_id": format!("gid://shopify/LineItem/{}", big_id()),
            "sku": sku, "title": "Stoneware mug", "name": "Stoneware mug", "quantity": 1, "price": price
        }],
        "shipping_address": {
            "name": "Jenny Rosen", "address1": "1 Market St", "address2": null, "city": "San Francisco",
            "province_code": "CA", "zip": "94105", "country_code": "US"
        },
        "customer": { "id": big_id(), "email": email }
    })
}

/// A Stripe event envelope around an invoice, in the shape Stripe sends (API version 2024-06-20 fields).
/// `stripe_retrying`: a failure says when Stripe retries (`next_payment_attempt`), as with its automatic retries on.
pub fn stripe_invoice_event(
    event_type: &str,
    invoice: &str,
    customer: &str,
    amount: i64,
    now: i64,
    stripe_retrying: bool,
) -> Value {
    let (status, paid, attempt_count) = match event_type {
        "invoice.paid" | "invoice.payment_succeeded" => ("paid", true, 2),
        "invoice.voided" => ("void", false, 1),
        "invoice.marked_uncollectible" => ("uncollectible", false, 3),
        _ => ("open", false, 1),
    };
    json!({
        "id": format!("evt_{}", random_suffix()),
        "object": "event",
        "api_version": "2024-06-20",
        "created": now,
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": event_type,
        "data": {
            "object": {
                "id": invoice,
                "object": "invoice",
                "customer": customer,
                "customer_email": "jenny.rosen@example.com",
                "amount_due": amount,
                "amount_paid": if paid { amount } else { 0 },
                "amount_remaining": if paid { 0 } else { amount },
                "currency": "usd",
                "number": format!("SEAM-{}", &invoice[invoice.len().saturating_sub(4)..].to_uppercase()),
                "status": status,
                "paid": paid,
                "attempt_count": attempt_count,
                "attempted": true,
                "billing_reason": "subscription_cycle",
                "collection_method": "charge_automatically",
                "created": now - 3600,
                "next_payment_attempt": if !paid && stripe_retrying { json!(now + 3 * 86_400) } else { Value::Null },
                "livemode": false
            }
        }
    })
}
