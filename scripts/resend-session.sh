#!/usr/bin/env bash
# Resend and Remove in a real window (issue 16), driven with xdotool under
# Xvfb + openbox: the demo's private Prosody, alice and bob on fresh
# profiles, alice's account private-or-nothing (demo -always alice: policy
# Always). Bob's Sotto is frozen (SIGSTOP: still online at the server, but
# it answers nothing), so alice's lines wait "queued until private". She
# removes one; the other is reported not sent when the private
# conversation cannot be set up in time. She presses Resend while bob is
# still frozen: the line waits again, private or nothing — never in plain.
# Bob wakes up (SIGCONT), the AKE runs, the line goes encrypted and is
# delivered; bob's window has it once and never the removed one.
# A screenshot after each step into screenshots/resend/ (override with
# RESEND_SHOTS). Needs build/sotto (go build -tags "$SOTTO_TAGS" -o
# build/sotto .). Not part of make test: it waits a minute for the
# deadline.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goenv.sh
source scripts/xvfb.sh
shots=${RESEND_SHOTS:-screenshots/resend}
frozen=""
# bob is thawed on any exit.
session_on_exit() { if [ -n "$frozen" ]; then kill -CONT "$frozen" 2>/dev/null || true; fi; }
source scripts/session-lib.sh
session_start resend-session "$shots" -always alice
# item NAME TITLE-REGEX KIND TEXT [LAST]: prints "x y" (centre, window
# pixels) of the first such item, or the lowest on screen with LAST=1.
item() {
  st "$1" | jq -r --arg re "$2" --arg k "$3" --arg t "$4" --argjson last "${5:-0}" \
    '[.Windows[] | select(.Title|test($re)) | .Items[] | select(.Kind==$k and .Text==$t and .Layer==0 and .Disabled != true)]
     | sort_by(.Y) | (if $last == 1 then last else first end) | select(. != null) | "\(.X + (.W/2|floor)) \(.Y + (.H/2|floor))"'
}
# click NAME TITLE-REGEX KIND TEXT [LAST] [COUNT]
click() {
  local id xy
  id=$(win "$1" "$2"); [ -n "$id" ] || fail "no window $2 of $1"
  xy=$(item "$1" "$2" "$3" "$4" "${5:-0}"); [ -n "$xy" ] || fail "no $3 '$4' in $2 of $1"
  xdotool windowactivate --sync "$id" >/dev/null 2>&1 || true
  xdotool mousemove --window "$id" $xy
  sleep 0.2
  xdotool click --repeat "${6:-1}" --delay 120 1
}
# has_label NAME TEXT: one of its windows has a label with exactly TEXT.
has_label() { st "$1" | jq -e --arg t "$2" '[.Windows[].Items[] | select(.Kind=="label" and .Text==$t)] | length > 0' >/dev/null; }

first="Are you there, Bob? The keys are under the mat."
second="Ignore that, I am sending it privately later."

wait_for alice '[.Windows[] | select(.Title|test("^Sotto"))] | length > 0' 60
wait_for bob '[.Windows[] | select(.Title|test("^Sotto"))] | length > 0' 60
xdotool windowmove "$(win alice '^Sotto')" 0 0 windowsize "$(win alice '^Sotto')" 360 700
xdotool windowmove "$(win bob '^Sotto')" 920 0 windowsize "$(win bob '^Sotto')" 360 700
wait_for alice '[.Windows[].Items[] | select(.Kind=="row")] | length > 0' 30
wait_for bob '[.Windows[].Items[] | select(.Kind=="row")] | length > 0' 30
sleep 2 # both have each other's presence
# Bob's Sotto freezes: its connection stays up, so the server still shows
# him online, but it answers nothing (no private conversation can start).
# Its window is minimised first: a frozen window cannot repaint, and would
# keep stale pixels of windows moved over it in the screenshots.
frozen=$(pid_of bob)
[ -n "$frozen" ] || fail "no bob process"
xdotool windowminimize "$(win bob '^Sotto')" || true
sleep 0.5
kill -STOP "$frozen"
echo "resend-session: bob's Sotto ($frozen) is frozen"

peer=$(st alice | jq -r 'first(.Windows[].Items[] | select(.Kind=="row")) | .Text')
click alice '^Sotto' row "$peer" 0 2
wait_for alice '[.Windows[] | select(.Title|test("Chats"))] | length > 0' 20
xdotool windowmove "$(win alice 'Chats')" 0 0 windowsize "$(win alice 'Chats')" 900 640
sleep 1
xdotool windowactivate --sync "$(win alice 'Chats')" >/dev/null 2>&1 || true
xdotool type --delay 20 "$first"
xdotool key Return
sleep 0.5
xdotool type --delay 20 "$second"
xdotool key Return
wait_for alice '[.Windows[] | select(.Title|test("Chats")) | .Items[] | select(.Kind=="link" and .Text=="Remove")] | length == 2' 20
has_label alice "queued until private" || fail "alice's lines do not say queued until private"
snap 01-two-lines-queued-until-private

# Alice takes the second line back.
click alice 'Chats' link Remove 1
wait_for alice '[.Windows[].Items[] | select(.Kind=="label" and .Text=="removed, not sent")] | length == 1' 20
snap 02-second-line-removed

# The first one waits until the private conversation's deadline (60 s)
# and is then reported not sent, with Resend beside the reason.
wait_for alice '[.Windows[] | select(.Title|test("Chats")) | .Items[] | select(.Kind=="link" and .Text=="Resend")] | length == 1' 100
has_label alice "not sent: a private conversation could not be established in time" || fail "no not-sent reason"
snap 03-first-line-not-sent-with-resend

# Resend while bob is still frozen: the line waits again, queued until
# private — it is never sent in plain.
click alice 'Chats' link Resend
wait_for alice '[.Windows[].Items[] | select(.Kind=="label" and .Text=="queued until private")] | length == 1' 20
wait_for alice '[.Windows[] | select(.Title|test("Chats")) | .Items[] | select(.Kind=="link" and .Text=="Remove")] | length == 1' 20
snap 04-resent-waits-for-privacy

# Bob wakes up: the private conversation starts, the line goes encrypted
# and bob's Sotto confirms it.
kill -CONT "$frozen"
frozen=""
wait_for alice '.Chats[0].Level == "Unverified" or .Chats[0].Level == "Private"' 60
wait_for alice '[.Windows[].Items[] | select(.Kind=="label" and .Text=="sent encrypted · delivered")] | length == 1' 60
xdotool windowactivate --sync "$(win alice 'Chats')" >/dev/null 2>&1 || true
snap 05-resent-line-sent-encrypted-delivered

# Bob's window: the line once, the removed one never.
wait_for bob '[.Windows[] | select(.Title|test("Chats"))] | length > 0' 30
xdotool windowmove "$(win bob 'Chats')" 380 300 windowsize "$(win bob 'Chats')" 900 480
xdotool windowactivate --sync "$(win bob 'Chats')" >/dev/null 2>&1 || true
n=$(st bob | jq --arg t "$first" '[.Windows[].Items[] | select(.Kind=="label" and .Text==$t)] | length')
[ "$n" = 1 ] || fail "bob shows the resent line $n times, want once"
m=$(st bob | jq --arg t "$second" '[.Windows[].Items[] | select(.Kind=="label" and .Text==$t)] | length')
[ "$m" = 0 ] || fail "bob shows the removed line"
snap 06-bob-has-it-once-never-the-removed-one
echo "resend-session: done"
