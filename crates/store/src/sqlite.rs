//! The SQLite implementation: one file in WAL mode, `synchronous = FULL` (an acknowledged event survives power
//! loss), one writer connection so transactions never contend.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

type DB = sqlx::Sqlite;

const BACKEND: &str = "sqlite";
/// SQLite has no row locks; the single connection serialises transactions.
const FOR_UPDATE: &str = "";
const FOR_UPDATE_SKIP_LOCKED: &str = "";

type Backend = SqliteStore;
include!("shared.rs");

/// Seam's embedded default.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: Pool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and applies migrations.
    pub async fn open(path: &str) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite:{path}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options)
            .await?;
        let store = SqliteStore { pool };
        store.migrate_now().await?;
        Ok(store)
    }

    /// Opens the database file at `path` as it is, for readers such as `seam audit export`: a missing file is an
    /// error (never created), and no migration or journal-mode change is applied.
    pub async fn open_existing(path: &str) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite:{path}"))?
            .create_if_missing(false)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }

    async fn migrate_now(&self) -> Result<()> {
        sqlx::migrate!("./migrations/sqlite").run(&self.pool).await?;
        Ok(())
    }

    async fn lock_key_now(_tx: &mut Transaction, _workflow: &str, _key: &str) -> Result<()> {
        Ok(())
    }
}
