//! Intake benchmark: signed webhooks accepted per second, and acknowledgement latency, on SQLite.
//!
//! Starts the real server in-process on a fresh SQLite file (WAL, synchronous=FULL: every acknowledged event is on
//! disk), with a workflow that listens to the events (so the engine routes them while intake runs), and sends
//! signed Stripe-style events over real HTTP from concurrent clients. Each event is acknowledged only after its
//! transaction committed.
//!
//!     cargo bench -p seam-web --bench intake [-- EVENTS CLIENTS]
//!
//! Prints events/s and p50/p99/max acknowledgement latency. Figures are recorded in docs/benchmarks.md.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use seam_flow::SystemClock;
use seam_runtime::Config;
use seam_web::ServerOptions;

const SECRET: &str = "whsec_bench";

const WORKFLOW: &str = r#"
name = "bench"
zone = "order_to_cash"
version = 1

[trigger]
source = "stripe"
event = "invoice.payment_failed"
key = "{{ event.data.object.id }}"

[[steps]]
id = "hold"
wait = "30d"
"#;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let events: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let clients: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run(events, clients));
}

async fn run(events: usize, clients: usize) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("workflows")).unwrap();
    // SEAM_BENCH_UNMATCHED=1 measures intake alone: no workflow listens, so nothing is routed.
    if std::env::var("SEAM_BENCH_UNMATCHED").is_err() {
        std::fs::write(dir.path().join("workflows/bench.toml"), WORKFLOW).unwrap();
    }
    std::fs::write(
        dir.path().join("seam.toml"),
        format!("workflows = [\"workflows\"]\n[sources.stripe]\nsecrets = [\"{SECRET}\"]\n"),
    )
    .unwrap();
    let config = Config::load(&dir.path().join("seam.toml")).unwrap();
    let db = format!("sqlite:{}", dir.path().join("seam.db").display());
    let store = seam_store::open(&db).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = seam_web::start(
        &config,
        ServerOptions {
            store: store.clone(),
            clock: Arc::new(SystemClock),
            listener,
            default_ledger: None,
            connectors: BTreeMap::new(),
        },
    )
    .await
    .unwrap();
    let url = format!("{}/webhooks/stripe", server.url());

    // Pre-build bodies and signatures so the clients measure the server, not the signing.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let bodies: Vec<(String, String)> = (0..events)
        .map(|n| {
            let body = format!(
                r#"{{"id":"evt_bench_{n}","object":"event","type":"invoice.payment_failed","data":{{"object":{{"id":"in_{n}","amount_due":4900,"currency":"usd"}}}}}}"#
            );
            let signature = seam_connectors::verify::stripe_signature_header(body.as_bytes(), SECRET, now);
            (body, signature)
        })
        .collect();
    let bodies = Arc::new(bodies);
    let client = reqwest::Client::builder().pool_max_idle_per_host(clients).build().unwrap();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (client, url, bodies, next) = (client.clone(), url.clone(), bodies.clone(), next.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((body, signature)) = bodies.get(n) else { return latencies };
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .header("Stripe-Signature", signature)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                let _ = response.bytes().await;
                latencies.push(sent.elapsed());
            }
        });
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(events);
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let stored = store.count_events().await.unwrap();
    assert_eq!(stored as usize, events, "every acknowledged event is stored");
    println!("intake on SQLite: {events} signed events from {clients} concurrent clients");
    println!(
        "  accepted: {:.0} events/s ({:.2} s)",
        events as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "  ack latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3
    );
    server.stop().await;
}
