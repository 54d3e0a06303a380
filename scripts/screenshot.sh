#!/usr/bin/env bash
# Writes PNGs of Sotto's real windows under Xvfb (GL driver, Mesa) into
# screenshots/: the smoke start, then every scene of ui/scenes.go (wizard,
# roster, a chat in each privacy state, the authenticate dialog, ...).
#   scripts/screenshot.sh [scene ...]     THEME=dark for the dark theme
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goenv.sh
if [ -z "${IN_DBUS:-}" ]; then
  exec env IN_DBUS=1 dbus-run-session -- "$0" "$@"
fi
source scripts/xvfb.sh
export LANG=en_US.UTF-8
mkdir -p build screenshots
go build -tags "scenes,$SOTTO_TAGS" -o build/scenes ./internal/cmd/scenes
tmp=$(mktemp -d)
trap 'xvfb_stop; rm -rf "$tmp"' EXIT
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/config XDG_CACHE_HOME=$tmp/cache XDG_DATA_HOME=$tmp/data
mkdir -p "$HOME"
xvfb_start
scenes=("$@")
if [ ${#scenes[@]} -eq 0 ]; then
  scenes=(wizard wizard-key roster chat-notprivate chat-unverified chat-private chat-finished authenticate smp-question fingerprints preferences account-settings)
fi
theme=${THEME:-light}
for s in "${scenes[@]}"; do
  ./build/scenes --scene "$s" --theme "$theme" 2>"$tmp/$s.log" &
  pid=$!
  case $s in
    wizard*) title='Welcome to Sotto' ;;
    roster|account-settings) title='^Sotto( — .*)?$' ;;
    fingerprints) title='Fingerprints' ;;
    preferences) title='Preferences' ;;
    *) title='Chats' ;;
  esac
  if ! wait_window "$title" 20; then echo "screenshot: no window '$title' for scene $s" >&2; cat "$tmp/$s.log" >&2; exit 1; fi
  sleep 2 # let background calls (key generation) finish and the frame settle
  out=screenshots/$s.png
  shot "$out" # fails on a blank screen
  import -window "$(xdotool search --onlyvisible --name "$title" | head -1)" "$out"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "screenshot: $out"
done
