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

/// The apps built into this binary. The core and business apps add themselves here as
/// they are declared.
pub fn builtin() -> Vec<Manifest> {
    Vec::new()
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
}
