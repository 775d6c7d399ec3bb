//! What the server, the delivery task and every handle share ([`Shared`]: the world behind one lock, the fault
//! schedule, the delivery queue), and [`SandboxHandle`], the Rust face of the admin endpoints.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, watch};

use crate::admin::{CheckoutRequest, OrderRequest, RestockRequest, ReturnRequest, TicketRequest, WorldError};
use crate::api::request_id;
use crate::calls::CallRecord;
use crate::config::{SandboxConfig, Vendor};
use crate::faults::{ActiveFault, Applied, FaultRequest, Faults};
use crate::scenario::Outcome;
use crate::state::{CallCounts, EventRecord, InvoiceSummary, KeyCalls, RenewalRequest, Sandbox, StripeError};
use crate::world::{Outgoing, WebhookRecord, World, WorldSummary};
use crate::{now_millis, now_unix};

pub(crate) struct Shared {
    world: Mutex<World>,
    faults: Mutex<Faults>,
    pub(crate) config: SandboxConfig,
    queue: mpsc::UnboundedSender<Outgoing>,
    pub(crate) changed: watch::Sender<u64>,
}

impl Shared {
    pub(crate) fn new(world: World, config: SandboxConfig, queue: mpsc::UnboundedSender<Outgoing>) -> Shared {
        let (changed, _) = watch::channel(0);
        Shared { world: Mutex::new(world), faults: Mutex::new(Faults::default()), config, queue, changed }
    }

    /// Runs `f` on the world under the lock, then queues any webhooks it emitted (in order, still under the
    /// lock) and wakes whoever waits for a change.
    pub(crate) fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut world = self.world.lock().unwrap_or_else(PoisonError::into_inner);
        let result = f(&mut world);
        for outgoing in world.take_outbox() {
            let _ = self.queue.send(outgoing);
        }
        drop(world);
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
        result
    }

    /// Reads the world under the lock; changes nothing and wakes no one.
    pub(crate) fn read_world<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.world.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// [`Shared::with_world`] on the Stripe account.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut Sandbox) -> R) -> R {
        self.with_world(|w| f(&mut w.stripe))
    }

    /// [`Shared::read_world`] on the Stripe account.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Sandbox) -> R) -> R {
        self.read_world(|w| f(&w.stripe))
    }

    pub(crate) fn take_fault(
        &self,
        vendor: Vendor,
        method: &str,
        path: &str,
        now_ms: i64,
    ) -> Option<Applied> {
        let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        faults.take(vendor, method, path, now_ms, self.config.fault_hang)
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A cheap, cloneable handle on a running sandbox: the admin actions, the counters, the call log.
#[derive(Clone)]
pub struct SandboxHandle {
    pub(crate) shared: Arc<Shared>,
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
        let req = request_id();
        self.shared.with_state(|s| s.pay_out_of_band(invoice_id, &req, now_unix()))
    }

    /// `POST /_sandbox/invoices/{id}/void`: emits `invoice.voided`.
    pub fn void(&self, invoice_id: &str) -> Result<Value, StripeError> {
        let req = request_id();
        self.shared.with_state(|s| s.void(invoice_id, &req, now_unix()))
    }

    /// `POST /_sandbox/invoices/{id}/mark_uncollectible`: emits `invoice.marked_uncollectible`.
    pub fn mark_uncollectible(&self, invoice_id: &str) -> Result<Value, StripeError> {
        let req = request_id();
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

    /// `GET /_sandbox/calls`: Stripe's counters, and every vendor request in `log`.
    pub fn calls(&self) -> CallCounts {
        self.shared.read_world(|w| CallCounts { log: w.log.clone(), ..w.stripe.calls().clone() })
    }

    /// The call log alone (`GET /_sandbox/calls` → `log`), oldest first.
    pub fn call_log(&self) -> Vec<CallRecord> {
        self.shared.read_world(|w| w.log.clone())
    }

    /// The requests made with one Stripe idempotency key.
    pub fn key_calls(&self, key: &str) -> Option<KeyCalls> {
        self.shared.read(|s| s.calls().by_key.get(key).cloned())
    }

    /// `GET /_sandbox/events`: every Stripe event emitted, oldest first, with its delivery record.
    pub fn events(&self) -> Vec<EventRecord> {
        self.shared.read(|s| s.events().to_vec())
    }

    /// The events emitted after the first `seen`, oldest first: what a caller that delivers events itself (as
    /// `seam demo` does, to deliver them in a repeatable order) has not yet delivered.
    pub fn events_after(&self, seen: usize) -> Vec<EventRecord> {
        self.shared.read(|s| s.events().get(seen..).unwrap_or_default().to_vec())
    }

    /// The webhooks of Shopify, ShipBob, Zendesk and Gorgias emitted after the first `seen`, oldest first (Stripe's
    /// events are [`SandboxHandle::events_after`]): what a caller that delivers webhooks itself has not yet
    /// delivered. Each record has the exact body and the headers that name it; the signature is the caller's to add.
    pub fn vendor_webhooks_after(&self, seen: usize) -> Vec<WebhookRecord> {
        self.shared.read_world(|w| w.webhooks_after(seen))
    }

    /// `GET /_sandbox/webhooks`: every vendor's webhooks (Stripe's events first), with delivery records.
    pub fn webhooks(&self) -> Vec<WebhookRecord> {
        self.shared.read_world(World::webhooks)
    }

    /// `POST /_sandbox/webhooks/{id}/redeliver` (`{"times": N}`, default 1): the same webhook (same id, same body)
    /// delivered again, N more times, as a vendor that redelivers or duplicates does.
    pub fn redeliver(&self, webhook_id: &str, times: u32) -> Result<(), WorldError> {
        if self.shared.with_world(|w| w.redeliver(webhook_id, times.max(1))) {
            Ok(())
        } else {
            Err(WorldError::not_found(format!("no delivered webhook `{webhook_id}`")))
        }
    }

    /// `GET /_sandbox/world`: the world at a glance, with every vendor's ids.
    pub fn world(&self) -> WorldSummary {
        self.shared.read_world(World::summary)
    }

    /// `POST /_sandbox/shopify/orders`: places an order in Shopify; emits `orders/create`. The REST order.
    pub fn place_order(&self, request: &OrderRequest) -> Result<Value, WorldError> {
        self.shared.with_world(|w| w.admin_place_order(request, now_unix()))
    }

    /// `POST /_sandbox/stripe/checkout_sessions`: a completed Checkout; emits `checkout.session.completed`.
    pub fn create_checkout(&self, request: &CheckoutRequest) -> Result<Value, WorldError> {
        self.shared.with_world(|w| w.admin_checkout(request, now_unix()))
    }

    /// `POST /_sandbox/restock`: more of a SKU in Shopify (emits `inventory_levels/update`) and/or at a center.
    pub fn restock(&self, request: &RestockRequest) -> Result<Value, WorldError> {
        self.shared.with_world(|w| w.admin_restock(request, now_unix()))
    }

    /// `POST /_sandbox/shipbob/orders/{id}/ship`: emits `order.shipped`. The shipment.
    pub fn ship(&self, shipbob_order_id: u64) -> Result<Value, WorldError> {
        self.shared.with_world(|w| w.admin_ship(shipbob_order_id, now_unix()))
    }

    /// `POST /_sandbox/shipbob/orders/{id}/deliver`: emits `order.shipment.delivered`. The shipment.
    pub fn deliver(&self, shipbob_order_id: u64) -> Result<Value, WorldError> {
        self.shared.with_world(|w| w.admin_deliver(shipbob_order_id, now_unix()))
    }

    /// `POST /_sandbox/shipbob/returns`: emits `return.created`. The return.
    pub fn create_return(&self, request: &ReturnRequest) -> Result<Value, WorldError> {
        self.shared.with_world(|w| w.admin_return(request, now_unix()))
    }

    /// `POST /_sandbox/shipbob/returns/{id}/complete`: restocked; emits `return.completed`. The return.
    pub fn complete_return(&self, return_id: u64) -> Result<Value, WorldError> {
        self.shared.with_world(|w| w.admin_complete_return(return_id, now_unix()))
    }

    /// `POST /_sandbox/tickets`: a Zendesk or Gorgias ticket; emits the helpdesk's ticket-created. The ticket.
    pub fn open_ticket(&self, request: &TicketRequest) -> Result<Value, WorldError> {
        self.shared.with_world(|w| w.admin_ticket(request, now_unix()))
    }

    /// `POST /_sandbox/faults`.
    pub fn add_fault(&self, request: FaultRequest) -> Result<ActiveFault, WorldError> {
        self.shared.faults().add(request, now_millis()).map_err(WorldError::invalid)
    }

    /// `DELETE /_sandbox/faults` (`?vendor=`): how many were cleared.
    pub fn clear_faults(&self, vendor: Option<Vendor>) -> usize {
        self.shared.faults().clear(vendor)
    }

    /// `GET /_sandbox/faults`.
    pub fn faults(&self) -> Vec<ActiveFault> {
        self.shared.faults().list(now_millis())
    }

    /// Waits until every webhook emitted so far is delivered or given up (or not configured). False if
    /// `timeout` passed first.
    pub async fn settle(&self, timeout: Duration) -> bool {
        let mut changes = self.shared.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.shared.read_world(World::settled) {
                return true;
            }
            if tokio::time::timeout_at(deadline, changes.changed()).await.is_err() {
                return self.shared.read_world(World::settled);
            }
        }
    }
}
