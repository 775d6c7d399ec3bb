//! The generic `http` call action, so a workflow can call any tool that has an API, and the classification of
//! HTTP answers and transport failures into the engine's [`ErrorClass`] (shared by every HTTP-based
//! connector).
//!
//! # Arguments
//!
//! `args` is the step's rendered `with` table:
//!
//! | key | required | meaning |
//! |---|---|---|
//! | `method` | no, `GET` | `GET`, `POST`, `PUT`, `PATCH` or `DELETE` (any case) |
//! | `url` | yes | an absolute `http://` or `https://` URL |
//! | `headers` | no | a table of header name to value (a string, number or boolean) |
//! | `json` | no | the request body, sent as JSON (`null` sends no body) |
//! | `query` | no | a table of query parameters appended to the URL (a list value repeats the parameter) |
//!
//! Other keys are refused, so a misspelt `body` fails loudly instead of sending nothing. Every request
//! carries `Idempotency-Key: <key>` with the engine's key for the attempt; a header of that name in `headers`
//! is replaced, so a redone attempt always sends the same key.
//!
//! # Allow-list
//!
//! The URL's host must be on the allow-list ([`ALLOW_HOSTS_SETTING`]) before anything is sent. An entry is
//! `host` (any port), `host:port` (that port only; a URL without a port has its scheme's default), or
//! `*.suffix` / `*.suffix:port` (any domain name ending in `.suffix`, not `suffix` itself nor an IP address).
//! Hosts compare without regard to case; IPv6 hosts are written in brackets (`[::1]:9000`). Redirects are
//! followed (at most [`MAX_REDIRECTS`]) only to allowed hosts; a redirect elsewhere is not followed and the
//! 3xx answer is a fatal `request` error. A refused host, a bad URL, method or argument is a fatal `request`
//! error and no request is made.
//!
//! # Result
//!
//! A 2xx answer is `{"status": 200, "body": ...}`: the body parsed as JSON when it is JSON, else the text
//! (lossy UTF-8), `null` when empty. Bodies are read up to [`MAX_BODY_BYTES`]; a longer 2xx body is cut
//! there, returned as text, and the result gets `"truncated": true` (the call did take effect, so it is not
//! an error).
//!
//! Failures ([`classify_status`], [`classify_transport`]): 429 is retryable `rate_limited`, 408 retryable
//! `timeout`, 5xx retryable `server_error`, any other status fatal `request`; a timeout is retryable
//! `timeout`, any other transport failure retryable `network`. Messages name the method, the URL without its
//! query (which may hold secrets), the status and a short excerpt of the body; never header values.
//!
//! # TLS
//!
//! reqwest is built without a rustls crypto provider. [`HttpConnector::new`] installs ring's provider as the
//! process default if none is installed yet (a no-op when the binary already did), so building a client never
//! panics.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use seam_flow::{CallOutcome, ErrorClass, ErrorKind};
use serde_json::{Value, json};

/// The configuration setting that holds the allow-list; error messages name it.
pub const ALLOW_HOSTS_SETTING: &str = "http.allow_hosts";

/// The most response-body bytes read; the rest is not read.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The most characters of a response body quoted in an error message.
pub const EXCERPT_CHARS: usize = 300;

/// The most redirects followed for one call (each to an allowed host).
pub const MAX_REDIRECTS: usize = 5;

const IDEMPOTENCY_KEY: &str = "idempotency-key";

const ARG_KEYS: [&str; 5] = ["method", "url", "headers", "json", "query"];

/// The generic `http` action. Cheap to clone (the client and the allow-list are shared).
#[derive(Debug, Clone)]
pub struct HttpConnector {
    /// `Err` only if the client could not be built; every call then fails with the reason.
    client: Result<reqwest::Client, Arc<str>>,
    allow: Arc<AllowList>,
    timeout: Duration,
}

impl HttpConnector {
    /// A connector that only calls hosts on `allow_hosts` (see the module documentation for the entry syntax)
    /// and gives each call at most `timeout`, from connecting to the last byte of the body. Never panics: a
    /// client that cannot be built makes every call fail with the reason.
    pub fn new(allow_hosts: Vec<String>, timeout: Duration) -> Self {
        let allow = Arc::new(AllowList::new(allow_hosts));
        let policy = {
            let allow = Arc::clone(&allow);
            reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > MAX_REDIRECTS {
                    attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
                } else if allow.allows(attempt.url()).is_ok() {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            })
        };
        let client = build_client(timeout, policy).map_err(|e| Arc::from(error_chain(&e)));
        if let Err(reason) = &client {
            tracing::error!(%reason, "the http connector's client could not be built");
        }
        HttpConnector { client, allow, timeout }
    }

    /// The call timeout this connector was built with.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    async fn run(&self, args: &Value, idempotency_key: &str) -> CallOutcome {
        let request = match Request::parse(args, idempotency_key) {
            Ok(request) => request,
            Err(message) => return fatal_request(format!("http: {message}")),
        };
        if let Err(host) = self.allow.allows(&request.url) {
            return fatal_request(format!(
                "http: host `{host}` is not on the allow-list (setting `{ALLOW_HOSTS_SETTING}`: {}); \
                 no request was made",
                self.allow.describe()
            ));
        }
        let client = match &self.client {
            Ok(client) => client,
            Err(reason) => {
                return fatal_request(format!("http: the HTTP client could not be built: {reason}"));
            }
        };
        let method = request.method.clone();
        let target = format!("{method} {}", redact(&request.url));
        tracing::debug!(%target, "http call");

        let mut builder = client.request(request.method, request.url).headers(request.headers);
        if let Some(body) = &request.json {
            builder = builder.json(body);
        }
        let response = match builder.send().await {
            Ok(response) => response,
            Err(err) => return self.transport_failure(&target, &err),
        };
        let status = response.status().as_u16();
        // After redirects the answer may come from another URL than the one asked for.
        let target = format!("{method} {}", redact(response.url()));
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| response.url().join(v).ok())
            .map(|url| redact(&url));
        let body = match read_capped(response, MAX_BODY_BYTES).await {
            Ok(body) => body,
            Err(err) => return self.transport_failure(&target, &err),
        };
        match classify_status(status) {
            None => {
                let mut result = json!({ "status": status, "body": body_value(&body) });
                if body.truncated {
                    result["truncated"] = Value::Bool(true);
                }
                CallOutcome::Ok(result)
            }
            Some(class) => {
                let mut message = status_message(&target, status, &body.bytes);
                if let Some(location) = location.filter(|_| (300..400).contains(&status)) {
                    message.push_str(&format!(
                        " (redirect to `{location}` not followed: its host is not on the allow-list, \
                         setting `{ALLOW_HOSTS_SETTING}`)"
                    ));
                }
                CallOutcome::Err { class, message }
            }
        }
    }

    fn transport_failure(&self, target: &str, err: &reqwest::Error) -> CallOutcome {
        let class = classify_transport(err);
        let mut message = format!("{target}: {}", error_chain(err));
        if class == ErrorClass::Retryable(ErrorKind::Timeout) {
            message.push_str(&format!(" (the limit is {:?})", self.timeout));
        }
        CallOutcome::Err { class, message }
    }
}

#[async_trait::async_trait]
impl crate::Connector for HttpConnector {
    /// `action` is the step's `call` (`http`); it does not change what is done.
    async fn call(&self, _action: &str, args: &Value, idempotency_key: &str) -> CallOutcome {
        self.run(args, idempotency_key).await
    }
}

/// The error class of an HTTP status, or `None` for 2xx. 429 is retryable `rate_limited`, 408 retryable
/// `timeout`, 5xx (and the non-standard 600 and up) retryable `server_error`; every other status (4xx, an
/// unfollowed 3xx, 1xx) is fatal `request`. Vendor connectors refine 4xx (declines), then fall back to it.
pub fn classify_status(status: u16) -> Option<ErrorClass> {
    match status {
        200..=299 => None,
        408 => Some(ErrorClass::Retryable(ErrorKind::Timeout)),
        429 => Some(ErrorClass::Retryable(ErrorKind::RateLimited)),
        500.. => Some(ErrorClass::Retryable(ErrorKind::ServerError)),
        _ => Some(ErrorClass::Fatal(ErrorKind::Request)),
    }
}

/// The error class of a failure to get an answer: a timeout (connecting or reading) is retryable `timeout`; a
/// request reqwest refused to build or a redirect loop is fatal `request` (sending it again cannot help); any
/// other transport failure (refused or reset connection, DNS, TLS, a body cut short) is retryable `network`.
pub fn classify_transport(err: &reqwest::Error) -> ErrorClass {
    if err.is_timeout() {
        ErrorClass::Retryable(ErrorKind::Timeout)
    } else if err.is_builder() || err.is_redirect() {
        ErrorClass::Fatal(ErrorKind::Request)
    } else {
        ErrorClass::Retryable(ErrorKind::Network)
    }
}

/// Installs ring's rustls provider as the process default unless one is installed already. Harmless to call
/// any number of times, from any thread: if another thread wins the race, its provider stays.
pub(crate) fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// A client with the given total timeout and redirect policy; never panics for want of a crypto provider.
pub(crate) fn build_client(
    timeout: Duration,
    redirect: reqwest::redirect::Policy,
) -> Result<reqwest::Client, reqwest::Error> {
    ensure_crypto_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(redirect)
        .user_agent(concat!("seam/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A response body read up to a cap.
#[derive(Debug)]
pub(crate) struct Body {
    pub(crate) bytes: Vec<u8>,
    /// The body was longer than the cap; the rest was not read.
    pub(crate) truncated: bool,
}

/// Reads at most `cap` bytes of the body; stops (and drops the connection) at the cap.
pub(crate) async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Body, reqwest::Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok(Body { bytes, truncated: true });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Body { bytes, truncated: false })
}

/// At most [`EXCERPT_CHARS`] characters of a body, whitespace runs (newlines included) folded to one space.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut count = 0;
    for word in text.split_whitespace() {
        for c in (count > 0).then_some(' ').into_iter().chain(word.chars()) {
            if count == EXCERPT_CHARS {
                out.push('…');
                return out;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

/// "HTTP 503 from POST http://host/path: <excerpt>".
pub(crate) fn status_message(target: &str, status: u16, body: &[u8]) -> String {
    let excerpt = excerpt(body);
    if excerpt.is_empty() {
        format!("HTTP {status} from {target} (empty body)")
    } else {
        format!("HTTP {status} from {target}: {excerpt}")
    }
}

/// A transport error and its causes, without the URL (which may carry secrets in its query).
pub(crate) fn error_chain(err: &reqwest::Error) -> String {
    let mut message = String::new();
    let mut next: Option<&dyn std::error::Error> = Some(err);
    while let Some(err) = next {
        let text = match err.downcast_ref::<reqwest::Error>() {
            // reqwest's Display names the URL; say what kind of failure it was instead.
            Some(e) if e.url().is_some() => transport_kind(e).to_owned(),
            _ => err.to_string(),
        };
        if !text.is_empty() && !message.contains(&text) {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
        next = err.source();
    }
    message
}

fn transport_kind(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_redirect() {
        "redirect failed"
    } else if err.is_body() || err.is_decode() {
        "reading the response failed"
    } else if err.is_builder() {
        "bad request"
    } else {
        "request failed"
    }
}

/// The URL without its query and fragment, for messages and logs.
pub(crate) fn redact(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

fn fatal_request(message: String) -> CallOutcome {
    CallOutcome::Err { class: ErrorClass::Fatal(ErrorKind::Request), message }
}

fn body_value(body: &Body) -> Value {
    if body.bytes.is_empty() {
        return Value::Null;
    }
    if !body.truncated
        && let Ok(value) = serde_json::from_slice(&body.bytes)
    {
        return value;
    }
    Value::String(String::from_utf8_lossy(&body.bytes).into_owned())
}

/// A call's arguments, checked.
struct Request {
    method: Method,
    url: Url,
    headers: HeaderMap,
    json: Option<Value>,
}

impl Request {
    fn parse(args: &Value, idempotency_key: &str) -> Result<Request, String> {
        let Some(args) = args.as_object() else {
            return Err(format!("the arguments must be a table, not {}", type_name(args)));
        };
        if let Some(unknown) = args.keys().find(|k| !ARG_KEYS.contains(&k.as_str())) {
            return Err(format!("unknown argument `{unknown}` (expected {})", ARG_KEYS.join(", ")));
        }
        let method = match args.get("method") {
            None => Method::GET,
            Some(Value::String(m)) => match m.to_ascii_uppercase().as_str() {
                "GET" => Method::GET,
                "POST" => Method::POST,
                "PUT" => Method::PUT,
                "PATCH" => Method::PATCH,
                "DELETE" => Method::DELETE,
                _ => return Err(format!("bad method `{m}` (expected GET, POST, PUT, PATCH or DELETE)")),
            },
            Some(other) => return Err(format!("`method` must be a string, not {}", type_name(other))),
        };
        let mut url = match args.get("url") {
            None => return Err("`url` is missing".to_owned()),
            Some(Value::String(u)) => Url::parse(u).map_err(|e| format!("bad url `{}`: {e}", cut(u)))?,
            Some(other) => return Err(format!("`url` must be a string, not {}", type_name(other))),
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("bad url: scheme `{}` is not http or https", url.scheme()));
        }
        if url.host().is_none() {
            return Err("bad url: it has no host".to_owned());
        }
        if let Some(query) = args.get("query") {
            let Value::Object(query) = query else {
                return Err(format!("`query` must be a table, not {}", type_name(query)));
            };
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                let values = match value {
                    Value::Array(items) => items.iter().collect(),
                    one => vec![one],
                };
                for value in values {
                    let text = scalar_text(value).ok_or_else(|| {
                        format!("query parameter `{name}` must be a scalar or a list of them")
                    })?;
                    pairs.append_pair(name, &text);
                }
            }
        }
        let mut headers = HeaderMap::new();
        if let Some(given) = args.get("headers") {
            let Value::Object(given) = given else {
                return Err(format!("`headers` must be a table, not {}", type_name(given)));
            };
            for (name, value) in given {
                let header = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("bad header name `{}`", cut(name)))?;
                let text = scalar_text(value)
                    .ok_or_else(|| format!("header `{name}` must be a string, number or boolean"))?;
                let value = HeaderValue::from_str(&text)
                    .map_err(|_| format!("header `{name}` has a value that is not allowed in a header"))?;
                headers.append(header, value);
            }
        }
        let key = HeaderValue::from_str(idempotency_key)
            .map_err(|_| "the idempotency key is not a valid header value".to_owned())?;
        headers.insert(HeaderName::from_static(IDEMPOTENCY_KEY), key);
        let json = args.get("json").filter(|v| !v.is_null()).cloned();
        Ok(Request { method, url, headers, json })
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

/// At most 100 characters of user text for a message.
fn cut(text: &str) -> String {
    match text.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The allowed hosts.
#[derive(Debug)]
struct AllowList {
    rules: Vec<Rule>,
    /// The entries as configured, for messages.
    entries: Vec<String>,
}

#[derive(Debug)]
struct Rule {
    /// Lower case; for a wildcard, the suffix with its leading dot (`.example.com`).
    host: String,
    wildcard: bool,
    port: Option<u16>,
}

impl AllowList {
    fn new(entries: Vec<String>) -> Self {
        let mut rules = Vec::new();
        for entry in &entries {
            match Rule::parse(entry) {
                Some(rule) => rules.push(rule),
                None => tracing::warn!(
                    entry = %entry,
                    "ignoring an entry of `{ALLOW_HOSTS_SETTING}`: expected host, host:port or *.suffix"
                ),
            }
        }
        AllowList { rules, entries }
    }

    /// `Err(host:port)` when the URL's host is not allowed.
    fn allows(&self, url: &Url) -> Result<(), String> {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let port = url.port_or_known_default();
        // The URL parser writes IP hosts canonically: dotted IPv4, bracketed IPv6.
        let is_domain = !host.starts_with('[') && host.parse::<std::net::Ipv4Addr>().is_err();
        if self.rules.iter().any(|rule| rule.matches(&host, is_domain, port)) {
            return Ok(());
        }
        Err(match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    }

    fn describe(&self) -> String {
        if self.entries.is_empty() {
            return "empty".to_owned();
        }
        let mut text = String::new();
        for (i, entry) in self.entries.iter().enumerate() {
            if text.len() > 200 {
                text.push_str(&format!(" and {} more", self.entries.len() - i));
                break;
            }
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(entry);
        }
        text
    }
}

impl Rule {
    fn parse(entry: &str) -> Option<Rule> {
        let entry = entry.trim().to_ascii_lowercase();
        // Split off a port: after the closing bracket of an IPv6 host, else after the only colon.
        let (host, port) = if entry.starts_with('[') {
            let end = entry.find(']')?;
            match &entry[end + 1..] {
                "" => (&entry[..=end], None),
                rest => (&entry[..=end], Some(rest.strip_prefix(':')?.parse::<u16>().ok()?)),
            }
        } else {
            match entry.split_once(':') {
                None => (entry.as_str(), None),
                Some((host, port)) => (host, Some(port.parse::<u16>().ok()?)),
            }
        };
        let (host, wildcard) = match host.strip_prefix("*.") {
            Some(suffix) => (format!(".{suffix}"), true),
            None => (host.to_owned(), false),
        };
        let bare = host.trim_start_matches('.');
        let valid = !bare.is_empty()
            && !bare.contains(['*', '/', '@', '?', '#', ' '])
            && (bare.starts_with('[') == bare.ends_with(']'));
        valid.then_some(Rule { host, wildcard, port })
    }

    /// A wildcard matches domain names only: `*.0.1` does not allow `10.0.0.1`.
    fn matches(&self, host: &str, is_domain: bool, port: Option<u16>) -> bool {
        let host_ok = if self.wildcard {
            is_domain && host.len() > self.host.len() && host.ends_with(&self.host)
        } else {
            host == self.host
        };
        host_ok && self.port.is_none_or(|p| Some(p) == port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entries: &[&str], url: &str) -> bool {
        let list = AllowList::new(entries.iter().map(|s| s.to_string()).collect());
        list.allows(&Url::parse(url).unwrap()).is_ok()
    }

    #[test]
    fn allow_list_entries() {
        assert!(allowed(&["api.example.com"], "https://API.example.com/x"));
        assert!(allowed(&["api.example.com"], "https://api.example.com:8443/x"));
        assert!(!allowed(&["api.example.com"], "https://example.com/x"));
        assert!(!allowed(&["api.example.com"], "https://api.example.com.evil.net/x"));
        assert!(allowed(&["127.0.0.1:9000"], "http://127.0.0.1:9000/"));
        assert!(!allowed(&["127.0.0.1:9000"], "http://127.0.0.1:9001/"));
        assert!(allowed(&["api.example.com:443"], "https://api.example.com/"));
        assert!(allowed(&["*.example.com"], "https://a.b.example.com/"));
        assert!(!allowed(&["*.example.com"], "https://example.com/"));
        assert!(!allowed(&["*.example.com"], "https://badexample.com/"));
        assert!(allowed(&["*.example.com:81"], "http://a.example.com:81/"));
        assert!(!allowed(&["*.example.com:81"], "http://a.example.com/"));
        assert!(allowed(&["[::1]:9000"], "http://[::1]:9000/"));
        assert!(allowed(&["[::1]"], "http://[::1]:1234/"));
        assert!(!allowed(&["https://api.example.com"], "https://api.example.com/"));
        assert!(!allowed(&["api.example.com:port"], "https://api.example.com/"));
        assert!(!allowed(&["*"], "https://api.example.com/"));
        assert!(!allowed(&["*.0.0.1"], "http://127.0.0.1/"));
        assert!(!allowed(&[], "https://api.example.com/"));
        assert!(!allowed(&["user@api.example.com"], "https://user@api.example.com/"));
        assert!(allowed(&["api.example.com"], "https://evil.com@api.example.com/"));
        assert!(!allowed(&["api.example.com"], "https://api.example.com@evil.com/"));
    }

    #[test]
    fn excerpt_is_short_and_on_one_line() {
        assert_eq!(excerpt(b"  a\n\n b  "), "a b");
        let long = "é".repeat(400);
        let cut = excerpt(long.as_bytes());
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt(&[0xff, b'x']), "\u{fffd}x");
    }

    #[test]
    fn status_classes() {
        assert_eq!(classify_status(200), None);
        assert_eq!(classify_status(204), None);
        assert_eq!(classify_status(429), Some(ErrorClass::Retryable(ErrorKind::RateLimited)));
        assert_eq!(classify_status(408), Some(ErrorClass::Retryable(ErrorKind::Timeout)));
        assert_eq!(classify_status(500), Some(ErrorClass::Retryable(ErrorKind::ServerError)));
        assert_eq!(classify_status(599), Some(ErrorClass::Retryable(ErrorKind::ServerError)));
        assert_eq!(classify_status(404), Some(ErrorClass::Fatal(ErrorKind::Request)));
        assert_eq!(classify_status(302), Some(ErrorClass::Fatal(ErrorKind::Request)));
        assert_eq!(classify_status(0), Some(ErrorClass::Fatal(ErrorKind::Request)));
    }
}
