//! Moving running instances to another version of their process (admin): one instance, or
//! every active instance of a version at once. The engine checks and renames
//! (`weft_process::migrate`); here the instance row, its open tasks, jobs and
//! subscriptions, a history entry (shown on the record's timeline), the audit entry and a
//! `process.migrated` event are written in one transaction. A dry run checks and writes
//! nothing.

use std::collections::BTreeMap;

use serde_json::json;
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::{FieldError, FieldErrorCode};
use weft_process::MigrationProblem;
use weft_store::kernel::processes::{self as store, StoredDefinition, StoredInstance};
use weft_store::kernel::{audit, outbox};

use super::step::{decode_state, encode_state};
use crate::{Error, Result, Workspace};

/// Where to move instances, and how their elements map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrateInstances {
    /// The version of the same process to move to.
    pub to_version: i64,
    /// Old element id → new element id; an element not named keeps its id.
    pub mapping: BTreeMap<String, String>,
    /// Check only: report what would happen, write nothing.
    pub dry_run: bool,
}

/// What happened (or, on a dry run, would happen) to one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationOutcome {
    pub instance: Uuid,
    pub from_version: i64,
    pub to_version: i64,
    /// True when it moved (never on a dry run).
    pub migrated: bool,
    /// The elements it stood at that have a new id: old → new.
    pub moved: BTreeMap<String, String>,
    /// Why it cannot move; empty when it can.
    pub problems: Vec<MigrationProblem>,
}

impl Workspace {
    /// Moves one running instance to `to.to_version` of its process (admin). Every problem
    /// is a field error under `/mapping/<element>` (or `/to_version`); nothing is written
    /// then.
    pub async fn migrate_process_instance(
        &self,
        principal: &Principal,
        instance: Uuid,
        to: MigrateInstances,
    ) -> Result<MigrationOutcome> {
        self.require_admin(principal)?;
        let stored = store::instance(&self.db, instance)
            .await?
            .ok_or_else(|| Error::NotFound(format!("process instance {instance}")))?;
        if stored.status != "active" {
            return Err(Error::Conflict(format!("the process instance is {}, not active", stored.status)));
        }
        let target = self.target_version(&stored.process_key, to.to_version).await?;
        let outcome = self.migrate_one(principal, stored, &target, &to).await?;
        if outcome.problems.is_empty() {
            return Ok(outcome);
        }
        Err(Error::Validation(
            outcome
                .problems
                .iter()
                .map(|p| FieldError {
                    pointer: if p.element.is_empty() {
                        "/to_version".into()
                    } else {
                        format!("/mapping/{}", p.element)
                    },
                    code: if p.reason.contains(" has no ") {
                        FieldErrorCode::UnknownReference
                    } else {
                        FieldErrorCode::InvalidFormat
                    },
                    reason: p.reason.clone(),
                })
                .collect(),
        ))
    }

    /// Moves every active instance of `key` running `from_version` to `to.to_version`
    /// (admin), each on its own: the ones that cannot move stay and say why.
    pub async fn migrate_process_instances(
        &self,
        principal: &Principal,
        key: &str,
        from_version: i64,
        to: MigrateInstances,
    ) -> Result<Vec<MigrationOutcome>> {
        self.require_admin(principal)?;
        if store::definition_version(&self.db, key, from_version).await?.is_none() {
            return Err(Error::NotFound(format!("process `{key}` version {from_version}")));
        }
        let target = self.target_version(key, to.to_version).await?;
        let mut out = Vec::new();
        for stored in store::active_instances(&self.db, key).await? {
            if stored.version != from_version {
                continue;
            }
            out.push(self.migrate_one(principal, stored, &target, &to).await?);
        }
        Ok(out)
    }

    async fn target_version(&self, key: &str, version: i64) -> Result<StoredDefinition> {
        store::definition_version(&self.db, key, version).await?.ok_or_else(|| {
            Error::Validation(vec![FieldError {
                pointer: "/to_version".into(),
                code: FieldErrorCode::UnknownReference,
                reason: format!("process `{key}` has no version {version}"),
            }])
        })
    }

    /// Checks and (unless a dry run) writes one instance's move; retried when the instance
    /// took a step meanwhile.
    async fn migrate_one(
        &self,
        principal: &Principal,
        first: StoredInstance,
        target: &StoredDefinition,
        to: &MigrateInstances,
    ) -> Result<MigrationOutcome> {
        let mut stored = first;
        for _ in 0..16 {
            let mut outcome = MigrationOutcome {
                instance: stored.id,
                from_version: stored.version,
                to_version: target.version,
                migrated: false,
                moved: BTreeMap::new(),
                problems: Vec::new(),
            };
            if stored.definition_id == target.id {
                outcome.problems.push(MigrationProblem {
                    element: String::new(),
                    reason: format!("the instance already runs version {}", target.version),
                });
                return Ok(outcome);
            }
            let from = self.deployment(stored.definition_id).await?;
            let into = self.deployment(target.id).await?;
            let state = decode_state(&stored.state)?;
            let migrated = match weft_process::migrate(&from, &into, &state, &to.mapping) {
                Ok((migrated, moved)) => {
                    outcome.moved = moved;
                    migrated
                }
                Err(problems) => {
                    outcome.problems = problems;
                    return Ok(outcome);
                }
            };
            if to.dry_run {
                return Ok(outcome);
            }
            if self.write_migration(principal, &stored, target, &migrated, &outcome).await? {
                outcome.migrated = true;
                return Ok(outcome);
            }
            stored = store::instance(&self.db, stored.id)
                .await?
                .ok_or_else(|| Error::NotFound(format!("process instance {}", stored.id)))?;
            if stored.status != "active" {
                outcome.problems.push(MigrationProblem {
                    element: String::new(),
                    reason: format!("the instance ended meanwhile ({})", stored.status),
                });
                return Ok(outcome);
            }
        }
        Err(Error::Conflict(format!("process instance {} keeps changing; try again", stored.id)))
    }

    /// False when the instance moved on since it was read.
    async fn write_migration(
        &self,
        principal: &Principal,
        stored: &StoredInstance,
        target: &StoredDefinition,
        migrated: &weft_process::Instance,
        outcome: &MigrationOutcome,
    ) -> Result<bool> {
        let state = encode_state(migrated)?;
        let (id, revision, key, record) = (stored.id, stored.revision, stored.process_key.clone(), stored.record_id);
        let (definition, version) = (target.id, target.version);
        let actor = principal.actor();
        let detail = json!({
            "from_version": stored.version,
            "to_version": version,
            "moved": outcome.moved,
        });
        let moved = outcome.moved.clone();
        let at = self.process_now();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if !store::migrate_instance(tx, id, revision, definition, version, &state).await? {
                        return Ok(false);
                    }
                    for (from, to) in &moved {
                        store::rename_open_element(tx, id, from, to).await?;
                    }
                    let entry = store::HistoryEntry {
                        instance_id: id,
                        at,
                        actor: actor.clone(),
                        action: "migrate".into(),
                        task_id: None,
                        element: None,
                        detail: detail.to_string(),
                    };
                    store::insert_history(tx, &entry).await?;
                    let audit_entry = audit::AuditEntry {
                        actor: actor.clone(),
                        action: "process.migrate".into(),
                        target_type: "process_instance".into(),
                        target_id: id.to_string(),
                        detail: detail.clone(),
                    };
                    audit::append(tx, &audit_entry, weft_store::now()).await?;
                    let mut payload = json!({ "instance": id, "key": key, "version": version, "record": record });
                    if let (serde_json::Value::Object(out), serde_json::Value::Object(more)) = (&mut payload, detail) {
                        out.extend(more);
                    }
                    let event = outbox::NewEvent {
                        kind: "process.migrated".into(),
                        type_name: "process_instance".into(),
                        record_id: Some(id),
                        actor,
                        payload,
                    };
                    outbox::append(tx, &event, weft_store::now()).await?;
                    Ok::<bool, Error>(true)
                })
            })
            .await
    }
}
