//! Checks of a list of fields: a type's own, its lines', or a transition's inputs.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::Problems;
use crate::schema::currency::is_currency_code;
use crate::schema::decl::{DefaultValue, FieldDecl, FieldKind, ScalarKind, SelectOption};
use crate::schema::ident::{identifier_problem, is_line_system_column, is_reserved_word, is_system_column};
use crate::schema::pointer::child;
use crate::schema::value::coerce_value;

pub const MAX_TEXT_LENGTH: u32 = 1_000_000;
/// Places a decimal column keeps at most; 28 significant digits leave 10 before the point.
pub const MAX_SCALE: u8 = 18;
const MAX_OPTION_VALUE_LEN: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FieldLevel {
    Record,
    Line,
    Inputs,
}

pub struct Fields<'a> {
    pub self_type: &'a str,
    pub known_types: &'a dyn Fn(&str) -> bool,
}

impl Fields<'_> {
    pub fn check(&self, fields: &[FieldDecl], base: &str, level: FieldLevel, problems: &mut Problems) {
        let mut first_at: HashMap<&str, usize> = HashMap::new();
        for (i, field) in fields.iter().enumerate() {
            let at = child(base, i);
            if let Some(first) = first_at.get(field.name.as_str()) {
                problems.add(
                    child(&at, "name"),
                    format!("duplicate field name `{}` (first at {})", field.name, child(base, first)),
                );
            } else {
                first_at.insert(&field.name, i);
                name_problems(&field.name, &at, level, problems);
            }
            problems.label(child(&at, "label"), &field.label);
            if let Some(help) = &field.help {
                problems.label(child(&at, "help"), help);
            }
            self.kind(field, &at, level, problems);
            storage_flags(field, &at, level, problems);
            default_problems(field, &at, problems);
        }
    }

    fn kind(&self, field: &FieldDecl, at: &str, level: FieldLevel, problems: &mut Problems) {
        match &field.kind {
            FieldKind::Text { max_length, .. } if *max_length == 0 || *max_length > MAX_TEXT_LENGTH => {
                problems.add(child(at, "max_length"), format!("must be between 1 and {MAX_TEXT_LENGTH}"));
            }
            FieldKind::Integer { min: Some(min), max: Some(max) } if min > max => {
                problems.add(child(at, "min"), format!("min {min} is greater than max {max}"));
            }
            FieldKind::Decimal { scale, min, max } => decimal_params(*scale, *min, *max, at, problems),
            FieldKind::Money { currency, scale } => money_params(currency.as_deref(), *scale, at, problems),
            FieldKind::Select { options } | FieldKind::MultiSelect { options } => {
                options_problems(options, at, problems);
            }
            FieldKind::Reference { target, .. } => {
                if let Some(reason) = identifier_problem(target) {
                    problems.add(child(at, "target"), format!("`{target}` {reason}"));
                } else if target != self.self_type && !(self.known_types)(target) {
                    problems.add(child(at, "target"), format!("unknown object type `{target}`"));
                }
            }
            FieldKind::Lines { fields } => match level {
                FieldLevel::Record if fields.is_empty() => {
                    problems.add(child(at, "fields"), "lines need at least one field");
                }
                FieldLevel::Record => self.check(fields, &child(at, "fields"), FieldLevel::Line, problems),
                FieldLevel::Line => problems.add(child(at, "type"), "lines cannot hold lines"),
                FieldLevel::Inputs => problems.add(child(at, "type"), "a transition input cannot be lines"),
            },
            FieldKind::Computed { expression, result, .. } => {
                if level == FieldLevel::Inputs {
                    problems.add(child(at, "type"), "a transition input cannot be computed");
                }
                if expression.trim().is_empty() {
                    problems.add(child(at, "expression"), "the expression is empty");
                }
                if field.required {
                    problems.add(child(at, "required"), "a computed field cannot be required");
                }
                if field.default.is_some() {
                    problems.add(child(at, "default"), "a computed field has no default");
                }
                let result_at = child(at, "result");
                match result {
                    ScalarKind::Decimal { scale } => decimal_params(*scale, None, None, &result_at, problems),
                    ScalarKind::Money { currency, scale } => {
                        money_params(currency.as_deref(), *scale, &result_at, problems);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

fn name_problems(name: &str, at: &str, level: FieldLevel, problems: &mut Problems) {
    let pointer = child(at, "name");
    if let Some(reason) = identifier_problem(name) {
        problems.add(pointer, format!("`{name}` {reason}"));
    } else if is_reserved_word(name) {
        problems.add(pointer, format!("`{name}` is a reserved word"));
    } else if level == FieldLevel::Record && is_system_column(name) {
        problems.add(pointer, format!("`{name}` is a system field every record has"));
    } else if level == FieldLevel::Line && is_line_system_column(name) {
        problems.add(pointer, format!("`{name}` is a system field every line has"));
    }
}

fn decimal_params(scale: u8, min: Option<Decimal>, max: Option<Decimal>, at: &str, problems: &mut Problems) {
    if scale > MAX_SCALE {
        problems.add(child(at, "scale"), format!("at most {MAX_SCALE} decimal places"));
    }
    for (key, bound) in [("min", min), ("max", max)] {
        if let Some(bound) = bound.filter(|b| b.normalize().scale() > u32::from(scale)) {
            problems.add(child(at, key), format!("{bound} has more decimal places than the scale {scale}"));
        }
    }
    if let Some((min, max)) = min.zip(max).filter(|(min, max)| min > max) {
        problems.add(child(at, "min"), format!("min {min} is greater than max {max}"));
    }
}

fn money_params(currency: Option<&str>, scale: Option<u8>, at: &str, problems: &mut Problems) {
    if let Some(code) = currency.filter(|code| !is_currency_code(code)) {
        problems.add(
            child(at, "currency"),
            format!("`{code}` is not a currency code of three capital letters such as CNY"),
        );
    }
    if let Some(scale) = scale.filter(|s| *s > MAX_SCALE) {
        problems.add(child(at, "scale"), format!("{scale} decimal places; at most {MAX_SCALE}"));
    }
}

fn options_problems(options: &[SelectOption], at: &str, problems: &mut Problems) {
    let base = child(at, "options");
    if options.is_empty() {
        problems.add(base.clone(), "a select field needs at least one option");
    }
    for (j, option) in options.iter().enumerate() {
        let option_at = child(&base, j);
        let value = &option.value;
        if value.is_empty() || value.trim() != value || value.chars().count() > MAX_OPTION_VALUE_LEN {
            problems.add(
                child(&option_at, "value"),
                format!("an option value has 1 to {MAX_OPTION_VALUE_LEN} characters and no surrounding spaces"),
            );
        } else if let Some(first) = options[..j].iter().position(|o| o.value == *value) {
            problems.add(
                child(&option_at, "value"),
                format!("duplicate option value `{value}` (first at {})", child(&base, first)),
            );
        }
        problems.label(child(&option_at, "label"), &option.label);
        if let Some(color) = option.color.as_deref().filter(|c| !valid_color(c)) {
            problems.add(
                child(&option_at, "color"),
                format!("`{color}` is not #rgb, #rrggbb or a palette name such as green"),
            );
        }
    }
}

// Colours end up in style attributes; anything beyond hex or a plain word could inject CSS.
fn valid_color(color: &str) -> bool {
    match color.strip_prefix('#') {
        Some(hex) => matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()),
        None => !color.is_empty() && color.len() <= 32 && color.chars().all(|c| c.is_ascii_lowercase()),
    }
}

fn storage_flags(field: &FieldDecl, at: &str, level: FieldLevel, problems: &mut Problems) {
    for (flag, set) in [("unique", field.unique), ("indexed", field.indexed)] {
        if !set {
            continue;
        }
        let reason = if level == FieldLevel::Inputs {
            "transition inputs are not stored".to_owned()
        } else if matches!(field.kind, FieldKind::Computed { stored: false, .. }) {
            format!("only a stored computed field can be {flag}")
        } else if matches!(field.kind, FieldKind::Attachment { multiple: true }) {
            format!("an attachment field with multiple files cannot be {flag}")
        } else if !field.kind.indexable() {
            format!("a {} field cannot be {flag}", field.kind.type_name())
        } else {
            continue;
        };
        problems.add(child(at, flag), reason);
    }
}

fn default_problems(field: &FieldDecl, at: &str, problems: &mut Problems) {
    let pointer = child(at, "default");
    match &field.default {
        Some(DefaultValue::Literal(literal)) if !matches!(field.kind, FieldKind::Computed { .. }) => {
            if let Err(errors) = coerce_value(field, literal, "") {
                for error in errors {
                    problems.add(
                        format!("{pointer}{}", error.pointer),
                        format!("the default does not fit the field: {}", error.reason),
                    );
                }
            }
        }
        Some(DefaultValue::Feel { feel }) if feel.trim().is_empty() => {
            problems.add(child(&pointer, "feel"), "the expression is empty");
        }
        _ => {}
    }
}

/// Checks a transition's `set` value against the field it sets.
pub fn set_value_problems(field: &FieldDecl, value: &DefaultValue, pointer: &str, problems: &mut Problems) {
    match value {
        DefaultValue::Literal(literal) => {
            if let Err(errors) = coerce_value(field, literal, "") {
                for error in errors {
                    problems.add(
                        format!("{pointer}{}", error.pointer),
                        format!("the value does not fit the field: {}", error.reason),
                    );
                }
            }
        }
        DefaultValue::Feel { feel } if feel.trim().is_empty() => {
            problems.add(child(pointer, "feel"), "the expression is empty");
        }
        DefaultValue::Feel { .. } => {}
    }
}
