//! Lifecycles (transitions with guards, inputs and field changes; fields editable per
//! state) and the end of a record (soft delete, restore, restrict, purge).

use serde_json::{Map, Value, json};
use uuid::Uuid;
use weft_store::kernel::outbox;
use weft_testkit::fixtures::{self, footprint, kitchen_sink, member, object, purchase_order, system, vendor};
use weft_testkit::{TestBackend, TestDatabase, on_both_databases};
use weft_workspace::{Error, ListQuery, Workspace};

on_both_databases!(
    transition_from_wrong_state_is_a_conflict_and_writes_nothing,
    transition_without_required_input_is_422_and_writes_nothing,
    transition_whose_guard_is_false_is_422_guard_failed,
    transition_writes_history_with_inputs_and_a_transitioned_event,
    the_timeline_shows_the_values_a_record_was_created_with,
    unknown_transition_is_not_found,
    field_not_editable_in_the_current_state_is_refused,
    soft_delete_hides_the_record_and_restore_brings_it_back,
    delete_of_a_record_a_live_record_refers_to_is_a_conflict,
    purge_removes_the_record_and_its_lines_for_good,
);

async fn setup(backend: TestBackend) -> (TestDatabase, Workspace) {
    let (db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor(), kitchen_sink(), purchase_order()]).await;
    (db, ws)
}

async fn create(ws: &Workspace, type_name: &str, body: Value) -> Uuid {
    let created = ws.create(&system(), type_name, object(body), None).await.expect("created");
    created.to_json()["id"].as_str().unwrap().parse().unwrap()
}

fn no_inputs() -> Map<String, Value> {
    Map::new()
}

fn field_codes(err: Error) -> Vec<(String, String)> {
    assert_eq!(err.code().http_status(), 422, "{err:?}");
    match err {
        Error::Validation(errors) => errors
            .into_iter()
            .map(|e| (e.pointer, serde_json::to_value(e.code).unwrap().as_str().unwrap().to_owned()))
            .collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

async fn transition_from_wrong_state_is_a_conflict_and_writes_nothing(backend: TestBackend) {
    let (db, ws) = setup(backend).await;
    let id = create(&ws, "purchase_order", json!({ "subject": "Paper", "amount": "10" })).await;
    let before = footprint(&db, &ws).await;
    for (name, inputs) in [("approve", json!({})), ("reject", json!({ "reason": "because" }))] {
        let inputs = object(inputs);
        let err = ws.transition(&system(), "purchase_order", id, name, None, inputs).await.unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{name}: {err:?}");
        assert_eq!(err.code().http_status(), 409);
    }
    assert_eq!(footprint(&db, &ws).await, before);
    assert_eq!(ws.get(&system(), "purchase_order", id).await.unwrap().system.state.as_deref(), Some("draft"));

    // A final state has no way out.
    ws.transition(&system(), "purchase_order", id, "submit", None, no_inputs()).await.unwrap();
    ws.transition(&system(), "purchase_order", id, "approve", None, no_inputs()).await.unwrap();
    let err = ws.transition(&system(), "purchase_order", id, "approve", None, no_inputs()).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
}

async fn transition_without_required_input_is_422_and_writes_nothing(backend: TestBackend) {
    let (db, ws) = setup(backend).await;
    let id = create(&ws, "purchase_order", json!({ "subject": "Paper", "amount": "10" })).await;
    ws.transition(&system(), "purchase_order", id, "submit", None, no_inputs()).await.unwrap();
    let before = footprint(&db, &ws).await;
    let err = ws.transition(&system(), "purchase_order", id, "reject", None, no_inputs()).await.unwrap_err();
    assert_eq!(field_codes(err), vec![("/reason".to_owned(), "required".to_owned())]);
    let blank = object(json!({ "reason": "   " }));
    let err = ws.transition(&system(), "purchase_order", id, "reject", None, blank).await.unwrap_err();
    assert_eq!(field_codes(err), vec![("/reason".to_owned(), "required".to_owned())]);
    let unknown = object(json!({ "reason": "late", "mood": "bad" }));
    let err = ws.transition(&system(), "purchase_order", id, "reject", None, unknown).await.unwrap_err();
    assert_eq!(field_codes(err), vec![("/mood".to_owned(), "unknown_field".to_owned())]);
    assert_eq!(footprint(&db, &ws).await, before);
    assert_eq!(ws.get(&system(), "purchase_order", id).await.unwrap().system.state.as_deref(), Some("submitted"));
}

async fn transition_whose_guard_is_false_is_422_guard_failed(backend: TestBackend) {
    let (db, ws) = setup(backend).await;
    let id = create(&ws, "purchase_order", json!({ "subject": "Nothing to pay", "amount": "0" })).await;
    let before = footprint(&db, &ws).await;
    let err = ws.transition(&system(), "purchase_order", id, "submit", None, no_inputs()).await.unwrap_err();
    let found = field_codes(err);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, "guard_failed");
    assert_eq!(footprint(&db, &ws).await, before);
    // Once the guard holds, the transition goes through.
    ws.update(&system(), "purchase_order", id, None, object(json!({ "amount": "0.01" }))).await.unwrap();
    let view = ws.transition(&system(), "purchase_order", id, "submit", None, no_inputs()).await.unwrap();
    assert_eq!(view.system.state.as_deref(), Some("submitted"));
}

async fn transition_writes_history_with_inputs_and_a_transitioned_event(backend: TestBackend) {
    let (_db, ws) = setup(backend).await;
    let id = create(&ws, "purchase_order", json!({ "subject": "Paper", "amount": "10", "priority": "high" })).await;
    ws.transition(&system(), "purchase_order", id, "submit", Some(1), no_inputs()).await.unwrap();
    let head = outbox::head(ws.database()).await.unwrap();

    let reason = "Price too high";
    let view = ws
        .transition(&system(), "purchase_order", id, "reject", Some(2), object(json!({ "reason": reason })))
        .await
        .unwrap();
    assert_eq!(view.system.state.as_deref(), Some("rejected"));
    assert_eq!(view.system.version, 3);
    let record = view.to_json();
    assert_eq!(record["rejection_reason"], reason, "set from the input: {record}");
    assert_eq!(record["priority"], "low", "set by the transition: {record}");

    let timeline = ws.timeline(&system(), "purchase_order", id).await.unwrap();
    let commands: Vec<&str> = timeline.iter().map(|e| e.command.as_str()).collect();
    assert_eq!(commands, ["create", "transition:submit", "transition:reject"]);
    let last = timeline.last().unwrap();
    assert_eq!(last.version, Some(3));
    assert_eq!(last.actor, "system");
    assert_eq!(last.changes["inputs"], json!({ "reason": reason }), "{}", last.changes);
    let changes = last.changes["changes"].as_array().expect("field changes");
    assert!(changes.contains(&json!({ "field": "state", "from": "submitted", "to": "rejected" })), "{changes:?}");
    assert!(changes.contains(&json!({ "field": "rejection_reason", "from": null, "to": reason })), "{changes:?}");
    assert!(changes.contains(&json!({ "field": "priority", "from": "high", "to": "low" })), "{changes:?}");

    let events = outbox::read_after(ws.database(), head, 100).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.kind, "record.transitioned");
    assert_eq!(event.type_name, "purchase_order");
    assert_eq!(event.record_id, Some(id));
    assert_eq!(event.payload["transition"], "reject");
    assert_eq!(event.payload["from"], "submitted");
    assert_eq!(event.payload["to"], "rejected");
    assert_eq!(event.payload["version"], 3);
    assert_eq!(event.payload["inputs"], json!({ "reason": reason }));
}

/// A create's history entry is written without the new record's values (they are its
/// row's); the timeline shows them as they were at creation, whatever changed since.
async fn the_timeline_shows_the_values_a_record_was_created_with(backend: TestBackend) {
    let (_db, ws) = setup(backend).await;
    let id = create(&ws, "purchase_order", json!({ "subject": "Paper", "amount": "10", "note": "A4" })).await;
    ws.update(&system(), "purchase_order", id, Some(1), object(json!({ "amount": "12.50", "note": null })))
        .await
        .unwrap();
    ws.transition(&system(), "purchase_order", id, "submit", Some(2), no_inputs()).await.unwrap();
    ws.transition(&system(), "purchase_order", id, "reject", Some(3), object(json!({ "reason": "Too dear" })))
        .await
        .unwrap();
    ws.update(&system(), "purchase_order", id, Some(4), object(json!({ "note": "A3 instead" }))).await.unwrap();

    let stored = weft_store::kernel::history::for_record(ws.database(), "purchase_order", id).await.unwrap();
    assert_eq!(stored[0].changes, json!([]), "the create's entry repeats nothing of the row");

    let timeline = ws.timeline(&system(), "purchase_order", id).await.unwrap();
    let commands: Vec<&str> = timeline.iter().map(|e| e.command.as_str()).collect();
    assert_eq!(commands, ["create", "update", "transition:submit", "transition:reject", "update"]);
    assert_eq!(
        timeline[0].changes,
        json!([
            { "field": "amount", "from": null, "to": "10.00" },
            { "field": "note", "from": null, "to": "A4" },
            { "field": "priority", "from": null, "to": "normal" },
            { "field": "subject", "from": null, "to": "Paper" },
        ]),
        "the values at creation, the default included, and nothing set later"
    );
    // The later entries are their own diffs, as written.
    assert!(
        timeline[1].changes.as_array().unwrap().contains(&json!({ "field": "note", "from": "A4", "to": null })),
        "{}",
        timeline[1].changes
    );
}

async fn unknown_transition_is_not_found(backend: TestBackend) {
    let (db, ws) = setup(backend).await;
    let id = create(&ws, "purchase_order", json!({ "subject": "Paper", "amount": "10" })).await;
    let before = footprint(&db, &ws).await;
    let err = ws.transition(&system(), "purchase_order", id, "teleport", None, no_inputs()).await.unwrap_err();
    assert_eq!(err.code().http_status(), 404, "{err:?}");
    let err = ws.transition(&system(), "purchase_order", Uuid::now_v7(), "submit", None, no_inputs()).await;
    assert_eq!(err.unwrap_err().code().http_status(), 404);
    assert_eq!(footprint(&db, &ws).await, before);
}

async fn field_not_editable_in_the_current_state_is_refused(backend: TestBackend) {
    let (db, ws) = setup(backend).await;
    let id = create(&ws, "purchase_order", json!({ "subject": "Paper", "amount": "10" })).await;
    // Draft: everything is editable.
    ws.update(&system(), "purchase_order", id, None, object(json!({ "subject": "Paper A4", "note": "x" })))
        .await
        .unwrap();
    ws.transition(&system(), "purchase_order", id, "submit", None, no_inputs()).await.unwrap();

    let before = footprint(&db, &ws).await;
    let err = ws
        .update(
            &system(),
            "purchase_order",
            id,
            None,
            object(json!({ "subject": "Paper A3", "amount": "11", "note": "y" })),
        )
        .await
        .unwrap_err();
    assert_eq!(
        field_codes(err),
        vec![("/amount".to_owned(), "not_editable".to_owned()), ("/subject".to_owned(), "not_editable".to_owned())]
    );
    assert_eq!(footprint(&db, &ws).await, before);

    // Submitted: `note` stays editable.
    let view = ws.update(&system(), "purchase_order", id, None, object(json!({ "note": "y" }))).await.unwrap();
    assert_eq!(view.to_json()["note"], "y");

    // Approved: nothing is.
    ws.transition(&system(), "purchase_order", id, "approve", None, no_inputs()).await.unwrap();
    let err = ws.update(&system(), "purchase_order", id, None, object(json!({ "note": "z" }))).await.unwrap_err();
    assert_eq!(field_codes(err), vec![("/note".to_owned(), "not_editable".to_owned())]);
}

async fn soft_delete_hides_the_record_and_restore_brings_it_back(backend: TestBackend) {
    let (_db, ws) = setup(backend).await;
    let keep = create(&ws, "purchase_order", json!({ "subject": "Keep" })).await;
    let id = create(&ws, "purchase_order", json!({ "subject": "Delete me" })).await;
    let head = outbox::head(ws.database()).await.unwrap();

    ws.delete(&system(), "purchase_order", id, Some(1)).await.expect("deleted");
    let err = ws.get(&system(), "purchase_order", id).await.unwrap_err();
    assert_eq!(err.code().http_status(), 404, "{err:?}");
    let page = ws.list(&system(), "purchase_order", &ListQuery { with_count: true, ..Default::default() }).await;
    let page = page.unwrap();
    let ids: Vec<Uuid> = page.records.iter().map(|r| r.system.id).collect();
    assert_eq!(ids, vec![keep]);
    assert_eq!(page.count, Some(1));
    let err = ws.timeline(&system(), "purchase_order", id).await.unwrap_err();
    assert_eq!(err.code().http_status(), 404, "no timeline of a deleted record: {err:?}");
    let err = ws.update(&system(), "purchase_order", id, None, object(json!({ "note": "x" }))).await.unwrap_err();
    assert_eq!(err.code().http_status(), 404);
    let err = ws.delete(&system(), "purchase_order", id, None).await.unwrap_err();
    assert_eq!(err.code().http_status(), 404, "deleting twice: {err:?}");

    // Still there for whoever asks for deleted records.
    let query = ListQuery { include_deleted: true, ..Default::default() };
    let all = ws.list(&system(), "purchase_order", &query).await.unwrap();
    let deleted = all.records.iter().find(|r| r.system.id == id).expect("listed with include_deleted");
    assert!(deleted.system.deleted_at.is_some());

    let restored = ws.restore(&system(), "purchase_order", id).await.expect("restored");
    assert!(restored.system.deleted_at.is_none());
    assert_eq!(restored.system.version, 3);
    let read = ws.get(&system(), "purchase_order", id).await.unwrap();
    assert_eq!(read.to_json()["subject"], "Delete me");
    let commands: Vec<String> =
        ws.timeline(&system(), "purchase_order", id).await.unwrap().into_iter().map(|e| e.command).collect();
    assert_eq!(commands, ["create", "delete", "restore"]);
    let kinds: Vec<String> =
        outbox::read_after(ws.database(), head, 100).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["record.deleted", "record.restored"]);
}

async fn delete_of_a_record_a_live_record_refers_to_is_a_conflict(backend: TestBackend) {
    let (db, ws) = setup(backend).await;
    let vendor_id = create(&ws, "vendor", json!({ "code": "ACME", "name": "Acme" })).await;
    let sink = create(&ws, "kitchen_sink", json!({ "title": "uses acme", "vendor": vendor_id.to_string() })).await;

    let before = footprint(&db, &ws).await;
    let err = ws.delete(&system(), "vendor", vendor_id, None).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(err.code().http_status(), 409);
    assert_eq!(footprint(&db, &ws).await, before);
    ws.get(&system(), "vendor", vendor_id).await.expect("still there");

    // Once the referring record is deleted, the vendor can go too.
    ws.delete(&system(), "kitchen_sink", sink, None).await.unwrap();
    ws.delete(&system(), "vendor", vendor_id, None).await.expect("no live record refers to it");
}

async fn purge_removes_the_record_and_its_lines_for_good(backend: TestBackend) {
    let (db, ws) = setup(backend).await;
    let vendor_id = create(&ws, "vendor", json!({ "code": "ACME", "name": "Acme" })).await;
    let sink = create(
        &ws,
        "kitchen_sink",
        json!({ "title": "t", "vendor": vendor_id.to_string(), "items": [{ "sku": "a" }, { "sku": "b" }] }),
    )
    .await;
    let lines = "SELECT COUNT(*) FROM r_kitchen_sink__items";
    assert_eq!(db.scalar(lines).await, Some(2));

    // Not for members.
    let err = ws.purge(&member(), "kitchen_sink", sink).await.unwrap_err();
    assert_eq!(err.code().http_status(), 403, "{err:?}");

    // A soft-deleted record still holds its references: the vendor cannot be purged under it.
    ws.delete(&system(), "kitchen_sink", sink, None).await.unwrap();
    ws.delete(&system(), "vendor", vendor_id, None).await.unwrap();
    let before = footprint(&db, &ws).await;
    let err = ws.purge(&system(), "vendor", vendor_id).await.unwrap_err();
    assert_eq!(err.code().http_status(), 409, "{err:?}");
    assert_eq!(footprint(&db, &ws).await, before);

    ws.purge(&system(), "kitchen_sink", sink).await.expect("purged");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM r_kitchen_sink").await, Some(0));
    assert_eq!(db.scalar(lines).await, Some(0), "lines go with the record");
    let query = ListQuery { include_deleted: true, ..Default::default() };
    assert!(ws.list(&system(), "kitchen_sink", &query).await.unwrap().records.is_empty());
    assert_eq!(ws.get(&system(), "kitchen_sink", sink).await.unwrap_err().code().http_status(), 404);
    assert_eq!(ws.restore(&system(), "kitchen_sink", sink).await.unwrap_err().code().http_status(), 404);
    assert_eq!(ws.purge(&system(), "kitchen_sink", sink).await.unwrap_err().code().http_status(), 404);

    ws.purge(&system(), "vendor", vendor_id).await.expect("nothing refers to it any more");
    let head = outbox::head(ws.database()).await.unwrap();
    let last = outbox::read_after(ws.database(), head - 1, 1).await.unwrap();
    assert_eq!(last[0].kind, "record.purged");
}
