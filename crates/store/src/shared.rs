// The SQL both backends share. Included into `sqlite.rs` and `postgres.rs`, each of which defines `DB`, `BACKEND`,
// `Backend` (its store type, with `migrate_now` and `lock_key_now`), `FOR_UPDATE` and `FOR_UPDATE_SKIP_LOCKED`.
// Placeholders are `$1`, `$2`, ... which both drivers accept.

use std::collections::{HashMap, HashSet};

use seam_evidence::measure::{
    DecisionTime, DeclineFigures, FULFILMENT_DUE_SECONDS, Figures, LedgerFigures, OrderFigures, PaymentFigures,
    RunFigures, StockFigures,
};
use seam_evidence::{Currency, Kind, LineItem, Months, Order, Payment, StockLevel};
use sqlx::{AssertSqlSafe, Row};

use crate::evidence::{EvidenceSpan, EvidenceStore, EvidenceTotals, ImportOutcome, ImportRow, ImportTx, NewImport};

use crate::{
    AuditRow, CallRow, Counts, DeadLetter, InboxFilter, InboxItem, Inserted, LedgerRow, NewAudit, NewCall, NewEvent,
    Result, RunFilter, RunRow, RunUpdate, SessionRow, Store, StoreError, StoredEvent, TokenRow, Tx, UserRow,
};

type Pool = sqlx::Pool<DB>;

/// Rows per multi-row INSERT, well under both databases' bound-parameter limits.
const AUDIT_ROWS_PER_STATEMENT: usize = 100;
const EVENT_ROWS_PER_STATEMENT: usize = 100;
type Transaction = sqlx::Transaction<'static, DB>;
type DbRow = <DB as sqlx::Database>::Row;

const RUN_COLUMNS: &str = "id, workflow, version, key, status, state, wake_at, fence, created_at, updated_at";
const CALL_COLUMNS: &str =
    "id, run_id, step, attempt, idempotency_key, action, args, status, fence, tries, outcome";
const INBOX_COLUMNS: &str = "id, run_id, workflow, step, team, assignee, zone, title, context, due_at, status, \
                             decisions, decision, decided_by, decided_at, note, created_at";
const EVENT_COLUMNS: &str = "seq, source, event_id, event_type, payload, received_at, status";
const AUDIT_COLUMNS: &str = "seq, at, kind, run_id, event_id, workflow, step, attempt, actor, detail, data";
const LEDGER_COLUMNS: &str = "seq, idempotency_key, ledger, run_id, workflow, at, fields, shipped";
const USER_COLUMNS: &str = "email, role, password_hash, created_at, password_changed_at";
const TOKEN_COLUMNS: &str = "name, role, created_at, last_used_at, revoked_at";

fn user_row(row: &DbRow) -> Result<UserRow> {
    Ok(UserRow {
        email: row.try_get("email")?,
        role: row.try_get("role")?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
        password_changed_at: row.try_get("password_changed_at")?,
    })
}

fn token_row(row: &DbRow) -> Result<TokenRow> {
    Ok(TokenRow {
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// Appends ` AND column IN (...)` for `Some(values)`; an empty list matches nothing.
fn push_in(query: &mut sqlx::QueryBuilder<DB>, column: &str, values: Option<&Vec<String>>) {
    let Some(values) = values else { return };
    if values.is_empty() {
        query.push(" AND 1 = 0");
        return;
    }
    query.push(format!(" AND {column} IN ("));
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value.clone());
    }
    query.push(")");
}

fn run_row(row: &DbRow) -> Result<RunRow> {
    Ok(RunRow {
        id: row.try_get("id")?,
        workflow: row.try_get("workflow")?,
        version: row.try_get("version")?,
        key: row.try_get("key")?,
        status: row.try_get("status")?,
        state: row.try_get("state")?,
        wake_at: row.try_get("wake_at")?,
        fence: row.try_get("fence")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn call_row(row: &DbRow) -> Result<CallRow> {
    Ok(CallRow {
        id: row.try_get("id")?,
        run_id: row.try_get("run_id")?,
        step: row.try_get("step")?,
        attempt: row.try_get("attempt")?,
        idempotency_key: row.try_get("idempotency_key")?,
        action: row.try_get("action")?,
        args: row.try_get("args")?,
        status: row.try_get("status")?,
        fence: row.try_get("fence")?,
        tries: row.try_get("tries")?,
        outcome: row.try_get("outcome")?,
    })
}

fn inbox_row(row: &DbRow) -> Result<InboxItem> {
    Ok(InboxItem {
        id: row.try_get("id")?,
        run_id: row.try_get("run_id")?,
        workflow: row.try_get("workflow")?,
        step: row.try_get("step")?,
        team: row.try_get("team")?,
        assignee: row.try_get("assignee")?,
        zone: row.try_get("zone")?,
        title: row.try_get("title")?,
        context: row.try_get("context")?,
        due_at: row.try_get("due_at")?,
        status: row.try_get("status")?,
        decisions: row.try_get("decisions")?,
        decision: row.try_get("decision")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get("decided_at")?,
        note: row.try_get("note")?,
        created_at: row.try_get("created_at")?,
    })
}

fn event_row(row: &DbRow) -> Result<StoredEvent> {
    Ok(StoredEvent {
        seq: row.try_get("seq")?,
        source: row.try_get("source")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        payload: row.try_get("payload")?,
        received_at: row.try_get("received_at")?,
        status: row.try_get("status")?,
    })
}

fn audit_row(row: &DbRow) -> Result<AuditRow> {
    Ok(AuditRow {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        kind: row.try_get("kind")?,
        run_id: row.try_get("run_id")?,
        event_id: row.try_get("event_id")?,
        workflow: row.try_get("workflow")?,
        step: row.try_get("step")?,
        attempt: row.try_get("attempt")?,
        actor: row.try_get("actor")?,
        detail: row.try_get("detail")?,
        data: row.try_get("data")?,
    })
}

fn ledger_row(row: &DbRow) -> Result<LedgerRow> {
    let shipped: i64 = row.try_get("shipped")?;
    Ok(LedgerRow {
        seq: row.try_get("seq")?,
        idempotency_key: row.try_get("idempotency_key")?,
        ledger: row.try_get("ledger")?,
        run_id: row.try_get("run_id")?,
        workflow: row.try_get("workflow")?,
        at: row.try_get("at")?,
        fields: row.try_get("fields")?,
        shipped: shipped != 0,
    })
}

fn rows<T>(rows: &[DbRow], map: fn(&DbRow) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(map).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Evidence (`crate::evidence`): imports of a brand's exports, and the counts its measures start from. Only the
// `evidence_*` tables are written; `runs`, `inbox` and `ledger` are only read.

/// Rows per multi-row statement, by the number of columns, well under both databases' bound-parameter limits.
const ORDERS_PER_STATEMENT: usize = 400;
const ORDER_LINES_PER_STATEMENT: usize = 800;
const PAYMENTS_PER_STATEMENT: usize = 400;
const STOCK_PER_STATEMENT: usize = 500;

/// One import's transaction (see [`ImportTx`]).
struct EvidenceImport {
    tx: Transaction,
    import_id: i64,
    kind: Kind,
    seen_at: i64,
    as_of: String,
    records: i64,
    /// Rows of the kind's table before the import (for inventory, before its snapshot was replaced).
    before: i64,
    /// Rows the upserts inserted or replaced.
    written: i64,
    /// The table was empty: no stored copy can match, so keys need no look-up and lines no clean-up.
    fresh: bool,
    /// Orders stored under their name (first imported from an export without ids) exist: an order is matched by
    /// its id or its name, not by its key alone.
    name_keyed: bool,
}

impl std::fmt::Debug for EvidenceImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{BACKEND} import {}", self.import_id)
    }
}

fn evidence_table(kind: Kind) -> &'static str {
    match kind {
        Kind::ShopifyOrders => "evidence_orders",
        Kind::ShopifyInventory => "evidence_stock",
        Kind::StripePayments => "evidence_payments",
    }
}

/// SQL for the month index of `column`, months being `[$1, $2)`, `[$2, $3)`, ... `[$n, $n+1)`.
fn month_index(column: &str, n_months: usize) -> String {
    if n_months <= 1 {
        return "CAST(0 AS BIGINT)".to_owned();
    }
    let mut sql = String::from("CAST(CASE");
    for month in 0..n_months - 1 {
        sql.push_str(&format!(" WHEN {column} < ${} THEN {month}", month + 2));
    }
    sql.push_str(&format!(" ELSE {} END AS BIGINT)", n_months - 1));
    sql
}

/// SQL for `column` falling in the months of [`month_index`].
fn in_months(column: &str, n_months: usize) -> String {
    format!("{column} >= $1 AND {column} < ${}", n_months + 1)
}

fn bind_bounds<'q>(
    mut query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    months: &Months,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments> {
    for bound in &months.bounds {
        query = query.bind(*bound);
    }
    query
}

fn index_of(row: &DbRow, column: &str) -> Result<usize> {
    let index: i64 = row.try_get(column)?;
    Ok(usize::try_from(index).unwrap_or(0))
}

#[async_trait::async_trait]
impl EvidenceStore for Backend {
    async fn begin_import(&self, import: &NewImport) -> Result<Box<dyn ImportTx>> {
        let mut tx = self.pool.begin().await?;
        let import_id: i64 = sqlx::query_scalar(
            "INSERT INTO evidence_imports (kind, file, imported_at, seen_at, as_of, data_rows, records, currency, \
             currencies) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(import.kind.as_str())
        .bind(&import.file)
        .bind(import.imported_at)
        .bind(import.seen_at)
        .bind(&import.as_of)
        .bind(import.rows)
        .bind(import.records)
        .bind(import.currencies.first())
        .bind(import.currencies.join(" "))
        .fetch_one(&mut *tx)
        .await?;
        let table = evidence_table(import.kind);
        let before: i64 =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"))).fetch_one(&mut *tx).await?;
        let as_of = import.as_of.clone().unwrap_or_default();
        if import.kind == Kind::ShopifyInventory {
            // The date's snapshot, for the export's locations, is replaced by this one.
            for chunk in import.locations.chunks(STOCK_PER_STATEMENT) {
                let mut delete = sqlx::QueryBuilder::<DB>::new("DELETE FROM evidence_stock WHERE as_of = ");
                delete.push_bind(as_of.clone()).push(" AND location IN (");
                let mut list = delete.separated(", ");
                for location in chunk {
                    list.push_bind(location.clone());
                }
                delete.push(")");
                delete.build().execute(&mut *tx).await?;
            }
        }
        // Keys are `id:…` or `name:…` (an order first stored from an export without ids).
        let name_keyed = import.kind == Kind::ShopifyOrders
            && sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM (SELECT 1 FROM evidence_orders WHERE order_key LIKE 'name:%' LIMIT 1) AS found",
            )
            .fetch_one(&mut *tx)
            .await?
                > 0;
        Ok(Box::new(EvidenceImport {
            tx,
            import_id,
            kind: import.kind,
            seen_at: import.seen_at.unwrap_or(import.imported_at),
            as_of,
            records: import.records,
            before,
            written: 0,
            fresh: before == 0,
            name_keyed,
        }))
    }

    async fn imports(&self) -> Result<Vec<ImportRow>> {
        let found = sqlx::query(
            "SELECT id, kind, file, imported_at, seen_at, as_of, data_rows, records, new_records, updated_records, \
             currency, currencies FROM evidence_imports ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        found
            .iter()
            .map(|row| {
                let currencies: String = row.try_get("currencies")?;
                Ok(ImportRow {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    file: row.try_get("file")?,
                    imported_at: row.try_get("imported_at")?,
                    seen_at: row.try_get("seen_at")?,
                    as_of: row.try_get("as_of")?,
                    rows: row.try_get("data_rows")?,
                    records: row.try_get("records")?,
                    new_records: row.try_get("new_records")?,
                    updated_records: row.try_get("updated_records")?,
                    currency: row.try_get("currency")?,
                    currencies: currencies.split_whitespace().map(str::to_owned).collect(),
                })
            })
            .collect()
    }

    async fn evidence_totals(&self) -> Result<EvidenceTotals> {
        let count = |table: &'static str| {
            let pool = self.pool.clone();
            async move {
                let sql = format!("SELECT COUNT(*) FROM {table}");
                Ok::<i64, StoreError>(sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&pool).await?)
            }
        };
        Ok(EvidenceTotals {
            imports: count("evidence_imports").await?,
            orders: count("evidence_orders").await?,
            order_lines: count("evidence_order_lines").await?,
            payments: count("evidence_payments").await?,
            stock_rows: count("evidence_stock").await?,
        })
    }

    async fn evidence_span(&self) -> Result<EvidenceSpan> {
        let (first, last): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT MIN(t), MAX(t) FROM (\
             SELECT MIN(created_at) AS t FROM evidence_orders UNION ALL SELECT MAX(created_at) FROM evidence_orders \
             UNION ALL SELECT MIN(created_at) FROM evidence_payments UNION ALL SELECT MAX(created_at) FROM evidence_payments \
             UNION ALL SELECT MIN(created_at) FROM runs UNION ALL SELECT MAX(created_at) FROM runs) AS instants",
        )
        .fetch_one(&self.pool)
        .await?;
        let stock_dates: Vec<String> = sqlx::query_scalar("SELECT DISTINCT as_of FROM evidence_stock ORDER BY as_of")
            .fetch_all(&self.pool)
            .await?;
        Ok(EvidenceSpan { first, last, stock_dates })
    }

    async fn evidence_figures(&self, months: &Months, snapshots: &[(usize, String)]) -> Result<Figures> {
        let n = months.months.len();
        let mut figures = Figures { months: months.months.clone(), ..Figures::default() };
        if n == 0 {
            return Ok(figures);
        }
        let due = format!("${}", n + 2);
        let sql = format!(
            "SELECT {month} AS bucket, currency, COUNT(*) AS orders, \
             CAST(SUM(total_minor) AS BIGINT) AS total_minor, CAST(SUM(refunded) AS BIGINT) AS refunded_orders, \
             CAST(SUM(refunded_minor) AS BIGINT) AS refunded_minor, \
             CAST(SUM(CASE WHEN cancelled_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS cancelled_orders, \
             CAST(SUM(unfulfilled) AS BIGINT) AS unfulfilled_orders, \
             CAST(SUM(CASE WHEN cancelled_at IS NULL AND (fulfilled_at IS NOT NULL OR unfulfilled = 0 \
                 OR seen_at - created_at > {due}) THEN 1 ELSE 0 END) AS BIGINT) AS due_orders, \
             CAST(SUM(CASE WHEN cancelled_at IS NULL AND ((fulfilled_at IS NOT NULL AND fulfilled_at - created_at > {due}) \
                 OR (fulfilled_at IS NULL AND unfulfilled = 1 AND seen_at - created_at > {due})) THEN 1 ELSE 0 END) \
                 AS BIGINT) AS late_orders \
             FROM evidence_orders WHERE {range} GROUP BY bucket, currency",
            month = month_index("created_at", n),
            range = in_months("created_at", n),
        );
        let query = bind_bounds(sqlx::query(AssertSqlSafe(sql)), months).bind(FULFILMENT_DUE_SECONDS);
        for row in query.fetch_all(&self.pool).await? {
            let currency: String = row.try_get("currency")?;
            figures.orders.push(OrderFigures {
                month: index_of(&row, "bucket")?,
                currency: Currency::parse(&currency),
                orders: row.try_get("orders")?,
                total_minor: row.try_get("total_minor")?,
                refunded_orders: row.try_get("refunded_orders")?,
                refunded_minor: row.try_get("refunded_minor")?,
                cancelled_orders: row.try_get("cancelled_orders")?,
                unfulfilled_orders: row.try_get("unfulfilled_orders")?,
                due_orders: row.try_get("due_orders")?,
                late_orders: row.try_get("late_orders")?,
            });
        }

        // A failed payment is recovered when a later payment of its PaymentIntent, or of its invoice, was paid.
        let later_paid = |link: &str| {
            format!(
                "EXISTS (SELECT 1 FROM evidence_payments later WHERE later.{link} = p.{link} \
                 AND later.outcome = 'paid' AND later.created_at >= p.created_at AND later.payment_key <> p.payment_key)"
            )
        };
        let sql = format!(
            "SELECT {month} AS bucket, COUNT(*) AS payments, \
             CAST(SUM(CASE WHEN outcome = 'paid' THEN 1 ELSE 0 END) AS BIGINT) AS paid, \
             CAST(SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed, \
             CAST(SUM(CASE WHEN outcome = 'other' THEN 1 ELSE 0 END) AS BIGINT) AS other, \
             CAST(SUM(CASE WHEN outcome = 'failed' AND ({intent} OR {invoice}) THEN 1 ELSE 0 END) AS BIGINT) \
                 AS recovered \
             FROM evidence_payments p WHERE {range} GROUP BY bucket",
            month = month_index("p.created_at", n),
            range = in_months("p.created_at", n),
            intent = later_paid("payment_intent"),
            invoice = later_paid("invoice"),
        );
        for row in bind_bounds(sqlx::query(AssertSqlSafe(sql)), months).fetch_all(&self.pool).await? {
            figures.payments.push(PaymentFigures {
                month: index_of(&row, "bucket")?,
                payments: row.try_get("payments")?,
                paid: row.try_get("paid")?,
                failed: row.try_get("failed")?,
                other: row.try_get("other")?,
                recovered: row.try_get("recovered")?,
            });
        }
        let sql = format!(
            "SELECT {month} AS bucket, decline_reason, COUNT(*) AS failed FROM evidence_payments \
             WHERE outcome = 'failed' AND {range} GROUP BY bucket, decline_reason",
            month = month_index("created_at", n),
            range = in_months("created_at", n),
        );
        for row in bind_bounds(sqlx::query(AssertSqlSafe(sql)), months).fetch_all(&self.pool).await? {
            figures.declines.push(DeclineFigures {
                month: index_of(&row, "bucket")?,
                reason: row.try_get("decline_reason")?,
                failed: row.try_get("failed")?,
            });
        }

        for (month, as_of) in snapshots {
            let row = sqlx::query(
                "SELECT COUNT(*) AS skus, CAST(COALESCE(SUM(not_stocked), 0) AS BIGINT) AS not_stocked, \
                 CAST(COALESCE(SUM(at_zero), 0) AS BIGINT) AS at_zero, \
                 CAST(COALESCE(SUM(either), 0) AS BIGINT) AS either FROM (SELECT sku_key, \
                 MAX(CASE WHEN available IS NULL THEN 1 ELSE 0 END) AS not_stocked, \
                 MAX(CASE WHEN available <= 0 THEN 1 ELSE 0 END) AS at_zero, \
                 MAX(CASE WHEN available IS NULL OR available <= 0 THEN 1 ELSE 0 END) AS either \
                 FROM evidence_stock WHERE as_of = $1 GROUP BY sku_key) AS per_sku",
            )
            .bind(as_of)
            .fetch_one(&self.pool)
            .await?;
            let locations: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT location) FROM evidence_stock WHERE as_of = $1")
                .bind(as_of)
                .fetch_one(&self.pool)
                .await?;
            figures.stock.push((
                *month,
                StockFigures {
                    as_of: as_of.clone(),
                    locations,
                    skus: row.try_get("skus")?,
                    not_stocked: row.try_get("not_stocked")?,
                    at_zero: row.try_get("at_zero")?,
                    not_stocked_or_zero: row.try_get("either")?,
                },
            ));
        }

        // The engine's runs, each counted in the month it started, with what its inbox items and ledger entries say.
        let sql = format!(
            "SELECT r.workflow, {month} AS bucket, COUNT(*) AS runs, \
             CAST(SUM(CASE WHEN items.opened > 0 THEN 1 ELSE 0 END) AS BIGINT) AS escalated, \
             CAST(SUM(CASE WHEN items.decided > 0 THEN 1 ELSE 0 END) AS BIGINT) AS decided \
             FROM runs r LEFT JOIN (SELECT run_id, COUNT(*) AS opened, \
                 SUM(CASE WHEN decision IS NOT NULL THEN 1 ELSE 0 END) AS decided FROM inbox GROUP BY run_id) items \
             ON items.run_id = r.id WHERE {range} GROUP BY r.workflow, bucket",
            month = month_index("r.created_at", n),
            range = in_months("r.created_at", n),
        );
        for row in bind_bounds(sqlx::query(AssertSqlSafe(sql)), months).fetch_all(&self.pool).await? {
            figures.runs.push(RunFigures {
                month: index_of(&row, "bucket")?,
                workflow: row.try_get("workflow")?,
                runs: row.try_get("runs")?,
                escalated: row.try_get("escalated")?,
                decided: row.try_get("decided")?,
            });
        }
        let sql = format!(
            "SELECT r.workflow, {month} AS bucket, i.decided_at - i.created_at AS seconds FROM inbox i \
             JOIN runs r ON r.id = i.run_id WHERE i.decision IS NOT NULL AND i.decided_at IS NOT NULL AND {range}",
            month = month_index("r.created_at", n),
            range = in_months("r.created_at", n),
        );
        for row in bind_bounds(sqlx::query(AssertSqlSafe(sql)), months).fetch_all(&self.pool).await? {
            figures.decisions.push(DecisionTime {
                month: index_of(&row, "bucket")?,
                workflow: row.try_get("workflow")?,
                seconds: row.try_get("seconds")?,
            });
        }
        let started = "COALESCE(r.created_at, l.at)";
        let sql = format!(
            "SELECT l.workflow, {month} AS bucket, l.fields FROM ledger l LEFT JOIN runs r ON r.id = l.run_id \
             WHERE {range} AND (l.fields LIKE '%recovered_minor%' OR l.fields LIKE '%written_off_minor%')",
            month = month_index(started, n),
            range = in_months(started, n),
        );
        for row in bind_bounds(sqlx::query(AssertSqlSafe(sql)), months).fetch_all(&self.pool).await? {
            figures.ledger.push(LedgerFigures {
                month: index_of(&row, "bucket")?,
                workflow: row.try_get("workflow")?,
                fields: row.try_get("fields")?,
            });
        }
        Ok(figures)
    }
}

/// What a newer export may change in an order or a payment: a stored copy is replaced (and counted as updated)
/// only when one of these differs.
const ORDER_FIELDS: &[&str] = &[
    "shopify_id",
    "name",
    "created_at",
    "currency",
    "total_minor",
    "refunded_minor",
    "financial_status",
    "fulfillment_status",
    "paid_at",
    "fulfilled_at",
    "cancelled_at",
];
const PAYMENT_FIELDS: &[&str] = &[
    "charge_id",
    "payment_intent",
    "invoice",
    "customer",
    "created_at",
    "refunded_at",
    "amount_minor",
    "refunded_minor",
    "currency",
    "status",
    "decline_reason",
    "description",
];

/// SQL: any of `fields` of the stored row in `table` differs from the incoming (`excluded`) copy.
fn differs(table: &str, fields: &[&str]) -> String {
    let compared: Vec<String> =
        fields.iter().map(|field| format!("{table}.{field} IS DISTINCT FROM excluded.{field}")).collect();
    compared.join(" OR ")
}

impl EvidenceImport {
    /// Marks the stored copies of `keys` as seen in this (newer) export, changed or not: an order still
    /// unfulfilled in a later export has been unfulfilled for longer.
    async fn refresh<K: AsRef<str>>(&mut self, table: &str, key_column: &str, keys: &[K]) -> Result<()> {
        if self.fresh || keys.is_empty() {
            return Ok(());
        }
        let mut update = sqlx::QueryBuilder::<DB>::new(format!("UPDATE {table} SET seen_at = "));
        update.push_bind(self.seen_at).push(", import_id = ").push_bind(self.import_id);
        update.push(" WHERE seen_at < ").push_bind(self.seen_at).push(format!(" AND {key_column} IN ("));
        let mut list = update.separated(", ");
        for key in keys {
            list.push_bind(key.as_ref().to_owned());
        }
        update.push(")");
        update.build().execute(&mut *self.tx).await?;
        Ok(())
    }

    /// The keys `orders` are stored under: a stored order with the same id, else one with the same name where one
    /// of the two has no id, else the order's own ([`Order::default_key`]).
    async fn order_keys(&mut self, orders: &[Order]) -> Result<Vec<String>> {
        let look_up = !self.fresh && (self.name_keyed || orders.iter().any(|order| order.shopify_id.is_none()));
        if !look_up {
            return Ok(orders.iter().map(Order::default_key).collect());
        }
        let mut select =
            sqlx::QueryBuilder::<DB>::new("SELECT order_key, name, shopify_id FROM evidence_orders WHERE name IN (");
        let mut names = select.separated(", ");
        for order in orders {
            names.push_bind(order.name.as_str());
        }
        select.push(")");
        let ids: Vec<&str> = orders.iter().filter_map(|order| order.shopify_id.as_deref()).collect();
        if !ids.is_empty() {
            select.push(" OR shopify_id IN (");
            let mut list = select.separated(", ");
            for id in ids {
                list.push_bind(id);
            }
            select.push(")");
        }
        let stored: Vec<(String, String, Option<String>)> = select.build_query_as().fetch_all(&mut *self.tx).await?;
        let mut by_id: HashMap<&str, &str> = HashMap::new();
        let mut by_name: HashMap<&str, Vec<(&str, bool)>> = HashMap::new();
        for (key, name, id) in &stored {
            if let Some(id) = id {
                by_id.insert(id, key);
            }
            by_name.entry(name).or_default().push((key, id.is_some()));
        }
        let mut used: HashSet<String> = HashSet::new();
        let mut keys = Vec::with_capacity(orders.len());
        for order in orders {
            let named = by_name.get(order.name.as_str()).into_iter().flatten();
            let found = match &order.shopify_id {
                Some(id) => by_id.get(id.as_str()).copied().or_else(|| {
                    named.filter(|(_, has_id)| !has_id).map(|(key, _)| *key).min()
                }),
                None => named.map(|(key, _)| *key).min(),
            };
            let mut key = found.map_or_else(|| order.default_key(), str::to_owned);
            if used.contains(&key) {
                key = order.default_key();
            }
            used.insert(key.clone());
            keys.push(key);
        }
        Ok(keys)
    }
}

#[async_trait::async_trait]
impl ImportTx for EvidenceImport {
    async fn write_orders(&mut self, orders: &[Order]) -> Result<()> {
        for chunk in orders.chunks(ORDERS_PER_STATEMENT) {
            let keys = self.order_keys(chunk).await?;
            let mut insert = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO evidence_orders (order_key, shopify_id, name, created_at, created_offset, currency, \
                 total_minor, refunded_minor, financial_status, fulfillment_status, refunded, unfulfilled, paid_at, \
                 fulfilled_at, cancelled_at, seen_at, import_id) ",
            );
            let (seen_at, import_id) = (self.seen_at, self.import_id);
            insert.push_values(chunk.iter().zip(&keys), |mut row, (order, key)| {
                row.push_bind(key.as_str())
                    .push_bind(order.shopify_id.as_deref())
                    .push_bind(order.name.as_str())
                    .push_bind(order.created_at)
                    .push_bind(i64::from(order.created_offset))
                    .push_bind(order.currency.code())
                    .push_bind(order.total_minor)
                    .push_bind(order.refunded_minor)
                    .push_bind(order.financial_status.as_str())
                    .push_bind(order.fulfillment_status.as_str())
                    .push_bind(i64::from(order.refunded()))
                    .push_bind(i64::from(order.unfulfilled()))
                    .push_bind(order.paid_at)
                    .push_bind(order.fulfilled_at)
                    .push_bind(order.cancelled_at)
                    .push_bind(seen_at)
                    .push_bind(import_id);
            });
            let changed = differs("evidence_orders", ORDER_FIELDS);
            insert.push(format!(
                " ON CONFLICT (order_key) DO UPDATE SET shopify_id = COALESCE(excluded.shopify_id, \
                 evidence_orders.shopify_id), name = excluded.name, created_at = excluded.created_at, \
                 created_offset = excluded.created_offset, currency = excluded.currency, \
                 total_minor = excluded.total_minor, refunded_minor = excluded.refunded_minor, \
                 financial_status = excluded.financial_status, fulfillment_status = excluded.fulfillment_status, \
                 refunded = excluded.refunded, unfulfilled = excluded.unfulfilled, paid_at = excluded.paid_at, \
                 fulfilled_at = excluded.fulfilled_at, cancelled_at = excluded.cancelled_at, \
                 seen_at = excluded.seen_at, import_id = excluded.import_id \
                 WHERE (evidence_orders.seen_at < excluded.seen_at AND ({changed})) \
                 OR (evidence_orders.shopify_id IS NULL AND excluded.shopify_id IS NOT NULL) RETURNING order_key",
            ));
            let written: Vec<String> = insert.build_query_scalar().fetch_all(&mut *self.tx).await?;
            self.written += written.len() as i64;
            self.refresh("evidence_orders", "order_key", &keys).await?;
            if written.is_empty() {
                continue;
            }
            if !self.fresh {
                let mut delete =
                    sqlx::QueryBuilder::<DB>::new("DELETE FROM evidence_order_lines WHERE order_key IN (");
                let mut list = delete.separated(", ");
                for key in &written {
                    list.push_bind(key.as_str());
                }
                delete.push(")");
                delete.build().execute(&mut *self.tx).await?;
            }
            let written: HashSet<&str> = written.iter().map(String::as_str).collect();
            let lines: Vec<(&str, i64, &LineItem)> = chunk
                .iter()
                .zip(&keys)
                .filter(|(_, key)| written.contains(key.as_str()))
                .flat_map(|(order, key)| {
                    order.lines.iter().enumerate().map(move |(position, line)| (key.as_str(), position as i64, line))
                })
                .collect();
            for lines in lines.chunks(ORDER_LINES_PER_STATEMENT) {
                let mut insert = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO evidence_order_lines (order_key, position, name, sku, quantity, price_minor, \
                     fulfillment_status) ",
                );
                insert.push_values(lines, |mut row, (key, position, line)| {
                    row.push_bind(*key)
                        .push_bind(*position)
                        .push_bind(line.name.as_str())
                        .push_bind(line.sku.as_deref())
                        .push_bind(line.quantity)
                        .push_bind(line.price_minor)
                        .push_bind(line.fulfillment_status.as_deref());
                });
                insert.build().execute(&mut *self.tx).await?;
            }
        }
        Ok(())
    }

    async fn write_payments(&mut self, payments: &[Payment]) -> Result<()> {
        for chunk in payments.chunks(PAYMENTS_PER_STATEMENT) {
            let mut insert = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO evidence_payments (payment_key, charge_id, payment_intent, invoice, customer, created_at, \
                 refunded_at, amount_minor, refunded_minor, currency, status, outcome, decline_reason, description, \
                 seen_at, import_id) ",
            );
            let (seen_at, import_id) = (self.seen_at, self.import_id);
            insert.push_values(chunk, |mut row, payment| {
                row.push_bind(payment.key.as_str())
                    .push_bind(payment.charge_id.as_deref())
                    .push_bind(payment.payment_intent.as_deref())
                    .push_bind(payment.invoice.as_deref())
                    .push_bind(payment.customer.as_deref())
                    .push_bind(payment.created_at)
                    .push_bind(payment.refunded_at)
                    .push_bind(payment.amount_minor)
                    .push_bind(payment.refunded_minor)
                    .push_bind(payment.currency.code())
                    .push_bind(payment.status.as_str())
                    .push_bind(payment.outcome.as_str())
                    .push_bind(payment.decline_reason.as_deref())
                    .push_bind(payment.description.as_deref())
                    .push_bind(seen_at)
                    .push_bind(import_id);
            });
            let changed = differs("evidence_payments", PAYMENT_FIELDS);
            insert.push(format!(
                " ON CONFLICT (payment_key) DO UPDATE SET charge_id = excluded.charge_id, \
                 payment_intent = excluded.payment_intent, invoice = excluded.invoice, customer = excluded.customer, \
                 created_at = excluded.created_at, refunded_at = excluded.refunded_at, \
                 amount_minor = excluded.amount_minor, refunded_minor = excluded.refunded_minor, \
                 currency = excluded.currency, status = excluded.status, outcome = excluded.outcome, \
                 decline_reason = excluded.decline_reason, description = excluded.description, \
                 seen_at = excluded.seen_at, import_id = excluded.import_id \
                 WHERE evidence_payments.seen_at < excluded.seen_at AND ({changed}) RETURNING payment_key",
            ));
            let written: Vec<String> = insert.build_query_scalar().fetch_all(&mut *self.tx).await?;
            self.written += written.len() as i64;
            let keys: Vec<&str> = chunk.iter().map(|payment| payment.key.as_str()).collect();
            self.refresh("evidence_payments", "payment_key", &keys).await?;
        }
        Ok(())
    }

    async fn write_stock(&mut self, levels: &[StockLevel]) -> Result<()> {
        for chunk in levels.chunks(STOCK_PER_STATEMENT) {
            let mut insert = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO evidence_stock (as_of, location, variant, handle, sku, sku_key, title, available, \
                 on_hand, import_id) ",
            );
            let (as_of, import_id) = (self.as_of.as_str(), self.import_id);
            insert.push_values(chunk, |mut row, level| {
                row.push_bind(as_of)
                    .push_bind(level.location.as_str())
                    .push_bind(level.variant.as_str())
                    .push_bind(level.handle.as_str())
                    .push_bind(level.sku.as_deref())
                    .push_bind(level.sku_key.as_str())
                    .push_bind(level.title.as_deref())
                    .push_bind(level.available)
                    .push_bind(level.on_hand)
                    .push_bind(import_id);
            });
            insert.build().execute(&mut *self.tx).await?;
            self.written += chunk.len() as i64;
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<ImportOutcome> {
        let table = evidence_table(self.kind);
        let after: i64 =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"))).fetch_one(&mut *self.tx).await?;
        let new = (after - self.before).max(0);
        let updated = (self.written - new).max(0);
        sqlx::query("UPDATE evidence_imports SET new_records = $1, updated_records = $2 WHERE id = $3")
            .bind(new)
            .bind(updated)
            .bind(self.import_id)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(ImportOutcome { import_id: self.import_id, records: self.records, new, updated })
    }
}

/// A transaction on this backend.
struct BackendTx {
    tx: Transaction,
    /// Audit entries of this transaction, written at commit in as few statements as possible (dropped with a
    /// rollback, like everything else the transaction wrote).
    audit: Vec<NewAudit>,
}

impl std::fmt::Debug for BackendTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(BACKEND)
    }
}

#[async_trait::async_trait]
impl Store for Backend {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn migrate(&self) -> Result<()> {
        self.migrate_now().await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn begin(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(BackendTx { tx: self.pool.begin().await?, audit: Vec::new() }))
    }

    async fn insert_events(&self, events: &[NewEvent]) -> Result<Vec<Inserted>> {
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(events.len());
        for chunk in events.chunks(EVENT_ROWS_PER_STATEMENT) {
            let mut insert = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO events (source, event_id, event_type, payload, received_at, status) ",
            );
            insert.push_values(chunk, |mut row, event| {
                row.push_bind(event.source.clone())
                    .push_bind(event.event_id.clone())
                    .push_bind(event.event_type.clone())
                    .push_bind(event.payload.clone())
                    .push_bind(event.received_at)
                    .push_bind(event.status.clone());
            });
            insert.push(" ON CONFLICT (source, event_id) DO NOTHING RETURNING seq, source, event_id");
            let stored: Vec<(i64, String, String)> = insert.build_query_as().fetch_all(&mut *tx).await?;
            let mut new: std::collections::HashMap<(String, String), i64> =
                stored.into_iter().map(|(seq, source, event_id)| ((source, event_id), seq)).collect();
            // The first of several copies in one batch is the new one; the rest are duplicates.
            for event in chunk {
                match new.remove(&(event.source.clone(), event.event_id.clone())) {
                    Some(seq) => out.push(Inserted::New(seq)),
                    None => out.push(Inserted::Duplicate),
                }
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn insert_dead_letter(&self, source: &str, received_at: i64, reason: &str, body: &str) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO dead_letters (source, received_at, reason, body) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(source)
        .bind(received_at)
        .bind(reason)
        .bind(body)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn dead_letters(&self, limit: i64) -> Result<Vec<DeadLetter>> {
        let found = sqlx::query(
            "SELECT id, source, received_at, reason, body FROM dead_letters ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        found
            .iter()
            .map(|row| {
                Ok(DeadLetter {
                    id: row.try_get("id")?,
                    source: row.try_get("source")?,
                    received_at: row.try_get("received_at")?,
                    reason: row.try_get("reason")?,
                    body: row.try_get("body")?,
                })
            })
            .collect()
    }

    async fn event(&self, source: &str, event_id: &str) -> Result<Option<StoredEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE source = $1 AND event_id = $2");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(source).bind(event_id).fetch_optional(&self.pool).await?;
        found.as_ref().map(event_row).transpose()
    }

    async fn count_events(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(&self.pool).await?)
    }

    async fn claim_calls(&self, owner: &str, now: i64, lease_secs: i64, limit: i64) -> Result<Vec<CallRow>> {
        let sql = format!(
            "UPDATE calls SET lease_owner = $1, lease_until = $2, fence = fence + 1, tries = tries + 1 \
             WHERE id IN (SELECT id FROM calls WHERE status = 'pending' AND (lease_until IS NULL OR lease_until <= $3) \
             ORDER BY id LIMIT $4{FOR_UPDATE_SKIP_LOCKED}) RETURNING {CALL_COLUMNS}"
        );
        let mut tx = self.pool.begin().await?;
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(owner)
            .bind(now + lease_secs)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut claimed = rows(&found, call_row)?;
        claimed.sort_by_key(|call| call.id);
        Ok(claimed)
    }

    async fn calls_for_run(&self, run_id: &str) -> Result<Vec<CallRow>> {
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE run_id = $1 ORDER BY id");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(run_id).fetch_all(&self.pool).await?;
        rows(&found, call_row)
    }

    async fn run(&self, id: &str) -> Result<Option<RunRow>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        found.as_ref().map(run_row).transpose()
    }

    async fn runs(&self, filter: &RunFilter) -> Result<Vec<RunRow>> {
        let mut query = sqlx::QueryBuilder::<DB>::new(format!("SELECT {RUN_COLUMNS} FROM runs WHERE 1 = 1"));
        for (column, value) in [("status", &filter.status), ("workflow", &filter.workflow), ("key", &filter.key)] {
            if let Some(value) = value {
                query.push(format!(" AND {column} = ")).push_bind(value.clone());
            }
        }
        push_in(&mut query, "workflow", filter.workflows.as_ref());
        query.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(if filter.limit > 0 { filter.limit } else { 100 });
        let found = query.build().fetch_all(&self.pool).await?;
        rows(&found, run_row)
    }

    async fn runs_without_wakeup(&self, limit: i64) -> Result<Vec<RunRow>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE status IN ('not_started', 'running') AND wake_at IS NULL \
             ORDER BY updated_at LIMIT $1"
        );
        let found = sqlx::query(AssertSqlSafe(sql)).bind(limit).fetch_all(&self.pool).await?;
        rows(&found, run_row)
    }

    async fn next_wake(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(wake_at) FROM runs WHERE wake_at IS NOT NULL AND status IN ('not_started', 'running')",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn inbox(&self, status: Option<&str>, limit: i64) -> Result<Vec<InboxItem>> {
        let sql = format!(
            "SELECT {INBOX_COLUMNS} FROM inbox WHERE ($1 IS NULL OR status = $1) ORDER BY due_at, id LIMIT $2"
        );
        let found = sqlx::query(AssertSqlSafe(sql)).bind(status).bind(limit).fetch_all(&self.pool).await?;
        rows(&found, inbox_row)
    }

    async fn inbox_filtered(&self, filter: &InboxFilter) -> Result<Vec<InboxItem>> {
        let mut query = sqlx::QueryBuilder::<DB>::new(format!("SELECT {INBOX_COLUMNS} FROM inbox WHERE 1 = 1"));
        if let Some(status) = &filter.status {
            query.push(" AND status = ").push_bind(status.clone());
        }
        push_in(&mut query, "team", filter.teams.as_ref());
        query.push(" ORDER BY due_at, id LIMIT ").push_bind(if filter.limit > 0 { filter.limit } else { 100 });
        let found = query.build().fetch_all(&self.pool).await?;
        rows(&found, inbox_row)
    }

    async fn inbox_item(&self, id: &str) -> Result<Option<InboxItem>> {
        let sql = format!("SELECT {INBOX_COLUMNS} FROM inbox WHERE id = $1");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        found.as_ref().map(inbox_row).transpose()
    }

    async fn audit(&self, since: Option<i64>, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit WHERE ($1 IS NULL OR at >= $1) AND seq > $2 ORDER BY seq LIMIT $3"
        );
        let found = sqlx::query(AssertSqlSafe(sql)).bind(since).bind(after_seq).bind(limit).fetch_all(&self.pool).await?;
        rows(&found, audit_row)
    }

    async fn audit_for_run(&self, run_id: &str) -> Result<Vec<AuditRow>> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit WHERE run_id = $1 ORDER BY seq");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(run_id).fetch_all(&self.pool).await?;
        rows(&found, audit_row)
    }

    async fn ledger_unshipped(&self, limit: i64) -> Result<Vec<LedgerRow>> {
        let sql = format!("SELECT {LEDGER_COLUMNS} FROM ledger WHERE shipped = 0 ORDER BY seq LIMIT $1");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(limit).fetch_all(&self.pool).await?;
        rows(&found, ledger_row)
    }

    async fn ledger(&self, after_seq: i64, limit: i64) -> Result<Vec<LedgerRow>> {
        let sql = format!("SELECT {LEDGER_COLUMNS} FROM ledger WHERE seq > $1 ORDER BY seq LIMIT $2");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(after_seq).bind(limit).fetch_all(&self.pool).await?;
        rows(&found, ledger_row)
    }

    async fn mark_shipped(&self, seqs: &[i64]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for seq in seqs {
            sqlx::query("UPDATE ledger SET shipped = 1 WHERE seq = $1").bind(seq).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn save_workflow(
        &self,
        name: &str,
        version: i64,
        source: &str,
        origin: &str,
        now: i64,
    ) -> Result<Option<String>> {
        // Insert first, then compare: a read-then-insert lets two nodes that store different sources for the same
        // version at the same moment both succeed (the loser's insert silently does nothing).
        let inserted = sqlx::query(
            "INSERT INTO workflows (name, version, source, origin, loaded_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (name, version) DO NOTHING",
        )
        .bind(name)
        .bind(version)
        .bind(source)
        .bind(origin)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(None);
        }
        let stored: Option<String> =
            sqlx::query_scalar("SELECT source FROM workflows WHERE name = $1 AND version = $2")
                .bind(name)
                .bind(version)
                .fetch_optional(&self.pool)
                .await?;
        Ok(stored.filter(|stored| stored != source))
    }

    async fn workflows(&self) -> Result<Vec<(String, i64, String, String)>> {
        Ok(sqlx::query_as("SELECT name, version, source, origin FROM workflows ORDER BY name, version")
            .fetch_all(&self.pool)
            .await?)
    }

    async fn counts(&self) -> Result<Counts> {
        let grouped = |sql: &'static str| {
            let pool = self.pool.clone();
            async move {
                let found = sqlx::query(sql).fetch_all(&pool).await?;
                found
                    .iter()
                    .map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<i64, _>(1)?)))
                    .collect::<Result<Vec<_>>>()
            }
        };
        let scalar = |sql: &'static str| {
            let pool = self.pool.clone();
            async move { Ok::<i64, StoreError>(sqlx::query_scalar(sql).fetch_one(&pool).await?) }
        };
        Ok(Counts {
            runs_by_status: grouped("SELECT status, COUNT(*) FROM runs GROUP BY status ORDER BY status").await?,
            events_by_status: grouped("SELECT status, COUNT(*) FROM events GROUP BY status ORDER BY status")
                .await?,
            inbox_open: scalar("SELECT COUNT(*) FROM inbox WHERE status = 'open'").await?,
            calls_pending: scalar("SELECT COUNT(*) FROM calls WHERE status = 'pending'").await?,
            dead_letters: scalar("SELECT COUNT(*) FROM dead_letters").await?,
            ledger_unshipped: scalar("SELECT COUNT(*) FROM ledger WHERE shipped = 0").await?,
            audit_entries: scalar("SELECT COUNT(*) FROM audit").await?,
        })
    }

    async fn insert_user(&self, user: &UserRow) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO users (email, role, password_hash, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING",
        )
        .bind(&user.email)
        .bind(&user.role)
        .bind(&user.password_hash)
        .bind(user.created_at)
        .bind(user.password_changed_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn user(&self, email: &str) -> Result<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(email).fetch_optional(&self.pool).await?;
        found.as_ref().map(user_row).transpose()
    }

    async fn users(&self) -> Result<Vec<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email");
        let found = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows(&found, user_row)
    }

    async fn remove_user(&self, email: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE email = $1").bind(email).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM users WHERE email = $1").bind(email).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_password(&self, email: &str, password_hash: &str, now: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        // A new password signs the user out everywhere: whoever knew the old one loses their session too.
        sqlx::query("DELETE FROM sessions WHERE email = $1").bind(email).execute(&mut *tx).await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE email = $3")
            .bind(password_hash)
            .bind(now)
            .bind(email)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_token(&self, name: &str, role: &str, secret_hash: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO api_tokens (name, role, secret_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role)
        .bind(secret_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn token_by_secret_hash(&self, secret_hash: &str) -> Result<Option<TokenRow>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = $1 AND revoked_at IS NULL");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(secret_hash).fetch_optional(&self.pool).await?;
        found.as_ref().map(token_row).transpose()
    }

    async fn tokens(&self) -> Result<Vec<TokenRow>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY name");
        let found = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows(&found, token_row)
    }

    async fn touch_token(&self, name: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE name = $2").bind(now).bind(name).execute(&self.pool).await?;
        Ok(())
    }

    async fn revoke_token(&self, name: &str, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_session(&self, session: &SessionRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, email, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.id_hash)
        .bind(&session.email)
        .bind(&session.csrf_token)
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRow>> {
        let found = sqlx::query(
            "SELECT s.id_hash, s.email, u.role, s.csrf_token, s.created_at, s.expires_at \
             FROM sessions s JOIN users u ON u.email = s.email WHERE s.id_hash = $1 AND s.expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        found
            .map(|row| {
                Ok(SessionRow {
                    id_hash: row.try_get("id_hash")?,
                    email: row.try_get("email")?,
                    role: row.try_get("role")?,
                    csrf_token: row.try_get("csrf_token")?,
                    created_at: row.try_get("created_at")?,
                    expires_at: row.try_get("expires_at")?,
                })
            })
            .transpose()
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn delete_expired(&self, now: i64, failures_before: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM login_failures WHERE at < $1").bind(failures_before).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn login_failures(&self, email: &str, address: &str, since: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT at FROM login_failures WHERE email = $1 AND address = $2 AND at >= $3 ORDER BY at",
        )
        .bind(email)
        .bind(address)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn add_login_failure(&self, email: &str, address: &str, now: i64) -> Result<()> {
        sqlx::query("INSERT INTO login_failures (email, address, at) VALUES ($1, $2, $3)")
            .bind(email)
            .bind(address)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn clear_login_failures(&self, email: &str, address: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE email = $1 AND address = $2")
            .bind(email)
            .bind(address)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Tx for BackendTx {
    async fn pending_events(&mut self, limit: i64) -> Result<Vec<StoredEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE status = 'pending' ORDER BY seq LIMIT $1{FOR_UPDATE_SKIP_LOCKED}"
        );
        let found = sqlx::query(AssertSqlSafe(sql)).bind(limit).fetch_all(&mut *self.tx).await?;
        rows(&found, event_row)
    }

    async fn set_event_status(&mut self, seq: i64, status: &str, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE events SET status = $1, routed_at = $2 WHERE seq = $3 AND status = 'pending'")
            .bind(status)
            .bind(now)
            .bind(seq)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_events_status(&mut self, seqs: &[i64], status: &str, now: i64) -> Result<()> {
        for chunk in seqs.chunks(EVENT_ROWS_PER_STATEMENT * 5) {
            let mut update = sqlx::QueryBuilder::<DB>::new("UPDATE events SET status = ");
            update.push_bind(status.to_owned()).push(", routed_at = ").push_bind(now);
            update.push(" WHERE status = 'pending' AND seq IN (");
            let mut list = update.separated(", ");
            for seq in chunk {
                list.push_bind(*seq);
            }
            update.push(")");
            update.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn lock_key(&mut self, workflow: &str, key: &str) -> Result<()> {
        Backend::lock_key_now(&mut self.tx, workflow, key).await
    }

    async fn live_run(&mut self, workflow: &str, key: &str) -> Result<Option<RunRow>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE workflow = $1 AND key = $2 \
             AND status IN ('not_started', 'running'){FOR_UPDATE}"
        );
        let found = sqlx::query(AssertSqlSafe(sql)).bind(workflow).bind(key).fetch_optional(&mut *self.tx).await?;
        found.as_ref().map(run_row).transpose()
    }

    async fn lock_run(&mut self, id: &str) -> Result<Option<RunRow>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1{FOR_UPDATE}");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *self.tx).await?;
        found.as_ref().map(run_row).transpose()
    }

    async fn set_run_waits(&mut self, run_id: &str, workflow: &str, event: &str, values: &[String]) -> Result<()> {
        sqlx::query("DELETE FROM run_waits WHERE run_id = $1").bind(run_id).execute(&mut *self.tx).await?;
        let mut unique: Vec<&String> = values.iter().collect();
        unique.sort();
        unique.dedup();
        for value in unique {
            sqlx::query("INSERT INTO run_waits (workflow, event, value, run_id) VALUES ($1, $2, $3, $4)")
                .bind(workflow)
                .bind(event)
                .bind(value)
                .bind(run_id)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn runs_waiting(&mut self, workflow: &str, event: &str, value: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT run_id FROM run_waits WHERE workflow = $1 AND event = $2 AND value = $3 ORDER BY run_id",
        )
        .bind(workflow)
        .bind(event)
        .bind(value)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    async fn workflow_source(&mut self, name: &str, version: i64) -> Result<Option<(String, String)>> {
        Ok(sqlx::query_as("SELECT source, origin FROM workflows WHERE name = $1 AND version = $2")
            .bind(name)
            .bind(version)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    async fn any_run(&mut self, workflow: &str, key: &str) -> Result<bool> {
        let found: Option<String> = sqlx::query_scalar("SELECT id FROM runs WHERE workflow = $1 AND key = $2 LIMIT 1")
            .bind(workflow)
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(found.is_some())
    }

    async fn due_run(&mut self, now: i64) -> Result<Option<RunRow>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE wake_at IS NOT NULL AND wake_at <= $1 \
             AND status IN ('not_started', 'running') ORDER BY wake_at LIMIT 1{FOR_UPDATE_SKIP_LOCKED}"
        );
        let found = sqlx::query(AssertSqlSafe(sql)).bind(now).fetch_optional(&mut *self.tx).await?;
        found.as_ref().map(run_row).transpose()
    }

    async fn insert_run(&mut self, row: &RunRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO runs (id, workflow, version, key, status, state, wake_at, fence, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&row.id)
        .bind(&row.workflow)
        .bind(row.version)
        .bind(&row.key)
        .bind(&row.status)
        .bind(&row.state)
        .bind(row.wake_at)
        .bind(row.fence)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn update_run(&mut self, id: &str, fence: i64, update: &RunUpdate<'_>) -> Result<i64> {
        let done = sqlx::query(
            "UPDATE runs SET status = $1, key = $2, state = $3, wake_at = $4, updated_at = $5, fence = fence + 1 \
             WHERE id = $6 AND fence = $7",
        )
        .bind(update.status)
        .bind(update.key)
        .bind(update.state)
        .bind(update.wake_at)
        .bind(update.now)
        .bind(id)
        .bind(fence)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 1 { Ok(fence + 1) } else { Err(StoreError::Conflict(id.to_owned())) }
    }

    async fn add_early_event(&mut self, workflow: &str, key: &str, event: &str, at: i64) -> Result<()> {
        sqlx::query("INSERT INTO early_events (workflow, key, event, received_at) VALUES ($1, $2, $3, $4)")
            .bind(workflow)
            .bind(key)
            .bind(event)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn take_early_events(&mut self, workflow: &str, key: &str) -> Result<Vec<String>> {
        // One statement: a separate SELECT and DELETE would delete, unreturned, an event committed in between.
        let mut found: Vec<(i64, String)> =
            sqlx::query_as("DELETE FROM early_events WHERE workflow = $1 AND key = $2 RETURNING id, event")
                .bind(workflow)
                .bind(key)
                .fetch_all(&mut *self.tx)
                .await?;
        found.sort_by_key(|(id, _)| *id);
        Ok(found.into_iter().map(|(_, event)| event).collect())
    }

    async fn insert_call(&mut self, call: &NewCall) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO calls (run_id, step, attempt, idempotency_key, action, args, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) ON CONFLICT (run_id, step, attempt) DO NOTHING",
        )
        .bind(&call.run_id)
        .bind(&call.step)
        .bind(call.attempt)
        .bind(&call.idempotency_key)
        .bind(&call.action)
        .bind(&call.args)
        .bind(call.created_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn finish_call(&mut self, id: i64, fence: i64, outcome: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE calls SET status = 'done', outcome = $1, done_at = $2, lease_owner = NULL, lease_until = NULL \
             WHERE id = $3 AND fence = $4 AND status IN ('pending', 'skipped')",
        )
        .bind(outcome)
        .bind(now)
        .bind(id)
        .bind(fence)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn call_for_attempt(&mut self, run_id: &str, step: &str, attempt: i64) -> Result<Option<CallRow>> {
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE run_id = $1 AND step = $2 AND attempt = $3");
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(run_id)
            .bind(step)
            .bind(attempt)
            .fetch_optional(&mut *self.tx)
            .await?;
        found.as_ref().map(call_row).transpose()
    }

    async fn skip_pending_calls(&mut self, run_id: &str, now: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE calls SET status = 'skipped', done_at = $1 WHERE run_id = $2 AND status = 'pending'",
        )
        .bind(now)
        .bind(run_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }

    async fn insert_inbox(&mut self, item: &InboxItem) -> Result<()> {
        sqlx::query(
            "INSERT INTO inbox (id, run_id, workflow, step, team, assignee, zone, title, context, due_at, status, \
             decided_by, decided_at, note, created_at, decisions, decision) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&item.id)
        .bind(&item.run_id)
        .bind(&item.workflow)
        .bind(&item.step)
        .bind(&item.team)
        .bind(&item.assignee)
        .bind(&item.zone)
        .bind(&item.title)
        .bind(&item.context)
        .bind(item.due_at)
        .bind(&item.status)
        .bind(&item.decided_by)
        .bind(item.decided_at)
        .bind(&item.note)
        .bind(item.created_at)
        .bind(&item.decisions)
        .bind(&item.decision)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn lock_inbox(&mut self, id: &str) -> Result<Option<InboxItem>> {
        let sql = format!("SELECT {INBOX_COLUMNS} FROM inbox WHERE id = $1{FOR_UPDATE}");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *self.tx).await?;
        found.as_ref().map(inbox_row).transpose()
    }

    async fn decide_inbox(
        &mut self,
        id: &str,
        status: &str,
        decision: &str,
        by: Option<&str>,
        note: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE inbox SET status = $1, decided_by = $2, decided_at = $3, note = $4, decision = $6 WHERE id = $5",
        )
        .bind(status)
        .bind(by)
        .bind(now)
        .bind(note)
        .bind(id)
        .bind(decision)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn close_inbox(&mut self, id: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE inbox SET status = 'closed', decided_at = $1 WHERE id = $2 AND status = 'open'")
            .bind(now)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn close_inbox_for_run(&mut self, run_id: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE inbox SET status = 'closed', decided_at = $1 WHERE run_id = $2 AND status = 'open'")
            .bind(now)
            .bind(run_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn append_audit(&mut self, entries: &[NewAudit]) -> Result<()> {
        self.audit.extend_from_slice(entries);
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        let entries = std::mem::take(&mut self.audit);
        // Many rows per statement: a transition writes several entries, and one round trip beats ten.
        for chunk in entries.chunks(AUDIT_ROWS_PER_STATEMENT) {
            let mut insert = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO audit (at, kind, run_id, event_id, workflow, step, attempt, actor, detail, data) ",
            );
            insert.push_values(chunk, |mut row, entry| {
                row.push_bind(entry.at)
                    .push_bind(entry.kind.clone())
                    .push_bind(entry.run_id.clone())
                    .push_bind(entry.event_id.clone())
                    .push_bind(entry.workflow.clone())
                    .push_bind(entry.step.clone())
                    .push_bind(entry.attempt)
                    .push_bind(entry.actor.clone())
                    .push_bind(entry.detail.clone())
                    .push_bind(entry.data.clone());
            });
            insert.build().execute(&mut *self.tx).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }

    async fn insert_ledger(
        &mut self,
        key: &str,
        ledger: &str,
        run_id: &str,
        workflow: &str,
        at: i64,
        fields: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO ledger (idempotency_key, ledger, run_id, workflow, at, fields, shipped) \
             VALUES ($1, $2, $3, $4, $5, $6, 0) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(key)
        .bind(ledger)
        .bind(run_id)
        .bind(workflow)
        .bind(at)
        .bind(fields)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

}
