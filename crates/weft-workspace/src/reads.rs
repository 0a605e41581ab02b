//! Reads: one record, pages of records with filter, sort and cursor, counts, timelines.
//! Every read asks the policy first; lists carry the principal's scope into the SQL, so
//! a page, its count and a `get` can never disagree about what the principal may see.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_query::Cond;
use serde_json::{Value as Json, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_store::format_utc;
use weft_store::kernel::history;
use weft_store::records::SqlType;
use weft_store::records::codec;
use weft_store::records::rows::{self, ListRequest, ScopeArms, Source};

use crate::access::Action;
use crate::catalog::TypeEntry;
use crate::records::RecordView;
use crate::{Error, Result, Workspace};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// A FEEL filter, e.g. `state = "approved" and amount > 10000`.
    pub filter: Option<String>,
    /// Comma-separated sort keys, `-` for descending: `-order_date,number`.
    pub sort: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub limit: Option<u64>,
    pub include_deleted: bool,
    /// Also count every matching record.
    pub with_count: bool,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub records: Vec<RecordView>,
    pub next_cursor: Option<String>,
    pub count: Option<u64>,
}

/// One entry of a record's timeline.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub at: String,
    /// `history` (a change of the record) or `process` (a step of a process bound to it).
    pub kind: &'static str,
    pub actor: String,
    /// Who acted, by display name (`<name>` or `<delegate> for <delegator>`); absent for
    /// Weft's own engines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    /// History: `create`, `update`, `transition:<name>`, …; process: `process.started`,
    /// `process.task_created`, `process.task_completed`, `process.task_cancelled`,
    /// `process.claimed`, `process.transferred`, `process.delegated`, `process.returned`,
    /// `process.approver_added`, `process.withdrawn`, `process.cancelled`,
    /// `process.reminded`, `process.escalated`, `process.timer`, `process.migrated`, `process.ended`.
    pub command: String,
    /// The record's version after a history entry; absent for process entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[schema(value_type = Object)]
    pub changes: Json,
    /// What happened in the process, for `process` entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessStep>,
}

/// A process step in a record's timeline.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ProcessStep {
    pub instance: Uuid,
    /// The process key (`po_approval`) and its name in the BPMN.
    pub process: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process_name: Option<String>,
    /// The step (BPMN element id) and its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// A task's `approved`, `rejected` or `completed`; an ended instance's `completed`,
    /// `cancelled` or `withdrawn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The approver's comment, or the reason given for a return, withdrawal or cancellation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Who the task went to (created, transferred, delegated) or who was added, by id and
    /// display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_name: Option<String>,
    /// Whom the assignee stands in for (out-of-office delegation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<Uuid>,
    /// An added approver's place: `before` or `after`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// The earlier step a return went back to, and its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_step_name: Option<String>,
}

impl Workspace {
    pub async fn get(&self, principal: &Principal, type_name: &str, id: Uuid) -> Result<RecordView> {
        let (entry, stored) = self.get_stored(principal, type_name, id).await?;
        let mut view = RecordView { type_name: type_name.to_owned(), system: stored.system, values: stored.values };
        crate::expressions::compute_virtual(&entry.decl, &mut view.values, principal);
        self.redact(principal, &entry, &mut view);
        Ok(view)
    }

    /// The stored record, as it is in its row (nothing computed, nothing removed), if the
    /// principal may read it.
    async fn get_stored(
        &self,
        principal: &Principal,
        type_name: &str,
        id: Uuid,
    ) -> Result<(std::sync::Arc<TypeEntry>, rows::StoredRecord)> {
        let entry = self.entry(type_name)?;
        let stored =
            rows::get(Source::Db(&self.db), &entry.spec, id, false).await?.ok_or_else(|| not_found(type_name, id))?;
        if !self.readable_now(principal, &entry, &stored).await? {
            return Err(not_found(type_name, id));
        }
        Ok((entry, stored))
    }

    pub async fn list(&self, principal: &Principal, type_name: &str, query: &ListQuery) -> Result<Page> {
        let entry = self.entry(type_name)?;
        let mut request = self.list_request(principal, &entry, query)?;
        request.sort = sort_keys(&entry, query.sort.as_deref(), &self.field_rules(principal, &entry).hidden)?;
        request.limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        if let Some(cursor) = &query.cursor {
            request.after = Some(decode_cursor(cursor, &request.sort, self.db.backend())?);
        }
        let page = rows::list(&self.db, &entry.spec, &request).await?;
        let count = if query.with_count { Some(rows::count(&self.db, &entry.spec, &request).await?) } else { None };
        Ok(Page {
            records: page
                .records
                .into_iter()
                .map(|s| {
                    let mut view = RecordView { type_name: type_name.to_owned(), system: s.system, values: s.values };
                    crate::expressions::compute_virtual(&entry.decl, &mut view.values, principal);
                    self.redact(principal, &entry, &mut view);
                    view
                })
                .collect(),
            next_cursor: page.last.map(|(values, id)| encode_cursor(&values, id)),
            count,
        })
    }

    pub async fn count(&self, principal: &Principal, type_name: &str, query: &ListQuery) -> Result<u64> {
        let entry = self.entry(type_name)?;
        let request = self.list_request(principal, &entry, query)?;
        Ok(rows::count(&self.db, &entry.spec, &request).await?)
    }

    /// The condition every list, count and aggregate of `principal` on `entry` carries:
    /// the access scope and the caller's filter.
    pub(crate) fn list_request(
        &self,
        principal: &Principal,
        entry: &TypeEntry,
        query: &ListQuery,
    ) -> Result<ListRequest> {
        let backend = self.db.backend();
        let mut cond = Cond::all();
        let reach = self.reach(principal, entry, &Action::Read);
        if let Some(scope) = reach.condition(entry, backend) {
            cond = cond.add(scope);
        }
        let mut rest = None;
        if let Some(source) = query.filter.as_deref().filter(|f| !f.trim().is_empty()) {
            let hidden = self.field_rules(principal, entry).hidden;
            let subject = self.subject(principal);
            let targets = crate::expressions::FilterTargets::for_reader(self, principal, entry, &hidden, source);
            let filter = crate::expressions::filter_condition(entry, source, &subject, &hidden, &targets, backend)?;
            cond = cond.add(filter.clone());
            rest = Some(filter);
        }
        let arms = reach.arms(entry).map(|arms| ScopeArms { arms, rest });
        Ok(ListRequest {
            condition: Some(cond),
            include_deleted: query.include_deleted,
            arms,
            ..ListRequest::default()
        })
    }

    /// The record's history and the steps of the processes bound to it, oldest first.
    /// Process steps are shown to whoever may read the record, except that a partner contact
    /// sees only the tasks that were theirs (`processes::timeline`).
    pub async fn timeline(&self, principal: &Principal, type_name: &str, id: Uuid) -> Result<Vec<TimelineEntry>> {
        // Reading the record applies the access check: no timeline of an invisible record.
        let (entry, stored) = self.get_stored(principal, type_name, id).await?;
        let hidden = self.field_rules(principal, &entry).hidden;
        let mut entries = history::for_record(&self.db, type_name, id).await?;
        crate::created_values::fill_created(&mut entries, &stored.values, |field| entry.decl.field(field).is_some());
        let mut names: std::collections::BTreeMap<Uuid, Option<String>> = std::collections::BTreeMap::new();
        let mut out = Vec::with_capacity(entries.len());
        for h in entries {
            let actor_name = self.actor_display_name(&mut names, &h.actor).await?;
            let entry = TimelineEntry {
                at: format_utc(h.at),
                kind: "history",
                actor_name,
                actor: h.actor,
                command: h.command,
                version: Some(h.version),
                changes: without_hidden(h.changes, &hidden),
                process: None,
            };
            out.push((h.at, 0, entry));
        }
        out.extend(self.process_timeline(principal, type_name, id, &mut names).await?);
        // Stable: history keeps its order, and at one instant the record's change comes
        // before the process steps it started.
        out.sort_by_key(|(at, rank, _)| (*at, *rank));
        Ok(out.into_iter().map(|(_, _, e)| e).collect())
    }

    /// An actor (`<id>` or `<delegate id> for <delegator id>`) by display names, or `None`
    /// for Weft's own engines and people no longer known. `names` caches the look-ups.
    pub(crate) async fn actor_display_name(
        &self,
        names: &mut std::collections::BTreeMap<Uuid, Option<String>>,
        actor: &str,
    ) -> Result<Option<String>> {
        let mut parts = Vec::new();
        for id in actor.split(" for ").map(|p| Uuid::parse_str(p.trim())) {
            let Ok(id) = id else { return Ok(None) };
            match self.display_name(names, id).await? {
                Some(name) => parts.push(name),
                None => return Ok(None),
            }
        }
        Ok((!parts.is_empty()).then(|| parts.join(" for ")))
    }

    /// One principal's display name (cached in `names`).
    pub(crate) async fn display_name(
        &self,
        names: &mut std::collections::BTreeMap<Uuid, Option<String>>,
        id: Uuid,
    ) -> Result<Option<String>> {
        if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(id) {
            slot.insert(weft_store::kernel::principals::by_id_now(&self.db, id).await?.map(|p| p.display_name));
        }
        Ok(names.get(&id).cloned().flatten())
    }

    /// Removes the fields the principal may not see from a record about to be returned.
    pub(crate) fn redact(&self, principal: &Principal, entry: &TypeEntry, view: &mut RecordView) {
        let rules = self.field_rules(principal, entry);
        if !rules.hidden.is_empty() {
            view.values.retain(|name, _| !rules.hidden.contains(name));
        }
    }
}

fn not_found(type_name: &str, id: Uuid) -> Error {
    Error::NotFound(format!("{type_name} {id}"))
}

/// Sort keys: system columns, and declared fields that are indexed or unique.
/// History entries list changed fields as `{"field": …}` items, either directly or under
/// `changes` (transitions); items about hidden fields are dropped.
fn without_hidden(changes: Json, hidden: &std::collections::BTreeSet<String>) -> Json {
    if hidden.is_empty() {
        return changes;
    }
    match changes {
        Json::Array(items) => Json::Array(
            items
                .into_iter()
                .filter(|item| item.get("field").and_then(Json::as_str).is_none_or(|f| !hidden.contains(f)))
                .collect(),
        ),
        Json::Object(mut map) => {
            if let Some(inner) = map.get_mut("changes") {
                *inner = without_hidden(std::mem::take(inner), hidden);
            }
            Json::Object(map)
        }
        other => other,
    }
}

pub(crate) fn sort_keys(
    entry: &TypeEntry,
    sort: Option<&str>,
    hidden: &std::collections::BTreeSet<String>,
) -> Result<Vec<(String, SqlType, bool)>> {
    let Some(sort) = sort.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(vec![("created_at".into(), SqlType::Timestamp, false)]);
    };
    let mut keys = Vec::new();
    for part in sort.split(',').map(str::trim) {
        let (name, descending) = match part.strip_prefix('-') {
            Some(rest) => (rest, true),
            None => (part.strip_prefix('+').unwrap_or(part), false),
        };
        let key = match name {
            "number" | "state" => (name.to_owned(), SqlType::Text, descending),
            "created_at" | "updated_at" => (name.to_owned(), SqlType::Timestamp, descending),
            "version" => (name.to_owned(), SqlType::BigInt, descending),
            _ => {
                let field = entry.decl.field(name).filter(|f| !hidden.contains(&f.name)).ok_or_else(|| {
                    Error::BadRequest(format!("cannot sort by `{name}`: `{}` has no such field", entry.decl.name))
                })?;
                if !(field.indexed || field.unique) {
                    return Err(Error::BadRequest(format!(
                        "cannot sort by `{name}`: it is not indexed (declare it with \"indexed\": true)"
                    )));
                }
                let storage =
                    entry.spec.field(name).ok_or_else(|| Error::BadRequest(format!("cannot sort by `{name}`")))?;
                let (column, sql) = storage
                    .columns()
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::BadRequest(format!("cannot sort by `{name}`")))?;
                (column, sql, descending)
            }
        };
        if keys.iter().any(|(c, _, _): &(String, SqlType, bool)| c == &key.0) {
            return Err(Error::BadRequest(format!("`{name}` appears twice in sort")));
        }
        keys.push(key);
    }
    Ok(keys)
}

fn encode_cursor(values: &[sea_query::Value], id: Uuid) -> String {
    let keys: Vec<Json> = values.iter().map(value_json).collect();
    URL_SAFE_NO_PAD.encode(json!({ "k": keys, "id": id }).to_string())
}

fn value_json(v: &sea_query::Value) -> Json {
    use sea_query::Value as V;
    match v {
        V::String(s) => s.as_deref().map_or(Json::Null, |s| json!(s)),
        V::BigInt(i) => json!(i),
        V::Bool(b) => json!(b),
        V::TimeDate(d) => d.as_deref().map_or(Json::Null, |d| json!(d.to_string())),
        V::TimeDateTimeWithTimeZone(t) => t.as_deref().map_or(Json::Null, |t| json!(format_utc(*t))),
        V::Uuid(u) => u.as_deref().map_or(Json::Null, |u| json!(u)),
        _ => Json::Null,
    }
}

fn decode_cursor(
    cursor: &str,
    sort: &[(String, SqlType, bool)],
    backend: weft_store::Backend,
) -> Result<(Vec<sea_query::Value>, Uuid)> {
    let bad = || Error::BadRequest("invalid cursor; start again without one".into());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let parsed: Json = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let id = parsed.get("id").and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(bad)?;
    let keys = parsed.get("k").and_then(Json::as_array).ok_or_else(bad)?;
    if keys.len() != sort.len() {
        return Err(bad());
    }
    let mut values = Vec::with_capacity(keys.len());
    for (key, (_, sql, _)) in keys.iter().zip(sort) {
        use sea_query::Value as V;
        let v = match (sql, key) {
            (SqlType::Text, Json::Null) => V::String(None),
            (SqlType::Text, Json::String(s)) => V::String(Some(Box::new(s.clone()))),
            (SqlType::BigInt, Json::Null) => V::BigInt(None),
            (SqlType::BigInt, Json::Number(n)) => V::BigInt(Some(n.as_i64().ok_or_else(bad)?)),
            (SqlType::Boolean, Json::Null) => V::Bool(None),
            (SqlType::Boolean, Json::Bool(b)) => V::Bool(Some(*b)),
            (SqlType::Date, Json::Null) => V::TimeDate(None),
            (SqlType::Date, Json::String(s)) => {
                let format = time::macros::format_description!("[year]-[month]-[day]");
                V::TimeDate(Some(Box::new(time::Date::parse(s, format).map_err(|_| bad())?)))
            }
            (SqlType::Timestamp, Json::Null) => codec::null(backend, SqlType::Timestamp),
            (SqlType::Timestamp, Json::String(s)) => {
                let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| bad())?;
                weft_store::timestamp(backend, t)
            }
            (SqlType::Uuid, Json::Null) => V::Uuid(None),
            (SqlType::Uuid, Json::String(s)) => V::Uuid(Some(Box::new(Uuid::parse_str(s).map_err(|_| bad())?))),
            _ => return Err(bad()),
        };
        values.push(v);
    }
    Ok((values, id))
}
