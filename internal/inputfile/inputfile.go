// Package inputfile opens the files a profile names (subscriber tables,
// measured latency files) within bounds: only regular files (a device such
// as /dev/zero never ends, opening a FIFO blocks, a directory has no
// lines), at most a given size, and a reader that stops a file growing past
// its cap after the check. Errors name the file and its role, never its
// contents.
package inputfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
)

// Open opens path for reading if it is a regular file of at most maxBytes;
// what names the file's role in errors ("latency file").
func Open(path, what string, maxBytes int64) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := regular(path, what, st); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	st, err = f.Stat() // the file opened, should the path have changed since
	if err == nil {
		err = regular(path, what, st)
	}
	if err == nil && st.Size() > maxBytes {
		err = fmt.Errorf("%s: %s of %d bytes is larger than the %s limit", path, what, st.Size(), Size(maxBytes))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func regular(path, what string, st fs.FileInfo) error {
	m := st.Mode()
	if m.IsRegular() {
		return nil
	}
	kind := "not a regular file"
	switch {
	case m.IsDir():
		kind = "a directory"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	}
	return fmt.Errorf("%s: %s must be a regular file, this is %s", path, what, kind)
}

// Size writes a power-of-two size the way limits are stated ("64 MiB").
func Size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// Capped returns a reader of r that fails once more than max bytes were
// read (a file that grows after Open checked its size).
func Capped(r io.Reader, path string, max int64) io.Reader {
	return &capReader{r: r, left: max, max: max, path: path}
}

type capReader struct {
	r    io.Reader
	left int64
	max  int64
	path string
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("%s: the file grew past the %s limit while being read", c.path, Size(c.max))
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
