//! Killing the server (SIGKILL, no chance to clean up) while it commits records loses no
//! acknowledged record and leaves no half-written one: every record has all its lines and
//! its history, and the audit chain still verifies. Killing it again and again while a
//! thousand process instances run (service tasks moving their records, user tasks completed
//! over HTTP) loses no instance and repeats no step: each completes once, with one effect
//! per step.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;
use weft_testkit::{TestBackend, TestDatabase, on_both_databases};

fn weft(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.arg("--data").arg(data);
    for (k, _) in std::env::vars() {
        if k.starts_with("WEFT_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUST_LOG", "warn");
    cmd
}

/// An administrator made the way an operator would (`weft user create`, `weft token
/// create`), and a client that sends its token.
fn admin_client(data: &Path, url: &str) -> reqwest::Client {
    let out = weft(data)
        .args(["--database-url", url, "user", "create", "--login", "ops@crash.test", "--role", "admin"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out =
        weft(data).args(["--database-url", url, "token", "create", "--login", "ops@crash.test"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder().default_headers(headers).build().unwrap()
}

/// How many entries the audit chain holds (and that it verifies).
fn audit_entries(data: &Path, url: &str) -> usize {
    let out = weft(data).args(["--database-url", url, "audit", "verify"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let count = stdout.split("intact: ").nth(1).and_then(|rest| rest.split(' ').next());
    count.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no entry count in {stdout}"))
}

fn start(data: &Path, url: &str) -> (Child, String) {
    start_with(data, url, &[])
}

/// `weft serve` with extra environment (configuration through `WEFT_…`).
fn start_with(data: &Path, url: &str, env: &[(&str, &str)]) -> (Child, String) {
    let mut cmd = weft(data);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .args(["--database-url", url, "serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn weft serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.strip_prefix("Weft is serving on ") {
                    return (child, rest.trim().to_owned());
                }
            }
            _ => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("weft serve did not start");
}

const ORDER: &str = r#"{
  "name": "order", "label": {"en": "Order", "zh": "订单"},
  "naming": {"pattern": "SO-{#####}"},
  "fields": [
    {"name": "subject", "label": {"en": "Subject", "zh": "主题"}, "type": "text", "required": true},
    {"name": "lines", "label": {"en": "Lines", "zh": "明细"}, "type": "lines", "fields": [
      {"name": "item", "label": {"en": "Item", "zh": "物料"}, "type": "text", "required": true},
      {"name": "qty", "label": {"en": "Qty", "zh": "数量"}, "type": "decimal", "scale": 2, "required": true}
    ]}
  ]
}"#;

on_both_databases!(
    killing_the_server_loses_no_acknowledged_record,
    process_instances_complete_exactly_once_across_kills
);

async fn killing_the_server_loses_no_acknowledged_record(backend: TestBackend) {
    let db = TestDatabase::new(backend).await.unwrap();
    let url = db.url();
    let client = admin_client(db.data_path(), &url);
    let (mut child, base) = start(db.data_path(), &url);
    let r = client
        .post(format!("{base}/api/v1/types"))
        .header("content-type", "application/json")
        .body(ORDER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let before = audit_entries(db.data_path(), &url);

    // Eight writers create orders as fast as they can; every 201 is an acknowledgement.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (client, base, acknowledged) = (client.clone(), base.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let body = json!({
                    "subject": format!("writer {w} order {i}"),
                    "lines": [{"item": "a", "qty": "1"}, {"item": "b", "qty": "2"}, {"item": "c", "qty": "3"}]
                });
                match client.post(format!("{base}/api/v1/records/order")).json(&body).send().await {
                    Ok(r) if r.status() == 201 => {
                        let v: Value = match r.json().await {
                            Ok(v) => v,
                            Err(_) => break,
                        };
                        acknowledged.lock().await.push(v["id"].as_str().unwrap_or_default().to_owned());
                    }
                    _ => break,
                }
            }
        }));
    }
    // Let a few hundred commits happen, then kill without warning.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acknowledged.lock().await.len() < 300 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for w in writers {
        let _ = w.await;
    }
    let acknowledged = acknowledged.lock().await.clone();
    assert!(acknowledged.len() >= 100, "only {} acknowledged before the kill", acknowledged.len());

    let (mut child, base) = start(db.data_path(), &url);
    for id in &acknowledged {
        let r = client.get(format!("{base}/api/v1/records/order/{id}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "acknowledged order {id} was lost");
    }
    // Every stored order is whole: three lines and a history entry, numbers without gaps.
    let mut cursor: Option<String> = None;
    let mut numbers = Vec::new();
    loop {
        let mut url = format!("{base}/api/v1/records/order?limit=500&sort=number");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = client.get(url).send().await.unwrap().json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["lines"].as_array().unwrap().len(), 3, "half-written order: {item}");
            numbers.push(item["number"].as_str().unwrap().to_owned());
            let id = item["id"].as_str().unwrap();
            let timeline: Value = client
                .get(format!("{base}/api/v1/records/order/{id}/timeline"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(timeline.as_array().unwrap().len(), 1, "order {id} has no history");
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert!(numbers.len() >= acknowledged.len());
    for (i, number) in numbers.iter().enumerate() {
        assert_eq!(number, &format!("SO-{:05}", i + 1), "the naming series has a gap or a duplicate");
    }
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(audit_entries(db.data_path(), &url), before + numbers.len(), "one audit entry per stored order");
}

const TICKET: &str = r#"{
  "name": "ticket", "label": {"en": "Ticket", "zh": "工单"},
  "fields": [{"name": "subject", "label": {"en": "Subject", "zh": "主题"}, "type": "text", "required": true}],
  "lifecycle": {
    "initial": "open",
    "states": [
      {"name": "open", "label": {"en": "Open", "zh": "打开"}},
      {"name": "checked", "label": {"en": "Checked", "zh": "已检查"}},
      {"name": "closed", "label": {"en": "Closed", "zh": "已关闭"}}
    ],
    "transitions": [
      {"name": "check", "label": {"en": "Check", "zh": "检查"}, "from": ["open"], "to": "checked"},
      {"name": "close", "label": {"en": "Close", "zh": "关闭"}, "from": ["checked"], "to": "closed"}
    ]
  }
}"#;

/// Service task (moves the ticket) → the operator's user task → service task → end.
const TICKET_FLOW: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d_ticket">
  <bpmn:process id="ticket_flow" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="check">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="weft:transition" retries="5" />
        <zeebe:taskHeaders><zeebe:header key="transition" value="check" /></zeebe:taskHeaders>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:userTask id="approve">
      <bpmn:extensionElements><zeebe:assignmentDefinition assignee="ops@crash.test" /></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:serviceTask id="close">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="weft:transition" retries="5" />
        <zeebe:taskHeaders><zeebe:header key="transition" value="close" /></zeebe:taskHeaders>
      </bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="approve" />
    <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="close" />
    <bpmn:sequenceFlow id="f4" sourceRef="close" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"#;

const INSTANCES: usize = 1000;

/// A running server, killed (SIGKILL) when dropped: at a kill point, and when an assertion
/// fails, so no server outlives its test.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A small deterministic generator for the kill points (the seed is printed, so a failing
/// run can be repeated with `WEFT_CRASH_SEED`).
struct Dice(u64);

impl Dice {
    fn from_env() -> Dice {
        let seed = std::env::var("WEFT_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(7, |d| d.as_nanos() as u64)
        });
        println!("kill points from WEFT_CRASH_SEED={seed}");
        Dice(seed | 1)
    }

    /// A number in `low..high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        low + self.0 % (high - low).max(1)
    }
}

/// Starts the instance of every ticket not yet known to have one (the ticket's id is the
/// idempotency key, so a start whose answer was lost in a kill is the same instance when
/// sent again), until the server stops answering.
async fn start_instances(client: reqwest::Client, base: String, tickets: Arc<Mutex<Vec<String>>>) {
    loop {
        let Some(ticket) = tickets.lock().await.pop() else { return };
        let body = json!({ "record": { "type": "ticket", "id": ticket } });
        let sent = client
            .post(format!("{base}/api/v1/processes/ticket_flow/instances"))
            .header("idempotency-key", &ticket)
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status() == 201 => {}
            Ok(r) => panic!(
                "starting the instance of ticket {ticket}: {} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            ),
            Err(_) => {
                tickets.lock().await.push(ticket);
                return;
            }
        }
    }
}

/// Completes the operator's open tasks as they appear, until the server stops answering
/// (a task completed twice, because its first answer was lost, is a 409: already done).
async fn complete_tasks(client: reqwest::Client, base: String) {
    loop {
        let Ok(r) = client.get(format!("{base}/api/v1/tasks/mine")).send().await else { return };
        let Ok(mine) = r.json::<Value>().await else { return };
        let ids: Vec<String> = mine["items"]
            .as_array()
            .map(|items| items.iter().filter_map(|t| t["id"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if ids.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Eight at a time, as eight people would.
        let mut ids = ids.into_iter();
        loop {
            let batch: Vec<String> = ids.by_ref().take(8).collect();
            if batch.is_empty() {
                break;
            }
            let mut sent = Vec::new();
            for id in batch {
                let request = client.post(format!("{base}/api/v1/tasks/{id}/complete")).json(&json!({}));
                sent.push(tokio::spawn(async move { (id, request.send().await) }));
            }
            for answer in sent {
                match answer.await.unwrap() {
                    (_, Ok(r)) if r.status().is_success() || r.status() == 409 => {}
                    (id, Ok(r)) => {
                        panic!("completing task {id}: {} {}", r.status(), r.text().await.unwrap_or_default())
                    }
                    (_, Err(_)) => return,
                }
            }
        }
    }
}

async fn process_instances_complete_exactly_once_across_kills(backend: TestBackend) {
    let began = Instant::now();
    let db = TestDatabase::new(backend).await.unwrap();
    if backend == TestBackend::Postgres {
        // What is killed is Weft, not PostgreSQL: a commit PostgreSQL has acknowledged is
        // visible to every later session whether or not its WAL is flushed yet, so waiting
        // for the flush proves nothing here and only slows the run (PostgreSQL's own
        // durability is its business). Only this test's database is changed.
        let name = db.url().rsplit('/').next().and_then(|n| n.split('?').next()).unwrap_or_default().to_owned();
        db.execute(&format!("ALTER DATABASE \"{name}\" SET synchronous_commit = off")).await;
    }
    let url = db.url();
    let client = admin_client(db.data_path(), &url);
    // A job claimed by a killed server is taken over after its lock (2 s here, not 5 min).
    let env = [("WEFT_PROCESSES__JOB_LOCK_SECS", "2")];
    let (child, mut base) = start_with(db.data_path(), &url, &env);
    let mut server = Some(Server(child));
    let r = client.post(format!("{base}/api/v1/types")).header("content-type", "application/json").body(TICKET);
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = client
        .post(format!("{base}/api/v1/processes?record_type=ticket"))
        .header("content-type", "application/xml")
        .body(TICKET_FLOW)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let rows: Vec<Value> = (0..INSTANCES).map(|i| json!({ "subject": format!("ticket {i}") })).collect();
    let r = client
        .post(format!("{base}/api/v1/records/ticket/bulk"))
        .json(&json!({ "mode": "all_or_nothing", "rows": rows }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "bulk create: {}", r.status());
    let created: Value = r.json().await.unwrap();
    let tickets: Vec<String> = created["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["record"]["id"].as_str().expect("a created ticket").to_owned())
        .collect();
    assert_eq!(tickets.len(), INSTANCES);
    let to_start = Arc::new(Mutex::new(tickets));

    // Kill the server at random moments while instances start, jobs run and tasks complete;
    // after the last restart, let everything finish.
    let mut dice = Dice::from_env();
    let kills: u64 = 4;
    let completed = "SELECT COUNT(*) FROM process_instances WHERE status = 'completed'";
    // One connection to watch progress with (a PostgreSQL connection is a process).
    let mut watch = db.raw().await;
    for round in 0..=kills {
        let mut drivers = Vec::new();
        for _ in 0..6 {
            drivers.push(tokio::spawn(start_instances(client.clone(), base.clone(), to_start.clone())));
        }
        drivers.push(tokio::spawn(complete_tasks(client.clone(), base.clone())));
        // Kill when a random share of the instances has completed (round r in the r-th fifth
        // of the run), a random moment later; the last round runs to the end.
        let fifth = INSTANCES as u64 / (kills + 1);
        let goal = if round < kills { dice.between(round * fifth, (round + 1) * fifth) } else { INSTANCES as u64 };
        // Give up on a round only when nothing completes for 60 s: a loaded machine is
        // slow, a stuck engine makes no progress at all.
        let mut deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = 0;
        loop {
            let now_done = watch.scalar(completed).await.unwrap_or(0) as u64;
            if now_done >= goal || Instant::now() >= deadline {
                break;
            }
            if now_done > seen {
                seen = now_done;
                deadline = Instant::now() + Duration::from_secs(60);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if round < kills {
            tokio::time::sleep(Duration::from_millis(dice.between(0, 400))).await;
        }
        let done = watch.scalar(completed).await.unwrap_or(0);
        println!("round {round}: {done} instances completed after {:?}", began.elapsed());
        server = None;
        for d in drivers {
            d.await.unwrap();
        }
        if round < kills {
            let (child, at) = start_with(db.data_path(), &url, &env);
            (server, base) = (Some(Server(child)), at);
        }
    }
    assert!(server.is_none());
    assert!(to_start.lock().await.is_empty(), "some instances were never started");

    // Every instance once, completed; every step once; every effect once.
    let n = INSTANCES as i64;
    let count = |sql: &'static str| {
        let db = &db;
        async move { db.scalar(sql).await.unwrap_or(-1) }
    };
    assert_eq!(count("SELECT COUNT(*) FROM process_instances").await, n, "one instance per ticket");
    assert_eq!(count(completed).await, n, "every instance completed");
    assert_eq!(count("SELECT COUNT(*) FROM process_jobs WHERE status = 'incident'").await, 0, "no incident");
    let repeated_steps = "SELECT COUNT(*) FROM (SELECT instance_id, element FROM process_steps \
                          GROUP BY instance_id, element HAVING COUNT(*) <> 1) x";
    assert_eq!(count(repeated_steps).await, 0, "a step finished twice");
    assert_eq!(count("SELECT COUNT(*) FROM process_steps").await, 4 * n, "check, approve, close and end, once each");
    assert_eq!(count("SELECT COUNT(*) FROM process_tasks").await, n, "one task per instance");
    assert_eq!(count("SELECT COUNT(*) FROM process_tasks WHERE status = 'completed'").await, n);
    for transition in ["check", "close"] {
        let total =
            format!("SELECT COUNT(*) FROM history WHERE type_name = 'ticket' AND command = 'transition:{transition}'");
        assert_eq!(db.scalar(&total).await, Some(n), "one `{transition}` per ticket");
        let twice = format!(
            "SELECT COUNT(*) FROM (SELECT record_id FROM history WHERE type_name = 'ticket' \
             AND command = 'transition:{transition}' GROUP BY record_id HAVING COUNT(*) <> 1) x"
        );
        assert_eq!(db.scalar(&twice).await, Some(0), "a ticket was moved by `{transition}` twice");
    }
    // The audit chain is whole.
    audit_entries(db.data_path(), &url);
    println!("{INSTANCES} instances through {kills} kills in {:?}", began.elapsed());
}
