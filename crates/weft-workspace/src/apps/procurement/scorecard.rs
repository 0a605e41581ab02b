//! Supplier scorecards, computed from what happened, never typed in.
//!
//! The `procurement_scorecard` outbox consumer ([`SupplierScorecard`]) recomputes a
//! supplier's scorecard when something that moves it is committed — a goods receipt is
//! posted or reversed, a quality inspection is filed, an invoice is matched or accepted, an
//! order is confirmed — and writes it to the supplier's `supplier_profile` through the
//! façade as the system (history, audit and an event like any change). The figures, over
//! the last 12 months (365 days up to today, by the documents' business dates):
//!
//! - **on-time delivery rate** (`on_time_rate`): of the receipt lines of posted goods
//!   receipts, the share whose receipt `received_on` is on or before the promised date of
//!   the order line (else the order's `promised_date`). Lines of orders that promised no
//!   date are left out.
//! - **quality pass rate** (`quality_rate`): the mean of two rates, or the one there is:
//!   the QC pass rate (quality inspection reports with result `pass` over all reports,
//!   outgoing and incoming alike) and the acceptance rate (Σ accepted quantity over Σ
//!   received quantity of the receipt lines). A failed QC report and a lot accepted short
//!   both pull it down; neither alone decides it.
//! - **price variance** (`price_variance`): the mean, over the lines of matched or accepted
//!   invoices, of (invoice unit price − order unit price) / order unit price, in percent;
//!   positive when the supplier bills more than was ordered. The same against the item's
//!   last price (the unit price of the item on this supplier's previous order) is reported
//!   by [`Workspace::supplier_scorecard`] as `last_price_variance` (it has no profile field).
//! - **response time** (`response_hours`): the mean number of hours from an order's
//!   approval (its latest `transition:approve` before the confirmation: the
//!   `record.transitioned` event to `approved`, as the order's history keeps it) to the
//!   supplier's confirmation (`confirmed_at`), over orders confirmed in the window.
//! - **health score** (`score`, 0–100): the weighted mean of four sub-scores, each 0–100:
//!   on-time rate (weight 40), quality rate (35), price (15: 100 less 20 points per
//!   percentage point billed above the order price, so 5 % over scores 0; billing below
//!   costs nothing) and response (10: 100 within 24 hours, 0 from a week, linear between).
//!   A figure without evidence is left out and the others' weights are scaled up; with no
//!   evidence at all there is no score. Bands: 85 and above is good, 70 to 85 is to watch,
//!   below 70 is at risk.
//!
//! When a supplier's score falls below 70 (from 70 or more, or from no score), the buyers of
//! its orders of the last 12 months get an `alert` in their inbox (there is no rules engine
//! yet; `Workspace::raise_alert` is what one will call).
//!
//! Guests of the `supplier_portal` role never see the score fields of their profile (field
//! rules, which cannot depend on the record). A supplier sees its own scorecard only through
//! [`Workspace::supplier_scorecard`] (`GET /api/v1/procurement/suppliers/{party}/scorecard`),
//! and only when its profile says `share_score`.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use serde_json::Map;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::Value;
use weft_store::BoxFuture;
use weft_store::kernel::history;
use weft_store::kernel::outbox::StoredEvent;

use super::quantities::{lines, number, reference};
use crate::collab::NewAlert;
use crate::consumers::Consumer;
use crate::{Error, ListQuery, RecordView, Result, Workspace};

/// The window: the last 365 days up to today.
pub const WINDOW_DAYS: i64 = 365;
/// Below this score the buyers are alerted.
pub const ALERT_BELOW: Decimal = Decimal::from_parts(70, 0, 0, false, 0);
/// From this score a supplier is in good standing.
pub const GOOD_FROM: Decimal = Decimal::from_parts(85, 0, 0, false, 0);
/// Hours within which a confirmation scores full marks, and from which it scores none.
const RESPONSE_FULL_HOURS: i64 = 24;
const RESPONSE_ZERO_HOURS: i64 = 168;
/// Points of the price sub-score lost per percentage point billed above the order price.
const PRICE_POINTS_PER_PCT: i64 = 20;

/// The weight of each sub-score in the health score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Weights {
    pub on_time: u32,
    pub quality: u32,
    pub price: u32,
    pub response: u32,
}

pub const WEIGHTS: Weights = Weights { on_time: 40, quality: 35, price: 15, response: 10 };

/// One line of a posted goods receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    pub received_on: Date,
    /// The order line's promised date, else the order's; `None` when neither was promised.
    pub promised: Option<Date>,
    pub received: Decimal,
    pub accepted: Decimal,
}

/// One quality inspection report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub inspected_on: Date,
    pub passed: bool,
}

/// One line of a matched or accepted invoice with the prices it is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceLine {
    pub invoice_date: Date,
    pub invoiced: Decimal,
    /// The order line's unit price.
    pub ordered: Decimal,
    /// The item's unit price on the supplier's previous order, when there was one.
    pub last: Option<Decimal>,
}

/// An order's approval and the supplier's confirmation of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub approved_at: OffsetDateTime,
    pub confirmed_at: OffsetDateTime,
}

/// Everything a scorecard is computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    pub receipts: Vec<ReceiptLine>,
    pub inspections: Vec<Inspection>,
    pub prices: Vec<PriceLine>,
    pub responses: Vec<Response>,
}

/// How much evidence each figure rests on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Basis {
    /// Receipt lines of orders with a promised date.
    pub receipt_lines: u64,
    pub on_time_lines: u64,
    pub inspections: u64,
    pub passed_inspections: u64,
    #[schema(value_type = String)]
    pub received_qty: Decimal,
    #[schema(value_type = String)]
    pub accepted_qty: Decimal,
    pub invoice_lines: u64,
    pub last_price_lines: u64,
    pub confirmations: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// 85 and above.
    Good,
    /// 70 to below 85.
    Watch,
    /// Below 70: the buyers are alerted.
    AtRisk,
}

/// A supplier's scorecard. Rates and variances are percentages with one decimal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Scorecard {
    /// The first day of the window (`YYYY-MM-DD`).
    pub since: String,
    /// The day it was computed for.
    pub until: String,
    #[schema(value_type = Option<String>)]
    pub on_time_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub quality_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub qc_pass_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub acceptance_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub price_variance: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub last_price_variance: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub response_hours: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub score: Option<Decimal>,
    pub band: Option<Band>,
    pub basis: Basis,
}

fn one_decimal(d: Decimal) -> Decimal {
    let mut d = d.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
    d.rescale(1);
    d
}

fn percent(part: Decimal, whole: Decimal) -> Option<Decimal> {
    (!whole.is_zero()).then(|| part * Decimal::ONE_HUNDRED / whole)
}

fn mean(values: impl IntoIterator<Item = Decimal>) -> Option<Decimal> {
    let (sum, n) = values.into_iter().fold((Decimal::ZERO, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / Decimal::from(n))
}

fn clamp_score(d: Decimal) -> Decimal {
    d.max(Decimal::ZERO).min(Decimal::ONE_HUNDRED)
}

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The first day of the 12-month window ending `today`.
pub fn window_start(today: Date) -> Date {
    today - Duration::days(WINDOW_DAYS)
}

/// The band of a score.
pub fn band(score: Decimal) -> Band {
    if score >= GOOD_FROM {
        Band::Good
    } else if score >= ALERT_BELOW {
        Band::Watch
    } else {
        Band::AtRisk
    }
}

/// Whether a change of score from `previous` to `now` must alert the buyers: it fell below
/// the threshold (from at or above it, or from no score at all).
pub fn falls_below(previous: Option<Decimal>, now: Option<Decimal>) -> bool {
    match now {
        Some(now) => now < ALERT_BELOW && previous.is_none_or(|p| p >= ALERT_BELOW),
        None => false,
    }
}

/// Computes the scorecard from its evidence as of `today` (pure).
pub fn compute(evidence: &Evidence, today: Date) -> Scorecard {
    let since = window_start(today);
    let mut basis = Basis::default();

    let receipts: Vec<&ReceiptLine> = evidence.receipts.iter().filter(|r| r.received_on >= since).collect();
    for r in &receipts {
        basis.received_qty += r.received;
        basis.accepted_qty += r.accepted;
        if let Some(promised) = r.promised {
            basis.receipt_lines += 1;
            basis.on_time_lines += u64::from(r.received_on <= promised);
        }
    }
    let on_time_rate = percent(Decimal::from(basis.on_time_lines), Decimal::from(basis.receipt_lines));
    let acceptance_rate = percent(basis.accepted_qty, basis.received_qty);

    for i in evidence.inspections.iter().filter(|i| i.inspected_on >= since) {
        basis.inspections += 1;
        basis.passed_inspections += u64::from(i.passed);
    }
    let qc_pass_rate = percent(Decimal::from(basis.passed_inspections), Decimal::from(basis.inspections));
    let quality_rate = mean([qc_pass_rate, acceptance_rate].into_iter().flatten());

    let prices: Vec<&PriceLine> =
        evidence.prices.iter().filter(|p| p.invoice_date >= since && !p.ordered.is_zero()).collect();
    basis.invoice_lines = prices.len() as u64;
    let price_variance = mean(prices.iter().filter_map(|p| percent(p.invoiced - p.ordered, p.ordered)));
    let against_last: Vec<Decimal> = prices
        .iter()
        .filter_map(|p| p.last.filter(|l| !l.is_zero()).and_then(|last| percent(p.invoiced - last, last)))
        .collect();
    basis.last_price_lines = against_last.len() as u64;
    let last_price_variance = mean(against_last);

    let hours: Vec<Decimal> = evidence
        .responses
        .iter()
        .filter(|r| r.confirmed_at.date() >= since && r.confirmed_at >= r.approved_at)
        .map(|r| Decimal::from((r.confirmed_at - r.approved_at).whole_seconds()) / Decimal::from(3600))
        .collect();
    basis.confirmations = hours.len() as u64;
    let response_hours = mean(hours);

    let price_score = price_variance
        .map(|v| clamp_score(Decimal::ONE_HUNDRED - Decimal::from(PRICE_POINTS_PER_PCT) * v.max(Decimal::ZERO)));
    let response_score = response_hours.map(|h| {
        let full = Decimal::from(RESPONSE_FULL_HOURS);
        let span = Decimal::from(RESPONSE_ZERO_HOURS - RESPONSE_FULL_HOURS);
        clamp_score(Decimal::ONE_HUNDRED - (h - full).max(Decimal::ZERO) * Decimal::ONE_HUNDRED / span)
    });
    let parts = [
        (on_time_rate, WEIGHTS.on_time),
        (quality_rate, WEIGHTS.quality),
        (price_score, WEIGHTS.price),
        (response_score, WEIGHTS.response),
    ];
    let (weighted, weights) = parts
        .iter()
        .filter_map(|(value, weight)| value.map(|v| (v * Decimal::from(*weight), Decimal::from(*weight))))
        .fold((Decimal::ZERO, Decimal::ZERO), |(s, w), (v, weight)| (s + v, w + weight));
    let score = (!weights.is_zero()).then(|| one_decimal(weighted / weights));

    Scorecard {
        since: iso(since),
        until: iso(today),
        on_time_rate: on_time_rate.map(one_decimal),
        quality_rate: quality_rate.map(one_decimal),
        qc_pass_rate: qc_pass_rate.map(one_decimal),
        acceptance_rate: acceptance_rate.map(one_decimal),
        price_variance: price_variance.map(one_decimal),
        last_price_variance: last_price_variance.map(one_decimal),
        response_hours: response_hours.map(one_decimal),
        score,
        band: score.map(band),
        basis,
    }
}

// ── the engine ─────────────────────────────────────────────────────────────────────────

/// Recomputes the scorecard of the supplier concerned by each relevant event; run it with
/// `Workspace::spawn_consumer` (as `weft serve` does). Idempotent: a replayed event computes
/// the same figures, which are then not written again, and its alert is keyed.
#[derive(Debug, Clone, Copy, Default)]
pub struct SupplierScorecard;

impl Consumer for SupplierScorecard {
    fn name(&self) -> &str {
        "procurement_scorecard"
    }

    fn handle<'a>(&'a self, workspace: &'a Workspace, event: &'a StoredEvent) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let Some(id) = event.record_id else { return Ok(()) };
            let posted = event.kind == "record.created"
                && event.type_name == "goods_receipt"
                && event.payload["state"] == "posted";
            let relevant = posted
                || matches!(
                    (event.kind.as_str(), event.type_name.as_str(), event.payload["to"].as_str()),
                    ("record.created", "quality_inspection", _)
                        | ("record.transitioned", "goods_receipt", Some("posted" | "reversed"))
                        | ("record.transitioned", "supplier_invoice", Some("matched" | "accepted"))
                        | ("record.transitioned", "purchase_order", Some("confirmed"))
                );
            let ours = workspace.entry(&event.type_name).ok().is_some_and(|e| super::hook(&e).is_some());
            if !relevant || !ours {
                return Ok(());
            }
            let record = match workspace.get(&Principal::system(), &event.type_name, id).await {
                Ok(record) => record,
                // Deleted since: whatever it changed is recomputed by the next event.
                Err(Error::NotFound(_)) => return Ok(()),
                Err(e) => return Err(e),
            };
            match reference(&record.values, "supplier") {
                Some(supplier) => workspace.refresh_scorecard(supplier).await.map(drop),
                None => Ok(()),
            }
        })
    }
}

fn text(value: Option<&Value>) -> Option<&str> {
    match value {
        Some(Value::Text(t) | Value::Select(t)) => Some(t),
        _ => None,
    }
}

fn date(value: Option<&Value>) -> Option<Date> {
    match value {
        Some(Value::Date(d)) => Some(*d),
        _ => None,
    }
}

fn decimal(value: Option<&Value>) -> Option<Decimal> {
    match value {
        Some(Value::Decimal(d)) => Some(*d),
        _ => None,
    }
}

/// The order line a document line names (`po_line`, the line's id as text).
fn order_line(order: &RecordView, line: &BTreeMap<String, Value>) -> Option<BTreeMap<String, Value>> {
    let wanted = Uuid::parse_str(text(line.get("po_line"))?.trim()).ok()?;
    lines(&order.values).into_iter().find(|l| reference(l, "id") == Some(wanted))
}

/// What the buyers read in their inbox when a supplier falls below the threshold.
fn alert_summary(name: &str, card: &Scorecard) -> String {
    let show = |d: Option<Decimal>, unit: &str| d.map_or("–".to_owned(), |d| format!("{d}{unit}"));
    format!(
        "Supplier score below {ALERT_BELOW}: {name} {} (on time {}, quality {}, price {}, response {})",
        show(card.score, ""),
        show(card.on_time_rate, " %"),
        show(card.quality_rate, " %"),
        show(card.price_variance, " %"),
        show(card.response_hours, " h"),
    )
}

fn quoted(d: Date) -> String {
    format!("date(\"{}\")", iso(d))
}

impl Workspace {
    /// Every record of `type_name` matching `filter`, read as the system, page by page.
    pub(super) async fn all_of(&self, type_name: &str, filter: String) -> Result<Vec<RecordView>> {
        let system = Principal::system();
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let query = ListQuery { filter: Some(filter.clone()), cursor, limit: Some(500), ..ListQuery::default() };
            let page = self.list(&system, type_name, &query).await?;
            out.extend(page.records);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(out),
            }
        }
    }

    async fn supplier_profile(&self, supplier: Uuid) -> Result<Option<RecordView>> {
        let query =
            ListQuery { filter: Some(format!("supplier = \"{supplier}\"")), limit: Some(1), ..ListQuery::default() };
        Ok(self.list(&Principal::system(), "supplier_profile", &query).await?.records.into_iter().next())
    }

    /// The evidence of `supplier`'s scorecard as of `today`, and the buyers of its recent
    /// orders.
    async fn scorecard_evidence(&self, supplier: Uuid, today: Date) -> Result<(Evidence, BTreeSet<Uuid>)> {
        let since = window_start(today);
        let of_supplier = format!("supplier = \"{supplier}\"");
        // Orders of a year before the window too: deliveries and invoices in the window
        // may belong to them, and they hold the items' earlier prices.
        let mut orders: BTreeMap<Uuid, RecordView> = self
            .all_of(
                "purchase_order",
                format!("{of_supplier} and order_date >= {}", quoted(since - Duration::days(WINDOW_DAYS))),
            )
            .await?
            .into_iter()
            .map(|o| (o.system.id, o))
            .collect();
        let receipts = self
            .all_of(
                "goods_receipt",
                format!("{of_supplier} and state = \"posted\" and received_on >= {}", quoted(since)),
            )
            .await?;
        let inspections = self.all_of("quality_inspection", of_supplier.clone()).await?;
        let invoices = self
            .all_of(
                "supplier_invoice",
                format!(
                    "{of_supplier} and (state = \"matched\" or state = \"accepted\") and invoice_date >= {}",
                    quoted(since)
                ),
            )
            .await?;
        // An order older than two years with a document in the window is read on its own.
        let named: BTreeSet<Uuid> = receipts
            .iter()
            .chain(&invoices)
            .filter_map(|d| reference(&d.values, "purchase_order"))
            .filter(|id| !orders.contains_key(id))
            .collect();
        for id in named {
            match self.get(&Principal::system(), "purchase_order", id).await {
                Ok(order) => {
                    orders.insert(id, order);
                }
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }

        let mut evidence = Evidence::default();
        for receipt in &receipts {
            let Some(order) = reference(&receipt.values, "purchase_order").and_then(|id| orders.get(&id)) else {
                continue;
            };
            let received_on = date(receipt.values.get("received_on")).unwrap_or(receipt.system.created_at.date());
            for line in lines(&receipt.values) {
                let promised = order_line(order, &line)
                    .and_then(|l| date(l.get("promised_date")))
                    .or_else(|| date(order.values.get("promised_date")));
                evidence.receipts.push(ReceiptLine {
                    received_on,
                    promised,
                    received: number(line.get("received_qty")),
                    accepted: number(line.get("accepted_qty")),
                });
            }
        }
        for report in &inspections {
            let inspected_on = date(report.values.get("inspected_on")).unwrap_or(report.system.created_at.date());
            let passed = text(report.values.get("result")) == Some("pass");
            evidence.inspections.push(Inspection { inspected_on, passed });
        }

        // Each item's unit price on the supplier's orders, in order-date order, for "last price".
        let mut by_date: Vec<&RecordView> = orders.values().collect();
        by_date.sort_by_key(|o| (date(o.values.get("order_date")), o.system.created_at));
        let position: BTreeMap<Uuid, usize> = by_date.iter().enumerate().map(|(i, o)| (o.system.id, i)).collect();
        let last_price = |order: &RecordView, item: Uuid| -> Option<Decimal> {
            let at = *position.get(&order.system.id)?;
            by_date[..at].iter().rev().find_map(|earlier| {
                lines(&earlier.values)
                    .iter()
                    .rev()
                    .find(|l| reference(l, "item") == Some(item))
                    .and_then(|l| decimal(l.get("unit_price")))
            })
        };
        for invoice in &invoices {
            let Some(order) = reference(&invoice.values, "purchase_order").and_then(|id| orders.get(&id)) else {
                continue;
            };
            let invoice_date = date(invoice.values.get("invoice_date")).unwrap_or(invoice.system.created_at.date());
            for line in lines(&invoice.values) {
                let Some(ordered) = order_line(order, &line) else { continue };
                evidence.prices.push(PriceLine {
                    invoice_date,
                    invoiced: number(line.get("unit_price")),
                    ordered: number(ordered.get("unit_price")),
                    last: reference(&ordered, "item").and_then(|item| last_price(order, item)),
                });
            }
        }

        let since_start = since.midnight().assume_utc();
        for order in orders.values() {
            let Some(Value::DateTime(confirmed_at)) = order.values.get("confirmed_at") else { continue };
            if *confirmed_at < since_start {
                continue;
            }
            let approved_at = history::for_record(&self.db, "purchase_order", order.system.id)
                .await?
                .into_iter()
                .filter(|h| h.command == "transition:approve" && h.at <= *confirmed_at)
                .map(|h| h.at)
                .next_back();
            if let Some(approved_at) = approved_at {
                evidence.responses.push(Response { approved_at, confirmed_at: *confirmed_at });
            }
        }

        let buyers = orders
            .values()
            .filter(|o| date(o.values.get("order_date")).is_some_and(|d| d >= since))
            .filter_map(|o| reference(&o.values, "buyer"))
            .collect();
        Ok((evidence, buyers))
    }

    /// Recomputes `supplier`'s scorecard and writes it to its profile (as the system, only
    /// when a figure changed); alerts the buyers when the score falls below the threshold.
    /// `None` when the supplier has no profile.
    pub async fn refresh_scorecard(&self, supplier: Uuid) -> Result<Option<Scorecard>> {
        if self.supplier_profile(supplier).await?.is_none() {
            return Ok(None);
        }
        let today = weft_store::now().date();
        let (evidence, buyers) = self.scorecard_evidence(supplier, today).await?;
        let card = compute(&evidence, today);
        let figures = [
            ("on_time_rate", card.on_time_rate),
            ("quality_rate", card.quality_rate),
            ("price_variance", card.price_variance),
            ("response_hours", card.response_hours),
            ("score", card.score),
        ];
        let mut alerted = false;
        // A profile changed meanwhile (by a person) is read again and the figures written
        // on top of that change.
        for _ in 0..3 {
            let Some(profile) = self.supplier_profile(supplier).await? else { return Ok(None) };
            let stored = |field: &str| decimal(profile.values.get(field)).map(one_decimal);
            let changes: Map<String, serde_json::Value> = figures
                .iter()
                .filter(|(field, value)| stored(field) != *value)
                .map(|(field, value)| {
                    ((*field).to_owned(), value.map_or(serde_json::Value::Null, |v| v.to_string().into()))
                })
                .collect();
            if changes.is_empty() {
                break;
            }
            if !alerted && falls_below(stored("score"), card.score) {
                // Before the write: a crash between the two repeats the alert under the same
                // key (the profile's version), which delivers nothing twice.
                self.raise_alert(NewAlert {
                    recipients: buyers.iter().copied().collect(),
                    type_name: "supplier_profile".into(),
                    record_id: profile.system.id,
                    summary: alert_summary(text(profile.values.get("display_name")).unwrap_or_default(), &card),
                    source: format!("scorecard:{}:v{}", profile.system.id, profile.system.version),
                })
                .await?;
                alerted = true;
            }
            let (id, version) = (profile.system.id, Some(profile.system.version));
            match self.update(&Principal::system(), "supplier_profile", id, version, changes).await {
                Ok(_) => break,
                Err(Error::Stale { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(Some(card))
    }

    /// `supplier`'s scorecard, computed now, for someone who may read its profile. A guest
    /// sees its own supplier's only when the profile says `share_score` (403 otherwise: it
    /// can see the profile, just not these figures).
    pub async fn supplier_scorecard(&self, principal: &Principal, supplier: Uuid) -> Result<ScorecardView> {
        let not_found = || Error::NotFound(format!("scorecard of supplier {supplier}"));
        let profile = self.supplier_profile(supplier).await?.ok_or_else(not_found)?;
        // The reader's own access decides, exactly as reading the profile would.
        self.get(principal, "supplier_profile", profile.system.id).await.map_err(|e| match e {
            Error::NotFound(_) => not_found(),
            other => other,
        })?;
        let shared = matches!(profile.values.get("share_score"), Some(Value::Bool(true)));
        if principal.party().is_some() && !shared {
            return Err(Error::Forbidden("this workspace does not share the scorecard with the supplier".into()));
        }
        let today = weft_store::now().date();
        let (evidence, _) = self.scorecard_evidence(supplier, today).await?;
        Ok(ScorecardView {
            supplier,
            profile: profile.system.id,
            display_name: text(profile.values.get("display_name")).unwrap_or_default().to_owned(),
            shared,
            scorecard: compute(&evidence, today),
            weights: WEIGHTS,
            alert_below: ALERT_BELOW.to_string(),
            good_from: GOOD_FROM.to_string(),
        })
    }
}

/// A scorecard as `GET /api/v1/procurement/suppliers/{party}/scorecard` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ScorecardView {
    /// The supplier party.
    pub supplier: Uuid,
    /// Its `supplier_profile` record, where the figures are kept.
    pub profile: Uuid,
    pub display_name: String,
    /// Whether the supplier's portal contacts may see it (`share_score`).
    pub shared: bool,
    pub scorecard: Scorecard,
    pub weights: Weights,
    /// Below this score the buyers are alerted.
    pub alert_below: String,
    /// From this score a supplier is in good standing.
    pub good_from: String,
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    const TODAY: Date = date!(2026 - 12 - 01);

    fn receipt(received_on: Date, promised: Option<Date>, received: &str, accepted: &str) -> ReceiptLine {
        ReceiptLine { received_on, promised, received: dec(received), accepted: dec(accepted) }
    }

    #[test]
    fn on_time_counts_receipt_lines_by_promised_date_within_twelve_months() {
        let evidence = Evidence {
            receipts: vec![
                // On the promised day and before: on time.
                receipt(date!(2026 - 11 - 10), Some(date!(2026 - 11 - 10)), "10", "10"),
                receipt(date!(2026 - 10 - 01), Some(date!(2026 - 10 - 05)), "5", "5"),
                // A day late.
                receipt(date!(2026 - 09 - 02), Some(date!(2026 - 09 - 01)), "8", "8"),
                // No promise: counted for acceptance, not for punctuality.
                receipt(date!(2026 - 08 - 01), None, "2", "2"),
                // Older than 12 months: left out entirely.
                receipt(date!(2025 - 11 - 30), Some(date!(2025 - 11 - 01)), "100", "0"),
            ],
            ..Evidence::default()
        };
        let card = compute(&evidence, TODAY);
        assert_eq!(card.since, "2025-12-01");
        assert_eq!((card.basis.receipt_lines, card.basis.on_time_lines), (3, 2));
        assert_eq!(card.on_time_rate, Some(dec("66.7")));
        assert_eq!(card.acceptance_rate, Some(dec("100.0")));
    }

    #[test]
    fn quality_is_the_mean_of_qc_pass_rate_and_acceptance() {
        let mut evidence = Evidence {
            receipts: vec![receipt(date!(2026 - 11 - 01), None, "100", "90")],
            inspections: vec![
                Inspection { inspected_on: date!(2026 - 11 - 01), passed: true },
                Inspection { inspected_on: date!(2026 - 11 - 02), passed: false },
                Inspection { inspected_on: date!(2026 - 11 - 03), passed: true },
                Inspection { inspected_on: date!(2026 - 11 - 04), passed: true },
            ],
            ..Evidence::default()
        };
        let card = compute(&evidence, TODAY);
        assert_eq!((card.qc_pass_rate, card.acceptance_rate), (Some(dec("75.0")), Some(dec("90.0"))));
        assert_eq!(card.quality_rate, Some(dec("82.5")));
        // Without reports, acceptance alone decides.
        evidence.inspections.clear();
        assert_eq!(compute(&evidence, TODAY).quality_rate, Some(dec("90.0")));
    }

    #[test]
    fn price_variance_is_the_mean_line_percentage_against_order_and_last_price() {
        let line = |invoiced: &str, ordered: &str, last: Option<&str>| PriceLine {
            invoice_date: date!(2026 - 11 - 01),
            invoiced: dec(invoiced),
            ordered: dec(ordered),
            last: last.map(dec),
        };
        let evidence = Evidence {
            prices: vec![line("105", "100", Some("100")), line("20", "20", None), line("9.8", "10", Some("9.5"))],
            ..Evidence::default()
        };
        let card = compute(&evidence, TODAY);
        // (5 + 0 − 2) / 3 = 1.0; against last: (5 + 3.157…) / 2 = 4.08 → 4.1.
        assert_eq!(card.price_variance, Some(dec("1.0")));
        assert_eq!(card.last_price_variance, Some(dec("4.1")));
        assert_eq!((card.basis.invoice_lines, card.basis.last_price_lines), (3, 2));
        // Price alone: 1 % over costs 20 points.
        assert_eq!(card.score, Some(dec("80.0")));
    }

    #[test]
    fn response_hours_average_approval_to_confirmation() {
        let evidence = Evidence {
            responses: vec![
                Response {
                    approved_at: datetime!(2026-11-01 08:00 UTC),
                    confirmed_at: datetime!(2026-11-01 20:00 UTC),
                },
                Response {
                    approved_at: datetime!(2026-11-02 08:00 UTC),
                    confirmed_at: datetime!(2026-11-04 20:00 UTC),
                },
                // Confirmed before the window: left out.
                Response {
                    approved_at: datetime!(2025-01-01 08:00 UTC),
                    confirmed_at: datetime!(2025-01-09 08:00 UTC),
                },
            ],
            ..Evidence::default()
        };
        let card = compute(&evidence, TODAY);
        assert_eq!(card.response_hours, Some(dec("36.0")));
        // 36 h: 12 h past the full-marks day over a 144 h slope → 91.7.
        assert_eq!(card.score, Some(dec("91.7")));
    }

    #[test]
    fn the_score_weights_what_there_is_and_bands_it() {
        assert_eq!(compute(&Evidence::default(), TODAY).score, None, "no evidence, no score");
        let evidence = Evidence {
            // On time 50 %, acceptance 80 %: (50 × 40 + 80 × 35) / 75 = 64.0.
            receipts: vec![
                receipt(date!(2026 - 11 - 01), Some(date!(2026 - 11 - 01)), "50", "40"),
                receipt(date!(2026 - 11 - 02), Some(date!(2026 - 11 - 01)), "50", "40"),
            ],
            ..Evidence::default()
        };
        let card = compute(&evidence, TODAY);
        assert_eq!(card.score, Some(dec("64.0")));
        assert_eq!(card.band, Some(Band::AtRisk));
        assert_eq!(band(dec("85")), Band::Good);
        assert_eq!(band(dec("84.9")), Band::Watch);
        assert_eq!(band(dec("70")), Band::Watch);
    }

    #[test]
    fn buyers_are_alerted_only_when_the_score_falls_below_the_threshold() {
        assert!(falls_below(None, Some(dec("69.9"))));
        assert!(falls_below(Some(dec("70.0")), Some(dec("65"))));
        assert!(!falls_below(Some(dec("60")), Some(dec("55"))), "already below: told before");
        assert!(!falls_below(Some(dec("90")), Some(dec("70"))));
        assert!(!falls_below(Some(dec("90")), None));
    }
}
