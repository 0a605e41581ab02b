//! Out-of-office delegation through the façade: date ranges, overlaps, revocation, who may
//! create and revoke, acting on behalf of someone within and outside the range, and the
//! audit trail. On SQLite and PostgreSQL.

use time::{Date, Duration};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::FieldErrorCode;
use weft_testkit::fixtures::{self, workspace};
use weft_testkit::people;
use weft_testkit::{TestBackend, TestDatabase, on_both_databases};
use weft_workspace::delegation::{DelegationStatus, NewDelegation, format_day, today};
use weft_workspace::{Error, Workspace};

on_both_databases!(
    a_delegation_is_listed_both_ways,
    acting_on_behalf_only_within_the_range,
    overlapping_delegations_to_different_delegates_are_refused,
    bad_delegations_are_refused_with_pointers,
    who_may_create_and_revoke,
    a_delegate_acts_for_the_delegator_on_records,
    every_change_is_audited,
);

struct Team {
    db: TestDatabase,
    ws: Workspace,
    admin: Principal,
    alice: Principal,
    bob: Principal,
    carol: Principal,
}

async fn team(backend: TestBackend) -> Team {
    let (db, ws) = workspace(backend).await;
    let admin = people::member(&ws, &["admin"]).await;
    let alice = people::member(&ws, &["employee"]).await;
    let bob = people::member(&ws, &["employee"]).await;
    let carol = people::member(&ws, &["employee"]).await;
    Team { db, ws, admin, alice, bob, carol }
}

fn day(offset: i64) -> Date {
    today() + Duration::days(offset)
}

fn new(to: &Principal, from: i64, until: i64) -> NewDelegation {
    NewDelegation {
        from: None,
        to: to.id,
        starts_on: format_day(day(from)),
        ends_on: format_day(day(until)),
        reason: "annual leave".into(),
    }
}

fn validation(err: Error) -> Vec<(String, FieldErrorCode)> {
    match err {
        Error::Validation(errors) => errors.into_iter().map(|e| (e.pointer, e.code)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

async fn a_delegation_is_listed_both_ways(backend: TestBackend) {
    let t = team(backend).await;
    let d = t.ws.create_delegation(&t.alice, new(&t.bob, 0, 3)).await.unwrap();
    assert_eq!((d.from, d.to, d.status), (t.alice.id, t.bob.id, DelegationStatus::Active));
    assert_eq!((d.starts_on.clone(), d.ends_on.clone()), (format_day(day(0)), format_day(day(3))));
    assert_eq!(d.created_by, t.alice.id.to_string());
    let later = t.ws.create_delegation(&t.alice, new(&t.carol, 10, 12)).await.unwrap();
    assert_eq!(later.status, DelegationStatus::Scheduled);

    let alice = t.ws.my_delegations(&t.alice).await.unwrap();
    assert_eq!(alice.given.iter().map(|d| d.id).collect::<Vec<_>>(), [d.id, later.id]);
    assert!(alice.received.is_empty());
    let bob = t.ws.my_delegations(&t.bob).await.unwrap();
    assert_eq!(bob.received.iter().map(|d| d.id).collect::<Vec<_>>(), [d.id]);
    assert!(bob.given.is_empty());

    assert_eq!(t.ws.all_delegations(&t.admin, None).await.unwrap().len(), 2);
    let today_only = t.ws.all_delegations(&t.admin, Some(&format_day(day(1)))).await.unwrap();
    assert_eq!(today_only.iter().map(|d| d.id).collect::<Vec<_>>(), [d.id]);
    assert!(matches!(t.ws.all_delegations(&t.alice, None).await, Err(Error::Forbidden(_))));
    let err = t.ws.all_delegations(&t.admin, Some("tomorrow")).await.unwrap_err();
    assert_eq!(validation(err), [("/active_on".into(), FieldErrorCode::InvalidFormat)]);

    assert_eq!(t.ws.delegates_of(t.alice.id, day(0)).await.unwrap(), [t.bob.id]);
    assert_eq!(t.ws.delegates_of(t.alice.id, day(11)).await.unwrap(), [t.carol.id]);
    assert!(t.ws.delegates_of(t.alice.id, day(5)).await.unwrap().is_empty());
    assert!(t.ws.delegates_of(t.bob.id, day(0)).await.unwrap().is_empty());
}

async fn acting_on_behalf_only_within_the_range(backend: TestBackend) {
    let t = team(backend).await;
    let now = t.ws.create_delegation(&t.alice, new(&t.bob, 0, 2)).await.unwrap();
    t.ws.create_delegation(&t.alice, new(&t.carol, 5, 6)).await.unwrap();

    let acting = t.ws.act_on_behalf(&t.bob, t.alice.id).await.unwrap();
    assert_eq!((acting.id, acting.on_behalf_of), (t.bob.id, Some(t.alice.id)));
    assert_eq!(acting.actor(), format!("{} for {}", t.bob.id, t.alice.id));
    // The last day counts; the day after does not.
    t.ws.act_on_behalf_on(&t.bob, t.alice.id, day(2)).await.unwrap();
    assert!(matches!(t.ws.act_on_behalf_on(&t.bob, t.alice.id, day(3)).await, Err(Error::Forbidden(_))));
    assert!(matches!(t.ws.act_on_behalf_on(&t.bob, t.alice.id, day(-1)).await, Err(Error::Forbidden(_))));
    // Carol's delegation has not started yet.
    let err = t.ws.act_on_behalf(&t.carol, t.alice.id).await.unwrap_err();
    assert!(matches!(&err, Error::Forbidden(m) if m.contains("no active delegation from")), "{err:?}");
    t.ws.act_on_behalf_on(&t.carol, t.alice.id, day(5)).await.unwrap();
    // Only the named delegate, only for the delegator, and not passed on.
    assert!(matches!(t.ws.act_on_behalf(&t.alice, t.bob.id).await, Err(Error::Forbidden(_))));
    assert!(matches!(t.ws.act_on_behalf(&t.admin, t.alice.id).await, Err(Error::Forbidden(_))));
    assert!(matches!(t.ws.act_on_behalf(&acting, t.alice.id).await, Err(Error::Forbidden(_))));

    t.ws.revoke_delegation(&t.alice, now.id).await.unwrap();
    assert!(matches!(t.ws.act_on_behalf(&t.bob, t.alice.id).await, Err(Error::Forbidden(_))), "revoked");
    assert!(t.ws.delegates_of(t.alice.id, day(0)).await.unwrap().is_empty());
}

async fn overlapping_delegations_to_different_delegates_are_refused(backend: TestBackend) {
    let t = team(backend).await;
    let first = t.ws.create_delegation(&t.alice, new(&t.bob, 1, 5)).await.unwrap();
    for (from, until) in [(3, 8), (0, 1), (5, 5), (0, 10), (2, 4)] {
        let err = t.ws.create_delegation(&t.alice, new(&t.carol, from, until)).await.unwrap_err();
        assert!(matches!(&err, Error::Conflict(m) if m.contains(&first.id.to_string())), "{from}..{until}: {err:?}");
    }
    // Adjacent ranges, the same delegate again, and other people's ranges are fine.
    t.ws.create_delegation(&t.alice, new(&t.carol, 6, 8)).await.unwrap();
    t.ws.create_delegation(&t.alice, new(&t.bob, 4, 5)).await.unwrap();
    t.ws.create_delegation(&t.bob, new(&t.carol, 1, 5)).await.unwrap();
    // Once revoked, a range no longer blocks.
    let second_bob =
        t.ws.my_delegations(&t.alice)
            .await
            .unwrap()
            .given
            .iter()
            .find(|d| d.starts_on == format_day(day(4)))
            .unwrap()
            .id;
    t.ws.revoke_delegation(&t.alice, first.id).await.unwrap();
    t.ws.revoke_delegation(&t.alice, second_bob).await.unwrap();
    t.ws.create_delegation(&t.alice, new(&t.carol, 1, 5)).await.unwrap();
    assert_eq!(t.ws.delegates_of(t.alice.id, day(3)).await.unwrap(), [t.carol.id]);
}

async fn bad_delegations_are_refused_with_pointers(backend: TestBackend) {
    let t = team(backend).await;
    let count = "SELECT COUNT(*) FROM delegations";
    let mut bad = new(&t.bob, 0, 1);
    bad.starts_on = "2026-02-30".into();
    bad.ends_on = "next week".into();
    let err = t.ws.create_delegation(&t.alice, bad).await.unwrap_err();
    assert_eq!(
        validation(err),
        [("/ends_on".into(), FieldErrorCode::InvalidFormat), ("/starts_on".into(), FieldErrorCode::InvalidFormat)]
    );
    let err = t.ws.create_delegation(&t.alice, new(&t.bob, 3, 2)).await.unwrap_err();
    assert_eq!(validation(err), [("/ends_on".into(), FieldErrorCode::OutOfRange)], "ends before it starts");
    let err = t.ws.create_delegation(&t.alice, new(&t.bob, -5, -1)).await.unwrap_err();
    assert_eq!(validation(err), [("/ends_on".into(), FieldErrorCode::OutOfRange)], "in the past");
    let err = t.ws.create_delegation(&t.alice, new(&t.alice, 0, 1)).await.unwrap_err();
    assert_eq!(validation(err), [("/to".into(), FieldErrorCode::InvalidFormat)], "to oneself");
    let mut no_reason = new(&t.bob, 0, 1);
    no_reason.reason = "  ".into();
    let err = t.ws.create_delegation(&t.alice, no_reason).await.unwrap_err();
    assert_eq!(validation(err), [("/reason".into(), FieldErrorCode::Required)]);
    let stranger = Principal::member(Uuid::now_v7());
    let err = t.ws.create_delegation(&t.alice, new(&stranger, 0, 1)).await.unwrap_err();
    assert_eq!(validation(err), [("/to".into(), FieldErrorCode::UnknownReference)], "unknown delegate");

    // The delegate must be an active member.
    let invited = people::member(&t.ws, &[]).await;
    t.db.execute(&format!("UPDATE principals SET status = 'invited' WHERE login = 'p-{}'", invited.id)).await;
    let guest = people::guest(&t.ws, Uuid::now_v7(), &["guest"]).await;
    for who in [&invited, &guest] {
        let err = t.ws.create_delegation(&t.alice, new(who, 0, 1)).await.unwrap_err();
        assert_eq!(validation(err), [("/to".into(), FieldErrorCode::UnknownReference)]);
    }
    // A guest cannot delegate at all.
    assert!(matches!(t.ws.create_delegation(&guest, new(&t.bob, 0, 1)).await, Err(Error::Forbidden(_))));
    assert_eq!(t.db.scalar(count).await, Some(0), "nothing was written");
}

async fn who_may_create_and_revoke(backend: TestBackend) {
    let t = team(backend).await;
    // Someone else's delegation: only an administrator.
    let mut for_alice = new(&t.carol, 0, 1);
    for_alice.from = Some(t.alice.id);
    assert!(matches!(t.ws.create_delegation(&t.bob, for_alice.clone()).await, Err(Error::Forbidden(_))));
    let by_admin = t.ws.create_delegation(&t.admin, for_alice).await.unwrap();
    assert_eq!((by_admin.from, by_admin.created_by.clone()), (t.alice.id, t.admin.id.to_string()));

    // Revoking: the delegate may not, a third person does not even see it, the delegator may.
    let err = t.ws.revoke_delegation(&t.carol, by_admin.id).await.unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    assert!(matches!(t.ws.revoke_delegation(&t.bob, by_admin.id).await, Err(Error::NotFound(_))));
    let revoked = t.ws.revoke_delegation(&t.alice, by_admin.id).await.unwrap();
    assert_eq!(revoked.status, DelegationStatus::Revoked);
    assert!(revoked.revoked_at.is_some());
    assert!(matches!(t.ws.revoke_delegation(&t.alice, by_admin.id).await, Err(Error::Conflict(_))), "twice");
    assert!(matches!(t.ws.revoke_delegation(&t.alice, Uuid::now_v7()).await, Err(Error::NotFound(_))));

    // An administrator revokes anyone's.
    let own = t.ws.create_delegation(&t.bob, new(&t.carol, 0, 1)).await.unwrap();
    t.ws.revoke_delegation(&t.admin, own.id).await.unwrap();
    let listed = t.ws.my_delegations(&t.bob).await.unwrap();
    assert_eq!(listed.given[0].status, DelegationStatus::Revoked, "revoked ones stay listed");
}

async fn a_delegate_acts_for_the_delegator_on_records(backend: TestBackend) {
    let t = team(backend).await;
    fixtures::declare(&t.ws, &[fixtures::vendor()]).await;
    t.ws.create_delegation(&t.alice, new(&t.bob, 0, 0)).await.unwrap();
    let acting = t.ws.act_on_behalf(&t.bob, t.alice.id).await.unwrap();
    let input = fixtures::object(serde_json::json!({ "code": "V1", "name": "Acme" }));
    let created = t.ws.create(&acting, "vendor", input, None).await.unwrap();
    let id = created.to_json()["id"].as_str().unwrap().to_owned();
    let actor = format!("{} for {}", t.bob.id, t.alice.id);
    let sql = format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'record.create' AND actor = '{actor}' AND target_id = '{id}'"
    );
    assert_eq!(t.db.scalar(&sql).await, Some(1), "the audit entry names both people");
}

async fn every_change_is_audited(backend: TestBackend) {
    let t = team(backend).await;
    let head = fixtures::outbox_head(&t.ws).await;
    let d = t.ws.create_delegation(&t.alice, new(&t.bob, 0, 1)).await.unwrap();
    t.ws.revoke_delegation(&t.admin, d.id).await.unwrap();
    let rows = |action: &str, actor: Uuid| {
        format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND actor = '{actor}' \
             AND target_type = 'delegation' AND target_id = '{}'",
            d.id
        )
    };
    assert_eq!(t.db.scalar(&rows("delegation.create", t.alice.id)).await, Some(1));
    assert_eq!(t.db.scalar(&rows("delegation.revoke", t.admin.id)).await, Some(1));
    assert!(matches!(t.ws.verify_audit().await.unwrap(), weft_store::kernel::audit::AuditVerdict::Intact { .. }));
    let events: Vec<String> = fixtures::outbox_after(&t.ws, head)
        .await
        .into_iter()
        .filter(|(k, _)| k == "delegation.changed")
        .map(|(_, p)| p["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(events, ["delegation.create", "delegation.revoke"]);
}
