//! ShipBob's shapes, after the 2026-01 OpenAPI spec (`fixtures/3pl/shipbob/shipbob-openapi-2026-01.json`):
//! `Orders.OrderViewModel`, `Orders.ShipmentViewModel`, `Returns.PublicReturnDto`, and the inventory levels by
//! fulfillment center (`Inventory.InventoryQuantityFcResponse`).

use serde_json::{Value as Json, json};

use crate::world::World;
use crate::world::ids::utc;

impl World {
    pub(crate) fn shipbob_shipment_json(&self, order: usize, shipment: usize) -> Json {
        let o = &self.shipbob_orders[order];
        let s = &o.shipments[shipment];
        let center = &self.centers[s.center];
        let products: Vec<Json> = o
            .products
            .iter()
            .map(|p| {
                let inventory_id = p.item.map(|i| self.skus[i].shipbob_inventory_id);
                json!({
                    "id": inventory_id,
                    "reference_id": p.reference_id,
                    "sku": p.reference_id,
                    "name": p.name,
                    "inventory_items": [{
                        "id": inventory_id,
                        "name": p.name,
                        "quantity": p.quantity,
                        "quantity_committed": if s.shipped.is_some() { 0 } else { p.quantity },
                        "is_dangerous_goods": false,
                        "lot": null,
                        "expiration_date": null,
                        "serial_numbers": [],
                    }],
                })
            })
            .collect();
        let status_details: Vec<Json> = if s.short && s.shipped.is_none() {
            vec![json!({
                "id": 1,
                "name": "OutOfStock",
                "description": "One or more items in this shipment are out of stock at the assigned fulfillment center.",
                "exception_fulfillment_center_id": center.id,
                "inventory_id": null,
                "extra_information": null,
            })]
        } else {
            Vec::new()
        };
        json!({
            "id": s.id,
            "order_id": o.id,
            "reference_id": o.reference_id,
            "recipient": {
                "name": o.recipient["name"],
                "full_name": o.recipient["name"],
                "email": o.recipient["email"],
                "phone_number": o.recipient["phone_number"],
                "address": o.recipient["address"],
            },
            "created_date": utc(s.created),
            "last_update_at": utc(s.delivered.or(s.shipped).unwrap_or(s.created)),
            "last_tracking_update_at": s.shipped.map(|_| utc(s.delivered.or(s.shipped).unwrap_or(s.created))),
            "status": s.status(o.status),
            "status_details": status_details,
            "location": { "id": center.id, "name": center.name },
            "invoice_amount": null,
            "invoice_currency_code": "USD",
            "insurance_value": null,
            "ship_option": o.shipping_method,
            "tracking": s.tracking.as_ref().map(|t| json!({
                "carrier": t.company,
                "carrier_service": "Priority",
                "tracking_number": t.number,
                "tracking_url": t.url,
                "shipping_date": s.shipped.map(utc),
                "bol": null,
                "pro_number": null,
                "scac": null,
            })),
            "is_tracking_uploaded": s.tracking.is_some(),
            "products": products,
            "parent_cartons": [],
            "estimated_fulfillment_date": utc(s.created + 86_400),
            "estimated_fulfillment_date_status": if s.shipped.is_some() { "FulfilledOnTime" } else if s.short { "AwaitingInventoryAllocation" } else { "PendingOnTime" },
            "actual_fulfillment_date": s.shipped.map(utc),
            "delivery_date": s.delivered.map(utc),
            "require_signature": false,
            "gift_message": null,
            "package_material_type": "Unknown",
            "measurements": null,
        })
    }

    pub(crate) fn shipbob_order_json(&self, at: usize) -> Json {
        let o = &self.shipbob_orders[at];
        let products: Vec<Json> = o
            .products
            .iter()
            .map(|p| {
                json!({
                    "id": p.item.map(|i| self.skus[i].shipbob_inventory_id),
                    "reference_id": p.reference_id,
                    "sku": p.reference_id,
                    "quantity": p.quantity,
                    "unit_price": p.unit_price,
                    "external_line_id": null,
                    "gtin": null,
                    "upc": null,
                    "quantity_unit_of_measure_code": null,
                })
            })
            .collect();
        json!({
            "id": o.id,
            "created_date": utc(o.created),
            "purchase_date": o.purchase_date,
            "reference_id": o.reference_id,
            "order_number": o.order_number,
            "status": o.status.as_str(),
            "type": o.order_type,
            "channel": { "id": o.channel_id, "name": "Seam Sandbox" },
            "shipping_method": o.shipping_method,
            "recipient": o.recipient,
            "products": products,
            "tags": o.tags,
            "financials": { "total_price": o.total_price },
            "gift_message": null,
            "shipping_terms": { "carrier_type": "Parcel", "payment_term": "Prepaid" },
            "retailer_program_data": null,
            "shipments": (0..o.shipments.len()).map(|s| self.shipbob_shipment_json(at, s)).collect::<Vec<_>>(),
        })
    }

    pub(crate) fn shipbob_return_json(&self, at: usize) -> Json {
        let r = &self.shipbob_returns[at];
        let order = &self.shipbob_orders[r.order];
        let center = &self.centers[r.center];
        let when = |status: &str| r.history.iter().find(|(s, _)| *s == status).map(|(_, at)| utc(*at));
        let inventory: Vec<Json> = r
            .lines
            .iter()
            .map(|&(product, quantity)| {
                let p = &order.products[product];
                json!({
                    "id": p.item.map(|i| self.skus[i].shipbob_inventory_id),
                    "name": p.name,
                    "sku": p.reference_id,
                    "quantity": quantity,
                    "barcodes": [],
                    "lot_information": null,
                    "action_requested": { "action": "Restock", "action_type": "Default", "instructions": null },
                    "action_taken": if r.completed.is_some() {
                        json!([{ "action": "Restock", "action_reason": "Good condition", "quantity_processed": quantity, "image_url": null }])
                    } else {
                        json!([])
                    },
                })
            })
            .collect();
        json!({
            "id": r.id,
            "reference_id": r.reference_id,
            "store_order_id": r.store_order_id,
            "original_shipment_id": r.original_shipment_id,
            "status": r.status,
            "return_type": "Regular",
            "customer_name": order.recipient["name"],
            "channel": { "id": order.channel_id, "name": "Seam Sandbox" },
            "fulfillment_center": { "id": center.id, "name": center.name },
            "tracking_number": r.tracking_number,
            "shipment_tracking_number": order.shipments[0].tracking.as_ref().map(|t| t.number.clone()),
            "insert_date": utc(r.created),
            "awaiting_arrival_date": when("Awaiting Arrival"),
            "arrived_date": when("Arrived"),
            "processing_date": when("Processing"),
            "completed_date": when("Completed"),
            "cancelled_date": null,
            "status_history": r.history.iter().map(|(s, at)| json!({ "status": s, "timestamp": utc(*at) })).collect::<Vec<_>>(),
            "inventory": inventory,
            "invoice": { "amount": 3.5, "currency_code": "USD" },
            "transactions": [{ "amount": 3.5, "transaction_type": "ReturnProcessingFee" }],
        })
    }

    /// One item's levels by fulfillment center, for `GET /{version}/inventory-level/locations`.
    pub(crate) fn shipbob_levels_json(&self, item: usize, center: Option<u64>) -> Json {
        let s = &self.skus[item];
        let locations: Vec<Json> = self
            .centers
            .iter()
            .enumerate()
            .filter(|(_, c)| center.is_none_or(|id| id == c.id))
            .map(|(c, place)| {
                let level = self.center_levels[item][c];
                json!({
                    "location_id": place.id,
                    "name": place.name,
                    "on_hand_quantity": level.on_hand,
                    "fulfillable_quantity": level.fulfillable(),
                    "committed_quantity": level.committed,
                    "awaiting_quantity": level.awaiting,
                    "internal_transfer_quantity": 0,
                })
            })
            .collect();
        json!({ "inventory_id": s.shipbob_inventory_id, "name": s.title, "sku": s.sku, "locations": locations })
    }
}
