//! The Tryton peer workload (`/work/shared/peers/tryton/WORKLOAD.md`) as Weft declarations
//! and inputs, shared by `records`, `records-http` and `list-1m`.
//!
//! Tryton's party + address become a `supplier` type with an `addresses` lines field: like
//! Tryton's `party.address` rows created nested in `party.party.create`, the address is a
//! row of its own table written in the same command (one transaction). Tryton assigns the
//! party code from a sequence on create and the purchase number on quote; Weft's naming
//! series numbers both types on create. The purchase order carries what Tryton's header
//! and lines carry except the invoice address, payment term and unit (no equivalent in a
//! minimal fixture): supplier, order date, reference, and 3 lines of product, quantity and
//! unit price. Tryton also computes line amounts and order totals, and its quote checks the
//! order; the fixture has no computed field and no guard, since the façade does not run the
//! FEEL functions they need (`sum`, `count`) yet.

use serde_json::{Map, Value as Json, json};
use time::Date;
use time::macros::date;
use uuid::Uuid;
use weft_model::schema::ObjectTypeDecl;

pub const SUPPLIER: &str = "supplier";
pub const PURCHASE_ORDER: &str = "purchase_order";
pub const QUOTE: &str = "quote";
pub const CONFIRM: &str = "confirm";
/// Sorted by order date, newest first (Weft appends the id as the tie-breaker).
pub const LIST_SORT: &str = "-order_date";
/// Columns the HTTP list returns (`id` and `version` always come too). Tryton's query returns
/// number, reference, date, state, untaxed and total amount; the fixture has no amounts.
pub const LIST_FIELDS: &str = "number,reference,order_date,state,supplier";

/// The two declarations, supplier first (the order also works over HTTP, one at a time).
pub fn declarations_json() -> Vec<Json> {
    let label = |en: &str| json!({ "en": en, "zh": en });
    let supplier = json!({
        "name": SUPPLIER,
        "label": label("Supplier"),
        "title_field": "name",
        "naming": { "pattern": "SUP-{######}" },
        "fields": [
            { "name": "name", "label": label("Name"), "type": "text", "max_length": 200, "required": true },
            { "name": "addresses", "label": label("Addresses"), "type": "lines", "fields": [
                { "name": "street", "label": label("Street"), "type": "text", "max_length": 200 },
                { "name": "postal_code", "label": label("Postal code"), "type": "text", "max_length": 20 },
                { "name": "city", "label": label("City"), "type": "text", "max_length": 100 },
                { "name": "country", "label": label("Country"), "type": "text", "max_length": 2 }
            ]}
        ]
    });
    let purchase_order = json!({
        "name": PURCHASE_ORDER,
        "label": label("Purchase order"),
        "title_field": "reference",
        "naming": { "pattern": "PO-{YYYY}-{######}" },
        "fields": [
            { "name": "supplier", "label": label("Supplier"), "type": "reference", "target": SUPPLIER,
              "required": true, "indexed": true },
            { "name": "order_date", "label": label("Order date"), "type": "date", "required": true, "indexed": true },
            { "name": "reference", "label": label("Reference"), "type": "text", "max_length": 64 },
            { "name": "lines", "label": label("Lines"), "type": "lines", "required": true, "fields": [
                { "name": "product", "label": label("Product"), "type": "text", "max_length": 200, "required": true },
                { "name": "quantity", "label": label("Quantity"), "type": "decimal", "scale": 3, "required": true },
                { "name": "unit_price", "label": label("Unit price"), "type": "money", "currency": "USD",
                  "scale": 4, "required": true }
            ]}
        ],
        "lifecycle": {
            "initial": "draft",
            "states": [
                { "name": "draft", "label": label("Draft") },
                { "name": "quotation", "label": label("Quotation"), "editable": [] },
                { "name": "confirmed", "label": label("Confirmed"), "editable": [], "final": true }
            ],
            "transitions": [
                { "name": QUOTE, "label": label("Quote"), "from": ["draft"], "to": "quotation" },
                { "name": CONFIRM, "label": label("Confirm"), "from": ["quotation"], "to": "confirmed" }
            ]
        }
    });
    vec![supplier, purchase_order]
}

pub fn declarations() -> anyhow::Result<Vec<ObjectTypeDecl>> {
    declarations_json()
        .into_iter()
        .map(|d| serde_json::from_value(d).map_err(|e| anyhow::anyhow!("the bench fixture does not parse: {e}")))
        .collect()
}

fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

/// Supplier `i` with one postal address (as Tryton's step a).
pub fn supplier_input(i: usize) -> Map<String, Json> {
    object(json!({
        "name": format!("Supplier {i:06}"),
        "addresses": [{
            "street": format!("{i} Supply Street"),
            "postal_code": format!("{}", 10000 + i % 90000),
            "city": "Supplytown",
            "country": "BL"
        }]
    }))
}

const FIRST_DATE: Date = date!(2026 - 01 - 01);

/// Order `i` for `supplier`, dated within `span_days` from 2026-01-01, with 3 lines (as
/// Tryton's step b: 20 products, quantity 1–10, unit price 5–7).
pub fn purchase_input(i: usize, supplier: Uuid, span_days: usize) -> Map<String, Json> {
    let day = (i * 7) % span_days.max(1);
    let date = FIRST_DATE + time::Duration::days(day as i64);
    let lines: Vec<Json> = (0..3)
        .map(|j| {
            json!({
                "product": format!("Product {:03}", (i * 3 + j) % 20),
                "quantity": format!("{}", 1 + (i + j) % 10),
                "unit_price": format!("{}.0000", 5 + j),
            })
        })
        .collect();
    object(json!({
        "supplier": supplier.to_string(),
        "order_date": date.to_string(),
        "reference": format!("PO-BENCH-{i:07}"),
        "lines": lines,
    }))
}

/// One supplier's orders in one state.
pub fn list_filter(supplier: Uuid, state: &str) -> String {
    format!("supplier = \"{supplier}\" and state = \"{state}\"")
}

/// Tryton 8.2's figures from WORKLOAD.md (2-core machine, one process, no HTTP).
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    pub parties: f64,
    pub purchases: f64,
    pub quote_confirm: f64,
    pub quote: Option<f64>,
    pub query: f64,
}

pub const TRYTON_SQLITE: Peer =
    Peer { parties: 24.8, purchases: 27.2, quote_confirm: 4.3, quote: Some(35.6), query: 37.4 };
pub const TRYTON_POSTGRES: Peer = Peer { parties: 18.1, purchases: 21.7, quote_confirm: 2.1, quote: None, query: 26.4 };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_declarations_parse_and_inputs_are_objects() -> anyhow::Result<()> {
        let decls = declarations()?;
        assert_eq!(decls.len(), 2);
        assert_eq!(decls[1].lifecycle.as_ref().map(|l| l.transitions.len()), Some(2));
        assert_eq!(supplier_input(3)["addresses"].as_array().map(Vec::len), Some(1));
        let po = purchase_input(5, Uuid::nil(), 300);
        assert_eq!(po["lines"].as_array().map(Vec::len), Some(3));
        assert_eq!(po["order_date"], "2026-02-05");
        Ok(())
    }
}
