//! Webhook signature verification on the raw body, before anything is stored, and the extraction of the event's
//! identity (id, type, payload) once it is verified.
//!
//! Pure: bytes, headers and `now` (Unix seconds) in, a verdict out. No I/O, no clock, no panics on any input.
//! Every scheme is HMAC-SHA256 over the exact bytes received (never over re-serialized JSON), compared in constant
//! time with [`subtle`]. A [`Verifier`] holds several secrets so a secret can be rotated: a request is accepted if
//! it matches under any of them. Blank secrets are ignored; a verifier with none left rejects with
//! [`VerifyError::NoSecret`].
//!
//! # Stripe
//!
//! Stripe docs, "Receive Stripe events in your webhook endpoint", section "Verify webhook signatures manually"
//! (<https://docs.stripe.com/webhooks#verify-manually>). Header `Stripe-Signature: t=1700000000,v1=<hex>,v0=<hex>`:
//! comma-separated `key=value` items in any order, possibly several `v1` (Stripe sends one per active secret while
//! a secret is being rolled); other schemes (`v0`) are ignored. The signed payload is `{t}.{raw body}` and `v1` is
//! the lower-case hex HMAC-SHA256 of it under the endpoint secret (the whole `whsec_...` text is the key). The
//! request is accepted if any `v1` matches under any secret and `|now - t| <= tolerance` (300 s by default; both
//! directions, unlike Stripe's libraries, which only reject old timestamps). A stale request is rejected even
//! when its signature matches: that is a replay.
//!
//! Identity: the body is the Event object; `id` (`evt_...`) and `type` (`invoice.payment_failed`) are strings.
//!
//! # Shopify
//!
//! Shopify docs, "About webhooks" / "Deliver webhooks through HTTPS", section "Verify the webhook"
//! (<https://shopify.dev/docs/apps/build/webhooks/subscribe/https>). Header `X-Shopify-Hmac-Sha256` is the base64
//! of HMAC-SHA256(raw body) under the app's client secret; the decoded bytes are compared. There is no timestamp,
//! so there is no replay window here: duplicates are caught downstream by the event id.
//!
//! Identity: `X-Shopify-Webhook-Id` (falling back to `X-Shopify-Event-Id`), type from `X-Shopify-Topic`
//! (`orders/create`), payload the body JSON (the resource itself, not an envelope).
//!
//! # Zendesk
//!
//! Zendesk developer docs, "Verifying webhook authenticity"
//! (<https://developer.zendesk.com/documentation/webhooks/verifying/>). Header `X-Zendesk-Webhook-Signature` is the
//! base64 of HMAC-SHA256(timestamp + raw body) under the webhook's signing secret, where the timestamp is the exact
//! text of `X-Zendesk-Webhook-Signature-Timestamp` (RFC 3339, `2024-04-17T17:18:10Z`). The same tolerance window
//! as Stripe applies to that timestamp, in both directions.
//!
//! Identity: event-subscription bodies carry `id` (a UUID) and `type` (`zen:event-type:ticket.created`) at the top
//! level (Zendesk docs, "Webhooks event types").
//!
//! # ShipBob (Standard Webhooks)
//!
//! ShipBob signs its webhooks the Standard Webhooks way (<https://www.standardwebhooks.com>, "Verifying webhook
//! authenticity"; the reference implementation is PyPI `standardwebhooks`). Headers `webhook-id`,
//! `webhook-timestamp` (Unix seconds) and `webhook-signature`: one or more space-separated `v1,<base64>` items, each
//! the base64 of HMAC-SHA256(`{webhook-id}.{webhook-timestamp}.{raw body}`). The key is not the secret's text: a
//! secret is `whsec_` followed by base64, and the key is the decoded bytes (the prefix is optional, padding too, as
//! in the reference library). The request is accepted if any `v1` matches under any secret and the timestamp is
//! within the window (300 s both ways, as the reference library). Other signature versions (`v1a`, asymmetric) are
//! ignored. A secret that is not base64 is unusable: it is skipped, and a verifier left with none rejects with
//! [`VerifyError::BadSecret`] ([`Verifier::check_secrets`] says so at start-up).
//!
//! Identity: id from `webhook-id` (the same id on every redelivery, as the standard requires), type from
//! `x-webhook-topic` (`order.shipped`, `order.shipment.delivered`, `return.created`; a body `topic` field is read
//! when the header is absent), payload the body JSON.
//!
//! # Gorgias
//!
//! Gorgias signs nothing: its HTTP integrations send whatever URL, headers and body are configured in Gorgias
//! (<https://docs.gorgias.com/en-US/http-integrations-81822>). So the integration is told to send a secret token in
//! a header, `X-Seam-Token` unless [`Verifier::with_header`] names another, and the request is accepted if the
//! header equals any configured secret. The comparison is of the SHA-256 digests, in constant time, so neither the
//! time taken nor an early exit says how much of the token or its length was right. There is no timestamp and no
//! body signature: anyone holding the token can send events, so it is a secret like the others (rotate it the same
//! way, several secrets at once).
//!
//! Identity: body `id` and `type`, strings, as configured in the integration's body (`docs/connectors.md` gives the
//! body to configure: `"id": "ticket-created-{{ticket.id}}"`, `"type": "ticket-created"`).
//!
//! # Generic
//!
//! For sources Seam signs itself or that can be told to sign this way (GitHub's `X-Hub-Signature-256` has the same
//! shape). Header `X-Seam-Signature` (configurable) is `sha256=<hex HMAC-SHA256(raw body)>`; the bare hex is
//! accepted too. No timestamp.
//!
//! Identity: body `id` (a string, or an integer taken as its decimal text) and `type` (a string).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

type HmacSha256 = Hmac<Sha256>;

/// How far (seconds, either direction) a signed timestamp may be from `now`: Stripe's own default.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;
/// The header a [`SourceKind::Generic`] source signs in unless configured otherwise.
pub const DEFAULT_GENERIC_HEADER: &str = "X-Seam-Signature";

pub const STRIPE_SIGNATURE: &str = "Stripe-Signature";
pub const SHOPIFY_HMAC: &str = "X-Shopify-Hmac-Sha256";
pub const SHOPIFY_WEBHOOK_ID: &str = "X-Shopify-Webhook-Id";
pub const SHOPIFY_EVENT_ID: &str = "X-Shopify-Event-Id";
pub const SHOPIFY_TOPIC: &str = "X-Shopify-Topic";
pub const ZENDESK_SIGNATURE: &str = "X-Zendesk-Webhook-Signature";
pub const ZENDESK_TIMESTAMP: &str = "X-Zendesk-Webhook-Signature-Timestamp";
/// The Standard Webhooks headers ShipBob sends.
pub const WEBHOOK_ID: &str = "webhook-id";
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";
/// ShipBob's event type header.
pub const SHIPBOB_TOPIC: &str = "x-webhook-topic";
/// The header a [`SourceKind::Gorgias`] source carries its token in unless configured otherwise.
pub const DEFAULT_TOKEN_HEADER: &str = "X-Seam-Token";
/// The prefix of a Standard Webhooks secret; the rest is the base64 of the key.
pub const STANDARD_WEBHOOKS_SECRET_PREFIX: &str = "whsec_";

/// Where a webhook comes from, which decides how it is signed and where its id and type are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Stripe,
    Shopify,
    Zendesk,
    /// ShipBob: Standard Webhooks signatures.
    Shipbob,
    /// Gorgias: a secret token in a header (Gorgias signs nothing).
    Gorgias,
    Generic,
}

impl SourceKind {
    /// The lower-case name used in configuration and URLs: `stripe`, `shopify`, `zendesk`, `shipbob`, `gorgias`,
    /// `generic`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SourceKind::Stripe => "stripe",
            SourceKind::Shopify => "shopify",
            SourceKind::Zendesk => "zendesk",
            SourceKind::Shipbob => "shipbob",
            SourceKind::Gorgias => "gorgias",
            SourceKind::Generic => "generic",
        }
    }

    /// Every kind, in the order above.
    pub const ALL: [SourceKind; 6] = [
        SourceKind::Stripe,
        SourceKind::Shopify,
        SourceKind::Zendesk,
        SourceKind::Shipbob,
        SourceKind::Gorgias,
        SourceKind::Generic,
    ];

    /// The kind named `name` (as [`SourceKind::as_str`] writes it), if any.
    pub fn from_name(name: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-source verification settings.
///
/// `Debug` prints how many secrets there are, never the secrets themselves.
#[derive(Clone)]
pub struct Verifier {
    pub kind: SourceKind,
    /// Several while a secret is rotated; a request signed under any of them is accepted. Blank ones are ignored.
    pub secrets: Vec<String>,
    /// Seconds a signed timestamp may be from `now`, in either direction (Stripe, Zendesk and ShipBob).
    pub tolerance_secs: i64,
    /// The header a [`SourceKind::Generic`] source signs in (default `X-Seam-Signature`), or a
    /// [`SourceKind::Gorgias`] source carries its token in (default `X-Seam-Token`). Unused by the other kinds.
    pub generic_header: String,
}

/// Why a request was rejected. None of these say which secret came closest or what the expected value was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing header {0}")]
    MissingHeader(String),
    #[error("malformed header {header}: {reason}")]
    Malformed { header: String, reason: String },
    #[error(
        "signed timestamp {timestamp} is {} s from now ({now}), outside the {tolerance} s window",
        now.abs_diff(*timestamp)
    )]
    Stale { timestamp: i64, now: i64, tolerance: i64 },
    #[error("signature does not match under any configured secret")]
    Mismatch,
    #[error("no webhook secret is configured for this source")]
    NoSecret,
    /// Every configured secret is unusable for the scheme (a Standard Webhooks secret that is not base64).
    #[error("no configured webhook secret is usable: {0}")]
    BadSecret(String),
}

/// What a verified webhook is: its id (the deduplication key), its type and its JSON payload.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedEvent {
    pub id: String,
    pub event_type: String,
    pub payload: Value,
}

/// Why a verified body does not read as an event of its source.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("body is not JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("body is JSON but not an object (found {found})")]
    NotObject { found: &'static str },
    #[error("missing field `{field}` ({expected})")]
    MissingField { field: &'static str, expected: &'static str },
    #[error("field `{field}` is {found}; expected {expected}")]
    WrongType { field: &'static str, expected: &'static str, found: &'static str },
    #[error("field `{field}` is an empty string")]
    EmptyField { field: &'static str },
    #[error("the event's `{field}` contains a control character")]
    ControlCharacter { field: &'static str },
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("header {header} is unusable: {reason}")]
    BadHeader { header: &'static str, reason: &'static str },
}

impl Verifier {
    /// A verifier with the default tolerance (300 s) and header (`X-Seam-Signature` for a generic source,
    /// `X-Seam-Token` for Gorgias).
    pub fn new<I, S>(kind: SourceKind, secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let header = if kind == SourceKind::Gorgias { DEFAULT_TOKEN_HEADER } else { DEFAULT_GENERIC_HEADER };
        Verifier {
            kind,
            secrets: secrets.into_iter().map(Into::into).collect(),
            tolerance_secs: DEFAULT_TOLERANCE_SECS,
            generic_header: header.to_owned(),
        }
    }

    /// The same verifier with another tolerance window (negative counts as 0).
    pub fn with_tolerance(mut self, tolerance_secs: i64) -> Self {
        self.tolerance_secs = tolerance_secs;
        self
    }

    /// The same verifier reading the generic signature from another header.
    pub fn with_generic_header(mut self, header: impl Into<String>) -> Self {
        self.generic_header = header.into();
        self
    }

    /// The same verifier reading its signature (generic) or token (Gorgias) from another header; the same as
    /// [`Verifier::with_generic_header`], under a name that fits both.
    pub fn with_header(self, header: impl Into<String>) -> Self {
        self.with_generic_header(header)
    }

    /// Whether every configured secret can be used by this source's scheme: `Err` names the first that cannot
    /// (by position, never by value). Only Standard Webhooks (ShipBob) secrets can be malformed; meant for
    /// start-up, so a mistyped secret is reported before the first webhook is refused.
    pub fn check_secrets(&self) -> Result<(), String> {
        if self.kind != SourceKind::Shipbob {
            return Ok(());
        }
        for (n, secret) in self.secrets.iter().enumerate().filter(|(_, s)| !s.trim().is_empty()) {
            if standard_webhooks_key(secret).is_none() {
                return Err(format!(
                    "{} secret number {} is not `whsec_` followed by base64 (the Standard Webhooks form)",
                    self.kind,
                    n + 1
                ));
            }
        }
        Ok(())
    }

    /// Checks the signature of `body` (the raw bytes as received) against `headers`, at `now_unix` seconds.
    ///
    /// Checks in order: a usable secret is configured, the signature header is present and well formed, the
    /// signature matches, and (Stripe, Zendesk, ShipBob) the signed timestamp is within the window.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now_unix: i64) -> Result<(), VerifyError> {
        let secrets: Vec<&[u8]> = self
            .secrets
            .iter()
            .map(String::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::as_bytes)
            .collect();
        if secrets.is_empty() {
            return Err(VerifyError::NoSecret);
        }
        match self.kind {
            SourceKind::Stripe => self.verify_stripe(&secrets, headers, body, now_unix),
            SourceKind::Shopify => verify_shopify(&secrets, headers, body),
            SourceKind::Zendesk => self.verify_zendesk(&secrets, headers, body, now_unix),
            SourceKind::Shipbob => self.verify_standard_webhooks(&secrets, headers, body, now_unix),
            SourceKind::Gorgias => self.verify_token(&secrets, headers),
            SourceKind::Generic => self.verify_generic(&secrets, headers, body),
        }
    }

    /// Standard Webhooks (ShipBob): see the module documentation.
    fn verify_standard_webhooks(
        &self,
        secrets: &[&[u8]],
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<(), VerifyError> {
        let id = required_header(headers, WEBHOOK_ID)?;
        let timestamp_text = required_header(headers, WEBHOOK_TIMESTAMP)?.trim();
        let signature = required_header(headers, WEBHOOK_SIGNATURE)?;
        if id.trim().is_empty() {
            return Err(malformed(WEBHOOK_ID, "empty"));
        }
        let timestamp = parse_unix_seconds(timestamp_text)
            .ok_or_else(|| malformed(WEBHOOK_TIMESTAMP, "not a whole number of Unix seconds"))?;
        let mut saw_v1 = false;
        let mut provided: Vec<Vec<u8>> = Vec::new();
        for item in signature.split(' ').filter(|item| !item.is_empty()) {
            let Some((version, text)) = item.split_once(',') else { continue };
            if version == "v1" {
                saw_v1 = true;
                // A v1 that is not base64 cannot match; it is skipped rather than failing the others.
                if let Ok(bytes) = BASE64.decode(text.trim()) {
                    provided.push(bytes);
                }
            }
        }
        if !saw_v1 {
            return Err(malformed(WEBHOOK_SIGNATURE, "no v1,<base64> signature"));
        }
        let keys: Vec<Vec<u8>> = secrets
            .iter()
            .filter_map(|secret| std::str::from_utf8(secret).ok().and_then(standard_webhooks_key))
            .collect();
        if keys.is_empty() {
            return Err(VerifyError::BadSecret(
                "a Standard Webhooks secret is `whsec_` followed by base64".to_owned(),
            ));
        }
        let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let matched = any_match(&keys, &provided, |key| {
            hmac_sha256(key, &[id.as_bytes(), b".", timestamp_text.as_bytes(), b".", body])
        });
        if !matched {
            return Err(VerifyError::Mismatch);
        }
        self.check_window(timestamp, now)
    }

    /// A shared token in a header (Gorgias): see the module documentation.
    fn verify_token(&self, secrets: &[&[u8]], headers: &HeaderMap) -> Result<(), VerifyError> {
        let name = self.generic_header.as_str();
        let provided = required_header(headers, name)?.trim();
        let provided_digest: [u8; 32] = Sha256::digest(provided.as_bytes()).into();
        let mut matched = Choice::from(0);
        for secret in secrets {
            let secret = secret.trim_ascii();
            let expected: [u8; 32] = Sha256::digest(secret).into();
            matched |= expected[..].ct_eq(&provided_digest[..]);
        }
        if bool::from(matched) { Ok(()) } else { Err(VerifyError::Mismatch) }
    }

    fn verify_stripe(
        &self,
        secrets: &[&[u8]],
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<(), VerifyError> {
        let value = required_header(headers, STRIPE_SIGNATURE)?;
        let malformed = |reason: &str| malformed(STRIPE_SIGNATURE, reason);
        let mut timestamp: Option<(&str, i64)> = None;
        let mut signatures: Vec<&str> = Vec::new();
        for item in value.split(',') {
            let Some((key, text)) = item.split_once('=') else { continue };
            match key.trim() {
                "t" => {
                    if timestamp.is_some() {
                        return Err(malformed("more than one t"));
                    }
                    let text = text.trim();
                    let seconds = parse_unix_seconds(text)
                        .ok_or_else(|| malformed("t is not a whole number of Unix seconds"))?;
                    timestamp = Some((text, seconds));
                }
                "v1" => signatures.push(text.trim()),
                _ => {}
            }
        }
        let Some((t_text, t)) = timestamp else { return Err(malformed("no timestamp (t=...)")) };
        if signatures.is_empty() {
            return Err(malformed("no v1 signature"));
        }
        // A v1 that is not 64 hex digits cannot match; it is skipped rather than failing the others.
        let provided: Vec<Vec<u8>> =
            signatures.iter().filter_map(|hex_text| hex::decode(hex_text).ok()).collect();
        let matched =
            any_match(secrets, &provided, |secret| hmac_sha256(secret, &[t_text.as_bytes(), b".", body]));
        if !matched {
            return Err(VerifyError::Mismatch);
        }
        self.check_window(t, now)
    }

    fn verify_zendesk(
        &self,
        secrets: &[&[u8]],
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<(), VerifyError> {
        let signature = required_header(headers, ZENDESK_SIGNATURE)?;
        let timestamp_text = required_header(headers, ZENDESK_TIMESTAMP)?;
        let provided = decode_base64(ZENDESK_SIGNATURE, signature)?;
        let timestamp = parse_rfc3339(timestamp_text.trim()).ok_or_else(|| {
            malformed(ZENDESK_TIMESTAMP, "not an RFC 3339 timestamp such as 2024-04-17T17:18:10Z")
        })?;
        let matched =
            any_match(secrets, &[provided], |secret| hmac_sha256(secret, &[timestamp_text.as_bytes(), body]));
        if !matched {
            return Err(VerifyError::Mismatch);
        }
        self.check_window(timestamp, now)
    }

    fn verify_generic(&self, secrets: &[&[u8]], headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
        let name = self.generic_header.as_str();
        let value = required_header(headers, name)?.trim();
        let hex_text = match value.get(..7) {
            Some(prefix) if prefix.eq_ignore_ascii_case("sha256=") => &value[7..],
            _ => value,
        };
        let provided = hex::decode(hex_text)
            .map_err(|_| malformed(name, "not sha256=<hex> (hex HMAC-SHA256 of the body)"))?;
        if any_match(secrets, &[provided], |secret| hmac_sha256(secret, &[body])) {
            Ok(())
        } else {
            Err(VerifyError::Mismatch)
        }
    }

    fn check_window(&self, timestamp: i64, now: i64) -> Result<(), VerifyError> {
        let tolerance = self.tolerance_secs.max(0);
        if now.abs_diff(timestamp) <= tolerance.unsigned_abs() {
            Ok(())
        } else {
            Err(VerifyError::Stale { timestamp, now, tolerance })
        }
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("kind", &self.kind)
            .field("secrets", &format_args!("[{} redacted]", self.secrets.len()))
            .field("tolerance_secs", &self.tolerance_secs)
            .field("generic_header", &self.generic_header)
            .finish()
    }
}

fn verify_shopify(secrets: &[&[u8]], headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
    let provided = decode_base64(SHOPIFY_HMAC, required_header(headers, SHOPIFY_HMAC)?)?;
    if any_match(secrets, &[provided], |secret| hmac_sha256(secret, &[body])) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// After verification: the (id, type, payload) of the event, per the source's conventions (see the module docs).
pub fn parse_event(kind: SourceKind, headers: &HeaderMap, body: &[u8]) -> Result<ParsedEvent, ParseError> {
    let parsed = parse_identity(kind, headers, body)?;
    // Ids and types name rows and locks; a control character (a NUL above all) cannot be stored everywhere.
    for (field, value) in [("id", &parsed.id), ("type", &parsed.event_type)] {
        if value.chars().any(char::is_control) {
            return Err(ParseError::ControlCharacter { field });
        }
    }
    Ok(parsed)
}

fn parse_identity(kind: SourceKind, headers: &HeaderMap, body: &[u8]) -> Result<ParsedEvent, ParseError> {
    if kind == SourceKind::Shopify {
        let id = match header_for_parse(headers, SHOPIFY_WEBHOOK_ID)? {
            Some(id) => id,
            None => header_for_parse(headers, SHOPIFY_EVENT_ID)?
                .ok_or(ParseError::MissingHeader("X-Shopify-Webhook-Id (or X-Shopify-Event-Id)"))?,
        };
        let topic =
            header_for_parse(headers, SHOPIFY_TOPIC)?.ok_or(ParseError::MissingHeader(SHOPIFY_TOPIC))?;
        let payload: Value = serde_json::from_slice(body).map_err(ParseError::NotJson)?;
        return Ok(ParsedEvent { id: id.to_owned(), event_type: topic.to_owned(), payload });
    }
    if kind == SourceKind::Shipbob {
        let id = header_for_parse(headers, WEBHOOK_ID)?.ok_or(ParseError::MissingHeader(WEBHOOK_ID))?;
        let payload: Value = serde_json::from_slice(body).map_err(ParseError::NotJson)?;
        let topic = match header_for_parse(headers, SHIPBOB_TOPIC)? {
            Some(topic) => topic.to_owned(),
            None => match payload.get("topic") {
                Some(Value::String(topic)) if !topic.trim().is_empty() => topic.trim().to_owned(),
                _ => return Err(ParseError::MissingHeader("x-webhook-topic (or a body `topic`)")),
            },
        };
        return Ok(ParsedEvent { id: id.to_owned(), event_type: topic, payload });
    }
    let payload: Value = serde_json::from_slice(body).map_err(ParseError::NotJson)?;
    let Value::Object(object) = &payload else {
        return Err(ParseError::NotObject { found: json_kind(&payload) });
    };
    let id = match kind {
        SourceKind::Generic => match object.get("id") {
            None | Some(Value::Null) => {
                return Err(ParseError::MissingField { field: "id", expected: "string or integer" });
            }
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
            Some(Value::Number(_)) => {
                return Err(ParseError::WrongType {
                    field: "id",
                    expected: "a string or an integer",
                    found: "a fractional number",
                });
            }
            Some(_) => string_field(object, "id")?,
        },
        _ => string_field(object, "id")?,
    };
    let event_type = string_field(object, "type")?;
    Ok(ParsedEvent { id, event_type, payload })
}

/// A `Stripe-Signature` header value for (payload, secret, t): `t={t},v1={hex}`, as Stripe's SDKs make it. Used by
/// tests, the sandbox and `seam trigger`.
pub fn stripe_signature_header(payload: &[u8], secret: &str, t: i64) -> String {
    let t_text = t.to_string();
    let mac = hmac_sha256(secret.as_bytes(), &[t_text.as_bytes(), b".", payload]);
    format!("t={t_text},v1={}", hex::encode(mac))
}

/// The `X-Shopify-Hmac-Sha256` value for `body`: base64 of HMAC-SHA256(body).
pub fn shopify_signature(body: &[u8], secret: &str) -> String {
    BASE64.encode(hmac_sha256(secret.as_bytes(), &[body]))
}

/// The `X-Zendesk-Webhook-Signature` value for `body` sent with `timestamp` (the exact text of
/// `X-Zendesk-Webhook-Signature-Timestamp`): base64 of HMAC-SHA256(timestamp + body).
pub fn zendesk_signature(timestamp: &str, body: &[u8], secret: &str) -> String {
    BASE64.encode(hmac_sha256(secret.as_bytes(), &[timestamp.as_bytes(), body]))
}

/// The key of a Standard Webhooks secret: the base64 after the optional `whsec_` prefix, padded or not, decoded.
/// `None` if that is not base64 or decodes to nothing.
pub fn standard_webhooks_key(secret: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let secret = secret.trim();
    let encoded = secret.strip_prefix(STANDARD_WEBHOOKS_SECRET_PREFIX).unwrap_or(secret);
    LENIENT.decode(encoded).ok().filter(|key| !key.is_empty())
}

/// A `webhook-signature` value (`v1,<base64>`) for a ShipBob (Standard Webhooks) delivery of `body` with message
/// id `msg_id` at `timestamp` (Unix seconds), as the reference library's `Webhook.sign` makes it. `None` if the
/// secret is not a Standard Webhooks secret. Used by tests, the sandbox and `seam trigger`.
pub fn shipbob_signature(msg_id: &str, timestamp: i64, body: &[u8], secret: &str) -> Option<String> {
    let key = standard_webhooks_key(secret)?;
    let t = timestamp.to_string();
    let mac = hmac_sha256(&key, &[msg_id.as_bytes(), b".", t.as_bytes(), b".", body]);
    Some(format!("v1,{}", BASE64.encode(mac)))
}

/// The generic signature header value for `body`: `sha256=<hex HMAC-SHA256(body)>`.
pub fn generic_signature(body: &[u8], secret: &str) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret.as_bytes(), &[body])))
}

fn hmac_sha256(secret: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length (long ones are hashed), so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC accepts a key of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Whether any provided signature equals the MAC under any secret. Every pair is compared, in constant time, so
/// the time taken says nothing about which secret or which signature came close.
fn any_match(secrets: &[&[u8]], provided: &[Vec<u8>], mac_for: impl Fn(&[u8]) -> [u8; 32]) -> bool {
    let mut matched = Choice::from(0);
    for secret in secrets {
        let expected = mac_for(secret);
        for candidate in provided {
            matched |= expected[..].ct_eq(candidate.as_slice());
        }
    }
    matched.into()
}

fn malformed(header: &str, reason: &str) -> VerifyError {
    VerifyError::Malformed { header: header.to_owned(), reason: reason.to_owned() }
}

/// The one value of header `name` as text. `Err(reason)` if it is sent more than once or is not visible ASCII.
fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, &'static str> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err("sent more than once");
    }
    first.to_str().map(Some).map_err(|_| "not visible ASCII text")
}

fn required_header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, VerifyError> {
    match header_text(headers, name) {
        Ok(Some(text)) => Ok(text),
        Ok(None) => Err(VerifyError::MissingHeader(name.to_owned())),
        Err(reason) => Err(malformed(name, reason)),
    }
}

/// A header read for identity: absent and blank are both `None`.
fn header_for_parse<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<Option<&'a str>, ParseError> {
    match header_text(headers, name) {
        Ok(text) => Ok(text.map(str::trim).filter(|text| !text.is_empty())),
        Err(reason) => Err(ParseError::BadHeader { header: name, reason }),
    }
}

fn decode_base64(header: &str, text: &str) -> Result<Vec<u8>, VerifyError> {
    BASE64.decode(text.trim()).map_err(|_| malformed(header, "not base64"))
}

fn string_field(object: &serde_json::Map<String, Value>, field: &'static str) -> Result<String, ParseError> {
    match object.get(field) {
        None | Some(Value::Null) => Err(ParseError::MissingField { field, expected: "string" }),
        Some(Value::String(text)) if text.is_empty() => Err(ParseError::EmptyField { field }),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(ParseError::WrongType { field, expected: "a string", found: json_kind(other) }),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Unix seconds written as 1 to 18 ASCII digits (no sign, no spaces), so the value always fits in an `i64`.
fn parse_unix_seconds(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Strict RFC 3339: `YYYY-MM-DDTHH:MM:SS`, optional fraction (dropped), then `Z` or `+HH:MM`/`-HH:MM`. The four-digit
/// year keeps every sum far from overflowing.
fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = bytes.get(from..from + len)?;
        part.iter().try_fold(0i64, |n, b| b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0')))
    };
    let separator = |at: usize, allowed: &[u8]| bytes.get(at).is_some_and(|b| allowed.contains(b));
    let separators = [(4, &b"-"[..]), (7, b"-"), (10, b"Tt "), (13, b":"), (16, b":")];
    if !separators.iter().all(|(at, allowed)| separator(*at, allowed)) {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(fraction.len());
        if end == 0 {
            return None;
        }
        rest = &fraction[end..];
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |a: u8, b: u8| {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            };
            let (hours, minutes) = (two(*h1, *h2)?, two(*m1, *m2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let magnitude = hours * 3600 + minutes * 60;
            if *sign == b'-' { -magnitude } else { magnitude }
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_reads_the_forms_zendesk_and_others_send() {
        let base = 1_713_374_290; // 2024-04-17T17:18:10Z
        assert_eq!(parse_rfc3339("2024-04-17T17:18:10Z"), Some(base));
        assert_eq!(parse_rfc3339("2024-04-17t17:18:10z"), Some(base));
        assert_eq!(parse_rfc3339("2024-04-17T17:18:10.123456Z"), Some(base));
        assert_eq!(parse_rfc3339("2024-04-17T19:18:10+02:00"), Some(base));
        assert_eq!(parse_rfc3339("2024-04-17T12:18:10-05:00"), Some(base));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        for bad in [
            "",
            "2024-04-17",
            "2024-04-17T17:18:10",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-04-17T24:00:00Z",
            "2024-04-17T17:18:10.Z",
            "2024-04-17T17:18:10+0200",
            "+2024-04-17T17:18:10Z",
            "99999999999-04-17T17:18:10Z",
            "2024-04-17T17:18:10Zjunk",
            "2024-04-17T17:18:1éZ",
            "２０２４-04-17T17:18:10Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn unix_seconds_are_plain_digits_that_fit() {
        assert_eq!(parse_unix_seconds("1700000000"), Some(1_700_000_000));
        for bad in ["", "-1", "+1", " 1", "1e9", "9999999999999999999999", "１"] {
            assert_eq!(parse_unix_seconds(bad), None, "{bad:?}");
        }
    }
}
