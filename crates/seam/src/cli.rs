//! The command-line interface: what each command and flag means, and which function carries it out.

use crate::{assess_cmd, engine_cmd};
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
    /// Read the append-only audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// Where the database is.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// `sqlite:PATH` (created on first use) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "SEAM_DB", value_name = "URL", default_value = "sqlite:./seam.db")]
    pub db: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The configuration file (sources, workflows, inbox routes, ledger). Without it, secrets from
    /// SEAM_<SOURCE>_WEBHOOK_SECRET variables enable sources and ./playbooks (if present) holds the workflows.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "SEAM_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// `sqlite:PATH` (default `sqlite:./seam.db`, created on first run) or `postgres://USER@HOST/DB`.
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
    /// Write the audit log as CSV or JSON lines (one object per line).
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Only entries at or after this date (`2026-01-31`) or time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Write to OUT instead of standard output.
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
    /// Where to write the file; standard output when left out.
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
    /// Where to write the assessment file.
    #[arg(short, long, value_name = "FILE", default_value = "assessment.toml")]
    pub output: PathBuf,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
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
    /// Write the report to OUT instead of standard output.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// A previous assessment file or JSON report: adds quarter-over-quarter drift, zones that slid first.
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
    }
}
