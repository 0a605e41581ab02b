//! `records-http`: the Tryton peer workload over the HTTP API, against a `weft serve` the
//! benchmark starts itself (a temporary data folder, `--bind 127.0.0.1:0`), with C
//! concurrent clients sharing one keep-alive connection pool.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use reqwest::StatusCode;
use serde_json::{Map, Value as Json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::common::{BackendChoice, DEFAULT_DATABASE_URL, ScratchPostgres, interruptible};
use crate::fixture;
use crate::workload::{self, Client, ListAnswer, ListCall, Sizes, StepResult};

/// How long the server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long it may take to drain and stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Which database(s) the server uses.
    #[arg(long, value_enum, default_value_t = BackendChoice::Both)]
    backend: BackendChoice,
    /// Comma-separated numbers of concurrent clients; each number is a fresh server.
    #[arg(long, value_delimiter = ',', default_value = "8", value_parser = clap::value_parser!(u32).range(1..=512))]
    concurrency: Vec<u32>,
    /// Multiplies Tryton's counts (2,000 suppliers, 1,000 orders, 50 hot suppliers).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    scale: u32,
    /// Filtered list queries in step d.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    queries: u32,
    /// A step that takes longer than this fails the run.
    #[arg(long, default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    step_timeout_secs: u64,
    /// The `weft` binary to start (default: `weft` next to this benchmark's binary, i.e.
    /// `target/release/weft` after `cargo build --release -p weft`).
    #[arg(long)]
    weft_bin: Option<PathBuf>,
    /// PostgreSQL server; a scratch database `weft_bench_<random>` is created on it for the
    /// server and dropped afterwards.
    #[arg(long, env = "WEFT_BENCH_DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    /// Parent folder of the server's temporary data folder (default: the system temp folder).
    #[arg(long)]
    sqlite_dir: Option<PathBuf>,
}

/// The HTTP API, as a client application calls it.
#[derive(Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    /// A caller with `token`, sharing one keep-alive pool among `clients` concurrent tasks.
    pub(crate) fn new(base: &str, token: &str, clients: usize) -> Result<Http> {
        let client = reqwest::Client::builder()
            .default_headers(bearer(token)?)
            .pool_max_idle_per_host(clients.max(1))
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        Ok(Http { client, base: base.to_owned() })
    }

    pub(crate) async fn expect(response: reqwest::Response, status: StatusCode, what: &str) -> Result<Json> {
        let got = response.status();
        let body = response.bytes().await.with_context(|| format!("{what}: reading the response"))?;
        if got != status {
            bail!("{what}: HTTP {got}, expected {status}: {}", String::from_utf8_lossy(&body));
        }
        serde_json::from_slice(&body).with_context(|| format!("{what}: the response is not JSON"))
    }
}

impl Http {
    /// `POST /api/v1/records/{type_name}`; the new record's id.
    pub(crate) async fn create_record(&self, type_name: &str, input: &Json) -> Result<Uuid> {
        let response = self
            .client
            .post(format!("{}/api/v1/records/{type_name}", self.base))
            .json(input)
            .send()
            .await
            .context("POST record")?;
        let json = Self::expect(response, StatusCode::CREATED, "POST record").await?;
        json.get("id")
            .and_then(Json::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| anyhow!("POST record: no id in the answer"))
    }

    /// `POST …/transitions/{name}` with no inputs; the response, unchecked.
    pub(crate) async fn send_transition(&self, type_name: &str, id: Uuid, name: &str) -> Result<reqwest::Response> {
        self.client
            .post(format!("{}/api/v1/records/{type_name}/{id}/transitions/{name}", self.base))
            .json(&Json::Object(Map::new()))
            .send()
            .await
            .context("POST transition")
    }

    /// One page of `call` as `GET /api/v1/records/{type}`, projected to `fields`.
    pub(crate) async fn list_page(&self, call: ListCall, fields: &str) -> Result<ListAnswer> {
        let mut query = vec![
            ("filter", call.filter),
            ("sort", call.sort.to_owned()),
            ("limit", call.limit.to_string()),
            ("fields", fields.to_owned()),
        ];
        if let Some(cursor) = call.cursor {
            query.push(("cursor", cursor));
        }
        let response = self
            .client
            .get(format!("{}/api/v1/records/{}", self.base, call.type_name))
            .query(&query)
            .send()
            .await
            .context("GET records")?;
        let json = Self::expect(response, StatusCode::OK, "GET records").await?;
        let items = json.get("items").and_then(Json::as_array).ok_or_else(|| anyhow!("GET records: no items"))?;
        let text = |item: &Json, key: &str| item.get(key).and_then(Json::as_str).unwrap_or_default().to_owned();
        Ok(ListAnswer {
            rows: items.iter().map(|item| (text(item, "state"), text(item, "order_date"))).collect(),
            next_cursor: json.get("next_cursor").and_then(Json::as_str).map(str::to_owned),
        })
    }
}

impl Client for Http {
    async fn create(&self, type_name: &'static str, input: Map<String, Json>) -> Result<Uuid> {
        self.create_record(type_name, &Json::Object(input)).await
    }

    async fn transition(&self, type_name: &'static str, id: Uuid, name: &'static str) -> Result<()> {
        let response = self.send_transition(type_name, id, name).await?;
        Self::expect(response, StatusCode::OK, "POST transition").await?;
        Ok(())
    }

    async fn list(&self, call: ListCall) -> Result<ListAnswer> {
        self.list_page(call, fixture::LIST_FIELDS).await
    }
}

/// A `weft serve` started for one run; stopped (SIGTERM, then kill) by `stop`.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    async fn start(bin: &Path, data: &Path, database_url: Option<&str>) -> Result<Server> {
        let log = data.join("server.log");
        let stderr = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let mut command = Command::new(bin);
        command.arg("serve").arg("--data").arg(data).arg("--bind").arg("127.0.0.1:0");
        if let Some(url) = database_url {
            // Through the environment: a URL with a password never shows in `ps`.
            command.env("WEFT_DATABASE_URL", url);
        } else {
            command.env_remove("WEFT_DATABASE_URL");
        }
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::from(stderr)).kill_on_drop(true);
        let mut child = command.spawn().with_context(|| {
            format!("cannot start {}; build it with `cargo build --release -p weft` or pass --weft-bin", bin.display())
        })?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout from weft serve"))?;
        let mut lines = BufReader::new(stdout).lines();
        let find = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(address) = line.trim().strip_prefix("Weft is serving on ") {
                    return Ok::<_, anyhow::Error>(Some(address.trim_end_matches('/').to_owned()));
                }
            }
            Ok(None)
        };
        let base = match tokio::time::timeout(START_TIMEOUT, find).await {
            Ok(Ok(Some(base))) => base,
            Ok(Ok(None)) => bail!("weft serve exited before serving; see {}", log.display()),
            Ok(Err(e)) => return Err(e.context("reading weft serve's output")),
            Err(_) => bail!("weft serve did not start within {}s; see {}", START_TIMEOUT.as_secs(), log.display()),
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server { child, base, log })
    }

    async fn stop(mut self) -> Result<()> {
        if let Some(pid) = self.child.id() {
            // A graceful stop (drain, close the database); `kill` is the portable way
            // to send SIGTERM without unsafe code.
            let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await;
        }
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => bail!("weft serve stopped with {status}; see {}", self.log.display()),
            Ok(Err(e)) => Err(anyhow!("waiting for weft serve: {e}")),
            Err(_) => {
                self.child.start_kill().context("killing weft serve")?;
                bail!("weft serve did not stop within {}s after SIGTERM; killed", STOP_TIMEOUT.as_secs())
            }
        }
    }
}

/// The `weft` binary: `explicit`, else `weft` next to this benchmark's binary.
pub(crate) fn weft_bin(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(bin) = explicit {
        return Ok(bin.to_owned());
    }
    let me = std::env::current_exe().context("locating weft-bench")?;
    let bin = me.with_file_name(format!("weft{}", std::env::consts::EXE_SUFFIX));
    ensure!(
        bin.is_file(),
        "{} not found; build it with `cargo build --release -p weft` or pass --weft-bin",
        bin.display()
    );
    Ok(bin)
}

/// Where the over-HTTP runs happen: the `weft` binary, the PostgreSQL server that gets a
/// scratch database per run, the parent folder of each server's data folder.
pub(crate) struct Servers<'a> {
    pub bin: PathBuf,
    pub database_url: &'a str,
    pub sqlite_dir: Option<&'a Path>,
}

/// One run's results, labelled for `workload::table`.
pub(crate) type Run = (&'static str, usize, Vec<StepResult>);

/// A fresh `weft serve` (its own data folder; on PostgreSQL its own scratch database) for
/// every backend and number of clients: `users` (login, role) are signed up before it
/// starts, and `drive` gets its base URL, their tokens (in `users`' order) and the number
/// of clients.
pub(crate) async fn each_server<F, Fut>(
    servers: &Servers<'_>,
    backend: BackendChoice,
    concurrency: &[u32],
    users: &[(&str, &str)],
    drive: F,
) -> Result<Vec<Run>>
where
    F: Fn(String, Vec<String>, usize) -> Fut,
    Fut: Future<Output = Result<Vec<StepResult>>>,
{
    let mut runs = Vec::new();
    for &clients in concurrency {
        let clients = clients as usize;
        if backend.sqlite() {
            eprintln!("SQLite, synchronous=full, {clients} client(s):");
            let results =
                interruptible(one_run(servers, None, users, |base, tokens| drive(base, tokens, clients))).await??;
            runs.push(("SQLite", clients, results));
        }
        if backend.postgres() {
            let db = ScratchPostgres::create(servers.database_url).await?;
            eprintln!("PostgreSQL ({}), {clients} client(s):", db.shown());
            let outcome =
                interruptible(one_run(servers, Some(db.url()), users, |base, tokens| drive(base, tokens, clients)))
                    .await
                    .and_then(|r| r);
            runs.push(("PostgreSQL", clients, db.finish(outcome).await?));
        }
    }
    Ok(runs)
}

pub async fn run(args: Args) -> Result<String> {
    let sizes = Sizes::scaled(args.scale as usize, args.queries as usize);
    let limit = Duration::from_secs(args.step_timeout_secs);
    let bin = weft_bin(args.weft_bin.as_deref())?;
    eprintln!("records-http ({}): {sizes}; clients {:?}", bin.display(), args.concurrency);
    let servers = Servers { bin, database_url: &args.database_url, sqlite_dir: args.sqlite_dir.as_deref() };
    let users = [("admin@bench.test", "admin"), ("clerk@bench.test", "employee")];
    let runs = each_server(&servers, args.backend, &args.concurrency, &users, |base, tokens, clients| async move {
        drive(&base, &tokens[0], &tokens[1], sizes, clients, limit).await
    })
    .await?;
    Ok(workload::table(&runs).to_markdown())
}

async fn one_run<Fut>(
    servers: &Servers<'_>,
    database_url: Option<&str>,
    users: &[(&str, &str)],
    drive: impl FnOnce(String, Vec<String>) -> Fut,
) -> Result<Vec<StepResult>>
where
    Fut: Future<Output = Result<Vec<StepResult>>>,
{
    let dir = servers.sqlite_dir.map_or_else(std::env::temp_dir, Path::to_owned);
    let data = tempfile::Builder::new()
        .prefix("weft-bench-http-")
        .tempdir_in(&dir)
        .with_context(|| format!("cannot create a data folder in {}", dir.display()))?;
    let mut tokens = Vec::new();
    for (login, role) in users {
        tokens.push(signed_up(&servers.bin, data.path(), database_url, login, role).await?);
    }
    let server = Server::start(&servers.bin, data.path(), database_url).await?;
    eprintln!("  weft serve on {} (log: {})", server.base, server.log.display());
    let outcome = drive(server.base.clone(), tokens).await;
    let stopped = server.stop().await;
    let results = outcome?;
    stopped?;
    data.close().context("removing the server's data folder")?;
    Ok(results)
}

/// Runs `weft` with `args` on the run's data folder and database; its standard output.
async fn weft_cli(bin: &Path, data: &Path, database_url: Option<&str>, args: &[&str]) -> Result<String> {
    let mut command = Command::new(bin);
    command.arg("--data").arg(data).args(args);
    match database_url {
        Some(url) => command.env("WEFT_DATABASE_URL", url),
        None => command.env_remove("WEFT_DATABASE_URL"),
    };
    let out = command.stdin(Stdio::null()).output().await.with_context(|| format!("cannot run {}", bin.display()))?;
    if !out.status.success() {
        bail!("weft {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A member with `role`, made as an operator would (`weft user create`), and an API
/// token for it (`weft token create`).
async fn signed_up(bin: &Path, data: &Path, database_url: Option<&str>, login: &str, role: &str) -> Result<String> {
    weft_cli(bin, data, database_url, &["user", "create", "--login", login, "--role", role]).await?;
    let token = weft_cli(bin, data, database_url, &["token", "create", "--login", login, "--name", "bench"]).await?;
    Ok(token.trim().to_owned())
}

fn bearer(token: &str) -> Result<reqwest::header::HeaderMap> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().context("token header")?);
    Ok(headers)
}

/// The administrator declares the fixture types; the clerk (role `employee`) does the work.
async fn drive(
    base: &str,
    admin_token: &str,
    clerk_token: &str,
    sizes: Sizes,
    clients: usize,
    limit: Duration,
) -> Result<Vec<StepResult>> {
    let admin = Http::new(base, admin_token, 1)?;
    for decl in fixture::declarations_json() {
        let response =
            admin.client.post(format!("{base}/api/v1/types")).json(&decl).send().await.context("POST /api/v1/types")?;
        Http::expect(response, StatusCode::CREATED, "declaring a fixture type").await?;
    }
    workload::run(Http::new(base, clerk_token, clients)?, sizes, clients, limit, None).await
}
