//! Reading a declaration from JSON so that *every* problem is reported at once: a field
//! whose shape cannot be read (an unknown type, a misspelt key) does not hide the problems
//! of the rest of the declaration.

use serde_json::{Value as Json, json};

use super::{DeclProblem, check_declaration};
use crate::schema::decl::{FieldDecl, ObjectTypeDecl};

/// Reads and checks a declaration; `Err` lists every problem, shape and meaning alike.
pub fn parse_declaration(value: &Json, known_types: &dyn Fn(&str) -> bool) -> Result<ObjectTypeDecl, Vec<DeclProblem>> {
    let (decl, mut problems) = read_declaration(value);
    let Some(decl) = decl else { return Err(problems) };
    if let Err(found) = check_declaration(&decl, known_types) {
        merge_problems(&mut problems, found);
    }
    if problems.is_empty() { Ok(decl) } else { Err(problems) }
}

/// Reads the shape only. Unreadable fields are reported and replaced by stand-ins, so the
/// declaration (when its outer shape reads at all) can still be checked for the rest.
pub fn read_declaration(value: &Json) -> (Option<ObjectTypeDecl>, Vec<DeclProblem>) {
    let mut problems = Vec::new();
    let mut patched = value.clone();
    if let Some(fields) = patched.get_mut("fields").and_then(Json::as_array_mut) {
        for (i, field) in fields.iter_mut().enumerate() {
            patch_field(field, &format!("/fields/{i}"), &mut problems);
        }
    }
    match serde_json::from_value::<ObjectTypeDecl>(patched) {
        Ok(decl) => (Some(decl), problems),
        Err(e) => {
            problems.push(DeclProblem { pointer: String::new(), reason: e.to_string() });
            (None, problems)
        }
    }
}

/// Adds `found` to `problems`, leaving out what concerns fields already reported as
/// unreadable (those are stand-ins, not the user's).
pub fn merge_problems(problems: &mut Vec<DeclProblem>, found: Vec<DeclProblem>) {
    let unreadable: Vec<String> = problems.iter().map(|p| p.pointer.clone()).collect();
    let covered = |p: &str| unreadable.iter().any(|u| p == u || p.starts_with(&format!("{u}/")));
    problems.extend(found.into_iter().filter(|p| !covered(&p.pointer)));
}

/// Replaces a field that cannot be read with a harmless stand-in of the same name, after
/// noting why; descends into lines.
fn patch_field(field: &mut Json, pointer: &str, problems: &mut Vec<DeclProblem>) {
    if let Some(inner) = field.get_mut("fields").and_then(Json::as_array_mut) {
        for (j, line_field) in inner.iter_mut().enumerate() {
            patch_field(line_field, &format!("{pointer}/fields/{j}"), problems);
        }
    }
    if let Err(e) = serde_json::from_value::<FieldDecl>(field.clone()) {
        let name = field.get("name").and_then(Json::as_str).unwrap_or("invalid").to_owned();
        let reason = e.to_string();
        let reason = reason.strip_prefix(&format!("field `{name}`: ")).unwrap_or(&reason).to_owned();
        problems.push(DeclProblem { pointer: format!("{pointer}{}", key_of(&reason)), reason });
        *field = json!({ "name": name, "label": { "en": name, "zh": name }, "type": "json" });
    }
}

/// The key a serde message is about: `/type` for an unknown kind, `/max_lenght` for an
/// unknown or missing key; empty when the message names none.
fn key_of(reason: &str) -> String {
    if reason.starts_with("unknown variant") || reason.contains("missing field `type`") {
        return "/type".into();
    }
    for prefix in ["unknown field `", "missing field `"] {
        if let Some(rest) = reason.split(prefix).nth(1).and_then(|r| r.split('`').next()) {
            return format!("/{rest}");
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_field_does_not_hide_other_problems() {
        let value = json!({
            "name": "thing", "label": {"en": "Thing", "zh": "东西"},
            "fields": [
                {"name": "a", "label": {"en": "A", "zh": "甲"}, "type": "texty"},
                {"name": "b", "label": {"en": "B", "zh": "乙"}, "type": "text", "max_lenght": 3},
                {"name": "select", "label": {"en": "S", "zh": "丙"}, "type": "text"},
                {"name": "r", "label": {"en": "R", "zh": "丁"}, "type": "reference", "target": "nowhere"}
            ]
        });
        let problems = parse_declaration(&value, &|_| false).unwrap_err();
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert!(pointers.contains(&"/fields/0/type"), "{problems:?}");
        assert!(pointers.contains(&"/fields/1/max_lenght"), "{problems:?}");
        assert!(pointers.iter().any(|p| p.starts_with("/fields/2")), "reserved word: {problems:?}");
        assert!(pointers.iter().any(|p| p.starts_with("/fields/3")), "unknown target: {problems:?}");
        assert!(problems[0].reason.contains("texty"), "{problems:?}");
    }

    #[test]
    fn a_good_declaration_reads() {
        let value = json!({"name": "ok", "label": {"en": "OK", "zh": "好"},
            "fields": [{"name": "x", "label": {"en": "X", "zh": "X"}, "type": "integer"}]});
        assert_eq!(parse_declaration(&value, &|_| false).unwrap().fields.len(), 1);
    }
}
