//! Glue for `seam evidence import` and `seam evidence show`: files in, the store's evidence tables, measures out.
//!
//! An import reads each file twice: once to check it whole (`seam_evidence::check`: its kind, every row, the
//! newest time in it), then again to write it in one transaction. A file that fails the check is named with its
//! line and column and nothing of it is written; the other files still import, and the command then exits 2.
//! Large files show their progress on standard error.

use std::fs::File;
use std::io::{BufReader, IsTerminal as _, Read, Write as _};
use std::path::Path;

use anyhow::Context;
use seam_evidence::measure::{ImportInfo, months_spanning, snapshots_for};
use seam_evidence::{Currency, ImportError, Month, Months, Options, Rate, Record};
use seam_store::{NewImport, Store};

use crate::InputError;
use crate::cli::{EvidenceFormat, EvidenceImportArgs, EvidenceShowArgs};
use crate::engine_cmd::{open_existing_store, open_store, runtime};
use crate::output;

/// Records handed to the store at a time (it splits them into statements).
const RECORDS_PER_WRITE: usize = 2_000;
/// Files at least this large show their progress.
const PROGRESS_FROM_BYTES: u64 = 8 << 20;

pub fn import(args: EvidenceImportArgs) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_secs() as i64)
        .unwrap_or_default();
    let as_of = match &args.as_of {
        Some(text) => match seam_evidence::time::parse_date(text) {
            Some(date) => date.to_string(),
            None => {
                return Err(InputError(format!(
                    "--as-of: {text:?} is not a date; use YYYY-MM-DD, such as 2026-11-30"
                ))
                .into());
            }
        },
        None => seam_evidence::time::utc_date(now),
    };
    let url = args.db.db.clone();
    runtime()?.block_on(async move {
        let store = open_store(&url).await?;
        let mut refused: Vec<String> = Vec::new();
        for path in &args.files {
            match import_file(store.as_ref(), path, &as_of, now).await {
                Ok(line) => {
                    println!("{line}");
                    let _ = std::io::stdout().flush();
                }
                Err(FileError::Refused(message)) => {
                    eprintln!("seam: {message}");
                    eprintln!("seam: nothing from {} was imported", path.display());
                    refused.push(path.display().to_string());
                }
                Err(FileError::Failed(error)) => {
                    return Err(error.context(format!(
                        "importing {} into {url} (nothing from that file was written)",
                        path.display()
                    )));
                }
            }
        }
        if refused.is_empty() {
            Ok(())
        } else {
            Err(InputError(format!(
                "{} of {} files not imported (see above; nothing from them was written): {}",
                refused.len(),
                args.files.len(),
                refused.join(", ")
            ))
            .into())
        }
    })
}

enum FileError {
    /// The file is not one Seam can import, as it is: the message names the file, line and column.
    Refused(String),
    /// Something else failed (the database).
    Failed(anyhow::Error),
}

impl From<ImportError> for FileError {
    fn from(error: ImportError) -> FileError {
        FileError::Refused(error.to_string())
    }
}

fn failed(error: seam_store::StoreError) -> FileError {
    FileError::Failed(error.into())
}

/// Checks `path` whole, then writes it in one transaction. Returns the line that says what was imported.
async fn import_file(store: &dyn Store, path: &Path, as_of: &str, now: i64) -> Result<String, FileError> {
    let name = path.display().to_string();
    let open =
        || File::open(path).map_err(|error| FileError::Refused(format!("{name}: cannot be read ({error})")));
    let size = open()?.metadata().map(|meta| meta.len()).unwrap_or(0);

    let summary = seam_evidence::check(&name, Progress::new(open()?, size, "checking", &name))?;
    let kind = summary.kind;
    let is_inventory = kind == seam_evidence::Kind::ShopifyInventory;
    let import = NewImport {
        kind,
        file: name.clone(),
        imported_at: now,
        seen_at: summary.seen_at,
        as_of: is_inventory.then(|| as_of.to_owned()),
        rows: summary.rows as i64,
        records: summary.records as i64,
        currencies: summary.currencies.iter().map(|(currency, _)| currency.to_string()).collect(),
        locations: summary.locations.clone(),
    };

    let mut tx = store.begin_import(&import).await.map_err(failed)?;
    let records = seam_evidence::read(&name, Progress::new(open()?, size, "importing", &name))?;
    let mut batch = Batch::default();
    for record in records {
        batch.push(record?);
        if batch.len() >= RECORDS_PER_WRITE {
            batch.write(tx.as_mut()).await.map_err(failed)?;
        }
    }
    batch.write(tx.as_mut()).await.map_err(failed)?;
    let outcome = tx.finish().await.map_err(failed)?;

    let what = match kind {
        seam_evidence::Kind::ShopifyOrders => format!("{} orders ({} rows)", summary.records, summary.rows),
        seam_evidence::Kind::StripePayments => format!("{} payments", summary.records),
        seam_evidence::Kind::ShopifyInventory => format!(
            "{} stock rows as of {as_of} ({} location{})",
            summary.records,
            summary.locations.len(),
            if summary.locations.len() == 1 { "" } else { "s" }
        ),
    };
    let currencies: Vec<String> = summary.currencies.iter().map(|(c, n)| format!("{c} {n}")).collect();
    let currencies =
        if currencies.is_empty() { String::new() } else { format!("; {}", currencies.join(", ")) };
    let changed = if is_inventory { "replaced" } else { "updated from an older export" };
    Ok(format!(
        "seam: imported {name} (import #{}): {}, {what}: {} new, {} {changed}, {} already there{currencies}",
        outcome.import_id,
        kind.label(),
        outcome.new,
        outcome.updated,
        outcome.records - outcome.new - outcome.updated,
    ))
}

/// Records waiting to be written, by kind.
#[derive(Debug, Default)]
struct Batch {
    orders: Vec<seam_evidence::Order>,
    payments: Vec<seam_evidence::Payment>,
    stock: Vec<seam_evidence::StockLevel>,
}

impl Batch {
    fn push(&mut self, record: Record) {
        match record {
            Record::Order(order) => self.orders.push(order),
            Record::Payment(payment) => self.payments.push(payment),
            Record::Stock(level) => self.stock.push(level),
        }
    }

    fn len(&self) -> usize {
        self.orders.len() + self.payments.len() + self.stock.len()
    }

    async fn write(&mut self, tx: &mut dyn seam_store::ImportTx) -> seam_store::Result<()> {
        if !self.orders.is_empty() {
            tx.write_orders(&self.orders).await?;
            self.orders.clear();
        }
        if !self.payments.is_empty() {
            tx.write_payments(&self.payments).await?;
            self.payments.clear();
        }
        if !self.stock.is_empty() {
            tx.write_stock(&self.stock).await?;
            self.stock.clear();
        }
        Ok(())
    }
}

/// A file being read, which shows how far it got on standard error when it is large: on a terminal one line
/// rewritten in place, otherwise a line every 10%.
struct Progress {
    inner: BufReader<File>,
    size: u64,
    read: u64,
    shown: u64,
    label: String,
    terminal: bool,
}

impl Progress {
    fn new(file: File, size: u64, doing: &str, name: &str) -> Progress {
        Progress {
            inner: BufReader::with_capacity(1 << 20, file),
            size,
            read: 0,
            shown: 0,
            label: format!("{doing} {name}"),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn show(&mut self, done: bool) {
        if self.size < PROGRESS_FROM_BYTES {
            return;
        }
        let percent = if done { 100 } else { self.read * 100 / self.size.max(1) };
        let step = if self.terminal { 1 } else { 10 };
        if percent < self.shown + step && !(done && self.shown < 100) {
            return;
        }
        self.shown = percent;
        let megabytes = |bytes: u64| bytes as f64 / (1 << 20) as f64;
        let line = format!(
            "seam: {}: {percent}% ({:.0} of {:.0} MB)",
            self.label,
            megabytes(self.read),
            megabytes(self.size)
        );
        let mut stderr = std::io::stderr();
        if self.terminal {
            let _ = write!(stderr, "\r{line}");
            if done {
                let _ = writeln!(stderr);
            }
        } else {
            let _ = writeln!(stderr, "{line}");
        }
    }
}

impl Read for Progress {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        self.show(n == 0);
        Ok(n)
    }
}

pub fn show(args: EvidenceShowArgs) -> anyhow::Result<()> {
    let zone = seam_evidence::time_zone(&args.timezone)
        .map_err(|message| InputError(format!("--timezone: {message}")))?;
    let month = match &args.month {
        Some(text) => Some(Month::parse(text).ok_or_else(|| {
            InputError(format!("--month: {text:?} is not a month; use YYYY-MM, such as 2025-11"))
        })?),
        None => None,
    };
    let currency = match &args.currency {
        Some(text) => Some(Currency::parse(text).ok_or_else(|| {
            InputError(format!(
                "--currency: {text:?} is not a currency; use its three-letter code, such as USD"
            ))
        })?),
        None => None,
    };
    let rates = args
        .rate
        .iter()
        .map(|text| Rate::parse(text).map_err(|message| InputError(format!("--rate: {message}"))))
        .collect::<Result<Vec<Rate>, InputError>>()?;
    let url = args.db.clone();
    let text = runtime()?.block_on(async move {
        let store = open_existing_store(&url).await?;
        let not_evidence = || {
            format!(
                "reading the evidence in {url} (is it a Seam database? `seam migrate --db {url}` brings it to this \
                 version, `seam evidence import --db {url} FILE` fills it)"
            )
        };
        let imports = store.imports().await.with_context(not_evidence)?;
        let span = store.evidence_span().await.with_context(not_evidence)?;
        let months = match month {
            Some(month) => Months::between(month, month, &zone),
            None => months_spanning(span.first, span.last, &span.stock_dates, &zone)
                .unwrap_or(Months { months: Vec::new(), bounds: Vec::new() }),
        };
        let snapshots = snapshots_for(&months.months, &span.stock_dates);
        let mut figures = store.evidence_figures(&months, &snapshots).await.with_context(not_evidence)?;
        figures.imports = imports
            .iter()
            .map(|import| ImportInfo {
                id: import.id,
                kind: import.kind.clone(),
                file: import.file.clone(),
                imported_at: seam_evidence::time::rfc3339(import.imported_at),
                as_of: import.as_of.clone(),
                records: import.records,
                currencies: import.currencies.clone(),
            })
            .collect();
        let first_imported = imports.iter().find_map(|import| import.currency.as_deref().and_then(Currency::parse));
        let options = Options {
            time_zone: args.timezone.trim().to_owned(),
            currency: currency.or(first_imported).unwrap_or(Currency::USD),
            rates,
        };
        let measures =
            seam_evidence::measure(&figures, &options).map_err(|missing| InputError(missing.to_string()))?;
        anyhow::Ok(match args.format {
            EvidenceFormat::Text => seam_evidence::render::text(&measures),
            EvidenceFormat::Json => seam_evidence::render::json(&measures),
            EvidenceFormat::Csv => seam_evidence::render::csv(&measures),
        })
    })?;
    output::write_or_print(None, &text)
}
