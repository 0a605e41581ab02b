//! The three-way match, line by line: what the order line agreed (quantity and price),
//! what was received and accepted, and what the invoice asks to be paid for. Pure, so
//! every rule is tested here without a database.

use rust_decimal::Decimal;
use serde::Serialize;

/// How far an invoice may stray before a person must look. Percentages are points (2 is 2 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tolerance {
    pub price_pct: Decimal,
    pub price_abs: Decimal,
    pub qty_pct: Decimal,
}

impl Default for Tolerance {
    /// 2 % on price, nothing on quantity: what a buyer would set when nobody said.
    fn default() -> Self {
        Tolerance { price_pct: Decimal::TWO, price_abs: Decimal::ZERO, qty_pct: Decimal::ZERO }
    }
}

/// One order line as the match needs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderLine {
    pub id: String,
    pub description: String,
    pub qty: Decimal,
    pub unit_price: Decimal,
    pub received: Decimal,
    pub accepted: Decimal,
    /// Already paid for by earlier matched or accepted invoices.
    pub invoiced: Decimal,
}

/// One invoice line: which order line (`None` when it names none of the order's), how
/// many, at what price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLine {
    pub order_line: Option<usize>,
    pub qty: Decimal,
    pub unit_price: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// The invoice names a line the order does not have.
    UnknownLine,
    /// Nothing was received (or accepted) yet for this line.
    NotReceived,
    /// More is invoiced than was accepted (less what earlier invoices covered).
    Quantity,
    /// The price differs from the order's beyond the tolerance.
    Price,
}

/// One difference, with the numbers a buyer needs to decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The invoice line (0-based).
    pub line: usize,
    pub kind: DifferenceKind,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub po_line: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// What the order and receipts allow: a quantity or a unit price.
    pub expected: String,
    /// What the invoice says.
    pub invoiced: String,
    /// The invoice's excess over `expected`.
    pub difference: String,
}

fn text(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Every difference between the invoice and its order and receipts; none means a match.
pub fn differences(order: &[OrderLine], invoice: &[InvoiceLine], tolerance: Tolerance) -> Vec<Difference> {
    let mut out = Vec::new();
    // Several invoice lines may bill one order line: they share what is left to invoice.
    let mut billed: Vec<Decimal> = order.iter().map(|l| l.invoiced).collect();
    for (i, line) in invoice.iter().enumerate() {
        let Some(o) = line.order_line.and_then(|at| order.get(at).map(|o| (at, o))) else {
            out.push(Difference {
                line: i,
                kind: DifferenceKind::UnknownLine,
                po_line: String::new(),
                description: String::new(),
                expected: "0".into(),
                invoiced: text(line.qty),
                difference: text(line.qty),
            });
            continue;
        };
        let (at, o) = o;
        let describe = |kind, expected: Decimal, invoiced: Decimal| Difference {
            line: i,
            kind,
            po_line: o.id.clone(),
            description: o.description.clone(),
            expected: text(expected),
            invoiced: text(invoiced),
            difference: text(invoiced - expected),
        };
        let open = (o.accepted - billed[at]).max(Decimal::ZERO);
        let allowed = open + o.accepted * tolerance.qty_pct / Decimal::ONE_HUNDRED;
        if o.accepted.is_zero() {
            out.push(describe(DifferenceKind::NotReceived, Decimal::ZERO, line.qty));
        } else if line.qty > allowed {
            out.push(describe(DifferenceKind::Quantity, open, line.qty));
        }
        billed[at] += line.qty;
        let slack = (o.unit_price * tolerance.price_pct / Decimal::ONE_HUNDRED).max(tolerance.price_abs);
        if (line.unit_price - o.unit_price).abs() > slack {
            out.push(describe(DifferenceKind::Price, o.unit_price, line.unit_price));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn order_line(qty: &str, price: &str, accepted: &str) -> OrderLine {
        OrderLine {
            id: "l1".into(),
            description: "M8 bolts".into(),
            qty: d(qty),
            unit_price: d(price),
            received: d(accepted),
            accepted: d(accepted),
            invoiced: Decimal::ZERO,
        }
    }

    fn bill(qty: &str, price: &str) -> InvoiceLine {
        InvoiceLine { order_line: Some(0), qty: d(qty), unit_price: d(price) }
    }

    #[test]
    fn an_invoice_for_what_was_accepted_at_the_order_price_matches() {
        assert!(
            differences(&[order_line("100", "2.50", "100")], &[bill("100", "2.50")], Tolerance::default()).is_empty()
        );
    }

    #[test]
    fn a_price_within_tolerance_matches_and_beyond_it_does_not() {
        let order = [order_line("100", "10", "100")];
        assert!(differences(&order, &[bill("100", "10.20")], Tolerance::default()).is_empty(), "2 % of 10");
        let found = differences(&order, &[bill("100", "10.21")], Tolerance::default());
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].kind, found[0].expected.as_str(), found[0].difference.as_str()),
            (DifferenceKind::Price, "10", "0.21")
        );
        let absolute = Tolerance { price_abs: d("0.5"), ..Tolerance::default() };
        assert!(differences(&order, &[bill("100", "10.5")], absolute).is_empty(), "the larger slack wins");
    }

    #[test]
    fn invoicing_more_than_was_accepted_is_a_quantity_difference() {
        let order = [OrderLine { received: d("100"), accepted: d("90"), ..order_line("100", "1", "90") }];
        let found = differences(&order, &[bill("100", "1")], Tolerance::default());
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].kind, found[0].expected.as_str(), found[0].difference.as_str()),
            (DifferenceKind::Quantity, "90", "10")
        );
        let loose = Tolerance { qty_pct: d("12"), ..Tolerance::default() };
        assert!(differences(&order, &[bill("100", "1")], loose).is_empty(), "90 + 12 % of 90 ≥ 100");
    }

    #[test]
    fn goods_not_yet_received_cannot_be_matched() {
        let found = differences(&[order_line("100", "1", "0")], &[bill("10", "1")], Tolerance::default());
        assert_eq!(found[0].kind, DifferenceKind::NotReceived);
    }

    #[test]
    fn earlier_invoices_and_sibling_lines_use_up_the_accepted_quantity() {
        let order = [OrderLine { invoiced: d("60"), ..order_line("100", "1", "100") }];
        assert!(differences(&order, &[bill("40", "1")], Tolerance::default()).is_empty());
        let found = differences(&order, &[bill("30", "1"), bill("20", "1")], Tolerance::default());
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].line, found[0].expected.as_str()), (1, "10"));
    }

    #[test]
    fn a_line_the_order_does_not_have_is_a_difference() {
        let found = differences(
            &[order_line("1", "1", "1")],
            &[InvoiceLine { order_line: None, qty: d("1"), unit_price: d("1") }],
            Tolerance::default(),
        );
        assert_eq!(found[0].kind, DifferenceKind::UnknownLine);
    }
}
