//! The command-line interface: what each command and flag means, and which function carries it out.

use crate::{accounts_cmd, assess_cmd, backup, demo, doctor, engine_cmd, evidence_cmd, trigger};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Seam finds the automation gaps in an e-commerce operations team, closes them with durable workflows, and
/// joins the two: the engine's records become the evidence the next assessment scores from.
#[derive(Debug, Parser)]
#[command(name = "seam", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score how automated each ops task is and rank the gaps into a one-page punch list.
    #[command(subcommand)]
    Assess(AssessCommand),
    /// Run the workflow engine: webhook intake, runs, timers, escalations, audit and ledger, on SQLite or PostgreSQL.
    Serve(ServeArgs),
    /// Create or upgrade the database schema, then exit (`serve` also does this at start).
    Migrate(DbArgs),
    /// Check workflow files.
    #[command(subcommand)]
    Workflows(WorkflowsCommand),
    /// Read the append-only audit log of an existing database (it is never created or changed).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Send a signed sample webhook to a running Seam, as `stripe trigger` does.
    Trigger(TriggerArgs),
    /// Run the built-in sandbox: Stripe, Shopify, ShipBob, Zendesk and Gorgias over one seeded world (customers,
    /// orders, stock, tickets), with each vendor's API, errors, idempotency and signed webhooks delivered (with
    /// retries) to a running Seam.
    Sandbox(SandboxArgs),
    /// Watch Seam work across tools: the engine, the sandbox (Stripe, Shopify, ShipBob, Zendesk, Gorgias) and the
    /// three playbooks, a month of failed renewals, orders and tickets replayed in seconds, and a summary of money
    /// recovered, orders handed to the 3PL, exceptions decided and tickets enriched.
    Demo(DemoArgs),
    /// Copy a SQLite database to a new file, safely while `seam serve` writes to it (for PostgreSQL it prints the
    /// `pg_dump` command to use instead, and exits 2).
    Backup(BackupArgs),
    /// Check a configuration end to end: the config and workflow files, the database (reachable and migrated),
    /// every source's secret, every connector's credentials (asking the vendor), the ledger; exit 0 when all is
    /// well, 1 when something is not (each problem with what to fix), 2 when the config cannot be read.
    Doctor(DoctorArgs),
    /// Ask a running Seam's `/healthz`: exit 0 when it answers 200, 1 otherwise (for container health checks).
    Healthcheck(HealthcheckArgs),
    /// The people who sign in, and their roles (admin, finance, fulfillment, support).
    #[command(subcommand)]
    Users(UsersCommand),
    /// API tokens for the JSON API under /api/ (`Authorization: Bearer <token>`): create, list, revoke.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Import a brand's own exports (Shopify orders and inventory, Stripe payments) and show what they and the
    /// engine's records measure, month by month: the evidence the next assessment scores from.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
}

/// What a user or a token may see and do (docs/web.md, "Roles and tokens").
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Everything, including cancelling runs, dead letters and the ledger.
    Admin,
    /// The inbox items of the finance teams, the runs of order-to-cash workflows, the ledger.
    Finance,
    /// The inbox items of the fulfillment team, the runs of fulfillment workflows.
    Fulfillment,
    /// The inbox items of customer service, the runs of customer-service workflows.
    Support,
}

impl From<RoleArg> for seam_runtime::Role {
    fn from(role: RoleArg) -> seam_runtime::Role {
        match role {
            RoleArg::Admin => seam_runtime::Role::Admin,
            RoleArg::Finance => seam_runtime::Role::Finance,
            RoleArg::Fulfillment => seam_runtime::Role::Fulfillment,
            RoleArg::Support => seam_runtime::Role::Support,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user. The password (at least 12 characters) is read from the terminal without echo, twice, or,
    /// when standard input is not a terminal, from its first line.
    Add(UserAddArgs),
    /// List the users: e-mail, role, when added.
    List(DbArgs),
    /// Remove a user; their sessions end at once.
    Remove(UserArgs),
    /// Set a user's new password (read as `add` reads it); their sessions end at once.
    ResetPassword(UserArgs),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// The user's e-mail address: how they sign in, and their name in the audit log.
    #[arg(value_name = "EMAIL")]
    pub email: String,
    /// What the user may see and do.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Args)]
pub struct UserArgs {
    /// The user's e-mail address.
    #[arg(value_name = "EMAIL")]
    pub email: String,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token and print it once, alone on standard output (only its SHA-256 is stored). Decisions made
    /// with it are audited under its name.
    Create(TokenCreateArgs),
    /// List the tokens: name, role, when created and last used, whether revoked (never the secret).
    List(DbArgs),
    /// Revoke a token: from then on the API answers it 401.
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The token's name, unique for ever (letters, digits, `.`, `-`, `_`, `@`): who the audit log says decided.
    #[arg(long, value_name = "N")]
    pub name: String,
    /// What the token may see and do.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token's name.
    #[arg(value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Import export files into the database. Each FILE is recognised by its header (a Shopify orders export, a
    /// Shopify inventory export or a Stripe payments export) and imported whole or not at all: a file of another
    /// kind, a missing column or a bad value is named with its line and column and nothing from that file is
    /// written (exit 2), while the other files still import. Importing a file again, or an export that overlaps
    /// it, adds nothing twice.
    Import(EvidenceImportArgs),
    /// Print the measures per calendar month: orders, average order value, refunds, cancellations, fulfilment,
    /// failed payments and their decline reasons, stock, and per workflow its runs, the ones that needed a person,
    /// the money recovered and written off, and the median time to a decision.
    Show(EvidenceShowArgs),
}

#[derive(Debug, Args)]
pub struct EvidenceImportArgs {
    /// The export files (CSV), one or more.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
    /// The date an inventory export's snapshot is for, YYYY-MM-DD (default: the import date, in UTC). Importing
    /// that date again replaces its snapshot.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

#[derive(Debug, Args)]
pub struct EvidenceShowArgs {
    /// The database to read: `sqlite:PATH` (never created) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "SEAM_DB", value_name = "URL", default_value = "sqlite:./seam.db")]
    pub db: String,
    /// Only this month, YYYY-MM (default: every month with evidence).
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,
    /// Output format: text (for people), json (every figure, stable keys) or csv (one row per figure).
    #[arg(short, long, value_enum, default_value_t = EvidenceFormat::Text)]
    pub format: EvidenceFormat,
    /// The brand's time zone, which cuts the months: an IANA name such as America/New_York.
    #[arg(long, value_name = "TZ", default_value = "UTC")]
    pub timezone: String,
    /// The currency money is shown in (default: the first import's, else USD).
    #[arg(long, value_name = "CUR")]
    pub currency: Option<String>,
    /// Converts money in another currency: CUR=RATE, one CUR in the shown currency, such as GBP=1.27; repeat for
    /// each currency (default: none, and money in another currency is refused).
    #[arg(long, value_name = "CUR=RATE")]
    pub rate: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvidenceFormat {
    Text,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The database to copy: `sqlite:PATH` (never created), or a `postgres://` URL to be told the `pg_dump`
    /// command.
    #[arg(long, env = "SEAM_DB", value_name = "URL", default_value = "sqlite:./seam.db")]
    pub db: String,
    /// The new file to write the copy to (a SQLite database; written under a temporary name, then renamed).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The configuration file to check, as `seam serve --config` reads it. Default: none; then what `seam serve`
    /// runs without one: sources from SEAM_<SOURCE>_WEBHOOK_SECRET variables and the workflows in ./playbooks.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The database to check (default: `db` in the config, else `sqlite:./seam.db`); it is never created or
    /// migrated.
    #[arg(long, env = "SEAM_DB", value_name = "URL")]
    pub db: Option<String>,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The health endpoint of the running Seam.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8717/healthz")]
    pub url: String,
    /// Seconds to wait for the answer.
    #[arg(long, value_name = "S", default_value_t = 5)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:12111")]
    pub listen: String,
    /// Where every vendor's webhooks go: URL + /webhooks/{source} (a running `seam serve`).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8717")]
    pub webhook_base: String,
    /// Where Stripe's events go (default: the webhook base + /webhooks/stripe).
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// A source's webhook secret, as SOURCE=VALUE (stripe, shopify, shipbob, zendesk, gorgias; repeat for each); a
    /// bare VALUE is Stripe's. Default: each source's SEAM_{SOURCE}_WEBHOOK_SECRET (first of the list). A source
    /// without a secret has its webhooks listed, not delivered.
    #[arg(long, value_name = "S")]
    pub secret: Vec<String>,
    /// The API key `/v1` requests must carry (default: any key, or none, is accepted).
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// The scenario seed: the same seed tells the same story.
    #[arg(long, value_name = "N", default_value_t = 7)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Run the month, print the summary and exit (default: keep serving until ctrl-c so you can look around).
    #[arg(long)]
    pub once: bool,
    /// Where the database and the ledger files go (the demo replaces its own files there).
    #[arg(long, value_name = "DIR", default_value = "seam-demo")]
    pub data_dir: PathBuf,
    /// Address of the engine's API (falls back to a free port when the default is taken).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8717")]
    pub listen: String,
    /// How many renewals fail over the month.
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub invoices: usize,
    /// The sandbox's scenario seed: the same seed tells the same story.
    #[arg(long, value_name = "N", default_value_t = 7)]
    pub seed: u64,
    /// Real seconds per simulated day at most, while the month is replayed (the pace only: any pace tells the same
    /// story).
    #[arg(long, value_name = "S", default_value_t = 0.5)]
    pub seconds_per_day: f64,
}

#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// The source: stripe, shopify, zendesk, gorgias or shipbob.
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// The event type. stripe: invoice.payment_failed, invoice.paid, invoice.payment_succeeded, invoice.voided,
    /// invoice.marked_uncollectible, checkout.session.completed; shopify: orders/create, inventory_levels/update;
    /// zendesk: ticket.created (sent as zen:event-type:ticket.created); gorgias: ticket-created; shipbob:
    /// order.shipped, order.shipment.delivered, return.created.
    #[arg(value_name = "EVENT")]
    pub event: String,
    /// Where to send it (default: http://127.0.0.1:8717/webhooks/SOURCE).
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
    /// The source's webhook secret (default: the first of SEAM_{SOURCE}_WEBHOOK_SECRET; for gorgias, its token).
    #[arg(long, value_name = "S")]
    pub secret: Option<String>,
    /// Stripe: the invoice the event is about (default: a new id); reuse an id to cancel a run with invoice.paid.
    #[arg(long, value_name = "ID")]
    pub invoice: Option<String>,
    /// Stripe: the customer (default: a new id).
    #[arg(long, value_name = "ID")]
    pub customer: Option<String>,
    /// The amount in cents (an invoice, an order, a checkout).
    #[arg(long, value_name = "CENTS", default_value_t = 4900)]
    pub amount: i64,
    /// Stripe: a failure that says Stripe will retry the invoice in 3 days (`next_payment_attempt` set), as with
    /// Stripe's automatic retries on; without it the failed invoice has no next attempt and Seam retries it.
    #[arg(long)]
    pub stripe_retrying: bool,
    /// The customer's e-mail in an order, a checkout or a Gorgias ticket (default: jenny.rosen@example.com).
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,
    /// Shopify orders/create: the line's SKU (default: MUG-01).
    #[arg(long, value_name = "SKU")]
    pub sku: Option<String>,
    /// The order: its name in a Shopify order or a ticket's text (`#1001`), its reference in a ShipBob event
    /// (default: a new one).
    #[arg(long, value_name = "ORDER")]
    pub order: Option<String>,
    /// The helpdesk ticket's id (default: a new one).
    #[arg(long, value_name = "ID")]
    pub ticket: Option<String>,
}

/// Where the database is.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// The database: `sqlite:PATH` or `postgres://USER@HOST/DB`.
    #[arg(long, env = "SEAM_DB", value_name = "URL", default_value = "sqlite:./seam.db")]
    pub db: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The configuration file (sources, workflows, inbox routes, ledger). Default: none; secrets from
    /// SEAM_<SOURCE>_WEBHOOK_SECRET variables enable sources and ./playbooks (if present) holds the workflows.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on (default: `listen` in the config, else 127.0.0.1:8717).
    #[arg(long, env = "SEAM_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// `sqlite:PATH` (created on first run) or `postgres://USER@HOST/DB` (default: `db` in the config, else
    /// `sqlite:./seam.db`).
    #[arg(long, env = "SEAM_DB", value_name = "URL")]
    pub db: Option<String>,
    /// Log format: text for people, json for log collectors.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum WorkflowsCommand {
    /// Validate workflow files (a file or a folder of *.toml); every problem with file, line and field.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A workflow file, or a folder of them.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write the audit log as CSV or JSON lines (one object per line), oldest first. The database must exist: a
    /// missing SQLite file is an error (exit 2), never created.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The output format: csv, or json (one object per line).
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Only entries at or after this date (`2026-01-31`, midnight UTC) or time (RFC 3339) (default: the whole log).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Write to OUT (default: standard output).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum AssessCommand {
    /// Write a starter assessment file: the brand and 5-8 common tasks per zone, each waiting to be scored.
    New(NewArgs),
    /// Walk through the four zones in the terminal, one question at a time, and write the assessment file.
    Wizard(WizardArgs),
    /// Score an assessment file and print the ranked punch list (text, Markdown, JSON, CSV or one-page HTML).
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Where to write the file (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
    /// The brand's name.
    #[arg(long, default_value = "My Brand")]
    pub name: String,
    /// Annual GMV in US dollars (placeholder to edit if left out).
    #[arg(long, value_name = "USD", default_value_t = 3_000_000.0)]
    pub gmv: f64,
    /// Orders a month (placeholder to edit if left out).
    #[arg(long, value_name = "N", default_value_t = 5_000)]
    pub orders: u64,
    /// Loaded cost of one ops hour in US dollars.
    #[arg(long, value_name = "USD", default_value_t = 35.0)]
    pub hourly_cost: f64,
    /// Sales platforms, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "shopify")]
    pub platforms: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WizardArgs {
    /// Where to write the assessment file, once every question is answered. Until then the answers are kept, one
    /// by one, in FILE.partial beside it.
    #[arg(short, long, value_name = "FILE", default_value = "assessment.toml")]
    pub output: PathBuf,
    /// Overwrite FILE if it exists; start over if FILE.partial holds an unfinished wizard's answers (they are
    /// discarded).
    #[arg(long)]
    pub force: bool,
    /// Continue the unfinished wizard whose answers are in FILE.partial (stopped by ctrl-c, the end of its input or
    /// an error): its answers are kept and only the remaining questions are asked.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The assessment file (TOML) to score.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output format: text (terminal page), md and html (the one-page punch list), json (every figure), csv (a row
    /// per task).
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to OUT (default: standard output).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// A previous assessment file or JSON report: adds quarter-over-quarter drift, zones that slid first (default:
    /// no comparison).
    #[arg(long, value_name = "PREVIOUS")]
    pub compare: Option<PathBuf>,
    /// Colour in text output: auto (only on a terminal, and not when NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Md,
    Json,
    Csv,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Assess(AssessCommand::New(args)) => assess_cmd::new(args),
        Command::Assess(AssessCommand::Wizard(args)) => assess_cmd::wizard(args),
        Command::Assess(AssessCommand::Report(args)) => assess_cmd::report(args),
        Command::Serve(args) => engine_cmd::serve(args),
        Command::Migrate(args) => engine_cmd::migrate(args),
        Command::Workflows(WorkflowsCommand::Check(args)) => engine_cmd::check(args),
        Command::Audit(AuditCommand::Export(args)) => engine_cmd::export(args),
        Command::Trigger(args) => trigger::trigger(args),
        Command::Demo(args) => demo::demo(args),
        Command::Sandbox(args) => demo::sandbox(args),
        Command::Backup(args) => backup::backup(args),
        Command::Doctor(args) => doctor::doctor(args),
        Command::Healthcheck(args) => doctor::healthcheck(args),
        Command::Users(UsersCommand::Add(args)) => accounts_cmd::users_add(args),
        Command::Users(UsersCommand::List(args)) => accounts_cmd::users_list(args),
        Command::Users(UsersCommand::Remove(args)) => accounts_cmd::users_remove(args),
        Command::Users(UsersCommand::ResetPassword(args)) => accounts_cmd::users_reset_password(args),
        Command::Tokens(TokensCommand::Create(args)) => accounts_cmd::tokens_create(args),
        Command::Tokens(TokensCommand::List(args)) => accounts_cmd::tokens_list(args),
        Command::Tokens(TokensCommand::Revoke(args)) => accounts_cmd::tokens_revoke(args),
        Command::Evidence(EvidenceCommand::Import(args)) => evidence_cmd::import(args),
        Command::Evidence(EvidenceCommand::Show(args)) => evidence_cmd::show(args),
    }
}
