//! The three-way match as an outbox consumer (`procurement_match`):
//!
//! - a supplier invoice `submit`ted is matched: no difference → `match`; else `flag` with
//!   the differences, which starts the `invoice_exception` process (the buyer's to-do);
//! - a goods receipt posted (created posted, or an expected one posted) re-matches its
//!   order's flagged invoices: one that now matches moves to `matched` and its exception
//!   process is cancelled (expected receipts and draft invoices count for nothing: only
//!   posted quantities and matched or accepted invoices are on the order's lines);
//! - an invoice `matched` or `accepted` becomes a payable due after the agreed payment
//!   days, with the `payable_due` process (finance's to-do, due that day).
//!
//! - an approved supplier application becomes a supplier and the applicant gets the portal
//!   invitation by e-mail; a rejected one is told why (`onboarding`).
//!
//! Every step goes through the façade as the system and is idempotent: it acts only on the
//! state it expects (a redelivered event finds the invoice moved on), the payable is unique
//! per invoice, and the payment process starts under a key derived from the payable.

use rust_decimal::Decimal;
use serde_json::{Map, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::Value;
use weft_store::BoxFuture;
use weft_store::kernel::outbox::StoredEvent;

use super::matching::{self, InvoiceLine, OrderLine, Tolerance};
use super::quantities::{lines, number, reference, scaled};
use crate::consumers::Consumer;
use crate::processes::StartProcess;
use crate::{Error, ListQuery, RecordView, Result, Workspace};

#[derive(Debug, Clone, Copy, Default)]
pub struct ThreeWayMatch;

impl Consumer for ThreeWayMatch {
    fn name(&self) -> &str {
        "procurement_match"
    }

    fn handle<'a>(&'a self, workspace: &'a Workspace, event: &'a StoredEvent) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let Some(id) = event.record_id else { return Ok(()) };
            let ours = workspace.entry(&event.type_name).ok().is_some_and(|e| e.app == super::APP);
            if !ours {
                return Ok(());
            }
            match (event.kind.as_str(), event.type_name.as_str(), event.payload["to"].as_str()) {
                ("record.transitioned", "supplier_invoice", Some("submitted")) => workspace.match_invoice(id).await,
                ("record.transitioned", "supplier_invoice", Some("matched" | "accepted")) => {
                    workspace.create_payable(id).await
                }
                // A receipt books quantities when created posted or when an expected one is
                // posted; an expected receipt books nothing.
                ("record.created", "goods_receipt", _) if event.payload["state"] == "posted" => {
                    workspace.rematch_after_receipt(id).await
                }
                ("record.transitioned", "goods_receipt", Some("posted")) => workspace.rematch_after_receipt(id).await,
                ("record.transitioned", "supplier_application", Some("approved")) => {
                    workspace.onboard_supplier(event).await
                }
                ("record.transitioned", "supplier_application", Some("rejected")) => {
                    workspace.tell_rejection(event).await
                }
                _ => Ok(()),
            }
        })
    }
}

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::Text(t) | Value::Select(t)) => t.clone(),
        _ => String::new(),
    }
}

/// A transition the consumer tries: one someone else made first is not an error.
fn moved_on(result: Result<RecordView>) -> Result<()> {
    match result {
        Ok(_) | Err(Error::Stale { .. } | Error::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

impl Workspace {
    async fn tolerance(&self, supplier: Option<Uuid>) -> Result<(Tolerance, Option<i64>)> {
        let Some(supplier) = supplier else { return Ok((Tolerance::default(), None)) };
        let query =
            ListQuery { filter: Some(format!("supplier = \"{supplier}\"")), limit: Some(1), ..ListQuery::default() };
        let page = self.list(&Principal::system(), "supplier_profile", &query).await?;
        let Some(profile) = page.records.first() else { return Ok((Tolerance::default(), None)) };
        let mut tolerance = Tolerance::default();
        let set = |field: &str, into: &mut Decimal| {
            if profile.values.get(field).is_some_and(|v| !v.is_null()) {
                *into = number(profile.values.get(field));
            }
        };
        set("price_tolerance_pct", &mut tolerance.price_pct);
        set("price_tolerance_abs", &mut tolerance.price_abs);
        set("qty_tolerance_pct", &mut tolerance.qty_pct);
        let days = match profile.values.get("payment_days") {
            Some(Value::Integer(d)) => Some(*d),
            _ => None,
        };
        Ok((tolerance, days))
    }

    /// The invoice's differences against its order, receipts and earlier invoices.
    async fn invoice_differences(&self, invoice: &RecordView) -> Result<Vec<matching::Difference>> {
        let system = Principal::system();
        let order_id = reference(&invoice.values, "purchase_order")
            .ok_or_else(|| Error::Conflict("the invoice names no purchase order".into()))?;
        let order = self.get(&system, "purchase_order", order_id).await?;
        let order_lines: Vec<OrderLine> = lines(&order.values)
            .iter()
            .map(|l| OrderLine {
                id: match l.get("id") {
                    Some(Value::Reference(id)) => id.to_string(),
                    _ => String::new(),
                },
                description: text(l.get("description")),
                qty: number(l.get("qty")),
                unit_price: number(l.get("unit_price")),
                received: number(l.get("received_qty")),
                accepted: number(l.get("accepted_qty")),
                invoiced: number(l.get("invoiced_qty")),
            })
            .collect();
        let invoice_lines: Vec<InvoiceLine> = lines(&invoice.values)
            .iter()
            .map(|l| InvoiceLine {
                order_line: order_lines.iter().position(|o| !o.id.is_empty() && o.id == text(l.get("po_line")).trim()),
                qty: number(l.get("qty")),
                unit_price: number(l.get("unit_price")),
            })
            .collect();
        let (tolerance, _) = self.tolerance(reference(&invoice.values, "supplier")).await?;
        Ok(matching::differences(&order_lines, &invoice_lines, tolerance))
    }

    pub(super) async fn match_invoice(&self, id: Uuid) -> Result<()> {
        let system = Principal::system();
        let invoice = self.get(&system, "supplier_invoice", id).await?;
        if invoice.system.state.as_deref() != Some("submitted") {
            return Ok(());
        }
        let found = self.invoice_differences(&invoice).await?;
        let version = Some(invoice.system.version);
        let result = if found.is_empty() {
            self.transition(&system, "supplier_invoice", id, "match", version, Map::new()).await
        } else {
            let inputs = Map::from_iter([("differences".to_owned(), json!(found))]);
            self.transition(&system, "supplier_invoice", id, "flag", version, inputs).await
        };
        moved_on(result)
    }

    /// A receipt may be what a flagged invoice was waiting for.
    async fn rematch_after_receipt(&self, receipt: Uuid) -> Result<()> {
        let system = Principal::system();
        let receipt = self.get(&system, "goods_receipt", receipt).await?;
        let Some(order) = reference(&receipt.values, "purchase_order") else { return Ok(()) };
        let query = ListQuery {
            filter: Some(format!("purchase_order = \"{order}\" and state = \"exception\"")),
            limit: Some(100),
            ..ListQuery::default()
        };
        for invoice in self.list(&system, "supplier_invoice", &query).await?.records {
            if !self.invoice_differences(&invoice).await?.is_empty() {
                continue;
            }
            let id = invoice.system.id;
            moved_on(
                self.transition(&system, "supplier_invoice", id, "match", Some(invoice.system.version), Map::new())
                    .await,
            )?;
            for instance in self.processes_of_record(&system, "supplier_invoice", id).await? {
                if instance.status == "active" && instance.process_key == "invoice_exception" {
                    let reason = Some("the invoice matched once the late receipt was booked".to_owned());
                    match self.cancel_process(&system, instance.id, reason).await {
                        Ok(()) | Err(Error::Conflict(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(())
    }

    /// A matched or accepted invoice becomes a payable, due after the agreed payment days,
    /// with the `payable_due` process (finance's to-do).
    async fn create_payable(&self, invoice_id: Uuid) -> Result<()> {
        let Some(payable) = self.open_payable(invoice_id).await? else { return Ok(()) };
        let start = StartProcess {
            key: "payable_due".into(),
            record: Some(("payable".into(), payable)),
            variables: Map::new(),
            idempotency_key: Some(format!("payable_due:{payable}")),
        };
        match self.start_process(&Principal::system(), start).await {
            // An install without the process (an admin removed it) still gets its payables.
            Ok(_) | Err(Error::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The payable of a matched or accepted invoice, made now or found when an earlier
    /// delivery made it; `None` while the invoice is in another state.
    pub(super) async fn open_payable(&self, invoice_id: Uuid) -> Result<Option<Uuid>> {
        let system = Principal::system();
        let invoice = self.get(&system, "supplier_invoice", invoice_id).await?;
        if !matches!(invoice.system.state.as_deref(), Some("matched" | "accepted")) {
            return Ok(None);
        }
        let order_id = reference(&invoice.values, "purchase_order");
        let order = match order_id {
            Some(id) => Some(self.get(&system, "purchase_order", id).await?),
            None => None,
        };
        let (_, profile_days) = self.tolerance(reference(&invoice.values, "supplier")).await?;
        let days = match order.as_ref().and_then(|o| o.values.get("payment_days")) {
            Some(Value::Integer(d)) => *d,
            _ => profile_days.unwrap_or(30),
        };
        let invoiced_on = match invoice.values.get("invoice_date") {
            Some(Value::Date(d)) => *d,
            _ => invoice.system.created_at.date(),
        };
        let due = invoiced_on + time::Duration::days(days);
        let amount = number(invoice.values.get("total_amount")) + number(invoice.values.get("tax_amount"));
        let mut input = Map::new();
        input.insert("supplier_invoice".into(), json!(invoice_id));
        input.insert("purchase_order".into(), json!(order_id));
        input.insert("supplier".into(), json!(reference(&invoice.values, "supplier")));
        input.insert("amount".into(), scaled(amount, 2).to_json());
        input.insert("currency".into(), Value::Text(text(invoice.values.get("currency"))).to_json());
        input.insert("due_date".into(), Value::Date(due).to_json());
        match self.create(&system, "payable", input, None).await {
            Ok(created) => Ok(created.id()),
            // Made by an earlier delivery of this event: find it, so its process still starts.
            Err(Error::Unique { .. } | Error::Conflict(_)) => {
                let query = ListQuery {
                    filter: Some(format!("supplier_invoice = \"{invoice_id}\"")),
                    limit: Some(1),
                    ..ListQuery::default()
                };
                Ok(self.list(&system, "payable", &query).await?.records.first().map(|p| p.system.id))
            }
            Err(e) => Err(e),
        }
    }
}

impl crate::Created {
    /// The id of the record created (or of the one a replayed request created).
    pub(crate) fn id(&self) -> Option<Uuid> {
        match self {
            crate::Created::Fresh(view) => Some(view.system.id),
            crate::Created::Replayed(json) => json["id"].as_str().and_then(|s| Uuid::parse_str(s).ok()),
        }
    }
}
