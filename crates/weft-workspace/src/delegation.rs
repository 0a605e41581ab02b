//! Out-of-office delegation: a member hands their tasks and approval rights to another
//! active member for an inclusive range of dates, with a reason. While it is in force the
//! delegate may act *on behalf of* the delegator (`act_on_behalf`), and history records
//! both ("X for Y"); processes ask `delegates_of` who may act for an absent approver.
//!
//! Rules: the delegator themself or an administrator creates and revokes a delegation;
//! both people are members, the delegate active; nobody delegates to themself; a range
//! may start in the past but not end there; the same person cannot hand the same days to
//! two different delegates (overlapping delegations to the *same* delegate are allowed,
//! e.g. to extend a stay). Dates are UTC calendar days for now (the workspace time zone
//! is not configured yet). Every change is audited and emits a `delegation.changed` event.

use serde::Serialize;
use serde_json::json;
use time::Date;
use time::macros::format_description;
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::{FieldError, FieldErrorCode};
use weft_store::kernel::delegations::{self, StoredDelegation};
use weft_store::kernel::{org, outbox};
use weft_store::{Tx, format_utc};

use crate::{Error, Result, Workspace, admin_audit};

/// Longest reason, in characters.
pub const MAX_REASON: usize = 500;

/// A delegation to create. `from` absent: the principal creating it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewDelegation {
    pub from: Option<Uuid>,
    pub to: Uuid,
    /// `YYYY-MM-DD`, inclusive.
    pub starts_on: String,
    /// `YYYY-MM-DD`, inclusive.
    pub ends_on: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DelegationStatus {
    /// Starts later.
    Scheduled,
    /// In force today.
    Active,
    /// Its last day has passed.
    Ended,
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DelegationView {
    pub id: Uuid,
    /// Who is away.
    pub from: Uuid,
    /// Who acts for them.
    pub to: Uuid,
    pub starts_on: String,
    pub ends_on: String,
    pub reason: String,
    pub status: DelegationStatus,
    pub created_at: String,
    pub created_by: String,
    pub revoked_at: Option<String>,
}

/// A principal's delegations, both ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MyDelegations {
    /// Delegations this principal gave (they are away).
    pub given: Vec<DelegationView>,
    /// Delegations this principal received (they act for someone).
    pub received: Vec<DelegationView>,
}

const DAY: &[time::format_description::BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// `YYYY-MM-DD` as a date, or a field error at `pointer`.
pub fn parse_day(pointer: &str, text: &str) -> std::result::Result<Date, FieldError> {
    let text = text.trim();
    if text.len() != 10 {
        return Err(FieldError {
            pointer: pointer.into(),
            code: FieldErrorCode::InvalidFormat,
            reason: format!("`{text}` is not a date; write YYYY-MM-DD"),
        });
    }
    Date::parse(text, DAY).map_err(|_| FieldError {
        pointer: pointer.into(),
        code: FieldErrorCode::InvalidFormat,
        reason: format!("`{text}` is not a date; write YYYY-MM-DD"),
    })
}

pub fn format_day(day: Date) -> String {
    day.format(DAY).unwrap_or_default()
}

/// Today's date (UTC).
pub fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// Does an (unrevoked) range cover `day`? Dates in `YYYY-MM-DD` compare as text.
pub fn covers(starts_on: &str, ends_on: &str, day: &str) -> bool {
    starts_on <= day && day <= ends_on
}

fn status(d: &StoredDelegation, today: &str) -> DelegationStatus {
    if d.revoked_at.is_some() {
        DelegationStatus::Revoked
    } else if today < d.starts_on.as_str() {
        DelegationStatus::Scheduled
    } else if today > d.ends_on.as_str() {
        DelegationStatus::Ended
    } else {
        DelegationStatus::Active
    }
}

fn view(d: StoredDelegation, today: &str) -> DelegationView {
    DelegationView {
        status: status(&d, today),
        id: d.id,
        from: d.from,
        to: d.to,
        starts_on: d.starts_on,
        ends_on: d.ends_on,
        reason: d.reason,
        created_at: format_utc(d.created_at),
        created_by: d.created_by,
        revoked_at: d.revoked_at.map(format_utc),
    }
}

/// The pure checks of a new delegation: dates, order, not into the past, reason, not to
/// oneself. Returns the normalised range.
fn check_new(from: Uuid, input: &NewDelegation, today: Date) -> Result<(String, String, String)> {
    let mut errors = Vec::new();
    let starts = parse_day("/starts_on", &input.starts_on).map_err(|e| errors.push(e)).ok();
    let ends = parse_day("/ends_on", &input.ends_on).map_err(|e| errors.push(e)).ok();
    if let (Some(starts), Some(ends)) = (starts, ends)
        && ends < starts
    {
        errors.push(FieldError {
            pointer: "/ends_on".into(),
            code: FieldErrorCode::OutOfRange,
            reason: format!("ends before it starts ({})", format_day(starts)),
        });
    }
    if let Some(ends) = ends
        && ends < today
    {
        errors.push(FieldError {
            pointer: "/ends_on".into(),
            code: FieldErrorCode::OutOfRange,
            reason: format!("{} is in the past (today is {})", format_day(ends), format_day(today)),
        });
    }
    let reason = input.reason.trim().to_owned();
    if reason.is_empty() {
        errors.push(FieldError {
            pointer: "/reason".into(),
            code: FieldErrorCode::Required,
            reason: "say why (e.g. annual leave)".into(),
        });
    } else if reason.chars().count() > MAX_REASON {
        errors.push(FieldError {
            pointer: "/reason".into(),
            code: FieldErrorCode::TooLong,
            reason: format!("at most {MAX_REASON} characters"),
        });
    }
    if input.to == from {
        errors.push(FieldError {
            pointer: "/to".into(),
            code: FieldErrorCode::InvalidFormat,
            reason: "a delegation goes to someone else, not to the person who is away".into(),
        });
    }
    match (starts, ends) {
        (Some(starts), Some(ends)) if errors.is_empty() => Ok((format_day(starts), format_day(ends), reason)),
        _ => {
            errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
            Err(Error::Validation(errors))
        }
    }
}

async fn check_person(tx: &mut Tx, pointer: &str, id: Uuid, must_be_active: bool) -> Result<()> {
    let problem = match org::principal_info(tx, id).await? {
        None => format!("no principal {id}"),
        Some(p) if !p.is_member() => {
            format!("`{}` is a {} account; delegation is between members", p.display_name, p.kind)
        }
        Some(p) if p.status == "disabled" || (must_be_active && !p.is_active()) => {
            format!("`{}` is {}; delegation needs an active member", p.display_name, p.status)
        }
        Some(_) => return Ok(()),
    };
    Err(Error::Validation(vec![FieldError {
        pointer: pointer.into(),
        code: FieldErrorCode::UnknownReference,
        reason: problem,
    }]))
}

async fn record_change(
    tx: &mut Tx,
    principal: &Principal,
    action: &str,
    d: &StoredDelegation,
    detail: serde_json::Value,
) -> Result<()> {
    admin_audit::record(tx, principal, action, "delegation", &d.id.to_string(), detail.clone()).await?;
    outbox::append(
        tx,
        &outbox::NewEvent {
            kind: "delegation.changed".into(),
            type_name: "delegation".into(),
            record_id: Some(d.id),
            actor: principal.actor(),
            payload: json!({ "action": action, "from": d.from, "to": d.to, "starts_on": d.starts_on,
                             "ends_on": d.ends_on, "detail": detail }),
        },
        weft_store::now(),
    )
    .await?;
    Ok(())
}

impl Workspace {
    /// Creates a delegation from `input.from` (default: the principal) to `input.to`.
    pub async fn create_delegation(&self, principal: &Principal, input: NewDelegation) -> Result<DelegationView> {
        if principal.party().is_some() {
            return Err(Error::Forbidden("guests cannot delegate".into()));
        }
        let from = input.from.unwrap_or(principal.id);
        if from != principal.id && !self.is_admin(principal) {
            return Err(Error::Forbidden("only an administrator delegates for someone else".into()));
        }
        let today = today();
        let (starts_on, ends_on, reason) = check_new(from, &input, today)?;
        let to = input.to;
        let actor = principal.clone();
        let id = Uuid::now_v7();
        let stored = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    org::lock(tx).await?;
                    let mut errors = Vec::new();
                    for result in
                        [check_person(tx, "/from", from, false).await, check_person(tx, "/to", to, true).await]
                    {
                        match result {
                            Err(Error::Validation(found)) => errors.extend(found),
                            other => other?,
                        }
                    }
                    if !errors.is_empty() {
                        return Err(Error::Validation(errors));
                    }
                    let clash: Vec<StoredDelegation> = delegations::overlapping(tx, from, &starts_on, &ends_on)
                        .await?
                        .into_iter()
                        .filter(|d| d.to != to)
                        .collect();
                    if let Some(other) = clash.first() {
                        return Err(Error::Conflict(format!(
                            "{from} already delegates {} to {} to {} (delegation {}); revoke it or choose other dates",
                            other.starts_on, other.ends_on, other.to, other.id
                        )));
                    }
                    let stored = StoredDelegation {
                        id,
                        from,
                        to,
                        starts_on,
                        ends_on,
                        reason,
                        created_at: weft_store::now(),
                        created_by: actor.actor(),
                        revoked_at: None,
                    };
                    delegations::insert(tx, &stored).await?;
                    let detail = json!({ "from": from, "to": to, "starts_on": stored.starts_on,
                                         "ends_on": stored.ends_on, "reason": stored.reason });
                    record_change(tx, &actor, "delegation.create", &stored, detail).await?;
                    Ok::<_, Error>(stored)
                })
            })
            .await?;
        Ok(view(stored, &format_day(today)))
    }

    /// Revokes a delegation (the delegator or an administrator). Revoking twice is a
    /// conflict; someone else's delegation is not found for a non-administrator.
    pub async fn revoke_delegation(&self, principal: &Principal, id: Uuid) -> Result<DelegationView> {
        let is_admin = self.is_admin(principal);
        let actor = principal.clone();
        let stored = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    org::lock(tx).await?;
                    let Some(mut stored) = delegations::get(tx, id).await? else {
                        return Err(Error::NotFound(format!("delegation {id}")));
                    };
                    if !is_admin && stored.from != actor.id {
                        if stored.to == actor.id {
                            return Err(Error::Forbidden(
                                "only the person who delegated (or an administrator) revokes a delegation".into(),
                            ));
                        }
                        return Err(Error::NotFound(format!("delegation {id}")));
                    }
                    let at = weft_store::now();
                    if !delegations::revoke(tx, id, at).await? {
                        return Err(Error::Conflict(format!("delegation {id} is revoked already")));
                    }
                    stored.revoked_at = Some(at);
                    record_change(
                        tx,
                        &actor,
                        "delegation.revoke",
                        &stored,
                        json!({ "from": stored.from, "to": stored.to }),
                    )
                    .await?;
                    Ok::<_, Error>(stored)
                })
            })
            .await?;
        Ok(view(stored, &format_day(today())))
    }

    /// The delegations `principal` gave and received, oldest first.
    pub async fn my_delegations(&self, principal: &Principal) -> Result<MyDelegations> {
        let today = format_day(today());
        let (mut given, mut received) = (Vec::new(), Vec::new());
        for d in delegations::of_principal(&self.db, principal.id).await? {
            if d.from == principal.id {
                given.push(view(d, &today));
            } else {
                received.push(view(d, &today));
            }
        }
        Ok(MyDelegations { given, received })
    }

    /// Every delegation (administrators); `active_on` (`YYYY-MM-DD`) keeps those in force
    /// that day.
    pub async fn all_delegations(&self, principal: &Principal, active_on: Option<&str>) -> Result<Vec<DelegationView>> {
        self.require_admin(principal)?;
        let day = match active_on {
            Some(text) => Some(format_day(parse_day("/active_on", text).map_err(|e| Error::Validation(vec![e]))?)),
            None => None,
        };
        let today = format_day(today());
        Ok(delegations::all(&self.db, day.as_deref()).await?.into_iter().map(|d| view(d, &today)).collect())
    }

    /// `principal` acting for `delegator`: allowed while a delegation from `delegator` to
    /// `principal` is in force today. The returned principal carries `on_behalf_of`, which
    /// history and audit record and the policy honours.
    pub async fn act_on_behalf(&self, principal: &Principal, delegator: Uuid) -> Result<Principal> {
        self.act_on_behalf_on(principal, delegator, today()).await
    }

    /// `act_on_behalf` as of `day` (engines resuming work, tests).
    pub async fn act_on_behalf_on(&self, principal: &Principal, delegator: Uuid, day: Date) -> Result<Principal> {
        if principal.on_behalf_of.is_some() {
            return Err(Error::Forbidden("a delegate cannot pass a delegation on".into()));
        }
        if principal.party().is_some() || principal.is_system() {
            return Err(Error::Forbidden(format!("no active delegation from {delegator}")));
        }
        let found = delegations::in_force_from(&self.db, delegator, Some(principal.id), &format_day(day)).await?;
        if found.is_empty() {
            return Err(Error::Forbidden(format!("no active delegation from {delegator} on {}", format_day(day))));
        }
        let mut acting = principal.clone();
        acting.on_behalf_of = Some(delegator);
        Ok(acting)
    }

    /// Whom `principal` stands in for on `day` (the delegators), for their inbox.
    pub async fn delegators_of(&self, principal: Uuid, day: Date) -> Result<Vec<Uuid>> {
        let mut out: Vec<Uuid> = delegations::in_force_to(&self.db, principal, &format_day(day))
            .await?
            .into_iter()
            .map(|d| d.from)
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Who may act for `principal` on `day` (their delegates then), for routing tasks of
    /// someone away.
    pub async fn delegates_of(&self, principal: Uuid, day: Date) -> Result<Vec<Uuid>> {
        let mut out: Vec<Uuid> = delegations::in_force_from(&self.db, principal, None, &format_day(day))
            .await?
            .into_iter()
            .map(|d| d.to)
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn input(to: u128, starts: &str, ends: &str, reason: &str) -> NewDelegation {
        NewDelegation {
            from: None,
            to: Uuid::from_u128(to),
            starts_on: starts.into(),
            ends_on: ends.into(),
            reason: reason.into(),
        }
    }

    fn pointers(err: Error) -> Vec<(String, FieldErrorCode)> {
        match err {
            Error::Validation(errors) => errors.into_iter().map(|e| (e.pointer, e.code)).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn dates_are_iso_days() {
        assert_eq!(parse_day("/d", "2026-02-28").unwrap(), date!(2026 - 02 - 28));
        for bad in ["2026-02-30", "2026-2-3", "28.02.2026", "", "2026-02-28T00:00:00Z", "2026-13-01"] {
            let e = parse_day("/d", bad).unwrap_err();
            assert_eq!((e.pointer.as_str(), e.code), ("/d", FieldErrorCode::InvalidFormat), "{bad}");
        }
        assert_eq!(format_day(date!(2026 - 03 - 01)), "2026-03-01");
    }

    #[test]
    fn a_new_delegation_is_checked_as_a_whole() {
        let me = Uuid::from_u128(1);
        let today = date!(2026 - 06 - 10);
        let ok = check_new(me, &input(2, "2026-06-01", " 2026-06-12 ", " leave "), today).unwrap();
        assert_eq!(ok, ("2026-06-01".into(), "2026-06-12".into(), "leave".into()), "may start in the past");
        let one_day = check_new(me, &input(2, "2026-06-10", "2026-06-10", "x"), today).unwrap();
        assert_eq!(one_day.0, one_day.1);

        let err = check_new(me, &input(1, "2026-06-20", "2026-06-19", " "), today).unwrap_err();
        assert_eq!(
            pointers(err),
            [
                ("/ends_on".into(), FieldErrorCode::OutOfRange),
                ("/reason".into(), FieldErrorCode::Required),
                ("/to".into(), FieldErrorCode::InvalidFormat),
            ]
        );
        let err = check_new(me, &input(2, "2026-06-01", "2026-06-09", "x"), today).unwrap_err();
        assert_eq!(pointers(err), [("/ends_on".into(), FieldErrorCode::OutOfRange)], "ends in the past");
        let err = check_new(me, &input(2, "soon", "2026-13-01", &"r".repeat(MAX_REASON + 1)), today).unwrap_err();
        assert_eq!(
            pointers(err),
            [
                ("/ends_on".into(), FieldErrorCode::InvalidFormat),
                ("/reason".into(), FieldErrorCode::TooLong),
                ("/starts_on".into(), FieldErrorCode::InvalidFormat),
            ]
        );
    }

    #[test]
    fn status_follows_the_calendar() {
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let mut d = StoredDelegation {
            id: Uuid::nil(),
            from: Uuid::nil(),
            to: Uuid::nil(),
            starts_on: "2026-06-01".into(),
            ends_on: "2026-06-05".into(),
            reason: "x".into(),
            created_at: at,
            created_by: "x".into(),
            revoked_at: None,
        };
        assert_eq!(status(&d, "2026-05-31"), DelegationStatus::Scheduled);
        assert_eq!(status(&d, "2026-06-01"), DelegationStatus::Active);
        assert_eq!(status(&d, "2026-06-05"), DelegationStatus::Active);
        assert_eq!(status(&d, "2026-06-06"), DelegationStatus::Ended);
        assert!(covers(&d.starts_on, &d.ends_on, "2026-06-03") && !covers(&d.starts_on, &d.ends_on, "2026-06-06"));
        d.revoked_at = Some(at);
        assert_eq!(status(&d, "2026-06-03"), DelegationStatus::Revoked);
    }
}
