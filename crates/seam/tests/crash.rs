//! The crash test: a burst of 1,000 distinct signed events whose workflow calls a mock HTTP service, while the real
//! `seam serve` process is killed with SIGKILL at random moments and restarted on the same database. Afterwards:
//! every acknowledged event was processed, no idempotency key stands for two different outcomes, no run is stuck.
//! Run on a fresh SQLite file and on a fresh PostgreSQL database.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};

const EVENTS: usize = 1000;
const SECRET: &str = "crash-secret";

/// A payment-like service: the first request under a key executes (a new charge id); a repeat under the same key
/// gets the saved answer, as Stripe does. It records every key's bodies so a key sent with two different bodies
/// shows up.
#[derive(Default)]
struct Service {
    next: AtomicU64,
    saved: Mutex<HashMap<String, Value>>,
    bodies: Mutex<HashMap<String, BTreeSet<String>>>,
    executions: AtomicU64,
    requests: AtomicU64,
}

async fn charge(State(service): State<Arc<Service>>, headers: HeaderMap, body: String) -> axum::Json<Value> {
    service.requests.fetch_add(1, Ordering::SeqCst);
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    service.bodies.lock().unwrap().entry(key.clone()).or_default().insert(body);
    // A little latency widens the window in which a kill lands between the request and its commit.
    tokio::time::sleep(Duration::from_millis(2)).await;
    let mut saved = service.saved.lock().unwrap();
    let answer = saved
        .entry(key)
        .or_insert_with(|| {
            service.executions.fetch_add(1, Ordering::SeqCst);
            json!({ "charge": service.next.fetch_add(1, Ordering::SeqCst) })
        })
        .clone();
    axum::Json(answer)
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

const WORKFLOW: &str = r#"
name = "burst"
zone = "order_to_cash"
version = 1

[trigger]
source = "load"
event = "job.created"
key = "{{ event.data.id }}"

[[steps]]
id = "charge"
call = "http"
with = { method = "POST", url = "MOCK/charge", json = { job = "{{ trigger.data.id }}" } }
schedule = { attempts = 5, after = ["0s", "1s"] }
retry_on = ["server_error", "timeout", "network"]

[[steps]]
id = "record"
[steps.record]
ledger = "burst"
job = "{{ trigger.data.id }}"
charge = "{{ steps.charge.result.body.charge }}"
"#;

struct Server {
    child: Child,
    url: String,
}

fn start_server(dir: &std::path::Path, db: &str, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args(["serve", "--config"])
        .arg(dir.join("seam.toml"))
        .args(["--db", db, "--listen", &format!("127.0.0.1:{port}")])
        .env("SEAM_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start seam serve");
    Server { child, url: format!("http://127.0.0.1:{port}") }
}

/// An admin token for the API, made with `seam tokens create` in the test's database.
fn admin_token(db: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args(["tokens", "create", "--db", db, "--name", "crash-test", "--role", "admin"])
        .stdin(Stdio::null())
        .output()
        .expect("run seam tokens create");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

async fn wait_healthy(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(response) = client.get(format!("{url}/healthz")).send().await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("seam serve did not become healthy at {url}");
}

fn signed(n: usize) -> (String, String) {
    let body = json!({ "id": format!("evt_{n:04}"), "type": "job.created", "data": { "id": format!("job_{n:04}") } })
        .to_string();
    let signature = seam_connectors::verify::generic_signature(body.as_bytes(), SECRET);
    (body, signature)
}

async fn crash_test(db: &str, dir: &tempfile::TempDir) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let service = Arc::new(Service::default());
    let app = axum::Router::new().route("/charge", post(charge)).with_state(service.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mock = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    std::fs::create_dir_all(dir.path().join("workflows")).unwrap();
    std::fs::write(
        dir.path().join("workflows/burst.toml"),
        WORKFLOW.replace("MOCK", &format!("http://{mock}")),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("seam.toml"),
        format!(
            "workflows = [\"workflows\"]\n[sources.load]\nkind = \"generic\"\nsecrets = [\"{SECRET}\"]\n\
             [http]\nallow_hosts = [\"{mock}\"]\ntimeout_secs = 5\n[ledger]\npath = \"ledger.jsonl\"\n\
             [engine]\npoll_ms = 50\nlease_secs = 2\nreconcile_secs = 1\n"
        ),
    )
    .unwrap();

    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let token = admin_token(db);
    let port = free_port();
    let mut server = start_server(dir.path(), db, port);
    wait_healthy(&client, &server.url).await;

    // Kill points: after these many acknowledgements (pseudo-random but reproducible per run).
    let seed = std::process::id() as usize;
    let mut kills: Vec<usize> =
        (0..4).map(|i| 100 + (seed.wrapping_mul(7919).wrapping_add(i * 211)) % 800).collect();
    kills.sort_unstable();
    let mut acknowledged: BTreeSet<usize> = BTreeSet::new();
    let mut next = 0;
    let mut restarts = 0;
    while acknowledged.len() < EVENTS {
        // Send a window of events in parallel; a kill can land while some are in flight.
        let window: Vec<usize> =
            (0..EVENTS).filter(|n| !acknowledged.contains(n)).skip(next % 7).take(40).collect();
        let window = if window.is_empty() {
            (0..EVENTS).filter(|n| !acknowledged.contains(n)).take(40).collect()
        } else {
            window
        };
        next += 1;
        let mut sends = tokio::task::JoinSet::new();
        for n in window {
            let client = client.clone();
            let url = format!("{}/webhooks/load", server.url);
            sends.spawn(async move {
                let (body, signature) = signed(n);
                let response = client.post(url).header("X-Seam-Signature", signature).body(body).send().await;
                (n, response.map(|r| r.status().as_u16()).ok())
            });
        }
        let kill_now = kills.first().is_some_and(|k| acknowledged.len() >= *k);
        if kill_now {
            // Kill while this window is in flight.
            tokio::time::sleep(Duration::from_millis((seed % 5) as u64)).await;
            server.child.kill().unwrap();
            server.child.wait().unwrap();
            kills.remove(0);
        }
        while let Some(done) = sends.join_next().await {
            let (n, status) = done.unwrap();
            if status == Some(200) {
                acknowledged.insert(n);
            }
        }
        if kill_now {
            restarts += 1;
            server = start_server(dir.path(), db, port);
            wait_healthy(&client, &server.url).await;
        }
    }
    assert!(restarts >= 3, "the server was killed {restarts} times");
    println!("{db}: {restarts} kills; {} events acknowledged", acknowledged.len());

    // Let it finish, then check.
    let deadline = Instant::now() + Duration::from_secs(120);
    let runs = loop {
        let body: Value = client
            .get(format!("{}/api/runs?limit=5000", server.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let runs = body["runs"].as_array().unwrap().clone();
        let finished = runs.iter().filter(|r| r["status"] == "succeeded").count();
        if finished == EVENTS || Instant::now() > deadline {
            break runs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let by_key: BTreeMap<String, &Value> =
        runs.iter().map(|r| (r["key"].as_str().unwrap().to_owned(), r)).collect();
    assert_eq!(runs.len(), EVENTS, "one run per acknowledged event, no duplicates");
    for n in 0..EVENTS {
        let run = by_key.get(&format!("job_{n:04}")).unwrap_or_else(|| panic!("job_{n:04} has no run"));
        assert_eq!(run["status"], "succeeded", "no run stuck: {run}");
    }
    // No key stands for two outcomes: each key was sent with one body only, executed once, and the charge the
    // engine recorded is the one the service saved for that key.
    let bodies = service.bodies.lock().unwrap().clone();
    for (key, sent) in &bodies {
        assert_eq!(sent.len(), 1, "key {key} was sent with different bodies: {sent:?}");
    }
    assert_eq!(service.executions.load(Ordering::SeqCst), EVENTS as u64, "one execution per run");
    let saved = service.saved.lock().unwrap().clone();
    let mut recorded = 0;
    for run in &runs {
        let id = run["id"].as_str().unwrap();
        let detail: Value = client
            .get(format!("{}/api/runs/{id}", server.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let result = &detail["state"]["steps"]["charge"]["result"]["body"];
        let key = format!("seam-{id}-charge-1");
        assert_eq!(
            Some(result),
            saved.get(&key),
            "run {id} recorded an outcome the service never gave for {key}"
        );
        recorded += 1;
    }
    assert_eq!(recorded, EVENTS);
    println!(
        "{db}: {} requests reached the service for {} executions (repeats answered from the saved result)",
        service.requests.load(Ordering::SeqCst),
        service.executions.load(Ordering::SeqCst)
    );
    // The ledger file holds each run's entry once.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(dir.path().join("ledger.jsonl")).unwrap_or_default();
        let jobs: Vec<String> = text
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap()["job"].as_str().unwrap().to_owned())
            .collect();
        let unique: BTreeSet<&String> = jobs.iter().collect();
        assert_eq!(unique.len(), jobs.len(), "a ledger entry was written twice");
        if jobs.len() == EVENTS {
            break;
        }
        assert!(Instant::now() < deadline, "ledger has {} of {EVENTS} entries", jobs.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_survives_sigkill_during_a_burst() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("seam.db").display());
    crash_test(&db, &dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_survives_sigkill_during_a_burst() {
    let Some(pg) = seam_store::testing::fresh_postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    crash_test(&pg.url, &dir).await;
}
