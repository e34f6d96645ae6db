//go:build unix

package subscriber

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A named pipe is refused without opening it (opening one for reading
// blocks until a writer comes).
func TestLoadCSVRefusesAFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "subs.csv")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := loadQuickly(t, p, 10)
	if err == nil || !strings.Contains(err.Error(), p+": subscriber file must be a regular file, this is a named pipe") {
		t.Fatalf("err %v", err)
	}
}
