//! Webhook delivery: each webhook is POSTed to its source's URL (`webhook_url` for Stripe, else
//! `{webhook_base}/webhooks/{source}`), signed in that vendor's scheme, and retried on a non-2xx answer or a
//! transport error.
//!
//! Signatures are made at each attempt, with the time it is sent:
//! - Stripe: `Stripe-Signature: t=…,v1=<hex HMAC-SHA256 of "{t}.{body}">`.
//! - Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>` (the webhook's id, topic, shop, API
//!   version and trigger time are fixed when it is emitted).
//! - ShipBob (Standard Webhooks): `webhook-timestamp`, and `webhook-signature: v1,<base64 HMAC-SHA256 of
//!   "{webhook-id}.{timestamp}.{body}">` keyed with the base64-decoded part of the `whsec_…` secret.
//! - Zendesk: `X-Zendesk-Webhook-Signature-Timestamp` (RFC 3339) and `X-Zendesk-Webhook-Signature: <base64
//!   HMAC-SHA256 of timestamp + body>`.
//! - Gorgias signs nothing: the HTTP integration sends the secret itself in `X-Seam-Token`.
//!
//! Like the vendors, redirects are not followed (a 3xx is a failure) and any 2xx is success. Unlike them, the
//! schedule is compressed to seconds (see [`crate::DEFAULT_RETRY_DELAYS_MS`]) so a demo or test sees the whole
//! story.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::config::Vendor;
use crate::handle::Shared;
use crate::state::{DeliveryAttempt, DeliveryStatus};
use crate::world::Outgoing;
use crate::world::ids::utc;
use crate::{DeliveryOrder, now_unix};

/// Runs until the queue closes or the task is aborted.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut queue: mpsc::UnboundedReceiver<Outgoing>,
    client: reqwest::Client,
) {
    match shared.config.delivery {
        DeliveryOrder::Ordered => {
            while let Some(outgoing) = queue.recv().await {
                deliver(&shared, &client, outgoing).await;
            }
        }
        DeliveryOrder::Concurrent => {
            let mut running = JoinSet::new();
            loop {
                tokio::select! {
                    next = queue.recv() => match next {
                        Some(outgoing) => {
                            let (shared, client) = (Arc::clone(&shared), client.clone());
                            running.spawn(async move { deliver(&shared, &client, outgoing).await });
                        }
                        None => break,
                    },
                    Some(_) = running.join_next(), if !running.is_empty() => {}
                }
            }
            while running.join_next().await.is_some() {}
        }
    }
}

/// The key a ShipBob (Standard Webhooks) secret signs with: the base64 after `whsec_`.
pub(crate) fn standard_webhooks_key(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret.trim().strip_prefix("whsec_").unwrap_or(secret.trim());
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| "a ShipBob webhook secret is `whsec_` followed by base64 (Standard Webhooks)".to_owned())
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts a key of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The headers that sign `body` for `vendor` at `at` (Unix seconds).
fn signature_headers(vendor: Vendor, id: &str, body: &str, secret: &str, at: i64) -> Vec<(String, String)> {
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(bytes);
    match vendor {
        Vendor::Stripe => {
            vec![(
                "Stripe-Signature".to_owned(),
                seam_connectors::verify::stripe_signature_header(body.as_bytes(), secret, at),
            )]
        }
        Vendor::Shopify => {
            vec![(
                "X-Shopify-Hmac-Sha256".to_owned(),
                seam_connectors::verify::shopify_signature(body.as_bytes(), secret),
            )]
        }
        Vendor::Shipbob => {
            let key = standard_webhooks_key(secret).unwrap_or_default();
            let signed =
                hmac_sha256(&key, &[id.as_bytes(), b".", at.to_string().as_bytes(), b".", body.as_bytes()]);
            vec![
                ("webhook-timestamp".to_owned(), at.to_string()),
                ("webhook-signature".to_owned(), format!("v1,{}", b64(signed))),
            ]
        }
        Vendor::Zendesk => {
            let timestamp = utc(at);
            let signature = seam_connectors::verify::zendesk_signature(&timestamp, body.as_bytes(), secret);
            vec![
                ("X-Zendesk-Webhook-Signature-Timestamp".to_owned(), timestamp),
                ("X-Zendesk-Webhook-Signature".to_owned(), signature),
            ]
        }
        Vendor::Gorgias => vec![("X-Seam-Token".to_owned(), secret.to_owned())],
    }
}

fn user_agent(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Stripe => "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        Vendor::Shopify => "Shopify-Captain-Hook",
        Vendor::Shipbob => "Svix-Webhooks/1.0 (ShipBob)",
        Vendor::Zendesk => "Zendesk Webhook",
        Vendor::Gorgias => "Gorgias HTTP Integration",
    }
}

/// Every attempt for one webhook, until one gets a 2xx or the schedule runs out.
async fn deliver(shared: &Shared, client: &reqwest::Client, outgoing: Outgoing) {
    let found = shared.read_world(|w| match &outgoing {
        Outgoing::Stripe(id) => {
            w.stripe.event(id).map(|e| (Vendor::Stripe, e.id.clone(), e.body.clone(), Vec::new()))
        }
        Outgoing::Webhook(i) => {
            w.webhook(*i).map(|r| (r.source, r.id.clone(), r.body.clone(), r.headers.clone()))
        }
    });
    let Some((vendor, id, body, fixed)) = found else { return };
    let (Some(url), Some(secret)) = (shared.config.webhook_target(vendor), shared.config.secret_for(vendor))
    else {
        return;
    };
    let delays = &shared.config.webhook_retry_delays;
    for n in 0..=delays.len() {
        if n > 0 {
            tokio::time::sleep(delays[n - 1]).await;
        }
        let at = now_unix();
        let mut request = client
            .post(&url)
            .header("Content-Type", "application/json; charset=utf-8")
            .header("User-Agent", user_agent(vendor));
        for (name, value) in fixed.iter().chain(&signature_headers(vendor, &id, &body, secret, at)) {
            request = request.header(name.as_str(), value.as_str());
        }
        let sent = request.body(body.clone()).send().await;
        let (status, error) = match sent {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(e) => (None, Some(describe(&e))),
        };
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        let last = n == delays.len();
        tracing::debug!(%vendor, webhook = %id, attempt = n + 1, ?status, ?error, "sandbox webhook attempt");
        let attempt = DeliveryAttempt { n: n as u32 + 1, at, status, error };
        let delivery = match (ok, last) {
            (true, _) => DeliveryStatus::Delivered,
            (false, true) => DeliveryStatus::Failed,
            (false, false) => DeliveryStatus::Retrying,
        };
        shared.with_world(|w| match &outgoing {
            Outgoing::Stripe(event) => {
                if let Some(event) = w.stripe.event_mut(event) {
                    event.attempts.push(attempt);
                    event.delivery = delivery;
                }
            }
            Outgoing::Webhook(i) => {
                if let Some(record) = w.webhook_mut(*i) {
                    record.attempts.push(attempt);
                    record.delivery = delivery;
                }
            }
        });
        if ok {
            return;
        }
    }
    tracing::warn!(%vendor, webhook = %id, url = %url, "sandbox webhook gave up after {} attempts", delays.len() + 1);
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = format!("{kind}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The client deliveries use: no redirects, a total timeout per attempt.
pub(crate) fn client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}
