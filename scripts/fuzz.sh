#!/usr/bin/env bash
# Run every cargo-fuzz target of fuzz/ for SECONDS_PER_TARGET seconds each (default 30) on the
# stable toolchain (RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z sanitizer flags to stable).
#
#   scripts/fuzz.sh            # 30 s per target
#   scripts/fuzz.sh 20         # what `make fuzz-smoke` runs, and so `make test` and CI
#   scripts/fuzz.sh 600        # 10 min per target
#   scripts/fuzz.sh 60 jwt     # only the named targets
#
# Seeds are read from fuzz/corpus/<target>/ and never written: what a run finds goes to
# fuzz/target/corpus/<target>/ (kept between local runs). Exits non-zero if any target crashes,
# leaks, times out or runs out of memory; the crashing input is in fuzz/artifacts/<target>/.
# Reproduce one with `RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>`,
# then make it a unit test beside the code it broke.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
SECONDS_PER_TARGET="${1:-30}"
shift || true
if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || [ "$SECONDS_PER_TARGET" -lt 1 ]; then
    echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi

cd "$(dirname "$0")/../fuzz"
export RUSTC_BOOTSTRAP=1

if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

# One build of every target, even when only some run (release, debug assertions,
# AddressSanitizer); `run` below reuses it.
start=$(date +%s)
cargo fuzz build
echo "fuzz build: $(($(date +%s) - start)) s"

mkdir -p target/fuzz-logs
failed=()
printf '%-16s %12s %10s %14s  %s\n' target executions exec/s corpus result
for t in "${targets[@]}"; do
    work="target/corpus/$t"
    mkdir -p "$work" "corpus/$t"
    log="target/fuzz-logs/$t.log"
    status=ok
    if ! cargo fuzz run "$t" "$work" "corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=30 -rss_limit_mb=2048 \
        >"$log" 2>&1; then
        # `cargo fuzz run` rebuilds first when the sources changed since the build above; a
        # failure before libFuzzer started is a build error, not a crash (both fail the run).
        if grep -q '^INFO: Seed:' "$log"; then status=CRASH; else status=BUILD-ERROR; fi
        failed+=("$t")
    fi
    # libFuzzer's closing line, `#<execs> DONE cov: … corp: <inputs>/<bytes> … exec/s: <n> …`;
    # after a crash, the last status line before it.
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
    if [ -z "$done_line" ]; then
        done_line=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -n 1 || true)
    fi
    execs=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$done_line")
    rate=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$done_line")
    corp=$(sed -nE 's/.*corp: ([0-9]+\/[0-9]+[A-Za-z]*).*/\1/p' <<<"$done_line")
    printf '%-16s %12s %10s %14s  %s\n' "$t" "${execs:--}" "${rate:--}" "${corp:--}" "$status"
    if [ "$status" != ok ]; then
        echo "---- $t: last lines of $log" >&2
        tail -n 40 "$log" >&2
        grep -E 'Test unit written to' "$log" >&2 || true
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzzing failed: ${failed[*]} (inputs in fuzz/artifacts/, logs in fuzz/target/fuzz-logs/)" >&2
    exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${SECONDS_PER_TARGET} s each, no crash"
