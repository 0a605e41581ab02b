//! The web UI's files: hashed assets cached forever, everything else revalidated, client
//! routes answered with index.html, and a placeholder page before the UI is built.

use weft_server::ServerOptions;
use weft_testkit::{TestBackend, spawn_app, spawn_app_with};

fn cache_control(r: &reqwest::Response) -> String {
    r.headers().get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn placeholder_page_before_the_ui_is_built() {
    let app = spawn_app(TestBackend::Sqlite).await;
    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    assert_eq!(cache_control(&r), "no-cache");
    assert!(r.text().await.unwrap().contains("Weft"));
}

#[tokio::test]
async fn built_ui_is_served_with_caching_headers() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!doctype html><title>app shell</title>").unwrap();
    std::fs::create_dir(dist.path().join("assets")).unwrap();
    std::fs::write(dist.path().join("assets/index-3f2a9c.js"), "console.log(1)").unwrap();
    let options = ServerOptions { web_dir: Some(dist.path().to_path_buf()), ..Default::default() };
    let app = spawn_app_with(TestBackend::Sqlite, options).await;

    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    assert_eq!(cache_control(&r), "no-cache");
    assert!(r.text().await.unwrap().contains("app shell"));

    let r = app.get("/assets/index-3f2a9c.js").await;
    assert_eq!(r.status(), 200);
    assert_eq!(cache_control(&r), "public, max-age=31536000, immutable");
    assert!(r.headers()["content-type"].to_str().unwrap().contains("javascript"));

    // A client-side route: the app shell, so a reload of a deep link works.
    let r = app.get("/records/purchase_order/42").await;
    assert_eq!(r.status(), 200);
    assert_eq!(cache_control(&r), "no-cache");
    assert!(r.text().await.unwrap().contains("app shell"));

    // API paths never fall through to the web UI.
    let r = app.get("/api/v1/records/nothing").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    // Path traversal stays inside the folder.
    let r = app.get("/assets/../../etc/passwd").await;
    assert!(!r.text().await.unwrap().contains("root:"));
}
