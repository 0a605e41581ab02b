//! Timer start events: a process whose start event carries a timer (`timeDate`,
//! `timeDuration` after deployment, `timeCycle`) starts an instance at each occurrence.
//! Deployment stores one `process_start_timers` row per timer start event of the newest
//! version (cancelling the older version's); the job worker starts an instance when a row is
//! due, then moves it to the next occurrence. The instance id derives from the row and the
//! occurrence, so a worker dying in between starts it once: the replay finds the instance
//! and only moves the row on.

use serde_json::json;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use weft_calendar::TimerSpec;
use weft_process::Deployment;
use weft_process::model::{ElementKind, StartTrigger, TimerKind};
use weft_store::kernel::processes as store;

use crate::{Error, Result, Workspace};

/// A timer start event of a definition being deployed, and its first occurrence.
pub(super) struct TimerStart {
    pub process_key: String,
    pub element: String,
    pub spec: TimerSpec,
    pub calendar: Option<String>,
    pub first: OffsetDateTime,
}

fn refused(element: &str, message: String) -> Error {
    Error::Validation(vec![weft_model::schema::FieldError {
        pointer: format!("/{element}"),
        code: weft_model::schema::FieldErrorCode::InvalidFormat,
        reason: format!("{element}: invalid_timer: {message}"),
    }])
}

impl Workspace {
    /// The timer start events of process `key`: their timers must be literal ISO 8601 (no
    /// instance exists yet to evaluate an expression in).
    pub(super) async fn timer_starts(
        &self,
        deployment: &Deployment,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<TimerStart>> {
        let mut out = Vec::new();
        for element in deployment.start_events(key) {
            let ElementKind::StartEvent(StartTrigger::Timer(timer)) = &element.kind else { continue };
            let Some(expression) = deployment.definitions().expression(timer.value) else { continue };
            let text = expression.text.trim();
            if expression.feel || text.starts_with('=') {
                return Err(refused(&element.id, "a timer start event needs a literal ISO 8601 timer".into()));
            }
            let spec = match timer.kind {
                TimerKind::Date => TimerSpec::parse_date(text),
                TimerKind::Duration => TimerSpec::parse_duration(text),
                TimerKind::Cycle => TimerSpec::parse_cycle(text),
            }
            .map_err(|e| refused(&element.id, e.to_string()))?;
            let first = self
                .next_occurrence(&spec, timer.calendar.as_deref(), now, 0)
                .await
                .map_err(|e| refused(&element.id, e.to_string()))?
                .ok_or_else(|| refused(&element.id, "the timer never fires".into()))?;
            out.push(TimerStart {
                process_key: key.to_owned(),
                element: element.id.clone(),
                spec,
                calendar: timer.calendar.clone(),
                first,
            });
        }
        Ok(out)
    }

    async fn next_occurrence(
        &self,
        spec: &TimerSpec,
        calendar: Option<&str>,
        now: OffsetDateTime,
        fired: u32,
    ) -> Result<Option<OffsetDateTime>> {
        let next = match calendar {
            None => spec.next_after(now, fired),
            Some(name) => {
                let calendars = self.working_time().await?;
                let calendar =
                    calendars.get(name).ok_or_else(|| Error::BadRequest(format!("no business calendar `{name}`")))?;
                spec.next_after_in(calendar, now, fired)
            }
        };
        next.map_err(|e| Error::BadRequest(e.to_string()))
    }

    /// Starts the instances of the timer start events due now (at most `limit`); returns how
    /// many started.
    pub(super) async fn fire_start_timers(&self, limit: u64) -> Result<usize> {
        let now = self.process_now();
        let mut started = 0;
        for timer in store::due_start_timers(&self.db, now, limit).await? {
            let digest = Sha256::digest(format!("start timer {} occurrence {}", timer.id, timer.fired).as_bytes());
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&digest[..16]);
            let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
            let fired = u32::try_from(timer.fired + 1).unwrap_or(u32::MAX);
            let outcome = match TimerSpec::parse(&timer.spec) {
                Ok(spec) => match self.start_on_timer(&timer, id).await {
                    Ok(()) => self.next_occurrence(&spec, timer.calendar.as_deref(), now, fired).await,
                    Err(e) => Err(e),
                },
                Err(e) => Err(Error::Internal(format!("stored timer `{}` is unreadable: {e}", timer.spec))),
            };
            let (row, fired_before) = (timer.id.clone(), timer.fired);
            match outcome {
                Ok(next) => {
                    self.db
                        .write(move |tx| {
                            Box::pin(async move {
                                Ok::<_, Error>(store::advance_start_timer(tx, &row, fired_before, next, None).await?)
                            })
                        })
                        .await?;
                    started += 1;
                }
                Err(e) => {
                    tracing::warn!(timer = %timer.id, error = %e, "a timer start event could not start its process");
                    let (message, due) = (e.to_string(), now + Duration::minutes(5));
                    self.db
                        .write(move |tx| {
                            Box::pin(
                                async move { Ok::<_, Error>(store::delay_start_timer(tx, &row, due, &message).await?) },
                            )
                        })
                        .await?;
                }
            }
        }
        Ok(started)
    }

    async fn start_on_timer(&self, timer: &store::StoredStartTimer, id: Uuid) -> Result<()> {
        let detail = json!({ "timer": timer.id, "occurrence": timer.fired });
        tracing::debug!(%detail, "timer start event");
        self.start_timer_instance(&timer.process_key, id, timer.element.clone()).await?;
        Ok(())
    }
}
