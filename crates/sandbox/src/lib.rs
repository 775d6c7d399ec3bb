//! The sandbox's Stripe (`seam sandbox`): a small, stateful stand-in for the parts of Stripe the failed-payment
//! playbook touches, so the engine can be exercised end to end without a Stripe account.
//!
//! A renewal creates a customer and an open subscription-cycle invoice, and Stripe's own first automatic charge
//! fails, which emits a signed `invoice.payment_failed` to the configured webhook URL. Whether later
//! `POST /v1/invoices/{id}/pay` calls succeed is decided per invoice by a seeded [`Scenario`]: some recover on
//! attempt 2 or 3, some are hard-declined every time, the rest are soft-declined every time. The same seed tells
//! the same story (outcomes, decline codes per attempt, customer profiles); ids are random, so restarting the
//! sandbox against the same Seam database never collides with old invoices or events.
//!
//! # Endpoints
//!
//! Stripe's (form-encoded bodies, `Authorization: Bearer KEY` when [`SandboxConfig::api_key`] is set):
//! `GET /v1/invoices?limit=N` (newest first; what `seam doctor` asks to check a key), `GET /v1/invoices/{id}`, `GET /v1/customers/{id}`, `GET /v1/charges/{id}`, `GET /v1/events/{id}`,
//! `POST /v1/invoices/{id}/pay` (`paid_out_of_band=true` supported), `POST /v1/invoices/{id}/send`,
//! `POST /v1/invoices/{id}/void`, `POST /v1/invoices/{id}/mark_uncollectible`.
//!
//! Admin (JSON, no authentication), each also a method on [`SandboxHandle`]: `POST /_sandbox/renewals`
//! ([`RenewalRequest`]), `POST /_sandbox/invoices/{id}/pay_out_of_band`, `…/void`, `…/mark_uncollectible`,
//! `GET /_sandbox/invoices` (with each invoice's outcome), `GET /_sandbox/calls` ([`CallCounts`]),
//! `GET /_sandbox/events` ([`EventRecord`]s with delivery status and attempts).
//!
//! # Faithful to Stripe
//!
//! - Object shapes follow API version [`API_VERSION`] (`2020-08-27`, the version of the sample events in
//!   `fixtures/stripe/events`): invoices with `status`, `paid`, `amount_due`/`amount_paid`/`amount_remaining`,
//!   `attempt_count`, `attempted`, `billing_reason: "subscription_cycle"`, `charge`, `payment_intent`,
//!   `next_payment_attempt`, `status_transitions`, a one-line `lines` list; amounts in minor units.
//! - Events are full envelopes (`evt_…` id, `object: "event"`, `api_version`, `created`, `data.object` = the
//!   invoice at that moment, `livemode: false`, `pending_webhooks`, `request.id`/`request.idempotency_key`, which
//!   are null for Stripe's automatic attempt). A card decline emits `invoice.payment_failed`; a successful charge
//!   emits `invoice.paid` and `invoice.payment_succeeded`; a payment out of band emits `invoice.paid` only; void
//!   and mark-uncollectible emit `invoice.voided` and `invoice.marked_uncollectible`; send emits `invoice.sent`.
//! - Webhooks carry `Stripe-Signature: t=…,v1=…` over `{t}.{body}`, re-signed at each attempt; any 2xx is
//!   success; redirects are not followed; deliveries may arrive concurrently and out of order
//!   ([`DeliveryOrder::Ordered`] delivers one at a time instead).
//! - Errors are `{"error": {...}}`: a decline is HTTP 402 `type: "card_error"` with `code` (`card_declined`, or
//!   `expired_card`, `incorrect_number`, `processing_error`), `decline_code`, `advice_code`, `message`, `doc_url`,
//!   `charge`; an unknown id is 404 `resource_missing`; an unknown parameter is 400 `parameter_unknown`; a
//!   missing or wrong API key is 401.
//! - Idempotency as Stripe does it: the first executed `POST` with an `Idempotency-Key` saves its status and body,
//!   errors included (a 402 decline is replayed as the same 402); the same key with the same parameters gets that
//!   answer again, with `Idempotent-Replayed: true`, no new charge attempt and no new event; the same key on
//!   another endpoint or with other parameters is 400 `idempotency_error`. Requests rejected before the endpoint
//!   runs (authentication, malformed body, unknown parameters) save nothing. Keys are at most 255 characters.
//!   Parameters are compared as a set of name/value pairs, so their order in the body does not matter.
//! - `attempt_count` counts as Stripe documents it: "any payment attempt counts as the first attempt, and
//!   subsequently only automatic retries increment the attempt count", so manual `pay` calls after the first
//!   attempt leave it at 1 (the sandbox's own per-invoice count is in `GET /_sandbox/invoices`).
//! - `POST /v1/invoices/{id}/send` is refused (400) for `charge_automatically` invoices, as Stripe refuses it
//!   ("You can only manually send an invoice if its collection method is 'send_invoice'"); renewals made with
//!   `collection_method: "send_invoice"` can be sent. Paying a void invoice or a paid one is a 400; an
//!   uncollectible invoice can still be paid; only an open invoice can be marked uncollectible.
//!
//! # Simplified
//!
//! - Only the objects above exist; the one list endpoint, `GET /v1/invoices`, takes only `limit` and has no
//!   pagination (`starting_after`) or filters; there is no `expand`, no payment methods to update, no
//!   subscriptions objects (a `sub_…` id is only referenced), no payment-intent objects (a `pi_…` id is only
//!   referenced), and card-error bodies omit the embedded `payment_intent`/`payment_method` objects.
//! - Renewals emit only `invoice.payment_failed` (Stripe would also send `invoice.created`, `invoice.finalized`,
//!   `charge.failed`, `payment_intent.payment_failed`, `invoice.updated`, ...). Stripe's automatic retries are off
//!   unless a renewal asks for them (`smart_retries: N`, with `end_of_retries`: `past_due`, `uncollectible` or
//!   `cancel_subscription`). With them on, a failed automatic attempt sets `next_payment_attempt` (3 days later)
//!   while retries are left and clears it after the last, as Stripe does; but the sandbox never retries on its
//!   own clock: each automatic retry happens when `POST /_sandbox/invoices/{id}/automatic_retry` asks for it. After
//!   the last failed retry the end-of-retries setting marks the invoice uncollectible (`invoice.marked_uncollectible`)
//!   or cancels the subscription (`customer.subscription.deleted`, a `subscription` object with `latest_invoice`).
//!   A requested `pay` never moves Stripe's schedule.
//! - Webhook retries are compressed from Stripe's days to seconds: by default 10 tries after 0.2 s, 0.5 s, 1 s,
//!   2 s, 4 s, 8 s, 15 s, 30 s and 60 s ([`DEFAULT_RETRY_DELAYS_MS`]; Stripe retries for up to three days in live
//!   mode). Each attempt times out after [`SandboxConfig::webhook_timeout`].
//! - The codes and messages for state errors (paying a paid or void invoice, voiding a paid one) are the
//!   sandbox's own (`invoice_already_paid`, `invoice_not_open`): Stripe answers 400 `invalid_request_error` but
//!   documents no code for these cases.
//! - Idempotency keys never expire (Stripe forgets them after 24 hours) and `GET` requests ignore them, as
//!   Stripe's do. Everything is in memory and gone when the sandbox stops.

// The invoice object is one `json!` literal with ~70 fields.
#![recursion_limit = "256"]

mod api;
mod delivery;
mod scenario;
mod state;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use scenario::{Decline, HARD_DECLINES, Outcome, SOFT_DECLINES, Scenario, attempt_result};
pub use state::{
    API_VERSION, CallCounts, DeliveryAttempt, DeliveryStatus, ErrorDetail, EventRecord, InvoiceSummary,
    KeyCalls, MAX_IDEMPOTENCY_KEY_LEN, RenewalRequest, Sandbox, StripeError,
};

/// The default pauses between webhook attempts, in milliseconds: 10 tries in about two minutes.
pub const DEFAULT_RETRY_DELAYS_MS: &[u64] = &[200, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 60_000];

/// How events go out to the webhook URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeliveryOrder {
    /// Each event is delivered (and retried) on its own, so they may arrive out of order, as Stripe's do.
    #[default]
    Concurrent,
    /// One event at a time in the order they were emitted; an event waits until the one before it is delivered
    /// or given up.
    Ordered,
}

/// What a sandbox is started with.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Decides every invoice's outcome, decline codes and customer profile.
    pub seed: u64,
    /// Where events are POSTed (`http://127.0.0.1:8717/webhooks/stripe`); none: events are only listed.
    pub webhook_url: Option<String>,
    /// The endpoint secret events are signed with (`whsec_…`).
    pub webhook_secret: String,
    pub scenario: Scenario,
    /// When set, `/v1` requests need `Authorization: Bearer <key>` (or Basic with the key as user name).
    pub api_key: Option<String>,
    pub delivery: DeliveryOrder,
    /// Pauses between webhook attempts; attempts = pauses + 1.
    pub webhook_retry_delays: Vec<Duration>,
    /// How long one webhook attempt may take.
    pub webhook_timeout: Duration,
}

impl SandboxConfig {
    /// A configuration with this seed and secret, no webhook URL, no API key and the defaults otherwise.
    pub fn new(seed: u64, webhook_secret: impl Into<String>) -> Self {
        SandboxConfig {
            seed,
            webhook_url: None,
            webhook_secret: webhook_secret.into(),
            scenario: Scenario::default(),
            api_key: None,
            delivery: DeliveryOrder::default(),
            webhook_retry_delays: DEFAULT_RETRY_DELAYS_MS
                .iter()
                .map(|&ms| Duration::from_millis(ms))
                .collect(),
            webhook_timeout: Duration::from_secs(10),
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig::new(0, "whsec_sandbox")
    }
}

/// Shows whether the secret and key are set, never their values.
impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("seed", &self.seed)
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &if self.webhook_secret.is_empty() { "(empty)" } else { "(set)" })
            .field("scenario", &self.scenario)
            .field("api_key", &self.api_key.as_ref().map(|_| "(set)"))
            .field("delivery", &self.delivery)
            .field("webhook_retry_delays", &self.webhook_retry_delays)
            .field("webhook_timeout", &self.webhook_timeout)
            .finish()
    }
}

pub(crate) fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// What the server, the delivery task and every handle share.
pub(crate) struct Shared {
    state: Mutex<Sandbox>,
    pub(crate) config: SandboxConfig,
    queue: mpsc::UnboundedSender<String>,
    changed: watch::Sender<u64>,
}

impl Shared {
    /// Runs `f` on the state under the lock, then queues any events it emitted (in order, still under the lock)
    /// and wakes whoever waits for a change.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut Sandbox) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let result = f(&mut state);
        for id in state.take_outbox() {
            let _ = self.queue.send(id);
        }
        drop(state);
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
        result
    }

    /// Reads the state under the lock; changes nothing and wakes no one.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Sandbox) -> R) -> R {
        f(&self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A cheap, cloneable handle on a running sandbox's state: the admin actions and the counters.
#[derive(Clone)]
pub struct SandboxHandle {
    shared: Arc<Shared>,
}

impl fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxHandle").field("config", &self.shared.config).finish_non_exhaustive()
    }
}

impl SandboxHandle {
    /// `POST /_sandbox/renewals`: the invoices, after their failed first automatic charge.
    pub fn create_renewals(&self, request: &RenewalRequest) -> Result<Vec<Value>, StripeError> {
        self.shared.with_state(|s| s.create_renewals(request, now_unix()))
    }

    /// `POST /_sandbox/invoices/{id}/pay_out_of_band`: the invoice, now paid; emits `invoice.paid`.
    pub fn pay_out_of_band(&self, invoice_id: &str) -> Result<Value, StripeError> {
        let req = state::random_id("req", 14);
        self.shared.with_state(|s| s.pay_out_of_band(invoice_id, &req, now_unix()))
    }

    /// `POST /_sandbox/invoices/{id}/void`: emits `invoice.voided`.
    pub fn void(&self, invoice_id: &str) -> Result<Value, StripeError> {
        let req = state::random_id("req", 14);
        self.shared.with_state(|s| s.void(invoice_id, &req, now_unix()))
    }

    /// `POST /_sandbox/invoices/{id}/mark_uncollectible`: emits `invoice.marked_uncollectible`.
    pub fn mark_uncollectible(&self, invoice_id: &str) -> Result<Value, StripeError> {
        let req = state::random_id("req", 14);
        self.shared.with_state(|s| s.mark_uncollectible(invoice_id, &req, now_unix()))
    }

    /// `POST /_sandbox/invoices/{id}/automatic_retry`: Stripe's next scheduled automatic retry, now.
    pub fn automatic_retry(&self, invoice_id: &str) -> Result<Value, StripeError> {
        self.shared.with_state(|s| s.automatic_retry(invoice_id, now_unix()))
    }

    /// The invoice as `GET /v1/invoices/{id}` returns it.
    pub fn invoice(&self, invoice_id: &str) -> Option<Value> {
        self.shared.read(|s| s.invoice(invoice_id))
    }

    /// The customer as `GET /v1/customers/{id}` returns it.
    pub fn customer(&self, customer_id: &str) -> Option<Value> {
        self.shared.read(|s| s.customer(customer_id))
    }

    /// `GET /_sandbox/invoices`: every invoice with its outcome, oldest first.
    pub fn invoices(&self) -> Vec<InvoiceSummary> {
        self.shared.read(|s| s.invoices())
    }

    /// The outcome drawn (or forced) for an invoice.
    pub fn outcome(&self, invoice_id: &str) -> Option<Outcome> {
        self.shared.read(|s| s.outcome(invoice_id))
    }

    /// `GET /_sandbox/calls`.
    pub fn calls(&self) -> CallCounts {
        self.shared.read(|s| s.calls().clone())
    }

    /// The requests made with one idempotency key.
    pub fn key_calls(&self, key: &str) -> Option<KeyCalls> {
        self.shared.read(|s| s.calls().by_key.get(key).cloned())
    }

    /// `GET /_sandbox/events`: every event emitted, oldest first, with its delivery record.
    pub fn events(&self) -> Vec<EventRecord> {
        self.shared.read(|s| s.events().to_vec())
    }

    /// The events emitted after the first `seen`, oldest first: what a caller that delivers events itself (as
    /// `seam demo` does, to deliver them in a repeatable order) has not yet delivered.
    pub fn events_after(&self, seen: usize) -> Vec<EventRecord> {
        self.shared.read(|s| s.events().get(seen..).unwrap_or_default().to_vec())
    }

    /// Waits until every event emitted so far is delivered or given up (or no webhook is configured). False if
    /// `timeout` passed first.
    pub async fn settle(&self, timeout: Duration) -> bool {
        let mut changes = self.shared.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.shared.read(|s| s.settled()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, changes.changed()).await.is_err() {
                return self.shared.read(|s| s.settled());
            }
        }
    }
}

/// A sandbox serving on its listener, with its delivery task. [`RunningSandbox::stop`] shuts both down; dropping
/// it aborts them.
pub struct RunningSandbox {
    addr: SocketAddr,
    handle: SandboxHandle,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    deliverer: Option<JoinHandle<()>>,
}

impl fmt::Debug for RunningSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningSandbox").field("addr", &self.addr).finish_non_exhaustive()
    }
}

/// Starts serving the sandbox on `listener` (bind port 0 for tests) and delivering its events.
///
/// Fails if the scenario's shares are invalid, the webhook URL is not an `http(s)` URL, or a webhook URL is set
/// with an empty secret.
pub async fn start(
    config: SandboxConfig,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<RunningSandbox> {
    config.scenario.validate().map_err(|e| anyhow::anyhow!("invalid sandbox scenario: {e}"))?;
    if let Some(url) = &config.webhook_url {
        let parsed = reqwest::Url::parse(url).with_context(|| format!("webhook URL `{url}` is not a URL"))?;
        anyhow::ensure!(
            matches!(parsed.scheme(), "http" | "https"),
            "webhook URL `{url}` must start with http:// or https://"
        );
        anyhow::ensure!(
            !config.webhook_secret.trim().is_empty(),
            "a webhook URL needs a webhook secret to sign with"
        );
    }
    let addr = listener.local_addr().context("reading the sandbox listener's address")?;
    let client = delivery::client(config.webhook_timeout).context("building the webhook client")?;
    let (queue, queued) = mpsc::unbounded_channel();
    let (changed, _) = watch::channel(0);
    let sandbox = Sandbox::new(config.seed, config.scenario.clone(), config.webhook_url.is_some());
    let shared = Arc::new(Shared { state: Mutex::new(sandbox), config, queue, changed });
    let deliverer = tokio::spawn(delivery::run(Arc::clone(&shared), queued, client));
    let handle = SandboxHandle { shared };
    let app = api::router(handle.clone());
    let (shutdown, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!(%addr, "sandbox listening");
    Ok(RunningSandbox {
        addr,
        handle,
        shutdown: Some(shutdown),
        server: Some(server),
        deliverer: Some(deliverer),
    })
}

impl RunningSandbox {
    /// `http://HOST:PORT`, with `127.0.0.1` (or `[::1]`) for an unspecified bind address.
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle on the state: counters, events, admin actions.
    pub fn state(&self) -> SandboxHandle {
        self.handle.clone()
    }

    /// Stops accepting requests, lets in-flight ones finish (at most 5 s), and stops delivering events.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(mut server) = self.server.take() {
            match tokio::time::timeout(Duration::from_secs(5), &mut server).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => tracing::warn!("sandbox server stopped with an error: {e}"),
                Ok(Err(e)) => tracing::warn!("sandbox server task failed: {e}"),
                Err(_) => server.abort(),
            }
        }
        if let Some(deliverer) = self.deliverer.take() {
            deliverer.abort();
            let _ = deliverer.await;
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if let Some(deliverer) = self.deliverer.take() {
            deliverer.abort();
        }
    }
}
