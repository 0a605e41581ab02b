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
use crate::collab::delivery::Letter;
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
            Ok(created) => {
                tracing::info!(application = %id, guest = %created.principal.id, "supplier onboarded; inviting the applicant");
                let letter =
                    approval_letter(&application_fields(&application.values), &created.token, &created.expires_at);
                self.queue_letter(id, &format!("application:{id}:approved"), letter).await?;
            }
            // The applicant already has an account (a contact of another supplier, say):
            // an administrator links it by hand.
            Err(Error::Unique { .. } | Error::Conflict(_)) => {
                tracing::warn!(application = %id, "the applicant's login is taken; no invitation made");
                let letter = approval_letter_for_existing_account(&application_fields(&application.values));
                self.queue_letter(id, &format!("application:{id}:approved"), letter).await?;
            }
            Err(e) => return Err(e),
        }
        let link = Map::from_iter([("supplier".to_owned(), json!(party))]);
        self.update(&system, "supplier_application", id, None, link).await.map(drop)
    }

    /// A rejected application: the applicant is told, with the reviewer's reason when one
    /// was given. Idempotent (one letter per application and outcome).
    pub(super) async fn tell_rejection(&self, event: &StoredEvent) -> Result<()> {
        let Some(id) = event.record_id else { return Ok(()) };
        let application = self.get(&Principal::system(), "supplier_application", id).await?;
        if application.system.state.as_deref() != Some("rejected") {
            return Ok(());
        }
        let letter = rejection_letter(&application_fields(&application.values));
        match self.queue_letter(id, &format!("application:{id}:rejected"), letter).await {
            // The form checks the address; one an administrator broke since cannot be mailed.
            Ok(_) | Err(Error::Validation(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// What the letters to an applicant say about the application.
struct ApplicationFields {
    company: String,
    contact: String,
    email: String,
    reason: String,
}

fn application_fields(values: &std::collections::BTreeMap<String, Value>) -> ApplicationFields {
    let text = |field: &str| match values.get(field) {
        Some(Value::Text(t)) => t.trim().to_owned(),
        _ => String::new(),
    };
    ApplicationFields {
        company: text("company_name"),
        contact: text("contact_name"),
        email: text("contact_email"),
        reason: text("decision_reason"),
    }
}

// The applicant chose no language (the form has no account behind it), so letters are
// written in Chinese and English, Chinese first, as Chinese B2B mail usually is.

fn approval_letter(a: &ApplicationFields, token: &str, expires_at: &str) -> Letter {
    let expires = expires_at.get(..10).unwrap_or(expires_at);
    Letter {
        to: a.email.clone(),
        subject: format!("供应商入驻申请已通过 / Supplier application approved — {}", a.company),
        body: format!(
            "{contact}，您好：\n\n\
             贵公司（{company}）的供应商入驻申请已通过审核。请通过下面的链接设置密码，登录供应商门户，\
             查看采购订单、确认交期、提交发货通知和发票。链接仅可使用一次，有效期至 {expires}。\n\n\
             Dear {contact},\n\n\
             The supplier application of {company} has been approved. Use the link below to set your \
             password and sign in to the supplier portal, where you will see your purchase orders, \
             confirm delivery dates, send shipping notices and invoices. The link works once and \
             until {expires}.",
            contact = a.contact,
            company = a.company,
        ),
        link_path: Some(format!("/accept-invitation#token={token}")),
        secret: true,
    }
}

/// Approved, but the address already signs in to Weft: no second account is made.
fn approval_letter_for_existing_account(a: &ApplicationFields) -> Letter {
    Letter {
        to: a.email.clone(),
        subject: format!("供应商入驻申请已通过 / Supplier application approved — {}", a.company),
        body: format!(
            "{contact}，您好：\n\n贵公司（{company}）的供应商入驻申请已通过审核。该邮箱已有账号，\
             我们的采购人员会将其关联到贵公司，届时请用原账号登录。\n\n\
             Dear {contact},\n\nThe supplier application of {company} has been approved. This address \
             already has an account; our buyer will link it to your company, and you will sign in \
             with it as before.",
            contact = a.contact,
            company = a.company,
        ),
        link_path: None,
        secret: false,
    }
}

fn rejection_letter(a: &ApplicationFields) -> Letter {
    let (reason_zh, reason_en) = if a.reason.is_empty() {
        (String::new(), String::new())
    } else {
        (format!("\n\n原因：{}", a.reason), format!("\n\nReason: {}", a.reason))
    };
    Letter {
        to: a.email.clone(),
        subject: format!("供应商入驻申请未通过 / Supplier application not approved — {}", a.company),
        body: format!(
            "{contact}，您好：\n\n感谢贵公司（{company}）的申请。很遗憾，本次供应商入驻申请未能通过审核。{reason_zh}\n\n\
             如情况有变，欢迎重新申请。\n\n\
             Dear {contact},\n\nThank you for the application of {company}. We are sorry that it was \
             not approved this time.{reason_en}\n\nYou are welcome to apply again when things change.",
            contact = a.contact,
            company = a.company,
        ),
        link_path: None,
        secret: false,
    }
}
