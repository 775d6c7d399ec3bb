//! The Stripe connector: pay, send and retrieve invoices, retrieve customers, read a Checkout Session's lines and
//! record facts in a PaymentIntent's metadata over Stripe's v1 API, with
//! Stripe's errors classified into the engine's [`ErrorClass`] so a workflow retries what can succeed later
//! and never retries what cannot.
//!
//! # Actions
//!
//! The runtime passes the part after `stripe.`; `args` is the step's rendered `with` table. Other keys are
//! refused, so a misspelt argument fails loudly instead of being dropped.
//!
//! | action | arguments | request |
//! |---|---|---|
//! | `pay_invoice` | `invoice`, optional `payment_method`, `off_session` (boolean) | `POST /v1/invoices/{invoice}/pay`, form-encoded, `Idempotency-Key` |
//! | `send_invoice` | `invoice` | `POST /v1/invoices/{invoice}/send`, form-encoded (empty), `Idempotency-Key` |
//! | `retrieve_invoice` | `invoice` | `GET /v1/invoices/{invoice}`, no body |
//! | `retrieve_customer` | `customer` | `GET /v1/customers/{customer}`, no body |
//! | `checkout_line_items` | `session` | `GET /v1/checkout/sessions/{session}/line_items?limit=100&expand[]=data.price.product`, and the next pages (`starting_after`) while `has_more` |
//! | `update_payment_intent` | `payment_intent`, `metadata` (a table) | `POST /v1/payment_intents/{payment_intent}` with `metadata[k]=v`, form-encoded, `Idempotency-Key` |
//!
//! [`StripeConnector::check_credentials`] (what `seam doctor` runs) makes one `GET /v1/invoices?limit=1` and
//! says whether Stripe accepted the key ([`CredentialsError`] otherwise).
//!
//! Ids are checked before any URL is built: an invoice id is `in_`, a customer id `cus_`, a Checkout Session id
//! `cs_` and a PaymentIntent id `pi_`, followed by ASCII
//! letters, digits or `_` (at most 255 characters in all), so nothing from an event can add a path segment, a
//! query or an escape. A bad id, argument or action is a fatal `request` error and no request is made.
//!
//! Every request carries `Authorization: Bearer <api key>` and, when one is configured
//! ([`StripeConnector::with_stripe_version`]), `Stripe-Version`. POSTs carry `Idempotency-Key: <key>` with the
//! engine's key for the attempt (Stripe replays the saved answer for a key it has seen, so a redone attempt
//! pays once); GETs do not, as Stripe ignores the key there.
//!
//! # Result
//!
//! A 2xx answer is `Ok(<Stripe's JSON object>)` as Stripe sent it (the invoice, the customer or the
//! PaymentIntent), so a step can say `until = "{{ result.status == 'paid' }}"`. `checkout_line_items` is the
//! exception: its result is `{lines: [{sku, quantity, amount_total, currency, description, product}]}`, one entry
//! per line of every page, where `sku` is the line's product's `metadata.sku` (`null` when the product has none:
//! such a line cannot be stocked, and the workflow must say so) and `product` the product's id.
//!
//! `update_payment_intent` sends each `metadata` entry as `metadata[<key>]=<value>`: a string as it is, a number or
//! boolean as its text, `null` as the empty string (which removes the key, as Stripe documents). Keys are 1 to 40
//! characters without `[` or `]`, values at most 500 characters, at most 50 entries (Stripe's limits). Other keys
//! the PaymentIntent holds are left as they are. A 200 from `pay_invoice` whose invoice is not `paid` is still
//! `Ok`: the step's `until` decides. A 2xx whose body is not a JSON object is a retryable `server_error`.
//!
//! `pay_invoice` answered with a 400 `invalid_request_error` (Stripe's "Invoice is already paid" among them)
//! is followed by one `GET /v1/invoices/{invoice}`: if the invoice is `paid` (the customer paid on the hosted
//! page between two attempts, or an earlier attempt whose answer was lost went through) the result is that
//! invoice, as if this attempt had paid it. Otherwise the 400 stands, as a fatal `request` error.
//!
//! # Errors
//!
//! Stripe answers errors as `{"error": {"type", "code", "decline_code", "advice_code", "message"}}`
//! (<https://docs.stripe.com/api/errors>). [`classify_stripe_error`] decides, in this order:
//!
//! | answer | class |
//! |---|---|
//! | 429, or `code` `lock_timeout` or `rate_limit` | retryable `rate_limited` |
//! | 5xx | retryable `server_error` |
//! | 409 (a request with the same idempotency key still running; Stripe saves nothing for it) | retryable `rate_limited` |
//! | `code` `invoice_payment_intent_requires_action` (the customer must authenticate) | fatal `hard_decline` |
//! | a card error (`type` `card_error`, or a 402 without a `type`): `advice_code` `do_not_try_again` or `confirm_card_data`, or a hard `decline_code` or `code` ([`HARD_DECLINE_CODES`]) | fatal `hard_decline` |
//! | any other card error, including an unknown or missing decline code | retryable `soft_decline` |
//! | 408 | retryable `timeout` |
//! | any other status (400 `invalid_request_error`, 400 `idempotency_error`, 401, 403, 404 `resource_missing`, ...) | fatal `request` |
//!
//! A failure to get an answer is classified as the generic HTTP action does ([`classify_transport`]): a
//! timeout is retryable `timeout`, a refused or reset connection retryable `network`. Redirects are not
//! followed (Stripe's API does not redirect); a 3xx is a fatal `request` error.
//!
//! Messages are one line: the action, method and path, the status, Stripe's `type`, `code`, `decline_code`,
//! `advice_code` and `message`, and Stripe's `Request-Id`. They never hold the API key (it is removed should
//! Stripe ever echo it) nor any header value.
//!
//! # Decline codes
//!
//! The list is Stripe's decline-code reference, <https://docs.stripe.com/declines/codes> (the "Next steps"
//! column), read together with Stripe's advice codes (<https://docs.stripe.com/declines/card>, "Retrying issuer
//! declines"). A workflow retries a failed payment later, off-session, with the same card and without the
//! customer; so the question for each code is: can that retry succeed without the customer or their bank doing
//! something first? Where it cannot, retrying only burns attempts and, for the card networks, counts as an
//! excessive reattempt; the step's `on_fatal` (an escalation, an email asking for a new card) is the way on.
//!
//! Hard, never retried ([`HARD_DECLINE_CODES`], [`is_hard_decline`]):
//!
//! | codes | why |
//! |---|---|
//! | `expired_card`, `lost_card`, `stolen_card`, `pickup_card`, `restricted_card`, `invalid_account`, `new_account_information_available` | the card or its account can no longer be charged as stored; the customer needs another card or updated details |
//! | `incorrect_number`, `invalid_number`, `incorrect_cvc`, `invalid_cvc`, `incorrect_zip`, `invalid_expiry_month`, `invalid_expiry_year` | the card data on file is wrong; the same data fails the same way |
//! | `incorrect_pin`, `invalid_pin`, `pin_try_exceeded`, `offline_pin_required`, `online_or_offline_pin_required` | card-present PIN declines; an off-session retry cannot supply a PIN |
//! | `do_not_honor`, `call_issuer`, `no_action_taken` | the issuer refused without a reason and Stripe's next step is that the customer contacts their card issuer; nothing changes until they do |
//! | `do_not_try_again`, `revocation_of_authorization`, `revocation_of_all_authorizations`, `stop_payment_order` | the issuer or the cardholder said not to charge again |
//! | `transaction_not_allowed`, `not_permitted`, `service_not_allowed`, `card_not_supported`, `currency_not_supported`, `invalid_amount` | this card cannot make this kind of payment, or this amount; the same payment fails again |
//! | `fraudulent`, `merchant_blacklist`, `security_violation` | a fraud or block-list decision (the issuer's or Radar's); retrying the same card cannot change it |
//! | `authentication_required` | the issuer wants 3D Secure, which an off-session retry cannot do; the customer must pay on-session |
//! | `testmode_decline` | a Stripe test card in live mode; it never succeeds |
//!
//! An `advice_code` of `do_not_try_again` or `confirm_card_data` makes any card error hard: it is the network's
//! own instruction not to retry, or to retry only with new card data.
//!
//! Soft, retried on the step's schedule ([`SOFT_DECLINE_CODES`]): `insufficient_funds` and the limits that
//! reset (`card_velocity_exceeded`, `withdrawal_count_limit_exceeded`, `card_decline_rate_limit_exceeded`), the
//! transient ones (`processing_error`, `try_again_later`, `issuer_not_available`, `reenter_transaction`,
//! `approve_with_id`, for which Stripe says the payment should be attempted again), `duplicate_transaction`
//! (a later retry either goes through or finds the invoice paid) and `generic_decline`. `generic_decline` is a
//! judgement: Stripe's catch-all for declines with no stated reason, not a statement that the card is unusable,
//! and the largest group of declines that later retries recover; a retry is bounded by the step's `attempts`,
//! and an issuer that does mean "never" sends `advice_code: do_not_try_again`, which is honoured. Any card
//! error whose code is not in the hard list (a code Stripe adds later, or `processing_error` with no
//! `decline_code`) is soft for the same reason.
//!
//! # Retries and Stripe's idempotency
//!
//! Stripe saves the status and body of the first request made with an idempotency key once the endpoint has
//! started, and replays them for 24 hours, a `500` included (<https://docs.stripe.com/api/idempotent_requests>).
//! An attempt repeated with the same key therefore gets the same answer; a new attempt (new key) makes a new
//! request.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Url};
use seam_flow::{CallOutcome, ErrorClass, ErrorKind};
use serde_json::{Value, json};

use crate::http::{
    MAX_BODY_BYTES, build_client, classify_status, classify_transport, error_chain, excerpt, read_capped,
};
use crate::vendor::{fatal_request, short, type_name};

/// Stripe's API, used when the configured base URL is empty.
pub const DEFAULT_BASE_URL: &str = "https://api.stripe.com";

/// The actions this connector serves (the part after `stripe.`).
pub const ACTIONS: [&str; 6] = [
    "pay_invoice",
    "send_invoice",
    "retrieve_invoice",
    "retrieve_customer",
    "checkout_line_items",
    "update_payment_intent",
];

/// The most pages of Checkout Session lines read (100 lines a page).
const MAX_LINE_PAGES: usize = 10;

/// Decline codes (and card error codes of the same name) that are never retried. See the module
/// documentation for why each is here.
pub const HARD_DECLINE_CODES: [&str; 37] = [
    "authentication_required",
    "call_issuer",
    "card_not_supported",
    "currency_not_supported",
    "do_not_honor",
    "do_not_try_again",
    "expired_card",
    "fraudulent",
    "incorrect_cvc",
    "incorrect_number",
    "incorrect_pin",
    "incorrect_zip",
    "invalid_account",
    "invalid_amount",
    "invalid_cvc",
    "invalid_expiry_month",
    "invalid_expiry_year",
    "invalid_number",
    "invalid_pin",
    "lost_card",
    "merchant_blacklist",
    "new_account_information_available",
    "no_action_taken",
    "not_permitted",
    "offline_pin_required",
    "online_or_offline_pin_required",
    "pickup_card",
    "pin_try_exceeded",
    "restricted_card",
    "revocation_of_all_authorizations",
    "revocation_of_authorization",
    "security_violation",
    "service_not_allowed",
    "stolen_card",
    "stop_payment_order",
    "testmode_decline",
    "transaction_not_allowed",
];

/// Decline codes known to be soft (retried). Informational: any card error whose code is not in
/// [`HARD_DECLINE_CODES`] is soft.
pub const SOFT_DECLINE_CODES: [&str; 11] = [
    "approve_with_id",
    "card_decline_rate_limit_exceeded",
    "card_velocity_exceeded",
    "duplicate_transaction",
    "generic_decline",
    "insufficient_funds",
    "issuer_not_available",
    "processing_error",
    "reenter_transaction",
    "try_again_later",
    "withdrawal_count_limit_exceeded",
];

/// Advice codes that make any card error hard.
const HARD_ADVICE_CODES: [&str; 2] = ["do_not_try_again", "confirm_card_data"];

/// The error code Stripe gives when paying an invoice needs the customer to authenticate.
const REQUIRES_ACTION: &str = "invoice_payment_intent_requires_action";

/// Stripe's limit on idempotency keys and object ids.
const MAX_ID_CHARS: usize = 255;

/// Whether a Stripe decline code (or card error code) means the card will not be charged by retrying: the
/// documented list [`HARD_DECLINE_CODES`]. Case-sensitive, as Stripe's codes are lower case.
pub fn is_hard_decline(decline_code: &str) -> bool {
    HARD_DECLINE_CODES.contains(&decline_code)
}

/// The class of a Stripe error answer: `status` is the HTTP status, `body` the parsed JSON body (`Null` when
/// it was not JSON). See the module documentation for the rules. Meant for failed answers; a 2xx, which is no
/// error, gives fatal `request`.
pub fn classify_stripe_error(status: u16, body: &Value) -> ErrorClass {
    let error = StripeError::from_body(body);
    let code = error.code.as_deref();
    if status == 429 || matches!(code, Some("lock_timeout" | "rate_limit")) {
        return ErrorClass::Retryable(ErrorKind::RateLimited);
    }
    if status >= 500 {
        return ErrorClass::Retryable(ErrorKind::ServerError);
    }
    if status == 409 {
        return ErrorClass::Retryable(ErrorKind::RateLimited);
    }
    if code == Some(REQUIRES_ACTION) {
        return ErrorClass::Fatal(ErrorKind::HardDecline);
    }
    let card_error = match error.kind.as_deref() {
        Some(kind) => kind == "card_error",
        None => status == 402,
    };
    if card_error {
        let hard_advice = error.advice_code.as_deref().is_some_and(|a| HARD_ADVICE_CODES.contains(&a));
        let hard_code = [error.decline_code.as_deref(), code].into_iter().flatten().any(is_hard_decline);
        return if hard_advice || hard_code {
            ErrorClass::Fatal(ErrorKind::HardDecline)
        } else {
            ErrorClass::Retryable(ErrorKind::SoftDecline)
        };
    }
    match classify_status(status) {
        Some(class) => class,
        None => ErrorClass::Fatal(ErrorKind::Request),
    }
}

/// The fields of Stripe's `error` object that matter here; all optional.
#[derive(Debug, Default)]
struct StripeError {
    kind: Option<String>,
    code: Option<String>,
    decline_code: Option<String>,
    advice_code: Option<String>,
    message: Option<String>,
}

impl StripeError {
    fn from_body(body: &Value) -> StripeError {
        let Some(error) = body.get("error").filter(|e| e.is_object()) else { return StripeError::default() };
        let text = |name: &str| {
            error
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        StripeError {
            kind: text("type"),
            code: text("code"),
            decline_code: text("decline_code"),
            advice_code: text("advice_code"),
            message: text("message"),
        }
    }

    fn is_empty(&self) -> bool {
        self.kind.is_none() && self.code.is_none() && self.decline_code.is_none() && self.message.is_none()
    }

    /// `card_error (code card_declined, decline_code expired_card): Your card has expired.`
    fn describe(&self) -> String {
        let mut text = self.kind.clone().unwrap_or_else(|| "error".to_owned());
        let details: Vec<String> =
            [("code", &self.code), ("decline_code", &self.decline_code), ("advice_code", &self.advice_code)]
                .into_iter()
                .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name} {}", short(v, 60))))
                .collect();
        if !details.is_empty() {
            text.push_str(&format!(" ({})", details.join(", ")));
        }
        if let Some(message) = &self.message {
            text.push_str(": ");
            text.push_str(&excerpt(message.as_bytes()));
        }
        text
    }
}

/// Why [`StripeConnector::check_credentials`] could not confirm the API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// No request could be made: no key, an unusable base URL.
    #[error("{0}")]
    Config(String),
    /// Stripe answered 401: the key is wrong, revoked, or belongs to another account or mode.
    #[error("Stripe refused the API key (HTTP 401)")]
    Rejected,
    /// Stripe answered 403: a restricted key without access to invoices.
    #[error("the API key may not read invoices (HTTP 403)")]
    NotPermitted,
    /// No answer: the connection was refused, timed out, or TLS failed.
    #[error("{0}")]
    Unreachable(String),
    /// Any other answer (a 5xx, a 429, a 404 from something that is not Stripe); the message names the
    /// request, the status and Stripe's error.
    #[error("{message}")]
    Unexpected { status: u16, message: String },
}

/// The Stripe connector. Cheap to clone (the client is shared). Its `Debug` never shows the API key.
#[derive(Clone)]
pub struct StripeConnector {
    /// `Err` only if the client could not be built; every call then fails with the reason.
    client: Result<reqwest::Client, Arc<str>>,
    /// `Err` when the configured base URL is unusable; every call then fails with the reason.
    base_url: Result<Url, Arc<str>>,
    api_key: Arc<str>,
    stripe_version: Option<Arc<str>>,
    timeout: Duration,
}

impl fmt::Debug for StripeConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeConnector")
            .field("base_url", &self.base_url.as_ref().map(Url::as_str))
            .field("api_key", &"[redacted]")
            .field("stripe_version", &self.stripe_version)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl StripeConnector {
    /// A connector for the Stripe API at `base_url` (empty: [`DEFAULT_BASE_URL`]; a path is kept as a prefix,
    /// for a proxy) with the secret `api_key`, giving each request at most `timeout`. The base URL must be
    /// `https://`, or `http://` to a loopback host (a mock): the key must not cross a network in clear. Never
    /// panics: an unusable base URL, an empty key or a client that cannot be built makes every call a fatal
    /// `request` error with the reason, and no request is made.
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>, timeout: Duration) -> Self {
        let base_url = parse_base_url(&base_url.into()).map_err(Arc::from);
        if let Err(reason) = &base_url {
            tracing::error!(%reason, "the stripe connector's base URL is unusable");
        }
        let client =
            build_client(timeout, reqwest::redirect::Policy::none()).map_err(|e| Arc::from(error_chain(&e)));
        if let Err(reason) = &client {
            tracing::error!(%reason, "the stripe connector's client could not be built");
        }
        let api_key: String = api_key.into();
        StripeConnector {
            client,
            base_url,
            api_key: Arc::from(api_key.trim()),
            stripe_version: None,
            timeout,
        }
    }

    /// Sends `Stripe-Version: <version>` with every request (without it, the account's default version
    /// applies). An empty version sends none.
    pub fn with_stripe_version(mut self, version: impl Into<String>) -> Self {
        let version: String = version.into();
        let version = version.trim();
        self.stripe_version = (!version.is_empty()).then(|| Arc::from(version));
        self
    }

    /// The request timeout this connector was built with.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Asks Stripe whether it accepts this connector's API key, with the cheapest request the playbooks' own
    /// permissions allow: `GET /v1/invoices?limit=1` (a restricted key needs invoice access for the `stripe.*`
    /// actions anyway, so a key that passes here is one the actions can use). Makes no request when the
    /// connector cannot make one (no key, an unusable base URL). Errors never hold the key, nor Stripe's message
    /// for a refused key, which quotes part of it.
    pub async fn check_credentials(&self) -> Result<(), CredentialsError> {
        if let Err(reason) = &self.base_url {
            return Err(CredentialsError::Config(reason.to_string()));
        }
        if let Err(reason) = &self.client {
            return Err(CredentialsError::Config(format!("the HTTP client could not be built: {reason}")));
        }
        if self.api_key.is_empty() {
            return Err(CredentialsError::Config("no Stripe API key is configured".to_owned()));
        }
        let mut request = Request::get(vec!["v1", "invoices"], String::new());
        request.query.push(("limit".to_owned(), "1".to_owned()));
        match self.send("check_credentials", &request, "").await {
            Ok(_) => Ok(()),
            Err(Failure { status: Some(401), .. }) => Err(CredentialsError::Rejected),
            Err(Failure { status: Some(403), .. }) => Err(CredentialsError::NotPermitted),
            Err(Failure { status: None, message, .. }) => Err(CredentialsError::Unreachable(message)),
            Err(Failure { status: Some(status), message, .. }) => {
                Err(CredentialsError::Unexpected { status, message })
            }
        }
    }

    async fn run(&self, action: &str, args: &Value, idempotency_key: &str) -> CallOutcome {
        let Some(op) = Op::parse(action) else {
            let list: Vec<String> = ACTIONS.iter().map(|a| format!("stripe.{a}")).collect();
            return fatal_request(format!(
                "stripe: unknown action `{}` (expected one of {}); no request was made",
                short(action, 60),
                list.join(", ")
            ));
        };
        let request = match op.request(args) {
            Ok(request) => request,
            Err(message) => {
                return fatal_request(format!("stripe.{}: {message}; no request was made", op.name()));
            }
        };
        if op == Op::CheckoutLineItems {
            return match self.line_items(request, idempotency_key).await {
                Ok(value) => CallOutcome::Ok(value),
                Err(failure) => CallOutcome::Err { class: failure.class, message: failure.message },
            };
        }
        let outcome = match self.send(op.name(), &request, idempotency_key).await {
            Ok(value) => return CallOutcome::Ok(value),
            Err(failure) => failure,
        };
        let mut message = outcome.message;
        if op == Op::PayInvoice
            && outcome.status == Some(400)
            && outcome.stripe_type.as_deref() == Some("invalid_request_error")
        {
            let check = Request::get(vec!["v1", "invoices", request.id.as_str()], request.id.clone());
            match self.send(Op::RetrieveInvoice.name(), &check, idempotency_key).await {
                Ok(invoice) if invoice.get("status").and_then(Value::as_str) == Some("paid") => {
                    tracing::info!(invoice = %request.id, "stripe: the invoice to pay is already paid");
                    return CallOutcome::Ok(invoice);
                }
                Ok(invoice) => {
                    if let Some(status) = invoice.get("status").and_then(Value::as_str) {
                        message.push_str(&format!(" (the invoice's status is `{}`)", short(status, 40)));
                    }
                }
                Err(_) => {}
            }
        }
        CallOutcome::Err { class: outcome.class, message }
    }

    /// Every line of a Checkout Session, page by page, as `{lines: [...]}`.
    async fn line_items(&self, mut request: Request, idempotency_key: &str) -> Result<Value, Failure> {
        let mut lines = Vec::new();
        for _ in 0..MAX_LINE_PAGES {
            let page = self.send(Op::CheckoutLineItems.name(), &request, idempotency_key).await?;
            let data = page.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
            lines.extend(data.iter().map(line));
            let last = data.last().and_then(|item| item.get("id")).and_then(Value::as_str);
            match (page.get("has_more").and_then(Value::as_bool), last) {
                (Some(true), Some(last)) if is_id_text(last) => {
                    request.query.retain(|(name, _)| name != "starting_after");
                    request.query.push(("starting_after".to_owned(), last.to_owned()));
                }
                _ => return Ok(json!({ "lines": lines })),
            }
        }
        Err(Failure::request(format!(
            "stripe.checkout_line_items GET {}: the session has more than {} lines",
            request.path(),
            MAX_LINE_PAGES * 100
        )))
    }

    /// Makes one request for `action` (named in messages); `Ok` is a 2xx JSON object.
    async fn send(&self, action: &str, request: &Request, idempotency_key: &str) -> Result<Value, Failure> {
        let target = format!("stripe.{action} {} {}", request.method, request.path());
        let base =
            self.base_url.as_ref().map_err(|reason| Failure::request(format!("{target}: {reason}")))?;
        let client = self.client.as_ref().map_err(|reason| {
            Failure::request(format!("{target}: the HTTP client could not be built: {reason}"))
        })?;
        if self.api_key.is_empty() {
            return Err(Failure::request(format!("{target}: no Stripe API key is configured")));
        }
        let mut url = base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(&request.segments);
        }
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&request.query);
        }
        let mut builder = client.request(request.method.clone(), url).bearer_auth(&*self.api_key);
        if let Some(version) = &self.stripe_version {
            let value = HeaderValue::from_str(version).map_err(|_| {
                Failure::request(format!(
                    "{target}: the configured Stripe-Version is not a valid header value"
                ))
            })?;
            builder = builder.header(HeaderName::from_static("stripe-version"), value);
        }
        if let Some(form) = &request.form {
            let key = idempotency_header(idempotency_key)
                .map_err(|why| Failure::request(format!("{target}: {why}")))?;
            builder = builder.header(HeaderName::from_static("idempotency-key"), key).form(form);
        }
        tracing::debug!(%target, "stripe call");
        let response = builder.send().await.map_err(|err| self.transport_failure(&target, &err))?;
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("request-id")
            .and_then(|v| v.to_str().ok())
            .map(|v| short(v, 80))
            .filter(|v| !v.is_empty());
        let body = read_capped(response, MAX_BODY_BYTES)
            .await
            .map_err(|err| self.transport_failure(&target, &err))?;
        let parsed: Value = if body.truncated {
            Value::Null
        } else {
            serde_json::from_slice(&body.bytes).unwrap_or(Value::Null)
        };
        let suffix = request_id.map(|id| format!(" (request {id})")).unwrap_or_default();

        if (200..300).contains(&status) {
            if parsed.is_object() {
                return Ok(parsed);
            }
            let what = if body.truncated {
                format!("a body longer than {MAX_BODY_BYTES} bytes")
            } else if body.bytes.is_empty() {
                "an empty body".to_owned()
            } else {
                format!("a body that is not a JSON object: {}", excerpt(&body.bytes))
            };
            return Err(Failure {
                class: ErrorClass::Retryable(ErrorKind::ServerError),
                message: self.scrub(format!("{target}: HTTP {status} with {what}{suffix}")),
                status: Some(status),
                stripe_type: None,
            });
        }

        let error = StripeError::from_body(&parsed);
        let detail = if error.is_empty() {
            let text = excerpt(&body.bytes);
            if text.is_empty() { "(empty body)".to_owned() } else { text }
        } else {
            error.describe()
        };
        Err(Failure {
            class: classify_stripe_error(status, &parsed),
            message: self.scrub(format!("{target}: HTTP {status} {detail}{suffix}")),
            status: Some(status),
            stripe_type: error.kind,
        })
    }

    fn transport_failure(&self, target: &str, err: &reqwest::Error) -> Failure {
        let class = classify_transport(err);
        let mut message = format!("{target}: {}", error_chain(err));
        if class == ErrorClass::Retryable(ErrorKind::Timeout) {
            message.push_str(&format!(" (the limit is {:?})", self.timeout));
        }
        Failure { class, message: self.scrub(message), status: None, stripe_type: None }
    }

    /// Removes the API key from a message, should anything ever echo it.
    fn scrub(&self, message: String) -> String {
        if self.api_key.is_empty() { message } else { message.replace(&*self.api_key, "[redacted]") }
    }
}

#[async_trait::async_trait]
impl crate::Connector for StripeConnector {
    /// `action` is the part after `stripe.`: one of [`ACTIONS`].
    async fn call(&self, action: &str, args: &Value, idempotency_key: &str) -> CallOutcome {
        self.run(action, args, idempotency_key).await
    }
}

/// A failed request, with what the already-paid check needs.
#[derive(Debug)]
struct Failure {
    class: ErrorClass,
    message: String,
    status: Option<u16>,
    stripe_type: Option<String>,
}

impl Failure {
    fn request(message: String) -> Failure {
        Failure { class: ErrorClass::Fatal(ErrorKind::Request), message, status: None, stripe_type: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    PayInvoice,
    SendInvoice,
    RetrieveInvoice,
    RetrieveCustomer,
    CheckoutLineItems,
    UpdatePaymentIntent,
}

impl Op {
    fn parse(action: &str) -> Option<Op> {
        match action {
            "pay_invoice" => Some(Op::PayInvoice),
            "send_invoice" => Some(Op::SendInvoice),
            "retrieve_invoice" => Some(Op::RetrieveInvoice),
            "retrieve_customer" => Some(Op::RetrieveCustomer),
            "checkout_line_items" => Some(Op::CheckoutLineItems),
            "update_payment_intent" => Some(Op::UpdatePaymentIntent),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Op::PayInvoice => "pay_invoice",
            Op::SendInvoice => "send_invoice",
            Op::RetrieveInvoice => "retrieve_invoice",
            Op::RetrieveCustomer => "retrieve_customer",
            Op::CheckoutLineItems => "checkout_line_items",
            Op::UpdatePaymentIntent => "update_payment_intent",
        }
    }

    fn arg_keys(self) -> &'static [&'static str] {
        match self {
            Op::PayInvoice => &["invoice", "payment_method", "off_session"],
            Op::SendInvoice | Op::RetrieveInvoice => &["invoice"],
            Op::RetrieveCustomer => &["customer"],
            Op::CheckoutLineItems => &["session"],
            Op::UpdatePaymentIntent => &["payment_intent", "metadata"],
        }
    }

    /// The request for checked arguments.
    fn request(self, args: &Value) -> Result<Request, String> {
        let Some(args) = args.as_object() else {
            return Err(format!("the arguments must be a table, not {}", type_name(args)));
        };
        let keys = self.arg_keys();
        if let Some(unknown) = args.keys().find(|k| !keys.contains(&k.as_str())) {
            return Err(format!("unknown argument `{}` (expected {})", short(unknown, 60), keys.join(", ")));
        }
        match self {
            Op::PayInvoice => {
                let id = stripe_id(args.get("invoice"), "invoice", "in_")?;
                let mut form = Vec::new();
                match args.get("payment_method") {
                    None | Some(Value::Null) => {}
                    Some(Value::String(pm)) if is_id_text(pm) => {
                        form.push(("payment_method".to_owned(), pm.clone()))
                    }
                    Some(Value::String(pm)) => {
                        return Err(format!(
                            "`payment_method` must be a Stripe id (letters, digits or `_`), not `{}`",
                            short(pm, 60)
                        ));
                    }
                    Some(other) => {
                        return Err(format!("`payment_method` must be a string, not {}", type_name(other)));
                    }
                }
                match args.get("off_session") {
                    None | Some(Value::Null) => {}
                    Some(Value::Bool(b)) => form.push(("off_session".to_owned(), b.to_string())),
                    Some(Value::String(s)) if s == "true" || s == "false" => {
                        form.push(("off_session".to_owned(), s.clone()))
                    }
                    Some(other) => {
                        return Err(format!("`off_session` must be true or false, not {}", type_name(other)));
                    }
                }
                Ok(Request::post(vec!["v1", "invoices", &id, "pay"], id.clone(), form))
            }
            Op::SendInvoice => {
                let id = stripe_id(args.get("invoice"), "invoice", "in_")?;
                Ok(Request::post(vec!["v1", "invoices", &id, "send"], id.clone(), Vec::new()))
            }
            Op::RetrieveInvoice => {
                let id = stripe_id(args.get("invoice"), "invoice", "in_")?;
                Ok(Request::get(vec!["v1", "invoices", &id], id.clone()))
            }
            Op::RetrieveCustomer => {
                let id = stripe_id(args.get("customer"), "customer", "cus_")?;
                Ok(Request::get(vec!["v1", "customers", &id], id.clone()))
            }
            Op::CheckoutLineItems => {
                let id = stripe_id(args.get("session"), "Checkout Session", "cs_")?;
                let mut request =
                    Request::get(vec!["v1", "checkout", "sessions", &id, "line_items"], id.clone());
                request.query = vec![
                    ("limit".to_owned(), "100".to_owned()),
                    ("expand[]".to_owned(), "data.price.product".to_owned()),
                ];
                Ok(request)
            }
            Op::UpdatePaymentIntent => {
                let id = stripe_id(args.get("payment_intent"), "PaymentIntent", "pi_")?;
                let form = metadata_form(args.get("metadata"))?;
                Ok(Request::post(vec!["v1", "payment_intents", &id], id.clone(), form))
            }
        }
    }
}

/// Stripe's metadata limits: keys, key length, value length.
const MAX_METADATA_KEYS: usize = 50;
const MAX_METADATA_KEY_CHARS: usize = 40;
const MAX_METADATA_VALUE_CHARS: usize = 500;

/// `metadata[k]=v` pairs for a table of metadata (see the module documentation).
fn metadata_form(value: Option<&Value>) -> Result<Vec<(String, String)>, String> {
    let Some(Value::Object(metadata)) = value else {
        return Err(match value {
            None => "`metadata` is missing; expected a table of keys and values".to_owned(),
            Some(other) => format!("`metadata` must be a table, not {}", type_name(other)),
        });
    };
    if metadata.is_empty() {
        return Err("`metadata` is empty".to_owned());
    }
    if metadata.len() > MAX_METADATA_KEYS {
        return Err(format!(
            "`metadata` has {} keys; Stripe takes at most {MAX_METADATA_KEYS}",
            metadata.len()
        ));
    }
    let mut form = Vec::with_capacity(metadata.len());
    for (key, value) in metadata {
        let key_chars = key.chars().count();
        if key.trim().is_empty()
            || key_chars > MAX_METADATA_KEY_CHARS
            || key.contains(['[', ']'])
            || key.chars().any(char::is_control)
        {
            return Err(format!(
                "metadata key `{}` must be 1 to {MAX_METADATA_KEY_CHARS} characters without `[`, `]` or control \
                 characters",
                short(key, 60)
            ));
        }
        let text = match value {
            Value::Null => String::new(),
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(format!(
                    "metadata `{}` must be a string, number or boolean, not {}",
                    short(key, 40),
                    type_name(other)
                ));
            }
        };
        if text.chars().count() > MAX_METADATA_VALUE_CHARS {
            return Err(format!(
                "metadata `{}` is longer than Stripe's {MAX_METADATA_VALUE_CHARS} characters",
                short(key, 40)
            ));
        }
        form.push((format!("metadata[{key}]"), text));
    }
    Ok(form)
}

/// One line of a Checkout Session, as `checkout_line_items` gives it.
fn line(item: &Value) -> Value {
    let product = item.pointer("/price/product");
    let (sku, product_id) = match product {
        Some(Value::Object(product)) => (
            product
                .get("metadata")
                .and_then(|m| m.get("sku"))
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty()),
            product.get("id").cloned().unwrap_or(Value::Null),
        ),
        // Not expanded: the id alone, no SKU to read.
        Some(Value::String(id)) => (None, Value::String(id.clone())),
        _ => (None, Value::Null),
    };
    json!({
        "sku": sku,
        "quantity": item.get("quantity").cloned().unwrap_or(Value::Null),
        "amount_total": item.get("amount_total").cloned().unwrap_or(Value::Null),
        "currency": item.get("currency").cloned().unwrap_or(Value::Null),
        "description": item.get("description").cloned().unwrap_or(Value::Null),
        "product": product_id,
    })
}

/// One request to make: path segments under the base URL, query pairs, and a form body for a POST.
#[derive(Debug)]
struct Request {
    method: Method,
    segments: Vec<String>,
    query: Vec<(String, String)>,
    /// `Some` for a POST (which then carries the idempotency key), even when empty.
    form: Option<Vec<(String, String)>>,
    /// The object id the request is about.
    id: String,
}

impl Request {
    fn get(segments: Vec<&str>, id: String) -> Request {
        Request {
            method: Method::GET,
            segments: segments.into_iter().map(str::to_owned).collect(),
            query: Vec::new(),
            form: None,
            id,
        }
    }

    fn post(segments: Vec<&str>, id: String, form: Vec<(String, String)>) -> Request {
        Request {
            method: Method::POST,
            segments: segments.into_iter().map(str::to_owned).collect(),
            query: Vec::new(),
            form: Some(form),
            id,
        }
    }

    /// `/v1/invoices/in_123/pay`, for messages (the ids are checked, so nothing needs escaping).
    fn path(&self) -> String {
        let query: Vec<String> = self.query.iter().map(|(name, value)| format!("{name}={value}")).collect();
        if query.is_empty() {
            format!("/{}", self.segments.join("/"))
        } else {
            format!("/{}?{}", self.segments.join("/"), query.join("&"))
        }
    }
}

/// A checked Stripe id: `prefix` then at least one ASCII letter, digit or `_`, at most [`MAX_ID_CHARS`].
fn stripe_id(value: Option<&Value>, name: &str, prefix: &str) -> Result<String, String> {
    let expected = format!("a Stripe {name} id (`{prefix}` then letters, digits or `_`)");
    match value {
        None => Err(format!("`{name}` is missing; expected {expected}")),
        Some(Value::String(id)) => {
            let rest = id.strip_prefix(prefix).unwrap_or_default();
            if !rest.is_empty() && is_id_text(id) {
                Ok(id.clone())
            } else {
                Err(format!("`{name}` must be {expected}, not `{}`", short(id, 60)))
            }
        }
        Some(other) => Err(format!("`{name}` must be {expected}, not {}", type_name(other))),
    }
}

fn is_id_text(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_ID_CHARS
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn idempotency_header(key: &str) -> Result<HeaderValue, String> {
    if key.is_empty() || key.len() > MAX_ID_CHARS {
        return Err(format!("the idempotency key must be 1 to {MAX_ID_CHARS} characters long"));
    }
    HeaderValue::from_str(key).map_err(|_| "the idempotency key is not a valid header value".to_owned())
}

/// The configured base URL, or Stripe's when empty; see [`crate::vendor::parse_base_url`] for what is refused.
fn parse_base_url(text: &str) -> Result<Url, String> {
    crate::vendor::parse_base_url("Stripe", text, Some(DEFAULT_BASE_URL), "stripe.base_url")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const HARD: ErrorClass = ErrorClass::Fatal(ErrorKind::HardDecline);
    const SOFT: ErrorClass = ErrorClass::Retryable(ErrorKind::SoftDecline);
    const REQUEST: ErrorClass = ErrorClass::Fatal(ErrorKind::Request);

    fn card_error(code: &str, decline_code: Option<&str>) -> Value {
        let mut error = json!({ "type": "card_error", "code": code, "message": "Your card was declined." });
        if let Some(decline_code) = decline_code {
            error["decline_code"] = json!(decline_code);
        }
        json!({ "error": error })
    }

    #[test]
    fn hard_decline_list() {
        for code in [
            "expired_card",
            "lost_card",
            "stolen_card",
            "incorrect_number",
            "invalid_number",
            "pickup_card",
            "restricted_card",
            "do_not_honor",
            "fraudulent",
            "card_not_supported",
            "currency_not_supported",
            "invalid_account",
            "new_account_information_available",
            "revocation_of_authorization",
            "security_violation",
            "transaction_not_allowed",
            "stop_payment_order",
            "do_not_try_again",
            "authentication_required",
        ] {
            assert!(is_hard_decline(code), "{code}");
        }
        for code in SOFT_DECLINE_CODES.iter().chain(&["card_declined", "", "EXPIRED_CARD", "something_new"]) {
            assert!(!is_hard_decline(code), "{code}");
        }
        // The lists are sorted enough to read and never overlap.
        for code in HARD_DECLINE_CODES {
            assert!(!SOFT_DECLINE_CODES.contains(&code), "{code}");
            assert_eq!(HARD_DECLINE_CODES.iter().filter(|c| **c == code).count(), 1, "{code}");
        }
    }

    #[test]
    fn card_errors() {
        for code in HARD_DECLINE_CODES {
            assert_eq!(classify_stripe_error(402, &card_error("card_declined", Some(code))), HARD, "{code}");
        }
        for code in SOFT_DECLINE_CODES {
            assert_eq!(classify_stripe_error(402, &card_error("card_declined", Some(code))), SOFT, "{code}");
        }
        // A code alone (no decline_code).
        assert_eq!(classify_stripe_error(402, &card_error("expired_card", None)), HARD);
        assert_eq!(classify_stripe_error(402, &card_error("incorrect_cvc", None)), HARD);
        assert_eq!(classify_stripe_error(402, &card_error("processing_error", None)), SOFT);
        assert_eq!(classify_stripe_error(402, &card_error("card_declined", None)), SOFT);
        // Unknown codes are soft.
        assert_eq!(classify_stripe_error(402, &card_error("card_declined", Some("brand_new_code"))), SOFT);
        // A 402 with no body, or no type, is a card error.
        assert_eq!(classify_stripe_error(402, &Value::Null), SOFT);
        assert_eq!(classify_stripe_error(402, &json!({ "error": { "decline_code": "lost_card" } })), HARD);
        // A card error type decides even with another status.
        assert_eq!(classify_stripe_error(400, &card_error("card_declined", Some("stolen_card"))), HARD);
    }

    #[test]
    fn advice_codes_can_make_a_decline_hard() {
        let mut body = card_error("card_declined", Some("insufficient_funds"));
        body["error"]["advice_code"] = json!("do_not_try_again");
        assert_eq!(classify_stripe_error(402, &body), HARD);
        body["error"]["advice_code"] = json!("confirm_card_data");
        assert_eq!(classify_stripe_error(402, &body), HARD);
        body["error"]["advice_code"] = json!("try_again_later");
        assert_eq!(classify_stripe_error(402, &body), SOFT);
        let mut body = card_error("card_declined", Some("lost_card"));
        body["error"]["advice_code"] = json!("try_again_later");
        assert_eq!(classify_stripe_error(402, &body), HARD);
    }

    #[test]
    fn other_errors() {
        let invalid = |code: &str| json!({ "error": { "type": "invalid_request_error", "code": code } });
        assert_eq!(classify_stripe_error(429, &Value::Null), ErrorClass::Retryable(ErrorKind::RateLimited));
        assert_eq!(
            classify_stripe_error(400, &invalid("lock_timeout")),
            ErrorClass::Retryable(ErrorKind::RateLimited)
        );
        assert_eq!(classify_stripe_error(409, &Value::Null), ErrorClass::Retryable(ErrorKind::RateLimited));
        assert_eq!(
            classify_stripe_error(500, &json!({ "error": { "type": "api_error" } })),
            ErrorClass::Retryable(ErrorKind::ServerError)
        );
        assert_eq!(classify_stripe_error(503, &Value::Null), ErrorClass::Retryable(ErrorKind::ServerError));
        // A 5xx is retryable even if it looks like a card error.
        assert_eq!(
            classify_stripe_error(502, &card_error("card_declined", Some("stolen_card"))),
            ErrorClass::Retryable(ErrorKind::ServerError)
        );
        assert_eq!(classify_stripe_error(408, &Value::Null), ErrorClass::Retryable(ErrorKind::Timeout));
        assert_eq!(classify_stripe_error(400, &invalid("parameter_missing")), REQUEST);
        assert_eq!(classify_stripe_error(400, &json!({ "error": { "type": "idempotency_error" } })), REQUEST);
        assert_eq!(
            classify_stripe_error(401, &json!({ "error": { "type": "invalid_request_error" } })),
            REQUEST
        );
        assert_eq!(classify_stripe_error(403, &Value::Null), REQUEST);
        assert_eq!(classify_stripe_error(404, &invalid("resource_missing")), REQUEST);
        assert_eq!(classify_stripe_error(402, &invalid("invoice_no_customer_line_items")), REQUEST);
        assert_eq!(classify_stripe_error(402, &invalid(REQUIRES_ACTION)), HARD);
        assert_eq!(classify_stripe_error(400, &invalid(REQUIRES_ACTION)), HARD);
        assert_eq!(classify_stripe_error(302, &Value::Null), REQUEST);
        assert_eq!(classify_stripe_error(200, &Value::Null), REQUEST);
    }

    #[test]
    fn ids() {
        let id = |v: Value| stripe_id(Some(&v), "invoice", "in_");
        assert_eq!(id(json!("in_1MtHbELkdIwHu7ixl4OzzPMv")).unwrap(), "in_1MtHbELkdIwHu7ixl4OzzPMv");
        for bad in [
            "",
            "in_",
            "in",
            "cus_123",
            "in_1/pay",
            "in_1/../../v1/charges",
            "in_1?x=1",
            "in_1#x",
            "in_1 ",
            "in_%2F",
            "in_é",
        ] {
            assert!(id(json!(bad)).is_err(), "{bad}");
        }
        assert!(id(json!(42)).is_err());
        assert!(id(json!("in_".to_owned() + &"a".repeat(253))).is_err());
        assert!(stripe_id(None, "invoice", "in_").unwrap_err().contains("missing"));
    }

    #[test]
    fn base_urls() {
        assert_eq!(parse_base_url("").unwrap().as_str(), "https://api.stripe.com/");
        assert!(parse_base_url("https://stripe-proxy.example.com/stripe").is_ok());
        assert!(parse_base_url("http://127.0.0.1:9000").is_ok());
        assert!(parse_base_url("http://localhost:9000").is_ok());
        assert!(parse_base_url("http://[::1]:9000").is_ok());
        assert!(parse_base_url("http://api.stripe.com").unwrap_err().contains("in clear"));
        assert!(parse_base_url("ftp://api.stripe.com").is_err());
        assert!(parse_base_url("https://api.stripe.com/?x=1").is_err());
        assert!(parse_base_url("https://user:pw@api.stripe.com/").is_err());
        assert!(
            !parse_base_url("https://user:sk_live_123@api.stripe.com/").unwrap_err().contains("sk_live_123")
        );
        assert!(parse_base_url("not a url").is_err());
    }

    #[test]
    fn error_descriptions_are_one_short_line() {
        let body = json!({ "error": {
            "type": "card_error", "code": "card_declined", "decline_code": "expired_card",
            "message": "Your card has expired.\nReally.",
        }});
        assert_eq!(
            StripeError::from_body(&body).describe(),
            "card_error (code card_declined, decline_code expired_card): Your card has expired. Really."
        );
        assert!(StripeError::from_body(&json!({ "error": "text" })).is_empty());
        assert!(StripeError::from_body(&json!([1])).is_empty());
    }
}
