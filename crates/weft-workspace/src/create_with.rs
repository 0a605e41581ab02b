//! A record created together with the records that hang off it (a party with its addresses
//! and contacts), in one transaction: all of them or none.
//!
//! Each dependent is an ordinary create of its own type, checked as one (access, field
//! rules, validation, references), except for the one reference field that points back at
//! the new record: it is filled with the new record's id, which is chosen before anything
//! is written. Over HTTP the dependents ride in the parent's body under `@with` (a key no
//! field name can take), by type: `{"name": "…", "@with": {"party_address": [{…}]}}`.

use std::sync::Arc;

use serde_json::{Map, Value as Json};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::check::PARTY_TYPE;
use weft_model::schema::{FieldError, FieldErrorCode, FieldKind};
use weft_store::{Backend, Database, Tx};

use crate::access::FieldRules;
use crate::catalog::{Catalog, TypeEntry};
use crate::create_lots::{Joinable, LotTurn};
use crate::records::{Idempotency, PreparedCreate, ReadyLot, RecordView, redact_with};
use crate::{Error, Result, Workspace};

/// The input key that carries the dependents.
pub const WITH_KEY: &str = "@with";

/// Most dependents one create may carry.
pub const MAX_DEPENDENTS: usize = 100;

/// What a create with dependents answers.
#[derive(Debug, Clone)]
pub enum CreatedWithOutcome {
    Fresh(Box<CreatedWith>),
    /// The stored response of the first request with this idempotency key.
    Replayed(Json),
}

/// The records one create with dependents wrote.
#[derive(Debug, Clone)]
pub struct CreatedWith {
    pub record: RecordView,
    /// Per dependent type, in the order given.
    pub dependents: Vec<(String, Vec<RecordView>)>,
}

impl CreatedWith {
    /// The record's JSON, with its dependents under `@with` as they were given.
    pub fn to_json(&self) -> Json {
        let mut out = self.record.to_json();
        if let Json::Object(map) = &mut out
            && !self.dependents.is_empty()
        {
            let with: Map<String, Json> = self
                .dependents
                .iter()
                .map(|(t, views)| (t.clone(), Json::Array(views.iter().map(RecordView::to_json).collect())))
                .collect();
            map.insert(WITH_KEY.into(), Json::Object(with));
        }
        out
    }
}

fn problem(pointer: String, code: FieldErrorCode, reason: impl Into<String>) -> FieldError {
    FieldError { pointer, code, reason: reason.into() }
}

/// `@with` read as (type, inputs) pairs, in order; every malformed part is listed.
fn parse_with(with: Json, errors: &mut Vec<FieldError>) -> Vec<(String, Vec<Map<String, Json>>)> {
    let base = format!("/{WITH_KEY}");
    let Json::Object(by_type) = with else {
        errors.push(problem(base, FieldErrorCode::WrongType, "expected an object: type name to a list of records"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (type_name, inputs) in by_type {
        let pointer = format!("{base}/{type_name}");
        let Json::Array(inputs) = inputs else {
            errors.push(problem(pointer, FieldErrorCode::WrongType, "expected a list of records"));
            continue;
        };
        let mut records = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.into_iter().enumerate() {
            match input {
                Json::Object(map) => records.push(map),
                _ => errors.push(problem(format!("{pointer}/{i}"), FieldErrorCode::WrongType, "expected an object")),
            }
        }
        out.push((type_name, records));
    }
    out
}

impl Workspace {
    /// Creates a record of `type_name` and, in the same transaction, the dependents `input`
    /// carries under `@with`; without `@with` this is `create`. Every problem of the record
    /// and of each dependent is reported at once, with pointers into the request
    /// (`/@with/party_address/0/line1`); a principal who may not create one of the
    /// dependents gets the refusal and nothing is written. With `idempotency`, a retry
    /// returns the first answer.
    pub async fn create_with(
        &self,
        principal: &Principal,
        type_name: &str,
        mut input: Map<String, Json>,
        idempotency: Option<Idempotency>,
    ) -> Result<CreatedWithOutcome> {
        let Some(with) = input.remove(WITH_KEY) else {
            return Ok(match self.create(principal, type_name, input, idempotency).await? {
                crate::Created::Fresh(view) => {
                    CreatedWithOutcome::Fresh(Box::new(CreatedWith { record: *view, dependents: Vec::new() }))
                }
                crate::Created::Replayed(json) => CreatedWithOutcome::Replayed(json),
            });
        };
        let entry = self.entry(type_name)?;
        let mut errors = Vec::new();
        let groups = parse_with(with, &mut errors);
        // Refused before any of them is validated.
        let count: usize = groups.iter().map(|(_, records)| records.len()).sum();
        if count > MAX_DEPENDENTS {
            return Err(Error::Validation(vec![problem(
                format!("/{WITH_KEY}"),
                FieldErrorCode::TooLong,
                format!("at most {MAX_DEPENDENTS} records may be created with one record, not {count}"),
            )]));
        }
        let id = Uuid::now_v7();
        let parent = match self.validate_create(principal, entry.clone(), input).await {
            Ok(prepared) => Some(prepared.with_id(id)),
            Err(Error::Validation(found)) => {
                errors.extend(found);
                None
            }
            Err(other) => return Err(other),
        };
        let mut dependents: Vec<DependentGroup> = Vec::with_capacity(groups.len());
        for (dep_type, inputs) in groups {
            let pointer = format!("/{WITH_KEY}/{dep_type}");
            let Some(dep_entry) = self.catalog.get(&dep_type) else {
                errors.push(problem(pointer, FieldErrorCode::UnknownField, format!("`{dep_type}` is not a type")));
                continue;
            };
            let back: Vec<&str> = dep_entry
                .decl
                .fields
                .iter()
                .filter(|f| match &f.kind {
                    FieldKind::Reference { target, .. } => target == type_name,
                    // A `party` field names a party record too.
                    FieldKind::Party {} => type_name == PARTY_TYPE,
                    _ => false,
                })
                .map(|f| f.name.as_str())
                .collect();
            let [back] = back.as_slice() else {
                let reason = if back.is_empty() {
                    format!("`{dep_type}` has no reference to `{type_name}`")
                } else {
                    format!("`{dep_type}` refers to `{type_name}` in several fields; create it on its own")
                };
                errors.push(problem(pointer, FieldErrorCode::UnknownField, reason));
                continue;
            };
            let mut prepared = Vec::with_capacity(inputs.len());
            for (i, mut dep_input) in inputs.into_iter().enumerate() {
                let at = format!("{pointer}/{i}");
                if dep_input.contains_key(*back) {
                    errors.push(problem(
                        format!("{at}/{back}"),
                        FieldErrorCode::ReadOnly,
                        format!("set to the `{type_name}` it is created with"),
                    ));
                    continue;
                }
                dep_input.insert((*back).to_owned(), Json::String(id.to_string()));
                match self.validate_create(principal, dep_entry.clone(), dep_input).await {
                    Ok(p) => prepared.push(p),
                    // The new record does not exist yet: its id is no unknown reference.
                    Err(Error::Validation(found)) => errors.extend(
                        found
                            .into_iter()
                            .filter(|e| {
                                !(e.code == FieldErrorCode::UnknownReference && e.pointer == format!("/{back}"))
                            })
                            .map(|e| FieldError { pointer: format!("{at}{}", e.pointer), ..e }),
                    ),
                    Err(other) => return Err(other),
                }
            }
            let rules = self.field_rules(principal, &dep_entry);
            dependents.push(DependentGroup { type_name: dep_type, entry: dep_entry, prepared, rules });
        }
        let Some(parent) = parent.filter(|_| errors.is_empty()) else {
            errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
            return Err(Error::Validation(errors));
        };
        let parent_rules = self.field_rules(principal, &entry);
        let unit = WithUnit { parent, dependents, parent_rules };
        let Some(idempotency) = idempotency else {
            // Without a key, concurrent creates of the same shape are written together.
            let created = self.with_lots.create(&self.db, &self.catalog, unit).await?;
            return Ok(CreatedWithOutcome::Fresh(Box::new(created)));
        };
        let planned = plan_units(self.db.backend(), &[&unit])?;
        let catalog = self.catalog.clone();
        let principal_key = principal.actor();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if let Some(json) = idempotency.replay(tx, &principal_key).await? {
                        return Ok(CreatedWithOutcome::Replayed(json));
                    }
                    let mut created = planned
                        .write(tx, &catalog)
                        .await?
                        .pop()
                        .ok_or_else(|| Error::Internal("the record was not written".into()))?;
                    unit.redact(&mut created);
                    idempotency
                        .remember(tx, &principal_key, &created.to_json(), created.record.system.created_at)
                        .await?;
                    Ok::<_, Error>(CreatedWithOutcome::Fresh(Box::new(created)))
                })
            })
            .await
    }
}

/// One dependent type of a create with dependents.
struct DependentGroup {
    type_name: String,
    entry: Arc<TypeEntry>,
    prepared: Vec<PreparedCreate>,
    /// What the creating principal may see of the written records.
    rules: FieldRules,
}

/// A create with its dependents, validated and ready to write.
pub(crate) struct WithUnit {
    parent: PreparedCreate,
    dependents: Vec<DependentGroup>,
    parent_rules: FieldRules,
}

impl WithUnit {
    /// Hides what the creating principal may not see of what was written.
    fn redact(&self, created: &mut CreatedWith) {
        redact_with(&self.parent_rules, &mut created.record);
        for (group, (_, views)) in self.dependents.iter().zip(&mut created.dependents) {
            for view in views {
                redact_with(&group.rules, view);
            }
        }
    }
}

/// Creates with dependents planned for one transaction (ids, rows, history rendered on the
/// runtime's threads, so that the SQLite writer only runs the statements): one lot of
/// records, then one lot per dependent type, whose records go in multi-row statements.
struct PlannedUnits {
    records: ReadyLot,
    /// Per dependent type: its name, its lot, and how many of the lot each record has.
    groups: Vec<(String, ReadyLot, Vec<usize>)>,
}

/// `units` have the same dependent types in the same order (`Joinable::joins`).
fn plan_units(backend: Backend, units: &[&WithUnit]) -> Result<PlannedUnits> {
    let parents: Vec<&PreparedCreate> = units.iter().map(|u| &u.parent).collect();
    let records = ReadyLot::new(backend, &parents)?;
    let Some(first) = units.first() else { return Ok(PlannedUnits { records, groups: Vec::new() }) };
    let mut groups = Vec::with_capacity(first.dependents.len());
    for (k, group) in first.dependents.iter().enumerate() {
        let lot: Vec<&PreparedCreate> = units.iter().flat_map(|u| &u.dependents[k].prepared).collect();
        let counts = units.iter().map(|u| u.dependents[k].prepared.len()).collect();
        groups.push((group.type_name.clone(), ReadyLot::new(backend, &lot)?, counts));
    }
    Ok(PlannedUnits { records, groups })
}

impl PlannedUnits {
    /// Writes everything in `tx`: what each create wrote, in order (not yet redacted).
    async fn write(self, tx: &mut Tx, catalog: &Catalog) -> Result<Vec<CreatedWith>> {
        let records = self.records.write(tx, catalog).await?;
        let mut out: Vec<CreatedWith> =
            records.into_iter().map(|record| CreatedWith { record, dependents: Vec::new() }).collect();
        for (dep_type, lot, counts) in self.groups {
            let total: usize = counts.iter().sum();
            // A lot of one names its record's fields alone (`/line1`), of several by index
            // (`/1/line1`).
            let base = if total == 1 { format!("/{WITH_KEY}/{dep_type}/0") } else { format!("/{WITH_KEY}/{dep_type}") };
            let views = lot.write(tx, catalog).await.map_err(|e| match e {
                Error::Validation(found) => Error::Validation(
                    found.into_iter().map(|f| FieldError { pointer: format!("{base}{}", f.pointer), ..f }).collect(),
                ),
                other => other,
            })?;
            let mut views = views.into_iter();
            for (created, count) in out.iter_mut().zip(counts) {
                created.dependents.push((dep_type.clone(), views.by_ref().take(count).collect()));
            }
        }
        Ok(out)
    }
}

impl Joinable for WithUnit {
    type Written = CreatedWith;

    fn queue_key(&self) -> String {
        let mut key = self.parent.type_name().to_owned();
        for group in &self.dependents {
            key.push('|');
            key.push_str(&group.type_name);
        }
        key
    }

    fn joins(&self, first: &Self) -> bool {
        self.parent.same_declaration(&first.parent)
            && self.dependents.len() == first.dependents.len()
            && self.dependents.iter().zip(&first.dependents).all(|(a, b)| Arc::ptr_eq(&a.entry, &b.entry))
    }

    async fn write_lot(
        db: &Database,
        catalog: &Arc<Catalog>,
        lot: &[&Self],
        turn: LotTurn,
    ) -> Result<Vec<CreatedWith>> {
        let planned = plan_units(db.backend(), lot)?;
        let catalog = catalog.clone();
        let mut written = db
            .write(move |tx| {
                Box::pin(async move {
                    turn.started();
                    planned.write(tx, &catalog).await
                })
            })
            .await?;
        for (unit, created) in lot.iter().zip(&mut written) {
            unit.redact(created);
        }
        Ok(written)
    }

    async fn write_alone(db: &Database, catalog: &Arc<Catalog>, unit: Self) -> Result<CreatedWith> {
        let mut written = Self::write_lot(db, catalog, &[&unit], LotTurn::none()).await?;
        written.pop().ok_or_else(|| Error::Internal("the record was not written".into()))
    }
}
