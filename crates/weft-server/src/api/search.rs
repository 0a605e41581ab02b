//! `GET /api/v1/search`: full-text search over records and messages, showing only what the
//! caller may read (the façade re-checks every hit with the read policy).

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use weft_workspace::search::{SearchPage, SearchQuery};

use super::actor::Actor;
use crate::{AppJson, AppQuery, AppState, Problem};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find, Chinese or English (1 to 200 characters); every word must match.
    pub q: Option<String>,
    /// `record` or `message`; both when absent.
    pub kind: Option<String>,
    /// Only records of this type and messages on them.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub type_name: Option<String>,
    /// 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Searches records (number, text fields, select labels, lines) and thread messages, best
/// match first, with a snippet whose query words are marked. Only what the caller may
/// read is returned, and no total is given. Changes are searchable within about a second.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams),
    responses(
        (status = 200, body = SearchPage),
        (status = 400, description = "A malformed query string", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long `q`, an unknown `kind`, `limit` out of range, a bad `cursor`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This node has no search index", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn search(
    State(state): State<AppState>,
    Actor(actor): Actor,
    AppQuery(p): AppQuery<SearchParams>,
) -> Result<AppJson<SearchPage>, Problem> {
    let query = SearchQuery {
        q: p.q.unwrap_or_default(),
        kind: p.kind,
        type_name: p.type_name,
        limit: p.limit,
        cursor: p.cursor,
    };
    let page = state.workspace.search(&actor, &query).await.map_err(|e| {
        // The façade names the bad input by pointer; over HTTP it is a query parameter.
        let mut problem = Problem::from(e);
        for error in &mut problem.errors {
            if let Some(name) = error.pointer.strip_prefix('/') {
                error.parameter = Some(name.to_owned());
                error.pointer.clear();
            }
        }
        problem
    })?;
    Ok(AppJson(page))
}
