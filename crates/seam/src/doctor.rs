//! `seam doctor [--config FILE] [--db URL]`: checks a configuration end to end and says what to fix, and
//! `seam healthcheck [--url URL]`, which asks a running server whether it is well.
//!
//! The doctor reads the configuration the way `seam serve` does (the same loader, the same `SEAM_*` variables,
//! `./playbooks` without a file), then checks, each on one line, `ok` or `FAIL` with the fix:
//!
//! - the workflow files parse (what `seam workflows check` reports);
//! - every source the file declares, and every source a workflow listens to, has a secret;
//! - the database answers and carries this build's schema, and no workflow file changed under a version number
//!   the database already ran (which `seam serve` would refuse);
//! - every connector a workflow calls is configured, and the vendor accepts its credentials (Stripe is asked
//!   `GET /v1/invoices?limit=1` with the key, at the configured base URL, so `seam sandbox` works too);
//! - the ledger can be written: a file's folder (or the file itself) is writable, an HTTP sink answers.
//!
//! It must change nothing: it never creates or migrates the database (a missing schema is reported, with the
//! `seam migrate` command to run), writes no ledger entry, and leaves no file behind. It never prints a secret:
//! keys and webhook secrets are shown as their prefix only (`sk_test_…`), and Stripe's own message for a refused
//! key, which quotes most of it, is not repeated.
//!
//! Exit codes: 0 when every check passed, 1 when one failed, 2 when the configuration file cannot be read or
//! parsed (nothing else can be checked then).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use seam_connectors::ledger::HttpSink;
use seam_connectors::stripe::{CredentialsError, DEFAULT_BASE_URL, StripeConnector};
use seam_flow::Action;
use seam_runtime::{Config, WorkflowFile, WorkflowsError, load_workflow_files};
use seam_store::{DbUrl, SchemaStatus};

use crate::InputError;
use crate::cli::{DoctorArgs, HealthcheckArgs};
use crate::engine_cmd::{DEFAULT_DB, default_ledger_path, install_tls_provider};

/// How long the database may take to answer.
const DB_TIMEOUT: Duration = Duration::from_secs(10);

pub fn doctor(args: DoctorArgs) -> anyhow::Result<()> {
    install_tls_provider();
    let loaded = load(args.config.as_deref())?;
    let config = &loaded.config;
    let mut checks = Checks::default();
    match &args.config {
        Some(path) => checks.ok("config", format!("{} parses", path.display())),
        None => checks.ok(
            "config",
            "none given: sources from SEAM_<SOURCE>_WEBHOOK_SECRET variables, workflows from ./playbooks",
        ),
    }
    let db = args.db.clone().or_else(|| config.db.clone()).unwrap_or_else(|| DEFAULT_DB.to_owned());

    let files = check_workflows(&mut checks, &loaded);
    check_sources(&mut checks, &loaded, &files);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        check_database(&mut checks, &db, &files).await;
        check_connectors(&mut checks, config, &files).await;
        check_ledger(&mut checks, config, &db).await;
    });

    if checks.failed == 0 {
        println!("seam doctor: all {} checks passed", checks.passed);
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "seam doctor: {} of {} checks failed; fix what each FAIL line says and run `seam doctor` again",
            checks.failed,
            checks.failed + checks.passed
        ))
    }
}

/// `seam healthcheck`: 0 when `/healthz` answers 200, 1 otherwise, with the reason.
pub fn healthcheck(args: HealthcheckArgs) -> anyhow::Result<()> {
    install_tls_provider();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(args.timeout.max(1)))
            .build()
            .context("building the HTTP client")?;
        let response =
            client.get(&args.url).send().await.with_context(|| format!("{}: no answer", args.url))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status == reqwest::StatusCode::OK {
            println!("seam: {} is healthy: {}", args.url, body.trim());
            Ok(())
        } else {
            Err(anyhow::anyhow!("{} answered {status}: {}", args.url, body.trim()))
        }
    })
}

/// The checks' results, printed as they come.
#[derive(Debug, Default)]
struct Checks {
    passed: usize,
    failed: usize,
}

impl Checks {
    fn ok(&mut self, subject: &str, detail: impl Display) {
        println!("ok    {subject}: {detail}");
        self.passed += 1;
    }

    fn fail(&mut self, subject: &str, problem: impl Display, fix: impl Display) {
        println!("FAIL  {subject}: {problem}\n      fix: {fix}");
        self.failed += 1;
    }
}

/// The configuration as `seam serve` would run it, and what the file itself declared.
#[derive(Debug)]
struct Loaded {
    config: Config,
    /// The config file, if one was given.
    file: Option<PathBuf>,
    /// Sources the file names, before `SEAM_*` variables are applied (which drops those without a secret).
    declared_sources: Vec<String>,
}

fn load(path: Option<&Path>) -> anyhow::Result<Loaded> {
    let mut config = match path {
        Some(path) => Config::load(path).map_err(|error| InputError(error.to_string()))?,
        None => Config::default(),
    };
    let declared_sources = config.sources.keys().cloned().collect();
    config.apply_env(|name| std::env::var(name).ok());
    // Without a file, `seam serve` runs ./playbooks (leaving out, with a note, those it lacks a connector for;
    // the doctor checks them all, so that note becomes a FAIL with its fix).
    if path.is_none() && Path::new("playbooks").is_dir() {
        config.workflows = vec![PathBuf::from("playbooks")];
    }
    Ok(Loaded { config, file: path.map(Path::to_owned), declared_sources })
}

/// Where a setting is written: `in FILE` or, without one, the variable to set.
fn in_config(loaded: &Loaded) -> String {
    match &loaded.file {
        Some(file) => format!("in {}", file.display()),
        None => "in a --config file".to_owned(),
    }
}

fn check_workflows(checks: &mut Checks, loaded: &Loaded) -> Vec<WorkflowFile> {
    let paths = &loaded.config.workflows;
    if paths.is_empty() {
        let fix = match &loaded.file {
            Some(file) => format!("list workflow files or folders under `workflows` in {}", file.display()),
            None => "put workflow files in ./playbooks, or pass --config".to_owned(),
        };
        checks.fail("workflows", "none configured, so no event would start a run", fix);
        return Vec::new();
    }
    match load_workflow_files(paths) {
        Ok(files) if files.is_empty() => {
            let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            checks.fail(
                "workflows",
                format!("no *.toml files in {}", shown.join(", ")),
                "add workflow files (crates/flow/FORMAT.md), or correct `workflows`",
            );
            Vec::new()
        }
        Ok(files) => {
            for file in &files {
                checks.ok(
                    &format!("workflow {}", file.workflow.name),
                    format!(
                        "version {} from {} ({} steps, starts on {}:{})",
                        file.workflow.version,
                        file.origin,
                        file.workflow.steps.len(),
                        file.workflow.trigger.event.source,
                        file.workflow.trigger.event.name,
                    ),
                );
            }
            files
        }
        Err(WorkflowsError::Invalid(problems)) => {
            let list: Vec<String> = problems.iter().map(|p| format!("\n        {p}")).collect();
            checks.fail(
                "workflows",
                format!("{} problems:{}", problems.len(), list.concat()),
                "correct the files (`seam workflows check PATH` lists the same problems)",
            );
            Vec::new()
        }
        Err(error) => {
            checks.fail("workflows", error, "correct the path or the files under `workflows`");
            Vec::new()
        }
    }
}

fn check_sources(checks: &mut Checks, loaded: &Loaded, files: &[WorkflowFile]) {
    let config = &loaded.config;
    let variable = |name: &str| format!("SEAM_{}_WEBHOOK_SECRET", name.to_uppercase().replace('-', "_"));
    for name in &loaded.declared_sources {
        if !config.sources.contains_key(name) {
            checks.fail(
                &format!("source {name}"),
                format!("no secret, so it is not enabled and POST /webhooks/{name} answers 404"),
                format!("set `secrets` under [sources.{name}] {}, or {}", in_config(loaded), variable(name)),
            );
        }
    }
    for (name, source) in &config.sources {
        if source.secrets.iter().any(|secret| secret.trim().is_empty()) {
            checks.fail(
                &format!("source {name}"),
                "a secret is blank",
                format!("remove the empty entry from [sources.{name}] secrets"),
            );
            continue;
        }
        let shown: Vec<String> = source.secrets.iter().map(|secret| mask(secret)).collect();
        checks.ok(
            &format!("source {name}"),
            format!(
                "POST /webhooks/{name}, {:?} signatures, {} secret{} ({})",
                source.kind_for(name),
                shown.len(),
                if shown.len() == 1 { "" } else { "s" },
                shown.join(", ")
            ),
        );
    }
    // Sources the workflows need events from.
    let mut needed: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for file in files {
        let workflow = &file.workflow;
        let mut events: Vec<_> = workflow.trigger.events().map(|(event, _)| event).collect();
        events.extend(workflow.cancel_on.iter().flat_map(|cancel| cancel.events.iter()));
        events.extend(workflow.steps.iter().filter_map(|step| match &step.action {
            Action::WaitFor(wait) => Some(&wait.event),
            _ => None,
        }));
        for event in events {
            needed.entry(&event.source).or_default().insert(&workflow.name);
        }
    }
    for (source, workflows) in needed {
        if !config.sources.contains_key(source) {
            let names: Vec<&str> = workflows.into_iter().collect();
            checks.fail(
                &format!("source {source}"),
                format!("workflow {} needs its events, but it has no secret", names.join(", ")),
                format!(
                    "set {} (or `secrets` under [sources.{source}] {})",
                    variable(source),
                    in_config(loaded)
                ),
            );
        }
    }
    if config.sources.is_empty() && loaded.declared_sources.is_empty() && files.is_empty() {
        checks.fail(
            "sources",
            "no webhook source is enabled",
            "set SEAM_STRIPE_WEBHOOK_SECRET (the endpoint's signing secret, whsec_…) or [sources.NAME] secrets",
        );
    }
}

async fn check_database(checks: &mut Checks, db: &str, files: &[WorkflowFile]) {
    let shown = redact_url(db);
    let subject = format!("database {shown}");
    let migrate = format!("run `seam migrate --db {}`", crate::backup::shell_quote(&shown));
    let url = match seam_store::parse_url(db) {
        Ok(url) => url,
        Err(error) => {
            checks.fail(
                "database",
                error,
                "set --db, SEAM_DB or `db` in the config to sqlite:PATH or postgres://USER@HOST/DB",
            );
            return;
        }
    };
    let status = match seam_store::schema_status(db, DB_TIMEOUT).await {
        Ok(status) => status,
        Err(error) => {
            let fix = match url {
                DbUrl::Sqlite(_) => "check that the file is a SQLite database and readable by this user",
                DbUrl::Postgres(_) => {
                    "check the URL, that PostgreSQL runs and accepts connections from here, and the user's password \
                     (PGPASSWORD or ~/.pgpass)"
                }
            };
            checks.fail(&subject, format!("cannot read it: {error}"), fix);
            return;
        }
    };
    match status {
        SchemaStatus::Current { version } => {
            if let DbUrl::Sqlite(path) = url
                && let Err(problem) = sqlite_writable(Path::new(path))
            {
                checks.fail(&subject, problem, "let the user seam runs as write the file and its folder");
                return;
            }
            checks.ok(&subject, format!("reachable, schema at version {version}"));
            check_pinned_versions(checks, db, files).await;
        }
        SchemaStatus::NoDatabase => checks.fail(
            &subject,
            "no database file there (not migrated)",
            format!("{migrate}, or correct the path"),
        ),
        SchemaStatus::NotMigrated { .. } => checks.fail(&subject, "not migrated", &migrate),
        SchemaStatus::Behind { applied, latest } => checks.fail(
            &subject,
            format!("schema at version {applied}, this seam needs {latest}"),
            format!("{migrate} (or let `seam serve` migrate it at start)"),
        ),
        SchemaStatus::Ahead { applied, latest } => checks.fail(
            &subject,
            format!("migrated by a newer Seam (schema version {applied}; this seam knows up to {latest})"),
            "run the newer seam binary, or restore a backup made for this version",
        ),
        SchemaStatus::Dirty { version } => checks.fail(
            &subject,
            format!("migration {version} started and did not finish"),
            "restore the last backup (docs/deploy.md), then run this seam's `seam migrate`",
        ),
        SchemaStatus::Modified { version } => checks.fail(
            &subject,
            format!(
                "migration {version} differs from this build's (the schema came from another build of Seam)"
            ),
            "run the seam build that created this database, or restore a backup made with this one",
        ),
    }
}

/// A workflow file changed under a version number the database already ran makes `seam serve` refuse to start.
async fn check_pinned_versions(checks: &mut Checks, db: &str, files: &[WorkflowFile]) {
    if files.is_empty() {
        return;
    }
    // The schema is current, so opening (which migrates) changes nothing.
    let stored = match seam_store::open(db).await {
        Ok(store) => store.workflows().await,
        Err(error) => Err(error),
    };
    let stored = match stored {
        Ok(stored) => stored,
        Err(error) => {
            checks.fail(
                "workflow versions",
                format!("cannot read the stored workflows: {error}"),
                "see above",
            );
            return;
        }
    };
    for file in files {
        let workflow = &file.workflow;
        let version = i64::from(workflow.version);
        if let Some((_, _, _, origin)) = stored
            .iter()
            .find(|(name, v, source, _)| name == &workflow.name && *v == version && *source != file.source)
        {
            checks.fail(
                &format!("workflow {}", workflow.name),
                format!(
                    "{} differs from version {version} this database already ran (first loaded from {origin}), so \
                     `seam serve` would refuse it",
                    file.origin
                ),
                format!("raise `version` in {} (runs already started keep the old definition)", file.origin),
            );
        }
    }
}

/// The SQLite file and its folder (where the `-wal` and `-shm` files go) can be written by this user.
fn sqlite_writable(path: &Path) -> Result<(), String> {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|error| format!("{} cannot be written: {error}", path.display()))?;
    let dir = folder_of(path);
    probe_folder(&dir).map_err(|error| format!("its folder {} cannot be written: {error}", dir.display()))
}

async fn check_connectors(checks: &mut Checks, config: &Config, files: &[WorkflowFile]) {
    // connector -> workflow -> the actions it calls.
    let mut needed: BTreeMap<&str, Users> = BTreeMap::new();
    for file in files {
        for step in &file.workflow.steps {
            if let Action::Call(call) = &step.action {
                needed
                    .entry(call.action.connector())
                    .or_default()
                    .entry(file.workflow.name.clone())
                    .or_default()
                    .insert(call.action.0.clone());
            }
        }
    }
    let stripe_users = needed.remove("stripe");
    if stripe_users.is_some() || config.stripe.api_key.is_some() {
        check_stripe(checks, config, stripe_users.as_ref()).await;
    }
    if let Some(users) = needed.remove("http") {
        if config.http.allow_hosts.is_empty() {
            checks.fail(
                "connector http",
                format!(
                    "{} calls http, but http.allow_hosts is empty, so every call is refused",
                    describe(&users)
                ),
                "list the hosts the workflows call under [http] allow_hosts",
            );
        } else {
            checks.ok("connector http", format!("may call {}", config.http.allow_hosts.join(", ")));
        }
    }
    for (connector, users) in needed {
        checks.fail(
            &format!("connector {connector}"),
            format!("{} calls it, and no connector serves `{connector}.*`", describe(&users)),
            "use stripe.* or http actions (crates/flow/FORMAT.md)",
        );
    }
}

/// Workflow name -> the actions it calls on one connector.
type Users = BTreeMap<String, BTreeSet<String>>;

/// `workflow a (stripe.pay_invoice, stripe.retrieve_invoice), workflow b (…)`.
fn describe(users: &Users) -> String {
    let parts: Vec<String> = users
        .iter()
        .map(|(workflow, actions)| {
            format!("workflow {workflow} ({})", actions.iter().cloned().collect::<Vec<_>>().join(", "))
        })
        .collect();
    parts.join(", ")
}

async fn check_stripe(checks: &mut Checks, config: &Config, users: Option<&Users>) {
    let subject = "connector stripe";
    let Some(key) = config.stripe.api_key.as_deref() else {
        let users = users.map(describe).unwrap_or_default();
        checks.fail(
            subject,
            format!(
                "{users} calls Stripe, but no API key is set (`seam serve` would skip or refuse the workflow)"
            ),
            "set SEAM_STRIPE_API_KEY (or api_key under [stripe]) to a secret or restricted key from \
             https://dashboard.stripe.com/apikeys; SEAM_STRIPE_BASE_URL points it at `seam sandbox`",
        );
        return;
    };
    // A zero timeout never gets here: loading the configuration refuses it.
    let timeout = Duration::from_secs(config.stripe.timeout_secs);
    let base = config.stripe.base_url.clone().unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    let connector = StripeConnector::new(base.clone(), key.to_owned(), timeout);
    let key_shown = mask(key);
    let fix_key = "set SEAM_STRIPE_API_KEY (or api_key under [stripe]) to a key of this Stripe account from \
                   https://dashboard.stripe.com/apikeys (for `seam sandbox --api-key KEY`, that KEY)";
    match connector.check_credentials().await {
        Ok(()) => {
            let mode = if key.contains("_test_") { ", test mode" } else { "" };
            checks.ok(subject, format!("{base} accepts the API key {key_shown}{mode}"));
        }
        Err(CredentialsError::Rejected) => {
            checks.fail(subject, format!("{base} refused the API key {key_shown} (HTTP 401)"), fix_key)
        }
        Err(CredentialsError::NotPermitted) => checks.fail(
            subject,
            format!("the restricted key {key_shown} may not read invoices (HTTP 403)"),
            "give the key write access to Invoices and read access to Customers in the Stripe dashboard, or use \
             a secret key",
        ),
        Err(CredentialsError::Config(problem)) => checks.fail(
            subject,
            problem,
            "set [stripe] base_url (or SEAM_STRIPE_BASE_URL) to https://api.stripe.com, or to \
             http://127.0.0.1:PORT for `seam sandbox`",
        ),
        Err(CredentialsError::Unreachable(problem)) => checks.fail(
            subject,
            format!("no answer from {base}: {problem}"),
            "check [stripe] base_url / SEAM_STRIPE_BASE_URL, and that this host may make outgoing HTTPS \
             requests (firewall, proxy)",
        ),
        Err(CredentialsError::Unexpected { message, .. }) => checks.fail(
            subject,
            format!("an unexpected answer: {message}"),
            "check that [stripe] base_url / SEAM_STRIPE_BASE_URL points at Stripe (or `seam sandbox`)",
        ),
    }
}

async fn check_ledger(checks: &mut Checks, config: &Config, db: &str) {
    match &config.ledger {
        Some(ledger) => match (&ledger.path, &ledger.url) {
            (Some(path), _) => check_ledger_file(checks, path),
            (None, Some(url)) => check_ledger_url(checks, url).await,
            (None, None) => {}
        },
        None => check_ledger_file(checks, &default_ledger_path(db)),
    }
}

fn check_ledger_file(checks: &mut Checks, path: &Path) {
    let subject = format!("ledger {}", path.display());
    let owner_fix =
        "let the user seam runs as write it (as root: chown seam:seam PATH), or set [ledger] path";
    if path.is_dir() {
        checks.fail(&subject, "is a folder, not a file", "set [ledger] path to a file such as ledger.csv");
        return;
    }
    if path.exists() {
        match std::fs::OpenOptions::new().append(true).open(path) {
            Ok(_) => checks.ok(&subject, "exists and is writable"),
            Err(error) => checks.fail(&subject, format!("cannot be written: {error}"), owner_fix),
        }
        return;
    }
    let dir = folder_of(path);
    if dir.exists() && !dir.is_dir() {
        checks.fail(
            &subject,
            format!("{} is a file, not a folder", dir.display()),
            "set [ledger] path to a file in a folder",
        );
        return;
    }
    if !dir.exists() {
        checks.fail(
            &subject,
            format!("its folder {} does not exist", dir.display()),
            format!("create it (mkdir -p {}), writable by the user seam runs as", dir.display()),
        );
        return;
    }
    match probe_folder(&dir) {
        Ok(()) => checks.ok(&subject, format!("will be created; {} is writable", dir.display())),
        Err(error) => checks.fail(
            &subject,
            format!("its folder {} cannot be written: {error}", dir.display()),
            owner_fix.replace("PATH", &dir.display().to_string()),
        ),
    }
}

async fn check_ledger_url(checks: &mut Checks, url: &str) {
    let subject = format!("ledger {}", redact_url(url));
    match HttpSink::with_timeout(url, Vec::new(), Duration::from_secs(10)).probe().await {
        Ok(status @ (401 | 403)) => checks.fail(
            &subject,
            format!("refuses Seam (HEAD answered {status}); Seam sends no credentials to it"),
            "let Seam's requests through (by network or a path without authentication)",
        ),
        Ok(404) => checks.fail(&subject, "not found (HEAD answered 404)", "correct [ledger] url"),
        Ok(status) if status >= 500 => checks.fail(
            &subject,
            format!("the service is failing (HEAD answered {status})"),
            "check the ledger service; entries wait in the database until it takes them",
        ),
        Ok(status) => checks.ok(&subject, format!("answers (HEAD: {status})")),
        Err(error) => checks.fail(
            &subject,
            format!("no answer: {error}"),
            "check [ledger] url and that the service runs and is reachable from here",
        ),
    }
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Creates and removes a file in `dir`: the one way to know it is writable (permissions, read-only mounts,
/// ACLs), leaving nothing behind.
fn probe_folder(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".seam-doctor-{}.probe", std::process::id()));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)?;
    std::fs::remove_file(&probe)
}

/// A secret as it may be shown: its vendor prefix (`sk_test_`, `whsec_`, `rk_live_`) and an ellipsis.
fn mask(secret: &str) -> String {
    // Only the vendors' own published prefixes are shown; anything else could be part of the secret.
    const PREFIXES: &[&str] = &[
        "sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_", "whsec_", "shpat_", "shpss_",
        "shpca_", "sk_", "rk_",
    ];
    let prefix = PREFIXES.iter().find(|prefix| secret.starts_with(**prefix)).copied().unwrap_or("");
    format!("{prefix}…")
}

/// A URL with any password replaced by `****`.
fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_show_only_the_vendor_prefix() {
        assert_eq!(mask("sk_test_51Habc"), "sk_test_…");
        assert_eq!(mask("rk_live_abc_def"), "rk_live_…");
        assert_eq!(mask("whsec_abcdef"), "whsec_…");
        assert_eq!(mask("sk_wrong"), "sk_…");
        assert_eq!(mask("a1b2c3"), "…");
        assert_eq!(mask("abcdefghij_k"), "…");
        assert_eq!(mask("abcdefgh_secret"), "…", "not a vendor prefix: could be the secret itself");
        assert_eq!(mask(""), "…");
        assert_eq!(mask("é_x"), "…");
    }

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(redact_url("postgres://seam:pw@db/seam"), "postgres://seam:****@db/seam");
        assert_eq!(redact_url("postgres://seam@db/seam"), "postgres://seam@db/seam");
        assert_eq!(redact_url("sqlite:./seam.db"), "sqlite:./seam.db");
    }
}
