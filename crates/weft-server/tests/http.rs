//! The HTTP layer's contract: probes, OpenAPI, and problem+json for every kind of error.

use reqwest::StatusCode;
use serde_json::Value;
use weft_server::ServerOptions;
use weft_testkit::{TestBackend, on_both_databases, spawn_app, spawn_app_with};

const PROBLEM: &str = "application/problem+json";

fn content_type(r: &reqwest::Response) -> String {
    r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

async fn problem(r: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(content_type(&r), PROBLEM);
    let request_id = r.headers().get("x-request-id").cloned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], format!("/api/v1/problems/{code}"), "{body}");
    assert!(body["title"].is_string(), "{body}");
    let header = request_id.expect("x-request-id header");
    assert_eq!(body["request_id"], header.to_str().unwrap(), "{body}");
    body
}

on_both_databases!(
    healthz_and_readyz_answer,
    readyz_is_503_while_database_unreachable,
    openapi_document_is_3_1_and_generated,
    unknown_route_is_404_problem,
    wrong_method_is_405_problem,
    body_over_limit_is_413_problem,
    request_id_is_echoed_and_generated,
);

async fn healthz_and_readyz_answer(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let expected = match backend {
        TestBackend::Sqlite => "sqlite",
        TestBackend::Postgres => "postgres",
    };
    assert_eq!(body["database"], expected);
}

async fn readyz_is_503_while_database_unreachable(backend: TestBackend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.workspace.database().close().await;
    let body = problem(app.get("/readyz").await, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    assert_eq!(body["detail"], "database unreachable");
    assert_eq!(app.get("/healthz").await.status(), 200, "liveness does not depend on the database");
}

async fn openapi_document_is_3_1_and_generated(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert!(doc["paths"]["/healthz"]["get"].is_object());
    assert!(doc["paths"]["/readyz"]["get"]["responses"]["503"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(
        doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .unwrap()
            .contains(&Value::from("validation_failed"))
    );
}

async fn unknown_route_is_404_problem(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let body = problem(app.get("/api/v1/no/such/thing").await, StatusCode::NOT_FOUND, "route_not_found").await;
    assert_eq!(body["instance"], "/api/v1/no/such/thing");
    let r = app.client.post(app.url("/api/v9/x")).body("{}").send().await.unwrap();
    problem(r, StatusCode::NOT_FOUND, "route_not_found").await;
}

async fn wrong_method_is_405_problem(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let r = app.client.delete(app.url("/healthz")).send().await.unwrap();
    problem(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

async fn body_over_limit_is_413_problem(backend: TestBackend) {
    let app = spawn_app_with(backend, ServerOptions { max_body_bytes: 1024, ..Default::default() }).await;
    let r = app
        .client
        .post(app.url("/api/v1/anything"))
        .header("content-type", "application/json")
        .body(vec![b' '; 4096])
        .send()
        .await
        .unwrap();
    let body = problem(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert!(body["detail"].as_str().unwrap().contains("1024"), "{body}");
}

async fn request_id_is_echoed_and_generated(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let r = app.client.get(app.url("/api/v1/missing")).header("x-request-id", "trace-42").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-42");
    let body = problem(r, StatusCode::NOT_FOUND, "route_not_found").await;
    assert_eq!(body["request_id"], "trace-42");
    // A hostile id (header injection, huge) is replaced by a generated one.
    let r = app.client.get(app.url("/healthz")).header("x-request-id", "a".repeat(500)).send().await.unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "{id}");
}
