#!/usr/bin/env bash
# idle-open-chat.sh WINDOW: in Sotto's main window, types "Bob" into the
# contact filter and presses Enter, which opens the chat with the first
# match (ui/roster.go openSelected). Used by scripts/idle.sh.
set -euo pipefail
win=$1
# The filter is the first field under the account bar; focus it with a
# click, then type.
xdotool mousemove --window "$win" 300 "${IDLE_FILTER_Y:-182}" click 1
sleep 0.5
xdotool type --delay 80 "Bob"
sleep 0.5
xdotool key Return
