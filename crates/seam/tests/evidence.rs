//! `seam evidence import` and `seam evidence show` through the real binary, on a fresh SQLite file and, where the
//! database matters (dedupe, overlap, the engine's tables), on a fresh PostgreSQL database too.
//!
//! The shared sample exports (`../shared/fixtures/exports`, see its SOURCE.txt) are found as
//! `recovery.rs` finds its samples: `SEAM_FIXTURES`, else `../shared/fixtures` beside the checkout, else
//! `/work/shared/fixtures`. Without them a test says `SKIPPED:` and passes, except under `CI=true`.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, World};
use seam_store::testing::{TempPostgres, fresh_postgres};
use seam_store::{EvidenceTotals, InboxItem, RunRow, Store};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A temporary folder, a database URL, and the PostgreSQL database behind it (dropped at the end).
struct Setup {
    world: World,
    url: String,
    _postgres: Option<TempPostgres>,
}

impl Setup {
    async fn new(backend: Backend) -> Option<Setup> {
        let world = World::new();
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite:{}", world.path("seam.db").display());
                Some(Setup { world, url, _postgres: None })
            }
            Backend::Postgres => {
                let postgres = fresh_postgres().await?;
                Some(Setup { world, url: postgres.url.clone(), _postgres: Some(postgres) })
            }
        }
    }

    /// `seam evidence ARGS --db URL`, with no `SEAM_*` variable from the developer's shell.
    fn seam(&self, args: &[&str]) -> Run {
        let mut args: Vec<&str> = args.to_vec();
        args.extend(["--db", &self.url]);
        self.world.seam_with_env(&args, &[])
    }

    fn import(&self, files: &[&Path]) -> Run {
        let mut args = vec!["evidence".to_owned(), "import".to_owned()];
        args.extend(files.iter().map(|file| file.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.seam(&args)
    }

    fn show_json(&self, extra: &[&str]) -> Value {
        let mut args = vec!["evidence", "show", "--format", "json"];
        args.extend(extra);
        let run = self.seam(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
    }

    async fn store(&self) -> std::sync::Arc<dyn Store> {
        seam_store::open(&self.url).await.expect("open the database")
    }

    async fn totals(&self) -> EvidenceTotals {
        self.store().await.evidence_totals().await.expect("count the evidence")
    }
}

/// The shared sample exports' folder, or `None` after printing `SKIPPED:` (a failure under `CI=true`).
fn exports() -> Option<PathBuf> {
    let candidates = [
        std::env::var("SEAM_FIXTURES").ok().map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")),
        Some(PathBuf::from("/work/shared/fixtures")),
    ];
    let found = candidates.iter().flatten().map(|dir| dir.join("exports")).find(|dir| dir.is_dir());
    if found.is_none() {
        let message = "the shared sample exports (fixtures/exports) are not there; set SEAM_FIXTURES";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}, and CI=true forbids skipping");
        println!("SKIPPED: {message}");
    }
    found
}

/// The month `month` of a `show --format json`.
fn month<'a>(shown: &'a Value, month: &str) -> &'a Value {
    shown["months"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == month)
        .unwrap_or_else(|| panic!("no {month} in {shown:#}"))
}

/// A figure summed over every month, as `path` names it in each month (`["orders", "refunded", "count"]`).
fn over_months(shown: &Value, path: &[&str]) -> i64 {
    shown["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| path.iter().fold(m, |value, key| &value[*key]).as_i64().unwrap_or(0))
        .sum()
}

/// Rewrites a CSV file through `edit(header, rows) -> (header, rows)`.
fn rewrite(
    from: &Path,
    to: &Path,
    edit: impl FnOnce(Vec<String>, Vec<Vec<String>>) -> (Vec<String>, Vec<Vec<String>>),
) {
    let mut reader = csv::Reader::from_path(from).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<Vec<String>> =
        reader.records().map(|row| row.unwrap().iter().map(str::to_owned).collect()).collect();
    let (header, rows) = edit(header, rows);
    let mut writer = csv::Writer::from_path(to).unwrap();
    writer.write_record(&header).unwrap();
    for row in rows {
        writer.write_record(&row).unwrap();
    }
    writer.flush().unwrap();
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
}

// ----- the shared sample exports --------------------------------------------------------------------------------

/// "The shared sample exports import with figures checked by hand": the live store's orders export has 60 orders,
/// 8 refunded (all 8 also cancelled), 14 unfulfilled; Stripe's sample has 14 rows: 6 Paid, 7 Failed and one
/// `requires_payment_method` PaymentIntent without a charge (its `id` is empty), so the failed-payment rate is
/// 7 of 13, and the 7 declines are insufficient_funds 3 (two in USD, one in AUD), do_not_honor 1, try_again_later
/// 1, revocation_of_authorization 1 and previously_declined_do_not_retry 1; the inventory export has 1,732 rows of
/// 1,729 SKUs (three SKUs are on two products), 194 `not stocked`, 1,148 at zero or less somewhere.
async fn shared_samples(backend: Backend) {
    let Some(exports) = exports() else { return };
    let Some(setup) = Setup::new(backend).await else { return };
    let orders = exports.join("shopify/orders_export_2.csv");
    let payments = exports.join("stripe/unified_payments.csv");
    let inventory = exports.join("shopify/inventory_export_1.csv");
    let mut args: Vec<String> = ["evidence", "import", "--as-of", "2025-12-07"].map(String::from).to_vec();
    args.extend([&orders, &payments, &inventory].map(|p| p.display().to_string()));
    let run = setup.seam(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Shopify orders export, 60 orders (61 rows): 60 new"), "{}", run.stdout);
    assert!(run.stdout.contains("Stripe payments export, 14 payments: 14 new"), "{}", run.stdout);
    assert!(run.stdout.contains("1732 stock rows as of 2025-12-07 (1 location): 1732 new"), "{}", run.stdout);
    assert_eq!(
        setup.totals().await,
        EvidenceTotals { imports: 3, orders: 60, order_lines: 61, payments: 14, stock_rows: 1732 }
    );

    let shown = setup.show_json(&[]);
    assert_eq!(shown["currency"], "GBP", "the first import's currency");
    assert_eq!(over_months(&shown, &["orders", "orders"]), 60);
    assert_eq!(over_months(&shown, &["orders", "refunded", "count"]), 8);
    assert_eq!(over_months(&shown, &["orders", "cancelled", "count"]), 8);
    assert_eq!(over_months(&shown, &["orders", "unfulfilled", "count"]), 14);
    // Refunded Amount over the 8 refunded orders: 122.02 in October, 64.96 in November, 87.09 in December.
    assert_eq!(over_months(&shown, &["orders", "refunded_amount", "minor"]), 27_407);
    let november = &month(&shown, "2025-11")["orders"];
    assert_eq!(november["orders"], 35);
    // 35 Totals summing to 1,330.67 GBP.
    assert_eq!(november["average_order_value"]["minor"], 3_802);
    // 33 not cancelled, all fulfilled; 20 of them more than 2 days after they were placed.
    assert_eq!(
        (
            november["unfulfilled_after_2_days"]["count"].as_i64(),
            november["unfulfilled_after_2_days"]["of"].as_i64()
        ),
        (Some(20), Some(33))
    );
    let december = &month(&shown, "2025-12")["orders"];
    // 14 orders, 2 cancelled; of the 6 not fulfilled, the 4 placed within 2 days of the export's newest time
    // (2025-12-07 19:08) are not due yet.
    assert_eq!(december["unfulfilled_after_2_days"]["of"], 8);

    let september = &month(&shown, "2024-09")["payments"];
    assert_eq!(
        (september["payments"].as_i64(), september["paid"].as_i64(), september["other"].as_i64()),
        (Some(14), Some(6), Some(1))
    );
    assert_eq!(
        (september["failed"]["count"].as_i64(), september["failed"]["of"].as_i64()),
        (Some(7), Some(13))
    );
    let mix: Vec<(String, i64)> = september["declines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["reason"].as_str().unwrap().to_owned(), d["failed"].as_i64().unwrap()))
        .collect();
    let expected = [
        ("insufficient_funds", 3),
        ("do_not_honor", 1),
        ("previously_declined_do_not_retry", 1),
        ("revocation_of_authorization", 1),
        ("try_again_later", 1),
    ];
    assert_eq!(mix, expected.map(|(reason, n)| (reason.to_owned(), n)));
    assert_eq!(september["recovered"]["count"], 0, "no failed PaymentIntent or invoice was paid later");

    let stock = &month(&shown, "2025-12")["stock"];
    assert_eq!(stock["as_of"], "2025-12-07");
    assert_eq!(stock["skus"], 1729);
    assert_eq!(stock["not_stocked"]["count"], 194);
    assert_eq!(stock["at_zero"]["count"], 1148);
    assert_eq!(stock["not_stocked_or_zero"]["count"], 1342);

    // The same figures as text and CSV.
    let text = setup.seam(&["evidence", "show", "--month", "2024-09"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("failed-payment rate         7 of 13 (53.8%)"), "{}", text.stdout);
    assert!(text.stdout.contains("insufficient_funds 3 (42.9%)"), "{}", text.stdout);
    assert!(!text.stdout.contains("2025-11"), "--month shows one month: {}", text.stdout);
    let csv = setup.seam(&["evidence", "show", "--format", "csv"]);
    assert!(csv.stdout.starts_with("month,section,measure,value,count,of,currency,note\n"), "{}", csv.stdout);
    assert!(csv.stdout.contains("\n2025-11,orders,average_order_value,38.02,,,GBP,\n"), "{}", csv.stdout);
    assert!(csv.stdout.contains("\n2024-09,payments,failed_payment_rate,0.5385,7,13,,\n"), "{}", csv.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_shared_sample_exports_import_with_hand_checked_figures() {
    shared_samples(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_shared_sample_exports_import_with_hand_checked_figures() {
    shared_samples(Backend::Postgres).await;
}

// ----- dedupe ---------------------------------------------------------------------------------------------------

/// "Re-importing a file ... adds nothing twice" (Stripe's row without an `id` included: it is keyed by its
/// PaymentIntent and time).
async fn reimport(backend: Backend) {
    let Some(exports) = exports() else { return };
    let Some(setup) = Setup::new(backend).await else { return };
    let files = [
        exports.join("shopify/orders_export_2.csv"),
        exports.join("stripe/unified_payments.csv"),
        exports.join("shopify/inventory_export_1.csv"),
    ];
    let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    assert_eq!(setup.import(&files).code, 0);
    let before = setup.totals().await;
    let shown_before = setup.show_json(&[]);
    let again = setup.import(&files);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("60 orders (61 rows): 0 new, 0 updated from an older export, 60 already there"),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("14 payments: 0 new, 0 updated from an older export, 14 already there"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("1732 stock rows"), "{}", again.stdout);
    let after = setup.totals().await;
    assert_eq!(after, EvidenceTotals { imports: before.imports + 3, ..before });
    let mut shown_after = setup.show_json(&[]);
    shown_after["imports"] = shown_before["imports"].clone();
    assert_eq!(shown_after, shown_before, "the same measures");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reimporting_adds_nothing() {
    reimport(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reimporting_adds_nothing() {
    reimport(Backend::Postgres).await;
}

/// "An overlapping export adds only the new rows": an earlier orders export (the orders placed before
/// 2025-11-20, one of them not yet fulfilled then) and the full one; two Stripe exports sharing four rows, the
/// row without an `id` among them. A later export's copy of an order replaces the earlier one's, never the other
/// way round.
async fn overlap(backend: Backend) {
    let Some(exports) = exports() else { return };
    let Some(setup) = Setup::new(backend).await else { return };
    let full = exports.join("shopify/orders_export_2.csv");
    let earlier = setup.world.path("orders_earlier.csv");
    let mut changed = String::new();
    rewrite(&full, &earlier, |header, rows| {
        let created = column(&header, "Created at");
        let (status, fulfilled, name) =
            (column(&header, "Fulfillment Status"), column(&header, "Fulfilled at"), column(&header, "Name"));
        let mut rows: Vec<Vec<String>> =
            rows.into_iter().filter(|row| row[created].as_str() < "2025-11-20").collect();
        let first_fulfilled = rows.iter_mut().find(|row| row[status] == "fulfilled").unwrap();
        first_fulfilled[status] = "unfulfilled".to_owned();
        first_fulfilled[fulfilled] = String::new();
        changed = first_fulfilled[name].clone();
        (header, rows)
    });
    let earlier_orders = setup.import(&[&earlier]);
    assert_eq!(earlier_orders.code, 0, "{}", earlier_orders.stderr);
    let first = setup.totals().await.orders;
    assert!(first > 10 && first < 60, "{first}");
    assert_eq!(
        setup.show_json(&[])["months"].as_array().map(|m| m
            .iter()
            .map(|m| m["orders"]["unfulfilled"]["count"].as_i64().unwrap_or(0))
            .sum::<i64>()),
        Some(4 + 1 + 2),
        "the cancelled ones and {changed}"
    );

    let later = setup.import(&[&full]);
    assert_eq!(later.code, 0, "{}", later.stderr);
    let expected = format!(
        "60 orders (61 rows): {} new, 1 updated from an older export, {} already there",
        60 - first,
        first - 1
    );
    assert!(later.stdout.contains(&expected), "{expected}\n{}", later.stdout);
    let totals = setup.totals().await;
    assert_eq!((totals.orders, totals.order_lines), (60, 61), "an updated order's lines replaced, not added");
    assert_eq!(
        over_months(&setup.show_json(&[]), &["orders", "unfulfilled", "count"]),
        14,
        "{changed} is fulfilled now"
    );

    // The earlier export again: nothing new, and its older copy of the order does not replace the newer.
    let again = setup.import(&[&earlier]);
    assert!(
        again.stdout.contains(&format!("{first} orders")) && again.stdout.contains(": 0 new, 0 updated"),
        "{}",
        again.stdout
    );
    assert_eq!(over_months(&setup.show_json(&[]), &["orders", "unfulfilled", "count"]), 14);

    let payments = exports.join("stripe/unified_payments.csv");
    let (head, tail) = (setup.world.path("payments_a.csv"), setup.world.path("payments_b.csv"));
    rewrite(&payments, &head, |header, rows| (header, rows[..10].to_vec()));
    rewrite(&payments, &tail, |header, rows| (header, rows[6..].to_vec()));
    let run = setup.import(&[&head, &tail]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("10 payments: 10 new"), "{}", run.stdout);
    assert!(
        run.stdout.contains("8 payments: 4 new, 0 updated from an older export, 4 already there"),
        "{}",
        run.stdout
    );
    assert_eq!(setup.totals().await.payments, 14);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_overlapping_export_adds_only_the_new_rows() {
    overlap(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_overlapping_export_adds_only_the_new_rows() {
    overlap(Backend::Postgres).await;
}

/// "Shopify orders by `Id` or `Name`": orders first imported from an export without the `Id` column are matched
/// by name by a later export with ids (and keep their id from then on), so nothing is added twice either way.
async fn orders_without_ids(backend: Backend) {
    let Some(exports) = exports() else { return };
    let Some(setup) = Setup::new(backend).await else { return };
    let with_ids = exports.join("shopify/orders_export_2.csv");
    let without_ids = setup.world.path("orders_without_ids.csv");
    rewrite(&with_ids, &without_ids, |mut header, rows| {
        let id = column(&header, "Id");
        header.remove(id);
        let rows = rows.into_iter().map(|mut row| {
            row.remove(id);
            row
        });
        (header, rows.collect())
    });
    let first = setup.import(&[&without_ids]);
    assert!(first.stdout.contains("60 orders (61 rows): 60 new"), "{}", first.stdout);
    let second = setup.import(&[&with_ids]);
    assert!(
        second.stdout.contains("60 orders (61 rows): 0 new, 60 updated"),
        "each gains its id: {}",
        second.stdout
    );
    for file in [&with_ids, &without_ids] {
        let again = setup.import(&[file]);
        assert!(
            again.stdout.contains(": 0 new, 0 updated from an older export, 60 already there"),
            "{}",
            again.stdout
        );
    }
    let totals = setup.totals().await;
    assert_eq!((totals.orders, totals.order_lines), (60, 61));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_orders_without_ids_are_matched_by_name() {
    orders_without_ids(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_orders_without_ids_are_matched_by_name() {
    orders_without_ids(Backend::Postgres).await;
}

// ----- refused files --------------------------------------------------------------------------------------------

/// "A file of another kind, a missing required column, or a bad value names the file, line and column and imports
/// nothing from that file (exit 2)", while the command's other files still import: here the orders export and the
/// Stripe export before and after the three refused files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_files_are_named_with_line_and_column_and_import_nothing_while_the_others_import() {
    let Some(exports) = exports() else { return };
    let Some(setup) = Setup::new(Backend::Sqlite).await else { return };
    let other_kind =
        setup.world.write("products_export.csv", "Handle,Title,Vendor,Variant SKU\nmug,Mug,Us,MUG-1\n");
    let no_total = setup.world.path("orders_no_total.csv");
    rewrite(&exports.join("shopify/orders_export_1.csv"), &no_total, |mut header, rows| {
        let total = column(&header, "Total");
        header.remove(total);
        let rows = rows.into_iter().map(|mut row| {
            row.remove(total);
            row
        });
        (header, rows.collect())
    });
    // The 51 orders of the other sample store, then one more whose Total is not an amount (line 123).
    let bad_value = setup.world.path("orders_bad_total.csv");
    rewrite(&exports.join("shopify/orders_export_1.csv"), &bad_value, |header, mut rows| {
        let mut extra = rows[0].clone();
        extra[column(&header, "Name")] = "#9999".to_owned();
        extra[column(&header, "Id")] = "9999".to_owned();
        extra[column(&header, "Total")] = "12.x0".to_owned();
        rows.push(extra);
        (header, rows)
    });
    let (orders, payments) =
        (exports.join("shopify/orders_export_2.csv"), exports.join("stripe/unified_payments.csv"));
    let run = setup.import(&[&orders, &other_kind, &no_total, &bad_value, &payments]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let name = |path: &Path| path.display().to_string();
    for expected in [
        format!(
            "seam: {}:1: column 1 \"Handle\": this header is not one of the exports Seam imports",
            name(&other_kind)
        ),
        format!("seam: {}:1: column \"Total\" is missing: a Shopify orders export has it", name(&no_total)),
        format!("seam: {}:123: column 12 \"Total\": \"12.x0\" is not an amount of INR", name(&bad_value)),
        format!("seam: nothing from {} was imported", name(&bad_value)),
        format!(
            "error: 3 of 5 files not imported (see above; nothing from them was written): {}, {}, {}",
            name(&other_kind),
            name(&no_total),
            name(&bad_value)
        ),
    ] {
        assert!(run.stderr.contains(&expected), "{expected}\n{}", run.stderr);
    }
    assert!(run.stdout.contains("orders_export_2.csv (import #1)"), "{}", run.stdout);
    assert!(run.stdout.contains("unified_payments.csv (import #2)"), "{}", run.stdout);
    // Nothing of the 51 valid orders before the bad row, and no import log row for a refused file.
    assert_eq!(
        setup.totals().await,
        EvidenceTotals { imports: 2, orders: 60, order_lines: 61, payments: 14, stock_rows: 0 }
    );
}

/// "`Created (UTC)` and a missing `Decline Reason` accepted": older exports and some accounts' exports. The decline
/// code then comes from Stripe's seller message where it quotes one (all but previously_declined_do_not_retry's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_created_utc_and_no_decline_reason_are_accepted() {
    let Some(exports) = exports() else { return };
    let Some(setup) = Setup::new(Backend::Sqlite).await else { return };
    let older = setup.world.path("unified_payments_older.csv");
    rewrite(&exports.join("stripe/unified_payments.csv"), &older, |mut header, rows| {
        let decline = column(&header, "Decline Reason");
        let created = column(&header, "Created date (UTC)");
        header[created] = "Created (UTC)".to_owned();
        header.remove(decline);
        let rows = rows.into_iter().map(|mut row| {
            row.remove(decline);
            row
        });
        (header, rows.collect())
    });
    let run = setup.import(&[&older]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown = setup.show_json(&[]);
    let september = &month(&shown, "2024-09")["payments"];
    assert_eq!(september["failed"]["count"], 7);
    let mix: Vec<(Option<&str>, i64)> = september["declines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["reason"].as_str(), d["failed"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        mix,
        [
            (Some("insufficient_funds"), 3),
            (None, 1),
            (Some("do_not_honor"), 1),
            (Some("revocation_of_authorization"), 1),
            (Some("try_again_later"), 1)
        ]
    );
}

// ----- months, money --------------------------------------------------------------------------------------------

/// "Per calendar month in the brand's time zone (`--timezone`, default UTC); timestamps are converted from their
/// own offsets": an order at 2025-12-01T01:00+00:00 is November's in America/New_York.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn months_are_the_brands_time_zone_months() {
    let Some(setup) = Setup::new(Backend::Sqlite).await else { return };
    let header =
        "Name,Financial Status,Fulfillment Status,Currency,Total,Created at,Lineitem quantity,Lineitem name";
    let file = setup.world.write(
        "orders.csv",
        &format!(
            "{header}\n#2,paid,fulfilled,USD,20.00,2025-12-15 12:00:00 -0500,1,Mug\n\
             #1,paid,fulfilled,USD,10.00,2025-12-01 01:00:00 +0000,1,Mug\n"
        ),
    );
    assert_eq!(setup.import(&[&file]).code, 0);
    let months = |shown: &Value| -> Vec<(String, i64)> {
        shown["months"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["month"].as_str().unwrap().to_owned(), m["orders"]["orders"].as_i64().unwrap()))
            .collect()
    };
    assert_eq!(months(&setup.show_json(&[])), [("2025-12".to_owned(), 2)]);
    let new_york = setup.show_json(&["--timezone", "America/New_York"]);
    assert_eq!(new_york["time_zone"], "America/New_York");
    assert_eq!(months(&new_york), [("2025-11".to_owned(), 1), ("2025-12".to_owned(), 1)]);
    let november = setup.show_json(&["--timezone", "America/New_York", "--month", "2025-11"]);
    assert_eq!(months(&november), [("2025-11".to_owned(), 1)]);
    assert_eq!(month(&november, "2025-11")["orders"]["average_order_value"]["minor"], 1000);

    let bad = setup.seam(&["evidence", "show", "--timezone", "New York"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--timezone: \"New York\" is not a time zone Seam knows"), "{}", bad.stderr);
    let bad = setup.seam(&["evidence", "show", "--month", "11/2025"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--month: \"11/2025\" is not a month; use YYYY-MM"), "{}", bad.stderr);
}

/// "Money: the currency is recorded per import; an import in another currency than `--currency` (default: the
/// first imported, or USD) is refused unless `--rate CUR=RATE` converts it, and every converted figure says so."
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_in_another_currency_is_refused_unless_a_rate_converts_it() {
    let Some(exports) = exports() else { return };
    let Some(setup) = Setup::new(Backend::Sqlite).await else { return };
    let (gbp, inr) =
        (exports.join("shopify/orders_export_2.csv"), exports.join("shopify/orders_export_1.csv"));
    assert_eq!(setup.import(&[&gbp, &inr]).code, 0);
    let refused = setup.seam(&["evidence", "show"]);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("error: money in INR (orders 2025-12) cannot be added to GBP without a rate; give one with --rate INR=RATE"),
        "{}",
        refused.stderr
    );
    assert_eq!(refused.stdout, "", "nothing is shown");
    // Months without INR need no rate.
    assert_eq!(setup.show_json(&["--month", "2025-11"])["currency"], "GBP");

    let converted = setup.show_json(&["--rate", "INR=0.0089", "--month", "2025-12"]);
    let aov = &month(&converted, "2025-12")["orders"]["average_order_value"];
    assert_eq!(aov["converted_from"][0]["currency"], "INR");
    assert_eq!(aov["converted_from"][0]["rate"], "0.0089");
    assert_eq!(converted["rates"][0]["currency"], "INR");
    // 14 GBP orders of 656.51 GBP in all, and 51 INR orders of 590,683.29 INR (5,257.08 GBP at 0.0089):
    // 5,913.59 GBP over 65 orders.
    assert_eq!(aov["minor"], 9_098);
    let text = setup.seam(&["evidence", "show", "--rate", "INR=0.0089", "--month", "2025-12"]);
    assert!(
        text.stdout.contains("average order value         90.98 GBP (converted from INR at 0.0089)"),
        "{}",
        text.stdout
    );

    let in_rupees = setup.show_json(&["--currency", "INR", "--rate", "GBP=112.5", "--month", "2025-11"]);
    assert_eq!(in_rupees["currency"], "INR");
    // 1,330.67 GBP is 149,700.38 INR at 112.5; over 35 orders, 4,277.15 INR.
    assert_eq!(month(&in_rupees, "2025-11")["orders"]["average_order_value"]["minor"], 427_715);

    let bad = setup.seam(&["evidence", "show", "--rate", "INR"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--rate: \"INR\": write it as CUR=RATE"), "{}", bad.stderr);
    let missing = setup.world.seam_with_env(&["evidence", "show", "--db", "sqlite:nowhere/seam.db"], &[]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(!setup.world.path("nowhere").exists(), "show never creates a database");
}

// ----- the engine's records -------------------------------------------------------------------------------------

/// "From the engine, per workflow and month: runs, runs that needed a person (an inbox decision), amounts
/// recovered and written off (the finance ledger entries' `recovered_minor` and `written_off_minor`), median time
/// to a human decision." Written here through the store, as the engine writes them: in November 2025, 4 runs of
/// the failed-payment playbook (3 escalated: one resolved after an hour, one dismissed after 3 hours, one still
/// open) and one ticket-context run; in December one more failed-payment run.
async fn engine_measures(backend: Backend) {
    let Some(setup) = Setup::new(backend).await else { return };
    let store = setup.store().await;
    let november = 1_762_000_000; // 2025-11-01T12:26:40Z
    let december = 1_765_000_000; // 2025-12-06T05:46:40Z
    let mut tx = store.begin().await.unwrap();
    let runs = [
        ("r1", "failed-payment-recovery", november),
        ("r2", "failed-payment-recovery", november + 60),
        ("r3", "failed-payment-recovery", november + 120),
        ("r4", "failed-payment-recovery", november + 180),
        ("r5", "ticket-context", november),
        ("r6", "failed-payment-recovery", december),
    ];
    for (id, workflow, at) in runs {
        let run = RunRow {
            id: id.to_owned(),
            workflow: workflow.to_owned(),
            version: 1,
            key: Some(format!("in_{id}")),
            status: "succeeded".to_owned(),
            state: "{}".to_owned(),
            wake_at: None,
            fence: 0,
            created_at: at,
            updated_at: at,
        };
        tx.insert_run(&run).await.unwrap();
    }
    let item = |id: &str, run: &str, opened: i64| InboxItem {
        id: id.to_owned(),
        run_id: run.to_owned(),
        workflow: "failed-payment-recovery".to_owned(),
        step: "escalate".to_owned(),
        team: "finance".to_owned(),
        assignee: "ana".to_owned(),
        zone: "order_to_cash".to_owned(),
        title: "A renewal failed three times".to_owned(),
        context: "{}".to_owned(),
        due_at: opened + 86_400,
        status: "open".to_owned(),
        decisions: "[]".to_owned(),
        decision: None,
        decided_by: None,
        decided_at: None,
        note: None,
        created_at: opened,
    };
    let opened = november + 3 * 86_400;
    for (id, run) in [("i1", "r1"), ("i2", "r2"), ("i3", "r3")] {
        tx.insert_inbox(&item(id, run, opened)).await.unwrap();
    }
    tx.decide_inbox("i1", "resolved", "resolve", Some("ana"), None, opened + 3_600).await.unwrap();
    tx.decide_inbox("i2", "dismissed", "dismiss", Some("ana"), None, opened + 3 * 3_600).await.unwrap();
    let entries = [
        (
            "k1",
            "r1",
            r#"{"outcome":"resolved","recovered_minor":"4900","written_off_minor":"0","currency":"usd"}"#,
        ),
        (
            "k2",
            "r2",
            r#"{"outcome":"written_off","recovered_minor":"0","written_off_minor":"1500","currency":"usd"}"#,
        ),
        (
            "k4",
            "r4",
            r#"{"outcome":"recovered","recovered_minor":"2500","written_off_minor":"0","currency":"usd"}"#,
        ),
        (
            "k6",
            "r6",
            r#"{"outcome":"recovered","recovered_minor":"999","written_off_minor":"0","currency":"usd"}"#,
        ),
    ];
    for (key, run, fields) in entries {
        // Booked days later: the money still counts in the month its run started.
        tx.insert_ledger(key, "finance", run, "failed-payment-recovery", december + 86_400, fields)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let engine_before = store.counts().await.unwrap();

    let shown = setup.show_json(&[]);
    assert_eq!(shown["currency"], "USD", "nothing imported: USD");
    let flows = month(&shown, "2025-11")["workflows"].as_array().unwrap().clone();
    assert_eq!(flows.len(), 2);
    let recovery = flows.iter().find(|f| f["workflow"] == "failed-payment-recovery").unwrap();
    assert_eq!(recovery["runs"], 4);
    assert_eq!(
        (recovery["escalated"]["count"].as_i64(), recovery["escalated"]["of"].as_i64()),
        (Some(3), Some(4))
    );
    assert_eq!(recovery["needed_a_person"]["count"], 2);
    assert_eq!(recovery["recovered"]["minor"], 7_400);
    assert_eq!(recovery["written_off"]["minor"], 1_500);
    assert_eq!(recovery["decisions"], 2);
    assert_eq!(recovery["median_seconds_to_decision"], 2 * 3_600, "the median of 1 h and 3 h");
    let tickets = flows.iter().find(|f| f["workflow"] == "ticket-context").unwrap();
    assert_eq!((tickets["runs"].as_i64(), tickets["needed_a_person"]["count"].as_i64()), (Some(1), Some(0)));
    assert_eq!(tickets["median_seconds_to_decision"], Value::Null);
    let later = &month(&shown, "2025-12")["workflows"][0];
    assert_eq!((later["runs"].as_i64(), later["recovered"]["minor"].as_i64()), (Some(1), Some(999)));

    let text = setup.seam(&["evidence", "show", "--month", "2025-11"]);
    assert!(text.stdout.contains("  Workflow failed-payment-recovery\n"), "{}", text.stdout);
    assert!(text.stdout.contains("needed a person             2 of 4 (50.0%)"), "{}", text.stdout);
    assert!(text.stdout.contains("median time to a decision   2h 00m (2 decisions)"), "{}", text.stdout);
    assert_eq!(store.counts().await.unwrap(), engine_before, "showing changes no engine table");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_engine_measures_come_from_runs_decisions_and_the_ledger() {
    engine_measures(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_engine_measures_come_from_runs_decisions_and_the_ledger() {
    engine_measures(Backend::Postgres).await;
}

// ----- large files ----------------------------------------------------------------------------------------------

/// "Progress is shown for large files" (from 8 MB; here about 9 MB of orders, one line a tenth when standard error
/// is not a terminal).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_show_their_progress() {
    let Some(setup) = Setup::new(Backend::Sqlite).await else { return };
    let header =
        "Name,Financial Status,Fulfillment Status,Currency,Total,Created at,Lineitem quantity,Lineitem name";
    let mut text = String::from(header);
    let padding = "x".repeat(250);
    for n in 0..30_000 {
        text.push_str(&format!("\n#{n},paid,fulfilled,USD,10.00,2025-11-01 10:00:00 +0000,1,Mug {padding}"));
    }
    let file = setup.world.write("big.csv", &text);
    let run = setup.import(&[&file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let name = file.display().to_string();
    for expected in [
        format!("seam: checking {name}: 10% ("),
        format!("seam: checking {name}: 100% ("),
        format!("seam: importing {name}: 100% ("),
    ] {
        assert!(run.stderr.contains(&expected), "{expected}\n{}", run.stderr);
    }
    assert!(run.stdout.contains("30000 orders (30000 rows): 30000 new"), "{}", run.stdout);
}
