#!/bin/bash
# tests/vm/bench.sh: CPU-bound NDA programs natively (clang -O2), under the JIT (when built)
# and under the interpreter, sandbox checks on; prints times and ratios to native.  The JIT
# runs twice: with a time limit (the host's 100 Hz preemption timer ticking, as `nda run`
# and the kernel's `run` do by default) and with none (no timer): tl/nolim is the cost of
# the time-limit / Ctrl-C mechanism (vm.h "Time and Ctrl-C").
# Set BENCH_QUICK=1 for smaller inputs, BENCH_RUNS=N for the best of N runs (default 5).
B=${BUILD:-build}
NDA=$B/nda
q=${BENCH_QUICK:-0}
if [ "$q" = 1 ]; then
  cases=("fibonacci 0 27" "sieve 1000000" "matmul 96" "sha256sum --bench 2" "crc32 2" "collatz 100000" "neural_n 200")
else
  cases=("fibonacci 0 32" "sieve 10000000" "matmul 256" "sha256sum --bench 16" "crc32 16" "collatz 1000000" "neural_n 2000")
fi
jit=0; $NDA run $B/programs/hello.nda --jit >/dev/null 2>&1 && jit=1
# Best of BENCH_RUNS (default 5) wall-clock runs, in microseconds: the machine is shared.
# The variants of one program run in turn within each round (native, JIT, JIT without a
# time limit, interpreter, then again), so a burst of load on the host hits them alike.
runs=${BENCH_RUNS:-5}
one() {  # one run: microseconds, or -1 if the command failed
  local s e rc
  s=$(date +%s%N); "$@" >/dev/null 2>&1; rc=$?; e=$(date +%s%N)
  [ $rc -ge 100 ] && { echo -1; return; }
  echo $(( (e - s) / 1000 ))
}
best() {  # best <current best> <new sample>
  if [ "$1" -lt 0 ] || { [ "$2" -ge 0 ] && [ "$2" -lt "$1" ]; }; then echo "$2"; else echo "$1"; fi
}
printf '%-24s %10s %10s %7s %10s %7s %12s %9s\n' benchmark native_ms jit_ms jit/x interp_ms int/x \
  jit_nolim_ms tl/nolim
lj=0; li=0; lt=0; n=0
for c in "${cases[@]}"; do
  set -- $c; p=$1; shift
  tn=-1; tj=-1; tu=-1; ti=-1
  for ((k = 0; k < runs; k++)); do
    tn=$(best $tn "$(one $B/programs/native/$p "$@")")
    if [ $jit = 1 ]; then
      tj=$(best $tj "$(one $NDA run $B/programs/$p.nda "$@" --jit --time-limit 600)")
      tu=$(best $tu "$(one $NDA run $B/programs/$p.nda "$@" --jit --time-limit none)")
    fi
    ti=$(best $ti "$(one $NDA run $B/programs/$p.nda "$@" --interp --time-limit 600)")
  done
  rj=$(awk -v a=$tj -v b=$tn 'BEGIN{ if (a<0) print "-"; else printf "%.2f", a/b }')
  ri=$(awk -v a=$ti -v b=$tn 'BEGIN{ printf "%.2f", a/b }')
  rt=$(awk -v a=$tj -v b=$tu 'BEGIN{ if (a<0 || b<=0) print "-"; else printf "%.3f", a/b }')
  printf '%-24s %10.1f %10s %7s %10.1f %7s %12s %9s\n' "$p $*" "$(awk -v x=$tn 'BEGIN{print x/1000}')" \
    "$([ $tj -lt 0 ] && echo - || awk -v x=$tj 'BEGIN{print x/1000}')" "$rj" "$(awk -v x=$ti 'BEGIN{print x/1000}')" "$ri" \
    "$([ $tu -lt 0 ] && echo - || awk -v x=$tu 'BEGIN{print x/1000}')" "$rt"
  lj=$(awk -v s=$lj -v r=$rj 'BEGIN{ if (r=="-") print s; else print s+log(r) }')
  li=$(awk -v s=$li -v r=$ri 'BEGIN{ print s+log(r) }'); n=$((n+1))
  lt=$(awk -v s=$lt -v r=$rt 'BEGIN{ if (r=="-") print s; else print s+log(r) }')
done
printf 'geometric mean ratio to native: jit %s, interpreter %s\n' \
  "$([ $jit = 1 ] && awk -v s=$lj -v n=$n 'BEGIN{printf "%.2f", exp(s/n)}' || echo n/a)" \
  "$(awk -v s=$li -v n=$n 'BEGIN{printf "%.2f", exp(s/n)}')"
[ $jit = 1 ] && printf 'time-limit mechanism (jit with limit / jit without), geometric mean: %s\n' \
  "$(awk -v s=$lt -v n=$n 'BEGIN{printf "%.3f", exp(s/n)}')"
echo "(best of $runs runs; times include process start, program load and JIT compile; all"
echo " sandbox checks are always on)"
