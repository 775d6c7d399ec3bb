//! Writing outputs so that a failure never leaves a half-written or clobbered file behind.

use crate::InputError;
use anyhow::Context as _;
use std::io::Write as _;
use std::path::Path;

/// Refuses to go on when `path` exists and `force` is not set; checked before any work so nothing is written.
pub fn check_can_write(path: &Path, force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        return Err(InputError(format!(
            "{} already exists; pass --force to overwrite it or -o to choose another file",
            path.display()
        ))
        .into());
    }
    Ok(())
}

/// Writes `contents` to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, contents: &str) -> anyhow::Result<()> {
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temp_path = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp_path)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp_path, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp_path);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Writes to `path`, or to standard output when there is none.
pub fn write_or_print(path: Option<&Path>, contents: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => write_atomic(path, contents),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(contents.as_bytes()).context("cannot write to standard output")?;
            stdout.flush().context("cannot write to standard output")
        }
    }
}

/// Reads a text file the user named; any failure is the user's to fix (exit code 2).
pub fn read_input(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path)
        .map_err(|error| InputError(format!("cannot read {}: {error}", path.display())))?;
    String::from_utf8(bytes).map_err(|error| {
        InputError(format!(
            "{} is not UTF-8 text (invalid byte at offset {}); an assessment file is TOML text",
            path.display(),
            error.utf8_error().valid_up_to()
        ))
        .into()
    })
}
