#!/usr/bin/env bash
# Starts the real app under Xvfb (inside dbus-run-session) with a throw-away
# profile and HOME, waits for its window, and captures it. Fails if the
# window never maps or the capture is blank.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goenv.sh
if [ -z "${IN_DBUS:-}" ]; then
  command -v dbus-run-session >/dev/null || { echo "dbus-run-session missing" >&2; exit 1; }
  exec env IN_DBUS=1 dbus-run-session -- "$0" "$@"
fi
source scripts/xvfb.sh
export LANG=en_US.UTF-8
mkdir -p build screenshots
go build -tags "$SOTTO_TAGS" -o build/sotto .
tmp=$(mktemp -d)
trap 'kill $app 2>/dev/null || true; xvfb_stop; rm -rf "$tmp"' EXIT
xvfb_start
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/config XDG_CACHE_HOME=$tmp/cache XDG_DATA_HOME=$tmp/data
mkdir -p "$HOME"
t0=$(date +%s%N)
./build/sotto --profile "$tmp/profile" &
app=$!
if ! wait_window Sotto 30; then echo "gui-smoke: the Sotto window never appeared" >&2; exit 1; fi
t1=$(date +%s%N)
sleep 1
shot screenshots/smoke.png
echo "gui-smoke: window mapped in $(( (t1 - t0) / 1000000 )) ms; screenshot screenshots/smoke.png"
kill "$app"; wait "$app" 2>/dev/null || true
