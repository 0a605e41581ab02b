//! `procurement`: the Tryton peer workload in process with the procurement app's real
//! object types (issue 9), instead of the minimal fixture `records` declares. The steps
//! and their checks are `workload`'s; this client maps them onto the app:
//!
//! a. a supplier is a core `party` (role supplier) plus its `party_address`: two commands;
//! b. a purchase order is the app's `purchase_order` with 3 lines (the engine computes the
//!    net and tax totals from the lines and zeroes the quantities it keeps);
//! c. quote is the buyer's `submit`; confirm is the approval (`approve`) plus the supplier's
//!    `supplier_confirmation` (accept, with a promised date), whose hook confirms the order
//!    in the same transaction and dates its lines: three records written. Tryton's confirm
//!    also plans 3 incoming moves and a draft invoice; Weft plans neither (receipts and
//!    invoices are booked against the order lines when they happen);
//! d. the same filtered list, on the app's indexed `supplier`, `state` and `order_date`.
//!
//! The approval process is not run (no outbox consumers in the bench): the transitions are
//! made directly, as the process's service task would.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_store::StoreOptions;
use weft_workspace::{Created, DatabaseLocation, Workspace};

use crate::common::{BackendChoice, DEFAULT_DATABASE_URL, ScratchPostgres, interruptible};
use crate::fixture::{CONFIRM, PURCHASE_ORDER, QUOTE, SUPPLIER};
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
}

/// The façade with the app's types; `buyer` works the orders, `supplier` (the system, as
/// the portal contact's stand-in) confirms them.
#[derive(Clone)]
struct AppClient {
    workspace: Workspace,
    buyer: Principal,
}

impl AppClient {
    async fn create_as(&self, who: &Principal, type_name: &str, input: Json) -> Result<Uuid> {
        let Json::Object(input) = input else { bail!("an input is a JSON object") };
        match self.workspace.create(who, type_name, input, None).await? {
            Created::Fresh(view) => Ok(view.system.id),
            Created::Replayed(_) => bail!("a create without idempotency key was replayed"),
        }
    }
}

fn text<'a>(input: &'a Map<String, Json>, key: &str) -> &'a str {
    input.get(key).and_then(Json::as_str).unwrap_or_default()
}

impl Client for AppClient {
    async fn create(&self, type_name: &'static str, input: Map<String, Json>) -> Result<Uuid> {
        match type_name {
            SUPPLIER => {
                let party = self
                    .create_as(&self.buyer, "party", json!({ "name": text(&input, "name"), "roles": ["supplier"] }))
                    .await?;
                let address = &input["addresses"][0];
                self.create_as(
                    &self.buyer,
                    "party_address",
                    json!({ "of_party": party, "kind": "office", "line1": address["street"],
                            "postal_code": address["postal_code"], "city": address["city"],
                            "country": address["country"] }),
                )
                .await?;
                Ok(party)
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
                self.create_as(&self.buyer, "purchase_order", order).await
            }
            other => bail!("the procurement client does not create `{other}`"),
        }
    }

    async fn transition(&self, type_name: &'static str, id: Uuid, name: &'static str) -> Result<()> {
        ensure!(type_name == PURCHASE_ORDER, "only orders move");
        let ws = &self.workspace;
        match name {
            QUOTE => {
                ws.transition(&self.buyer, "purchase_order", id, "submit", None, Map::new()).await?;
            }
            CONFIRM => {
                ws.transition(&Principal::system(), "purchase_order", id, "approve", None, Map::new()).await?;
                let answer = json!({ "purchase_order": id, "decision": "accept", "promised_date": "2026-12-31" });
                self.create_as(&Principal::system(), "supplier_confirmation", answer).await?;
            }
            other => bail!("no step `{other}`"),
        }
        Ok(())
    }

    async fn list(&self, call: ListCall) -> Result<ListAnswer> {
        crate::records::list_through(&self.workspace, &self.buyer, call).await
    }
}

async fn one_run(location: DatabaseLocation, sizes: Sizes, tasks: usize, limit: Duration) -> Result<Vec<StepResult>> {
    let shown = location.redacted();
    let workspace =
        Workspace::connect(&StoreOptions::new(location)).await.with_context(|| format!("connecting to {shown}"))?;
    workspace.migrate().await.context("migrating the scratch database")?;
    workspace.install_builtin_apps().await.context("installing the built-in apps")?;
    let client = AppClient { workspace: workspace.clone(), buyer: crate::common::employee(&workspace).await? };
    let results = workload::run(client, sizes, tasks, limit, None).await;
    workspace.close().await;
    results
}

pub async fn run(args: Args) -> Result<String> {
    let sizes = Sizes::scaled(args.scale as usize, args.queries as usize);
    let limit = Duration::from_secs(args.step_timeout_secs);
    eprintln!(
        "procurement (in process, the app's types): {} suppliers, {} orders over {} hot suppliers, {} queries; tasks {:?}",
        sizes.suppliers, sizes.purchases, sizes.hot, sizes.queries, args.concurrency
    );
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
}
