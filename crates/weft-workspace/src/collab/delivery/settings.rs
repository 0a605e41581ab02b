//! Who wants what: each principal's e-mail choices per inbox kind (immediate, digest, off),
//! and the IM robots an administrator attaches to a channel or an object type. A robot's
//! webhook URL carries its key and its secret signs its calls: neither is ever shown back,
//! only the webhook's host and whether a secret is set.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::{FieldError, FieldErrorCode};
use weft_store::format_utc;
use weft_store::kernel::collab as collab_store;
use weft_store::kernel::delivery::{self as store, StoredRobot, StoredSettings};

use super::{EMAIL_KINDS, ROBOT_EVENTS, ROBOT_KINDS};
use crate::{Error, Result, Workspace, admin_audit};

const MODES: &[&str] = &["immediate", "digest", "off"];
const DIGEST_MINUTES: std::ops::RangeInclusive<i64> = 5..=1440;

/// A principal's e-mail delivery settings (the defaults until changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeliverySettings {
    /// Inbox kind (`mention`, `update`, `todo`, `alert`) to `immediate`, `digest` or `off`.
    pub email: BTreeMap<String, String>,
    /// How long a digest collects before it is sent (5 to 1440).
    pub digest_minutes: i64,
    /// The address mail goes to (the profile's); nothing is mailed without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl DeliverySettings {
    fn defaults() -> DeliverySettings {
        let email = [("mention", "immediate"), ("update", "digest"), ("todo", "immediate"), ("alert", "immediate")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        DeliverySettings { email, digest_minutes: 60, address: None }
    }

    /// `immediate`, `digest` or `off` for an inbox kind.
    pub(super) fn mode(&self, kind: &str) -> &str {
        self.email.get(kind).map(String::as_str).unwrap_or("off")
    }
}

/// A change of one's settings: only what is given changes.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettingsInput {
    #[serde(default)]
    pub email: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub digest_minutes: Option<i64>,
}

/// A robot to create (administrators).
#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRobot {
    pub name: String,
    /// `wecom`, `dingtalk`, `feishu` or `slack`.
    pub kind: String,
    /// The group robot's webhook address (http or https).
    pub url: String,
    /// The signing secret (DingTalk `SEC…`, Feishu); other kinds sign nothing.
    #[serde(default)]
    pub secret: Option<String>,
    /// The channel it reports (give this or `type`).
    #[serde(default)]
    pub channel: Option<Uuid>,
    /// The object type whose records it reports.
    #[serde(default, rename = "type")]
    pub type_name: Option<String>,
    /// Among `message.posted`, `record.created`, `record.transitioned` (a channel has only
    /// messages).
    pub events: Vec<String>,
    /// Internal messages reach it only when true: its group must be members-only.
    #[serde(default)]
    pub include_internal: bool,
    /// `zh` or `en`; default `en` for Slack, `zh` for the others.
    #[serde(default)]
    pub language: Option<String>,
}

/// A change of a robot (administrators): only what is given changes. Its kind and what
/// feeds it (a channel or a type) stay: another of those is another robot.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RobotPatch {
    #[serde(default)]
    pub name: Option<String>,
    /// A new webhook address (http or https).
    #[serde(default)]
    pub url: Option<String>,
    /// A new signing secret; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub secret: Option<Option<String>>,
    #[serde(default)]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    pub include_internal: Option<bool>,
    /// `zh` or `en`.
    #[serde(default)]
    pub language: Option<String>,
}

/// A key that is present (even as `null`) is `Some`.
fn present<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A robot as the API shows it: never its secret, nor the key in its webhook.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RobotView {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    /// The webhook's scheme and host only (the rest is the robot's key).
    pub endpoint: String,
    pub has_secret: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Uuid>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    pub events: Vec<String>,
    pub include_internal: bool,
    pub language: String,
    pub created_at: String,
    pub created_by: String,
}

/// What a robot's `events` column holds: the events, and the language its cards speak.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct RobotEvents {
    pub events: Vec<String>,
    pub language: String,
}

impl RobotEvents {
    pub fn of(robot: &StoredRobot) -> RobotEvents {
        serde_json::from_str(&robot.events).unwrap_or(RobotEvents { events: Vec::new(), language: "en".into() })
    }
}

fn problem(pointer: &str, code: FieldErrorCode, reason: impl Into<String>) -> FieldError {
    FieldError { pointer: pointer.into(), code, reason: reason.into() }
}

fn endpoint(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}", u.scheme(), u.host_str().unwrap_or_default()),
        Err(_) => String::new(),
    }
}

fn robot_view(r: StoredRobot) -> RobotView {
    let events = RobotEvents::of(&r);
    RobotView {
        id: r.id,
        endpoint: endpoint(&r.url),
        has_secret: r.secret.is_some(),
        name: r.name,
        kind: r.kind,
        channel: r.channel,
        type_name: r.type_name,
        events: events.events,
        include_internal: r.include_internal,
        language: events.language,
        created_at: format_utc(r.created_at),
        created_by: r.created_by,
    }
}

/// Every problem with a robot at once, as 422 field errors.
fn check_robot(input: &NewRobot) -> Vec<FieldError> {
    let mut problems = Vec::new();
    if input.name.trim().is_empty() || input.name.chars().count() > 100 {
        problems.push(problem("/name", FieldErrorCode::Required, "a name of 1 to 100 characters"));
    }
    if !ROBOT_KINDS.contains(&input.kind.as_str()) {
        problems.push(problem("/kind", FieldErrorCode::UnknownOption, format!("one of {}", ROBOT_KINDS.join(", "))));
    }
    match url::Url::parse(&input.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) => {
            if !u.username().is_empty() || u.password().is_some() || u.fragment().is_some() {
                problems.push(problem("/url", FieldErrorCode::InvalidFormat, "no user, password or fragment"));
            }
        }
        _ => problems.push(problem("/url", FieldErrorCode::InvalidFormat, "an http or https URL with a host")),
    }
    let signs = matches!(input.kind.as_str(), "dingtalk" | "feishu");
    match &input.secret {
        Some(_) if !signs && ROBOT_KINDS.contains(&input.kind.as_str()) => problems.push(problem(
            "/secret",
            FieldErrorCode::InvalidFormat,
            format!("{} robots are not signed; leave the secret out", input.kind),
        )),
        Some(s) if s.trim().is_empty() || s.len() > 200 => {
            problems.push(problem("/secret", FieldErrorCode::InvalidFormat, "1 to 200 characters, or left out"))
        }
        _ => {}
    }
    match (input.channel, &input.type_name) {
        (Some(_), Some(_)) | (None, None) => {
            problems.push(problem("/channel", FieldErrorCode::Required, "give either `channel` or `type`"))
        }
        _ => {}
    }
    if input.events.is_empty() {
        problems.push(problem("/events", FieldErrorCode::Required, "at least one event"));
    }
    for (i, event) in input.events.iter().enumerate() {
        if !ROBOT_EVENTS.contains(&event.as_str()) {
            problems.push(problem(
                &format!("/events/{i}"),
                FieldErrorCode::UnknownOption,
                format!("one of {}", ROBOT_EVENTS.join(", ")),
            ));
        } else if input.channel.is_some() && event != "message.posted" {
            problems.push(problem(
                &format!("/events/{i}"),
                FieldErrorCode::UnknownOption,
                "a channel has only messages",
            ));
        }
    }
    if let Some(lang) = &input.language
        && !matches!(lang.as_str(), "zh" | "en")
    {
        problems.push(problem("/language", FieldErrorCode::UnknownOption, "zh or en"));
    }
    problems
}

impl Workspace {
    /// One's own settings (the defaults until changed), with the address mail goes to.
    pub async fn delivery_settings(&self, principal: &Principal) -> Result<DeliverySettings> {
        let mut settings = self.settings_of(principal.id).await?;
        settings.address = weft_store::kernel::principals::by_id_now(&self.db, principal.id)
            .await?
            .and_then(|p| p.email)
            .filter(|e| !e.trim().is_empty());
        Ok(settings)
    }

    pub(super) async fn settings_of(&self, principal: uuid::Uuid) -> Result<DeliverySettings> {
        let mut settings = DeliverySettings::defaults();
        if let Some(stored) = store::settings(&self.db, principal).await? {
            let email: BTreeMap<String, String> = serde_json::from_str(&stored.email).unwrap_or_default();
            settings.email.extend(email);
            settings.digest_minutes = stored.digest_minutes;
        }
        Ok(settings)
    }

    /// Changes one's own settings; every bad value is named.
    pub async fn put_delivery_settings(
        &self,
        principal: &Principal,
        input: DeliverySettingsInput,
    ) -> Result<DeliverySettings> {
        let mut settings = self.settings_of(principal.id).await?;
        let mut problems = Vec::new();
        for (kind, mode) in input.email.iter().flatten() {
            if !EMAIL_KINDS.contains(&kind.as_str()) {
                problems.push(problem(
                    &format!("/email/{kind}"),
                    FieldErrorCode::UnknownField,
                    format!("not an inbox kind; use {}", EMAIL_KINDS.join(", ")),
                ));
            } else if !MODES.contains(&mode.as_str()) {
                problems.push(problem(
                    &format!("/email/{kind}"),
                    FieldErrorCode::UnknownOption,
                    format!("one of {}", MODES.join(", ")),
                ));
            } else {
                settings.email.insert(kind.clone(), mode.clone());
            }
        }
        if let Some(minutes) = input.digest_minutes {
            if DIGEST_MINUTES.contains(&minutes) {
                settings.digest_minutes = minutes;
            } else {
                problems.push(problem("/digest_minutes", FieldErrorCode::OutOfRange, "5 to 1440 minutes"));
            }
        }
        if !problems.is_empty() {
            return Err(Error::Validation(problems));
        }
        let stored = StoredSettings {
            principal: principal.id,
            email: serde_json::to_string(&settings.email).unwrap_or_default(),
            digest_minutes: settings.digest_minutes,
            updated_at: weft_store::now(),
        };
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    store::put_settings(tx, &stored).await?;
                    Ok::<_, Error>(())
                })
            })
            .await?;
        self.delivery_settings(principal).await
    }

    /// Every robot (administrators).
    pub async fn delivery_robots(&self, principal: &Principal) -> Result<Vec<RobotView>> {
        self.require_admin(principal)?;
        Ok(store::robots(&self.db).await?.into_iter().map(robot_view).collect())
    }

    pub async fn delivery_robot(&self, principal: &Principal, id: Uuid) -> Result<RobotView> {
        self.require_admin(principal)?;
        store::robot(&self.db, id).await?.map(robot_view).ok_or_else(|| Error::NotFound(format!("robot {id}")))
    }

    /// Attaches a robot to a channel or an object type (administrators; audited).
    pub async fn create_delivery_robot(&self, principal: &Principal, input: NewRobot) -> Result<RobotView> {
        self.require_admin(principal)?;
        let mut problems = check_robot(&input);
        if let Some(channel) = input.channel {
            match collab_store::thread(&self.db, channel).await? {
                Some(t) if t.kind == "channel" => {}
                _ => problems.push(problem("/channel", FieldErrorCode::UnknownReference, "no such channel")),
            }
        }
        if let Some(type_name) = &input.type_name
            && self.entry(type_name).is_err()
        {
            problems.push(problem("/type", FieldErrorCode::UnknownReference, format!("no type `{type_name}`")));
        }
        if !problems.is_empty() {
            return Err(Error::Validation(problems));
        }
        let language =
            input.language.clone().unwrap_or_else(|| (if input.kind == "slack" { "en" } else { "zh" }).into());
        let mut events = input.events.clone();
        events.sort();
        events.dedup();
        let robot = StoredRobot {
            id: Uuid::now_v7(),
            name: input.name.trim().to_owned(),
            kind: input.kind.clone(),
            url: input.url.clone(),
            secret: input.secret.clone(),
            channel: input.channel,
            type_name: input.type_name.clone(),
            events: serde_json::to_string(&RobotEvents { events, language }).unwrap_or_default(),
            include_internal: input.include_internal,
            created_at: weft_store::now(),
            created_by: principal.actor(),
        };
        let (who, row) = (principal.clone(), robot.clone());
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    store::insert_robot(tx, &row).await?;
                    let detail = serde_json::json!({
                        "name": row.name, "kind": row.kind, "endpoint": endpoint(&row.url),
                        "channel": row.channel, "type": row.type_name,
                    });
                    admin_audit::record(tx, &who, "robot.create", "robot", &row.id.to_string(), detail).await
                })
            })
            .await?;
        Ok(robot_view(robot))
    }

    /// Changes a robot's name, webhook, secret, events, language or whether internal
    /// messages reach it (administrators; audited, without the webhook's key or the secret).
    /// The result is checked as a whole, like a new robot: every problem at its pointer.
    pub async fn update_delivery_robot(&self, principal: &Principal, id: Uuid, patch: RobotPatch) -> Result<RobotView> {
        self.require_admin(principal)?;
        let stored = store::robot(&self.db, id).await?.ok_or_else(|| Error::NotFound(format!("robot {id}")))?;
        let current = RobotEvents::of(&stored);
        let merged = NewRobot {
            name: patch.name.clone().unwrap_or_else(|| stored.name.clone()),
            kind: stored.kind.clone(),
            url: patch.url.clone().unwrap_or_else(|| stored.url.clone()),
            secret: patch.secret.clone().unwrap_or_else(|| stored.secret.clone()),
            channel: stored.channel,
            type_name: stored.type_name.clone(),
            events: patch.events.clone().unwrap_or_else(|| current.events.clone()),
            include_internal: patch.include_internal.unwrap_or(stored.include_internal),
            language: Some(patch.language.clone().unwrap_or_else(|| current.language.clone())),
        };
        let problems = check_robot(&merged);
        if !problems.is_empty() {
            return Err(Error::Validation(problems));
        }
        let mut events = merged.events.clone();
        events.sort();
        events.dedup();
        let robot = StoredRobot {
            name: merged.name.trim().to_owned(),
            url: merged.url.clone(),
            secret: merged.secret.clone(),
            events: serde_json::to_string(&RobotEvents {
                events,
                language: merged.language.clone().unwrap_or_default(),
            })
            .unwrap_or_default(),
            include_internal: merged.include_internal,
            ..stored
        };
        // What changed, for the audit: names of the credentials only, never their values.
        let mut changed = Vec::new();
        if patch.name.is_some() {
            changed.push("name");
        }
        if patch.url.is_some() {
            changed.push("url");
        }
        if patch.secret.is_some() {
            changed.push("secret");
        }
        if patch.events.is_some() {
            changed.push("events");
        }
        if patch.include_internal.is_some() {
            changed.push("include_internal");
        }
        if patch.language.is_some() {
            changed.push("language");
        }
        let (who, row) = (principal.clone(), robot.clone());
        let updated = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    if !store::update_robot(tx, &row).await? {
                        return Ok(false);
                    }
                    let detail = serde_json::json!({
                        "name": row.name, "endpoint": endpoint(&row.url), "changed": changed,
                    });
                    admin_audit::record(tx, &who, "robot.update", "robot", &row.id.to_string(), detail).await?;
                    Ok::<_, Error>(true)
                })
            })
            .await?;
        if updated { Ok(robot_view(robot)) } else { Err(Error::NotFound(format!("robot {id}"))) }
    }

    /// Detaches a robot (administrators; audited). Its queued cards are dropped when due.
    pub async fn delete_delivery_robot(&self, principal: &Principal, id: Uuid) -> Result<()> {
        self.require_admin(principal)?;
        let who = principal.clone();
        let deleted = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    if !store::delete_robot(tx, id).await? {
                        return Ok(false);
                    }
                    admin_audit::record(tx, &who, "robot.delete", "robot", &id.to_string(), serde_json::json!({}))
                        .await?;
                    Ok::<_, Error>(true)
                })
            })
            .await?;
        if deleted { Ok(()) } else { Err(Error::NotFound(format!("robot {id}"))) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn robot(kind: &str, url: &str) -> NewRobot {
        NewRobot {
            name: "ops".into(),
            kind: kind.into(),
            url: url.into(),
            secret: None,
            channel: None,
            type_name: Some("order".into()),
            events: vec!["record.created".into()],
            include_internal: false,
            language: None,
        }
    }

    fn pointers(problems: &[FieldError]) -> Vec<&str> {
        problems.iter().map(|p| p.pointer.as_str()).collect()
    }

    #[test]
    fn robots_are_checked_field_by_field() {
        assert!(check_robot(&robot("slack", "https://hooks.slack.test/services/x")).is_empty());
        assert_eq!(pointers(&check_robot(&robot("telegram", "https://x.test/"))), ["/kind"]);
        for bad in ["not a url", "ftp://x.test/", "https://user:pw@x.test/", "https://", "javascript:alert(1)"] {
            assert_eq!(pointers(&check_robot(&robot("wecom", bad))), ["/url"], "{bad}");
        }
        let mut signed = robot("wecom", "https://x.test/");
        signed.secret = Some("SEC1".into());
        assert_eq!(pointers(&check_robot(&signed)), ["/secret"]);
        let mut channel = robot("dingtalk", "https://x.test/");
        channel.channel = Some(Uuid::nil());
        channel.type_name = None;
        channel.events = vec!["record.transitioned".into(), "nope".into()];
        assert_eq!(pointers(&check_robot(&channel)), ["/events/0", "/events/1"]);
    }

    #[test]
    fn endpoints_hide_the_key() {
        assert_eq!(
            endpoint("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret"),
            "https://qyapi.weixin.qq.com"
        );
    }
}
