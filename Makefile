# Two commands matter (see README): `cargo run -- serve` and `make test`.

.PHONY: test deps fuzz-smoke

# Install the pinned test dependencies (Node 22, npm MCP servers, the conformance suite, the
# Python mcp SDK) into .deps/, then run every test in the workspace.
test: deps
	cargo test --workspace

deps:
	scripts/install-test-deps.sh

# Every fuzz target of fuzz/ for 30 s; fails on any crash. Longer: `scripts/fuzz.sh SECONDS`.
# Not yet part of `make test`: a clean fuzz build plus installing cargo-fuzz costs 15-30 min.
fuzz-smoke:
	scripts/fuzz.sh 30
