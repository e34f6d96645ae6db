package results

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A run directory is complete or absent: it is written into a temporary
// sibling (Stage) and put in place in one step (Commit), so a run killed
// while writing leaves the previous directory as it was, or nothing.

const stageMarker = ".regstorm-tmp-"

// runMarkers are files only a regstorm output directory has.
var runMarkers = []string{"summary.json", "capacity.json", "run-info.json"}

// CheckReplaceable reports whether dir may be replaced by a run's output:
// it does not exist, is empty, or is a regstorm output directory. Any
// other directory is refused, so --out never deletes a user's files.
func CheckReplaceable(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("results: output directory: %w", err)
	case !st.IsDir():
		return fmt.Errorf("results: %s exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("results: output directory: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	for _, m := range runMarkers {
		if _, err := os.Stat(filepath.Join(dir, m)); err == nil {
			return nil
		}
	}
	return fmt.Errorf("results: %s is neither empty nor a regstorm output directory; choose another --out", dir)
}

// Stage creates an empty temporary sibling of dir to write a run into.
// Staging directories of runs killed more than an hour ago are removed.
func Stage(dir string) (string, error) {
	if err := CheckReplaceable(dir); err != nil {
		return "", err
	}
	dir = filepath.Clean(dir)
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("results: creating %s: %w", parent, err)
	}
	prefix := "." + base + stageMarker
	if entries, err := os.ReadDir(parent); err == nil {
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), prefix) {
				continue
			}
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
				os.RemoveAll(filepath.Join(parent, e.Name()))
			}
		}
	}
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("results: %w", err)
	}
	tmp := filepath.Join(parent, prefix+hex.EncodeToString(r[:]))
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return "", fmt.Errorf("results: creating a staging directory: %w", err)
	}
	return tmp, nil
}

// Commit puts the staged directory tmp in dir's place: a rename when dir
// does not exist, an atomic exchange where the system has one (Linux
// renameat2 RENAME_EXCHANGE), otherwise two renames (a kill between them
// leaves the previous run beside dir, under its staging name). The
// previous run is removed afterwards.
func Commit(tmp, dir string) error {
	dir = filepath.Clean(dir)
	if err := CheckReplaceable(dir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("results: putting the run in place: %w", err)
		}
		return nil
	}
	if err := exchange(tmp, dir); err == nil {
		return os.RemoveAll(tmp) // now the previous run
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		return fmt.Errorf("results: moving the previous run aside: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(old, dir)
		return fmt.Errorf("results: putting the run in place: %w", err)
	}
	return os.RemoveAll(old)
}

// Discard removes a staging directory (a run that failed before Commit).
func Discard(tmp string) {
	if strings.Contains(filepath.Base(tmp), stageMarker) {
		os.RemoveAll(tmp)
	}
}
