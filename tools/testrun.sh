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
# QEMU suites run QEMU_JOBS at a time (default: the number of CPUs): each guest is mostly
# one busy host thread, and their results are reported in order once all are done.
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

logname() { echo "$logdir/$(echo "$1" | tr '/ ' '__').log"; }

run_suite() {   # kind, display name, command...
    local kind="$1" name="$2"; shift 2
    [ -n "$only" ] && [[ "$name" != *$only* ]] && return
    local log; log=$(logname "$name")
    local t0=$SECONDS
    "$@" >"$log" 2>&1 </dev/null
    tally "$kind" "$name" $? $((SECONDS - t0))
}

tally() {   # kind, name, exit status, seconds
    local kind="$1" name="$2" rc="$3" secs="$4"
    local log; log=$(logname "$name")
    local p f
    p=$(grep -ac '^ok ' "$log"); f=$(grep -ac '^not ok ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1; echo "not ok $name: exited with status $rc" >>"$log"
    fi
    if [ "$kind" = fuzz ] && [ "$rc" -eq 0 ] && [ "$p" -eq 0 ]; then
        p=1; echo "ok $name: no crash in ${fuzz_seconds}s" >>"$log"
    fi
    passed=$((passed + p)); failed=$((failed + f))
    printf '%-6s %-44s %4d passed %3d failed  (%ds)\n' "$kind" "$name" "$p" "$f" "$secs"
    if [ "$f" -gt 0 ]; then
        grep -a '^not ok ' "$log" | head -20 | cut -c1-400 | sed 's/^/    /'
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
if [ -n "$qemu" ]; then  # decide KVM vs TCG once, before suites run side by side
    acc=$(python3 -c 'import sys; sys.path.insert(0, "tools"); import vmachine; print(vmachine.accel() + ", disk aio=" + vmachine.aio())' 2>&1 | tail -1)
    echo "qemu suites: accel=$acc, ${QEMU_JOBS:-$(nproc)} at a time"
fi
jobs=${QEMU_JOBS:-$(nproc)}
declare -A started
for q in $qemu; do
    [ -n "$only" ] && [[ "$q" != *$only* ]] && continue
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    log=$(logname "$q")
    started[$q]=$SECONDS
    ( python3 "$q" >"$log" 2>&1 </dev/null; echo $? >"$log.rc"; echo $SECONDS >"$log.end" ) &
done
wait
for q in $qemu; do
    [ -n "$only" ] && [[ "$q" != *$only* ]] && continue
    log=$(logname "$q")
    tally qemu "$q" "$(cat "$log.rc" 2>/dev/null || echo 99)" $(( $(cat "$log.end" 2>/dev/null || echo 0) - ${started[$q]} ))
done

if [ ${#failures[@]} -gt 0 ]; then
    echo; echo "logs of failing suites:"; printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
