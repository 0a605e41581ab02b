//! Administering org units through the façade: the tree, moves (never a cycle), managers,
//! memberships with exactly one primary unit, archive rules, the approver functions
//! processes use (manager of a unit, manager chain, head of a unit), who may do what, and
//! the audit trail each change leaves. On SQLite and PostgreSQL.

use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::FieldErrorCode;
use weft_testkit::fixtures::workspace;
use weft_testkit::people;
use weft_testkit::{TestBackend, TestDatabase, on_both_databases};
use weft_workspace::org_admin::{NewUnit, UnitNode};
use weft_workspace::{Error, Workspace};

on_both_databases!(
    units_form_a_tree,
    bad_unit_input_is_refused_with_pointers_and_writes_nothing,
    moves_never_make_a_cycle,
    managers_must_be_active_members,
    manager_inheritance_chain_and_head_of_unit,
    every_principal_has_exactly_one_primary_unit,
    members_move_between_units,
    archive_only_empty_units_and_restore_them,
    only_administrators_change_the_tree,
    every_change_is_audited_and_announced,
);

struct Org {
    db: TestDatabase,
    ws: Workspace,
    admin: Principal,
}

async fn org(backend: TestBackend) -> Org {
    let (db, ws) = workspace(backend).await;
    let admin = people::member(&ws, &["admin"]).await;
    Org { db, ws, admin }
}

impl Org {
    async fn unit(&self, name: &str, code: Option<&str>, parent: Option<Uuid>) -> Uuid {
        let input = NewUnit { name: name.into(), code: code.map(Into::into), parent, manager: None };
        self.ws.create_unit(&self.admin, input).await.unwrap_or_else(|e| panic!("create {name}: {e}")).id
    }

    async fn person(&self) -> Principal {
        people::member(&self.ws, &["employee"]).await
    }

    /// Sets a principal's column straight in the table (status, kind).
    async fn set_principal(&self, who: &Principal, column: &str, value: &str) {
        let n =
            self.db.execute(&format!("UPDATE principals SET {column} = '{value}' WHERE login = 'p-{}'", who.id)).await;
        assert_eq!(n, 1);
    }

    async fn count(&self, sql: &str) -> i64 {
        self.db.scalar(sql).await.unwrap_or(0)
    }
}

/// `(pointer, code)` of a validation error.
fn validation(err: Error) -> Vec<(String, FieldErrorCode)> {
    match err {
        Error::Validation(errors) => errors.into_iter().map(|e| (e.pointer, e.code)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn one(pointer: &str, code: FieldErrorCode) -> Vec<(String, FieldErrorCode)> {
    vec![(pointer.to_owned(), code)]
}

/// `name[children…]` of a tree, for comparing shapes.
fn shape(nodes: &[UnitNode]) -> String {
    nodes
        .iter()
        .map(|n| {
            if n.children.is_empty() { n.unit.name.clone() } else { format!("{}[{}]", n.unit.name, shape(&n.children)) }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn units_form_a_tree(backend: TestBackend) {
    let o = org(backend).await;
    let company = o.unit("Company", Some("HQ"), None).await;
    let sales = o.unit("Sales", Some("SAL"), Some(company)).await;
    let finance = o.unit("Finance", Some("FIN"), Some(company)).await;
    let payables = o.unit("Payables", None, Some(finance)).await;
    o.unit("Sales East", None, Some(sales)).await;
    o.unit("Advisory board", None, None).await;

    let tree = o.ws.org_tree(&o.admin, false).unwrap();
    assert_eq!(shape(&tree), "Advisory board, Company[Finance[Payables], Sales[Sales East]]", "children by name");

    let detail = o.ws.unit_detail(&o.admin, payables).await.unwrap();
    assert_eq!(detail.unit.parent, Some(finance));
    let path: Vec<&str> = detail.path.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(path, ["Company", "Finance"]);
    assert!(detail.children.is_empty() && detail.members.is_empty());

    let company_detail = o.ws.unit_detail(&o.admin, company).await.unwrap();
    let children: Vec<&str> = company_detail.children.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(children, ["Finance", "Sales"]);
    assert_eq!(company_detail.unit.code.as_deref(), Some("HQ"));

    // Members read the org chart too; a guest does not.
    let member = o.person().await;
    assert_eq!(o.ws.org_tree(&member, false).unwrap().len(), 2);
    let guest = people::guest(&o.ws, Uuid::now_v7(), &["guest"]).await;
    assert!(matches!(o.ws.org_tree(&guest, false), Err(Error::Forbidden(_))));
    assert!(matches!(o.ws.unit_detail(&guest, company).await, Err(Error::Forbidden(_))));
    assert!(matches!(o.ws.unit_detail(&o.admin, Uuid::now_v7()).await, Err(Error::NotFound(_))));

    // Renaming and recoding; the old code is free again.
    let renamed =
        o.ws.rename_unit(&o.admin, sales, Some(" Sales & Marketing ".into()), Some(Some("S-M".into()))).await.unwrap();
    assert_eq!((renamed.name.as_str(), renamed.code.as_deref()), ("Sales & Marketing", Some("S-M")));
    o.unit("Sales", Some("SAL"), Some(company)).await;
    let cleared = o.ws.rename_unit(&o.admin, sales, None, Some(None)).await.unwrap();
    assert_eq!((cleared.name.as_str(), cleared.code), ("Sales & Marketing", None));
}

async fn bad_unit_input_is_refused_with_pointers_and_writes_nothing(backend: TestBackend) {
    let o = org(backend).await;
    let company = o.unit("Company", Some("HQ"), None).await;
    let finance = o.unit("Finance", Some("FIN"), Some(company)).await;
    let units_before = o.count("SELECT COUNT(*) FROM org_units").await;
    let audit_before = o.count("SELECT COUNT(*) FROM audit_log").await;

    let new = |name: &str, code: Option<&str>, parent: Option<Uuid>| NewUnit {
        name: name.into(),
        code: code.map(Into::into),
        parent,
        manager: None,
    };
    let err = o.ws.create_unit(&o.admin, new("Ops", None, Some(Uuid::now_v7()))).await.unwrap_err();
    assert_eq!(validation(err), one("/parent", FieldErrorCode::UnknownReference), "unknown parent");
    let err = o.ws.create_unit(&o.admin, new("  ", Some("bad code!"), None)).await.unwrap_err();
    assert_eq!(
        validation(err),
        [("/code".into(), FieldErrorCode::InvalidFormat), ("/name".into(), FieldErrorCode::Required)],
        "every bad field at once"
    );
    let err = o.ws.create_unit(&o.admin, new("Finance 2", Some("fin"), Some(company))).await.unwrap_err();
    assert!(matches!(&err, Error::Unique { fields } if fields == &["code"]), "codes are unique in any case: {err:?}");
    let err = o.ws.create_unit(&o.admin, new("finance", None, Some(company))).await.unwrap_err();
    assert!(matches!(&err, Error::Unique { fields } if fields == &["name"]), "sibling names are unique: {err:?}");
    let mut with_manager = new("Ops", None, None);
    with_manager.manager = Some(Uuid::now_v7());
    let err = o.ws.create_unit(&o.admin, with_manager).await.unwrap_err();
    assert_eq!(validation(err), one("/manager", FieldErrorCode::UnknownReference));
    let err = o.ws.rename_unit(&o.admin, finance, None, Some(Some("HQ".into()))).await.unwrap_err();
    assert!(matches!(&err, Error::Unique { fields } if fields == &["code"]), "{err:?}");
    let err = o.ws.rename_unit(&o.admin, Uuid::now_v7(), Some("X".into()), None).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)));

    assert_eq!(o.count("SELECT COUNT(*) FROM org_units").await, units_before, "nothing was written");
    assert_eq!(o.count("SELECT COUNT(*) FROM audit_log").await, audit_before, "nor audited");

    // A name of the same spelling under another parent is fine.
    o.unit("Finance", None, None).await;
}

async fn moves_never_make_a_cycle(backend: TestBackend) {
    let o = org(backend).await;
    let company = o.unit("Company", None, None).await;
    let finance = o.unit("Finance", None, Some(company)).await;
    let payables = o.unit("Payables", None, Some(finance)).await;
    let sales = o.unit("Sales", None, Some(company)).await;

    for (unit, parent) in [(company, payables), (company, finance), (finance, finance), (finance, payables)] {
        let err = o.ws.move_unit(&o.admin, unit, Some(parent)).await.unwrap_err();
        assert!(matches!(&err, Error::Conflict(m) if m.contains("sub-tree") || m.contains("own parent")), "{err:?}");
    }
    let err = o.ws.move_unit(&o.admin, finance, Some(Uuid::now_v7())).await.unwrap_err();
    assert_eq!(validation(err), one("/parent", FieldErrorCode::UnknownReference));

    // Sideways and to the top are fine; the sub-tree moves along.
    let moved = o.ws.move_unit(&o.admin, payables, Some(sales)).await.unwrap();
    assert_eq!(moved.parent, Some(sales));
    o.ws.move_unit(&o.admin, finance, None).await.unwrap();
    let tree = o.ws.org_tree(&o.admin, false).unwrap();
    assert_eq!(shape(&tree), "Company[Sales[Payables]], Finance");
    // Now Company may go under Finance, which is no longer below it.
    o.ws.move_unit(&o.admin, company, Some(finance)).await.unwrap();
    assert_eq!(shape(&o.ws.org_tree(&o.admin, false).unwrap()), "Finance[Company[Sales[Payables]]]");
    // A move that would give a unit a sibling of the same name is refused.
    let other = o.unit("Payables", None, Some(company)).await;
    let err = o.ws.move_unit(&o.admin, other, Some(sales)).await.unwrap_err();
    assert!(matches!(&err, Error::Unique { fields } if fields == &["name"]), "{err:?}");
}

async fn managers_must_be_active_members(backend: TestBackend) {
    let o = org(backend).await;
    let unit = o.unit("Finance", None, None).await;
    let boss = o.person().await;
    let view = o.ws.set_unit_manager(&o.admin, unit, Some(boss.id)).await.unwrap();
    assert_eq!((view.manager, view.effective_manager), (Some(boss.id), Some(boss.id)));

    let invited = o.person().await;
    o.set_principal(&invited, "status", "invited").await;
    let disabled = o.person().await;
    o.set_principal(&disabled, "status", "disabled").await;
    let service = o.person().await;
    o.set_principal(&service, "kind", "service").await;
    let guest = people::guest(&o.ws, Uuid::now_v7(), &["guest"]).await;
    for who in [invited.id, disabled.id, service.id, guest.id, Uuid::now_v7()] {
        let err = o.ws.set_unit_manager(&o.admin, unit, Some(who)).await.unwrap_err();
        assert_eq!(validation(err), one("/manager", FieldErrorCode::UnknownReference), "{who}");
    }
    assert_eq!(o.ws.manager_of_unit(unit).unwrap(), Some(boss.id), "unchanged");
    let cleared = o.ws.set_unit_manager(&o.admin, unit, None).await.unwrap();
    assert_eq!(cleared.manager, None);
    assert!(matches!(o.ws.manager_of_unit(Uuid::now_v7()), Err(Error::NotFound(_))));
}

async fn manager_inheritance_chain_and_head_of_unit(backend: TestBackend) {
    let o = org(backend).await;
    let ceo = o.person().await;
    let cfo = o.person().await;
    let sales_head = o.person().await;
    let east_lead = o.person().await;
    let clerk = o.person().await;
    let seller = o.person().await;

    let company = o.unit("Company", Some("HQ"), None).await;
    let finance = o.unit("Finance", Some("FIN"), Some(company)).await;
    let payables = o.unit("Payables", None, Some(finance)).await;
    let sales = o.unit("Sales", None, Some(company)).await;
    let east = o.unit("East", None, Some(sales)).await;
    for (unit, manager) in [(company, &ceo), (finance, &cfo), (sales, &sales_head), (east, &east_lead)] {
        o.ws.set_unit_manager(&o.admin, unit, Some(manager.id)).await.unwrap();
    }
    o.ws.add_unit_member(&o.admin, payables, clerk.id, false).await.unwrap();
    o.ws.add_unit_member(&o.admin, east, seller.id, false).await.unwrap();
    o.ws.add_unit_member(&o.admin, east, east_lead.id, false).await.unwrap();
    o.ws.add_unit_member(&o.admin, company, ceo.id, false).await.unwrap();

    assert_eq!(o.ws.manager_of_unit(payables).unwrap(), Some(cfo.id), "inherited from Finance");
    assert_eq!(o.ws.manager_of_unit(east).unwrap(), Some(east_lead.id));
    assert_eq!(o.ws.manager_chain(clerk.id, 5), [cfo.id, ceo.id]);
    assert_eq!(o.ws.manager_chain(clerk.id, 1), [cfo.id]);
    assert_eq!(o.ws.manager_chain(seller.id, 2), [east_lead.id, sales_head.id]);
    assert_eq!(o.ws.manager_chain(east_lead.id, 5), [sales_head.id, ceo.id], "never their own approver");
    assert!(o.ws.manager_chain(ceo.id, 5).is_empty());
    assert!(o.ws.manager_chain(Uuid::now_v7(), 5).is_empty(), "in no unit");

    assert_eq!(o.ws.head_of_unit_named("Finance").unwrap(), Some(cfo.id));
    assert_eq!(o.ws.head_of_unit_named("fin").unwrap(), Some(cfo.id), "by code, any case");
    assert_eq!(o.ws.head_of_unit_named("Payables").unwrap(), Some(cfo.id), "inherited");
    assert!(matches!(o.ws.head_of_unit_named("Legal"), Err(Error::NotFound(_))));
    // A name two units share is ambiguous; the code still answers.
    let east_finance = o.unit("Finance", Some("FIN-E"), Some(east)).await;
    let err = o.ws.head_of_unit_named("Finance").unwrap_err();
    assert!(matches!(&err, Error::Conflict(m) if m.contains("2 units") && m.contains("Company / Finance")), "{err}");
    assert_eq!(o.ws.head_of_unit_named("FIN-E").unwrap(), Some(east_lead.id));

    // The manager changes: the chain follows at once.
    o.ws.set_unit_manager(&o.admin, finance, None).await.unwrap();
    assert_eq!(o.ws.manager_chain(clerk.id, 5), [ceo.id]);
    o.ws.set_unit_manager(&o.admin, east_finance, Some(cfo.id)).await.unwrap();
    assert_eq!(o.ws.head_of_unit_named("FIN-E").unwrap(), Some(cfo.id));
}

async fn every_principal_has_exactly_one_primary_unit(backend: TestBackend) {
    let o = org(backend).await;
    let a = o.unit("Alpha", None, None).await;
    let b = o.unit("Beta", None, None).await;
    let c = o.unit("Gamma", None, None).await;
    let p = o.person().await;
    let primaries = format!(
        "SELECT COUNT(*) FROM unit_members m JOIN principals p ON p.id = m.principal_id \
         WHERE p.login = 'p-{}' AND m.is_primary = {}",
        p.id,
        if backend == TestBackend::Sqlite { "1" } else { "TRUE" }
    );

    let mine = o.ws.add_unit_member(&o.admin, b, p.id, false).await.unwrap();
    assert_eq!(mine.primary_unit, Some(b), "the first unit becomes primary");
    let mine = o.ws.add_unit_member(&o.admin, a, p.id, false).await.unwrap();
    assert_eq!(mine.primary_unit, Some(b), "a second one does not");
    let mine = o.ws.add_unit_member(&o.admin, c, p.id, true).await.unwrap();
    assert_eq!(mine.primary_unit, Some(c), "unless asked");
    assert_eq!(o.count(&primaries).await, 1);
    let names: Vec<(&str, bool)> = mine.units.iter().map(|u| (u.unit.name.as_str(), u.primary)).collect();
    assert_eq!(names, [("Gamma", true), ("Alpha", false), ("Beta", false)], "primary first, then by name");
    assert_eq!(o.ws.primary_unit(&p), Some(c));

    // Records the principal creates belong to the primary unit.
    let mine = o.ws.set_primary_unit(&o.admin, p.id, a).await.unwrap();
    assert_eq!(mine.primary_unit, Some(a));
    assert_eq!(o.count(&primaries).await, 1);
    assert_eq!(o.ws.primary_unit(&p), Some(a));

    // Removing the primary membership promotes the remaining unit first by name.
    let mine = o.ws.remove_unit_member(&o.admin, a, p.id).await.unwrap();
    assert_eq!(mine.primary_unit, Some(b), "Beta before Gamma");
    assert_eq!(o.count(&primaries).await, 1);
    let mine = o.ws.remove_unit_member(&o.admin, c, p.id).await.unwrap();
    assert_eq!(mine.primary_unit, Some(b), "removing a secondary keeps the primary");
    let mine = o.ws.remove_unit_member(&o.admin, b, p.id).await.unwrap();
    assert_eq!((mine.primary_unit, mine.units.len()), (None, 0));

    // Refusals.
    o.ws.add_unit_member(&o.admin, a, p.id, false).await.unwrap();
    assert!(matches!(o.ws.add_unit_member(&o.admin, a, p.id, true).await, Err(Error::Conflict(_))), "twice");
    let err = o.ws.set_primary_unit(&o.admin, p.id, b).await.unwrap_err();
    assert_eq!(validation(err), one("/unit", FieldErrorCode::UnknownReference), "not a member of Beta");
    assert!(matches!(o.ws.remove_unit_member(&o.admin, b, p.id).await, Err(Error::NotFound(_))));
    assert!(matches!(o.ws.add_unit_member(&o.admin, Uuid::now_v7(), p.id, false).await, Err(Error::NotFound(_))));
    let guest = people::guest(&o.ws, Uuid::now_v7(), &["guest"]).await;
    let err = o.ws.add_unit_member(&o.admin, a, guest.id, false).await.unwrap_err();
    assert_eq!(validation(err), one("/principal", FieldErrorCode::UnknownReference), "guests are not in units");
    let gone = o.person().await;
    o.set_principal(&gone, "status", "disabled").await;
    let err = o.ws.add_unit_member(&o.admin, a, gone.id, false).await.unwrap_err();
    assert_eq!(validation(err), one("/principal", FieldErrorCode::UnknownReference));
    let invited = o.person().await;
    o.set_principal(&invited, "status", "invited").await;
    o.ws.add_unit_member(&o.admin, a, invited.id, false).await.expect("an invited member can be placed");

    let detail = o.ws.unit_detail(&o.admin, a).await.unwrap();
    let members: Vec<(Uuid, bool)> = detail.members.iter().map(|m| (m.principal, m.primary)).collect();
    assert_eq!(members.len(), 2);
    assert!(members.contains(&(p.id, true)) && members.contains(&(invited.id, true)));
    assert!(detail.members.iter().all(|m| m.display_name.as_deref().is_some_and(|n| n.starts_with("Person "))));
    assert_eq!(detail.unit.member_count, 2);
}

async fn members_move_between_units(backend: TestBackend) {
    let o = org(backend).await;
    let a = o.unit("Alpha", None, None).await;
    let b = o.unit("Beta", None, None).await;
    let c = o.unit("Gamma", None, None).await;
    let p = o.person().await;
    o.ws.add_unit_member(&o.admin, a, p.id, false).await.unwrap();
    o.ws.add_unit_member(&o.admin, c, p.id, false).await.unwrap();

    // The primary membership moves and stays primary.
    let mine = o.ws.transfer_unit_member(&o.admin, p.id, a, b).await.unwrap();
    assert_eq!(mine.primary_unit, Some(b));
    let units: Vec<Uuid> = mine.units.iter().map(|u| u.unit.id).collect();
    assert_eq!(units, [b, c]);
    assert!(o.ws.directory().org.members_of(a).is_empty());
    // A secondary one moves into a unit they already belong to: it merges.
    let mine = o.ws.transfer_unit_member(&o.admin, p.id, c, b).await.unwrap();
    assert_eq!((mine.primary_unit, mine.units.len()), (Some(b), 1));

    let err = o.ws.transfer_unit_member(&o.admin, p.id, a, c).await.unwrap_err();
    assert_eq!(validation(err), one("/from", FieldErrorCode::UnknownReference), "not in Alpha any more");
    let err = o.ws.transfer_unit_member(&o.admin, p.id, b, Uuid::now_v7()).await.unwrap_err();
    assert_eq!(validation(err), one("/to", FieldErrorCode::UnknownReference));
    let err = o.ws.transfer_unit_member(&o.admin, p.id, b, b).await.unwrap_err();
    assert_eq!(validation(err), one("/to", FieldErrorCode::InvalidFormat));
    o.ws.archive_unit(&o.admin, a).await.unwrap();
    let err = o.ws.transfer_unit_member(&o.admin, p.id, b, a).await.unwrap_err();
    assert_eq!(validation(err), one("/to", FieldErrorCode::UnknownReference), "archived");
    assert_eq!(o.ws.primary_unit(&p), Some(b), "a refused move changes nothing");
}

async fn archive_only_empty_units_and_restore_them(backend: TestBackend) {
    let o = org(backend).await;
    let company = o.unit("Company", None, None).await;
    let old = o.unit("Old team", Some("OLD"), Some(company)).await;
    let sub = o.unit("Old sub-team", None, Some(old)).await;
    let p = o.person().await;
    o.ws.add_unit_member(&o.admin, old, p.id, false).await.unwrap();

    let err = o.ws.archive_unit(&o.admin, old).await.unwrap_err();
    assert!(matches!(&err, Error::Conflict(m) if m.contains("Old sub-team")), "active children: {err:?}");
    o.ws.archive_unit(&o.admin, sub).await.unwrap();
    let err = o.ws.archive_unit(&o.admin, old).await.unwrap_err();
    assert!(matches!(&err, Error::Conflict(m) if m.contains("1 member")), "members: {err:?}");
    o.ws.remove_unit_member(&o.admin, old, p.id).await.unwrap();
    let archived = o.ws.archive_unit(&o.admin, old).await.unwrap();
    assert!(archived.archived && archived.archived_at.is_some());
    assert!(matches!(o.ws.archive_unit(&o.admin, old).await, Err(Error::Conflict(_))), "twice");

    // Archived units are hidden from the tree unless asked for, and read-only.
    assert_eq!(shape(&o.ws.org_tree(&o.admin, false).unwrap()), "Company");
    assert_eq!(shape(&o.ws.org_tree(&o.admin, true).unwrap()), "Company[Old team[Old sub-team]]");
    assert!(matches!(o.ws.rename_unit(&o.admin, old, Some("New".into()), None).await, Err(Error::Conflict(_))));
    assert!(matches!(o.ws.add_unit_member(&o.admin, old, p.id, false).await, Err(Error::Conflict(_))));
    assert!(matches!(o.ws.set_unit_manager(&o.admin, old, Some(p.id)).await, Err(Error::Conflict(_))));
    assert!(matches!(o.ws.move_unit(&o.admin, old, None).await, Err(Error::Conflict(_))));
    let under_archived = NewUnit { name: "X".into(), parent: Some(old), ..NewUnit::default() };
    let err = o.ws.create_unit(&o.admin, under_archived).await.unwrap_err();
    assert_eq!(validation(err), one("/parent", FieldErrorCode::UnknownReference));
    assert!(matches!(o.ws.head_of_unit_named("OLD"), Err(Error::NotFound(_))), "archived units are not looked up");
    // Its code stays taken, so it can come back as it was.
    let taken = NewUnit { name: "Y".into(), code: Some("old".into()), ..NewUnit::default() };
    assert!(matches!(o.ws.create_unit(&o.admin, taken).await, Err(Error::Unique { .. })));

    // Restoring needs an active parent.
    let err = o.ws.restore_unit(&o.admin, sub).await.unwrap_err();
    assert!(matches!(&err, Error::Conflict(m) if m.contains("Old team")), "{err:?}");
    assert!(!o.ws.restore_unit(&o.admin, old).await.unwrap().archived);
    assert!(!o.ws.restore_unit(&o.admin, sub).await.unwrap().archived);
    assert!(matches!(o.ws.restore_unit(&o.admin, sub).await, Err(Error::Conflict(_))), "not archived");
    assert_eq!(shape(&o.ws.org_tree(&o.admin, false).unwrap()), "Company[Old team[Old sub-team]]");
}

async fn only_administrators_change_the_tree(backend: TestBackend) {
    let o = org(backend).await;
    let unit = o.unit("Finance", None, None).await;
    let employee = o.person().await;
    let nobody = Principal::member(Uuid::now_v7());
    let guest = people::guest(&o.ws, Uuid::now_v7(), &["guest"]).await;
    let units_before = o.count("SELECT COUNT(*) FROM org_units").await;
    let audit_before = o.count("SELECT COUNT(*) FROM audit_log").await;
    for who in [&employee, &nobody, &guest] {
        let forbidden = |r: Result<_, Error>| matches!(r, Err(Error::Forbidden(_)));
        let new = NewUnit { name: "Shadow".into(), ..NewUnit::default() };
        assert!(forbidden(o.ws.create_unit(who, new).await.map(|_| ())));
        assert!(forbidden(o.ws.rename_unit(who, unit, Some("X".into()), None).await.map(|_| ())));
        assert!(forbidden(o.ws.move_unit(who, unit, None).await.map(|_| ())));
        assert!(forbidden(o.ws.set_unit_manager(who, unit, Some(employee.id)).await.map(|_| ())));
        assert!(forbidden(o.ws.archive_unit(who, unit).await.map(|_| ())));
        assert!(forbidden(o.ws.restore_unit(who, unit).await.map(|_| ())));
        assert!(forbidden(o.ws.add_unit_member(who, unit, employee.id, true).await.map(|_| ())));
        assert!(forbidden(o.ws.remove_unit_member(who, unit, employee.id).await.map(|_| ())));
        assert!(forbidden(o.ws.set_primary_unit(who, employee.id, unit).await.map(|_| ())));
        assert!(forbidden(o.ws.transfer_unit_member(who, employee.id, unit, unit).await.map(|_| ())));
    }
    assert_eq!(o.count("SELECT COUNT(*) FROM org_units").await, units_before);
    assert_eq!(o.count("SELECT COUNT(*) FROM audit_log").await, audit_before);
    assert_eq!(o.ws.unit_detail(&o.admin, unit).await.unwrap().unit.name, "Finance");
    // The system principal (engines, migrations) is an administrator.
    o.ws.rename_unit(&Principal::system(), unit, Some("Finance & Tax".into()), None).await.unwrap();
}

async fn every_change_is_audited_and_announced(backend: TestBackend) {
    let o = org(backend).await;
    let p = o.person().await;
    let head = weft_testkit::fixtures::outbox_head(&o.ws).await;
    let company = o.unit("Company", None, None).await;
    let team = o.unit("Team", None, None).await;
    o.ws.rename_unit(&o.admin, team, Some("Squad".into()), Some(Some("SQ".into()))).await.unwrap();
    o.ws.move_unit(&o.admin, team, Some(company)).await.unwrap();
    o.ws.set_unit_manager(&o.admin, team, Some(p.id)).await.unwrap();
    o.ws.add_unit_member(&o.admin, team, p.id, false).await.unwrap();
    o.ws.add_unit_member(&o.admin, company, p.id, true).await.unwrap();
    o.ws.set_primary_unit(&o.admin, p.id, team).await.unwrap();
    o.ws.transfer_unit_member(&o.admin, p.id, team, company).await.unwrap();
    o.ws.remove_unit_member(&o.admin, company, p.id).await.unwrap();
    o.ws.archive_unit(&o.admin, team).await.unwrap();
    o.ws.restore_unit(&o.admin, team).await.unwrap();
    // A change that changes nothing is not recorded.
    o.ws.move_unit(&o.admin, team, Some(company)).await.unwrap();

    let actions = [
        ("org_unit.create", 2),
        ("org_unit.rename", 1),
        ("org_unit.move", 1),
        ("org_unit.set_manager", 1),
        ("org_unit.add_member", 2),
        ("org_unit.set_primary", 1),
        ("org_unit.transfer_member", 1),
        ("org_unit.remove_member", 1),
        ("org_unit.archive", 1),
        ("org_unit.restore", 1),
    ];
    for (action, expected) in actions {
        let sql = format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND actor = '{}'", o.admin.id);
        assert_eq!(o.count(&sql).await, expected, "{action}");
    }
    let detail_sql = "SELECT COUNT(*) FROM audit_log WHERE action = 'org_unit.move' AND target_type = 'org_unit'";
    assert_eq!(o.count(detail_sql).await, 1);
    assert!(matches!(o.ws.verify_audit().await.unwrap(), weft_store::kernel::audit::AuditVerdict::Intact { .. }));

    let events = weft_testkit::fixtures::outbox_after(&o.ws, head).await;
    let org_events: Vec<&str> =
        events.iter().filter(|(k, _)| k == "org.changed").map(|(_, p)| p["action"].as_str().unwrap()).collect();
    assert_eq!(org_events.len(), 12);
    assert_eq!(org_events[0], "org_unit.create");
    assert_eq!(org_events[11], "org_unit.restore");
}
