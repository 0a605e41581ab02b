//! Weft's HTTP layer. Only this crate (and the binary) knows HTTP and JSON; it translates
//! requests into calls on the `Workspace` façade and errors into RFC 9457 problem+json.
//!
//! **API boundary:** `router` builds the whole application, `serve` runs it on a listener
//! the caller bound (tests bind port 0) until the shutdown future resolves, letting
//! in-flight requests finish.
#![forbid(unsafe_code)]
// `Problem` is the rejection type of extractors and lives only until it is rendered;
// boxing it would buy nothing on a path that ends in a response anyway.
#![allow(clippy::result_large_err)]

pub mod api;
mod body_limit;
mod health;
pub mod json;
mod openapi;
pub mod problem;
pub mod query;
mod request_context;
mod web;

use std::future::Future;
use std::path::PathBuf;

use axum::Router;
use axum::middleware;
use http::HeaderValue;
use http::header;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use weft_workspace::Workspace;

pub use json::AppJson;
pub use problem::{FieldError, Problem};
pub use query::AppQuery;

/// Settings of the HTTP layer (the binary maps its configuration onto these).
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// The largest file upload (`POST …/attachments`), which has its own limit.
    pub max_upload_bytes: usize,
    /// Folder with the built web UI (`web/dist`); a placeholder page is served when absent.
    pub web_dir: Option<PathBuf>,
    /// How often a live connection's session or token is checked again (a revoked one is
    /// closed within this time).
    pub live_recheck: std::time::Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_body_bytes: 2 * 1024 * 1024,
            max_upload_bytes: 25 * 1024 * 1024,
            web_dir: None,
            live_recheck: std::time::Duration::from_secs(15),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub workspace: Workspace,
    pub options: ServerOptions,
}

/// The API routes with their OpenAPI descriptions. Later modules add theirs here.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base_document())
        .routes(utoipa_axum::routes!(health::healthz))
        .routes(utoipa_axum::routes!(health::readyz))
        .merge(api::routes())
}

/// The OpenAPI 3.1 document, generated from the route and type annotations.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

/// Builds the whole application: API, health probes, OpenAPI document, web UI, and the
/// cross-cutting layers (request ids, tracing, body limit, panics as problems).
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// `router` plus `extra` routes, which get the same layers (request ids, limits, problem
/// errors). For embedders and tests; the extra routes are not in the OpenAPI document.
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let (routes, document) = api_routes().split_for_parts();
    let document = std::sync::Arc::new(document);
    let web = web::service(state.options.web_dir.as_deref());

    routes
        .merge(extra)
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let document = document.clone();
                async move { axum::Json(document.as_ref().clone()) }
            }),
        )
        .route("/api/{*rest}", axum::routing::any(problem::route_not_found))
        .route("/api", axum::routing::any(problem::route_not_found))
        .fallback_service(web)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(CatchPanicLayer::custom(problem::from_panic))
        .layer(middleware::from_fn(problem::plain_errors_as_problems))
        .layer(middleware::from_fn_with_state(
            (state.options.max_body_bytes, state.options.max_upload_bytes),
            body_limit::limit_body,
        ))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(TraceLayer::new_for_http().make_span_with(request_context::make_span))
        .layer(middleware::from_fn(request_context::assign_request_id))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves; requests already in flight then
/// run to completion before this returns. Handlers see the client's address (sign-in
/// throttling and the audit log use it).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Answers and live frames are small writes each awaited by the other side: Nagle's
    // algorithm would hold one back behind an unacknowledged other.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, finishing in-flight requests"),
        () = terminate => tracing::info!("SIGTERM received, finishing in-flight requests"),
    }
}
