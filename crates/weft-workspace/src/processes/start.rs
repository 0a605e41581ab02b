//! Starting instances: by a member (optionally bound to a record they may read, whose
//! fields become variables), and by a call activity's job (the child's id derives from the
//! parent's wait id, so a replayed job starts it once).

use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use weft_model::Principal;
use weft_process::{Engine, Start};
use weft_store::kernel::processes::{self as store, StoredInstance};

use super::step::{Cause, status_name};
use super::{InstanceView, view};
use crate::{Error, Result, Workspace};

/// What to start.
#[derive(Debug, Clone, Default)]
pub struct StartProcess {
    pub key: String,
    /// The record the instance is bound to: (type, id).
    pub record: Option<(String, Uuid)>,
    pub variables: Map<String, Json>,
    /// A retry with the same key (by the same principal) returns the instance the first
    /// request started instead of starting another.
    pub idempotency_key: Option<String>,
}

/// Where a child instance comes from.
pub(super) struct Parent {
    pub instance: Uuid,
    pub wait: String,
    pub started_by: Option<Uuid>,
    pub record: Option<(String, Uuid)>,
}

impl Workspace {
    /// Starts the newest version of `input.key`. Bound to a record, the starter must be
    /// able to read it (else `NotFound`, as for a missing record) and the process must be
    /// deployed for its type; a guest may start a process only on a record of its own party.
    /// The variables given must be declared by the deployment (or be fields of the bound
    /// type) and fit their types; every problem is listed.
    pub async fn start_process(&self, principal: &Principal, input: StartProcess) -> Result<InstanceView> {
        if input.record.is_none() {
            self.require_staff(principal)?;
        }
        let mut variables = Map::new();
        if let Some((type_name, id)) = &input.record {
            let record = self.get(principal, type_name, *id).await?;
            if let Json::Object(fields) = record.to_json() {
                variables.extend(fields.clone());
                variables.insert("record".into(), Json::Object(fields));
            }
        }
        let definition = store::latest_definition(&self.db, &input.key)
            .await?
            .ok_or_else(|| Error::NotFound(format!("process `{}`", input.key)))?;
        check_variables(&definition, self.type_decl_of(&definition).as_ref(), &input.variables)?;
        let id = match &input.idempotency_key {
            Some(key) => {
                let digest = Sha256::digest(format!("{} started with key {key}", principal.id).as_bytes());
                let mut bytes = [0u8; 16];
                bytes.copy_from_slice(&digest[..16]);
                let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
                if let Some(existing) = store::instance(&self.db, id).await? {
                    let same = existing.process_key == input.key
                        && existing.record_type.clone().zip(existing.record_id) == input.record;
                    if !same {
                        return Err(Error::Conflict("the Idempotency-Key was used for another start".into()));
                    }
                    return view(&existing);
                }
                id
            }
            None => Uuid::now_v7(),
        };
        variables.extend(input.variables);
        variables.insert("starter".into(), json!(principal.id.to_string()));
        let replayable = input.idempotency_key.is_some();
        let written = self
            .start_instance_at(
                &input.key,
                id,
                variables,
                input.record,
                Some(principal.id),
                None,
                principal.actor(),
                None,
                Some(definition),
            )
            .await?;
        // A fresh id was inserted with exactly the row written; under an idempotency key a
        // concurrent start with the same key may have inserted its own first.
        let stored = if replayable {
            store::instance(&self.db, id).await?.ok_or_else(|| Error::NotFound(format!("process instance {id}")))?
        } else {
            written
        };
        view(&stored)
    }

    fn type_decl_of(&self, definition: &store::StoredDefinition) -> Option<weft_model::schema::ObjectTypeDecl> {
        definition.record_type.as_deref().and_then(|t| self.type_decl(t))
    }

    /// Starts `key` for a record: its lifecycle's processes begin here.
    pub async fn start_process_for_record(
        &self,
        principal: &Principal,
        key: &str,
        type_name: &str,
        record: Uuid,
        variables: Map<String, Json>,
    ) -> Result<InstanceView> {
        let input = StartProcess {
            key: key.to_owned(),
            record: Some((type_name.to_owned(), record)),
            variables,
            idempotency_key: None,
        };
        self.start_process(principal, input).await
    }

    /// Starts the processes deployed to start on this transition event (`record.transitioned`),
    /// as the person who made the transition. The instance id derives from the event, so a
    /// redelivered event starts nothing twice.
    pub(super) async fn start_on_transition(&self, event: &weft_store::kernel::outbox::StoredEvent) -> Result<()> {
        let (Some(record), Some(transition)) = (event.record_id, event.payload["transition"].as_str()) else {
            return Ok(());
        };
        let keys = store::started_on(&self.db, &event.type_name, transition).await?;
        if keys.is_empty() {
            return Ok(());
        }
        let starter = event.actor.split_whitespace().next().and_then(|a| Uuid::parse_str(a).ok());
        let view = self.get(&Principal::system(), &event.type_name, record).await?;
        for key in keys {
            let mut variables = Map::new();
            if let Json::Object(fields) = view.to_json() {
                variables.extend(fields.clone());
                variables.insert("record".into(), Json::Object(fields));
            }
            if let Some(starter) = starter {
                variables.insert("starter".into(), json!(starter.to_string()));
            }
            let digest = Sha256::digest(format!("{key} started by event {}", event.seq).as_bytes());
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&digest[..16]);
            let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
            let bound = Some((event.type_name.clone(), record));
            self.start_instance(&key, id, variables, bound, starter, None, event.actor.clone()).await?;
        }
        Ok(())
    }

    /// A call activity's child: its id is derived from the parent's wait id.
    pub(super) async fn start_child(&self, parent: Parent, key: &str, variables: Map<String, Json>) -> Result<Uuid> {
        let digest = Sha256::digest(format!("child of {}", parent.wait).as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let mut variables = variables;
        if let Some(starter) = parent.started_by {
            variables.entry("starter").or_insert_with(|| json!(starter.to_string()));
        }
        self.start_instance(key, id, variables, parent.record.clone(), parent.started_by, Some(parent), "system".into())
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn start_instance(
        &self,
        key: &str,
        id: Uuid,
        variables: Map<String, Json>,
        record: Option<(String, Uuid)>,
        started_by: Option<Uuid>,
        parent: Option<Parent>,
        actor: String,
    ) -> Result<Uuid> {
        Ok(self.start_instance_at(key, id, variables, record, started_by, parent, actor, None, None).await?.id)
    }

    /// Starts the newest process whose message start event is named `name` (a message
    /// nothing waits for), with the message's variables; `origin` names the message, so the
    /// same message (a replayed publish job) starts one instance. `None` when no process
    /// starts on it.
    pub(super) async fn start_by_message(
        &self,
        principal: &Principal,
        name: &str,
        payload: &Map<String, Json>,
        origin: &str,
    ) -> Result<Option<Uuid>> {
        let mut seen = std::collections::HashSet::new();
        for definition in store::all_definitions(&self.db, None).await? {
            // Newest version first per key: older versions never start anything.
            if !seen.insert(definition.process_key.clone()) {
                continue;
            }
            let deployment = self.deployment(definition.id).await?;
            let Some((process, event)) = deployment.message_start(name) else { continue };
            if process != definition.process_key {
                continue;
            }
            let event = event.to_owned();
            let digest = Sha256::digest(format!("{} started by message {origin}", definition.process_key).as_bytes());
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&digest[..16]);
            let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
            let started_by = (!principal.is_system()).then_some(principal.on_behalf_of.unwrap_or(principal.id));
            let mut variables = payload.clone();
            if let Some(starter) = started_by {
                variables.insert("starter".into(), json!(starter.to_string()));
            }
            let key = definition.process_key.clone();
            self.start_instance_at(&key, id, variables, None, started_by, None, principal.actor(), Some(event), None)
                .await?;
            return Ok(Some(id));
        }
        Ok(None)
    }

    /// An instance started by a timer start event (`element`), as the system.
    pub(super) async fn start_timer_instance(&self, key: &str, id: Uuid, element: String) -> Result<Uuid> {
        Ok(self
            .start_instance_at(key, id, Map::new(), None, None, None, "system".into(), Some(element), None)
            .await?
            .id)
    }

    #[allow(clippy::too_many_arguments)]
    async fn start_instance_at(
        &self,
        key: &str,
        id: Uuid,
        variables: Map<String, Json>,
        record: Option<(String, Uuid)>,
        started_by: Option<Uuid>,
        parent: Option<Parent>,
        actor: String,
        start_event: Option<String>,
        // The newest definition of `key`, when the caller has just read it.
        known: Option<store::StoredDefinition>,
    ) -> Result<StoredInstance> {
        let definition = match known {
            Some(definition) => definition,
            None => store::latest_definition(&self.db, key)
                .await?
                .ok_or_else(|| Error::NotFound(format!("process `{key}`")))?,
        };
        if let (Some(bound), Some((type_name, _))) = (&definition.record_type, &record)
            && bound != type_name
        {
            return Err(Error::BadRequest(format!("process `{key}` is bound to `{bound}`, not `{type_name}`")));
        }
        let deployment = self.deployment(definition.id).await?;
        let now = self.process_now();
        let working_time = self.working_time().await?;
        let engine = Engine::with_working_time(working_time.as_ref());
        let (state, effects) = engine
            .start(&deployment, Start { start_event, ..Start::new(id, key, variables) }, now)
            .map_err(|e| Error::Conflict(e.to_string()))?;
        let (parent_instance, parent_wait) = match parent {
            Some(p) => (Some(p.instance), Some(p.wait)),
            None => (None, None),
        };
        let stored = StoredInstance {
            id,
            definition_id: definition.id,
            process_key: key.to_owned(),
            version: definition.version,
            status: status_name(state.status).into(),
            record_type: record.as_ref().map(|r| r.0.clone()),
            record_id: record.as_ref().map(|r| r.1),
            parent_instance,
            parent_wait,
            started_by,
            started_at: now,
            ended_at: (state.status != weft_process::Status::Active).then_some(now),
            state: serde_json::to_string(&state).map_err(|e| Error::Internal(e.to_string()))?,
            revision: 1,
        };
        let cause =
            Cause::new(actor, "start", json!({ "definition": definition.id, "parent": stored.parent_instance }));
        self.persist_step(&stored, Some(stored.clone()), &state, 0, effects, cause, now).await?;
        // As read back: times are stored to the microsecond.
        let (started_at, ended_at) =
            (weft_store::to_micros(stored.started_at), stored.ended_at.map(weft_store::to_micros));
        Ok(StoredInstance { started_at, ended_at, ..stored })
    }
}

/// Variables a starter sends: declared by the deployment (name to type) or fields of the
/// bound type, of the right shape; `starter` and `record` are the engine's to set.
fn check_variables(
    definition: &store::StoredDefinition,
    decl: Option<&weft_model::schema::ObjectTypeDecl>,
    given: &Map<String, Json>,
) -> Result<()> {
    use weft_model::schema::{FieldError, FieldErrorCode};
    let declared: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&definition.variables).unwrap_or_default();
    let mut errors = Vec::new();
    for (name, value) in given {
        let pointer = format!("/variables/{name}");
        if matches!(name.as_str(), "starter" | "record") {
            errors.push(FieldError {
                pointer,
                code: FieldErrorCode::ReadOnly,
                reason: format!("`{name}` is set by the engine"),
            });
            continue;
        }
        let Some(ty) = declared.get(name) else {
            let known = matches!(name.as_str(), "approved" | "comment")
                || decl.is_some_and(|d| d.fields.iter().any(|f| f.name == *name));
            if !known {
                errors.push(FieldError {
                    pointer,
                    code: FieldErrorCode::UnknownField,
                    reason: format!("`{name}` is not a variable process `{}` declares", definition.process_key),
                });
            }
            continue;
        };
        if value.is_null() {
            continue;
        }
        let number_text = |v: &Json| {
            v.as_str().is_some_and(|t| {
                let t = t.trim().trim_start_matches('-');
                !t.is_empty() && t.split('.').count() <= 2 && t.chars().all(|c| c.is_ascii_digit() || c == '.')
            })
        };
        let fits = match ty.as_str() {
            "text" | "date" | "datetime" | "duration" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "decimal" | "money" => value.is_number() || number_text(value),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !fits {
            errors.push(FieldError {
                pointer,
                code: FieldErrorCode::WrongType,
                reason: format!("`{name}` must be a {ty}"),
            });
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
}

/// The outbox consumer that starts processes on lifecycle transitions
/// (`Workspace::spawn_consumer(ProcessStarts)` in the server; tests run it once).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessStarts;

impl crate::consumers::Consumer for ProcessStarts {
    fn name(&self) -> &str {
        "process_starts"
    }

    fn handle<'a>(
        &'a self,
        workspace: &'a Workspace,
        event: &'a weft_store::kernel::outbox::StoredEvent,
    ) -> weft_store::BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if event.kind == "record.transitioned" {
                workspace.start_on_transition(event).await?;
            }
            Ok(())
        })
    }
}
