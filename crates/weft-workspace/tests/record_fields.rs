//! Every field kind round-trips through the façade: what is created reads back exactly as
//! the API shape promises (sanitised rich text, UTC instants, exact decimals, lines with
//! ids, attachments as digests).

use serde_json::{Value, json};
use weft_testkit::fixtures::{
    self, assert_matches, kitchen_sink, kitchen_sink_expected, kitchen_sink_input, kitchen_sink_minimal_expected,
    object, system, vendor,
};
use weft_testkit::{TestBackend, on_both_databases};
use weft_workspace::Workspace;

on_both_databases!(
    every_field_type_round_trips_through_the_facade,
    record_with_only_required_fields_reads_back_nulls,
    create_answer_is_the_record_as_read_back,
    list_returns_the_same_record_as_get,
);

async fn new_vendor(ws: &Workspace) -> String {
    let created = ws
        .create(&system(), "vendor", object(json!({ "code": "ACME", "name": "Acme", "country": "CN" })), None)
        .await
        .expect("vendor created");
    created.to_json()["id"].as_str().unwrap().to_owned()
}

async fn every_field_type_round_trips_through_the_facade(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor(), kitchen_sink()]).await;
    let vendor_id = new_vendor(&ws).await;

    let created =
        ws.create(&system(), "kitchen_sink", object(kitchen_sink_input(&vendor_id)), None).await.expect("created");
    let id = created.to_json()["id"].as_str().unwrap().parse().unwrap();
    let read = ws.get(&system(), "kitchen_sink", id).await.expect("read back").to_json();
    assert_matches("kitchen_sink read back", &kitchen_sink_expected(&vendor_id), &read);
    assert!(!read["body"].as_str().unwrap().contains("script"), "rich text keeps no script: {}", read["body"]);
}

async fn record_with_only_required_fields_reads_back_nulls(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor(), kitchen_sink()]).await;
    let created =
        ws.create(&system(), "kitchen_sink", object(json!({ "title": "Minimal" })), None).await.expect("created");
    let id = created.to_json()["id"].as_str().unwrap().parse().unwrap();
    let read = ws.get(&system(), "kitchen_sink", id).await.expect("read back").to_json();
    assert_matches("minimal kitchen_sink", &kitchen_sink_minimal_expected(), &read);
}

/// The create answer (also what an idempotent retry replays) is the record as stored: the
/// same keys and values a `get` returns, line ids included.
async fn create_answer_is_the_record_as_read_back(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor(), kitchen_sink()]).await;
    let vendor_id = new_vendor(&ws).await;
    let created = ws
        .create(&system(), "kitchen_sink", object(kitchen_sink_input(&vendor_id)), None)
        .await
        .expect("created")
        .to_json();
    let id = created["id"].as_str().unwrap().parse().unwrap();
    let read = ws.get(&system(), "kitchen_sink", id).await.expect("read back").to_json();
    assert_matches("create answer vs get", &read, &created);

    let minimal = ws
        .create(&system(), "kitchen_sink", object(json!({ "title": "Minimal" })), None)
        .await
        .expect("created")
        .to_json();
    let id = minimal["id"].as_str().unwrap().parse().unwrap();
    let read = ws.get(&system(), "kitchen_sink", id).await.expect("read back").to_json();
    assert_matches("minimal create answer vs get", &read, &minimal);
}

async fn list_returns_the_same_record_as_get(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor(), kitchen_sink()]).await;
    let vendor_id = new_vendor(&ws).await;
    let created =
        ws.create(&system(), "kitchen_sink", object(kitchen_sink_input(&vendor_id)), None).await.expect("created");
    let id = created.to_json()["id"].as_str().unwrap().parse().unwrap();
    let read = ws.get(&system(), "kitchen_sink", id).await.unwrap().to_json();
    let page = ws.list(&system(), "kitchen_sink", &Default::default()).await.expect("list");
    let listed: Vec<Value> = page.records.iter().map(|r| r.to_json()).collect();
    assert_eq!(listed.len(), 1);
    assert_matches("listed vs get", &read, &listed[0]);
}
