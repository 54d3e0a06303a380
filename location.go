package main

// Where Sotto keeps its data: the normal profile in the user's config
// folder, a folder given with --profile, or — portable mode — sotto-data/
// next to the binary (the USB-stick case), where nothing may be written to
// the host computer.

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"

	"github.com/sotto-im/sotto/account"
)

// portableDirName is the folder next to the binary that switches portable
// mode on by its mere presence.
const portableDirName = "sotto-data"

type location struct {
	dir      string
	portable bool
}

// resolveLocation picks the profile folder. exe is the binary's path.
func resolveLocation(exe, profileFlag string, portableFlag bool) (location, error) {
	if profileFlag != "" {
		abs, err := filepath.Abs(profileFlag)
		return location{dir: abs, portable: portableFlag}, err
	}
	data := filepath.Join(filepath.Dir(exe), portableDirName)
	if portableFlag || isDir(data) {
		return location{dir: data, portable: true}, nil
	}
	dir, err := account.DefaultProfileDir()
	if err != nil {
		return location{}, err
	}
	return location{dir: dir}, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// confine points every cache and settings folder that Fyne, Mesa and the
// toolkit write to into the portable folder, so that a portable Sotto
// leaves nothing on the host. It must run before the Fyne app is created.
// scripts/portable-test.sh proves it on Linux under Xvfb.
func (l location) confine() error {
	if !l.portable {
		return nil
	}
	if err := os.MkdirAll(l.dir, 0o700); err != nil {
		return err
	}
	var errs []error
	for k, v := range confineEnv(l.dir, runtime.GOOS) {
		errs = append(errs, os.Setenv(k, v))
	}
	return errors.Join(errs...)
}

// confineEnv is the environment confine sets, per operating system.
//
// Linux and the BSDs: Fyne keeps its preferences in $XDG_CONFIG_HOME/fyne
// and its icon cache in $XDG_CACHE_HOME/fyne; go-text (Fyne's text
// shaping) writes font_index_v5.cache to $XDG_CACHE_HOME. Mesa's shader
// cache would go to ~/.cache/mesa_shader_cache (measured: the passwd
// home, not $HOME, unless XDG_CACHE_HOME is set); it is switched off
// rather than moved, as it only saves a little start-up time and would
// grow the stick.
//
// Windows: Go's os.UserCacheDir is %LocalAppData% (font index, icon
// cache), and Fyne puts its preferences under %UserProfile%\AppData\Roaming.
// Both are environment lookups in this process only, so pointing them into
// the stick is enough for everything Go code writes. Not covered, and
// documented in the README: files the graphics driver itself may write
// (some Windows GPU drivers keep a shader cache in %LocalAppData% through
// the Win32 API, which ignores the environment).
func confineEnv(dir, goos string) map[string]string {
	if goos == "windows" {
		return map[string]string{
			"LOCALAPPDATA": filepath.Join(dir, "cache"),
			"APPDATA":      filepath.Join(dir, "config"),
			"USERPROFILE":  filepath.Join(dir, "home"),
		}
	}
	return map[string]string{
		"XDG_CACHE_HOME":            filepath.Join(dir, "cache"),
		"XDG_CONFIG_HOME":           filepath.Join(dir, "config"),
		"XDG_DATA_HOME":             filepath.Join(dir, "data"),
		"XDG_STATE_HOME":            filepath.Join(dir, "state"),
		"MESA_SHADER_CACHE_DISABLE": "true",
		"MESA_GLSL_CACHE_DISABLE":   "true",
	}
}
