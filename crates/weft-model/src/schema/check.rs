//! Whether a declaration can be installed, and what changing one to another would do to
//! the stored data.
//!
//! `check_declaration` reports every problem at once, each at a JSON pointer into the
//! declaration, so an admin or an app author fixes them in one round. FEEL is not parsed
//! here: `expressions` lists every expression with the names in scope, for the expression
//! crate to check.

mod change;
mod expressions;
mod fields;
mod lifecycle;
mod parse;

pub use change::{Change, ChangeKind, SchemaChange, Subject, diff};
pub use expressions::{Expression, ExpressionRole, ExpressionScope, expressions};
pub use fields::{MAX_SCALE, MAX_TEXT_LENGTH};
pub use parse::{merge_problems, parse_declaration, read_declaration};

use std::fmt;

use serde::Serialize;
use utoipa::ToSchema;

use super::decl::{FieldKind, NamingSeries, ObjectTypeDecl};
use super::ident::identifier_problem;
use super::pointer::child;
use fields::{FieldLevel, Fields};

/// One reason a declaration cannot be installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeclProblem {
    /// JSON pointer into the declaration: `/fields/3/name`.
    pub pointer: String,
    pub reason: String,
}

impl fmt::Display for DeclProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pointer, self.reason)
    }
}

#[derive(Default)]
struct Problems(Vec<DeclProblem>);

impl Problems {
    fn add(&mut self, pointer: String, reason: impl Into<String>) {
        self.0.push(DeclProblem { pointer, reason: reason.into() });
    }

    fn label(&mut self, pointer: String, label: &super::decl::Label) {
        if label.is_blank() {
            self.add(pointer, "a label needs English or Chinese text");
        }
    }
}

/// Every problem with `decl`. `known_types` says whether another object type exists;
/// a reference to `decl` itself is always allowed.
pub fn check_declaration(decl: &ObjectTypeDecl, known_types: &dyn Fn(&str) -> bool) -> Result<(), Vec<DeclProblem>> {
    let mut problems = Problems::default();
    if let Some(reason) = identifier_problem(&decl.name) {
        problems.add("/name".into(), format!("`{}` {reason}", decl.name));
    }
    problems.label("/label".into(), &decl.label);
    if let Some(plural) = &decl.plural_label {
        problems.label("/plural_label".into(), plural);
    }
    let context = Fields { self_type: &decl.name, known_types };
    context.check(&decl.fields, "/fields", FieldLevel::Record, &mut problems);
    check_unique(decl, &mut problems);
    check_title(decl, &mut problems);
    check_party_field(decl, &mut problems);
    check_line_of(decl, &mut problems);
    if let Some(Err(e)) = decl.naming.as_ref().map(NamingSeries::parse) {
        problems.add("/naming/pattern".into(), e.to_string());
    }
    if let Some(lifecycle) = &decl.lifecycle {
        lifecycle::check(decl, lifecycle, &context, &mut problems);
    }
    if problems.0.is_empty() { Ok(()) } else { Err(problems.0) }
}

/// `line_of` names a reference field of the record (for a line's field, of its parent).
fn check_line_of(decl: &ObjectTypeDecl, problems: &mut Problems) {
    let mut named: Vec<(String, &str)> = Vec::new();
    for (i, field) in decl.fields.iter().enumerate() {
        match &field.kind {
            FieldKind::Text { line_of: Some(of), .. } => named.push((format!("/fields/{i}/line_of"), of)),
            FieldKind::Lines { fields } => {
                for (j, line_field) in fields.iter().enumerate() {
                    if let FieldKind::Text { line_of: Some(of), .. } = &line_field.kind {
                        named.push((format!("/fields/{i}/fields/{j}/line_of"), of));
                    }
                }
            }
            _ => {}
        }
    }
    for (pointer, of) in named {
        match decl.field(of).map(|f| &f.kind) {
            Some(FieldKind::Reference { .. }) => {}
            Some(_) => problems.add(pointer, format!("`{of}` is not a reference field")),
            None => problems.add(pointer, format!("unknown field `{of}`")),
        }
    }
}

fn check_unique(decl: &ObjectTypeDecl, problems: &mut Problems) {
    for (k, names) in decl.unique.iter().enumerate() {
        let base = child("/unique", k);
        if names.is_empty() {
            problems.add(base.clone(), "a unique constraint names at least one field");
        }
        for (j, name) in names.iter().enumerate() {
            let pointer = child(&base, j);
            if names[..j].contains(name) {
                problems.add(pointer, format!("`{name}` is listed twice"));
                continue;
            }
            match decl.field(name) {
                None => problems.add(pointer, format!("unknown field `{name}`")),
                Some(field) if !field.kind.indexable() => problems
                    .add(pointer, format!("a {} field cannot be part of a unique constraint", field.kind.type_name())),
                Some(_) => {}
            }
        }
    }
}

fn check_title(decl: &ObjectTypeDecl, problems: &mut Problems) {
    let Some(title) = &decl.title_field else { return };
    match decl.field(title) {
        None => problems.add("/title_field".into(), format!("unknown field `{title}`")),
        Some(field) if !field.kind.indexable() => {
            problems.add("/title_field".into(), format!("a {} field cannot be the title", field.kind.type_name()))
        }
        Some(_) => {}
    }
}

/// The type whose records are parties (declared by the core app).
pub const PARTY_TYPE: &str = "party";

fn check_party_field(decl: &ObjectTypeDecl, problems: &mut Problems) {
    let Some(name) = &decl.party_field else { return };
    if name == "id" {
        return;
    }
    match decl.field(name) {
        None => problems.add("/party_field".into(), format!("unknown field `{name}`")),
        Some(field) => match &field.kind {
            FieldKind::Party {} => {}
            FieldKind::Reference { target, .. } if target == PARTY_TYPE => {}
            other => problems.add(
                "/party_field".into(),
                format!(
                    "`{name}` is a {} field; the party field must be a `party` field or a reference to `{PARTY_TYPE}` (or `id`)",
                    other.type_name()
                ),
            ),
        },
    }
}

#[cfg(test)]
mod tests;
