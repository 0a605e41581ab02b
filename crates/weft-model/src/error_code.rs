//! The one exhaustive list of error codes Weft returns. Every error that reaches a client
//! carries one of these (snake_case on the wire), and each maps to exactly one HTTP status.
//! Clients branch on the code, never on the human-readable text.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not valid JSON, or has the wrong shape for the endpoint.
    MalformedJson,
    /// The request is not understood (bad header, bad query string).
    BadRequest,
    /// The body was sent with a content type this endpoint does not accept.
    UnsupportedMediaType,
    /// One or more fields failed validation; `errors` lists every one.
    ValidationFailed,
    /// No session or token, or an expired one.
    Unauthenticated,
    /// The principal may see the resource but not do this to it.
    Forbidden,
    /// The resource does not exist, or the principal may not know it exists.
    NotFound,
    /// No such route.
    RouteNotFound,
    /// The route exists but not for this HTTP method.
    MethodNotAllowed,
    /// A unique value is already taken, or the change conflicts with current state.
    Conflict,
    /// `If-Match` named a version that is no longer current.
    PreconditionFailed,
    /// The body is larger than the configured limit.
    PayloadTooLarge,
    /// Too many requests; retry later.
    RateLimited,
    /// A dependency (the database) is not reachable or not ready.
    Unavailable,
    /// A bug or an unexpected failure; details are in the server log under the request id.
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 15] = [
        ErrorCode::MalformedJson,
        ErrorCode::BadRequest,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::ValidationFailed,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::RouteNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::PreconditionFailed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    /// The HTTP status this code is always answered with.
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::MalformedJson | ErrorCode::BadRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound | ErrorCode::RouteNotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PreconditionFailed => 412,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::ValidationFailed => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }

    /// The wire name, as serialised.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::RouteNotFound => "route_not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PreconditionFailed => "precondition_failed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// A short, stable title for the problem document.
    pub const fn title(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "Malformed JSON body",
            ErrorCode::BadRequest => "Bad request",
            ErrorCode::UnsupportedMediaType => "Unsupported media type",
            ErrorCode::ValidationFailed => "Validation failed",
            ErrorCode::Unauthenticated => "Authentication required",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::NotFound => "Not found",
            ErrorCode::RouteNotFound => "No such route",
            ErrorCode::MethodNotAllowed => "Method not allowed",
            ErrorCode::Conflict => "Conflict",
            ErrorCode::PreconditionFailed => "Precondition failed",
            ErrorCode::PayloadTooLarge => "Payload too large",
            ErrorCode::RateLimited => "Too many requests",
            ErrorCode::Unavailable => "Service unavailable",
            ErrorCode::Internal => "Internal error",
        }
    }

    /// The problem `type` URI: stable, and documented under that path of the server.
    pub fn type_uri(self) -> String {
        format!("/api/v1/problems/{}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str(), "{code:?}");
        }
    }

    #[test]
    fn every_code_is_an_error_status() {
        for code in ErrorCode::ALL {
            let s = code.http_status();
            assert!((400..600).contains(&s), "{code:?} -> {s}");
        }
    }
}
