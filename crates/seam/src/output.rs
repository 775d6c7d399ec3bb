//! Writing outputs so that a failure never leaves a half-written or clobbered file behind, and the checks made
//! before any work (the file would not be overwritten by mistake, its folder can take it).

use crate::InputError;
use anyhow::Context as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

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

/// Refuses to go on when `path` could not be written: its folder is missing, is not a folder, or does not let a file
/// be created in it. Checked before any question is asked, so no answer is given in vain; the check creates and
/// removes a small file beside `path`, the same way `write_atomic` will.
pub fn check_folder_writable(path: &Path) -> anyhow::Result<()> {
    let dir = folder_of(path);
    let refuse = |why: String| -> anyhow::Result<()> {
        Err(InputError(format!("cannot write {}: {why}", path.display())).into())
    };
    match std::fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => return refuse(format!("{} is not a folder", dir.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return refuse(format!("the folder {} does not exist", dir.display()));
        }
        Err(error) => return refuse(format!("cannot open the folder {}: {error}", dir.display())),
    }
    let probe = temp_path_for(path, "probe");
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(error) => {
            refuse(format!("the folder {} does not let a file be created ({error})", dir.display()))
        }
    }
}

/// Writes `contents` to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, contents: &str) -> anyhow::Result<()> {
    write_atomic_io(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// `write_atomic` for callers that want the plain I/O error. A kill at any moment leaves either the old file or the
/// new one at `path`, never a mix.
pub fn write_atomic_io(path: &Path, contents: &str) -> std::io::Result<()> {
    let temp_path = temp_path_for(path, "tmp");
    let result = (|| {
        let mut file = std::fs::File::create(&temp_path)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp_path, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp_path);
    }
    result
}

/// The folder `path` is in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// A hidden file beside `path`, named after it and this process, so two processes never share one.
fn temp_path_for(path: &Path, suffix: &str) -> PathBuf {
    let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    folder_of(path).join(format!(".{file_name}.{}.{suffix}", std::process::id()))
}

/// Writes to `path`, or to standard output when there is none. A reader that closed the pipe early (`seam ... |
/// head -1`) has what it wanted: that ends quietly, as a success.
pub fn write_or_print(path: Option<&Path>, contents: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => write_atomic(path, contents),
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(contents.as_bytes()).and_then(|()| stdout.flush()) {
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                written => written.context("cannot write to standard output"),
            }
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
