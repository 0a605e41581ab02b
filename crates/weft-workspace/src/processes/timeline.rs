//! The process history of a record, for its timeline: every bound instance's start and end
//! (the instance row), its tasks created and finished (the task rows, with the outcome and
//! comment), and what people and timers did in between (the `process_history` journal:
//! claims, transfers, delegations, returns, approvers added, withdrawals, cancellations,
//! reminders and escalations).
//!
//! The caller has already checked that the principal may read the record. Members who may
//! read it see every step. Partner contacts see only the tasks that were theirs: a
//! process's internal steps (who approved, with what comment) are the company's.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use time::OffsetDateTime;
use uuid::Uuid;
use weft_model::{Principal, PrincipalKind};
use weft_process::model::{BoundaryTrigger, CatchTrigger, ElementKind};
use weft_store::kernel::processes::{self as store, StoredTask};

use crate::reads::{ProcessStep, TimelineEntry};
use crate::{Result, Workspace};

/// A process entry before actor names are filled in, with the instant it sorts by.
struct Raw {
    at: OffsetDateTime,
    /// At one instant, causes come before their effects: an instance starts (0), a task is
    /// answered or something is done to it (1), tasks are cancelled (2), new ones created
    /// (3), the instance ends (4).
    rank: u8,
    actor: String,
    command: &'static str,
    step: ProcessStep,
}

impl Workspace {
    /// The process entries of a record's timeline, oldest first, each with its instant and
    /// its rank among entries of the same instant.
    /// `names` caches display names across the whole timeline.
    pub(crate) async fn process_timeline(
        &self,
        principal: &Principal,
        type_name: &str,
        record: Uuid,
        names: &mut BTreeMap<Uuid, Option<String>>,
    ) -> Result<Vec<(OffsetDateTime, u8, TimelineEntry)>> {
        let instances = store::instances_of_record(&self.db, type_name, record).await?;
        if instances.is_empty() {
            return Ok(Vec::new());
        }
        let guest = matches!(principal.kind, PrincipalKind::Guest { .. });
        let me = principal.on_behalf_of.unwrap_or(principal.id);
        let journal = if guest {
            Vec::new()
        } else {
            store::history_of(&self.db, &instances.iter().map(|i| i.id).collect::<Vec<_>>()).await?
        };
        let mut raw = Vec::new();
        for instance in &instances {
            let deployment = self.deployment(instance.definition_id).await?;
            let process = deployment.definitions().process(&instance.process_key);
            let label = |element: &str| -> Option<String> {
                process.and_then(|p| p.element(element)).and_then(|(_, e)| e.name.clone())
            };
            let base = |element: Option<&str>| ProcessStep {
                instance: instance.id,
                process: instance.process_key.clone(),
                process_name: process.and_then(|p| p.name.clone()),
                element: element.map(str::to_owned),
                step_name: element.and_then(label),
                ..ProcessStep::default()
            };
            let tasks = store::tasks_of_instance(&self.db, instance.id).await?;
            let theirs = |t: &StoredTask| {
                t.assignee == Some(me) || t.ended_by.as_deref().is_some_and(|by| by.starts_with(&me.to_string()))
            };
            if !guest {
                raw.push(Raw {
                    at: instance.started_at,
                    actor: instance.started_by.map_or_else(|| "system".to_owned(), |s| s.to_string()),
                    rank: 0,
                    command: "process.started",
                    step: base(None),
                });
            }
            for task in tasks.iter().filter(|t| !guest || theirs(t)) {
                let mut step = base(Some(&task.element));
                step.task = Some(task.id.clone());
                // The row names the holder now; a claim, transfer or delegation since says
                // whom the task went to when it was created.
                let handed = journal.iter().find(|h| {
                    h.task_id.as_deref() == Some(task.id.as_str())
                        && matches!(h.action.as_str(), "task.claim" | "task.transfer" | "task.delegate")
                });
                match handed {
                    Some(h) => {
                        let detail: Json = serde_json::from_str(&h.detail).unwrap_or_default();
                        step.to = detail.get("from").and_then(Json::as_str).and_then(|f| Uuid::parse_str(f).ok());
                    }
                    None => {
                        step.to = task.assignee;
                        step.on_behalf_of = task.delegated_from;
                    }
                }
                raw.push(Raw {
                    at: task.created_at,
                    rank: 3,
                    actor: "system".into(),
                    command: "process.task_created",
                    step,
                });
                let Some(ended) = task.ended_at else { continue };
                let outcome: Json =
                    task.outcome.as_deref().and_then(|o| serde_json::from_str(o).ok()).unwrap_or_default();
                if outcome.get("added_approver").is_some() {
                    // Handed on to an approver added before: the journal's entry tells it.
                    continue;
                }
                let mut step = base(Some(&task.element));
                step.task = Some(task.id.clone());
                let (command, rank) = if task.status == "cancelled" {
                    ("process.task_cancelled", 2)
                } else {
                    step.outcome = Some(
                        match outcome.get("approved").and_then(Json::as_bool) {
                            Some(true) => "approved",
                            Some(false) => "rejected",
                            None => "completed",
                        }
                        .into(),
                    );
                    step.comment = outcome.get("comment").and_then(Json::as_str).map(str::to_owned);
                    ("process.task_completed", 1)
                };
                let actor = task.ended_by.clone().unwrap_or_else(|| "system".into());
                raw.push(Raw { at: ended, rank, actor, command, step });
            }
            if let (false, Some(ended)) = (guest, instance.ended_at) {
                let mut step = base(None);
                step.outcome = Some(instance.status.clone());
                raw.push(Raw { at: ended, rank: 4, actor: "system".into(), command: "process.ended", step });
            }
            for h in journal.iter().filter(|h| h.instance_id == instance.id) {
                let detail: Json = serde_json::from_str(&h.detail).unwrap_or_default();
                let text = |k: &str| detail.get(k).and_then(Json::as_str).map(str::to_owned);
                let id = |k: &str| text(k).and_then(|v| Uuid::parse_str(&v).ok());
                let mut step = base(h.element.as_deref());
                step.task = h.task_id.clone();
                let command = match h.action.as_str() {
                    "task.claim" => "process.claimed",
                    "task.transfer" => {
                        step.to = id("to");
                        "process.transferred"
                    }
                    "task.delegate" => {
                        step.to = id("to");
                        "process.delegated"
                    }
                    "task.return" => {
                        step.comment = text("comment");
                        step.to_step = text("to");
                        step.to_step_name = text("to").as_deref().and_then(label);
                        "process.returned"
                    }
                    "task.add_approver" => {
                        step.to = id("approver");
                        step.position = text("position");
                        step.comment = text("comment");
                        "process.approver_added"
                    }
                    "withdraw" => {
                        step.comment = text("reason");
                        "process.withdrawn"
                    }
                    "cancel" => {
                        step.comment = text("reason");
                        "process.cancelled"
                    }
                    // An admin's repair; partners have no use for it.
                    "migrate" if guest => continue,
                    "migrate" => {
                        let version =
                            |k: &str| detail.get(k).and_then(Json::as_i64).map_or("?".to_owned(), |v| v.to_string());
                        step.comment = Some(format!("v{} → v{}", version("from_version"), version("to_version")));
                        "process.migrated"
                    }
                    "timer.fire" => {
                        let kind = h.element.as_deref().and_then(|e| process?.element(e)).map(|(_, e)| &e.kind);
                        match kind {
                            Some(ElementKind::Boundary(b)) if matches!(b.trigger, BoundaryTrigger::Timer(_)) => {
                                if b.interrupting { "process.escalated" } else { "process.reminded" }
                            }
                            Some(ElementKind::IntermediateCatch(CatchTrigger::Timer(_))) => "process.timer",
                            _ => continue,
                        }
                    }
                    _ => continue,
                };
                raw.push(Raw { at: h.at, rank: 1, actor: h.actor.clone(), command, step });
            }
        }
        // Stable: at the same instant and rank, the order the rows were read in.
        raw.sort_by_key(|r| (r.at, r.rank));
        let mut out = Vec::with_capacity(raw.len());
        for r in raw {
            let mut step = r.step;
            if let Some(to) = step.to {
                step.to_name = self.display_name(names, to).await?;
            }
            let actor_name = self.actor_display_name(names, &r.actor).await?;
            let entry = TimelineEntry {
                at: weft_store::format_utc(r.at),
                kind: "process",
                actor: r.actor,
                actor_name,
                command: r.command.to_owned(),
                version: None,
                changes: json!({}),
                process: Some(step),
            };
            out.push((r.at, r.rank, entry));
        }
        Ok(out)
    }
}
