//! RFC 9457 problem details: the one error format of the HTTP API.
//!
//! Every error response, including the ones axum or tower would produce on their own
//! (unknown route, wrong method, oversized body, malformed JSON, a panic), is rendered here.
//! Internal details never reach the client: a 5xx says "internal error" and carries the
//! request id under which the cause was logged.

use std::any::Any;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;
use weft_model::ErrorCode;

use crate::request_context;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// One field that failed, addressed by JSON pointer (RFC 6901) into the request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer to the offending value, e.g. `/lines/0/qty`; empty for the whole body.
    pub pointer: String,
    /// Why the value was refused.
    pub reason: String,
    /// A stable machine code (`required`, `too_long`, `duplicate`…) where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The query parameter at fault, when the problem is in the query string rather than
    /// the body (`pointer` is then empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

/// An RFC 9457 problem document, with Weft's `code`, `request_id` and `errors` extensions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (stable per `code`).
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path that produced the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    pub code: ErrorCode,
    /// Quote this when reporting a problem: the server log holds the details under it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every field that failed, for validation and malformed-body problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// On 412: the record's current version, to re-read before retrying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// On 429: seconds to wait, sent as the `Retry-After` header.
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
}

impl Problem {
    pub fn new(code: ErrorCode) -> Self {
        Problem {
            type_uri: code.type_uri(),
            title: code.title().to_owned(),
            status: code.http_status(),
            detail: None,
            instance: None,
            code,
            request_id: None,
            errors: Vec::new(),
            current_version: None,
            retry_after_secs: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_error(mut self, pointer: impl Into<String>, reason: impl Into<String>) -> Self {
        self.errors.push(FieldError { pointer: pointer.into(), reason: reason.into(), code: None, parameter: None });
        self
    }

    /// A 500 whose cause is logged (once, here) and not sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Problem::new(ErrorCode::Internal)
            .with_detail("internal error; the server log has the details under this request id")
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(mut self) -> Response {
        if let Some(ctx) = request_context::current() {
            self.request_id.get_or_insert(ctx.request_id);
            self.instance.get_or_insert(ctx.path);
        }
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{\"status\":500}".to_vec());
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 9110: a 401 names the scheme it accepts. Browsers use the session cookie.
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"weft\""));
        }
        response
    }
}

pub(crate) async fn route_not_found(method: http::Method, uri: http::Uri) -> Problem {
    Problem::new(ErrorCode::RouteNotFound).with_detail(format!("no route for {method} {}", uri.path()))
}

pub(crate) async fn method_not_allowed(method: http::Method, uri: http::Uri) -> Problem {
    Problem::new(ErrorCode::MethodNotAllowed).with_detail(format!("{} does not accept {method}", uri.path()))
}

pub(crate) fn from_panic(payload: Box<dyn Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("panic");
    Problem::internal(&format_args!("handler panicked: {message}")).into_response()
}

/// The safety net under the API's own extractors: an error some layer or extractor
/// answered in `text/plain` (axum's path and header rejections, say) is re-rendered as a
/// problem, its text kept as the detail, so no client of `/api` ever has to parse prose.
pub(crate) async fn plain_errors_as_problems(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !api || !plain || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // 400 is shared by `malformed_json` (bodies, handled by `AppJson`) and `bad_request`.
    let Some(code) = ErrorCode::ALL
        .into_iter()
        .filter(|c| *c != ErrorCode::MalformedJson)
        .find(|c| c.http_status() == status.as_u16())
    else {
        return response;
    };
    if code == ErrorCode::Internal {
        return Problem::internal(&"a layer answered 500 in plain text").into_response();
    }
    let body = axum::body::to_bytes(response.into_body(), 16 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&body).trim().to_owned();
    let problem = Problem::new(code);
    if text.is_empty() { problem } else { problem.with_detail(text) }.into_response()
}
