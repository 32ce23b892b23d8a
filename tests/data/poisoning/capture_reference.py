"""Records what three real npm MCP servers show a client's model: the `initialize` result's
`instructions` and `serverInfo`, and every page of `tools/list`, `prompts/list`,
`resources/list` and `resources/templates/list`, into `reference_catalogs.json` beside this
file. `tests/poisoning_scan.rs` requires zero high findings on all of it.

Run once after `scripts/install-test-deps.sh` (the servers and the Python SDK live in .deps):

    source .deps/env.sh
    "$PORTCULLIS_VENV_PYTHON" tests/data/poisoning/capture_reference.py

Servers: @modelcontextprotocol/server-everything, server-filesystem (rooted at a temporary
directory) and server-memory (memory file in that directory), the versions in .deps.
"""

import asyncio
import json
import os
import pathlib
import tempfile

from mcp import ClientSession, types
from mcp.client.stdio import StdioServerParameters, stdio_client


async def pages(call, key):
    items, cursor = [], None
    while True:
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        result = await call(params)
        dumped = result.model_dump(mode="json", by_alias=True, exclude_none=True)
        items.extend(dumped[key])
        cursor = dumped.get("nextCursor")
        if not cursor:
            return items


async def capture(argv, env):
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            init = init.model_dump(mode="json", by_alias=True, exclude_none=True)
            caps = init.get("capabilities", {})
            out = {"serverInfo": init["serverInfo"], "instructions": init.get("instructions")}
            if "tools" in caps:
                out["tools"] = await pages(lambda c: session.list_tools(params=c), "tools")
            if "prompts" in caps:
                out["prompts"] = await pages(lambda c: session.list_prompts(params=c), "prompts")
            if "resources" in caps:
                out["resources"] = await pages(lambda c: session.list_resources(params=c), "resources")
                out["resourceTemplates"] = await pages(
                    lambda c: session.list_resource_templates(params=c), "resourceTemplates"
                )
            return out


async def main():
    node = os.environ["PORTCULLIS_NODE22"]
    servers = {
        "server-everything": os.environ["PORTCULLIS_SERVER_EVERYTHING"],
        "server-filesystem": os.environ["PORTCULLIS_SERVER_FILESYSTEM"],
        "server-memory": os.environ["PORTCULLIS_SERVER_MEMORY"],
    }
    result = {}
    with tempfile.TemporaryDirectory() as root:
        env = {"PATH": os.environ.get("PATH", ""), "MEMORY_FILE_PATH": f"{root}/memory.jsonl"}
        for name, script in servers.items():
            argv = [node, script]
            if name == "server-everything":
                argv.append("stdio")
            if name == "server-filesystem":
                argv.append(root)
            result[name] = await capture(argv, env)
    here = pathlib.Path(__file__).parent
    text = json.dumps(result, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    (here / "reference_catalogs.json").write_text(text.replace(root, "/srv/data"))


asyncio.run(main())
