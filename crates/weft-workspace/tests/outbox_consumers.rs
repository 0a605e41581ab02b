//! Outbox consumers: every committed event is delivered once, in sequence order, to each
//! named consumer; a failing handler keeps the offset so the event comes again; offsets
//! are durable across restarts; the lag says what is left.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;
use weft_store::kernel::outbox::{self, StoredEvent};
use weft_store::{BoxFuture, Tx};
use weft_testkit::fixtures::{self, object, purchase_order, system};
use weft_testkit::{TestBackend, on_both_databases};
use weft_workspace::consumers::Consumer;
use weft_workspace::{BulkMode, Error, Workspace};

on_both_databases!(
    consumer_receives_every_event_once_in_order,
    failing_handler_keeps_the_offset_and_the_event_is_redelivered,
    failure_on_the_first_event_is_an_error_and_moves_nothing,
    consumers_keep_their_own_offsets,
    consumer_catches_up_after_a_restart,
    consumer_running_beside_concurrent_writers_skips_no_event,
);

/// Records the sequence numbers it handled; fails once on `fail_once`.
struct Recorder {
    name: String,
    handled: Mutex<Vec<i64>>,
    attempts: Mutex<Vec<i64>>,
    fail_once: Mutex<Option<i64>>,
}

impl Recorder {
    fn new(name: &str) -> Recorder {
        Recorder {
            name: name.into(),
            handled: Mutex::default(),
            attempts: Mutex::default(),
            fail_once: Mutex::default(),
        }
    }

    fn handled(&self) -> Vec<i64> {
        self.handled.lock().unwrap().clone()
    }
}

impl Consumer for Recorder {
    fn name(&self) -> &str {
        &self.name
    }

    fn handle<'a>(&'a self, _workspace: &'a Workspace, event: &'a StoredEvent) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.attempts.lock().unwrap().push(event.seq);
            let mut fail = self.fail_once.lock().unwrap();
            if *fail == Some(event.seq) {
                *fail = None;
                return Err(Error::Conflict(format!("handler failed on {}", event.seq)));
            }
            self.handled.lock().unwrap().push(event.seq);
            Ok(())
        })
    }
}

/// Every event in the outbox, in order.
async fn all_seqs(ws: &Workspace) -> Vec<i64> {
    let mut out = Vec::new();
    loop {
        let after = out.last().copied().unwrap_or(0);
        let page = outbox::read_after(ws.database(), after, 1000).await.unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page.iter().map(|e| e.seq));
    }
}

/// Runs the consumer until it has nothing left, returning the rounds it took.
async fn drain(ws: &Workspace, consumer: &Recorder) -> usize {
    for round in 0..100 {
        if ws.run_consumer_once(consumer).await.expect("run") == 0 {
            return round;
        }
    }
    panic!("the consumer never caught up");
}

async fn create_orders(ws: &Workspace, n: usize) {
    let rows = (0..n).map(|i| object(json!({ "subject": format!("order {i}"), "amount": "1" }))).collect();
    ws.bulk_create(&system(), "purchase_order", rows, BulkMode::AllOrNothing).await.unwrap();
}

async fn consumer_receives_every_event_once_in_order(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    create_orders(&ws, 300).await;
    let consumer = Recorder::new("recorder");
    assert_eq!(ws.consumer_lag("recorder").await.unwrap(), 301);

    let rounds = drain(&ws, &consumer).await;
    assert!(rounds >= 2, "301 events take more than one batch: {rounds}");
    let expected = all_seqs(&ws).await;
    assert_eq!(expected.len(), 301);
    assert_eq!(consumer.handled(), expected, "every event once, in order");
    assert_eq!(ws.consumer_lag("recorder").await.unwrap(), 0);

    // New events only, after the offset.
    create_orders(&ws, 3).await;
    assert_eq!(ws.consumer_lag("recorder").await.unwrap(), 3);
    assert_eq!(ws.run_consumer_once(&consumer).await.unwrap(), 3);
    assert_eq!(consumer.handled(), all_seqs(&ws).await);
    assert_eq!(ws.run_consumer_once(&consumer).await.unwrap(), 0);
    let kinds: Vec<String> =
        outbox::read_after(ws.database(), 0, 2).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["type.declared", "record.created"]);
}

async fn failing_handler_keeps_the_offset_and_the_event_is_redelivered(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    create_orders(&ws, 4).await;
    let seqs = all_seqs(&ws).await;
    assert_eq!(seqs.len(), 5);
    let consumer = Recorder::new("flaky");
    *consumer.fail_once.lock().unwrap() = Some(seqs[2]);

    // Handles the two before the failure, keeps its offset just before it.
    assert_eq!(ws.run_consumer_once(&consumer).await.unwrap(), 2);
    assert_eq!(consumer.handled(), seqs[..2]);
    assert_eq!(ws.consumer_lag("flaky").await.unwrap(), seqs[4] - seqs[1]);

    // The failed event comes again, then the rest.
    assert_eq!(ws.run_consumer_once(&consumer).await.unwrap(), 3);
    assert_eq!(consumer.handled(), seqs, "each event handled once");
    let attempts = consumer.attempts.lock().unwrap().clone();
    assert_eq!(attempts, vec![seqs[0], seqs[1], seqs[2], seqs[2], seqs[3], seqs[4]]);
    assert_eq!(ws.consumer_lag("flaky").await.unwrap(), 0);
}

async fn failure_on_the_first_event_is_an_error_and_moves_nothing(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    create_orders(&ws, 2).await;
    let seqs = all_seqs(&ws).await;
    let consumer = Recorder::new("flaky");
    *consumer.fail_once.lock().unwrap() = Some(seqs[0]);
    let lag = ws.consumer_lag("flaky").await.unwrap();
    ws.run_consumer_once(&consumer).await.expect_err("the handler's failure is reported");
    assert_eq!(ws.consumer_lag("flaky").await.unwrap(), lag);
    assert!(consumer.handled().is_empty());
    assert_eq!(ws.run_consumer_once(&consumer).await.unwrap(), 3);
    assert_eq!(consumer.handled(), seqs);
}

async fn consumers_keep_their_own_offsets(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    create_orders(&ws, 10).await;
    let a = Recorder::new("a");
    let b = Recorder::new("b");
    drain(&ws, &a).await;
    assert_eq!(ws.consumer_lag("a").await.unwrap(), 0);
    assert_eq!(ws.consumer_lag("b").await.unwrap(), 11);
    drain(&ws, &b).await;
    assert_eq!(a.handled(), b.handled());
}

async fn consumer_catches_up_after_a_restart(backend: TestBackend) {
    let (db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    create_orders(&ws, 5).await;
    let before = Recorder::new("durable");
    drain(&ws, &before).await;
    ws.close().await;

    // A new process: the offset was stored, not kept in memory.
    let ws = Workspace::connect(&db.store_options()).await.unwrap();
    create_orders(&ws, 2).await;
    let after = Recorder::new("durable");
    assert_eq!(ws.consumer_lag("durable").await.unwrap(), 2);
    drain(&ws, &after).await;
    let seqs = all_seqs(&ws).await;
    assert_eq!(after.handled(), seqs[6..]);
    assert_eq!(before.handled(), seqs[..6]);
}

/// Sequence numbers are handed out in commit order: a consumer polling while 8 writers
/// commit never moves its offset past an event that commits later.
async fn consumer_running_beside_concurrent_writers_skips_no_event(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    let done = Arc::new(AtomicBool::new(false));
    let consumer = Arc::new(Recorder::new("live"));
    let reader = {
        let (ws, done, consumer) = (ws.clone(), done.clone(), consumer.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::SeqCst) {
                ws.run_consumer_once(consumer.as_ref()).await.expect("run");
                tokio::task::yield_now().await;
            }
        })
    };
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let ws = ws.clone();
            tokio::spawn(async move {
                for i in 0..40 {
                    let body = object(json!({ "subject": format!("w{w} {i}"), "amount": "1" }));
                    ws.create(&system(), "purchase_order", body, None).await.expect("create");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    reader.await.unwrap();
    drain(&ws, &consumer).await;
    let handled = consumer.handled();
    assert_eq!(handled.len(), 321, "one declaration and 320 creates");
    assert_eq!(handled, all_seqs(&ws).await, "no event skipped, none twice");
}

/// SQLite numbers outbox events and history entries with one more than the largest key (no
/// AUTOINCREMENT), which is strictly increasing only while no row is ever removed: the
/// store refuses removing one or changing its number, and new rows continue the sequence.
#[tokio::test]
async fn sqlite_outbox_and_history_keep_every_row_and_number() {
    let (_db, ws) = fixtures::workspace(TestBackend::Sqlite).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    create_orders(&ws, 5).await;
    let before = all_seqs(&ws).await;
    for (sql, refusal) in [
        ("DELETE FROM outbox WHERE seq = (SELECT max(seq) FROM outbox)", "outbox events are never deleted"),
        ("UPDATE outbox SET seq = seq + 1000 WHERE seq = (SELECT max(seq) FROM outbox)", "keep their sequence numbers"),
        ("DELETE FROM history WHERE id = (SELECT max(id) FROM history)", "history entries are never deleted"),
        (
            "UPDATE history SET id = id + 1000 WHERE id = (SELECT max(id) FROM history)",
            "history entries keep their numbers",
        ),
    ] {
        let outcome = ws.database().write(move |tx: &mut Tx| Box::pin(async move { tx.execute_ddl(sql).await })).await;
        let error = outcome.expect_err(sql).to_string();
        assert!(error.contains(refusal), "{sql}: {error}");
    }
    assert_eq!(all_seqs(&ws).await, before, "nothing removed or renumbered");
    create_orders(&ws, 3).await;
    let after = all_seqs(&ws).await;
    assert_eq!(after.len(), before.len() + 3);
    assert!(after.windows(2).all(|w| w[1] == w[0] + 1), "one sequence without gaps: {after:?}");
}
