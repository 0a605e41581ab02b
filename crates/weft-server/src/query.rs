//! `AppQuery`: the query-string extractor of every endpoint. axum's own `Query` answers a
//! bad parameter with a `text/plain` 400; this one answers with a problem naming the
//! parameter (`errors[].parameter`) and why it was refused.

use axum::extract::FromRequestParts;
use http::request::Parts;
use serde::de::DeserializeOwned;
use weft_model::ErrorCode;

use crate::Problem;
use crate::problem::FieldError;

#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        parse(parts.uri.query().unwrap_or_default()).map(AppQuery)
    }
}

/// Parses a query string into `T`, naming the parameter that failed.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, Problem> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let parameter = err.path().iter().next().and_then(|segment| match segment {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            _ => None,
        });
        let reason = err.into_inner().to_string();
        // serde names a missing parameter in its message and not in the path.
        let parameter = parameter.or_else(|| missing_field(&reason));
        let detail = match &parameter {
            Some(name) => format!("query parameter `{name}`: {reason}"),
            None => format!("bad query string: {reason}"),
        };
        let mut problem = Problem::new(ErrorCode::BadRequest).with_detail(detail);
        problem.errors.push(FieldError { pointer: String::new(), reason, code: None, parameter });
        problem
    })
}

fn missing_field(reason: &str) -> Option<String> {
    let rest = reason.strip_prefix("missing field `")?;
    Some(rest[..rest.find('`')?].to_owned())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Params {
        limit: Option<u32>,
        #[serde(default)]
        flag: bool,
        q: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Required {
        at: String,
    }

    #[test]
    fn good_values_parse() {
        let p: Params = parse("limit=5&flag=true&q=%E4%BA%A4%E8%B4%A7").unwrap();
        assert_eq!((p.limit, p.flag, p.q.as_deref()), (Some(5), true, Some("交货")));
        let p: Params = parse("").unwrap();
        assert_eq!((p.limit, p.flag), (None, false));
    }

    #[test]
    fn a_bad_value_names_its_parameter() {
        let problem = parse::<Params>("q=x&limit=ten").unwrap_err();
        assert_eq!(problem.status, 400);
        assert_eq!(problem.errors[0].parameter.as_deref(), Some("limit"));
        assert!(problem.detail.unwrap().starts_with("query parameter `limit`:"));
        let problem = parse::<Params>("flag=maybe").unwrap_err();
        assert_eq!(problem.errors[0].parameter.as_deref(), Some("flag"));
    }

    #[test]
    fn a_missing_parameter_is_named() {
        let problem = parse::<Required>("other=1").unwrap_err();
        assert_eq!(problem.errors[0].parameter.as_deref(), Some("at"));
    }
}
