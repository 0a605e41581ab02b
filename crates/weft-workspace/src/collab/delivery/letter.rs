//! Letters: mails to someone who has no account (yet), such as a company that applied to
//! become a supplier. An app writes the letter (subject and body, in the languages it
//! chooses) and queues it about one of its records; the worker sends it like any other
//! delivery, with retries and dead letters, and a letter that carried a one-time link (an
//! invitation) forgets its body once sent, so the queue does not keep a usable token.

use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use weft_model::schema::{FieldError, FieldErrorCode};
use weft_store::kernel::delivery::{self as store, StoredDelivery};

use crate::{Error, Result, Workspace};

/// A mail to an address outside the workspace.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    /// The recipient's address (`name@example.com`).
    pub to: String,
    pub subject: String,
    pub body: String,
    /// A path of the web UI appended to the body as a link on `server.public_url`
    /// (`/accept-invitation#token=…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_path: Option<String>,
    /// The link is a credential (an invitation token): the body and link are dropped from
    /// the queue once the letter is sent.
    #[serde(default)]
    pub secret: bool,
}

// A letter with a secret link must not reach a log whole.
impl std::fmt::Debug for Letter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Letter")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

impl Letter {
    pub(super) fn from_json(text: &str) -> Option<Letter> {
        serde_json::from_str(text).ok()
    }

    /// What stays in the queue after a secret letter was sent.
    pub(super) fn forgotten(&self) -> String {
        let kept = Letter {
            to: self.to.clone(),
            subject: self.subject.clone(),
            body: "(sent; not kept, it held a one-time link)".into(),
            link_path: None,
            secret: true,
        };
        serde_json::to_string(&kept).unwrap_or_default()
    }

    /// The body as mailed, with the link on the workspace's public address.
    pub(super) fn text(&self, link: Option<String>) -> String {
        match link {
            Some(link) => format!("{}\n\n{link}\n", self.body.trim_end()),
            None => format!("{}\n", self.body.trim_end()),
        }
    }
}

impl Workspace {
    /// Queues `letter` about record `about`; `source` names why (`application:<id>:approved`)
    /// and makes queueing idempotent: the same (record, source) is queued once, so a
    /// replayed event mails nothing twice. Returns false when it was queued before.
    ///
    /// The letter goes out when e-mail is configured (`[smtp]`); without it the worker
    /// drops it with that reason, visible to administrators like any undelivered row.
    pub async fn queue_letter(&self, about: Uuid, source: &str, letter: Letter) -> Result<bool> {
        if letter.to.parse::<Mailbox>().is_err() {
            return Err(Error::Validation(vec![FieldError {
                pointer: "/to".into(),
                code: FieldErrorCode::InvalidFormat,
                reason: format!("`{}` is not an e-mail address", letter.to),
            }]));
        }
        let now = weft_store::now();
        let row = StoredDelivery {
            id: Uuid::now_v7(),
            channel: "letter".into(),
            target: about,
            source: source.to_owned(),
            mode: "immediate".into(),
            payload: serde_json::to_string(&letter)
                .map_err(|e| Error::Internal(format!("a letter could not be encoded: {e}")))?,
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: now,
            locked_until: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        };
        self.db.write(move |tx| Box::pin(async move { Ok::<_, Error>(store::enqueue(tx, &row).await?) })).await
    }

    /// The letters queued about a record, oldest first (tests and support).
    pub async fn letters_about(&self, about: Uuid) -> Result<Vec<(String, Letter)>> {
        Ok(store::for_target(&self.db, "letter", about)
            .await?
            .into_iter()
            .filter_map(|row| Letter::from_json(&row.payload).map(|l| (row.status, l)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_secret_letter_keeps_no_link() {
        let letter = Letter {
            to: "li@example.com".into(),
            subject: "Welcome".into(),
            body: "Set your password:".into(),
            link_path: Some("/accept-invitation#token=abc".into()),
            secret: true,
        };
        let kept = Letter::from_json(&letter.forgotten()).unwrap();
        assert_eq!((kept.to.as_str(), kept.subject.as_str()), ("li@example.com", "Welcome"));
        assert!(kept.link_path.is_none() && !kept.body.contains("abc"));
        assert_eq!(letter.text(Some("https://w.test/x".into())), "Set your password:\n\nhttps://w.test/x\n");
        assert!(!format!("{letter:?}").contains("token"), "no token in logs");
    }
}
