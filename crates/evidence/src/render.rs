//! The measures as text (for people), JSON (every figure, stable keys) or CSV (one row per figure, for a
//! spreadsheet). Renderers only format: every figure comes from [`Measures`], so the three cannot disagree.

use std::fmt::Write as _;

use crate::measure::{Measures, Money, Share};
use crate::money::format_minor;

/// Imports listed in the text.
const TEXT_IMPORTS: usize = 10;

/// Text for a terminal.
pub fn text(measures: &Measures) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Evidence by calendar month in {}; money in {}.",
        measures.time_zone, measures.currency
    );
    for rate in &measures.rates {
        let _ = writeln!(out, "Converted at 1 {} = {} {} (--rate).", rate.from, rate.rate, measures.currency);
    }
    if measures.imports.is_empty() {
        let _ =
            writeln!(out, "No imports yet: `seam evidence import FILE...` reads Shopify and Stripe exports.");
    } else {
        // The latest few: a brand that imports its inventory daily has hundreds (the JSON lists them all).
        let shown = measures.imports.len().min(TEXT_IMPORTS);
        if shown < measures.imports.len() {
            let _ = writeln!(out, "Imports: {}, the latest {shown}:", measures.imports.len());
        } else {
            let _ = writeln!(out, "Imports:");
        }
        for import in &measures.imports[measures.imports.len() - shown..] {
            let as_of = import.as_of.as_ref().map(|d| format!(", as of {d}")).unwrap_or_default();
            let currencies = if import.currencies.is_empty() {
                String::new()
            } else {
                format!(", {}", import.currencies.join(" "))
            };
            let _ = writeln!(
                out,
                "  #{} {} {} ({} records{as_of}{currencies}, imported {})",
                import.id, import.kind, import.file, import.records, import.imported_at
            );
        }
    }
    if measures.months.is_empty() {
        let _ = writeln!(out, "\nNothing to measure in the months asked for.");
    }
    for month in &measures.months {
        let _ = writeln!(out, "\n{}", month.month);
        if let Some(orders) = &month.orders {
            let _ = writeln!(out, "  Orders (Shopify)");
            row(&mut out, "orders", orders.orders.to_string());
            if let Some(aov) = &orders.average_order_value {
                row(&mut out, "average order value", aov.text());
            }
            row(
                &mut out,
                "refunded",
                format!("{}, {}", orders.refunded.text(), orders.refunded_amount.text()),
            );
            row(&mut out, "cancelled", orders.cancelled.text());
            row(&mut out, "unfulfilled when exported", orders.unfulfilled.text());
            row(&mut out, "unfulfilled after 2 days", orders.unfulfilled_after_2_days.text());
        }
        if let Some(payments) = &month.payments {
            let _ = writeln!(out, "  Payments (Stripe)");
            row(
                &mut out,
                "payments",
                format!(
                    "{}: {} paid, {} failed, {} neither",
                    payments.payments, payments.paid, payments.failed.count, payments.other
                ),
            );
            row(&mut out, "failed-payment rate", payments.failed.text());
            if !payments.declines.is_empty() {
                let mix: Vec<String> = payments
                    .declines
                    .iter()
                    .map(|d| {
                        let reason = d.reason.as_deref().unwrap_or("(no reason given)");
                        match d.share {
                            Some(share) => format!("{reason} {} ({:.1}%)", d.failed, share * 100.0),
                            None => format!("{reason} {}", d.failed),
                        }
                    })
                    .collect();
                row(&mut out, "decline reasons", mix.join(", "));
            }
            row(&mut out, "failed, later paid", payments.recovered.text());
        }
        if let Some(stock) = &month.stock {
            let locations = if stock.locations == 1 {
                "1 location".to_owned()
            } else {
                format!("{} locations", stock.locations)
            };
            let _ = writeln!(out, "  Stock (Shopify inventory as of {}, {locations})", stock.as_of);
            row(&mut out, "SKUs", stock.skus.to_string());
            row(&mut out, "not stocked somewhere", stock.not_stocked.text());
            row(&mut out, "zero or less somewhere", stock.at_zero.text());
            row(&mut out, "either", stock.not_stocked_or_zero.text());
        }
        for workflow in &month.workflows {
            let _ = writeln!(out, "  Workflow {}", workflow.workflow);
            row(&mut out, "runs started", workflow.runs.to_string());
            row(&mut out, "escalated to the inbox", workflow.escalated.text());
            row(&mut out, "needed a person", workflow.needed_a_person.text());
            row(&mut out, "recovered", workflow.recovered.text());
            row(&mut out, "written off", workflow.written_off.text());
            let median = match workflow.median_seconds_to_decision {
                Some(seconds) => format!("{} ({} decisions)", duration(seconds), workflow.decisions),
                None => "no decision yet".to_owned(),
            };
            row(&mut out, "median time to a decision", median);
        }
    }
    out
}

fn row(out: &mut String, label: &str, value: String) {
    let _ = writeln!(out, "    {label:<28}{value}");
}

/// `3h 05m`, `2d 4h`, `45m`, `30s`.
pub fn duration(seconds: i64) -> String {
    let (days, hours, minutes) = (seconds / 86400, seconds % 86400 / 3600, seconds % 3600 / 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes:02}m")
    } else if minutes > 0 {
        format!("{minutes}m")
    } else {
        format!("{seconds}s")
    }
}

/// JSON: the [`Measures`] as they are; the keys are documented in `docs/evidence.md`.
pub fn json(measures: &Measures) -> String {
    let mut text = serde_json::to_string_pretty(measures).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

/// The CSV header: one row per figure.
pub const CSV_COLUMNS: [&str; 8] =
    ["month", "section", "measure", "value", "count", "of", "currency", "note"];

/// CSV: one row per figure. Shares are `value` (0 to 1) with `count` and `of`; money is `value` with `currency`,
/// and `note` says when part of it was converted.
pub fn csv(measures: &Measures) -> String {
    let mut out = CsvRows {
        writer: csv::Writer::from_writer(Vec::new()),
        month: String::new(),
        section: String::new(),
    };
    out.write(CSV_COLUMNS);
    for month in &measures.months {
        out.month = month.month.to_string();
        if let Some(orders) = &month.orders {
            out.section = "orders".to_owned();
            out.count("orders", orders.orders, "");
            if let Some(aov) = &orders.average_order_value {
                out.money("average_order_value", aov);
            }
            out.share("refund_rate", &orders.refunded, "");
            out.money("refunded_amount", &orders.refunded_amount);
            out.share("cancellation_rate", &orders.cancelled, "");
            out.share("unfulfilled_share", &orders.unfulfilled, "");
            out.share("unfulfilled_after_2_days_share", &orders.unfulfilled_after_2_days, "");
        }
        if let Some(payments) = &month.payments {
            out.section = "payments".to_owned();
            out.count("payments", payments.payments, "");
            out.count("paid", payments.paid, "");
            out.count("other", payments.other, "");
            out.share("failed_payment_rate", &payments.failed, "");
            for decline in &payments.declines {
                let name = format!("decline:{}", decline.reason.as_deref().unwrap_or(""));
                out.share(
                    &name,
                    &Share { count: decline.failed, of: payments.failed.count, share: decline.share },
                    "",
                );
            }
            out.share("recovered_share", &payments.recovered, "");
        }
        if let Some(stock) = &month.stock {
            out.section = "stock".to_owned();
            let note = format!("as of {}", stock.as_of);
            out.count("skus", stock.skus, &note);
            out.share("not_stocked_share", &stock.not_stocked, &note);
            out.share("at_zero_share", &stock.at_zero, &note);
            out.share("not_stocked_or_zero_share", &stock.not_stocked_or_zero, &note);
        }
        for workflow in &month.workflows {
            out.section = format!("workflow:{}", workflow.workflow);
            out.count("runs", workflow.runs, "");
            out.share("escalated_share", &workflow.escalated, "");
            out.share("needed_a_person_share", &workflow.needed_a_person, "");
            out.money("recovered", &workflow.recovered);
            out.money("written_off", &workflow.written_off);
            let median = workflow.median_seconds_to_decision.map(|s| s.to_string()).unwrap_or_default();
            out.value("median_seconds_to_decision", &median, workflow.decisions);
        }
    }
    String::from_utf8(out.writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The CSV being written, and the month and section its next rows are in.
struct CsvRows {
    writer: csv::Writer<Vec<u8>>,
    month: String,
    section: String,
}

impl CsvRows {
    fn write(&mut self, cells: [&str; 8]) {
        // Writing to memory cannot fail.
        let _ = self.writer.write_record(cells);
    }

    fn count(&mut self, measure: &str, count: i64, note: &str) {
        let (month, section) = (self.month.clone(), self.section.clone());
        self.write([&month, &section, measure, &count.to_string(), "", "", "", note]);
    }

    /// A figure with the count it was taken over (a median over its decisions).
    fn value(&mut self, measure: &str, value: &str, count: i64) {
        let (month, section) = (self.month.clone(), self.section.clone());
        self.write([&month, &section, measure, value, &count.to_string(), "", "", ""]);
    }

    fn share(&mut self, measure: &str, share: &Share, note: &str) {
        let (month, section) = (self.month.clone(), self.section.clone());
        let value = share.share.map(|s| format!("{s:.4}")).unwrap_or_default();
        self.write([
            &month,
            &section,
            measure,
            &value,
            &share.count.to_string(),
            &share.of.to_string(),
            "",
            note,
        ]);
    }

    fn money(&mut self, measure: &str, money: &Money) {
        let (month, section) = (self.month.clone(), self.section.clone());
        let note = if money.converted_from.is_empty() {
            String::new()
        } else {
            let rates: Vec<String> =
                money.converted_from.iter().map(|r| format!("{} at {}", r.from, r.rate)).collect();
            format!("converted from {}", rates.join(", "))
        };
        let value = format_minor(money.minor, money.currency).replace(',', "");
        self.write([&month, &section, measure, &value, "", "", money.currency.code(), &note]);
    }
}
