//! Threads, mentions, followers and the inbox, on both databases: a guest talks on its own
//! party's records only, internal messages never reach guests by any path, and a mention
//! grants read on exactly one record.

use serde_json::{Map, Value, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::MessageVisibility;
use weft_testkit::{TestBackend, TestDatabase, on_both_databases, people};
use weft_workspace::collab::{
    AttachmentLimits, BlobStore, InboxFanout, InboxMark, InboxQuery, MessageEdit, NewChannel, NewMessage,
};
use weft_workspace::{DeclareOptions, Error, Workspace};

fn object(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn message(body: &str) -> NewMessage {
    NewMessage {
        body: body.into(),
        visibility: None,
        reply_to: None,
        mentions: Vec::new(),
        records: Vec::new(),
        attachments: Vec::new(),
    }
}

fn shared(body: &str) -> NewMessage {
    NewMessage { visibility: Some(MessageVisibility::Shared), ..message(body) }
}

struct Fixture {
    ws: Workspace,
    _db: TestDatabase,
    staff: Principal,
    guest_a: Principal,
    guest_b: Principal,
    /// A member whose role reads only records they own.
    outsider: Principal,
    order_a: Uuid,
    order_a2: Uuid,
    order_b: Uuid,
}

async fn fixture(backend: TestBackend) -> Fixture {
    let db = TestDatabase::new(backend).await.unwrap();
    let limits = AttachmentLimits { max_file_bytes: 1024, quota_bytes: 4096 };
    let ws = Workspace::connect(&db.store_options()).await.unwrap().with_blob_store(BlobStore::memory(limits));
    ws.migrate().await.unwrap();
    let decl = serde_json::from_value(json!({
        "name": "order", "label": {"en": "Order", "zh": "订单"},
        "fields": [{"name": "subject", "label": {"en": "Subject", "zh": "主题"}, "type": "text", "required": true}],
        "lifecycle": {"initial": "open", "states": [
            {"name": "open", "label": {"en": "Open", "zh": "打开"}},
            {"name": "done", "label": {"en": "Done", "zh": "完成"}}],
          "transitions": [{"name": "finish", "label": {"en": "Finish", "zh": "完成"}, "from": ["open"], "to": "done"}]}
    }))
    .unwrap();
    ws.declare_type(&Principal::system(), decl, &DeclareOptions::default()).await.unwrap();
    let own_only = serde_json::from_value(json!({
        "name": "own_orders", "grants": [{"type": "order", "actions": ["read", "comment"], "scope": "own"}]
    }))
    .unwrap();
    ws.put_role(&Principal::system(), own_only).await.unwrap();
    let (party_a, party_b) = (Uuid::now_v7(), Uuid::now_v7());
    let staff = people::member(&ws, &["employee"]).await;
    let mut ids = Vec::new();
    for (party, subject) in [(party_a, "A steel"), (party_a, "A copper"), (party_b, "B steel")] {
        let input = object(json!({"subject": subject, "party": party.to_string()}));
        match ws.create(&staff, "order", input, None).await.unwrap() {
            weft_workspace::Created::Fresh(view) => ids.push(view.system.id),
            weft_workspace::Created::Replayed(_) => unreachable!(),
        }
    }
    let guest_a = people::guest(&ws, party_a, &["guest"]).await;
    let guest_b = people::guest(&ws, party_b, &["guest"]).await;
    let outsider = people::member(&ws, &["own_orders"]).await;
    Fixture { ws, _db: db, staff, guest_a, guest_b, outsider, order_a: ids[0], order_a2: ids[1], order_b: ids[2] }
}

impl Fixture {
    async fn deliver(&self) {
        while self.ws.run_consumer_once(&InboxFanout).await.unwrap() > 0 {}
    }

    async fn inbox(&self, who: &Principal) -> Vec<weft_workspace::collab::InboxItemView> {
        self.ws.inbox(who, &InboxQuery::default()).await.unwrap().items
    }
}

on_both_databases!(
    guest_posts_on_its_partys_thread_and_not_on_another,
    internal_messages_never_reach_guests,
    mention_grants_read_on_that_record_only,
    mentions_are_checked,
    edits_keep_history_and_deletes_leave_tombstones,
    followers_get_transitions_in_their_inbox,
    inbox_marking_is_idempotent_and_private,
    channels_hold_their_members_only,
    replies_and_reactions,
    attachments_follow_their_record_and_message,
);

async fn guest_posts_on_its_partys_thread_and_not_on_another(backend: TestBackend) {
    let f = fixture(backend).await;
    let posted = f.ws.post_on_record(&f.guest_a, "order", f.order_a, message("When do you ship?")).await.unwrap();
    assert_eq!(posted.visibility, MessageVisibility::Shared, "guests always post shared");
    assert_eq!(posted.seq, 1);
    let page = f.ws.record_thread(&f.staff, "order", f.order_a, 0, 50).await.unwrap();
    assert_eq!(page.messages.len(), 1);

    // Another party's record: the same answer as a record that does not exist.
    for id in [f.order_b, Uuid::now_v7()] {
        let post = f.ws.post_on_record(&f.guest_a, "order", id, message("hello")).await;
        assert!(matches!(post, Err(Error::NotFound(_))), "{post:?}");
        let read = f.ws.record_thread(&f.guest_a, "order", id, 0, 50).await;
        assert!(matches!(read, Err(Error::NotFound(_))), "{read:?}");
    }
    // The message cannot be reached by id from the other party either.
    let by_id = f.ws.message(&f.guest_b, posted.id).await;
    assert!(matches!(by_id, Err(Error::NotFound(_))), "{by_id:?}");

    // A guest asking to post internal is told no.
    let internal = NewMessage { visibility: Some(MessageVisibility::Internal), ..message("psst") };
    let refused = f.ws.post_on_record(&f.guest_a, "order", f.order_a, internal).await.unwrap_err();
    assert!(matches!(&refused, Error::Validation(p) if p[0].pointer == "/visibility"), "{refused}");
}

async fn internal_messages_never_reach_guests(backend: TestBackend) {
    let f = fixture(backend).await;
    // The guest follows the record by posting; then staff talk internally and to the guest.
    f.ws.post_on_record(&f.guest_a, "order", f.order_a, message("Any news?")).await.unwrap();
    let internal = f.ws.post_on_record(&f.staff, "order", f.order_a, message("Margin is thin here")).await.unwrap();
    assert_eq!(internal.visibility, MessageVisibility::Internal, "the default when a type declares none");
    let reply = f.ws.post_on_record(&f.staff, "order", f.order_a, shared("Shipping Friday")).await.unwrap();
    f.deliver().await;

    let seen: Vec<String> =
        f.ws.record_thread(&f.guest_a, "order", f.order_a, 0, 50)
            .await
            .unwrap()
            .messages
            .into_iter()
            .filter_map(|m| m.body)
            .collect();
    assert_eq!(seen, vec!["Any news?", "Shipping Friday"]);
    assert!(matches!(f.ws.message(&f.guest_a, internal.id).await, Err(Error::NotFound(_))));
    assert!(matches!(f.ws.message_revisions(&f.guest_a, internal.id).await, Err(Error::NotFound(_))));
    assert!(matches!(f.ws.react(&f.guest_a, internal.id, "👍", true).await, Err(Error::NotFound(_))));

    // The guest's inbox has the shared reply and nothing of the internal note.
    let inbox = f.inbox(&f.guest_a).await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0].message, Some(reply.id));
    assert!(inbox.iter().all(|i| !i.summary.contains("Margin")));
    // Staff see all three.
    assert_eq!(f.ws.record_thread(&f.staff, "order", f.order_a, 0, 50).await.unwrap().messages.len(), 3);
}

async fn mention_grants_read_on_that_record_only(backend: TestBackend) {
    let f = fixture(backend).await;
    assert!(matches!(f.ws.get(&f.outsider, "order", f.order_a).await, Err(Error::NotFound(_))));
    let ask = NewMessage { mentions: vec![f.outsider.id], ..message("@Wang can you check the price?") };
    f.ws.post_on_record(&f.staff, "order", f.order_a, ask).await.unwrap();
    f.deliver().await;

    // Read on this record, and nothing else.
    f.ws.get(&f.outsider, "order", f.order_a).await.unwrap();
    assert!(matches!(f.ws.get(&f.outsider, "order", f.order_a2).await, Err(Error::NotFound(_))));
    let shares = f.ws.record_shares(&f.staff, "order", f.order_a).await.unwrap();
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].principal, f.outsider.id);
    assert_eq!(shares[0].reason, "mentioned in a message");

    // The mention is in their inbox, and they can answer in the thread.
    let inbox = f.inbox(&f.outsider).await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].kind, "mention");
    f.ws.post_on_record(&f.outsider, "order", f.order_a, message("Checked, it is fine")).await.unwrap();
    // Revoking the share takes the record away again.
    f.ws.unshare_record(&f.staff, "order", f.order_a, f.outsider.id).await.unwrap();
    assert!(matches!(f.ws.get(&f.outsider, "order", f.order_a).await, Err(Error::NotFound(_))));
}

async fn mentions_are_checked(backend: TestBackend) {
    let f = fixture(backend).await;
    let bad = NewMessage {
        body: "   ".into(),
        visibility: None,
        reply_to: Some(Uuid::now_v7()),
        // Unknown person; a guest in an internal message; a guest of another party.
        mentions: vec![Uuid::now_v7(), f.guest_a.id],
        records: vec![weft_workspace::collab::RecordMention { type_name: "order".into(), id: Uuid::now_v7() }],
        attachments: Vec::new(),
    };
    let Error::Validation(problems) = f.ws.post_on_record(&f.staff, "order", f.order_a, bad).await.unwrap_err() else {
        panic!("expected a validation error")
    };
    let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(pointers, vec!["/body", "/mentions/0", "/mentions/1", "/records/0", "/reply_to"], "{problems:?}");

    let other_party = NewMessage { mentions: vec![f.guest_b.id], ..shared("hello B") };
    let refused = f.ws.post_on_record(&f.staff, "order", f.order_a, other_party).await.unwrap_err();
    assert!(matches!(&refused, Error::Validation(p) if p[0].pointer == "/mentions/0"), "{refused}");
    // A guest cannot name a record it cannot see (another party's) as a record mention.
    let sneaky = NewMessage {
        records: vec![weft_workspace::collab::RecordMention { type_name: "order".into(), id: f.order_b }],
        ..message("see this")
    };
    let refused = f.ws.post_on_record(&f.guest_a, "order", f.order_a, sneaky).await.unwrap_err();
    assert!(matches!(&refused, Error::Validation(p) if p[0].pointer == "/records/0"), "{refused}");
    // Nothing was written by the refused posts.
    let page = f.ws.record_thread(&f.staff, "order", f.order_a, 0, 50).await.unwrap();
    assert!(page.thread.is_none() && page.messages.is_empty(), "{page:?}");

    // A guest of the record's party may be mentioned in a shared message.
    let ok = NewMessage { mentions: vec![f.guest_a.id], ..shared("@guest please confirm") };
    f.ws.post_on_record(&f.staff, "order", f.order_a, ok).await.unwrap();
    f.deliver().await;
    assert_eq!(f.inbox(&f.guest_a).await[0].kind, "mention");
}

async fn edits_keep_history_and_deletes_leave_tombstones(backend: TestBackend) {
    let f = fixture(backend).await;
    let m = f.ws.post_on_record(&f.staff, "order", f.order_a, message("Price is 10")).await.unwrap();
    let edit = |body: &str| MessageEdit { body: body.into(), mentions: Vec::new(), records: Vec::new() };
    let edited = f.ws.edit_message(&f.staff, m.id, Some(1), edit("Price is 12")).await.unwrap();
    assert_eq!((edited.version, edited.body.as_deref()), (2, Some("Price is 12")));
    assert!(edited.edited_at.is_some());
    // A stale version and someone else's edit are refused.
    assert!(matches!(f.ws.edit_message(&f.staff, m.id, Some(1), edit("x")).await, Err(Error::Stale { current: 2 })));
    let other = people::member(&f.ws, &["employee"]).await;
    assert!(matches!(f.ws.edit_message(&other, m.id, None, edit("mine")).await, Err(Error::Forbidden(_))));
    let history = f.ws.message_revisions(&other, m.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].body, "Price is 10");

    assert!(matches!(f.ws.delete_message(&other, m.id).await, Err(Error::Forbidden(_))));
    f.ws.delete_message(&f.staff, m.id).await.unwrap();
    f.ws.delete_message(&f.staff, m.id).await.unwrap();
    let page = f.ws.record_thread(&other, "order", f.order_a, 0, 50).await.unwrap();
    assert_eq!(page.messages.len(), 1, "the tombstone keeps its place");
    assert!(page.messages[0].body.is_none() && page.messages[0].deleted_at.is_some());
    assert!(matches!(f.ws.edit_message(&f.staff, m.id, None, edit("back")).await, Err(Error::Conflict(_))));
}

async fn followers_get_transitions_in_their_inbox(backend: TestBackend) {
    let f = fixture(backend).await;
    let watcher = people::member(&f.ws, &["employee"]).await;
    f.ws.follow_record(&watcher, "order", f.order_a).await.unwrap();
    f.ws.follow_record(&watcher, "order", f.order_a).await.unwrap();
    f.ws.follow_record(&f.guest_a, "order", f.order_a).await.unwrap();
    // A guest cannot follow another party's record.
    assert!(matches!(f.ws.follow_record(&f.guest_a, "order", f.order_b).await, Err(Error::NotFound(_))));
    let followers = f.ws.record_followers(&f.staff, "order", f.order_a).await.unwrap();
    assert_eq!(followers.len(), 2);
    assert!(matches!(f.ws.record_followers(&f.guest_a, "order", f.order_a).await, Err(Error::Forbidden(_))));

    f.ws.transition(&f.staff, "order", f.order_a, "finish", None, Map::new()).await.unwrap();
    f.deliver().await;
    f.deliver().await;
    for who in [&watcher, &f.guest_a] {
        let inbox = f.inbox(who).await;
        assert_eq!(inbox.len(), 1, "delivered once, even when the consumer runs again");
        assert_eq!(inbox[0].kind, "update");
        assert!(inbox[0].summary.ends_with("open → done"), "{}", inbox[0].summary);
    }
    assert!(f.inbox(&f.staff).await.is_empty(), "no news of one's own change");

    f.ws.unfollow_record(&watcher, "order", f.order_a).await.unwrap();
    f.ws.post_on_record(&f.staff, "order", f.order_a, message("closing note")).await.unwrap();
    f.deliver().await;
    assert_eq!(f.inbox(&watcher).await.len(), 1, "unfollowed: nothing new");
}

async fn inbox_marking_is_idempotent_and_private(backend: TestBackend) {
    let f = fixture(backend).await;
    let ask = NewMessage { mentions: vec![f.outsider.id], ..message("@Wang please look") };
    f.ws.post_on_record(&f.staff, "order", f.order_a, ask).await.unwrap();
    f.deliver().await;
    let item = f.inbox(&f.outsider).await.remove(0);
    let counts = f.ws.inbox_counts(&f.outsider).await.unwrap();
    assert_eq!((counts.unread, counts.open_by_kind.get("mention").copied()), (1, Some(1)));

    let mark = |state: &str| InboxMark { ids: vec![item.id], state: Some(state.into()), snooze_until: None };
    f.ws.mark_inbox(&f.outsider, mark("read")).await.unwrap();
    let again = f.ws.mark_inbox(&f.outsider, mark("read")).await.unwrap();
    assert_eq!(again[0].state, "read");
    assert_eq!(f.ws.inbox_counts(&f.outsider).await.unwrap().unread, 0);
    // Someone else's item is missing to the caller; a bad state is refused.
    assert!(matches!(f.ws.mark_inbox(&f.staff, mark("done")).await, Err(Error::NotFound(_))));
    assert!(matches!(f.ws.mark_inbox(&f.outsider, mark("gone")).await, Err(Error::Validation(_))));

    // Snoozed items leave the list until they wake; done items leave it for good.
    let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let snooze = InboxMark { ids: vec![item.id], state: None, snooze_until: Some(Some(tomorrow)) };
    f.ws.mark_inbox(&f.outsider, snooze).await.unwrap();
    assert!(f.inbox(&f.outsider).await.is_empty());
    let all = InboxQuery { include_snoozed: true, ..InboxQuery::default() };
    assert_eq!(f.ws.inbox(&f.outsider, &all).await.unwrap().items.len(), 1);
    f.ws.mark_inbox(
        &f.outsider,
        InboxMark { ids: vec![item.id], state: Some("done".into()), snooze_until: Some(None) },
    )
    .await
    .unwrap();
    assert!(f.inbox(&f.outsider).await.is_empty());
    let done = InboxQuery { state: Some("done".into()), ..InboxQuery::default() };
    assert_eq!(f.ws.inbox(&f.outsider, &done).await.unwrap().items.len(), 1);
}

async fn channels_hold_their_members_only(backend: TestBackend) {
    let f = fixture(backend).await;
    let colleague = people::member(&f.ws, &["employee"]).await;
    let team = NewChannel { name: "Purchasing".into(), external: false, members: vec![colleague.id] };
    let team = f.ws.create_channel(&f.staff, team).await.unwrap();
    // Guests cannot join an internal channel, nor create channels.
    let join = f.ws.add_channel_member(&f.staff, team.id, f.guest_a.id).await;
    assert!(matches!(join, Err(Error::Validation(_))), "{join:?}");
    let create =
        f.ws.create_channel(&f.guest_a, NewChannel { name: "x".into(), external: true, members: vec![] }).await;
    assert!(matches!(create, Err(Error::Forbidden(_))));

    let posted = f.ws.post_in_channel(&f.staff, team.id, message("Stand-up at 9")).await.unwrap();
    assert_eq!(posted.visibility, MessageVisibility::Internal);
    f.deliver().await;
    assert_eq!(f.inbox(&colleague).await.len(), 1);
    let stranger = people::member(&f.ws, &["employee"]).await;
    assert!(matches!(f.ws.channel_messages(&stranger, team.id, 0, 50).await, Err(Error::NotFound(_))));
    assert!(matches!(f.ws.post_in_channel(&stranger, team.id, message("hi")).await, Err(Error::NotFound(_))));
    assert!(f.ws.channels(&stranger).await.unwrap().is_empty());

    // An external group with a supplier's guest: everything in it is shared.
    let group = NewChannel { name: "Supplier A".into(), external: true, members: vec![f.guest_a.id] };
    let group = f.ws.create_channel(&f.staff, group).await.unwrap();
    let from_guest = f.ws.post_in_channel(&f.guest_a, group.id, message("Hello team")).await.unwrap();
    assert_eq!(from_guest.visibility, MessageVisibility::Shared);
    assert_eq!(f.ws.channel_messages(&f.guest_a, group.id, 0, 50).await.unwrap().messages.len(), 1);
    assert!(matches!(f.ws.channel_messages(&f.guest_b, group.id, 0, 50).await, Err(Error::NotFound(_))));
    // The guest may leave, but not remove others.
    assert!(matches!(f.ws.remove_channel_member(&f.guest_a, group.id, f.staff.id).await, Err(Error::Forbidden(_))));
    f.ws.remove_channel_member(&f.guest_a, group.id, f.guest_a.id).await.unwrap();
    assert!(matches!(f.ws.channel_messages(&f.guest_a, group.id, 0, 50).await, Err(Error::NotFound(_))));
}

async fn replies_and_reactions(backend: TestBackend) {
    let f = fixture(backend).await;
    let note = f.ws.post_on_record(&f.staff, "order", f.order_a, message("internal: check stock")).await.unwrap();
    let public = f.ws.post_on_record(&f.staff, "order", f.order_a, shared("We confirm the order")).await.unwrap();
    // A shared reply to an internal message would show partners half a conversation.
    let leak = NewMessage { reply_to: Some(note.id), ..shared("as said above") };
    let refused = f.ws.post_on_record(&f.staff, "order", f.order_a, leak).await.unwrap_err();
    assert!(matches!(&refused, Error::Validation(p) if p[0].pointer == "/reply_to"), "{refused}");
    let reply = NewMessage { reply_to: Some(public.id), ..message("Thanks!") };
    let answer = f.ws.post_on_record(&f.guest_a, "order", f.order_a, reply).await.unwrap();
    assert_eq!(answer.reply_to, Some(public.id));
    // A reply to a message of another thread is refused.
    let elsewhere = f.ws.post_on_record(&f.staff, "order", f.order_a2, message("other")).await.unwrap();
    let wrong = NewMessage { reply_to: Some(elsewhere.id), ..message("?") };
    assert!(f.ws.post_on_record(&f.staff, "order", f.order_a, wrong).await.is_err());

    f.ws.react(&f.guest_a, public.id, "👍", true).await.unwrap();
    f.ws.react(&f.guest_a, public.id, "👍", true).await.unwrap();
    let view = f.ws.react(&f.staff, public.id, "👍", true).await.unwrap();
    assert_eq!(view.reactions.len(), 1);
    assert_eq!(view.reactions[0].by.len(), 2);
    let view = f.ws.react(&f.guest_a, public.id, "👍", false).await.unwrap();
    assert_eq!(view.reactions[0].by, vec![f.staff.id]);
    assert!(matches!(f.ws.react(&f.staff, public.id, "two words", true).await, Err(Error::Validation(_))));

    // Paging: seq order, a cursor that never skips.
    let first = f.ws.record_thread(&f.staff, "order", f.order_a, 0, 2).await.unwrap();
    assert_eq!(first.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2]);
    let rest = f.ws.record_thread(&f.staff, "order", f.order_a, first.next_after.unwrap(), 2).await.unwrap();
    assert_eq!(rest.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![3]);
    assert!(rest.next_after.is_none());
}

async fn attachments_follow_their_record_and_message(backend: TestBackend) {
    let f = fixture(backend).await;
    let pdf = bytes::Bytes::from_static(b"%PDF-1.7\n quotation for steel");
    // The staff's internal file, then a shared one posted on a shared message.
    let internal = f.ws.upload_attachment(&f.staff, "order", f.order_a, "cost.pdf", None, pdf.clone()).await.unwrap();
    assert_eq!(internal.content_type, "application/pdf");
    assert_eq!(internal.visibility, MessageVisibility::Internal);
    let quote =
        f.ws.upload_attachment(&f.staff, "order", f.order_a, "C:\\docs\\quote.txt", None, "报价".into()).await.unwrap();
    assert_eq!(quote.filename, "quote.txt");
    let post = NewMessage { attachments: vec![quote.id], ..shared("Our quotation") };
    let posted = f.ws.post_on_record(&f.staff, "order", f.order_a, post).await.unwrap();
    assert_eq!(posted.attachments.len(), 1);
    assert_eq!(posted.attachments[0].visibility, MessageVisibility::Shared);
    // Posting it twice is refused.
    let again = NewMessage { attachments: vec![quote.id], ..shared("again") };
    let refused = f.ws.post_on_record(&f.staff, "order", f.order_a, again).await.unwrap_err();
    assert!(matches!(&refused, Error::Validation(p) if p[0].pointer == "/attachments/0"), "{refused}");

    // The guest of A sees the shared file only; the guest of B sees neither.
    let listed: Vec<_> = f.ws.record_attachments(&f.guest_a, "order", f.order_a).await.unwrap();
    assert_eq!(listed.iter().map(|a| a.id).collect::<Vec<_>>(), vec![quote.id]);
    let (_, content) = f.ws.attachment_content(&f.guest_a, quote.id).await.unwrap();
    assert_eq!(&content[..], "报价".as_bytes());
    for (who, id) in [(&f.guest_a, internal.id), (&f.guest_b, quote.id), (&f.guest_b, internal.id)] {
        let got = f.ws.attachment_content(who, id).await;
        assert!(matches!(got, Err(Error::NotFound(_))), "{got:?}");
    }
    assert!(matches!(f.ws.record_attachments(&f.guest_b, "order", f.order_a).await, Err(Error::NotFound(_))));

    // The same content on another record is stored once; each attachment is checked on its own.
    let copy = f.ws.upload_attachment(&f.staff, "order", f.order_b, "copy.pdf", None, pdf.clone()).await.unwrap();
    assert_eq!(copy.sha256, internal.sha256);
    assert!(matches!(f.ws.attachment_content(&f.guest_a, copy.id).await, Err(Error::NotFound(_))));

    // Too large: refused, nothing stored. Executables and empty files: refused.
    let big = bytes::Bytes::from(vec![b'a'; 2048]);
    let too_big = f.ws.upload_attachment(&f.staff, "order", f.order_a, "big.txt", None, big).await;
    assert!(matches!(too_big, Err(Error::TooLarge(_))), "{too_big:?}");
    let mut elf = vec![0u8; 64];
    elf[..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
    let elf = bytes::Bytes::from(elf);
    let program = f.ws.upload_attachment(&f.staff, "order", f.order_a, "invoice.pdf", None, elf).await;
    assert!(matches!(program, Err(Error::Validation(_))), "{program:?}");
    let empty = f.ws.upload_attachment(&f.staff, "order", f.order_a, "x.txt", None, bytes::Bytes::new()).await;
    assert!(matches!(empty, Err(Error::Validation(_))), "{empty:?}");
    assert_eq!(f.ws.record_attachments(&f.staff, "order", f.order_a).await.unwrap().len(), 2);
    // A guest cannot upload to another party's record, nor an internal file.
    let denied = f.ws.upload_attachment(&f.guest_a, "order", f.order_b, "x.txt", None, "x".into()).await;
    assert!(matches!(denied, Err(Error::NotFound(_))), "{denied:?}");
    let internal_guest =
        f.ws.upload_attachment(&f.guest_a, "order", f.order_a, "x.txt", Some(MessageVisibility::Internal), "x".into())
            .await;
    assert!(matches!(internal_guest, Err(Error::Validation(_))), "{internal_guest:?}");

    // Only the uploader (or an administrator) removes a file.
    assert!(matches!(f.ws.delete_attachment(&f.outsider, internal.id).await, Err(Error::NotFound(_))));
    let colleague = people::member(&f.ws, &["employee"]).await;
    assert!(matches!(f.ws.delete_attachment(&colleague, internal.id).await, Err(Error::Forbidden(_))));
    f.ws.delete_attachment(&f.staff, internal.id).await.unwrap();
    assert!(matches!(f.ws.attachment_content(&f.staff, internal.id).await, Err(Error::NotFound(_))));
    // The content is still there for the copy.
    assert_eq!(&f.ws.attachment_content(&f.staff, copy.id).await.unwrap().1[..], &pdf[..]);

    // The workspace quota (4 KiB here) counts each content once, and refuses beyond it.
    let mut refusal = None;
    for i in 0..6u8 {
        let content = bytes::Bytes::from(vec![b'a' + i; 1000]);
        match f.ws.upload_attachment(&f.staff, "order", f.order_a, "fill.txt", None, content).await {
            Ok(_) => {}
            Err(Error::TooLarge(reason)) => {
                refusal = Some((i, reason));
                break;
            }
            Err(other) => panic!("{other}"),
        }
    }
    let (at, reason) = refusal.expect("the quota must stop uploads");
    assert_eq!(at, 4, "36 bytes stored + 4 × 1000 fit; the fifth does not");
    assert!(reason.contains("full"), "{reason}");
}
