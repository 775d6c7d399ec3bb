//! Faults on demand and the call log over real HTTP: each vendor's rate-limit and error shapes, a faulted request
//! that never reached the world changes nothing, a create after a timeout is not doubled, and credentials are
//! checked the way each vendor checks them.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use seam_sandbox::{BasicCredentials, FaultKind, Vendor};
use serde_json::json;

fn order_body(reference: &str) -> serde_json::Value {
    json!({
        "reference_id": reference,
        "type": "DTC",
        "shipping_method": "Standard",
        "recipient": { "name": "Ada Okafor", "address": { "address1": "1 Main St", "city": "Austin", "country": "US" } },
        "products": [{ "reference_id": "TOTE-NAT", "name": "Tote", "quantity": 1 }],
    })
}

#[tokio::test]
async fn faults_answer_in_each_vendors_shape_and_change_nothing() {
    let w = world(9, |_| {}).await;
    w.admin("/faults", json!({ "vendor": "shipbob", "kind": "rate_limited", "count": 2, "method": "POST" }))
        .await;
    for _ in 0..2 {
        let response = w
            .http
            .post(format!("{}/{VERSION}/order", w.base))
            .header("shipbob_channel_id", CHANNEL.to_string())
            .json(&order_body("ref-1"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["Retry-After"], "1");
    }
    let (_, none) = w.get(&format!("/{VERSION}/order?ReferenceIds=ref-1")).await;
    assert_eq!(none, json!([]), "a rate-limited create created nothing");
    let (status, _) = w.shipbob_create(&order_body("ref-1")).await;
    assert_eq!(status, 201);

    w.admin("/faults", json!({ "vendor": "zendesk", "kind": "server_error" })).await;
    let (status, body) = w.get("/api/v2/users/1.json").await;
    assert_eq!((status, body["error"].is_string(), body["description"].is_string()), (500, true, true));

    w.admin("/faults", json!({ "vendor": "shopify", "kind": "throttled" })).await;
    let throttled = w.graphql("{ shop { name } }", json!({})).await;
    assert_eq!(throttled["errors"][0]["extensions"]["code"], "THROTTLED");
    assert!(throttled["extensions"]["cost"]["throttleStatus"]["maximumAvailable"].is_number());
    let ok = w.graphql("{ shop { name } }", json!({})).await;
    assert_eq!(ok["data"]["shop"]["name"], "Seam Sandbox Supply Co.");

    w.admin("/faults", json!({ "vendor": "gorgias", "kind": "malformed", "for_secs": 30 })).await;
    for _ in 0..2 {
        let response = w.http.get(format!("{}/api/tickets/1/messages", w.base)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(serde_json::from_str::<serde_json::Value>(&response.text().await.unwrap()).is_err());
    }
    assert_eq!(w.handle().faults().len(), 1);
    let (status, cleared) =
        w.send(reqwest::Method::DELETE, "/_sandbox/faults?vendor=gorgias", &json!({}), &[]).await;
    assert_eq!((status, cleared), (200, json!({ "cleared": 1 })));
    let (status, _) = w.get("/api/tickets/1/messages").await;
    assert_eq!(status, 404, "Gorgias answers again");

    w.admin("/faults", json!({ "vendor": "stripe", "kind": "rate_limited" })).await;
    let (status, body) = w.get("/v1/customers/cus_nope").await;
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("rate_limit")));
    let (status, refused) = w
        .send(
            reqwest::Method::POST,
            "/_sandbox/faults",
            &json!({ "vendor": "shipbob", "kind": "throttled" }),
            &[],
        )
        .await;
    assert_eq!(status, 400, "{refused}");

    let faulted: Vec<(Vendor, Option<FaultKind>, Option<u16>)> =
        w.log().into_iter().filter(|c| c.fault.is_some()).map(|c| (c.vendor, c.fault, c.status)).collect();
    assert_eq!(
        faulted,
        [
            (Vendor::Shipbob, Some(FaultKind::RateLimited), Some(429)),
            (Vendor::Shipbob, Some(FaultKind::RateLimited), Some(429)),
            (Vendor::Zendesk, Some(FaultKind::ServerError), Some(500)),
            (Vendor::Shopify, Some(FaultKind::Throttled), Some(200)),
            (Vendor::Gorgias, Some(FaultKind::Malformed), Some(200)),
            (Vendor::Gorgias, Some(FaultKind::Malformed), Some(200)),
            (Vendor::Stripe, Some(FaultKind::RateLimited), Some(429)),
        ]
    );
    let creates: Vec<Option<u16>> = w
        .log()
        .into_iter()
        .filter(|c| c.reference_id.as_deref() == Some("ref-1"))
        .map(|c| c.status)
        .collect();
    assert_eq!(creates, [Some(429), Some(429), Some(201)]);
}

#[tokio::test]
async fn a_create_after_a_timeout_is_not_doubled() {
    let w = world(10, |_| {}).await;
    let impatient = client(Duration::from_millis(700));
    let create = |reference: &'static str| {
        impatient
            .post(format!("{}/{VERSION}/order", w.base))
            .header("shipbob_channel_id", CHANNEL.to_string())
            .json(&order_body(reference))
            .send()
    };

    // The work is done, then the answer is held: the retry is told it already exists.
    w.admin(
        "/faults",
        json!({ "vendor": "shipbob", "kind": "timeout_after", "path": "/order", "hang_secs": 3 }),
    )
    .await;
    assert!(create("after").await.unwrap_err().is_timeout());
    let (status, _) = w.shipbob_create(&order_body("after")).await;
    assert_eq!(status, 422, "already created");
    let (_, found) = w.get(&format!("/{VERSION}/order?ReferenceIds=after")).await;
    assert_eq!(found.as_array().unwrap().len(), 1);

    // Held before the work: nothing was created, and the retry creates it once.
    w.admin("/faults", json!({ "vendor": "shipbob", "kind": "timeout", "path": "/order", "hang_secs": 3 }))
        .await;
    assert!(create("before").await.unwrap_err().is_timeout());
    let (_, found) = w.get(&format!("/{VERSION}/order?ReferenceIds=before")).await;
    assert_eq!(found, json!([]));
    let (status, _) = w.shipbob_create(&order_body("before")).await;
    assert_eq!(status, 201);

    let log: Vec<(String, Option<FaultKind>, Option<u16>)> =
        w.log().into_iter().filter_map(|c| c.reference_id.clone().map(|r| (r, c.fault, c.status))).collect();
    assert_eq!(
        log,
        [
            ("after".to_owned(), Some(FaultKind::TimeoutAfter), None),
            ("after".to_owned(), None, Some(422)),
            ("before".to_owned(), Some(FaultKind::TimeoutBefore), None),
            ("before".to_owned(), None, Some(201)),
        ]
    );
}

#[tokio::test]
async fn each_vendor_checks_its_own_credentials() {
    let basic = |user: &str, password: &str| BasicCredentials {
        user: user.to_owned(),
        password: password.to_owned(),
    };
    let w = world(11, |cfg| {
        cfg.api_key = Some("sk_test_sandbox".to_owned());
        cfg.shopify_access_token = Some("shpat_sandbox".to_owned());
        cfg.shipbob_token = Some("pat_sandbox".to_owned());
        cfg.zendesk_credentials = Some(basic("agent@example.com", "zd-token"));
        cfg.gorgias_credentials = Some(basic("agent@example.com", "gg-key"));
    })
    .await;
    let path = format!("/admin/api/{SHOPIFY_VERSION}/graphql.json");
    let (status, body) =
        w.send(reqwest::Method::POST, &path, &json!({ "query": "{ shop { name } }" }), &[]).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({ "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)" })
        )
    );
    let (status, _) = w
        .send(
            reqwest::Method::POST,
            &path,
            &json!({ "query": "{ shop { name } }" }),
            &[("X-Shopify-Access-Token", "shpat_sandbox")],
        )
        .await;
    assert_eq!(status, 200);

    let (status, _) = w.get(&format!("/{VERSION}/channel")).await;
    assert_eq!(status, 401);
    let (status, channels) = w
        .send(
            reqwest::Method::GET,
            &format!("/{VERSION}/channel"),
            &json!(null),
            &[("Authorization", "Bearer pat_sandbox")],
        )
        .await;
    assert_eq!((status, channels["items"][0]["id"].as_i64()), (200, Some(CHANNEL)));

    let (status, body) = w.get("/api/v2/users/1.json").await;
    assert_eq!((status, body), (401, json!({ "error": "Couldn't authenticate you" })));
    let zendesk = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("agent@example.com/token:zd-token")
    );
    let (status, _) = w
        .send(reqwest::Method::GET, "/api/v2/users/1.json", &json!(null), &[("Authorization", &zendesk)])
        .await;
    assert_eq!(status, 404, "authenticated, and no such user");

    let (status, _) = w.get("/api/tickets/1/messages").await;
    assert_eq!(status, 401);
    let gorgias =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("agent@example.com:gg-key"));
    let (status, _) = w
        .send(reqwest::Method::GET, "/api/tickets/1/messages", &json!(null), &[("Authorization", &gorgias)])
        .await;
    assert_eq!(status, 404);

    let (status, body) = w.get("/v1/customers/cus_x").await;
    assert_eq!((status, body["error"]["type"].as_str()), (401, Some("invalid_request_error")));
    assert!(w.log().iter().all(|c| c.fault.is_none()));
    assert_eq!(w.log().len(), 9, "every vendor request is logged once");
}
