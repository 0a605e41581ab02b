//! Collaboration over HTTP: record threads (`/api/v1/records/{type}/{id}/thread`),
//! messages, channels, followers and the caller's inbox. A message or thread the caller may
//! not see answers 404, like a missing one; partners' guests never receive an internal
//! message from any of these.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use weft_model::ErrorCode;
use weft_workspace::collab::{
    AttachmentView, ChannelView, FollowerView, InboxCounts, InboxItemView, InboxMark, InboxPage, InboxQuery,
    MessageEdit, MessageView, MessageVisibility, NewChannel, NewMessage, RevisionView, ThreadPage,
};

use super::actor::Actor;
use super::records::{etag, if_match};
use crate::{AppJson, AppQuery, AppState, Problem};

fn missing(what: &str, id: &str) -> Problem {
    weft_workspace::Error::NotFound(format!("{what} {id}")).into()
}

fn parse(what: &str, id: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(id).map_err(|_| missing(what, id))
}

fn message_response(view: MessageView, status: StatusCode) -> Response {
    let version = view.version;
    let mut response = (status, AppJson(view)).into_response();
    response.headers_mut().insert(header::ETAG, etag(version));
    response
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Messages after this position (`next_after` of the previous page); 0 from the start.
    pub after: Option<i64>,
    /// 1 to 200 (default 50).
    pub limit: Option<u64>,
}

impl PageParams {
    fn read(params: AppQuery<PageParams>) -> Result<(i64, u64), Problem> {
        let AppQuery(p) = params;
        let limit = p.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(Problem::new(ErrorCode::BadRequest).with_detail("limit must be 1 to 200"));
        }
        Ok((p.after.unwrap_or(0).max(0), limit))
    }
}

/// A record's thread, oldest first: what the caller may see of it.
#[utoipa::path(get, path = "/api/v1/records/{type}/{id}/thread", tag = "collaboration",
    params(("type" = String, Path), ("id" = String, Path), PageParams),
    responses((status = 200, body = ThreadPage), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn record_thread(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
    params: AppQuery<PageParams>,
) -> Result<AppJson<ThreadPage>, Problem> {
    let id = parse(&type_name, &id)?;
    let (after, limit) = PageParams::read(params)?;
    Ok(AppJson(state.workspace.record_thread(&actor, &type_name, id, after, limit).await?))
}

/// Posts on a record's thread. Needs `comment` on the type (or a share of the record).
#[utoipa::path(post, path = "/api/v1/records/{type}/{id}/thread", tag = "collaboration",
    params(("type" = String, Path), ("id" = String, Path)), request_body = NewMessage,
    responses(
        (status = 201, body = MessageView),
        (status = 403, description = "No `comment` permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every bad field: body, visibility, mentions, records, reply_to", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_on_record(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
    AppJson(body): AppJson<NewMessage>,
) -> Result<Response, Problem> {
    let id = parse(&type_name, &id)?;
    let view = state.workspace.post_on_record(&actor, &type_name, id, body).await?;
    Ok(message_response(view, StatusCode::CREATED))
}

/// Who follows a record (members of the company who can read it).
#[utoipa::path(get, path = "/api/v1/records/{type}/{id}/followers", tag = "collaboration",
    params(("type" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Vec<FollowerView>), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn followers(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
) -> Result<AppJson<Vec<FollowerView>>, Problem> {
    let id = parse(&type_name, &id)?;
    Ok(AppJson(state.workspace.record_followers(&actor, &type_name, id).await?))
}

/// Follows a record one can read (idempotent).
#[utoipa::path(put, path = "/api/v1/records/{type}/{id}/follow", tag = "collaboration",
    params(("type" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn follow(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let id = parse(&type_name, &id)?;
    state.workspace.follow_record(&actor, &type_name, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops following a record (idempotent).
#[utoipa::path(delete, path = "/api/v1/records/{type}/{id}/follow", tag = "collaboration",
    params(("type" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn unfollow(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let id = parse(&type_name, &id)?;
    state.workspace.unfollow_record(&actor, &type_name, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One message (its version as the ETag).
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "collaboration", params(("id" = String, Path)),
    responses((status = 200, body = MessageView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_message(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = parse("message", &id)?;
    Ok(message_response(state.workspace.message(&actor, id).await?, StatusCode::OK))
}

/// Edits one's own message; send `If-Match` with the version you read. The earlier body
/// is kept (`/revisions`).
#[utoipa::path(patch, path = "/api/v1/messages/{id}", tag = "collaboration", params(("id" = String, Path)),
    request_body = MessageEdit,
    responses(
        (status = 200, body = MessageView),
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Deleted", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Edited by someone else since", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn edit_message(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
    AppJson(body): AppJson<MessageEdit>,
) -> Result<Response, Problem> {
    let id = parse("message", &id)?;
    let expected = if_match(&headers)?;
    Ok(message_response(state.workspace.edit_message(&actor, id, expected, body).await?, StatusCode::OK))
}

/// Deletes a message (its author or an administrator); a tombstone keeps its place.
#[utoipa::path(delete, path = "/api/v1/messages/{id}", tag = "collaboration", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_message(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let id = parse("message", &id)?;
    state.workspace.delete_message(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A message's earlier bodies, oldest first.
#[utoipa::path(get, path = "/api/v1/messages/{id}/revisions", tag = "collaboration", params(("id" = String, Path)),
    responses((status = 200, body = Vec<RevisionView>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn message_revisions(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<Vec<RevisionView>>, Problem> {
    let id = parse("message", &id)?;
    Ok(AppJson(state.workspace.message_revisions(&actor, id).await?))
}

/// Adds one's reaction (idempotent).
#[utoipa::path(put, path = "/api/v1/messages/{id}/reactions/{emoji}", tag = "collaboration",
    params(("id" = String, Path), ("emoji" = String, Path)),
    responses((status = 200, body = MessageView), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_reaction(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((id, emoji)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let id = parse("message", &id)?;
    Ok(message_response(state.workspace.react(&actor, id, &emoji, true).await?, StatusCode::OK))
}

/// Takes one's reaction back (idempotent).
#[utoipa::path(delete, path = "/api/v1/messages/{id}/reactions/{emoji}", tag = "collaboration",
    params(("id" = String, Path), ("emoji" = String, Path)),
    responses((status = 200, body = MessageView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn remove_reaction(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((id, emoji)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let id = parse("message", &id)?;
    Ok(message_response(state.workspace.react(&actor, id, &emoji, false).await?, StatusCode::OK))
}

/// The channels the caller belongs to.
#[utoipa::path(get, path = "/api/v1/channels", tag = "collaboration", responses((status = 200, body = Vec<ChannelView>)))]
pub async fn list_channels(
    State(state): State<AppState>,
    Actor(actor): Actor,
) -> Result<AppJson<Vec<ChannelView>>, Problem> {
    Ok(AppJson(state.workspace.channels(&actor).await?))
}

/// Creates a channel (members of the company); `external` groups may hold partners' guests.
#[utoipa::path(post, path = "/api/v1/channels", tag = "collaboration", request_body = NewChannel,
    responses(
        (status = 201, body = ChannelView),
        (status = 403, description = "A guest", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_channel(
    State(state): State<AppState>,
    Actor(actor): Actor,
    AppJson(body): AppJson<NewChannel>,
) -> Result<Response, Problem> {
    let view = state.workspace.create_channel(&actor, body).await?;
    Ok((StatusCode::CREATED, AppJson(view)).into_response())
}

/// One channel the caller belongs to.
#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "collaboration", params(("id" = String, Path)),
    responses((status = 200, body = ChannelView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_channel(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<ChannelView>, Problem> {
    let id = parse("channel", &id)?;
    Ok(AppJson(state.workspace.channel(&actor, id).await?))
}

/// A page of a channel's messages, oldest first.
#[utoipa::path(get, path = "/api/v1/channels/{id}/messages", tag = "collaboration",
    params(("id" = String, Path), PageParams),
    responses((status = 200, body = ThreadPage), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn channel_messages(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    params: AppQuery<PageParams>,
) -> Result<AppJson<ThreadPage>, Problem> {
    let id = parse("channel", &id)?;
    let (after, limit) = PageParams::read(params)?;
    Ok(AppJson(state.workspace.channel_messages(&actor, id, after, limit).await?))
}

/// Posts in a channel the caller belongs to.
#[utoipa::path(post, path = "/api/v1/channels/{id}/messages", tag = "collaboration",
    params(("id" = String, Path)), request_body = NewMessage,
    responses((status = 201, body = MessageView), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn post_in_channel(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    AppJson(body): AppJson<NewMessage>,
) -> Result<Response, Problem> {
    let id = parse("channel", &id)?;
    Ok(message_response(state.workspace.post_in_channel(&actor, id, body).await?, StatusCode::CREATED))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    pub principal: Uuid,
}

/// Adds someone to a channel (a member of the company who belongs to it).
#[utoipa::path(post, path = "/api/v1/channels/{id}/members", tag = "collaboration",
    params(("id" = String, Path)), request_body = AddMember,
    responses((status = 200, body = ChannelView), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_member(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    AppJson(body): AppJson<AddMember>,
) -> Result<AppJson<ChannelView>, Problem> {
    let id = parse("channel", &id)?;
    Ok(AppJson(state.workspace.add_channel_member(&actor, id, body.principal).await?))
}

/// Removes someone from a channel, or leaves it (one's own id).
#[utoipa::path(delete, path = "/api/v1/channels/{id}/members/{principal}", tag = "collaboration",
    params(("id" = String, Path), ("principal" = String, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn remove_member(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((id, principal)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let id = parse("channel", &id)?;
    let principal = parse("member", &principal)?;
    state.workspace.remove_channel_member(&actor, id, principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's inbox, newest first (not done and not snoozed unless asked).
#[utoipa::path(get, path = "/api/v1/inbox", tag = "collaboration", params(InboxQuery),
    responses((status = 200, body = InboxPage), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn inbox(
    State(state): State<AppState>,
    Actor(actor): Actor,
    params: AppQuery<InboxQuery>,
) -> Result<AppJson<InboxPage>, Problem> {
    let AppQuery(query) = params;
    Ok(AppJson(state.workspace.inbox(&actor, &query).await?))
}

/// Unread and open counts of the caller's inbox, by kind.
#[utoipa::path(get, path = "/api/v1/inbox/counts", tag = "collaboration", responses((status = 200, body = InboxCounts)))]
pub async fn inbox_counts(State(state): State<AppState>, Actor(actor): Actor) -> Result<AppJson<InboxCounts>, Problem> {
    Ok(AppJson(state.workspace.inbox_counts(&actor).await?))
}

/// Marks items read, unread or done, and snoozes or wakes them. Idempotent.
#[utoipa::path(post, path = "/api/v1/inbox/mark", tag = "collaboration", request_body = InboxMark,
    responses((status = 200, body = Vec<InboxItemView>), (status = 404, description = "An id that is not the caller's", body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn mark_inbox(
    State(state): State<AppState>,
    Actor(actor): Actor,
    AppJson(body): AppJson<InboxMark>,
) -> Result<AppJson<Vec<InboxItemView>>, Problem> {
    Ok(AppJson(state.workspace.mark_inbox(&actor, body).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name as the user knows it (folders are dropped).
    pub filename: String,
    /// `internal` or `shared`; the type's thread default when left out. Guests: shared.
    pub visibility: Option<MessageVisibility>,
}

/// Uploads a file to a record: the request body is the file. Its type is sniffed from the
/// content; the same content uploaded twice is stored once. Post it on the thread with the
/// message's `attachments`.
#[utoipa::path(post, path = "/api/v1/records/{type}/{id}/attachments", tag = "collaboration",
    params(("type" = String, Path), ("id" = String, Path), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, body = AttachmentView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over the file limit or the storage quota; nothing is stored", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty, an executable, a bad name or visibility", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
    params: AppQuery<UploadParams>,
    limit: Option<axum::Extension<crate::body_limit::Limit>>,
    body: axum::body::Body,
) -> Result<Response, Problem> {
    let id = parse(&type_name, &id)?;
    let AppQuery(params) = params;
    let bytes = axum::body::to_bytes(body, usize::MAX).await.map_err(|e| {
        if crate::body_limit::is_length_limit(&e) {
            crate::body_limit::too_large(limit.map(|l| l.0.0).unwrap_or(state.options.max_upload_bytes))
        } else {
            Problem::new(ErrorCode::BadRequest).with_detail(format!("the upload was cut off: {e}"))
        }
    })?;
    let view =
        state.workspace.upload_attachment(&actor, &type_name, id, &params.filename, params.visibility, bytes).await?;
    Ok((StatusCode::CREATED, AppJson(view)).into_response())
}

/// A record's files the caller may see.
#[utoipa::path(get, path = "/api/v1/records/{type}/{id}/attachments", tag = "collaboration",
    params(("type" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Vec<AttachmentView>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn record_attachments(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((type_name, id)): Path<(String, String)>,
) -> Result<AppJson<Vec<AttachmentView>>, Problem> {
    let id = parse(&type_name, &id)?;
    Ok(AppJson(state.workspace.record_attachments(&actor, &type_name, id).await?))
}

/// One attachment's description.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "collaboration", params(("id" = String, Path)),
    responses((status = 200, body = AttachmentView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_attachment(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<AttachmentView>, Problem> {
    let id = parse("attachment", &id)?;
    Ok(AppJson(state.workspace.attachment(&actor, id).await?))
}

/// The file itself, for whoever may see the attachment. Images and PDFs open in the
/// browser; everything else downloads.
#[utoipa::path(get, path = "/api/v1/attachments/{id}/content", tag = "collaboration", params(("id" = String, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn attachment_content(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = parse("attachment", &id)?;
    let (view, bytes) = state.workspace.attachment_content(&actor, id).await?;
    let inline = view.content_type.starts_with("image/") || view.content_type == "application/pdf";
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        utf8_percent_encode(&view.filename)
    );
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&view.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    // Even an image may not run scripts in the page's origin.
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", view.sha256)) {
        headers.insert(header::ETAG, v);
    }
    Ok(response)
}

/// A small picture of an image attachment (at most 320 px on its longer side; PNG when it
/// has transparency, JPEG otherwise), for whoever may see the attachment. 404 for files
/// that are not pictures or cannot be read as one.
#[utoipa::path(get, path = "/api/v1/attachments/{id}/thumbnail", tag = "collaboration", params(("id" = String, Path)),
    responses((status = 200, description = "The thumbnail", content_type = "image/jpeg"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn attachment_thumbnail(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = parse("attachment", &id)?;
    let (view, bytes, kind) = state.workspace.attachment_thumbnail(&actor, id).await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}-thumbnail\"", view.sha256)) {
        headers.insert(header::ETAG, v);
    }
    Ok(response)
}

/// RFC 8187 encoding of a file name for `Content-Disposition`.
fn utf8_percent_encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Removes an attachment (its uploader or an administrator).
#[utoipa::path(delete, path = "/api/v1/attachments/{id}", tag = "collaboration", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_attachment(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let id = parse("attachment", &id)?;
    state.workspace.delete_attachment(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
