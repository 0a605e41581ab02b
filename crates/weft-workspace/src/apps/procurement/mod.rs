//! The procurement app (JOURNEYS.md J1): purchase orders with their supplier portal,
//! shipping notices, receipts, supplier invoices and payables. Its types, roles, approval
//! matrix and processes are data (`manifest.json`, `po_approval.dmn`, the `.bpmn` files);
//! the Rust here is only what an engine must do:
//!
//! - `quantities`: inside the command's transaction, a shipping notice or a goods receipt
//!   is checked against what is still open on its order's lines and moves the lines'
//!   shipped / received / accepted quantities (through `engine_write`, so the order's
//!   history, audit and events record it); an order's and an invoice's totals are derived
//!   from their lines; a supplier's document takes its supplier (and an invoice its buyer)
//!   from the order it names.
//! - `matching`: the three-way match of an invoice line against its order line and what
//!   was received and accepted, with tolerances (pure).
//! - `matcher`: the outbox consumer that matches submitted invoices, re-matches flagged
//!   ones when a late receipt arrives, and turns matched or accepted invoices into payables.
//! - `scorecard`: supplier scorecards computed from receipts, QC reports, invoices and
//!   confirmations (pure) and the outbox consumer that keeps them on the supplier profiles.
//! - `plans`: what a confirmation plans in the same transaction — the expected goods
//!   receipt (kept in step with what is still open, posted by the warehouse, a back order
//!   for the rest) and the supplier's draft invoice (withdrawn when the order is revised or
//!   closed untouched).
//! - `requisitions`: an approved requisition becomes a draft order; an order naming a
//!   requisition marks it ordered.
//! - `demo`: `weft demo`'s sample company, loaded through the façade.

pub mod demo;
mod matcher;
mod matching;
mod onboarding;
mod plans;
mod quantities;
mod requisitions;
pub mod scorecard;

use std::collections::BTreeMap;

pub use matcher::ThreeWayMatch;
pub use matching::{Difference, DifferenceKind, Tolerance};
pub use onboarding::{ApplicationFile, FILE_FIELDS, MAX_FILES, Submitted};
pub use requisitions::OrderFromRequisition;
pub use scorecard::{Scorecard, ScorecardView, SupplierScorecard};
use weft_model::schema::Value;
use weft_store::Tx;
use weft_store::records::rows::StoredRecord;

use super::Manifest;
use crate::Result;
use crate::catalog::{Catalog, TypeEntry};

pub const APP: &str = "procurement";

const MANIFEST: &str = include_str!("manifest.json");
const FILES: [(&str, &str); 5] = [
    ("po_approval.dmn", include_str!("po_approval.dmn")),
    ("po_approval.bpmn", include_str!("po_approval.bpmn")),
    ("invoice_exception.bpmn", include_str!("invoice_exception.bpmn")),
    ("payable_due.bpmn", include_str!("payable_due.bpmn")),
    ("supplier_onboarding.bpmn", include_str!("supplier_onboarding.bpmn")),
];

pub fn manifest() -> Manifest {
    // Part of the binary and checked by the tests below: a failure is a build mistake.
    let mut manifest: Manifest =
        serde_json::from_str(MANIFEST).expect("the built-in procurement manifest is valid JSON of the manifest shape");
    manifest.files = FILES.iter().map(|(name, text)| ((*name).to_owned(), (*text).to_owned())).collect();
    manifest
}

/// The types whose commands the app's engine takes part in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hook {
    PurchaseOrder,
    Requisition,
    /// A supplier's answer to an order: moves the order.
    Confirmation,
    /// Progress updates and QC reports: their supplier comes from the order.
    SupplierDocument,
    ShippingNotice,
    GoodsReceipt,
    SupplierInvoice,
}

/// The hook of a type, if the procurement app declared it (a type of the same name from
/// another app gets none).
pub(crate) fn hook(entry: &TypeEntry) -> Option<Hook> {
    if entry.app != APP {
        return None;
    }
    Some(match entry.decl.name.as_str() {
        "purchase_order" => Hook::PurchaseOrder,
        "purchase_requisition" => Hook::Requisition,
        "supplier_confirmation" => Hook::Confirmation,
        "progress_update" | "quality_inspection" => Hook::SupplierDocument,
        "shipping_notice" => Hook::ShippingNotice,
        "goods_receipt" => Hook::GoodsReceipt,
        "supplier_invoice" => Hook::SupplierInvoice,
        _ => return None,
    })
}

impl Hook {
    /// Whether new records of the type can be checked one after the other and then written
    /// together: their checks read and book other records, never earlier records of the
    /// same type (an order books its requisition; a shipping notice, by contrast, checks the
    /// quantities earlier notices left open).
    pub(crate) fn inserts_independently(self) -> bool {
        matches!(self, Hook::PurchaseOrder | Hook::Requisition)
    }

    /// `before_insert` for a record whose hook needs no database (an order that names no
    /// requisition, a requisition), run before its transaction; `None` when the hook needs
    /// the transaction. A lot of such creates is then planned off SQLite's writer thread.
    pub(crate) fn before_insert_alone(self, values: &mut BTreeMap<String, Value>) -> Option<Result<()>> {
        match self {
            Hook::PurchaseOrder if quantities::reference(values, "requisition").is_none() => {
                Some(quantities::new_order(values))
            }
            Hook::Requisition => {
                quantities::requisition_total(values);
                Some(Ok(()))
            }
            _ => None,
        }
    }

    /// Before a new record is written, in its transaction: fill in, check, book.
    pub(crate) async fn before_insert(
        self,
        tx: &mut Tx,
        catalog: &Catalog,
        values: &mut BTreeMap<String, Value>,
    ) -> Result<()> {
        match self {
            Hook::PurchaseOrder => {
                quantities::new_order(values)?;
                requisitions::order_names_requisition(tx, catalog, values).await
            }
            Hook::Requisition => {
                quantities::requisition_total(values);
                Ok(())
            }
            Hook::Confirmation => quantities::confirmation(tx, catalog, values).await,
            Hook::SupplierDocument => quantities::from_order(tx, catalog, values).await.map(drop),
            Hook::ShippingNotice => quantities::ship(tx, catalog, values).await,
            Hook::GoodsReceipt => {
                let order = quantities::receive(tx, catalog, values, quantities::Receiving::Direct).await?;
                plans::keep_expected_receipt(tx, catalog, order).await
            }
            Hook::SupplierInvoice => quantities::new_invoice(tx, catalog, values).await,
        }
    }

    /// Before an update is written: totals follow the lines; engine-kept fields stay.
    pub(crate) async fn before_update(
        self,
        tx: &mut Tx,
        catalog: &Catalog,
        current: &StoredRecord,
        changes: &mut BTreeMap<String, Value>,
    ) -> Result<()> {
        match self {
            Hook::PurchaseOrder => {
                quantities::changed_order(current, changes)?;
                if changes.contains_key("requisition") {
                    requisitions::order_names_requisition(tx, catalog, changes).await?;
                }
                Ok(())
            }
            Hook::Requisition => {
                quantities::requisition_total(changes);
                Ok(())
            }
            Hook::SupplierInvoice => {
                quantities::keep_order(current, changes)?;
                quantities::invoice_totals(changes);
                Ok(())
            }
            Hook::GoodsReceipt => {
                quantities::keep_order(current, changes)?;
                plans::keep_expected(current, changes)
            }
            Hook::Confirmation | Hook::SupplierDocument | Hook::ShippingNotice => {
                quantities::keep_order(current, changes)
            }
        }
    }

    /// Before a transition is written, in its transaction: check and book what it moves,
    /// adding the changes that follow to the record's own.
    pub(crate) async fn before_transition(
        self,
        tx: &mut Tx,
        catalog: &Catalog,
        current: &StoredRecord,
        transition: &str,
        changes: &mut BTreeMap<String, Value>,
    ) -> Result<()> {
        match (self, transition) {
            (Hook::GoodsReceipt, "post") => plans::post_receipt(tx, catalog, current, changes).await,
            (Hook::SupplierInvoice, "submit") => plans::submittable(current),
            _ => Ok(()),
        }
    }

    /// After a transition is written, in its transaction: undo or book quantities.
    pub(crate) async fn after_transition(
        self,
        tx: &mut Tx,
        catalog: &Catalog,
        before: &StoredRecord,
        transition: &str,
    ) -> Result<()> {
        match (self, transition) {
            (Hook::PurchaseOrder, "confirm") => plans::confirmed(tx, catalog, before.system.id).await,
            (Hook::PurchaseOrder, "revise" | "close") => plans::unconfirmed(tx, catalog, before.system.id).await,
            (Hook::GoodsReceipt, "post") => match plans::order_of(before) {
                Some(order) => plans::keep_expected_receipt(tx, catalog, order).await,
                None => Ok(()),
            },
            (Hook::ShippingNotice, "cancel") => quantities::unship(tx, catalog, before).await,
            (Hook::GoodsReceipt, "reverse") => quantities::unreceive(tx, catalog, before).await,
            (Hook::SupplierInvoice, "match" | "accept") => quantities::invoiced(tx, catalog, before).await,
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use weft_model::schema::check_declaration;

    use super::*;

    #[test]
    fn the_manifest_declares_valid_types_with_both_languages() {
        let m = manifest();
        assert_eq!(m.app, APP);
        let mut names: Vec<&str> = m.types.iter().map(|t| t.name.as_str()).collect();
        names.extend(["party"]);
        for decl in &m.types {
            let known = |name: &str| names.contains(&name);
            assert_eq!(check_declaration(decl, &known), Ok(()), "{}", decl.name);
            for field in &decl.fields {
                assert!(!field.label.en.is_empty() && !field.label.zh.is_empty(), "{}.{}", decl.name, field.name);
            }
        }
        for file in m.decisions.iter().chain(m.processes.iter().map(|p| &p.file)) {
            assert!(m.files.contains_key(file), "{file} is shipped with the binary");
        }
        assert!(weft_decision::DecisionModel::parse(&m.files["po_approval.dmn"]).is_ok());
    }
}
