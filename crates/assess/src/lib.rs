//! Seam's assessment core: the self-assessment method of the source article, made precise and pure.
//!
//! It turns what a team knows about each operational task (maturity 0-3, weekly hours, leak rate, volume, tools,
//! owner) into a ranked, dollar-weighted punch list. The crate does no I/O at all: it is given text and returns
//! values and strings. The binary reads files, prompts people and writes outputs. That keeps every rule testable
//! from its own words and lets a later web form reuse exactly the same scorer.
//!
//! Flow: `parse::parse_assessment` (text to a validated `model::Assessment`) -> `score::score` (to a
//! `report::Report`) -> `compare::compare_with_previous` (optional drift against a previous report, with a warning
//! when it is another brand's) -> `render::*`.

pub mod catalogue;
pub mod compare;
pub mod model;
pub mod parse;
pub mod render;
pub mod report;
pub mod score;

pub use compare::{compare, compare_with_previous};
pub use model::{Assessment, Brand, LeakRate, Maturity, Score, Task, Zone};
pub use parse::{Diagnostic, ParseError, parse_assessment};
pub use report::Report;
pub use score::score;

/// Reads a previous run for `--compare`: an assessment file (scored again) or a JSON report saved earlier.
///
/// The format is told by content, not by name: a JSON report starts with `{`.
pub fn previous_report(source_name: &str, text: &str) -> Result<Report, ParseError> {
    if text.trim_start().starts_with('{') {
        serde_json::from_str::<Report>(text).map_err(|error| ParseError {
            diagnostics: vec![Diagnostic {
                source_name: source_name.to_string(),
                line: error.line(),
                field: String::new(),
                message: format!("not a Seam JSON report ({error})"),
            }],
        })
    } else {
        parse_assessment(source_name, text).map(|assessment| score(&assessment))
    }
}
