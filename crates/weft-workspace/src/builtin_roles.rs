//! The roles every workspace starts with. They are ordinary role documents (an admin can
//! edit them), created once when missing so an upgrade never overwrites local edits.
//!
//! - `admin`: everything, including administration.
//! - `employee`: the everyday member role of a small company: read, create, update, comment,
//!   export and run transitions on every type; delete only what one owns.
//! - `guest`: a partner's contact: read and comment on what concerns their own party.

use std::collections::BTreeMap;

use weft_model::access::{Grant, GrantScope, RoleDef};
use weft_store::kernel::access;

use crate::{Result, Workspace};

fn labels(zh: &str, en: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("zh-CN".to_owned(), zh.to_owned()), ("en".to_owned(), en.to_owned())])
}

fn grant(actions: &[&str], scope: GrantScope) -> Grant {
    Grant { type_name: "*".into(), actions: actions.iter().map(|a| (*a).to_owned()).collect(), scope, condition: None }
}

pub fn builtin_roles() -> Vec<RoleDef> {
    vec![
        RoleDef {
            name: "admin".into(),
            labels: labels("管理员", "Administrator"),
            description: "Everything, including users, roles, org units and declarations.".into(),
            for_guests: false,
            grants: vec![grant(&["*", "admin"], GrantScope::All)],
            field_rules: vec![],
        },
        RoleDef {
            name: "employee".into(),
            labels: labels("员工", "Employee"),
            description: "Works on every type; deletes only own records.".into(),
            for_guests: false,
            grants: vec![
                grant(&["read", "create", "update", "comment", "export", "transition:*"], GrantScope::All),
                grant(&["delete"], GrantScope::Own),
            ],
            field_rules: vec![],
        },
        RoleDef {
            name: "guest".into(),
            labels: labels("外部联系人", "Partner contact"),
            description: "Reads and comments on what concerns the contact's own party.".into(),
            for_guests: true,
            grants: vec![grant(&["read", "comment"], GrantScope::Party)],
            field_rules: vec![],
        },
    ]
}

impl Workspace {
    /// Creates the built-in roles that do not exist yet.
    pub(crate) async fn ensure_builtin_roles(&self) -> Result<()> {
        let existing: Vec<String> = access::roles(&self.db).await?.into_iter().map(|r| r.name).collect();
        let missing: Vec<RoleDef> = builtin_roles().into_iter().filter(|r| !existing.contains(&r.name)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let at = weft_store::now();
                    for role in &missing {
                        let definition =
                            serde_json::to_string(role).map_err(|e| crate::Error::Internal(e.to_string()))?;
                        access::put_role(tx, &role.name, &definition, true, at).await?;
                    }
                    Ok::<_, crate::Error>(())
                })
            })
            .await
    }
}
