//! Outbox consumers: offsets and lag are visible to operators, and `consumers::once`
//! keeps a redelivered event from having its effect twice.

use std::sync::Mutex;

use serde_json::{Value, json};
use weft_store::BoxFuture;
use weft_store::kernel::outbox::StoredEvent;
use weft_testkit::{TestBackend, on_both_databases, spawn_app};
use weft_workspace::consumers::{self, Consumer};
use weft_workspace::{Error, Workspace};

struct Tally {
    seen: Mutex<Vec<i64>>,
}

impl Consumer for Tally {
    fn name(&self) -> &str {
        "tally"
    }
    fn handle<'a>(&'a self, workspace: &'a Workspace, event: &'a StoredEvent) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            // The effect: an idempotency claim stands in for any write the consumer makes.
            let done = consumers::once(workspace, "tally", event, |_tx| Box::pin(async { Ok(()) })).await?;
            if done.is_some() {
                self.seen.lock().unwrap().push(event.seq);
            }
            Ok(())
        })
    }
}

on_both_databases!(consumer_offsets_and_lag_are_reported);

async fn consumer_offsets_and_lag_are_reported(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let decl = json!({"name": "note", "label": {"en": "Note", "zh": "便签"},
        "fields": [{"name": "text", "label": {"en": "Text", "zh": "文本"}, "type": "text"}]});
    assert_eq!(app.client.post(app.url("/api/v1/types")).json(&decl).send().await.unwrap().status(), 201);
    for i in 0..3 {
        let r = app
            .client
            .post(app.url("/api/v1/records/note"))
            .json(&json!({"text": format!("n{i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let tally = Tally { seen: Mutex::new(Vec::new()) };
    assert_eq!(app.workspace.consumer_lag("tally").await.unwrap(), 4, "one declaration and three creates");
    assert_eq!(app.workspace.run_consumer_once(&tally).await.unwrap(), 4);
    assert_eq!(*tally.seen.lock().unwrap(), vec![1, 2, 3, 4]);

    let report: Value = app.get("/api/v1/admin/consumers").await.json().await.unwrap();
    assert_eq!(report["head"], 4);
    assert_eq!(report["consumers"][0], json!({"name": "tally", "position": 4, "lag": 0}));

    // Redelivery (a crash before the offset moved) does not repeat the effect.
    let events = weft_store::kernel::outbox::read_after(app.workspace.database(), 0, 10).await.unwrap();
    for event in &events {
        tally.handle(&app.workspace, event).await.unwrap();
    }
    assert_eq!(tally.seen.lock().unwrap().len(), 4);

    // New events are picked up from the offset, not from the start.
    let r = app.client.post(app.url("/api/v1/records/note")).json(&json!({"text": "late"})).send().await.unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(app.workspace.consumer_lag("tally").await.unwrap(), 1);
    assert_eq!(app.workspace.run_consumer_once(&tally).await.unwrap(), 1);
    assert_eq!(*tally.seen.lock().unwrap(), vec![1, 2, 3, 4, 5]);
}
