//! End-to-end: the real `weft` binary, a temporary data folder, a fresh database.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use weft_testkit::{TestBackend, TestDatabase, on_both_databases};

fn weft(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.arg("--data").arg(data);
    // Hermetic: nothing from the developer's shell leaks into the run.
    for (k, _) in std::env::vars() {
        if k.starts_with("WEFT_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd
}

fn run(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().expect("run weft");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

on_both_databases!(
    migrate_twice_second_run_does_nothing,
    serve_answers_probes_and_stops_on_sigterm,
    operators_make_the_first_admin_and_recover_access,
    demo_loads_a_company_once_and_guests_see_only_their_own
);

async fn migrate_twice_second_run_does_nothing(backend: TestBackend) {
    let db = TestDatabase::new(backend).await.unwrap();
    let url = db.url();

    let (out, stdout, stderr) = run(weft(db.data_path()).args(["--database-url", &url, "migrate", "--dry-run"]));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("would be applied") && stdout.contains("workspace"), "{stdout}");

    let (out, stdout, stderr) = run(weft(db.data_path()).args(["--database-url", &url, "migrate"]));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("applied ") && stdout.contains("workspace"), "{stdout}");

    let (out, stdout, stderr) = run(weft(db.data_path()).args(["--database-url", &url, "migrate"]));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("nothing to do"), "{stdout}");

    let (out, stdout, _) = run(weft(db.data_path()).args(["--database-url", &url, "migrate", "--dry-run"]));
    assert!(out.status.success());
    assert!(stdout.contains("nothing to do"), "{stdout}");
}

/// Starts `weft serve` on a free port and returns the child and its base URL.
fn spawn_server(data: &Path, url: &str) -> (Child, String) {
    let mut child = weft(data)
        .args(["--database-url", url, "serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn weft serve");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "weft serve did not report its address in time");
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.strip_prefix("Weft is serving on ") {
                    return (child, rest.trim().to_owned());
                }
            }
            _ => panic!("weft serve exited before serving: {:?}", child.wait()),
        }
    }
}

async fn serve_answers_probes_and_stops_on_sigterm(backend: TestBackend) {
    let db = TestDatabase::new(backend).await.unwrap();
    let (mut child, base) = spawn_server(db.data_path(), &db.url());
    let client = reqwest::Client::new();
    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(client.get(format!("{base}/readyz")).send().await.unwrap().status(), 200, "serve migrates on start");
    assert_eq!(client.get(format!("{base}/")).send().await.unwrap().status(), 200);

    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "weft serve did not stop after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "graceful stop exits 0: {status:?}");
}

#[test]
fn unreachable_database_exits_nonzero_naming_host_without_password() {
    let data = tempfile::tempdir().unwrap();
    let (out, stdout, stderr) = run(weft(data.path()).env("WEFT_DATABASE__CONNECT_TIMEOUT_SECS", "2").args([
        "--database-url",
        "postgres://weft:hunter2-secret@127.0.0.1:1/weft",
        "serve",
        "--bind",
        "127.0.0.1:0",
    ]));
    assert!(!out.status.success());
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("127.0.0.1:1"), "names the host: {all}");
    assert!(all.contains("is PostgreSQL running"), "says the likely fix: {all}");
    assert!(!all.contains("hunter2-secret"), "never prints the password: {all}");
}

#[test]
fn newer_schema_is_refused_with_a_clear_message() {
    let data = tempfile::tempdir().unwrap();
    let (out, _, stderr) = run(weft(data.path()).arg("migrate"));
    assert!(out.status.success(), "{stderr}");
    // Simulate a newer Weft having migrated this database.
    let db = data.path().join("weft.db");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", db.display())).await.unwrap();
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99990101000000, 'future', 1, x'00', 0)")
            .execute(&mut conn)
            .await
            .unwrap();
    });
    for args in [&["migrate"][..], &["serve", "--bind", "127.0.0.1:0"][..]] {
        let (out, _, stderr) = run(weft(data.path()).args(args));
        assert!(!out.status.success(), "{args:?} must refuse");
        assert!(stderr.contains("newer than this binary"), "{stderr}");
    }
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("weft.toml"), "[server]\nmax_body_bytes = \"big\"\n").unwrap();
    let (out, _, stderr) = run(weft(data.path()).arg("migrate"));
    assert!(!out.status.success());
    assert!(stderr.contains("server.max_body_bytes") && stderr.contains("weft.toml"), "{stderr}");

    let data2 = tempfile::tempdir().unwrap();
    let (out, _, stderr) = run(weft(data2.path()).args(["--database-url", "mysql://u:pw@h/db", "config", "show"]));
    assert!(out.status.success(), "config show does not connect: {stderr}");
    let (out, _, stderr) = run(weft(data2.path()).args(["--database-url", "mysql://u:pw@h/db", "migrate"]));
    assert!(!out.status.success());
    assert!(stderr.contains("unsupported scheme") && !stderr.contains(":pw@"), "{stderr}");
}

#[test]
fn unknown_env_keys_and_public_bind_are_warned_at_start() {
    let data = tempfile::tempdir().unwrap();
    let (out, _, stderr) =
        run(weft(data.path()).env("WEFT_SERVR__BIND", "x").env("WEFT_SERVER__BIND", "0.0.0.0:0").args(["migrate"]));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("unknown configuration key `servr`"), "{stderr}");
    assert!(stderr.contains("without TLS termination"), "{stderr}");
}

#[test]
fn config_example_and_version() {
    let data = tempfile::tempdir().unwrap();
    let (out, stdout, _) = run(weft(data.path()).args(["config", "example"]));
    assert!(out.status.success());
    assert!(stdout.contains("[server]") && stdout.contains("#bind = \"127.0.0.1:8080\""), "{stdout}");
    let (out, stdout, _) = run(weft(data.path()).arg("version"));
    assert!(out.status.success());
    assert!(stdout.starts_with("weft "), "{stdout}");
    let (out, stdout, _) =
        run(weft(data.path()).args(["--database-url", "postgres://u:topsecret@h/db", "config", "show"]));
    assert!(out.status.success());
    assert!(!stdout.contains("topsecret") && stdout.contains("database_url = \"redacted\""), "{stdout}");
}

fn manifest(fields: &str) -> String {
    format!(
        r#"{{"app": "stock", "version": "1.0.0", "types": [{{
            "name": "stock_item", "label": {{"en": "Item", "zh": "物料"}},
            "fields": [{fields}]
        }}]}}"#
    )
}

const CODE: &str =
    r#"{"name": "code", "label": {"en": "Code", "zh": "编码"}, "type": "text", "max_length": 20, "unique": true}"#;
const QTY: &str = r#"{"name": "qty", "label": {"en": "Qty", "zh": "数量"}, "type": "decimal", "scale": 3}"#;
const QTY_NARROW: &str = r#"{"name": "qty", "label": {"en": "Qty", "zh": "数量"}, "type": "decimal", "scale": 1}"#;

#[test]
fn manifests_are_installed_and_changes_previewed_by_migrate() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("stock.json");
    std::fs::write(&file, manifest(CODE)).unwrap();
    let m = file.to_str().unwrap();

    let (out, _, stderr) = run(weft(data.path()).arg("migrate"));
    assert!(out.status.success(), "{stderr}");
    let base = audit_count(data.path());
    let (out, stdout, stderr) = run(weft(data.path()).args(["migrate", "--manifest", m]));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("did create type `stock_item`") && stdout.contains("create table r_stock_item"),
        "{stdout}"
    );

    // Adding a field: previewed by --dry-run, then applied.
    std::fs::write(&file, manifest(&format!("{CODE}, {QTY}"))).unwrap();
    let (out, stdout, stderr) = run(weft(data.path()).args(["migrate", "--dry-run", "--manifest", m]));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("would alter type `stock_item`") && stdout.contains("add column r_stock_item.qty"),
        "{stdout}"
    );
    assert!(stdout.contains("dry run"), "{stdout}");
    let (out, stdout, _) = run(weft(data.path()).args(["migrate", "--manifest", m]));
    assert!(out.status.success());
    assert!(stdout.contains("did alter type `stock_item`"), "{stdout}");
    let (_, stdout, _) = run(weft(data.path()).args(["migrate", "--manifest", m]));
    assert!(stdout.contains("nothing to do"), "{stdout}");

    // Narrowing needs the explicit flag; without it nothing changes.
    std::fs::write(&file, manifest(&format!("{CODE}, {QTY_NARROW}"))).unwrap();
    let (out, _, stderr) = run(weft(data.path()).args(["migrate", "--manifest", m]));
    assert!(!out.status.success());
    assert!(stderr.contains("destructive") && stderr.contains("allow_destructive"), "{stderr}");
    let (out, stdout, stderr) = run(weft(data.path()).args(["migrate", "--allow-destructive", "--manifest", m]));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("_bak") && stdout.contains("[destructive]"), "{stdout}");

    // Every declaration left an audit entry, and the chain verifies.
    assert_eq!(audit_count(data.path()), base + 3);
}

/// The entries in the audit chain, which must verify.
fn audit_count(data: &Path) -> usize {
    let (out, stdout, stderr) = run(weft(data).args(["audit", "verify"]));
    assert!(out.status.success(), "{stderr}");
    let count = stdout.split("intact: ").nth(1).and_then(|rest| rest.split(' ').next());
    count.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no entry count in {stdout}"))
}

/// Runs `weft` with `input` on standard input.
fn run_with_input(cmd: &mut Command, input: &str) -> (Output, String, String) {
    use std::io::Write;
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

async fn operators_make_the_first_admin_and_recover_access(backend: TestBackend) {
    let db = TestDatabase::new(backend).await.unwrap();
    let url = db.url();
    let weft_at = || {
        let mut cmd = weft(db.data_path());
        cmd.args(["--database-url", &url]);
        cmd
    };
    // The first administrator, on a database nobody migrated yet, with a chosen password.
    let (out, stdout, stderr) = run_with_input(
        weft_at().args([
            "user",
            "create",
            "--login",
            "boss@example.com",
            "--name",
            "Boss",
            "--role",
            "admin",
            "--password-stdin",
        ]),
        "correct horse battery\n",
    );
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("created member `boss@example.com`") && stdout.contains("admin"), "{stdout}");
    assert!(!stdout.contains("password:"), "a chosen password is not echoed: {stdout}");

    // Bad input: a second account with the same login, a short password, an unknown role,
    // an unknown login — each a message and a non-zero exit, nothing written.
    let (out, _, stderr) = run_with_input(
        weft_at().args(["user", "create", "--login", "boss@example.com", "--password-stdin"]),
        "another long password\n",
    );
    assert!(!out.status.success() && stderr.contains("login"), "{stderr}");
    let (out, _, stderr) =
        run_with_input(weft_at().args(["user", "create", "--login", "x@example.com", "--password-stdin"]), "short\n");
    assert!(!out.status.success() && stderr.contains("too short"), "{stderr}");
    let (out, _, stderr) = run(weft_at().args(["user", "create", "--login", "y@example.com", "--role", "wizard"]));
    assert!(!out.status.success() && stderr.contains("wizard"), "{stderr}");
    let (out, _, stderr) = run(weft_at().args(["user", "disable", "--login", "nobody@example.com"]));
    assert!(!out.status.success() && stderr.contains("no principal `nobody@example.com`"), "{stderr}");
    let (out, stdout, _) = run(weft_at().args(["user", "list"]));
    assert!(out.status.success());
    assert!(
        stdout.contains("boss@example.com") && !stdout.contains("x@example.com") && !stdout.contains("y@example.com"),
        "{stdout}"
    );

    // A generated password is printed once and works; so does a token from the CLI.
    let (out, stdout, stderr) = run(weft_at().args(["user", "create", "--login", "clerk@example.com"]));
    assert!(out.status.success(), "{stderr}");
    let password = stdout.lines().find_map(|l| l.strip_prefix("password: ")).expect("generated password").to_owned();
    let (out, token, stderr) =
        run(weft_at().args(["token", "create", "--login", "boss@example.com", "--name", "ops", "--expires-days", "1"]));
    assert!(out.status.success(), "{stderr}");
    let token = token.trim().to_owned();
    assert!(token.starts_with("weft_") && stderr.contains("expires"), "{token} {stderr}");

    let (mut child, base) = spawn_server(db.data_path(), &url);
    let client = reqwest::Client::new();
    let me = |t: &str| client.get(format!("{base}/api/v1/me")).bearer_auth(t.to_owned()).send();
    assert_eq!(me(&token).await.unwrap().status(), 200);
    let login = |password: String| {
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({ "login": "clerk@example.com", "password": password }))
            .send()
    };
    assert_eq!(login(password.clone()).await.unwrap().status(), 200);

    // Recovery: a reset password replaces the old one; disabling stops the token at once.
    let (out, stdout, stderr) = run(weft_at().args(["user", "reset-password", "--login", "clerk@example.com"]));
    assert!(out.status.success(), "{stderr}");
    let fresh = stdout.lines().find_map(|l| l.strip_prefix("password: ")).unwrap().to_owned();
    assert_eq!(login(password).await.unwrap().status(), 401);
    assert_eq!(login(fresh).await.unwrap().status(), 200);
    let (out, _, stderr) = run(weft_at().args(["user", "disable", "--login", "boss@example.com"]));
    assert!(out.status.success(), "{stderr}");
    assert_eq!(me(&token).await.unwrap().status(), 401, "a disabled principal's token stops working");
    let (out, _, _) = run(weft_at().args(["user", "enable", "--login", "boss@example.com"]));
    assert!(out.status.success());
    assert_eq!(me(&token).await.unwrap().status(), 401, "disabling revoked the token for good");
    let (out, fresh_token, _) = run(weft_at().args(["token", "create", "--login", "boss@example.com"]));
    assert!(out.status.success());
    assert_eq!(me(fresh_token.trim()).await.unwrap().status(), 200, "enabled again, a new token works");
    let (out, _, stderr) = run(weft_at().args(["token", "create", "--login", "boss@example.com", "--role", "guest"]));
    assert!(!out.status.success() && stderr.contains("guest"), "a token cannot carry a role its owner lacks: {stderr}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn audit_verify_names_the_tampered_entry() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("stock.json");
    std::fs::write(&file, manifest(CODE)).unwrap();
    let (out, _, _) = run(weft(data.path()).args(["migrate", "--manifest", file.to_str().unwrap()]));
    assert!(out.status.success());
    std::fs::write(&file, manifest(&format!("{CODE}, {QTY}"))).unwrap();
    let (out, _, _) = run(weft(data.path()).args(["migrate", "--manifest", file.to_str().unwrap()]));
    assert!(out.status.success());
    let db = data.path().join("weft.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", db.display())).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1").execute(&mut conn).await.unwrap();
    });
    let (out, _, stderr) = run(weft(data.path()).args(["audit", "verify"]));
    assert!(!out.status.success());
    assert!(stderr.contains("broken at entry 1"), "{stderr}");
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
        let mut query = vec![("count", "true"), ("limit", "1")];
        query.extend(filter.map(|f| ("filter", f)));
        let url = format!("{}/api/v1/records/{type_name}", self.base);
        let response = self.client.get(url).query(&query).send().await.unwrap();
        assert_eq!(response.status(), 200, "{type_name} {filter:?}");
        let body: Value = response.json().await.unwrap();
        body["count"].as_u64().unwrap()
    }
}

/// `weft demo` end to end: the small sample company loads into a fresh database, the
/// printed sign-ins work, a supplier's contact sees its own orders and nothing of another
/// supplier's, today's work has live to-dos, the engines start after the history, and a
/// second run is refused without changing anything.
async fn demo_loads_a_company_once_and_guests_see_only_their_own(backend: TestBackend) {
    let db = TestDatabase::new(backend).await.unwrap();
    let url = db.url();
    let demo = || {
        let mut cmd = weft(db.data_path());
        cmd.args(["--database-url", &url, "demo", "--scale", "small"]);
        cmd
    };
    let out = demo().output().unwrap();
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
    let again = demo().output().unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert!(stderr.contains("already loaded"), "{stderr}");

    let (mut server, base) = spawn_server(db.data_path(), &url);
    let admin = Session::open(&base, "sarah.wilson@huadong.example", &logins["sarah.wilson@huadong.example"]).await;
    // 80 historical orders and 8 of today's; 8 suppliers with their profiles; 40 items.
    assert_eq!(admin.count("purchase_order", None).await, 88);
    assert_eq!(admin.count("supplier_profile", None).await, 8);
    assert_eq!(admin.count("supplier_profile", Some("score > 0")).await, 8, "every supplier is scored");
    assert_eq!(admin.count("party", None).await, 8);
    assert_eq!(admin.count("item", None).await, 40);
    assert!(admin.count("goods_receipt", Some("state = \"posted\"")).await >= 60);
    assert!(admin.count("payable", Some("state = \"paid\"")).await >= 30);
    assert!(admin.count("shipping_notice", Some("state = \"in_transit\"")).await >= 1);
    assert_eq!(admin.count("supplier_invoice", Some("state = \"exception\"")).await, 1);
    assert_eq!(admin.count("purchase_order", Some("state = \"pending_approval\"")).await, 3);

    // Each supplier's contact sees exactly its own supplier's orders, never another's.
    for login in ["sales@suzhou-precision.example", "sales@baoshan-steel.example"] {
        let guest = Session::open(&base, login, &logins[login]).await;
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
    let manager = Session::open(&base, "michael.zhang@huadong.example", &logins["michael.zhang@huadong.example"]).await;
    let (_, tasks) = manager.get("/api/v1/tasks/mine").await;
    let approvals = tasks["items"].as_array().unwrap().iter().filter(|t| t["element"] == "manager_approve").count();
    assert_eq!(approvals, 2, "{tasks}");
    let buyer = Session::open(&base, "li.na@huadong.example", &logins["li.na@huadong.example"]).await;
    let (_, tasks) = buyer.get("/api/v1/tasks/mine").await;
    assert!(tasks["items"].as_array().unwrap().iter().any(|t| t["element"] == "review"), "{tasks}");
    let finance = Session::open(&base, "chen.jing@huadong.example", &logins["chen.jing@huadong.example"]).await;
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
    server.kill().unwrap();
    server.wait().unwrap();
}
