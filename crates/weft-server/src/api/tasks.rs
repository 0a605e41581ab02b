//! `/api/v1/tasks`: user tasks of processes. "My tasks" is the caller's inbox (assigned,
//! claimable as a candidate through a role or unit, and those of people the caller stands
//! in for today); each operation (claim, complete with the task's form, approve, reject,
//! transfer, delegate, return to an earlier step, add an approver) checks that the caller may act on that
//! task and is audited by the façade.
//!
//! Who may act: the task's holder (or whoever it was delegated from), a delegate of the
//! holder while an absence delegation is in force, a candidate while nobody holds it, and
//! administrators. Someone who may know the task exists (the instance's starter, a
//! candidate of a task someone else holds) gets 403; anyone else 404, exactly as for a task
//! that does not exist. A task's `ETag` changes whenever its status or holder does; an
//! operation sent with `If-Match` on an older tag is refused with 412.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_model::{ErrorCode, Principal};
use weft_workspace::processes::TaskView;

use super::actor::Actor;
use super::processes::{RecordLink, rfc3339};
use crate::json::MaybeJson;
use crate::{AppJson, AppState, Problem};

type Object = Map<String, Json>;

#[derive(Debug, Serialize, ToSchema)]
pub struct FormFieldBody {
    pub name: String,
    /// `text`, `integer`, `decimal`, `boolean`, `date` or `json`.
    #[serde(rename = "type")]
    pub field_type: String,
    pub required: bool,
    pub options: Vec<String>,
    /// The field's label (`weft:field label`), and its Chinese one (`labelZh`).
    pub label: Option<String>,
    pub label_zh: Option<String>,
    /// What each option is shown as, in `options`' order (`optionLabels`), and in Chinese
    /// (`optionLabelsZh`); empty when the form names none.
    pub option_labels: Vec<String>,
    pub option_labels_zh: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskBody {
    pub id: String,
    pub instance: Uuid,
    /// The BPMN element (`manager_approve`).
    pub element: String,
    pub name: Option<String>,
    /// `open`, `completed` or `cancelled`.
    pub status: String,
    pub assignee: Option<Uuid>,
    /// Whom the holder stands in for (out-of-office or an explicit delegation).
    pub delegated_from: Option<Uuid>,
    pub candidate_principals: Vec<Uuid>,
    pub candidate_roles: Vec<String>,
    pub candidate_units: Vec<Uuid>,
    pub due_at: Option<String>,
    pub created_at: String,
    pub ended_at: Option<String>,
    pub ended_by: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<Json>,
    /// The task's inputs (its input mappings, the current iteration's variables).
    #[schema(value_type = Object)]
    pub inputs: Object,
    pub record: Option<RecordLink>,
    /// What `complete` must send (one task only).
    pub form: Vec<FormFieldBody>,
    /// Approvers added after the holder (加签), asked in this order once the holder
    /// approves (one open task only).
    pub approvers_after: Vec<Uuid>,
    /// The task's current ETag, for `If-Match`.
    pub etag: String,
}

pub(crate) fn task_body(t: TaskView) -> TaskBody {
    let etag = t.etag();
    TaskBody {
        id: t.id,
        instance: t.instance,
        element: t.element,
        name: t.name,
        status: t.status,
        assignee: t.assignee,
        delegated_from: t.delegated_from,
        candidate_principals: t.candidate_principals,
        candidate_roles: t.candidate_roles,
        candidate_units: t.candidate_units,
        due_at: t.due_at.map(rfc3339),
        created_at: rfc3339(t.created_at),
        ended_at: t.ended_at.map(rfc3339),
        ended_by: t.ended_by,
        outcome: t.outcome,
        inputs: t.inputs,
        record: t.record_type.zip(t.record_id).map(|(type_name, id)| RecordLink { type_name, id }),
        form: t
            .form
            .into_iter()
            .map(|f| FormFieldBody {
                name: f.name,
                field_type: f.field_type,
                required: f.required,
                options: f.options,
                label: f.label,
                label_zh: f.label_zh,
                option_labels: f.option_labels,
                option_labels_zh: f.option_labels_zh,
            })
            .collect(),
        approvers_after: t.approvers_after,
        etag,
    }
}

fn etag_header(tag: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{tag}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

fn with_etag(task: TaskView, status: StatusCode) -> Response {
    let tag = task.etag();
    let mut response = (status, AppJson(task_body(task))).into_response();
    response.headers_mut().insert(header::ETAG, etag_header(&tag));
    response
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskList {
    pub items: Vec<TaskBody>,
}

/// The caller's open tasks, oldest first: assigned to them, claimable through their roles
/// and units, and those of people they stand in for today.
#[utoipa::path(get, path = "/api/v1/tasks/mine", tag = "tasks",
    responses((status = 200, body = TaskList), (status = 403, description = "Partner contacts have no inbox of tasks", body = Problem, content_type = "application/problem+json")))]
pub async fn my_tasks(State(state): State<AppState>, Actor(actor): Actor) -> Result<AppJson<TaskList>, Problem> {
    let items = state.workspace.my_tasks(&actor).await?;
    Ok(AppJson(TaskList { items: items.into_iter().map(task_body).collect() }))
}

/// One task, with its form; its ETag goes with `If-Match` on the operations.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks", params(("id" = String, Path)),
    responses((status = 200, body = TaskBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_task(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    Ok(with_etag(state.workspace.process_task(&actor, &id).await?, StatusCode::OK))
}

/// Refuses an operation whose `If-Match` names an older state of the task. The task is
/// read as the caller, so a stranger learns nothing here either.
async fn precondition(state: &AppState, actor: &Principal, id: &str, headers: &HeaderMap) -> Result<(), Problem> {
    let Some(raw) = headers.get(header::IF_MATCH) else { return Ok(()) };
    let text = raw.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(());
    }
    let task = state.workspace.process_task(actor, id).await?;
    let current = task.etag();
    let sent = text.trim_start_matches("W/").trim_matches('"');
    if sent != current {
        return Err(Problem::new(ErrorCode::PreconditionFailed)
            .with_detail(format!("the task changed since it was read (current ETag \"{current}\")")));
    }
    Ok(())
}

/// The task after an operation, as the caller now sees it (204 when they no longer may).
async fn after(state: &AppState, actor: &Principal, id: &str) -> Response {
    match state.workspace.process_task(actor, id).await {
        Ok(task) => with_etag(task, StatusCode::OK),
        Err(_) => StatusCode::NO_CONTENT.into_response(),
    }
}

/// Takes an unassigned task as one of its candidates.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/claim", tag = "tasks",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = TaskBody),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Someone holds it, or it has ended", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn claim_task(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    precondition(&state, &actor, &id, &headers).await?;
    let task = state.workspace.claim_task(&actor, &id).await?;
    Ok(with_etag(task, StatusCode::OK))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    /// The form's values; they become process variables.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub outputs: Object,
}

/// Completes a task with its form's values (checked against the task's declared fields:
/// every problem listed).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/complete", tag = "tasks",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)), request_body = CompleteRequest,
    responses(
        (status = 200, body = TaskBody),
        (status = 204, description = "Done; the caller may no longer see the task"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The task has ended", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every missing or bad form field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn complete_task(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
    MaybeJson(body): MaybeJson<CompleteRequest>,
) -> Result<Response, Problem> {
    precondition(&state, &actor, &id, &headers).await?;
    state.workspace.complete_task(&actor, &id, body.unwrap_or_default().outputs).await?;
    Ok(after(&state, &actor, &id).await)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    pub comment: Option<String>,
}

async fn decide(
    state: AppState,
    actor: Principal,
    id: String,
    headers: HeaderMap,
    approved: bool,
    comment: Option<String>,
) -> Result<Response, Problem> {
    precondition(&state, &actor, &id, &headers).await?;
    state.workspace.approve_task(&actor, &id, approved, comment).await?;
    Ok(after(&state, &actor, &id).await)
}

/// 同意: approves (the task completes with `approved: true` and the comment).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/approve", tag = "tasks",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)), request_body = CommentRequest,
    responses(
        (status = 200, body = TaskBody),
        (status = 204, description = "Done; the caller may no longer see the task"),
        (status = 403, description = "Not the caller's, or self-approval is forbidden here", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn approve_task(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
    MaybeJson(body): MaybeJson<CommentRequest>,
) -> Result<Response, Problem> {
    decide(state, actor, id, headers, true, body.unwrap_or_default().comment).await
}

/// 驳回: rejects (the task completes with `approved: false` and the comment).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/reject", tag = "tasks",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)), request_body = CommentRequest,
    responses(
        (status = 200, body = TaskBody),
        (status = 204, description = "Done; the caller may no longer see the task"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reject_task(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
    MaybeJson(body): MaybeJson<CommentRequest>,
) -> Result<Response, Problem> {
    decide(state, actor, id, headers, false, body.unwrap_or_default().comment).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandOverRequest {
    /// The member who gets the task.
    pub to: Uuid,
}

/// 转交: hands the task to another member, who becomes its holder.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/transfer", tag = "tasks",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)), request_body = HandOverRequest,
    responses(
        (status = 200, body = TaskBody),
        (status = 400, description = "Not an active member", body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn transfer_task(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
    AppJson(body): AppJson<HandOverRequest>,
) -> Result<Response, Problem> {
    precondition(&state, &actor, &id, &headers).await?;
    let task = state.workspace.transfer_task(&actor, &id, body.to).await?;
    Ok(with_etag(task, StatusCode::OK))
}

/// 委托: asks another member to do the task for its holder, who stays named on it and may
/// still act on it.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/delegate", tag = "tasks",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)), request_body = HandOverRequest,
    responses(
        (status = 200, body = TaskBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delegate_task(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
    AppJson(body): AppJson<HandOverRequest>,
) -> Result<Response, Problem> {
    precondition(&state, &actor, &id, &headers).await?;
    let task = state.workspace.delegate_task(&actor, &id, body.to).await?;
    Ok(with_etag(task, StatusCode::OK))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// The earlier step (BPMN element id) to start again at.
    pub element: String,
    pub comment: Option<String>,
}

/// 退回: cancels the current work and starts again at a named earlier step.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/return", tag = "tasks",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)), request_body = ReturnRequest,
    responses(
        (status = 200, body = TaskBody),
        (status = 204, description = "Returned; the caller may no longer see the task"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No such earlier step, or the task has ended", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn return_task(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
    AppJson(body): AppJson<ReturnRequest>,
) -> Result<Response, Problem> {
    precondition(&state, &actor, &id, &headers).await?;
    state.workspace.return_task(&actor, &id, &body.element, body.comment).await?;
    Ok(after(&state, &actor, &id).await)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddApproverRequest {
    /// The member to add (an active member; not a partner contact, not the holder).
    pub principal: Uuid,
    /// `before`: they answer first, then the task comes back to its holder; `after`: they
    /// are asked once the holder approves (in a countersign: one more countersigner).
    pub position: String,
    pub comment: Option<String>,
}

/// 加签: adds an approver to the task's step, before or after its holder. Only the holder
/// (or whoever stands in for them) and administrators may.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/add-approver", tag = "tasks",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)), request_body = AddApproverRequest,
    responses(
        (status = 200, description = "The task as it now is (handed on when `before`)", body = TaskBody),
        (status = 204, description = "Done; the caller may no longer see the task"),
        (status = 400, description = "A malformed body or id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the caller's task, or nobody has claimed it", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The task has ended, or nobody holds it for `before`", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown position, or an approver who cannot be added (unknown, a partner contact, inactive, the holder, already asked), at its field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_approver(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
    AppJson(body): AppJson<AddApproverRequest>,
) -> Result<Response, Problem> {
    precondition(&state, &actor, &id, &headers).await?;
    state.workspace.add_approver(&actor, &id, body.principal, &body.position, body.comment).await?;
    Ok(after(&state, &actor, &id).await)
}
