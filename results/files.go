package results

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Metrics are the latency histograms written per variant, in this order.
var Metrics = []string{"registration", "challenge", "mar_rtt", "sar_rtt", "hss_mar", "hss_queue"}

// Histogram returns the collector's histogram of a metric.
func (c *Collector) Histogram(metric string) *hdr.Histogram {
	switch metric {
	case "registration":
		return c.Registration
	case "challenge":
		return c.Challenge
	case "mar_rtt":
		return c.MARRTT
	case "sar_rtt":
		return c.SARRTT
	case "hss_mar":
		return c.HSSMAR
	case "hss_queue":
		return c.HSSQueue
	}
	return nil
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

// SeriesRow is one line of timeseries.csv.
type SeriesRow struct {
	Second                                    int
	Offered, Succeeded, Failed                float64
	Suspended, OnWait, HSSQueue, P50MS, P99MS float64
}

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

// WriteRun writes summary.json, timeseries.csv and one .hlog per metric and
// variant into dir.
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
	series := make([]*Series, len(cols))
	for i, c := range cols {
		series[i] = &c.Series
	}
	if err := WriteTimeseriesCSV(&ts, names, series); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "timeseries.csv"), ts.Bytes(), 0o644); err != nil {
		return fmt.Errorf("results: writing timeseries: %w", err)
	}
	if err := writeRecords(dir, names, cols); err != nil {
		return err
	}
	for i, c := range cols {
		for _, m := range Metrics {
			var b bytes.Buffer
			if err := WriteHlog(&b, c.Histogram(m), fmt.Sprintf("regstorm %s %s %s, values in microseconds", sum.Profile, names[i], m)); err != nil {
				return fmt.Errorf("results: encoding %s %s: %w", names[i], m, err)
			}
			if err := os.WriteFile(filepath.Join(dir, HlogName(names[i], m)), b.Bytes(), 0o644); err != nil {
				return fmt.Errorf("results: writing histogram: %w", err)
			}
		}
	}
	return nil
}

// LoadRun reads a run directory written by WriteRun.
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
	cr := csv.NewReader(f)
	head, err := cr.Read()
	if err != nil || len(head) != 10 {
		return nil, fmt.Errorf("%s: timeseries.csv: bad header", dir)
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s/timeseries.csv:%d: %w", dir, line, err)
		}
		var row SeriesRow
		row.Second, err = strconv.Atoi(rec[0])
		vals := []*float64{&row.Offered, &row.Succeeded, &row.Failed, &row.Suspended, &row.OnWait, &row.HSSQueue, &row.P50MS, &row.P99MS}
		for i, p := range vals {
			if err == nil {
				*p, err = strconv.ParseFloat(rec[2+i], 64)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s/timeseries.csv:%d: %w", dir, line, err)
		}
		r.Series[rec[1]] = append(r.Series[rec[1]], row)
	}
	return r, nil
}

func readHlog(path string) (*hdr.Histogram, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading histogram: %w", err)
	}
	defer f.Close()
	lr := hdr.NewHistogramLogReader(f)
	h := newHist()
	for {
		x, err := lr.NextIntervalHistogram()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if x == nil {
			break
		}
		h.Merge(x)
	}
	return h, nil
}

// Variants returns the variant names in summary order.
func (r *Run) Variants() []string {
	var out []string
	for _, v := range r.Summary.Variants {
		out = append(out, v.Name)
	}
	return out
}

func sortedStrings(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// writeRecords writes registrations.csv when records were kept.
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
			w.Write([]string{names[i], strconv.FormatUint(uint64(r.UE), 10), strconv.FormatFloat(r.Intended.Seconds(), 'f', 6, 64),
				strconv.FormatFloat(r.End.Seconds(), 'f', 6, 64), strconv.FormatFloat(float64(r.End-r.Intended)/1e6, 'f', 3, 64),
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
