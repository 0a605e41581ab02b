//! The request size limit. A declared `Content-Length` over the limit is refused before the
//! body is read; a body that turns out longer while streaming is cut off by `Limited`, and
//! the extractor reading it reports 413.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header;
use weft_model::ErrorCode;

use crate::Problem;

/// The configured limit, left in the request extensions for the extractors' messages.
#[derive(Debug, Clone, Copy)]
pub struct Limit(pub usize);

/// `limits` is (every request, file uploads): a `POST` to an `…/attachments` collection
/// carries a file and gets the upload limit, as does the public supplier application (its
/// licences and certificates).
pub async fn limit_body(State(limits): State<(usize, usize)>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let upload = request.method() == http::Method::POST
        && (path.ends_with("/attachments") || path == "/api/v1/public/supplier-applications");
    let limit = if upload { limits.1 } else { limits.0 };
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return too_large(limit).into_response();
    }
    request.extensions_mut().insert(Limit(limit));
    let (parts, body) = request.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}

pub fn too_large(limit: usize) -> Problem {
    Problem::new(ErrorCode::PayloadTooLarge).with_detail(format!("request body exceeds the limit of {limit} bytes"))
}

/// Whether a body-read error was the size limit tripping.
pub fn is_length_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}
