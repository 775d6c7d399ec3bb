//! The evidence tables (migration 0005): imports of a brand's exports, and the counts the measures start from.
//!
//! An import is one [`ImportTx`]: its log row, then its records in multi-row upserts, then [`ImportTx::finish`]
//! commits. Dropping it before then rolls everything back, so a file is imported whole or not at all. Records are
//! keyed by the vendor's own ids (a Shopify order's `Id`, else its `Name`; a Stripe charge's `id`, else its
//! PaymentIntent and time), and a copy from an export taken later replaces one taken earlier, so importing a file
//! again, or an export that overlaps it, adds nothing twice. An inventory export is a snapshot for a date: importing
//! that date again replaces it, location by location.
//!
//! The measures' counts ([`EvidenceStore::evidence_figures`]) are added up in SQL per month, the months' bounds
//! given as instants (the months are cut in the brand's time zone by `seam-evidence`, which SQL cannot do alike on
//! both databases). The engine's tables (`runs`, `inbox`, `ledger`) are only read here.

use seam_evidence::measure::Figures;
use seam_evidence::{Kind, Months, Order, Payment, StockLevel};

use crate::Result;

/// An import about to be written: what its log row says.
#[derive(Debug, Clone, PartialEq)]
pub struct NewImport {
    pub kind: Kind,
    /// The file as the user named it.
    pub file: String,
    pub imported_at: i64,
    /// The newest time in the file (orders, payments); what decides which of two copies of a record is newer.
    pub seen_at: Option<i64>,
    /// An inventory snapshot's date, `YYYY-MM-DD`.
    pub as_of: Option<String>,
    pub rows: i64,
    pub records: i64,
    /// The file's currencies, the main one first.
    pub currencies: Vec<String>,
    /// An inventory export's locations: its snapshot replaces theirs for `as_of`.
    pub locations: Vec<String>,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOutcome {
    pub import_id: i64,
    pub records: i64,
    /// Records the database did not have.
    pub new: i64,
    /// Records whose stored copy came from an older export and was replaced (for inventory: rows of the same date
    /// and location replaced).
    pub updated: i64,
}

/// A row of the import log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub id: i64,
    pub kind: String,
    pub file: String,
    pub imported_at: i64,
    pub seen_at: Option<i64>,
    pub as_of: Option<String>,
    pub rows: i64,
    pub records: i64,
    pub new_records: i64,
    pub updated_records: i64,
    pub currency: Option<String>,
    pub currencies: Vec<String>,
}

/// How many rows each evidence table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EvidenceTotals {
    pub imports: i64,
    pub orders: i64,
    pub order_lines: i64,
    pub payments: i64,
    pub stock_rows: i64,
}

/// When there is anything to measure: the earliest and latest instants of orders, payments and runs, and the
/// dates of the inventory snapshots (oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EvidenceSpan {
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub stock_dates: Vec<String>,
}

/// The evidence half of the database.
#[async_trait::async_trait]
pub trait EvidenceStore: Send + Sync {
    /// Starts an import: writes its log row in a new transaction. On SQLite the transaction holds the database's
    /// one write lock until it ends.
    async fn begin_import(&self, import: &NewImport) -> Result<Box<dyn ImportTx>>;
    /// The import log, oldest first.
    async fn imports(&self) -> Result<Vec<ImportRow>>;
    async fn evidence_totals(&self) -> Result<EvidenceTotals>;
    async fn evidence_span(&self) -> Result<EvidenceSpan>;
    /// The counts and sums of `months` (orders, payments and runs by the month they started in), and the figures
    /// of each chosen inventory snapshot (`(month index, date)`); `imports` is left empty.
    async fn evidence_figures(&self, months: &Months, snapshots: &[(usize, String)]) -> Result<Figures>;
}

/// One import's transaction. Dropped without [`ImportTx::finish`], it writes nothing.
#[async_trait::async_trait]
pub trait ImportTx: Send {
    async fn write_orders(&mut self, orders: &[Order]) -> Result<()>;
    async fn write_payments(&mut self, payments: &[Payment]) -> Result<()>;
    async fn write_stock(&mut self, levels: &[StockLevel]) -> Result<()>;
    /// Records what changed in the import's log row and commits.
    async fn finish(self: Box<Self>) -> Result<ImportOutcome>;
}
