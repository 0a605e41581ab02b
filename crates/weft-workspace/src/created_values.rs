//! A record's values as it was created, for its timeline.
//!
//! A create's history entry does not repeat the new record's values (`records::CREATED`):
//! they are in its row, and every later change to the row is a history entry naming each
//! changed field's value before it (`from`), since every write goes through the one path
//! (`records.rs`: row, history, audit entry and event in one transaction). So the values at
//! creation are the row's values now with the later entries undone, newest first. Writing
//! them again at every create cost more than the row itself (an order's values with its
//! lines are a longer text than its row), and the log of the commit carried them twice.
//!
//! Entries written before this carry their values, and are shown as they are. A field
//! declared after the record was created, filled in by its declaration's default, shows
//! that value as if it had been there from the start.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use weft_model::schema::Value;
use weft_store::kernel::history::StoredHistory;

/// Fills in the values of `entries`' create (the first entry, when it is a create that
/// carries none) from `current`, the record's declared values now (`declared` says which
/// field names those are; a change may also name system columns, such as `party`).
pub(crate) fn fill_created(
    entries: &mut [StoredHistory],
    current: &BTreeMap<String, Value>,
    declared: impl Fn(&str) -> bool,
) {
    let Some((first, later)) = entries.split_first_mut() else { return };
    if first.command != "create" || !first.changes.as_array().is_some_and(Vec::is_empty) {
        return;
    }
    let mut values: BTreeMap<&str, Json> = current
        .iter()
        .filter(|(field, _)| declared(field))
        .map(|(field, value)| (field.as_str(), value.to_json()))
        .collect();
    for entry in later.iter().rev() {
        for change in changed_fields(&entry.changes) {
            if let (Some(field), Some(from)) = (change.get("field").and_then(Json::as_str), change.get("from"))
                && let Some(slot) = values.get_mut(field)
            {
                *slot = from.clone();
            }
        }
    }
    first.changes = Json::Array(
        values
            .into_iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(field, to)| json!({ "field": field, "from": null, "to": to }))
            .collect(),
    );
}

/// The `{"field", "from", "to"}` items of an entry: the entry itself (updates) or its
/// `changes` (transitions).
fn changed_fields(changes: &Json) -> &[Json] {
    match changes {
        Json::Array(items) => items,
        Json::Object(map) => map.get("changes").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default(),
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use time::macros::datetime;

    use super::*;

    fn entry(version: i64, command: &str, changes: Json) -> StoredHistory {
        StoredHistory {
            id: version,
            at: datetime!(2026-12-05 08:00 UTC),
            version,
            command: command.into(),
            actor: "someone".into(),
            changes,
        }
    }

    fn declared(field: &str) -> bool {
        ["subject", "qty", "note", "supplier"].contains(&field)
    }

    #[test]
    fn the_values_at_creation_are_the_current_ones_with_later_changes_undone() {
        let current = BTreeMap::from([
            ("subject".to_owned(), Value::Text("bolts, M8".into())),
            ("qty".to_owned(), Value::Decimal(Decimal::new(12, 0))),
            ("note".to_owned(), Value::Text("urgent".into())),
            ("supplier".to_owned(), Value::Null),
        ]);
        let mut entries = vec![
            entry(1, "create", json!([])),
            entry(
                2,
                "update",
                json!([{ "field": "qty", "from": "10", "to": "11" }, { "field": "note", "from": null, "to": "soon" }]),
            ),
            // A transition's diff sits under `changes`; `party` is a system column.
            entry(
                3,
                "transition:submit",
                json!({ "changes": [{ "field": "qty", "from": "11", "to": "12" }, { "field": "party", "from": null, "to": "p" }], "inputs": {} }),
            ),
            entry(4, "update", json!([{ "field": "note", "from": "soon", "to": "urgent" }])),
            entry(5, "delete", json!([])),
        ];
        fill_created(&mut entries, &current, declared);
        assert_eq!(
            entries[0].changes,
            json!([
                { "field": "qty", "from": null, "to": "10" },
                { "field": "subject", "from": null, "to": "bolts, M8" },
            ])
        );
        // Later entries are left as they are.
        assert_eq!(entries[4].changes, json!([]));
        assert_eq!(entries[1].changes[0]["to"], json!("11"));
    }

    #[test]
    fn a_create_that_carries_its_values_is_shown_as_written() {
        let current = BTreeMap::from([("subject".to_owned(), Value::Text("now".into()))]);
        let written = json!([{ "field": "subject", "from": null, "to": "then" }]);
        let mut entries = vec![entry(1, "create", written.clone())];
        fill_created(&mut entries, &current, declared);
        assert_eq!(entries[0].changes, written);
    }

    #[test]
    fn a_history_that_does_not_start_with_a_create_is_left_alone() {
        let current = BTreeMap::from([("subject".to_owned(), Value::Text("now".into()))]);
        let mut entries = vec![entry(2, "update", json!([]))];
        fill_created(&mut entries, &current, declared);
        assert_eq!(entries[0].changes, json!([]));
        fill_created(&mut [], &current, declared);
    }
}
