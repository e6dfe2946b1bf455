#!/usr/bin/env bash
# Coverage-guided fuzzing of lagghook's parsers: SECONDS (default 60) of
# libFuzzer, through cargo-fuzz, for each target in tests/fuzz (config,
# event, scenario; what each checks is at the top of its file):
#
#     bash .ci/fuzz.sh [SECONDS]
#
# Installs cargo-fuzz if it is missing (from crates.io) and uses the stable
# toolchain, with RUSTC_BOOTSTRAP=1 for the -Z flags cargo-fuzz passes.
# Each target fuzzes a scratch copy of its committed seeds
# (tests/fuzz/corpus/TARGET), so the seeds stay as they are, with the
# words of its format from tests/fuzz/dict/TARGET.dict. Prints each
# target's executions; exits non-zero if any target crashed (a panic is a
# failed property), timed out or ran out of memory, with the input saved
# in tests/fuzz/artifacts/TARGET/ and the command that replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: bash .ci/fuzz.sh [SECONDS]" >&2
    exit 2
fi

CARGO_FUZZ_VERSION=0.13.2
TARGETS=(config event scenario)
FUZZ_DIR=tests/fuzz
export RUSTC_BOOTSTRAP=1
# No sanitizer: the code is safe Rust, and libFuzzer runs about twice as
# many inputs without ASan. Debug assertions on: overflow checks panic.
FLAGS=(--fuzz-dir "$FUZZ_DIR" --sanitizer none --debug-assertions)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi
if ! command -v c++ >/dev/null 2>&1; then
    # libfuzzer-sys compiles libFuzzer, which is C++.
    echo "== installing g++"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends g++ >/dev/null
fi

echo "== cargo fuzz build (${TARGETS[*]})"
cargo fuzz build "${FLAGS[@]}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failed=()
for target in "${TARGETS[@]}"; do
    corpus="$scratch/corpus-$target"
    log="$scratch/$target.log"
    mkdir -p "$corpus"
    cp "$FUZZ_DIR/corpus/$target"/* "$corpus"/
    echo "== fuzz $target for ${seconds}s ($(ls "$corpus" | wc -l) seeds)"
    status=0
    # A slow input (10 s) is a failure too; the dictionary holds the
    # format's words, which a 60-second run would rarely spell by itself.
    cargo fuzz run "${FLAGS[@]}" "$target" "$corpus" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -dict="$PWD/$FUZZ_DIR/dict/$target.dict" >"$log" 2>&1 || status=$?
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)"
    echo "$target: ${runs:-?} executions in ${seconds}s, $(ls "$corpus" | wc -l) corpus entries"
    [ -z "$done_line" ] || echo "  $done_line"
    if [ "$status" -ne 0 ]; then
        echo "$target: FAILED (exit $status)"
        grep -A 3 -E 'panicked at|^==[0-9]+== ERROR|^SUMMARY' "$log" || true
        grep -E "^Base64" "$log" || true
        sed -n 's/.*Test unit written to //p' "$log" | while read -r artifact; do
            echo "replay: RUSTC_BOOTSTRAP=1 cargo fuzz run ${FLAGS[*]} $target $artifact"
        done
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz: failed: ${failed[*]}"
    exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets, ${seconds}s each, no failure"
