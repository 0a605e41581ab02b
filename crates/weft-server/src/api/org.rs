//! The org tree over HTTP.
//!
//! - `/api/v1/admin/org/…`: administrators change units and memberships.
//! - `/api/v1/org/units…`, `/api/v1/org/principals/{id}/units`: the org chart, for every
//!   member (not guests).
//! - `/api/v1/org/units/{id}/manager`, `/api/v1/org/principals/{id}/manager-chain`,
//!   `/api/v1/org/head`: the approver look-ups processes use (administrators and service
//!   accounts holding `admin`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use weft_model::ErrorCode;
use weft_workspace::org_admin::{NewUnit, PrincipalUnits, UnitDetail, UnitNode, UnitView};

use super::actor::{Actor, Admin};
use crate::{AppJson, AppQuery, AppState, Problem};

/// The most managers a chain look-up returns.
pub const MAX_CHAIN_LEVELS: usize = 20;

fn unit_id(id: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(id).map_err(|_| weft_workspace::Error::NotFound(format!("org unit {id}")).into())
}

fn principal_id(id: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(id).map_err(|_| weft_workspace::Error::NotFound(format!("principal {id}")).into())
}

/// `Some(value)` for a key that is present, even when it is `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A key that must be present but may be `null` (serde treats an absent `Option` as
/// `None` unless told otherwise).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUnit {
    pub name: String,
    /// Optional short code, unique in any case (`FIN`); letters, digits, `-`, `_`, `.`.
    #[serde(default)]
    pub code: Option<String>,
    /// The unit above; absent for a top-level unit.
    #[serde(default)]
    pub parent: Option<Uuid>,
    /// An active member.
    #[serde(default)]
    pub manager: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameUnit {
    #[serde(default)]
    pub name: Option<String>,
    /// A new code; `null` removes it; absent keeps it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub code: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveUnit {
    /// The new unit above; `null` makes it a top-level unit. Required.
    #[serde(deserialize_with = "nullable")]
    pub parent: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetManager {
    /// An active member; `null` clears the manager (the one above then manages in effect).
    /// Required.
    #[serde(deserialize_with = "nullable")]
    pub manager: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    pub principal: Uuid,
    /// Make this the member's primary unit (their first unit always is).
    #[serde(default)]
    pub primary: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPrimaryUnit {
    pub unit: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferMember {
    pub from: Uuid,
    pub to: Uuid,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TreeParams {
    /// Include archived units.
    #[serde(default)]
    pub include_archived: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitTree {
    /// Top-level units by name, each with the units below it.
    pub items: Vec<UnitNode>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitManager {
    pub unit: Uuid,
    /// The unit's manager, or the nearest one above; `null` when there is none.
    pub manager: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChainParams {
    /// How many managers to return at most (1–20, default 1).
    pub levels: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ManagerChain {
    pub principal: Uuid,
    pub levels: usize,
    /// Nearest first; never the principal, each person once.
    pub managers: Vec<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HeadParams {
    /// The unit's code or name (`FIN`, `Finance`).
    pub unit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeadOfUnit {
    /// The code or name asked for.
    pub unit: String,
    pub manager: Option<Uuid>,
}

/// Creates an org unit (administrators).
#[utoipa::path(post, path = "/api/v1/admin/org/units", tag = "org", request_body = CreateUnit,
    responses(
        (status = 201, body = UnitView),
        (status = 400, description = "Malformed body, with a pointer", body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code or sibling name taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every bad field (unknown or archived parent, manager not an active member)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_unit(
    State(state): State<AppState>,
    Admin(actor): Admin,
    AppJson(body): AppJson<CreateUnit>,
) -> Result<Response, Problem> {
    let input = NewUnit { name: body.name, code: body.code, parent: body.parent, manager: body.manager };
    let view = state.workspace.create_unit(&actor, input).await?;
    Ok((StatusCode::CREATED, AppJson(view)).into_response())
}

/// Renames a unit and/or changes its code (administrators).
#[utoipa::path(patch, path = "/api/v1/admin/org/units/{id}", tag = "org", params(("id" = String, Path)),
    request_body = RenameUnit,
    responses(
        (status = 200, body = UnitView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code or sibling name taken, or the unit is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rename_unit(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    AppJson(body): AppJson<RenameUnit>,
) -> Result<AppJson<UnitView>, Problem> {
    let id = unit_id(&id)?;
    Ok(AppJson(state.workspace.rename_unit(&actor, id, body.name, body.code).await?))
}

/// Moves a unit, with everything below it, under another unit or to the top (administrators).
#[utoipa::path(put, path = "/api/v1/admin/org/units/{id}/parent", tag = "org", params(("id" = String, Path)),
    request_body = MoveUnit,
    responses(
        (status = 200, body = UnitView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The move would make a cycle, or the unit is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or archived parent", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn move_unit(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    AppJson(body): AppJson<MoveUnit>,
) -> Result<AppJson<UnitView>, Problem> {
    let id = unit_id(&id)?;
    Ok(AppJson(state.workspace.move_unit(&actor, id, body.parent).await?))
}

/// Sets or clears a unit's manager (administrators).
#[utoipa::path(put, path = "/api/v1/admin/org/units/{id}/manager", tag = "org", params(("id" = String, Path)),
    request_body = SetManager,
    responses(
        (status = 200, body = UnitView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an active member", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_manager(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    AppJson(body): AppJson<SetManager>,
) -> Result<AppJson<UnitView>, Problem> {
    let id = unit_id(&id)?;
    Ok(AppJson(state.workspace.set_unit_manager(&actor, id, body.manager).await?))
}

/// Archives an empty unit: no active units below it, no members (administrators).
#[utoipa::path(post, path = "/api/v1/admin/org/units/{id}/archive", tag = "org", params(("id" = String, Path)),
    responses(
        (status = 200, body = UnitView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not empty, or archived already", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn archive_unit(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<UnitView>, Problem> {
    let id = unit_id(&id)?;
    Ok(AppJson(state.workspace.archive_unit(&actor, id).await?))
}

/// Makes an archived unit active again; the unit above must be active (administrators).
#[utoipa::path(post, path = "/api/v1/admin/org/units/{id}/restore", tag = "org", params(("id" = String, Path)),
    responses(
        (status = 200, body = UnitView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn restore_unit(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<UnitView>, Problem> {
    let id = unit_id(&id)?;
    Ok(AppJson(state.workspace.restore_unit(&actor, id).await?))
}

/// Adds a member to a unit; their first unit becomes their primary one (administrators).
#[utoipa::path(post, path = "/api/v1/admin/org/units/{id}/members", tag = "org", params(("id" = String, Path)),
    request_body = AddMember,
    responses(
        (status = 201, description = "The member's units after the change", body = PrincipalUnits),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member, or the unit is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a member principal, or disabled", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_member(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    AppJson(body): AppJson<AddMember>,
) -> Result<Response, Problem> {
    let id = unit_id(&id)?;
    let units = state.workspace.add_unit_member(&actor, id, body.principal, body.primary).await?;
    Ok((StatusCode::CREATED, AppJson(units)).into_response())
}

/// Removes a member from a unit; if it was their primary unit, their next unit by name
/// becomes primary (administrators).
#[utoipa::path(delete, path = "/api/v1/admin/org/units/{id}/members/{principal}", tag = "org",
    params(("id" = String, Path), ("principal" = String, Path)),
    responses(
        (status = 200, description = "The member's units after the change", body = PrincipalUnits),
        (status = 404, description = "No such unit, or not a member of it", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_member(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((id, principal)): Path<(String, String)>,
) -> Result<AppJson<PrincipalUnits>, Problem> {
    let (id, principal) = (unit_id(&id)?, principal_id(&principal)?);
    Ok(AppJson(state.workspace.remove_unit_member(&actor, id, principal).await?))
}

/// Makes one of a member's units their primary unit (administrators).
#[utoipa::path(put, path = "/api/v1/admin/org/principals/{id}/primary-unit", tag = "org",
    params(("id" = String, Path)), request_body = SetPrimaryUnit,
    responses(
        (status = 200, body = PrincipalUnits),
        (status = 422, description = "Not a member of that unit", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_primary_unit(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    AppJson(body): AppJson<SetPrimaryUnit>,
) -> Result<AppJson<PrincipalUnits>, Problem> {
    let id = principal_id(&id)?;
    Ok(AppJson(state.workspace.set_primary_unit(&actor, id, body.unit).await?))
}

/// Moves a member from one unit to another in one change; a primary membership stays
/// primary (administrators).
#[utoipa::path(post, path = "/api/v1/admin/org/principals/{id}/transfer", tag = "org",
    params(("id" = String, Path)), request_body = TransferMember,
    responses(
        (status = 200, body = PrincipalUnits),
        (status = 422, description = "Not in `from`, or `to` unknown or archived", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn transfer_member(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    AppJson(body): AppJson<TransferMember>,
) -> Result<AppJson<PrincipalUnits>, Problem> {
    let id = principal_id(&id)?;
    Ok(AppJson(state.workspace.transfer_unit_member(&actor, id, body.from, body.to).await?))
}

/// The org tree (members; not guests).
#[utoipa::path(get, path = "/api/v1/org/units", tag = "org", params(TreeParams),
    responses((status = 200, body = UnitTree), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn tree(
    State(state): State<AppState>,
    Actor(actor): Actor,
    params: AppQuery<TreeParams>,
) -> Result<AppJson<UnitTree>, Problem> {
    let AppQuery(params) = params;
    Ok(AppJson(UnitTree { items: state.workspace.org_tree(&actor, params.include_archived)? }))
}

/// One unit with its path, the units directly below it and its members.
#[utoipa::path(get, path = "/api/v1/org/units/{id}", tag = "org", params(("id" = String, Path)),
    responses((status = 200, body = UnitDetail), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn unit(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<UnitDetail>, Problem> {
    let id = unit_id(&id)?;
    Ok(AppJson(state.workspace.unit_detail(&actor, id).await?))
}

/// The units a principal belongs to, the primary one first.
#[utoipa::path(get, path = "/api/v1/org/principals/{id}/units", tag = "org", params(("id" = String, Path)),
    responses((status = 200, body = PrincipalUnits), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn principal_units(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<PrincipalUnits>, Problem> {
    let id = principal_id(&id)?;
    Ok(AppJson(state.workspace.principal_units(&actor, id)?))
}

/// Who manages a unit in effect: its manager, or the nearest one above (administrators,
/// processes).
#[utoipa::path(get, path = "/api/v1/org/units/{id}/manager", tag = "org", params(("id" = String, Path)),
    responses(
        (status = 200, body = UnitManager),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unit_manager(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<UnitManager>, Problem> {
    state.workspace.require_admin(&actor)?;
    let id = unit_id(&id)?;
    Ok(AppJson(UnitManager { unit: id, manager: state.workspace.manager_of_unit(id)? }))
}

/// Up to `levels` managers above a principal, nearest first, from their primary unit
/// (administrators, processes).
#[utoipa::path(get, path = "/api/v1/org/principals/{id}/manager-chain", tag = "org",
    params(("id" = String, Path), ChainParams),
    responses(
        (status = 200, body = ManagerChain),
        (status = 400, description = "`levels` out of 1–20", body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn manager_chain(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    params: AppQuery<ChainParams>,
) -> Result<AppJson<ManagerChain>, Problem> {
    state.workspace.require_admin(&actor)?;
    let AppQuery(params) = params;
    let levels = params.levels.unwrap_or(1);
    if !(1..=MAX_CHAIN_LEVELS).contains(&levels) {
        return Err(Problem::new(ErrorCode::BadRequest)
            .with_detail(format!("levels must be 1 to {MAX_CHAIN_LEVELS}, not {levels}")));
    }
    let id = principal_id(&id)?;
    Ok(AppJson(ManagerChain { principal: id, levels, managers: state.workspace.manager_chain(id, levels) }))
}

/// The head of a unit named by code or name: its manager, or the nearest one above
/// (administrators, processes). A name several units share is a 409 naming them.
#[utoipa::path(get, path = "/api/v1/org/head", tag = "org", params(HeadParams),
    responses(
        (status = 200, body = HeadOfUnit),
        (status = 400, description = "`unit` missing", body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No active unit with that code or name", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Several units have that name", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn head_of_unit(
    State(state): State<AppState>,
    Actor(actor): Actor,
    params: AppQuery<HeadParams>,
) -> Result<AppJson<HeadOfUnit>, Problem> {
    state.workspace.require_admin(&actor)?;
    let AppQuery(params) = params;
    let Some(unit) = params.unit.filter(|u| !u.trim().is_empty()) else {
        return Err(Problem::new(ErrorCode::BadRequest).with_detail("name the unit: ?unit=<code or name>"));
    };
    let manager = state.workspace.head_of_unit_named(&unit)?;
    Ok(AppJson(HeadOfUnit { unit, manager }))
}
