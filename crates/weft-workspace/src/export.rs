//! Export of what a principal may see, as CSV. It needs the `export` permission on top of
//! `read`, and carries both predicates into the SQL: an export can never contain a row or
//! a field the same principal could not list.

use serde_json::Value as Json;
use weft_model::Principal;
use weft_model::schema::FieldKind;
use weft_store::format_utc;
use weft_store::records::rows;

use crate::access::Action;
use crate::reads::ListQuery;
use crate::{Error, Result, Workspace};

/// More rows than this are refused with a request to narrow the filter.
pub const MAX_EXPORT_ROWS: usize = 100_000;

const SYSTEM_HEADERS: [&str; 8] = ["id", "number", "state", "owner", "party", "unit", "created_at", "updated_at"];

fn cell(value: Option<&weft_model::schema::Value>) -> String {
    match value.map(weft_model::schema::Value::to_json) {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s,
        Some(other) => other.to_string(),
    }
}

impl Workspace {
    pub async fn export_csv(&self, principal: &Principal, type_name: &str, query: &ListQuery) -> Result<String> {
        let entry = self.entry(type_name)?;
        let export = self.reach(principal, &entry, &Action::Export);
        if !export.has_grant() {
            return Err(export.forbidden());
        }
        let hidden = self.field_rules(principal, &entry).hidden;
        let fields: Vec<&str> = entry
            .decl
            .fields
            .iter()
            .filter(|f| !hidden.contains(&f.name) && !matches!(f.kind, FieldKind::Lines { .. }))
            .map(|f| f.name.as_str())
            .collect();
        let mut request = self.list_request(principal, &entry, &ListQuery { cursor: None, ..query.clone() })?;
        if let Some(scope) = export.condition(&entry, self.db.backend()) {
            if let Some(arms) = request.arms.as_mut() {
                // Each arm reads rows the export may reach too.
                arms.rest = Some(arms.rest.take().unwrap_or_else(sea_query::Cond::all).add(scope.clone()));
            }
            request.condition = Some(request.condition.take().unwrap_or_else(sea_query::Cond::all).add(scope));
        }
        let total = rows::count(&self.db, &entry.spec, &request).await?;
        if total > MAX_EXPORT_ROWS as u64 {
            return Err(Error::BadRequest(format!(
                "{total} records match; an export holds at most {MAX_EXPORT_ROWS}: narrow the filter"
            )));
        }
        request.sort = vec![("created_at".into(), weft_store::records::SqlType::Timestamp, false)];
        request.limit = 1000;
        let mut out = csv::Writer::from_writer(Vec::new());
        let csv_error = |e: csv::Error| Error::Internal(format!("writing CSV failed: {e}"));
        out.write_record(SYSTEM_HEADERS.iter().copied().chain(fields.iter().copied())).map_err(csv_error)?;
        loop {
            let page = rows::list(&self.db, &entry.spec, &request).await?;
            for record in &page.records {
                let s = &record.system;
                let mut row = vec![
                    s.id.to_string(),
                    s.number.clone().unwrap_or_default(),
                    s.state.clone().unwrap_or_default(),
                    s.owner.map(|u| u.to_string()).unwrap_or_default(),
                    s.party.map(|u| u.to_string()).unwrap_or_default(),
                    s.unit.map(|u| u.to_string()).unwrap_or_default(),
                    format_utc(s.created_at),
                    format_utc(s.updated_at),
                ];
                row.extend(fields.iter().map(|f| cell(record.values.get(*f))));
                out.write_record(&row).map_err(csv_error)?;
            }
            match page.last {
                Some(last) => request.after = Some(last),
                _ => break,
            }
        }
        let bytes = out.into_inner().map_err(|e| Error::Internal(format!("writing CSV failed: {e}")))?;
        String::from_utf8(bytes).map_err(|e| Error::Internal(e.to_string()))
    }
}
