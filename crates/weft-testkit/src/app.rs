use std::net::SocketAddr;

use tokio::sync::oneshot;
use weft_server::{AppState, ServerOptions};
use weft_workspace::Workspace;

use crate::{TestBackend, TestDatabase};

/// A running server over a fresh, migrated database. Shuts down when dropped.
pub struct TestApp {
    pub address: SocketAddr,
    pub base_url: String,
    pub client: reqwest::Client,
    pub workspace: Workspace,
    shutdown: Option<oneshot::Sender<()>>,
    // Dropped last: the database outlives the server using it.
    pub db: TestDatabase,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request failed")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn spawn_app(backend: TestBackend) -> TestApp {
    spawn_app_with(backend, ServerOptions::default()).await
}

pub async fn spawn_app_with(backend: TestBackend, options: ServerOptions) -> TestApp {
    let db = TestDatabase::new(backend).await.expect("test database");
    let workspace = Workspace::connect(&db.store_options()).await.expect("connect");
    workspace.migrate().await.expect("migrate");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let address = listener.local_addr().expect("local addr");
    let app = weft_server::router(AppState { workspace: workspace.clone(), options });
    let (tx, rx) = oneshot::channel();
    tokio::spawn(weft_server::serve(listener, app, async {
        let _ = rx.await;
    }));
    TestApp {
        address,
        base_url: format!("http://{address}"),
        client: reqwest::Client::new(),
        workspace,
        shutdown: Some(tx),
        db,
    }
}
