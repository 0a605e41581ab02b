//! Everything access decisions read, in memory: roles, who holds which, and the org tree.
//! Loaded at start and reloaded after every change to them (single node: each change is
//! made through this process). Readers take a snapshot (`Arc`) and never wait on a writer.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use uuid::Uuid;
use weft_model::access::RoleDef;
use weft_store::Database;
use weft_store::kernel::{access, org};

use crate::org::OrgTree;
use crate::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub roles: BTreeMap<String, RoleDef>,
    pub holdings: HashMap<Uuid, Vec<String>>,
    pub org: OrgTree,
}

impl Directory {
    pub async fn load(db: &Database) -> Result<Directory> {
        let mut roles = BTreeMap::new();
        for stored in access::roles(db).await? {
            let def: RoleDef = serde_json::from_str(&stored.definition)
                .map_err(|e| Error::BadRequest(format!("stored role `{}` is unreadable: {e}", stored.name)))?;
            roles.insert(stored.name, def);
        }
        let mut holdings: HashMap<Uuid, Vec<String>> = HashMap::new();
        for (principal, role) in access::holdings(db).await? {
            holdings.entry(principal).or_default().push(role);
        }
        let org = OrgTree::new(org::units(db).await?, org::memberships(db).await?);
        Ok(Directory { roles, holdings, org })
    }

    /// The roles `principal` holds (all of them; tokens narrow this in the policy).
    pub fn roles_of(&self, principal: Uuid) -> &[String] {
        self.holdings.get(&principal).map(Vec::as_slice).unwrap_or_default()
    }
}

/// The shared, swappable snapshot.
#[derive(Debug, Default)]
pub struct DirectoryCell(RwLock<Arc<Directory>>);

impl DirectoryCell {
    pub fn get(&self) -> Arc<Directory> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set(&self, directory: Directory) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(directory);
    }
}
