package results

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The .hlog files follow the HdrHistogram interval log format as the Java
// HistogramLogWriter writes it (format version 1.3): comment lines, a
// "#[StartTime: ...]" and a "#[BaseTime: ...]" line, the quoted legend,
// then one line per interval: start timestamp and length in seconds, the
// interval's maximum (ms, values being µs), and the interval histogram in
// the V2 compressed encoding, base64. HistogramLogAnalyzer, hdr-histogram-js
// (HistogramLogReader) and HdrHistogram's other readers show such a log as
// a run over time.
//
// A simulation's clock is virtual: its second 0 is written as the Unix
// epoch (StartTime 0, BaseTime 0), so interval timestamps are seconds of
// virtual time and the file is the same for the same seed.

// hlogFormatVersion is the interval log format version written.
const hlogFormatVersion = "1.3"

// writeIntervalLog writes t as an interval log with one interval per
// second of virtual time [k, k+1), from second 0 to the end of the run
// (the last interval is as long as what is left of its second; seconds
// without a value are empty intervals). When the per-second histograms do
// not hold every value of the total (values merged into the total alone,
// as a live command may do), the whole run is one interval instead.
func writeIntervalLog(w io.Writer, t *timeline, end time.Duration, comment string) error {
	return writeLog(w, t, nil, end, comment)
}

// writeSingleIntervalLog writes one histogram as one interval spanning the
// run (the latency of one final code, which has no per-second series).
func writeSingleIntervalLog(w io.Writer, h *hdr.PackedHistogram, end time.Duration, comment string) error {
	return writeLog(w, nil, h, end, comment)
}

// writeLog writes t's intervals, or single as one interval when t is nil.
func writeLog(w io.Writer, t *timeline, single *hdr.PackedHistogram, end time.Duration, comment string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "#%s\n", comment)
	fmt.Fprintf(bw, "#[Histogram log format version %s]\n", hlogFormatVersion)
	fmt.Fprintf(bw, "#[StartTime: 0.000 (seconds since epoch), %s]\n", time.Unix(0, 0).UTC().Format(time.RFC3339))
	fmt.Fprintf(bw, "#[BaseTime: 0.000 (seconds since epoch)]\n")
	bw.WriteString("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n")
	endS := max(end.Seconds(), 0)
	line := func(start, length float64, h *hdr.PackedHistogram) error {
		enc, err := h.Encode()
		if err != nil {
			return fmt.Errorf("results: encoding an interval histogram: %w", err)
		}
		var maxMS float64
		if h.TotalCount() > 0 {
			maxMS = ms(h.Max())
		}
		fmt.Fprintf(bw, "%.3f,%.3f,%.3f,%s\n", start, length, maxMS, enc)
		return nil
	}
	if t == nil {
		if err := line(0, endS, single); err != nil {
			return err
		}
		return bw.Flush()
	}
	if t.count() != t.perSecondCount() {
		fmt.Fprintf(bw, "#no per-second measurements: one interval spans the run\n")
		if err := line(0, endS, packedOf(t.total)); err != nil {
			return err
		}
		return bw.Flush()
	}
	n := max(int(math.Ceil(endS)), len(t.secs))
	empty := newPacked()
	for k := 0; k < n; k++ {
		h := t.second(k)
		if h == nil {
			h = empty
		}
		if err := line(float64(k), math.Max(0, math.Min(1, endS-float64(k))), h); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Interval is one interval of an interval log.
type Interval struct {
	Start, Length float64 // seconds
	Hist          *hdr.PackedHistogram
}

// maxHlogLine bounds one line of an interval log read back.
const maxHlogLine = 1 << 24

// ReadIntervalLog reads the intervals of an HdrHistogram interval log:
// comment and legend lines are skipped, "Tag=" prefixes ignored.
func ReadIntervalLog(r io.Reader) ([]Interval, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxHlogLine)
	var out []Interval
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '"' || strings.HasPrefix(line, "StartTimestamp") {
			continue
		}
		if strings.HasPrefix(line, "Tag=") {
			i := strings.IndexByte(line, ',')
			if i < 0 {
				return nil, fmt.Errorf("line %d: a Tag= line without interval fields", n)
			}
			line = line[i+1:]
		}
		f := strings.SplitN(line, ",", 4)
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: not an interval line (want start,length,max,histogram)", n)
		}
		var iv Interval
		var err error
		if iv.Start, err = strconv.ParseFloat(f[0], 64); err == nil {
			iv.Length, err = strconv.ParseFloat(f[1], 64)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: interval timestamps: %w", n, err)
		}
		if iv.Hist, err = hdr.DecodePacked([]byte(f[3])); err != nil {
			return nil, fmt.Errorf("line %d: interval histogram: %w", n, err)
		}
		out = append(out, iv)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading an interval log: %w", err)
	}
	return out, nil
}

// readHlog reads an interval log and sums its intervals into one
// histogram of the package's geometry.
func readHlog(path string) (*hdr.Histogram, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading histogram: %w", err)
	}
	defer f.Close()
	ivs, err := ReadIntervalLog(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sum := newPacked()
	for _, iv := range ivs {
		if d := sum.Merge(iv.Hist); d > 0 {
			return nil, fmt.Errorf("%s: %d values outside 1 µs .. 1 h", path, d)
		}
	}
	h := newHist()
	sum.MergeInto(h)
	return h, nil
}

// isNotExist reports a missing file (a run written before a metric existed).
func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
