#!/usr/bin/env bash
# Runs every fuzz target in the module for a set time each.
#   scripts/fuzz.sh [DURATION]     (default 5m; e.g. 30s)
# -fuzzminimizetime 50x: minimizing a large new input of the key-file
# parser could otherwise eat the whole time budget (seen: 929 execs/60 s).
# New crashers land in <pkg>/testdata/fuzz/<Target>/ and then fail `make test`
# as regression inputs until fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goenv.sh
t=${1:-${FUZZTIME:-5m}}
found=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)\(' "$dir"/*_test.go 2>/dev/null | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/' | sort -u); do
    found=$((found + 1))
    echo "== $pkg $target ($t)"
    go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$t" -fuzzminimizetime 50x -parallel 2
  done
done
echo "fuzz: $found targets ran for $t each"
[ "$found" -gt 0 ]
