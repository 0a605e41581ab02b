//! Raw commit rate: how many single-row transactions per second SQLite and PostgreSQL
//! commit durably on this machine, with how many concurrent writers. This is the physical
//! limit every later figure (records kernel, access, expressions) is compared to: Weft
//! cannot commit faster than the database under it can fsync.
//!
//! Workload per (backend, mode, writers): a fresh table, N writer tasks each holding its
//! own connection, each running `BEGIN; INSERT one small row; COMMIT` in a loop until the
//! time is up. Latency is that whole transaction as the writer sees it, including the wait
//! for the write lock (SQLite) or for the WAL flush (PostgreSQL). With SQLite selected, a
//! first row measures the disk alone (append + `fdatasync`), the floor under both.

use std::future::Future;
use std::io::Write as _;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, ensure};
use hdrhistogram::Histogram;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};
use time::OffsetDateTime;
use tokio::task::JoinSet;

use crate::common::{
    BackendChoice, DEFAULT_DATABASE_URL, connect_postgres, drop_database, interruptible, micros, new_histogram, redact,
};
use crate::report::{self, Align, Table};

/// As Weft's store: how long an SQLite writer waits for the write lock before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long past its planned end a run may go on before it is abandoned as stuck.
const GRACE: Duration = Duration::from_secs(30);

const SQLITE_CREATE: &str = "CREATE TABLE bench_row (
    id         INTEGER PRIMARY KEY,
    note       TEXT    NOT NULL,
    amount     INTEGER NOT NULL,
    created_at TEXT    NOT NULL
)";
const SQLITE_INSERT: &str = "INSERT INTO bench_row (note, amount, created_at) VALUES (?1, ?2, ?3)";

const POSTGRES_CREATE: &str = "CREATE TABLE bench_row (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    note       TEXT        NOT NULL,
    amount     BIGINT      NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
)";
const POSTGRES_INSERT: &str = "INSERT INTO bench_row (note, amount, created_at) VALUES ($1, $2, $3)";

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Which database(s) to measure.
    #[arg(long, value_enum, default_value_t = BackendChoice::Both)]
    backend: BackendChoice,
    /// Measured seconds per (backend, mode, writers) combination.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
    /// Unmeasured seconds before each measurement, so connections and caches are warm.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=600))]
    warmup_seconds: u64,
    /// Comma-separated numbers of concurrent writers, each with its own connection.
    #[arg(long, value_delimiter = ',', default_value = "1,8", value_parser = clap::value_parser!(u32).range(1..=512))]
    writers: Vec<u32>,
    /// PostgreSQL server to measure; a scratch database `weft_bench_<random>` is created on
    /// it and dropped afterwards, so the user needs CREATEDB.
    #[arg(long, env = "WEFT_BENCH_DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    /// Folder for the SQLite scratch files (default: the system temp folder). It must be on
    /// the disk whose fsync you mean to measure, not on a tmpfs.
    #[arg(long)]
    sqlite_dir: Option<PathBuf>,
}

/// One measured (backend, mode, writers) combination.
struct Sample {
    backend: &'static str,
    mode: String,
    writers: u32,
    commits: u64,
    window: Duration,
    latency: Histogram<u64>,
}

/// Runs the benchmark and returns the result table as markdown.
pub async fn run(args: Args) -> Result<String> {
    ensure!(!args.writers.is_empty(), "--writers needs at least one number");
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    eprintln!(
        "raw-commit: {}s warm-up + {}s measured per combination, writers {:?}, {cores} cores available",
        args.warmup_seconds, args.seconds, args.writers
    );
    let mut samples = Vec::new();
    if args.backend.sqlite() {
        // Dropping the run on Ctrl-C drops its scratch folders with it.
        samples.push(interruptible(fdatasync_floor(&args)).await.and_then(|r| r)?);
        samples.extend(interruptible(sqlite(&args)).await.and_then(|r| r)?);
    }
    if args.backend.postgres() {
        samples.extend(postgres(&args).await?);
    }
    Ok(table(&samples).to_markdown())
}

fn table(samples: &[Sample]) -> Table {
    let mut table = Table::new(&[
        ("Backend", Align::Left),
        ("Durability", Align::Left),
        ("Writers", Align::Right),
        ("Commits", Align::Right),
        ("Commits/s", Align::Right),
        ("p50 ms", Align::Right),
        ("p99 ms", Align::Right),
        ("max ms", Align::Right),
    ]);
    for s in samples {
        let per_second = s.commits as f64 / s.window.as_secs_f64();
        let (p50, p99, max) = if s.latency.is_empty() {
            (String::from("-"), String::from("-"), String::from("-"))
        } else {
            (
                report::micros_as_ms(s.latency.value_at_quantile(0.50)),
                report::micros_as_ms(s.latency.value_at_quantile(0.99)),
                report::micros_as_ms(s.latency.max()),
            )
        };
        table.push(vec![
            s.backend.to_owned(),
            s.mode.clone(),
            s.writers.to_string(),
            report::thousands(s.commits),
            report::rate(per_second),
            p50,
            p99,
            max,
        ]);
    }
    table
}

// ---------------------------------------------------------------------------------------
// The disk alone

/// What the disk under the SQLite files allows without any database: one writer appending
/// 512 bytes and calling `fdatasync` in a loop. SQLite with `synchronous=FULL` cannot commit
/// faster than this (it syncs the WAL once per commit and has no group commit).
async fn fdatasync_floor(args: &Args) -> Result<Sample> {
    let dir = sqlite_dir(args);
    let scratch = tempfile::Builder::new()
        .prefix("weft-bench-")
        .tempdir_in(&dir)
        .with_context(|| format!("cannot create a scratch folder in {}", dir.display()))?;
    let path = scratch.path().join("fdatasync-probe");
    let warmup = Duration::from_secs(args.warmup_seconds);
    let window = Duration::from_secs(args.seconds);
    eprintln!("disk: 512 B append + fdatasync in {}…", dir.display());
    let probe = path.clone();
    let (commits, latency) = tokio::task::spawn_blocking(move || -> Result<(u64, Histogram<u64>)> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&probe)
            .with_context(|| format!("cannot create {}", probe.display()))?;
        let record = [b'x'; 512];
        let mut latency = new_histogram()?;
        let mut commits = 0u64;
        let window_start = Instant::now() + warmup;
        let window_end = window_start + window;
        loop {
            let began = Instant::now();
            if began >= window_end {
                break;
            }
            file.write_all(&record).with_context(|| format!("writing {}", probe.display()))?;
            file.sync_data().with_context(|| format!("fdatasync of {}", probe.display()))?;
            let ended = Instant::now();
            if ended >= window_start && ended <= window_end {
                commits += 1;
                latency.saturating_record(micros(ended - began));
            }
        }
        Ok((commits, latency))
    })
    .await
    .context("the fdatasync probe panicked")??;
    scratch.close().with_context(|| format!("cannot remove the scratch folder of {}", path.display()))?;
    Ok(Sample {
        backend: "(disk only)",
        mode: String::from("512 B append + fdatasync"),
        writers: 1,
        commits,
        window,
        latency,
    })
}

fn sqlite_dir(args: &Args) -> PathBuf {
    args.sqlite_dir.clone().unwrap_or_else(std::env::temp_dir)
}

// ---------------------------------------------------------------------------------------
// SQLite

async fn sqlite(args: &Args) -> Result<Vec<Sample>> {
    let dir = sqlite_dir(args);
    let mut samples = Vec::new();
    let mut version_shown = false;
    for (mode, synchronous, expected) in
        [("FULL", SqliteSynchronous::Full, 2_i64), ("NORMAL", SqliteSynchronous::Normal, 1_i64)]
    {
        for &writers in &args.writers {
            let scratch = tempfile::Builder::new()
                .prefix("weft-bench-")
                .tempdir_in(&dir)
                .with_context(|| format!("cannot create a scratch folder in {}", dir.display()))?;
            let path = scratch.path().join("raw-commit.db");
            // The same settings as Weft's store (crates/weft-store/src/database.rs).
            let options = SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .synchronous(synchronous);

            let mut setup =
                options.connect().await.with_context(|| format!("cannot open SQLite file {}", path.display()))?;
            if !version_shown {
                let (version,): (String,) = sqlx::query_as("SELECT sqlite_version()")
                    .fetch_one(&mut setup)
                    .await
                    .context("reading the SQLite version")?;
                eprintln!("SQLite {version}, scratch files in {}", dir.display());
                version_shown = true;
            }
            sqlx::query(SQLITE_CREATE).execute(&mut setup).await.context("creating the SQLite table")?;
            let (journal,): (String,) =
                sqlx::query_as("PRAGMA journal_mode").fetch_one(&mut setup).await.context("reading journal_mode")?;
            let (applied,): (i64,) =
                sqlx::query_as("PRAGMA synchronous").fetch_one(&mut setup).await.context("reading synchronous")?;
            ensure!(journal.eq_ignore_ascii_case("wal"), "SQLite journal_mode is {journal}, expected wal");
            ensure!(applied == expected, "SQLite synchronous is {applied}, expected {expected} ({mode})");
            setup.close().await.context("closing the SQLite setup connection")?;

            let mut conns = Vec::with_capacity(writers as usize);
            for _ in 0..writers {
                let conn =
                    options.connect().await.with_context(|| format!("cannot open SQLite file {}", path.display()))?;
                conns.push(SqliteWriter(conn));
            }
            eprintln!("SQLite WAL synchronous={mode}, {writers} writer(s)…");
            let (commits, latency) = measure(conns, args)
                .await
                .with_context(|| format!("SQLite synchronous={mode} with {writers} writer(s)"))?;
            samples.push(Sample {
                backend: "SQLite",
                mode: format!("WAL, synchronous={mode}"),
                writers,
                commits,
                window: Duration::from_secs(args.seconds),
                latency,
            });
            scratch.close().with_context(|| format!("cannot remove the scratch folder {}", path.display()))?;
        }
    }
    Ok(samples)
}

struct SqliteWriter(SqliteConnection);

impl Writer for SqliteWriter {
    async fn commit_one(&mut self, writer: u32, seq: i64) -> Result<()> {
        let mut tx = self.0.begin().await.context("BEGIN")?;
        sqlx::query(SQLITE_INSERT)
            .bind(format!("writer {writer} row {seq}"))
            .bind(seq)
            .bind(OffsetDateTime::now_utc())
            .execute(&mut *tx)
            .await
            .context("INSERT")?;
        tx.commit().await.context("COMMIT")
    }

    async fn close(self) -> Result<()> {
        self.0.close().await.context("closing an SQLite connection")
    }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL

async fn postgres(args: &Args) -> Result<Vec<Sample>> {
    let shown = redact(&args.database_url);
    let admin_options = PgConnectOptions::from_str(&args.database_url)
        .with_context(|| format!("invalid --database-url / WEFT_BENCH_DATABASE_URL {shown}"))?;
    let mut admin = connect_postgres(&admin_options, &shown).await?;
    let name = format!("weft_bench_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .with_context(|| format!("cannot create the scratch database {name} on {shown} (the user needs CREATEDB)"))?;
    eprintln!("PostgreSQL: created scratch database {name} on {shown}");

    let bench_options = admin_options.clone().database(&name);
    let outcome =
        interruptible(postgres_runs(args, &bench_options, &format!("{shown} (database {name})"))).await.and_then(|r| r);
    let dropped = drop_database(&mut admin, &name).await;
    // The scratch database is gone (or reported); a failing goodbye changes nothing.
    let _ = admin.close().await;
    match (outcome, dropped) {
        (Ok(samples), Ok(())) => Ok(samples),
        (Err(e), Ok(())) | (Ok(_), Err(e)) => Err(e),
        (Err(e), Err(d)) => Err(e.context(format!("and then: {d:#}"))),
    }
}

async fn postgres_runs(args: &Args, options: &PgConnectOptions, shown: &str) -> Result<Vec<Sample>> {
    let mut setup = connect_postgres(options, shown).await?;
    let mut show = async |setting: &str| -> Result<String> {
        let (value,): (String,) = sqlx::query_as(&format!("SHOW {setting}"))
            .fetch_one(&mut setup)
            .await
            .with_context(|| format!("SHOW {setting}"))?;
        Ok(value)
    };
    let version = show("server_version").await?;
    let synchronous_commit = show("synchronous_commit").await?;
    let fsync = show("fsync").await?;
    let wal_sync_method = show("wal_sync_method").await?;
    let commit_delay = show("commit_delay").await?;
    eprintln!(
        "PostgreSQL {version}: synchronous_commit={synchronous_commit}, fsync={fsync}, \
         wal_sync_method={wal_sync_method}, commit_delay={commit_delay}"
    );

    let mut samples = Vec::new();
    for &writers in &args.writers {
        sqlx::query("DROP TABLE IF EXISTS bench_row").execute(&mut setup).await.context("dropping the old table")?;
        sqlx::query(POSTGRES_CREATE).execute(&mut setup).await.context("creating the PostgreSQL table")?;
        // A checkpoint now makes one less likely during the measurement; it needs
        // superuser (or pg_checkpoint), so it is best effort.
        if let Err(e) = sqlx::query("CHECKPOINT").execute(&mut setup).await {
            eprintln!("PostgreSQL: CHECKPOINT not run ({e}); measuring anyway");
        }
        let mut conns = Vec::with_capacity(writers as usize);
        for _ in 0..writers {
            conns.push(PostgresWriter(connect_postgres(options, shown).await?));
        }
        eprintln!("PostgreSQL synchronous_commit={synchronous_commit}, {writers} writer(s)…");
        let (commits, latency) =
            measure(conns, args).await.with_context(|| format!("PostgreSQL with {writers} writer(s)"))?;
        samples.push(Sample {
            backend: "PostgreSQL",
            mode: format!("synchronous_commit={synchronous_commit}"),
            writers,
            commits,
            window: Duration::from_secs(args.seconds),
            latency,
        });
    }
    setup.close().await.context("closing the PostgreSQL setup connection")?;
    Ok(samples)
}

struct PostgresWriter(PgConnection);

impl Writer for PostgresWriter {
    async fn commit_one(&mut self, writer: u32, seq: i64) -> Result<()> {
        let mut tx = self.0.begin().await.context("BEGIN")?;
        sqlx::query(POSTGRES_INSERT)
            .bind(format!("writer {writer} row {seq}"))
            .bind(seq)
            .bind(OffsetDateTime::now_utc())
            .execute(&mut *tx)
            .await
            .context("INSERT")?;
        tx.commit().await.context("COMMIT")
    }

    async fn close(self) -> Result<()> {
        self.0.close().await.context("closing a PostgreSQL connection")
    }
}

// ---------------------------------------------------------------------------------------
// The measurement loop, shared by both backends

/// One connection that commits one single-row transaction per call.
trait Writer: Send + 'static {
    fn commit_one(&mut self, writer: u32, seq: i64) -> impl Future<Output = Result<()>> + Send;
    fn close(self) -> impl Future<Output = Result<()>> + Send;
}

/// Runs every writer concurrently for the warm-up and then the measured window, and
/// returns the commits completed inside the window with their latencies. Writers start no
/// transaction after the window ends; a run that overshoots by more than `GRACE` is
/// abandoned with an error, so the benchmark always stops by itself.
async fn measure<W: Writer>(writers: Vec<W>, args: &Args) -> Result<(u64, Histogram<u64>)> {
    let warmup = Duration::from_secs(args.warmup_seconds);
    let window = Duration::from_secs(args.seconds);
    let start = Instant::now();
    let window_start = start + warmup;
    let window_end = window_start + window;

    let mut tasks = JoinSet::new();
    for (id, mut writer) in (0u32..).zip(writers) {
        tasks.spawn(async move {
            let mut latency = new_histogram()?;
            let mut commits = 0u64;
            let mut seq = 0i64;
            loop {
                let began = Instant::now();
                if began >= window_end {
                    break;
                }
                writer.commit_one(id, seq).await.with_context(|| format!("writer {id}, transaction {seq}"))?;
                let ended = Instant::now();
                seq += 1;
                if ended >= window_start && ended <= window_end {
                    commits += 1;
                    latency.saturating_record(micros(ended - began));
                }
            }
            writer.close().await?;
            Ok::<_, anyhow::Error>((commits, latency))
        });
    }

    let collect = async {
        let mut commits = 0u64;
        let mut latency = new_histogram()?;
        while let Some(joined) = tasks.join_next().await {
            let (n, h) = joined.context("a writer task panicked")??;
            commits += n;
            latency.add(&h).map_err(|e| anyhow!("merging latency histograms: {e:?}"))?;
        }
        Ok::<_, anyhow::Error>((commits, latency))
    };
    let limit = warmup + window + GRACE;
    // On error or timeout `tasks` is dropped here, which aborts the writers still running.
    tokio::time::timeout(limit, collect)
        .await
        .map_err(|_| anyhow!("the run did not finish within {}s; a transaction is stuck", limit.as_secs()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_defaults() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: Args,
        }
        let cli = Cli::parse_from(["weft-bench"]);
        assert_eq!(cli.args.backend, BackendChoice::Both);
        assert_eq!(cli.args.seconds, 5);
        assert_eq!(cli.args.writers, vec![1, 8]);
        let cli = Cli::parse_from(["weft-bench", "--backend", "sqlite", "--writers", "2,4,16", "--seconds", "1"]);
        assert_eq!(cli.args.backend, BackendChoice::Sqlite);
        assert_eq!(cli.args.writers, vec![2, 4, 16]);
    }

    #[tokio::test]
    async fn sqlite_run_is_bounded_and_counts_commits() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let args = Args {
            backend: BackendChoice::Sqlite,
            seconds: 1,
            warmup_seconds: 0,
            writers: vec![2],
            database_url: DEFAULT_DATABASE_URL.into(),
            sqlite_dir: Some(dir.path().to_owned()),
        };
        let began = Instant::now();
        let mut samples = vec![fdatasync_floor(&args).await?];
        samples.extend(sqlite(&args).await?);
        assert!(began.elapsed() < Duration::from_secs(15));
        assert_eq!(samples.len(), 3, "disk, FULL and NORMAL");
        for s in &samples {
            assert!(s.commits > 0);
            assert_eq!(s.latency.len(), s.commits);
        }
        let markdown = table(&samples).to_markdown();
        assert!(markdown.contains("WAL, synchronous=FULL"));
        // Every scratch folder was removed.
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
        Ok(())
    }
}
