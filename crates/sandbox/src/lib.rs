//! The sandbox (`seam sandbox`, `seam demo`): Stripe, Shopify, ShipBob, Zendesk and Gorgias on one port, each
//! under its own published paths, over one seeded world, so Seam can be exercised end to end across tools
//! without an account at any of them.
//!
//! The world (`world/`) is one store: a catalogue of SKUs with stock at two ShipBob fulfillment centers and a
//! Shopify count that drifts from it, customers known to every vendor, orders placed in Shopify that exist at the
//! 3PL under `reference_id` = the Shopify order id, shipments that move through statuses, returns and refunds,
//! Zendesk and Gorgias tickets. Each vendor face is a router plus an `impl World` block; none keeps state outside
//! the world, so one purchase looks the same from every vendor. The seed draws the story (names, stock, drift,
//! which SKU is short, every invoice's payment outcome); ids created while running come from a salt drawn at
//! start, so a restarted sandbox never repeats an id Seam has seen.
//!
//! Every vendor request passes one gate (`calls.rs`) that applies faults on demand (`POST /_sandbox/faults`: 429
//! with `Retry-After`, 500, Shopify `THROTTLED`, invalid JSON, or a hang before or after the work) and logs it
//! once (`GET /_sandbox/calls` → `log`: vendor, method, path, idempotency key or `reference_id`, status, fault).
//! Webhooks are signed in each vendor's scheme and delivered with retries to `webhook_url` (Stripe) or
//! `{webhook_base}/webhooks/{source}` ([`SandboxConfig`]).
//!
//! Stripe's story is the failed-payment one: a renewal creates a customer and an open subscription-cycle invoice
//! whose first automatic charge fails (`invoice.payment_failed`), and whether later `POST /v1/invoices/{id}/pay`
//! calls succeed is decided per invoice by a seeded [`Scenario`]: some recover on attempt 2 or 3, some are
//! hard-declined every time, the rest soft-declined every time. Checkout sessions (`checkout.session.completed`)
//! are the cross-tool way in: a buyer pays through Stripe, and Seam hands the order to the 3PL.
//!
//! # Endpoints
//!
//! - Stripe (form bodies, `Authorization: Bearer KEY` when [`SandboxConfig::api_key`] is set):
//!   `GET /v1/invoices?limit=N` (newest first; what `seam doctor` asks to check a key), `GET /v1/invoices/{id}`,
//!   `GET /v1/customers/{id}`, `GET /v1/charges/{id}`, `GET /v1/events/{id}`,
//!   `POST /v1/invoices/{id}/pay` (`paid_out_of_band=true` supported), `…/send`, `…/void`,
//!   `…/mark_uncollectible`, `GET /v1/checkout/sessions/{id}`, `GET /v1/checkout/sessions/{id}/line_items`,
//!   `GET /v1/payment_intents/{id}`, `POST /v1/payment_intents/{id}`.
//! - Shopify: `POST /admin/api/{version}/graphql.json` (`X-Shopify-Access-Token`): the query root's `customers`,
//!   `customer`, `orders`, `order`, `productVariants`, `productVariant`, `inventoryItem`, `locations`,
//!   `location`, `shop`, `job`; the mutations `metafieldsSet`, `tagsAdd`, `tagsRemove`, `orderCancel`.
//! - ShipBob (`Authorization: Bearer`): `GET /{v}/channel`, `GET /{v}/inventory-level/locations`,
//!   `POST /{v}/order`, `GET /{v}/order`, `GET /{v}/order/{id}`, `GET /{v}/order/{id}/shipment`,
//!   `GET /{v}/return`, `GET /{v}/return/{id}`.
//! - Zendesk (Basic `{email}/token:{token}`): `GET /api/v2/users/{id}.json`, `GET /api/v2/tickets/{id}.json`,
//!   `GET /api/v2/tickets/{id}/comments.json`, `PUT /api/v2/tickets/{id}.json`, `GET`/`PUT
//!   /api/v2/tickets/{id}/tags.json`.
//! - Gorgias (Basic `{email}:{api key}`): `GET /api/tickets/{id}`, `GET`/`POST /api/tickets/{id}/messages`,
//!   `POST /api/tickets/{id}/tags`.
//! - Admin (JSON, no authentication), each also a method on [`SandboxHandle`]: Stripe's `POST
//!   /_sandbox/renewals` ([`RenewalRequest`]), `POST /_sandbox/invoices/{id}/pay_out_of_band`, `…/void`,
//!   `…/mark_uncollectible`, `…/automatic_retry`, `GET /_sandbox/invoices`, `GET /_sandbox/events`; the world's
//!   ([`OrderRequest`], [`CheckoutRequest`], [`RestockRequest`], [`ReturnRequest`], [`TicketRequest`],
//!   [`FaultRequest`]) `POST /_sandbox/shopify/orders`, `POST
//!   /_sandbox/stripe/checkout_sessions`, `POST /_sandbox/restock`, `POST /_sandbox/shipbob/orders/{id}/ship`,
//!   `…/deliver`, `POST /_sandbox/shipbob/returns`, `POST /_sandbox/shipbob/returns/{id}/complete`, `POST
//!   /_sandbox/tickets`, `POST`/`GET`/`DELETE /_sandbox/faults`, `GET /_sandbox/world`, `GET /_sandbox/webhooks`,
//!   `POST /_sandbox/webhooks/{id}/redeliver`,
//!   `GET /_sandbox/calls` ([`CallCounts`], with `log`).
//!
//! ## Stripe: faithful
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
//! ## Stripe: simplified
//!
//! - Only the objects above exist; the list endpoints are `GET /v1/invoices` (only `limit`; no pagination or
//!   filters) and a session's line items, the one `expand` is
//!   `data.price.product` on it; there are no payment methods to update, no subscription objects (a `sub_…` id is
//!   only referenced), payment intents exist only for checkout sessions (an invoice's `pi_…` is only
//!   referenced), and card-error bodies omit the embedded `payment_intent`/`payment_method` objects.
//! - Checkout sessions are made complete and paid by the admin endpoint (no `POST /v1/checkout/sessions`, no
//!   hosted page); `checkout.session.completed` is the only checkout event. Updating a payment intent's metadata
//!   emits nothing (Stripe sends no event for it either).
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

//! ## Shopify: faithful
//!
//! - GraphQL is parsed, not pattern-matched: operations, variables (with defaults), aliases, fragments, inline
//!   fragments, directives. The answer holds exactly the selected fields under their aliases; connections
//!   answer `nodes`, `edges { cursor node }` and `pageInfo`, paged by `first`/`last`/`after`/`before` (at most
//!   250); lists take `first`; `quantities(names:)` and `metafield(namespace:, key:)` read their arguments. A
//!   field the type lacks is refused the way Shopify refuses it (`undefinedField`, no `data`), as is a connection
//!   without `first` or `last`.
//! - Ids are gids whose numbers lie above 2^53 (`gid://shopify/Order/5…`); `legacyResourceId` and
//!   `numberOfOrders` are strings (`UnsignedInt64`); money is `MoneyBag { shopMoney { amount currencyCode } }`
//!   with `Decimal` strings (`"32.0"`).
//! - Cost as Shopify publishes it: objects 1, a connection 2 plus `first` times its node, a mutation 10; a
//!   request over 1,000 points is refused with `MAX_COST_EXCEEDED` before it runs; a leaky bucket (2,000 points,
//!   100 a second, [`SandboxConfig::shopify_bucket`]) answers `THROTTLED` (HTTP 200) when it cannot pay; every
//!   answer carries `extensions.cost` with `requestedQueryCost`, `actualQueryCost` and `throttleStatus`, and the
//!   difference between requested and actual cost is refunded.
//! - `@idempotent(key:)` on a mutation (on the field, as Shopify documents it, or on the operation): the same
//!   key with the same arguments gets the first answer again and changes nothing; with other arguments it is an
//!   error. `userErrors` (`orderCancelUserErrors`, `MetafieldsSetUserError` with `elementIndex`) for bad input;
//!   missing required arguments and bad enum values are top-level errors.
//! - `metafieldsSet` is all-or-nothing, upserts by owner, namespace and key, and checks the key (2-64 letters,
//!   digits, `-`, `_`), the namespace (3-255), the type and the value; `tagsAdd` adds to the order's tags (a
//!   string of comma-separated tags is split); `orderCancel` takes `refund` or `refundMethod {
//!   originalPaymentMethodsRefund }`, refuses an order already cancelled, fulfilled or with an open return,
//!   releases committed stock (back to `available` with `restock`), cancels the fulfillment orders, refunds
//!   what was paid, and answers `job { id done: false }` and `jobResult` (2026-10) while the world has already
//!   changed.
//! - Webhooks: the REST resource (`orders/create` as `fixtures/shopify/webhooks/orders__create.payload.json`,
//!   exact integer ids with `admin_graphql_api_id`), `X-Shopify-Topic`, `X-Shopify-Hmac-Sha256`,
//!   `X-Shopify-Webhook-Id`, `X-Shopify-Event-Id`, `X-Shopify-Shop-Domain`, `X-Shopify-API-Version`,
//!   `X-Shopify-Triggered-At`. Placing an order commits stock, so Shopify also sends `inventory_levels/update`
//!   for each level it changed.
//! - A missing or wrong access token is 401 `{"errors": "[API] Invalid API key or access token (unrecognized
//!   login or wrong password)"}`; rate limiting by fault is 429 with `Retry-After`.
//!
//! ## Shopify: simplified
//!
//! - One shop, one location, USD, no taxes, discounts or shipping lines; every variant is its product's only
//!   one. The query root and the mutations listed above are all there is; search syntax covers `field:value`,
//!   `AND`/`OR`/`NOT`/`-`, quotes and bare words (`customers`: email, id, first/last name, phone; `orders`:
//!   name, email, id, customer_id, sku, tag, financial/fulfillment status, status; `productVariants`: sku, id,
//!   product_id, title); an unknown filter is ignored as Shopify ignores it. Types are not checked ahead of
//!   time: a misspelled field is found on the objects actually returned, so one under an empty list goes
//!   unnoticed; variable types are not checked.
//! - `orderCancel` completes at once (the job answers `done: false`, and `job(id:)` then answers `done: true`);
//!   `notifyCustomer` and `staffNote` are accepted and ignored; no `orders/cancelled` webhook is sent. The
//!   `IDEMPOTENCY_KEY_REUSED` error code is the sandbox's own. Only orders carry metafields and tags.
//!
//! ## ShipBob: faithful
//!
//! - Shapes from the 2026-01 OpenAPI spec: orders (`OrderViewModel`, with `shipments`), shipments (`status`
//!   `Processing`, `Exception` with an `OutOfStock` detail, `Completed` once shipped, with `tracking {carrier,
//!   tracking_number, tracking_url}` and `delivery_date` once delivered), returns (`PublicReturnDto`, paged
//!   `{items, first, last, next, prev}`), inventory by fulfillment center (`on_hand_quantity`,
//!   `fulfillable_quantity`, `committed_quantity`, `awaiting_quantity`).
//! - `POST /{v}/order` checks what the spec requires (`reference_id`, `shipping_method`, `type`, `recipient.name`,
//!   `recipient.address.{address1,city,country}`, `products` with a quantity, and a `name` for a product ShipBob
//!   does not know) and answers 400 `{"Field": ["message"]}`; the `shipbob_channel_id` header is required (the configured channel, else 403); a repeated
//!   `reference_id` is 422 `{"": ["Cannot insert order with existing ReferenceId"]}` and creates nothing. Ids
//!   are 32-bit integers. Creating an order commits stock at the first center that can ship it all.
//! - Webhooks are Standard Webhooks: `webhook-id` (`msg_…`), `webhook-timestamp`, `webhook-signature: v1,<base64
//!   HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed with the base64-decoded part of the `whsec_…` secret, and
//!   `x-webhook-topic` (`order.shipped`, `order.shipment.delivered`, `return.created`, `return.completed`). No
//!   inventory webhooks, as ShipBob has none.
//!
//! ## ShipBob: simplified
//!
//! - One shipment per order; shipping, delivery and returns happen only when the admin endpoints say so (the
//!   warehouse and carrier do not move on a clock). A webhook's body is the shipment (or return) object itself;
//!   the spec gives no webhook payloads.
//! - A return's `reference_id` and `store_order_id` are both the order's `reference_id` (ShipBob's
//!   `reference_id` on a return is whatever the merchant gave it, often an RMA number), so `GET
//!   /{v}/return?ReferenceIds=<order reference>` finds it, as does `StoreOrderIds=`.
//! - `SearchBy` matches a SKU or name containing the text (case-insensitive) or an inventory id; paging is one
//!   page. Errors other than validation are RFC 7807 problem details (the spec documents no bodies for them).
//!
//! ## Zendesk: faithful
//!
//! - Users, tickets and comments in the Support API's shapes; `PUT /api/v2/tickets/{id}.json` with `{"ticket":
//!   {"comment": {"body", "public": false}}}` adds an internal note by the API user and answers `{ticket,
//!   audit}`; `PUT …/tags.json` adds tags (lower case, spaces to `_`); errors are `{"error": "RecordNotFound",
//!   "description": "Not found"}`, 422 `RecordInvalid` with details, 401 `{"error": "Couldn't authenticate
//!   you"}`.
//! - `zen:event-type:ticket.created` is shaped like the event-subscription body in
//!   `fixtures/helpdesk/zendesk/ticket.created.gata-router-fixture.json` (ids in `detail` as strings, as
//!   Zendesk documents them; `subject: "zen:ticket:{id}"`), signed with `X-Zendesk-Webhook-Signature` = base64
//!   HMAC-SHA256(timestamp + body) and `X-Zendesk-Webhook-Signature-Timestamp`.
//!
//! ## Gorgias: faithful
//!
//! - Tickets and messages in Gorgias' shapes (`{"data": [...], "meta": {...}}` lists); `POST …/messages`
//!   requires `channel`, `via`, `from_agent`, `sender` and a body, and an `internal-note` message is private.
//! - Gorgias signs nothing: the `ticket-created` call carries the configured secret in `X-Seam-Token` and the body
//!   `{"id": "ticket-created-{id}", "type": "ticket-created", "ticket": {id, subject, customer, requester, body,
//!   ...}}`, the HTTP integration body `docs/connectors.md` prescribes.
//!
//! ## Helpdesks: simplified
//!
//! - No search, no views, no attachments, no ticket creation through the API (only the admin endpoint). Error
//!   bodies for Gorgias (`{"error": {"msg"}}`) and Zendesk's 429 and 500 bodies are the sandbox's own.
//!
//! ## Every vendor: simplified
//!
//! - Rate limits and server errors happen only as faults on demand (besides Shopify's bucket). Webhook retries
//!   are compressed from days to seconds (by default 10 tries in about two minutes,
//!   [`DEFAULT_RETRY_DELAYS_MS`]); each attempt times out after [`SandboxConfig::webhook_timeout`]. Everything is
//!   in memory and gone when the sandbox stops.

// The invoice object is one `json!` literal with ~70 fields.
#![recursion_limit = "256"]

mod admin;
mod api;
mod calls;
mod config;
mod delivery;
mod faults;
mod gorgias;
mod handle;
mod scenario;
mod shipbob;
mod shopify;
mod state;
mod stripe;
mod world;
mod zendesk;

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use axum::Router;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub use admin::{
    CheckoutRequest, LineRequest, OrderRequest, RestockRequest, ReturnRequest, TicketRequest, WorldError,
};
pub use calls::CallRecord;
pub use config::{
    BasicCredentials, DEFAULT_RETRY_DELAYS_MS, DeliveryOrder, SHOPIFY_API_VERSION, SandboxConfig, Vendor,
};
pub use faults::{ActiveFault, FaultKind, FaultRequest};
pub use handle::SandboxHandle;
pub use scenario::{Decline, HARD_DECLINES, Outcome, SOFT_DECLINES, Scenario, attempt_result};
pub use state::{
    API_VERSION, CallCounts, DeliveryAttempt, DeliveryStatus, ErrorDetail, EventRecord, InvoiceSummary,
    KeyCalls, MAX_IDEMPOTENCY_KEY_LEN, RenewalRequest, Sandbox, StripeError,
};
pub use world::model::Helpdesk;
pub use world::{
    CustomerSummary, LineSummary, OrderSummary, PlaceSummary, ShipbobOrderSummary, ShipmentSummary,
    SkuSummary, TicketSummary, WebhookRecord, WorldSummary,
};

pub(crate) fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

pub(crate) fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
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

/// Checks what `start` is given: the scenario's shares, each webhook target an `http(s)` URL, Stripe's secret
/// when Stripe's webhooks have a target, ShipBob's secret in Standard Webhooks form.
fn check(config: &SandboxConfig) -> anyhow::Result<()> {
    config.scenario.validate().map_err(|e| anyhow::anyhow!("invalid sandbox scenario: {e}"))?;
    for (what, url) in [("webhook URL", &config.webhook_url), ("webhook base", &config.webhook_base)] {
        if let Some(url) = url {
            let parsed = reqwest::Url::parse(url).with_context(|| format!("{what} `{url}` is not a URL"))?;
            anyhow::ensure!(
                matches!(parsed.scheme(), "http" | "https"),
                "{what} `{url}` must start with http:// or https://"
            );
        }
    }
    if config.webhook_target(Vendor::Stripe).is_some() {
        anyhow::ensure!(
            config.secret_for(Vendor::Stripe).is_some(),
            "a webhook URL needs a webhook secret to sign with"
        );
    }
    if let Some(secret) = config.webhook_secrets.get(&Vendor::Shipbob) {
        delivery::standard_webhooks_key(secret)
            .map_err(|e| anyhow::anyhow!("ShipBob webhook secret: {e}"))?;
    }
    Ok(())
}

/// Starts serving the sandbox on `listener` (bind port 0 for tests) and delivering its webhooks.
///
/// Fails if the scenario's shares are invalid, a webhook URL or base is not an `http(s)` URL, Stripe's webhooks
/// have a target but no secret, or ShipBob's secret is not `whsec_` and base64. A vendor with a target but no
/// secret is not delivered (a warning says so).
pub async fn start(
    config: SandboxConfig,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<RunningSandbox> {
    check(&config)?;
    for vendor in Vendor::ALL {
        if config.webhook_target(vendor).is_some() && !config.delivers(vendor) {
            tracing::warn!(%vendor, "no webhook secret for {vendor}: its webhooks are listed, not delivered");
        }
    }
    let addr = listener.local_addr().context("reading the sandbox listener's address")?;
    let client = delivery::client(config.webhook_timeout).context("building the webhook client")?;
    let (queue, queued) = mpsc::unbounded_channel();
    let salt = config.world_salt.unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let settings = world::WorldSettings {
        seed: config.seed,
        salt,
        scenario: config.scenario.clone(),
        shop_domain: config.shopify_shop_domain.clone(),
        bucket: config.shopify_bucket,
        max_query_cost: config.shopify_max_query_cost,
        channel_id: config.shipbob_channel_id,
        delivered: Vendor::ALL.into_iter().filter(|v| config.delivers(*v)).collect::<BTreeSet<_>>(),
    };
    let world = world::World::new(settings, now_unix());
    let shared = Arc::new(handle::Shared::new(world, config, queue));
    let deliverer = tokio::spawn(delivery::run(Arc::clone(&shared), queued, client));
    let handle = SandboxHandle { shared };
    let app = router(handle.clone());
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

/// Every vendor's routes and the admin routes, behind the gate that faults and logs vendor calls.
fn router(handle: SandboxHandle) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(stripe::routes())
        .merge(shopify::routes())
        .merge(shipbob::routes())
        .merge(zendesk::routes())
        .merge(gorgias::routes())
        .merge(admin::routes())
        .fallback(api::unrecognized)
        .layer(axum::middleware::from_fn_with_state(handle.clone(), calls::gate))
        .with_state(handle)
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

    /// A handle on the world: counters, webhooks, admin actions.
    pub fn state(&self) -> SandboxHandle {
        self.handle.clone()
    }

    /// Stops accepting requests, lets in-flight ones finish (at most 5 s), and stops delivering webhooks.
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
