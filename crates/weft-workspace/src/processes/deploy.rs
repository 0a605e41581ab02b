//! Deploying BPMN definitions: admin only, validated against the variables instances will
//! have (the bound type's fields, `record`, `starter`, the approval outputs and the
//! variables the deployment declares), versioned per process key, audited. Deploying the
//! same XML again returns the version already stored rather than a new one.

use std::collections::BTreeMap;

use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;
use weft_expr::{FieldType, Schema};
use weft_model::Principal;
use weft_process::Environment;
use weft_store::kernel::{outbox, processes as store};

use crate::{Error, Result, Workspace, admin_audit};

/// A deployment request.
#[derive(Debug, Clone, Default)]
pub struct DeployProcess {
    pub xml: String,
    /// The object type instances are bound to: its fields become variables.
    pub record_type: Option<String>,
    /// A lifecycle transition of `record_type` that starts an instance (`submit` starts
    /// the approval); the `process_starts` consumer does it.
    pub start_on: Option<String>,
    /// Further process variables, name to type (`text`, `integer`, `decimal`, `boolean`,
    /// `date`, `datetime`, `duration`, `json`).
    pub variables: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedProcess {
    pub id: Uuid,
    pub key: String,
    pub version: i64,
    pub name: String,
    pub record_type: Option<String>,
    pub deployed_at: OffsetDateTime,
    pub deployed_by: String,
    /// True when this exact XML was deployed before and that version is returned.
    pub unchanged: bool,
}

/// Names every instance has.
const BUILTIN: [(&str, FieldType); 4] = [
    ("starter", FieldType::Text),
    ("record", FieldType::Opaque("json")),
    ("approved", FieldType::Boolean),
    ("comment", FieldType::Text),
];

fn field_type(name: &str, ty: &str) -> Result<FieldType> {
    Ok(match ty {
        "text" => FieldType::Text,
        "integer" => FieldType::Integer,
        "decimal" => FieldType::Decimal,
        "money" => FieldType::Money,
        "boolean" => FieldType::Boolean,
        "date" => FieldType::Date,
        "datetime" => FieldType::DateTime,
        "duration" => FieldType::Duration,
        "json" => FieldType::Opaque("json"),
        other => {
            return Err(Error::BadRequest(format!(
                "variable `{name}`: `{other}` is not one of text, integer, decimal, money, boolean, date, datetime, \
                 duration, json"
            )));
        }
    })
}

fn problems(found: Vec<weft_process::Problem>) -> Error {
    Error::Validation(
        found
            .into_iter()
            .map(|p| weft_model::schema::FieldError {
                // The element to fix, as a pointer into the definition (`/manager_approve`).
                pointer: p.element.as_deref().map(|e| format!("/{e}")).unwrap_or_default(),
                code: weft_model::schema::FieldErrorCode::InvalidFormat,
                reason: p.to_string(),
            })
            .collect(),
    )
}

impl Workspace {
    /// What a definition's expressions may name, and which processes call activities may
    /// start (those deployed, plus `also`).
    pub(super) async fn environment(
        &self,
        record_type: Option<&str>,
        variables: &BTreeMap<String, String>,
        also: &[String],
    ) -> Result<Environment> {
        let mut schema = match record_type {
            Some(name) => {
                Schema::for_type(&self.type_decl(name).ok_or_else(|| Error::NotFound(format!("type `{name}`")))?)
            }
            None => Schema::new(),
        };
        for (name, ty) in BUILTIN {
            schema = schema.with_var(name, ty);
        }
        for (name, ty) in variables {
            schema = schema.with_var(name.clone(), field_type(name, ty)?);
        }
        let mut env = Environment::new(schema);
        let mut read = self.db.begin_read().await?;
        let keys = store::process_keys(&mut read).await;
        read.rollback().await?;
        for key in keys?.into_iter().chain(also.iter().cloned()) {
            env = env.with_process(key);
        }
        Ok(env)
    }

    /// Deploys every executable process of `input.xml`, each as the next version of its key
    /// (or the existing version when the same XML was deployed before).
    pub async fn deploy_process(&self, principal: &Principal, input: DeployProcess) -> Result<Vec<DeployedProcess>> {
        self.require_admin(principal)?;
        let parsed = weft_process::parse(&input.xml).map_err(problems)?;
        // A task's form fields are variables once it completes: conditions may name them.
        let mut input = input;
        for process in &parsed.processes {
            for element in &process.elements {
                if let weft_process::model::ElementKind::UserTask(task) = &element.kind {
                    for field in &task.fields {
                        input.variables.entry(field.name.clone()).or_insert_with(|| field.field_type.clone());
                    }
                }
            }
        }
        let keys: Vec<String> = parsed.processes.iter().filter(|p| p.executable).map(|p| p.id.clone()).collect();
        let names: Vec<String> = parsed
            .processes
            .iter()
            .filter(|p| p.executable)
            .map(|p| p.name.clone().unwrap_or_else(|| p.id.clone()))
            .collect();
        if keys.is_empty() {
            return Err(Error::BadRequest("the definition has no executable process".into()));
        }
        if let Some(transition) = &input.start_on {
            let known = input
                .record_type
                .as_deref()
                .and_then(|t| self.type_decl(t))
                .and_then(|d| d.lifecycle)
                .is_some_and(|l| l.transition(transition).is_some());
            if !known {
                return Err(Error::BadRequest(format!(
                    "`start_on` names `{transition}`, which is not a transition of the bound type"
                )));
            }
        }
        let env = self.environment(input.record_type.as_deref(), &input.variables, &keys).await?;
        let deployment = weft_process::validate(parsed, &env).map_err(problems)?;
        let now = self.process_now();
        let mut start_timers = Vec::new();
        for key in &keys {
            start_timers.extend(self.timer_starts(&deployment, key, now).await?);
        }
        let checksum = hex::encode(Sha256::digest(input.xml.as_bytes()));
        let variables = serde_json::to_string(&input.variables).map_err(|e| Error::Internal(e.to_string()))?;
        let principal = principal.clone();
        let at = self.process_now();
        let deployed = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let mut out = Vec::new();
                    for (key, name) in keys.iter().zip(names) {
                        if let Some(existing) = store::definition_by_checksum(tx, key, &checksum).await? {
                            out.push(DeployedProcess {
                                id: existing.id,
                                key: existing.process_key,
                                version: existing.version,
                                name: existing.name,
                                record_type: existing.record_type,
                                deployed_at: existing.deployed_at,
                                deployed_by: existing.deployed_by,
                                unchanged: true,
                            });
                            continue;
                        }
                        let version = store::next_version(tx, key).await?;
                        let stored = store::StoredDefinition {
                            id: Uuid::now_v7(),
                            process_key: key.clone(),
                            version,
                            name,
                            record_type: input.record_type.clone(),
                            start_on: input.start_on.clone(),
                            variables: variables.clone(),
                            xml: input.xml.clone(),
                            checksum: checksum.clone(),
                            deployed_at: at,
                            deployed_by: principal.actor(),
                        };
                        store::insert_definition(tx, &stored).await?;
                        // The newest version alone starts on timers.
                        store::cancel_start_timers(tx, key).await?;
                        for timer in start_timers.iter().filter(|t| t.process_key == *key) {
                            let row = store::StoredStartTimer {
                                id: format!("{}/{}", stored.id, timer.element),
                                definition_id: stored.id,
                                process_key: key.clone(),
                                element: timer.element.clone(),
                                spec: timer.spec.to_string(),
                                calendar: timer.calendar.clone(),
                                due_at: timer.first,
                                fired: 0,
                                status: "pending".into(),
                                last_error: None,
                            };
                            store::insert_start_timer(tx, &row).await?;
                        }
                        let detail =
                            json!({ "version": version, "record_type": stored.record_type, "checksum": checksum });
                        admin_audit::record(tx, &principal, "process.deploy", "process", key, detail).await?;
                        let event = outbox::NewEvent {
                            kind: "process.deployed".into(),
                            type_name: "process".into(),
                            record_id: None,
                            actor: principal.actor(),
                            payload: json!({ "key": key, "version": version, "definition": stored.id }),
                        };
                        outbox::append(tx, &event, weft_store::now()).await?;
                        out.push(DeployedProcess {
                            id: stored.id,
                            key: stored.process_key,
                            version,
                            name: stored.name,
                            record_type: stored.record_type,
                            deployed_at: at,
                            deployed_by: stored.deployed_by,
                            unchanged: false,
                        });
                    }
                    Ok::<_, Error>(out)
                })
            })
            .await?;
        Ok(deployed)
    }
}
