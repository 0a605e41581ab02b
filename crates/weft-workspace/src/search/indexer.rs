//! Keeps one node's index in step with the database. A fresh index (none yet, deleted, or of
//! an older schema) is first built from the tables — every live record of every declared
//! type and every live message — as of the outbox head read *before* the scan, so events
//! that commit during it are applied again afterwards (every update replaces the document
//! by its key, so applying one twice is harmless). Then it follows the outbox: each event
//! names a record or message, which is re-read as it is now and re-indexed or removed.
//! Each batch is committed with the position it reaches in the commit's payload: the index
//! and its position can never disagree, and the shared consumer offsets are not touched.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tantivy::{TantivyDocument, Term};
use uuid::Uuid;
use weft_store::kernel::collab::{self as store, StoredMessage};
use weft_store::kernel::outbox::{self, StoredEvent};
use weft_store::records::rows::{self, ListRequest, Source, StoredRecord};

use super::schema::{Fields, SCHEMA_VERSION};
use super::text::{message_text, record_texts};
use super::{Payload, SearchIndex, tantivy_error};
use crate::catalog::TypeEntry;
use crate::{Result, Workspace};

/// Events per commit: small, so a change is searchable well within a second.
const BATCH: u64 = 256;
/// Rows per read while rebuilding.
const REBUILD_PAGE: u64 = 500;

impl SearchIndex {
    fn upsert_record(&self, entry: &TypeEntry, record: &StoredRecord) -> Result<()> {
        let f = &self.fields;
        let key = record_key(&entry.decl.name, record.system.id);
        let mut doc = TantivyDocument::new();
        doc.add_text(f.key, &key);
        doc.add_text(f.kind, "record");
        doc.add_text(f.type_name, &entry.decl.name);
        doc.add_text(f.id, record.system.id.to_string());
        doc.add_text(f.party, record.system.party.map(|p| p.to_string()).unwrap_or_default());
        doc.add_text(f.visibility, "");
        for text in record_texts(&entry.decl, record.system.number.as_deref(), &record.values) {
            doc.add_text(f.text, text);
        }
        self.replace(&key, Some(doc))
    }

    fn upsert_message(&self, message: &StoredMessage, place: &str, party: Option<Uuid>) -> Result<()> {
        let f: &Fields = &self.fields;
        let key = message_key(message.id);
        let mut doc = TantivyDocument::new();
        doc.add_text(f.key, &key);
        doc.add_text(f.kind, "message");
        doc.add_text(f.type_name, place);
        doc.add_text(f.id, message.id.to_string());
        doc.add_text(f.party, party.map(|p| p.to_string()).unwrap_or_default());
        doc.add_text(f.visibility, &message.visibility);
        doc.add_text(f.text, message_text(&message.body));
        self.replace(&key, Some(doc))
    }

    /// Removes the document under `key` and adds `doc` in its place (the delete applies to
    /// what was added before it, never to `doc`).
    fn replace(&self, key: &str, doc: Option<TantivyDocument>) -> Result<()> {
        let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        writer.delete_term(Term::from_field_text(self.fields.key, key));
        if let Some(doc) = doc {
            writer.add_document(doc).map_err(tantivy_error)?;
        }
        Ok(())
    }

    /// Commits what was added with the position it reaches, then lets readers see it.
    async fn commit(self: &Arc<Self>, position: i64) -> Result<()> {
        let index = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut writer = index.writer.lock().unwrap_or_else(|e| e.into_inner());
            let payload = serde_json::to_string(&Payload { schema: SCHEMA_VERSION, position })
                .map_err(|e| crate::Error::Internal(format!("search commit payload: {e}")))?;
            let mut prepared = writer.prepare_commit().map_err(tantivy_error)?;
            prepared.set_payload(&payload);
            prepared.commit().map_err(tantivy_error)?;
            drop(writer);
            index.reader.reload().map_err(tantivy_error)?;
            *index.position.lock().unwrap_or_else(|e| e.into_inner()) = Some(position);
            Ok(())
        })
        .await
        .map_err(|e| crate::Error::Internal(format!("search commit: {e}")))?
    }
}

fn record_key(type_name: &str, id: Uuid) -> String {
    format!("record:{type_name}:{id}")
}

fn message_key(id: Uuid) -> String {
    format!("message:{id}")
}

/// What an indexing pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexRun {
    /// Whether the index was built from the tables first.
    pub rebuilt: bool,
    /// Records and messages written while rebuilding.
    pub documents: u64,
    /// Outbox events applied after that.
    pub events: u64,
}

impl Workspace {
    /// Brings this node's index up to the outbox head: builds it from the tables first when
    /// it has no position, then applies the events after its position. Returns what it did.
    pub async fn index_pending(&self) -> Result<IndexRun> {
        let index = self.require_search()?;
        let _pass = index.pass.lock().await;
        let mut run = IndexRun::default();
        let mut position = match index.position() {
            Some(p) => p,
            None => {
                run.rebuilt = true;
                let (head, documents) = self.rebuild(&index).await?;
                run.documents = documents;
                head
            }
        };
        loop {
            let events = outbox::read_after(&self.db, position, BATCH).await?;
            let Some(last) = events.last().map(|e| e.seq) else { break };
            for event in &events {
                self.apply(&index, event).await?;
            }
            index.commit(last).await?;
            run.events += events.len() as u64;
            position = last;
        }
        Ok(run)
    }

    async fn rebuild(&self, index: &Arc<SearchIndex>) -> Result<(i64, u64)> {
        let head = outbox::head(&self.db).await?;
        tracing::info!(head, "building the search index from the tables");
        index.writer.lock().unwrap_or_else(|e| e.into_inner()).delete_all_documents().map_err(tantivy_error)?;
        let mut documents = 0;
        let mut parties: HashMap<(String, Uuid), Option<Uuid>> = HashMap::new();
        for entry in self.catalog.all() {
            let mut request = ListRequest { limit: REBUILD_PAGE, ..ListRequest::default() };
            loop {
                let page = rows::list(&self.db, &entry.spec, &request).await?;
                for record in &page.records {
                    index.upsert_record(&entry, record)?;
                    parties.insert((entry.decl.name.clone(), record.system.id), record.system.party);
                    documents += 1;
                }
                match page.last {
                    Some(last) if page.records.len() as u64 == REBUILD_PAGE => request.after = Some(last),
                    _ => break,
                }
            }
        }
        let mut places: HashMap<Uuid, (String, Option<Uuid>)> = HashMap::new();
        let mut after = None;
        loop {
            let messages = store::live_messages_after(&self.db, after, REBUILD_PAGE).await?;
            for message in &messages {
                let (place, party) = match places.entry(message.thread_id) {
                    std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(self.place_of(message.thread_id, Some(&parties)).await?)
                    }
                };
                index.upsert_message(message, place, *party)?;
                documents += 1;
            }
            match messages.last() {
                Some(last) if messages.len() as u64 == REBUILD_PAGE => after = Some(last.id),
                _ => break,
            }
        }
        index.commit(head).await?;
        tracing::info!(documents, "search index built");
        Ok((head, documents))
    }

    /// A thread's place for the index (its record's type, or `channel`) and the party whose
    /// guests may see its shared messages.
    async fn place_of(
        &self,
        thread: Uuid,
        known: Option<&HashMap<(String, Uuid), Option<Uuid>>>,
    ) -> Result<(String, Option<Uuid>)> {
        let Some(thread) = store::thread(&self.db, thread).await? else { return Ok(("channel".into(), None)) };
        match (thread.kind.as_str(), thread.type_name, thread.record_id) {
            ("record", Some(type_name), Some(record_id)) => {
                let party = match known.and_then(|k| k.get(&(type_name.clone(), record_id))) {
                    Some(party) => *party,
                    None => match self.catalog.get(&type_name) {
                        Some(entry) => rows::get(Source::Db(&self.db), &entry.spec, record_id, true)
                            .await?
                            .and_then(|r| r.system.party),
                        None => None,
                    },
                };
                Ok((type_name, party))
            }
            _ => Ok(("channel".into(), None)),
        }
    }

    /// Re-reads what one event is about and re-indexes or removes it.
    async fn apply(&self, index: &SearchIndex, event: &StoredEvent) -> Result<()> {
        let kind = event.kind.as_str();
        if kind == "type.declared" {
            // New or changed fields: re-index the type's records.
            if let Some(entry) = self.catalog.get(&event.type_name) {
                let mut request = ListRequest { limit: REBUILD_PAGE, ..ListRequest::default() };
                loop {
                    let page = rows::list(&self.db, &entry.spec, &request).await?;
                    for record in &page.records {
                        index.upsert_record(&entry, record)?;
                    }
                    match page.last {
                        Some(last) if page.records.len() as u64 == REBUILD_PAGE => request.after = Some(last),
                        _ => break,
                    }
                }
            }
        } else if kind.starts_with("record.") {
            let (Some(id), Some(entry)) = (event.record_id, self.catalog.get(&event.type_name)) else {
                return Ok(());
            };
            match rows::get(Source::Db(&self.db), &entry.spec, id, false).await? {
                Some(record) => index.upsert_record(&entry, &record)?,
                None => index.replace(&record_key(&event.type_name, id), None)?,
            }
        } else if kind.starts_with("message.") {
            let Some(id) = event.payload.get("message").and_then(|m| m.as_str()).and_then(|m| Uuid::parse_str(m).ok())
            else {
                return Ok(());
            };
            match store::message(&self.db, id).await? {
                Some(message) if message.deleted_at.is_none() => {
                    let (place, party) = self.place_of(message.thread_id, None).await?;
                    index.upsert_message(&message, &place, party)?;
                }
                _ => index.replace(&message_key(id), None)?,
            }
        }
        Ok(())
    }

    /// Follows the outbox into this node's index until `stop`: a pass whenever events are
    /// waiting (checked every 100 ms, at once after a full pass), so a change is searchable
    /// within about a second; failures are retried with backoff.
    pub fn spawn_search_indexer(&self, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let workspace = self.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(500);
            loop {
                let pause = match workspace.index_pending().await {
                    Ok(_) => {
                        backoff = Duration::from_millis(500);
                        Duration::from_millis(100)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the search index could not follow the outbox; retrying");
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                        backoff
                    }
                };
                tokio::select! {
                    _ = stop.changed() => break,
                    () = tokio::time::sleep(pause) => {}
                }
                if *stop.borrow() {
                    break;
                }
            }
        })
    }
}
