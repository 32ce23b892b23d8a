# Two commands matter (see README): `cargo run -- serve` and `make test`.

.PHONY: test deps fuzz-smoke

# Install the pinned test dependencies (Node 22, npm MCP servers, the conformance suite, the
# Python mcp SDK) into .deps/, run every test in the workspace, then the fuzz smoke. `.ci/run`
# runs exactly this.
test: deps
	cargo test --workspace
	$(MAKE) fuzz-smoke

deps:
	scripts/install-test-deps.sh

# Every fuzz target of fuzz/ for FUZZ_SMOKE_SECS (default 20) seconds; fails on any crash, leak,
# timeout or OOM. Installs the pinned cargo-fuzz if missing and builds fuzz/target (a clean
# build is the longest part; measured costs in the README, "Fuzzing"). Longer runs:
# `scripts/fuzz.sh SECONDS [TARGET...]`.
FUZZ_SMOKE_SECS ?= 20
fuzz-smoke:
	scripts/fuzz.sh $(FUZZ_SMOKE_SECS)
