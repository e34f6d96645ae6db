package results

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/regstorm/regstorm/internal/inputfile"
)

// Bounds on a latency file. The file is named by a profile, possibly one
// written by someone else, so reading it must stay bounded in memory and
// time whatever it holds, and its errors name the file and line but never
// repeat its contents (the path could be any file the user can read).
const (
	// MaxLatencyFileBytes caps a latency file's size: 64 MiB is a day of
	// 1-second HdrHistogram intervals many times over, or millions of
	// CSV rows.
	MaxLatencyFileBytes = 64 << 20
	// MaxLatencySamples caps the values of a CSV (each becomes a bin of
	// the sampler: 24 bytes here and as much again in sim.Empirical);
	// an .hlog holds any number of values in a bounded number of bins.
	MaxLatencySamples = 1 << 22
	// MaxLatencyCSVLine and MaxLatencyHlogLine bound one line: a CSV
	// row is short, an interval line carries a base64 histogram.
	MaxLatencyCSVLine  = 64 << 10
	MaxLatencyHlogLine = 1 << 20
	// MaxLatency is the longest latency a file may hold: a day is far
	// beyond any measured HSS answer, and keeps every value, scaled by
	// its unit, well inside time.Duration.
	MaxLatency = 24 * time.Hour
)

var maxLatencyText = strconv.FormatFloat(MaxLatency.Hours(), 'g', -1, 64) + " h"

// LatencyBins are measured latencies as bins [Lo, Hi] with counts, the
// input of sim.NewEmpirical.
type LatencyBins struct {
	Lo, Hi []time.Duration
	Count  []float64
}

// LoadLatencyFile reads measured latencies from a production system, to
// replay them: an HdrHistogram interval log (.hlog: every interval merged)
// or a CSV/text file with one latency per line (first column; a header
// line, blank lines and # comments are skipped). unit ("ns", "us", "ms",
// "s") scales plain numbers; CSV values may also carry their own unit
// ("12.5ms"). The file must be a regular file of at most
// MaxLatencyFileBytes; errors give the path and line, never the text.
func LoadLatencyFile(path, unit string) (*LatencyBins, error) {
	scale, err := unitScale(unit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f, err := inputfile.Open(path, "latency file", MaxLatencyFileBytes)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := inputfile.Capped(f, path, MaxLatencyFileBytes)
	if strings.HasSuffix(path, ".hlog") {
		return loadHlog(r, path, scale)
	}
	return loadCSV(r, path, scale)
}

// lines scans r line by line with a bounded buffer; a longer line is an
// error naming its number, not its text.
type lines struct {
	sc   *bufio.Scanner
	path string
	n    int // number of the line last returned
	max  int
}

func newLines(r io.Reader, path string, max int) *lines {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(max+2, 64<<10)), max+2) // the line, \r and \n
	return &lines{sc: sc, path: path, max: max}
}

func (l *lines) next() (string, bool) {
	if !l.sc.Scan() {
		return "", false
	}
	l.n++
	t := strings.TrimSuffix(l.sc.Text(), "\r")
	if len(t) > l.max {
		l.sc = nil
		return "", false
	}
	return t, true
}

func (l *lines) err() error {
	if l.sc == nil || errors.Is(l.sc.Err(), bufio.ErrTooLong) {
		n := l.n
		if l.sc != nil {
			n++
		}
		return fmt.Errorf("%s:%d: line longer than %s", l.path, n, inputfile.Size(int64(l.max)))
	}
	if err := l.sc.Err(); err != nil {
		return fmt.Errorf("%s: reading: %w", l.path, err)
	}
	return nil
}

func unitScale(unit string) (time.Duration, error) {
	switch unit {
	case "ns":
		return time.Nanosecond, nil
	case "us", "µs":
		return time.Microsecond, nil
	case "", "ms":
		return time.Millisecond, nil
	case "s":
		return time.Second, nil
	}
	return 0, fmt.Errorf("unknown unit %q (want ns, us, ms or s)", unit)
}

func loadCSV(r io.Reader, path string, scale time.Duration) (*LatencyBins, error) {
	b := &LatencyBins{}
	ls := newLines(r, path, MaxLatencyCSVLine)
	for {
		raw, ok := ls.next()
		if !ok {
			break
		}
		text := strings.TrimSpace(raw)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		field := strings.TrimSpace(strings.SplitN(text, ",", 2)[0])
		var d time.Duration
		if v, err := strconv.ParseFloat(field, 64); err == nil {
			// A value that is not finite, negative, or beyond MaxLatency
			// once scaled is refused before it becomes a duration.
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v*float64(scale) > float64(MaxLatency) {
				return nil, fmt.Errorf("%s:%d: first column: not a latency between 0 and %s", path, ls.n, maxLatencyText)
			}
			d = time.Duration(v * float64(scale))
		} else if pd, err := time.ParseDuration(field); err == nil && pd >= 0 && pd <= MaxLatency {
			d = pd
		} else if ls.n == 1 {
			continue // a header
		} else {
			return nil, fmt.Errorf("%s:%d: first column: not a latency (a number in the file's unit, or e.g. 12.5ms, at most %s)", path, ls.n, maxLatencyText)
		}
		if len(b.Lo) == MaxLatencySamples {
			return nil, fmt.Errorf("%s:%d: more than %d latencies (the CSV limit; an HdrHistogram .hlog holds any number)", path, ls.n, MaxLatencySamples)
		}
		b.Lo, b.Hi, b.Count = append(b.Lo, d), append(b.Hi, d), append(b.Count, 1)
	}
	if err := ls.err(); err != nil {
		return nil, err
	}
	if len(b.Lo) == 0 {
		return nil, fmt.Errorf("%s: no latencies", path)
	}
	return b, nil
}

// loadHlog reads an HdrHistogram interval log (the HdrHistogram log
// format, as HistogramLogWriter writes it): "#" comment lines (StartTime,
// BaseTime, the format version), the quoted legend, and interval lines
// "[Tag=T,]start,length,max,payload" with a base64 V2 compressed
// histogram. Every interval is merged into the first, as
// HistogramLogReader.NextIntervalHistogram then Merge would; unlike that
// reader, a line that is none of these is an error rather than skipped,
// and lines are bounded.
func loadHlog(r io.Reader, path string, scale time.Duration) (*LatencyBins, error) {
	var all *hdr.Histogram
	ls := newLines(r, path, MaxLatencyHlogLine)
	for {
		line, ok := ls.next()
		if !ok {
			break
		}
		if line == "" || line[0] == '#' || line[0] == '"' {
			continue
		}
		if strings.HasPrefix(line, "Tag=") {
			i := strings.IndexByte(line, ',')
			if i < 0 {
				return nil, fmt.Errorf("%s:%d: a Tag= line without interval fields", path, ls.n)
			}
			line = line[i+1:]
		}
		f := strings.SplitN(line, ",", 4)
		if len(f) != 4 {
			return nil, fmt.Errorf("%s:%d: not an interval line (want start,length,max,histogram)", path, ls.n)
		}
		for i, name := range []string{"start", "length", "max"} {
			if v, err := strconv.ParseFloat(f[i], 64); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s:%d: interval %s: not a number", path, ls.n, name)
			}
		}
		h, err := hdr.Decode([]byte(f[3]))
		if err != nil {
			// The decoder's messages give sizes and codes, not the payload.
			return nil, fmt.Errorf("%s:%d: interval histogram: %w", path, ls.n, err)
		}
		if all == nil {
			all = h
		} else {
			all.Merge(h)
		}
	}
	if err := ls.err(); err != nil {
		return nil, err
	}
	if all == nil || all.TotalCount() == 0 {
		return nil, fmt.Errorf("%s: the HdrHistogram log holds no values", path)
	}
	b := &LatencyBins{}
	limit := int64(MaxLatency / scale)
	for _, bar := range all.Distribution() {
		if bar.Count > 0 {
			if bar.From < 0 || bar.To > limit {
				return nil, fmt.Errorf("%s: a recorded value is negative or longer than %s", path, maxLatencyText)
			}
			b.Lo = append(b.Lo, time.Duration(bar.From)*scale)
			b.Hi = append(b.Hi, time.Duration(bar.To)*scale)
			b.Count = append(b.Count, float64(bar.Count))
		}
	}
	return b, nil
}

// WriteHlog writes one histogram as an HdrHistogram interval log.
func WriteHlog(w io.Writer, h *hdr.Histogram, comment string) error {
	lw := hdr.NewHistogramLogWriter(w)
	if comment != "" {
		if err := lw.OutputComment(comment); err != nil {
			return err
		}
	}
	if err := lw.OutputLogFormatVersion(); err != nil {
		return err
	}
	if err := lw.OutputLegend(); err != nil {
		return err
	}
	return lw.OutputIntervalHistogram(h)
}
