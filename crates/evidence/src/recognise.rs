//! Which export a file is, from its header alone, and where each column Seam reads is, by name.
//!
//! A column is found by its name (case and surrounding spaces ignored), never by its position: exports differ by
//! account and age (Stripe's `Created date (UTC)` was `Created (UTC)`; some accounts have no `Decline Reason`), and
//! a spreadsheet round trip reorders columns. A kind is recognised by columns only it has; a file of that kind that
//! then lacks a column Seam needs is named as such, so the message says which column to put back.

use serde::Serialize;

use crate::error::{Column, ImportError};

/// The exports Seam imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Shopify admin, Orders, Export: one row per line item.
    ShopifyOrders,
    /// Shopify admin, Products, Inventory, Export: one row per variant per location.
    ShopifyInventory,
    /// Stripe Dashboard, Payments, Export (`unified_payments.csv`): one row per charge or payment intent.
    StripePayments,
}

impl Kind {
    /// The name stored in the import log.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ShopifyOrders => "shopify_orders",
            Kind::ShopifyInventory => "shopify_inventory",
            Kind::StripePayments => "stripe_payments",
        }
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Kind::ShopifyOrders => "Shopify orders export",
            Kind::ShopifyInventory => "Shopify inventory export",
            Kind::StripePayments => "Stripe payments export",
        }
    }
}

/// The header as the file has it.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub names: Vec<String>,
    folded: Vec<String>,
}

impl Header {
    pub fn new(record: &csv::StringRecord) -> Header {
        let names: Vec<String> = record
            .iter()
            .enumerate()
            .map(|(n, name)| {
                if n == 0 { name.trim_start_matches('\u{feff}') } else { name }.trim().to_owned()
            })
            .collect();
        let folded = names.iter().map(|name| name.to_lowercase()).collect();
        Header { names, folded }
    }

    pub fn column(&self, index: usize) -> Column {
        Column { position: index + 1, name: self.names[index].clone() }
    }

    fn has(&self, name: &str) -> bool {
        self.folded.iter().any(|n| n == &name.to_lowercase())
    }

    /// The column named by the first of `names` the header has. Two columns with that name are an error: Seam
    /// would have to guess which one holds the value.
    fn find(&self, file: &str, names: &[&str]) -> Result<Option<usize>, ImportError> {
        for name in names {
            let folded = name.to_lowercase();
            let found: Vec<usize> =
                self.folded.iter().enumerate().filter(|(_, n)| **n == folded).map(|(i, _)| i).collect();
            match found.as_slice() {
                [] => continue,
                [one] => return Ok(Some(*one)),
                [first, second, ..] => {
                    return Err(ImportError::at(
                        file,
                        1,
                        Some(self.column(*second)),
                        format!(
                            "the header names {name:?} twice (columns {} and {}); keep one, so Seam need not guess \
                             which holds the value",
                            first + 1,
                            second + 1
                        ),
                    ));
                }
            }
        }
        Ok(None)
    }

    fn require(&self, file: &str, kind: Kind, names: &[&str]) -> Result<usize, ImportError> {
        self.find(file, names)?.ok_or_else(|| {
            let also = if names.len() > 1 { format!(" (or {:?})", &names[1..]) } else { String::new() };
            ImportError::missing(
                file,
                names[0],
                format!(
                    "a {} has it{also} and Seam reads it; export the file again with all columns, or put the column \
                     back with its header",
                    kind.label()
                ),
            )
        })
    }
}

/// Where Seam's columns are in a Shopify orders export.
#[derive(Debug, Clone)]
pub(crate) struct OrderColumns {
    pub name: usize,
    pub created_at: usize,
    pub financial_status: usize,
    pub fulfillment_status: usize,
    pub currency: usize,
    pub total: usize,
    pub lineitem_quantity: usize,
    pub lineitem_name: usize,
    pub id: Option<usize>,
    pub paid_at: Option<usize>,
    pub fulfilled_at: Option<usize>,
    pub cancelled_at: Option<usize>,
    pub refunded_amount: Option<usize>,
    pub lineitem_sku: Option<usize>,
    pub lineitem_price: Option<usize>,
    pub lineitem_fulfillment_status: Option<usize>,
}

/// Where Seam's columns are in a Shopify inventory export.
#[derive(Debug, Clone)]
pub(crate) struct InventoryColumns {
    pub handle: usize,
    pub sku: usize,
    pub location: usize,
    pub available: usize,
    pub title: Option<usize>,
    pub on_hand: Option<usize>,
    pub option_values: Vec<usize>,
}

/// Where Seam's columns are in a Stripe payments export.
#[derive(Debug, Clone)]
pub(crate) struct PaymentColumns {
    pub created: usize,
    pub amount: usize,
    pub currency: usize,
    pub status: usize,
    pub id: Option<usize>,
    pub payment_intent: Option<usize>,
    pub amount_refunded: Option<usize>,
    pub refunded_date: Option<usize>,
    pub decline_reason: Option<usize>,
    pub seller_message: Option<usize>,
    pub invoice: Option<usize>,
    pub customer: Option<usize>,
    pub description: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) enum Layout {
    Orders(OrderColumns),
    Inventory(InventoryColumns),
    Payments(PaymentColumns),
}

impl Layout {
    pub fn kind(&self) -> Kind {
        match self {
            Layout::Orders(_) => Kind::ShopifyOrders,
            Layout::Inventory(_) => Kind::ShopifyInventory,
            Layout::Payments(_) => Kind::StripePayments,
        }
    }
}

/// Stripe's creation-time column, newest name first.
const STRIPE_CREATED: &[&str] = &["Created date (UTC)", "Created (UTC)"];
const INVENTORY_AVAILABLE: &[&str] = &["Available (not editable)", "Available"];

/// Recognises the export from its header and finds every column Seam reads.
pub(crate) fn recognise(file: &str, header: &Header) -> Result<Layout, ImportError> {
    if header.has("Lineitem quantity") || header.has("Lineitem name") {
        let kind = Kind::ShopifyOrders;
        let need = |names: &[&str]| header.require(file, kind, names);
        return Ok(Layout::Orders(OrderColumns {
            name: need(&["Name"])?,
            created_at: need(&["Created at"])?,
            financial_status: need(&["Financial Status"])?,
            fulfillment_status: need(&["Fulfillment Status"])?,
            currency: need(&["Currency"])?,
            total: need(&["Total"])?,
            lineitem_quantity: need(&["Lineitem quantity"])?,
            lineitem_name: need(&["Lineitem name"])?,
            id: header.find(file, &["Id"])?,
            paid_at: header.find(file, &["Paid at"])?,
            fulfilled_at: header.find(file, &["Fulfilled at"])?,
            cancelled_at: header.find(file, &["Cancelled at"])?,
            refunded_amount: header.find(file, &["Refunded Amount"])?,
            lineitem_sku: header.find(file, &["Lineitem sku"])?,
            lineitem_price: header.find(file, &["Lineitem price"])?,
            lineitem_fulfillment_status: header.find(file, &["Lineitem fulfillment status"])?,
        }));
    }
    if header.has("Handle") && header.has("Location") {
        let kind = Kind::ShopifyInventory;
        let need = |names: &[&str]| header.require(file, kind, names);
        let mut option_values = Vec::new();
        for name in ["Option1 Value", "Option2 Value", "Option3 Value"] {
            option_values.extend(header.find(file, &[name])?);
        }
        return Ok(Layout::Inventory(InventoryColumns {
            handle: need(&["Handle"])?,
            sku: need(&["SKU"])?,
            location: need(&["Location"])?,
            available: need(INVENTORY_AVAILABLE)?,
            title: header.find(file, &["Title"])?,
            on_hand: header.find(file, &["On hand (current)", "On hand"])?,
            option_values,
        }));
    }
    let stripe_like = header.has("PaymentIntent ID")
        || (STRIPE_CREATED.iter().any(|name| header.has(name))
            && header.has("Amount")
            && header.has("Status"));
    if stripe_like {
        let kind = Kind::StripePayments;
        let need = |names: &[&str]| header.require(file, kind, names);
        let id = header.find(file, &["id"])?;
        let payment_intent = header.find(file, &["PaymentIntent ID"])?;
        if id.is_none() && payment_intent.is_none() {
            return Err(ImportError::missing(
                file,
                "id",
                "a Stripe payments export has it (or \"PaymentIntent ID\"), and Seam keys each payment by it so a \
                 re-import adds nothing twice; export the file again with all columns",
            ));
        }
        return Ok(Layout::Payments(PaymentColumns {
            created: need(STRIPE_CREATED)?,
            amount: need(&["Amount"])?,
            currency: need(&["Currency"])?,
            status: need(&["Status"])?,
            id,
            payment_intent,
            amount_refunded: header.find(file, &["Amount Refunded"])?,
            refunded_date: header.find(file, &["Refunded date (UTC)", "Refunded (UTC)"])?,
            decline_reason: header.find(file, &["Decline Reason"])?,
            seller_message: header.find(file, &["Seller Message"])?,
            invoice: header.find(file, &["Invoice ID"])?,
            customer: header.find(file, &["Customer ID"])?,
            description: header.find(file, &["Description"])?,
        }));
    }
    let first = header.names.first().cloned().unwrap_or_default();
    Err(ImportError::at(
        file,
        1,
        Some(Column { position: 1, name: first }),
        "this header is not one of the exports Seam imports: a Shopify orders export (Name, Created at, Lineitem \
         quantity, ...), a Shopify inventory export (Handle, SKU, Location, Available, ...) or a Stripe payments \
         export (id, Created date (UTC), Amount, Currency, Status, ...)",
    ))
}
