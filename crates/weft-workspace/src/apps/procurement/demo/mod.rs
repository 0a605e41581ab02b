//! `weft demo`: a realistic sample company — a manufacturer (华东精工 Huadong Precision) with
//! its org units and people, ~40 suppliers with their portal contacts and terms, ~200
//! items and ~1,500 purchase orders of the last 12 months with everything that follows
//! them — loaded through the façade, so history, audit and events are the real ones.
//!
//! What it does, in order:
//!
//! 1. Refuses a workspace that holds the demo already (its buyer's login exists) or any
//!    procurement record (it only ever loads into a fresh workspace).
//! 2. The company: org units (Purchasing, Finance, Warehouse, Production under the
//!    company), its people with their roles and unit heads, the supplier parties, each
//!    with a `supplier_portal` contact, their profiles (payment days, tolerances), items.
//! 3. History (`plan`: deterministic from the seed and today's date): orders created by
//!    their buyer (grouped by month and buyer into `bulk_create`s, so numbers follow the
//!    months), submitted, then approved (or refused) **as the system** rather than through
//!    1,500 approval processes; confirmations, progress reports, outgoing QC, shipping
//!    notices and invoices by the supplier's contact; receipts and incoming QC by the
//!    warehouse clerk; the three-way match by the matcher's own code; exceptions accepted or
//!    refused by the buyer; payables and payments by finance; orders closed by the buyer.
//!    Business dates (`order_date`, promised dates, `received_on`, `inspected_on`,
//!    `invoice_date`, `paid_on`) are historical. Deliveries go in two rounds (first
//!    shipments, then back orders), so each order's history runs in the order things
//!    happened (a back order's notice and receipt are numbered after every first
//!    shipment's).
//! 4. The history dated (`dating`): each command above was stamped with the moment of the
//!    load, so the historical orders and the records that follow them get the times the
//!    plan says instead — `created_at`/`updated_at`, their history entries' times and the
//!    orders' `confirmed_at` (an order raised in the morning of its order date, approved
//!    within hours, confirmed after its supplier's response time; documents on their
//!    business dates at working hours). Timelines then tell the year as it went, and the
//!    scorecards' response times are the suppliers' own (hours for some, days for others).
//!    The audit log is not rewritten: its hash chain records, truthfully, when the load ran
//!    and who did what (so do the outbox's events).
//! 5. Every outbox consumer `weft serve` runs is moved past these events, so the server does
//!    not start approval processes, matches or inbox items for history.
//! 6. The present, through the real engines (the consumers and the process job worker run
//!    here until idle): orders waiting for the manager's and finance's approval (live
//!    `po_approval` processes, so the inboxes have to-dos), orders approved and waiting for
//!    the supplier, a shipping notice in transit, an invoice exception for the buyer and a
//!    matched invoice whose payable waits for finance. These are dated now.
//! 7. Every supplier's scorecard computed; the buyers of suppliers below the threshold get
//!    an alert.
//!
//! Independent commands of one step run concurrently (the SQLite writer folds them into
//! group commits); hooked types are created with `bulk_create` (row by row in one
//! transaction).

mod dating;
mod names;
mod plan;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use rust_decimal::Decimal;
use serde_json::{Map, Value as Json, json};
use time::{Date, Duration};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::Value;

pub use self::names::{COMPANY, DOMAIN};
pub use self::plan::Scale;
use self::plan::{Outcome, Payment, Plan, Resolution};
use super::quantities::reference;
use crate::consumers::Consumer;
use crate::identity::{NewPrincipal, PrincipalKindName, generate_password};
use crate::org_admin::NewUnit;
use crate::{BulkMode, BulkRow, Error, ListQuery, RecordView, Result, Workspace};

/// Commands in flight at once during the load.
const PARALLEL: usize = 48;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    pub scale: Scale,
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions { scale: Scale::Full, seed: 2026 }
    }
}

/// Someone to sign in as, with the password generated for them (shown once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub role: String,
    pub name: String,
    pub login: String,
    pub password: String,
}

#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    pub sign_ins: Vec<SignIn>,
    /// Records per type, as loaded.
    pub counts: Vec<(String, u64)>,
    /// How long each step took.
    pub steps: Vec<(&'static str, StdDuration)>,
    /// Suppliers whose score is below the alert threshold.
    pub at_risk: Vec<String>,
    /// History entries the plan had no time for (dated a minute after the entry before
    /// them), as "type command" with their count: none, unless a hook writes an entry the
    /// dating does not know.
    pub undated: Vec<(String, u64)>,
}

/// The login of the demo's buyer: its presence marks a workspace holding the demo.
pub fn buyer_login() -> String {
    login_of("li.na")
}

fn login_of(name: &str) -> String {
    format!("{name}@{DOMAIN}")
}

fn obj(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

fn iso(d: Date) -> String {
    Value::Date(d).to_json().as_str().unwrap_or_default().to_owned()
}

fn line_ids(order: &RecordView) -> Vec<String> {
    super::quantities::lines(&order.values)
        .iter()
        .map(|l| reference(l, "id").map(|id| id.to_string()).unwrap_or_default())
        .collect()
}

/// Runs `f` over `items`, at most `PARALLEL` at a time; the results in the items' order.
async fn each<T, R, F, Fut>(items: Vec<T>, f: F) -> Result<Vec<R>>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<R>> + Send + 'static,
{
    let mut out: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    let mut set = tokio::task::JoinSet::new();
    let mut pending = items.into_iter().enumerate();
    loop {
        while set.len() < PARALLEL {
            let Some((i, item)) = pending.next() else { break };
            let work = f(item);
            set.spawn(async move { (i, work.await) });
        }
        let Some(joined) = set.join_next().await else { break };
        let (i, result) = joined.map_err(|e| Error::Internal(format!("a demo task stopped: {e}")))?;
        out[i] = Some(result?);
    }
    Ok(out.into_iter().flatten().collect())
}

/// The principals the load acts as.
struct Cast {
    people: BTreeMap<&'static str, Principal>,
    /// Per planned supplier: its party and its portal contact.
    parties: Vec<Uuid>,
    contacts: Vec<Principal>,
}

impl Cast {
    fn person(&self, key: &str) -> Principal {
        self.people.get(key).cloned().unwrap_or_else(Principal::system)
    }
}

/// One of today's orders: its buyer (a person's key), supplier (index into the plan's),
/// subject, and lines of the supplier's category worth about `worth` (excluding tax).
struct Today {
    buyer: &'static str,
    supplier: usize,
    subject: &'static str,
    worth: i64,
    lines: usize,
}

/// Orders grouped for one bulk create: (year, month, buyer) and the plan's indexes.
type OrderGroups = Vec<((i32, u8, &'static str), Vec<usize>)>;

/// What the load made for one planned order (what `dating` then dates).
#[derive(Debug, Clone, Default)]
struct Made {
    order: Option<Uuid>,
    lines: Vec<String>,
    /// The supplier's confirmations: its answer, or its proposal and then its acceptance.
    answers: Vec<Uuid>,
    /// In the order of the plan's progress reports.
    progress: Vec<Uuid>,
    /// One per planned delivery, in their order.
    notices: Vec<Uuid>,
    /// (delivery, record), for the deliveries that have them.
    outgoing_qc: Vec<(usize, Uuid)>,
    /// (delivery, the expected receipt posted for it).
    receipts: Vec<(usize, Uuid)>,
    /// Every receipt the order's confirmation and postings planned, in the order they were
    /// planned (the posted ones among them).
    planned_receipts: Vec<Uuid>,
    incoming_qc: Vec<(usize, Uuid)>,
    /// The draft invoice its confirmation planned.
    draft_invoice: Option<Uuid>,
    /// The draft invoice once the supplier completed and submitted it.
    invoice: Option<Uuid>,
    /// The match flagged the invoice (the buyer then accepted or refused it).
    flagged: bool,
    payable: Option<Uuid>,
}

impl Workspace {
    /// Whether this workspace holds the demo company (its buyer's login exists).
    pub async fn demo_loaded(&self) -> Result<bool> {
        match self.principal_by_login(&Principal::system(), &buyer_login()).await {
            Ok(_) => Ok(true),
            Err(Error::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Loads the sample company (see the module documentation). `consumers` are the outbox
    /// consumers `weft serve` runs: they are moved past the history and then run here for
    /// the present. Refused (`Conflict`) when the demo or other procurement data is there.
    pub async fn load_demo(&self, options: DemoOptions, consumers: &[Arc<dyn Consumer>]) -> Result<DemoReport> {
        if self.demo_loaded().await? {
            return Err(Error::Conflict(format!(
                "the demo company is already loaded in this workspace (login `{}` exists); nothing was changed",
                buyer_login()
            )));
        }
        let installed = self.entry("purchase_order").is_ok_and(|e| e.app == super::APP);
        if !installed {
            return Err(Error::Unavailable("the procurement app is not installed; run `weft migrate` first".into()));
        }
        let system = Principal::system();
        for type_name in ["purchase_order", "supplier_profile"] {
            if self.count(&system, type_name, &ListQuery::default()).await? > 0 {
                return Err(Error::Conflict(format!(
                    "this workspace already holds `{type_name}` records; the demo loads only into a fresh workspace"
                )));
            }
        }
        let mut report = DemoReport::default();
        let mut clock = Instant::now();
        let mut lap = |report: &mut DemoReport, step: &'static str| {
            report.steps.push((step, clock.elapsed()));
            clock = Instant::now();
        };
        let today = weft_store::now().date();
        let plan = plan::plan(options.seed, options.scale, today);

        let cast = self.demo_company(&plan, &mut report).await?;
        lap(&mut report, "company, people, suppliers");
        let items = self.demo_items(&plan).await?;
        lap(&mut report, "items");
        let mut made = self.demo_orders(&plan, &cast, &items).await?;
        lap(&mut report, "orders, approvals");
        self.demo_supplier_answers(&plan, &cast, &mut made).await?;
        lap(&mut report, "confirmations, progress");
        self.demo_deliveries(&plan, &cast, &items, &mut made).await?;
        lap(&mut report, "shipping notices, receipts, QC");
        self.demo_invoices(&plan, &cast, &mut made).await?;
        // Every receipt of the history was planned by a confirmation or a posting.
        let mut receipts = self.records_by_order("goods_receipt", "state != \"reversed\"").await?;
        for m in made.iter_mut() {
            m.planned_receipts = m
                .order
                .and_then(|id| receipts.remove(&id))
                .unwrap_or_default()
                .into_iter()
                .map(|r| r.system.id)
                .collect();
        }
        lap(&mut report, "invoices, payables, payments");
        report.undated = self.demo_dating(&plan, &made).await?;
        lap(&mut report, "dating the history");

        // History is history: the engines (those given and any other the workspace knows)
        // start from here.
        let running: Vec<String> = consumers.iter().map(|c| c.name().to_owned()).collect();
        let others: Vec<String> = weft_store::kernel::outbox::offsets(&self.db)
            .await?
            .into_iter()
            .map(|(name, _)| name)
            .filter(|name| !running.contains(name))
            .collect();
        self.skip_to_head(running.iter().chain(&others).cloned().collect()).await?;
        self.demo_present(&plan, &cast, &items, consumers).await?;
        lap(&mut report, "current orders through the engines");

        let scored = each(cast.parties.clone(), {
            let ws = self.clone();
            move |party| {
                let ws = ws.clone();
                async move { ws.refresh_scorecard(party).await }
            }
        })
        .await?;
        for (card, planned) in scored.iter().zip(&plan.suppliers) {
            if let Some(score) = card.as_ref().and_then(|c| c.score)
                && score < super::scorecard::ALERT_BELOW
            {
                report.at_risk.push(format!("{} ({score})", names::SUPPLIERS[planned.name].short));
            }
        }
        // The alerts just raised reach live inboxes and other engines like any event; the
        // engines not run here (e-mail and robot delivery) do not send the demo's news.
        self.settle(consumers).await?;
        self.skip_to_head(others).await?;
        lap(&mut report, "scorecards");

        for type_name in [
            "party",
            "supplier_profile",
            "item",
            "purchase_order",
            "supplier_confirmation",
            "progress_update",
            "quality_inspection",
            "shipping_notice",
            "goods_receipt",
            "supplier_invoice",
            "payable",
        ] {
            report.counts.push((type_name.to_owned(), self.count(&system, type_name, &ListQuery::default()).await?));
        }
        Ok(report)
    }

    /// Moves the named consumers' offsets to the outbox head.
    async fn skip_to_head(&self, names: Vec<String>) -> Result<()> {
        let head = weft_store::kernel::outbox::head(&self.db).await?;
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    for name in &names {
                        weft_store::kernel::outbox::advance(tx, name, head, weft_store::now()).await?;
                    }
                    Ok::<_, Error>(())
                })
            })
            .await
    }

    /// Runs the consumers and the process jobs until nothing is left to do.
    async fn settle(&self, consumers: &[Arc<dyn Consumer>]) -> Result<()> {
        for _ in 0..50 {
            let mut handled = 0;
            for consumer in consumers {
                // Drain each: a batch is at most 256 events.
                loop {
                    let n = self.run_consumer_once(consumer.as_ref()).await?;
                    handled += n;
                    if n == 0 {
                        break;
                    }
                }
            }
            let jobs = self.run_jobs_until_idle().await?;
            if handled == 0 && jobs == Default::default() {
                return Ok(());
            }
        }
        Ok(())
    }

    async fn bulk(
        &self,
        principal: &Principal,
        type_name: &str,
        rows: Vec<Map<String, Json>>,
    ) -> Result<Vec<RecordView>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        self.bulk_create(principal, type_name, rows, BulkMode::AllOrNothing)
            .await?
            .into_iter()
            .map(|row| match row {
                BulkRow::Created(view) => Ok(view),
                BulkRow::Failed(e) => Err(e),
            })
            .collect()
    }

    /// Transitions many records (type, id, transition, inputs) as `principal`, concurrently.
    async fn transitions(
        &self,
        principal: &Principal,
        moves: Vec<(&'static str, Uuid, &'static str, Json)>,
    ) -> Result<()> {
        let ws = self.clone();
        let principal = principal.clone();
        each(moves, move |(type_name, id, name, inputs)| {
            let (ws, principal) = (ws.clone(), principal.clone());
            async move { ws.transition(&principal, type_name, id, name, None, obj(inputs)).await.map(drop) }
        })
        .await
        .map(drop)
    }

    /// A transition (with its inputs) on the orders `which` picks, each made by the order's
    /// own buyer.
    async fn by_buyers(
        &self,
        plan: &Plan,
        cast: &Cast,
        made: &[Made],
        which: impl Fn(&plan::OrderPlan) -> bool,
        (transition, inputs): (&'static str, Json),
    ) -> Result<()> {
        for buyer in ["buyer", "buyer2"] {
            let moves = plan
                .orders
                .iter()
                .zip(made)
                .filter(|(o, _)| o.buyer == buyer && which(o))
                .filter_map(|(_, m)| m.order)
                .map(|id| ("purchase_order", id, transition, inputs.clone()))
                .collect();
            self.transitions(&cast.person(buyer), moves).await?;
        }
        Ok(())
    }

    async fn demo_company(&self, plan: &Plan, report: &mut DemoReport) -> Result<Cast> {
        let system = Principal::system();
        let mut units = BTreeMap::new();
        for (key, name, parent) in names::UNITS {
            let parent = parent.and_then(|p| units.get(p).copied());
            let code = Some(format!("HD-{}", key.to_uppercase()));
            let unit = self.create_unit(&system, NewUnit { name: name.into(), code, parent, manager: None }).await?;
            units.insert(key, unit.id);
        }
        let mut people = BTreeMap::new();
        for person in &names::PEOPLE {
            let password = person.sign_in.map(|_| generate_password()).transpose()?;
            let login = login_of(person.login);
            let created = self
                .create_principal(
                    &system,
                    NewPrincipal {
                        kind: Some(PrincipalKindName::Member),
                        login: login.clone(),
                        display_name: person.name.into(),
                        email: Some(login.clone()),
                        roles: Some(person.roles.iter().map(|r| (*r).to_owned()).collect()),
                        password: password.clone(),
                        ..NewPrincipal::default()
                    },
                )
                .await?;
            let unit = units[person.unit];
            self.add_unit_member(&system, unit, created.id, true).await?;
            if person.heads {
                self.set_unit_manager(&system, unit, Some(created.id)).await?;
            }
            if let (Some(role), Some(password)) = (person.sign_in, password) {
                report.sign_ins.push(SignIn {
                    role: role.into(),
                    name: person.name.into(),
                    login,
                    password: password.expose().to_owned(),
                });
            }
            people.insert(person.key, Principal::member(created.id));
        }

        let party_rows = plan
            .suppliers
            .iter()
            .map(|s| {
                let n = &names::SUPPLIERS[s.name];
                obj(json!({
                    "name": n.name,
                    "kind": "organisation",
                    "roles": ["supplier"],
                    "email": format!("sales@{}.example", n.slug),
                    "website": format!("https://www.{}.example", n.slug),
                    "industry": n.category,
                    "notes": format!("{} · {}", n.city, n.short),
                }))
            })
            .collect();
        let parties: Vec<Uuid> = self.bulk(&system, "party", party_rows).await?.iter().map(|p| p.system.id).collect();
        let mut contacts = Vec::new();
        for (s, party) in plan.suppliers.iter().zip(&parties) {
            let n = &names::SUPPLIERS[s.name];
            let signs_in = s.name < 2;
            let password = signs_in.then(generate_password).transpose()?;
            let login = format!("sales@{}.example", n.slug);
            let created = self
                .create_principal(
                    &system,
                    NewPrincipal {
                        kind: Some(PrincipalKindName::Guest),
                        login: login.clone(),
                        display_name: format!("{} ({})", n.contact, n.short),
                        email: Some(login.clone()),
                        party: Some(*party),
                        roles: Some(vec!["supplier_portal".into()]),
                        password: password.clone(),
                        ..NewPrincipal::default()
                    },
                )
                .await?;
            if let Some(password) = password {
                let shared = if s.share_score { "scorecard shared" } else { "scorecard not shared" };
                report.sign_ins.push(SignIn {
                    role: format!("supplier portal: {} ({shared})", n.short),
                    name: n.contact.into(),
                    login,
                    password: password.expose().to_owned(),
                });
            }
            contacts.push(Principal::guest(created.id, *party));
        }
        let profiles = plan
            .suppliers
            .iter()
            .zip(&parties)
            .map(|(s, party)| {
                let n = &names::SUPPLIERS[s.name];
                obj(json!({
                    "supplier": party,
                    "display_name": n.short,
                    "category": n.category,
                    "currency": "CNY",
                    "payment_days": s.payment_days,
                    "price_tolerance_pct": s.price_tolerance_pct.map(|d| d.to_string()),
                    "share_score": s.share_score,
                }))
            })
            .collect();
        self.bulk(&system, "supplier_profile", profiles).await?;
        Ok(Cast { people, parties, contacts })
    }

    async fn demo_items(&self, plan: &Plan) -> Result<Vec<Uuid>> {
        let rows = plan
            .items
            .iter()
            .map(|i| {
                obj(json!({
                    "code": i.code,
                    "name": i.name,
                    "category": i.category,
                    "uom": i.uom,
                    "specification": i.specification,
                    "standard_price": i.standard_price.to_string(),
                    "active": true,
                }))
            })
            .collect();
        Ok(self.bulk(&Principal::system(), "item", rows).await?.iter().map(|i| i.system.id).collect())
    }

    /// Orders by their buyers (a bulk create per month and buyer, in date order), submitted
    /// by them and approved or refused as the system.
    async fn demo_orders(&self, plan: &Plan, cast: &Cast, items: &[Uuid]) -> Result<Vec<Made>> {
        let mut made = vec![Made::default(); plan.orders.len()];
        let mut groups: OrderGroups = Vec::new();
        for (i, order) in plan.orders.iter().enumerate() {
            let key = (order.order_date.year(), u8::from(order.order_date.month()), order.buyer);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(i),
                None => groups.push((key, vec![i])),
            }
        }
        for ((_, _, buyer), members) in groups {
            let rows = members
                .iter()
                .map(|&i| {
                    let o = &plan.orders[i];
                    let lines: Vec<Json> = o
                        .lines
                        .iter()
                        .map(|l| {
                            let item = &plan.items[l.item];
                            json!({
                                "item": items[l.item],
                                "description": item.name,
                                "qty": l.qty.to_string(),
                                "uom": item.uom,
                                "unit_price": l.unit_price.to_string(),
                                "tax_rate": l.tax_rate.to_string(),
                                "requested_date": iso(l.requested_date),
                            })
                        })
                        .collect();
                    obj(json!({
                        "subject": o.subject,
                        "supplier": cast.parties[o.supplier],
                        "category": o.category,
                        "currency": "CNY",
                        "order_date": iso(o.order_date),
                        "requested_date": iso(o.requested_date),
                        "delivery_address": "江苏省苏州市工业园区星湖街 328 号 1 号仓库 / Warehouse 1, 328 Xinghu St, Suzhou",
                        "lines": lines,
                    }))
                })
                .collect();
            let created = self.bulk(&cast.person(buyer), "purchase_order", rows).await?;
            for (&i, order) in members.iter().zip(&created) {
                made[i] = Made { order: Some(order.system.id), lines: line_ids(order), ..Made::default() };
            }
        }
        self.by_buyers(plan, cast, &made, |_| true, ("submit", json!({}))).await?;
        let mut approvals = Vec::new();
        let mut refusals = Vec::new();
        for (o, m) in plan.orders.iter().zip(&made) {
            let Some(id) = m.order else { continue };
            match &o.outcome {
                Outcome::Rejected { reason, .. } => {
                    refusals.push(("purchase_order", id, "reject", json!({ "reason": reason })))
                }
                _ => approvals.push(("purchase_order", id, "approve", json!({}))),
            }
        }
        let system = Principal::system();
        self.transitions(&system, approvals).await?;
        self.transitions(&system, refusals).await?;
        let cancelled = |o: &plan::OrderPlan| matches!(o.outcome, Outcome::Rejected { cancelled: true, .. });
        let reason = json!({ "reason": "按审批意见取消 Cancelled as the approver advised" });
        self.by_buyers(plan, cast, &made, cancelled, ("cancel", reason)).await?;
        Ok(made)
    }

    /// The suppliers' answers (some propose changes first, a few decline) and their
    /// production progress reports.
    async fn demo_supplier_answers(&self, plan: &Plan, cast: &Cast, made: &mut [Made]) -> Result<()> {
        for (s, contact) in cast.contacts.iter().enumerate() {
            let mine = || plan.orders.iter().zip(made.iter()).enumerate().filter(move |(_, (o, _))| o.supplier == s);
            // The rows, and the planned order each is for.
            let mut first = (Vec::new(), Vec::new());
            let mut second = (Vec::new(), Vec::new());
            let mut progress = (Vec::new(), Vec::new());
            let push = |(rows, owners): &mut (Vec<Map<String, Json>>, Vec<usize>), i: usize, row| {
                rows.push(row);
                owners.push(i);
            };
            for (i, (o, m)) in mine() {
                let Some(id) = m.order else { continue };
                match &o.outcome {
                    Outcome::Declined { note } => {
                        push(&mut first, i, obj(json!({ "purchase_order": id, "decision": "reject", "note": note })));
                    }
                    Outcome::Confirmed(f) => {
                        let lines: Vec<Json> = o
                            .lines
                            .iter()
                            .zip(&m.lines)
                            .filter_map(|(l, line)| {
                                l.promised.map(|d| json!({ "po_line": line, "promised_date": iso(d) }))
                            })
                            .collect();
                        let accept = obj(json!({
                            "purchase_order": id,
                            "decision": "accept",
                            "promised_date": iso(f.promised_date),
                            "note": "已安排生产 Scheduled for production",
                            "lines": lines,
                        }));
                        match f.proposed_changes {
                            Some(note) => {
                                let propose =
                                    json!({ "purchase_order": id, "decision": "accept_with_changes", "note": note });
                                push(&mut first, i, obj(propose));
                                push(&mut second, i, accept);
                            }
                            None => push(&mut first, i, accept),
                        }
                        for p in &f.progress {
                            push(
                                &mut progress,
                                i,
                                obj(json!({
                                    "purchase_order": id,
                                    "percent": p.percent.to_string(),
                                    "stage": p.stage,
                                    "reported_on": iso(p.reported_on),
                                    "expected_ship_date": iso(p.expected_ship_date),
                                    "note": "按计划进行 On schedule",
                                })),
                            );
                        }
                    }
                    _ => {}
                }
            }
            for (rows, owners) in [first, second] {
                let created = self.bulk(contact, "supplier_confirmation", rows).await?;
                for (i, answer) in owners.into_iter().zip(created) {
                    made[i].answers.push(answer.system.id);
                }
            }
            let (rows, owners) = progress;
            for (i, report) in owners.into_iter().zip(self.bulk(contact, "progress_update", rows).await?) {
                made[i].progress.push(report.system.id);
            }
        }
        let declined = |o: &plan::OrderPlan| matches!(o.outcome, Outcome::Declined { .. });
        let reason = json!({ "reason": "供应商无法交付，另行采购 The supplier cannot deliver; sourcing elsewhere" });
        self.by_buyers(plan, cast, made, declined, ("cancel", reason)).await?;
        Ok(())
    }

    /// Outgoing QC and shipping notices by the suppliers; receipts (some lots partly
    /// refused) and incoming QC by the warehouse; notices marked received. In two rounds:
    /// the first shipment of every order, then the back orders, so an order's history runs
    /// in the order things happened (the second notice after the first receipt).
    async fn demo_deliveries(&self, plan: &Plan, cast: &Cast, items: &[Uuid], made: &mut [Made]) -> Result<()> {
        for round in 0..2 {
            self.demo_deliveries_round(plan, cast, items, made, round).await?;
        }
        Ok(())
    }

    /// The `round`th delivery of every order (see `demo_deliveries`).
    async fn demo_deliveries_round(
        &self,
        plan: &Plan,
        cast: &Cast,
        items: &[Uuid],
        made: &mut [Made],
        round: usize,
    ) -> Result<()> {
        // A supplier's contact cannot read the item catalogue, so its reports name the order
        // line only; the warehouse's name the item too.
        let inspection = |order: Uuid, lines: &[String], o: &plan::OrderPlan, q: &plan::InspectionPlan| {
            let item = (q.source == "incoming").then(|| items[o.lines[q.line].item]);
            obj(json!({
                "purchase_order": order,
                "item": item,
                "po_line": lines[q.line],
                "source": q.source,
                "lot": q.lot,
                "sample_size": q.sample,
                "defects": q.defects,
                "result": if q.pass { "pass" } else { "fail" },
                "inspected_on": iso(q.on),
                "note": q.note,
            }))
        };
        for (s, contact) in cast.contacts.iter().enumerate() {
            let mut notices = Vec::new();
            let mut reports = Vec::new();
            let mut owners = Vec::new();
            let mut report_owners = Vec::new();
            for (i, (o, m)) in plan.orders.iter().zip(made.iter()).enumerate() {
                let (Some(id), Outcome::Confirmed(f)) = (m.order, &o.outcome) else { continue };
                if o.supplier != s {
                    continue;
                }
                let Some(d) = f.deliveries.get(round) else { continue };
                if let Some(q) = &d.outgoing_qc {
                    reports.push(inspection(id, &m.lines, o, q));
                    report_owners.push(i);
                }
                let (carrier, _) = names::CARRIERS[d.carrier];
                let lines: Vec<Json> = d
                    .lines
                    .iter()
                    .map(|(line, qty, _)| json!({ "po_line": m.lines[*line], "qty": qty.to_string() }))
                    .collect();
                notices.push(obj(json!({
                    "purchase_order": id,
                    "carrier": carrier,
                    "tracking_no": d.tracking,
                    "ship_date": iso(d.ship_date),
                    "eta": iso(d.eta),
                    "lines": lines,
                })));
                owners.push(i);
            }
            for (i, report) in report_owners.into_iter().zip(self.bulk(contact, "quality_inspection", reports).await?) {
                made[i].outgoing_qc.push((round, report.system.id));
            }
            let created = self.bulk(contact, "shipping_notice", notices).await?;
            for (i, notice) in owners.into_iter().zip(created) {
                made[i].notices.push(notice.system.id);
            }
        }

        // The warehouse enters what arrived on the receipt the order expects and posts it;
        // what is still open is then expected on a back order.
        let clerk = cast.person("clerk");
        let expected = self.records_by_order("goods_receipt", "state = \"expected\"").await?;
        let mut receipts = Vec::new();
        let mut arrived = Vec::new();
        let mut reports = Vec::new();
        for (i, (o, m)) in plan.orders.iter().zip(made.iter()).enumerate() {
            let (Some(id), Outcome::Confirmed(f)) = (m.order, &o.outcome) else { continue };
            let (Some(d), Some(notice)) = (f.deliveries.get(round), m.notices.get(round)) else { continue };
            let Some(received_on) = d.received_on else { continue };
            let Some(receipt) = expected.get(&id).and_then(|r| r.first()) else {
                return Err(Error::Internal(format!("order {id} expects no receipt for its delivery")));
            };
            let lines: Vec<Json> = super::quantities::lines(&receipt.values)
                .iter()
                .map(|line| {
                    let mut out: Map<String, Json> = line.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                    let po_line = line.get("po_line").map(Value::to_json).unwrap_or(Json::Null);
                    let arriving = d.lines.iter().find(|(l, _, _)| po_line == json!(m.lines[*l]));
                    if let Some((_, qty, accepted)) = arriving {
                        let note = (accepted < qty)
                            .then(|| format!("拒收 {} Refused: {}", qty - accepted, d.defect.unwrap_or("")));
                        out.insert("received_qty".into(), json!(qty.to_string()));
                        out.insert("accepted_qty".into(), json!(accepted.to_string()));
                        out.insert("note".into(), json!(note));
                    }
                    Json::Object(out)
                })
                .collect();
            let entered = obj(json!({ "shipping_notice": notice, "received_on": iso(received_on), "lines": lines }));
            receipts.push((i, receipt.system.id, entered));
            arrived.push(("shipping_notice", *notice, "mark_received", json!({})));
            if let Some(q) = &d.incoming_qc {
                reports.push((q.on, i, inspection(id, &m.lines, o, q)));
            }
        }
        reports.sort_by_key(|(on, _, _)| *on);
        let posted = self.complete_planned(&clerk, "goods_receipt", "post", receipts).await?;
        for (i, id) in posted {
            made[i].receipts.push((round, id));
        }
        self.transitions(&clerk, arrived).await?;
        let (owners, rows): (Vec<usize>, Vec<_>) = reports.into_iter().map(|(_, i, r)| (i, r)).unzip();
        for (i, report) in owners.into_iter().zip(self.bulk(&clerk, "quality_inspection", rows).await?) {
            made[i].incoming_qc.push((round, report.system.id));
        }
        Ok(())
    }

    /// Invoices by the suppliers, submitted; the three-way match by the matcher's own code;
    /// differences accepted or refused by the buyer; payables, payments; orders closed.
    async fn demo_invoices(&self, plan: &Plan, cast: &Cast, made: &mut [Made]) -> Result<()> {
        // The supplier completes the draft its order's confirmation planned (its number,
        // date, what it bills at what price) and submits it.
        let drafts = self.records_by_order("supplier_invoice", "state = \"draft\"").await?;
        for m in made.iter_mut() {
            m.draft_invoice = m.order.and_then(|id| drafts.get(&id)).and_then(|d| d.first()).map(|d| d.system.id);
        }
        for (s, contact) in cast.contacts.iter().enumerate() {
            let mut completed = Vec::new();
            for (i, (o, m)) in plan.orders.iter().zip(made.iter()).enumerate() {
                let (Some(id), Outcome::Confirmed(f)) = (m.order, &o.outcome) else { continue };
                let Some(invoice) = f.invoice.as_ref().filter(|_| o.supplier == s) else { continue };
                let Some(draft) = drafts.get(&id).and_then(|d| d.first()) else {
                    return Err(Error::Internal(format!("order {id} has no draft invoice to complete")));
                };
                let planned = super::quantities::lines(&draft.values);
                let lines: Vec<Json> = invoice
                    .lines
                    .iter()
                    .map(|(line, qty, price)| {
                        let po_line = &m.lines[*line];
                        let description = planned
                            .iter()
                            .find(|l| l.get("po_line").map(Value::to_json) == Some(json!(po_line)))
                            .and_then(|l| l.get("description"))
                            .map_or(Json::Null, Value::to_json);
                        json!({ "po_line": po_line, "description": description, "qty": qty.to_string(),
                                "unit_price": price.to_string(), "tax_rate": o.lines[*line].tax_rate.to_string() })
                    })
                    .collect();
                let entered = obj(json!({
                    "invoice_no": invoice.number,
                    "invoice_date": iso(invoice.date),
                    "lines": lines,
                }));
                completed.push((i, draft.system.id, entered));
            }
            let submitted = self.complete_planned(contact, "supplier_invoice", "submit", completed).await?;
            for (i, id) in submitted {
                made[i].invoice = Some(id);
            }
        }
        let invoices: Vec<Uuid> = made.iter().filter_map(|m| m.invoice).collect();
        let ws = self.clone();
        each(invoices.clone(), move |id| {
            let ws = ws.clone();
            async move { ws.match_invoice(id).await }
        })
        .await?;
        let states = self.states("supplier_invoice", &invoices).await?;
        for m in made.iter_mut() {
            m.flagged = m.invoice.is_some_and(|id| states.get(&id).map(String::as_str) == Some("exception"));
        }
        for buyer in ["buyer", "buyer2"] {
            let mut moves = Vec::new();
            for (o, m) in plan.orders.iter().zip(made.iter()) {
                let (Some(id), Outcome::Confirmed(f)) = (m.invoice, &o.outcome) else { continue };
                let Some(invoice) = &f.invoice else { continue };
                if o.buyer != buyer || !m.flagged {
                    continue;
                }
                moves.push(match invoice.if_flagged {
                    Resolution::Accept(reason) => ("supplier_invoice", id, "accept", json!({ "reason": reason })),
                    Resolution::Reject(reason) => ("supplier_invoice", id, "reject", json!({ "reason": reason })),
                });
            }
            self.transitions(&cast.person(buyer), moves).await?;
        }
        let states = self.states("supplier_invoice", &invoices).await?;
        let payable_for: Vec<Uuid> = invoices
            .iter()
            .copied()
            .filter(|id| matches!(states.get(id).map(String::as_str), Some("matched" | "accepted")))
            .collect();
        let ws = self.clone();
        let payables = each(payable_for.clone(), move |id| {
            let ws = ws.clone();
            async move { ws.open_payable(id).await }
        })
        .await?;
        let payable_of: BTreeMap<Uuid, Uuid> =
            payable_for.iter().zip(payables).filter_map(|(invoice, payable)| payable.map(|p| (*invoice, p))).collect();
        for m in made.iter_mut() {
            m.payable = m.invoice.and_then(|id| payable_of.get(&id).copied());
        }

        let mut payments = Vec::new();
        let mut closing = BTreeMap::<&str, Vec<(&'static str, Uuid, &'static str, Json)>>::new();
        for (o, m) in plan.orders.iter().zip(made.iter()) {
            let (Some(invoice_id), Outcome::Confirmed(f)) = (m.invoice, &o.outcome) else { continue };
            let (Some(invoice), Some(payable)) = (&f.invoice, payable_of.get(&invoice_id)) else { continue };
            match invoice.payment {
                Payment::Paid(on) => payments.push((
                    "payable",
                    *payable,
                    "pay",
                    json!({ "paid_on": iso(on), "reference": format!("ICBC-{}-{}", iso(on).replace('-', ""), &payable.simple().to_string()[24..]) }),
                )),
                Payment::Scheduled => payments.push(("payable", *payable, "schedule", json!({}))),
                Payment::Open => {}
            }
            if let Some(order) = m.order {
                closing.entry(o.buyer).or_default().push(("purchase_order", order, "close", json!({})));
            }
        }
        self.transitions(&cast.person("finance"), payments).await?;
        for (buyer, moves) in closing {
            self.transitions(&cast.person(buyer), moves).await?;
        }
        Ok(())
    }

    /// Records of a type matching `filter`, by the order they name, each order's in the
    /// order they were made (by number).
    /// Records a confirmation planned, completed by `who` with what each entry gives and
    /// moved on by `transition` (a receipt posted, an invoice submitted): `(i, id)` of each.
    async fn complete_planned(
        &self,
        who: &Principal,
        type_name: &'static str,
        transition: &'static str,
        entries: Vec<(usize, Uuid, Map<String, Json>)>,
    ) -> Result<Vec<(usize, Uuid)>> {
        let ws = self.clone();
        let who = who.clone();
        each(entries, move |(i, id, entered)| {
            let (ws, who) = (ws.clone(), who.clone());
            async move {
                ws.update(&who, type_name, id, None, entered).await?;
                ws.transition(&who, type_name, id, transition, None, Map::new()).await?;
                Ok((i, id))
            }
        })
        .await
    }

    async fn records_by_order(&self, type_name: &str, filter: &str) -> Result<BTreeMap<Uuid, Vec<RecordView>>> {
        let mut out = BTreeMap::<Uuid, Vec<RecordView>>::new();
        for record in self.all_of(type_name, filter.to_owned()).await? {
            if let Some(order) = reference(&record.values, "purchase_order") {
                out.entry(order).or_default().push(record);
            }
        }
        for records in out.values_mut() {
            records.sort_by(|a, b| a.system.number.cmp(&b.system.number));
        }
        Ok(out)
    }

    /// The states of some records, read as the system.
    async fn states(&self, type_name: &str, ids: &[Uuid]) -> Result<BTreeMap<Uuid, String>> {
        let ws = self.clone();
        let type_name = type_name.to_owned();
        let found = each(ids.to_vec(), move |id| {
            let (ws, type_name) = (ws.clone(), type_name.clone());
            async move { Ok((id, ws.get(&Principal::system(), &type_name, id).await?.system.state.unwrap_or_default())) }
        })
        .await?;
        Ok(found.into_iter().collect())
    }

    /// One of today's orders, raised and submitted by its buyer.
    async fn current_order(&self, plan: &Plan, cast: &Cast, items: &[Uuid], order: Today) -> Result<RecordView> {
        let Today { buyer, supplier: s, subject, worth, lines } = order;
        let lines = Self::lines_worth(plan, s, worth, lines);
        let today = plan.today;
        let lines: Vec<Json> = lines
            .iter()
            .map(|(item, qty)| {
                let i = &plan.items[*item];
                json!({ "item": items[*item], "description": i.name, "qty": qty.to_string(), "uom": i.uom,
                        "unit_price": i.standard_price.to_string(), "tax_rate": "13",
                        "requested_date": iso(today + Duration::days(21)) })
            })
            .collect();
        let input = obj(json!({
            "subject": subject,
            "supplier": cast.parties[s],
            "category": names::SUPPLIERS[plan.suppliers[s].name].category,
            "currency": "CNY",
            "order_date": iso(today),
            "requested_date": iso(today + Duration::days(21)),
            "lines": lines,
        }));
        let buyer = cast.person(buyer);
        let created = self.create(&buyer, "purchase_order", input, None).await?;
        let crate::Created::Fresh(order) = created else {
            return Err(Error::Internal("a fresh order was expected".into()));
        };
        self.transition(&buyer, "purchase_order", order.system.id, "submit", None, Map::new()).await
    }

    /// The lines of an order from supplier `s` worth about `target` (excluding tax): the
    /// supplier's category's cheapest items, the first taking the amount.
    fn lines_worth(plan: &Plan, s: usize, target: i64, count: usize) -> Vec<(usize, Decimal)> {
        let category = names::SUPPLIERS[plan.suppliers[s].name].category;
        let mut candidates: Vec<usize> =
            (0..plan.items.len()).filter(|i| plan.items[*i].category == category).collect();
        candidates.sort_by_key(|i| plan.items[*i].standard_price);
        let share = Decimal::from(target) / Decimal::from(count.max(1) as i64);
        candidates
            .into_iter()
            .take(count)
            .map(|i| (i, (share / plan.items[i].standard_price).floor().max(Decimal::ONE)))
            .collect()
    }

    /// Today's work in progress, through the real engines.
    async fn demo_present(
        &self,
        plan: &Plan,
        cast: &Cast,
        items: &[Uuid],
        consumers: &[Arc<dyn Consumer>],
    ) -> Result<()> {
        // Supplier 0 (components) and 1 (raw material) have portal sign-ins; 2 is the
        // electronics supplier (James's).
        let today = plan.today;
        let (s0, s1) = (0, 1);
        let s2 = plan.suppliers.iter().position(|s| names::SUPPLIERS[s.name].category == "electronics").unwrap_or(0);
        let today_order = |buyer, supplier, subject, worth, lines| Today { buyer, supplier, subject, worth, lines };
        // Waiting for approval: the manager's tier twice, the finance tier once.
        self.current_order(
            plan,
            cast,
            items,
            today_order("buyer", s0, "三号线扩产备件 Spare parts for line 3 expansion", 18_600, 2),
        )
        .await?;
        self.current_order(
            plan,
            cast,
            items,
            today_order("buyer2", s2, "控制柜电子料 Control cabinet electronics", 36_400, 3),
        )
        .await?;
        let big = self
            .current_order(
                plan,
                cast,
                items,
                today_order("buyer", s1, "季度钢材备货 Quarterly steel stock", 128_000, 2),
            )
            .await?;
        // Approved automatically (small), waiting for the supplier.
        self.current_order(plan, cast, items, today_order("buyer", s0, "补充紧固件 Fastener top-up", 3_200, 1)).await?;
        self.current_order(plan, cast, items, today_order("buyer", s1, "样品钢板 Sample steel sheets", 2_400, 1))
            .await?;
        // To be shipped, received and invoiced below.
        let shipped =
            self.current_order(plan, cast, items, today_order("buyer", s0, "加急轴承 Rush bearings", 4_100, 1)).await?;
        let flagged = self
            .current_order(plan, cast, items, today_order("buyer", s0, "密封件补货 Seal restock", 3_900, 2))
            .await?;
        let matched = self
            .current_order(
                plan,
                cast,
                items,
                today_order("buyer", s1, "铝板小批量 Aluminium sheet small lot", 4_500, 1),
            )
            .await?;
        self.settle(consumers).await?;

        // The manager approves the big order: it moves on to finance.
        let manager = cast.person("manager");
        for task in self.my_tasks(&manager).await? {
            if task.record_id == Some(big.system.id) && task.status == "open" {
                self.approve_task(
                    &manager,
                    &task.id,
                    true,
                    Some("同意，注意分批到货 Approved; deliver in batches".into()),
                )
                .await?;
            }
        }

        let (g0, g1) = (&cast.contacts[s0], &cast.contacts[s1]);
        let promised = iso(today + Duration::days(7));
        for (guest, order) in [(g0, &shipped), (g0, &flagged), (g1, &matched)] {
            let input =
                obj(json!({ "purchase_order": order.system.id, "decision": "accept", "promised_date": promised,
                                    "note": "可按期交付 We can deliver on time" }));
            self.create(guest, "supplier_confirmation", input, None).await?;
        }
        let shipped_lines = line_ids(&shipped);
        let qty = |order: &RecordView, i: usize| super::quantities::lines(&order.values)[i].get("qty").cloned();
        let asn_lines: Vec<Json> = shipped_lines
            .iter()
            .enumerate()
            .map(|(i, id)| json!({ "po_line": id, "qty": qty(&shipped, i).map(|q| q.to_json()) }))
            .collect();
        self.create(
            g0,
            "shipping_notice",
            obj(json!({ "purchase_order": shipped.system.id, "carrier": names::CARRIERS[0].0, "tracking_no": "SF1408862205371",
                        "ship_date": iso(today), "eta": iso(today + Duration::days(2)), "lines": asn_lines })),
            None,
        )
        .await?;
        // The warehouse posts what arrived on the receipts the confirmations planned; the
        // suppliers complete and submit the invoices Weft drafted (one 6 % over the price).
        let clerk = cast.person("clerk");
        let system = Principal::system();
        for (guest, order, overcharge) in [(g0, &flagged, true), (g1, &matched, false)] {
            let of_order = |state: &str| {
                let filter = format!("purchase_order = \"{}\" and state = \"{state}\"", order.system.id);
                ListQuery { filter: Some(filter), limit: Some(1), ..ListQuery::default() }
            };
            let Some(receipt) = self.list(&system, "goods_receipt", &of_order("expected")).await?.records.pop() else {
                return Err(Error::Internal("the confirmation planned no receipt".into()));
            };
            let receipt_lines: Vec<Json> = super::quantities::lines(&receipt.values)
                .iter()
                .map(|line| {
                    let mut out: Map<String, Json> = line.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                    let q = line.get("expected_qty").map(Value::to_json);
                    out.insert("received_qty".into(), json!(q));
                    out.insert("accepted_qty".into(), json!(q));
                    Json::Object(out)
                })
                .collect();
            let id = receipt.system.id;
            self.update(
                &clerk,
                "goods_receipt",
                id,
                None,
                obj(json!({ "received_on": iso(today), "lines": receipt_lines })),
            )
            .await?;
            self.transition(&clerk, "goods_receipt", id, "post", None, Map::new()).await?;
            let Some(draft) = self.list(&system, "supplier_invoice", &of_order("draft")).await?.records.pop() else {
                return Err(Error::Internal("the confirmation planned no invoice".into()));
            };
            let invoice_lines: Vec<Json> = super::quantities::lines(&draft.values)
                .iter()
                .enumerate()
                .map(|(i, line)| {
                    let mut out: Map<String, Json> = line.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                    if overcharge && i == 0 {
                        let price = super::quantities::number(line.get("unit_price")) * Decimal::new(106, 2);
                        out.insert("unit_price".into(), json!(price.round_dp(2).to_string()));
                    }
                    Json::Object(out)
                })
                .collect();
            let number = if overcharge { "SZP-2026-CUR1" } else { "BS-2026-CUR1" };
            let id = draft.system.id;
            let completed = obj(json!({ "invoice_no": number, "invoice_date": iso(today), "lines": invoice_lines }));
            self.update(guest, "supplier_invoice", id, None, completed).await?;
            self.transition(guest, "supplier_invoice", id, "submit", None, Map::new()).await?;
        }
        self.settle(consumers).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cast_is_complete_and_consistent() {
        let keys: Vec<&str> = names::PEOPLE.iter().map(|p| p.key).collect();
        for needed in ["admin", "manager", "buyer", "buyer2", "finance", "clerk"] {
            assert!(keys.contains(&needed), "{needed}");
        }
        for person in &names::PEOPLE {
            assert!(names::UNITS.iter().any(|(k, _, _)| *k == person.unit), "{}", person.login);
        }
        let heads: Vec<&str> = names::PEOPLE.iter().filter(|p| p.heads).map(|p| p.unit).collect();
        for (unit, _, _) in names::UNITS {
            assert_eq!(heads.iter().filter(|h| **h == unit).count(), 1, "{unit} has one head");
        }
        let mut slugs: Vec<&str> = names::SUPPLIERS.iter().map(|s| s.slug).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), names::SUPPLIERS.len(), "portal logins are unique");
        assert_eq!(buyer_login(), "li.na@huadong.example");
    }
}
