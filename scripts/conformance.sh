#!/usr/bin/env bash
# Usage: scripts/conformance.sh URL [VERSION]
#
# Runs the official MCP conformance suite's server scenarios against the MCP server at URL,
# using the Node 22 binary and the conformance packages that scripts/install-test-deps.sh put
# under .deps (no npx, no network). VERSION is 0.1.16 or 0.2.0-alpha.12; default: both.
#
# Each scenario of the suite is run on its own (`conformance server --scenario NAME`), so one
# that hangs cannot take the others with it. Prints one line per scenario and a closing
# "N passed, N failed" line; exits non-zero if any scenario failed.
#
# Environment:
#   CONFORMANCE_SUITE   which scenarios: `active` (default, what `conformance server` runs
#                       with no --scenario: excludes pending and draft), `all`, `pending`, ...
#   CONFORMANCE_KEEP    if set, keep the results directory (printed) instead of deleting it
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS="$ROOT/.deps"
NODE="$DEPS/node22/node_modules/.bin/node"

URL="${1:-}"
[[ -n "$URL" ]] || { echo "usage: $0 URL [0.1.16|0.2.0-alpha.12]" >&2; exit 2; }
if [[ $# -ge 2 ]]; then VERSIONS=("$2"); else VERSIONS=(0.1.16 0.2.0-alpha.12); fi
SUITE="${CONFORMANCE_SUITE:-active}"

[[ -x "$NODE" ]] || { echo "conformance: $NODE missing; run scripts/install-test-deps.sh" >&2; exit 2; }

RESULTS="$(mktemp -d "${TMPDIR:-/tmp}/conformance.XXXXXX")"
if [[ -z "${CONFORMANCE_KEEP:-}" ]]; then trap 'rm -rf "$RESULTS"' EXIT; fi

# scenario_names CLI: the suite's own list of server scenarios for $SUITE. The CLI prints the
# names it is about to run ("=== Running scenario: X ===") before touching the server, so we
# ask it for the suite against a closed port and read them back.
scenario_names() {
  local cli="$1"
  if [[ "$SUITE" == "all" ]]; then
    "$NODE" "$cli" list --server | sed -n 's/^  - \([^ ]*\).*/\1/p'
    return
  fi
  # `list` has no suite filter; `server` without --scenario resolves the suite. Port 9 on
  # loopback is closed on any sane machine, so each scenario fails at once.
  "$NODE" "$cli" server --url http://127.0.0.1:9/mcp --suite "$SUITE" -o "$RESULTS/dry" 2>/dev/null |
    sed -n 's/^=== Running scenario: \(.*\) ===$/\1/p' || true
}

total_pass=0
total_fail=0
failed_list=()
for version in "${VERSIONS[@]}"; do
  cli="$DEPS/conformance-$version/node_modules/@modelcontextprotocol/conformance/dist/index.js"
  [[ -f "$cli" ]] || { echo "conformance: no suite $version at $cli; run scripts/install-test-deps.sh" >&2; exit 2; }
  mapfile -t scenarios < <(scenario_names "$cli")
  [[ ${#scenarios[@]} -gt 0 ]] || { echo "conformance: suite $version listed no $SUITE server scenarios" >&2; exit 2; }

  echo "== conformance $version ($SUITE suite, ${#scenarios[@]} server scenarios) against $URL"
  printf '%-40s %-6s %s\n' SCENARIO RESULT CHECKS
  for s in "${scenarios[@]}"; do
    out="$RESULTS/$version/$s"
    mkdir -p "$out"
    rc=0
    "$NODE" "$cli" server --url "$URL" --scenario "$s" -o "$out" >"$out/stdout.txt" 2>&1 || rc=$?
    # The CLI's own count of checks, e.g. "Passed: 3/3, 0 failed, 0 warnings".
    checks="$(grep -Eo 'Passed: [0-9]+/[0-9]+.*' "$out/stdout.txt" | tail -1 || true)"
    if [[ $rc -eq 0 ]]; then
      printf '%-40s %-6s %s\n' "$s" PASS "$checks"
      total_pass=$((total_pass + 1))
    else
      printf '%-40s %-6s %s\n' "$s" FAIL "${checks:-exit $rc}"
      failed_list+=("$version/$s")
      # Say which checks failed (or warned) and why, so a CI log is enough to start debugging.
      "$NODE" -e '
        const fs = require("fs"), path = require("path");
        const dir = process.argv[1];
        for (const d of fs.readdirSync(dir)) {
          const f = path.join(dir, d, "checks.json");
          if (!fs.existsSync(f)) continue;
          for (const c of JSON.parse(fs.readFileSync(f, "utf8")))
            if (c.status === "FAILURE" || c.status === "WARNING") console.log(`    - ${c.id}: ${c.errorMessage ?? ""}`);
        }' "$out" || true
      total_fail=$((total_fail + 1))
    fi
  done
  echo
done

[[ -n "${CONFORMANCE_KEEP:-}" ]] && echo "results kept in $RESULTS"
for f in "${failed_list[@]}"; do echo "failed: $f"; done
echo "conformance: $total_pass passed, $total_fail failed"
[[ $total_fail -eq 0 ]]
