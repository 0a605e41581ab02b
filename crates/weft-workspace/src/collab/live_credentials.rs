//! Live connections prove their credential again while they stay open (a session ended or
//! a token revoked closes them; changed roles apply). Connections opened with the same
//! credential — a person's tabs, an integration's workers — share one check per period
//! instead of each asking the database: a task per credential proves it and tells every
//! connection holding it, and stops when the last one goes or the proof fails.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use weft_model::Principal;

use crate::{Error, Workspace};

/// How a live connection proved who it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LiveCredential {
    /// A browser session's secret (the session cookie).
    Session(String),
    /// An API token.
    Token(String),
}

/// The latest check of a credential: its principal as it is now, or why it no longer holds.
pub type Proof = std::result::Result<Principal, String>;

/// The running checks, one per credential.
#[derive(Debug, Default)]
pub(crate) struct CredentialChecks {
    running: Mutex<HashMap<LiveCredential, watch::Sender<Option<Proof>>>>,
}

impl CredentialChecks {
    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<LiveCredential, watch::Sender<Option<Proof>>>> {
        // A plain map; nothing panics while holding it.
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Workspace {
    /// The checks of `credential`, made every `period` (the first at a random point in its
    /// second half, so credentials opened together spread their checks) and shared with
    /// every connection watching the same credential. The value is `None` until the first
    /// check; a failed proof is the last value sent.
    pub fn watch_credential(&self, credential: LiveCredential, period: Duration) -> watch::Receiver<Option<Proof>> {
        let mut running = self.live_credentials.running();
        if let Some(sender) = running.get(&credential) {
            return sender.subscribe();
        }
        let (sender, receiver) = watch::channel(None);
        running.insert(credential.clone(), sender.clone());
        tokio::spawn(keep_proving(self.clone(), credential, sender, period));
        receiver
    }

    /// Proves `credential` now: `None` when the answer is not known (the database briefly
    /// away is no reason to drop a signed-in client).
    async fn prove(&self, credential: &LiveCredential) -> Option<Proof> {
        let fresh = match credential {
            LiveCredential::Session(secret) => self.check_session(secret).await.map(|s| s.principal),
            LiveCredential::Token(token) => self.authenticate_token(token).await,
        };
        match fresh {
            Ok(principal) => Some(Ok(principal)),
            Err(Error::Unauthenticated(reason)) => Some(Err(reason)),
            Err(e) => {
                tracing::warn!(error = %e, "a live credential could not be checked; it stays as it was");
                None
            }
        }
    }
}

/// Ticks every `period`, the first time at a random point in its second half: connections
/// opened together (clients reconnecting after a restart, a burst of sign-ins) then spread
/// their pings and credential checks instead of making them all at once.
pub fn spread_interval(period: Duration) -> tokio::time::Interval {
    let spread = (uuid::Uuid::new_v4().as_u128() % 1_000) as u32;
    let first = period / 2 + period / 2 * spread / 1_000;
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + first, period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval
}

async fn keep_proving(
    workspace: Workspace,
    credential: LiveCredential,
    sender: watch::Sender<Option<Proof>>,
    period: Duration,
) {
    let mut ticks = spread_interval(period);
    loop {
        ticks.tick().await;
        if sender.is_closed() {
            // Checked again under the lock: a connection may have just subscribed.
            let mut running = workspace.live_credentials.running();
            if sender.is_closed() {
                running.remove(&credential);
                return;
            }
        }
        match workspace.prove(&credential).await {
            Some(Ok(principal)) => {
                sender.send_replace(Some(Ok(principal)));
            }
            Some(Err(reason)) => {
                // The last word: connections holding it close; a new one cannot sign in
                // with it, and would start a fresh check if it somehow did.
                workspace.live_credentials.running().remove(&credential);
                sender.send_replace(Some(Err(reason)));
                return;
            }
            None => {}
        }
    }
}
