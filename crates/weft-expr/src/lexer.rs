//! Source text to tokens. Iterative, so no input can exhaust the stack here; the parser
//! bounds nesting.

use crate::error::{ErrorKind, ExprError, Span};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A word: a name, a keyword (`and`, `in`, …) or a word of a function name.
    Word(String),
    /// The digits as written; the parser reads them as an exact decimal.
    Number(String),
    /// With escapes already resolved.
    Str(String),
    /// `@me`, `@today`…
    At(String),
    /// `@"2026-01-31"`: FEEL's temporal literal.
    AtStr(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    DotDot,
    Plus,
    Minus,
    Star,
    Slash,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        let symbol = match self {
            Tok::Word(w) => return format!("`{w}`"),
            Tok::Number(n) => return format!("the number {n}"),
            Tok::Str(_) => return "a string".into(),
            Tok::At(name) => return format!("`@{name}`"),
            Tok::AtStr(_) => return "a temporal literal".into(),
            Tok::Eof => return "the end of the expression".into(),
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Dot => ".",
            Tok::DotDot => "..",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Eq => "=",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
        };
        format!("`{symbol}`")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// A number literal longer than this is refused before it is read: no exact decimal has
/// that many digits, and reading it would only waste time.
const MAX_NUMBER_CHARS: usize = 64;

pub(crate) fn lex(src: &str) -> Result<Vec<Token>, ExprError> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        let single = |tok: Tok| (tok, start + 1);
        let (tok, end) = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = src[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let Some(n) = src[i + 2..].find("*/") else {
                    return Err(syntax(Span::new(start, bytes.len()), "this comment is not closed with `*/`"));
                };
                i += n + 4;
                continue;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let end = word_end(bytes, i);
                (Tok::Word(src[i..end].to_owned()), end)
            }
            b'0'..=b'9' => number(src, i)?,
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => number(src, i)?,
            b'.' if bytes.get(i + 1) == Some(&b'.') => (Tok::DotDot, i + 2),
            b'.' => single(Tok::Dot),
            b'"' => {
                let (text, end) = string(src, i)?;
                (Tok::Str(text), end)
            }
            b'@' => match bytes.get(i + 1) {
                Some(b'"') => {
                    let (text, end) = string(src, i + 1)?;
                    (Tok::AtStr(text), end)
                }
                Some(b'a'..=b'z' | b'A'..=b'Z' | b'_') => {
                    let end = word_end(bytes, i + 1);
                    (Tok::At(src[i + 1..end].to_owned()), end)
                }
                _ => return Err(syntax(Span::new(start, start + 1), "`@` must be followed by a name such as `@me`")),
            },
            b'(' => single(Tok::LParen),
            b')' => single(Tok::RParen),
            b'[' => single(Tok::LBracket),
            b']' => single(Tok::RBracket),
            b',' => single(Tok::Comma),
            b'+' => single(Tok::Plus),
            b'-' => single(Tok::Minus),
            b'*' => single(Tok::Star),
            b'/' => single(Tok::Slash),
            b'=' => single(Tok::Eq),
            b'!' if bytes.get(i + 1) == Some(&b'=') => (Tok::Ne, i + 2),
            b'<' if bytes.get(i + 1) == Some(&b'=') => (Tok::Le, i + 2),
            b'<' => single(Tok::Lt),
            b'>' if bytes.get(i + 1) == Some(&b'=') => (Tok::Ge, i + 2),
            b'>' => single(Tok::Gt),
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                let span = Span::new(start, start + ch.len_utf8());
                let message = match ch {
                    '\'' => "strings are written in double quotes: \"text\"".to_owned(),
                    '!' => "`!` is not an operator; write `not(...)` or `!=`".to_owned(),
                    '&' | '|' => "write `and` and `or`".to_owned(),
                    _ => format!("unexpected character `{ch}`"),
                };
                return Err(syntax(span, message));
            }
        };
        tokens.push(Token { tok, span: Span::new(start, end) });
        i = end;
    }
    tokens.push(Token { tok: Tok::Eof, span: Span::new(src.len(), src.len()) });
    Ok(tokens)
}

fn syntax(span: Span, message: impl Into<String>) -> ExprError {
    ExprError::new(ErrorKind::Syntax, span, message)
}

fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    i
}

/// FEEL numbers: `12`, `12.50`, `.5`; no exponent. `1..10` is a range, so a dot followed by
/// a dot ends the number.
fn number(src: &str, start: usize) -> Result<(Tok, usize), ExprError> {
    let bytes = src.as_bytes();
    let mut i = start;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
    }
    let span = Span::new(start, i);
    if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
        let end = word_end(bytes, i);
        return Err(syntax(Span::new(start, end), format!("`{}` is neither a number nor a name", &src[start..end])));
    }
    if i - start > MAX_NUMBER_CHARS {
        return Err(ExprError::new(ErrorKind::NumberTooLarge, span, "this number has too many digits"));
    }
    Ok((Tok::Number(src[start..i].to_owned()), i))
}

/// A string literal starting at the quote at `start`: its text and the index after the
/// closing quote.
fn string(src: &str, start: usize) -> Result<(String, usize), ExprError> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices().map(|(k, c)| (start + 1 + k, c));
    while let Some((k, c)) = chars.next() {
        match c {
            '"' if out.contains('\0') => {
                // No stored text can hold U+0000 (PostgreSQL refuses it), so a literal with
                // one could only ever fail later, less clearly.
                return Err(ExprError::new(
                    ErrorKind::InvalidLiteral,
                    Span::new(start, k + 1),
                    "a string cannot contain the NUL character (U+0000)",
                ));
            }
            '"' => return Ok((out, k + 1)),
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                let simple = match e {
                    '"' => Some('"'),
                    '\'' => Some('\''),
                    '\\' => Some('\\'),
                    '/' => Some('/'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    _ => None,
                };
                if let Some(s) = simple {
                    out.push(s);
                    continue;
                }
                let digits = match e {
                    'u' => 4,
                    'U' => 6,
                    _ => {
                        return Err(syntax(
                            Span::new(k, k + 1 + e.len_utf8()),
                            format!("unknown escape `\\{e}`; known: \\\" \\\\ \\n \\r \\t \\uXXXX"),
                        ));
                    }
                };
                let mut code = read_hex(&mut chars, digits).ok_or_else(|| bad_escape(k, digits))?;
                // A UTF-16 surrogate pair written as two \u escapes, as JSON does.
                if (0xD800..0xDC00).contains(&code) {
                    let low = match (chars.next(), chars.next()) {
                        (Some((_, '\\')), Some((_, 'u'))) => read_hex(&mut chars, 4),
                        _ => None,
                    };
                    code = match low {
                        Some(low) if (0xDC00..0xE000).contains(&low) => {
                            0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        _ => return Err(bad_escape(k, digits)),
                    };
                }
                out.push(char::from_u32(code).ok_or_else(|| bad_escape(k, digits))?);
            }
            c => out.push(c),
        }
    }
    Err(syntax(Span::new(start, src.len()), "this string is not closed with `\"`"))
}

fn read_hex(chars: &mut impl Iterator<Item = (usize, char)>, digits: usize) -> Option<u32> {
    let mut code = 0u32;
    for _ in 0..digits {
        let (_, h) = chars.next()?;
        code = code * 16 + h.to_digit(16)?;
    }
    Some(code)
}

fn bad_escape(at: usize, digits: usize) -> ExprError {
    syntax(Span::new(at, at + 2 + digits), "not a valid unicode escape")
}
