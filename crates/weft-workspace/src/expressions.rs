//! FEEL in declarations and requests: checked in strict mode when a type is declared,
//! evaluated by commands (defaults, guards, transition field changes), and lowered to SQL
//! for filters. All through `weft-expr`; nothing else in the façade parses expressions.

use std::collections::BTreeMap;

use sea_query::Cond;
use weft_expr::{Bindings, Checked, FeelValue, Limits, RecordContext, Schema};
use weft_model::Principal;
use weft_model::schema::check::{ExpressionRole, ExpressionScope};
use weft_model::schema::{
    DeclProblem, DefaultValue, FieldDecl, FieldError, FieldErrorCode, FieldKind, ObjectTypeDecl, PendingDefault,
    TransitionDecl, Value, coerce_value,
};
use weft_store::records::rows::StoredRecord;

use crate::access::Subject;
use crate::catalog::TypeEntry;
use crate::{Error, Result};

fn schema_for(decl: &ObjectTypeDecl, scope: &ExpressionScope<'_>) -> Schema {
    let schema = Schema::for_type(decl);
    match scope {
        ExpressionScope::Record => schema,
        ExpressionScope::Line { lines_field } => match decl.field(lines_field).map(|f| &f.kind) {
            Some(FieldKind::Lines { fields }) => schema.with_fields(fields),
            _ => schema,
        },
        ExpressionScope::Transition { transition } => {
            match decl.lifecycle.as_ref().and_then(|l| l.transition(transition)) {
                Some(t) => schema.with_fields(&t.inputs),
                None => schema,
            }
        }
    }
}

fn compile(source: &str, schema: &Schema, condition: bool) -> Result<Checked, Vec<weft_expr::ExprError>> {
    let expr = weft_expr::parse_with(source, &Limits::default()).map_err(|e| vec![e])?;
    if condition { weft_expr::check(&expr, schema) } else { weft_expr::check_value(&expr, schema) }
}

fn describe(source: &str, e: &weft_expr::ExprError) -> String {
    let near: String = source.get(e.span.start..e.span.end).unwrap_or_default().chars().take(40).collect();
    if near.is_empty() {
        format!("{} (at {})", e.message, e.span.start)
    } else {
        format!("{} (at {}: `{near}`)", e.message, e.span.start)
    }
}

/// Strict mode at save time: every expression of the declaration parses and names only
/// what exists, with the right types. Guards, the values transitions set and record-level
/// defaults may look one reference deep (`supplier.rating`), into the types `lookup` finds;
/// computed fields may not: they are stored, and would go stale when the referenced record
/// changes.
pub fn check_declaration_expressions(
    decl: &ObjectTypeDecl,
    lookup: &dyn Fn(&str) -> Option<ObjectTypeDecl>,
) -> Vec<DeclProblem> {
    let mut problems = Vec::new();
    for expression in weft_model::schema::expressions(decl) {
        let schema = schema_for(decl, &expression.scope);
        let through_references = matches!(
            (expression.role, expression.scope),
            (ExpressionRole::Guard | ExpressionRole::TransitionSet, _)
                | (ExpressionRole::Default, ExpressionScope::Record)
        );
        let schema = if through_references {
            let mut fields = decl.fields.clone();
            if let ExpressionScope::Transition { transition } = expression.scope
                && let Some(t) = decl.lifecycle.as_ref().and_then(|l| l.transition(transition))
            {
                fields.extend(t.inputs.iter().cloned());
            }
            Related::schemas(&fields, &[expression.source], lookup).schema(schema)
        } else {
            schema
        };
        let condition = matches!(expression.role, ExpressionRole::Guard);
        if let Err(errors) = compile(expression.source, &schema, condition) {
            let stale = !through_references && !referenced(&decl.fields, &[expression.source]).is_empty();
            for e in errors {
                let mut reason = describe(expression.source, &e);
                if stale && reason.contains("are not known here") {
                    reason.push_str(
                        "; computed fields and line defaults read only this record: a value read through a reference \
                         would go stale when that record changes",
                    );
                }
                problems.push(DeclProblem { pointer: expression.pointer.clone(), reason });
            }
        }
    }
    problems
}

/// The reference fields among `fields` (and the record's own `party`) that one of
/// `sources` writes a path through (`supplier.`), with the type each refers to. Reading the
/// text over-counts at worst (a path inside a string literal), which only loads a record
/// more.
fn referenced<'a>(fields: &'a [FieldDecl], sources: &[&str]) -> Vec<(&'a str, &'a str)> {
    let mut found = declared_references(fields, sources);
    let system = [("party", "party"), ("owner", PRINCIPAL), ("created_by", PRINCIPAL), ("updated_by", PRINCIPAL)];
    for (name, target) in system {
        if !fields.iter().any(|f| f.name == name) && writes_path(sources, name) {
            found.push((name, target));
        }
    }
    found
}

/// Whether one of `sources` writes a path through `name` (`supplier.`).
fn writes_path(sources: &[&str], name: &str) -> bool {
    let path = format!("{name}.");
    sources.iter().any(|s| s.contains(&path))
}

/// The declared reference, party and principal fields among `fields` that `sources` write
/// a path through, with the type each refers to (filters and declared expressions alike).
fn declared_references<'a>(fields: &'a [FieldDecl], sources: &[&str]) -> Vec<(&'a str, &'a str)> {
    fields
        .iter()
        .filter_map(|f| match &f.kind {
            FieldKind::Reference { target, .. } => Some((f.name.as_str(), target.as_str())),
            FieldKind::Party {} => Some((f.name.as_str(), "party")),
            FieldKind::Principal {} => Some((f.name.as_str(), PRINCIPAL)),
            _ => None,
        })
        .filter(|(name, _)| writes_path(sources, name))
        .collect()
}

/// Stands for "a principal" among the type names `referenced` gives: principals are not
/// records, and a type cannot be named with a leading `@`.
const PRINCIPAL: &str = "@principal";

/// What a path into a principal (`owner.display_name`, `approver.kind`) may read: who it
/// is, never its secrets or sign-in state.
fn principal_schema() -> Schema {
    use weft_expr::{FieldType, RefKind};
    Schema::new()
        .with_var("id", FieldType::Reference(RefKind::Principal))
        .with_var("display_name", FieldType::Text)
        .with_var("login", FieldType::Text)
        .with_var("email", FieldType::Text)
        .with_var("kind", FieldType::Select(vec!["member".into(), "guest".into(), "service".into()]))
        .with_var("party", FieldType::Reference(RefKind::Party))
}

fn principal_values(p: &weft_store::kernel::principals::StoredPrincipal) -> BTreeMap<String, Value> {
    BTreeMap::from([
        ("id".to_owned(), Value::Reference(p.id)),
        ("display_name".to_owned(), Value::Text(p.display_name.clone())),
        ("login".to_owned(), Value::Text(p.login.clone())),
        ("email".to_owned(), p.email.clone().map_or(Value::Null, Value::Text)),
        ("kind".to_owned(), Value::Select(p.kind.clone())),
        ("party".to_owned(), p.party.map_or(Value::Null, Value::Reference)),
    ])
}

/// The records declared expressions look into through reference fields
/// (`supplier.rating >= 4` in a guard): the fields of each referenced type, and the values
/// of the records referenced, loaded once per command for the fields the expressions write
/// a path through. A record that is gone (deleted, or never there) reads as null, as in
/// filters. Declarations are the company's rules, so the records are read whole, whoever
/// acts: a guard holds or not the same for everyone.
#[derive(Debug, Default)]
pub struct Related {
    schemas: BTreeMap<String, Schema>,
    records: BTreeMap<String, BTreeMap<String, Value>>,
}

impl Related {
    /// The referenced types' fields only, for checking expressions when they are saved.
    pub(crate) fn schemas(
        fields: &[FieldDecl],
        sources: &[&str],
        lookup: &dyn Fn(&str) -> Option<ObjectTypeDecl>,
    ) -> Related {
        let mut related = Related::default();
        for (field, target) in referenced(fields, sources) {
            if target == PRINCIPAL {
                related.schemas.insert(field.to_owned(), principal_schema());
            } else if let Some(decl) = lookup(target) {
                related.schemas.insert(field.to_owned(), Schema::for_type(&decl));
            }
        }
        related
    }

    /// The fields and the records `values` refer to through the reference fields `sources`
    /// write paths through.
    pub(crate) async fn load(
        mut source: weft_store::records::rows::Source<'_>,
        catalog: &crate::catalog::Catalog,
        fields: &[FieldDecl],
        values: &BTreeMap<String, Value>,
        sources: &[&str],
    ) -> Result<Related> {
        use weft_store::records::rows::Source;
        let mut related = Related::default();
        for (field, target) in referenced(fields, sources) {
            if target == PRINCIPAL {
                related.schemas.insert(field.to_owned(), principal_schema());
                let Some(Value::Reference(id)) = values.get(field) else { continue };
                let found = match &mut source {
                    Source::Db(db) => weft_store::kernel::principals::by_id_now(db, *id).await?,
                    Source::Tx(tx) => weft_store::kernel::principals::by_id(tx, *id).await?,
                };
                if let Some(principal) = found {
                    related.records.insert(field.to_owned(), principal_values(&principal));
                }
                continue;
            }
            let Some(entry) = catalog.get(target) else { continue };
            related.schemas.insert(field.to_owned(), Schema::for_type(&entry.decl));
            let Some(Value::Reference(id)) = values.get(field) else { continue };
            if let Some(record) = weft_store::records::rows::get(source.reborrow(), &entry.spec, *id, false).await? {
                related.records.insert(field.to_owned(), context_values(Some(&record), &record.values));
            }
        }
        Ok(related)
    }

    /// What a transition's guard and set values look into, for `record` and `inputs`.
    pub(crate) async fn for_transition(
        source: weft_store::records::rows::Source<'_>,
        catalog: &crate::catalog::Catalog,
        decl: &ObjectTypeDecl,
        transition: &TransitionDecl,
        record: &StoredRecord,
        inputs: &BTreeMap<String, Value>,
    ) -> Result<Related> {
        let mut sources: Vec<&str> = transition.guard.iter().map(String::as_str).collect();
        sources.extend(transition.set.values().filter_map(|v| match v {
            DefaultValue::Feel { feel } => Some(feel.as_str()),
            DefaultValue::Literal(_) => None,
        }));
        // No path at all: nothing to load, and nothing to copy.
        if !sources.iter().any(|s| s.contains('.')) {
            return Ok(Related::default());
        }
        let mut fields = decl.fields.clone();
        fields.extend(transition.inputs.iter().cloned());
        let mut values = context_values(Some(record), &record.values);
        values.extend(inputs.iter().map(|(k, v)| (k.clone(), v.clone())));
        Related::load(source, catalog, &fields, &values, &sources).await
    }

    /// A loaded value of the record `reference` points to (null or absent: `None`).
    pub(crate) fn value(&self, reference: &str, field: &str) -> Option<&Value> {
        self.records.get(reference)?.get(field).filter(|v| !v.is_null())
    }

    pub(crate) fn schema(&self, schema: Schema) -> Schema {
        self.schemas.iter().fold(schema, |schema, (field, target)| schema.with_target(field, target.clone()))
    }

    fn context<'a>(&'a self, values: &'a BTreeMap<String, Value>, bindings: &'a Bindings) -> RecordContext<'a> {
        RecordContext { related: Some(&self.records), ..RecordContext::new(values, bindings) }
    }
}

fn bindings(principal: &Principal) -> Bindings {
    let mut b = Bindings::new(weft_store::now());
    b.me = (principal.id != Principal::SYSTEM_ID).then_some(principal.id);
    b.party = principal.party();
    b
}

/// A record's values plus its system fields, as expressions see them.
pub(crate) fn context_values(
    record: Option<&StoredRecord>,
    values: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    let mut map = values.clone();
    if let Some(r) = record {
        let s = &r.system;
        map.insert("id".into(), Value::Reference(s.id));
        map.insert("number".into(), s.number.clone().map_or(Value::Null, Value::Text));
        map.insert("state".into(), s.state.clone().map_or(Value::Null, Value::Select));
        map.insert("owner".into(), s.owner.map_or(Value::Null, Value::Reference));
        map.insert("party".into(), s.party.map_or(Value::Null, Value::Reference));
        map.insert("unit".into(), s.unit.map_or(Value::Null, Value::Reference));
        map.insert("version".into(), Value::Integer(s.version));
        map.insert("created_at".into(), Value::DateTime(s.created_at));
        map.insert("updated_at".into(), Value::DateTime(s.updated_at));
        map.insert("created_by".into(), Value::Reference(s.created_by));
        map.insert("updated_by".into(), Value::Reference(s.updated_by));
    }
    map
}

fn feel_to_json(value: &FeelValue) -> serde_json::Value {
    use serde_json::json;
    match value {
        FeelValue::Null => serde_json::Value::Null,
        FeelValue::Bool(b) => json!(b),
        FeelValue::Number(n) => {
            if n.fract().is_zero()
                && let Ok(i) = i64::try_from(*n)
            {
                return json!(i);
            }
            json!(n.normalize().to_string())
        }
        FeelValue::String(s) => json!(s),
        FeelValue::Date(d) => json!(Value::Date(*d).to_json()),
        FeelValue::DateTime(t) => Value::DateTime(*t).to_json(),
        FeelValue::Duration(s) => Value::Duration(*s).to_json(),
        FeelValue::Money { amount, currency } => json!({ "amount": amount.to_string(), "currency": currency }),
        FeelValue::Reference(id) => json!(id),
    }
}

/// Evaluates `source` as a value for `field` over `values` (and the record, if any).
fn evaluate_for_field(
    field: &FieldDecl,
    source: &str,
    schema: &Schema,
    values: &BTreeMap<String, Value>,
    principal: &Principal,
    pointer: &str,
    related: &Related,
) -> std::result::Result<Value, Vec<FieldError>> {
    let fail =
        |reason: String| vec![FieldError { pointer: pointer.to_owned(), code: FieldErrorCode::InvalidFormat, reason }];
    let with_related;
    let schema = if related.schemas.is_empty() {
        schema
    } else {
        with_related = related.schema(schema.clone());
        &with_related
    };
    let checked = compile(source, schema, false).map_err(|e| {
        fail(format!(
            "default `{source}` is invalid: {}",
            e.iter().map(|x| describe(source, x)).collect::<Vec<_>>().join("; ")
        ))
    })?;
    let b = bindings(principal);
    let context = related.context(values, &b);
    let result =
        weft_expr::evaluate(&checked, &context).map_err(|e| fail(format!("`{source}` could not be evaluated: {e}")))?;
    coerce_value(field, &feel_to_json(&result), pointer)
}

/// Fills fields whose default is FEEL, then checks that required fields have values.
pub fn apply_defaults(
    decl: &ObjectTypeDecl,
    schema: &Schema,
    values: &mut BTreeMap<String, Value>,
    pending: &[PendingDefault],
    principal: &Principal,
    errors: &mut Vec<FieldError>,
    related: &Related,
) {
    for default in pending {
        // Defaults of line fields are computed per line; top-level ones over the record.
        let Some(field) = decl.field(&default.field) else { continue };
        if default.pointer != format!("/{}", default.field) {
            continue;
        }
        match evaluate_for_field(field, &default.expression, schema, values, principal, &default.pointer, related) {
            Ok(v) => {
                values.insert(field.name.clone(), v);
            }
            Err(found) => errors.extend(found),
        }
    }
    for field in decl.fields.iter().filter(|f| f.required) {
        let missing = values.get(&field.name).is_none_or(Value::is_null);
        let reported = errors.iter().any(|e| e.pointer == format!("/{}", field.name));
        if missing && !reported {
            errors.push(FieldError {
                pointer: format!("/{}", field.name),
                code: FieldErrorCode::Required,
                reason: "required".into(),
            });
        }
    }
}

/// A FEEL value over a stored record, as JSON (a rule's decision inputs).
pub(crate) fn evaluate_json(
    source: &str,
    decl: &ObjectTypeDecl,
    record: &StoredRecord,
    principal: &Principal,
    related: &Related,
) -> std::result::Result<serde_json::Value, String> {
    let checked = compile(source, &related.schema(Schema::for_type(decl)), false)
        .map_err(|errors| errors.iter().map(|e| describe(source, e)).collect::<Vec<_>>().join("; "))?;
    let values = context_values(Some(record), &record.values);
    let b = bindings(principal);
    let value = weft_expr::evaluate(&checked, &related.context(&values, &b)).map_err(|e| e.to_string())?;
    Ok(feel_to_json(&value))
}

/// Does a FEEL condition hold for a stored record (a rule's condition)? Null is no.
pub(crate) fn condition_holds(
    source: &str,
    decl: &ObjectTypeDecl,
    record: &StoredRecord,
    principal: &Principal,
    related: &Related,
) -> std::result::Result<bool, String> {
    let checked = compile(source, &related.schema(Schema::for_type(decl)), true)
        .map_err(|errors| errors.iter().map(|e| describe(source, e)).collect::<Vec<_>>().join("; "))?;
    let values = context_values(Some(record), &record.values);
    let b = bindings(principal);
    weft_expr::matches(&checked, &related.context(&values, &b)).map_err(|e| e.to_string())
}

/// What a transition's guard and set values are evaluated over: the record, the
/// transition's inputs (declared and given), who acts and the records referenced.
pub struct TransitionScope<'a> {
    pub record: &'a StoredRecord,
    pub inputs: &'a BTreeMap<String, Value>,
    pub principal: &'a Principal,
    pub decl: &'a ObjectTypeDecl,
    pub transition_inputs: &'a [FieldDecl],
    pub related: &'a Related,
}

impl TransitionScope<'_> {
    fn schema(&self) -> Schema {
        self.related.schema(Schema::for_type(self.decl).with_fields(self.transition_inputs))
    }

    fn values(&self) -> BTreeMap<String, Value> {
        let mut values = context_values(Some(self.record), &self.record.values);
        values.extend(self.inputs.iter().map(|(k, v)| (k.clone(), v.clone())));
        values
    }
}

/// A transition's guard must hold for the record and the transition's inputs.
pub fn check_guard(guard: &str, scope: &TransitionScope<'_>) -> Result<()> {
    let schema = scope.schema();
    let checked = compile(guard, &schema, true).map_err(|e| {
        Error::Conflict(format!(
            "the guard `{guard}` is invalid: {}",
            e.iter().map(|x| describe(guard, x)).collect::<Vec<_>>().join("; ")
        ))
    })?;
    let values = scope.values();
    let b = bindings(scope.principal);
    let holds = weft_expr::matches(&checked, &scope.related.context(&values, &b))
        .map_err(|e| Error::Conflict(format!("the guard `{guard}` could not be evaluated: {e}")))?;
    if holds {
        Ok(())
    } else {
        Err(Error::Validation(vec![FieldError {
            pointer: String::new(),
            code: FieldErrorCode::GuardFailed,
            reason: format!("the condition `{guard}` does not hold for this record"),
        }]))
    }
}

/// The value a transition sets on `field`: a literal, or FEEL over record and inputs.
pub fn value_for(
    field: &FieldDecl,
    value: &DefaultValue,
    scope: &TransitionScope<'_>,
) -> std::result::Result<Value, Vec<FieldError>> {
    let (inputs, transition_inputs) = (scope.inputs, scope.transition_inputs);
    let pointer = format!("/{}", field.name);
    match value {
        DefaultValue::Literal(json) => coerce_value(field, json, &pointer),
        // A bare input name of the field's own kind copies the input as given: FEEL has no
        // JSON or lines to carry it through (a match's differences, say).
        DefaultValue::Feel { feel }
            if transition_inputs.iter().any(|i| i.name == feel.trim() && i.kind == field.kind)
                && inputs.contains_key(feel.trim()) =>
        {
            Ok(inputs[feel.trim()].clone())
        }
        DefaultValue::Feel { feel } => {
            let schema = Schema::for_type(scope.decl).with_fields(transition_inputs);
            evaluate_for_field(field, feel, &schema, &scope.values(), scope.principal, &pointer, scope.related)
        }
    }
}

fn subject_bindings(subject: &Subject) -> Bindings {
    let mut b = bindings(&subject.principal);
    b.unit = subject.unit;
    b
}

/// A grant's condition, checked when its role is saved: strict, and inside the subset
/// that lowers to SQL (it becomes part of every list predicate).
pub fn check_access_condition(decl: &ObjectTypeDecl, source: &str) -> std::result::Result<(), String> {
    let schema = Schema::for_type(decl);
    let checked = compile(source, &schema, true)
        .map_err(|errors| errors.iter().map(|e| describe(source, e)).collect::<Vec<_>>().join("; "))?;
    let probe = Bindings::new(weft_store::now());
    weft_expr::to_filter(&checked, &probe)
        .map(|_| ())
        .map_err(|e| format!("cannot be used as an access condition: {}", describe(source, &e)))
}

/// A grant's condition as SQL, with the subject's `@me`, `@party` and `@unit` bound.
pub(crate) fn access_condition_sql(
    entry: &TypeEntry,
    source: &str,
    subject: &Subject,
    backend: weft_store::Backend,
) -> std::result::Result<Cond, String> {
    let schema = Schema::for_type(&entry.decl);
    let checked = compile(source, &schema, true)
        .map_err(|errors| errors.iter().map(|e| describe(source, e)).collect::<Vec<_>>().join("; "))?;
    let filter = weft_expr::to_filter(&checked, &subject_bindings(subject)).map_err(|e| describe(source, &e))?;
    let expr = weft_store::records::filter::render(&filter, &entry.spec, backend).map_err(|e| e.to_string())?;
    Ok(Cond::all().add(expr))
}

/// The same condition decided for one record in memory.
pub(crate) fn access_condition_holds(
    entry: &TypeEntry,
    source: &str,
    record: &StoredRecord,
    subject: &Subject,
) -> std::result::Result<bool, String> {
    let schema = Schema::for_type(&entry.decl);
    let checked = compile(source, &schema, true)
        .map_err(|errors| errors.iter().map(|e| describe(source, e)).collect::<Vec<_>>().join("; "))?;
    let values = context_values(Some(record), &record.values);
    let b = subject_bindings(subject);
    weft_expr::matches(&checked, &RecordContext::new(&values, &b)).map_err(|e| e.to_string())
}

/// The records an API filter may look into through its reference fields
/// (`supplier.name starts with "华"`): for each reference field, the fields of the
/// referenced type the caller may see (hidden ones are unknown names, as on the type
/// itself), and the rows of that type the caller may read (a path into a record it may not
/// read is null, so a filter cannot probe it).
#[derive(Default)]
pub struct FilterTargets {
    fields: BTreeMap<String, Schema>,
    types: BTreeMap<String, (std::sync::Arc<TypeEntry>, Option<Cond>)>,
}

impl FilterTargets {
    /// What `principal` may look into from `entry`'s reference fields (those it can see)
    /// that `source` writes a path through (`supplier.`): only those cost a policy look-up.
    pub(crate) fn for_reader(
        workspace: &crate::Workspace,
        principal: &Principal,
        entry: &TypeEntry,
        hidden: &std::collections::BTreeSet<String>,
        source: &str,
    ) -> FilterTargets {
        let mut targets = FilterTargets::default();
        let backend = workspace.db.backend();
        // Filters look into records only: a principal is not a table a filter can join.
        let through = declared_references(&entry.decl.fields, &[source])
            .into_iter()
            .filter(|(field, target)| !hidden.contains(*field) && *target != PRINCIPAL);
        for (field, type_name) in through {
            let Ok(target) = workspace.entry(type_name) else { continue };
            let target_hidden = workspace.field_rules(principal, &target).hidden;
            let fields: Vec<FieldDecl> =
                target.decl.fields.iter().filter(|f| !target_hidden.contains(&f.name)).cloned().collect();
            let schema = Schema::for_type(&ObjectTypeDecl { fields, ..target.decl.clone() });
            targets.fields.insert(field.to_owned(), schema);
            if !targets.types.contains_key(type_name) {
                let visible =
                    workspace.reach(principal, &target, &crate::access::Action::Read).condition(&target, backend);
                targets.types.insert(type_name.to_owned(), (target, visible));
            }
        }
        targets
    }

    fn schema(&self, schema: Schema) -> Schema {
        self.fields.iter().fold(schema, |schema, (field, target)| schema.with_target(field, target.clone()))
    }
}

impl weft_store::records::filter::Targets for FilterTargets {
    fn target(&self, type_name: &str) -> weft_store::Result<(&weft_store::records::spec::TableSpec, Option<Cond>)> {
        self.types
            .get(type_name)
            .map(|(entry, visible)| (&entry.spec, visible.clone()))
            .ok_or_else(|| weft_store::Error::Filter(format!("the fields of `{type_name}` cannot be used here")))
    }
}

/// An API filter as a SQL condition over the type's table. Fields hidden from the caller
/// are not in its schema, so filtering on them is refused like an unknown name; paths
/// follow one reference into what `targets` allows.
pub fn filter_condition(
    entry: &TypeEntry,
    source: &str,
    subject: &Subject,
    hidden: &std::collections::BTreeSet<String>,
    targets: &FilterTargets,
    backend: weft_store::Backend,
) -> Result<Cond> {
    let visible: Vec<FieldDecl> = entry.decl.fields.iter().filter(|f| !hidden.contains(&f.name)).cloned().collect();
    let schema = if hidden.is_empty() {
        Schema::for_type(&entry.decl)
    } else {
        Schema::for_type(&ObjectTypeDecl { fields: visible, ..entry.decl.clone() })
    };
    let schema = targets.schema(schema);
    let checked = compile(source, &schema, true).map_err(|errors| {
        Error::BadRequest(format!(
            "invalid filter: {}",
            errors.iter().map(|e| describe(source, e)).collect::<Vec<_>>().join("; ")
        ))
    })?;
    let filter = weft_expr::to_filter(&checked, &subject_bindings(subject))
        .map_err(|e| Error::BadRequest(format!("this filter cannot be used on a list: {}", describe(source, &e))))?;
    let expr = weft_store::records::filter::render_with(&filter, &entry.spec, backend, targets)
        .map_err(|e| Error::BadRequest(format!("invalid filter: {e}")))?;
    Ok(Cond::all().add(expr))
}

/// Computes every computed field (record level and per line) from the other values, in
/// declaration order, so a computed field may use one declared before it.
pub fn compute_fields(
    decl: &ObjectTypeDecl,
    values: &mut BTreeMap<String, Value>,
    principal: &Principal,
) -> std::result::Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let record_schema = Schema::for_type(decl);
    for field in &decl.fields {
        match &field.kind {
            FieldKind::Computed { expression, .. } => {
                let pointer = format!("/{}", field.name);
                match evaluate_for_field(
                    field,
                    expression,
                    &record_schema,
                    values,
                    principal,
                    &pointer,
                    &Related::default(),
                ) {
                    Ok(v) => {
                        values.insert(field.name.clone(), v);
                    }
                    Err(found) => errors.extend(found),
                }
            }
            FieldKind::Lines { fields } if fields.iter().any(|f| matches!(f.kind, FieldKind::Computed { .. })) => {
                let line_schema = Schema::for_type(decl).with_fields(fields);
                let Some(Value::Lines(mut lines)) = values.get(&field.name).cloned() else { continue };
                for (i, line) in lines.iter_mut().enumerate() {
                    for line_field in fields {
                        let FieldKind::Computed { expression, .. } = &line_field.kind else { continue };
                        let mut scope = values.clone();
                        scope.extend(line.iter().map(|(k, v)| (k.clone(), v.clone())));
                        let pointer = format!("/{}/{i}/{}", field.name, line_field.name);
                        match evaluate_for_field(
                            line_field,
                            expression,
                            &line_schema,
                            &scope,
                            principal,
                            &pointer,
                            &Related::default(),
                        ) {
                            Ok(v) => {
                                line.insert(line_field.name.clone(), v);
                            }
                            Err(found) => errors.extend(found),
                        }
                    }
                }
                values.insert(field.name.clone(), Value::Lines(lines));
            }
            _ => {}
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Whether the type has computed fields (stored or not), at record or line level.
pub fn has_computed(decl: &ObjectTypeDecl, only_virtual: bool) -> bool {
    let wanted = |kind: &FieldKind| match kind {
        FieldKind::Computed { stored, .. } => !only_virtual || !stored,
        _ => false,
    };
    decl.fields.iter().any(|f| {
        wanted(&f.kind) || matches!(&f.kind, FieldKind::Lines { fields } if fields.iter().any(|lf| wanted(&lf.kind)))
    })
}

/// Fills computed fields that are not stored. A failure leaves them null: a read never
/// fails because a derived value cannot be computed.
pub fn compute_virtual(decl: &ObjectTypeDecl, values: &mut BTreeMap<String, Value>, principal: &Principal) {
    if has_computed(decl, true)
        && let Err(errors) = compute_fields(decl, values, principal)
    {
        tracing::debug!(r#type = %decl.name, ?errors, "computed fields left empty");
    }
}
