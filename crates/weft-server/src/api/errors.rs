//! Façade errors as problem documents.

use weft_model::ErrorCode;
use weft_workspace::Error;

use crate::Problem;
use crate::problem::FieldError;

impl From<Error> for Problem {
    fn from(err: Error) -> Problem {
        let code = err.code();
        match err {
            Error::Validation(errors) => {
                let mut p = Problem::new(code).with_detail(format!("{} field(s) failed validation", errors.len()));
                p.errors = errors
                    .into_iter()
                    .map(|e| FieldError {
                        pointer: e.pointer,
                        reason: e.reason,
                        code: Some(code_name(&e.code)),
                        parameter: None,
                    })
                    .collect();
                p
            }
            Error::Declaration(problems) => {
                let mut p =
                    Problem::new(code).with_detail(format!("the declaration has {} problem(s)", problems.len()));
                p.errors = problems
                    .into_iter()
                    .map(|d| FieldError { pointer: d.pointer, reason: d.reason, code: None, parameter: None })
                    .collect();
                p
            }
            Error::Unique { ref fields } => {
                let mut p = Problem::new(code).with_detail(err.to_string());
                p.errors = fields
                    .iter()
                    .map(|f| FieldError {
                        pointer: format!("/{f}"),
                        reason: "already taken".into(),
                        code: Some("duplicate".into()),
                        parameter: None,
                    })
                    .collect();
                p
            }
            Error::Stale { current } => {
                let mut p = Problem::new(code).with_detail(err.to_string());
                p.current_version = Some(current);
                p
            }
            Error::RateLimited { retry_after_secs, ref message } => {
                let mut p = Problem::new(code).with_detail(message.clone());
                p.retry_after_secs = Some(retry_after_secs);
                p
            }
            // The cause goes to the log under the request id, never to the client.
            Error::Internal(ref cause) => Problem::internal(cause),
            Error::Store(ref inner) if code == ErrorCode::Internal => Problem::internal(inner),
            other => Problem::new(code).with_detail(other.to_string()),
        }
    }
}

fn code_name(code: &weft_model::schema::FieldErrorCode) -> String {
    serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
