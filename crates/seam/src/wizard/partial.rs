//! The wizard's progress file, `FILE.partial` beside the output `FILE`: the answers accepted so far, so that a
//! wizard stopped by ctrl-c, the end of its input or an error continues with `--resume` where it stopped.
//!
//! The format is JSON, versioned, and documented in `docs/assessment.md`:
//!
//! ```json
//! {
//!   "format": "seam assess wizard answers",
//!   "version": 1,
//!   "answers": [
//!     { "question": "Brand name", "answer": "Wizard Wear" }
//!   ]
//! }
//! ```
//!
//! Answers are kept as text, exactly as the wizard took them, and replayed through the same checks, so a progress
//! file can never smuggle in a value the wizard would refuse. This module only turns answers into text and back;
//! the glue reads and writes the file (atomically, after every answer).

use super::Answer;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What the `format` key holds.
pub const FORMAT: &str = "seam assess wizard answers";
/// The version this Seam writes and reads.
pub const VERSION: u64 = 1;

/// Why a progress file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PartialError {
    #[error("it is not JSON ({0})")]
    NotJson(serde_json::Error),
    #[error("it is not a wizard progress file (\"format\" is not \"{FORMAT}\")")]
    NotProgress,
    #[error("it has format version {0}; this Seam reads version {VERSION}")]
    Version(String),
    #[error("{0}")]
    Malformed(String),
}

/// `FILE.partial`: the progress file beside `output`.
pub fn path_for(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// The progress file's text for `answers`: written by hand rather than by `serde_json`, so the format and version
/// come first and each answer is one line a person can read.
pub fn to_text(answers: &[Answer]) -> String {
    let quote = |text: &str| Value::from(text).to_string();
    let mut text =
        format!("{{\n  \"format\": {},\n  \"version\": {VERSION},\n  \"answers\": [", quote(FORMAT));
    for (index, answer) in answers.iter().enumerate() {
        let separator = if index == 0 { "" } else { "," };
        text.push_str(&format!(
            "{separator}\n    {{ \"question\": {}, \"answer\": {} }}",
            quote(&answer.question),
            quote(&answer.answer)
        ));
    }
    text.push_str(if answers.is_empty() { "]\n}\n" } else { "\n  ]\n}\n" });
    text
}

/// The answers a progress file holds.
pub fn from_text(text: &str) -> Result<Vec<Answer>, PartialError> {
    let document: Value = serde_json::from_str(text).map_err(PartialError::NotJson)?;
    if document.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(PartialError::NotProgress);
    }
    match document.get("version") {
        Some(version) if version.as_u64() == Some(VERSION) => {}
        Some(version) => return Err(PartialError::Version(version.to_string())),
        None => return Err(PartialError::Version("(none)".to_string())),
    }
    let Some(answers) = document.get("answers").and_then(Value::as_array) else {
        return Err(PartialError::Malformed("\"answers\" is not a list".to_string()));
    };
    answers
        .iter()
        .enumerate()
        .map(|(index, answer)| {
            let field = |key: &str| {
                answer.get(key).and_then(Value::as_str).map(str::to_string).ok_or_else(|| {
                    PartialError::Malformed(format!("answer {} has no text \"{key}\"", index + 1))
                })
            };
            Ok(Answer { question: field("question")?, answer: field("answer")? })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_come_back_as_they_were_saved() {
        let answers = vec![
            Answer { question: "Brand name".to_string(), answer: "Quote \"Co\"\tü".to_string() },
            Answer { question: "Task \"Capture payment\": score 0-3".to_string(), answer: String::new() },
        ];
        let text = to_text(&answers);
        assert!(
            text.starts_with("{\n  \"format\": \"seam assess wizard answers\",\n  \"version\": 1,\n"),
            "{text}"
        );
        assert_eq!(from_text(&text).expect("reads back"), answers);
        assert_eq!(from_text(&to_text(&[])).expect("reads back"), []);
    }

    #[test]
    fn a_file_that_is_not_progress_is_refused_with_the_reason() {
        assert!(matches!(from_text("{\"answers\": [").unwrap_err(), PartialError::NotJson(_)));
        assert!(matches!(from_text("[brand]\nname = 1\n").unwrap_err(), PartialError::NotJson(_)));
        assert!(matches!(from_text("{\"answers\": []}").unwrap_err(), PartialError::NotProgress));
        let newer = format!("{{\"format\": \"{FORMAT}\", \"version\": 2, \"answers\": []}}");
        assert_eq!(
            from_text(&newer).unwrap_err().to_string(),
            "it has format version 2; this Seam reads version 1"
        );
        let broken =
            format!("{{\"format\": \"{FORMAT}\", \"version\": 1, \"answers\": [{{\"question\": \"Q\"}}]}}");
        assert_eq!(from_text(&broken).unwrap_err().to_string(), "answer 1 has no text \"answer\"");
    }

    #[test]
    fn the_progress_file_sits_beside_the_output() {
        assert_eq!(path_for(Path::new("out/mine.toml")), Path::new("out/mine.toml.partial"));
    }
}
