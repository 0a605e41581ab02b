//! Counting SQL statements (`--count-statements`): sqlx reports every statement it runs as
//! a `tracing` event on target `sqlx::query` with the SQL and the time it took (on SQLite,
//! time on the connection's worker thread; on PostgreSQL, until the answer arrived), and
//! the SQLite writer thread reports its own on `weft_store::STATEMENT_TARGET` (time spent
//! in SQLite, binding and reading the rows included). A
//! layer here adds them up by statement shape (`INSERT INTO history`, `SELECT … FROM
//! audit_log`, `SAVEPOINT`), so a step can say how many statements one command costs and
//! where the database time goes. It slows the run a little, so figures measured with it
//! are for profiling, not for the record.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow};
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, SubscriberExt};

type Counts = HashMap<String, (u64, f64)>;

/// The shared tally; `take` returns what was counted since the last `take`.
#[derive(Clone, Default)]
pub struct StatementLog {
    counts: Arc<Mutex<Counts>>,
    /// The full SQL of the first statement of each shape.
    samples: Arc<Mutex<HashMap<String, String>>>,
}

impl StatementLog {
    /// Installs the counting layer as the process's tracing subscriber.
    pub fn install() -> Result<StatementLog> {
        let log = StatementLog::default();
        let layer = CountLayer { counts: log.counts.clone(), samples: log.samples.clone() }.with_filter(
            Targets::new()
                .with_target("sqlx::query", tracing::Level::TRACE)
                .with_target(weft_store::STATEMENT_TARGET, tracing::Level::TRACE),
        );
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|e| anyhow!("cannot install the statement counter: {e}"))?;
        Ok(log)
    }

    pub fn take(&self) -> StatementTotals {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut samples = self.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        StatementTotals { counts: std::mem::take(&mut *counts), samples: std::mem::take(&mut *samples) }
    }
}

/// Statements by shape: count and seconds, and the SQL of the first of each shape.
#[derive(Debug, Clone, Default)]
pub struct StatementTotals {
    counts: Counts,
    samples: HashMap<String, String>,
}

impl StatementTotals {
    pub fn count(&self) -> u64 {
        self.counts.values().map(|(n, _)| n).sum()
    }

    pub fn seconds(&self) -> f64 {
        self.counts.values().map(|(_, s)| s).sum()
    }

    /// The SQL of a statement of this shape (e.g. `SELECT r_purchase_order`), if one ran.
    pub fn sample(&self, shape: &str) -> Option<&str> {
        self.samples.get(shape).map(String::as_str)
    }

    /// The `n` shapes that took the most time: `(shape, count, seconds)`.
    pub fn top(&self, n: usize) -> Vec<(String, u64, f64)> {
        let mut all: Vec<(String, u64, f64)> = self.counts.iter().map(|(k, (c, s))| (k.clone(), *c, *s)).collect();
        all.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        all.truncate(n);
        all
    }
}

struct CountLayer {
    counts: Arc<Mutex<Counts>>,
    samples: Arc<Mutex<HashMap<String, String>>>,
}

impl<S: tracing::Subscriber> Layer<S> for CountLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let sql = if fields.statement.trim().is_empty() { &fields.summary } else { &fields.statement };
        let key = shape(sql);
        self.samples
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key.clone())
            .or_insert_with(|| sql.trim().to_owned());
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = counts.entry(key).or_insert((0, 0.0));
        entry.0 += 1;
        entry.1 += fields.seconds;
    }
}

#[derive(Default)]
struct Fields {
    summary: String,
    statement: String,
    seconds: f64,
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.seconds = value;
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => value.clone_into(&mut self.summary),
            "db.statement" => value.clone_into(&mut self.statement),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "summary" => self.summary = format!("{value:?}").trim_matches('"').to_owned(),
            "db.statement" => self.statement = format!("{value:?}").trim_matches('"').to_owned(),
            _ => {}
        }
    }
}

/// `INSERT INTO "history" (…) VALUES …` → `INSERT history`; `SELECT "seq", "hash" FROM
/// "audit_log" …` → `SELECT audit_log`; anything else → its first two words.
fn shape(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let clean = |w: &str| w.trim_matches(|c| c == '"' || c == '(' || c == ',').to_owned();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let after =
        |keyword: &str| upper.iter().position(|w| w == keyword).and_then(|i| words.get(i + 1)).map(|w| clean(w));
    let first = upper.first().cloned().unwrap_or_default();
    let target = match first.as_str() {
        "INSERT" => after("INTO"),
        "UPDATE" => words.get(1).map(|w| clean(w)),
        "DELETE" | "SELECT" => after("FROM"),
        _ => None,
    };
    let suffix = if first == "INSERT" && upper.iter().any(|w| w.starts_with("CONFLICT")) { " (upsert)" } else { "" };
    match target {
        Some(t) => format!("{first} {t}{suffix}"),
        None => words.iter().take(2).copied().collect::<Vec<_>>().join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::shape;

    #[test]
    fn shapes() {
        assert_eq!(shape("INSERT INTO \"history\" (\"a\") VALUES (?)"), "INSERT history");
        assert_eq!(shape("SELECT \"seq\", \"hash\" FROM \"audit_log\" ORDER BY"), "SELECT audit_log");
        assert_eq!(shape("UPDATE \"r_po\" SET x = 1"), "UPDATE r_po");
        assert_eq!(shape("SAVEPOINT weft_unit"), "SAVEPOINT weft_unit");
        assert_eq!(shape("INSERT INTO c (a) VALUES (1) ON CONFLICT (a) DO UPDATE"), "INSERT c (upsert)");
    }
}
