//! Business calendars for timers (`weft:calendar="cn-mainland"` on a timer definition):
//! stored as `weft_calendar::CalendarDef` JSON, put and read by admins, and handed to the
//! engine as its `WorkingTime` so delays count working hours only.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use time::OffsetDateTime;
use weft_calendar::{BusinessCalendar, CalendarDef};
use weft_model::Principal;
use weft_process::{IsoDuration, WorkingTime};
use weft_store::kernel::processes as store;

use crate::{Error, Result, Workspace, admin_audit};

/// The calendars by name, loaded on first use and replaced on every put.
#[derive(Debug, Default)]
pub(super) struct CalendarCache(RwLock<Option<Arc<Calendars>>>);

/// A snapshot the engine counts working time with.
#[derive(Debug, Default)]
pub(super) struct Calendars(HashMap<String, BusinessCalendar>);

impl Calendars {
    pub(super) fn get(&self, name: &str) -> Option<&BusinessCalendar> {
        self.0.get(name)
    }
}

impl WorkingTime for Calendars {
    /// A timer naming an unknown calendar cannot be computed: the engine raises an incident
    /// rather than silently counting plain time.
    fn add(&self, calendar: Option<&str>, from: OffsetDateTime, duration: IsoDuration) -> Option<OffsetDateTime> {
        let Some(name) = calendar else { return duration.after(from) };
        let calendar = self.0.get(name)?;
        calendar.add_working(from, &to_calendar_duration(duration)?).ok()
    }
}

/// The engine's duration (months, days, milliseconds) as the calendar crate's.
fn to_calendar_duration(d: IsoDuration) -> Option<weft_calendar::IsoDuration> {
    let seconds = d.millis / 1000;
    let millis = d.millis % 1000;
    let text = format!("P{}M{}DT{}.{:03}S", d.months, d.days, seconds, millis);
    weft_calendar::IsoDuration::parse(&text).ok()
}

impl Workspace {
    pub(super) async fn working_time(&self) -> Result<Arc<Calendars>> {
        if let Some(loaded) = self.processes.calendars.0.read().ok().and_then(|c| c.clone()) {
            return Ok(loaded);
        }
        let mut map = HashMap::new();
        for (name, text) in store::calendars(&self.db).await? {
            let def: CalendarDef = serde_json::from_str(&text)
                .map_err(|e| Error::Internal(format!("stored calendar `{name}` is unreadable: {e}")))?;
            let calendar = BusinessCalendar::new(def)
                .map_err(|e| Error::Internal(format!("stored calendar `{name}` is invalid: {e}")))?;
            map.insert(name, calendar);
        }
        let loaded = Arc::new(Calendars(map));
        if let Ok(mut cache) = self.processes.calendars.0.write() {
            *cache = Some(loaded.clone());
        }
        Ok(loaded)
    }

    /// Creates or replaces a business calendar (admin); every problem is listed.
    pub async fn put_business_calendar(&self, principal: &Principal, def: CalendarDef) -> Result<CalendarDef> {
        self.require_admin(principal)?;
        let name = def.name.clone();
        BusinessCalendar::new(def.clone()).map_err(|e| Error::BadRequest(format!("calendar `{name}`: {e}")))?;
        let text = serde_json::to_string(&def).map_err(|e| Error::Internal(e.to_string()))?;
        let principal = principal.clone();
        let at = self.process_now();
        let stored_name = name.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    store::put_calendar(tx, &stored_name, &text, &principal.actor(), at).await?;
                    let detail = serde_json::json!({ "name": stored_name });
                    admin_audit::record(tx, &principal, "calendar.put", "business_calendar", &stored_name, detail)
                        .await?;
                    Ok::<(), Error>(())
                })
            })
            .await?;
        if let Ok(mut cache) = self.processes.calendars.0.write() {
            *cache = None;
        }
        Ok(def)
    }

    /// Every calendar's declaration, by name (staff).
    pub async fn business_calendars(&self, principal: &Principal) -> Result<Vec<CalendarDef>> {
        self.require_staff(principal)?;
        let mut out: Vec<CalendarDef> = self.working_time().await?.0.values().map(|c| c.def().clone()).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Removes a calendar (admin). Timers naming it afterwards raise incidents.
    pub async fn delete_business_calendar(&self, principal: &Principal, name: &str) -> Result<()> {
        self.require_admin(principal)?;
        let principal = principal.clone();
        let name = name.to_owned();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if !store::delete_calendar(tx, &name).await? {
                        return Err(Error::NotFound(format!("business calendar `{name}`")));
                    }
                    let detail = serde_json::json!({ "name": name });
                    admin_audit::record(tx, &principal, "calendar.delete", "business_calendar", &name, detail).await?;
                    Ok::<(), Error>(())
                })
            })
            .await?;
        if let Ok(mut cache) = self.processes.calendars.0.write() {
            *cache = None;
        }
        Ok(())
    }

    /// One calendar's declaration (staff).
    pub async fn business_calendar(&self, principal: &Principal, name: &str) -> Result<CalendarDef> {
        self.require_staff(principal)?;
        self.working_time()
            .await?
            .0
            .get(name)
            .map(|c| c.def().clone())
            .ok_or_else(|| Error::NotFound(format!("business calendar `{name}`")))
    }
}
