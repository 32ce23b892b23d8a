#!/usr/bin/env python3
"""Drive one MCP server through the feature set of issue 14 with the Python `mcp` 2.3.0 SDK client.

    python tests/py/mcp2026_client.py --url URL --mode 2026-07-28|auto|legacy
        [--bearer TOKEN] [--cafile PEM] [--timeout SECONDS]

`--mode` is the SDK's `Client(mode=...)`: `2026-07-28` adopts that version with no probe,
`auto` probes `server/discover` and falls back to `initialize`, `legacy` forces `initialize`.

It recognises two tool sets: tests/py/mcp2026_server.py (`add`, `ask_name`, `ask_llm`,
`progress_steps`, `slow`, `slow_status`, `bump_counter`, resource `test://counter`) and the rmcp
fixture conformance-server-2026 (`test_simple_text`, `test_elicitation`, `test_sampling`,
`test_tool_with_progress`, `test_slow`, `test_slow_status`, `test_update_watched_resource`,
resource `test://watched-resource`). Steps, in order, in one client:

    connect        the negotiated protocol version and the server's identity
    list_tools     tools/list
    call_tool      a plain call with a checked result
    elicitation    a tool that asks the client for input; the client answers; the answer
                   must come back in the result
    sampling       the same with sampling
    subscription   a resource-updated notification after a tool changes the resource
                   (2026-07-28: subscriptions/listen; 2025: resources/subscribe + GET stream)
    progress       a call with a progress callback; at least one progress notification
    cancellation   a slow call abandoned after its first progress notification (2026-07-28:
                   the POST is aborted; 2025: notifications/cancelled); the server must then
                   report that call `cancelled`

Prints one JSON object per line per step, {"step", "ok", ...details} (with "error" on
failure), and a final {"summary": {...}} line. Exits 0 when every step passed, 1 otherwise,
2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import time
import traceback
import uuid
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ResourceUpdated
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

ELICITED_NAME = "Ada"
SAMPLED_TEXT = "Paris, from the Portcullis test client."

# The two fixtures' tool sets, keyed by what each step needs.
TOOLSETS = {
    "python": {
        "marker": "ask_name",
        "call": ("add", {"a": 2, "b": 3}, "5"),
        "elicit": ("ask_name", {}, f"Hello, {ELICITED_NAME}!"),
        "sample": ("ask_llm", {"question": "What is the capital of France?"}, SAMPLED_TEXT),
        "progress": ("progress_steps", {"steps": 3}),
        "slow": ("slow", "slow_status"),
        "bump": "bump_counter",
        "resource": "test://counter",
    },
    "rmcp": {
        "marker": "test_elicitation",
        "call": ("test_simple_text", {}, "This is a simple text response for testing."),
        "elicit": ("test_elicitation", {"message": "Who are you?"}, ELICITED_NAME),
        "sample": ("test_sampling", {"prompt": "What is the capital of France?"}, SAMPLED_TEXT),
        "progress": ("test_tool_with_progress", {}),
        "slow": ("test_slow", "test_slow_status"),
        "bump": "test_update_watched_resource",
        "resource": "test://watched-resource",
    },
}


def emit(step: str, ok: bool, **details: Any) -> bool:
    print(json.dumps({"step": step, "ok": ok, **details}, default=str), flush=True)
    return ok


def text_of(result: types.CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


class Recorder:
    """Client callbacks: answer elicitation and sampling, record notifications."""

    def __init__(self) -> None:
        self.elicitations: list[dict[str, Any]] = []
        self.samplings: list[dict[str, Any]] = []
        self.resource_updates: list[str] = []
        self.updated = anyio.Event()

    async def elicit(self, _ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.elicitations.append(params.model_dump(by_alias=True, exclude_none=True))
        schema = getattr(params, "requested_schema", None) or {}
        props = schema.get("properties", {}) if isinstance(schema, dict) else {}
        content: dict[str, Any] = {}
        for key, spec in props.items():
            kind = spec.get("type") if isinstance(spec, dict) else None
            content[key] = {"boolean": True, "integer": 1, "number": 1}.get(kind, ELICITED_NAME)
        if not content:
            content = {"name": ELICITED_NAME}
        return types.ElicitResult(action="accept", content=content)

    async def sample(self, _ctx: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        self.samplings.append(params.model_dump(by_alias=True, exclude_none=True))
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=SAMPLED_TEXT),
            model="portcullis-test-model",
            stop_reason="endTurn",
        )

    async def message(self, message: Any) -> None:
        if isinstance(message, types.ServerNotification):
            inner = getattr(message, "root", message)
            if isinstance(inner, types.ResourceUpdatedNotification):
                self.resource_updates.append(str(inner.params.uri))
                self.updated.set()


def make_client(args: argparse.Namespace, rec: Recorder) -> Client:
    headers = {}
    if args.bearer:
        headers["Authorization"] = f"Bearer {args.bearer}"
    verify: Any = True
    if args.cafile:
        verify = ssl.create_default_context(cafile=args.cafile)
    http = httpx2.AsyncClient(
        headers=headers, verify=verify, timeout=httpx2.Timeout(30.0, read=300.0), follow_redirects=False
    )
    transport = streamable_http_client(args.url, http_client=http)
    return Client(
        transport,
        mode=args.mode,
        elicitation_callback=rec.elicit,
        sampling_callback=rec.sample,
        message_handler=rec.message,
        read_timeout_seconds=args.timeout,
        # Every step must reach the server: a cached tools/list would hide what a gateway does.
        cache=None,
    )


async def run(args: argparse.Namespace) -> dict[str, bool]:
    rec = Recorder()
    results: dict[str, bool] = {}
    client = make_client(args, rec)
    try:
        await client.__aenter__()
    except BaseException as e:  # noqa: BLE001 - report whatever the SDK raised
        results["connect"] = emit("connect", False, error=f"{type(e).__name__}: {e}", detail=_unwrap(e))
        return results
    try:
        modern = client.protocol_version in MODERN_PROTOCOL_VERSIONS
        info = client.server_info
        results["connect"] = emit(
            "connect",
            True,
            protocol_version=client.protocol_version,
            era="2026" if modern else "2025",
            server_info=info.model_dump(exclude_none=True) if info else None,
        )
        await steps(client, rec, modern, args, results)
    finally:
        with anyio.move_on_after(10):
            try:
                await client.__aexit__(None, None, None)
            except BaseException:  # noqa: BLE001 - teardown noise after the verdicts is not a step
                pass
    return results


def _unwrap(e: BaseException) -> str:
    if isinstance(e, BaseExceptionGroup):
        return "; ".join(_unwrap(x) for x in e.exceptions)
    return f"{type(e).__name__}: {e}"


async def step(results: dict[str, bool], name: str, timeout: float, fn: Any) -> None:
    try:
        with anyio.fail_after(timeout):
            ok, details = await fn()
        results[name] = emit(name, ok, **details)
    except BaseException as e:  # noqa: BLE001 - one failed step must not stop the others
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        results[name] = emit(name, False, error=_unwrap(e), trace=traceback.format_exc(limit=3))


async def steps(client: Client, rec: Recorder, modern: bool, args: argparse.Namespace, results: dict[str, bool]) -> None:
    toolset: dict[str, Any] | None = None
    timeout = args.timeout

    async def list_tools() -> tuple[bool, dict[str, Any]]:
        nonlocal toolset
        listed = await client.list_tools()
        names = [t.name for t in listed.tools]
        for kind, ts in TOOLSETS.items():
            if ts["marker"] in names:
                toolset = {"kind": kind, **ts}
        return toolset is not None, {"count": len(names), "toolset": toolset and toolset["kind"], "names": names[:12]}

    await step(results, "list_tools", timeout, list_tools)
    if toolset is None:
        return
    ts = toolset

    async def call_tool() -> tuple[bool, dict[str, Any]]:
        name, arguments, expect = ts["call"]
        r = await client.call_tool(name, arguments)
        text = text_of(r)
        return (not r.is_error and text == expect), {"tool": name, "text": text}

    await step(results, "call_tool", timeout, call_tool)

    async def elicitation() -> tuple[bool, dict[str, Any]]:
        name, arguments, expect = ts["elicit"]
        before = len(rec.elicitations)
        r = await client.call_tool(name, arguments)
        text = text_of(r)
        asked = len(rec.elicitations) - before
        return (asked >= 1 and expect in text and not r.is_error), {"tool": name, "text": text, "client_answered": asked}

    await step(results, "elicitation", timeout, elicitation)

    async def sampling() -> tuple[bool, dict[str, Any]]:
        name, arguments, expect = ts["sample"]
        before = len(rec.samplings)
        r = await client.call_tool(name, arguments)
        text = text_of(r)
        asked = len(rec.samplings) - before
        return (asked >= 1 and expect in text and not r.is_error), {"tool": name, "text": text, "client_answered": asked}

    await step(results, "sampling", timeout, sampling)

    async def subscription() -> tuple[bool, dict[str, Any]]:
        uri = ts["resource"]
        if modern:
            async with client.listen(resource_subscriptions=[uri]) as sub:
                honored = sub.honored.model_dump(by_alias=True, exclude_none=True)
                await client.call_tool(ts["bump"], {})
                async for event in sub:
                    if isinstance(event, ResourceUpdated) and event.uri == uri:
                        return True, {"via": "subscriptions/listen", "subscription_id": sub.subscription_id, "honored": honored, "uri": event.uri}
            return False, {"via": "subscriptions/listen", "error": "the stream ended without an update"}
        await client.subscribe_resource(uri)
        rec.updated = anyio.Event()
        await client.call_tool(ts["bump"], {})
        await rec.updated.wait()
        got = [u for u in rec.resource_updates if u == uri]
        await client.unsubscribe_resource(uri)
        return bool(got), {"via": "resources/subscribe", "uri": got[-1] if got else None}

    await step(results, "subscription", timeout, subscription)

    async def progress() -> tuple[bool, dict[str, Any]]:
        name, arguments = ts["progress"]
        seen: list[float] = []

        async def on_progress(p: float, total: float | None, message: str | None) -> None:
            seen.append(p)

        r = await client.call_tool(name, arguments, progress_callback=on_progress)
        return (len(seen) >= 1 and not r.is_error), {"tool": name, "progress": seen, "text": text_of(r)}

    await step(results, "progress", timeout, progress)

    async def cancellation() -> tuple[bool, dict[str, Any]]:
        slow, status_tool = ts["slow"]
        label = f"cancel-{uuid.uuid4().hex[:8]}"
        first_progress = anyio.Event()
        outcome: dict[str, Any] = {}

        async def on_progress(p: float, total: float | None, message: str | None) -> None:
            first_progress.set()

        async def call() -> None:
            try:
                await client.call_tool(slow, {"seconds": 20, "label": label}, progress_callback=on_progress)
                outcome["finished"] = True
            except BaseException as e:  # noqa: BLE001
                outcome["error"] = _unwrap(e)
                raise

        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            with anyio.fail_after(15):
                await first_progress.wait()
            tg.cancel_scope.cancel()
        # The server learns of the cancellation asynchronously: poll its record.
        status = "unknown"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = await client.call_tool(status_tool, {"label": label})
            status = text_of(r)
            if status == "cancelled":
                break
            await anyio.sleep(0.2)
        return status == "cancelled" and "finished" not in outcome, {
            "tool": slow,
            "label": label,
            "server_status": status,
            "seconds_until_cancelled": round(time.monotonic() - started, 2),
            # What the SDK sends for this era (read from its source, not observed here).
            "cancel_signal_for_era": "POST aborted" if modern else "notifications/cancelled",
        }

    await step(results, "cancellation", timeout + 20, cancellation)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", required=True, choices=["2026-07-28", "auto", "legacy"])
    parser.add_argument("--bearer", help="sent as Authorization: Bearer TOKEN on every request")
    parser.add_argument("--cafile", help="PEM bundle to trust for an https URL")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-step timeout in seconds")
    args = parser.parse_args()
    results = anyio.run(run, args)
    ok = bool(results) and all(results.values()) and len(results) == 8
    print(json.dumps({"summary": {"mode": args.mode, "url": args.url, "passed": [k for k, v in results.items() if v],
                                  "failed": [k for k, v in results.items() if not v], "ok": ok}}), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
