//! `seam demo`: the failed-payment playbook against the built-in Stripe sandbox, a month of failed renewals
//! replayed on an accelerated clock, and a summary computed from the ledger file it wrote.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use seam_connectors::Connector;
use seam_connectors::stripe::StripeConnector;
use seam_flow::{Clock, Timestamp};
use seam_runtime::{AcceleratedClock, Config, InboxRoute, LedgerConfig, SourceConfig};
use serde_json::{Value, json};

use crate::InputError;
use crate::cli::{DemoArgs, SandboxArgs};
use crate::engine_cmd::{install_tls_provider, shutdown_signal};

/// The playbook the demo runs, as shipped in `playbooks/`.
pub const PLAYBOOK: &str = include_str!("../../../playbooks/failed-payment-recovery.toml");

/// The demo's month starts on Monday 2 March 2026, 09:00 UTC.
const MONTH_START: i64 = 1_772_442_000;
const DAY: i64 = 86_400;
/// After the last renewal, the time runs on long enough for every schedule to finish (1 + 3 + 5 days of retries,
/// weekends, payday nudges, the 7-day card-update wait).
const TAIL_DAYS: i64 = 16;
const API_KEY: &str = "sk_test_seam_demo";

/// The files of one demo run.
struct DemoFiles {
    dir: PathBuf,
    db: PathBuf,
    ledger: PathBuf,
}

fn prepare(dir: &Path) -> anyhow::Result<DemoFiles> {
    std::fs::create_dir_all(dir.join("playbooks"))
        .with_context(|| format!("cannot create the demo folder {}", dir.display()))?;
    let db = dir.join("seam.db");
    let ledger = dir.join("ledger.csv");
    // A fresh start each time: the demo owns these files and nothing else in the folder.
    for file in [db.clone(), dir.join("seam.db-wal"), dir.join("seam.db-shm"), ledger.clone()] {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error).with_context(|| format!("cannot remove {}", file.display())),
        }
    }
    std::fs::write(dir.join("playbooks/failed-payment-recovery.toml"), PLAYBOOK)?;
    Ok(DemoFiles { dir: dir.to_owned(), db, ledger })
}

pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    if !(args.seconds_per_day > 0.0 && args.seconds_per_day <= 60.0) {
        return Err(InputError("--seconds-per-day: give a number above 0 and at most 60".to_owned()).into());
    }
    if args.invoices == 0 || args.invoices > 1000 {
        return Err(InputError("--invoices: give a number from 1 to 1000".to_owned()).into());
    }
    crate::engine_cmd::init_logs(crate::cli::LogFormat::Text, "warn,sqlx=error");
    install_tls_provider();
    let dir = args.data_dir.clone().unwrap_or_else(|| PathBuf::from("seam-demo"));
    let files = prepare(&dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(args, files))
}

async fn run(args: DemoArgs, files: DemoFiles) -> anyhow::Result<()> {
    let secret = format!("whsec_demo_{}", uuid::Uuid::new_v4().simple());
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(listener) => listener,
        Err(error) if args.listen == crate::engine_cmd::DEFAULT_LISTEN => {
            eprintln!("seam demo: {} is taken ({error}); using another port", args.listen);
            tokio::net::TcpListener::bind("127.0.0.1:0").await?
        }
        Err(error) => {
            return Err(error).with_context(|| format!("cannot listen on {} (--listen)", args.listen));
        }
    };
    let engine_url = format!("http://{}", listener.local_addr()?);

    let sandbox_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sandbox = seam_sandbox::start(
        seam_sandbox::SandboxConfig {
            seed: args.seed,
            webhook_url: Some(format!("{engine_url}/webhooks/stripe")),
            webhook_secret: secret.clone(),
            api_key: Some(API_KEY.to_owned()),
            ..seam_sandbox::SandboxConfig::default()
        },
        sandbox_listener,
    )
    .await?;
    let sandbox_url = sandbox.url();

    let mut config = Config::default();
    config.workflows.push(files.dir.join("playbooks"));
    config.sources.insert(
        "stripe".to_owned(),
        SourceConfig { kind: None, secrets: vec![secret], tolerance_secs: 300, header: None },
    );
    config.ledger =
        Some(LedgerConfig { path: Some(files.ledger.clone()), format: Some("csv".to_owned()), url: None });
    config.inbox.routes.push(InboxRoute {
        team: Some("finance".to_owned()),
        min_amount_minor: Some(20_000),
        assignee: "controller@yourbrand.example".to_owned(),
        ..InboxRoute::default()
    });
    config.inbox.routes.push(InboxRoute {
        team: Some("finance".to_owned()),
        assignee: "finance@yourbrand.example".to_owned(),
        ..InboxRoute::default()
    });
    config.engine.poll_ms = 10;
    config.engine.reconcile_secs = 5;

    let factor = DAY as f64 / args.seconds_per_day;
    let clock = Arc::new(AcceleratedClock::new(Timestamp::from_unix_seconds(MONTH_START), factor));
    let store = seam_store::open(&format!("sqlite:{}", files.db.display())).await?;
    let stripe: Arc<dyn Connector> =
        Arc::new(StripeConnector::new(sandbox_url.clone(), API_KEY, Duration::from_secs(10)));
    let server = seam_web::start(
        &config,
        seam_web::ServerOptions {
            store: store.clone(),
            clock: clock.clone(),
            listener,
            default_ledger: None,
            connectors: BTreeMap::from([("stripe".to_owned(), stripe)]),
        },
    )
    .await?;

    println!(
        "seam demo: replaying a month of failed subscription renewals ({} invoices) against the Stripe sandbox,",
        args.invoices
    );
    println!("           one day every {} s; the engine is at {engine_url}", args.seconds_per_day);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let mut invoices: Vec<Value> = Vec::new();
    let month = 30 * DAY;
    let spacing = month / i64::try_from(args.invoices).unwrap_or(1);
    let mut paid_elsewhere: Vec<(i64, String)> = Vec::new();
    let mut last_day_shown = -1;
    while invoices.len() < args.invoices || !paid_elsewhere.is_empty() {
        let now = clock.now().unix_seconds();
        while invoices.len() < args.invoices
            && MONTH_START + spacing * i64::try_from(invoices.len()).unwrap_or(0) <= now
        {
            let created =
                post_json(&client, &format!("{sandbox_url}/_sandbox/renewals"), json!({ "count": 1 }))
                    .await
                    .context("creating a renewal in the sandbox")?;
            let invoice = created["data"][0].clone();
            anyhow::ensure!(invoice["id"].is_string(), "the sandbox made no invoice: {created}");
            let n = invoices.len();
            // Every seventh customer pays by themselves two days later (a new card on the hosted page, or a
            // bank transfer): Stripe sends invoice.paid, which cancels whatever the run was doing.
            if n % 7 == 3
                && let Some(id) = invoice["id"].as_str()
            {
                paid_elsewhere.push((now + 2 * DAY, id.to_owned()));
            }
            invoices.push(invoice);
        }
        let mut due = Vec::new();
        paid_elsewhere.retain(|(at, id)| {
            let is_due = *at <= now;
            if is_due {
                due.push(id.clone());
            }
            !is_due
        });
        for id in due {
            // An invoice that the retries already recovered answers 400 (already paid); that is the story too.
            client
                .post(format!("{sandbox_url}/_sandbox/invoices/{id}/pay_out_of_band"))
                .send()
                .await
                .context("paying an invoice out of band in the sandbox")?;
        }
        let day = (now - MONTH_START) / DAY;
        if day != last_day_shown && day % 5 == 0 {
            last_day_shown = day;
            println!("  day {day:>2}: {} renewals failed so far", invoices.len());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Let every schedule run out.
    let end = MONTH_START + month + TAIL_DAYS * DAY;
    let mut over_since: Option<std::time::Instant> = None;
    loop {
        let now = clock.now().unix_seconds();
        let busy = busy_runs(&client, &engine_url).await?;
        if now >= end && busy == 0 {
            break;
        }
        // On a loaded machine the engine may trail the clock; give it real time, not only simulated days.
        let over = *over_since.get_or_insert_with(std::time::Instant::now);
        if now >= end + 30 * DAY && over.elapsed() > Duration::from_secs(120) {
            eprintln!(
                "seam demo: {busy} runs were still busy after the replay; the summary shows them as running"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The ledger sink writes shortly after each commit; wait until it holds every recorded entry.
    server.engine.ship_ledger().await?;

    let summary = summarize(&files, &engine_url, &client, invoices.len()).await?;
    print!("{summary}");
    if args.once {
        server.stop().await;
        sandbox.stop().await;
        return Ok(());
    }
    println!("\nSeam and the sandbox keep running so you can look around; press ctrl-c to stop.");
    shutdown_signal().await;
    server.stop().await;
    sandbox.stop().await;
    println!("seam demo: stopped");
    Ok(())
}

async fn post_json(client: &reqwest::Client, url: &str, body: Value) -> anyhow::Result<Value> {
    let response = client.post(url).json(&body).send().await?;
    let status = response.status();
    let reply: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        anyhow::bail!("{url} answered {status}: {reply}");
    }
    Ok(reply)
}

/// Runs that are live and not waiting for a person.
async fn busy_runs(client: &reqwest::Client, engine: &str) -> anyhow::Result<usize> {
    let runs: Value =
        client.get(format!("{engine}/api/runs?status=running&limit=10000")).send().await?.json().await?;
    Ok(runs["runs"]
        .as_array()
        .map(|runs| runs.iter().filter(|run| run["waiting"]["for"] != "decision").count())
        .unwrap_or_default())
}

fn dollars(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.abs();
    let whole = (minor / 100).to_string();
    let mut grouped = String::new();
    for (n, digit) in whole.chars().enumerate() {
        if n > 0 && (whole.len() - n).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}${grouped}.{:02}", minor % 100)
}

/// One ledger line, as the summary reads it back from the CSV file.
#[derive(Debug, Clone)]
struct LedgerLine {
    invoice: String,
    customer: String,
    outcome: String,
    attempts: String,
    recovered_minor: i64,
    written_off_minor: i64,
}

fn read_ledger(path: &Path) -> anyhow::Result<Vec<LedgerLine>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (invoice, customer, outcome, attempts, recovered, written_off) = (
        column("invoice"),
        column("customer"),
        column("outcome"),
        column("attempts"),
        column("recovered_minor"),
        column("written_off_minor"),
    );
    let mut lines = Vec::new();
    for record in reader.records() {
        let record = record?;
        let get = |index: Option<usize>| index.and_then(|i| record.get(i)).unwrap_or_default().to_owned();
        lines.push(LedgerLine {
            invoice: get(invoice),
            customer: get(customer),
            outcome: get(outcome),
            attempts: get(attempts),
            recovered_minor: get(recovered).parse().unwrap_or_default(),
            written_off_minor: get(written_off).parse().unwrap_or_default(),
        });
    }
    Ok(lines)
}

async fn summarize(
    files: &DemoFiles,
    engine: &str,
    client: &reqwest::Client,
    failed: usize,
) -> anyhow::Result<String> {
    use std::fmt::Write;
    let lines = if files.ledger.exists() { read_ledger(&files.ledger)? } else { Vec::new() };
    let inbox: Value =
        client.get(format!("{engine}/api/inbox?status=open&limit=1000")).send().await?.json().await?;
    let items = inbox["items"].as_array().cloned().unwrap_or_default();
    let escalated_minor: i64 = items.iter().filter_map(|item| item["context"]["amount_minor"].as_i64()).sum();
    let recovered: Vec<&LedgerLine> = lines.iter().filter(|l| l.recovered_minor > 0).collect();
    let by_retry: Vec<&&LedgerLine> = recovered.iter().filter(|l| l.outcome != "cancelled").collect();
    let by_customer: Vec<&&LedgerLine> = recovered.iter().filter(|l| l.outcome == "cancelled").collect();
    let written_off: Vec<&LedgerLine> = lines.iter().filter(|l| l.written_off_minor > 0).collect();
    let sum = |lines: &[&&LedgerLine]| lines.iter().map(|l| l.recovered_minor).sum::<i64>();
    let recovered_minor: i64 = recovered.iter().map(|l| l.recovered_minor).sum();
    let running = busy_runs(client, engine).await?;

    let mut out = String::new();
    let _ = writeln!(out, "\nRecovery summary (from {})", files.ledger.display());
    let _ = writeln!(out, "  failed invoices          {failed:>4}");
    let _ = writeln!(out, "  recovered                {:>4}   {}", recovered.len(), dollars(recovered_minor));
    let _ = writeln!(
        out,
        "    by a Seam retry        {:>4}   {}   (outcome recovered)",
        by_retry.len(),
        dollars(sum(&by_retry))
    );
    let _ = writeln!(
        out,
        "    invoice.paid arrived   {:>4}   {}   (outcome cancelled: paid by the customer, or Stripe's event beat the retry's answer)",
        by_customer.len(),
        dollars(sum(&by_customer))
    );
    let _ = writeln!(
        out,
        "  escalated to finance     {:>4}   {}   (open in the inbox)",
        items.len(),
        dollars(escalated_minor)
    );
    if !written_off.is_empty() {
        let minor: i64 = written_off.iter().map(|l| l.written_off_minor).sum();
        let _ = writeln!(out, "  written off              {:>4}   {}", written_off.len(), dollars(minor));
    }
    if running > 0 {
        let _ = writeln!(out, "  still running            {running:>4}");
    }
    let _ = writeln!(
        out,
        "\nLedger file: {} ({} lines, one per recorded outcome)",
        files.ledger.display(),
        lines.len()
    );
    let _ = writeln!(
        out,
        "  {:<30} {:<30} {:<10} {:>8} {:>12}",
        "invoice", "customer", "outcome", "attempts", "recovered"
    );
    for line in &lines {
        let _ = writeln!(
            out,
            "  {:<30} {:<30} {:<10} {:>8} {:>12}",
            line.invoice,
            line.customer,
            line.outcome,
            line.attempts,
            dollars(line.recovered_minor)
        );
    }
    let _ = writeln!(out, "\nEscalated, waiting for a decision:");
    for item in &items {
        let _ = writeln!(
            out,
            "  {}  {}  (assigned to {}, due {})",
            item["title"].as_str().unwrap_or_default(),
            dollars(item["context"]["amount_minor"].as_i64().unwrap_or_default()),
            item["assignee"].as_str().unwrap_or_default(),
            item["due_at"].as_str().unwrap_or_default()
        );
    }
    let _ = writeln!(out, "\nWhere to look:");
    let _ = writeln!(
        out,
        "  inbox      {engine}/api/inbox   (POST .../{{id}}/resolve, retry or dismiss with {{\"by\": \"you\"}})"
    );
    let _ = writeln!(out, "  runs       {engine}/api/runs");
    let _ = writeln!(out, "  ledger     {engine}/api/ledger   and {}", files.ledger.display());
    let _ = writeln!(out, "  metrics    {engine}/metrics");
    let _ = writeln!(
        out,
        "  database   {}   (seam audit export --db sqlite:{} --format csv)",
        files.db.display(),
        files.db.display()
    );
    Ok(out)
}

/// `seam sandbox`: the Stripe stand-in on its own, until ctrl-c or SIGTERM.
pub fn sandbox(args: SandboxArgs) -> anyhow::Result<()> {
    crate::engine_cmd::init_logs(crate::cli::LogFormat::Text, "warn,sqlx=error");
    install_tls_provider();
    let secret = crate::trigger::signing_secret(args.secret.clone())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {} (--listen)", args.listen))?;
        let sandbox = seam_sandbox::start(
            seam_sandbox::SandboxConfig {
                seed: args.seed,
                webhook_url: Some(args.webhook_url.clone()),
                webhook_secret: secret,
                api_key: args.api_key.clone(),
                ..seam_sandbox::SandboxConfig::default()
            },
            listener,
        )
        .await?;
        let url = sandbox.url();
        println!("seam sandbox: Stripe stand-in on {url}, delivering events to {}", args.webhook_url);
        println!("  make failed renewals:  curl -X POST {url}/_sandbox/renewals -d '{{\"count\": 3}}'");
        println!(
            "  point Seam at it:      SEAM_STRIPE_API_KEY=sk_test_x SEAM_STRIPE_BASE_URL={url} seam serve"
        );
        println!("  calls per key:         curl {url}/_sandbox/calls");
        shutdown_signal().await;
        sandbox.stop().await;
        println!("seam sandbox: stopped");
        Ok(())
    })
}
