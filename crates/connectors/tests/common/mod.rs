//! A scripted vendor on 127.0.0.1: every request is recorded, and a handler (the test's script) picks each answer,
//! optionally after a delay. Shared by the vendor connector tests (`shopify.rs`, `shipbob.rs`, `helpdesk.rs`).

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use seam_flow::{CallOutcome, ErrorClass};
use serde_json::Value;

/// One request the mock received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().expect("ASCII header").to_owned())
    }

    /// The body as JSON (`Null` when empty).
    pub fn json(&self) -> Value {
        if self.body.is_empty() { Value::Null } else { serde_json::from_str(&self.body).expect("JSON body") }
    }

    /// The decoded query pairs, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let url =
            reqwest::Url::parse(&format!("http://x/?{}", self.query.clone().unwrap_or_default())).unwrap();
        url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query_pairs().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// `METHOD /path`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// An answer: status, extra headers, JSON body (or none), and how long to wait before sending it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply { status, headers: Vec::new(), body: Some(body), delay: Duration::ZERO }
    }

    pub fn ok(body: Value) -> Reply {
        Reply::json(200, body)
    }

    pub fn empty(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: None, delay: Duration::ZERO }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// The test's script: the request and its index (0 for the first) in, the answer out.
pub type Handler = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

#[derive(Clone)]
struct MockState {
    log: Arc<Mutex<Vec<Seen>>>,
    handler: Handler,
}

pub struct Mock {
    pub addr: String,
    log: Arc<Mutex<Vec<Seen>>>,
}

impl Mock {
    pub async fn start(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Mock {
        let log: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let state = MockState { log: Arc::clone(&log), handler: Arc::new(handler) };
        let app = Router::new().fallback(handle).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Mock { addr, log }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    /// `METHOD /path` of every request, in order.
    pub fn lines(&self) -> Vec<String> {
        self.seen().iter().map(Seen::line).collect()
    }
}

async fn handle(
    State(state): State<MockState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    };
    let index = {
        let mut log = state.log.lock().unwrap();
        log.push(seen.clone());
        log.len() - 1
    };
    let reply = (state.handler)(&seen, index);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let status = StatusCode::from_u16(reply.status).unwrap();
    let mut response = match reply.body {
        Some(body) => (status, axum::Json(body)).into_response(),
        None => status.into_response(),
    };
    for (name, value) in reply.headers {
        response
            .headers_mut()
            .insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(&value).unwrap());
    }
    response
}

/// The result of a call that must succeed.
pub fn ok(outcome: CallOutcome) -> Value {
    match outcome {
        CallOutcome::Ok(value) => value,
        CallOutcome::Err { class, message } => panic!("expected Ok, got {class:?}: {message}"),
    }
}

/// The class and message of a call that must fail; the message is one line and holds none of `secrets`.
pub fn err(outcome: CallOutcome, secrets: &[&str]) -> (ErrorClass, String) {
    match outcome {
        CallOutcome::Ok(value) => panic!("expected an error, got Ok({value})"),
        CallOutcome::Err { class, message } => {
            for secret in secrets {
                assert!(!message.contains(secret), "a credential leaked: {message}");
            }
            assert!(!message.contains('\n'), "{message}");
            (class, message)
        }
    }
}

/// A port nothing listens on.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    format!("http://{addr}")
}

/// A folder of the shared sample data, found as `crates/seam/tests/recovery.rs` finds it: `SEAM_FIXTURES`, else
/// `../shared/fixtures` beside the checkout, else this machine kind's `/work/shared/fixtures`. `None` after printing
/// `SKIPPED:` when it is nowhere; under `CI=true` that fails the test instead.
pub fn fixtures(sub: &str) -> Option<std::path::PathBuf> {
    let candidates = [
        std::env::var("SEAM_FIXTURES").ok().map(std::path::PathBuf::from),
        Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")),
        Some(std::path::PathBuf::from("/work/shared/fixtures")),
    ];
    if let Some(dir) = candidates.iter().flatten().map(|root| root.join(sub)).find(|dir| dir.is_dir()) {
        return Some(dir);
    }
    let message = format!("the shared fixtures folder `{sub}` was not found (set SEAM_FIXTURES)");
    skip_or_fail(&message);
    None
}

/// Prints `SKIPPED: <message>`, or fails under `CI=true`, where nothing may be skipped.
pub fn skip_or_fail(message: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}, and CI=true forbids skipping");
    println!("SKIPPED: {message}");
}

/// Runs `python3 -c <script> <args>` with `input` on stdin. `None` (after skipping or failing) when python3 cannot
/// be run, or the script exits with status 3 (its way of saying a package is missing: `install` says which).
pub fn python(script: &str, args: &[&str], input: &str, install: &str) -> Option<String> {
    let output = match run_python(script, args, input) {
        Ok(output) => output,
        Err(error) => {
            skip_or_fail(&format!(
                "python3 could not be run ({error}; apt-get install -y python3 python3-pip): the cross-check was skipped"
            ));
            return None;
        }
    };
    match output.status.code() {
        Some(0) => Some(String::from_utf8_lossy(&output.stdout).into_owned()),
        Some(3) => {
            skip_or_fail(&format!("a Python package is missing ({install}): the cross-check was skipped"));
            None
        }
        _ => panic!("python3 failed: {}", String::from_utf8_lossy(&output.stderr)),
    }
}

fn run_python(script: &str, args: &[&str], input: &str) -> std::io::Result<std::process::Output> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        // A script that exits early (a missing package) closes its stdin; its exit status says why.
        let _ = stdin.write_all(input.as_bytes());
    }
    child.wait_with_output()
}

/// A Shopify sample with the ids its collector rounded put back (the samples went through JavaScript numbers, so
/// `"id": 820982911946154500` stands for `gid://shopify/Order/820982911946154508`): each number that is the
/// double-precision rounding of a gid's number in the same text is replaced, as a whole token, by that number.
pub fn restore_shopify_ids(text: &str) -> String {
    let mut exact: Vec<u64> = Vec::new();
    for marker in ["gid://shopify/", "inventory_item_id="] {
        for (at, _) in text.match_indices(marker) {
            let rest = &text[at + marker.len()..];
            let rest =
                if marker.starts_with("gid") { rest.split_once('/').map_or("", |(_, r)| r) } else { rest };
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(number) = digits.parse::<u64>() {
                exact.push(number);
            }
        }
    }
    exact.sort_unstable();
    exact.dedup();
    let mut out = text.to_owned();
    for number in exact {
        let rounded = format!("{}", number as f64);
        if rounded == number.to_string() {
            continue;
        }
        out = replace_number(&out, &rounded, &number.to_string());
    }
    out
}

/// `text` with each whole-number token `from` (not part of a longer number) replaced by `to`.
fn replace_number(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + from.len()..].chars().next();
        let whole = !before.is_some_and(|c| c.is_ascii_digit() || c == '.' || c == '/' || c == '=')
            && !after.is_some_and(|c| c.is_ascii_digit() || c == '.');
        out.push_str(&rest[..at]);
        out.push_str(if whole { to } else { from });
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}
