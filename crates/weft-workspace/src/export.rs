//! Export of what a principal may see, as CSV or XLSX. It needs the `export` permission on
//! top of `read`, and carries both predicates into the SQL: an export can never contain a
//! row or a field the same principal could not list. The rows are read with the list's own
//! request (filter, sort, access), page by page, so an export of "what the list shows" holds
//! exactly the list's rows in the list's order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use serde_json::Value as Json;
use uuid::Uuid;
use weft_model::schema::{FieldDecl, FieldKind, Label, Value};
use weft_model::{Principal, PrincipalKind};
use weft_store::format_utc;
use weft_store::kernel::principals;
use weft_store::records::rows;

use crate::access::Action;
use crate::reads::ListQuery;
use crate::{Error, Result, Workspace};

/// More rows than this are refused in CSV, with a request to narrow the filter.
pub const MAX_EXPORT_ROWS: usize = 100_000;
/// The XLSX workbook is built in memory (about a kilobyte per row of twenty columns), so
/// its cap is lower than CSV's streaming-friendly one.
pub const MAX_XLSX_ROWS: usize = 10_000;
/// Excel refuses longer text in a cell; longer values are cut there (CSV keeps them whole).
const XLSX_MAX_TEXT: usize = 32_000;

/// The system columns, in the order a full export shows them.
const SYSTEM_COLUMNS: [&str; 8] = ["id", "number", "state", "owner", "party", "unit", "created_at", "updated_at"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    #[default]
    Csv,
    Xlsx,
}

/// The language of an export's header row and of state and option labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportLang {
    En,
    Zh,
}

#[derive(Debug, Clone, Default)]
pub struct ExportQuery {
    /// Filter, sort and deleted records, exactly as for the list (the cursor is ignored).
    pub list: ListQuery,
    /// The columns, in order: system keys (`number`, `state`, `created_at`…) and field
    /// names. None: every system column, then every field.
    pub columns: Option<Vec<String>>,
    pub format: ExportFormat,
    /// None: machine names in the header and stored values (state and option names);
    /// a language: labels in that language, as the list shows them.
    pub lang: Option<ExportLang>,
}

/// An export's bytes and the media type they are.
#[derive(Debug, Clone)]
pub struct ExportFile {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub extension: &'static str,
}

enum Column<'a> {
    System(&'static str),
    Field(&'a FieldDecl),
}

/// One cell before it is written: text, or a typed value XLSX can keep typed.
enum Cell {
    Empty,
    Text(String),
    Number(f64, Option<String>),
    Bool(bool),
    Date(time::Date),
    DateTime(time::OffsetDateTime),
}

impl Cell {
    fn csv(&self, raw: &str) -> String {
        match self {
            Cell::Empty => String::new(),
            // Text is what a person or a partner typed: it never reaches a spreadsheet as
            // a formula. Numbers, dates and booleans are ours, so `-5` stays a number.
            Cell::Text(_) => csv_text(raw),
            _ => raw.to_owned(),
        }
    }
}

/// Text that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, a tab or a carriage
/// return first) gets a leading `'`, which spreadsheets show as text (OWASP's advice for
/// CSV injection). XLSX needs no such mark: its text is always a string cell.
fn csv_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() }
}

/// Where a reference points, for its display title.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Target {
    /// A record of this type (a party is a record of the `party` type).
    Record(String),
    Principal,
    Unit,
}

/// The party type of the core app: what `party` fields and the system `party` point at.
const PARTY_TYPE: &str = "party";

impl Target {
    fn of_field(field: &FieldDecl) -> Option<Target> {
        match &field.kind {
            FieldKind::Reference { target, .. } => Some(Target::Record(target.clone())),
            FieldKind::Party {} => Some(Target::Record(PARTY_TYPE.to_owned())),
            FieldKind::Principal {} => Some(Target::Principal),
            FieldKind::OrgUnit {} => Some(Target::Unit),
            _ => None,
        }
    }

    fn of_system(name: &str) -> Option<Target> {
        match name {
            "owner" => Some(Target::Principal),
            "party" => Some(Target::Record(PARTY_TYPE.to_owned())),
            "unit" => Some(Target::Unit),
            _ => None,
        }
    }
}

/// Display titles of referenced records, people and units, as far as the exporting
/// principal may read them; what it may not read stays its id. Filled page by page, each id
/// looked up once per export.
#[derive(Default)]
struct Titles {
    known: HashMap<(Target, Uuid), Option<String>>,
}

impl Titles {
    fn get(&self, target: &Target, id: Uuid) -> String {
        self.known.get(&(target.clone(), id)).cloned().flatten().unwrap_or_else(|| id.to_string())
    }
}

/// The most ids one look-up names in its filter.
const TITLE_BATCH: usize = 200;

fn label(label: &Label, lang: ExportLang) -> &str {
    match lang {
        ExportLang::En => &label.en,
        ExportLang::Zh => &label.zh,
    }
}

fn system_header(name: &str, lang: Option<ExportLang>) -> String {
    let Some(lang) = lang else { return name.to_owned() };
    let (en, zh) = match name {
        "id" => ("ID", "ID"),
        "number" => ("Number", "编号"),
        "state" => ("State", "状态"),
        "owner" => ("Owner", "负责人"),
        "party" => ("Party", "伙伴"),
        "unit" => ("Unit", "部门"),
        "created_at" => ("Created", "创建时间"),
        "updated_at" => ("Updated", "更新时间"),
        other => (other, other),
    };
    match lang {
        ExportLang::En => en.to_owned(),
        ExportLang::Zh => zh.to_owned(),
    }
}

/// The raw text of a value (CSV without labels) and its typed cell (XLSX).
fn value_cell(field: &FieldDecl, value: Option<&Value>, lang: Option<ExportLang>, titles: &Titles) -> (String, Cell) {
    let raw = match value.map(Value::to_json) {
        None | Some(Json::Null) => return (String::new(), Cell::Empty),
        Some(Json::String(s)) => s,
        Some(other) => other.to_string(),
    };
    // With labels (an export for people), a reference shows its title, as the list does.
    if let (Some(Value::Reference(id)), Some(target), Some(_)) = (value, Target::of_field(field), lang) {
        let title = titles.get(&target, *id);
        return (title.clone(), Cell::Text(title));
    }
    let option_label = |v: &str| -> String {
        match (&field.kind, lang) {
            (FieldKind::Select { options } | FieldKind::MultiSelect { options }, Some(lang)) => {
                options.iter().find(|o| o.value == v).map_or_else(|| v.to_owned(), |o| label(&o.label, lang).to_owned())
            }
            _ => v.to_owned(),
        }
    };
    let cell = match value {
        Some(Value::Integer(i)) => Cell::Number(*i as f64, None),
        Some(Value::Decimal(d)) => d.to_f64().map_or_else(|| Cell::Text(raw.clone()), |n| Cell::Number(n, None)),
        Some(Value::Money { amount, currency }) => {
            amount.to_f64().map_or_else(|| Cell::Text(raw.clone()), |n| Cell::Number(n, Some(currency.clone())))
        }
        Some(Value::Bool(b)) => Cell::Bool(*b),
        Some(Value::Date(d)) => Cell::Date(*d),
        Some(Value::DateTime(t)) => Cell::DateTime(*t),
        Some(Value::Select(s)) => Cell::Text(option_label(s)),
        Some(Value::MultiSelect(list)) => {
            Cell::Text(list.iter().map(|s| option_label(s)).collect::<Vec<_>>().join(", "))
        }
        _ => Cell::Text(raw.clone()),
    };
    // With labels, CSV shows what XLSX shows for options; money keeps "amount currency".
    let text = match (&cell, lang) {
        (Cell::Text(t), Some(_)) if matches!(value, Some(Value::Select(_) | Value::MultiSelect(_))) => t.clone(),
        (Cell::Number(_, Some(currency)), Some(_)) => match value {
            Some(Value::Money { amount, .. }) => format!("{amount} {currency}"),
            _ => raw,
        },
        _ => raw,
    };
    (text, cell)
}

/// A day Excel can hold (1900-01-01 to 9999-12-31), else None.
fn excel_day(year: i32, month: u8, day: u8) -> Option<ExcelDateTime> {
    let year = u16::try_from(year).ok().filter(|y| (1900..=9999).contains(y))?;
    ExcelDateTime::from_ymd(year, month, day).ok()
}

fn xlsx_error(e: XlsxError) -> Error {
    Error::Internal(format!("writing XLSX failed: {e}"))
}

/// XLSX writing: formats made once per kind (and per currency).
struct Sheet {
    workbook: Workbook,
    header: Format,
    date: Format,
    datetime: Format,
    money: BTreeMap<String, Format>,
}

impl Sheet {
    fn new() -> Sheet {
        Sheet {
            workbook: Workbook::new(),
            header: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            money: BTreeMap::new(),
        }
    }

    fn worksheet(&mut self) -> Result<&mut Worksheet> {
        if self.workbook.worksheets_mut().is_empty() {
            self.workbook.add_worksheet();
        }
        self.workbook.worksheets_mut().first_mut().ok_or_else(|| Error::Internal("no worksheet".into()))
    }

    fn write(&mut self, row: u32, col: u16, cell: &Cell) -> Result<()> {
        let money = match cell {
            Cell::Number(_, Some(currency)) => Some(
                self.money
                    .entry(currency.clone())
                    .or_insert_with(|| Format::new().set_num_format(format!("#,##0.00 \"{currency}\"")))
                    .clone(),
            ),
            _ => None,
        };
        let (date, datetime) = (self.date.clone(), self.datetime.clone());
        let sheet = self.worksheet()?;
        match cell {
            Cell::Empty => {}
            Cell::Text(t) => {
                let t =
                    if t.chars().count() > XLSX_MAX_TEXT { t.chars().take(XLSX_MAX_TEXT).collect() } else { t.clone() };
                // Always a string cell: a value such as `=1+1` is never a formula.
                sheet.write_string(row, col, t).map_err(xlsx_error)?;
            }
            Cell::Number(n, _) => match &money {
                Some(format) => {
                    sheet.write_number_with_format(row, col, *n, format).map_err(xlsx_error)?;
                }
                None => {
                    sheet.write_number(row, col, *n).map_err(xlsx_error)?;
                }
            },
            Cell::Bool(b) => {
                sheet.write_boolean(row, col, *b).map_err(xlsx_error)?;
            }
            Cell::Date(d) => match excel_day(d.year(), d.month() as u8, d.day()) {
                Some(at) => {
                    sheet.write_datetime_with_format(row, col, &at, &date).map_err(xlsx_error)?;
                }
                // Excel's dates run from 1900 to 9999: others stay as ISO text.
                None => {
                    sheet.write_string(row, col, d.to_string()).map_err(xlsx_error)?;
                }
            },
            Cell::DateTime(t) => {
                // Excel has no time zones: the UTC instant, as the API shows it.
                let t = t.to_offset(time::UtcOffset::UTC);
                match excel_day(t.year(), t.month() as u8, t.day())
                    .and_then(|d| d.and_hms(t.hour().into(), t.minute(), f64::from(t.second())).ok())
                {
                    Some(at) => {
                        sheet.write_datetime_with_format(row, col, &at, &datetime).map_err(xlsx_error)?;
                    }
                    None => {
                        sheet.write_string(row, col, format_utc(t)).map_err(xlsx_error)?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl Workspace {
    /// Every record `principal` may export with `query`'s filter, as CSV with machine names
    /// (what integrations read).
    pub async fn export_csv(&self, principal: &Principal, type_name: &str, query: &ListQuery) -> Result<String> {
        let file =
            self.export(principal, type_name, &ExportQuery { list: query.clone(), ..ExportQuery::default() }).await?;
        String::from_utf8(file.bytes).map_err(|e| Error::Internal(e.to_string()))
    }

    /// The records `principal` may export, filtered and sorted as the list, with the
    /// columns asked for, as CSV or XLSX. Unknown or hidden columns are refused (a hidden
    /// field is "no such field", as in a filter).
    pub async fn export(&self, principal: &Principal, type_name: &str, query: &ExportQuery) -> Result<ExportFile> {
        let entry = self.entry(type_name)?;
        let export = self.reach(principal, &entry, &Action::Export);
        if !export.has_grant() {
            return Err(export.forbidden());
        }
        let hidden = self.field_rules(principal, &entry).hidden;
        let exportable = |f: &&FieldDecl| !hidden.contains(&f.name) && !matches!(f.kind, FieldKind::Lines { .. });
        let columns: Vec<Column<'_>> = match &query.columns {
            None => SYSTEM_COLUMNS
                .iter()
                .map(|s| Column::System(s))
                .chain(entry.decl.fields.iter().filter(exportable).map(Column::Field))
                .collect(),
            Some(names) => {
                let mut out = Vec::with_capacity(names.len());
                for name in names {
                    if let Some(system) = SYSTEM_COLUMNS.iter().find(|s| *s == name) {
                        out.push(Column::System(system));
                    } else if let Some(field) = entry.decl.fields.iter().filter(exportable).find(|f| &f.name == name) {
                        out.push(Column::Field(field));
                    } else {
                        return Err(Error::BadRequest(format!(
                            "cannot export column `{name}`: `{type_name}` has no such field (line fields are not exported)"
                        )));
                    }
                }
                if out.is_empty() {
                    return Err(Error::BadRequest("name at least one column to export".into()));
                }
                out
            }
        };
        let max = match query.format {
            ExportFormat::Csv => MAX_EXPORT_ROWS,
            ExportFormat::Xlsx => MAX_XLSX_ROWS,
        };
        let mut request = self.list_request(principal, &entry, &ListQuery { cursor: None, ..query.list.clone() })?;
        if let Some(scope) = export.condition(&entry, self.db.backend()) {
            if let Some(arms) = request.arms.as_mut() {
                // Each arm reads rows the export may reach too.
                arms.rest = Some(arms.rest.take().unwrap_or_else(sea_query::Cond::all).add(scope.clone()));
            }
            request.condition = Some(request.condition.take().unwrap_or_else(sea_query::Cond::all).add(scope));
        }
        let total = rows::count(&self.db, &entry.spec, &request).await?;
        if total > max as u64 {
            return Err(Error::BadRequest(format!(
                "{total} records match; an export holds at most {max}: narrow the filter"
            )));
        }
        request.sort = crate::reads::sort_keys(&entry, query.list.sort.as_deref(), &hidden)?;
        request.limit = 1000;

        let lang = query.lang;
        let state_label = |name: &str| -> String {
            let decl = entry.decl.lifecycle.as_ref().and_then(|l| l.states.iter().find(|s| s.name == name));
            match (decl, lang) {
                (Some(state), Some(lang)) => label(&state.label, lang).to_owned(),
                _ => name.to_owned(),
            }
        };
        let headers: Vec<String> = columns
            .iter()
            .map(|c| match (c, lang) {
                (Column::System(s), _) => system_header(s, lang),
                (Column::Field(f), Some(lang)) => label(&f.label, lang).to_owned(),
                (Column::Field(f), None) => f.name.clone(),
            })
            .collect();

        let csv_error = |e: csv::Error| Error::Internal(format!("writing CSV failed: {e}"));
        let mut csv_out = match query.format {
            ExportFormat::Csv => Some(csv::Writer::from_writer(Vec::new())),
            ExportFormat::Xlsx => None,
        };
        let mut sheet = match query.format {
            ExportFormat::Xlsx => Some(Sheet::new()),
            ExportFormat::Csv => None,
        };
        if let Some(out) = csv_out.as_mut() {
            out.write_record(headers.iter().map(|h| csv_text(h))).map_err(csv_error)?;
        }
        if let Some(sheet) = sheet.as_mut() {
            let format = sheet.header.clone();
            let ws = sheet.worksheet()?;
            for (i, h) in headers.iter().enumerate() {
                ws.write_string_with_format(0, i as u16, h, &format).map_err(xlsx_error)?;
            }
            ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        }
        let mut row_number: u32 = 0;
        let mut titles = Titles::default();
        loop {
            let page = rows::list(&self.db, &entry.spec, &request).await?;
            if lang.is_some() {
                self.resolve_titles(principal, &columns, &page.records, &mut titles).await;
            }
            for record in page.records {
                let mut values = record.values;
                crate::expressions::compute_virtual(&entry.decl, &mut values, principal);
                let s = &record.system;
                let cells: Vec<(String, Cell)> = columns
                    .iter()
                    .map(|c| match c {
                        Column::Field(f) => value_cell(f, values.get(&f.name), lang, &titles),
                        Column::System(name) => {
                            let reference = |id: Option<Uuid>| -> String {
                                match (id, Target::of_system(name), lang) {
                                    (Some(id), Some(target), Some(_)) => titles.get(&target, id),
                                    (id, ..) => id.map(|u| u.to_string()).unwrap_or_default(),
                                }
                            };
                            let text = match *name {
                                "id" => s.id.to_string(),
                                "number" => s.number.clone().unwrap_or_default(),
                                "state" => s.state.as_deref().map(&state_label).unwrap_or_default(),
                                "owner" => reference(s.owner),
                                "party" => reference(s.party),
                                "unit" => reference(s.unit),
                                "created_at" => return (format_utc(s.created_at), Cell::DateTime(s.created_at)),
                                "updated_at" => return (format_utc(s.updated_at), Cell::DateTime(s.updated_at)),
                                _ => String::new(),
                            };
                            let cell = if text.is_empty() { Cell::Empty } else { Cell::Text(text.clone()) };
                            (text, cell)
                        }
                    })
                    .collect();
                row_number += 1;
                if let Some(out) = csv_out.as_mut() {
                    out.write_record(cells.iter().map(|(raw, cell)| cell.csv(raw))).map_err(csv_error)?;
                }
                if let Some(sheet) = sheet.as_mut() {
                    for (i, (_, cell)) in cells.iter().enumerate() {
                        sheet.write(row_number, i as u16, cell)?;
                    }
                }
            }
            match page.last {
                Some(last) => request.after = Some(last),
                _ => break,
            }
        }
        match (csv_out, sheet) {
            (Some(out), _) => Ok(ExportFile {
                bytes: out.into_inner().map_err(|e| Error::Internal(format!("writing CSV failed: {e}")))?,
                content_type: "text/csv; charset=utf-8",
                extension: "csv",
            }),
            (None, Some(mut sheet)) => {
                let ws = sheet.worksheet()?;
                ws.set_name(type_name.chars().take(31).collect::<String>()).map_err(xlsx_error)?;
                // Column widths from the content (the first rows), so the file opens readable.
                ws.autofit();
                Ok(ExportFile {
                    bytes: sheet.workbook.save_to_buffer().map_err(xlsx_error)?,
                    content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    extension: "xlsx",
                })
            }
            (None, None) => Err(Error::Internal("no export format".into())),
        }
    }
}

impl Workspace {
    /// Looks up the titles `records` need for `columns` that `titles` does not know yet.
    async fn resolve_titles(
        &self,
        principal: &Principal,
        columns: &[Column<'_>],
        records: &[rows::StoredRecord],
        titles: &mut Titles,
    ) {
        let mut wanted: BTreeMap<Target, BTreeSet<Uuid>> = BTreeMap::new();
        for record in records {
            for column in columns {
                let (target, id) = match column {
                    Column::Field(f) => match (Target::of_field(f), record.values.get(&f.name)) {
                        (Some(t), Some(Value::Reference(id))) => (t, *id),
                        _ => continue,
                    },
                    Column::System(name) => {
                        let id = match *name {
                            "owner" => record.system.owner,
                            "party" => record.system.party,
                            "unit" => record.system.unit,
                            _ => None,
                        };
                        match (Target::of_system(name), id) {
                            (Some(t), Some(id)) => (t, id),
                            _ => continue,
                        }
                    }
                };
                if !titles.known.contains_key(&(target.clone(), id)) {
                    wanted.entry(target).or_default().insert(id);
                }
            }
        }
        let guest = matches!(principal.kind, PrincipalKind::Guest { .. });
        for (target, ids) in wanted {
            let found: HashMap<Uuid, String> = match &target {
                Target::Record(type_name) => self.record_titles(principal, type_name, &ids).await,
                // People's names: a guest knows only its own; members read the org chart.
                Target::Principal => {
                    let mut out = HashMap::new();
                    for id in &ids {
                        if guest && *id != principal.id {
                            continue;
                        }
                        if let Ok(Some(p)) = principals::by_id_now(&self.db, *id).await {
                            out.insert(*id, p.display_name);
                        }
                    }
                    out
                }
                Target::Unit if guest => HashMap::new(),
                Target::Unit => {
                    let directory = self.directory();
                    ids.iter().filter_map(|id| Some((*id, directory.org.unit(*id)?.name.clone()))).collect()
                }
            };
            for id in ids {
                titles.known.insert((target.clone(), id), found.get(&id).cloned());
            }
        }
    }

    /// The titles of the records of `type_name` among `ids` that `principal` may read (its
    /// title field if it may see it, else the number); the others are left out.
    async fn record_titles(
        &self,
        principal: &Principal,
        type_name: &str,
        ids: &BTreeSet<Uuid>,
    ) -> HashMap<Uuid, String> {
        let mut out = HashMap::new();
        let Ok(entry) = self.entry(type_name) else { return out };
        let ids: Vec<Uuid> = ids.iter().copied().collect();
        for chunk in ids.chunks(TITLE_BATCH) {
            let list = chunk.iter().map(|id| format!("\"{id}\"")).collect::<Vec<_>>().join(", ");
            let query = ListQuery {
                filter: Some(format!("id in [{list}]")),
                limit: Some(chunk.len() as u64),
                ..ListQuery::default()
            };
            // No read on the target type: its ids stay ids.
            let Ok(page) = self.list(principal, type_name, &query).await else { return out };
            for record in page.records {
                let title = entry.decl.title_field.as_deref().and_then(|f| match record.values.get(f) {
                    Some(Value::Text(t)) if !t.trim().is_empty() => Some(t.trim().to_owned()),
                    Some(Value::Null | Value::Text(_)) | None => None,
                    Some(other) => Some(match other.to_json() {
                        Json::String(s) => s,
                        json => json.to_string(),
                    }),
                });
                if let Some(title) = title.or(record.system.number) {
                    out.insert(record.system.id, title);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{csv_text, excel_day};

    #[test]
    fn csv_text_that_a_spreadsheet_would_run_is_marked_as_text() {
        for (input, expected) in [
            ("=1+1", "'=1+1"),
            ("+86 10 1234", "'+86 10 1234"),
            ("-5", "'-5"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\rcmd", "'\rcmd"),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(csv_text(input), expected, "{input:?}");
        }
    }

    #[test]
    fn excel_days_run_from_1900_to_9999_and_others_stay_text() {
        assert!(excel_day(2026, 12, 24).is_some());
        assert!(excel_day(1900, 1, 1).is_some());
        assert!(excel_day(1899, 12, 31).is_none());
        assert!(excel_day(10_000, 1, 1).is_none());
        assert!(excel_day(-44, 3, 15).is_none());
    }
}
