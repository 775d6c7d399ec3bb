//! The Shopify connector against a scripted GraphQL Admin API on 127.0.0.1: each action's request and result,
//! throttling, `Retry-After`, user errors and the classification of every failure.

mod common;

use std::time::{Duration, Instant};

use common::{Mock, Reply, Seen, closed_port_url, err, ok};
use seam_connectors::Connector;
use seam_connectors::shopify::{ACTIONS, ShopifyConnector};
use seam_flow::{ErrorClass, ErrorKind};
use serde_json::{Value, json};

const TOKEN: &str = "shpat_0123456789abcdefSECRET";
const KEY: &str = "seam-run_00000000000000000000000000000abc-cancel-1";
const ORDER: &str = "gid://shopify/Order/5000000000000000001";
const REQUEST: ErrorClass = ErrorClass::Fatal(ErrorKind::Request);

fn connector(mock: &Mock) -> ShopifyConnector {
    ShopifyConnector::new(mock.url(), TOKEN, Duration::from_secs(5))
}

/// A GraphQL answer with Shopify's cost extension.
fn data(data: Value) -> Reply {
    Reply::ok(json!({ "data": data, "extensions": { "cost": {
        "requestedQueryCost": 12, "actualQueryCost": 10,
        "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0 } } } }))
}

fn throttled(available: u32, rate: u32) -> Reply {
    Reply::ok(json!({
        "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED",
            "documentation": "https://shopify.dev/api/usage/rate-limits" } }],
        "extensions": { "cost": { "requestedQueryCost": 50, "actualQueryCost": null,
            "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": rate } } }
    }))
}

fn query(seen: &Seen) -> String {
    seen.json()["query"].as_str().unwrap_or_default().to_owned()
}

fn order(id: &str, name: &str) -> Value {
    json!({
        "id": id, "name": name, "createdAt": "2026-11-02T10:00:00Z", "cancelledAt": null,
        "displayFinancialStatus": "PAID", "displayFulfillmentStatus": "FULFILLED",
        "totalPriceSet": { "shopMoney": { "amount": "59.00", "currencyCode": "EUR" } },
        "lineItems": { "nodes": [{ "sku": "TEE-BLK-M", "quantity": 2, "title": "Tee" }] },
        "fulfillments": [{ "status": "SUCCESS", "trackingInfo": [{ "number": "1Z999", "url": "https://ups.example/1Z999", "company": "UPS" }] }],
        "refunds": [], "returns": { "nodes": [] }
    })
}

#[tokio::test]
async fn find_customer_posts_a_search_in_variables_with_the_token() {
    let mock = Mock::start(|_, _| {
        data(json!({ "customers": { "nodes": [
            { "id": "gid://shopify/Customer/9007199254740993", "email": "jon@example.com",
              "firstName": "Jon", "lastName": "Snow", "numberOfOrders": "3" }] } }))
    })
    .await;
    let result =
        ok(connector(&mock).call("find_customer", &json!({ "email": "jon@example.com" }), KEY).await);
    assert_eq!(result["count"], 1);
    assert_eq!(result["customers"][0]["id"], "gid://shopify/Customer/9007199254740993");

    let seen = mock.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].line(), "POST /admin/api/2026-10/graphql.json");
    assert_eq!(seen[0].header("x-shopify-access-token").as_deref(), Some(TOKEN));
    assert_eq!(seen[0].header("content-type").as_deref(), Some("application/json"));
    assert_eq!(seen[0].header("authorization"), None);
    let body = seen[0].json();
    assert!(query(&seen[0]).contains("customers(first: 5, query: $query)"), "{body}");
    assert!(query(&seen[0]).contains("id email firstName lastName numberOfOrders"), "{body}");
    assert_eq!(body["variables"], json!({ "query": "email:jon@example.com" }));
}

#[tokio::test]
async fn the_api_version_is_one_setting() {
    let mock = Mock::start(|_, _| data(json!({ "customers": { "nodes": [] } }))).await;
    let connector = connector(&mock).with_api_version("2026-07");
    let result = ok(connector.call("find_customer", &json!({ "email": "a@b.co" }), KEY).await);
    assert_eq!(result, json!({ "customers": [], "count": 0 }));
    assert_eq!(mock.seen()[0].path, "/admin/api/2026-07/graphql.json");

    let bad =
        ShopifyConnector::new(mock.url(), TOKEN, Duration::from_secs(5)).with_api_version("latest/../x");
    let (class, message) = err(bad.call("find_customer", &json!({ "email": "a@b.co" }), KEY).await, &[TOKEN]);
    assert_eq!(class, REQUEST);
    assert!(message.contains("shopify.api_version"), "{message}");
    assert_eq!(mock.seen().len(), 1);
}

#[tokio::test]
async fn customer_orders_newest_first_by_customer_id_or_email() {
    let mock = Mock::start(|_, _| {
        data(json!({ "orders": { "nodes": [order("gid://shopify/Order/5000000000000000002", "#1002"),
                                             order(ORDER, "#1001")] } }))
    })
    .await;
    let connector = connector(&mock);
    let args = json!({ "customer_id": "gid://shopify/Customer/9007199254740993" });
    let result = ok(connector.call("customer_orders", &args, KEY).await);
    assert_eq!(result["orders"][0]["id"], "gid://shopify/Order/5000000000000000002");
    assert_eq!(result["orders"][1]["fulfillments"][0]["trackingInfo"][0]["number"], "1Z999");
    ok(connector.call("customer_orders", &json!({ "email": "jon@example.com", "first": 3 }), KEY).await);

    let seen = mock.seen();
    let text = query(&seen[0]);
    for part in [
        "orders(first: $first, sortKey: CREATED_AT, reverse: true, query: $query)",
        "lineItems(first: 20) { nodes { sku quantity title } }",
        "fulfillments(first: 10) { status trackingInfo { number url company } }",
        "refunds(first: 10) { id createdAt totalRefundedSet { shopMoney { amount currencyCode } } }",
        "returns(first: 10) { nodes { id status } }",
        "displayFinancialStatus displayFulfillmentStatus",
    ] {
        assert!(text.contains(part), "{part} missing from {text}");
    }
    assert_eq!(seen[0].json()["variables"], json!({ "query": "customer_id:9007199254740993", "first": 10 }));
    assert_eq!(seen[1].json()["variables"], json!({ "query": "email:jon@example.com", "first": 3 }));
}

#[tokio::test]
async fn get_order_by_id_or_by_number() {
    let mock = Mock::start(|seen, _| {
        let body = seen.json();
        if query(seen).contains("SeamGetOrder") {
            let mut detailed = order(body["variables"]["id"].as_str().unwrap(), "#1001");
            detailed["email"] = json!("jon@example.com");
            detailed["fulfillmentOrders"] = json!({ "nodes": [{ "id": "gid://shopify/FulfillmentOrder/1", "status": "CLOSED",
                                                                  "assignedLocation": { "name": "Main" } }] });
            return data(json!({ "order": detailed }));
        }
        // A name search is not exact: #10010 comes back for #1001 too.
        data(json!({ "orders": { "nodes": [order("gid://shopify/Order/7", "#10010"), order(ORDER, "#1001")] } }))
    })
    .await;
    let connector = connector(&mock);
    let by_id = ok(connector.call("get_order", &json!({ "id": ORDER }), KEY).await);
    assert_eq!(by_id["order"]["id"], ORDER);
    assert_eq!(by_id["order"]["fulfillmentOrders"]["nodes"][0]["assignedLocation"]["name"], "Main");
    let by_number = ok(connector.call("get_order", &json!({ "number": "1001" }), KEY).await);
    assert_eq!(by_number["order"]["id"], ORDER);
    let hash = ok(connector.call("get_order", &json!({ "number": "#1001" }), KEY).await);
    assert_eq!(hash["order"]["name"], "#1001");
    let none = ok(connector.call("get_order", &json!({ "number": "#999" }), KEY).await);
    assert_eq!(none, json!({ "order": null }));

    let seen = mock.seen();
    assert_eq!(seen[0].json()["variables"], json!({ "id": ORDER }));
    let text = query(&seen[0]);
    for part in [
        "order(id: $id)",
        "lineItems(first: 50)",
        "email customer { id email }",
        "fulfillmentOrders(first: 10) { nodes { id status assignedLocation { name } } } tags note",
    ] {
        assert!(text.contains(part), "{part} missing from {text}");
    }
    assert_eq!(seen[1].json()["variables"], json!({ "query": "name:#1001" }));
    assert_eq!(seen[2].json()["variables"], json!({ "query": "name:#1001" }));
    // A numeric id is made a gid, exactly.
    ok(connector.call("get_order", &json!({ "id": 5_000_000_000_000_000_001_u64 }), KEY).await);
    assert_eq!(mock.seen()[4].json()["variables"], json!({ "id": ORDER }));
}

#[tokio::test]
async fn inventory_reads_every_location_five_skus_at_a_time() {
    let mock = Mock::start(|seen, _| {
        let search = seen.json()["variables"]["query"].as_str().unwrap().to_owned();
        let level = |location: &str, name: &str, available: i64| {
            json!({ "location": { "id": location, "name": name }, "quantities": [
                { "name": "available", "quantity": available }, { "name": "on_hand", "quantity": available + 2 },
                { "name": "committed", "quantity": 2 }] })
        };
        let variant = |sku: &str| {
            json!({ "sku": sku, "inventoryItem": { "id": format!("gid://shopify/InventoryItem/{}", sku.len()),
                "inventoryLevels": { "nodes": [level("gid://shopify/Location/1", "Main", 5),
                                               level("gid://shopify/Location/2", "Overflow", 0)] } } })
        };
        let mut nodes = Vec::new();
        for term in search.split(" OR ") {
            let sku = term.trim_start_matches("sku:").trim_matches('"');
            if sku != "GONE" {
                nodes.push(variant(sku));
            }
        }
        // The search is not exact: a longer SKU comes back too and must be dropped.
        nodes.push(variant("A1-EXTRA"));
        data(json!({ "productVariants": { "nodes": nodes } }))
    })
    .await;
    let skus = json!(["A1", "A2", "A3", "A4", "GONE", "B 6"]);
    let result = ok(connector(&mock).call("inventory", &json!({ "skus": skus }), KEY).await);
    assert_eq!(result["missing"], json!(["GONE"]));
    let levels = result["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 10, "{result}");
    assert_eq!(
        levels[0],
        json!({ "sku": "A1", "inventory_item_id": "gid://shopify/InventoryItem/2", "location_id": "gid://shopify/Location/1",
                "location": "Main", "available": 5, "on_hand": 7, "committed": 2 })
    );
    assert!(levels.iter().all(|l| l["sku"] != "A1-EXTRA"));

    let seen = mock.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].json()["variables"]["query"], "sku:A1 OR sku:A2 OR sku:A3 OR sku:A4 OR sku:GONE");
    assert_eq!(seen[1].json()["variables"]["query"], "sku:\"B 6\"");
    let text = query(&seen[0]);
    for part in [
        "productVariants(first: 10, query: $query)",
        "inventoryLevels(first: 20)",
        r#"quantities(names: ["available", "on_hand", "committed"]) { name quantity }"#,
    ] {
        assert!(text.contains(part), "{part} missing from {text}");
    }

    let one = ok(connector(&mock)
        .call("inventory", &json!({ "skus": ["A1"], "location_id": "gid://shopify/Location/2" }), KEY)
        .await);
    assert_eq!(one["levels"].as_array().unwrap().len(), 1);
    assert_eq!(one["levels"][0]["location"], "Overflow");
}

#[tokio::test]
async fn an_order_note_is_a_metafield_keyed_by_run_and_step_then_tags_are_added() {
    let mock = Mock::start(|seen, _| {
        if query(seen).contains("metafieldsSet") {
            data(json!({ "metafieldsSet": { "metafields": [{ "id": "gid://shopify/Metafield/1", "namespace": "seam",
                "key": "seam-run_1-note" }], "userErrors": [] } }))
        } else {
            data(json!({ "tagsAdd": { "node": { "id": ORDER }, "userErrors": [] } }))
        }
    })
    .await;
    let connector = connector(&mock);
    let args = json!({ "order_id": ORDER, "note": "Handed to the 3PL as order 42.\nTracking follows.",
                       "tags": ["seam-3pl", "seam-ok"] });
    let result = ok(connector.call("add_order_note", &args, "seam-run_1-note-1").await);
    assert_eq!(result["metafield"]["id"], "gid://shopify/Metafield/1");
    assert_eq!(result["tags"], json!(["seam-3pl", "seam-ok"]));
    // A later attempt of the same step writes the same metafield (same key), never a second one.
    ok(connector
        .call("add_order_note", &json!({ "order_id": ORDER, "note": "again" }), "seam-run_1-note-2")
        .await);

    let seen = mock.seen();
    assert_eq!(seen.len(), 3, "no tags, no tagsAdd");
    assert!(query(&seen[0]).contains("metafieldsSet(metafields: $metafields)"));
    assert_eq!(
        seen[0].json()["variables"]["metafields"],
        json!([{ "ownerId": ORDER, "namespace": "seam", "key": "seam-run_1-note",
                 "type": "multi_line_text_field", "value": "Handed to the 3PL as order 42.\nTracking follows." }])
    );
    assert!(query(&seen[1]).contains("tagsAdd(id: $id, tags: $tags)"));
    assert_eq!(seen[1].json()["variables"], json!({ "id": ORDER, "tags": ["seam-3pl", "seam-ok"] }));
    assert_eq!(seen[2].json()["variables"]["metafields"][0]["key"], "seam-run_1-note");
}

#[tokio::test]
async fn user_errors_are_fatal_and_name_the_field() {
    let mock = Mock::start(|_, _| {
        data(json!({ "metafieldsSet": { "metafields": [], "userErrors": [
            { "field": ["metafields", "0", "value"], "message": "Value is too long", "code": "TOO_LONG" }] } }))
    })
    .await;
    let args = json!({ "order_id": ORDER, "note": "x" });
    let (class, message) = err(connector(&mock).call("add_order_note", &args, KEY).await, &[TOKEN]);
    assert_eq!(class, REQUEST);
    assert!(
        message.contains("metafieldsSet refused: field metafields.0.value: Value is too long (TOO_LONG)"),
        "{message}"
    );
}

#[tokio::test]
async fn cancel_order_is_idempotent_and_says_when_it_was_already_done() {
    let mock = Mock::start(|seen, _| {
        let body = seen.json();
        let text = query(seen);
        if text.contains("SeamOrderCancelled") {
            let cancelled = body["variables"]["id"] == "gid://shopify/Order/2";
            return data(json!({ "order": { "id": body["variables"]["id"],
                "cancelledAt": if cancelled { json!("2026-11-02T10:00:00Z") } else { Value::Null } } }));
        }
        if body["variables"]["orderId"] == ORDER {
            return data(json!({ "orderCancel": { "job": { "id": "gid://shopify/Job/1", "done": false },
                                                  "orderCancelUserErrors": [] } }));
        }
        data(json!({ "orderCancel": { "job": null, "orderCancelUserErrors": [
            { "field": ["orderId"], "message": "Cannot cancel the order.", "code": "INVALID" }] } }))
    })
    .await;
    let connector = connector(&mock);
    let args = json!({ "order_id": ORDER, "reason": "inventory", "refund": true, "restock": false });
    let result = ok(connector.call("cancel_order", &args, KEY).await);
    assert_eq!(
        result,
        json!({ "job": { "id": "gid://shopify/Job/1", "done": false }, "order_id": ORDER, "already_cancelled": false })
    );
    let seen = mock.seen();
    let text = query(&seen[0]);
    assert!(text.contains(&format!("@idempotent(key: \"{KEY}\")")), "{text}");
    assert!(text.contains("orderCancelUserErrors { field message code }"), "{text}");
    assert_eq!(
        seen[0].json()["variables"],
        json!({ "orderId": ORDER, "reason": "INVENTORY", "refundMethod": { "originalPaymentMethodsRefund": true },
                "restock": false, "notifyCustomer": false, "staffNote": null })
    );

    // Refused, but the order is cancelled already (an earlier attempt whose answer was lost): done.
    let args = json!({ "order_id": "gid://shopify/Order/2", "reason": "customer", "refund": false, "restock": true,
                       "notify_customer": true, "staff_note": "Out of stock" });
    let result = ok(connector.call("cancel_order", &args, "seam-run_1-cancel-2").await);
    assert_eq!(result["already_cancelled"], true);
    assert_eq!(result["cancelled_at"], "2026-11-02T10:00:00Z");
    let seen = mock.seen();
    assert_eq!(seen[1].json()["variables"]["reason"], "CUSTOMER");
    assert_eq!(seen[1].json()["variables"]["notifyCustomer"], true);
    assert_eq!(seen[1].json()["variables"]["staffNote"], "Out of stock");
    assert_eq!(seen[2].json()["variables"], json!({ "id": "gid://shopify/Order/2" }));

    // Refused and not cancelled: fatal, naming the field.
    let args =
        json!({ "order_id": "gid://shopify/Order/3", "reason": "fraud", "refund": false, "restock": false });
    let (class, message) = err(connector.call("cancel_order", &args, KEY).await, &[TOKEN]);
    assert_eq!(class, REQUEST);
    assert!(message.contains("field orderId: Cannot cancel the order. (INVALID)"), "{message}");

    for bad in [
        json!({ "order_id": ORDER, "reason": "bored", "refund": false, "restock": false }),
        json!({ "order_id": ORDER, "reason": "inventory", "restock": false }),
        json!({ "order_id": "gid://shopify/Customer/1", "reason": "inventory", "refund": false, "restock": false }),
    ] {
        let (class, message) = err(connector.call("cancel_order", &bad, KEY).await, &[TOKEN]);
        assert_eq!(class, REQUEST);
        assert!(message.contains("no request was made"), "{message}");
    }
    assert_eq!(mock.seen().len(), 5, "each refusal is followed by one look at the order");
}

#[tokio::test]
async fn a_throttled_query_waits_for_the_bucket_then_succeeds() {
    // Bucket empty, 50 points needed at 1,000 a second: a 50 ms wait.
    let mock =
        Mock::start(
            |_, n| {
                if n < 2 { throttled(0, 1000) } else { data(json!({ "customers": { "nodes": [] } })) }
            },
        )
        .await;
    let started = Instant::now();
    ok(connector(&mock).call("find_customer", &json!({ "email": "a@b.co" }), KEY).await);
    assert!(started.elapsed() >= Duration::from_millis(100), "{:?}", started.elapsed());
    assert_eq!(mock.seen().len(), 3);
}

#[tokio::test]
async fn a_throttle_longer_than_the_timeout_is_rate_limited_at_once() {
    // 50 points at 1 a second: 50 s, far past the 5 s limit.
    let mock = Mock::start(|_, _| throttled(0, 1)).await;
    let started = Instant::now();
    let (class, message) =
        err(connector(&mock).call("find_customer", &json!({ "email": "a@b.co" }), KEY).await, &[TOKEN]);
    assert_eq!(class, ErrorClass::Retryable(ErrorKind::RateLimited));
    assert!(message.contains("throttled") && message.contains("the bucket holds 0"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(mock.seen().len(), 1);
}

#[tokio::test]
async fn http_429_waits_for_retry_after_once() {
    let mock = Mock::start(|_, n| {
        if n == 0 {
            Reply::json(429, json!({ "errors": "Exceeded 2 calls per second for api client." }))
                .header("Retry-After", "1")
        } else {
            data(json!({ "customers": { "nodes": [] } }))
        }
    })
    .await;
    let started = Instant::now();
    ok(connector(&mock).call("find_customer", &json!({ "email": "a@b.co" }), KEY).await);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(mock.seen().len(), 2);

    let always = Mock::start(|_, _| Reply::json(429, json!({})).header("Retry-After", "30")).await;
    let (class, message) =
        err(connector(&always).call("find_customer", &json!({ "email": "a@b.co" }), KEY).await, &[TOKEN]);
    assert_eq!(class, ErrorClass::Retryable(ErrorKind::RateLimited));
    assert!(message.contains("Retry-After 30 s"), "{message}");
    assert_eq!(always.seen().len(), 1);
}

#[tokio::test]
async fn failures_are_classified_and_never_show_the_token() {
    let mock = Mock::start(|seen, _| {
        let email = seen.json()["variables"]["query"].as_str().unwrap().trim_start_matches("email:").to_owned();
        match email.split('@').next().unwrap() {
            "s401" => Reply::json(401, json!({ "errors": format!("[API] Invalid API key or access token (unrecognized login or wrong password) {TOKEN}") })),
            "s402" => Reply::json(402, json!({ "errors": "Unavailable Shop" })),
            "s404" => Reply::json(404, json!({ "errors": "Not Found" })),
            "s500" => Reply::json(500, json!({ "errors": "Internal Server Error" })),
            "s503" => Reply::empty(503),
            "slow" => data(json!({ "customers": { "nodes": [] } })).after(Duration::from_secs(3)),
            "denied" => Reply::ok(json!({ "errors": [{ "message": "Access denied for customers field.",
                "extensions": { "code": "ACCESS_DENIED" }, "path": ["customers"] }], "data": null })),
            "internal" => Reply::ok(json!({ "errors": [{ "message": "Internal error. Looks like something went wrong on our end.",
                "extensions": { "code": "INTERNAL_SERVER_ERROR" } }] })),
            "nodata" => Reply::ok(json!({})),
            _ => Reply::ok(json!([])),
        }
    })
    .await;
    let connector = ShopifyConnector::new(mock.url(), TOKEN, Duration::from_secs(2));
    let cases = [
        ("s401", REQUEST, "HTTP 401"),
        ("s402", REQUEST, "HTTP 402"),
        ("s404", REQUEST, "HTTP 404"),
        ("s500", ErrorClass::Retryable(ErrorKind::ServerError), "HTTP 500"),
        ("s503", ErrorClass::Retryable(ErrorKind::ServerError), "HTTP 503 (empty body)"),
        ("slow", ErrorClass::Retryable(ErrorKind::Timeout), "the limit is 2s"),
        ("denied", REQUEST, "ACCESS_DENIED: Access denied for customers field. (at customers)"),
        ("internal", ErrorClass::Retryable(ErrorKind::ServerError), "INTERNAL_SERVER_ERROR"),
        ("nodata", ErrorClass::Retryable(ErrorKind::ServerError), "without `data`"),
    ];
    for (user, class, part) in cases {
        let args = json!({ "email": format!("{user}@example.com") });
        let (got, message) = err(connector.call("find_customer", &args, KEY).await, &[TOKEN]);
        assert_eq!(got, class, "{user}: {message}");
        assert!(message.contains(part), "{user}: {part} missing from {message}");
        assert!(
            message.starts_with("shopify.find_customer POST /admin/api/2026-10/graphql.json")
                || message.starts_with("shopify.find_customer: "),
            "{message}"
        );
    }

    let refused = ShopifyConnector::new(closed_port_url(), TOKEN, Duration::from_secs(2));
    let (class, _) = err(refused.call("find_customer", &json!({ "email": "a@b.co" }), KEY).await, &[TOKEN]);
    assert_eq!(class, ErrorClass::Retryable(ErrorKind::Network));
}

#[tokio::test]
async fn bad_arguments_and_settings_make_no_request() {
    let mock = Mock::start(|_, _| data(json!({}))).await;
    let connector = connector(&mock);
    let cases = [
        ("find_customer", json!({})),
        ("find_customer", json!({ "email": "a@b.co OR email:*" })),
        ("find_customer", json!({ "email": "a@b.co", "name": "x" })),
        ("customer_orders", json!({})),
        ("customer_orders", json!({ "customer_id": "gid://shopify/Order/1" })),
        ("customer_orders", json!({ "email": "a@b.co", "first": 50 })),
        ("customer_orders", json!({ "email": "a@b.co", "customer_id": 1 })),
        ("get_order", json!({ "number": "1001 OR name:*" })),
        ("get_order", json!({ "id": "gid://shopify/Order/1/../2" })),
        ("inventory", json!({ "skus": [] })),
        ("inventory", json!({ "skus": [{ "sku": "A" }] })),
        ("inventory", json!({ "skus": ["A"], "location_id": "gid://shopify/Order/1" })),
        ("add_order_note", json!({ "order_id": ORDER })),
        ("add_order_note", json!({ "order_id": ORDER, "note": "x", "tags": "a,b", "extra": 1 })),
        ("cancel_order", json!({ "order_id": ORDER })),
    ];
    for (action, args) in cases {
        let (class, message) = err(connector.call(action, &args, KEY).await, &[TOKEN]);
        assert_eq!(class, REQUEST, "{action} {args}: {message}");
        assert!(message.contains("no request was made"), "{message}");
    }
    for action in ["refund", "", "shopify.get_order"] {
        let (class, message) = err(connector.call(action, &json!({}), KEY).await, &[TOKEN]);
        assert_eq!(class, REQUEST);
        for known in ACTIONS {
            assert!(message.contains(&format!("shopify.{known}")), "{message}");
        }
    }
    let no_token = ShopifyConnector::new(mock.url(), " ", Duration::from_secs(5));
    let (_, message) = err(no_token.call("find_customer", &json!({ "email": "a@b.co" }), KEY).await, &[]);
    assert!(message.contains("shopify.access_token"), "{message}");
    let no_shop = ShopifyConnector::new("", TOKEN, Duration::from_secs(5));
    let (_, message) = err(no_shop.call("find_customer", &json!({ "email": "a@b.co" }), KEY).await, &[TOKEN]);
    assert!(message.contains("shopify.shop_url"), "{message}");
    let cleartext = ShopifyConnector::new("http://acme.myshopify.com", TOKEN, Duration::from_secs(5));
    let (_, message) =
        err(cleartext.call("find_customer", &json!({ "email": "a@b.co" }), KEY).await, &[TOKEN]);
    assert!(message.contains("https://"), "{message}");
    assert_eq!(mock.seen().len(), 0);
}

#[test]
fn debug_never_shows_the_token() {
    let connector = ShopifyConnector::new("acme.myshopify.com", TOKEN, Duration::from_secs(10));
    let text = format!("{connector:?}");
    assert!(!text.contains(TOKEN), "{text}");
    assert!(text.contains("https://acme.myshopify.com/") && text.contains("2026-10"), "{text}");
    assert_eq!(connector.timeout(), Duration::from_secs(10));
}

#[tokio::test]
async fn a_dev_dashboard_app_fetches_its_token_with_the_client_credentials_grant() {
    const CLIENT_SECRET: &str = "shpss_client_SECRET_0123456789";
    let tokens = std::sync::Arc::new(std::sync::Mutex::new(0));
    let issued = std::sync::Arc::clone(&tokens);
    let mock = Mock::start(move |seen, _| {
        if seen.path == "/admin/oauth/access_token" {
            let mut count = issued.lock().unwrap();
            *count += 1;
            return Reply::ok(
                json!({ "access_token": format!("shpat_dynamic_{count}"), "scope": "read_orders",
                                     "expires_in": 86399 }),
            );
        }
        let current = format!("shpat_dynamic_{}", issued.lock().unwrap());
        if seen.header("x-shopify-access-token") != Some(current) {
            return Reply::json(401, json!({ "errors": "[API] Invalid API key or access token" }));
        }
        // The first token is revoked early: the third GraphQL request refuses it once.
        if *issued.lock().unwrap() == 1 && seen.json()["variables"]["query"] == "email:late@b.co" {
            return Reply::json(401, json!({ "errors": "[API] Invalid API key or access token" }));
        }
        data(json!({ "customers": { "nodes": [] } }))
    })
    .await;
    let connector = ShopifyConnector::new(mock.url(), "", Duration::from_secs(5))
        .with_client_credentials("0f1e2d3c4b5a", CLIENT_SECRET);
    ok(connector.call("find_customer", &json!({ "email": "a@b.co" }), KEY).await);
    // A clone shares the token: no second grant.
    ok(connector.clone().call("find_customer", &json!({ "email": "c@d.co" }), KEY).await);
    assert_eq!(*tokens.lock().unwrap(), 1);
    let seen = mock.seen();
    assert_eq!(seen[0].line(), "POST /admin/oauth/access_token");
    assert_eq!(seen[0].header("content-type").as_deref(), Some("application/x-www-form-urlencoded"));
    assert_eq!(seen[0].header("x-shopify-access-token"), None);
    let form = reqwest::Url::parse(&format!("http://x/?{}", seen[0].body)).unwrap();
    let form: Vec<(String, String)> =
        form.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    assert_eq!(
        form,
        [
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_id".to_owned(), "0f1e2d3c4b5a".to_owned()),
            ("client_secret".to_owned(), CLIENT_SECRET.to_owned()),
        ]
    );
    assert_eq!(seen[1].header("x-shopify-access-token").as_deref(), Some("shpat_dynamic_1"));

    // A refused token is replaced once.
    ok(connector.call("find_customer", &json!({ "email": "late@b.co" }), KEY).await);
    assert_eq!(*tokens.lock().unwrap(), 2);
    assert_eq!(
        mock.lines()[3..],
        [
            "POST /admin/api/2026-10/graphql.json",
            "POST /admin/oauth/access_token",
            "POST /admin/api/2026-10/graphql.json"
        ]
    );

    // A refused grant is fatal and says what to check, without the secret.
    let refusing = Mock::start(|_, _| {
        Reply::json(
            400,
            json!({ "error": "invalid_client",
        "error_description": format!("Client authentication failed: {CLIENT_SECRET}") }),
        )
    })
    .await;
    let connector = ShopifyConnector::new(refusing.url(), "", Duration::from_secs(5))
        .with_client_credentials("0f1e2d3c4b5a", CLIENT_SECRET);
    let (class, message) =
        err(connector.call("find_customer", &json!({ "email": "a@b.co" }), KEY).await, &[CLIENT_SECRET]);
    assert_eq!(class, REQUEST);
    assert!(
        message.contains("POST /admin/oauth/access_token: HTTP 400") && message.contains("shopify.client_id"),
        "{message}"
    );
    assert!(!format!("{connector:?}").contains(CLIENT_SECRET));
}
