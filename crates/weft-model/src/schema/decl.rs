//! The declaration of an object type: the one JSON format read from app manifests and
//! accepted by the admin API. Deserialising checks only the shape (and refuses unknown
//! keys, so a typo is an error rather than a silently ignored setting); everything that
//! needs the whole declaration, such as a transition naming an unknown state, is
//! `schema::check`'s job, so every problem can be reported at once.

mod field;
mod lifecycle;
mod naming;

pub use field::{FieldDecl, FieldKind, OnDelete, PERCENT_SCALE, ScalarKind, SelectOption};
pub use lifecycle::{LifecycleDecl, StateDecl, TransitionDecl};
pub use naming::{NamingError, NamingPattern, NamingSeries};

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectTypeDecl {
    /// snake_case; names the type's table and its API path. Never changes once declared.
    pub name: String,
    pub label: Label,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plural_label: Option<Label>,
    #[serde(default)]
    pub fields: Vec<FieldDecl>,
    /// Composite unique constraints, each a list of field names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unique: Vec<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<LifecycleDecl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub naming: Option<NamingSeries>,
    /// The field shown as the record's title in lists, links and the timeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_field: Option<String>,
    /// Where a record's party (the system `party`, which decides what a partner's guests
    /// see) comes from: a `party` field or a reference to the `party` type, whose value
    /// becomes the record's party on every create and update (a contact of a party is
    /// seen by that party's guests); or `id` for a type whose records *are* parties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_field: Option<String>,
    /// Who a message on a record's thread is for when its poster does not say: `internal`
    /// (members only; the default, so nothing reaches partners unless chosen) or `shared`
    /// (also the guests of the record's party). Guests always post `shared`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_visibility: Option<MessageVisibility>,
}

/// Who sees a message on a record's thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageVisibility {
    /// Members (employees) only.
    Internal,
    /// Members and the guests of the record's party.
    Shared,
}

impl MessageVisibility {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageVisibility::Internal => "internal",
            MessageVisibility::Shared => "shared",
        }
    }
}

impl ObjectTypeDecl {
    pub fn field(&self, name: &str) -> Option<&FieldDecl> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A text shown to people, in each language the UI speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Label {
    pub en: String,
    pub zh: String,
}

impl Label {
    pub fn is_blank(&self) -> bool {
        self.en.trim().is_empty() && self.zh.trim().is_empty()
    }
}

/// A field's default, or a value set by a transition: a JSON literal of the field's type,
/// or `{"feel": "<expression>"}` evaluated by the caller. (So a `json` field's literal default
/// cannot be an object whose only key is `feel`.)
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum DefaultValue {
    Feel { feel: String },
    Literal(serde_json::Value),
}

impl DefaultValue {
    pub fn feel(&self) -> Option<&str> {
        match self {
            DefaultValue::Feel { feel } => Some(feel),
            DefaultValue::Literal(_) => None,
        }
    }
}

// Hand-written rather than `untagged` so the literal is read straight from the document:
// serde's untagged buffering would turn a decimal literal into a float first.
impl<'de> Deserialize<'de> for DefaultValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let feel = value.as_object().filter(|map| map.len() == 1).and_then(|map| map.get("feel")?.as_str());
        if let Some(feel) = feel {
            return Ok(DefaultValue::Feel { feel: feel.to_owned() });
        }
        Ok(DefaultValue::Literal(value))
    }
}
