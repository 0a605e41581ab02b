//! The parsed expression: what was written, with where, before any name is resolved.
//!
//! `Display` prints canonical FEEL that parses back to the same tree (spans aside), which
//! is how saved expressions can be normalised and how the tests check the parser.

use std::fmt;

use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

use crate::error::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// A name, or a path into a referenced record or a money value: `supplier.name`,
    /// `total.amount`.
    Path(Vec<Ident>),
    /// `@me`, `@party`, `@unit`, `@today`, `@now`: Weft's own, not FEEL.
    At(AtRef),
    Neg(Box<Expr>),
    Arith {
        op: ArithOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Compare {
        op: CmpOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// `not(x)`, a function in FEEL.
    Not(Box<Expr>),
    /// `x in (1, 2)`, `x in ["a", "b"]`, `x in [1..10]`.
    In {
        value: Box<Expr>,
        set: InSet,
    },
    /// `x between low and high`, both ends included.
    Between {
        value: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    /// `starts with(name, "PO")`; multi-word names are kept with single spaces.
    Call {
        name: Ident,
        args: Vec<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    /// Exact, as written: `12.50` keeps its two places.
    Number(Decimal),
    String(String),
    /// `date("2026-01-31")` or `@"2026-01-31"`.
    Date(Date),
    /// `date and time("2026-01-31T09:00:00+08:00")`; an offset or `Z` is required.
    DateTime(OffsetDateTime),
    /// `duration("P3DT4H")`, in whole seconds; years and months are refused.
    Duration(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AtRef {
    /// The acting principal.
    Me,
    /// The acting principal's party (a guest's organisation), if any.
    Party,
    /// The acting principal's org unit, if any.
    Unit,
    /// Today's date in the workspace's time zone (the offset of `Bindings::now`).
    Today,
    /// The current instant.
    Now,
}

impl AtRef {
    pub const ALL: [AtRef; 5] = [AtRef::Me, AtRef::Party, AtRef::Unit, AtRef::Today, AtRef::Now];

    pub fn name(self) -> &'static str {
        match self {
            AtRef::Me => "me",
            AtRef::Party => "party",
            AtRef::Unit => "unit",
            AtRef::Today => "today",
            AtRef::Now => "now",
        }
    }

    pub fn from_name(name: &str) -> Option<AtRef> {
        AtRef::ALL.into_iter().find(|a| a.name() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        }
    }
}

/// A comparison, in expressions and in `Filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub const ALL: [CmpOp; 6] = [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge];

    /// As written in FEEL; SQL writes `!=` as `<>`.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// The operator that gives the same answer with the operands swapped: `a < b` is `b > a`.
    pub fn flip(self) -> CmpOp {
        match self {
            CmpOp::Eq | CmpOp::Ne => self,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
        }
    }

    pub fn is_ordering(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }

    /// Whether `ordering` (of the left operand against the right) satisfies the operator.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ordering == Equal,
            CmpOp::Ne => ordering != Equal,
            CmpOp::Lt => ordering == Less,
            CmpOp::Le => ordering != Greater,
            CmpOp::Gt => ordering == Greater,
            CmpOp::Ge => ordering != Less,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum InSet {
    List(Vec<Expr>),
    Range(Range),
}

/// `[low..high]`; a parenthesis (or FEEL's outward bracket, `]1..10[`) leaves an end out.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    pub low: Box<Expr>,
    pub high: Box<Expr>,
    pub low_closed: bool,
    pub high_closed: bool,
}

// Binding strength, weakest first; printing adds parentheses where a child binds more
// weakly than its place needs.
const OR: u8 = 1;
const AND: u8 = 2;
const COMPARE: u8 = 3;
const ADD: u8 = 4;
const MUL: u8 = 5;
const UNARY: u8 = 6;
const ATOM: u8 = 7;

impl Expr {
    fn precedence(&self) -> u8 {
        match &self.kind {
            ExprKind::Or(..) => OR,
            ExprKind::And(..) => AND,
            ExprKind::Compare { .. } | ExprKind::In { .. } | ExprKind::Between { .. } => COMPARE,
            ExprKind::Arith { op: ArithOp::Add | ArithOp::Sub, .. } => ADD,
            ExprKind::Arith { op: ArithOp::Mul | ArithOp::Div, .. } => MUL,
            ExprKind::Neg(_) => UNARY,
            _ => ATOM,
        }
    }

    /// Equal ignoring spans: the same expression, however it was spaced.
    pub fn same_as(&self, other: &Expr) -> bool {
        self.without_spans() == other.without_spans()
    }

    fn without_spans(&self) -> Expr {
        let strip = |e: &Expr| Box::new(e.without_spans());
        let ident = |i: &Ident| Ident { name: i.name.clone(), span: Span::default() };
        let kind = match &self.kind {
            ExprKind::Literal(l) => ExprKind::Literal(l.clone()),
            ExprKind::Path(p) => ExprKind::Path(p.iter().map(ident).collect()),
            ExprKind::At(a) => ExprKind::At(*a),
            ExprKind::Neg(e) => ExprKind::Neg(strip(e)),
            ExprKind::Arith { op, lhs, rhs } => ExprKind::Arith { op: *op, lhs: strip(lhs), rhs: strip(rhs) },
            ExprKind::Compare { op, lhs, rhs } => ExprKind::Compare { op: *op, lhs: strip(lhs), rhs: strip(rhs) },
            ExprKind::And(a, b) => ExprKind::And(strip(a), strip(b)),
            ExprKind::Or(a, b) => ExprKind::Or(strip(a), strip(b)),
            ExprKind::Not(e) => ExprKind::Not(strip(e)),
            ExprKind::In { value, set } => ExprKind::In {
                value: strip(value),
                set: match set {
                    InSet::List(items) => InSet::List(items.iter().map(Expr::without_spans).collect()),
                    InSet::Range(r) => InSet::Range(Range { low: strip(&r.low), high: strip(&r.high), ..*r }),
                },
            },
            ExprKind::Between { value, low, high } => {
                ExprKind::Between { value: strip(value), low: strip(low), high: strip(high) }
            }
            ExprKind::Call { name, args } => {
                ExprKind::Call { name: ident(name), args: args.iter().map(Expr::without_spans).collect() }
            }
        };
        Expr { kind, span: Span::default() }
    }
}

/// Writes `e`, in parentheses when it binds more weakly than `min`.
fn child(f: &mut fmt::Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if e.precedence() < min { write!(f, "({e})") } else { write!(f, "{e}") }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(l) => write!(f, "{l}"),
            ExprKind::Path(parts) => {
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(&part.name)?;
                }
                Ok(())
            }
            ExprKind::At(a) => write!(f, "@{}", a.name()),
            ExprKind::Neg(e) => {
                f.write_str("-")?;
                child(f, e, UNARY)
            }
            ExprKind::Arith { op, lhs, rhs } => {
                let own = self.precedence();
                child(f, lhs, own)?;
                write!(f, " {} ", op.symbol())?;
                child(f, rhs, own + 1)
            }
            ExprKind::Compare { op, lhs, rhs } => {
                child(f, lhs, ADD)?;
                write!(f, " {} ", op.symbol())?;
                child(f, rhs, ADD)
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let own = self.precedence();
                child(f, a, own)?;
                f.write_str(if own == AND { " and " } else { " or " })?;
                child(f, b, own + 1)
            }
            ExprKind::Not(e) => write!(f, "not({e})"),
            ExprKind::In { value, set } => {
                child(f, value, ADD)?;
                f.write_str(" in ")?;
                match set {
                    InSet::List(items) => {
                        f.write_str("[")?;
                        list(f, items)?;
                        f.write_str("]")
                    }
                    InSet::Range(r) => {
                        f.write_str(if r.low_closed { "[" } else { "(" })?;
                        child(f, &r.low, ADD)?;
                        f.write_str("..")?;
                        child(f, &r.high, ADD)?;
                        f.write_str(if r.high_closed { "]" } else { ")" })
                    }
                }
            }
            ExprKind::Between { value, low, high } => {
                child(f, value, ADD)?;
                f.write_str(" between ")?;
                child(f, low, ADD)?;
                f.write_str(" and ")?;
                child(f, high, ADD)
            }
            ExprKind::Call { name, args } => {
                write!(f, "{}(", name.name)?;
                list(f, args)?;
                f.write_str(")")
            }
        }
    }
}

fn list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::String(s) => write_string(f, s),
            Literal::Date(d) => write!(f, "date(\"{}\")", format_date(*d)),
            Literal::DateTime(t) => write!(f, "date and time(\"{}\")", format_datetime(*t)),
            Literal::Duration(s) => write!(f, "duration(\"{}\")", weft_model::schema::value::format_duration(*s)),
        }
    }
}

/// A FEEL string literal for `s`, escaped so it reads back the same.
pub(crate) fn write_string(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

pub(crate) fn format_date(d: Date) -> String {
    let year = d.year();
    if (0..=9999).contains(&year) {
        format!("{year:04}-{:02}-{:02}", u8::from(d.month()), d.day())
    } else {
        format!("{year:+05}-{:02}-{:02}", u8::from(d.month()), d.day())
    }
}

pub(crate) fn format_datetime(t: OffsetDateTime) -> String {
    let (h, m, s, nano) = t.time().as_hms_nano();
    let mut out = format!("{}T{h:02}:{m:02}:{s:02}", format_date(t.date()));
    if nano != 0 {
        out.push_str(format!(".{nano:09}").trim_end_matches('0'));
    }
    let offset = t.offset();
    if offset.is_utc() {
        out.push('Z');
    } else {
        let (oh, om, _) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        out.push_str(&format!("{sign}{:02}:{:02}", oh.unsigned_abs(), om.unsigned_abs()));
    }
    out
}
