//! The ShipBob connector: stock by fulfillment center, orders handed to the 3PL exactly once, their shipments and
//! returns, over ShipBob's REST API (`https://api.shipbob.com/{version}/…`; the spec is ShipBob's OpenAPI file,
//! `shipbob-openapi-2026-01.json` in the shared fixtures).
//!
//! # Actions
//!
//! The runtime passes the part after `shipbob.`; `args` is the step's rendered `with` table (unknown keys are
//! refused).
//!
//! | action | arguments | requests | result |
//! |---|---|---|---|
//! | `inventory` | `skus` (list) | `GET /{v}/inventory-level/locations?SearchBy=<sku>`, one per SKU | `{levels: [{sku, fulfillment_center_id, fulfillment_center, fulfillable, on_hand, committed}], missing: [sku]}` |
//! | `create_order` | `reference_id`, `order_number`, `recipient` `{name, email, address: {address1, city, country, …}}`, `products` `[{reference_id: sku, quantity, name?}]`, `shipping_method`; optional `type` (default `DTC`), `location_id`, `tags` | `POST /{v}/order` | `{order, already_created}` |
//! | `order_shipments` | `order_id` | `GET /{v}/order/{order_id}/shipment` | `{shipments: [...]}` |
//! | `find_orders` | `reference_ids` (list) | `GET /{v}/order?ReferenceIds=a,b` | `{orders: [...]}` |
//! | `returns` | `reference_id` (the order's), or `order_id` | the order's shipments, then `GET /{v}/return?OriginalShipmentIds=…` | `{returns: [...]}` |
//!
//! Every request carries `Authorization: Bearer <personal access token>` and, when configured
//! ([`ShipBobConnector::with_channel_id`]), `shipbob_channel_id`, which `POST /order` requires (without it
//! `create_order` fails before any request) and which scopes `reference_id` lookups to the channel the orders were
//! created in.
//!
//! ## One purchase, one order
//!
//! ShipBob keeps `reference_id` unique per channel and answers a second `POST /order` with the same one with 422.
//! So `create_order` answered 422 looks the order up (`GET /{v}/order?ReferenceIds=<reference_id>`): if it is there,
//! the result is that order with `already_created: true`, never a failure; the earlier attempt (whose answer was
//! lost to a timeout) or the same purchase seen twice (a Shopify order and its Stripe session) already shipped it.
//! A 422 for an order that is not there is a real validation error: fatal `request`, with ShipBob's words.
//!
//! ## Returns
//!
//! `GET /return`'s `ReferenceIds` filter is the *return's* reference (the RMA number), not the order's, so
//! `returns` goes through the order's shipments: ShipBob ties a return to its order by `original_shipment_id`.
//! With `reference_id`, the order is found by it and its `shipments` give the ids; with `order_id`, `GET
//! /{v}/order/{order_id}/shipment` does. An order without shipments has no returns, and no return request is made.
//!
//! ## Inventory
//!
//! `SearchBy` is a search, so an item counts for a SKU only when its `sku` is that SKU exactly; a SKU no item
//! matches is in `missing`. An item found without a location (nothing received yet) gives no level and is not
//! missing.
//!
//! # Errors
//!
//! 429 with `Retry-After` is waited out once when the wait ends within the call's timeout, then reported as
//! retryable `rate_limited`; 5xx retryable `server_error`; 408 and timeouts retryable `timeout`; a refused or reset
//! connection retryable `network`; 400, 401, 403, 404 and any other status fatal `request`. Messages name the
//! action, method and path, the status and ShipBob's error text; never the token.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderName;
use seam_flow::{CallOutcome, ErrorKind};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::vendor::{Api, Args, Call, Credentials, Failure, fatal_request, short, unknown_action};

/// ShipBob's API, used when the configured base URL is empty.
pub const DEFAULT_BASE_URL: &str = "https://api.shipbob.com";
/// The API version in every path unless configured otherwise.
pub const DEFAULT_API_VERSION: &str = "2026-07";
/// The actions this connector serves (the part after `shipbob.`).
pub const ACTIONS: [&str; 5] = ["inventory", "create_order", "order_shipments", "find_orders", "returns"];

/// The most SKUs or reference ids one call takes (each SKU is one request).
const MAX_ITEMS: usize = 100;
/// The order types ShipBob knows (`Orders.OrderType`).
const ORDER_TYPES: [&str; 3] = ["DTC", "DropShip", "B2B"];

/// The ShipBob connector. Cheap to clone. Its `Debug` never shows the token.
#[derive(Debug, Clone)]
pub struct ShipBobConnector {
    api: Api,
    version: String,
    channel_id: Option<String>,
}

impl ShipBobConnector {
    /// A connector for ShipBob's API at `base_url` (empty: [`DEFAULT_BASE_URL`]; `https://sandbox-api.shipbob.com`
    /// for ShipBob's sandbox) with a personal access `token`, giving each call at most `timeout`. Never panics: an
    /// unusable base URL or an empty token makes every call a fatal `request` error, and no request is made.
    pub fn new(base_url: impl Into<String>, token: impl Into<String>, timeout: Duration) -> Self {
        let token: String = token.into();
        let token = token.trim();
        let missing =
            token.is_empty().then(|| "no ShipBob token is configured (setting `shipbob.token`)".to_owned());
        let credentials = Credentials::bearer(token, missing);
        let api = Api::new(
            "shipbob",
            &base_url.into(),
            Some(DEFAULT_BASE_URL),
            "shipbob.base_url",
            credentials,
            timeout,
        );
        ShipBobConnector { api, version: DEFAULT_API_VERSION.to_owned(), channel_id: None }
    }

    /// Uses API version `version` (`2026-07`) in every path; empty keeps the default.
    pub fn with_api_version(mut self, version: impl Into<String>) -> Self {
        let version: String = version.into();
        if !version.trim().is_empty() {
            self.version = version.trim().to_owned();
        }
        self
    }

    /// Sends `shipbob_channel_id: <channel_id>` with every request (`create_order` requires it); empty sends none.
    pub fn with_channel_id(mut self, channel_id: impl Into<String>) -> Self {
        let channel_id: String = channel_id.into();
        let channel_id = channel_id.trim().to_owned();
        if !channel_id.is_empty() {
            self.api = self.api.with_header(
                HeaderName::from_static("shipbob_channel_id"),
                &channel_id,
                "shipbob.channel_id",
            );
            self.channel_id = Some(channel_id);
        }
        self
    }

    /// The call timeout this connector was built with.
    pub fn timeout(&self) -> Duration {
        self.api.timeout()
    }

    async fn run(&self, action: &str, args: &Value) -> CallOutcome {
        let Some(op) = Op::parse(action) else { return unknown_action("shipbob", action, &ACTIONS) };
        let label = format!("shipbob.{action}");
        if !is_version(&self.version) {
            return fatal_request(format!(
                "{label}: the API version `{}` is not of the form 2026-07 (setting `shipbob.api_version`); no \
                 request was made",
                short(&self.version, 40)
            ));
        }
        let request = match Request::parse(op, args) {
            Ok(request) => request,
            Err(why) => return fatal_request(format!("{label}: {why}; no request was made")),
        };
        if op == Op::CreateOrder && self.channel_id.is_none() {
            return fatal_request(format!(
                "{label}: ShipBob requires a channel id to create orders and none is configured (setting \
                 `shipbob.channel_id`, the id from GET /{}/channel); no request was made",
                self.version
            ));
        }
        let deadline = self.api.deadline();
        match self.execute(&label, request, deadline).await {
            Ok(value) => CallOutcome::Ok(value),
            Err(failure) => failure.outcome(),
        }
    }

    async fn execute(&self, label: &str, request: Request, deadline: Instant) -> Result<Value, Failure> {
        let v = self.version.as_str();
        match request {
            Request::Inventory { skus } => {
                let mut levels = Vec::new();
                let mut missing = Vec::new();
                for sku in skus {
                    let call =
                        Call::get(&[v, "inventory-level", "locations"]).with_query("SearchBy", sku.clone());
                    let answer = self.api.send(label, &call, deadline).await?;
                    let items = paged_items(&answer.body);
                    let mut found = false;
                    for item in
                        items.iter().filter(|item| item.get("sku").and_then(Value::as_str) == Some(&sku))
                    {
                        found = true;
                        for location in item.get("locations").and_then(Value::as_array).into_iter().flatten()
                        {
                            levels.push(json!({
                                "sku": sku,
                                "fulfillment_center_id": location.get("location_id").cloned().unwrap_or(Value::Null),
                                "fulfillment_center": location.get("name").cloned().unwrap_or(Value::Null),
                                "fulfillable": quantity(location, "fulfillable_quantity"),
                                "on_hand": quantity(location, "on_hand_quantity"),
                                "committed": quantity(location, "committed_quantity"),
                            }));
                        }
                    }
                    if !found {
                        missing.push(sku);
                    }
                }
                let by_sku = crate::sum_by_sku(&levels, &["fulfillable", "on_hand", "committed"]);
                Ok(json!({ "levels": levels, "missing": missing, "by_sku": by_sku }))
            }
            Request::CreateOrder { reference_id, body } => {
                let call = Call::send_json(Method::POST, &[v, "order"], body);
                match self.api.send(label, &call, deadline).await {
                    Ok(answer) => Ok(json!({ "order": answer.body, "already_created": false })),
                    Err(failure) if failure.status == Some(422) => {
                        let orders =
                            self.find_orders(label, std::slice::from_ref(&reference_id), deadline).await?;
                        match orders.into_iter().find(|o| reference_of(o) == Some(reference_id.as_str())) {
                            Some(order) => {
                                tracing::info!(%reference_id, "shipbob: the order was already created");
                                Ok(json!({ "order": order, "already_created": true }))
                            }
                            None => Err(Failure {
                                message: format!(
                                    "{} (and no order with reference_id `{}` exists, so it is not a repeat)",
                                    failure.message,
                                    short(&reference_id, 80)
                                ),
                                ..failure
                            }),
                        }
                    }
                    Err(failure) => Err(failure),
                }
            }
            Request::OrderShipments { order_id } => {
                let call = Call::get(&[v, "order", order_id.as_str(), "shipment"]);
                let answer = self.api.send(label, &call, deadline).await?;
                Ok(json!({ "shipments": list_of(answer.body, label)? }))
            }
            Request::FindOrders { reference_ids } => {
                Ok(json!({ "orders": self.find_orders(label, &reference_ids, deadline).await? }))
            }
            Request::Returns(order) => {
                let shipment_ids: Vec<String> = match order {
                    OrderRef::Reference(reference_id) => {
                        let orders =
                            self.find_orders(label, std::slice::from_ref(&reference_id), deadline).await?;
                        orders
                            .iter()
                            .filter(|o| reference_of(o) == Some(reference_id.as_str()))
                            .flat_map(|o| {
                                o.get("shipments").and_then(Value::as_array).cloned().unwrap_or_default()
                            })
                            .filter_map(|s| id_text(s.get("id")))
                            .collect()
                    }
                    OrderRef::Id(order_id) => {
                        let call = Call::get(&[v, "order", order_id.as_str(), "shipment"]);
                        let answer = self.api.send(label, &call, deadline).await?;
                        list_of(answer.body, label)?.iter().filter_map(|s| id_text(s.get("id"))).collect()
                    }
                };
                if shipment_ids.is_empty() {
                    return Ok(json!({ "returns": [] }));
                }
                let call =
                    Call::get(&[v, "return"]).with_query("OriginalShipmentIds", shipment_ids.join(","));
                let answer = self.api.send(label, &call, deadline).await?;
                Ok(json!({ "returns": paged_items(&answer.body) }))
            }
        }
    }

    /// `GET /{v}/order?ReferenceIds=a,b`: the orders, as ShipBob lists them.
    async fn find_orders(
        &self,
        label: &str,
        reference_ids: &[String],
        deadline: Instant,
    ) -> Result<Vec<Value>, Failure> {
        let call =
            Call::get(&[self.version.as_str(), "order"]).with_query("ReferenceIds", reference_ids.join(","));
        let answer = self.api.send(label, &call, deadline).await?;
        list_of(answer.body, label)
    }
}

#[async_trait::async_trait]
impl crate::Connector for ShipBobConnector {
    /// `action` is the part after `shipbob.`: one of [`ACTIONS`]. The idempotency key is not used: ShipBob takes
    /// none, and `reference_id` makes `create_order` idempotent instead.
    async fn call(&self, action: &str, args: &Value, _idempotency_key: &str) -> CallOutcome {
        self.run(action, args).await
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Inventory,
    CreateOrder,
    OrderShipments,
    FindOrders,
    Returns,
}

impl Op {
    fn parse(action: &str) -> Option<Op> {
        match action {
            "inventory" => Some(Op::Inventory),
            "create_order" => Some(Op::CreateOrder),
            "order_shipments" => Some(Op::OrderShipments),
            "find_orders" => Some(Op::FindOrders),
            "returns" => Some(Op::Returns),
            _ => None,
        }
    }
}

/// A call's checked arguments.
#[derive(Debug)]
enum Request {
    Inventory { skus: Vec<String> },
    CreateOrder { reference_id: String, body: Value },
    OrderShipments { order_id: String },
    FindOrders { reference_ids: Vec<String> },
    Returns(OrderRef),
}

/// How `returns` names its order.
#[derive(Debug)]
enum OrderRef {
    /// The order's `reference_id` (the upstream order id).
    Reference(String),
    /// ShipBob's order id.
    Id(String),
}

impl Request {
    fn parse(op: Op, args: &Value) -> Result<Request, String> {
        match op {
            Op::Inventory => {
                let args = Args::new(args, &["skus"])?;
                let skus = args.text_list("skus")?.ok_or("`skus` is missing")?;
                Ok(Request::Inventory { skus: checked_list("skus", skus)? })
            }
            Op::CreateOrder => {
                let args = Args::new(
                    args,
                    &[
                        "reference_id",
                        "order_number",
                        "recipient",
                        "products",
                        "shipping_method",
                        "type",
                        "location_id",
                        "tags",
                    ],
                )?;
                let reference_id = args.required_text("reference_id")?;
                if reference_id.len() > 300 || reference_id.contains(',') {
                    return Err("`reference_id` must be at most 300 characters, without a comma".to_owned());
                }
                let mut body = Map::new();
                body.insert("reference_id".into(), json!(reference_id));
                if let Some(number) = args.text("order_number")? {
                    body.insert("order_number".into(), json!(number));
                }
                body.insert("recipient".into(), recipient(args.get("recipient"))?);
                body.insert("products".into(), products(args.get("products"))?);
                body.insert("shipping_method".into(), json!(args.required_text("shipping_method")?));
                let kind = args.text("type")?.unwrap_or_else(|| "DTC".to_owned());
                if !ORDER_TYPES.contains(&kind.as_str()) {
                    return Err(format!(
                        "`type` must be one of {}, not `{}`",
                        ORDER_TYPES.join(", "),
                        short(&kind, 40)
                    ));
                }
                body.insert("type".into(), json!(kind));
                if let Some(location) = args.integer("location_id", 1, i32::MAX as u64)? {
                    body.insert("location_id".into(), json!(location));
                }
                if let Some(tags) = args.get("tags") {
                    let valid = tags.as_array().is_some_and(|tags| {
                        tags.iter().all(|t| {
                            t.get("name").is_some_and(Value::is_string)
                                && t.get("value").is_some_and(Value::is_string)
                        })
                    });
                    if !valid {
                        return Err("`tags` must be a list of {name, value} tables of strings".to_owned());
                    }
                    body.insert("tags".into(), tags.clone());
                }
                Ok(Request::CreateOrder { reference_id, body: Value::Object(body) })
            }
            Op::OrderShipments => {
                let args = Args::new(args, &["order_id"])?;
                Ok(Request::OrderShipments { order_id: args.required_numeric_id("order_id")? })
            }
            Op::FindOrders => {
                let args = Args::new(args, &["reference_ids"])?;
                let ids = args.text_list("reference_ids")?.ok_or("`reference_ids` is missing")?;
                Ok(Request::FindOrders { reference_ids: checked_list("reference_ids", ids)? })
            }
            Op::Returns => {
                let args = Args::new(args, &["reference_id", "order_id"])?;
                let reference_id = args.text("reference_id")?;
                let order_id = args.numeric_id("order_id")?;
                if reference_id.as_deref().is_some_and(|r| r.contains(',')) {
                    return Err("`reference_id` must not contain a comma".to_owned());
                }
                match (reference_id, order_id) {
                    (None, None) => Err("give `reference_id` (the order's) or `order_id`".to_owned()),
                    (Some(_), Some(_)) => Err("give `reference_id` or `order_id`, not both".to_owned()),
                    (Some(reference_id), None) => Ok(Request::Returns(OrderRef::Reference(reference_id))),
                    (None, Some(order_id)) => Ok(Request::Returns(OrderRef::Id(order_id))),
                }
            }
        }
    }
}

/// A non-empty list of at most [`MAX_ITEMS`] texts without commas (they are joined with commas in queries).
fn checked_list(name: &str, items: Vec<String>) -> Result<Vec<String>, String> {
    if items.is_empty() {
        return Err(format!("`{name}` is empty"));
    }
    if items.len() > MAX_ITEMS {
        return Err(format!("`{name}` has {} items; at most {MAX_ITEMS} per call", items.len()));
    }
    if let Some(bad) = items.iter().find(|item| item.contains(',')) {
        return Err(format!("`{name}` item `{}` contains a comma", short(bad, 60)));
    }
    let mut seen = std::collections::HashSet::new();
    Ok(items.into_iter().filter(|item| seen.insert(item.clone())).collect())
}

/// `{name, email?, phone_number?, address: {address1, city, country, …}}`, as ShipBob's `RecipientInfoViewModel`.
fn recipient(value: Option<&Value>) -> Result<Value, String> {
    let Some(Value::Object(recipient)) = value else {
        return Err("`recipient` must be a table with `name` and `address`".to_owned());
    };
    if !has_text(recipient.get("name")) {
        return Err("`recipient.name` is missing".to_owned());
    }
    let Some(Value::Object(address)) = recipient.get("address") else {
        return Err("`recipient.address` must be a table with `address1`, `city` and `country`".to_owned());
    };
    for field in ["address1", "city", "country"] {
        if !has_text(address.get(field)) {
            return Err(format!("`recipient.address.{field}` is missing"));
        }
    }
    Ok(Value::Object(recipient.clone()))
}

/// `[{reference_id: sku, quantity, name?, …}]`, each with a non-empty `reference_id` and a positive `quantity`.
fn products(value: Option<&Value>) -> Result<Value, String> {
    let Some(Value::Array(products)) = value else {
        return Err("`products` must be a list of {reference_id, quantity} tables".to_owned());
    };
    if products.is_empty() {
        return Err("`products` is empty".to_owned());
    }
    for (n, product) in products.iter().enumerate() {
        let Some(product) = product.as_object() else {
            return Err(format!("`products[{n}]` must be a table"));
        };
        if !has_text(product.get("reference_id")) {
            return Err(format!("`products[{n}].reference_id` (the SKU) is missing"));
        }
        if !product
            .get("quantity")
            .and_then(Value::as_u64)
            .is_some_and(|q| (1..=i32::MAX as u64).contains(&q))
        {
            return Err(format!("`products[{n}].quantity` must be a positive whole number"));
        }
    }
    Ok(Value::Array(products.clone()))
}

/// Whether `value` is a string with something in it.
fn has_text(value: Option<&Value>) -> bool {
    value.and_then(Value::as_str).is_some_and(|text| !text.trim().is_empty())
}

/// A list answer: a bare array (orders, shipments) or a paged `{items: [...]}`.
fn list_of(body: Value, label: &str) -> Result<Vec<Value>, Failure> {
    match body {
        Value::Array(items) => Ok(items),
        Value::Object(_) => Ok(paged_items(&body)),
        Value::Null => Ok(Vec::new()),
        other => Err(Failure::retryable(
            ErrorKind::ServerError,
            format!(
                "{label}: ShipBob answered {} where a list was expected",
                crate::vendor::type_name(&other)
            ),
        )),
    }
}

/// The `items` of a paged answer (`{items, next, ...}`), or the array itself.
fn paged_items(body: &Value) -> Vec<Value> {
    match body {
        Value::Array(items) => items.clone(),
        _ => body.get("items").and_then(Value::as_array).cloned().unwrap_or_default(),
    }
}

fn quantity(location: &Value, field: &str) -> Value {
    location.get(field).filter(|v| v.is_number()).cloned().unwrap_or(json!(0))
}

fn reference_of(order: &Value) -> Option<&str> {
    order.get("reference_id").and_then(Value::as_str)
}

fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) if n.is_u64() => Some(n.to_string()),
        Value::String(s) if crate::vendor::is_digits_id(s) => Some(s.clone()),
        _ => None,
    }
}

fn is_version(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= 20
        && version.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}
