//! `Workspace::search`. The index proposes candidates in score order; each is then read
//! through the ordinary policy as the searcher (`get` for a record — grants, party cap,
//! shares, hidden fields — and the thread's access rules for a message), and kept only when
//! every query word is in what the searcher may read of it. The snippet is cut from that
//! same readable text. Candidates are over-fetched until the page is full or they run out;
//! no total is ever given (a count from the index would tell what the searcher may not see).

use std::collections::BTreeSet;

use base64::Engine;
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value as _};
use tantivy::snippet::{Snippet, SnippetGenerator};
use tantivy::{Searcher, TantivyDocument, Term};
use uuid::Uuid;
use weft_model::schema::{FieldError, FieldErrorCode};
use weft_model::{Principal, PrincipalKind};
use weft_store::kernel::access as shares;

use super::schema::{Fields, indexed_words, query_words};
use super::text::{message_text, record_texts};
use super::{SearchIndex, tantivy_error};
use crate::access::Action;
use crate::collab::FoundPlace;
use crate::{Error, Result, Workspace};
use weft_store::format_utc;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;
/// Characters a query may have.
pub const MAX_QUERY_CHARS: usize = 200;
/// Candidates re-checked for one page at most; past it the page ends early with a cursor.
const MAX_CHECKED: usize = 2_000;
/// Characters of a snippet.
const SNIPPET_CHARS: usize = 160;

/// What `GET /api/v1/search` asks.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub q: String,
    /// `record` or `message`; both when absent.
    pub kind: Option<String>,
    /// Only records of this type (and messages on them).
    pub type_name: Option<String>,
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    Record,
    Message,
}

/// A piece of a snippet; `hit` marks a query word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

/// The record a message was posted on.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchRecordRef {
    #[serde(rename = "type")]
    pub type_name: String,
    pub id: Uuid,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    pub kind: SearchKind,
    /// The record's type; for a message, its record's type or `channel`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The record's or the message's id.
    pub id: Uuid,
    /// The record's title (title field, else number); for a message, its record's title or
    /// its channel's name.
    pub title: String,
    pub snippet: Vec<SnippetPart>,
    /// A message's record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<SearchRecordRef>,
    /// A message's channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Uuid>,
    /// A message's thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<Uuid>,
    /// A message's `internal` or `shared`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    pub score: f32,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// Pass as `cursor` for more; absent when there are no more candidates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A checked request.
struct Request {
    words: Vec<String>,
    kind: Option<SearchKind>,
    type_name: Option<String>,
    limit: usize,
    offset: usize,
}

fn check(query: &SearchQuery) -> Result<Request> {
    let mut errors = Vec::new();
    let mut problem = |pointer: &str, code, reason: &str| {
        errors.push(FieldError { pointer: pointer.into(), code, reason: reason.into() })
    };
    let q = query.q.trim();
    if q.is_empty() {
        problem("/q", FieldErrorCode::Required, "say what to search for");
    } else if q.chars().count() > MAX_QUERY_CHARS {
        problem("/q", FieldErrorCode::TooLong, &format!("at most {MAX_QUERY_CHARS} characters"));
    }
    let kind = match query.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some("record") => Some(SearchKind::Record),
        Some("message") => Some(SearchKind::Message),
        Some(_) => {
            problem("/kind", FieldErrorCode::UnknownOption, "record or message");
            None
        }
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        problem("/limit", FieldErrorCode::OutOfRange, &format!("1 to {MAX_LIMIT}"));
    }
    let offset = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(cursor) => decode_cursor(cursor).unwrap_or_else(|| {
            problem("/cursor", FieldErrorCode::InvalidFormat, "not a cursor this search gave");
            0
        }),
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(Request {
        words: query_words(q),
        kind,
        type_name: query.type_name.clone().filter(|t| !t.is_empty()),
        limit: limit as usize,
        offset,
    })
}

/// Cursors are the number of candidates already gone through, kept opaque so the paging
/// can change without breaking clients that only pass them back.
fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("s1:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(raw).ok()?.strip_prefix("s1:")?.parse().ok()
}

/// What of the index a principal's candidates may come from at all: a narrowing for speed
/// only (a guest's query skips other parties' documents), never the decision.
struct Scope {
    /// Types it holds a read grant on or has a record of shared with it (`None`: all).
    types: Option<BTreeSet<String>>,
    /// A guest's party: only its documents, shared messages, and channel messages.
    guest_party: Option<Uuid>,
}

struct Candidate {
    score: f32,
    kind: String,
    type_name: String,
    id: Uuid,
}

impl Workspace {
    /// Searches records and messages for `query.q`, returning only what `principal` may
    /// read, best first. 422 for a bad query; 503 when this node has no index.
    pub async fn search(&self, principal: &Principal, query: &SearchQuery) -> Result<SearchPage> {
        let request = check(query)?;
        let index = self.require_search()?;
        if request.words.is_empty() {
            return Ok(SearchPage { hits: Vec::new(), next_cursor: None });
        }
        let scope = self.search_scope(principal).await?;
        let searcher = index.reader.searcher();
        let tantivy_query = build_query(&index.fields, &request, &scope);
        let mut snippets =
            SnippetGenerator::create(&searcher, tantivy_query.as_ref(), index.fields.text).map_err(tantivy_error)?;
        snippets.set_max_num_chars(SNIPPET_CHARS);

        let mut hits = Vec::new();
        let mut offset = request.offset;
        let mut checked = 0;
        let chunk = (request.limit * 2).max(40);
        loop {
            let candidates = candidates(&index, &searcher, tantivy_query.as_ref(), offset, chunk)?;
            let exhausted = candidates.len() < chunk;
            for candidate in candidates {
                offset += 1;
                checked += 1;
                if let Some(hit) = self.recheck(principal, &request.words, &snippets, candidate).await? {
                    hits.push(hit);
                    if hits.len() == request.limit {
                        return Ok(SearchPage { hits, next_cursor: Some(encode_cursor(offset)) });
                    }
                }
            }
            if exhausted {
                return Ok(SearchPage { hits, next_cursor: None });
            }
            if checked >= MAX_CHECKED {
                return Ok(SearchPage { hits, next_cursor: Some(encode_cursor(offset)) });
            }
        }
    }

    async fn search_scope(&self, principal: &Principal) -> Result<Scope> {
        if principal.is_system() {
            return Ok(Scope { types: None, guest_party: None });
        }
        let mut types: BTreeSet<String> = self
            .catalog
            .all()
            .iter()
            .filter(|entry| self.reach(principal, entry, &Action::Read).has_grant())
            .map(|entry| entry.decl.name.clone())
            .collect();
        types.extend(shares::shared_types(&self.db, principal.id).await?);
        types.insert("channel".into());
        let guest_party = match principal.kind {
            PrincipalKind::Guest { party } => Some(party),
            _ => None,
        };
        Ok(Scope { types: Some(types), guest_party })
    }

    /// The candidate as the principal may see it, or `None`.
    async fn recheck(
        &self,
        principal: &Principal,
        words: &[String],
        snippets: &SnippetGenerator,
        candidate: Candidate,
    ) -> Result<Option<SearchHit>> {
        if candidate.kind == "record" {
            let view = match self.get(principal, &candidate.type_name, candidate.id).await {
                Ok(view) => view,
                Err(Error::NotFound(_) | Error::Forbidden(_)) => return Ok(None),
                Err(e) => return Err(e),
            };
            let entry = self.entry(&candidate.type_name)?;
            // `get` left out the fields this principal may not read.
            let texts = record_texts(&entry.decl, view.system.number.as_deref(), &view.values);
            if !has_every_word(&texts, words) {
                return Ok(None);
            }
            let title = super::text::record_title(&entry.decl, &view.system, &view.values, &BTreeSet::new());
            return Ok(Some(SearchHit {
                kind: SearchKind::Record,
                type_name: candidate.type_name,
                id: candidate.id,
                title,
                snippet: parts(&snippets.snippet(&texts.join(" · "))),
                record: None,
                channel: None,
                thread: None,
                visibility: None,
                score: candidate.score,
                created_at: format_utc(view.system.created_at),
                updated_at: format_utc(view.system.updated_at),
            }));
        }
        let Some(found) = self.message_for_search(principal, candidate.id).await? else { return Ok(None) };
        let texts = vec![message_text(&found.message.body)];
        if !has_every_word(&texts, words) {
            return Ok(None);
        }
        let message = found.message;
        let (type_name, title, record, channel) = match found.place {
            FoundPlace::Record { type_name, id, title } => {
                let record = SearchRecordRef { type_name: type_name.clone(), id, title: title.clone() };
                (type_name, title, Some(record), None)
            }
            FoundPlace::Channel { id, name } => ("channel".to_owned(), name, None, Some(id)),
        };
        Ok(Some(SearchHit {
            kind: SearchKind::Message,
            type_name,
            id: message.id,
            title,
            snippet: parts(&snippets.snippet(&texts[0])),
            record,
            channel,
            thread: Some(message.thread_id),
            visibility: Some(message.visibility),
            score: candidate.score,
            created_at: format_utc(message.created_at),
            updated_at: format_utc(message.edited_at.unwrap_or(message.created_at)),
        }))
    }
}

fn term(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::Basic))
}

/// Every word (scored), within the kind, type and scope asked.
fn build_query(f: &Fields, request: &Request, scope: &Scope) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = request
        .words
        .iter()
        .map(|w| {
            let q: Box<dyn Query> =
                Box::new(TermQuery::new(Term::from_field_text(f.text, w), IndexRecordOption::WithFreqs));
            (Occur::Must, q)
        })
        .collect();
    if let Some(kind) = request.kind {
        let kind = if kind == SearchKind::Record { "record" } else { "message" };
        clauses.push((Occur::Must, term(f.kind, kind)));
    }
    if let Some(type_name) = &request.type_name {
        clauses.push((Occur::Must, term(f.type_name, type_name)));
    }
    if let Some(types) = &scope.types {
        let any: Vec<(Occur, Box<dyn Query>)> = types.iter().map(|t| (Occur::Should, term(f.type_name, t))).collect();
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
    }
    if let Some(party) = scope.guest_party {
        clauses.push((Occur::MustNot, term(f.visibility, "internal")));
        let ours =
            vec![(Occur::Should, term(f.party, &party.to_string())), (Occur::Should, term(f.type_name, "channel"))];
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(ours))));
    }
    Box::new(BooleanQuery::new(clauses))
}

fn candidates(
    index: &SearchIndex,
    searcher: &Searcher,
    query: &dyn Query,
    offset: usize,
    limit: usize,
) -> Result<Vec<Candidate>> {
    let f = &index.fields;
    let top = searcher
        .search(query, &TopDocs::with_limit(limit).and_offset(offset).order_by_score())
        .map_err(tantivy_error)?;
    let mut out = Vec::with_capacity(top.len());
    for (score, address) in top {
        let doc: TantivyDocument = searcher.doc(address).map_err(tantivy_error)?;
        let text = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let Ok(id) = Uuid::parse_str(&text(f.id)) else { continue };
        out.push(Candidate { score, kind: text(f.kind), type_name: text(f.type_name), id });
    }
    Ok(out)
}

fn has_every_word(texts: &[String], words: &[String]) -> bool {
    let readable = indexed_words(texts);
    words.iter().all(|w| readable.contains(w))
}

fn parts(snippet: &Snippet) -> Vec<SnippetPart> {
    let text = snippet.fragment();
    let mut out = Vec::new();
    let mut at = 0;
    for range in snippet.highlighted() {
        if range.start > at {
            out.push(SnippetPart { text: text[at..range.start].to_owned(), hit: false });
        }
        out.push(SnippetPart { text: text[range.clone()].to_owned(), hit: true });
        at = range.end;
    }
    if at < text.len() {
        out.push(SnippetPart { text: text[at..].to_owned(), hit: false });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(40)), Some(40));
        assert_eq!(decode_cursor("40"), None);
        assert_eq!(decode_cursor("!!"), None);
    }

    #[test]
    fn bad_requests_name_each_field() {
        let query = SearchQuery { q: " ".into(), kind: Some("doc".into()), limit: Some(0), ..SearchQuery::default() };
        let Err(Error::Validation(errors)) = check(&query) else { panic!("refused") };
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/q", "/kind", "/limit"]);
    }
}
