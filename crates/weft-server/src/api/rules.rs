//! `/api/v1/admin/rules`: automation rules as whole documents, for admins.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use weft_workspace::rules::{RuleDef, RuleView};

use super::actor::{Actor, Admin};
use crate::{AppJson, AppState, Problem};

/// Every automation rule.
#[utoipa::path(get, path = "/api/v1/admin/rules", tag = "admin",
    responses((status = 200, body = Vec<RuleView>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_rules(State(state): State<AppState>, Actor(actor): Actor) -> Result<AppJson<Vec<RuleView>>, Problem> {
    Ok(AppJson(state.workspace.rules(&actor).await?))
}

/// Creates or replaces a rule: when a record of `type` is created, updated or moved (`on`)
/// and `condition` holds, the actions (`set`, `decide`, `transition`, `alert`) run as one
/// change of the record by the system. The document's `name` must match the path. Refused
/// with every problem and its place (unknown type, event, field, transition, role or
/// decision model; FEEL that is not strict).
#[utoipa::path(put, path = "/api/v1/admin/rules/{name}", tag = "admin",
    params(("name" = String, Path)),
    request_body = RuleDef,
    responses((status = 200, body = RuleView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_rule(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(name): Path<String>,
    AppJson(rule): AppJson<RuleDef>,
) -> Result<AppJson<RuleView>, Problem> {
    if rule.name != name {
        return Err(weft_workspace::Error::Validation(vec![weft_model::schema::FieldError {
            pointer: "/name".into(),
            code: weft_model::schema::FieldErrorCode::InvalidFormat,
            reason: format!("the document names `{}` but the path names `{name}`", rule.name),
        }])
        .into());
    }
    Ok(AppJson(state.workspace.put_rule(&actor, rule).await?))
}

/// Deletes a rule.
#[utoipa::path(delete, path = "/api/v1/admin/rules/{name}", tag = "admin",
    params(("name" = String, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_rule(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, Problem> {
    state.workspace.delete_rule(&actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
