//! From a purchase requisition to a purchase order. A buyer turns an approved requisition
//! into a draft order for a supplier (`order_from_requisition`): the subject, the needed-by
//! date and the chosen lines are copied, each line priced from the requisition's estimate,
//! else the item's last or standard price, and the supplier's terms (currency, payment days)
//! are taken from its profile. The buyer then edits the draft and submits it as any order.
//!
//! Whatever way an order comes to name a requisition (this command, the form, the API),
//! the order's own command checks it in its transaction: the requisition must be approved
//! (or already ordered: one requisition may be split across suppliers), and the first order
//! moves it to `ordered` there, with its history and event.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value as Json, json};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::{FieldError, FieldErrorCode, Value};
use weft_store::Tx;

use super::quantities::{lines, number, reference};
use crate::catalog::Catalog;
use crate::records::{engine_write, load_in_tx};
use crate::{Created, Error, ListQuery, RecordView, Result, Workspace};

/// States of a requisition an order may name.
const ORDERABLE: [&str; 2] = ["approved", "ordered"];

/// What the buyer chooses when ordering a requisition.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderFromRequisition {
    /// The supplier party the order goes to.
    pub supplier: Option<Uuid>,
    /// The requisition's lines to order, by position (0-based); all when left out.
    #[serde(default)]
    pub lines: Option<Vec<usize>>,
    /// The order's category, when the requisition's items do not tell it.
    #[serde(default)]
    pub category: Option<String>,
}

fn problem(pointer: impl Into<String>, code: FieldErrorCode, reason: impl Into<String>) -> FieldError {
    FieldError { pointer: pointer.into(), code, reason: reason.into() }
}

/// In an order's command (create, or an update that changes `requisition`): the named
/// requisition must be orderable, and an approved one becomes `ordered`.
pub(super) async fn order_names_requisition(
    tx: &mut Tx,
    catalog: &Catalog,
    values: &BTreeMap<String, Value>,
) -> Result<()> {
    let Some(id) = reference(values, "requisition") else { return Ok(()) };
    let Some(entry) = catalog.get("purchase_requisition") else { return Ok(()) };
    let requisition = load_in_tx(tx, &entry, id).await.map_err(|e| match e {
        Error::NotFound(_) => Error::Validation(vec![problem(
            "/requisition",
            FieldErrorCode::UnknownReference,
            format!("no record {id}"),
        )]),
        other => other,
    })?;
    let state = requisition.system.state.as_deref().unwrap_or_default();
    if !ORDERABLE.contains(&state) {
        return Err(Error::Validation(vec![problem(
            "/requisition",
            FieldErrorCode::GuardFailed,
            format!("a requisition is ordered once it is approved (this one is `{state}`)"),
        )]));
    }
    if state == "approved" {
        engine_write(tx, &entry, &requisition, Some("ordered"), BTreeMap::new(), "mark_ordered").await?;
    }
    Ok(())
}

fn text(values: &BTreeMap<String, Value>, field: &str) -> Option<String> {
    match values.get(field) {
        Some(Value::Text(t) | Value::Select(t)) if !t.trim().is_empty() => Some(t.clone()),
        _ => None,
    }
}

impl Workspace {
    /// A draft purchase order for `supplier` from an approved requisition, created as
    /// `principal` (who needs to read the requisition and create orders).
    pub async fn order_from_requisition(
        &self,
        principal: &Principal,
        requisition_id: Uuid,
        choice: OrderFromRequisition,
    ) -> Result<RecordView> {
        let requisition = self.get(principal, "purchase_requisition", requisition_id).await?;
        let state = requisition.system.state.as_deref().unwrap_or_default();
        if !ORDERABLE.contains(&state) {
            return Err(Error::Conflict(format!(
                "requisition {} is `{state}`: only an approved requisition is ordered",
                requisition.system.number.as_deref().unwrap_or("?")
            )));
        }
        let mut errors = Vec::new();
        let Some(supplier) = choice.supplier else {
            return Err(Error::Validation(vec![problem("/supplier", FieldErrorCode::Required, "is required")]));
        };
        let all = lines(&requisition.values);
        let wanted: Vec<usize> = choice.lines.clone().unwrap_or_else(|| (0..all.len()).collect());
        if wanted.is_empty() || all.is_empty() {
            errors.push(problem("/lines", FieldErrorCode::Required, "the order needs at least one requisition line"));
        }
        for (i, at) in wanted.iter().enumerate() {
            if *at >= all.len() {
                errors.push(problem(
                    format!("/lines/{i}"),
                    FieldErrorCode::OutOfRange,
                    format!("the requisition has {} lines", all.len()),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let system = Principal::system();
        let mut order_lines = Vec::new();
        let mut category = choice.category.clone();
        for at in wanted {
            let line = &all[at];
            let item = match reference(line, "item") {
                Some(id) => Some(self.get(&system, "item", id).await?),
                None => None,
            };
            let item_value = |field: &str| item.as_ref().and_then(|i| i.values.get(field));
            let price = [line.get("estimated_price"), item_value("last_price"), item_value("standard_price")]
                .into_iter()
                .map(number)
                .find(|p| !p.is_zero())
                .unwrap_or_default();
            if category.is_none() {
                category = item.as_ref().and_then(|i| text(&i.values, "category"));
            }
            let mut out = Map::new();
            out.insert("item".into(), json!(reference(line, "item")));
            out.insert("description".into(), json!(text(line, "description").unwrap_or_default()));
            out.insert("qty".into(), json!(number(line.get("qty")).to_string()));
            out.insert("unit_price".into(), json!(price.to_string()));
            if let Some(uom) = item.as_ref().and_then(|i| text(&i.values, "uom")) {
                out.insert("uom".into(), json!(uom));
            }
            if let Some(Value::Date(d)) = requisition.values.get("needed_by") {
                out.insert("requested_date".into(), Value::Date(*d).to_json());
            }
            order_lines.push(Json::Object(out));
        }
        let Some(category) = category else {
            return Err(Error::Validation(vec![problem(
                "/category",
                FieldErrorCode::Required,
                "the requisition's lines name no item: say which category the order is",
            )]));
        };
        let mut input = Map::new();
        input.insert("subject".into(), json!(text(&requisition.values, "title").unwrap_or_default()));
        input.insert("supplier".into(), json!(supplier));
        input.insert("category".into(), json!(category));
        input.insert("requisition".into(), json!(requisition_id));
        if let Some(Value::Date(d)) = requisition.values.get("needed_by") {
            input.insert("requested_date".into(), Value::Date(*d).to_json());
        }
        input.insert("lines".into(), Json::Array(order_lines));
        let profile_query =
            ListQuery { filter: Some(format!("supplier = \"{supplier}\"")), limit: Some(1), ..ListQuery::default() };
        if let Some(profile) = self.list(&system, "supplier_profile", &profile_query).await?.records.first() {
            if let Some(currency) = text(&profile.values, "currency") {
                input.insert("currency".into(), json!(currency));
            }
            if let Some(Value::Integer(days)) = profile.values.get("payment_days") {
                input.insert("payment_days".into(), json!(days));
            }
        }
        match self.create(principal, "purchase_order", input, None).await? {
            Created::Fresh(view) => Ok(*view),
            Created::Replayed(_) => Err(Error::Internal("an order from a requisition is never a replay".into())),
        }
    }
}
