package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveLocation(t *testing.T) {
	bin := t.TempDir()
	exe := filepath.Join(bin, "sotto")
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(bin, "cfg"))

	l, err := resolveLocation(exe, "", false)
	if err != nil || l.portable || l.dir != filepath.Join(bin, "cfg", "sotto") {
		t.Fatalf("default: got %+v, %v", l, err)
	}
	l, err = resolveLocation(exe, "", true)
	if err != nil || !l.portable || l.dir != filepath.Join(bin, portableDirName) {
		t.Fatalf("--portable: got %+v, %v", l, err)
	}
	if err := os.Mkdir(filepath.Join(bin, portableDirName), 0o700); err != nil {
		t.Fatal(err)
	}
	l, err = resolveLocation(exe, "", false)
	if err != nil || !l.portable {
		t.Fatalf("sotto-data next to the binary must switch portable mode on: %+v, %v", l, err)
	}
	l, err = resolveLocation(exe, "rel/prof", false)
	if err != nil || l.portable || !filepath.IsAbs(l.dir) || filepath.Base(l.dir) != "prof" {
		t.Fatalf("--profile wins and is made absolute: %+v, %v", l, err)
	}
}

func TestConfineRedirectsCaches(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{"XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
		"MESA_SHADER_CACHE_DISABLE", "MESA_GLSL_CACHE_DISABLE"} {
		t.Setenv(k, "")
	}
	if err := (location{dir: dir}).confine(); err != nil || os.Getenv("XDG_CACHE_HOME") != "" {
		t.Fatalf("non-portable confine must change nothing: %v %q", err, os.Getenv("XDG_CACHE_HOME"))
	}
	if err := (location{dir: dir, portable: true}).confine(); err != nil {
		t.Fatal(err)
	}
	cache, _ := os.UserCacheDir()
	conf, _ := os.UserConfigDir()
	for _, p := range []string{cache, conf, os.Getenv("XDG_DATA_HOME"), os.Getenv("XDG_STATE_HOME")} {
		if rel, err := filepath.Rel(dir, p); err != nil || rel == ".." || filepath.IsAbs(rel) || len(rel) >= 2 && rel[:2] == ".." {
			t.Errorf("%s is outside the portable folder %s", p, dir)
		}
	}
	if os.Getenv("MESA_SHADER_CACHE_DISABLE") != "true" {
		t.Error("Mesa shader cache must be off in portable mode")
	}
}

// TestConfineEnvWindows checks the Windows variables without Windows: the
// folders Go and Fyne derive from them must all be inside the stick.
func TestConfineEnvWindows(t *testing.T) {
	dir := filepath.Join(t.TempDir(), portableDirName)
	env := confineEnv(dir, "windows")
	for _, k := range []string{"LOCALAPPDATA", "APPDATA", "USERPROFILE"} {
		v, ok := env[k]
		if !ok {
			t.Fatalf("%s is not redirected on Windows", k)
		}
		if rel, err := filepath.Rel(dir, v); err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("%s=%s is outside the portable folder %s", k, v, dir)
		}
	}
	if _, ok := env["XDG_CACHE_HOME"]; ok {
		t.Error("XDG variables mean nothing on Windows")
	}
}
