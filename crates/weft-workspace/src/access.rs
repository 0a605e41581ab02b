//! Access decisions. The façade asks the policy before every command and read; lists ask
//! it for a scope that becomes part of the SQL, so counts and pages agree with `get`.
//!
//! The baseline policy here holds until roles and grants arrive (identity issue): staff
//! (members, services, the system) may do everything except purge and declare, which need
//! an administrator's role later; guests reach only records whose party is their own party,
//! and a record outside it is *not found* for them, never *forbidden*, so its existence
//! does not leak.

use std::fmt::Debug;

use uuid::Uuid;
use weft_model::{Principal, PrincipalKind};
use weft_store::records::rows::StoredRecord;

use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
    Transition(String),
    Purge,
    Declare,
}

impl Action {
    pub fn name(&self) -> String {
        match self {
            Action::Read => "read".into(),
            Action::Create => "create".into(),
            Action::Update => "update".into(),
            Action::Delete => "delete".into(),
            Action::Transition(t) => format!("transition:{t}"),
            Action::Purge => "purge".into(),
            Action::Declare => "declare".into(),
        }
    }
}

/// Which records a principal may list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Only records whose party is this one.
    Party(Uuid),
}

pub trait Policy: Send + Sync + Debug {
    /// May `principal` do `action` on the type at all?
    fn check_type(&self, principal: &Principal, type_name: &str, action: Action) -> Result<()>;
    /// May `principal` do `action` on this record? Not visible → `NotFound`.
    fn check_record(&self, principal: &Principal, type_name: &str, record: &StoredRecord, action: Action)
    -> Result<()>;
    /// The rows `principal` may read, as a predicate the store compiles into SQL.
    fn read_scope(&self, principal: &Principal, type_name: &str) -> Result<Scope>;
}

#[derive(Debug, Default)]
pub struct BaselinePolicy;

impl Policy for BaselinePolicy {
    fn check_type(&self, principal: &Principal, type_name: &str, action: Action) -> Result<()> {
        let allowed = match principal.kind {
            PrincipalKind::System => true,
            PrincipalKind::Member | PrincipalKind::Service => !matches!(action, Action::Purge | Action::Declare),
            PrincipalKind::Guest { .. } => {
                matches!(action, Action::Read | Action::Create | Action::Update | Action::Transition(_))
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("missing permission `{}` on `{type_name}`", action.name())))
        }
    }

    fn check_record(
        &self,
        principal: &Principal,
        type_name: &str,
        record: &StoredRecord,
        action: Action,
    ) -> Result<()> {
        if let Scope::Party(party) = self.read_scope(principal, type_name)?
            && record.system.party != Some(party)
        {
            return Err(Error::NotFound(format!("{type_name} {}", record.system.id)));
        }
        if action == Action::Read { Ok(()) } else { self.check_type(principal, type_name, action) }
    }

    fn read_scope(&self, principal: &Principal, _type_name: &str) -> Result<Scope> {
        Ok(match principal.kind {
            PrincipalKind::Guest { party } => Scope::Party(party),
            _ => Scope::All,
        })
    }
}

impl crate::Workspace {
    /// Administrative work (users, roles, org units, declarations, purges) needs a role
    /// granting `admin`; the system principal always has it.
    pub fn require_admin(&self, principal: &Principal) -> Result<()> {
        if principal.is_system() {
            return Ok(());
        }
        let directory = self.directory();
        let holds_admin = crate::access::effective_roles(&directory, principal)
            .iter()
            .any(|role| role.grants.iter().any(|g| g.covers_action("admin")));
        if holds_admin { Ok(()) } else { Err(Error::Forbidden("missing permission `admin`".into())) }
    }
}

/// The roles that count for `principal`: the roles it holds, narrowed to an API token's
/// roles; guests count only guest roles and members only member roles.
pub fn effective_roles<'d>(
    directory: &'d crate::directory::Directory,
    principal: &Principal,
) -> Vec<&'d weft_model::access::RoleDef> {
    let guest = principal.party().is_some();
    directory
        .roles_of(principal.id)
        .iter()
        .filter(|name| principal.token_roles.as_ref().is_none_or(|allowed| allowed.contains(name)))
        .filter_map(|name| directory.roles.get(name))
        .filter(|role| role.for_guests == guest)
        .collect()
}
