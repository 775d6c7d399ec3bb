//! The shared world over real HTTP: one customer read from every vendor, an order placed in Shopify and handed to
//! the 3PL once, shipments, returns, tickets and checkouts, and each vendor's webhooks verified in its own scheme
//! (Seam's verifiers for Stripe, Shopify and Zendesk; a local HMAC for ShipBob's Standard Webhooks).

mod common;

use base64::Engine as _;
use common::*;
use hmac::{Hmac, Mac};
use seam_connectors::verify::{SourceKind, Verifier, parse_event};
use seam_sandbox::Helpdesk;
use serde_json::{Value, json};
use sha2::Sha256;

/// The connector's order query (`docs/connectors.md`, `shopify.customer_orders`).
const ORDERS: &str = r#"
query CustomerOrders($q: String!, $first: Int!) {
  orders(first: $first, sortKey: CREATED_AT, reverse: true, query: $q) {
    nodes {
      id name createdAt cancelledAt displayFinancialStatus displayFulfillmentStatus
      totalPriceSet { shopMoney { amount currencyCode } }
      lineItems(first: 50) { nodes { sku quantity title } }
      fulfillments(first: 10) { status trackingInfo { number url company } }
      refunds(first: 10) { id createdAt totalRefundedSet { shopMoney { amount currencyCode } } }
      returns(first: 10) { nodes { id status } }
    }
  }
}"#;

fn legacy(gid: &Value) -> String {
    gid.as_str().unwrap().rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn one_customer_reads_the_same_from_every_vendor() {
    let w = world(3, |_| {}).await;
    let summary = w.handle().world();
    let customer =
        summary.customers.iter().find(|c| c.orders.len() == 2).expect("a customer with two orders");

    let found = w
        .graphql(
            "query($q: String!) { customers(first: 5, query: $q) { nodes { id email firstName lastName numberOfOrders } } }",
            json!({ "q": format!("email:{}", customer.email) }),
        )
        .await;
    let nodes = found["data"]["customers"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{found}");
    assert_eq!(nodes[0]["id"], customer.shopify_id);
    assert_eq!(nodes[0]["numberOfOrders"], "2", "UnsignedInt64 is a string");
    assert!(found["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"].is_number());

    let answer = w.graphql(ORDERS, json!({ "q": format!("email:{}", customer.email), "first": 5 })).await;
    let orders = answer["data"]["orders"]["nodes"].as_array().unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(orders.len(), 2);
    let (returned, shipped) = (&orders[0], &orders[1]);
    assert_eq!(returned["displayFinancialStatus"], "REFUNDED");
    assert_eq!(returned["returns"]["nodes"][0]["status"], "CLOSED");
    assert_eq!(
        returned["refunds"][0]["totalRefundedSet"]["shopMoney"]["amount"],
        returned["totalPriceSet"]["shopMoney"]["amount"]
    );
    assert_eq!(shipped["displayFinancialStatus"], "PAID");
    assert_eq!(shipped["displayFulfillmentStatus"], "FULFILLED");
    let tracking = shipped["fulfillments"][0]["trackingInfo"][0]["number"].as_str().unwrap();
    assert_eq!(shipped["fulfillments"][0]["trackingInfo"][0]["company"], "USPS");

    // The 3PL has both orders under reference_id = the Shopify order's numeric id, with the same tracking.
    let (status, found) = w.get(&format!("/{VERSION}/order?ReferenceIds={}", legacy(&shipped["id"]))).await;
    assert_eq!(status, 200);
    assert_eq!(found[0]["reference_id"], legacy(&shipped["id"]));
    let (_, shipments) = w.get(&format!("/{VERSION}/order/{}/shipment", found[0]["id"])).await;
    assert_eq!(shipments[0]["tracking"]["tracking_number"], tracking);
    assert_eq!(shipments[0]["status"], "Completed");
    assert!(shipments[0]["delivery_date"].is_string());
    let (_, returns) = w.get(&format!("/{VERSION}/return?ReferenceIds={}", legacy(&returned["id"]))).await;
    assert_eq!(returns["items"].as_array().unwrap().len(), 1, "{returns}");
    assert_eq!(returns["items"][0]["status"], "Completed");

    // The Zendesk ticket's requester is the same person, found by the id the ticket names.
    let ticket = summary.tickets.iter().find(|t| t.vendor == Helpdesk::Zendesk).unwrap();
    assert_eq!(ticket.requester_email, customer.email);
    let (_, comments) = w.get(&format!("/api/v2/tickets/{}/comments.json", ticket.id)).await;
    let author = comments["comments"][0]["author_id"].as_u64().unwrap();
    assert_eq!(Some(author), customer.zendesk_user_id);
    let (_, user) = w.get(&format!("/api/v2/users/{author}.json")).await;
    assert_eq!(user["user"]["email"], customer.email.as_str());
    assert!(
        comments["comments"].as_array().unwrap().iter().any(|c| c["public"] == false),
        "the agent's note"
    );

    let (_, stripe) =
        w.get(&format!("/v1/customers/{}", customer.stripe_customer_id.as_deref().unwrap())).await;
    assert_eq!(stripe["email"], customer.email.as_str());

    // The seeded stock: something Shopify sells that the 3PL cannot ship, and counts that drift.
    assert!(
        summary.skus.iter().any(|s| s.shipbob_fulfillable == 0 && s.shopify_available > 0),
        "{:?}",
        summary.skus
    );
    assert!(summary.skus.iter().filter(|s| s.drift != 0).count() >= 2);
}

#[tokio::test]
async fn the_contracts_order_query_for_ten_orders_costs_more_than_shopify_allows() {
    let w = world(3, |_| {}).await;
    let answer = w.graphql(ORDERS, json!({ "q": "email:nobody@example.com", "first": 10 })).await;
    assert_eq!(answer["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED", "{answer}");
    assert_eq!(answer["extensions"]["cost"]["requestedQueryCost"], 1212);
    assert!(answer.get("data").is_none());
}

#[tokio::test]
async fn an_order_placed_in_shopify_is_created_once_at_the_3pl() {
    let w = world(5, |_| {}).await;
    let before = w.handle().world().skus.into_iter().find(|s| s.shipbob_fulfillable >= 3).unwrap();
    let order = w
        .admin(
            "/shopify/orders",
            json!({ "email": "new.buyer@example.com", "name": "New Buyer", "lines": [{ "sku": before.sku, "quantity": 2 }] }),
        )
        .await;
    let id = order["id"].as_u64().unwrap();
    assert!(id > 1 << 53, "a 64-bit id");
    assert_eq!(order["admin_graphql_api_id"], format!("gid://shopify/Order/{id}"));

    let deliveries = w.delivered("shopify").await;
    let created = deliveries.iter().find(|d| d.header("X-Shopify-Topic") == "orders/create").unwrap();
    let webhook = created.header("X-Shopify-Webhook-Id").to_owned();
    Verifier::new(SourceKind::Shopify, [SHOPIFY_SECRET])
        .verify(&created.headers, &created.body, now())
        .unwrap();
    let event = parse_event(SourceKind::Shopify, &created.headers, &created.body).unwrap();
    assert_eq!(
        (event.event_type.as_str(), event.id.as_str()),
        ("orders/create", created.header("X-Shopify-Webhook-Id"))
    );
    assert!(
        std::str::from_utf8(&created.body).unwrap().contains(&format!("\"id\":{id}")),
        "the id is exact on the wire"
    );
    assert_ne!(id as f64 as u64, id, "a reader using doubles would round it");
    assert_eq!(created.header("X-Shopify-Shop-Domain"), "seam-sandbox.myshopify.com");
    assert_eq!(created.header("X-Shopify-API-Version"), SHOPIFY_VERSION);
    assert!(created.header("X-Shopify-Triggered-At").ends_with('Z'));
    let level =
        deliveries.iter().find(|d| d.header("X-Shopify-Topic") == "inventory_levels/update").unwrap().json();
    assert_eq!(level["available"], before.shopify_available - 2);

    let (_, none) = w.get(&format!("/{VERSION}/order?ReferenceIds={id}")).await;
    assert_eq!(none, json!([]), "the 3PL knows nothing until Seam creates it");
    let body = shipbob_order_for(&order);
    let (status, created) = w.shipbob_create(&body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["reference_id"], id.to_string());
    assert_eq!(created["shipments"][0]["status"], "Processing");
    let (status, again) = w.shipbob_create(&body).await;
    assert_eq!((status, again), (422, json!({ "": ["Cannot insert order with existing ReferenceId"] })));
    let (_, found) = w.get(&format!("/{VERSION}/order?ReferenceIds={id}")).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let mut untyped = body.clone();
    untyped.as_object_mut().unwrap().remove("type");
    untyped["reference_id"] = json!("another");
    untyped["products"] = json!([{ "reference_id": "NOT-A-SKU", "quantity": 1 }]);
    let (status, refused) = w.shipbob_create(&untyped).await;
    assert_eq!(
        (status, refused["Type"][0].as_str()),
        (400, Some("The Type field is required.")),
        "{refused}"
    );
    untyped["type"] = json!("DTC");
    let (status, refused) = w.shipbob_create(&untyped).await;
    assert_eq!(status, 400);
    assert!(refused["Products[0].Name"][0].as_str().unwrap().contains("NOT-A-SKU"), "{refused}");

    let creates: Vec<Option<u16>> = w
        .log()
        .into_iter()
        .filter(|c| c.reference_id.as_deref() == Some(&id.to_string()))
        .map(|c| c.status)
        .collect();
    assert_eq!(creates, vec![Some(201), Some(422)]);
    let after = w.handle().world().skus.into_iter().find(|s| s.sku == before.sku).unwrap();
    assert_eq!(after.shipbob_fulfillable, before.shipbob_fulfillable - 2);
    assert_eq!(after.shopify_committed, before.shopify_committed + 2);
    let (status, _) = w
        .send(
            reqwest::Method::POST,
            &format!("/_sandbox/webhooks/{webhook}/redeliver"),
            &json!({ "times": 2 }),
            &[],
        )
        .await;
    assert_eq!(status, 200);
    let copies = w.delivered("shopify").await;
    let copies: Vec<_> = copies.iter().filter(|d| d.header("X-Shopify-Webhook-Id") == webhook).collect();
    assert_eq!(copies.len(), 3, "delivered three times, the same webhook");
    assert!(copies.iter().all(|d| d.body == copies[0].body));
    let buyer = w
        .graphql(
            "{ customers(first: 5, query: \"email:new.buyer@example.com\") { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(buyer["data"]["customers"]["nodes"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn shipping_delivering_and_returning_are_standard_webhooks_and_reach_shopify() {
    let w = world(8, |_| {}).await;
    let sku = w.handle().world().skus.into_iter().find(|s| s.shipbob_fulfillable >= 1).unwrap();
    let order = w.admin("/shopify/orders", json!({ "lines": [{ "sku": sku.sku }] })).await;
    let (_, created) = w.shipbob_create(&shipbob_order_for(&order)).await;
    let shipbob_id = created["id"].as_u64().unwrap();
    let shipment = w.admin(&format!("/shipbob/orders/{shipbob_id}/ship"), json!({})).await;
    let tracking = shipment["tracking"]["tracking_number"].as_str().unwrap().to_owned();
    w.admin(&format!("/shipbob/orders/{shipbob_id}/deliver"), json!({})).await;
    let returned = w.admin("/shipbob/returns", json!({ "reference_id": order["id"].to_string() })).await;
    assert_eq!(returned["status"], "Awaiting Arrival");

    let deliveries = w.delivered("shipbob").await;
    let topics: Vec<&str> = deliveries.iter().map(|d| d.header("x-webhook-topic")).collect();
    for topic in ["order.shipped", "order.shipment.delivered", "return.created"] {
        assert!(topics.contains(&topic), "{topics:?}");
    }
    let key = base64::engine::general_purpose::STANDARD
        .decode(SHIPBOB_SECRET.trim_start_matches("whsec_"))
        .unwrap();
    for d in &deliveries {
        let (id, ts) = (d.header("webhook-id"), d.header("webhook-timestamp"));
        assert!(id.starts_with("msg_"));
        assert!((now() - ts.parse::<i64>().unwrap()).abs() < 300);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
        mac.update(format!("{id}.{ts}.").as_bytes());
        mac.update(&d.body);
        let expected =
            format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
        assert!(
            d.header("webhook-signature").split(' ').any(|s| s == expected),
            "{}",
            d.header("webhook-signature")
        );
    }
    let shipped = deliveries.iter().find(|d| d.header("x-webhook-topic") == "order.shipped").unwrap().json();
    assert_eq!(shipped["tracking"]["tracking_number"], tracking.as_str());

    let gid = order["admin_graphql_api_id"].as_str().unwrap();
    let answer = w
        .graphql(
            "query($id: ID!) { order(id: $id) { displayFinancialStatus displayFulfillmentStatus fulfillments(first: 5) { displayStatus trackingInfo { number } } returns(first: 5) { nodes { status } } } }",
            json!({ "id": gid }),
        )
        .await;
    let o = &answer["data"]["order"];
    assert_eq!(o["displayFulfillmentStatus"], "FULFILLED", "{answer}");
    assert_eq!(o["fulfillments"][0]["displayStatus"], "DELIVERED");
    assert_eq!(o["fulfillments"][0]["trackingInfo"][0]["number"], tracking.as_str());
    assert_eq!(o["returns"]["nodes"][0]["status"], "OPEN");
    assert_eq!(o["displayFinancialStatus"], "REFUNDED");
    let (_, returns) = w.get(&format!("/{VERSION}/return?ReferenceIds={}", order["id"])).await;
    assert_eq!(returns["items"][0]["id"], returned["id"]);
}

#[tokio::test]
async fn a_ticket_names_its_requester_and_takes_internal_notes_and_tags() {
    let w = world(13, |_| {}).await;
    let customer = w.handle().world().customers.remove(2);
    let ticket = w
        .admin(
            "/tickets",
            json!({ "vendor": "zendesk", "email": customer.email, "subject": "Where is my parcel?", "body": "Order please" }),
        )
        .await;
    let id = ticket["id"].as_u64().unwrap();
    let zendesk = w.delivered("zendesk").await;
    let event = &zendesk[0];
    Verifier::new(SourceKind::Zendesk, [ZENDESK_SECRET]).verify(&event.headers, &event.body, now()).unwrap();
    let parsed = parse_event(SourceKind::Zendesk, &event.headers, &event.body).unwrap();
    assert_eq!(parsed.event_type, "zen:event-type:ticket.created");
    let requester = parsed.payload["detail"]["requester_id"].as_str().unwrap().to_owned();
    assert_eq!(parsed.payload["detail"]["id"], id.to_string());
    let (_, user) = w.get(&format!("/api/v2/users/{requester}.json")).await;
    assert_eq!(user["user"]["email"], customer.email.as_str());
    let found = w
        .graphql(
            "query($q: String!) { customers(first: 5, query: $q) { nodes { id } } }",
            json!({ "q": format!("email:{}", customer.email) }),
        )
        .await;
    assert_eq!(found["data"]["customers"]["nodes"][0]["id"], customer.shopify_id);

    let note = json!({ "ticket": { "comment": { "body": "Order #1003: shipped.\n\n[seam:run-1]", "public": false } } });
    let (status, updated) =
        w.send(reqwest::Method::PUT, &format!("/api/v2/tickets/{id}.json"), &note, &[]).await;
    assert_eq!(status, 200, "{updated}");
    let (status, tags) = w
        .send(
            reqwest::Method::PUT,
            &format!("/api/v2/tickets/{id}/tags.json"),
            &json!({ "tags": ["seam-context"] }),
            &[],
        )
        .await;
    assert_eq!((status, tags), (200, json!({ "tags": ["seam-context"] })));
    let (_, comments) = w.get(&format!("/api/v2/tickets/{id}/comments.json")).await;
    let last = &comments["comments"][1];
    assert_eq!(
        (last["public"].clone(), last["body"].as_str().unwrap().ends_with("[seam:run-1]")),
        (json!(false), true)
    );
    assert_eq!(w.log().iter().filter(|c| c.idempotency_key.as_deref() == Some("run-1")).count(), 1);

    let (status, missing) = w.get("/api/v2/users/1.json").await;
    assert_eq!((status, missing), (404, json!({ "error": "RecordNotFound", "description": "Not found" })));
    let (status, nowhere) = w.get("/api/v2/macros.json").await;
    assert_eq!((status, nowhere), (404, json!({ "error": "InvalidEndpoint", "description": "Not found" })));

    // Gorgias: the ticket-created call carries the token; notes and tags land on the ticket.
    let ticket = w
        .admin(
            "/tickets",
            json!({ "vendor": "gorgias", "requester_email": "stranger@example.net", "subject": "Hi", "body": "Is #1001 mine?" }),
        )
        .await;
    let id = ticket["id"].as_u64().unwrap();
    let gorgias = w.delivered("gorgias").await;
    assert_eq!(gorgias[0].header("X-Seam-Token"), GORGIAS_SECRET);
    let body = gorgias[0].json();
    assert_eq!(
        (body["id"].as_str().unwrap(), body["type"].as_str().unwrap()),
        (format!("ticket-created-{id}").as_str(), "ticket-created")
    );
    assert_eq!(body["ticket"]["requester"]["email"], "stranger@example.net");
    let note = json!({ "channel": "internal-note", "via": "api", "from_agent": true,
        "sender": { "email": "seam@example.com" }, "body_text": "No customer found.", "body_html": "<p>No customer found.</p>" });
    let (status, message) =
        w.send(reqwest::Method::POST, &format!("/api/tickets/{id}/messages"), &note, &[]).await;
    assert_eq!((status, message["public"].clone()), (201, json!(false)));
    let (status, _) = w
        .send(
            reqwest::Method::POST,
            &format!("/api/tickets/{id}/tags"),
            &json!({ "names": ["seam-no-customer"] }),
            &[],
        )
        .await;
    assert_eq!(status, 201);
    let (_, messages) = w.get(&format!("/api/tickets/{id}/messages")).await;
    assert_eq!(messages["data"].as_array().unwrap().len(), 2);
    let (_, ticket) = w.get(&format!("/api/tickets/{id}")).await;
    assert_eq!(ticket["tags"][0]["name"], "seam-no-customer");
}

#[tokio::test]
async fn a_stripe_checkout_has_line_items_with_skus_and_a_payment_intent_seam_annotates_once() {
    let w = world(21, |_| {}).await;
    let session = w
        .admin(
            "/stripe/checkout_sessions",
            json!({ "email": "buyer@example.org", "lines": [{ "sku": "MUG-STN", "quantity": 2 }, { "title": "Gift wrap", "price": 500 }] }),
        )
        .await;
    let id = session["id"].as_str().unwrap();
    assert!(id.starts_with("cs_test_"));
    let stripe = w.delivered("stripe").await;
    Verifier::new(SourceKind::Stripe, [STRIPE_SECRET])
        .verify(&stripe[0].headers, &stripe[0].body, now())
        .unwrap();
    let event = stripe[0].json();
    assert_eq!(
        (event["type"].as_str(), event["data"]["object"]["id"].as_str()),
        (Some("checkout.session.completed"), Some(id))
    );
    assert_eq!(event["data"]["object"]["amount_total"], 2 * 2400 + 500);

    let (status, items) = w
        .get(&format!("/v1/checkout/sessions/{id}/line_items?limit=100&expand%5B%5D=data.price.product"))
        .await;
    assert_eq!(status, 200, "{items}");
    assert_eq!(items["data"][0]["price"]["product"]["metadata"]["sku"], "MUG-STN");
    assert_eq!(items["data"][0]["quantity"], 2);
    assert_eq!(items["data"][1]["price"]["product"]["metadata"], json!({}), "a line without a SKU");
    let (_, plain) = w.get(&format!("/v1/checkout/sessions/{id}/line_items")).await;
    assert!(plain["data"][0]["price"]["product"].is_string());

    let intent = session["payment_intent"].as_str().unwrap();
    let post = |body: &'static str, key: &'static str| {
        w.http
            .post(format!("{}/v1/payment_intents/{intent}", w.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Idempotency-Key", key)
            .body(body)
            .send()
    };
    let first = post("metadata[shipbob_order_id]=300000001", "seam-run-7").await.unwrap();
    assert_eq!(first.status(), 200);
    let again = post("metadata[shipbob_order_id]=300000001", "seam-run-7").await.unwrap();
    assert_eq!(again.headers()["Idempotent-Replayed"], "true");
    let conflict = post("metadata[shipbob_order_id]=9", "seam-run-7").await.unwrap();
    assert_eq!(conflict.status(), 400);
    let (_, pi) = w.get(&format!("/v1/payment_intents/{intent}")).await;
    assert_eq!(pi["metadata"], json!({ "shipbob_order_id": "300000001" }));
    let calls = w.handle().calls();
    assert_eq!(calls.by_key["seam-run-7"].calls, 3);
    assert_eq!(calls.log.iter().filter(|c| c.replayed).count(), 1);

    let via = w
        .admin("/shopify/orders", json!({ "via": "stripe_checkout", "lines": [{ "sku": "CAP-OLV" }] }))
        .await;
    assert_eq!(via["object"], "checkout.session");
    let events: Vec<String> = w.handle().events().into_iter().map(|e| e.event_type).collect();
    assert_eq!(events, ["checkout.session.completed", "checkout.session.completed"]);
}

#[tokio::test]
async fn a_restock_moves_shopifys_count_and_the_centers() {
    let w = world(34, |_| {}).await;
    let short = w.handle().world().skus.into_iter().find(|s| s.shipbob_fulfillable == 0).unwrap();
    w.admin("/restock", json!({ "sku": short.sku, "quantity": 12 })).await;
    let deliveries = w.delivered("shopify").await;
    let update =
        deliveries.iter().find(|d| d.header("X-Shopify-Topic") == "inventory_levels/update").unwrap();
    Verifier::new(SourceKind::Shopify, [SHOPIFY_SECRET])
        .verify(&update.headers, &update.body, now())
        .unwrap();
    let level = update.json();
    assert_eq!(level["available"], short.shopify_available + 12);
    let item = legacy(&json!(short.inventory_item_id));
    assert!(std::str::from_utf8(&update.body).unwrap().contains(&format!("\"inventory_item_id\":{item}")));
    let (_, levels) = w.get(&format!("/{VERSION}/inventory-level/locations?SearchBy={}", short.sku)).await;
    let item = levels["items"].as_array().unwrap().iter().find(|i| i["sku"] == short.sku.as_str()).unwrap();
    assert_eq!(item["locations"][0]["on_hand_quantity"], 12, "{levels}");
    assert_eq!(item["locations"][0]["fulfillable_quantity"], 12);
}

#[tokio::test]
async fn the_same_seed_builds_the_same_world() {
    let (a, b, c) =
        (world(55, |_| {}).await, world(55, |cfg| cfg.world_salt = Some(1)).await, world(56, |_| {}).await);
    let (a, b, c) = (a.handle().world(), b.handle().world(), c.handle().world());
    assert_eq!(a, b);
    assert_ne!(a.customers, c.customers);
}
