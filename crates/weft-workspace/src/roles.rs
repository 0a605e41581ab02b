//! Roles as administrators edit them: one document per role, validated as a whole against
//! the declared types (types, transitions and fields named must exist; conditions must be
//! strict FEEL in the SQL-lowerable subset) and refused with every problem listed.

use weft_model::Principal;
use weft_model::access::RoleDef;
use weft_model::schema::DeclProblem;
use weft_store::kernel::access;

use crate::{Error, Result, Workspace};

/// A role as the admin API shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RoleView {
    #[serde(flatten)]
    pub role: RoleDef,
    pub builtin: bool,
    pub revision: i64,
}

impl Workspace {
    pub async fn roles(&self, principal: &Principal) -> Result<Vec<RoleView>> {
        self.require_admin(principal)?;
        access::roles(&self.db)
            .await?
            .into_iter()
            .map(|stored| {
                let role: RoleDef = serde_json::from_str(&stored.definition)
                    .map_err(|e| Error::Internal(format!("stored role `{}` is unreadable: {e}", stored.name)))?;
                Ok(RoleView { role, builtin: stored.builtin, revision: stored.revision })
            })
            .collect()
    }

    pub async fn role(&self, principal: &Principal, name: &str) -> Result<RoleView> {
        self.roles(principal)
            .await?
            .into_iter()
            .find(|r| r.role.name == name)
            .ok_or_else(|| Error::NotFound(format!("role `{name}`")))
    }

    /// Every problem with `role` against the current declarations.
    pub fn check_role(&self, role: &RoleDef) -> Vec<DeclProblem> {
        let mut problems: Vec<DeclProblem> =
            role.check_shape().into_iter().map(|p| DeclProblem { pointer: p.pointer, reason: p.reason }).collect();
        let mut problem = |pointer: String, reason: String| problems.push(DeclProblem { pointer, reason });
        for (i, grant) in role.grants.iter().enumerate() {
            if grant.type_name == "*" {
                if grant.condition.is_some() {
                    problem(
                        format!("/grants/{i}/condition"),
                        "a condition needs one object type (the fields it names belong to a type)".into(),
                    );
                }
                continue;
            }
            let Some(entry) = self.catalog.get(&grant.type_name) else {
                problem(format!("/grants/{i}/type"), format!("no object type `{}`", grant.type_name));
                continue;
            };
            for (j, action) in grant.actions.iter().enumerate() {
                if let Some(transition) = action.strip_prefix("transition:").filter(|t| *t != "*") {
                    let known = entry.decl.lifecycle.as_ref().is_some_and(|l| l.transition(transition).is_some());
                    if !known {
                        problem(
                            format!("/grants/{i}/actions/{j}"),
                            format!("`{}` has no transition `{transition}`", grant.type_name),
                        );
                    }
                }
            }
            if let Some(condition) = &grant.condition
                && let Err(reason) = crate::expressions::check_access_condition(&entry.decl, condition)
            {
                problem(format!("/grants/{i}/condition"), reason);
            }
        }
        for (i, rule) in role.field_rules.iter().enumerate() {
            match self.catalog.get(&rule.type_name) {
                None => problem(format!("/field_rules/{i}/type"), format!("no object type `{}`", rule.type_name)),
                Some(entry) if entry.decl.field(&rule.field).is_none() => problem(
                    format!("/field_rules/{i}/field"),
                    format!("`{}` has no field `{}`", rule.type_name, rule.field),
                ),
                Some(_) => {}
            }
        }
        problems
    }

    /// Creates or replaces a role. Holders keep it; their reach changes at once.
    pub async fn put_role(&self, principal: &Principal, role: RoleDef) -> Result<RoleView> {
        self.require_admin(principal)?;
        let problems = self.check_role(&role);
        if !problems.is_empty() {
            return Err(Error::Declaration(problems));
        }
        let definition = serde_json::to_string(&role).map_err(|e| Error::Internal(e.to_string()))?;
        let actor = principal.clone();
        let name = role.name.clone();
        let detail = serde_json::to_value(&role).unwrap_or_default();
        let revision = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let revision = access::put_role(tx, &name, &definition, false, weft_store::now()).await?;
                    crate::admin_audit::record(tx, &actor, "role.put", "role", &name, detail).await?;
                    Ok::<_, Error>(revision)
                })
            })
            .await?;
        self.reload_directory().await?;
        let builtin = crate::builtin_roles().iter().any(|b| b.name == role.name);
        Ok(RoleView { role, builtin, revision })
    }

    /// Deletes a role; its holders lose it. The `admin` role cannot be deleted, so a
    /// workspace always has a way to be administered.
    pub async fn delete_role(&self, principal: &Principal, name: &str) -> Result<()> {
        self.require_admin(principal)?;
        if name == "admin" {
            return Err(Error::Conflict("the `admin` role cannot be deleted".into()));
        }
        let actor = principal.clone();
        let role = name.to_owned();
        let existed = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let existed = access::delete_role(tx, &role).await?;
                    if existed {
                        crate::admin_audit::record(tx, &actor, "role.delete", "role", &role, serde_json::json!({}))
                            .await?;
                    }
                    Ok::<_, Error>(existed)
                })
            })
            .await?;
        if !existed {
            return Err(Error::NotFound(format!("role `{name}`")));
        }
        self.reload_directory().await
    }
}
