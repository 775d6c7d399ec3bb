//! Stripe's checkout additions: checkout sessions (made by the admin endpoint, as a buyer completing Checkout
//! would), their line items with `expand[]=data.price.product` (each catalogue product carries `metadata.sku`; a
//! custom line's product has none), and payment intents whose metadata Seam updates with
//! `POST /v1/payment_intents/{id}` under an `Idempotency-Key` (through [`Sandbox::post`], so replay and
//! conflicts behave as for every other Stripe `POST`).

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::SandboxHandle;
use crate::api::{respond_stripe, retrieve, v1_post};
use crate::state::{Action, Sandbox, StripeError, parse_form};

/// A completed Checkout session.
#[derive(Debug, Clone)]
pub(crate) struct Checkout {
    pub id: String,
    pub created: i64,
    pub customer: String,
    pub email: String,
    pub name: String,
    pub currency: String,
    pub lines: Vec<CheckoutLine>,
    pub payment_intent: String,
    pub address: Value,
}

/// One line of a session: a price of a product.
#[derive(Debug, Clone)]
pub(crate) struct CheckoutLine {
    pub id: String,
    pub description: String,
    pub quantity: i64,
    pub unit_amount: i64,
    pub price: String,
    pub product: String,
    pub sku: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct PaymentIntent {
    pub id: String,
    pub created: i64,
    pub amount: i64,
    pub currency: String,
    pub customer: String,
    pub latest_charge: String,
    pub description: Option<String>,
    pub receipt_email: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

impl PaymentIntent {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": 0,
            "amount_received": self.amount,
            "capture_method": "automatic",
            "client_secret": format!("{}_secret_sandbox", self.id),
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "description": self.description,
            "last_payment_error": null,
            "latest_charge": self.latest_charge,
            "livemode": false,
            "metadata": self.metadata,
            "payment_method": null,
            "payment_method_types": ["card"],
            "receipt_email": self.receipt_email,
            "status": "succeeded",
        })
    }
}

impl CheckoutLine {
    fn product_json(&self, created: i64) -> Value {
        let metadata: BTreeMap<&str, &str> = self.sku.iter().map(|s| ("sku", s.as_str())).collect();
        json!({
            "id": self.product,
            "object": "product",
            "active": true,
            "created": created,
            "default_price": self.price,
            "description": null,
            "images": [],
            "livemode": false,
            "metadata": metadata,
            "name": self.description,
            "shippable": true,
            "type": "good",
            "updated": created,
        })
    }

    fn to_json(&self, currency: &str, created: i64, expand_product: bool) -> Value {
        let total = self.unit_amount * self.quantity;
        json!({
            "id": self.id,
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": total,
            "amount_tax": 0,
            "amount_total": total,
            "currency": currency,
            "description": self.description,
            "price": {
                "id": self.price,
                "object": "price",
                "active": true,
                "billing_scheme": "per_unit",
                "created": created,
                "currency": currency,
                "livemode": false,
                "lookup_key": null,
                "metadata": {},
                "nickname": null,
                "product": if expand_product { self.product_json(created) } else { json!(self.product) },
                "recurring": null,
                "tax_behavior": "unspecified",
                "type": "one_time",
                "unit_amount": self.unit_amount,
                "unit_amount_decimal": self.unit_amount.to_string(),
            },
            "quantity": self.quantity,
        })
    }
}

impl Checkout {
    pub(crate) fn total(&self) -> i64 {
        self.lines.iter().map(|l| l.unit_amount * l.quantity).sum()
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "checkout.session",
            "amount_subtotal": self.total(),
            "amount_total": self.total(),
            "automatic_tax": { "enabled": false, "liability": null, "status": null },
            "cancel_url": "https://seam-sandbox.example/cart",
            "client_reference_id": null,
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "customer_creation": "always",
            "customer_details": {
                "address": self.address,
                "email": self.email,
                "name": self.name,
                "phone": null,
                "tax_exempt": "none",
                "tax_ids": [],
            },
            "customer_email": self.email,
            "expires_at": self.created + 86_400,
            "invoice": null,
            "livemode": false,
            "locale": null,
            "metadata": {},
            "mode": "payment",
            "payment_intent": self.payment_intent,
            "payment_method_types": ["card"],
            "payment_status": "paid",
            "shipping_details": { "address": self.address, "name": self.name },
            "status": "complete",
            "success_url": "https://seam-sandbox.example/thanks",
            "total_details": { "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0 },
            "url": null,
        })
    }
}

impl Sandbox {
    /// A completed, paid checkout session and its payment intent; emits `checkout.session.completed`.
    pub(crate) fn complete_checkout(&mut self, mut checkout: Checkout, now: i64) -> Value {
        let latest_charge = self.new_id("ch");
        let intent = PaymentIntent {
            id: checkout.payment_intent.clone(),
            created: now,
            amount: checkout.total(),
            currency: checkout.currency.clone(),
            customer: checkout.customer.clone(),
            latest_charge,
            description: None,
            receipt_email: Some(checkout.email.clone()),
            metadata: BTreeMap::new(),
        };
        self.payment_intents.push(intent);
        checkout.created = now;
        let object = checkout.to_json();
        self.emit_automatic(checkout.id.clone(), "checkout.session.completed", object.clone(), now);
        self.checkouts.push(checkout);
        object
    }

    pub(crate) fn checkout(&self, id: &str) -> Option<&Checkout> {
        self.checkouts.iter().find(|c| c.id == id)
    }

    pub(crate) fn payment_intent(&self, id: &str) -> Option<Value> {
        self.payment_intents.iter().find(|p| p.id == id).map(PaymentIntent::to_json)
    }

    /// `POST /v1/payment_intents/{id}`: `metadata[k]=v` sets a key (an empty value removes it).
    pub(crate) fn update_payment_intent(
        &mut self,
        id: &str,
        params: &[(String, String)],
    ) -> Result<Value, StripeError> {
        let Some(intent) = self.payment_intents.iter_mut().find(|p| p.id == id) else {
            return Err(StripeError::missing("payment_intent", id, "intent"));
        };
        for (name, value) in params {
            if let Some(key) = name.strip_prefix("metadata[").and_then(|k| k.strip_suffix(']')) {
                if value.is_empty() {
                    intent.metadata.remove(key);
                } else {
                    intent.metadata.insert(key.to_owned(), value.clone());
                }
            } else if name == "description" {
                intent.description = Some(value.clone());
            } else if name == "receipt_email" {
                intent.receipt_email = Some(value.clone());
            }
        }
        Ok(intent.to_json())
    }
}

pub(crate) fn routes() -> Router<SandboxHandle> {
    Router::new()
        .route("/v1/checkout/sessions/{id}", get(get_session))
        .route("/v1/checkout/sessions/{id}/line_items", get(line_items))
        .route("/v1/payment_intents/{id}", get(get_payment_intent).post(update_payment_intent))
}

async fn get_session(State(h): State<SandboxHandle>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    retrieve(h, headers, "checkout.session", &id, |s| s.checkout(&id).map(Checkout::to_json)).await
}

async fn get_payment_intent(
    State(h): State<SandboxHandle>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    retrieve(h, headers, "payment_intent", &id, |s| s.payment_intent(&id)).await
}

async fn update_payment_intent(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    v1_post(&h, &headers, &uri, &body, Action::UpdatePaymentIntent(id))
}

/// `GET /v1/checkout/sessions/{id}/line_items` (`limit`, `starting_after`, `expand[]=data.price.product`).
async fn line_items(
    State(h): State<SandboxHandle>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match parse_form(query.as_deref().unwrap_or("")) {
        Ok(params) => params,
        Err(message) => return respond_stripe(Err(StripeError::invalid(message))),
    };
    let mut limit = 10usize;
    let mut after: Option<String> = None;
    let mut expand_product = false;
    for (name, value) in &params {
        match name.split('[').next().unwrap_or(name) {
            "limit" => match value.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => limit = n,
                _ => {
                    return respond_stripe(Err(StripeError::invalid(format!(
                        "Invalid integer: {value}; limit must be 1 to 100"
                    ))));
                }
            },
            "starting_after" => after = Some(value.clone()),
            "ending_before" => {}
            "expand" => match value.as_str() {
                "data.price.product" => expand_product = true,
                "data.price" | "data.discounts" | "data.taxes" => {}
                other => {
                    return respond_stripe(Err(StripeError::invalid(format!(
                        "This property cannot be expanded ({other})."
                    ))));
                }
            },
            _ => {
                return respond_stripe(Err(StripeError::invalid(format!(
                    "Received unknown parameter: {name}"
                ))));
            }
        }
    }
    let path = format!("/v1/checkout/sessions/{id}/line_items");
    let session = id.clone();
    retrieve(h, headers, "checkout.session", &id, move |s| {
        let checkout = s.checkout(&session)?;
        let start =
            after.as_ref().and_then(|a| checkout.lines.iter().position(|l| &l.id == a)).map_or(0, |i| i + 1);
        let page: Vec<Value> = checkout
            .lines
            .iter()
            .skip(start)
            .take(limit)
            .map(|l| l.to_json(&checkout.currency, checkout.created, expand_product))
            .collect();
        let has_more = start + page.len() < checkout.lines.len();
        Some(json!({ "object": "list", "data": page, "has_more": has_more, "url": path }))
    })
    .await
}
