//! Server-Sent Events: an incremental parser for streams from backends (untrusted) and the encoder
//! for streams to clients. Hand-written because the parser must enforce a per-event size limit and
//! accept arbitrary chunk boundaries; the format is small (WHATWG HTML §9.2).

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    pub event: Option<String>,
    pub data: String,
    pub id: Option<String>,
    pub retry: Option<u64>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SseError {
    #[error("SSE event exceeds the limit of {0} bytes")]
    TooLarge(usize),
}

/// Incremental parser: feed arbitrary chunks, get complete events.
#[derive(Debug)]
pub struct Parser {
    buf: Vec<u8>,
    max_event: usize,
    current: Event,
    has_data: bool,
    pending_bytes: usize,
    started: bool,
}

impl Parser {
    pub fn new(max_event: usize) -> Self {
        Self {
            buf: Vec::new(),
            max_event,
            current: Event::default(),
            has_data: false,
            pending_bytes: 0,
            started: false,
        }
    }

    /// Feed bytes; returns the events completed by them.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Event>, SseError> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(pos) = self.buf.iter().position(|b| *b == b'\n' || *b == b'\r') {
            // A lone CR at the end of the buffer may be the first half of CRLF: wait for more.
            let sep_len = match (self.buf.get(pos), self.buf.get(pos + 1)) {
                (Some(b'\r'), Some(b'\n')) => 2,
                (Some(b'\r'), None) => break,
                _ => 1,
            };
            let line: Vec<u8> = self.buf.drain(..pos).collect();
            self.buf.drain(..sep_len);
            if let Some(ev) = self.line(&line)? {
                out.push(ev);
            }
        }
        if self.buf.len() + self.pending_bytes > self.max_event {
            return Err(SseError::TooLarge(self.max_event));
        }
        Ok(out)
    }

    fn line(&mut self, raw: &[u8]) -> Result<Option<Event>, SseError> {
        let mut line = String::from_utf8_lossy(raw).into_owned();
        if !self.started {
            self.started = true;
            if let Some(stripped) = line.strip_prefix('\u{feff}') {
                line = stripped.to_owned();
            }
        }
        if line.is_empty() {
            let ev = std::mem::take(&mut self.current);
            let had = std::mem::replace(&mut self.has_data, false);
            self.pending_bytes = 0;
            // Per spec, an event with no data is not dispatched; id/retry still apply, but we
            // have no reconnection state that needs them.
            return Ok(had.then_some(ev));
        }
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.find(':') {
            Some(i) => {
                let (f, v) = line.split_at(i);
                let v = v.get(1..).unwrap_or("");
                (f.to_owned(), v.strip_prefix(' ').unwrap_or(v).to_owned())
            }
            None => (line.clone(), String::new()),
        };
        self.pending_bytes += raw.len();
        if self.pending_bytes > self.max_event {
            return Err(SseError::TooLarge(self.max_event));
        }
        match field.as_str() {
            "event" => self.current.event = Some(value),
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(&value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.current.id = Some(value),
            "retry" => {
                if let Ok(ms) = value.parse() {
                    self.current.retry = Some(ms);
                }
            }
            _ => {}
        }
        Ok(None)
    }
}

/// One JSON-RPC message as an SSE `message` event, serialised straight into the event (no
/// intermediate string, no formatter): the encoding of every response a client gets.
pub fn encode_value(msg: &serde_json::Value) -> Vec<u8> {
    const HEAD: &[u8] = b"event: message\ndata: ";
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(HEAD);
    // INVARIANT: compact `serde_json` output has no raw newline (a string escapes it), so the
    // message is one `data:` line. Writing a `Value` into a `Vec` cannot fail.
    if serde_json::to_writer(&mut out, msg).is_err() {
        out.truncate(HEAD.len());
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(b"\n\n");
    out
}

/// Encode one JSON-RPC message as an SSE `message` event.
pub fn encode_message(json: &str, id: Option<&str>) -> String {
    let mut s = String::with_capacity(json.len() + 32);
    if let Some(id) = id {
        s.push_str("id: ");
        s.push_str(id);
        s.push('\n');
    }
    s.push_str("event: message\n");
    // serde_json never emits raw newlines, but be exact anyway: one data line per line.
    for line in json.split('\n') {
        s.push_str("data: ");
        s.push_str(line);
        s.push('\n');
    }
    s.push('\n');
    s
}
