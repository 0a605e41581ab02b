//! `/api/v1/types` and `/api/v1/records/{type}` over HTTP: the records kernel's contract as
//! a client sees it (status codes, problem documents with every bad field, ETags and
//! If-Match, Idempotency-Key, cursors), and proof that refused requests write nothing.

use std::collections::BTreeSet;

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use weft_testkit::fixtures::{
    assert_matches, footprint, kitchen_sink, kitchen_sink_expected, kitchen_sink_input, kitchen_sink_minimal_expected,
    label, outbox_after, outbox_head, purchase_order, vendor,
};
use weft_testkit::{TestApp, TestBackend, on_both_databases, spawn_app};

const PROBLEM: &str = "application/problem+json";

on_both_databases!(
    every_field_type_round_trips_over_http,
    invalid_create_is_422_listing_every_field_and_writes_nothing,
    reference_to_missing_or_foreign_record_is_422_with_its_pointer,
    invalid_update_and_bulk_are_422_and_write_nothing,
    stale_if_match_is_412_with_the_current_version,
    malformed_if_match_is_400,
    duplicate_unique_is_409_naming_the_field,
    duplicate_composite_unique_is_409_naming_both_fields,
    idempotency_key_replays_the_first_response,
    idempotency_key_with_another_body_is_409,
    concurrent_http_creates_get_gap_free_numbers,
    transitions_answer_409_422_and_record_their_inputs,
    field_not_editable_in_state_is_422_not_editable,
    delete_restore_and_purge_over_http,
    list_pages_with_filter_sort_and_cursor,
    bad_filter_sort_and_cursor_are_400,
    destructive_type_change_is_409_without_the_flag,
    bad_declaration_is_422_listing_every_problem,
    declaration_with_unknown_field_type_is_422_with_the_other_problems,
);

fn content_type(r: &Response) -> String {
    r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

fn header(r: &Response, name: &str) -> Option<String> {
    r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Asserts a problem document with `status` and `code`, and returns it.
async fn problem(r: Response, status: StatusCode, code: &str) -> Value {
    let actual = r.status();
    let kind = content_type(&r);
    let body: Value = r.json().await.expect("problem body");
    assert_eq!(actual, status, "{body:#}");
    assert_eq!(kind, PROBLEM, "{body:#}");
    assert_eq!(body["status"], status.as_u16(), "{body:#}");
    assert_eq!(body["code"], code, "{body:#}");
    body
}

/// `(pointer, code)` of every entry of a problem's `errors`.
fn error_codes(problem: &Value) -> BTreeSet<(String, String)> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (e["pointer"].as_str().unwrap_or_default().to_owned(), e["code"].as_str().unwrap_or("").to_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter().map(|(p, c)| ((*p).to_owned(), (*c).to_owned())).collect()
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Response {
    let mut request = app.client.request(method, app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request")
}

async fn post(app: &TestApp, path: &str, body: Value) -> Response {
    send(app, reqwest::Method::POST, path, Some(body), &[]).await
}

async fn json_of(r: Response, status: StatusCode) -> Value {
    let actual = r.status();
    let body: Value = r.json().await.expect("JSON body");
    assert_eq!(actual, status, "{body:#}");
    body
}

async fn declare(app: &TestApp, types: &[Value]) {
    for decl in types {
        let r = post(app, "/api/v1/types", decl.clone()).await;
        let plan = json_of(r, StatusCode::CREATED).await;
        assert_eq!(plan["applied"], true, "{plan}");
    }
}

async fn create(app: &TestApp, type_name: &str, body: Value) -> Value {
    json_of(post(app, &format!("/api/v1/records/{type_name}"), body).await, StatusCode::CREATED).await
}

async fn app_with_types(backend: TestBackend) -> TestApp {
    let app = spawn_app(backend).await;
    declare(&app, &[vendor(), kitchen_sink(), purchase_order()]).await;
    app
}

async fn new_vendor(app: &TestApp, code: &str) -> String {
    create(app, "vendor", json!({ "code": code, "name": code })).await["id"].as_str().unwrap().to_owned()
}

async fn every_field_type_round_trips_over_http(backend: TestBackend) {
    let app = app_with_types(backend).await;
    let vendor_id = new_vendor(&app, "ACME").await;

    let r = post(&app, "/api/v1/records/kitchen_sink", kitchen_sink_input(&vendor_id)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(header(&r, "etag").as_deref(), Some("\"1\""));
    let location = header(&r, "location").expect("Location");
    let created: Value = r.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/records/kitchen_sink/{}", created["id"].as_str().unwrap()));

    let r = app.get(&location).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "etag").as_deref(), Some("\"1\""));
    let read: Value = r.json().await.unwrap();
    assert_matches("kitchen_sink over HTTP", &made_by_admin(&app, kitchen_sink_expected(&vendor_id)), &read);

    let minimal = create(&app, "kitchen_sink", json!({ "title": "Minimal" })).await;
    let read = json_of(
        app.get(&format!("/api/v1/records/kitchen_sink/{}", minimal["id"].as_str().unwrap())).await,
        StatusCode::OK,
    )
    .await;
    assert_matches("minimal kitchen_sink over HTTP", &made_by_admin(&app, kitchen_sink_minimal_expected()), &read);
}

/// Over HTTP the test kit's administrator creates records (the fixtures expect the system).
fn made_by_admin(app: &TestApp, mut expected: Value) -> Value {
    for key in ["owner", "created_by", "updated_by"] {
        expected[key] = json!(app.admin_id);
    }
    expected
}

async fn invalid_create_is_422_listing_every_field_and_writes_nothing(backend: TestBackend) {
    let app = app_with_types(backend).await;
    let before = footprint(&app.db, &app.workspace).await;
    let body = json!({
        "title": "x".repeat(21),
        "qty": "lots",
        "weight": "0.0001",
        "discount": 10,
        "price_cny": { "amount": "1", "currency": "usd" },
        "active": 1,
        "contact_email": "a@b",
        "color": "purple",
        "tags": ["z"],
        "items": [{ "sku": "ok", "quantity": 1.5 }],
        "extra_field": true,
    });
    let r = post(&app, "/api/v1/records/kitchen_sink", body).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        error_codes(&p),
        pairs(&[
            ("/title", "too_long"),
            ("/qty", "invalid_format"),
            ("/weight", "too_many_decimals"),
            ("/price_cny/currency", "invalid_currency"),
            ("/active", "wrong_type"),
            ("/contact_email", "invalid_format"),
            ("/color", "unknown_option"),
            ("/tags/0", "unknown_option"),
            ("/items/0/quantity", "wrong_type"),
            ("/extra_field", "unknown_field"),
        ]),
        "{p:#}"
    );
    // Missing required field alone.
    let p = problem(
        post(&app, "/api/v1/records/kitchen_sink", json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_codes(&p), pairs(&[("/title", "required")]));
    assert_eq!(footprint(&app.db, &app.workspace).await, before, "a refused create wrote something");
    let list = json_of(app.get("/api/v1/records/kitchen_sink?count=true").await, StatusCode::OK).await;
    assert_eq!(list["count"], 0);
}

async fn reference_to_missing_or_foreign_record_is_422_with_its_pointer(backend: TestBackend) {
    let app = app_with_types(backend).await;
    let po = create(&app, "purchase_order", json!({ "subject": "Paper" })).await;
    let before = footprint(&app.db, &app.workspace).await;
    for target in ["0190f0a0-0000-7000-8000-00000000dead", po["id"].as_str().unwrap()] {
        let r = post(&app, "/api/v1/records/kitchen_sink", json!({ "title": "t", "vendor": target })).await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(error_codes(&p), pairs(&[("/vendor", "unknown_reference")]), "{target}");
    }
    assert_eq!(footprint(&app.db, &app.workspace).await, before);
}

async fn invalid_update_and_bulk_are_422_and_write_nothing(backend: TestBackend) {
    let app = app_with_types(backend).await;
    let po = create(&app, "purchase_order", json!({ "subject": "Paper" })).await;
    let path = format!("/api/v1/records/purchase_order/{}", po["id"].as_str().unwrap());
    let before = footprint(&app.db, &app.workspace).await;

    let r =
        send(&app, reqwest::Method::PATCH, &path, Some(json!({ "subject": "", "amount": "x", "number": "PO-1" })), &[])
            .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        error_codes(&p),
        pairs(&[("/subject", "required"), ("/amount", "invalid_format"), ("/number", "read_only")])
    );

    let bulk = json!({ "mode": "all_or_nothing", "rows": [
        { "subject": "fine" }, { "subject": "also fine", "priority": "urgent" }, { "amount": "1" }
    ]});
    let p = problem(
        post(&app, "/api/v1/records/purchase_order/bulk", bulk).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_codes(&p), pairs(&[("/1/priority", "unknown_option"), ("/2/subject", "required")]));
    assert_eq!(footprint(&app.db, &app.workspace).await, before);

    // Per row: the report says which rows made it.
    let bulk = json!({ "mode": "per_row", "rows": [{ "subject": "fine" }, { "amount": "1" }] });
    let report = json_of(post(&app, "/api/v1/records/purchase_order/bulk", bulk).await, StatusCode::OK).await;
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["failed"], 1, "{report}");
    assert_eq!(report["rows"][0]["status"], 201);
    assert_eq!(report["rows"][1]["status"], 422);
    assert_eq!(report["rows"][1]["problem"]["errors"][0]["pointer"], "/subject");
}

async fn stale_if_match_is_412_with_the_current_version(backend: TestBackend) {
    let app = app_with_types(backend).await;
    let po = create(&app, "purchase_order", json!({ "subject": "Paper", "amount": "5" })).await;
    let path = format!("/api/v1/records/purchase_order/{}", po["id"].as_str().unwrap());
    let patch = |body: Value, if_match: Option<&'static str>| {
        let headers: Vec<(&str, &str)> = if_match.map(|v| vec![("if-match", v)]).unwrap_or_default();
        let (app, path) = (&app, path.clone());
        async move { send(app, reqwest::Method::PATCH, &path, Some(body), &headers).await }
    };

    let r = patch(json!({ "note": "a" }), Some("\"1\"")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "etag").as_deref(), Some("\"2\""));

    let before = footprint(&app.db, &app.workspace).await;
    let p = problem(
        patch(json!({ "note": "b" }), Some("\"1\"")).await,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    assert_eq!(p["current_version"], 2, "{p}");
    let r = send(&app, reqwest::Method::DELETE, &path, None, &[("if-match", "\"1\"")]).await;
    assert_eq!(problem(r, StatusCode::PRECONDITION_FAILED, "precondition_failed").await["current_version"], 2);
    let r =
        send(&app, reqwest::Method::POST, &format!("{path}/transitions/submit"), None, &[("if-match", "\"1\"")]).await;
    assert_eq!(problem(r, StatusCode::PRECONDITION_FAILED, "precondition_failed").await["current_version"], 2);
    assert_eq!(footprint(&app.db, &app.workspace).await, before, "a stale write wrote something");

    // Without If-Match, with the current version (weak or strong), or `*`: accepted.
    let r = patch(json!({ "note": "c" }), None).await;
    assert_eq!(header(&r, "etag").as_deref(), Some("\"3\""));
    let r = patch(json!({ "note": "d" }), Some("W/\"3\"")).await;
    assert_eq!(header(&r, "etag").as_deref(), Some("\"4\""));
    let r = patch(json!({ "note": "e" }), Some("*")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let read = json_of(app.get(&path).await, StatusCode::OK).await;
    assert_eq!((read["version"].clone(), read["note"].clone()), (json!(5), json!("e")));
}

async fn malformed_if_match_is_400(backend: TestBackend) {
    let app = app_with_types(backend).await;
    let po = create(&app, "purchase_order", json!({ "subject": "Paper" })).await;
    let path = format!("/api/v1/records/purchase_order/{}", po["id"].as_str().unwrap());
    let before = footprint(&app.db, &app.workspace).await;
    for bad in ["abc", "\"\"", "\"1.5\"", "\"one\""] {
        let r = send(&app, reqwest::Method::PATCH, &path, Some(json!({ "note": "x" })), &[("if-match", bad)]).await;
        let p = problem(r, StatusCode::BAD_REQUEST, "bad_request").await;
        assert!(p["detail"].as_str().unwrap().contains("If-Match"), "{bad}: {p}");
    }
    let r = send(&app, reqwest::Method::DELETE, &path, None, &[("if-match", "nope")]).await;
    problem(r, StatusCode::BAD_REQUEST, "bad_request").await;
    assert_eq!(footprint(&app.db, &app.workspace).await, before);
}

async fn duplicate_unique_is_409_naming_the_field(backend: TestBackend) {
    let app = app_with_types(backend).await;
    create(&app, "vendor", json!({ "code": "ACME", "name": "Acme" })).await;
    let before = footprint(&app.db, &app.workspace).await;
    let r = post(&app, "/api/v1/records/vendor", json!({ "code": "ACME", "name": "Other" })).await;
    let p = problem(r, StatusCode::CONFLICT, "conflict").await;
    assert_eq!(p["errors"][0]["pointer"], "/code", "{p}");
    assert_eq!(p["errors"].as_array().unwrap().len(), 1, "{p}");
    assert_eq!(footprint(&app.db, &app.workspace).await, before);
    let next = create(&app, "vendor", json!({ "code": "BETA", "name": "Beta" })).await;
    assert_eq!(next["number"], "V-0002", "the refused create took no number");
}

async fn duplicate_composite_unique_is_409_naming_both_fields(backend: TestBackend) {
    let app = app_with_types(backend).await;
    create(&app, "vendor", json!({ "code": "A", "name": "Acme", "country": "CN" })).await;
    let before = footprint(&app.db, &app.workspace).await;
    let r = post(&app, "/api/v1/records/vendor", json!({ "code": "B", "name": "Acme", "country": "CN" })).await;
    let p = problem(r, StatusCode::CONFLICT, "conflict").await;
    let pointers: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/name", "/country"], "{p}");
    assert_eq!(footprint(&app.db, &app.workspace).await, before);
}

async fn idempotency_key_replays_the_first_response(backend: TestBackend) {
    let app = app_with_types(backend).await;
    let body = json!({ "subject": "Paper", "amount": "12.5" });
    let key = [("idempotency-key", "order-7f3a")];
    let r = send(&app, reqwest::Method::POST, "/api/v1/records/purchase_order", Some(body.clone()), &key).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(header(&r, "idempotent-replayed"), None);
    let first: Value = r.json().await.unwrap();

    let before = footprint(&app.db, &app.workspace).await;
    for _ in 0..2 {
        let r = send(&app, reqwest::Method::POST, "/api/v1/records/purchase_order", Some(body.clone()), &key).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "idempotent-replayed").as_deref(), Some("true"));
        assert_eq!(header(&r, "etag").as_deref(), Some("\"1\""));
        let replayed: Value = r.json().await.unwrap();
        assert_eq!(replayed, first, "the retry answers exactly what the first request got");
    }
    assert_eq!(footprint(&app.db, &app.workspace).await, before, "a replay wrote something");

    // Another key is another request.
    let other = [("idempotency-key", "order-7f3b")];
    let r = send(&app, reqwest::Method::POST, "/api/v1/records/purchase_order", Some(body.clone()), &other).await;
    let second = json_of(r, StatusCode::CREATED).await;
    assert_ne!(second["id"], first["id"]);
    let list = json_of(app.get("/api/v1/records/purchase_order?count=true").await, StatusCode::OK).await;
    assert_eq!(list["count"], 2);

    for bad in ["", &"k".repeat(256)] {
        let r = send(
            &app,
            reqwest::Method::POST,
            "/api/v1/records/purchase_order",
            Some(body.clone()),
            &[("idempotency-key", bad)],
        )
        .await;
        problem(r, StatusCode::BAD_REQUEST, "bad_request").await;
    }
}

async fn idempotency_key_with_another_body_is_409(backend: TestBackend) {
    let app = app_with_types(backend).await;
    let key = [("idempotency-key", "k-1")];
    let r =
        send(&app, reqwest::Method::POST, "/api/v1/records/purchase_order", Some(json!({ "subject": "Paper" })), &key)
            .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let before = footprint(&app.db, &app.workspace).await;
    let r =
        send(&app, reqwest::Method::POST, "/api/v1/records/purchase_order", Some(json!({ "subject": "Ink" })), &key)
            .await;
    let p = problem(r, StatusCode::CONFLICT, "conflict").await;
    assert!(p["detail"].as_str().unwrap().contains("k-1"), "{p}");
    // The same key for another type is another request too.
    let r =
        send(&app, reqwest::Method::POST, "/api/v1/records/vendor", Some(json!({ "code": "P", "name": "P" })), &key)
            .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(footprint(&app.db, &app.workspace).await, before);
}

async fn concurrent_http_creates_get_gap_free_numbers(backend: TestBackend) {
    let app = app_with_types(backend).await;
    let clients: Vec<_> = (0..8)
        .map(|c| {
            let client = app.client.clone();
            let url = app.url("/api/v1/records/purchase_order");
            tokio::spawn(async move {
                let mut numbers = Vec::new();
                for i in 0..50 {
                    let r = client.post(&url).json(&json!({ "subject": format!("c{c} #{i}") })).send().await.unwrap();
                    assert_eq!(r.status(), StatusCode::CREATED);
                    let body: Value = r.json().await.unwrap();
                    let year = &body["created_at"].as_str().unwrap()[..4];
                    numbers.push((body["number"].as_str().unwrap().to_owned(), year.to_owned()));
                }
                numbers
            })
        })
        .collect();
    let mut counters = Vec::new();
    for client in clients {
        for (number, year) in client.await.unwrap() {
            let counter = number.strip_prefix(&format!("PO-{year}-")).unwrap_or_else(|| panic!("{number}"));
            assert_eq!(counter.len(), 5, "{number}");
            counters.push(counter.parse::<u32>().unwrap());
        }
    }
    counters.sort_unstable();
    assert_eq!(counters, (1..=400).collect::<Vec<_>>(), "no gaps, no duplicates");
}

async fn transitions_answer_409_422_and_record_their_inputs(backend: TestBackend) {
    let app = app_with_types(backend).await;
    let free = create(&app, "purchase_order", json!({ "subject": "Free", "amount": "0" })).await;
    let po = create(&app, "purchase_order", json!({ "subject": "Paper", "amount": "10" })).await;
    let path = format!("/api/v1/records/purchase_order/{}", po["id"].as_str().unwrap());
    let before = footprint(&app.db, &app.workspace).await;

    let r = send(&app, reqwest::Method::POST, &format!("{path}/transitions/approve"), None, &[]).await;
    problem(r, StatusCode::CONFLICT, "conflict").await;
    let free_path = format!("/api/v1/records/purchase_order/{}/transitions/submit", free["id"].as_str().unwrap());
    let p =
        problem(post(&app, &free_path, json!({})).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "guard_failed", "{p}");
    let r = send(&app, reqwest::Method::POST, &format!("{path}/transitions/teleport"), None, &[]).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(footprint(&app.db, &app.workspace).await, before);

    let r =
        send(&app, reqwest::Method::POST, &format!("{path}/transitions/submit"), None, &[("if-match", "\"1\"")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "etag").as_deref(), Some("\"2\""));
    let before = footprint(&app.db, &app.workspace).await;
    let p = problem(
        post(&app, &format!("{path}/transitions/reject"), json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_codes(&p), pairs(&[("/reason", "required")]));
    assert_eq!(footprint(&app.db, &app.workspace).await, before);

    let head = outbox_head(&app.workspace).await;
    let rejected = json_of(
        post(&app, &format!("{path}/transitions/reject"), json!({ "reason": "Too dear" })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["state"], "rejected");
    assert_eq!(rejected["rejection_reason"], "Too dear");
    let timeline = json_of(app.get(&format!("{path}/timeline")).await, StatusCode::OK).await;
    let last = timeline.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["command"], "transition:reject", "{timeline}");
    assert_eq!(last["changes"]["inputs"], json!({ "reason": "Too dear" }), "{last}");
    let events = outbox_after(&app.workspace, head).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].0, "record.transitioned");
    assert_eq!(events[0].1["inputs"], json!({ "reason": "Too dear" }));
}

async fn field_not_editable_in_state_is_422_not_editable(backend: TestBackend) {
    let app = app_with_types(backend).await;
    let po = create(&app, "purchase_order", json!({ "subject": "Paper", "amount": "10" })).await;
    let path = format!("/api/v1/records/purchase_order/{}", po["id"].as_str().unwrap());
    json_of(post(&app, &format!("{path}/transitions/submit"), json!({})).await, StatusCode::OK).await;
    let before = footprint(&app.db, &app.workspace).await;
    let r = send(&app, reqwest::Method::PATCH, &path, Some(json!({ "subject": "Changed" })), &[]).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(error_codes(&p), pairs(&[("/subject", "not_editable")]));
    assert_eq!(footprint(&app.db, &app.workspace).await, before);
    let r = send(&app, reqwest::Method::PATCH, &path, Some(json!({ "note": "fine" })), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn delete_restore_and_purge_over_http(backend: TestBackend) {
    let app = app_with_types(backend).await;
    let vendor_id = new_vendor(&app, "ACME").await;
    let sink = create(&app, "kitchen_sink", json!({ "title": "uses acme", "vendor": vendor_id })).await;
    let sink_path = format!("/api/v1/records/kitchen_sink/{}", sink["id"].as_str().unwrap());
    let vendor_path = format!("/api/v1/records/vendor/{vendor_id}");

    // Restricted while a live record refers to it.
    let before = footprint(&app.db, &app.workspace).await;
    let r = send(&app, reqwest::Method::DELETE, &vendor_path, None, &[]).await;
    problem(r, StatusCode::CONFLICT, "conflict").await;
    assert_eq!(footprint(&app.db, &app.workspace).await, before);

    let r = send(&app, reqwest::Method::DELETE, &sink_path, None, &[("if-match", "\"1\"")]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(app.get(&sink_path).await, StatusCode::NOT_FOUND, "not_found").await;
    problem(app.get(&format!("{sink_path}/timeline")).await, StatusCode::NOT_FOUND, "not_found").await;
    let list = json_of(app.get("/api/v1/records/kitchen_sink?count=true").await, StatusCode::OK).await;
    assert_eq!((list["count"].clone(), list["items"].as_array().unwrap().len()), (json!(0), 0));
    let list = json_of(app.get("/api/v1/records/kitchen_sink?include_deleted=true").await, StatusCode::OK).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    let restored = json_of(post(&app, &format!("{sink_path}/restore"), json!({})).await, StatusCode::OK).await;
    assert_eq!(restored["deleted_at"], Value::Null);
    assert_eq!(restored["version"], 3);
    json_of(app.get(&sink_path).await, StatusCode::OK).await;

    // Purge: gone for good, lines too.
    let r = send(&app, reqwest::Method::DELETE, &format!("{sink_path}?purge=true"), None, &[]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(app.get(&sink_path).await, StatusCode::NOT_FOUND, "not_found").await;
    problem(post(&app, &format!("{sink_path}/restore"), json!({})).await, StatusCode::NOT_FOUND, "not_found").await;
    let list = json_of(app.get("/api/v1/records/kitchen_sink?include_deleted=true").await, StatusCode::OK).await;
    assert!(list["items"].as_array().unwrap().is_empty());

    // Nothing refers to the vendor any more.
    let r = send(&app, reqwest::Method::DELETE, &vendor_path, None, &[]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(app.get("/api/v1/records/vendor/not-a-uuid").await, StatusCode::NOT_FOUND, "not_found").await;
}

async fn seed_orders(app: &TestApp, n: usize) {
    let rows: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "subject": format!("s-{:03}", (i * 7) % 20),
                "order_date": format!("2026-02-{:02}", 1 + i % 5),
                "amount": i.to_string(),
                "note": if i % 2 == 0 { "even" } else { "odd" },
            })
        })
        .collect();
    let report = json_of(
        post(app, "/api/v1/records/purchase_order/bulk", json!({ "mode": "all_or_nothing", "rows": rows })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(report["created"], n);
}

async fn list_pages_with_filter_sort_and_cursor(backend: TestBackend) {
    let app = app_with_types(backend).await;
    seed_orders(&app, 40).await;
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![
            ("filter", "amount >= 10 and note = \"even\"".to_owned()),
            ("sort", "-order_date,subject".to_owned()),
            ("limit", "4".to_owned()),
            ("count", "true".to_owned()),
            ("fields", "subject,order_date".to_owned()),
        ];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let r = app.client.get(app.url("/api/v1/records/purchase_order")).query(&query).send().await.unwrap();
        let page = json_of(r, StatusCode::OK).await;
        assert_eq!(page["count"], 15, "{page}");
        for item in page["items"].as_array().unwrap() {
            let keys: BTreeSet<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, BTreeSet::from(["id", "type", "version", "subject", "order_date"]), "{item}");
            seen.push(item.clone());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 15);
    let ids: BTreeSet<&str> = seen.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 15, "every record once");
    let keys: Vec<(String, String)> = seen
        .iter()
        .map(|r| (r["order_date"].as_str().unwrap().to_owned(), r["subject"].as_str().unwrap().to_owned()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    assert_eq!(keys, sorted, "-order_date, subject");
}

async fn bad_filter_sort_and_cursor_are_400(backend: TestBackend) {
    let app = app_with_types(backend).await;
    seed_orders(&app, 10).await;
    let list = |query: Vec<(&'static str, String)>| {
        let app = &app;
        async move { app.client.get(app.url("/api/v1/records/purchase_order")).query(&query).send().await.unwrap() }
    };
    let p = problem(list(vec![("filter", "amout > 3".into())]).await, StatusCode::BAD_REQUEST, "bad_request").await;
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("amout") && detail.contains("did you mean `amount`"), "{p}");
    let p = problem(list(vec![("sort", "note".into())]).await, StatusCode::BAD_REQUEST, "bad_request").await;
    assert!(p["detail"].as_str().unwrap().contains("note"), "{p}");
    for cursor in ["garbage", "eyJrIjpbXX0", "eyJrIjpbMSwyXSwiaWQiOiJ4In0"] {
        let r = list(vec![("sort", "-order_date,subject".into()), ("cursor", cursor.into())]).await;
        problem(r, StatusCode::BAD_REQUEST, "bad_request").await;
    }
    let r = list(vec![("filter", r#"subject = "x' OR '1'='1""#.into()), ("count", "true".into())]).await;
    assert_eq!(json_of(r, StatusCode::OK).await["count"], 0);
    let r = list(vec![("filter", "1; DROP TABLE r_purchase_order".into())]).await;
    problem(r, StatusCode::BAD_REQUEST, "bad_request").await;
    let r = list(vec![("count", "true".into())]).await;
    assert_eq!(json_of(r, StatusCode::OK).await["count"], 10);
    problem(app.get("/api/v1/records/no_such_type").await, StatusCode::NOT_FOUND, "not_found").await;
}

fn gadget(fields: Value) -> Value {
    json!({ "name": "gadget", "label": label("Gadget", "小工具"), "fields": fields })
}

fn gadget_fields() -> Value {
    json!([
        { "name": "title", "label": label("Title", "标题"), "type": "text", "required": true },
        { "name": "qty", "label": label("Quantity", "数量"), "type": "integer" },
        { "name": "price", "label": label("Price", "价格"), "type": "decimal", "scale": 3 }
    ])
}

async fn destructive_type_change_is_409_without_the_flag(backend: TestBackend) {
    let app = spawn_app(backend).await;
    declare(&app, &[gadget(gadget_fields())]).await;
    for i in 0..5 {
        create(&app, "gadget", json!({ "title": format!("g{i}"), "qty": i, "price": "1.234" })).await;
    }
    let before = footprint(&app.db, &app.workspace).await;
    let columns = app.db.columns("r_gadget").await;
    let without_qty = json!([
        { "name": "title", "label": label("Title", "标题"), "type": "text", "required": true },
        { "name": "price", "label": label("Price", "价格"), "type": "decimal", "scale": 3 }
    ]);
    let narrowed = json!([
        { "name": "title", "label": label("Title", "标题"), "type": "text", "required": true },
        { "name": "qty", "label": label("Quantity", "数量"), "type": "integer" },
        { "name": "price", "label": label("Price", "价格"), "type": "decimal", "scale": 1 }
    ]);
    for change in [gadget(without_qty.clone()), gadget(narrowed)] {
        let r = send(&app, reqwest::Method::PUT, "/api/v1/types/gadget", Some(change.clone()), &[]).await;
        let p = problem(r, StatusCode::CONFLICT, "conflict").await;
        assert!(p["detail"].as_str().unwrap().contains("allow_destructive"), "{p}");
        // A dry run shows the plan and changes nothing either.
        let r = send(&app, reqwest::Method::PUT, "/api/v1/types/gadget?dry_run=true", Some(change), &[]).await;
        let plan = json_of(r, StatusCode::OK).await;
        assert_eq!((plan["applied"].clone(), plan["destructive"].clone()), (json!(false), json!(true)), "{plan}");
    }
    assert_eq!(footprint(&app.db, &app.workspace).await, before);
    assert_eq!(app.db.columns("r_gadget").await, columns);
    let info = json_of(app.get("/api/v1/types/gadget").await, StatusCode::OK).await;
    assert_eq!(info["revision"], 1);

    let r =
        send(&app, reqwest::Method::PUT, "/api/v1/types/gadget?allow_destructive=true", Some(gadget(without_qty)), &[])
            .await;
    let plan = json_of(r, StatusCode::OK).await;
    assert_eq!(plan["applied"], true, "{plan}");
    assert!(app.db.columns("r_gadget").await.contains(&"_bak1_qty".to_owned()));
    assert_eq!(app.db.scalar("SELECT CAST(SUM(_bak1_qty) AS BIGINT) FROM r_gadget").await, Some(10));
}

async fn bad_declaration_is_422_listing_every_problem(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let before = footprint(&app.db, &app.workspace).await;
    let bad = json!({
        "name": "gizmo",
        "label": label("Gizmo", "小玩意"),
        "fields": [
            { "name": "title", "label": label("Title", "标题"), "type": "text" },
            { "name": "title", "label": label("Again", "再次"), "type": "text" },
            { "name": "maker", "label": label("Maker", "制造商"), "type": "reference", "target": "no_such_type" },
            { "name": "order", "label": label("Order", "顺序"), "type": "integer" }
        ],
        "lifecycle": {
            "initial": "draft",
            "states": [{ "name": "draft", "label": label("Draft", "草稿") }, { "name": "done", "label": label("Done", "完成") }],
            "transitions": [{ "name": "finish", "label": label("Finish", "完成"), "from": ["draft"], "to": "done",
                              "guard": "quantity > 0" }]
        }
    });
    let p =
        problem(post(&app, "/api/v1/types", bad).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let pointers: BTreeSet<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    for expected in ["/fields/1/name", "/fields/2/target", "/fields/3/name", "/lifecycle/transitions/0/guard"] {
        assert!(pointers.contains(expected), "{expected} missing: {p:#}");
    }
    assert_eq!(footprint(&app.db, &app.workspace).await, before);
    problem(app.get("/api/v1/types/gizmo").await, StatusCode::NOT_FOUND, "not_found").await;
}

/// The issue lists "unknown field type" among the problems a declaration is refused for
/// with every problem listed: a declaration with an unknown type and other problems must
/// be a 422 naming all of them, not a 400 about the first shape error.
async fn declaration_with_unknown_field_type_is_422_with_the_other_problems(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let bad = json!({
        "name": "gizmo",
        "label": label("Gizmo", "小玩意"),
        "fields": [
            { "name": "title", "label": label("Title", "标题"), "type": "txt" },
            { "name": "select", "label": label("Select", "选择"), "type": "boolean" },
            { "name": "maker", "label": label("Maker", "制造商"), "type": "reference", "target": "no_such_type" }
        ]
    });
    let p =
        problem(post(&app, "/api/v1/types", bad).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let pointers: BTreeSet<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, BTreeSet::from(["/fields/0/type", "/fields/1/name", "/fields/2/target"]), "{p:#}");
}
