//! Sending what is due, and the dead letters. The worker claims due rows (a lock that
//! expires, so a worker that died is taken over), groups a recipient's digest rows into one
//! mail, sends, and settles each row: sent; retried after the backoff; dead once the
//! attempts are spent or the receiver refused for good; dropped when the recipient may no
//! longer read it (checked again now, not only when queued) or the robot was removed.

use std::collections::BTreeMap;

use serde::Serialize;
use uuid::Uuid;
use weft_model::Principal;
use weft_store::format_utc;
use weft_store::kernel::delivery::{self as store, Outcome, StoredDelivery};
use weft_store::kernel::principals;

use super::Outbound;
use super::letter::Letter;
use super::notice::{Lang, Notice};
use super::robots;
use super::settings::RobotEvents;
use super::smtp::{self, SendError};
use crate::{Error, Result, Workspace, admin_audit};

/// What one `run_due` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryRun {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    pub dropped: usize,
}

impl DeliveryRun {
    pub fn total(&self) -> usize {
        self.sent + self.retried + self.dead + self.dropped
    }
}

/// A delivery that failed for good, as administrators list it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeadLetterView {
    pub id: Uuid,
    /// `email`, `robot` or `letter`.
    pub channel: String,
    /// The recipient principal, the robot, or the record a letter is about.
    pub target: Uuid,
    /// The recipient's or robot's name, or a letter's address.
    pub target_name: String,
    /// What it came from (`item:…`, `task:…`, `event:…`).
    pub source: String,
    pub title: String,
    pub headline: String,
    pub attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: String,
    /// When it died.
    pub updated_at: String,
}

impl Outbound {
    /// Sends up to `limit` due rows and settles them.
    pub async fn run_due(&self, ws: &Workspace, limit: u64) -> Result<DeliveryRun> {
        let now = self.now();
        let lock_until = now + self.config().claim;
        let claimed = ws
            .db
            .write(move |tx| {
                Box::pin(async move { Ok::<_, Error>(store::claim_due(tx, now, limit, lock_until).await?) })
            })
            .await?;
        // A recipient's digest rows go out as one mail; everything else one by one.
        let mut digests: BTreeMap<Uuid, Vec<StoredDelivery>> = BTreeMap::new();
        let mut singles = Vec::new();
        for row in claimed {
            if row.channel == "email" && row.mode == "digest" {
                digests.entry(row.target).or_default().push(row);
            } else {
                singles.push(vec![row]);
            }
        }
        let mut run = DeliveryRun::default();
        for group in singles.into_iter().chain(digests.into_values()) {
            let outcomes = match group[0].channel.as_str() {
                "email" => self.mail(ws, &group).await?,
                "letter" => vec![self.letter(&group[0]).await],
                _ => vec![self.card(ws, &group[0]).await?],
            };
            self.settle(ws, outcomes, &mut run).await?;
        }
        Ok(run)
    }

    /// The outcome of a failed attempt: retried after the backoff, or dead.
    fn failed(&self, row: &StoredDelivery, error: SendError) -> Outcome {
        let attempts = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
        if error.permanent || attempts >= self.config().retry.max_attempts {
            Outcome::Dead { error: error.message }
        } else {
            Outcome::Retry { at: self.now() + self.config().retry.delay(attempts), error: error.message }
        }
    }

    async fn settle(
        &self,
        ws: &Workspace,
        outcomes: Vec<(StoredDelivery, Outcome)>,
        run: &mut DeliveryRun,
    ) -> Result<()> {
        for (row, outcome) in &outcomes {
            match outcome {
                Outcome::Sent => run.sent += 1,
                Outcome::Retry { error, .. } => {
                    run.retried += 1;
                    tracing::info!(delivery = %row.id, channel = %row.channel, attempts = row.attempts + 1, %error, "delivery failed; will retry");
                }
                Outcome::Dead { error } => {
                    run.dead += 1;
                    tracing::warn!(delivery = %row.id, channel = %row.channel, attempts = row.attempts + 1, %error, "delivery failed for good: a dead letter");
                }
                Outcome::Dropped { .. } => run.dropped += 1,
            }
        }
        let at = self.now();
        ws.db
            .write(move |tx| {
                Box::pin(async move {
                    for (row, outcome) in &outcomes {
                        // Dropped rows were never attempted.
                        let attempts = row.attempts + i64::from(!matches!(outcome, Outcome::Dropped { .. }));
                        let settled = store::settle(tx, row.id, attempts, outcome, at).await?;
                        if settled && *outcome == Outcome::Sent && row.channel == "letter" {
                            // An invitation link is usable once: the queue keeps no copy.
                            match Letter::from_json(&row.payload) {
                                Some(letter) if letter.secret => {
                                    store::set_payload(tx, row.id, &letter.forgotten()).await?
                                }
                                _ => {}
                            }
                        }
                    }
                    Ok::<_, Error>(())
                })
            })
            .await
    }

    /// One mail for `group` (one row, or one recipient's digest rows).
    async fn mail(&self, ws: &Workspace, group: &[StoredDelivery]) -> Result<Vec<(StoredDelivery, Outcome)>> {
        let drop_all = |reason: &str| {
            Ok(group.iter().map(|r| (r.clone(), Outcome::Dropped { reason: reason.to_owned() })).collect())
        };
        let Some(mailer) = &self.inner.mailer else { return drop_all("e-mail is not configured") };
        let Some((stored, principal)) = ws.recipient(group[0].target).await? else {
            return drop_all("the recipient is no longer active");
        };
        let Some(address) = stored.email.clone().filter(|e| !e.trim().is_empty()) else {
            return drop_all("the recipient has no e-mail address");
        };
        let mut out = Vec::new();
        let mut sending = Vec::new();
        for row in group {
            match Notice::from_json(&row.payload) {
                Some(notice) if ws.may_receive(&principal, &notice).await? => {
                    let link = self.link(&notice.path);
                    sending.push((row.clone(), notice, link));
                }
                _ => out.push((row.clone(), Outcome::Dropped { reason: "no longer readable by the recipient".into() })),
            }
        }
        if sending.is_empty() {
            return Ok(out);
        }
        let (subject, body) = if sending.len() == 1 && sending[0].0.mode == "immediate" {
            smtp::single(&sending[0].1, &sending[0].2)
        } else {
            let notices: Vec<(Notice, String)> = sending.iter().map(|(_, n, l)| (n.clone(), l.clone())).collect();
            smtp::digest(Lang::of(stored.locale.as_deref()), &notices)
        };
        let result = mailer.send(&address, &subject, body).await;
        for (row, _, _) in sending {
            let outcome = match &result {
                Ok(()) => Outcome::Sent,
                Err(e) => self.failed(&row, SendError { message: e.message.clone(), permanent: e.permanent }),
            };
            out.push((row, outcome));
        }
        Ok(out)
    }

    /// One letter to an address outside the workspace.
    async fn letter(&self, row: &StoredDelivery) -> (StoredDelivery, Outcome) {
        let Some(mailer) = &self.inner.mailer else {
            return (row.clone(), Outcome::Dropped { reason: "e-mail is not configured".into() });
        };
        let Some(letter) = Letter::from_json(&row.payload) else {
            return (row.clone(), Outcome::Dead { error: "unreadable letter".into() });
        };
        let body = letter.text(letter.link_path.as_deref().map(|p| self.link(p)));
        let outcome = match mailer.send(&letter.to, &letter.subject, body).await {
            Ok(()) => Outcome::Sent,
            Err(e) => self.failed(row, e),
        };
        (row.clone(), outcome)
    }

    /// One robot card.
    async fn card(&self, ws: &Workspace, row: &StoredDelivery) -> Result<(StoredDelivery, Outcome)> {
        let Some(robot) = store::robot(&ws.db, row.target).await? else {
            return Ok((row.clone(), Outcome::Dropped { reason: "the robot was removed".into() }));
        };
        let Some(notice) = Notice::from_json(&row.payload) else {
            return Ok((row.clone(), Outcome::Dead { error: "unreadable notice".into() }));
        };
        let lang = Lang::of(Some(&RobotEvents::of(&robot).language));
        // Signatures carry the wall clock: the vendor compares it with its own.
        let now_ms = i64::try_from(weft_store::now().unix_timestamp_nanos() / 1_000_000).unwrap_or_default();
        let (url, body) = robots::request(&robot, lang, &notice, &self.link(&notice.path), now_ms);
        let outcome = match robots::post(&self.inner.http, &robot, &url, &body).await {
            Ok(()) => Outcome::Sent,
            Err(e) => self.failed(row, e),
        };
        Ok((row.clone(), outcome))
    }
}

impl Workspace {
    /// Deliveries that failed for good, most recent first (administrators).
    pub async fn dead_letters(&self, principal: &Principal, limit: u64) -> Result<Vec<DeadLetterView>> {
        self.require_admin(principal)?;
        let mut out = Vec::new();
        for row in store::with_status(&self.db, "dead", limit.clamp(1, 500)).await? {
            out.push(self.dead_letter_view(row).await?);
        }
        Ok(out)
    }

    async fn dead_letter_view(&self, row: StoredDelivery) -> Result<DeadLetterView> {
        let letter = Letter::from_json(&row.payload).filter(|_| row.channel == "letter");
        let target_name = match row.channel.as_str() {
            "email" => principals::by_id_now(&self.db, row.target).await?.map(|p| p.display_name),
            "letter" => letter.as_ref().map(|l| l.to.clone()),
            _ => store::robot(&self.db, row.target).await?.map(|r| r.name),
        }
        .unwrap_or_default();
        let notice = Notice::from_json(&row.payload);
        Ok(DeadLetterView {
            id: row.id,
            channel: row.channel,
            target: row.target,
            target_name,
            source: row.source,
            title: notice.as_ref().map(|n| n.title.clone()).or_else(|| letter.map(|l| l.subject)).unwrap_or_default(),
            headline: notice.map(|n| n.headline).unwrap_or_default(),
            attempts: row.attempts,
            last_error: row.last_error,
            created_at: format_utc(row.created_at),
            updated_at: format_utc(row.updated_at),
        })
    }

    /// Puts a dead letter back in the queue with fresh attempts (administrators; audited).
    /// Anything but a dead letter is `NotFound`.
    pub async fn replay_dead_letter(&self, principal: &Principal, id: Uuid) -> Result<()> {
        self.require_admin(principal)?;
        let who = principal.clone();
        let replayed = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    if !store::replay(tx, id, weft_store::now()).await? {
                        return Ok(false);
                    }
                    admin_audit::record(
                        tx,
                        &who,
                        "delivery.replay",
                        "delivery",
                        &id.to_string(),
                        serde_json::json!({}),
                    )
                    .await?;
                    Ok::<_, Error>(true)
                })
            })
            .await?;
        if replayed { Ok(()) } else { Err(Error::NotFound(format!("dead letter {id}"))) }
    }
}
