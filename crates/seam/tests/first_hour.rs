//! The first hour, as a new user lives it: the README's "Running the engine" sequence run against the built
//! binary (`seam sandbox`, `seam serve` configured by environment, `seam trigger`), and the Stripe connector
//! configured each way a user can (environment only, a `[stripe]` table, a config file without one plus the
//! environment) reaching the sandbox for real.

mod common;
#[path = "common/process.rs"]
mod process;

use std::path::Path;
use std::time::{Duration, Instant};

use common::World;
use process::{Process, free_port};
use serde_json::Value;

const SECRET: &str = "whsec_first_hour";
const API_KEY: &str = "sk_test_first_hour";

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

/// GETs the API with a token.
async fn get(url: &str, token: &str) -> Value {
    let response = client().get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    response.json().await.unwrap()
}

/// The repository's playbooks, copied where `seam serve` without `--config` looks: `./playbooks`.
fn with_playbooks(world: &World) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../playbooks");
    let here = world.path("playbooks");
    std::fs::create_dir_all(&here).unwrap();
    for entry in std::fs::read_dir(repo).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&path, here.join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// `seam sandbox` with an API key, delivering to `engine_port`.
fn sandbox(world: &World, engine_port: u16) -> (Process, String) {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let webhook = format!("http://127.0.0.1:{engine_port}/webhooks/stripe");
    let listen = format!("127.0.0.1:{port}");
    let mut process = Process::start(
        world.dir.path(),
        &[
            "sandbox",
            "--listen",
            &listen,
            "--webhook-url",
            &webhook,
            "--secret",
            SECRET,
            "--api-key",
            API_KEY,
        ],
        &[],
    );
    process.wait_until_answering(&format!("{url}/_sandbox/calls"));
    (process, url)
}

/// Sends `seam trigger stripe invoice.payment_failed` to the engine; the invoice id it made up.
fn trigger(world: &World, engine_port: u16) -> String {
    let to = format!("http://127.0.0.1:{engine_port}/webhooks/stripe");
    let run = world.seam(&["trigger", "stripe", "invoice.payment_failed", "--to", &to, "--secret", SECRET]);
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let invoice = run.stdout.split("(invoice ").nth(1).and_then(|rest| rest.split(',').next());
    invoice.expect("the invoice id in the trigger's output").to_owned()
}

/// Waits for the run of `invoice` to have made its first Stripe call and been answered; returns the run.
async fn first_call_answered(engine: &str, invoice: &str, token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let runs = get(&format!("{engine}/api/runs?key={invoice}"), token).await;
        if let Some(run) = runs["runs"].as_array().and_then(|runs| runs.first()) {
            let run = get(&format!("{engine}/api/runs/{}", run["id"].as_str().unwrap()), token).await;
            let answered = run["calls"].as_array().is_some_and(|calls| {
                calls
                    .iter()
                    .any(|call| call["action"] == "stripe.retrieve_customer" && !call["outcome"].is_null())
            });
            if answered && run["waiting"]["for"] == "call" && run["wake_at"].is_string() {
                return run;
            }
        }
        assert!(Instant::now() < deadline, "the run of {invoice} never made its first call");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The call reached the sandbox, which answered it as Stripe does for a customer it does not know (the trigger's
/// sample customer exists nowhere): a 404 `No such customer`, not a timeout and not a refused key.
fn answered_by_the_sandbox(run: &Value) {
    let call =
        run["calls"].as_array().unwrap().iter().find(|c| c["action"] == "stripe.retrieve_customer").unwrap();
    let outcome = call["outcome"].to_string();
    assert!(outcome.contains("No such customer"), "the sandbox's answer: {outcome}");
    assert!(!outcome.contains("timed out"), "{outcome}");
}

#[tokio::test]
async fn the_readme_sequence_reaches_stripe_and_waits_for_the_next_attempt() {
    let world = World::new();
    with_playbooks(&world);
    let engine_port = free_port();
    let engine = format!("http://127.0.0.1:{engine_port}");
    let (_sandbox, sandbox_url) = sandbox(&world, engine_port);
    // The API takes a token: made as the README says, in the database `seam serve` uses by default.
    let token = world.token("sqlite:./seam.db", "first-hour", "admin");
    let listen = format!("127.0.0.1:{engine_port}");
    let mut serve = Process::start(
        world.dir.path(),
        &["serve", "--listen", &listen],
        &[
            ("SEAM_STRIPE_WEBHOOK_SECRET", SECRET),
            ("SEAM_STRIPE_API_KEY", API_KEY),
            ("SEAM_STRIPE_BASE_URL", &sandbox_url),
        ],
    );
    serve.wait_until_answering(&format!("{engine}/healthz"));
    let invoice = trigger(&world, engine_port);
    let run = first_call_answered(&engine, &invoice, &token).await;
    answered_by_the_sandbox(&run);
    // Then the run waits for its first pay attempt, a day after the failure (inside business hours).
    assert_eq!(run["status"], "running", "{run}");
    assert_eq!(run["waiting"]["step"], "retry", "{run}");
    assert_eq!(run["waiting"]["in_flight"], false, "{run}");
    let wake = seam_flow::Timestamp::parse_rfc3339(run["wake_at"].as_str().unwrap()).unwrap().unix_seconds();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!(wake > now + 20 * 3600, "the next attempt is about a day away: {run}");
    serve.stop();
}

/// How a server is configured: a name, its extra arguments and its environment.
type Way<'a> = (&'a str, Vec<String>, Vec<(&'a str, &'a str)>);

#[tokio::test]
async fn the_stripe_connector_reaches_the_sandbox_however_it_is_configured() {
    let world = World::new();
    with_playbooks(&world);
    let engine_port = free_port();
    let engine = format!("http://127.0.0.1:{engine_port}");
    let (_sandbox, sandbox_url) = sandbox(&world, engine_port);
    // The config names the one playbook these ways are about (a folder would need every playbook's vendors).
    let playbooks = world.path("playbooks/failed-payment-recovery.toml").display().to_string();
    let with_table = world.write(
        "with-table.toml",
        &format!(
            "workflows = [{playbooks:?}]\n[sources.stripe]\nsecrets = [\"{SECRET}\"]\n\
             [stripe]\napi_key = \"{API_KEY}\"\nbase_url = \"{sandbox_url}\"\n"
        ),
    );
    let without_table = world.write(
        "without-table.toml",
        &format!("workflows = [{playbooks:?}]\n[sources.stripe]\nsecrets = [\"{SECRET}\"]\n"),
    );
    let env_stripe = [("SEAM_STRIPE_API_KEY", API_KEY), ("SEAM_STRIPE_BASE_URL", sandbox_url.as_str())];
    let ways: Vec<Way> = vec![
        ("environment only", vec![], {
            let mut env = env_stripe.to_vec();
            env.push(("SEAM_STRIPE_WEBHOOK_SECRET", SECRET));
            env
        }),
        ("a [stripe] table", vec!["--config".into(), with_table.display().to_string()], vec![]),
        (
            "a config without [stripe], plus the environment",
            vec!["--config".into(), without_table.display().to_string()],
            env_stripe.to_vec(),
        ),
    ];
    for (n, (way, args, env)) in ways.into_iter().enumerate() {
        let listen = format!("127.0.0.1:{engine_port}");
        let db = format!("sqlite:{}", world.path(&format!("seam-{n}.db")).display());
        let mut all: Vec<&str> = vec!["serve", "--listen", &listen, "--db", &db];
        all.extend(args.iter().map(String::as_str));
        let token = world.token(&db, "first-hour", "admin");
        let mut serve = Process::start(world.dir.path(), &all, &env);
        serve.wait_until_answering(&format!("{engine}/healthz"));
        let invoice = trigger(&world, engine_port);
        let run = first_call_answered(&engine, &invoice, &token).await;
        let call =
            run["calls"].as_array().unwrap().iter().find(|c| c["action"] == "stripe.retrieve_customer");
        assert!(call.is_some(), "{way}: {run}");
        answered_by_the_sandbox(&run);
        serve.stop();
    }
}
