//! Delivery outward against receivers the test runs on 127.0.0.1: an SMTP server gets the
//! mail for a mention (and a digest of updates), a guest never gets an internal message by
//! e-mail, WeCom/DingTalk/Feishu/Slack webhooks get their formats with signatures that
//! verify, a receiver that fails three times gets exactly one card, a permanently failing
//! one ends as a dead letter an administrator replays, and bad settings are problems naming
//! the field. Time moves with the delivery clock, never by sleeping.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::routing::post;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;
use weft_model::Principal;
use weft_store::kernel::collab::StoredInboxItem;
use weft_store::kernel::delivery as store;
use weft_store::kernel::outbox::StoredEvent;
use weft_testkit::{TestApp, TestBackend, bearer_client, on_both_databases, spawn_app};
use weft_workspace::collab::InboxFanout;
use weft_workspace::collab::delivery::{DeliveryConfig, Letter, Outbound, RetryPolicy, SmtpSettings, SmtpTls};
use weft_workspace::consumers::Consumer;
use weft_workspace::identity::{Clock, NewPrincipal, PrincipalKindName, SecretString};

const PROBLEM: &str = "application/problem+json";
const PUBLIC_URL: &str = "https://weft.test";

on_both_databases!(
    a_mention_is_mailed_and_internal_messages_never_reach_a_guest,
    robots_get_their_vendor_formats_signed,
    a_receiver_failing_three_times_gets_exactly_one_card,
    a_permanent_failure_is_a_dead_letter_an_admin_replays,
    bad_settings_are_problems_naming_the_field,
    a_new_delivery_consumer_starts_at_the_head,
    a_letter_reaches_an_outside_address_and_forgets_its_one_time_link,
    an_admin_edits_and_deletes_a_robot_and_nobody_else_may,
);

// ── receivers ──────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone)]
struct Mail {
    to: Vec<String>,
    data: String,
}

#[derive(Clone, Default)]
struct SmtpSink {
    mails: Arc<Mutex<Vec<Mail>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for SmtpSink {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let mail = Mail { to: std::mem::take(&mut self.to), data: String::from_utf8_lossy(&self.data).into_owned() };
        self.mails.lock().unwrap().push(mail);
        mailin_embedded::response::OK
    }
}

/// An SMTP server on a free port; its thread lives as long as the test binary.
fn smtp_server() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sink = SmtpSink::default();
    let mails = sink.mails.clone();
    let mut server = mailin_embedded::Server::new(sink);
    server.with_name("smtp.test").with_num_threads(2).with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    (port, mails)
}

#[derive(Debug, Clone)]
struct Hit {
    vendor: String,
    query: std::collections::HashMap<String, String>,
    body: Value,
}

/// Answers per vendor; `fail_first` calls fail with 500 first, then it answers as the vendor
/// would (`failing` keeps failing while true).
#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    calls: Arc<Mutex<usize>>,
    fail_first: usize,
    failing: Arc<Mutex<bool>>,
}

async fn receive(
    State(r): State<Receiver>,
    Path(vendor): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    axum::Json(body): axum::Json<Value>,
) -> (axum::http::StatusCode, axum::Json<Value>) {
    let call = {
        let mut calls = r.calls.lock().unwrap();
        *calls += 1;
        *calls
    };
    if call <= r.fail_first || *r.failing.lock().unwrap() {
        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"error": "down"})));
    }
    r.hits.lock().unwrap().push(Hit { vendor: vendor.clone(), query, body });
    let answer = match vendor.as_str() {
        "feishu" => json!({"code": 0, "msg": "success", "data": {}}),
        "slack" => json!("ok"),
        _ => json!({"errcode": 0, "errmsg": "ok"}),
    };
    (axum::http::StatusCode::OK, axum::Json(answer))
}

async fn http_receiver(receiver: Receiver) -> String {
    // A webhook that redirects elsewhere: delivery must not follow it.
    let redirect =
        || async { (axum::http::StatusCode::TEMPORARY_REDIRECT, [(axum::http::header::LOCATION, "/hook/slack")]) };
    let app = axum::Router::new()
        .route("/hook/{vendor}", post(receive))
        .route("/redirect", post(redirect))
        .with_state(receiver);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/hook")
}

// ── fixture ────────────────────────────────────────────────────────────────────────────

struct Fixture {
    app: TestApp,
    order: String,
    party: Uuid,
    clock: Clock,
}

async fn fixture(backend: TestBackend) -> Fixture {
    let app = spawn_app(backend).await;
    let declared = app
        .client
        .post(app.url("/api/v1/types"))
        .json(&json!({
            "name": "order", "label": {"en": "Order", "zh": "订单"}, "title_field": "subject",
            "fields": [{"name": "subject", "label": {"en": "Subject", "zh": "主题"}, "type": "text", "required": true}]
        }))
        .send()
        .await
        .unwrap();
    assert!(declared.status().is_success(), "{}", declared.text().await.unwrap());
    let party = Uuid::now_v7();
    let order = create_order(&app, party, "steel").await;
    Fixture { app, order, party, clock: Clock::default() }
}

async fn create_order(app: &TestApp, party: Uuid, subject: &str) -> String {
    let created: Value = app
        .client
        .post(app.url("/api/v1/records/order"))
        .json(&json!({"subject": subject, "party": party}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_owned()
}

async fn person(app: &TestApp, login: &str, party: Option<Uuid>, roles: &[&str]) -> Uuid {
    let input = NewPrincipal {
        kind: Some(if party.is_some() { PrincipalKindName::Guest } else { PrincipalKindName::Member }),
        login: login.to_owned(),
        display_name: login.to_owned(),
        email: Some(login.to_owned()),
        party,
        roles: Some(roles.iter().map(|r| (*r).to_owned()).collect()),
        password: Some(SecretString::from("a long password 1")),
        ..NewPrincipal::default()
    };
    app.workspace.create_principal(&Principal::system(), input).await.expect("create principal").id
}

fn outbound(f: &Fixture, smtp_port: Option<u16>, max_attempts: u32) -> Outbound {
    Outbound::new(DeliveryConfig {
        public_url: PUBLIC_URL.into(),
        smtp: smtp_port.map(|port| SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            from: "Weft <weft@weft.test>".into(),
            username: None,
            password: None,
            timeout: Duration::from_secs(5),
        }),
        retry: RetryPolicy { max_attempts, first_delay: Duration::from_secs(60), max_delay: Duration::from_secs(600) },
        http_timeout: Duration::from_secs(5),
        claim: Duration::from_secs(30),
        clock: f.clock.clone(),
    })
    .expect("outbound")
}

/// Runs the inbox fan-out and the delivery consumer until both caught up, then sends what
/// is due.
async fn deliver(f: &Fixture, out: &Outbound) -> weft_workspace::collab::delivery::DeliveryRun {
    let ws = &f.app.workspace;
    loop {
        let n = ws.run_consumer_once(&InboxFanout).await.unwrap() + ws.run_consumer_once(out).await.unwrap();
        if n == 0 {
            break;
        }
    }
    out.run_due(ws, 100).await.unwrap()
}

/// A `kind` robot on new orders posting to `receiver`, with `max_attempts`; the consumer has
/// caught up with everything before it.
async fn robot_on_orders(f: &Fixture, receiver: &Receiver, kind: &str, max_attempts: u32) -> Outbound {
    let base = http_receiver(receiver.clone()).await;
    let out = outbound(f, None, max_attempts);
    deliver(f, &out).await;
    let robot = json!({"name": "ops", "kind": kind, "url": format!("{base}/{kind}"), "type": "order", "events": ["record.created"]});
    let created = f.app.client.post(f.app.url("/api/v1/admin/robots")).json(&robot).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    out
}

async fn post_message(f: &Fixture, body: Value) -> Value {
    let url = f.app.url(&format!("/api/v1/records/order/{}/thread", f.order));
    let response = f.app.client.post(url).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

fn mails_to(mails: &Arc<Mutex<Vec<Mail>>>, to: &str) -> Vec<Mail> {
    mails.lock().unwrap().iter().filter(|m| m.to.iter().any(|t| t == to)).cloned().collect()
}

// ── tests ──────────────────────────────────────────────────────────────────────────────

async fn a_mention_is_mailed_and_internal_messages_never_reach_a_guest(backend: TestBackend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let (port, mails) = smtp_server();
    let out = outbound(&f, Some(port), 5);
    let colleague = person(app, "li.wei@corp.test", None, &["employee"]).await;
    let guest = person(app, "buyer@a.example", Some(f.party), &["guest"]).await;
    // The guest follows its party's order and wants every update at once.
    app.workspace
        .follow_record(&Principal::guest(guest, f.party), "order", Uuid::parse_str(&f.order).unwrap())
        .await
        .expect("the guest follows");
    app.workspace
        .put_delivery_settings(
            &Principal::guest(guest, f.party),
            serde_json::from_value(json!({"email": {"update": "immediate"}})).unwrap(),
        )
        .await
        .unwrap();

    post_message(&f, json!({"body": "Check the margin @Li", "mentions": [colleague]})).await;
    post_message(&f, json!({"body": "Internal cost is 80", "visibility": "internal"})).await;
    post_message(&f, json!({"body": "Ships Friday", "visibility": "shared"})).await;
    let run = deliver(&f, &out).await;

    // The colleague's mention goes out at once, with the title and a link back.
    let to_li = mails_to(&mails, "li.wei@corp.test");
    assert_eq!(to_li.len(), 1, "{to_li:?} {run:?}");
    assert!(to_li[0].data.contains("Check the margin @Li"), "{}", to_li[0].data);
    assert!(to_li[0].data.contains(&format!("{PUBLIC_URL}/r/order/{}", f.order)), "{}", to_li[0].data);
    assert!(to_li[0].data.contains("steel"), "the record's title: {}", to_li[0].data);
    // The guest gets the shared message and never the internal one.
    let to_guest = mails_to(&mails, "buyer@a.example");
    assert_eq!(to_guest.len(), 1, "{to_guest:?}");
    assert!(to_guest[0].data.contains("Ships Friday"));
    assert!(to_guest.iter().all(|m| !m.data.contains("Internal cost")), "{to_guest:?}");

    // The colleague follows since the mention: the two later messages wait in a digest,
    // sent as one mail when its time comes.
    f.clock.advance(Duration::from_secs(61 * 60));
    out.run_due(&app.workspace, 100).await.unwrap();
    let to_li = mails_to(&mails, "li.wei@corp.test");
    assert_eq!(to_li.len(), 2, "one digest: {to_li:?}");
    assert!(
        to_li[1].data.contains("Internal cost is 80") && to_li[1].data.contains("Ships Friday"),
        "{}",
        to_li[1].data
    );

    // Even an inbox item forged for the guest about the internal message is refused by the
    // delivery's own check: nothing is queued for it.
    let internal = post_message(&f, json!({"body": "Margin is thin", "visibility": "internal"})).await;
    let item = StoredInboxItem {
        id: Uuid::now_v7(),
        principal: guest,
        kind: "mention".into(),
        source: "forged:1".into(),
        type_name: Some("order".into()),
        record_id: Some(Uuid::parse_str(&f.order).unwrap()),
        thread_id: None,
        message_id: Some(Uuid::parse_str(internal["id"].as_str().unwrap()).unwrap()),
        actor: app.admin_id.to_string(),
        summary: "Margin is thin".into(),
        state: "unread".into(),
        snoozed_until: None,
        created_at: weft_store::now(),
        updated_at: weft_store::now(),
    };
    app.workspace
        .database()
        .write(move |tx| Box::pin(async move { weft_store::kernel::collab::deliver(tx, &[item]).await.map(|_| ()) }))
        .await
        .unwrap();
    let forged = StoredEvent {
        seq: 1_000_000,
        at: weft_store::now(),
        kind: "inbox.delivered".into(),
        type_name: "inbox".into(),
        record_id: None,
        actor: "system".into(),
        payload: json!({"principals": [guest], "source": "forged:1"}),
    };
    out.handle(&app.workspace, &forged).await.unwrap();
    let queued = store::for_target(app.workspace.database(), "email", guest).await.unwrap();
    assert!(queued.iter().all(|d| !d.payload.contains("Margin is thin")), "{queued:?}");
}

async fn robots_get_their_vendor_formats_signed(backend: TestBackend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let receiver = Receiver::default();
    let base = http_receiver(receiver.clone()).await;
    let out = outbound(&f, None, 3);
    let robots = [
        json!({"name": "wecom", "kind": "wecom", "url": format!("{base}/wecom?key=k1"), "type": "order",
               "events": ["record.created", "message.posted"]}),
        json!({"name": "ding", "kind": "dingtalk", "url": format!("{base}/dingtalk?access_token=t1"), "secret": "SECding",
               "type": "order", "events": ["record.created"]}),
        json!({"name": "lark", "kind": "feishu", "url": format!("{base}/feishu"), "secret": "feishu-secret",
               "type": "order", "events": ["record.created", "message.posted"], "include_internal": true, "language": "en"}),
        json!({"name": "slack", "kind": "slack", "url": format!("{base}/slack"), "type": "order", "events": ["record.created"]}),
        json!({"name": "moved", "kind": "slack", "url": base.replace("/hook", "/redirect"), "type": "order",
               "events": ["record.created"]}),
    ];
    for robot in &robots {
        let response = app.client.post(app.url("/api/v1/admin/robots")).json(robot).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let view: Value = response.json().await.unwrap();
        let text = view.to_string();
        assert!(!text.contains("SECding") && !text.contains("feishu-secret") && !text.contains("k1"), "{text}");
        assert_eq!(view["endpoint"], "http://127.0.0.1", "{view}");
    }
    // Everything before the robots existed was already handled by the consumer.
    deliver(&f, &out).await;
    receiver.hits.lock().unwrap().clear();

    let order = create_order(app, f.party, "copper").await;
    post_message(&f, json!({"body": "Internal note", "visibility": "internal"})).await;
    let run = deliver(&f, &out).await;
    assert_eq!(run.sent, 5, "four cards for the new order, one internal message for the members-only group: {run:?}");
    assert_eq!(run.retried, 1, "the redirecting webhook failed, its redirect not followed: {run:?}");
    let hits = receiver.hits.lock().unwrap().clone();
    let link = format!("{PUBLIC_URL}/r/order/{order}");
    let hit =
        |vendor: &str| hits.iter().find(|h| h.vendor == vendor && h.body.to_string().contains(&link)).unwrap().clone();

    let wecom = hit("wecom");
    assert_eq!(wecom.body["msgtype"], "markdown");
    let content = wecom.body["markdown"]["content"].as_str().unwrap();
    assert!(content.contains("copper") && content.contains(&format!("]({link})")), "{content}");
    assert_eq!(wecom.query.get("key").map(String::as_str), Some("k1"));

    let ding = hit("dingtalk");
    assert_eq!(ding.body["msgtype"], "markdown");
    assert_eq!(ding.body["markdown"]["title"], "copper");
    assert_eq!(ding.query.get("access_token").map(String::as_str), Some("t1"));
    let timestamp = ding.query.get("timestamp").unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(b"SECding").unwrap();
    mac.update(format!("{timestamp}\nSECding").as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(ding.query.get("sign"), Some(&expected), "DingTalk's signature verifies");
    let ms: i64 = timestamp.parse().unwrap();
    assert!((weft_store::now().unix_timestamp() * 1000 - ms).abs() < 60_000, "milliseconds, now");

    let lark = hit("feishu");
    assert_eq!(lark.body["msg_type"], "interactive");
    assert_eq!(lark.body["card"]["header"]["title"]["content"], "copper");
    assert_eq!(lark.body["card"]["elements"][1]["actions"][0]["url"], link);
    let ts = lark.body["timestamp"].as_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(format!("{ts}\nfeishu-secret").as_bytes()).unwrap();
    mac.update(b"");
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(lark.body["sign"], expected, "Feishu's signature verifies");

    assert_eq!(hits.iter().filter(|h| h.vendor == "slack").count(), 1, "no card reached Slack through the redirect");
    let slack = hit("slack");
    assert!(slack.body["text"].as_str().unwrap().contains("copper"));
    assert_eq!(slack.body["blocks"][0]["type"], "section");
    assert_eq!(slack.body["blocks"][0]["text"]["type"], "mrkdwn");
    assert_eq!(slack.body["blocks"][1]["elements"][0]["url"], link);

    // The internal message went only to the robot whose group is members-only.
    let internal: Vec<&Hit> = hits.iter().filter(|h| h.body.to_string().contains("Internal note")).collect();
    assert_eq!(internal.len(), 1, "{internal:?}");
    assert_eq!(internal[0].vendor, "feishu");
}

async fn a_receiver_failing_three_times_gets_exactly_one_card(backend: TestBackend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let receiver = Receiver { fail_first: 3, ..Receiver::default() };
    let out = robot_on_orders(&f, &receiver, "wecom", 5).await;
    create_order(app, f.party, "nickel").await;

    let mut runs = Vec::new();
    for _ in 0..6 {
        runs.push(deliver(&f, &out).await);
        // Past the longest wait so far: the retry is due (no sleeping).
        f.clock.advance(Duration::from_secs(601));
    }
    assert_eq!(*receiver.calls.lock().unwrap(), 4, "three failures, then one success: {runs:?}");
    assert_eq!(receiver.hits.lock().unwrap().len(), 1, "delivered exactly once");
    let retried: usize = runs.iter().map(|r| r.retried).sum();
    assert_eq!(retried, 3, "{runs:?}");
    let rows = store::with_status(app.workspace.database(), "sent", 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].attempts, 4);
}

async fn a_permanent_failure_is_a_dead_letter_an_admin_replays(backend: TestBackend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let receiver = Receiver::default();
    *receiver.failing.lock().unwrap() = true;
    let out = robot_on_orders(&f, &receiver, "slack", 3).await;
    create_order(app, f.party, "tin").await;
    for _ in 0..4 {
        deliver(&f, &out).await;
        f.clock.advance(Duration::from_secs(601));
    }
    assert_eq!(*receiver.calls.lock().unwrap(), 3, "three attempts, then it stops");

    let dead: Value = app.get("/api/v1/admin/dead-letters").await.json().await.unwrap();
    let items = dead["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{dead}");
    assert_eq!((items[0]["channel"].as_str(), items[0]["attempts"].as_i64()), (Some("robot"), Some(3)));
    assert_eq!(items[0]["title"], "tin");
    assert!(items[0]["last_error"].as_str().unwrap().contains("500"), "{dead}");
    let id = items[0]["id"].as_str().unwrap().to_owned();

    // Dead letters are for administrators only.
    let member = person(app, "ann@corp.test", None, &["employee"]).await;
    let member_client = bearer_client(&app.token_for(member, None).await);
    for response in [
        member_client.get(app.url("/api/v1/admin/dead-letters")).send().await.unwrap(),
        member_client.post(app.url(&format!("/api/v1/admin/dead-letters/{id}/replay"))).send().await.unwrap(),
    ] {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.headers()["content-type"], PROBLEM);
    }

    // The receiver is fixed; the administrator replays; it is delivered.
    *receiver.failing.lock().unwrap() = false;
    let replay = app.client.post(app.url(&format!("/api/v1/admin/dead-letters/{id}/replay"))).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::NO_CONTENT);
    let run = out.run_due(&app.workspace, 100).await.unwrap();
    assert_eq!(run.sent, 1, "{run:?}");
    assert_eq!(receiver.hits.lock().unwrap().len(), 1);
    let dead: Value = app.get("/api/v1/admin/dead-letters").await.json().await.unwrap();
    assert_eq!(dead["items"], json!([]));
    // Only a dead letter can be replayed.
    let again = app.client.post(app.url(&format!("/api/v1/admin/dead-letters/{id}/replay"))).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let audit = app.audit_entries().await;
    assert!(audit.iter().any(|a| a.action == "delivery.replay" && a.target_id == id), "{audit:?}");
}

async fn bad_settings_are_problems_naming_the_field(backend: TestBackend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let problem = |response: reqwest::Response| async move {
        let status = response.status();
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        let body: Value = response.json().await.unwrap();
        let pointers: Vec<String> = body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["pointer"].as_str().unwrap().to_owned())
            .collect();
        (status, content_type, pointers, body)
    };
    let base = json!({"name": "ops", "kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
                      "type": "order", "events": ["record.created"]});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    for (body, pointer) in [
        (with("url", json!("not a url")), "/url"),
        (with("url", json!("ftp://files.example/x")), "/url"),
        (with("kind", json!("telegram")), "/kind"),
        (with("type", json!("no_such_type")), "/type"),
        (with("events", json!(["record.deleted"])), "/events/0"),
        (with("secret", json!("SEC")), "/secret"),
    ] {
        let (status, content_type, pointers, problem) =
            problem(app.client.post(app.url("/api/v1/admin/robots")).json(&body).send().await.unwrap()).await;
        assert_eq!((status, content_type.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, PROBLEM), "{problem}");
        assert_eq!(pointers, [pointer], "{problem}");
        assert!(problem["errors"][0]["reason"].as_str().is_some_and(|r| !r.is_empty()), "{problem}");
    }
    // A member may neither configure nor list robots.
    let member = person(app, "ann@corp.test", None, &["employee"]).await;
    let member_client = bearer_client(&app.token_for(member, None).await);
    let denied = member_client.post(app.url("/api/v1/admin/robots")).json(&base).send().await.unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        member_client.get(app.url("/api/v1/admin/robots")).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // A robot can go to any channel: administrators list them all, including channels they
    // do not belong to; members may not.
    let floor =
        member_client.post(app.url("/api/v1/channels")).json(&json!({"name": "Shop floor"})).send().await.unwrap();
    assert_eq!(floor.status(), StatusCode::CREATED);
    let floor: Value = floor.json().await.unwrap();
    let names = |v: Value| v.as_array().unwrap().iter().map(|c| c["id"].clone()).collect::<Vec<_>>();
    let own: Value = app.client.get(app.url("/api/v1/channels")).send().await.unwrap().json().await.unwrap();
    assert!(!names(own).contains(&floor["id"]), "not the administrator's own channel");
    let all = app.client.get(app.url("/api/v1/admin/channels")).send().await.unwrap();
    assert_eq!(all.status(), StatusCode::OK);
    assert!(names(all.json().await.unwrap()).contains(&floor["id"]));
    assert_eq!(
        member_client.get(app.url("/api/v1/admin/channels")).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // One's own settings: defaults, a change, and bad values named.
    let mine: Value = member_client.get(app.url("/api/v1/me/delivery")).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine["email"]["mention"], "immediate", "{mine}");
    assert_eq!(mine["address"], "ann@corp.test");
    let changed: Value = member_client
        .put(app.url("/api/v1/me/delivery"))
        .json(&json!({"email": {"update": "off"}, "digest_minutes": 30}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((changed["email"]["update"].as_str(), changed["digest_minutes"].as_i64()), (Some("off"), Some(30)));
    assert_eq!(changed["email"]["mention"], "immediate", "what is left out stays");
    let (status, content_type, pointers, problem) = problem(
        member_client
            .put(app.url("/api/v1/me/delivery"))
            .json(&json!({"email": {"mention": "hourly", "gossip": "off"}, "digest_minutes": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, content_type.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, PROBLEM), "{problem}");
    assert_eq!(pointers, ["/email/gossip", "/email/mention", "/digest_minutes"], "{problem}");
}

async fn a_new_delivery_consumer_starts_at_the_head(backend: TestBackend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let receiver = Receiver::default();
    let base = http_receiver(receiver.clone()).await;
    let robot = json!({"name": "ops", "kind": "slack", "url": format!("{base}/slack"), "type": "order", "events": ["record.created"]});
    assert_eq!(
        app.client.post(app.url("/api/v1/admin/robots")).json(&robot).send().await.unwrap().status(),
        StatusCode::CREATED
    );
    create_order(app, f.party, "history").await;
    // Delivery switched on in a workspace with history: what happened before is not sent.
    assert!(app.workspace.begin_at_head("delivery").await.unwrap());
    let out = outbound(&f, None, 3);
    assert_eq!(deliver(&f, &out).await.sent, 0);
    create_order(app, f.party, "news").await;
    assert_eq!(deliver(&f, &out).await.sent, 1);
    assert!(!app.workspace.begin_at_head("delivery").await.unwrap(), "a consumer that ran keeps its place");
    let hits = receiver.hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 1);
    assert!(hits[0].body.to_string().contains("news"));
}

async fn a_letter_reaches_an_outside_address_and_forgets_its_one_time_link(backend: TestBackend) {
    let f = fixture(backend).await;
    let ws = &f.app.workspace;
    let about = Uuid::parse_str(&f.order).unwrap();
    let letter = |to: &str| Letter {
        to: to.into(),
        subject: "Welcome aboard".into(),
        body: "Set your password with the link below.".into(),
        link_path: Some("/accept-invitation#token=one-time-secret".into()),
        secret: true,
    };
    // A broken address is refused when queued, naming it.
    match ws.queue_letter(about, "welcome", letter("not an address")).await {
        Err(weft_workspace::Error::Validation(errors)) => assert_eq!(errors[0].pointer, "/to"),
        other => panic!("{other:?}"),
    }
    // Without e-mail configured the letter is dropped, saying why, never lost silently.
    assert!(ws.queue_letter(about, "welcome", letter("li@outside.example")).await.unwrap());
    assert!(!ws.queue_letter(about, "welcome", letter("li@outside.example")).await.unwrap(), "queued once");
    let run = outbound(&f, None, 3).run_due(ws, 100).await.unwrap();
    assert_eq!(run.dropped, 1, "{run:?}");
    let row = &store::for_target(ws.database(), "letter", about).await.unwrap()[0];
    assert_eq!((row.status.as_str(), row.last_error.as_deref()), ("dropped", Some("e-mail is not configured")));

    // With SMTP it is mailed with the link on the public address; the queue keeps no link.
    let (port, mails) = smtp_server();
    let out = outbound(&f, Some(port), 3);
    assert!(ws.queue_letter(about, "welcome again", letter("li@outside.example")).await.unwrap());
    let run = out.run_due(ws, 100).await.unwrap();
    assert_eq!(run.sent, 1, "{run:?}");
    let to_li = mails_to(&mails, "li@outside.example");
    assert_eq!(to_li.len(), 1);
    assert!(to_li[0].data.contains("Subject: Welcome aboard"), "{}", to_li[0].data);
    assert!(
        to_li[0].data.contains(&format!("{PUBLIC_URL}/accept-invitation#token=one-time-secret")),
        "{}",
        to_li[0].data
    );
    let rows = store::for_target(ws.database(), "letter", about).await.unwrap();
    let sent = rows.iter().find(|r| r.source == "welcome again").unwrap();
    assert_eq!(sent.status, "sent");
    assert!(!sent.payload.contains("one-time-secret"), "{}", sent.payload);
    let (_, kept) = ws.letters_about(about).await.unwrap().into_iter().find(|(s, _)| s == "sent").unwrap();
    assert_eq!((kept.to.as_str(), kept.subject.as_str()), ("li@outside.example", "Welcome aboard"));
}

async fn an_admin_edits_and_deletes_a_robot_and_nobody_else_may(backend: TestBackend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let receiver = Receiver::default();
    let base = http_receiver(receiver.clone()).await;
    let out = outbound(&f, None, 3);
    deliver(&f, &out).await;
    // Created with a wrong webhook and an old secret.
    let created: Value = app
        .client
        .post(app.url("/api/v1/admin/robots"))
        .json(&json!({"name": "ops", "kind": "dingtalk", "url": format!("{base}/wrong"), "secret": "SECold",
                      "type": "order", "events": ["record.created"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/admin/robots/{id}");

    // Bad values: every problem at its pointer, nothing changed.
    let refused = app
        .client
        .patch(app.url(&path))
        .json(&json!({"name": " ", "url": "ftp://x.test/", "events": ["record.deleted"], "language": "fr"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.headers()["content-type"], PROBLEM);
    let problem: Value = refused.json().await.unwrap();
    let pointers: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/name", "/url", "/events/0", "/language"], "{problem}");
    let unknown = app.client.patch(app.url(&path)).json(&json!({"kind": "slack"})).send().await.unwrap();
    assert!(unknown.status().is_client_error(), "its kind is not changed: {}", unknown.status());
    let same: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(same["name"], "ops");

    // Renamed, pointed at the right webhook, another secret, more events, English cards.
    let edited = app
        .client
        .patch(app.url(&path))
        .json(&json!({"name": "订单机器人", "url": format!("{base}/dingtalk"), "secret": "SECnew",
                      "events": ["record.transitioned", "record.created"], "language": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), StatusCode::OK);
    let edited: Value = edited.json().await.unwrap();
    assert_eq!(edited["name"], "订单机器人");
    assert_eq!(edited["events"], json!(["record.created", "record.transitioned"]));
    assert_eq!((edited["language"].as_str(), edited["has_secret"].as_bool()), (Some("en"), Some(true)));
    assert_eq!(edited["endpoint"], created["endpoint"]);
    assert!(!edited.to_string().contains("SECnew"), "the secret is never shown back: {edited}");
    create_order(app, f.party, "copper").await;
    let run = deliver(&f, &out).await;
    assert_eq!(run.sent, 1, "{run:?}");
    let hits = receiver.hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].vendor, "dingtalk", "the new webhook");
    // Signed with the new secret.
    let timestamp = hits[0].query["timestamp"].clone();
    let mut mac = Hmac::<Sha256>::new_from_slice(b"SECnew").unwrap();
    mac.update(format!("{timestamp}\nSECnew").as_bytes());
    let sign = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(hits[0].query["sign"], sign);

    // `null` removes the secret.
    let cleared: Value =
        app.client.patch(app.url(&path)).json(&json!({"secret": null})).send().await.unwrap().json().await.unwrap();
    assert_eq!(cleared["has_secret"], false, "{cleared}");

    // Audited without credentials.
    let audit = app.audit_entries().await;
    let update = audit.iter().find(|a| a.action == "robot.update" && a.target_id == id).expect("audited");
    assert_eq!(update.detail["changed"], json!(["name", "url", "secret", "events", "language"]), "{:?}", update.detail);
    let text = serde_json::to_string(&update.detail).unwrap();
    assert!(!text.contains("SECnew") && !text.contains("/dingtalk"), "{text}");

    // A member may neither edit nor delete it; an unknown robot is 404.
    let member = person(app, "ann@corp.test", None, &["employee"]).await;
    let member_client = bearer_client(&app.token_for(member, None).await);
    for response in [
        member_client.patch(app.url(&path)).json(&json!({"name": "mine"})).send().await.unwrap(),
        member_client.delete(app.url(&path)).send().await.unwrap(),
    ] {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.headers()["content-type"], PROBLEM);
    }
    let missing = format!("/api/v1/admin/robots/{}", Uuid::now_v7());
    let absent = app.client.patch(app.url(&missing)).json(&json!({"name": "x"})).send().await.unwrap();
    assert_eq!(absent.status(), StatusCode::NOT_FOUND);

    // The administrator deletes it: gone, audited, and new orders reach no one.
    let deleted = app.client.delete(app.url(&path)).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path).await.status(), StatusCode::NOT_FOUND);
    let robots: Value = app.get("/api/v1/admin/robots").await.json().await.unwrap();
    assert_eq!(robots["items"], json!([]));
    assert!(app.audit_entries().await.iter().any(|a| a.action == "robot.delete" && a.target_id == id));
    create_order(app, f.party, "zinc").await;
    deliver(&f, &out).await;
    assert_eq!(receiver.hits.lock().unwrap().len(), 1);
}
