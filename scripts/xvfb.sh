#!/usr/bin/env bash
# Sourced by the GUI scripts: start a private Xvfb and export DISPLAY.
# Fails loudly when Xvfb is missing (never a silent skip).
xvfb_start() {
  command -v Xvfb >/dev/null || { echo "Xvfb is not installed (run scripts/deps.sh test)" >&2; return 1; }
  # -displayfd lets the server pick a free display itself and tell us
  # which: lock files alone do not show displays whose abstract socket is
  # taken from another mount namespace (the portable test runs in one).
  local fdfile i
  fdfile=$(mktemp)
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$fdfile" >/dev/null 2>&1 &
  XVFB_PID=$!
  for i in $(seq 1 100); do
    if [ -s "$fdfile" ]; then
      export DISPLAY=":$(tr -dc 0-9 <"$fdfile")"
      rm -f "$fdfile"
      return 0
    fi
    kill -0 "$XVFB_PID" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$fdfile"
  echo "Xvfb did not start" >&2; return 1
}
xvfb_stop() {
  [ -n "${XVFB_PID:-}" ] || return 0
  kill "$XVFB_PID" 2>/dev/null
  wait "$XVFB_PID" 2>/dev/null || true
}

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
