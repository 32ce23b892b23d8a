#!/usr/bin/env python3
"""Run tests/py/mcp2026_client.py in every mode against every server era, directly (no gateway).

    python tests/py/run_matrix.py [--rmcp-bin PATH] [--url NAME=URL ...] [--json OUT]

Servers it starts (each on 127.0.0.1, port 0) and stops again:

    py-legacy   tests/py/mcp2026_server.py --era legacy   (Python SDK, 2025 sessions only)
    py-modern   tests/py/mcp2026_server.py --era modern   (Python SDK, 2026-07-28 only)
    py-dual     tests/py/mcp2026_server.py --era dual     (Python SDK as it ships: both)
    rmcp-2025   conformance-server-2026 --protocol 2025-11-25
    rmcp-2026   conformance-server-2026 --protocol 2026-07-28
    rmcp-dual   conformance-server-2026 --protocol dual

`--rmcp-bin` defaults to target/debug/conformance-server-2026 (build it with
`cargo build -p conformance-server --bin conformance-server-2026`). `--url NAME=URL` adds an
already-running server (e.g. the gateway) as another row. Modes: 2026-07-28, auto, legacy.

Prints a table (one row per server, one column per mode, each cell the steps that failed or
`ok`) and, with --json, writes every client line to OUT. Exits 0 when it ran to the end
(failures are data, not errors), 2 when a server did not start.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
MODES = ["2026-07-28", "auto", "legacy"]


def start(cmd: list[str]) -> tuple[subprocess.Popen[str], str]:
    # stdin is a pipe we never write: the server exits when we (and so the pipe) go away.
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "listening on " in line:
            return proc, line.split("listening on ", 1)[1].strip()
    proc.kill()
    raise RuntimeError(f"{cmd} did not print its URL")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rmcp-bin", default=str(ROOT / "target/debug/conformance-server-2026"))
    parser.add_argument("--url", action="append", default=[], help="NAME=URL of an extra, running server")
    parser.add_argument("--json", help="write every client output line here")
    parser.add_argument("--only", action="append", default=[], help="run only these server names")
    args = parser.parse_args()

    servers = {
        "py-legacy": [PY, str(ROOT / "tests/py/mcp2026_server.py"), "--era", "legacy"],
        "py-modern": [PY, str(ROOT / "tests/py/mcp2026_server.py"), "--era", "modern"],
        "py-dual": [PY, str(ROOT / "tests/py/mcp2026_server.py"), "--era", "dual"],
        "rmcp-2025": [args.rmcp_bin, "--protocol", "2025-11-25"],
        "rmcp-2026": [args.rmcp_bin, "--protocol", "2026-07-28"],
        "rmcp-dual": [args.rmcp_bin, "--protocol", "dual"],
    }
    if args.only:
        servers = {k: v for k, v in servers.items() if k in args.only}
    procs: list[subprocess.Popen[str]] = []
    urls: dict[str, str] = {}
    try:
        for name, cmd in servers.items():
            proc, url = start(cmd)
            procs.append(proc)
            urls[name] = url
        for extra in args.url:
            name, _, url = extra.partition("=")
            urls[name] = url
        table: dict[str, dict[str, str]] = {}
        lines: list[dict[str, object]] = []
        for name, url in urls.items():
            table[name] = {}
            for mode in MODES:
                out = subprocess.run(
                    [PY, str(ROOT / "tests/py/mcp2026_client.py"), "--url", url, "--mode", mode],
                    capture_output=True, text=True, timeout=300, check=False,
                )
                steps = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
                for s in steps:
                    lines.append({"server": name, "mode": mode, **s})
                summary = next((s["summary"] for s in steps if "summary" in s), None)
                connect = next((s for s in steps if s.get("step") == "connect"), {})
                era = connect.get("era", "-")
                if summary is None:
                    cell = f"crashed (rc {out.returncode})"
                elif summary["ok"]:
                    cell = f"ok ({era})"
                else:
                    cell = f"FAIL {','.join(summary['failed'])} ({era})"
                table[name][mode] = cell
                print(f"{name:10} {mode:11} {cell}", flush=True)
        print()
        width = max(len(c) for row in table.values() for c in row.values()) + 2
        print(f"{'server':10} " + "".join(f"{m:{width}}" for m in MODES))
        for name, row in table.items():
            print(f"{name:10} " + "".join(f"{row[m]:{width}}" for m in MODES))
        if args.json:
            Path(args.json).write_text("\n".join(json.dumps(l) for l in lines) + "\n")
        return 0
    except RuntimeError as e:
        print(f"run_matrix: {e}", file=sys.stderr)
        return 2
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
