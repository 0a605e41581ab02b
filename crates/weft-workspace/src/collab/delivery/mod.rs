//! Delivery outward: what lands in inboxes (mentions, to-dos, updates of followed records,
//! messages) goes out by e-mail, and what happens on a channel or an object type goes to
//! the IM robots an administrator attached there (WeCom, DingTalk, Feishu, Slack).
//!
//! Two halves, joined by the durable `deliveries` queue:
//! - `Outbound` is an outbox consumer (`queue`): it reads `inbox.delivered` (the items the
//!   inbox fan-out just wrote), process steps that created user tasks, and the messages and
//!   record events robots listen to, re-checks every recipient as a reader (`audience`), and
//!   queues one row per (channel, target, source) with the notice already rendered, so a
//!   replayed event queues nothing twice;
//! - its worker (`worker`) sends due rows — one e-mail per immediate row, one per digest,
//!   one webhook call per robot row — and records each attempt: sent, retried later with
//!   exponential backoff, or dead after the last attempt (an administrator lists and replays
//!   dead letters). Attempts and next attempt times live in the database, so a restart
//!   loses nothing and a dead worker's claim expires.
//!
//! Letters (`letter`) are the third kind: mails an app writes to an address outside the
//! workspace (an applicant), queued about one of its records.
//!
//! Sending is at least once: a crash between a successful send and its bookkeeping sends it
//! again after the claim expires.

mod audience;
mod letter;
mod notice;
mod queue;
mod robots;
mod settings;
mod smtp;
mod worker;

use std::sync::Arc;
use std::time::Duration;

pub use letter::Letter;
pub use settings::{DeliverySettings, DeliverySettingsInput, NewRobot, RobotPatch, RobotView};
pub use smtp::{SmtpSettings, SmtpTls};
pub use worker::{DeadLetterView, DeliveryRun};

use crate::identity::Clock;
use crate::{Error, Result};

/// Inbox kinds a principal chooses e-mail delivery for.
pub const EMAIL_KINDS: &[&str] = &["mention", "update", "todo", "alert"];
/// Outbox events a robot may listen to.
pub const ROBOT_EVENTS: &[&str] = &["message.posted", "record.created", "record.transitioned"];
/// IM robots Weft can post to.
pub const ROBOT_KINDS: &[&str] = &["wecom", "dingtalk", "feishu", "slack"];

/// How failed sends are retried: `first_delay`, doubled after every failure up to
/// `max_delay`; after `max_attempts` attempts the row is a dead letter.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 8, first_delay: Duration::from_secs(30), max_delay: Duration::from_secs(3600) }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt (1-based).
    pub fn delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.first_delay.saturating_mul(1u32 << doublings).min(self.max_delay)
    }
}

/// What `weft serve` (or a test) configures delivery with.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// The web UI's address as recipients reach it (`https://weft.example.com`): links in
    /// mails and cards point there.
    pub public_url: String,
    /// `None`: no e-mail is queued (robots still are).
    pub smtp: Option<SmtpSettings>,
    pub retry: RetryPolicy,
    /// Connect plus response time allowed to a robot's webhook.
    pub http_timeout: Duration,
    /// How long a claimed row stays with its worker before another may take it over.
    pub claim: Duration,
    /// Time for queueing and attempts (tests move it forward instead of sleeping).
    pub clock: Clock,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            public_url: "http://127.0.0.1:8080".into(),
            smtp: None,
            retry: RetryPolicy::default(),
            http_timeout: Duration::from_secs(10),
            claim: Duration::from_secs(120),
            clock: Clock::default(),
        }
    }
}

/// The delivery consumer and worker. Run it with `Workspace::spawn_consumer` (it is the
/// `delivery` consumer) and call `run_due` periodically, as `weft serve` does.
#[derive(Clone)]
pub struct Outbound {
    inner: Arc<Inner>,
}

struct Inner {
    config: DeliveryConfig,
    mailer: Option<smtp::Mailer>,
    http: reqwest_outbound::Client,
}

impl Outbound {
    /// Builds the SMTP transport and the HTTP client; a bad `from` address or TLS setup is
    /// refused here, at start, rather than at the first send.
    pub fn new(config: DeliveryConfig) -> Result<Outbound> {
        let mailer = config.smtp.as_ref().map(smtp::Mailer::new).transpose()?;
        // No redirects at all: a webhook that redirects could send the card (and its
        // signature) to another host.
        let http = reqwest_outbound::Client::builder()
            .redirect(reqwest_outbound::redirect::Policy::none())
            .connect_timeout(config.http_timeout)
            .timeout(config.http_timeout)
            .user_agent(concat!("Weft/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Internal(format!("the HTTP client could not be built: {e}")))?;
        Ok(Outbound { inner: Arc::new(Inner { config, mailer, http }) })
    }

    fn config(&self) -> &DeliveryConfig {
        &self.inner.config
    }

    fn now(&self) -> time::OffsetDateTime {
        self.inner.config.clock.now()
    }

    /// `public_url` + a path of the web UI.
    fn link(&self, path: &str) -> String {
        format!("{}{path}", self.inner.config.public_url.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy =
            RetryPolicy { max_attempts: 5, first_delay: Duration::from_secs(10), max_delay: Duration::from_secs(60) };
        let delays: Vec<u64> = (1..=5).map(|n| policy.delay(n).as_secs()).collect();
        assert_eq!(delays, [10, 20, 40, 60, 60]);
        assert_eq!(policy.delay(u32::MAX), Duration::from_secs(60), "no overflow");
    }
}
