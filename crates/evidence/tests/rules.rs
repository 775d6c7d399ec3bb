//! The evidence rules, each tested from its own words in `docs/evidence.md` (quoted above each test), on small
//! files written here. The shared sample exports and the database are tested through the binary in
//! `crates/seam/tests/evidence.rs`.

use seam_evidence::measure::{
    DecisionTime, DeclineFigures, Figures, LedgerFigures, OrderFigures, PaymentFigures, RunFigures, median,
    months_spanning, snapshots_for,
};
use seam_evidence::money::{format_minor, parse_amount};
use seam_evidence::time::{parse_instant, time_zone};
use seam_evidence::{
    Currency, ImportError, Kind, Month, Months, Options, Outcome, Rate, Record, check, measure, read,
};

const ORDERS_HEADER: &str = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Currency,Subtotal,\
Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Cancelled at,Refunded Amount,Id";

const PAYMENTS_HEADER: &str = "id,Created date (UTC),Amount,Amount Refunded,Currency,Decline Reason,\
PaymentIntent ID,Status,Seller Message,Invoice ID";

const INVENTORY_HEADER: &str = "Handle,Title,Option1 Name,Option1 Value,SKU,Location,\
Available (not editable),On hand (current)";

/// Reads `text` as the file `name`: every record, or the first error.
fn records(name: &str, text: &str) -> Result<Vec<Record>, ImportError> {
    read(name, text.as_bytes())?.collect()
}

/// The error reading `text` gives, as the user sees it.
fn error(name: &str, text: &str) -> String {
    match check(name, text.as_bytes()) {
        Ok(summary) => panic!("{name} was accepted: {summary:?}"),
        Err(error) => error.to_string(),
    }
}

fn orders(text: &str) -> Vec<seam_evidence::Order> {
    records("orders.csv", text)
        .unwrap()
        .into_iter()
        .map(|record| match record {
            Record::Order(order) => order,
            other => panic!("not an order: {other:?}"),
        })
        .collect()
}

// ----- imports: recognising a file ------------------------------------------------------------------------------

/// "Each file is recognised by its header."
#[test]
fn each_export_is_recognised_by_its_header() {
    let cases = [
        (format!("{ORDERS_HEADER}\n"), Kind::ShopifyOrders),
        (format!("{PAYMENTS_HEADER}\n"), Kind::StripePayments),
        (format!("{INVENTORY_HEADER}\n"), Kind::ShopifyInventory),
        // Columns in another order, and a byte-order mark before the first: found by name all the same.
        ("\u{feff}Status,Currency,Amount,Created (UTC),id\n".to_owned(), Kind::StripePayments),
    ];
    for (text, kind) in cases {
        let summary = check("f.csv", text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(summary.kind, kind, "{text}");
        assert_eq!(summary.records, 0);
    }
}

/// "A file of another kind ... names the file, line and column."
#[test]
fn a_file_of_another_kind_is_named_with_its_line_and_column() {
    let text =
        "Handle,Title,Body (HTML),Vendor,Variant SKU,Variant Price\nmug,Mug,<p>A mug</p>,Us,MUG-1,12.00\n";
    let message = error("products_export.csv", text);
    assert!(
        message
            .starts_with("products_export.csv:1: column 1 \"Handle\": this header is not one of the exports"),
        "{message}"
    );
    assert!(error("empty.csv", "").starts_with("empty.csv:1: the file is empty"));
}

/// "A missing required column ... names the file, line and column."
#[test]
fn a_missing_required_column_is_named() {
    let without_total = ORDERS_HEADER.replace(",Total,", ",");
    let message = error("orders.csv", &format!("{without_total}\n"));
    assert!(
        message.starts_with("orders.csv:1: column \"Total\" is missing: a Shopify orders export has it"),
        "{message}"
    );

    let without_available = INVENTORY_HEADER.replace(",Available (not editable)", "");
    let message = error("inventory.csv", &format!("{without_available}\n"));
    assert!(
        message.starts_with("inventory.csv:1: column \"Available (not editable)\" is missing"),
        "{message}"
    );
    assert!(message.contains("or [\"Available\"]"), "{message}");

    let message = error("payments.csv", "Created (UTC),Amount,Currency,Status\n");
    assert!(message.starts_with("payments.csv:1: column \"id\" is missing"), "{message}");

    // Two columns of one name: Seam would have to guess which holds the value.
    let twice = format!("{ORDERS_HEADER},Total\n");
    let message = error("orders.csv", &twice);
    assert!(
        message.starts_with("orders.csv:1: column 18 \"Total\": the header names \"Total\" twice"),
        "{message}"
    );
}

// ----- imports: Shopify orders ----------------------------------------------------------------------------------

/// "One row per line item: an order's first row carries the order-level cells, the rows after it with the same
/// Name only their line items; cells may hold quoted commas and newlines."
#[test]
fn continuation_rows_and_quoted_newlines_make_one_order() {
    let text = format!(
        "{ORDERS_HEADER}\n\
         #1001,a@example.com,paid,2025-11-30 20:00:00 -0500,fulfilled,2025-12-01 09:00:00 -0500,USD,30.00,35.50,2025-11-30 19:59:00 -0500,1,\"Mug, large\",10.00,MUG-L,,,501\n\
         #1001,a@example.com,,,,,,,,2025-11-30 19:59:00 -0500,2,\"Tea\nGreen\",10.00,TEA-G,,,\n\
         #1002,b@example.com,refunded,2025-12-02 10:00:00 +0000,unfulfilled,,USD,20.00,20.00,2025-12-02 09:00:00 +0000,1,Pot,20.00,,2025-12-03 10:00:00 +0000,20.00,502\n"
    );
    let orders = orders(&text);
    assert_eq!(orders.len(), 2);
    let first = &orders[0];
    assert_eq!((first.name.as_str(), first.line, first.lines.len()), ("#1001", 2, 2));
    assert_eq!(first.lines[0].name, "Mug, large");
    assert_eq!(first.lines[1].name, "Tea\nGreen");
    assert_eq!(first.lines[1].quantity, 2);
    assert_eq!(first.total_minor, 3550);
    assert_eq!(first.shopify_id.as_deref(), Some("501"));
    // 2025-12-01T00:59:00Z: the offset is applied.
    assert_eq!(first.created_at, 1_764_550_740);
    assert_eq!(first.created_offset, -5 * 3600);
    assert!(!first.refunded() && !first.unfulfilled());
    // The quoted newline moved the next order one line down.
    let second = &orders[1];
    assert_eq!((second.name.as_str(), second.line), ("#1002", 5));
    assert!(second.refunded() && second.unfulfilled());
    assert_eq!(second.refunded_minor, 2000);
    assert!(second.cancelled_at.is_some());

    let summary = check("orders.csv", text.as_bytes()).unwrap();
    assert_eq!((summary.rows, summary.records), (3, 2));
    assert_eq!(summary.currencies, vec![(Currency::USD, 2)]);
    // The newest time in the file: #1002's cancellation.
    assert_eq!(summary.seen_at, parse_instant("2025-12-03 10:00:00 +0000", false).map(|i| i.unix));
}

/// "A bad value names the file, line and column" (and says what would be accepted).
#[test]
fn a_bad_value_is_named_with_its_line_and_column() {
    let good = "#1,a@x,paid,,unfulfilled,,USD,1.00,1.00,2025-11-01 10:00:00 +0000,1,Mug,1.00,M,,,11";
    let cases = [
        (
            "#2,a@x,paid,,unfulfilled,,USD,1.00,12;50,2025-11-01 10:00:00 +0000,1,Mug,1.00,M,,,12",
            "orders.csv:3: column 9 \"Total\": \"12;50\" is not an amount of USD",
        ),
        (
            "#2,a@x,paid,,unfulfilled,,USD,1.00,1.00,yesterday,1,Mug,1.00,M,,,12",
            "orders.csv:3: column 10 \"Created at\": \"yesterday\" is not a date and time",
        ),
        (
            "#2,a@x,paid,,unfulfilled,,dollars,1.00,1.00,2025-11-01 10:00:00 +0000,1,Mug,1.00,M,,,12",
            "orders.csv:3: column 7 \"Currency\": \"dollars\" is not a currency",
        ),
        (
            "#2,a@x,paid,,unfulfilled,,USD,1.00,1.00,2025-11-01 10:00:00 +0000,two,Mug,1.00,M,,,12",
            "orders.csv:3: column 11 \"Lineitem quantity\": \"two\" is not a quantity",
        ),
        (
            ",a@x,paid,,unfulfilled,,USD,1.00,1.00,2025-11-01 10:00:00 +0000,1,Mug,1.00,M,,,12",
            "orders.csv:3: column 1 \"Name\": an order's row needs the order's name",
        ),
        (
            "#2,a@x,paid,,unfulfilled,,USD,1.00,1.00,2025-11-01 10:00:00 +0000,1,Mug,1.00,M,,,11",
            "orders.csv:3: column 17 \"Id\": order id 11 is also the id of the order at line 2",
        ),
        ("#2,a@x,paid", "orders.csv:3: this row has 3 cells where the header has 17"),
    ];
    for (row, expected) in cases {
        let message = error("orders.csv", &format!("{ORDERS_HEADER}\n{good}\n{row}\n"));
        assert!(message.starts_with(expected), "{row}\n{message}");
    }
    // An order's rows apart from each other: the file was edited or joined.
    let apart = format!(
        "{ORDERS_HEADER}\n{good}\n{}\n{}\n",
        good.replace("#1,", "#2,").replace(",11", ",12"),
        good.replace(",11", ",")
    );
    let message = error("orders.csv", &apart);
    assert!(
        message.starts_with(
            "orders.csv:4: column 1 \"Name\": order #1 is here again, apart from its rows at line 2"
        ),
        "{message}"
    );
}

// ----- imports: Stripe payments ---------------------------------------------------------------------------------

/// "Stripe rows keyed by `id`, or by `PaymentIntent ID` and time where `id` is empty"; "`Created (UTC)` and a
/// missing `Decline Reason` accepted" (the decline code then comes from the seller message).
#[test]
fn stripe_payments_are_keyed_and_their_older_columns_read() {
    let text = "Status,id,Created (UTC),Amount,Currency,PaymentIntent ID,Seller Message\n\
                Failed,ch_1,2024-09-20 17:40:57,9.99,usd,pi_1,The bank returned the decline code `do_not_honor`.\n\
                requires_payment_method,,2024-09-20 13:36:32,14.99,usd,pi_2,\"Failed, card removed\"\n\
                Paid,ch_3,2024-09-21 08:00:00,9.99,USD,pi_1,Payment complete.\n\
                Failed,ch_4,2024-09-21 09:00:00,1000,jpy,pi_4,\n";
    let payments: Vec<seam_evidence::Payment> = records("unified_payments.csv", text)
        .unwrap()
        .into_iter()
        .map(|record| match record {
            Record::Payment(payment) => payment,
            other => panic!("{other:?}"),
        })
        .collect();
    let keys: Vec<&str> = payments.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["ch_1", "pi:pi_2@1726839392", "ch_3", "ch_4"]);
    let outcomes: Vec<Outcome> = payments.iter().map(|p| p.outcome).collect();
    assert_eq!(outcomes, [Outcome::Failed, Outcome::Other, Outcome::Paid, Outcome::Failed]);
    assert_eq!(payments[0].decline_reason.as_deref(), Some("do_not_honor"));
    assert_eq!(payments[3].decline_reason, None);
    assert_eq!((payments[0].amount_minor, payments[0].currency.code()), (999, "USD"));
    // Yen have no minor unit.
    assert_eq!((payments[3].amount_minor, payments[3].currency.code()), (1000, "JPY"));
    assert_eq!(payments[0].created_at, 1_726_854_057);

    let twice = "id,Created date (UTC),Amount,Currency,Status\nch_1,2024-09-20 17:40:57,1.00,usd,Paid\n\
                 ch_1,2024-09-20 17:40:57,1.00,usd,Paid\n";
    let message = error("p.csv", twice);
    assert!(message.starts_with("p.csv:3: column 1 \"id\": payment ch_1 is already on line 2"), "{message}");
    let neither = "id,PaymentIntent ID,Created date (UTC),Amount,Currency,Status\n,,2024-09-20 17:40:57,1.00,usd,Paid\n";
    let message = error("p.csv", neither);
    assert!(
        message
            .starts_with("p.csv:2: column 1 \"id\": this payment has neither an id nor a PaymentIntent ID"),
        "{message}"
    );
}

// ----- imports: Shopify inventory -------------------------------------------------------------------------------

/// "Numbers or `not stocked`": `not stocked` is no stock count at all, and anything else must be a whole number.
#[test]
fn inventory_counts_are_numbers_or_not_stocked() {
    let text = format!(
        "{INVENTORY_HEADER}\n\
         tee,Tee,Size,M,TEE-M,Shop,5,5\n\
         tee,Tee,Size,L,TEE-L,Shop,not stocked,not stocked\n\
         tee,Tee,Size,L,TEE-L,Warehouse,-2,0\n\
         mug,Mug,Title,Default Title,,Shop,0,0\n"
    );
    let levels: Vec<seam_evidence::StockLevel> = records("inventory.csv", &text)
        .unwrap()
        .into_iter()
        .map(|record| match record {
            Record::Stock(level) => level,
            other => panic!("{other:?}"),
        })
        .collect();
    let seen: Vec<(&str, &str, Option<i64>)> =
        levels.iter().map(|l| (l.sku_key.as_str(), l.location.as_str(), l.available)).collect();
    assert_eq!(
        seen,
        [
            ("TEE-M", "Shop", Some(5)),
            ("TEE-L", "Shop", None),
            ("TEE-L", "Warehouse", Some(-2)),
            ("mug/Default Title", "Shop", Some(0)),
        ]
    );
    let summary = check("inventory.csv", text.as_bytes()).unwrap();
    assert_eq!(summary.locations, ["Shop", "Warehouse"]);
    assert_eq!(summary.seen_at, None);

    let bad = format!("{INVENTORY_HEADER}\ntee,Tee,Size,M,TEE-M,Shop,lots,5\n");
    let message = error("inventory.csv", &bad);
    assert!(
        message.starts_with(
            "inventory.csv:2: column 7 \"Available (not editable)\": \"lots\" is not a stock count"
        ),
        "{message}"
    );
}

// ----- times, months, money -------------------------------------------------------------------------------------

/// "Timestamps are converted from their own offsets", and "months are cut in the brand's time zone": an order
/// at 2025-12-01T01:00+00:00 is November's in America/New_York and December's in UTC.
#[test]
fn months_are_cut_in_the_brands_time_zone_from_each_times_own_offset() {
    let new_york = time_zone("America/New_York").unwrap();
    let utc = time_zone("UTC").unwrap();
    let at = parse_instant("2025-12-01 01:00:00 +0000", false).unwrap().unix;
    assert_eq!(Month::of_instant(at, &new_york).to_string(), "2025-11");
    assert_eq!(Month::of_instant(at, &utc).to_string(), "2025-12");
    // The same instant written with another offset is the same instant.
    assert_eq!(parse_instant("2025-11-30 20:00:00 -0500", false).unwrap().unix, at);
    assert_eq!(parse_instant("2025-11-30T20:00:00-05:00", false).unwrap().unix, at);
    // Without an offset only where the column says UTC (Stripe's), never guessed for Shopify's.
    assert_eq!(parse_instant("2025-12-01 01:00:00", true).unwrap().unix, at);
    assert_eq!(parse_instant("2025-12-01 01:00", true).unwrap().unix, at);
    assert!(parse_instant("2025-12-01 01:00:00", false).is_none());
    assert!(parse_instant("2025-02-30 01:00:00 +0000", false).is_none());

    // November in New York is [Nov 1 04:00Z, Dec 1 05:00Z): daylight saving time ends in between.
    let november = Month::parse("2025-11").unwrap();
    let months = Months::between(november, november, &new_york);
    assert_eq!(months.bounds, [1_761_969_600, 1_764_565_200]);
    assert_eq!(months.index_of(at), Some(0));
    assert_eq!(months.index_of(1_764_565_200), None);
    assert!(time_zone("Mars/Olympus").unwrap_err().contains("IANA name"));
    assert_eq!(Month::parse("2025-13"), None);
}

#[test]
fn amounts_are_read_in_minor_units_of_their_currency() {
    let usd = Currency::USD;
    let jpy = Currency::parse("jpy").unwrap();
    let kwd = Currency::parse("KWD").unwrap();
    for (text, currency, minor) in [
        ("42.11", usd, Some(4211)),
        ("1299.00", usd, Some(129_900)),
        ("1,299.5", usd, Some(129_950)),
        ("-0.00", usd, Some(0)),
        ("-5", usd, Some(-500)),
        ("1000", jpy, Some(1000)),
        ("1000.00", jpy, Some(1000)),
        ("1000.50", jpy, None),
        ("1.234", kwd, Some(1234)),
        ("1.234", usd, None),
        ("12,34", usd, None),
        ("", usd, None),
        ("abc", usd, None),
    ] {
        assert_eq!(parse_amount(text, currency), minor, "{text} {currency}");
    }
    assert_eq!(format_minor(123_456_789, usd), "1,234,567.89");
    assert_eq!(format_minor(-5, usd), "-0.05");
    assert_eq!(format_minor(1000, jpy), "1,000");
}

/// "An import in another currency is refused unless `--rate CUR=RATE` converts it": one CUR is RATE of the
/// figures' currency.
#[test]
fn rates_convert_between_minor_units() {
    let gbp_in_usd = Rate::parse("GBP=1.27").unwrap();
    assert_eq!(gbp_in_usd.convert(4211, Currency::USD), 5348); // 42.11 GBP = 53.4797 USD
    let jpy_in_usd = Rate::parse("jpy=0.0067").unwrap();
    assert_eq!(jpy_in_usd.convert(1000, Currency::USD), 670); // 1000 JPY = 6.70 USD
    let usd_in_jpy = Rate::parse("USD=149.5").unwrap();
    assert_eq!(usd_in_jpy.convert(1000, Currency::parse("JPY").unwrap()), 1495); // 10.00 USD = 1495 JPY
    for bad in ["GBP", "GBP=", "GBP=0", "GBP=-1", "GBP=abc", "POUNDS=1.2"] {
        assert!(Rate::parse(bad).is_err(), "{bad}");
    }
}

// ----- measures -------------------------------------------------------------------------------------------------

fn options(currency: &str, rates: &[&str]) -> Options {
    Options {
        time_zone: "UTC".to_owned(),
        currency: Currency::parse(currency).unwrap(),
        rates: rates.iter().map(|rate| Rate::parse(rate).unwrap()).collect(),
    }
}

fn two_months() -> Vec<Month> {
    vec![Month::parse("2025-10").unwrap(), Month::parse("2025-11").unwrap()]
}

/// "Average order value: the orders' Total, summed, over the orders"; "refund rate: orders refunded in full or in
/// part over orders"; "unfulfilled after 2 days: of the orders due, those not fulfilled within 2 days".
#[test]
fn order_measures_are_shares_of_the_months_orders() {
    let figures = Figures {
        months: two_months(),
        orders: vec![OrderFigures {
            month: 1,
            currency: Currency::parse("GBP"),
            orders: 35,
            total_minor: 133_067,
            refunded_orders: 2,
            refunded_minor: 6_496,
            cancelled_orders: 2,
            unfulfilled_orders: 2,
            due_orders: 33,
            late_orders: 20,
        }],
        ..Figures::default()
    };
    let measures = measure(&figures, &options("GBP", &[])).unwrap();
    assert_eq!(measures.months.len(), 1, "a month with nothing in it is left out");
    let orders = measures.months[0].orders.as_ref().unwrap();
    assert_eq!(orders.orders, 35);
    assert_eq!(orders.average_order_value.as_ref().unwrap().minor, 3_802); // 1330.67 / 35 = 38.019
    assert_eq!(orders.average_order_value.as_ref().unwrap().text(), "38.02 GBP");
    assert_eq!((orders.refunded.count, orders.refunded.of), (2, 35));
    assert_eq!(orders.refunded_amount.text(), "64.96 GBP");
    assert_eq!(orders.unfulfilled_after_2_days.text(), "20 of 33 (60.6%)");
}

/// "Money in another currency than the figures' is refused unless a rate converts it, and every converted figure
/// says so."
#[test]
fn money_in_another_currency_needs_a_rate_and_says_it_was_converted() {
    let figures = Figures {
        months: two_months(),
        orders: vec![
            OrderFigures {
                month: 0,
                currency: Currency::parse("USD"),
                orders: 1,
                total_minor: 1_000,
                ..Default::default()
            },
            OrderFigures {
                month: 0,
                currency: Currency::parse("GBP"),
                orders: 1,
                total_minor: 1_000,
                ..Default::default()
            },
        ],
        ..Figures::default()
    };
    let refused = measure(&figures, &options("USD", &[])).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "money in GBP (orders 2025-10) cannot be added to USD without a rate; give one with --rate GBP=RATE (one GBP \
         in USD), or show the figures in GBP with --currency GBP"
    );
    let measures = measure(&figures, &options("USD", &["GBP=1.27"])).unwrap();
    let aov = measures.months[0].orders.as_ref().unwrap().average_order_value.clone().unwrap();
    assert_eq!(aov.minor, 1_135); // (10.00 + 12.70) / 2
    assert_eq!(aov.text(), "11.35 USD (converted from GBP at 1.27)");
    // A refund sum of 0 needs no rate, and says nothing was converted.
    let refunds = measures.months[0].orders.as_ref().unwrap().refunded_amount.clone();
    assert!(refunds.converted_from.is_empty());
}

/// "Failed-payment rate: failed over paid and failed"; "the decline reasons' mix: each reason's share of the
/// failed"; "recovered: the share of failed payments later paid".
#[test]
fn payment_measures_are_shares_of_paid_and_failed() {
    let figures = Figures {
        months: two_months(),
        payments: vec![PaymentFigures { month: 0, payments: 14, paid: 6, failed: 7, other: 1, recovered: 2 }],
        declines: vec![
            DeclineFigures { month: 0, reason: Some("do_not_honor".into()), failed: 1 },
            DeclineFigures { month: 0, reason: Some("insufficient_funds".into()), failed: 3 },
            DeclineFigures { month: 0, reason: None, failed: 3 },
        ],
        ..Figures::default()
    };
    let measures = measure(&figures, &options("USD", &[])).unwrap();
    let payments = measures.months[0].payments.as_ref().unwrap();
    assert_eq!(payments.failed.text(), "7 of 13 (53.8%)");
    assert_eq!(payments.recovered.text(), "2 of 7 (28.6%)");
    let mix: Vec<(Option<&str>, i64)> =
        payments.declines.iter().map(|d| (d.reason.as_deref(), d.failed)).collect();
    // Most frequent first; a tie in reason order, "none given" first.
    assert_eq!(mix, [(None, 3), (Some("insufficient_funds"), 3), (Some("do_not_honor"), 1)]);
}

/// "Per workflow and month: runs, runs that needed a person (an inbox decision), amounts recovered and written
/// off (the ledger entries' `recovered_minor` and `written_off_minor`), median time to a human decision."
#[test]
fn workflow_measures_come_from_runs_decisions_and_ledger_entries() {
    let workflow = "failed-payment-recovery".to_owned();
    let figures = Figures {
        months: two_months(),
        runs: vec![RunFigures { month: 1, workflow: workflow.clone(), runs: 4, escalated: 3, decided: 2 }],
        decisions: [600, 3_600, 7_200]
            .into_iter()
            .map(|seconds| DecisionTime { month: 1, workflow: workflow.clone(), seconds })
            .collect(),
        ledger: [
            r#"{"recovered_minor":"4900","written_off_minor":"0","currency":"usd"}"#,
            r#"{"recovered_minor":2500,"written_off_minor":0,"currency":"usd"}"#,
            r#"{"recovered_minor":"0","written_off_minor":"1500","currency":"usd"}"#,
            r#"{"recovered_minor":null,"template_errors":"x"}"#,
        ]
        .into_iter()
        .map(|fields| LedgerFigures { month: 1, workflow: workflow.clone(), fields: fields.to_owned() })
        .collect(),
        ..Figures::default()
    };
    let measures = measure(&figures, &options("USD", &[])).unwrap();
    let flows = &measures.months[0].workflows;
    assert_eq!(flows.len(), 1);
    let flow = &flows[0];
    assert_eq!((flow.runs, flow.escalated.count, flow.needed_a_person.count), (4, 3, 2));
    assert_eq!(flow.needed_a_person.text(), "2 of 4 (50.0%)");
    assert_eq!(flow.recovered.text(), "74.00 USD");
    assert_eq!(flow.written_off.text(), "15.00 USD");
    assert_eq!((flow.decisions, flow.median_seconds_to_decision), (3, Some(3_600)));
    assert_eq!(median(&mut [4, 1, 3, 2]), Some(2));
    assert_eq!(median(&mut []), None);
}

/// "Stock: the month's latest inventory snapshot"; the months run from the first to the last with anything in
/// them.
#[test]
fn a_month_is_spoken_for_by_its_latest_snapshot() {
    let months = two_months();
    let dates: Vec<String> =
        ["2025-10-02", "2025-10-30", "2025-11-15", "2025-12-01"].map(String::from).to_vec();
    assert_eq!(snapshots_for(&months, &dates), [(0, "2025-10-30".to_owned()), (1, "2025-11-15".to_owned())]);
    let utc = time_zone("UTC").unwrap();
    let spanned = months_spanning(Some(1_726_854_057), None, &dates, &utc).unwrap();
    assert_eq!(spanned.months.first().map(ToString::to_string).as_deref(), Some("2024-09"));
    assert_eq!(spanned.months.last().map(ToString::to_string).as_deref(), Some("2025-12"));
    assert_eq!(spanned.months.len(), 16);
    assert!(months_spanning(None, None, &[], &utc).is_none());
}
