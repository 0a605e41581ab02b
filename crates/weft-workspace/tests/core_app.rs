//! The core app: parties with contacts, addresses, identifiers and relationships, declared
//! as data (`apps/core.json`) and used through the ordinary records API. On SQLite and
//! PostgreSQL.

use serde_json::{Value, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::FieldErrorCode;
use weft_testkit::fixtures::{object, workspace};
use weft_testkit::people;
use weft_testkit::{TestBackend, TestDatabase, on_both_databases};
use weft_workspace::{Created, CreatedWithOutcome, Error, ListQuery, RecordView, Workspace};

on_both_databases!(
    core_app_installs_once_and_then_is_unchanged,
    parties_with_contacts_addresses_and_relationships,
    bad_party_input_is_refused_field_by_field,
    blocking_a_party_keeps_the_reason_and_unblocking_clears_it,
    purging_a_party_takes_its_contacts_addresses_and_relationships,
    a_party_is_created_with_its_addresses_and_contacts_or_not_at_all,
    concurrent_creates_with_dependents_each_get_their_own_records_or_error,
);

struct Core {
    db: TestDatabase,
    ws: Workspace,
    staff: Principal,
}

async fn core(backend: TestBackend) -> Core {
    let (db, ws) = workspace(backend).await;
    ws.install_builtin_apps().await.expect("the core app installs");
    let staff = people::member(&ws, &["employee"]).await;
    Core { db, ws, staff }
}

impl Core {
    async fn create(&self, type_name: &str, input: Value) -> RecordView {
        match self.ws.create(&self.staff, type_name, object(input), None).await {
            Ok(Created::Fresh(view)) => *view,
            Ok(Created::Replayed(_)) => unreachable!(),
            Err(e) => panic!("create {type_name}: {e}"),
        }
    }

    async fn party(&self, name: &str, roles: &[&str]) -> RecordView {
        self.create("party", json!({ "name": name, "roles": roles })).await
    }
}

fn json_of(view: &RecordView) -> Value {
    view.to_json()
}

fn validation(err: Error) -> Vec<(String, FieldErrorCode)> {
    match err {
        Error::Validation(errors) => errors.into_iter().map(|e| (e.pointer, e.code)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

async fn core_app_installs_once_and_then_is_unchanged(backend: TestBackend) {
    let (db, ws) = workspace(backend).await;
    let plans = ws.install_builtin_apps().await.unwrap();
    // The core app comes first; the business apps (procurement) follow it.
    let created: Vec<(&str, &str)> = plans.iter().take(4).map(|p| (p.type_name.as_str(), p.action)).collect();
    assert_eq!(
        created,
        [
            ("party", "create"),
            ("party_contact", "create"),
            ("party_address", "create"),
            ("party_relationship", "create")
        ]
    );
    let core_types: Vec<String> =
        ws.types().into_iter().filter(|(_, app, _)| app == "core").map(|(d, _, _)| d.name).collect();
    assert_eq!(core_types.len(), 4);
    let tables = db.record_tables().await;
    for table in ["r_party", "r_party__identifiers", "r_party_contact", "r_party_address", "r_party_relationship"] {
        assert!(tables.contains(&table.to_owned()), "{table} in {tables:?}");
    }
    // `weft serve` installs the built-in apps on every start: the second time changes nothing.
    let again = ws.install_builtin_apps().await.unwrap();
    assert!(again.iter().all(|p| p.action == "unchanged" && !p.applied), "{again:?}");
    // And the declaration keeps where each type's party comes from.
    assert_eq!(ws.type_decl("party_contact").unwrap().party_field.as_deref(), Some("of_party"));
    assert_eq!(ws.type_decl("party").unwrap().party_field.as_deref(), Some("id"));
}

async fn parties_with_contacts_addresses_and_relationships(backend: TestBackend) {
    let c = core(backend).await;
    let acme = c
        .create(
            "party",
            json!({
                "name": "Acme Trading Co., Ltd.", "roles": ["supplier", "customer"], "tax_id": "91310000MA1FL0XX1X",
                "registration_no": "310000000123456", "website": "https://acme.example.com",
                "email": "sales@acme.example.com", "phone": "+86 21 5555 0000", "industry": "Electronics",
                "identifiers": [{ "scheme": "duns", "value": "123456789" }, { "scheme": "vat", "value": "DE123", "country": "DE" }]
            }),
        )
        .await;
    let a = json_of(&acme);
    assert_eq!(a["number"], "P-00001");
    assert_eq!(a["state"], "active");
    assert_eq!(a["kind"], "organisation", "the default kind");
    assert_eq!(a["roles"], json!(["supplier", "customer"]));
    assert_eq!(a["identifiers"].as_array().unwrap().len(), 2);
    let li = c.create("party", json!({ "name": "Li Lei", "kind": "person", "roles": ["investor"] })).await;
    assert_eq!(json_of(&li)["number"], "P-00002");

    let contact = c
        .create(
            "party_contact",
            json!({ "of_party": acme.system.id, "name": "Wang Fang", "job_title": "Sales manager",
                    "email": "wang.fang@acme.example.com", "mobile": "+86 138 0013 8000", "is_primary": true }),
        )
        .await;
    assert_eq!(json_of(&contact)["of_party"], json!(acme.system.id));
    let second = c.create("party_contact", json!({ "of_party": acme.system.id, "name": "Zhao Lei" })).await;
    assert_eq!(json_of(&second)["is_primary"], false, "not primary unless said");
    let address = c
        .create(
            "party_address",
            json!({ "of_party": acme.system.id, "line1": "88 Century Avenue", "city": "Shanghai",
                    "region": "Shanghai", "postal_code": "200120", "country": "CN" }),
        )
        .await;
    assert_eq!(json_of(&address)["kind"], "office", "the default kind");
    c.create("party_address", json!({ "of_party": acme.system.id, "kind": "shipping", "line1": "Dock 4" })).await;
    let link = c
        .create(
            "party_relationship",
            json!({ "from_party": li.system.id, "kind": "partner_of", "to_party": acme.system.id }),
        )
        .await;
    assert_eq!(json_of(&link)["to_party"], json!(acme.system.id));

    // The same relationship twice is refused.
    let err =
        c.ws.create(
            &c.staff,
            "party_relationship",
            object(json!({ "from_party": li.system.id, "kind": "partner_of", "to_party": acme.system.id })),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Unique { fields } if fields.len() == 3), "{err:?}");

    // A party's contacts and addresses are found by the reference.
    let query = ListQuery {
        filter: Some(format!("of_party = \"{}\"", acme.system.id)),
        with_count: true,
        ..ListQuery::default()
    };
    assert_eq!(c.ws.list(&c.staff, "party_contact", &query).await.unwrap().count, Some(2));
    assert_eq!(c.ws.list(&c.staff, "party_address", &query).await.unwrap().count, Some(2));
    let people = ListQuery { filter: Some("kind = \"person\"".into()), ..ListQuery::default() };
    let page = c.ws.list(&c.staff, "party", &people).await.unwrap();
    assert_eq!(page.records.iter().map(|r| r.system.id).collect::<Vec<_>>(), [li.system.id]);
}

async fn bad_party_input_is_refused_field_by_field(backend: TestBackend) {
    let c = core(backend).await;
    let acme = c.create("party", json!({ "name": "Acme", "tax_id": "TAX-1" })).await;

    let err =
        c.ws.create(
            &c.staff,
            "party",
            object(
                json!({ "kind": "robot", "roles": ["customer", "friend"], "website": "not a url", "email": "nope" }),
            ),
            None,
        )
        .await
        .unwrap_err();
    let found = validation(err);
    for expected in [
        ("/name", FieldErrorCode::Required),
        ("/kind", FieldErrorCode::UnknownOption),
        ("/roles/1", FieldErrorCode::UnknownOption),
        ("/website", FieldErrorCode::InvalidFormat),
        ("/email", FieldErrorCode::InvalidFormat),
    ] {
        assert!(found.iter().any(|(p, code)| p == expected.0 && *code == expected.1), "{expected:?} in {found:?}");
    }

    let err =
        c.ws.create(&c.staff, "party", object(json!({ "name": "Acme 2", "tax_id": "TAX-1" })), None).await.unwrap_err();
    assert!(matches!(&err, Error::Unique { fields } if fields == &["tax_id"]), "tax ids are unique: {err:?}");

    let err = c.ws.create(&c.staff, "party_contact", object(json!({ "name": "Nobody's" })), None).await.unwrap_err();
    assert_eq!(validation(err), [("/of_party".into(), FieldErrorCode::Required)]);
    let err =
        c.ws.create(&c.staff, "party_contact", object(json!({ "of_party": Uuid::now_v7(), "name": "Ghost" })), None)
            .await
            .unwrap_err();
    assert_eq!(validation(err), [("/of_party".into(), FieldErrorCode::UnknownReference)]);
    let err =
        c.ws.create(&c.staff, "party_address", object(json!({ "of_party": acme.system.id, "kind": "moon" })), None)
            .await
            .unwrap_err();
    let found = validation(err);
    assert!(found.contains(&("/kind".into(), FieldErrorCode::UnknownOption)), "{found:?}");
    assert!(found.contains(&("/line1".into(), FieldErrorCode::Required)), "{found:?}");
    let err =
        c.ws.create(&c.staff, "party", object(json!({ "name": "X", "identifiers": [{ "scheme": "duns" }] })), None)
            .await
            .unwrap_err();
    assert_eq!(validation(err), [("/identifiers/0/value".into(), FieldErrorCode::Required)]);
}

async fn blocking_a_party_keeps_the_reason_and_unblocking_clears_it(backend: TestBackend) {
    let c = core(backend).await;
    let acme = c.party("Acme", &["supplier"]).await;
    let err = c.ws.transition(&c.staff, "party", acme.system.id, "block", None, object(json!({}))).await.unwrap_err();
    assert_eq!(validation(err), [("/reason".into(), FieldErrorCode::Required)]);
    let blocked =
        c.ws.transition(&c.staff, "party", acme.system.id, "block", None, object(json!({ "reason": "failed audit" })))
            .await
            .unwrap();
    let b = json_of(&blocked);
    assert_eq!((b["state"].as_str(), b["blocked_reason"].as_str()), (Some("blocked"), Some("failed audit")));
    let unblocked =
        c.ws.transition(&c.staff, "party", acme.system.id, "unblock", None, object(json!({}))).await.unwrap();
    let u = json_of(&unblocked);
    assert_eq!((u["state"].as_str(), u["blocked_reason"].clone()), (Some("active"), Value::Null));
}

async fn purging_a_party_takes_its_contacts_addresses_and_relationships(backend: TestBackend) {
    let c = core(backend).await;
    let acme = c.party("Acme", &["customer"]).await;
    let other = c.party("Other", &["dealer"]).await;
    c.create("party_contact", json!({ "of_party": acme.system.id, "name": "A" })).await;
    c.create("party_address", json!({ "of_party": acme.system.id, "line1": "1 Road" })).await;
    c.create(
        "party_relationship",
        json!({ "from_party": other.system.id, "kind": "distributor_of", "to_party": acme.system.id }),
    )
    .await;
    let kept = c.create("party_contact", json!({ "of_party": other.system.id, "name": "B" })).await;

    c.ws.purge(&Principal::system(), "party", acme.system.id).await.unwrap();
    for table in ["r_party_contact", "r_party_address", "r_party_relationship"] {
        let left = c.db.scalar(&format!("SELECT COUNT(*) FROM {table}")).await;
        let expected = if table == "r_party_contact" { 1 } else { 0 };
        assert_eq!(left, Some(expected), "{table}");
    }
    assert!(c.ws.get(&c.staff, "party_contact", kept.system.id).await.is_ok());
}

// ---------------------------------------------------------------------------------------
// The record's party follows `party_field`. These need the records commands to call
// `weft_workspace::party_link::derived_party` (create and update); until that is wired
// they are ignored: run them with `cargo nextest run --run-ignored all`.

mod derived_party {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs records.rs to call party_link::derived_party on create and update"]
    async fn sqlite() {
        system_party_follows_the_party_field(TestBackend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs records.rs to call party_link::derived_party on create and update"]
    async fn postgres() {
        if TestBackend::postgres_enabled(concat!(module_path!(), "::postgres")) {
            system_party_follows_the_party_field(TestBackend::Postgres).await;
        }
    }
}

async fn system_party_follows_the_party_field(backend: TestBackend) {
    let c = core(backend).await;
    let acme = c.party("Acme", &["supplier"]).await;
    let other = c.party("Other", &["customer"]).await;
    assert_eq!(acme.system.party, Some(acme.system.id), "a party is its own party");
    let contact = c.create("party_contact", json!({ "of_party": acme.system.id, "name": "Wang" })).await;
    assert_eq!(contact.system.party, Some(acme.system.id));
    let address = c.create("party_address", json!({ "of_party": acme.system.id, "line1": "1 Road" })).await;
    assert_eq!(address.system.party, Some(acme.system.id));
    let link = c
        .create(
            "party_relationship",
            json!({ "from_party": acme.system.id, "kind": "partner_of", "to_party": other.system.id }),
        )
        .await;
    assert_eq!(link.system.party, Some(acme.system.id), "the `from` party's");
    c.create("party_contact", json!({ "of_party": other.system.id, "name": "Zhao" })).await;

    // Acme's guest sees Acme, its contacts and addresses, and nothing of Other.
    let guest = people::guest(&c.ws, acme.system.id, &["guest"]).await;
    let all = ListQuery { with_count: true, ..ListQuery::default() };
    assert_eq!(c.ws.list(&guest, "party", &all).await.unwrap().count, Some(1));
    assert_eq!(c.ws.list(&guest, "party_contact", &all).await.unwrap().count, Some(1));
    assert_eq!(c.ws.list(&guest, "party_address", &all).await.unwrap().count, Some(1));
    assert!(matches!(c.ws.get(&guest, "party", other.system.id).await, Err(Error::NotFound(_))));

    // Moving a contact to another party moves its record party along.
    let moved =
        c.ws.update(&c.staff, "party_contact", contact.system.id, None, object(json!({ "of_party": other.system.id })))
            .await
            .unwrap();
    assert_eq!(moved.system.party, Some(other.system.id));
    assert_eq!(c.ws.list(&guest, "party_contact", &all).await.unwrap().count, Some(0));
    // An explicit `party` cannot contradict the field.
    let err =
        c.ws.create(
            &c.staff,
            "party_contact",
            object(json!({ "of_party": acme.system.id, "name": "X", "party": other.system.id })),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
}

async fn count(c: &Core, type_name: &str) -> u64 {
    let query = ListQuery { with_count: true, ..ListQuery::default() };
    c.ws.list(&Principal::system(), type_name, &query).await.unwrap().count.unwrap_or_default()
}

async fn a_party_is_created_with_its_addresses_and_contacts_or_not_at_all(backend: TestBackend) {
    let c = core(backend).await;
    let input = json!({
        "name": "Ningbo Precision Castings", "roles": ["supplier"],
        "@with": {
            "party_address": [
                { "line1": "18 Harbour Road", "city": "Ningbo", "postal_code": "315000", "country": "CN" },
                { "kind": "shipping", "line1": "Dock 7" }
            ],
            "party_contact": [{ "name": "Chen Jie", "email": "chen.jie@npc.example.com" }]
        }
    });
    let created = match c.ws.create_with(&c.staff, "party", object(input.clone()), None).await.unwrap() {
        CreatedWithOutcome::Fresh(created) => created,
        CreatedWithOutcome::Replayed(_) => unreachable!(),
    };
    let party = created.record.system.id;
    assert_eq!(json_of(&created.record)["name"], "Ningbo Precision Castings");
    let kinds: Vec<(String, usize)> = created.dependents.iter().map(|(t, v)| (t.clone(), v.len())).collect();
    assert_eq!(kinds, [("party_address".to_owned(), 2), ("party_contact".to_owned(), 1)]);
    let answer = created.to_json();
    assert_eq!(answer["@with"]["party_address"][0]["of_party"], json!(party));
    assert_eq!(answer["@with"]["party_address"][0]["kind"], "office", "the default kind");
    assert_eq!(answer["@with"]["party_address"][1]["line1"], "Dock 7");
    assert_eq!(answer["@with"]["party_contact"][0]["of_party"], json!(party));
    // Each is an ordinary record of its type: listed, read back, with its own history, and
    // its party taken from the reference, as when created on its own.
    let address = &created.dependents[0].1[0];
    assert_eq!(address.system.party, Some(party));
    let read = c.ws.get(&c.staff, "party_address", address.system.id).await.unwrap();
    assert_eq!(json_of(&read)["city"], "Ningbo");
    let timeline = c.ws.timeline(&c.staff, "party_address", address.system.id).await.unwrap();
    assert!(!timeline.is_empty());
    assert_eq!(
        (count(&c, "party").await, count(&c, "party_address").await, count(&c, "party_contact").await),
        (1, 2, 1)
    );

    // Every problem at once, pointing into the request; nothing written.
    let bad = json!({
        "roles": ["supplier"],
        "@with": {
            "party_address": [{ "city": "Ningbo" }, { "line1": "Dock 8", "of_party": party }],
            "party_contact": [{ "name": "Chen Jie", "mobile": 13800138000_i64 }],
            "party_relationship": [{ "kind": "partner_of" }],
            "no_such_type": [{}]
        }
    });
    let errors = validation(c.ws.create_with(&c.staff, "party", object(bad), None).await.unwrap_err());
    let pointers: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/@with/no_such_type",
            "/@with/party_address/0/line1",
            "/@with/party_address/1/of_party",
            "/@with/party_contact/0/mobile",
            "/@with/party_relationship",
            "/name"
        ],
        "{errors:?}"
    );
    assert!(errors.contains(&("/@with/party_address/1/of_party".to_owned(), FieldErrorCode::ReadOnly)));
    assert_eq!(
        (count(&c, "party").await, count(&c, "party_address").await, count(&c, "party_contact").await),
        (1, 2, 1)
    );
    let not_a_list = json!({ "name": "X", "@with": { "party_address": { "line1": "a" } } });
    let errors = validation(c.ws.create_with(&c.staff, "party", object(not_a_list), None).await.unwrap_err());
    assert_eq!(errors, [("/@with/party_address".to_owned(), FieldErrorCode::WrongType)]);
    let not_records = json!({ "name": "X", "@with": { "party_address": [{ "line1": "a" }, "b", 3] } });
    let errors = validation(c.ws.create_with(&c.staff, "party", object(not_records), None).await.unwrap_err());
    assert_eq!(
        errors,
        [
            ("/@with/party_address/1".to_owned(), FieldErrorCode::WrongType),
            ("/@with/party_address/2".to_owned(), FieldErrorCode::WrongType)
        ]
    );
    let not_an_object = json!({ "name": "X", "@with": [{ "line1": "a" }] });
    let errors = validation(c.ws.create_with(&c.staff, "party", object(not_an_object), None).await.unwrap_err());
    assert_eq!(errors, [("/@with".to_owned(), FieldErrorCode::WrongType)]);
    let addresses: Vec<Value> = (0..101).map(|i| json!({ "line1": format!("{i} Long Street") })).collect();
    let too_many = json!({ "name": "X", "@with": { "party_address": addresses } });
    let errors = validation(c.ws.create_with(&c.staff, "party", object(too_many), None).await.unwrap_err());
    assert_eq!(errors, [("/@with".to_owned(), FieldErrorCode::TooLong)]);
    assert_eq!(
        (count(&c, "party").await, count(&c, "party_address").await, count(&c, "party_contact").await),
        (1, 2, 1)
    );

    // A principal who may create parties but not addresses gets the refusal, and no party.
    let role = json!({ "name": "party_clerk", "grants": [
        { "type": "party", "actions": ["read", "create"], "scope": "all" } ]});
    c.ws.put_role(&Principal::system(), serde_json::from_value(role).unwrap()).await.unwrap();
    let clerk = people::member(&c.ws, &["party_clerk"]).await;
    let refused = c.ws.create_with(&clerk, "party", object(input.clone()), None).await.unwrap_err();
    assert!(matches!(refused, Error::Forbidden(_)), "{refused:?}");
    assert_eq!(count(&c, "party").await, 1);
    // Without dependents the same principal creates the party as usual.
    let alone = json!({ "name": "Solo Ltd", "roles": ["customer"] });
    assert!(matches!(
        c.ws.create_with(&clerk, "party", object(alone), None).await.unwrap(),
        CreatedWithOutcome::Fresh(created) if created.dependents.is_empty()
    ));

    // A supplier profile's `supplier` is a party field: it is filled in as well. Its bounds
    // are checked before anything is written...
    let before = (count(&c, "party").await, count(&c, "party_address").await);
    let profile = |days: i64| json!({ "display_name": "Profiled", "currency": "CNY", "payment_days": days });
    let with_profile = json!({ "name": "Profiled Ltd", "roles": ["supplier"], "@with": {
        "party_address": [{ "line1": "3 Profile Street" }], "supplier_profile": [profile(-5)] } });
    let errors = validation(c.ws.create_with(&c.staff, "party", object(with_profile), None).await.unwrap_err());
    assert_eq!(errors, [("/@with/supplier_profile/0/payment_days".to_owned(), FieldErrorCode::OutOfRange)]);
    assert_eq!((count(&c, "party").await, count(&c, "party_address").await), before);
    // ...and a dependent refused inside the transaction (one profile per supplier, the second
    // taken by the first) undoes the party and the others with it.
    let two_profiles = json!({ "name": "Profiled Ltd", "roles": ["supplier"], "@with": {
        "party_address": [{ "line1": "3 Profile Street" }], "supplier_profile": [profile(30), profile(60)] } });
    let err = c.ws.create_with(&c.staff, "party", object(two_profiles), None).await.unwrap_err();
    assert!(matches!(&err, Error::Unique { fields } if fields == &["supplier"]), "{err:?}");
    assert_eq!((count(&c, "party").await, count(&c, "party_address").await), before);
    assert_eq!(count(&c, "supplier_profile").await, 0);
    let one_profile = json!({ "name": "Profiled Ltd", "roles": ["supplier"], "@with": {
        "supplier_profile": [profile(45)] } });
    let CreatedWithOutcome::Fresh(profiled) =
        c.ws.create_with(&c.staff, "party", object(one_profile), None).await.unwrap()
    else {
        unreachable!()
    };
    assert_eq!(profiled.to_json()["@with"]["supplier_profile"][0]["supplier"], json!(profiled.record.system.id));

    // A guest cannot create parties, with or without dependents.
    let guest = people::guest(&c.ws, party, &[]).await;
    let refused = c.ws.create_with(&guest, "party", object(input), None).await.unwrap_err();
    assert!(matches!(refused, Error::Forbidden(_) | Error::NotFound(_)), "{refused:?}");
}

/// Creates with dependents that arrive together are written together (one lot of parties,
/// one of addresses, one of profiles): each caller still gets back its own party with its
/// own dependents, and one refused inside the transaction (a second profile for its
/// supplier) gets its own error while the others are written.
async fn concurrent_creates_with_dependents_each_get_their_own_records_or_error(backend: TestBackend) {
    let c = core(backend).await;
    let profile = |days: i64| json!({ "display_name": "Lot", "currency": "CNY", "payment_days": days });
    let inputs: Vec<Value> = (0..40)
        .map(|i| {
            let profiles = if i == 17 { vec![profile(30), profile(60)] } else { vec![profile(i)] };
            let addresses: Vec<Value> =
                (0..=(i % 3)).map(|k| json!({ "line1": format!("{i} Lot Road, door {k}") })).collect();
            json!({ "name": format!("Lot Supplier {i}"), "roles": ["supplier"],
                    "@with": { "party_address": addresses, "supplier_profile": profiles } })
        })
        .collect();
    let tasks: Vec<_> = inputs
        .iter()
        .map(|input| {
            let (ws, staff, input) = (c.ws.clone(), c.staff.clone(), input.clone());
            tokio::spawn(async move { ws.create_with(&staff, "party", object(input), None).await })
        })
        .collect();
    let mut written = 0;
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(CreatedWithOutcome::Fresh(created)) => {
                assert_ne!(i, 17, "two profiles for one supplier are refused");
                let answer = created.to_json();
                let party = created.record.system.id;
                assert_eq!(answer["name"], format!("Lot Supplier {i}"));
                let addresses = answer["@with"]["party_address"].as_array().unwrap();
                assert_eq!(addresses.len(), i % 3 + 1, "supplier {i}: its own addresses");
                for (k, address) in addresses.iter().enumerate() {
                    assert_eq!(address["line1"], format!("{i} Lot Road, door {k}"));
                    assert_eq!(address["of_party"], json!(party));
                }
                let profiles = answer["@with"]["supplier_profile"].as_array().unwrap();
                assert_eq!(profiles.len(), 1);
                assert_eq!(profiles[0]["supplier"], json!(party));
                assert_eq!(profiles[0]["payment_days"], json!(i));
                written += 1;
            }
            Ok(CreatedWithOutcome::Replayed(_)) => panic!("not a replay"),
            Err(err) => {
                assert_eq!(i, 17, "supplier {i}: {err:?}");
                assert!(matches!(&err, Error::Unique { fields } if fields == &["supplier"]), "{err:?}");
            }
        }
    }
    assert_eq!(written, 39);
    // Nothing of the refused one: 39 parties, their addresses and profiles, no more.
    let addresses: usize = (0..40).filter(|i| *i != 17).map(|i| i % 3 + 1).sum();
    assert_eq!(count(&c, "party").await, 39);
    assert_eq!(count(&c, "party_address").await, addresses as u64);
    assert_eq!(count(&c, "supplier_profile").await, 39);
}
