//! Shopify's GraphQL face over real HTTP: exactly the selection, Shopify's validation errors, cost and the leaky
//! bucket, `@idempotent` on `orderCancel`, and notes and tags that never overwrite.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

/// The connector's inventory query (`docs/connectors.md`, `shopify.inventory`), with its page sizes as variables.
const INVENTORY: &str = r#"
query Inventory($q: String!, $variants: Int!, $levels: Int!) {
  productVariants(first: $variants, query: $q) {
    nodes {
      sku
      inventoryItem { id inventoryLevels(first: $levels) { nodes {
        location { id name }
        quantities(names: ["available", "on_hand", "committed"]) { name quantity }
      } } }
    }
  }
}"#;

const CANCEL: &str = r#"
mutation Cancel($id: ID!, $reason: OrderCancelReason!, $key: String!) {
  orderCancel(orderId: $id, reason: $reason, refund: true, restock: true, notifyCustomer: false) @idempotent(key: $key) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"#;

fn keys(value: &Value) -> Vec<&str> {
    value.as_object().unwrap().keys().map(String::as_str).collect()
}

#[tokio::test]
async fn the_answer_is_the_selection_under_its_aliases_with_edges_and_pages() {
    let w = world(2, |_| {}).await;
    let query = r#"query($after: String) {
        page: orders(first: 2, sortKey: CREATED_AT, after: $after) {
          edges { cursor node { ...O } }
          pageInfo { hasNextPage endCursor }
        }
      }
      fragment O on Order { id number: name }"#;
    let first = w.graphql(query, json!({})).await;
    let edges = first["data"]["page"]["edges"].as_array().unwrap_or_else(|| panic!("{first}"));
    assert_eq!(edges.len(), 2);
    assert_eq!(keys(&edges[0]["node"]), ["id", "number"]);
    assert_eq!(first["data"]["page"]["pageInfo"]["hasNextPage"], true);
    let next = w.graphql(query, json!({ "after": first["data"]["page"]["pageInfo"]["endCursor"] })).await;
    let more = next["data"]["page"]["edges"].as_array().unwrap();
    assert!(!more.is_empty());
    assert_ne!(more[0]["node"]["id"], edges[0]["node"]["id"]);
    assert_ne!(more[0]["node"]["id"], edges[1]["node"]["id"]);
    let costs = &first["extensions"]["cost"];
    assert!(costs["requestedQueryCost"].as_u64().unwrap() >= costs["actualQueryCost"].as_u64().unwrap());
}

#[tokio::test]
async fn what_shopify_would_refuse_is_refused_in_shopifys_words() {
    let w = world(2, |_| {}).await;
    let unknown = w.graphql("{ orders(first: 1) { nodes { id colour } } }", json!({})).await;
    assert_eq!(unknown["errors"][0]["message"], "Field 'colour' doesn't exist on type 'Order'", "{unknown}");
    assert_eq!(unknown["errors"][0]["extensions"]["code"], "undefinedField");
    assert!(unknown.get("data").is_none());
    let root = w.graphql("{ ordersz(first: 1) { nodes { id } } }", json!({})).await;
    assert_eq!(root["errors"][0]["message"], "Field 'ordersz' doesn't exist on type 'QueryRoot'");
    let parse = w.graphql("{ orders(first: 1) { nodes { id } }", json!({})).await;
    assert!(parse["errors"][0]["message"].as_str().unwrap().starts_with("Parse error on"), "{parse}");
    let unpaged = w.graphql("{ orders { nodes { id } } }", json!({})).await;
    assert_eq!(unpaged["errors"][0]["message"], "you must provide one of first or last");
    let scalar = w.graphql("{ orders(first: 1) { nodes { lineItems(first: 1) } } }", json!({})).await;
    assert_eq!(scalar["errors"][0]["extensions"]["code"], "selectionMismatch");
    let (status, missing) = w
        .send(reqwest::Method::POST, &format!("/admin/api/{SHOPIFY_VERSION}/graphql.json"), &json!({}), &[])
        .await;
    assert_eq!(
        (status, missing),
        (400, json!({ "errors": { "query": "Required parameter missing or invalid" } }))
    );
}

#[tokio::test]
async fn inventory_by_sku_reads_shopifys_count_and_the_contracts_page_sizes_cost_too_much() {
    let w = world(4, |_| {}).await;
    let skus = w.handle().world().skus;
    let q = format!("sku:{} OR sku:{}", skus[0].sku, skus[1].sku);
    let answer = w.graphql(INVENTORY, json!({ "q": q, "variants": 100, "levels": 20 })).await;
    assert_eq!(answer["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED", "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["maxCost"], 1000);

    let answer = w.graphql(INVENTORY, json!({ "q": q, "variants": 2, "levels": 5 })).await;
    let nodes = answer["data"]["productVariants"]["nodes"].as_array().unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(nodes.len(), 2);
    for (node, sku) in nodes.iter().zip(&skus) {
        assert_eq!(node["sku"], sku.sku.as_str());
        assert_eq!(node["inventoryItem"]["id"], sku.inventory_item_id);
        let level = &node["inventoryItem"]["inventoryLevels"]["nodes"][0];
        assert_eq!(
            level["quantities"],
            json!([
                { "name": "available", "quantity": sku.shopify_available },
                { "name": "on_hand", "quantity": sku.shopify_on_hand },
                { "name": "committed", "quantity": sku.shopify_committed },
            ])
        );
    }
}

#[tokio::test]
async fn the_bucket_throttles_when_empty_and_refills_at_its_rate() {
    let w = world(4, |cfg| cfg.shopify_bucket = (60.0, 10.0)).await;
    let query = "{ productVariants(first: 50) { nodes { id } } }";
    let first = w.graphql(query, json!({})).await;
    assert_eq!(first["extensions"]["cost"]["requestedQueryCost"], 52, "{first}");
    assert_eq!(first["extensions"]["cost"]["actualQueryCost"], 12, "ten variants came back");
    let throttled = w.graphql(query, json!({})).await;
    assert_eq!(
        throttled["errors"],
        json!([{ "message": "Throttled",
        "extensions": { "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits" } }])
    );
    let status = &throttled["extensions"]["cost"]["throttleStatus"];
    assert_eq!(
        (status["maximumAvailable"].as_f64(), status["restoreRate"].as_f64()),
        (Some(60.0), Some(10.0))
    );
    assert!(status["currentlyAvailable"].as_f64().unwrap() < 52.0);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let again = w.graphql(query, json!({})).await;
    assert!(again["data"]["productVariants"]["nodes"].is_array(), "{again}");
}

#[tokio::test]
async fn order_cancel_under_an_idempotent_key_happens_once_and_changes_the_world() {
    let w = world(6, |_| {}).await;
    let sku = w.handle().world().skus.into_iter().find(|s| s.shipbob_fulfillable >= 2).unwrap();
    let order = w.admin("/shopify/orders", json!({ "lines": [{ "sku": sku.sku, "quantity": 2 }] })).await;
    let gid = order["admin_graphql_api_id"].as_str().unwrap().to_owned();
    let vars = json!({ "id": gid, "reason": "INVENTORY", "key": "seam-run-9-cancel-1" });
    let first = w.graphql(CANCEL, vars.clone()).await;
    assert_eq!(first["data"]["orderCancel"]["orderCancelUserErrors"], json!([]), "{first}");
    assert!(first["data"]["orderCancel"]["job"]["id"].as_str().unwrap().starts_with("gid://shopify/Job/"));
    let again = w.graphql(CANCEL, vars.clone()).await;
    assert_eq!(again["data"], first["data"], "the same key gets the same answer");
    let log: Vec<_> =
        w.log().into_iter().filter(|c| c.idempotency_key.as_deref() == Some("seam-run-9-cancel-1")).collect();
    assert_eq!(log.iter().map(|c| c.replayed).collect::<Vec<_>>(), [false, true]);
    assert!(log.iter().all(|c| c.operation.as_deref() == Some("orderCancel")));

    let after = w
        .graphql(
            "query($id: ID!) { order(id: $id) { cancelledAt cancelReason displayFinancialStatus refunds(first: 5) { id } } }",
            json!({ "id": gid }),
        )
        .await;
    let o = &after["data"]["order"];
    assert!(o["cancelledAt"].is_string());
    assert_eq!(
        (o["cancelReason"].as_str(), o["displayFinancialStatus"].as_str()),
        (Some("INVENTORY"), Some("REFUNDED"))
    );
    assert_eq!(o["refunds"].as_array().unwrap().len(), 1, "one refund, not two");
    let restocked = w.handle().world().skus.into_iter().find(|s| s.sku == sku.sku).unwrap();
    assert_eq!(
        (restocked.shopify_available, restocked.shopify_committed),
        (sku.shopify_available, sku.shopify_committed)
    );

    let reused =
        w.graphql(CANCEL, json!({ "id": gid, "reason": "OTHER", "key": "seam-run-9-cancel-1" })).await;
    assert_eq!(reused["errors"][0]["extensions"]["code"], "IDEMPOTENCY_KEY_REUSED", "{reused}");
    let twice = w.graphql(CANCEL, json!({ "id": gid, "reason": "INVENTORY", "key": "another" })).await;
    let errors = &twice["data"]["orderCancel"]["orderCancelUserErrors"];
    assert_eq!(
        (errors[0]["code"].as_str(), errors[0]["message"].as_str()),
        (Some("INVALID"), Some("Order has already been cancelled"))
    );
    let missing =
        w.graphql(CANCEL, json!({ "id": "gid://shopify/Order/1", "reason": "STAFF", "key": "k3" })).await;
    assert_eq!(missing["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"], "NOT_FOUND");
    let bad = w.graphql(CANCEL, json!({ "id": gid, "reason": "BORED", "key": "k4" })).await;
    assert!(bad["errors"][0]["message"].as_str().unwrap().contains("invalid value (BORED)"), "{bad}");
}

#[tokio::test]
async fn notes_and_tags_add_to_what_the_order_holds() {
    let w = world(7, |_| {}).await;
    let order = w.handle().world().orders.remove(1);
    assert!(order.tags.is_empty());
    let set = r#"mutation($m: [MetafieldsSetInput!]!) {
        metafieldsSet(metafields: $m) { metafields { key value } userErrors { field message code elementIndex } } }"#;
    let note = |key: &str, value: &str| json!({ "m": [{ "ownerId": order.id, "namespace": "seam", "key": key, "type": "multi_line_text_field", "value": value }] });
    let first = w.graphql(set, note("run-1-note", "Sent to ShipBob as 300000001.")).await;
    assert_eq!(first["data"]["metafieldsSet"]["userErrors"], json!([]), "{first}");
    w.graphql(set, note("run-2-note", "Restocked.")).await;
    let bad = w.graphql(set, note("seam:run-3:note", "x")).await;
    assert_eq!(
        bad["data"]["metafieldsSet"]["userErrors"][0]["field"],
        json!(["metafields", "0", "key"]),
        "{bad}"
    );
    let typo =
        w.graphql("mutation { metafieldsSet(metafields: []) { metafieldz { key } } }", json!({})).await;
    assert_eq!(typo["errors"][0]["extensions"]["code"], "undefinedField");

    let add = "mutation($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { message } } }";
    w.graphql(add, json!({ "id": order.id, "tags": ["seam-3pl"] })).await;
    let added = w.graphql(add, json!({ "id": order.id, "tags": ["vip, seam-3pl"] })).await;
    assert_eq!(added["data"]["tagsAdd"]["node"]["id"], order.id.as_str());
    let read = w
        .graphql(
            r#"query($id: ID!) { order(id: $id) { tags note: metafield(namespace: "seam", key: "run-1-note") { value }
                metafields(first: 10) { nodes { key } } } }"#,
            json!({ "id": order.id }),
        )
        .await;
    let o = &read["data"]["order"];
    assert_eq!(o["tags"], json!(["seam-3pl", "vip"]), "{read}");
    assert_eq!(o["note"]["value"], "Sent to ShipBob as 300000001.");
    assert_eq!(o["metafields"]["nodes"], json!([{ "key": "run-1-note" }, { "key": "run-2-note" }]));
}
