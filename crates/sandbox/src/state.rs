//! The sandbox's Stripe account: customers, invoices, charges, events, idempotency records and counters.
//!
//! [`Sandbox`] is the whole state and every rule that changes it. It does no I/O and never reads the clock: `now`
//! (Unix seconds) is an argument, and emitted events wait in an outbox that the server drains and delivers.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::scenario::{self, Decline, Outcome, Scenario};

/// The API version the sandbox's objects and events are shaped after (the version of the Stripe sample events in
/// `fixtures/stripe/events`: invoices still carry `charge`, `payment_intent` and `paid`).
pub const API_VERSION: &str = "2020-08-27";

/// Stripe's idempotency keys are at most this long.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

const DAY: i64 = 86_400;
/// When Stripe's default retry schedule would try again after a failure (shown in `next_payment_attempt`).
const NEXT_ATTEMPT_AFTER: i64 = 3 * DAY;

/// An error in Stripe's shape: the HTTP status and the `error` object. Boxed, so a `Result` stays small; the
/// fields are read through [`ErrorDetail`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} {}: {}", .0.status, .0.kind, .0.message)]
pub struct StripeError(Box<ErrorDetail>);

/// What a [`StripeError`] says.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDetail {
    pub status: u16,
    /// `type`: `card_error`, `invalid_request_error`, `idempotency_error`, ...
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub decline_code: Option<&'static str>,
    pub advice_code: Option<&'static str>,
    pub message: String,
    pub param: Option<String>,
    pub doc_url: Option<&'static str>,
    /// The failed charge, for card errors.
    pub charge: Option<String>,
}

impl std::ops::Deref for StripeError {
    type Target = ErrorDetail;

    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

impl StripeError {
    pub(crate) fn new(status: u16, kind: &'static str, message: impl Into<String>) -> Self {
        StripeError(Box::new(ErrorDetail {
            status,
            kind,
            code: None,
            decline_code: None,
            advice_code: None,
            message: message.into(),
            param: None,
            doc_url: None,
            charge: None,
        }))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        StripeError::new(400, "invalid_request_error", message)
    }

    fn with_code(mut self, code: &'static str) -> Self {
        self.0.code = Some(code);
        self
    }

    fn with_param(mut self, param: impl Into<String>) -> Self {
        self.0.param = Some(param.into());
        self
    }

    /// 404 `resource_missing`: `No such invoice: 'in_…'`.
    pub(crate) fn missing(what: &str, id: &str, param: &str) -> Self {
        let mut e = StripeError::new(404, "invalid_request_error", format!("No such {what}: '{id}'"))
            .with_code("resource_missing")
            .with_param(param);
        e.0.doc_url = Some("https://stripe.com/docs/error-codes/resource-missing");
        e
    }

    fn card(decline: &Decline, charge: String) -> Self {
        StripeError(Box::new(ErrorDetail {
            status: 402,
            kind: "card_error",
            code: Some(decline.code),
            decline_code: Some(decline.decline_code),
            advice_code: Some(decline.advice_code),
            message: decline.message.to_owned(),
            param: None,
            doc_url: Some(decline.doc_url),
            charge: Some(charge),
        }))
    }

    fn idempotency(message: String) -> Self {
        StripeError::new(400, "idempotency_error", message)
    }

    /// The response body: `{"error": {...}}`, with `request_log_url` when a request id is given.
    pub fn to_json(&self, request_id: Option<&str>) -> Value {
        let mut error = serde_json::Map::new();
        let mut put = |k: &str, v: Value| {
            error.insert(k.to_owned(), v);
        };
        if let Some(advice) = self.advice_code {
            put("advice_code", json!(advice));
        }
        if let Some(charge) = &self.charge {
            put("charge", json!(charge));
        }
        if let Some(code) = self.code {
            put("code", json!(code));
        }
        if let Some(decline) = self.decline_code {
            put("decline_code", json!(decline));
        }
        if let Some(doc) = self.doc_url {
            put("doc_url", json!(doc));
        }
        put("message", json!(self.message));
        if let Some(param) = &self.param {
            put("param", json!(param));
        }
        if let Some(req) = request_id {
            put("request_log_url", json!(format!("https://dashboard.stripe.com/test/logs/{req}")));
        }
        put("type", json!(self.kind));
        json!({ "error": Value::Object(error) })
    }
}

/// `POST /_sandbox/renewals`: make subscription renewal invoices whose first automatic charge fails.
///
/// Either `count` invoices with drawn customers and plan amounts, or one (or `count`) with the given `amount`,
/// `currency`, `email`, `name`. `outcome` overrides the drawn outcome for all of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenewalRequest {
    /// How many invoices (1..=1000, default 1).
    pub count: Option<u32>,
    /// Amount due in minor units (default: drawn from typical plan prices).
    pub amount: Option<i64>,
    /// Three-letter ISO code, lower case (default `usd`).
    pub currency: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    /// Kept in the customer's `metadata.timezone` (Stripe customers have no time zone field); default drawn.
    pub customer_timezone: Option<String>,
    pub outcome: Option<Outcome>,
    /// `charge_automatically` (default: Stripe charges the card at once, which fails) or `send_invoice` (no
    /// automatic charge and no event; the invoice can be sent with `POST /v1/invoices/{id}/send`).
    pub collection_method: Option<String>,
    /// Stripe's automatic retries (Smart Retries, or a custom schedule): how many times Stripe itself retries
    /// after the first failure. Left out or 0: retries are off, and a failed invoice has no
    /// `next_payment_attempt`. Each retry happens when `POST /_sandbox/invoices/{id}/automatic_retry` says so.
    pub smart_retries: Option<u32>,
    /// What Stripe does once its retries are spent (Billing settings, "manage failed payments"): `past_due`
    /// (leave the invoice open; the default), `uncollectible` (mark the invoice uncollectible) or
    /// `cancel_subscription` (cancel the subscription, which sends `customer.subscription.deleted`).
    pub end_of_retries: Option<String>,
}

/// The idempotency counters of `GET /_sandbox/calls`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CallCounts {
    /// Per `Idempotency-Key` header value seen on a `POST /v1/...` request.
    pub by_key: BTreeMap<String, KeyCalls>,
    /// Every `POST /v1/invoices/{id}/pay` request, replays and errors included.
    pub pay_calls: u64,
    /// Charge attempts made by `pay` calls (replays do not charge again).
    pub charge_attempts: u64,
    /// Requests answered from an idempotency record.
    pub replays: u64,
    /// Every request to any vendor's face, in the order answered: vendor, method, path, idempotency key or
    /// `reference_id`, status, fault.
    pub log: Vec<crate::calls::CallRecord>,
}

/// The requests that carried one idempotency key.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KeyCalls {
    /// Every request with this key, replays and idempotency errors included.
    pub calls: u64,
    /// The distinct raw request bodies seen with this key, in first-seen order.
    pub bodies: Vec<String>,
    /// The path of the first request with this key.
    pub path: String,
    /// The status saved for this key (the one replays get), once a request with it has executed.
    pub status: Option<u16>,
}

/// Where an event's delivery to the webhook URL stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// No webhook URL is configured; the event is only listed.
    NotConfigured,
    /// Queued; no attempt finished yet.
    Pending,
    /// At least one attempt failed; more will follow.
    Retrying,
    /// A 2xx answer was received.
    Delivered,
    /// Every attempt failed.
    Failed,
}

impl DeliveryStatus {
    /// Delivered, failed or not configured: nothing more will happen.
    pub fn is_final(self) -> bool {
        matches!(self, DeliveryStatus::NotConfigured | DeliveryStatus::Delivered | DeliveryStatus::Failed)
    }
}

/// One try at delivering an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryAttempt {
    /// 1-based.
    pub n: u32,
    /// When the request was sent (Unix seconds), also the signed timestamp.
    pub at: i64,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// The transport error, when it did not.
    pub error: Option<String>,
}

/// An emitted event and its delivery record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created: i64,
    /// The id of `data.object`.
    pub object_id: String,
    pub delivery: DeliveryStatus,
    pub attempts: Vec<DeliveryAttempt>,
    /// The event as delivered.
    pub event: Value,
    /// The exact bytes POSTed (and signed).
    #[serde(skip)]
    pub body: String,
}

/// An invoice as `GET /_sandbox/invoices` lists it: its Stripe state and its scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceSummary {
    pub id: String,
    pub number: String,
    pub customer: String,
    pub customer_email: String,
    pub status: &'static str,
    pub amount_due: i64,
    pub currency: String,
    /// The invoice's 0-based index in this sandbox, which (with the seed) drew its outcome.
    pub index: u64,
    pub outcome: Outcome,
    /// The hard decline code every attempt gets, for [`Outcome::HardDecline`].
    pub hard_decline_code: Option<&'static str>,
    /// Charge attempts so far, the automatic first one included (Stripe's own `attempt_count` stops counting
    /// manual attempts after the first).
    pub charge_attempts: u32,
    /// `POST /v1/invoices/{id}/send` calls that succeeded.
    pub sends: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Open,
    Paid,
    Void,
    Uncollectible,
}

impl Status {
    const fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Paid => "paid",
            Status::Void => "void",
            Status::Uncollectible => "uncollectible",
        }
    }
}

#[derive(Debug, Clone)]
struct Customer {
    id: String,
    created: i64,
    email: String,
    name: String,
    currency: String,
    timezone: String,
    payment_method: String,
    delinquent: bool,
    invoices: u32,
}

impl Customer {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "customer",
            "address": null,
            "balance": 0,
            "created": self.created,
            "currency": self.currency,
            "default_source": null,
            "delinquent": self.delinquent,
            "description": null,
            "discount": null,
            "email": self.email,
            "invoice_prefix": "SEAM",
            "invoice_settings": {
                "custom_fields": null,
                "default_payment_method": self.payment_method,
                "footer": null,
                "rendering_options": null
            },
            "livemode": false,
            "metadata": { "timezone": self.timezone, "utc_offset": crate::scenario::standard_offset(&self.timezone) },
            "name": self.name,
            "next_invoice_sequence": self.invoices + 1,
            "phone": null,
            "preferred_locales": [],
            "shipping": null,
            "tax_exempt": "none",
            "test_clock": null
        })
    }
}

#[derive(Debug, Clone)]
struct Invoice {
    id: String,
    number: String,
    index: u64,
    outcome: Outcome,
    customer: usize,
    subscription: String,
    line: String,
    payment_intent: String,
    amount_due: i64,
    currency: String,
    created: i64,
    collection_method: &'static str,
    status: Status,
    /// Charge attempts made (the automatic one included); the next attempt is `attempts + 1`.
    attempts: u32,
    /// Stripe's `attempt_count`: the first attempt counts, later manual ones do not.
    attempt_count: u32,
    charge: Option<String>,
    paid_out_of_band: bool,
    next_payment_attempt: Option<i64>,
    finalized_at: i64,
    paid_at: Option<i64>,
    voided_at: Option<i64>,
    marked_uncollectible_at: Option<i64>,
    sends: u32,
    /// Stripe's automatic retries still to come.
    retries_left: u32,
    end_of_retries: &'static str,
    subscription_cancelled_at: Option<i64>,
}

impl Invoice {
    fn to_json(&self, customer: &Customer) -> Value {
        let paid = self.status == Status::Paid;
        let amount_paid = if paid { self.amount_due } else { 0 };
        let period_start = self.created - 30 * DAY;
        json!({
            "id": self.id,
            "object": "invoice",
            "account_country": "US",
            "account_name": "Seam Sandbox",
            "account_tax_ids": null,
            "amount_due": self.amount_due,
            "amount_paid": amount_paid,
            "amount_remaining": self.amount_due - amount_paid,
            "application_fee_amount": null,
            "attempt_count": self.attempt_count,
            "attempted": self.attempts > 0 || self.paid_out_of_band,
            "auto_advance": matches!(self.status, Status::Open),
            "automatic_tax": { "enabled": false, "status": null },
            "billing_reason": "subscription_cycle",
            "charge": self.charge,
            "collection_method": self.collection_method,
            "created": self.created,
            "currency": self.currency,
            "custom_fields": null,
            "customer": customer.id,
            "customer_address": null,
            "customer_email": customer.email,
            "customer_name": customer.name,
            "customer_phone": null,
            "customer_shipping": null,
            "customer_tax_exempt": "none",
            "customer_tax_ids": [],
            "default_payment_method": null,
            "default_source": null,
            "default_tax_rates": [],
            "description": null,
            "discount": null,
            "discounts": [],
            "due_date": if self.collection_method == "send_invoice" { Some(self.created + 30 * DAY) } else { None },
            "ending_balance": 0,
            "footer": null,
            "hosted_invoice_url": format!("https://invoice.stripe.com/i/acct_seamsandbox/test_{}", self.id),
            "invoice_pdf": format!("https://pay.stripe.com/invoice/acct_seamsandbox/test_{}/pdf", self.id),
            "last_finalization_error": null,
            "lines": {
                "object": "list",
                "data": [{
                    "id": self.line,
                    "object": "line_item",
                    "amount": self.amount_due,
                    "currency": self.currency,
                    "description": self.line_description(),
                    "discount_amounts": [],
                    "discountable": true,
                    "discounts": [],
                    "livemode": false,
                    "metadata": {},
                    "period": { "start": self.created, "end": self.created + 30 * DAY },
                    "proration": false,
                    "quantity": 1,
                    "subscription": self.subscription,
                    "type": "subscription"
                }],
                "has_more": false,
                "total_count": 1,
                "url": format!("/v1/invoices/{}/lines", self.id)
            },
            "livemode": false,
            "metadata": {},
            "next_payment_attempt": self.next_payment_attempt,
            "number": self.number,
            "on_behalf_of": null,
            "paid": paid,
            "paid_out_of_band": self.paid_out_of_band,
            "payment_intent": self.payment_intent,
            "payment_settings": { "payment_method_options": null, "payment_method_types": null },
            "period_end": self.created,
            "period_start": period_start,
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": null,
            "starting_balance": 0,
            "statement_descriptor": null,
            "status": self.status.as_str(),
            "status_transitions": {
                "finalized_at": self.finalized_at,
                "marked_uncollectible_at": self.marked_uncollectible_at,
                "paid_at": self.paid_at,
                "voided_at": self.voided_at
            },
            "subscription": self.subscription,
            "subtotal": self.amount_due,
            "tax": null,
            "test_clock": null,
            "total": self.amount_due,
            "total_discount_amounts": [],
            "total_tax_amounts": [],
            "transfer_data": null,
            "webhooks_delivered_at": self.created
        })
    }
}

impl Invoice {
    fn line_description(&self) -> String {
        format!("1 × Seam Sandbox plan (at {} / month)", format_amount(self.amount_due, &self.currency))
    }
}

fn format_amount(minor: i64, currency: &str) -> String {
    format!("{}.{:02} {}", minor / 100, minor % 100, currency.to_uppercase())
}

#[derive(Debug, Clone)]
struct Charge {
    json: Value,
}

/// The saved answer for one idempotency key.
#[derive(Debug, Clone)]
struct Saved {
    path: String,
    params: Vec<(String, String)>,
    status: u16,
    body: Value,
    request_id: String,
}

/// Which `POST /v1` endpoint a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Pay(String),
    Send(String),
    Void(String),
    MarkUncollectible(String),
    UpdatePaymentIntent(String),
}

/// A `POST /v1/...` request as the HTTP layer hands it over.
#[derive(Debug)]
pub(crate) struct PostRequest<'a> {
    pub path: &'a str,
    pub key: Option<&'a str>,
    pub body: &'a str,
    pub action: Action,
    pub request_id: &'a str,
}

/// The answer to a `POST /v1/...` request.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Value,
    /// On a replay: the request id of the request whose answer this is.
    pub original_request: Option<String>,
}

/// Who caused an event: Stripe itself (`request.id` null), a dashboard action, or an API request with its key.
#[derive(Debug, Clone, Copy)]
enum Cause<'a> {
    Automatic,
    Request { id: &'a str, key: Option<&'a str> },
}

/// The sandbox's whole state. See the module documentation.
#[derive(Debug)]
pub struct Sandbox {
    seed: u64,
    scenario: Scenario,
    webhooks: bool,
    customers: Vec<Customer>,
    customer_ids: HashMap<String, usize>,
    invoices: Vec<Invoice>,
    invoice_ids: HashMap<String, usize>,
    charges: HashMap<String, Charge>,
    events: Vec<EventRecord>,
    event_ids: HashMap<String, usize>,
    saved: HashMap<String, Saved>,
    counts: CallCounts,
    outbox: Vec<String>,
    /// Checkout sessions and payment intents (`stripe.rs`).
    pub(crate) checkouts: Vec<crate::stripe::Checkout>,
    pub(crate) payment_intents: Vec<crate::stripe::PaymentIntent>,
    /// Where object ids come from: the seed and a salt, never the global random source.
    ids: crate::world::Ids,
}

impl Sandbox {
    /// An empty account. `webhooks` says whether events will be delivered (otherwise they are listed as
    /// [`DeliveryStatus::NotConfigured`] and never enter the outbox).
    pub fn new(seed: u64, scenario: Scenario, webhooks: bool) -> Sandbox {
        Sandbox::with_salt(seed, scenario, webhooks, 0)
    }

    /// [`Sandbox::new`] whose ids are drawn with `salt` as well as the seed (the sandbox draws a salt at start so
    /// a restarted sandbox never repeats an id).
    pub(crate) fn with_salt(seed: u64, scenario: Scenario, webhooks: bool, salt: u64) -> Sandbox {
        let mut ids = crate::world::Ids::new(seed ^ 0x5712_19e5);
        ids.start_epoch(salt);
        Sandbox {
            ids,
            seed,
            scenario,
            webhooks,
            customers: Vec::new(),
            customer_ids: HashMap::new(),
            invoices: Vec::new(),
            invoice_ids: HashMap::new(),
            charges: HashMap::new(),
            events: Vec::new(),
            event_ids: HashMap::new(),
            saved: HashMap::new(),
            counts: CallCounts::default(),
            outbox: Vec::new(),
            checkouts: Vec::new(),
            payment_intents: Vec::new(),
        }
    }

    /// A customer made outside a renewal (the world's customers, a checkout's buyer), with the id the world
    /// drew for it.
    pub(crate) fn add_customer(&mut self, id: String, email: &str, name: &str, now: i64) -> String {
        let customer = Customer {
            payment_method: format!("pm_{}", id.trim_start_matches("cus_")),
            id,
            created: now,
            email: email.to_owned(),
            name: name.to_owned(),
            currency: "usd".to_owned(),
            timezone: "America/New_York".to_owned(),
            delinquent: false,
            invoices: 0,
        };
        let id = customer.id.clone();
        self.customer_ids.insert(id.clone(), self.customers.len());
        self.customers.push(customer);
        id
    }

    /// A Stripe-style id: the prefix, `_`, and 24 base-62 characters drawn from the seed and salt.
    pub(crate) fn new_id(&mut self, prefix: &str) -> String {
        self.ids.token_id(&format!("{prefix}_"), 24)
    }

    /// Queues event `id` for delivery again (a redelivery, as Stripe's dashboard does). False when there is no
    /// such event or events are not delivered.
    pub(crate) fn requeue(&mut self, id: &str) -> bool {
        if !self.webhooks {
            return false;
        }
        let Some(event) = self.event_mut(id) else { return false };
        event.delivery = DeliveryStatus::Pending;
        self.outbox.push(id.to_owned());
        true
    }

    /// Ids of events emitted since the last call, oldest first, for delivery.
    pub fn take_outbox(&mut self) -> Vec<String> {
        std::mem::take(&mut self.outbox)
    }

    pub fn calls(&self) -> &CallCounts {
        &self.counts
    }

    pub fn events(&self) -> &[EventRecord] {
        &self.events
    }

    pub fn event(&self, id: &str) -> Option<&EventRecord> {
        self.event_ids.get(id).map(|&i| &self.events[i])
    }

    pub(crate) fn event_mut(&mut self, id: &str) -> Option<&mut EventRecord> {
        self.event_ids.get(id).map(|&i| &mut self.events[i])
    }

    /// Every event's delivery is final.
    pub fn settled(&self) -> bool {
        self.events.iter().all(|e| e.delivery.is_final())
    }

    /// The invoice as `GET /v1/invoices/{id}` returns it.
    pub fn invoice(&self, id: &str) -> Option<Value> {
        let invoice = &self.invoices[*self.invoice_ids.get(id)?];
        Some(invoice.to_json(&self.customers[invoice.customer]))
    }

    /// `GET /v1/invoices`: Stripe's list object with the newest invoices first. Only `limit` (1 to 100, default
    /// 10) is accepted; there is no pagination, so `has_more` only says whether more exist.
    pub fn list_invoices(&self, query: &[(String, String)]) -> Result<Value, StripeError> {
        let mut limit = 10;
        for (name, value) in query {
            if name != "limit" {
                return Err(StripeError::invalid(format!("Received unknown parameter: {name}"))
                    .with_code("parameter_unknown")
                    .with_param(name.clone()));
            }
            let invalid = |message: String| {
                StripeError::invalid(message).with_code("parameter_invalid_integer").with_param("limit")
            };
            limit = value.parse::<i64>().map_err(|_| invalid(format!("Invalid integer: {value}")))?;
            if limit < 1 {
                return Err(invalid("This value must be greater than or equal to 1.".to_owned()));
            }
            if limit > 100 {
                return Err(invalid("This value must be less than or equal to 100.".to_owned()));
            }
        }
        let limit = usize::try_from(limit).unwrap_or(10);
        let data: Vec<Value> = self
            .invoices
            .iter()
            .rev()
            .take(limit)
            .map(|invoice| invoice.to_json(&self.customers[invoice.customer]))
            .collect();
        Ok(json!({
            "object": "list",
            "data": data,
            "has_more": self.invoices.len() > limit,
            "url": "/v1/invoices",
        }))
    }

    /// The customer as `GET /v1/customers/{id}` returns it.
    pub fn customer(&self, id: &str) -> Option<Value> {
        Some(self.customers[*self.customer_ids.get(id)?].to_json())
    }

    /// The charge as `GET /v1/charges/{id}` returns it.
    pub fn charge(&self, id: &str) -> Option<Value> {
        self.charges.get(id).map(|c| c.json.clone())
    }

    /// Every invoice with its scenario, oldest first.
    pub fn invoices(&self) -> Vec<InvoiceSummary> {
        self.invoices
            .iter()
            .map(|inv| {
                let customer = &self.customers[inv.customer];
                InvoiceSummary {
                    id: inv.id.clone(),
                    number: inv.number.clone(),
                    customer: customer.id.clone(),
                    customer_email: customer.email.clone(),
                    status: inv.status.as_str(),
                    amount_due: inv.amount_due,
                    currency: inv.currency.clone(),
                    index: inv.index,
                    outcome: inv.outcome,
                    hard_decline_code: match inv.outcome {
                        Outcome::HardDecline => {
                            scenario::attempt_result(self.seed, inv.index, 1, inv.outcome)
                                .map(|d| d.decline_code)
                        }
                        _ => None,
                    },
                    charge_attempts: inv.attempts,
                    sends: inv.sends,
                }
            })
            .collect()
    }

    /// `POST /_sandbox/renewals`. Returns the invoices as they are after the first (failed) automatic charge.
    pub fn create_renewals(&mut self, req: &RenewalRequest, now: i64) -> Result<Vec<Value>, StripeError> {
        let count = req.count.unwrap_or(1);
        if !(1..=1000).contains(&count) {
            return Err(
                StripeError::invalid(format!("count is {count}; expected 1 to 1000")).with_param("count")
            );
        }
        if let Some(amount) = req.amount
            && amount <= 0
        {
            return Err(StripeError::invalid(format!(
                "amount is {amount}; expected a positive amount in minor units"
            ))
            .with_param("amount"));
        }
        let currency = req.currency.clone().unwrap_or_else(|| "usd".to_owned());
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(StripeError::invalid(format!(
                "currency is `{currency}`; expected a three-letter ISO code in lower case"
            ))
            .with_param("currency"));
        }
        let collection_method = match req.collection_method.as_deref() {
            None | Some("charge_automatically") => "charge_automatically",
            Some("send_invoice") => "send_invoice",
            Some(other) => {
                return Err(StripeError::invalid(format!(
                    "collection_method is `{other}`; expected charge_automatically or send_invoice"
                ))
                .with_param("collection_method"));
            }
        };
        let end_of_retries = match req.end_of_retries.as_deref() {
            None | Some("past_due") => "past_due",
            Some("uncollectible") => "uncollectible",
            Some("cancel_subscription") => "cancel_subscription",
            Some(other) => {
                return Err(StripeError::invalid(format!(
                    "end_of_retries is `{other}`; expected past_due, uncollectible or cancel_subscription"
                ))
                .with_param("end_of_retries"));
            }
        };
        let retries = req.smart_retries.unwrap_or(0);
        if retries > 8 {
            return Err(StripeError::invalid(format!(
                "smart_retries is {retries}; Stripe retries at most 8 times"
            ))
            .with_param("smart_retries"));
        }
        let mut out = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let index = self.invoices.len() as u64;
            let (drawn_name, drawn_email, drawn_zone, drawn_amount) = scenario::profile(self.seed, index);
            let customer = Customer {
                id: self.new_id("cus"),
                created: now,
                email: req.email.clone().unwrap_or(drawn_email),
                name: req.name.clone().unwrap_or(drawn_name),
                currency: currency.clone(),
                timezone: req.customer_timezone.clone().unwrap_or_else(|| drawn_zone.to_owned()),
                payment_method: self.new_id("pm"),
                delinquent: false,
                invoices: 1,
            };
            let outcome = req.outcome.unwrap_or_else(|| self.scenario.outcome(self.seed, index));
            let invoice = Invoice {
                id: self.new_id("in"),
                number: format!("SEAM-{:04}", index + 1),
                index,
                outcome,
                customer: self.customers.len(),
                subscription: self.new_id("sub"),
                line: self.new_id("il"),
                payment_intent: self.new_id("pi"),
                amount_due: req.amount.unwrap_or(drawn_amount),
                currency: currency.clone(),
                created: now,
                collection_method,
                status: Status::Open,
                attempts: 0,
                attempt_count: 0,
                charge: None,
                paid_out_of_band: false,
                next_payment_attempt: None,
                finalized_at: now,
                paid_at: None,
                voided_at: None,
                marked_uncollectible_at: None,
                sends: 0,
                retries_left: if collection_method == "charge_automatically" { retries } else { 0 },
                end_of_retries,
                subscription_cancelled_at: None,
            };
            self.customer_ids.insert(customer.id.clone(), self.customers.len());
            self.customers.push(customer);
            let at = self.invoices.len();
            self.invoice_ids.insert(invoice.id.clone(), at);
            self.invoices.push(invoice);
            if collection_method == "charge_automatically" {
                // Stripe's own first attempt. Every outcome fails it, so this is never a success.
                let _ = self.attempt_charge(at, Cause::Automatic, now);
            }
            out.push(self.invoice_json(at));
        }
        Ok(out)
    }

    /// `POST /_sandbox/invoices/{id}/pay_out_of_band`: the customer paid another way. Emits `invoice.paid`.
    pub fn pay_out_of_band(&mut self, id: &str, request_id: &str, now: i64) -> Result<Value, StripeError> {
        let at = self.find_invoice(id, "invoice")?;
        self.settle_out_of_band(at, Cause::Request { id: request_id, key: None }, now)
    }

    /// `POST /_sandbox/invoices/{id}/void` (also `POST /v1/invoices/{id}/void`). Emits `invoice.voided`.
    pub fn void(&mut self, id: &str, request_id: &str, now: i64) -> Result<Value, StripeError> {
        let at = self.find_invoice(id, "invoice")?;
        self.void_at(at, Cause::Request { id: request_id, key: None }, now)
    }

    /// `POST /_sandbox/invoices/{id}/mark_uncollectible` (also under `/v1`). Emits `invoice.marked_uncollectible`.
    pub fn mark_uncollectible(&mut self, id: &str, request_id: &str, now: i64) -> Result<Value, StripeError> {
        let at = self.find_invoice(id, "invoice")?;
        self.mark_uncollectible_at(at, Cause::Request { id: request_id, key: None }, now)
    }

    /// The outcome drawn (or forced) for an invoice.
    pub fn outcome(&self, id: &str) -> Option<Outcome> {
        self.invoice_ids.get(id).map(|&i| self.invoices[i].outcome)
    }

    /// A `POST /v1/...` request: idempotency first, then the endpoint.
    pub(crate) fn post(&mut self, req: PostRequest<'_>, now: i64) -> Reply {
        let error = |e: StripeError| Reply {
            status: e.status,
            body: e.to_json(Some(req.request_id)),
            original_request: None,
        };
        if matches!(req.action, Action::Pay(_)) {
            self.counts.pay_calls += 1;
        }
        if let Some(key) = req.key {
            let calls = self.counts.by_key.entry(key.to_owned()).or_default();
            calls.calls += 1;
            if !calls.bodies.iter().any(|b| b == req.body) {
                calls.bodies.push(req.body.to_owned());
            }
            if calls.path.is_empty() {
                calls.path = req.path.to_owned();
            }
            if key.len() > MAX_IDEMPOTENCY_KEY_LEN {
                return error(StripeError::invalid(format!(
                    "Idempotency-Key is {} characters long; keys may be at most {MAX_IDEMPOTENCY_KEY_LEN}.",
                    key.len()
                )));
            }
        }
        let params = match parse_form(req.body) {
            Ok(params) => params,
            Err(message) => return error(StripeError::invalid(message)),
        };
        let mut canonical = params.clone();
        canonical.sort();
        if let Some(key) = req.key
            && let Some(saved) = self.saved.get(key)
        {
            if saved.path != req.path {
                return error(StripeError::idempotency(format!(
                    "Keys for idempotent requests can only be used for the same endpoint they were first used for \
                     ('{}' vs '{}'). Try using a key other than '{key}' if you meant to execute a different request.",
                    saved.path, req.path
                )));
            }
            if saved.params != canonical {
                return error(StripeError::idempotency(format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used \
                     with. Try using a key other than '{key}' if you meant to execute a different request."
                )));
            }
            self.counts.replays += 1;
            return Reply {
                status: saved.status,
                body: saved.body.clone(),
                original_request: Some(saved.request_id.clone()),
            };
        }
        // Parameter validation fails before the endpoint runs: Stripe saves no idempotent result for it.
        if let Err(e) = check_params(&req.action, &params) {
            return error(e);
        }
        let cause = Cause::Request { id: req.request_id, key: req.key };
        let result = match &req.action {
            Action::Pay(id) => {
                self.find_invoice(id, "invoice").and_then(|at| self.pay_at(at, &params, cause, now))
            }
            Action::Send(id) => self.find_invoice(id, "invoice").and_then(|at| self.send_at(at, cause, now)),
            Action::Void(id) => self.find_invoice(id, "invoice").and_then(|at| self.void_at(at, cause, now)),
            Action::MarkUncollectible(id) => {
                self.find_invoice(id, "invoice").and_then(|at| self.mark_uncollectible_at(at, cause, now))
            }
            Action::UpdatePaymentIntent(id) => self.update_payment_intent(id, &params),
        };
        let (status, body) = match result {
            Ok(body) => (200, body),
            Err(e) => (e.status, e.to_json(Some(req.request_id))),
        };
        if let Some(key) = req.key {
            self.saved.insert(
                key.to_owned(),
                Saved {
                    path: req.path.to_owned(),
                    params: canonical,
                    status,
                    body: body.clone(),
                    request_id: req.request_id.to_owned(),
                },
            );
            if let Some(calls) = self.counts.by_key.get_mut(key) {
                calls.status = Some(status);
            }
        }
        Reply { status, body, original_request: None }
    }

    fn find_invoice(&self, id: &str, param: &str) -> Result<usize, StripeError> {
        self.invoice_ids.get(id).copied().ok_or_else(|| StripeError::missing("invoice", id, param))
    }

    fn invoice_json(&self, at: usize) -> Value {
        let invoice = &self.invoices[at];
        invoice.to_json(&self.customers[invoice.customer])
    }

    fn pay_at(
        &mut self,
        at: usize,
        params: &[(String, String)],
        cause: Cause<'_>,
        now: i64,
    ) -> Result<Value, StripeError> {
        match self.invoices[at].status {
            Status::Paid => {
                return Err(StripeError::invalid("Invoice is already paid").with_code("invoice_already_paid"));
            }
            Status::Void => {
                return Err(StripeError::invalid("This invoice is void and can no longer be paid.")
                    .with_code("invoice_not_open"));
            }
            Status::Open | Status::Uncollectible => {}
        }
        let out_of_band = params.iter().any(|(k, v)| k == "paid_out_of_band" && v == "true");
        if out_of_band {
            return self.settle_out_of_band(at, cause, now);
        }
        self.attempt_charge(at, cause, now)
    }

    /// One charge attempt on the invoice's card, decided by its scenario. Success emits `invoice.paid` and
    /// `invoice.payment_succeeded`; a decline emits `invoice.payment_failed` and is a 402 card error.
    fn attempt_charge(&mut self, at: usize, cause: Cause<'_>, now: i64) -> Result<Value, StripeError> {
        let (attempt, result) = {
            let inv = &mut self.invoices[at];
            inv.attempts += 1;
            if inv.attempt_count == 0 {
                inv.attempt_count = 1;
            }
            (inv.attempts, scenario::attempt_result(self.seed, inv.index, inv.attempts, inv.outcome))
        };
        if matches!(cause, Cause::Request { .. }) {
            self.counts.charge_attempts += 1;
        }
        let charge_id = self.new_id("ch");
        let charge = self.charge_json(at, &charge_id, result, now);
        self.charges.insert(charge_id.clone(), Charge { json: charge });
        let customer = self.invoices[at].customer;
        let inv = &mut self.invoices[at];
        inv.charge = Some(charge_id.clone());
        match result {
            None => {
                inv.status = Status::Paid;
                inv.paid_at = Some(now);
                inv.next_payment_attempt = None;
                self.customers[customer].delinquent = false;
                self.emit(at, "invoice.paid", cause, now);
                self.emit(at, "invoice.payment_succeeded", cause, now);
                tracing::debug!(invoice = %self.invoices[at].id, attempt, "sandbox charge succeeded");
                Ok(self.invoice_json(at))
            }
            Some(decline) => {
                // Stripe's schedule moves only with its own attempts: a failed automatic attempt schedules the
                // next automatic retry while any is left, and none after the last (Stripe has given up). A
                // requested `pay` leaves the schedule as it was.
                let gave_up =
                    matches!(cause, Cause::Automatic) && inv.status == Status::Open && inv.retries_left == 0;
                if matches!(cause, Cause::Automatic) && inv.status == Status::Open {
                    inv.next_payment_attempt = (inv.retries_left > 0).then_some(now + NEXT_ATTEMPT_AFTER);
                }
                let had_retries = inv.attempt_count > 1;
                self.customers[customer].delinquent = true;
                self.emit(at, "invoice.payment_failed", cause, now);
                if gave_up && had_retries {
                    self.end_of_retries(at, now);
                }
                tracing::debug!(
                    invoice = %self.invoices[at].id,
                    attempt,
                    decline = decline.decline_code,
                    "sandbox charge declined"
                );
                Err(StripeError::card(decline, charge_id))
            }
        }
    }

    fn charge_json(&self, at: usize, id: &str, result: Option<&Decline>, now: i64) -> Value {
        let inv = &self.invoices[at];
        let customer = &self.customers[inv.customer];
        let paid = result.is_none();
        json!({
            "id": id,
            "object": "charge",
            "amount": inv.amount_due,
            "amount_captured": if paid { inv.amount_due } else { 0 },
            "amount_refunded": 0,
            "captured": paid,
            "created": now,
            "currency": inv.currency,
            "customer": customer.id,
            "description": format!("Subscription update ({})", inv.number),
            "failure_code": result.map(|d| d.code),
            "failure_message": result.map(|d| d.message),
            "invoice": inv.id,
            "livemode": false,
            "metadata": {},
            "outcome": match result {
                None => json!({
                    "network_status": "approved_by_network",
                    "reason": null,
                    "risk_level": "normal",
                    "seller_message": "Payment complete.",
                    "type": "authorized"
                }),
                Some(d) => json!({
                    "network_status": "declined_by_network",
                    "reason": d.decline_code,
                    "risk_level": "normal",
                    "seller_message": "The bank did not return any further details with this decline.",
                    "type": "issuer_declined"
                }),
            },
            "paid": paid,
            "payment_intent": inv.payment_intent,
            "payment_method": customer.payment_method,
            "refunded": false,
            "status": if paid { "succeeded" } else { "failed" }
        })
    }

    fn settle_out_of_band(&mut self, at: usize, cause: Cause<'_>, now: i64) -> Result<Value, StripeError> {
        let inv = &mut self.invoices[at];
        match inv.status {
            Status::Paid => {
                return Err(StripeError::invalid("Invoice is already paid").with_code("invoice_already_paid"));
            }
            Status::Void => {
                return Err(StripeError::invalid("This invoice is void and can no longer be paid.")
                    .with_code("invoice_not_open"));
            }
            Status::Open | Status::Uncollectible => {}
        }
        inv.status = Status::Paid;
        inv.paid_out_of_band = true;
        inv.paid_at = Some(now);
        inv.next_payment_attempt = None;
        let customer = inv.customer;
        self.customers[customer].delinquent = false;
        self.emit(at, "invoice.paid", cause, now);
        Ok(self.invoice_json(at))
    }

    fn send_at(&mut self, at: usize, cause: Cause<'_>, now: i64) -> Result<Value, StripeError> {
        let inv = &mut self.invoices[at];
        if inv.collection_method != "send_invoice" {
            return Err(StripeError::invalid(
                "You can only manually send an invoice if its collection method is 'send_invoice'.",
            ));
        }
        if inv.status == Status::Void {
            return Err(StripeError::invalid("You can't send a void invoice.").with_code("invoice_not_open"));
        }
        inv.sends += 1;
        self.emit(at, "invoice.sent", cause, now);
        Ok(self.invoice_json(at))
    }

    fn void_at(&mut self, at: usize, cause: Cause<'_>, now: i64) -> Result<Value, StripeError> {
        let inv = &mut self.invoices[at];
        if !matches!(inv.status, Status::Open | Status::Uncollectible) {
            return Err(StripeError::invalid(format!(
                "You can only void an open or uncollectible invoice; this invoice is {}.",
                inv.status.as_str()
            ))
            .with_code("invoice_not_open"));
        }
        inv.status = Status::Void;
        inv.voided_at = Some(now);
        inv.next_payment_attempt = None;
        let customer = inv.customer;
        self.customers[customer].delinquent = false;
        self.emit(at, "invoice.voided", cause, now);
        Ok(self.invoice_json(at))
    }

    fn mark_uncollectible_at(&mut self, at: usize, cause: Cause<'_>, now: i64) -> Result<Value, StripeError> {
        let inv = &mut self.invoices[at];
        if inv.status != Status::Open {
            return Err(StripeError::invalid(format!(
                "You can only mark an open invoice as uncollectible; this invoice is {}.",
                inv.status.as_str()
            ))
            .with_code("invoice_not_open"));
        }
        inv.status = Status::Uncollectible;
        inv.marked_uncollectible_at = Some(now);
        inv.next_payment_attempt = None;
        self.emit(at, "invoice.marked_uncollectible", cause, now);
        Ok(self.invoice_json(at))
    }

    /// Stripe's end-of-retries setting, applied after its last automatic retry failed.
    fn end_of_retries(&mut self, at: usize, now: i64) {
        match self.invoices[at].end_of_retries {
            "uncollectible" => {
                let _ = self.mark_uncollectible_at(at, Cause::Automatic, now);
            }
            "cancel_subscription" => {
                self.invoices[at].subscription_cancelled_at = Some(now);
                let object = self.subscription_json(at);
                self.emit_object(at, "customer.subscription.deleted", object, Cause::Automatic, now);
            }
            _ => {}
        }
    }

    /// `POST /_sandbox/invoices/{id}/automatic_retry`: Stripe's next scheduled automatic retry, now. Emits
    /// `invoice.paid` or `invoice.payment_failed` (and, after the last, what the end-of-retries setting does).
    pub fn automatic_retry(&mut self, id: &str, now: i64) -> Result<Value, StripeError> {
        let at = self.find_invoice(id, "invoice")?;
        let inv = &mut self.invoices[at];
        if inv.status != Status::Open || inv.next_payment_attempt.is_none() || inv.retries_left == 0 {
            return Err(StripeError::invalid(format!(
                "Stripe has no automatic retry scheduled for invoice {id} (status {}, next_payment_attempt {})",
                inv.status.as_str(),
                inv.next_payment_attempt.map_or("null".to_owned(), |at| at.to_string())
            ))
            .with_code("no_retry_scheduled"));
        }
        inv.retries_left -= 1;
        inv.attempt_count += 1;
        match self.attempt_charge(at, Cause::Automatic, now) {
            Ok(invoice) => Ok(invoice),
            Err(_) => Ok(self.invoice_json(at)),
        }
    }

    /// The invoice's subscription, as `customer.subscription.deleted` carries it (the fields Seam reads).
    fn subscription_json(&self, at: usize) -> Value {
        let inv = &self.invoices[at];
        let customer = &self.customers[inv.customer];
        json!({
            "id": inv.subscription,
            "object": "subscription",
            "cancel_at_period_end": false,
            "canceled_at": inv.subscription_cancelled_at,
            "cancellation_details": { "comment": null, "feedback": null, "reason": "payment_failed" },
            "collection_method": inv.collection_method,
            "created": inv.created - 30 * DAY,
            "currency": inv.currency,
            "customer": customer.id,
            "ended_at": inv.subscription_cancelled_at,
            "latest_invoice": inv.id,
            "livemode": false,
            "metadata": {},
            "status": "canceled"
        })
    }

    /// Records an event whose `data.object` is the invoice as it is now, and queues it for delivery.
    fn emit(&mut self, at: usize, event_type: &str, cause: Cause<'_>, now: i64) {
        let object = self.invoice_json(at);
        self.emit_object(at, event_type, object, cause, now);
    }

    /// Records an event about invoice `at` whose `data.object` is `object`, and queues it for delivery.
    fn emit_object(&mut self, at: usize, event_type: &str, object: Value, cause: Cause<'_>, now: i64) {
        let object_id = self.invoices[at].id.clone();
        self.record_event(object_id, event_type, object, cause, now);
    }

    /// Records an event Stripe sends on its own (no request caused it), such as `checkout.session.completed`.
    pub(crate) fn emit_automatic(&mut self, object_id: String, event_type: &str, object: Value, now: i64) {
        self.record_event(object_id, event_type, object, Cause::Automatic, now);
    }

    fn record_event(
        &mut self,
        object_id: String,
        event_type: &str,
        object: Value,
        cause: Cause<'_>,
        now: i64,
    ) {
        let id = self.new_id("evt");
        let request = match cause {
            Cause::Automatic => json!({ "id": null, "idempotency_key": null }),
            Cause::Request { id, key } => json!({ "id": id, "idempotency_key": key }),
        };
        let event = json!({
            "id": id,
            "object": "event",
            "api_version": API_VERSION,
            "created": now,
            "data": { "object": object },
            "livemode": false,
            "pending_webhooks": u8::from(self.webhooks),
            "request": request,
            "type": event_type
        });
        let body = event.to_string();
        self.event_ids.insert(id.clone(), self.events.len());
        self.events.push(EventRecord {
            id: id.clone(),
            event_type: event_type.to_owned(),
            created: now,
            object_id,
            delivery: if self.webhooks { DeliveryStatus::Pending } else { DeliveryStatus::NotConfigured },
            attempts: Vec::new(),
            event,
            body,
        });
        if self.webhooks {
            self.outbox.push(id);
        }
    }
}

/// The parameters each endpoint accepts (a name's `[...]` suffix is ignored: `expand[]`, `expand[0]`).
fn check_params(action: &Action, params: &[(String, String)]) -> Result<(), StripeError> {
    const PAY: &[&str] =
        &["expand", "forgive", "mandate", "off_session", "paid_out_of_band", "payment_method", "source"];
    const OTHER: &[&str] = &["expand"];
    const PAYMENT_INTENT: &[&str] = &[
        "description",
        "expand",
        "metadata",
        "receipt_email",
        "statement_descriptor",
        "statement_descriptor_suffix",
    ];
    const BOOLEANS: &[&str] = &["forgive", "off_session", "paid_out_of_band"];
    let allowed = match action {
        Action::Pay(_) => PAY,
        Action::UpdatePaymentIntent(_) => PAYMENT_INTENT,
        _ => OTHER,
    };
    for (name, value) in params {
        let base = name.split('[').next().unwrap_or(name);
        if !allowed.contains(&base) {
            return Err(StripeError::invalid(format!("Received unknown parameter: {name}"))
                .with_code("parameter_unknown")
                .with_param(name.clone()));
        }
        if BOOLEANS.contains(&base) && value != "true" && value != "false" {
            return Err(StripeError::invalid(format!("Invalid boolean: {value}")).with_param(name.clone()));
        }
    }
    Ok(())
}

/// Decodes an `application/x-www-form-urlencoded` body (`+` is a space, `%XX` a byte; UTF-8 required).
pub(crate) fn parse_form(body: &str) -> Result<Vec<(String, String)>, String> {
    fn decode(part: &str) -> Result<String, String> {
        let bytes = part.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                    let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                    match byte {
                        Some(b) => out.push(b),
                        None => {
                            return Err(format!("Invalid percent-encoding in request body near `{part}`."));
                        }
                    }
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).map_err(|_| "Invalid UTF-8 in request body.".to_owned())
    }
    let mut params = Vec::new();
    for pair in body.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name)?;
        if name.is_empty() {
            return Err("Invalid request body: a parameter has no name.".to_owned());
        }
        params.push((name, decode(value)?));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        assert_eq!(
            parse_form("a=1&expand%5B%5D=lines&b=x+y%21&c").unwrap(),
            vec![
                ("a".into(), "1".into()),
                ("expand[]".into(), "lines".into()),
                ("b".into(), "x y!".into()),
                ("c".into(), String::new())
            ]
        );
        assert!(parse_form("a=%zz").is_err());
        assert!(parse_form("=1").is_err());
        assert!(parse_form("").unwrap().is_empty());
    }

    #[test]
    fn ids_look_like_stripe_ids() {
        let mut sandbox = Sandbox::new(1, Scenario::default(), false);
        let id = sandbox.new_id("in");
        assert!(id.starts_with("in_") && id.len() == 27, "{id}");
        assert!(id[3..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(sandbox.new_id("in"), sandbox.new_id("in"));
        let mut salted = Sandbox::with_salt(1, Scenario::default(), false, 2);
        assert_ne!(salted.new_id("in"), Sandbox::new(1, Scenario::default(), false).new_id("in"));
    }

    #[test]
    fn attempt_count_counts_the_first_attempt_only() {
        let mut sandbox = Sandbox::new(1, Scenario::default(), false);
        let req = RenewalRequest { outcome: Some(Outcome::Never), ..RenewalRequest::default() };
        let inv = sandbox.create_renewals(&req, 1_000).unwrap().remove(0);
        let id = inv["id"].as_str().unwrap().to_owned();
        assert_eq!(inv["attempt_count"], 1);
        for n in 0..3 {
            let reply = sandbox.post(
                PostRequest {
                    path: "/v1/x",
                    key: None,
                    body: "",
                    action: Action::Pay(id.clone()),
                    request_id: &format!("req_{n}"),
                },
                2_000,
            );
            assert_eq!(reply.status, 402);
        }
        assert_eq!(sandbox.invoice(&id).unwrap()["attempt_count"], 1);
        assert_eq!(sandbox.invoices()[0].charge_attempts, 4);
        assert_eq!(sandbox.events().len(), 4);
        assert!(sandbox.take_outbox().is_empty(), "no webhook: nothing to deliver");
    }
}
