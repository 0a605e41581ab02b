//! The org tree in memory: units with their parent and manager, and who belongs where.
//! Access scopes (`unit`, `unit_tree`) and the functions processes use to find approvers
//! ("manager of X", "manager chain up N levels", "head of unit named Y") read it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use uuid::Uuid;
use weft_store::kernel::org::{Membership, StoredUnit};

#[derive(Debug, Clone, Default)]
pub struct OrgTree {
    units: BTreeMap<Uuid, StoredUnit>,
    children: HashMap<Uuid, Vec<Uuid>>,
    /// Each principal's units, the primary one first.
    members: HashMap<Uuid, Vec<Uuid>>,
    primary: HashMap<Uuid, Uuid>,
}

impl OrgTree {
    pub fn new(units: Vec<StoredUnit>, memberships: Vec<Membership>) -> OrgTree {
        let mut tree = OrgTree::default();
        for unit in units {
            if let Some(parent) = unit.parent {
                tree.children.entry(parent).or_default().push(unit.id);
            }
            tree.units.insert(unit.id, unit);
        }
        for m in memberships {
            let list = tree.members.entry(m.principal).or_default();
            if m.primary {
                list.insert(0, m.unit);
                tree.primary.insert(m.principal, m.unit);
            } else {
                list.push(m.unit);
            }
        }
        tree
    }

    pub fn unit(&self, id: Uuid) -> Option<&StoredUnit> {
        self.units.get(&id)
    }

    pub fn units(&self) -> impl Iterator<Item = &StoredUnit> {
        self.units.values()
    }

    /// The units `principal` is a member of, the primary one first.
    pub fn units_of(&self, principal: Uuid) -> &[Uuid] {
        self.members.get(&principal).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn primary_unit(&self, principal: Uuid) -> Option<Uuid> {
        self.primary.get(&principal).copied().or_else(|| self.units_of(principal).first().copied())
    }

    /// The members of `unit` (not of the units below it).
    pub fn members_of(&self, unit: Uuid) -> Vec<Uuid> {
        let mut out: Vec<Uuid> =
            self.members.iter().filter(|(_, units)| units.contains(&unit)).map(|(p, _)| *p).collect();
        out.sort();
        out
    }

    /// `units` and every unit below them, each once, in a stable order.
    pub fn with_descendants(&self, units: &[Uuid]) -> Vec<Uuid> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<Uuid> = units.to_vec();
        while let Some(unit) = stack.pop() {
            if seen.insert(unit)
                && let Some(children) = self.children.get(&unit)
            {
                stack.extend(children.iter().copied());
            }
        }
        seen.into_iter().collect()
    }

    /// `unit`'s ancestors, nearest first (cycles cannot be stored, but are cut anyway).
    pub fn ancestors(&self, unit: Uuid) -> Vec<Uuid> {
        let mut out = Vec::new();
        let mut at = self.units.get(&unit).and_then(|u| u.parent);
        while let Some(id) = at {
            if out.contains(&id) || id == unit {
                break;
            }
            out.push(id);
            at = self.units.get(&id).and_then(|u| u.parent);
        }
        out
    }

    /// Would making `parent` the parent of `unit` create a cycle?
    pub fn would_cycle(&self, unit: Uuid, parent: Uuid) -> bool {
        parent == unit || self.ancestors(parent).contains(&unit)
    }

    /// The manager of `unit`; a unit without one answers with the nearest manager above.
    pub fn manager_of(&self, unit: Uuid) -> Option<Uuid> {
        std::iter::once(unit).chain(self.ancestors(unit)).find_map(|u| self.units.get(&u).and_then(|u| u.manager))
    }

    /// Up to `levels` managers above `principal`, nearest first, starting at the manager of
    /// the principal's primary unit. A manager is never their own approver: when the
    /// principal manages their unit, the chain starts one unit up. Repeated people are
    /// listed once.
    pub fn manager_chain(&self, principal: Uuid, levels: usize) -> Vec<Uuid> {
        let Some(unit) = self.primary_unit(principal) else { return Vec::new() };
        let mut out = Vec::new();
        for u in std::iter::once(unit).chain(self.ancestors(unit)) {
            if out.len() >= levels {
                break;
            }
            if let Some(manager) = self.units.get(&u).and_then(|u| u.manager)
                && manager != principal
                && !out.contains(&manager)
            {
                out.push(manager);
            }
        }
        out
    }

    /// The manager of the (not archived) unit named `name` or with code `name`.
    pub fn head_of_unit_named(&self, name: &str) -> Option<Uuid> {
        self.units
            .values()
            .filter(|u| u.archived_at.is_none())
            .find(|u| u.name == name || u.code.as_deref() == Some(name))
            .and_then(|u| self.manager_of(u.id))
    }
}
