//! Out-of-office delegations over HTTP: `/api/v1/delegations` for one's own (given and
//! received), `/api/v1/admin/delegations` for every one, and
//! `/api/v1/org/principals/{id}/delegates` for processes routing the work of someone away.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use weft_workspace::delegation::{DelegationView, MyDelegations, NewDelegation, parse_day, today};

use super::actor::Actor;
use crate::{AppJson, AppQuery, AppState, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDelegation {
    /// Who is away; absent means the caller (only administrators name someone else).
    #[serde(default)]
    pub from: Option<Uuid>,
    /// Who acts for them: another active member.
    pub to: Uuid,
    /// First day, `YYYY-MM-DD` (UTC), inclusive.
    pub starts_on: String,
    /// Last day, `YYYY-MM-DD` (UTC), inclusive; not in the past.
    pub ends_on: String,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationList {
    pub items: Vec<DelegationView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AllParams {
    /// Only delegations in force on this day (`YYYY-MM-DD`).
    pub active_on: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DelegatesParams {
    /// The day (`YYYY-MM-DD`); today (UTC) when absent.
    pub on: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Delegates {
    pub principal: Uuid,
    pub on: String,
    /// Who may act for the principal that day.
    pub delegates: Vec<Uuid>,
}

/// The caller's delegations: given (they are away) and received (they act for someone).
#[utoipa::path(get, path = "/api/v1/delegations", tag = "delegations",
    responses((status = 200, body = MyDelegations)))]
pub async fn mine(State(state): State<AppState>, Actor(actor): Actor) -> Result<AppJson<MyDelegations>, Problem> {
    Ok(AppJson(state.workspace.my_delegations(&actor).await?))
}

/// Delegates one's tasks and approvals to another member for a range of days.
#[utoipa::path(post, path = "/api/v1/delegations", tag = "delegations", request_body = CreateDelegation,
    responses(
        (status = 201, body = DelegationView),
        (status = 400, description = "Malformed body, with a pointer", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's delegation without `admin`, or a guest", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Overlaps a delegation of the same days to someone else", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every bad field: dates, order, past, reason, delegate", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Actor(actor): Actor,
    AppJson(body): AppJson<CreateDelegation>,
) -> Result<Response, Problem> {
    let input = NewDelegation {
        from: body.from,
        to: body.to,
        starts_on: body.starts_on,
        ends_on: body.ends_on,
        reason: body.reason,
    };
    let created = state.workspace.create_delegation(&actor, input).await?;
    Ok((StatusCode::CREATED, AppJson(created)).into_response())
}

/// Revokes a delegation (the person who delegated, or an administrator). It stays listed
/// as revoked.
#[utoipa::path(post, path = "/api/v1/delegations/{id}/revoke", tag = "delegations", params(("id" = String, Path)),
    responses(
        (status = 200, body = DelegationView),
        (status = 403, description = "The delegate cannot revoke it", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Revoked already", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<DelegationView>, Problem> {
    let id =
        Uuid::parse_str(&id).map_err(|_| Problem::from(weft_workspace::Error::NotFound(format!("delegation {id}"))))?;
    Ok(AppJson(state.workspace.revoke_delegation(&actor, id).await?))
}

/// Every delegation (administrators).
#[utoipa::path(get, path = "/api/v1/admin/delegations", tag = "delegations", params(AllParams),
    responses(
        (status = 200, body = DelegationList),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`active_on` is not a date", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn all(
    State(state): State<AppState>,
    Actor(actor): Actor,
    params: AppQuery<AllParams>,
) -> Result<AppJson<DelegationList>, Problem> {
    let AppQuery(params) = params;
    Ok(AppJson(DelegationList { items: state.workspace.all_delegations(&actor, params.active_on.as_deref()).await? }))
}

/// Who may act for a principal on a day (administrators, processes).
#[utoipa::path(get, path = "/api/v1/org/principals/{id}/delegates", tag = "delegations",
    params(("id" = String, Path), DelegatesParams),
    responses(
        (status = 200, body = Delegates),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`on` is not a date", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delegates(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    params: AppQuery<DelegatesParams>,
) -> Result<AppJson<Delegates>, Problem> {
    state.workspace.require_admin(&actor)?;
    let AppQuery(params) = params;
    let id =
        Uuid::parse_str(&id).map_err(|_| Problem::from(weft_workspace::Error::NotFound(format!("principal {id}"))))?;
    let day = match params.on.as_deref() {
        Some(text) => parse_day("/on", text).map_err(|e| Problem::from(weft_workspace::Error::Validation(vec![e])))?,
        None => today(),
    };
    let delegates = state.workspace.delegates_of(id, day).await?;
    Ok(AppJson(Delegates { principal: id, on: weft_workspace::delegation::format_day(day), delegates }))
}
