# Sourced (POSIX sh) by every script and Makefile recipe that builds or
# tests Sotto. It sets
#   SOTTO_TAGS  the build tags the app ships with (migrated_fynedo: our UI
#               calls Fyne only on its goroutine; no_emoji: no bundled
#               4.2 MB emoji font; no_animations: a steady text cursor,
#               so an open chat does not redraw 60 times a second), and
#   GOFLAGS     -modfile=build/sotto.mod: go.mod plus a replace of Fyne
#               2.7.1 by a copy with third_party/fyneidle's files, whose
#               main loop waits for events instead of polling at 60 Hz
#               (issue 17; the README there says what and why).
# It refuses to go on when Fyne's loop.go is not the one those files were
# made from, rather than build a silently different loop. A plain
# `go build` (no script) still works, with Fyne's own loop.
case ":$PATH:" in *:/usr/local/go/bin:*) ;; *) PATH=$PATH:/usr/local/go/bin; export PATH ;; esac
SOTTO_TAGS=migrated_fynedo,no_emoji,no_animations
export SOTTO_TAGS
sotto_goenv() {
  _root=$(cd "$(dirname "$0")/.." 2>/dev/null && pwd) || return 1
  [ -f "$_root/third_party/fyneidle/loop.go.sha256" ] || _root=$(pwd)
  case "$_root" in *[[:space:]]*)
    echo "goenv: the checkout's path has a space, which GOFLAGS cannot carry; move it" >&2
    return 1 ;;
  esac
  case " ${GOFLAGS:-} " in *" -modfile="*) return 0 ;; esac
  _ver=$(sed -n 's/^[[:space:]]*fyne\.io\/fyne\/v2 \(v[^ ]*\).*/\1/p' "$_root/go.mod" | head -1)
  _fyne=$(cd "$_root" && GOFLAGS= go list -m -f '{{.Dir}}' fyne.io/fyne/v2 2>/dev/null)
  if [ -z "$_fyne" ] || [ ! -f "$_fyne/internal/driver/glfw/loop.go" ]; then
    (cd "$_root" && GOFLAGS= go mod download fyne.io/fyne/v2) || return 1
    _fyne=$(cd "$_root" && GOFLAGS= go list -m -f '{{.Dir}}' fyne.io/fyne/v2)
  fi
  _have=$(sha256sum "$_fyne/internal/driver/glfw/loop.go" | cut -d' ' -f1)
  if [ "$_ver" != v2.7.1 ] || [ "$_have" != "$(cat "$_root/third_party/fyneidle/loop.go.sha256")" ]; then
    echo "goenv: Fyne $_ver's internal/driver/glfw/loop.go is not the v2.7.1 file third_party/fyneidle was made from; re-derive it (third_party/fyneidle/README.md)" >&2
    return 1
  fi
  _o=$_root/third_party/fyneidle/_overlay
  _copy=$_root/build/fyne-idle
  _stamp=$(cat "$_o/internal/driver/glfw/loop.go" "$_o/internal/driver/glfw/loop_idle.go" \
    "$_o/internal/animation/runner_idle.go" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$_copy/.sotto-stamp" 2>/dev/null)" != "$_stamp" ]; then
    rm -rf "$_copy" && mkdir -p "$_root/build" && cp -r "$_fyne" "$_copy" && chmod -R u+w "$_copy" || return 1
    cp "$_o/internal/driver/glfw/loop.go" "$_o/internal/driver/glfw/loop_idle.go" "$_copy/internal/driver/glfw/"
    cp "$_o/internal/animation/runner_idle.go" "$_copy/internal/animation/"
    echo "$_stamp" >"$_copy/.sotto-stamp"
  fi
  { cat "$_root/go.mod"; printf '\nreplace fyne.io/fyne/v2 => ./build/fyne-idle\n'; } >"$_root/build/sotto.mod.new"
  mv "$_root/build/sotto.mod.new" "$_root/build/sotto.mod"
  cp "$_root/go.sum" "$_root/build/sotto.sum"
  GOFLAGS="${GOFLAGS:+$GOFLAGS }-modfile=$_root/build/sotto.mod"
  export GOFLAGS
}
sotto_goenv || { echo "goenv: cannot set up the build (see above)" >&2; exit 1; }
