//! The generic `http` action against a real HTTP server on 127.0.0.1.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use seam_connectors::Connector;
use seam_connectors::http::{ALLOW_HOSTS_SETTING, EXCERPT_CHARS, HttpConnector, MAX_BODY_BYTES};
use seam_flow::{CallOutcome, ErrorClass, ErrorKind};
use serde_json::{Value, json};

const KEY: &str = "seam-r1-pay-1";

/// A test server that counts the requests it receives.
struct Server {
    addr: String,
    hits: Arc<AtomicUsize>,
}

impl Server {
    async fn start() -> Server {
        let hits = Arc::new(AtomicUsize::new(0));
        let app = Router::new().fallback(handle).with_state(Arc::clone(&hits));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server { addr, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// A connector that allows this server.
    fn connector(&self) -> HttpConnector {
        HttpConnector::new(vec![self.addr.clone()], Duration::from_secs(10))
    }
}

async fn handle(
    State(hits): State<Arc<AtomicUsize>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    hits.fetch_add(1, Ordering::SeqCst);
    let path = uri.path();
    if let Some(code) = path.strip_prefix("/status/") {
        let code = StatusCode::from_u16(code.parse().unwrap()).unwrap();
        let text = format!("upstream says {code}\n{}", "x".repeat(1000));
        return (code, text).into_response();
    }
    match path {
        "/echo" => {
            let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
            let body: Value =
                if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap() };
            axum::Json(json!({
                "method": method.as_str(),
                "idempotency_key": header("idempotency-key"),
                "idempotency_key_count": headers.get_all("idempotency-key").iter().count(),
                "x_source": header("x-source"),
                "content_type": header("content-type"),
                "query": uri.query(),
                "body": body,
            }))
            .into_response()
        }
        "/text" => "plain words".into_response(),
        "/empty" => StatusCode::NO_CONTENT.into_response(),
        "/big" => vec![b'a'; 2 * MAX_BODY_BYTES].into_response(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "too late".into_response()
        }
        "/redirect-in" => (StatusCode::FOUND, [(header::LOCATION, "/echo?from=redirect")]).into_response(),
        "/redirect-out" => {
            (StatusCode::FOUND, [(header::LOCATION, "http://elsewhere.invalid/steal")]).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn ok(outcome: CallOutcome) -> Value {
    match outcome {
        CallOutcome::Ok(value) => value,
        CallOutcome::Err { class, message } => panic!("expected success, got {class:?}: {message}"),
    }
}

fn err(outcome: CallOutcome) -> (ErrorClass, String) {
    match outcome {
        CallOutcome::Err { class, message } => (class, message),
        CallOutcome::Ok(value) => panic!("expected an error, got {value}"),
    }
}

const FATAL_REQUEST: ErrorClass = ErrorClass::Fatal(ErrorKind::Request);

#[tokio::test]
async fn a_host_not_on_the_allow_list_gets_no_request() {
    let server = Server::start().await;
    let url = server.url("/echo");
    let port = server.addr.rsplit(':').next().unwrap().to_owned();
    for allow in [
        vec![],
        vec!["api.example.com".to_owned()],
        vec!["127.0.0.1:1".to_owned()],
        vec!["*.0.0.1".to_owned()],
    ] {
        let connector = HttpConnector::new(allow.clone(), Duration::from_secs(10));
        let args = json!({ "method": "POST", "url": url, "json": { "a": 1 } });
        let (class, message) = err(connector.call("http", &args, KEY).await);
        assert_eq!(class, FATAL_REQUEST, "{allow:?}");
        assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
        assert!(message.contains(ALLOW_HOSTS_SETTING), "{message}");
    }
    assert_eq!(server.hits(), 0);

    // The same call with the server allowed does arrive: the counter works.
    let args = json!({ "method": "POST", "url": url, "json": { "a": 1 } });
    ok(server.connector().call("http", &args, KEY).await);
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_wildcard_entry_allows_subdomains_only() {
    // `localhost` subdomains resolve to the loopback address on common resolvers, but not everywhere; the
    // allow-list decision is what is tested here, so a refused host must fail before any lookup.
    let connector = HttpConnector::new(vec!["*.example.com".to_owned()], Duration::from_secs(10));
    let args = json!({ "url": "http://example.com/" });
    let (class, message) = err(connector.call("http", &args, KEY).await);
    assert_eq!(class, FATAL_REQUEST);
    assert!(message.contains("`example.com`") && message.contains("*.example.com"), "{message}");
}

#[tokio::test]
async fn bad_arguments_are_fatal_and_send_nothing() {
    let server = Server::start().await;
    let connector = server.connector();
    let url = server.url("/echo");
    let cases = [
        (json!({ "method": "FETCH", "url": url }), "bad method `FETCH`"),
        (json!({ "method": 1, "url": url }), "`method` must be a string"),
        (json!({ "url": "not a url" }), "bad url"),
        (json!({ "url": "ftp://127.0.0.1/x" }), "scheme `ftp`"),
        (json!({}), "`url` is missing"),
        (json!({ "url": url, "body": "x" }), "unknown argument `body`"),
        (json!({ "url": url, "headers": { "bad header": "x" } }), "bad header name"),
        (json!({ "url": url, "headers": { "x-a": "line\nbreak" } }), "not allowed in a header"),
        (json!({ "url": url, "headers": { "x-a": { "nested": 1 } } }), "must be a string, number or boolean"),
        (json!({ "url": url, "query": { "q": { "nested": 1 } } }), "query parameter `q`"),
        (json!({ "url": url, "query": "q=1" }), "`query` must be a table"),
        (json!(["GET", url]), "must be a table"),
    ];
    for (args, expected) in cases {
        let (class, message) = err(connector.call("http", &args, KEY).await);
        assert_eq!(class, FATAL_REQUEST, "{args}");
        assert!(message.contains(expected), "{args}: {message}");
    }
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn the_request_arrives_with_its_idempotency_key_headers_query_and_json_body() {
    let server = Server::start().await;
    let args = json!({
        "method": "post",
        "url": server.url("/echo"),
        "headers": { "X-Source": "seam", "Idempotency-Key": "made-up-by-the-author" },
        "query": { "q": "a b&c", "n": [1, 2], "flag": true },
        "json": { "invoice": "in_1", "amount_minor": 4900, "lines": [1, 2] },
    });
    let result = ok(server.connector().call("http", &args, KEY).await);
    assert_eq!(
        result,
        json!({
            "status": 200,
            "body": {
                "method": "POST",
                "idempotency_key": KEY,
                "idempotency_key_count": 1,
                "x_source": "seam",
                "content_type": "application/json",
                "query": "flag=true&n=1&n=2&q=a+b%26c",
                "body": { "invoice": "in_1", "amount_minor": 4900, "lines": [1, 2] },
            }
        })
    );
}

#[tokio::test]
async fn a_get_sends_the_key_and_no_body() {
    let server = Server::start().await;
    let args = json!({ "url": server.url("/echo?keep=1"), "json": null });
    let result = ok(server.connector().call("http", &args, "seam-r2-look-3").await);
    assert_eq!(result["body"]["method"], "GET");
    assert_eq!(result["body"]["idempotency_key"], "seam-r2-look-3");
    assert_eq!(result["body"]["query"], "keep=1");
    assert_eq!(result["body"]["body"], Value::Null);
    assert_eq!(result["body"]["content_type"], Value::Null);
}

#[tokio::test]
async fn non_json_bodies_come_back_as_text_or_null() {
    let server = Server::start().await;
    let connector = server.connector();
    let text = ok(connector.call("http", &json!({ "url": server.url("/text") }), KEY).await);
    assert_eq!(text, json!({ "status": 200, "body": "plain words" }));
    let empty =
        ok(connector.call("http", &json!({ "method": "DELETE", "url": server.url("/empty") }), KEY).await);
    assert_eq!(empty, json!({ "status": 204, "body": null }));
}

#[tokio::test]
async fn a_body_over_the_cap_is_cut_and_marked() {
    let server = Server::start().await;
    let result = ok(server.connector().call("http", &json!({ "url": server.url("/big") }), KEY).await);
    assert_eq!(result["status"], 200);
    assert_eq!(result["truncated"], true);
    assert_eq!(result["body"].as_str().unwrap().len(), MAX_BODY_BYTES);
}

#[tokio::test]
async fn each_status_maps_to_its_error_class() {
    let server = Server::start().await;
    let connector = server.connector();
    let cases = [
        (429, ErrorClass::Retryable(ErrorKind::RateLimited)),
        (500, ErrorClass::Retryable(ErrorKind::ServerError)),
        (502, ErrorClass::Retryable(ErrorKind::ServerError)),
        (503, ErrorClass::Retryable(ErrorKind::ServerError)),
        (408, ErrorClass::Retryable(ErrorKind::Timeout)),
        (400, FATAL_REQUEST),
        (401, FATAL_REQUEST),
        (404, FATAL_REQUEST),
        (422, FATAL_REQUEST),
    ];
    for (status, expected) in cases {
        let url = server.url(&format!("/status/{status}"));
        let args = json!({ "method": "PUT", "url": url, "query": { "token": "s3cret" } });
        let (class, message) = err(connector.call("http", &args, KEY).await);
        assert_eq!(class, expected, "{status}: {message}");
        assert!(message.contains(&format!("HTTP {status}")), "{message}");
        assert!(message.contains("PUT http://127.0.0.1"), "{message}");
        assert!(message.contains(&format!("upstream says {status}")), "{message}");
        assert!(!message.contains("s3cret"), "the query stays out of messages: {message}");
        let excerpt = message.split_once(": ").unwrap().1;
        assert!(excerpt.chars().count() <= EXCERPT_CHARS + 1, "{} chars", excerpt.chars().count());
        assert!(!message.contains('\n'), "{message}");
    }
    assert_eq!(server.hits(), cases.len());
}

#[tokio::test]
async fn a_slow_answer_is_a_retryable_timeout() {
    let server = Server::start().await;
    let connector = HttpConnector::new(vec![server.addr.clone()], Duration::from_millis(200));
    let (class, message) = err(connector.call("http", &json!({ "url": server.url("/slow") }), KEY).await);
    assert_eq!(class, ErrorClass::Retryable(ErrorKind::Timeout), "{message}");
    assert!(message.contains("GET http://127.0.0.1"), "{message}");
}

#[tokio::test]
async fn a_refused_connection_is_a_retryable_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let connector = HttpConnector::new(vec![addr.clone()], Duration::from_secs(10));
    let args = json!({ "url": format!("http://{addr}/x?token=s3cret") });
    let (class, message) = err(connector.call("http", &args, KEY).await);
    assert_eq!(class, ErrorClass::Retryable(ErrorKind::Network), "{message}");
    assert!(message.contains(&addr), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
}

#[tokio::test]
async fn redirects_are_followed_only_to_allowed_hosts() {
    let server = Server::start().await;
    let connector = server.connector();
    let followed = ok(connector.call("http", &json!({ "url": server.url("/redirect-in") }), KEY).await);
    assert_eq!(followed["status"], 200);
    assert_eq!(followed["body"]["query"], "from=redirect");
    assert_eq!(followed["body"]["idempotency_key"], KEY);

    let (class, message) =
        err(connector.call("http", &json!({ "url": server.url("/redirect-out") }), KEY).await);
    assert_eq!(class, FATAL_REQUEST);
    assert!(message.contains("HTTP 302") && message.contains("elsewhere.invalid"), "{message}");
    assert!(message.contains(ALLOW_HOSTS_SETTING), "{message}");
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn clones_and_many_connectors_share_one_process_provider() {
    // Building several connectors (each installs the crypto provider if missing) never panics.
    let connectors: Vec<HttpConnector> = (0..4)
        .map(|_| HttpConnector::new(vec!["api.example.com".to_owned()], Duration::from_secs(1)))
        .collect();
    let clone = connectors[0].clone();
    assert_eq!(clone.timeout(), Duration::from_secs(1));
}
