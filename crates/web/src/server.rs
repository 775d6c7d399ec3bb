//! Assembling and running a server: what `seam serve` does, and what the integration tests start (with a manual
//! clock) on port 0.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use seam_connectors::Connector;
use seam_connectors::gorgias::GorgiasConnector;
use seam_connectors::http::HttpConnector;
use seam_connectors::ledger::{FileSink, HttpSink, LedgerFormat, LedgerSink};
use seam_connectors::shipbob::ShipBobConnector;
use seam_connectors::shopify::ShopifyConnector;
use seam_connectors::stripe::{DEFAULT_BASE_URL, StripeConnector};
use seam_connectors::verify::Verifier;
use seam_connectors::zendesk::ZendeskConnector;
use seam_flow::Clock;
use seam_runtime::{
    Config, Engine, Intake, LedgerConfig, Ledgers, Metrics, Settings, Workflows, WorkflowsError,
    default_file_for, load_workflow_files,
};
use seam_store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::{AppState, router};

/// What a server is started with besides its config.
pub struct ServerOptions {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub listener: TcpListener,
    /// Where the ledger file goes when the config names no sink (`None`: no default file sink).
    pub default_ledger: Option<PathBuf>,
    /// Connectors beyond the generic `http` one, by action prefix (`stripe`, ...).
    pub connectors: BTreeMap<String, Arc<dyn Connector>>,
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions").field("store", &self.store.backend()).finish_non_exhaustive()
    }
}

/// A server that is up: its address and engine, and how to stop it.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
    /// The finance ledger's file, if it is a file.
    pub ledger_path: Option<PathBuf>,
    /// Every ledger's file, by ledger name (ledgers that go to an HTTP sink are not here).
    pub ledger_paths: BTreeMap<String, PathBuf>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Loads the workflows, builds connectors, ledger sink and engine, starts the engine's loops and the intake
/// writer, and serves the API on `options.listener`.
pub async fn start(config: &Config, options: ServerOptions) -> anyhow::Result<RunningServer> {
    let ServerOptions { store, clock, listener, default_ledger, connectors: extra } = options;
    // A secret that cannot verify anything (a ShipBob secret that is not `whsec_` and base64) is refused at
    // start rather than found out when the first webhook is turned away.
    for (name, source) in &config.sources {
        Verifier::new(source.kind_for(name), source.secrets.clone())
            .check_secrets()
            .map_err(|why| anyhow::anyhow!("sources.{name}: {why}"))?;
    }
    let files = load_workflow_files(&config.workflows)?;

    let mut connectors: BTreeMap<String, Arc<dyn Connector>> = BTreeMap::new();
    let http =
        HttpConnector::new(config.http.allow_hosts.clone(), Duration::from_secs(config.http.timeout_secs));
    connectors.insert("http".to_owned(), Arc::new(http));
    if let Some(key) = &config.stripe.api_key {
        let base = config.stripe.base_url.clone().unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let stripe = StripeConnector::new(base, key.clone(), Duration::from_secs(config.stripe.timeout_secs));
        connectors.insert("stripe".to_owned(), Arc::new(stripe));
    }
    vendor_connectors(config, &mut connectors);
    connectors.extend(extra);
    // Every call action must have a connector before anything is stored: a refused file must not pin its version.
    for file in &files {
        for step in &file.workflow.steps {
            if let seam_flow::Action::Call(call) = &step.action
                && !connectors.contains_key(call.action.connector())
            {
                return Err(WorkflowsError::UnknownAction {
                    origin: file.origin.clone(),
                    name: file.workflow.name.clone(),
                    step: step.id.to_string(),
                    action: call.action.0.clone(),
                    available: connectors.keys().cloned().collect::<Vec<_>>().join(", "),
                }
                .into());
            }
        }
    }
    let workflows = Arc::new(Workflows::register(store.as_ref(), files, clock.now().unix_seconds()).await?);

    // Every ledger a workflow records to gets a sink: its own `[ledgers.NAME]`, else `[ledger]`, else its own
    // file beside the default one.
    let mut names: std::collections::BTreeSet<String> = config.ledgers.keys().cloned().collect();
    for file in workflows.current() {
        for step in &file.steps {
            if let seam_flow::Action::Record(record) = &step.action {
                names.insert(record.ledger.clone());
            }
        }
    }
    let mut ledgers = Ledgers::none();
    let mut ledger_paths = BTreeMap::new();
    if config.ledger.is_none()
        && let Some(default) = &default_ledger
    {
        ledgers = ledgers.with_fallback(default.clone());
    }
    if let Some(ledger) = &config.ledger {
        let (sink, path) = open_sink(ledger).await?;
        ledgers = ledgers.with_default(sink);
        if let Some(path) = path {
            for name in &names {
                ledger_paths.entry(name.clone()).or_insert_with(|| path.clone());
            }
        }
    }
    for name in &names {
        if let Some(ledger) = config.ledgers.get(name) {
            let (sink, path) = open_sink(ledger).await?;
            ledgers = ledgers.with_named(name, sink);
            match path {
                Some(path) => ledger_paths.insert(name.clone(), path),
                None => ledger_paths.remove(name),
            };
        } else if config.ledger.is_none()
            && let Some(default) = &default_ledger
        {
            let path = default_file_for(default, name);
            ledgers = ledgers.with_named(name, file_sink(&path, None).await?);
            ledger_paths.insert(name.clone(), path);
        }
    }
    let ledger_path =
        ledger_paths.get("finance").cloned().or_else(|| match (&config.ledger, &default_ledger) {
            (Some(ledger), _) => ledger.path.clone(),
            (None, Some(default)) => Some(default.clone()),
            (None, None) => None,
        });

    let settings = Settings {
        lease_secs: config.engine.lease_secs,
        poll: Duration::from_millis(config.engine.poll_ms.max(1)),
        reconcile_every: Duration::from_secs(config.engine.reconcile_secs.max(1)),
        call_concurrency: config.engine.call_concurrency.max(1),
        ..Settings::default()
    };
    let metrics = Arc::new(Metrics::default());
    let engine = Arc::new(Engine::new(
        store.clone(),
        workflows.clone(),
        clock,
        connectors,
        config.inbox.routes.clone(),
        ledgers,
        settings,
        metrics.clone(),
    ));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (intake, intake_task) = Intake::start(store.clone(), engine.events_stored.clone());
    let mut tasks = engine.spawn(shutdown_rx.clone());
    tasks.push(intake_task);

    let sources: BTreeMap<String, Verifier> = config
        .sources
        .iter()
        .map(|(name, source)| {
            let mut verifier = Verifier::new(source.kind_for(name), source.secrets.clone())
                .with_tolerance(source.tolerance_secs);
            if let Some(header) = &source.header {
                verifier = verifier.with_generic_header(header.clone());
            }
            (name.clone(), verifier)
        })
        .collect();
    let state = AppState {
        engine: engine.clone(),
        intake,
        sources: Arc::new(sources),
        max_body_bytes: config.intake.max_body_bytes,
        metrics,
        access: Arc::new(crate::auth::Access { roles: config.roles.clone() }),
        web: Arc::new(config.web.clone()),
    };
    let addr = listener.local_addr().context("reading the listener's address")?;
    let app = router(state);
    let mut stop = shutdown_rx;
    let http = tokio::spawn(async move {
        // The peer's address reaches the handlers (`ConnectInfo`): `/metrics` and sign-in limits need it.
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            })
            .await
    });
    tracing::info!(%addr, db = store.backend(), workflows = ?workflows.names(), "seam is serving");
    Ok(RunningServer { addr, engine, ledger_path, ledger_paths, shutdown, tasks, http })
}

/// The vendor connectors whose credentials are set (`[shopify]`, `[shipbob]`, `[zendesk]`, `[gorgias]`, or their
/// `SEAM_*` variables). A workflow calling one that is not set is refused at start, naming what is available.
fn vendor_connectors(config: &Config, connectors: &mut BTreeMap<String, Arc<dyn Connector>>) {
    let timeout = |secs: u64| Duration::from_secs(secs);
    let shopify = &config.shopify;
    let has_grant = shopify.client_id.is_some() && shopify.client_secret.is_some();
    if let Some(shop) = &shopify.shop_url
        && (shopify.access_token.is_some() || has_grant)
    {
        let mut connector = ShopifyConnector::new(
            shop.clone(),
            shopify.access_token.clone().unwrap_or_default(),
            timeout(shopify.timeout_secs),
        )
        .with_api_version(shopify.api_version.clone());
        if let (Some(id), Some(secret)) = (&shopify.client_id, &shopify.client_secret) {
            connector = connector.with_client_credentials(id.clone(), secret.clone());
        }
        connectors.insert("shopify".to_owned(), Arc::new(connector));
    }
    let shipbob = &config.shipbob;
    if let Some(token) = &shipbob.token {
        let mut connector = ShipBobConnector::new(
            shipbob.base_url.clone().unwrap_or_default(),
            token.clone(),
            timeout(shipbob.timeout_secs),
        )
        .with_api_version(shipbob.api_version.clone());
        if let Some(channel) = &shipbob.channel_id {
            connector = connector.with_channel_id(channel.clone());
        }
        connectors.insert("shipbob".to_owned(), Arc::new(connector));
    }
    let zendesk = &config.zendesk;
    if let (Some(base), Some(email), Some(token)) = (&zendesk.base_url, &zendesk.email, &zendesk.api_token) {
        let connector =
            ZendeskConnector::new(base.clone(), email.clone(), token.clone(), timeout(zendesk.timeout_secs));
        connectors.insert("zendesk".to_owned(), Arc::new(connector));
    }
    let gorgias = &config.gorgias;
    if let (Some(base), Some(email), Some(key)) = (&gorgias.base_url, &gorgias.email, &gorgias.api_token) {
        let connector =
            GorgiasConnector::new(base.clone(), email.clone(), key.clone(), timeout(gorgias.timeout_secs));
        connectors.insert("gorgias".to_owned(), Arc::new(connector));
    }
}

/// A configured sink, and its file if it is one.
async fn open_sink(ledger: &LedgerConfig) -> anyhow::Result<(LedgerSink, Option<PathBuf>)> {
    match (&ledger.path, &ledger.url) {
        (Some(path), _) => Ok((file_sink(path, ledger.format.as_deref()).await?, Some(path.clone()))),
        (None, Some(url)) => Ok((LedgerSink::Http(HttpSink::new(url.clone(), Vec::new())), None)),
        (None, None) => anyhow::bail!("a ledger needs `path` or `url`"),
    }
}

async fn file_sink(path: &std::path::Path, format: Option<&str>) -> anyhow::Result<LedgerSink> {
    let format = match format {
        Some("csv") => LedgerFormat::Csv,
        Some(_) => LedgerFormat::JsonLines,
        None if path.extension().is_some_and(|ext| ext == "csv") => LedgerFormat::Csv,
        None => LedgerFormat::JsonLines,
    };
    let sink = FileSink::open(path, format)
        .await
        .with_context(|| format!("opening the ledger file {}", path.display()))?;
    Ok(LedgerSink::File(sink))
}

impl RunningServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, lets in-flight ones finish, stops the engine's loops.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.http.await;
        for task in self.tasks {
            task.abort();
            let _ = task.await;
        }
    }
}
