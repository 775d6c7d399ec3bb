//! `seam users` and `seam tokens` through the real binary, the first-admin hint of a fresh `seam serve`, and the
//! rule that a token's secret appears nowhere but the one line `seam tokens create` prints: not in
//! `seam tokens list`, not in the database, not in any log line of a server it was used against.

mod common;
#[path = "common/process.rs"]
mod process;

use std::time::Duration;

use common::World;
use process::{Process, free_port};

const PASSWORD: &str = "correct horse battery";

fn add_user(world: &World, email: &str, role: &str, password: &str) -> common::Run {
    world.seam_with_input(
        &["users", "add", email, "--role", role, "--db", "sqlite:seam.db"],
        &format!("{password}\n"),
    )
}

#[test]
fn users_are_added_listed_reset_and_removed() {
    let world = World::new();
    let db = ["--db", "sqlite:seam.db"];
    let list = |world: &World| world.seam(&[&["users", "list"][..], &db].concat()).stdout;
    assert!(list(&world).contains("seam users add you@brand.example --role admin"), "{}", list(&world));

    let added = add_user(&world, "Ana@Brand.example", "finance", PASSWORD);
    assert_eq!(added.code, 0, "{}", added.stderr);
    assert!(added.stdout.contains("ana@brand.example (finance)"), "{}", added.stdout);
    // A duplicate e-mail (however it is written), a short password, an unknown role: exit 2, nothing changes.
    let again = add_user(&world, "ana@brand.example", "admin", PASSWORD);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let short = add_user(&world, "bo@brand.example", "support", "too short");
    assert_eq!(short.code, 2);
    assert!(short.stderr.contains("at least 12"), "{}", short.stderr);
    let role = add_user(&world, "bo@brand.example", "owner", PASSWORD);
    assert_eq!(role.code, 2, "{}", role.stderr);
    let none =
        world.seam(&["users", "add", "cy@brand.example", "--role", "support", "--db", "sqlite:seam.db"]);
    assert_eq!(none.code, 2, "no password on standard input: {}", none.stderr);
    let shown = list(&world);
    assert!(shown.contains("ana@brand.example") && shown.contains("finance"), "{shown}");
    assert!(!shown.contains("bo@brand.example") && !shown.contains("cy@brand.example"), "{shown}");
    assert!(!shown.contains("argon2"), "no hash is shown: {shown}");

    // The password is stored as an Argon2id hash, never as given.
    let bytes = std::fs::read(world.path("seam.db")).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(PASSWORD));
    let wal = std::fs::read(world.path("seam.db-wal")).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&wal).contains(PASSWORD));

    let reset = world.seam_with_input(
        &["users", "reset-password", "ana@brand.example", "--db", "sqlite:seam.db"],
        "another long password\n",
    );
    assert_eq!(reset.code, 0, "{}", reset.stderr);
    let unknown = world
        .seam_with_input(&["users", "reset-password", "zed@brand.example", "--db", "sqlite:seam.db"], "x\n");
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("no user zed@brand.example"), "{}", unknown.stderr);
    let removed = world.seam(&["users", "remove", "ana@brand.example", "--db", "sqlite:seam.db"]);
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert!(!list(&world).contains("ana@brand.example"));
    assert_eq!(world.seam(&["users", "remove", "ana@brand.example", "--db", "sqlite:seam.db"]).code, 2);
}

#[test]
fn a_token_is_shown_once_and_listed_without_its_secret() {
    let world = World::new();
    let secret = world.token("sqlite:seam.db", "ci", "finance");
    assert!(secret.len() >= 40, "high entropy: {secret}");
    let create =
        world.seam(&["tokens", "create", "--name", "ci", "--role", "admin", "--db", "sqlite:seam.db"]);
    assert_eq!(create.code, 2, "a name is never reused");
    assert!(create.stdout.is_empty());
    let list = world.seam(&["tokens", "list", "--db", "sqlite:seam.db"]);
    assert_eq!(list.code, 0);
    assert!(list.stdout.contains("ci") && list.stdout.contains("finance") && list.stdout.contains("active"));
    assert!(list.stdout.contains("never"), "not used yet: {}", list.stdout);
    let body = &secret["seam_".len()..];
    assert!(!list.stdout.contains(body) && !list.stderr.contains(body), "{}", list.stdout);
    let bytes = std::fs::read(world.path("seam.db")).unwrap();
    let wal = std::fs::read(world.path("seam.db-wal")).unwrap_or_default();
    for file in [bytes, wal] {
        assert!(!String::from_utf8_lossy(&file).contains(body), "the database keeps only the hash");
    }
    let revoke = world.seam(&["tokens", "revoke", "ci", "--db", "sqlite:seam.db"]);
    assert_eq!(revoke.code, 0, "{}", revoke.stderr);
    let list = world.seam(&["tokens", "list", "--db", "sqlite:seam.db"]).stdout;
    assert!(list.contains("revoked"), "{list}");
    assert_eq!(world.seam(&["tokens", "revoke", "ci", "--db", "sqlite:seam.db"]).code, 2);
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

/// What `seam serve` prints when it starts: its first line, and the rest of that banner (written at once).
fn serve_banner(world: &World) -> String {
    use std::io::{BufRead, BufReader, Read};
    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_seam"))
        .args(["serve", "--listen", &listen, "--db", "sqlite:seam.db"])
        .current_dir(world.dir.path())
        .env_remove("SEAM_DB")
        .env_remove("SEAM_LISTEN")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    stdout.read_to_string(&mut banner).unwrap();
    banner
}

#[test]
fn a_fresh_serve_says_how_to_create_the_first_admin() {
    let world = World::new();
    let banner = serve_banner(&world);
    assert!(banner.contains("serving on"), "{banner}");
    assert!(banner.contains("seam users add you@brand.example --role admin"), "{banner}");
    assert!(banner.contains("seam tokens create"), "{banner}");
    assert_eq!(add_user(&world, "owner@brand.example", "admin", PASSWORD).code, 0);
    let banner = serve_banner(&world);
    assert!(banner.contains("serving on"), "{banner}");
    assert!(!banner.contains("seam users add"), "a user exists: {banner}");
}

/// "The secret token never appears in any log line": a server logging everything (`SEAM_LOG=trace`, text and
/// JSON) is called with the token, with a wrong one and from a signed-in session; its output never holds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_token_never_appears_in_a_log_line() {
    let world = World::new();
    let token = world.token("sqlite:seam.db", "ops", "admin");
    assert_eq!(add_user(&world, "ana@brand.example", "finance", PASSWORD).code, 0);
    let client = client();
    for format in ["text", "json"] {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let url = format!("http://{listen}");
        let args = ["serve", "--listen", &listen, "--db", "sqlite:seam.db", "--log-format", format];
        let mut serve = Process::start(world.dir.path(), &args, &[("SEAM_LOG", "trace")]);
        serve.wait_until_answering(&format!("{url}/healthz"));
        for path in ["/api/runs", "/api/inbox", "/api/ledger", "/api/runs/run_nope", "/metrics"] {
            let response = client.get(format!("{url}{path}")).bearer_auth(&token).send().await.unwrap();
            assert!([200, 404].contains(&response.status().as_u16()), "{path}");
        }
        let cancel = client
            .post(format!("{url}/api/runs/run_nope/cancel"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "by": "someone" }))
            .send()
            .await
            .unwrap();
        assert_eq!(cancel.status(), 404);
        let wrong = format!("{token}x");
        let refused = client.get(format!("{url}/api/runs")).bearer_auth(&wrong).send().await.unwrap();
        assert_eq!(refused.status(), 401);
        let login = client
            .post(format!("{url}/login"))
            .json(&serde_json::json!({ "email": "ana@brand.example", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let session = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let failed = client
            .post(format!("{url}/login"))
            .json(&serde_json::json!({ "email": "ana@brand.example", "password": "wrong password here" }))
            .send()
            .await
            .unwrap();
        assert_eq!(failed.status(), 401);
        let (stdout, stderr) = serve.stop();
        assert!(
            stderr.contains("DEBUG sqlx::query") || stderr.contains("\"level\":\"DEBUG\""),
            "the server logs everything, down to every query:\n{stderr}"
        );
        let secret = &token["seam_".len()..];
        let session_id = session.split_once('=').unwrap().1;
        for (name, output) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert!(!output.contains(secret), "{format} {name} holds the token:\n{output}");
            assert!(!output.contains(session_id), "{format} {name} holds the session id");
            assert!(!output.contains(PASSWORD) && !output.contains("wrong password here"), "{format} {name}");
        }
    }
}
