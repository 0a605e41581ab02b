//! `list-1m`: the filtered list on a large table. Loads 1,000,000 purchase orders (3 lines
//! each, the fixture of `records`) across 1,000 suppliers through the façade's
//! `bulk_create` (all or nothing, in chunks), moves a share of them to `confirmed`
//! (quote + confirm), then measures the list a client's screen asks for: one supplier's
//! orders in one state, newest first, a page of 50, and the next page through the cursor.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use hdrhistogram::Histogram;
use uuid::Uuid;
use weft_model::Principal;
use weft_workspace::{BulkMode, BulkRow, DatabaseLocation, ListQuery, Workspace};

use crate::common::{
    BackendChoice, DEFAULT_DATABASE_URL, Rng, ScratchPostgres, concurrently, interruptible, micros, new_histogram,
};
use crate::fixture::{self, CONFIRM, PURCHASE_ORDER, QUOTE, SUPPLIER};
use crate::records::open_workspace;
use crate::report::{self, Align, Table};
use crate::statements::{StatementLog, StatementTotals};
use crate::workload::{ListAnswer, check_page};

const PAGE: u64 = 50;
/// Order dates spread over three years.
const ORDER_DATE_SPAN: usize = 1_095;
const PROGRESS_EVERY: usize = 50_000;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Which database(s) to measure (PostgreSQL is optional: `--backend both`).
    #[arg(long, value_enum, default_value_t = BackendChoice::Sqlite)]
    backend: BackendChoice,
    /// Purchase orders to load.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u32).range(1..=100_000_000))]
    rows: u32,
    /// Suppliers the orders are spread over (evenly).
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    suppliers: u32,
    /// Orders per `bulk_create` call (one all-or-nothing command each).
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    chunk: u32,
    /// Concurrent `bulk_create` calls while loading.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    load_tasks: u32,
    /// Percent of each supplier's orders moved to `confirmed` (quote + confirm).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=100))]
    confirmed_percent: u32,
    /// Queries per measured combination (filter, tasks).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    queries: u32,
    /// Comma-separated numbers of concurrent query tasks.
    #[arg(long, value_delimiter = ',', default_value = "1,8", value_parser = clap::value_parser!(u32).range(1..=512))]
    concurrency: Vec<u32>,
    /// Loading and confirming together must finish within this.
    #[arg(long, default_value_t = 7_200, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    setup_timeout_secs: u64,
    /// PostgreSQL server; a scratch database `weft_bench_<random>` is created on it and
    /// dropped afterwards.
    #[arg(long, env = "WEFT_BENCH_DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    /// Folder for the SQLite scratch files (default: the system temp folder).
    #[arg(long)]
    sqlite_dir: Option<PathBuf>,
    /// Keep the SQLite scratch folder (its path is printed) for inspection.
    #[arg(long)]
    keep: bool,
    /// Run `ANALYZE` after loading, before the queries, as PostgreSQL's autovacuum would
    /// (Weft does not run it; on a server with autovacuum off, or on SQLite, the planner
    /// otherwise has no statistics).
    #[arg(long)]
    analyze: bool,
    /// Count SQL statements per query and where their time goes, and show SQLite's plan
    /// for the list statement (for profiling, not for the record).
    #[arg(long)]
    count_statements: bool,
}

/// The shape of the loaded data, to know what each query must return.
#[derive(Debug, Clone, Copy)]
struct Layout {
    rows: usize,
    suppliers: usize,
    confirmed_percent: usize,
}

impl Layout {
    /// Order `i` goes to supplier `i % suppliers`; it is the supplier's `k`-th order with
    /// `k = i / suppliers`, confirmed when `k % 100 < confirmed_percent`.
    fn confirmed(&self, i: usize) -> bool {
        (i / self.suppliers) % 100 < self.confirmed_percent
    }

    fn orders_of(&self, s: usize) -> usize {
        self.rows / self.suppliers + usize::from(s < self.rows % self.suppliers)
    }

    fn matching(&self, s: usize, state: &str) -> usize {
        let n = self.orders_of(s);
        let confirmed = (n / 100) * self.confirmed_percent + (n % 100).min(self.confirmed_percent);
        if state == "confirmed" { confirmed } else { n - confirmed }
    }
}

struct Setup {
    backend: &'static str,
    steps: Vec<(&'static str, usize, Duration)>,
}

struct QueryRow {
    backend: &'static str,
    state: &'static str,
    matching: usize,
    page: &'static str,
    tasks: usize,
    elapsed: Duration,
    latency: Histogram<u64>,
    /// Statements of the whole combination (both pages), with `--count-statements`.
    statements: Option<StatementTotals>,
}

pub async fn run(args: Args) -> Result<String> {
    let layout = Layout {
        rows: args.rows as usize,
        suppliers: args.suppliers as usize,
        confirmed_percent: args.confirmed_percent as usize,
    };
    eprintln!(
        "list-1m: {} orders (3 lines each) over {} suppliers, {}% confirmed; {} queries per combination, tasks {:?}",
        layout.rows, layout.suppliers, layout.confirmed_percent, args.queries, args.concurrency
    );
    let log = if args.count_statements { Some(StatementLog::install()?) } else { None };
    let mut setups = Vec::new();
    let mut rows = Vec::new();
    let mut plans = Vec::new();
    if args.backend.sqlite() {
        let dir = args.sqlite_dir.clone().unwrap_or_else(std::env::temp_dir);
        let scratch = tempfile::Builder::new()
            .prefix("weft-bench-1m-")
            .tempdir_in(&dir)
            .with_context(|| format!("cannot create a scratch folder in {}", dir.display()))?;
        let file = scratch.path().join("weft.db");
        eprintln!("SQLite ({}), synchronous=full:", scratch.path().display());
        let location = DatabaseLocation::Sqlite(file.clone());
        let (setup, measured, plan) =
            interruptible(one_backend("SQLite", location, &args, layout, log.as_ref())).await??;
        plans.extend(plan);
        if args.keep {
            eprintln!("SQLite: kept {}", scratch.keep().display());
        } else {
            scratch.close().context("removing the SQLite scratch folder")?;
        }
        setups.push(setup);
        rows.extend(measured);
    }
    if args.backend.postgres() {
        let db = ScratchPostgres::create(&args.database_url).await?;
        eprintln!("PostgreSQL ({}):", db.shown());
        let location = DatabaseLocation::parse(Some(db.url()), std::path::Path::new("."))
            .map_err(|e| anyhow::anyhow!("scratch database URL: {e}"))?;
        let outcome =
            interruptible(one_backend("PostgreSQL", location, &args, layout, log.as_ref())).await.and_then(|r| r);
        let (setup, measured, _) = db.finish(outcome).await?;
        setups.push(setup);
        rows.extend(measured);
    }
    let mut out = format!("{}\n{}", query_table(&rows).to_markdown(), setup_table(&setups).to_markdown());
    if let Some(table) = statements_table(&rows) {
        out.push('\n');
        out.push_str(&table.to_markdown());
    }
    for plan in plans {
        out.push('\n');
        out.push_str(&plan);
    }
    Ok(out)
}

/// SQLite's plan for the list statement of the first page, with the values it was run
/// with (supplier, state, limit), as a markdown code block.
async fn sqlite_plan(file: &std::path::Path, sql: &str, supplier: Uuid, state: &str) -> Result<String> {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await
        .with_context(|| format!("opening {} for EXPLAIN", file.display()))?;
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
        .bind(supplier)
        .bind(state)
        .bind(PAGE as i64 + 1)
        .fetch_all(&mut conn)
        .await
        .context("EXPLAIN QUERY PLAN of the list statement")?;
    let _ = conn.close().await;
    let mut out = format!(
        "SQLite's plan for the list statement (first page; supplier {supplier}, state {state}):\n\n```sql\n{sql}\n"
    );
    for (_, _, _, detail) in rows {
        out.push_str(&format!("-- {detail}\n"));
    }
    out.push_str("```\n");
    Ok(out)
}

async fn one_backend(
    backend: &'static str,
    location: DatabaseLocation,
    args: &Args,
    layout: Layout,
    log: Option<&StatementLog>,
) -> Result<(Setup, Vec<QueryRow>, Option<String>)> {
    let workspace = open_workspace(location.clone()).await?;
    let outcome = load_and_query(backend, &workspace, args, layout, log, &location).await;
    workspace.close().await;
    outcome
}

/// `ANALYZE` through a connection of the benchmark's own: what PostgreSQL's autovacuum
/// does after a bulk load when it is on (Weft itself never runs it).
async fn analyze(location: &DatabaseLocation) -> Result<Duration> {
    use sqlx::{ConnectOptions, Connection};
    let began = Instant::now();
    match location {
        DatabaseLocation::Sqlite(file) => {
            let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(file)
                .busy_timeout(Duration::from_secs(30))
                .connect()
                .await
                .with_context(|| format!("opening {} for ANALYZE", file.display()))?;
            sqlx::query("ANALYZE").execute(&mut conn).await.context("ANALYZE on SQLite")?;
            let _ = conn.close().await;
        }
        DatabaseLocation::Postgres(url) => {
            let options: sqlx::postgres::PgConnectOptions =
                url.as_str().parse().context("the scratch database URL for ANALYZE")?;
            let mut conn = crate::common::connect_postgres(&options, "the scratch database").await?;
            sqlx::query("ANALYZE").execute(&mut conn).await.context("ANALYZE on PostgreSQL")?;
            let _ = conn.close().await;
        }
    }
    Ok(began.elapsed())
}

async fn load_and_query(
    backend: &'static str,
    workspace: &Workspace,
    args: &Args,
    layout: Layout,
    log: Option<&StatementLog>,
    location: &DatabaseLocation,
) -> Result<(Setup, Vec<QueryRow>, Option<String>)> {
    let principal = crate::common::employee(workspace).await?;
    let limit = Duration::from_secs(args.setup_timeout_secs);
    let deadline = Instant::now() + limit;
    let remaining = || deadline.saturating_duration_since(Instant::now()).max(Duration::from_secs(1));
    let mut steps = Vec::new();

    // Suppliers, one command each.
    let (ws, p) = (workspace.clone(), principal.clone());
    let created = concurrently(8, layout.suppliers, remaining(), move |i| {
        let (ws, p) = (ws.clone(), p.clone());
        async move {
            match ws.create(&p, SUPPLIER, fixture::supplier_input(i), None).await? {
                weft_workspace::Created::Fresh(view) => Ok(view.system.id),
                weft_workspace::Created::Replayed(_) => bail!("unexpected replay"),
            }
        }
    })
    .await?;
    steps.push(("suppliers (create)", layout.suppliers, created.elapsed));
    let suppliers = Arc::new(created.results);

    // Orders, in all-or-nothing chunks; keeps the ids of those to confirm.
    let chunk = args.chunk as usize;
    let chunks = layout.rows.div_ceil(chunk);
    let loaded = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let (ws, p, s, counter) = (workspace.clone(), principal.clone(), suppliers.clone(), loaded.clone());
    let bulk = concurrently(args.load_tasks as usize, chunks, remaining(), move |c| {
        let (ws, p, s, counter) = (ws.clone(), p.clone(), s.clone(), counter.clone());
        async move {
            let range = c * chunk..((c + 1) * chunk).min(layout.rows);
            let inputs =
                range.clone().map(|i| fixture::purchase_input(i, s[i % layout.suppliers], ORDER_DATE_SPAN)).collect();
            let created = ws.bulk_create(&p, PURCHASE_ORDER, inputs, BulkMode::AllOrNothing).await?;
            ensure!(created.len() == range.len(), "bulk_create answered {} rows for {}", created.len(), range.len());
            let mut to_confirm = Vec::new();
            for (i, row) in range.clone().zip(created) {
                match row {
                    BulkRow::Created(view) if layout.confirmed(i) => to_confirm.push(view.system.id),
                    BulkRow::Created(_) => {}
                    BulkRow::Failed(e) => return Err(anyhow::Error::from(e).context(format!("order {i}"))),
                }
            }
            let before = counter.fetch_add(range.len(), Ordering::Relaxed);
            progress("loaded", before, range.len(), layout.rows, started);
            Ok(to_confirm)
        }
    })
    .await?;
    steps.push(("orders (bulk_create, 3 lines each)", layout.rows, bulk.elapsed));
    let to_confirm: Arc<Vec<Uuid>> = Arc::new(bulk.results.into_iter().flatten().collect());

    // Quote + confirm the chosen share.
    let moved = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let total = to_confirm.len();
    let (ws, p, ids, counter) = (workspace.clone(), principal.clone(), to_confirm.clone(), moved.clone());
    let confirmed = concurrently(8, total, remaining(), move |i| {
        let (ws, p, ids, counter) = (ws.clone(), p.clone(), ids.clone(), counter.clone());
        async move {
            ws.transition(&p, PURCHASE_ORDER, ids[i], QUOTE, None, Default::default()).await?;
            ws.transition(&p, PURCHASE_ORDER, ids[i], CONFIRM, None, Default::default()).await?;
            progress("confirmed", counter.fetch_add(1, Ordering::Relaxed), 1, total, started);
            Ok(())
        }
    })
    .await?;
    steps.push(("orders confirmed (quote + confirm)", total, confirmed.elapsed));
    if args.analyze {
        let took = analyze(location).await?;
        eprintln!("  ANALYZE in {:.1}s", took.as_secs_f64());
        steps.push(("ANALYZE (--analyze)", 1, took));
    }

    // The queries.
    let loaded = Loaded { backend, workspace: workspace.clone(), principal, suppliers, layout };
    let mut rows = Vec::new();
    for state in ["confirmed", "draft"] {
        for &tasks in &args.concurrency {
            rows.extend(measure_queries(&loaded, state, tasks as usize, args.queries as usize, log).await?);
        }
    }
    let mut plan = None;
    if let DatabaseLocation::Sqlite(file) = location {
        let sample = rows.iter().find_map(|r| r.statements.as_ref()?.sample("SELECT r_purchase_order"));
        if let (Some(sql), Some(supplier)) = (sample, loaded.suppliers.first()) {
            plan = Some(sqlite_plan(file, sql, *supplier, "confirmed").await?);
        }
    }
    Ok((Setup { backend, steps }, rows, plan))
}

fn progress(what: &str, before: usize, added: usize, total: usize, started: Instant) {
    let after = before + added;
    if after / PROGRESS_EVERY != before / PROGRESS_EVERY || after == total {
        let secs = started.elapsed().as_secs_f64();
        eprintln!("  {what} {after}/{total} in {secs:.0}s ({:.0}/s)", after as f64 / secs.max(1e-9));
    }
}

/// A loaded database, ready for queries.
struct Loaded {
    backend: &'static str,
    workspace: Workspace,
    principal: Principal,
    suppliers: Arc<Vec<Uuid>>,
    layout: Layout,
}

async fn measure_queries(
    loaded: &Loaded,
    state: &'static str,
    tasks: usize,
    queries: usize,
    log: Option<&StatementLog>,
) -> Result<Vec<QueryRow>> {
    let (backend, layout) = (loaded.backend, loaded.layout);
    eprintln!("  queries: state = {state}, {tasks} task(s) …");
    if let Some(log) = log {
        log.take();
    }
    let (ws, p, s) = (loaded.workspace.clone(), loaded.principal.clone(), loaded.suppliers.clone());
    let limit = Duration::from_secs(600);
    let measured = concurrently(tasks, queries, limit, move |q| {
        let (ws, p, s) = (ws.clone(), p.clone(), s.clone());
        async move {
            let supplier = Rng::new(q as u64 + 1).below(layout.suppliers);
            let matching = layout.matching(supplier, state);
            let mut query = ListQuery {
                filter: Some(fixture::list_filter(s[supplier], state)),
                sort: Some(fixture::LIST_SORT.to_owned()),
                limit: Some(PAGE),
                ..ListQuery::default()
            };
            let began = Instant::now();
            let first = ws.list(&p, PURCHASE_ORDER, &query).await?;
            let first_micros = micros(began.elapsed());
            let first = answer(&first);
            check_page(&first, matching.min(PAGE as usize), state)?;
            let Some(cursor) = first.next_cursor.clone() else {
                ensure!(matching <= PAGE as usize, "no cursor although {matching} rows match");
                return Ok((first_micros, None));
            };
            query.cursor = Some(cursor);
            let began = Instant::now();
            let second = ws.list(&p, PURCHASE_ORDER, &query).await?;
            let second_micros = micros(began.elapsed());
            let second = answer(&second);
            check_page(&second, (matching - PAGE as usize).min(PAGE as usize), state)?;
            ensure!(
                second.rows.first().map(|r| &r.1) <= first.rows.last().map(|r| &r.1),
                "the second page does not follow the first"
            );
            Ok((first_micros, Some(second_micros)))
        }
    })
    .await?;
    let statements = log.map(StatementLog::take);
    let mut first = new_histogram()?;
    let mut second = new_histogram()?;
    for (a, b) in &measured.results {
        first.saturating_record(*a);
        if let Some(b) = b {
            second.saturating_record(*b);
        }
    }
    // Supplier 0 stands for all: with even spreading they differ by at most one order.
    let matching = layout.matching(0, state);
    let mut out = vec![QueryRow {
        backend,
        state,
        matching,
        page: "1st (50 rows)",
        tasks,
        elapsed: measured.elapsed,
        latency: first,
        statements,
    }];
    if !second.is_empty() {
        out.push(QueryRow {
            backend,
            state,
            matching,
            page: "2nd (cursor)",
            tasks,
            elapsed: measured.elapsed,
            latency: second,
            statements: None,
        });
    }
    Ok(out)
}

fn answer(page: &weft_workspace::Page) -> ListAnswer {
    ListAnswer {
        rows: page
            .records
            .iter()
            .map(|r| {
                let date = match r.values.get("order_date") {
                    Some(weft_model::schema::Value::Date(d)) => d.to_string(),
                    _ => String::new(),
                };
                (r.system.state.clone().unwrap_or_default(), date)
            })
            .collect(),
        next_cursor: page.next_cursor.clone(),
    }
}

fn query_table(rows: &[QueryRow]) -> Table {
    let mut table = Table::new(&[
        ("Backend", Align::Left),
        ("Filter", Align::Left),
        ("Matching rows", Align::Right),
        ("Page", Align::Left),
        ("Tasks", Align::Right),
        ("Queries", Align::Right),
        ("Pages/s", Align::Right),
        ("p50 ms", Align::Right),
        ("p99 ms", Align::Right),
        ("max ms", Align::Right),
    ]);
    for r in rows {
        // Both pages of a query share its wall time; pages/s counts both.
        let pages = r.latency.len();
        table.push(vec![
            r.backend.to_owned(),
            format!("supplier = …, state = \"{}\"", r.state),
            report::thousands(r.matching as u64),
            r.page.to_owned(),
            r.tasks.to_string(),
            report::thousands(pages),
            report::rate(pages as f64 / r.elapsed.as_secs_f64().max(1e-9)),
            report::micros_as_ms(r.latency.value_at_quantile(0.50)),
            report::micros_as_ms(r.latency.value_at_quantile(0.99)),
            report::micros_as_ms(r.latency.max()),
        ]);
    }
    table
}

/// Statements per query (both pages) of each combination, with `--count-statements`.
fn statements_table(rows: &[QueryRow]) -> Option<Table> {
    let mut table = Table::new(&[
        ("Backend", Align::Left),
        ("Filter", Align::Left),
        ("Tasks", Align::Right),
        ("Statement", Align::Left),
        ("Per query", Align::Right),
        ("µs each", Align::Right),
    ]);
    let mut any = false;
    for r in rows {
        let Some(totals) = &r.statements else { continue };
        any = true;
        let queries = r.latency.len().max(1) as f64;
        for (i, (shape, count, seconds)) in totals.top(4).into_iter().enumerate() {
            let first = i == 0;
            table.push(vec![
                if first { r.backend.to_owned() } else { String::new() },
                if first { format!("state = \"{}\"", r.state) } else { String::new() },
                if first { r.tasks.to_string() } else { String::new() },
                shape,
                format!("{:.2}", count as f64 / queries),
                format!("{:.0}", seconds * 1e6 / count.max(1) as f64),
            ]);
        }
    }
    any.then_some(table)
}

fn setup_table(setups: &[Setup]) -> Table {
    let mut table = Table::new(&[
        ("Backend", Align::Left),
        ("Setup step", Align::Left),
        ("Records", Align::Right),
        ("Seconds", Align::Right),
        ("Records/s", Align::Right),
    ]);
    for s in setups {
        for (step, n, elapsed) in &s.steps {
            let counted = !step.starts_with("ANALYZE");
            table.push(vec![
                s.backend.to_owned(),
                (*step).to_owned(),
                if counted { report::thousands(*n as u64) } else { String::from("-") },
                format!("{:.1}", elapsed.as_secs_f64()),
                if counted { report::rate(*n as f64 / elapsed.as_secs_f64().max(1e-9)) } else { String::from("-") },
            ]);
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_counts_match_the_loader() {
        let layout = Layout { rows: 10_050, suppliers: 100, confirmed_percent: 10 };
        for s in [0, 49, 50, 99] {
            let mine: Vec<usize> = (0..layout.rows).filter(|i| i % layout.suppliers == s).collect();
            let confirmed = mine.iter().filter(|i| layout.confirmed(**i)).count();
            assert_eq!(layout.orders_of(s), mine.len());
            assert_eq!(layout.matching(s, "confirmed"), confirmed);
            assert_eq!(layout.matching(s, "draft"), mine.len() - confirmed);
        }
    }
}
