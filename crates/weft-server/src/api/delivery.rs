//! Delivery outward over HTTP: one's own e-mail settings (`/api/v1/me/delivery`), the IM
//! robots administrators attach to channels and object types (`/api/v1/admin/robots`; the
//! secret and the webhook's key are never shown back), and the dead letters they list and
//! replay (`/api/v1/admin/dead-letters`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use weft_model::ErrorCode;
use weft_workspace::collab::delivery::{
    DeadLetterView, DeliverySettings, DeliverySettingsInput, NewRobot, RobotPatch, RobotView,
};

use super::actor::{Actor, Admin};
use crate::{AppJson, AppQuery, AppState, Problem};

fn parse(what: &str, id: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(id).map_err(|_| weft_workspace::Error::NotFound(format!("{what} {id}")).into())
}

/// One's e-mail settings: per inbox kind immediate, digest or off, and the digest interval.
#[utoipa::path(get, path = "/api/v1/me/delivery", tag = "delivery", responses((status = 200, body = DeliverySettings)))]
pub async fn my_settings(
    State(state): State<AppState>,
    Actor(actor): Actor,
) -> Result<AppJson<DeliverySettings>, Problem> {
    Ok(AppJson(state.workspace.delivery_settings(&actor).await?))
}

/// Changes one's e-mail settings; what is left out stays.
#[utoipa::path(put, path = "/api/v1/me/delivery", tag = "delivery", request_body = DeliverySettingsInput,
    responses((status = 200, body = DeliverySettings), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_my_settings(
    State(state): State<AppState>,
    Actor(actor): Actor,
    AppJson(body): AppJson<DeliverySettingsInput>,
) -> Result<AppJson<DeliverySettings>, Problem> {
    Ok(AppJson(state.workspace.put_delivery_settings(&actor, body).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RobotList {
    pub items: Vec<RobotView>,
}

/// IM robots and what feeds them.
#[utoipa::path(get, path = "/api/v1/admin/robots", tag = "admin",
    responses((status = 200, body = RobotList), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_robots(State(state): State<AppState>, Admin(actor): Admin) -> Result<AppJson<RobotList>, Problem> {
    Ok(AppJson(RobotList { items: state.workspace.delivery_robots(&actor).await? }))
}

/// Every channel, whoever belongs to it: what a robot can be attached to.
#[utoipa::path(get, path = "/api/v1/admin/channels", tag = "admin",
    responses((status = 200, body = Vec<weft_workspace::collab::ChannelView>),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn all_channels(
    State(state): State<AppState>,
    Admin(actor): Admin,
) -> Result<AppJson<Vec<weft_workspace::collab::ChannelView>>, Problem> {
    Ok(AppJson(state.workspace.all_channels(&actor).await?))
}

/// Attaches a robot (WeCom, DingTalk, Feishu, Slack) to a channel or an object type.
#[utoipa::path(post, path = "/api/v1/admin/robots", tag = "admin", request_body = NewRobot,
    responses((status = 201, body = RobotView), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_robot(
    State(state): State<AppState>,
    Admin(actor): Admin,
    AppJson(body): AppJson<NewRobot>,
) -> Result<(StatusCode, AppJson<RobotView>), Problem> {
    Ok((StatusCode::CREATED, AppJson(state.workspace.create_delivery_robot(&actor, body).await?)))
}

#[utoipa::path(get, path = "/api/v1/admin/robots/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = RobotView), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_robot(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
) -> Result<AppJson<RobotView>, Problem> {
    let id = parse("robot", &id)?;
    Ok(AppJson(state.workspace.delivery_robot(&actor, id).await?))
}

/// Changes a robot: its name, webhook, secret (`null` removes it), events, language, or
/// whether internal messages reach it. Its kind and its channel or type stay.
#[utoipa::path(patch, path = "/api/v1/admin/robots/{id}", tag = "admin", params(("id" = String, Path)), request_body = RobotPatch,
    responses((status = 200, body = RobotView), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_robot(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    AppJson(body): AppJson<RobotPatch>,
) -> Result<AppJson<RobotView>, Problem> {
    let id = parse("robot", &id)?;
    Ok(AppJson(state.workspace.update_delivery_robot(&actor, id, body).await?))
}

/// Detaches a robot; cards still queued for it are dropped.
#[utoipa::path(delete, path = "/api/v1/admin/robots/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_robot(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let id = parse("robot", &id)?;
    state.workspace.delete_delivery_robot(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterParams {
    /// 1 to 500 (default 100).
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterList {
    pub items: Vec<DeadLetterView>,
}

/// E-mails and robot cards that failed for good, most recent first.
#[utoipa::path(get, path = "/api/v1/admin/dead-letters", tag = "admin", params(DeadLetterParams),
    responses((status = 200, body = DeadLetterList), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_dead_letters(
    State(state): State<AppState>,
    Admin(actor): Admin,
    params: AppQuery<DeadLetterParams>,
) -> Result<AppJson<DeadLetterList>, Problem> {
    let AppQuery(params) = params;
    let limit = params.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(Problem::new(ErrorCode::BadRequest).with_detail("limit must be 1 to 500"));
    }
    Ok(AppJson(DeadLetterList { items: state.workspace.dead_letters(&actor, limit).await? }))
}

/// Queues a dead letter again with fresh attempts, once its cause is fixed.
#[utoipa::path(post, path = "/api/v1/admin/dead-letters/{id}/replay", tag = "admin", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn replay_dead_letter(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let id = parse("dead letter", &id)?;
    state.workspace.replay_dead_letter(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
