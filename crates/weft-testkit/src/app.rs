use std::net::SocketAddr;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use uuid::Uuid;
use weft_model::Principal;
use weft_server::{AppState, ServerOptions};
use weft_store::kernel::access;
use weft_store::kernel::principals::{self, StoredPrincipal};
use weft_store::kernel::sessions::{self, StoredToken};
use weft_workspace::Workspace;
use weft_workspace::identity::{AuthSettings, NewPrincipal, NewToken, PrincipalKindName, SecretString, passwords};

use crate::{TestBackend, TestDatabase};

/// The administrator every test app starts with (role `admin`).
pub const ADMIN_LOGIN: &str = "admin@weft.test";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

/// A running server over a fresh, migrated database. Shuts down when dropped.
pub struct TestApp {
    pub address: SocketAddr,
    pub base_url: String,
    /// Sends the administrator's API token (`Authorization: Bearer …`) on every request.
    pub client: reqwest::Client,
    /// Sends no credentials; keeps cookies like a browser.
    pub anonymous: reqwest::Client,
    /// The administrator (a member holding `admin`) behind `client`.
    pub admin_id: Uuid,
    pub admin_token: String,
    pub workspace: Workspace,
    shutdown: Option<oneshot::Sender<()>>,
    /// The blob store's folder (attachment content), removed with the app.
    pub blobs: tempfile::TempDir,
    // Dropped last: the database outlives the server using it.
    pub db: TestDatabase,
}

/// A browser signed in with a password: a client holding the session cookie, and the
/// CSRF token its changes must send as `X-CSRF-Token`.
pub struct SignedIn {
    pub client: reqwest::Client,
    pub csrf_token: String,
    pub principal_id: Uuid,
    /// The sign-in response.
    pub body: Value,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub detail: Value,
}

/// A client that keeps cookies, as a browser does.
pub fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().expect("cookie client")
}

/// A client sending `Authorization: Bearer <token>` on every request.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).expect("token is a header value");
    value.set_sensitive(true);
    headers.insert(AUTHORIZATION, value);
    reqwest::Client::builder().default_headers(headers).build().expect("bearer client")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request failed")
    }

    /// The administrator as a principal of the façade.
    pub fn admin(&self) -> Principal {
        Principal::member(self.admin_id)
    }

    /// A member signing in with `password` (`None`: no password), holding `roles`.
    pub async fn create_member(&self, login: &str, password: Option<&str>, roles: &[&str]) -> Uuid {
        self.create_principal(PrincipalKindName::Member, login, password, None, roles).await
    }

    /// A guest of `party` signing in with `password`, holding `roles` (guest roles).
    pub async fn create_guest(&self, login: &str, password: &str, party: Uuid, roles: &[&str]) -> Uuid {
        self.create_principal(PrincipalKindName::Guest, login, Some(password), Some(party), roles).await
    }

    /// A service account holding `roles`.
    pub async fn create_service(&self, login: &str, roles: &[&str]) -> Uuid {
        self.create_principal(PrincipalKindName::Service, login, None, None, roles).await
    }

    async fn create_principal(
        &self,
        kind: PrincipalKindName,
        login: &str,
        password: Option<&str>,
        party: Option<Uuid>,
        roles: &[&str],
    ) -> Uuid {
        let input = NewPrincipal {
            kind: Some(kind),
            login: login.to_owned(),
            display_name: login.to_owned(),
            party,
            roles: Some(roles.iter().map(|r| (*r).to_owned()).collect()),
            password: password.map(SecretString::from),
            ..NewPrincipal::default()
        };
        self.workspace.create_principal(&Principal::system(), input).await.expect("create principal").id
    }

    /// Makes an API token for `principal` (a member, or a service account) limited to
    /// `roles` (all of its roles when `None`), and returns its secret.
    pub async fn token_for(&self, principal: Uuid, roles: Option<&[&str]>) -> String {
        let stored = self.workspace.principal(&Principal::system(), principal).await.expect("principal");
        let actor = match stored.kind {
            PrincipalKindName::Service => self.admin(),
            _ => Principal::member(principal),
        };
        let input = NewToken {
            name: "test".into(),
            roles: roles.map(|r| r.iter().map(|s| (*s).to_owned()).collect()),
            expires_at: None,
        };
        self.workspace.create_token(&actor, principal, input).await.expect("create token").token
    }

    /// Every audit entry, oldest first: `(actor, action, target_type, target_id, detail)`.
    pub async fn audit_entries(&self) -> Vec<AuditRow> {
        let select = sea_query::Query::select()
            .columns(["actor", "action", "target_type", "target_id", "detail"].map(sea_query::Alias::new))
            .from(sea_query::Alias::new("audit_log"))
            .order_by(sea_query::Alias::new("seq"), sea_query::Order::Asc)
            .to_owned();
        let rows = self.workspace.database().fetch_all(&select).await.expect("read the audit log");
        rows.iter()
            .map(|row| {
                let detail: String = row.get("detail").expect("detail");
                AuditRow {
                    actor: row.get("actor").expect("actor"),
                    action: row.get("action").expect("action"),
                    target_type: row.get("target_type").expect("target_type"),
                    target_id: row.get("target_id").expect("target_id"),
                    detail: serde_json::from_str(&detail).expect("detail is JSON"),
                }
            })
            .collect()
    }

    /// Signs in through the API with a fresh cookie client; panics unless it succeeds
    /// without a second step.
    pub async fn sign_in(&self, login: &str, password: &str) -> SignedIn {
        let client = cookie_client();
        let response = client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "login": login, "password": password }))
            .send()
            .await
            .expect("sign-in request");
        let status = response.status();
        let body: Value = response.json().await.expect("sign-in body");
        assert_eq!(status, 200, "sign-in as {login} failed: {body:#}");
        assert_eq!(body["status"], "signed_in", "{body:#}");
        SignedIn {
            client,
            csrf_token: body["csrf_token"].as_str().expect("csrf token").to_owned(),
            principal_id: body["principal"]["id"].as_str().and_then(|id| id.parse().ok()).expect("principal id"),
            body,
        }
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
    spawn_app_with_auth(backend, options, AuthSettings::default()).await
}

/// Writes the administrator and its API token straight into the kernel tables: a fixture,
/// not an administrative change, so it leaves no audit entry for tests that count them.
async fn bootstrap_admin(workspace: &Workspace) -> (Uuid, String) {
    let id = Uuid::now_v7();
    let token = format!("weft_testkit{}", Uuid::new_v4().simple());
    let token_hash = hex::encode(Sha256::digest(token.as_bytes()));
    let password_hash = passwords::hash_blocking(ADMIN_PASSWORD).expect("hash the admin password");
    let now = weft_store::now();
    let admin = StoredPrincipal {
        id,
        kind: "member".into(),
        login: ADMIN_LOGIN.into(),
        display_name: "Test Administrator".into(),
        email: None,
        party: None,
        status: "active".into(),
        password_hash: Some(password_hash),
        password_changed_at: Some(now),
        totp_secret: None,
        totp_enabled: false,
        totp_last_step: None,
        failed_logins: 0,
        locked_until: None,
        locale: None,
        created_at: now,
        updated_at: now,
    };
    let stored_token = StoredToken {
        id: Uuid::now_v7(),
        principal: id,
        name: "test kit".into(),
        token_hash,
        roles: vec!["admin".into()],
        created_at: now,
        created_by: "system".into(),
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
    };
    workspace
        .database()
        .write(move |tx| {
            Box::pin(async move {
                principals::insert(tx, &admin).await?;
                access::set_holdings(tx, id, &["admin".to_owned()]).await?;
                sessions::insert_token(tx, &stored_token).await?;
                Ok::<_, weft_store::Error>(())
            })
        })
        .await
        .expect("bootstrap the administrator");
    workspace.reload_directory().await.expect("reload directory");
    (id, token)
}

/// `spawn_app_with` and sign-in settings (short lifetimes, a clock tests move forward).
pub async fn spawn_app_with_auth(backend: TestBackend, options: ServerOptions, auth: AuthSettings) -> TestApp {
    let db = TestDatabase::new(backend).await.expect("test database");
    let blobs = tempfile::tempdir().expect("blob folder");
    let limits = weft_workspace::collab::AttachmentLimits {
        max_file_bytes: options.max_upload_bytes as u64,
        ..weft_workspace::collab::AttachmentLimits::default()
    };
    let store = weft_workspace::collab::BlobStore::local(blobs.path(), limits).expect("blob store");
    let workspace = Workspace::connect(&db.store_options())
        .await
        .expect("connect")
        .with_auth_settings(auth)
        .with_blob_store(store)
        .with_search_index(weft_workspace::search::SearchIndex::in_memory().expect("search index"));
    workspace.migrate().await.expect("migrate");
    let (admin_id, admin_token) = bootstrap_admin(&workspace).await;
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
        client: bearer_client(&admin_token),
        anonymous: cookie_client(),
        admin_id,
        admin_token,
        workspace,
        shutdown: Some(tx),
        blobs,
        db,
    }
}
