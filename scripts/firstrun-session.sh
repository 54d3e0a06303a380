#!/usr/bin/env bash
# One Sotto of scripts/firstrun-test.sh, run inside its own
# `dbus-run-session`: an unlocked gnome-keyring-daemon (the Secret Service
# a desktop has), then Sotto on an empty profile. Writes Sotto's pid to
# $SESSION_DIR/pid and waits for it.
#   firstrun-session.sh SOTTO PROFILE
set -euo pipefail
sotto=$1 profile=$2
pw=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
gnome-keyring-daemon --foreground --unlock --components=secrets <<<"$pw" >"$SESSION_DIR/keyring.log" 2>&1 &
gkd=$!
trap 'kill $gkd 2>/dev/null || true' EXIT
# Wait until the daemon owns the Secret Service name: asking before that
# would make D-Bus activate a second, locked daemon.
for _ in $(seq 1 150); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
    break
  fi
  sleep 0.1
done
"$sotto" --profile "$profile" &
echo $! >"$SESSION_DIR/pid"
wait $! || true
