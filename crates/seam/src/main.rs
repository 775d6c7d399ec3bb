//! The `seam` binary: the CLI definition and the glue between the library crates and the outside world.
//!
//! It reads files, writes outputs and maps every error to an exit code in one place (`exit_code`): 2 for bad input
//! (a file or answer the user can fix), 1 for everything else. Libraries never print or exit.

mod accounts_cmd;
mod assess_cmd;
mod backup;
mod cli;
mod demo;
mod doctor;
mod engine_cmd;
mod evidence_cmd;
mod output;
mod samples;
mod trigger;
mod wizard;

use clap::Parser;
use std::process::ExitCode;

/// An error caused by what the user gave (a bad file, a bad answer): exit code 2, and nothing was written.
#[derive(Debug)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", format_error(&error));
            ExitCode::from(exit_code(&error))
        }
    }
}

/// The one place errors become exit codes.
fn exit_code(error: &anyhow::Error) -> u8 {
    if error.chain().any(|cause| cause.is::<InputError>()) { 2 } else { 1 }
}

fn format_error(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    text
}
