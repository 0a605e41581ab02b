//! `AppJson` behind the real layers: malformed bodies, wrong content types and streamed
//! bodies over the limit all come back as problems. A small echo route stands in for the
//! API's JSON endpoints, which all use the same extractor.

use axum::Router;
use axum::routing::post;
use reqwest::StatusCode;
use serde_json::Value;
use weft_server::{AppJson, AppState, ServerOptions};
use weft_testkit::{TestBackend, TestDatabase};
use weft_workspace::Workspace;

#[derive(serde::Deserialize, serde::Serialize)]
struct Order {
    name: String,
    lines: Vec<Line>,
}
#[derive(serde::Deserialize, serde::Serialize)]
struct Line {
    qty: u32,
}

async fn echo(AppJson(order): AppJson<Order>) -> AppJson<Order> {
    AppJson(order)
}

struct Server {
    base: String,
    client: reqwest::Client,
    _db: TestDatabase,
}

async fn start(max_body_bytes: usize) -> Server {
    let db = TestDatabase::new(TestBackend::Sqlite).await.unwrap();
    let workspace = Workspace::connect(&db.store_options()).await.unwrap();
    let state = AppState { workspace, options: ServerOptions { max_body_bytes, web_dir: None, ..Default::default() } };
    let app = weft_server::router_with(state, Router::new().route("/api/v1/echo", post(echo)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(weft_server::serve(listener, app, std::future::pending()));
    Server { base, client: reqwest::Client::new(), _db: db }
}

async fn post_json(s: &Server, body: impl Into<reqwest::Body>) -> reqwest::Response {
    s.client
        .post(format!("{}/api/v1/echo", s.base))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn valid_json_round_trips() {
    let s = start(1024).await;
    let r = post_json(&s, r#"{"name":"a","lines":[{"qty":2}]}"#).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["lines"][0]["qty"], 2);
}

#[tokio::test]
async fn malformed_json_is_400_with_pointer() {
    let s = start(1024).await;
    let r = post_json(&s, r#"{"name":"a","lines":[{"qty":2},{"qty":-1}]}"#).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "malformed_json");
    assert_eq!(body["errors"][0]["pointer"], "/lines/1/qty");

    let r = post_json(&s, "{\"name\": \"a\", \"lines\": [").await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "malformed_json");
    assert!(body["errors"][0]["reason"].as_str().unwrap().contains("line 1"), "{body}");
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let s = start(1024).await;
    let r = s
        .client
        .post(format!("{}/api/v1/echo", s.base))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "unsupported_media_type");
}

#[tokio::test]
async fn streamed_body_over_limit_is_413() {
    let s = start(64).await;
    // No Content-Length: the body is streamed in chunks, so only reading it finds the size.
    let chunks: Vec<Result<&'static [u8], std::io::Error>> =
        vec![Ok(b"{\"name\":\"".as_slice()), Ok([b'x'; 100].as_slice()), Ok(b"\",\"lines\":[]}".as_slice())];
    let body = reqwest::Body::wrap_stream(futures_util_stream(chunks));
    let r = post_json(&s, body).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "payload_too_large");
}

fn futures_util_stream(
    items: Vec<Result<&'static [u8], std::io::Error>>,
) -> impl futures::Stream<Item = Result<&'static [u8], std::io::Error>> + Send + Sync + 'static {
    futures::stream::iter(items)
}

#[tokio::test]
async fn panics_become_500_problems_without_details() {
    let db = TestDatabase::new(TestBackend::Sqlite).await.unwrap();
    let workspace = Workspace::connect(&db.store_options()).await.unwrap();
    let state = AppState { workspace, options: ServerOptions::default() };
    async fn boom() -> &'static str {
        panic!("secret internals")
    }
    let app = weft_server::router_with(state, Router::new().route("/api/v1/boom", axum::routing::get(boom)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(weft_server::serve(listener, app, std::future::pending()));
    let r = reqwest::get(format!("{base}/api/v1/boom")).await.unwrap();
    assert_eq!(r.status(), 500);
    let text = r.text().await.unwrap();
    assert!(!text.contains("secret internals"), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["code"], "internal");
    assert!(body["request_id"].is_string());
}

#[derive(serde::Deserialize, serde::Serialize)]
struct Page {
    limit: Option<u32>,
}

async fn page(weft_server::AppQuery(page): weft_server::AppQuery<Page>) -> AppJson<Page> {
    AppJson(page)
}

async fn by_id(axum::extract::Path(id): axum::extract::Path<uuid::Uuid>) -> String {
    id.to_string()
}

async fn start_with_queries() -> Server {
    let db = TestDatabase::new(TestBackend::Sqlite).await.unwrap();
    let workspace = Workspace::connect(&db.store_options()).await.unwrap();
    let state = AppState { workspace, options: ServerOptions { web_dir: None, ..Default::default() } };
    let extra = Router::new()
        .route("/api/v1/page", axum::routing::get(page))
        .route("/api/v1/things/{id}", axum::routing::get(by_id));
    let app = weft_server::router_with(state, extra);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(weft_server::serve(listener, app, std::future::pending()));
    Server { base, client: reqwest::Client::new(), _db: db }
}

#[tokio::test]
async fn a_bad_query_parameter_is_a_problem_naming_it() {
    let s = start_with_queries().await;
    let r = s.client.get(format!("{}/api/v1/page?limit=7", s.base)).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["limit"], 7);

    let r = s.client.get(format!("{}/api/v1/page?limit=ten", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "bad_request");
    assert_eq!(body["errors"][0]["parameter"], "limit", "{body}");
    assert!(body["detail"].as_str().unwrap().contains("`limit`"), "{body}");
}

#[tokio::test]
async fn a_plain_text_rejection_becomes_a_problem() {
    let s = start_with_queries().await;
    let r = s.client.get(format!("{}/api/v1/things/not-a-uuid", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "bad_request");
    assert!(body["detail"].as_str().unwrap().contains("UUID"), "{body}");
    assert!(body["request_id"].is_string(), "{body}");
}
