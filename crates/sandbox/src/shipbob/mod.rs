//! ShipBob's face: the REST API under `/{version}/…` (any of ShipBob's versions: `1.0`, `2.0`, `2025-07`,
//! `2026-01`, ...), `Authorization: Bearer <token>` when one is configured, `shipbob_channel_id` on writes.
//!
//! Endpoints: `GET /{v}/channel`, `GET /{v}/inventory-level/locations` (`SearchBy`, `LocationId`,
//! `InventoryIds`, `PageSize`), `POST /{v}/order` (201; a repeated `reference_id` is 422
//! `{"": ["Cannot insert order with existing ReferenceId"]}`), `GET /{v}/order` (`ReferenceIds`, `IDs`, `Page`,
//! `Limit`), `GET /{v}/order/{id}`, `GET /{v}/order/{id}/shipment`, `GET /{v}/return` (`ReferenceIds`,
//! `StoreOrderIds`, `Ids`, `Status`), `GET /{v}/return/{id}`. Validation errors are 400 with ShipBob's
//! `{"Field": ["message"]}` body; other errors are RFC 7807 problem details, as the spec's examples show.

mod json;
mod story;

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value as Json, json};

pub(crate) use story::{NewShipbobOrder, Refusal};

use crate::SandboxHandle;
use crate::calls::is_shipbob_version;
use crate::state::parse_form;

pub(crate) fn routes() -> Router<SandboxHandle> {
    Router::new()
        .route("/{version}/channel", get(channels))
        .route("/{version}/inventory-level/locations", get(inventory))
        .route("/{version}/order", get(find_orders).post(create_order))
        .route("/{version}/order/{id}", get(get_order))
        .route("/{version}/order/{id}/shipment", get(order_shipments))
        .route("/{version}/return", get(find_returns))
        .route("/{version}/return/{id}", get(get_return))
}

fn respond(status: u16, body: &Json) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
}

fn problem(status: u16, title: &str, detail: &str) -> Response {
    let mut response = respond(
        status,
        &json!({ "type": "https://tools.ietf.org/html/rfc9110", "title": title, "status": status, "detail": detail }),
    );
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}

/// The answer to a request whose version is not one of ShipBob's or whose bearer token (when configured) is
/// wrong.
fn refusal(h: &SandboxHandle, version: &str, headers: &HeaderMap) -> Option<Response> {
    if !is_shipbob_version(version) {
        return Some(problem(404, "Not Found", "No such API version."));
    }
    if let Some(expected) = h.shared.config.shipbob_token.as_deref() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given.map(str::trim) != Some(expected) {
            return Some(problem(401, "Unauthorized", "No access right at this time"));
        }
    }
    None
}

/// Query parameters by lower-cased name (ShipBob's are case-insensitive).
fn params(query: Option<String>) -> BTreeMap<String, String> {
    parse_form(query.as_deref().unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

fn list(params: &BTreeMap<String, String>, name: &str) -> Option<Vec<String>> {
    params.get(name).map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
}

fn number(params: &BTreeMap<String, String>, name: &str, default: usize) -> usize {
    params.get(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn channels(
    State(h): State<SandboxHandle>,
    Path(version): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refusal(&h, &version, &headers) {
        return r;
    }
    let id = h.shared.config.shipbob_channel_id;
    respond(
        200,
        &json!({ "items": [{ "id": id, "name": "Seam Sandbox", "application_name": "SMA",
            "scopes": ["orders_read", "orders_write", "inventory_read", "returns_read", "channels_read", "webhooks_write"] }],
            "first": null, "last": null, "next": null, "prev": null }),
    )
}

async fn inventory(
    State(h): State<SandboxHandle>,
    Path(version): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Some(r) = refusal(&h, &version, &headers) {
        return r;
    }
    let p = params(q);
    let search = p.get("searchby").map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty());
    let ids = list(&p, "inventoryids");
    let location = p.get("locationid").and_then(|v| v.parse::<u64>().ok());
    let size = number(&p, "pagesize", 100).clamp(1, 250);
    let items: Vec<Json> = h.shared.read_world(|w| {
        (0..w.skus.len())
            .filter(|&i| {
                let s = &w.skus[i];
                search.as_ref().is_none_or(|q| {
                    s.sku.to_ascii_lowercase().contains(q)
                        || s.title.to_ascii_lowercase().contains(q)
                        || s.shipbob_inventory_id.to_string() == *q
                }) && ids.as_ref().is_none_or(|ids| ids.contains(&s.shipbob_inventory_id.to_string()))
            })
            .take(size)
            .map(|i| w.shipbob_levels_json(i, location))
            .collect()
    });
    respond(200, &json!({ "items": items, "first": null, "last": null, "next": null, "prev": null }))
}

/// ShipBob's 400 body: `{"Field.Path": ["message"]}`.
fn check_order(body: &Json) -> Result<NewShipbobOrder, BTreeMap<String, Vec<String>>> {
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut fail = |field: &str, message: String| errors.entry(field.to_owned()).or_default().push(message);
    let text = |v: &Json, name: &str| {
        v.get(name).and_then(Json::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
    };
    let reference_id = text(body, "reference_id");
    match &reference_id {
        None => fail("ReferenceId", "The ReferenceId field is required.".to_owned()),
        Some(r) if r.len() > 300 => fail(
            "ReferenceId",
            "The field ReferenceId must be a string with a minimum length of 1 and a maximum length of 300."
                .to_owned(),
        ),
        Some(_) => {}
    }
    let shipping_method = text(body, "shipping_method");
    if shipping_method.is_none() {
        fail("ShippingMethod", "The ShippingMethod field is required.".to_owned());
    }
    let order_type = text(body, "type");
    match order_type.as_deref() {
        None => fail("Type", "The Type field is required.".to_owned()),
        Some("DTC" | "DropShip" | "B2B") => {}
        Some(other) => fail(
            "Type",
            format!("Error converting value \"{other}\" to type 'OrderType'. Expected DTC, DropShip or B2B."),
        ),
    }
    let recipient = body.get("recipient").cloned().unwrap_or(Json::Null);
    if !recipient.is_object() {
        fail("Recipient", "The Recipient field is required.".to_owned());
    } else {
        if text(&recipient, "name").is_none() {
            fail("Recipient.Name", "The Name field is required.".to_owned());
        }
        match recipient.get("address") {
            Some(address) if address.is_object() => {
                for (name, label) in [("address1", "Address1"), ("city", "City"), ("country", "Country")] {
                    if text(address, name).is_none() {
                        fail(
                            &format!("Recipient.Address.{label}"),
                            format!("The {label} field is required."),
                        );
                    }
                }
            }
            _ => fail("Recipient.Address", "The Address field is required.".to_owned()),
        }
    }
    let mut products = Vec::new();
    match body.get("products").and_then(Json::as_array) {
        None => fail("Products", "The Products field is required.".to_owned()),
        Some(items) if items.is_empty() => {
            fail(
                "Products",
                "The field Products must be a string or array type with a minimum length of '1'.".to_owned(),
            );
        }
        Some(items) => {
            for (i, p) in items.iter().enumerate() {
                let quantity = p.get("quantity").and_then(Json::as_i64).unwrap_or(0);
                if quantity < 1 {
                    fail(
                        &format!("Products[{i}].Quantity"),
                        "The Quantity field must be at least 1.".to_owned(),
                    );
                }
                let reference = text(p, "reference_id")
                    .or_else(|| p.get("id").and_then(Json::as_i64).map(|id| id.to_string()));
                match reference {
                    None => fail(
                        &format!("Products[{i}].ReferenceId"),
                        "The ReferenceId field is required.".to_owned(),
                    ),
                    Some(reference) => {
                        let price = p.get("unit_price").and_then(Json::as_f64);
                        products.push((reference, text(p, "name"), quantity, price));
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewShipbobOrder {
        reference_id: reference_id.unwrap_or_default(),
        order_number: text(body, "order_number"),
        recipient,
        products,
        shipping_method: shipping_method.unwrap_or_default(),
        order_type: order_type.unwrap_or_default(),
        tags: body.get("tags").cloned().unwrap_or(json!([])),
        purchase_date: text(body, "purchase_date"),
        total_price: body.pointer("/financials/total_price").and_then(Json::as_f64),
    })
}

async fn create_order(
    State(h): State<SandboxHandle>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = refusal(&h, &version, &headers) {
        return r;
    }
    let channel = headers
        .get("shipbob_channel_id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let Some(channel) = channel else {
        return respond(
            400,
            &json!({ "shipbob_channel_id": ["The shipbob_channel_id header is required and must be an integer."] }),
        );
    };
    if channel != h.shared.config.shipbob_channel_id {
        return problem(
            403,
            "Forbidden",
            &format!("Channel {channel} does not exist or you do not have access to it."),
        );
    }
    let Ok(body) = serde_json::from_slice::<Json>(&body) else {
        return respond(400, &json!({ "": ["The request body is not valid JSON."] }));
    };
    let new = match check_order(&body) {
        Ok(new) => new,
        Err(errors) => return respond(400, &json!(errors)),
    };
    let now = crate::now_unix();
    let created =
        h.shared.with_world(|w| w.create_shipbob_order(new, now).map(|at| w.shipbob_order_json(at)));
    match created {
        Ok(order) => respond(201, &order),
        Err(Refusal::Invalid(errors)) => respond(400, &json!(errors)),
        Err(Refusal::Duplicate) => {
            respond(422, &json!({ "": ["Cannot insert order with existing ReferenceId"] }))
        }
    }
}

async fn find_orders(
    State(h): State<SandboxHandle>,
    Path(version): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Some(r) = refusal(&h, &version, &headers) {
        return r;
    }
    let p = params(q);
    let references = list(&p, "referenceids");
    let ids = list(&p, "ids");
    let (page, limit) = (number(&p, "page", 1).max(1), number(&p, "limit", 50).clamp(1, 250));
    let newest_first = !p.get("sortorder").is_some_and(|s| s.eq_ignore_ascii_case("oldest"));
    let (orders, total) = h.shared.read_world(|w| {
        let mut found: Vec<usize> = (0..w.shipbob_orders.len())
            .filter(|&i| {
                let o = &w.shipbob_orders[i];
                references.as_ref().is_none_or(|r| r.contains(&o.reference_id))
                    && ids.as_ref().is_none_or(|ids| ids.contains(&o.id.to_string()))
            })
            .collect();
        if newest_first {
            found.reverse();
        }
        let total = found.len();
        let page: Vec<Json> =
            found.into_iter().skip((page - 1) * limit).take(limit).map(|i| w.shipbob_order_json(i)).collect();
        (page, total)
    });
    let mut response = respond(200, &Json::Array(orders));
    let pages = total.div_ceil(limit).max(1);
    for (name, value) in
        [("Page-Number", page), ("Total-Pages", pages), ("Total-Count", total), ("Page-Size", limit)]
    {
        if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn order_at(h: &SandboxHandle, id: &str) -> Option<usize> {
    let id: u64 = id.parse().ok()?;
    h.shared.read_world(|w| w.shipbob_index(id))
}

async fn get_order(
    State(h): State<SandboxHandle>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refusal(&h, &version, &headers) {
        return r;
    }
    match order_at(&h, &id) {
        Some(at) => respond(200, &h.shared.read_world(|w| w.shipbob_order_json(at))),
        None => problem(404, "Not Found", &format!("Order {id} was not found.")),
    }
}

async fn order_shipments(
    State(h): State<SandboxHandle>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refusal(&h, &version, &headers) {
        return r;
    }
    match order_at(&h, &id) {
        Some(at) => respond(
            200,
            &h.shared.read_world(|w| {
                Json::Array(
                    (0..w.shipbob_orders[at].shipments.len())
                        .map(|s| w.shipbob_shipment_json(at, s))
                        .collect(),
                )
            }),
        ),
        None => problem(404, "Not Found", &format!("Order {id} was not found.")),
    }
}

async fn find_returns(
    State(h): State<SandboxHandle>,
    Path(version): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Some(r) = refusal(&h, &version, &headers) {
        return r;
    }
    let p = params(q);
    let references = list(&p, "referenceids");
    let store_orders = list(&p, "storeorderids");
    let ids = list(&p, "ids");
    let statuses: Option<Vec<String>> =
        list(&p, "status").map(|s| s.iter().map(|s| s.replace(' ', "").to_ascii_lowercase()).collect());
    let limit = number(&p, "limit", 50).clamp(1, 250);
    let items: Vec<Json> = h.shared.read_world(|w| {
        (0..w.shipbob_returns.len())
            .rev()
            .filter(|&i| {
                let r = &w.shipbob_returns[i];
                references.as_ref().is_none_or(|x| x.contains(&r.reference_id))
                    && store_orders.as_ref().is_none_or(|x| x.contains(&r.store_order_id))
                    && ids.as_ref().is_none_or(|x| x.contains(&r.id.to_string()))
                    && statuses
                        .as_ref()
                        .is_none_or(|x| x.contains(&r.status.replace(' ', "").to_ascii_lowercase()))
            })
            .take(limit)
            .map(|i| w.shipbob_return_json(i))
            .collect()
    });
    respond(200, &json!({ "items": items, "first": null, "last": null, "next": null, "prev": null }))
}

async fn get_return(
    State(h): State<SandboxHandle>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refusal(&h, &version, &headers) {
        return r;
    }
    let found = id.parse::<u64>().ok().and_then(|id| {
        h.shared.read_world(|w| {
            w.shipbob_returns.iter().position(|r| r.id == id).map(|at| w.shipbob_return_json(at))
        })
    });
    match found {
        Some(r) => respond(200, &r),
        None => problem(404, "Not Found", &format!("Return {id} was not found.")),
    }
}
