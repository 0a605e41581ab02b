//! A record's party (the system `party`: what a partner's guests may see) derived from the
//! record itself. A declaration names the source in `party_field`:
//!
//! - a `party` field or a reference to the `party` type: the record concerns the party
//!   that field names (a party's contact, address or relationship; a purchase order's
//!   supplier), so that party's guests see it;
//! - `id`: the records are parties themselves (the core app's `party`), so a party record's
//!   party is its own id.
//!
//! The commands on records set the system party from here on every create and update, so
//! it cannot drift from the field it mirrors.

use std::collections::BTreeMap;

use uuid::Uuid;
use weft_model::schema::{ObjectTypeDecl, Value};

/// Does the declaration derive its records' party from the records?
pub fn derives_party(decl: &ObjectTypeDecl) -> bool {
    decl.party_field.is_some()
}

/// Are the records of `decl` parties themselves (`party_field: "id"`)?
pub fn party_is_self(decl: &ObjectTypeDecl) -> bool {
    decl.party_field.as_deref() == Some("id")
}

/// The party named by the declaration's party field in `values` (the record's complete
/// values: on an update, the stored values with the change applied). `None` when the type
/// does not derive its party from a field, or the field is empty.
pub fn implied_party(decl: &ObjectTypeDecl, values: &BTreeMap<String, Value>) -> Option<Uuid> {
    let field = decl.party_field.as_deref().filter(|f| *f != "id")?;
    match values.get(field) {
        Some(Value::Reference(id)) => Some(*id),
        _ => None,
    }
}

/// The system party a record of `decl` must carry, when the declaration decides it:
/// `Some(party)` (`party` may be `None`: an empty party field), or `None` when the
/// declaration leaves the party to the caller. `record_id` is the record's id (a new
/// record's id is chosen before it is written).
pub fn derived_party(decl: &ObjectTypeDecl, record_id: Uuid, values: &BTreeMap<String, Value>) -> Option<Option<Uuid>> {
    if party_is_self(decl) {
        Some(Some(record_id))
    } else if derives_party(decl) {
        Some(implied_party(decl, values))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn decl(party_field: Option<&str>) -> ObjectTypeDecl {
        let mut value = json!({
            "name": "party_contact", "label": {"en": "Contact", "zh": "联系人"},
            "fields": [
                {"name": "of_party", "label": {"en": "Party", "zh": "往来方"}, "type": "reference", "target": "party"},
                {"name": "name", "label": {"en": "Name", "zh": "姓名"}, "type": "text"}
            ]
        });
        if let Some(field) = party_field {
            value["party_field"] = json!(field);
        }
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_party_field_names_the_party() {
        let party = Uuid::now_v7();
        let record = Uuid::now_v7();
        let values = BTreeMap::from([
            ("of_party".to_owned(), Value::Reference(party)),
            ("name".to_owned(), Value::Text("Li Lei".into())),
        ]);
        let linked = decl(Some("of_party"));
        assert_eq!(implied_party(&linked, &values), Some(party));
        assert_eq!(derived_party(&linked, record, &values), Some(Some(party)));
        let empty = BTreeMap::from([("of_party".to_owned(), Value::Null)]);
        assert_eq!(implied_party(&linked, &empty), None);
        assert_eq!(derived_party(&linked, record, &empty), Some(None), "an empty field empties the party");
        assert_eq!(derived_party(&linked, record, &BTreeMap::new()), Some(None));
    }

    #[test]
    fn without_a_party_field_the_caller_decides() {
        let plain = decl(None);
        let values = BTreeMap::from([("of_party".to_owned(), Value::Reference(Uuid::now_v7()))]);
        assert_eq!(implied_party(&plain, &values), None);
        assert_eq!(derived_party(&plain, Uuid::now_v7(), &values), None);
        assert!(!derives_party(&plain));
    }

    #[test]
    fn a_party_is_its_own_party() {
        let parties = decl(Some("id"));
        let record = Uuid::now_v7();
        assert!(party_is_self(&parties));
        assert_eq!(implied_party(&parties, &BTreeMap::new()), None);
        assert_eq!(derived_party(&parties, record, &BTreeMap::new()), Some(Some(record)));
    }
}
