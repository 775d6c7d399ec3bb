//! The ShipBob connector against a scripted ShipBob API on 127.0.0.1: each action's request and result, the 422
//! for a repeated `reference_id` read as "already created", `Retry-After`, and the classification of failures.

mod common;

use std::time::{Duration, Instant};

use common::{Mock, Reply, Seen, closed_port_url, err, ok};
use seam_connectors::Connector;
use seam_connectors::shipbob::{ACTIONS, ShipBobConnector};
use seam_flow::{ErrorClass, ErrorKind};
use serde_json::{Value, json};

const TOKEN: &str = "pat_SECRET_0123456789abcdef";
const KEY: &str = "seam-run_abc-ship-1";
const REQUEST: ErrorClass = ErrorClass::Fatal(ErrorKind::Request);

fn connector(mock: &Mock) -> ShipBobConnector {
    ShipBobConnector::new(mock.url(), TOKEN, Duration::from_secs(5)).with_channel_id("7021")
}

fn shipbob_order(id: u64, reference_id: &str) -> Value {
    json!({ "id": id, "reference_id": reference_id, "order_number": "#1001", "status": "Processing",
            "shipments": [{ "id": id * 10, "status": "Completed" }, { "id": id * 10 + 1, "status": "Processing" }] })
}

fn order_args(reference_id: &str) -> Value {
    json!({
        "reference_id": reference_id,
        "order_number": "#1001",
        "recipient": { "name": "Jon Snow", "email": "jon@example.com",
                       "address": { "address1": "1 Castle Black", "city": "The Wall", "country": "US", "zip_code": "07093" } },
        "products": [{ "reference_id": "TEE-BLK-M", "quantity": 2, "name": "Tee" }],
        "shipping_method": "Standard",
    })
}

#[tokio::test]
async fn inventory_reads_each_sku_by_fulfillment_center() {
    let mock = Mock::start(|seen, _| {
        let sku = seen.query_value("SearchBy").unwrap();
        if sku == "GONE" {
            return Reply::ok(json!({ "items": [], "next": null }));
        }
        // SearchBy is a search: a longer SKU comes back too.
        Reply::ok(json!({ "items": [
            { "inventory_id": 1, "sku": sku, "name": "Tee", "locations": [
                { "location_id": 10, "name": "Moreno Valley (CA)", "fulfillable_quantity": 7, "on_hand_quantity": 9,
                  "committed_quantity": 2, "awaiting_quantity": 0, "internal_transfer_quantity": 0 },
                { "location_id": 26, "name": "Cicero (IL)", "fulfillable_quantity": 0, "on_hand_quantity": 0,
                  "committed_quantity": 0 }] },
            { "inventory_id": 2, "sku": format!("{sku}-XL"), "locations": [
                { "location_id": 10, "name": "Moreno Valley (CA)", "fulfillable_quantity": 99, "on_hand_quantity": 99 }] }
        ] }))
    })
    .await;
    let result = ok(connector(&mock).call("inventory", &json!({ "skus": ["TEE-BLK-M", "GONE"] }), KEY).await);
    assert_eq!(result["missing"], json!(["GONE"]));
    assert_eq!(
        result["levels"],
        json!([
            { "sku": "TEE-BLK-M", "fulfillment_center_id": 10, "fulfillment_center": "Moreno Valley (CA)",
              "fulfillable": 7, "on_hand": 9, "committed": 2 },
            { "sku": "TEE-BLK-M", "fulfillment_center_id": 26, "fulfillment_center": "Cicero (IL)",
              "fulfillable": 0, "on_hand": 0, "committed": 0 },
        ])
    );
    let seen = mock.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].line(), "GET /2026-07/inventory-level/locations");
    assert_eq!(seen[0].query_pairs(), vec![("SearchBy".to_owned(), "TEE-BLK-M".to_owned())]);
    assert_eq!(seen[0].header("authorization"), Some(format!("Bearer {TOKEN}")));
    assert_eq!(seen[0].header("shipbob_channel_id").as_deref(), Some("7021"));
    assert_eq!(seen[0].body, "");
}

#[tokio::test]
async fn create_order_posts_the_order_with_the_channel() {
    let mock = Mock::start(|seen, _| {
        Reply::json(201, shipbob_order(9_007_199_254_740_993, seen.json()["reference_id"].as_str().unwrap()))
    })
    .await;
    let reference = "gid://shopify/Order/5000000000000000001";
    let result = ok(connector(&mock).call("create_order", &order_args(reference), KEY).await);
    assert_eq!(result["already_created"], false);
    assert_eq!(result["order"]["id"].as_u64(), Some(9_007_199_254_740_993), "64-bit ids stay exact");
    let seen = mock.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].line(), "POST /2026-07/order");
    assert_eq!(seen[0].header("shipbob_channel_id").as_deref(), Some("7021"));
    assert_eq!(seen[0].header("content-type").as_deref(), Some("application/json"));
    let mut expected = order_args(reference);
    expected["type"] = json!("DTC");
    assert_eq!(seen[0].json(), expected);
}

#[tokio::test]
async fn a_repeated_reference_id_is_already_created_not_a_failure() {
    let mock = Mock::start(|seen, _| match (seen.method.as_str(), seen.path.as_str()) {
        ("POST", "/2026-07/order") => {
            Reply::json(422, json!({ "errors": ["Order with reference id already exists"] }))
        }
        ("GET", "/2026-07/order") => {
            let wanted = seen.query_value("ReferenceIds").unwrap();
            if wanted == "cs_test_known" {
                // ShipBob lists what the filter matched; only the exact one counts.
                Reply::ok(json!([shipbob_order(1, "cs_test_known-2"), shipbob_order(2, "cs_test_known")]))
            } else {
                Reply::ok(json!([]))
            }
        }
        _ => Reply::empty(418),
    })
    .await;
    let connector = connector(&mock);
    let result =
        ok(connector.call("create_order", &order_args("cs_test_known"), "seam-run_abc-ship-2").await);
    assert_eq!(result["already_created"], true);
    assert_eq!(result["order"]["id"], 2);
    let seen = mock.seen();
    assert_eq!(mock.lines(), ["POST /2026-07/order", "GET /2026-07/order"]);
    assert_eq!(seen[1].query_value("ReferenceIds").as_deref(), Some("cs_test_known"));
    assert_eq!(seen[1].header("shipbob_channel_id").as_deref(), Some("7021"));

    // A 422 for an order that does not exist is a real validation error.
    let (class, message) =
        err(connector.call("create_order", &order_args("cs_test_new"), KEY).await, &[TOKEN]);
    assert_eq!(class, REQUEST);
    assert!(message.contains("HTTP 422") && message.contains("already exists"), "{message}");
    assert!(message.contains("no order with reference_id `cs_test_new` exists"), "{message}");
}

#[tokio::test]
async fn create_order_needs_a_channel_and_a_whole_order() {
    let mock = Mock::start(|_, _| Reply::json(201, json!({}))).await;
    let no_channel = ShipBobConnector::new(mock.url(), TOKEN, Duration::from_secs(5));
    let (class, message) = err(no_channel.call("create_order", &order_args("r1"), KEY).await, &[TOKEN]);
    assert_eq!(class, REQUEST);
    assert!(message.contains("shipbob.channel_id") && message.contains("no request was made"), "{message}");

    let connector = connector(&mock);
    let mut cases = Vec::new();
    for (pointer, value) in [
        ("/reference_id", Value::Null),
        ("/reference_id", json!("a,b")),
        ("/recipient/address", Value::Null),
        ("/recipient/address/country", json!("")),
        ("/products", json!([])),
        ("/products/0/quantity", json!(0)),
        ("/products/0/reference_id", Value::Null),
        ("/shipping_method", Value::Null),
    ] {
        let mut args = order_args("r1");
        *args.pointer_mut(pointer).unwrap() = value;
        cases.push(args);
    }
    let mut typed = order_args("r1");
    typed["type"] = json!("Wholesale");
    cases.push(typed);
    let mut extra = order_args("r1");
    extra["priority"] = json!(1);
    cases.push(extra);
    for args in cases {
        let (class, message) = err(connector.call("create_order", &args, KEY).await, &[TOKEN]);
        assert_eq!(class, REQUEST, "{args}: {message}");
        assert!(message.contains("no request was made"), "{message}");
    }
    assert_eq!(mock.seen().len(), 0);
}

#[tokio::test]
async fn shipments_orders_and_returns() {
    let mock = Mock::start(|seen: &Seen, _| match seen.path.as_str() {
        "/2026-07/order/501/shipment" => Reply::ok(json!([{ "id": 5010, "status": "Completed",
            "tracking": { "carrier": "USPS", "tracking_number": "9400", "tracking_url": "https://usps.example/9400" } }])),
        "/2026-07/order/502/shipment" => Reply::ok(json!([])),
        "/2026-07/order" => {
            let ids = seen.query_value("ReferenceIds").unwrap();
            Reply::ok(Value::Array(ids.split(',').filter(|r| *r != "none").map(|r| shipbob_order(501, r)).collect()))
        }
        "/2026-07/return" => Reply::ok(json!({ "items": [{ "id": 77, "status": "Completed", "original_shipment_id": 5010,
                                                           "reference_id": "RMA-1", "store_order_id": "r1" }],
                                                "next": null })),
        _ => Reply::empty(404),
    })
    .await;
    let connector = connector(&mock);

    let shipments = ok(connector.call("order_shipments", &json!({ "order_id": 501 }), KEY).await);
    assert_eq!(shipments["shipments"][0]["tracking"]["tracking_number"], "9400");

    let orders = ok(connector.call("find_orders", &json!({ "reference_ids": ["r1", "r2"] }), KEY).await);
    assert_eq!(orders["orders"].as_array().unwrap().len(), 2);

    let returns = ok(connector.call("returns", &json!({ "reference_id": "r1" }), KEY).await);
    assert_eq!(returns["returns"][0]["id"], 77);
    let by_id = ok(connector.call("returns", &json!({ "order_id": "501" }), KEY).await);
    assert_eq!(by_id["returns"][0]["original_shipment_id"], 5010);
    // No shipments, no returns, and no return request.
    assert_eq!(
        ok(connector.call("returns", &json!({ "order_id": 502 }), KEY).await),
        json!({ "returns": [] })
    );
    assert_eq!(
        ok(connector.call("returns", &json!({ "reference_id": "none" }), KEY).await),
        json!({ "returns": [] })
    );

    let seen = mock.seen();
    assert_eq!(
        mock.lines(),
        [
            "GET /2026-07/order/501/shipment",
            "GET /2026-07/order",
            "GET /2026-07/order",
            "GET /2026-07/return",
            "GET /2026-07/order/501/shipment",
            "GET /2026-07/return",
            "GET /2026-07/order/502/shipment",
            "GET /2026-07/order",
        ]
    );
    assert_eq!(seen[1].query_value("ReferenceIds").as_deref(), Some("r1,r2"));
    assert_eq!(seen[3].query_pairs(), vec![("OriginalShipmentIds".to_owned(), "5010,5011".to_owned())]);
    assert_eq!(seen[5].query_value("OriginalShipmentIds").as_deref(), Some("5010"));

    for (action, args) in [
        ("returns", json!({})),
        ("returns", json!({ "reference_id": "r1", "order_id": 1 })),
        ("order_shipments", json!({ "order_id": "5/../6" })),
        ("find_orders", json!({ "reference_ids": [] })),
        ("find_orders", json!({ "reference_ids": ["a,b"] })),
        ("inventory", json!({ "skus": "" })),
    ] {
        let (class, message) = err(connector.call(action, &args, KEY).await, &[TOKEN]);
        assert_eq!(class, REQUEST, "{action} {args}: {message}");
        assert!(message.contains("no request was made"), "{message}");
    }
    assert_eq!(mock.seen().len(), 8);
}

#[tokio::test]
async fn retry_after_is_waited_out_once_within_the_timeout() {
    let mock = Mock::start(|_, n| {
        if n == 0 {
            Reply::json(429, json!({ "title": "Too Many Requests" })).header("Retry-After", "1")
        } else {
            Reply::ok(json!([]))
        }
    })
    .await;
    let started = Instant::now();
    ok(connector(&mock).call("find_orders", &json!({ "reference_ids": ["r1"] }), KEY).await);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(mock.seen().len(), 2);

    // Twice in a row: reported after the one wait.
    let always = Mock::start(|_, _| Reply::json(429, json!({})).header("Retry-After", "1")).await;
    let (class, message) =
        err(connector(&always).call("find_orders", &json!({ "reference_ids": ["r1"] }), KEY).await, &[TOKEN]);
    assert_eq!(class, ErrorClass::Retryable(ErrorKind::RateLimited));
    assert!(message.contains("again after waiting Retry-After 1 s"), "{message}");
    assert_eq!(always.seen().len(), 2);

    // Longer than the call may take: reported at once.
    let long = Mock::start(|_, _| Reply::json(429, json!({})).header("Retry-After", "60")).await;
    let started = Instant::now();
    let (class, message) =
        err(connector(&long).call("find_orders", &json!({ "reference_ids": ["r1"] }), KEY).await, &[TOKEN]);
    assert_eq!(class, ErrorClass::Retryable(ErrorKind::RateLimited));
    assert!(message.contains("Retry-After 60 s would pass"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(long.seen().len(), 1);
}

#[tokio::test]
async fn failures_are_classified_and_never_show_the_token() {
    let mock = Mock::start(|seen, _| match seen.query_value("ReferenceIds").unwrap().as_str() {
        "s400" => Reply::json(400, json!({ "ReferenceIds": ["The value is invalid."] })),
        "s401" => Reply::json(401, json!({ "message": format!("token {TOKEN} is not valid") })),
        "s403" => Reply::empty(403),
        "s500" => Reply::empty(500),
        "s503" => Reply::json(503, json!({ "title": "Service Unavailable" })),
        "slow" => Reply::ok(json!([])).after(Duration::from_secs(3)),
        _ => Reply::ok(json!("not a list")),
    })
    .await;
    let connector = ShipBobConnector::new(mock.url(), TOKEN, Duration::from_secs(2));
    for (reference, class, part) in [
        ("s400", REQUEST, "HTTP 400 ReferenceIds: [\"The value is invalid.\"]"),
        ("s401", REQUEST, "HTTP 401 message: token [redacted] is not valid"),
        ("s403", REQUEST, "HTTP 403 (empty body)"),
        ("s500", ErrorClass::Retryable(ErrorKind::ServerError), "HTTP 500"),
        ("s503", ErrorClass::Retryable(ErrorKind::ServerError), "title: Service Unavailable"),
        ("slow", ErrorClass::Retryable(ErrorKind::Timeout), "the limit is 2s"),
        ("odd", ErrorClass::Retryable(ErrorKind::ServerError), "where a list was expected"),
    ] {
        let (got, message) =
            err(connector.call("find_orders", &json!({ "reference_ids": [reference] }), KEY).await, &[TOKEN]);
        assert_eq!(got, class, "{reference}: {message}");
        assert!(message.contains(part), "{reference}: {part} missing from {message}");
        assert!(message.starts_with("shipbob.find_orders"), "{message}");
    }
    let refused = ShipBobConnector::new(closed_port_url(), TOKEN, Duration::from_secs(2));
    let (class, message) =
        err(refused.call("find_orders", &json!({ "reference_ids": ["r"] }), KEY).await, &[TOKEN]);
    assert_eq!(class, ErrorClass::Retryable(ErrorKind::Network), "{message}");
}

#[tokio::test]
async fn settings_and_actions() {
    let mock = Mock::start(|_, _| Reply::ok(json!([]))).await;
    let connector = connector(&mock).with_api_version("2026-01");
    ok(connector.call("find_orders", &json!({ "reference_ids": ["r"] }), KEY).await);
    assert_eq!(mock.seen()[0].path, "/2026-01/order");

    let (class, message) = err(connector.call("cancel", &json!({}), KEY).await, &[TOKEN]);
    assert_eq!(class, REQUEST);
    for known in ACTIONS {
        assert!(message.contains(&format!("shipbob.{known}")), "{message}");
    }
    let no_token = ShipBobConnector::new(mock.url(), "", Duration::from_secs(5));
    let (_, message) = err(no_token.call("find_orders", &json!({ "reference_ids": ["r"] }), KEY).await, &[]);
    assert!(message.contains("shipbob.token"), "{message}");
    assert_eq!(mock.seen().len(), 1);

    let default = ShipBobConnector::new("", TOKEN, Duration::from_secs(7));
    let text = format!("{default:?}");
    assert!(text.contains("https://api.shipbob.com/") && !text.contains(TOKEN), "{text}");
    assert_eq!(default.timeout(), Duration::from_secs(7));
}
