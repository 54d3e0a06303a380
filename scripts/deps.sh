#!/usr/bin/env bash
# Installs the Debian packages Sotto needs, idempotently.
#   scripts/deps.sh build   - what `make run` needs (C toolchain, GL/X11 headers)
#   scripts/deps.sh test    - build + what `make test` needs (Prosody, libotr, keyring, Xvfb, ...)
# Uses apt-get directly as root and sudo otherwise; does nothing when all is present.
set -euo pipefail

build_pkgs=(gcc libc6-dev pkg-config libgl-dev libx11-dev libxcursor-dev libxrandr-dev
  libxinerama-dev libxi-dev libxxf86vm-dev libgl1-mesa-dri)
test_pkgs=(prosody lua-unbound openssl libotr5-dev libotr5-bin libgcrypt20-dev
  gnome-keyring dbus dbus-x11 libsecret-tools xvfb openbox imagemagick xdotool x11-utils
  locales file dnsmasq microsocks ejabberd libsignal-protocol-c-dev libssl-dev
  profanity tmux)

want=("${build_pkgs[@]}")
case "${1:-build}" in
  build) ;;
  test) want+=("${test_pkgs[@]}") ;;
  dist) want+=(gcc-mingw-w64-x86-64 xz-utils file) ;;
  *) echo "usage: $0 build|test|dist" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "deps: installing ${missing[*]}"

# Installing the prosody, dnsmasq and ejabberd packages must not start their
# system-wide services: our tests run their own on loopback (never port 53,
# never /etc/dnsmasq.conf or /etc/ejabberd). A policy-rc.d that answers 101
# ("action forbidden") stops invoke-rc.d for the duration of the install.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  added_policy=1
fi
cleanup() { if [ "$added_policy" = 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
# A UTF-8 locale for Fyne under Xvfb (C locale logs an error).
if ! locale -a 2>/dev/null | grep -qi 'en_US.utf8'; then
  if [ -f /etc/locale.gen ]; then
    $SUDO sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen
    $SUDO locale-gen >/dev/null || true
  fi
fi
# Make sure the distro services did not start anyway.
# (The system ejabberd runs as Erlang node ejabberd@…; ours has no node name.)
for svc in "prosody:-x prosody" "dnsmasq:-x dnsmasq" "ejabberd:-f ejabberd@"; do
  name=${svc%%:*}
  # shellcheck disable=SC2086
  if [ -f "/etc/init.d/$name" ] && pgrep ${svc#*:} >/dev/null 2>&1; then
    $SUDO "/etc/init.d/$name" stop >/dev/null 2>&1 || true
  fi
done
