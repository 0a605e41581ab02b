//! Org units, the approver look-ups, delegations and the core app over HTTP: status codes,
//! problem documents with pointers, who may call what. On SQLite and PostgreSQL.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use weft_testkit::{TestApp, TestBackend, bearer_client, on_both_databases, spawn_app};

const PROBLEM: &str = "application/problem+json";

on_both_databases!(
    administrators_build_the_tree_over_http,
    bad_org_input_is_a_problem_with_pointers,
    approver_lookups_answer_processes,
    members_read_the_org_chart_but_cannot_change_it,
    delegations_over_http,
    the_core_app_works_through_the_records_api,
    a_party_and_its_addresses_in_one_request,
);

async fn problem(r: Response, status: StatusCode, code: &str) -> Value {
    let actual = r.status();
    let kind = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body: Value = r.json().await.expect("problem body");
    assert_eq!(actual, status, "{body:#}");
    assert_eq!(kind, PROBLEM, "{body:#}");
    assert_eq!(body["code"], code, "{body:#}");
    body
}

async fn ok(r: Response, status: StatusCode) -> Value {
    let actual = r.status();
    let body: Value = r.json().await.expect("JSON body");
    assert_eq!(actual, status, "{body:#}");
    body
}

fn pointers(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| (e["pointer"].as_str().unwrap_or("").to_owned(), e["code"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

async fn post(app: &TestApp, path: &str, body: Value) -> Response {
    app.client.post(app.url(path)).json(&body).send().await.unwrap()
}

async fn put(app: &TestApp, path: &str, body: Value) -> Response {
    app.client.put(app.url(path)).json(&body).send().await.unwrap()
}

async fn create_unit(app: &TestApp, body: Value) -> Uuid {
    let unit = ok(post(app, "/api/v1/admin/org/units", body).await, StatusCode::CREATED).await;
    unit["id"].as_str().unwrap().parse().unwrap()
}

async fn member(app: &TestApp, login: &str) -> Uuid {
    app.create_member(login, None, &["employee"]).await
}

async fn administrators_build_the_tree_over_http(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let boss = member(&app, "boss@example.com").await;
    let clerk = member(&app, "clerk@example.com").await;
    let company = create_unit(&app, json!({ "name": "Company", "code": "HQ", "manager": boss })).await;
    let finance = create_unit(&app, json!({ "name": "Finance", "code": "FIN", "parent": company })).await;
    let payables = create_unit(&app, json!({ "name": "Payables", "parent": finance })).await;

    let tree = ok(app.get("/api/v1/org/units").await, StatusCode::OK).await;
    assert_eq!(tree["items"][0]["name"], "Company");
    assert_eq!(tree["items"][0]["children"][0]["name"], "Finance");
    assert_eq!(tree["items"][0]["children"][0]["children"][0]["name"], "Payables");
    assert_eq!(tree["items"][0]["children"][0]["effective_manager"], json!(boss), "inherited");

    // Members: the first unit is primary.
    let units = ok(
        post(&app, &format!("/api/v1/admin/org/units/{payables}/members"), json!({ "principal": clerk })).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(units["primary_unit"], json!(payables));
    let units = ok(
        post(
            &app,
            &format!("/api/v1/admin/org/units/{company}/members"),
            json!({ "principal": clerk, "primary": true }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(units["primary_unit"], json!(company));
    let units = ok(
        put(&app, &format!("/api/v1/admin/org/principals/{clerk}/primary-unit"), json!({ "unit": payables })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(units["primary_unit"], json!(payables));
    let listed = ok(app.get(&format!("/api/v1/org/principals/{clerk}/units")).await, StatusCode::OK).await;
    assert_eq!(listed["units"][0]["id"], json!(payables));
    assert_eq!(listed["units"][0]["primary"], true);

    let detail = ok(app.get(&format!("/api/v1/org/units/{payables}")).await, StatusCode::OK).await;
    assert_eq!(detail["path"].as_array().unwrap().len(), 2);
    assert_eq!(detail["members"][0]["principal"], json!(clerk));
    assert_eq!(detail["members"][0]["display_name"], "clerk@example.com");

    // Rename, clear the code, move, and back.
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/admin/org/units/{finance}")))
        .json(&json!({ "name": "Finance & Tax", "code": null }))
        .send()
        .await
        .unwrap();
    let renamed = ok(r, StatusCode::OK).await;
    assert_eq!((renamed["name"].as_str(), renamed["code"].clone()), (Some("Finance & Tax"), Value::Null));
    let moved = ok(
        put(&app, &format!("/api/v1/admin/org/units/{payables}/parent"), json!({ "parent": null })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["parent"], Value::Null);
    let body = problem(
        put(&app, &format!("/api/v1/admin/org/units/{company}/parent"), json!({ "parent": finance })).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("sub-tree"), "{body}");

    // Archive: refused while it has members, then after they are moved out.
    let body = problem(
        post(&app, &format!("/api/v1/admin/org/units/{payables}/archive"), json!({})).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("member"), "{body}");
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/admin/org/units/{payables}/members/{clerk}")))
        .send()
        .await
        .unwrap();
    let units = ok(r, StatusCode::OK).await;
    assert_eq!(units["primary_unit"], json!(company), "the remaining unit becomes primary");
    let archived =
        ok(post(&app, &format!("/api/v1/admin/org/units/{payables}/archive"), json!({})).await, StatusCode::OK).await;
    assert_eq!(archived["archived"], true);
    let tree = ok(app.get("/api/v1/org/units").await, StatusCode::OK).await;
    assert_eq!(tree["items"].as_array().unwrap().len(), 1, "archived units are hidden");
    let tree = ok(app.get("/api/v1/org/units?include_archived=true").await, StatusCode::OK).await;
    assert_eq!(tree["items"].as_array().unwrap().len(), 2);
    let restored =
        ok(post(&app, &format!("/api/v1/admin/org/units/{payables}/restore"), json!({})).await, StatusCode::OK).await;
    assert_eq!(restored["archived"], false);

    // Transfers keep the primary unit.
    let units = ok(
        post(
            &app,
            &format!("/api/v1/admin/org/principals/{clerk}/transfer"),
            json!({ "from": company, "to": finance }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(units["primary_unit"], json!(finance));

    let actions: Vec<String> =
        app.audit_entries().await.into_iter().filter(|e| e.action.starts_with("org_unit.")).map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            "org_unit.create",
            "org_unit.create",
            "org_unit.create",
            "org_unit.add_member",
            "org_unit.add_member",
            "org_unit.set_primary",
            "org_unit.rename",
            "org_unit.move",
            "org_unit.remove_member",
            "org_unit.archive",
            "org_unit.restore",
            "org_unit.transfer_member",
        ],
        "refused changes leave no entry"
    );
    assert!(
        app.audit_entries()
            .await
            .iter()
            .filter(|e| e.action.starts_with("org_unit."))
            .all(|e| e.actor == app.admin_id.to_string())
    );
}

async fn bad_org_input_is_a_problem_with_pointers(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let company = create_unit(&app, json!({ "name": "Company", "code": "HQ" })).await;

    let body = problem(
        post(&app, "/api/v1/admin/org/units", json!({ "name": "X", "parent": "nope" })).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    assert_eq!(pointers(&body)[0].0, "/parent");
    let body = problem(
        post(&app, "/api/v1/admin/org/units", json!({ "name": "X", "colour": "red" })).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("colour"), "{body}");
    let body = problem(
        post(&app, "/api/v1/admin/org/units", json!({ "name": "X", "parent": Uuid::now_v7() })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&body), [("/parent".to_owned(), "unknown_reference".to_owned())]);
    let body = problem(
        post(&app, "/api/v1/admin/org/units", json!({ "name": " ", "code": "a b" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        pointers(&body),
        [("/code".to_owned(), "invalid_format".to_owned()), ("/name".to_owned(), "required".to_owned())]
    );
    let body = problem(
        post(&app, "/api/v1/admin/org/units", json!({ "name": "Other", "code": "hq" })).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(pointers(&body), [("/code".to_owned(), "duplicate".to_owned())]);
    let body = problem(
        post(&app, "/api/v1/admin/org/units", json!({ "name": "X", "manager": Uuid::now_v7() })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&body), [("/manager".to_owned(), "unknown_reference".to_owned())]);

    problem(app.get("/api/v1/org/units/not-a-uuid").await, StatusCode::NOT_FOUND, "not_found").await;
    problem(app.get(&format!("/api/v1/org/units/{}", Uuid::now_v7())).await, StatusCode::NOT_FOUND, "not_found").await;
    problem(
        put(&app, &format!("/api/v1/admin/org/units/{company}/parent"), json!({ "parent": company })).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    problem(
        put(&app, &format!("/api/v1/admin/org/units/{company}/parent"), json!({})).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    let body = problem(
        put(&app, &format!("/api/v1/admin/org/principals/{}/primary-unit", app.admin_id), json!({ "unit": company }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&body)[0].0, "/unit");
    let r = app
        .client
        .post(app.url("/api/v1/admin/org/units"))
        .body("{\"name\": ")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST, "malformed_json").await;
}

async fn approver_lookups_answer_processes(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let ceo = member(&app, "ceo@example.com").await;
    let cfo = member(&app, "cfo@example.com").await;
    let clerk = member(&app, "clerk@example.com").await;
    let company = create_unit(&app, json!({ "name": "Company", "manager": ceo })).await;
    let finance =
        create_unit(&app, json!({ "name": "Finance", "code": "FIN", "parent": company, "manager": cfo })).await;
    let payables = create_unit(&app, json!({ "name": "Payables", "parent": finance })).await;
    ok(
        post(&app, &format!("/api/v1/admin/org/units/{payables}/members"), json!({ "principal": clerk })).await,
        StatusCode::CREATED,
    )
    .await;

    let m = ok(app.get(&format!("/api/v1/org/units/{payables}/manager")).await, StatusCode::OK).await;
    assert_eq!(m, json!({ "unit": payables, "manager": cfo }));
    let chain =
        ok(app.get(&format!("/api/v1/org/principals/{clerk}/manager-chain?levels=3")).await, StatusCode::OK).await;
    assert_eq!(chain["managers"], json!([cfo, ceo]));
    let one = ok(app.get(&format!("/api/v1/org/principals/{clerk}/manager-chain")).await, StatusCode::OK).await;
    assert_eq!((one["levels"].clone(), one["managers"].clone()), (json!(1), json!([cfo])));
    let mine = ok(app.get(&format!("/api/v1/org/principals/{cfo}/manager-chain?levels=5")).await, StatusCode::OK).await;
    assert_eq!(mine["managers"], json!([ceo]), "the CFO belongs to no unit: their chain starts at Finance");
    for bad in ["levels=0", "levels=21", "levels=two"] {
        problem(
            app.get(&format!("/api/v1/org/principals/{clerk}/manager-chain?{bad}")).await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        )
        .await;
    }

    let head = ok(app.get("/api/v1/org/head?unit=Finance").await, StatusCode::OK).await;
    assert_eq!(head["manager"], json!(cfo));
    let head = ok(app.get("/api/v1/org/head?unit=fin").await, StatusCode::OK).await;
    assert_eq!(head["manager"], json!(cfo));
    let head = ok(app.get("/api/v1/org/head?unit=Payables").await, StatusCode::OK).await;
    assert_eq!(head["manager"], json!(cfo), "inherited");
    problem(app.get("/api/v1/org/head?unit=Legal").await, StatusCode::NOT_FOUND, "not_found").await;
    problem(app.get("/api/v1/org/head").await, StatusCode::BAD_REQUEST, "bad_request").await;
    create_unit(&app, json!({ "name": "Payables", "parent": company })).await;
    let body = problem(app.get("/api/v1/org/head?unit=Payables").await, StatusCode::CONFLICT, "conflict").await;
    assert!(body["detail"].as_str().unwrap().contains("2 units"), "{body}");
}

async fn members_read_the_org_chart_but_cannot_change_it(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let employee = member(&app, "e@example.com").await;
    let client = bearer_client(&app.token_for(employee, None).await);
    let unit = create_unit(&app, json!({ "name": "Company" })).await;
    let audit_before = app.audit_entries().await.len();

    let send = |r: reqwest::RequestBuilder| async move { r.send().await.unwrap() };
    for r in [
        client.post(app.url("/api/v1/admin/org/units")).json(&json!({ "name": "Shadow" })),
        client.patch(app.url(&format!("/api/v1/admin/org/units/{unit}"))).json(&json!({ "name": "Mine" })),
        client.put(app.url(&format!("/api/v1/admin/org/units/{unit}/manager"))).json(&json!({ "manager": employee })),
        client
            .post(app.url(&format!("/api/v1/admin/org/units/{unit}/members")))
            .json(&json!({ "principal": employee })),
        client.post(app.url(&format!("/api/v1/admin/org/units/{unit}/archive"))),
        client.get(app.url(&format!("/api/v1/org/units/{unit}/manager"))),
        client.get(app.url(&format!("/api/v1/org/principals/{employee}/manager-chain"))),
        client.get(app.url("/api/v1/org/head?unit=Company")),
        client.get(app.url("/api/v1/admin/delegations")),
    ] {
        problem(send(r).await, StatusCode::FORBIDDEN, "forbidden").await;
    }
    assert_eq!(app.audit_entries().await.len(), audit_before, "nothing was changed");
    let tree = ok(client.get(app.url("/api/v1/org/units")).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(tree["items"][0]["name"], "Company");
    ok(client.get(app.url(&format!("/api/v1/org/units/{unit}"))).send().await.unwrap(), StatusCode::OK).await;
    // Without credentials nothing answers.
    problem(
        app.anonymous.get(app.url("/api/v1/org/units")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

/// Today (UTC) moved by `offset` days, as `YYYY-MM-DD`.
fn day(offset: i64) -> String {
    let mut day = weft_workspace::delegation::today();
    for _ in 0..offset.unsigned_abs() {
        day = if offset > 0 { day.next_day() } else { day.previous_day() }.unwrap();
    }
    weft_workspace::delegation::format_day(day)
}

async fn delegations_over_http(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let alice = member(&app, "alice@example.com").await;
    let bob = member(&app, "bob@example.com").await;
    let carol = member(&app, "carol@example.com").await;
    let as_alice = bearer_client(&app.token_for(alice, None).await);
    let as_bob = bearer_client(&app.token_for(bob, None).await);
    let delegate = |to: Uuid, from: i64, until: i64| json!({ "to": to, "starts_on": day(from), "ends_on": day(until), "reason": "leave" });

    let r = as_alice.post(app.url("/api/v1/delegations")).json(&delegate(bob, 0, 3)).send().await.unwrap();
    let created = ok(r, StatusCode::CREATED).await;
    assert_eq!(
        (created["from"].clone(), created["to"].clone(), created["status"].clone()),
        (json!(alice), json!(bob), json!("active"))
    );
    let id = created["id"].as_str().unwrap().to_owned();

    let mine = ok(as_alice.get(app.url("/api/v1/delegations")).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!((mine["given"].as_array().unwrap().len(), mine["received"].as_array().unwrap().len()), (1, 0));
    let theirs = ok(as_bob.get(app.url("/api/v1/delegations")).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(theirs["received"][0]["id"], json!(id));

    let r = as_alice.post(app.url("/api/v1/delegations")).json(&delegate(carol, 2, 5)).send().await.unwrap();
    let body = problem(r, StatusCode::CONFLICT, "conflict").await;
    assert!(body["detail"].as_str().unwrap().contains(&id), "names the delegation in the way: {body}");
    let bad = json!({ "to": alice, "starts_on": "2026-02-30", "ends_on": day(-1), "reason": "" });
    let body = problem(
        as_alice.post(app.url("/api/v1/delegations")).json(&bad).send().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        pointers(&body),
        [
            ("/ends_on".to_owned(), "out_of_range".to_owned()),
            ("/reason".to_owned(), "required".to_owned()),
            ("/starts_on".to_owned(), "invalid_format".to_owned()),
            ("/to".to_owned(), "invalid_format".to_owned()),
        ]
    );
    let r = as_alice
        .post(app.url("/api/v1/delegations"))
        .json(&json!({ "to": "bob", "starts_on": day(0), "ends_on": day(0), "reason": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(pointers(&problem(r, StatusCode::BAD_REQUEST, "malformed_json").await)[0].0, "/to");
    let mut for_carol = delegate(bob, 10, 11);
    for_carol["from"] = json!(carol);
    problem(
        as_alice.post(app.url("/api/v1/delegations")).json(&for_carol).send().await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    ok(post(&app, "/api/v1/delegations", for_carol).await, StatusCode::CREATED).await;

    // Standing in: Bob acts for Alice with `Weft-On-Behalf-Of` while her delegation covers
    // today; the record's history names both. For Carol (no delegation to Bob today), or
    // with a malformed id, the request is refused before anything happens.
    app.workspace.install_builtin_apps().await.unwrap();
    let stand_in = |who: String| {
        as_bob
            .post(app.url("/api/v1/records/party"))
            .header("Weft-On-Behalf-Of", who)
            .json(&json!({ "name": "Stand-in Ltd" }))
    };
    let made = ok(stand_in(alice.to_string()).send().await.unwrap(), StatusCode::CREATED).await;
    let timeline = ok(
        as_bob
            .get(app.url(&format!("/api/v1/records/party/{}/timeline", made["id"].as_str().unwrap())))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(timeline[0]["actor"], json!(format!("{bob} for {alice}")), "{timeline}");
    problem(stand_in(carol.to_string()).send().await.unwrap(), StatusCode::FORBIDDEN, "forbidden").await;
    problem(stand_in("alice".into()).send().await.unwrap(), StatusCode::BAD_REQUEST, "bad_request").await;
    let parties = ok(app.get("/api/v1/records/party?count=true").await, StatusCode::OK).await;
    assert_eq!(parties["count"], 1, "the refused requests wrote nothing");

    let all = ok(app.get("/api/v1/admin/delegations").await, StatusCode::OK).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let today_only =
        ok(app.get(&format!("/api/v1/admin/delegations?active_on={}", day(1))).await, StatusCode::OK).await;
    assert_eq!(today_only["items"].as_array().unwrap().len(), 1);
    let delegates = ok(app.get(&format!("/api/v1/org/principals/{alice}/delegates")).await, StatusCode::OK).await;
    assert_eq!(delegates["delegates"], json!([bob]));
    let later =
        ok(app.get(&format!("/api/v1/org/principals/{alice}/delegates?on={}", day(7))).await, StatusCode::OK).await;
    assert_eq!(later["delegates"], json!([]));
    problem(
        app.get(&format!("/api/v1/org/principals/{alice}/delegates?on=soon")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    let revoke = format!("/api/v1/delegations/{id}/revoke");
    problem(as_bob.post(app.url(&revoke)).send().await.unwrap(), StatusCode::FORBIDDEN, "forbidden").await;
    let revoked = ok(as_alice.post(app.url(&revoke)).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(revoked["status"], "revoked");
    problem(as_alice.post(app.url(&revoke)).send().await.unwrap(), StatusCode::CONFLICT, "conflict").await;
    problem(
        as_alice.post(app.url("/api/v1/delegations/nope/revoke")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let entries = app.audit_entries().await;
    let trail: Vec<(String, String)> =
        entries.iter().filter(|e| e.target_type == "delegation").map(|e| (e.action.clone(), e.actor.clone())).collect();
    assert_eq!(
        trail,
        [
            ("delegation.create".to_owned(), alice.to_string()),
            ("delegation.create".to_owned(), app.admin_id.to_string()),
            ("delegation.revoke".to_owned(), alice.to_string()),
        ]
    );
}

async fn the_core_app_works_through_the_records_api(backend: TestBackend) {
    let app = spawn_app(backend).await;
    app.workspace.install_builtin_apps().await.unwrap();
    let declared = ok(app.get("/api/v1/types/party_contact").await, StatusCode::OK).await;
    assert_eq!(
        (declared["app"].as_str(), declared["declaration"]["party_field"].as_str()),
        (Some("core"), Some("of_party"))
    );

    let party = ok(
        post(&app, "/api/v1/records/party", json!({ "name": "Acme", "roles": ["supplier"], "tax_id": "T-1" })).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!((party["number"].as_str(), party["state"].as_str()), (Some("P-00001"), Some("active")));
    let id = party["id"].as_str().unwrap();
    let contact = ok(
        post(
            &app,
            "/api/v1/records/party_contact",
            json!({ "of_party": id, "name": "Wang Fang", "email": "wang@acme.example.com" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(contact["of_party"], json!(id));
    ok(
        post(
            &app,
            "/api/v1/records/party_address",
            json!({ "of_party": id, "kind": "billing", "line1": "1 Road", "country": "CN" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    let body = problem(
        post(&app, "/api/v1/records/party", json!({ "name": "Acme again", "tax_id": "T-1" })).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(pointers(&body), [("/tax_id".to_owned(), "duplicate".to_owned())]);
    let body = problem(
        post(&app, "/api/v1/records/party_contact", json!({ "of_party": Uuid::now_v7(), "name": "Ghost" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&body), [("/of_party".to_owned(), "unknown_reference".to_owned())]);

    let filter = format!("of_party = \"{id}\"");
    let list = ok(
        app.client
            .get(app.url("/api/v1/records/party_contact"))
            .query(&[("filter", filter.as_str()), ("count", "true")])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["count"], 1);
}

async fn a_party_and_its_addresses_in_one_request(backend: TestBackend) {
    let app = spawn_app(backend).await;
    app.workspace.install_builtin_apps().await.unwrap();
    let body = json!({
        "name": "Suzhou Fine Plastics", "roles": ["supplier"], "tax_id": "T-9",
        "@with": {
            "party_address": [{ "line1": "5 Lake Road", "city": "Suzhou", "country": "CN" }],
            "party_contact": [{ "name": "Liu Yang" }]
        }
    });
    let send = |key: &'static str, body: Value| {
        app.client.post(app.url("/api/v1/records/party")).header("Idempotency-Key", key).json(&body).send()
    };
    let response = send("party-1", body.clone()).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers().get("location").unwrap().to_str().unwrap().to_owned();
    assert_eq!(response.headers().get("etag").unwrap().to_str().unwrap(), "\"1\"");
    let created = ok(response, StatusCode::CREATED).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/records/party/{id}"));
    assert_eq!(created["@with"]["party_address"][0]["of_party"], json!(id));
    assert_eq!(created["@with"]["party_address"][0]["city"], "Suzhou");
    assert_eq!(created["@with"]["party_contact"][0]["of_party"], json!(id));
    let address = created["@with"]["party_address"][0]["id"].as_str().unwrap();
    let read = ok(app.get(&format!("/api/v1/records/party_address/{address}")).await, StatusCode::OK).await;
    assert_eq!(read["line1"], "5 Lake Road");

    // A retry with the same key answers the first result and creates nothing more.
    let replay = send("party-1", body.clone()).await.unwrap();
    assert_eq!(replay.headers().get("idempotent-replayed").unwrap(), "true");
    let replayed = ok(replay, StatusCode::OK).await;
    assert_eq!(replayed, created);
    let other = json!({ "name": "Other", "@with": { "party_address": [{ "line1": "x" }] } });
    problem(send("party-1", other).await.unwrap(), StatusCode::CONFLICT, "conflict").await;

    // Every problem of the record and of each dependent, with pointers into the request.
    let bad = json!({ "roles": ["nobody"], "@with": {
        "party_address": [{ "city": "Suzhou" }], "party_contact": "Liu Yang" } });
    let body =
        problem(post(&app, "/api/v1/records/party", bad).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    assert_eq!(
        pointers(&body),
        [
            ("/@with/party_address/0/line1".to_owned(), "required".to_owned()),
            ("/@with/party_contact".to_owned(), "wrong_type".to_owned()),
            ("/name".to_owned(), "required".to_owned()),
            ("/roles/0".to_owned(), "unknown_option".to_owned()),
        ]
    );
    // A dependent's unique clash refuses the whole request: the party is not created.
    let clash = json!({ "name": "Twin", "@with": { "party_address": [{ "line1": "y" }],
        "supplier_profile": [
            { "display_name": "A", "currency": "CNY", "payment_days": 30 },
            { "display_name": "B", "currency": "CNY", "payment_days": 30 } ] } });
    problem(post(&app, "/api/v1/records/party", clash).await, StatusCode::CONFLICT, "conflict").await;
    let list = ok(
        app.client.get(app.url("/api/v1/records/party")).query(&[("count", "true")]).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["count"], 1);
}
