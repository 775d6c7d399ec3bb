//! `seam trigger stripe EVENT`: sends a signed sample event to a running Seam, as `stripe trigger` does, so anyone can
//! try the engine without a Stripe account.

use std::time::Duration;

use anyhow::Context;
use seam_flow::{Clock, SystemClock};
use serde_json::{Value, json};

use crate::InputError;
use crate::cli::TriggerArgs;

/// The event types `seam trigger stripe` can make.
pub const STRIPE_EVENTS: &[&str] = &[
    "invoice.payment_failed",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.voided",
    "invoice.marked_uncollectible",
];

fn random_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..24].to_owned()
}

/// A Stripe event envelope around an invoice, in the shape Stripe sends (API version 2024-06-20 fields).
/// `stripe_retrying`: a failure says when Stripe retries (`next_payment_attempt`), as with its automatic retries on.
pub fn sample_stripe_event(
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

/// The Stripe signing secret to use: `--secret`, else the first of `SEAM_STRIPE_WEBHOOK_SECRET` (the one `seam serve`
/// accepts too).
pub fn signing_secret(given: Option<String>) -> Result<String, InputError> {
    given
        .or_else(|| {
            std::env::var("SEAM_STRIPE_WEBHOOK_SECRET")
                .ok()
                .and_then(|list| list.split(',').next().map(|first| first.trim().to_owned()))
        })
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| {
            InputError("no signing secret: pass --secret or set SEAM_STRIPE_WEBHOOK_SECRET".to_owned())
        })
}

pub fn trigger(args: TriggerArgs) -> anyhow::Result<()> {
    if args.source != "stripe" {
        return Err(
            InputError(format!("unknown source {:?}; `seam trigger` knows: stripe", args.source)).into()
        );
    }
    if !STRIPE_EVENTS.contains(&args.event.as_str()) {
        return Err(InputError(format!(
            "unknown event {:?}; `seam trigger stripe` can send: {}",
            args.event,
            STRIPE_EVENTS.join(", ")
        ))
        .into());
    }
    let secret = signing_secret(args.secret)?;
    let now = SystemClock.now().unix_seconds();
    let invoice = args.invoice.unwrap_or_else(|| format!("in_{}", random_suffix()));
    let customer = args.customer.unwrap_or_else(|| format!("cus_{}", &random_suffix()[..14]));
    let event = sample_stripe_event(&args.event, &invoice, &customer, args.amount, now, args.stripe_retrying);
    let body = event.to_string();
    let signature = seam_connectors::verify::stripe_signature_header(body.as_bytes(), &secret, now);
    crate::engine_cmd::install_tls_provider();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (status, reply) = runtime.block_on(async {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
        let response = client
            .post(&args.to)
            .header("Stripe-Signature", &signature)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .with_context(|| format!("cannot reach {} (is `seam serve` running?)", args.to))?;
        let status = response.status();
        let reply = response.text().await.unwrap_or_default();
        anyhow::Ok((status, reply))
    })?;
    crate::output::write_or_print(
        None,
        &format!(
            "sent {} {} (invoice {invoice}, customer {customer}) to {}\nanswer: {} {}\n",
            args.event,
            event["id"],
            args.to,
            status.as_u16(),
            reply.trim()
        ),
    )?;
    if !status.is_success() {
        anyhow::bail!("{} answered {}: {}", args.to, status, reply.trim());
    }
    Ok(())
}
