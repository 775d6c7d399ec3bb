//! A real server for integration tests: port 0, a fresh SQLite file or a fresh PostgreSQL database, a manual
//! clock, and a mock HTTP service that records every request (with its idempotency key) and answers as scripted.
//! The JSON API takes tokens only: the world makes an admin token (`test-admin`) that `get` and `post_json` send,
//! and `token` makes others (`get_as`, `post_json_as`).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use seam_connectors::verify::generic_signature;
use seam_flow::{Clock, ManualClock, Timestamp};
use seam_runtime::{Config, Role};
use seam_store::testing::{TempPostgres, fresh_postgres};
use seam_web::{RunningServer, ServerOptions};
use serde_json::{Value, json};

pub const SECRET: &str = "test-secret";
/// Monday 2 March 2026, 10:00 UTC.
pub const START: i64 = 1_772_445_600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One request the mock service received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub key: Option<String>,
    pub body: Value,
    pub status: u16,
}

#[derive(Debug, Default)]
pub struct MockState {
    pub seen: Mutex<Vec<Seen>>,
    /// Statuses to answer per path, in order; 200 once a path's script is used up.
    pub script: Mutex<HashMap<String, VecDeque<u16>>>,
    /// Answers already given per idempotency key: a repeated key gets the same answer, as Stripe does.
    pub replies: Mutex<HashMap<String, (u16, Value)>>,
}

pub struct Mock {
    pub url: String,
    pub host: String,
    pub state: Arc<MockState>,
}

async fn mock_handler(
    State(state): State<Arc<MockState>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, axum::Json<Value>) {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let replay = key.as_ref().and_then(|key| state.replies.lock().unwrap().get(key).cloned());
    if let Some((status, reply)) = replay {
        state.seen.lock().unwrap().push(Seen { path: path.clone(), key: key.clone(), body, status });
        return (StatusCode::from_u16(status).unwrap(), axum::Json(reply));
    }
    let status = state.script.lock().unwrap().get_mut(&path).and_then(VecDeque::pop_front).unwrap_or(200);
    let reply = json!({ "ok": status < 300, "path": path, "echo": body });
    if let Some(key) = &key {
        state.replies.lock().unwrap().insert(key.clone(), (status, reply.clone()));
    }
    state.seen.lock().unwrap().push(Seen { path, key, body, status });
    (StatusCode::from_u16(status).unwrap(), axum::Json(reply))
}

impl Mock {
    pub async fn start() -> Mock {
        let state = Arc::new(MockState::default());
        let app = axum::Router::new().route("/{*path}", post(mock_handler)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Mock { url: format!("http://{addr}"), host: addr.to_string(), state }
    }

    pub fn script(&self, path: &str, statuses: &[u16]) {
        self.state.script.lock().unwrap().insert(path.to_owned(), statuses.iter().copied().collect());
    }

    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.state.seen.lock().unwrap().iter().filter(|s| s.path == path).cloned().collect()
    }
}

pub struct World {
    pub server: Option<RunningServer>,
    pub clock: Arc<ManualClock>,
    pub mock: Mock,
    pub dir: tempfile::TempDir,
    pub db_url: String,
    pub client: reqwest::Client,
    pub ledger: std::path::PathBuf,
    /// The secret of the admin token `test-admin`, which `get` and `post_json` send.
    pub admin: String,
    _pg: Option<TempPostgres>,
}

/// Replaces `MOCK` in workflow text with the mock service's URL.
pub fn workflow(text: &str, mock: &Mock) -> String {
    text.replace("MOCK", &mock.url)
}

impl World {
    /// Starts a server running `workflows` (TOML texts, `MOCK` standing for the mock's URL), or `None` when the
    /// PostgreSQL backend is unavailable outside CI (`fresh_postgres` prints SKIPPED).
    pub async fn start(backend: Backend, workflows: &[&str], extra_config: &str) -> Option<World> {
        let dir = tempfile::tempdir().unwrap();
        let (db_url, pg) = match backend {
            Backend::Sqlite => (format!("sqlite:{}", dir.path().join("seam.db").display()), None),
            Backend::Postgres => {
                let pg = fresh_postgres().await?;
                (pg.url.clone(), Some(pg))
            }
        };
        let mock = Mock::start().await;
        let flows = dir.path().join("workflows");
        std::fs::create_dir_all(&flows).unwrap();
        for (n, text) in workflows.iter().enumerate() {
            std::fs::write(flows.join(format!("w{n}.toml")), workflow(text, &mock)).unwrap();
        }
        let ledger = dir.path().join("ledger.jsonl");
        let config_text = format!(
            r#"
workflows = ["workflows"]

[sources.test]
kind = "generic"
secrets = ["{SECRET}"]

[http]
allow_hosts = ["{host}"]
timeout_secs = 5

[ledger]
path = "ledger.jsonl"

[engine]
poll_ms = 20
reconcile_secs = 3600
lease_secs = 5

[[inbox.routes]]
zone = "order_to_cash"
min_amount_minor = 100000
assignee = "cfo@example.com"

[[inbox.routes]]
team = "finance"
assignee = "finance-oncall@example.com"
{extra_config}
"#,
            host = mock.host
        );
        let config_path = dir.path().join("seam.toml");
        std::fs::write(&config_path, config_text).unwrap();
        let config = Config::load(&config_path).unwrap();
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(START)));
        let store = seam_store::open(&db_url).await.unwrap();
        let admin = seam_web::create_token(store.as_ref(), "test-admin", Role::Admin, START).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = seam_web::start(
            &config,
            ServerOptions {
                store,
                clock: clock.clone(),
                listener,
                default_ledger: None,
                connectors: BTreeMap::new(),
            },
        )
        .await
        .unwrap();
        Some(World {
            server: Some(server),
            clock,
            mock,
            dir,
            db_url,
            client: reqwest::Client::new(),
            ledger,
            admin,
            _pg: pg,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.as_ref().unwrap().url())
    }

    /// Posts a signed event to `/webhooks/test`.
    pub async fn send(&self, event: &Value) -> (u16, Value) {
        let body = event.to_string();
        let signature = generic_signature(body.as_bytes(), SECRET);
        self.post_raw("/webhooks/test", body.into_bytes(), &[("X-Seam-Signature", signature.as_str())]).await
    }

    pub async fn post_raw(&self, path: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut request =
            self.client.post(self.url(path)).body(body).header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// A new API token with this name and role; its secret.
    pub async fn token(&self, name: &str, role: Role) -> String {
        let store = self.server.as_ref().unwrap().engine.store().clone();
        seam_web::create_token(store.as_ref(), name, role, START).await.unwrap()
    }

    /// POSTs JSON to the API as the admin token.
    pub async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        let admin = self.admin.clone();
        self.post_json_as(Some(&admin), path, body).await
    }

    /// POSTs JSON with this token (`None`: no `Authorization` header).
    pub async fn post_json_as(&self, token: Option<&str>, path: &str, body: Value) -> (u16, Value) {
        let bearer = token.map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> =
            bearer.iter().map(|value| ("authorization", value.as_str())).collect();
        self.post_raw(path, body.to_string().into_bytes(), &headers).await
    }

    /// GETs as the admin token.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let admin = self.admin.clone();
        self.get_as(Some(&admin), path).await
    }

    /// GETs with this token (`None`: no `Authorization` header).
    pub async fn get_as(&self, token: Option<&str>, path: &str) -> (u16, Value) {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub fn advance(&self, seconds: u64) {
        self.clock.advance(seam_flow::Duration::from_seconds(seconds));
    }

    pub fn now(&self) -> i64 {
        self.clock.now().unix_seconds()
    }

    /// Waits until the engine has nothing left to do at the current (manual) time: no pending event, no
    /// pending call, no due timer.
    pub async fn settle(&self) {
        let engine = self.server.as_ref().unwrap().engine.clone();
        // The server's own loops run too; a check can fall between their commits, so quiet must hold three
        // times in a row.
        let mut quiet = 0;
        for _ in 0..1000 {
            engine.run_until_idle().await.unwrap();
            let counts = engine.store().counts().await.unwrap();
            let pending_events = counts.events_by_status.iter().any(|(s, n)| s == "pending" && *n > 0);
            let due = engine.store().next_wake().await.unwrap().is_some_and(|at| at <= self.now());
            if counts.calls_pending == 0 && counts.ledger_unshipped == 0 && !pending_events && !due {
                quiet += 1;
                if quiet == 3 {
                    return;
                }
            } else {
                quiet = 0;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the engine did not settle within 10 s");
    }

    pub async fn runs(&self) -> Vec<Value> {
        let (status, body) = self.get("/api/runs?limit=1000").await;
        assert_eq!(status, 200, "{body}");
        body["runs"].as_array().unwrap().clone()
    }

    pub async fn only_run(&self) -> Value {
        let runs = self.runs().await;
        assert_eq!(runs.len(), 1, "expected exactly one run, got {runs:#?}");
        let id = runs[0]["id"].as_str().unwrap().to_owned();
        self.get(&format!("/api/runs/{id}")).await.1
    }

    pub async fn inbox(&self, status: &str) -> Vec<Value> {
        let (code, body) = self.get(&format!("/api/inbox?status={status}")).await;
        assert_eq!(code, 200, "{body}");
        body["items"].as_array().unwrap().clone()
    }

    pub fn ledger_lines(&self) -> Vec<Value> {
        match std::fs::read_to_string(&self.ledger) {
            Ok(text) => text.lines().map(|line| serde_json::from_str(line).unwrap()).collect(),
            Err(_) => Vec::new(),
        }
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }
}

/// Runs each named test body (`async fn name(backend: Backend)`) against SQLite and PostgreSQL, as
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::support::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::support::Backend::Postgres).await
                }
            )*
        }
    };
}
