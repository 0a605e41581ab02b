//! What the sample company did over the last 12 months, decided up front from a seed and
//! today's date (pure and deterministic: the same seed, scale and day give the same plan).
//! The loader then replays it through the façade; nothing here touches the database.
//!
//! Each supplier has a character: most deliver on time and bill what was ordered, some are
//! so-so, a few are poor (late, lots refused at receipt, failed QC, invoices above the
//! order price), so the scorecards spread from good to at risk. Orders run their course as
//! far as today allows: recent ones wait for the supplier's answer, are in production, are
//! on the road (a shipping notice in transit) or wait for their invoice; older ones are
//! received (some late, some in two deliveries, some lots partly refused), invoiced (most
//! matching, some price differences accepted or refused by the buyer) and paid.
//!
//! Suppliers also differ in how fast they answer an approved order (`response_hours`): most
//! within hours or a day, a few only after days. An order's own steps have times of day
//! (`OrderTimes`: raised in the morning of its order date, submitted and approved within
//! hours, answered after the supplier's response time), on the company's clock (China,
//! UTC+8); the supplier's answer falls on the day that time gives.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rust_decimal::{Decimal, RoundingStrategy};
use time::macros::offset;
use time::{Date, Duration, OffsetDateTime, UtcOffset};

use super::names::{self, ACCEPT_REASONS, CARRIERS, DEFECTS, FAMILIES, SUPPLIERS};

/// How big a company to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    /// 8 suppliers, 40 items, 80 orders: for tests.
    Small,
    /// 40 suppliers, 200 items, 1,500 orders.
    #[default]
    Full,
}

impl Scale {
    pub fn suppliers(self) -> usize {
        match self {
            Scale::Small => 8,
            Scale::Full => SUPPLIERS.len(),
        }
    }

    pub fn items(self) -> usize {
        match self {
            Scale::Small => 40,
            Scale::Full => 200,
        }
    }

    pub fn orders(self) -> usize {
        match self {
            Scale::Small => 80,
            Scale::Full => 1_500,
        }
    }
}

/// How a supplier behaves: probabilities per delivery, lot and invoice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Character {
    pub on_time: f64,
    /// A lot partly refused at receipt.
    pub refuse: f64,
    /// An inspection failing without a refused lot.
    pub qc_fail: f64,
    /// An invoice priced above the order.
    pub overbill: f64,
}

const GOOD: Character = Character { on_time: 0.97, refuse: 0.02, qc_fail: 0.02, overbill: 0.03 };
const FAIR: Character = Character { on_time: 0.86, refuse: 0.06, qc_fail: 0.08, overbill: 0.10 };
const POOR: Character = Character { on_time: 0.50, refuse: 0.22, qc_fail: 0.30, overbill: 0.25 };

/// The company's clock: business dates are dates in China, working hours its hours.
pub const LOCAL: UtcOffset = offset!(+8);

/// `date` at `minutes` past midnight on the company's clock, as an instant (in UTC).
pub fn local_time(date: Date, minutes: i64) -> OffsetDateTime {
    (date.midnight().assume_offset(LOCAL) + Duration::minutes(minutes)).to_offset(UtcOffset::UTC)
}

#[derive(Debug, Clone, PartialEq)]
pub struct SupplierPlan {
    /// Index into `names::SUPPLIERS`.
    pub name: usize,
    /// The buyer (a person's key) who owns its orders.
    pub buyer: &'static str,
    pub payment_days: i64,
    pub price_tolerance_pct: Option<Decimal>,
    pub character: Character,
    pub share_score: bool,
    /// Relative order volume.
    pub weight: u32,
    /// How long it typically takes to answer an approved order, in hours (each answer
    /// takes between half and one and a half times this).
    pub response_hours: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemPlan {
    pub code: String,
    pub name: String,
    pub category: &'static str,
    pub uom: &'static str,
    pub specification: String,
    pub standard_price: Decimal,
    pub qty: (u32, u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePlan {
    /// Index into `Plan::items`.
    pub item: usize,
    pub qty: Decimal,
    pub unit_price: Decimal,
    pub tax_rate: Decimal,
    pub requested_date: Date,
    /// A promise for this line that differs from the order's.
    pub promised: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressPlan {
    pub reported_on: Date,
    pub percent: u32,
    pub stage: &'static str,
    pub expected_ship_date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionPlan {
    pub on: Date,
    /// `supplier` (outgoing, filed by the supplier) or `incoming` (by the warehouse).
    pub source: &'static str,
    pub line: usize,
    pub lot: String,
    pub sample: i64,
    pub defects: i64,
    pub pass: bool,
    pub note: Option<&'static str>,
}

/// One shipment: its shipping notice, and its receipt once it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPlan {
    pub ship_date: Date,
    pub eta: Date,
    /// `None` while on the road (after today).
    pub received_on: Option<Date>,
    pub carrier: usize,
    pub tracking: String,
    /// (order line, quantity shipped and received, quantity accepted).
    pub lines: Vec<(usize, Decimal, Decimal)>,
    pub defect: Option<&'static str>,
    pub outgoing_qc: Option<InspectionPlan>,
    pub incoming_qc: Option<InspectionPlan>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Accept(&'static str),
    Reject(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payment {
    Paid(Date),
    Scheduled,
    Open,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoicePlan {
    pub number: String,
    pub date: Date,
    /// (order line, quantity, unit price).
    pub lines: Vec<(usize, Decimal, Decimal)>,
    /// What the buyer does if the match flags it.
    pub if_flagged: Resolution,
    pub payment: Payment,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfilment {
    /// The supplier first proposed changes (with this note), then accepted.
    pub proposed_changes: Option<&'static str>,
    pub promised_date: Date,
    pub progress: Vec<ProgressPlan>,
    pub deliveries: Vec<DeliveryPlan>,
    pub invoice: Option<InvoicePlan>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Approval refused; the buyer cancelled it afterwards, or left it to revise.
    Rejected {
        reason: &'static str,
        cancelled: bool,
    },
    /// The supplier declined; the buyer cancelled it.
    Declined {
        note: &'static str,
    },
    /// Approved; the supplier has not answered yet.
    AwaitingConfirmation,
    Confirmed(Box<Fulfilment>),
}

/// When an order's own steps happened (instants; see `LOCAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderTimes {
    /// Raised by its buyer in the morning of its order date.
    pub created: OffsetDateTime,
    pub submitted: OffsetDateTime,
    /// Approved (or refused).
    pub decided: OffsetDateTime,
    /// When the supplier answers (accepts, or declines), its response time after the
    /// approval; an order whose answer falls after today awaits it. A supplier that proposes
    /// changes first does so halfway.
    pub answered: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPlan {
    /// Index into `Plan::suppliers`.
    pub supplier: usize,
    pub buyer: &'static str,
    pub category: &'static str,
    pub subject: String,
    pub order_date: Date,
    pub requested_date: Date,
    pub lines: Vec<LinePlan>,
    pub times: OrderTimes,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub today: Date,
    pub suppliers: Vec<SupplierPlan>,
    pub items: Vec<ItemPlan>,
    pub orders: Vec<OrderPlan>,
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

fn money(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// `d` changed by `basis_points` (1 % = 100), to the cent.
fn adjust(d: Decimal, basis_points: i64) -> Decimal {
    let mut out = (d * Decimal::from(10_000 + basis_points) / Decimal::from(10_000))
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    out.rescale(2);
    out
}

fn buyer_of(category: &str) -> &'static str {
    match category {
        "raw_material" | "components" | "packaging" => "buyer",
        _ => "buyer2",
    }
}

/// Lead time in days by category (order to requested delivery).
fn lead_days(category: &str) -> (i64, i64) {
    match category {
        "raw_material" => (10, 25),
        "components" => (15, 35),
        "electronics" => (20, 45),
        "packaging" => (7, 15),
        "mro" => (5, 12),
        "services" => (7, 20),
        _ => (45, 90),
    }
}

/// A quantity that looks ordered by a person: round tens and hundreds when large.
fn round_qty(q: u32) -> Decimal {
    let step = match q {
        0..=20 => 1,
        21..=200 => 10,
        201..=2000 => 50,
        _ => 500,
    };
    Decimal::from((q / step).max(1) * step)
}

fn suppliers(rng: &mut StdRng, scale: Scale) -> Vec<SupplierPlan> {
    (0..scale.suppliers())
        .map(|i| {
            let category = SUPPLIERS[i].category;
            // The two with portal sign-ins are pinned (good and shared; fair and not shared);
            // the sixth is poor so even the small scale has one supplier at risk.
            let character = match i {
                0 => GOOD,
                1 => FAIR,
                5 => POOR,
                _ => match rng.random_range(0..100) {
                    0..40 => GOOD,
                    40..85 => FAIR,
                    _ => POOR,
                },
            };
            let price_tolerance_pct = match rng.random_range(0..100) {
                0..25 => Some(Decimal::ONE),
                25..35 => Some(Decimal::from(3)),
                _ => None,
            };
            let weight = match category {
                "capex" => 1,
                "services" => 2,
                _ => rng.random_range(3..=9),
            };
            // Quick, within a day or slow (days): the pinned ones answer within hours
            // (shared score), in about a day, and slowly (the poor one).
            let response_hours = match i {
                0 => 4,
                1 => 26,
                5 => 110,
                _ => match rng.random_range(0..100) {
                    0..40 => rng.random_range(2..=10),
                    40..80 => rng.random_range(14..=40),
                    _ => rng.random_range(60..=140),
                },
            };
            SupplierPlan {
                name: i,
                buyer: buyer_of(category),
                payment_days: *[30, 45, 60, 90].choose(rng).expect("not empty"),
                price_tolerance_pct,
                character,
                share_score: i == 0,
                weight,
                response_hours,
            }
        })
        .collect()
}

/// Items round-robin over the categories the chosen suppliers serve, so every category
/// has items; codes by category (`RM-0001`, `CP-0001`, …).
fn items(rng: &mut StdRng, scale: Scale, suppliers: &[SupplierPlan]) -> Vec<ItemPlan> {
    let mut categories: Vec<&'static str> = Vec::new();
    for s in suppliers {
        let c = SUPPLIERS[s.name].category;
        if !categories.contains(&c) {
            categories.push(c);
        }
    }
    let mut pools: Vec<Vec<(&names::Family, &'static str)>> = categories
        .iter()
        .map(|c| {
            FAMILIES.iter().filter(|f| f.category == *c).flat_map(|f| f.variants.iter().map(move |v| (f, *v))).collect()
        })
        .collect();
    for pool in &mut pools {
        pool.reverse();
    }
    let mut out = Vec::new();
    let mut counters = vec![0usize; categories.len()];
    while out.len() < scale.items() && pools.iter().any(|p| !p.is_empty()) {
        for (c, pool) in pools.iter_mut().enumerate() {
            if out.len() >= scale.items() {
                break;
            }
            let Some((family, variant)) = pool.pop() else { continue };
            counters[c] += 1;
            let prefix = match categories[c] {
                "raw_material" => "RM",
                "components" => "CP",
                "electronics" => "EL",
                "packaging" => "PK",
                "mro" => "MR",
                "services" => "SV",
                _ => "CX",
            };
            let (lo, hi) = family.price;
            let cents = rng.random_range(i64::from(lo) * 100..=i64::from(hi) * 100);
            out.push(ItemPlan {
                code: format!("{prefix}-{:04}", counters[c]),
                name: format!("{} {} {variant}", family.zh, family.en),
                category: family.category,
                uom: family.uom,
                specification: (*variant).to_owned(),
                standard_price: money(cents),
                qty: family.qty,
            });
        }
    }
    out
}

struct Counters {
    invoice: Vec<u32>,
    lot: u32,
    tracking: u64,
}

/// Builds the plan of `scale` from `seed`, as of `today`.
pub fn plan(seed: u64, scale: Scale, today: Date) -> Plan {
    let mut rng = StdRng::seed_from_u64(seed);
    let suppliers = suppliers(&mut rng, scale);
    let items = items(&mut rng, scale, &suppliers);
    let total_weight: u32 = suppliers.iter().map(|s| s.weight).sum();
    let mut dates: Vec<Date> = (0..scale.orders()).map(|_| today - days(rng.random_range(0..=362))).collect();
    dates.sort();
    let mut counters =
        Counters { invoice: vec![0; suppliers.len()], lot: 0, tracking: 7_100_000_000 + seed % 1_000_000 };
    let orders = dates
        .into_iter()
        .map(|order_date| {
            let mut pick = rng.random_range(0..total_weight);
            let supplier = suppliers
                .iter()
                .position(|s| {
                    if pick < s.weight {
                        true
                    } else {
                        pick -= s.weight;
                        false
                    }
                })
                .expect("a supplier is picked");
            order(&mut rng, &suppliers, &items, supplier, order_date, today, &mut counters)
        })
        .collect();
    Plan { today, suppliers, items, orders }
}

fn order(
    rng: &mut StdRng,
    suppliers: &[SupplierPlan],
    items: &[ItemPlan],
    supplier: usize,
    order_date: Date,
    today: Date,
    counters: &mut Counters,
) -> OrderPlan {
    let s = &suppliers[supplier];
    let category = SUPPLIERS[s.name].category;
    let (lo, hi) = lead_days(category);
    let requested_date = order_date + days(rng.random_range(lo..=hi));
    let candidates: Vec<usize> = (0..items.len()).filter(|i| items[*i].category == category).collect();
    let max_lines = match category {
        "capex" => 1,
        "services" => 2,
        _ => 4,
    };
    let wanted = rng.random_range(1..=max_lines).min(candidates.len());
    let chosen: Vec<usize> = candidates.choose_multiple(rng, wanted).copied().collect();
    let lines: Vec<LinePlan> = chosen
        .iter()
        .map(|&item| {
            let plan = &items[item];
            let qty = round_qty(rng.random_range(plan.qty.0..=plan.qty.1));
            LinePlan {
                item,
                qty,
                unit_price: adjust(plan.standard_price, rng.random_range(-500..=500)),
                tax_rate: Decimal::from(if category == "services" { 6 } else { 13 }),
                requested_date,
                promised: None,
            }
        })
        .collect();
    let first = &items[lines[0].item];
    let subject = if lines.len() == 1 {
        first.name.clone()
    } else {
        format!("{} 等 {} 项 (+{} more)", first.name, lines.len(), lines.len() - 1)
    };
    let created = local_time(order_date, rng.random_range(8 * 60 + 30..=11 * 60 + 30));
    let submitted = created + Duration::minutes(rng.random_range(5..=60));
    let decided = submitted + Duration::minutes(rng.random_range(20..=240));
    let typical = i64::from(s.response_hours) * 60;
    let answered = decided + Duration::minutes(rng.random_range(typical / 2..=typical * 3 / 2).max(20));
    let times = OrderTimes { created, submitted, decided, answered };
    let mut order = OrderPlan {
        supplier,
        buyer: s.buyer,
        category,
        subject,
        order_date,
        requested_date,
        lines,
        times,
        outcome: Outcome::AwaitingConfirmation,
    };
    let roll = rng.random_range(0..1000);
    let answered_on = answered.to_offset(LOCAL).date();
    order.outcome = if roll < 20 {
        let reasons = ["预算不足 Over the quarter's budget", "请合并到下月订单 Combine with next month's order"];
        Outcome::Rejected { reason: reasons.choose(rng).expect("not empty"), cancelled: rng.random_bool(0.6) }
    } else if answered_on > today {
        Outcome::AwaitingConfirmation
    } else if roll < 30 {
        Outcome::Declined { note: "产能已满，无法按期交付 Capacity fully booked for the requested date" }
    } else {
        Outcome::Confirmed(Box::new(fulfil(rng, s, &mut order, answered_on, today, supplier, counters)))
    };
    order
}

#[allow(clippy::too_many_arguments)]
fn fulfil(
    rng: &mut StdRng,
    s: &SupplierPlan,
    order: &mut OrderPlan,
    answered_on: Date,
    today: Date,
    supplier: usize,
    counters: &mut Counters,
) -> Fulfilment {
    let c = s.character;
    let proposed_changes =
        rng.random_bool(0.03).then_some("交期需顺延一周，请确认 The delivery needs one more week, please confirm");
    let promised_date = order.requested_date + days(rng.random_range(0..=4));
    if order.lines.len() > 1 && rng.random_bool(0.2) {
        let last = order.lines.len() - 1;
        order.lines[last].promised = Some(promised_date + days(rng.random_range(3..=10)));
    }
    let mut f =
        Fulfilment { proposed_changes, promised_date, progress: Vec::new(), deliveries: Vec::new(), invoice: None };

    // Deliveries: one, or two for a partial first shipment; on time or late by character.
    let partial = rng.random_bool(0.15) && order.lines.iter().any(|l| l.qty > Decimal::ONE);
    let arrival = |rng: &mut StdRng, promised: Date, second: bool| -> Date {
        // A back order is late more often than not.
        if second && rng.random_bool(0.7) {
            promised + days(rng.random_range(3..=20))
        } else if rng.random_bool(c.on_time) {
            promised - days(rng.random_range(0..=3))
        } else {
            promised + days(rng.random_range(1..=if c.on_time < 0.7 { 20 } else { 10 }))
        }
    };
    let shipments: Vec<Vec<(usize, Decimal)>> = if partial {
        let mut first = Vec::new();
        let mut rest = Vec::new();
        for (i, line) in order.lines.iter().enumerate() {
            let share = Decimal::from(rng.random_range(50..=80)) / Decimal::ONE_HUNDRED;
            let now = (line.qty * share).floor().max(Decimal::ONE).min(line.qty);
            first.push((i, now));
            if line.qty > now {
                rest.push((i, line.qty - now));
            }
        }
        vec![first, rest]
    } else {
        vec![order.lines.iter().enumerate().map(|(i, l)| (i, l.qty)).collect()]
    };
    let mut arrived_all = true;
    let mut last_arrival = answered_on;
    for (n, shipment) in shipments.into_iter().filter(|s| !s.is_empty()).enumerate() {
        let received_on = arrival(rng, promised_date, n > 0).max(answered_on + days(1)).max(last_arrival + days(2));
        let transit = rng.random_range(1..=4);
        let ship_date = (received_on - days(transit)).max(answered_on);
        if ship_date > today {
            arrived_all = false;
            break;
        }
        let eta = ship_date + days(transit + rng.random_range(-1..=1)).max(days(1));
        let refused = rng.random_bool(c.refuse);
        let lines: Vec<(usize, Decimal, Decimal)> = shipment
            .iter()
            .enumerate()
            .map(|(k, (line, qty))| {
                let accepted = if refused && k == 0 && *qty > Decimal::ONE {
                    let cut = (*qty * Decimal::from(rng.random_range(2..=15)) / Decimal::ONE_HUNDRED).ceil();
                    *qty - cut.max(Decimal::ONE).min(*qty - Decimal::ONE)
                } else {
                    *qty
                };
                (*line, *qty, accepted)
            })
            .collect();
        let refused = lines.iter().any(|(_, q, a)| a < q);
        let defect = refused.then(|| *DEFECTS.choose(rng).expect("not empty"));
        counters.tracking += u64::from(rng.random_range(1..=977u32));
        let carrier = rng.random_range(0..CARRIERS.len());
        let tracking = format!("{}{}", CARRIERS[carrier].1, counters.tracking);
        let first_line = lines[0].0;
        let mut inspection = |rng: &mut StdRng, on: Date, source: &'static str, pass: bool| {
            counters.lot += 1;
            let (samples, worst) = if source == "supplier" { (20..=80, 9) } else { (5..=50, 12) };
            InspectionPlan {
                on,
                source,
                line: first_line,
                lot: format!("L{:02}{:02}-{:04}", ship_date.year() % 100, u8::from(ship_date.month()), counters.lot),
                sample: rng.random_range(samples),
                defects: if pass { rng.random_range(0..=1) } else { rng.random_range(3..=worst) },
                pass,
                note: (!pass).then(|| defect.unwrap_or(DEFECTS[1])),
            }
        };
        let outgoing_qc = (matches!(order.category, "components" | "electronics") && rng.random_bool(0.3)).then(|| {
            let pass = !rng.random_bool(c.qc_fail / 2.0);
            inspection(rng, ship_date - days(1), "supplier", pass)
        });
        let received = (received_on <= today).then_some(received_on);
        let incoming_qc = received.and_then(|on| {
            let inspect = if refused { rng.random_bool(0.8) } else { rng.random_bool(0.3) };
            inspect.then(|| {
                let pass = if refused { !rng.random_bool(0.75) } else { !rng.random_bool(c.qc_fail) };
                inspection(rng, on, "incoming", pass)
            })
        });
        f.deliveries.push(DeliveryPlan {
            ship_date,
            eta,
            received_on: received,
            carrier,
            tracking,
            lines,
            defect,
            outgoing_qc,
            incoming_qc,
        });
        match received {
            Some(on) => last_arrival = last_arrival.max(on),
            None => {
                arrived_all = false;
                break;
            }
        }
    }

    // Progress reports while it is made, for the longer lead times.
    let lead = (promised_date - order.order_date).whole_days();
    if lead >= 15 && rng.random_bool(0.5) {
        let on = order.order_date + days(lead / 2);
        if on <= today && on > answered_on {
            f.progress.push(ProgressPlan {
                reported_on: on,
                percent: rng.random_range(30..=70),
                stage: ["materials", "production", "assembly"].choose(rng).expect("not empty"),
                expected_ship_date: promised_date - days(2),
            });
        }
    }

    // The invoice, once everything arrived: what was accepted, at the order's price or not.
    let invoice_date = last_arrival + days(rng.random_range(1..=10));
    if arrived_all && !f.deliveries.is_empty() && invoice_date <= today {
        let mut accepted = vec![Decimal::ZERO; order.lines.len()];
        for d in &f.deliveries {
            for (line, _, a) in &d.lines {
                accepted[*line] += *a;
            }
        }
        let overbill = rng.random_bool(c.overbill);
        let big = overbill && rng.random_bool(0.5);
        let lines = order
            .lines
            .iter()
            .enumerate()
            .filter(|(i, _)| !accepted[*i].is_zero())
            .map(|(i, line)| {
                let price = if overbill && i == 0 {
                    adjust(line.unit_price, if big { rng.random_range(300..=800) } else { rng.random_range(30..=150) })
                } else {
                    line.unit_price
                };
                (i, accepted[i], price)
            })
            .collect();
        counters.invoice[supplier] += 1;
        let slug = SUPPLIERS[s.name].slug;
        let prefix: String = slug.split('-').map(|w| w.chars().next().unwrap_or('x')).collect();
        let due = invoice_date + days(s.payment_days);
        let payment = if due <= today {
            if rng.random_bool(0.95) {
                let on = due + days(rng.random_range(-5..=7));
                Payment::Paid(on.min(today).max(invoice_date))
            } else {
                Payment::Open
            }
        } else if (due - today).whole_days() <= 7 && rng.random_bool(0.5) {
            Payment::Scheduled
        } else {
            Payment::Open
        };
        f.invoice = Some(InvoicePlan {
            number: format!("{}-{}{:04}", prefix.to_uppercase(), invoice_date.year(), counters.invoice[supplier]),
            date: invoice_date,
            lines,
            if_flagged: if rng.random_bool(0.85) {
                Resolution::Accept(ACCEPT_REASONS.choose(rng).expect("not empty"))
            } else {
                Resolution::Reject("价格未经确认，请开具更正发票 Price not agreed: please send a corrected invoice")
            },
            payment,
        });
    }
    f
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2026 - 12 - 01);

    fn fulfilments(plan: &Plan) -> Vec<&Fulfilment> {
        plan.orders
            .iter()
            .filter_map(|o| match &o.outcome {
                Outcome::Confirmed(f) => Some(f.as_ref()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_same_seed_makes_the_same_company() {
        let a = plan(7, Scale::Small, TODAY);
        assert_eq!(a, plan(7, Scale::Small, TODAY));
        assert_ne!(a.orders, plan(8, Scale::Small, TODAY).orders);
    }

    #[test]
    fn the_full_scale_has_realistic_variety() {
        let p = plan(2026, Scale::Full, TODAY);
        assert_eq!((p.suppliers.len(), p.items.len(), p.orders.len()), (40, 200, 1500));
        let codes: std::collections::BTreeSet<&str> = p.items.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(codes.len(), 200, "item codes are unique");
        assert!(p.orders.windows(2).all(|w| w[0].order_date <= w[1].order_date));
        assert!(p.orders.iter().all(|o| o.order_date <= TODAY && o.order_date >= TODAY - days(365)));
        assert!(p.orders.iter().all(|o| p.items[o.lines[0].item].category == o.category));
        let f = fulfilments(&p);
        let deliveries: Vec<&DeliveryPlan> = f.iter().flat_map(|f| &f.deliveries).collect();
        let late = deliveries
            .iter()
            .zip(f.iter().flat_map(|f| f.deliveries.iter().map(move |_| f.promised_date)))
            .filter(|(d, promised)| d.received_on.is_some_and(|r| r > *promised))
            .count();
        let received = deliveries.iter().filter(|d| d.received_on.is_some()).count();
        assert!(received > 1200, "{received}");
        assert!(late * 100 / received > 5 && late * 100 / received < 40, "late {late} of {received}");
        assert!(deliveries.iter().any(|d| d.received_on.is_none()), "some shipping notices are in transit");
        assert!(f.iter().filter(|f| f.deliveries.len() == 2).count() > 50, "partial deliveries");
        assert!(deliveries.iter().filter(|d| d.lines.iter().any(|(_, q, a)| a < q)).count() > 30, "refused lots");
        let failed_qc = deliveries.iter().filter_map(|d| d.incoming_qc.as_ref()).filter(|q| !q.pass).count();
        assert!(failed_qc > 20, "{failed_qc}");
        let invoices: Vec<&InvoicePlan> = f.iter().filter_map(|f| f.invoice.as_ref()).collect();
        assert!(invoices.len() > 1000, "{}", invoices.len());
        let paid = invoices.iter().filter(|i| matches!(i.payment, Payment::Paid(_))).count();
        assert!(paid * 100 / invoices.len() > 70, "most are paid: {paid}");
        assert!(p.orders.iter().any(|o| matches!(o.outcome, Outcome::AwaitingConfirmation)));
        assert!(p.orders.iter().any(|o| matches!(o.outcome, Outcome::Rejected { .. })));
        assert!(p.orders.iter().any(|o| matches!(o.outcome, Outcome::Declined { .. })));
    }

    #[test]
    fn suppliers_answer_at_their_own_pace() {
        let p = plan(2026, Scale::Full, TODAY);
        for o in &p.orders {
            let t = o.times;
            assert!(t.created < t.submitted && t.submitted < t.decided && t.decided < t.answered, "{t:?}");
            assert_eq!(t.created.to_offset(LOCAL).date(), o.order_date);
            let hour = t.created.to_offset(LOCAL).hour();
            assert!((8..12).contains(&hour), "raised in the morning: {hour}");
            let typical = i64::from(p.suppliers[o.supplier].response_hours) * 60;
            let took = (t.answered - t.decided).whole_minutes();
            assert!(took >= (typical / 2).max(20) && took <= typical * 3 / 2, "{took} for {typical}");
            if let Outcome::Confirmed(f) = &o.outcome {
                let answered_on = t.answered.to_offset(LOCAL).date();
                assert!(answered_on <= TODAY);
                assert!(f.deliveries.iter().all(|d| d.ship_date >= answered_on), "nothing ships before the answer");
            }
        }
        let hours: Vec<u32> = p.suppliers.iter().map(|s| s.response_hours).collect();
        assert!(hours.iter().filter(|h| **h <= 24).count() >= 10, "{hours:?}");
        assert!(hours.iter().filter(|h| **h >= 60).count() >= 3, "some are slow: {hours:?}");
        let small = plan(2026, Scale::Small, TODAY);
        assert!(
            small.suppliers.iter().any(|s| s.response_hours <= 24)
                && small.suppliers.iter().any(|s| s.response_hours > 72)
        );
    }

    #[test]
    fn documents_never_claim_more_than_was_ordered_nor_happen_after_today() {
        let p = plan(99, Scale::Full, TODAY);
        for order in &p.orders {
            let Outcome::Confirmed(f) = &order.outcome else { continue };
            let mut shipped = vec![Decimal::ZERO; order.lines.len()];
            for d in &f.deliveries {
                assert!(d.ship_date <= TODAY && d.received_on.is_none_or(|r| r <= TODAY));
                for (line, qty, accepted) in &d.lines {
                    assert!(accepted <= qty && *qty > Decimal::ZERO);
                    shipped[*line] += *qty;
                }
            }
            for (line, total) in shipped.iter().enumerate() {
                assert!(*total <= order.lines[line].qty, "{order:?}");
            }
            if let Some(invoice) = &f.invoice {
                assert!(invoice.date <= TODAY);
                assert!(f.deliveries.iter().all(|d| d.received_on.is_some()));
            }
        }
    }
}
