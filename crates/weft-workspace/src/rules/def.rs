//! An automation rule as declared (the one JSON format of the admin API), and its checks:
//! every problem is reported at once, with the place, before a rule is saved.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weft_expr::{Limits, Schema};
use weft_model::schema::{FieldError, FieldErrorCode, FieldKind, Label, ObjectTypeDecl};

use crate::directory::Directory;

/// When a record of `type` is created, updated or moved (`on`), and `condition` holds for
/// it, the actions run in order, as one change of the record by the rule. A rule's own
/// changes do not set rules off again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    /// Letters, digits and `_`, starting with a letter; the rule's id.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
    /// The object type whose records set the rule off.
    #[serde(rename = "type")]
    pub type_name: String,
    /// `created`, `updated`, `transitioned` (any transition) or `transitioned:<name>`.
    pub on: Vec<String>,
    /// FEEL over the record (strict: names and types checked when saved); none is always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    pub actions: Vec<RuleAction>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// One action of a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleAction {
    /// Record fields to set, each from a FEEL expression over the record as the earlier
    /// actions left it (`"priority": "\"high\""`, `"due": "@today + duration(\"P3D\")"`).
    Set(BTreeMap<String, String>),
    /// Apply a deployed decision table and set fields from its outputs.
    Decide(DecideAction),
    /// Move the record through one of its lifecycle's transitions (guard checked; a
    /// transition that needs inputs cannot be taken by a rule).
    Transition(String),
    /// Put an alert in people's inboxes.
    Alert(AlertAction),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideAction {
    /// `<model>/<decision>`, or a model whose decision has the model's name.
    pub decision: String,
    /// The decision's inputs, each a FEEL expression over the record.
    pub inputs: BTreeMap<String, String>,
    /// Record field ← output name of the decision (for a decision with one output column
    /// and a plain value, any name reads the value).
    pub set: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertAction {
    /// `owner`, `created_by`, a principal field of the record, or `role:<name>` (everyone
    /// holding that role); each recipient is checked as a reader of the record.
    pub to: Vec<String>,
    pub summary: Label,
}

impl RuleDef {
    /// `(model, decision)` of a decide action.
    pub fn decision_ref(id: &str) -> (&str, &str) {
        id.split_once('/').unwrap_or((id, id))
    }

    /// Does an event of `kind` (`record.created`…) with `transition` set this rule off?
    pub fn fires_on(&self, kind: &str, transition: Option<&str>) -> bool {
        self.on.iter().any(|on| match (on.as_str(), kind) {
            ("created", "record.created") | ("updated", "record.updated") | ("transitioned", "record.transitioned") => {
                true
            }
            (on, "record.transitioned") => on.strip_prefix("transitioned:").is_some_and(|t| Some(t) == transition),
            _ => false,
        })
    }
}

impl RuleDef {
    /// The FEEL the rule evaluates itself: its condition, the values it sets and its
    /// decisions' inputs (a transition's guard and values belong to the type).
    pub fn sources(&self) -> Vec<&str> {
        let mut sources: Vec<&str> = self.condition.iter().map(String::as_str).collect();
        for action in &self.actions {
            match action {
                RuleAction::Set(fields) => sources.extend(fields.values().map(String::as_str)),
                RuleAction::Decide(decide) => sources.extend(decide.inputs.values().map(String::as_str)),
                // `purchase_order.owner`: the alert goes to someone on a referenced record.
                RuleAction::Alert(alert) => sources.extend(alert.to.iter().map(String::as_str)),
                RuleAction::Transition(_) => {}
            }
        }
        sources
    }
}

fn problem(errors: &mut Vec<FieldError>, pointer: String, code: FieldErrorCode, reason: impl Into<String>) {
    errors.push(FieldError { pointer, code, reason: reason.into() });
}

fn feel_problems(source: &str, schema: &Schema, condition: bool) -> Option<String> {
    let expr = match weft_expr::parse_with(source, &Limits::default()) {
        Ok(expr) => expr,
        Err(e) => return Some(e.message),
    };
    let checked = if condition { weft_expr::check(&expr, schema) } else { weft_expr::check_value(&expr, schema) };
    checked.err().map(|errors| errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "))
}

/// Every problem of `rule` against the declared type and the roles that exist; the decision
/// tables are checked by the caller (they live in the database).
pub fn check(
    rule: &RuleDef,
    decl: Option<&ObjectTypeDecl>,
    directory: &Directory,
    lookup: &dyn Fn(&str) -> Option<ObjectTypeDecl>,
) -> Vec<FieldError> {
    use FieldErrorCode as C;
    let mut errors = Vec::new();
    let valid_name = rule.name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && rule.name.len() <= 64
        && rule.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_name {
        problem(
            &mut errors,
            "/name".into(),
            C::InvalidFormat,
            "letters, digits and `_`, starting with a letter, at most 64",
        );
    }
    let Some(decl) = decl else {
        problem(&mut errors, "/type".into(), C::UnknownReference, format!("no object type `{}`", rule.type_name));
        return errors;
    };
    let transitions: Vec<&str> =
        decl.lifecycle.iter().flat_map(|l| l.transitions.iter().map(|t| t.name.as_str())).collect();
    if rule.on.is_empty() {
        problem(&mut errors, "/on".into(), C::Required, "name at least one event: created, updated, transitioned");
    }
    for (i, on) in rule.on.iter().enumerate() {
        let known = match on.as_str() {
            "created" | "updated" | "transitioned" => true,
            other => other.strip_prefix("transitioned:").is_some_and(|t| transitions.contains(&t)),
        };
        if !known {
            problem(
                &mut errors,
                format!("/on/{i}"),
                C::UnknownOption,
                format!(
                    "`{on}` is not created, updated, transitioned or transitioned:<one of {}>",
                    transitions.join(", ")
                ),
            );
        }
    }
    // Conditions, values and decision inputs may look one reference deep.
    let schema =
        crate::expressions::Related::schemas(&decl.fields, &rule.sources(), lookup).schema(Schema::for_type(decl));
    if let Some(condition) = &rule.condition
        && let Some(reason) = feel_problems(condition, &schema, true)
    {
        problem(&mut errors, "/condition".into(), C::InvalidFormat, reason);
    }
    if rule.actions.is_empty() {
        problem(&mut errors, "/actions".into(), C::Required, "a rule needs at least one action");
    }
    let settable = |field: &str| {
        decl.field(field).map(|f| !matches!(f.kind, FieldKind::Computed { .. } | FieldKind::Lines { .. }))
    };
    let set_field = |errors: &mut Vec<FieldError>, pointer: String, field: &str| match settable(field) {
        Some(true) => {}
        Some(false) => problem(errors, pointer, C::NotEditable, format!("`{field}` cannot be set by a rule")),
        None => problem(errors, pointer, C::UnknownField, format!("`{}` has no field `{field}`", decl.name)),
    };
    for (i, action) in rule.actions.iter().enumerate() {
        let at = format!("/actions/{i}");
        match action {
            RuleAction::Set(fields) => {
                if fields.is_empty() {
                    problem(&mut errors, format!("{at}/set"), C::Required, "name at least one field");
                }
                for (field, feel) in fields {
                    let pointer = format!("{at}/set/{field}");
                    set_field(&mut errors, pointer.clone(), field);
                    if let Some(reason) = feel_problems(feel, &schema, false) {
                        problem(&mut errors, pointer, C::InvalidFormat, reason);
                    }
                }
            }
            RuleAction::Decide(decide) => {
                for (input, feel) in &decide.inputs {
                    if let Some(reason) = feel_problems(feel, &schema, false) {
                        problem(&mut errors, format!("{at}/decide/inputs/{input}"), C::InvalidFormat, reason);
                    }
                }
                if decide.set.is_empty() {
                    problem(&mut errors, format!("{at}/decide/set"), C::Required, "name at least one field to set");
                }
                for field in decide.set.keys() {
                    set_field(&mut errors, format!("{at}/decide/set/{field}"), field);
                }
            }
            RuleAction::Transition(name) => match decl.lifecycle.as_ref().and_then(|l| l.transition(name)) {
                None => problem(
                    &mut errors,
                    format!("{at}/transition"),
                    C::UnknownOption,
                    format!("`{}` has no transition `{name}`", decl.name),
                ),
                Some(t) if t.inputs.iter().any(|input| input.required) => problem(
                    &mut errors,
                    format!("{at}/transition"),
                    C::UnknownOption,
                    format!("`{name}` needs inputs a rule cannot give"),
                ),
                Some(_) => {}
            },
            RuleAction::Alert(alert) => {
                if alert.to.is_empty() {
                    problem(&mut errors, format!("{at}/alert/to"), C::Required, "name at least one recipient");
                }
                if alert.summary.is_blank() {
                    problem(&mut errors, format!("{at}/alert/summary"), C::Required, "say what the alert is about");
                }
                for (j, to) in alert.to.iter().enumerate() {
                    let names_a_principal = |decl: &ObjectTypeDecl, name: &str| {
                        matches!(name, "owner" | "created_by" | "updated_by")
                            || decl.field(name).is_some_and(|f| matches!(f.kind, FieldKind::Principal {}))
                    };
                    let known = match (to.strip_prefix("role:"), to.split_once('.')) {
                        (Some(role), _) => directory.roles.contains_key(role),
                        (None, Some((reference, name))) => match decl.field(reference).map(|f| &f.kind) {
                            Some(FieldKind::Reference { target, .. }) => {
                                lookup(target).is_some_and(|target| names_a_principal(&target, name))
                            }
                            _ => false,
                        },
                        (None, None) => names_a_principal(decl, to),
                    };
                    if !known {
                        problem(
                            &mut errors,
                            format!("{at}/alert/to/{j}"),
                            C::UnknownReference,
                            format!(
                                "`{to}` is not owner, created_by, a principal field, one of a referenced record \
                                 (`purchase_order.owner`) or role:<an existing role>"
                            ),
                        );
                    }
                }
            }
        }
    }
    errors
}
