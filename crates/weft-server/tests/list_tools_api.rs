//! The list page's tools over HTTP: saved views (`/api/v1/types/{name}/views`), bulk
//! actions (`/api/v1/records/{type}/bulk-actions`) and the CSV/XLSX export of what the
//! list shows (`/api/v1/records/{type}/export`), each with its denials: private views stay
//! private, only managers share, guests never see staff views; every selected record goes
//! through the normal command path and answers on its own; a guest's export holds only its
//! party's records, and none without `export`.

use std::io::Read;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use weft_testkit::fixtures::label;
use weft_testkit::{TestApp, TestBackend, bearer_client, on_both_databases, spawn_app};

const PROBLEM: &str = "application/problem+json";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

on_both_databases!(
    saved_views_are_private_unless_a_manager_shares_them,
    guests_save_private_views_of_portal_types_and_never_see_staff_views,
    saved_view_with_bad_input_is_422_naming_each_field,
    calendar_views_keep_their_date_field_and_month,
    bulk_transition_answers_for_each_record_on_its_own,
    bulk_transition_inputs_and_bulk_delete,
    bulk_action_without_permission_refuses_each_record_and_writes_nothing,
    export_holds_the_lists_columns_filter_and_order_as_csv_and_xlsx,
    guest_export_holds_only_its_partys_records_and_needs_export,
    export_never_hands_a_spreadsheet_a_formula,
    export_for_people_shows_references_by_title_as_far_as_the_reader_may_read,
);

// ---------------------------------------------------------------------------------------
// Fixture

struct Answer {
    status: StatusCode,
    content_type: String,
    bytes: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    fn ok(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        self.json()
    }

    fn problem(&self, status: StatusCode, code: &str) -> Value {
        let body = self.json();
        assert_eq!((self.status, self.content_type.as_str()), (status, PROBLEM), "{}", self.text());
        assert_eq!(body["code"], code, "{body:#}");
        body
    }
}

struct Caller {
    client: reqwest::Client,
    base_url: String,
}

impl Caller {
    fn new(app: &TestApp, token: &str) -> Caller {
        Caller { client: bearer_client(token), base_url: app.base_url.clone() }
    }

    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base_url));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let bytes = response.bytes().await.expect("body").to_vec();
        Answer { status, content_type, bytes }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::PATCH, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None).await
    }
}

fn ticket_type() -> Value {
    json!({
        "name": "ticket", "label": label("Ticket", "工单"),
        "fields": [
            { "name": "code", "label": label("Code", "编码"), "type": "text", "required": true, "indexed": true },
            { "name": "amount", "label": label("Amount", "金额"), "type": "decimal", "scale": 2, "indexed": true },
            { "name": "due", "label": label("Due", "到期"), "type": "date" },
            { "name": "priority", "label": label("Priority", "优先级"), "type": "select",
              "options": [{ "value": "low", "label": label("Low", "低") }, { "value": "high", "label": label("High", "高") }] },
            { "name": "note", "label": label("Note", "备注"), "type": "text" },
            { "name": "reason", "label": label("Reason", "原因"), "type": "long_text" }
        ],
        "lifecycle": {
            "initial": "open",
            "states": [
                { "name": "open", "label": label("Open", "待处理") },
                { "name": "closed", "label": label("Closed", "已关闭"), "final": true },
                { "name": "rejected", "label": label("Rejected", "已驳回"), "final": true }
            ],
            "transitions": [
                { "name": "close", "label": label("Close", "关闭"), "from": ["open"], "to": "closed", "guard": "amount > 0" },
                { "name": "reject", "label": label("Reject", "驳回"), "from": ["open"], "to": "rejected",
                  "inputs": [{ "name": "why", "label": label("Why", "原因"), "type": "long_text", "required": true }],
                  "set": { "reason": { "feel": "why" } } }
            ]
        }
    })
}

/// A type the portal role does not reach.
fn memo_type() -> Value {
    json!({ "name": "memo", "label": label("Memo", "备忘"),
            "fields": [{ "name": "title", "label": label("Title", "标题"), "type": "text" }] })
}

fn role(name: &str, for_guests: bool, actions: &[&str], scope: &str) -> Value {
    json!({ "name": name, "for_guests": for_guests,
            "grants": [{ "type": "ticket", "actions": actions, "scope": scope }] })
}

struct Desk {
    /// Keeps the server running for the test.
    _app: TestApp,
    admin: Caller,
    /// Holds `update` (and every action) on all tickets: a manager of the type.
    manager: Caller,
    /// Reads every ticket, may do nothing else.
    reader: Caller,
    /// A member whose only role reads memos, not tickets.
    outsider: Caller,
    /// A guest of party A: reads A's tickets and exports them.
    guest: Caller,
    guest_no_export: Caller,
    party_a: Uuid,
    party_b: Uuid,
}

async fn desk(backend: TestBackend) -> Desk {
    let app = spawn_app(backend).await;
    let admin = Caller::new(&app, &app.admin_token);
    for decl in [ticket_type(), memo_type()] {
        admin.post("/api/v1/types", &decl).await.ok(StatusCode::CREATED);
    }
    let roles = [
        role("ticket_manager", false, &["*"], "all"),
        role("ticket_reader", false, &["read"], "all"),
        role("portal", true, &["read"], "party"),
        role("portal_export", true, &["export"], "party"),
        json!({ "name": "memo_reader", "grants": [{ "type": "memo", "actions": ["read"], "scope": "all" }] }),
    ];
    for r in &roles {
        let name = r["name"].as_str().unwrap_or_default();
        admin.send(Method::PUT, &format!("/api/v1/admin/roles/{name}"), Some(r)).await.ok(StatusCode::OK);
    }
    let manager = app.create_member("manager@example.com", None, &["ticket_manager"]).await;
    let reader = app.create_member("reader@example.com", None, &["ticket_reader"]).await;
    let outsider = app.create_member("outsider@example.com", None, &["memo_reader"]).await;
    let (party_a, party_b) = (Uuid::now_v7(), Uuid::now_v7());
    let guest = app.create_guest("buyer@a.example", "guest password of A", party_a, &["portal", "portal_export"]).await;
    Desk {
        manager: Caller::new(&app, &app.token_for(manager, None).await),
        reader: Caller::new(&app, &app.token_for(reader, None).await),
        outsider: Caller::new(&app, &app.token_for(outsider, None).await),
        guest: Caller::new(&app, &app.token_for(guest, None).await),
        guest_no_export: Caller::new(&app, &app.token_for(guest, Some(&["portal"])).await),
        admin,
        _app: app,
        party_a,
        party_b,
    }
}

async fn ticket(admin: &Caller, code: &str, amount: &str, party: Uuid) -> Value {
    admin
        .post(
            "/api/v1/records/ticket",
            &json!({ "code": code, "amount": amount, "party": party, "due": "2026-12-24", "priority": "high" }),
        )
        .await
        .ok(StatusCode::CREATED)
}

const VIEWS: &str = "/api/v1/types/ticket/views";

fn spec() -> Value {
    json!({ "kind": "list", "columns": ["code", "amount", "state"], "sort": "-amount",
            "filter": "amount > 10", "filters": { "amount": { "op": "range", "from": "10" } } })
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|a| a.iter().map(|v| v["name"].as_str().unwrap_or("").to_owned()).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Saved views

async fn saved_views_are_private_unless_a_manager_shares_them(backend: TestBackend) {
    let d = desk(backend).await;
    let mine = d.reader.post(VIEWS, &json!({ "name": "  Big ones  ", "spec": spec() })).await.ok(StatusCode::CREATED);
    assert_eq!(
        (mine["name"].clone(), mine["shared"].clone(), mine["mine"].clone()),
        (json!("Big ones"), json!(false), json!(true))
    );
    assert_eq!(mine["spec"], spec(), "the setup comes back as saved");

    // A private view is its owner's alone.
    let listed = d.reader.get(VIEWS).await.ok(StatusCode::OK);
    assert_eq!((names(&listed), listed["can_share"].clone()), (vec!["Big ones".to_owned()], json!(false)));
    let managers = d.manager.get(VIEWS).await.ok(StatusCode::OK);
    assert_eq!((names(&managers), managers["can_share"].clone()), (Vec::<String>::new(), json!(true)));
    let view = format!("{VIEWS}/{}", mine["id"].as_str().unwrap_or_default());
    d.manager.patch(&view, &json!({ "name": "taken over" })).await.problem(StatusCode::NOT_FOUND, "not_found");
    d.manager.delete(&view).await.problem(StatusCode::NOT_FOUND, "not_found");

    // Only managers of the type (and administrators) share.
    let p = d.reader.post(VIEWS, &json!({ "name": "For all", "shared": true, "spec": spec() })).await;
    let p = p.problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(p["detail"].as_str().unwrap_or_default().contains("managers of `ticket`"), "{p}");
    d.reader.patch(&view, &json!({ "shared": true })).await.problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(d.admin.get(VIEWS).await.ok(StatusCode::OK)["can_share"], json!(true));

    let team =
        json!({ "name": "Team queue", "shared": true, "spec": { "kind": "board", "filter": "priority = \"high\"" } });
    let team = d.manager.post(VIEWS, &team).await.ok(StatusCode::CREATED);
    let team_path = format!("{VIEWS}/{}", team["id"].as_str().unwrap_or_default());
    let listed = d.reader.get(VIEWS).await.ok(StatusCode::OK);
    assert_eq!(names(&listed), ["Team queue", "Big ones"], "shared first, then by name");
    assert_eq!(listed["items"][0]["mine"], json!(false));

    // A shared view is changed by its owner alone; the reader renames its own.
    d.reader.patch(&team_path, &json!({ "name": "mine now" })).await.problem(StatusCode::FORBIDDEN, "forbidden");
    d.reader.delete(&team_path).await.problem(StatusCode::FORBIDDEN, "forbidden");
    let renamed = d.reader.patch(&view, &json!({ "name": "Large tickets" })).await.ok(StatusCode::OK);
    assert_eq!((renamed["name"].clone(), renamed["spec"].clone()), (json!("Large tickets"), spec()));
    let unshared = d.manager.patch(&team_path, &json!({ "shared": false })).await.ok(StatusCode::OK);
    assert_eq!(unshared["shared"], json!(false));
    assert_eq!(names(&d.reader.get(VIEWS).await.ok(StatusCode::OK)), ["Large tickets"]);
    d.manager.patch(&team_path, &json!({ "shared": true })).await.ok(StatusCode::OK);

    // An administrator removes a shared view; the owner removes its own.
    assert_eq!(d.admin.delete(&team_path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(d.reader.delete(&view).await.status, StatusCode::NO_CONTENT);
    assert_eq!(names(&d.reader.get(VIEWS).await.ok(StatusCode::OK)), Vec::<String>::new());
    d.reader.delete(&view).await.problem(StatusCode::NOT_FOUND, "not_found");

    // Without read on the type there are no views of it, listed or saved.
    d.outsider.get(VIEWS).await.problem(StatusCode::FORBIDDEN, "forbidden");
    let body = json!({ "name": "sneaky", "spec": { "kind": "list" } });
    d.outsider.post(VIEWS, &body).await.problem(StatusCode::FORBIDDEN, "forbidden");
    d.admin.get("/api/v1/types/nothing/views").await.problem(StatusCode::NOT_FOUND, "not_found");
    d.reader.delete(&format!("{VIEWS}/not-an-id")).await.problem(StatusCode::NOT_FOUND, "not_found");
}

async fn guests_save_private_views_of_portal_types_and_never_see_staff_views(backend: TestBackend) {
    let d = desk(backend).await;
    let staff = json!({ "name": "Party B escalations", "shared": true,
                        "spec": { "kind": "list", "filter": format!("party = \"{}\"", d.party_b) } });
    let staff = d.manager.post(VIEWS, &staff).await.ok(StatusCode::CREATED);

    let own = d.guest.post(VIEWS, &json!({ "name": "My open ones", "spec": { "kind": "board" } })).await;
    let own = own.ok(StatusCode::CREATED);
    let listed = d.guest.get(VIEWS).await;
    let body = listed.ok(StatusCode::OK);
    assert_eq!((names(&body), body["can_share"].clone()), (vec!["My open ones".to_owned()], json!(false)));
    assert!(!listed.text().contains(&d.party_b.to_string()), "no staff view reaches a guest: {}", listed.text());

    // A staff view is not there for a guest, exactly like a missing one.
    let staff_path = format!("{VIEWS}/{}", staff["id"].as_str().unwrap_or_default());
    d.guest.patch(&staff_path, &json!({ "name": "x" })).await.problem(StatusCode::NOT_FOUND, "not_found");
    d.guest.delete(&staff_path).await.problem(StatusCode::NOT_FOUND, "not_found");
    // Guests never share, and have no views of types outside their portal.
    let shared = json!({ "name": "For my colleagues", "shared": true, "spec": { "kind": "list" } });
    d.guest.post(VIEWS, &shared).await.problem(StatusCode::FORBIDDEN, "forbidden");
    d.guest.get("/api/v1/types/memo/views").await.problem(StatusCode::FORBIDDEN, "forbidden");
    // Staff do not see the guest's private view either.
    assert_eq!(names(&d.manager.get(VIEWS).await.ok(StatusCode::OK)), ["Party B escalations"]);
    let own_path = format!("{VIEWS}/{}", own["id"].as_str().unwrap_or_default());
    assert_eq!(d.guest.delete(&own_path).await.status, StatusCode::NO_CONTENT);
}

async fn saved_view_with_bad_input_is_422_naming_each_field(backend: TestBackend) {
    let d = desk(backend).await;
    let bad = json!({ "name": " ", "spec": {
        "kind": "gallery", "columns": ["code", "nope", "code", 7], "sort": "note",
        "filter": "amount >", "filters": { "ghost": { "op": "in", "values": [] } }, "colour": "red" } });
    let p = d.reader.post(VIEWS, &bad).await.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let mut got: Vec<(String, String)> = p["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| (e["pointer"].as_str().unwrap_or("").to_owned(), e["code"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default();
    got.sort();
    let expected: Vec<(String, String)> = [
        ("/name", "required"),
        ("/spec/colour", "unknown_field"),
        ("/spec/columns/1", "unknown_field"),
        ("/spec/columns/2", "duplicate"),
        ("/spec/columns/3", "wrong_type"),
        ("/spec/filter", "invalid_format"),
        ("/spec/filters/ghost", "unknown_field"),
        ("/spec/kind", "unknown_option"),
        ("/spec/sort", "invalid_format"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(got, expected, "{p:#}");

    // A board of a type without a lifecycle; a name too long; a missing setup.
    let memo = d.admin.post("/api/v1/types/memo/views", &json!({ "name": "b", "spec": { "kind": "board" } })).await;
    let p = memo.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(p["errors"][0]["pointer"], "/spec/kind", "{p:#}");
    let long = "x".repeat(81);
    let p = d
        .reader
        .post(VIEWS, &json!({ "name": long }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(p["errors"].as_array().map(Vec::len), Some(2), "{p:#}");
    // An unknown key in the body is a malformed request, named.
    let p = d.reader.post(VIEWS, &json!({ "name": "a", "spec": spec(), "public": true })).await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.text());

    // Names are unique per owner and type: the second is a problem of `name`.
    d.reader.post(VIEWS, &json!({ "name": "Twice", "spec": spec() })).await.ok(StatusCode::CREATED);
    let p = d.reader.post(VIEWS, &json!({ "name": "Twice", "spec": spec() })).await;
    let p = p.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(
        (p["errors"][0]["pointer"].clone(), p["errors"][0]["code"].clone()),
        (json!("/name"), json!("duplicate"))
    );
    // Another owner may use the same name.
    d.manager.post(VIEWS, &json!({ "name": "Twice", "spec": spec() })).await.ok(StatusCode::CREATED);
    // A bad change leaves the view as it was.
    let other = d.reader.post(VIEWS, &json!({ "name": "Other", "spec": spec() })).await.ok(StatusCode::CREATED);
    let path = format!("{VIEWS}/{}", other["id"].as_str().unwrap_or_default());
    let p = d
        .reader
        .patch(&path, &json!({ "name": "Twice" }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(p["errors"][0]["pointer"], "/name");
    let p = d.reader.patch(&path, &json!({ "spec": { "kind": "list", "filter": "nope = 1" } })).await;
    p.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let listed = d.reader.get(VIEWS).await.ok(StatusCode::OK);
    let other = listed["items"].as_array().and_then(|a| a.iter().find(|v| v["name"] == "Other").cloned());
    assert_eq!(other.map(|v| v["spec"].clone()), Some(spec()));
}

// ---------------------------------------------------------------------------------------
// Bulk actions

const BULK: &str = "/api/v1/records/ticket/bulk-actions";

fn item(record: &Value) -> Value {
    json!({ "id": record["id"], "version": record["version"] })
}

async fn state_of(d: &Desk, record: &Value) -> String {
    let id = record["id"].as_str().unwrap_or_default();
    let got = d.admin.get(&format!("/api/v1/records/ticket/{id}")).await.ok(StatusCode::OK);
    got["state"].as_str().unwrap_or_default().to_owned()
}

async fn bulk_transition_answers_for_each_record_on_its_own(backend: TestBackend) {
    let d = desk(backend).await;
    let ok = ticket(&d.admin, "T-1", "10.00", d.party_a).await;
    let guarded = ticket(&d.admin, "T-2", "0.00", d.party_a).await;
    let stale = ticket(&d.admin, "T-3", "5.00", d.party_a).await;
    let done = ticket(&d.admin, "T-4", "7.00", d.party_b).await;
    let id = done["id"].as_str().unwrap_or_default();
    d.admin.post(&format!("/api/v1/records/ticket/{id}/transitions/close"), &json!({})).await.ok(StatusCode::OK);
    let done = d.admin.get(&format!("/api/v1/records/ticket/{id}")).await.ok(StatusCode::OK);
    let id = stale["id"].as_str().unwrap_or_default();
    d.admin
        .send(Method::PATCH, &format!("/api/v1/records/ticket/{id}"), Some(&json!({ "note": "changed" })))
        .await
        .ok(StatusCode::OK);
    let missing = Uuid::now_v7().to_string();

    let body = json!({ "action": "transition", "transition": "close", "items": [
        item(&ok), item(&guarded), item(&stale), item(&done), { "id": missing }, { "id": "garbage" } ] });
    let report = d.manager.post(BULK, &body).await.ok(StatusCode::OK);
    let statuses: Vec<u64> = report["results"]
        .as_array()
        .map(|r| r.iter().map(|x| x["status"].as_u64().unwrap_or(0)).collect())
        .unwrap_or_default();
    assert_eq!(statuses, [200, 422, 412, 409, 404, 404], "{report:#}");
    assert_eq!((report["succeeded"].clone(), report["failed"].clone()), (json!(1), json!(5)));
    let results = &report["results"];
    assert_eq!(
        (results[0]["id"].clone(), results[0]["record"]["state"].clone(), results[0]["version"].clone()),
        (ok["id"].clone(), json!("closed"), json!(2))
    );
    assert_eq!(results[1]["problem"]["errors"][0]["code"], "guard_failed", "{report:#}");
    assert_eq!(results[2]["problem"]["current_version"], json!(2), "{report:#}");
    assert_eq!(results[5]["id"], "garbage");
    // Each record moved or stayed on its own.
    let states = [state_of(&d, &ok).await, state_of(&d, &guarded).await, state_of(&d, &stale).await];
    assert_eq!(states, ["closed", "open", "open"]);

    // A guest selecting another party's record learns nothing more than "not found".
    let guest_role = json!({ "name": "portal", "for_guests": true,
        "grants": [{ "type": "ticket", "actions": ["read", "transition:close"], "scope": "party" }] });
    d.admin.send(Method::PUT, "/api/v1/admin/roles/portal", Some(&guest_role)).await.ok(StatusCode::OK);
    let b_open = ticket(&d.admin, "T-5", "9.00", d.party_b).await;
    let a_open = ticket(&d.admin, "T-6", "9.00", d.party_a).await;
    let body = json!({ "action": "transition", "transition": "close", "items": [item(&b_open), item(&a_open)] });
    let answer = d.guest.post(BULK, &body).await;
    let report = answer.ok(StatusCode::OK);
    assert_eq!(
        (report["results"][0]["status"].clone(), report["results"][1]["status"].clone()),
        (json!(404), json!(200)),
        "{report:#}"
    );
    assert!(!answer.text().contains("T-5"), "{}", answer.text());
    assert_eq!(state_of(&d, &b_open).await, "open");

    // Requests that cannot start are refused whole.
    let p = d.manager.post(BULK, &json!({ "action": "transition", "items": [item(&ok)] })).await;
    assert_eq!(p.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["pointer"], "/transition");
    let p = d.manager.post(BULK, &json!({ "action": "delete", "items": [] })).await;
    assert_eq!(p.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["pointer"], "/items");
    let many: Vec<Value> = (0..501).map(|_| json!({ "id": Uuid::now_v7() })).collect();
    d.manager
        .post(BULK, &json!({ "action": "delete", "items": many }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let twice = json!({ "action": "delete", "items": [item(&a_open), item(&a_open)] });
    d.manager.post(BULK, &twice).await.problem(StatusCode::BAD_REQUEST, "bad_request");
    let p = d
        .manager
        .post("/api/v1/records/nothing/bulk-actions", &json!({ "action": "delete", "items": [{ "id": missing }] }))
        .await;
    p.problem(StatusCode::NOT_FOUND, "not_found");
}

async fn bulk_transition_inputs_and_bulk_delete(backend: TestBackend) {
    let d = desk(backend).await;
    let one = ticket(&d.admin, "R-1", "1.00", d.party_a).await;
    let two = ticket(&d.admin, "R-2", "2.00", d.party_a).await;
    // Without its required input, each record says which field is missing.
    let body = json!({ "action": "transition", "transition": "reject", "items": [item(&one), item(&two)] });
    let report = d.manager.post(BULK, &body).await.ok(StatusCode::OK);
    for r in report["results"].as_array().into_iter().flatten() {
        assert_eq!(
            (r["status"].clone(), r["problem"]["errors"][0]["pointer"].clone()),
            (json!(422), json!("/why")),
            "{report:#}"
        );
    }
    let body = json!({ "action": "transition", "transition": "reject", "inputs": { "why": "duplicate" },
                       "items": [item(&one), item(&two)] });
    let report = d.manager.post(BULK, &body).await.ok(StatusCode::OK);
    assert_eq!(report["succeeded"], json!(2), "{report:#}");
    assert_eq!(report["results"][1]["record"]["reason"], json!("duplicate"));

    let three = ticket(&d.admin, "R-3", "3.00", d.party_a).await;
    let body = json!({ "action": "delete", "items": [item(&three), { "id": one["id"], "version": 1 }] });
    let report = d.manager.post(BULK, &body).await.ok(StatusCode::OK);
    let statuses: Vec<Value> =
        report["results"].as_array().map(|r| r.iter().map(|x| x["status"].clone()).collect()).unwrap_or_default();
    assert_eq!(statuses, [json!(204), json!(412)], "the rejected record moved on to version 2: {report:#}");
    let id = three["id"].as_str().unwrap_or_default();
    d.admin.get(&format!("/api/v1/records/ticket/{id}")).await.problem(StatusCode::NOT_FOUND, "not_found");
    // A delete takes no transition.
    let body = json!({ "action": "delete", "transition": "close", "items": [item(&two)] });
    d.manager.post(BULK, &body).await.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

async fn bulk_action_without_permission_refuses_each_record_and_writes_nothing(backend: TestBackend) {
    let d = desk(backend).await;
    let one = ticket(&d.admin, "P-1", "1.00", d.party_a).await;
    let two = ticket(&d.admin, "P-2", "2.00", d.party_a).await;
    for action in [json!({ "action": "transition", "transition": "close" }), json!({ "action": "delete" })] {
        let mut body = action.clone();
        body["items"] = json!([item(&one), item(&two)]);
        let report = d.reader.post(BULK, &body).await.ok(StatusCode::OK);
        assert_eq!(report["succeeded"], json!(0), "{report:#}");
        for r in report["results"].as_array().into_iter().flatten() {
            assert_eq!(
                (r["status"].clone(), r["problem"]["code"].clone()),
                (json!(403), json!("forbidden")),
                "{report:#}"
            );
        }
        // The outsider may not even see them.
        let report = d.outsider.post(BULK, &body).await.ok(StatusCode::OK);
        for r in report["results"].as_array().into_iter().flatten() {
            assert!(r["status"] == json!(404) || r["status"] == json!(403), "{report:#}");
        }
    }
    assert_eq!([state_of(&d, &one).await, state_of(&d, &two).await], ["open", "open"]);
    for r in [&one, &two] {
        let id = r["id"].as_str().unwrap_or_default();
        assert_eq!(d.admin.get(&format!("/api/v1/records/ticket/{id}")).await.ok(StatusCode::OK)["version"], json!(1));
    }
}

async fn calendar_views_keep_their_date_field_and_month(backend: TestBackend) {
    let d = desk(backend).await;
    let spec = json!({ "kind": "calendar", "date_field": "due", "month": "2026-03", "filter": "amount > 1" });
    let saved = d.reader.post(VIEWS, &json!({ "name": "Due in March", "spec": spec })).await.ok(StatusCode::CREATED);
    assert_eq!(saved["spec"]["date_field"], "due");
    assert_eq!(saved["spec"]["month"], "2026-03");
    let list = d.reader.get(VIEWS).await.ok(StatusCode::OK);
    assert_eq!(list["items"][0]["spec"], saved["spec"]);
    // Without them: the first date field, the month it is opened in.
    let plain = d
        .reader
        .post(VIEWS, &json!({ "name": "Calendar", "spec": { "kind": "calendar" } }))
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(plain["spec"].get("date_field"), None);

    // Every bad part named at once.
    let bad = json!({ "name": "Bad", "spec": { "kind": "calendar", "date_field": "note", "month": "2026-13" } });
    let p = d.reader.post(VIEWS, &bad).await.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let pointers: Vec<&str> =
        p["errors"].as_array().map(|e| e.iter().filter_map(|e| e["pointer"].as_str()).collect()).unwrap_or_default();
    assert_eq!(pointers, ["/spec/date_field", "/spec/month"], "{p:#}");
    let list_kind = json!({ "name": "Bad", "spec": { "kind": "list", "date_field": "due", "month": "2026-03" } });
    let p = d.reader.post(VIEWS, &list_kind).await.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(p["errors"].as_array().map(Vec::len), Some(2), "{p:#}");
    // Changing the month of one's own view.
    let id = saved["id"].as_str().unwrap_or_default();
    let moved = json!({ "spec": { "kind": "calendar", "date_field": "due", "month": "2026-04" } });
    let changed = d.reader.patch(&format!("{VIEWS}/{id}"), &moved).await.ok(StatusCode::OK);
    assert_eq!(changed["spec"]["month"], "2026-04");
}

// ---------------------------------------------------------------------------------------
// Export

/// The strings of an XLSX file's first sheet, row by row (shared strings resolved,
/// numbers as written).
fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an XLSX is a zip");
    let mut read = |name: &str| {
        let mut text = String::new();
        if let Ok(mut file) = zip.by_name(name) {
            file.read_to_string(&mut text).expect("read");
        }
        text
    };
    let shared_xml = read("xl/sharedStrings.xml");
    let sheet = read("xl/worksheets/sheet1.xml");
    let between = |text: &str, open: &str, close: &str| -> Vec<String> {
        text.split(open).skip(1).filter_map(|s| s.split(close).next().map(str::to_owned)).collect()
    };
    let shared: Vec<String> = between(&shared_xml, "<si>", "</si>")
        .iter()
        // `<t>text</t>` runs: the text after each run's opening tag.
        .map(|si| si.split("</t>").filter_map(|run| run.rsplit_once('>').map(|(_, text)| text)).collect::<String>())
        .map(|s| s.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\""))
        .collect();
    between(&sheet, "<row ", "</row>")
        .iter()
        .map(|row| {
            row.split("<c ")
                .skip(1)
                .map(|cell| {
                    let value = between(cell, "<v>", "</v>").into_iter().next().unwrap_or_default();
                    if cell.contains("t=\"s\"") { shared[value.parse::<usize>().unwrap_or(0)].clone() } else { value }
                })
                .collect()
        })
        .collect()
}

async fn export_holds_the_lists_columns_filter_and_order_as_csv_and_xlsx(backend: TestBackend) {
    let d = desk(backend).await;
    for (code, amount) in [("E-1", "5.00"), ("E-2", "50.00"), ("E-3", "500.00"), ("E-4", "1.00")] {
        ticket(&d.admin, code, amount, d.party_a).await;
    }
    let query = "filter=amount%20%3E%202&sort=-amount&columns=code,amount,state,due,priority";
    let csv = d.manager.get(&format!("/api/v1/records/ticket/export?{query}&lang=en")).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text());
    assert!(csv.content_type.starts_with("text/csv"), "{}", csv.content_type);
    assert_eq!(
        csv.text().lines().collect::<Vec<_>>(),
        [
            "Code,Amount,State,Due,Priority",
            "E-3,500.00,Open,2026-12-24,High",
            "E-2,50.00,Open,2026-12-24,High",
            "E-1,5.00,Open,2026-12-24,High"
        ]
    );
    // Without a language: machine names and stored values, as integrations read them.
    let raw = d.manager.get(&format!("/api/v1/records/ticket/export?{query}")).await;
    assert_eq!(raw.text().lines().next(), Some("code,amount,state,due,priority"));
    assert_eq!(raw.text().lines().nth(1), Some("E-3,500.00,open,2026-12-24,high"));

    let xlsx = d.manager.get(&format!("/api/v1/records/ticket/export?{query}&format=xlsx&lang=zh")).await;
    assert_eq!((xlsx.status, xlsx.content_type.as_str()), (StatusCode::OK, XLSX), "{}", xlsx.text());
    let rows = xlsx_rows(&xlsx.bytes);
    assert_eq!(rows[0], ["编码", "金额", "状态", "到期", "优先级"]);
    let codes: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(codes, ["E-3", "E-2", "E-1"]);
    // Amounts are numbers, dates Excel dates (2026-12-24 is day 46380), labels in Chinese.
    assert_eq!(rows[1][1..], ["500", "待处理", "46380", "高"]);

    // Bad columns and sorts are refused with the reason, not ignored.
    let p = d.manager.get("/api/v1/records/ticket/export?columns=code,secret_sauce&format=xlsx").await;
    let p = p.problem(StatusCode::BAD_REQUEST, "bad_request");
    assert!(p["detail"].as_str().unwrap_or_default().contains("secret_sauce"), "{p}");
    d.manager.get("/api/v1/records/ticket/export?sort=note").await.problem(StatusCode::BAD_REQUEST, "bad_request");
    d.manager.get("/api/v1/records/ticket/export?format=pdf").await.problem(StatusCode::BAD_REQUEST, "bad_request");
    // Reading is not exporting.
    d.reader.get("/api/v1/records/ticket/export?format=xlsx").await.problem(StatusCode::FORBIDDEN, "forbidden");
}

async fn guest_export_holds_only_its_partys_records_and_needs_export(backend: TestBackend) {
    let d = desk(backend).await;
    for (code, party) in [("A-1", d.party_a), ("A-2", d.party_a), ("B-1", d.party_b), ("B-2", d.party_b)] {
        ticket(&d.admin, code, "3.00", party).await;
    }
    let b_filter = format!("party = \"{}\" or code = \"B-1\"", d.party_b);
    for format in ["csv", "xlsx"] {
        let everything =
            d.guest.get(&format!("/api/v1/records/ticket/export?format={format}&columns=code,party")).await;
        assert_eq!(everything.status, StatusCode::OK, "{}", everything.text());
        let codes: Vec<String> = if format == "xlsx" {
            xlsx_rows(&everything.bytes)[1..].iter().map(|r| r[0].clone()).collect()
        } else {
            everything.text().lines().skip(1).map(|l| l.split(',').next().unwrap_or("").to_owned()).collect()
        };
        assert_eq!(codes, ["A-1", "A-2"], "{format}");
        // Asking for B by filter finds nothing of B.
        let path = format!("/api/v1/records/ticket/export?format={format}&filter={}", urlencode(&b_filter));
        let answer = d.guest.get(&path).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let rows = if format == "xlsx" { xlsx_rows(&answer.bytes).len() } else { answer.text().lines().count() };
        assert_eq!(rows, 1, "only the header ({format})");
        // Without the export role: refused, naming the permission.
        let p = d.guest_no_export.get(&format!("/api/v1/records/ticket/export?format={format}")).await;
        let p = p.problem(StatusCode::FORBIDDEN, "forbidden");
        assert!(p["detail"].as_str().unwrap_or_default().contains("`export`"), "{p}");
    }
    // The administrator's export does hold B (the guest's answer is not a fluke).
    let all = d.admin.get("/api/v1/records/ticket/export?columns=code").await;
    assert_eq!(all.text().lines().count(), 5, "{}", all.text());
}

async fn export_never_hands_a_spreadsheet_a_formula(backend: TestBackend) {
    let d = desk(backend).await;
    let evil = "=HYPERLINK(\"http://x.example\",\"hi\")";
    for (code, amount, note) in [
        ("F-1", "-12.50", evil),
        ("F-2", "3.00", "+86 10 5555"),
        ("F-3", "2.00", "-minus"),
        ("F-4", "1.00", "@SUM(A1)"),
        ("F-5", "0.50", "\tcmd"),
        ("F-6", "0.25", "plain = text"),
    ] {
        d.admin
            .post(
                "/api/v1/records/ticket",
                &json!({ "code": code, "amount": amount, "note": note, "party": d.party_a }),
            )
            .await
            .ok(StatusCode::CREATED);
    }
    let query = "columns=code,amount,note&sort=code";
    let csv = d.manager.get(&format!("/api/v1/records/ticket/export?{query}")).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text());
    let mut reader = csv::Reader::from_reader(csv.bytes.as_slice());
    let rows: Vec<Vec<String>> =
        reader.records().map(|r| r.expect("a CSV row").iter().map(str::to_owned).collect()).collect();
    let expected = [
        ["F-1", "-12.50", "'=HYPERLINK(\"http://x.example\",\"hi\")"],
        ["F-2", "3.00", "'+86 10 5555"],
        ["F-3", "2.00", "'-minus"],
        ["F-4", "1.00", "'@SUM(A1)"],
        ["F-5", "0.50", "'\tcmd"],
        ["F-6", "0.25", "plain = text"],
    ];
    // A negative amount is a number in a numeric column and stays one.
    assert_eq!(rows, expected.map(|r| r.map(str::to_owned).to_vec()));
    // With labels too.
    let labelled = d.manager.get(&format!("/api/v1/records/ticket/export?{query}&lang=en")).await;
    assert!(labelled.text().contains("\"'=HYPERLINK("), "{}", labelled.text());

    // XLSX: every text is a string cell, never a formula; the negative amount is a number.
    let xlsx = d.manager.get(&format!("/api/v1/records/ticket/export?{query}&format=xlsx")).await;
    assert_eq!((xlsx.status, xlsx.content_type.as_str()), (StatusCode::OK, XLSX), "{}", xlsx.text());
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx.bytes.clone())).expect("zip");
    let mut sheet = String::new();
    zip.by_name("xl/worksheets/sheet1.xml").expect("sheet").read_to_string(&mut sheet).expect("read");
    assert!(!sheet.contains("<f>") && !sheet.contains("<f "), "no formula cells: {sheet}");
    let rows = xlsx_rows(&xlsx.bytes);
    assert_eq!(rows[1], ["F-1", "-12.5", evil]);
    assert_eq!(rows[3][2], "-minus");
}

fn customer_type() -> Value {
    json!({ "name": "customer", "label": label("Customer", "客户"), "title_field": "name",
            "fields": [{ "name": "name", "label": label("Name", "名称"), "type": "text", "required": true }] })
}

fn order_type() -> Value {
    json!({ "name": "sales_order", "label": label("Sales order", "销售订单"), "title_field": "code",
            "fields": [
                { "name": "code", "label": label("Code", "编码"), "type": "text", "required": true },
                { "name": "customer", "label": label("Customer", "客户"), "type": "reference", "target": "customer" },
                { "name": "client", "label": label("Client", "伙伴"), "type": "party" },
                { "name": "rep", "label": label("Rep", "销售"), "type": "principal" },
                { "name": "dept", "label": label("Department", "部门"), "type": "org_unit" }
            ] })
}

async fn export_for_people_shows_references_by_title_as_far_as_the_reader_may_read(backend: TestBackend) {
    let app = spawn_app(backend).await;
    app.workspace.install_builtin_apps().await.expect("the core app installs");
    let admin = Caller::new(&app, &app.admin_token);
    for decl in [customer_type(), order_type()] {
        admin.post("/api/v1/types", &decl).await.ok(StatusCode::CREATED);
    }
    // The clerk reads and exports orders but not customers nor parties.
    let clerk_role = json!({ "name": "order_clerk", "grants": [
        { "type": "sales_order", "actions": ["read", "export"], "scope": "all" }] });
    admin.send(Method::PUT, "/api/v1/admin/roles/order_clerk", Some(&clerk_role)).await.ok(StatusCode::OK);
    let clerk = app.create_member("clerk@example.com", None, &["order_clerk"]).await;
    let clerk = Caller::new(&app, &app.token_for(clerk, None).await);
    let rep = app.create_member("wang.fang", None, &[]).await;

    let customer = admin.post("/api/v1/records/customer", &json!({ "name": "=Acme" })).await.ok(StatusCode::CREATED);
    let party = admin
        .post("/api/v1/records/party", &json!({ "name": "Hengda Trading", "kind": "organisation" }))
        .await
        .ok(StatusCode::CREATED);
    let unit = admin.post("/api/v1/admin/org/units", &json!({ "name": "Sales East" })).await.ok(StatusCode::CREATED);
    let (customer_id, party_id, unit_id) = (
        customer["id"].as_str().unwrap_or_default().to_owned(),
        party["id"].as_str().unwrap_or_default().to_owned(),
        unit["id"].as_str().unwrap_or_default().to_owned(),
    );
    admin
        .post(
            "/api/v1/records/sales_order",
            &json!({ "code": "SO-1", "customer": customer_id, "client": party_id, "rep": rep, "dept": unit_id }),
        )
        .await
        .ok(StatusCode::CREATED);

    let query = "columns=code,customer,client,rep,dept";
    let csv_rows = |answer: &Answer| -> Vec<Vec<String>> {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let mut reader = csv::Reader::from_reader(answer.bytes.as_slice());
        reader.records().map(|r| r.expect("a CSV row").iter().map(str::to_owned).collect()).collect()
    };
    // The administrator reads everything: titles (the customer's escaped as text), names.
    let rows = csv_rows(&admin.get(&format!("/api/v1/records/sales_order/export?{query}&lang=en")).await);
    assert_eq!(rows, [["SO-1", "'=Acme", "Hengda Trading", "wang.fang", "Sales East"]]);
    let xlsx = admin.get(&format!("/api/v1/records/sales_order/export?{query}&lang=zh&format=xlsx")).await;
    assert_eq!(xlsx_rows(&xlsx.bytes)[1], ["SO-1", "=Acme", "Hengda Trading", "wang.fang", "Sales East"]);

    // The clerk may not read customers or parties: those stay ids, never a leaked title.
    let rows = csv_rows(&clerk.get(&format!("/api/v1/records/sales_order/export?{query}&lang=en")).await);
    let rep_id = rep.to_string();
    assert_eq!(rows, [["SO-1", customer_id.as_str(), party_id.as_str(), "wang.fang", "Sales East"]]);

    // Without a language (what integrations read): ids, as the API gives them.
    let rows = csv_rows(&admin.get(&format!("/api/v1/records/sales_order/export?{query}")).await);
    assert_eq!(rows, [["SO-1", customer_id.as_str(), party_id.as_str(), rep_id.as_str(), unit_id.as_str()]]);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
