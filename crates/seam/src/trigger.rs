//! `seam trigger SOURCE EVENT`: sends a signed sample event to a running Seam, as `stripe trigger` does, so anyone
//! can try the engine without a vendor account. Each source is signed in its vendor's own scheme with its secret
//! (`--secret`, else the first of `SEAM_{SOURCE}_WEBHOOK_SECRET`); the samples are in [`crate::samples`].

use std::time::Duration;

use anyhow::Context;
use seam_connectors::verify;
use seam_flow::{Clock, SystemClock};

use crate::InputError;
use crate::cli::TriggerArgs;
use crate::samples::{EVENTS, SampleArgs, sample, vendor_type};

/// `source`'s secret: `given`, else the first of `SEAM_{SOURCE}_WEBHOOK_SECRET`.
pub fn secret_for(source: &str, given: Option<String>) -> Result<String, InputError> {
    let variable = format!("SEAM_{}_WEBHOOK_SECRET", source.to_uppercase().replace('-', "_"));
    given
        .or_else(|| {
            std::env::var(&variable)
                .ok()
                .and_then(|list| list.split(',').next().map(|first| first.trim().to_owned()))
        })
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| InputError(format!("no signing secret for {source}: pass --secret or set {variable}")))
}

/// The headers that sign `body` as `source` signs its webhooks, for event `event_type`.
fn signed_headers(
    source: &str,
    event_type: &str,
    body: &[u8],
    secret: &str,
    now: i64,
) -> Result<Vec<(String, String)>, InputError> {
    let id = format!("seam-trigger-{}", crate::samples::random_suffix());
    let headers = match source {
        "stripe" => vec![("Stripe-Signature".to_owned(), verify::stripe_signature_header(body, secret, now))],
        "shopify" => vec![
            (verify::SHOPIFY_HMAC.to_owned(), verify::shopify_signature(body, secret)),
            (verify::SHOPIFY_TOPIC.to_owned(), event_type.to_owned()),
            (verify::SHOPIFY_WEBHOOK_ID.to_owned(), id),
            ("X-Shopify-Shop-Domain".to_owned(), "seam-trigger.myshopify.com".to_owned()),
            ("X-Shopify-API-Version".to_owned(), "2026-10".to_owned()),
        ],
        "zendesk" => {
            let timestamp = seam_flow::Timestamp::from_unix_seconds(now).to_string();
            vec![
                (verify::ZENDESK_SIGNATURE.to_owned(), verify::zendesk_signature(&timestamp, body, secret)),
                (verify::ZENDESK_TIMESTAMP.to_owned(), timestamp),
            ]
        }
        "shipbob" => {
            let signature = verify::shipbob_signature(&id, now, body, secret).ok_or_else(|| {
                InputError(
                    "the ShipBob secret must be whsec_ followed by base64, as ShipBob gives it".to_owned(),
                )
            })?;
            vec![
                ("webhook-id".to_owned(), id),
                ("webhook-timestamp".to_owned(), now.to_string()),
                ("webhook-signature".to_owned(), signature),
                ("x-webhook-topic".to_owned(), event_type.to_owned()),
            ]
        }
        "gorgias" => vec![(verify::DEFAULT_TOKEN_HEADER.to_owned(), secret.to_owned())],
        other => return Err(InputError(format!("unknown source {other:?}"))),
    };
    Ok(headers)
}

pub fn trigger(args: TriggerArgs) -> anyhow::Result<()> {
    let Some((source, events)) = EVENTS.iter().find(|(source, _)| *source == args.source) else {
        let known: Vec<&str> = EVENTS.iter().map(|(source, _)| *source).collect();
        return Err(InputError(format!(
            "unknown source {:?}; `seam trigger` knows: {}",
            args.source,
            known.join(", ")
        ))
        .into());
    };
    if !events.contains(&args.event.as_str()) {
        return Err(InputError(format!(
            "unknown event {:?} for {source}; `seam trigger {source}` can send: {}",
            args.event,
            events.join(", ")
        ))
        .into());
    }
    let secret = secret_for(source, args.secret.clone())?;
    let now = SystemClock.now().unix_seconds();
    let sample_args = SampleArgs {
        invoice: args.invoice.clone(),
        customer: args.customer.clone(),
        amount: args.amount,
        stripe_retrying: args.stripe_retrying,
        email: args.email.clone(),
        sku: args.sku.clone(),
        order: args.order.clone(),
        ticket: args.ticket.clone(),
    };
    let Some(event) = sample(source, &args.event, &sample_args, now) else {
        return Err(InputError(format!("no sample for {source} {}", args.event)).into());
    };
    let event_type = vendor_type(source, &args.event);
    let body = event.to_string();
    let headers = signed_headers(source, &event_type, body.as_bytes(), &secret, now)?;
    let to = args.to.clone().unwrap_or_else(|| format!("http://127.0.0.1:8717/webhooks/{source}"));
    crate::engine_cmd::install_tls_provider();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (status, reply) = runtime.block_on(async {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
        let mut request = client.post(&to).header("Content-Type", "application/json").body(body.clone());
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response =
            request.send().await.with_context(|| format!("cannot reach {to} (is `seam serve` running?)"))?;
        let status = response.status();
        let reply = response.text().await.unwrap_or_default();
        anyhow::Ok((status, reply))
    })?;
    let about = describe(source, &event);
    println!("sent {source} {event_type} ({about}) to {to}");
    println!("answer: {} {}", status.as_u16(), reply.trim());
    if !status.is_success() {
        anyhow::bail!("{to} answered {status}: {}", reply.trim());
    }
    Ok(())
}

/// What the sample is about, for the line `seam trigger` prints (`invoice in_…, customer cus_…`).
fn describe(source: &str, event: &serde_json::Value) -> String {
    let text = |pointer: &str| {
        event.pointer(pointer).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
    };
    match source {
        "stripe" if event["type"] == "checkout.session.completed" => {
            format!("session {}", text("/data/object/id").unwrap_or_default())
        }
        "stripe" => format!(
            "invoice {}, customer {}",
            text("/data/object/id").unwrap_or_default(),
            text("/data/object/customer").unwrap_or_default()
        ),
        "shopify" => text("/name")
            .map(|name| format!("order {name}, {}", text("/admin_graphql_api_id").unwrap_or_default()))
            .or_else(|| text("/admin_graphql_api_id"))
            .unwrap_or_default(),
        "zendesk" => format!("ticket {}", text("/detail/id").unwrap_or_default()),
        "gorgias" => format!("ticket {}", text("/ticket/id").unwrap_or_default()),
        _ => format!("order {}", text("/reference_id").unwrap_or_default()),
    }
}
