//! Glue for the engine's commands: `serve`, `migrate`, `workflows check`, `audit export`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use seam_flow::{SystemClock, Timestamp};
use seam_runtime::{Config, WorkflowsError, load_workflow_files};
use serde_json::{Value, json};

use crate::InputError;
use crate::cli::{CheckArgs, DbArgs, ExportArgs, ExportFormat, LogFormat, ServeArgs};
use crate::output;

pub const DEFAULT_DB: &str = "sqlite:./seam.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8717";

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

/// Installs ring as rustls's crypto provider (reqwest is built without one, to avoid a second crypto library).
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Logs to standard error, filtered by `SEAM_LOG` or else by `default_filter` (`info,sqlx=warn` for `serve`;
/// the demo and the sandbox, which print their own story, use `warn,sqlx=error`). Text logs are coloured only on a
/// terminal, and not when `NO_COLOR` is set: a file, a pipe or a log collector gets plain text.
pub fn init_logs(format: LogFormat, default_filter: &str) {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_env("SEAM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Opens the database, turning a bad URL into an input error.
pub(crate) async fn open_store(url: &str) -> anyhow::Result<Arc<dyn seam_store::Store>> {
    match seam_store::open(url).await {
        Ok(store) => Ok(store),
        Err(seam_store::StoreError::BadUrl(message)) => Err(InputError(format!("--db: {message}")).into()),
        Err(error) => Err(anyhow::Error::new(error).context(format!("opening the database {url}"))),
    }
}

/// Builds the effective configuration: the file (if any), then `SEAM_*` secrets from the environment.
pub fn effective_config(path: Option<&Path>) -> anyhow::Result<Config> {
    let mut config = match path {
        Some(path) => Config::load(path).map_err(|error| InputError(error.to_string()))?,
        None => Config::default(),
    };
    config.apply_env(|name| std::env::var(name).ok());
    if path.is_none() && Path::new("playbooks").is_dir() {
        config.workflows = usable_playbooks(&config, Path::new("playbooks"))?;
    }
    Ok(config)
}

/// Without a config file, the playbooks in `./playbooks` whose connectors are configured. A playbook that needs
/// a vendor whose credentials are not set (Stripe, Shopify, ShipBob, Zendesk, Gorgias) is left out with a note,
/// rather than refusing to start: the webhook sources still work, and the note says how to enable the playbook.
fn usable_playbooks(config: &Config, folder: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let files = load_workflow_files(&[folder.to_owned()]).map_err(|error| InputError(error.to_string()))?;
    let mut usable = Vec::new();
    for file in files {
        let missing = file.workflow.steps.iter().find_map(|step| match &step.action {
            seam_flow::Action::Call(call) => {
                config.connector_missing(call.action.connector()).map(|needs| (call.action.0.clone(), needs))
            }
            _ => None,
        });
        match missing {
            Some((action, needs)) => eprintln!("seam: not running {} ({action} needs {needs})", file.origin),
            None => usable.push(PathBuf::from(&file.origin)),
        }
    }
    Ok(usable)
}

/// The ledger file used when the config names no sink: `ledger.csv` beside a SQLite database, else in the
/// working directory.
pub fn default_ledger_path(db: &str) -> PathBuf {
    let sqlite = db.strip_prefix("sqlite://").or_else(|| db.strip_prefix("sqlite:"));
    match sqlite.map(Path::new).and_then(Path::parent) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("ledger.csv"),
        _ => PathBuf::from("ledger.csv"),
    }
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logs(args.log_format, "info,sqlx=warn");
    install_tls_provider();
    let config = effective_config(args.config.as_deref())?;
    let db = args.db.or_else(|| config.db.clone()).unwrap_or_else(|| DEFAULT_DB.to_owned());
    let listen = args.listen.or_else(|| config.listen.clone()).unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    runtime()?.block_on(async move {
        let store = open_store(&db).await?;
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen} (--listen)"))?;
        let options = seam_web::ServerOptions {
            store: store.clone(),
            clock: Arc::new(SystemClock),
            listener,
            default_ledger: Some(default_ledger_path(&db)),
            connectors: Default::default(),
        };
        let server = seam_web::start(&config, options).await.map_err(|error| {
            match error.downcast::<WorkflowsError>() {
                // A database failure while registering is not a problem of the user's files.
                Ok(WorkflowsError::Store(error)) => anyhow::Error::new(error),
                Ok(error) => anyhow::Error::new(InputError(error.to_string())),
                Err(error) => error,
            }
        })?;
        let stop = shutdown_signal();
        let sources: Vec<&String> = config.sources.keys().collect();
        let mut banner = format!(
            "seam: serving on {} (db {db}, sources {sources:?}, workflows {:?}, ledger {})\n",
            server.url(),
            server.engine.workflows().names(),
            server.ledger_path.as_ref().map_or_else(|| "none".to_owned(), |p| p.display().to_string()),
        );
        if store.users().await.is_ok_and(|users| users.is_empty()) {
            banner.push_str(&format!(
                "seam: no user yet. Create the first admin (the password is asked for) with\n  \
                 seam users add you@brand.example --role admin --db {db}\n\
                 and a token for the JSON API under /api/ with\n  \
                 seam tokens create --name ops --role admin --db {db}\n"
            ));
        }
        // One write, so whoever reads the first line has the rest of the banner too.
        print!("{banner}");
        let _ = std::io::stdout().flush();
        stop.await;
        tracing::info!("shutting down");
        server.stop().await;
        println!("seam: stopped");
        Ok(())
    })
}

/// Ctrl-c or SIGTERM. The handlers are installed when this is called, not when the future is first awaited, so
/// call it before saying "serving": a service manager that stops Seam right after that line gets a graceful stop,
/// not the default action of the signal.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::interrupt()).ok(), signal(SignalKind::terminate()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(signal) => {
                        let _ = signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let terminate = async {
                match terminate.as_mut() {
                    Some(signal) => {
                        let _ = signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = interrupt => {}
                () = terminate => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

pub fn migrate(args: DbArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async move {
        let store = open_store(&args.db).await?;
        store.migrate().await?;
        output::write_or_print(
            None,
            &format!("seam: {} ({}) is at the latest schema\n", args.db, store.backend()),
        )
    })
}

pub fn check(args: CheckArgs) -> anyhow::Result<()> {
    for path in &args.paths {
        if !path.exists() {
            return Err(InputError(format!("{}: no such file or folder", path.display())).into());
        }
    }
    match load_workflow_files(&args.paths) {
        Ok(files) if files.is_empty() => {
            Err(InputError("no workflow files (*.toml) found in the given paths".to_owned()).into())
        }
        Ok(files) => {
            let mut text = String::new();
            for file in files {
                text.push_str(&format!(
                    "ok: {}: {} version {} ({} steps, starts on {})\n",
                    file.origin,
                    file.workflow.name,
                    file.workflow.version,
                    file.workflow.steps.len(),
                    file.workflow.trigger.event,
                ));
            }
            output::write_or_print(None, &text)
        }
        Err(
            error @ (WorkflowsError::Invalid(_)
            | WorkflowsError::Duplicate { .. }
            | WorkflowsError::Read { .. }),
        ) => Err(InputError(error.to_string()).into()),
        Err(error) => Err(error.into()),
    }
}

/// `--since`: a date (midnight UTC) or an RFC 3339 time.
fn parse_since(text: &str) -> Result<i64, InputError> {
    let as_time = if text.len() == 10 { format!("{text}T00:00:00Z") } else { text.to_owned() };
    Timestamp::parse_rfc3339(&as_time).map(Timestamp::unix_seconds).map_err(|_| {
        InputError(format!("--since: {text:?} is not a date; use 2026-01-31 or 2026-01-31T09:00:00Z"))
    })
}

/// Opens an existing database as it is, for reading: a SQLite file is never created and no migration runs, so a
/// mistyped path or another program's database is never turned into a Seam database.
pub async fn open_existing_store(url: &str) -> anyhow::Result<Arc<dyn seam_store::Store>> {
    let opened: Result<Arc<dyn seam_store::Store>, _> =
        match url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            Some(path) if !path.is_empty() => {
                if !Path::new(path).is_file() {
                    return Err(InputError(format!(
                        "--db: no database at {path}; run `seam serve` or `seam migrate` first"
                    ))
                    .into());
                }
                seam_store::SqliteStore::open_existing(path).await.map(|store| Arc::new(store) as _)
            }
            _ if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                seam_store::PostgresStore::open_existing(url).await.map(|store| Arc::new(store) as _)
            }
            // Not a database URL: `open_store` refuses it before opening anything.
            _ => return open_store(url).await,
        };
    opened.with_context(|| format!("opening the database {url}"))
}

pub fn export(args: ExportArgs) -> anyhow::Result<()> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let url = args.db.db.clone();
    let text = runtime()?.block_on(async move {
        let store = open_existing_store(&url).await?;
        let not_seam = || {
            format!("reading the audit log of {url} (is it a Seam database? `seam migrate --db {url}` makes one)")
        };
        let mut csv_out = csv::Writer::from_writer(Vec::new());
        let mut json_out = String::new();
        if args.format == ExportFormat::Csv {
            csv_out.write_record([
                "seq", "at", "kind", "run_id", "event_id", "workflow", "step", "attempt", "actor", "detail", "data",
            ])?;
        }
        let mut after = 0;
        loop {
            let page = store.audit(since, after, 5000).await.with_context(not_seam)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for entry in &page {
                let at = Timestamp::from_unix_seconds(entry.at).to_string();
                match args.format {
                    ExportFormat::Csv => csv_out.write_record([
                        entry.seq.to_string(),
                        at,
                        entry.kind.clone(),
                        entry.run_id.clone().unwrap_or_default(),
                        entry.event_id.clone().unwrap_or_default(),
                        entry.workflow.clone().unwrap_or_default(),
                        entry.step.clone().unwrap_or_default(),
                        entry.attempt.map(|a| a.to_string()).unwrap_or_default(),
                        entry.actor.clone().unwrap_or_default(),
                        entry.detail.clone(),
                        entry.data.clone().unwrap_or_default(),
                    ])?,
                    ExportFormat::Json => {
                        let data = entry.data.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok());
                        let line = json!({
                            "seq": entry.seq, "at": at, "kind": entry.kind, "run_id": entry.run_id,
                            "event_id": entry.event_id, "workflow": entry.workflow, "step": entry.step,
                            "attempt": entry.attempt, "actor": entry.actor, "detail": entry.detail, "data": data,
                        });
                        json_out.push_str(&line.to_string());
                        json_out.push('\n');
                    }
                }
            }
        }
        anyhow::Ok(match args.format {
            ExportFormat::Csv => String::from_utf8(csv_out.into_inner()?)?,
            ExportFormat::Json => json_out,
        })
    })?;
    output::write_or_print(args.output.as_deref(), &text)
}
