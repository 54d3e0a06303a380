#!/usr/bin/env bash
# The whole test suite: formatting, vet, unit + integration tests (real
# Prosody, real libotr, real Secret Service), and a real window under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goenv.sh
export LANG=${LANG:-en_US.UTF-8}
start=$(date +%s)

echo "== gofmt"
bad=$(gofmt -l $(git ls-files '*.go'; git ls-files --others --exclude-standard '*.go') 2>/dev/null || true)
if [ -n "$bad" ]; then echo "gofmt needed on:"; echo "$bad"; exit 1; fi

echo "== go vet"
go vet ./...
go vet -tags libotr ./internal/libotr/
go vet -tags libsignal ./internal/libsignal/

echo "== go test -race (all packages; libotr and libsignal-protocol-c interop via -tags libotr,libsignal)"
# -p 2: this machine has 2 cores. Integration tests start their own Prosody,
# libotr and libsignal-protocol-c harnesses and Secret Service; with CI=true
# a missing one fails.
mkdir -p build
set +e
go test -race -p 2 -timeout 15m -tags libotr,libsignal -v ./... 2>&1 | tee build/test.log
status=${PIPESTATUS[0]}
set -e
echo "== go test packages"
grep -E '^(ok|FAIL|---|\?) ' build/test.log | grep -vE '^--- (PASS|SKIP)' || true
passed=$(grep -cE '^\s*--- PASS' build/test.log || true)
failed=$(grep -cE '^\s*--- FAIL' build/test.log || true)
skipped=$(grep -cE '^\s*--- SKIP' build/test.log || true)
if [ "$status" -ne 0 ]; then
  echo "go test failed (exit $status)"
  echo "tests: $passed passed, $failed failed, $skipped skipped"
  exit "$status"
fi

echo "== a real window under Xvfb"
scripts/gui-smoke.sh

echo "== first run to a verified private chat under openbox (issue 13)"
scripts/firstrun-test.sh

echo "== portable mode under Xvfb: nothing written outside the stick, no secret in the clear"
scripts/portable-test.sh

echo "== total $(( $(date +%s) - start )) s"
echo "tests: $passed passed, $failed failed, $skipped skipped" | tee build/test-summary.txt
