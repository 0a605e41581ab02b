//! User task operations: complete (with outputs, checked against the task's `weft:form`
//! fields), approve or reject, claim, transfer, delegate, return to an earlier step, and the
//! starter's withdrawal. Each checks who may act and is audited. "My tasks" is the inbox.
//!
//! Who may act on an open task: its assignee, and whoever delegated it to them (委托; they
//! stay named on it); a delegate of the assignee under a
//! delegation in force on the process clock's day (recorded as "delegate for assignee");
//! while nobody holds it, a candidate (listed, holding a candidate role, or a member of a
//! candidate unit); and an admin. Anyone else is told the task does not exist, except the
//! instance's starter and candidates of a task someone else holds, who may know it exists
//! and get `Forbidden`. Self-approval is refused when the step forbids it.

use serde_json::{Map, Value as Json, json};
use uuid::Uuid;
use weft_model::{Principal, PrincipalKind};
use weft_process::{EngineError, Event, FormField, WaitId};
use weft_store::kernel::processes::{self as store, StoredInstance, StoredTask};
use weft_store::kernel::{outbox, principals};

use super::step::{Cause, ClosedTask};
use crate::{Error, Result, Workspace, admin_audit};

/// A user task as callers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    pub id: String,
    pub instance: Uuid,
    pub element: String,
    pub name: Option<String>,
    /// `open`, `completed` or `cancelled`.
    pub status: String,
    pub assignee: Option<Uuid>,
    pub delegated_from: Option<Uuid>,
    pub candidate_principals: Vec<Uuid>,
    pub candidate_roles: Vec<String>,
    pub candidate_units: Vec<Uuid>,
    /// The step may not be completed by the person who started the instance.
    pub forbid_self_approval: bool,
    pub due_at: Option<time::OffsetDateTime>,
    pub ended_by: Option<String>,
    pub outcome: Option<Json>,
    pub inputs: Map<String, Json>,
    pub record_type: Option<String>,
    pub record_id: Option<Uuid>,
    pub created_at: time::OffsetDateTime,
    pub ended_at: Option<time::OffsetDateTime>,
    /// The fields its form declares (`weft:form`); filled when one task is read.
    pub form: Vec<FormField>,
    /// Approvers added after the holder (加签), asked in this order once the holder approves;
    /// filled when one open task is read.
    pub approvers_after: Vec<Uuid>,
}

impl TaskView {
    /// A tag of what acting on the task depends on (status, holder, delegation): an
    /// `If-Match` with an older tag is refused, as a stale record version is.
    pub fn etag(&self) -> String {
        let text = format!(
            "{}|{}|{:?}|{:?}",
            self.id,
            self.status,
            self.assignee.map(|a| a.to_string()),
            self.delegated_from.map(|a| a.to_string())
        );
        let digest = <sha2::Sha256 as sha2::Digest>::digest(text.as_bytes());
        hex::encode(&digest[..8])
    }
}

fn view(t: StoredTask) -> TaskView {
    TaskView {
        created_at: t.created_at,
        ended_at: t.ended_at,
        form: Vec::new(),
        approvers_after: Vec::new(),
        forbid_self_approval: t.forbid_self_approval,
        candidate_principals: serde_json::from_str(&t.candidate_principals).unwrap_or_default(),
        candidate_roles: serde_json::from_str(&t.candidate_roles).unwrap_or_default(),
        candidate_units: serde_json::from_str(&t.candidate_units).unwrap_or_default(),
        outcome: t.outcome.as_deref().and_then(|o| serde_json::from_str(o).ok()),
        inputs: serde_json::from_str(&t.inputs).unwrap_or_default(),
        id: t.id,
        instance: t.instance_id,
        element: t.element,
        name: t.name,
        status: t.status,
        assignee: t.assignee,
        delegated_from: t.delegated_from,
        due_at: t.due_at,
        ended_by: t.ended_by,
        record_type: t.record_type,
        record_id: t.record_id,
    }
}

/// How a principal stands to a task.
enum Standing {
    /// May act; the principal to act as (carrying `on_behalf_of` for a delegate).
    Acts(Principal),
    /// May see it exists, may not act.
    Sees(String),
    Stranger,
}

fn not_found(id: &str) -> Error {
    Error::NotFound(format!("task {id}"))
}

impl Workspace {
    async fn standing(&self, principal: &Principal, task: &TaskView, starter: Option<Uuid>) -> Result<Standing> {
        if matches!(principal.kind, PrincipalKind::Guest { .. }) {
            return Ok(Standing::Stranger);
        }
        if self.is_admin(principal) {
            return Ok(Standing::Acts(principal.clone()));
        }
        let me = principal.on_behalf_of.unwrap_or(principal.id);
        if let Some(assignee) = task.assignee {
            // The holder, and whoever handed it on (delegate) and may take it back.
            if assignee == me || task.delegated_from == Some(me) {
                return Ok(Standing::Acts(principal.clone()));
            }
            if principal.on_behalf_of.is_none()
                && self.delegates_of(assignee, self.process_now().date()).await?.contains(&principal.id)
            {
                let mut acting = principal.clone();
                acting.on_behalf_of = Some(assignee);
                return Ok(Standing::Acts(acting));
            }
        }
        let directory = self.directory();
        let candidate = task.candidate_principals.contains(&me)
            || directory.roles_of(me).iter().any(|r| task.candidate_roles.contains(r))
            || directory.org.units_of(me).iter().any(|u| task.candidate_units.contains(u));
        if candidate && task.assignee.is_none() {
            return Ok(Standing::Acts(principal.clone()));
        }
        if candidate || starter == Some(me) {
            return Ok(Standing::Sees("the task is someone else's".into()));
        }
        Ok(Standing::Stranger)
    }

    /// Whether `principal` stands to any task of the instance (holds, held, may claim, or
    /// stands in for its holder), so may see the instance.
    pub(super) async fn stands_to_instance(&self, principal: &Principal, instance: Uuid) -> Result<bool> {
        if matches!(principal.kind, PrincipalKind::Guest { .. }) {
            return Ok(false);
        }
        let actor = principal.actor();
        for task in store::tasks_of_instance(&self.db, instance).await?.into_iter().map(view) {
            if task.ended_by.as_deref() == Some(actor.as_str()) {
                return Ok(true);
            }
            if !matches!(self.standing(principal, &task, None).await?, Standing::Stranger) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The task, the principal to act as, and the task's instance row (the step reuses it
    /// when its revision has not moved), or why not.
    async fn task_for_action(&self, principal: &Principal, id: &str) -> Result<(TaskView, Principal, StoredInstance)> {
        let task = store::task(&self.db, id).await?.map(view).ok_or_else(|| not_found(id))?;
        let instance = store::instance(&self.db, task.instance).await?.ok_or_else(|| not_found(id))?;
        match self.standing(principal, &task, instance.started_by).await? {
            Standing::Stranger => Err(not_found(id)),
            Standing::Sees(why) => Err(Error::Forbidden(why)),
            Standing::Acts(acting) => {
                if task.status != "open" {
                    return Err(Error::Conflict(format!("task {id} is {}", task.status)));
                }
                Ok((task, acting, instance))
            }
        }
    }

    /// One task, for whoever may act on it or see it.
    pub async fn process_task(&self, principal: &Principal, id: &str) -> Result<TaskView> {
        let task = store::task(&self.db, id).await?.map(view).ok_or_else(|| not_found(id))?;
        let instance = store::instance(&self.db, task.instance).await?.ok_or_else(|| not_found(id))?;
        match self.standing(principal, &task, instance.started_by).await? {
            Standing::Stranger if task.ended_by.as_deref() != Some(&principal.actor()) => Err(not_found(id)),
            _ => {
                let mut task = task;
                task.form = self.task_form(&instance, &task.element).await?;
                if task.status == "open" {
                    task.approvers_after = self.approvers_after(&task).await?;
                }
                Ok(task)
            }
        }
    }

    /// The approvers added after the holder of an open task, from the instance's state (the
    /// token the task's wait belongs to).
    async fn approvers_after(&self, task: &TaskView) -> Result<Vec<Uuid>> {
        let Ok(wait) = task.id.parse::<WaitId>() else { return Ok(Vec::new()) };
        let Some(stored) = store::instance(&self.db, task.instance).await? else { return Ok(Vec::new()) };
        let state = super::step::decode_state(&stored.state)?;
        let token = state.waits.iter().find(|w| w.id == wait.seq).map(|w| w.token);
        let then = state.tokens.iter().find(|t| Some(t.id) == token).map(|t| t.then.as_slice()).unwrap_or_default();
        Ok(then.iter().filter_map(|a| Uuid::parse_str(a).ok()).collect())
    }

    /// The form fields the task's element declares.
    async fn task_form(&self, stored: &StoredInstance, element: &str) -> Result<Vec<FormField>> {
        let deployment = self.deployment(stored.definition_id).await?;
        let found = deployment.definitions().process(&stored.process_key).and_then(|p| p.element(element)).and_then(
            |(_, e)| match &e.kind {
                weft_process::model::ElementKind::UserTask(task) => Some(task.fields.clone()),
                _ => None,
            },
        );
        Ok(found.unwrap_or_default())
    }

    /// The tasks of an instance (admin, the starter, or anyone holding one of them).
    pub async fn process_tasks(&self, principal: &Principal, instance: Uuid) -> Result<Vec<TaskView>> {
        // Whoever may see the instance sees its tasks; its view (state decoded, variables
        // checked against the bound record) is not needed for that.
        self.readable_instance(principal, instance).await?;
        Ok(store::tasks_of_instance(&self.db, instance).await?.into_iter().map(view).collect())
    }

    /// The principal's inbox of open tasks, oldest first: those assigned to them, those of
    /// the people they stand in for today (an out-of-office delegation in force on the
    /// process clock's day), and unassigned ones they may claim as a candidate (listed by
    /// name, through a role they hold, or a unit they belong to).
    pub async fn my_tasks(&self, principal: &Principal) -> Result<Vec<TaskView>> {
        self.require_staff(principal)?;
        let me = principal.on_behalf_of.unwrap_or(principal.id);
        let mut holders = vec![me];
        if principal.on_behalf_of.is_none() {
            holders.extend(self.delegators_of(me, self.process_now().date()).await?);
        }
        let mut out: Vec<TaskView> = store::open_tasks_of(&self.db, &holders).await?.into_iter().map(view).collect();
        let directory = self.directory();
        let (roles, units) = (directory.roles_of(me), directory.org.units_of(me));
        for task in store::open_unassigned_tasks(&self.db).await?.into_iter().map(view) {
            if task.candidate_principals.contains(&me)
                || roles.iter().any(|r| task.candidate_roles.contains(r))
                || units.iter().any(|u| task.candidate_units.contains(u))
            {
                out.push(task);
            }
        }
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        out.dedup_by(|a, b| a.id == b.id);
        Ok(out)
    }

    /// Completes a task with `outputs` (they become process variables).
    pub async fn complete_task(&self, principal: &Principal, id: &str, outputs: Map<String, Json>) -> Result<()> {
        self.finish_task(principal, id, outputs, "task.complete").await
    }

    /// 同意 / 驳回: completes an approval task with `approved` and an optional comment.
    pub async fn approve_task(
        &self,
        principal: &Principal,
        id: &str,
        approved: bool,
        comment: Option<String>,
    ) -> Result<()> {
        let mut outputs = Map::new();
        outputs.insert("approved".into(), json!(approved));
        if let Some(c) = comment {
            outputs.insert("comment".into(), json!(c));
        }
        self.finish_task(principal, id, outputs, if approved { "task.approve" } else { "task.reject" }).await
    }

    async fn finish_task(
        &self,
        principal: &Principal,
        id: &str,
        outputs: Map<String, Json>,
        action: &str,
    ) -> Result<()> {
        let (task, acting, instance) = self.task_for_action(principal, id).await?;
        let person = acting.on_behalf_of.unwrap_or(acting.id);
        if task.forbid_self_approval && instance.started_by == Some(person) && !acting.is_system() {
            return Err(Error::Forbidden("this step may not be approved by the person who started it".into()));
        }
        check_form(&self.task_form(&instance, &task.element).await?, &outputs)?;
        let wait = wait_id(id)?;
        let mut cause =
            Cause::new(acting.actor(), action, json!({ "task": id, "element": task.element, "outputs": outputs }));
        cause.close_task =
            Some(ClosedTask { id: id.to_owned(), by: acting.actor(), outcome: Json::Object(outputs.clone()) });
        let event = Event::TaskCompleted { task: wait, outputs };
        match self.apply_event_from(instance, event, cause).await? {
            Ok(_) => Ok(()),
            Err(EngineError::UnknownWait(_)) => Err(Error::Conflict(format!("task {id} is no longer open"))),
            Err(e) => Err(engine_error(e)),
        }
    }

    /// Takes an unassigned task as one of its candidates.
    pub async fn claim_task(&self, principal: &Principal, id: &str) -> Result<TaskView> {
        let (task, acting, _) = self.task_for_action(principal, id).await?;
        if task.assignee.is_some() && task.assignee != Some(acting.id) && !self.is_admin(principal) {
            return Err(Error::Conflict(format!("task {id} is held by someone else")));
        }
        self.reassign(&acting, &task, acting.id, "task.claim").await
    }

    /// 转交: hands the task to another member.
    pub async fn transfer_task(&self, principal: &Principal, id: &str, to: Uuid) -> Result<TaskView> {
        let (task, acting, _) = self.task_for_action(principal, id).await?;
        let target = principals::by_id_now(&self.db, to).await?;
        if !target.is_some_and(|p| p.kind == "member" && p.status == "active") {
            return Err(Error::BadRequest(format!("{to} is not an active member")));
        }
        self.reassign(&acting, &task, to, "task.transfer").await
    }

    /// 委托: hands the task to another member to do for its holder, who stays named on it
    /// (`delegated_from`) and may still act on it.
    pub async fn delegate_task(&self, principal: &Principal, id: &str, to: Uuid) -> Result<TaskView> {
        let (task, acting, _) = self.task_for_action(principal, id).await?;
        let target = principals::by_id_now(&self.db, to).await?;
        if !target.is_some_and(|p| p.kind == "member" && p.status == "active") {
            return Err(Error::BadRequest(format!("{to} is not an active member")));
        }
        let holder = task.delegated_from.or(task.assignee).unwrap_or(acting.on_behalf_of.unwrap_or(acting.id));
        if holder == to {
            return Err(Error::BadRequest("a task cannot be delegated to its own holder".into()));
        }
        self.reassign_from(&acting, &task, to, Some(holder), "task.delegate").await
    }

    async fn reassign(&self, acting: &Principal, task: &TaskView, to: Uuid, action: &str) -> Result<TaskView> {
        self.reassign_from(acting, task, to, None, action).await
    }

    async fn reassign_from(
        &self,
        acting: &Principal,
        task: &TaskView,
        to: Uuid,
        delegated_from: Option<Uuid>,
        action: &str,
    ) -> Result<TaskView> {
        let (id, instance, from) = (task.id.clone(), task.instance, task.assignee);
        let acting = acting.clone();
        let action = action.to_owned();
        let (element, at) = (task.element.clone(), self.process_now());
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if !store::assign_task(tx, &id, to, delegated_from).await? {
                        return Err(Error::Conflict(format!("task {id} is no longer open")));
                    }
                    let detail = json!({ "task": id, "instance": instance, "from": from, "to": to });
                    admin_audit::record(tx, &acting, &format!("process.{action}"), "process_task", &id, detail.clone())
                        .await?;
                    let entry = store::HistoryEntry {
                        instance_id: instance,
                        at,
                        actor: acting.actor(),
                        action: action.clone(),
                        task_id: Some(id.clone()),
                        element: Some(element),
                        detail: detail.to_string(),
                    };
                    store::insert_history(tx, &entry).await?;
                    let event = outbox::NewEvent {
                        kind: format!("process.{}", action.replace('.', "_")),
                        type_name: "process_instance".into(),
                        record_id: Some(instance),
                        actor: acting.actor(),
                        payload: detail,
                    };
                    outbox::append(tx, &event, weft_store::now()).await?;
                    Ok::<(), Error>(())
                })
            })
            .await?;
        store::task(&self.db, &task.id).await?.map(view).ok_or_else(|| not_found(&task.id))
    }

    /// 加签: adds `approver` to the step of an open task. `before`: they get the task first
    /// and, once they have answered, it comes back to its holder (their rejection is the
    /// step's rejection); `after`: once the holder approves, they get a task at the same step
    /// before the flow moves on; in a countersign, `after` adds one more countersigner.
    /// Only the holder (or whoever stands in for them) and admins may; the approver must be
    /// an active member who does not hold the task already.
    pub async fn add_approver(
        &self,
        principal: &Principal,
        id: &str,
        approver: Uuid,
        position: &str,
        comment: Option<String>,
    ) -> Result<()> {
        use weft_model::schema::{FieldError, FieldErrorCode};
        let (task, acting, instance) = self.task_for_action(principal, id).await?;
        let starter = instance.started_by;
        let admin = self.is_admin(principal);
        let holder = task.delegated_from.or(task.assignee);
        if holder.is_none() && !admin {
            return Err(Error::Forbidden("claim the task before adding an approver".into()));
        }
        let mut errors = Vec::new();
        let before = match position {
            "before" => true,
            "after" => false,
            other => {
                errors.push(FieldError {
                    pointer: "/position".into(),
                    code: FieldErrorCode::UnknownOption,
                    reason: format!("`{other}` is not a position: `before` or `after`"),
                });
                false
            }
        };
        let refuse =
            |reason: String| FieldError { pointer: "/principal".into(), code: FieldErrorCode::GuardFailed, reason };
        let me = acting.on_behalf_of.unwrap_or(acting.id);
        match principals::by_id_now(&self.db, approver).await? {
            None => errors.push(FieldError {
                pointer: "/principal".into(),
                code: FieldErrorCode::UnknownReference,
                reason: format!("nobody has the id {approver}"),
            }),
            Some(p) if p.kind == "guest" => {
                errors.push(refuse("a partner contact cannot approve a step of an internal process".into()))
            }
            Some(p) if p.kind != "member" => {
                errors.push(refuse(format!("only members approve; {approver} is a {}", p.kind)))
            }
            Some(p) if p.status != "active" => errors.push(refuse(format!("{} is not active", p.display_name))),
            Some(_) if approver == me || Some(approver) == task.assignee || Some(approver) == holder => {
                errors.push(refuse("the approver already holds this task".into()))
            }
            Some(_) => {
                if task.forbid_self_approval && starter == Some(approver) {
                    errors.push(refuse("this step may not be approved by the person who started it".into()));
                } else if self.waits_at_step(&task, approver).await? {
                    errors.push(refuse("the approver already has this step to do".into()));
                }
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let wait = wait_id(id)?;
        let position = if before { "before" } else { "after" };
        let detail = json!({ "task": id, "element": task.element, "approver": approver, "position": position,
                             "holder": holder, "comment": comment });
        let mut cause = Cause::new(acting.actor(), "task.add_approver", detail);
        let event = if before {
            let Some(holder) = holder else {
                return Err(Error::Conflict(format!(
                    "nobody holds task {id} for it to come back to: claim or transfer it first"
                )));
            };
            // The holder's part ends here; a new task at the same step comes back to them.
            cause.close_task = Some(ClosedTask {
                id: id.to_owned(),
                by: acting.actor(),
                outcome: json!({ "added_approver": approver, "position": position, "comment": comment }),
            });
            Event::AddApproverBefore { task: wait, approver: approver.to_string(), then: holder.to_string() }
        } else {
            Event::AddApproverAfter { task: wait, approver: approver.to_string() }
        };
        match self.apply_event(task.instance, event, cause).await? {
            Ok(()) => Ok(()),
            Err(EngineError::UnknownWait(_)) => Err(Error::Conflict(format!("task {id} is no longer open"))),
            Err(e) => Err(engine_error(e)),
        }
    }

    /// Whether `who` already has the step of `task` to do: an open task at the same element
    /// of the instance, or a place among the approvers added after its holder.
    async fn waits_at_step(&self, task: &TaskView, who: Uuid) -> Result<bool> {
        let open = store::tasks_of_instance(&self.db, task.instance).await?;
        if open.iter().any(|t| t.status == "open" && t.element == task.element && t.assignee == Some(who)) {
            return Ok(true);
        }
        Ok(self.approvers_after(task).await?.contains(&who))
    }

    /// 退回: cancels the current work and starts again at `element`, an earlier step.
    pub async fn return_task(
        &self,
        principal: &Principal,
        id: &str,
        element: &str,
        comment: Option<String>,
    ) -> Result<()> {
        let (task, acting, _) = self.task_for_action(principal, id).await?;
        let cause = Cause::new(
            acting.actor(),
            "task.return",
            json!({ "task": id, "element": task.element, "to": element, "comment": comment }),
        );
        match self.apply_event(task.instance, Event::ReturnTo { element: element.to_owned() }, cause).await? {
            Ok(_) => Ok(()),
            Err(e) => Err(engine_error(e)),
        }
    }

    /// 撤回: the starter (or someone acting for them) takes the request back; an admin may too.
    pub async fn withdraw_process(&self, principal: &Principal, instance: Uuid, reason: Option<String>) -> Result<()> {
        let stored = store::instance(&self.db, instance)
            .await?
            .ok_or_else(|| Error::NotFound(format!("process instance {instance}")))?;
        if stored.started_by != Some(principal.on_behalf_of.unwrap_or(principal.id)) && !self.is_admin(principal) {
            self.process_instance(principal, instance).await?;
            return Err(Error::Forbidden("only the person who started it may withdraw it".into()));
        }
        let cause = Cause::new(principal.actor(), "withdraw", json!({ "reason": reason }));
        match self.apply_event(instance, Event::Withdraw, cause).await? {
            Ok(_) => Ok(()),
            Err(e) => Err(engine_error(e)),
        }
    }
}

/// Checks a completion's outputs against the task's form: every required field present
/// and not empty, every declared field of its type (and among its options); every problem
/// at once.
fn check_form(fields: &[FormField], outputs: &Map<String, Json>) -> Result<()> {
    use weft_model::schema::{FieldError, FieldErrorCode};
    let mut errors = Vec::new();
    for field in fields {
        let pointer = format!("/outputs/{}", field.name);
        let value = outputs.get(&field.name).filter(|v| !v.is_null() && v.as_str() != Some(""));
        let Some(value) = value else {
            if field.required {
                errors.push(FieldError {
                    pointer,
                    code: FieldErrorCode::Required,
                    reason: format!("`{}` is required", field.name),
                });
            }
            continue;
        };
        let fits = match field.field_type.as_str() {
            "text" => value.as_str().is_some_and(|v| field.options.is_empty() || field.options.iter().any(|o| o == v)),
            "integer" => value.as_i64().is_some() || value.as_str().is_some_and(|v| v.trim().parse::<i64>().is_ok()),
            "decimal" => {
                value.is_number()
                    || value.as_str().is_some_and(|v| {
                        let v = v.trim().trim_start_matches('-');
                        !v.is_empty()
                            && v.split('.').count() <= 2
                            && v.chars().all(|c| c.is_ascii_digit() || c == '.')
                            && !v.starts_with('.')
                            && !v.ends_with('.')
                    })
            }
            "boolean" => value.is_boolean(),
            "date" => value
                .as_str()
                .is_some_and(|v| time::Date::parse(v, &time::format_description::well_known::Iso8601::DATE).is_ok()),
            _ => true,
        };
        if !fits {
            let expected = if field.options.is_empty() {
                format!("a {}", field.field_type)
            } else {
                format!("one of {}", field.options.join(", "))
            };
            let code = if field.options.is_empty() { FieldErrorCode::WrongType } else { FieldErrorCode::UnknownOption };
            errors.push(FieldError { pointer, code, reason: format!("`{}` must be {expected}", field.name) });
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
}

pub(super) fn wait_id(id: &str) -> Result<WaitId> {
    id.parse().map_err(|_| not_found(id))
}

pub(super) fn engine_error(e: EngineError) -> Error {
    match e {
        EngineError::UnknownWait(id) => Error::Conflict(format!("{id} is no longer open")),
        EngineError::NotActive(status) => Error::Conflict(format!("the process is no longer active ({status:?})")),
        EngineError::Corrupt(m) => Error::Internal(m),
        other => Error::Conflict(other.to_string()),
    }
}

/// Admin repairs: cancelling an instance and retrying an incident.
impl Workspace {
    /// Cancels a running instance (admin); its open tasks, timers and jobs are cancelled.
    pub async fn cancel_process(&self, principal: &Principal, instance: Uuid, reason: Option<String>) -> Result<()> {
        self.require_admin(principal)?;
        let cause = Cause::new(principal.actor(), "cancel", json!({ "reason": reason }));
        self.apply_event(instance, Event::Cancel, cause).await?.map_err(engine_error)
    }

    /// Takes a stuck token through its element again (admin), once the cause is fixed.
    pub async fn retry_process_incident(&self, principal: &Principal, instance: Uuid, incident: &str) -> Result<()> {
        self.require_admin(principal)?;
        let id = wait_id(incident)?;
        let cause = Cause::new(principal.actor(), "incident.retry", json!({ "incident": incident }));
        self.apply_event(instance, Event::RetryIncident { incident: id }, cause).await?.map_err(engine_error)
    }
}
