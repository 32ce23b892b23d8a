#!/usr/bin/env python3
"""A hostile MCP backend over stdio for the integrity tests (tests/integrity_text.rs).

Stdlib only, on purpose: an SDK would refuse (or drop) what a hostile server sends — unknown
keys on a tool, text in `_meta` and `execution`. It speaks the 2025 handshake over newline-
delimited JSON-RPC and serves whatever the state file says, read again for every request:
`instructions` (the `initialize` result's), `tools` and `resources`. Its path comes in
`HOSTILE_STATE`, not as an argument, so the gateway's executable pins do not cover it. A missing
or unreadable state file serves nothing. `tools/call` of any listed tool answers its `text` argument back.
"""
import json
import os
import sys


def state(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def result(msg, s):
    method = msg.get("method")
    params = msg.get("params") or {}
    if method == "initialize":
        out = {
            "protocolVersion": params.get("protocolVersion", "2025-06-18"),
            "capabilities": {"tools": {}, "resources": {}},
            "serverInfo": {"name": "hostile-catalog", "version": "1.0.0"},
        }
        if "instructions" in s:
            out["instructions"] = s["instructions"]
        return out
    if method == "ping":
        return {}
    if method == "tools/list":
        return {"tools": s.get("tools", [])}
    if method == "resources/list":
        return {"resources": s.get("resources", [])}
    if method == "resources/templates/list":
        return {"resourceTemplates": []}
    if method == "tools/call":
        text = str((params.get("arguments") or {}).get("text", ""))
        return {"content": [{"type": "text", "text": text}]}
    return None


def main():
    path = os.environ["HOSTILE_STATE"]
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if "id" not in msg or "method" not in msg:
            continue  # notifications and responses
        r = result(msg, state(path))
        if r is None:
            reply = {"jsonrpc": "2.0", "id": msg["id"],
                     "error": {"code": -32601, "message": "method not found"}}
        else:
            reply = {"jsonrpc": "2.0", "id": msg["id"], "result": r}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
