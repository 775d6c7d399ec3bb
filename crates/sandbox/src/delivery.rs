//! Webhook delivery: each event is POSTed as JSON to the configured URL with a `Stripe-Signature` header, and
//! retried on a non-2xx answer or a transport error.
//!
//! Like Stripe, each attempt is signed afresh with the time it is sent, redirects are not followed (a 3xx is a
//! failure), and any 2xx is success. Unlike Stripe, which retries for up to three days in live mode, the schedule
//! is compressed to seconds (see [`crate::DEFAULT_RETRY_DELAYS_MS`]) so a demo or test sees the whole story.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::state::{DeliveryAttempt, DeliveryStatus};
use crate::{DeliveryOrder, Shared, now_unix};

/// Runs until the queue closes or the task is aborted.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut queue: mpsc::UnboundedReceiver<String>,
    client: reqwest::Client,
) {
    match shared.config.delivery {
        DeliveryOrder::Ordered => {
            while let Some(id) = queue.recv().await {
                deliver(&shared, &client, &id).await;
            }
        }
        DeliveryOrder::Concurrent => {
            let mut running = JoinSet::new();
            loop {
                tokio::select! {
                    next = queue.recv() => match next {
                        Some(id) => {
                            let (shared, client) = (Arc::clone(&shared), client.clone());
                            running.spawn(async move { deliver(&shared, &client, &id).await });
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

/// Every attempt for one event, until one gets a 2xx or the schedule runs out.
async fn deliver(shared: &Shared, client: &reqwest::Client, event_id: &str) {
    let Some(url) = shared.config.webhook_url.clone() else { return };
    let Some(body) = shared.read(|s| s.event(event_id).map(|e| e.body.clone())) else { return };
    let delays = &shared.config.webhook_retry_delays;
    for n in 0..=delays.len() {
        if n > 0 {
            tokio::time::sleep(delays[n - 1]).await;
        }
        let at = now_unix();
        let signature = seam_connectors::verify::stripe_signature_header(
            body.as_bytes(),
            &shared.config.webhook_secret,
            at,
        );
        let sent = client
            .post(&url)
            .header("Content-Type", "application/json; charset=utf-8")
            .header("Stripe-Signature", signature)
            .body(body.clone())
            .send()
            .await;
        let (status, error) = match sent {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(e) => (None, Some(describe(&e))),
        };
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        let last = n == delays.len();
        tracing::debug!(event = event_id, attempt = n + 1, ?status, ?error, "sandbox webhook attempt");
        shared.with_state(|s| {
            if let Some(event) = s.event_mut(event_id) {
                event.attempts.push(DeliveryAttempt { n: n as u32 + 1, at, status, error });
                event.delivery = match (ok, last) {
                    (true, _) => DeliveryStatus::Delivered,
                    (false, true) => DeliveryStatus::Failed,
                    (false, false) => DeliveryStatus::Retrying,
                };
            }
        });
        if ok {
            return;
        }
    }
    tracing::warn!(event = event_id, url = %url, "sandbox webhook gave up after {} attempts", delays.len() + 1);
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
        .user_agent("Stripe/1.0 (+https://stripe.com/docs/webhooks)")
        .build()?)
}
