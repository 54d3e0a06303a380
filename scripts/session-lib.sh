#!/usr/bin/env bash
# Sourced by the real-window session scripts (omemo-, resend- and
# prefs-session.sh), after scripts/xvfb.sh. session_start NAME SHOTS
# DEMO-ARGS... checks the tools, builds the demo, starts Xvfb, openbox
# and the demo (its private Prosody and two Sottos on fresh profiles,
# each writing its SOTTO_TEST_STATE file into $tmp/state) and finds the
# demo's folder, by which its Sottos are told apart from any other demo's
# on the machine. A script may define session_on_exit, run first on exit.
# The helpers: fail, st, wait_for, pid_of, win, snap.

session_start() {
  session_name=$1 shots=$2
  shift 2
  local tool i
  for tool in openbox xdotool jq import prosody; do
    command -v "$tool" >/dev/null || { echo "$session_name: $tool is not installed (scripts/deps.sh test)" >&2; exit 1; }
  done
  [ -x build/sotto ] || { echo "$session_name: no build/sotto" >&2; exit 1; }
  go build -o build/sotto-demo ./internal/cmd/demo
  mkdir -p "$shots"
  export LANG=en_US.UTF-8
  unset LC_ALL
  tmp=$(mktemp -d)
  demo="" wm="" ddir=""
  trap session_cleanup EXIT
  xvfb_start
  openbox >"$tmp/openbox.log" 2>&1 &
  wm=$!
  sleep 1
  mkdir -p "$tmp/state"
  DEMO_STATE_DIR=$tmp/state build/sotto-demo "$@" -sotto build/sotto >"$tmp/demo.log" 2>&1 &
  demo=$!
  for i in $(seq 1 120); do
    ddir=$(sed -n 's/.*(folder \(.*\))$/\1/p' "$tmp/demo.log" | head -1)
    [ -n "$ddir" ] && break
    sleep 0.25
  done
  [ -n "$ddir" ] || fail "the demo did not start"
}

session_cleanup() {
  trap - EXIT
  if declare -F session_on_exit >/dev/null; then session_on_exit; fi
  if [ -n "$demo" ] && kill -0 "$demo" 2>/dev/null; then kill -INT "$demo"; wait "$demo" 2>/dev/null || true; fi
  if [ -n "$wm" ]; then kill "$wm" 2>/dev/null || true; fi
  xvfb_stop
  rm -rf "$tmp"
}

fail() { echo "$session_name: $*" >&2; tail -30 "$tmp/demo.log" >&2; shot "$shots/failed.png" || true; exit 1; }
# st NAME: that Sotto's test-state file (ui/teststate.go), {} before the first.
st() { cat "$tmp/state/$1.json" 2>/dev/null || echo '{}'; }
# wait_for NAME JQ-EXPR SECONDS
wait_for() {
  local i
  for i in $(seq 1 $(($3 * 4))); do
    if st "$1" | jq -e "$2" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  fail "$1: timed out waiting for $2"
}
pid_of() { pgrep -f -- "build/sotto --profile $ddir/$1/profile\$" | head -1; }
# win NAME TITLE-REGEX: the X window id.
win() { xdotool search --all --onlyvisible --pid "$(pid_of "$1")" --name "$2" 2>/dev/null | head -1; }
snap() { sleep "${2:-1}"; shot "$shots/$1.png"; echo "$session_name: $shots/$1.png"; }
