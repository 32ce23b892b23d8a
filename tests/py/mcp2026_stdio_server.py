#!/usr/bin/env python3
"""The fixture of mcp2026_server.py served over stdio instead of HTTP.

    python tests/py/mcp2026_stdio_server.py

The Python `mcp` 2.3.0 SDK serves stdio in both eras (`serve_dual_era_loop`): the first request
decides the connection's era once, so a client that opens with `server/discover` carrying the
2026-07-28 `_meta` envelope gets a stateless 2026-07-28 server for the life of the process, and
one that opens with `initialize` gets a 2025 session. Same tools as the HTTP fixture (`add`,
`ask_name`, `ask_llm`, `progress_steps`, `slow` + `slow_status`, `bump_counter`). It exits when
its stdin closes.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mcp2026_server import build_server  # noqa: E402


def main() -> int:
    build_server().run(transport="stdio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
