//! `GET /api/v1/search` over HTTP: hits with snippets for whoever may read them, nothing of
//! another party's records for a guest, and problem documents naming the bad parameter.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;
use weft_testkit::{TestApp, TestBackend, bearer_client, on_both_databases, spawn_app};

on_both_databases!(search_finds_what_the_caller_may_read, bad_parameters_are_problems);

async fn setup(app: &TestApp) -> (Uuid, Uuid) {
    let decl = json!({
        "name": "ticket", "label": {"en": "Ticket", "zh": "工单"}, "title_field": "subject",
        "fields": [{"name": "subject", "label": {"en": "Subject", "zh": "主题"}, "type": "text"}]
    });
    let declared = app.client.post(app.url("/api/v1/types")).json(&decl).send().await.unwrap();
    assert!(declared.status().is_success(), "{}", declared.text().await.unwrap());
    let (party_a, party_b) = (Uuid::now_v7(), Uuid::now_v7());
    for (party, subject) in [(party_a, "交货延迟 of pump A"), (party_b, "交货延迟 of valve B")] {
        let body = json!({"subject": subject, "party": party});
        let created = app.client.post(app.url("/api/v1/records/ticket")).json(&body).send().await.unwrap();
        assert_eq!(created.status(), StatusCode::CREATED, "{}", created.text().await.unwrap());
    }
    (party_a, party_b)
}

async fn get(client: &reqwest::Client, app: &TestApp, query: &str) -> (StatusCode, String, Value) {
    let response = client.get(app.url(&format!("/api/v1/search?{query}"))).send().await.unwrap();
    let status = response.status();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, response.json().await.unwrap_or(Value::Null))
}

async fn search_finds_what_the_caller_may_read(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let (party_a, _) = setup(&app).await;
    app.workspace.index_pending().await.unwrap();

    let (status, _, body) = get(&app.client, &app, "q=%E4%BA%A4%E8%B4%A7%E5%BB%B6%E8%BF%9F").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let hits = body["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 2, "{body}");
    assert_eq!(hits[0]["kind"], "record");
    assert_eq!(hits[0]["type"], "ticket");
    assert!(hits[0]["snippet"].as_array().unwrap().iter().any(|p| p["hit"] == true && p["text"] == "交货"), "{body}");
    assert!(body.get("total").is_none() && body.get("count").is_none(), "no counts: {body}");

    let guest = app.create_guest("a@party-a.example", "portal password", party_a, &["guest"]).await;
    let token = app.token_for(guest, None).await;
    let (status, _, body) =
        get(&bearer_client(&token), &app, "q=%E4%BA%A4%E8%B4%A7%E5%BB%B6%E8%BF%9F&kind=record").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let titles: Vec<&str> = body["hits"].as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["交货延迟 of pump A"], "{body}");
    let (_, _, body) = get(&bearer_client(&token), &app, "q=valve").await;
    assert_eq!(body["hits"], json!([]), "another party's words find nothing");
}

async fn bad_parameters_are_problems(backend: TestBackend) {
    let app = spawn_app(backend).await;
    for (query, parameter) in [
        ("q=", "q"),
        ("q=%20%20", "q"),
        (&*format!("q={}", "a".repeat(201)), "q"),
        ("q=x&kind=document", "kind"),
        ("q=x&limit=0", "limit"),
        ("q=x&limit=101", "limit"),
        ("q=x&cursor=garbage", "cursor"),
    ] {
        let (status, content_type, body) = get(&app.client, &app, query).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(body["errors"][0]["parameter"], parameter, "{query}: {body}");
        assert_eq!(body["errors"][0]["pointer"], "", "{query}: {body}");
    }
    let (status, content_type, body) = get(&app.client, &app, "q=x&limit=many").await;
    assert_eq!((status, content_type.as_str()), (StatusCode::BAD_REQUEST, "application/problem+json"));
    assert_eq!(body["errors"][0]["parameter"], "limit", "{body}");
    let anonymous = app.anonymous.get(app.url("/api/v1/search?q=x")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
