//! The Tryton peer workload, run against any `Client` (the façade in process, or the HTTP
//! API) by N concurrent tasks, step by step as WORKLOAD.md describes:
//!
//! a. create the suppliers, each with one address (one command each);
//! b. create the purchase orders, 3 lines each, round-robin over the "hot" suppliers;
//! c. quote every order, then confirm every order; the figure is per order moved through
//!    both (orders / (quote time + confirm time)), as Tryton reports it;
//! d. list one hot supplier's confirmed orders, newest first (20 rows each).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, ensure};
use hdrhistogram::Histogram;
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::common::concurrently;
use crate::fixture::{self, CONFIRM, PURCHASE_ORDER, Peer, QUOTE, SUPPLIER};
use crate::report::{self, Align, Table};
use crate::statements::{StatementLog, StatementTotals};

/// Days over which order dates are spread: 2026-01-01 to the measurement date.
const ORDER_DATE_SPAN: usize = 329;

/// What the workload needs from the system under test.
pub trait Client: Clone + Send + Sync + 'static {
    /// Creates a record and returns its id.
    fn create(&self, type_name: &'static str, input: Map<String, Json>) -> impl Future<Output = Result<Uuid>> + Send;
    fn transition(
        &self,
        type_name: &'static str,
        id: Uuid,
        name: &'static str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// One page of a list: the states of the rows returned, and the cursor of the next page.
    fn list(&self, query: ListCall) -> impl Future<Output = Result<ListAnswer>> + Send;
}

#[derive(Debug, Clone)]
pub struct ListCall {
    pub type_name: &'static str,
    pub filter: String,
    pub sort: &'static str,
    pub limit: u64,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ListAnswer {
    /// `(state, order_date)` of each row, in the order returned.
    pub rows: Vec<(String, String)>,
    pub next_cursor: Option<String>,
}

/// How big the run is. `scale` multiplies Tryton's counts; the hot suppliers grow with it
/// so each still has 20 orders and the query still returns 20 rows.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub suppliers: usize,
    pub purchases: usize,
    pub hot: usize,
    pub queries: usize,
}

/// "2000 suppliers, 1000 orders over 50 hot suppliers, 2000 queries".
impl std::fmt::Display for Sizes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} suppliers, {} orders over {} hot suppliers, {} queries",
            self.suppliers, self.purchases, self.hot, self.queries
        )
    }
}

impl Sizes {
    pub fn scaled(scale: usize, queries: usize) -> Sizes {
        let scale = scale.max(1);
        Sizes { suppliers: 2_000 * scale, purchases: 1_000 * scale, hot: 50 * scale, queries }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Parties,
    Purchases,
    QuoteConfirm,
    Quote,
    Confirm,
    Query,
}

impl Step {
    pub fn label(self) -> &'static str {
        match self {
            Step::Parties => "a. suppliers + 1 address",
            Step::Purchases => "b. purchase orders (3 lines)",
            Step::QuoteConfirm => "c. quote + confirm (per order)",
            Step::Quote => "   quote alone",
            Step::Confirm => "   confirm alone",
            Step::Query => "d. filtered list query",
        }
    }

    fn peer(self, peer: &Peer) -> Option<f64> {
        match self {
            Step::Parties => Some(peer.parties),
            Step::Purchases => Some(peer.purchases),
            Step::QuoteConfirm => Some(peer.quote_confirm),
            Step::Quote => peer.quote,
            Step::Confirm => None,
            Step::Query => Some(peer.query),
        }
    }
}

pub struct StepResult {
    pub step: Step,
    pub ops: u64,
    pub elapsed: Duration,
    /// Per operation; `None` for the combined quote + confirm figure.
    pub latency: Option<Histogram<u64>>,
    /// SQL statements run during the step (with `--count-statements`).
    pub statements: Option<StatementTotals>,
}

impl StepResult {
    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs steps a–d and returns one result per table row.
pub async fn run<C: Client>(
    client: C,
    sizes: Sizes,
    tasks: usize,
    step_limit: Duration,
    statements: Option<&StatementLog>,
) -> Result<Vec<StepResult>> {
    let mut out = Vec::new();
    let probe = |step: Step| {
        if let Some(log) = statements {
            log.take();
        }
        eprintln!("  {} …", step.label().trim());
        step
    };
    let finish = |step: Step, ops: u64, elapsed: Duration, latency: Option<Histogram<u64>>| {
        let statements = statements.map(|log| log.take());
        let r = StepResult { step, ops, elapsed, latency, statements };
        eprintln!("    {} ops in {:.2}s: {:.0}/s", r.ops, r.elapsed.as_secs_f64(), r.per_second());
        r
    };

    // a. suppliers
    let step = probe(Step::Parties);
    let c = client.clone();
    let parties = concurrently(tasks, sizes.suppliers, step_limit, move |i| {
        let c = c.clone();
        async move { c.create(SUPPLIER, fixture::supplier_input(i)).await }
    })
    .await?;
    let suppliers = Arc::new(parties.results);
    out.push(finish(step, suppliers.len() as u64, parties.elapsed, Some(parties.latency)));

    // b. purchase orders, round-robin over the hot suppliers
    let hot = sizes.hot.clamp(1, suppliers.len().max(1));
    ensure!(!suppliers.is_empty(), "no suppliers were created");
    let step = probe(Step::Purchases);
    let (c, s) = (client.clone(), suppliers.clone());
    let purchases = concurrently(tasks, sizes.purchases, step_limit, move |i| {
        let (c, s) = (c.clone(), s.clone());
        async move { c.create(PURCHASE_ORDER, fixture::purchase_input(i, s[i % hot], ORDER_DATE_SPAN)).await }
    })
    .await?;
    let orders = Arc::new(purchases.results);
    out.push(finish(step, orders.len() as u64, purchases.elapsed, Some(purchases.latency)));

    // c. quote all, then confirm all
    let mut phases = Vec::new();
    for (step, name) in [(Step::Quote, QUOTE), (Step::Confirm, CONFIRM)] {
        let step = probe(step);
        let (c, o) = (client.clone(), orders.clone());
        let moved = concurrently(tasks, orders.len(), step_limit, move |i| {
            let (c, o) = (c.clone(), o.clone());
            async move { c.transition(PURCHASE_ORDER, o[i], name).await }
        })
        .await?;
        phases.push(finish(step, orders.len() as u64, moved.elapsed, Some(moved.latency)));
    }
    let both = phases.iter().map(|p| p.elapsed).sum();
    out.push(StepResult {
        step: Step::QuoteConfirm,
        ops: orders.len() as u64,
        elapsed: both,
        latency: None,
        statements: None,
    });
    out.extend(phases);

    // d. the filtered list, rotating over the hot suppliers
    let step = probe(Step::Query);
    let expected: Arc<Vec<usize>> =
        Arc::new((0..hot).map(|h| (0..orders.len()).filter(|i| i % hot == h).count()).collect());
    let (c, s) = (client.clone(), suppliers.clone());
    let queries = concurrently(tasks, sizes.queries, step_limit, move |i| {
        let (c, s, expected) = (c.clone(), s.clone(), expected.clone());
        async move {
            let h = i % hot;
            let call = ListCall {
                type_name: PURCHASE_ORDER,
                filter: fixture::list_filter(s[h], "confirmed"),
                sort: fixture::LIST_SORT,
                limit: 50,
                cursor: None,
            };
            let answer = c.list(call).await?;
            check_page(&answer, expected[h].min(50), "confirmed")
        }
    })
    .await?;
    out.push(finish(step, sizes.queries as u64, queries.elapsed, Some(queries.latency)));
    Ok(out)
}

/// A page must have the expected number of rows, all in `state`, newest first.
pub fn check_page(answer: &ListAnswer, expected_rows: usize, state: &str) -> Result<()> {
    ensure!(
        answer.rows.len() == expected_rows,
        "the list returned {} rows, expected {expected_rows}",
        answer.rows.len()
    );
    ensure!(answer.rows.iter().all(|(s, _)| s == state), "the list returned rows not in state `{state}`");
    ensure!(answer.rows.windows(2).all(|w| w[0].1 >= w[1].1), "the list is not sorted by order date, newest first");
    Ok(())
}

/// One table for every (backend, tasks) run: Weft's figure, Tryton's and the ratio.
pub fn table(runs: &[(&'static str, usize, Vec<StepResult>)]) -> Table {
    let mut table = Table::new(&[
        ("Backend", Align::Left),
        ("Tasks", Align::Right),
        ("Step", Align::Left),
        ("Ops", Align::Right),
        ("Weft ops/s", Align::Right),
        ("p50 ms", Align::Right),
        ("p99 ms", Align::Right),
        ("Tryton ops/s", Align::Right),
        ("Weft / Tryton", Align::Right),
    ]);
    for (backend, tasks, results) in runs {
        let peer = if *backend == "PostgreSQL" { &fixture::TRYTON_POSTGRES } else { &fixture::TRYTON_SQLITE };
        for r in results {
            let (p50, p99) = match &r.latency {
                Some(h) if !h.is_empty() => {
                    (report::micros_as_ms(h.value_at_quantile(0.50)), report::micros_as_ms(h.value_at_quantile(0.99)))
                }
                _ => (String::from("-"), String::from("-")),
            };
            let tryton = r.step.peer(peer);
            table.push(vec![
                (*backend).to_owned(),
                tasks.to_string(),
                r.step.label().to_owned(),
                report::thousands(r.ops),
                report::rate(r.per_second()),
                p50,
                p99,
                tryton.map_or_else(|| String::from("-"), |t| format!("{t:.1}")),
                tryton.map_or_else(|| String::from("-"), |t| format!("{}×", report::rate(r.per_second() / t))),
            ]);
        }
    }
    table
}

/// Statements per operation of each step, the costliest first (with `--count-statements`).
pub fn statements_table(runs: &[(&'static str, usize, Vec<StepResult>)]) -> Option<Table> {
    let mut table = Table::new(&[
        ("Backend", Align::Left),
        ("Step", Align::Left),
        ("Statement", Align::Left),
        ("Per op", Align::Right),
        ("µs each", Align::Right),
        ("Σ time / wall", Align::Right),
    ]);
    let mut any = false;
    for (backend, _, results) in runs {
        for r in results {
            let Some(totals) = &r.statements else { continue };
            any = true;
            let step_secs = r.elapsed.as_secs_f64().max(1e-9);
            let ops = r.ops.max(1) as f64;
            table.push(vec![
                (*backend).to_owned(),
                r.step.label().trim().to_owned(),
                String::from("(all statements)"),
                format!("{:.1}", totals.count() as f64 / ops),
                format!("{:.1}", totals.seconds() * 1e6 / totals.count().max(1) as f64),
                format!("{:.0}%", 100.0 * totals.seconds() / step_secs),
            ]);
            for (key, count, seconds) in totals.top(8) {
                table.push(vec![
                    String::new(),
                    String::new(),
                    key,
                    format!("{:.2}", count as f64 / ops),
                    format!("{:.1}", seconds * 1e6 / count.max(1) as f64),
                    format!("{:.0}%", 100.0 * seconds / step_secs),
                ]);
            }
        }
    }
    any.then_some(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_checked() {
        let page = |rows: &[(&str, &str)]| ListAnswer {
            rows: rows.iter().map(|(s, d)| ((*s).to_owned(), (*d).to_owned())).collect(),
            next_cursor: None,
        };
        assert!(check_page(&page(&[("confirmed", "2026-02-01"), ("confirmed", "2026-01-01")]), 2, "confirmed").is_ok());
        assert!(
            check_page(&page(&[("confirmed", "2026-01-01"), ("confirmed", "2026-02-01")]), 2, "confirmed").is_err()
        );
        assert!(check_page(&page(&[("draft", "2026-01-01")]), 1, "confirmed").is_err());
        assert!(check_page(&page(&[]), 1, "confirmed").is_err());
    }

    #[test]
    fn scale_keeps_twenty_orders_per_hot_supplier() {
        let s = Sizes::scaled(10, 200);
        assert_eq!((s.suppliers, s.purchases, s.hot), (20_000, 10_000, 500));
        assert_eq!(s.purchases / s.hot, 20);
    }
}
