//! Dating the history (step 4 of the load). Every command of the historical phase ran at
//! the load and was stamped with that moment; this pass gives each historical order and
//! the records that follow it (the supplier's confirmations, progress reports, QC reports,
//! shipping notices, the goods receipts its confirmation and postings planned, the invoice
//! planned as a draft and completed by the supplier, and its payable) the times the plan says
//! they happened, with `weft_store::records::backdate`: the records' `created_at` and
//! `updated_at`, their history entries' `at`, and the order's `confirmed_at` (stamped by the
//! confirmation hook) with the confirm entry's diff that names it.
//!
//! When: an order's own steps are the plan's (`OrderTimes`: raised in the morning of its
//! order date, submitted and approved within hours, answered after its supplier's response
//! time, so the scorecards' response times are the suppliers'); a document is dated on its
//! business date (shipped, received, inspected, invoiced, paid on) at a working hour of the
//! company's clock, and never before what it follows (a notice after the confirmation, a
//! receipt after its notice, an invoice after the last receipt, a payable with the match).
//! Times of day are spread deterministically by a hash of the order's index, so the same
//! plan gives the same times.
//!
//! How each entry gets its time: a record's expected steps are (command, time) pairs; each
//! history entry, oldest first, takes the first unused step of its command. An entry the
//! plan has no step for (a hook this pass does not know yet) comes a minute after the one
//! before it and is counted in the report (`DemoReport::undated`), so a gap shows. The
//! times of one record are then made non-decreasing in history order (the timeline sorts by
//! time, so its order stays the history's) and never later than the moment of this pass
//! (the plan knows days, not the hour of the load).
//!
//! Left as they were, on purpose: the audit log (a hash chain that truthfully records when
//! the load ran; rewriting it would break it — instead each dating appends its own entry,
//! `demo.backdated`, naming the records whose times it set, in the same transaction), the outbox (consumers are moved past these
//! events next), the records made today through the engines (step 6) and the company's
//! people, suppliers, profiles and items (they are there from the start). Numbers (PO-…)
//! come from the naming series at the load and keep the load's year.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;
use weft_model::schema::Value;
use weft_store::kernel::history::{self, StoredHistory};
use weft_store::records::{EntryTime, backdate};

use super::plan::{OrderPlan, Outcome, Payment, Plan, local_time};
use super::{Made, each};
use crate::{Error, Result, Workspace};

/// One record to date: the steps its history should hold, and timestamp fields to set.
#[derive(Debug, Clone)]
struct Story {
    type_name: &'static str,
    id: Uuid,
    steps: Vec<(&'static str, OffsetDateTime)>,
    fields: BTreeMap<String, Value>,
}

impl Story {
    fn new(type_name: &'static str, id: Uuid, steps: Vec<(&'static str, OffsetDateTime)>) -> Story {
        Story { type_name, id, steps, fields: BTreeMap::new() }
    }
}

fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}

/// A deterministic number of minutes in `lo..=hi` for step `tag` of order `order`.
fn spread(order: usize, tag: u64, lo: i64, hi: i64) -> i64 {
    // splitmix64 of the key
    let mut x = (order as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ tag.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    let span = u64::try_from(hi - lo + 1).unwrap_or(1).max(1);
    lo + i64::try_from(x % span).unwrap_or(0)
}

/// On `date` between `from` and `to` o'clock (company time), spread by `tag`, and never
/// before `after` (plus a little).
fn on(order: usize, tag: u64, date: Date, (from, to): (i64, i64), after: OffsetDateTime) -> OffsetDateTime {
    let at = local_time(date, spread(order, tag, from * 60, to * 60));
    at.max(after + minutes(spread(order, tag + 1, 10, 50)))
}

/// What happened to planned order `i` and the records made for it, when.
fn stories(i: usize, o: &OrderPlan, m: &Made) -> Vec<Story> {
    let Some(order_id) = m.order else { return Vec::new() };
    let t = o.times;
    let mut order =
        Story::new("purchase_order", order_id, vec![("create", t.created), ("transition:submit", t.submitted)]);
    let mut out = Vec::new();
    match &o.outcome {
        Outcome::Rejected { cancelled, .. } => {
            order.steps.push(("transition:reject", t.decided));
            if *cancelled {
                order.steps.push(("transition:cancel", t.decided + minutes(spread(i, 1, 60, 26 * 60))));
            }
        }
        _ => order.steps.push(("transition:approve", t.decided)),
    }
    match &o.outcome {
        Outcome::Rejected { .. } | Outcome::AwaitingConfirmation => {}
        Outcome::Declined { .. } => {
            order.steps.push(("transition:decline", t.answered));
            order.steps.push(("transition:cancel", t.answered + minutes(spread(i, 2, 30, 240))));
            out.extend(
                m.answers.iter().map(|id| Story::new("supplier_confirmation", *id, vec![("create", t.answered)])),
            );
        }
        Outcome::Confirmed(f) => {
            // A proposal of changes comes halfway to the acceptance.
            let mut answers = Vec::new();
            if f.proposed_changes.is_some() {
                let proposed = t.decided + (t.answered - t.decided) / 2;
                order.steps.push(("transition:propose_changes", proposed));
                answers.push(proposed);
            }
            answers.push(t.answered);
            order.steps.push(("transition:confirm", t.answered));
            order.fields.insert("confirmed_at".into(), Value::DateTime(t.answered));
            for (id, at) in m.answers.iter().zip(answers) {
                out.push(Story::new("supplier_confirmation", *id, vec![("create", at)]));
            }
            for (k, (id, p)) in m.progress.iter().zip(&f.progress).enumerate() {
                let at = on(i, 10 + k as u64, p.reported_on, (14, 17), t.answered);
                out.push(Story::new("progress_update", *id, vec![("create", at)]));
            }

            let mut last = t.answered;
            // When each delivery was received (its expected receipt posted).
            let mut received_at: Vec<Option<OffsetDateTime>> = Vec::new();
            for (d, delivery) in f.deliveries.iter().enumerate() {
                let tag = 100 * (d as u64 + 1);
                if let (Some((_, id)), Some(q)) =
                    (m.outgoing_qc.iter().find(|(n, _)| *n == d), delivery.outgoing_qc.as_ref())
                {
                    let at = on(i, tag, q.on, (9, 12), last);
                    out.push(Story::new("quality_inspection", *id, vec![("create", at)]));
                    last = at;
                }
                let shipped = on(i, tag + 10, delivery.ship_date, (15, 18), last);
                last = shipped;
                order.steps.push(("ship", shipped));
                let mut notice = vec![("create", shipped)];
                received_at.push(None);
                if let (Some(received_on), Some(_)) = (delivery.received_on, m.receipts.iter().find(|(n, _)| *n == d)) {
                    let received = on(i, tag + 20, received_on, (9, 16), shipped + minutes(60));
                    last = received;
                    received_at[d] = Some(received);
                    order.steps.push(("receive", received));
                    notice.push(("transition:mark_received", received + minutes(spread(i, tag + 30, 5, 20))));
                    if let (Some((_, id)), Some(q)) =
                        (m.incoming_qc.iter().find(|(n, _)| *n == d), delivery.incoming_qc.as_ref())
                    {
                        let at = on(i, tag + 40, q.on, (13, 17), received);
                        out.push(Story::new("quality_inspection", *id, vec![("create", at)]));
                    }
                }
                if let Some(id) = m.notices.get(d) {
                    out.push(Story::new("shipping_notice", *id, notice));
                }
            }

            let mut closed = None;
            if let (Some(id), Some(plan)) = (m.invoice, &f.invoice) {
                let created = on(i, 500, plan.date, (10, 17), last + minutes(60));
                let submitted = created + minutes(spread(i, 502, 2, 30));
                let matched = submitted + minutes(spread(i, 503, 1, 3));
                // A flagged invoice waits for the buyer's decision; the order counts it as
                // invoiced (and the payable opens) when it is matched or accepted.
                let resolved = matched + minutes(spread(i, 504, 2 * 60, 26 * 60));
                let invoiced = if m.flagged { resolved } else { matched };
                out.push(Story::new(
                    "supplier_invoice",
                    id,
                    vec![
                        // Planned as a draft by the confirmation, completed by the supplier.
                        ("create", t.answered),
                        ("update", created),
                        ("transition:submit", submitted),
                        ("transition:match", matched),
                        ("transition:flag", matched),
                        ("transition:accept", resolved),
                        ("transition:reject", resolved),
                    ],
                ));
                order.steps.push(("invoice", invoiced));
                if let Some(payable) = m.payable {
                    let opened = invoiced + minutes(1);
                    let mut steps = vec![("create", opened)];
                    match plan.payment {
                        Payment::Paid(paid_on) => steps.push(("transition:pay", on(i, 510, paid_on, (10, 16), opened))),
                        Payment::Scheduled => {
                            steps.push(("transition:schedule", opened + minutes(spread(i, 511, 60, 24 * 60))))
                        }
                        Payment::Open => {}
                    }
                    out.push(Story::new("payable", payable, steps));
                    let at = invoiced + minutes(spread(i, 512, 60, 240));
                    order.steps.push(("transition:close", at));
                    closed = Some(at);
                }
            } else if let Some(id) = m.draft_invoice {
                out.push(Story::new("supplier_invoice", id, vec![("create", t.answered)]));
            }
            // The receipts the confirmation and each posting planned: the k-th is planned when
            // the one before it was posted, posted when its delivery is received, and is no
            // longer expected once the order is closed.
            let mut planned_at = t.answered;
            for (k, id) in m.planned_receipts.iter().enumerate() {
                let mut steps = vec![("create", planned_at)];
                if let Some(received) = received_at.get(k).copied().flatten() {
                    steps.push(("update", received));
                    steps.push(("transition:post", received));
                    planned_at = received;
                }
                if let Some(at) = closed {
                    steps.push(("transition:cancel", at));
                }
                out.push(Story::new("goods_receipt", *id, steps));
            }
        }
    }
    out.insert(0, order);
    out
}

/// Each of a record's history entries with its time (see the module documentation); the
/// commands of the entries the story had no step for.
fn entry_times(story: &Story, entries: &[StoredHistory], latest: OffsetDateTime) -> (Vec<EntryTime>, Vec<String>) {
    let mut used = vec![false; story.steps.len()];
    let mut undated = Vec::new();
    let mut times: Vec<OffsetDateTime> = Vec::with_capacity(entries.len());
    for entry in entries {
        let step = story.steps.iter().enumerate().find(|(k, (command, _))| !used[*k] && *command == entry.command);
        let at = match step {
            Some((k, (_, at))) => {
                used[k] = true;
                *at
            }
            None => {
                undated.push(format!("{} {}", story.type_name, entry.command));
                times.last().map_or_else(|| story.steps.first().map_or(latest, |(_, at)| *at), |t| *t + minutes(1))
            }
        };
        times.push(times.last().map_or(at, |before| at.max(*before)));
    }
    // Never after this pass: pull the latest ones back, keeping the order.
    let mut cap = latest;
    for at in times.iter_mut().rev() {
        *at = (*at).min(cap);
        cap = *at;
    }
    let entries = entries
        .iter()
        .zip(times)
        .map(|(entry, at)| EntryTime { id: entry.id, at, changes: rewritten(&entry.changes, &story.fields) })
        .collect();
    (entries, undated)
}

/// The entry's diff with the fields being backdated shown at their new values, if it names
/// any of them.
fn rewritten(changes: &Json, fields: &BTreeMap<String, Value>) -> Option<Json> {
    let Json::Array(items) = changes else { return None };
    let mut touched = false;
    let items = items
        .iter()
        .map(|item| {
            let mut item = item.clone();
            let value = item.get("field").and_then(Json::as_str).and_then(|f| fields.get(f));
            if let (Some(value), Some(map)) = (value, item.as_object_mut()) {
                map.insert("to".into(), value.to_json());
                touched = true;
            }
            item
        })
        .collect();
    touched.then_some(Json::Array(items))
}

impl Workspace {
    /// Dates the historical orders and what followed them by the plan (see the module
    /// documentation). Returns the history entries the plan had no time for, by record
    /// type and command, with their counts.
    pub(super) async fn demo_dating(&self, plan: &Plan, made: &[Made]) -> Result<Vec<(String, u64)>> {
        let latest = weft_store::now();
        let work: Vec<(usize, Vec<Story>)> = plan
            .orders
            .iter()
            .zip(made)
            .enumerate()
            .map(|(i, (o, m))| (i, stories(i, o, m)))
            .filter(|(_, stories)| !stories.is_empty())
            .collect();
        let ws = self.clone();
        let undated = each(work, move |(_, stories)| {
            let ws = ws.clone();
            async move { ws.date_stories(stories, latest).await }
        })
        .await?;
        let mut counts = BTreeMap::<String, u64>::new();
        for command in undated.into_iter().flatten() {
            *counts.entry(command).or_default() += 1;
        }
        Ok(counts.into_iter().collect())
    }

    /// Dates one order's records in one unit of work; the commands of entries not dated by
    /// the plan.
    async fn date_stories(&self, stories: Vec<Story>, latest: OffsetDateTime) -> Result<Vec<String>> {
        let mut work = Vec::with_capacity(stories.len());
        let mut undated = Vec::new();
        for mut story in stories {
            // A plan's time of day may still lie ahead today (an order answered this
            // afternoon, loaded this morning): its fields are pulled back like its entries.
            for value in story.fields.values_mut() {
                if let Value::DateTime(at) = value
                    && *at > latest
                {
                    *at = latest;
                }
            }
            let entries = history::for_record(&self.db, story.type_name, story.id).await?;
            let (times, missing) = entry_times(&story, &entries, latest);
            undated.extend(missing);
            work.push((self.entry(story.type_name)?, story, times));
        }
        let records: Vec<Json> =
            work.iter().map(|(_, story, _)| serde_json::json!({ "type": story.type_name, "id": story.id })).collect();
        let order = work.first().map(|(_, story, _)| story.id.to_string()).unwrap_or_default();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    for (entry, story, times) in &work {
                        backdate(tx, &entry.spec, story.id, times, &story.fields).await?;
                    }
                    let detail = serde_json::json!({ "records": records });
                    crate::identity::audit_event(tx, "system", "demo.backdated", "purchase_order", &order, detail)
                        .await?;
                    Ok::<_, Error>(())
                })
            })
            .await?;
        Ok(undated)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn entry(id: i64, command: &str) -> StoredHistory {
        StoredHistory {
            id,
            at: datetime!(2026-12-01 12:00 UTC),
            version: id,
            command: command.into(),
            actor: "system".into(),
            changes: Json::Array(Vec::new()),
        }
    }

    #[test]
    fn entries_take_their_steps_in_order_and_never_go_back_nor_past_the_load() {
        let story = Story::new(
            "purchase_order",
            Uuid::nil(),
            vec![
                ("create", datetime!(2026-06-01 01:00 UTC)),
                ("ship", datetime!(2026-06-10 08:00 UTC)),
                ("receive", datetime!(2026-06-09 02:00 UTC)),
                ("ship", datetime!(2026-06-20 08:00 UTC)),
                ("transition:close", datetime!(2026-12-05 08:00 UTC)),
            ],
        );
        let entries =
            [entry(1, "create"), entry(2, "ship"), entry(3, "receive"), entry(4, "mystery"), entry(5, "ship")];
        let (times, undated) = entry_times(&story, &entries, datetime!(2026-12-01 12:00 UTC));
        let at: Vec<OffsetDateTime> = times.iter().map(|t| t.at).collect();
        assert_eq!(
            at,
            [
                datetime!(2026-06-01 01:00 UTC),
                datetime!(2026-06-10 08:00 UTC),
                // Not before the entry it follows.
                datetime!(2026-06-10 08:00 UTC),
                datetime!(2026-06-10 08:01 UTC),
                datetime!(2026-06-20 08:00 UTC),
            ]
        );
        assert_eq!(undated, ["purchase_order mystery"]);
        let late = [entry(1, "create"), entry(2, "transition:close")];
        let (times, _) = entry_times(&story, &late, datetime!(2026-12-01 12:00 UTC));
        assert_eq!(times[1].at, datetime!(2026-12-01 12:00 UTC), "capped at the pass");
    }

    #[test]
    fn a_backdated_field_is_shown_at_its_new_value_in_the_diff() {
        let fields = BTreeMap::from([("confirmed_at".to_owned(), Value::DateTime(datetime!(2026-06-02 03:04 UTC)))]);
        let diff = serde_json::json!([{ "field": "state", "from": "approved", "to": "confirmed" },
                                      { "field": "confirmed_at", "from": null, "to": "2026-12-01T12:00:00Z" }]);
        let out = rewritten(&diff, &fields).unwrap();
        assert_eq!(out[0], diff[0]);
        assert_eq!(out[1]["to"], Value::DateTime(datetime!(2026-06-02 03:04 UTC)).to_json());
        assert_eq!(rewritten(&serde_json::json!([{ "field": "qty" }]), &fields), None);
    }
}
