//! Turning text into index terms: split identifiers and prose into words (`snake_case`,
//! `camelCase`, `kebab-case`, `dotted.names` and punctuation all separate words), lower-case,
//! drop function words, and stem with Snowball's English (Porter2) stemmer, so that "listing",
//! "lists" and "listed" meet "list".

use rust_stemmers::{Algorithm, Stemmer};

pub use crate::wordvec::words;

/// Function words that say nothing about which tool is meant. Deliberately short: words such as
/// "get", "list", "new", "all" or "read" name what tools do and must stay.
const STOPWORDS: &[&str] = &[
    "a", "about", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can", "could",
    "do", "does", "for", "from", "had", "has", "have", "he", "her", "here", "his", "how", "i",
    "if", "in", "into", "is", "it", "its", "it's", "just", "let", "me", "my", "of", "on", "or",
    "our", "please", "she", "should", "so", "some", "than", "that", "the", "their", "them", "then",
    "there", "these", "they", "this", "those", "to", "us", "was", "we", "were", "what", "what's",
    "whats", "when", "where", "which", "who", "whom", "why", "will", "with", "would", "you",
    "your", "i'd", "i'm", "want", "wanna", "need", "like", "also", "very", "s", "t",
];

/// Lower-cased, stemmed, stop-word-free terms of `text`, in order (duplicates kept).
pub struct Analyzer {
    stemmer: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzer {
    pub fn new() -> Self {
        Analyzer {
            stemmer: Stemmer::create(Algorithm::English),
        }
    }

    /// The terms of `text`.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for word in words(text) {
            if let Some(t) = self.term(&word) {
                out.push(t);
            }
        }
        out
    }

    /// One already-split, lower-case word → its term, or `None` for a stop word.
    pub fn term(&self, word: &str) -> Option<String> {
        if word.is_empty() || STOPWORDS.contains(&word) {
            return None;
        }
        Some(self.stemmer.stem(word).into_owned())
    }
}
