#!/usr/bin/env bash
# Sourced by the GUI scripts: start a private Xvfb and export DISPLAY.
# Fails loudly when Xvfb is missing (never a silent skip).
xvfb_start() {
  command -v Xvfb >/dev/null || { echo "Xvfb is not installed (run scripts/deps.sh test)" >&2; return 1; }
  local n
  for n in $(seq 90 140); do
    if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then break; fi
  done
  Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  XVFB_PID=$!
  export DISPLAY=":$n"
  for _ in $(seq 1 50); do
    [ -e "/tmp/.X11-unix/X$n" ] && return 0
    sleep 0.1
  done
  echo "Xvfb did not start on :$n" >&2; return 1
}
xvfb_stop() { [ -n "${XVFB_PID:-}" ] && kill "$XVFB_PID" 2>/dev/null; wait "$XVFB_PID" 2>/dev/null || true; }

# wait_window NAME TIMEOUT_S: waits until a mapped window with that name exists.
wait_window() {
  local name=$1 t=${2:-20} i
  for i in $(seq 1 $((t * 10))); do
    if xdotool search --onlyvisible --name "$name" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

# shot FILE: captures the whole screen and fails if the picture is blank.
shot() {
  import -window root "$1"
  local sd
  sd=$(convert "$1" -format '%[fx:standard_deviation]' info:)
  awk -v s="$sd" 'BEGIN{ if (s < 0.01) { print "blank screenshot: " s > "/dev/stderr"; exit 1 } }'
}
