//! Who a new user task goes to: the definition's assignment (Camunda `assignee`,
//! `candidateUsers`, `candidateGroups`; Weft's `weft:assignment rule`) resolved against the
//! org directory at the moment the task is created, then out-of-office delegation: a task
//! for someone away goes to their delegate, and the task remembers for whom.

use time::Date;
use uuid::Uuid;
use weft_process::{Assignment, AssignmentRule};
use weft_store::kernel::principals;
use weft_store::kernel::processes as store;

use crate::org::UnitLookup;
use crate::{Result, Workspace};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Resolved {
    pub assignee: Option<Uuid>,
    /// The assignee the task was meant for, when delegation moved it.
    pub delegated_from: Option<Uuid>,
    pub principals: Vec<Uuid>,
    pub roles: Vec<String>,
    pub units: Vec<Uuid>,
}

impl Workspace {
    pub(super) async fn resolve_assignment(
        &self,
        assignment: &Assignment,
        starter: Option<Uuid>,
        day: Date,
        at: (&str, &str),
    ) -> Result<Resolved> {
        let mut out = Resolved::default();
        if let Some(rule) = &assignment.rule {
            self.apply_rule(rule, starter, &mut out).await?;
        }
        if out.assignee.is_none()
            && let Some(text) = assignment.assignee.as_deref().map(str::trim).filter(|t| !t.is_empty())
        {
            match rule_text(text) {
                Some(rule) => self.apply_rule(&rule, starter, &mut out).await?,
                None => out.assignee = self.principal_named(text).await?,
            }
        }
        for user in &assignment.candidate_users {
            if let Some(id) = self.principal_named(user).await?
                && !out.principals.contains(&id)
            {
                out.principals.push(id);
            }
        }
        let directory = self.directory();
        for group in &assignment.candidate_groups {
            let group = group.trim();
            if let Some(rule) = rule_text(group) {
                self.apply_rule(&rule, starter, &mut out).await?;
            } else if directory.roles.contains_key(group) {
                out.roles.push(group.to_owned());
            } else if let UnitLookup::Found(unit) = directory.org.find_unit(group) {
                out.units.push(unit);
            } else {
                // Unknown now; a role of that name created later will match.
                out.roles.push(group.to_owned());
            }
        }
        if assignment.forbid_self_approval && out.assignee.is_some() && out.assignee == starter {
            out.assignee = None;
        }
        if out.assignee.is_none()
            && let Some(rule @ (AssignmentRule::RoundRobin | AssignmentRule::LeastLoaded)) = &assignment.rule
        {
            let skip = assignment.forbid_self_approval.then_some(starter).flatten();
            let pool = self.candidate_pool(&out, skip).await?;
            out.assignee = match rule {
                AssignmentRule::RoundRobin => self.next_in_turn(&pool, at.0, at.1).await?,
                _ => self.least_loaded(&pool).await?,
            };
        }
        if let Some(assignee) = out.assignee
            && let Some(delegate) = self.delegates_of(assignee, day).await?.into_iter().next()
        {
            out.delegated_from = Some(assignee);
            out.assignee = Some(delegate);
        }
        Ok(out)
    }

    async fn apply_rule(&self, rule: &AssignmentRule, starter: Option<Uuid>, out: &mut Resolved) -> Result<()> {
        let directory = self.directory();
        match rule {
            AssignmentRule::User(name) => out.assignee = out.assignee.or(self.principal_named(name).await?),
            AssignmentRule::Role(role) => out.roles.push(role.clone()),
            AssignmentRule::Unit(name) => {
                if let UnitLookup::Found(unit) = directory.org.find_unit(name) {
                    out.units.push(unit);
                }
            }
            AssignmentRule::UnitHead(name) => {
                out.assignee = out.assignee.or(directory.org.head_of_unit_named(name));
            }
            AssignmentRule::ManagerChain(levels) => {
                // The n-th manager up; when the chain is shorter, the highest there is.
                if let Some(starter) = starter {
                    let chain = directory.org.manager_chain(starter, usize::from(*levels));
                    out.assignee = out.assignee.or(chain.last().copied());
                }
            }
            AssignmentRule::Starter => out.assignee = out.assignee.or(starter),
            // Round robin and least loaded pick among the candidates once they are known
            // (`resolve_assignment`); a decision is not resolved yet: the candidates claim.
            AssignmentRule::RoundRobin | AssignmentRule::LeastLoaded | AssignmentRule::Decision(_) => {}
        }
        Ok(())
    }

    /// The active members among the candidates (listed, holding a candidate role, or in a
    /// candidate unit), by id; without `skip` (the starter, when self-approval is forbidden).
    async fn candidate_pool(&self, candidates: &Resolved, skip: Option<Uuid>) -> Result<Vec<Uuid>> {
        let directory = self.directory();
        let mut pool: Vec<Uuid> = candidates.principals.clone();
        for (principal, roles) in &directory.holdings {
            if roles.iter().any(|r| candidates.roles.contains(r)) {
                pool.push(*principal);
            }
        }
        for unit in &candidates.units {
            pool.extend(directory.org.members_of(*unit));
        }
        pool.sort();
        pool.dedup();
        let mut active = Vec::with_capacity(pool.len());
        for id in pool {
            if Some(id) == skip {
                continue;
            }
            if principals::by_id_now(&self.db, id).await?.is_some_and(|p| p.kind == "member" && p.status == "active") {
                active.push(id);
            }
        }
        Ok(active)
    }

    /// Round robin: the candidate after the one who got this step last (by id, wrapping).
    async fn next_in_turn(&self, pool: &[Uuid], key: &str, element: &str) -> Result<Option<Uuid>> {
        if pool.is_empty() {
            return Ok(None);
        }
        let last = store::last_assignee(&self.db, key, element, pool).await?;
        let next = match last.and_then(|l| pool.iter().position(|p| *p == l)) {
            Some(i) => pool.get((i + 1) % pool.len()),
            None => pool.first(),
        };
        Ok(next.copied())
    }

    /// Least loaded: the candidate holding the fewest open tasks (the first by id on a tie).
    async fn least_loaded(&self, pool: &[Uuid]) -> Result<Option<Uuid>> {
        let counts: std::collections::HashMap<Uuid, i64> =
            store::open_task_counts(&self.db, pool).await?.into_iter().collect();
        Ok(pool.iter().min_by_key(|p| (counts.get(p).copied().unwrap_or(0), **p)).copied())
    }

    /// A principal by id or login; `None` when nobody matches (the task stays unassigned).
    async fn principal_named(&self, text: &str) -> Result<Option<Uuid>> {
        let text = text.trim();
        if let Ok(id) = Uuid::parse_str(text) {
            return Ok(Some(id));
        }
        Ok(principals::by_login_now(&self.db, &text.to_lowercase()).await?.map(|p| p.id))
    }
}

/// `role:x`, `unit:x`, `manager`, `starter`… as an assignee or group; plain names are not
/// rules.
fn rule_text(text: &str) -> Option<AssignmentRule> {
    if text.contains(':') || matches!(text, "manager" | "starter") { AssignmentRule::parse(text) } else { None }
}
