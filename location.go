package main

// Where Sotto keeps its data: the normal profile in the user's config
// folder, a folder given with --profile, or — portable mode — sotto-data/
// next to the binary (the USB-stick case), where nothing may be written to
// the host computer.

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/sotto-im/sotto/account"
)

// portableDirName is the folder next to the binary that switches portable
// mode on by its mere presence.
const portableDirName = "sotto-data"

// vaultFile is the passphrase-encrypted secret store inside a profile.
const vaultFile = "vault.sotto"

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
// Mesa's shader cache is switched off rather than moved: it only saves a
// little start-up time and would grow the stick.
func (l location) confine() error {
	if !l.portable {
		return nil
	}
	if err := os.MkdirAll(l.dir, 0o700); err != nil {
		return err
	}
	env := map[string]string{
		"XDG_CACHE_HOME":            filepath.Join(l.dir, "cache"),
		"XDG_CONFIG_HOME":           filepath.Join(l.dir, "config"),
		"XDG_DATA_HOME":             filepath.Join(l.dir, "data"),
		"XDG_STATE_HOME":            filepath.Join(l.dir, "state"),
		"MESA_SHADER_CACHE_DISABLE": "true",
		"MESA_GLSL_CACHE_DISABLE":   "true",
	}
	var errs []error
	for k, v := range env {
		errs = append(errs, os.Setenv(k, v))
	}
	return errors.Join(errs...)
}

func (l location) vaultPath() string { return filepath.Join(l.dir, vaultFile) }
