//! Black-box tests of the engine's commands, run as the real `seam` binary in a fresh temporary directory each:
//! `seam workflows check`, `seam migrate`, `seam serve` (webhook intake, health, metrics, runs, graceful stop) and
//! `seam audit export`, checked against the contract in docs/engine.md.

mod common;

use std::io::Read as _;
use std::net::TcpListener as StdListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use axum::routing::post;
use common::{Run, World};
use serde_json::{Value, json};

/// Environment variables that would change what `seam` does if the developer's shell happened to set them.
const SEAM_ENV: &[&str] = &[
    "SEAM_DB",
    "SEAM_LISTEN",
    "SEAM_LOG",
    "SEAM_STRIPE_WEBHOOK_SECRET",
    "SEAM_SHOPIFY_WEBHOOK_SECRET",
    "SEAM_ZENDESK_WEBHOOK_SECRET",
    "SEAM_ERP_WEBHOOK_SECRET",
];

const VALID_WORKFLOW: &str = include_str!("../../flow/tests/fixtures/failed-payment-recovery.toml");

/// A workflow with three mistakes: a misspelled key (line 9), a bad duration (line 13), a duplicate step id
/// (steps[2], whose `[[steps]]` starts on line 19; the first `notify` starts on line 15).
const BROKEN_WORKFLOW: &str = r#"name = "broken"
zone = "order_to_cash"
version = 1

[trigger]
source = "erp"
event = "order.paid"
key = "{{ event.id }}"
if_runing = "ignore"

[[steps]]
id = "pause"
wait = "5x"

[[steps]]
id = "notify"
wait = "1d"

[[steps]]
id = "notify"
wait = "2d"
"#;

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

/// `seam ARGS` in `dir` with a clean environment (plus `env`), waiting at most 60 s: commands that should fail at
/// start must not hang the suite if they do start.
fn seam_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seam"));
    command.args(args).current_dir(dir).stdin(Stdio::null());
    for name in SEAM_ENV {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let mut child = Spawned::spawn(command);
    let status = child.wait_for(Duration::from_secs(60)).unwrap_or_else(|| {
        child.kill();
        let (stdout, stderr) = child.output();
        panic!("seam {args:?} did not exit within 60 s\nstdout:\n{stdout}\nstderr:\n{stderr}")
    });
    let (stdout, stderr) = child.output();
    Run { code: status.code().unwrap_or(-1), stdout, stderr }
}

/// A child process whose standard output and error are drained by threads (so a chatty log never blocks it).
struct Spawned {
    child: Child,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

impl Spawned {
    fn spawn(mut command: Command) -> Spawned {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start seam");
        let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                String::from_utf8_lossy(&bytes).into_owned()
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        Spawned { child, stdout: Some(stdout), stderr: Some(stderr) }
    }

    /// Polls for the exit until `limit`; `None` if it is still running.
    fn wait_for(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Everything the process wrote (call after it exited).
    fn output(&mut self) -> (String, String) {
        let stdout = self.stdout.take().map(|t| t.join().unwrap()).unwrap_or_default();
        let stderr = self.stderr.take().map(|t| t.join().unwrap()).unwrap_or_default();
        (stdout, stderr)
    }
}

/// A running `seam serve`.
struct Server {
    process: Spawned,
    url: String,
}

impl Server {
    /// Starts `seam serve --listen 127.0.0.1:<free port> ARGS` in `dir` and waits until `/healthz` answers 200.
    async fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_seam"));
        command.arg("serve").args(["--listen", &listen]).args(args).current_dir(dir).stdin(Stdio::null());
        for name in SEAM_ENV {
            command.env_remove(name);
        }
        command.envs(env.iter().copied());
        let mut server = Server { process: Spawned::spawn(command), url: format!("http://{listen}") };
        let client = client();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = client.get(format!("{}/healthz", server.url)).send().await
                && response.status() == 200
            {
                return server;
            }
            if let Some(status) = server.process.child.try_wait().unwrap() {
                let (stdout, stderr) = server.process.output();
                panic!("seam serve exited early ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}");
            }
            if Instant::now() > deadline {
                server.process.kill();
                let (stdout, stderr) = server.process.output();
                panic!("seam serve never became healthy\nstdout:\n{stdout}\nstderr:\n{stderr}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// SIGTERM; the process must exit within 10 s. Returns its status and output.
    fn terminate(mut self) -> (ExitStatus, String, String) {
        let pid = self.process.child.id();
        let sent = Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let status = self.process.wait_for(Duration::from_secs(10));
        let Some(status) = status else {
            self.process.kill();
            let (stdout, stderr) = self.process.output();
            panic!("seam serve did not exit within 10 s of SIGTERM\nstdout:\n{stdout}\nstderr:\n{stderr}");
        };
        let (stdout, stderr) = self.process.output();
        (status, stdout, stderr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed assertion must not leave the server running.
        if let Ok(None) = self.process.child.try_wait() {
            self.process.kill();
        }
    }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    response.json().await.unwrap()
}

/// GETs the API with a token.
async fn get_api(client: &reqwest::Client, url: &str, token: &str) -> Value {
    let response = client.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    response.json().await.unwrap()
}

/// POSTs a Stripe event signed with `secret` at time `t`; the status and JSON body.
async fn post_stripe(client: &reqwest::Client, url: &str, body: &str, secret: &str, t: i64) -> (u16, Value) {
    let signature = seam_connectors::verify::stripe_signature_header(body.as_bytes(), secret, t);
    let response = client
        .post(format!("{url}/webhooks/stripe"))
        .header("Stripe-Signature", signature)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn stripe_event(id: &str) -> String {
    json!({ "id": id, "type": "invoice.created", "data": { "object": { "id": "in_1", "amount_due": 4900 } } })
        .to_string()
}

// ----- seam workflows check ------------------------------------------------------------------------------------

#[test]
fn workflows_check_accepts_a_valid_file() {
    let world = World::new();
    let file = world.write("recovery.toml", VALID_WORKFLOW);
    let run = seam_in(world.dir.path(), &["workflows", "check", file.to_str().unwrap()], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("ok: "), "{run:?}");
    assert!(run.stdout.contains("recovery.toml"), "{run:?}");
    assert!(run.stdout.contains("failed-payment-recovery"), "{run:?}");
}

#[test]
fn workflows_check_names_file_line_and_field_of_every_mistake() {
    let world = World::new();
    world.write("broken.toml", BROKEN_WORKFLOW);
    let run = seam_in(world.dir.path(), &["workflows", "check", "broken.toml"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.is_empty(), "nothing is ok: {run:?}");
    for expected in [
        "broken.toml:9: trigger.if_runing:",
        "broken.toml:13: steps[0].wait:",
        "broken.toml:19: steps[2].id: step id `notify` is already used by steps[1] on line 15",
    ] {
        assert!(run.stderr.contains(expected), "stderr lacks {expected:?}:\n{}", run.stderr);
    }
    assert!(run.stderr.contains("did you mean `if_running`"), "{}", run.stderr);
    assert!(run.stderr.contains("\"5x\" is not a duration"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 3, "one line per problem:\n{}", run.stderr);
}

#[test]
fn workflows_check_of_a_folder_checks_every_toml_file_in_it() {
    let world = World::new();
    std::fs::create_dir(world.path("playbooks")).unwrap();
    world.write("playbooks/a.toml", VALID_WORKFLOW);
    world.write("playbooks/b.toml", &VALID_WORKFLOW.replace("failed-payment-recovery", "second"));
    world.write("playbooks/notes.txt", "not a workflow");
    let run = seam_in(world.dir.path(), &["workflows", "check", "playbooks"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let ok: Vec<&str> = run.stdout.lines().filter(|line| line.starts_with("ok: ")).collect();
    assert_eq!(ok.len(), 2, "{run:?}");
    assert!(ok[0].contains("a.toml") && ok[1].contains("b.toml"), "{ok:?}");

    // One bad file in the folder makes the whole check fail, naming that file.
    world.write("playbooks/c.toml", BROKEN_WORKFLOW);
    let run = seam_in(world.dir.path(), &["workflows", "check", "playbooks"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("c.toml:9: trigger.if_runing"), "{}", run.stderr);
    assert!(!run.stderr.contains("a.toml"), "{}", run.stderr);
}

#[test]
fn workflows_check_refuses_two_files_with_the_same_workflow_name() {
    let world = World::new();
    world.write("one.toml", VALID_WORKFLOW);
    world.write("two.toml", VALID_WORKFLOW);
    let run = seam_in(world.dir.path(), &["workflows", "check", "one.toml", "two.toml"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("defined twice"), "{}", run.stderr);
    assert!(run.stderr.contains("one.toml") && run.stderr.contains("two.toml"), "{}", run.stderr);
}

#[test]
fn workflows_check_of_a_missing_path_exits_2_and_says_so() {
    let world = World::new();
    let run = seam_in(world.dir.path(), &["workflows", "check", "nowhere.toml"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("nowhere.toml"), "{}", run.stderr);
    assert!(run.stderr.contains("no such file or folder"), "{}", run.stderr);

    // An empty folder has nothing to check: also bad input.
    std::fs::create_dir(world.path("empty")).unwrap();
    let run = seam_in(world.dir.path(), &["workflows", "check", "empty"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no workflow files"), "{}", run.stderr);
}

// ----- seam migrate --------------------------------------------------------------------------------------------

#[test]
fn migrate_creates_the_sqlite_file_and_can_run_again() {
    let world = World::new();
    let db_path = world.path("data.db");
    let db = format!("sqlite:{}", db_path.display());
    let run = seam_in(world.dir.path(), &["migrate", "--db", &db], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(db_path.is_file(), "migrate creates {}", db_path.display());
    let run = seam_in(world.dir.path(), &["migrate", "--db", &db], &[]);
    assert_eq!(run.code, 0, "a second migrate is fine: {run:?}");

    // Without --db the default is sqlite:./seam.db in the working directory.
    let run = seam_in(world.dir.path(), &["migrate"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(world.path("seam.db").is_file());
}

#[test]
fn migrate_refuses_an_unsupported_database_url_naming_the_accepted_forms() {
    let world = World::new();
    let run = seam_in(world.dir.path(), &["migrate", "--db", "mysql://x"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("mysql://x"), "{}", run.stderr);
    assert!(run.stderr.contains("sqlite:"), "{}", run.stderr);
    assert!(run.stderr.contains("postgres://"), "{}", run.stderr);
    assert!(std::fs::read_dir(world.dir.path()).unwrap().next().is_none(), "nothing was written");
}

// ----- seam serve without a config file ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_only_a_stripe_secret_in_the_environment() {
    let world = World::new();
    let db = format!("sqlite:{}", world.path("seam.db").display());
    let server = Server::start(
        world.dir.path(),
        &["--db", &db],
        &[("SEAM_STRIPE_WEBHOOK_SECRET", "whsec_a,whsec_b"), ("SEAM_LOG", "warn")],
    )
    .await;
    let client = client();
    let url = server.url.clone();

    let health = get_json(&client, &format!("{url}/healthz")).await;
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["db"], "sqlite", "{health}");
    assert_eq!(health["sources"], json!(["stripe"]), "{health}");
    assert_eq!(health["workflows"], json!([]), "{health}");

    // Signed with the newer secret of the two: accepted, and no workflow listens.
    let body = stripe_event("evt_rotation_b");
    let (status, answer) = post_stripe(&client, &url, &body, "whsec_b", now()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "unmatched", "{answer}");
    assert_eq!(answer["event_id"], "evt_rotation_b", "{answer}");
    assert_eq!(answer["type"], "invoice.created", "{answer}");

    // The same event again: a redelivery.
    let (status, answer) = post_stripe(&client, &url, &body, "whsec_b", now()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "duplicate", "{answer}");

    // A signature older than the 300 s window.
    let stale = stripe_event("evt_stale");
    let (status, answer) = post_stripe(&client, &url, &stale, "whsec_b", now() - 301).await;
    assert_eq!(status, 400, "{answer}");
    let message = answer["error"].as_str().unwrap_or_default();
    assert!(message.starts_with("signature rejected"), "{answer}");
    assert!(message.contains("outside the 300 s window"), "{answer}");

    // A secret that is not configured.
    let (status, answer) = post_stripe(&client, &url, &stale, "whsec_c", now()).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap_or_default().starts_with("signature rejected"), "{answer}");

    // No signature at all.
    let response = client.post(format!("{url}/webhooks/stripe")).body(stale.clone()).send().await.unwrap();
    assert_eq!(response.status(), 400);

    // A body over 1 MiB.
    let mut large = String::from("{\"id\":\"evt_large\",\"type\":\"invoice.created\",\"pad\":\"");
    large.push_str(&"x".repeat(1024 * 1024));
    large.push_str("\"}");
    // On its own connection: the server answers 413 without reading the body and closes that connection, which a
    // pooled client could otherwise try to reuse for the next request.
    let (status, answer) = post_stripe(&self::client(), &url, &large, "whsec_b", now()).await;
    assert_eq!(status, 413, "{answer}");
    assert!(answer["error"].is_string(), "{answer}");

    // A source that is not configured.
    let response = client.post(format!("{url}/webhooks/shopify")).body("{}").send().await.unwrap();
    assert_eq!(response.status(), 404);

    let metrics = client.get(format!("{url}/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        "seam_webhooks_total{source=\"stripe\",outcome=\"unmatched\"} 1",
        "seam_webhooks_total{source=\"stripe\",outcome=\"duplicate\"} 1",
        "seam_webhooks_total{source=\"stripe\",outcome=\"stale_timestamp\"} 1",
        "seam_webhooks_total{source=\"stripe\",outcome=\"too_large\"} 1",
        "seam_events{status=\"unmatched\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "/metrics lacks {line:?}:\n{metrics}");
    }

    // The older secret still works during the rotation.
    let (status, answer) =
        post_stripe(&client, &url, &stripe_event("evt_rotation_a"), "whsec_a", now()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "unmatched", "{answer}");

    // A timestamp as far in the future is refused too (the window applies both ways).
    let (status, answer) =
        post_stripe(&client, &url, &stripe_event("evt_future"), "whsec_b", now() + 301).await;
    assert_eq!(status, 400, "{answer}");

    // A body of exactly 1 MiB is within the limit.
    let head = "{\"id\":\"evt_exact\",\"type\":\"invoice.created\",\"pad\":\"";
    let mut exact = String::from(head);
    exact.push_str(&"x".repeat(1024 * 1024 - head.len() - 2));
    exact.push_str("\"}");
    assert_eq!(exact.len(), 1024 * 1024);
    let (status, answer) = post_stripe(&client, &url, &exact, "whsec_b", now()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "unmatched", "{answer}");

    // A body over the limit without a Content-Length (chunked) is refused while it is read.
    let chunked = post_chunked(&url, "/webhooks/stripe", &large).await;
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");

    // Signed but not an event: kept as a dead letter.
    let (status, answer) = post_stripe(&client, &url, "[1, 2, 3]", "whsec_b", now()).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap_or_default().starts_with("signed but unparseable"), "{answer}");
    assert!(answer["dead_letter_id"].is_number(), "{answer}");
    let token = world.token(&db, "ops", "admin");
    let letters = get_api(&client, &format!("{url}/api/dead-letters"), &token).await;
    assert!(letters.to_string().contains("[1, 2, 3]"), "{letters}");

    let metrics = client.get(format!("{url}/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        "seam_webhooks_total{source=\"stripe\",outcome=\"unmatched\"} 3",
        "seam_webhooks_total{source=\"stripe\",outcome=\"stale_timestamp\"} 2",
        "seam_webhooks_total{source=\"stripe\",outcome=\"too_large\"} 2",
        "seam_webhooks_total{source=\"stripe\",outcome=\"unparseable\"} 1",
        "seam_events{status=\"unmatched\"} 3",
        "seam_dead_letters 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "/metrics lacks {line:?}:\n{metrics}");
    }

    let (status, stdout, stderr) = server.terminate();
    assert_eq!(status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("stopped"), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("serving on"), "stdout:\n{stdout}");
}

/// POSTs `body` with `Transfer-Encoding: chunked` over a raw connection; the response's first bytes.
async fn post_chunked(url: &str, path: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = url.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    let body = body.as_bytes().to_vec();
    // The server may answer and close before the whole body is sent: write errors are expected then.
    let writer = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await?;
        for chunk in body.chunks(64 * 1024) {
            write.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
            write.write_all(chunk).await?;
            write.write_all(b"\r\n").await?;
        }
        write.write_all(b"0\r\n\r\n").await?;
        std::io::Result::Ok(write)
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while answer.len() < 12 {
        match tokio::time::timeout(Duration::from_secs(20), read.read(&mut buffer)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buffer[..n]),
            other => panic!("no answer to the chunked request: {other:?}"),
        }
    }
    let _ = writer.await;
    String::from_utf8_lossy(&answer).into_owned()
}

// ----- seam serve with a config file, then seam audit export ---------------------------------------------------

const NOTIFY_WORKFLOW: &str = r#"
name = "notify"
zone = "order_to_cash"
version = 1

[trigger]
source = "erp"
event = "order.paid"
key = "{{ event.data.order }}"

[[steps]]
id = "notify"
call = "http"
with = { method = "POST", url = "MOCK/notes", json = { order = "{{ trigger.data.order }}" } }

[[steps]]
id = "record"
[steps.record]
ledger = "finance"
order = "{{ trigger.data.order }}"
note = "{{ steps.notify.result.body.note }}"
"#;

const ERP_SECRET: &str = "erp-secret";

/// `seam audit export --db DB ARGS` in `dir`.
fn export(dir: &Path, db: &str, args: &[&str]) -> Run {
    seam_in(dir, &[&["audit", "export", "--db", db][..], args].concat(), &[])
}

/// The mock service: every request's idempotency key and body.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

async fn start_mock() -> (std::net::SocketAddr, Seen) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/notes",
        post(move |headers: HeaderMap, axum::Json(body): axum::Json<Value>| {
            let record = record.clone();
            async move {
                let key =
                    headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                record.lock().unwrap().push((key, body));
                axum::Json(json!({ "note": "note-42" }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_an_http_workflow_and_the_audit_log_exports_it() {
    let world = World::new();
    let (mock, seen) = start_mock().await;
    std::fs::create_dir(world.path("workflows")).unwrap();
    world.write("workflows/notify.toml", &NOTIFY_WORKFLOW.replace("MOCK", &format!("http://{mock}")));
    let config = world.write(
        "seam.toml",
        &format!(
            "workflows = [\"workflows\"]\n\n[sources.erp]\nkind = \"generic\"\nsecrets = [\"{ERP_SECRET}\"]\n\n\
             [http]\nallow_hosts = [\"{mock}\"]\ntimeout_secs = 5\n\n[engine]\npoll_ms = 50\n"
        ),
    );
    let db_path = world.path("seam.db");
    let db = format!("sqlite:{}", db_path.display());
    let server =
        Server::start(world.dir.path(), &["--config", config.to_str().unwrap(), "--db", &db], &[]).await;
    let client = client();
    let url = server.url.clone();

    let health = get_json(&client, &format!("{url}/healthz")).await;
    assert_eq!(health["sources"], json!(["erp"]), "{health}");
    assert_eq!(health["workflows"], json!(["notify"]), "{health}");

    let body = json!({ "id": "evt_order_7", "type": "order.paid", "data": { "order": "ord_7" } }).to_string();
    let signature = seam_connectors::verify::generic_signature(body.as_bytes(), ERP_SECRET);
    let response = client
        .post(format!("{url}/webhooks/erp"))
        .header("X-Seam-Signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["status"], "accepted", "{answer}");
    assert_eq!(answer["event_id"], "evt_order_7", "{answer}");

    // The run finishes.
    let token = world.token(&db, "ops", "admin");
    let deadline = Instant::now() + Duration::from_secs(60);
    let run = loop {
        let runs = get_api(&client, &format!("{url}/api/runs"), &token).await;
        let list = runs["runs"].as_array().unwrap();
        if let Some(run) = list.iter().find(|r| r["status"] == "succeeded") {
            assert_eq!(list.len(), 1, "{runs}");
            break run.clone();
        }
        assert!(Instant::now() < deadline, "the run did not succeed in time: {runs}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(run["workflow"], "notify", "{run}");
    assert_eq!(run["key"], "ord_7", "{run}");
    let run_id = run["id"].as_str().unwrap().to_owned();

    // The mock was called once, with the run's idempotency key and the rendered body.
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].0, format!("seam-{run_id}-notify-1"));
        assert_eq!(seen[0].1, json!({ "order": "ord_7" }));
    }

    // The ledger entry reaches the default file, ledger.csv beside the database.
    let ledger = world.path("ledger.csv");
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = std::fs::read_to_string(&ledger).unwrap_or_default();
        if text.contains("ord_7") {
            break text;
        }
        assert!(Instant::now() < deadline, "ledger.csv has no entry for ord_7:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(text.contains("note-42"), "{text}");
    assert_eq!(text.lines().filter(|line| line.contains("ord_7")).count(), 1, "{text}");

    let (status, stdout, stderr) = server.terminate();
    assert_eq!(status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("stopped"), "{stdout}");

    // JSON lines: one object per line, with the documented fields.
    let dir = world.dir.path();
    let run = export(dir, &db, &["--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let entries: Vec<Value> = run.stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(!entries.is_empty(), "{run:?}");
    for entry in &entries {
        let object = entry.as_object().unwrap_or_else(|| panic!("not an object: {entry}"));
        for field in
            ["at", "kind", "run_id", "event_id", "workflow", "step", "attempt", "actor", "detail", "data"]
        {
            assert!(object.contains_key(field), "{field} missing from {entry}");
        }
        assert!(entry["at"].as_str().is_some_and(|at| at.ends_with('Z')), "{entry}");
    }
    assert!(entries.iter().any(|e| e["event_id"] == "evt_order_7"), "{}", run.stdout);
    assert!(entries.iter().any(|e| e["run_id"] == run_id.as_str()), "{}", run.stdout);
    let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "oldest first: {seqs:?}");

    // CSV: a header row, then the same entries.
    let run = export(dir, &db, &["--format", "csv"]);
    assert_eq!(run.code, 0, "{run:?}");
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    for column in ["at", "kind", "run_id", "event_id"] {
        assert!(header.iter().any(|h| h == column), "{column} missing from {header:?}");
    }
    let event_column = header.iter().position(|h| h == "event_id").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), entries.len(), "{}", run.stdout);
    assert!(rows.iter().any(|row| &row[event_column] == "evt_order_7"), "{}", run.stdout);

    // -o writes the same text to a file.
    let run = export(dir, &db, &["--format", "csv", "-o", "audit.csv"]);
    assert_eq!(run.code, 0, "{run:?}");
    let written = std::fs::read_to_string(world.path("audit.csv")).unwrap();
    assert_eq!(written.lines().count(), entries.len() + 1, "{written}");

    // Since a date in the future: nothing (CSV: the header only).
    let run = export(dir, &db, &["--format", "json", "--since", "2999-01-01"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.trim().is_empty(), "{run:?}");
    let run = export(dir, &db, &["--format", "csv", "--since", "2999-01-01"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
    assert!(run.stdout.contains("event_id"), "{run:?}");

    // Since a date in the past, or an RFC 3339 time: everything.
    let run = export(dir, &db, &["--format", "json", "--since", "2000-01-01"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.lines().count(), entries.len(), "{run:?}");
    let run = export(dir, &db, &["--format", "json", "--since", "2000-01-01T09:00:00Z"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.lines().count(), entries.len(), "{run:?}");

    // A --since that is not a date.
    let run = export(dir, &db, &["--format", "json", "--since", "yesterday"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--since"), "{}", run.stderr);

    // A database that does not exist is not created by an export.
    let missing = format!("sqlite:{}", world.path("missing.db").display());
    let run = export(dir, &missing, &["--format", "json"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("missing.db"), "{}", run.stderr);
    assert!(!world.path("missing.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_writes_the_ledger_where_the_config_says() {
    let world = World::new();
    let (mock, _seen) = start_mock().await;
    world.write("notify.toml", &NOTIFY_WORKFLOW.replace("MOCK", &format!("http://{mock}")));
    let config = world.write(
        "seam.toml",
        &format!(
            "workflows = [\"notify.toml\"]\n[sources.erp]\nkind = \"generic\"\nsecrets = [\"{ERP_SECRET}\"]\n\
             [http]\nallow_hosts = [\"{mock}\"]\n[ledger]\npath = \"books/finance.jsonl\"\n[engine]\npoll_ms = 50\n"
        ),
    );
    std::fs::create_dir(world.path("books")).unwrap();
    let db = format!("sqlite:{}", world.path("seam.db").display());
    let args = ["--config", config.to_str().unwrap(), "--db", &db, "--log-format", "json"];
    let server = Server::start(world.dir.path(), &args, &[("SEAM_LOG", "info")]).await;
    let client = client();
    let body = json!({ "id": 99, "type": "order.paid", "data": { "order": "ord_99" } }).to_string();
    let response = client
        .post(format!("{}/webhooks/erp", server.url))
        .header("X-Seam-Signature", seam_connectors::verify::generic_signature(body.as_bytes(), ERP_SECRET))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let ledger = world.path("books/finance.jsonl");
    let deadline = Instant::now() + Duration::from_secs(60);
    let entry = loop {
        let text = std::fs::read_to_string(&ledger).unwrap_or_default();
        if let Some(line) = text.lines().next() {
            break serde_json::from_str::<Value>(line).unwrap();
        }
        assert!(Instant::now() < deadline, "no ledger entry in {}", ledger.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(entry["order"], "ord_99", "{entry}");
    assert_eq!(entry["note"], "note-42", "{entry}");
    assert!(!world.path("ledger.csv").exists(), "a configured ledger replaces the default");

    let (status, stdout, stderr) = server.terminate();
    assert_eq!(status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("finance.jsonl"), "the start line names the ledger: {stdout}");
    // --log-format json: every log line on standard error is a JSON object.
    assert!(!stderr.trim().is_empty(), "info logs were written");
    for line in stderr.lines().filter(|line| !line.trim().is_empty()) {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(entry.is_object(), "{line}");
    }
}

// ----- seam serve refusing to start ----------------------------------------------------------------------------

/// `seam serve` in the world with a config and a db, expected to refuse to start.
fn serve_refuses(world: &World, config: Option<&str>) -> Run {
    let db = format!("sqlite:{}", world.path("seam.db").display());
    let listen = format!("127.0.0.1:{}", free_port());
    let mut args = vec!["serve", "--db", &db, "--listen", &listen];
    if let Some(config) = config {
        args.extend(["--config", config]);
    }
    seam_in(world.dir.path(), &args, &[])
}

#[test]
fn serve_refuses_a_config_with_a_syntax_error() {
    let world = World::new();
    world.write("seam.toml", "listen = \"127.0.0.1:1\"\n\n[sources.erp\nkind = \"generic\"\n");
    let run = serve_refuses(&world, Some("seam.toml"));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("seam.toml"), "{}", run.stderr);
    assert!(run.stderr.contains("line 3"), "{}", run.stderr);
}

#[test]
fn serve_refuses_a_config_with_an_unknown_key() {
    let world = World::new();
    world.write(
        "seam.toml",
        "listen = \"127.0.0.1:1\"\n\n[sources.erp]\nkind = \"generic\"\nsecret = [\"x\"]\n",
    );
    let run = serve_refuses(&world, Some("seam.toml"));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("seam.toml"), "{}", run.stderr);
    assert!(run.stderr.contains("line 5"), "{}", run.stderr);
    assert!(run.stderr.contains("secret"), "{}", run.stderr);
}

#[test]
fn serve_refuses_a_missing_config_file() {
    let world = World::new();
    let run = serve_refuses(&world, Some("nope.toml"));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("nope.toml"), "{}", run.stderr);
}

#[test]
fn serve_refuses_a_workflow_file_with_a_mistake() {
    let world = World::new();
    std::fs::create_dir(world.path("playbooks")).unwrap();
    world.write("playbooks/broken.toml", BROKEN_WORKFLOW);
    world.write("seam.toml", "workflows = [\"playbooks\"]\n");
    let run = serve_refuses(&world, Some("seam.toml"));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("broken.toml:9: trigger.if_runing"), "{}", run.stderr);
    assert!(run.stderr.contains("broken.toml:13: steps[0].wait"), "{}", run.stderr);

    // Without a config file, ./playbooks is read, with the same result.
    let run = serve_refuses(&world, None);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("broken.toml:9: trigger.if_runing"), "{}", run.stderr);
}

#[test]
fn serve_refuses_a_workflow_whose_action_has_no_connector() {
    let world = World::new();
    world.write("recovery.toml", VALID_WORKFLOW);
    world.write("seam.toml", "workflows = [\"recovery.toml\"]\n");
    let run = serve_refuses(&world, Some("seam.toml"));
    assert_eq!(run.code, 2, "a workflow problem is bad input: {run:?}");
    assert!(run.stderr.contains("stripe.pay_invoice"), "{}", run.stderr);
    assert!(run.stderr.contains("failed-payment-recovery"), "{}", run.stderr);
}

#[test]
fn a_workflow_serve_refused_is_not_pinned_in_the_database() {
    let world = World::new();
    world.write("w.toml", VALID_WORKFLOW);
    world.write("seam.toml", "workflows = [\"w.toml\"]\n");
    let run = serve_refuses(&world, Some("seam.toml"));
    assert!(run.stderr.contains("stripe.pay_invoice"), "{}", run.stderr);
    // Nothing about the refused file was stored, so fixing it does not require a version bump.
    let db = format!("sqlite:{}", world.path("seam.db").display());
    let stored = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = seam_store::open(&db).await.unwrap();
        store.workflows().await.unwrap()
    });
    assert!(stored.is_empty(), "{stored:?}");
}

#[test]
fn serve_on_a_port_already_taken_exits_1_naming_the_address() {
    let world = World::new();
    let taken = StdListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let db = format!("sqlite:{}", world.path("seam.db").display());
    let run = seam_in(world.dir.path(), &["serve", "--db", &db, "--listen", &address], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains(&address), "{}", run.stderr);
    drop(taken);
}

#[test]
fn serve_refuses_an_unsupported_database_url() {
    let world = World::new();
    let listen = format!("127.0.0.1:{}", free_port());
    let run = seam_in(world.dir.path(), &["serve", "--db", "mysql://x", "--listen", &listen], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("sqlite:") && run.stderr.contains("postgres://"), "{}", run.stderr);
}
