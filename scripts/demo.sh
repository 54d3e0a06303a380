#!/usr/bin/env bash
# `make demo`: a private Prosody with alice and bob, and two Sotto windows
# already signed in to them (internal/cmd/demo does the work). Ctrl-C stops
# everything it started.
#
# With a display, the windows open on it. Without one (DISPLAY unset) the
# demo starts Xvfb, places the two windows side by side, writes
# screenshots/demo.png and stops; set DEMO_STAY=1 to keep it running.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goenv.sh
source scripts/xvfb.sh
export LANG=${LANG:-en_US.UTF-8}
mkdir -p build screenshots
[ -x build/sotto ] || go build -tags "$SOTTO_TAGS" -o build/sotto .
go build -o build/sotto-demo ./internal/cmd/demo

headless=0
if [ -z "${DISPLAY:-}" ]; then
  headless=1
  export LANG=en_US.UTF-8; unset LC_ALL
  xvfb_start
fi

demo=""
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$demo" ] && kill -0 "$demo" 2>/dev/null; then
    kill -INT "$demo" 2>/dev/null || true
    wait "$demo" 2>/dev/null || true
  fi
  [ "$headless" = 1 ] && xvfb_stop
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build/sotto-demo -sotto build/sotto &
demo=$!

# both_windows: waits until two visible main windows ("Sotto — <account>") are mapped
# (each instance's main window) and prints their ids.
both_windows() {
  local i ids
  for i in $(seq 1 $(( $1 * 10 ))); do
    ids=$(xdotool search --onlyvisible --name '^Sotto( — .*)?$' 2>/dev/null || true)
    if [ "$(printf '%s\n' "$ids" | grep -c .)" -ge 2 ]; then printf '%s\n' "$ids"; return 0; fi
    kill -0 "$demo" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

if [ "$headless" = 0 ]; then
  wait "$demo"
  exit
fi

t0=$(date +%s%N)
if ! ids=$(both_windows 60); then
  echo "demo: the two Sotto windows did not appear" >&2
  exit 1
fi
echo "demo: both windows mapped in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
# Xvfb has no window manager: both windows sit at 0,0. Put them side by
# side, alice's on the left (told apart by the profile on the command line
# of the process that owns each window).
left=0
for id in $ids; do
  x=640
  pid=$(xdotool getwindowpid "$id" 2>/dev/null || true)
  if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '/alice/profile'; then x=0; fi
  if [ "$x" = 0 ] && [ "$left" = 1 ]; then x=640; fi
  [ "$x" = 0 ] && left=1
  xdotool windowmove "$id" "$x" 0 windowsize "$id" 620 760
done
sleep "${DEMO_SETTLE:-4}" # let both sign in and draw their contact lists
shot screenshots/demo.png
echo "demo: screenshot screenshots/demo.png"
if [ "${DEMO_STAY:-0}" = 1 ]; then wait "$demo"; fi
