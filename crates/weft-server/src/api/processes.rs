//! `/api/v1/processes` and `/api/v1/process-instances`: deploy BPMN definitions (as saved by
//! bpmn-js or Camunda Modeler), list their versions, start instances (bound to a record or
//! not), follow them, withdraw them; process metrics; and for administrators incidents and
//! business calendars. User tasks are in `tasks`.
//!
//! A deployment's body is the BPMN XML itself (`Content-Type: application/xml`), exactly
//! the file the modeler saved; what is not in the XML (the object type instances are bound
//! to, the transition that starts it, the variables it declares) comes as query
//! parameters. A refused definition is a 422 listing every problem, each with the element
//! to fix as its pointer.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use weft_model::ErrorCode;
use weft_workspace::processes::{
    DefinitionView, DeployProcess, DeployedProcess, IncidentView, InstanceView, MigrateInstances, MigrationOutcome,
    ProcessMetrics, StartProcess,
};

use super::actor::{Actor, Admin};
use super::decisions::XmlBody;
use super::me::parse_uuid;
use super::tasks::TaskBody;
use crate::json::MaybeJson;
use crate::{AppJson, AppQuery, AppState, Problem};

type Object = Map<String, Json>;

pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

// ── definitions ────────────────────────────────────────────────────────────────────────

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeployParams {
    /// The object type instances are bound to; its fields become variables.
    pub record_type: Option<String>,
    /// A lifecycle transition of `record_type` that starts an instance (`submit`).
    pub start_on: Option<String>,
    /// Further variables, comma-separated `name:type` (`amount:decimal,approvers:json`);
    /// types: text, integer, decimal, money, boolean, date, datetime, duration, json.
    pub variables: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeployedBody {
    pub id: Uuid,
    pub key: String,
    pub version: i64,
    pub name: String,
    pub record_type: Option<String>,
    pub deployed_at: String,
    pub deployed_by: String,
    /// True when this exact XML was deployed before and that version is returned.
    pub unchanged: bool,
}

impl From<DeployedProcess> for DeployedBody {
    fn from(d: DeployedProcess) -> Self {
        DeployedBody {
            id: d.id,
            key: d.key,
            version: d.version,
            name: d.name,
            record_type: d.record_type,
            deployed_at: rfc3339(d.deployed_at),
            deployed_by: d.deployed_by,
            unchanged: d.unchanged,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeployedList {
    pub items: Vec<DeployedBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DefinitionBody {
    pub id: Uuid,
    pub key: String,
    pub version: i64,
    pub name: String,
    pub record_type: Option<String>,
    pub start_on: Option<String>,
    /// Declared variables, name to type.
    pub variables: BTreeMap<String, String>,
    pub checksum: String,
    pub deployed_at: String,
    pub deployed_by: String,
    /// The BPMN XML (one version only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xml: Option<String>,
}

fn definition_body(d: DefinitionView, xml: Option<String>) -> DefinitionBody {
    DefinitionBody {
        id: d.id,
        key: d.key,
        version: d.version,
        name: d.name,
        record_type: d.record_type,
        start_on: d.start_on,
        variables: d.variables,
        checksum: d.checksum,
        deployed_at: rfc3339(d.deployed_at),
        deployed_by: d.deployed_by,
        xml,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DefinitionList {
    pub items: Vec<DefinitionBody>,
}

fn parse_variables(text: Option<&str>) -> Result<BTreeMap<String, String>, Problem> {
    let mut out = BTreeMap::new();
    let mut problem = Problem::new(ErrorCode::ValidationFailed).with_detail("the variables parameter is malformed");
    for item in text.unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item.split_once(':') {
            Some((name, ty)) if !name.trim().is_empty() && !ty.trim().is_empty() => {
                out.insert(name.trim().to_owned(), ty.trim().to_owned());
            }
            _ => problem = problem.with_error("/variables", format!("`{item}` is not `name:type`")),
        }
    }
    if problem.errors.is_empty() { Ok(out) } else { Err(problem) }
}

/// Deploys the executable processes of a BPMN document, each as the next version of its
/// key (the process `id`); the same XML again returns the version already stored.
#[utoipa::path(post, path = "/api/v1/processes", tag = "processes", params(DeployParams),
    request_body(content = String, content_type = "application/xml", description = "BPMN 2.0 XML as saved by bpmn-js or Camunda Modeler"),
    responses(
        (status = 201, body = DeployedList),
        (status = 200, description = "Nothing new: every process was deployed from this XML before", body = DeployedList),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not XML", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every problem of the definition; `pointer` names the element", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn deploy_process(
    State(state): State<AppState>,
    Admin(actor): Admin,
    AppQuery(params): AppQuery<DeployParams>,
    XmlBody(xml): XmlBody,
) -> Result<Response, Problem> {
    let input = DeployProcess {
        xml,
        record_type: params.record_type.filter(|t| !t.trim().is_empty()),
        start_on: params.start_on.filter(|t| !t.trim().is_empty()),
        variables: parse_variables(params.variables.as_deref())?,
    };
    let deployed = state.workspace.deploy_process(&actor, input).await?;
    let status = if deployed.iter().all(|d| d.unchanged) { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, AppJson(DeployedList { items: deployed.into_iter().map(Into::into).collect() })).into_response())
}

/// The newest version of every deployed process.
#[utoipa::path(get, path = "/api/v1/processes", tag = "processes",
    responses((status = 200, body = DefinitionList), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_processes(
    State(state): State<AppState>,
    Actor(actor): Actor,
) -> Result<AppJson<DefinitionList>, Problem> {
    let items = state.workspace.process_definitions(&actor, None).await?;
    Ok(AppJson(DefinitionList { items: items.into_iter().map(|d| definition_body(d, None)).collect() }))
}

/// Every version of one process, newest first.
#[utoipa::path(get, path = "/api/v1/processes/{key}/versions", tag = "processes",
    params(("key" = String, Path)),
    responses((status = 200, body = DefinitionList), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn process_versions(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(key): Path<String>,
) -> Result<AppJson<DefinitionList>, Problem> {
    let items = state.workspace.process_definitions(&actor, Some(&key)).await?;
    Ok(AppJson(DefinitionList { items: items.into_iter().map(|d| definition_body(d, None)).collect() }))
}

/// One version, with its BPMN XML.
#[utoipa::path(get, path = "/api/v1/processes/{key}/versions/{version}", tag = "processes",
    params(("key" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = DefinitionBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn process_version(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((key, version)): Path<(String, String)>,
) -> Result<AppJson<DefinitionBody>, Problem> {
    let version: i64 = version
        .parse()
        .map_err(|_| Problem::from(weft_workspace::Error::NotFound(format!("process `{key}` version {version}"))))?;
    let (definition, xml) = state.workspace.process_definition(&actor, &key, version).await?;
    Ok(AppJson(definition_body(definition, Some(xml))))
}

// ── instances ──────────────────────────────────────────────────────────────────────────

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordRef {
    #[serde(rename = "type")]
    pub type_name: String,
    pub id: Uuid,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// Process variables (FEEL values): declared by the deployment or fields of the bound
    /// type.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Object,
    /// The record the instance is bound to; its fields become variables and `record` holds
    /// it whole. The caller must be able to read it.
    pub record: Option<RecordRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordLink {
    #[serde(rename = "type")]
    pub type_name: String,
    pub id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenBody {
    pub element: String,
    /// `waiting`, `joining` or `incident`.
    pub state: String,
    pub entered_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentRef {
    pub id: String,
    pub element: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepBody {
    pub element: String,
    pub started_at: String,
    pub ended_at: String,
    pub duration_ms: i64,
    /// `completed` or `cancelled`.
    pub outcome: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceBody {
    pub id: Uuid,
    pub process_key: String,
    pub version: i64,
    /// `active`, `completed`, `cancelled` or `withdrawn`.
    pub status: String,
    pub record: Option<RecordLink>,
    pub parent_instance: Option<Uuid>,
    pub started_by: Option<Uuid>,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// False when the caller may see the instance but not its data.
    pub variables_visible: bool,
    #[schema(value_type = Object)]
    pub variables: Object,
    pub tokens: Vec<TokenBody>,
    pub incidents: Vec<IncidentRef>,
    /// The instance's user tasks (one instance only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<TaskBody>>,
    /// The steps finished so far, in order (one instance only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepBody>>,
}

pub(crate) fn instance_body(v: InstanceView) -> InstanceBody {
    InstanceBody {
        id: v.id,
        process_key: v.process_key,
        version: v.version,
        status: v.status,
        record: v.record_type.zip(v.record_id).map(|(type_name, id)| RecordLink { type_name, id }),
        parent_instance: v.parent_instance,
        started_by: v.started_by,
        started_at: rfc3339(v.started_at),
        ended_at: v.ended_at.map(rfc3339),
        variables_visible: v.variables_visible,
        variables: v.variables,
        tokens: v
            .tokens
            .into_iter()
            .map(|t| TokenBody { element: t.element, state: t.state, entered_at: rfc3339(t.entered_at) })
            .collect(),
        incidents: v.incidents.into_iter().map(|(id, element, message)| IncidentRef { id, element, message }).collect(),
        tasks: None,
        steps: None,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceList {
    pub items: Vec<InstanceBody>,
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let key = v.to_str().unwrap_or_default().trim();
            if key.is_empty() || key.len() > 255 {
                return Err(Problem::new(ErrorCode::BadRequest)
                    .with_detail("Idempotency-Key must be 1 to 255 visible characters"));
            }
            Ok(Some(key.to_owned()))
        }
    }
}

/// Starts an instance of the newest version of a process. Bound to a record, the caller
/// must be able to read it (404 otherwise, exactly as for a missing record); partner
/// contacts may start processes only on records of their own party. Send
/// `Idempotency-Key` to make retries safe.
#[utoipa::path(post, path = "/api/v1/processes/{key}/instances", tag = "processes",
    params(("key" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the instance the first request started")),
    request_body = StartRequest,
    responses(
        (status = 201, body = InstanceBody),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such process, or a record the caller may not read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every bad variable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn start_instance(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(key): Path<String>,
    headers: HeaderMap,
    MaybeJson(body): MaybeJson<StartRequest>,
) -> Result<Response, Problem> {
    let body = body.unwrap_or_default();
    let input = StartProcess {
        key: key.clone(),
        record: body.record.map(|r| (r.type_name, r.id)),
        variables: body.variables,
        idempotency_key: idempotency_key(&headers)?,
    };
    let view = state.workspace.start_process(&actor, input).await?;
    let location = format!("/api/v1/process-instances/{}", view.id);
    let mut response = (StatusCode::CREATED, AppJson(instance_body(view))).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(axum::http::header::LOCATION, location);
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MineParams {
    /// `active`, `completed`, `cancelled` or `withdrawn`.
    pub status: Option<String>,
}

/// 我发起的: the instances the caller started, newest first (at most 200).
#[utoipa::path(get, path = "/api/v1/process-instances/mine", tag = "processes", params(MineParams),
    responses((status = 200, body = InstanceList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn my_instances(
    State(state): State<AppState>,
    Actor(actor): Actor,
    params: AppQuery<MineParams>,
) -> Result<AppJson<InstanceList>, Problem> {
    let AppQuery(params) = params;
    let items = state.workspace.my_processes(&actor, params.status.as_deref()).await?;
    Ok(AppJson(InstanceList { items: items.into_iter().map(instance_body).collect() }))
}

/// One instance: where its tokens are, its variables (when the caller may see them), its
/// tasks and finished steps. The starter, administrators and whoever stands to one of its
/// tasks may look; anyone else gets 404.
#[utoipa::path(get, path = "/api/v1/process-instances/{id}", tag = "processes",
    params(("id" = String, Path)),
    responses((status = 200, body = InstanceBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_instance(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<InstanceBody>, Problem> {
    let id = parse_uuid("process instance", &id)?;
    let view = state.workspace.process_instance(&actor, id).await?;
    let visible = view.variables_visible;
    let tasks = state.workspace.process_tasks(&actor, id).await?;
    let steps = state.workspace.process_steps(&actor, id).await?;
    let mut body = instance_body(view);
    body.tasks = Some(
        tasks
            .into_iter()
            .map(|t| {
                let mut t = super::tasks::task_body(t);
                if !visible {
                    t.inputs = Object::new();
                    t.outcome = None;
                }
                t
            })
            .collect(),
    );
    body.steps = Some(
        steps
            .into_iter()
            .map(|(element, started, ended, outcome)| StepBody {
                element,
                started_at: rfc3339(started),
                ended_at: rfc3339(ended),
                duration_ms: i64::try_from((ended - started).whole_milliseconds()).unwrap_or(i64::MAX),
                outcome,
            })
            .collect(),
    );
    Ok(AppJson(body))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: Option<String>,
}

/// 撤回: the person who started the instance takes it back (administrators may too).
#[utoipa::path(post, path = "/api/v1/process-instances/{id}/withdraw", tag = "processes",
    params(("id" = String, Path)), request_body = ReasonRequest,
    responses(
        (status = 200, body = InstanceBody),
        (status = 403, description = "Someone else started it", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It has ended", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn withdraw_instance(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    MaybeJson(body): MaybeJson<ReasonRequest>,
) -> Result<AppJson<InstanceBody>, Problem> {
    let id = parse_uuid("process instance", &id)?;
    state.workspace.withdraw_process(&actor, id, body.unwrap_or_default().reason).await?;
    Ok(AppJson(instance_body(state.workspace.process_instance(&actor, id).await?)))
}

/// Cancels a running instance (administrators); its open tasks, timers and jobs end.
#[utoipa::path(post, path = "/api/v1/process-instances/{id}/cancel", tag = "processes",
    params(("id" = String, Path)), request_body = ReasonRequest,
    responses(
        (status = 200, body = InstanceBody),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel_instance(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    MaybeJson(body): MaybeJson<ReasonRequest>,
) -> Result<AppJson<InstanceBody>, Problem> {
    let id = parse_uuid("process instance", &id)?;
    if state.workspace.process_instance(&actor, id).await.is_err() {
        return Err(weft_workspace::Error::NotFound(format!("process instance {id}")).into());
    }
    state.workspace.cancel_process(&actor, id, body.unwrap_or_default().reason).await?;
    Ok(AppJson(instance_body(state.workspace.process_instance(&actor, id).await?)))
}

/// Which version to move instances to, and how their elements map.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrateRequest {
    /// A version of the same process.
    pub to_version: i64,
    /// Old element id → new element id; elements not named keep their id.
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
    /// Check only: say what would move, change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

impl From<MigrateRequest> for MigrateInstances {
    fn from(r: MigrateRequest) -> MigrateInstances {
        MigrateInstances { to_version: r.to_version, mapping: r.mapping, dry_run: r.dry_run }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MigrationProblemBody {
    /// The element of the running version concerned (empty: the instance as a whole).
    pub element: String,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MigrationBody {
    pub instance: Uuid,
    pub from_version: i64,
    pub to_version: i64,
    /// True when it moved (never on a dry run).
    pub migrated: bool,
    /// Elements it stood at that have another id in the new version: old → new.
    pub moved: BTreeMap<String, String>,
    /// Why it cannot move; empty when it can.
    pub problems: Vec<MigrationProblemBody>,
}

impl From<MigrationOutcome> for MigrationBody {
    fn from(o: MigrationOutcome) -> MigrationBody {
        MigrationBody {
            instance: o.instance,
            from_version: o.from_version,
            to_version: o.to_version,
            migrated: o.migrated,
            moved: o.moved,
            problems: o
                .problems
                .into_iter()
                .map(|p| MigrationProblemBody { element: p.element, reason: p.reason })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MigrationList {
    /// One entry per active instance of the version.
    pub items: Vec<MigrationBody>,
    /// How many moved (or, on a dry run, could move).
    pub ready: usize,
    /// How many cannot move as asked, with their problems.
    pub refused: usize,
}

/// Moves a running instance to another version of its process (administrators). Its open
/// tasks keep their ids, timers their due times; elements the new version renamed are
/// named in `mapping`. Every problem is listed (`errors[].pointer` = `/mapping/<element>`)
/// and nothing changes then. `dry_run` only checks.
#[utoipa::path(post, path = "/api/v1/process-instances/{id}/migrate", tag = "processes",
    params(("id" = String, Path)), request_body = MigrateRequest,
    responses(
        (status = 200, body = MigrationBody),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The instance has ended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "It cannot move as asked: every reason", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn migrate_instance(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    AppJson(body): AppJson<MigrateRequest>,
) -> Result<AppJson<MigrationBody>, Problem> {
    let id = parse_uuid("process instance", &id)?;
    Ok(AppJson(state.workspace.migrate_process_instance(&actor, id, body.into()).await?.into()))
}

/// Moves every active instance of one version to another (administrators), each on its
/// own: those that cannot move stay where they are and say why. `dry_run` only checks.
#[utoipa::path(post, path = "/api/v1/processes/{key}/versions/{version}/migrate", tag = "processes",
    params(("key" = String, Path), ("version" = i64, Path, description = "The version instances run now")),
    request_body = MigrateRequest,
    responses(
        (status = 200, body = MigrationList),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such target version", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn migrate_version(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((key, version)): Path<(String, String)>,
    AppJson(body): AppJson<MigrateRequest>,
) -> Result<AppJson<MigrationList>, Problem> {
    let version: i64 =
        version.parse().map_err(|_| weft_workspace::Error::NotFound(format!("process `{key}` version {version}")))?;
    let outcomes = state.workspace.migrate_process_instances(&actor, &key, version, body.into()).await?;
    let items: Vec<MigrationBody> = outcomes.into_iter().map(MigrationBody::from).collect();
    let refused = items.iter().filter(|i| !i.problems.is_empty()).count();
    Ok(AppJson(MigrationList { ready: items.len() - refused, refused, items }))
}

/// The process instances bound to a record the caller may read, oldest first (without
/// variables for partner contacts).
#[utoipa::path(get, path = "/api/v1/records/{type}/{id}/processes", tag = "processes",
    params(("type" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = InstanceList), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn record_processes(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
) -> Result<AppJson<InstanceList>, Problem> {
    let id = parse_uuid(&type_name, &id)?;
    let items = state.workspace.processes_of_record(&actor, &type_name, id).await?;
    Ok(AppJson(InstanceList { items: items.into_iter().map(instance_body).collect() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// The message name a catch event or receive task waits for.
    pub name: String,
    /// The correlation key's value (`= order_number` in the definition).
    pub correlation: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Object,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResult {
    /// `delivered` (to the waiting `instance`), `started` (a message start event started
    /// `instance`) or `buffered` (kept until an instance waits for it, 7 days).
    pub status: String,
    pub instance: Option<Uuid>,
    pub message: Option<Uuid>,
}

/// Publishes a message: to the instance waiting for it (name and correlation), else it
/// starts the process whose message start event has that name, else it is kept (members
/// and services).
#[utoipa::path(post, path = "/api/v1/process-messages", tag = "processes", request_body = MessageRequest,
    responses((status = 200, body = MessageResult), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn publish_message(
    State(state): State<AppState>,
    Actor(actor): Actor,
    AppJson(body): AppJson<MessageRequest>,
) -> Result<AppJson<MessageResult>, Problem> {
    if body.name.trim().is_empty() {
        return Err(Problem::new(ErrorCode::ValidationFailed).with_error("/name", "a message needs a name"));
    }
    let delivery = state
        .workspace
        .publish_process_message(&actor, &body.name, body.correlation.as_deref(), body.variables)
        .await?;
    Ok(AppJson(match delivery {
        weft_workspace::processes::Delivery::Delivered(instance) => {
            MessageResult { status: "delivered".into(), instance: Some(instance), message: None }
        }
        weft_workspace::processes::Delivery::Started(instance) => {
            MessageResult { status: "started".into(), instance: Some(instance), message: None }
        }
        weft_workspace::processes::Delivery::Buffered(id) => {
            MessageResult { status: "buffered".into(), instance: None, message: Some(id) }
        }
    }))
}

// ── metrics ────────────────────────────────────────────────────────────────────────────

#[derive(Debug, Serialize, ToSchema)]
pub struct StepMetricsBody {
    pub element: String,
    pub completed: u64,
    /// Ended early: interrupted, returned from, withdrawn, cancelled.
    pub cancelled: u64,
    pub average_ms: i64,
    pub p90_ms: i64,
    /// Tokens here now.
    pub live: u64,
    /// Open tasks here past their due date.
    pub overdue: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StuckInstance {
    pub id: Uuid,
    pub started_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsBody {
    pub key: String,
    /// Running instances.
    pub active: u64,
    pub steps: Vec<StepMetricsBody>,
    /// The running instances started longest ago, oldest first (at most 10).
    pub longest_running: Vec<StuckInstance>,
}

impl From<ProcessMetrics> for MetricsBody {
    fn from(m: ProcessMetrics) -> Self {
        MetricsBody {
            key: m.key,
            active: m.active,
            steps: m
                .steps
                .into_iter()
                .map(|s| StepMetricsBody {
                    element: s.element,
                    completed: s.completed,
                    cancelled: s.cancelled,
                    average_ms: s.average_ms,
                    p90_ms: s.p90_ms,
                    live: s.live,
                    overdue: s.overdue,
                })
                .collect(),
            longest_running: m
                .longest_running
                .into_iter()
                .map(|(id, started)| StuckInstance { id, started_at: rfc3339(started) })
                .collect(),
        }
    }
}

/// Per step of a process (all versions): finished count and durations (average, p90),
/// live and overdue work now; the instances running longest.
#[utoipa::path(get, path = "/api/v1/processes/{key}/metrics", tag = "processes",
    params(("key" = String, Path)),
    responses((status = 200, body = MetricsBody), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn process_metrics(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(key): Path<String>,
) -> Result<AppJson<MetricsBody>, Problem> {
    state.workspace.process_definitions(&actor, Some(&key)).await?;
    Ok(AppJson(state.workspace.process_metrics(&actor, &key).await?.into()))
}

// ── incidents ──────────────────────────────────────────────────────────────────────────

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentBody {
    /// The failed job; retry with its id.
    pub job: String,
    pub instance: Uuid,
    pub process_key: String,
    pub element: String,
    pub kind: String,
    pub attempts: i64,
    pub error: Option<String>,
    /// The instance's incident at that element, when its token is stuck there.
    pub incident: Option<String>,
}

impl From<IncidentView> for IncidentBody {
    fn from(i: IncidentView) -> Self {
        IncidentBody {
            job: i.job,
            instance: i.instance,
            process_key: i.process_key,
            element: i.element,
            kind: i.kind,
            attempts: i.attempts,
            error: i.error,
            incident: i.incident,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentList {
    pub items: Vec<IncidentBody>,
}

/// Jobs that failed for good (out of retries, or an error nothing caught).
#[utoipa::path(get, path = "/api/v1/admin/process-incidents", tag = "admin",
    responses((status = 200, body = IncidentList), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_incidents(
    State(state): State<AppState>,
    Admin(actor): Admin,
) -> Result<AppJson<IncidentList>, Problem> {
    let items = state.workspace.process_incidents(&actor).await?;
    Ok(AppJson(IncidentList { items: items.into_iter().map(Into::into).collect() }))
}

/// Retries a failed job once its cause is fixed: the stuck token goes through its element
/// again, or the job is queued again with fresh attempts.
#[utoipa::path(post, path = "/api/v1/admin/process-incidents/{job}/retry", tag = "admin",
    params(("job" = String, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn retry_incident(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(job): Path<String>,
) -> Result<StatusCode, Problem> {
    state.workspace.retry_process_job(&actor, &job).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ── business calendars ─────────────────────────────────────────────────────────────────

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<weft_workspace::processes::CalendarDef>,
}

/// Business calendars timers count working time in (`weft:calendar` on a timer).
#[utoipa::path(get, path = "/api/v1/admin/calendars", tag = "admin",
    responses((status = 200, body = CalendarList), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_calendars(
    State(state): State<AppState>,
    Actor(actor): Actor,
) -> Result<AppJson<CalendarList>, Problem> {
    Ok(AppJson(CalendarList { items: state.workspace.business_calendars(&actor).await? }))
}

/// One business calendar.
#[utoipa::path(get, path = "/api/v1/admin/calendars/{name}", tag = "admin", params(("name" = String, Path)),
    responses((status = 200, description = "The calendar declaration", body = Object),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_calendar(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
) -> Result<AppJson<weft_workspace::processes::CalendarDef>, Problem> {
    Ok(AppJson(state.workspace.business_calendar(&actor, &name).await?))
}

/// Creates or replaces a business calendar: working hours per weekday, holidays, adjusted
/// working days (调休), a fixed UTC offset.
#[utoipa::path(put, path = "/api/v1/admin/calendars/{name}", tag = "admin", params(("name" = String, Path)),
    request_body(content = Object, description = "`{name, offset, week, holidays?, working_days?}`"),
    responses((status = 200, body = Object),
              (status = 400, description = "The calendar is invalid", body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn put_calendar(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(name): Path<String>,
    AppJson(def): AppJson<weft_workspace::processes::CalendarDef>,
) -> Result<AppJson<weft_workspace::processes::CalendarDef>, Problem> {
    if def.name != name {
        return Err(Problem::new(ErrorCode::ValidationFailed)
            .with_error("/name", format!("the body names `{}`, the path `{name}`", def.name)));
    }
    Ok(AppJson(state.workspace.put_business_calendar(&actor, def).await?))
}

/// Removes a business calendar; timers naming it afterwards become incidents.
#[utoipa::path(delete, path = "/api/v1/admin/calendars/{name}", tag = "admin", params(("name" = String, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_calendar(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, Problem> {
    state.workspace.delete_business_calendar(&actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
