//! Helpers shared by the benchmarks: backend choice, PostgreSQL scratch databases,
//! latency histograms, Ctrl-C handling, and running work on N concurrent tasks.

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use hdrhistogram::Histogram;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::task::JoinSet;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Latencies are recorded in microseconds, up to a minute, with 3 significant digits.
const LATENCY_MAX_MICROS: u64 = 60_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    Sqlite,
    Postgres,
    Both,
}

impl BackendChoice {
    pub fn sqlite(self) -> bool {
        matches!(self, BackendChoice::Sqlite | BackendChoice::Both)
    }
    pub fn postgres(self) -> bool {
        matches!(self, BackendChoice::Postgres | BackendChoice::Both)
    }
}

pub fn new_histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, LATENCY_MAX_MICROS, 3).map_err(|e| anyhow!("creating a latency histogram: {e:?}"))
}

pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Runs `work` unless Ctrl-C comes first; then `work` is dropped (and with it whatever
/// scratch state it owns) and an error returned.
pub async fn interruptible<T>(work: impl Future<Output = T>) -> Result<T> {
    let interrupted = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No signal handler could be installed: wait for the work alone.
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        done = work => Ok(done),
        () = interrupted => Err(anyhow!("interrupted")),
    }
}

/// The URL as it may be printed: any password replaced.
pub fn redact(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("redacted"));
            }
            url.to_string()
        }
        Err(_) => String::from("(unparseable URL, not shown)"),
    }
}

pub async fn connect_postgres(options: &PgConnectOptions, shown: &str) -> Result<PgConnection> {
    tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
        .await
        .map_err(|_| anyhow!("timed out after {}s connecting to PostgreSQL at {shown}", CONNECT_TIMEOUT.as_secs()))?
        .with_context(|| {
            format!(
                "cannot connect to PostgreSQL at {shown}; is it running? \
                 Point --database-url or WEFT_BENCH_DATABASE_URL at a server"
            )
        })
}

pub async fn drop_database(admin: &mut PgConnection, name: &str) -> Result<()> {
    // FORCE (PostgreSQL 13+) ends sessions that have not quite gone yet.
    let forced = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut *admin).await;
    if forced.is_err() {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut *admin)
            .await
            .with_context(|| format!("cannot drop the scratch database {name}; drop it by hand"))?;
    }
    eprintln!("PostgreSQL: dropped scratch database {name}");
    Ok(())
}

/// A database `weft_bench_<random>` created on the server of `--database-url` for one run
/// and dropped by `finish`.
pub struct ScratchPostgres {
    admin: PgConnection,
    name: String,
    url: String,
    shown: String,
}

impl ScratchPostgres {
    pub async fn create(database_url: &str) -> Result<Self> {
        let shown = redact(database_url);
        let admin_options = PgConnectOptions::from_str(database_url)
            .with_context(|| format!("invalid --database-url / WEFT_BENCH_DATABASE_URL {shown}"))?;
        let mut admin = connect_postgres(&admin_options, &shown).await?;
        let name = format!("weft_bench_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.with_context(|| {
            format!("cannot create the scratch database {name} on {shown} (the user needs CREATEDB)")
        })?;
        let mut url = url::Url::parse(database_url).with_context(|| format!("invalid database URL {shown}"))?;
        url.set_path(&format!("/{name}"));
        let shown = format!("{shown} (database {name})");
        eprintln!("PostgreSQL: created scratch database {name}");
        Ok(ScratchPostgres { admin, name, url: url.to_string(), shown })
    }

    /// The scratch database's URL (may hold a password: never print it, see `shown`).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Drops the database and folds a failure to drop it into the run's outcome.
    pub async fn finish<T>(mut self, outcome: Result<T>) -> Result<T> {
        let dropped = drop_database(&mut self.admin, &self.name).await;
        // The scratch database is gone (or reported); a failing goodbye changes nothing.
        let _ = self.admin.close().await;
        match (outcome, dropped) {
            (Ok(v), Ok(())) => Ok(v),
            (Err(e), Ok(())) | (Ok(_), Err(e)) => Err(e),
            (Err(e), Err(d)) => Err(e.context(format!("and then: {d:#}"))),
        }
    }
}

/// What `concurrently` measured.
pub struct Measured<T> {
    /// Wall-clock time from the first item started to the last one finished.
    pub elapsed: Duration,
    /// Per-item latency in microseconds.
    pub latency: Histogram<u64>,
    /// Each item's result, in item order.
    pub results: Vec<T>,
}

/// Runs `work(0..items)` on `tasks` concurrent tasks, each taking the next item as soon as
/// it is free, and measures each item and the whole. Stops with an error when an item
/// fails or when `limit` passes (the remaining tasks are aborted), so a run always ends.
pub async fn concurrently<T, F, Fut>(tasks: usize, items: usize, limit: Duration, work: F) -> Result<Measured<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..tasks.max(1) {
        let next = next.clone();
        let work = work.clone();
        set.spawn(async move {
            let mut latency = new_histogram()?;
            let mut results = Vec::new();
            loop {
                let item = next.fetch_add(1, Ordering::Relaxed);
                if item >= items {
                    break;
                }
                let began = Instant::now();
                let result = work(item).await.with_context(|| format!("item {item}"))?;
                latency.saturating_record(micros(began.elapsed()));
                results.push((item, result));
            }
            Ok::<_, anyhow::Error>((latency, results))
        });
    }
    let collect = async {
        let mut latency = new_histogram()?;
        let mut results = Vec::with_capacity(items);
        while let Some(joined) = set.join_next().await {
            let (h, r) = joined.context("a benchmark task panicked")??;
            latency.add(&h).map_err(|e| anyhow!("merging latency histograms: {e:?}"))?;
            results.extend(r);
        }
        Ok::<_, anyhow::Error>((latency, results))
    };
    // On error or timeout `set` is dropped with `collect`, which aborts the tasks.
    let (latency, mut results) = tokio::time::timeout(limit, collect)
        .await
        .map_err(|_| anyhow!("not finished within {}s (--step-timeout-secs)", limit.as_secs()))??;
    let elapsed = started.elapsed();
    results.sort_by_key(|(i, _)| *i);
    Ok(Measured { elapsed, latency, results: results.into_iter().map(|(_, r)| r).collect() })
}

/// A small deterministic generator (xorshift64*), enough to pick suppliers at random.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x % n.max(1) as u64) as usize
    }
}

/// A member holding the built-in `employee` role, the workloads' user (a principal that
/// holds no role may do nothing).
pub async fn employee(workspace: &weft_workspace::Workspace) -> Result<weft_model::Principal> {
    use weft_workspace::identity::{NewPrincipal, PrincipalKindName};
    let login = format!("bench-{}@weft.test", uuid::Uuid::now_v7().simple());
    let input = NewPrincipal {
        kind: Some(PrincipalKindName::Member),
        display_name: login.clone(),
        login,
        roles: Some(vec!["employee".to_owned()]),
        ..NewPrincipal::default()
    };
    let created = workspace.create_principal(&weft_model::Principal::system(), input).await?;
    Ok(weft_model::Principal::member(created.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_passwords_only() {
        assert_eq!(redact("postgres://u:secret@db:5432/x"), "postgres://u:redacted@db:5432/x");
        assert_eq!(redact("postgres://postgres@127.0.0.1:5432/test"), "postgres://postgres@127.0.0.1:5432/test");
        assert_eq!(redact("not a url"), "(unparseable URL, not shown)");
    }

    #[tokio::test]
    async fn concurrently_runs_every_item_once_in_order() -> Result<()> {
        let m = concurrently(3, 10, Duration::from_secs(5), |i| async move { Ok(i * 2) }).await?;
        assert_eq!(m.results, (0..10).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(m.latency.len(), 10);
        Ok(())
    }

    #[tokio::test]
    async fn concurrently_stops_at_the_first_error_and_at_the_limit() {
        let failed = concurrently(2, 10, Duration::from_secs(5), |i| async move {
            if i == 3 { Err(anyhow!("boom")) } else { Ok(()) }
        })
        .await;
        assert!(failed.is_err());
        let slow = concurrently(2, 10, Duration::from_millis(50), |_| async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        })
        .await;
        assert!(slow.err().is_some_and(|e| e.to_string().contains("not finished")));
    }

    #[test]
    fn rng_stays_in_range() {
        let mut rng = Rng::new(7);
        assert!((0..1000).all(|_| rng.below(13) < 13));
    }
}
