#!/bin/bash
# Runs every test suite and prints one summary line `N passed, N failed`.
#
# A suite is an executable that prints one line per check: `ok NAME` or `not ok NAME: why`.
# A suite that exits non-zero without reporting a failure counts as one failed check
# (it crashed or gave up), so a silent crash can never pass.
#   --unit "EXES"        host unit-test executables
#   --fuzz "EXES"        libFuzzer executables, each run for --fuzz-seconds
#   --qemu "SCRIPTS"     python3 scripts that boot the real image
#   --only PATTERN       run only suites whose path matches PATTERN
set -u
unit=""; fuzz=""; qemu=""; fuzz_seconds=20; only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --unit) unit="$2"; shift 2;;
        --fuzz) fuzz="$2"; shift 2;;
        --qemu) qemu="$2"; shift 2;;
        --fuzz-seconds) fuzz_seconds="$2"; shift 2;;
        --only) only="$2"; shift 2;;
        *) echo "testrun: unknown argument $1" >&2; exit 2;;
    esac
done
[ -n "${TEST_ONLY:-}" ] && only="$TEST_ONLY"
passed=0; failed=0; failures=()
logdir=build/test-logs; mkdir -p "$logdir"

run_suite() {   # kind, display name, command...
    local kind="$1" name="$2"; shift 2
    [ -n "$only" ] && [[ "$name" != *$only* ]] && return
    local log="$logdir/$(echo "$name" | tr '/ ' '__').log"
    local t0=$SECONDS
    "$@" >"$log" 2>&1 </dev/null
    local rc=$?
    local p f
    p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1; echo "not ok $name: exited with status $rc" >>"$log"
    fi
    if [ "$kind" = fuzz ] && [ "$rc" -eq 0 ] && [ "$p" -eq 0 ]; then
        p=1; echo "ok $name: no crash in ${fuzz_seconds}s" >>"$log"
    fi
    passed=$((passed + p)); failed=$((failed + f))
    printf '%-6s %-44s %4d passed %3d failed  (%ds)\n' "$kind" "$name" "$p" "$f" $((SECONDS - t0))
    if [ "$f" -gt 0 ]; then
        grep '^not ok ' "$log" | head -20 | sed 's/^/    /'
        failures+=("$log")
    fi
}

for t in $unit; do run_suite unit "$t" "$t"; done
for fz in $fuzz; do
    n=$(basename "$fz"); corpus=build/fuzz-corpus/$n; seeds=tests/fuzz/seeds/$n
    mkdir -p "$corpus" build/fuzz-artifacts
    args=("-max_total_time=$fuzz_seconds" "-artifact_prefix=build/fuzz-artifacts/$n-" "-print_final_stats=1" "$corpus")
    [ -d "$seeds" ] && args+=("$seeds")
    run_suite fuzz "$fz" "$fz" "${args[@]}"
done
for q in $qemu; do run_suite qemu "$q" python3 "$q"; done

if [ ${#failures[@]} -gt 0 ]; then
    echo; echo "logs of failing suites:"; printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
