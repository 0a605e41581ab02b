//! Journey J2, supplier onboarding: a company applies through the public form (no
//! account), procurement, legal and finance review in turn (`supplier_onboarding.bpmn`,
//! started by the application's `review`), and on approval the supplier exists: its party,
//! its supplier profile and a portal invitation for the applicant. A rejection keeps the
//! reviewer's reason on the application.
//!
//! The form is public, so it is narrow: only the applicant's fields are accepted, files
//! are sniffed and size-limited like any attachment, and each address may submit a few
//! applications an hour.

use bytes::Bytes;
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::{FieldError, FieldErrorCode, MessageVisibility, Value};
use weft_store::kernel::outbox::StoredEvent;

use super::quantities::reference;
use crate::identity::NewInvitation;
use crate::{Created, Error, ListQuery, Result, Workspace};

/// What the public form may set.
const FORM_FIELDS: [&str; 9] = [
    "company_name",
    "tax_id",
    "contact_name",
    "contact_email",
    "contact_phone",
    "website",
    "address",
    "categories",
    "description",
];
/// The file groups the form takes, each an attachment field of the application.
pub const FILE_FIELDS: [&str; 2] = ["licences", "certificates"];
/// Files one application may carry.
pub const MAX_FILES: usize = 10;

/// A file from the form: which group, its name, its content.
#[derive(Debug, Clone)]
pub struct ApplicationFile {
    pub field: String,
    pub filename: String,
    pub content: Bytes,
}

/// What the applicant is told after submitting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub id: Uuid,
    pub number: Option<String>,
}

fn problem(pointer: &str, code: FieldErrorCode, reason: &str) -> FieldError {
    FieldError { pointer: pointer.to_owned(), code, reason: reason.to_owned() }
}

impl Workspace {
    /// Takes an application from the public form (`client` is the caller's address, for
    /// the per-address limit) and starts its review.
    pub async fn submit_supplier_application(
        &self,
        input: Map<String, Json>,
        files: Vec<ApplicationFile>,
        client: &str,
    ) -> Result<Submitted> {
        let now = weft_store::now();
        if let Err(Error::RateLimited { retry_after_secs, .. }) = self.identity.public_forms.check(client, now) {
            return Err(Error::RateLimited {
                message: format!("too many applications from this address; try again in {retry_after_secs} s"),
                retry_after_secs,
            });
        }
        let mut errors: Vec<FieldError> = input
            .keys()
            .filter(|k| !FORM_FIELDS.contains(&k.as_str()))
            .map(|k| problem(&format!("/{k}"), FieldErrorCode::UnknownField, "not part of the application form"))
            .collect();
        if files.len() > MAX_FILES {
            errors.push(problem("/files", FieldErrorCode::OutOfRange, "at most 10 files"));
        }
        for (i, file) in files.iter().enumerate() {
            if !FILE_FIELDS.contains(&file.field.as_str()) {
                errors.push(problem(
                    &format!("/files/{i}"),
                    FieldErrorCode::UnknownField,
                    "files are `licences` or `certificates`",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let limits = self.blobs()?.limits();
        if let Some(big) = files.iter().find(|f| f.content.len() as u64 > limits.max_file_bytes) {
            return Err(Error::TooLarge(format!(
                "`{}`: a file may hold at most {} bytes",
                big.filename, limits.max_file_bytes
            )));
        }
        let mut input = input;
        for field in FILE_FIELDS {
            let hashes: Vec<Json> = files
                .iter()
                .filter(|f| f.field == field)
                .map(|f| json!(hex::encode(Sha256::digest(&f.content))))
                .collect();
            if !hashes.is_empty() {
                input.insert(field.to_owned(), Json::Array(hashes));
            }
        }
        let system = Principal::system();
        let created = match self.create(&system, "supplier_application", input, None).await? {
            Created::Fresh(view) => *view,
            Created::Replayed(_) => return Err(Error::Conflict("the application was already received".into())),
        };
        self.identity.public_forms.record_failure(client, now);
        let id = created.system.id;
        for file in files {
            self.upload_attachment(
                &system,
                "supplier_application",
                id,
                &file.filename,
                Some(MessageVisibility::Internal),
                file.content,
            )
            .await?;
        }
        self.transition(&system, "supplier_application", id, "review", None, Map::new()).await?;
        Ok(Submitted { id, number: created.system.number })
    }

    /// An approved application becomes a supplier: its party (the one with the same tax id
    /// when it exists), its profile and the applicant's portal invitation. Idempotent: an
    /// application that already names its party is done.
    pub(super) async fn onboard_supplier(&self, event: &StoredEvent) -> Result<()> {
        let Some(id) = event.record_id else { return Ok(()) };
        let system = Principal::system();
        let application = self.get(&system, "supplier_application", id).await?;
        if application.system.state.as_deref() != Some("approved")
            || reference(&application.values, "supplier").is_some()
        {
            return Ok(());
        }
        let text = |field: &str| match application.values.get(field) {
            Some(Value::Text(t)) => t.clone(),
            _ => String::new(),
        };
        let tax_id = text("tax_id");
        let existing = self
            .list(
                &system,
                "party",
                &ListQuery {
                    filter: Some(format!("tax_id = {}", json!(tax_id))),
                    limit: Some(1),
                    ..ListQuery::default()
                },
            )
            .await?;
        let party = match existing.records.first() {
            Some(found) => found.system.id,
            None => {
                let input = Map::from_iter([
                    ("name".to_owned(), json!(text("company_name"))),
                    ("tax_id".to_owned(), json!(tax_id)),
                    ("roles".to_owned(), json!(["supplier"])),
                ]);
                let created = self.create(&system, "party", input, None).await?;
                created.id().ok_or_else(|| Error::Internal("the new party has no id".into()))?
            }
        };
        let categories = match application.values.get("categories") {
            Some(Value::MultiSelect(c)) => c.clone(),
            _ => Vec::new(),
        };
        let mut profile = Map::from_iter([
            ("supplier".to_owned(), json!(party)),
            ("display_name".to_owned(), json!(text("company_name"))),
        ]);
        if let Some(first) = categories.first() {
            profile.insert("category".into(), json!(first));
        }
        match self.create(&system, "supplier_profile", profile, None).await {
            Ok(_) | Err(Error::Unique { .. }) => {}
            Err(e) => return Err(e),
        }
        let invitation = NewInvitation {
            login: text("contact_email").to_lowercase(),
            display_name: text("contact_name"),
            email: Some(text("contact_email")),
            party: Some(party),
            roles: Some(vec!["supplier_portal".to_owned()]),
            locale: None,
        };
        match self.invite_guest(&system, invitation).await {
            Ok(created) => tracing::info!(
                application = %id,
                guest = %created.principal.id,
                "supplier onboarded; the applicant's portal invitation is ready"
            ),
            // The applicant already has an account (a contact of another supplier, say):
            // an administrator links it by hand.
            Err(Error::Unique { .. } | Error::Conflict(_)) => {
                tracing::warn!(application = %id, "the applicant's login is taken; no invitation made")
            }
            Err(e) => return Err(e),
        }
        let link = Map::from_iter([("supplier".to_owned(), json!(party))]);
        self.update(&system, "supplier_application", id, None, link).await.map(drop)
    }
}
