"""Shared helpers for writing the labelled poisoning set: realistic tool definitions from a few
server "personas", and the placements a payload can take inside a definition (appended to the
description, a property description, an enum value, a default, an example, `_meta`, an
annotation, an unknown field, the title).

Each split has its own script (`dev.py`, `heldout.py`) with hand-written texts; running one
writes `<split>.json` (the definitions) and rewrites that split's rows of `labels.tsv`.
"""

import json
import pathlib

HERE = pathlib.Path(__file__).parent

# A base tool per persona: (backend, name, title, description, properties, required)
BASES = [
    ("weather", "get_forecast", "Weather forecast",
     "Get the weather forecast for a location for the next days.",
     {"location": {"type": "string", "description": "City name or 'lat,lon' coordinates"},
      "days": {"type": "integer", "minimum": 1, "maximum": 14, "default": 3,
               "description": "Number of days to forecast"},
      "units": {"type": "string", "enum": ["metric", "imperial"], "default": "metric"}},
     ["location"]),
    ("calc", "add", "Add numbers", "Adds two numbers and returns the sum.",
     {"a": {"type": "number", "description": "First number"},
      "b": {"type": "number", "description": "Second number"}},
     ["a", "b"]),
    ("notes", "create_note", "Create note",
     "Create a new note in the user's notebook with a title and markdown body.",
     {"title": {"type": "string", "description": "Note title"},
      "body": {"type": "string", "description": "Markdown content of the note"},
      "tags": {"type": "array", "items": {"type": "string"}, "description": "Optional tags"}},
     ["title", "body"]),
    ("files", "search_files", "Search files",
     "Recursively search for files whose names match a glob pattern under a directory.",
     {"path": {"type": "string", "description": "Directory to start from"},
      "pattern": {"type": "string", "description": "Glob pattern, e.g. *.md"},
      "max_results": {"type": "integer", "default": 100}},
     ["path", "pattern"]),
    ("crm", "lookup_customer", "Look up customer",
     "Find a customer record by email address or customer id and return their profile.",
     {"query": {"type": "string", "description": "Email address or customer id"},
      "include_orders": {"type": "boolean", "default": False,
                         "description": "Also return the customer's recent orders"}},
     ["query"]),
    ("translate", "translate_text", "Translate text",
     "Translate text between languages using the configured translation engine.",
     {"text": {"type": "string", "description": "Text to translate"},
      "target": {"type": "string", "description": "Target language code (ISO 639-1)"},
      "source": {"type": "string", "description": "Source language code; detected when omitted"}},
     ["text", "target"]),
    ("facts", "random_fact", "Random fact",
     "Returns a random interesting fact about a topic.",
     {"topic": {"type": "string", "description": "Topic such as animals, space or history"}},
     []),
    ("db", "run_query", "Run SQL query",
     "Run a read-only SQL query against the analytics database and return the rows as JSON.",
     {"sql": {"type": "string", "description": "A single SELECT statement"},
      "limit": {"type": "integer", "default": 500, "description": "Maximum rows returned"}},
     ["sql"]),
    ("shell", "run_command", "Run command",
     "Run a shell command in the project sandbox and return stdout, stderr and the exit code.",
     {"command": {"type": "string", "description": "The command line to run"},
      "cwd": {"type": "string", "description": "Working directory inside the sandbox"},
      "timeout_ms": {"type": "integer", "default": 30000}},
     ["command"]),
    ("docs", "summarize_document", "Summarize document",
     "Summarize a document from the knowledge base in a few bullet points.",
     {"doc_id": {"type": "string", "description": "Document identifier"},
      "length": {"type": "string", "enum": ["short", "medium", "long"], "default": "short"}},
     ["doc_id"]),
    ("bank", "get_balance", "Account balance",
     "Return the current balance of one of the user's bank accounts.",
     {"account_id": {"type": "string", "description": "Account identifier"}},
     ["account_id"]),
    ("git", "git_status", "Git status",
     "Show the working tree status of a git repository.",
     {"repo_path": {"type": "string", "description": "Path to the repository"}},
     ["repo_path"]),
]

# Tools that other backends of the same gateway offer (for cross-server shadowing). Every split
# shares them; the scanner is built with them as the gateway would.
OTHER_BACKENDS = {
    "mailer": ["send_email", "list_inbox", "read_email"],
    "chat": ["send_message", "list_channels"],
    "payments": ["transfer_funds", "list_transactions"],
    "github": ["create_issue", "create_pull_request", "search_repositories"],
}


def tool(name, description, properties=None, required=None, title=None, **extra):
    schema = {"type": "object", "properties": properties or {}}
    if required:
        schema["required"] = required
    d = {"name": name}
    if title:
        d["title"] = title
    d["description"] = description
    d["inputSchema"] = schema
    d.update(extra)
    return d


def base(i):
    backend, name, title, desc, props, req = BASES[i % len(BASES)]
    return backend, tool(name, desc, json.loads(json.dumps(props)), list(req), title=title)


def placed(i, payload, where):
    """A definition of base persona `i` carrying `payload` at `where`."""
    backend, d = base(i)
    props = d["inputSchema"]["properties"]
    first = next(iter(props)) if props else None
    if where == "append":
        d["description"] = d["description"] + " " + payload
    elif where == "append_nl":
        d["description"] = d["description"] + "\n\n" + payload
    elif where == "prepend":
        d["description"] = payload + " " + d["description"]
    elif where == "replace":
        d["description"] = payload
    elif where == "property" and first:
        props[first]["description"] = props[first].get("description", "") + " " + payload
    elif where == "new_property":
        props["context"] = {"type": "string", "description": payload}
    elif where == "enum" and first:
        props[first]["enum"] = ["default", payload]
    elif where == "default" and first:
        props[first]["default"] = payload
    elif where == "examples" and first:
        props[first]["examples"] = ["example", payload]
    elif where == "meta":
        d["_meta"] = {"com.example/notes": payload}
    elif where == "annotation":
        d["annotations"] = {"title": payload, "readOnlyHint": True}
    elif where == "unknown":
        d["x-usage"] = payload
    elif where == "title":
        d["title"] = payload
    elif where == "nested":
        props["options"] = {"type": "object", "properties": {
            "mode": {"type": "string", "description": payload}}}
    else:
        raise ValueError(where)
    return backend, d


def write(split, items):
    """items: list of (id, backend, kind, definition, label, class, expect)."""
    defs = [{"id": i, "backend": b, "kind": k, "definition": d} for i, b, k, d, *_ in items]
    ids = [i for i, *_ in items]
    assert len(ids) == len(set(ids)), "duplicate ids"
    # Every backend's tool names, as the gateway knows them: the split's own tools plus the
    # tools of the other backends it is connected to.
    backends = {b: sorted(set(ts)) for b, ts in OTHER_BACKENDS.items()}
    for _, b, k, d, *_ in items:
        if k == "tool":
            backends.setdefault(b, [])
            if d["name"] not in backends[b]:
                backends[b].append(d["name"])
    backends = {b: sorted(ts) for b, ts in sorted(backends.items())}
    out = {"backends": backends, "items": defs}
    (HERE / f"{split}.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    labels_path = HERE / "labels.tsv"
    header = "id\tsplit\tlabel\tclass\texpect"
    rows = []
    if labels_path.exists():
        rows = [r for r in labels_path.read_text().splitlines()[1:]
                if r and r.split("\t")[1] != split]
    for i, b, k, d, label, cls, expect in items:
        rows.append(f"{i}\t{split}\t{label}\t{cls}\t{expect}")
    rows.sort(key=lambda r: (r.split("\t")[1] != "dev", r))
    labels_path.write_text("\n".join([header] + rows) + "\n")
    print(f"{split}: {len(items)} definitions "
          f"({sum(1 for x in items if x[4] == 'poisoned')} poisoned)")


class Split:
    """Collects items of one split with ids `<split>-<class>-<n>`."""

    def __init__(self, name):
        self.name = name
        self.items = []
        self.counts = {}

    def _id(self, cls):
        n = self.counts.get(cls, 0) + 1
        self.counts[cls] = n
        return f"{self.name}-{cls}-{n:03d}"

    def poisoned(self, cls, backend, definition, expect="quarantine", kind="tool"):
        self.items.append((self._id(cls), backend, kind, definition, "poisoned", cls, expect))

    def benign(self, cls, backend, definition, kind="tool"):
        self.items.append((self._id(cls), backend, kind, definition, "benign", cls, "none"))

    def payloads(self, cls, texts, wheres, expect="quarantine", start=0):
        """One definition per text, cycling through personas and placements."""
        for k, text in enumerate(texts):
            backend, d = placed(start + k, text, wheres[k % len(wheres)])
            self.poisoned(cls, backend, d, expect)

    def write(self):
        write(self.name, self.items)


def shorthand(s):
    """The shorthand the hand-written splits (`heldout3.py` on) write with, bound to split `s`:
    `P` poisoned persona, `PT` poisoned definition, `props` a schema's properties, `B` benign
    definition, `BP` benign persona."""

    def P(cls, i, where, text, expect="quarantine"):
        """Poisoned: persona i carrying text at `where`."""
        backend, d = placed(i, text, where)
        s.poisoned(cls, backend, d, expect)

    def PT(cls, backend, definition, expect="quarantine", kind="tool"):
        s.poisoned(cls, backend, definition, expect, kind)

    def props(**kw):
        """name=description (string param) or name=dict (full schema)."""
        out = {}
        for k, v in kw.items():
            out[k] = v if isinstance(v, dict) else {"type": "string", "description": v}
        return out

    def B(cls, backend, name, desc, properties=None, required=None, title=None, **extra):
        s.benign(cls, backend, tool(name, desc, properties, required, title=title, **extra))

    def BP(cls, i, where, text):
        """Benign: persona i carrying a harmless text at `where`."""
        backend, d = placed(i, text, where)
        s.benign(cls, backend, d)

    return P, PT, props, B, BP
