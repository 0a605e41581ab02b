//! `AppJson`: the JSON extractor and response of every endpoint. Its rejections are
//! problems: wrong content type → 415, body over the limit → 413, bad syntax or a value
//! of the wrong shape → 400 `malformed_json` with a JSON pointer to where it went wrong.

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::header;
use serde::Serialize;
use serde::de::DeserializeOwned;
use weft_model::ErrorCode;

use crate::Problem;
use crate::body_limit;

#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Problem> {
        if !is_json(request.headers()) {
            return Err(Problem::new(ErrorCode::UnsupportedMediaType)
                .with_detail("send the body as JSON with `Content-Type: application/json`"));
        }
        let bytes = read_body(request).await?;
        parse(&bytes).map(AppJson)
    }
}

/// A JSON body that may be absent (an empty body is `None`), such as a transition's
/// optional inputs.
#[derive(Debug, Clone, Default)]
pub struct MaybeJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for MaybeJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Problem> {
        let has_type = request.headers().contains_key(header::CONTENT_TYPE);
        let json = is_json(request.headers());
        let bytes = read_body(request).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(MaybeJson(None));
        }
        if has_type && !json {
            return Err(Problem::new(ErrorCode::UnsupportedMediaType)
                .with_detail("send the body as JSON with `Content-Type: application/json`"));
        }
        parse(&bytes).map(|v| MaybeJson(Some(v)))
    }
}

pub(crate) async fn read_body(request: Request) -> Result<bytes::Bytes, Problem> {
    let limit = request.extensions().get::<body_limit::Limit>().map(|l| l.0);
    match axum::body::to_bytes(request.into_body(), usize::MAX).await {
        Ok(bytes) => Ok(bytes),
        Err(e) if body_limit::is_length_limit(&e) => Err(body_limit::too_large(limit.unwrap_or(0))),
        Err(e) => Err(Problem::new(ErrorCode::BadRequest).with_detail(format!("could not read the request body: {e}"))),
    }
}

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
            Err(e) => Problem::internal(&e).into_response(),
        }
    }
}

fn is_json(headers: &http::HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON body into `T`, reporting where it failed as a JSON pointer.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let (pointer, inner) = match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => match de.end() {
            Ok(()) => return Ok(value),
            Err(e) => (String::new(), e),
        },
        Err(err) => (pointer(err.path()), err.into_inner()),
    };
    let reason = match inner.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!(
                "invalid JSON at line {} column {}: {}",
                inner.line(),
                inner.column(),
                strip_position(&inner.to_string())
            )
        }
        serde_json::error::Category::Data | serde_json::error::Category::Io => strip_position(&inner.to_string()),
    };
    Err(Problem::new(ErrorCode::MalformedJson)
        .with_detail(if pointer.is_empty() { reason.clone() } else { format!("{pointer}: {reason}") })
        .with_error(pointer, reason))
}

/// serde_json appends " at line L column C"; the problem says that once, in its own words.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// RFC 6901 pointer for a serde path (`/lines/0/qty`).
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => out.push('?'),
        }
    }
    if out == "/?" { String::new() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Order {
        name: String,
        lines: Vec<Line>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Line {
        qty: u32,
    }

    fn problem(body: &str) -> Problem {
        parse::<Order>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn wrong_type_points_at_the_field() {
        let p = problem(r#"{"name":"x","lines":[{"qty":1},{"qty":"many"}]}"#);
        assert_eq!(p.code, ErrorCode::MalformedJson);
        assert_eq!(p.errors[0].pointer, "/lines/1/qty");
        assert!(p.errors[0].reason.contains("invalid type"), "{:?}", p.errors);
    }

    #[test]
    fn syntax_error_gives_line_and_column() {
        let p = problem("{\"name\": \"x\",\n \"lines\": [ }");
        assert_eq!(p.status, 400);
        assert!(p.errors[0].reason.contains("line 2"), "{:?}", p.errors);
        assert_eq!(p.errors[0].pointer, "/lines/0");
    }

    #[test]
    fn missing_field_and_trailing_garbage() {
        let p = problem(r#"{"lines":[]}"#);
        assert!(p.errors[0].reason.contains("missing field `name`"), "{:?}", p.errors);
        let p = problem(r#"{"name":"x","lines":[]} extra"#);
        assert!(p.errors[0].reason.contains("trailing characters"), "{:?}", p.errors);
        let p = problem("");
        assert!(p.errors[0].reason.contains("EOF"), "{:?}", p.errors);
    }

    #[test]
    fn pointer_escapes_per_rfc6901() {
        let p = parse::<std::collections::HashMap<String, u8>>(br#"{"a/b~c": "x"}"#).unwrap_err();
        assert_eq!(p.errors[0].pointer, "/a~1b~0c");
    }
}
