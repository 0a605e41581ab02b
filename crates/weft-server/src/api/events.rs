//! `/api/v1/admin/consumers`: how far each outbox consumer has got.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use weft_workspace::consumers::ConsumerStatus;

use super::actor::Actor;
use crate::{AppJson, AppState, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsumersReport {
    /// The newest event's sequence number.
    pub head: i64,
    pub consumers: Vec<ConsumerStatus>,
}

/// Every consumer's offset and lag (administrators).
#[utoipa::path(get, path = "/api/v1/admin/consumers", tag = "admin",
    responses((status = 200, body = ConsumersReport), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn consumers(
    State(state): State<AppState>,
    Actor(actor): Actor,
) -> Result<AppJson<ConsumersReport>, Problem> {
    let (head, consumers) = state.workspace.consumer_status(&actor).await?;
    Ok(AppJson(ConsumersReport { head, consumers }))
}
