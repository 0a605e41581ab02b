//! `processes`: issue 6's benchmark. The SpiffWorkflow peer's process
//! (`../shared/peers/spiff/approval.bpmn`: start → user task `submit` → exclusive gateway on
//! `amount > 10000` → `manager_approve` or `director_approve` → end) run end to end in
//! process, with persistence: deployed once, then N instances, each started by a member and
//! its two user tasks completed programmatically (the submitter's amount alternating 5,000
//! and 25,000 as the peer's script does, so both branches run), every step through the
//! façade's durable path (state, tasks, finished steps, audit entry and outbox event in one
//! transaction per step). Concurrent tasks each run their instances one after another.
//!
//! With `--spiff-python`, the peer's own script (`bench_spiff.py N` in memory, then with
//! `--serialize`: each instance serialised to JSON after every step) runs in the same
//! invocation, after Weft's runs, and its figures join the same table.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Map, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_store::StoreOptions;
use weft_workspace::processes::{DeployProcess, StartProcess};
use weft_workspace::{DatabaseLocation, Workspace};

use crate::common::{BackendChoice, DEFAULT_DATABASE_URL, ScratchPostgres, concurrently, interruptible};
use crate::report::{Align, Table};
use crate::spiff_peer;
use crate::statements::StatementLog;

/// The statements of a run's measured instances, per instance, by shape, to stderr.
fn print_statements(log: Option<&StatementLog>, backend: &str, run: &Run) {
    let Some(log) = log else { return };
    let totals = log.take();
    let per = run.instances.max(1) as f64;
    eprintln!("{backend}, {} task(s): {:.1} statements per instance", run.tasks, totals.count() as f64 / per);
    for (shape, count, seconds) in totals.top(40) {
        eprintln!("  {:>6.2}  {:>6.0} µs each  {shape}", count as f64 / per, seconds * 1e6 / count.max(1) as f64);
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value_t = BackendChoice::Both)]
    backend: BackendChoice,
    /// Instances per run.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(2..=10_000_000))]
    instances: u32,
    /// Comma-separated numbers of concurrent tasks; each number is a fresh run.
    #[arg(long, value_delimiter = ',', default_value = "1,8", value_parser = clap::value_parser!(u32).range(1..=512))]
    concurrency: Vec<u32>,
    /// The peer's BPMN file.
    #[arg(long, default_value = "../shared/peers/spiff/approval.bpmn")]
    bpmn: PathBuf,
    #[arg(long, default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    step_timeout_secs: u64,
    #[arg(long, env = "WEFT_BENCH_DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    #[arg(long)]
    sqlite_dir: Option<PathBuf>,
    /// A Python with SpiffWorkflow installed (`pip install -r
    /// ../shared/peers/spiff/requirements.txt`): the peer runs in the same invocation.
    #[arg(long, env = "WEFT_BENCH_SPIFF_PYTHON")]
    spiff_python: Option<PathBuf>,
    /// Prints the statements one instance runs, by shape, to stderr.
    #[arg(long)]
    count_statements: bool,
}

/// One run's figures.
struct Run {
    backend: String,
    tasks: usize,
    instances: usize,
    elapsed: Duration,
    p50_ms: f64,
    p99_ms: f64,
}

/// A member holding `role`.
async fn member(workspace: &Workspace, role: &str) -> Result<Principal> {
    use weft_workspace::identity::{NewPrincipal, PrincipalKindName};
    let login = format!("bench-{role}-{}@weft.test", Uuid::now_v7().simple());
    let input = NewPrincipal {
        kind: Some(PrincipalKindName::Member),
        display_name: login.clone(),
        login,
        roles: Some(vec![role.to_owned()]),
        ..NewPrincipal::default()
    };
    Ok(Principal::member(workspace.create_principal(&Principal::system(), input).await?.id))
}

/// Completes the one open task of `instance`, which must be at `element` (or either of
/// `element`'s alternatives, `|`-separated); returns the element it was at.
async fn complete_open(
    ws: &Workspace,
    who: &Principal,
    instance: Uuid,
    expect: &str,
    outputs: Map<String, serde_json::Value>,
) -> Result<String> {
    let open: Vec<_> = ws.process_tasks(who, instance).await?.into_iter().filter(|t| t.status == "open").collect();
    let [task] = open.as_slice() else { bail!("instance {instance}: {} open tasks, expected one", open.len()) };
    ensure!(expect.split('|').any(|e| e == task.element), "instance {instance} is at {}, not {expect}", task.element);
    ws.complete_task(who, &task.id, outputs).await?;
    Ok(task.element.clone())
}

/// One instance end to end; returns the approval step it took.
async fn one_instance(ws: &Workspace, requester: &Principal, approver: &Principal, i: usize) -> Result<String> {
    let input = StartProcess { key: "approval".into(), record: None, variables: Map::new(), idempotency_key: None };
    let instance = ws.start_process(requester, input).await?.id;
    let amount = if i.is_multiple_of(2) { 5_000 } else { 25_000 };
    let submitted = Map::from_iter([("amount".to_owned(), json!(amount)), ("level".to_owned(), json!("A"))]);
    complete_open(ws, approver, instance, "submit", submitted).await?;
    let approved = Map::from_iter([("approved".to_owned(), json!(true))]);
    let step = complete_open(ws, approver, instance, "manager_approve|director_approve", approved).await?;
    let done = ws.process_instance(approver, instance).await?;
    ensure!(done.status == "completed", "instance {instance} is {} after its approval", done.status);
    Ok(step)
}

async fn one_run(
    location: DatabaseLocation,
    xml: &str,
    instances: usize,
    tasks: usize,
    limit: Duration,
    log: Option<&StatementLog>,
) -> Result<Run> {
    let shown = location.redacted();
    let workspace =
        Workspace::connect(&StoreOptions::new(location)).await.with_context(|| format!("connecting to {shown}"))?;
    workspace.migrate().await.context("migrating the scratch database")?;
    let admin = member(&workspace, "admin").await?;
    let requester = member(&workspace, "employee").await?;
    let deploy = DeployProcess {
        xml: xml.to_owned(),
        variables: [("amount".to_owned(), "decimal".to_owned()), ("level".to_owned(), "text".to_owned())].into(),
        ..DeployProcess::default()
    };
    workspace.deploy_process(&admin, deploy).await.context("deploying the peer's process")?;
    // Warm-up and a check of both branches, as the peer's script does.
    ensure!(one_instance(&workspace, &requester, &admin, 0).await? == "manager_approve", "the small amount's branch");
    ensure!(one_instance(&workspace, &requester, &admin, 1).await? == "director_approve", "the large amount's branch");

    if let Some(log) = log {
        log.take();
    }
    let ws = workspace.clone();
    let measured = concurrently(tasks, instances, limit, move |i| {
        let (ws, requester, admin) = (ws.clone(), requester.clone(), admin.clone());
        async move { one_instance(&ws, &requester, &admin, i).await }
    })
    .await?;
    let managers = measured.results.iter().filter(|s| *s == "manager_approve").count();
    ensure!(managers == instances.div_ceil(2), "{managers} of {instances} instances took the manager's branch");
    workspace.close().await;
    let ms = |q: f64| measured.latency.value_at_quantile(q) as f64 / 1000.0;
    Ok(Run { backend: String::new(), tasks, instances, elapsed: measured.elapsed, p50_ms: ms(0.5), p99_ms: ms(0.99) })
}

pub async fn run(args: Args) -> Result<String> {
    let xml = std::fs::read_to_string(&args.bpmn)
        .with_context(|| format!("cannot read the peer's process {}", args.bpmn.display()))?;
    let instances = args.instances as usize;
    let limit = Duration::from_secs(args.step_timeout_secs);
    eprintln!("processes: {instances} instances of {} per run; tasks {:?}", args.bpmn.display(), args.concurrency);
    let log = if args.count_statements { Some(StatementLog::install()?) } else { None };
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
            eprintln!("SQLite ({}), {tasks} task(s)", scratch.path().display());
            let run = interruptible(one_run(location, &xml, instances, tasks, limit, log.as_ref())).await??;
            scratch.close().context("removing the SQLite scratch folder")?;
            print_statements(log.as_ref(), "SQLite", &run);
            runs.push(Run { backend: "Weft, SQLite".into(), ..run });
        }
        if args.backend.postgres() {
            let db = ScratchPostgres::create(&args.database_url).await?;
            eprintln!("PostgreSQL ({}), {tasks} task(s)", db.shown());
            let location = DatabaseLocation::parse(Some(db.url()), std::path::Path::new("."))
                .map_err(|e| anyhow::anyhow!("scratch database URL: {e}"))?;
            let outcome =
                interruptible(one_run(location, &xml, instances, tasks, limit, log.as_ref())).await.and_then(|r| r);
            let run = db.finish(outcome).await?;
            print_statements(log.as_ref(), "PostgreSQL", &run);
            runs.push(Run { backend: "Weft, PostgreSQL".into(), ..run });
        }
    }
    if let Some(python) = &args.spiff_python {
        let script = spiff_peer::script_beside(&args.bpmn);
        let version = spiff_peer::version(python).await?;
        for serialize in [false, true] {
            let how = if serialize { "JSON after each step" } else { "in memory" };
            eprintln!("SpiffWorkflow {version} ({how}), 1 thread");
            let peer = spiff_peer::run(python, &script, args.instances, serialize).await?;
            runs.push(Run {
                backend: format!("SpiffWorkflow {version} (Python {}), {how}", peer.python),
                tasks: 1,
                instances: peer.instances as usize,
                elapsed: Duration::from_secs_f64(peer.elapsed_s),
                p50_ms: peer.lat_ms_p50,
                p99_ms: peer.lat_ms_p99,
            });
        }
    }
    use Align::{Left, Right};
    let mut table = Table::new(&[
        ("backend", Left),
        ("tasks", Right),
        ("instances", Right),
        ("seconds", Right),
        ("instances/s", Right),
        ("user tasks/s", Right),
        ("p50 ms", Right),
        ("p99 ms", Right),
    ]);
    for r in &runs {
        let secs = r.elapsed.as_secs_f64();
        table.push(vec![
            r.backend.clone(),
            r.tasks.to_string(),
            r.instances.to_string(),
            format!("{secs:.2}"),
            format!("{:.0}", r.instances as f64 / secs),
            format!("{:.0}", 2.0 * r.instances as f64 / secs),
            format!("{:.2}", r.p50_ms),
            format!("{:.2}", r.p99_ms),
        ]);
    }
    Ok(table.to_markdown())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few instances of the peer's process run end to end on SQLite, both branches.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_peer_process_runs_end_to_end() -> Result<()> {
        let path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/weft-process/tests/fixtures/peer_spiff_approval.bpmn");
        let xml = std::fs::read_to_string(path)?;
        let dir = tempfile::tempdir()?;
        let run =
            one_run(DatabaseLocation::Sqlite(dir.path().join("weft.db")), &xml, 6, 2, Duration::from_secs(60), None)
                .await?;
        assert_eq!(run.instances, 6);
        Ok(())
    }
}
