//! What of a record or message is searchable, as plain text. The same functions serve the
//! indexer (over stored values) and the re-check of a hit (over the values the searcher may
//! read), so a word found only in a hidden field never counts as a match.

use std::collections::BTreeMap;

use weft_model::schema::{FieldDecl, FieldKind, ObjectTypeDecl, Value};

/// The searchable texts of a record: its number, then each text-ish field's value (select
/// options with their labels in both languages), then its lines' text cells.
pub(crate) fn record_texts(
    decl: &ObjectTypeDecl,
    number: Option<&str>,
    values: &BTreeMap<String, Value>,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(number) = number.filter(|n| !n.is_empty()) {
        out.push(number.to_owned());
    }
    for field in &decl.fields {
        let Some(value) = values.get(&field.name) else { continue };
        match (&field.kind, value) {
            (FieldKind::Lines { fields }, Value::Lines(lines)) => {
                for line in lines {
                    for cell in fields {
                        if let Some(value) = line.get(&cell.name) {
                            push_field(&mut out, cell, value);
                        }
                    }
                }
            }
            _ => push_field(&mut out, field, value),
        }
    }
    out
}

fn push_field(out: &mut Vec<String>, field: &FieldDecl, value: &Value) {
    match (&field.kind, value) {
        (
            FieldKind::Text { .. } | FieldKind::LongText {} | FieldKind::Email {} | FieldKind::Phone {},
            Value::Text(s),
        ) => push(out, s.clone()),
        (FieldKind::RichText {}, Value::Text(html)) => push(out, strip_html(html)),
        (FieldKind::Select { options }, Value::Select(chosen)) => push(out, option_text(options, chosen)),
        (FieldKind::MultiSelect { options }, Value::MultiSelect(chosen)) => {
            for c in chosen {
                push(out, option_text(options, c));
            }
        }
        _ => {}
    }
}

fn push(out: &mut Vec<String>, text: String) {
    if !text.trim().is_empty() {
        out.push(text);
    }
}

fn option_text(options: &[weft_model::schema::SelectOption], value: &str) -> String {
    match options.iter().find(|o| o.value == value) {
        Some(o) => format!("{} {} {}", o.label.zh, o.label.en, o.value),
        None => value.to_owned(),
    }
}

/// A record's title as `principal` may read it: its title field unless hidden, else its
/// number, else its id.
pub(crate) fn record_title(
    decl: &ObjectTypeDecl,
    system: &weft_store::records::rows::SystemFields,
    values: &BTreeMap<String, Value>,
    hidden: &std::collections::BTreeSet<String>,
) -> String {
    let titled = decl.title_field.as_ref().filter(|f| !hidden.contains(*f)).and_then(|f| match values.get(f) {
        Some(Value::Text(s)) if !s.trim().is_empty() => Some(s.clone()),
        _ => None,
    });
    titled.or_else(|| system.number.clone()).unwrap_or_else(|| system.id.to_string())
}

/// A message body (Markdown) as plain text: emphasis and code marks, heading and quote
/// markers and link targets dropped, the words kept.
pub(crate) fn message_text(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    // `[text](target)` keeps `text`.
    while let Some(open) = rest.find("](") {
        let Some(close) = rest[open..].find(')') else { break };
        out.push_str(&rest[..open]);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let unmarked = out
        .lines()
        .map(|line| line.trim_start().trim_start_matches(['#', '>', '-', '*']).trim_start())
        .collect::<Vec<_>>()
        .join("\n")
        .replace(['*', '_', '`', '[', ']', '~'], "");
    strip_html(&unmarked)
}

/// Rich text (sanitised HTML) as plain text: tags dropped (block ends become spaces so
/// words of two paragraphs do not join), the common entities decoded.
pub(crate) fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => in_tag = true,
            (true, '>') => {
                in_tag = false;
                out.push(' ');
            }
            (false, c) => out.push(c),
            (true, _) => {}
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_words() {
        assert_eq!(strip_html("<p>交货<b>延迟</b></p><p>late &amp; sorry</p>"), "交货 延迟 late & sorry");
    }

    #[test]
    fn markdown_marks_and_link_targets_go() {
        assert_eq!(
            message_text("**Late** delivery, see [the PO](https://x.example/po/1)"),
            "Late delivery, see the PO"
        );
        assert_eq!(message_text("# 原因\n> `港口`"), "原因 港口");
    }
}
