//! `/api/v1/types`: declare, alter and read object types. The body is exactly what an
//! app manifest holds for a type.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use weft_model::Principal;
use weft_model::schema::ObjectTypeDecl;
use weft_workspace::{DeclareOptions, DeclarePlan, TypePermissions, Workspace};

use super::actor::{Actor, Admin};
use crate::{AppJson, AppQuery, AppState, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct TypeInfo {
    pub name: String,
    /// The app that declared it (`admin` for run-time declarations).
    pub app: String,
    pub revision: i64,
    /// Whether an administrator may change the declaration through this API: only types
    /// declared here (`app` is `admin`); a built-in app's types change with that app.
    pub editable: bool,
    pub declaration: ObjectTypeDecl,
    /// What the caller holds a grant for on this type: what a UI should offer. Every
    /// request is still checked on its own.
    pub permissions: TypePermissions,
}

fn type_info(
    workspace: &Workspace,
    actor: &Principal,
    declaration: ObjectTypeDecl,
    app: String,
    revision: i64,
) -> TypeInfo {
    // A type is in the catalog it was listed from; none granted if it just went away.
    let permissions = workspace.type_permissions(actor, &declaration.name).unwrap_or_default();
    let editable = app == weft_workspace::ADMIN_APP;
    TypeInfo { name: declaration.name.clone(), app, revision, editable, declaration, permissions }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TypeList {
    pub items: Vec<TypeInfo>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeclareParams {
    /// Return the plan (schema statements) without applying it.
    #[serde(default)]
    pub dry_run: bool,
    /// Apply a change that removes or narrows fields; old data is kept in backup columns.
    #[serde(default)]
    pub allow_destructive: bool,
}

fn options(params: &DeclareParams) -> DeclareOptions {
    DeclareOptions { app: "admin".into(), dry_run: params.dry_run, allow_destructive: params.allow_destructive }
}

/// Every declared object type, with what the caller may do on each.
#[utoipa::path(get, path = "/api/v1/types", tag = "types",
    responses((status = 200, body = TypeList)))]
pub async fn list_types(State(state): State<AppState>, Actor(actor): Actor) -> AppJson<TypeList> {
    let items = state
        .workspace
        .types()
        .into_iter()
        .map(|(declaration, app, revision)| type_info(&state.workspace, &actor, declaration, app, revision))
        .collect();
    AppJson(TypeList { items })
}

/// Declares a new object type (or, with the same body as a manifest, changes one).
#[utoipa::path(post, path = "/api/v1/types", tag = "types", params(DeclareParams), request_body = ObjectTypeDecl,
    responses(
        (status = 201, description = "Declared", body = DeclarePlan),
        (status = 200, description = "Dry run or unchanged", body = DeclarePlan),
        (status = 409, description = "Destructive change without allow_destructive, or a type of a built-in app", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every problem of the declaration", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn declare_type(
    State(state): State<AppState>,
    Admin(actor): Admin,
    AppQuery(params): AppQuery<DeclareParams>,
    AppJson(decl): AppJson<serde_json::Value>,
) -> Result<Response, Problem> {
    let plan = state.workspace.declare_type_json(&actor, &decl, &options(&params)).await?;
    let status = if plan.applied && plan.action == "create" { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, AppJson(plan)).into_response())
}

/// One type's declaration.
#[utoipa::path(get, path = "/api/v1/types/{name}", tag = "types",
    params(("name" = String, Path, description = "Type name")),
    responses((status = 200, body = TypeInfo), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_type(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
) -> Result<AppJson<TypeInfo>, Problem> {
    state
        .workspace
        .types()
        .into_iter()
        .find(|(d, _, _)| d.name == name)
        .map(|(declaration, app, revision)| AppJson(type_info(&state.workspace, &actor, declaration, app, revision)))
        .ok_or_else(|| weft_workspace::Error::NotFound(format!("type `{name}`")).into())
}

/// Changes a type. Adding fields and indexes applies; removing or narrowing needs
/// `allow_destructive`. Types of built-in apps (`editable: false`) are refused with 409.
#[utoipa::path(put, path = "/api/v1/types/{name}", tag = "types",
    params(("name" = String, Path, description = "Type name"), DeclareParams), request_body = ObjectTypeDecl,
    responses(
        (status = 200, body = DeclarePlan),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn alter_type(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(name): Path<String>,
    AppQuery(params): AppQuery<DeclareParams>,
    AppJson(decl): AppJson<serde_json::Value>,
) -> Result<AppJson<DeclarePlan>, Problem> {
    if decl.get("name").and_then(serde_json::Value::as_str) != Some(name.as_str()) {
        return Err(Problem::new(weft_model::ErrorCode::ValidationFailed)
            .with_error("/name", format!("must be `{name}`, the type in the path; types cannot be renamed")));
    }
    if state.workspace.type_decl(&name).is_none() {
        return Err(weft_workspace::Error::NotFound(format!("type `{name}`")).into());
    }
    Ok(AppJson(state.workspace.declare_type_json(&actor, &decl, &options(&params)).await?))
}
