#!/usr/bin/env python3
"""Drive an MCP server over streamable HTTP with the official Python `mcp` SDK.

The Rust integration tests run this as a subprocess against the gateway, so the evidence that a
feature works comes from a real, independent client rather than from our own code.

    python tests/py/mcp_client.py --url URL [--header 'Name: value' ...] [--cafile PEM]
        [--elicit-json JSON] [--elicit-action accept|decline|cancel] [--sampling-text TEXT]
        [--connect-timeout SECONDS] SCRIPT_JSON

SCRIPT_JSON is a JSON list of steps (a literal string, or `@path` to read it from a file), run
in order in one session:

    {"op": "list_tools"}                     optional "cursor"
    {"op": "call_tool", "name": N, "arguments": {...}}
                                             optional "progress": true (a progress token is sent,
                                             progress notifications are recorded in the step)
    {"op": "list_prompts"}  {"op": "get_prompt", "name": N, "arguments": {...}}
    {"op": "list_resources"}  {"op": "list_resource_templates"}  {"op": "read_resource", "uri": U}
    {"op": "subscribe_resource", "uri": U}  {"op": "unsubscribe_resource", "uri": U}
    {"op": "complete", "ref": {"type": "ref/prompt", "name": N}, "argument": {"name": A, "value": V},
     "context": {...optional context arguments...}}
    {"op": "set_logging_level", "level": "debug"}
    {"op": "ping"}
    {"op": "sleep", "seconds": 1.5}
    {"op": "wait_tools_changed", "timeout": 10}
                                             returns once a notifications/tools/list_changed has
                                             arrived that no earlier wait_tools_changed consumed
                                             (so one that came during an earlier step counts)

Every step may carry "timeout" (seconds, default 60); a step that runs out records an error
with code null and is abandoned (the SDK sends notifications/cancelled for it).

Prints exactly one JSON document on stdout:

    {"session_id", "protocol_version", "server_info", "capabilities", "instructions",
     "steps": [{"op", "ok": true, "result"} | {"op", "ok": false, "error": {"code", "message", "data"}}],
     "notifications", "sampling_requests", "elicitation_requests", "roots_requests",
     "transport_errors"}  (+ "fatal_error" {code, message, data} and "teardown_error" when they apply)

A step error is recorded and the script goes on. A failure to connect or initialize prints
{"fatal": "<message>", ...} and exits 1. Works with mcp 1.x (`httpx`) and 2.x (`httpx2`).
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import traceback
from typing import Any

import anyio

try:  # mcp 2.x ships its own fork of httpx
    import httpx2 as httpx
except ImportError:  # mcp 1.x
    import httpx

from mcp import ClientSession, types

try:
    from mcp.client.streamable_http import streamable_http_client
except ImportError:  # mcp < 1.24
    streamable_http_client = None
try:
    from mcp.client.streamable_http import streamablehttp_client
except ImportError:  # removed in mcp 2.x
    streamablehttp_client = None

DEFAULT_STEP_TIMEOUT = 60.0
DEFAULT_SAMPLING_TEXT = "Hello from the Portcullis test client."
SAMPLING_MODEL = "portcullis-test-model"


def to_json(obj: Any) -> Any:
    """The wire form of an SDK object (camelCase keys), or the value itself if already JSON."""
    if hasattr(obj, "model_dump"):
        # exclude_unset keeps the wire shape: SDK defaults the server never sent stay out.
        return obj.model_dump(by_alias=True, mode="json", exclude_unset=True)
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return repr(obj)


def leaf_exceptions(exc: BaseException) -> list[BaseException]:
    """The real causes inside (nested) task-group exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaf_exceptions(inner)]
    return [exc]


def error_json(exc: BaseException) -> dict[str, Any]:
    """JSON-RPC error fields from an SDK error (McpError / MCPError carry `.error`)."""
    if isinstance(exc, BaseExceptionGroup):
        leaves = leaf_exceptions(exc)
        if len(leaves) == 1:
            return error_json(leaves[0])
        return {"code": None, "message": "; ".join(error_json(e)["message"] for e in leaves), "data": None}
    err = getattr(exc, "error", None)
    if err is not None and hasattr(err, "code") and hasattr(err, "message"):
        return {"code": err.code, "message": err.message, "data": to_json(getattr(err, "data", None))}
    return {"code": None, "message": f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, "data": None}


def parse_headers(raw: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in raw:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise SystemExit(f"bad --header {item!r}: expected 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


class Recorder:
    """Everything the server sent us that was not a direct response."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.notifications: list[Any] = []
        self.sampling_requests: list[Any] = []
        self.elicitation_requests: list[Any] = []
        self.roots_requests = 0
        self.transport_errors: list[str] = []
        self.transport_failed = anyio.Event()
        self.tools_changed_seen = 0
        self.tools_changed_consumed = 0
        self.tools_changed = anyio.Event()
        self.sampling_text = args.sampling_text
        self.elicit_action = args.elicit_action
        self.elicit_content = args.elicit_json

    async def message_handler(self, message: Any) -> None:
        if isinstance(message, Exception):
            self.transport_errors.append(f"{type(message).__name__}: {message}")
            self.transport_failed.set()
            return
        # mcp 1.x also routes server requests here; the callbacks below answer those.
        if not hasattr(message, "model_dump") or hasattr(message, "respond"):
            return
        dumped = to_json(message)
        self.notifications.append(dumped)
        if isinstance(dumped, dict) and dumped.get("method") == "notifications/tools/list_changed":
            self.tools_changed_seen += 1
            self.tools_changed.set()

    async def logging_callback(self, params: Any) -> None:
        # Logging notifications also reach message_handler; this only keeps the SDK quiet.
        return None

    async def sampling_callback(self, context: Any, params: Any) -> Any:
        self.sampling_requests.append(to_json(params))
        return types.CreateMessageResult.model_validate(
            {
                "role": "assistant",
                "content": {"type": "text", "text": self.sampling_text},
                "model": SAMPLING_MODEL,
                "stopReason": "endTurn",
            }
        )

    async def elicitation_callback(self, context: Any, params: Any) -> Any:
        self.elicitation_requests.append(to_json(params))
        result: dict[str, Any] = {"action": self.elicit_action}
        if self.elicit_action == "accept":
            result["content"] = self.elicit_content
        return types.ElicitResult.model_validate(result)

    async def list_roots_callback(self, context: Any) -> Any:
        self.roots_requests += 1
        return types.ListRootsResult.model_validate({"roots": [{"uri": "file:///tmp", "name": "tmp"}]})


def paginated(step: dict[str, Any]) -> dict[str, Any]:
    cursor = step.get("cursor")
    if cursor is None:
        return {}
    return {"params": types.PaginatedRequestParams.model_validate({"cursor": cursor})}


def completion_ref(ref: dict[str, Any]) -> Any:
    if ref.get("type") == "ref/prompt":
        return types.PromptReference.model_validate(ref)
    cls = getattr(types, "ResourceTemplateReference", None) or getattr(types, "ResourceReference")
    return cls.model_validate(ref)


async def run_step(session: ClientSession, rec: Recorder, step: dict[str, Any]) -> dict[str, Any]:
    """Runs one step and returns its JSON result; raises on any error."""
    op = step.get("op")
    if op == "list_tools":
        return to_json(await session.list_tools(**paginated(step)))
    if op == "call_tool":
        progress: list[Any] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.append({"progress": value, "total": total, "message": message})

        kwargs: dict[str, Any] = {}
        if step.get("progress"):
            kwargs["progress_callback"] = on_progress
        result = to_json(await session.call_tool(step["name"], step.get("arguments") or {}, **kwargs))
        if step.get("progress"):
            return {"result": result, "progress": progress}
        return result
    if op == "list_prompts":
        return to_json(await session.list_prompts(**paginated(step)))
    if op == "get_prompt":
        return to_json(await session.get_prompt(step["name"], step.get("arguments") or {}))
    if op == "list_resources":
        return to_json(await session.list_resources(**paginated(step)))
    if op == "list_resource_templates":
        return to_json(await session.list_resource_templates(**paginated(step)))
    if op == "read_resource":
        return to_json(await session.read_resource(step["uri"]))
    if op == "subscribe_resource":
        return to_json(await session.subscribe_resource(step["uri"]))
    if op == "unsubscribe_resource":
        return to_json(await session.unsubscribe_resource(step["uri"]))
    if op == "complete":
        return to_json(
            await session.complete(
                completion_ref(step["ref"]), dict(step["argument"]), context_arguments=step.get("context")
            )
        )
    if op == "set_logging_level":
        return to_json(await session.set_logging_level(step["level"]))
    if op == "ping":
        return to_json(await session.send_ping())
    if op == "sleep":
        await anyio.sleep(float(step.get("seconds", 0)))
        return {}
    if op == "wait_tools_changed":
        while rec.tools_changed_seen <= rec.tools_changed_consumed:
            rec.tools_changed = anyio.Event()
            await rec.tools_changed.wait()
        rec.tools_changed_consumed = rec.tools_changed_seen
        return {"count": rec.tools_changed_seen}
    raise ValueError(f"unknown op `{op}`")


def step_timeout(step: dict[str, Any]) -> float:
    if step.get("op") == "wait_tools_changed" and "timeout" in step:
        return float(step["timeout"])
    if step.get("op") == "sleep":
        return float(step.get("seconds", 0)) + DEFAULT_STEP_TIMEOUT
    return float(step.get("timeout", DEFAULT_STEP_TIMEOUT))


async def run_steps(session: ClientSession, rec: Recorder, steps: list[Any]) -> list[dict[str, Any]]:
    results = []
    for step in steps:
        op = step.get("op") if isinstance(step, dict) else None
        entry: dict[str, Any] = {"op": op}
        if not isinstance(step, dict):
            entry.update(ok=False, error={"code": None, "message": "step is not a JSON object", "data": None})
            results.append(entry)
            continue
        timeout = step_timeout(step)
        try:
            with anyio.fail_after(timeout):
                entry["result"] = await run_step(session, rec, step)
            entry["ok"] = True
        except TimeoutError:
            entry.update(ok=False, error={"code": None, "message": f"timed out after {timeout}s", "data": None})
        except Exception as exc:  # a step's failure is data for the test, never the end of the run
            entry.update(ok=False, error=error_json(exc))
        results.append(entry)
    return results


def make_http_client(args: argparse.Namespace, headers: dict[str, str], session_ids: list[str]) -> Any:
    async def on_response(response: Any) -> None:
        sid = response.headers.get("mcp-session-id")
        if sid:
            session_ids.append(sid)

    kwargs: dict[str, Any] = {
        "headers": headers,
        "timeout": httpx.Timeout(30.0, read=300.0),
        "event_hooks": {"response": [on_response]},
        # Tests talk to 127.0.0.1; a proxy from the environment must not get in the way.
        "trust_env": False,
    }
    if args.cafile:
        kwargs["verify"] = ssl.create_default_context(cafile=args.cafile)
    return httpx.AsyncClient(**kwargs)


async def session_main(args: argparse.Namespace, steps: list[Any], out: dict[str, Any]) -> None:
    headers = parse_headers(args.header)
    session_ids: list[str] = []
    rec = Recorder(args)
    out["_rec"] = rec

    async with make_http_client(args, headers, session_ids) as client:
        if streamable_http_client is not None:
            transport = streamable_http_client(args.url, http_client=client)
        elif streamablehttp_client is not None:
            transport = streamablehttp_client(
                args.url, headers=headers, httpx_client_factory=lambda **kw: make_http_client(args, headers, session_ids)
            )
        else:
            raise RuntimeError("this mcp SDK has no streamable HTTP client")
        async with transport as streams:
            read, write = streams[0], streams[1]
            get_session_id = streams[2] if len(streams) > 2 else None
            async with ClientSession(
                read,
                write,
                sampling_callback=rec.sampling_callback,
                elicitation_callback=rec.elicitation_callback,
                list_roots_callback=rec.list_roots_callback,
                logging_callback=rec.logging_callback,
                message_handler=rec.message_handler,
            ) as session:
                init = None
                async with anyio.create_task_group() as tg:

                    async def fail_fast() -> None:
                        await rec.transport_failed.wait()
                        tg.cancel_scope.cancel()

                    tg.start_soon(fail_fast)
                    with anyio.move_on_after(args.connect_timeout):
                        init = await session.initialize()
                    tg.cancel_scope.cancel()
                if init is None:
                    reason = "; ".join(rec.transport_errors) or f"no initialize response within {args.connect_timeout}s"
                    raise ConnectionError(f"initialize failed: {reason}")
                init_json = to_json(init)
                sid = get_session_id() if get_session_id else None
                out["session_id"] = sid or (session_ids[0] if session_ids else None)
                out["protocol_version"] = init_json.get("protocolVersion")
                out["server_info"] = init_json.get("serverInfo")
                out["capabilities"] = init_json.get("capabilities")
                out["instructions"] = init_json.get("instructions")
                out["initialized"] = True
                out["steps"] = await run_steps(session, rec, steps)


def load_script(arg: str) -> list[Any]:
    text = arg
    if arg.startswith("@"):
        with open(arg[1:], encoding="utf-8") as f:
            text = f.read()
    script = json.loads(text)
    if not isinstance(script, list):
        raise ValueError("SCRIPT_JSON must be a JSON list of steps")
    return script


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="MCP endpoint, e.g. http://127.0.0.1:8080/mcp")
    parser.add_argument("--header", action="append", default=[], help="extra HTTP header 'Name: value' (repeatable)")
    parser.add_argument("--cafile", help="PEM file of CA certificates to trust for https")
    parser.add_argument("--elicit-json", type=json.loads, default={}, help="content to accept elicitations with")
    parser.add_argument("--elicit-action", choices=["accept", "decline", "cancel"], default="accept")
    parser.add_argument("--sampling-text", default=DEFAULT_SAMPLING_TEXT, help="assistant text for sampling")
    parser.add_argument("--connect-timeout", type=float, default=30.0, help="seconds to wait for initialize")
    parser.add_argument("script", metavar="SCRIPT_JSON", help="JSON list of steps, or @file")
    args = parser.parse_args()

    out: dict[str, Any] = {}
    try:
        steps = load_script(args.script)
    except (ValueError, OSError) as exc:
        print(json.dumps({"fatal": f"bad SCRIPT_JSON: {exc}"}))
        return 1

    fatal: str | None = None
    try:
        anyio.run(session_main, args, steps, out)
    except BaseException as exc:  # noqa: BLE001 - anything here becomes the fatal report
        if isinstance(exc, KeyboardInterrupt):
            raise
        if not out.get("initialized") or "steps" not in out:
            out["fatal_error"] = error_json(exc)
            fatal = out["fatal_error"]["message"]
            traceback.print_exc(file=sys.stderr)
        else:
            # All steps ran; only closing the session failed (e.g. the server went away first).
            out["teardown_error"] = error_json(exc)["message"]

    rec: Recorder | None = out.pop("_rec", None)
    out.pop("initialized", None)  # internal bookkeeping only
    result: dict[str, Any] = {}
    if fatal is not None:
        result["fatal"] = fatal
    result.update(
        {
            "session_id": out.get("session_id"),
            "protocol_version": out.get("protocol_version"),
            "server_info": out.get("server_info"),
            "capabilities": out.get("capabilities"),
            "instructions": out.get("instructions"),
            "steps": out.get("steps", []),
            "notifications": rec.notifications if rec else [],
            "sampling_requests": rec.sampling_requests if rec else [],
            "elicitation_requests": rec.elicitation_requests if rec else [],
            "roots_requests": rec.roots_requests if rec else 0,
            "transport_errors": rec.transport_errors if rec else [],
        }
    )
    if "fatal_error" in out:
        result["fatal_error"] = out["fatal_error"]
    if "teardown_error" in out:
        result["teardown_error"] = out["teardown_error"]
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 1 if fatal is not None else 0


if __name__ == "__main__":
    sys.exit(main())
