//! The object-type editor's API (`/api/v1/types`): administrators preview (dry run) and
//! apply changes to the types declared at run time; a built-in app's types are marked
//! read-only and refused, preview included; nobody else may preview or change a type.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use weft_testkit::fixtures::label;
use weft_testkit::{TestApp, TestBackend, bearer_client, on_both_databases, spawn_app};

on_both_databases!(
    administrators_preview_and_apply_changes_to_their_own_types,
    a_built_in_apps_types_are_read_only_to_the_editor,
    members_cannot_preview_or_change_a_type,
);

async fn send(app: &TestApp, token: &str, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
    let mut request = bearer_client(token).request(method, app.url(path));
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn gadget(extra: &[Value]) -> Value {
    let mut fields = vec![json!({ "name": "title", "label": label("Title", "标题"), "type": "text" })];
    fields.extend(extra.iter().cloned());
    json!({ "name": "gadget", "label": label("Gadget", "小工具"), "title_field": "title", "fields": fields })
}

fn info<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["items"].as_array().and_then(|items| items.iter().find(|t| t["name"] == name)).unwrap_or(&Value::Null)
}

async fn administrators_preview_and_apply_changes_to_their_own_types(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let admin = app.admin_token.clone();
    let (status, plan) = send(&app, &admin, Method::POST, "/api/v1/types?dry_run=true", Some(&gadget(&[]))).await;
    assert_eq!(
        (status, plan["action"].as_str(), plan["applied"].as_bool()),
        (StatusCode::OK, Some("create"), Some(false))
    );
    let (_, list) = send(&app, &admin, Method::GET, "/api/v1/types", None).await;
    assert_eq!(info(&list, "gadget"), &Value::Null, "a dry run declares nothing");
    let (status, _) = send(&app, &admin, Method::POST, "/api/v1/types", Some(&gadget(&[]))).await;
    assert_eq!(status, StatusCode::CREATED);

    let qty = json!({ "name": "qty", "label": label("Quantity", "数量"), "type": "integer", "indexed": true });
    let changed = gadget(&[qty]);
    let (status, plan) = send(&app, &admin, Method::PUT, "/api/v1/types/gadget?dry_run=true", Some(&changed)).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(
        (plan["action"].as_str(), plan["applied"].as_bool(), plan["destructive"].as_bool()),
        (Some("alter"), Some(false), Some(false))
    );
    let steps: Vec<&str> = plan["steps"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["description"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(steps.len(), 2, "a column and its index: {plan:#}");
    let (_, one) = send(&app, &admin, Method::GET, "/api/v1/types/gadget", None).await;
    assert_eq!(
        (one["revision"].as_i64(), one["editable"].as_bool(), one["app"].as_str()),
        (Some(1), Some(true), Some("admin"))
    );

    let (status, plan) = send(&app, &admin, Method::PUT, "/api/v1/types/gadget", Some(&changed)).await;
    assert_eq!((status, plan["applied"].as_bool()), (StatusCode::OK, Some(true)), "{plan}");
    let (_, one) = send(&app, &admin, Method::GET, "/api/v1/types/gadget", None).await;
    assert_eq!(one["revision"].as_i64(), Some(2));
    assert_eq!(one["declaration"]["fields"][1]["name"], "qty");

    // Every problem of a bad declaration comes back with its pointer.
    let bad = gadget(&[
        json!({ "name": "Bad Name", "label": label("X", "X"), "type": "text" }),
        json!({ "name": "price", "label": label("Price", "价格"), "type": "decimal", "scale": 99 }),
    ]);
    let (status, problem) = send(&app, &admin, Method::PUT, "/api/v1/types/gadget?dry_run=true", Some(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["pointer"].as_str()).collect())
        .unwrap_or_default();
    assert!(pointers.iter().any(|p| p.starts_with("/fields/1")), "{problem:#}");
    assert!(pointers.iter().any(|p| p.starts_with("/fields/2")), "{problem:#}");
}

async fn a_built_in_apps_types_are_read_only_to_the_editor(backend: TestBackend) {
    let app = spawn_app(backend).await;
    app.workspace.install_builtin_apps().await.expect("the built-in apps install");
    let admin = app.admin_token.clone();
    let (_, list) = send(&app, &admin, Method::GET, "/api/v1/types", None).await;
    let party = info(&list, "party");
    assert_eq!((party["app"].as_str(), party["editable"].as_bool()), (Some("core"), Some(false)));
    let mut decl = party["declaration"].clone();
    decl["fields"]
        .as_array_mut()
        .expect("fields")
        .push(json!({ "name": "vip", "label": label("VIP", "VIP"), "type": "boolean" }));
    for path in ["/api/v1/types/party?dry_run=true", "/api/v1/types/party"] {
        let (status, problem) = send(&app, &admin, Method::PUT, path, Some(&decl)).await;
        assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{path}: {problem}");
        assert!(problem["detail"].as_str().unwrap_or_default().contains("`core`"), "{problem}");
    }
    let (status, _) = send(&app, &admin, Method::POST, "/api/v1/types?dry_run=true", Some(&decl)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, one) = send(&app, &admin, Method::GET, "/api/v1/types/party", None).await;
    assert_eq!(
        one["declaration"]["fields"].as_array().map(Vec::len),
        party["declaration"]["fields"].as_array().map(Vec::len)
    );
}

async fn members_cannot_preview_or_change_a_type(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let admin = app.admin_token.clone();
    let (status, _) = send(&app, &admin, Method::POST, "/api/v1/types", Some(&gadget(&[]))).await;
    assert_eq!(status, StatusCode::CREATED);
    // Even every action on the type's records is not administration.
    let manager =
        json!({ "name": "gadget_manager", "grants": [{ "type": "gadget", "actions": ["*"], "scope": "all" }] });
    let (status, _) = send(&app, &admin, Method::PUT, "/api/v1/admin/roles/gadget_manager", Some(&manager)).await;
    assert_eq!(status, StatusCode::OK);
    let member = app.create_member("member@example.com", None, &["employee", "gadget_manager"]).await;
    let member = app.token_for(member, None).await;
    let changed = gadget(&[json!({ "name": "qty", "label": label("Qty", "数量"), "type": "integer" })]);
    for (method, path) in [
        (Method::POST, "/api/v1/types?dry_run=true"),
        (Method::POST, "/api/v1/types"),
        (Method::PUT, "/api/v1/types/gadget?dry_run=true"),
        (Method::PUT, "/api/v1/types/gadget?allow_destructive=true"),
    ] {
        let (status, problem) = send(&app, &member, method.clone(), path, Some(&changed)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {problem}");
    }
    let (_, one) = send(&app, &admin, Method::GET, "/api/v1/types/gadget", None).await;
    assert_eq!(one["revision"].as_i64(), Some(1), "nothing changed");
}
