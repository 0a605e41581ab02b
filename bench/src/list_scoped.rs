//! `list-scoped`: lists under access predicates on a large table. Loads 1,000,000 work
//! orders (a plain type, no lines) through the façade's `bulk_create` as the system
//! principal, spread over 1,000 parties and an org tree of 64 units (root, 3 divisions,
//! 12 departments, 48 teams), then measures `Workspace::list` as real principals whose
//! roles compile to the access predicates a screen carries: a guest of one party (`party`
//! scope) and members of a division, a department and a team (`unit_tree` scope, with
//! 21, 5 and 1 of the 64 units, so ~33%, ~8% and ~1.6% of the rows, below them). One query
//! is the first page of 50 and the next page through the cursor; every page is checked
//! against the loaded layout, row by row. A combination stops starting queries after
//! `--step-budget-secs`, so a slow scope is measured on fewer queries instead of failing
//! the run (the table's Queries column says how many ran).

use std::cmp::Ordering as CmpOrdering;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use hdrhistogram::Histogram;
use sea_query::{Alias, Expr, Query};
use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;
use uuid::Uuid;
use weft_model::Principal;
use weft_model::access::RoleDef;
use weft_model::schema::ObjectTypeDecl;
use weft_store::StoreOptions;
use weft_store::records::codec::{opt_uuid, uuid as uuid_value};
use weft_workspace::{BulkMode, BulkRow, DatabaseLocation, DeclareOptions, ListQuery, Page, Workspace};

use crate::common::{
    BackendChoice, DEFAULT_DATABASE_URL, Rng, ScratchPostgres, concurrently, interruptible, micros, new_histogram,
};
use crate::report::{self, Align, Table};
use crate::statements::{StatementLog, StatementTotals};

const TYPE: &str = "work_order";
/// The statement shape (see `statements.rs`) of the list statement.
const LIST_SHAPE: &str = "SELECT r_work_order";
const PAGE: u64 = 50;
/// Pages checked per query: the first and the one after it.
const CHECKED: usize = 2 * PAGE as usize;
const PROGRESS_EVERY: usize = 100_000;
/// The org tree: one root, `DIVISIONS` below it, `DEPARTMENTS` below each division and
/// `TEAMS` below each department (64 units in 4 levels).
const DIVISIONS: usize = 3;
const DEPARTMENTS: usize = 4;
const TEAMS: usize = 4;
const GUEST_ROLE: &str = "portal";
const MEMBER_ROLE: &str = "dept_reader";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Order {
    /// `sort=-created_at`: newest first, what a list screen shows.
    Newest,
    /// No `sort`: the façade's default order (creation, oldest first).
    Oldest,
}

impl Order {
    fn sort(self) -> Option<String> {
        match self {
            Order::Newest => Some("-created_at".into()),
            Order::Oldest => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Order::Newest => "-created_at",
            Order::Oldest => "(default)",
        }
    }

    /// The order the store promises: the sort key, then the id in the same direction.
    fn cmp(self, a: &(OffsetDateTime, Uuid), b: &(OffsetDateTime, Uuid)) -> CmpOrdering {
        match self {
            Order::Newest => (b.0, b.1).cmp(&(a.0, a.1)),
            Order::Oldest => (a.0, a.1).cmp(&(b.0, b.1)),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Which database(s) to measure (PostgreSQL is optional: `--backend both`).
    #[arg(long, value_enum, default_value_t = BackendChoice::Sqlite)]
    backend: BackendChoice,
    /// Work orders to load.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u32).range(1..=100_000_000))]
    rows: u32,
    /// Parties the work orders are spread over (evenly); each has one guest.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    parties: u32,
    /// Work orders per `bulk_create` call (one all-or-nothing command each).
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    chunk: u32,
    /// Concurrent `bulk_create` calls while loading.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    load_tasks: u32,
    /// Queries (first page + next page) per measured combination (scope, tasks).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    queries: u32,
    /// Comma-separated numbers of concurrent query tasks.
    #[arg(long, value_delimiter = ',', default_value = "1,8", value_parser = clap::value_parser!(u32).range(1..=512))]
    concurrency: Vec<u32>,
    /// The order of the list: newest first (`sort=-created_at`) or the default order.
    #[arg(long, value_enum, default_value_t = Order::Newest)]
    order: Order,
    /// Loading must finish within this.
    #[arg(long, default_value_t = 7_200, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    setup_timeout_secs: u64,
    /// Each measured combination starts no new query after this many seconds (fewer than
    /// `--queries` then run; the table shows how many did).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    step_budget_secs: u64,
    /// Unmeasured queries (first and next page) before each scope's measured ones, so the
    /// figures are those of a server whose statements are prepared: SQLite and PostgreSQL
    /// prepare a statement once per pooled connection (a division's 21-arm list costs ~2 ms
    /// to prepare on SQLite), and a running server has done so long before. 0 measures
    /// cold connections too.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    warmup: u32,
    /// Each measured combination must finish within this (a hard limit: the run fails).
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    step_timeout_secs: u64,
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
    /// Count SQL statements per query and where their time goes (for profiling, not for
    /// the record); implies `--explain`.
    #[arg(long)]
    count_statements: bool,
    /// After measuring, print the plan of each scope's list statements (first and next
    /// page): SQLite's `EXPLAIN QUERY PLAN`; PostgreSQL's `EXPLAIN (ANALYZE, BUFFERS)`, for
    /// the custom plan and for the generic plan a cached prepared statement may switch to.
    #[arg(long)]
    explain: bool,
}

/// One unit of the org tree.
#[derive(Debug, Clone)]
struct Unit {
    id: Uuid,
    name: String,
    parent: Option<usize>,
    level: Level,
    /// Itself and every unit below it (indexes into the tree).
    subtree: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Division,
    Department,
    Team,
}

fn org_tree() -> Vec<Unit> {
    let mut units =
        vec![Unit { id: Uuid::now_v7(), name: "Company".into(), parent: None, level: Level::Root, subtree: vec![] }];
    for d in 0..DIVISIONS {
        let division = units.len();
        units.push(Unit {
            id: Uuid::now_v7(),
            name: format!("Division {d}"),
            parent: Some(0),
            level: Level::Division,
            subtree: vec![],
        });
        for p in 0..DEPARTMENTS {
            let department = units.len();
            units.push(Unit {
                id: Uuid::now_v7(),
                name: format!("Department {d}.{p}"),
                parent: Some(division),
                level: Level::Department,
                subtree: vec![],
            });
            for t in 0..TEAMS {
                units.push(Unit {
                    id: Uuid::now_v7(),
                    name: format!("Team {d}.{p}.{t}"),
                    parent: Some(department),
                    level: Level::Team,
                    subtree: vec![],
                });
            }
        }
    }
    // Each unit belongs to its own subtree and to those of all its ancestors.
    for u in 0..units.len() {
        let mut at = Some(u);
        while let Some(a) = at {
            units[a].subtree.push(u);
            at = units[a].parent;
        }
    }
    units
}

/// Where row `i` goes: party `i % parties`, and a unit picked by a hash of `i`, so every
/// unit holds about the same number of rows and parties and units are not correlated.
#[derive(Debug, Clone, Copy)]
struct Layout {
    rows: usize,
    parties: usize,
    units: usize,
}

impl Layout {
    fn party_of(&self, i: usize) -> usize {
        i % self.parties
    }

    fn unit_of(&self, i: usize) -> usize {
        // splitmix64's finaliser.
        let mut x = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        (x % self.units as u64) as usize
    }
}

fn input(i: usize, layout: &Layout, parties: &[Uuid], units: &[Unit]) -> Map<String, Json> {
    let priorities = ["low", "normal", "high", "urgent"];
    let value = json!({
        "subject": format!("Work order {i:07}"),
        "amount": ((i as u64).wrapping_mul(7_919) % 100_000) as i64,
        "priority": priorities[i % priorities.len()],
        "party": parties[layout.party_of(i)].to_string(),
        "unit": units[layout.unit_of(i)].id.to_string(),
    });
    match value {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

fn declaration() -> Result<ObjectTypeDecl> {
    let label = |en: &str| json!({ "en": en, "zh": en });
    let option = |v: &str| json!({ "value": v, "label": label(v) });
    let decl = json!({
        "name": TYPE,
        "label": label("Work order"),
        "title_field": "subject",
        "fields": [
            { "name": "subject", "label": label("Subject"), "type": "text", "max_length": 200, "required": true },
            { "name": "amount", "label": label("Amount"), "type": "integer", "indexed": true },
            { "name": "priority", "label": label("Priority"), "type": "select",
              "options": [option("low"), option("normal"), option("high"), option("urgent")] }
        ]
    });
    serde_json::from_value(decl).map_err(|e| anyhow!("the work order declaration does not parse: {e}"))
}

fn roles() -> Result<Vec<RoleDef>> {
    let guest = json!({
        "name": GUEST_ROLE, "for_guests": true,
        "grants": [{ "type": TYPE, "actions": ["read"], "scope": "party" }]
    });
    let member = json!({
        "name": MEMBER_ROLE,
        "grants": [{ "type": TYPE, "actions": ["read"], "scope": "unit_tree" }]
    });
    [guest, member]
        .into_iter()
        .map(|r| serde_json::from_value(r).map_err(|e| anyhow!("a bench role does not parse: {e}")))
        .collect()
}

/// Which principals a combination queries as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Party,
    Division,
    Department,
    Team,
}

const SCOPES: [Scope; 4] = [Scope::Party, Scope::Division, Scope::Department, Scope::Team];

impl Scope {
    fn label(self) -> &'static str {
        match self {
            Scope::Party => "party (guest)",
            Scope::Division => "unit tree: division",
            Scope::Department => "unit tree: department",
            Scope::Team => "unit tree: team (leaf)",
        }
    }

    fn level(self) -> Option<Level> {
        match self {
            Scope::Party => None,
            Scope::Division => Some(Level::Division),
            Scope::Department => Some(Level::Department),
            Scope::Team => Some(Level::Team),
        }
    }
}

/// A principal to query as, with what its first two pages must hold.
#[derive(Debug, Clone)]
struct Viewer {
    principal: Principal,
    /// The party (guests) or the units (members) its predicate names, for `--explain`.
    party: Option<Uuid>,
    units: Vec<Uuid>,
    /// Rows in its scope.
    in_scope: usize,
    /// The ids of the first `CHECKED` rows in list order.
    expected: Vec<Uuid>,
}

struct Setup {
    backend: &'static str,
    steps: Vec<(&'static str, usize, Duration)>,
}

struct QueryRow {
    backend: &'static str,
    scope: Scope,
    /// Mean rows in scope over the scope's principals.
    in_scope: f64,
    page: &'static str,
    tasks: usize,
    elapsed: Duration,
    /// Pages (first and next) the combination fetched in `elapsed`.
    pages: u64,
    latency: Histogram<u64>,
    statements: Option<StatementTotals>,
}

pub async fn run(args: Args) -> Result<String> {
    let units = org_tree();
    let layout = Layout { rows: args.rows as usize, parties: args.parties as usize, units: units.len() };
    eprintln!(
        "list-scoped: {} work orders over {} parties and {} org units; order {}; {} queries per combination, tasks {:?}",
        layout.rows,
        layout.parties,
        layout.units,
        args.order.label(),
        args.queries,
        args.concurrency
    );
    // Counting statements slows every query a little, so `--explain` alone installs the
    // counter only after the measurements.
    let log = if args.count_statements { Some(statement_log()?) } else { None };
    let mut setups = Vec::new();
    let mut rows = Vec::new();
    let mut plans = Vec::new();
    if args.backend.sqlite() {
        let dir = args.sqlite_dir.clone().unwrap_or_else(std::env::temp_dir);
        let scratch = tempfile::Builder::new()
            .prefix("weft-bench-scoped-")
            .tempdir_in(&dir)
            .with_context(|| format!("cannot create a scratch folder in {}", dir.display()))?;
        let file = scratch.path().join("weft.db");
        eprintln!("SQLite ({}), synchronous=full:", scratch.path().display());
        let location = DatabaseLocation::Sqlite(file.clone());
        let (setup, measured, plan) =
            interruptible(one_backend("SQLite", location, &args, layout, units.clone(), log)).await??;
        if args.keep {
            eprintln!("SQLite: kept {}", scratch.keep().display());
        } else {
            scratch.close().context("removing the SQLite scratch folder")?;
        }
        setups.push(setup);
        rows.extend(measured);
        plans.extend(plan);
    }
    if args.backend.postgres() {
        let db = ScratchPostgres::create(&args.database_url).await?;
        eprintln!("PostgreSQL ({}):", db.shown());
        let location = DatabaseLocation::parse(Some(db.url()), Path::new("."))
            .map_err(|e| anyhow!("scratch database URL: {e}"))?;
        let outcome =
            interruptible(one_backend("PostgreSQL", location, &args, layout, units.clone(), log)).await.and_then(|r| r);
        let (setup, measured, plan) = db.finish(outcome).await?;
        setups.push(setup);
        rows.extend(measured);
        plans.extend(plan);
    }
    let mut out = format!("{}\n{}", query_table(&rows, layout).to_markdown(), setup_table(&setups).to_markdown());
    if args.count_statements
        && let Some(table) = statements_table(&rows)
    {
        out.push('\n');
        out.push_str(&table.to_markdown());
    }
    for plan in plans {
        out.push('\n');
        out.push_str(&plan);
    }
    Ok(out)
}

async fn one_backend(
    backend: &'static str,
    location: DatabaseLocation,
    args: &Args,
    layout: Layout,
    units: Vec<Unit>,
    log: Option<&'static StatementLog>,
) -> Result<(Setup, Vec<QueryRow>, Vec<String>)> {
    let workspace = open_workspace(location.clone()).await?;
    let outcome = load_and_query(backend, &workspace, args, layout, units, log, &location).await;
    workspace.close().await;
    outcome
}

/// The process's statement counter, installed on first use (a tracing subscriber can be
/// installed once).
fn statement_log() -> Result<&'static StatementLog> {
    static LOG: std::sync::OnceLock<StatementLog> = std::sync::OnceLock::new();
    if let Some(log) = LOG.get() {
        return Ok(log);
    }
    let log = StatementLog::install()?;
    Ok(LOG.get_or_init(|| log))
}

/// A migrated workspace with the work order type declared.
async fn open_workspace(location: DatabaseLocation) -> Result<Workspace> {
    let shown = location.redacted();
    let workspace =
        Workspace::connect(&StoreOptions::new(location)).await.with_context(|| format!("connecting to {shown}"))?;
    workspace.migrate().await.context("migrating the scratch database")?;
    let options = DeclareOptions { app: "bench".into(), ..DeclareOptions::default() };
    let plans = workspace
        .declare_types(&Principal::system(), vec![declaration()?], &options)
        .await
        .context("declaring the work order type")?;
    ensure!(plans.iter().all(|p| p.applied), "the work order type was not declared");
    Ok(workspace)
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

fn progress(what: &str, before: usize, added: usize, total: usize, started: Instant) {
    let after = before + added;
    if after / PROGRESS_EVERY != before / PROGRESS_EVERY || after == total {
        let secs = started.elapsed().as_secs_f64();
        eprintln!("  {what} {after}/{total} in {secs:.0}s ({:.0}/s)", after as f64 / secs.max(1e-9));
    }
}

async fn load_and_query(
    backend: &'static str,
    workspace: &Workspace,
    args: &Args,
    layout: Layout,
    units: Vec<Unit>,
    log: Option<&StatementLog>,
    location: &DatabaseLocation,
) -> Result<(Setup, Vec<QueryRow>, Vec<String>)> {
    let system = Principal::system();
    let limit = Duration::from_secs(args.setup_timeout_secs);
    let deadline = Instant::now() + limit;
    let remaining = || deadline.saturating_duration_since(Instant::now()).max(Duration::from_secs(1));
    let mut steps = Vec::new();

    // Roles, the org tree, one guest per party and one member per unit below the root.
    let began = Instant::now();
    for role in roles()? {
        workspace.put_role(&system, role).await.context("putting a bench role")?;
    }
    let parties: Arc<Vec<Uuid>> = Arc::new((0..layout.parties).map(|_| Uuid::now_v7()).collect());
    let people = add_people(workspace, &units, &parties).await?;
    steps.push(("roles, org units, principals", people.guests.len() + people.members.len(), began.elapsed()));

    // Work orders, in all-or-nothing chunks; keeps each row's creation time and id.
    let chunk = args.chunk as usize;
    let chunks = layout.rows.div_ceil(chunk);
    let loaded = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let units_arc = Arc::new(units.clone());
    let (ws, s, p, u, counter) = (workspace.clone(), system.clone(), parties.clone(), units_arc, loaded.clone());
    let bulk = concurrently(args.load_tasks as usize, chunks, remaining(), move |c| {
        let (ws, s, p, u, counter) = (ws.clone(), s.clone(), p.clone(), u.clone(), counter.clone());
        async move {
            let range = c * chunk..((c + 1) * chunk).min(layout.rows);
            let inputs = range.clone().map(|i| input(i, &layout, &p, &u)).collect();
            let created = ws.bulk_create(&s, TYPE, inputs, BulkMode::AllOrNothing).await?;
            ensure!(created.len() == range.len(), "bulk_create answered {} rows for {}", created.len(), range.len());
            let mut out = Vec::with_capacity(range.len());
            for (i, row) in range.clone().zip(created) {
                match row {
                    BulkRow::Created(view) => {
                        ensure!(
                            view.system.party == Some(p[layout.party_of(i)])
                                && view.system.unit == Some(u[layout.unit_of(i)].id),
                            "row {i} was not created with its party and unit"
                        );
                        out.push((view.system.created_at, view.system.id));
                    }
                    BulkRow::Failed(e) => return Err(anyhow::Error::from(e).context(format!("row {i}"))),
                }
            }
            let before = counter.fetch_add(range.len(), Ordering::Relaxed);
            progress("loaded", before, range.len(), layout.rows, started);
            Ok(out)
        }
    })
    .await?;
    steps.push(("work orders (bulk_create)", layout.rows, bulk.elapsed));
    let created: Vec<(OffsetDateTime, Uuid)> = bulk.results.into_iter().flatten().collect();
    ensure!(created.len() == layout.rows, "loaded {} rows, expected {}", created.len(), layout.rows);
    if args.analyze {
        let took = analyze(location).await?;
        eprintln!("  ANALYZE in {:.1}s", took.as_secs_f64());
        steps.push(("ANALYZE (--analyze)", 1, took));
    }

    let viewers = expectations(&created, layout, &units, &parties, &people, args.order);
    drop(created);

    let mut rows = Vec::new();
    for scope in SCOPES {
        let Some(list) = viewers.iter().find(|(s, _)| *s == scope).map(|(_, v)| v.clone()) else { continue };
        for &tasks in &args.concurrency {
            let timeout = Duration::from_secs(args.step_timeout_secs);
            rows.extend(measure(backend, workspace, scope, list.clone(), args, tasks as usize, timeout, log).await?);
        }
    }
    let mut plans = Vec::new();
    if args.explain || args.count_statements {
        let log = statement_log()?;
        for (scope, list) in &viewers {
            if let Some(viewer) = list.first() {
                // A plan that cannot be shown must not cost the measured figures.
                match explain(backend, workspace, location, *scope, viewer, args.order, log).await {
                    Ok(plan) => plans.push(plan),
                    Err(e) => eprintln!("  (no plan for {scope:?}: {e:#})"),
                }
            }
        }
    }
    Ok((Setup { backend, steps }, rows, plans))
}

struct People {
    /// One guest per party, in party order.
    guests: Vec<Principal>,
    /// Members, each with its primary unit (an index into the tree).
    members: Vec<(Principal, usize)>,
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// Writes the org units, principals, their roles and memberships straight into the kernel
/// tables in one transaction (as `weft_testkit::people` does one at a time), then reloads
/// the directory once.
async fn add_people(workspace: &Workspace, units: &[Unit], parties: &[Uuid]) -> Result<People> {
    let guests: Vec<Principal> = parties.iter().map(|p| Principal::guest(Uuid::now_v7(), *p)).collect();
    let members: Vec<(Principal, usize)> = (0..units.len())
        .filter(|u| units[*u].level != Level::Root)
        .map(|u| (Principal::member(Uuid::now_v7()), u))
        .collect();
    let unit_rows: Vec<(Uuid, String, Option<Uuid>)> =
        units.iter().map(|u| (u.id, u.name.clone(), u.parent.map(|p| units[p].id))).collect();
    let guest_rows: Vec<(Uuid, Option<Uuid>)> = guests.iter().map(|g| (g.id, g.party())).collect();
    let member_rows: Vec<(Uuid, Uuid)> = members.iter().map(|(m, u)| (m.id, units[*u].id)).collect();
    workspace
        .database()
        .write(move |tx| {
            Box::pin(async move {
                let at = weft_store::timestamp(tx.backend(), weft_store::now());
                // Parents before children: the tree is built in that order, one row at a time.
                for (id, name, parent) in &unit_rows {
                    let insert = Query::insert()
                        .into_table(a("org_units"))
                        .columns(["id", "name", "parent_id", "created_at", "updated_at"].map(a))
                        .values_panic([
                            Expr::val(uuid_value(*id)).into(),
                            name.clone().into(),
                            Expr::val(opt_uuid(*parent)).into(),
                            Expr::val(at.clone()).into(),
                            Expr::val(at.clone()).into(),
                        ])
                        .to_owned();
                    tx.execute(&insert).await?;
                }
                let people: Vec<(Uuid, Option<Uuid>)> =
                    guest_rows.iter().copied().chain(member_rows.iter().map(|(id, _)| (*id, None))).collect();
                for batch in people.chunks(500) {
                    let mut insert = Query::insert();
                    insert.into_table(a("principals")).columns(
                        ["id", "kind", "login", "display_name", "party_id", "status", "created_at", "updated_at"]
                            .map(a),
                    );
                    for (id, party) in batch {
                        insert.values_panic([
                            Expr::val(uuid_value(*id)).into(),
                            (if party.is_some() { "guest" } else { "member" }).into(),
                            format!("bench-{id}").into(),
                            format!("Bench person {id}").into(),
                            Expr::val(opt_uuid(*party)).into(),
                            "active".into(),
                            Expr::val(at.clone()).into(),
                            Expr::val(at.clone()).into(),
                        ]);
                    }
                    tx.execute(&insert).await?;
                }
                for (id, party) in &people {
                    let role = if party.is_some() { GUEST_ROLE } else { MEMBER_ROLE };
                    weft_store::kernel::access::set_holdings(tx, *id, &[role.to_owned()]).await?;
                }
                for (principal, unit) in &member_rows {
                    let insert = Query::insert()
                        .into_table(a("unit_members"))
                        .columns(["unit_id", "principal_id", "is_primary"].map(a))
                        .values_panic([
                            Expr::val(uuid_value(*unit)).into(),
                            Expr::val(uuid_value(*principal)).into(),
                            true.into(),
                        ])
                        .to_owned();
                    tx.execute(&insert).await?;
                }
                Ok::<_, weft_workspace::Error>(())
            })
        })
        .await
        .context("writing org units and principals")?;
    workspace.reload_directory().await.context("reloading the directory")?;
    Ok(People { guests, members })
}

/// What each principal's first two pages must hold, from the rows as they were created.
fn expectations(
    created: &[(OffsetDateTime, Uuid)],
    layout: Layout,
    units: &[Unit],
    parties: &[Uuid],
    people: &People,
    order: Order,
) -> Vec<(Scope, Vec<Viewer>)> {
    // Row indexes per party and per unit.
    let mut by_party: Vec<Vec<u32>> = vec![Vec::new(); layout.parties];
    let mut by_unit: Vec<Vec<u32>> = vec![Vec::new(); layout.units];
    for i in 0..created.len() {
        by_party[layout.party_of(i)].push(i as u32);
        by_unit[layout.unit_of(i)].push(i as u32);
    }
    let top = |rows: &mut Vec<u32>| -> Vec<u32> {
        rows.sort_unstable_by(|x, y| order.cmp(&created[*x as usize], &created[*y as usize]));
        rows.iter().take(CHECKED).copied().collect()
    };
    let unit_tops: Vec<Vec<u32>> = by_unit.iter_mut().map(&top).collect();
    let ids = |rows: &[u32]| rows.iter().map(|i| created[*i as usize].1).collect::<Vec<_>>();

    let mut out = Vec::new();
    let guests: Vec<Viewer> = people
        .guests
        .iter()
        .enumerate()
        .map(|(p, guest)| {
            let in_scope = by_party[p].len();
            let first = top(&mut by_party[p].clone());
            Viewer { principal: guest.clone(), party: Some(parties[p]), units: vec![], in_scope, expected: ids(&first) }
        })
        .collect();
    out.push((Scope::Party, guests));
    for scope in SCOPES.into_iter().filter(|s| s.level().is_some()) {
        let viewers: Vec<Viewer> = people
            .members
            .iter()
            .filter(|(_, u)| Some(units[*u].level) == scope.level())
            .map(|(member, u)| {
                let subtree = &units[*u].subtree;
                let mut candidates: Vec<u32> = subtree.iter().flat_map(|s| unit_tops[*s].iter().copied()).collect();
                let first = top(&mut candidates);
                Viewer {
                    principal: member.clone(),
                    party: None,
                    units: subtree.iter().map(|s| units[*s].id).collect(),
                    in_scope: subtree.iter().map(|s| by_unit[*s].len()).sum(),
                    expected: ids(&first),
                }
            })
            .collect();
        out.push((scope, viewers));
    }
    out
}

/// The page's ids must be exactly `expected` (scope, order and count at once).
fn check_page(page: &Page, expected: &[Uuid], which: &str) -> Result<()> {
    let got: Vec<Uuid> = page.records.iter().map(|r| r.system.id).collect();
    if got != expected {
        let first_wrong = got.iter().zip(expected).position(|(g, e)| g != e).unwrap_or(got.len().min(expected.len()));
        bail!(
            "the {which} page returned {} rows, expected {}; first difference at row {first_wrong}",
            got.len(),
            expected.len()
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    backend: &'static str,
    workspace: &Workspace,
    scope: Scope,
    viewers: Vec<Viewer>,
    args: &Args,
    tasks: usize,
    timeout: Duration,
    log: Option<&StatementLog>,
) -> Result<Vec<QueryRow>> {
    eprintln!("  queries: {}, {tasks} task(s) …", scope.label());
    if let Some(log) = log {
        log.take();
    }
    let in_scope = viewers.iter().map(|v| v.in_scope as f64).sum::<f64>() / viewers.len().max(1) as f64;
    let viewers = Arc::new(viewers);
    if args.warmup > 0 {
        let (ws, vs, sort) = (workspace.clone(), viewers.clone(), args.order.sort());
        concurrently(tasks, args.warmup as usize, timeout, move |q| {
            let (ws, vs, sort) = (ws.clone(), vs.clone(), sort.clone());
            async move {
                // Other viewers than the measured ones start with (a different seed).
                let viewer = &vs[Rng::new(u64::MAX - q as u64).below(vs.len())];
                let mut query = ListQuery { sort, limit: Some(PAGE), ..ListQuery::default() };
                let first = ws.list(&viewer.principal, TYPE, &query).await?;
                if let Some(cursor) = first.next_cursor {
                    query.cursor = Some(cursor);
                    ws.list(&viewer.principal, TYPE, &query).await?;
                }
                Ok(())
            }
        })
        .await?;
    }
    let (ws, vs, sort) = (workspace.clone(), viewers.clone(), args.order.sort());
    // Past the budget the remaining items return at once, unmeasured.
    let budget_end = Instant::now() + Duration::from_secs(args.step_budget_secs);
    let measured = concurrently(tasks, args.queries as usize, timeout, move |q| {
        let (ws, vs, sort) = (ws.clone(), vs.clone(), sort.clone());
        async move {
            if Instant::now() >= budget_end {
                return Ok(None);
            }
            let viewer = &vs[Rng::new(q as u64 + 1).below(vs.len())];
            let page_size = PAGE as usize;
            let mut query = ListQuery { sort, limit: Some(PAGE), ..ListQuery::default() };
            let began = Instant::now();
            let first = ws.list(&viewer.principal, TYPE, &query).await?;
            let first_micros = micros(began.elapsed());
            check_page(&first, &viewer.expected[..viewer.expected.len().min(page_size)], "first")?;
            let Some(cursor) = first.next_cursor else {
                ensure!(viewer.in_scope <= page_size, "no cursor although {} rows are in scope", viewer.in_scope);
                return Ok(Some((first_micros, None)));
            };
            query.cursor = Some(cursor);
            let began = Instant::now();
            let second = ws.list(&viewer.principal, TYPE, &query).await?;
            let second_micros = micros(began.elapsed());
            check_page(&second, &viewer.expected[page_size.min(viewer.expected.len())..], "second")?;
            Ok(Some((first_micros, Some(second_micros))))
        }
    })
    .await?;
    let statements = log.map(StatementLog::take);
    let ran = measured.results.iter().flatten().count();
    if ran < args.queries as usize {
        eprintln!(
            "    {ran} of {} queries within the {} s budget (--step-budget-secs)",
            args.queries, args.step_budget_secs
        );
    }
    let mut first = new_histogram()?;
    let mut second = new_histogram()?;
    for (f, s) in measured.results.iter().flatten() {
        first.saturating_record(*f);
        if let Some(s) = s {
            second.saturating_record(*s);
        }
    }
    let pages = first.len() + second.len();
    let mut out = vec![QueryRow {
        backend,
        scope,
        in_scope,
        page: "1st (50 rows)",
        tasks,
        elapsed: measured.elapsed,
        pages,
        latency: first,
        statements,
    }];
    if !second.is_empty() {
        out.push(QueryRow {
            backend,
            scope,
            in_scope,
            page: "2nd (cursor)",
            tasks,
            elapsed: measured.elapsed,
            pages,
            latency: second,
            statements: None,
        });
    }
    Ok(out)
}

/// A value for one placeholder of a captured statement.
#[derive(Debug, Clone)]
enum Bound {
    Uuid(Uuid),
    Text(String),
    Time(OffsetDateTime),
    Int(i64),
}

/// What the placeholders of a scoped list statement stand for.
struct BindContext<'a> {
    viewer: &'a Viewer,
    /// Creation time and id of the last row of the previous page.
    after: Option<(OffsetDateTime, Uuid)>,
}

/// The values for the placeholders (`?` on SQLite, `$n` on PostgreSQL) of `sql`, in order,
/// chosen by the column each is compared with (`"party" = ?`, `"unit" IN (?, ?)`,
/// `"created_at" < ?`, `LIMIT ?`, …). Fails on a placeholder it cannot place, so a change
/// in the statement's shape shows up as an error, never as a plan for other values.
fn bind_values(sql: &str, ctx: &BindContext<'_>) -> Result<Vec<Bound>> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut last_ident = String::new();
    let mut last_word = String::new();
    let mut units = ctx.viewer.units.iter().cycle();
    // Row values (`("created_at", "id") < ($1, $2)`): the columns of the last parenthesised
    // list of columns name the placeholders of the row that follows, in order.
    let mut groups: Vec<(Vec<String>, bool)> = Vec::new();
    let mut row: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '(' {
            groups.push((Vec::new(), true));
        } else if c == ')'
            && let Some((idents, pure)) = groups.pop()
            && idents.len() >= 2
            && pure
        {
            row = idents.into();
        }
        if c == '"' {
            let end = chars[i + 1..].iter().position(|c| *c == '"').map_or(chars.len(), |p| i + 1 + p);
            last_ident = chars[i + 1..end].iter().collect();
            // `"r"."id"` names one column: the qualifier is not a member of a row.
            let qualifier = chars.get(end + 1) == Some(&'.');
            if let Some(group) = groups.last_mut().filter(|_| !qualifier) {
                group.0.push(last_ident.clone());
            }
            last_word.clear();
            i = end + 1;
            continue;
        }
        if c == '\'' {
            let end = chars[i + 1..].iter().position(|c| *c == '\'').map_or(chars.len(), |p| i + 1 + p);
            i = end + 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let end = chars[i..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
                .map_or(chars.len(), |p| i + p);
            last_word = chars[i..end].iter().collect::<String>().to_ascii_uppercase();
            // A keyword inside a parenthesised list: not a row of columns.
            groups.iter_mut().for_each(|g| g.1 = false);
            i = end;
            continue;
        }
        let placeholder = c == '?' || (c == '$' && chars.get(i + 1).is_some_and(char::is_ascii_digit));
        if placeholder {
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            groups.iter_mut().for_each(|g| g.1 = false);
            let ident = row.pop_front().unwrap_or_else(|| last_ident.clone());
            let value = match (last_word.as_str(), ident.as_str()) {
                ("LIMIT", _) => Bound::Int(PAGE as i64 + 1),
                ("OFFSET", _) => Bound::Int(0),
                (_, "party") => {
                    Bound::Uuid(ctx.viewer.party.ok_or_else(|| anyhow!("a party placeholder for a member"))?)
                }
                (_, "unit") => Bound::Uuid(*units.next().ok_or_else(|| anyhow!("a unit placeholder for a guest"))?),
                (_, "principal_id" | "owner") => Bound::Uuid(ctx.viewer.principal.id),
                (_, "type_name") => Bound::Text(TYPE.into()),
                (_, "created_at") => Bound::Time(ctx.after.ok_or_else(|| anyhow!("a cursor placeholder on page 1"))?.0),
                (_, "id") => Bound::Uuid(ctx.after.ok_or_else(|| anyhow!("a cursor placeholder on page 1"))?.1),
                (word, ident) => bail!("cannot tell what the placeholder after `{ident}` … `{word}` stands for"),
            };
            out.push(value);
            continue;
        }
        if !c.is_whitespace() && !matches!(c, '(' | ',' | ')' | '.') {
            // An operator: keep the column, forget the keyword.
            last_word.clear();
            groups.iter_mut().for_each(|g| g.1 = false);
        }
        i += 1;
    }
    Ok(out)
}

/// A PostgreSQL literal for `EXECUTE` (untyped: the prepared statement's parameter types
/// apply).
fn pg_literal(value: &Bound) -> String {
    match value {
        Bound::Uuid(u) => format!("'{u}'"),
        Bound::Text(t) => format!("'{}'", t.replace('\'', "''")),
        Bound::Time(t) => format!("'{}'", weft_store::format_utc(*t)),
        Bound::Int(n) => n.to_string(),
    }
}

/// The plans of one scope's list statements (first page, then the next page), as a
/// markdown section.
async fn explain(
    backend: &'static str,
    workspace: &Workspace,
    location: &DatabaseLocation,
    scope: Scope,
    viewer: &Viewer,
    order: Order,
    log: &StatementLog,
) -> Result<String> {
    let mut query = ListQuery { sort: order.sort(), limit: Some(PAGE), ..ListQuery::default() };
    log.take();
    let first = workspace.list(&viewer.principal, TYPE, &query).await?;
    let first_sql = log.take().sample(LIST_SHAPE).map(str::to_owned);
    let mut pages = vec![("first page", first_sql, None)];
    if let (Some(cursor), Some(last)) = (first.next_cursor.clone(), first.records.last()) {
        query.cursor = Some(cursor);
        workspace.list(&viewer.principal, TYPE, &query).await?;
        let sql = log.take().sample(LIST_SHAPE).map(str::to_owned);
        pages.push(("next page", sql, Some((last.system.created_at, last.system.id))));
    }
    let mut out = format!(
        "{backend}, {} ({} rows in scope), order {}:\n\n",
        scope.label(),
        report::thousands(viewer.in_scope as u64),
        order.label()
    );
    for (which, sql, after) in pages {
        let Some(sql) = sql else {
            out.push_str(&format!("({which}: no `{LIST_SHAPE}` statement was seen)\n\n"));
            continue;
        };
        let values = bind_values(&sql, &BindContext { viewer, after })?;
        out.push_str(&format!("{which}:\n\n```sql\n{sql}\n"));
        match location {
            DatabaseLocation::Sqlite(file) => {
                for line in sqlite_plan(file, &sql, &values).await? {
                    out.push_str(&format!("-- {line}\n"));
                }
            }
            DatabaseLocation::Postgres(url) => {
                for (mode, lines) in postgres_plans(url.as_str(), &sql, &values).await? {
                    out.push_str(&format!("-- {mode}:\n"));
                    for line in lines {
                        out.push_str(&format!("--   {line}\n"));
                    }
                }
            }
        }
        out.push_str("```\n\n");
    }
    Ok(out)
}

async fn sqlite_plan(file: &Path, sql: &str, values: &[Bound]) -> Result<Vec<String>> {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await
        .with_context(|| format!("opening {} for EXPLAIN", file.display()))?;
    let text = format!("EXPLAIN QUERY PLAN {sql}");
    let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&text);
    for value in values {
        query = match value {
            Bound::Uuid(u) => query.bind(*u),
            Bound::Text(t) => query.bind(t.clone()),
            Bound::Time(t) => query.bind(weft_store::format_utc(*t)),
            Bound::Int(n) => query.bind(*n),
        };
    }
    let rows = query.fetch_all(&mut conn).await.context("EXPLAIN QUERY PLAN of a list statement")?;
    let _ = conn.close().await;
    // Indent each step under its parent.
    let mut depth: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    Ok(rows
        .into_iter()
        .map(|(id, parent, _, detail)| {
            let d = depth.get(&parent).map_or(0, |d| d + 1);
            depth.insert(id, d);
            format!("{}{detail}", "  ".repeat(d))
        })
        .collect())
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the statement prepared as sqlx prepares it, once with
/// a custom plan (for these values) and once with the generic plan PostgreSQL may switch a
/// cached prepared statement to after five runs.
async fn postgres_plans(url: &str, sql: &str, values: &[Bound]) -> Result<Vec<(&'static str, Vec<String>)>> {
    use sqlx::Connection;
    let options: sqlx::postgres::PgConnectOptions = url.parse().context("the scratch database URL for EXPLAIN")?;
    let mut conn = crate::common::connect_postgres(&options, "the scratch database").await?;
    sqlx::raw_sql(&format!("PREPARE weft_bench_list AS {sql}"))
        .execute(&mut conn)
        .await
        .context("PREPARE of a list statement")?;
    let arguments: Vec<String> = values.iter().map(pg_literal).collect();
    let mut out = Vec::new();
    for (mode, setting) in [("custom plan", "force_custom_plan"), ("generic plan", "force_generic_plan")] {
        sqlx::raw_sql(&format!("SET plan_cache_mode = {setting}")).execute(&mut conn).await?;
        let text = format!("EXPLAIN (ANALYZE, BUFFERS) EXECUTE weft_bench_list({})", arguments.join(", "));
        let rows: Vec<(String,)> = sqlx::query_as(&text)
            .persistent(false)
            .fetch_all(&mut conn)
            .await
            .context("EXPLAIN of a list statement")?;
        out.push((mode, rows.into_iter().map(|(line,)| line).collect()));
    }
    let _ = conn.close().await;
    Ok(out)
}

fn query_table(rows: &[QueryRow], layout: Layout) -> Table {
    let mut table = Table::new(&[
        ("Backend", Align::Left),
        ("Scope", Align::Left),
        ("Rows in scope", Align::Right),
        ("Page", Align::Left),
        ("Tasks", Align::Right),
        ("Queries", Align::Right),
        ("Pages/s", Align::Right),
        ("p50 ms", Align::Right),
        ("p95 ms", Align::Right),
        ("p99 ms", Align::Right),
        ("max ms", Align::Right),
    ]);
    for r in rows {
        let queries = r.latency.len();
        let share = 100.0 * r.in_scope / layout.rows.max(1) as f64;
        table.push(vec![
            r.backend.to_owned(),
            r.scope.label().to_owned(),
            format!("{} ({share:.1}%)", report::thousands(r.in_scope.round() as u64)),
            r.page.to_owned(),
            r.tasks.to_string(),
            report::thousands(queries),
            // Both pages of a query share its wall time; pages/s counts both.
            report::rate(r.pages as f64 / r.elapsed.as_secs_f64().max(1e-9)),
            report::micros_as_ms(r.latency.value_at_quantile(0.50)),
            report::micros_as_ms(r.latency.value_at_quantile(0.95)),
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
        ("Scope", Align::Left),
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
                if first { r.scope.label().to_owned() } else { String::new() },
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
    fn the_org_tree_has_64_units_in_4_levels() {
        let units = org_tree();
        assert_eq!(units.len(), 64);
        assert_eq!(units[0].subtree.len(), 64);
        let count = |level| units.iter().filter(|u| u.level == level).count();
        assert_eq!((count(Level::Division), count(Level::Department), count(Level::Team)), (3, 12, 48));
        assert!(units.iter().filter(|u| u.level == Level::Division).all(|u| u.subtree.len() == 21));
        assert!(units.iter().filter(|u| u.level == Level::Department).all(|u| u.subtree.len() == 5));
        assert!(units.iter().filter(|u| u.level == Level::Team).all(|u| u.subtree.len() == 1));
    }

    #[test]
    fn rows_spread_evenly_over_units() {
        let layout = Layout { rows: 64_000, parties: 1_000, units: 64 };
        let mut counts = vec![0usize; 64];
        for i in 0..layout.rows {
            counts[layout.unit_of(i)] += 1;
        }
        assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
    }

    #[test]
    fn placeholders_are_bound_by_their_column() -> Result<()> {
        let viewer = Viewer {
            principal: Principal::member(Uuid::from_u128(7)),
            party: None,
            units: vec![Uuid::from_u128(1), Uuid::from_u128(2)],
            in_scope: 0,
            expected: vec![],
        };
        let at = OffsetDateTime::UNIX_EPOCH;
        let ctx = BindContext { viewer: &viewer, after: Some((at, Uuid::from_u128(9))) };
        let sql = r#"SELECT "r"."id" FROM "r" WHERE "r"."deleted_at" IS NULL AND ("r"."unit" IN ($1, $2) OR "r"."id" IN (SELECT "record_id" FROM "record_shares" WHERE "principal_id" = $3 AND "type_name" = $4)) AND ("r"."created_at" < $5 OR ("r"."created_at" = $6 AND "r"."id" > $7)) ORDER BY "r"."created_at" DESC LIMIT $8"#;
        let values = bind_values(sql, &ctx)?;
        let shown: Vec<String> = values.iter().map(pg_literal).collect();
        assert_eq!(shown.len(), 8);
        assert_eq!(shown[0], format!("'{}'", Uuid::from_u128(1)));
        assert_eq!(shown[1], format!("'{}'", Uuid::from_u128(2)));
        assert_eq!(shown[2], format!("'{}'", Uuid::from_u128(7)));
        assert_eq!(shown[3], "'work_order'");
        assert_eq!(shown[4], "'1970-01-01T00:00:00.000000Z'");
        assert_eq!(shown[6], format!("'{}'", Uuid::from_u128(9)));
        assert_eq!(shown[7], "51");
        // The row-value cursor names its placeholders by the row of columns before it.
        let sql = r#"SELECT "r"."id" FROM "r" WHERE "r"."unit" = $1 AND ("r"."created_at", "r"."id") < ($2, $3) ORDER BY "r"."created_at" DESC, "r"."id" DESC LIMIT $4"#;
        let shown: Vec<String> = bind_values(sql, &ctx)?.iter().map(pg_literal).collect();
        assert_eq!(shown[1], "'1970-01-01T00:00:00.000000Z'");
        assert_eq!(shown[2], format!("'{}'", Uuid::from_u128(9)));
        assert_eq!(shown[3], "51");
        // A guest has no units; a unit placeholder is an error, not a guess.
        let guest = Viewer { units: vec![], party: Some(Uuid::from_u128(3)), ..viewer.clone() };
        assert!(bind_values(sql, &BindContext { viewer: &guest, after: None }).is_err());
        Ok(())
    }

    #[test]
    fn expected_order_is_time_then_id() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let t1 = t0 + time::Duration::seconds(1);
        let (x, y) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(Order::Newest.cmp(&(t1, y), &(t0, x)), CmpOrdering::Less);
        assert_eq!(Order::Newest.cmp(&(t1, y), &(t1, x)), CmpOrdering::Less, "ties: the newer id first");
        assert_eq!(Order::Oldest.cmp(&(t0, y), &(t1, x)), CmpOrdering::Less);
        assert_eq!(Order::Oldest.cmp(&(t1, x), &(t1, y)), CmpOrdering::Less);
    }
}
