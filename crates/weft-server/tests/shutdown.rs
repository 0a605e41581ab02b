//! SIGTERM lets in-flight requests finish. Its own test binary: it signals its own process.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use weft_server::{AppState, ServerOptions};
use weft_testkit::{TestBackend, TestDatabase};
use weft_workspace::Workspace;

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    "finished"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_slow_request_lets_it_finish() {
    let db = TestDatabase::new(TestBackend::Sqlite).await.unwrap();
    let workspace = Workspace::connect(&db.store_options()).await.unwrap();
    let state = AppState { workspace, options: ServerOptions::default() };
    let app = weft_server::router_with(state, Router::new().route("/api/v1/slow", get(slow)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(weft_server::serve(listener, app, weft_server::shutdown_signal()));

    // Once a request has been answered, the server (and its signal handler) is running.
    assert_eq!(reqwest::get(format!("{base}/healthz")).await.unwrap().status(), 200);

    let in_flight = tokio::spawn({
        let url = format!("{base}/api/v1/slow");
        async move { reqwest::get(url).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = std::process::Command::new("kill").args(["-TERM", &std::process::id().to_string()]).status().unwrap();
    assert!(status.success());

    let response = in_flight.await.unwrap().expect("the in-flight request completes");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "finished");

    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops after the in-flight request")
        .unwrap()
        .unwrap();
    assert!(reqwest::get(format!("{base}/healthz")).await.is_err(), "no new connections after shutdown");
}
