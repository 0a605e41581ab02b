//! Journey J1 (procure to pay) over HTTP with the built-in procurement app, on both
//! databases: a buyer raises a purchase order, the approval matrix sends it to the buyer's
//! manager, the supplier's contact confirms it in the portal — which plans the receipt the
//! warehouse expects and a draft invoice for the supplier — reports progress and a QC
//! result, posts a shipping notice (never more than is open), the warehouse enters what
//! arrived on the expected receipt and posts it (the rest is expected on a back order), the
//! supplier completes the draft invoice with one price above tolerance, the buyer gets the
//! exception as a to-do with the difference, accepts it with a reason, and a payable due
//! after the supplier's payment days appears with finance's payment to-do. Supplier B sees
//! none of it. Then the negative paths: an invoice for goods not received never becomes a
//! payable (until the late receipt arrives and the match re-runs), a confirmed order that
//! changes must be confirmed again, a receipt booked directly keeps the expected one in
//! step, and revising or closing the order withdraws what was expected.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_testkit::{TestApp, TestBackend, bearer_client, on_both_databases, people, spawn_app};
use weft_workspace::apps::procurement::ThreeWayMatch;
use weft_workspace::processes::ProcessStarts;

const PROBLEM: &str = "application/problem+json";

on_both_databases!(
    procure_to_pay_runs_end_to_end,
    an_invoice_for_goods_not_received_waits_for_the_receipt,
    a_changed_order_needs_approval_and_confirmation_again,
    supplier_documents_are_checked_against_the_order,
    a_receipt_booked_directly_keeps_the_expected_one_in_step,
    revising_or_closing_the_order_withdraws_what_was_expected,
    closing_short_withdraws_the_untouched_draft_invoice,
    a_supplier_applies_on_the_public_form_and_is_onboarded,
    an_approved_requisition_becomes_draft_orders,
);

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    #[track_caller]
    fn ok(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        self.json()
    }

    #[track_caller]
    fn problem(&self, status: u16, code: &str) -> Value {
        let body = self.json();
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(body["code"], code, "{}", self.text);
        body
    }
}

struct Caller {
    base: String,
    client: reqwest::Client,
    id: Uuid,
}

impl Caller {
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let text = response.text().await.expect("body");
        assert!(status.as_u16() < 500, "{path}: {status} {text}");
        if status.is_client_error() {
            assert_eq!(content_type, PROBLEM, "{path}: {text}");
        }
        Answer { status, text }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send(Method::PATCH, path, Some(body)).await
    }

    async fn create(&self, type_name: &str, body: Value) -> Value {
        self.post(&format!("/api/v1/records/{type_name}"), body).await.ok(201)
    }

    async fn record(&self, type_name: &str, id: &str) -> Value {
        self.get(&format!("/api/v1/records/{type_name}/{id}")).await.ok(200)
    }

    async fn transition(&self, type_name: &str, id: &str, name: &str, inputs: Value) -> Answer {
        self.post(&format!("/api/v1/records/{type_name}/{id}/transitions/{name}"), inputs).await
    }

    async fn list(&self, type_name: &str) -> Vec<Value> {
        let page = self.get(&format!("/api/v1/records/{type_name}?limit=200")).await.ok(200);
        page["items"].as_array().cloned().unwrap_or_default()
    }

    async fn tasks(&self) -> Vec<Value> {
        self.get("/api/v1/tasks/mine").await.ok(200)["items"].as_array().cloned().unwrap_or_default()
    }
}

struct Company {
    app: TestApp,
    buyer: Caller,
    manager: Caller,
    finance: Caller,
    warehouse: Caller,
    /// The contact of supplier S (role `supplier_portal`).
    s: Caller,
    /// The contact of supplier B.
    b: Caller,
    party_s: String,
    party_b: String,
}

async fn member(app: &TestApp, login: &str, roles: &[&str]) -> Caller {
    let id = app.create_member(login, None, roles).await;
    let token = app.token_for(id, None).await;
    Caller { base: app.base_url.clone(), client: bearer_client(&token), id }
}

async fn guest(app: &TestApp, login: &str, party: &str) -> Caller {
    let party = Uuid::parse_str(party).unwrap();
    let id = app.create_guest(login, "supplier portal password", party, &["supplier_portal"]).await;
    let token = app.token_for(id, None).await;
    Caller { base: app.base_url.clone(), client: bearer_client(&token), id }
}

/// Purchasing (headed by the manager; the buyer works there), finance, the warehouse,
/// suppliers S (45 payment days, 1 % price tolerance) and B, each with a portal contact.
async fn company(backend: TestBackend) -> Company {
    let app = spawn_app(backend).await;
    app.workspace.install_builtin_apps().await.expect("the built-in apps install");
    let admin = Caller { base: app.base_url.clone(), client: app.client.clone(), id: app.admin_id };
    let buyer = member(&app, "buyer@weft.test", &["employee"]).await;
    let manager = member(&app, "manager@weft.test", &["employee"]).await;
    let finance = member(&app, "finance@weft.test", &["employee", "finance_approver"]).await;
    let warehouse = member(&app, "warehouse@weft.test", &["employee"]).await;
    let purchasing = people::unit(&app.workspace, "Purchasing", None).await;
    people::join(&app.workspace, &Principal::member(manager.id), purchasing, true).await;
    people::join(&app.workspace, &Principal::member(buyer.id), purchasing, true).await;
    app.workspace.set_unit_manager(&app.admin(), purchasing, Some(manager.id)).await.expect("purchasing head");
    let party_s = admin.create("party", json!({ "name": "苏州精密五金有限公司", "roles": ["supplier"] })).await;
    let party_b = admin.create("party", json!({ "name": "Baoshan Steel Trading", "roles": ["supplier"] })).await;
    let (party_s, party_b) = (id_of(&party_s), id_of(&party_b));
    admin
        .create(
            "supplier_profile",
            json!({ "supplier": party_s, "display_name": "Suzhou Precision", "payment_days": 45,
                    "price_tolerance_pct": "1" }),
        )
        .await;
    let s = guest(&app, "sales@suzhou-precision.example", &party_s).await;
    let b = guest(&app, "sales@baoshan-steel.example", &party_b).await;
    Company { app, buyer, manager, finance, warehouse, s, b, party_s, party_b }
}

fn id_of(record: &Value) -> String {
    record["id"].as_str().expect("an id").to_owned()
}

impl Company {
    /// Lets the outbox consumers and the job worker run until nothing is left to do.
    async fn settle(&self) {
        let ws = &self.app.workspace;
        for _ in 0..10 {
            let mut done = ws.run_consumer_once(&ProcessStarts).await.expect("process starts");
            done += ws.run_consumer_once(&ThreeWayMatch).await.expect("three-way match");
            let jobs = ws.run_jobs_until_idle().await.expect("jobs");
            if done == 0 && jobs == Default::default() {
                return;
            }
        }
    }

    /// A purchase order of S raised by the buyer: bolts 100 × 25.00 and housings 50 × 120.00
    /// (8,500.00 before 13 % tax: the manager's tier).
    async fn order(&self) -> Value {
        self.buyer
            .create(
                "purchase_order",
                json!({
                    "subject": "Bolts and housings for line 3",
                    "supplier": self.party_s,
                    "category": "components",
                    "requested_date": "2026-12-20",
                    "lines": [
                        { "description": "M8 bolt, zinc plated", "qty": "100", "unit_price": "25.00", "tax_rate": "13" },
                        { "description": "Gearbox housing", "qty": "50", "unit_price": "120.00", "tax_rate": "13" }
                    ]
                }),
            )
            .await
    }

    /// The order submitted and approved by the manager from the inbox.
    async fn approved_order(&self) -> Value {
        let order = self.order().await;
        let id = id_of(&order);
        self.buyer.transition("purchase_order", &id, "submit", json!({})).await.ok(200);
        self.settle().await;
        let task = self.only_task(&self.manager, "manager_approve").await;
        self.manager.post(&format!("/api/v1/tasks/{}/approve", task["id"].as_str().unwrap()), json!({})).await.ok(200);
        self.settle().await;
        self.buyer.record("purchase_order", &id).await
    }

    /// The order confirmed by S with a promised date.
    async fn confirmed_order(&self) -> Value {
        let order = self.approved_order().await;
        let id = id_of(&order);
        self.s
            .create(
                "supplier_confirmation",
                json!({ "purchase_order": id, "decision": "accept", "promised_date": "2026-12-18",
                        "note": "材料已备齐" }),
            )
            .await;
        self.buyer.record("purchase_order", &id).await
    }

    /// The one receipt expected for the order (as the warehouse sees it).
    async fn only_expected_receipt(&self, order: &str) -> Value {
        let expected: Vec<Value> = self
            .warehouse
            .list("goods_receipt")
            .await
            .into_iter()
            .filter(|r| r["purchase_order"] == order && r["state"] == "expected")
            .collect();
        assert_eq!(expected.len(), 1, "{expected:?}");
        expected[0].clone()
    }

    /// The one draft invoice of the order, as `who` sees it.
    async fn only_draft_invoice(&self, who: &Caller, order: &str) -> Value {
        let drafts: Vec<Value> = who
            .list("supplier_invoice")
            .await
            .into_iter()
            .filter(|r| r["purchase_order"] == order && r["state"] == "draft")
            .collect();
        assert_eq!(drafts.len(), 1, "{drafts:?}");
        drafts[0].clone()
    }

    /// Supplier B can neither read, list nor count S's planned receipt and invoice.
    async fn assert_b_sees_nothing_of(&self, receipt: &str, invoice: &str) {
        for (type_name, id, transition) in
            [("goods_receipt", receipt, "post"), ("supplier_invoice", invoice, "withdraw")]
        {
            self.b.get(&format!("/api/v1/records/{type_name}/{id}")).await.problem(404, "not_found");
            assert!(self.b.list(type_name).await.is_empty(), "{type_name}");
            let count = self.b.get(&format!("/api/v1/records/{type_name}?count=true")).await.ok(200);
            assert_eq!(count["count"], 0, "{type_name}: {count}");
            self.b.transition(type_name, id, transition, json!({})).await.problem(404, "not_found");
        }
    }

    async fn only_task(&self, who: &Caller, element: &str) -> Value {
        let tasks: Vec<Value> = who.tasks().await.into_iter().filter(|t| t["element"] == element).collect();
        assert_eq!(tasks.len(), 1, "{element}: {tasks:?}");
        tasks[0].clone()
    }
}

fn line_ids(order: &Value) -> Vec<String> {
    order["lines"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect()
}

async fn procure_to_pay_runs_end_to_end(backend: TestBackend) {
    let c = company(backend).await;
    let order = c.order().await;
    let id = id_of(&order);
    assert_eq!((order["total_amount"].as_str(), order["tax_amount"].as_str()), (Some("8500.00"), Some("1105.00")));
    assert_eq!(order["state"], "draft");
    assert_eq!(order["buyer"], json!(c.buyer.id), "the buyer defaults to whoever raises the order");
    assert!(order["number"].as_str().unwrap().starts_with("PO-"));
    // Drafts are the buyer's: the supplier does not see them yet... but it is S's order.
    c.b.get(&format!("/api/v1/records/purchase_order/{id}")).await.problem(404, "not_found");

    // Submit: the matrix picks the manager's tier; the manager approves from the inbox.
    c.buyer.transition("purchase_order", &id, "submit", json!({})).await.ok(200);
    c.settle().await;
    let instances = c.buyer.get(&format!("/api/v1/records/purchase_order/{id}/processes")).await.ok(200);
    assert_eq!(instances["items"][0]["process_key"], "po_approval", "{instances}");
    let task = c.only_task(&c.manager, "manager_approve").await;
    assert!(c.finance.tasks().await.is_empty(), "8,500 is below the finance tier");
    c.manager.post(&format!("/api/v1/tasks/{}/approve", task["id"].as_str().unwrap()), json!({})).await.ok(200);
    c.settle().await;
    assert_eq!(c.buyer.record("purchase_order", &id).await["state"], "approved");

    // The supplier's portal: its order only; B sees nothing of it, anywhere.
    let s_orders = c.s.list("purchase_order").await;
    assert_eq!(s_orders.len(), 1);
    assert_eq!(id_of(&s_orders[0]), id);
    assert!(c.b.list("purchase_order").await.is_empty());
    c.b.get(&format!("/api/v1/records/purchase_order/{id}")).await.problem(404, "not_found");
    let count = c.b.get("/api/v1/records/purchase_order?count=true").await.ok(200);
    assert_eq!(count["count"], 0, "{count}");

    // S confirms with a promised date, reports progress and an outgoing QC result.
    let confirmation =
        c.s.create(
            "supplier_confirmation",
            json!({ "purchase_order": id, "decision": "accept", "promised_date": "2026-12-18", "note": "材料已备齐" }),
        )
        .await;
    assert_eq!(confirmation["supplier"], json!(c.party_s), "the supplier comes from the order");
    let confirmed = c.buyer.record("purchase_order", &id).await;
    assert_eq!(confirmed["state"], "confirmed");
    assert_eq!(confirmed["promised_date"], "2026-12-18");
    assert_eq!(confirmed["lines"][0]["promised_date"], "2026-12-18");

    // The confirmation planned, in its transaction, the receipt the warehouse expects and
    // the invoice S is expected to send; B can neither read, list nor count them.
    let lines = line_ids(&confirmed);
    let expected = c.only_expected_receipt(&id).await;
    assert_eq!(
        (expected["expected_on"].as_str(), expected["supplier"].as_str()),
        (Some("2026-12-18"), Some(c.party_s.as_str()))
    );
    assert!(expected["number"].as_str().unwrap().starts_with("GR-"), "{expected}");
    let planned: Vec<(&str, &str, &str)> = expected["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (l["po_line"].as_str().unwrap(), l["description"].as_str().unwrap(), l["expected_qty"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        planned,
        [(lines[0].as_str(), "M8 bolt, zinc plated", "100.000"), (lines[1].as_str(), "Gearbox housing", "50.000")]
    );
    assert!(expected["lines"][0]["received_qty"].is_null(), "{expected}");
    let draft = c.only_draft_invoice(&c.s, &id).await;
    assert_eq!((draft["total_amount"].as_str(), draft["tax_amount"].as_str()), (Some("8500.00"), Some("1105.00")));
    assert_eq!((draft["buyer"].clone(), draft["supplier"].clone()), (json!(c.buyer.id), json!(c.party_s)));
    assert_eq!((draft["currency"].as_str(), draft["invoice_no"].as_str()), (Some("CNY"), None));
    let billed: Vec<(&str, &str, &str, &str)> = draft["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let f = |k: &str| l[k].as_str().unwrap();
            (f("po_line"), f("qty"), f("unit_price"), f("tax_rate"))
        })
        .collect();
    assert_eq!(
        billed,
        [(lines[0].as_str(), "100.000", "25.0000", "13.0000"), (lines[1].as_str(), "50.000", "120.0000", "13.0000")],
        "{draft}"
    );
    c.assert_b_sees_nothing_of(&id_of(&expected), &id_of(&draft)).await;
    c.s.create("progress_update", json!({ "purchase_order": id, "percent": "60", "stage": "production" })).await;
    c.s.create(
        "quality_inspection",
        json!({ "purchase_order": id, "lot": "L2026-1201", "sample_size": 32, "defects": 0, "result": "pass" }),
    )
    .await;
    assert!(c.b.list("progress_update").await.is_empty());
    assert!(c.b.list("quality_inspection").await.is_empty());

    // The shipping notice: more than is open is refused; 100 bolts and 30 housings ship.
    let too_many =
        c.s.post(
            "/api/v1/records/shipping_notice",
            json!({ "purchase_order": id, "carrier": "SF Express", "tracking_no": "SF1234567890", "eta": "2026-12-17",
                    "lines": [{ "po_line": lines[0], "qty": "101" }] }),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(too_many["errors"][0]["pointer"], "/lines/0/qty", "{too_many}");
    assert!(too_many["errors"][0]["reason"].as_str().unwrap().contains("100"), "{too_many}");
    let asn =
        c.s.create(
            "shipping_notice",
            json!({ "purchase_order": id, "carrier": "SF Express", "tracking_no": "SF1234567890", "eta": "2026-12-17",
                    "lines": [{ "po_line": lines[0], "qty": "100" }, { "po_line": lines[1], "qty": "30" }] }),
        )
        .await;
    assert_eq!(asn["lines"][1]["description"], "Gearbox housing", "described from the order line");
    let shipped = c.buyer.record("purchase_order", &id).await;
    assert_eq!(
        (shipped["lines"][0]["shipped_qty"].as_str(), shipped["lines"][1]["shipped_qty"].as_str()),
        (Some("100.000"), Some("30.000"))
    );
    assert!(c.b.list("shipping_notice").await.is_empty());

    // The warehouse books what arrived on the receipt the confirmation planned. Posting
    // with nothing entered, or more than is open, is refused at the line and books nothing;
    // S may read the receipt but not post it.
    let expected = c.only_expected_receipt(&id).await;
    let receipt_id = id_of(&expected);
    let receipt_path = format!("/api/v1/records/goods_receipt/{receipt_id}");
    let empty = c.warehouse.transition("goods_receipt", &receipt_id, "post", json!({})).await;
    let empty = empty.problem(422, "validation_failed");
    assert_eq!(empty["errors"][0]["pointer"], "/lines", "{empty}");
    c.s.transition("goods_receipt", &receipt_id, "post", json!({})).await.problem(403, "forbidden");
    let mut entered = expected["lines"].clone();
    entered[0]["received_qty"] = json!("100");
    entered[0]["accepted_qty"] = json!("100");
    entered[1]["received_qty"] = json!("51");
    entered[1]["accepted_qty"] = json!("30");
    c.warehouse
        .patch(
            &receipt_path,
            json!({ "lines": entered.clone(), "shipping_notice": id_of(&asn), "received_on": "2026-12-16" }),
        )
        .await
        .ok(200);
    let over = c.warehouse.transition("goods_receipt", &receipt_id, "post", json!({})).await;
    let over = over.problem(422, "validation_failed");
    assert_eq!(over["errors"][0]["pointer"], "/lines/1/received_qty", "{over}");
    assert!(over["errors"][0]["reason"].as_str().unwrap().contains("50"), "{over}");
    assert_eq!(c.buyer.record("purchase_order", &id).await["lines"][0]["received_qty"], "0.000", "nothing booked");
    // What is expected is Weft's to say.
    let mut forged = entered.clone();
    forged[1]["expected_qty"] = json!("80");
    let forged = c.warehouse.patch(&receipt_path, json!({ "lines": forged })).await.problem(422, "validation_failed");
    assert_eq!(forged["errors"][0]["pointer"], "/lines/1/expected_qty", "{forged}");
    entered[1]["received_qty"] = json!("30");
    c.warehouse.patch(&receipt_path, json!({ "lines": entered })).await.ok(200);
    let posted = c.warehouse.transition("goods_receipt", &receipt_id, "post", json!({})).await.ok(200);
    assert_eq!(posted["state"], "posted");
    assert_eq!(posted["received_on"], "2026-12-16");
    let received = c.buyer.record("purchase_order", &id).await;
    assert_eq!(
        (received["lines"][0]["received_qty"].as_str(), received["lines"][1]["accepted_qty"].as_str()),
        (Some("100.000"), Some("30.000"))
    );
    // The 20 housings still open are expected on a back order.
    let backorder = c.only_expected_receipt(&id).await;
    assert_ne!(id_of(&backorder), receipt_id);
    let open = backorder["lines"].as_array().unwrap();
    assert_eq!(open.len(), 1, "{backorder}");
    assert_eq!(
        (open[0]["po_line"].as_str(), open[0]["expected_qty"].as_str()),
        (Some(lines[1].as_str()), Some("20.000"))
    );
    // S sees its receipts, B does not.
    assert_eq!(c.s.list("goods_receipt").await.len(), 2);
    assert!(c.b.list("goods_receipt").await.is_empty());
    c.b.get(&receipt_path).await.problem(404, "not_found");

    // S completes the draft invoice Weft prepared: its number and date, the 30 housings
    // received, at 126.00 (5 % over; its tolerance is 1 %). Submitting without the number
    // is refused at the field.
    let draft = c.only_draft_invoice(&c.s, &id).await;
    let invoice_id = id_of(&draft);
    let invoice_path = format!("/api/v1/records/supplier_invoice/{invoice_id}");
    let unnumbered = c.s.transition("supplier_invoice", &invoice_id, "submit", json!({})).await;
    let unnumbered = unnumbered.problem(422, "validation_failed");
    assert_eq!(unnumbered["errors"][0]["pointer"], "/invoice_no", "{unnumbered}");
    let mut billed = draft["lines"].clone();
    billed[1]["qty"] = json!("30");
    billed[1]["unit_price"] = json!("126.00");
    let invoice = c
        .s
        .patch(&invoice_path, json!({ "invoice_no": "SZ-2026-0815", "invoice_date": "2026-12-16", "lines": billed }))
        .await
        .ok(200);
    assert_eq!(invoice["total_amount"], "6280.00");
    assert_eq!(invoice["buyer"], json!(c.buyer.id), "the order's buyer handles differences");
    c.s.transition("supplier_invoice", &invoice_id, "submit", json!({})).await.ok(200);
    c.settle().await;
    let flagged = c.buyer.record("supplier_invoice", &invoice_id).await;
    assert_eq!(flagged["state"], "exception", "{flagged}");
    let differences = flagged["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{differences:?}");
    assert_eq!(differences[0]["kind"], "price");
    assert_eq!(differences[0]["line"], 1);
    assert_eq!((differences[0]["expected"].as_str(), differences[0]["invoiced"].as_str()), (Some("120"), Some("126")));
    assert!(c.s.list("payable").await.is_empty(), "no payable for an invoice with differences");

    // The exception is the buyer's to-do; accepting it needs a reason, which is kept.
    let task = c.only_task(&c.buyer, "review").await;
    let task_id = task["id"].as_str().unwrap().to_owned();
    c.buyer
        .post(&format!("/api/v1/tasks/{task_id}/complete"), json!({ "outputs": { "resolution": "accept" } }))
        .await
        .problem(422, "validation_failed");
    c.buyer
        .post(
            &format!("/api/v1/tasks/{task_id}/complete"),
            json!({ "outputs": { "resolution": "accept", "reason": "Surcharge for zinc agreed by phone on 12-10" } }),
        )
        .await
        .ok(200);
    c.settle().await;
    let accepted = c.buyer.record("supplier_invoice", &invoice_id).await;
    assert_eq!(accepted["state"], "accepted");
    assert_eq!(accepted["resolution"], "Surcharge for zinc agreed by phone on 12-10");
    let invoiced = c.buyer.record("purchase_order", &id).await;
    assert_eq!(invoiced["lines"][1]["invoiced_qty"], "30.000");

    // The payable: 6,280.00 + 13 % = 7,096.40, due 45 days after the invoice date; finance
    // has the payment to-do due that day; S follows it, B does not see it.
    let payables = c.s.list("payable").await;
    assert_eq!(payables.len(), 1);
    let payable = &payables[0];
    assert_eq!((payable["amount"].as_str(), payable["due_date"].as_str()), (Some("7096.40"), Some("2027-01-30")));
    assert_eq!(payable["state"], "open");
    assert!(c.b.list("payable").await.is_empty());
    let pay = c.only_task(&c.finance, "pay").await;
    assert!(pay["due_at"].as_str().unwrap().starts_with("2027-01-30"), "{pay}");
    c.finance
        .post(
            &format!("/api/v1/tasks/{}/complete", pay["id"].as_str().unwrap()),
            json!({ "outputs": { "payment_date": "2027-01-28", "payment_reference": "ICBC-20270128-001" } }),
        )
        .await
        .ok(200);
    c.settle().await;
    let paid = c.s.record("payable", &id_of(payable)).await;
    assert_eq!((paid["state"].as_str(), paid["paid_on"].as_str()), (Some("paid"), Some("2027-01-28")));

    // The accepted difference is in the audit trail, by the process acting for the buyer.
    let timeline = c.buyer.get(&format!("/api/v1/records/supplier_invoice/{invoice_id}/timeline")).await.ok(200);
    assert!(timeline.to_string().contains("transition:accept"), "{timeline}");
}

async fn an_invoice_for_goods_not_received_waits_for_the_receipt(backend: TestBackend) {
    let c = company(backend).await;
    let order = c.confirmed_order().await;
    let id = id_of(&order);
    let lines = line_ids(&order);
    // The bolts are invoiced before they arrive: an exception for the buyer, no payable.
    let early =
        c.s.create(
            "supplier_invoice",
            json!({ "purchase_order": id, "invoice_no": "SZ-2026-0899",
                    "lines": [{ "po_line": lines[0], "qty": "100", "unit_price": "25.00", "tax_rate": "13" }] }),
        )
        .await;
    let early_id = id_of(&early);
    c.s.transition("supplier_invoice", &early_id, "submit", json!({})).await.ok(200);
    c.settle().await;
    let flagged = c.buyer.record("supplier_invoice", &early_id).await;
    assert_eq!(
        (flagged["state"].as_str(), flagged["differences"][0]["kind"].as_str()),
        (Some("exception"), Some("not_received"))
    );
    c.only_task(&c.buyer, "review").await;
    assert!(c.buyer.list("payable").await.is_empty());
    // The late receipt re-runs the match: the invoice matches, the buyer's to-do goes away.
    c.warehouse
        .create(
            "goods_receipt",
            json!({ "purchase_order": id, "lines": [{ "po_line": lines[0], "received_qty": "100", "accepted_qty": "100" }] }),
        )
        .await;
    c.settle().await;
    assert_eq!(c.buyer.record("supplier_invoice", &early_id).await["state"], "matched");
    assert!(c.buyer.tasks().await.iter().all(|t| t["element"] != "review"), "the exception was withdrawn");
    let payables = c.buyer.list("payable").await;
    assert_eq!(payables.len(), 1);
    assert_eq!(payables[0]["amount"], "2825.00", "100 × 25.00 + 13 %");

    // The housings are invoiced before they arrive too.
    let invoice =
        c.s.create(
            "supplier_invoice",
            json!({ "purchase_order": id, "invoice_no": "SZ-2026-0900",
                    "lines": [{ "po_line": lines[1], "qty": "50", "unit_price": "120.00", "tax_rate": "13" }] }),
        )
        .await;
    let invoice_id = id_of(&invoice);
    c.s.transition("supplier_invoice", &invoice_id, "submit", json!({})).await.ok(200);
    c.settle().await;
    let flagged = c.buyer.record("supplier_invoice", &invoice_id).await;
    assert_eq!(flagged["state"], "exception");
    assert_eq!(flagged["differences"][0]["kind"], "not_received", "{flagged}");
    assert_eq!(c.buyer.list("payable").await.len(), 1, "only the bolts' payable");
    c.only_task(&c.buyer, "review").await;

    // A receipt for 40 is not enough: still an exception.
    c.warehouse
        .create(
            "goods_receipt",
            json!({ "purchase_order": id, "lines": [{ "po_line": lines[1], "received_qty": "45", "accepted_qty": "40" }] }),
        )
        .await;
    c.settle().await;
    assert_eq!(c.buyer.record("supplier_invoice", &invoice_id).await["state"], "exception");
    // Receiving more than is left on the line is refused (5 of 50 are left).
    let over = c
        .warehouse
        .post(
            "/api/v1/records/goods_receipt",
            json!({ "purchase_order": id, "lines": [{ "po_line": lines[1], "received_qty": "6", "accepted_qty": "6" }] }),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(over["errors"][0]["pointer"], "/lines/0/received_qty", "{over}");
    c.warehouse
        .create(
            "goods_receipt",
            json!({ "purchase_order": id, "lines": [{ "po_line": lines[1], "received_qty": "5", "accepted_qty": "5" }] }),
        )
        .await
        .to_string();
    // 40 + 5 accepted of 50: still short; the supplier's 5 rejected ones are not paid.
    c.settle().await;
    assert_eq!(c.buyer.record("supplier_invoice", &invoice_id).await["state"], "exception");
    let task = c.only_task(&c.buyer, "review").await;
    c.buyer
        .post(
            &format!("/api/v1/tasks/{}/complete", task["id"].as_str().unwrap()),
            json!({ "outputs": { "resolution": "request_credit", "reason": "5 housings rejected at incoming QC" } }),
        )
        .await
        .ok(200);
    c.settle().await;
    assert_eq!(c.buyer.record("supplier_invoice", &invoice_id).await["state"], "credit_requested");
    // S corrects the invoice to the 45 accepted and resubmits: it matches now.
    let current = c.s.record("supplier_invoice", &invoice_id).await;
    let mut corrected = current["lines"].clone();
    corrected[0]["qty"] = json!("45");
    c.s.patch(&format!("/api/v1/records/supplier_invoice/{invoice_id}"), json!({ "lines": corrected })).await.ok(200);
    c.s.transition("supplier_invoice", &invoice_id, "submit", json!({})).await.ok(200);
    c.settle().await;
    assert_eq!(c.buyer.record("supplier_invoice", &invoice_id).await["state"], "matched");
    let payables = c.buyer.list("payable").await;
    assert_eq!(payables.len(), 2);
    assert!(payables.iter().any(|p| p["amount"] == "6102.00"), "45 × 120.00 + 13 %: {payables:?}");
    // Replaying the whole outbox to the matcher changes nothing.
    c.app.db.execute("UPDATE consumer_offsets SET position = 0 WHERE name = 'procurement_match'").await;
    c.settle().await;
    assert_eq!(c.buyer.list("payable").await.len(), 2);
}

async fn a_changed_order_needs_approval_and_confirmation_again(backend: TestBackend) {
    let c = company(backend).await;
    let order = c.confirmed_order().await;
    let id = id_of(&order);
    assert_eq!(order["state"], "confirmed");
    let mut lines = order["lines"].clone();
    lines[0]["qty"] = json!("120");
    let refused = c
        .buyer
        .patch(&format!("/api/v1/records/purchase_order/{id}"), json!({ "lines": lines.clone() }))
        .await
        .problem(422, "validation_failed");
    assert_eq!(refused["errors"][0]["pointer"], "/lines", "{refused}");
    // Revising sends it back to draft; the change needs approval and S's confirmation again.
    c.buyer.transition("purchase_order", &id, "revise", json!({})).await.ok(200);
    let changed =
        c.buyer.patch(&format!("/api/v1/records/purchase_order/{id}"), json!({ "lines": lines })).await.ok(200);
    assert_eq!(changed["total_amount"], "9000.00");
    // Quantities Weft keeps cannot be typed in.
    let mut forged = changed["lines"].clone();
    forged[0]["received_qty"] = json!("120");
    let forged = c
        .buyer
        .patch(&format!("/api/v1/records/purchase_order/{id}"), json!({ "lines": forged }))
        .await
        .problem(422, "validation_failed");
    assert_eq!(forged["errors"][0]["pointer"], "/lines/0/received_qty");
    c.buyer.transition("purchase_order", &id, "submit", json!({})).await.ok(200);
    c.settle().await;
    let task = c.only_task(&c.manager, "manager_approve").await;
    c.manager.post(&format!("/api/v1/tasks/{}/approve", task["id"].as_str().unwrap()), json!({})).await.ok(200);
    c.settle().await;
    assert_eq!(c.buyer.record("purchase_order", &id).await["state"], "approved", "not confirmed until S says so");
    // Shipping against an order S has not confirmed again is refused.
    let lines = line_ids(&changed);
    c.s.post(
        "/api/v1/records/shipping_notice",
        json!({ "purchase_order": id, "carrier": "SF", "tracking_no": "SF1", "eta": "2026-12-30",
                "lines": [{ "po_line": lines[0], "qty": "1" }] }),
    )
    .await
    .problem(422, "validation_failed");
    c.s.transition("purchase_order", &id, "confirm", json!({ "promised_date": "2026-12-24" })).await.ok(200);
    assert_eq!(c.buyer.record("purchase_order", &id).await["state"], "confirmed");
}

async fn supplier_documents_are_checked_against_the_order(backend: TestBackend) {
    let c = company(backend).await;
    let order = c.confirmed_order().await;
    let id = id_of(&order);
    // B's contact cannot point at S's order: it answers like a missing one.
    let hidden =
        c.b.post(
            "/api/v1/records/shipping_notice",
            json!({ "purchase_order": id, "carrier": "x", "tracking_no": "1",
                "eta": "2026-12-30", "lines": [{ "po_line": line_ids(&order)[0], "qty": "1" }] }),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(hidden["errors"][0]["pointer"], "/purchase_order", "{hidden}");
    assert!(!hidden.to_string().contains(&c.party_s));
    // S cannot file a document for another supplier, nor name a line the order lacks.
    let other =
        c.s.post(
            "/api/v1/records/progress_update",
            json!({ "purchase_order": id, "supplier": c.party_b, "percent": "10",
                "stage": "materials" }),
        )
        .await;
    assert!(matches!(other.status.as_u16(), 403 | 422), "{}", other.text);
    let unknown =
        c.s.post(
            "/api/v1/records/supplier_invoice",
            json!({ "purchase_order": id, "invoice_no": "X-1",
                "lines": [{ "po_line": Uuid::now_v7().to_string(), "qty": "1", "unit_price": "1" }] }),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(unknown["errors"][0]["pointer"], "/lines/0/po_line");
    // A guest cannot write the fields Weft keeps on an invoice, nor create receipts.
    c.s.post(
        "/api/v1/records/supplier_invoice",
        json!({ "purchase_order": id, "invoice_no": "X-2", "buyer": c.s.id,
                "lines": [{ "po_line": line_ids(&order)[0], "qty": "1", "unit_price": "25" }] }),
    )
    .await
    .problem(422, "validation_failed");
    let receipt =
        c.s.post(
            "/api/v1/records/goods_receipt",
            json!({ "purchase_order": id,
                "lines": [{ "po_line": line_ids(&order)[0], "received_qty": "1", "accepted_qty": "1" }] }),
        )
        .await;
    assert_eq!(receipt.status.as_u16(), 403, "{}", receipt.text);
    // Nothing of the refused writes landed: there are only the receipt and the invoice the
    // confirmation planned.
    assert!(c.buyer.list("shipping_notice").await.is_empty());
    let invoices = c.buyer.list("supplier_invoice").await;
    assert_eq!(invoices.len(), 1);
    assert_eq!((invoices[0]["state"].as_str(), invoices[0]["invoice_no"].as_str()), (Some("draft"), None));
    let receipts = c.buyer.list("goods_receipt").await;
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0]["state"], "expected");
}

fn state_of(record: &Value) -> &str {
    record["state"].as_str().unwrap_or_default()
}

async fn a_receipt_booked_directly_keeps_the_expected_one_in_step(backend: TestBackend) {
    let c = company(backend).await;
    let order = c.confirmed_order().await;
    let id = id_of(&order);
    let lines = line_ids(&order);
    let expected = c.only_expected_receipt(&id).await;
    let expected_id = id_of(&expected);
    // 40 bolts booked directly: 60 bolts and 50 housings are still expected.
    let first = c
        .warehouse
        .create(
            "goods_receipt",
            json!({ "purchase_order": id, "lines": [{ "po_line": lines[0], "received_qty": "40", "accepted_qty": "40" }] }),
        )
        .await;
    assert_eq!(state_of(&first), "posted");
    let refreshed = c.warehouse.record("goods_receipt", &expected_id).await;
    let quantities: Vec<&str> =
        refreshed["lines"].as_array().unwrap().iter().map(|l| l["expected_qty"].as_str().unwrap()).collect();
    assert_eq!(quantities, ["60.000", "50.000"], "{refreshed}");
    // A direct receipt still needs its quantities, now checked by Weft.
    let missing = c
        .warehouse
        .post(
            "/api/v1/records/goods_receipt",
            json!({ "purchase_order": id, "lines": [{ "po_line": lines[1], "received_qty": "5" }] }),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(missing["errors"][0]["pointer"], "/lines/0/accepted_qty", "{missing}");
    // The rest arrives: nothing is expected any more.
    c.warehouse
        .create(
            "goods_receipt",
            json!({ "purchase_order": id, "lines": [
                { "po_line": lines[0], "received_qty": "60", "accepted_qty": "60" },
                { "po_line": lines[1], "received_qty": "50", "accepted_qty": "48" }] }),
        )
        .await;
    let gone = c.warehouse.record("goods_receipt", &expected_id).await;
    assert_eq!(state_of(&gone), "cancelled", "{gone}");
    assert!(c.warehouse.list("goods_receipt").await.iter().all(|r| state_of(r) != "expected"));
    // A cancelled receipt cannot be posted.
    c.warehouse.transition("goods_receipt", &expected_id, "post", json!({})).await.problem(409, "conflict");
    // Reversing the first receipt opens 40 bolts again: they are expected once more.
    c.warehouse
        .transition("goods_receipt", &id_of(&first), "reverse", json!({ "reason": "booked on the wrong order" }))
        .await
        .ok(200);
    let again = c.only_expected_receipt(&id).await;
    assert_eq!(again["lines"].as_array().unwrap().len(), 1, "{again}");
    assert_eq!(again["lines"][0]["expected_qty"], "40.000");
    // Expected and cancelled receipts count for nothing: the order has what was posted.
    let order = c.buyer.record("purchase_order", &id).await;
    assert_eq!(
        (order["lines"][0]["received_qty"].as_str(), order["lines"][1]["accepted_qty"].as_str()),
        (Some("60.000"), Some("48.000"))
    );

    // The draft invoice, submitted as Weft prepared it, is matched like any invoice: the
    // bolts are 40 short, so it waits as an exception; one for what arrived matches.
    let draft = c.only_draft_invoice(&c.s, &id).await;
    let draft_id = id_of(&draft);
    let mut billed = draft["lines"].clone();
    billed[0]["qty"] = json!("60");
    billed[1]["qty"] = json!("48");
    c.s.patch(
        &format!("/api/v1/records/supplier_invoice/{draft_id}"),
        json!({ "invoice_no": "SZ-2026-1001", "invoice_date": "2026-12-20", "lines": billed }),
    )
    .await
    .ok(200);
    c.s.transition("supplier_invoice", &draft_id, "submit", json!({})).await.ok(200);
    c.settle().await;
    assert_eq!(state_of(&c.buyer.record("supplier_invoice", &draft_id).await), "matched");
    let payables = c.s.list("payable").await;
    assert_eq!(payables.len(), 1);
    assert_eq!(payables[0]["amount"], "8203.80", "(60 × 25 + 48 × 120) × 1.13");
}

async fn revising_or_closing_the_order_withdraws_what_was_expected(backend: TestBackend) {
    let c = company(backend).await;
    let order = c.confirmed_order().await;
    let id = id_of(&order);
    let receipt = c.only_expected_receipt(&id).await;
    let invoice = c.only_draft_invoice(&c.s, &id).await;
    // Revised: nothing is expected of the old order.
    c.buyer.transition("purchase_order", &id, "revise", json!({})).await.ok(200);
    assert_eq!(state_of(&c.buyer.record("goods_receipt", &id_of(&receipt)).await), "cancelled");
    let withdrawn = c.s.record("supplier_invoice", &id_of(&invoice)).await;
    assert_eq!(state_of(&withdrawn), "withdrawn");
    c.s.transition("supplier_invoice", &id_of(&invoice), "submit", json!({})).await.problem(409, "conflict");
    // Approved and confirmed again (by the order's own transition): fresh plans.
    c.buyer.transition("purchase_order", &id, "submit", json!({})).await.ok(200);
    c.settle().await;
    let task = c.only_task(&c.manager, "manager_approve").await;
    c.manager.post(&format!("/api/v1/tasks/{}/approve", task["id"].as_str().unwrap()), json!({})).await.ok(200);
    c.settle().await;
    c.s.transition("purchase_order", &id, "confirm", json!({ "promised_date": "2026-12-28" })).await.ok(200);
    let fresh = c.only_expected_receipt(&id).await;
    assert_ne!(id_of(&fresh), id_of(&receipt));
    assert_eq!(fresh["expected_on"], "2026-12-28");
    let fresh_invoice = c.only_draft_invoice(&c.s, &id).await;
    assert_ne!(id_of(&fresh_invoice), id_of(&invoice));
    c.assert_b_sees_nothing_of(&id_of(&fresh), &id_of(&fresh_invoice)).await;

    // S starts on the invoice; part arrives; the buyer closes the order short.
    let invoice_path = format!("/api/v1/records/supplier_invoice/{}", id_of(&fresh_invoice));
    c.s.patch(&invoice_path, json!({ "invoice_no": "SZ-2026-1002" })).await.ok(200);
    let lines = line_ids(&order);
    c.warehouse
        .create(
            "goods_receipt",
            json!({ "purchase_order": id, "lines": [{ "po_line": lines[0], "received_qty": "100", "accepted_qty": "100" }] }),
        )
        .await;
    c.buyer.transition("purchase_order", &id, "close", json!({})).await.ok(200);
    assert_eq!(state_of(&c.buyer.record("goods_receipt", &id_of(&fresh)).await), "cancelled");
    assert!(c.warehouse.list("goods_receipt").await.iter().all(|r| state_of(r) != "expected"));
    // The invoice S worked on stays S's to finish or withdraw; B cannot touch it.
    assert_eq!(state_of(&c.s.record("supplier_invoice", &id_of(&fresh_invoice)).await), "draft");
    c.b.transition("supplier_invoice", &id_of(&fresh_invoice), "withdraw", json!({})).await.problem(404, "not_found");
    c.s.transition("supplier_invoice", &id_of(&fresh_invoice), "withdraw", json!({})).await.ok(200);
    assert_eq!(state_of(&c.buyer.record("supplier_invoice", &id_of(&fresh_invoice)).await), "withdrawn");
    c.settle().await;
    assert!(c.buyer.list("payable").await.is_empty(), "a withdrawn invoice is never paid");
}

async fn closing_short_withdraws_the_untouched_draft_invoice(backend: TestBackend) {
    let c = company(backend).await;
    let order = c.confirmed_order().await;
    let id = id_of(&order);
    let receipt = c.only_expected_receipt(&id).await;
    let invoice = c.only_draft_invoice(&c.s, &id).await;
    c.warehouse
        .create(
            "goods_receipt",
            json!({ "purchase_order": id, "lines": [{ "po_line": line_ids(&order)[1], "received_qty": "30", "accepted_qty": "30" }] }),
        )
        .await;
    // The supplier cannot deliver the rest; the buyer closes the order short.
    c.buyer.transition("purchase_order", &id, "close", json!({})).await.ok(200);
    assert_eq!(state_of(&c.buyer.record("goods_receipt", &id_of(&receipt)).await), "cancelled");
    let withdrawn = c.s.record("supplier_invoice", &id_of(&invoice)).await;
    assert_eq!(state_of(&withdrawn), "withdrawn", "the draft S never touched is withdrawn");
    // The timeline says who did it and why: the system, with the order's close.
    let timeline = c.s.get(&format!("/api/v1/records/supplier_invoice/{}/timeline", id_of(&invoice))).await.ok(200);
    assert!(timeline.to_string().contains("transition:withdraw"), "{timeline}");
    // S invoices what arrived on an invoice of its own; it is matched like any other.
    let own =
        c.s.create(
            "supplier_invoice",
            json!({ "purchase_order": id, "invoice_no": "SZ-2026-1003",
                    "lines": [{ "po_line": line_ids(&order)[1], "qty": "30", "unit_price": "120.00", "tax_rate": "13" }] }),
        )
        .await;
    c.s.transition("supplier_invoice", &id_of(&own), "submit", json!({})).await.ok(200);
    c.settle().await;
    assert_eq!(state_of(&c.buyer.record("supplier_invoice", &id_of(&own)).await), "matched");
    // Nothing new was planned for the closed order.
    assert!(c.warehouse.list("goods_receipt").await.iter().all(|r| state_of(r) != "expected"));
    let drafts = c.s.list("supplier_invoice").await.into_iter().filter(|i| state_of(i) == "draft").count();
    assert_eq!(drafts, 0);
}

/// A licence scan: a small PNG.
const SCAN: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8,
    6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0, 1, 0, 0, 5, 0, 1,
    0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

async fn apply(app: &TestApp, fields: &[(&str, &str)], with_file: bool) -> Answer {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text((*name).to_owned(), (*value).to_owned());
    }
    if with_file {
        let part = reqwest::multipart::Part::bytes(SCAN.to_vec()).file_name("营业执照.png");
        form = form.part("licences", part);
    }
    let response = app
        .anonymous
        .post(app.url("/api/v1/public/supplier-applications"))
        .multipart(form)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    assert!(status.as_u16() < 500, "{status} {text}");
    Answer { status, text }
}

const APPLICANT: [(&str, &str); 6] = [
    ("company_name", "宁波恒达精密铸造有限公司"),
    ("tax_id", "91330200MA2GXXXX1A"),
    ("contact_name", "周敏"),
    ("contact_email", "zhou.min@hengda-casting.example"),
    ("categories", "components"),
    ("categories", "raw_material"),
];

async fn review(c: &Company, who: &Caller, element: &str, approve: bool, comment: Option<&str>) {
    let task = c.only_task(who, element).await;
    let id = task["id"].as_str().unwrap();
    let body = comment.map_or_else(|| json!({}), |c| json!({ "comment": c }));
    let action = if approve { "approve" } else { "reject" };
    who.post(&format!("/api/v1/tasks/{id}/{action}"), body).await.ok(200);
    c.settle().await;
}

async fn a_supplier_applies_on_the_public_form_and_is_onboarded(backend: TestBackend) {
    let c = company(backend).await;
    let procurement = member(&c.app, "reviewer@weft.test", &["employee", "procurement_reviewer"]).await;
    let legal = member(&c.app, "legal@weft.test", &["employee", "legal_reviewer"]).await;
    let admin = Caller { base: c.app.base_url.clone(), client: c.app.client.clone(), id: c.app.admin_id };

    // The public form takes only the applicant's fields, and needs the required ones.
    let sneaky = apply(&c.app, &[("company_name", "X"), ("supplier", &c.party_s)], false).await;
    let body = sneaky.problem(422, "validation_failed");
    assert_eq!(body["errors"][0]["pointer"], "/supplier", "{body}");
    let empty = apply(&c.app, &[("company_name", "Only a name")], false).await.problem(422, "validation_failed");
    let pointers: Vec<&str> =
        empty["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/contact_email", "/contact_name", "/tax_id"], "{empty}");

    // A value of the wrong kind is named; a body that is not a form is a clean 400.
    let mut bad = APPLICANT;
    bad[4] = ("categories", "spaceships");
    bad[3] = ("contact_email", "not an address");
    let wrong = apply(&c.app, &bad, false).await.problem(422, "validation_failed");
    let pointers: Vec<&str> =
        wrong["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/categories/0", "/contact_email"], "{wrong}");
    let not_a_form = c
        .app
        .anonymous
        .post(c.app.url("/api/v1/public/supplier-applications"))
        .json(&json!({ "company_name": "X" }))
        .send()
        .await
        .expect("request");
    assert_eq!(not_a_form.status().as_u16(), 400);
    // Nothing of the refused applications was written.
    assert!(admin.list("supplier_application").await.is_empty());

    // A complete application with its licence: received, numbered, in review.
    let receipt = apply(&c.app, &APPLICANT, true).await.ok(201);
    assert_eq!(receipt["state"], "in_review");
    assert!(receipt["number"].as_str().unwrap().starts_with("SA-"));
    let id = receipt["id"].as_str().unwrap().to_owned();
    c.settle().await;
    let files = admin.get(&format!("/api/v1/records/supplier_application/{id}/attachments")).await.ok(200);
    assert_eq!(files.as_array().unwrap().len(), 1, "{files}");
    assert_eq!(files[0]["content_type"], "image/png");
    // Guests see none of it.
    c.s.get(&format!("/api/v1/records/supplier_application/{id}")).await.problem(404, "not_found");

    // Procurement, legal and finance approve in turn.
    review(&c, &procurement, "procurement_review", true, None).await;
    assert!(procurement.tasks().await.is_empty());
    review(&c, &legal, "legal_review", true, None).await;
    review(&c, &c.finance, "finance_review", true, None).await;
    let approved = admin.record("supplier_application", &id).await;
    assert_eq!(approved["state"], "approved", "{approved}");
    let party = approved["supplier"].as_str().expect("the supplier party is linked").to_owned();
    let supplier = admin.record("party", &party).await;
    assert_eq!(
        (supplier["name"].as_str(), supplier["tax_id"].as_str()),
        (Some("宁波恒达精密铸造有限公司"), Some("91330200MA2GXXXX1A"))
    );
    assert_eq!(supplier["roles"], json!(["supplier"]));
    let profiles = admin.list("supplier_profile").await;
    assert!(profiles.iter().any(|p| p["supplier"] == json!(party) && p["category"] == "components"), "{profiles:?}");
    let guests = admin.get(&format!("/api/v1/admin/principals?party={party}")).await.ok(200);
    let guest = &guests["items"][0];
    assert_eq!(
        (guest["login"].as_str(), guest["status"].as_str()),
        (Some("zhou.min@hengda-casting.example"), Some("invited")),
        "{guests}"
    );
    assert_eq!(guest["roles"], json!(["supplier_portal"]));
    // The applicant is mailed the invitation (in Chinese and English), and its link lets
    // them set a password and sign in to the portal.
    let application = Uuid::parse_str(&id).unwrap();
    let letters = c.app.workspace.letters_about(application).await.expect("letters");
    assert_eq!(letters.len(), 1, "{letters:?}");
    let (status, letter) = &letters[0];
    assert_eq!((status.as_str(), letter.to.as_str()), ("pending", "zhou.min@hengda-casting.example"));
    assert!(letter.subject.contains("已通过") && letter.subject.contains("approved"), "{}", letter.subject);
    assert!(letter.body.contains("周敏") && letter.body.contains("宁波恒达精密铸造有限公司"), "{}", letter.body);
    let token = letter.link_path.as_deref().and_then(|p| p.strip_prefix("/accept-invitation#token=")).expect("link");
    let accepted = c
        .app
        .anonymous
        .post(c.app.url("/api/v1/auth/invitations/accept"))
        .json(&json!({ "token": token, "password": "a long password 2" }))
        .send()
        .await
        .expect("request");
    assert_eq!(accepted.status().as_u16(), 200);
    // A replay of the outbox onboards nothing twice.
    c.app.db.execute("UPDATE consumer_offsets SET position = 0 WHERE name = 'procurement_match'").await;
    c.settle().await;
    assert_eq!(
        admin.get(&format!("/api/v1/admin/principals?party={party}")).await.ok(200)["items"].as_array().unwrap().len(),
        1
    );
    assert_eq!(c.app.workspace.letters_about(application).await.unwrap().len(), 1, "mailed once");

    // Another applicant is turned down by legal, with the reason kept for the applicant.
    let mut other = APPLICANT;
    other[0] = ("company_name", "Shady Components Ltd");
    other[1] = ("tax_id", "91110000XXXXXXXX9Z");
    other[3] = ("contact_email", "sales@shady.example");
    let second = apply(&c.app, &other, false).await.ok(201);
    let second_id = second["id"].as_str().unwrap().to_owned();
    c.settle().await;
    review(&c, &procurement, "procurement_review", true, None).await;
    review(&c, &legal, "legal_review", false, Some("营业执照已过期 / the business licence has expired")).await;
    let rejected = admin.record("supplier_application", &second_id).await;
    assert_eq!(rejected["state"], "rejected");
    assert_eq!(rejected["decision_reason"], "营业执照已过期 / the business licence has expired");
    assert!(rejected["supplier"].is_null());
    assert!(c.finance.tasks().await.iter().all(|t| t["element"] != "finance_review"));
    // The applicant is told, with the reason.
    let letters = c.app.workspace.letters_about(Uuid::parse_str(&second_id).unwrap()).await.unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0].1;
    assert_eq!(letter.to, "sales@shady.example");
    assert!(letter.subject.contains("未通过") && letter.subject.contains("not approved"), "{}", letter.subject);
    assert!(
        letter.body.contains("原因：营业执照已过期") && letter.body.contains("Reason: 营业执照已过期"),
        "{}",
        letter.body
    );
    assert!(letter.link_path.is_none());

    // Five applications an hour from one address; the next is told to wait.
    let mut last = None;
    for i in 0..4 {
        let mut fields = other;
        let tax = format!("9111000000000000{i}X");
        fields[1] = ("tax_id", &tax);
        last = Some(apply(&c.app, &fields, false).await);
    }
    let last = last.unwrap();
    assert_eq!(last.status.as_u16(), 429, "{}", last.text);
    assert_eq!(last.json()["code"], "rate_limited", "{}", last.text);
}

async fn an_approved_requisition_becomes_draft_orders(backend: TestBackend) {
    let c = company(backend).await;
    let admin = Caller { base: c.app.base_url.clone(), client: c.app.client.clone(), id: c.app.admin_id };
    let bolt = admin
        .create(
            "item",
            json!({ "code": "B-M8", "name": "M8 bolt", "category": "components", "uom": "box", "last_price": "24.50" }),
        )
        .await;
    let requisition = c
        .buyer
        .create(
            "purchase_requisition",
            json!({
                "title": "Line 3 restart", "budget_code": "PRJ-0042", "needed_by": "2027-01-15",
                "lines": [
                    { "item": id_of(&bolt), "description": "M8 bolt, zinc plated", "qty": "40" },
                    { "description": "Gearbox housing", "qty": "5", "estimated_price": "118.00" }
                ]
            }),
        )
        .await;
    let id = id_of(&requisition);
    let order_path = format!("/api/v1/procurement/requisitions/{id}/order");

    // A draft requisition is not ordered, whichever way.
    c.buyer.post(&order_path, json!({ "supplier": c.party_s })).await.problem(409, "conflict");
    let direct = json!({ "subject": "x", "supplier": c.party_s, "category": "components", "requisition": id,
                         "lines": [{ "description": "x", "qty": "1", "unit_price": "1" }] });
    let refused =
        c.buyer.post("/api/v1/records/purchase_order", direct.clone()).await.problem(422, "validation_failed");
    assert_eq!(refused["errors"][0]["pointer"], "/requisition", "{refused}");
    c.buyer.transition("purchase_requisition", &id, "submit", json!({})).await.ok(200);
    admin.transition("purchase_requisition", &id, "approve", json!({})).await.ok(200);

    // Bad choices are named; a supplier's contact cannot even see the requisition.
    c.buyer.post(&order_path, json!({})).await.problem(422, "validation_failed");
    let out_of_range = c.buyer.post(&order_path, json!({ "supplier": c.party_s, "lines": [0, 7] })).await;
    let body = out_of_range.problem(422, "validation_failed");
    assert_eq!(body["errors"][0]["pointer"], "/lines/1", "{body}");
    c.s.post(&order_path, json!({ "supplier": c.party_s })).await.problem(404, "not_found");

    // The bolts go to S: priced at the item's last price, S's 45 payment days, needed-by
    // as the requested date; the requisition is now ordered.
    let first = c.buyer.post(&order_path, json!({ "supplier": c.party_s, "lines": [0] })).await.ok(201);
    assert_eq!((first["state"].as_str(), first["requisition"].as_str()), (Some("draft"), Some(id.as_str())));
    assert_eq!(
        (first["subject"].as_str(), first["category"].as_str(), first["payment_days"].as_i64()),
        (Some("Line 3 restart"), Some("components"), Some(45))
    );
    let line = &first["lines"][0];
    assert_eq!(line["item"], bolt["id"]);
    assert_eq!((line["qty"].as_str(), line["unit_price"].as_str()), (Some("40.000"), Some("24.5000")), "{line}");
    assert_eq!((line["uom"].as_str(), line["requested_date"].as_str()), (Some("box"), Some("2027-01-15")));
    assert_eq!(first["total_amount"], "980.00");
    assert_eq!(first["buyer"].as_str(), Some(c.buyer.id.to_string().as_str()));
    assert_eq!(c.buyer.record("purchase_requisition", &id).await["state"], "ordered");

    // The housing goes to B from the same requisition, at its estimate.
    // It names no item, so the buyer says which category the order is.
    let uncategorised = c.buyer.post(&order_path, json!({ "supplier": c.party_b, "lines": [1] })).await;
    assert_eq!(uncategorised.problem(422, "validation_failed")["errors"][0]["pointer"], "/category");
    let second = c
        .buyer
        .post(&order_path, json!({ "supplier": c.party_b, "lines": [1], "category": "components" }))
        .await
        .ok(201);
    assert_eq!(second["lines"][0]["unit_price"], "118.0000");
    assert_eq!(second["lines"].as_array().unwrap().len(), 1);
    // The requisition's history says who ordered it: the order's command, as the system.
    let timeline = c.buyer.get(&format!("/api/v1/records/purchase_requisition/{id}/timeline")).await.ok(200);
    assert!(timeline.as_array().unwrap().iter().any(|e| e["command"] == "transition:mark_ordered"), "{timeline}");
    // A cancelled requisition cannot be named by a new order.
    let other = c
        .buyer
        .create("purchase_requisition", json!({ "title": "Spare", "lines": [{ "description": "x", "qty": "1" }] }))
        .await;
    c.buyer.transition("purchase_requisition", &id_of(&other), "cancel", json!({})).await.ok(200);
    let mut named = direct;
    named["requisition"] = json!(id_of(&other));
    c.buyer.post("/api/v1/records/purchase_order", named).await.problem(422, "validation_failed");
}
