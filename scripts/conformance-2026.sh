#!/usr/bin/env bash
# Usage: scripts/conformance-2026.sh URL
#
# Runs the official MCP conformance suite's server scenarios for protocol revision 2026-07-28
# against the MCP server at URL, with the Node 22 binary and the conformance 0.2.0-alpha.12
# package that scripts/install-test-deps.sh put under .deps (no npx, no network).
#
# Which scenarios: exactly the set `conformance list --server --requirements 2026-07-28`
# names, i.e. the requirement set frozen when 2026-07-28 shipped: the 37 required server
# scenarios plus the server scenarios it runs but never scores (10 `extension` ones for the
# tasks extension, 3 `pending` ones). Each is run on its own, so one that hangs cannot take
# the others with it.
#
# How: the CLI refuses `--requirements` together with `--scenario`, so each scenario runs as
# `server --scenario NAME --spec-version 2026-07-28 --force`. That is what `--requirements
# 2026-07-28` does internally for every scenario of the set (spec version 2026-07-28, the
# stateless wire; `--force` because a requirement set outranks a scenario's own applicability
# window), so the checks are the same.
#
# Prints one line per scenario (CLASS is REQ, EXT or PEND) and closing counts; exits non-zero
# if any REQUIRED scenario failed, as `--requirements` does (unscored failures are reported,
# not fatal).
#
# Environment:
#   CONFORMANCE_KEEP       if set, keep the results directory (printed) instead of deleting it
#   CONFORMANCE_SCENARIOS  space-separated subset of scenario names to run (default: the set)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS="$ROOT/.deps"
NODE="$DEPS/node22/node_modules/.bin/node"
VERSION=0.2.0-alpha.12
REVISION=2026-07-28
CLI="$DEPS/conformance-$VERSION/node_modules/@modelcontextprotocol/conformance/dist/index.js"

URL="${1:-}"
[[ -n "$URL" ]] || { echo "usage: $0 URL" >&2; exit 2; }
[[ -x "$NODE" ]] || { echo "conformance-2026: $NODE missing; run scripts/install-test-deps.sh" >&2; exit 2; }
[[ -f "$CLI" ]] || { echo "conformance-2026: no suite $VERSION at $CLI; run scripts/install-test-deps.sh" >&2; exit 2; }

RESULTS="$(mktemp -d "${TMPDIR:-/tmp}/conformance-2026.XXXXXX")"
if [[ -z "${CONFORMANCE_KEEP:-}" ]]; then trap 'rm -rf "$RESULTS"' EXIT; fi

# The requirement set, from the CLI itself: "  - name" under "Server scenarios" are required;
# "    - name [server]" under "Run and reported, but never scored" are unscored, grouped under
# "  reason (N):" lines.
listing="$("$NODE" "$CLI" list --server --requirements "$REVISION")"
declare -A CLASS=()
order=()
section=""
reason=""
while IFS= read -r line; do
  case "$line" in
    "Server scenarios"*) section=required ;;
    "Client scenarios"*) section=client ;;
    "Run and reported, but never scored"*) section=unscored ;;
  esac
  if [[ "$section" == required && "$line" =~ ^\ \ -\ ([^ ]+)$ ]]; then
    CLASS["${BASH_REMATCH[1]}"]=REQ
    order+=("${BASH_REMATCH[1]}")
  elif [[ "$section" == unscored && "$line" =~ ^\ \ ([a-z-]+)\ \([0-9]+\):$ ]]; then
    reason="${BASH_REMATCH[1]}"
  elif [[ "$section" == unscored && "$line" =~ ^\ \ \ \ -\ ([^ ]+)\ \[server\]$ ]]; then
    case "$reason" in
      extension) CLASS["${BASH_REMATCH[1]}"]=EXT ;;
      pending) CLASS["${BASH_REMATCH[1]}"]=PEND ;;
      *) CLASS["${BASH_REMATCH[1]}"]="$reason" ;;
    esac
    order+=("${BASH_REMATCH[1]}")
  fi
done <<<"$listing"
[[ ${#order[@]} -gt 0 ]] || { echo "conformance-2026: the CLI listed no server scenarios for $REVISION" >&2; exit 2; }

if [[ -n "${CONFORMANCE_SCENARIOS:-}" ]]; then
  read -r -a order <<<"$CONFORMANCE_SCENARIOS"
fi

echo "== conformance $VERSION, requirements $REVISION (${#order[@]} server scenarios) against $URL"
printf '%-48s %-5s %-6s %s\n' SCENARIO CLASS RESULT CHECKS
req_pass=0 req_fail=0 other_pass=0 other_fail=0
failed_list=()
for s in "${order[@]}"; do
  class="${CLASS[$s]:-?}"
  out="$RESULTS/$s"
  mkdir -p "$out"
  rc=0
  "$NODE" "$CLI" server --url "$URL" --scenario "$s" --spec-version "$REVISION" --force \
    -o "$out" >"$out/stdout.txt" 2>&1 || rc=$?
  checks="$(grep -Eo 'Passed: [0-9]+/[0-9]+.*' "$out/stdout.txt" | tail -1 || true)"
  if [[ $rc -eq 0 ]]; then
    printf '%-48s %-5s %-6s %s\n' "$s" "$class" PASS "$checks"
    if [[ "$class" == REQ ]]; then req_pass=$((req_pass + 1)); else other_pass=$((other_pass + 1)); fi
  else
    printf '%-48s %-5s %-6s %s\n' "$s" "$class" FAIL "${checks:-exit $rc}"
    if [[ "$class" == REQ ]]; then req_fail=$((req_fail + 1)); failed_list+=("$s"); else other_fail=$((other_fail + 1)); fi
  fi
  # Name the checks that failed or warned, so a CI log is enough to start debugging.
  "$NODE" -e '
    const fs = require("fs"), path = require("path");
    const dir = process.argv[1];
    for (const d of fs.readdirSync(dir)) {
      const f = path.join(dir, d, "checks.json");
      if (!fs.existsSync(f)) continue;
      for (const c of JSON.parse(fs.readFileSync(f, "utf8")))
        if (c.status === "FAILURE" || c.status === "WARNING")
          console.log(`    - ${c.status} ${c.id}: ${(c.errorMessage ?? "").split("\n")[0].slice(0, 300)}`);
    }' "$out" || true
done
echo

[[ -n "${CONFORMANCE_KEEP:-}" ]] && echo "results kept in $RESULTS"
for f in "${failed_list[@]}"; do echo "failed (required): $f"; done
echo "conformance-2026: required $req_pass passed, $req_fail failed; unscored $other_pass passed, $other_fail failed"
[[ $req_fail -eq 0 ]]
