use serde_json::json;

use super::*;
use crate::schema::decl::{DefaultValue, FieldKind, ObjectTypeDecl};

fn purchase_order() -> ObjectTypeDecl {
    serde_json::from_str(include_str!("../../fixtures/purchase_order.json")).unwrap()
}

fn field_mut<'a>(decl: &'a mut ObjectTypeDecl, name: &str) -> &'a mut FieldDecl {
    decl.fields.iter_mut().find(|f| f.name == name).unwrap()
}

fn line_field_mut<'a>(decl: &'a mut ObjectTypeDecl, name: &str) -> &'a mut FieldDecl {
    let FieldKind::Lines { fields } = &mut field_mut(decl, "lines").kind else { panic!("lines") };
    fields.iter_mut().find(|f| f.name == name).unwrap()
}

fn options_mut(field: &mut FieldDecl) -> &mut Vec<SelectOption> {
    match &mut field.kind {
        FieldKind::Select { options } | FieldKind::MultiSelect { options } => options,
        other => panic!("{other:?} has no options"),
    }
}

type Edit = fn(&mut ObjectTypeDecl);

#[test]
fn changes_are_classified() {
    let cases: Vec<(&str, Edit, &[&str])> = vec![
        ("nothing", |_| {}, &[]),
        (
            "add a field",
            |d| {
                d.fields.push(
                    serde_json::from_value(
                        json!({"name": "incoterm", "label": {"en": "Incoterm", "zh": "贸易术语"}, "type": "text"}),
                    )
                    .unwrap(),
                )
            },
            &["field incoterm: field_added (text)"],
        ),
        (
            "remove a field",
            |d| d.fields.retain(|f| f.name != "notes"),
            &["field notes: field_removed (rich_text) [destructive]"],
        ),
        (
            "add a line field",
            |d| {
                let FieldKind::Lines { fields } = &mut field_mut(d, "lines").kind else { return };
                fields.push(
                    serde_json::from_value(
                        json!({"name": "uom", "label": {"en": "Unit", "zh": "单位"}, "type": "text", "max_length": 8}),
                    )
                    .unwrap(),
                );
            },
            &["field lines.uom: field_added (text)"],
        ),
        (
            "shorten a text",
            |d| field_mut(d, "subject").kind = FieldKind::Text { max_length: 60, line_of: None },
            &["field subject: narrowed (max_length 120 → 60) [destructive]"],
        ),
        (
            "lengthen a text",
            |d| field_mut(d, "subject").kind = FieldKind::Text { max_length: 500, line_of: None },
            &["field subject: widened (max_length 120 → 500)"],
        ),
        (
            "fewer decimal places on a line",
            |d| line_field_mut(d, "qty").kind = FieldKind::Decimal { scale: 2, min: None, max: None },
            &[
                "field lines.qty: narrowed (scale 3 → 2) [destructive]",
                "field lines.qty: widened (range 0.001..none → none..none)",
            ],
        ),
        (
            "more decimal places",
            |d| {
                line_field_mut(d, "qty").kind =
                    FieldKind::Decimal { scale: 4, min: Some(rust_decimal::Decimal::new(1, 3)), max: None }
            },
            &["field lines.qty: widened (scale 3 → 4)"],
        ),
        (
            "remove an option",
            |d| options_mut(field_mut(d, "priority")).retain(|o| o.value != "urgent"),
            &["field priority: narrowed (options removed: urgent) [destructive]"],
        ),
        (
            "add an option and relabel one",
            |d| {
                let options = options_mut(field_mut(d, "priority"));
                options[0].label.en = "Not urgent".into();
                let mut blocker = options[2].clone();
                blocker.value = "blocker".into();
                options.push(blocker);
            },
            &[
                "field priority: widened (options added: blocker)",
                "field priority: label_changed (option labels or colours)",
            ],
        ),
        (
            "narrow an integer range",
            |d| field_mut(d, "payment_terms_days").kind = FieldKind::Integer { min: Some(0), max: Some(180) },
            &["field payment_terms_days: narrowed (range 0..365 → 0..180) [destructive]"],
        ),
        (
            "fix the currency of a money field",
            |d| field_mut(d, "shipping_cost").kind = FieldKind::Money { currency: Some("CNY".into()), scale: None },
            &[
                "field shipping_cost: narrowed (scale 4 → 2) [destructive]",
                "field shipping_cost: narrowed (currency fixed to CNY) [destructive]",
            ],
        ),
        (
            "text to long text",
            |d| field_mut(d, "subject").kind = FieldKind::LongText {},
            &["field subject: type_changed (text → long_text)"],
        ),
        (
            "date to text",
            |d| field_mut(d, "expected_delivery").kind = FieldKind::Text { max_length: 20, line_of: None },
            &["field expected_delivery: type_changed (date → text) [destructive]"],
        ),
        (
            "reference to another type",
            |d| {
                field_mut(d, "supplier_profile").kind =
                    FieldKind::Reference { target: "vendor".into(), on_delete: crate::schema::decl::OnDelete::SetNull }
            },
            &["field supplier_profile: type_changed (reference to supplier → vendor) [destructive]"],
        ),
        (
            "index and unique flags",
            |d| {
                field_mut(d, "expected_delivery").indexed = true;
                field_mut(d, "supplier").indexed = false;
                field_mut(d, "subject").unique = true;
            },
            &[
                "field subject: unique_added (unique)",
                "field supplier: index_removed (indexed)",
                "field expected_delivery: index_added (indexed)",
            ],
        ),
        (
            "labels, help and required",
            |d| {
                d.label.zh = "采购单".into();
                field_mut(d, "notes").help = None;
                field_mut(d, "expected_delivery").required = true;
                field_mut(d, "priority").default = Some(DefaultValue::Literal(json!("urgent")));
            },
            &[
                "type: label_changed (label)",
                "field expected_delivery: behaviour_changed (now required)",
                "field priority: behaviour_changed (default)",
                "field notes: label_changed (label)",
            ],
        ),
        (
            "composite unique replaced",
            |d| d.unique = vec![vec!["subject".into(), "supplier".into()]],
            &["unique (supplier, subject, order_date): unique_removed", "unique (subject, supplier): unique_added"],
        ),
        (
            "composite unique reordered is the same constraint",
            |d| d.unique = vec![vec!["order_date".into(), "supplier".into(), "subject".into()]],
            &[],
        ),
        (
            "computed expression and storage",
            |d| {
                let FieldKind::Computed { expression, stored, .. } = &mut field_mut(d, "total").kind else { return };
                *expression = "sum(lines.amount)".into();
                *stored = false;
            },
            &["field total: behaviour_changed (no longer stored)", "field total: behaviour_changed (expression)"],
        ),
        (
            "states and transitions",
            |d| {
                let Some(lifecycle) = &mut d.lifecycle else { return };
                lifecycle.states.retain(|s| s.name != "rejected");
                lifecycle.states.push(lifecycle.states[0].clone());
                if let Some(s) = lifecycle.states.last_mut() {
                    s.name = "on_hold".into();
                }
                lifecycle.transitions.retain(|t| t.name != "reject");
                lifecycle.transitions[0].guard = None;
                lifecycle.transitions[1].label.en = "Approve order".into();
            },
            &[
                "state rejected: state_removed (records in this state are stranded) [destructive]",
                "state on_hold: state_added",
                "transition submit: behaviour_changed (changed)",
                "transition approve: label_changed (label)",
                "transition reject: behaviour_changed (removed)",
            ],
        ),
        (
            "naming and title",
            |d| {
                d.naming = None;
                d.title_field = None;
            },
            &["type: behaviour_changed (title field)", "type: behaviour_changed (naming series)"],
        ),
        ("party field", |d| d.party_field = Some("id".into()), &["type: behaviour_changed (party field)"]),
    ];
    let old = purchase_order();
    for (name, edit, expected) in cases {
        let mut new = old.clone();
        edit(&mut new);
        let change = diff(&old, &new);
        let rendered: Vec<String> = change.changes.iter().map(ToString::to_string).collect();
        assert_eq!(rendered, expected, "{name}");
        let destructive = expected.iter().any(|line| line.ends_with("[destructive]"));
        assert_eq!(change.is_destructive(), destructive, "{name}");
    }
}

#[test]
fn storage_changes_are_the_ones_the_store_must_apply() {
    let old = purchase_order();
    let mut new = old.clone();
    field_mut(&mut new, "subject").label.en = "Title".into();
    field_mut(&mut new, "subject").kind = FieldKind::Text { max_length: 300, line_of: None };
    field_mut(&mut new, "expected_delivery").required = true;
    let change = diff(&old, &new);
    let storage: Vec<String> = change.storage().map(ToString::to_string).collect();
    assert_eq!(storage, ["field subject: widened (max_length 120 → 300)"]);
    assert!(!change.is_destructive());
    assert_eq!(
        serde_json::to_value(&change.changes[0]).unwrap(),
        json!({
            "subject": {"on": "field", "path": ["subject"]},
            "kind": "widened",
            "detail": "max_length 120 → 300",
            "destructive": false,
            "storage": true
        })
    );
}
