//! The org tree in memory: units with their parent and manager, and who belongs where.
//! Access scopes (`unit`, `unit_tree`) and the functions processes use to find approvers
//! ("manager of X", "manager chain up N levels", "head of unit named Y") read it.
//!
//! The commands in `org_admin` keep these invariants, so the functions here can rely on
//! them: no cycles; an archived unit has no active child units and no members; a principal
//! who belongs to any unit has exactly one primary unit.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use uuid::Uuid;
use weft_store::kernel::org::{Membership, StoredUnit};

use crate::{Error, Result, Workspace};

#[derive(Debug, Clone, Default)]
pub struct OrgTree {
    units: BTreeMap<Uuid, StoredUnit>,
    /// Each unit's children, by name.
    children: HashMap<Uuid, Vec<Uuid>>,
    /// Each principal's units, the primary one first.
    members: HashMap<Uuid, Vec<Uuid>>,
    /// Each unit's members, sorted.
    unit_members: HashMap<Uuid, Vec<Uuid>>,
    primary: HashMap<Uuid, Uuid>,
}

/// What a unit name (or code) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitLookup {
    Found(Uuid),
    Missing,
    /// Several active units have this name (and none has it as its code).
    Ambiguous(Vec<Uuid>),
}

impl OrgTree {
    /// Builds the tree. `units` in the order children are listed (the store reads them by
    /// name).
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
            tree.unit_members.entry(m.unit).or_default().push(m.principal);
        }
        for members in tree.unit_members.values_mut() {
            members.sort();
            members.dedup();
        }
        tree
    }

    pub fn unit(&self, id: Uuid) -> Option<&StoredUnit> {
        self.units.get(&id)
    }

    /// Every unit, archived ones included.
    pub fn units(&self) -> impl Iterator<Item = &StoredUnit> {
        self.units.values()
    }

    pub fn is_archived(&self, unit: Uuid) -> bool {
        self.units.get(&unit).is_some_and(|u| u.archived_at.is_some())
    }

    /// Units without a parent, by name.
    pub fn roots(&self) -> Vec<Uuid> {
        let mut roots: Vec<&StoredUnit> = self.units.values().filter(|u| u.parent.is_none()).collect();
        roots.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        roots.into_iter().map(|u| u.id).collect()
    }

    /// The units directly below `unit`, by name (archived ones included).
    pub fn children_of(&self, unit: Uuid) -> &[Uuid] {
        self.children.get(&unit).map(Vec::as_slice).unwrap_or_default()
    }

    /// The units `principal` is a member of, the primary one first.
    pub fn units_of(&self, principal: Uuid) -> &[Uuid] {
        self.members.get(&principal).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn primary_unit(&self, principal: Uuid) -> Option<Uuid> {
        self.primary.get(&principal).copied().or_else(|| self.units_of(principal).first().copied())
    }

    /// The members of `unit` (not of the units below it), sorted.
    pub fn members_of(&self, unit: Uuid) -> Vec<Uuid> {
        self.unit_members.get(&unit).cloned().unwrap_or_default()
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

    /// The units from the root down to `unit` (itself last).
    pub fn path(&self, unit: Uuid) -> Vec<Uuid> {
        let mut path = self.ancestors(unit);
        path.reverse();
        path.push(unit);
        path
    }

    /// Would making `parent` the parent of `unit` create a cycle?
    pub fn would_cycle(&self, unit: Uuid, parent: Uuid) -> bool {
        parent == unit || self.ancestors(parent).contains(&unit)
    }

    /// The manager of `unit`; a unit without one answers with the nearest manager above.
    pub fn manager_of(&self, unit: Uuid) -> Option<Uuid> {
        std::iter::once(unit).chain(self.ancestors(unit)).find_map(|u| self.units.get(&u).and_then(|u| u.manager))
    }

    /// The active units `principal` manages, the highest in the tree first (then by name).
    pub fn managed_by(&self, principal: Uuid) -> Vec<Uuid> {
        let mut managed: Vec<&StoredUnit> =
            self.units.values().filter(|u| u.manager == Some(principal) && u.archived_at.is_none()).collect();
        managed.sort_by(|a, b| {
            (self.ancestors(a.id).len(), &a.name, a.id).cmp(&(self.ancestors(b.id).len(), &b.name, b.id))
        });
        managed.into_iter().map(|u| u.id).collect()
    }

    /// Up to `levels` managers above `principal`, nearest first, starting at the manager of
    /// the principal's primary unit. A manager is never their own approver: when the
    /// principal manages their unit, the chain starts one unit up. Units without a manager
    /// are passed over, and repeated people are listed once. A manager who belongs to no
    /// unit (an admin set them as manager without adding them) starts from the highest unit
    /// they manage.
    pub fn manager_chain(&self, principal: Uuid, levels: usize) -> Vec<Uuid> {
        let start = self.primary_unit(principal).or_else(|| self.managed_by(principal).first().copied());
        let Some(unit) = start else { return Vec::new() };
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

    /// The active unit with code `name` (any case), or else the one named `name`.
    pub fn find_unit(&self, name: &str) -> UnitLookup {
        let name = name.trim();
        let active = || self.units.values().filter(|u| u.archived_at.is_none());
        if let Some(unit) = active().find(|u| u.code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(name))) {
            return UnitLookup::Found(unit.id);
        }
        let named: Vec<Uuid> = active().filter(|u| u.name == name).map(|u| u.id).collect();
        match named.as_slice() {
            [] => UnitLookup::Missing,
            [one] => UnitLookup::Found(*one),
            _ => UnitLookup::Ambiguous(named),
        }
    }

    /// The manager of the active unit named `name` or with code `name` (inherited from
    /// above when it has none); `None` when no unit or several match.
    pub fn head_of_unit_named(&self, name: &str) -> Option<Uuid> {
        match self.find_unit(name) {
            UnitLookup::Found(unit) => self.manager_of(unit),
            UnitLookup::Missing | UnitLookup::Ambiguous(_) => None,
        }
    }
}

/// The functions processes and rules use to find approvers. They read the in-memory tree,
/// so they cost no query; the tree is reloaded after every org change.
impl Workspace {
    /// The manager of `unit`, inherited from the nearest unit above when it has none.
    /// An unknown unit is `NotFound`.
    pub fn manager_of_unit(&self, unit: Uuid) -> Result<Option<Uuid>> {
        let directory = self.directory();
        if directory.org.unit(unit).is_none() {
            return Err(Error::NotFound(format!("org unit {unit}")));
        }
        Ok(directory.org.manager_of(unit))
    }

    /// Up to `levels` managers above `principal`, nearest first (never the principal
    /// themself, each person once), from their primary unit (or, for a manager in no unit,
    /// the highest unit they manage). Empty for anyone else in no unit.
    pub fn manager_chain(&self, principal: Uuid, levels: usize) -> Vec<Uuid> {
        self.directory().org.manager_chain(principal, levels)
    }

    /// The head of the active unit with code or name `name`: its manager, or the nearest
    /// one above. No such unit is `NotFound`; a name several units share (and no code
    /// matches) is a `Conflict` naming them, since guessing would route work to the wrong
    /// person.
    pub fn head_of_unit_named(&self, name: &str) -> Result<Option<Uuid>> {
        let directory = self.directory();
        let org = &directory.org;
        match org.find_unit(name) {
            UnitLookup::Found(unit) => Ok(org.manager_of(unit)),
            UnitLookup::Missing => Err(Error::NotFound(format!("org unit named `{}`", name.trim()))),
            UnitLookup::Ambiguous(units) => {
                let described: Vec<String> = units
                    .iter()
                    .filter_map(|id| org.unit(*id))
                    .map(|u| {
                        let path: Vec<String> =
                            org.path(u.id).iter().filter_map(|p| org.unit(*p)).map(|p| p.name.clone()).collect();
                        format!("{} ({})", path.join(" / "), u.id)
                    })
                    .collect();
                Err(Error::Conflict(format!(
                    "{} units are named `{}`: {}; give the unit a code and ask by code",
                    units.len(),
                    name.trim(),
                    described.join(", ")
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> time::OffsetDateTime {
        time::OffsetDateTime::UNIX_EPOCH
    }

    /// A unit named `name` under `parent`, managed by `manager`.
    fn unit(id: u128, name: &str, parent: Option<u128>, manager: Option<u128>) -> StoredUnit {
        StoredUnit {
            id: Uuid::from_u128(id),
            name: name.into(),
            code: None,
            parent: parent.map(Uuid::from_u128),
            manager: manager.map(Uuid::from_u128),
            created_at: at(),
            updated_at: at(),
            archived_at: None,
        }
    }

    fn member(unit: u128, principal: u128, primary: bool) -> Membership {
        Membership { unit: Uuid::from_u128(unit), principal: Uuid::from_u128(principal), primary }
    }

    fn ids(values: &[u128]) -> Vec<Uuid> {
        values.iter().map(|v| Uuid::from_u128(*v)).collect()
    }

    fn id(v: u128) -> Uuid {
        Uuid::from_u128(v)
    }

    // Units 1..: Company(1, CEO 100) > Finance(2, CFO 200) > Payables(3, no manager)
    //                                 > Sales(4, 400) > Sales East(5, 500), Sales West(6, none)
    //            Ops(7, no manager at all, a second root)
    // People 101.. belong to units; 500 manages Sales East and belongs to it.
    fn tree() -> OrgTree {
        let mut units = vec![
            unit(1, "Company", None, Some(100)),
            unit(2, "Finance", Some(1), Some(200)),
            unit(3, "Payables", Some(2), None),
            unit(4, "Sales", Some(1), Some(400)),
            unit(5, "Sales East", Some(4), Some(500)),
            unit(6, "Sales West", Some(4), None),
            unit(7, "Ops", None, None),
        ];
        units[1].code = Some("FIN".into());
        let memberships = vec![
            member(3, 101, true),
            member(5, 102, false),
            member(6, 102, true),
            member(5, 500, true),
            member(4, 400, true),
            member(7, 103, true),
            member(2, 200, true),
            member(1, 100, true),
            member(5, 104, false),
        ];
        OrgTree::new(units, memberships)
    }

    #[test]
    fn manager_is_inherited_from_the_nearest_unit_above() {
        let t = tree();
        assert_eq!(t.manager_of(id(5)), Some(id(500)), "own manager first");
        assert_eq!(t.manager_of(id(3)), Some(id(200)), "Payables has none: Finance's");
        assert_eq!(t.manager_of(id(6)), Some(id(400)), "Sales West has none: Sales'");
        assert_eq!(t.manager_of(id(7)), None, "no manager anywhere up");
        assert_eq!(t.manager_of(id(99)), None, "unknown unit");
    }

    #[test]
    fn manager_chain_climbs_skipping_self_and_units_without_managers() {
        let t = tree();
        // 101 in Payables (no manager) → Finance's CFO → Company's CEO.
        assert_eq!(t.manager_chain(id(101), 5), ids(&[200, 100]));
        assert_eq!(t.manager_chain(id(101), 1), ids(&[200]));
        assert_eq!(t.manager_chain(id(101), 0), ids(&[]));
        // 500 manages their own unit: the chain starts one unit up.
        assert_eq!(t.manager_chain(id(500), 3), ids(&[400, 100]));
        // 102's primary unit is Sales West (no manager), not Sales East.
        assert_eq!(t.manager_chain(id(102), 2), ids(&[400, 100]));
        // The CEO has nobody above.
        assert_eq!(t.manager_chain(id(100), 3), ids(&[]));
        // 400 manages Sales but belongs to no unit: the chain starts at Sales.
        let units: Vec<StoredUnit> = t.units().cloned().collect();
        let bare = OrgTree::new(units, vec![member(3, 101, true)]);
        assert_eq!(bare.managed_by(id(400)), ids(&[4]));
        assert_eq!(bare.manager_chain(id(400), 3), ids(&[100]));
        assert_eq!(bare.manager_chain(id(500), 3), ids(&[400, 100]), "from East, the unit 500 manages");
        // In a unit with no manager anywhere up, and in no unit at all.
        assert_eq!(t.manager_chain(id(103), 3), ids(&[]));
        assert_eq!(t.manager_chain(id(999), 3), ids(&[]));
    }

    #[test]
    fn manager_chain_lists_a_person_managing_several_levels_once() {
        let units = vec![
            unit(1, "Company", None, Some(100)),
            unit(2, "Division", Some(1), Some(100)),
            unit(3, "Team", Some(2), Some(300)),
            unit(4, "Squad", Some(3), Some(300)),
        ];
        let t = OrgTree::new(units, vec![member(4, 1, true)]);
        assert_eq!(t.manager_chain(id(1), 10), ids(&[300, 100]));
        assert_eq!(t.manager_chain(id(1), 2), ids(&[300, 100]));
        // A manager of Squad and Team asks for their own chain.
        let t = OrgTree::new(
            vec![
                unit(1, "Company", None, Some(100)),
                unit(3, "Team", Some(1), Some(300)),
                unit(4, "Squad", Some(3), Some(300)),
            ],
            vec![member(4, 300, true)],
        );
        assert_eq!(t.manager_chain(id(300), 2), ids(&[100]));
    }

    #[test]
    fn head_of_unit_by_code_or_name() {
        let mut t = tree();
        assert_eq!(t.head_of_unit_named("Finance"), Some(id(200)));
        assert_eq!(t.head_of_unit_named("fin"), Some(id(200)), "codes match in any case");
        assert_eq!(t.head_of_unit_named(" Payables "), Some(id(200)), "inherited, name trimmed");
        assert_eq!(t.head_of_unit_named("Ops"), None);
        assert_eq!(t.head_of_unit_named("Nowhere"), None);
        assert_eq!(t.find_unit("Nowhere"), UnitLookup::Missing);
        // Two active units with one name are ambiguous; archiving one resolves it.
        let mut units: Vec<StoredUnit> = t.units().cloned().collect();
        units.push(unit(8, "Payables", Some(4), Some(800)));
        t = OrgTree::new(units.clone(), vec![]);
        assert_eq!(t.find_unit("Payables"), UnitLookup::Ambiguous(ids(&[3, 8])));
        assert_eq!(t.head_of_unit_named("Payables"), None);
        units.last_mut().unwrap().archived_at = Some(at());
        t = OrgTree::new(units, vec![]);
        assert_eq!(t.head_of_unit_named("Payables"), Some(id(200)));
    }

    #[test]
    fn descendants_ancestors_and_cycles() {
        let t = tree();
        assert_eq!(t.with_descendants(&ids(&[4])), ids(&[4, 5, 6]));
        assert_eq!(t.with_descendants(&ids(&[1])), ids(&[1, 2, 3, 4, 5, 6]));
        assert_eq!(t.with_descendants(&ids(&[2, 3, 7])), ids(&[2, 3, 7]), "each once");
        assert_eq!(t.with_descendants(&[]), ids(&[]));
        assert_eq!(t.ancestors(id(5)), ids(&[4, 1]));
        assert_eq!(t.path(id(5)), ids(&[1, 4, 5]));
        assert!(t.would_cycle(id(4), id(4)), "own parent");
        assert!(t.would_cycle(id(4), id(5)), "under its own child");
        assert!(t.would_cycle(id(1), id(6)), "under a grandchild");
        assert!(!t.would_cycle(id(5), id(2)), "a sideways move");
        assert!(!t.would_cycle(id(7), id(3)));
        assert_eq!(t.roots(), ids(&[1, 7]));
        assert_eq!(t.children_of(id(4)), ids(&[5, 6]).as_slice());
    }

    #[test]
    fn memberships_primary_first() {
        let t = tree();
        assert_eq!(t.units_of(id(102)), ids(&[6, 5]).as_slice());
        assert_eq!(t.primary_unit(id(102)), Some(id(6)));
        assert_eq!(t.primary_unit(id(999)), None);
        assert_eq!(t.members_of(id(5)), ids(&[102, 104, 500]));
        assert_eq!(t.members_of(id(99)), ids(&[]));
        // Without a primary flag (never stored by the commands), the first unit counts.
        let t = OrgTree::new(vec![unit(1, "A", None, None)], vec![member(1, 5, false)]);
        assert_eq!(t.primary_unit(id(5)), Some(id(1)));
    }

    #[test]
    fn a_stored_cycle_does_not_hang_the_walks() {
        let t =
            OrgTree::new(vec![unit(1, "A", Some(2), None), unit(2, "B", Some(1), Some(9))], vec![member(1, 5, true)]);
        assert_eq!(t.ancestors(id(1)), ids(&[2]));
        assert_eq!(t.manager_of(id(1)), Some(id(9)));
        assert_eq!(t.manager_chain(id(5), 5), ids(&[9]));
        assert_eq!(t.with_descendants(&ids(&[1])), ids(&[1, 2]));
    }
}
