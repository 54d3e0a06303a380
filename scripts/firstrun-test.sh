#!/usr/bin/env bash
# First run to a verified private chat, through the real GUI, as a new
# user would do it (issue 13). Xvfb with a real window manager (openbox);
# a private Prosody with a self-signed certificate and two accounts
# (internal/cmd/firstrun); two Sottos freshly built and started on empty
# profiles, each with its own HOME, XDG folders, D-Bus session and unlocked
# gnome-keyring (scripts/firstrun-session.sh). xdotool drives both from
# the first window to a chat that reads Private on both sides, with a
# shared-secret verification each way.
#
# It counts actions — clicks and Enter presses; typing text (and Tab
# between two fields of one form) is not an action — and prints
#   first-run actions: alice N, bob M
# and fails when either exceeds 7. A screenshot after every step goes to
# screenshots/firstrun/. It fails when a step's expected text does not
# appear, or a window or dialog extends past the screen (or its window).
#
# Where the widgets are, and what they say, comes from the state file
# each Sotto writes when SOTTO_TEST_STATE is set (ui/teststate.go): Fyne
# draws with GL, so there is no accessibility tree to read.
#
# Then the sibling checks: a wrong password in the wizard is asked again;
# closing the main window of a desktop without a tray ends Sotto within
# 5 s; a second start on a running profile exits within 5 s and leaves
# one process.
#
# FIRSTRUN_KEEP=1 keeps the temporary folder (logs, state files);
# FIRSTRUN_HOLD=1 keeps the display up for 15 minutes after a failure, to
# look with xdotool/xwininfo; FIRSTRUN_DEBUG=1 adds a screenshot before
# every click.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goenv.sh
source scripts/xvfb.sh
export LANG=en_US.UTF-8 FYNE_SCALE=1
unset LC_ALL
start=$(date +%s)
SCREEN_W=1280 SCREEN_H=800
MAX_ACTIONS=7
secret="sunflower over the old bridge"

for tool in openbox xdotool dbus-run-session gnome-keyring-daemon jq import xwininfo; do
  command -v "$tool" >/dev/null || { echo "firstrun: $tool is missing (run scripts/deps.sh test)" >&2; exit 1; }
done

mkdir -p build
# The binary `make build` makes.
version=$(sed -n 's/^Version *= *"\(.*\)"/\1/p' FyneApp.toml)
go build -tags "$SOTTO_TAGS" -ldflags "-X main.version=$version" -o build/sotto .
go build -o build/sotto-firstrun ./internal/cmd/firstrun

shots=screenshots/firstrun
rm -rf "$shots"
mkdir -p "$shots"
tmp=$(mktemp -d)
tb="" wm="" arranger=""
declare -A spid
cleanup() {
  local s
  for s in "${!spid[@]}"; do kill -- "-${spid[$s]}" 2>/dev/null || true; done
  [ -n "$arranger" ] && kill "$arranger" 2>/dev/null || true
  [ -n "$tb" ] && { kill "$tb" 2>/dev/null || true; wait "$tb" 2>/dev/null || true; }
  [ -n "$wm" ] && kill "$wm" 2>/dev/null || true
  xvfb_stop
  if [ -n "${FIRSTRUN_KEEP:-}" ]; then echo "firstrun: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

xvfb_start
openbox >"$tmp/openbox.log" 2>&1 &
wm=$!
for _ in $(seq 1 100); do
  xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id' && break
  sleep 0.1
done
xprop -root _NET_SUPPORTING_WM_CHECK | grep -q 'window id' || { echo "firstrun: openbox did not start" >&2; exit 1; }

# The test bed runs until its stdin (a FIFO we hold open) closes.
mkfifo "$tmp/tb.in"
build/sotto-firstrun -dir "$tmp/prosody" <"$tmp/tb.in" >"$tmp/tb.out" 2>"$tmp/tb.err" &
tb=$!
exec 7>"$tmp/tb.in"
for _ in $(seq 1 300); do [ -s "$tmp/tb.out" ] && break; kill -0 "$tb" 2>/dev/null || break; sleep 0.1; done
[ -s "$tmp/tb.out" ] || { echo "firstrun: the test bed did not start:" >&2; cat "$tmp/tb.err" >&2; exit 1; }
eval "$(cat "$tmp/tb.out")" # port, alice, bob, cert
declare -A pass=([alice]=$alice [bob]=$bob)
echo "firstrun: Prosody on localhost:$port, certificate SHA-256 $cert"
if [ "$port" != 5222 ]; then
  echo "firstrun: port 5222 is taken, so the wizard would need the Advanced port field; free it and run again" >&2
  exit 1
fi

# --- driving ---------------------------------------------------------------

declare -A actions=([alice]=0 [bob]=0 [carol]=0)
stepno=0

# launch NAME: starts a Sotto for NAME on an empty profile in its own
# D-Bus session, HOME and XDG folders.
launch() {
  local n=$1 d=$tmp/$1
  mkdir -p "$d/home" "$d/run" "$d/profile"
  chmod 700 "$d/run"
  rm -f "$d/pid"
  setsid env -u DBUS_SESSION_BUS_ADDRESS -u XDG_RUNTIME_DIR SESSION_DIR="$d" HOME="$d/home" \
    XDG_RUNTIME_DIR="$d/run" XDG_CONFIG_HOME="$d/home/.config" XDG_CACHE_HOME="$d/home/.cache" \
    XDG_DATA_HOME="$d/home/.local/share" SOTTO_TEST_STATE="$d/state.json" \
    dbus-run-session -- scripts/firstrun-session.sh "$PWD/build/sotto" "$d/profile" >"$d/log" 2>&1 &
  spid[$n]=$!
  for _ in $(seq 1 100); do [ -s "$d/pid" ] && break; sleep 0.1; done
  [ -s "$d/pid" ] || fail "$n" "Sotto did not start"
}

pid_of() { cat "$tmp/$1/pid"; }
state() { cat "$tmp/$1/state.json" 2>/dev/null || echo '{}'; }

fail() {
  local n=$1
  shift
  echo "firstrun: FAIL ($n): $*" >&2
  import -window root "$shots/FAIL.png" 2>/dev/null || true
  echo "--- what $n shows:" >&2
  state "$n" | jq -r '.Windows[]? | "[\(.Title)] " + ([.Dialogs[]?.Title] | join(", ")) + "\n  " + ([.Items[]? | "\(.Kind):\(.Text)\(if .Focused then "*" else "" end)"] | join(" | "))' >&2 || true
  echo "--- $n's log:" >&2
  tail -20 "$tmp/$n/log" >&2 || true
  if [ -n "${FIRSTRUN_HOLD:-}" ]; then echo "firstrun: holding DISPLAY=$DISPLAY tmp=$tmp" >&2; sleep 900; fi
  exit 1
}

# wait_for NAME WHAT JQ [SECONDS]: waits until JQ holds on NAME's state.
wait_for() {
  local n=$1 what=$2 q=$3 t=${4:-30} i
  for i in $(seq 1 $((t * 10))); do
    if state "$n" | jq -e "$q" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  fail "$n" "timed out after ${t}s waiting for: $what"
}

# shows TEXT: a jq test that some label, button or entry shows TEXT.
shows() { printf 'any(.Windows[]?.Items[]?; .Text | contains(%s))' "$(jq -Rn --arg s "$1" '$s')"; }

# arrange: runs in the background and moves every Sotto window, as soon
# as it is mapped, to its user's side of the screen (alice left, bob and
# carol right), keeping the height openbox placed it at. Two people would
# use two desktops; on this one screen neither may cover the other, and a
# window arranged only when the script first clicks it can still be
# moving when the click comes (openbox maps a window that did not get the
# focus below the active one). It marks each window it placed with
# $tmp/placed/ID.
arrange() {
  declare -A seen
  local n p x id X Y WIDTH HEIGHT SCREEN WINDOW
  mkdir -p "$tmp/placed"
  while :; do
    for n in alice bob carol; do
      [ -s "$tmp/$n/pid" ] || continue
      p=$(cat "$tmp/$n/pid")
      for id in $(xdotool search --onlyvisible --pid "$p" 2>/dev/null); do
        [ -e "$tmp/placed/$id" ] && continue
        eval "$(xdotool getwindowgeometry --shell "$id" 2>/dev/null)" || continue
        # Only once openbox has framed and placed it and Fyne has sized
        # it: the same geometry on two passes.
        if [ "${seen[$id]:-}" != "$X $Y $WIDTH $HEIGHT" ]; then seen[$id]="$X $Y $WIDTH $HEIGHT"; continue; fi
        # Right-aligned on bob's half: the frame's border is a pixel wide.
        x=0
        [ "$n" = alice ] || x=$((SCREEN_W - WIDTH - 2))
        # windowmove places the frame; the client sits below the title bar.
        xdotool windowmove "$id" "$x" "$((Y > 40 ? Y - 20 : Y))" >/dev/null 2>&1 || true
        echo "$n" >"$tmp/placed/$id"
      done
    done
    sleep 0.1
  done
}

# window NAME TITLE-REGEX: the X id of NAME's visible window so titled,
# once arrange has placed it.
window() {
  local n=$1 re=$2 i id
  for i in $(seq 1 100); do
    # --all: without it xdotool matches the pid OR the name.
    id=$(xdotool search --all --onlyvisible --pid "$(pid_of "$n")" --name "$re" 2>/dev/null | head -1 || true)
    if [ -n "$id" ] && [ -e "$tmp/placed/$id" ]; then
      echo "$id"
      return 0
    fi
    sleep 0.1
  done
  fail "$n" "no visible window titled $re"
}

# focus ID: activates and raises the window, and checks it has the focus.
focus() {
  local i
  for i in $(seq 1 20); do
    xdotool windowactivate --sync "$1" >/dev/null 2>&1 || true
    xdotool windowraise "$1" >/dev/null 2>&1 || true
    [ "$(xdotool getactivewindow 2>/dev/null)" = "$1" ] && return 0
    sleep 0.1
  done
  echo "firstrun: could not focus window $1 ($(xdotool getwindowname "$1"))" >&2
  return 1
}

# center NAME TITLE-REGEX KIND TEXT: "x y" of the topmost item.
center() {
  state "$1" | jq -r --arg re "$2" --arg k "$3" --arg t "$4" '
    [.Windows[] | select(.Title | test($re)) | .Items[] | select(.Kind == $k and (.Text | startswith($t)))]
    | max_by(.Layer) | select(. != null) | "\(.X + (.W / 2 | floor)) \(.Y + (.H / 2 | floor))"'
}

# under POINTER-WINDOW ID: the window under the pointer is ID or the
# frame openbox put it in.
under() {
  [ "$1" = "$2" ] && return 0
  local f
  f=$(xwininfo -tree -id "$2" 2>/dev/null | sed -n 's/.*Parent window id: \(0x[0-9a-f]*\).*/\1/p')
  [ -n "$f" ] && [ "$1" = "$((f))" ]
}

# click NAME TITLE-REGEX KIND TEXT WHY: one action. It stops the run at
# once when the window cannot be focused, something else lies under the
# pointer, or a clicked entry does not take the focus.
click() {
  local n=$1 re=$2 kind=$3 text=$4 why=$5 id xy i X Y SCREEN WINDOW tq
  id=$(window "$n" "$re")
  tq=$(jq -Rn --arg s "$text" '$s')
  wait_for "$n" "$kind '$text' in $re" "[.Windows[] | select(.Title | test(\"$re\")) | .Items[] | select(.Kind == \"$kind\" and (.Text | startswith($tq)))] | length > 0" 20
  xy=$(center "$n" "$re" "$kind" "$text")
  focus "$id" || fail "$n" "could not focus the window $re"
  for i in $(seq 1 20); do
    # shellcheck disable=SC2086
    xdotool mousemove --window "$id" $xy
    eval "$(xdotool getmouselocation --shell)"
    under "$WINDOW" "$id" && break
    xdotool windowraise "$id"
    sleep 0.1
  done
  under "$WINDOW" "$id" || fail "$n" "the pointer at $xy of $re is over another window ($(xdotool getwindowname "$WINDOW" 2>/dev/null))"
  sleep 0.3 # Fyne handles the focus-in (refocusing the last entry) first
  [ -z "${FIRSTRUN_DEBUG:-}" ] || { shot "$shots/debug-$stepno-before-click.png"; echo "debug: pointer window $WINDOW, target $id, active $(xdotool getactivewindow)"; }
  xdotool click 1
  actions[$n]=$((actions[$n] + 1))
  if [ "$kind" = entry ]; then
    wait_for "$n" "the entry '$text' focused after the click" "any(.Windows[]?.Items[]?; .Kind == \"entry\" and (.Text | startswith($tq)) and .Focused)" 3
  fi
  step "$n" "$why"
}

# enter NAME TITLE-REGEX WHY: one action.
enter() {
  local id
  id=$(window "$1" "$2")
  focus "$id" || fail "$1" "could not focus the window $2"
  xdotool key Return
  actions[$1]=$((actions[$1] + 1))
  step "$1" "$3"
}

# typein NAME TITLE-REGEX TEXT: typing, not an action.
typein() {
  local id
  id=$(window "$1" "$2")
  focus "$id" || fail "$1" "could not focus the window $2"
  xdotool type --delay 25 -- "$3"
}
tab() { xdotool key Tab; }

# step NAME WHY: a screenshot, then the fit checks.
step() {
  stepno=$((stepno + 1))
  sleep 0.6 # let the frame after the input be drawn
  local f
  f=$shots/$(printf '%02d' "$stepno")-$1-$(echo "$2" | tr ' A-Z' '-a-z' | tr -cd 'a-z0-9-').png
  shot "$f"
  echo "firstrun: $(($(date +%s) - start))s $1 #${actions[$1]}: $2 ($f)"
  check_fit
}

# check_fit: every visible Sotto window lies on the screen, and every
# dialog inside its window.
check_fit() {
  local n id X Y WIDTH HEIGHT SCREEN WINDOW bad
  for n in "${!spid[@]}"; do
    [ -s "$tmp/$n/pid" ] && kill -0 "$(pid_of "$n")" 2>/dev/null || continue
    for id in $(xdotool search --onlyvisible --pid "$(pid_of "$n")" 2>/dev/null); do
      eval "$(xdotool getwindowgeometry --shell "$id")"
      if [ "$X" -lt 0 ] || [ "$Y" -lt 0 ] || [ $((X + WIDTH)) -gt $SCREEN_W ] || [ $((Y + HEIGHT)) -gt $SCREEN_H ]; then
        fail "$n" "window '$(xdotool getwindowname "$id")' at ${X},${Y} size ${WIDTH}x${HEIGHT} extends past the ${SCREEN_W}x${SCREEN_H} screen"
      fi
    done
    bad=$(state "$n" | jq -r '.Windows[]? | . as $w | .Dialogs[]? | select(.X < 0 or .Y < 0 or .X + .W > $w.W or .Y + .H > $w.H)
      | "dialog \(.Title) \(.W)x\(.H) at \(.X),\(.Y) in window \($w.Title) \($w.W)x\($w.H)"')
    [ -z "$bad" ] || fail "$n" "$bad"
  done
}

arrange >/dev/null 2>&1 &
arranger=$!

# --- the first run ------------------------------------------------------------

wizard='^Welcome to Sotto$'
# through_wizard NAME CONTACT: sign in, trust the certificate, start.
through_wizard() {
  local n=$1 contact=$2
  launch "$n"
  window "$n" "$wizard" >/dev/null
  wait_for "$n" "the address field focused" 'any(.Windows[]?.Items[]?; .Kind == "entry" and .Text == "you@example.org" and .Focused)'
  step "$n" "wizard open"
  typein "$n" "$wizard" "$n@localhost"
  tab
  typein "$n" "$wizard" "${pass[$n]}"
  enter "$n" "$wizard" "sign in"
  wait_for "$n" "the certificate question" "$(shows "Do you trust this server's certificate?")"
  # The fingerprint shown is the test bed's, in groups of eight.
  grouped=$(echo "$cert" | tr a-f A-F | sed 's/.\{8\}/& /g; s/ $//')
  wait_for "$n" "the certificate fingerprint $grouped" "$(shows "$grouped")" 5
  enter "$n" "$wizard" "trust the certificate"
  wait_for "$n" "the key made" "$(shows "Your private key is ready.")" 60
  wait_for "$n" "the contact field focused" 'any(.Windows[]?.Items[]?; .Kind == "entry" and (.Text | startswith("friend@")) and .Focused)'
  [ -z "$contact" ] || typein "$n" "$wizard" "$contact"
  enter "$n" "$wizard" "start chatting"
  window "$n" "^Sotto — $n@localhost$" >/dev/null
  wait_for "$n" "online" "$(shows "Online")" 30
}

through_wizard alice bob@localhost
through_wizard bob ""
main_b='^Sotto — bob@localhost$'
chats_a='^Chats — alice@localhost$' chats_b='^Chats — bob@localhost$'
wait_for bob "alice's contact request" "$(shows "alice@localhost wants to add you as a contact.")"
step bob "contact request shown"
click bob "$main_b" button Accept "accept alice"
wait_for alice "the chat with bob Unverified" 'any(.Chats[]?; .Peer == "bob@localhost" and .Level == "Unverified")' 30
wait_for bob "the chat with alice Unverified" 'any(.Chats[]?; .Peer == "alice@localhost" and .Level == "Unverified")' 30
window bob "$chats_b" >/dev/null
step alice "private, not verified yet"
click alice "$chats_a" entry "A secret only you and" "type the shared secret"
typein alice "$chats_a" "$secret"
enter alice "$chats_a" "verify bob"
wait_for bob "alice's verification request" 'any(.Windows[]?.Items[]?; .Kind == "entry" and .Text == "The shared secret" and .Focused)' 30
typein bob "$chats_b" "$secret"
enter bob "$chats_b" "answer alice"
wait_for alice "bob verified" 'any(.Chats[]?; .Peer == "bob@localhost" and .Level == "Private")' 30
click bob "$chats_b" button "Verify alice@localhost" "verify alice in turn"
wait_for alice "bob's verification request" 'any(.Windows[]?.Items[]?; .Kind == "entry" and .Text == "The shared secret" and .Focused)' 30
typein alice "$chats_a" "$secret"
enter alice "$chats_a" "answer bob"
wait_for bob "alice verified" 'any(.Chats[]?; .Peer == "alice@localhost" and .Level == "Private")' 30
wait_for alice "still Private" 'any(.Chats[]?; .Peer == "bob@localhost" and .Level == "Private")' 5
step alice "both private"

echo "first-run actions: alice ${actions[alice]}, bob ${actions[bob]}"
if [ "${actions[alice]}" -gt $MAX_ACTIONS ] || [ "${actions[bob]}" -gt $MAX_ACTIONS ]; then
  echo "firstrun: more than $MAX_ACTIONS actions" >&2
  exit 1
fi

# --- sibling checks -----------------------------------------------------------

# A second start on alice's running profile exits within 5 s and leaves
# one Sotto on that profile.
t0=$(date +%s%N)
env HOME="$tmp/alice/home" XDG_CONFIG_HOME="$tmp/alice/home/.config" XDG_CACHE_HOME="$tmp/alice/home/.cache" \
  timeout 5 build/sotto --profile "$tmp/alice/profile" >"$tmp/second.log" 2>&1 ||
  { echo "firstrun: FAIL: a second start on a running profile did not exit within 5 s" >&2; cat "$tmp/second.log" >&2; exit 1; }
ms=$((($(date +%s%N) - t0) / 1000000))
n=$(pgrep -c -f -- "--profile $tmp/alice/profile\$" || true)
[ "$n" = 1 ] || { echo "firstrun: FAIL: $n Sotto processes on alice's profile after a second start" >&2; exit 1; }
kill -0 "$(pid_of alice)" || { echo "firstrun: FAIL: the first Sotto ended on a second start" >&2; exit 1; }
echo "firstrun: a second start exited in $ms ms ($(cat "$tmp/second.log")); one Sotto runs on the profile"

# A wrong password in the wizard is asked again (carol signs in to
# alice's account, a second computer: its own resource, no fight).
launch carol
window carol "$wizard" >/dev/null
wait_for carol "the address field focused" 'any(.Windows[]?.Items[]?; .Kind == "entry" and .Text == "you@example.org" and .Focused)'
typein carol "$wizard" "alice@localhost"
tab
typein carol "$wizard" "not-the-password"
enter carol "$wizard" "sign in with a wrong password"
wait_for carol "the certificate question" "$(shows "Do you trust this server's certificate?")"
enter carol "$wizard" "trust the certificate"
wait_for carol "the password asked again" "$(shows "The server refused the password for alice@localhost. Type it again.")" 30
wait_for carol "the password field focused" 'any(.Windows[]?.Items[]?; .Kind == "entry" and .Focused)' 5
typein carol "$wizard" "${pass[alice]}"
enter carol "$wizard" "sign in again"
wait_for carol "the key made" "$(shows "Your private key is ready.")" 60
enter carol "$wizard" "start chatting"
main_c='^Sotto — alice@localhost$'
wait_for carol "online" "$(shows "Online")" 30
step carol "online next to alice"
wait_for alice "still online next to a second computer" "$(shows "Online")" 5

# Closing the main window on a desktop without a tray (openbox has no
# StatusNotifierWatcher) ends Sotto within 5 s.
id=$(window carol "$main_c")
focus "$id"
cpid=$(pid_of carol)
t0=$(date +%s%N)
xdotool key alt+F4 # openbox: close the active window (WM_DELETE_WINDOW)
for _ in $(seq 1 50); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$cpid" 2>/dev/null; then
  echo "firstrun: FAIL: Sotto still runs 5 s after its main window was closed" >&2
  exit 1
fi
echo "firstrun: closing the main window ended Sotto in $((($(date +%s%N) - t0) / 1000000)) ms"
shot "$shots/$(printf '%02d' $((stepno + 1)))-end.png"

echo "firstrun: passed in $(($(date +%s) - start)) s; screenshots in $shots/"
