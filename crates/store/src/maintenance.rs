//! Looking at a database from the outside, for `seam doctor` and `seam backup`: whether it exists and carries
//! this build's schema, and a consistent copy of a SQLite file while a server writes to it.
//!
//! Nothing here creates a database or changes a schema: [`schema_status`] reads the migrations table without
//! creating it (where [`crate::open`] would create the file and migrate), and [`backup_sqlite`] only reads the
//! source.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use crate::{DbUrl, Result, StoreError, parse_url};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Where a database stands against the schema this build of Seam expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaStatus {
    /// Every migration this build knows is applied, unchanged; `version` is the latest.
    Current { version: i64 },
    /// A SQLite URL whose file does not exist.
    NoDatabase,
    /// The database exists but was never migrated (no migrations table, or an empty one).
    NotMigrated { latest: i64 },
    /// Some of this build's migrations are not applied yet; `seam migrate` applies them.
    Behind { applied: i64, latest: i64 },
    /// Migrations this build does not know are applied: a newer Seam migrated this database.
    Ahead { applied: i64, latest: i64 },
    /// A migration started and did not finish.
    Dirty { version: i64 },
    /// An applied migration's checksum differs from this build's: the schema came from another build.
    Modified { version: i64 },
}

/// Connects to `url` (waiting at most `timeout` for a PostgreSQL connection) and compares its migrations table
/// with this build's migrations. Creates nothing: a missing SQLite file is [`SchemaStatus::NoDatabase`].
pub async fn schema_status(url: &str, timeout: Duration) -> Result<SchemaStatus> {
    let applied = match parse_url(url)? {
        DbUrl::Sqlite(path) => {
            if !Path::new(path).exists() {
                return Ok(SchemaStatus::NoDatabase);
            }
            let options = SqliteConnectOptions::from_str(&format!("sqlite:{path}"))?
                .create_if_missing(false)
                .busy_timeout(timeout);
            let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
            let exists: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            )
            .fetch_one(&pool)
            .await?;
            let rows = if exists == 0 {
                Vec::new()
            } else {
                sqlx::query_as::<_, (i64, bool, Vec<u8>)>(
                    "SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version",
                )
                .fetch_all(&pool)
                .await?
            };
            pool.close().await;
            compare(&SQLITE_MIGRATIONS, &rows)
        }
        DbUrl::Postgres(url) => {
            let pool = PgPoolOptions::new().max_connections(1).acquire_timeout(timeout).connect(url).await?;
            let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(&pool)
                .await?;
            let rows = if exists {
                sqlx::query_as::<_, (i64, bool, Vec<u8>)>(
                    "SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version",
                )
                .fetch_all(&pool)
                .await?
            } else {
                Vec::new()
            };
            pool.close().await;
            compare(&POSTGRES_MIGRATIONS, &rows)
        }
    };
    Ok(applied)
}

/// `applied` is (version, success, checksum) for each row of the migrations table, by version.
fn compare(migrator: &Migrator, applied: &[(i64, bool, Vec<u8>)]) -> SchemaStatus {
    let known: Vec<_> = migrator.iter().filter(|m| m.migration_type.is_up_migration()).collect();
    let latest = known.iter().map(|m| m.version).max().unwrap_or(0);
    if applied.is_empty() {
        return SchemaStatus::NotMigrated { latest };
    }
    if let Some((version, ..)) = applied.iter().find(|(_, success, _)| !success) {
        return SchemaStatus::Dirty { version: *version };
    }
    let highest = applied.iter().map(|(version, ..)| *version).max().unwrap_or(0);
    if highest > latest {
        return SchemaStatus::Ahead { applied: highest, latest };
    }
    for (version, _, checksum) in applied {
        if let Some(migration) = known.iter().find(|m| m.version == *version)
            && migration.checksum.as_ref() != checksum.as_slice()
        {
            return SchemaStatus::Modified { version: *version };
        }
    }
    if known.iter().any(|m| !applied.iter().any(|(version, ..)| *version == m.version)) {
        return SchemaStatus::Behind { applied: highest, latest };
    }
    SchemaStatus::Current { version: latest }
}

/// Copies the SQLite database at `source` into a new file `dest` with `VACUUM INTO`: one read transaction, so
/// the copy is the database as of one instant, and in WAL mode a server keeps writing meanwhile (readers do not
/// block the writer). `dest` must not exist; the copy is synced and checked with `PRAGMA quick_check` before
/// this returns. On failure `dest` may be left partly written: the caller writes to a temporary name and
/// renames.
pub async fn backup_sqlite(source: &Path, dest: &Path) -> Result<()> {
    let options = SqliteConnectOptions::new()
        .filename(source)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
    let dest_text = dest.to_str().ok_or_else(|| {
        StoreError::BadUrl(format!("{}: the backup path must be UTF-8 text", dest.display()))
    })?;
    let copied = sqlx::query("VACUUM INTO $1").bind(dest_text).execute(&pool).await;
    pool.close().await;
    copied?;

    let copy = SqliteConnectOptions::new().filename(dest).create_if_missing(false);
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(copy).await?;
    let verdict: String = sqlx::query_scalar("PRAGMA quick_check").fetch_one(&pool).await?;
    pool.close().await;
    if verdict != "ok" {
        return Err(StoreError::Integrity(format!("{}: PRAGMA quick_check says {verdict}", dest.display())));
    }
    Ok(())
}
