package results

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// secret marks text a file holds that no error may repeat.
const secret = "s3cr3tmarker"

func writeLatency(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadQuickly runs LoadLatencyFile with a deadline: a refusal must not
// read (or wait for) the whole of an endless input.
func loadQuickly(t *testing.T, path, unit string) (*LatencyBins, error) {
	t.Helper()
	type res struct {
		b   *LatencyBins
		err error
	}
	ch := make(chan res, 1)
	go func() {
		b, err := LoadLatencyFile(path, unit)
		ch <- res{b, err}
	}()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("LoadLatencyFile(%s) still reading after 10 s", path)
	}
	return nil, nil
}

func TestLatencyFileRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{dir: "latency file must be a regular file, this is a directory"}
	if runtime.GOOS == "linux" {
		cases["/dev/zero"] = "/dev/zero: latency file must be a regular file, this is a device"
		cases["/dev/zero.hlog"] = "no such file" // the suffix does not change the check
	}
	for path, want := range cases {
		_, err := loadQuickly(t, path, "ms")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
}

func TestLatencyFileRefusesAFileOverTheCap(t *testing.T) {
	for _, name := range []string{"big.csv", "big.hlog"} {
		p := filepath.Join(t.TempDir(), name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(MaxLatencyFileBytes + 1); err != nil {
			f.Close()
			t.Skipf("no sparse file here: %v", err)
		}
		f.Close()
		if _, err := loadQuickly(t, p, "ms"); err == nil || !strings.Contains(err.Error(), p+": latency file of 67108865 bytes is larger than the 64 MiB limit") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A file that is not a latency file (here shaped like /etc/shadow, with a
// secret in every line) is refused naming the file and the line, never
// repeating a line.
func TestLatencyFileErrorsNeverEchoContents(t *testing.T) {
	shadow := "root:$6$" + secret + ":19000:0:99999:7:::\n" + secret + ":x:1000:1000::/home/" + secret + ":/bin/sh\n"
	hlogHead := "#[Histogram log format version 1.3]\n\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"
	for _, c := range []struct{ name, body, want string }{
		{"shadow", shadow, ":2: first column: not a latency"},
		{"shadow.csv", "5\n" + secret + ",1\n", ":2: first column: not a latency"},
		{"shadow.hlog", shadow, ":1: not an interval line"},
		{"tag.hlog", hlogHead + "Tag=" + secret + "\n", ":3: a Tag= line without interval fields"},
		{"fields.hlog", hlogHead + "0.1," + secret + ",2,HISTF\n", ":3: interval length: not a number"},
		{"payload.hlog", hlogHead + "0.1,1.0,2.0," + secret + "\n", ":3: interval histogram: "},
		{"long.csv", "latency_ms\n1\n" + strings.Repeat(secret, 1<<14) + "\n", ":3: line longer than 64 KiB"},
		{"long.hlog", hlogHead + strings.Repeat(secret, 1<<17) + "\n", ":3: line longer than 1 MiB"},
		{"nan.csv", "1\nNaN\n", ":2: first column: not a latency between 0 and 24 h"},
		{"inf.csv", "1\n+Inf\n", ":2: first column: not a latency between 0 and 24 h"},
		{"negative.csv", "1\n-3\n", ":2: first column: not a latency between 0 and 24 h"},
		{"huge.csv", "1\n1e300\n", ":2: first column: not a latency between 0 and 24 h"},
		{"day.csv", "1\n25h\n", ":2: first column: not a latency"},
		{"empty.csv", "", ": no latencies"},
		{"header.csv", "latency_ms\n# nothing\n\n", ": no latencies"},
		{"empty.hlog", hlogHead, ": the HdrHistogram log holds no values"},
		{"zeros.csv", strings.Repeat("\x00", 1<<20), ":1: line longer than 64 KiB"},
	} {
		p := writeLatency(t, c.name, c.body)
		_, err := loadQuickly(t, p, "ms")
		if err == nil || !strings.Contains(err.Error(), p+c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, p+c.want)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "root") {
			t.Errorf("%s: error %q repeats the file's contents", c.name, err)
		}
	}
}

func TestLatencyFileLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MaxLatencySamples values")
	}
	p := writeLatency(t, "many.csv", strings.Repeat("1\n", MaxLatencySamples+1))
	if _, err := loadQuickly(t, p, "ms"); err == nil || !strings.Contains(err.Error(), p+":4194305: more than 4194304 latencies") {
		t.Errorf("too many samples: %v", err)
	}
}

// An .hlog whose values, in its unit, pass MaxLatency is refused (the
// scaled value would otherwise overflow a duration).
func TestHlogValuesBounded(t *testing.T) {
	h := newHist()
	h.RecordValue(1000)
	var buf bytes.Buffer
	if err := WriteHlog(&buf, h, ""); err != nil {
		t.Fatal(err)
	}
	p := writeLatency(t, "ms.hlog", buf.String())
	if b, err := loadQuickly(t, p, "us"); err != nil || b.Lo[0] < 999*time.Microsecond {
		t.Fatalf("µs: %v %v", b, err)
	}
	if _, err := loadQuickly(t, p, "s"); err != nil {
		t.Fatalf("1000 s: %v", err)
	}
	h.RecordValue(100_000) // 100,000 s: more than a day
	buf.Reset()
	WriteHlog(&buf, h, "")
	p = writeLatency(t, "s.hlog", buf.String())
	if _, err := loadQuickly(t, p, "s"); err == nil || !strings.Contains(err.Error(), p+": a recorded value is negative or longer than 24 h") {
		t.Fatalf("err %v", err)
	}
	// A Tag= prefix and CRLF line ends read as HdrHistogram writes them.
	tagged := strings.ReplaceAll(strings.Replace(buf.String(), "\n0", "\nTag=hss,0", 1), "\n", "\r\n")
	p = writeLatency(t, "tagged.hlog", tagged)
	if b, err := loadQuickly(t, p, "us"); err != nil || len(b.Lo) != 2 {
		t.Fatalf("tagged: %v %v", b, err)
	}
}

// A named pipe is refused without opening it (opening one for reading
// blocks until a writer comes).
func TestLatencyFileRefusesAFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lat.csv")
	if err := exec.Command("mkfifo", p).Run(); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := loadQuickly(t, p, "ms"); err == nil || !strings.Contains(err.Error(), p+": latency file must be a regular file, this is a named pipe") {
		t.Fatalf("err %v", err)
	}
}
