//! The access policy: one component, two outputs (DESIGN.md "Access control").
//!
//! For a principal, a type and an action, `Workspace::reach` gathers the grants of the
//! roles the principal holds into a `Reach`: a list of branches (scope plus optional FEEL
//! condition), a party cap for guests and, for reading, the records shared with the
//! principal. The same `Reach` renders to a SQL predicate (lists, counts, aggregates,
//! exports) and decides a single record in memory (get and every write), so the two can
//! never disagree about what a principal may see or do.
//!
//! Rules that hold by construction:
//! - grants only add: a principal's reach is the union of its branches;
//! - a guest's reach is capped by its party, whatever its roles or shares say;
//! - a record the principal may not read is *not found*, never *forbidden*; a readable
//!   record with a missing permission is *forbidden*, naming the permission;
//! - when a grant's condition can no longer be compiled (its field was removed), the
//!   branch grants nothing (fail closed) and the problem is logged.

use std::collections::BTreeSet;

use sea_query::{Alias, Cond, Expr, SimpleExpr};
use uuid::Uuid;
use weft_model::access::{FieldRuleKind, GrantScope, RoleDef};
use weft_model::{Principal, PrincipalKind};
use weft_store::Tx;
use weft_store::kernel::access as shares;
use weft_store::records::codec;
use weft_store::records::rows::StoredRecord;

use crate::catalog::TypeEntry;
use crate::directory::Directory;
use crate::{Error, Result, Workspace};

/// The actions a principal holds a grant for on one type (`Workspace::type_permissions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TypePermissions {
    /// May list and read records (some of them: scopes and conditions still apply).
    pub read: bool,
    pub create: bool,
    pub update: bool,
    pub delete: bool,
    /// May export what it may list (CSV).
    pub export: bool,
    /// The lifecycle transitions it may run (guards and states still apply).
    pub transitions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
    Transition(String),
    Export,
    Comment,
    /// Users, roles, org units, declarations, purges, decisions and consumers.
    Admin,
}

impl Action {
    /// The permission name a grant must hold (`read`, `transition:approve`, `admin`).
    pub fn name(&self) -> String {
        match self {
            Action::Read => "read".into(),
            Action::Create => "create".into(),
            Action::Update => "update".into(),
            Action::Delete => "delete".into(),
            Action::Transition(t) => format!("transition:{t}"),
            Action::Export => "export".into(),
            Action::Comment => "comment".into(),
            Action::Admin => "admin".into(),
        }
    }

    /// What a delegate may do with the delegator's rights: see and decide, not edit.
    fn delegable(&self) -> bool {
        matches!(self, Action::Read | Action::Transition(_) | Action::Comment)
    }
}

/// Which records one grant reaches, resolved for the acting principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScopeMatch {
    All,
    Owner(Uuid),
    Units(Vec<Uuid>),
    Party(Uuid),
}

#[derive(Debug, Clone)]
pub(crate) struct Branch {
    scope: ScopeMatch,
    /// FEEL over the record, evaluated with `subject` as `@me`.
    condition: Option<String>,
    subject: Subject,
}

/// Whose `@me`, `@party` and `@unit` a condition sees (the delegator's, for a delegate).
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    pub principal: Principal,
    pub unit: Option<Uuid>,
}

/// Everything `principal` may reach on one type for one action.
#[derive(Debug, Clone)]
pub struct Reach {
    type_name: String,
    permission: String,
    unrestricted: bool,
    branches: Vec<Branch>,
    party_cap: Option<Uuid>,
    shared_with: Option<Uuid>,
}

impl Reach {
    fn unrestricted(type_name: &str, action: &Action) -> Reach {
        Reach {
            type_name: type_name.to_owned(),
            permission: action.name(),
            unrestricted: true,
            branches: Vec::new(),
            party_cap: None,
            shared_with: None,
        }
    }

    /// No grant at all (shares aside): the permission is missing on the whole type.
    pub fn has_grant(&self) -> bool {
        self.unrestricted || !self.branches.is_empty()
    }

    pub fn forbidden(&self) -> Error {
        Error::Forbidden(format!("missing permission `{}` on `{}`", self.permission, self.type_name))
    }

    /// Do the grants (not shares) reach this record?
    pub fn matches(&self, entry: &TypeEntry, record: &StoredRecord) -> bool {
        if self.unrestricted {
            return true;
        }
        if self.party_cap.is_some_and(|party| record.system.party != Some(party)) {
            return false;
        }
        self.branches.iter().any(|b| branch_matches(entry, b, record))
    }

    fn capped(&self, record: &StoredRecord) -> bool {
        self.party_cap.is_none_or(|party| record.system.party == Some(party))
    }

    /// The predicate for lists, counts, aggregates and exports; `None` when every record is
    /// reachable.
    pub fn condition(&self, entry: &TypeEntry, backend: weft_store::Backend) -> Option<Cond> {
        if self.unrestricted {
            return None;
        }
        let table = Alias::new(&entry.spec.table);
        let column = |name: &str| Expr::col((table.clone(), Alias::new(name)));
        let everything = self.branches.iter().any(|b| b.scope == ScopeMatch::All && b.condition.is_none());
        if everything && self.party_cap.is_none() {
            return None;
        }
        let mut any = Cond::any();
        let mut empty = true;
        for branch in &self.branches {
            let scope: Option<SimpleExpr> = match &branch.scope {
                ScopeMatch::All => None,
                ScopeMatch::Owner(id) => Some(column("owner").eq(codec::uuid(*id))),
                ScopeMatch::Units(units) => Some(column("unit").is_in(units.iter().map(|u| codec::uuid(*u)))),
                ScopeMatch::Party(party) => Some(column("party").eq(codec::uuid(*party))),
            };
            let condition = match &branch.condition {
                None => None,
                Some(source) => {
                    match crate::expressions::access_condition_sql(entry, source, &branch.subject, backend) {
                        Ok(cond) => Some(cond),
                        Err(e) => {
                            tracing::warn!(type_name = %entry.decl.name, condition = %source, error = %e,
                                "an access condition no longer compiles; its grant reaches nothing");
                            continue;
                        }
                    }
                }
            };
            let mut all = Cond::all();
            if let Some(scope) = scope {
                all = all.add(scope);
            }
            if let Some(condition) = condition {
                all = all.add(condition);
            }
            any = any.add(all);
            empty = false;
        }
        if let Some(principal) = self.shared_with {
            any = any.add(column("id").in_subquery(shares::shared_ids(&entry.decl.name, principal)));
            empty = false;
        }
        if empty {
            // Nothing reachable: a predicate that holds for no row.
            any = any.add(Expr::val(1).eq(0));
        }
        Some(match self.party_cap {
            Some(party) => Cond::all().add(column("party").eq(codec::uuid(party))).add(any),
            None => any,
        })
    }
}

impl Reach {
    /// The scope of `condition` as disjoint arms when it is a plain set of units (unit and
    /// unit-tree grants without conditions), with or without shares: one arm per unit
    /// (`unit = ?`), and one for the shares outside those units. Lists read each arm in
    /// order off `(unit, created_at, id, deleted_at)`. `None` for any other scope.
    pub fn arms(&self, entry: &TypeEntry) -> Option<Vec<Cond>> {
        if self.unrestricted || self.branches.is_empty() {
            return None;
        }
        let mut units = std::collections::BTreeSet::new();
        for branch in &self.branches {
            match (&branch.scope, &branch.condition) {
                (ScopeMatch::Units(u), None) => units.extend(u.iter().copied()),
                _ => return None,
            }
        }
        let table = Alias::new(&entry.spec.table);
        let column = |name: &str| Expr::col((table.clone(), Alias::new(name)));
        let capped = |cond: Cond| match self.party_cap {
            Some(party) => cond.add(column("party").eq(codec::uuid(party))),
            None => cond,
        };
        let mut arms: Vec<Cond> =
            units.iter().map(|unit| capped(Cond::all().add(column("unit").eq(codec::uuid(*unit))))).collect();
        if let Some(principal) = self.shared_with {
            let shared = column("id").in_subquery(shares::shared_ids(&entry.decl.name, principal));
            let mut arm = Cond::all().add(shared);
            if !units.is_empty() {
                // Shared records in a reached unit come through that unit's arm.
                let elsewhere = Cond::any()
                    .add(column("unit").is_null())
                    .add(column("unit").is_not_in(units.iter().map(|u| codec::uuid(*u))));
                arm = arm.add(elsewhere);
            }
            arms.push(capped(arm));
        }
        if arms.is_empty() { None } else { Some(arms) }
    }
}

fn branch_matches(entry: &TypeEntry, branch: &Branch, record: &StoredRecord) -> bool {
    let s = &record.system;
    let in_scope = match &branch.scope {
        ScopeMatch::All => true,
        ScopeMatch::Owner(id) => s.owner == Some(*id),
        ScopeMatch::Units(units) => s.unit.is_some_and(|u| units.contains(&u)),
        ScopeMatch::Party(party) => s.party == Some(*party),
    };
    in_scope
        && branch.condition.as_deref().is_none_or(|source| {
            crate::expressions::access_condition_holds(entry, source, record, &branch.subject).unwrap_or_else(|e| {
                tracing::warn!(type_name = %entry.decl.name, condition = %source, error = %e,
                    "an access condition could not be evaluated; its grant reaches nothing");
                false
            })
        })
}

/// Reading and one action, decided per record: what a command carries into its
/// transaction.
#[derive(Debug, Clone)]
pub struct RecordGate {
    read: Reach,
    act: Option<Reach>,
}

impl RecordGate {
    /// Not readable → `NotFound` (existence does not leak); readable without the action's
    /// permission → `Forbidden` naming it.
    pub async fn check(&self, tx: &mut Tx, entry: &TypeEntry, record: &StoredRecord) -> Result<()> {
        if !self.readable(tx, entry, record).await? {
            return Err(Error::NotFound(format!("{} {}", entry.decl.name, record.system.id)));
        }
        match &self.act {
            Some(act) if !act.matches(entry, record) => Err(act.forbidden()),
            _ => Ok(()),
        }
    }

    async fn readable(&self, tx: &mut Tx, entry: &TypeEntry, record: &StoredRecord) -> Result<bool> {
        if self.read.matches(entry, record) {
            return Ok(true);
        }
        Ok(match self.read.shared_with {
            Some(principal) if self.read.capped(record) => {
                shares::is_shared(tx, &entry.decl.name, record.system.id, principal).await?
            }
            _ => false,
        })
    }

    /// The action's reach, to check the record as it will be after the change.
    pub fn action(&self) -> Option<&Reach> {
        self.act.as_ref()
    }
}

/// Which fields a principal may not see or not change on one type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldRules {
    pub hidden: BTreeSet<String>,
    pub read_only: BTreeSet<String>,
}

impl FieldRules {
    pub fn is_empty(&self) -> bool {
        self.hidden.is_empty() && self.read_only.is_empty()
    }

    pub fn writable(&self, field: &str) -> bool {
        !self.hidden.contains(field) && !self.read_only.contains(field)
    }
}

/// The roles that count for `principal`: the roles it holds, narrowed to an API token's
/// roles; guests count only guest roles and members only member roles.
pub fn effective_roles<'d>(directory: &'d Directory, principal: &Principal) -> Vec<&'d RoleDef> {
    let guest = principal.party().is_some();
    directory
        .roles_of(principal.id)
        .iter()
        .filter(|name| principal.token_roles.as_ref().is_none_or(|allowed| allowed.contains(name)))
        .filter_map(|name| directory.roles.get(name))
        .filter(|role| role.for_guests == guest)
        .collect()
}

/// The principals whose grants count for `principal` doing `action`: itself and, for a
/// delegate acting on someone's behalf, that person (for delegable actions only).
fn subjects(directory: &Directory, principal: &Principal, action: &Action) -> Vec<Subject> {
    let mut out = vec![Subject { principal: principal.clone(), unit: directory.org.primary_unit(principal.id) }];
    if let Some(delegator) = principal.on_behalf_of
        && action.delegable()
    {
        let mut as_delegator = Principal::member(delegator);
        as_delegator.token_roles = principal.token_roles.clone();
        out.push(Subject { unit: directory.org.primary_unit(delegator), principal: as_delegator });
    }
    out
}

impl Workspace {
    /// The acting principal with its primary unit, as expressions bind it.
    pub(crate) fn subject(&self, principal: &Principal) -> Subject {
        Subject { principal: principal.clone(), unit: self.directory().org.primary_unit(principal.id) }
    }

    /// Everything `principal` may reach on `entry`'s type for `action`.
    pub fn reach(&self, principal: &Principal, entry: &TypeEntry, action: &Action) -> Reach {
        let type_name = entry.decl.name.as_str();
        if principal.is_system() {
            return Reach::unrestricted(type_name, action);
        }
        let directory = self.directory();
        let permission = action.name();
        let mut branches = Vec::new();
        for subject in subjects(&directory, principal, action) {
            let org = &directory.org;
            for role in effective_roles(&directory, &subject.principal) {
                for grant in role.grants.iter().filter(|g| g.covers_type(type_name) && g.covers_action(&permission)) {
                    let who = subject.principal.id;
                    let scope = match grant.scope {
                        GrantScope::All => ScopeMatch::All,
                        GrantScope::Own => ScopeMatch::Owner(who),
                        GrantScope::Unit => ScopeMatch::Units(org.units_of(who).to_vec()),
                        GrantScope::UnitTree => ScopeMatch::Units(org.with_descendants(org.units_of(who))),
                        GrantScope::Party => match subject.principal.party() {
                            Some(party) => ScopeMatch::Party(party),
                            None => continue,
                        },
                    };
                    if matches!(&scope, ScopeMatch::Units(units) if units.is_empty()) {
                        continue;
                    }
                    branches.push(Branch { scope, condition: grant.condition.clone(), subject: subject.clone() });
                }
            }
        }
        Reach {
            type_name: type_name.to_owned(),
            permission,
            unrestricted: false,
            branches,
            party_cap: principal.party(),
            shared_with: (*action == Action::Read).then_some(principal.id),
        }
    }

    /// The gate a command on one existing record passes: readable, then allowed.
    pub(crate) fn gate(&self, principal: &Principal, entry: &TypeEntry, action: Option<Action>) -> RecordGate {
        RecordGate {
            read: self.reach(principal, entry, &Action::Read),
            act: action.map(|a| self.reach(principal, entry, &a)),
        }
    }

    /// Is one record readable by `principal` (grants or a share)? Outside any command.
    pub(crate) async fn readable_now(
        &self,
        principal: &Principal,
        entry: &TypeEntry,
        record: &StoredRecord,
    ) -> Result<bool> {
        let read = self.reach(principal, entry, &Action::Read);
        if read.matches(entry, record) {
            return Ok(true);
        }
        Ok(match read.shared_with {
            Some(id) if read.capped(record) => {
                shares::is_shared_now(&self.db, &entry.decl.name, record.system.id, id).await?
            }
            _ => false,
        })
    }

    /// The field rules of `principal` on `entry`'s type. A field is hidden (or read-only)
    /// only when every role that lets the principal read (or update) the type says so:
    /// one more role never takes a field away.
    pub fn field_rules(&self, principal: &Principal, entry: &TypeEntry) -> FieldRules {
        if principal.is_system() {
            return FieldRules::default();
        }
        let directory = self.directory();
        let type_name = entry.decl.name.as_str();
        let roles = effective_roles(&directory, principal);
        let rules_of = |role: &RoleDef, kinds: &[FieldRuleKind]| -> BTreeSet<String> {
            role.field_rules
                .iter()
                .filter(|r| r.type_name == type_name && kinds.contains(&r.rule))
                .map(|r| r.field.clone())
                .collect()
        };
        let agreed = |permission: &str, kinds: &[FieldRuleKind]| -> BTreeSet<String> {
            let granting: Vec<&&RoleDef> = roles
                .iter()
                .filter(|r| r.grants.iter().any(|g| g.covers_type(type_name) && g.covers_action(permission)))
                .collect();
            // Reading only through shares: every role's rules apply.
            let counted: Vec<&&RoleDef> = if granting.is_empty() { roles.iter().collect() } else { granting };
            let mut sets = counted.iter().map(|r| rules_of(r, kinds));
            let first = sets.next().unwrap_or_default();
            sets.fold(first, |acc, s| acc.intersection(&s).cloned().collect())
        };
        let hidden = agreed("read", &[FieldRuleKind::Hidden]);
        let mut read_only = agreed("update", &[FieldRuleKind::Hidden, FieldRuleKind::ReadOnly]);
        read_only.retain(|f| !hidden.contains(f));
        FieldRules { hidden, read_only }
    }

    /// What `principal` holds a grant for on a type (shares aside): what a UI offers,
    /// never what decides (every request is checked again). `None` for an unknown type.
    pub fn type_permissions(&self, principal: &Principal, type_name: &str) -> Option<TypePermissions> {
        let entry = self.catalog.get(type_name)?;
        let holds = |action: Action| self.reach(principal, &entry, &action).has_grant();
        let transitions = entry
            .decl
            .lifecycle
            .iter()
            .flat_map(|l| l.transitions.iter())
            .filter(|t| holds(Action::Transition(t.name.clone())))
            .map(|t| t.name.clone())
            .collect();
        Some(TypePermissions {
            read: holds(Action::Read),
            create: holds(Action::Create),
            update: holds(Action::Update),
            delete: holds(Action::Delete),
            export: holds(Action::Export),
            transitions,
        })
    }

    /// Does `principal` manage `type_name`: an administrator, or a member holding `update`
    /// on every record of it (scope `all`, no condition)? Managers may share list views
    /// with everyone who reads the type. Guests never manage a type.
    pub fn manages_type(&self, principal: &Principal, type_name: &str) -> bool {
        if self.is_admin(principal) {
            return true;
        }
        if principal.party().is_some() {
            return false;
        }
        effective_roles(&self.directory(), principal).iter().any(|role| {
            role.grants.iter().any(|g| {
                g.covers_type(type_name)
                    && g.covers_action("update")
                    && g.scope == GrantScope::All
                    && g.condition.is_none()
            })
        })
    }

    /// Administrative work (users, roles, org units, declarations, purges) needs a role
    /// granting `admin`; the system principal always has it.
    pub fn require_admin(&self, principal: &Principal) -> Result<()> {
        if self.is_admin(principal) { Ok(()) } else { Err(Error::Forbidden("missing permission `admin`".into())) }
    }

    pub fn is_admin(&self, principal: &Principal) -> bool {
        principal.is_system()
            || effective_roles(&self.directory(), principal)
                .iter()
                .any(|role| role.grants.iter().any(|g| g.covers_action("admin")))
    }

    /// Internal reference data (decision models, consumer status): members, services and
    /// the system; never guests.
    pub fn require_staff(&self, principal: &Principal) -> Result<()> {
        match principal.kind {
            PrincipalKind::Guest { .. } => Err(Error::Forbidden("not available to partner contacts".into())),
            _ => Ok(()),
        }
    }
}
