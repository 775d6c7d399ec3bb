//! Ledger sinks for `record` steps: where finance entries go. Each entry carries the engine's idempotency key
//! and every sink drops an entry whose key it already has, because the engine re-sends an entry after a crash
//! between writing it and marking it shipped. One entry point: [`LedgerSink::write`].
//!
//! # File sink
//!
//! [`FileSink`] appends one line per entry and returns only after the line is written and `fsync`ed, so a
//! [`Written::Appended`] entry survives a crash. It holds an exclusive advisory lock on the file (a second
//! sink on the same file, in this process or another, gets [`LedgerError::Locked`] until every clone of the
//! first is dropped); writers sharing one sink are serialized.
//!
//! On [`FileSink::open`] the whole file is read and the keys of its entries collected, so duplicates are
//! dropped across restarts too. A crash in the middle of a write leaves a torn last entry; it was never
//! acknowledged (the engine will send it again), so `open` cuts it off and logs what it removed. The last
//! entry is torn when the file does not end with a newline, or (CSV) when it ends inside a quoted field.
//! Anything else that does not parse, anywhere in the file, is [`LedgerError::Corrupt`] with its line: the
//! file was edited or is not a ledger, and guessing could lose entries. A write that fails half-way is undone
//! (the file is cut back to its previous length); if even that fails the sink refuses further writes
//! ([`LedgerError::Poisoned`]) until it is dropped and opened again, which repairs the file.
//!
//! ## JSON lines ([`LedgerFormat::JsonLines`])
//!
//! One compact JSON object per line: `at`, `ledger`, `workflow`, `run_id`, `idempotency_key`, then the
//! entry's fields flattened into the same object. A field named like one of those keys, or `fields`, cannot
//! sit next to them; all such fields go into a nested object under `fields` (present only then). So the
//! entry's fields are the object's other keys plus the contents of `fields`.
//!
//! ```text
//! {"at":"2026-05-01T09:00:00Z","ledger":"finance","workflow":"w","run_id":"r1","idempotency_key":"k1","n":1}
//! ```
//!
//! ## CSV ([`LedgerFormat::Csv`])
//!
//! RFC 4180 CSV (quoted where needed, `\n` line ends), written with the `csv` crate. The header is written
//! with the first entry of a new or empty file and never changes afterwards:
//!
//! `at,ledger,workflow,run_id,idempotency_key,` the first entry's field names in sorted order, `,extra`
//!
//! Every row has exactly the header's columns. A field goes in its own column when the header has one, else
//! (a field a later entry added, or one named like a fixed column or `extra`) into `extra` as one compact
//! JSON object of all such fields; `extra` is empty when there are none. A field the entry lacks is an empty
//! cell. Cells hold strings as they are, numbers and booleans as JSON text, `null` as an empty cell and lists
//! or tables as compact JSON. CSV is untyped: `"4900"` and `4900` look the same, and an empty cell is both a
//! missing field and `null`; use JSON lines when that matters. Values are written as they are: a cell that
//! starts with `=`, `+`, `-` or `@` may be taken for a formula by a spreadsheet that opens the file.
//!
//! # HTTP sink
//!
//! [`HttpSink`] POSTs the [`LedgerEntry`] as JSON (`fields` nested, as the struct serializes) with the header
//! `Idempotency-Key: <key>` and the configured headers. 2xx is [`Written::Appended`], 409 is
//! [`Written::Duplicate`] (the endpoint already has the key), anything else [`LedgerError::Rejected`] with
//! the status and a body excerpt, classified like the `http` action ([`crate::http::classify_status`]).

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use seam_flow::{ErrorClass, ErrorKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::http;

/// The columns every CSV ledger starts with, and the keys every JSON line starts with, in this order.
pub const FIXED_COLUMNS: [&str; 5] = ["at", "ledger", "workflow", "run_id", "idempotency_key"];

/// The last CSV column: fields that have no column of their own, as one compact JSON object.
pub const EXTRA_COLUMN: &str = "extra";

/// In JSON lines, the key under which fields that collide with a fixed key are nested.
pub const NESTED_FIELDS_KEY: &str = "fields";

/// How long [`HttpSink::new`] gives one POST, from connecting to the end of the answer.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The most bytes of an HTTP sink's error answer read (for the message).
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// The most characters of a cut-off torn entry shown in the log.
const MAX_LOGGED_TAIL: usize = 300;

/// One ledger entry, as a `record` step produces it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LedgerEntry {
    pub idempotency_key: String,
    pub ledger: String,
    pub run_id: String,
    pub workflow: String,
    /// RFC 3339.
    pub at: String,
    pub fields: Map<String, Value>,
}

/// What a sink did with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Appended,
    /// The sink already had an entry with this idempotency key; nothing was written.
    Duplicate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerFormat {
    Csv,
    JsonLines,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger file {}: cannot {op}: {source}", path.display())]
    Io {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("ledger file {} is locked by another sink (in this or another process)", path.display())]
    Locked { path: PathBuf },
    #[error("ledger file {}, line {line}: {message}", path.display())]
    Corrupt { path: PathBuf, line: u64, message: String },
    #[error(
        "ledger file {}: an earlier write failed and could not be undone; open the sink again to repair it",
        path.display()
    )]
    Poisoned { path: PathBuf },
    #[error("ledger sink configuration: {0}")]
    Config(String),
    #[error("ledger entry {key}: {message}")]
    Entry { key: String, message: String },
    /// The HTTP endpoint answered with a status other than 2xx or 409.
    #[error("ledger endpoint: {message}")]
    Rejected { status: u16, class: ErrorClass, message: String },
    /// The HTTP endpoint could not be reached or its answer not read.
    #[error("ledger endpoint: {message}")]
    Transport { class: ErrorClass, message: String },
}

impl LedgerError {
    /// Whether writing the same entry again later could succeed without anyone changing anything: a failed
    /// disk write (a full disk gets space), or an HTTP failure classified retryable. A locked, corrupt or
    /// poisoned file, a bad configuration or entry, and a 4xx answer need a person.
    pub fn is_retryable(&self) -> bool {
        match self {
            LedgerError::Io { .. } => true,
            LedgerError::Rejected { class, .. } | LedgerError::Transport { class, .. } => {
                matches!(class, ErrorClass::Retryable(_))
            }
            LedgerError::Locked { .. }
            | LedgerError::Corrupt { .. }
            | LedgerError::Poisoned { .. }
            | LedgerError::Config(_)
            | LedgerError::Entry { .. } => false,
        }
    }
}

/// Where `record` entries go.
#[derive(Debug, Clone)]
pub enum LedgerSink {
    File(FileSink),
    Http(HttpSink),
}

impl LedgerSink {
    /// Writes the entry unless the sink already has its idempotency key.
    pub async fn write(&self, entry: &LedgerEntry) -> Result<Written, LedgerError> {
        match self {
            LedgerSink::File(sink) => sink.write(entry).await,
            LedgerSink::Http(sink) => sink.write(entry).await,
        }
    }
}

/// A CSV or JSON-lines ledger file. Clones share the file and its lock.
#[derive(Debug, Clone)]
pub struct FileSink {
    path: Arc<Path>,
    format: LedgerFormat,
    state: Arc<tokio::sync::Mutex<FileState>>,
}

#[derive(Debug)]
struct FileState {
    file: File,
    /// The length of the file's good content: where the next entry starts.
    len: u64,
    keys: HashSet<String>,
    /// CSV only: the header, once the file has one.
    columns: Option<Vec<String>>,
    poisoned: bool,
}

impl FileSink {
    /// Opens (creating it if needed) and locks the ledger file, repairs a torn last entry and reads the keys
    /// already written. The file is read on a blocking thread.
    pub async fn open(path: impl AsRef<Path>, format: LedgerFormat) -> Result<FileSink, LedgerError> {
        let path = path.as_ref().to_owned();
        let on_panic = path.clone();
        tokio::task::spawn_blocking(move || FileSink::open_blocking(&path, format)).await.unwrap_or_else(
            |join| {
                Err(LedgerError::Io {
                    path: on_panic,
                    op: "open",
                    source: std::io::Error::other(format!("the opening task failed: {join}")),
                })
            },
        )
    }

    fn open_blocking(path: &Path, format: LedgerFormat) -> Result<FileSink, LedgerError> {
        let io = |op: &'static str| {
            move |source: std::io::Error| LedgerError::Io { path: path.to_owned(), op, source }
        };
        let mut file =
            OpenOptions::new().read(true).append(true).create(true).open(path).map_err(io("open"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(LedgerError::Locked { path: path.to_owned() });
            }
            Err(std::fs::TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
                tracing::warn!(
                    path = %path.display(),
                    "the file system cannot lock this ledger file; opening it unlocked"
                );
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io("lock")(e)),
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io("read"))?;
        let scan = match format {
            LedgerFormat::JsonLines => scan_json_lines(&bytes),
            LedgerFormat::Csv => scan_csv(&bytes),
        }
        .map_err(|(line, message)| LedgerError::Corrupt { path: path.to_owned(), line, message })?;
        let good = scan.len as usize;
        if good < bytes.len() {
            let tail = String::from_utf8_lossy(&bytes[good..]);
            let tail: String = tail.chars().take(MAX_LOGGED_TAIL).collect();
            tracing::warn!(
                path = %path.display(),
                removed_bytes = bytes.len() - good,
                removed = %tail,
                "cut off a torn last ledger entry (a write interrupted by a crash; it was never acknowledged)"
            );
            file.set_len(scan.len).map_err(io("cut off the torn last entry of"))?;
            file.sync_all().map_err(io("sync"))?;
        }
        if bytes.is_empty() {
            sync_parent_dir(path);
        }
        let state =
            FileState { file, len: scan.len, keys: scan.keys, columns: scan.columns, poisoned: false };
        Ok(FileSink { path: Arc::from(path), format, state: Arc::new(tokio::sync::Mutex::new(state)) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn format(&self) -> LedgerFormat {
        self.format
    }

    /// Appends the entry and syncs the file, unless an entry with its idempotency key is already there.
    pub async fn write(&self, entry: &LedgerEntry) -> Result<Written, LedgerError> {
        let mut state = Arc::clone(&self.state).lock_owned().await;
        let path = Arc::clone(&self.path);
        let format = self.format;
        let entry = entry.clone();
        tokio::task::spawn_blocking(move || append(&mut state, &path, format, &entry)).await.unwrap_or_else(
            |join| {
                Err(LedgerError::Io {
                    path: self.path.to_path_buf(),
                    op: "append to",
                    source: std::io::Error::other(format!("the writing task failed: {join}")),
                })
            },
        )
    }
}

fn append(
    state: &mut FileState,
    path: &Path,
    format: LedgerFormat,
    entry: &LedgerEntry,
) -> Result<Written, LedgerError> {
    if state.poisoned {
        return Err(LedgerError::Poisoned { path: path.to_owned() });
    }
    if state.keys.contains(&entry.idempotency_key) {
        return Ok(Written::Duplicate);
    }
    let encode_error = |message: String| LedgerError::Entry { key: entry.idempotency_key.clone(), message };
    let (bytes, new_columns) = match format {
        LedgerFormat::JsonLines => (json_line(entry).map_err(encode_error)?, None),
        LedgerFormat::Csv => {
            let (bytes, columns) = csv_rows(state.columns.as_deref(), entry).map_err(encode_error)?;
            (bytes, columns)
        }
    };
    let written = state.file.write_all(&bytes).and_then(|()| state.file.sync_all());
    if let Err(source) = written {
        // Undo a partial line so the next entry does not start in the middle of it.
        let undone = state.file.set_len(state.len).and_then(|()| state.file.sync_all());
        if let Err(undo) = undone {
            tracing::error!(path = %path.display(), error = %undo, "could not undo a failed ledger write");
            state.poisoned = true;
        }
        return Err(LedgerError::Io { path: path.to_owned(), op: "append to", source });
    }
    state.len += bytes.len() as u64;
    state.keys.insert(entry.idempotency_key.clone());
    if let Some(columns) = new_columns {
        state.columns = Some(columns);
    }
    Ok(Written::Appended)
}

/// Makes a new file's directory entry durable. Best effort: not worth refusing the sink over.
fn sync_parent_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
            tracing::debug!(dir = %dir.display(), error = %e, "could not sync the ledger file's directory");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// What opening found: where the good content ends, the keys in it, and (CSV) the header.
#[derive(Debug)]
struct Scan {
    len: u64,
    keys: HashSet<String>,
    columns: Option<Vec<String>>,
}

/// `Err((line, message))` for content that is not a torn last entry and does not parse.
type ScanResult = Result<Scan, (u64, String)>;

fn scan_json_lines(bytes: &[u8]) -> ScanResult {
    let mut keys = HashSet::new();
    let mut start = 0;
    let mut line_no = 0;
    // A line without its newline is torn: everything from `start` on is cut off.
    while let Some(newline) = bytes[start..].iter().position(|&b| b == b'\n') {
        line_no += 1;
        let line = &bytes[start..start + newline];
        start += newline + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value: Value = serde_json::from_slice(line).map_err(|e| (line_no, format!("not JSON: {e}")))?;
        match value.get("idempotency_key") {
            Some(Value::String(key)) => {
                keys.insert(key.clone());
            }
            _ => return Err((line_no, "not a ledger entry: no string `idempotency_key`".to_owned())),
        }
    }
    Ok(Scan { len: start as u64, keys, columns: None })
}

fn scan_csv(bytes: &[u8]) -> ScanResult {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut records = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => records.push(record.clone()),
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err((line, format!("not CSV: {e}")));
            }
        }
    }
    let start_of = |r: &csv::ByteRecord| r.position().map_or(0, |p| p.byte());
    let line_of = |r: &csv::ByteRecord| r.position().map_or(0, |p| p.line());
    // Our writes end with a newline outside quotes, so a last record without one, or one left inside a quoted
    // field (an odd number of quote characters), is torn.
    if let Some(last) = records.last() {
        let from = start_of(last) as usize;
        let tail = bytes.get(from..).unwrap_or_default();
        let quotes = tail.iter().filter(|&&b| b == b'"').count();
        if !bytes.ends_with(b"\n") || quotes % 2 == 1 {
            records.pop();
            return finish_csv(&records, from as u64, line_of);
        }
    }
    finish_csv(&records, bytes.len() as u64, line_of)
}

fn finish_csv(
    records: &[csv::ByteRecord],
    len: u64,
    line_of: impl Fn(&csv::ByteRecord) -> u64,
) -> ScanResult {
    let Some((header, rows)) = records.split_first() else {
        return Ok(Scan { len, keys: HashSet::new(), columns: None });
    };
    let mut columns = Vec::with_capacity(header.len());
    for name in header {
        let name = std::str::from_utf8(name)
            .map_err(|_| (line_of(header), "a column name is not UTF-8".to_owned()))?;
        columns.push(name.to_owned());
    }
    let shape_ok = columns.len() > FIXED_COLUMNS.len()
        && columns.iter().zip(FIXED_COLUMNS).all(|(c, f)| c == f)
        && columns.last().is_some_and(|c| c == EXTRA_COLUMN);
    if !shape_ok {
        return Err((
            line_of(header),
            format!("not a ledger header: expected {},<fields>,{EXTRA_COLUMN}", FIXED_COLUMNS.join(",")),
        ));
    }
    let key_column = FIXED_COLUMNS.iter().position(|c| *c == "idempotency_key").unwrap_or_default();
    let mut keys = HashSet::with_capacity(rows.len());
    for row in rows {
        if row.len() != columns.len() {
            return Err((
                line_of(row),
                format!("{} cells where the header has {}", row.len(), columns.len()),
            ));
        }
        let key = row.get(key_column).and_then(|k| std::str::from_utf8(k).ok());
        let key = key.ok_or_else(|| (line_of(row), "the idempotency key is not UTF-8".to_owned()))?;
        keys.insert(key.to_owned());
    }
    Ok(Scan { len, keys, columns: Some(columns) })
}

/// The JSON line for an entry, newline included.
fn json_line(entry: &LedgerEntry) -> Result<Vec<u8>, String> {
    #[derive(Serialize)]
    struct Line<'a> {
        at: &'a str,
        ledger: &'a str,
        workflow: &'a str,
        run_id: &'a str,
        idempotency_key: &'a str,
        #[serde(flatten)]
        top: BTreeMap<&'a str, &'a Value>,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        fields: BTreeMap<&'a str, &'a Value>,
    }
    let (mut top, mut nested) = (BTreeMap::new(), BTreeMap::new());
    for (name, value) in &entry.fields {
        if FIXED_COLUMNS.contains(&name.as_str()) || name == NESTED_FIELDS_KEY {
            nested.insert(name.as_str(), value);
        } else {
            top.insert(name.as_str(), value);
        }
    }
    let line = Line {
        at: &entry.at,
        ledger: &entry.ledger,
        workflow: &entry.workflow,
        run_id: &entry.run_id,
        idempotency_key: &entry.idempotency_key,
        top,
        fields: nested,
    };
    let mut bytes = serde_json::to_vec(&line).map_err(|e| format!("cannot encode as JSON: {e}"))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The CSV bytes for an entry: its row, preceded by the header when the file has none yet (then also
/// returned, to keep once the write succeeded).
fn csv_rows(
    columns: Option<&[String]>,
    entry: &LedgerEntry,
) -> Result<(Vec<u8>, Option<Vec<String>>), String> {
    let reserved = |name: &str| FIXED_COLUMNS.contains(&name) || name == EXTRA_COLUMN;
    let new_columns = match columns {
        Some(_) => None,
        None => {
            let mut names: Vec<String> = entry.fields.keys().filter(|n| !reserved(n)).cloned().collect();
            names.sort();
            let mut columns: Vec<String> = FIXED_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
            columns.extend(names);
            columns.push(EXTRA_COLUMN.to_owned());
            Some(columns)
        }
    };
    let Some(columns) = columns.or(new_columns.as_deref()) else {
        return Err("no CSV header".to_owned());
    };
    let field_columns = &columns[FIXED_COLUMNS.len()..columns.len() - 1];
    let mut row: Vec<String> = vec![
        entry.at.clone(),
        entry.ledger.clone(),
        entry.workflow.clone(),
        entry.run_id.clone(),
        entry.idempotency_key.clone(),
    ];
    for name in field_columns {
        row.push(entry.fields.get(name).map(cell).unwrap_or_default());
    }
    let extra: Map<String, Value> = entry
        .fields
        .iter()
        .filter(|(name, _)| reserved(name) || !field_columns.contains(name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    row.push(if extra.is_empty() { String::new() } else { Value::Object(extra).to_string() });

    let mut writer =
        csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    let csv_error = |e: csv::Error| format!("cannot encode as CSV: {e}");
    if new_columns.is_some() {
        writer.write_record(columns).map_err(csv_error)?;
    }
    writer.write_record(&row).map_err(csv_error)?;
    let bytes = writer.into_inner().map_err(|e| format!("cannot encode as CSV: {}", e.error()))?;
    Ok((bytes, new_columns))
}

/// A cell's text: strings as they are, `null` empty, other values as compact JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A ledger behind an HTTP endpoint that accepts one entry per POST.
#[derive(Debug, Clone)]
pub struct HttpSink {
    /// `Err` when the URL, a header or the client is unusable; every write then fails with the reason.
    target: Result<HttpTarget, Arc<str>>,
}

#[derive(Debug, Clone)]
struct HttpTarget {
    client: reqwest::Client,
    url: Url,
    headers: HeaderMap,
}

impl HttpSink {
    /// A sink that POSTs to `url` (http or https) with `headers` (such as `Authorization`) and gives each
    /// POST [`DEFAULT_HTTP_TIMEOUT`]. Never fails: a bad URL or header is logged, returned by
    /// [`HttpSink::check`], and makes every write fail with [`LedgerError::Config`].
    pub fn new(url: impl AsRef<str>, headers: Vec<(String, String)>) -> HttpSink {
        HttpSink::with_timeout(url, headers, DEFAULT_HTTP_TIMEOUT)
    }

    pub fn with_timeout(url: impl AsRef<str>, headers: Vec<(String, String)>, timeout: Duration) -> HttpSink {
        let target = HttpTarget::new(url.as_ref(), headers, timeout).map_err(Arc::from);
        if let Err(reason) = &target {
            tracing::error!(%reason, "the HTTP ledger sink is misconfigured; every entry will fail");
        }
        HttpSink { target }
    }

    /// The configuration problem that makes every write fail, if any.
    pub fn check(&self) -> Result<(), LedgerError> {
        match &self.target {
            Ok(_) => Ok(()),
            Err(reason) => Err(LedgerError::Config(reason.to_string())),
        }
    }

    /// Whether the endpoint answers at all, for `seam doctor`: one `HEAD` to the URL with the sink's headers,
    /// which writes nothing. `Ok` is the status of any answer (an endpoint that takes POSTs may well answer
    /// `HEAD` with 405); `Err` is a misconfiguration or no answer (refused, timed out, TLS).
    pub async fn probe(&self) -> Result<u16, LedgerError> {
        let target = match &self.target {
            Ok(target) => target,
            Err(reason) => return Err(LedgerError::Config(reason.to_string())),
        };
        let response = target.client.head(target.url.clone()).headers(target.headers.clone()).send().await;
        match response {
            Ok(response) => Ok(response.status().as_u16()),
            Err(e) => Err(LedgerError::Transport {
                class: http::classify_transport(&e),
                message: format!("HEAD {}: {}", http::redact(&target.url), http::error_chain(&e)),
            }),
        }
    }

    /// POSTs the entry; the endpoint's 409 means it already has the key.
    pub async fn write(&self, entry: &LedgerEntry) -> Result<Written, LedgerError> {
        let target = match &self.target {
            Ok(target) => target,
            Err(reason) => return Err(LedgerError::Config(reason.to_string())),
        };
        let key = HeaderValue::from_str(&entry.idempotency_key).map_err(|_| LedgerError::Entry {
            key: entry.idempotency_key.clone(),
            message: "the idempotency key is not a valid header value".to_owned(),
        })?;
        let what = format!("POST {}", http::redact(&target.url));
        let transport = |e: reqwest::Error| LedgerError::Transport {
            class: http::classify_transport(&e),
            message: format!("{what}: {}", http::error_chain(&e)),
        };
        let response = target
            .client
            .post(target.url.clone())
            .headers(target.headers.clone())
            .header("idempotency-key", key)
            .json(entry)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(Written::Appended);
        }
        if status == 409 {
            return Ok(Written::Duplicate);
        }
        let body = http::read_capped(response, MAX_ERROR_BODY_BYTES).await.map_err(transport)?;
        let class = http::classify_status(status).unwrap_or(ErrorClass::Fatal(ErrorKind::Request));
        Err(LedgerError::Rejected {
            status,
            class,
            message: http::status_message(&what, status, &body.bytes),
        })
    }
}

impl HttpTarget {
    fn new(url: &str, headers: Vec<(String, String)>, timeout: Duration) -> Result<HttpTarget, String> {
        let url = Url::parse(url).map_err(|e| format!("bad ledger URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(format!("bad ledger URL `{}`: expected http(s)://host/...", http::redact(&url)));
        }
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("bad ledger header name `{name}`"))?;
            let value = HeaderValue::from_str(&value)
                .map_err(|_| format!("ledger header `{name}` has a value not allowed in a header"))?;
            map.append(header, value);
        }
        let client = http::build_client(timeout, reqwest::redirect::Policy::none())
            .map_err(|e| format!("the HTTP client could not be built: {}", http::error_chain(&e)))?;
        Ok(HttpTarget { client, url, headers: map })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(scan: &Scan) -> Vec<&str> {
        let mut keys: Vec<&str> = scan.keys.iter().map(String::as_str).collect();
        keys.sort();
        keys
    }

    #[test]
    fn csv_torn_inside_a_quoted_field_is_cut() {
        let good = "at,ledger,workflow,run_id,idempotency_key,note,extra\n2026,l,w,r,k1,\"a\nb\",\n";
        let torn = format!("{good}2026,l,w,r,k2,\"a\n");
        let scan = scan_csv(torn.as_bytes()).unwrap();
        assert_eq!(scan.len, good.len() as u64);
        assert_eq!(keys(&scan), ["k1"]);
    }

    #[test]
    fn csv_torn_header_is_cut() {
        let scan = scan_csv(b"at,ledger,work").unwrap();
        assert_eq!(scan.len, 0);
        assert!(scan.columns.is_none());
    }

    #[test]
    fn csv_bad_middle_row_is_corrupt() {
        let text = "at,ledger,workflow,run_id,idempotency_key,extra\n1,2\n2026,l,w,r,k1,\n";
        assert_eq!(scan_csv(text.as_bytes()).unwrap_err().0, 2);
    }

    #[test]
    fn csv_foreign_header_is_corrupt() {
        assert!(scan_csv(b"name,amount\nx,1\n").is_err());
    }

    #[test]
    fn json_lines_torn_and_corrupt() {
        let scan = scan_json_lines(b"{\"idempotency_key\":\"a\"}\n\n{\"idempotency_key\":\"b\"").unwrap();
        assert_eq!(scan.len, 25);
        assert_eq!(keys(&scan), ["a"]);
        assert_eq!(scan_json_lines(b"{\"idempotency_key\":\"a\"}\n{oops\n").unwrap_err().0, 2);
        assert_eq!(scan_json_lines(b"{\"key\":\"a\"}\n").unwrap_err().0, 1);
    }
}
