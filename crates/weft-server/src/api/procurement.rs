//! `/api/v1/procurement`: what the procurement app's engines compute, beyond its records.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use weft_workspace::apps::procurement::{OrderFromRequisition, ScorecardView};

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

/// Turns an approved purchase requisition into a draft purchase order for a supplier: the
/// chosen lines (all by default) with their quantities, priced from the requisition's
/// estimate or the item's last or standard price, the supplier's currency and payment days
/// from its profile. The first order moves the requisition to `ordered`; later ones (the
/// requisition split across suppliers) may still name it. The caller needs to read the
/// requisition (404 otherwise) and create orders (403).
#[utoipa::path(post, path = "/api/v1/procurement/requisitions/{id}/order", tag = "records",
    params(("id" = Uuid, Path, description = "The purchase requisition")),
    request_body = OrderFromRequisition,
    responses(
        (status = 201, description = "The draft purchase order", body = Object),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The requisition is not approved", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No supplier, a line that does not exist, no category", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn order_from_requisition(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<Uuid>,
    AppJson(choice): AppJson<OrderFromRequisition>,
) -> Result<Response, Problem> {
    let order = state.workspace.order_from_requisition(&actor, id, choice).await?;
    let mut response = (StatusCode::CREATED, AppJson(order.to_json())).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/records/purchase_order/{}", order.system.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response.headers_mut().insert(header::ETAG, super::records::etag(order.system.version));
    Ok(response)
}
