//! Recursive descent over the tokens, one function per level of FEEL's precedence:
//! `or` < `and` < comparison (`=`, `<`, `in`, `between`) < `+ -` < `* /` < unary `-` <
//! literals, names, calls and parentheses.
//!
//! Every level that makes the tree one deeper goes through `enter`, so the tree's depth,
//! and with it the recursion of every later pass (checking, evaluating, lowering,
//! printing, dropping), is bounded by `Limits::max_depth`.

use std::str::FromStr;

use rust_decimal::Decimal;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::Limits;
use crate::ast::{ArithOp, AtRef, CmpOp, Expr, ExprKind, Ident, InSet, Literal, Range};
use crate::error::{ErrorKind, ExprError, Span};
use crate::lexer::{Tok, Token, lex};
use crate::suggest::hint;

/// Parses `src` within the default `Limits`.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    parse_with(src, &Limits::default())
}

pub fn parse_with(src: &str, limits: &Limits) -> Result<Expr, ExprError> {
    if src.len() > limits.max_source_len {
        return Err(ExprError::new(
            ErrorKind::TooLong,
            Span::new(0, src.len()),
            format!("the expression is {} bytes long; at most {} are allowed", src.len(), limits.max_source_len),
        ));
    }
    let tokens = lex(src)?;
    let mut parser = Parser { tokens, pos: 0, depth: 0, max_depth: limits.max_depth };
    if parser.peek() == &Tok::Eof {
        return Err(syntax(Span::new(0, src.len()), "the expression is empty"));
    }
    let expr = parser.or()?;
    match parser.peek() {
        Tok::Eof => Ok(expr),
        Tok::RParen | Tok::RBracket => {
            Err(syntax(parser.span(), format!("{} has no opening pair", parser.peek().describe())))
        }
        other => Err(syntax(parser.span(), format!("expected an operator or the end, found {}", other.describe()))),
    }
}

/// FEEL's built-in functions whose names have several words, as far as Weft knows them;
/// a call is read with the longest name that matches the words before `(`.
const MULTI_WORD_FUNCTIONS: [&str; 19] = [
    "years and months duration",
    "date and time",
    "starts with",
    "ends with",
    "string length",
    "upper case",
    "lower case",
    "substring before",
    "substring after",
    "list contains",
    "string join",
    "day of week",
    "day of year",
    "month of year",
    "week of year",
    "is defined",
    "get value",
    "get entries",
    "distinct values",
];

/// Words that cannot be names.
const KEYWORDS: [&str; 8] = ["and", "or", "not", "in", "between", "true", "false", "null"];

enum Form {
    Op(CmpOp),
    In,
    Between,
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    max_depth: usize,
}

fn syntax(span: Span, message: impl Into<String>) -> ExprError {
    ExprError::new(ErrorKind::Syntax, span, message)
}

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        // The last token is always `Eof`, and nothing moves past it.
        self.tokens.get(self.pos + ahead).or(self.tokens.last()).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn span(&self) -> Span {
        self.tokens.get(self.pos).or(self.tokens.last()).map_or(Span::default(), |t| t.span)
    }

    fn bump(&mut self) -> Token {
        let token = self.tokens.get(self.pos).or(self.tokens.last()).cloned();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        token.unwrap_or(Token { tok: Tok::Eof, span: Span::default() })
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w == word)
    }

    fn require(&mut self, tok: &Tok, what: &str) -> Result<Span, ExprError> {
        if self.peek() == tok {
            return Ok(self.bump().span);
        }
        Err(syntax(self.span(), format!("expected {what}, found {}", self.peek().describe())))
    }

    /// One level deeper in the tree; refused past the limit so no input can exhaust the stack.
    fn enter(&mut self, span: Span) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(ExprError::new(
                ErrorKind::TooDeep,
                span,
                format!("the expression is nested more than {} levels deep", self.max_depth),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        let base = self.depth;
        let mut lhs = self.and()?;
        while self.is_word("or") {
            let at = self.bump().span;
            // Each round nests the left side one level deeper.
            self.enter(at)?;
            let rhs = self.and()?;
            lhs = Expr { span: lhs.span.to(rhs.span), kind: ExprKind::Or(boxed(lhs), boxed(rhs)) };
        }
        self.depth = base;
        Ok(lhs)
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        let base = self.depth;
        let mut lhs = self.comparison()?;
        while self.is_word("and") {
            let at = self.bump().span;
            self.enter(at)?;
            let rhs = self.comparison()?;
            lhs = Expr { span: lhs.span.to(rhs.span), kind: ExprKind::And(boxed(lhs), boxed(rhs)) };
        }
        self.depth = base;
        Ok(lhs)
    }

    fn comparison(&mut self) -> Result<Expr, ExprError> {
        let lhs = self.additive()?;
        let Some(form) = self.comparison_form() else { return Ok(lhs) };
        let at = self.bump().span;
        self.enter(at)?;
        let expr = match form {
            Form::Op(op) => {
                let rhs = self.additive()?;
                Expr { span: lhs.span.to(rhs.span), kind: ExprKind::Compare { op, lhs: boxed(lhs), rhs: boxed(rhs) } }
            }
            Form::In => {
                let (set, end) = self.in_set()?;
                Expr { span: lhs.span.to(end), kind: ExprKind::In { value: boxed(lhs), set } }
            }
            Form::Between => {
                let low = self.additive()?;
                if !self.is_word("and") {
                    return Err(syntax(
                        self.span(),
                        format!("expected `and` in `between … and …`, found {}", self.peek().describe()),
                    ));
                }
                self.bump();
                let high = self.additive()?;
                Expr {
                    span: lhs.span.to(high.span),
                    kind: ExprKind::Between { value: boxed(lhs), low: boxed(low), high: boxed(high) },
                }
            }
        };
        self.leave();
        // FEEL would read `a < b < c` as `(a < b) < c`, which is never what was meant.
        if self.comparison_form().is_some() {
            return Err(syntax(
                self.span(),
                "comparisons cannot be chained: join them with `and`, as in `a < b and b < c`",
            ));
        }
        Ok(expr)
    }

    fn comparison_form(&self) -> Option<Form> {
        Some(match self.peek() {
            Tok::Eq => Form::Op(CmpOp::Eq),
            Tok::Ne => Form::Op(CmpOp::Ne),
            Tok::Lt => Form::Op(CmpOp::Lt),
            Tok::Le => Form::Op(CmpOp::Le),
            Tok::Gt => Form::Op(CmpOp::Gt),
            Tok::Ge => Form::Op(CmpOp::Ge),
            Tok::Word(w) if w == "in" => Form::In,
            Tok::Word(w) if w == "between" => Form::Between,
            _ => return None,
        })
    }

    /// After `in`: a list `(a, b)` / `[a, b]` or a range `[a..b]`, `(a..b)`, `]a..b[`.
    fn in_set(&mut self) -> Result<(InSet, Span), ExprError> {
        let open = self.span();
        let low_closed = match self.peek() {
            Tok::LBracket => true,
            Tok::LParen | Tok::RBracket => false,
            other => {
                return Err(syntax(
                    open,
                    format!(
                        "expected a list such as (1, 2) or a range such as [1..10] after `in`, found {}",
                        other.describe()
                    ),
                ));
            }
        };
        let list_close = match self.bump().tok {
            Tok::LBracket => Some(Tok::RBracket),
            Tok::LParen => Some(Tok::RParen),
            _ => None,
        };
        if let Some(close) = &list_close
            && self.peek() == close
        {
            let end = self.bump().span;
            return Ok((InSet::List(Vec::new()), open.to(end)));
        }
        let first = self.or()?;
        if self.peek() == &Tok::DotDot {
            self.bump();
            let high = self.or()?;
            let high_closed = match self.peek() {
                Tok::RBracket => true,
                Tok::RParen | Tok::LBracket => false,
                other => {
                    return Err(syntax(
                        self.span(),
                        format!("expected `]` or `)` to close the range, found {}", other.describe()),
                    ));
                }
            };
            let end = self.bump().span;
            let range = Range { low: boxed(first), high: boxed(high), low_closed, high_closed };
            return Ok((InSet::Range(range), open.to(end)));
        }
        let Some(close) = list_close else {
            return Err(syntax(self.span(), format!("expected `..` in the range, found {}", self.peek().describe())));
        };
        let mut items = vec![first];
        while self.peek() == &Tok::Comma {
            self.bump();
            items.push(self.or()?);
        }
        let what = if close == Tok::RParen { "`,` or `)`" } else { "`,` or `]`" };
        let end = self.require(&close, what)?;
        Ok((InSet::List(items), open.to(end)))
    }

    fn additive(&mut self) -> Result<Expr, ExprError> {
        let base = self.depth;
        let mut lhs = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => ArithOp::Add,
                Tok::Minus => ArithOp::Sub,
                _ => break,
            };
            let at = self.bump().span;
            self.enter(at)?;
            let rhs = self.multiplicative()?;
            lhs = Expr { span: lhs.span.to(rhs.span), kind: ExprKind::Arith { op, lhs: boxed(lhs), rhs: boxed(rhs) } };
        }
        self.depth = base;
        Ok(lhs)
    }

    fn multiplicative(&mut self) -> Result<Expr, ExprError> {
        let base = self.depth;
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => ArithOp::Mul,
                Tok::Slash => ArithOp::Div,
                _ => break,
            };
            let at = self.bump().span;
            self.enter(at)?;
            let rhs = self.unary()?;
            lhs = Expr { span: lhs.span.to(rhs.span), kind: ExprKind::Arith { op, lhs: boxed(lhs), rhs: boxed(rhs) } };
        }
        self.depth = base;
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.peek() != &Tok::Minus {
            return self.primary();
        }
        let at = self.bump().span;
        self.enter(at)?;
        let operand = self.unary()?;
        self.leave();
        Ok(Expr { span: at.to(operand.span), kind: ExprKind::Neg(boxed(operand)) })
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let span = self.span();
        let literal = |l: Literal| Ok(Expr { kind: ExprKind::Literal(l), span });
        match self.peek().clone() {
            Tok::Number(text) => {
                self.bump();
                literal(Literal::Number(number(&text, span)?))
            }
            Tok::Str(text) => {
                self.bump();
                literal(Literal::String(text))
            }
            Tok::AtStr(text) => {
                self.bump();
                literal(temporal(&text, span)?)
            }
            Tok::At(name) => {
                self.bump();
                match AtRef::from_name(&name) {
                    Some(at) => Ok(Expr { kind: ExprKind::At(at), span }),
                    None => Err(ExprError::new(
                        ErrorKind::UnknownName,
                        span,
                        format!(
                            "unknown `@{name}`; known are @me, @party, @unit, @today and @now{}",
                            hint(&name, AtRef::ALL.map(AtRef::name))
                        ),
                    )),
                }
            }
            Tok::LParen => {
                self.bump();
                self.enter(span)?;
                let inner = self.or()?;
                let end = self.require(&Tok::RParen, "`)`")?;
                self.leave();
                Ok(Expr { span: span.to(end), ..inner })
            }
            Tok::LBracket => Err(syntax(span, "lists are only supported after `in`, as in `x in [1, 2]`")),
            Tok::Word(word) => self.word(word, span),
            other => Err(syntax(span, format!("expected an expression, found {}", other.describe()))),
        }
    }

    fn word(&mut self, word: String, span: Span) -> Result<Expr, ExprError> {
        let literal = |l: Literal| Ok(Expr { kind: ExprKind::Literal(l), span });
        match word.as_str() {
            "true" => {
                self.bump();
                return literal(Literal::Bool(true));
            }
            "false" => {
                self.bump();
                return literal(Literal::Bool(false));
            }
            "null" => {
                self.bump();
                return literal(Literal::Null);
            }
            "not" => {
                self.bump();
                if self.peek() != &Tok::LParen {
                    return Err(syntax(span, "`not` is a function in FEEL: write `not(...)`"));
                }
                let open = self.bump().span;
                self.enter(open)?;
                let inner = self.or()?;
                let end = self.require(&Tok::RParen, "`)` after the argument of `not`")?;
                self.leave();
                return Ok(Expr { span: span.to(end), kind: ExprKind::Not(boxed(inner)) });
            }
            _ => {}
        }
        if let Some(words) = self.function_name() {
            return self.call(words);
        }
        if KEYWORDS.contains(&word.as_str()) {
            return Err(syntax(span, format!("expected an expression, found `{word}`")));
        }
        self.bump();
        let mut path = vec![Ident { name: word, span }];
        while self.peek() == &Tok::Dot {
            self.bump();
            match self.peek().clone() {
                Tok::Word(name) if !KEYWORDS.contains(&name.as_str()) => {
                    let span = self.bump().span;
                    path.push(Ident { name, span });
                }
                other => {
                    return Err(syntax(
                        self.span(),
                        format!("expected a field name after `.`, found {}", other.describe()),
                    ));
                }
            }
        }
        let span = path.iter().fold(span, |s, p| s.to(p.span));
        Ok(Expr { kind: ExprKind::Path(path), span })
    }

    /// The number of words of a function name starting here, when `(` follows them.
    fn function_name(&self) -> Option<usize> {
        for name in MULTI_WORD_FUNCTIONS {
            let words: Vec<&str> = name.split(' ').collect();
            let matches = words.iter().enumerate().all(|(k, w)| matches!(self.peek_at(k), Tok::Word(t) if t == w));
            if matches && self.peek_at(words.len()) == &Tok::LParen {
                return Some(words.len());
            }
        }
        matches!(self.peek_at(1), Tok::LParen).then_some(1)
    }

    fn call(&mut self, words: usize) -> Result<Expr, ExprError> {
        let mut names = Vec::with_capacity(words);
        let mut name_span = self.span();
        for _ in 0..words {
            let token = self.bump();
            name_span = name_span.to(token.span);
            if let Tok::Word(w) = token.tok {
                names.push(w);
            }
        }
        let name = Ident { name: names.join(" "), span: name_span };
        let open = self.bump().span;
        self.enter(open)?;
        let mut args = Vec::new();
        if self.peek() != &Tok::RParen {
            args.push(self.or()?);
            while self.peek() == &Tok::Comma {
                self.bump();
                args.push(self.or()?);
            }
        }
        let end = self.require(&Tok::RParen, "`,` or `)` in the arguments")?;
        self.leave();
        let span = name_span.to(end);
        // The temporal constructors applied to a string are literals: read them now, so a
        // bad date is reported where it is written.
        if let [Expr { kind: ExprKind::Literal(Literal::String(text)), span: at }] = args.as_slice() {
            let read = match name.name.as_str() {
                "date" => Some(date(text, *at).map(Literal::Date)),
                "date and time" => Some(datetime(text, *at).map(Literal::DateTime)),
                "duration" => Some(duration(text, *at).map(Literal::Duration)),
                _ => None,
            };
            if let Some(read) = read {
                return Ok(Expr { kind: ExprKind::Literal(read?), span });
            }
        }
        Ok(Expr { kind: ExprKind::Call { name, args }, span })
    }
}

fn number(text: &str, span: Span) -> Result<Decimal, ExprError> {
    let text = if text.starts_with('.') { format!("0{text}") } else { text.to_owned() };
    Decimal::from_str_exact(&text).map_err(|_| {
        ExprError::new(
            ErrorKind::NumberTooLarge,
            span,
            "this number does not fit an exact decimal (at most 28 significant digits)",
        )
    })
}

fn invalid(span: Span, message: String) -> ExprError {
    ExprError::new(ErrorKind::InvalidLiteral, span, message)
}

/// `@"…"`: a date, a duration or a date and time, told apart by their shape.
fn temporal(text: &str, span: Span) -> Result<Literal, ExprError> {
    if text.starts_with('P') || text.starts_with("-P") {
        duration(text, span).map(Literal::Duration)
    } else if text.len() == 10 {
        date(text, span).map(Literal::Date)
    } else {
        datetime(text, span).map(Literal::DateTime)
    }
}

pub(crate) fn date(text: &str, span: Span) -> Result<Date, ExprError> {
    read_date(text).ok_or_else(|| invalid(span, format!("`{text}` is not a date such as 2026-01-31")))
}

fn read_date(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|c| c.is_ascii_digit());
    if parts.next().is_some() || !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
        return None;
    }
    let month = time::Month::try_from(u8::from_str(m).ok()?).ok()?;
    Date::from_calendar_date(i32::from_str(y).ok()?, month, u8::from_str(d).ok()?).ok()
}

fn datetime(text: &str, span: Span) -> Result<OffsetDateTime, ExprError> {
    let t = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        invalid(
            span,
            format!("`{text}` is not a date and time with an offset, such as 2026-01-31T09:30:00+08:00 or 2026-01-31T01:30:00Z"),
        )
    })?;
    // The databases keep microseconds; a finer literal would compare differently there.
    if t.nanosecond() % 1000 != 0 {
        return Err(invalid(span, format!("`{text}` is more precise than microseconds")));
    }
    if !(1..=9999).contains(&t.year()) {
        return Err(invalid(span, format!("`{text}` is outside the years 1 to 9999")));
    }
    Ok(t)
}

fn duration(text: &str, span: Span) -> Result<i64, ExprError> {
    weft_model::schema::value::parse_duration(text).map_err(|reason| invalid(span, reason))
}
