//! Looking at a database from outside (`schema_status`) and copying one (`backup_sqlite`): each state a database
//! can be in is made for real, on a SQLite file and on a fresh PostgreSQL database, and nothing is ever created
//! or migrated by looking.

use std::time::Duration;

use seam_store::testing::fresh_postgres;
use seam_store::{SchemaStatus, StoreError, backup_sqlite, schema_status};

const TIMEOUT: Duration = Duration::from_secs(10);

/// The latest migration this build knows.
fn latest() -> i64 {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.split('_').next().and_then(|number| number.parse::<i64>().ok())
        })
        .max()
        .unwrap()
}

async fn execute(url: &str, sql: &str) {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{path}")).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// Every status, in order, on the database at `url` (empty at the start); `blob` is a one-byte blob literal in
/// its dialect.
async fn every_status(url: &str, blob: &str) {
    let latest = latest();
    assert_eq!(schema_status(url, TIMEOUT).await.unwrap(), SchemaStatus::NotMigrated { latest });
    assert_eq!(
        schema_status(url, TIMEOUT).await.unwrap(),
        SchemaStatus::NotMigrated { latest },
        "looking twice changes nothing (no migrations table was created)"
    );

    let store = seam_store::open(url).await.unwrap();
    drop(store);
    assert_eq!(schema_status(url, TIMEOUT).await.unwrap(), SchemaStatus::Current { version: latest });

    execute(url, &format!("UPDATE _sqlx_migrations SET checksum = {blob} WHERE version = 1")).await;
    assert_eq!(schema_status(url, TIMEOUT).await.unwrap(), SchemaStatus::Modified { version: 1 });

    execute(url, "UPDATE _sqlx_migrations SET success = false WHERE version = 1").await;
    assert_eq!(schema_status(url, TIMEOUT).await.unwrap(), SchemaStatus::Dirty { version: 1 });

    execute(
        url,
        &format!(
            "UPDATE _sqlx_migrations SET success = true; INSERT INTO _sqlx_migrations \
             (version, description, success, checksum, execution_time) VALUES (9999, 'from the future', true, {blob}, 0)"
        ),
    )
    .await;
    assert_eq!(
        schema_status(url, TIMEOUT).await.unwrap(),
        SchemaStatus::Ahead { applied: 9999, latest },
        "a newer Seam migrated it"
    );
}

#[tokio::test]
async fn sqlite_schema_status_from_missing_to_ahead_without_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seam.db");
    let url = format!("sqlite:{}", path.display());
    assert_eq!(schema_status(&url, TIMEOUT).await.unwrap(), SchemaStatus::NoDatabase);
    assert!(!path.exists(), "looking at a missing database does not create it");

    // An empty file is an empty SQLite database.
    std::fs::write(&path, b"").unwrap();
    every_status(&url, "x'00'").await;

    let bad = schema_status("mysql://x", TIMEOUT).await.unwrap_err();
    assert!(matches!(bad, StoreError::BadUrl(_)), "{bad}");
    std::fs::write(dir.path().join("text.db"), b"this is not a database, it is text").unwrap();
    let url = format!("sqlite:{}", dir.path().join("text.db").display());
    assert!(schema_status(&url, TIMEOUT).await.is_err());
}

#[tokio::test]
async fn postgres_schema_status_from_empty_to_ahead() {
    let Some(db) = fresh_postgres().await else { return };
    every_status(&db.url, "decode('00', 'hex')").await;
}

#[tokio::test]
async fn a_sqlite_backup_is_a_checked_copy_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("seam.db");
    let url = format!("sqlite:{}", source.display());
    let store = seam_store::open(&url).await.unwrap();
    store
        .insert_events(&[seam_store::NewEvent {
            source: "stripe".into(),
            event_id: "evt_1".into(),
            event_type: "invoice.created".into(),
            payload: "{}".into(),
            received_at: 1,
            status: "unmatched".into(),
        }])
        .await
        .unwrap();

    // The server's connection stays open (WAL mode, a write not yet checkpointed) while the copy is taken.
    let copy = dir.path().join("copy.db");
    backup_sqlite(&source, &copy).await.unwrap();
    let copy_url = format!("sqlite:{}", copy.display());
    assert_eq!(schema_status(&copy_url, TIMEOUT).await.unwrap(), SchemaStatus::Current { version: latest() });
    let restored = seam_store::open(&copy_url).await.unwrap();
    assert!(restored.event("stripe", "evt_1").await.unwrap().is_some());
    drop(restored);

    // VACUUM INTO refuses a destination that exists: a backup never overwrites by itself.
    let before = std::fs::read(&copy).unwrap();
    assert!(backup_sqlite(&source, &copy).await.is_err());
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    // A missing source is an error, and is not created.
    assert!(backup_sqlite(&dir.path().join("none.db"), &dir.path().join("x.db")).await.is_err());
    assert!(!dir.path().join("none.db").exists());
    drop(store);
}
