//! `procurement`: the Tryton peer workload with the procurement app's real object types
//! (issue 9), instead of the minimal fixture `records` declares, in process or (`--http`)
//! over the HTTP API against a `weft serve` started for each run (as `records-http` does).
//! The steps and their checks are `workload`'s; one mapping onto the app serves both:
//!
//! a. a supplier is a core `party` (role supplier) created with its `party_address` in one
//!    command (`@with`, one transaction), as Tryton nests the address in the party's create;
//! b. a purchase order is the app's `purchase_order` with 3 lines (the engine computes the
//!    net and tax totals from the lines and zeroes the quantities it keeps);
//! c. quote is the buyer's `submit`; confirm is the approval (`approve`) plus the supplier's
//!    `supplier_confirmation` (accept, with a promised date), whose hook confirms the order
//!    in the same transaction, dates its lines and plans what follows, as Tryton's confirm
//!    plans 3 incoming moves and a draft invoice: the expected goods receipt (a line per
//!    order line) and the supplier's draft invoice (the order's lines and totals). Five
//!    records written; each run checks every order got both;
//! d. the same filtered list, on the app's indexed `supplier`, `state` and `order_date`.
//!
//! In process the approval process is not run (no outbox consumers in the bench): the
//! transitions are made directly, as the process's service task would. Over HTTP the server
//! runs everything it runs in production, the approval process included: each submit starts
//! it, the approval matrix finds the bench's small orders need no approver and its service
//! task approves them in the background. The bench's approval then finds some orders
//! already approved (409), which counts as done; the supplier's confirmation, which needs
//! an approved order, checks it.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use reqwest::StatusCode;
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_store::StoreOptions;
use weft_workspace::{CreatedWithOutcome, DatabaseLocation, Workspace};

use crate::common::{BackendChoice, DEFAULT_DATABASE_URL, ScratchPostgres, interruptible};
use crate::fixture::{CONFIRM, PURCHASE_ORDER, QUOTE, SUPPLIER};
use crate::records_http::{self, Http, Servers};
use crate::workload::{self, Client, ListAnswer, ListCall, Sizes, StepResult};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value_t = BackendChoice::Both)]
    backend: BackendChoice,
    /// Comma-separated numbers of concurrent tasks; each number is a fresh run.
    #[arg(long, value_delimiter = ',', default_value = "8", value_parser = clap::value_parser!(u32).range(1..=512))]
    concurrency: Vec<u32>,
    /// Multiplies Tryton's counts (2,000 suppliers, 1,000 orders, 50 hot suppliers).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    scale: u32,
    /// Filtered list queries in step d.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    queries: u32,
    #[arg(long, default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    step_timeout_secs: u64,
    #[arg(long, env = "WEFT_BENCH_DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    #[arg(long)]
    sqlite_dir: Option<PathBuf>,
    /// Over HTTP, against a `weft serve` started for each run (it installs the built-in
    /// apps as it starts), with `--concurrency` clients, instead of in process.
    #[arg(long)]
    http: bool,
    /// With `--http`: the `weft` binary to start (default: `weft` next to this benchmark's
    /// binary, i.e. `target/release/weft` after `cargo build --release -p weft`).
    #[arg(long, requires = "http")]
    weft_bin: Option<PathBuf>,
}

/// Columns the HTTP list returns, as Tryton's query does: number, reference, date, state,
/// net and tax amounts (`id` and `version` always come too).
const LIST_FIELDS: &str = "number,subject,order_date,state,total_amount,tax_amount";

/// Who makes a call: the buyer works the orders; the approver approves them and, standing
/// in for the supplier's portal contact, confirms them (in process the system principal,
/// over HTTP an administrator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Buyer,
    Approver,
}

/// The calls the mapping makes: through the façade or over HTTP.
trait AppApi: Clone + Send + Sync + 'static {
    fn create(&self, who: Actor, type_name: &'static str, input: Json) -> impl Future<Output = Result<Uuid>> + Send;
    /// Moves a purchase order.
    fn transition(&self, who: Actor, id: Uuid, name: &'static str) -> impl Future<Output = Result<()>> + Send;
    fn list(&self, call: ListCall) -> impl Future<Output = Result<ListAnswer>> + Send;
}

/// The workload's steps mapped onto the app's types.
#[derive(Clone)]
struct App<A>(A);

fn text<'a>(input: &'a Map<String, Json>, key: &str) -> &'a str {
    input.get(key).and_then(Json::as_str).unwrap_or_default()
}

impl<A: AppApi> Client for App<A> {
    async fn create(&self, type_name: &'static str, input: Map<String, Json>) -> Result<Uuid> {
        match type_name {
            SUPPLIER => {
                let address = &input["addresses"][0];
                let party = json!({
                    "name": text(&input, "name"), "roles": ["supplier"],
                    "@with": { "party_address": [{
                        "kind": "office", "line1": address["street"], "postal_code": address["postal_code"],
                        "city": address["city"], "country": address["country"] }] },
                });
                self.0.create(Actor::Buyer, "party", party).await
            }
            PURCHASE_ORDER => {
                let lines: Vec<Json> = input["lines"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| {
                        json!({ "description": l["product"], "qty": l["quantity"], "unit_price": l["unit_price"],
                                     "tax_rate": "13" })
                    })
                    .collect();
                let order = json!({
                    "subject": text(&input, "reference"), "supplier": input["supplier"], "category": "components",
                    "order_date": input["order_date"], "lines": lines,
                });
                self.0.create(Actor::Buyer, "purchase_order", order).await
            }
            other => bail!("the procurement client does not create `{other}`"),
        }
    }

    async fn transition(&self, type_name: &'static str, id: Uuid, name: &'static str) -> Result<()> {
        ensure!(type_name == PURCHASE_ORDER, "only orders move");
        match name {
            QUOTE => self.0.transition(Actor::Buyer, id, "submit").await?,
            CONFIRM => {
                self.0.transition(Actor::Approver, id, "approve").await?;
                let answer = json!({ "purchase_order": id, "decision": "accept", "promised_date": "2026-12-31" });
                self.0.create(Actor::Approver, "supplier_confirmation", answer).await?;
            }
            other => bail!("no step `{other}`"),
        }
        Ok(())
    }

    async fn list(&self, call: ListCall) -> Result<ListAnswer> {
        self.0.list(call).await
    }
}

/// The façade, called the way the HTTP handlers call it.
#[derive(Clone)]
struct InProcess {
    workspace: Workspace,
    buyer: Principal,
}

impl InProcess {
    fn principal(&self, who: Actor) -> Principal {
        match who {
            Actor::Buyer => self.buyer.clone(),
            Actor::Approver => Principal::system(),
        }
    }
}

impl AppApi for InProcess {
    async fn create(&self, who: Actor, type_name: &'static str, input: Json) -> Result<Uuid> {
        let Json::Object(input) = input else { bail!("an input is a JSON object") };
        match self.workspace.create_with(&self.principal(who), type_name, input, None).await? {
            CreatedWithOutcome::Fresh(created) => Ok(created.record.system.id),
            CreatedWithOutcome::Replayed(_) => bail!("a create without idempotency key was replayed"),
        }
    }

    async fn transition(&self, who: Actor, id: Uuid, name: &'static str) -> Result<()> {
        self.workspace.transition(&self.principal(who), PURCHASE_ORDER, id, name, None, Map::new()).await?;
        Ok(())
    }

    async fn list(&self, call: ListCall) -> Result<ListAnswer> {
        crate::records::list_through(&self.workspace, &self.buyer, call).await
    }
}

/// The HTTP API: the buyer's token (role `employee`) and an administrator's.
#[derive(Clone)]
struct OverHttp {
    buyer: Http,
    approver: Http,
    /// Approvals the served approval process had made before the bench's (HTTP 409).
    approved_before: Arc<AtomicU64>,
}

impl OverHttp {
    fn caller(&self, who: Actor) -> &Http {
        match who {
            Actor::Buyer => &self.buyer,
            Actor::Approver => &self.approver,
        }
    }
}

impl AppApi for OverHttp {
    async fn create(&self, who: Actor, type_name: &'static str, input: Json) -> Result<Uuid> {
        self.caller(who).create_record(type_name, &input).await
    }

    async fn transition(&self, who: Actor, id: Uuid, name: &'static str) -> Result<()> {
        let response = self.caller(who).send_transition(PURCHASE_ORDER, id, name).await?;
        // 409: already approved; 412: approved while the bench's approval ran (PostgreSQL).
        if name == "approve" && matches!(response.status(), StatusCode::CONFLICT | StatusCode::PRECONDITION_FAILED) {
            // The approval process got there first; the supplier's confirmation checks it.
            self.approved_before.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        Http::expect(response, StatusCode::OK, "POST transition").await?;
        Ok(())
    }

    async fn list(&self, call: ListCall) -> Result<ListAnswer> {
        self.buyer.list_page(call, LIST_FIELDS).await
    }
}

async fn one_run(location: DatabaseLocation, sizes: Sizes, tasks: usize, limit: Duration) -> Result<Vec<StepResult>> {
    let shown = location.redacted();
    let workspace =
        Workspace::connect(&StoreOptions::new(location)).await.with_context(|| format!("connecting to {shown}"))?;
    workspace.migrate().await.context("migrating the scratch database")?;
    workspace.install_builtin_apps().await.context("installing the built-in apps")?;
    let client = InProcess { workspace: workspace.clone(), buyer: crate::common::employee(&workspace).await? };
    let results = workload::run(App(client), sizes, tasks, limit, None).await;
    let planned = if results.is_ok() { planned_after_confirm(&workspace).await } else { Ok(()) };
    workspace.close().await;
    planned?;
    results
}

/// Every confirmed order planned its receipt and its draft invoice (`c`).
async fn planned_after_confirm(workspace: &Workspace) -> Result<()> {
    let count = |type_name: &'static str, state: &'static str| async move {
        let query = weft_workspace::ListQuery {
            filter: Some(format!("state = \"{state}\"")),
            with_count: true,
            limit: Some(1),
            ..weft_workspace::ListQuery::default()
        };
        let page = workspace.list(&Principal::system(), type_name, &query).await?;
        anyhow::Ok(page.count.unwrap_or_default())
    };
    let orders = count(PURCHASE_ORDER, "confirmed").await?;
    let receipts = count("goods_receipt", "expected").await?;
    let invoices = count("supplier_invoice", "draft").await?;
    ensure!(
        receipts == orders && invoices == orders,
        "{orders} confirmed orders planned {receipts} expected receipts and {invoices} draft invoices"
    );
    Ok(())
}

/// Signed up for each server (login, role): the buyer, then the approver (see `Actor`).
const HTTP_USERS: [(&str, &str); 2] = [("buyer@bench.test", "employee"), ("approver@bench.test", "admin")];

/// The workload with `clients` over HTTP, with the tokens of `HTTP_USERS`.
async fn drive_http(
    base: &str,
    tokens: &[String],
    sizes: Sizes,
    clients: usize,
    limit: Duration,
) -> Result<Vec<StepResult>> {
    let [buyer, approver] = tokens else { bail!("two users were signed up") };
    let api = OverHttp {
        buyer: Http::new(base, buyer, clients)?,
        approver: Http::new(base, approver, clients)?,
        approved_before: Arc::new(AtomicU64::new(0)),
    };
    let results = workload::run(App(api.clone()), sizes, clients, limit, None).await?;
    eprintln!(
        "  the served approval process had approved {} of {} orders before the bench's approval",
        api.approved_before.load(Ordering::Relaxed),
        sizes.purchases
    );
    Ok(results)
}

async fn run_http(args: &Args, sizes: Sizes, limit: Duration) -> Result<String> {
    let bin = records_http::weft_bin(args.weft_bin.as_deref())?;
    eprintln!("procurement over HTTP ({}, the app's types): {sizes}; clients {:?}", bin.display(), args.concurrency);
    let servers = Servers { bin, database_url: &args.database_url, sqlite_dir: args.sqlite_dir.as_deref() };
    let runs = records_http::each_server(
        &servers,
        args.backend,
        &args.concurrency,
        &HTTP_USERS,
        |base, tokens, clients| async move { drive_http(&base, &tokens, sizes, clients, limit).await },
    )
    .await?;
    Ok(workload::table(&runs).to_markdown())
}

pub async fn run(args: Args) -> Result<String> {
    let sizes = Sizes::scaled(args.scale as usize, args.queries as usize);
    let limit = Duration::from_secs(args.step_timeout_secs);
    if args.http {
        return run_http(&args, sizes, limit).await;
    }
    eprintln!("procurement (in process, the app's types): {sizes}; tasks {:?}", args.concurrency);
    let mut runs = Vec::new();
    for &tasks in &args.concurrency {
        let tasks = tasks as usize;
        if args.backend.sqlite() {
            let dir = args.sqlite_dir.clone().unwrap_or_else(std::env::temp_dir);
            let scratch = tempfile::Builder::new()
                .prefix("weft-bench-")
                .tempdir_in(&dir)
                .with_context(|| format!("cannot create a scratch folder in {}", dir.display()))?;
            let location = DatabaseLocation::Sqlite(scratch.path().join("weft.db"));
            eprintln!("SQLite ({}), {tasks} task(s):", scratch.path().display());
            let results = interruptible(one_run(location, sizes, tasks, limit)).await??;
            scratch.close().context("removing the SQLite scratch folder")?;
            runs.push(("SQLite", tasks, results));
        }
        if args.backend.postgres() {
            let db = ScratchPostgres::create(&args.database_url).await?;
            eprintln!("PostgreSQL ({}), {tasks} task(s):", db.shown());
            let location = DatabaseLocation::parse(Some(db.url()), std::path::Path::new("."))
                .map_err(|e| anyhow::anyhow!("scratch database URL: {e}"))?;
            let outcome = interruptible(one_run(location, sizes, tasks, limit)).await.and_then(|r| r);
            let results = db.finish(outcome).await?;
            runs.push(("PostgreSQL", tasks, results));
        }
    }
    Ok(workload::table(&runs).to_markdown())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The workload at a tiny size with the app's types: every step runs and checks its pages.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tiny_workload_runs_with_the_app_types() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let sizes = Sizes { suppliers: 20, purchases: 10, hot: 2, queries: 6 };
        let results =
            one_run(DatabaseLocation::Sqlite(dir.path().join("weft.db")), sizes, 3, Duration::from_secs(60)).await?;
        let ops: Vec<u64> = results.iter().map(|r| r.ops).collect();
        assert_eq!(ops, vec![20, 10, 10, 10, 10, 6]);
        Ok(())
    }

    /// The same over HTTP, against a `weft serve` on SQLite. Needs the `weft` binary:
    /// `WEFT_BIN`, else `weft` in the test binary's target folder (so
    /// `cargo build -p weft && cargo test -p weft-bench -- --ignored`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs the weft binary (cargo build -p weft)"]
    async fn tiny_workload_runs_over_http() -> Result<()> {
        let bin = match std::env::var_os("WEFT_BIN") {
            Some(bin) => PathBuf::from(bin),
            // target/<profile>/deps/weft_bench-… → target/<profile>/weft
            None => std::env::current_exe()?
                .parent()
                .and_then(std::path::Path::parent)
                .map(|dir| dir.join(format!("weft{}", std::env::consts::EXE_SUFFIX)))
                .context("no target folder")?,
        };
        let dir = tempfile::tempdir()?;
        let servers = Servers { bin, database_url: DEFAULT_DATABASE_URL, sqlite_dir: Some(dir.path()) };
        let sizes = Sizes { suppliers: 20, purchases: 10, hot: 2, queries: 6 };
        let runs =
            records_http::each_server(
                &servers,
                BackendChoice::Sqlite,
                &[3],
                &HTTP_USERS,
                |base, tokens, clients| async move {
                    drive_http(&base, &tokens, sizes, clients, Duration::from_secs(60)).await
                },
            )
            .await?;
        let ops: Vec<u64> = runs[0].2.iter().map(|r| r.ops).collect();
        assert_eq!(ops, vec![20, 10, 10, 10, 10, 6]);
        Ok(())
    }
}
