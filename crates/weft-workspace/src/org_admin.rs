//! Administering the org tree: units (create, rename and recode, move, manager, archive,
//! restore) and who belongs to them (add, remove, transfer, primary unit).
//!
//! Every command needs an administrator, is checked against the tree as stored (read in
//! its own transaction, after the org lock), writes an audit entry and an `org.changed`
//! event in that transaction, and reloads the in-memory directory once committed.
//!
//! The rules an administrator can count on:
//! - codes are unique without regard to case; active sibling units have distinct names;
//! - a move never makes a unit its own ancestor;
//! - a manager is an active member (not a guest or a service account); they need not
//!   belong to the unit they manage (a director may sit in the unit above);
//! - an archived unit is read-only until restored: it takes no members, no children, no
//!   new manager or name. A unit is archived only once it is empty: no active child units
//!   and no members (move them first: archiving must never leave people without a
//!   manager chain, nor hide a live sub-tree). Restoring needs an active parent;
//! - only members (active or invited, not disabled) belong to units, and everyone who
//!   belongs to a unit has exactly one primary unit: the first unit they join, until
//!   another is made primary; removing the primary membership promotes the remaining
//!   unit first by name.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::{FieldError, FieldErrorCode};
use weft_store::kernel::org::{self, Membership, StoredUnit};
use weft_store::kernel::outbox;
use weft_store::{Tx, format_utc};

use crate::org::OrgTree;
use crate::{Error, Result, Workspace, admin_audit};

/// Longest unit name, in characters.
pub const MAX_UNIT_NAME: usize = 120;
/// Longest unit code, in characters.
pub const MAX_UNIT_CODE: usize = 32;

/// A new unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewUnit {
    pub name: String,
    pub code: Option<String>,
    pub parent: Option<Uuid>,
    pub manager: Option<Uuid>,
}

/// A unit as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnitView {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub parent: Option<Uuid>,
    /// The unit's own manager.
    pub manager: Option<Uuid>,
    /// Who manages it in effect: its own manager or, without one, the nearest above.
    pub effective_manager: Option<Uuid>,
    pub archived: bool,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Members of this unit (not of the units below it).
    pub member_count: usize,
}

/// A unit with the units below it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnitNode {
    #[serde(flatten)]
    pub unit: UnitView,
    #[schema(no_recursion)]
    pub children: Vec<UnitNode>,
}

/// A unit in a path: `Company / Sales / Sales East`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnitRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnitMember {
    pub principal: Uuid,
    /// The principal's name (absent if the principal is gone).
    pub display_name: Option<String>,
    /// `active`, `invited` or `disabled`.
    pub status: Option<String>,
    /// Is this the member's primary unit?
    pub primary: bool,
}

/// One unit with its place in the tree and its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnitDetail {
    #[serde(flatten)]
    pub unit: UnitView,
    /// From the root down to this unit's parent.
    pub path: Vec<UnitRef>,
    pub children: Vec<UnitView>,
    pub members: Vec<UnitMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PrincipalUnit {
    #[serde(flatten)]
    pub unit: UnitView,
    pub primary: bool,
}

/// The units one principal belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PrincipalUnits {
    pub principal: Uuid,
    pub primary_unit: Option<Uuid>,
    /// The primary unit first, then by name.
    pub units: Vec<PrincipalUnit>,
}

fn invalid(pointer: &str, code: FieldErrorCode, reason: impl Into<String>) -> Error {
    Error::Validation(vec![FieldError { pointer: pointer.to_owned(), code, reason: reason.into() }])
}

/// A trimmed, non-empty name of at most `MAX_UNIT_NAME` characters.
fn clean_name(name: &str, errors: &mut Vec<FieldError>) -> String {
    let name = name.trim().to_owned();
    if name.is_empty() {
        errors.push(FieldError {
            pointer: "/name".into(),
            code: FieldErrorCode::Required,
            reason: "a unit needs a name".into(),
        });
    } else if name.chars().count() > MAX_UNIT_NAME {
        errors.push(FieldError {
            pointer: "/name".into(),
            code: FieldErrorCode::TooLong,
            reason: format!("at most {MAX_UNIT_NAME} characters"),
        });
    } else if name.chars().any(char::is_control) {
        errors.push(FieldError {
            pointer: "/name".into(),
            code: FieldErrorCode::InvalidFormat,
            reason: "control characters are not allowed".into(),
        });
    }
    name
}

/// A code is optional (blank means none): letters, digits, `-`, `_` and `.`.
fn clean_code(code: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let code = code.map(str::trim).filter(|c| !c.is_empty())?;
    if code.chars().count() > MAX_UNIT_CODE {
        errors.push(FieldError {
            pointer: "/code".into(),
            code: FieldErrorCode::TooLong,
            reason: format!("at most {MAX_UNIT_CODE} characters"),
        });
    } else if !code.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        errors.push(FieldError {
            pointer: "/code".into(),
            code: FieldErrorCode::InvalidFormat,
            reason: "letters, digits, `-`, `_` and `.` only".into(),
        });
    }
    Some(code.to_owned())
}

fn validated<T>(value: T, mut errors: Vec<FieldError>) -> Result<T> {
    if errors.is_empty() {
        Ok(value)
    } else {
        errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        Err(Error::Validation(errors))
    }
}

/// The unit `id` as stored, or `NotFound`.
async fn stored_unit(tx: &mut Tx, id: Uuid) -> Result<StoredUnit> {
    org::unit(tx, id).await?.ok_or_else(|| Error::NotFound(format!("org unit {id}")))
}

fn refuse_archived(unit: &StoredUnit) -> Result<()> {
    if unit.archived_at.is_some() {
        return Err(Error::Conflict(format!("org unit `{}` is archived; restore it first", unit.name)));
    }
    Ok(())
}

/// A unit that may become a parent (or receive members): it exists and is active.
async fn active_target(tx: &mut Tx, pointer: &str, id: Uuid) -> Result<StoredUnit> {
    match org::unit(tx, id).await? {
        None => Err(invalid(pointer, FieldErrorCode::UnknownReference, format!("no org unit {id}"))),
        Some(unit) if unit.archived_at.is_some() => {
            Err(invalid(pointer, FieldErrorCode::UnknownReference, format!("org unit `{}` is archived", unit.name)))
        }
        Some(unit) => Ok(unit),
    }
}

/// A principal who may manage a unit: an active member.
async fn check_manager(tx: &mut Tx, pointer: &str, id: Uuid) -> Result<()> {
    match org::principal_info(tx, id).await? {
        None => Err(invalid(pointer, FieldErrorCode::UnknownReference, format!("no principal {id}"))),
        Some(p) if !p.is_member() => Err(invalid(
            pointer,
            FieldErrorCode::UnknownReference,
            format!("`{}` is a {} account; only members manage units", p.display_name, p.kind),
        )),
        Some(p) if !p.is_active() => Err(invalid(
            pointer,
            FieldErrorCode::UnknownReference,
            format!("`{}` is {}; only an active member manages a unit", p.display_name, p.status),
        )),
        Some(_) => Ok(()),
    }
}

/// A principal who may belong to a unit: a member who is not disabled (an invited member
/// can be placed before they first sign in).
async fn check_member(tx: &mut Tx, pointer: &str, id: Uuid) -> Result<()> {
    match org::principal_info(tx, id).await? {
        None => Err(invalid(pointer, FieldErrorCode::UnknownReference, format!("no principal {id}"))),
        Some(p) if !p.is_member() => Err(invalid(
            pointer,
            FieldErrorCode::UnknownReference,
            format!("`{}` is a {} account; only members belong to org units", p.display_name, p.kind),
        )),
        Some(p) if p.status == "disabled" => {
            Err(invalid(pointer, FieldErrorCode::UnknownReference, format!("`{}` is disabled", p.display_name)))
        }
        Some(_) => Ok(()),
    }
}

async fn check_code_free(tx: &mut Tx, code: Option<&str>, except: Option<Uuid>) -> Result<()> {
    if let Some(code) = code
        && org::unit_with_code(tx, code, except).await?.is_some()
    {
        return Err(Error::Unique { fields: vec!["code".into()] });
    }
    Ok(())
}

/// Active siblings (the units under `parent`, or the roots) have distinct names.
fn check_name_free(units: &[StoredUnit], parent: Option<Uuid>, name: &str, except: Option<Uuid>) -> Result<()> {
    let taken = units.iter().any(|u| {
        u.parent == parent
            && u.archived_at.is_none()
            && Some(u.id) != except
            && u.name.to_lowercase() == name.to_lowercase()
    });
    if taken { Err(Error::Unique { fields: vec!["name".into()] }) } else { Ok(()) }
}

/// The audit entry and the `org.changed` event of one org command.
async fn record_change(
    tx: &mut Tx,
    principal: &Principal,
    action: &str,
    target_type: &str,
    target: Uuid,
    detail: serde_json::Value,
) -> Result<()> {
    admin_audit::record(tx, principal, action, target_type, &target.to_string(), detail.clone()).await?;
    outbox::append(
        tx,
        &outbox::NewEvent {
            kind: "org.changed".into(),
            type_name: target_type.into(),
            record_id: Some(target),
            actor: principal.actor(),
            payload: json!({ "action": action, "detail": detail }),
        },
        weft_store::now(),
    )
    .await?;
    Ok(())
}

impl Workspace {
    /// Runs one org command: admin check, the work under the org lock in one transaction,
    /// then the directory reload.
    async fn org_command<R, F>(&self, principal: &Principal, work: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'a> FnOnce(&'a mut Tx, Principal) -> weft_store::BoxFuture<'a, Result<R>> + Send + 'static,
    {
        self.require_admin(principal)?;
        let principal = principal.clone();
        let out = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    org::lock(tx).await?;
                    work(tx, principal).await
                })
            })
            .await?;
        self.reload_directory().await?;
        Ok(out)
    }

    /// Creates a unit (under `parent`, or as a root).
    pub async fn create_unit(&self, principal: &Principal, input: NewUnit) -> Result<UnitView> {
        self.require_admin(principal)?;
        let mut errors = Vec::new();
        let name = clean_name(&input.name, &mut errors);
        let code = clean_code(input.code.as_deref(), &mut errors);
        validated((), errors)?;
        let id = Uuid::now_v7();
        let NewUnit { parent, manager, .. } = input;
        self.org_command(principal, move |tx, principal| {
            Box::pin(async move {
                let mut errors = Vec::new();
                for result in [
                    match parent {
                        Some(p) => active_target(tx, "/parent", p).await.map(|_| ()),
                        None => Ok(()),
                    },
                    match manager {
                        Some(m) => check_manager(tx, "/manager", m).await,
                        None => Ok(()),
                    },
                ] {
                    match result {
                        Err(Error::Validation(found)) => errors.extend(found),
                        other => other?,
                    }
                }
                validated((), errors)?;
                check_code_free(tx, code.as_deref(), None).await?;
                check_name_free(&org::units_in(tx).await?, parent, &name, None)?;
                let at = weft_store::now();
                let unit =
                    StoredUnit { id, name, code, parent, manager, created_at: at, updated_at: at, archived_at: None };
                org::insert_unit(tx, &unit).await?;
                record_change(
                    tx,
                    &principal,
                    "org_unit.create",
                    "org_unit",
                    id,
                    json!({ "name": unit.name, "code": unit.code, "parent": unit.parent, "manager": unit.manager }),
                )
                .await
            })
        })
        .await?;
        self.unit_view(id)
    }

    /// Renames a unit and/or changes its code: `code` absent keeps it, `Some(None)` clears it.
    pub async fn rename_unit(
        &self,
        principal: &Principal,
        unit: Uuid,
        name: Option<String>,
        code: Option<Option<String>>,
    ) -> Result<UnitView> {
        self.require_admin(principal)?;
        let mut errors = Vec::new();
        let name = name.map(|n| clean_name(&n, &mut errors));
        let code = code.map(|c| clean_code(c.as_deref(), &mut errors));
        validated((), errors)?;
        self.org_command(principal, move |tx, principal| {
            Box::pin(async move {
                let mut stored = stored_unit(tx, unit).await?;
                refuse_archived(&stored)?;
                let before = (stored.name.clone(), stored.code.clone());
                if let Some(code) = code {
                    check_code_free(tx, code.as_deref(), Some(unit)).await?;
                    stored.code = code;
                }
                if let Some(name) = name {
                    check_name_free(&org::units_in(tx).await?, stored.parent, &name, Some(unit))?;
                    stored.name = name;
                }
                if (stored.name.clone(), stored.code.clone()) == before {
                    return Ok(());
                }
                stored.updated_at = weft_store::now();
                org::update_unit(tx, &stored).await?;
                record_change(
                    tx,
                    &principal,
                    "org_unit.rename",
                    "org_unit",
                    unit,
                    json!({ "from": { "name": before.0, "code": before.1 }, "to": { "name": stored.name, "code": stored.code } }),
                )
                .await
            })
        })
        .await?;
        self.unit_view(unit)
    }

    /// Moves a unit (with everything below it) under `parent`, or to the top.
    pub async fn move_unit(&self, principal: &Principal, unit: Uuid, parent: Option<Uuid>) -> Result<UnitView> {
        self.org_command(principal, move |tx, principal| {
            Box::pin(async move {
                let mut stored = stored_unit(tx, unit).await?;
                refuse_archived(&stored)?;
                if stored.parent == parent {
                    return Ok(());
                }
                let units = org::units_in(tx).await?;
                if let Some(parent) = parent {
                    let target = active_target(tx, "/parent", parent).await?;
                    let tree = OrgTree::new(units.clone(), Vec::new());
                    if tree.would_cycle(unit, parent) {
                        return Err(Error::Conflict(if parent == unit {
                            format!("org unit `{}` cannot be its own parent", stored.name)
                        } else {
                            format!(
                                "moving `{}` under `{}` would put it inside its own sub-tree",
                                stored.name, target.name
                            )
                        }));
                    }
                }
                check_name_free(&units, parent, &stored.name, Some(unit))?;
                let from = stored.parent;
                stored.parent = parent;
                stored.updated_at = weft_store::now();
                org::update_unit(tx, &stored).await?;
                record_change(tx, &principal, "org_unit.move", "org_unit", unit, json!({ "from": from, "to": parent }))
                    .await
            })
        })
        .await?;
        self.unit_view(unit)
    }

    /// Sets (or with `None` clears) a unit's manager.
    pub async fn set_unit_manager(&self, principal: &Principal, unit: Uuid, manager: Option<Uuid>) -> Result<UnitView> {
        self.org_command(principal, move |tx, principal| {
            Box::pin(async move {
                let mut stored = stored_unit(tx, unit).await?;
                refuse_archived(&stored)?;
                if let Some(manager) = manager {
                    check_manager(tx, "/manager", manager).await?;
                }
                if stored.manager == manager {
                    return Ok(());
                }
                let from = stored.manager;
                stored.manager = manager;
                stored.updated_at = weft_store::now();
                org::update_unit(tx, &stored).await?;
                record_change(
                    tx,
                    &principal,
                    "org_unit.set_manager",
                    "org_unit",
                    unit,
                    json!({ "from": from, "to": manager }),
                )
                .await
            })
        })
        .await?;
        self.unit_view(unit)
    }

    /// Archives an empty unit (no active child units, no members).
    pub async fn archive_unit(&self, principal: &Principal, unit: Uuid) -> Result<UnitView> {
        self.org_command(principal, move |tx, principal| {
            Box::pin(async move {
                let mut stored = stored_unit(tx, unit).await?;
                if stored.archived_at.is_some() {
                    return Err(Error::Conflict(format!("org unit `{}` is archived already", stored.name)));
                }
                let children: Vec<String> = org::units_in(tx)
                    .await?
                    .into_iter()
                    .filter(|u| u.parent == Some(unit) && u.archived_at.is_none())
                    .map(|u| u.name)
                    .collect();
                if !children.is_empty() {
                    return Err(Error::Conflict(format!(
                        "org unit `{}` still has {} active unit(s) below it ({}); move or archive them first",
                        stored.name,
                        children.len(),
                        children.join(", ")
                    )));
                }
                let members = org::members_of(tx, unit).await?;
                if !members.is_empty() {
                    return Err(Error::Conflict(format!(
                        "org unit `{}` still has {} member(s); move them to another unit first",
                        stored.name,
                        members.len()
                    )));
                }
                let at = weft_store::now();
                stored.archived_at = Some(at);
                stored.updated_at = at;
                org::update_unit(tx, &stored).await?;
                record_change(tx, &principal, "org_unit.archive", "org_unit", unit, json!({ "name": stored.name }))
                    .await
            })
        })
        .await?;
        self.unit_view(unit)
    }

    /// Makes an archived unit active again; its parent must be active.
    pub async fn restore_unit(&self, principal: &Principal, unit: Uuid) -> Result<UnitView> {
        self.org_command(principal, move |tx, principal| {
            Box::pin(async move {
                let mut stored = stored_unit(tx, unit).await?;
                if stored.archived_at.is_none() {
                    return Err(Error::Conflict(format!("org unit `{}` is not archived", stored.name)));
                }
                if let Some(parent) = stored.parent {
                    let parent = stored_unit(tx, parent).await?;
                    if parent.archived_at.is_some() {
                        return Err(Error::Conflict(format!(
                            "the unit above, `{}`, is archived; restore it first or move this unit",
                            parent.name
                        )));
                    }
                }
                check_name_free(&org::units_in(tx).await?, stored.parent, &stored.name, Some(unit))?;
                stored.archived_at = None;
                stored.updated_at = weft_store::now();
                org::update_unit(tx, &stored).await?;
                record_change(tx, &principal, "org_unit.restore", "org_unit", unit, json!({ "name": stored.name }))
                    .await
            })
        })
        .await?;
        self.unit_view(unit)
    }

    /// Adds `member` to `unit`. Their first unit becomes their primary one; `primary`
    /// makes this one primary in any case.
    pub async fn add_unit_member(
        &self,
        principal: &Principal,
        unit: Uuid,
        member: Uuid,
        primary: bool,
    ) -> Result<PrincipalUnits> {
        self.org_command(principal, move |tx, principal| {
            Box::pin(async move {
                let stored = stored_unit(tx, unit).await?;
                refuse_archived(&stored)?;
                check_member(tx, "/principal", member).await?;
                let current = org::memberships_of(tx, member).await?;
                if current.iter().any(|m| m.unit == unit) {
                    return Err(Error::Conflict(format!("{member} is already a member of `{}`", stored.name)));
                }
                let primary = primary || current.is_empty();
                org::insert_membership(tx, &Membership { unit, principal: member, primary: false }).await?;
                if primary {
                    org::set_primary(tx, member, unit).await?;
                }
                record_change(
                    tx,
                    &principal,
                    "org_unit.add_member",
                    "org_unit",
                    unit,
                    json!({ "principal": member, "primary": primary }),
                )
                .await
            })
        })
        .await?;
        self.units_of_principal(member)
    }

    /// Removes `member` from `unit`. When it was their primary unit, their remaining unit
    /// first by name becomes primary.
    pub async fn remove_unit_member(&self, principal: &Principal, unit: Uuid, member: Uuid) -> Result<PrincipalUnits> {
        self.org_command(principal, move |tx, principal| {
            Box::pin(async move {
                let stored = stored_unit(tx, unit).await?;
                let current = org::memberships_of(tx, member).await?;
                let Some(was) = current.iter().find(|m| m.unit == unit).copied() else {
                    return Err(Error::NotFound(format!("{member} in org unit `{}`", stored.name)));
                };
                org::delete_membership(tx, unit, member).await?;
                let promoted = if was.primary { promote_primary(tx, member).await? } else { None };
                record_change(
                    tx,
                    &principal,
                    "org_unit.remove_member",
                    "org_unit",
                    unit,
                    json!({ "principal": member, "new_primary": promoted }),
                )
                .await
            })
        })
        .await?;
        self.units_of_principal(member)
    }

    /// Moves `member` from unit `from` to unit `to` in one change; if `from` was their
    /// primary unit, `to` becomes it.
    pub async fn transfer_unit_member(
        &self,
        principal: &Principal,
        member: Uuid,
        from: Uuid,
        to: Uuid,
    ) -> Result<PrincipalUnits> {
        self.require_admin(principal)?;
        if from == to {
            return Err(invalid("/to", FieldErrorCode::InvalidFormat, "the same unit as `from`"));
        }
        self.org_command(principal, move |tx, principal| {
            Box::pin(async move {
                let current = org::memberships_of(tx, member).await?;
                let Some(was) = current.iter().find(|m| m.unit == from).copied() else {
                    return Err(invalid(
                        "/from",
                        FieldErrorCode::UnknownReference,
                        format!("{member} is not a member of org unit {from}"),
                    ));
                };
                active_target(tx, "/to", to).await?;
                check_member(tx, "/principal", member).await?;
                org::delete_membership(tx, from, member).await?;
                if !current.iter().any(|m| m.unit == to) {
                    org::insert_membership(tx, &Membership { unit: to, principal: member, primary: false }).await?;
                }
                if was.primary {
                    org::set_primary(tx, member, to).await?;
                }
                record_change(
                    tx,
                    &principal,
                    "org_unit.transfer_member",
                    "principal",
                    member,
                    json!({ "from": from, "to": to, "primary": was.primary }),
                )
                .await
            })
        })
        .await?;
        self.units_of_principal(member)
    }

    /// Makes `unit` the primary unit of `member`, who must belong to it.
    pub async fn set_primary_unit(&self, principal: &Principal, member: Uuid, unit: Uuid) -> Result<PrincipalUnits> {
        self.org_command(principal, move |tx, principal| {
            Box::pin(async move {
                let current = org::memberships_of(tx, member).await?;
                let Some(target) = current.iter().find(|m| m.unit == unit) else {
                    return Err(invalid(
                        "/unit",
                        FieldErrorCode::UnknownReference,
                        format!("{member} is not a member of org unit {unit}; add them first"),
                    ));
                };
                if target.primary {
                    return Ok(());
                }
                let from = current.iter().find(|m| m.primary).map(|m| m.unit);
                org::set_primary(tx, member, unit).await?;
                record_change(
                    tx,
                    &principal,
                    "org_unit.set_primary",
                    "principal",
                    member,
                    json!({ "from": from, "to": unit }),
                )
                .await
            })
        })
        .await?;
        self.units_of_principal(member)
    }

    // Reads. The tree is what every member may see (an org chart); guests see none of it.

    /// The whole tree, roots by name; archived units only when asked for.
    pub fn org_tree(&self, principal: &Principal, include_archived: bool) -> Result<Vec<UnitNode>> {
        self.require_staff(principal)?;
        let directory = self.directory();
        let org = &directory.org;
        fn node(org: &OrgTree, id: Uuid, include_archived: bool) -> Option<UnitNode> {
            let unit = org.unit(id)?;
            if unit.archived_at.is_some() && !include_archived {
                return None;
            }
            let children = org.children_of(id).iter().filter_map(|child| node(org, *child, include_archived)).collect();
            Some(UnitNode { unit: view(org, unit), children })
        }
        Ok(org.roots().into_iter().filter_map(|root| node(org, root, include_archived)).collect())
    }

    /// One unit with its path, children and members.
    pub async fn unit_detail(&self, principal: &Principal, unit: Uuid) -> Result<UnitDetail> {
        self.require_staff(principal)?;
        let directory = self.directory();
        let org = &directory.org;
        let stored = org.unit(unit).ok_or_else(|| Error::NotFound(format!("org unit {unit}")))?;
        let path = org
            .ancestors(unit)
            .into_iter()
            .rev()
            .filter_map(|id| org.unit(id))
            .map(|u| UnitRef { id: u.id, name: u.name.clone() })
            .collect();
        let children = org.children_of(unit).iter().filter_map(|id| org.unit(*id)).map(|u| view(org, u)).collect();
        let member_ids = org.members_of(unit);
        let infos: BTreeMap<Uuid, org::PrincipalInfo> =
            org::principal_infos(&self.db, &member_ids).await?.into_iter().map(|p| (p.id, p)).collect();
        let mut members: Vec<UnitMember> = member_ids
            .iter()
            .map(|id| UnitMember {
                principal: *id,
                display_name: infos.get(id).map(|p| p.display_name.clone()),
                status: infos.get(id).map(|p| p.status.clone()),
                primary: org.primary_unit(*id) == Some(unit),
            })
            .collect();
        members.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.principal.cmp(&b.principal)));
        Ok(UnitDetail { unit: view(org, stored), path, children, members })
    }

    /// The units `of` belongs to. Members may ask about anyone (it is the org chart).
    pub fn principal_units(&self, principal: &Principal, of: Uuid) -> Result<PrincipalUnits> {
        self.require_staff(principal)?;
        self.units_of_principal(of)
    }

    fn units_of_principal(&self, of: Uuid) -> Result<PrincipalUnits> {
        let directory = self.directory();
        let org = &directory.org;
        let primary_unit = org.primary_unit(of);
        let mut units: Vec<PrincipalUnit> = org
            .units_of(of)
            .iter()
            .filter_map(|id| org.unit(*id))
            .map(|u| PrincipalUnit { unit: view(org, u), primary: Some(u.id) == primary_unit })
            .collect();
        units.sort_by(|a, b| b.primary.cmp(&a.primary).then(a.unit.name.cmp(&b.unit.name)));
        Ok(PrincipalUnits { principal: of, primary_unit, units })
    }

    fn unit_view(&self, unit: Uuid) -> Result<UnitView> {
        let directory = self.directory();
        let stored = directory.org.unit(unit).ok_or_else(|| Error::NotFound(format!("org unit {unit}")))?;
        Ok(view(&directory.org, stored))
    }
}

/// After a primary membership is removed: the remaining unit first by name becomes primary.
async fn promote_primary(tx: &mut Tx, member: Uuid) -> Result<Option<Uuid>> {
    let remaining = org::memberships_of(tx, member).await?;
    if remaining.is_empty() {
        return Ok(None);
    }
    let units = org::units_in(tx).await?;
    let next = units.iter().find(|u| remaining.iter().any(|m| m.unit == u.id)).map(|u| u.id);
    if let Some(next) = next {
        org::set_primary(tx, member, next).await?;
    }
    Ok(next)
}

fn view(org: &OrgTree, unit: &StoredUnit) -> UnitView {
    UnitView {
        id: unit.id,
        name: unit.name.clone(),
        code: unit.code.clone(),
        parent: unit.parent,
        manager: unit.manager,
        effective_manager: org.manager_of(unit.id),
        archived: unit.archived_at.is_some(),
        archived_at: unit.archived_at.map(format_utc),
        created_at: format_utc(unit.created_at),
        updated_at: format_utc(unit.updated_at),
        member_count: org.members_of(unit.id).len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_are_cleaned_and_checked() {
        let mut errors = Vec::new();
        assert_eq!(clean_name("  Finance ", &mut errors), "Finance");
        assert_eq!(clean_code(Some(" FIN-01 "), &mut errors), Some("FIN-01".into()));
        assert_eq!(clean_code(Some("   "), &mut errors), None, "blank means no code");
        assert_eq!(clean_code(None, &mut errors), None);
        assert!(errors.is_empty(), "{errors:?}");

        clean_name("   ", &mut errors);
        clean_name(&"x".repeat(MAX_UNIT_NAME + 1), &mut errors);
        clean_code(Some("has space"), &mut errors);
        clean_code(Some(&"c".repeat(MAX_UNIT_CODE + 1)), &mut errors);
        let found: Vec<(&str, FieldErrorCode)> = errors.iter().map(|e| (e.pointer.as_str(), e.code)).collect();
        assert_eq!(
            found,
            [
                ("/name", FieldErrorCode::Required),
                ("/name", FieldErrorCode::TooLong),
                ("/code", FieldErrorCode::InvalidFormat),
                ("/code", FieldErrorCode::TooLong),
            ]
        );
    }

    #[test]
    fn sibling_names_are_compared_without_case_among_active_units() {
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let unit = |id: u128, name: &str, parent: Option<u128>, archived: bool| StoredUnit {
            id: Uuid::from_u128(id),
            name: name.into(),
            code: None,
            parent: parent.map(Uuid::from_u128),
            manager: None,
            created_at: at,
            updated_at: at,
            archived_at: archived.then_some(at),
        };
        let units =
            vec![unit(1, "Company", None, false), unit(2, "Sales", Some(1), false), unit(3, "Old", Some(1), true)];
        let p = Some(Uuid::from_u128(1));
        assert!(check_name_free(&units, p, "sales", None).is_err());
        assert!(check_name_free(&units, p, "Sales", Some(Uuid::from_u128(2))).is_ok(), "itself");
        assert!(check_name_free(&units, p, "Old", None).is_ok(), "archived units do not count");
        assert!(check_name_free(&units, None, "Sales", None).is_ok(), "another parent");
    }
}
