//! PostgreSQL writes commit without waiting for their flush (so the event log's lock is not
//! held through one) and are answered only after a flush that covers them.
//! Runs against `WEFT_TEST_DATABASE_URL`; skipped without it unless
//! `WEFT_TEST_REQUIRE_POSTGRES=1`.

use sqlx::postgres::PgPoolOptions;
use weft_store::{Database, DatabaseLocation, Error, PgCommit, StoreOptions, Tx};

fn url() -> Option<String> {
    match std::env::var("WEFT_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("WEFT_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "WEFT_TEST_DATABASE_URL is unset but WEFT_TEST_REQUIRE_POSTGRES=1"
            );
            eprintln!("SKIPPED: WEFT_TEST_DATABASE_URL is unset");
            None
        }
    }
}

/// One write that emits a WAL record of its own and returns that record's position.
async fn write_returning_lsn(db: &Database) -> Result<String, Error> {
    db.write(|tx: &mut Tx| {
        Box::pin(async move {
            let Tx::Postgres(t) = tx else { unreachable!("a PostgreSQL database") };
            let setting: String =
                sqlx::query_scalar("SELECT current_setting('synchronous_commit')").fetch_one(&mut **t).await?;
            assert_eq!(setting, "off", "the write's own COMMIT does not wait for the flush");
            let lsn: String = sqlx::query_scalar("SELECT pg_logical_emit_message(true, 'weft.test', 'x')::text")
                .fetch_one(&mut **t)
                .await?;
            Ok::<String, Error>(lsn)
        })
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_answered_after_a_flush_that_covers_them() {
    let Some(url) = url() else { return };
    let location = DatabaseLocation::parse(Some(&url), std::path::Path::new(".")).unwrap();
    let db = Database::connect(&StoreOptions::new(location)).await.unwrap();
    assert_eq!(db.postgres_commit(), Some(PgCommit::FlushAfter), "the test role may emit WAL messages");
    let check = PgPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    // Concurrent writers, as under load: each is answered only once the WAL holding its
    // commit is flushed (the WAL writer alone would flush it up to 200 ms later).
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let db = db.clone();
            let check = check.clone();
            tokio::spawn(async move {
                let lsn = write_returning_lsn(&db).await.unwrap();
                let flushed: bool = sqlx::query_scalar("SELECT pg_current_wal_flush_lsn() > $1::pg_lsn")
                    .bind(&lsn)
                    .fetch_one(&check)
                    .await
                    .unwrap();
                assert!(flushed, "answered before the WAL past {lsn} was flushed");
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    db.close().await;
}

/// A scratch database on the test server, migrated, dropped by `drop_scratch`.
async fn scratch(url: &str) -> (Database, String) {
    let name = format!("weft_store_{}", uuid::Uuid::new_v4().simple());
    let admin = PgPoolOptions::new().max_connections(1).connect(url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    let mut scratch_url = url::Url::parse(url).unwrap();
    scratch_url.set_path(&name);
    let location = DatabaseLocation::parse(Some(scratch_url.as_str()), std::path::Path::new(".")).unwrap();
    let db = Database::connect(&StoreOptions::new(location)).await.unwrap();
    db.migrate().await.unwrap();
    (db, name)
}

async fn drop_scratch(url: &str, db: Database, name: &str) {
    db.close().await;
    let admin = PgPoolOptions::new().max_connections(1).connect(url).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await.unwrap();
}

/// PostgreSQL chains a single audit entry in SQL (`weft_audit_append_one`, which takes the
/// event log's lock itself) and several in Rust: the two must agree on every hash, and
/// concurrent appends must form one unbroken chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_entries_chained_in_sql_and_in_rust_verify_as_one_chain() {
    use weft_store::kernel::audit::{self, AuditEntry, AuditVerdict};
    let Some(url) = url() else { return };
    let (db, name) = scratch(&url).await;
    let entry = |i: usize| AuditEntry {
        actor: format!("principal-{i} 张三"),
        action: "record.update".into(),
        target_type: "order".into(),
        target_id: format!("id-{i}"),
        detail: serde_json::json!({ "version": i, "note": "引号 \" and \u{1f} separators" }),
    };
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.write(move |tx: &mut Tx| {
                    Box::pin(async move {
                        // No explicit `lock_event_log`: the append takes the lock itself
                        // (in SQL for one entry, in Rust before a pair).
                        let at = weft_store::now();
                        // Every third write appends two entries (the Rust path), the rest one.
                        if i % 3 == 0 {
                            audit::append_many(tx, &[entry(i), entry(i + 100)], at).await
                        } else {
                            audit::append(tx, &entry(i), at).await
                        }
                    })
                })
                .await
                .unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(audit::verify(&db).await.unwrap(), AuditVerdict::Intact { entries: 40 });
    drop_scratch(&url, db, &name).await;
}
