//! App manifests: a versioned bundle of declarations, installed and upgraded by
//! `weft migrate` through the same declaration path as the admin API. Built-in apps ship
//! in the binary; a workspace can add its own in `<data>/apps/*.json`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use weft_model::Principal;
use weft_model::access::RoleDef;
use weft_model::schema::ObjectTypeDecl;
use weft_store::kernel::decisions as stored_decisions;

use crate::processes::DeployProcess;
use crate::{DeclareOptions, DeclarePlan, Error, Result, Workspace};

pub mod procurement;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The app's name (`procurement`); owns the types it declares.
    pub app: String,
    pub version: String,
    #[serde(default)]
    pub types: Vec<ObjectTypeDecl>,
    /// Roles the app needs (a portal role for its partners, a group its processes assign
    /// to). Created when missing; an admin's later edits are kept on upgrade.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleDef>,
    /// DMN files beside the manifest, deployed in order (decisions before the processes that
    /// call them). A file whose XML is already the newest version is left alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<String>,
    /// BPMN files beside the manifest and what binds them to records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<ManifestProcess>,
    /// Automation rules the app ships (a failed inspection alerts the buyer). Created
    /// when missing, after the decisions they may call; an administrator's later edits,
    /// disabling included, are kept on upgrade.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<crate::rules::RuleDef>,
    /// The contents of the files named above, by file name: read beside the manifest when
    /// it is loaded, never part of the manifest's JSON.
    #[serde(skip)]
    pub files: BTreeMap<String, String>,
}

/// A process an app ships: a BPMN file and the deployment options of `deploy_process`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestProcess {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_on: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
}

impl Manifest {
    /// Parses a manifest and reads the files it names from `dir`.
    pub fn load(json: &str, dir: &Path) -> std::result::Result<Manifest, String> {
        let mut manifest: Manifest = serde_json::from_str(json).map_err(|e| e.to_string())?;
        for name in manifest.file_names() {
            if name.contains("..") || Path::new(&name).is_absolute() {
                return Err(format!("`{name}`: files must sit beside the manifest"));
            }
            let text = std::fs::read_to_string(dir.join(&name)).map_err(|e| format!("`{name}`: {e}"))?;
            manifest.files.insert(name, text);
        }
        Ok(manifest)
    }

    fn file_names(&self) -> Vec<String> {
        self.decisions.iter().cloned().chain(self.processes.iter().map(|p| p.file.clone())).collect()
    }

    fn file(&self, name: &str) -> Result<&str> {
        self.files
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| Error::BadRequest(format!("app `{}`: file `{name}` was not loaded", self.app)))
    }
}

/// The Rust hooks (DESIGN "App: … plus optional Rust hooks") of the built-in app that
/// declared `entry`'s type: the record commands call them inside their own transaction.
/// Types declared by administrators or other apps have none.
pub(crate) fn hook(entry: &crate::catalog::TypeEntry) -> Option<procurement::Hook> {
    procurement::hook(entry)
}

/// The core app: parties (organisations and people the company deals with) with their
/// contacts, addresses and relationships. Contacts, addresses and relationships carry
/// their party as the record's party (`party_field`), so a partner's guests see them.
const CORE: &str = include_str!("apps/core.json");

/// The apps built into this binary, in installation order.
pub fn builtin() -> Vec<Manifest> {
    // The manifests are part of the binary and checked by the tests below, so a failure
    // here is a build mistake, not a run-time condition.
    let core = serde_json::from_str(CORE).expect("the built-in core manifest is valid JSON of the manifest shape");
    vec![core, procurement::manifest()]
}

impl Workspace {
    /// Declares every type of `manifest` (as the system), or plans it on a dry run; then
    /// (not on a dry run) creates its missing roles and deploys its decisions and processes.
    pub async fn install_manifest(
        &self,
        manifest: &Manifest,
        dry_run: bool,
        allow_destructive: bool,
    ) -> Result<Vec<DeclarePlan>> {
        let options = DeclareOptions { app: manifest.app.clone(), dry_run, allow_destructive };
        let system = Principal::system();
        let plans = self.declare_types(&system, manifest.types.clone(), &options).await?;
        if dry_run {
            return Ok(plans);
        }
        let existing: Vec<String> = self.roles(&system).await?.into_iter().map(|r| r.role.name).collect();
        for role in manifest.roles.iter().filter(|r| !existing.contains(&r.name)) {
            self.put_role(&system, role.clone()).await?;
        }
        for file in &manifest.decisions {
            let xml = manifest.file(file)?;
            let name = weft_decision::DecisionModel::parse(xml)
                .map(|m| m.name().to_owned())
                .map_err(|_| Error::BadRequest(format!("app `{}`: `{file}` is not a valid DMN model", manifest.app)))?;
            let newest = stored_decisions::get(&self.db, &name, None).await?;
            if newest.map(|d| d.xml).as_deref() != Some(xml) {
                self.deploy_decision(&system, xml.to_owned()).await?;
            }
        }
        for process in &manifest.processes {
            let input = DeployProcess {
                xml: manifest.file(&process.file)?.to_owned(),
                record_type: process.record_type.clone(),
                start_on: process.start_on.clone(),
                variables: process.variables.clone(),
            };
            self.deploy_process(&system, input).await?;
        }
        let existing: Vec<String> = self.rules(&system).await?.into_iter().map(|r| r.rule.name).collect();
        for rule in manifest.rules.iter().filter(|r| !existing.contains(&r.name)) {
            self.put_rule(&system, rule.clone()).await?;
        }
        Ok(plans)
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
        assert_eq!(apps.len(), 2);
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
