//! Every FEEL expression in a declaration, with where it is and which names it may use, so
//! the expression crate can parse and type-check them all before the type is installed.

use crate::schema::decl::{DefaultValue, FieldDecl, FieldKind, ObjectTypeDecl};
use crate::schema::pointer::child;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression<'a> {
    /// JSON pointer to the expression in the declaration.
    pub pointer: String,
    pub source: &'a str,
    pub role: ExpressionRole,
    pub scope: ExpressionScope<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpressionRole {
    /// A field's default; its result must fit the field.
    Default,
    /// A computed field's expression; its result must fit the result kind.
    Computed,
    /// A transition's guard; boolean.
    Guard,
    /// A value a transition sets; its result must fit the field it sets.
    TransitionSet,
}

/// The names an expression may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpressionScope<'a> {
    /// The record's fields.
    Record,
    /// The record's fields and the fields of the line being computed, of lines field
    /// `lines_field`.
    Line { lines_field: &'a str },
    /// The record's fields and the inputs of transition `transition`.
    Transition { transition: &'a str },
}

pub fn expressions(decl: &ObjectTypeDecl) -> Vec<Expression<'_>> {
    let mut out = Vec::new();
    for (i, field) in decl.fields.iter().enumerate() {
        let at = child("/fields", i);
        field_expressions(field, &at, ExpressionScope::Record, &mut out);
        if let FieldKind::Lines { fields } = &field.kind {
            for (j, line_field) in fields.iter().enumerate() {
                let scope = ExpressionScope::Line { lines_field: &field.name };
                field_expressions(line_field, &child(&child(&at, "fields"), j), scope, &mut out);
            }
        }
    }
    let Some(lifecycle) = &decl.lifecycle else { return out };
    for (t, transition) in lifecycle.transitions.iter().enumerate() {
        let at = child("/lifecycle/transitions", t);
        let scope = ExpressionScope::Transition { transition: &transition.name };
        if let Some(guard) = &transition.guard {
            out.push(Expression { pointer: child(&at, "guard"), source: guard, role: ExpressionRole::Guard, scope });
        }
        for (k, input) in transition.inputs.iter().enumerate() {
            field_expressions(input, &child(&child(&at, "inputs"), k), scope, &mut out);
        }
        for (name, value) in &transition.set {
            if let DefaultValue::Feel { feel } = value {
                out.push(Expression {
                    pointer: child(&child(&child(&at, "set"), name), "feel"),
                    source: feel,
                    role: ExpressionRole::TransitionSet,
                    scope,
                });
            }
        }
    }
    out
}

fn field_expressions<'a>(field: &'a FieldDecl, at: &str, scope: ExpressionScope<'a>, out: &mut Vec<Expression<'a>>) {
    if let FieldKind::Computed { expression, .. } = &field.kind {
        out.push(Expression {
            pointer: child(at, "expression"),
            source: expression,
            role: ExpressionRole::Computed,
            scope,
        });
    }
    if let Some(DefaultValue::Feel { feel }) = &field.default {
        out.push(Expression {
            pointer: child(&child(at, "default"), "feel"),
            source: feel,
            role: ExpressionRole::Default,
            scope,
        });
    }
}
