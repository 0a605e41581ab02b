//! `weft demo` end to end: the real binary loads the small sample company into a fresh
//! SQLite data folder, prints sign-ins that work, a supplier's contact sees its own orders
//! and nothing of another supplier's, the present has live to-dos, and a second run is
//! refused without changing anything.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn weft(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.arg("--data").arg(data);
    for (k, _) in std::env::vars() {
        if k.starts_with("WEFT_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// The sign-ins the demo printed: login → password.
fn sign_ins(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let login = words.next()?;
            let password = words.next()?;
            login.contains('@').then(|| (login.to_owned(), password.to_owned()))
        })
        .collect()
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path) -> Server {
    let mut child = weft(data)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn weft serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "weft serve did not report its address in time");
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.strip_prefix("Weft is serving on ") {
                    return Server { child, base: rest.trim().to_owned() };
                }
            }
            _ => panic!("weft serve exited before serving: {:?}", child.wait()),
        }
    }
}

struct Session {
    client: reqwest::Client,
    base: String,
    party: Option<String>,
}

impl Session {
    async fn open(base: &str, login: &str, password: &str) -> Session {
        let client = weft_testkit::cookie_client();
        let response = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "login": login, "password": password }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{login}: {body}");
        let party = body["principal"]["party"].as_str().map(str::to_owned);
        Session { client, base: base.to_owned(), party }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn count(&self, type_name: &str, filter: Option<&str>) -> u64 {
        let mut path = format!("/api/v1/records/{type_name}?count=true&limit=1");
        if let Some(filter) = filter {
            path.push_str(&format!("&filter={}", url_encode(filter)));
        }
        let (status, body) = self.get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body["count"].as_u64().unwrap()
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_loads_a_company_once_and_guests_see_only_their_own() {
    let data = tempfile::tempdir().unwrap();
    let out = weft(data.path()).args(["demo", "--scale", "small"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Loaded in"), "{stdout}");
    let logins = sign_ins(&stdout);
    for login in [
        "li.na@huadong.example",
        "chen.jing@huadong.example",
        "sarah.wilson@huadong.example",
        "sales@suzhou-precision.example",
        "sales@baoshan-steel.example",
    ] {
        assert!(logins.contains_key(login), "{login} is printed: {stdout}");
    }

    // Running it again is refused, names the reason and changes nothing.
    let again = weft(data.path()).args(["demo", "--scale", "small"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert!(stderr.contains("already loaded"), "{stderr}");

    let server = serve(data.path());
    let admin = Session::open(&server.base, "sarah.wilson@huadong.example", &logins["sarah.wilson@huadong.example"]).await;
    // 80 historical orders and 8 of today's; 8 suppliers with their profiles; 40 items.
    assert_eq!(admin.count("purchase_order", None).await, 88);
    assert_eq!(admin.count("supplier_profile", None).await, 8);
    assert_eq!(admin.count("party", None).await, 8);
    assert_eq!(admin.count("item", None).await, 40);
    assert!(admin.count("goods_receipt", None).await >= 60);
    assert!(admin.count("payable", Some("state = \"paid\"")).await >= 30);
    assert!(admin.count("shipping_notice", Some("state = \"in_transit\"")).await >= 1);
    assert_eq!(admin.count("supplier_invoice", Some("state = \"exception\"")).await, 1);
    assert_eq!(admin.count("purchase_order", Some("state = \"pending_approval\"")).await, 3);

    // Each supplier's contact sees exactly its own supplier's orders, never another's.
    for login in ["sales@suzhou-precision.example", "sales@baoshan-steel.example"] {
        let guest = Session::open(&server.base, login, &logins[login]).await;
        let party = guest.party.clone().expect("a guest belongs to a party");
        let (status, page) = guest.get("/api/v1/records/purchase_order?limit=500&count=true").await;
        assert_eq!(status, 200, "{page}");
        let orders = page["items"].as_array().unwrap();
        assert!(!orders.is_empty(), "{login} has orders");
        assert!(orders.iter().all(|o| o["supplier"] == json!(party)), "{login} sees only its own");
        let own = admin.count("purchase_order", Some(&format!("supplier = \"{party}\" and state != \"draft\""))).await;
        assert_eq!(page["count"].as_u64(), Some(own), "{login}");
        assert_eq!(guest.count("supplier_profile", None).await, 1);
        // The scorecard: shared with Suzhou Precision, not with Baoshan Steel.
        let (status, card) = guest.get(&format!("/api/v1/procurement/suppliers/{party}/scorecard")).await;
        let shared = login.contains("suzhou");
        assert_eq!(status, if shared { 200 } else { 403 }, "{card}");
        if shared {
            assert!(card["scorecard"]["basis"]["receipt_lines"].as_u64().unwrap() > 0, "{card}");
        }
    }

    // The present: the manager has orders to approve, the buyer an invoice exception.
    let manager =
        Session::open(&server.base, "michael.zhang@huadong.example", &logins["michael.zhang@huadong.example"]).await;
    let (_, tasks) = manager.get("/api/v1/tasks/mine").await;
    let approvals = tasks["items"].as_array().unwrap().iter().filter(|t| t["element"] == "manager_approve").count();
    assert_eq!(approvals, 2, "{tasks}");
    let buyer = Session::open(&server.base, "li.na@huadong.example", &logins["li.na@huadong.example"]).await;
    let (_, tasks) = buyer.get("/api/v1/tasks/mine").await;
    assert!(tasks["items"].as_array().unwrap().iter().any(|t| t["element"] == "review"), "{tasks}");
    let finance = Session::open(&server.base, "chen.jing@huadong.example", &logins["chen.jing@huadong.example"]).await;
    let (_, tasks) = finance.get("/api/v1/tasks/mine").await;
    let elements: Vec<&str> = tasks["items"].as_array().unwrap().iter().filter_map(|t| t["element"].as_str()).collect();
    assert!(elements.contains(&"finance_approve") && elements.contains(&"pay"), "{tasks}");

    // Every engine of `weft serve` starts after the demo's events: history is not replayed
    // to them (no approval processes, matches or inbox items for 80 old orders).
    let (status, consumers) = admin.get("/api/v1/admin/consumers").await;
    assert_eq!(status, 200, "{consumers}");
    for name in ["process_starts", "inbox", "procurement_match", "procurement_scorecard"] {
        let consumer = consumers["consumers"].as_array().unwrap().iter().find(|c| c["name"] == name);
        assert_eq!(consumer.map(|c| c["lag"].clone()), Some(json!(0)), "{name}: {consumers}");
    }
}
