//! The declared object types, in memory: declaration, physical table spec and parsed
//! naming pattern per type. Loaded from the registry at start, replaced on each declare.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use weft_expr::Schema;
use weft_model::schema::{NamingPattern, ObjectTypeDecl};
use weft_store::records::TableSpec;

#[derive(Debug)]
pub struct TypeEntry {
    pub decl: ObjectTypeDecl,
    pub spec: TableSpec,
    pub naming: Option<NamingPattern>,
    pub app: String,
    pub revision: i64,
    /// The type's fields as FEEL sees them, built once (defaults are computed over it at
    /// every create).
    pub schema: Schema,
}

impl TypeEntry {
    pub fn new(decl: ObjectTypeDecl, app: String, revision: i64) -> TypeEntry {
        let spec = TableSpec::from_decl(&decl);
        let naming = decl.naming.as_ref().and_then(|n| n.parse().ok());
        let schema = Schema::for_type(&decl);
        TypeEntry { decl, spec, naming, app, revision, schema }
    }
}

#[derive(Debug, Default)]
pub struct Catalog {
    types: RwLock<HashMap<String, Arc<TypeEntry>>>,
}

impl Catalog {
    pub fn get(&self, name: &str) -> Option<Arc<TypeEntry>> {
        self.types.read().ok()?.get(name).cloned()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.types.read().is_ok_and(|t| t.contains_key(name))
    }

    pub fn all(&self) -> Vec<Arc<TypeEntry>> {
        let mut all: Vec<_> = self.types.read().map(|t| t.values().cloned().collect()).unwrap_or_default();
        all.sort_by(|a, b| a.decl.name.cmp(&b.decl.name));
        all
    }

    pub fn put(&self, entry: TypeEntry) {
        if let Ok(mut types) = self.types.write() {
            types.insert(entry.decl.name.clone(), Arc::new(entry));
        }
    }
}
