//! Messages published to processes (a supplier's reply, a payment notice): delivered to
//! the oldest instance subscribed with the same name and correlation key, or buffered until
//! a subscription appears (then a `weft:buffered` job delivers it, marking it consumed in
//! the same transaction as the step, so it is delivered once) or it expires.

use serde_json::{Map, Value as Json, json};
use time::Duration;
use uuid::Uuid;
use weft_model::Principal;
use weft_process::Event;
use weft_store::kernel::processes as store;

use super::step::Cause;
use crate::{Error, Result, Workspace};

/// How long a message nobody waits for is kept by default.
pub const DEFAULT_TTL: Duration = Duration::days(7);

/// Where a published message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Delivered(Uuid),
    /// Nothing waited for it, and it started this instance (a message start event).
    Started(Uuid),
    /// Kept until a subscription appears or it expires.
    Buffered(Uuid),
}

impl Workspace {
    /// Publishes `name` with `correlation` (members, services and the system).
    pub async fn publish_process_message(
        &self,
        principal: &Principal,
        name: &str,
        correlation: Option<&str>,
        payload: Map<String, Json>,
    ) -> Result<Delivery> {
        self.require_staff(principal)?;
        let origin = Uuid::now_v7().to_string();
        self.deliver_message(principal, name, correlation, payload, DEFAULT_TTL, &origin).await
    }

    /// To the oldest instance waiting for it; else it starts the process with a message
    /// start event of that name; else it waits in the buffer. `origin` names the message
    /// (a publish job's id), so a replay starts nothing twice.
    pub(super) async fn deliver_message(
        &self,
        principal: &Principal,
        name: &str,
        correlation: Option<&str>,
        payload: Map<String, Json>,
        ttl: Duration,
        origin: &str,
    ) -> Result<Delivery> {
        for instance in store::subscribers(&self.db, name, correlation).await? {
            let event = Event::MessageReceived {
                name: name.to_owned(),
                correlation: correlation.map(str::to_owned),
                payload: payload.clone(),
            };
            let cause = Cause::new(principal.actor(), "message.receive", json!({ "message": name }));
            if self.apply_event(instance, event, cause).await?.is_ok() {
                return Ok(Delivery::Delivered(instance));
            }
        }
        if let Some(started) = self.start_by_message(principal, name, &payload, origin).await? {
            return Ok(Delivery::Started(started));
        }
        let id = Uuid::now_v7();
        let (name, correlation) = (name.to_owned(), correlation.map(str::to_owned));
        let body = Json::Object(payload).to_string();
        let at = self.process_now();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    store::buffer_message(tx, id, &name, correlation.as_deref(), &body, at, at + ttl).await?;
                    Ok::<(), Error>(())
                })
            })
            .await?;
        Ok(Delivery::Buffered(id))
    }
}
