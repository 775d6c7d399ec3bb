//! The PostgreSQL implementation: several Seam processes share one database. Work is claimed with
//! `FOR UPDATE SKIP LOCKED`, routing for one (workflow, key) is serialised with a transaction-scoped advisory lock.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;

type DB = sqlx::Postgres;

const BACKEND: &str = "postgres";
const FOR_UPDATE: &str = " FOR UPDATE";
const FOR_UPDATE_SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

type Backend = PostgresStore;
include!("shared.rs");

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl PostgresStore {
    /// Connects to `url` and applies migrations.
    pub async fn open(url: &str) -> Result<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        let store = PostgresStore { pool };
        store.migrate_now().await?;
        Ok(store)
    }

    /// Connects to `url` and leaves the database as it is (no migration), for readers such as `seam audit export`.
    pub async fn open_existing(url: &str) -> Result<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        Ok(PostgresStore { pool })
    }

    async fn migrate_now(&self) -> Result<()> {
        sqlx::migrate!("./migrations/postgres").run(&self.pool).await?;
        Ok(())
    }

    async fn lock_key_now(tx: &mut Transaction, workflow: &str, key: &str) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("{workflow}\u{1f}{key}"))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
