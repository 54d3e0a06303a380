#!/usr/bin/env bash
# Release builds into dist/.
#   scripts/dist.sh linux     dist/sotto (stripped single binary) and
#                             dist/Sotto.tar.xz (binary + .desktop entry +
#                             icon + Makefile: `make user-install` or
#                             `sudo make install` gives a double-clickable app)
#   scripts/dist.sh windows   dist/sotto.exe (cgo, mingw-w64, GUI subsystem)
# Both check what they made and print sizes and times.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goenv.sh
export PATH=$PATH:/usr/local/go/bin
VERSION=$(sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
TAGS=$SOTTO_TAGS
FYNE_TOOLS=fyne.io/tools/cmd/fyne@v1.7.4
mkdir -p dist build

since() { echo $(( $(date +%s) - $1 )); }
size() { du -h "$1" | cut -f1; }

# fyne_cli installs the fyne CLI into build/bin once (the version is pinned).
fyne_cli() {
  local bin=build/bin/fyne
  if [ ! -x "$bin" ] || ! "$bin" version 2>/dev/null | grep -q 'v1.7.4'; then
    GOBIN=$PWD/build/bin go install "$FYNE_TOOLS"
  fi
  echo "$bin"
}

linux() {
  local t0 fyne
  t0=$(date +%s)
  go build -tags "$TAGS" -ldflags "-s -w -X main.version=$VERSION" -o dist/sotto .
  file dist/sotto | grep -q 'ELF 64-bit.*stripped' || { file dist/sotto; echo "dist: dist/sotto is not a stripped ELF" >&2; exit 1; }
  [ "$(LANG=en_US.UTF-8 dist/sotto --version 2>/dev/null)" = "Sotto $VERSION" ] || { echo "dist: dist/sotto --version is wrong" >&2; exit 1; }
  echo "dist: dist/sotto $(size dist/sotto), built in $(since "$t0") s"

  t0=$(date +%s)
  fyne=$(fyne_cli)
  # `fyne package` bumps Build in FyneApp.toml after packaging; a release
  # build must not leave the tree modified, so the file is restored.
  BACKUP=$(mktemp)
  cp FyneApp.toml "$BACKUP"
  trap 'cp "$BACKUP" FyneApp.toml; rm -f "$BACKUP"' EXIT
  # --executable: package the binary just built (stripped, version set)
  # instead of letting fyne rebuild the C code with its own flags.
  rm -f Sotto.tar.xz
  "$fyne" package --target linux --executable dist/sotto --release
  cp "$BACKUP" FyneApp.toml
  mv Sotto.tar.xz dist/Sotto.tar.xz
  local list
  list=$(tar -tJf dist/Sotto.tar.xz)
  for want in 'share/applications/im.sotto.app.desktop$' 'share/pixmaps/im.sotto.app.png$' 'bin/sotto$' '/Makefile$'; do
    grep -qE "$want" <<<"$list" || { echo "dist: Sotto.tar.xz lacks $want:"; echo "$list"; exit 1; } >&2
  done
  tar -xJOf dist/Sotto.tar.xz --wildcards '*/im.sotto.app.desktop' | grep -q '^Exec=sotto' ||
    { echo "dist: the .desktop entry has no Exec=sotto" >&2; exit 1; }
  echo "dist: dist/Sotto.tar.xz $(size dist/Sotto.tar.xz) (binary, .desktop, icon, Makefile), packaged in $(since "$t0") s"
}

windows() {
  local t0
  t0=$(date +%s)
  command -v x86_64-w64-mingw32-gcc >/dev/null ||
    { echo "dist: x86_64-w64-mingw32-gcc missing (scripts/deps.sh dist)" >&2; exit 1; }
  CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
    go build -tags "$TAGS" -ldflags "-s -w -H=windowsgui -X main.version=$VERSION" -o dist/sotto.exe .
  local ft
  ft=$(file dist/sotto.exe)
  echo "$ft"
  grep -q 'PE32+ executable (GUI) x86-64' <<<"$ft" || { echo "dist: dist/sotto.exe is not a PE32+ GUI executable" >&2; exit 1; }
  echo "dist: dist/sotto.exe $(size dist/sotto.exe), built in $(since "$t0") s"
  if command -v wine >/dev/null; then
    echo "dist: wine dist/sotto.exe --version: $(WINEDEBUG=-all timeout 60 wine dist/sotto.exe --version 2>&1 | tr -d '\r' | tail -1)"
  fi
}

case "${1:-}" in
  linux) linux ;;
  windows) windows ;;
  *) echo "usage: $0 linux|windows" >&2; exit 2 ;;
esac
