//! The Stripe connector against a mock of Stripe's API on 127.0.0.1.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use seam_connectors::Connector;
use seam_connectors::stripe::{ACTIONS, StripeConnector};
use seam_flow::{CallOutcome, ErrorClass, ErrorKind};
use serde_json::{Value, json};

const KEY: &str = "seam-r1-pay-1";
const API_KEY: &str = "sk_test_51SeamSecretKey";

const HARD: ErrorClass = ErrorClass::Fatal(ErrorKind::HardDecline);
const SOFT: ErrorClass = ErrorClass::Retryable(ErrorKind::SoftDecline);
const REQUEST: ErrorClass = ErrorClass::Fatal(ErrorKind::Request);

/// One request the mock received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_owned())
    }

    /// The form body's pairs.
    fn form(&self) -> Vec<(String, String)> {
        let url = reqwest::Url::parse(&format!("http://x/?{}", self.body)).unwrap();
        url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }
}

type Log = Arc<Mutex<Vec<Seen>>>;

struct Server {
    addr: String,
    log: Log,
}

impl Server {
    async fn start() -> Server {
        let log: Log = Arc::default();
        let app = Router::new().fallback(handle).with_state(Arc::clone(&log));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server { addr, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn connector(&self) -> StripeConnector {
        StripeConnector::new(self.url(""), API_KEY, Duration::from_secs(10))
    }

    fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }
}

fn stripe_error(status: u16, error: Value) -> Response {
    let mut response =
        (StatusCode::from_u16(status).unwrap(), axum::Json(json!({ "error": error }))).into_response();
    response.headers_mut().insert("request-id", "req_mock123".parse().unwrap());
    response
}

fn invoice(id: &str, status: &str) -> Response {
    axum::Json(json!({ "id": id, "object": "invoice", "status": status, "amount_due": 1200 })).into_response()
}

/// Invoice ids pick the answer: `in_ok` pays, `in_decline_<code>` is declined with that decline code,
/// `in_code_<code>` is a card error with that code and no decline code, `in_status_<n>` answers status n.
async fn handle(
    State(log): State<Log>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    log.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: path.clone(),
        query: uri.query().map(str::to_owned),
        headers: headers.clone(),
        body: String::from_utf8(body.to_vec()).unwrap(),
    });
    let path = path.strip_prefix("/proxy").unwrap_or(&path);
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("POST", ["v1", "invoices", id, "pay"]) => pay(id),
        ("POST", ["v1", "invoices", id, "send"]) => invoice(id, "open"),
        ("GET", ["v1", "invoices", id]) => {
            if *id == "in_status_404" {
                return stripe_error(
                    404,
                    json!({ "type": "invalid_request_error", "code": "resource_missing" }),
                );
            }
            invoice(id, if *id == "in_already_paid" { "paid" } else { "open" })
        }
        ("GET", ["v1", "customers", "cus_missing"]) => stripe_error(
            404,
            json!({ "type": "invalid_request_error", "code": "resource_missing", "param": "id",
                    "message": "No such customer: 'cus_missing'" }),
        ),
        ("GET", ["v1", "customers", id]) => {
            axum::Json(json!({ "id": id, "object": "customer", "email": "a@example.com" })).into_response()
        }
        ("GET", ["v1", "checkout", "sessions", id, "line_items"]) => {
            line_items(id, uri.query().unwrap_or(""))
        }
        ("POST", ["v1", "payment_intents", id]) => {
            let form = reqwest::Url::parse(&format!("http://x/?{}", String::from_utf8_lossy(&body))).unwrap();
            let metadata: serde_json::Map<String, Value> = form
                .query_pairs()
                .filter_map(|(k, v)| {
                    k.strip_prefix("metadata[")?.strip_suffix(']').map(|k| (k.to_owned(), json!(v)))
                })
                .collect();
            axum::Json(json!({ "id": id, "object": "payment_intent", "metadata": metadata })).into_response()
        }
        _ => (StatusCode::IM_A_TEAPOT, "unexpected request").into_response(),
    }
}

/// `cs_test_paged` has two pages of lines (the second after `starting_after=li_2`); other sessions one line.
fn line_items(id: &str, query: &str) -> Response {
    let line = |n: u32, sku: Option<&str>| {
        let metadata = sku.map_or_else(|| json!({}), |sku| json!({ "sku": sku }));
        json!({ "id": format!("li_{n}"), "object": "item", "quantity": n, "amount_total": 1000 * n,
                "currency": "eur", "description": format!("Line {n}"),
                "price": { "id": format!("price_{n}"), "product": { "id": format!("prod_{n}"), "object": "product",
                                                                   "metadata": metadata } } })
    };
    let page = |data: Vec<Value>, has_more: bool| {
        axum::Json(json!({ "object": "list", "data": data, "has_more": has_more,
                           "url": format!("/v1/checkout/sessions/{id}/line_items") }))
        .into_response()
    };
    match id {
        "cs_test_paged" if query.contains("starting_after=li_2") => page(vec![line(3, None)], false),
        "cs_test_paged" => page(vec![line(1, Some("TEE-BLK-M")), line(2, Some("MUG-01"))], true),
        "cs_test_missing" => stripe_error(
            404,
            json!({ "type": "invalid_request_error", "code": "resource_missing", "message": "No such checkout.session" }),
        ),
        _ => page(vec![line(1, Some("TEE-BLK-M"))], false),
    }
}

fn pay(id: &str) -> Response {
    if let Some(code) = id.strip_prefix("in_decline_") {
        return stripe_error(
            402,
            json!({ "type": "card_error", "code": "card_declined", "decline_code": code,
                    "message": "Your card was declined.", "charge": "ch_1" }),
        );
    }
    if let Some(code) = id.strip_prefix("in_code_") {
        return stripe_error(
            402,
            json!({ "type": "card_error", "code": code, "message": "A card problem." }),
        );
    }
    match id {
        "in_ok" => invoice(id, "paid"),
        "in_open" => invoice(id, "open"),
        "in_advice" => stripe_error(
            402,
            json!({ "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
                    "advice_code": "do_not_try_again", "message": "Your card has insufficient funds." }),
        ),
        "in_status_429" => stripe_error(
            429,
            json!({ "type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests." }),
        ),
        "in_status_500" => {
            stripe_error(500, json!({ "type": "api_error", "message": "Something went wrong." }))
        }
        "in_status_503" => (StatusCode::SERVICE_UNAVAILABLE, "<html>upstream down</html>").into_response(),
        "in_status_404" => stripe_error(
            404,
            json!({ "type": "invalid_request_error", "code": "resource_missing",
                    "message": "No such invoice: 'in_status_404'" }),
        ),
        "in_status_401" => stripe_error(
            401,
            json!({ "type": "invalid_request_error", "message": format!("Invalid API Key provided: {API_KEY}") }),
        ),
        "in_idempotency" => stripe_error(
            400,
            json!({ "type": "idempotency_error",
                    "message": "Keys for idempotent requests can only be used with the same parameters." }),
        ),
        "in_already_paid" | "in_void" => stripe_error(
            400,
            json!({ "type": "invalid_request_error", "message": "Invoice is already paid" }),
        ),
        "in_not_json" => "OK".into_response(),
        _ => (StatusCode::IM_A_TEAPOT, "unknown invoice").into_response(),
    }
}

fn ok(outcome: CallOutcome) -> Value {
    match outcome {
        CallOutcome::Ok(value) => value,
        CallOutcome::Err { class, message } => panic!("expected Ok, got {class:?}: {message}"),
    }
}

fn err(outcome: CallOutcome) -> (ErrorClass, String) {
    match outcome {
        CallOutcome::Ok(value) => panic!("expected an error, got Ok({value})"),
        CallOutcome::Err { class, message } => {
            assert!(!message.contains(API_KEY), "the API key leaked: {message}");
            assert!(!message.contains('\n'), "{message}");
            (class, message)
        }
    }
}

async fn pay_invoice(connector: &StripeConnector, id: &str) -> CallOutcome {
    connector.call("pay_invoice", &json!({ "invoice": id }), KEY).await
}

#[tokio::test]
async fn pay_is_a_form_post_with_the_idempotency_key_and_bearer_auth() {
    let server = Server::start().await;
    let args = json!({ "invoice": "in_ok", "payment_method": "pm_card_visa", "off_session": true });
    let result = ok(server.connector().call("pay_invoice", &args, KEY).await);
    assert_eq!(result, json!({ "id": "in_ok", "object": "invoice", "status": "paid", "amount_due": 1200 }));

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/invoices/in_ok/pay");
    assert_eq!(request.query, None);
    assert_eq!(request.header("content-type").as_deref(), Some("application/x-www-form-urlencoded"));
    assert_eq!(request.header("idempotency-key").as_deref(), Some(KEY));
    assert_eq!(request.header("authorization"), Some(format!("Bearer {API_KEY}")));
    assert_eq!(request.header("stripe-version"), None);
    let mut form = request.form();
    form.sort();
    assert_eq!(
        form,
        vec![
            ("off_session".to_owned(), "true".to_owned()),
            ("payment_method".to_owned(), "pm_card_visa".to_owned())
        ]
    );
}

#[tokio::test]
async fn pay_without_options_sends_an_empty_form() {
    let server = Server::start().await;
    let args = json!({ "invoice": "in_ok", "payment_method": null, "off_session": "false" });
    ok(server.connector().call("pay_invoice", &args, KEY).await);
    ok(pay_invoice(&server.connector(), "in_ok").await);
    let seen = server.seen();
    assert_eq!(seen[0].body, "off_session=false");
    assert_eq!(seen[1].body, "");
    assert_eq!(seen[1].header("content-type").as_deref(), Some("application/x-www-form-urlencoded"));
    assert_eq!(seen[1].header("idempotency-key").as_deref(), Some(KEY));
}

#[tokio::test]
async fn the_stripe_version_is_sent_only_when_configured() {
    let server = Server::start().await;
    let connector = server.connector().with_stripe_version("2024-06-20");
    ok(pay_invoice(&connector, "in_ok").await);
    ok(connector.call("retrieve_customer", &json!({ "customer": "cus_1" }), KEY).await);
    ok(pay_invoice(&server.connector().with_stripe_version(""), "in_ok").await);
    let seen = server.seen();
    assert_eq!(seen[0].header("stripe-version").as_deref(), Some("2024-06-20"));
    assert_eq!(seen[1].header("stripe-version").as_deref(), Some("2024-06-20"));
    assert_eq!(seen[2].header("stripe-version"), None);
}

#[tokio::test]
async fn an_unpaid_invoice_after_pay_is_ok_for_until_to_judge() {
    let server = Server::start().await;
    let result = ok(pay_invoice(&server.connector(), "in_open").await);
    assert_eq!(result["status"], "open");
}

#[tokio::test]
async fn send_invoice_is_a_post_with_the_idempotency_key() {
    let server = Server::start().await;
    let result = ok(server.connector().call("send_invoice", &json!({ "invoice": "in_1" }), KEY).await);
    assert_eq!(result["id"], "in_1");
    let seen = server.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/v1/invoices/in_1/send");
    assert_eq!(seen[0].header("idempotency-key").as_deref(), Some(KEY));
    assert_eq!(seen[0].header("content-type").as_deref(), Some("application/x-www-form-urlencoded"));
}

#[tokio::test]
async fn retrieves_are_gets_without_a_body() {
    let server = Server::start().await;
    let connector = server.connector();
    let invoice = ok(connector.call("retrieve_invoice", &json!({ "invoice": "in_42" }), KEY).await);
    assert_eq!(invoice["object"], "invoice");
    assert_eq!(invoice["status"], "open");
    let customer = ok(connector.call("retrieve_customer", &json!({ "customer": "cus_9" }), KEY).await);
    assert_eq!(customer, json!({ "id": "cus_9", "object": "customer", "email": "a@example.com" }));

    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("GET", "/v1/invoices/in_42"));
    assert_eq!((seen[1].method.as_str(), seen[1].path.as_str()), ("GET", "/v1/customers/cus_9"));
    for request in &seen {
        assert_eq!(request.body, "");
        assert_eq!(request.header("content-type"), None);
        assert_eq!(request.header("idempotency-key"), None);
        assert_eq!(request.header("authorization"), Some(format!("Bearer {API_KEY}")));
    }

    let (class, message) =
        err(connector.call("retrieve_customer", &json!({ "customer": "cus_missing" }), KEY).await);
    assert_eq!(class, REQUEST, "{message}");
    assert!(message.contains("404") && message.contains("resource_missing"), "{message}");
    assert!(message.contains("No such customer"), "{message}");
}

#[tokio::test]
async fn hard_declines_are_fatal() {
    let server = Server::start().await;
    let connector = server.connector();
    for code in [
        "expired_card",
        "lost_card",
        "stolen_card",
        "incorrect_number",
        "invalid_number",
        "pickup_card",
        "restricted_card",
        "do_not_honor",
        "fraudulent",
        "transaction_not_allowed",
        "authentication_required",
    ] {
        let (class, message) = err(pay_invoice(&connector, &format!("in_decline_{code}")).await);
        assert_eq!(class, HARD, "{code}: {message}");
        for part in [
            "pay_invoice",
            "402",
            "card_error",
            "card_declined",
            code,
            "Your card was declined.",
            "req_mock123",
        ] {
            assert!(message.contains(part), "{part} missing from: {message}");
        }
    }
    for code in ["expired_card", "incorrect_number", "incorrect_cvc"] {
        let (class, message) = err(pay_invoice(&connector, &format!("in_code_{code}")).await);
        assert_eq!(class, HARD, "{code}: {message}");
    }
    let (class, message) = err(pay_invoice(&connector, "in_advice").await);
    assert_eq!(class, HARD, "an advice code of do_not_try_again wins: {message}");
    assert!(message.contains("advice_code do_not_try_again"), "{message}");
}

#[tokio::test]
async fn soft_declines_are_retryable() {
    let server = Server::start().await;
    let connector = server.connector();
    for code in [
        "insufficient_funds",
        "processing_error",
        "try_again_later",
        "issuer_not_available",
        "generic_decline",
        "card_velocity_exceeded",
        "a_code_stripe_adds_later",
    ] {
        let (class, message) = err(pay_invoice(&connector, &format!("in_decline_{code}")).await);
        assert_eq!(class, SOFT, "{code}: {message}");
        assert!(message.contains(code), "{message}");
    }
    // `code: processing_error` with no decline code.
    let (class, message) = err(pay_invoice(&connector, "in_code_processing_error").await);
    assert_eq!(class, SOFT, "{message}");
    assert!(message.contains("A card problem."), "{message}");
}

#[tokio::test]
async fn http_errors_are_classified() {
    let server = Server::start().await;
    let connector = server.connector();
    let cases = [
        ("in_status_429", ErrorClass::Retryable(ErrorKind::RateLimited), "HTTP 429"),
        ("in_status_500", ErrorClass::Retryable(ErrorKind::ServerError), "api_error: Something went wrong."),
        (
            "in_status_503",
            ErrorClass::Retryable(ErrorKind::ServerError),
            "HTTP 503 <html>upstream down</html>",
        ),
        ("in_status_404", REQUEST, "invalid_request_error (code resource_missing): No such invoice"),
        ("in_idempotency", REQUEST, "HTTP 400 idempotency_error: Keys for idempotent requests"),
        ("in_status_401", REQUEST, "HTTP 401 invalid_request_error: Invalid API Key provided: [redacted]"),
    ];
    for (id, expected, part) in cases {
        let (class, message) = err(pay_invoice(&connector, id).await);
        assert_eq!(class, expected, "{id}: {message}");
        assert!(message.contains(part), "{part} missing from: {message}");
        assert!(message.contains(&format!("POST /v1/invoices/{id}/pay")), "{message}");
    }
}

#[tokio::test]
async fn paying_a_paid_invoice_returns_the_paid_invoice() {
    let server = Server::start().await;
    let result = ok(pay_invoice(&server.connector(), "in_already_paid").await);
    assert_eq!(result["status"], "paid");
    let seen = server.seen();
    let calls: Vec<(&str, &str)> = seen.iter().map(|s| (s.method.as_str(), s.path.as_str())).collect();
    assert_eq!(
        calls,
        [("POST", "/v1/invoices/in_already_paid/pay"), ("GET", "/v1/invoices/in_already_paid")]
    );

    // When the invoice is not paid, the 400 stands and says the invoice's status.
    let (class, message) = err(pay_invoice(&server.connector(), "in_void").await);
    assert_eq!(class, REQUEST, "{message}");
    assert!(message.contains("Invoice is already paid") && message.contains("status is `open`"), "{message}");
}

#[tokio::test]
async fn a_2xx_that_is_not_a_json_object_is_a_server_error() {
    let server = Server::start().await;
    let (class, message) = err(pay_invoice(&server.connector(), "in_not_json").await);
    assert_eq!(class, ErrorClass::Retryable(ErrorKind::ServerError), "{message}");
    assert!(message.contains("HTTP 200") && message.contains("not a JSON object"), "{message}");
}

#[tokio::test]
async fn a_refused_connection_is_a_retryable_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let connector = StripeConnector::new(format!("http://{addr}"), API_KEY, Duration::from_secs(10));
    let (class, message) = err(pay_invoice(&connector, "in_ok").await);
    assert_eq!(class, ErrorClass::Retryable(ErrorKind::Network), "{message}");
    assert!(message.contains("POST /v1/invoices/in_ok/pay"), "{message}");
}

#[tokio::test]
async fn bad_ids_and_arguments_make_no_request() {
    let server = Server::start().await;
    let connector = server.connector();
    let cases = [
        ("pay_invoice", json!({ "invoice": "in_1/../../v1/charges" })),
        ("pay_invoice", json!({ "invoice": "in_1?expand=x" })),
        ("pay_invoice", json!({ "invoice": "cus_1" })),
        ("pay_invoice", json!({ "invoice": "" })),
        ("pay_invoice", json!({ "invoice": "in_" })),
        ("pay_invoice", json!({ "invoice": 7 })),
        ("pay_invoice", json!({})),
        ("pay_invoice", json!("in_1")),
        ("pay_invoice", json!({ "invoice": "in_1", "amount": 5 })),
        ("pay_invoice", json!({ "invoice": "in_1", "off_session": "yes" })),
        ("pay_invoice", json!({ "invoice": "in_1", "payment_method": "pm_1&amount=1" })),
        ("send_invoice", json!({ "invoice": "in_1%2Fpay" })),
        ("retrieve_invoice", json!({ "invoice": "in_1/lines" })),
        ("retrieve_customer", json!({ "customer": "in_1" })),
        ("retrieve_customer", json!({ "invoice": "in_1" })),
    ];
    for (action, args) in cases {
        let (class, message) = err(connector.call(action, &args, KEY).await);
        assert_eq!(class, REQUEST, "{action} {args}: {message}");
        assert!(message.contains("no request was made"), "{message}");
    }
    assert_eq!(server.seen().len(), 0);
}

#[tokio::test]
async fn an_unknown_action_lists_the_actions() {
    let server = Server::start().await;
    for action in ["refund", "", "stripe.pay_invoice", "PAY_INVOICE"] {
        let (class, message) =
            err(server.connector().call(action, &json!({ "invoice": "in_ok" }), KEY).await);
        assert_eq!(class, REQUEST, "{message}");
        for known in ACTIONS {
            assert!(message.contains(&format!("stripe.{known}")), "{known} missing from: {message}");
        }
    }
    assert_eq!(server.seen().len(), 0);
}

#[tokio::test]
async fn configuration_problems_fail_every_call_without_a_request() {
    let server = Server::start().await;
    let no_key = StripeConnector::new(server.url(""), "  ", Duration::from_secs(10));
    let (class, message) = err(pay_invoice(&no_key, "in_ok").await);
    assert_eq!(class, REQUEST);
    assert!(message.contains("API key"), "{message}");

    let cleartext = StripeConnector::new("http://api.stripe.com", API_KEY, Duration::from_secs(10));
    let (class, message) = err(pay_invoice(&cleartext, "in_ok").await);
    assert_eq!(class, REQUEST);
    assert!(message.contains("https://"), "{message}");
    assert_eq!(server.seen().len(), 0);
}

#[tokio::test]
async fn a_base_url_path_is_a_prefix() {
    let server = Server::start().await;
    let connector = StripeConnector::new(server.url("/proxy/"), API_KEY, Duration::from_secs(10));
    ok(pay_invoice(&connector, "in_ok").await);
    assert_eq!(server.seen()[0].path, "/proxy/v1/invoices/in_ok/pay");
}

#[tokio::test]
async fn checkout_line_items_reads_every_page_with_each_lines_sku() {
    let server = Server::start().await;
    let result =
        ok(server.connector().call("checkout_line_items", &json!({ "session": "cs_test_paged" }), KEY).await);
    assert_eq!(
        result,
        json!({ "lines": [
            { "sku": "TEE-BLK-M", "quantity": 1, "amount_total": 1000, "currency": "eur", "description": "Line 1", "product": "prod_1" },
            { "sku": "MUG-01", "quantity": 2, "amount_total": 2000, "currency": "eur", "description": "Line 2", "product": "prod_2" },
            { "sku": null, "quantity": 3, "amount_total": 3000, "currency": "eur", "description": "Line 3", "product": "prod_3" },
        ] })
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("GET", "/v1/checkout/sessions/cs_test_paged/line_items")
        );
        assert_eq!(request.header("idempotency-key"), None);
        assert_eq!(request.header("authorization"), Some(format!("Bearer {API_KEY}")));
    }
    let pairs = |query: &Option<String>| {
        let url = reqwest::Url::parse(&format!("http://x/?{}", query.clone().unwrap_or_default())).unwrap();
        url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect::<Vec<_>>()
    };
    let limit = ("limit".to_owned(), "100".to_owned());
    let expand = ("expand[]".to_owned(), "data.price.product".to_owned());
    assert_eq!(pairs(&seen[0].query), vec![limit.clone(), expand.clone()]);
    assert_eq!(pairs(&seen[1].query), vec![limit, expand, ("starting_after".to_owned(), "li_2".to_owned())]);

    let (class, message) = err(server
        .connector()
        .call("checkout_line_items", &json!({ "session": "cs_test_missing" }), KEY)
        .await);
    assert_eq!(class, REQUEST);
    assert!(message.contains("resource_missing"), "{message}");
}

#[tokio::test]
async fn update_payment_intent_sets_metadata_keys_with_the_idempotency_key() {
    let server = Server::start().await;
    let args = json!({ "payment_intent": "pi_3Seam", "metadata": {
        "seam_3pl_order": 9_007_199_254_740_993_u64, "seam_status": "handed_to_3pl", "seam_partial": false, "old": null } });
    let result = ok(server.connector().call("update_payment_intent", &args, KEY).await);
    assert_eq!(result["object"], "payment_intent");
    assert_eq!(result["metadata"]["seam_3pl_order"], "9007199254740993");
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", "/v1/payment_intents/pi_3Seam"));
    assert_eq!(seen[0].header("idempotency-key").as_deref(), Some(KEY));
    assert_eq!(seen[0].header("content-type").as_deref(), Some("application/x-www-form-urlencoded"));
    let mut form = seen[0].form();
    form.sort();
    assert_eq!(
        form,
        vec![
            ("metadata[old]".to_owned(), String::new()),
            ("metadata[seam_3pl_order]".to_owned(), "9007199254740993".to_owned()),
            ("metadata[seam_partial]".to_owned(), "false".to_owned()),
            ("metadata[seam_status]".to_owned(), "handed_to_3pl".to_owned()),
        ]
    );

    for bad in [
        json!({ "payment_intent": "pi_1" }),
        json!({ "payment_intent": "pi_1", "metadata": {} }),
        json!({ "payment_intent": "pi_1", "metadata": "a=b" }),
        json!({ "payment_intent": "pi_1", "metadata": { "a[b]": "x" } }),
        json!({ "payment_intent": "pi_1", "metadata": { "k": { "nested": 1 } } }),
        json!({ "payment_intent": "pi_1", "metadata": { "k": "v".repeat(501) } }),
        json!({ "payment_intent": "pi_1", "metadata": { "k".repeat(41): "v" } }),
        json!({ "payment_intent": "in_1", "metadata": { "k": "v" } }),
        json!({ "payment_intent": "pi_1/../x", "metadata": { "k": "v" } }),
    ] {
        let (class, message) = err(server.connector().call("update_payment_intent", &bad, KEY).await);
        assert_eq!(class, REQUEST, "{bad}: {message}");
        assert!(message.contains("no request was made"), "{message}");
    }
    let (class, _) =
        err(server.connector().call("checkout_line_items", &json!({ "session": "pi_1" }), KEY).await);
    assert_eq!(class, REQUEST);
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn debug_never_shows_the_key() {
    let connector =
        StripeConnector::new("", API_KEY, Duration::from_secs(10)).with_stripe_version("2024-06-20");
    let text = format!("{connector:?}");
    assert!(!text.contains(API_KEY), "{text}");
    assert!(text.contains("https://api.stripe.com/") && text.contains("2024-06-20"), "{text}");
    assert_eq!(connector.timeout(), Duration::from_secs(10));
}

/// A Stripe stand-in for the credentials check: the bearer key picks the answer.
async fn credentials_server() -> (String, Log) {
    async fn answer(State(log): State<Log>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
        log.lock().unwrap().push(Seen {
            method: method.to_string(),
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            headers: headers.clone(),
            body: String::new(),
        });
        let key = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
        match key.strip_prefix("Bearer ").unwrap_or_default() {
            "sk_test_good" => {
                axum::Json(json!({ "object": "list", "data": [], "has_more": false })).into_response()
            }
            "rk_test_narrow" => stripe_error(
                403,
                json!({ "type": "invalid_request_error",
                        "message": "The provided key 'rk_test_****rrow' does not have the required permissions" }),
            ),
            "sk_test_busy" => {
                stripe_error(500, json!({ "type": "api_error", "message": "Something went wrong." }))
            }
            given => stripe_error(
                401,
                json!({ "type": "invalid_request_error", "message": format!("Invalid API Key provided: {given}") }),
            ),
        }
    }
    let log: Log = Arc::default();
    let app = Router::new().fallback(answer).with_state(Arc::clone(&log));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, log)
}

#[tokio::test]
async fn check_credentials_asks_for_one_invoice_and_sorts_the_answers() {
    use seam_connectors::stripe::CredentialsError;
    let (url, log) = credentials_server().await;
    let check = |key: &str| StripeConnector::new(url.clone(), key, Duration::from_secs(10));

    assert_eq!(check("sk_test_good").check_credentials().await, Ok(()));
    let seen = log.lock().unwrap()[0].clone();
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("GET", "/v1/invoices"));
    assert_eq!(seen.query.as_deref(), Some("limit=1"));
    assert_eq!(seen.header("authorization").as_deref(), Some("Bearer sk_test_good"));
    assert_eq!(seen.header("idempotency-key"), None);

    let wrong = "sk_test_51WrongKeyEchoedBack";
    let error = check(wrong).check_credentials().await.unwrap_err();
    assert_eq!(error, CredentialsError::Rejected);
    assert!(!error.to_string().contains("WrongKey"), "{error}");
    assert_eq!(check("rk_test_narrow").check_credentials().await, Err(CredentialsError::NotPermitted));
    match check("sk_test_busy").check_credentials().await {
        Err(CredentialsError::Unexpected { status: 500, message }) => {
            assert!(
                message.contains("GET /v1/invoices?limit=1") && message.contains("api_error"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = StripeConnector::new(closed_url, "sk_test_good", Duration::from_secs(10));
    assert!(matches!(unreachable.check_credentials().await, Err(CredentialsError::Unreachable(_))));

    // Nothing to ask with: no request is made.
    let requests = log.lock().unwrap().len();
    let no_key = StripeConnector::new(url.clone(), " ", Duration::from_secs(10)).check_credentials().await;
    assert!(
        matches!(no_key, Err(CredentialsError::Config(ref m)) if m.contains("no Stripe API key")),
        "{no_key:?}"
    );
    let cleartext = StripeConnector::new("http://api.stripe.com", "sk_test_good", Duration::from_secs(10));
    assert!(matches!(cleartext.check_credentials().await, Err(CredentialsError::Config(_))));
    assert_eq!(log.lock().unwrap().len(), requests);
}
