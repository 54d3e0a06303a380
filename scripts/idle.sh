#!/usr/bin/env bash
# Measures an idle Sotto: the real binary under Xvfb, signed in to a
# private Prosody (internal/cmd/demo: alice with 2,000 more contacts and
# bob, both online), alice's chat with Bob open and its message field
# focused, then nothing happens for SECONDS (default 300). Prints one line
#   IDLE seconds=… ticks=… ticks_per_min=… wakeups=… wakeups_per_min=…
# ticks: utime+stime of alice's Sotto (/proc/PID/stat fields 14+15, in
# 1/100 s); wakeups: voluntary+nonvoluntary context switches summed over
# all its threads (/proc/PID/task/*/status).
#
#   scripts/idle.sh [SECONDS]   (IDLE_SOTTO=binary to measure another build)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goenv.sh
source scripts/xvfb.sh
export LANG=en_US.UTF-8
unset LC_ALL
export PATH="$PATH:/usr/local/go/bin"
secs=${1:-300}
sotto=${IDLE_SOTTO:-build/sotto}
mkdir -p build
[ -n "${IDLE_SOTTO:-}" ] || go build -tags "$SOTTO_TAGS" -o "$sotto" .
go build -o build/sotto-demo ./internal/cmd/demo
out=$(mktemp -d)
demo=
cleanup() {
  if [ -n "$demo" ]; then kill -INT "$demo" 2>/dev/null || true; wait "$demo" 2>/dev/null || true; fi
  xvfb_stop || true
  rm -rf "$out"
}
trap cleanup EXIT
xvfb_start
build/sotto-demo -sotto "$sotto" -contacts 2000 >"$out/demo.log" 2>&1 &
demo=$!

# alice_window: the id of the window owned by alice's Sotto.
alice_window() {
  local id pid
  for id in $(xdotool search --onlyvisible --name '^Sotto( — .*)?$' 2>/dev/null); do
    pid=$(xdotool getwindowpid "$id" 2>/dev/null || true)
    if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '/alice/profile'; then
      echo "$id $pid"; return 0
    fi
  done
  return 1
}
for i in $(seq 1 600); do
  n=$(xdotool search --onlyvisible --name '^Sotto( — .*)?$' 2>/dev/null | grep -c . || true)
  if [ "$n" -ge 2 ] && w=$(alice_window); then break; fi
  kill -0 "$demo" 2>/dev/null || { cat "$out/demo.log" >&2; echo "idle: the demo ended" >&2; exit 1; }
  sleep 0.1
done
[ -n "${w:-}" ] || { cat "$out/demo.log" >&2; echo "idle: alice's window did not appear" >&2; exit 1; }
read -r win pid <<<"$w"
# Xvfb has no window manager: put bob's window beside alice's.
for id in $(xdotool search --onlyvisible --name '^Sotto( — .*)?$' 2>/dev/null); do
  [ "$id" = "$win" ] || xdotool windowmove "$id" 640 0
done
xdotool windowmove "$win" 0 0 windowsize "$win" 620 760
sleep "${IDLE_SETTLE:-15}" # sign-in, 2,000 contacts drawn, bob online
# Open the chat with Bob: filter the list to him and open the first row.
xdotool windowactivate --sync "$win" 2>/dev/null || xdotool windowfocus "$win"
"${IDLE_OPEN_CHAT:-scripts/idle-open-chat.sh}" "$win" "$out"
sleep 5
[ -n "${IDLE_SHOT:-}" ] && import -window root "$IDLE_SHOT"

ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
switches() { cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ { s += $2 } END { print s }'; }
[ -n "${IDLE_HOOK:-}" ] && "$IDLE_HOOK" "$pid"
t0=$(ticks); s0=$(switches)
sleep "$secs"
t1=$(ticks); s1=$(switches)
kill -0 "$pid" 2>/dev/null || { echo "idle: Sotto ended during the measurement" >&2; exit 1; }
awk -v s="$secs" -v t=$((t1 - t0)) -v w=$((s1 - s0)) 'BEGIN {
  printf "IDLE seconds=%d ticks=%d ticks_per_min=%.1f wakeups=%d wakeups_per_min=%.0f\n", s, t, t * 60 / s, w, w * 60 / s }'
