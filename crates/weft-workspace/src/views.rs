//! Saved views of the list page: a principal names its current list setup of one object
//! type (view kind, columns, sort, FEEL filter and the filter controls' values) to pick it
//! again later.
//!
//! Rules:
//! - Views belong to a type; only a principal that may read the type lists, saves or
//!   changes its views (guests included, for their portal types).
//! - A view is private to its owner unless shared; a shared view is listed to every member
//!   who may read the type. Showing a view's setup grants nothing: the list it opens is
//!   still the viewer's own, through the viewer's access. Guests (partners in the portal)
//!   see only their own views: a staff view's name and filter may name other parties or
//!   internal criteria, which a partner must not learn.
//! - Sharing is for those who manage the type (`Workspace::manages_type`: administrators,
//!   and members holding `update` on every record of it), so the picker of a whole
//!   department is curated by the people responsible for the type. Guests never share.
//! - Only the owner renames, re-shares or changes a view; the owner or an administrator
//!   deletes it. Another principal's private view is "not found", as if it did not exist.
//! - The setup is checked when written: a column, sort or filter the owner could not use
//!   (unknown or hidden field, a bad FEEL filter) is refused with its field pointer.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::{FieldError, FieldErrorCode, FieldKind};
use weft_store::format_utc;
use weft_store::kernel::views::{self, StoredView};

use crate::access::Action;
use crate::catalog::TypeEntry;
use crate::{Error, Result, Workspace};

/// Longest view name, in characters.
pub const MAX_NAME: usize = 80;
/// Largest setup, as JSON text: a view is a preference, not a document.
pub const MAX_SPEC_BYTES: usize = 16 * 1024;
/// Most columns a view names.
pub const MAX_COLUMNS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ViewKind {
    /// The table.
    List,
    /// The kanban board by state (types with a lifecycle).
    Board,
    /// The month calendar by the first date field (types with one).
    Calendar,
}

/// A list setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ViewSpec {
    pub kind: ViewKind,
    /// The table's columns, in order (field names and system keys such as `state`).
    #[serde(default)]
    pub columns: Vec<String>,
    /// As the list's `sort`: `-updated_at,number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// As the list's `filter` (FEEL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The filter controls' values by field (`state` for the lifecycle), so the page shows
    /// the controls as they were; `filter` is what applies.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub filters: Map<String, Json>,
    /// A calendar's date or date-time field (absent: the type's first one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_field: Option<String>,
    /// A calendar's month, `YYYY-MM` (absent: the month it is opened in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SavedView {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: String,
    pub shared: bool,
    pub owner: Uuid,
    /// The caller owns it (may rename, re-share, change and delete it).
    pub mine: bool,
    pub spec: ViewSpec,
    pub created_at: String,
    pub updated_at: String,
}

/// A type's views the caller sees, and whether it may share one.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ViewList {
    pub items: Vec<SavedView>,
    /// The caller manages the type and may save shared views.
    pub can_share: bool,
}

/// A new view, or the parts of one to change (absent: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewInput {
    pub name: Option<String>,
    pub shared: Option<bool>,
    #[schema(value_type = Option<ViewSpec>)]
    pub spec: Option<Json>,
}

const SYSTEM_COLUMNS: [&str; 6] = ["number", "state", "owner", "unit", "created_at", "updated_at"];

/// `YYYY-MM` with a month from 01 to 12.
fn is_month(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && text[..4].bytes().all(|b| b.is_ascii_digit())
        && text[5..].parse::<u8>().is_ok_and(|m| (1..=12).contains(&m))
        && text[5..].bytes().all(|b| b.is_ascii_digit())
}

fn field_error(pointer: impl Into<String>, code: FieldErrorCode, reason: impl Into<String>) -> FieldError {
    FieldError { pointer: pointer.into(), code, reason: reason.into() }
}

fn view(stored: StoredView, caller: Uuid) -> Result<SavedView> {
    let spec: ViewSpec = serde_json::from_str(&stored.spec)
        .map_err(|e| Error::Internal(format!("saved view {} holds an unreadable setup: {e}", stored.id)))?;
    Ok(SavedView {
        id: stored.id,
        mine: stored.owner == caller,
        type_name: stored.type_name,
        name: stored.name,
        shared: stored.shared,
        owner: stored.owner,
        spec,
        created_at: format_utc(stored.created_at),
        updated_at: format_utc(stored.updated_at),
    })
}

impl Workspace {
    /// The type's entry when `principal` may read it; a type it cannot read is refused
    /// like its records are.
    fn readable_type(&self, principal: &Principal, type_name: &str) -> Result<std::sync::Arc<TypeEntry>> {
        let entry = self.entry(type_name)?;
        let read = self.reach(principal, &entry, &Action::Read);
        if !read.has_grant() {
            return Err(read.forbidden());
        }
        Ok(entry)
    }

    /// The name, trimmed, or its problem.
    fn check_view_name(name: &str, errors: &mut Vec<FieldError>) -> String {
        let name = name.trim().to_owned();
        if name.is_empty() {
            errors.push(field_error("/name", FieldErrorCode::Required, "name the view"));
        } else if name.chars().count() > MAX_NAME {
            errors.push(field_error("/name", FieldErrorCode::TooLong, format!("at most {MAX_NAME} characters")));
        }
        name
    }

    /// Reads and checks a setup against what `principal` may use of the type: every
    /// problem at its pointer under `/spec`.
    fn check_view_spec(
        &self,
        principal: &Principal,
        entry: &TypeEntry,
        spec: &Json,
        errors: &mut Vec<FieldError>,
    ) -> Option<ViewSpec> {
        if serde_json::to_string(spec).map_or(0, |s| s.len()) > MAX_SPEC_BYTES {
            errors.push(field_error(
                "/spec",
                FieldErrorCode::TooLong,
                format!("at most {MAX_SPEC_BYTES} bytes of JSON"),
            ));
            return None;
        }
        let Json::Object(map) = spec else {
            errors.push(field_error(
                "/spec",
                FieldErrorCode::WrongType,
                "an object: kind, columns, sort, filter, filters",
            ));
            return None;
        };
        let before = errors.len();
        for key in map.keys() {
            if !["kind", "columns", "sort", "filter", "filters", "date_field", "month"].contains(&key.as_str()) {
                errors.push(field_error(format!("/spec/{key}"), FieldErrorCode::UnknownField, "not part of a view"));
            }
        }
        let hidden = self.field_rules(principal, entry).hidden;
        let decl = &entry.decl;
        let kind = match map.get("kind") {
            None => {
                errors.push(field_error("/spec/kind", FieldErrorCode::Required, "list, board or calendar"));
                None
            }
            Some(value) => match serde_json::from_value::<ViewKind>(value.clone()) {
                Err(_) => {
                    errors.push(field_error("/spec/kind", FieldErrorCode::UnknownOption, "list, board or calendar"));
                    None
                }
                Ok(ViewKind::Board) if decl.lifecycle.is_none() => {
                    errors.push(field_error(
                        "/spec/kind",
                        FieldErrorCode::UnknownOption,
                        format!("`{}` has no lifecycle to show as a board", decl.name),
                    ));
                    None
                }
                Ok(ViewKind::Calendar)
                    if !decl.fields.iter().any(|f| {
                        matches!(f.kind, FieldKind::Date {} | FieldKind::Datetime {}) && !hidden.contains(&f.name)
                    }) =>
                {
                    errors.push(field_error(
                        "/spec/kind",
                        FieldErrorCode::UnknownOption,
                        format!("`{}` has no date field to show as a calendar", decl.name),
                    ));
                    None
                }
                Ok(kind) => Some(kind),
            },
        };
        let known = |name: &str| {
            SYSTEM_COLUMNS.contains(&name) || decl.fields.iter().any(|f| f.name == name && !hidden.contains(&f.name))
        };
        let mut columns = Vec::new();
        match map.get("columns") {
            None | Some(Json::Null) => {}
            Some(Json::Array(list)) if list.len() > MAX_COLUMNS => {
                errors.push(field_error(
                    "/spec/columns",
                    FieldErrorCode::TooLong,
                    format!("at most {MAX_COLUMNS} columns"),
                ));
            }
            Some(Json::Array(list)) => {
                for (i, item) in list.iter().enumerate() {
                    let pointer = format!("/spec/columns/{i}");
                    match item.as_str() {
                        None => errors.push(field_error(pointer, FieldErrorCode::WrongType, "a field name")),
                        Some(name) if !known(name) => errors.push(field_error(
                            pointer,
                            FieldErrorCode::UnknownField,
                            format!("`{}` has no field `{name}`", decl.name),
                        )),
                        Some(name) if columns.iter().any(|c| c == name) => {
                            errors.push(field_error(
                                pointer,
                                FieldErrorCode::Duplicate,
                                format!("`{name}` is named twice"),
                            ));
                        }
                        Some(name) => columns.push(name.to_owned()),
                    }
                }
            }
            Some(_) => errors.push(field_error("/spec/columns", FieldErrorCode::WrongType, "a list of field names")),
        }
        let text = |key: &str, errors: &mut Vec<FieldError>| -> Option<String> {
            match map.get(key) {
                None | Some(Json::Null) => None,
                Some(Json::String(s)) if s.trim().is_empty() => None,
                Some(Json::String(s)) => Some(s.trim().to_owned()),
                Some(_) => {
                    errors.push(field_error(format!("/spec/{key}"), FieldErrorCode::WrongType, "text"));
                    None
                }
            }
        };
        // The sort and the filter are checked exactly as a list would take them.
        let sort = text("sort", errors);
        if let Some(sort) = &sort
            && let Err(e) = crate::reads::sort_keys(entry, Some(sort), &hidden)
        {
            errors.push(field_error("/spec/sort", FieldErrorCode::InvalidFormat, e.to_string()));
        }
        let filter = text("filter", errors);
        if let Some(filter) = &filter
            && let Err(e) = crate::expressions::filter_condition(
                entry,
                filter,
                &self.subject(principal),
                &hidden,
                &crate::expressions::FilterTargets::for_reader(self, principal, entry, &hidden, filter),
                self.db.backend(),
            )
        {
            errors.push(field_error("/spec/filter", FieldErrorCode::InvalidFormat, e.to_string()));
        }
        let mut filters = Map::new();
        match map.get("filters") {
            None | Some(Json::Null) => {}
            Some(Json::Object(controls)) => {
                for (name, value) in controls {
                    if name != "state" && !known(name) {
                        errors.push(field_error(
                            format!("/spec/filters/{name}"),
                            FieldErrorCode::UnknownField,
                            format!("`{}` has no field `{name}`", decl.name),
                        ));
                    } else {
                        filters.insert(name.clone(), value.clone());
                    }
                }
            }
            Some(_) => errors.push(field_error("/spec/filters", FieldErrorCode::WrongType, "an object by field")),
        }
        // A calendar's date field and month; other kinds have neither.
        let calendar = kind == Some(ViewKind::Calendar);
        let date_field = text("date_field", errors);
        if let Some(name) = &date_field {
            let is_date = decl.fields.iter().any(|f| {
                &f.name == name
                    && matches!(f.kind, FieldKind::Date {} | FieldKind::Datetime {})
                    && !hidden.contains(&f.name)
            });
            if !calendar {
                errors.push(field_error(
                    "/spec/date_field",
                    FieldErrorCode::UnknownField,
                    "only a calendar has a date field",
                ));
            } else if !is_date {
                errors.push(field_error(
                    "/spec/date_field",
                    FieldErrorCode::UnknownField,
                    format!("`{}` has no date or date-time field `{name}`", decl.name),
                ));
            }
        }
        let month = text("month", errors);
        if let Some(month) = &month {
            if !calendar {
                errors.push(field_error("/spec/month", FieldErrorCode::UnknownField, "only a calendar has a month"));
            } else if !is_month(month) {
                errors.push(field_error("/spec/month", FieldErrorCode::InvalidFormat, "a month as YYYY-MM"));
            }
        }
        if errors.len() > before {
            return None;
        }
        Some(ViewSpec { kind: kind?, columns, sort, filter, filters, date_field, month })
    }

    /// The views of `type_name` the caller sees: its own and every shared one.
    pub async fn list_views(&self, principal: &Principal, type_name: &str) -> Result<ViewList> {
        self.readable_type(principal, type_name)?;
        let items = views::visible(&self.db, type_name, principal.id, principal.party().is_none())
            .await?
            .into_iter()
            .map(|v| view(v, principal.id))
            .collect::<Result<Vec<_>>>()?;
        Ok(ViewList { items, can_share: self.manages_type(principal, type_name) })
    }

    /// Saves a view of `type_name` owned by the caller.
    pub async fn create_view(&self, principal: &Principal, type_name: &str, input: ViewInput) -> Result<SavedView> {
        let entry = self.readable_type(principal, type_name)?;
        let mut errors = Vec::new();
        let name = match &input.name {
            Some(name) => Self::check_view_name(name, &mut errors),
            None => {
                errors.push(field_error("/name", FieldErrorCode::Required, "name the view"));
                String::new()
            }
        };
        let spec = match &input.spec {
            Some(spec) => self.check_view_spec(principal, &entry, spec, &mut errors),
            None => {
                errors.push(field_error("/spec", FieldErrorCode::Required, "the list setup to save"));
                None
            }
        };
        let shared = input.shared.unwrap_or(false);
        let (Some(spec), true) = (spec, errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        if shared && !self.manages_type(principal, type_name) {
            return Err(share_forbidden(type_name));
        }
        let spec = serde_json::to_string(&spec).map_err(|e| Error::Internal(e.to_string()))?;
        let now = weft_store::now();
        let stored = StoredView {
            id: Uuid::now_v7(),
            type_name: type_name.to_owned(),
            owner: principal.id,
            name,
            shared,
            spec,
            created_at: now,
            updated_at: now,
        };
        let row = stored.clone();
        self.db.write(move |tx| Box::pin(async move { views::insert(tx, &row).await.map_err(taken) })).await?;
        view(stored, principal.id)
    }

    /// Renames, re-shares or changes the setup of one of the caller's views.
    pub async fn update_view(
        &self,
        principal: &Principal,
        type_name: &str,
        id: Uuid,
        input: ViewInput,
    ) -> Result<SavedView> {
        let entry = self.readable_type(principal, type_name)?;
        let mut errors = Vec::new();
        let name = input.name.as_deref().map(|n| Self::check_view_name(n, &mut errors));
        let spec = match &input.spec {
            Some(spec) => match self.check_view_spec(principal, &entry, spec, &mut errors) {
                Some(spec) => Some(serde_json::to_string(&spec).map_err(|e| Error::Internal(e.to_string()))?),
                None => None,
            },
            None => None,
        };
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let may_share = self.manages_type(principal, type_name);
        let (caller, type_owned) = (principal.id, type_name.to_owned());
        let sees_shared = principal.party().is_none();
        let stored = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let mut stored = visible_one(tx, &type_owned, id, caller, sees_shared).await?;
                    if stored.owner != caller {
                        return Err(Error::Forbidden("only its owner changes a view".into()));
                    }
                    if input.shared == Some(true) && !stored.shared && !may_share {
                        return Err(share_forbidden(&type_owned));
                    }
                    if let Some(name) = name {
                        stored.name = name;
                    }
                    if let Some(shared) = input.shared {
                        stored.shared = shared;
                    }
                    if let Some(spec) = spec {
                        stored.spec = spec;
                    }
                    stored.updated_at = weft_store::now();
                    views::update(tx, &stored).await.map_err(taken)?;
                    Ok::<_, Error>(stored)
                })
            })
            .await?;
        view(stored, principal.id)
    }

    /// Deletes a view: its owner, or an administrator for a shared one.
    pub async fn delete_view(&self, principal: &Principal, type_name: &str, id: Uuid) -> Result<()> {
        self.readable_type(principal, type_name)?;
        let is_admin = self.is_admin(principal);
        let (caller, type_owned) = (principal.id, type_name.to_owned());
        let sees_shared = principal.party().is_none();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let stored = visible_one(tx, &type_owned, id, caller, sees_shared).await?;
                    if stored.owner != caller && !is_admin {
                        return Err(Error::Forbidden("only its owner (or an administrator) deletes a view".into()));
                    }
                    views::delete(tx, id).await?;
                    Ok::<_, Error>(())
                })
            })
            .await
    }
}

/// A view of this type the caller sees (its own, or shared when `sees_shared`); anything
/// else is not found.
async fn visible_one(
    tx: &mut weft_store::Tx,
    type_name: &str,
    id: Uuid,
    caller: Uuid,
    sees_shared: bool,
) -> Result<StoredView> {
    match views::get(tx, id).await? {
        Some(v) if v.type_name == type_name && (v.owner == caller || (v.shared && sees_shared)) => Ok(v),
        _ => Err(Error::NotFound(format!("view {id}"))),
    }
}

fn share_forbidden(type_name: &str) -> Error {
    Error::Forbidden(format!("only administrators and managers of `{type_name}` share views"))
}

/// A name the owner already uses for this type is a problem of the `name` field.
fn taken(err: weft_store::Error) -> Error {
    match err {
        weft_store::Error::Unique { .. } => Error::Validation(vec![field_error(
            "/name",
            FieldErrorCode::Duplicate,
            "you already have a view of this name",
        )]),
        other => other.into(),
    }
}
