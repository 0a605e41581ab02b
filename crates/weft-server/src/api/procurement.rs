//! `/api/v1/procurement`: what the procurement app's engines compute, beyond its records.

use axum::extract::{Path, State};
use uuid::Uuid;
use weft_workspace::apps::procurement::ScorecardView;

use super::actor::Actor;
use crate::{AppJson, AppState, Problem};

/// A supplier's scorecard, computed now from its receipts, QC reports, invoices and
/// confirmations of the last 12 months. Members who may read the supplier's profile see it;
/// a supplier's portal contact sees its own only when the profile says `share_score` (403
/// otherwise), and never another supplier's (404, like a missing one).
#[utoipa::path(get, path = "/api/v1/procurement/suppliers/{party}/scorecard", tag = "records",
    params(("party" = Uuid, Path, description = "The supplier party")),
    responses(
        (status = 200, body = ScorecardView),
        (status = 403, description = "A supplier contact whose scorecard is not shared", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn supplier_scorecard(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(party): Path<Uuid>,
) -> Result<AppJson<ScorecardView>, Problem> {
    Ok(AppJson(state.workspace.supplier_scorecard(&actor, party).await?))
}
