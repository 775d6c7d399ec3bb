//! The measures: from the store's counts and sums per month to rates, averages, medians and money in one currency.
//!
//! The store adds rows up (it is good at that and the rows stay in the database); this module does everything a
//! definition says beyond adding: the shares, the average order value, the median time to a decision, the decline
//! mix, which inventory snapshot speaks for a month, and converting money at the rates given. Each definition is
//! written in `docs/evidence.md`; the tests quote it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::money::{Currency, Rate, format_minor};
use crate::time::{Month, Months};

/// An order counts as unfulfilled after 2 days when it was not fulfilled within this many seconds of being placed.
pub const FULFILMENT_DUE_SECONDS: i64 = 2 * 24 * 3600;

/// One month's orders in one currency, as the store counts them. `month` indexes [`Figures::months`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFigures {
    pub month: usize,
    pub currency: Option<Currency>,
    pub orders: i64,
    pub total_minor: i64,
    pub refunded_orders: i64,
    pub refunded_minor: i64,
    pub cancelled_orders: i64,
    /// Not (fully) fulfilled when last exported.
    pub unfulfilled_orders: i64,
    /// Not cancelled, and either fulfilled or older than 2 days when the export was taken.
    pub due_orders: i64,
    /// Of those, not fulfilled within 2 days.
    pub late_orders: i64,
}

/// One month's payment attempts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentFigures {
    pub month: usize,
    pub payments: i64,
    pub paid: i64,
    pub failed: i64,
    pub other: i64,
    /// Failed payments for which a later payment of the same PaymentIntent or invoice was paid.
    pub recovered: i64,
}

/// One month's failed payments with one decline reason (`None`: none given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclineFigures {
    pub month: usize,
    pub reason: Option<String>,
    pub failed: i64,
}

/// One inventory snapshot, counted per SKU over its locations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StockFigures {
    /// `YYYY-MM-DD`.
    pub as_of: String,
    pub locations: i64,
    pub skus: i64,
    /// SKUs `not stocked` at one location or more.
    pub not_stocked: i64,
    /// SKUs with zero or fewer available at one location or more.
    pub at_zero: i64,
    /// SKUs with either.
    pub not_stocked_or_zero: i64,
}

/// One month's runs of one workflow (by the month the run started).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFigures {
    pub month: usize,
    pub workflow: String,
    pub runs: i64,
    /// Runs that opened an inbox item.
    pub escalated: i64,
    /// Runs with an inbox item a person decided.
    pub decided: i64,
}

/// One decided inbox item: how long from its opening to the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionTime {
    pub month: usize,
    pub workflow: String,
    pub seconds: i64,
}

/// One ledger entry of a run that started in `month`: its fields as the engine wrote them (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerFigures {
    pub month: usize,
    pub workflow: String,
    pub fields: String,
}

/// An import, as the log has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportInfo {
    pub id: i64,
    pub kind: String,
    pub file: String,
    /// RFC 3339, UTC.
    pub imported_at: String,
    /// An inventory snapshot's date.
    pub as_of: Option<String>,
    pub records: i64,
    pub currencies: Vec<String>,
}

/// Everything the store counted for a range of months.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub months: Vec<Month>,
    pub orders: Vec<OrderFigures>,
    pub payments: Vec<PaymentFigures>,
    pub declines: Vec<DeclineFigures>,
    /// The snapshot that speaks for a month, by month index.
    pub stock: Vec<(usize, StockFigures)>,
    pub runs: Vec<RunFigures>,
    pub decisions: Vec<DecisionTime>,
    pub ledger: Vec<LedgerFigures>,
    pub imports: Vec<ImportInfo>,
}

/// How to show the figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The IANA name the months were cut in.
    pub time_zone: String,
    /// Every money figure is in this currency.
    pub currency: Currency,
    /// Rates for money in other currencies.
    pub rates: Vec<Rate>,
}

/// A money figure in the figures' currency, with the rates that went into it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Money {
    /// Minor units (cents).
    pub minor: i64,
    /// The same as a number of the currency (42.11).
    pub amount: f64,
    pub currency: Currency,
    /// The rates used to convert part of it from other currencies; empty when nothing was converted.
    pub converted_from: Vec<Rate>,
}

impl Money {
    /// `42.11 GBP`, and `(converted from EUR at 0.86)` when it was.
    pub fn text(&self) -> String {
        let mut text = format!("{} {}", format_minor(self.minor, self.currency), self.currency);
        if !self.converted_from.is_empty() {
            let rates: Vec<String> =
                self.converted_from.iter().map(|rate| format!("{} at {}", rate.from, rate.rate)).collect();
            text.push_str(&format!(" (converted from {})", rates.join(", ")));
        }
        text
    }
}

/// A count over a count, and their share (`None` when there is nothing to divide by).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Share {
    pub count: i64,
    pub of: i64,
    pub share: Option<f64>,
}

impl Share {
    pub fn new(count: i64, of: i64) -> Share {
        Share { count, of, share: (of > 0).then(|| count as f64 / of as f64) }
    }

    /// `14 of 60 (23.3%)`.
    pub fn text(&self) -> String {
        match self.share {
            Some(share) => format!("{} of {} ({:.1}%)", self.count, self.of, share * 100.0),
            None => format!("{} of {}", self.count, self.of),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderMeasures {
    pub orders: i64,
    pub average_order_value: Option<Money>,
    pub refunded: Share,
    pub refunded_amount: Money,
    pub cancelled: Share,
    /// Orders not (fully) fulfilled when last exported, cancelled ones included.
    pub unfulfilled: Share,
    /// Of the orders due (not cancelled, fulfilled or 2 days old when exported), those not fulfilled within 2
    /// days.
    pub unfulfilled_after_2_days: Share,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decline {
    /// Stripe's decline code; `null` when none was given.
    pub reason: Option<String>,
    pub failed: i64,
    /// Of the month's failed payments.
    pub share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaymentMeasures {
    pub payments: i64,
    pub paid: i64,
    /// Neither paid nor failed (`requires_payment_method`, `Canceled`, ...): not in the failed-payment rate.
    pub other: i64,
    /// Failed of paid and failed.
    pub failed: Share,
    /// The decline reasons, most frequent first.
    pub declines: Vec<Decline>,
    /// Failed payments later paid, of the failed.
    pub recovered: Share,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockMeasures {
    /// The snapshot's date: the month's latest.
    pub as_of: String,
    pub locations: i64,
    pub skus: i64,
    pub not_stocked: Share,
    pub at_zero: Share,
    pub not_stocked_or_zero: Share,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkflowMeasures {
    pub workflow: String,
    pub runs: i64,
    /// Runs that opened an inbox item, of the runs.
    pub escalated: Share,
    /// Runs with an inbox decision made by a person, of the runs.
    pub needed_a_person: Share,
    /// Ledger entries' `recovered_minor`.
    pub recovered: Money,
    /// Ledger entries' `written_off_minor`.
    pub written_off: Money,
    /// Inbox items decided.
    pub decisions: i64,
    /// The median time from an inbox item's opening to its decision, in seconds.
    pub median_seconds_to_decision: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthMeasures {
    pub month: Month,
    pub orders: Option<OrderMeasures>,
    pub payments: Option<PaymentMeasures>,
    pub stock: Option<StockMeasures>,
    pub workflows: Vec<WorkflowMeasures>,
}

/// Every measure, month by month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measures {
    pub time_zone: String,
    pub currency: Currency,
    pub rates: Vec<Rate>,
    pub imports: Vec<ImportInfo>,
    /// Only months with something in them, oldest first.
    pub months: Vec<MonthMeasures>,
}

/// Money in currencies that have no rate: which figures of which months need one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", missing_rate_message(.target, .needed))]
pub struct MissingRate {
    pub target: Currency,
    /// Each currency without a rate, and the figures (`orders 2025-11`) in it.
    pub needed: BTreeMap<Currency, BTreeSet<String>>,
}

fn missing_rate_message(target: &Currency, needed: &BTreeMap<Currency, BTreeSet<String>>) -> String {
    let parts: Vec<String> = needed
        .iter()
        .map(|(currency, figures)| {
            let figures: Vec<&str> = figures.iter().map(String::as_str).collect();
            format!("{currency} ({})", figures.join(", "))
        })
        .collect();
    let first = needed.keys().next().map_or("EUR".to_owned(), |c| c.to_string());
    format!(
        "money in {} cannot be added to {target} without a rate; give one with --rate {first}=RATE (one {first} in \
         {target}), or show the figures in {first} with --currency {first}",
        parts.join(" and ")
    )
}

/// Sums per currency turned into one figure, or the currencies that lack a rate.
struct Converter<'a> {
    options: &'a Options,
    missing: BTreeMap<Currency, BTreeSet<String>>,
}

impl Converter<'_> {
    fn money(&mut self, sums: &BTreeMap<Currency, i64>, what: &str) -> (i64, Vec<Rate>) {
        let mut total: i64 = 0;
        let mut used = Vec::new();
        for (currency, minor) in sums {
            if *minor == 0 {
                continue;
            }
            if *currency == self.options.currency {
                total += minor;
            } else if let Some(rate) = self.options.rates.iter().find(|rate| rate.from == *currency) {
                total += rate.convert(*minor, self.options.currency);
                used.push(rate.clone());
            } else {
                self.missing.entry(*currency).or_default().insert(what.to_owned());
            }
        }
        (total, used)
    }

    fn figure(&mut self, sums: &BTreeMap<Currency, i64>, what: &str) -> Money {
        let (minor, converted_from) = self.money(sums, what);
        money(minor, self.options.currency, converted_from)
    }
}

fn money(minor: i64, currency: Currency, converted_from: Vec<Rate>) -> Money {
    let amount = minor as f64 / 10f64.powi(currency.exponent() as i32);
    Money { minor, amount, currency, converted_from }
}

/// Divides rounding half away from zero.
fn divide_rounded(numerator: i64, denominator: i64) -> i64 {
    let (n, d) = (numerator as i128, denominator as i128);
    let rounded = (2 * n.abs() + d) / (2 * d);
    (if n < 0 { -rounded } else { rounded }) as i64
}

/// The median of `values` (the mean of the middle two for an even count, rounded down).
pub fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]).div_euclid(2)
    })
}

/// A ledger field that holds an amount in minor units: a whole number, or text of one (templates write text).
fn minor_field(fields: &serde_json::Value, name: &str) -> i64 {
    match fields.get(name) {
        Some(serde_json::Value::Number(number)) => number.as_i64().unwrap_or(0),
        Some(serde_json::Value::String(text)) => text.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// For each month of `months`, the latest of the snapshot `dates` (`YYYY-MM-DD`) dated in it.
pub fn snapshots_for(months: &[Month], dates: &[String]) -> Vec<(usize, String)> {
    let mut chosen: BTreeMap<usize, String> = BTreeMap::new();
    for date in dates {
        let Some(parsed) = crate::time::parse_date(date) else { continue };
        let month = Month::of_date(parsed);
        if let Some(index) = months.iter().position(|m| *m == month) {
            let entry = chosen.entry(index).or_default();
            if date.as_str() > entry.as_str() {
                *entry = date.clone();
            }
        }
    }
    chosen.into_iter().collect()
}

/// The months to measure: from the first to the last month anything happened in.
pub fn months_spanning(
    first_instant: Option<i64>,
    last_instant: Option<i64>,
    dates: &[String],
    zone: &jiff::tz::TimeZone,
) -> Option<Months> {
    let mut months: Vec<Month> = Vec::new();
    months.extend(first_instant.map(|t| Month::of_instant(t, zone)));
    months.extend(last_instant.map(|t| Month::of_instant(t, zone)));
    months.extend(dates.iter().filter_map(|d| crate::time::parse_date(d)).map(Month::of_date));
    let first = *months.iter().min()?;
    let last = *months.iter().max()?;
    Some(Months::between(first, last, zone))
}

/// Computes every measure from the figures.
pub fn measure(figures: &Figures, options: &Options) -> Result<Measures, MissingRate> {
    let mut converter = Converter { options, missing: BTreeMap::new() };
    let mut months = Vec::new();
    for (index, month) in figures.months.iter().enumerate() {
        let orders = order_measures(figures, index, *month, &mut converter);
        let payments = payment_measures(figures, index);
        let stock = figures.stock.iter().find(|(i, _)| *i == index).map(|(_, s)| stock_measures(s));
        let workflows = workflow_measures(figures, index, *month, &mut converter);
        if orders.is_some() || payments.is_some() || stock.is_some() || !workflows.is_empty() {
            months.push(MonthMeasures { month: *month, orders, payments, stock, workflows });
        }
    }
    if !converter.missing.is_empty() {
        return Err(MissingRate { target: options.currency, needed: converter.missing });
    }
    let mut rates = options.rates.clone();
    rates.retain(|rate| rate.from != options.currency);
    Ok(Measures {
        time_zone: options.time_zone.clone(),
        currency: options.currency,
        rates,
        imports: figures.imports.clone(),
        months,
    })
}

fn order_measures(
    figures: &Figures,
    index: usize,
    month: Month,
    converter: &mut Converter,
) -> Option<OrderMeasures> {
    let rows: Vec<&OrderFigures> = figures.orders.iter().filter(|f| f.month == index).collect();
    let orders: i64 = rows.iter().map(|f| f.orders).sum();
    if orders == 0 {
        return None;
    }
    let sum = |get: fn(&OrderFigures) -> i64| rows.iter().map(|f| get(f)).sum::<i64>();
    let by_currency = |get: fn(&OrderFigures) -> i64| {
        let mut sums: BTreeMap<Currency, i64> = BTreeMap::new();
        for row in &rows {
            *sums.entry(row.currency.unwrap_or(converter.options.currency)).or_default() += get(row);
        }
        sums
    };
    let totals = by_currency(|f| f.total_minor);
    let refunds = by_currency(|f| f.refunded_minor);
    let (total, total_rates) = converter.money(&totals, &format!("orders {month}"));
    let currency = converter.options.currency;
    Some(OrderMeasures {
        orders,
        average_order_value: Some(money(divide_rounded(total, orders), currency, total_rates)),
        refunded: Share::new(sum(|f| f.refunded_orders), orders),
        refunded_amount: converter.figure(&refunds, &format!("refunds {month}")),
        cancelled: Share::new(sum(|f| f.cancelled_orders), orders),
        unfulfilled: Share::new(sum(|f| f.unfulfilled_orders), orders),
        unfulfilled_after_2_days: Share::new(sum(|f| f.late_orders), sum(|f| f.due_orders)),
    })
}

fn payment_measures(figures: &Figures, index: usize) -> Option<PaymentMeasures> {
    let row = figures.payments.iter().find(|f| f.month == index).filter(|f| f.payments > 0)?;
    let mut declines: Vec<Decline> = figures
        .declines
        .iter()
        .filter(|d| d.month == index)
        .map(|d| Decline {
            reason: d.reason.clone(),
            failed: d.failed,
            share: (row.failed > 0).then(|| d.failed as f64 / row.failed as f64),
        })
        .collect();
    declines.sort_by(|a, b| b.failed.cmp(&a.failed).then_with(|| a.reason.cmp(&b.reason)));
    Some(PaymentMeasures {
        payments: row.payments,
        paid: row.paid,
        other: row.other,
        failed: Share::new(row.failed, row.paid + row.failed),
        declines,
        recovered: Share::new(row.recovered, row.failed),
    })
}

fn stock_measures(stock: &StockFigures) -> StockMeasures {
    StockMeasures {
        as_of: stock.as_of.clone(),
        locations: stock.locations,
        skus: stock.skus,
        not_stocked: Share::new(stock.not_stocked, stock.skus),
        at_zero: Share::new(stock.at_zero, stock.skus),
        not_stocked_or_zero: Share::new(stock.not_stocked_or_zero, stock.skus),
    }
}

fn workflow_measures(
    figures: &Figures,
    index: usize,
    month: Month,
    converter: &mut Converter,
) -> Vec<WorkflowMeasures> {
    let mut names: BTreeSet<&str> = BTreeSet::new();
    names.extend(figures.runs.iter().filter(|f| f.month == index).map(|f| f.workflow.as_str()));
    names.extend(figures.ledger.iter().filter(|f| f.month == index).map(|f| f.workflow.as_str()));
    let mut out = Vec::new();
    for name in names {
        let runs =
            figures.runs.iter().find(|f| f.month == index && f.workflow == name).cloned().unwrap_or_default();
        let mut recovered: BTreeMap<Currency, i64> = BTreeMap::new();
        let mut written_off: BTreeMap<Currency, i64> = BTreeMap::new();
        for entry in figures.ledger.iter().filter(|f| f.month == index && f.workflow == name) {
            let Ok(fields) = serde_json::from_str::<serde_json::Value>(&entry.fields) else { continue };
            let currency = fields
                .get("currency")
                .and_then(serde_json::Value::as_str)
                .and_then(Currency::parse)
                .unwrap_or(converter.options.currency);
            *recovered.entry(currency).or_default() += minor_field(&fields, "recovered_minor");
            *written_off.entry(currency).or_default() += minor_field(&fields, "written_off_minor");
        }
        let mut seconds: Vec<i64> = figures
            .decisions
            .iter()
            .filter(|d| d.month == index && d.workflow == name)
            .map(|d| d.seconds)
            .collect();
        out.push(WorkflowMeasures {
            workflow: name.to_owned(),
            runs: runs.runs,
            escalated: Share::new(runs.escalated, runs.runs),
            needed_a_person: Share::new(runs.decided, runs.runs),
            recovered: converter.figure(&recovered, &format!("{name} recovered {month}")),
            written_off: converter.figure(&written_off, &format!("{name} written off {month}")),
            decisions: seconds.len() as i64,
            median_seconds_to_decision: median(&mut seconds),
        });
    }
    out
}
