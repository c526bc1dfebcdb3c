#!/bin/bash
# tests/vm/test_programs.sh: differential test - every program in programs/ built natively
# (clang -O2) and to .nda gives byte-identical output and exit status, on every engine the
# `nda` tool offers; plus `nda dis | nda as` round trip and sha256sum against coreutils.
# Usage: test_programs.sh BUILD_DIR
B=${1:-build}
NDA=$B/nda
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'hello, file\n' > "$tmp/in.txt"
engines="--interp"
$NDA run $B/programs/hello.nda --jit >/dev/null 2>&1 && engines="--interp --jit"
cases=(
  "hello a b"
  "fibonacci 30 22"
  "neural_n"
  "sieve 100000"
  "mandel 60 20 50"
  "sha256sum $tmp/in.txt $B/programs/hello.nda"
  "sha256sum --bench 1"
  "cat $tmp/in.txt"
  "matmul 48"
  "crc32 1"
  "collatz 20000"
  "fibonacci 0 20"
)
for c in "${cases[@]}"; do
  set -- $c; p=$1; shift
  "$B/programs/native/$p" "$@" >"$tmp/native.out" 2>&1; nrc=$?
  for e in $engines; do
    $NDA run "$B/programs/$p.nda" "$@" $e >"$tmp/vm.out" 2>&1; vrc=$?
    if cmp -s "$tmp/native.out" "$tmp/vm.out" && [ $nrc = $vrc ]; then
      echo "ok program $p $* [$e] matches native"
    else
      echo "not ok program $p $* [$e]: differs from native (exit $vrc vs $nrc): $(diff "$tmp/native.out" "$tmp/vm.out" | head -3 | tr '\n' ' ')"
    fi
  done
done
want=$(sha256sum "$tmp/in.txt" | cut -d' ' -f1)
got=$($NDA run $B/programs/sha256sum.nda "$tmp/in.txt" | cut -d' ' -f1)
[ "$want" = "$got" ] && echo "ok sha256sum.nda agrees with coreutils" || echo "not ok sha256sum.nda: $got, want $want"
# Disassembler/assembler round trip on every program's code.
for p in $B/programs/*.nda; do
  $NDA dis "$p" | sed 's/^ *[0-9]*: //' > "$tmp/d.s"
  if $NDA as "$tmp/d.s" -o "$tmp/d.bin" 2>"$tmp/err"; then
    n=$(stat -c %s "$tmp/d.bin")
    if cmp -s "$tmp/d.bin" <(tail -c +97 "$p" | head -c "$n") ; then
      echo "ok dis/as round trip $(basename "$p")"
    else
      echo "not ok dis/as round trip $(basename "$p"): code differs"
    fi
  else
    echo "not ok dis/as round trip $(basename "$p"): $(cat "$tmp/err")"
  fi
done
# A bad program is refused with a plain-words explanation.
cat > "$tmp/big.c" <<'C'
#include "nda.h"
int main(void) { volatile char big[2048]; for (int i = 0; i < 2048; i++) big[i] = (char)i; return big[7]; }
C
if $NDA build "$tmp/big.c" -o "$tmp/big.nda" 2>"$tmp/err"; then
  echo "not ok nda build refuses a 2 KiB stack frame"
else
  grep -q "512-byte frame" "$tmp/err" && echo "ok nda build explains the 512-byte frame limit" \
    || echo "not ok nda build explanation missing: $(head -c 200 "$tmp/err")"
fi
cat > "$tmp/undef.c" <<'C'
#include "nda.h"
extern long mystery(long);
int main(void) { return (int)mystery(3); }
C
if $NDA build "$tmp/undef.c" -o "$tmp/u.nda" 2>"$tmp/err"; then
  echo "not ok nda build refuses undefined symbols"
else
  grep -q "mystery" "$tmp/err" && echo "ok nda build names the undefined symbol" \
    || echo "not ok nda build undefined symbol message: $(head -c 200 "$tmp/err")"
fi
