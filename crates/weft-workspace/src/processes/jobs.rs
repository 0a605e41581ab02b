//! The job worker: one pass over due jobs (`run_due_jobs`; the server calls it in a loop).
//! A job is claimed (status `running`, a lock until a deadline) in one transaction, then
//! run; the step it causes closes it in that step's own transaction, so a worker dying in
//! between leaves a job whose lock expires and is claimed again, and the replayed step
//! either finds its work done (`UnknownWait`, the job is closed) or does it once.
//!
//! Each pass also starts the instances of timer start events that are due (`start_timers`).
//!
//! Kinds: `timer` (fires the timer), `weft:transition` (moves the bound record through the
//! façade as the system principal), `weft:decision` (evaluates a deployed decision),
//! `weft:notify` (a reminder, an outbox event), and the internal `weft:start_child`,
//! `weft:child_ended`, `weft:cancel_child`, `weft:publish`. Anything else fails and is
//! retried with backoff, then becomes an incident.

use serde_json::{Map, Value as Json, json};
use time::Duration;
use uuid::Uuid;
use weft_model::Principal;
use weft_process::{EngineError, Event, WaitId};
use weft_store::kernel::outbox;
use weft_store::kernel::processes::{self as store, StoredJob};

use super::start::Parent;
use super::step::Cause;
use crate::{Error, Result, Workspace};

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobRun {
    pub done: usize,
    pub retried: usize,
    pub incidents: usize,
}

/// A job that failed for good, waiting for an admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentView {
    pub job: String,
    pub instance: Uuid,
    pub process_key: String,
    pub element: String,
    pub kind: String,
    pub attempts: i64,
    pub error: Option<String>,
    /// The instance's own incident at that element (its token is stuck there), if any.
    pub incident: Option<String>,
}

/// How many claimed jobs one worker runs at once.
const JOBS_AT_ONCE: usize = 16;

/// How one job ended.
enum Settled {
    Done,
    Retried,
    Incident,
}

/// Why a job did not succeed.
enum Failure {
    /// Try again later (with backoff), until attempts run out.
    Retry(String),
    /// A BPMN error the process may catch (`weft:transition` refused, say).
    Business { code: String, message: String },
}

impl Workspace {
    /// Runs the jobs due now (at most `limit`); returns what happened.
    pub async fn run_due_jobs(&self, limit: u64) -> Result<JobRun> {
        let now = self.process_now();
        let worker = self.processes.worker.clone();
        let lock = self.job_lock();
        let claimed = self
            .db
            .write(move |tx| {
                Box::pin(async move { Ok::<_, Error>(store::claim_due(tx, now, limit, &worker, now + lock).await?) })
            })
            .await?;
        let mut run = JobRun { done: self.fire_start_timers(limit).await?, ..JobRun::default() };
        // Claimed jobs run side by side (each in its own steps): their writes share the
        // SQLite writer's batches, or PostgreSQL's pool, instead of waiting one for another.
        // Jobs of one instance that race are settled by the step's revision check. Message
        // jobs keep their order (a buffered message goes to the oldest subscription), so
        // they run first, one after another.
        use futures::StreamExt;
        let (ordered, free): (Vec<StoredJob>, Vec<StoredJob>) =
            claimed.into_iter().partition(|job| matches!(job.kind.as_str(), "weft:buffered" | "weft:publish"));
        let mut settled = Vec::with_capacity(ordered.len() + free.len());
        for job in ordered {
            settled.push(self.run_and_settle(job, now).await);
        }
        let side_by_side: Vec<Result<Settled>> = futures::stream::iter(free)
            .map(|job| async move { self.run_and_settle(job, now).await })
            .buffer_unordered(JOBS_AT_ONCE)
            .collect()
            .await;
        settled.extend(side_by_side);
        for outcome in settled {
            match outcome? {
                Settled::Done => run.done += 1,
                Settled::Retried => run.retried += 1,
                Settled::Incident => run.incidents += 1,
            }
        }
        Ok(run)
    }

    /// Runs one claimed job and records how it went: done, retried later with backoff, or
    /// an incident.
    async fn run_and_settle(&self, job: StoredJob, now: time::OffsetDateTime) -> Result<Settled> {
        match self.run_job(&job).await {
            Ok(()) => Ok(Settled::Done),
            Err(Failure::Retry(message)) if job.attempts < job.max_attempts => {
                let backoff = Duration::seconds(10 * (1_i64 << job.attempts.clamp(0, 12)));
                let (id, due) = (job.id.clone(), now + backoff);
                self.db
                    .write(move |tx| {
                        Box::pin(async move { Ok::<_, Error>(store::retry_job(tx, &id, due, &message).await?) })
                    })
                    .await?;
                Ok(Settled::Retried)
            }
            Err(Failure::Retry(message)) => {
                self.job_failed(&job, None, message).await?;
                Ok(Settled::Incident)
            }
            Err(Failure::Business { code, message }) => {
                self.job_failed(&job, Some(code), message).await?;
                Ok(Settled::Incident)
            }
        }
    }

    /// Runs `run_due_jobs` until nothing is due (tests; a catch-up after downtime).
    pub async fn run_jobs_until_idle(&self) -> Result<JobRun> {
        let mut total = JobRun::default();
        for _ in 0..100 {
            let run = self.run_due_jobs(100).await?;
            if run == JobRun::default() {
                break;
            }
            total.done += run.done;
            total.retried += run.retried;
            total.incidents += run.incidents;
        }
        Ok(total)
    }

    /// Out of retries (or a business error): the job is an incident, and the process is told
    /// (an error boundary may catch a code; otherwise the token becomes an incident).
    async fn job_failed(&self, job: &StoredJob, error_code: Option<String>, message: String) -> Result<()> {
        let (id, text) = (job.id.clone(), message.clone());
        self.db
            .write(move |tx| {
                Box::pin(async move { Ok::<_, Error>(store::end_job(tx, &id, "incident", Some(&text)).await?) })
            })
            .await?;
        if let Ok(wait) = job.id.parse::<WaitId>()
            && job.kind != "timer"
            && !job.kind.starts_with("weft:child")
        {
            let cause = Cause::new("system", "job.fail", json!({ "job": job.id, "kind": job.kind, "error": message }));
            let event = Event::JobFailed { job: wait, error_code, message };
            if let Err(e) = self.apply_event(job.instance_id, event, cause).await? {
                tracing::warn!(job = %job.id, error = %e, "a failed job's instance did not take the failure");
            }
        }
        Ok(())
    }

    async fn run_job(&self, job: &StoredJob) -> std::result::Result<(), Failure> {
        let payload: Json = serde_json::from_str(&job.payload).unwrap_or(Json::Null);
        let outcome = match job.kind.as_str() {
            "timer" => self.fire_timer(job).await,
            "weft:start_child" => self.run_start_child(job, &payload).await,
            "weft:child_ended" => self.run_child_ended(job, &payload).await,
            "weft:cancel_child" => self.run_cancel_child(job, &payload).await,
            "weft:publish" => self.run_publish(job, &payload).await,
            "weft:buffered" => self.run_buffered(job, &payload).await,
            "weft:transition" => match self.run_transition(job, &payload).await {
                Ok(outputs) => self.complete_job(job, outputs).await,
                Err(e) => return Err(e),
            },
            "weft:decision" => match self.run_decision(&payload).await {
                Ok(outputs) => self.complete_job(job, outputs).await,
                Err(e) => return Err(e),
            },
            "weft:notify" => self.run_notify(job, &payload).await,
            other => return Err(Failure::Retry(format!("no worker handles jobs of type `{other}`"))),
        };
        outcome.map_err(|e| Failure::Retry(e.to_string()))
    }

    /// Closes a job without a step (its wait is gone: a replay, or cancelled meanwhile).
    async fn close_job(&self, job: &StoredJob) -> Result<()> {
        let id = job.id.clone();
        self.db
            .write(move |tx| Box::pin(async move { Ok::<_, Error>(store::end_job(tx, &id, "done", None).await?) }))
            .await?;
        Ok(())
    }

    /// Applies a job's event; an event for a wait no longer open just closes the job.
    async fn job_step(&self, job: &StoredJob, instance: Uuid, event: Event, action: &str, detail: Json) -> Result<()> {
        let mut cause = Cause::new("system", action, detail);
        cause.close_job = Some(job.id.clone());
        match self.apply_event(instance, event, cause).await? {
            Ok(_) => Ok(()),
            Err(EngineError::UnknownWait(_) | EngineError::NotActive(_)) => self.close_job(job).await,
            Err(e) => Err(Error::Conflict(e.to_string())),
        }
    }

    async fn fire_timer(&self, job: &StoredJob) -> Result<()> {
        let timer = job.id.parse().map_err(|e: String| Error::Internal(e))?;
        let detail = json!({ "timer": job.id, "element": job.element });
        self.job_step(job, job.instance_id, Event::TimerFired { timer }, "timer.fire", detail).await
    }

    async fn complete_job(&self, job: &StoredJob, outputs: Map<String, Json>) -> Result<()> {
        let id: WaitId = job.id.parse().map_err(|e: String| Error::Internal(e))?;
        let detail = json!({ "job": job.id, "kind": job.kind, "element": job.element, "outputs": outputs });
        self.job_step(job, job.instance_id, Event::JobCompleted { job: id, outputs }, "job.complete", detail).await
    }

    async fn run_start_child(&self, job: &StoredJob, payload: &Json) -> Result<()> {
        let parent = store::instance(&self.db, job.instance_id)
            .await?
            .ok_or_else(|| Error::Internal(format!("instance {} is missing", job.instance_id)))?;
        let key = payload["process"].as_str().unwrap_or_default().to_owned();
        let variables = payload["variables"].as_object().cloned().unwrap_or_default();
        let record = parent.record_type.clone().zip(parent.record_id);
        let from = Parent { instance: parent.id, wait: job.id.clone(), started_by: parent.started_by, record };
        self.start_child(from, &key, variables).await?;
        self.close_job(job).await
    }

    async fn run_child_ended(&self, job: &StoredJob, payload: &Json) -> Result<()> {
        let child: WaitId =
            payload["child"].as_str().unwrap_or_default().parse().map_err(|e: String| Error::Internal(e))?;
        let event = if payload["failed"].as_bool().unwrap_or(false) {
            Event::ChildFailed {
                child,
                error_code: payload["error_code"].as_str().map(str::to_owned),
                message: payload["message"].as_str().unwrap_or_default().to_owned(),
            }
        } else {
            Event::ChildCompleted { child, outputs: payload["outputs"].as_object().cloned().unwrap_or_default() }
        };
        self.job_step(job, job.instance_id, event, "child.end", json!({ "child": child.to_string() })).await
    }

    async fn run_cancel_child(&self, job: &StoredJob, payload: &Json) -> Result<()> {
        let wait = payload["child"].as_str().unwrap_or_default();
        let digest = <sha2::Sha256 as sha2::Digest>::digest(format!("child of {wait}").as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        let child = uuid::Builder::from_random_bytes(bytes).into_uuid();
        if store::instance(&self.db, child).await?.is_some() {
            let cause = Cause::new("system", "cancel", json!({ "parent_wait": wait }));
            if let Err(e) = self.apply_event(child, Event::Cancel, cause).await? {
                tracing::debug!(%child, error = %e, "the child had ended already");
            }
        }
        self.close_job(job).await
    }

    /// Delivers a thrown message to the oldest instance subscribed to it (or buffers it).
    async fn run_publish(&self, job: &StoredJob, payload: &Json) -> Result<()> {
        let name = payload["message"].as_str().unwrap_or_default();
        let correlation = payload["correlation"].as_str();
        let variables = payload["variables"].as_object().cloned().unwrap_or_default();
        let ttl = super::messages::DEFAULT_TTL;
        self.deliver_message(&Principal::system(), name, correlation, variables, ttl, &job.id).await?;
        self.close_job(job).await
    }

    /// A new subscription takes the oldest message that arrived before it, once.
    async fn run_buffered(&self, job: &StoredJob, payload: &Json) -> Result<()> {
        let name = payload["message"].as_str().unwrap_or_default().to_owned();
        let correlation = payload["correlation"].as_str().map(str::to_owned);
        if let Some((message, body)) =
            store::oldest_buffered(&self.db, &name, correlation.as_deref(), self.process_now()).await?
        {
            let variables = serde_json::from_str::<Map<String, Json>>(&body).unwrap_or_default();
            let event = Event::MessageReceived { name: name.clone(), correlation, payload: variables };
            let mut cause = Cause::new("system", "message.receive", json!({ "message": name, "buffered": message }));
            cause.consume_message = Some(message);
            cause.close_job = Some(job.id.clone());
            match self.apply_event(job.instance_id, event, cause).await? {
                Ok(()) => return Ok(()),
                Err(e) => tracing::debug!(job = %job.id, error = %e, "the subscription is gone"),
            }
        }
        self.close_job(job).await
    }

    /// `weft:transition`: header `transition`. Idempotent across a lost completion: a
    /// record already in the transition's target state counts as done.
    async fn run_transition(&self, job: &StoredJob, payload: &Json) -> std::result::Result<Map<String, Json>, Failure> {
        let retry = |e: Error| Failure::Retry(e.to_string());
        let instance = store::instance(&self.db, job.instance_id).await.map_err(|e| retry(e.into()))?;
        let Some((type_name, record)) = instance.and_then(|i| i.record_type.zip(i.record_id)) else {
            return Err(Failure::Business {
                code: "no_record".into(),
                message: "the process is bound to no record".into(),
            });
        };
        let Some(name) = payload["headers"]["transition"].as_str() else {
            return Err(Failure::Business {
                code: "bad_job".into(),
                message: "the job names no `transition` header".into(),
            });
        };
        let system = Principal::system();
        let target =
            self.type_decl(&type_name).and_then(|d| d.lifecycle.and_then(|l| l.transition(name).map(|t| t.to.clone())));
        let current = self.get(&system, &type_name, record).await.map_err(retry)?;
        if target.is_some() && current.system.state == target {
            return Ok(Map::new());
        }
        let inputs = payload["inputs"].as_object().cloned().unwrap_or_default();
        match self.transition(&system, &type_name, record, name, None, inputs).await {
            Ok(view) => Ok(Map::from_iter([("record_state".to_owned(), json!(view.system.state))])),
            Err(e @ (Error::Conflict(_) | Error::Validation(_) | Error::NotFound(_))) => {
                Err(Failure::Business { code: "transition_refused".into(), message: e.to_string() })
            }
            Err(e) => Err(retry(e)),
        }
    }

    /// `weft:decision` (a business rule task): `decisionId` is `<model>/<decision name>`
    /// (or a model whose decision has the model's name); `resultVariable` (default
    /// `result`) receives the decision's value; the job's inputs are the decision's input.
    async fn run_decision(&self, payload: &Json) -> std::result::Result<Map<String, Json>, Failure> {
        let headers = &payload["headers"];
        let id = headers["decisionId"].as_str().unwrap_or_default();
        let (model, decision) = id.split_once('/').unwrap_or((id, id));
        let result = headers["resultVariable"].as_str().unwrap_or("result");
        let input = payload["inputs"].clone();
        let answer = self.evaluate_decision(&Principal::system(), model, None, decision, input, false).await.map_err(
            |e| match e {
                Error::Unavailable(m) => Failure::Retry(m),
                other => Failure::Business { code: "decision_failed".into(), message: other.to_string() },
            },
        )?;
        Ok(Map::from_iter([(result.to_owned(), answer.get("value").cloned().unwrap_or(answer))]))
    }

    /// `weft:notify`: a reminder or notice, as an outbox event the inbox consumer renders,
    /// written in the same transaction as the job's completion so it is sent once.
    async fn run_notify(&self, job: &StoredJob, payload: &Json) -> Result<()> {
        let id: WaitId = job.id.parse().map_err(|e: String| Error::Internal(e))?;
        let notice = outbox::NewEvent {
            kind: "process.notify".into(),
            type_name: "process_instance".into(),
            record_id: Some(job.instance_id),
            actor: "system".into(),
            payload: json!({ "job": job.id, "element": job.element, "inputs": payload["inputs"] }),
        };
        let mut cause = Cause::new("system", "job.complete", json!({ "job": job.id, "kind": job.kind }));
        cause.close_job = Some(job.id.clone());
        cause.events.push(notice);
        match self.apply_event(job.instance_id, Event::JobCompleted { job: id, outputs: Map::new() }, cause).await? {
            Ok(()) => Ok(()),
            Err(EngineError::UnknownWait(_) | EngineError::NotActive(_)) => self.close_job(job).await,
            Err(e) => Err(Error::Conflict(e.to_string())),
        }
    }
}

/// Incidents for admins: list them, retry one.
impl Workspace {
    /// Every job that failed for good, oldest first (admin).
    pub async fn process_incidents(&self, principal: &Principal) -> Result<Vec<IncidentView>> {
        self.require_admin(principal)?;
        let mut out = Vec::new();
        for job in store::incident_jobs(&self.db).await? {
            let Some(instance) = store::instance(&self.db, job.instance_id).await? else { continue };
            let state = super::step::decode_state(&instance.state)?;
            let incident =
                state.incidents().find(|(_, element, _)| *element == job.element).map(|(id, ..)| id.to_string());
            out.push(IncidentView {
                job: job.id,
                instance: job.instance_id,
                process_key: instance.process_key,
                element: job.element,
                kind: job.kind,
                attempts: job.attempts,
                error: job.last_error,
                incident,
            });
        }
        Ok(out)
    }

    /// Retries a failed job (admin): when the instance's token is stuck at the job's element,
    /// the token goes through the element again (a fresh job); a timer or an internal job is
    /// put back in the queue with fresh attempts. A failure the process handled itself (an
    /// error boundary took another path) is not retried.
    pub async fn retry_process_job(&self, principal: &Principal, job_id: &str) -> Result<()> {
        self.require_admin(principal)?;
        let job = store::job(&self.db, job_id)
            .await?
            .filter(|j| j.status == "incident")
            .ok_or_else(|| Error::NotFound(format!("incident {job_id}")))?;
        let incident =
            self.process_incidents(principal).await?.into_iter().find(|i| i.job == job.id).and_then(|i| i.incident);
        if let Some(incident) = incident {
            self.retry_process_incident(principal, job.instance_id, &incident).await?;
            let id = job.id.clone();
            self.db
                .write(move |tx| Box::pin(async move { Ok::<_, Error>(store::resolve_incident_job(tx, &id).await?) }))
                .await?;
            return Ok(());
        }
        let requeue = job.kind == "timer" || job.kind.starts_with("weft:child") || job.id.parse::<WaitId>().is_err();
        if !requeue {
            return Err(Error::Conflict(format!("the process handled the failure of job {job_id} already")));
        }
        let (id, due) = (job.id.clone(), self.process_now());
        let detail = json!({ "job": job.id, "kind": job.kind });
        let principal = principal.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if !store::requeue_job(tx, &id, due).await? {
                        return Err(Error::Conflict(format!("job {id} is no incident any more")));
                    }
                    crate::admin_audit::record(tx, &principal, "process.job.retry", "process_job", &id, detail).await?;
                    Ok::<_, Error>(())
                })
            })
            .await
    }
}
