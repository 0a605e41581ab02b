//! What the order's lines say is still open, kept inside the commands that change it.
//!
//! A shipping notice may not ship more than an order line has left to ship, and a goods
//! receipt may not receive more than the line has left to receive. Both checks read the
//! order in the command's own transaction and write the moved quantities back to it there
//! (an order changed meanwhile fails the version check of that write instead of letting
//! two notices ship the same quantity twice).

use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;
use weft_model::schema::{FieldError, FieldErrorCode, Value};
use weft_store::Tx;
use weft_store::records::rows::StoredRecord;

use crate::catalog::{Catalog, TypeEntry};
use crate::records::{engine_write, load_in_tx};
use crate::{Error, Result};

/// Line quantities only Weft writes: from shipping notices, receipts and matched invoices.
const KEPT_LINE_FIELDS: [&str; 4] = ["shipped_qty", "received_qty", "accepted_qty", "invoiced_qty"];
pub(super) const QTY_SCALE: u32 = 3;
const AMOUNT_SCALE: u32 = 2;

pub(super) type Line = BTreeMap<String, Value>;

pub(super) fn error(pointer: impl Into<String>, code: FieldErrorCode, reason: impl Into<String>) -> FieldError {
    FieldError { pointer: pointer.into(), code, reason: reason.into() }
}

pub(super) fn invalid(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
}

pub(crate) fn number(value: Option<&Value>) -> Decimal {
    match value {
        Some(Value::Decimal(d)) => *d,
        Some(Value::Integer(i)) => Decimal::from(*i),
        Some(Value::Money { amount, .. }) => *amount,
        _ => Decimal::ZERO,
    }
}

pub(super) fn scaled(d: Decimal, scale: u32) -> Value {
    let mut d = d.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
    d.rescale(scale);
    Value::Decimal(d)
}

pub(super) fn lines(values: &BTreeMap<String, Value>) -> Vec<Line> {
    match values.get("lines") {
        Some(Value::Lines(lines)) => lines.clone(),
        _ => Vec::new(),
    }
}

pub(super) fn reference(values: &BTreeMap<String, Value>, field: &str) -> Option<Uuid> {
    match values.get(field) {
        Some(Value::Reference(id)) => Some(*id),
        _ => None,
    }
}

fn text(value: &Value) -> Option<&str> {
    match value {
        Value::Text(t) | Value::Select(t) => Some(t),
        _ => None,
    }
}

pub(super) fn line_id(line: &Line) -> Option<Uuid> {
    reference(line, "id")
}

/// The order line a document line names (`po_line`), by position in the order's lines.
pub(super) fn order_line_index(order_lines: &[Line], line: &Line) -> Option<usize> {
    let wanted = match line.get("po_line") {
        Some(Value::Text(text)) => Uuid::parse_str(text.trim()).ok()?,
        _ => return None,
    };
    order_lines.iter().position(|l| line_id(l) == Some(wanted))
}

/// Σ qty × price and Σ qty × price × tax rate, over lines.
fn totals(lines: &[Line], price_field: &str) -> (Decimal, Decimal) {
    lines.iter().fold((Decimal::ZERO, Decimal::ZERO), |(net, tax), line| {
        let amount = number(line.get("qty")) * number(line.get(price_field));
        (net + amount, tax + amount * number(line.get("tax_rate")) / Decimal::ONE_HUNDRED)
    })
}

fn set_totals(values: &mut BTreeMap<String, Value>, lines: &[Line]) {
    let (net, tax) = totals(lines, "unit_price");
    values.insert("total_amount".into(), scaled(net, AMOUNT_SCALE));
    values.insert("tax_amount".into(), scaled(tax, AMOUNT_SCALE));
}

/// A new order: its kept quantities start at zero and its totals follow its lines.
pub(super) fn new_order(values: &mut BTreeMap<String, Value>) -> Result<()> {
    // Taken out and put back, not copied: every order create comes here.
    let mut lines = match values.remove("lines") {
        Some(Value::Lines(lines)) => lines,
        _ => Vec::new(),
    };
    let mut errors = Vec::new();
    for (i, line) in lines.iter_mut().enumerate() {
        for field in KEPT_LINE_FIELDS {
            if !number(line.get(field)).is_zero() {
                errors.push(error(
                    format!("/lines/{i}/{field}"),
                    FieldErrorCode::NotEditable,
                    "kept by Weft from shipping notices, receipts and matched invoices",
                ));
            }
            line.insert(field.to_owned(), scaled(Decimal::ZERO, QTY_SCALE));
        }
    }
    set_totals(values, &lines);
    values.insert("lines".into(), Value::Lines(lines));
    invalid(errors)
}

/// An order's update: lines keep the quantities Weft has booked on them, a line with
/// goods shipped or received cannot go away or drop below them, and the totals follow.
pub(super) fn changed_order(current: &StoredRecord, changes: &mut BTreeMap<String, Value>) -> Result<()> {
    let stored = lines(&current.values);
    let mut errors = Vec::new();
    let mut lines = match changes.get("lines") {
        Some(Value::Lines(new)) => new.clone(),
        _ => {
            if changes.contains_key("total_amount") || changes.contains_key("tax_amount") {
                set_totals(changes, &stored);
            }
            return Ok(());
        }
    };
    for (i, line) in lines.iter_mut().enumerate() {
        let before = stored.iter().find(|s| line_id(s).is_some() && line_id(s) == line_id(line));
        for field in KEPT_LINE_FIELDS {
            let kept = before.map_or(Decimal::ZERO, |b| number(b.get(field)));
            if line.get(field).is_some_and(|v| !v.is_null() && number(Some(v)) != kept) {
                errors.push(error(
                    format!("/lines/{i}/{field}"),
                    FieldErrorCode::NotEditable,
                    "kept by Weft from shipping notices, receipts and matched invoices",
                ));
            }
            line.insert(field.to_owned(), scaled(kept, QTY_SCALE));
        }
        let floor = number(line.get("shipped_qty")).max(number(line.get("received_qty")));
        if number(line.get("qty")) < floor {
            errors.push(error(
                format!("/lines/{i}/qty"),
                FieldErrorCode::OutOfRange,
                format!("cannot be less than what was already shipped or received ({})", floor.normalize()),
            ));
        }
    }
    for gone in stored.iter().filter(|s| !lines.iter().any(|l| line_id(l) == line_id(s))) {
        let moved = number(gone.get("shipped_qty")).max(number(gone.get("received_qty")));
        if !moved.is_zero() {
            errors.push(error(
                "/lines",
                FieldErrorCode::NotEditable,
                format!(
                    "line `{}` has goods shipped or received and cannot be removed",
                    gone.get("description").and_then(text).unwrap_or_default()
                ),
            ));
        }
    }
    invalid(errors)?;
    set_totals(changes, &lines);
    changes.insert("lines".into(), Value::Lines(lines));
    Ok(())
}

pub(super) fn requisition_total(values: &mut BTreeMap<String, Value>) {
    if values.contains_key("lines") || values.contains_key("estimated_total") {
        let (net, _) = totals(&lines(values), "estimated_price");
        values.insert("estimated_total".into(), scaled(net, AMOUNT_SCALE));
    }
}

pub(super) fn invoice_totals(values: &mut BTreeMap<String, Value>) {
    if values.contains_key("lines") || values.contains_key("total_amount") || values.contains_key("tax_amount") {
        let lines = lines(values);
        set_totals(values, &lines);
    }
}

/// The order a supplier's document names, read in the command's transaction.
pub(super) async fn order(
    tx: &mut Tx,
    catalog: &Catalog,
    values: &BTreeMap<String, Value>,
) -> Result<(Arc<TypeEntry>, StoredRecord)> {
    let entry = catalog
        .get("purchase_order")
        .ok_or_else(|| Error::Unavailable("the procurement app is not installed".into()))?;
    let Some(id) = reference(values, "purchase_order") else {
        return Err(Error::Validation(vec![error("/purchase_order", FieldErrorCode::Required, "is required")]));
    };
    let order = load_in_tx(tx, &entry, id).await.map_err(|e| match e {
        Error::NotFound(_) => Error::Validation(vec![error(
            "/purchase_order",
            FieldErrorCode::UnknownReference,
            format!("no record {id}"),
        )]),
        other => other,
    })?;
    Ok((entry, order))
}

/// A supplier's document concerns its order's supplier: filled in when left out,
/// refused when it names another.
pub(super) async fn from_order(
    tx: &mut Tx,
    catalog: &Catalog,
    values: &mut BTreeMap<String, Value>,
) -> Result<(Arc<TypeEntry>, StoredRecord)> {
    let (entry, order) = order(tx, catalog, values).await?;
    let supplier = reference(&order.values, "supplier");
    match (reference(values, "supplier"), supplier) {
        (None, Some(s)) => {
            values.insert("supplier".into(), Value::Reference(s));
        }
        (Some(given), Some(s)) if given != s => {
            return Err(Error::Validation(vec![error(
                "/supplier",
                FieldErrorCode::InvalidFormat,
                "must be the supplier of the purchase order",
            )]));
        }
        _ => {}
    }
    Ok((entry, order))
}

fn require_state(order: &StoredRecord, states: &[&str], what: &str) -> Result<()> {
    let state = order.system.state.as_deref().unwrap_or_default();
    if states.contains(&state) {
        return Ok(());
    }
    Err(Error::Validation(vec![error(
        "/purchase_order",
        FieldErrorCode::GuardFailed,
        format!("{what} needs the order in state {} (it is `{state}`)", states.join(" or ")),
    )]))
}

/// Each document line matched to its order line, with its quantity; problems listed.
fn matched_lines<'a>(
    order_lines: &[Line],
    doc_lines: &'a mut [Line],
    qty_field: &str,
    errors: &mut Vec<FieldError>,
) -> Vec<(usize, &'a mut Line, Decimal)> {
    let mut out = Vec::new();
    for (i, line) in doc_lines.iter_mut().enumerate() {
        let Some(at) = order_line_index(order_lines, line) else {
            errors.push(error(
                format!("/lines/{i}/po_line"),
                FieldErrorCode::UnknownReference,
                "not a line of this purchase order",
            ));
            continue;
        };
        if line.get("description").is_none_or(Value::is_null)
            && let Some(description) = order_lines[at].get("description")
        {
            line.insert("description".into(), description.clone());
        }
        let qty = number(line.get(qty_field));
        out.push((at, line, qty));
    }
    out
}

/// A shipping notice: against a confirmed order, never more than each line has left to ship.
pub(super) async fn ship(tx: &mut Tx, catalog: &Catalog, values: &mut BTreeMap<String, Value>) -> Result<()> {
    let (entry, order) = from_order(tx, catalog, values).await?;
    require_state(&order, &["confirmed"], "a shipping notice")?;
    let mut order_lines = lines(&order.values);
    let mut doc_lines = lines(values);
    let mut errors = Vec::new();
    if doc_lines.is_empty() {
        errors.push(error("/lines", FieldErrorCode::Required, "a shipping notice ships at least one line"));
    }
    let mut shipping: BTreeMap<usize, Decimal> = BTreeMap::new();
    for (at, _, qty) in matched_lines(&order_lines, &mut doc_lines, "qty", &mut errors) {
        *shipping.entry(at).or_default() += qty;
    }
    for (i, line) in doc_lines.iter().enumerate() {
        let Some(at) = order_line_index(&order_lines, line) else { continue };
        let open = number(order_lines[at].get("qty")) - number(order_lines[at].get("shipped_qty"));
        if number(line.get("qty")) <= Decimal::ZERO {
            errors.push(error(format!("/lines/{i}/qty"), FieldErrorCode::OutOfRange, "must be more than 0"));
        } else if shipping[&at] > open {
            errors.push(error(
                format!("/lines/{i}/qty"),
                FieldErrorCode::OutOfRange,
                format!("more than the quantity still open on the order line ({})", open.normalize()),
            ));
        }
    }
    invalid(errors)?;
    for (at, qty) in shipping {
        let shipped = number(order_lines[at].get("shipped_qty")) + qty;
        order_lines[at].insert("shipped_qty".into(), scaled(shipped, QTY_SCALE));
    }
    values.insert("lines".into(), Value::Lines(doc_lines));
    let changes = BTreeMap::from([("lines".to_owned(), Value::Lines(order_lines))]);
    engine_write(tx, &entry, &order, None, changes, "ship").await.map(drop)
}

/// How a receipt books: created posted at once, or an expected receipt being posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Receiving {
    /// Every line must receive something.
    Direct,
    /// Lines with nothing received are left out of the posted receipt.
    Posting,
}

fn quantity(line: &Line, field: &str) -> Option<Decimal> {
    line.get(field).filter(|v| !v.is_null()).map(|v| number(Some(v)))
}

/// A goods receipt: received no more than each line has left to receive, accepted no more
/// than received; both are given on every line that receives. Books the quantities on the
/// order and keeps the order's expected receipt in step (`plans`). Returns the order's id.
pub(super) async fn receive(
    tx: &mut Tx,
    catalog: &Catalog,
    values: &mut BTreeMap<String, Value>,
    mode: Receiving,
) -> Result<Uuid> {
    let (entry, order) = from_order(tx, catalog, values).await?;
    require_state(&order, &["confirmed", "closed"], "a goods receipt")?;
    let mut order_lines = lines(&order.values);
    let mut doc_lines = lines(values);
    if mode == Receiving::Direct {
        // What is still expected is Weft's to say, on expected receipts only.
        for line in &mut doc_lines {
            line.remove("expected_qty");
        }
    }
    let mut errors = Vec::new();
    let receives =
        |line: &Line| mode == Receiving::Direct || quantity(line, "received_qty").is_some_and(|q| !q.is_zero());
    if !doc_lines.iter().any(receives) {
        let reason = match mode {
            Receiving::Direct => "a receipt receives at least one line",
            Receiving::Posting => "nothing was received: enter the received quantity of at least one line",
        };
        errors.push(error("/lines", FieldErrorCode::Required, reason));
    }
    let mut booked: BTreeMap<usize, (Decimal, Decimal)> = BTreeMap::new();
    for (at, line, received) in matched_lines(&order_lines, &mut doc_lines, "received_qty", &mut errors) {
        let accepted = number(line.get("accepted_qty"));
        let entry = booked.entry(at).or_default();
        entry.0 += received;
        entry.1 += accepted;
    }
    for (i, line) in doc_lines.iter().enumerate() {
        let Some(at) = order_line_index(&order_lines, line) else { continue };
        if !receives(line) {
            continue;
        }
        let open = number(order_lines[at].get("qty")) - number(order_lines[at].get("received_qty"));
        match quantity(line, "received_qty") {
            None => errors.push(error(format!("/lines/{i}/received_qty"), FieldErrorCode::Required, "is required")),
            Some(received) if received <= Decimal::ZERO => errors.push(error(
                format!("/lines/{i}/received_qty"),
                FieldErrorCode::OutOfRange,
                "must be more than 0",
            )),
            Some(_) if booked[&at].0 > open => errors.push(error(
                format!("/lines/{i}/received_qty"),
                FieldErrorCode::OutOfRange,
                format!("more than the quantity still to receive on the order line ({})", open.normalize()),
            )),
            Some(_) => {}
        }
        match (quantity(line, "accepted_qty"), quantity(line, "received_qty")) {
            (None, _) => errors.push(error(
                format!("/lines/{i}/accepted_qty"),
                FieldErrorCode::Required,
                "is required on a line that receives goods (0 when all were refused)",
            )),
            (Some(accepted), Some(received)) if accepted > received => errors.push(error(
                format!("/lines/{i}/accepted_qty"),
                FieldErrorCode::OutOfRange,
                "cannot be more than the quantity received",
            )),
            _ => {}
        }
    }
    invalid(errors)?;
    for (at, (received, accepted)) in booked {
        let line = &mut order_lines[at];
        let r = number(line.get("received_qty")) + received;
        let a = number(line.get("accepted_qty")) + accepted;
        line.insert("received_qty".into(), scaled(r, QTY_SCALE));
        line.insert("accepted_qty".into(), scaled(a, QTY_SCALE));
    }
    doc_lines.retain(receives);
    values.insert("lines".into(), Value::Lines(doc_lines));
    let changes = BTreeMap::from([("lines".to_owned(), Value::Lines(order_lines))]);
    engine_write(tx, &entry, &order, None, changes, "receive").await?;
    Ok(order.system.id)
}

/// A supplier invoice: against an order the supplier confirmed, each line naming a line of
/// it; the buyer who will resolve differences is the order's.
pub(super) async fn new_invoice(tx: &mut Tx, catalog: &Catalog, values: &mut BTreeMap<String, Value>) -> Result<()> {
    let (_, order) = from_order(tx, catalog, values).await?;
    require_state(&order, &["confirmed", "closed"], "an invoice")?;
    let order_lines = lines(&order.values);
    let mut doc_lines = lines(values);
    let mut errors = Vec::new();
    if doc_lines.is_empty() {
        errors.push(error("/lines", FieldErrorCode::Required, "an invoice has at least one line"));
    }
    matched_lines(&order_lines, &mut doc_lines, "qty", &mut errors);
    invalid(errors)?;
    match order.values.get("buyer") {
        Some(buyer @ Value::Reference(_)) => values.insert("buyer".into(), buyer.clone()),
        _ => values.remove("buyer"),
    };
    values.insert("lines".into(), Value::Lines(doc_lines));
    invoice_totals(values);
    if values.get("currency").is_none_or(Value::is_null)
        && let Some(currency) = order.values.get("currency")
    {
        values.insert("currency".into(), currency.clone());
    }
    Ok(())
}

/// The supplier's answer to an order moves the order: accepted (with promised dates),
/// changes proposed, or declined.
pub(super) async fn confirmation(tx: &mut Tx, catalog: &Catalog, values: &mut BTreeMap<String, Value>) -> Result<()> {
    let (entry, order) = from_order(tx, catalog, values).await?;
    require_state(&order, &["approved", "changes_proposed"], "a confirmation")?;
    let mut order_lines = lines(&order.values);
    let mut doc_lines = lines(values);
    let mut errors = Vec::new();
    let answers: Vec<(usize, Line)> = matched_lines(&order_lines, &mut doc_lines, "qty", &mut errors)
        .into_iter()
        .map(|(at, line, _)| (at, line.clone()))
        .collect();
    invalid(errors)?;
    let decision = values.get("decision").and_then(text).unwrap_or_default().to_owned();
    let note = values.get("note").cloned().unwrap_or(Value::Null);
    let mut changes = BTreeMap::from([("supplier_note".to_owned(), note)]);
    let (state, command) = match decision.as_str() {
        "accept" => {
            let promised = values.get("promised_date").cloned().filter(|v| !v.is_null());
            for (at, answer) in &answers {
                if let Some(date) = answer.get("promised_date").filter(|v| !v.is_null()) {
                    order_lines[*at].insert("promised_date".into(), date.clone());
                }
            }
            if let Some(date) = &promised {
                for line in order_lines.iter_mut().filter(|l| l.get("promised_date").is_none_or(Value::is_null)) {
                    line.insert("promised_date".into(), date.clone());
                }
                changes.insert("promised_date".into(), date.clone());
            }
            changes.insert("lines".into(), Value::Lines(order_lines));
            changes.insert("confirmed_at".into(), Value::DateTime(weft_store::now()));
            ("confirmed", "confirm")
        }
        "accept_with_changes" => ("changes_proposed", "propose_changes"),
        _ => ("declined", "decline"),
    };
    values.insert("lines".into(), Value::Lines(doc_lines));
    engine_write(tx, &entry, &order, Some(state), changes, command).await?;
    if state == "confirmed" {
        super::plans::confirmed(tx, catalog, order.system.id).await?;
    }
    Ok(())
}

/// A supplier's document stays with the order and supplier it was created for.
pub(super) fn keep_order(current: &StoredRecord, changes: &BTreeMap<String, Value>) -> Result<()> {
    let errors: Vec<FieldError> = ["purchase_order", "supplier"]
        .into_iter()
        .filter(|f| changes.contains_key(*f) && changes.get(*f) != current.values.get(*f))
        .map(|f| error(format!("/{f}"), FieldErrorCode::NotEditable, "fixed once the document is created"))
        .collect();
    invalid(errors)
}

/// Takes a cancelled notice's or reversed receipt's quantities off its order's lines.
async fn give_back(
    tx: &mut Tx,
    catalog: &Catalog,
    document: &StoredRecord,
    fields: &[(&str, &str)],
    command: &str,
) -> Result<()> {
    let (entry, order) = order(tx, catalog, &document.values).await?;
    let mut order_lines = lines(&order.values);
    for line in lines(&document.values) {
        let Some(at) = order_line_index(&order_lines, &line) else { continue };
        for (doc_field, order_field) in fields {
            let left = (number(order_lines[at].get(*order_field)) - number(line.get(*doc_field))).max(Decimal::ZERO);
            order_lines[at].insert((*order_field).to_owned(), scaled(left, QTY_SCALE));
        }
    }
    let changes = BTreeMap::from([("lines".to_owned(), Value::Lines(order_lines))]);
    engine_write(tx, &entry, &order, None, changes, command).await.map(drop)
}

pub(super) async fn unship(tx: &mut Tx, catalog: &Catalog, notice: &StoredRecord) -> Result<()> {
    give_back(tx, catalog, notice, &[("qty", "shipped_qty")], "unship").await
}

pub(super) async fn unreceive(tx: &mut Tx, catalog: &Catalog, receipt: &StoredRecord) -> Result<()> {
    give_back(tx, catalog, receipt, &[("received_qty", "received_qty"), ("accepted_qty", "accepted_qty")], "unreceive")
        .await?;
    match super::plans::order_of(receipt) {
        Some(order) => super::plans::keep_expected_receipt(tx, catalog, order).await,
        None => Ok(()),
    }
}

/// A matched or accepted invoice's quantities count as invoiced on the order's lines.
pub(super) async fn invoiced(tx: &mut Tx, catalog: &Catalog, invoice: &StoredRecord) -> Result<()> {
    let (entry, order) = order(tx, catalog, &invoice.values).await?;
    let mut order_lines = lines(&order.values);
    for line in lines(&invoice.values) {
        let Some(at) = order_line_index(&order_lines, &line) else { continue };
        let total = number(order_lines[at].get("invoiced_qty")) + number(line.get("qty"));
        order_lines[at].insert("invoiced_qty".into(), scaled(total, QTY_SCALE));
    }
    let changes = BTreeMap::from([("lines".to_owned(), Value::Lines(order_lines))]);
    engine_write(tx, &entry, &order, None, changes, "invoice").await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn line(qty: Decimal, price: Decimal, tax: Decimal) -> Line {
        BTreeMap::from([
            ("qty".to_owned(), Value::Decimal(qty)),
            ("unit_price".to_owned(), Value::Decimal(price)),
            ("tax_rate".to_owned(), Value::Decimal(tax)),
        ])
    }

    #[test]
    fn totals_are_exact_and_rounded_half_away_from_zero() {
        let mut values = BTreeMap::from([(
            "lines".to_owned(),
            Value::Lines(vec![line(dec("3"), dec("0.1"), dec("13")), line(dec("1.5"), dec("2.3333"), dec("6"))]),
        )]);
        new_order(&mut values).unwrap();
        // 0.3 + 3.49995 = 3.79995 → 3.80; tax 0.039 + 0.209997 = 0.248997 → 0.25.
        assert_eq!(values["total_amount"], Value::Decimal(dec("3.80")));
        assert_eq!(values["tax_amount"], Value::Decimal(dec("0.25")));
        let Value::Lines(lines) = &values["lines"] else { panic!() };
        assert_eq!(lines[0]["shipped_qty"], Value::Decimal(dec("0.000")));
    }

    #[test]
    fn a_new_order_cannot_claim_goods_already_shipped() {
        let mut with_shipped = line(dec("3"), dec("1"), dec("0"));
        with_shipped.insert("received_qty".into(), Value::Decimal(dec("2")));
        let mut values = BTreeMap::from([("lines".to_owned(), Value::Lines(vec![with_shipped]))]);
        let Err(Error::Validation(errors)) = new_order(&mut values) else { panic!("refused") };
        assert_eq!(errors[0].pointer, "/lines/0/received_qty");
    }
}
