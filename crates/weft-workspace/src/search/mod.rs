//! Full-text search (DESIGN.md "Scale-out": each node keeps its own index built from the
//! event log). `SearchIndex` is one node's tantivy index (`<data>/search`, or in memory);
//! `indexer` fills it from the tables and then follows the outbox, keeping the position it
//! indexed up to in the index's own commit, so every node catches up on its own; `query`
//! answers `Workspace::search`, where the index only proposes candidates and each one is
//! re-read through the ordinary read policy before it is shown.

mod indexer;
mod query;
mod schema;
mod text;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument};

pub use indexer::IndexRun;
pub use query::{SearchHit, SearchKind, SearchPage, SearchQuery, SearchRecordRef, SnippetPart};
pub(crate) use text::record_title;

use crate::{Error, Result, Workspace};

/// Memory the writer buffers before it writes a segment on its own.
const WRITER_MEMORY: usize = 50_000_000;

/// What each commit of the index carries: its schema version and the outbox position it
/// holds everything up to.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    schema: u32,
    position: i64,
}

/// One node's search index. Cheap to share (`Arc`); one indexer writes, any reader reads.
pub struct SearchIndex {
    fields: schema::Fields,
    reader: IndexReader,
    writer: Mutex<IndexWriter<TantivyDocument>>,
    /// The outbox position everything up to is committed; `None` until built.
    position: Mutex<Option<i64>>,
    /// One indexing pass at a time (the spawned follower and a test's catch-up).
    pass: tokio::sync::Mutex<()>,
    location: Option<PathBuf>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("location", &self.location).finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// An index in memory, built from scratch on first use: tests, throw-away workspaces.
    pub fn in_memory() -> Result<SearchIndex> {
        let (schema, _) = schema::build();
        SearchIndex::from_index(Index::create_in_ram(schema), None)
    }

    /// The index in `dir` (normally `<data>/search`). A missing, unreadable or older-schema
    /// index is replaced by an empty one, which the indexer then rebuilds from the tables.
    pub fn open(dir: &Path) -> Result<SearchIndex> {
        if dir.exists() {
            match Index::open_in_dir(dir) {
                Ok(index) => match read_payload(&index) {
                    Some(p) if p.schema != schema::SCHEMA_VERSION => {
                        tracing::info!(dir = %dir.display(), "the search index has an older schema; rebuilding it");
                    }
                    _ => return SearchIndex::from_index(index, Some(dir.to_owned())),
                },
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "the search index cannot be opened; rebuilding it")
                }
            }
            std::fs::remove_dir_all(dir).map_err(|e| io_error(dir, e))?;
        }
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let (schema, _) = schema::build();
        let directory = MmapDirectory::open(dir).map_err(|e| Error::Internal(format!("search index: {e}")))?;
        let index = Index::create(directory, schema, Default::default()).map_err(tantivy_error)?;
        SearchIndex::from_index(index, Some(dir.to_owned()))
    }

    fn from_index(index: Index, location: Option<PathBuf>) -> Result<SearchIndex> {
        schema::register_analyzers(&index);
        let (_, fields) = schema::build();
        let position = read_payload(&index).filter(|p| p.schema == schema::SCHEMA_VERSION).map(|p| p.position);
        // One indexing thread: the machine is shared with the database and the requests.
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY).map_err(tantivy_error)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(tantivy_error)?;
        Ok(SearchIndex {
            fields,
            reader,
            writer: Mutex::new(writer),
            position: Mutex::new(position),
            pass: tokio::sync::Mutex::new(()),
            location,
        })
    }

    /// The outbox position the index holds everything up to; `None` before it is built.
    pub fn position(&self) -> Option<i64> {
        *self.position.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where the index lives; `None` in memory.
    pub fn location(&self) -> Option<&Path> {
        self.location.as_deref()
    }
}

fn read_payload(index: &Index) -> Option<Payload> {
    let payload = index.load_metas().ok()?.payload?;
    serde_json::from_str(&payload).ok()
}

pub(crate) fn tantivy_error(e: tantivy::TantivyError) -> Error {
    Error::Internal(format!("search index: {e}"))
}

fn io_error(dir: &Path, e: std::io::Error) -> Error {
    Error::Internal(format!("search index folder {}: {e}", dir.display()))
}

impl Workspace {
    /// Gives the workspace its search index (`weft serve`: `<data>/search`; tests: memory).
    /// Without one, `search` answers 503.
    pub fn with_search_index(mut self, index: SearchIndex) -> Self {
        self.search = Some(Arc::new(index));
        self
    }

    pub fn search_index(&self) -> Option<&Arc<SearchIndex>> {
        self.search.as_ref()
    }

    pub(crate) fn require_search(&self) -> Result<Arc<SearchIndex>> {
        self.search.clone().ok_or_else(|| Error::Unavailable("search is not set up on this node".into()))
    }
}
