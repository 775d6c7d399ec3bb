//! One helper builds the world for the multi-vendor tests: a sandbox on port 0 with every vendor's webhooks
//! going to a receiver on port 0 that keeps what it got, and a client that speaks each vendor's API.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use seam_sandbox::{RunningSandbox, SandboxConfig, SandboxHandle, Vendor, start};
use serde_json::{Value, json};

pub const STRIPE_SECRET: &str = "whsec_stripe_test";
pub const SHOPIFY_SECRET: &str = "shpss_shopify_client_secret";
/// Standard Webhooks: `whsec_` and base64 of the key bytes.
pub const SHIPBOB_SECRET: &str = "whsec_c2hpcGJvYi1zaWduaW5nLWtleS1mb3ItdGVzdHM=";
pub const ZENDESK_SECRET: &str = "zendesk-signing-secret";
pub const GORGIAS_SECRET: &str = "gorgias-shared-token";
pub const VERSION: &str = "2026-07";
pub const SHOPIFY_VERSION: &str = "2026-10";
pub const CHANNEL: i64 = 100_102;
pub const WAIT: Duration = Duration::from_secs(60);

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// One webhook as the receiver got it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub source: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Delivery {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

#[derive(Clone, Default)]
struct Got(Arc<Mutex<Vec<Delivery>>>);

async fn receive(
    State(got): State<Got>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    got.0.lock().unwrap().push(Delivery { source, headers, body });
    StatusCode::OK
}

/// A running sandbox, its webhook receiver and an HTTP client.
pub struct World {
    pub sandbox: RunningSandbox,
    pub base: String,
    pub http: reqwest::Client,
    got: Got,
}

pub fn client(timeout: Duration) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(timeout).build().unwrap()
}

/// Every vendor's secret, fast retries, a fixed salt; `change` adjusts the rest.
pub async fn world(seed: u64, change: impl FnOnce(&mut SandboxConfig)) -> World {
    let got = Got::default();
    let app = Router::new().route("/webhooks/{source}", post(receive)).with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut config = SandboxConfig {
        webhook_base: Some(receiver),
        webhook_secrets: BTreeMap::from([
            (Vendor::Stripe, STRIPE_SECRET.to_owned()),
            (Vendor::Shopify, SHOPIFY_SECRET.to_owned()),
            (Vendor::Shipbob, SHIPBOB_SECRET.to_owned()),
            (Vendor::Zendesk, ZENDESK_SECRET.to_owned()),
            (Vendor::Gorgias, GORGIAS_SECRET.to_owned()),
        ]),
        webhook_retry_delays: vec![Duration::from_millis(20); 3],
        world_salt: Some(seed ^ 0xabc),
        ..SandboxConfig::new(seed, STRIPE_SECRET)
    };
    change(&mut config);
    let sandbox = start(config, tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await.unwrap();
    let base = sandbox.url();
    World { sandbox, base, http: client(Duration::from_secs(20)), got }
}

impl World {
    pub fn handle(&self) -> SandboxHandle {
        self.sandbox.state()
    }

    /// Waits until every webhook is delivered, then everything the receiver got from `source`.
    pub async fn delivered(&self, source: &str) -> Vec<Delivery> {
        assert!(self.handle().settle(WAIT).await, "webhooks settle");
        self.got.0.lock().unwrap().iter().filter(|d| d.source == source).cloned().collect()
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn admin(&self, path: &str, body: Value) -> Value {
        let (status, answer) =
            self.send(reqwest::Method::POST, &format!("/_sandbox{path}"), &body, &[]).await;
        assert_eq!(status, 200, "admin {path}: {answer}");
        answer
    }

    /// A GraphQL request; the whole answer (`data`, `errors`, `extensions`).
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let path = format!("/admin/api/{SHOPIFY_VERSION}/graphql.json");
        let (status, answer) = self
            .send(reqwest::Method::POST, &path, &json!({ "query": query, "variables": variables }), &[])
            .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// `POST /{version}/order` with the channel header.
    pub async fn shipbob_create(&self, body: &Value) -> (u16, Value) {
        let channel = CHANNEL.to_string();
        self.send(
            reqwest::Method::POST,
            &format!("/{VERSION}/order"),
            body,
            &[("shipbob_channel_id", &channel)],
        )
        .await
    }

    pub fn log(&self) -> Vec<seam_sandbox::CallRecord> {
        self.handle().call_log()
    }
}

/// A ShipBob create body for a Shopify order (the REST order `orders/create` carries).
pub fn shipbob_order_for(order: &Value) -> Value {
    let products: Vec<Value> = order["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| json!({ "reference_id": l["sku"], "name": l["title"], "quantity": l["quantity"] }))
        .collect();
    let address = &order["shipping_address"];
    json!({
        "reference_id": order["id"].to_string(),
        "order_number": order["name"],
        "type": "DTC",
        "shipping_method": "Standard",
        "recipient": {
            "name": address["name"],
            "email": order["email"],
            "address": { "address1": address["address1"], "city": address["city"], "state": address["province_code"],
                "zip_code": address["zip"], "country": address["country_code"] }
        },
        "products": products,
    })
}
