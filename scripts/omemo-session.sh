#!/usr/bin/env bash
# Two real Sottos talking OMEMO (issue 15), driven with xdotool under
# Xvfb + openbox: the demo's Prosody with mod_pep (demo -pep), alice and
# bob signed in. Alice opens bob, writes; the chat goes OMEMO; she opens
# the padlock menu, the Fingerprints window (QR code), compares bob's
# device and verifies it. A screenshot after each step into
# screenshots/omemo/ (override with OMEMO_SHOTS). Needs build/sotto
# (go build -tags "$SOTTO_TAGS" -o build/sotto .).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goenv.sh
source scripts/xvfb.sh
command -v zbarimg >/dev/null || { echo "omemo-session: zbarimg is not installed (scripts/deps.sh test)" >&2; exit 1; }
shots=${OMEMO_SHOTS:-screenshots/omemo}
source scripts/session-lib.sh
session_start omemo-session "$shots" -pep -second-bob
# item NAME TITLE-REGEX KIND TEXT [LAYER]: prints "x y" (centre, window pixels).
item() {
  st "$1" | jq -r --arg re "$2" --arg k "$3" --arg t "$4" --argjson l "${5:-0}" \
    'first(.Windows[] | select(.Title|test($re)) | .Items[] | select(.Kind==$k and .Text==$t and .Layer==$l and .Disabled != true)) | "\(.X + (.W/2|floor)) \(.Y + (.H/2|floor))"'
}
# click NAME TITLE-REGEX KIND TEXT [LAYER] [COUNT]
click() {
  local id xy
  id=$(win "$1" "$2"); [ -n "$id" ] || fail "no window $2 of $1"
  xy=$(item "$1" "$2" "$3" "$4" "${5:-0}"); [ -n "$xy" ] && [ "$xy" != null ] || fail "no $3 '$4' in $2 of $1"
  xdotool windowactivate --sync "$id" >/dev/null 2>&1 || true
  xdotool mousemove --window "$id" $xy
  sleep 0.2
  xdotool click --repeat "${6:-1}" --delay 120 1
}

wait_for alice '[.Windows[] | select(.Title|test("^Sotto"))] | length > 0' 60
wait_for bob '[.Windows[] | select(.Title|test("^Sotto"))] | length > 0' 60
# Side by side: alice left, bob right.
xdotool windowmove "$(win alice '^Sotto')" 0 0 windowsize "$(win alice '^Sotto')" 420 700
xdotool windowmove "$(win bob '^Sotto')" 860 0 windowsize "$(win bob '^Sotto')" 420 700
wait_for alice '[.Windows[].Items[] | select(.Kind=="row")] | length > 0' 30
sleep 3 # both publish their OMEMO device and bundle
peer=$(st alice | jq -r 'first(.Windows[].Items[] | select(.Kind=="row")) | .Text')
click alice '^Sotto' row "$peer" 0 2
wait_for alice '[.Windows[] | select(.Title|test("Chats"))] | length > 0' 20
xdotool windowmove "$(win alice 'Chats')" 0 0 windowsize "$(win alice 'Chats')" 760 720
sleep 1
xdotool windowactivate --sync "$(win alice 'Chats')" >/dev/null 2>&1 || true
xdotool type --delay 20 "Hello Bob, this goes over OMEMO."
xdotool key Return
wait_for alice '.Chats[0].Level == "Unverified" or .Chats[0].Level == "Private"' 30
wait_for bob '[.Windows[] | select(.Title|test("Chats"))] | length > 0' 30
xdotool windowmove "$(win bob 'Chats')" 620 80 windowsize "$(win bob 'Chats')" 650 700
snap 01-chat-unverified-omemo 2

# The padlock menu (a pop-up: clicked by its place below the button).
click alice 'Chats' button "Unverified (OMEMO)"
snap 02-padlock-menu
xdotool key Escape
sleep 0.5

# Compare fingerprints from the hint: bob's device with It matches.
click alice 'Chats' button "Compare fingerprints…"
wait_for alice '[.Windows[].Items[] | select(.Kind=="button" and .Text=="It matches" and .Disabled != true)] | length > 0' 20
snap 03-compare-dialog
click alice 'Chats' button "It matches" 1
wait_for alice '.Chats[0].Level == "Private"' 20
snap 04-after-it-matches
click alice 'Chats' button "Close" 1
sleep 0.5
snap 05-chat-private-omemo

# Bob: the Fingerprints window from his padlock menu (its "Fingerprints…"
# entry, found by its place below the button: pop-up menus are not in the
# state file), on its OMEMO tab with his QR code; he verifies alice's
# device there.
bxy=$(st bob | jq -r 'first(.Windows[] | select(.Title|test("Chats")) | .Items[] | select(.Kind=="button" and .Text=="Unverified (OMEMO)")) | "\(.X + (.W/2|floor)) \(.Y + .H + 185)"')
[ -n "$bxy" ] && [ "$bxy" != null ] || fail "no padlock button in bob's chat"
click bob 'Chats' button "Unverified (OMEMO)"
sleep 0.5
snap 06-bob-padlock-menu 0.5
xdotool mousemove --window "$(win bob 'Chats')" $bxy
sleep 0.2
xdotool click 1
wait_for bob '[.Windows[] | select(.Title|test("Fingerprints"))] | length > 0' 20
fw=$(win bob 'Fingerprints')
xdotool windowmove "$fw" 60 20 windowsize "$fw" 720 760
wait_for bob '[.Windows[] | select(.Title|test("Fingerprints")) | .Items[] | select(.Kind=="button" and .Text=="Verify" and .Disabled != true)] | length > 0' 20
snap 07-fingerprints-omemo-qr 1.5
# The code on screen is the link shown beside it (what Conversations reads).
shown=$(st bob | jq -r 'first(.Windows[] | select(.Title|test("Fingerprints")) | .Items[] | select(.Kind=="label" and (.Text|startswith("xmpp:")))) | .Text')
scanned=$(zbarimg -q --raw "$shots/07-fingerprints-omemo-qr.png" 2>/dev/null | grep '^xmpp:' || true)
[ -n "$shown" ] && [ "$scanned" = "$shown" ] || fail "QR code reads '$scanned', the window shows '$shown'"
echo "omemo-session: the QR code scans as $scanned"
click bob 'Fingerprints' button "Verify"
wait_for bob '.Chats[0].Level == "Private"' 20
snap 08-fingerprints-after-verify 1
xdotool windowminimize "$fw" || true
xdotool windowactivate --sync "$(win bob 'Chats')" >/dev/null 2>&1 || true
snap 09-both-private-omemo 1

# Bob signs in on a second device: alice, who verified his only device,
# is warned loudly (red bar and a dialog); she compares the new one.
kill -USR1 "$demo"
wait_for bob2 '[.Windows[] | select(.Title|test("^Sotto"))] | length > 0' 60
xdotool windowminimize "$(win bob2 '^Sotto')" || true
wait_for alice '.Chats[0].Level == "Unverified"' 60
wait_for alice '[.Windows[] | select(.Title|test("Chats")) | .Dialogs[]? | select(.Title|test("New device"))] | length > 0' 20
xdotool windowactivate --sync "$(win alice 'Chats')" >/dev/null 2>&1 || true
snap 10-alice-new-device-warning 1.5
click alice 'Chats' button "OK" 1
sleep 0.5
click alice 'Chats' button "Authenticate Bob"
wait_for alice '[.Windows[].Items[] | select(.Kind=="button" and .Text=="It matches" and .Disabled != true)] | length > 0' 20
snap 11-alice-compare-new-device 1
click alice 'Chats' button "It matches" 1
wait_for alice '.Chats[0].Level == "Private"' 20
snap 12-alice-new-device-verified 1
echo "omemo-session: done"
