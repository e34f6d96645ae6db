package results

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Metrics are the latency histograms written per variant, in this order:
// each procedure's every outcome (.all) and successes only (.ok), the
// challenge leg, then the S-CSCF's and the HSS's measurements. The names
// are the summary's latency_ms paths.
var Metrics = []string{"registration.all", "registration.ok", "reregistration.all", "reregistration.ok",
	"deregistration.all", "deregistration.ok", "challenge.all", "challenge.ok", "mar_rtt", "sar_rtt", "hss_mar", "hss_queue"}

// timeline returns the collector's timeline of a metric, or nil.
func (c *Collector) timeline(metric string) *timeline {
	switch metric {
	case "mar_rtt":
		return &c.cores[coreMARRTT]
	case "sar_rtt":
		return &c.cores[coreSARRTT]
	case "hss_mar":
		return &c.cores[coreHSSMAR]
	case "hss_queue":
		return &c.cores[coreHSSQueue]
	}
	proc, outcome, ok := strings.Cut(metric, ".")
	if !ok {
		return nil
	}
	for i, name := range procNames {
		if name == proc {
			switch outcome {
			case "all":
				return &c.procs[i].all
			case "ok":
				return &c.procs[i].ok
			}
		}
	}
	return nil
}

// Histogram returns the collector's whole-run histogram of a metric (µs;
// empty when nothing was recorded), or nil for an unknown metric.
func (c *Collector) Histogram(metric string) *hdr.Histogram {
	t := c.timeline(metric)
	if t == nil {
		return nil
	}
	if t.total == nil {
		return newHist()
	}
	return t.total
}

// Run is everything a run leaves in its directory: what report re-renders
// and compare reads.
type Run struct {
	Dir     string
	Summary Summary
	// Hists[variant][metric], values in µs.
	Hists map[string]map[string]*hdr.Histogram
	// Series[variant], one row per virtual second.
	Series map[string][]SeriesRow
}

// SeriesRow is one line of timeseries.csv; a latency of a second in which
// nothing ended is NaN (an empty field in the file).
type SeriesRow struct {
	Second                                              int
	Offered, Completed, Succeeded, Failed               float64
	Failed4xx, Failed5xx, FailedTimerF, FailedOther     float64
	Suspended, OnWait, HSSQueue                         float64
	P50MS, P90MS, P95MS, P99MS, MaxMS, OKP50MS, OKP99MS float64
}

// CodeMetric prefixes the metric of one final code's registration latency
// ("registration.code-500", "registration.code-timer_f"); Run.Hists holds
// one per code that occurred.
const CodeMetric = "registration.code-"

// HlogName is the file of one variant's metric.
func HlogName(variant, metric string) string { return sanitize(variant) + "." + metric + ".hlog" }

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

// WriteRun writes summary.json, timeseries.csv, registrations.csv (when
// records were kept) and one .hlog per metric and variant into dir. The
// .hlog files have one interval per second of the variant's virtual
// duration (names[i] is looked up in sum, else the i-th variant's).
func WriteRun(dir string, sum *Summary, names []string, cols []*Collector) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	js, err := sum.JSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), js, 0o644); err != nil {
		return fmt.Errorf("results: writing summary: %w", err)
	}
	var ts bytes.Buffer
	if err := WriteTimeseriesCSV(&ts, names, cols); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "timeseries.csv"), ts.Bytes(), 0o644); err != nil {
		return fmt.Errorf("results: writing timeseries: %w", err)
	}
	if err := writeRecords(dir, names, cols); err != nil {
		return err
	}
	for i, c := range cols {
		var end time.Duration
		for j := range sum.Variants {
			if sum.Variants[j].Name == names[i] || j == i && end == 0 {
				end = time.Duration(sum.Variants[j].VirtualDuration * float64(time.Second))
			}
		}
		for _, m := range Metrics {
			var b bytes.Buffer
			comment := fmt.Sprintf("regstorm %s %s %s: values in microseconds, one interval per second of virtual time", sum.Profile, names[i], m)
			if err := writeIntervalLog(&b, c.timeline(m), end, comment); err != nil {
				return fmt.Errorf("results: encoding %s %s: %w", names[i], m, err)
			}
			if err := os.WriteFile(filepath.Join(dir, HlogName(names[i], m)), b.Bytes(), 0o644); err != nil {
				return fmt.Errorf("results: writing histogram: %w", err)
			}
		}
		// The registration latency of each final code (the report's
		// histogram of failures by code), one interval spanning the run.
		for slot, h := range c.procs[0].byCode {
			if h == nil || h.TotalCount() == 0 {
				continue
			}
			m := CodeMetric + slotKey(slot)
			var b bytes.Buffer
			comment := fmt.Sprintf("regstorm %s %s %s: values in microseconds, one interval spanning the run", sum.Profile, names[i], m)
			if err := writeSingleIntervalLog(&b, h, end, comment); err != nil {
				return fmt.Errorf("results: encoding %s %s: %w", names[i], m, err)
			}
			if err := os.WriteFile(filepath.Join(dir, HlogName(names[i], m)), b.Bytes(), 0o644); err != nil {
				return fmt.Errorf("results: writing histogram: %w", err)
			}
		}
	}
	return nil
}

// LoadRun reads a run directory written by WriteRun. A metric's .hlog that
// is missing (a run written before the metric existed) leaves its
// histogram nil.
func LoadRun(dir string) (*Run, error) {
	r := &Run{Dir: dir, Hists: map[string]map[string]*hdr.Histogram{}, Series: map[string][]SeriesRow{}}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, fmt.Errorf("reading run %s: %w", dir, err)
	}
	if err := json.Unmarshal(b, &r.Summary); err != nil {
		return nil, fmt.Errorf("%s: summary.json: %w", dir, err)
	}
	for _, v := range r.Summary.Variants {
		r.Hists[v.Name] = map[string]*hdr.Histogram{}
		for _, m := range Metrics {
			h, err := readHlog(filepath.Join(dir, HlogName(v.Name, m)))
			if isNotExist(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			r.Hists[v.Name][m] = h
		}
		codes, _ := filepath.Glob(filepath.Join(dir, HlogName(v.Name, CodeMetric+"*")))
		for _, path := range codes { // sorted by Glob
			m := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), sanitize(v.Name)+"."), ".hlog")
			h, err := readHlog(path)
			if err != nil {
				return nil, err
			}
			r.Hists[v.Name][m] = h
		}
	}
	f, err := os.Open(filepath.Join(dir, "timeseries.csv"))
	if err != nil {
		return nil, fmt.Errorf("reading run %s: %w", dir, err)
	}
	defer f.Close()
	if r.Series, err = readTimeseries(f); err != nil {
		return nil, fmt.Errorf("%s/timeseries.csv: %w", dir, err)
	}
	return r, nil
}

// readTimeseries reads timeseries.csv: '#' lines are comments, columns are
// found by their header names (a column the file lacks reads as 0, an
// empty field as NaN).
func readTimeseries(rd io.Reader) (map[string][]SeriesRow, error) {
	cr := csv.NewReader(rd)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("no header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	if _, ok := col["second"]; !ok {
		return nil, errors.New("bad header: no second column")
	}
	if _, ok := col["variant"]; !ok {
		return nil, errors.New("bad header: no variant column")
	}
	out := map[string][]SeriesRow{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if len(rec) != len(head) {
			return nil, fmt.Errorf("line %d: %d fields, the header has %d", line, len(rec), len(head))
		}
		var row SeriesRow
		if row.Second, err = strconv.Atoi(rec[col["second"]]); err != nil {
			return nil, fmt.Errorf("line %d: second: %w", line, err)
		}
		for name, p := range map[string]*float64{"offered": &row.Offered, "completed": &row.Completed, "succeeded": &row.Succeeded,
			"failed": &row.Failed, "failed_4xx": &row.Failed4xx, "failed_5xx": &row.Failed5xx, "failed_timer_f": &row.FailedTimerF,
			"failed_other": &row.FailedOther, "suspended_max": &row.Suspended, "on_wait_max": &row.OnWait,
			"hss_queue_max": &row.HSSQueue, "p50_ms": &row.P50MS, "p90_ms": &row.P90MS, "p95_ms": &row.P95MS, "p99_ms": &row.P99MS,
			"max_ms": &row.MaxMS, "ok_p50_ms": &row.OKP50MS, "ok_p99_ms": &row.OKP99MS} {
			i, ok := col[name]
			switch {
			case !ok:
			case rec[i] == "":
				*p = math.NaN()
			default:
				if *p, err = strconv.ParseFloat(rec[i], 64); err != nil {
					return nil, fmt.Errorf("line %d: %s: %w", line, name, err)
				}
			}
		}
		v := rec[col["variant"]]
		out[v] = append(out[v], row)
	}
	return out, nil
}

// Variants returns the variant names in summary order.
func (r *Run) Variants() []string {
	var out []string
	for _, v := range r.Summary.Variants {
		out = append(out, v.Name)
	}
	return out
}

// fixedText writes d in units of unit with every nanosecond: exact, so a
// reader can bucket end times by second without rounding across a second.
func fixedText(d, unit time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	digits := len(strconv.FormatInt(int64(unit), 10)) - 1
	return fmt.Sprintf("%s%d.%0*d", sign, d/unit, digits, d%unit)
}

// writeRecords writes registrations.csv when records were kept: times in
// seconds and latency in milliseconds, to the nanosecond.
func writeRecords(dir string, names []string, cols []*Collector) error {
	kept := false
	for _, c := range cols {
		kept = kept || c.Records != nil
	}
	if !kept {
		return nil
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"variant", "ue", "intended_s", "end_s", "latency_ms", "final_code", "reason", "cseq"})
	for i, c := range cols {
		for _, r := range c.Records {
			w.Write([]string{names[i], strconv.FormatUint(uint64(r.UE), 10), fixedText(r.Intended, time.Second),
				fixedText(r.End, time.Second), fixedText(r.End-r.Intended, time.Millisecond),
				strconv.Itoa(r.Code), r.Reason, strconv.FormatUint(uint64(r.CSeq), 10)})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("results: registrations.csv: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "registrations.csv"), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("results: writing registrations.csv: %w", err)
	}
	return nil
}
