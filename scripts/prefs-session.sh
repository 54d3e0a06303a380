#!/usr/bin/env bash
# The new-device choice in Preferences in a real window manager, driven
# with xdotool under Xvfb + openbox: the demo's private Prosody, alice and
# bob on fresh profiles (only alice's windows are used). Alice opens
# Preferences the way a user does (the menu button in the roster window,
# then "Preferences…"), finds "Let new OMEMO devices (of contacts and of
# my own account) get messages at once" off, ticks it and saves: the window
# says "Saved." and her profile's prefs.json has Prefs.OMEMOTrustNewDevices
# true. She closes Preferences with the window manager (Alt+F4) and opens
# it again from the menu: the box is still ticked.
# A screenshot after each step into screenshots/prefs/ (override with
# PREFS_SHOTS). Needs build/sotto (go build -tags "$SOTTO_TAGS" -o
# build/sotto .). Not part of make test.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goenv.sh
source scripts/xvfb.sh
shots=${PREFS_SHOTS:-screenshots/prefs}
mkdir -p "$shots"
rm -f "$shots"/*.png
source scripts/session-lib.sh
session_start prefs-session "$shots"
# at ID X Y: click at window pixels X Y of window ID.
at() {
  xdotool windowactivate --sync "$1" >/dev/null 2>&1 || true
  xdotool mousemove --window "$1" "$2" "$3"
  sleep 0.2
  xdotool click 1
}
# item NAME TITLE-REGEX KIND TEXT: prints "x y" (centre, window pixels).
item() {
  st "$1" | jq -r --arg re "$2" --arg k "$3" --arg t "$4" \
    'first(.Windows[] | select(.Title|test($re)) | .Items[] | select(.Kind==$k and .Text==$t and .Layer==0 and .Disabled != true))
     | "\(.X + (.W/2|floor)) \(.Y + (.H/2|floor))"'
}
# click NAME TITLE-REGEX KIND TEXT
click() {
  local id xy
  id=$(win "$1" "$2"); [ -n "$id" ] || fail "no window $2 of $1"
  xy=$(item "$1" "$2" "$3" "$4"); [ -n "$xy" ] || fail "no $3 '$4' in $2 of $1"
  at "$id" $xy
}

box="Let new OMEMO devices (of contacts and of my own account) get messages at once"
help_start="Off (the default): a device a contact, or your own account, adds later gets nothing"
prefs_title='Preferences$'
roster_title='@localhost$' # the roster window: "Sotto — alice@localhost"
# checked: jq expression, true when the box is drawn in Preferences and ticked.
checked() { echo "[.Windows[] | select(.Title|test(\"$prefs_title\")) | .Items[] | select(.Kind==\"check\" and .Text==\"$box\")] | length == 1 and ((.[0].Checked // false) == $1)"; }

# open_prefs: the roster window's menu button (the icon at the right of
# its top bar, beside "Keys"), then its second item, "Preferences…" (the
# pop-up menu takes the arrow keys, as it does for any user). SHOT names
# a screenshot of the open menu.
open_prefs() {
  local id keys xy
  id=$(win alice "$roster_title"); [ -n "$id" ] || fail "no roster window"
  keys=$(st alice | jq -r --arg re "$roster_title" 'first(.Windows[] | select(.Title|test($re)) | .Items[] | select(.Kind=="button" and .Text=="Keys")) | .Y')
  [ -n "$keys" ] && [ "$keys" != null ] || fail "no Keys button in the roster window"
  xy=$(st alice | jq -r --arg re "$roster_title" --argjson y "$keys" '[.Windows[] | select(.Title|test($re)) | .Items[]
      | select(.Kind=="button" and .Text=="" and .Y==$y and .Layer==0)] | max_by(.X) | select(. != null)
      | "\(.X + (.W/2|floor)) \(.Y + (.H/2|floor))"')
  [ -n "$xy" ] || fail "no menu button in the roster window"
  at "$id" $xy
  sleep 0.5
  xdotool key Down Down
  [ -z "${1:-}" ] || snap "$1"
  xdotool key Return
  wait_for alice "[.Windows[] | select(.Title|test(\"$prefs_title\"))] | length == 1" 20
  wait_window 'Preferences$' 10 || fail "the Preferences window is not mapped"
  sleep 0.5
  local pw
  pw=$(win alice "$prefs_title")
  xdotool windowmove "$pw" 380 40
}

wait_for alice "[.Windows[] | select(.Title|test(\"$roster_title\"))] | length > 0" 60
# Below the top edge, so that its title bar is on screen too.
xdotool windowmove "$(win alice "$roster_title")" 0 30 windowsize "$(win alice "$roster_title")" 360 640
wait_for alice '[.Windows[].Items[] | select(.Kind=="row")] | length > 0' 30
# Bob's Sotto is the demo's other half; only alice's windows are used, so
# his is minimised out of the screenshots.
wait_for bob "[.Windows[] | select(.Title|test(\"$roster_title\"))] | length > 0" 60
xdotool windowminimize "$(win bob "$roster_title")" || true
sleep 1
prof=$ddir/alice/profile
[ -d "$prof" ] || fail "cannot find alice's profile folder"
echo "prefs-session: alice's profile is $prof"
if [ -f "$prof/prefs.json" ]; then
  jq -e '.Prefs.OMEMOTrustNewDevices != true' "$prof/prefs.json" >/dev/null || fail "prefs.json trusts new devices before anything was changed"
fi

# 1-2: the menu, then Preferences with the box off (the default).
open_prefs 01-roster-menu-preferences
wait_for alice "$(checked false)" 10
st alice | jq -e --arg h "$help_start" '[.Windows[].Items[] | select(.Kind=="label" and (.Text|startswith($h)))] | length == 1' >/dev/null ||
  fail "no help text under the new-device choice"
snap 02-preferences-box-off

# 3: ticked and saved: "Saved.", and prefs.json says so.
click alice "$prefs_title" check "$box"
wait_for alice "$(checked true)" 10
click alice "$prefs_title" button Save
wait_for alice '[.Windows[].Items[] | select(.Kind=="label" and .Text=="Saved.")] | length == 1' 10
for i in $(seq 1 20); do
  jq -e '.Prefs.OMEMOTrustNewDevices == true' "$prof/prefs.json" >/dev/null 2>&1 && break
  sleep 0.25
done
jq -e '.Prefs.OMEMOTrustNewDevices == true' "$prof/prefs.json" >/dev/null || fail "prefs.json does not have Prefs.OMEMOTrustNewDevices true"
[ "$(stat -c %a "$prof/prefs.json")" = 600 ] || fail "prefs.json is not 0600"
echo "prefs-session: prefs.json: $(jq -c . "$prof/prefs.json")"
snap 03-ticked-and-saved

# 4: closed by the window manager and opened again from the menu: a new
# window, still ticked, with no "Saved." left over.
pw=$(win alice "$prefs_title")
xdotool windowactivate --sync "$pw" >/dev/null 2>&1 || true
xdotool key alt+F4
wait_for alice "[.Windows[] | select(.Title|test(\"$prefs_title\"))] | length == 0" 10
sleep 0.5
open_prefs
wait_for alice "$(checked true)" 10
if st alice | jq -e '[.Windows[].Items[] | select(.Kind=="label" and .Text=="Saved.")] | length > 0' >/dev/null; then
  fail "the reopened Preferences still says Saved. (the old window came back)"
fi
snap 04-reopened-still-ticked
echo "prefs-session: done"
