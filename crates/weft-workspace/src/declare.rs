//! Declaring object types: the same path for app manifests (at `weft migrate`) and for
//! the admin API. A declaration is checked as a whole (every problem listed), compared
//! with the current one, and applied as DDL plus a registry row, audit entry and
//! `type.declared` event, all in one transaction.

use serde::Serialize;
use weft_model::Principal;
use weft_model::schema::{DeclProblem, FieldKind, ObjectTypeDecl, check_declaration, diff};
use weft_store::kernel::{audit, outbox, registry};
use weft_store::records::{DdlStep, TableSpec, alter_plan, create_plan};

use crate::catalog::TypeEntry;
use crate::{Error, Result, Workspace};

#[derive(Debug, Clone, Default)]
pub struct DeclareOptions {
    /// Who owns the declaration: an app name, or `admin` for run-time declarations.
    pub app: String,
    /// Compute and return the plan, change nothing.
    pub dry_run: bool,
    /// Apply changes that remove or narrow fields (old data is kept in backup columns).
    pub allow_destructive: bool,
}

/// The owner of types an administrator declares at run time.
pub const ADMIN_APP: &str = "admin";

/// What declaring a type does (or would do).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeclarePlan {
    pub type_name: String,
    /// `create`, `alter` or `unchanged`.
    pub action: &'static str,
    /// Declaration-level changes, e.g. `field qty: narrowed (scale 3 → 2) [destructive]`.
    pub changes: Vec<String>,
    /// The schema statements, in order.
    pub steps: Vec<PlannedStep>,
    pub destructive: bool,
    /// Whether it was applied (false for a dry run).
    pub applied: bool,
    pub revision: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlannedStep {
    pub description: String,
    pub sql: String,
    pub destructive: bool,
}

impl From<DdlStep> for PlannedStep {
    fn from(s: DdlStep) -> Self {
        PlannedStep { description: s.description, sql: s.sql, destructive: s.destructive }
    }
}

impl Workspace {
    /// Declares (creates or alters) several types together: they may reference each
    /// other, and referenced types are created first.
    pub async fn declare_types(
        &self,
        principal: &Principal,
        decls: Vec<ObjectTypeDecl>,
        options: &DeclareOptions,
    ) -> Result<Vec<DeclarePlan>> {
        self.require_admin(principal)?;
        // A type an app declared changes with that app (its manifest, at `weft migrate`):
        // an administrator's change would be lost, or refused, at the app's next upgrade.
        if options.app.is_empty() || options.app == ADMIN_APP {
            for decl in &decls {
                if let Some(entry) = self.catalog.get(&decl.name).filter(|e| e.app != ADMIN_APP) {
                    return Err(Error::Conflict(format!(
                        "type `{}` belongs to the app `{}` and changes only with that app (at `weft migrate`)",
                        decl.name, entry.app
                    )));
                }
            }
        }
        let batch: Vec<String> = decls.iter().map(|d| d.name.clone()).collect();
        let mut problems = Vec::new();
        for (i, decl) in decls.iter().enumerate() {
            let known =
                |name: &str| name == decl.name || batch.iter().any(|b| b == name) || self.catalog.contains(name);
            if let Err(found) = self.check(decl, &decls, &known) {
                let prefix = if decls.len() > 1 { format!("/{i}") } else { String::new() };
                problems
                    .extend(found.into_iter().map(|p| DeclProblem { pointer: format!("{prefix}{}", p.pointer), ..p }));
            }
        }
        if !problems.is_empty() {
            return Err(Error::Declaration(problems));
        }
        let mut plans = Vec::new();
        for decl in order_by_references(decls) {
            plans.push(self.declare_one(principal, decl, options).await?);
        }
        Ok(plans)
    }

    /// `declare_type` from JSON as received: a field that cannot even be read is reported
    /// together with every other problem of the declaration.
    pub async fn declare_type_json(
        &self,
        principal: &Principal,
        value: &serde_json::Value,
        options: &DeclareOptions,
    ) -> Result<DeclarePlan> {
        use weft_model::schema::check::{merge_problems, read_declaration};
        let (decl, mut problems) = read_declaration(value);
        let Some(decl) = decl else { return Err(Error::Declaration(problems)) };
        if problems.is_empty() {
            return self.declare_type(principal, decl, options).await;
        }
        let known = |name: &str| name == decl.name || self.catalog.contains(name);
        if let Err(found) = self.check(&decl, &[], &known) {
            merge_problems(&mut problems, found);
        }
        Err(Error::Declaration(problems))
    }

    pub async fn declare_type(
        &self,
        principal: &Principal,
        decl: ObjectTypeDecl,
        options: &DeclareOptions,
    ) -> Result<DeclarePlan> {
        let mut plans = self.declare_types(principal, vec![decl], options).await?;
        plans.pop().ok_or_else(|| Error::BadRequest("nothing to declare".into()))
    }

    /// Every problem of `decl`; `batch` holds the types declared with it, which its
    /// references and expressions may name.
    fn check(
        &self,
        decl: &ObjectTypeDecl,
        batch: &[ObjectTypeDecl],
        known: &dyn Fn(&str) -> bool,
    ) -> Result<(), Vec<DeclProblem>> {
        let mut problems = match check_declaration(decl, known) {
            Ok(()) => Vec::new(),
            Err(found) => found,
        };
        for column in TableSpec::from_decl(decl).column_collisions() {
            problems.push(DeclProblem {
                pointer: "/fields".into(),
                reason: format!("two fields would both be stored in column `{column}`; rename one"),
            });
        }
        let lookup = |name: &str| {
            if name == decl.name {
                return Some(decl.clone());
            }
            batch.iter().find(|d| d.name == name).cloned().or_else(|| self.catalog.get(name).map(|e| e.decl.clone()))
        };
        problems.extend(crate::expressions::check_declaration_expressions(decl, &lookup));
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }

    async fn declare_one(
        &self,
        principal: &Principal,
        decl: ObjectTypeDecl,
        options: &DeclareOptions,
    ) -> Result<DeclarePlan> {
        let backend = self.db.backend();
        let new_spec = TableSpec::from_decl(&decl);
        let current = self.catalog.get(&decl.name);
        let (action, changes, steps, destructive) = match &current {
            None => ("create", vec![format!("new type `{}`", decl.name)], create_plan(&new_spec, backend), false),
            Some(entry) => {
                let change = diff(&entry.decl, &decl);
                let steps = alter_plan(&entry.spec, &new_spec, backend, entry.revision);
                let destructive = change.is_destructive() || steps.iter().any(|s| s.destructive);
                let action = if change.is_empty() && steps.is_empty() { "unchanged" } else { "alter" };
                (action, change.changes.iter().map(ToString::to_string).collect(), steps, destructive)
            }
        };
        let mut plan = DeclarePlan {
            type_name: decl.name.clone(),
            action,
            changes,
            steps: steps.iter().cloned().map(PlannedStep::from).collect(),
            destructive,
            applied: false,
            revision: current.as_ref().map(|c| c.revision),
        };
        if options.dry_run || action == "unchanged" {
            return Ok(plan);
        }
        if destructive && !options.allow_destructive {
            let mut reasons: Vec<String> =
                plan.changes.iter().filter(|c| c.contains("[destructive]")).cloned().collect();
            reasons.extend(steps.iter().filter(|s| s.destructive).map(|s| s.description.clone()));
            return Err(Error::Destructive(reasons));
        }
        let json = serde_json::to_string(&decl).map_err(|e| Error::BadRequest(e.to_string()))?;
        let app = if options.app.is_empty() { ADMIN_APP.to_owned() } else { options.app.clone() };
        let actor = principal.actor();
        let name = decl.name.clone();
        let event_payload = serde_json::json!({ "type": name, "action": action, "changes": plan.changes });
        let app_for_tx = app.clone();
        let revision = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    for step in &steps {
                        tx.execute_ddl(&step.sql).await?;
                    }
                    let at = weft_store::now();
                    let revision = registry::save(tx, &name, &app_for_tx, &json, at).await?;
                    audit::append(
                        tx,
                        &audit::AuditEntry {
                            actor: actor.clone(),
                            action: "type.declare".into(),
                            target_type: "object_type".into(),
                            target_id: name.clone(),
                            detail: serde_json::json!({ "revision": revision, "steps": steps.len() }),
                        },
                        at,
                    )
                    .await?;
                    outbox::append(
                        tx,
                        &outbox::NewEvent {
                            kind: "type.declared".into(),
                            type_name: name.clone(),
                            record_id: None,
                            actor,
                            payload: event_payload,
                        },
                        at,
                    )
                    .await?;
                    Ok::<i64, Error>(revision)
                })
            })
            .await?;
        self.catalog.put(TypeEntry::new(decl, app, revision));
        plan.applied = true;
        plan.revision = Some(revision);
        Ok(plan)
    }
}

/// Referenced types before the types that reference them (cycles keep input order; the
/// self-reference of a type is fine since its table exists when its FK is created).
fn order_by_references(mut decls: Vec<ObjectTypeDecl>) -> Vec<ObjectTypeDecl> {
    let mut ordered = Vec::with_capacity(decls.len());
    while !decls.is_empty() {
        let pending: Vec<String> = decls.iter().map(|d| d.name.clone()).collect();
        let ready = decls
            .iter()
            .position(|d| references(d).iter().all(|target| target == &d.name || !pending.contains(target)));
        ordered.push(decls.remove(ready.unwrap_or(0)));
    }
    ordered
}

fn references(decl: &ObjectTypeDecl) -> Vec<String> {
    let mut out = Vec::new();
    for field in &decl.fields {
        match &field.kind {
            FieldKind::Reference { target, .. } => out.push(target.clone()),
            FieldKind::Lines { fields } => {
                for lf in fields {
                    if let FieldKind::Reference { target, .. } = &lf.kind {
                        out.push(target.clone());
                    }
                }
            }
            _ => {}
        }
    }
    out
}
