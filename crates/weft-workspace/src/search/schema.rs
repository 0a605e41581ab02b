//! The index's shape: its fields and the two analyzers (jieba for Chinese and English words,
//! lower-cased). Bump `SCHEMA_VERSION` whenever a field or an analyzer changes: a node that
//! finds an index of another version throws it away and rebuilds it from the tables.

use tantivy::Index;
use tantivy::schema::{Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, TextAnalyzer};
use tantivy_jieba::JiebaTokenizer;

pub(crate) const SCHEMA_VERSION: u32 = 1;

/// Indexing: jieba's search mode also emits the shorter words inside long ones
/// (交货延迟 → 交货, 延迟), so a query word matches inside a compound.
pub(crate) const TEXT_ANALYZER: &str = "weft_text";
/// Queries: jieba's default mode, the coarsest words, each of which the indexing mode emits
/// too. HMM (guessing unknown words) is off on both sides so the two always agree.
pub(crate) const QUERY_ANALYZER: &str = "weft_query";

#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// `record:<type>:<id>` or `message:<id>`: what an update replaces.
    pub key: Field,
    /// `record` or `message`.
    pub kind: Field,
    /// A record's type; a message's record type, or `channel`.
    pub type_name: Field,
    pub id: Field,
    /// The record's party (a message's: its record's), or empty: lets a guest's query skip
    /// other parties' documents before the policy re-check (the re-check still decides).
    pub party: Field,
    /// A message's `internal` or `shared`; empty for records.
    pub visibility: Field,
    /// The words, one value per field (so words of two fields never join).
    pub text: Field,
}

pub(crate) fn build() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(TEXT_ANALYZER).set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        key: builder.add_text_field("key", STRING),
        kind: builder.add_text_field("kind", STRING | STORED),
        type_name: builder.add_text_field("type", STRING | STORED),
        id: builder.add_text_field("id", STRING | STORED),
        party: builder.add_text_field("party", STRING),
        visibility: builder.add_text_field("visibility", STRING),
        text: builder.add_text_field("text", text),
    };
    (builder.build(), fields)
}

pub(crate) fn register_analyzers(index: &Index) {
    index.tokenizers().register(TEXT_ANALYZER, analyzer(true));
    index.tokenizers().register(QUERY_ANALYZER, analyzer(false));
}

pub(crate) fn analyzer(search_mode: bool) -> TextAnalyzer {
    let mut jieba = JiebaTokenizer::with_search_mode(search_mode);
    jieba.set_hmm(false);
    TextAnalyzer::builder(jieba).filter(RemoveLongFilter::limit(64)).filter(LowerCaser).build()
}

/// The words of `text` as the query side sees them: punctuation and spaces (which jieba
/// emits as tokens of their own) dropped, each word once.
pub(crate) fn query_words(text: &str) -> Vec<String> {
    let mut analyzer = analyzer(false);
    let mut stream = analyzer.token_stream(text);
    let mut out: Vec<String> = Vec::new();
    while let Some(token) = stream.next() {
        if token.text.chars().any(char::is_alphanumeric) && !out.contains(&token.text) {
            out.push(token.text.clone());
        }
    }
    out
}

/// Every word the indexing side makes of `texts`.
pub(crate) fn indexed_words(texts: &[String]) -> std::collections::BTreeSet<String> {
    let mut analyzer = analyzer(true);
    let mut out = std::collections::BTreeSet::new();
    for text in texts {
        let mut stream = analyzer.token_stream(text);
        while let Some(token) = stream.next() {
            out.insert(token.text.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_query_words_are_found_among_the_indexed_words_of_a_sentence() {
        let words = query_words("交货延迟 原因");
        assert!(words.len() >= 2, "{words:?}");
        let indexed = indexed_words(&["本批货物交货延迟的原因是港口拥堵。".to_owned()]);
        for w in &words {
            assert!(indexed.contains(w), "{w} not in {indexed:?}");
        }
    }

    #[test]
    fn english_words_are_lower_cased_and_punctuation_dropped() {
        assert_eq!(query_words("Late  delivery!"), vec!["late", "delivery"]);
        let indexed = indexed_words(&["The LATE delivery, again.".to_owned()]);
        assert!(indexed.contains("late") && indexed.contains("delivery"));
    }
}
