//! Processes and tasks over HTTP, on SQLite and PostgreSQL: a purchase order approval from
//! deployment to the record's transition; refused definitions and bad inputs (every problem
//! listed, always problem+json, never a 500); who may act on a task and who may not see an
//! instance at all (strangers and guests get 404, as for what does not exist); 加签 (an
//! approver added before or after the holder) with its refusals at their fields.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_testkit::fixtures::purchase_order;
use weft_testkit::{TestApp, TestBackend, bearer_client, on_both_databases, people, spawn_app};
use weft_workspace::delegation::{NewDelegation, format_day};

const PROBLEM: &str = "application/problem+json";

on_both_databases!(
    an_approval_runs_over_http_and_transitions_the_record,
    bad_definitions_and_inputs_are_listed_problems,
    forms_candidates_delegation_and_stale_etags,
    strangers_and_guests_see_nothing_of_others_processes,
    incidents_metrics_and_calendars_are_for_administrators,
    the_openapi_document_describes_processes_and_tasks,
    an_approver_is_added_before_and_after_over_http_and_bad_input_is_refused_at_its_field,
    running_instances_move_to_a_new_version_only_when_an_administrator_says_so,
);

fn fixture(name: &str) -> String {
    let path = format!("{}/../weft-process/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An inspection: candidates of role `buyers` fill a form.
const INSPECTION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:weft="http://weft.dev/schema/bpmn/1.0" id="d_inspection" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="inspection" name="Goods inspection" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="inspect" name="Inspect the goods">
      <bpmn:extensionElements>
        <zeebe:assignmentDefinition candidateGroups="buyers" />
        <weft:form>
          <weft:field name="result" type="text" required="true" options="pass,fail" label="Result" labelZh="结论" />
          <weft:field name="sample_size" type="integer" required="true" />
          <weft:field name="checked_on" type="date" />
        </weft:form>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" default="f_fail"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_pass</bpmn:outgoing><bpmn:outgoing>f_fail</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="passed"><bpmn:incoming>f_pass</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="failed"><bpmn:incoming>f_fail</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="inspect" />
    <bpmn:sequenceFlow id="f2" sourceRef="inspect" targetRef="gw" />
    <bpmn:sequenceFlow id="f_pass" sourceRef="gw" targetRef="passed">
      <bpmn:conditionExpression>=result = "pass"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_fail" sourceRef="gw" targetRef="failed" />
  </bpmn:process>
</bpmn:definitions>"#;

/// An answer read whole.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    content_type: String,
    etag: Option<String>,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    fn ok(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        self.json()
    }

    /// A problem document with this status and code.
    fn problem(&self, status: u16, code: &str) -> Value {
        let body = self.json();
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(self.content_type, PROBLEM, "{}", self.text);
        assert_eq!(body["status"], status, "{}", self.text);
        assert_eq!(body["code"], code, "{}", self.text);
        body
    }

    fn pointers(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["pointer"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

/// Someone calling the API with a bearer token.
#[derive(Clone)]
struct Caller {
    base: String,
    client: reqwest::Client,
    id: Uuid,
}

impl Caller {
    async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let content_type = header("content-type").unwrap_or_default();
        let etag = header("etag");
        let text = response.text().await.expect("body");
        assert!(status.as_u16() < 500, "{path}: {status} {text}");
        if status.is_client_error() {
            assert_eq!(content_type, PROBLEM, "{path}: {text}");
        }
        Answer { status, content_type, etag, text }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None, &[]).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    async fn xml(&self, path: &str, xml: &str) -> Answer {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/xml")
            .body(xml.to_owned())
            .send()
            .await
            .expect("request");
        let status = response.status();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let text = response.text().await.expect("body");
        assert!(status.as_u16() < 500, "{path}: {status} {text}");
        Answer { status, content_type, etag: None, text }
    }
}

struct Company {
    app: TestApp,
    admin: Caller,
    starter: Caller,
    manager: Caller,
    deputy: Caller,
    buyer: Caller,
    buyer2: Caller,
    other: Caller,
}

async fn caller(app: &TestApp, login: &str, roles: &[&str]) -> Caller {
    let id = app.create_member(login, None, roles).await;
    let token = app.token_for(id, None).await;
    Caller { base: app.base_url.clone(), client: bearer_client(&token), id }
}

/// Sales (headed by the manager, the starter works there) declares purchase orders; two
/// buyers hold role `buyers`; a deputy and someone unrelated are plain employees.
async fn company(backend: TestBackend) -> Company {
    let app = spawn_app(backend).await;
    let admin = Caller { base: app.base_url.clone(), client: app.client.clone(), id: app.admin_id };
    admin.post("/api/v1/types", purchase_order()).await.ok(201);
    let buyers = json!({ "name": "buyers", "grants": [] });
    admin.send(Method::PUT, "/api/v1/admin/roles/buyers", Some(buyers), &[]).await.ok(200);
    let starter = caller(&app, "starter@example.com", &["employee"]).await;
    let manager = caller(&app, "manager@example.com", &["employee"]).await;
    let deputy = caller(&app, "deputy@example.com", &["employee"]).await;
    let buyer = caller(&app, "buyer@example.com", &["employee", "buyers"]).await;
    let buyer2 = caller(&app, "buyer2@example.com", &["employee", "buyers"]).await;
    let other = caller(&app, "other@example.com", &["employee"]).await;
    let sales = people::unit(&app.workspace, "Sales", None).await;
    people::join(&app.workspace, &Principal::member(manager.id), sales, true).await;
    people::join(&app.workspace, &Principal::member(starter.id), sales, true).await;
    app.workspace.set_unit_manager(&app.admin(), sales, Some(manager.id)).await.expect("sales head");
    Company { app, admin, starter, manager, deputy, buyer, buyer2, other }
}

async fn deploy_po_approval(c: &Company) -> Value {
    c.admin.xml("/api/v1/processes?record_type=purchase_order", &fixture("three_tier.bpmn")).await.ok(201)
}

/// A submitted purchase order of `by`, optionally for a party (set by the administrator).
async fn submitted_order(by: &Caller, amount: &str, party: Option<Uuid>) -> String {
    let mut body = json!({ "subject": "Steel", "amount": amount });
    if let Some(party) = party {
        body["party"] = json!(party);
    }
    let created = by.post("/api/v1/records/purchase_order", body).await.ok(201);
    let id = created["id"].as_str().unwrap().to_owned();
    by.post(&format!("/api/v1/records/purchase_order/{id}/transitions/submit"), json!({})).await.ok(200);
    id
}

fn po(id: &str) -> Value {
    json!({ "type": "purchase_order", "id": id })
}

async fn an_approval_runs_over_http_and_transitions_the_record(backend: TestBackend) {
    let c = company(backend).await;
    let deployed = deploy_po_approval(&c).await;
    assert_eq!(deployed["items"][0]["key"], "po_approval", "{deployed}");
    assert_eq!(deployed["items"][0]["version"], 1);
    // The same XML again: the stored version, 200.
    let again = c.admin.xml("/api/v1/processes?record_type=purchase_order", &fixture("three_tier.bpmn")).await.ok(200);
    assert_eq!(again["items"][0]["unchanged"], true);

    let list = c.starter.get("/api/v1/processes").await.ok(200);
    assert_eq!(list["items"][0]["key"], "po_approval", "{list}");
    assert_eq!(list["items"][0]["record_type"], "purchase_order");
    assert!(list["items"][0].get("xml").is_none());
    let versions = c.starter.get("/api/v1/processes/po_approval/versions").await.ok(200);
    assert_eq!(versions["items"].as_array().unwrap().len(), 1);
    let one = c.starter.get("/api/v1/processes/po_approval/versions/1").await.ok(200);
    assert!(one["xml"].as_str().unwrap().contains("manager_chain:1"));

    let order = submitted_order(&c.starter, "800", None).await;
    let started = c
        .starter
        .send(
            Method::POST,
            "/api/v1/processes/po_approval/instances",
            Some(json!({ "record": po(&order) })),
            &[("idempotency-key", "po-800")],
        )
        .await;
    let instance = started.ok(201);
    let id = instance["id"].as_str().unwrap().to_owned();
    assert_eq!(instance["status"], "active");
    assert_eq!(instance["record"], po(&order));
    assert_eq!(instance["variables"]["amount"], "800.00", "{instance}");
    assert_eq!(instance["tokens"][0]["element"], "manager_approve");
    // A retry with the same key is the same instance.
    let replay = c
        .starter
        .send(
            Method::POST,
            "/api/v1/processes/po_approval/instances",
            Some(json!({ "record": po(&order) })),
            &[("idempotency-key", "po-800")],
        )
        .await
        .ok(201);
    assert_eq!(replay["id"], instance["id"]);

    // The manager (the starter's manager) has it in their tasks.
    let mine = c.manager.get("/api/v1/tasks/mine").await.ok(200);
    let tasks = mine["items"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{mine}");
    assert_eq!(tasks[0]["element"], "manager_approve");
    assert_eq!(tasks[0]["record"], po(&order));
    assert_eq!(tasks[0]["assignee"], json!(c.manager.id));
    let task = tasks[0]["id"].as_str().unwrap().to_owned();
    assert!(c.other.get("/api/v1/tasks/mine").await.ok(200)["items"].as_array().unwrap().is_empty());

    // The starter may know the task exists but may not decide it; a stranger learns nothing.
    c.starter.post(&format!("/api/v1/tasks/{task}/approve"), json!({})).await.problem(403, "forbidden");
    c.other.post(&format!("/api/v1/tasks/{task}/approve"), json!({})).await.problem(404, "not_found");
    c.other.get(&format!("/api/v1/tasks/{task}")).await.problem(404, "not_found");

    let read = c.manager.get(&format!("/api/v1/tasks/{task}")).await;
    let etag = read.etag.clone().expect("a task has an ETag");
    assert_eq!(format!("\"{}\"", read.ok(200)["etag"].as_str().unwrap()), etag);
    let approved = c
        .manager
        .send(
            Method::POST,
            &format!("/api/v1/tasks/{task}/approve"),
            Some(json!({ "comment": "fine" })),
            &[("if-match", &etag)],
        )
        .await
        .ok(200);
    assert_eq!(approved["status"], "completed");
    assert_eq!(approved["outcome"], json!({ "approved": true, "comment": "fine" }));
    // Deciding twice is a conflict.
    c.manager.post(&format!("/api/v1/tasks/{task}/approve"), json!({})).await.problem(409, "conflict");

    // The record transition is a job the worker runs.
    c.app.workspace.run_jobs_until_idle().await.expect("jobs");
    let record = c.starter.get(&format!("/api/v1/records/purchase_order/{order}")).await.ok(200);
    assert_eq!(record["state"], "approved", "{record}");
    let done = c.starter.get(&format!("/api/v1/process-instances/{id}")).await.ok(200);
    assert_eq!(done["status"], "completed", "{done}");
    let steps: Vec<&str> = done["steps"].as_array().unwrap().iter().map(|s| s["element"].as_str().unwrap()).collect();
    assert!(["manager_approve", "mark_approved", "end_approved"].iter().all(|e| steps.contains(e)), "{steps:?}");
    assert_eq!(done["tasks"][0]["status"], "completed");
    // The manager who decided still sees the instance.
    c.manager.get(&format!("/api/v1/process-instances/{id}")).await.ok(200);

    let of_record = c.starter.get(&format!("/api/v1/records/purchase_order/{order}/processes")).await.ok(200);
    assert_eq!(of_record["items"][0]["id"], instance["id"]);

    let metrics = c.starter.get("/api/v1/processes/po_approval/metrics").await.ok(200);
    let step = metrics["steps"].as_array().unwrap().iter().find(|s| s["element"] == "manager_approve").unwrap();
    assert_eq!((step["completed"].as_u64(), step["live"].as_u64()), (Some(1), Some(0)), "{metrics}");
    assert_eq!(metrics["active"], 0);

    let actions: Vec<String> = c.app.audit_entries().await.into_iter().map(|e| e.action).collect();
    for action in ["process.deploy", "process.start", "process.task.approve", "process.job.complete"] {
        assert!(actions.iter().any(|a| a == action), "{action} missing in {actions:?}");
    }

    // Withdraw: only the starter, and only while it runs.
    let small = submitted_order(&c.starter, "50", None).await;
    let second =
        c.starter.post("/api/v1/processes/po_approval/instances", json!({ "record": po(&small) })).await.ok(201);
    let second = second["id"].as_str().unwrap().to_owned();
    c.manager.post(&format!("/api/v1/process-instances/{second}/withdraw"), json!({})).await.problem(403, "forbidden");
    c.other.post(&format!("/api/v1/process-instances/{second}/withdraw"), json!({})).await.problem(404, "not_found");
    let withdrawn = c
        .starter
        .post(&format!("/api/v1/process-instances/{second}/withdraw"), json!({ "reason": "wrong supplier" }))
        .await
        .ok(200);
    assert_eq!(withdrawn["status"], "withdrawn");
    assert!(c.manager.get("/api/v1/tasks/mine").await.ok(200)["items"].as_array().unwrap().is_empty());
    c.starter.post(&format!("/api/v1/process-instances/{second}/withdraw"), json!({})).await.problem(409, "conflict");

    // 我发起的: the starter's own instances, newest first, narrowed by status.
    let mine = c.starter.get("/api/v1/process-instances/mine").await.ok(200);
    let ids: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [second.as_str(), id.as_str()]);
    let withdrawn = c.starter.get("/api/v1/process-instances/mine?status=withdrawn").await.ok(200);
    assert_eq!(withdrawn["items"].as_array().unwrap().len(), 1);
    assert!(c.manager.get("/api/v1/process-instances/mine").await.ok(200)["items"].as_array().unwrap().is_empty());
    c.starter.get("/api/v1/process-instances/mine?status=lost").await.problem(400, "bad_request");
    c.starter.get("/api/v1/process-instances/mine?colour=red").await.problem(400, "bad_request");
}

async fn bad_definitions_and_inputs_are_listed_problems(backend: TestBackend) {
    let c = company(backend).await;
    // Not XML at all, not well-formed, not BPMN.
    let r = c.admin.post("/api/v1/processes", json!({ "xml": "<x/>" })).await;
    r.problem(415, "unsupported_media_type");
    let r = c.admin.xml("/api/v1/processes", "<bpmn:definitions><bpmn:process").await;
    let problem = r.problem(422, "validation_failed");
    assert!(!problem["errors"].as_array().unwrap().is_empty(), "{problem}");

    // Every problem of a broken definition, each pointing at its element.
    let r = c.admin.xml("/api/v1/processes", &fixture("broken.bpmn")).await;
    r.problem(422, "validation_failed");
    let pointers = r.pointers();
    for element in ["/compute", "/gw", "/orphan", "/small", "/call_missing", "/lost_timer"] {
        assert!(pointers.iter().any(|p| p == element), "{element} missing in {pointers:?}");
    }
    // A condition naming an undeclared variable; then declared, it deploys.
    let peer = fixture("peer_spiff_approval.bpmn");
    let r = c.admin.xml("/api/v1/processes", &peer).await;
    let problem = r.problem(422, "validation_failed");
    assert!(problem["errors"].to_string().contains("amount"), "{problem}");
    c.admin.xml("/api/v1/processes?variables=amount", &peer).await.problem(422, "validation_failed");
    c.admin.xml("/api/v1/processes?variables=amount:color", &peer).await.problem(400, "bad_request");
    c.admin.xml("/api/v1/processes?record_type=no_such_type", &peer).await.problem(404, "not_found");
    c.admin.xml("/api/v1/processes?variables=amount:decimal", &peer).await.ok(201);
    // A form field of no known type, and one declared twice.
    let form = INSPECTION
        .replace(r#"name="checked_on" type="date""#, r#"name="checked_on" type="colour""#)
        .replace(r#"<weft:field name="result""#, r#"<weft:field name="sample_size" /><weft:field name="result""#);
    let r = c.admin.xml("/api/v1/processes", &form).await;
    let problem = r.problem(422, "validation_failed");
    assert_eq!(r.pointers(), ["/inspect", "/inspect"], "{problem}");
    // Members may not deploy.
    c.starter.xml("/api/v1/processes?variables=amount:decimal", &peer).await.problem(403, "forbidden");

    // Unknown processes and versions.
    c.starter.post("/api/v1/processes/nothing/instances", json!({})).await.problem(404, "not_found");
    c.starter.get("/api/v1/processes/nothing/versions").await.problem(404, "not_found");
    c.starter.get("/api/v1/processes/approval/versions/7").await.problem(404, "not_found");
    c.starter.get("/api/v1/processes/approval/versions/seven").await.problem(404, "not_found");
    c.starter.get("/api/v1/process-instances/not-an-id").await.problem(404, "not_found");
    c.starter.get(&format!("/api/v1/process-instances/{}", Uuid::now_v7())).await.problem(404, "not_found");
    c.starter.get("/api/v1/tasks/nothing.1").await.problem(404, "not_found");

    // Bad variables: every one listed.
    let r = c
        .starter
        .post(
            "/api/v1/processes/approval/instances",
            json!({ "variables": { "amount": "lots", "colour": "red", "starter": "someone else" } }),
        )
        .await;
    r.problem(422, "validation_failed");
    let mut pointers = r.pointers();
    pointers.sort();
    assert_eq!(pointers, ["/variables/amount", "/variables/colour", "/variables/starter"]);
    c.starter
        .post("/api/v1/processes/approval/instances", json!({ "variables": [1, 2] }))
        .await
        .problem(400, "malformed_json");
    c.starter
        .post("/api/v1/processes/approval/instances", json!({ "variables": {}, "surprise": true }))
        .await
        .problem(400, "malformed_json");
    // A record that does not exist, and one of a type the process is not bound to.
    let missing = po(&Uuid::now_v7().to_string());
    c.starter
        .post("/api/v1/processes/approval/instances", json!({ "record": missing }))
        .await
        .problem(404, "not_found");
    deploy_po_approval(&c).await;
    let order = submitted_order(&c.starter, "800", None).await;
    let started = c
        .starter
        .post("/api/v1/processes/po_approval/instances", json!({ "variables": { "amount": 5 }, "record": po(&order) }))
        .await
        .ok(201);
    // The idempotency key of one start reused for another.
    let key = [("idempotency-key", "k-1")];
    c.starter.send(Method::POST, "/api/v1/processes/approval/instances", Some(json!({})), &key).await.ok(201);
    c.starter
        .send(Method::POST, "/api/v1/processes/po_approval/instances", Some(json!({ "record": po(&order) })), &key)
        .await
        .problem(409, "conflict");
    assert_eq!(started["variables"]["amount"], 5);

    // Task operations with bad bodies.
    let task = c.manager.get("/api/v1/tasks/mine").await.ok(200)["items"][0]["id"].as_str().unwrap().to_owned();
    c.manager.post(&format!("/api/v1/tasks/{task}/transfer"), json!({})).await.problem(400, "malformed_json");
    c.manager
        .post(&format!("/api/v1/tasks/{task}/transfer"), json!({ "to": Uuid::now_v7() }))
        .await
        .problem(400, "bad_request");
    c.manager
        .post(&format!("/api/v1/tasks/{task}/return"), json!({ "element": "no_such_step" }))
        .await
        .problem(409, "conflict");
    c.manager
        .send(Method::POST, &format!("/api/v1/tasks/{task}/approve"), Some(json!({})), &[("if-match", "\"0\"")])
        .await
        .problem(412, "precondition_failed");
}

async fn forms_candidates_delegation_and_stale_etags(backend: TestBackend) {
    let c = company(backend).await;
    c.admin.xml("/api/v1/processes", INSPECTION).await.ok(201);
    let start = |by: Caller| async move {
        let r = by.post("/api/v1/processes/inspection/instances", json!({})).await.ok(201);
        r["id"].as_str().unwrap().to_owned()
    };
    let id = start(c.starter.clone()).await;

    // Candidates see the unassigned task through their role; others do not.
    let mine = c.buyer.get("/api/v1/tasks/mine").await.ok(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    let task = mine["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(mine["items"][0]["candidate_roles"], json!(["buyers"]));
    assert_eq!(c.buyer2.get("/api/v1/tasks/mine").await.ok(200)["items"].as_array().unwrap().len(), 1);
    assert!(c.other.get("/api/v1/tasks/mine").await.ok(200)["items"].as_array().unwrap().is_empty());
    c.other.post(&format!("/api/v1/tasks/{task}/claim"), json!({})).await.problem(404, "not_found");
    // A candidate sees the instance (without being its starter).
    c.buyer.get(&format!("/api/v1/process-instances/{id}")).await.ok(200);

    // The form is part of the task.
    let read = c.buyer.get(&format!("/api/v1/tasks/{task}")).await;
    let before = read.etag.clone().unwrap();
    let body = read.ok(200);
    let form: Vec<&str> = body["form"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(
        (body["form"][0]["label"].as_str(), body["form"][0]["label_zh"].as_str()),
        (Some("Result"), Some("结论"))
    );
    assert!(body["form"][1]["label"].is_null(), "a field without a label has none");
    assert_eq!(form, ["result", "sample_size", "checked_on"]);

    let claimed = c.buyer.post(&format!("/api/v1/tasks/{task}/claim"), json!({})).await.ok(200);
    assert_eq!(claimed["assignee"], json!(c.buyer.id));
    // The other candidate now knows it is someone else's.
    c.buyer2.post(&format!("/api/v1/tasks/{task}/complete"), json!({})).await.problem(403, "forbidden");
    assert!(c.buyer2.get("/api/v1/tasks/mine").await.ok(200)["items"].as_array().unwrap().is_empty());
    // The ETag read before the claim is stale.
    c.buyer
        .send(
            Method::POST,
            &format!("/api/v1/tasks/{task}/complete"),
            Some(json!({ "outputs": { "result": "pass", "sample_size": 5 } })),
            &[("if-match", &before)],
        )
        .await
        .problem(412, "precondition_failed");

    // A form missing required fields, and with values of the wrong kind: every problem.
    let r = c.buyer.post(&format!("/api/v1/tasks/{task}/complete"), json!({ "outputs": {} })).await;
    r.problem(422, "validation_failed");
    assert_eq!(r.pointers(), ["/outputs/result", "/outputs/sample_size"]);
    let bad = json!({ "outputs": { "result": "maybe", "sample_size": "many", "checked_on": "yesterday" } });
    let r = c.buyer.post(&format!("/api/v1/tasks/{task}/complete"), bad).await;
    r.problem(422, "validation_failed");
    assert_eq!(r.pointers(), ["/outputs/result", "/outputs/sample_size", "/outputs/checked_on"]);

    // Delegation (委托): the holder asks the deputy, and both may act; the deputy completes.
    let delegated = c.buyer.post(&format!("/api/v1/tasks/{task}/delegate"), json!({ "to": c.deputy.id })).await.ok(200);
    assert_eq!(
        (delegated["assignee"].clone(), delegated["delegated_from"].clone()),
        (json!(c.deputy.id), json!(c.buyer.id))
    );
    assert_eq!(c.deputy.get("/api/v1/tasks/mine").await.ok(200)["items"][0]["id"], json!(task));
    let good = json!({ "outputs": { "result": "pass", "sample_size": "12", "checked_on": "2026-12-01" } });
    let done = c.deputy.post(&format!("/api/v1/tasks/{task}/complete"), good.clone()).await.ok(200);
    assert_eq!(done["status"], "completed");
    c.deputy.post(&format!("/api/v1/tasks/{task}/complete"), good).await.problem(409, "conflict");
    let instance = c.starter.get(&format!("/api/v1/process-instances/{id}")).await.ok(200);
    assert_eq!(instance["status"], "completed");
    assert_eq!(instance["variables"]["result"], "pass");
    let steps: Vec<&str> =
        instance["steps"].as_array().unwrap().iter().map(|s| s["element"].as_str().unwrap()).collect();
    assert!(steps.contains(&"passed"), "{steps:?}");

    // Out of office: the manager is away today, the deputy stands in and sees the tasks.
    deploy_po_approval(&c).await;
    let order = submitted_order(&c.starter, "900", None).await;
    c.starter.post("/api/v1/processes/po_approval/instances", json!({ "record": po(&order) })).await.ok(201);
    let task = c.manager.get("/api/v1/tasks/mine").await.ok(200)["items"][0]["id"].as_str().unwrap().to_owned();
    let today = format_day(c.app.workspace.process_now().date());
    let absence =
        NewDelegation { from: None, to: c.deputy.id, starts_on: today.clone(), ends_on: today, reason: "leave".into() };
    c.app.workspace.create_delegation(&Principal::member(c.manager.id), absence).await.expect("delegation");
    let mine = c.deputy.get("/api/v1/tasks/mine").await.ok(200);
    assert_eq!(mine["items"][0]["id"], json!(task), "{mine}");
    // Explicitly acting for the manager (`Weft-On-Behalf-Of`) shows the manager's inbox.
    let manager_id = c.manager.id.to_string();
    let acting = c.deputy.send(Method::GET, "/api/v1/tasks/mine", None, &[("weft-on-behalf-of", &manager_id)]).await;
    assert_eq!(acting.ok(200)["items"][0]["id"], json!(task));
    c.other
        .send(Method::GET, "/api/v1/tasks/mine", None, &[("weft-on-behalf-of", &manager_id)])
        .await
        .problem(403, "forbidden");
    // Transfer (转交) by the deputy to the other employee, who then rejects.
    let moved = c.deputy.post(&format!("/api/v1/tasks/{task}/transfer"), json!({ "to": c.other.id })).await.ok(200);
    assert_eq!(moved["assignee"], json!(c.other.id));
    c.manager.post(&format!("/api/v1/tasks/{task}/approve"), json!({})).await.problem(404, "not_found");
    let rejected = c.other.post(&format!("/api/v1/tasks/{task}/reject"), json!({ "comment": "no" })).await.ok(200);
    assert_eq!(rejected["outcome"], json!({ "approved": false, "comment": "no" }));
    let entries = c.app.audit_entries().await;
    let transfer = entries.iter().find(|e| e.action == "process.task.transfer").expect("transfer audited");
    assert_eq!(transfer.actor, format!("{} for {}", c.deputy.id, c.manager.id), "the delegate acted for the manager");
    let actions: Vec<String> = entries.into_iter().map(|e| e.action).collect();
    for action in ["process.task.claim", "process.task.delegate", "process.task.transfer", "process.task.reject"] {
        assert!(actions.iter().any(|a| a == action), "{action} missing in {actions:?}");
    }
}

async fn strangers_and_guests_see_nothing_of_others_processes(backend: TestBackend) {
    let c = company(backend).await;
    deploy_po_approval(&c).await;
    let (party_a, party_b) = (Uuid::now_v7(), Uuid::now_v7());
    let guest_id = c.app.create_guest("buyer@party-a.example", "portal password of A", party_a, &["guest"]).await;
    let guest = Caller {
        base: c.app.base_url.clone(),
        client: bearer_client(&c.app.token_for(guest_id, None).await),
        id: guest_id,
    };
    let order_a = submitted_order(&c.admin, "700", Some(party_a)).await;
    let order_b = submitted_order(&c.admin, "800", Some(party_b)).await;
    guest.get(&format!("/api/v1/records/purchase_order/{order_a}")).await.ok(200);
    // B's instance, started by a member.
    let b = c.starter.post("/api/v1/processes/po_approval/instances", json!({ "record": po(&order_b) })).await.ok(201);
    let b_id = b["id"].as_str().unwrap().to_owned();
    let b_task = c.manager.get("/api/v1/tasks/mine").await.ok(200)["items"][0]["id"].as_str().unwrap().to_owned();

    // Starting on B's record answers exactly like a record that does not exist.
    let on_b = guest.post("/api/v1/processes/po_approval/instances", json!({ "record": po(&order_b) })).await;
    let missing = po(&Uuid::now_v7().to_string());
    let on_missing = guest.post("/api/v1/processes/po_approval/instances", json!({ "record": missing })).await;
    on_b.problem(404, "not_found");
    on_missing.problem(404, "not_found");
    assert!(!on_b.text.contains(&party_b.to_string()));
    // Nothing of B's instance, tasks or record's processes.
    guest.get(&format!("/api/v1/process-instances/{b_id}")).await.problem(404, "not_found");
    guest.get(&format!("/api/v1/tasks/{b_task}")).await.problem(404, "not_found");
    guest.post(&format!("/api/v1/tasks/{b_task}/approve"), json!({})).await.problem(404, "not_found");
    guest.post(&format!("/api/v1/tasks/{b_task}/claim"), json!({})).await.problem(404, "not_found");
    guest.get(&format!("/api/v1/records/purchase_order/{order_b}/processes")).await.problem(404, "not_found");
    guest.post(&format!("/api/v1/process-instances/{b_id}/withdraw"), json!({})).await.problem(404, "not_found");
    // No inbox, no definitions, no unbound starts, no metrics for partner contacts.
    guest.get("/api/v1/tasks/mine").await.problem(403, "forbidden");
    guest.get("/api/v1/processes").await.problem(403, "forbidden");
    guest.post("/api/v1/processes/po_approval/instances", json!({})).await.problem(403, "forbidden");
    guest.get("/api/v1/processes/po_approval/metrics").await.problem(403, "forbidden");

    // On its own party's record a guest may start, and follows it without the internal data.
    let a = guest.post("/api/v1/processes/po_approval/instances", json!({ "record": po(&order_a) })).await.ok(201);
    let a_id = a["id"].as_str().unwrap().to_owned();
    let seen = guest.get(&format!("/api/v1/process-instances/{a_id}")).await.ok(200);
    assert_eq!((seen["variables_visible"].as_bool(), seen["variables"].clone()), (Some(false), json!({})), "{seen}");
    assert!(seen["tasks"].as_array().unwrap().iter().all(|t| t["inputs"] == json!({})));
    // Its timeline of the order has no internal step (none of the tasks is the guest's);
    // the administrator's has them.
    let timeline = guest.get(&format!("/api/v1/records/purchase_order/{order_a}/timeline")).await.ok(200);
    assert!(timeline.as_array().unwrap().iter().all(|e| e["kind"] == "history"), "{timeline}");
    let timeline = c.admin.get(&format!("/api/v1/records/purchase_order/{order_a}/timeline")).await.ok(200);
    assert!(timeline.as_array().unwrap().iter().any(|e| e["command"] == "process.task_created"), "{timeline}");
    let listed = guest.get(&format!("/api/v1/records/purchase_order/{order_a}/processes")).await.ok(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["variables"], json!({}));
    // The members: a stranger sees neither instance; the admin sees both with data.
    c.other.get(&format!("/api/v1/process-instances/{a_id}")).await.problem(404, "not_found");
    c.other.get(&format!("/api/v1/process-instances/{b_id}")).await.problem(404, "not_found");
    let admin_view = c.admin.get(&format!("/api/v1/process-instances/{a_id}")).await.ok(200);
    assert_eq!(admin_view["variables"]["amount"], "700.00");
    // An admin cancels; members may not.
    c.starter.post(&format!("/api/v1/process-instances/{b_id}/cancel"), json!({})).await.problem(403, "forbidden");
    let cancelled = c.admin.post(&format!("/api/v1/process-instances/{b_id}/cancel"), json!({})).await.ok(200);
    assert_eq!(cancelled["status"], "cancelled");
}

async fn incidents_metrics_and_calendars_are_for_administrators(backend: TestBackend) {
    let c = company(backend).await;
    c.starter.get("/api/v1/admin/process-incidents").await.problem(403, "forbidden");
    c.starter.post("/api/v1/admin/process-incidents/x/retry", json!({})).await.problem(403, "forbidden");
    c.admin.post("/api/v1/admin/process-incidents/x/retry", json!({})).await.problem(404, "not_found");

    // A failing service task: out of retries it is an incident an admin sees and retries.
    let failing = fixture("three_tier.bpmn").replace("weft:transition", "acme:unknown");
    c.admin.xml("/api/v1/processes?variables=amount:decimal", &failing).await.ok(201);
    let started =
        c.starter.post("/api/v1/processes/po_approval/instances", json!({ "variables": { "amount": 5 } })).await;
    let id = started.ok(201)["id"].as_str().unwrap().to_owned();
    let task = c.manager.get("/api/v1/tasks/mine").await.ok(200)["items"][0]["id"].as_str().unwrap().to_owned();
    c.manager.post(&format!("/api/v1/tasks/{task}/approve"), json!({})).await.ok(200);
    for _ in 0..10 {
        c.app.workspace.run_jobs_until_idle().await.expect("jobs");
        let listed = c.admin.get("/api/v1/admin/process-incidents").await.ok(200);
        if !listed["items"].as_array().unwrap().is_empty() {
            break;
        }
        force_due(&c.app).await;
    }
    let listed = c.admin.get("/api/v1/admin/process-incidents").await.ok(200);
    let incident = &listed["items"][0];
    assert_eq!(
        (incident["element"].as_str(), incident["kind"].as_str()),
        (Some("mark_approved"), Some("acme:unknown"))
    );
    assert!(incident["incident"].is_string(), "{listed}");
    let instance = c.admin.get(&format!("/api/v1/process-instances/{id}")).await.ok(200);
    assert_eq!(instance["incidents"][0]["element"], "mark_approved", "{instance}");
    let job = incident["job"].as_str().unwrap();
    let r = c.admin.send(Method::POST, &format!("/api/v1/admin/process-incidents/{job}/retry"), None, &[]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert!(c.admin.get("/api/v1/admin/process-incidents").await.ok(200)["items"].as_array().unwrap().is_empty());
    let retried = c.admin.get(&format!("/api/v1/process-instances/{id}")).await.ok(200);
    assert!(retried["incidents"].as_array().unwrap().is_empty(), "{retried}");
    assert_eq!(retried["tokens"][0]["element"], "mark_approved");
    c.admin.post(&format!("/api/v1/admin/process-incidents/{job}/retry"), json!({})).await.problem(404, "not_found");

    let metrics = c.manager.get("/api/v1/processes/po_approval/metrics").await.ok(200);
    assert_eq!(metrics["active"], 1);

    // A message nothing waits for and no process starts on is kept; a blank name is refused.
    let kept =
        c.starter.post("/api/v1/process-messages", json!({ "name": "invoice_paid", "correlation": "INV-1" })).await;
    assert_eq!(kept.ok(200)["status"], "buffered");
    c.starter.post("/api/v1/process-messages", json!({ "name": " " })).await.problem(422, "validation_failed");
    c.starter.post("/api/v1/process-messages", json!({})).await.problem(400, "malformed_json");
    c.manager.get("/api/v1/processes/nothing/metrics").await.problem(404, "not_found");

    // Business calendars: administrators write, members read.
    let calendar = json!({
        "name": "cn-mainland", "offset": "+08:00",
        "week": { "monday": ["09:00-12:00", "13:00-18:00"], "tuesday": ["09:00-18:00"] },
        "holidays": [{ "name": "National Day", "dates": "2026-10-01/2026-10-07" }]
    });
    let put = |by: &Caller, body: Value| {
        let by = by.clone();
        async move { by.send(Method::PUT, "/api/v1/admin/calendars/cn-mainland", Some(body), &[]).await }
    };
    put(&c.starter, calendar.clone()).await.problem(403, "forbidden");
    let stored = put(&c.admin, calendar.clone()).await;
    if stored.status != StatusCode::OK {
        panic!("calendar refused: {}", stored.text);
    }
    let mut renamed = calendar.clone();
    renamed["name"] = json!("elsewhere");
    put(&c.admin, renamed).await.problem(422, "validation_failed");
    let mut broken = calendar.clone();
    broken["offset"] = json!("somewhere");
    put(&c.admin, broken).await.problem(400, "bad_request");
    assert_eq!(c.starter.get("/api/v1/admin/calendars").await.ok(200)["items"][0]["name"], "cn-mainland");
    c.starter.get("/api/v1/admin/calendars/cn-mainland").await.ok(200);
    c.starter.send(Method::DELETE, "/api/v1/admin/calendars/cn-mainland", None, &[]).await.problem(403, "forbidden");
    let r = c.admin.send(Method::DELETE, "/api/v1/admin/calendars/cn-mainland", None, &[]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    c.starter.get("/api/v1/admin/calendars/cn-mainland").await.problem(404, "not_found");
}

/// Makes every waiting job due now (skips the retry backoff).
async fn force_due(app: &TestApp) {
    app.db.execute("UPDATE process_jobs SET due_at = '2000-01-01T00:00:00Z' WHERE status = 'pending'").await;
}

async fn the_openapi_document_describes_processes_and_tasks(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.expect("document");
    let mut ids = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !(path.contains("process") || path.starts_with("/api/v1/tasks") || path.contains("calendars")) {
            continue;
        }
        for operation in item.as_object().expect("operations").values() {
            ids.push(operation["operationId"].as_str().expect("operation id").to_owned());
            assert!(operation["responses"].as_object().is_some_and(|r| !r.is_empty()), "{path}");
        }
    }
    for expected in [
        "deploy_process",
        "start_instance",
        "get_instance",
        "my_tasks",
        "complete_task",
        "approve_task",
        "add_approver",
    ] {
        assert!(ids.iter().any(|i| i == expected), "{expected} missing in {ids:?}");
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids repeat");
    assert!(count >= 27, "{ids:?}");
    assert!(doc["paths"]["/api/v1/records/{type}/{id}/processes"]["get"].is_object());
}

async fn an_approver_is_added_before_and_after_over_http_and_bad_input_is_refused_at_its_field(backend: TestBackend) {
    let c = company(backend).await;
    deploy_po_approval(&c).await;
    let order = submitted_order(&c.starter, "800", None).await;
    let started = c.starter.post("/api/v1/processes/po_approval/instances", json!({ "record": po(&order) })).await;
    let instance = started.ok(201)["id"].as_str().unwrap().to_owned();
    let task = c.manager.get("/api/v1/tasks/mine").await.ok(200)["items"][0]["id"].as_str().unwrap().to_owned();
    let add = format!("/api/v1/tasks/{task}/add-approver");
    let guest_id = c.app.create_guest("qc@party.example", "portal password", Uuid::now_v7(), &["guest"]).await;
    let guest = Caller {
        base: c.app.base_url.clone(),
        client: bearer_client(&c.app.token_for(guest_id, None).await),
        id: guest_id,
    };

    // Who may not: a stranger and a guest learn nothing, the starter may only look.
    let body = json!({ "principal": c.deputy.id, "position": "after" });
    c.other.post(&add, body.clone()).await.problem(404, "not_found");
    guest.post(&add, body.clone()).await.problem(404, "not_found");
    c.starter.post(&add, body.clone()).await.problem(403, "forbidden");
    // Bad input, each at its field.
    let unknown = c.manager.post(&add, json!({ "principal": Uuid::now_v7(), "position": "after" })).await;
    unknown.problem(422, "validation_failed");
    assert_eq!(unknown.pointers(), ["/principal"]);
    assert_eq!(unknown.json()["errors"][0]["code"], "unknown_reference");
    let a_guest = c.manager.post(&add, json!({ "principal": guest_id, "position": "before" })).await;
    a_guest.problem(422, "validation_failed");
    assert_eq!(a_guest.pointers(), ["/principal"]);
    let myself = c.manager.post(&add, json!({ "principal": c.manager.id, "position": "after" })).await;
    myself.problem(422, "validation_failed");
    assert_eq!(myself.pointers(), ["/principal"]);
    let both = c.manager.post(&add, json!({ "principal": c.manager.id, "position": "sideways" })).await;
    both.problem(422, "validation_failed");
    assert_eq!(both.pointers(), ["/position", "/principal"]);
    c.manager.post(&add, json!({ "principal": "nobody", "position": "after" })).await.problem(400, "malformed_json");
    c.manager.post(&add, json!({ "position": "after" })).await.problem(400, "malformed_json");

    // After: the manager keeps the task, the deputy is named on it.
    let etag = c.manager.get(&format!("/api/v1/tasks/{task}")).await.etag.expect("etag");
    let kept = c
        .manager
        .send(
            Method::POST,
            &add,
            Some(json!({ "principal": c.deputy.id, "position": "after", "comment": "the deputy knows the supplier" })),
            &[("if-match", &etag)],
        )
        .await
        .ok(200);
    assert_eq!((kept["status"].clone(), kept["assignee"].clone()), (json!("open"), json!(c.manager.id)));
    assert_eq!(kept["approvers_after"], json!([c.deputy.id]));
    // Before: the buyer answers first, then it comes back to the manager.
    let handed = c.manager.post(&add, json!({ "principal": c.buyer.id, "position": "before" })).await.ok(200);
    assert_eq!(handed["status"], "completed");
    assert_eq!(handed["outcome"]["added_approver"], json!(c.buyer.id));
    c.manager.post(&add, json!({ "principal": c.buyer.id, "position": "before" })).await.problem(409, "conflict");
    let buyer_task = c.buyer.get("/api/v1/tasks/mine").await.ok(200)["items"][0]["id"].as_str().unwrap().to_owned();
    c.buyer.post(&format!("/api/v1/tasks/{buyer_task}/approve"), json!({ "comment": "price ok" })).await.ok(200);
    let back = c.manager.get("/api/v1/tasks/mine").await.ok(200);
    assert_eq!(back["items"][0]["element"], "manager_approve", "{back}");
    let back = back["items"][0]["id"].as_str().unwrap().to_owned();
    let read = c.manager.get(&format!("/api/v1/tasks/{back}")).await.ok(200);
    assert_eq!(read["approvers_after"], json!([c.deputy.id]), "the later approver stays");
    c.manager.post(&format!("/api/v1/tasks/{back}/approve"), json!({})).await.ok(200);
    let deputy_task = c.deputy.get("/api/v1/tasks/mine").await.ok(200)["items"][0]["id"].as_str().unwrap().to_owned();
    c.deputy.post(&format!("/api/v1/tasks/{deputy_task}/approve"), json!({})).await.ok(200);
    c.app.workspace.run_jobs_until_idle().await.expect("jobs");
    let done = c.starter.get(&format!("/api/v1/process-instances/{instance}")).await.ok(200);
    assert_eq!(done["status"], "completed", "{done}");
    let record = c.starter.get(&format!("/api/v1/records/purchase_order/{order}")).await.ok(200);
    assert_eq!(record["state"], "approved");
    let added = c.app.audit_entries().await.into_iter().filter(|e| e.action == "process.task.add_approver").count();
    assert_eq!(added, 2);

    // The order's timeline tells the process in time order, with names.
    let timeline = c.starter.get(&format!("/api/v1/records/purchase_order/{order}/timeline")).await.ok(200);
    let process: Vec<&Value> = timeline.as_array().unwrap().iter().filter(|e| e["kind"] == "process").collect();
    let commands: Vec<&str> = process.iter().map(|e| e["command"].as_str().unwrap()).collect();
    assert_eq!(commands.first(), Some(&"process.started"), "{commands:?}");
    assert_eq!(commands.last(), Some(&"process.ended"), "{commands:?}");
    let added: Vec<&&Value> = process.iter().filter(|e| e["command"] == "process.approver_added").collect();
    assert_eq!(added.len(), 2, "{timeline}");
    assert_eq!(added[0]["process"]["to"], json!(c.deputy.id));
    assert_eq!(added[0]["process"]["position"], "after");
    assert_eq!(added[0]["process"]["comment"], "the deputy knows the supplier");
    assert_eq!(added[1]["process"]["position"], "before");
    assert!(added.iter().all(|e| e["actor"] == json!(c.manager.id.to_string()) && e["actor_name"].is_string()));
    let buyer_said = process
        .iter()
        .find(|e| e["command"] == "process.task_completed" && e["actor"] == json!(c.buyer.id.to_string()))
        .expect("the buyer's answer");
    assert_eq!(buyer_said["process"]["outcome"], "approved");
    assert_eq!(buyer_said["process"]["comment"], "price ok");
    assert!(process.iter().all(|e| e.get("version").is_none()));
    let ats: Vec<&str> = timeline.as_array().unwrap().iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(ats.windows(2).all(|w| w[0] <= w[1]), "oldest first: {ats:?}");
}

async fn running_instances_move_to_a_new_version_only_when_an_administrator_says_so(backend: TestBackend) {
    let c = company(backend).await;
    deploy_po_approval(&c).await;
    let order = submitted_order(&c.starter, "800", None).await;
    let first = c.starter.post("/api/v1/processes/po_approval/instances", json!({ "record": po(&order) })).await;
    let first = first.ok(201)["id"].as_str().unwrap().to_owned();
    let other_order = submitted_order(&c.starter, "900", None).await;
    let second = c.starter.post("/api/v1/processes/po_approval/instances", json!({ "record": po(&other_order) })).await;
    let second = second.ok(201)["id"].as_str().unwrap().to_owned();
    let task = c.manager.get("/api/v1/tasks/mine").await.ok(200)["items"][0]["id"].as_str().unwrap().to_owned();
    // Version 2 renames the manager's step.
    let v2 = fixture("three_tier.bpmn").replace("manager_approve", "line_manager_approve");
    let deployed = c.admin.xml("/api/v1/processes?record_type=purchase_order", &v2).await.ok(201);
    assert_eq!(deployed["items"][0]["version"], 2);
    let running = c.admin.get(&format!("/api/v1/process-instances/{first}")).await.ok(200);
    assert_eq!(running["version"], 1, "deploying moves nothing: {running}");

    let migrate = format!("/api/v1/process-instances/{first}/migrate");
    let mapping = json!({ "manager_approve": "line_manager_approve" });
    // Only administrators; strangers learn nothing more than that.
    c.starter.post(&migrate, json!({ "to_version": 2, "mapping": mapping })).await.problem(403, "forbidden");
    c.other.post(&migrate, json!({ "to_version": 2, "mapping": mapping })).await.problem(403, "forbidden");
    // Every problem at its field, and nothing moves.
    let unmapped = c.admin.post(&migrate, json!({ "to_version": 2 })).await;
    unmapped.problem(422, "validation_failed");
    assert_eq!(unmapped.pointers(), ["/mapping/manager_approve"], "{}", unmapped.text);
    let bad = c
        .admin
        .post(&migrate, json!({ "to_version": 2, "mapping": { "ghost": "start", "manager_approve": "nowhere" } }))
        .await;
    bad.problem(422, "validation_failed");
    assert_eq!(bad.pointers(), ["/mapping/ghost", "/mapping/manager_approve"], "{}", bad.text);
    c.admin.post(&migrate, json!({ "to_version": 9, "mapping": mapping })).await.problem(422, "validation_failed");
    c.admin.post(&migrate, json!({ "to_version": 1 })).await.problem(422, "validation_failed");
    c.admin.post(&migrate, json!({ "to_version": "two" })).await.problem(400, "malformed_json");
    c.admin
        .post(&migrate, json!({ "to_version": 2, "mapping": mapping, "colour": 1 }))
        .await
        .problem(400, "malformed_json");
    c.admin.post("/api/v1/process-instances/nope/migrate", json!({ "to_version": 2 })).await.problem(404, "not_found");
    // A dry run says what would move and changes nothing.
    let dry = c.admin.post(&migrate, json!({ "to_version": 2, "mapping": mapping, "dry_run": true })).await.ok(200);
    assert_eq!((dry["migrated"].clone(), dry["moved"].clone()), (json!(false), mapping.clone()), "{dry}");
    assert_eq!(c.admin.get(&format!("/api/v1/process-instances/{first}")).await.ok(200)["version"], 1);

    let moved = c.admin.post(&migrate, json!({ "to_version": 2, "mapping": mapping })).await.ok(200);
    assert_eq!(
        (moved["migrated"].clone(), moved["from_version"].clone(), moved["to_version"].clone()),
        (json!(true), json!(1), json!(2))
    );
    let now = c.admin.get(&format!("/api/v1/process-instances/{first}")).await.ok(200);
    assert_eq!(
        (now["version"].clone(), now["tokens"][0]["element"].clone()),
        (json!(2), json!("line_manager_approve")),
        "{now}"
    );
    // The manager's task is the same task, at the renamed step, and deciding it follows v2.
    let mine = c.manager.get("/api/v1/tasks/mine").await.ok(200);
    let same =
        mine["items"].as_array().unwrap().iter().find(|t| t["id"] == json!(task)).expect("the same task").clone();
    assert_eq!(same["element"], "line_manager_approve", "{mine}");
    c.manager.post(&format!("/api/v1/tasks/{task}/approve"), json!({})).await.ok(200);
    c.app.workspace.run_jobs_until_idle().await.expect("jobs");
    assert_eq!(c.starter.get(&format!("/api/v1/records/purchase_order/{order}")).await.ok(200)["state"], "approved");
    c.admin.post(&migrate, json!({ "to_version": 1 })).await.problem(409, "conflict");
    let timeline = c.starter.get(&format!("/api/v1/records/purchase_order/{order}/timeline")).await.ok(200);
    let migrated = timeline
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["command"] == "process.migrated")
        .expect("on the timeline")
        .clone();
    assert_eq!(migrated["process"]["comment"], "v1 → v2", "{migrated}");
    assert_eq!(migrated["actor"], json!(c.app.admin_id.to_string()));
    let audited = c.app.audit_entries().await.into_iter().filter(|e| e.action == "process.migrate").count();
    assert_eq!(audited, 1);

    // The rest of version 1 at once: each instance on its own.
    let all = "/api/v1/processes/po_approval/versions/1/migrate";
    c.starter.post(all, json!({ "to_version": 2, "mapping": mapping })).await.problem(403, "forbidden");
    c.admin
        .post("/api/v1/processes/po_approval/versions/7/migrate", json!({ "to_version": 2 }))
        .await
        .problem(404, "not_found");
    let unmapped = c.admin.post(all, json!({ "to_version": 2, "dry_run": true })).await.ok(200);
    assert_eq!((unmapped["ready"].clone(), unmapped["refused"].clone()), (json!(0), json!(1)), "{unmapped}");
    assert_eq!(unmapped["items"][0]["problems"][0]["element"], "manager_approve");
    let done = c.admin.post(all, json!({ "to_version": 2, "mapping": mapping })).await.ok(200);
    assert_eq!((done["ready"].clone(), done["items"][0]["instance"].clone()), (json!(1), json!(second)), "{done}");
    assert_eq!(done["items"][0]["migrated"], true);
    let again = c.admin.post(all, json!({ "to_version": 2, "mapping": mapping })).await.ok(200);
    assert!(again["items"].as_array().unwrap().is_empty(), "{again}");
}
