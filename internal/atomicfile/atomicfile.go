package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// PrivateDir creates dir (and its parents) 0700, or tightens an existing
// one to 0700: folders that hold Sotto's files are the user's alone.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("atomicfile: create folder: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("atomicfile: folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("atomicfile: %s is not a folder", dir)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("atomicfile: restrict folder: %w", err)
		}
	}
	return nil
}

// MoveAside renames path to path.corrupt-<UTC time>, never overwriting,
// and returns the new name.
func MoveAside(path string) (string, error) {
	base := path + ".corrupt-" + time.Now().UTC().Format("20060102T150405Z")
	dst := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
			break
		}
		if i > 100 {
			return "", errors.New("atomicfile: too many corrupt copies")
		}
		dst = fmt.Sprintf("%s-%d", base, i)
	}
	return dst, os.Rename(path, dst)
}

// Write replaces path with data, mode 0600: write a temporary file in the
// same directory, fsync it, rename it over path, fsync the directory. A
// crash leaves either the old or the new file, never a torn one.
func Write(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // created 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // not supported everywhere (Windows); the rename is done either way
		d.Close()
	}
	return nil
}
