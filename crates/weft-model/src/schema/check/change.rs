//! What changing a declaration does to stored data. The store turns the storage changes
//! into DDL; `weft migrate --dry-run` prints them all; destructive ones are applied only
//! with an explicit flag. A renamed field shows as removed plus added: names are identity.

use std::fmt;

use serde::Serialize;
use utoipa::ToSchema;

use crate::schema::decl::{FieldDecl, FieldKind, LifecycleDecl, ObjectTypeDecl, SelectOption, TransitionDecl};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SchemaChange {
    pub changes: Vec<Change>,
}

impl SchemaChange {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether applying the change can lose data or invalidate stored values.
    pub fn is_destructive(&self) -> bool {
        self.changes.iter().any(|c| c.destructive)
    }

    pub fn destructive(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.destructive)
    }

    /// The changes the store must turn into DDL.
    pub fn storage(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.storage)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Change {
    pub subject: Subject,
    pub kind: ChangeKind,
    /// For people: `max_length 255 → 100`.
    pub detail: String,
    /// Data may be lost, or stored values may no longer be valid.
    pub destructive: bool,
    /// Tables, columns, indexes or constraints change.
    pub storage: bool,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.kind.as_str())?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        if self.destructive {
            write!(f, " [destructive]")?;
        }
        Ok(())
    }
}

/// What a change is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum Subject {
    /// The type as a whole: labels, naming, title, lifecycle.
    Type,
    /// A field; a line's field has the lines field first: `["lines", "qty"]`.
    Field {
        path: Vec<String>,
    },
    /// A composite unique constraint.
    Unique {
        fields: Vec<String>,
    },
    State {
        name: String,
    },
    Transition {
        name: String,
    },
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Type => write!(f, "type"),
            Subject::Field { path } => write!(f, "field {}", path.join(".")),
            Subject::Unique { fields } => write!(f, "unique ({})", fields.join(", ")),
            Subject::State { name } => write!(f, "state {name}"),
            Subject::Transition { name } => write!(f, "transition {name}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    FieldAdded,
    FieldRemoved,
    /// The field's type changed; safe only for widening conversions such as text → long_text.
    TypeChanged,
    /// The field accepts more than before (longer text, more places, more options).
    Widened,
    /// The field accepts less than before: some stored values may no longer fit.
    Narrowed,
    IndexAdded,
    IndexRemoved,
    /// May fail to apply if stored values are not unique yet.
    UniqueAdded,
    UniqueRemoved,
    StateAdded,
    /// Records in the removed state are stranded.
    StateRemoved,
    /// Required, default, expression, lifecycle or naming rules: no stored data changes.
    BehaviourChanged,
    /// Labels, help texts and colours only.
    LabelChanged,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::FieldAdded => "field_added",
            ChangeKind::FieldRemoved => "field_removed",
            ChangeKind::TypeChanged => "type_changed",
            ChangeKind::Widened => "widened",
            ChangeKind::Narrowed => "narrowed",
            ChangeKind::IndexAdded => "index_added",
            ChangeKind::IndexRemoved => "index_removed",
            ChangeKind::UniqueAdded => "unique_added",
            ChangeKind::UniqueRemoved => "unique_removed",
            ChangeKind::StateAdded => "state_added",
            ChangeKind::StateRemoved => "state_removed",
            ChangeKind::BehaviourChanged => "behaviour_changed",
            ChangeKind::LabelChanged => "label_changed",
        }
    }
}

struct Changes(Vec<Change>);

impl Changes {
    fn push(&mut self, subject: Subject, kind: ChangeKind, detail: impl Into<String>) {
        use ChangeKind::*;
        let (destructive, storage) = match kind {
            FieldRemoved | Narrowed => (true, true),
            StateRemoved => (true, false),
            FieldAdded | Widened | IndexAdded | IndexRemoved | UniqueAdded | UniqueRemoved => (false, true),
            TypeChanged => (true, true),
            StateAdded | BehaviourChanged | LabelChanged => (false, false),
        };
        self.0.push(Change { subject, kind, detail: detail.into(), destructive, storage });
    }

    fn push_with(
        &mut self,
        subject: Subject,
        kind: ChangeKind,
        detail: impl Into<String>,
        destructive: bool,
        storage: bool,
    ) {
        self.0.push(Change { subject, kind, detail: detail.into(), destructive, storage });
    }
}

/// Every difference between `old` and `new`, two versions of one type.
pub fn diff(old: &ObjectTypeDecl, new: &ObjectTypeDecl) -> SchemaChange {
    let mut changes = Changes(Vec::new());
    if old.label != new.label || old.plural_label != new.plural_label {
        changes.push(Subject::Type, ChangeKind::LabelChanged, "label");
    }
    diff_fields(&old.fields, &new.fields, &[], &mut changes);
    diff_unique(old, new, &mut changes);
    if old.title_field != new.title_field {
        changes.push(Subject::Type, ChangeKind::BehaviourChanged, "title field");
    }
    if old.party_field != new.party_field {
        changes.push(Subject::Type, ChangeKind::BehaviourChanged, "party field");
    }
    if old.naming != new.naming {
        changes.push(Subject::Type, ChangeKind::BehaviourChanged, "naming series");
    }
    diff_lifecycle(old.lifecycle.as_ref(), new.lifecycle.as_ref(), &mut changes);
    SchemaChange { changes: changes.0 }
}

fn diff_fields(old: &[FieldDecl], new: &[FieldDecl], parent: &[String], changes: &mut Changes) {
    let path = |name: &str| {
        let mut path = parent.to_vec();
        path.push(name.to_owned());
        Subject::Field { path }
    };
    for old_field in old {
        if !new.iter().any(|f| f.name == old_field.name) {
            changes.push(path(&old_field.name), ChangeKind::FieldRemoved, old_field.kind.type_name());
        }
    }
    for new_field in new {
        let Some(old_field) = old.iter().find(|f| f.name == new_field.name) else {
            changes.push(path(&new_field.name), ChangeKind::FieldAdded, new_field.kind.type_name());
            continue;
        };
        diff_field(old_field, new_field, parent, changes);
    }
}

fn diff_field(old: &FieldDecl, new: &FieldDecl, parent: &[String], changes: &mut Changes) {
    let mut path = parent.to_vec();
    path.push(new.name.clone());
    let subject = || Subject::Field { path: path.clone() };
    diff_kind(&old.kind, &new.kind, &path, changes);
    for (flag, was, is, added, removed) in [
        ("unique", old.unique, new.unique, ChangeKind::UniqueAdded, ChangeKind::UniqueRemoved),
        ("indexed", old.indexed, new.indexed, ChangeKind::IndexAdded, ChangeKind::IndexRemoved),
    ] {
        match (was, is) {
            (false, true) => changes.push(subject(), added, flag),
            (true, false) => changes.push(subject(), removed, flag),
            _ => {}
        }
    }
    if old.required != new.required {
        let detail = if new.required { "now required" } else { "no longer required" };
        changes.push(subject(), ChangeKind::BehaviourChanged, detail);
    }
    if old.default != new.default {
        changes.push(subject(), ChangeKind::BehaviourChanged, "default");
    }
    if old.label != new.label || old.help != new.help {
        changes.push(subject(), ChangeKind::LabelChanged, "label");
    }
}

fn diff_kind(old: &FieldKind, new: &FieldKind, path: &[String], changes: &mut Changes) {
    use FieldKind as K;
    let subject = || Subject::Field { path: path.to_vec() };
    match (old, new) {
        (K::Text { max_length: a, .. }, K::Text { max_length: b, .. }) => {
            bound_change(*a, *b, "max_length", subject(), changes);
        }
        (K::Integer { min: a_min, max: a_max }, K::Integer { min: b_min, max: b_max }) => {
            range_change(a_min.as_ref(), a_max.as_ref(), b_min.as_ref(), b_max.as_ref(), subject(), changes);
        }
        (K::Decimal { scale: a, min: a_min, max: a_max }, K::Decimal { scale: b, min: b_min, max: b_max }) => {
            bound_change(*a, *b, "scale", subject(), changes);
            range_change(a_min.as_ref(), a_max.as_ref(), b_min.as_ref(), b_max.as_ref(), subject(), changes);
        }
        (K::Money { currency: a_cur, .. }, K::Money { currency: b_cur, .. }) => {
            let places = |kind: &FieldKind| kind.decimal_places().unwrap_or_default();
            bound_change(places(old), places(new), "scale", subject(), changes);
            match (a_cur, b_cur) {
                (Some(a), None) => changes.push_with(
                    subject(),
                    ChangeKind::Widened,
                    format!("currency no longer fixed to {a}"),
                    false,
                    false,
                ),
                (None, Some(b)) => {
                    changes.push_with(subject(), ChangeKind::Narrowed, format!("currency fixed to {b}"), true, false)
                }
                (Some(a), Some(b)) if a != b => {
                    changes.push_with(subject(), ChangeKind::Narrowed, format!("currency {a} → {b}"), true, false);
                }
                _ => {}
            }
        }
        (K::Select { options: a }, K::Select { options: b })
        | (K::MultiSelect { options: a }, K::MultiSelect { options: b }) => {
            options_change(a, b, subject(), changes);
        }
        (K::Reference { target: a, on_delete: a_del }, K::Reference { target: b, on_delete: b_del }) => {
            if a != b {
                changes.push(subject(), ChangeKind::TypeChanged, format!("reference to {a} → {b}"));
            } else if a_del != b_del {
                changes.push_with(
                    subject(),
                    ChangeKind::BehaviourChanged,
                    format!("on_delete {a_del:?} → {b_del:?}"),
                    false,
                    true,
                );
            }
        }
        (K::Lines { fields: a }, K::Lines { fields: b }) => diff_fields(a, b, path, changes),
        (K::Attachment { multiple: a }, K::Attachment { multiple: b }) if a != b => {
            if *b {
                changes.push(subject(), ChangeKind::Widened, "multiple files");
            } else {
                changes.push(subject(), ChangeKind::Narrowed, "one file only");
            }
        }
        (
            K::Computed { expression: a_expr, result: a_res, stored: a_st },
            K::Computed { expression: b_expr, result: b_res, stored: b_st },
        ) => {
            // Computed values can always be recomputed, so no change to them loses data.
            if a_res != b_res {
                changes.push_with(
                    subject(),
                    ChangeKind::TypeChanged,
                    "result kind; values are recomputed",
                    false,
                    *a_st || *b_st,
                );
            }
            if a_st != b_st {
                let detail = if *b_st { "now stored" } else { "no longer stored" };
                changes.push_with(subject(), ChangeKind::BehaviourChanged, detail, false, true);
            }
            if a_expr != b_expr {
                let detail = if *b_st { "expression; stored values are recomputed" } else { "expression" };
                changes.push(subject(), ChangeKind::BehaviourChanged, detail);
            }
        }
        (a, b) if a.type_name() == b.type_name() => {}
        (a, b) => {
            let widening = is_widening(a, b);
            changes.push_with(
                subject(),
                ChangeKind::TypeChanged,
                format!("{} → {}", a.type_name(), b.type_name()),
                !widening,
                true,
            );
        }
    }
}

/// Conversions that keep every stored value as it is.
fn is_widening(old: &FieldKind, new: &FieldKind) -> bool {
    use FieldKind as K;
    let text_room = |new: &FieldKind, needed: u32| match new {
        K::Text { max_length, .. } => *max_length >= needed,
        K::LongText {} => true,
        _ => false,
    };
    match (old, new) {
        (K::Text { max_length, .. }, K::LongText {}) => *max_length > 0,
        (K::Email {}, to) => text_room(to, 254),
        (K::Url {}, to) => text_room(to, 2048),
        (K::Phone {}, to) => text_room(to, 64),
        (K::Select { .. }, to) => text_room(to, 64),
        // An i64 has 19 digits; a decimal holds 28, so up to 9 places leave room.
        (K::Integer { .. }, K::Decimal { scale, min: None, max: None }) => *scale <= 9,
        (K::Percent {}, K::Decimal { scale, min: None, max: None }) => *scale >= 4,
        _ => false,
    }
}

fn bound_change<T: PartialOrd + fmt::Display>(old: T, new: T, what: &str, subject: Subject, changes: &mut Changes) {
    if new > old {
        changes.push(subject, ChangeKind::Widened, format!("{what} {old} → {new}"));
    } else if new < old {
        changes.push(subject, ChangeKind::Narrowed, format!("{what} {old} → {new}"));
    }
}

/// A tighter range stores the same column type but may reject stored values.
fn range_change<T: PartialOrd + fmt::Display>(
    old_min: Option<&T>,
    old_max: Option<&T>,
    new_min: Option<&T>,
    new_max: Option<&T>,
    subject: Subject,
    changes: &mut Changes,
) {
    let show = |b: Option<&T>| b.map_or_else(|| "none".to_owned(), |b| b.to_string());
    let min_tighter = match (old_min, new_min) {
        (None, Some(_)) => true,
        (Some(a), Some(b)) => b > a,
        _ => false,
    };
    let max_tighter = match (old_max, new_max) {
        (None, Some(_)) => true,
        (Some(a), Some(b)) => b < a,
        _ => false,
    };
    if old_min == new_min && old_max == new_max {
        return;
    }
    let detail = format!("range {}..{} → {}..{}", show(old_min), show(old_max), show(new_min), show(new_max));
    if min_tighter || max_tighter {
        changes.push_with(subject, ChangeKind::Narrowed, detail, true, false);
    } else {
        changes.push_with(subject, ChangeKind::Widened, detail, false, false);
    }
}

fn options_change(old: &[SelectOption], new: &[SelectOption], subject: Subject, changes: &mut Changes) {
    let removed: Vec<&str> =
        old.iter().filter(|o| !new.iter().any(|n| n.value == o.value)).map(|o| o.value.as_str()).collect();
    let added: Vec<&str> =
        new.iter().filter(|n| !old.iter().any(|o| o.value == n.value)).map(|n| n.value.as_str()).collect();
    if !removed.is_empty() {
        changes.push_with(
            subject.clone(),
            ChangeKind::Narrowed,
            format!("options removed: {}", removed.join(", ")),
            true,
            false,
        );
    }
    if !added.is_empty() {
        changes.push_with(
            subject.clone(),
            ChangeKind::Widened,
            format!("options added: {}", added.join(", ")),
            false,
            false,
        );
    }
    let relabelled =
        new.iter().any(|n| old.iter().any(|o| o.value == n.value && (o.label != n.label || o.color != n.color)));
    if relabelled {
        changes.push(subject, ChangeKind::LabelChanged, "option labels or colours");
    }
}

fn diff_unique(old: &ObjectTypeDecl, new: &ObjectTypeDecl, changes: &mut Changes) {
    let sorted = |fields: &Vec<String>| {
        let mut fields = fields.clone();
        fields.sort();
        fields
    };
    let old_sets: Vec<Vec<String>> = old.unique.iter().map(sorted).collect();
    let new_sets: Vec<Vec<String>> = new.unique.iter().map(sorted).collect();
    for (set, original) in old_sets.iter().zip(&old.unique) {
        if !new_sets.contains(set) {
            changes.push(Subject::Unique { fields: original.clone() }, ChangeKind::UniqueRemoved, "");
        }
    }
    for (set, original) in new_sets.iter().zip(&new.unique) {
        if !old_sets.contains(set) {
            changes.push(Subject::Unique { fields: original.clone() }, ChangeKind::UniqueAdded, "");
        }
    }
}

fn diff_lifecycle(old: Option<&LifecycleDecl>, new: Option<&LifecycleDecl>, changes: &mut Changes) {
    let (old, new) = match (old, new) {
        (None, None) => return,
        (None, Some(_)) => {
            changes.push(
                Subject::Type,
                ChangeKind::BehaviourChanged,
                "lifecycle added; existing records take the initial state",
            );
            return;
        }
        (Some(_), None) => {
            changes.push_with(
                Subject::Type,
                ChangeKind::BehaviourChanged,
                "lifecycle removed; record states are dropped",
                true,
                false,
            );
            return;
        }
        (Some(old), Some(new)) => (old, new),
    };
    if old.initial != new.initial {
        changes.push(
            Subject::Type,
            ChangeKind::BehaviourChanged,
            format!("initial state {} → {}", old.initial, new.initial),
        );
    }
    for state in &old.states {
        let subject = || Subject::State { name: state.name.clone() };
        match new.state(&state.name) {
            None => changes.push(subject(), ChangeKind::StateRemoved, "records in this state are stranded"),
            Some(now) => {
                if now.label != state.label {
                    changes.push(subject(), ChangeKind::LabelChanged, "label");
                }
                if now.editable != state.editable || now.is_final != state.is_final {
                    changes.push(subject(), ChangeKind::BehaviourChanged, "editable fields or finality");
                }
            }
        }
    }
    for state in new.states.iter().filter(|s| old.state(&s.name).is_none()) {
        changes.push(Subject::State { name: state.name.clone() }, ChangeKind::StateAdded, "");
    }
    for transition in &old.transitions {
        let subject = Subject::Transition { name: transition.name.clone() };
        match new.transition(&transition.name) {
            None => changes.push(subject, ChangeKind::BehaviourChanged, "removed"),
            Some(now) if now == transition => {}
            Some(now) if differs_only_in_label(transition, now) => {
                changes.push(subject, ChangeKind::LabelChanged, "label");
            }
            Some(_) => changes.push(subject, ChangeKind::BehaviourChanged, "changed"),
        }
    }
    for transition in new.transitions.iter().filter(|t| old.transition(&t.name).is_none()) {
        changes.push(Subject::Transition { name: transition.name.clone() }, ChangeKind::BehaviourChanged, "added");
    }
}

fn differs_only_in_label(old: &TransitionDecl, new: &TransitionDecl) -> bool {
    TransitionDecl { label: old.label.clone(), ..new.clone() } == *old
}

#[cfg(test)]
mod tests;
