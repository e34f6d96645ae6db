package inputfile

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Open refuses what is not a regular file and what is over the cap, and
// names the file and its role; Capped stops a file that grows later.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.csv")
	os.WriteFile(ok, []byte("1,2\n"), 0o644)
	f, err := Open(ok, "latency file", 4)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := Open(ok, "latency file", 3); err == nil || !strings.Contains(err.Error(), "larger than the 3 bytes limit") {
		t.Fatalf("over the cap: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	for path, kind := range map[string]string{dir: "a directory", fifo: "a named pipe", "/dev/zero": "a device"} {
		_, err := Open(path, "subscriber file", 1<<30)
		if err == nil || !strings.Contains(err.Error(), "subscriber file must be a regular file, this is "+kind) {
			t.Errorf("%s: %v", path, err)
		}
	}
	if _, err := Open(filepath.Join(dir, "none"), "latency file", 1); err == nil || !strings.HasPrefix(err.Error(), "latency file: ") {
		t.Errorf("missing file: %v", err)
	}
	_, err = io.ReadAll(Capped(strings.NewReader("12345"), "grown.csv", 4))
	if err == nil || !strings.Contains(err.Error(), "grown.csv: the file grew past the 4 bytes limit") {
		t.Errorf("growth: %v", err)
	}
	if Size(64<<20) != "64 MiB" || Size(1<<30) != "1 GiB" || Size(3000) != "3000 bytes" {
		t.Error("Size")
	}
}
