//! Commands on records: create, update, transition, delete, restore, purge, bulk create.
//!
//! Each runs the one path: access check → validation (every bad field at once) → one
//! transaction with the row write, a history entry, an audit entry and an outbox event.
//! Pure validation happens before the transaction; checks that need the database
//! (references, uniqueness, the current state and version) inside it.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::{FieldError, FieldErrorCode, FieldKind, Mode, Value, coerce_record, coerce_transition_inputs};
use weft_store::kernel::{audit, counters, history, idempotency, outbox};
use weft_store::records::rows::{self, Source, StoredRecord, SystemChanges, SystemFields, UpdateOutcome};
use weft_store::records::{Storage, TableSpec};
use weft_store::{Backend, Tx, format_utc};

use crate::access::{Action, Reach};
use crate::catalog::{Catalog, TypeEntry};
use crate::{Error, Result, Workspace};
use crate::{apps, expressions, party_link};

/// A record as the façade hands it out.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordView {
    pub type_name: String,
    pub system: SystemFields,
    pub values: BTreeMap<String, Value>,
}

impl RecordView {
    fn from_stored(type_name: &str, stored: StoredRecord) -> RecordView {
        RecordView { type_name: type_name.to_owned(), system: stored.system, values: stored.values }
    }

    /// The API shape: system keys and declared fields side by side (declared names can
    /// never collide with system ones).
    pub fn to_json(&self) -> Json {
        let s = &self.system;
        let mut out = Map::new();
        out.insert("id".into(), json!(s.id));
        out.insert("type".into(), json!(self.type_name));
        out.insert("number".into(), json!(s.number));
        out.insert("state".into(), json!(s.state));
        out.insert("owner".into(), json!(s.owner));
        out.insert("party".into(), json!(s.party));
        out.insert("unit".into(), json!(s.unit));
        out.insert("version".into(), json!(s.version));
        out.insert("created_at".into(), json!(format_utc(s.created_at)));
        out.insert("updated_at".into(), json!(format_utc(s.updated_at)));
        out.insert("deleted_at".into(), json!(s.deleted_at.map(format_utc)));
        out.insert("created_by".into(), json!(s.created_by));
        out.insert("updated_by".into(), json!(s.updated_by));
        for (name, value) in &self.values {
            out.insert(name.clone(), value.to_json());
        }
        Json::Object(out)
    }
}

/// A retried request carries the same key; the first response is returned again.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    /// A digest of the request body: the same key with another body is a conflict.
    pub request_hash: String,
}

impl Idempotency {
    /// Locks the key for the rest of the transaction and returns the first request's answer
    /// if there was one; the same key with another request is a conflict.
    pub(crate) async fn replay(&self, tx: &mut Tx, principal_key: &str) -> Result<Option<Json>> {
        idempotency::lock(tx, principal_key, &self.key).await?;
        let Some(stored) = idempotency::find(tx, principal_key, &self.key).await? else { return Ok(None) };
        if stored.request_hash != self.request_hash {
            return Err(Error::Conflict(format!(
                "Idempotency-Key `{}` was already used for a different request",
                self.key
            )));
        }
        Ok(Some(serde_json::from_str(&stored.response).unwrap_or(Json::Null)))
    }

    /// Keeps `response` (a 201) as the answer to retries with this key.
    pub(crate) async fn remember(
        &self,
        tx: &mut Tx,
        principal_key: &str,
        response: &Json,
        at: OffsetDateTime,
    ) -> Result<()> {
        let stored = idempotency::StoredResponse {
            request_hash: self.request_hash.clone(),
            status: 201,
            response: response.to_string(),
        };
        Ok(idempotency::store(tx, principal_key, &self.key, &stored, at).await?)
    }
}

#[derive(Debug, Clone)]
pub enum Created {
    Fresh(Box<RecordView>),
    /// The stored response of the first request with this idempotency key.
    Replayed(Json),
}

impl Created {
    pub fn to_json(&self) -> Json {
        match self {
            Created::Fresh(view) => view.to_json(),
            Created::Replayed(json) => json.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkMode {
    /// Every row or none: one bad row refuses the whole request.
    AllOrNothing,
    /// Each row on its own; the report says which were created.
    PerRow,
}

#[derive(Debug)]
pub enum BulkRow {
    Created(RecordView),
    Failed(Error),
}

/// System keys accepted in input: who owns the record and which party it concerns.
struct SystemInput {
    owner: Option<Option<Uuid>>,
    party: Option<Option<Uuid>>,
    unit: Option<Option<Uuid>>,
}

fn take_system_input(input: &mut Map<String, Json>, errors: &mut Vec<FieldError>) -> SystemInput {
    let mut read = |key: &str| -> Option<Option<Uuid>> {
        let value = input.remove(key)?;
        match &value {
            Json::Null => Some(None),
            Json::String(s) => match Uuid::parse_str(s) {
                Ok(id) => Some(Some(id)),
                Err(_) => {
                    errors.push(field_error(&format!("/{key}"), FieldErrorCode::InvalidFormat, "expected a UUID"));
                    None
                }
            },
            _ => {
                errors.push(field_error(
                    &format!("/{key}"),
                    FieldErrorCode::WrongType,
                    "expected a UUID string or null",
                ));
                None
            }
        }
    };
    SystemInput { owner: read("owner"), party: read("party"), unit: read("unit") }
}

fn field_error(pointer: &str, code: FieldErrorCode, reason: impl Into<String>) -> FieldError {
    FieldError { pointer: pointer.to_owned(), code, reason: reason.into() }
}

/// Gives every line without an id a fresh one, so the response shows the ids a later
/// read returns and history can tell an edited line from a new one.
fn assign_line_ids(values: &mut BTreeMap<String, Value>) {
    for value in values.values_mut() {
        if let Value::Lines(lines) = value {
            for line in lines.iter_mut() {
                line.entry("id".to_owned()).or_insert_with(|| Value::Reference(Uuid::now_v7()));
            }
        }
    }
}

/// References as given in raw input (well-formed ids only; malformed ones are reported by
/// coercion).
fn raw_references(spec: &TableSpec, input: &Map<String, Json>) -> Vec<(String, String, Uuid)> {
    let id = |v: Option<&Json>| v.and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok());
    let mut out = Vec::new();
    for field in &spec.fields {
        match &field.storage {
            Storage::Reference { target_table, .. } => {
                if let Some(id) = id(input.get(&field.field)) {
                    out.push((format!("/{}", field.field), target_table.clone(), id));
                }
            }
            Storage::Lines(lines) => {
                let Some(Json::Array(rows)) = input.get(&field.field) else { continue };
                for (i, row) in rows.iter().enumerate() {
                    for lf in &lines.fields {
                        if let Storage::Reference { target_table, .. } = &lf.storage
                            && let Some(id) = id(row.get(&lf.field))
                        {
                            out.push((format!("/{}/{i}/{}", field.field, lf.field), target_table.clone(), id));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// References (top level and in lines) that must name live records.
fn references(spec: &TableSpec, values: &BTreeMap<String, Value>) -> Vec<(String, String, Uuid)> {
    let mut out = Vec::new();
    for field in &spec.fields {
        match (&field.storage, values.get(&field.field)) {
            (Storage::Reference { target_table, .. }, Some(Value::Reference(id))) => {
                out.push((format!("/{}", field.field), target_table.clone(), *id));
            }
            (Storage::Lines(lines), Some(Value::Lines(rows))) => {
                for (i, row) in rows.iter().enumerate() {
                    for lf in &lines.fields {
                        if let (Storage::Reference { target_table, .. }, Some(Value::Reference(id))) =
                            (&lf.storage, row.get(&lf.field))
                        {
                            out.push((format!("/{}/{i}/{}", field.field, lf.field), target_table.clone(), *id));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Every reference names an existing record; the records in `hidden` (ones the principal
/// may not read) are answered as missing, at the same step and in the same order, so that
/// no other answer (a version conflict, another field's error, a missing record) tells
/// them apart.
async fn check_references_hiding(
    tx: &mut Tx,
    spec: &TableSpec,
    values: &BTreeMap<String, Value>,
    hidden: &HashSet<Uuid>,
) -> Result<()> {
    let mut errors = Vec::new();
    for (pointer, table, id) in references(spec, values) {
        if hidden.contains(&id) || !rows::exists(tx, &table, id).await? {
            errors.push(field_error(&pointer, FieldErrorCode::UnknownReference, format!("no record {id}")));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
}

/// `[{field, from, to}]` for every field whose value changes.
fn diff_values(before: &BTreeMap<String, Value>, after: &BTreeMap<String, Value>) -> Vec<Json> {
    let mut out = Vec::new();
    for (field, new) in after {
        let old = before.get(field).unwrap_or(&Value::Null);
        if old != new {
            out.push(json!({ "field": field, "from": old.to_json(), "to": new.to_json() }));
        }
    }
    out
}

/// A new record's history diff, as written: empty. The record's values at creation are its
/// row's values with the later entries undone, and the timeline shows them so
/// (`created_values`); written out here they were most of what a create wrote.
pub(crate) const CREATED: &str = "[]";

/// History, audit entry and event of one command, in the command's transaction.
struct Effects<'a> {
    entry: &'a TypeEntry,
    actor: String,
    record_id: Uuid,
    version: i64,
    command: String,
    changes: Json,
    event_kind: &'static str,
    event_payload: Json,
    at: OffsetDateTime,
}

async fn record_effects(tx: &mut Tx, e: Effects<'_>) -> Result<()> {
    history::append(
        tx,
        &history::HistoryEntry {
            type_name: e.entry.decl.name.clone(),
            record_id: e.record_id,
            version: e.version,
            command: e.command.clone(),
            actor: e.actor.clone(),
            changes: e.changes.to_string(),
        },
        e.at,
    )
    .await?;
    audit::append(
        tx,
        &audit::AuditEntry {
            actor: e.actor.clone(),
            action: format!("record.{}", e.command),
            target_type: e.entry.decl.name.clone(),
            target_id: e.record_id.to_string(),
            detail: json!({ "version": e.version }),
        },
        e.at,
    )
    .await?;
    outbox::append(
        tx,
        &outbox::NewEvent {
            kind: e.event_kind.into(),
            type_name: e.entry.decl.name.clone(),
            record_id: Some(e.record_id),
            actor: e.actor,
            payload: e.event_payload,
        },
        e.at,
    )
    .await?;
    Ok(())
}

/// A create, validated and ready to write.
#[derive(Clone)]
pub(crate) struct PreparedCreate {
    entry: Arc<TypeEntry>,
    values: BTreeMap<String, Value>,
    owner: Option<Uuid>,
    party: Option<Uuid>,
    unit: Option<Uuid>,
    actor_id: Uuid,
    actor: String,
    /// Set for a guest: a record whose party comes from its fields must land in this party.
    guest_party: Option<Uuid>,
    /// Chosen before the write, when records created with it refer to it (`create_with`).
    id: Option<Uuid>,
    /// The state an engine creates the record in (`engine_create`); else the lifecycle's initial one.
    state: Option<String>,
}

impl PreparedCreate {
    pub(crate) fn type_name(&self) -> &str {
        &self.entry.decl.name
    }

    /// The record will be written with `id`.
    pub(crate) fn with_id(self, id: Uuid) -> PreparedCreate {
        PreparedCreate { id: Some(id), ..self }
    }

    /// Whether both were validated against the same declaration of their type.
    pub(crate) fn same_declaration(&self, other: &PreparedCreate) -> bool {
        Arc::ptr_eq(&self.entry, &other.entry)
    }

    /// The state the record is created in.
    fn initial_state(&self) -> Option<String> {
        let lifecycle = self.entry.decl.lifecycle.as_ref()?;
        Some(self.state.clone().unwrap_or_else(|| lifecycle.initial.clone()))
    }

    /// Whether `reach` takes in the record this create would write. The record is built
    /// around the create's values, taken and put back rather than copied.
    fn within_reach(&mut self, reach: &Reach) -> bool {
        let at = weft_store::now();
        let record = StoredRecord {
            system: SystemFields {
                id: Uuid::nil(),
                number: None,
                state: self.initial_state(),
                owner: self.owner,
                party: self.party,
                unit: self.unit,
                version: 0,
                created_at: at,
                updated_at: at,
                deleted_at: None,
                created_by: self.actor_id,
                updated_by: self.actor_id,
            },
            values: std::mem::take(&mut self.values),
        };
        let within = reach.matches(&self.entry, &record);
        self.values = record.values;
        within
    }
}

impl Workspace {
    /// References in `input` to records the principal may not read, refused exactly like
    /// references to records that do not exist: pointing at a record is reading it, and
    /// the answer must not reveal that it exists.
    async fn unreadable_references(
        &self,
        principal: &Principal,
        entry: &TypeEntry,
        input: &Map<String, Json>,
    ) -> Result<Vec<(FieldError, Uuid)>> {
        let mut errors = Vec::new();
        if principal.is_system() {
            return Ok(errors);
        }
        for (pointer, table, id) in raw_references(&entry.spec, input) {
            let Some(target) = table.strip_prefix("r_").and_then(|t| self.catalog.get(t)) else { continue };
            if self.reach(principal, &target, &Action::Read).condition(&target, self.db.backend()).is_none() {
                continue;
            }
            if let Some(record) = rows::get(Source::Db(&self.db), &target.spec, id, false).await?
                && !self.readable_now(principal, &target, &record).await?
            {
                errors.push((field_error(&pointer, FieldErrorCode::UnknownReference, format!("no record {id}")), id));
            }
        }
        Ok(errors)
    }

    /// Input naming fields the principal's roles hide or freeze on this type.
    fn unwritable_fields(
        &self,
        principal: &Principal,
        entry: &TypeEntry,
        input: &Map<String, Json>,
    ) -> Vec<FieldError> {
        let rules = self.field_rules(principal, entry);
        if rules.is_empty() {
            return Vec::new();
        }
        input
            .keys()
            .filter(|k| !rules.writable(k))
            .map(|k| field_error(&format!("/{k}"), FieldErrorCode::NotEditable, "read-only for your role"))
            .collect()
    }

    pub(crate) fn entry(&self, type_name: &str) -> Result<Arc<TypeEntry>> {
        self.catalog.get(type_name).ok_or_else(|| Error::NotFound(format!("type `{type_name}`")))
    }

    /// `prepare_create`; when it refuses fields, the references in the input are checked
    /// too, so every bad field is reported at once (the write re-checks them in its
    /// transaction).
    pub(crate) async fn validate_create(
        &self,
        principal: &Principal,
        entry: Arc<TypeEntry>,
        input: Map<String, Json>,
    ) -> Result<PreparedCreate> {
        let raw = input.clone();
        let hidden_refs: Vec<FieldError> =
            self.unreadable_references(principal, &entry, &raw).await?.into_iter().map(|(e, _)| e).collect();
        let related = self.defaults_related(&entry, &raw).await?;
        match self.prepare_create(principal, entry.clone(), input, &related) {
            Ok(_) if !hidden_refs.is_empty() => Err(Error::Validation(hidden_refs)),
            Err(Error::Validation(mut errors)) => {
                errors.extend(
                    hidden_refs
                        .into_iter()
                        .filter(|h| !errors.iter().any(|e| e.pointer == h.pointer))
                        .collect::<Vec<_>>(),
                );
                for (pointer, table, id) in raw_references(&entry.spec, &raw) {
                    if errors.iter().any(|e| e.pointer == pointer) {
                        continue;
                    }
                    if !rows::exists_now(&self.db, &table, id).await? {
                        errors.push(field_error(&pointer, FieldErrorCode::UnknownReference, format!("no record {id}")));
                    }
                }
                errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
                Err(Error::Validation(errors))
            }
            other => other,
        }
    }

    /// What the type's FEEL defaults look into through the references `input` names
    /// (`supplier.currency`). Read before the write: a default is what the referenced record
    /// said when the record was made.
    async fn defaults_related(&self, entry: &TypeEntry, input: &Map<String, Json>) -> Result<expressions::Related> {
        let sources: Vec<&str> = entry
            .decl
            .fields
            .iter()
            .filter_map(|f| match &f.default {
                Some(weft_model::schema::DefaultValue::Feel { feel }) => Some(feel.as_str()),
                _ => None,
            })
            .collect();
        if !sources.iter().any(|s| s.contains('.')) {
            return Ok(expressions::Related::default());
        }
        let values: BTreeMap<String, Value> =
            input.iter().filter_map(|(k, v)| Some((k.clone(), Value::Reference(v.as_str()?.parse().ok()?)))).collect();
        expressions::Related::load(Source::Db(&self.db), &self.catalog, &entry.decl.fields, &values, &sources).await
    }

    fn prepare_create(
        &self,
        principal: &Principal,
        entry: Arc<TypeEntry>,
        mut input: Map<String, Json>,
        related: &expressions::Related,
    ) -> Result<PreparedCreate> {
        let reach = self.reach(principal, &entry, &Action::Create);
        if !reach.has_grant() {
            return Err(reach.forbidden());
        }
        let mut errors = self.unwritable_fields(principal, &entry, &input);
        let system = take_system_input(&mut input, &mut errors);
        let mut values = BTreeMap::new();
        match coerce_record(&entry.decl, &input, Mode::Create) {
            Ok(coerced) => {
                values = coerced.values;
                expressions::apply_defaults(
                    &entry.decl,
                    &entry.schema,
                    &mut values,
                    &coerced.feel_defaults,
                    principal,
                    &mut errors,
                    related,
                );
                if errors.is_empty()
                    && expressions::has_computed(&entry.decl, false)
                    && let Err(found) = expressions::compute_fields(&entry.decl, &mut values, principal)
                {
                    errors.extend(found);
                }
            }
            Err(found) => errors.extend(found),
        }
        if !errors.is_empty() {
            errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
            return Err(Error::Validation(errors));
        }
        assign_line_ids(&mut values);
        // A type that names its party in a field takes it from there (checked again when
        // written, once app hooks have filled fields in); otherwise a guest's records
        // always concern the guest's own party.
        let party = match (party_link::derived_party(&entry.decl, Uuid::nil(), &values), principal.party()) {
            (Some(Some(derived)), _) => Some(derived),
            (_, Some(own)) => Some(own),
            (Some(None), None) => None,
            (None, None) => system.party.flatten(),
        };
        let owner = system.owner.unwrap_or(Some(principal.id));
        let unit = match system.unit {
            Some(unit) => unit,
            None => self.primary_unit(principal),
        };
        let mut prepared = PreparedCreate {
            entry,
            values,
            owner,
            party,
            unit,
            actor_id: principal.id,
            actor: principal.actor(),
            guest_party: principal.party(),
            id: None,
            state: None,
        };
        if !prepared.within_reach(&reach) {
            return Err(Error::Forbidden(format!(
                "missing permission `create` on `{}` for this record (outside your scope or condition)",
                prepared.entry.decl.name
            )));
        }
        Ok(prepared)
    }

    /// Creates a record. With `idempotency`, a retry returns the first result.
    pub async fn create(
        &self,
        principal: &Principal,
        type_name: &str,
        input: Map<String, Json>,
        idempotency: Option<Idempotency>,
    ) -> Result<Created> {
        let entry = self.entry(type_name)?;
        let rules = self.field_rules(principal, &entry);
        let prepared = self.validate_create(principal, entry, input).await?;
        if idempotency.is_none() {
            let mut view = self.create_lots.create(&self.db, &self.catalog, prepared).await?;
            redact_with(&rules, &mut view);
            return Ok(Created::Fresh(Box::new(view)));
        }
        let principal_key = principal.actor();
        let catalog = self.catalog.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if let Some(idem) = &idempotency
                        && let Some(json) = idem.replay(tx, &principal_key).await?
                    {
                        return Ok(Created::Replayed(json));
                    }
                    let mut view = insert_prepared(tx, &catalog, &prepared).await?;
                    redact_with(&rules, &mut view);
                    if let Some(idem) = &idempotency {
                        idem.remember(tx, &principal_key, &view.to_json(), view.system.created_at).await?;
                    }
                    Ok(Created::Fresh(Box::new(view)))
                })
            })
            .await
    }

    /// Creates many records: all or nothing, or each row on its own.
    pub async fn bulk_create(
        &self,
        principal: &Principal,
        type_name: &str,
        rows_input: Vec<Map<String, Json>>,
        mode: BulkMode,
    ) -> Result<Vec<BulkRow>> {
        let entry = self.entry(type_name)?;
        match mode {
            BulkMode::PerRow => {
                let mut out = Vec::with_capacity(rows_input.len());
                let mut pending = Vec::new();
                for input in rows_input {
                    match self.validate_create(principal, entry.clone(), input).await {
                        Ok(prepared) => {
                            let db = self.db.clone();
                            let catalog = self.catalog.clone();
                            // Submitted together so the writer folds them into few commits.
                            pending.push((
                                out.len(),
                                tokio::spawn(async move {
                                    db.write(move |tx| {
                                        let catalog = catalog.clone();
                                        let prepared = prepared.clone();
                                        Box::pin(async move { insert_prepared(tx, &catalog, &prepared).await })
                                    })
                                    .await
                                }),
                            ));
                            out.push(None);
                        }
                        Err(e) => out.push(Some(BulkRow::Failed(e))),
                    }
                }
                for (index, handle) in pending {
                    let row = match handle.await {
                        Ok(Ok(view)) => BulkRow::Created(view),
                        Ok(Err(e)) => BulkRow::Failed(e),
                        Err(join) => BulkRow::Failed(Error::Conflict(format!("row was not written: {join}"))),
                    };
                    out[index] = Some(row);
                }
                Ok(out.into_iter().flatten().collect())
            }
            BulkMode::AllOrNothing => {
                let mut prepared = Vec::with_capacity(rows_input.len());
                let mut errors = Vec::new();
                for (i, input) in rows_input.into_iter().enumerate() {
                    match self.validate_create(principal, entry.clone(), input).await {
                        Ok(p) => prepared.push(p),
                        Err(Error::Validation(found)) => errors.extend(
                            found.into_iter().map(|e| FieldError { pointer: format!("/{i}{}", e.pointer), ..e }),
                        ),
                        Err(other) => return Err(other),
                    }
                }
                if !errors.is_empty() {
                    return Err(Error::Validation(errors));
                }
                let catalog = self.catalog.clone();
                let views = self
                    .db
                    .write(move |tx| {
                        Box::pin(async move {
                            let Some(first) = prepared.first() else { return Ok(Vec::new()) };
                            let entry = first.entry.clone();
                            if apps::hook(&entry).is_some() {
                                // Rows an app engine checks against each other (quantities
                                // left open) go one at a time, in this one transaction.
                                let mut views = Vec::with_capacity(prepared.len());
                                for (i, p) in prepared.iter().enumerate() {
                                    views.push(insert_prepared(tx, &catalog, p).await.map_err(|e| {
                                        match e {
                                            Error::Validation(found) => Error::Validation(
                                                found
                                                    .into_iter()
                                                    .map(|f| FieldError { pointer: format!("/{i}{}", f.pointer), ..f })
                                                    .collect(),
                                            ),
                                            other => other,
                                        }
                                    })?);
                                }
                                return Ok(views);
                            }
                            insert_batch(tx, &entry, &prepared).await
                        })
                    })
                    .await?;
                Ok(views.into_iter().map(BulkRow::Created).collect())
            }
        }
    }

    /// Changes some fields. `expected_version` (from `If-Match`) must still be current.
    pub async fn update(
        &self,
        principal: &Principal,
        type_name: &str,
        id: Uuid,
        expected_version: Option<i64>,
        mut input: Map<String, Json>,
    ) -> Result<RecordView> {
        let entry = self.entry(type_name)?;
        let mut errors = self.unwritable_fields(principal, &entry, &input);
        let hidden: HashSet<Uuid> =
            self.unreadable_references(principal, &entry, &input).await?.into_iter().map(|(_, id)| id).collect();
        let system = take_system_input(&mut input, &mut errors);
        let values = match coerce_record(&entry.decl, &input, Mode::Update) {
            Ok(mut coerced) => {
                assign_line_ids(&mut coerced.values);
                coerced.values
            }
            Err(found) => {
                errors.extend(found);
                BTreeMap::new()
            }
        };
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        if principal.party().is_some() && system.party.is_some() {
            return Err(Error::Forbidden("a guest cannot move a record to another party".into()));
        }
        let gate = self.gate(principal, &entry, Some(Action::Update));
        let rules = self.field_rules(principal, &entry);
        let principal = principal.clone();
        let catalog = self.catalog.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let current = load_for_write(tx, &entry, id, false).await?;
                    gate.check(tx, &entry, &current).await?;
                    check_version(&current, expected_version)?;
                    let state = current.system.state.as_deref();
                    let mut errors = Vec::new();
                    if let (Some(lifecycle), Some(state)) = (&entry.decl.lifecycle, state)
                        && let Some(decl) = lifecycle.state(state)
                    {
                        for field in values.keys().filter(|f| !decl.allows_edit(f)) {
                            errors.push(field_error(
                                &format!("/{field}"),
                                FieldErrorCode::NotEditable,
                                format!("cannot be changed in state `{state}`"),
                            ));
                        }
                    }
                    if !errors.is_empty() {
                        return Err(Error::Validation(errors));
                    }
                    let mut changes = effective_changes(&entry, &current, values, &principal)?;
                    if let Some(hook) = apps::hook(&entry) {
                        hook.before_update(tx, &catalog, &current, &mut changes).await?;
                    }
                    let derived_party = derived_party_after(&entry, &current, &changes);
                    let system_changes = SystemChanges {
                        owner: system.owner.filter(|o| *o != current.system.owner),
                        party: derived_party.or(system.party).filter(|p| *p != current.system.party),
                        unit: system.unit.filter(|u| *u != current.system.unit),
                        ..SystemChanges::default()
                    };
                    if changes.is_empty()
                        && system_changes.owner.is_none()
                        && system_changes.party.is_none()
                        && system_changes.unit.is_none()
                    {
                        return Ok(RecordView::from_stored(&entry.decl.name, current));
                    }
                    if let Some(update) = gate.action()
                        && !update.matches(&entry, &after_update(&current, &system_changes, &changes))
                    {
                        return Err(Error::Forbidden(format!(
                            "missing permission `update` on `{}` for the record as changed (outside your scope or condition)",
                            entry.decl.name
                        )));
                    }
                    check_references_hiding(tx, &entry.spec, &changes, &hidden).await?;
                    let mut diff = diff_values(&current.values, &changes);
                    if let Some(owner) = system_changes.owner {
                        diff.push(json!({ "field": "owner", "from": current.system.owner, "to": owner }));
                    }
                    if let Some(party) = system_changes.party {
                        diff.push(json!({ "field": "party", "from": current.system.party, "to": party }));
                    }
                    if let Some(unit) = system_changes.unit {
                        diff.push(json!({ "field": "unit", "from": current.system.unit, "to": unit }));
                    }
                    let at = weft_store::now();
                    let version =
                        write_update(tx, &entry, &current, &system_changes, &changes, principal.id, at).await?;
                    record_effects(
                        tx,
                        Effects {
                            entry: &entry,
                            actor: principal.actor(),
                            record_id: id,
                            version,
                            command: "update".into(),
                            changes: Json::Array(diff.clone()),
                            event_kind: "record.updated",
                            event_payload: json!({ "version": version, "changes": diff }),
                            at,
                        },
                    )
                    .await?;
                    let mut view = reload(tx, &entry, id, &principal).await?;
                    redact_with(&rules, &mut view);
                    Ok(view)
                })
            })
            .await
    }

    /// Moves a record along its lifecycle.
    pub async fn transition(
        &self,
        principal: &Principal,
        type_name: &str,
        id: Uuid,
        name: &str,
        expected_version: Option<i64>,
        inputs: Map<String, Json>,
    ) -> Result<RecordView> {
        let entry = self.entry(type_name)?;
        let transition = entry
            .decl
            .lifecycle
            .as_ref()
            .and_then(|l| l.transition(name))
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("transition `{name}` of type `{type_name}`")))?;
        let inputs = coerce_transition_inputs(&transition, &inputs).map_err(Error::Validation)?.values;
        let gate = self.gate(principal, &entry, Some(Action::Transition(transition.name.clone())));
        let rules = self.field_rules(principal, &entry);
        let principal = principal.clone();
        let catalog = self.catalog.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let current = load_for_write(tx, &entry, id, false).await?;
                    gate.check(tx, &entry, &current).await?;
                    check_version(&current, expected_version)?;
                    let from = current.system.state.clone().unwrap_or_default();
                    if !transition.from.iter().any(|s| s == &from) {
                        return Err(Error::Conflict(format!(
                            "`{}` is not possible from state `{from}` (only from {})",
                            transition.name,
                            transition.from.join(", ")
                        )));
                    }
                    let related = expressions::Related::for_transition(
                        Source::Tx(tx),
                        &catalog,
                        &entry.decl,
                        &transition,
                        &current,
                        &inputs,
                    )
                    .await?;
                    let scope = expressions::TransitionScope {
                        record: &current,
                        inputs: &inputs,
                        principal: &principal,
                        decl: &entry.decl,
                        transition_inputs: &transition.inputs,
                        related: &related,
                    };
                    if let Some(guard) = &transition.guard {
                        expressions::check_guard(guard, &scope)?;
                    }
                    let mut changes = BTreeMap::new();
                    let mut errors = Vec::new();
                    for (field_name, value) in &transition.set {
                        match entry.decl.field(field_name) {
                            Some(field) => match expressions::value_for(field, value, &scope) {
                                Ok(v) => {
                                    changes.insert(field_name.clone(), v);
                                }
                                Err(found) => errors.extend(found),
                            },
                            None => errors.push(field_error(
                                &format!("/set/{field_name}"),
                                FieldErrorCode::UnknownField,
                                "not a field of this type",
                            )),
                        }
                    }
                    if !errors.is_empty() {
                        return Err(Error::Validation(errors));
                    }
                    let mut changes = effective_changes(&entry, &current, changes, &principal)?;
                    if let Some(hook) = apps::hook(&entry) {
                        hook.before_transition(tx, &catalog, &current, &transition.name, &mut changes).await?;
                    }
                    let system_changes = SystemChanges {
                        state: Some(transition.to.clone()),
                        party: derived_party_after(&entry, &current, &changes),
                        ..SystemChanges::default()
                    };
                    let mut diff = vec![json!({ "field": "state", "from": from, "to": transition.to })];
                    diff.extend(diff_values(&current.values, &changes));
                    let inputs_json: Map<String, Json> = inputs.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                    let at = weft_store::now();
                    let version =
                        write_update(tx, &entry, &current, &system_changes, &changes, principal.id, at).await?;
                    record_effects(
                        tx,
                        Effects {
                            entry: &entry,
                            actor: principal.actor(),
                            record_id: id,
                            version,
                            command: format!("transition:{}", transition.name),
                            changes: json!({ "changes": diff, "inputs": inputs_json }),
                            event_kind: "record.transitioned",
                            event_payload: json!({
                                "version": version,
                                "transition": transition.name,
                                "from": from,
                                "to": transition.to,
                                "inputs": inputs_json,
                            }),
                            at,
                        },
                    )
                    .await?;
                    if let Some(hook) = apps::hook(&entry) {
                        hook.after_transition(tx, &catalog, &current, &transition.name).await?;
                    }
                    let mut view = reload(tx, &entry, id, &principal).await?;
                    redact_with(&rules, &mut view);
                    Ok(view)
                })
            })
            .await
    }

    /// Soft delete (restorable). Refused while live records reference this one through a
    /// `restrict` reference.
    pub async fn delete(
        &self,
        principal: &Principal,
        type_name: &str,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<()> {
        self.set_deleted(principal, type_name, id, expected_version, true).await.map(|_| ())
    }

    pub async fn restore(&self, principal: &Principal, type_name: &str, id: Uuid) -> Result<RecordView> {
        self.set_deleted(principal, type_name, id, None, false).await
    }

    async fn set_deleted(
        &self,
        principal: &Principal,
        type_name: &str,
        id: Uuid,
        expected_version: Option<i64>,
        delete: bool,
    ) -> Result<RecordView> {
        let entry = self.entry(type_name)?;
        let restricting = self.restricting_references(type_name);
        let gate = self.gate(principal, &entry, Some(Action::Delete));
        let rules = self.field_rules(principal, &entry);
        let principal = principal.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let current = load_for_write(tx, &entry, id, true).await?;
                    let already = current.system.deleted_at.is_some() == delete;
                    if delete && current.system.deleted_at.is_some() {
                        return Err(Error::NotFound(format!("{} {id}", entry.decl.name)));
                    }
                    gate.check(tx, &entry, &current).await?;
                    check_version(&current, expected_version)?;
                    if already {
                        let mut view = RecordView::from_stored(&entry.decl.name, current);
                        redact_with(&rules, &mut view);
                        return Ok(view);
                    }
                    if delete {
                        for (table, column, label) in &restricting {
                            let n = rows::referenced_by(tx, table, column, id).await?;
                            if n > 0 {
                                return Err(Error::Conflict(format!(
                                    "cannot delete: {n} record(s) of `{label}` refer to it through `{column}`"
                                )));
                            }
                        }
                    }
                    let at = weft_store::now();
                    let system_changes = SystemChanges {
                        deleted_at: Some(if delete { Some(at) } else { None }),
                        ..SystemChanges::default()
                    };
                    let version =
                        write_update(tx, &entry, &current, &system_changes, &BTreeMap::new(), principal.id, at).await?;
                    let (command, kind) =
                        if delete { ("delete", "record.deleted") } else { ("restore", "record.restored") };
                    record_effects(
                        tx,
                        Effects {
                            entry: &entry,
                            actor: principal.actor(),
                            record_id: id,
                            version,
                            command: command.into(),
                            changes: json!([]),
                            event_kind: kind,
                            event_payload: json!({ "version": version }),
                            at,
                        },
                    )
                    .await?;
                    match rows::get(Source::Tx(tx), &entry.spec, id, true).await? {
                        Some(stored) => {
                            let mut view = RecordView::from_stored(&entry.decl.name, stored);
                            expressions::compute_virtual(&entry.decl, &mut view.values, &principal);
                            redact_with(&rules, &mut view);
                            Ok(view)
                        }
                        None => Err(Error::NotFound(format!("{} {id}", entry.decl.name))),
                    }
                })
            })
            .await
    }

    /// Removes a record for good (admins). References follow their on-delete rule.
    pub async fn purge(&self, principal: &Principal, type_name: &str, id: Uuid) -> Result<()> {
        let entry = self.entry(type_name)?;
        self.require_admin(principal)?;
        let principal = principal.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let current = load_for_write(tx, &entry, id, true).await?;
                    if !rows::purge(tx, &entry.spec, id).await.map_err(|e| match e {
                        weft_store::Error::ForeignKey { .. } => {
                            Error::Conflict("cannot purge: other records still refer to it".into())
                        }
                        other => other.into(),
                    })? {
                        return Err(Error::NotFound(format!("{} {id}", entry.decl.name)));
                    }
                    let at = weft_store::now();
                    record_effects(
                        tx,
                        Effects {
                            entry: &entry,
                            actor: principal.actor(),
                            record_id: id,
                            version: current.system.version,
                            command: "purge".into(),
                            changes: json!([]),
                            event_kind: "record.purged",
                            event_payload: json!({ "number": current.system.number }),
                            at,
                        },
                    )
                    .await
                })
            })
            .await
    }

    /// `(table, column, type)` of reference fields with `on_delete: restrict` to `type_name`.
    fn restricting_references(&self, type_name: &str) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for entry in self.catalog.all() {
            for field in &entry.decl.fields {
                if let FieldKind::Reference { target, on_delete: weft_model::schema::OnDelete::Restrict } = &field.kind
                    && target == type_name
                {
                    out.push((entry.spec.table.clone(), field.name.clone(), entry.decl.name.clone()));
                }
            }
        }
        out
    }
}

/// A lot of creates (see `create_lots`) made ready for its transaction. Without an app
/// engine taking part, everything but what needs the database is worked out beforehand.
pub(crate) enum ReadyLot {
    Planned(Arc<TypeEntry>, PlannedBatch),
    Hooked(Vec<PreparedCreate>),
}

impl ReadyLot {
    /// `lot`: creates of one type validated against the same declaration.
    pub(crate) fn new(backend: Backend, lot: &[&PreparedCreate]) -> Result<ReadyLot> {
        let Some(first) = lot.first() else { return Ok(ReadyLot::Hooked(Vec::new())) };
        let entry = first.entry.clone();
        let Some(hook) = apps::hook(&entry) else {
            let plan = plan_batch(backend, &entry, lot)?;
            return Ok(ReadyLot::Planned(entry, plan));
        };
        // The app's engine fills values in: here when it can, else inside the transaction.
        let mut filled = Vec::with_capacity(lot.len());
        for p in lot {
            let mut values = p.values.clone();
            match hook.before_insert_alone(&mut values) {
                Some(done) => done?,
                None => return Ok(ReadyLot::Hooked(lot.iter().map(|p| (*p).clone()).collect())),
            }
            filled.push(values);
        }
        let plan = plan_values(backend, &entry, lot, filled)?;
        Ok(ReadyLot::Planned(entry, plan))
    }

    /// Writes the lot in `tx`: its records, in order.
    pub(crate) async fn write(self, tx: &mut Tx, catalog: &Catalog) -> Result<Vec<RecordView>> {
        match self {
            ReadyLot::Planned(entry, plan) => write_planned(tx, &entry, plan).await,
            ReadyLot::Hooked(lot) => insert_lot(tx, catalog, &lot).await,
        }
    }
}

/// Writes creates of one type, validated against the same declaration, as one lot;
/// their records in the same order.
async fn insert_lot(tx: &mut Tx, catalog: &Catalog, lot: &[PreparedCreate]) -> Result<Vec<RecordView>> {
    let Some(first) = lot.first() else { return Ok(Vec::new()) };
    match apps::hook(&first.entry) {
        None => insert_batch(tx, &first.entry, lot).await,
        Some(hook) if hook.inserts_independently() => {
            let mut hooked = lot.to_vec();
            for p in &mut hooked {
                hook.before_insert(tx, catalog, &mut p.values).await?;
            }
            insert_batch(tx, &first.entry, &hooked).await
        }
        // Rows an app engine checks against each other (quantities left open) are written
        // one after the other, each seeing the ones before.
        Some(_) => {
            let mut views = Vec::with_capacity(lot.len());
            for p in lot {
                views.push(insert_prepared(tx, catalog, p).await?);
            }
            Ok(views)
        }
    }
}

pub(crate) async fn insert_prepared(tx: &mut Tx, catalog: &Catalog, p: &PreparedCreate) -> Result<RecordView> {
    let mut views = match apps::hook(&p.entry) {
        Some(hook) => {
            let mut hooked = p.clone();
            hook.before_insert(tx, catalog, &mut hooked.values).await?;
            insert_batch(tx, &p.entry, std::slice::from_ref(&hooked)).await?
        }
        None => insert_batch(tx, &p.entry, std::slice::from_ref(p)).await?,
    };
    views.pop().ok_or_else(|| Error::BadRequest("nothing was created".into()))
}

/// Creates records of one type in one go: every statement (references, numbers, rows,
/// lines, history, audit, events) runs once per batch, not once per record. Errors name
/// the row (`/3/supplier`) when the batch has more than one.
async fn insert_batch(tx: &mut Tx, entry: &TypeEntry, batch: &[PreparedCreate]) -> Result<Vec<RecordView>> {
    let plan = plan_batch(tx.backend(), entry, batch)?;
    write_planned(tx, entry, plan).await
}

/// A batch of creates with everything that does not depend on the database worked out and
/// rendered: ids, the rows, lines and history entries. What does (the references still
/// existing, the numbers, the audit chain, the events' sequence) is `write_planned`'s.
pub(crate) struct PlannedBatch {
    references: BTreeMap<String, Vec<(usize, String, Uuid)>>,
    at: OffsetDateTime,
    stored: Vec<StoredRecord>,
    actors: Vec<String>,
    rows: rows::RenderedInsert,
    history: Vec<weft_store::Rendered>,
}

/// Plans `batch` for `backend`; pure, so it can run before the transaction, off the
/// SQLite writer's thread (`create_lots`).
pub(crate) fn plan_batch<P: Borrow<PreparedCreate>>(
    backend: Backend,
    entry: &TypeEntry,
    batch: &[P],
) -> Result<PlannedBatch> {
    let values = batch.iter().map(|p| p.borrow().values.clone()).collect();
    plan_values(backend, entry, batch, values)
}

/// `plan_batch` with each create's values given apart (`values[i]` for `batch[i]`, as an app
/// engine filled them in), so they are not copied again.
fn plan_values<P: Borrow<PreparedCreate>>(
    backend: Backend,
    entry: &TypeEntry,
    batch: &[P],
    values: Vec<BTreeMap<String, Value>>,
) -> Result<PlannedBatch> {
    let batch: Vec<&PreparedCreate> = batch.iter().map(Borrow::borrow).collect();
    let several = batch.len() > 1;
    let prefix = |i: usize, pointer: &str| if several { format!("/{i}{pointer}") } else { pointer.to_owned() };
    let mut wanted: BTreeMap<String, Vec<(usize, String, Uuid)>> = BTreeMap::new();
    for (i, record_values) in values.iter().enumerate() {
        for (pointer, table, id) in references(&entry.spec, record_values) {
            wanted.entry(table).or_default().push((i, prefix(i, &pointer), id));
        }
    }
    let at = weft_store::now();
    let mut stored = Vec::with_capacity(batch.len());
    for (i, (p, mut values)) in batch.iter().zip(values).enumerate() {
        weft_store::records::codec::normalize(&entry.spec.fields, &mut values);
        let id = p.id.unwrap_or_else(Uuid::now_v7);
        let party = party_link::derived_party(&entry.decl, id, &values).unwrap_or(p.party);
        if p.guest_party.is_some() && party != p.guest_party {
            return Err(Error::Forbidden(format!(
                "{}: a guest's records must concern the guest's own party",
                prefix(i, "")
            )));
        }
        stored.push(StoredRecord {
            system: SystemFields {
                id,
                number: None,
                state: p.initial_state(),
                owner: p.owner,
                party,
                unit: p.unit,
                version: 1,
                created_at: at,
                updated_at: at,
                deleted_at: None,
                created_by: p.actor_id,
                updated_by: p.actor_id,
            },
            values,
        });
    }
    let rows = rows::render_insert_many(backend, &entry.spec, &stored)?;
    let histories: Vec<history::HistoryEntry> = batch
        .iter()
        .zip(&stored)
        .map(|(p, record)| history::HistoryEntry {
            type_name: entry.decl.name.clone(),
            record_id: record.system.id,
            version: 1,
            command: "create".into(),
            actor: p.actor.clone(),
            changes: CREATED.to_owned(),
        })
        .collect();
    let history = history::render_many(backend, &histories, at);
    let actors = batch.iter().map(|p| p.actor.clone()).collect();
    Ok(PlannedBatch { references: wanted, at, stored, actors, rows, history })
}

/// Writes a planned batch in `tx`.
pub(crate) async fn write_planned(tx: &mut Tx, entry: &TypeEntry, plan: PlannedBatch) -> Result<Vec<RecordView>> {
    let PlannedBatch { references, at, mut stored, actors, mut rows, history } = plan;
    if stored.is_empty() {
        return Ok(Vec::new());
    }
    // References, one query per target table.
    let mut errors = Vec::new();
    for (table, refs) in &references {
        let ids: Vec<Uuid> = refs.iter().map(|(_, _, id)| *id).collect();
        let found = rows::existing(tx, table, &ids).await?;
        for (_, pointer, id) in refs.iter().filter(|(_, _, id)| !found.contains(id)) {
            errors.push(field_error(pointer, FieldErrorCode::UnknownReference, format!("no record {id}")));
        }
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }

    if let Some(pattern) = &entry.naming {
        let today = at.date();
        let n = stored.len() as i64;
        let last = counters::next_n(tx, &entry.decl.name, &pattern.period_key(today), n).await?;
        let numbers: Vec<Option<String>> =
            (last - n + 1..=last).map(|k| Some(pattern.format(today, u64::try_from(k).unwrap_or(0)))).collect();
        rows.set_numbers(&numbers)?;
        for (record, number) in stored.iter_mut().zip(numbers) {
            record.system.number = number;
        }
    }
    rows::execute_insert(tx, &entry.spec, rows).await?;
    for statement in history {
        tx.execute_rendered(statement).await?;
    }

    let mut audits = Vec::with_capacity(stored.len());
    let mut events = Vec::with_capacity(stored.len());
    for (actor, record) in actors.into_iter().zip(&stored) {
        let id = record.system.id;
        audits.push(audit::AuditEntry {
            actor: actor.clone(),
            action: "record.create".into(),
            target_type: entry.decl.name.clone(),
            target_id: id.to_string(),
            detail: json!({ "version": 1 }),
        });
        events.push(outbox::NewEvent {
            kind: "record.created".into(),
            type_name: entry.decl.name.clone(),
            record_id: Some(id),
            actor,
            payload: json!({ "version": 1, "number": record.system.number, "state": record.system.state }),
        });
    }
    audit::append_many(tx, &audits, at).await?;
    outbox::append_many(tx, &events, at).await?;
    Ok(stored.into_iter().map(|s| RecordView::from_stored(&entry.decl.name, s)).collect())
}

pub(crate) fn redact_with(rules: &crate::access::FieldRules, view: &mut RecordView) {
    if !rules.hidden.is_empty() {
        view.values.retain(|name, _| !rules.hidden.contains(name));
    }
}

/// The record as an update would leave it, for checking it stays within reach.
fn after_update(current: &StoredRecord, system: &SystemChanges, changes: &BTreeMap<String, Value>) -> StoredRecord {
    let mut after = current.clone();
    if let Some(owner) = system.owner {
        after.system.owner = owner;
    }
    if let Some(party) = system.party {
        after.system.party = party;
    }
    if let Some(unit) = system.unit {
        after.system.unit = unit;
    }
    after.values.extend(changes.iter().map(|(k, v)| (k.clone(), v.clone())));
    after
}

async fn load_for_write(tx: &mut Tx, entry: &TypeEntry, id: Uuid, include_deleted: bool) -> Result<StoredRecord> {
    rows::get(Source::Tx(tx), &entry.spec, id, include_deleted)
        .await?
        .ok_or_else(|| Error::NotFound(format!("{} {id}", entry.decl.name)))
}

/// The record as committed by this command, with unstored computed fields filled in.
async fn reload(tx: &mut Tx, entry: &TypeEntry, id: Uuid, principal: &Principal) -> Result<RecordView> {
    let mut view = RecordView::from_stored(&entry.decl.name, load_for_write(tx, entry, id, false).await?);
    expressions::compute_virtual(&entry.decl, &mut view.values, principal);
    Ok(view)
}

/// What really changes when `requested` is applied to `current`: computed fields are
/// recomputed over the merged values, and values equal to the current ones drop out.
fn effective_changes(
    entry: &TypeEntry,
    current: &StoredRecord,
    requested: BTreeMap<String, Value>,
    principal: &Principal,
) -> Result<BTreeMap<String, Value>> {
    let mut merged = current.values.clone();
    merged.extend(requested);
    if expressions::has_computed(&entry.decl, false) {
        expressions::compute_fields(&entry.decl, &mut merged, principal).map_err(Error::Validation)?;
    }
    Ok(merged.into_iter().filter(|(k, v)| current.values.get(k).unwrap_or(&Value::Null) != v).collect())
}

/// The system party a change moves the record to, for a type that names its party in a
/// field which the change touches.
fn derived_party_after(
    entry: &TypeEntry,
    current: &StoredRecord,
    changes: &BTreeMap<String, Value>,
) -> Option<Option<Uuid>> {
    let field = entry.decl.party_field.as_deref().filter(|f| *f != "id")?;
    if !changes.contains_key(field) {
        return None;
    }
    let mut after = current.values.clone();
    after.extend(changes.iter().map(|(k, v)| (k.clone(), v.clone())));
    party_link::derived_party(&entry.decl, current.system.id, &after)
}

/// A change an app engine makes to another record inside the command's transaction (a
/// shipping notice adding to its order's shipped quantities): the row write, history,
/// audit entry and event of any update, by the system, so nothing bypasses the one path.
/// With `state`, the change is a transition named `command` and emits
/// `record.transitioned`, so processes and followers react to it as to any other.
pub(crate) async fn engine_write(
    tx: &mut Tx,
    entry: &TypeEntry,
    current: &StoredRecord,
    state: Option<&str>,
    changes: BTreeMap<String, Value>,
    command: &str,
) -> Result<i64> {
    engine_write_by(tx, entry, current, state, changes, command, None).await
}

/// `engine_write`, with the engine that made the change named in the event's payload
/// (`"origin": "rule:<name>"`), so other engines can tell their own changes apart (rules do
/// not set rules off).
pub(crate) async fn engine_write_by(
    tx: &mut Tx,
    entry: &TypeEntry,
    current: &StoredRecord,
    state: Option<&str>,
    changes: BTreeMap<String, Value>,
    command: &str,
    origin: Option<&str>,
) -> Result<i64> {
    let system = Principal::system();
    let changes = effective_changes(entry, current, changes, &system)?;
    let from = current.system.state.clone().unwrap_or_default();
    let moved = state.filter(|s| *s != from);
    if changes.is_empty() && moved.is_none() {
        return Ok(current.system.version);
    }
    let system_changes = SystemChanges {
        state: moved.map(str::to_owned),
        party: derived_party_after(entry, current, &changes),
        ..SystemChanges::default()
    };
    let mut diff = Vec::new();
    if let Some(to) = moved {
        diff.push(json!({ "field": "state", "from": from, "to": to }));
    }
    diff.extend(diff_values(&current.values, &changes));
    let at = weft_store::now();
    let version = write_update(tx, entry, current, &system_changes, &changes, system.id, at).await?;
    let (command, kind, mut payload) = match moved {
        Some(to) => (
            format!("transition:{command}"),
            "record.transitioned",
            json!({ "version": version, "transition": command, "from": from, "to": to, "inputs": {} }),
        ),
        None => (command.to_owned(), "record.updated", json!({ "version": version, "changes": diff })),
    };
    if let (Some(origin), Json::Object(map)) = (origin, &mut payload) {
        map.insert("origin".into(), json!(origin));
    }
    record_effects(
        tx,
        Effects {
            entry,
            actor: system.actor(),
            record_id: current.system.id,
            version,
            command,
            changes: Json::Array(diff),
            event_kind: kind,
            event_payload: payload,
            at,
        },
    )
    .await?;
    Ok(version)
}

/// A record an app engine makes inside the command's transaction (the expected receipt
/// and invoice of a confirmed order): written like any create — number, row, lines,
/// history, audit entry, `record.created` event — by the system, in `state` (declared by
/// the type's lifecycle), with its party derived from its fields.
pub(crate) async fn engine_create(
    tx: &mut Tx,
    entry: &Arc<TypeEntry>,
    mut values: BTreeMap<String, Value>,
    state: &str,
    owner: Option<Uuid>,
    unit: Option<Uuid>,
) -> Result<RecordView> {
    if entry.decl.lifecycle.as_ref().is_none_or(|l| l.state(state).is_none()) {
        return Err(Error::Conflict(format!("`{}` has no state `{state}`", entry.decl.name)));
    }
    let system = Principal::system();
    if expressions::has_computed(&entry.decl, false) {
        expressions::compute_fields(&entry.decl, &mut values, &system).map_err(Error::Validation)?;
    }
    assign_line_ids(&mut values);
    let prepared = PreparedCreate {
        entry: entry.clone(),
        values,
        owner,
        party: None,
        unit,
        actor_id: system.id,
        actor: system.actor(),
        guest_party: None,
        id: None,
        state: Some(state.to_owned()),
    };
    let plan = plan_batch(tx.backend(), entry, std::slice::from_ref(&prepared))?;
    write_planned(tx, entry, plan).await?.pop().ok_or_else(|| Error::Conflict("nothing was created".into()))
}

/// A record read inside a command's transaction, for an app engine.
pub(crate) async fn load_in_tx(tx: &mut Tx, entry: &TypeEntry, id: Uuid) -> Result<StoredRecord> {
    load_for_write(tx, entry, id, false).await
}

fn check_version(current: &StoredRecord, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(v) if v != current.system.version => Err(Error::Stale { current: current.system.version }),
        _ => Ok(()),
    }
}

async fn write_update(
    tx: &mut Tx,
    entry: &TypeEntry,
    current: &StoredRecord,
    system: &SystemChanges,
    changes: &BTreeMap<String, Value>,
    actor: Uuid,
    at: OffsetDateTime,
) -> Result<i64> {
    match rows::update(tx, &entry.spec, current.system.id, current.system.version, system, changes, actor, at).await? {
        UpdateOutcome::Updated { version } => Ok(version),
        UpdateOutcome::Stale => Err(Error::Stale { current: current.system.version + 1 }),
        UpdateOutcome::NotFound => Err(Error::NotFound(format!("{} {}", entry.decl.name, current.system.id))),
    }
}
