//! The notice a delivery carries, rendered once when it is queued (so a dead letter replays
//! exactly what failed): what it is about, one line saying what happened, the text, and a
//! link back into the web UI. Mails and robot cards are built from it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use weft_model::schema::Value;
use weft_store::kernel::principals;
use weft_store::records::rows::StoredRecord;

use crate::Workspace;
use crate::catalog::TypeEntry;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Notice {
    /// The inbox kind (`mention`, `update`, `todo`, `alert`) or the outbox event a robot got.
    pub kind: String,
    /// The record's number and title, or the channel's name.
    pub title: String,
    /// What happened, in the recipient's language.
    pub headline: String,
    /// The message's summary, or the change.
    pub text: String,
    /// Where it is in the web UI (`/r/<type>/<id>`, `/inbox`).
    pub path: String,
    // What the recipient must still be able to read when it is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Uuid>,
}

impl Notice {
    /// A notice for unit tests.
    #[cfg(test)]
    pub fn sample(title: &str, text: &str) -> Notice {
        Notice {
            kind: "mention".into(),
            title: title.into(),
            headline: "Ann mentioned you".into(),
            text: text.into(),
            path: "/r/po/1".into(),
            type_name: None,
            record: None,
            thread: None,
            message: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Option<Notice> {
        serde_json::from_str(text).ok()
    }
}

/// Chinese or English: a recipient's locale, a robot's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn of(locale: Option<&str>) -> Lang {
        match locale {
            Some(l) if l.to_ascii_lowercase().starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }
}

/// One line saying what happened.
pub(super) fn headline(lang: Lang, kind: &str, actor: &str, detail: &str) -> String {
    match (lang, kind) {
        (Lang::En, "mention") => format!("{actor} mentioned you"),
        (Lang::Zh, "mention") => format!("{actor} 提到了你"),
        (Lang::En, "todo") => format!("New to-do: {detail}"),
        (Lang::Zh, "todo") => format!("新待办:{detail}"),
        (Lang::En, "message.posted" | "update") if detail.is_empty() => format!("{actor} wrote"),
        (Lang::Zh, "message.posted" | "update") if detail.is_empty() => format!("{actor} 发表了消息"),
        (Lang::En, "record.created") => format!("{actor} created it"),
        (Lang::Zh, "record.created") => format!("{actor} 新建了记录"),
        (Lang::En, _) => format!("{actor}: {detail}"),
        (Lang::Zh, _) => format!("{actor}:{detail}"),
    }
}

/// The web UI's page of a record.
pub(super) fn record_path(type_name: &str, id: Uuid) -> String {
    format!("/r/{type_name}/{id}")
}

impl Workspace {
    /// The display name of an event's actor (`<id>`, `<id> for <delegator>`, `system`).
    pub(super) async fn actor_name(&self, actor: &str) -> String {
        let id = actor.split(' ').next().and_then(|s| Uuid::parse_str(s).ok());
        match id {
            Some(id) => match principals::by_id_now(&self.db, id).await {
                Ok(Some(p)) => p.display_name,
                _ => "Weft".into(),
            },
            None => "Weft".into(),
        }
    }

    /// A record's number and title (`PO-2026-00042 · Steel`). The title field is left out
    /// when `hidden` says the recipient may not see it.
    pub(super) fn record_title(
        &self,
        entry: &TypeEntry,
        record: &StoredRecord,
        hidden: impl Fn(&str) -> bool,
    ) -> String {
        let label = || entry.decl.label.en.clone();
        let number = record.system.number.clone();
        let title = entry.decl.title_field.as_deref().filter(|f| !hidden(f)).and_then(|f| match record.values.get(f) {
            Some(Value::Text(text)) if !text.trim().is_empty() => Some(text.trim().to_owned()),
            Some(Value::Null) | None => None,
            Some(Value::Text(_)) => None,
            Some(other) => Some(other.to_json().to_string()),
        });
        match (number, title) {
            (Some(n), Some(t)) => format!("{n} · {t}"),
            (Some(n), None) => n,
            (None, Some(t)) => t,
            (None, None) => label(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headlines_speak_the_recipients_language() {
        assert_eq!(headline(Lang::En, "mention", "Li Wei", ""), "Li Wei mentioned you");
        assert_eq!(headline(Lang::Zh, "todo", "", "审批"), "新待办:审批");
        assert_eq!(headline(Lang::En, "update", "Ann", ""), "Ann wrote");
        assert_eq!(headline(Lang::En, "update", "Ann", "draft → sent"), "Ann: draft → sent");
        assert_eq!(Lang::of(Some("zh-CN")), Lang::Zh);
        assert_eq!(Lang::of(None), Lang::En);
    }

    #[test]
    fn notices_survive_the_queue() {
        let notice = Notice { type_name: Some("po".into()), record: Some(Uuid::nil()), ..Notice::sample("PO-1", "y") };
        assert_eq!(Notice::from_json(&notice.to_json()), Some(notice));
    }
}
