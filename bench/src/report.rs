//! Output shared by every benchmark: a markdown table (pasted as is into BENCHMARKS.md)
//! and the few number formats the tables use.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A markdown table with padded columns, so it reads well in a terminal too.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[(&str, Align)]) -> Self {
        Table { headers: headers.iter().map(|(h, a)| ((*h).to_owned(), *a)).collect(), rows: Vec::new() }
    }

    /// Adds a row; missing cells are left empty, extra cells are dropped.
    pub fn push(&mut self, mut row: Vec<String>) {
        row.resize(self.headers.len(), String::new());
        self.rows.push(row);
    }

    pub fn to_markdown(&self) -> String {
        let widths: Vec<usize> = self
            .headers
            .iter()
            .enumerate()
            .map(|(i, (h, _))| {
                let cells = self.rows.iter().map(|r| r[i].chars().count());
                cells.chain([h.chars().count(), 3]).max().unwrap_or(3)
            })
            .collect();
        let mut out = String::new();
        let line = |out: &mut String, cells: &[String]| {
            out.push('|');
            for (i, cell) in cells.iter().enumerate() {
                let pad = widths[i].saturating_sub(cell.chars().count());
                match self.headers[i].1 {
                    Align::Left => {
                        let _ = write!(out, " {cell}{} |", " ".repeat(pad));
                    }
                    Align::Right => {
                        let _ = write!(out, " {}{cell} |", " ".repeat(pad));
                    }
                }
            }
            out.push('\n');
        };
        let header: Vec<String> = self.headers.iter().map(|(h, _)| h.clone()).collect();
        line(&mut out, &header);
        out.push('|');
        for (i, (_, align)) in self.headers.iter().enumerate() {
            let dashes = "-".repeat(widths[i] - 1);
            match align {
                Align::Left => {
                    let _ = write!(out, " {dashes}- |");
                }
                Align::Right => {
                    let _ = write!(out, " {dashes}: |");
                }
            }
        }
        out.push('\n');
        for row in &self.rows {
            line(&mut out, row);
        }
        out
    }
}

/// A rate with thousands separators and no decimals, e.g. `12,345`.
pub fn rate(per_second: f64) -> String {
    let whole = per_second.round().max(0.0) as u64;
    thousands(whole)
}

pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    // A separator goes before every digit that has a multiple of three digits after it.
    let lead = digits.len() % 3;
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && i % 3 == lead {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Microseconds shown as milliseconds with two decimals, e.g. `1.25`.
pub fn micros_as_ms(micros: u64) -> String {
    format!("{:.2}", micros as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_padded_markdown() {
        let mut t = Table::new(&[("Backend", Align::Left), ("Commits/s", Align::Right)]);
        t.push(vec!["SQLite".into(), rate(1234.4)]);
        t.push(vec!["PostgreSQL".into()]);
        assert_eq!(
            t.to_markdown(),
            "| Backend    | Commits/s |\n\
             | ---------- | --------: |\n\
             | SQLite     |     1,234 |\n\
             | PostgreSQL |           |\n"
        );
    }

    #[test]
    fn number_formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(micros_as_ms(1250), "1.25");
    }
}
