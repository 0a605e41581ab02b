use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{DefaultValue, FieldDecl, Label};

/// The states a record moves through and the named transitions between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleDecl {
    /// The state a new record starts in.
    pub initial: String,
    pub states: Vec<StateDecl>,
    #[serde(default)]
    pub transitions: Vec<TransitionDecl>,
}

impl LifecycleDecl {
    pub fn state(&self, name: &str) -> Option<&StateDecl> {
        self.states.iter().find(|s| s.name == name)
    }

    pub fn transition(&self, name: &str) -> Option<&TransitionDecl> {
        self.transitions.iter().find(|t| t.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateDecl {
    pub name: String,
    pub label: Label,
    /// Fields an update may change while a record is in this state; absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editable: Option<Vec<String>>,
    /// No transition leaves a final state.
    #[serde(default, rename = "final")]
    pub is_final: bool,
}

impl StateDecl {
    pub fn allows_edit(&self, field: &str) -> bool {
        self.editable.as_ref().is_none_or(|fields| fields.iter().any(|f| f == field))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionDecl {
    pub name: String,
    pub label: Label,
    /// States the transition may start from.
    pub from: Vec<String>,
    pub to: String,
    /// A FEEL condition over the record and the inputs; the transition is refused when false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<String>,
    /// Values the caller must supply with the transition, such as a reason for rejecting.
    /// They are kept with the history entry, not on the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub inputs: Vec<FieldDecl>,
    /// Record fields the transition sets.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, DefaultValue>,
}
