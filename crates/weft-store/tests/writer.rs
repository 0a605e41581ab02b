//! The SQLite writer folds concurrent units of work into group commits; each unit stays
//! atomic and isolated: one failing (or panicking) unit does not fail its neighbours.

use weft_store::{Database, DatabaseLocation, Error, StoreOptions, Tx};

async fn database(dir: &tempfile::TempDir) -> Database {
    let db = Database::connect(&StoreOptions::new(DatabaseLocation::parse(None, dir.path()).unwrap())).await.unwrap();
    db.write(|tx: &mut Tx| {
        Box::pin(async move {
            tx.execute_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)").await?;
            Ok::<(), Error>(())
        })
    })
    .await
    .unwrap();
    db
}

async fn insert(db: &Database, v: String) -> Result<(), Error> {
    db.write(move |tx: &mut Tx| {
        Box::pin(async move {
            // Two statements: a unit that fails on the second must leave no trace of the first.
            let q = sea_query::Query::insert()
                .into_table(sea_query::Alias::new("t"))
                .columns([sea_query::Alias::new("v")])
                .values_panic([format!("{v}-a").into()])
                .to_owned();
            tx.execute(&q).await?;
            let q = sea_query::Query::insert()
                .into_table(sea_query::Alias::new("t"))
                .columns([sea_query::Alias::new("v")])
                .values_panic([v.into()])
                .to_owned();
            tx.execute(&q).await?;
            Ok(())
        })
    })
    .await
}

async fn count(db: &Database) -> i64 {
    let q = sea_query::Query::select()
        .expr_as(sea_query::Expr::col(sea_query::Alias::new("id")).count(), sea_query::Alias::new("n"))
        .from(sea_query::Alias::new("t"))
        .to_owned();
    db.fetch_optional(&q).await.unwrap().unwrap().get::<i64>("n").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_unit_does_not_fail_its_batch_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let db = db.clone();
        // Every tenth unit collides with an earlier one on the unique column.
        let v = if i % 10 == 9 { format!("v{}", i - 9) } else { format!("v{i}") };
        tasks.push(tokio::spawn(async move { insert(&db, v).await }));
    }
    let mut ok = 0;
    let mut failed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(_) => failed += 1,
        }
    }
    assert_eq!((ok, failed), (180, 20));
    assert_eq!(count(&db).await, 360, "two rows per successful unit, none from failed ones");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_unit_is_rolled_back_and_the_writer_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let db2 = db.clone();
    let panicking = tokio::spawn(async move {
        db2.write(|tx: &mut Tx| {
            Box::pin(async move {
                tx.execute_ddl("INSERT INTO t (v) VALUES ('doomed')").await?;
                if true {
                    panic!("bug in a unit of work");
                }
                Ok::<(), Error>(())
            })
        })
        .await
    });
    let outcome = panicking.await.expect("the caller does not panic");
    assert!(matches!(outcome, Err(Error::UnitPanicked)), "{outcome:?}");
    insert(&db, "after".into()).await.unwrap();
    assert_eq!(count(&db).await, 2, "the panicking unit's row is gone, the next unit's two are there");
}

#[tokio::test]
async fn results_arrive_only_after_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    insert(&db, "x".into()).await.unwrap();
    // A fresh connection (not the writer's) sees the row as soon as the write returned.
    let path = dir.path().join("weft.db");
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut conn).await.unwrap();
    assert_eq!(n, 2);
}

/// Names of this process's threads.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
                .map(|name| name.trim().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// At `synchronous = FULL` (the default) the log is flushed by the writer's sync thread,
/// which answers the units of a commit once it has; everything answered is there for a new
/// connection, and closing answers what was committed before the connection closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_commits_are_flushed_by_the_sync_thread_and_answered_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    if cfg!(target_os = "linux") {
        // Linux keeps 15 characters of a thread's name.
        assert!(thread_names().iter().any(|n| n == "weft-sqlite-syn"), "no sync thread: {:?}", thread_names());
    }
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move { insert(&db, format!("d{i}")).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(count(&db).await, 600);
    db.close().await;
    let path = dir.path().join("weft.db");
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut conn).await.unwrap();
    assert_eq!(n, 600);
}

/// A close in the middle of a stream of writes loses nothing it answered: every write
/// answered `Ok` is on disk afterwards, every other one was told it was not done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_in_the_middle_of_a_stream_loses_no_answered_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let tasks: Vec<_> = (0..400)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move { insert(&db, format!("c{i}")).await })
        })
        .collect();
    // Let some of them reach the writer, then close in the middle of the stream.
    tokio::task::yield_now().await;
    db.close().await;
    let mut done = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => done += 1,
            Err(Error::WriterStopped) => {}
            Err(other) => panic!("a write failed otherwise than by the close: {other}"),
        }
    }
    let path = dir.path().join("weft.db");
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut conn).await.unwrap();
    assert_eq!(n, 2 * done, "{done} writes were answered done");
}

/// Writers that each wait for their answer before the next write (so the writer often
/// sleeps with nothing queued while the sync thread flushes) are all answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_by_one_writers_are_all_answered_while_flushes_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let db = db.clone();
            tokio::spawn(async move {
                for i in 0..100 {
                    insert(&db, format!("w{w}-{i}")).await.unwrap();
                }
            })
        })
        .collect();
    let all = async {
        for task in tasks {
            task.await.unwrap();
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), all).await.expect("every write is answered");
    assert_eq!(count(&db).await, 1_600);
}
