//! Attachments: files on a record (and, once posted, on one of its thread's messages).
//!
//! Content is stored once per SHA-256 in the blob store (`<data>/blobs` by default, any
//! `object_store` backend behind the same interface). The type is sniffed from the bytes,
//! never taken from the file name or the client; executables are refused. Reading goes
//! through the attachment id and the same checks as the record and its messages: knowing a
//! hash gives nothing, and a guest never gets an internal attachment.

use std::path::Path as FsPath;
use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{GetOptions, ObjectStore, PutOptions, PutPayload};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use weft_model::schema::{FieldError, FieldErrorCode, MessageVisibility};
use weft_model::{Principal, PrincipalKind};
use weft_store::format_utc;
use weft_store::kernel::collab::{self as store, StoredAttachment};
use weft_store::kernel::outbox;

use super::access::{Place, visible_to};
use crate::{Error, Result, Workspace, admin_audit};

/// Upload limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentLimits {
    /// The largest single file, in bytes.
    pub max_file_bytes: u64,
    /// All stored content together (each distinct content counted once).
    pub quota_bytes: u64,
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        AttachmentLimits { max_file_bytes: 25 * 1024 * 1024, quota_bytes: 10 * 1024 * 1024 * 1024 }
    }
}

/// Where an S3-compatible store is and how to sign in to it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Options {
    pub bucket: String,
    /// `https://…` of a non-AWS service (MinIO, a cloud vendor's S3 API); unset: AWS.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Keys go under this folder of the bucket.
    pub prefix: Option<String>,
    /// Plain `http://` endpoints (a store on the same private network); off by default.
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"…")
            .field("prefix", &self.prefix)
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// Where attachment content lives.
#[derive(Debug, Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    limits: AttachmentLimits,
}

impl BlobStore {
    /// A folder on this machine (created when missing).
    pub fn local(dir: &FsPath, limits: AttachmentLimits) -> Result<BlobStore> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Unavailable(format!("cannot create the blob folder {}: {e}", dir.display())))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| Error::Unavailable(format!("cannot open the blob folder {}: {e}", dir.display())))?;
        Ok(BlobStore { store: Arc::new(store), limits })
    }

    /// An S3-compatible object store (AWS S3, MinIO, Ceph, OSS/COS with their S3 APIs): what
    /// several nodes share.
    pub fn s3(options: &S3Options, limits: AttachmentLimits) -> Result<BlobStore> {
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&options.bucket)
            .with_region(&options.region)
            .with_access_key_id(&options.access_key_id)
            .with_secret_access_key(&options.secret_access_key)
            .with_allow_http(options.allow_http);
        if let Some(endpoint) = &options.endpoint {
            // Other vendors' endpoints serve buckets as paths, not as host names.
            builder = builder.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
        }
        let store = builder
            .build()
            .map_err(|e| Error::Unavailable(format!("the S3 store `{}` is misconfigured: {e}", options.bucket)))?;
        let store: Arc<dyn ObjectStore> = match options.prefix.as_deref().filter(|p| !p.is_empty()) {
            Some(prefix) => Arc::new(object_store::prefix::PrefixStore::new(store, prefix)),
            None => Arc::new(store),
        };
        Ok(BlobStore { store, limits })
    }

    /// In memory (tests and throw-away workspaces).
    pub fn memory(limits: AttachmentLimits) -> BlobStore {
        BlobStore { store: Arc::new(object_store::memory::InMemory::new()), limits }
    }

    pub fn limits(&self) -> AttachmentLimits {
        self.limits
    }

    fn path(sha256: &str) -> Path {
        Path::from(format!("sha256/{}/{}", &sha256[..2], sha256))
    }

    async fn put(&self, sha256: &str, bytes: Bytes) -> Result<()> {
        self.store
            .put_opts(&Self::path(sha256), PutPayload::from_bytes(bytes), PutOptions::default())
            .await
            .map_err(|e| Error::Unavailable(format!("the blob store refused the file: {e}")))?;
        Ok(())
    }

    /// Something made from stored content (a thumbnail), if it was made before.
    pub(super) async fn get_derived(&self, key: &str) -> Result<Option<Bytes>> {
        match self.store.get_opts(&Path::from(key), GetOptions::default()).await {
            Ok(result) => {
                Ok(Some(result.bytes().await.map_err(|e| Error::Internal(format!("{key} cannot be read: {e}")))?))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::Internal(format!("{key} cannot be read: {e}"))),
        }
    }

    pub(super) async fn put_derived(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.store
            .put_opts(&Path::from(key), PutPayload::from_bytes(bytes), PutOptions::default())
            .await
            .map_err(|e| Error::Unavailable(format!("the blob store refused {key}: {e}")))?;
        Ok(())
    }

    pub(super) async fn get(&self, sha256: &str) -> Result<Bytes> {
        let result = self
            .store
            .get_opts(&Self::path(sha256), GetOptions::default())
            .await
            .map_err(|e| Error::Internal(format!("blob {sha256} cannot be read: {e}")))?;
        result.bytes().await.map_err(|e| Error::Internal(format!("blob {sha256} cannot be read: {e}")))
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: Uuid,
    pub filename: String,
    /// Sniffed from the content.
    pub content_type: String,
    pub size: i64,
    pub visibility: MessageVisibility,
    #[serde(rename = "type")]
    pub type_name: String,
    pub record: Uuid,
    /// The message carrying it, once posted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Uuid>,
    pub uploaded_by: Uuid,
    pub uploaded_at: String,
    pub sha256: String,
    /// A picture with a thumbnail at `/api/v1/attachments/{id}/thumbnail`.
    pub thumbnail: bool,
}

pub(super) fn view(a: StoredAttachment) -> AttachmentView {
    let thumbnail = super::thumbnails::has_thumbnail(&a.content_type);
    AttachmentView {
        id: a.id,
        filename: a.filename,
        content_type: a.content_type,
        size: a.size,
        visibility: if a.visibility == "shared" { MessageVisibility::Shared } else { MessageVisibility::Internal },
        type_name: a.type_name,
        record: a.record_id,
        message: a.message_id,
        uploaded_by: a.uploaded_by,
        uploaded_at: format_utc(a.uploaded_at),
        sha256: a.sha256,
        thumbnail,
    }
}

fn invalid(pointer: &str, code: FieldErrorCode, reason: impl Into<String>) -> Error {
    Error::Validation(vec![FieldError { pointer: pointer.into(), code, reason: reason.into() }])
}

/// The last path segment, without control characters; 1 to 255 characters.
fn clean_filename(name: &str) -> Result<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." || cleaned.chars().count() > 255 {
        return Err(invalid("/filename", FieldErrorCode::InvalidFormat, "a file name of 1 to 255 characters"));
    }
    Ok(cleaned)
}

/// The content type from the bytes; `None` for content Weft does not accept.
fn sniff(bytes: &[u8]) -> Option<String> {
    match infer::get(bytes) {
        Some(kind) if kind.matcher_type() == infer::MatcherType::App => None,
        Some(kind) => Some(kind.mime_type().to_owned()),
        // Text: valid UTF-8 without NUL bytes (which no text file has).
        None if !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() => {
            Some("text/plain; charset=utf-8".to_owned())
        }
        None => Some("application/octet-stream".to_owned()),
    }
}

impl Workspace {
    /// Stores attachments in `blobs`.
    pub fn with_blob_store(mut self, blobs: BlobStore) -> Self {
        self.blobs = Some(Arc::new(blobs));
        self
    }

    pub(crate) fn blobs(&self) -> Result<&BlobStore> {
        self.blobs.as_deref().ok_or_else(|| Error::Unavailable("attachments are not configured on this server".into()))
    }

    /// Attaches a file to a record. Needs what posting on its thread needs; a guest's file
    /// is always shared.
    pub async fn upload_attachment(
        &self,
        principal: &Principal,
        type_name: &str,
        id: Uuid,
        filename: &str,
        visibility: Option<MessageVisibility>,
        bytes: Bytes,
    ) -> Result<AttachmentView> {
        let blobs = self.blobs()?;
        let access = self.record_thread_access(principal, type_name, id).await?;
        if !access.may_post {
            return Err(Error::Forbidden(format!("missing permission `comment` on `{type_name}`")));
        }
        let limits = blobs.limits();
        if bytes.len() as u64 > limits.max_file_bytes {
            return Err(Error::TooLarge(format!("a file may hold at most {} bytes", limits.max_file_bytes)));
        }
        let filename = clean_filename(filename)?;
        if bytes.is_empty() {
            return Err(invalid("/content", FieldErrorCode::Required, "the file is empty"));
        }
        let Some(content_type) = sniff(&bytes) else {
            return Err(invalid(
                "/content",
                FieldErrorCode::InvalidFormat,
                "programs and executables are not accepted",
            ));
        };
        let visibility = match (principal.kind, visibility) {
            (PrincipalKind::Guest { .. }, Some(MessageVisibility::Internal)) => {
                return Err(invalid("/visibility", FieldErrorCode::InvalidFormat, "partner contacts share files only"));
            }
            (PrincipalKind::Guest { .. }, _) => MessageVisibility::Shared,
            (_, Some(v)) => v,
            (_, None) => match &access.place {
                Place::Record { entry, .. } => entry.decl.thread_visibility.unwrap_or(MessageVisibility::Internal),
                Place::Channel(_) => MessageVisibility::Internal,
            },
        };
        let sha256 = hex::encode(Sha256::digest(&bytes));
        // The same content uploaded again is stored once.
        let known = store::blob_exists(&self.db, &sha256).await?;
        if !known {
            let used = store::blob_bytes(&self.db).await?.max(0) as u64;
            if used + bytes.len() as u64 > limits.quota_bytes {
                return Err(Error::TooLarge("the workspace's file storage is full".into()));
            }
            blobs.put(&sha256, bytes.clone()).await?;
        }
        let attachment = StoredAttachment {
            id: Uuid::now_v7(),
            sha256,
            filename,
            content_type,
            size: bytes.len() as i64,
            visibility: visibility.as_str().to_owned(),
            type_name: type_name.to_owned(),
            record_id: id,
            message_id: None,
            uploaded_by: principal.id,
            uploaded_at: weft_store::now(),
            deleted_at: None,
        };
        let (actor, written) = (principal.clone(), attachment.clone());
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    store::put_blob(tx, &written.sha256, written.size, &written.content_type, written.uploaded_at)
                        .await?;
                    store::insert_attachment(tx, &written).await?;
                    let detail = json!({ "attachment": written.id, "filename": written.filename,
                                         "size": written.size, "sha256": written.sha256,
                                         "visibility": written.visibility });
                    admin_audit::record(
                        tx,
                        &actor,
                        "attachment.upload",
                        &written.type_name,
                        &written.record_id.to_string(),
                        detail.clone(),
                    )
                    .await?;
                    let event = outbox::NewEvent {
                        kind: "attachment.uploaded".into(),
                        type_name: written.type_name.clone(),
                        record_id: Some(written.record_id),
                        actor: actor.actor(),
                        payload: detail,
                    };
                    outbox::append(tx, &event, written.uploaded_at).await?;
                    Ok::<_, Error>(())
                })
            })
            .await?;
        Ok(view(attachment))
    }

    /// A record's attachments the principal may see.
    pub async fn record_attachments(
        &self,
        principal: &Principal,
        type_name: &str,
        id: Uuid,
    ) -> Result<Vec<AttachmentView>> {
        let access = self.record_thread_access(principal, type_name, id).await?;
        Ok(store::record_attachments(&self.db, type_name, id, access.visibilities)
            .await?
            .into_iter()
            .map(view)
            .collect())
    }

    /// One attachment, checked like its record (and its message, once posted).
    async fn visible_attachment(&self, principal: &Principal, id: Uuid) -> Result<StoredAttachment> {
        let missing = || Error::NotFound(format!("attachment {id}"));
        let attachment =
            store::attachment(&self.db, id).await?.filter(|a| a.deleted_at.is_none()).ok_or_else(missing)?;
        self.record_thread_access(principal, &attachment.type_name, attachment.record_id).await.map_err(
            |e| match e {
                Error::NotFound(_) => missing(),
                other => other,
            },
        )?;
        if !visible_to(principal).contains(&attachment.visibility.as_str()) {
            return Err(missing());
        }
        if let Some(message) = attachment.message_id {
            self.message(principal, message).await.map_err(|e| match e {
                Error::NotFound(_) => missing(),
                other => other,
            })?;
        }
        Ok(attachment)
    }

    pub async fn attachment(&self, principal: &Principal, id: Uuid) -> Result<AttachmentView> {
        Ok(view(self.visible_attachment(principal, id).await?))
    }

    /// The attachment and its content.
    pub async fn attachment_content(&self, principal: &Principal, id: Uuid) -> Result<(AttachmentView, Bytes)> {
        let blobs = self.blobs()?;
        let attachment = self.visible_attachment(principal, id).await?;
        let bytes = blobs.get(&attachment.sha256).await?;
        Ok((view(attachment), bytes))
    }

    /// Removes an attachment from its record (the uploader or an administrator). The
    /// content stays while other attachments use it.
    pub async fn delete_attachment(&self, principal: &Principal, id: Uuid) -> Result<()> {
        let attachment = self.visible_attachment(principal, id).await?;
        if attachment.uploaded_by != principal.id && !self.is_admin(principal) {
            return Err(Error::Forbidden("only its uploader or an administrator can remove an attachment".into()));
        }
        let actor = principal.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if store::delete_attachment(tx, id, weft_store::now()).await? {
                        let detail = json!({ "attachment": id, "filename": attachment.filename });
                        admin_audit::record(
                            tx,
                            &actor,
                            "attachment.delete",
                            &attachment.type_name,
                            &attachment.record_id.to_string(),
                            detail,
                        )
                        .await?;
                    }
                    Ok::<_, Error>(())
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::{clean_filename, sniff};

    #[test]
    fn file_names_lose_their_folders_and_control_characters() {
        assert_eq!(clean_filename("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(clean_filename("C:\\Users\\li\\报价单.pdf").unwrap(), "报价单.pdf");
        assert_eq!(clean_filename("a\u{0}b.txt").unwrap(), "ab.txt");
        assert!(clean_filename("..").is_err());
        assert!(clean_filename("dir/").is_err());
        assert!(clean_filename(&"x".repeat(256)).is_err());
    }

    #[test]
    fn types_come_from_the_bytes() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
        assert_eq!(sniff(&png).as_deref(), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7\n").as_deref(), Some("application/pdf"));
        assert_eq!(sniff("纯文本".as_bytes()).as_deref(), Some("text/plain; charset=utf-8"));
        assert_eq!(sniff(&[0xff, 0xfe, 0x00, 0x01, 0x80]).as_deref(), Some("application/octet-stream"));
        // An ELF program, whatever its name says, is refused.
        let mut elf = vec![0u8; 64];
        elf[..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
        assert_eq!(sniff(&elf), None);
    }
}
