//! E-mail: the SMTP transport (lettre, over the same rustls stack as the robots' client)
//! and the mails: one per immediate notice, one per digest listing its notices.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::notice::{Lang, Notice};
use crate::{Error, Result};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// STARTTLS, required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// None: only for a relay on the same machine or network.
    None,
}

impl std::str::FromStr for SmtpTls {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            "none" => Ok(SmtpTls::None),
            other => Err(format!("`{other}` is not a TLS mode; use starttls, tls or none")),
        }
    }
}

#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// `Weft <weft@example.com>` or a bare address.
    pub from: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub timeout: Duration,
}

// The password never reaches a log.
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("from", &self.from)
            .field("username", &self.username)
            .field("has_password", &self.password.is_some())
            .finish()
    }
}

pub(super) struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// A failed send: its text, and whether trying again could help.
#[derive(Debug)]
pub(super) struct SendError {
    pub message: String,
    pub permanent: bool,
}

fn config_error(e: impl std::fmt::Display) -> Error {
    Error::BadRequest(format!("smtp: {e}"))
}

impl Mailer {
    pub fn new(settings: &SmtpSettings) -> Result<Mailer> {
        let from: Mailbox =
            settings.from.parse().map_err(|e| config_error(format!("from `{}`: {e}", settings.from)))?;
        let tls = match settings.tls {
            SmtpTls::None => Tls::None,
            mode => {
                let params = TlsParameters::new(settings.host.clone()).map_err(config_error)?;
                if mode == SmtpTls::Tls { Tls::Wrapper(params) } else { Tls::Required(params) }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
            .port(settings.port)
            .tls(tls)
            .timeout(Some(settings.timeout));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Mailer { transport: builder.build(), from })
    }

    pub async fn send(&self, to: &str, subject: &str, body: String) -> std::result::Result<(), SendError> {
        let to: Mailbox =
            to.parse().map_err(|e| SendError { message: format!("recipient `{to}`: {e}"), permanent: true })?;
        let mail = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| SendError { message: e.to_string(), permanent: true })?;
        self.transport
            .send(mail)
            .await
            .map(|_| ())
            .map_err(|e| SendError { message: format!("smtp: {e}"), permanent: e.is_permanent() })
    }
}

/// Subject and body of the mail for one notice.
pub(super) fn single(notice: &Notice, link: &str) -> (String, String) {
    let subject = format!("[Weft] {} — {}", notice.title, notice.headline);
    let mut body = format!("{}\n{}\n", notice.title, notice.headline);
    if !notice.text.is_empty() {
        body.push_str(&format!("\n{}\n", notice.text));
    }
    body.push_str(&format!("\n{link}\n"));
    (subject, body)
}

/// Subject and body of a digest: every notice with its link, oldest first.
pub(super) fn digest(lang: Lang, notices: &[(Notice, String)]) -> (String, String) {
    let subject = match lang {
        Lang::En => format!("[Weft] {} new in your inbox", notices.len()),
        Lang::Zh => format!("[Weft] 收件箱有 {} 条新内容", notices.len()),
    };
    let mut body = String::new();
    for (notice, link) in notices {
        body.push_str(&format!("• {} — {}\n", notice.title, notice.headline));
        if !notice.text.is_empty() {
            body.push_str(&format!("  {}\n", notice.text));
        }
        body.push_str(&format!("  {link}\n\n"));
    }
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(title: &str) -> Notice {
        Notice::sample(title, "look at this")
    }

    #[test]
    fn mails_carry_title_text_and_link() {
        let (subject, body) = single(&notice("PO-1"), "https://w.test/r/po/1");
        assert_eq!(subject, "[Weft] PO-1 — Ann mentioned you");
        assert!(body.contains("look at this") && body.contains("https://w.test/r/po/1"), "{body}");
        let (subject, body) = digest(Lang::Zh, &[(notice("PO-1"), "l1".into()), (notice("PO-2"), "l2".into())]);
        assert_eq!(subject, "[Weft] 收件箱有 2 条新内容");
        assert!(body.find("PO-1").unwrap() < body.find("PO-2").unwrap(), "{body}");
    }

    #[test]
    fn bad_settings_are_refused_at_start() {
        let settings = SmtpSettings {
            host: "127.0.0.1".into(),
            port: 25,
            tls: SmtpTls::None,
            from: "not an address".into(),
            username: None,
            password: None,
            timeout: Duration::from_secs(1),
        };
        assert!(Mailer::new(&settings).is_err());
        assert_eq!("STARTTLS".parse::<SmtpTls>(), Ok(SmtpTls::StartTls));
        assert!("ssl".parse::<SmtpTls>().is_err());
    }
}
