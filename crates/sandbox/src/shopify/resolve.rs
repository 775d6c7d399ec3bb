//! The query root: each field returns the whole matching objects (a connection when Shopify's is one), and
//! [`super::select`] pages and cuts them. Filtering (`query:`), sorting (`sortKey`, `reverse`) and lookups by
//! gid happen here.

use std::cmp::Ordering;

use serde_json::{Map, Value as Json, json};

use super::graphql::Field;
use super::nodes::connection;
use super::search::Search;
use super::select::argument;
use crate::world::ids::gid_number;
use crate::world::{Order, World};

/// The numeric id of `text` when it is a gid of type `kind`; an error naming it otherwise.
pub(crate) fn parse_gid(text: &Json, kind: &str) -> Result<u64, String> {
    let s = text.as_str().unwrap_or_default();
    let prefix = format!("gid://shopify/{kind}/");
    match s.strip_prefix(&prefix).map(|rest| rest.split('?').next().unwrap_or(rest).parse::<u64>()) {
        Some(Ok(id)) => Ok(id),
        _ if s.starts_with("gid://shopify/") => Ok(0),
        _ => Err(format!(
            "Invalid global id '{}'",
            text.as_str().map_or_else(|| text.to_string(), str::to_owned)
        )),
    }
}

fn equals(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl World {
    /// The root field's whole value; None for a field QueryRoot does not have.
    pub(crate) fn query(&mut self, field: &Field, vars: &Map<String, Json>) -> Result<Option<Json>, String> {
        let arg = |name: &str| argument(field, name, vars);
        let search = Search::parse(arg("query").as_str().unwrap_or(""));
        let reverse = arg("reverse").as_bool().unwrap_or(false);
        Ok(Some(match field.name.as_str() {
            "shop" => self.shop_node(),
            "customers" => {
                let mut found: Vec<usize> = (0..self.customers.len())
                    .filter(|&i| search.matches(|f, v| self.customer_has(i, f, v)))
                    .collect();
                if reverse {
                    found.reverse();
                }
                connection("Customer", found.into_iter().map(|i| self.customer_node(i)).collect())
            }
            "customer" => {
                let id = parse_gid(&arg("id"), "Customer")?;
                self.customers
                    .iter()
                    .position(|c| c.shopify_id == id)
                    .map_or(Json::Null, |i| self.customer_node(i))
            }
            "orders" => {
                let mut found: Vec<usize> = (0..self.orders.len())
                    .filter(|&i| search.matches(|f, v| self.order_has(i, f, v)))
                    .collect();
                let key = arg("sortKey").as_str().unwrap_or("ID").to_owned();
                found.sort_by(|&a, &b| order_by(&key, &self.orders[a], &self.orders[b]));
                if reverse {
                    found.reverse();
                }
                connection("Order", found.into_iter().map(|i| self.order_node(i)).collect())
            }
            "order" => {
                let id = parse_gid(&arg("id"), "Order")?;
                self.order_index(id).map_or(Json::Null, |i| self.order_node(i))
            }
            "productVariants" => {
                let mut found: Vec<usize> = (0..self.skus.len())
                    .filter(|&i| search.matches(|f, v| self.variant_has(i, f, v)))
                    .collect();
                if reverse {
                    found.reverse();
                }
                connection("ProductVariant", found.into_iter().map(|i| self.variant_node(i)).collect())
            }
            "productVariant" => {
                let id = parse_gid(&arg("id"), "ProductVariant")?;
                self.skus.iter().position(|s| s.variant_id == id).map_or(Json::Null, |i| self.variant_node(i))
            }
            "inventoryItem" => {
                let id = parse_gid(&arg("id"), "InventoryItem")?;
                match self.skus.iter().position(|s| s.inventory_item_id == id) {
                    Some(i) => self.variant_node(i)["inventoryItem"].clone(),
                    None => Json::Null,
                }
            }
            "locations" => {
                connection("Location", (0..self.locations.len()).map(|l| self.location_node(l)).collect())
            }
            "location" => match arg("id") {
                Json::Null => self.location_node(0),
                id => {
                    let id = parse_gid(&id, "Location")?;
                    self.locations
                        .iter()
                        .position(|l| l.id == id)
                        .map_or(Json::Null, |l| self.location_node(l))
                }
            },
            "job" => {
                let id = arg("id");
                json!({ "__typename": "Job", "id": id, "done": true, "query": { "__typename": "QueryRoot" } })
            }
            _ => return Ok(None),
        }))
    }

    fn customer_has(&self, at: usize, field: Option<&str>, value: &str) -> Option<bool> {
        let c = &self.customers[at];
        Some(match field {
            Some("email") => equals(&c.email, value),
            Some("id") | Some("customer_id") => gid_number(value) == Some(c.shopify_id),
            Some("first_name") => equals(&c.first, value),
            Some("last_name") => equals(&c.last, value),
            Some("phone") => c.phone.as_deref().is_some_and(|p| equals(p, value)),
            None => {
                let v = value.to_ascii_lowercase();
                c.email.to_ascii_lowercase().contains(&v) || c.name().to_ascii_lowercase().contains(&v)
            }
            Some(_) => return None,
        })
    }

    fn order_has(&self, at: usize, field: Option<&str>, value: &str) -> Option<bool> {
        let o = &self.orders[at];
        let name_matches = || equals(o.name().trim_start_matches('#'), value.trim_start_matches('#'));
        Some(match field {
            Some("name") => name_matches(),
            Some("email") => equals(&o.email, value),
            Some("id") => gid_number(value) == Some(o.id),
            Some("customer_id") => {
                o.customer.is_some_and(|c| gid_number(value) == Some(self.customers[c].shopify_id))
            }
            Some("sku") => o.lines.iter().any(|l| l.sku.as_deref().is_some_and(|s| equals(s, value))),
            Some("tag") => o.tags.iter().any(|t| equals(t, value)),
            Some("financial_status") => equals(o.financial.rest(), value),
            Some("fulfillment_status") => equals(o.fulfillment_status(), value),
            Some("status") => match value.to_ascii_lowercase().as_str() {
                "cancelled" => o.cancelled.is_some(),
                "closed" => o.cancelled.is_some() || o.fulfillment_status() == "FULFILLED",
                "open" => o.cancelled.is_none() && o.fulfillment_status() != "FULFILLED",
                _ => true,
            },
            None => name_matches() || equals(&o.email, value),
            Some(_) => return None,
        })
    }

    fn variant_has(&self, at: usize, field: Option<&str>, value: &str) -> Option<bool> {
        let s = &self.skus[at];
        Some(match field {
            Some("sku") => equals(&s.sku, value),
            Some("id") => gid_number(value) == Some(s.variant_id),
            Some("product_id") => gid_number(value) == Some(s.product_id),
            Some("title") => s.title.to_ascii_lowercase().contains(&value.to_ascii_lowercase()),
            None => {
                let v = value.to_ascii_lowercase();
                s.sku.to_ascii_lowercase().contains(&v) || s.title.to_ascii_lowercase().contains(&v)
            }
            Some(_) => return None,
        })
    }
}

/// Shopify's `OrderSortKeys` (the ones with an obvious meaning here); ties and unknown keys sort by id.
fn order_by(key: &str, a: &Order, b: &Order) -> Ordering {
    let primary = match key {
        "CREATED_AT" | "PROCESSED_AT" => a.created.cmp(&b.created),
        "UPDATED_AT" => a.updated.cmp(&b.updated),
        "ORDER_NUMBER" => a.number.cmp(&b.number),
        "TOTAL_PRICE" => a.total().cmp(&b.total()),
        _ => Ordering::Equal,
    };
    primary.then(a.id.cmp(&b.id))
}
