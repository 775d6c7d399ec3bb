//! `seam backup --db URL -o FILE`: a consistent copy of a SQLite database, taken while `seam serve` keeps
//! writing to it.
//!
//! The copy is SQLite's `VACUUM INTO` (in `seam_store::backup_sqlite`): one read transaction, so the file is the
//! database as of one instant, and in WAL mode the server's writes go on meanwhile. It is written under a
//! temporary name beside FILE, checked, synced, and only then renamed to FILE, so a failed or interrupted backup
//! never leaves a partial FILE, nor replaces a good one. An existing FILE is kept unless `--force` is given.
//!
//! PostgreSQL has its own tool for this, which knows every detail of the server it copies: for a `postgres://`
//! URL the command prints the `pg_dump` (and `pg_restore`) command to use and exits 2, without connecting.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use seam_store::{DbUrl, StoreError};

use crate::InputError;
use crate::cli::BackupArgs;
use crate::output;

pub fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let source = match seam_store::parse_url(&args.db) {
        Ok(DbUrl::Sqlite(path)) => PathBuf::from(path),
        Ok(DbUrl::Postgres(url)) => return Err(InputError(postgres_advice(url, &args.output)).into()),
        Err(error) => return Err(InputError(format!("--db: {error}")).into()),
    };
    if !source.is_file() {
        return Err(InputError(format!(
            "--db: no database at {}; give the path `seam serve --db` uses (or SEAM_DB)",
            source.display()
        ))
        .into());
    }
    output::check_can_write(&args.output, args.force)?;
    if args.output.is_dir() {
        return Err(
            InputError(format!("-o: {} is a folder; name the new file", args.output.display())).into()
        );
    }
    let dir = match args.output.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(InputError(format!("-o: the folder {} does not exist", dir.display())).into());
    }
    if same_file(&source, &args.output) {
        return Err(InputError(format!(
            "-o: {} is the database itself; write the backup to another file",
            args.output.display()
        ))
        .into());
    }

    let name = args.output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.backup-tmp", std::process::id()));
    let result = copy_then_rename(&source, &temp, &args.output);
    if result.is_err() {
        for leftover in [temp.clone(), with_suffix(&temp, "-journal"), with_suffix(&temp, "-wal")] {
            let _ = std::fs::remove_file(leftover);
        }
    }
    result?;
    let bytes = std::fs::metadata(&args.output).map(|m| m.len()).unwrap_or_default();
    println!(
        "seam: backed up {} to {} ({bytes} bytes); to restore, stop seam and copy it back (docs/deploy.md)",
        source.display(),
        args.output.display()
    );
    Ok(())
}

fn copy_then_rename(source: &Path, temp: &Path, dest: &Path) -> anyhow::Result<()> {
    let _ = std::fs::remove_file(temp);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(seam_store::backup_sqlite(source, temp)).map_err(|error| match error {
        StoreError::Integrity(message) => {
            anyhow::anyhow!("the copy is damaged, so it was not kept: {message}")
        }
        error => anyhow::Error::new(error).context(format!("copying {}", source.display())),
    })?;
    std::fs::File::open(temp).and_then(|file| file.sync_all()).context("syncing the copy")?;
    std::fs::rename(temp, dest).with_context(|| format!("cannot write {}", dest.display()))?;
    // The rename is durable once the folder is synced (best effort: not every platform can open a folder).
    if let Some(dir) = dest.parent().filter(|dir| !dir.as_os_str().is_empty())
        && let Ok(dir) = std::fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut text = path.as_os_str().to_owned();
    text.push(suffix);
    PathBuf::from(text)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// What to run instead for PostgreSQL: `pg_dump` in its custom format (compressed, restorable table by table)
/// and the matching `pg_restore`. A password in the URL is left out of the printed commands: it would end up in
/// the shell's history; `pg_dump` reads it from `PGPASSWORD` or `~/.pgpass`.
fn postgres_advice(url: &str, file: &Path) -> String {
    let (url, had_password) = without_password(url);
    let file = shell_quote(&file.display().to_string());
    let url = shell_quote(&url);
    let mut text = format!(
        "seam backup copies SQLite databases; for PostgreSQL use pg_dump, which takes a consistent snapshot while \
         Seam keeps running:\n  pg_dump --format=custom --file {file} {url}\nTo restore (stop seam first; into \
         an empty database, or with --clean to replace Seam's tables):\n  pg_restore --clean --if-exists \
         --no-owner --dbname {url} {file}"
    );
    if had_password {
        text.push_str(
            "\n(The password is left out of these commands: put it in PGPASSWORD or ~/.pgpass for pg_dump.)",
        );
    }
    text
}

/// The URL without its password, and whether it had one.
fn without_password(url: &str) -> (String, bool) {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(None);
            (parsed.to_string(), true)
        }
        _ => (url.to_owned(), false),
    }
}

/// `text` as one shell word: unchanged when it is plain, else in single quotes.
pub fn shell_quote(text: &str) -> String {
    let plain =
        !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c));
    if plain { text.to_owned() } else { format!("'{}'", text.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_advice_names_pg_dump_and_pg_restore_without_the_password() {
        let text = postgres_advice(
            "postgres://seam:s3cret@db.internal:5432/seam?sslmode=require",
            Path::new("b.dump"),
        );
        assert!(
            text.contains(
                "pg_dump --format=custom --file b.dump 'postgres://seam@db.internal:5432/seam?sslmode=require'"
            ),
            "{text}"
        );
        assert!(
            text.contains("pg_restore --clean --if-exists --no-owner --dbname 'postgres://seam@"),
            "{text}"
        );
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("PGPASSWORD"), "{text}");
        let text = postgres_advice("postgres://seam@db/seam", Path::new("my backup.dump"));
        assert!(text.contains("--file 'my backup.dump' postgres://seam@db/seam"), "{text}");
        assert!(!text.contains("PGPASSWORD"), "{text}");
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("/var/lib/seam/b.db"), "/var/lib/seam/b.db");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("a&b"), "'a&b'");
        assert_eq!(shell_quote(""), "''");
    }
}
