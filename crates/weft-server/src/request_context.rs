//! Request ids: taken from a sane incoming `x-request-id` (so a proxy's id follows the
//! request) or freshly made, echoed in the response, attached to the trace span, and
//! available to `Problem` without threading it through every handler.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use tracing::Span;

pub const HEADER: &str = "x-request-id";

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub path: String,
}

tokio::task_local! {
    static CURRENT: RequestContext;
}

pub fn current() -> Option<RequestContext> {
    CURRENT.try_with(Clone::clone).ok()
}

fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

pub async fn assign_request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    request.headers_mut().insert(HEADER, value.clone());
    let ctx = RequestContext { request_id: id, path: request.uri().path().to_owned() };
    let mut response = CURRENT.scope(ctx, next.run(request)).await;
    response.headers_mut().insert(HEADER, value);
    response
}

pub fn make_span(request: &http::Request<axum::body::Body>) -> Span {
    let id = request.headers().get(HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
}
