//! `GET /integrations/gorgias/customer?email=…`: the sidebar widget Gorgias shows beside a ticket. Gorgias calls it
//! with the same secret token header its HTTP integration sends to `/webhooks/gorgias`, and shows the JSON in its
//! widgets: the customer, their recent orders with payment and fulfillment status, tracking (Shopify's and the
//! 3PL's shipments), returns and refunds. Read-only: it asks the vendors through Seam's connectors, writes
//! nothing, and starts no run.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use seam_flow::CallOutcome;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{AppState, error};

/// How many recent orders the widget shows.
const ORDERS: u64 = 10;

#[derive(Debug, Deserialize)]
pub(crate) struct WidgetQuery {
    email: Option<String>,
}

pub(crate) async fn gorgias_customer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<WidgetQuery>,
) -> Response {
    let Some(verifier) = state.sources.get("gorgias") else {
        return error(
            StatusCode::NOT_FOUND,
            "the gorgias source is not configured ([sources.gorgias] in seam.toml)",
        );
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    if verifier.verify(&headers, &Bytes::new(), now).is_err() {
        return error(
            StatusCode::UNAUTHORIZED,
            "the token header is missing or wrong; send the one the gorgias source has",
        );
    }
    let email = query.email.unwrap_or_default();
    let email = email.trim();
    if email.is_empty() || email.len() > 254 || !email.contains('@') || email.chars().any(char::is_control) {
        return error(StatusCode::BAD_REQUEST, "email: give the customer's e-mail address (?email=…)");
    }
    let Some(shopify) = state.engine.connector("shopify") else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the Shopify connector is not configured ([shopify] in seam.toml)",
        );
    };
    let call = |action: &'static str, args: Value| {
        let shopify = shopify.clone();
        async move { shopify.call(action, &args, "seam-gorgias-widget").await }
    };
    let found = match call("find_customer", json!({ "email": email })).await {
        CallOutcome::Ok(found) => found,
        CallOutcome::Err { message, .. } => return vendor_error("Shopify", &message),
    };
    let customers = found["customers"].as_array().cloned().unwrap_or_default();
    match customers.len() {
        0 => return axum::Json(json!({ "email": email, "customer": null, "orders": [] })).into_response(),
        1 => {}
        _ => {
            // Several customers share the e-mail: show who, never guess whose orders to show.
            return axum::Json(
                json!({ "email": email, "customer": null, "several": customers, "orders": [] }),
            )
            .into_response();
        }
    }
    let customer = &customers[0];
    let orders =
        match call("customer_orders", json!({ "customer_id": customer["id"], "first": ORDERS })).await {
            CallOutcome::Ok(orders) => orders["orders"].as_array().cloned().unwrap_or_default(),
            CallOutcome::Err { message, .. } => return vendor_error("Shopify", &message),
        };
    // The 3PL's view of the same orders, when ShipBob is configured: its orders carry the Shopify order's numeric
    // id as reference_id. A 3PL that does not answer leaves its part out and says so.
    let mut tpl_note = Value::Null;
    let mut tpl_orders: Vec<Value> = Vec::new();
    if let Some(shipbob) = state.engine.connector("shipbob") {
        let references: Vec<String> = orders.iter().filter_map(|o| numeric_id(&o["id"])).collect();
        if !references.is_empty() {
            match shipbob
                .call("find_orders", &json!({ "reference_ids": references }), "seam-gorgias-widget")
                .await
            {
                CallOutcome::Ok(found) => {
                    tpl_orders = found["orders"].as_array().cloned().unwrap_or_default()
                }
                CallOutcome::Err { message, .. } => {
                    tpl_note = json!(format!("ShipBob did not answer: {message}"))
                }
            }
        }
    }
    let orders: Vec<Value> = orders.iter().map(|order| widget_order(order, &tpl_orders)).collect();
    axum::Json(json!({
        "email": email,
        "customer": {
            "id": customer["id"],
            "name": format!("{} {}", text(&customer["firstName"]), text(&customer["lastName"])).trim(),
            "email": customer["email"],
        },
        "orders": orders,
        "shipments_note": tpl_note,
    }))
    .into_response()
}

fn vendor_error(vendor: &str, message: &str) -> Response {
    tracing::warn!(vendor, %message, "gorgias widget: a vendor call failed");
    error(StatusCode::BAD_GATEWAY, format!("{vendor} did not answer as expected; try again shortly"))
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// `gid://shopify/Order/123` → `123`.
fn numeric_id(gid: &Value) -> Option<String> {
    let digits = gid.as_str()?.rsplit('/').next()?;
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())).then(|| digits.to_owned())
}

/// One order as the widget shows it.
fn widget_order(order: &Value, tpl_orders: &[Value]) -> Value {
    let reference = numeric_id(&order["id"]);
    let shipments: Vec<Value> = tpl_orders
        .iter()
        .filter(|tpl| reference.as_deref().is_some_and(|r| tpl["reference_id"].as_str() == Some(r)))
        .flat_map(|tpl| tpl["shipments"].as_array().cloned().unwrap_or_default())
        .map(|shipment| {
            json!({
                "id": shipment["id"],
                "status": shipment["status"],
                "carrier": shipment["tracking"]["carrier"],
                "tracking_number": shipment["tracking"]["tracking_number"],
                "tracking_url": shipment["tracking"]["tracking_url"],
            })
        })
        .collect();
    let tracking: Vec<Value> = order["fulfillments"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["trackingInfo"].as_array().cloned().unwrap_or_default())
        .map(|t| json!({ "carrier": t["company"], "number": t["number"], "url": t["url"] }))
        .collect();
    json!({
        "id": order["id"],
        "name": order["name"],
        "created_at": order["createdAt"],
        "cancelled_at": order["cancelledAt"],
        "total": order["totalPriceSet"]["shopMoney"]["amount"],
        "currency": order["totalPriceSet"]["shopMoney"]["currencyCode"],
        "payment": order["displayFinancialStatus"],
        "fulfillment": order["displayFulfillmentStatus"],
        "lines": order["lineItems"]["nodes"],
        "tracking": tracking,
        "shipments": shipments,
        "returns": order["returns"]["nodes"],
        "refunds": order["refunds"],
    })
}
