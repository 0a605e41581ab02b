//! One step of an instance, durably: the engine decides, this module turns its effects into
//! rows and writes them with the new state in one transaction.
//!
//! Exactly-once rests on three things: the state is saved only if its revision has not
//! moved (two steps racing on one instance cannot both commit; the loser replays on the new
//! state, where an event already handled is `UnknownWait`); every effect row is keyed by the
//! engine's wait id and inserted "on conflict do nothing"; and the task or job that caused
//! the step is closed in the same transaction, only if still open.

use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;
use uuid::Uuid;
use weft_process::{Effect, Engine, EngineError, Event, Instance, Status};
use weft_store::Rendered;
use weft_store::kernel::processes::{self as store, StoredInstance, StoredJob, StoredStep, StoredTask};
use weft_store::kernel::{audit, outbox};

use crate::{Error, Result, Workspace};

pub(super) fn decode_state(text: &str) -> Result<Instance> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("a stored process state is unreadable: {e}")))
}

pub(super) fn encode_state(state: &Instance) -> Result<String> {
    serde_json::to_string(state).map_err(|e| Error::Internal(e.to_string()))
}

pub(super) fn status_name(status: Status) -> &'static str {
    match status {
        Status::Active => "active",
        Status::Completed => "completed",
        Status::Cancelled => "cancelled",
        Status::Withdrawn => "withdrawn",
    }
}

/// The causes kept in the instance's history for the record's timeline: what the task rows
/// (created, completed, cancelled) and the instance row (started, ended) do not tell.
const JOURNALED: [&str; 5] = ["task.return", "task.add_approver", "withdraw", "cancel", "timer.fire"];

/// A row an effect becomes.
#[derive(Debug, Clone)]
pub(super) enum Write {
    Task(Box<StoredTask>),
    CancelTask(String),
    Job { job: StoredJob },
    CancelJob(String),
    Subscribe { id: String, element: String, message: String, correlation: Option<String> },
    Unsubscribe(String),
}

/// The user task a step completes, closed in the step's transaction.
#[derive(Debug, Clone)]
pub(super) struct ClosedTask {
    pub id: String,
    pub by: String,
    pub outcome: Json,
}

/// What caused a step, for the audit entry and the outbox event.
#[derive(Debug, Clone)]
pub(super) struct Cause {
    pub actor: String,
    /// `task.complete`, `timer.fire`, `job.complete`, `withdraw`, …
    pub action: String,
    pub detail: Json,
    pub close_task: Option<ClosedTask>,
    pub close_job: Option<String>,
    /// A buffered message this step delivers, marked consumed in the same transaction.
    pub consume_message: Option<Uuid>,
    /// Further outbox events the step sends (a reminder), with the step or not at all.
    pub events: Vec<outbox::NewEvent>,
}

impl Cause {
    pub fn new(actor: impl Into<String>, action: impl Into<String>, detail: Json) -> Cause {
        Cause {
            actor: actor.into(),
            action: action.into(),
            detail,
            close_task: None,
            close_job: None,
            consume_message: None,
            events: Vec::new(),
        }
    }
}

/// Everything one step writes, rendered before the transaction where it can be.
struct Persist {
    /// The first statement inserts a new instance (its first step) rather than saving the
    /// state of one whose revision has not moved.
    fresh: bool,
    first: Rendered,
    close_task: Option<(String, Rendered)>,
    id: Uuid,
    /// New tasks, then finished steps.
    rows: Vec<Rendered>,
    writes: Vec<Write>,
    cause: Cause,
    audit: audit::AuditEntry,
    events: Vec<Rendered>,
    at: OffsetDateTime,
}

impl Workspace {
    /// Applies `event` to instance `id` and persists the result; retried on a concurrent
    /// step. The inner `Err` is the engine's refusal (nothing written).
    pub(super) async fn apply_event(
        &self,
        id: Uuid,
        event: Event,
        cause: Cause,
    ) -> Result<std::result::Result<(), EngineError>> {
        let stored =
            store::instance(&self.db, id).await?.ok_or_else(|| Error::NotFound(format!("process instance {id}")))?;
        self.apply_event_from(stored, event, cause).await
    }

    /// `apply_event` starting from an instance row the caller has just read (a step whose
    /// revision has moved meanwhile is not saved, and the instance is read again).
    pub(super) async fn apply_event_from(
        &self,
        first: StoredInstance,
        event: Event,
        cause: Cause,
    ) -> Result<std::result::Result<(), EngineError>> {
        let id = first.id;
        let mut first = Some(first);
        for _ in 0..16 {
            let stored = match first.take() {
                Some(stored) => stored,
                None => store::instance(&self.db, id)
                    .await?
                    .ok_or_else(|| Error::NotFound(format!("process instance {id}")))?,
            };
            let deployment = self.deployment(stored.definition_id).await?;
            let mut state = decode_state(&stored.state)?;
            let seen = state.history.len();
            let now = self.process_now();
            let working_time = self.working_time().await?;
            let engine = Engine::with_working_time(working_time.as_ref());
            let effects = match engine.apply(&deployment, &mut state, event.clone(), now) {
                Ok(effects) => effects,
                Err(refused) => return Ok(Err(refused)),
            };
            if self.persist_step(&stored, None, &state, seen, effects, cause.clone(), now).await? {
                return Ok(Ok(()));
            }
        }
        Err(Error::Conflict(format!("process instance {id} keeps changing; try again")))
    }

    /// Writes a step: `fresh` is a new instance to insert (its first step), otherwise
    /// `stored` is updated if its revision has not moved. False when it had.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn persist_step(
        &self,
        stored: &StoredInstance,
        fresh: Option<StoredInstance>,
        state: &Instance,
        seen: usize,
        effects: Vec<Effect>,
        cause: Cause,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let writes = self.effect_rows(stored, state, effects, now).await?;
        let steps: Vec<StoredStep> = state
            .history
            .iter()
            .enumerate()
            .skip(seen)
            .map(|(i, s)| StoredStep {
                instance_id: stored.id,
                ordinal: i as i64,
                process_key: stored.process_key.clone(),
                version: stored.version,
                element: s.element.clone(),
                started_at: s.started_at,
                ended_at: s.ended_at,
                outcome: match s.outcome {
                    weft_process::Outcome::Completed => "completed".into(),
                    weft_process::Outcome::Cancelled => "cancelled".into(),
                },
            })
            .collect();
        let created_tasks: Vec<String> = writes
            .iter()
            .filter_map(|w| match w {
                Write::Task(t) => Some(t.id.clone()),
                _ => None,
            })
            .collect();
        let backend = self.db.backend();
        let status = status_name(state.status);
        let ended_at = (state.status != Status::Active).then_some(now);
        let encoded = encode_state(state)?;
        // Rendered here, on the caller's thread: the writer (one thread on SQLite, which every
        // write waits for) runs only the statements.
        let first = match &fresh {
            Some(fresh) => store::render_insert_instance(backend, fresh),
            None => store::render_save_state(backend, stored.id, stored.revision, status, &encoded, ended_at),
        };
        let close_task = cause.close_task.as_ref().map(|task| {
            let outcome = task.outcome.to_string();
            (
                task.id.clone(),
                store::render_end_task(backend, &task.id, "completed", now, Some(&task.by), Some(&outcome)),
            )
        });
        let mut detail = cause.detail.clone();
        if let Json::Object(map) = &mut detail {
            map.insert("status".into(), json!(status));
            map.insert("created_tasks".into(), json!(created_tasks));
        }
        let audit = audit::AuditEntry {
            actor: cause.actor.clone(),
            action: format!("process.{}", cause.action),
            target_type: "process_instance".into(),
            target_id: stored.id.to_string(),
            detail: detail.clone(),
        };
        let (key, version, record) = (&stored.process_key, stored.version, stored.record_id);
        let mut payload = json!({ "instance": stored.id, "key": key, "version": version, "record": record });
        if let (Json::Object(out), Json::Object(more)) = (&mut payload, detail) {
            out.extend(more);
        }
        let mut events = vec![outbox::NewEvent {
            kind: format!("process.{}", cause.action.replace('.', "_")),
            type_name: "process_instance".into(),
            record_id: Some(stored.id),
            actor: cause.actor.clone(),
            payload,
        }];
        events.extend(cause.events.iter().cloned());
        if status != "active" {
            events.push(outbox::NewEvent {
                kind: format!("process.{status}"),
                type_name: "process_instance".into(),
                record_id: Some(stored.id),
                actor: cause.actor.clone(),
                payload: json!({ "instance": stored.id, "key": key, "version": version, "record": record }),
            });
        }
        let persist = Persist {
            fresh: fresh.is_some(),
            first,
            close_task,
            id: stored.id,
            rows: writes
                .iter()
                .filter_map(|w| match w {
                    Write::Task(task) => Some(store::render_insert_task(backend, task)),
                    _ => None,
                })
                .chain(steps.iter().map(|step| store::render_insert_step(backend, step)))
                .collect(),
            writes,
            cause,
            audit,
            events: outbox::render_many(backend, &events, weft_store::now()),
            at: now,
        };
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let p = persist;
                    let changed = tx.execute_rendered(p.first).await? > 0;
                    match (p.fresh, changed) {
                        // Started already (a replayed start): nothing more to do.
                        (true, false) => return Ok(true),
                        // Stepped meanwhile: the caller reads the instance again.
                        (false, false) => return Ok(false),
                        _ => {}
                    }
                    if let Some((id, end)) = p.close_task
                        && tx.execute_rendered(end).await? == 0
                    {
                        return Err(Error::Conflict(format!("task {id} is not open")));
                    }
                    if let Some(message) = p.cause.consume_message
                        && !store::consume_message(tx, message, p.at).await?
                    {
                        return Err(Error::Conflict(format!("message {message} was delivered already")));
                    }
                    if let Some(job) = &p.cause.close_job {
                        store::end_job(tx, job, "done", None).await?;
                    }
                    // New tasks and finished steps (keyed: a replay inserts nothing).
                    for row in p.rows {
                        tx.execute_rendered(row).await?;
                    }
                    for write in &p.writes {
                        match write {
                            Write::Task(_) => {}
                            Write::CancelTask(id) => {
                                store::end_task(tx, id, "cancelled", p.at, None, None).await?;
                            }
                            Write::Job { job } => {
                                store::insert_job(tx, job, p.at).await?;
                            }
                            Write::CancelJob(id) => {
                                store::end_job(tx, id, "cancelled", None).await?;
                            }
                            Write::Subscribe { id, element, message, correlation } => {
                                store::insert_subscription(
                                    tx,
                                    id,
                                    p.id,
                                    element,
                                    message,
                                    correlation.as_deref(),
                                    p.at,
                                )
                                .await?;
                            }
                            Write::Unsubscribe(id) => {
                                store::close_subscription(tx, id).await?;
                            }
                        }
                    }
                    if JOURNALED.contains(&p.cause.action.as_str()) {
                        let text = |k: &str| p.cause.detail.get(k).and_then(Json::as_str).map(str::to_owned);
                        let entry = store::HistoryEntry {
                            instance_id: p.id,
                            at: p.at,
                            actor: p.cause.actor.clone(),
                            action: p.cause.action.clone(),
                            task_id: text("task"),
                            element: text("element"),
                            detail: p.cause.detail.to_string(),
                        };
                        store::insert_history(tx, &entry).await?;
                    }
                    audit::append(tx, &p.audit, weft_store::now()).await?;
                    outbox::append_rendered(tx, p.events).await?;
                    Ok::<bool, Error>(true)
                })
            })
            .await
    }

    /// The rows the engine's effects become. User tasks get their assignees resolved here
    /// (org directory, delegation), so the transaction itself does no lookups.
    async fn effect_rows(
        &self,
        stored: &StoredInstance,
        state: &Instance,
        effects: Vec<Effect>,
        now: OffsetDateTime,
    ) -> Result<Vec<Write>> {
        let mut out = Vec::with_capacity(effects.len());
        let job = |id: String, instance: Uuid, element: &str, kind: &str, payload: Json, max: i64| Write::Job {
            job: StoredJob {
                id,
                instance_id: instance,
                element: element.to_owned(),
                kind: kind.to_owned(),
                payload: payload.to_string(),
                due_at: now,
                status: "pending".into(),
                attempts: 0,
                max_attempts: max,
                last_error: None,
            },
        };
        let to_parent = |outputs: Json, failed: bool, error_code: Option<String>, message: String| match (
            stored.parent_instance,
            &stored.parent_wait,
        ) {
            (Some(parent), Some(wait)) => Some(job(
                format!("{wait}/ended"),
                parent,
                "",
                "weft:child_ended",
                json!({ "child": wait, "outputs": outputs, "failed": failed, "error_code": error_code,
                            "message": message }),
                5,
            )),
            _ => None,
        };
        for effect in effects {
            match effect {
                Effect::CreateUserTask { id, element, name, assignment, due, inputs, .. } => {
                    let at = (stored.process_key.as_str(), element.as_str());
                    let resolved = self.resolve_assignment(&assignment, stored.started_by, now.date(), at).await?;
                    out.push(Write::Task(Box::new(StoredTask {
                        id: id.to_string(),
                        instance_id: stored.id,
                        element,
                        name,
                        status: "open".into(),
                        assignee: resolved.assignee,
                        delegated_from: resolved.delegated_from,
                        candidate_principals: json!(resolved.principals).to_string(),
                        candidate_roles: json!(resolved.roles).to_string(),
                        candidate_units: json!(resolved.units).to_string(),
                        forbid_self_approval: assignment.forbid_self_approval,
                        due_at: due,
                        created_at: now,
                        ended_at: None,
                        ended_by: None,
                        outcome: None,
                        inputs: Json::Object(inputs).to_string(),
                        record_type: stored.record_type.clone(),
                        record_id: stored.record_id,
                    })));
                }
                Effect::CancelUserTask { id } => out.push(Write::CancelTask(id.to_string())),
                Effect::ScheduleTimer { id, element, at } => {
                    let mut timer = job(id.to_string(), stored.id, &element, "timer", json!({}), 5);
                    if let Write::Job { job } = &mut timer {
                        job.due_at = at;
                    }
                    out.push(timer);
                }
                Effect::CancelTimer { id } | Effect::CancelJob { id } => out.push(Write::CancelJob(id.to_string())),
                Effect::Subscribe { id, element, message, correlation } => {
                    // A message may have arrived first: a job looks in the buffer.
                    out.push(job(
                        format!("{id}/buffered"),
                        stored.id,
                        &element,
                        "weft:buffered",
                        json!({ "message": message, "correlation": correlation }),
                        5,
                    ));
                    out.push(Write::Subscribe { id: id.to_string(), element, message, correlation })
                }
                Effect::Unsubscribe { id } => out.push(Write::Unsubscribe(id.to_string())),
                Effect::RunJob { id, element, kind, headers, inputs, retries } => {
                    let headers: Map<String, Json> = headers.into_iter().map(|(k, v)| (k, Json::String(v))).collect();
                    let max = i64::from(retries.unwrap_or(3).max(1));
                    out.push(job(
                        id.to_string(),
                        stored.id,
                        &element,
                        &kind,
                        json!({ "headers": headers, "inputs": inputs }),
                        max,
                    ));
                }
                Effect::StartChildInstance { id, element, process, variables } => out.push(job(
                    id.to_string(),
                    stored.id,
                    &element,
                    "weft:start_child",
                    json!({ "process": process, "variables": variables }),
                    5,
                )),
                Effect::CancelChildInstance { id } => out.push(job(
                    format!("{id}/cancel"),
                    stored.id,
                    "",
                    "weft:cancel_child",
                    json!({ "child": id.to_string() }),
                    5,
                )),
                Effect::PublishMessage { element, message, correlation, variables } => out.push(job(
                    format!("{}.{}/publish", state.id, state.seq),
                    stored.id,
                    &element,
                    "weft:publish",
                    json!({ "message": message, "correlation": correlation, "variables": variables }),
                    5,
                )),
                Effect::Completed { outputs } => {
                    out.extend(to_parent(Json::Object(outputs), false, None, String::new()))
                }
                Effect::Terminated { reason } => {
                    out.extend(to_parent(json!({}), true, None, format!("the called process ended: {reason:?}")))
                }
                Effect::Incident { id, element, message, error_code } => {
                    tracing::warn!(instance = %stored.id, incident = %id, %element, %message, "process incident");
                    if error_code.is_some() {
                        out.extend(to_parent(json!({}), true, error_code, message));
                    }
                }
            }
        }
        Ok(out)
    }
}
