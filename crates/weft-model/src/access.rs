//! Roles as data: what a role grants (actions on object types, in a scope, under an optional
//! FEEL condition) and which fields it hides or freezes. A role is one JSON document, edited
//! and validated as a whole; the policy in `weft-workspace` compiles the roles a principal
//! holds into a SQL predicate and a per-record decision.
//!
//! Grants are additive: holding one more role can only widen what a principal may do. The
//! one cap no grant lifts: a guest never reaches beyond its own party.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The actions a grant can name. `transition:<name>` names one lifecycle transition and
/// `transition:*` all of them; `*` is every action except `admin`.
pub const ACTIONS: [&str; 8] = ["read", "create", "update", "delete", "export", "comment", "transition:*", "admin"];

/// Which records of a type a grant reaches, relative to the acting principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantScope {
    /// Records the principal owns.
    Own,
    /// Records of the units the principal is a member of.
    Unit,
    /// Records of the principal's units and every unit below them.
    UnitTree,
    /// Records whose party is the principal's party (the only scope a guest can have).
    Party,
    /// Every record of the type.
    All,
}

impl GrantScope {
    pub fn name(self) -> &'static str {
        match self {
            GrantScope::Own => "own",
            GrantScope::Unit => "unit",
            GrantScope::UnitTree => "unit_tree",
            GrantScope::Party => "party",
            GrantScope::All => "all",
        }
    }
}

/// `actions` on `type` (or `*`, every type) within `scope`, when `condition` (FEEL over the
/// record, filterable subset) holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    #[serde(rename = "type")]
    pub type_name: String,
    pub actions: Vec<String>,
    pub scope: GrantScope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

impl Grant {
    pub fn covers_type(&self, type_name: &str) -> bool {
        self.type_name == "*" || self.type_name == type_name
    }

    /// Does this grant name `action` (`read`, `transition:approve`, …)?
    pub fn covers_action(&self, action: &str) -> bool {
        self.actions.iter().any(|a| {
            a == action || (a == "*" && action != "admin") || (a == "transition:*" && action.starts_with("transition:"))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldRuleKind {
    /// Never shown, filtered, sorted or aggregated on; writes to it are refused.
    Hidden,
    /// Shown but not writable.
    ReadOnly,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    #[serde(rename = "type")]
    pub type_name: String,
    pub field: String,
    pub rule: FieldRuleKind,
}

/// A role as stored and as the admin API accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleDef {
    pub name: String,
    /// Labels by locale (`zh-CN`, `en`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Guest roles may only hold `party` grants and are the only roles a guest can hold.
    #[serde(default)]
    pub for_guests: bool,
    #[serde(default)]
    pub grants: Vec<Grant>,
    #[serde(default)]
    pub field_rules: Vec<FieldRule>,
}

/// A problem with a role, with a JSON pointer into the role document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoleProblem {
    pub pointer: String,
    pub reason: String,
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 63
}

/// Is `action` a name a grant may hold?
pub fn valid_action(action: &str) -> bool {
    action == "*"
        || ACTIONS.contains(&action)
        || action.strip_prefix("transition:").is_some_and(|t| t == "*" || is_identifier(t))
}

impl RoleDef {
    /// Structural checks that need no catalog: names, actions, scopes, guest limits. The
    /// workspace adds the checks against declared types, fields and transitions.
    pub fn check_shape(&self) -> Vec<RoleProblem> {
        let mut problems = Vec::new();
        let mut problem = |pointer: String, reason: String| problems.push(RoleProblem { pointer, reason });
        if !is_identifier(&self.name) {
            problem("/name".into(), "a role name is lower-case letters, digits and `_`, starting with a letter".into());
        }
        for (i, grant) in self.grants.iter().enumerate() {
            if grant.type_name != "*" && !is_identifier(&grant.type_name) {
                problem(format!("/grants/{i}/type"), format!("`{}` is not an object type name", grant.type_name));
            }
            if grant.actions.is_empty() {
                problem(format!("/grants/{i}/actions"), "a grant names at least one action".into());
            }
            for (j, action) in grant.actions.iter().enumerate() {
                if !valid_action(action) {
                    problem(
                        format!("/grants/{i}/actions/{j}"),
                        format!("unknown action `{action}` (one of {}, or transition:<name>)", ACTIONS.join(", ")),
                    );
                }
                if self.for_guests && action == "admin" {
                    problem(format!("/grants/{i}/actions/{j}"), "a guest role cannot grant `admin`".into());
                }
            }
            if self.for_guests && grant.scope != GrantScope::Party {
                problem(
                    format!("/grants/{i}/scope"),
                    format!("a guest role can only grant the `party` scope, not `{}`", grant.scope.name()),
                );
            }
            if grant.condition.as_deref().is_some_and(|c| c.trim().is_empty()) {
                problem(format!("/grants/{i}/condition"), "an empty condition; leave it out instead".into());
            }
        }
        for (i, rule) in self.field_rules.iter().enumerate() {
            if !is_identifier(&rule.type_name) {
                problem(format!("/field_rules/{i}/type"), format!("`{}` is not an object type name", rule.type_name));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(actions: &[&str], scope: GrantScope) -> Grant {
        Grant {
            type_name: "purchase_order".into(),
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            scope,
            condition: None,
        }
    }

    #[test]
    fn wildcards_cover_what_they_say() {
        let g = grant(&["*"], GrantScope::All);
        assert!(g.covers_action("read") && g.covers_action("transition:approve"));
        assert!(!g.covers_action("admin"), "`*` never includes admin");
        let t = grant(&["transition:*"], GrantScope::All);
        assert!(t.covers_action("transition:submit") && !t.covers_action("update"));
        let one = grant(&["transition:submit"], GrantScope::All);
        assert!(one.covers_action("transition:submit") && !one.covers_action("transition:approve"));
    }

    #[test]
    fn guest_roles_are_party_scoped_and_never_admin() {
        let role = RoleDef {
            name: "supplier_contact".into(),
            labels: BTreeMap::new(),
            description: String::new(),
            for_guests: true,
            grants: vec![grant(&["read", "admin"], GrantScope::All), grant(&["bogus"], GrantScope::Party)],
            field_rules: vec![],
        };
        let problems = role.check_shape();
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(pointers, ["/grants/0/actions/1", "/grants/0/scope", "/grants/1/actions/0"], "{problems:?}");
    }

    #[test]
    fn role_names_are_identifiers() {
        let role = RoleDef {
            name: "Bad Name".into(),
            labels: BTreeMap::new(),
            description: String::new(),
            for_guests: false,
            grants: vec![],
            field_rules: vec![],
        };
        assert_eq!(role.check_shape()[0].pointer, "/name");
    }
}
