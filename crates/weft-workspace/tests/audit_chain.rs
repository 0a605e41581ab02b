//! The audit log is a hash chain: every command adds one entry, and editing or removing
//! any entry by hand (here: raw SQL on a connection of its own) is detected and named.

use serde_json::json;
use uuid::Uuid;
use weft_store::kernel::audit::AuditVerdict;
use weft_testkit::fixtures::{self, object, purchase_order, system, vendor};
use weft_testkit::{TestBackend, TestDatabase, on_both_databases};
use weft_workspace::Workspace;

on_both_databases!(
    every_command_appends_one_audit_entry,
    edited_audit_detail_is_detected_at_its_seq,
    edited_newest_audit_entry_is_detected,
    edited_actor_is_detected,
    removed_audit_entry_is_detected,
);

/// Two declarations and five commands: seven entries.
async fn setup(backend: TestBackend) -> (TestDatabase, Workspace) {
    let (db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor(), purchase_order()]).await;
    let mut ids: Vec<Uuid> = Vec::new();
    for subject in ["a", "b", "c"] {
        let created = ws
            .create(&system(), "purchase_order", object(json!({ "subject": subject, "amount": "1" })), None)
            .await
            .unwrap();
        ids.push(created.to_json()["id"].as_str().unwrap().parse().unwrap());
    }
    ws.update(&system(), "purchase_order", ids[0], Some(1), object(json!({ "note": "n" }))).await.unwrap();
    ws.delete(&system(), "purchase_order", ids[1], None).await.unwrap();
    assert_eq!(ws.verify_audit().await.unwrap(), AuditVerdict::Intact { entries: 7 });
    (db, ws)
}

fn broken_at(verdict: AuditVerdict) -> (i64, String) {
    match verdict {
        AuditVerdict::Broken { seq, reason } => (seq, reason),
        intact => panic!("tampering went unnoticed: {intact:?}"),
    }
}

async fn every_command_appends_one_audit_entry(backend: TestBackend) {
    let (_db, ws) = setup(backend).await;
    let created =
        ws.create(&system(), "vendor", object(json!({ "code": "A", "name": "A" })), None).await.unwrap().to_json();
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    ws.delete(&system(), "vendor", id, None).await.unwrap();
    ws.restore(&system(), "vendor", id).await.unwrap();
    ws.purge(&system(), "vendor", id).await.unwrap();
    assert_eq!(ws.verify_audit().await.unwrap(), AuditVerdict::Intact { entries: 11 });
}

async fn edited_audit_detail_is_detected_at_its_seq(backend: TestBackend) {
    let (db, ws) = setup(backend).await;
    let original = "SELECT COUNT(*) FROM audit_log WHERE seq = 4";
    assert_eq!(db.scalar(original).await, Some(1));
    let mut raw = db.raw().await;
    let changed = raw.execute("UPDATE audit_log SET detail = '{\"version\":99}' WHERE seq = 4").await;
    assert_eq!(changed, 1);
    let (seq, reason) = broken_at(ws.verify_audit().await.unwrap());
    assert_eq!(seq, 4, "{reason}");
    assert!(reason.contains("edited") || reason.contains("hash"), "{reason}");
}

async fn edited_newest_audit_entry_is_detected(backend: TestBackend) {
    let (db, ws) = setup(backend).await;
    db.execute("UPDATE audit_log SET target_id = 'someone-else' WHERE seq = 7").await;
    let (seq, reason) = broken_at(ws.verify_audit().await.unwrap());
    assert_eq!(seq, 7, "{reason}");
}

async fn edited_actor_is_detected(backend: TestBackend) {
    let (db, ws) = setup(backend).await;
    db.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 5").await;
    let (seq, _) = broken_at(ws.verify_audit().await.unwrap());
    assert_eq!(seq, 5);
    // Putting the original back makes the chain whole again: detection is by content.
    db.execute("UPDATE audit_log SET actor = 'system' WHERE seq = 5").await;
    assert_eq!(ws.verify_audit().await.unwrap(), AuditVerdict::Intact { entries: 7 });
}

async fn removed_audit_entry_is_detected(backend: TestBackend) {
    let (db, ws) = setup(backend).await;
    assert_eq!(db.execute("DELETE FROM audit_log WHERE seq = 3").await, 1);
    let (seq, reason) = broken_at(ws.verify_audit().await.unwrap());
    assert_eq!(seq, 3, "{reason}");
}
