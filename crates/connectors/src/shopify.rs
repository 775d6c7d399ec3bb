//! The Shopify connector: customers, orders, stock by location, Seam's note on an order and order cancellation,
//! through the GraphQL Admin API (`POST {shop}/admin/api/{version}/graphql.json`, version `2026-10` unless
//! configured).
//!
//! # Actions
//!
//! The runtime passes the part after `shopify.`; `args` is the step's rendered `with` table (unknown keys are
//! refused). Every request is `{"query", "variables"}` with the inputs in `variables` (never pasted into the
//! document), and carries `X-Shopify-Access-Token`. Results are Shopify's own shapes (`camelCase`, connections as
//! `{nodes: [...]}`), ids as Shopify's global ids, text end to end (`gid://shopify/Order/5000000000000000001`:
//! 64 bits, exact).
//!
//! | action | arguments | GraphQL | result |
//! |---|---|---|---|
//! | `find_customer` | `email` | `customers(first: 5, query: "email:<email>")` | `{customers: [{id, email, firstName, lastName, numberOfOrders}], count}` |
//! | `customer_orders` | `customer_id` (gid or number) or `email`; `first` (1 to 10, default 10) | `orders(first, sortKey: CREATED_AT, reverse: true, query: "customer_id:<n>"` or `"email:<email>")`, [`ORDER_FIELDS`] with 20 lines an order | `{orders: [...]}`, newest first |
//! | `get_order` | `id` (gid or number) or `number` (`#1001` or `1001`) | `order(id:)`, or `orders(first: 5, query: "name:#1001")` keeping the one so named; the fields above with 50 lines, and `email customer { id email } fulfillmentOrders(first: 10) { nodes { id status assignedLocation { name } } } tags note` | `{order}`, `null` when there is none |
//! | `inventory` | `skus` (list); `location_id` (gid or number) optional | `productVariants(first: 10, query: "sku:A OR sku:B …")`, 5 SKUs a request, with `inventoryItem { id inventoryLevels(first: 20) { nodes { location { id name } quantities(names: ["available", "on_hand", "committed"]) { name quantity } } } }` | `{levels: [{sku, inventory_item_id, location_id, location, available, on_hand, committed}], missing: [sku]}` |
//! | `add_order_note` | `order_id`, `note`; `tags` (list) optional | `metafieldsSet(metafields: [{ownerId, namespace: "seam", key: <run-step key>, type: "multi_line_text_field", value: note}])`, then with tags `tagsAdd(id, tags)` | `{metafield: {id, namespace, key}, tags: [...]}` |
//! | `cancel_order` | `order_id`, `reason` (`inventory`, `customer`, `declined`, `fraud`, `staff`, `other`), `refund`, `restock` (booleans); `notify_customer` (default false), `staff_note` optional | `orderCancel(orderId, reason: INVENTORY, refundMethod: {originalPaymentMethodsRefund: <refund>}, restock, notifyCustomer, staffNote) @idempotent(key: "<idempotency key>")` | `{job: {id, done}, order_id, already_cancelled: false}` |
//!
//! Why these shapes, where the Admin API asks for care:
//!
//! - **Query cost.** Shopify refuses a query whose requested cost passes 1,000 points, and the cost of nested
//!   connections multiplies (`first` × what each node asks for). Ten orders with 50 lines, ten fulfillments, ten
//!   refunds and ten returns each cost about 1,070, so `customer_orders` asks for 20 lines an order (about 770)
//!   and at most ten orders; `get_order` (one order) asks for 50. `inventory` asks for five SKUs at a time (ten
//!   variants with twenty locations each is about 640) and makes as many requests as it needs.
//! - **Search syntax.** An e-mail, an order name and a SKU go into Shopify's search syntax, so they are checked:
//!   an e-mail or order name with a space, quote, backslash, parenthesis or colon is refused (it could widen the
//!   search to other customers), and a SKU with anything but letters, digits, `.`, `_` and `-` is quoted. The
//!   search is not exact, so `inventory` keeps only variants whose `sku` is the SKU asked for, and `get_order` by
//!   number only the order of that name.
//! - **Notes.** Shopify's `note` and `tags` inputs on `orderUpdate` replace what the order holds, so a note is a
//!   metafield of its own (namespace `seam`, one key per run and step) and tags are added with `tagsAdd`. The key is
//!   the run-step part of the engine's idempotency key (`seam-<run>-<step>`, without the attempt number, or, past
//!   Shopify's 64 characters, `seam-` and 40 hex digits of its SHA-256), so a retried attempt writes the same
//!   metafield again instead of a second one; `tagsAdd` of a tag the order has changes nothing.
//! - **Cancellation.** `refund` is sent as `refundMethod: {originalPaymentMethodsRefund}`: since API 2025-07 the
//!   `refund` boolean is deprecated for it. The `@idempotent` directive carries the attempt's key (Shopify replays
//!   a repeated key), and since a retried attempt has a new key, an `orderCancelUserErrors` answer is followed by
//!   one `order(id) { cancelledAt }`: an order already cancelled (by an earlier attempt whose answer was lost) is
//!   the result, `{job: null, already_cancelled: true, cancelled_at}`, not a failure.
//!
//! # Access tokens
//!
//! Two kinds of app reach the Admin API. An app made in the shop's admin before 2026 (a "legacy custom app") has
//! a permanent `shpat_…` token: [`ShopifyConnector::new`] takes it, sent as `X-Shopify-Access-Token`. Since
//! January 2026 new apps are made in Shopify's Dev Dashboard, and an app the merchant installs on their own shop
//! gets tokens by the client credentials grant: `POST {shop}/admin/oauth/access_token` with
//! `grant_type=client_credentials&client_id=…&client_secret=…` (form-encoded) answers `{access_token, scope,
//! expires_in}`, a token that lasts about 24 hours. With [`ShopifyConnector::with_client_credentials`] the
//! connector fetches one when it first needs it, keeps it until five minutes (or a tenth of its life) before it
//! expires, fetches a new one then, and once more if Shopify answers 401 (a token revoked early). A refused grant
//! (400, 401: wrong id or secret, or the app not installed) is a fatal `request` error; the client secret and
//! the token are never in a message.
//!
//! # Throttling and errors
//!
//! Shopify meters queries by cost from a bucket that refills at `restoreRate` points a second; every answer's
//! `extensions.cost.throttleStatus` says how full it is. A throttled query is answered HTTP 200 with `{"errors":
//! [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}`: the connector waits until the bucket holds
//! the query's `requestedQueryCost` and asks again, as long as the wait ends within the call's timeout, then
//! reports retryable `rate_limited` (the engine's schedule waits longer). HTTP 429 with `Retry-After` is waited out
//! the same way, once.
//!
//! `userErrors` (and `orderCancelUserErrors`) are fatal `request` errors naming each field and Shopify's message and
//! code. Other GraphQL errors are fatal `request` (`ACCESS_DENIED`: the token lacks a scope; `MAX_COST_EXCEEDED`;
//! a bad id), except `INTERNAL_SERVER_ERROR`, retryable `server_error`. HTTP 401, 402, 403, 404 and 423 are fatal;
//! 5xx retryable `server_error`; timeouts retryable `timeout`; connection failures retryable `network`. Messages
//! never hold the access token.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use seam_flow::{CallOutcome, ErrorKind};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::vendor::{
    Api, Args, Call, CallAuth, Credentials, Failure, fatal_request, sensitive_header, short, short_key,
    unknown_action,
};

/// The API version in the path unless configured otherwise.
pub const DEFAULT_API_VERSION: &str = "2026-10";
/// The actions this connector serves (the part after `shopify.`).
pub const ACTIONS: [&str; 6] =
    ["find_customer", "customer_orders", "get_order", "inventory", "add_order_note", "cancel_order"];
/// The fields read for each order (`{lines}` lines).
pub const ORDER_FIELDS: &str = "id name createdAt cancelledAt displayFinancialStatus displayFulfillmentStatus \
     totalPriceSet { shopMoney { amount currencyCode } } \
     lineItems(first: {lines}) { nodes { sku quantity title } } \
     fulfillments(first: 10) { status trackingInfo { number url company } } \
     refunds(first: 10) { id createdAt totalRefundedSet { shopMoney { amount currencyCode } } } \
     returns(first: 10) { nodes { id status } }";
/// The further fields `get_order` reads.
const ORDER_DETAIL_FIELDS: &str = "email customer { id email } \
     fulfillmentOrders(first: 10) { nodes { id status assignedLocation { name } } } tags note";

const FIND_CUSTOMER: &str = "query SeamFindCustomer($query: String!) { customers(first: 5, query: $query) { \
     nodes { id email firstName lastName numberOfOrders } } }";
const INVENTORY: &str = "query SeamInventory($query: String!) { productVariants(first: 10, query: $query) { \
     nodes { sku inventoryItem { id inventoryLevels(first: 20) { nodes { location { id name } \
     quantities(names: [\"available\", \"on_hand\", \"committed\"]) { name quantity } } } } } } }";
const METAFIELDS_SET: &str = "mutation SeamAddOrderNote($metafields: [MetafieldsSetInput!]!) { \
     metafieldsSet(metafields: $metafields) { metafields { id namespace key } userErrors { field message code } } }";
const TAGS_ADD: &str = "mutation SeamTagsAdd($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { \
     node { id } userErrors { field message } } }";
const ORDER_CANCELLED: &str = "query SeamOrderCancelled($id: ID!) { order(id: $id) { id cancelledAt } }";

/// Lines read per order in `customer_orders` and in `get_order` (see the module documentation: query cost).
const LIST_LINES: u32 = 20;
const DETAIL_LINES: u32 = 50;
/// SKUs per `inventory` request.
const SKUS_PER_QUERY: usize = 5;
/// The most SKUs one `inventory` call takes.
const MAX_SKUS: usize = 250;
/// The shortest wait for the bucket, so a bucket that says it is full but throttles anyway is not hammered.
const MIN_THROTTLE_WAIT: Duration = Duration::from_millis(10);
/// Cancellation reasons: the argument and Shopify's `OrderCancelReason`.
const REASONS: [(&str, &str); 6] = [
    ("inventory", "INVENTORY"),
    ("customer", "CUSTOMER"),
    ("declined", "DECLINED"),
    ("fraud", "FRAUD"),
    ("staff", "STAFF"),
    ("other", "OTHER"),
];

/// The Shopify connector. Cheap to clone (clones share a fetched token). Its `Debug` never shows a credential.
#[derive(Debug, Clone)]
pub struct ShopifyConnector {
    api: Api,
    version: String,
    /// A Dev Dashboard app's client credentials, when configured: tokens are fetched with them.
    grant: Option<Arc<ClientCredentials>>,
}

/// A client id and secret, and the token they last fetched.
struct ClientCredentials {
    client_id: String,
    client_secret: String,
    /// The current token and when to stop using it; one fetch at a time.
    token: tokio::sync::Mutex<Option<(HeaderValue, Instant)>>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl ShopifyConnector {
    /// A connector for the shop at `base_url` (`https://<shop>.myshopify.com`; required; a bare host is taken as
    /// `https://`) with an Admin API `access_token` (a custom app's `shpat_…`), giving each call at most `timeout`,
    /// throttle waits included. Never panics: a missing or unusable setting makes every call a fatal `request`
    /// error naming it, and no request is made.
    pub fn new(base_url: impl Into<String>, access_token: impl Into<String>, timeout: Duration) -> Self {
        let token: String = access_token.into();
        let token = token.trim();
        let missing = token.is_empty().then(|| {
            "no Shopify access token is configured (setting `shopify.access_token`, or `shopify.client_id` and \
             `shopify.client_secret` for an app made in the Dev Dashboard)"
                .to_owned()
        });
        let credentials =
            Credentials::header(HeaderName::from_static("x-shopify-access-token"), token, missing);
        let api = Api::new("shopify", &base_url.into(), None, "shopify.shop_url", credentials, timeout);
        ShopifyConnector { api, version: DEFAULT_API_VERSION.to_owned(), grant: None }
    }

    /// Fetches access tokens with the client credentials grant (an app made in Shopify's Dev Dashboard and
    /// installed on the merchant's own shop; see the module documentation) instead of using a fixed token. Takes
    /// precedence over the token given to [`ShopifyConnector::new`]. An empty id or secret changes nothing.
    pub fn with_client_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        let (client_id, client_secret): (String, String) = (client_id.into(), client_secret.into());
        let (client_id, client_secret) = (client_id.trim().to_owned(), client_secret.trim().to_owned());
        if client_id.is_empty() || client_secret.is_empty() {
            return self;
        }
        self.api = self.api.with_secret(&client_secret);
        self.grant = Some(Arc::new(ClientCredentials {
            client_id,
            client_secret,
            token: tokio::sync::Mutex::new(None),
        }));
        self
    }

    /// Uses Admin API version `version` (`2026-10`, or `unstable`); empty keeps the default.
    pub fn with_api_version(mut self, version: impl Into<String>) -> Self {
        let version: String = version.into();
        if !version.trim().is_empty() {
            self.version = version.trim().to_owned();
        }
        self
    }

    /// The call timeout this connector was built with.
    pub fn timeout(&self) -> Duration {
        self.api.timeout()
    }

    async fn run(&self, action: &str, args: &Value, idempotency_key: &str) -> CallOutcome {
        let Some(op) = Op::parse(action) else { return unknown_action("shopify", action, &ACTIONS) };
        let label = format!("shopify.{action}");
        if !is_api_version(&self.version) {
            return fatal_request(format!(
                "{label}: the API version `{}` is not of the form 2026-10 (setting `shopify.api_version`); no \
                 request was made",
                short(&self.version, 40)
            ));
        }
        let request = match Request::parse(op, args, idempotency_key) {
            Ok(request) => request,
            Err(why) => return fatal_request(format!("{label}: {why}; no request was made")),
        };
        let deadline = self.api.deadline();
        match self.execute(&label, request, deadline).await {
            Ok(value) => CallOutcome::Ok(value),
            Err(failure) => failure.outcome(),
        }
    }

    async fn execute(&self, label: &str, request: Request, deadline: Instant) -> Result<Value, Failure> {
        match request {
            Request::FindCustomer { search } => {
                let data = self.graphql(label, FIND_CUSTOMER, json!({ "query": search }), deadline).await?;
                let customers = nodes(&data, "customers");
                Ok(json!({ "count": customers.len(), "customers": customers }))
            }
            Request::CustomerOrders { search, first } => {
                let query = format!(
                    "query SeamCustomerOrders($query: String!, $first: Int!) {{ orders(first: $first, sortKey: \
                     CREATED_AT, reverse: true, query: $query) {{ nodes {{ {} }} }} }}",
                    order_fields(LIST_LINES)
                );
                let data =
                    self.graphql(label, &query, json!({ "query": search, "first": first }), deadline).await?;
                Ok(json!({ "orders": nodes(&data, "orders") }))
            }
            Request::OrderById { id } => {
                let query = format!(
                    "query SeamGetOrder($id: ID!) {{ order(id: $id) {{ {} {ORDER_DETAIL_FIELDS} }} }}",
                    order_fields(DETAIL_LINES)
                );
                let data = self.graphql(label, &query, json!({ "id": id }), deadline).await?;
                Ok(json!({ "order": data.get("order").cloned().unwrap_or(Value::Null) }))
            }
            Request::OrderByName { name } => {
                let query = format!(
                    "query SeamOrderByName($query: String!) {{ orders(first: 5, query: $query) {{ nodes {{ {} \
                     {ORDER_DETAIL_FIELDS} }} }} }}",
                    order_fields(DETAIL_LINES)
                );
                let search = format!("name:{name}");
                let data = self.graphql(label, &query, json!({ "query": search }), deadline).await?;
                let order = nodes(&data, "orders")
                    .into_iter()
                    .find(|order| order.get("name").and_then(Value::as_str) == Some(name.as_str()));
                Ok(json!({ "order": order }))
            }
            Request::Inventory { skus, location } => {
                let mut levels = Vec::new();
                let mut found = std::collections::BTreeSet::new();
                for chunk in skus.chunks(SKUS_PER_QUERY) {
                    let search =
                        chunk.iter().map(|sku| format!("sku:{}", search_value(sku))).collect::<Vec<_>>();
                    let data = self
                        .graphql(label, INVENTORY, json!({ "query": search.join(" OR ") }), deadline)
                        .await?;
                    for variant in nodes(&data, "productVariants") {
                        let Some(sku) = variant
                            .get("sku")
                            .and_then(Value::as_str)
                            .filter(|s| chunk.iter().any(|c| c == s))
                        else {
                            continue;
                        };
                        found.insert(sku.to_owned());
                        let item = variant.get("inventoryItem").cloned().unwrap_or(Value::Null);
                        let item_id = item.get("id").cloned().unwrap_or(Value::Null);
                        for level in nodes(&item, "inventoryLevels") {
                            let location_id = level.pointer("/location/id").cloned().unwrap_or(Value::Null);
                            if location.as_deref().is_some_and(|want| location_id.as_str() != Some(want)) {
                                continue;
                            }
                            let amount = |name: &str| {
                                level
                                    .get("quantities")
                                    .and_then(Value::as_array)
                                    .and_then(|qs| {
                                        qs.iter()
                                            .find(|q| q.get("name").and_then(Value::as_str) == Some(name))
                                    })
                                    .and_then(|q| q.get("quantity").cloned())
                                    .unwrap_or(json!(0))
                            };
                            levels.push(json!({
                                "sku": sku,
                                "inventory_item_id": item_id,
                                "location_id": location_id,
                                "location": level.pointer("/location/name").cloned().unwrap_or(Value::Null),
                                "available": amount("available"),
                                "on_hand": amount("on_hand"),
                                "committed": amount("committed"),
                            }));
                        }
                    }
                }
                let missing: Vec<&String> = skus.iter().filter(|sku| !found.contains(sku.as_str())).collect();
                let by_sku = crate::sum_by_sku(&levels, &["available", "on_hand", "committed"]);
                Ok(json!({ "levels": levels, "missing": missing, "by_sku": by_sku }))
            }
            Request::AddOrderNote { order_id, note, key, tags } => {
                let metafield = json!({
                    "ownerId": order_id, "namespace": "seam", "key": key,
                    "type": "multi_line_text_field", "value": note,
                });
                let data = self
                    .graphql(label, METAFIELDS_SET, json!({ "metafields": [metafield] }), deadline)
                    .await?;
                let payload = mutation_payload(label, &data, "metafieldsSet", "userErrors")?
                    .map_err(Failure::request)?;
                let written = payload
                    .get("metafields")
                    .and_then(Value::as_array)
                    .and_then(|m| m.first())
                    .cloned()
                    .unwrap_or(Value::Null);
                if !tags.is_empty() {
                    let data = self
                        .graphql(label, TAGS_ADD, json!({ "id": order_id, "tags": tags }), deadline)
                        .await?;
                    mutation_payload(label, &data, "tagsAdd", "userErrors")?.map_err(Failure::request)?;
                }
                Ok(json!({ "metafield": written, "tags": tags }))
            }
            Request::CancelOrder { order_id, variables, key } => {
                let query = format!(
                    "mutation SeamCancelOrder($orderId: ID!, $reason: OrderCancelReason!, $refundMethod: \
                     OrderCancelRefundMethodInput!, $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: \
                     String) {{ orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, \
                     restock: $restock, notifyCustomer: $notifyCustomer, staffNote: $staffNote) @idempotent(key: \
                     {key}) {{ job {{ id done }} orderCancelUserErrors {{ field message code }} }} }}",
                    key = graphql_string(&key)
                );
                let data = self.graphql(label, &query, variables, deadline).await?;
                match mutation_payload(label, &data, "orderCancel", "orderCancelUserErrors")? {
                    Ok(payload) => Ok(json!({
                        "job": payload.get("job").cloned().unwrap_or(Value::Null),
                        "order_id": order_id,
                        "already_cancelled": false,
                    })),
                    Err(user_errors) => {
                        let data =
                            self.graphql(label, ORDER_CANCELLED, json!({ "id": order_id }), deadline).await?;
                        match data.pointer("/order/cancelledAt").filter(|at| !at.is_null()) {
                            Some(cancelled_at) => {
                                tracing::info!(order = %order_id, "shopify: the order to cancel is already cancelled");
                                Ok(json!({
                                    "job": null,
                                    "order_id": order_id,
                                    "already_cancelled": true,
                                    "cancelled_at": cancelled_at,
                                }))
                            }
                            None => Err(Failure::request(user_errors)),
                        }
                    }
                }
            }
        }
    }

    /// Runs one GraphQL document; `Ok` is its `data`. Waits for the bucket when throttled (see the module
    /// documentation), as long as the wait ends before `deadline`.
    async fn graphql(
        &self,
        label: &str,
        query: &str,
        variables: Value,
        deadline: Instant,
    ) -> Result<Value, Failure> {
        let segments = ["admin", "api", self.version.as_str(), "graphql.json"];
        let call =
            Call::send_json(Method::POST, &segments, json!({ "query": query, "variables": variables }));
        let mut auth = self.token(label, deadline, false).await?;
        let mut renewed = false;
        loop {
            let answer = match self.api.send(label, &call.clone().with_auth(auth.clone()), deadline).await {
                Ok(answer) => answer,
                Err(failure) if failure.status == Some(401) && self.grant.is_some() && !renewed => {
                    tracing::info!(label, "shopify: the token was refused; fetching a new one");
                    auth = self.token(label, deadline, true).await?;
                    renewed = true;
                    continue;
                }
                Err(failure) => return Err(scrub_token(&auth, failure)),
            };
            let body = answer.body;
            let errors: Vec<&Value> = match body.get("errors") {
                Some(Value::Array(errors)) => errors.iter().collect(),
                Some(Value::Null) | None => Vec::new(),
                Some(other) => vec![other],
            };
            if errors.is_empty() {
                return match body.get("data") {
                    Some(data @ Value::Object(_)) => Ok(data.clone()),
                    _ => Err(Failure::retryable(
                        ErrorKind::ServerError,
                        format!("{label}: Shopify answered without `data` or `errors`"),
                    )),
                };
            }
            if errors.iter().any(|e| error_code(e) == Some("THROTTLED")) {
                let (wait, status) = throttle_wait(&body);
                if Instant::now() + wait < deadline {
                    tracing::info!(
                        label,
                        wait_ms = wait.as_millis() as u64,
                        "shopify: throttled; waiting for the bucket"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(Failure::retryable(
                    ErrorKind::RateLimited,
                    self.api.scrub(format!(
                        "{label}: Shopify throttled the query ({status}); waiting {:.1} s for the bucket would pass \
                         the call's limit of {:?}",
                        wait.as_secs_f64(),
                        self.api.timeout()
                    )),
                ));
            }
            let described: Vec<String> = errors.iter().take(3).map(|e| describe_graphql_error(e)).collect();
            let retryable = errors.iter().all(|e| error_code(e) == Some("INTERNAL_SERVER_ERROR"));
            let message = self.api.scrub(format!("{label}: GraphQL {}", described.join("; ")));
            let failure = if retryable {
                Failure::retryable(ErrorKind::ServerError, message)
            } else {
                Failure::request(message)
            };
            return Err(scrub_token(&auth, failure));
        }
    }
}

impl ShopifyConnector {
    /// The credential for the next request: the configured token, or (client credentials) the current token,
    /// fetched when there is none, it is due to expire, or `renew` says the last one was refused.
    async fn token(&self, label: &str, deadline: Instant, renew: bool) -> Result<CallAuth, Failure> {
        let Some(grant) = &self.grant else { return Ok(CallAuth::Configured) };
        let mut current = grant.token.lock().await;
        if !renew
            && let Some((token, until)) = current.as_ref()
            && Instant::now() < *until
        {
            return Ok(CallAuth::Token(token.clone()));
        }
        let form = vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_id".to_owned(), grant.client_id.clone()),
            ("client_secret".to_owned(), grant.client_secret.clone()),
        ];
        let call = Call::send_form(&["admin", "oauth", "access_token"], form);
        let answer = self.api.send(label, &call, deadline).await.map_err(|mut failure| {
            if matches!(failure.status, Some(400 | 401 | 403)) {
                failure.message.push_str(
                    " (the client credentials grant was refused: check `shopify.client_id` and \
                     `shopify.client_secret`, and that the app is installed on this shop)",
                );
            }
            failure
        })?;
        let token = answer.body.get("access_token").and_then(Value::as_str).filter(|t| !t.trim().is_empty());
        let Some(value) = token.and_then(sensitive_header) else {
            return Err(Failure::retryable(
                ErrorKind::ServerError,
                format!("{label}: Shopify's token answer has no usable `access_token`"),
            ));
        };
        // At most a week, whatever Shopify says, so the expiry instant cannot overflow.
        let lifetime =
            answer.body.get("expires_in").and_then(Value::as_u64).unwrap_or(3600).min(7 * 24 * 3600);
        let margin = (lifetime / 10).min(300);
        *current = Some((value.clone(), Instant::now() + Duration::from_secs(lifetime - margin)));
        Ok(CallAuth::Token(value))
    }
}

/// A failure's message without the fetched token, should Shopify ever echo it.
fn scrub_token(auth: &CallAuth, mut failure: Failure) -> Failure {
    if let CallAuth::Token(value) = auth
        && let Ok(token) = value.to_str()
        && token.len() >= 4
    {
        failure.message = failure.message.replace(token, "[redacted]");
    }
    failure
}

#[async_trait::async_trait]
impl crate::Connector for ShopifyConnector {
    /// `action` is the part after `shopify.`: one of [`ACTIONS`]. `cancel_order` sends `idempotency_key` in
    /// `@idempotent`; `add_order_note` keys its metafield by the key's run-step part.
    async fn call(&self, action: &str, args: &Value, idempotency_key: &str) -> CallOutcome {
        self.run(action, args, idempotency_key).await
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    FindCustomer,
    CustomerOrders,
    GetOrder,
    Inventory,
    AddOrderNote,
    CancelOrder,
}

impl Op {
    fn parse(action: &str) -> Option<Op> {
        match action {
            "find_customer" => Some(Op::FindCustomer),
            "customer_orders" => Some(Op::CustomerOrders),
            "get_order" => Some(Op::GetOrder),
            "inventory" => Some(Op::Inventory),
            "add_order_note" => Some(Op::AddOrderNote),
            "cancel_order" => Some(Op::CancelOrder),
            _ => None,
        }
    }
}

/// A call's checked arguments, ready for the query.
#[derive(Debug)]
enum Request {
    FindCustomer { search: String },
    CustomerOrders { search: String, first: u64 },
    OrderById { id: String },
    OrderByName { name: String },
    Inventory { skus: Vec<String>, location: Option<String> },
    AddOrderNote { order_id: String, note: String, key: String, tags: Vec<String> },
    CancelOrder { order_id: String, variables: Value, key: String },
}

impl Request {
    fn parse(op: Op, args: &Value, idempotency_key: &str) -> Result<Request, String> {
        match op {
            Op::FindCustomer => {
                let args = Args::new(args, &["email"])?;
                Ok(Request::FindCustomer {
                    search: format!("email:{}", email(&args.required_text("email")?)?),
                })
            }
            Op::CustomerOrders => {
                let args = Args::new(args, &["customer_id", "email", "first"])?;
                let first = args.integer("first", 1, 10)?.unwrap_or(10);
                let search = match (args.get("customer_id"), args.text("email")?) {
                    (Some(id), None) => format!("customer_id:{}", gid_number(id, "Customer", "customer_id")?),
                    (None, Some(address)) => format!("email:{}", email(&address)?),
                    (Some(_), Some(_)) => return Err("give `customer_id` or `email`, not both".to_owned()),
                    (None, None) => return Err("give `customer_id` (a gid or number) or `email`".to_owned()),
                };
                Ok(Request::CustomerOrders { search, first })
            }
            Op::GetOrder => {
                let args = Args::new(args, &["id", "number"])?;
                match (args.get("id"), args.text("number")?) {
                    (Some(id), None) => Ok(Request::OrderById { id: gid(id, "Order", "id")? }),
                    (None, Some(number)) => Ok(Request::OrderByName { name: order_name(&number)? }),
                    (Some(_), Some(_)) => Err("give `id` or `number`, not both".to_owned()),
                    (None, None) => Err("give `id` (a gid or number) or `number` (#1001)".to_owned()),
                }
            }
            Op::Inventory => {
                let args = Args::new(args, &["skus", "location_id"])?;
                let mut skus = args.text_list("skus")?.ok_or("`skus` is missing")?;
                if skus.is_empty() {
                    return Err("`skus` is empty".to_owned());
                }
                if skus.len() > MAX_SKUS {
                    return Err(format!("`skus` has {} items; at most {MAX_SKUS} per call", skus.len()));
                }
                let mut seen = std::collections::HashSet::new();
                skus.retain(|sku| seen.insert(sku.clone()));
                let location = match args.get("location_id") {
                    Some(id) => Some(gid(id, "Location", "location_id")?),
                    None => None,
                };
                Ok(Request::Inventory { skus, location })
            }
            Op::AddOrderNote => {
                let args = Args::new(args, &["order_id", "note", "tags"])?;
                let order_id =
                    gid(args.get("order_id").ok_or("`order_id` is missing")?, "Order", "order_id")?;
                let note = args.required_text("note")?;
                let tags = args.text_list("tags")?.unwrap_or_default();
                if tags.iter().any(|t| t.len() > 255) {
                    return Err("a tag is longer than 255 characters".to_owned());
                }
                Ok(Request::AddOrderNote { order_id, note, key: short_key(idempotency_key), tags })
            }
            Op::CancelOrder => {
                let args = Args::new(
                    args,
                    &["order_id", "reason", "refund", "restock", "notify_customer", "staff_note"],
                )?;
                let order_id =
                    gid(args.get("order_id").ok_or("`order_id` is missing")?, "Order", "order_id")?;
                let reason_text = args.required_text("reason")?;
                let Some((_, reason)) =
                    REASONS.iter().find(|(name, _)| *name == reason_text.to_ascii_lowercase())
                else {
                    let names: Vec<&str> = REASONS.iter().map(|(name, _)| *name).collect();
                    return Err(format!(
                        "`reason` must be one of {}, not `{}`",
                        names.join(", "),
                        short(&reason_text, 40)
                    ));
                };
                let refund = args.required_boolean("refund")?;
                let restock = args.required_boolean("restock")?;
                let notify = args.boolean("notify_customer")?.unwrap_or(false);
                let staff_note = args.text("staff_note")?;
                if idempotency_key.is_empty() || idempotency_key.len() > 255 {
                    return Err("the idempotency key must be 1 to 255 characters long".to_owned());
                }
                let variables = json!({
                    "orderId": order_id,
                    "reason": reason,
                    "refundMethod": { "originalPaymentMethodsRefund": refund },
                    "restock": restock,
                    "notifyCustomer": notify,
                    "staffNote": staff_note,
                });
                Ok(Request::CancelOrder { order_id, variables, key: idempotency_key.to_owned() })
            }
        }
    }
}

/// The order fields with `lines` line items.
fn order_fields(lines: u32) -> String {
    ORDER_FIELDS.replace("{lines}", &lines.to_string())
}

/// The `nodes` of connection `name` in `value` (empty when absent).
fn nodes(value: &Value, name: &str) -> Vec<Value> {
    value.get(name).and_then(|c| c.get("nodes")).and_then(Value::as_array).cloned().unwrap_or_default()
}

/// The payload of mutation `field`: `Ok(Ok(payload))`, or `Ok(Err(message))` naming each user error in
/// `errors_field` (a fatal `request` error for the caller, unless it can tell the work was done), or `Err` when
/// there is no payload at all.
fn mutation_payload(
    label: &str,
    data: &Value,
    field: &str,
    errors_field: &str,
) -> Result<Result<Value, String>, Failure> {
    let Some(payload) = data.get(field).filter(|p| p.is_object()) else {
        return Err(Failure::retryable(
            ErrorKind::ServerError,
            format!("{label}: Shopify answered no `{field}` payload"),
        ));
    };
    let errors = payload.get(errors_field).and_then(Value::as_array).cloned().unwrap_or_default();
    if errors.is_empty() {
        return Ok(Ok(payload.clone()));
    }
    let described: Vec<String> = errors
        .iter()
        .take(5)
        .map(|error| {
            let field_path = match error.get("field") {
                Some(Value::Array(parts)) => parts
                    .iter()
                    .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join("."),
                _ => "(no field)".to_owned(),
            };
            let message = error.get("message").and_then(Value::as_str).unwrap_or("no message");
            let code =
                error.get("code").and_then(Value::as_str).map(|c| format!(" ({c})")).unwrap_or_default();
            format!("field {}: {}{code}", short(&field_path, 80), short(message, 200))
        })
        .collect();
    Ok(Err(format!("{label}: {field} refused: {}", described.join("; "))))
}

fn error_code(error: &Value) -> Option<&str> {
    error.pointer("/extensions/code").and_then(Value::as_str).or_else(|| {
        // Older answers say only "Throttled".
        (error.get("message").and_then(Value::as_str) == Some("Throttled")).then_some("THROTTLED")
    })
}

/// `CODE: message (at path)`, one line.
fn describe_graphql_error(error: &Value) -> String {
    let message = match error {
        Value::String(text) => text.as_str(),
        _ => error.get("message").and_then(Value::as_str).unwrap_or("no message"),
    };
    let mut text = match error_code(error) {
        Some(code) => format!("{code}: {}", short(message, 200)),
        None => short(message, 200),
    };
    if let Some(Value::Array(path)) = error.get("path") {
        let path: Vec<String> =
            path.iter().map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned)).collect();
        text.push_str(&format!(" (at {})", short(&path.join("."), 80)));
    }
    if error_code(error) == Some("ACCESS_DENIED") {
        text.push_str(" (the access token lacks a scope Seam needs: see docs/connectors.md)");
    }
    text
}

/// How long until the bucket holds the query's cost, and the bucket's state in words.
fn throttle_wait(body: &Value) -> (Duration, String) {
    let cost =
        body.pointer("/extensions/cost/requestedQueryCost").and_then(Value::as_f64).unwrap_or(1.0).max(1.0);
    let status = body.pointer("/extensions/cost/throttleStatus");
    let field = |name: &str| status.and_then(|s| s.get(name)).and_then(Value::as_f64);
    let available = field("currentlyAvailable").unwrap_or(0.0).max(0.0);
    let rate = field("restoreRate").filter(|r| *r > 0.0).unwrap_or(50.0);
    let needed = (cost - available).max(0.0);
    let wait = Duration::from_secs_f64((needed / rate).min(3600.0)).max(MIN_THROTTLE_WAIT);
    let maximum = field("maximumAvailable").map(|m| format!(" of {m}")).unwrap_or_default();
    (wait, format!("the query costs {cost}; the bucket holds {available}{maximum}, refilling {rate}/s"))
}

/// A GraphQL global id of type `kind` from a gid (`gid://shopify/Order/123`) or a number.
fn gid(value: &Value, kind: &str, name: &str) -> Result<String, String> {
    Ok(format!("gid://shopify/{kind}/{}", gid_number(value, kind, name)?))
}

/// The number of a gid of type `kind` (or of a plain number), as decimal text (64 bits, exact).
fn gid_number(value: &Value, kind: &str, name: &str) -> Result<String, String> {
    let expected = format!("a Shopify {kind} id (gid://shopify/{kind}/<number>, or the number)");
    let text = match value {
        Value::Number(n) if n.as_u64().is_some() => return Ok(n.to_string()),
        Value::String(text) => text.trim(),
        other => return Err(format!("`{name}` must be {expected}, not {}", crate::vendor::type_name(other))),
    };
    let number = text.strip_prefix(&format!("gid://shopify/{kind}/")).unwrap_or(text);
    if crate::vendor::is_digits_id(number) {
        Ok(number.to_owned())
    } else {
        Err(format!("`{name}` must be {expected}, not `{}`", short(text, 80)))
    }
}

/// An e-mail safe to put in a search (`email:<email>`): one `@`, no space, quote, backslash, parenthesis or colon.
fn email(text: &str) -> Result<String, String> {
    let ok = text.len() <= 254
        && text.matches('@').count() == 1
        && !text.starts_with('@')
        && !text.ends_with('@')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control() || "\"'\\():,".contains(c));
    if ok {
        Ok(text.to_owned())
    } else {
        Err(format!("`email` is not a usable e-mail address: `{}`", short(text, 80)))
    }
}

/// An order name to search for: `1001` becomes `#1001`; a name is letters, digits, `#`, `-`, `_` and `.`.
fn order_name(text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text.len() <= 100
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "#-_.".contains(c));
    if !ok {
        return Err(format!("`number` must be an order name such as #1001, not `{}`", short(text, 60)));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) { Ok(format!("#{text}")) } else { Ok(text.to_owned()) }
}

/// A value for Shopify's search syntax: bare when it is letters, digits, `.`, `_` and `-` (not leading, where it
/// means NOT), else quoted with `\` before `"` and `\`.
fn search_value(text: &str) -> String {
    let bare = !text.starts_with('-') && text.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if bare { text.to_owned() } else { format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")) }
}

/// A GraphQL string literal (JSON's escaping is GraphQL's).
fn graphql_string(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

fn is_api_version(version: &str) -> bool {
    version == "unstable"
        || (version.len() == 7
            && version.as_bytes()[4] == b'-'
            && version.bytes().enumerate().all(|(i, b)| i == 4 || b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gids_are_exact_and_typed() {
        assert_eq!(
            gid(&json!("gid://shopify/Order/820982911946154508"), "Order", "id").unwrap(),
            "gid://shopify/Order/820982911946154508"
        );
        assert_eq!(
            gid(&json!(820_982_911_946_154_508_u64), "Order", "id").unwrap(),
            "gid://shopify/Order/820982911946154508"
        );
        assert_eq!(
            gid(&json!("5000000000000000001"), "Order", "id").unwrap(),
            "gid://shopify/Order/5000000000000000001"
        );
        for bad in [
            json!("gid://shopify/Customer/1"),
            json!("gid://shopify/Order/1/2"),
            json!("1.5"),
            json!(1.5),
            json!(""),
        ] {
            assert!(gid(&bad, "Order", "id").is_err(), "{bad}");
        }
    }

    #[test]
    fn search_values_cannot_widen_a_search() {
        assert_eq!(search_value("TEE-BLK-M"), "TEE-BLK-M");
        assert_eq!(search_value("A B"), "\"A B\"");
        assert_eq!(search_value("-X"), "\"-X\"");
        assert_eq!(search_value("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert!(email("a@example.com").is_ok());
        for bad in ["a@example.com OR email:b@x.y", "a@b:c", "no-at", "(a@b)", "a@@b"] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert_eq!(order_name("1001").unwrap(), "#1001");
        assert_eq!(order_name("#1001").unwrap(), "#1001");
        assert!(order_name("1001 OR name:*").is_err());
    }

    #[test]
    fn throttle_waits_for_the_cost() {
        let body = json!({ "extensions": { "cost": { "requestedQueryCost": 502,
            "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": 2, "restoreRate": 100.0 } } } });
        assert_eq!(throttle_wait(&body).0, Duration::from_secs(5));
        assert_eq!(throttle_wait(&json!({})).0, Duration::from_millis(20));
        let full = json!({ "extensions": { "cost": { "requestedQueryCost": 1,
            "throttleStatus": { "currentlyAvailable": 500, "restoreRate": 50 } } } });
        assert_eq!(throttle_wait(&full).0, MIN_THROTTLE_WAIT);
    }

    #[test]
    fn api_versions() {
        for good in ["2026-10", "2025-01", "unstable"] {
            assert!(is_api_version(good), "{good}");
        }
        for bad in ["", "2026-1", "2026/10", "latest", "2026-10/../x"] {
            assert!(!is_api_version(bad), "{bad}");
        }
    }
}
