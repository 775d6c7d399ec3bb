//! Import benchmark: a 1,000,000-row Shopify orders export into a SQLite file, as `seam evidence import` does it.
//!
//!     cargo bench -p seam-evidence --bench import [-- ROWS]
//!
//! It writes an export of ROWS rows (default 1,000,000) with Shopify's full 79-column header, one to three line
//! items an order (continuation rows included), in a temporary folder; then imports it the way the command does:
//! `check` reads the whole file once, then it is read again and written in one transaction in batches of 2,000
//! records (multi-row upserts of orders and their line items). Then it imports the same file again (every order
//! already there), which is what a re-import or an overlapping export costs. With `SEAM_BENCH_EXPORT=PATH` the
//! export is written to PATH and kept, so the command itself can be timed on it. Figures go to
//! docs/benchmarks.md. This is a measurement, not a test: nothing here fails on a slow machine.

use std::fmt::Write as _;
use std::io::{BufReader, BufWriter, Write as _};
use std::time::Instant;

use seam_evidence::{Record, check, read};
use seam_store::{EvidenceStore as _, NewImport};

/// Shopify's "Export orders" header, as in the shared sample exports.
const HEADER: &str = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,\
Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,\
Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,\
Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,\
Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,Shipping Address1,\
Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,\
Note Attributes,Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,\
Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,\
Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,\
Billing Province Name,Shipping Province Name,Payment ID,Payment Terms Name,Next Payment Due At,Payment References";

const RECORDS_PER_WRITE: usize = 2_000;

fn main() {
    let rows: usize = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("a temporary folder");
    // SEAM_BENCH_EXPORT=PATH writes the export there and keeps it, to time `seam evidence import` on it too.
    let csv_path = match std::env::var_os("SEAM_BENCH_EXPORT") {
        Some(path) => std::path::PathBuf::from(path),
        None => dir.path().join("orders_export.csv"),
    };
    let started = Instant::now();
    let (orders, bytes) = write_export(&csv_path, rows);
    println!(
        "wrote {rows} rows ({orders} orders, {:.0} MB) in {:.1} s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let db_path = dir.path().join("seam.db");
    let store =
        runtime.block_on(seam_store::SqliteStore::open(&db_path.display().to_string())).expect("open");
    for round in ["first import", "again (every order already there)"] {
        let name = csv_path.display().to_string();
        let started = Instant::now();
        let file =
            || BufReader::with_capacity(1 << 20, std::fs::File::open(&csv_path).expect("open the export"));
        let summary = check(&name, file()).expect("the export is valid");
        let checked = started.elapsed();
        let outcome = runtime.block_on(async {
            let import = NewImport {
                kind: summary.kind,
                file: name.clone(),
                imported_at: 1_790_000_000,
                seen_at: summary.seen_at,
                as_of: None,
                rows: summary.rows as i64,
                records: summary.records as i64,
                currencies: summary.currencies.iter().map(|(c, _)| c.to_string()).collect(),
                locations: Vec::new(),
            };
            let mut tx = store.begin_import(&import).await.expect("begin");
            let mut batch = Vec::with_capacity(RECORDS_PER_WRITE);
            for record in read(&name, file()).expect("header") {
                let Record::Order(order) = record.expect("a valid row") else {
                    unreachable!("an orders export")
                };
                batch.push(order);
                if batch.len() == RECORDS_PER_WRITE {
                    tx.write_orders(&batch).await.expect("write");
                    batch.clear();
                }
            }
            tx.write_orders(&batch).await.expect("write");
            tx.finish().await.expect("commit")
        });
        let total = started.elapsed();
        println!(
            "{round}: {} rows, {} orders ({} new) in {:.1} s: check {:.1} s, read and write {:.1} s; {:.0} rows/s",
            summary.rows,
            outcome.records,
            outcome.new,
            total.as_secs_f64(),
            checked.as_secs_f64(),
            (total - checked).as_secs_f64(),
            summary.rows as f64 / total.as_secs_f64()
        );
    }
    let db_bytes = std::fs::metadata(&db_path).map(|m| m.len()).unwrap_or(0);
    println!("database file: {:.0} MB", db_bytes as f64 / 1e6);
}

/// Writes `rows` rows: orders of 1, 2, 1 and 3 line items in turn, mostly paid and fulfilled, some refunded and
/// cancelled, a few unfulfilled. Returns the orders and the bytes written.
fn write_export(path: &std::path::Path, rows: usize) -> (usize, u64) {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("create the export"));
    writeln!(out, "{HEADER}").expect("write");
    let mut written = 0;
    let mut order = 0;
    let mut line = String::with_capacity(1024);
    let columns: Vec<&str> = HEADER.split(',').collect();
    while written < rows {
        let items = [1, 2, 1, 3][order % 4].min(rows - written);
        // An order a minute from 2024-01-01, so the export spans about a year or two.
        let created = 1_704_067_200 + order as i64 * 60;
        let stamp = |seconds: i64| {
            let days = seconds.div_euclid(86_400);
            let (y, m, d) = civil_from_days(days);
            let s = seconds.rem_euclid(86_400);
            format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} +0000", s / 3600, s % 3600 / 60, s % 60)
        };
        let refunded = order % 25 == 0;
        let unfulfilled = order % 10 == 0 && !refunded;
        let financial = if refunded { "refunded" } else { "paid" };
        let fulfillment = if unfulfilled { "unfulfilled" } else { "fulfilled" };
        let fulfilled_at = if unfulfilled || refunded {
            String::new()
        } else {
            stamp(created + 86_400 + (order as i64 % 5) * 43_200)
        };
        let cancelled_at = if refunded { stamp(created + 7_200) } else { String::new() };
        let total_pence = 1_999 + (order % 50) * 100;
        let total = format!("{}.{:02}", total_pence / 100, total_pence % 100);
        for item in 0..items {
            line.clear();
            let name = format!("#{}", 100_000 + order);
            let sku = format!("SKU-{:05}-{}", order % 5_000, item);
            if item == 0 {
                let refund = if refunded { total.as_str() } else { "0.00" };
                let _ = write!(
                    line,
                    "{name},customer{c}@example.com,{financial},{paid},{fulfillment},{fulfilled_at},no,GBP,{total},0.00,0.00,\
                     {total},,0.00,Standard,{created},1,\"Women's Dress, Blue / M\",{total},,{sku},true,true,pending,\
                     Customer {c},,,,,,,,,,Customer {c},,,,,Exampleton,AB1 2CD,ENG,GB,,,,{cancelled_at},shopify_payments,\
                     {name}.1,{refund},Example Co,0.00,,,,{id},\"NORMAL, web\",Low,web,0.00,VAT 20%,0.00,,,,,,,,,,,,,England,\
                     {name}.1,,,{name}.1",
                    c = order % 9_000,
                    paid = stamp(created + 1),
                    created = stamp(created),
                    id = 12_000_000_000_000u64 + order as u64,
                );
            } else {
                // A continuation row: the order's name, e-mail and time, its line item, and the vendor.
                let mut cells = vec![String::new(); columns.len()];
                for (column, value) in [
                    ("Name", name.clone()),
                    ("Email", format!("customer{}@example.com", order % 9_000)),
                    ("Created at", stamp(created)),
                    ("Lineitem quantity", "1".to_owned()),
                    ("Lineitem name", "Gift box".to_owned()),
                    ("Lineitem price", "4.00".to_owned()),
                    ("Lineitem sku", sku.clone()),
                    ("Lineitem requires shipping", "true".to_owned()),
                    ("Lineitem taxable", "true".to_owned()),
                    ("Lineitem fulfillment status", "pending".to_owned()),
                    ("Vendor", "Example Co".to_owned()),
                    ("Lineitem discount", "0.00".to_owned()),
                ] {
                    cells[columns.iter().position(|c| *c == column).expect("a Shopify column")] = value;
                }
                line.push_str(&cells.join(","));
            }
            writeln!(out, "{line}").expect("write");
        }
        written += items;
        order += 1;
    }
    out.flush().expect("flush");
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    (order, bytes)
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}
