//! Killing the server (SIGKILL, no chance to clean up) while it commits records loses no
//! acknowledged record and leaves no half-written one: every record has all its lines and
//! its history, and the audit chain still verifies.

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
    let mut child = weft(data)
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

on_both_databases!(killing_the_server_loses_no_acknowledged_record);

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
