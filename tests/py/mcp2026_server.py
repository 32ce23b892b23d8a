#!/usr/bin/env python3
"""An MCP server on the official Python `mcp` 2.3.0 SDK, served in one protocol era or both.

The Rust integration tests (and tests/py/run_matrix.py) start it as a real backend, so the
evidence that a feature crosses the gateway comes from an independent implementation.

    python tests/py/mcp2026_server.py [--port N] [--era legacy|modern|dual]

It binds 127.0.0.1 (`--port 0`, the default, picks a free port) and prints
`listening on http://127.0.0.1:N/mcp` once bound. It exits on SIGINT/SIGTERM, and when its
stdin reaches end of file if stdin is a pipe or socket (a parent that dies closes it).

The SDK serves both eras on one endpoint: a POST whose `MCP-Protocol-Version` header names a
2026-07-28 (modern) version goes to its stateless per-request path; anything else goes to its
2025 session transport (`initialize`, `Mcp-Session-Id`, the GET stream). `--era` narrows that:

- `dual`: the SDK as it ships.
- `legacy`: a 2025 (session) server. The modern header is removed before the SDK sees the
  request, so a 2026-07-28 request reaches the SDK's own session transport and is answered the
  way a 2025-era SDK answers it (400, "Missing session ID"), not with a modern error.
- `modern`: a 2026-07-28 (stateless) server. A request without a modern `MCP-Protocol-Version`
  header is refused before the SDK sees it: HTTP 400 with JSON-RPC `-32022` naming
  `2026-07-28` for `initialize`, `-32020` for anything else; GET and DELETE get 405.

Tools (the same in every era; the SDK picks the era's wire for each):

- `add {a, b}`: a + b.
- `ask_name`: elicits `{name}` from the client (2025: an `elicitation/create` request mid-call;
  2026: an `input_required` result answered by a retry).
- `ask_llm {question}`: samples the client's LLM the same way.
- `progress_steps {steps}`: reports progress 1..steps of steps, 50 ms apart.
- `slow {seconds, label}`: runs `seconds` (default 30), reporting progress every 0.5 s; when
  cancelled (2025: `notifications/cancelled`; 2026: the response stream closes) it records
  `cancelled` under `label`. `slow_status {label}` answers running, completed or cancelled.
- `bump_counter`: changes the resource `test://counter` and notifies its subscribers (2025:
  `notifications/resources/updated` to every session that called `resources/subscribe` on it,
  on their GET stream; 2026: on every `subscriptions/listen` stream subscribed to it).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import stat
import sys
import threading
from typing import Annotated, Any

import anyio
import mcp_types as types
import uvicorn
from mcp.server.mcpserver import Context, Elicit, MCPServer, Resolve, Sample
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel

COUNTER_URI = "test://counter"

# Outcomes of `slow` calls by label, and the counter behind test://counter.
SLOW: dict[str, str] = {}
STATE = {"counter": 0}
# 2025 sessions subscribed to each URI (resources/subscribe).
LEGACY_SUBSCRIBERS: dict[str, list[Any]] = {}


class Name(BaseModel):
    name: str


def ask_for_name() -> Elicit[Name]:
    return Elicit("What is your name?", Name)


def ask_llm_for(question: str) -> Sample:
    return Sample(
        [types.SamplingMessage(role="user", content=types.TextContent(type="text", text=question))],
        max_tokens=64,
    )


def build_server() -> MCPServer:
    mcp = MCPServer("portcullis-py-fixture", version="2.3.0-fixture")

    @mcp.tool(description="Adds two integers")
    def add(a: int, b: int) -> int:
        return a + b

    @mcp.tool(description="Asks the client for a name by elicitation")
    async def ask_name(who: Annotated[Name, Resolve(ask_for_name)]) -> str:
        return f"Hello, {who.name}!"

    @mcp.tool(description="Asks the client's LLM a question by sampling")
    async def ask_llm(question: str, answer: Annotated[types.CreateMessageResult, Resolve(ask_llm_for)]) -> str:
        content = answer.content
        text = content.text if isinstance(content, types.TextContent) else json.dumps(content.model_dump())
        return f"LLM says: {text}"

    @mcp.tool(description="Reports progress 1..steps of steps")
    async def progress_steps(ctx: Context, steps: int = 3) -> str:
        for i in range(1, steps + 1):
            await ctx.report_progress(i, steps, f"step {i}")
            await anyio.sleep(0.05)
        return f"done {steps} steps"

    @mcp.tool(description="Runs `seconds`, reporting progress; records cancellation under `label`")
    async def slow(ctx: Context, seconds: float = 30.0, label: str = "slow") -> str:
        SLOW[label] = "running"
        steps = 0
        try:
            with anyio.fail_after(seconds + 5):
                remaining = seconds
                while remaining > 0:
                    await anyio.sleep(min(0.5, remaining))
                    remaining -= 0.5
                    steps += 1
                    await ctx.report_progress(steps, None, f"tick {steps}")
        except anyio.get_cancelled_exc_class():
            SLOW[label] = "cancelled"
            raise
        SLOW[label] = "completed"
        return f"slow {label} completed after {seconds} s"

    @mcp.tool(description="What became of the `slow` call with this label")
    def slow_status(label: str) -> str:
        return SLOW.get(label, "unknown")

    @mcp.tool(description="Changes test://counter and notifies its subscribers")
    async def bump_counter(ctx: Context) -> str:
        STATE["counter"] += 1
        # 2026-07-28 listen streams (the SDK's subscription bus).
        await ctx.notify_resource_updated(COUNTER_URI)
        # 2025 sessions that called resources/subscribe.
        for session in list(LEGACY_SUBSCRIBERS.get(COUNTER_URI, [])):
            try:
                await session.send_resource_updated(COUNTER_URI)
            except Exception:  # a closed session: forget it
                LEGACY_SUBSCRIBERS[COUNTER_URI].remove(session)
        return f"counter is now {STATE['counter']}"

    @mcp.resource(COUNTER_URI, name="counter", description="A counter that bump_counter changes", mime_type="text/plain")
    def counter() -> str:
        return f"counter={STATE['counter']}"

    async def on_subscribe(ctx: Any, params: types.SubscribeRequestParams) -> types.EmptyResult:
        LEGACY_SUBSCRIBERS.setdefault(str(params.uri), []).append(ctx.session)
        return types.EmptyResult()

    async def on_unsubscribe(ctx: Any, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        subs = LEGACY_SUBSCRIBERS.get(str(params.uri), [])
        if ctx.session in subs:
            subs.remove(ctx.session)
        return types.EmptyResult()

    lowlevel = mcp._lowlevel_server  # noqa: SLF001 - the SDK has no public hook for the 2025 subscribe RPC
    lowlevel.add_request_handler("resources/subscribe", types.SubscribeRequestParams, on_subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams, on_unsubscribe)
    return mcp


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k == name:
            return v.decode("latin-1")
    return None


async def _reply(send: Any, status: int, body: dict[str, Any] | None) -> None:
    payload = b"" if body is None else json.dumps(body).encode()
    headers = [(b"content-type", b"application/json")] if body is not None else [(b"allow", b"POST")]
    headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def era_gate(app: Any, era: str) -> Any:
    """Wraps the SDK's ASGI app so it serves one era only (see the module docstring)."""
    if era == "dual":
        return app

    async def gated(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") != "/mcp":
            await app(scope, receive, send)
            return
        version = _header(scope, b"mcp-protocol-version")
        modern = version in MODERN_PROTOCOL_VERSIONS
        if era == "legacy":
            if modern:
                scope = dict(scope)
                scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"mcp-protocol-version"]
            await app(scope, receive, send)
            return
        # era == "modern"
        if modern:
            await app(scope, receive, send)
            return
        if scope.get("method") != "POST":
            await _reply(send, 405, None)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            request = json.loads(body)
        except ValueError:
            request = {}
        request_id = request.get("id") if isinstance(request, dict) else None
        method = request.get("method") if isinstance(request, dict) else None
        if method == "initialize":
            requested = (request.get("params") or {}).get("protocolVersion")
            error = {
                "code": types.UNSUPPORTED_PROTOCOL_VERSION,
                "message": "Unsupported protocol version: this server speaks 2026-07-28 only",
                "data": {"supported": list(MODERN_PROTOCOL_VERSIONS), "requested": requested},
            }
        else:
            error = {
                "code": types.HEADER_MISMATCH,
                "message": "MCP-Protocol-Version header naming a supported version is required",
            }
        await _reply(send, 400, {"jsonrpc": "2.0", "id": request_id, "error": error})

    return gated


def watch_stdin(stop: Any) -> None:
    """Calls `stop()` when stdin reaches end of file, if stdin is a pipe or a socket."""
    mode = os.fstat(0).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return

    def run() -> None:
        while sys.stdin.buffer.read1(1024):
            pass
        stop()

    threading.Thread(target=run, daemon=True).start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--era", choices=["legacy", "modern", "dual"], default="dual")
    args = parser.parse_args()

    mcp = build_server()
    app = era_gate(mcp.streamable_http_app(), args.era)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)

    def stop() -> None:
        server.should_exit = True

    watch_stdin(stop)
    signal.signal(signal.SIGTERM, lambda *_: stop())

    async def serve() -> None:
        async def announce() -> None:
            while not server.started:
                await anyio.sleep(0.01)
            print(f"listening on http://127.0.0.1:{port}/mcp", flush=True)

        async with anyio.create_task_group() as tg:
            tg.start_soon(announce)
            await server.serve(sockets=[sock])
            tg.cancel_scope.cancel()

    anyio.run(serve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
