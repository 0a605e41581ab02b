//! App manifests: a versioned bundle of declarations, installed and upgraded by
//! `weft migrate` through the same declaration path as the admin API. Built-in apps ship
//! in the binary; a workspace can add its own in `<data>/apps/*.json`.

use serde::{Deserialize, Serialize};
use weft_model::Principal;
use weft_model::schema::ObjectTypeDecl;

use crate::{DeclareOptions, DeclarePlan, Result, Workspace};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The app's name (`procurement`); owns the types it declares.
    pub app: String,
    pub version: String,
    #[serde(default)]
    pub types: Vec<ObjectTypeDecl>,
}

/// The core app: parties (organisations and people the company deals with) with their
/// contacts, addresses and relationships. Contacts, addresses and relationships carry
/// their party as the record's party (`party_field`), so a partner's guests see them.
const CORE: &str = include_str!("apps/core.json");

/// The apps built into this binary, in installation order. The business apps add
/// themselves here as they are declared.
pub fn builtin() -> Vec<Manifest> {
    // The manifests are part of the binary and checked by the tests below, so a failure
    // here is a build mistake, not a run-time condition.
    vec![serde_json::from_str(CORE).expect("the built-in core manifest is valid JSON of the manifest shape")]
}

impl Workspace {
    /// Declares every type of `manifest` (as the system), or plans it on a dry run.
    pub async fn install_manifest(
        &self,
        manifest: &Manifest,
        dry_run: bool,
        allow_destructive: bool,
    ) -> Result<Vec<DeclarePlan>> {
        let options = DeclareOptions { app: manifest.app.clone(), dry_run, allow_destructive };
        self.declare_types(&Principal::system(), manifest.types.clone(), &options).await
    }

    /// Installs (or upgrades, never destructively) every built-in app, as `weft migrate`
    /// and `weft serve` do.
    pub async fn install_builtin_apps(&self) -> Result<Vec<DeclarePlan>> {
        let mut plans = Vec::new();
        for manifest in builtin() {
            plans.extend(self.install_manifest(&manifest, false, false).await?);
        }
        Ok(plans)
    }
}

#[cfg(test)]
mod tests {
    use weft_model::schema::check_declaration;

    use super::*;

    #[test]
    fn the_core_manifest_declares_valid_types() {
        let apps = builtin();
        assert_eq!(apps.len(), 1);
        let core = &apps[0];
        assert_eq!(core.app, "core");
        let names: Vec<&str> = core.types.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["party", "party_contact", "party_address", "party_relationship"]);
        for decl in &core.types {
            let known = |name: &str| names.contains(&name);
            assert_eq!(check_declaration(decl, &known), Ok(()), "{}", decl.name);
            assert!(decl.party_field.is_some(), "{}: every core type says where its party comes from", decl.name);
            for field in &decl.fields {
                assert!(!field.label.en.is_empty() && !field.label.zh.is_empty(), "{}.{}", decl.name, field.name);
                for option in field.kind.options().unwrap_or_default() {
                    assert!(!option.label.en.is_empty() && !option.label.zh.is_empty(), "{}", option.value);
                }
            }
        }
        let party = &core.types[0];
        assert_eq!(party.party_field.as_deref(), Some("id"));
        let roles: Vec<&str> =
            party.field("roles").unwrap().kind.options().unwrap().iter().map(|o| o.value.as_str()).collect();
        assert_eq!(roles, ["customer", "supplier", "dealer", "partner", "employee", "investor"]);
    }
}
