//! What the vendor connectors (Shopify, ShipBob, Zendesk, Gorgias) share: one JSON-over-HTTPS client per vendor
//! ([`Api`]) that never panics, classifies every failure, honours `Retry-After` once within the call's time and keeps
//! credentials out of every message; checked arguments ([`Args`]); and the note marker that makes a note idempotent
//! across attempts ([`note_marker`]).
//!
//! Each connector gives a call one time budget, its timeout, from the first byte sent to the last byte of the last
//! request it makes for that call (a throttle wait or a `Retry-After` included): the engine's lease and the step's
//! schedule assume a call ends within it. A wait that would pass the budget is not started; the call fails
//! retryable at once, so the engine's own schedule waits instead.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use seam_flow::{CallOutcome, ErrorClass, ErrorKind};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::http::{
    MAX_BODY_BYTES, build_client, classify_status, classify_transport, error_chain, excerpt, read_capped,
};

/// The longest time budget a call is given, whatever the configured timeout.
const MAX_BUDGET: Duration = Duration::from_secs(365 * 24 * 3600);

/// The longest `Retry-After` honoured by waiting (seconds); anything longer is reported at once.
const MAX_RETRY_AFTER_SECS: f64 = 3600.0;

/// A vendor's HTTP API: base URL, credentials, client and time budget. Cheap to clone. Its `Debug` never shows a
/// credential.
#[derive(Clone)]
pub(crate) struct Api {
    /// `shopify`, `shipbob`, ...: the prefix of every message.
    vendor: &'static str,
    /// `Err` only if the client could not be built; every call then fails with the reason.
    client: Result<reqwest::Client, Arc<str>>,
    /// `Err` when the configured base URL is unusable; every call then fails with the reason.
    base_url: Result<Url, Arc<str>>,
    /// The credential header's name (`Authorization`, `X-Shopify-Access-Token`).
    auth_name: HeaderName,
    /// Its value, marked sensitive; `Err` says which setting is missing or unusable.
    auth: Result<HeaderValue, Arc<str>>,
    /// Texts removed from any message, should a vendor ever echo them: the credential and its encodings.
    secrets: Arc<[String]>,
    /// Headers every request carries besides the credential (ShipBob's channel id).
    extra_headers: Vec<(HeaderName, HeaderValue)>,
    /// Classifies a failed status; vendors refine the generic rules (Zendesk's 409).
    classify: fn(u16) -> ErrorClass,
    timeout: Duration,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("vendor", &self.vendor)
            .field("base_url", &self.base_url.as_ref().map(Url::as_str))
            .field("credentials", &"[redacted]")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// How a vendor authenticates: a header whose value is secret, and the texts to scrub from messages.
pub(crate) struct Credentials {
    pub(crate) header: HeaderName,
    /// The header value, or why there is none (a missing setting, named).
    pub(crate) value: Result<String, String>,
    /// The secret parts (the token, the key); each is removed from messages, as is the header value.
    pub(crate) secrets: Vec<String>,
}

impl Credentials {
    /// `Authorization: Basic base64(user:password)`.
    pub(crate) fn basic(user: &str, password: &str, missing: Option<String>) -> Credentials {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let value = match missing {
            Some(why) => Err(why),
            None => Ok(format!("Basic {encoded}")),
        };
        Credentials {
            header: reqwest::header::AUTHORIZATION,
            value,
            secrets: vec![password.to_owned(), encoded],
        }
    }

    /// `Authorization: Bearer <token>`.
    pub(crate) fn bearer(token: &str, missing: Option<String>) -> Credentials {
        Credentials {
            header: reqwest::header::AUTHORIZATION,
            value: match missing {
                Some(why) => Err(why),
                None => Ok(format!("Bearer {token}")),
            },
            secrets: vec![token.to_owned()],
        }
    }

    /// `<header>: <token>`.
    pub(crate) fn header(header: HeaderName, token: &str, missing: Option<String>) -> Credentials {
        Credentials {
            header,
            value: match missing {
                Some(why) => Err(why),
                None => Ok(token.to_owned()),
            },
            secrets: vec![token.to_owned()],
        }
    }
}

/// One request: path segments under the base URL (each escaped), query pairs, a JSON or form body, and whose
/// credentials it carries.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) segments: Vec<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) json: Option<Value>,
    /// A form body (sent instead of `json`); its values are secret (a client secret) and never logged.
    pub(crate) form: Option<Vec<(String, String)>>,
    pub(crate) auth: CallAuth,
}

/// The credential a call carries.
#[derive(Debug, Clone)]
pub(crate) enum CallAuth {
    /// The API's configured credential header.
    Configured,
    /// This value in the API's credential header (a short-lived token fetched at run time), marked sensitive.
    Token(HeaderValue),
    /// None (the request that fetches a token).
    Nothing,
}

impl Call {
    pub(crate) fn get<S: AsRef<str>>(segments: &[S]) -> Call {
        Call {
            method: Method::GET,
            segments: segments.iter().map(|s| s.as_ref().to_owned()).collect(),
            query: Vec::new(),
            json: None,
            form: None,
            auth: CallAuth::Configured,
        }
    }

    pub(crate) fn with_query(mut self, name: &str, value: impl Into<String>) -> Call {
        self.query.push((name.to_owned(), value.into()));
        self
    }

    pub(crate) fn send_json<S: AsRef<str>>(method: Method, segments: &[S], body: Value) -> Call {
        Call {
            method,
            segments: segments.iter().map(|s| s.as_ref().to_owned()).collect(),
            query: Vec::new(),
            json: Some(body),
            form: None,
            auth: CallAuth::Configured,
        }
    }

    pub(crate) fn send_form<S: AsRef<str>>(segments: &[S], form: Vec<(String, String)>) -> Call {
        Call {
            method: Method::POST,
            segments: segments.iter().map(|s| s.as_ref().to_owned()).collect(),
            query: Vec::new(),
            json: None,
            form: Some(form),
            auth: CallAuth::Nothing,
        }
    }

    pub(crate) fn with_auth(mut self, auth: CallAuth) -> Call {
        self.auth = auth;
        self
    }

    /// `/api/v2/users/1.json`, for messages (segments are checked ids and fixed words, query left out).
    pub(crate) fn path(&self) -> String {
        format!("/{}", self.segments.join("/"))
    }
}

/// A 2xx answer: its status, headers and body (`Null` when empty).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) body: Value,
}

/// A failed call, classified, with its status and parsed body for the callers that look closer (ShipBob's 422).
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) class: ErrorClass,
    pub(crate) message: String,
    pub(crate) status: Option<u16>,
}

impl Failure {
    pub(crate) fn request(message: String) -> Failure {
        Failure { class: ErrorClass::Fatal(ErrorKind::Request), message, status: None }
    }

    pub(crate) fn retryable(kind: ErrorKind, message: String) -> Failure {
        Failure { class: ErrorClass::Retryable(kind), message, status: None }
    }

    pub(crate) fn outcome(self) -> CallOutcome {
        CallOutcome::Err { class: self.class, message: self.message }
    }
}

impl Api {
    /// An API at `base_url` (empty: `default_base`, or an error naming `base_setting` when there is none). Never
    /// panics: an unusable base URL, missing credentials or a client that cannot be built make every call a
    /// fatal `request` error with the reason, and no request is made.
    pub(crate) fn new(
        vendor: &'static str,
        base_url: &str,
        default_base: Option<&str>,
        base_setting: &str,
        credentials: Credentials,
        timeout: Duration,
    ) -> Api {
        let base_url = parse_base_url(vendor, base_url, default_base, base_setting).map_err(Arc::from);
        if let Err(reason) = &base_url {
            tracing::error!(vendor, %reason, "a connector's base URL is unusable");
        }
        let client =
            build_client(timeout, reqwest::redirect::Policy::none()).map_err(|e| Arc::from(error_chain(&e)));
        if let Err(reason) = &client {
            tracing::error!(vendor, %reason, "a connector's client could not be built");
        }
        let auth = credentials.value.and_then(|value| {
            sensitive_header(&value)
                .ok_or_else(|| "the credentials hold characters a header cannot carry".to_owned())
        });
        let mut secrets: Vec<String> =
            credentials.secrets.into_iter().map(|s| s.trim().to_owned()).filter(|s| s.len() >= 4).collect();
        // Longest first, so a secret that contains another is removed whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Api {
            vendor,
            client,
            base_url,
            auth_name: credentials.header,
            auth: auth.map_err(Arc::from),
            secrets: secrets.into(),
            extra_headers: Vec::new(),
            classify: |status| classify_status(status).unwrap_or(ErrorClass::Fatal(ErrorKind::Request)),
            timeout,
        }
    }

    /// The same API sending `name: value` with every request. A value a header cannot carry makes every call fail.
    pub(crate) fn with_header(mut self, name: HeaderName, value: &str, setting: &str) -> Api {
        match HeaderValue::from_str(value) {
            Ok(value) => self.extra_headers.push((name, value)),
            Err(_) => {
                self.auth = Err(Arc::from(format!("the setting `{setting}` is not a valid header value")));
            }
        }
        self
    }

    /// The same API removing `secret` from messages too (a credential given after construction).
    pub(crate) fn with_secret(mut self, secret: &str) -> Api {
        let secret = secret.trim();
        if secret.len() >= 4 {
            let mut secrets: Vec<String> = self.secrets.to_vec();
            secrets.push(secret.to_owned());
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
            self.secrets = secrets.into();
        }
        self
    }

    /// The same API classifying failed statuses with `classify`.
    pub(crate) fn with_classifier(mut self, classify: fn(u16) -> ErrorClass) -> Api {
        self.classify = classify;
        self
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The instant a call started now must end by (a timeout beyond a year is taken as a year, so the sum cannot
    /// overflow).
    pub(crate) fn deadline(&self) -> Instant {
        Instant::now() + self.timeout.min(MAX_BUDGET)
    }

    pub(crate) fn base_url(&self) -> Option<&Url> {
        self.base_url.as_ref().ok()
    }

    /// Makes `call`, labelled `label` (`shipbob.create_order`) in messages, within `deadline`. A 429 with a
    /// `Retry-After` (or ShipBob's `x-retry-after`) that ends before the deadline is waited out and the request
    /// made once more; otherwise the 429 is reported, retryable `rate_limited`.
    pub(crate) async fn send(&self, label: &str, call: &Call, deadline: Instant) -> Result<Answer, Failure> {
        let target = format!("{label} {} {}", call.method, call.path());
        let base =
            self.base_url.as_ref().map_err(|reason| Failure::request(format!("{target}: {reason}")))?;
        let client = self.client.as_ref().map_err(|reason| {
            Failure::request(format!("{target}: the HTTP client could not be built: {reason}"))
        })?;
        let auth = match &call.auth {
            CallAuth::Configured => {
                Some(self.auth.clone().map_err(|reason| Failure::request(format!("{target}: {reason}")))?)
            }
            CallAuth::Token(value) => Some(value.clone()),
            CallAuth::Nothing => None,
        };
        let mut url = base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(&call.segments);
        }
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        let mut waited = false;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Failure::retryable(
                    ErrorKind::Timeout,
                    format!("{target}: the call's time ran out (the limit is {:?})", self.timeout),
                ));
            }
            let mut builder = client
                .request(call.method.clone(), url.clone())
                .timeout(remaining)
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(value) = &auth {
                builder = builder.header(self.auth_name.clone(), value.clone());
            }
            for (name, value) in &self.extra_headers {
                builder = builder.header(name.clone(), value.clone());
            }
            if let Some(form) = &call.form {
                builder = builder.form(form);
            } else if let Some(body) = &call.json {
                builder = builder.json(body);
            }
            tracing::debug!(%target, "vendor call");
            let response = builder.send().await.map_err(|err| self.transport_failure(&target, &err))?;
            let status = response.status().as_u16();
            let retry_after = retry_after(response.headers());
            let body = read_capped(response, MAX_BODY_BYTES)
                .await
                .map_err(|err| self.transport_failure(&target, &err))?;
            let parsed: Value = if body.truncated || body.bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&body.bytes).unwrap_or(Value::Null)
            };
            if (200..300).contains(&status) {
                if body.truncated || (!body.bytes.is_empty() && parsed.is_null()) {
                    let what = if body.truncated {
                        format!("a body longer than {MAX_BODY_BYTES} bytes")
                    } else {
                        format!("a body that is not JSON: {}", excerpt(&body.bytes))
                    };
                    return Err(Failure {
                        class: ErrorClass::Retryable(ErrorKind::ServerError),
                        message: self.scrub(format!("{target}: HTTP {status} with {what}")),
                        status: Some(status),
                    });
                }
                return Ok(Answer { body: parsed });
            }
            if status == 429
                && !waited
                && let Some(wait) = retry_after
                && Instant::now() + wait < deadline
            {
                tracing::info!(%target, wait_secs = wait.as_secs_f64(), "rate limited; waiting as told");
                tokio::time::sleep(wait).await;
                waited = true;
                continue;
            }
            let mut message = format!("{target}: HTTP {status} {}", error_detail(&parsed, &body.bytes));
            if status == 429 {
                match retry_after {
                    Some(wait) if waited => message
                        .push_str(&format!(" (again after waiting Retry-After {} s)", wait.as_secs_f64())),
                    Some(wait) => message.push_str(&format!(
                        " (Retry-After {} s would pass the call's limit of {:?})",
                        wait.as_secs_f64(),
                        self.timeout
                    )),
                    None => message.push_str(" (no Retry-After)"),
                }
            }
            return Err(Failure {
                class: (self.classify)(status),
                message: self.scrub(message),
                status: Some(status),
            });
        }
    }

    fn transport_failure(&self, target: &str, err: &reqwest::Error) -> Failure {
        let class = classify_transport(err);
        let mut message = format!("{target}: {}", error_chain(err));
        if class == ErrorClass::Retryable(ErrorKind::Timeout) {
            message.push_str(&format!(" (the limit is {:?})", self.timeout));
        }
        Failure { class, message: self.scrub(message), status: None }
    }

    /// Removes every credential text from a message, should anything ever echo one.
    pub(crate) fn scrub(&self, mut message: String) -> String {
        for secret in self.secrets.iter() {
            if message.contains(secret.as_str()) {
                message = message.replace(secret.as_str(), "[redacted]");
            }
        }
        message
    }
}

/// A header value marked sensitive (kept out of `Debug` output), or `None` if a header cannot carry the text.
pub(crate) fn sensitive_header(value: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(value).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// The wait a 429 asks for: `Retry-After` (or `x-retry-after`) in seconds, whole or decimal. An HTTP-date or an
/// unreadable value is ignored (the 429 is then reported, and the engine's schedule waits).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    ["retry-after", "x-retry-after"].iter().find_map(|name| {
        let text = headers.get(*name)?.to_str().ok()?.trim();
        let seconds: f64 = text.parse().ok()?;
        (seconds.is_finite() && (0.0..=MAX_RETRY_AFTER_SECS).contains(&seconds))
            .then(|| Duration::from_secs_f64(seconds))
    })
}

/// A one-line description of an error body: the vendor's error fields when it has them, else an excerpt.
fn error_detail(parsed: &Value, bytes: &[u8]) -> String {
    let text = excerpt(bytes);
    let described = describe_error(parsed);
    match (described, text.is_empty()) {
        (Some(described), _) => described,
        (None, true) => "(empty body)".to_owned(),
        (None, false) => text,
    }
}

/// Zendesk `{error, description, details}`, Gorgias `{error: {msg}}`, ShipBob problem details `{title, detail}` or
/// `{errors: [...]}` or `{field: [messages]}`: the readable parts, on one line, at most 300 characters.
fn describe_error(body: &Value) -> Option<String> {
    let object = body.as_object()?;
    let mut parts: Vec<String> = Vec::new();
    for key in ["error", "title", "description", "detail", "message", "msg", "errors", "details"] {
        if let Some(value) = object.get(key) {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            if !text.trim().is_empty() {
                parts.push(format!("{key}: {text}"));
            }
        }
    }
    if parts.is_empty() {
        // ShipBob's validation answers: `{"reference_id": ["..."]}`.
        for (key, value) in object.iter().take(5) {
            parts.push(format!("{key}: {value}"));
        }
    }
    (!parts.is_empty()).then(|| excerpt(parts.join("; ").as_bytes()))
}

/// Parses a configured base URL: `https://`, or `http://` to a loopback host only (the credentials must not cross a
/// network in clear); a path is kept as a prefix; no query, fragment or user. A bare host (`shop.myshopify.com`)
/// is taken as `https://`.
pub(crate) fn parse_base_url(
    vendor: &str,
    text: &str,
    default: Option<&str>,
    setting: &str,
) -> Result<Url, String> {
    let text = match (text.trim(), default) {
        ("", Some(default)) => default.to_owned(),
        ("", None) => return Err(format!("no {vendor} base URL is configured (setting `{setting}`)")),
        (text, _) if !text.contains("://") => format!("https://{text}"),
        (text, _) => text.to_owned(),
    };
    let shown = short(&without_userinfo(&text), 100);
    let url = Url::parse(&text).map_err(|e| format!("bad {vendor} base URL `{shown}`: {e}"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("bad {vendor} base URL `{shown}`: it has no host"));
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(format!("bad {vendor} base URL `{shown}`: it must not have a query, fragment or user"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "bad {vendor} base URL `{shown}`: http:// is allowed only to a loopback host (the credentials would be \
             sent in clear); use https://"
        )),
        other => Err(format!("bad {vendor} base URL `{shown}`: scheme `{other}` is not https")),
    }
}

/// A URL's text without a `user:password@` part, for messages: a credential written into a URL stays out of them.
fn without_userinfo(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else { return text.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://[redacted]@{}", &rest[at + 1..]),
        None => text.to_owned(),
    }
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The run-step part of an idempotency key: the engine's key is `seam-<run>-<step>-<attempt>`, and a later
/// attempt of the same step (the retry after a timeout) gets a new attempt number. A note marked with the run-step
/// part is found by every attempt of the step, so it is written once. A key not of that form is used whole.
pub(crate) fn step_key(idempotency_key: &str) -> &str {
    match idempotency_key.rsplit_once('-') {
        Some((head, attempt))
            if head.len() > 5 && !attempt.is_empty() && attempt.bytes().all(|b| b.is_ascii_digit()) =>
        {
            head
        }
        _ => idempotency_key,
    }
}

/// A helpdesk note's longest body; anything longer is a mistake in the workflow (both vendors allow far more).
pub(crate) const MAX_NOTE_CHARS: usize = 60_000;

/// A helpdesk `add_note` call's arguments: the ticket, the body, and the marker that keeps it from being written
/// twice.
pub(crate) fn note_args(args: &Value, idempotency_key: &str) -> Result<(String, String, String), String> {
    Args::new(args, &["ticket_id", "body"]).and_then(|a| {
        let ticket = a.required_numeric_id("ticket_id")?;
        let body = a.required_text("body")?;
        if body.chars().count() > MAX_NOTE_CHARS {
            return Err(format!("`body` is longer than {MAX_NOTE_CHARS} characters"));
        }
        Ok((ticket, body, note_marker(idempotency_key)?))
    })
}

/// A helpdesk `add_tags` call's arguments: the ticket and at least one tag.
pub(crate) fn tag_args(args: &Value) -> Result<(String, Vec<String>), String> {
    Args::new(args, &["ticket_id", "tags"]).and_then(|a| {
        let ticket = a.required_numeric_id("ticket_id")?;
        let tags = a.text_list("tags")?.ok_or("`tags` is missing")?;
        if tags.is_empty() {
            return Err("`tags` is empty".to_owned());
        }
        Ok((ticket, tags))
    })
}

/// `[seam:<run-step key>]`, the marker a note carries. `Err` if the key holds characters other than ASCII letters,
/// digits, `_`, `-`, `.` and `:` (the engine's keys never do), so the marker reads the same in text and HTML.
pub(crate) fn note_marker(idempotency_key: &str) -> Result<String, String> {
    let key = step_key(idempotency_key);
    if key.is_empty()
        || key.len() > 200
        || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
    {
        return Err(
            "the idempotency key must be 1 to 200 ASCII letters, digits, `_`, `-`, `.` or `:`".to_owned()
        );
    }
    Ok(format!("[seam:{key}]"))
}

/// A key of at most 64 characters drawn from the run-step key (Shopify's metafield keys are 2 to 64 letters,
/// digits, `-` and `_`): the run-step key itself when it fits, else `seam-` and 40 hex digits of its SHA-256.
pub(crate) fn short_key(idempotency_key: &str) -> String {
    let key = step_key(idempotency_key);
    if (2..=64).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        key.to_owned()
    } else {
        let digest = Sha256::digest(key.as_bytes());
        format!("seam-{}", &hex::encode(digest)[..40])
    }
}

/// Whether any string anywhere in `value` contains `needle`.
pub(crate) fn contains_text(value: &Value, needle: &str) -> bool {
    match value {
        Value::String(text) => text.contains(needle),
        Value::Array(items) => items.iter().any(|item| contains_text(item, needle)),
        Value::Object(map) => map.values().any(|item| contains_text(item, needle)),
        _ => false,
    }
}

/// A call's arguments (the step's rendered `with` table), checked: unknown keys are refused so a misspelt argument
/// fails loudly instead of being dropped.
pub(crate) struct Args<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Args<'a> {
    pub(crate) fn new(args: &'a Value, allowed: &[&str]) -> Result<Args<'a>, String> {
        let Some(map) = args.as_object() else {
            return Err(format!("the arguments must be a table, not {}", type_name(args)));
        };
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(format!(
                "unknown argument `{}` (expected {})",
                short(unknown, 60),
                allowed.join(", ")
            ));
        }
        Ok(Args { map })
    }

    /// The value of `name`, `None` when absent or `null`.
    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// A non-empty string (numbers are taken as their text), trimmed.
    pub(crate) fn text(&self, name: &str) -> Result<Option<String>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Err(format!("`{name}` is empty")),
            Some(Value::String(text)) => Ok(Some(text.trim().to_owned())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(format!("`{name}` must be a string, not {}", type_name(other))),
        }
    }

    pub(crate) fn required_text(&self, name: &str) -> Result<String, String> {
        self.text(name)?.ok_or_else(|| format!("`{name}` is missing"))
    }

    /// A numeric id: a JSON integer or a string of 1 to 20 ASCII digits that fits 64 bits, as its decimal text.
    pub(crate) fn numeric_id(&self, name: &str) -> Result<Option<String>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => digits_id(value).map(Some).map_err(|why| format!("`{name}` {why}")),
        }
    }

    pub(crate) fn required_numeric_id(&self, name: &str) -> Result<String, String> {
        self.numeric_id(name)?.ok_or_else(|| format!("`{name}` is missing"))
    }

    /// A list of non-empty strings (numbers taken as their text; one string is a list of one), trimmed.
    pub(crate) fn text_list(&self, name: &str) -> Result<Option<Vec<String>>, String> {
        let items: Vec<&Value> = match self.get(name) {
            None => return Ok(None),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one @ Value::String(_)) => vec![one],
            Some(other) => {
                return Err(format!("`{name}` must be a list of strings, not {}", type_name(other)));
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (n, item) in items.into_iter().enumerate() {
            match item {
                Value::String(text) if !text.trim().is_empty() => out.push(text.trim().to_owned()),
                Value::Number(number) => out.push(number.to_string()),
                Value::String(_) => return Err(format!("`{name}[{n}]` is empty")),
                other => return Err(format!("`{name}[{n}]` must be a string, not {}", type_name(other))),
            }
        }
        Ok(Some(out))
    }

    /// `true` or `false` (also as the strings `"true"` and `"false"`, which a template may render).
    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(other) => Err(format!("`{name}` must be true or false, not {}", type_name(other))),
        }
    }

    pub(crate) fn required_boolean(&self, name: &str) -> Result<bool, String> {
        self.boolean(name)?.ok_or_else(|| format!("`{name}` is missing (true or false)"))
    }

    /// A whole number in `min..=max` (also as its decimal text).
    pub(crate) fn integer(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, String> {
        let value = match self.get(name) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(other) => return Err(format!("`{name}` must be a whole number, not {}", type_name(other))),
        };
        match value {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(format!("`{name}` must be a whole number from {min} to {max}")),
        }
    }
}

/// A numeric id as decimal text: a JSON integer, or a string of 1 to 20 ASCII digits that fits 64 bits.
pub(crate) fn digits_id(value: &Value) -> Result<String, String> {
    match value {
        Value::Number(n) if n.as_u64().is_some() => Ok(n.to_string()),
        Value::String(text) if is_digits_id(text.trim()) => Ok(text.trim().to_owned()),
        Value::String(text) => Err(format!("must be a numeric id (digits only), not `{}`", short(text, 60))),
        other => Err(format!("must be a numeric id, not {}", type_name(other))),
    }
}

pub(crate) fn is_digits_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 20
        && text.bytes().all(|b| b.is_ascii_digit())
        && text.parse::<u64>().is_ok()
}

pub(crate) fn fatal_request(message: String) -> CallOutcome {
    CallOutcome::Err { class: ErrorClass::Fatal(ErrorKind::Request), message }
}

pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

/// At most `max` characters of outside text, on one line.
pub(crate) fn short(text: &str, max: usize) -> String {
    let one_line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    match one_line.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

/// The message for an unknown action: the vendor's actions, with their prefix.
pub(crate) fn unknown_action(vendor: &str, action: &str, actions: &[&str]) -> CallOutcome {
    let list: Vec<String> = actions.iter().map(|a| format!("{vendor}.{a}")).collect();
    fatal_request(format!(
        "{vendor}: unknown action `{}` (expected one of {}); no request was made",
        short(action, 60),
        list.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn step_keys_drop_the_attempt_number() {
        assert_eq!(step_key("seam-run_0a1b-notify-1"), "seam-run_0a1b-notify");
        assert_eq!(step_key("seam-run_0a1b-notify-12"), "seam-run_0a1b-notify");
        assert_eq!(step_key("seam-run_0a1b-add_note"), "seam-run_0a1b-add_note");
        assert_eq!(step_key("plain"), "plain");
        assert_eq!(step_key("x-1"), "x-1");
        assert_eq!(note_marker("seam-run_1-note-3").unwrap(), "[seam:seam-run_1-note]");
        assert!(note_marker("seam-<b>-1").is_err());
        assert!(note_marker("").is_err());
    }

    #[test]
    fn short_keys_fit_shopify_metafield_keys() {
        let key = format!("seam-run_{}-add_note-2", "0123456789abcdef0123456789abcdef");
        assert_eq!(short_key(&key), format!("seam-run_{}-add_note", "0123456789abcdef0123456789abcdef"));
        let long = format!("seam-run_{}-{}-1", "f".repeat(32), "a_very_long_step_name_that_goes_on");
        let shortened = short_key(&long);
        assert_eq!(shortened.len(), 45);
        assert!(shortened.starts_with("seam-"));
        assert_eq!(short_key(&long), shortened, "stable");
        assert_ne!(short_key(&long.replace("goes", "runs")), shortened);
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after", HeaderValue::from_static("0.5"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(500)));
        headers.insert("retry-after", HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&headers), None);
        headers.insert("x-retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("NaN"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn error_bodies_read_as_one_line() {
        let zendesk = json!({ "error": "RecordInvalid", "description": "Record validation errors",
                              "details": { "base": [{ "description": "Bad" }] } });
        let text = describe_error(&zendesk).unwrap();
        assert!(text.starts_with("error: RecordInvalid; description: Record validation errors"), "{text}");
        let shipbob = json!({ "reference_id": ["Duplicate reference id"] });
        assert_eq!(describe_error(&shipbob).unwrap(), r#"reference_id: ["Duplicate reference id"]"#);
        assert_eq!(describe_error(&json!([1])), None);
        assert_eq!(error_detail(&Value::Null, b""), "(empty body)");
    }

    #[test]
    fn ids_and_base_urls() {
        for good in [json!(24), json!("24"), json!(" 18446744073709551615 ")] {
            assert!(digits_id(&good).is_ok(), "{good}");
        }
        for bad in
            [json!(-1), json!(1.5), json!("1/2"), json!("18446744073709551616"), json!(""), json!(true)]
        {
            assert!(digits_id(&bad).is_err(), "{bad}");
        }
        let parse = |text: &str| parse_base_url("zendesk", text, None, "zendesk.base_url");
        assert_eq!(parse("acme.zendesk.com").unwrap().as_str(), "https://acme.zendesk.com/");
        assert!(parse("").unwrap_err().contains("zendesk.base_url"));
        assert!(parse("http://acme.zendesk.com").unwrap_err().contains("in clear"));
        assert!(parse("http://127.0.0.1:9").is_ok());
        assert!(parse("https://acme.zendesk.com/?a=1").is_err());
        let message = parse("https://agent:hunter22@acme.zendesk.com/x").unwrap_err();
        assert!(
            !message.contains("hunter22") && message.contains("[redacted]@acme.zendesk.com/x"),
            "{message}"
        );
        let message = parse("https://agent:hunter22@").unwrap_err();
        assert!(!message.contains("hunter22"), "{message}");
    }
}
