//! The SQLite writer runs units of work on its own connection (rusqlite) on its own thread.
//! What a unit reads there must decode exactly as the same row read through sqlx's pool;
//! its settings must be the store's; and a batch must keep every unit atomic and isolated,
//! whatever its neighbours do (fail, panic, violate a constraint).

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use sea_query::{Alias, Expr, Query};
use time::OffsetDateTime;
use uuid::Uuid;
use weft_store::{Database, DatabaseLocation, DbRow, Error, SqliteValue, StoreOptions, Synchronous, Tx};

fn a(name: &str) -> Alias {
    Alias::new(name)
}

async fn connect(dir: &tempfile::TempDir, synchronous: Synchronous) -> Database {
    let mut options = StoreOptions::new(DatabaseLocation::parse(None, dir.path()).unwrap());
    options.sqlite_synchronous = synchronous;
    Database::connect(&options).await.unwrap()
}

async fn ddl(db: &Database, sql: &'static str) {
    db.write(move |tx: &mut Tx| {
        Box::pin(async move {
            tx.execute_ddl(sql).await?;
            Ok::<(), Error>(())
        })
    })
    .await
    .unwrap();
}

/// Every column decoded as every type a caller may ask for; an error is kept as `None`
/// beside the outcome (the point is that both paths accept and refuse the same reads).
#[derive(Debug, PartialEq)]
struct Decoded {
    text: Result<String, ()>,
    int: Result<i64, ()>,
    int32: Result<i32, ()>,
    flag: Result<bool, ()>,
    id: Result<Uuid, ()>,
    at: Result<OffsetDateTime, ()>,
    bytes: Result<Vec<u8>, ()>,
    real: Result<f64, ()>,
    day: Result<time::Date, ()>,
    opt_text: Result<Option<String>, ()>,
    opt_int: Result<Option<i64>, ()>,
    opt_flag: Result<Option<bool>, ()>,
    opt_id: Result<Option<Uuid>, ()>,
    opt_at: Result<Option<OffsetDateTime>, ()>,
    opt_day: Result<Option<time::Date>, ()>,
    opt_bytes: Result<Option<Vec<u8>>, ()>,
}

fn decode(row: &DbRow, column: &str) -> Decoded {
    Decoded {
        text: row.get(column).map_err(|_| ()),
        int: row.get(column).map_err(|_| ()),
        int32: row.get(column).map_err(|_| ()),
        flag: row.get(column).map_err(|_| ()),
        id: row.get(column).map_err(|_| ()),
        at: row.get(column).map_err(|_| ()),
        bytes: row.get(column).map_err(|_| ()),
        real: row.get(column).map_err(|_| ()),
        day: row.get(column).map_err(|_| ()),
        opt_text: row.get(column).map_err(|_| ()),
        opt_int: row.get(column).map_err(|_| ()),
        opt_flag: row.get(column).map_err(|_| ()),
        opt_id: row.get(column).map_err(|_| ()),
        opt_at: row.get(column).map_err(|_| ()),
        opt_day: row.get(column).map_err(|_| ()),
        opt_bytes: row.get(column).map_err(|_| ()),
    }
}

const COLUMNS: &[&str] = &[
    "s",
    "i",
    "i_big",
    "i_neg",
    "i_wide",
    "b_true",
    "b_false",
    "u",
    "ts",
    "ts_space",
    "ts_offset",
    "ts_short",
    "ts_unix",
    "bytes",
    "empty",
    "f",
    "d",
    "n",
    "bad_utf8",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_decodes_every_type_exactly_as_the_sqlx_readers() {
    let dir = tempfile::tempdir().unwrap();
    let db = connect(&dir, Synchronous::Full).await;
    ddl(
        &db,
        "CREATE TABLE v (k INTEGER PRIMARY KEY, s TEXT, i INTEGER, i_big INTEGER, i_neg INTEGER, i_wide INTEGER, \
         b_true BOOLEAN, b_false BOOLEAN, u BLOB, ts TEXT, ts_space TEXT, ts_offset TEXT, ts_short TEXT, \
         ts_unix INTEGER, bytes BLOB, empty BLOB, f REAL, d TEXT, n TEXT, bad_utf8 TEXT)",
    )
    .await;
    let id = Uuid::now_v7();
    let at = weft_store::now();
    let day = time::macros::date!(2026 - 11 - 25);
    // Written through the writer, as the rest of Weft writes: sea-query values.
    db.write(move |tx: &mut Tx| {
        Box::pin(async move {
            assert!(matches!(tx, Tx::SqliteDirect(_)), "the writer thread's own connection");
            let insert = Query::insert()
                .into_table(a("v"))
                .columns(
                    [
                        "k",
                        "s",
                        "i",
                        "i_big",
                        "i_neg",
                        "i_wide",
                        "b_true",
                        "b_false",
                        "u",
                        "ts",
                        "ts_space",
                        "ts_offset",
                        "ts_short",
                        "ts_unix",
                        "bytes",
                        "empty",
                        "f",
                        "d",
                        "n",
                    ]
                    .map(a),
                )
                .values_panic([
                    1.into(),
                    "héllo ✓".into(),
                    42_i64.into(),
                    i64::MAX.into(),
                    (-7_i32).into(),
                    (i64::from(i32::MAX) + 1).into(),
                    true.into(),
                    false.into(),
                    id.into(),
                    weft_store::timestamp(weft_store::Backend::Sqlite, at).into(),
                    "2026-11-25 08:09:10".into(),
                    "2026-11-25T08:09:10.5+02:00".into(),
                    "2026-11-25 08:09".into(),
                    1_764_000_000_i64.into(),
                    sea_query::Value::Bytes(Some(Box::new(vec![0, 1, 2, 255]))).into(),
                    sea_query::Value::Bytes(Some(Box::new(Vec::new()))).into(),
                    1.25_f64.into(),
                    sea_query::Value::TimeDate(Some(Box::new(day))).into(),
                    sea_query::Value::String(None).into(),
                ])
                .to_owned();
            tx.execute(&insert).await?;
            // Text that is not UTF-8 cannot come from sea-query; SQLite makes it.
            tx.execute_ddl("UPDATE v SET bad_utf8 = CAST(x'fffe' AS TEXT)").await?;
            Ok::<(), Error>(())
        })
    })
    .await
    .unwrap();

    let select = Query::select().columns(COLUMNS.iter().map(|c| a(c))).from(a("v")).to_owned();
    let direct = {
        let select = select.clone();
        db.write(move |tx: &mut Tx| {
            Box::pin(async move {
                let row = tx.fetch_optional(&select).await?.expect("the row");
                assert!(matches!(row, DbRow::SqliteDirect(_)), "read on the writer's connection");
                let all = tx.fetch_all(&select).await?;
                assert_eq!(all.len(), 1);
                Ok::<_, Error>(COLUMNS.iter().map(|c| decode(&row, c)).collect::<Vec<_>>())
            })
        })
        .await
        .unwrap()
    };
    let pooled = db.fetch_optional(&select).await.unwrap().expect("the row");
    assert!(matches!(pooled, DbRow::Sqlite(_)), "read through sqlx");
    for (column, direct) in COLUMNS.iter().zip(direct) {
        assert_eq!(direct, decode(&pooled, column), "column {column}");
    }

    // And the values themselves, for the types Weft stores.
    let row = db.fetch_optional(&select).await.unwrap().unwrap();
    assert_eq!(row.get::<String>("s").unwrap(), "héllo ✓");
    assert_eq!(row.get::<i64>("i_big").unwrap(), i64::MAX);
    assert!(row.get::<i32>("i_wide").is_err(), "does not fit");
    assert!(row.get::<bool>("b_true").unwrap());
    assert_eq!(row.get::<Uuid>("u").unwrap(), id);
    assert_eq!(row.get::<OffsetDateTime>("ts").unwrap(), at);
    assert_eq!(row.get::<Vec<u8>>("bytes").unwrap(), vec![0, 1, 2, 255]);
    assert_eq!(row.get::<time::Date>("d").unwrap(), day);
    assert_eq!(row.get::<Option<String>>("n").unwrap(), None);
    assert!(row.get::<String>("bad_utf8").is_err());
    assert!(row.get::<i64>("missing").is_err());

    // Reads by key run on the caller's thread with a connection of their own, and decode
    // exactly as the pool's.
    let looked_up = db.lookup(&select).await.unwrap().expect("the row");
    assert!(matches!(looked_up, DbRow::SqliteDirect(_)), "read on the calling thread");
    let all = db.lookup_all(&select).await.unwrap();
    assert_eq!(all.len(), 1);
    for column in COLUMNS {
        assert_eq!(decode(&looked_up, column), decode(&pooled, column), "column {column}");
        assert_eq!(decode(&all[0], column), decode(&pooled, column), "column {column}");
    }
}

/// A read by key sees every write answered before it, from any number of callers at once,
/// and fails cleanly (no panic, no stale answer) once the store is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_see_every_answered_write_and_fail_after_close() {
    let dir = tempfile::tempdir().unwrap();
    let db = connect(&dir, Synchronous::Full).await;
    ddl(&db, "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL)").await;
    let by_key = |k: i64| Query::select().column(a("v")).from(a("kv")).and_where(Expr::col(a("k")).eq(k)).to_owned();
    assert!(db.lookup(&by_key(1)).await.unwrap().is_none(), "nothing yet");
    let mut callers = tokio::task::JoinSet::new();
    for caller in 0..16_i64 {
        let db = db.clone();
        callers.spawn(async move {
            for n in 0..20_i64 {
                let k = caller * 100 + n;
                db.write(move |tx: &mut Tx| {
                    Box::pin(async move {
                        let insert = Query::insert()
                            .into_table(a("kv"))
                            .columns([a("k"), a("v")])
                            .values_panic([k.into(), format!("v{k}").into()])
                            .to_owned();
                        tx.execute(&insert).await?;
                        Ok::<(), Error>(())
                    })
                })
                .await
                .unwrap();
                let row = db.lookup(&by_key(k)).await.unwrap().expect("an answered write is visible");
                assert_eq!(row.get::<String>("v").unwrap(), format!("v{k}"));
            }
        });
    }
    while let Some(done) = callers.join_next().await {
        done.unwrap();
    }
    let all = db.lookup_all(&Query::select().column(a("k")).from(a("kv")).to_owned()).await.unwrap();
    assert_eq!(all.len(), 16 * 20);

    db.close().await;
    let Err(err) = db.lookup(&by_key(1)).await else { panic!("a closed store still answered") };
    assert!(matches!(err, Error::Sql(sqlx::Error::PoolClosed)), "{err:?}");
    assert!(db.lookup_all(&by_key(1)).await.is_err());
}

#[tokio::test]
async fn the_write_connection_has_the_stores_settings() {
    // At FULL the connection commits at NORMAL (1) and the writer's sync thread flushes the
    // log before answering (`writer::Syncer`); the log is checkpointed past 4,000 pages
    // instead of 1,000 (`DirectConn::open`); the other settings are SQLite's own.
    for (synchronous, expected) in [(Synchronous::Full, 1), (Synchronous::Normal, 1), (Synchronous::Extra, 3)] {
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&dir, synchronous).await;
        let settings = db
            .write(|tx: &mut Tx| {
                Box::pin(async move {
                    let Tx::SqliteDirect(conn) = tx else { panic!("not the direct connection") };
                    Ok::<_, Error>(
                        ["synchronous", "foreign_keys", "busy_timeout", "journal_mode", "wal_autocheckpoint"]
                            .map(|p| conn.pragma(p).unwrap()),
                    )
                })
            })
            .await
            .unwrap();
        assert_eq!(
            settings,
            [
                SqliteValue::Integer(expected),
                SqliteValue::Integer(1),
                SqliteValue::Integer(5000),
                SqliteValue::Text(b"wal".to_vec().into_boxed_slice()),
                SqliteValue::Integer(4000),
            ],
            "{synchronous:?}"
        );
        db.close().await;
    }
}

type Pending = Pin<Box<dyn Future<Output = Result<i64, Error>> + Send>>;

fn insert_unit(db: &Database, v: &'static str, then: &'static str) -> Pending {
    let db = db.clone();
    Box::pin(async move {
        db.write(move |tx: &mut Tx| {
            Box::pin(async move {
                let insert = Query::insert().into_table(a("t")).columns([a("v")]).values_panic([v.into()]).to_owned();
                tx.execute(&insert).await?;
                match then {
                    "panic" => panic!("a bug in a unit of work"),
                    "fail" => return Err(Error::Filter("refused after writing".into())),
                    _ => {}
                }
                // What this unit sees: the writes of the units before it in the batch.
                let count = Query::select().expr_as(Expr::col(a("v")).count(), a("n")).from(a("t")).to_owned();
                tx.fetch_optional(&count).await?.unwrap().get::<i64>("n")
            })
        })
        .await
    })
}

#[tokio::test]
async fn a_failing_or_panicking_unit_rolls_back_alone_within_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let db = connect(&dir, Synchronous::Full).await;
    ddl(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)").await;

    // Hold the writer in a unit that waits, so the next units queue up behind it and are
    // taken as one batch.
    let (started, running) = tokio::sync::oneshot::channel::<()>();
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let blocker = {
        let db = db.clone();
        tokio::spawn(async move {
            db.write(move |_tx: &mut Tx| {
                Box::pin(async move {
                    let _ = started.send(());
                    let _ = wait.await;
                    Ok::<(), Error>(())
                })
            })
            .await
        })
    };
    running.await.unwrap();
    let mut units: Vec<Pending> = vec![
        insert_unit(&db, "a", ""),
        insert_unit(&db, "b", "panic"),
        insert_unit(&db, "c", "fail"),
        insert_unit(&db, "a", ""), // unique violation
        insert_unit(&db, "e", ""),
    ];
    // Poll each once: its envelope is queued, in this order.
    std::future::poll_fn(|cx| {
        for unit in &mut units {
            assert!(unit.as_mut().poll(cx).is_pending());
        }
        Poll::Ready(())
    })
    .await;
    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    let mut outcomes = Vec::new();
    for unit in units {
        outcomes.push(unit.await);
    }

    assert_eq!(outcomes[0].as_ref().unwrap(), &1, "first of its batch");
    assert!(matches!(outcomes[1], Err(Error::UnitPanicked)), "{:?}", outcomes[1]);
    assert!(matches!(&outcomes[2], Err(Error::Filter(m)) if m == "refused after writing"), "{:?}", outcomes[2]);
    match &outcomes[3] {
        Err(Error::Sql(sqlx::Error::Database(e))) => {
            assert_eq!(e.kind(), sqlx::error::ErrorKind::UniqueViolation);
            assert_eq!(e.message(), "UNIQUE constraint failed: t.v");
            assert_eq!(e.code().as_deref(), Some("2067"));
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }
    assert_eq!(outcomes[4].as_ref().unwrap(), &2, "sees `a`, nothing of the failed units");

    let values = db
        .fetch_all(&Query::select().column(a("v")).from(a("t")).order_by(a("v"), sea_query::Order::Asc).to_owned())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String>("v").unwrap())
        .collect::<Vec<_>>();
    assert_eq!(values, ["a", "e"]);

    // The writer carries on, alone in a batch too.
    assert!(matches!(insert_unit(&db, "z", "panic").await, Err(Error::UnitPanicked)));
    assert_eq!(insert_unit(&db, "f", "").await.unwrap(), 3);
}

#[tokio::test]
async fn writes_after_close_fail_and_a_new_connection_sees_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = connect(&dir, Synchronous::Full).await;
    ddl(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)").await;
    insert_unit(&db, "x", "").await.unwrap();
    db.close().await;
    assert!(matches!(insert_unit(&db, "y", "").await, Err(Error::WriterStopped)));
    let db = connect(&dir, Synchronous::Full).await;
    assert_eq!(insert_unit(&db, "y", "").await.unwrap(), 2);
}
