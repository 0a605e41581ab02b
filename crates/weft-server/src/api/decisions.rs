//! `/api/v1/decisions`: deploy DMN models (as saved by dmn-js or Camunda Modeler), list
//! their versions, evaluate a decision with an explanation of the matched rules.

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::{IntoParams, ToSchema};
use weft_model::ErrorCode;
use weft_workspace::decisions::DeployedDecision;

use super::actor::{Actor, Admin};
use crate::{AppJson, AppQuery, AppState, Problem};

/// A DMN XML body (`application/xml` or `text/xml`, UTF-8).
pub struct XmlBody(pub String);

impl<S: Send + Sync> FromRequest<S> for XmlBody {
    type Rejection = Problem;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Problem> {
        let essence = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
            .unwrap_or_default();
        if !(essence == "application/xml" || essence == "text/xml" || essence.ends_with("+xml")) {
            return Err(Problem::new(ErrorCode::UnsupportedMediaType)
                .with_detail("send the DMN model as XML with `Content-Type: application/xml`"));
        }
        let bytes = crate::json::read_body(request).await?;
        String::from_utf8(bytes.to_vec())
            .map(XmlBody)
            .map_err(|_| Problem::new(ErrorCode::BadRequest).with_detail("the XML is not UTF-8"))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionList {
    pub items: Vec<DeployedDecision>,
}

/// Deploys a DMN model as the next version of its name (the `name` of `<definitions>`).
#[utoipa::path(post, path = "/api/v1/decisions", tag = "decisions",
    request_body(content = String, content_type = "application/xml", description = "DMN 1.2–1.5 XML"),
    responses(
        (status = 201, body = DeployedDecision),
        (status = 422, description = "Every problem of the model", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn deploy(
    State(state): State<AppState>,
    Admin(actor): Admin,
    XmlBody(xml): XmlBody,
) -> Result<Response, Problem> {
    let deployed = state.workspace.deploy_decision(&actor, xml).await?;
    Ok((StatusCode::CREATED, AppJson(deployed)).into_response())
}

/// Every deployed model version, newest first per name.
#[utoipa::path(get, path = "/api/v1/decisions", tag = "decisions", responses((status = 200, body = DecisionList)))]
pub async fn list(State(state): State<AppState>, Actor(actor): Actor) -> Result<AppJson<DecisionList>, Problem> {
    Ok(AppJson(DecisionList { items: state.workspace.decision_versions(&actor, None).await? }))
}

/// The versions of one model.
#[utoipa::path(get, path = "/api/v1/decisions/{name}/versions", tag = "decisions",
    params(("name" = String, Path)), responses((status = 200, body = DecisionList)))]
pub async fn versions(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
) -> Result<AppJson<DecisionList>, Problem> {
    let items = state.workspace.decision_versions(&actor, Some(&name)).await?;
    if items.is_empty() {
        return Err(weft_workspace::Error::NotFound(format!("decision model `{name}`")).into());
    }
    Ok(AppJson(DecisionList { items }))
}

/// One version (its decisions, their inputs and outputs).
#[utoipa::path(get, path = "/api/v1/decisions/{name}/versions/{version}", tag = "decisions",
    params(("name" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = DeployedDecision), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn version(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((name, version)): Path<(String, i64)>,
) -> Result<AppJson<DeployedDecision>, Problem> {
    Ok(AppJson(state.workspace.decision(&actor, &name, Some(version)).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    /// The decision (or decision service) to evaluate.
    pub decision: String,
    /// Input data by name: `{"amount": "12000", "category": "IT"}`.
    #[schema(value_type = Object)]
    pub input: Json,
    /// A specific version; the newest when absent.
    pub version: Option<i64>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvaluateParams {
    /// Include the rules that matched in each decision table.
    #[serde(default)]
    pub explain: bool,
}

/// Evaluates a decision. Numbers in the result are exact decimal strings.
#[utoipa::path(post, path = "/api/v1/decisions/{name}/evaluate", tag = "decisions",
    params(("name" = String, Path), EvaluateParams), request_body = EvaluateRequest,
    responses(
        (status = 200, description = "`{decision, value, model, version, explanation?}`", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The engine is busy or timed out", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn evaluate(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
    AppQuery(params): AppQuery<EvaluateParams>,
    AppJson(request): AppJson<EvaluateRequest>,
) -> Result<AppJson<Json>, Problem> {
    let result = state
        .workspace
        .evaluate_decision(&actor, &name, request.version, &request.decision, request.input, params.explain)
        .await?;
    Ok(AppJson(result))
}
