//! Reading an export row by row into typed records, and checking a whole file before anything is written.
//!
//! A Shopify orders export has one row per line item: an order's first row carries the order-level cells and
//! the rows after it with the same `Name` (continuation rows) only their line items, their order-level cells blank.
//! Cells may hold quoted commas and newlines; a row's line is where it starts.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

use crate::error::ImportError;
use crate::money::{Currency, parse_amount};
use crate::recognise::{Header, InventoryColumns, Kind, Layout, OrderColumns, PaymentColumns, recognise};
use crate::record::{LineItem, Order, Outcome, Payment, Record, StockLevel};
use crate::time::parse_instant;

/// An export being read: its kind is known from the header, its records come one by one.
#[derive(Debug)]
pub struct Records<R: Read> {
    file: String,
    csv: csv::Reader<R>,
    header: Header,
    layout: Layout,
    row: csv::StringRecord,
    /// The order whose rows are being read (its continuation rows may follow).
    pending: Option<Order>,
    /// Names and ids of the orders read so far, payment keys, stock rows: a second one is an error.
    seen: HashMap<String, u64>,
    rows: u64,
    finished: bool,
}

/// Opens an export: reads its header and recognises it.
pub fn read<R: Read>(file: &str, input: R) -> Result<Records<R>, ImportError> {
    let mut csv = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(input);
    let header = match csv.headers() {
        Ok(header) => Header::new(header),
        Err(error) => return Err(csv_error(file, error)),
    };
    if header.names.iter().all(String::is_empty) {
        return Err(ImportError::at(file, 1, None, "the file is empty: it has no header line"));
    }
    let layout = recognise(file, &header)?;
    Ok(Records {
        file: file.to_owned(),
        csv,
        header,
        layout,
        row: csv::StringRecord::new(),
        pending: None,
        seen: HashMap::new(),
        rows: 0,
        finished: false,
    })
}

fn csv_error(file: &str, error: csv::Error) -> ImportError {
    let line = error.position().map_or(1, csv::Position::line);
    let message = match error.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            "this row is not UTF-8 text; export the file again as UTF-8 CSV".to_owned()
        }
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!(
            "this row has {len} cells where the header has {expected_len}; the file may have been cut or edited"
        ),
        csv::ErrorKind::Io(error) => format!("could not be read: {error}"),
        _ => format!("is not CSV Seam can read: {error}"),
    };
    ImportError::at(file, line, None, message)
}

impl<R: Read> Records<R> {
    pub fn kind(&self) -> Kind {
        self.layout.kind()
    }

    /// Data rows read so far (an order's continuation rows included).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn cell(&self, index: usize) -> &str {
        self.row.get(index).unwrap_or("").trim()
    }

    fn optional_cell(&self, index: Option<usize>) -> Option<&str> {
        index.map(|index| self.cell(index)).filter(|value| !value.is_empty())
    }

    fn bad(&self, line: u64, index: usize, message: impl Into<String>) -> ImportError {
        ImportError::at(&self.file, line, Some(self.header.column(index)), message)
    }

    fn amount(&self, line: u64, index: usize, currency: Currency) -> Result<i64, ImportError> {
        let text = self.cell(index);
        parse_amount(text, currency).ok_or_else(|| {
            self.bad(
                line,
                index,
                format!(
                    "{text:?} is not an amount of {currency}; write it as the export does, such as 42.11"
                ),
            )
        })
    }

    fn optional_amount(
        &self,
        line: u64,
        index: Option<usize>,
        currency: Currency,
    ) -> Result<Option<i64>, ImportError> {
        match index {
            Some(index) if !self.cell(index).is_empty() => self.amount(line, index, currency).map(Some),
            _ => Ok(None),
        }
    }

    fn instant(
        &self,
        line: u64,
        index: usize,
        default_utc: bool,
    ) -> Result<crate::time::Instant, ImportError> {
        let text = self.cell(index);
        parse_instant(text, default_utc).ok_or_else(|| {
            let example = if default_utc { "2024-09-20 17:40:57" } else { "2025-12-07 19:08:25 -0500" };
            self.bad(
                line,
                index,
                format!("{text:?} is not a date and time; write it as the export does, such as {example}"),
            )
        })
    }

    fn optional_instant(
        &self,
        line: u64,
        index: Option<usize>,
        default_utc: bool,
    ) -> Result<Option<i64>, ImportError> {
        match index {
            Some(index) if !self.cell(index).is_empty() => {
                Ok(Some(self.instant(line, index, default_utc)?.unix))
            }
            _ => Ok(None),
        }
    }

    fn currency(&self, line: u64, index: usize) -> Result<Currency, ImportError> {
        let text = self.cell(index);
        Currency::parse(text).ok_or_else(|| {
            self.bad(
                line,
                index,
                format!("{text:?} is not a currency; write its three-letter code, such as USD"),
            )
        })
    }

    fn whole_number(&self, line: u64, index: usize, what: &str) -> Result<i64, ImportError> {
        let text = self.cell(index);
        text.parse::<i64>().ok().filter(|_| !text.starts_with('+')).ok_or_else(|| {
            self.bad(line, index, format!("{text:?} is not {what}; write a whole number, such as 2"))
        })
    }

    /// Remembers `key` at `line`; the line it was first seen on if it was.
    fn first_seen(&mut self, key: String, line: u64) -> Option<u64> {
        match self.seen.get(&key) {
            Some(first) => Some(*first),
            None => {
                self.seen.insert(key, line);
                None
            }
        }
    }

    fn next_record(&mut self) -> Result<Option<Record>, ImportError> {
        loop {
            if self.finished {
                return Ok(None);
            }
            let more = self.csv.read_record(&mut self.row).map_err(|error| csv_error(&self.file, error))?;
            if !more {
                self.finished = true;
                return Ok(self.pending.take().map(Record::Order));
            }
            let line = self.row.position().map_or(0, csv::Position::line);
            // A blank line at the end of a file (or a row of empty cells) is not a record.
            if self.row.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            self.rows += 1;
            match self.layout.clone() {
                Layout::Orders(columns) => {
                    if let Some(order) = self.order_row(line, &columns)? {
                        return Ok(Some(Record::Order(order)));
                    }
                }
                Layout::Inventory(columns) => {
                    return self.stock_row(line, &columns).map(|s| Some(Record::Stock(s)));
                }
                Layout::Payments(columns) => {
                    return self.payment_row(line, &columns).map(|p| Some(Record::Payment(p)));
                }
            }
        }
    }

    /// Adds a row to the pending order, or starts a new one and returns the finished previous one.
    fn order_row(&mut self, line: u64, columns: &OrderColumns) -> Result<Option<Order>, ImportError> {
        let name = self.cell(columns.name).to_owned();
        if name.is_empty() {
            return Err(self.bad(line, columns.name, "an order's row needs the order's name, such as #1001"));
        }
        let continues = self.pending.as_ref().is_some_and(|order| order.name == name);
        let currency = match &self.pending {
            Some(order) if continues => order.currency,
            _ => self.currency(line, columns.currency)?,
        };
        let item = LineItem {
            name: self.cell(columns.lineitem_name).to_owned(),
            sku: self.optional_cell(columns.lineitem_sku).map(str::to_owned),
            quantity: self.whole_number(line, columns.lineitem_quantity, "a quantity")?,
            price_minor: self.optional_amount(line, columns.lineitem_price, currency)?,
            fulfillment_status: self
                .optional_cell(columns.lineitem_fulfillment_status)
                .map(str::to_lowercase),
        };
        if continues {
            if let Some(order) = self.pending.as_mut() {
                order.lines.push(item);
            }
            return Ok(None);
        }
        if let Some(first) = self.first_seen(format!("name\u{1f}{name}"), line) {
            return Err(self.bad(
                line,
                columns.name,
                format!(
                    "order {name} is here again, apart from its rows at line {first}; Shopify lists an order's rows \
                     together, so the file was edited or joined from two exports"
                ),
            ));
        }
        let created = self.instant(line, columns.created_at, false)?;
        let shopify_id = self.optional_cell(columns.id).map(str::to_owned);
        if let Some(id) = &shopify_id
            && let Some(first) = self.first_seen(format!("id\u{1f}{id}"), line)
        {
            let index = columns.id.unwrap_or(columns.name);
            return Err(self.bad(
                line,
                index,
                format!("order id {id} is also the id of the order at line {first}"),
            ));
        }
        let order = Order {
            line,
            name,
            shopify_id,
            created_at: created.unix,
            created_offset: created.offset_seconds,
            currency,
            total_minor: self.amount(line, columns.total, currency)?,
            refunded_minor: self.optional_amount(line, columns.refunded_amount, currency)?.unwrap_or(0),
            financial_status: self.cell(columns.financial_status).to_lowercase(),
            fulfillment_status: self.cell(columns.fulfillment_status).to_lowercase(),
            paid_at: self.optional_instant(line, columns.paid_at, false)?,
            fulfilled_at: self.optional_instant(line, columns.fulfilled_at, false)?,
            cancelled_at: self.optional_instant(line, columns.cancelled_at, false)?,
            lines: vec![item],
        };
        Ok(self.pending.replace(order))
    }

    fn stock_row(&mut self, line: u64, columns: &InventoryColumns) -> Result<StockLevel, ImportError> {
        let handle = self.cell(columns.handle).to_owned();
        if handle.is_empty() {
            return Err(self.bad(line, columns.handle, "a stock row needs its product's handle"));
        }
        let location = self.cell(columns.location).to_owned();
        if location.is_empty() {
            return Err(self.bad(line, columns.location, "a stock row needs its location's name"));
        }
        let mut variant = handle.clone();
        for index in &columns.option_values {
            let value = self.cell(*index);
            if !value.is_empty() {
                variant.push('/');
                variant.push_str(value);
            }
        }
        let sku = self.optional_cell(Some(columns.sku)).map(str::to_owned);
        let level = |index: usize| -> Result<Option<i64>, ImportError> {
            let text = self.cell(index);
            if text.eq_ignore_ascii_case("not stocked") {
                return Ok(None);
            }
            text.parse::<i64>().map(Some).map_err(|_| {
                self.bad(
                    line,
                    index,
                    format!("{text:?} is not a stock count; write a whole number or not stocked"),
                )
            })
        };
        let available = level(columns.available)?;
        let on_hand = match columns.on_hand {
            Some(index) if !self.cell(index).is_empty() => level(index)?,
            _ => None,
        };
        let title = self.optional_cell(columns.title).map(str::to_owned);
        if let Some(first) = self.first_seen(format!("{location}\u{1f}{variant}"), line) {
            return Err(self.bad(
                line,
                columns.handle,
                format!("variant {variant} at {location} is already on line {first}; an export has one row for each"),
            ));
        }
        Ok(StockLevel {
            line,
            sku_key: sku.clone().unwrap_or_else(|| variant.clone()),
            location,
            handle,
            variant,
            sku,
            title,
            available,
            on_hand,
        })
    }

    fn payment_row(&mut self, line: u64, columns: &PaymentColumns) -> Result<Payment, ImportError> {
        let created = self.instant(line, columns.created, true)?;
        let currency = self.currency(line, columns.currency)?;
        let amount_minor = self.amount(line, columns.amount, currency)?;
        let refunded_minor = self.optional_amount(line, columns.amount_refunded, currency)?.unwrap_or(0);
        let status = self.cell(columns.status).to_owned();
        if status.is_empty() {
            return Err(self.bad(line, columns.status, "a payment needs its status, such as Paid or Failed"));
        }
        let outcome = Outcome::of_status(&status);
        let charge_id = self.optional_cell(columns.id).map(str::to_owned);
        let payment_intent = self.optional_cell(columns.payment_intent).map(str::to_owned);
        let key = match (&charge_id, &payment_intent) {
            (Some(id), _) => id.clone(),
            (None, Some(intent)) => format!("pi:{intent}@{}", created.unix),
            (None, None) => {
                let index = columns.id.or(columns.payment_intent).unwrap_or(columns.created);
                return Err(self.bad(
                    line,
                    index,
                    "this payment has neither an id nor a PaymentIntent ID, so a re-import could not tell it from \
                     another; export the file again",
                ));
            }
        };
        if let Some(first) = self.first_seen(key.clone(), line) {
            let index = if charge_id.is_some() { columns.id } else { columns.payment_intent };
            return Err(self.bad(
                line,
                index.unwrap_or(columns.created),
                format!("payment {key} is already on line {first}; an export has one row for each"),
            ));
        }
        let decline_reason = match outcome {
            Outcome::Failed => self
                .optional_cell(columns.decline_reason)
                .map(str::to_owned)
                .or_else(|| self.optional_cell(columns.seller_message).and_then(quoted_decline_code)),
            _ => None,
        };
        Ok(Payment {
            line,
            key,
            charge_id,
            payment_intent,
            invoice: self.optional_cell(columns.invoice).map(str::to_owned),
            customer: self.optional_cell(columns.customer).map(str::to_owned),
            created_at: created.unix,
            refunded_at: self.optional_instant(line, columns.refunded_date, true)?,
            amount_minor,
            refunded_minor,
            currency,
            status,
            outcome,
            decline_reason,
            description: self.optional_cell(columns.description).map(str::to_owned),
        })
    }
}

/// Stripe's seller message for a decline quotes the code: "The bank returned the decline code `do_not_honor`."
fn quoted_decline_code(message: &str) -> Option<String> {
    let (_, after) = message.split_once("decline code `")?;
    let (code, _) = after.split_once('`')?;
    (!code.is_empty()).then(|| code.to_owned())
}

impl<R: Read> Iterator for Records<R> {
    type Item = Result<Record, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_record() {
            Ok(record) => record.map(Ok),
            Err(error) => {
                // After an error the file is not read further: one error, the first, names the file's problem.
                self.finished = true;
                self.pending = None;
                Some(Err(error))
            }
        }
    }
}

/// What a whole, valid file holds: what the write needs to know before its first row.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub kind: Kind,
    /// Data rows (an order's continuation rows included).
    pub rows: u64,
    /// Orders, payments or stock rows.
    pub records: u64,
    /// The newest time anywhere in the file: the export was taken at or after it. `None` for inventory, which
    /// has no times (its snapshot is dated by `--as-of`).
    pub seen_at: Option<i64>,
    /// The file's currencies, the one with the most records first.
    pub currencies: Vec<(Currency, u64)>,
    /// An inventory export's locations.
    pub locations: Vec<String>,
}

impl Summary {
    /// The currency most of the file's records are in.
    pub fn main_currency(&self) -> Option<Currency> {
        self.currencies.first().map(|(currency, _)| *currency)
    }
}

/// Reads a whole export and checks every row; the first problem stops it.
pub fn check<R: Read>(file: &str, input: R) -> Result<Summary, ImportError> {
    let mut records = read(file, input)?;
    let kind = records.kind();
    let mut count = 0;
    let mut seen_at: Option<i64> = None;
    let mut currencies: BTreeMap<Currency, u64> = BTreeMap::new();
    let mut locations: HashSet<String> = HashSet::new();
    let mut newest = |time: Option<i64>| {
        if let Some(time) = time {
            seen_at = Some(seen_at.map_or(time, |seen| seen.max(time)));
        }
    };
    for record in records.by_ref() {
        count += 1;
        match record? {
            Record::Order(order) => {
                for time in [Some(order.created_at), order.paid_at, order.fulfilled_at, order.cancelled_at] {
                    newest(time);
                }
                *currencies.entry(order.currency).or_default() += 1;
            }
            Record::Payment(payment) => {
                newest(Some(payment.created_at));
                newest(payment.refunded_at);
                *currencies.entry(payment.currency).or_default() += 1;
            }
            Record::Stock(level) => {
                if !locations.contains(&level.location) {
                    locations.insert(level.location);
                }
            }
        }
    }
    let mut currencies: Vec<(Currency, u64)> = currencies.into_iter().collect();
    currencies.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut locations: Vec<String> = locations.into_iter().collect();
    locations.sort();
    Ok(Summary { kind, rows: records.rows(), records: count, seen_at, currencies, locations })
}
