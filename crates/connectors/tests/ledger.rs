//! Ledger sinks: real files in a temporary directory, a real HTTP endpoint on 127.0.0.1.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use seam_connectors::ledger::{
    FileSink, HttpSink, LedgerEntry, LedgerError, LedgerFormat, LedgerSink, Written,
};
use seam_flow::{ErrorClass, ErrorKind};
use serde_json::{Map, Value, json};

fn entry(key: &str, fields: Value) -> LedgerEntry {
    let Value::Object(fields) = fields else { panic!("fields must be an object") };
    LedgerEntry {
        idempotency_key: key.to_owned(),
        ledger: "finance".to_owned(),
        run_id: "r1".to_owned(),
        workflow: "failed-payment-recovery".to_owned(),
        at: "2026-05-01T09:00:00Z".to_owned(),
        fields,
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn json_lines(path: &Path) -> Vec<Value> {
    read(path).lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

/// The CSV file as header + rows of strings, parsed strictly (every row as long as the header).
fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

fn append_raw(path: &Path, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(bytes).unwrap();
}

#[tokio::test]
async fn json_lines_drop_duplicates_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("finance.jsonl");
    let first = entry("seam-r1-record-1", json!({ "invoice": "in_1", "amount_minor": 4900, "paid": true }));
    let second = entry("seam-r2-record-1", json!({ "invoice": "in_2", "amount_minor": null }));

    let sink = LedgerSink::File(FileSink::open(&path, LedgerFormat::JsonLines).await.unwrap());
    assert_eq!(sink.write(&first).await.unwrap(), Written::Appended);
    assert_eq!(sink.write(&first).await.unwrap(), Written::Duplicate);
    drop(sink);

    let sink = FileSink::open(&path, LedgerFormat::JsonLines).await.unwrap();
    assert_eq!(sink.write(&first).await.unwrap(), Written::Duplicate);
    assert_eq!(sink.write(&second).await.unwrap(), Written::Appended);
    assert_eq!(sink.write(&second).await.unwrap(), Written::Duplicate);
    drop(sink);

    let text = read(&path);
    assert!(text.starts_with(
        "{\"at\":\"2026-05-01T09:00:00Z\",\"ledger\":\"finance\",\"workflow\":\"failed-payment-recovery\",\
         \"run_id\":\"r1\",\"idempotency_key\":\"seam-r1-record-1\","
    ));
    assert_eq!(
        json_lines(&path),
        [
            json!({
                "at": "2026-05-01T09:00:00Z", "ledger": "finance", "workflow": "failed-payment-recovery",
                "run_id": "r1", "idempotency_key": "seam-r1-record-1",
                "invoice": "in_1", "amount_minor": 4900, "paid": true,
            }),
            json!({
                "at": "2026-05-01T09:00:00Z", "ledger": "finance", "workflow": "failed-payment-recovery",
                "run_id": "r1", "idempotency_key": "seam-r2-record-1",
                "invoice": "in_2", "amount_minor": null,
            }),
        ]
    );
}

#[tokio::test]
async fn json_lines_nest_fields_that_collide_with_fixed_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("finance.jsonl");
    let sink = FileSink::open(&path, LedgerFormat::JsonLines).await.unwrap();
    let fields = json!({
        "run_id": "theirs", "at": "yesterday", "fields": [1], "note": "kept on top", "nested": { "a": 1 },
    });
    let colliding = entry("k1", fields);
    sink.write(&colliding).await.unwrap();
    assert_eq!(
        json_lines(&path),
        [json!({
            "at": "2026-05-01T09:00:00Z", "ledger": "finance", "workflow": "failed-payment-recovery",
            "run_id": "r1", "idempotency_key": "k1",
            "note": "kept on top", "nested": { "a": 1 },
            "fields": { "run_id": "theirs", "at": "yesterday", "fields": [1] },
        })]
    );
}

#[tokio::test]
async fn csv_drops_duplicates_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("finance.csv");
    let first = entry("seam-r1-record-1", json!({ "outcome": "recovered", "amount_minor": 4900 }));
    let second =
        entry("seam-r2-record-1", json!({ "outcome": "written off, \"bad\"\nsee notes", "amount_minor": 0 }));

    let sink = FileSink::open(&path, LedgerFormat::Csv).await.unwrap();
    assert_eq!(sink.write(&first).await.unwrap(), Written::Appended);
    assert_eq!(sink.write(&first).await.unwrap(), Written::Duplicate);
    drop(sink);

    let sink = LedgerSink::File(FileSink::open(&path, LedgerFormat::Csv).await.unwrap());
    assert_eq!(sink.write(&first).await.unwrap(), Written::Duplicate);
    assert_eq!(sink.write(&second).await.unwrap(), Written::Appended);
    drop(sink);

    // A third opening sees the multi-line quoted cell as one entry.
    let sink = FileSink::open(&path, LedgerFormat::Csv).await.unwrap();
    assert_eq!(sink.write(&second).await.unwrap(), Written::Duplicate);
    drop(sink);

    assert!(
        read(&path).starts_with("at,ledger,workflow,run_id,idempotency_key,amount_minor,outcome,extra\n")
    );
    let (header, rows) = csv_rows(&path);
    assert_eq!(
        header,
        ["at", "ledger", "workflow", "run_id", "idempotency_key", "amount_minor", "outcome", "extra"]
    );
    assert_eq!(
        rows,
        [
            [
                "2026-05-01T09:00:00Z",
                "finance",
                "failed-payment-recovery",
                "r1",
                "seam-r1-record-1",
                "4900",
                "recovered",
                ""
            ],
            [
                "2026-05-01T09:00:00Z",
                "finance",
                "failed-payment-recovery",
                "r1",
                "seam-r2-record-1",
                "0",
                "written off, \"bad\"\nsee notes",
                "",
            ],
        ]
    );
}

#[tokio::test]
async fn csv_puts_fields_without_a_column_in_extra() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("finance.csv");
    let sink = FileSink::open(&path, LedgerFormat::Csv).await.unwrap();
    // The first entry fixes the columns; `ledger` and `extra` collide with fixed columns and go to `extra`.
    let first =
        entry("k1", json!({ "amount_minor": 4900, "outcome": "recovered", "ledger": "other", "extra": 1 }));
    let later = json!({
        "amount_minor": 100, "note": "new field", "lines": [1, 2], "template_errors": { "x": "undefined" },
    });
    let later = entry("k2", later);
    sink.write(&first).await.unwrap();
    sink.write(&later).await.unwrap();
    drop(sink);

    // The header stays as the first entry made it, across a reopen.
    let sink = FileSink::open(&path, LedgerFormat::Csv).await.unwrap();
    sink.write(&entry("k3", json!({ "outcome": "written_off", "flag": false, "nothing": null })))
        .await
        .unwrap();
    drop(sink);

    let (header, rows) = csv_rows(&path);
    assert_eq!(
        header,
        ["at", "ledger", "workflow", "run_id", "idempotency_key", "amount_minor", "outcome", "extra"]
    );
    let tail: Vec<&[String]> = rows.iter().map(|r| &r[4..]).collect();
    assert_eq!(tail[0], ["k1", "4900", "recovered", r#"{"extra":1,"ledger":"other"}"#]);
    assert_eq!(
        tail[1],
        ["k2", "100", "", r#"{"lines":[1,2],"note":"new field","template_errors":{"x":"undefined"}}"#]
    );
    assert_eq!(tail[2], ["k3", "", "written_off", r#"{"flag":false,"nothing":null}"#]);
    let extra: Value = serde_json::from_str(&rows[1][7]).unwrap();
    assert_eq!(extra["lines"], json!([1, 2]));
}

#[tokio::test]
async fn a_torn_json_line_is_cut_off_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("finance.jsonl");
    let sink = FileSink::open(&path, LedgerFormat::JsonLines).await.unwrap();
    sink.write(&entry("k1", json!({ "n": 1 }))).await.unwrap();
    sink.write(&entry("k2", json!({ "n": 2 }))).await.unwrap();
    drop(sink);
    let good = read(&path);

    // A crash in the middle of writing k3: part of its line, no newline.
    append_raw(&path, br#"{"at":"2026-05-01T09:00:00Z","ledger":"finance","workflow":"fa"#);
    let sink = FileSink::open(&path, LedgerFormat::JsonLines).await.unwrap();
    assert_eq!(read(&path), good, "the torn line is gone");
    // k3 was never acknowledged, so it is not a duplicate: the engine's re-send is written.
    assert_eq!(sink.write(&entry("k3", json!({ "n": 3 }))).await.unwrap(), Written::Appended);
    assert_eq!(sink.write(&entry("k2", json!({ "n": 2 }))).await.unwrap(), Written::Duplicate);
    drop(sink);
    let keys: Vec<Value> = json_lines(&path).iter().map(|l| l["idempotency_key"].clone()).collect();
    assert_eq!(keys, ["k1", "k2", "k3"]);
}

#[tokio::test]
async fn a_torn_csv_row_is_cut_off_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("finance.csv");
    let sink = FileSink::open(&path, LedgerFormat::Csv).await.unwrap();
    sink.write(&entry("k1", json!({ "note": "line one\nline two" }))).await.unwrap();
    drop(sink);
    let good = read(&path);

    // Torn right after a newline inside a quoted cell: the file ends with a newline, the row is unfinished.
    append_raw(&path, b"2026-05-01T09:00:00Z,finance,failed-payment-recovery,r1,k2,\"first line\n");
    let sink = FileSink::open(&path, LedgerFormat::Csv).await.unwrap();
    assert_eq!(read(&path), good);
    sink.write(&entry("k2", json!({ "note": "again" }))).await.unwrap();
    drop(sink);

    // Torn in the middle of a row, without a newline.
    append_raw(&path, b"2026-05-01T09:00:00Z,fin");
    let sink = FileSink::open(&path, LedgerFormat::Csv).await.unwrap();
    sink.write(&entry("k3", json!({ "note": "three" }))).await.unwrap();
    drop(sink);

    let (_, rows) = csv_rows(&path);
    let keys: Vec<&str> = rows.iter().map(|r| r[4].as_str()).collect();
    assert_eq!(keys, ["k1", "k2", "k3"]);
    assert_eq!(rows[0][5], "line one\nline two");
}

#[tokio::test]
async fn a_torn_csv_header_is_cut_off_and_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("finance.csv");
    std::fs::write(&path, "at,ledger,work").unwrap();
    let sink = FileSink::open(&path, LedgerFormat::Csv).await.unwrap();
    assert_eq!(read(&path), "");
    sink.write(&entry("k1", json!({ "n": 1 }))).await.unwrap();
    drop(sink);
    let (header, rows) = csv_rows(&path);
    assert_eq!(header, ["at", "ledger", "workflow", "run_id", "idempotency_key", "n", "extra"]);
    assert_eq!(rows.len(), 1);
}

#[tokio::test]
async fn damage_that_is_not_a_torn_last_entry_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();

    let jsonl = dir.path().join("finance.jsonl");
    std::fs::write(&jsonl, "{\"idempotency_key\":\"k1\"}\nnot json\n{\"idempotency_key\":\"k2\"}\n").unwrap();
    match FileSink::open(&jsonl, LedgerFormat::JsonLines).await {
        Err(LedgerError::Corrupt { line: 2, .. }) => {}
        other => panic!("expected corrupt line 2, got {other:?}"),
    }

    let csv = dir.path().join("finance.csv");
    std::fs::write(&csv, "name,amount\nx,1\n").unwrap();
    let err = FileSink::open(&csv, LedgerFormat::Csv).await.unwrap_err();
    assert!(matches!(err, LedgerError::Corrupt { line: 1, .. }), "{err:?}");
    assert!(err.to_string().contains("finance.csv"), "{err}");
    assert_eq!(read(&csv), "name,amount\nx,1\n", "nothing was cut");
}

#[tokio::test]
async fn a_second_sink_on_the_same_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("finance.jsonl");
    let sink = FileSink::open(&path, LedgerFormat::JsonLines).await.unwrap();
    let err = FileSink::open(&path, LedgerFormat::JsonLines).await.unwrap_err();
    assert!(matches!(err, LedgerError::Locked { .. }), "{err:?}");
    drop(sink);
    FileSink::open(&path, LedgerFormat::JsonLines).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_are_serialized() {
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in [("finance.jsonl", LedgerFormat::JsonLines), ("finance.csv", LedgerFormat::Csv)] {
        let path = dir.path().join(name);
        let sink = LedgerSink::File(FileSink::open(&path, format).await.unwrap());
        let mut tasks = Vec::new();
        for i in 0..40 {
            let sink = sink.clone();
            // Each key is sent twice.
            let key = format!("k{}", i % 20);
            let fields = json!({ "i": i % 20, "payload": "x".repeat(2000) });
            tasks.push(tokio::spawn(async move { sink.write(&entry(&key, fields)).await.unwrap() }));
        }
        let mut appended = 0;
        for task in tasks {
            if task.await.unwrap() == Written::Appended {
                appended += 1;
            }
        }
        assert_eq!(appended, 20, "{name}");
        drop(sink);
        let mut keys: Vec<String> = match format {
            LedgerFormat::JsonLines => {
                json_lines(&path).iter().map(|l| l["idempotency_key"].as_str().unwrap().to_owned()).collect()
            }
            LedgerFormat::Csv => csv_rows(&path).1.into_iter().map(|r| r[4].clone()).collect(),
        };
        keys.sort();
        let mut expected: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
        expected.sort();
        assert_eq!(keys, expected, "{name}");
    }
}

/// A ledger endpoint that stores entries by key and answers 409 to a key it has.
#[derive(Default)]
struct Endpoint {
    entries: Mutex<HashMap<String, (Value, Option<String>)>>,
}

async fn ledger_endpoint(
    State(endpoint): State<Arc<Endpoint>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match uri.path() {
        "/fail" => {
            return (StatusCode::SERVICE_UNAVAILABLE, "ledger is down for maintenance").into_response();
        }
        "/reject" => {
            return (StatusCode::UNPROCESSABLE_ENTITY, "{\"error\":\"amount required\"}").into_response();
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            return StatusCode::CREATED.into_response();
        }
        _ => {}
    }
    let key = headers.get("idempotency-key").unwrap().to_str().unwrap().to_owned();
    let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
    let body: Value = serde_json::from_slice(&body).unwrap();
    let mut entries = endpoint.entries.lock().unwrap();
    if entries.contains_key(&key) {
        return StatusCode::CONFLICT.into_response();
    }
    entries.insert(key, (body, auth));
    StatusCode::CREATED.into_response()
}

async fn start_endpoint() -> (String, Arc<Endpoint>) {
    let endpoint = Arc::new(Endpoint::default());
    let app = Router::new().fallback(ledger_endpoint).with_state(Arc::clone(&endpoint));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, endpoint)
}

#[tokio::test]
async fn the_http_sink_posts_the_entry_with_its_key() {
    let (base, endpoint) = start_endpoint().await;
    let headers = vec![("Authorization".to_owned(), "Bearer ledger-token".to_owned())];
    let sink = LedgerSink::Http(HttpSink::new(format!("{base}/entries"), headers));
    let first = entry("seam-r1-record-1", json!({ "amount_minor": 4900 }));
    assert_eq!(sink.write(&first).await.unwrap(), Written::Appended);
    assert_eq!(sink.write(&first).await.unwrap(), Written::Duplicate);

    let entries = endpoint.entries.lock().unwrap();
    let (body, auth) = &entries["seam-r1-record-1"];
    assert_eq!(auth.as_deref(), Some("Bearer ledger-token"));
    assert_eq!(serde_json::from_value::<LedgerEntry>(body.clone()).unwrap(), first);
    let mut fields = Map::new();
    fields.insert("amount_minor".to_owned(), json!(4900));
    assert_eq!(body["fields"], Value::Object(fields));
}

#[tokio::test]
async fn the_http_sink_reports_failures_with_their_class() {
    let (base, _endpoint) = start_endpoint().await;
    let e = entry("k1", json!({}));

    let down = HttpSink::new(format!("{base}/fail?token=s3cret"), vec![]);
    match down.write(&e).await.unwrap_err() {
        err @ LedgerError::Rejected {
            status: 503,
            class: ErrorClass::Retryable(ErrorKind::ServerError),
            ..
        } => {
            let message = err.to_string();
            assert!(message.contains("HTTP 503") && message.contains("down for maintenance"), "{message}");
            assert!(!message.contains("s3cret"), "{message}");
            assert!(err.is_retryable());
        }
        other => panic!("expected a 503 rejection, got {other:?}"),
    }

    let rejecting = HttpSink::new(format!("{base}/reject"), vec![]);
    let err = rejecting.write(&e).await.unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::Rejected { status: 422, class: ErrorClass::Fatal(ErrorKind::Request), .. }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("amount required"), "{err}");
    assert!(!err.is_retryable());

    let slow = HttpSink::with_timeout(format!("{base}/slow"), vec![], Duration::from_millis(200));
    let err = slow.write(&e).await.unwrap_err();
    assert!(
        matches!(err, LedgerError::Transport { class: ErrorClass::Retryable(ErrorKind::Timeout), .. }),
        "{err:?}"
    );

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}/entries", listener.local_addr().unwrap());
    drop(listener);
    let err = HttpSink::new(&closed, vec![]).write(&e).await.unwrap_err();
    assert!(
        matches!(err, LedgerError::Transport { class: ErrorClass::Retryable(ErrorKind::Network), .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_misconfigured_http_sink_fails_every_write() {
    for (url, headers) in [
        ("not a url", vec![]),
        ("ftp://ledger.example.com/x", vec![]),
        ("https://ledger.example.com/x", vec![("bad name".to_owned(), "x".to_owned())]),
        ("https://ledger.example.com/x", vec![("x-a".to_owned(), "a\nb".to_owned())]),
    ] {
        let sink = HttpSink::new(url, headers);
        let err = sink.check().unwrap_err();
        assert!(matches!(err, LedgerError::Config(_)), "{url}: {err:?}");
        // Every write fails with the same reason, without a request.
        let written = sink.write(&entry("k1", json!({}))).await.unwrap_err();
        assert_eq!(written.to_string(), err.to_string());
        assert!(!written.is_retryable());
    }
}

#[tokio::test]
async fn an_http_sink_probe_writes_nothing_and_reports_any_answer() {
    let posts = Arc::new(Mutex::new(0_usize));
    let counter = Arc::clone(&posts);
    let app = Router::new().route(
        "/entries",
        axum::routing::post(move || {
            let counter = Arc::clone(&counter);
            async move {
                *counter.lock().unwrap() += 1;
                StatusCode::CREATED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // A POST-only endpoint answers HEAD with 405: it answers, which is what the probe asks.
    assert_eq!(HttpSink::new(format!("{base}/entries"), vec![]).probe().await.unwrap(), 405);
    assert_eq!(HttpSink::new(format!("{base}/elsewhere"), vec![]).probe().await.unwrap(), 404);
    assert_eq!(*posts.lock().unwrap(), 0, "the probe posts no entry");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}/entries?token=s3cret", closed.local_addr().unwrap());
    drop(closed);
    let error = HttpSink::new(closed_url, vec![]).probe().await.unwrap_err();
    assert!(matches!(error, LedgerError::Transport { .. }), "{error}");
    assert!(!error.to_string().contains("s3cret"), "{error}");
    assert!(matches!(HttpSink::new("ftp://x", vec![]).probe().await, Err(LedgerError::Config(_))));
}
