#!/usr/bin/env bash
# Portable mode leaves nothing on the host.
#
# Copies build/sotto onto a "stick" (a folder with an empty-but-for-the-
# profile sotto-data/), runs it under Xvfb inside its own D-Bus session
# with an empty HOME, no XDG_* variables and an empty working directory,
# types the vault passphrase into its unlock prompt, lets it generate and
# store its OTR key, quits it (SIGTERM: a clean quit), and then checks:
#   1. every file it created is inside the stick: nothing in HOME, the
#      working directory, /tmp, /var/tmp, /dev/shm or the passwd home
#      (other than the X server's and D-Bus's own sockets);
#   2. no file (the vault included) contains the passphrase, the account
#      password or the private key in any plain form (portablecheck scan).
#
# When it may (root or user namespaces), it runs in a private mount
# namespace where /tmp, /var/tmp, /dev/shm and the passwd home are fresh
# tmpfs mounts, so whatever appears there came from this test and nothing
# else running on the machine. Otherwise it compares against a marker
# file in the shared folders and ignores other programs' build files.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goenv.sh
root=$PWD
phome=$(getent passwd "$(id -u)" | cut -d: -f6)

if [ -z "${PT_STAGE:-}" ]; then
  mkdir -p build
  [ -n "${PT_SOTTO:-}" ] || [ -x build/sotto ] || go build -tags "$SOTTO_TAGS" -o build/sotto .
  go build -o build/portablecheck ./internal/cmd/portablecheck
  command -v dbus-run-session >/dev/null || { echo "portable-test: dbus-run-session missing" >&2; exit 1; }
  if unshare -m --propagation private true 2>/dev/null; then
    exec env PT_STAGE=ns unshare -m --propagation private "$0" "$@"
  fi
  echo "portable-test: no private mount namespace here; checking the shared /tmp against a marker"
  exec env PT_STAGE=dbus PT_SHARED=1 dbus-run-session -- "$0" "$@"
fi
if [ "$PT_STAGE" = ns ]; then
  for d in /tmp /var/tmp /dev/shm "$phome"; do
    [ -d "$d" ] && mount -t tmpfs -o mode=1777 tmpfs "$d"
  done
  chmod 700 "$phome"
  exec env PT_STAGE=dbus dbus-run-session -- "$0" "$@"
fi

source scripts/xvfb.sh
export LANG=en_US.UTF-8
unset LC_ALL
work=$root/build/portable-test
rm -rf "$work"
mkdir -p "$work/stick/sotto-data" "$work/home" "$work/cwd"
cp "${PT_SOTTO:-build/sotto}" "$work/stick/sotto"  # PT_SOTTO: try another build
stick=$work/stick
jid=tester@localhost
pass="Stick-Passphrase-$RANDOM-$RANDOM"
pw="Account-Password-$RANDOM-$RANDOM"

app=""
trap '[ -n "$app" ] && kill -9 "$app" 2>/dev/null; xvfb_stop' EXIT
xvfb_start
marker=$work/marker
touch "$marker"
sleep 0.1 # mtime granularity: what the app writes must be newer
printf '%s\n%s\n' "$pass" "$pw" | build/portablecheck setup -dir "$stick/sotto-data" -jid "$jid" -port 1
vault=$stick/sotto-data/vault.sotto
cp -p "$vault" "$work/vault.before"

t0=$(date +%s%N)
(
  cd "$work/cwd"
  exec env -u XDG_CONFIG_HOME -u XDG_CACHE_HOME -u XDG_DATA_HOME -u XDG_STATE_HOME \
    -u XDG_RUNTIME_DIR -u XDG_CONFIG_DIRS -u XDG_DATA_DIRS HOME="$work/home" "$stick/sotto"
) >"$work/app.log" 2>&1 &
app=$!
if ! wait_window "Unlock Sotto" 30; then
  cat "$work/app.log" >&2
  echo "portable-test: the vault's unlock prompt never appeared" >&2; exit 1
fi
echo "portable-test: unlock prompt after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
sleep 0.5
xdotool type --delay 10 "$pass"
xdotool key Return
# Sotto now reads the password from the vault, generates the OTR key and
# stores it in the vault (the file is rewritten), then fails to connect
# (nothing listens on port 1).
for _ in $(seq 1 300); do
  cmp -s "$vault" "$work/vault.before" || break
  sleep 0.1
done
if cmp -s "$vault" "$work/vault.before"; then
  shot "$work/stuck.png" || true
  cat "$work/app.log" >&2
  echo "portable-test: the vault was never written (no key stored); see $work/stuck.png" >&2; exit 1
fi
echo "portable-test: key stored in the vault after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
sleep 2
shot "$work/running.png"
kill -TERM "$app"
for _ in $(seq 1 100); do kill -0 "$app" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$app" 2>/dev/null; then echo "portable-test: Sotto did not quit on SIGTERM" >&2; exit 1; fi
wait "$app" || true
app=""

# 1. Where did it write?
outside=$(
  {
    find "$work/home" "$work/cwd" -mindepth 1
    for d in /tmp /var/tmp /dev/shm "$phome"; do
      [ -d "$d" ] || continue
      if [ -n "${PT_SHARED:-}" ]; then
        find "$d" -xdev -newer "$marker" 2>/dev/null
      else
        find "$d" -xdev -mindepth 1 2>/dev/null
      fi
    done
  } | grep -vE '^/tmp/\.X11-unix(/X[0-9]+)?$|^/tmp/\.X[0-9]+-lock$|^/tmp/dbus-[A-Za-z0-9]+$' |
    # The test's own folder (and its parents, when the checkout itself
    # lives under /tmp or the home that the namespace replaced).
    grep -vF -e "$work/" | grep -vxF -e "$work" $(p=$work; while [ "$p" != / ]; do p=$(dirname "$p"); printf -- '-e %s ' "$p"; done) |
    if [ -n "${PT_SHARED:-}" ]; then
      # Other programs on a shared machine (compilers, go test) write here too.
      grep -vE '^/tmp/(go-build|go-link-|cc|Test|fyne-package-|sotto-demo-)|^'"$phome"'/(\.cache/go-build|go/|\.cache/fontconfig)'
    else cat; fi || true
)
inside=$(find "$stick" -newer "$marker" -type f | sort)
echo "portable-test: files written on the stick:"
sed "s|^$stick/|  |" <<<"$inside"
if [ -n "$outside" ]; then
  echo "portable-test: FAIL, written outside the portable folder:" >&2
  echo "$outside" >&2
  exit 1
fi
echo "portable-test: nothing written outside the portable folder (HOME, cwd, /tmp, /var/tmp, /dev/shm, $phome)"
grep -q "font_index" <<<"$inside" || echo "portable-test: note: no Fyne font cache was written this time"

# 2. Secrets only inside the vault, and only encrypted.
# shellcheck disable=SC2046
printf '%s' "$pass" | build/portablecheck scan -vault "$vault" $(find "$stick" "$work/home" "$work/cwd" -type f ! -name sotto)
grep -qiE 'panic|fatal' "$work/app.log" && { cat "$work/app.log" >&2; echo "portable-test: the app log shows a crash" >&2; exit 1; }
echo "portable-test: PASS"
