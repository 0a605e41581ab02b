//! `/api/v1/records/{type}`: records of any declared type.
//!
//! Versions travel as ETags (`"3"`); a write with `If-Match` on a stale version gets 412
//! with the current version. `Idempotency-Key` on create makes a retry return the first
//! result instead of a duplicate.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use weft_model::ErrorCode;
use weft_workspace::{BulkMode, BulkRow, Idempotency, ListQuery, RecordView, TimelineEntry};

use super::actor::Actor;
use crate::json::MaybeJson;
use crate::{AppJson, AppQuery, AppState, Problem};

type Object = Map<String, Json>;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// FEEL filter, e.g. `state = "approved" and amount > 10000 and supplier = @party`; a
    /// referenced record's field reads through its reference: `starts with(supplier.name, "Acme")`.
    pub filter: Option<String>,
    /// Comma-separated keys, `-` for descending: `-order_date,number`. Indexed fields only.
    pub sort: Option<String>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u64>,
    /// Also return the number of matching records.
    #[serde(default)]
    pub count: bool,
    /// Comma-separated fields to return (system keys `id`, `version` always come).
    pub fields: Option<String>,
    #[serde(default)]
    pub include_deleted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Json>,
    pub next_cursor: Option<String>,
    pub count: Option<u64>,
}

pub(super) fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// `If-Match: "3"` (or `W/"3"`, or `*` for any version).
pub(super) fn if_match(headers: &HeaderMap) -> Result<Option<i64>, Problem> {
    let Some(raw) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = raw.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse::<i64>().map(Some).map_err(|_| {
        Problem::new(ErrorCode::BadRequest)
            .with_detail(format!("If-Match must be a record version such as \"3\", not `{text}`"))
    })
}

fn with_version(view: &RecordView, status: StatusCode) -> Response {
    let mut response = (status, AppJson(view.to_json())).into_response();
    response.headers_mut().insert(header::ETAG, etag(view.system.version));
    response
}

fn parse_id(type_name: &str, id: &str) -> Result<Uuid, Problem> {
    // An id that cannot exist is simply not found: no hint about the id format's validity
    // is needed to protect, but the answer must match a missing record's.
    Uuid::parse_str(id).map_err(|_| weft_workspace::Error::NotFound(format!("{type_name} {id}")).into())
}

fn project(mut record: Json, fields: Option<&str>) -> Json {
    let Some(fields) = fields.filter(|f| !f.trim().is_empty()) else { return record };
    let keep: Vec<&str> = fields.split(',').map(str::trim).collect();
    if let Json::Object(map) = &mut record {
        map.retain(|k, _| k == "id" || k == "version" || k == "type" || keep.contains(&k.as_str()));
    }
    record
}

/// A page of records the caller may see, with filter, sort and cursor.
#[utoipa::path(get, path = "/api/v1/records/{type}", tag = "records",
    params(("type" = String, Path, description = "Object type"), ListParams),
    responses(
        (status = 200, body = RecordList),
        (status = 400, description = "Bad filter, sort or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_records(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(type_name): Path<String>,
    AppQuery(params): AppQuery<ListParams>,
) -> Result<AppJson<RecordList>, Problem> {
    let query = ListQuery {
        filter: params.filter,
        sort: params.sort,
        cursor: params.cursor,
        limit: params.limit,
        include_deleted: params.include_deleted,
        with_count: params.count,
    };
    let page = state.workspace.list(&actor, &type_name, &query).await?;
    Ok(AppJson(RecordList {
        items: page.records.iter().map(|r| project(r.to_json(), params.fields.as_deref())).collect(),
        next_cursor: page.next_cursor,
        count: page.count,
    }))
}

/// Creates a record. Send `Idempotency-Key` to make retries safe. Records that refer to the
/// new one (a party's addresses and contacts) can be created with it, in the same
/// transaction, under `@with`: `{"name": "…", "@with": {"party_address": [{"line1": "…"}]}}`;
/// their reference back is filled in, and the answer carries them under `@with` too.
#[utoipa::path(post, path = "/api/v1/records/{type}", tag = "records",
    params(("type" = String, Path, description = "Object type"),
           ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first result")),
    request_body(content = Object, description = "Field values; `owner` and `party` may be set; `@with`: records of other types that refer to this one, by type, created with it (at most 100)"),
    responses(
        (status = 201, description = "Created", body = Object),
        (status = 200, description = "Replayed: the result of the first request with this key", body = Object),
        (status = 409, description = "Unique value taken, or key reused for another request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every invalid field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_record(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(type_name): Path<String>,
    headers: HeaderMap,
    AppJson(input): AppJson<Object>,
) -> Result<Response, Problem> {
    let idempotency = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let key = v.to_str().unwrap_or_default().trim();
            if key.is_empty() || key.len() > 255 {
                return Err(Problem::new(ErrorCode::BadRequest)
                    .with_detail("Idempotency-Key must be 1 to 255 visible characters"));
            }
            let digest = Sha256::digest(format!("{type_name}\n{}", Json::Object(input.clone())).as_bytes());
            Some(Idempotency { key: key.to_owned(), request_hash: hex::encode(digest) })
        }
    };
    if input.contains_key(weft_workspace::create_with::WITH_KEY) {
        return match state.workspace.create_with(&actor, &type_name, input, idempotency).await? {
            weft_workspace::CreatedWithOutcome::Fresh(created) => {
                let record = &created.record;
                let mut response = (StatusCode::CREATED, AppJson(created.to_json())).into_response();
                response.headers_mut().insert(header::ETAG, etag(record.system.version));
                if let Ok(location) =
                    HeaderValue::from_str(&format!("/api/v1/records/{type_name}/{}", record.system.id))
                {
                    response.headers_mut().insert(header::LOCATION, location);
                }
                Ok(response)
            }
            weft_workspace::CreatedWithOutcome::Replayed(json) => Ok(replayed(json)),
        };
    }
    match state.workspace.create(&actor, &type_name, input, idempotency).await? {
        weft_workspace::Created::Fresh(view) => {
            let mut response = with_version(&view, StatusCode::CREATED);
            if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/records/{type_name}/{}", view.system.id)) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        weft_workspace::Created::Replayed(json) => Ok(replayed(json)),
    }
}

/// The stored answer of the first request with an Idempotency-Key.
fn replayed(json: Json) -> Response {
    let version = json.get("version").and_then(Json::as_i64).unwrap_or(1);
    let mut response = (StatusCode::OK, AppJson(json)).into_response();
    response.headers_mut().insert(header::ETAG, etag(version));
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// `all_or_nothing`: one bad row refuses all; `per_row`: each row on its own.
    pub mode: BulkMode,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Object>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub created: usize,
    pub failed: usize,
    /// One entry per row, in order: the record, or the problem.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Json>,
}

/// Creates many records at once (at most 10,000).
#[utoipa::path(post, path = "/api/v1/records/{type}/bulk", tag = "records",
    params(("type" = String, Path, description = "Object type")), request_body = BulkRequest,
    responses(
        (status = 200, body = BulkResult),
        (status = 422, description = "all_or_nothing: every invalid field of every row", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn bulk_create(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(type_name): Path<String>,
    AppJson(request): AppJson<BulkRequest>,
) -> Result<AppJson<BulkResult>, Problem> {
    if request.rows.len() > 10_000 {
        return Err(Problem::new(ErrorCode::ValidationFailed).with_error("/rows", "at most 10000 rows per request"));
    }
    let results = state.workspace.bulk_create(&actor, &type_name, request.rows, request.mode).await?;
    let mut created = 0;
    let rows = results
        .into_iter()
        .map(|row| match row {
            BulkRow::Created(view) => {
                created += 1;
                serde_json::json!({ "status": 201, "record": view.to_json() })
            }
            BulkRow::Failed(e) => {
                let problem = Problem::from(e);
                serde_json::json!({ "status": problem.status, "problem": problem })
            }
        })
        .collect::<Vec<_>>();
    Ok(AppJson(BulkResult { created, failed: rows.len() - created, rows }))
}

/// One record; its version is the ETag.
#[utoipa::path(get, path = "/api/v1/records/{type}/{id}", tag = "records",
    params(("type" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_record(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let id = parse_id(&type_name, &id)?;
    let view = state.workspace.get(&actor, &type_name, id).await?;
    Ok(with_version(&view, StatusCode::OK))
}

/// Changes the given fields. Send `If-Match` with the version you read.
#[utoipa::path(patch, path = "/api/v1/records/{type}/{id}", tag = "records",
    params(("type" = String, Path), ("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The version read, e.g. \"3\"")),
    request_body = Object,
    responses(
        (status = 200, body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale version; `current_version` says the current one", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_record(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
    headers: HeaderMap,
    AppJson(input): AppJson<Object>,
) -> Result<Response, Problem> {
    let id = parse_id(&type_name, &id)?;
    let expected = if_match(&headers)?;
    let view = state.workspace.update(&actor, &type_name, id, expected, input).await?;
    Ok(with_version(&view, StatusCode::OK))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// Remove for good instead of the restorable soft delete (administrators).
    #[serde(default)]
    pub purge: bool,
}

/// Deletes a record (restorable), or purges it.
#[utoipa::path(delete, path = "/api/v1/records/{type}/{id}", tag = "records",
    params(("type" = String, Path), ("id" = String, Path), DeleteParams, ("If-Match" = Option<String>, Header)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Still referenced", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_record(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
    AppQuery(params): AppQuery<DeleteParams>,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    let id = parse_id(&type_name, &id)?;
    if params.purge {
        state.workspace.purge(&actor, &type_name, id).await?;
    } else {
        state.workspace.delete(&actor, &type_name, id, if_match(&headers)?).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Brings back a deleted record.
#[utoipa::path(post, path = "/api/v1/records/{type}/{id}/restore", tag = "records",
    params(("type" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn restore_record(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let id = parse_id(&type_name, &id)?;
    let view = state.workspace.restore(&actor, &type_name, id).await?;
    Ok(with_version(&view, StatusCode::OK))
}

/// Runs a lifecycle transition, with its declared inputs in the body.
#[utoipa::path(post, path = "/api/v1/records/{type}/{id}/transitions/{name}", tag = "records",
    params(("type" = String, Path), ("id" = String, Path), ("name" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body(content = Object, description = "The transition's inputs, e.g. {\"reason\": \"…\"}"),
    responses(
        (status = 200, body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible from the current state", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing inputs, or the guard does not hold", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn transition_record(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    MaybeJson(body): MaybeJson<Object>,
) -> Result<Response, Problem> {
    let id = parse_id(&type_name, &id)?;
    let expected = if_match(&headers)?;
    let inputs = body.unwrap_or_default();
    let view = state.workspace.transition(&actor, &type_name, id, &name, expected, inputs).await?;
    Ok(with_version(&view, StatusCode::OK))
}

/// The record's history and the steps of the processes bound to it, oldest first (a
/// partner contact sees only process tasks that were its own).
#[utoipa::path(get, path = "/api/v1/records/{type}/{id}/timeline", tag = "records",
    params(("type" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Vec<TimelineEntry>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn record_timeline(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
) -> Result<AppJson<Vec<TimelineEntry>>, Problem> {
    let id = parse_id(&type_name, &id)?;
    Ok(AppJson(state.workspace.timeline(&actor, &type_name, id).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AggregateParams {
    /// FEEL filter, as for lists.
    pub filter: Option<String>,
    /// Comma-separated: `state,order_date:month` (date buckets: day, month, year).
    pub group_by: Option<String>,
    /// Comma-separated: `count,sum:amount,avg:amount,min:qty,max:qty` (default `count`).
    pub metrics: Option<String>,
    #[serde(default)]
    pub include_deleted: bool,
    /// Most groups returned, largest first (default 1000).
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateResult {
    pub groups: Vec<weft_workspace::AggregateGroup>,
}

fn split_list(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Counts, sums, averages, minima and maxima per group, over exactly the records the
/// caller may list.
#[utoipa::path(get, path = "/api/v1/records/{type}/aggregate", tag = "records",
    params(("type" = String, Path), AggregateParams),
    responses(
        (status = 200, body = AggregateResult),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn aggregate_records(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(type_name): Path<String>,
    AppQuery(params): AppQuery<AggregateParams>,
) -> Result<AppJson<AggregateResult>, Problem> {
    let query = weft_workspace::AggregateQuery {
        filter: params.filter,
        group_by: split_list(params.group_by.as_deref()),
        metrics: split_list(params.metrics.as_deref()),
        include_deleted: params.include_deleted,
        limit: params.limit,
    };
    let groups = state.workspace.aggregate(&actor, &type_name, &query).await?;
    Ok(AppJson(AggregateResult { groups }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// FEEL filter, as for lists.
    pub filter: Option<String>,
    /// Sort keys, as for lists (default: oldest first).
    pub sort: Option<String>,
    /// Comma-separated columns in order: field names and system keys (`id`, `number`,
    /// `state`, `owner`, `party`, `unit`, `created_at`, `updated_at`). Default: all.
    pub columns: Option<String>,
    /// `csv` (default; at most 100,000 records) or `xlsx` (at most 10,000). Read by the
    /// handler rather than by serde so that a wrong value is a problem document too.
    pub format: Option<String>,
    /// Header labels, state and option labels in this language (`en`, `zh`); without it
    /// the header holds field names and the cells stored values.
    pub lang: Option<String>,
    #[serde(default)]
    pub include_deleted: bool,
}

/// Every record the caller may list and export, as CSV (UTF-8 with a header row) or XLSX,
/// filtered and sorted as the list. Needs the `export` permission; hidden fields are left
/// out. More records than the format holds are refused (400), never cut silently.
#[utoipa::path(get, path = "/api/v1/records/{type}/export", tag = "records",
    params(("type" = String, Path), ExportParams),
    responses(
        (status = 200, description = "CSV or XLSX file", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "Bad filter, sort or column; too many records", body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn export_records(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(type_name): Path<String>,
    AppQuery(params): AppQuery<ExportParams>,
) -> Result<Response, Problem> {
    let columns = params.columns.as_deref().map(|c| split_list(Some(c)));
    let format = match params.format.as_deref().map(str::trim) {
        None | Some("" | "csv") => weft_workspace::ExportFormat::Csv,
        Some("xlsx") => weft_workspace::ExportFormat::Xlsx,
        Some(other) => {
            return Err(Problem::new(ErrorCode::BadRequest)
                .with_detail(format!("format must be `csv` or `xlsx`, not `{other}`")));
        }
    };
    let lang = match params.lang.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("en") => Some(weft_workspace::ExportLang::En),
        Some("zh" | "zh-CN") => Some(weft_workspace::ExportLang::Zh),
        Some(other) => {
            return Err(
                Problem::new(ErrorCode::BadRequest).with_detail(format!("lang must be `en` or `zh`, not `{other}`"))
            );
        }
    };
    let query = weft_workspace::ExportQuery {
        list: ListQuery {
            filter: params.filter,
            sort: params.sort,
            include_deleted: params.include_deleted,
            ..ListQuery::default()
        },
        columns,
        format,
        lang,
    };
    let file = state.workspace.export(&actor, &type_name, &query).await?;
    let disposition = format!("attachment; filename=\"{type_name}.{}\"", file.extension);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(file.content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        file.bytes,
    )
        .into_response())
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkActionKind {
    /// Run one lifecycle transition (`transition`, with `inputs`) on every record.
    Transition,
    /// Delete every record (restorable).
    Delete,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkActionItem {
    pub id: String,
    /// The version the caller saw; a record changed since then is refused (412) alone.
    pub version: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkActionRequest {
    pub action: BulkActionKind,
    /// The transition's name, for `transition`.
    pub transition: Option<String>,
    /// The transition's inputs, the same for every record.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub inputs: Object,
    /// The selected records (1–500).
    pub items: Vec<BulkActionItem>,
}

/// One record's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkActionOutcome {
    pub id: String,
    /// What the single-record request would have answered: 200 or 204, else the
    /// problem's status.
    pub status: u16,
    /// The record after a transition.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub record: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Why this record was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkActionResult {
    pub succeeded: usize,
    pub failed: usize,
    /// One per item, in the order asked.
    pub results: Vec<BulkActionOutcome>,
}

/// Applies a transition or a delete to each selected record through the normal command
/// path (access, guards, version, one transaction per record). Always one outcome per
/// record: a refusal of one never hides or undoes another.
#[utoipa::path(post, path = "/api/v1/records/{type}/bulk-actions", tag = "records",
    params(("type" = String, Path, description = "Object type")), request_body = BulkActionRequest,
    responses(
        (status = 200, description = "Each record's outcome", body = BulkActionResult),
        (status = 400, description = "A record selected twice", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No or too many items, a transition without its name", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn bulk_action(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(type_name): Path<String>,
    AppJson(request): AppJson<BulkActionRequest>,
) -> Result<AppJson<BulkActionResult>, Problem> {
    let max = weft_workspace::bulk::MAX_BULK_ITEMS;
    let mut problem = Problem::new(ErrorCode::ValidationFailed);
    let mut invalid = false;
    if request.items.is_empty() || request.items.len() > max {
        problem = problem.with_error("/items", format!("select 1 to {max} records"));
        invalid = true;
    }
    let command = match (request.action, request.transition) {
        (BulkActionKind::Transition, Some(name)) if !name.trim().is_empty() => {
            Some(weft_workspace::BulkCommand::Transition { name, inputs: request.inputs })
        }
        (BulkActionKind::Transition, _) => {
            problem = problem.with_error("/transition", "name the transition to run");
            invalid = true;
            None
        }
        (BulkActionKind::Delete, transition) => {
            if transition.is_some() || !request.inputs.is_empty() {
                problem = problem.with_error("/transition", "a delete takes no transition or inputs");
                invalid = true;
            }
            Some(weft_workspace::BulkCommand::Delete)
        }
    };
    let Some(command) = command.filter(|_| !invalid) else { return Err(problem) };
    // Ids that cannot exist are each "not found", like the single-record request.
    let parsed: Vec<Result<weft_workspace::BulkTarget, Problem>> = request
        .items
        .iter()
        .map(|item| parse_id(&type_name, &item.id).map(|id| weft_workspace::BulkTarget { id, version: item.version }))
        .collect();
    let targets: Vec<_> = parsed.iter().filter_map(|p| p.as_ref().ok().copied()).collect();
    let mut done = if targets.is_empty() {
        // Make the type's own problems (unknown type) answer as a whole, as with targets.
        state
            .workspace
            .type_decl(&type_name)
            .ok_or_else(|| Problem::from(weft_workspace::Error::NotFound(format!("type `{type_name}`"))))?;
        Vec::new()
    } else {
        state.workspace.bulk_apply(&actor, &type_name, &command, &targets).await?
    }
    .into_iter();
    let mut succeeded = 0;
    let results: Vec<BulkActionOutcome> = request
        .items
        .into_iter()
        .zip(parsed)
        .map(|(item, parsed)| {
            let outcome = match parsed {
                Err(problem) => Err(problem),
                Ok(_) => match done.next() {
                    Some(result) => result.map_err(Problem::from),
                    None => Err(Problem::new(ErrorCode::Internal)),
                },
            };
            match outcome {
                Ok(view) => {
                    succeeded += 1;
                    let version = view.as_ref().map(|v| v.system.version);
                    let status = if view.is_some() { 200 } else { 204 };
                    BulkActionOutcome { id: item.id, status, record: view.map(|v| v.to_json()), version, problem: None }
                }
                Err(problem) => BulkActionOutcome {
                    id: item.id,
                    status: problem.status,
                    record: None,
                    version: None,
                    problem: Some(problem),
                },
            }
        })
        .collect();
    let failed = results.len() - succeeded;
    Ok(AppJson(BulkActionResult { succeeded, failed, results }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    /// The principal who gets read on this record.
    pub principal: Uuid,
    /// Why (shown to those who review access): "assignee", "mentioned", …
    pub reason: String,
}

/// Who this record is shared with beyond their roles.
#[utoipa::path(get, path = "/api/v1/records/{type}/{id}/shares", tag = "records",
    params(("type" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Vec<weft_workspace::shares::ShareView>),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_shares(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
) -> Result<AppJson<Vec<weft_workspace::shares::ShareView>>, Problem> {
    let id = parse_id(&type_name, &id)?;
    Ok(AppJson(state.workspace.record_shares(&actor, &type_name, id).await?))
}

/// Gives one principal read on this record (whoever may update the record may share it).
#[utoipa::path(post, path = "/api/v1/records/{type}/{id}/shares", tag = "records",
    params(("type" = String, Path), ("id" = String, Path)),
    request_body = ShareRequest,
    responses((status = 201, body = weft_workspace::shares::ShareView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn share_record(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
    AppJson(body): AppJson<ShareRequest>,
) -> Result<(StatusCode, AppJson<weft_workspace::shares::ShareView>), Problem> {
    let id = parse_id(&type_name, &id)?;
    let view = state.workspace.share_record(&actor, &type_name, id, body.principal, &body.reason).await?;
    Ok((StatusCode::CREATED, AppJson(view)))
}

/// Takes a share back.
#[utoipa::path(delete, path = "/api/v1/records/{type}/{id}/shares/{principal}", tag = "records",
    params(("type" = String, Path), ("id" = String, Path), ("principal" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn unshare_record(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id, principal)): Path<(String, String, String)>,
) -> Result<StatusCode, Problem> {
    let id = parse_id(&type_name, &id)?;
    let principal = Uuid::parse_str(&principal)
        .map_err(|_| Problem::from(weft_workspace::Error::NotFound(format!("share with {principal}"))))?;
    state.workspace.unshare_record(&actor, &type_name, id, principal).await?;
    Ok(StatusCode::NO_CONTENT)
}
