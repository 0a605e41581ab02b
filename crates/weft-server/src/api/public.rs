//! Forms anyone may submit, without an account: a supplier's application (journey J2).
//! Narrow on purpose: the form's own fields only, files sniffed and size-limited like any
//! attachment, a few submissions per address an hour.

use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_model::ErrorCode;
use weft_workspace::apps::procurement::{ApplicationFile, FILE_FIELDS};

use super::actor::ClientMeta;
use crate::json::AppJson;
use crate::{AppState, Problem};

/// What the applicant gets back: the application's number to quote.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationReceipt {
    pub id: Uuid,
    pub number: Option<String>,
    /// `in_review`: procurement, legal and finance review it in turn.
    pub state: String,
}

fn bad(detail: impl Into<String>) -> Problem {
    Problem::new(ErrorCode::BadRequest).with_detail(detail.into())
}

/// Applies to become a supplier. `multipart/form-data`: the text fields `company_name`,
/// `tax_id`, `contact_name`, `contact_email` (required), `contact_phone`, `website`,
/// `address`, `description`, `categories` (repeat for several), and files in `licences`
/// and `certificates`. No sign-in; five applications per address an hour.
#[utoipa::path(post, path = "/api/v1/public/supplier-applications", tag = "public",
    request_body(content_type = "multipart/form-data", description = "The application's fields and files"),
    responses(
        (status = 201, body = ApplicationReceipt),
        (status = 400, description = "Not multipart, or a part cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "A file over the attachment limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every missing or bad field, with its pointer", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many applications from this address", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn apply_as_supplier(
    State(state): State<AppState>,
    client: ClientMeta,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, Problem> {
    let mut multipart = multipart.map_err(|e| bad(format!("expected multipart/form-data: {e}")))?;
    let mut fields = Map::new();
    let mut categories = Vec::new();
    let mut files = Vec::new();
    while let Some(part) = multipart.next_field().await.map_err(read_error)? {
        let name = part.name().unwrap_or_default().to_owned();
        if FILE_FIELDS.contains(&name.as_str()) {
            let filename = part.file_name().unwrap_or("file").to_owned();
            let content = part.bytes().await.map_err(read_error)?;
            files.push(ApplicationFile { field: name, filename, content });
            continue;
        }
        let text = part.text().await.map_err(read_error)?;
        if name == "categories" {
            categories.push(Json::String(text));
        } else if !text.trim().is_empty() {
            fields.insert(name, Json::String(text));
        }
    }
    if !categories.is_empty() {
        fields.insert("categories".into(), Json::Array(categories));
    }
    let submitted = state.workspace.submit_supplier_application(fields, files, &client.info.ip).await?;
    let receipt = ApplicationReceipt { id: submitted.id, number: submitted.number, state: "in_review".into() };
    Ok((StatusCode::CREATED, AppJson(receipt)).into_response())
}

fn read_error(e: axum::extract::multipart::MultipartError) -> Problem {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Problem::new(ErrorCode::PayloadTooLarge).with_detail(e.body_text());
    }
    bad(format!("a part of the form cannot be read: {}", e.body_text()))
}
