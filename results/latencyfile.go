package results

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

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
// ("12.5ms").
func LoadLatencyFile(path, unit string) (*LatencyBins, error) {
	scale, err := unitScale(unit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening latency file: %w", err)
	}
	defer f.Close()
	if strings.HasSuffix(path, ".hlog") {
		return loadHlog(f, path, scale)
	}
	return loadCSV(f, path, scale)
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
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		field := strings.TrimSpace(strings.SplitN(text, ",", 2)[0])
		var d time.Duration
		if v, err := strconv.ParseFloat(field, 64); err == nil {
			if v < 0 {
				return nil, fmt.Errorf("%s:%d: negative latency %q", path, line, field)
			}
			d = time.Duration(v * float64(scale))
		} else if pd, err := time.ParseDuration(field); err == nil && pd >= 0 {
			d = pd
		} else if line == 1 {
			continue // a header
		} else {
			return nil, fmt.Errorf("%s:%d: %q is not a latency (a number in the file's unit, or e.g. 12.5ms)", path, line, field)
		}
		b.Lo, b.Hi, b.Count = append(b.Lo, d), append(b.Hi, d), append(b.Count, 1)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: reading: %w", path, err)
	}
	if len(b.Lo) == 0 {
		return nil, fmt.Errorf("%s: no latencies", path)
	}
	return b, nil
}

func loadHlog(r io.Reader, path string, scale time.Duration) (*LatencyBins, error) {
	lr := hdr.NewHistogramLogReader(r)
	var all *hdr.Histogram
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("%s: reading HdrHistogram log: %w", path, err)
		}
		if h == nil {
			break
		}
		if all == nil {
			all = h
		} else {
			all.Merge(h)
		}
	}
	if all == nil || all.TotalCount() == 0 {
		return nil, fmt.Errorf("%s: the HdrHistogram log holds no values", path)
	}
	b := &LatencyBins{}
	for _, bar := range all.Distribution() {
		if bar.Count > 0 {
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
