//! The classifier's input for `src/integrity/findings/classifier/train.py`: reads one JSON
//! string per line on stdin and writes, per line, a JSON array of `[sentence, [features…]]` —
//! the sentences the scan would score in that text and their input vectors, computed by the
//! scan's own code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufWriter, Write};

fn main() {
    let stdin = std::io::stdin();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        let text: String = serde_json::from_str(&line).expect("one JSON string per line");
        let rows = portcullis::integrity::findings::classifier_sentences(&text);
        serde_json::to_writer(&mut out, &rows).expect("stdout");
        out.write_all(b"\n").expect("stdout");
    }
}
