//! The sandbox over real HTTP on 127.0.0.1: renewals, seeded outcomes, `pay`, idempotency, signed webhooks with
//! retries, admin actions and counters. Nothing here asserts on timing; waits are bounded by generous timeouts.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use seam_connectors::verify::{SourceKind, Verifier};
use seam_sandbox::{
    DeliveryOrder, DeliveryStatus, HARD_DECLINES, Outcome, RenewalRequest, RunningSandbox, SOFT_DECLINES,
    SandboxConfig, Scenario, start,
};
use serde_json::{Value, json};

const SECRET: &str = "whsec_sandbox_test";
const WAIT: Duration = Duration::from_secs(60);

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

/// One webhook delivery as the receiver saw it.
#[derive(Debug, Clone)]
struct Received {
    event: Value,
    signature_ok: bool,
    answered: u16,
}

/// A webhook receiver on port 0 that verifies every delivery with Seam's own verifier and answers from a script
/// of statuses (then 200).
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

#[derive(Clone)]
struct ReceiverState {
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

async fn receive(State(state): State<ReceiverState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let verifier = Verifier::new(SourceKind::Stripe, [SECRET]);
    let signature_ok = verifier.verify(&headers, &body, now()).is_ok();
    let answered = state.script.lock().unwrap().pop_front().unwrap_or(200);
    let event: Value = serde_json::from_slice(&body).unwrap();
    state.got.lock().unwrap().push(Received { event, signature_ok, answered });
    StatusCode::from_u16(answered).unwrap()
}

impl Receiver {
    async fn start(script: &[u16]) -> Receiver {
        let got = Arc::new(Mutex::new(Vec::new()));
        let state = ReceiverState {
            got: Arc::clone(&got),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
        };
        let app = Router::new().fallback(receive).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks/stripe", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, got }
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn fast_config(seed: u64) -> SandboxConfig {
    SandboxConfig {
        webhook_retry_delays: vec![Duration::from_millis(20); 4],
        ..SandboxConfig::new(seed, SECRET)
    }
}

async fn sandbox(config: SandboxConfig) -> RunningSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    start(config, listener).await.unwrap()
}

async fn renew(http: &reqwest::Client, base: &str, request: Value) -> Vec<Value> {
    let response = http.post(format!("{base}/_sandbox/renewals")).json(&request).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "list");
    body["data"].as_array().unwrap().clone()
}

async fn renew_one(http: &reqwest::Client, base: &str, outcome: &str) -> String {
    let invoices = renew(http, base, json!({ "amount": 4900, "currency": "usd", "outcome": outcome })).await;
    invoices[0]["id"].as_str().unwrap().to_owned()
}

/// `POST /v1/invoices/{id}/pay` with an optional key and a form body: (status, body, headers).
async fn pay(
    http: &reqwest::Client,
    base: &str,
    invoice: &str,
    key: Option<&str>,
    body: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = http
        .post(format!("{base}/v1/invoices/{invoice}/pay"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.json().await.unwrap(), headers)
}

fn is_hard(code: &str) -> bool {
    HARD_DECLINES.iter().any(|(d, _)| d.decline_code == code)
}

fn is_soft(code: &str) -> bool {
    SOFT_DECLINES.iter().any(|(d, _)| d.decline_code == code)
}

#[tokio::test]
async fn a_renewal_emits_a_signed_payment_failed_event_that_seams_verifier_accepts() {
    let receiver = Receiver::start(&[]).await;
    let sb = sandbox(SandboxConfig { webhook_url: Some(receiver.url.clone()), ..fast_config(1) }).await;
    let http = client();
    let invoices = renew(
        &http,
        &sb.url(),
        json!({
            "amount": 4900,
            "currency": "usd",
            "email": "ada@example.com",
            "customer_timezone": "Europe/Berlin"
        }),
    )
    .await;
    assert_eq!(invoices.len(), 1);
    let invoice = &invoices[0];
    assert!(invoice["id"].as_str().unwrap().starts_with("in_"));
    assert_eq!(invoice["object"], "invoice");
    assert_eq!(invoice["number"], "SEAM-0001");
    assert_eq!(invoice["status"], "open");
    assert_eq!(invoice["billing_reason"], "subscription_cycle");
    assert_eq!(invoice["collection_method"], "charge_automatically");
    assert_eq!(invoice["amount_due"], 4900);
    assert_eq!(invoice["amount_paid"], 0);
    assert_eq!(invoice["currency"], "usd");
    assert_eq!(invoice["attempt_count"], 1);
    assert_eq!(invoice["attempted"], true);
    assert_eq!(invoice["paid"], false);
    // Stripe's automatic retries are off unless the renewal asks for them: nothing is scheduled.
    assert_eq!(invoice["next_payment_attempt"], Value::Null);
    assert!(invoice["charge"].as_str().unwrap().starts_with("ch_"));

    let customer_id = invoice["customer"].as_str().unwrap();
    let customer: Value = http
        .get(format!("{}/v1/customers/{customer_id}", sb.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(customer["object"], "customer");
    assert_eq!(customer["email"], "ada@example.com");
    assert_eq!(customer["metadata"]["timezone"], "Europe/Berlin");
    assert_eq!(customer["delinquent"], true);

    assert!(sb.state().settle(WAIT).await, "delivery did not settle");
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    assert!(got[0].signature_ok, "Seam's Stripe verifier rejected the sandbox's signature");
    let event = &got[0].event;
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(event["object"], "event");
    assert_eq!(event["type"], "invoice.payment_failed");
    assert_eq!(event["api_version"], seam_sandbox::API_VERSION);
    assert_eq!(event["livemode"], false);
    assert!(event["created"].as_i64().unwrap() > 0);
    assert_eq!(event["request"]["id"], Value::Null, "Stripe's automatic attempt has no request");
    assert_eq!(&event["data"]["object"], invoice);

    // The charge behind the failure says why.
    let charge_id = invoice["charge"].as_str().unwrap();
    let charge: Value =
        http.get(format!("{}/v1/charges/{charge_id}", sb.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(charge["status"], "failed");
    assert!(
        is_soft(charge["outcome"]["reason"].as_str().unwrap())
            || is_hard(charge["outcome"]["reason"].as_str().unwrap())
    );

    let events = sb.state().events();
    assert_eq!(events[0].delivery, DeliveryStatus::Delivered);
    assert_eq!(events[0].attempts.len(), 1);
    sb.stop().await;
}

#[tokio::test]
async fn the_same_seed_tells_the_same_story() {
    let http = client();
    let mut stories = Vec::new();
    for seed in [42, 42, 43] {
        let sb = sandbox(fast_config(seed)).await;
        let invoices = renew(&http, &sb.url(), json!({ "count": 16 })).await;
        let mut story = Vec::new();
        for (invoice, summary) in invoices.iter().zip(sb.state().invoices()) {
            let id = invoice["id"].as_str().unwrap();
            let (status, body, _) = pay(&http, &sb.url(), id, None, "").await;
            let code = body["error"]["decline_code"].as_str().unwrap_or("-").to_owned();
            story.push((
                summary.outcome,
                invoice["amount_due"].clone(),
                invoice["customer_email"].clone(),
                summary.hard_decline_code,
                status,
                code,
            ));
        }
        stories.push(story);
        sb.stop().await;
    }
    assert_eq!(stories[0], stories[1], "same seed, different story");
    assert_ne!(stories[0], stories[2], "another seed should tell another story");
    // The story itself follows the outcomes.
    for (outcome, _, _, hard, status, code) in &stories[0] {
        match outcome {
            Outcome::RecoverOn2 => assert_eq!(*status, 200),
            Outcome::HardDecline => assert_eq!((*status, Some(code.as_str())), (402, *hard)),
            Outcome::RecoverOn3 | Outcome::Never => assert!(*status == 402 && is_soft(code)),
        }
    }
    // And it matches the pure function the CLI can use to predict it.
    let scenario = Scenario::default();
    for (index, (outcome, ..)) in stories[0].iter().enumerate() {
        assert_eq!(*outcome, scenario.outcome(42, index as u64));
    }
}

#[tokio::test]
async fn recover_on_2_pays_on_the_first_pay_call_and_recover_on_3_on_the_second() {
    let receiver = Receiver::start(&[]).await;
    let sb = sandbox(SandboxConfig { webhook_url: Some(receiver.url.clone()), ..fast_config(5) }).await;
    let http = client();
    let base = sb.url();

    let on2 = renew_one(&http, &base, "recover_on_2").await;
    let (status, invoice, _) = pay(&http, &base, &on2, Some("k-on2-1"), "").await;
    assert_eq!(status, 200, "{invoice}");
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["paid"], true);
    assert_eq!(invoice["amount_paid"], 4900);
    assert_eq!(invoice["amount_remaining"], 0);
    assert_eq!(invoice["next_payment_attempt"], Value::Null);
    assert!(invoice["status_transitions"]["paid_at"].as_i64().is_some());

    let on3 = renew_one(&http, &base, "recover_on_3").await;
    let (status, body, _) = pay(&http, &base, &on3, Some("k-on3-1"), "").await;
    assert_eq!(status, 402);
    assert_eq!(body["error"]["type"], "card_error");
    assert!(is_soft(body["error"]["decline_code"].as_str().unwrap()), "{body}");
    let (status, invoice, _) = pay(&http, &base, &on3, Some("k-on3-2"), "").await;
    assert_eq!(status, 200);
    assert_eq!(invoice["status"], "paid");
    // Manual attempts after the first do not raise Stripe's attempt_count.
    assert_eq!(invoice["attempt_count"], 1);

    assert!(sb.state().settle(WAIT).await);
    let types_for = |id: &str| -> Vec<String> {
        receiver
            .got()
            .iter()
            .filter(|r| r.event["data"]["object"]["id"] == id)
            .map(|r| r.event["type"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut on2_types = types_for(&on2);
    on2_types.sort();
    assert_eq!(on2_types, ["invoice.paid", "invoice.payment_failed", "invoice.payment_succeeded"]);
    let mut on3_types = types_for(&on3);
    on3_types.sort();
    assert_eq!(
        on3_types,
        ["invoice.paid", "invoice.payment_failed", "invoice.payment_failed", "invoice.payment_succeeded"]
    );
    // API-caused events name the request and its key.
    let paid = receiver
        .got()
        .into_iter()
        .find(|r| r.event["type"] == "invoice.paid" && r.event["data"]["object"]["id"] == on2.as_str())
        .unwrap();
    assert_eq!(paid.event["request"]["idempotency_key"], "k-on2-1");
    assert!(paid.event["request"]["id"].as_str().unwrap().starts_with("req_"));
    assert_eq!(paid.event["data"]["object"]["status"], "paid");
    assert!(receiver.got().iter().all(|r| r.signature_ok));
    sb.stop().await;
}

#[tokio::test]
async fn a_hard_decline_never_pays_and_always_gives_its_code() {
    let sb = sandbox(fast_config(9)).await;
    let http = client();
    let id = renew_one(&http, &sb.url(), "hard_decline").await;
    let hard = sb.state().invoices()[0].hard_decline_code.unwrap();
    assert!(is_hard(hard));
    for n in 0..5 {
        let (status, body, headers) = pay(&http, &sb.url(), &id, Some(&format!("hard-{n}")), "").await;
        assert_eq!(status, 402);
        let error = &body["error"];
        assert_eq!(error["type"], "card_error");
        assert_eq!(error["decline_code"], hard);
        assert!(
            ["card_declined", "expired_card", "incorrect_number"].contains(&error["code"].as_str().unwrap())
        );
        assert!(["do_not_try_again", "confirm_card_data"].contains(&error["advice_code"].as_str().unwrap()));
        assert!(error["message"].as_str().unwrap().starts_with("Your card"));
        assert!(error["doc_url"].as_str().unwrap().starts_with("https://stripe.com/docs/error-codes/"));
        assert!(error["charge"].as_str().unwrap().starts_with("ch_"));
        assert!(headers["request-id"].to_str().unwrap().starts_with("req_"));
    }
    let invoice = sb.state().invoice(&id).unwrap();
    assert_eq!(invoice["status"], "open");
    assert_eq!(invoice["attempt_count"], 1);
    assert_eq!(sb.state().invoices()[0].charge_attempts, 6);
    // No webhook configured: the events are listed, not delivered.
    let events = sb.state().events();
    assert_eq!(events.len(), 6);
    assert!(
        events
            .iter()
            .all(|e| e.delivery == DeliveryStatus::NotConfigured && e.event_type == "invoice.payment_failed")
    );
    sb.stop().await;
}

#[tokio::test]
async fn the_same_key_replays_the_same_answer_without_a_new_attempt() {
    let sb = sandbox(fast_config(11)).await;
    let http = client();
    let base = sb.url();
    let never = renew_one(&http, &base, "never").await;
    let events_before = sb.state().events().len();

    let (status1, body1, headers1) = pay(&http, &base, &never, Some("seam-run_1-retry-1"), "").await;
    assert_eq!(status1, 402);
    assert!(headers1.get("idempotent-replayed").is_none());
    let (status2, body2, headers2) = pay(&http, &base, &never, Some("seam-run_1-retry-1"), "").await;
    assert_eq!((status2, &body2), (status1, &body1), "a replay must be the same answer");
    assert_eq!(headers2["idempotent-replayed"], "true");
    assert_eq!(headers2["original-request"], headers1["request-id"]);
    assert_eq!(sb.state().events().len(), events_before + 1, "a replay emits nothing");
    assert_eq!(sb.state().invoices()[0].charge_attempts, 2, "a replay is not an attempt");

    // A successful answer is replayed too, even though the invoice is paid by now.
    let on2 = renew_one(&http, &base, "recover_on_2").await;
    let (s1, b1, _) = pay(&http, &base, &on2, Some("seam-run_2-retry-1"), "expand[]=lines").await;
    let (s2, b2, _) = pay(&http, &base, &on2, Some("seam-run_2-retry-1"), "expand[]=lines").await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(b1, b2);
    // Without the key the same request is a new one: the invoice is paid now.
    let (s3, b3, _) = pay(&http, &base, &on2, None, "expand[]=lines").await;
    assert_eq!(s3, 400);
    assert_eq!(b3["error"]["type"], "invalid_request_error");
    assert_eq!(b3["error"]["code"], "invoice_already_paid");

    let calls = sb.state().key_calls("seam-run_1-retry-1").unwrap();
    assert_eq!(calls.calls, 2);
    assert_eq!(calls.bodies, [""]);
    assert_eq!(calls.status, Some(402));
    sb.stop().await;
}

#[tokio::test]
async fn the_same_key_with_another_body_or_endpoint_is_an_idempotency_error() {
    let sb = sandbox(fast_config(12)).await;
    let http = client();
    let base = sb.url();
    let a = renew_one(&http, &base, "never").await;
    let b = renew_one(&http, &base, "never").await;

    let (status, _, _) = pay(&http, &base, &a, Some("key-1"), "forgive=false").await;
    assert_eq!(status, 402);
    let (status, body, _) = pay(&http, &base, &a, Some("key-1"), "forgive=true").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "idempotency_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("same parameters"), "{body}");
    // The order of the parameters does not matter.
    let (s1, _, _) = pay(&http, &base, &a, Some("key-2"), "forgive=false&off_session=true").await;
    let (s2, _, h2) = pay(&http, &base, &a, Some("key-2"), "off_session=true&forgive=false").await;
    assert_eq!((s1, s2), (402, 402));
    assert_eq!(h2["idempotent-replayed"], "true");
    // Another invoice with the same key is another endpoint.
    let (status, body, _) = pay(&http, &base, &b, Some("key-1"), "forgive=false").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "idempotency_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("same endpoint"), "{body}");

    // A request that fails validation saves nothing: the key can then be used for a valid request.
    let (status, body, _) = pay(&http, &base, &b, Some("key-3"), "colour=blue").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "parameter_unknown");
    assert_eq!(body["error"]["param"], "colour");
    let (status, _, headers) = pay(&http, &base, &b, Some("key-3"), "").await;
    assert_eq!(status, 402);
    assert!(headers.get("idempotent-replayed").is_none());

    let calls = sb.state().calls();
    assert_eq!(calls.by_key["key-1"].calls, 3);
    assert_eq!(calls.by_key["key-1"].bodies, ["forgive=false", "forgive=true"]);
    assert_eq!(calls.by_key["key-3"].bodies, ["colour=blue", ""]);
    // Charges: key-1 once, key-2 once, key-3 once.
    assert_eq!(calls.charge_attempts, 3);
    sb.stop().await;
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_event_on_the_third_try() {
    let receiver = Receiver::start(&[500, 500]).await;
    let sb = sandbox(SandboxConfig { webhook_url: Some(receiver.url.clone()), ..fast_config(13) }).await;
    let http = client();
    renew_one(&http, &sb.url(), "never").await;
    assert!(sb.state().settle(WAIT).await);

    let got = receiver.got();
    assert_eq!(got.iter().map(|r| r.answered).collect::<Vec<_>>(), [500, 500, 200]);
    assert!(got.iter().all(|r| r.signature_ok));
    assert!(got.windows(2).all(|w| w[0].event == w[1].event), "every try carries the same event");
    let event = &sb.state().events()[0];
    assert_eq!(event.delivery, DeliveryStatus::Delivered);
    assert_eq!(
        event.attempts.iter().map(|a| a.status).collect::<Vec<_>>(),
        [Some(500), Some(500), Some(200)]
    );
    assert_eq!(event.attempts.iter().map(|a| a.n).collect::<Vec<_>>(), [1, 2, 3]);
    sb.stop().await;
}

#[tokio::test]
async fn an_unreachable_receiver_is_retried_then_given_up() {
    // A port that was just free: nothing listens there.
    let url = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}/hook", listener.local_addr().unwrap())
    };
    let config = SandboxConfig {
        webhook_url: Some(url),
        webhook_retry_delays: vec![Duration::from_millis(5); 2],
        ..SandboxConfig::new(14, SECRET)
    };
    let sb = sandbox(config).await;
    sb.state()
        .create_renewals(&RenewalRequest { outcome: Some(Outcome::Never), ..Default::default() })
        .unwrap();
    assert!(sb.state().settle(WAIT).await);
    let event = &sb.state().events()[0];
    assert_eq!(event.delivery, DeliveryStatus::Failed);
    assert_eq!(event.attempts.len(), 3);
    assert!(event.attempts.iter().all(|a| a.status.is_none() && a.error.is_some()));
    sb.stop().await;
}

#[tokio::test]
async fn ordered_delivery_keeps_the_emission_order() {
    let receiver = Receiver::start(&[503]).await;
    let config = SandboxConfig {
        webhook_url: Some(receiver.url.clone()),
        delivery: DeliveryOrder::Ordered,
        ..fast_config(15)
    };
    let sb = sandbox(config).await;
    let http = client();
    let handle = sb.state();
    let invoices = renew(&http, &sb.url(), json!({ "count": 5, "outcome": "recover_on_2" })).await;
    for invoice in &invoices {
        let (status, _, _) = pay(&http, &sb.url(), invoice["id"].as_str().unwrap(), None, "").await;
        assert_eq!(status, 200);
    }
    assert!(handle.settle(WAIT).await);
    let emitted: Vec<String> = handle.events().iter().map(|e| e.id.clone()).collect();
    let mut delivered: Vec<String> = Vec::new();
    for r in receiver.got() {
        if r.answered == 200 {
            delivered.push(r.event["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(emitted.len(), 15);
    assert_eq!(delivered, emitted, "ordered delivery must follow emission order, even across a retry");
    sb.stop().await;
}

#[tokio::test]
async fn counters_count_every_call_per_key() {
    let sb = sandbox(fast_config(16)).await;
    let http = client();
    let base = sb.url();
    let id = renew_one(&http, &base, "recover_on_3").await;
    pay(&http, &base, &id, Some("a"), "").await; // attempt 2: declined
    pay(&http, &base, &id, Some("a"), "").await; // replay
    pay(&http, &base, &id, Some("a"), "").await; // replay
    pay(&http, &base, &id, Some("b"), "").await; // attempt 3: paid
    pay(&http, &base, &id, None, "").await; // already paid

    let calls: Value = http.get(format!("{base}/_sandbox/calls")).send().await.unwrap().json().await.unwrap();
    assert_eq!(calls["pay_calls"], 5);
    assert_eq!(calls["charge_attempts"], 2);
    assert_eq!(calls["replays"], 2);
    assert_eq!(calls["by_key"]["a"]["calls"], 3);
    assert_eq!(calls["by_key"]["a"]["bodies"], json!([""]));
    assert_eq!(calls["by_key"]["a"]["status"], 402);
    assert_eq!(calls["by_key"]["a"]["path"], format!("/v1/invoices/{id}/pay"));
    assert_eq!(calls["by_key"]["b"]["calls"], 1);
    assert_eq!(calls["by_key"]["b"]["status"], 200);

    let listed: Value =
        http.get(format!("{base}/_sandbox/invoices")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["data"][0]["outcome"], "recover_on_3");
    assert_eq!(listed["data"][0]["charge_attempts"], 3);
    assert_eq!(listed["data"][0]["status"], "paid");

    let events: Value =
        http.get(format!("{base}/_sandbox/events")).send().await.unwrap().json().await.unwrap();
    let types: Vec<&str> =
        events["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["invoice.payment_failed", "invoice.payment_failed", "invoice.paid", "invoice.payment_succeeded"]
    );
    assert_eq!(events["data"][0]["delivery"], "not_configured");
    assert_eq!(events["data"][0]["event"]["type"], "invoice.payment_failed");
    sb.stop().await;
}

#[tokio::test]
async fn invoice_states_follow_stripes_rules() {
    let receiver = Receiver::start(&[]).await;
    let sb = sandbox(SandboxConfig { webhook_url: Some(receiver.url.clone()), ..fast_config(17) }).await;
    let http = client();
    let base = sb.url();
    let post = |path: String| {
        let http = http.clone();
        async move {
            let r = http.post(path).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };

    // Paid out of band through the admin endpoint: invoice.paid, and paying it again is refused.
    let a = renew_one(&http, &base, "never").await;
    let (status, invoice) = post(format!("{base}/_sandbox/invoices/{a}/pay_out_of_band")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (invoice["status"].as_str(), invoice["paid_out_of_band"].as_bool()),
        (Some("paid"), Some(true))
    );
    let (status, body, _) = pay(&http, &base, &a, None, "").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invoice_already_paid")));
    let (status, _) = post(format!("{base}/_sandbox/invoices/{a}/void")).await;
    assert_eq!(status, 400, "a paid invoice cannot be voided");

    // Voided: invoice.voided, and it can no longer be paid.
    let b = renew_one(&http, &base, "recover_on_2").await;
    let (status, invoice) = post(format!("{base}/_sandbox/invoices/{b}/void")).await;
    assert_eq!((status, invoice["status"].as_str()), (200, Some("void")));
    let (status, body, _) = pay(&http, &base, &b, None, "").await;
    assert_eq!((status, body["error"]["type"].as_str()), (400, Some("invalid_request_error")));

    // Uncollectible: invoice.marked_uncollectible, and it can still be paid (by card, here).
    let c = renew_one(&http, &base, "recover_on_2").await;
    let (status, invoice) = post(format!("{base}/_sandbox/invoices/{c}/mark_uncollectible")).await;
    assert_eq!((status, invoice["status"].as_str()), (200, Some("uncollectible")));
    let (status, _) = post(format!("{base}/_sandbox/invoices/{c}/mark_uncollectible")).await;
    assert_eq!(status, 400);
    let (status, invoice, _) = pay(&http, &base, &c, None, "").await;
    assert_eq!((status, invoice["status"].as_str()), (200, Some("paid")));

    // Stripe's own endpoints do the same; `paid_out_of_band=true` on pay charges nothing.
    let d = renew_one(&http, &base, "never").await;
    let (status, invoice, _) = pay(&http, &base, &d, Some("oob"), "paid_out_of_band=true").await;
    assert_eq!((status, invoice["paid_out_of_band"].as_bool()), (200, Some(true)));
    let e = renew_one(&http, &base, "never").await;
    let (status, invoice) = post(format!("{base}/v1/invoices/{e}/void")).await;
    assert_eq!((status, invoice["status"].as_str()), (200, Some("void")));

    // Sending a charge_automatically invoice is refused, as Stripe refuses it; a send_invoice one is sent.
    let f = renew_one(&http, &base, "never").await;
    let (status, body) = post(format!("{base}/v1/invoices/{f}/send")).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("send_invoice"));
    let sent =
        renew(&http, &base, json!({ "collection_method": "send_invoice", "outcome": "recover_on_2" })).await;
    let g = sent[0]["id"].as_str().unwrap().to_owned();
    assert_eq!((sent[0]["attempt_count"].as_i64(), sent[0]["attempted"].as_bool()), (Some(0), Some(false)));
    let (status, invoice) = post(format!("{base}/v1/invoices/{g}/send")).await;
    assert_eq!((status, invoice["status"].as_str()), (200, Some("open")));

    // Unknown ids and paths.
    let (status, body, _) = pay(&http, &base, "in_nope", None, "").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "resource_missing");
    assert_eq!(body["error"]["message"], "No such invoice: 'in_nope'");
    let r = http.get(format!("{base}/v1/customers/cus_nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "resource_missing");
    let r = http.get(format!("{base}/v1/subscriptions/sub_1")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        r.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unrecognized request URL")
    );
    let r = http.post(format!("{base}/_sandbox/renewals")).body(r#"{"count": 0}"#).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r =
        http.post(format!("{base}/_sandbox/renewals")).body(r#"{"outcome": "maybe"}"#).send().await.unwrap();
    assert_eq!(r.status(), 400);

    assert!(sb.state().settle(WAIT).await);
    let mut types: Vec<String> =
        receiver.got().iter().map(|r| r.event["type"].as_str().unwrap().to_owned()).collect();
    types.sort();
    types.dedup();
    assert_eq!(
        types,
        [
            "invoice.marked_uncollectible",
            "invoice.paid",
            "invoice.payment_failed",
            "invoice.payment_succeeded",
            "invoice.sent",
            "invoice.voided"
        ]
    );
    let ids: std::collections::HashSet<String> =
        receiver.got().iter().map(|r| r.event["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), receiver.got().len(), "event ids are unique");
    sb.stop().await;
}

#[tokio::test]
async fn an_api_key_is_required_when_configured() {
    let sb = sandbox(SandboxConfig { api_key: Some("sk_test_sandbox123".into()), ..fast_config(18) }).await;
    let http = client();
    let base = sb.url();
    let id = renew_one(&http, &base, "recover_on_2").await; // admin endpoints need no key
    let url = format!("{base}/v1/invoices/{id}");

    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["type"], "invalid_request_error");
    let r = http.get(&url).bearer_auth("sk_test_wrong").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().starts_with("Invalid API Key")
    );
    let r = http.get(&url).bearer_auth("sk_test_sandbox123").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http.get(&url).basic_auth("sk_test_sandbox123", Some("")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // A rejected request is not counted against its key and charges nothing.
    let r = http.post(format!("{url}/pay")).header("Idempotency-Key", "k").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(sb.state().key_calls("k").is_none());
    let r = http.post(format!("{url}/pay")).bearer_auth("sk_test_sandbox123").send().await.unwrap();
    assert_eq!(r.status(), 200);
    sb.stop().await;
}

#[tokio::test]
async fn start_refuses_a_bad_configuration() {
    let listener = || async { tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap() };
    let bad_shares = SandboxConfig {
        scenario: Scenario { recover_on_2nd_share: 0.9, ..Scenario::default() },
        ..SandboxConfig::new(1, SECRET)
    };
    assert!(start(bad_shares, listener().await).await.unwrap_err().to_string().contains("add up"));
    let bad_url = SandboxConfig { webhook_url: Some("ftp://x".into()), ..SandboxConfig::new(1, SECRET) };
    assert!(start(bad_url, listener().await).await.is_err());
    let no_secret =
        SandboxConfig { webhook_url: Some("http://127.0.0.1:9/".into()), ..SandboxConfig::new(1, " ") };
    assert!(start(no_secret, listener().await).await.is_err());
    // Debug never shows the secret or the key.
    let config =
        SandboxConfig { api_key: Some("sk_test_hidden".into()), ..SandboxConfig::new(1, "whsec_hidden") };
    let shown = format!("{config:?}");
    assert!(!shown.contains("hidden"), "{shown}");
}

/// With Stripe's automatic retries on, a failed invoice says when Stripe retries (`next_payment_attempt`); each
/// automatic retry counts in `attempt_count`, a requested `pay` moves nothing, and after the last failed retry
/// `next_payment_attempt` is null and the end-of-retries setting applies.
#[tokio::test]
async fn stripes_automatic_retries_schedule_count_and_end_as_configured() {
    let receiver = Receiver::start(&[]).await;
    let sb = sandbox(SandboxConfig { webhook_url: Some(receiver.url.clone()), ..fast_config(3) }).await;
    let http = client();
    let base = sb.url();
    let retry = |id: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let response =
                http.post(format!("{base}/_sandbox/invoices/{id}/automatic_retry")).send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };

    let request =
        json!({ "amount": 4900, "outcome": "never", "smart_retries": 2, "end_of_retries": "uncollectible" });
    let invoice = renew(&http, &base, request).await.remove(0);
    let id = invoice["id"].as_str().unwrap().to_owned();
    let first_next = invoice["next_payment_attempt"].as_i64().expect("a retry is scheduled");
    assert!(first_next > now(), "{invoice}");
    assert_eq!(invoice["attempt_count"], 1);

    // A requested pay fails and leaves Stripe's schedule alone.
    let (status, _, _) = pay(&http, &base, &id, Some("k-never-1"), "").await;
    assert_eq!(status, 402);
    let after_pay = sb.state().invoice(&id).unwrap();
    assert_eq!(after_pay["next_payment_attempt"].as_i64(), Some(first_next));
    assert_eq!(after_pay["attempt_count"], 1);

    let (status, invoice) = retry(id.clone()).await;
    assert_eq!(status, 200, "{invoice}");
    assert_eq!(invoice["attempt_count"], 2);
    assert!(invoice["next_payment_attempt"].as_i64().is_some(), "one retry left: {invoice}");

    let (status, invoice) = retry(id.clone()).await;
    assert_eq!(status, 200, "{invoice}");
    assert_eq!(invoice["attempt_count"], 3);
    assert_eq!(invoice["next_payment_attempt"], Value::Null, "Stripe has given up: {invoice}");
    assert_eq!(sb.state().invoice(&id).unwrap()["status"], "uncollectible");

    let (status, body) = retry(id.clone()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "no_retry_scheduled");

    let events: Vec<(String, Value)> = sb
        .state()
        .events()
        .into_iter()
        .filter(|event| event.object_id == id)
        .map(|event| {
            (event.event_type.clone(), event.event["data"]["object"]["next_payment_attempt"].clone())
        })
        .collect();
    let types: Vec<&str> = events.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(
        types,
        [
            "invoice.payment_failed",
            "invoice.payment_failed",
            "invoice.payment_failed",
            "invoice.payment_failed",
            "invoice.marked_uncollectible"
        ]
    );
    assert!(events[3].1.is_null(), "the last failure says Stripe gave up");
    assert!(events[2].1.is_i64(), "an earlier failure says when Stripe retries");

    // Cancelling the subscription instead: `customer.subscription.deleted` names the invoice as latest.
    let request = json!({ "outcome": "never", "smart_retries": 1, "end_of_retries": "cancel_subscription" });
    let invoice = renew(&http, &base, request).await.remove(0);
    let id = invoice["id"].as_str().unwrap().to_owned();
    let (status, _) = retry(id.clone()).await;
    assert_eq!(status, 200);
    let deleted = sb
        .state()
        .events()
        .into_iter()
        .find(|event| event.event_type == "customer.subscription.deleted")
        .expect("subscription deleted");
    assert_eq!(deleted.event["data"]["object"]["object"], "subscription");
    assert_eq!(deleted.event["data"]["object"]["latest_invoice"], id.as_str());
    assert_eq!(sb.state().invoice(&id).unwrap()["status"], "open");

    // A renewal whose second automatic attempt succeeds is paid by Stripe: invoice.paid without a request.
    let request = json!({ "outcome": "recover_on_2", "smart_retries": 3 });
    let invoice = renew(&http, &base, request).await.remove(0);
    let id = invoice["id"].as_str().unwrap().to_owned();
    let (status, invoice) = retry(id.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(invoice["status"], "paid");
    let paid = sb
        .state()
        .events()
        .into_iter()
        .find(|e| e.object_id == id && e.event_type == "invoice.paid")
        .unwrap();
    assert_eq!(paid.event["request"]["idempotency_key"], Value::Null);

    // A bad setting is refused with the parameter named.
    let response = http
        .post(format!("{base}/_sandbox/renewals"))
        .json(&json!({ "end_of_retries": "forever" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["param"], "end_of_retries");
}
