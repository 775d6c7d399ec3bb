//! Running Seam for real (issue 8, item 9), with the real binary in a fresh temporary directory each:
//!
//! - `seam backup` while `seam serve` takes webhooks: the copy is a migrated database holding every event
//!   acknowledged before the backup began; it never overwrites without `--force`; a PostgreSQL URL gets the
//!   `pg_dump` command and exit 2.
//! - `seam doctor` against `seam sandbox`: all green; a wrong Stripe key, an unmigrated database, an unwritable
//!   ledger, missing secrets each give exit 1 and a `FAIL` line with the fix, and no secret is ever printed; an
//!   unreadable config gives exit 2. The doctor leaves the folder as it found it.
//! - `seam healthcheck` against a server and a closed port.
//! - `deploy/`, which cannot run here: every `seam` command and flag the files (and docs/deploy.md) use exists,
//!   every repository path they name is there, the files agree with each other (paths, ports), the example config
//!   loads with the real loader, and the systemd unit passes `systemd-analyze verify`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Run, World};
use seam_store::SchemaStatus;
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
    "SEAM_STRIPE_API_KEY",
    "SEAM_STRIPE_BASE_URL",
];

const WEBHOOK_SECRET: &str = "whsec_ops_3f9a1c7e5b";
const GOOD_KEY: &str = "sk_test_ops_good_8d2e6a";
const WRONG_KEY: &str = "sk_test_ops_wrong_4b7c1f";

/// A workflow that starts a run for every `invoice.created` and waits a day: each event writes a run and audit
/// entries while the backup is taken.
const HOLD_WORKFLOW: &str = r#"name = "hold"
zone = "order_to_cash"
version = 1

[trigger]
source = "stripe"
event = "invoice.created"
key = "{{ event.data.object.id }}"

[[steps]]
id = "pause"
wait = "1d"
"#;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

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

fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seam"));
    command.args(args).current_dir(dir).stdin(Stdio::null());
    for name in SEAM_ENV {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command
}

/// `seam ARGS` in `dir` with a clean environment (plus `env`), waiting at most 60 s.
fn seam_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut child = Spawned::spawn(command(dir, args, env));
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

    fn output(&mut self) -> (String, String) {
        let stdout = self.stdout.take().map(|t| t.join().unwrap()).unwrap_or_default();
        let stderr = self.stderr.take().map(|t| t.join().unwrap()).unwrap_or_default();
        (stdout, stderr)
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // A failed assertion must not leave a server running.
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

/// A running `seam serve` or `seam sandbox` on a free port, ready when `ready_path` answers 200.
struct Service {
    process: Spawned,
    url: String,
}

impl Service {
    async fn start(dir: &Path, args: &[&str], env: &[(&str, &str)], ready_path: &str) -> Service {
        let listen = format!("127.0.0.1:{}", free_port());
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--listen", &listen]);
        let mut service =
            Service { process: Spawned::spawn(command(dir, &all, env)), url: format!("http://{listen}") };
        let client = client();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = client.get(format!("{}{ready_path}", service.url)).send().await
                && response.status() == 200
            {
                return service;
            }
            if let Some(status) = service.process.child.try_wait().unwrap() {
                let (stdout, stderr) = service.process.output();
                panic!("seam {args:?} exited early ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}");
            }
            if Instant::now() > deadline {
                service.process.kill();
                let (stdout, stderr) = service.process.output();
                panic!("seam {args:?} never became ready\nstdout:\n{stdout}\nstderr:\n{stderr}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// `seam sandbox` requiring `api_key`.
    async fn sandbox(dir: &Path, api_key: &str) -> Service {
        Service::start(
            dir,
            &["sandbox", "--api-key", api_key, "--secret", "whsec_sandbox_ops"],
            &[],
            "/_sandbox/calls",
        )
        .await
    }

    /// SIGTERM, then the exit status and output.
    fn terminate(mut self) -> (ExitStatus, String, String) {
        let pid = self.process.child.id();
        let sent = Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let status = self.process.wait_for(Duration::from_secs(10)).unwrap_or_else(|| {
            self.process.kill();
            panic!("seam did not exit within 10 s of SIGTERM")
        });
        let (stdout, stderr) = self.process.output();
        (status, stdout, stderr)
    }
}

/// The names in a folder, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

// ----- seam backup ---------------------------------------------------------------------------------------------

/// POSTs a signed `invoice.created` with this id; whether Seam acknowledged it (2xx).
async fn post_event(client: &reqwest::Client, url: &str, id: &str) -> bool {
    let body =
        json!({ "id": id, "type": "invoice.created", "data": { "object": { "id": format!("in_{id}") } } })
            .to_string();
    let signature = seam_connectors::verify::stripe_signature_header(body.as_bytes(), WEBHOOK_SECRET, now());
    let response = client
        .post(format!("{url}/webhooks/stripe"))
        .header("Stripe-Signature", signature)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await;
    matches!(response, Ok(response) if response.status().is_success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_is_a_migrated_database_with_every_acknowledged_event() {
    let world = World::new();
    let dir = world.dir.path().to_owned();
    world.write("hold.toml", HOLD_WORKFLOW);
    world.write("seam.toml", "workflows = [\"hold.toml\"]\n\n[sources.stripe]\n");
    let env = [("SEAM_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)];
    let server =
        Service::start(&dir, &["serve", "--config", "seam.toml", "--db", "sqlite:seam.db"], &env, "/healthz")
            .await;

    // Four senders keep webhooks coming, each waiting for its answer, until told to stop.
    let acked: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for sender in 0..4 {
        let (acked, stop, url, client) = (acked.clone(), stop.clone(), server.url.clone(), client());
        senders.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("evt_ops_{sender}_{n}");
                if post_event(&client, &url, &id).await {
                    acked.lock().unwrap().push((id, Instant::now()));
                }
                n += 1;
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 40 {
        assert!(Instant::now() < deadline, "the server did not acknowledge 40 events within 60 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let started = Instant::now();
    let backup_dir = dir.clone();
    let run = tokio::task::spawn_blocking(move || {
        seam_in(&backup_dir, &["backup", "--db", "sqlite:seam.db", "-o", "backup.db"], &[])
    })
    .await
    .unwrap();
    // The senders keep going a little after the backup, then stop.
    let after = acked.lock().unwrap().len() + 10;
    while acked.lock().unwrap().len() < after && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.await.unwrap();
    }
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("backed up") && run.stdout.contains("backup.db"), "{run:?}");

    // The copy carries this build's schema, and every event acknowledged before the backup began.
    let backup_url = format!("sqlite:{}", dir.join("backup.db").display());
    let status = seam_store::schema_status(&backup_url, Duration::from_secs(10)).await.unwrap();
    assert!(matches!(status, SchemaStatus::Current { .. }), "{status:?}");
    let before: Vec<String> =
        acked.lock().unwrap().iter().filter(|(_, at)| *at < started).map(|(id, _)| id.clone()).collect();
    assert!(before.len() >= 40, "{}", before.len());
    let copy = seam_store::open(&backup_url).await.unwrap();
    for id in &before {
        assert!(
            copy.event("stripe", id).await.unwrap().is_some(),
            "{id} was acknowledged but is not in the backup"
        );
    }
    drop(copy);
    let export = seam_in(&dir, &["audit", "export", "--db", "sqlite:backup.db", "--format", "json"], &[]);
    assert_eq!(export.code, 0, "{export:?}");
    assert!(export.stdout.lines().all(|line| serde_json::from_str::<Value>(line).is_ok()), "{export:?}");
    assert!(!listing(&dir).iter().any(|name| name.contains("backup-tmp")), "{:?}", listing(&dir));

    // An existing backup is kept unless --force.
    let kept = std::fs::read(dir.join("backup.db")).unwrap();
    let again = seam_in(&dir, &["backup", "--db", "sqlite:seam.db", "-o", "backup.db"], &[]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("backup.db already exists; pass --force"), "{again:?}");
    assert_eq!(std::fs::read(dir.join("backup.db")).unwrap(), kept);
    let forced = seam_in(&dir, &["backup", "--db", "sqlite:seam.db", "-o", "backup.db", "--force"], &[]);
    assert_eq!(forced.code, 0, "{forced:?}");

    // The container's health check.
    let healthz = format!("{}/healthz", server.url);
    let healthy = seam_in(&dir, &["healthcheck", "--url", &healthz], &[]);
    assert_eq!(healthy.code, 0, "{healthy:?}");
    assert!(healthy.stdout.contains("healthy"), "{healthy:?}");
    let (status, _, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
    let down = seam_in(&dir, &["healthcheck", "--url", &healthz, "--timeout", "2"], &[]);
    assert_eq!(down.code, 1, "{down:?}");
    assert!(down.stderr.contains(&healthz), "{down:?}");
}

#[test]
fn a_backup_of_postgres_prints_the_pg_dump_command_and_exits_2() {
    let world = World::new();
    let url = "postgres://seam:pw_not_shown_7731@db.internal:5432/seam";
    let run = seam_in(world.dir.path(), &["backup", "--db", url, "-o", "seam.dump"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("pg_dump --format=custom --file seam.dump postgres://seam@db.internal:5432/seam"),
        "{run:?}"
    );
    assert!(run.stderr.contains("pg_restore --clean --if-exists --no-owner --dbname"), "{run:?}");
    assert!(
        !run.stderr.contains("pw_not_shown_7731") && !run.stdout.contains("pw_not_shown_7731"),
        "{run:?}"
    );
    assert!(listing(world.dir.path()).is_empty(), "nothing is written");

    // SEAM_DB is the default --db, as for every command.
    let run = seam_in(
        world.dir.path(),
        &["backup", "-o", "seam.dump"],
        &[("SEAM_DB", "postgresql://seam@db/seam")],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("pg_dump --format=custom --file seam.dump postgresql://seam@db/seam"),
        "{run:?}"
    );
}

#[test]
fn a_backup_needs_an_existing_database_and_a_new_file() {
    let world = World::new();
    let dir = world.dir.path();
    let run = seam_in(dir, &["backup", "-o", "b.db"], &[("SEAM_DB", "sqlite:missing.db")]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no database at missing.db"), "{run:?}");
    assert!(!dir.join("missing.db").exists(), "the source is not created");

    assert_eq!(seam_in(dir, &["migrate", "--db", "sqlite:seam.db"], &[]).code, 0);
    let run = seam_in(dir, &["backup", "-o", "b.db"], &[("SEAM_DB", "sqlite:seam.db")]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = seam_in(dir, &["backup", "--db", "sqlite:seam.db", "-o", "no/such/folder/b.db"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("does not exist"), "{run:?}");
    let run = seam_in(dir, &["backup", "--db", "sqlite:seam.db", "-o", "seam.db", "--force"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is the database itself"), "{run:?}");
    let run = seam_in(dir, &["backup", "--db", "mysql://x", "-o", "x.db"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("sqlite:PATH"), "{run:?}");
}

// ----- seam doctor ---------------------------------------------------------------------------------------------

/// A folder set up as a real install would be, against `seam sandbox`: the failed-payment playbook, a config
/// naming the sandbox as Stripe, a migrated database, secrets in the environment.
struct Install {
    world: World,
    sandbox: Service,
}

impl Install {
    async fn new(sandbox_key: &str) -> Install {
        let world = World::new();
        let sandbox = Service::sandbox(world.dir.path(), sandbox_key).await;
        std::fs::create_dir(world.path("playbooks")).unwrap();
        std::fs::copy(
            repo().join("playbooks/failed-payment-recovery.toml"),
            world.path("playbooks/failed-payment-recovery.toml"),
        )
        .unwrap();
        let install = Install { world, sandbox };
        install.config("ledger.csv", "");
        install
    }

    /// Writes `seam.toml` with this ledger path and `extra` lines.
    fn config(&self, ledger: &str, extra: &str) {
        self.world.write(
            "seam.toml",
            &format!(
                "workflows = [\"playbooks\"]\ndb = \"sqlite:seam.db\"\n{extra}\n[sources.stripe]\n\n[stripe]\n\
                 base_url = \"{}\"\n\n[ledger]\npath = \"{ledger}\"\n",
                self.sandbox.url
            ),
        );
    }

    fn migrate(&self) {
        let run = seam_in(self.world.dir.path(), &["migrate", "--db", "sqlite:seam.db"], &[]);
        assert_eq!(run.code, 0, "{run:?}");
    }

    /// `seam doctor --config seam.toml ARGS` with the webhook secret and `key` in the environment.
    fn doctor(&self, key: &str, args: &[&str]) -> Run {
        let mut all = vec!["doctor", "--config", "seam.toml"];
        all.extend(args);
        let env = [("SEAM_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET), ("SEAM_STRIPE_API_KEY", key)];
        let run = seam_in(self.world.dir.path(), &all, &env);
        assert_no_secret(&run);
        run
    }
}

/// No secret, nor any recognisable part of one, is printed.
fn assert_no_secret(run: &Run) {
    for secret in [WEBHOOK_SECRET, GOOD_KEY, WRONG_KEY] {
        let tail = &secret[secret.len() - 6..];
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(!text.contains(tail), "{stream} shows part of {secret}:\n{text}");
        }
    }
}

/// The FAIL lines, each with its fix line.
fn failures(run: &Run) -> Vec<String> {
    let lines: Vec<&str> = run.stdout.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.starts_with("FAIL  "))
        .map(|(i, line)| format!("{line}\n{}", lines.get(i + 1).unwrap_or(&"")))
        .collect()
}

#[tokio::test]
async fn doctor_is_all_green_for_a_good_install_and_leaves_no_trace() {
    let install = Install::new(GOOD_KEY).await;
    install.migrate();
    let dir = install.world.dir.path();
    let before = listing(dir);

    let run = install.doctor(GOOD_KEY, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    let (summary, checks) = lines.split_last().unwrap();
    assert!(checks.iter().all(|line| line.starts_with("ok    ")), "{run:?}");
    assert_eq!(*summary, format!("seam doctor: all {} checks passed", checks.len()));
    for expected in [
        "ok    config: seam.toml parses",
        "ok    workflow failed-payment-recovery: version ",
        "ok    source stripe: POST /webhooks/stripe, Stripe signatures, 1 secret (whsec_…)",
        "ok    database sqlite:seam.db: reachable, schema at version ",
        &format!("ok    connector stripe: {} accepts the API key sk_test_…, test mode", install.sandbox.url),
        "ok    ledger ledger.csv: will be created; . is writable",
    ] {
        assert!(run.stdout.contains(expected), "missing {expected:?}:\n{}", run.stdout);
    }
    let after = listing(dir);
    assert!(
        after.iter().all(|name| before.contains(name)),
        "the doctor created a file: {before:?} -> {after:?}"
    );

    // Looking again changes nothing at all. (The first look may have folded the WAL `seam migrate` left into the
    // database file, which changes no data.)
    let db = std::fs::read(dir.join("seam.db")).unwrap();
    assert_eq!(install.doctor(GOOD_KEY, &[]).code, 0);
    assert_eq!(listing(dir), after);
    assert_eq!(std::fs::read(dir.join("seam.db")).unwrap(), db, "the database file is unchanged");
}

#[tokio::test]
async fn doctor_names_the_fix_for_a_wrong_stripe_key_and_never_prints_it() {
    let install = Install::new(GOOD_KEY).await;
    install.migrate();
    let run = install.doctor(WRONG_KEY, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let failed = failures(&run);
    assert_eq!(failed.len(), 1, "only the key is wrong: {run:?}");
    assert!(
        failed[0].starts_with(&format!(
            "FAIL  connector stripe: {} refused the API key sk_test_… (HTTP 401)",
            install.sandbox.url
        )),
        "{run:?}"
    );
    assert!(failed[0].contains("fix: set SEAM_STRIPE_API_KEY"), "{run:?}");
    assert!(run.stderr.contains("seam doctor: 1 of "), "{run:?}");
}

#[tokio::test]
async fn doctor_reports_an_unmigrated_database_and_neither_creates_nor_migrates_it() {
    let install = Install::new(GOOD_KEY).await;
    let dir = install.world.dir.path();

    let run = install.doctor(GOOD_KEY, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        failures(&run),
        [
            "FAIL  database sqlite:seam.db: no database file there (not migrated)\n      fix: run `seam migrate --db \
          sqlite:seam.db`, or correct the path"
        ],
        "{run:?}"
    );
    assert!(!dir.join("seam.db").exists(), "the doctor does not create the database");

    // An empty database file: there, but never migrated; and still not migrated after the doctor looked.
    std::fs::write(dir.join("seam.db"), b"").unwrap();
    let run = install.doctor(GOOD_KEY, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        failures(&run),
        ["FAIL  database sqlite:seam.db: not migrated\n      fix: run `seam migrate --db sqlite:seam.db`"],
        "{run:?}"
    );
    let url = format!("sqlite:{}", dir.join("seam.db").display());
    let status = seam_store::schema_status(&url, Duration::from_secs(10)).await.unwrap();
    assert!(matches!(status, SchemaStatus::NotMigrated { .. }), "{status:?}");

    // Doing what the fix says makes the check pass.
    install.migrate();
    assert_eq!(install.doctor(GOOD_KEY, &[]).code, 0);

    // PostgreSQL: a fresh, empty database, named with --db (which wins over the config's `db`).
    let Some(postgres) = seam_store::testing::fresh_postgres().await else { return };
    let run = install.doctor(GOOD_KEY, &["--db", &postgres.url]);
    assert_eq!(run.code, 1, "{run:?}");
    let failed = failures(&run);
    assert_eq!(failed.len(), 1, "{run:?}");
    assert!(failed[0].contains(": not migrated\n      fix: run `seam migrate --db postgres://"), "{run:?}");
    let status = seam_store::schema_status(&postgres.url, Duration::from_secs(10)).await.unwrap();
    assert!(matches!(status, SchemaStatus::NotMigrated { .. }), "{status:?}");
}

#[tokio::test]
async fn doctor_reports_a_ledger_it_cannot_write() {
    let install = Install::new(GOOD_KEY).await;
    install.migrate();
    let dir = install.world.dir.path();
    let ledger_failure = |ledger: &str, problem: &str, fix: &str| {
        install.config(ledger, "");
        let run = install.doctor(GOOD_KEY, &[]);
        assert_eq!(run.code, 1, "{ledger}: {run:?}");
        let failed = failures(&run);
        assert_eq!(failed.len(), 1, "{ledger}: {run:?}");
        assert!(failed[0].starts_with("FAIL  ledger "), "{ledger}: {run:?}");
        assert!(failed[0].contains(problem) && failed[0].contains(fix), "{ledger}: {run:?}");
    };

    // A folder nobody may create files in, root included (sysfs refuses them).
    if Path::new("/sys").is_dir() {
        ledger_failure(
            "/sys/ledger.csv",
            "its folder /sys cannot be written",
            "let the user seam runs as write",
        );
    }
    std::fs::write(dir.join("blocker"), "a file, not a folder").unwrap();
    ledger_failure("blocker/ledger.csv", "blocker is a file, not a folder", "[ledger] path");
    ledger_failure("missing/ledger.csv", "its folder missing does not exist", "mkdir -p missing");
    std::fs::create_dir(dir.join("ledger.csv")).unwrap();
    ledger_failure("ledger.csv", "is a folder, not a file", "[ledger] path");

    // A read-only folder, where permissions apply (not to root).
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir(dir.join("locked")).unwrap();
    std::fs::set_permissions(dir.join("locked"), std::fs::Permissions::from_mode(0o555)).unwrap();
    let privileged = std::fs::write(dir.join("locked/probe"), "").is_ok();
    if !privileged {
        ledger_failure("locked/ledger.csv", "its folder locked cannot be written", "chown");
    }
    std::fs::set_permissions(dir.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = listing(&dir.join("locked"));
    install.config("locked/ledger.csv", "");
    assert_eq!(install.doctor(GOOD_KEY, &[]).code, 0);
    assert_eq!(listing(&dir.join("locked")), before, "the writability probe leaves nothing behind");
}

#[tokio::test]
async fn doctor_names_every_missing_secret_and_key() {
    let install = Install::new(GOOD_KEY).await;
    install.migrate();
    let dir = install.world.dir.path();
    install.config("ledger.csv", "");
    std::fs::write(
        dir.join("seam.toml"),
        std::fs::read_to_string(dir.join("seam.toml")).unwrap() + "\n[sources.erp]\nkind = \"generic\"\n",
    )
    .unwrap();
    // No SEAM_STRIPE_WEBHOOK_SECRET, no SEAM_STRIPE_API_KEY, no SEAM_ERP_WEBHOOK_SECRET.
    let run = seam_in(dir, &["doctor", "--config", "seam.toml"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let failed = failures(&run).join("\n");
    for expected in [
        "FAIL  source erp: no secret, so it is not enabled and POST /webhooks/erp answers 404",
        "SEAM_ERP_WEBHOOK_SECRET",
        "FAIL  source stripe: workflow failed-payment-recovery needs its events, but it has no secret",
        "fix: set SEAM_STRIPE_WEBHOOK_SECRET",
        "FAIL  connector stripe: workflow failed-payment-recovery (stripe.pay_invoice",
        "no API key is set",
        "fix: set SEAM_STRIPE_API_KEY",
    ] {
        assert!(failed.contains(expected), "missing {expected:?}:\n{}", run.stdout);
    }
    // A request timeout of 0 would fail every call: the configuration itself is refused (as `serve` refuses it),
    // naming the setting.
    install.config("ledger.csv", "");
    let text = std::fs::read_to_string(dir.join("seam.toml")).unwrap();
    std::fs::write(dir.join("seam.toml"), text.replace("[stripe]\n", "[stripe]\ntimeout_secs = 0\n"))
        .unwrap();
    let run = install.doctor(GOOD_KEY, &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("stripe.timeout_secs: must be a positive number of seconds"), "{run:?}");
}

#[test]
fn doctor_exits_2_when_the_config_cannot_be_read() {
    let world = World::new();
    let dir = world.dir.path();
    let run = seam_in(dir, &["doctor", "--config", "nowhere.toml"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("nowhere.toml: cannot read"), "{run:?}");

    world.write("typo.toml", "workflows = [\"playbooks\"]\nlisen = \"0.0.0.0:8717\"\n");
    let run = seam_in(dir, &["doctor", "--config", "typo.toml"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("typo.toml") && run.stderr.contains("lisen"), "{run:?}");
    assert!(run.stdout.is_empty(), "nothing is checked without a config: {run:?}");
}

// ----- deploy/ -------------------------------------------------------------------------------------------------

/// The files whose commands are checked: everything in deploy/ and the page that explains them.
fn deploy_files() -> Vec<(String, String)> {
    let root = repo();
    let mut files: Vec<(String, String)> = listing(&root.join("deploy"))
        .into_iter()
        .map(|name| format!("deploy/{name}"))
        .chain(["docs/deploy.md".to_owned()])
        .map(|name| {
            let text = std::fs::read_to_string(root.join(&name)).unwrap();
            (name, text)
        })
        .collect();
    files.sort();
    files
}

/// Words that end a shell command.
const SEPARATORS: &[&str] = &[";", "&&", "||", "|", ">", "2>", ">>", "#", "\\"];

/// Every `seam …` command in `text`, as the words after `seam`: where `seam` (or `/usr/local/bin/seam`) starts a
/// command (a line, after `sudo`, `;`, `&&`, `|`, `sh -c '`, `docker exec NAME`, `ExecStart=`) or a code span
/// (`` `seam doctor` ``). A bare mention without arguments (`the seam user`, an install path) is not a command.
fn invocations(text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, word) in words.iter().enumerate() {
            let (word, code_span) = match word.split_once('=') {
                Some((key, value)) if key.starts_with("Exec") => (value, false),
                _ => (*word, word.starts_with('`') || word.starts_with("(`")),
            };
            let bare = word.trim_start_matches(['(', '`', '\'', '"']);
            if bare != "seam" && bare != "/usr/local/bin/seam" {
                continue;
            }
            let previous = if i == 0 { "" } else { words[i - 1] };
            let starts_command = i == 0
                || code_span
                || word.starts_with('\'')
                || bare.starts_with('/')
                || ["#", "$", "sudo", "&&", "||", "|", ";"].contains(&previous)
                || previous.ends_with(';')
                || (i >= 3
                    && words[i - 2] == "exec"
                    && ["docker", "podman"].contains(&words[i - 3].trim_start_matches('`')));
            if !starts_command || (i >= 1 && previous == "-u") {
                continue;
            }
            let mut args = Vec::new();
            for next in &words[i + 1..] {
                if SEPARATORS.contains(next) {
                    break;
                }
                // A closing quote or backtick, or a `;`, `)` or `,`, ends the command inside the word.
                let end = next.find(['`', '\'', '"', ';', ')']).unwrap_or(next.len());
                let word = next[..end].trim_end_matches([',', '.']);
                if !word.is_empty() {
                    args.push(word.to_owned());
                }
                if word.len() != next.len() {
                    break;
                }
            }
            if args.first().is_some_and(|first| !first.starts_with('/') && !first.contains('.')) {
                found.push(args);
            }
        }
    }
    found
}

/// `seam <command…> --help`, cached; `None` when there is no such command.
fn help(cache: &mut BTreeMap<Vec<String>, Option<String>>, command: &[String]) -> Option<String> {
    cache
        .entry(command.to_vec())
        .or_insert_with(|| {
            let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
            args.push("--help");
            let run = seam_in(&repo(), &args, &[]);
            (run.code == 0).then_some(run.stdout)
        })
        .clone()
}

/// Whether `help` documents `flag` (`--db`, `-o`) as a whole word.
fn documents(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(at, _)| {
        let before = help[..at].chars().next_back();
        let after = help[at + flag.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '-')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_')
    })
}

#[test]
fn deploy_files_use_only_commands_flags_and_paths_that_exist() {
    let root = repo();
    let mut cache = BTreeMap::new();
    let mut problems = Vec::new();
    let mut checked = BTreeSet::new();
    for (name, text) in deploy_files() {
        // `seam` commands and their flags.
        let mut commands = invocations(&text);
        if name == "deploy/Containerfile" {
            commands.extend(container(&text).invocations);
        }
        for args in commands {
            let mut command = vec![args[0].clone()];
            let Some(mut text) = help(&mut cache, &command) else {
                problems.push(format!("{name}: `seam {}`: no such command", args.join(" ")));
                continue;
            };
            if text.contains("\nCommands:") && args.len() > 1 {
                command.push(args[1].clone());
                match help(&mut cache, &command) {
                    Some(sub) => text = sub,
                    None => {
                        problems.push(format!("{name}: `seam {}`: no such command", command.join(" ")));
                        continue;
                    }
                }
            }
            for arg in &args[command.len()..] {
                let flag = arg.trim_start_matches('[').trim_end_matches(']');
                let flag = flag.split_once('=').map_or(flag, |(flag, _)| flag);
                if flag.starts_with('-') && flag.len() > 1 && !documents(&text, flag) {
                    problems.push(format!("{name}: `seam {}`: no flag {flag}", command.join(" ")));
                }
            }
            checked.insert(command.join(" "));
        }
        // Repository paths: plain ones, and Markdown links relative to the file.
        for word in text.split_whitespace() {
            let path = word.trim_start_matches(['(', '[', '`', '\'', '"']);
            let path = path.split(['`', '\'', '"', ']', '(', ')', ',']).next().unwrap();
            let path = path.trim_end_matches(['.', ';', ':']);
            let in_repo = ["deploy/", "playbooks/", "docs/", "crates/", "examples/"]
                .iter()
                .any(|prefix| path.starts_with(prefix));
            if in_repo && !path.contains(['*', '$', '<', '{']) && !root.join(path).exists() {
                problems.push(format!("{name}: {path} is not in the repository"));
            }
        }
        for (at, _) in text.match_indices("](") {
            let target = text[at + 2..].split(')').next().unwrap();
            let target = target.split('#').next().unwrap();
            if target.is_empty() || target.contains("://") {
                continue;
            }
            let base = root.join(&name);
            if !base.parent().unwrap().join(target).exists() {
                problems.push(format!("{name}: the link {target} leads nowhere"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for expected in ["serve", "doctor", "backup", "healthcheck", "migrate"] {
        assert!(checked.contains(expected), "no `seam {expected}` was found to check: {checked:?}");
    }
}

/// What a Containerfile says, as far as the checks need.
#[derive(Debug, Default)]
struct Container {
    /// `seam` commands run by `CMD` (after the `seam` entry point) and `HEALTHCHECK`.
    invocations: Vec<Vec<String>>,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    healthcheck: Vec<String>,
    env: BTreeMap<String, String>,
    volumes: Vec<String>,
    expose: Vec<String>,
    /// `COPY` sources from the build context, and `COPY --from` (source, destination) pairs.
    copies: Vec<(String, String)>,
    copies_from_build: Vec<(String, String)>,
    build_workdir: String,
    runs: Vec<String>,
}

fn container(text: &str) -> Container {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    let array = |text: &str| -> Vec<String> { serde_json::from_str(text.trim()).unwrap() };
    let mut container = Container::default();
    let mut stage = 0;
    for instruction in joined.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        let (keyword, rest) = instruction.split_once(' ').unwrap_or((instruction, ""));
        match keyword {
            "FROM" => stage += 1,
            "WORKDIR" if stage == 1 => container.build_workdir = rest.trim().to_owned(),
            "RUN" => container.runs.push(rest.to_owned()),
            "ENTRYPOINT" => container.entrypoint = array(rest),
            "CMD" => container.cmd = array(rest),
            "HEALTHCHECK" => container.healthcheck = array(rest.split_once("CMD").unwrap().1),
            "VOLUME" => container.volumes.extend(rest.split_whitespace().map(str::to_owned)),
            "EXPOSE" => container.expose.extend(rest.split_whitespace().map(str::to_owned)),
            "ENV" => {
                for pair in rest.split_whitespace() {
                    let (key, value) = pair.split_once('=').unwrap();
                    container.env.insert(key.to_owned(), value.to_owned());
                }
            }
            "COPY" => {
                let words: Vec<&str> = rest.split_whitespace().collect();
                let (destination, sources) = words.split_last().unwrap();
                match sources.split_first() {
                    Some((from, sources)) if from.starts_with("--from=") => container
                        .copies_from_build
                        .extend(sources.iter().map(|s| (s.to_string(), destination.to_string()))),
                    _ => container
                        .copies
                        .extend(sources.iter().map(|s| (s.to_string(), destination.to_string()))),
                }
            }
            _ => {}
        }
    }
    if container.entrypoint == ["/usr/local/bin/seam"] {
        container.invocations.push(container.cmd.clone());
    }
    if container.healthcheck.first().map(String::as_str) == Some("/usr/local/bin/seam") {
        container.invocations.push(container.healthcheck[1..].to_vec());
    }
    container
}

/// `KEY=value` lines of a systemd unit (the last value of each key, and all of them).
fn unit(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#') && !l.starts_with('[')) {
        if let Some((key, value)) = line.split_once('=') {
            keys.entry(key.to_owned()).or_default().push(value.to_owned());
        }
    }
    keys
}

fn port_of(address: &str) -> &str {
    let address = address.trim_end_matches('/').split("/healthz").next().unwrap();
    address.rsplit(':').next().unwrap().trim_end_matches(';')
}

/// The argument after `flag` in a command line.
fn flag_value<'a>(words: &[&'a str], flag: &str) -> Option<&'a str> {
    words.iter().position(|w| *w == flag).and_then(|at| words.get(at + 1).copied())
}

#[test]
fn the_deploy_files_agree_with_each_other_and_the_config_loads() {
    let root = repo();
    let read = |name: &str| std::fs::read_to_string(root.join(name)).unwrap();
    let service = unit(&read("deploy/seam.service"));
    let image = container(&read("deploy/Containerfile"));
    let config = seam_runtime::Config::load(&root.join("deploy/seam.toml")).unwrap();
    let docs = read("docs/deploy.md") + &read("deploy/seam.service");

    // The unit: the state folder is the working directory and holds the database and the ledger; the config and
    // the secrets file it names are installed from the repository by the documented steps.
    let exec: Vec<&str> = service["ExecStart"][0].split_whitespace().collect();
    assert_eq!(exec[..2], ["/usr/local/bin/seam", "serve"]);
    let state = format!("/var/lib/{}", service["StateDirectory"][0]);
    assert_eq!(service["WorkingDirectory"][0], state);
    let db = flag_value(&exec, "--db").expect("ExecStart passes --db");
    assert_eq!(config.db.as_deref(), Some(db), "the config's db and the unit's --db agree");
    assert!(db.starts_with(&format!("sqlite:{state}/")), "{db} is in {state}");
    let ledger = config.ledger.as_ref().and_then(|l| l.path.clone()).unwrap();
    assert!(
        ledger.starts_with(&state),
        "the ledger {} is in {state}, the one folder the unit may write",
        ledger.display()
    );
    // `install ... REPO-FILE DESTINATION`, in a code block or a comment, after any `sudo`.
    let installed = |destination: &str| {
        docs.lines().any(|line| {
            let line = line.trim_start().trim_start_matches('#');
            let command = line.split(" #").next().unwrap();
            let words: Vec<&str> = command.split_whitespace().skip_while(|w| *w == "sudo").collect();
            words.first() == Some(&"install")
                && words.last() == Some(&destination)
                && words.iter().any(|w| w.contains('/') && root.join(w).is_file())
        })
    };
    let config_path = flag_value(&exec, "--config").expect("ExecStart passes --config");
    for path in [config_path, service["EnvironmentFile"][0].as_str()] {
        assert!(installed(path), "no documented `install REPO-FILE {path}` line");
    }
    assert_eq!(service["User"], ["seam"]);
    assert!(
        docs.contains("useradd --system --user-group --home-dir /var/lib/seam"),
        "the seam user is created"
    );

    // The config's workflows resolve beside it; installed there from playbooks/.
    let workflows_dir = Path::new(config_path).parent().unwrap().join("playbooks");
    assert_eq!(
        config.workflows,
        [root.join("deploy/playbooks")],
        "workflows = [\"playbooks\"], beside the config"
    );
    assert!(docs.contains(&format!("playbooks/failed-payment-recovery.toml {}/", workflows_dir.display())));
    assert!(image.copies.contains(&("playbooks".to_owned(), workflows_dir.display().to_string())));
    assert!(image.copies.contains(&("deploy/seam.toml".to_owned(), config_path.to_owned())));

    // The image: everything copied from the context exists; the binary is the one the build stage builds; the
    // database is on the volume; one port everywhere.
    for (source, _) in &image.copies {
        assert!(root.join(source).exists() || source == "./", "COPY {source}: not in the repository");
    }
    let build = image.runs.iter().find(|r| r.contains("cargo build")).unwrap();
    assert!(build.contains("--release") && build.contains("-p seam"), "{build}");
    let from_build = format!("{}/target/release/seam", image.build_workdir);
    assert_eq!(image.copies_from_build, [(from_build, "/usr/local/bin/seam".to_owned())]);
    assert_eq!(image.entrypoint, ["/usr/local/bin/seam"]);
    assert_eq!(image.cmd[..3], ["serve", "--config", config_path]);
    let volume = &image.volumes[0];
    assert!(image.env["SEAM_DB"].starts_with(&format!("sqlite:{volume}/")), "{:?}", image.env);
    assert!(ledger.starts_with(volume), "the ledger is on the volume");
    assert!(image.env["SEAM_LISTEN"].starts_with("0.0.0.0:"), "a container listens on every interface");
    let port = port_of(&image.env["SEAM_LISTEN"]);
    assert_eq!(image.expose, [port]);
    assert_eq!(image.healthcheck[1..3], ["healthcheck", "--url"]);
    assert_eq!(port_of(&image.healthcheck[3]), port);
    assert!(image.healthcheck[3].ends_with("/healthz"));

    // The proxies send /webhooks/ to the address Seam listens on.
    let listen = config.listen.clone().unwrap();
    assert!(listen.starts_with("127.0.0.1:"), "behind a proxy on the same host");
    assert_eq!(port_of(&listen), port);
    let caddy = read("deploy/Caddyfile");
    assert!(caddy.contains("handle /webhooks/*") && caddy.contains(&format!("reverse_proxy {listen}")));
    let nginx = read("deploy/nginx.conf");
    assert!(nginx.contains("location /webhooks/") && nginx.contains(&format!("server {listen};")));
    assert!(nginx.contains("proxy_set_header X-Forwarded-Proto $scheme;"));

    // The secrets file names every variable the config leaves to the environment.
    let env_example = read("deploy/seam.env.example");
    for variable in ["SEAM_STRIPE_WEBHOOK_SECRET=", "SEAM_STRIPE_API_KEY="] {
        assert!(
            env_example.lines().any(|l| l.starts_with(variable)),
            "{variable} missing from seam.env.example"
        );
    }
}

#[tokio::test]
async fn the_deploy_config_passes_the_doctor_where_it_is_installed() {
    // /etc/seam as the install steps leave it: seam.toml beside playbooks/.
    let world = World::new();
    let etc = world.path("etc/seam");
    std::fs::create_dir_all(etc.join("playbooks")).unwrap();
    std::fs::copy(repo().join("deploy/seam.toml"), etc.join("seam.toml")).unwrap();
    std::fs::copy(
        repo().join("playbooks/failed-payment-recovery.toml"),
        etc.join("playbooks/failed-payment-recovery.toml"),
    )
    .unwrap();
    let sandbox = Service::sandbox(world.dir.path(), GOOD_KEY).await;
    assert_eq!(seam_in(world.dir.path(), &["migrate", "--db", "sqlite:seam.db"], &[]).code, 0);
    let config = etc.join("seam.toml").display().to_string();
    let env = [
        ("SEAM_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("SEAM_STRIPE_API_KEY", GOOD_KEY),
        // The environment points Stripe at the sandbox, as it can in production at a proxy.
        ("SEAM_STRIPE_BASE_URL", sandbox.url.as_str()),
    ];
    let run = seam_in(world.dir.path(), &["doctor", "--config", &config, "--db", "sqlite:seam.db"], &env);
    assert_no_secret(&run);
    for expected in [
        format!("ok    config: {config} parses"),
        "ok    workflow failed-payment-recovery: ".to_owned(),
        "ok    source stripe: POST /webhooks/stripe".to_owned(),
        "ok    database sqlite:seam.db: reachable".to_owned(),
        "ok    connector stripe: ".to_owned(),
    ] {
        assert!(run.stdout.contains(&expected), "missing {expected:?}:\n{run:?}");
    }
    // Only the ledger's folder, /var/lib/seam, is missing here (unless this machine has one).
    let failed = failures(&run);
    assert!(failed.iter().all(|f| f.starts_with("FAIL  ledger /var/lib/seam/ledger.csv")), "{run:?}");
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let Some(analyze) =
        ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].into_iter().find(|p| Path::new(p).exists())
    else {
        let message = "systemd-analyze not found (apt-get install -y systemd): the unit check was skipped";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}, and CI=true forbids skipping");
        println!("SKIPPED: {message}");
        return;
    };
    // The unit as installed, with the binary where this build put it.
    let world = World::new();
    let text = std::fs::read_to_string(repo().join("deploy/seam.service"))
        .unwrap()
        .replace("/usr/local/bin/seam", env!("CARGO_BIN_EXE_seam"));
    let unit = world.write("seam.service", &text);
    let output = Command::new(analyze).args(["verify", unit.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.trim().is_empty(), "systemd-analyze has remarks (an unknown key or value?):\n{stderr}");
}
