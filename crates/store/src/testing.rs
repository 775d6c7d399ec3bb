//! Real databases for tests: a fresh SQLite file, or a fresh PostgreSQL database created on the server named by
//! `SEAM_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and dropped afterwards.
//!
//! When PostgreSQL is unreachable, [`fresh_postgres`] returns `None` after printing a line starting `SKIPPED:`,
//! except under `CI=true`, where it panics: a PostgreSQL test must never pass by not running.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("SEAM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database `seam_test_<random>` that is dropped when this value is dropped.
#[derive(Debug)]
pub struct TempPostgres {
    pub url: String,
    name: String,
    admin: String,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Creates a fresh PostgreSQL database, or returns `None` (printing `SKIPPED:`) when no server answers and `CI`
/// is not `true`.
pub async fn fresh_postgres() -> Option<TempPostgres> {
    let admin = postgres_admin_url();
    let mut conn = match PgConnection::connect(&admin).await {
        Ok(conn) => conn,
        Err(error) => {
            let message = format!("PostgreSQL at {admin} is not reachable ({error})");
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{message}; under CI=true a PostgreSQL test may not be skipped");
            }
            println!("SKIPPED: {message}; start it or set SEAM_TEST_POSTGRES_URL");
            return None;
        }
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_nanos())
        .unwrap_or_default();
    let name = format!(
        "seam_test_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|error| panic!("CREATE DATABASE {name} failed: {error}"));
    let _ = conn.close().await;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
    Some(TempPostgres { url: format!("{base}/{name}"), name, admin })
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // Drop may run inside a runtime; do the async work on a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async move {
                let mut conn = PgConnection::connect(&admin).await.ok()?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}
