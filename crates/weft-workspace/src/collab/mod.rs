//! Collaboration: the thread of every record (created on its first message), channels not
//! bound to a record (team channels and external groups with partners' guests), followers,
//! and each principal's inbox.
//!
//! Who sees a message is decided here, once: on a record thread, whoever may read the
//! record sees its `shared` messages, and members see `internal` ones too; a guest never
//! gets an internal message from any read, and the inbox fan-out (`fanout`) applies the
//! same rule per recipient. Posting needs `comment` on the record's type (or a share of the
//! record: people mentioned or otherwise brought in can answer). Every post, edit and
//! deletion is a command: checked, audited, and announced on the outbox.

mod access;
mod attachments;
mod channels;
pub mod delivery;
mod fanout;
mod followers;
mod inbox;
pub mod live;
pub mod live_credentials;
mod live_hub;
mod messages;
mod thumbnails;

pub use attachments::{AttachmentLimits, AttachmentView, BlobStore, S3Options};
pub use channels::{ChannelView, NewChannel};
pub use delivery::Outbound;
pub use fanout::{InboxFanout, NewAlert};
pub use followers::FollowerView;
pub use inbox::{InboxCounts, InboxItemView, InboxMark, InboxPage, InboxQuery};
pub(crate) use messages::FoundPlace;
pub use messages::{MessageEdit, MessageView, NewMessage, ReactionView, RecordMention, RevisionView, ThreadPage};
pub use thumbnails::THUMBNAIL_PX;
pub use weft_model::schema::MessageVisibility;

/// The longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;
/// The most people (or records) one message may mention.
pub const MAX_MENTIONS: usize = 50;
/// The longest inbox summary of a message, in characters.
const SUMMARY_CHARS: usize = 200;

fn summary(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= SUMMARY_CHARS {
        flat
    } else {
        let mut s: String = flat.chars().take(SUMMARY_CHARS - 1).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn summaries_flatten_whitespace_and_cut_long_bodies() {
        assert_eq!(summary("Hello\n\n  world"), "Hello world");
        let long = "字".repeat(300);
        let s = summary(&long);
        assert_eq!(s.chars().count(), 200);
        assert!(s.ends_with('…'));
    }
}
