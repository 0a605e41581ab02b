//! Automation rules over HTTP (`/api/v1/admin/rules`): administrators save, list and delete
//! them; a bad rule is a 422 problem listing each problem's place; nobody else may read or
//! change them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use weft_testkit::fixtures::label;
use weft_testkit::{TestApp, TestBackend, bearer_client, on_both_databases, spawn_app};

on_both_databases!(administrators_manage_rules_and_nobody_else_may);

async fn send(app: &TestApp, token: &str, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
    let mut request = bearer_client(token).request(method, app.url(path));
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn ticket() -> Value {
    json!({ "name": "ticket", "label": label("Ticket", "工单"), "fields": [
        { "name": "title", "label": label("Title", "标题"), "type": "text" },
        { "name": "urgent", "label": label("Urgent", "紧急"), "type": "boolean" }
    ]})
}

fn rule(name: &str) -> Value {
    json!({ "name": name, "type": "ticket", "on": ["created"], "condition": "starts with(title, \"!\")",
        "actions": [ { "set": { "urgent": "true" } } ] })
}

async fn administrators_manage_rules_and_nobody_else_may(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let admin = app.admin_token.clone();
    let (status, _) = send(&app, &admin, Method::POST, "/api/v1/types", Some(&ticket())).await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, saved) = send(&app, &admin, Method::PUT, "/api/v1/admin/rules/flag", Some(&rule("flag"))).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        (saved["name"].as_str(), saved["version"].as_i64(), saved["enabled"].as_bool()),
        (Some("flag"), Some(1), Some(true))
    );
    let (status, list) = send(&app, &admin, Method::GET, "/api/v1/admin/rules", None).await;
    assert_eq!((status, list.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));

    // A bad rule: every problem with its place, nothing saved.
    let mut bad = rule("flag");
    bad["condition"] = json!("titel = 1");
    bad["actions"] = json!([{ "set": { "urgent": "1 +" } }, { "transition": "close" }]);
    let (status, problem) = send(&app, &admin, Method::PUT, "/api/v1/admin/rules/flag", Some(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["pointer"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(pointers, ["/condition", "/actions/0/set/urgent", "/actions/1/transition"], "{problem}");
    let (_, list) = send(&app, &admin, Method::GET, "/api/v1/admin/rules", None).await;
    assert_eq!(list[0]["version"].as_i64(), Some(1), "the bad rule saved nothing");
    // The path names the rule.
    let (status, problem) = send(&app, &admin, Method::PUT, "/api/v1/admin/rules/other", Some(&rule("flag"))).await;
    assert_eq!((status, problem["errors"][0]["pointer"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("/name")));
    // Not a rule document at all.
    let (status, _) =
        send(&app, &admin, Method::PUT, "/api/v1/admin/rules/flag", Some(&json!({ "name": "flag" }))).await;
    assert!(status.is_client_error(), "{status}");

    // Wrong types are refused whole, as a problem; nothing is saved.
    let mut wrong = rule("flag");
    wrong["on"] = json!("created");
    wrong["actions"] = json!([{ "set": { "urgent": 1 } }]);
    let response = bearer_client(&admin).put(app.url("/api/v1/admin/rules/flag")).json(&wrong).send().await.unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(response.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/problem+json"));
    let (_, list) = send(&app, &admin, Method::GET, "/api/v1/admin/rules", None).await;
    assert_eq!(list[0]["version"].as_i64(), Some(1), "the wrong rule saved nothing");

    // A member may not read, save or delete rules.
    let member = app.create_member("mia", None, &["employee"]).await;
    let token = app.token_for(member, None).await;
    for (method, body) in [(Method::GET, None), (Method::PUT, Some(rule("flag"))), (Method::DELETE, None)] {
        let path = if method == Method::GET { "/api/v1/admin/rules" } else { "/api/v1/admin/rules/flag" };
        let (status, _) = send(&app, &token, method.clone(), path, body.as_ref()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
    }

    let (status, _) = send(&app, &admin, Method::DELETE, "/api/v1/admin/rules/flag", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(&app, &admin, Method::DELETE, "/api/v1/admin/rules/flag", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
