//! The summary's cross-tool sections: orders and the 3PL, and tickets. Every figure is read back from a ledger
//! file (`ledger-fulfillment.csv`, `ledger-inventory.csv`, `ledger-support.csv`) or from the engine's database
//! (runs and inbox items), never from what the story did; lines are ordered by what they say (their instant,
//! then their order name), never by when the sink happened to write them, so the same seed prints the same lines.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use anyhow::Context;
use seam_store::{InboxItem, RunFilter, RunRow, Store};
use serde_json::Value;

use super::DemoFiles;
use super::story::{FULFILLMENT_WORKFLOW, TICKETS_WORKFLOW};

/// One ledger line: its columns by name.
pub type Row = BTreeMap<String, String>;

/// Every line of a CSV ledger file, by column name; none when the file does not exist (nothing was recorded).
pub fn read_rows(path: &Path) -> anyhow::Result<Vec<Row>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("reading {}", path.display()))?;
        rows.push(headers.iter().zip(record.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect());
    }
    Ok(rows)
}

fn get<'a>(row: &'a Row, column: &str) -> &'a str {
    row.get(column).map_or("", String::as_str)
}

/// A workflow's runs, and each run's trigger source (`shopify`, `stripe`, `zendesk`, `gorgias`).
async fn runs_of(store: &dyn Store, workflow: &str) -> anyhow::Result<Vec<(RunRow, String)>> {
    let filter = RunFilter { workflow: Some(workflow.to_owned()), limit: 100_000, ..RunFilter::default() };
    let runs = store.runs(&filter).await?;
    Ok(runs
        .into_iter()
        .map(|run| {
            let state: Value = serde_json::from_str(&run.state).unwrap_or_default();
            let source = state["trigger"]["source"].as_str().unwrap_or("unknown").to_owned();
            (run, source)
        })
        .collect())
}

/// A workflow's inbox items, open or decided, in the order they were raised (then by title).
async fn items_of(store: &dyn Store, workflow: &str) -> anyhow::Result<Vec<InboxItem>> {
    let mut items: Vec<InboxItem> =
        store.inbox(None, 100_000).await?.into_iter().filter(|item| item.workflow == workflow).collect();
    items.sort_by(|a, b| (a.created_at, &a.title).cmp(&(b.created_at, &b.title)));
    Ok(items)
}

/// The lines whose `outcome` is `name`.
fn with_outcome<'a>(rows: &'a [Row], name: &'a str) -> impl Iterator<Item = &'a Row> + 'a {
    rows.iter().filter(move |row| get(row, "outcome") == name)
}

fn count_by<'a>(values: impl IntoIterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for value in values {
        *counts.entry(value).or_insert(0) += 1;
    }
    counts
}

fn vendor_name(source: &str) -> &str {
    match source {
        "shopify" => "Shopify",
        "stripe" => "Stripe Checkout",
        "zendesk" => "Zendesk",
        "gorgias" => "Gorgias",
        other => other,
    }
}

/// `(Shopify 24, Stripe Checkout 2)`, in a fixed order.
fn by_source(runs: &[(RunRow, String)]) -> String {
    let counts = count_by(runs.iter().map(|(_, source)| source.as_str()));
    let parts: Vec<String> =
        counts.iter().map(|(source, n)| format!("{} {n}", vendor_name(source))).collect();
    if parts.is_empty() { String::new() } else { format!("   ({})", parts.join(", ")) }
}

/// The fulfillment ledger's outcomes the section names; anything else is listed as it is.
const FULFILLMENT_OUTCOMES: &[&str] = &["handed_over", "shipped_partial", "cancelled", "cancel_in_stripe"];

/// Orders and the 3PL: from the fulfillment and inventory ledgers, and the runs and inbox items of the
/// checkout-stock-validation playbook.
pub async fn orders(files: &DemoFiles, store: &dyn Store) -> anyhow::Result<String> {
    let runs = runs_of(store, FULFILLMENT_WORKFLOW).await?;
    let rows = read_rows(&files.fulfillment)?;
    let items = items_of(store, FULFILLMENT_WORKFLOW).await?;
    let outcome = |name: &'static str| with_outcome(&rows, name);
    let handed = outcome("handed_over").count();
    let waited = outcome("handed_over").filter(|row| get(row, "decision") == "wait_for_restock").count();
    let partial = outcome("shipped_partial").count();
    let cancelled = outcome("cancelled").count() + outcome("cancel_in_stripe").count();
    let open = items.iter().filter(|item| item.status == "open").count();
    let others = count_by(
        rows.iter().map(|row| get(row, "outcome")).filter(|outcome| !FULFILLMENT_OUTCOMES.contains(outcome)),
    );

    let mut out = String::new();
    let _ = writeln!(out, "\n=== Orders and the 3PL (playbook {FULFILLMENT_WORKFLOW}) ===");
    let _ = writeln!(
        out,
        "From {} ({} lines), {} and the inbox",
        files.fulfillment.display(),
        rows.len(),
        files.inventory.display()
    );
    let _ = writeln!(out, "  orders seen              {:>4}{}", runs.len(), by_source(&runs));
    let _ = writeln!(out, "  handed to the 3PL        {:>4}", handed + partial);
    let _ = writeln!(out, "    all lines, at once     {:>4}", handed - waited);
    let _ = writeln!(out, "    after a restock        {:>4}   (a person chose to wait for restock)", waited);
    let _ = writeln!(
        out,
        "    shipped partial        {:>4}   (the lines in stock; the rest noted on the order)",
        partial
    );
    let _ = writeln!(out, "  cancelled                {cancelled:>4}   (in Shopify, refunded and restocked)");
    for (name, n) in &others {
        let _ = writeln!(out, "  {:<24} {n:>4}", format!("ended {name}"));
    }
    let _ = writeln!(out, "  waiting for a decision   {open:>4}   (open in the inbox)");

    let _ = writeln!(
        out,
        "\nExceptions raised for fulfillment ({} inbox items) and how each was decided:",
        items.len()
    );
    for item in &items {
        let decided = match (&item.decision, &item.decided_by) {
            (Some(decision), Some(by)) => format!("{decision} by {by}"),
            (Some(decision), None) => decision.clone(),
            _ if item.status == "open" => format!("open, assigned to {}", item.assignee),
            _ => item.status.clone(),
        };
        let _ = writeln!(out, "  {}\n      -> {decided}", item.title);
    }

    let _ = writeln!(out, "\n{}", drift(&files.inventory)?);
    Ok(out)
}

/// SKUs whose Shopify count differed from the 3PL's, from the inventory ledger: how many orders saw each, and the
/// counts the last one saw.
fn drift(path: &Path) -> anyhow::Result<String> {
    let mut rows = read_rows(path)?;
    rows.sort_by(|a, b| (get(a, "at"), get(a, "order")).cmp(&(get(b, "at"), get(b, "order"))));
    // SKU → (orders that saw it drift, the last (Shopify, 3PL, difference)).
    let mut skus: BTreeMap<String, (usize, (i64, i64, i64))> = BTreeMap::new();
    for row in &rows {
        let drift: Value = serde_json::from_str(get(row, "drift")).unwrap_or_default();
        for entry in drift.as_array().into_iter().flatten() {
            let Some(sku) = entry["sku"].as_str() else { continue };
            let last = (
                entry["in_shopify"].as_i64().unwrap_or_default(),
                entry["at_3pl"].as_i64().unwrap_or_default(),
                entry["difference"].as_i64().unwrap_or_default(),
            );
            let seen = skus.entry(sku.to_owned()).or_insert((0, last));
            seen.0 += 1;
            seen.1 = last;
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "SKUs whose counts drifted (Shopify's available against the 3PL's fulfillable): {} ({} lines in the inventory ledger)",
        skus.len(),
        rows.len()
    );
    if !skus.is_empty() {
        let _ = writeln!(
            out,
            "  {:<12} {:>6}   {:>12} {:>8} {:>11}",
            "sku", "orders", "last Shopify", "3PL", "difference"
        );
    }
    for (sku, (orders, (shopify, tpl, difference))) in &skus {
        let _ = writeln!(out, "  {sku:<12} {orders:>6}   {shopify:>12} {tpl:>8} {difference:>+11}");
    }
    Ok(out.trim_end().to_owned())
}

/// Tickets: from the support ledger, and the runs and inbox items of the ticket-context playbook.
pub async fn tickets(files: &DemoFiles, store: &dyn Store) -> anyhow::Result<String> {
    let runs = runs_of(store, TICKETS_WORKFLOW).await?;
    let rows = read_rows(&files.support)?;
    let items = items_of(store, TICKETS_WORKFLOW).await?;
    let outcome = |name: &'static str| with_outcome(&rows, name);
    let enriched = outcome("enriched").count();
    let found = count_by(outcome("enriched").map(|row| get(row, "found_by")));
    let no_customer = outcome("no_customer").count();
    let several = outcome("several_customers").count();
    let open = items.iter().filter(|item| item.status == "open").count();
    let others = count_by(
        rows.iter()
            .map(|row| get(row, "outcome"))
            .filter(|o| !["enriched", "no_customer", "several_customers"].contains(o)),
    );
    let helpdesks = count_by(outcome("enriched").map(|row| get(row, "helpdesk")));

    let mut out = String::new();
    let _ = writeln!(out, "\n=== Tickets (playbook {TICKETS_WORKFLOW}) ===");
    let _ = writeln!(out, "From {} ({} lines) and the inbox", files.support.display(), rows.len());
    let _ = writeln!(out, "  tickets seen             {:>4}{}", runs.len(), by_source(&runs));
    let found_text: Vec<String> = found
        .iter()
        .map(|(how, n)| match *how {
            "email" => format!("{n} by e-mail"),
            "order_number" => format!("{n} by an order number"),
            other => format!("{n} by {other}"),
        })
        .collect();
    let where_text: Vec<String> =
        helpdesks.iter().map(|(helpdesk, n)| format!("{} {n}", vendor_name(helpdesk))).collect();
    let _ = writeln!(
        out,
        "  enriched with a note     {enriched:>4}   (customer found {}; {}; tagged seam-context)",
        if found_text.is_empty() { "nowhere".to_owned() } else { found_text.join(", ") },
        if where_text.is_empty() { "no helpdesk".to_owned() } else { where_text.join(", ") }
    );
    let _ =
        writeln!(out, "  tagged no-customer       {no_customer:>4}   (seam-no-customer: nobody guessed at)");
    if several > 0 {
        let _ = writeln!(out, "  tagged several-customers {several:>4}");
    }
    for (name, n) in &others {
        let _ = writeln!(out, "  {:<24} {n:>4}", format!("ended {name}"));
    }
    if open > 0 {
        let _ = writeln!(out, "  waiting for a person     {open:>4}   (open in the inbox)");
    }
    Ok(out)
}
