//! What a confirmed order plans, inside the command that confirms it: the goods the
//! warehouse expects and the invoice the supplier is expected to send.
//!
//! - **The expected receipt.** While an order is `confirmed` and has quantities still to
//!   receive, it has exactly one goods receipt in state `expected`, with one line per open
//!   order line (`expected_qty` = qty − received) and the promised date (`expected_on`).
//!   The warehouse fills in received and accepted quantities and posts it (`post`), which
//!   books them like a receipt created directly; what is still open then gets a new
//!   expected receipt (a back order). A receipt created directly, or a reversed one, keeps
//!   it in step; when nothing is open, or the order leaves `confirmed` (revised, closed),
//!   it moves to `cancelled` ("no longer expected").
//! - **The expected invoice.** On confirmation the supplier gets a draft `supplier_invoice`
//!   prefilled from the order (lines, prices, tax, totals, buyer, currency) to complete
//!   with its invoice number and date and submit. When the order is revised or closed, a
//!   planned draft the supplier never changed is `withdrawn`; one it has worked on stays
//!   its to submit or withdraw.
//!
//! Every record is written through `records::engine_create` / `engine_write`: rows,
//! numbers, history, audit entries and events like any other change, by the system.
//!
//! Why there is never a second expected receipt, even on PostgreSQL under concurrent
//! commands: every command that changes what is expected (a confirmation, a posting, a
//! receipt created directly, a reversal, a revision, a close) first writes the order's row
//! with its version check in the same transaction, so two of them on one order are
//! serialised by the order's row and the second fails its version check instead of
//! planning twice.

use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use sea_query::{Alias, Expr, Order, Query};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::{FieldErrorCode, Value};
use weft_store::Tx;
use weft_store::records::Storage;
use weft_store::records::codec::uuid;
use weft_store::records::rows::StoredRecord;

use super::quantities::{Line, QTY_SCALE, error, invalid, invoice_totals, line_id, lines, number, reference, scaled};
use crate::catalog::{Catalog, TypeEntry};
use crate::records::{engine_create, engine_write, load_in_tx};
use crate::{Error, Result};

/// A state of the app's types that these plans read or write.
const EXPECTED: &str = "expected";

fn entry(catalog: &Catalog, name: &str) -> Result<Arc<TypeEntry>> {
    catalog
        .get(name)
        .filter(|e| e.app == super::APP)
        .ok_or_else(|| Error::Unavailable("the procurement app is not installed".into()))
}

/// Live records of `entry` naming `order` that are in `state` (made by the system when
/// `planned`), oldest first.
async fn of_order(
    tx: &mut Tx,
    entry: &TypeEntry,
    order: Uuid,
    state: &str,
    planned: bool,
) -> Result<Vec<StoredRecord>> {
    let column = entry
        .spec
        .fields
        .iter()
        .find_map(|f| match &f.storage {
            Storage::Reference { column, .. } if f.field == "purchase_order" => Some(column.clone()),
            _ => None,
        })
        .ok_or_else(|| Error::Conflict(format!("`{}` names no purchase order", entry.decl.name)))?;
    let mut select = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new(&entry.spec.table))
        .and_where(Expr::col(Alias::new(&column)).eq(uuid(order)))
        .and_where(Expr::col(Alias::new("state")).eq(state))
        .and_where(Expr::col(Alias::new("deleted_at")).is_null())
        .order_by(Alias::new("id"), Order::Asc)
        .to_owned();
    if planned {
        select.and_where(Expr::col(Alias::new("created_by")).eq(uuid(Principal::SYSTEM_ID)));
    }
    let mut out = Vec::new();
    for row in tx.fetch_all(&select).await? {
        let id: Uuid = row.get("id")?;
        out.push(load_in_tx(tx, entry, id).await?);
    }
    Ok(out)
}

fn text_of(value: Option<&Value>) -> Option<&str> {
    match value {
        Some(Value::Text(t)) => Some(t.trim()),
        _ => None,
    }
}

/// `(order line id, description, quantity still to receive)` of each open order line.
fn open_lines(order: &StoredRecord) -> Vec<(Uuid, Value, Decimal)> {
    lines(&order.values)
        .iter()
        .filter_map(|l| {
            let open = number(l.get("qty")) - number(l.get("received_qty"));
            let id = line_id(l)?;
            (open > Decimal::ZERO).then(|| (id, l.get("description").cloned().unwrap_or(Value::Null), open))
        })
        .collect()
}

fn present(value: Option<&Value>) -> Value {
    value.filter(|v| !v.is_null()).cloned().unwrap_or(Value::Null)
}

/// Everything a confirmation plans: the expected receipt and the draft invoice.
pub(super) async fn confirmed(tx: &mut Tx, catalog: &Catalog, order: Uuid) -> Result<()> {
    let order = load_in_tx(tx, &*entry(catalog, "purchase_order")?, order).await?;
    keep_receipt_of(tx, catalog, &order).await?;
    expect_invoice(tx, catalog, &order).await
}

/// The order left `confirmed` without being fulfilled (revised, closed): nothing is
/// expected any more, and the supplier's untouched planned invoice is withdrawn.
pub(super) async fn unconfirmed(tx: &mut Tx, catalog: &Catalog, order: Uuid) -> Result<()> {
    keep_expected_receipt(tx, catalog, order).await?;
    let invoices = entry(catalog, "supplier_invoice")?;
    for draft in of_order(tx, &invoices, order, "draft", true).await? {
        if draft.system.version == 1 {
            engine_write(tx, &invoices, &draft, Some("withdrawn"), BTreeMap::new(), "withdraw").await?;
        }
    }
    Ok(())
}

/// Keeps the order's expected receipt in step with what is still open on it (see the
/// module documentation): creates it, refreshes its lines, or cancels it.
pub(super) async fn keep_expected_receipt(tx: &mut Tx, catalog: &Catalog, order_id: Uuid) -> Result<()> {
    let order = load_in_tx(tx, &*entry(catalog, "purchase_order")?, order_id).await?;
    keep_receipt_of(tx, catalog, &order).await
}

/// `keep_expected_receipt` of an order read already in this transaction.
async fn keep_receipt_of(tx: &mut Tx, catalog: &Catalog, order: &StoredRecord) -> Result<()> {
    let receipts = entry(catalog, "goods_receipt")?;
    let order_id = order.system.id;
    let open = if order.system.state.as_deref() == Some("confirmed") { open_lines(order) } else { Vec::new() };
    let mut expected = of_order(tx, &receipts, order_id, EXPECTED, false).await?.into_iter();
    let current = expected.next();
    // Only one is ever planned; should there be more, the later ones go.
    for extra in expected {
        engine_write(tx, &receipts, &extra, Some("cancelled"), BTreeMap::new(), "cancel").await?;
    }
    match current {
        None if open.is_empty() => Ok(()),
        Some(receipt) if open.is_empty() => {
            engine_write(tx, &receipts, &receipt, Some("cancelled"), BTreeMap::new(), "cancel").await.map(drop)
        }
        Some(receipt) => {
            let mut kept: Vec<Line> = Vec::new();
            let mut seen = Vec::new();
            for mut line in lines(&receipt.values) {
                let named = text_of(line.get("po_line")).and_then(|t| Uuid::parse_str(t).ok());
                let Some((id, _, qty)) = open.iter().find(|(id, _, _)| Some(*id) == named) else { continue };
                let first = !seen.contains(id);
                seen.push(*id);
                line.insert("expected_qty".into(), if first { scaled(*qty, QTY_SCALE) } else { Value::Null });
                kept.push(line);
            }
            for (id, description, qty) in open.iter().filter(|(id, _, _)| !seen.contains(id)) {
                kept.push(expected_line(*id, description, *qty));
            }
            let mut changes = BTreeMap::from([("lines".to_owned(), Value::Lines(kept))]);
            changes.insert("expected_on".into(), present(order.values.get("promised_date")));
            engine_write(tx, &receipts, &receipt, None, changes, "refresh").await.map(drop)
        }
        None => {
            let values = BTreeMap::from([
                ("purchase_order".to_owned(), Value::Reference(order_id)),
                ("supplier".to_owned(), present(order.values.get("supplier"))),
                ("expected_on".to_owned(), present(order.values.get("promised_date"))),
                (
                    "lines".to_owned(),
                    Value::Lines(open.iter().map(|(id, d, qty)| expected_line(*id, d, *qty)).collect()),
                ),
            ]);
            engine_create(tx, &receipts, values, EXPECTED, order.system.owner, order.system.unit).await.map(drop)
        }
    }
}

fn expected_line(po_line: Uuid, description: &Value, qty: Decimal) -> Line {
    BTreeMap::from([
        ("po_line".to_owned(), Value::Text(po_line.to_string())),
        ("description".to_owned(), description.clone()),
        ("expected_qty".to_owned(), scaled(qty, QTY_SCALE)),
    ])
}

/// The draft invoice the supplier is expected to send, unless a planned one is still open.
async fn expect_invoice(tx: &mut Tx, catalog: &Catalog, order: &StoredRecord) -> Result<()> {
    let invoices = entry(catalog, "supplier_invoice")?;
    let order_id = order.system.id;
    if !of_order(tx, &invoices, order_id, "draft", true).await?.is_empty() {
        return Ok(());
    }
    let invoice_lines: Vec<Line> = lines(&order.values)
        .iter()
        .filter_map(|l| {
            let qty = number(l.get("qty")) - number(l.get("invoiced_qty"));
            let id = line_id(l).filter(|_| qty > Decimal::ZERO)?;
            Some(BTreeMap::from([
                ("po_line".to_owned(), Value::Text(id.to_string())),
                ("description".to_owned(), present(l.get("description"))),
                ("qty".to_owned(), scaled(qty, QTY_SCALE)),
                ("unit_price".to_owned(), present(l.get("unit_price"))),
                ("tax_rate".to_owned(), present(l.get("tax_rate"))),
            ]))
        })
        .collect();
    if invoice_lines.is_empty() {
        return Ok(());
    }
    let mut values = BTreeMap::from([
        ("purchase_order".to_owned(), Value::Reference(order_id)),
        ("supplier".to_owned(), present(order.values.get("supplier"))),
        ("buyer".to_owned(), present(order.values.get("buyer"))),
        ("currency".to_owned(), present(order.values.get("currency"))),
        ("lines".to_owned(), Value::Lines(invoice_lines)),
    ]);
    invoice_totals(&mut values);
    engine_create(tx, &invoices, values, "draft", order.system.owner, order.system.unit).await.map(drop)
}

/// Posting an expected receipt: the quantities entered are booked like a receipt created
/// directly (lines with nothing received are left out); the day of posting is the
/// receiving day unless one was entered.
pub(super) async fn post_receipt(
    tx: &mut Tx,
    catalog: &Catalog,
    current: &StoredRecord,
    changes: &mut BTreeMap<String, Value>,
) -> Result<()> {
    let mut values = current.values.clone();
    values.extend(changes.iter().map(|(k, v)| (k.clone(), v.clone())));
    super::quantities::receive(tx, catalog, &mut values, super::quantities::Receiving::Posting).await?;
    if let Some(posted) = values.remove("lines") {
        changes.insert("lines".into(), posted);
    }
    if values.get("received_on").is_none_or(Value::is_null) {
        changes.insert("received_on".into(), Value::Date(weft_store::now().date()));
    }
    Ok(())
}

/// An expected receipt's update: what is expected stays Weft's to say.
pub(super) fn keep_expected(current: &StoredRecord, changes: &mut BTreeMap<String, Value>) -> Result<()> {
    let Some(Value::Lines(new)) = changes.get("lines") else { return Ok(()) };
    let stored = lines(&current.values);
    let mut errors = Vec::new();
    let mut kept = new.clone();
    for (i, line) in kept.iter_mut().enumerate() {
        let before = stored.iter().find(|s| line_id(s).is_some() && line_id(s) == line_id(line));
        let expected = before.and_then(|b| b.get("expected_qty")).cloned().unwrap_or(Value::Null);
        if line.get("expected_qty").is_some_and(|v| !v.is_null() && number(Some(v)) != number(Some(&expected))) {
            errors.push(error(
                format!("/lines/{i}/expected_qty"),
                FieldErrorCode::NotEditable,
                "kept by Weft from what is still open on the order",
            ));
        }
        line.insert("expected_qty".into(), expected);
    }
    invalid(errors)?;
    changes.insert("lines".into(), Value::Lines(kept));
    Ok(())
}

/// A supplier invoice is submitted with the supplier's own number and date.
pub(super) fn submittable(current: &StoredRecord) -> Result<()> {
    let mut errors = Vec::new();
    if text_of(current.values.get("invoice_no")).is_none_or(str::is_empty) {
        errors.push(error(
            "/invoice_no",
            FieldErrorCode::Required,
            "the supplier's invoice number is needed to submit",
        ));
    }
    if current.values.get("invoice_date").is_none_or(Value::is_null) {
        errors.push(error("/invoice_date", FieldErrorCode::Required, "the invoice date is needed to submit"));
    }
    if lines(&current.values).is_empty() {
        errors.push(error("/lines", FieldErrorCode::Required, "an invoice has at least one line"));
    }
    invalid(errors)
}

/// The order a receipt names, for keeping its expected receipt after a change.
pub(super) fn order_of(receipt: &StoredRecord) -> Option<Uuid> {
    reference(&receipt.values, "purchase_order")
}
