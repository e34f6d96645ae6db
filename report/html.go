package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/regstorm/regstorm/results"
)

// uPlot draws the interactive time series (zoom by dragging, values on
// hover); it is inlined into the page, which then needs no network.
//
//go:embed uplot/uPlot.iife.min.js
var uplotJS string

//go:embed uplot/uPlot.min.css
var uplotCSS string

// page is what every report page's template reads.
type page struct {
	Title    string
	Kind     string // run, compare, capacity
	Subtitle string
	Info     *runInfo
	Verdict  verdict
	Names    []string
	Rows     []tableRow
	Expect   []expectRow
	Invar    []results.Invariant
	Phases   []phase
	Profile  string
	Plots    []Plot
	Series   template.JS // the interactive time series' data, JSON
	Compare  *comparePage
	Capacity *results.Capacity
	CapRows  [][]string
	UplotJS  template.JS
	UplotCSS template.CSS
	Files    []string
}

type verdict struct {
	Class, Text string
}

type expectRow struct {
	results.Verdict
	MeasuredText, RequiredText string
}

func pageVerdict(s *results.Summary) verdict {
	eFail, iFail, iSkip := 0, 0, 0
	for _, e := range s.Expectations {
		if !e.Passed {
			eFail++
		}
	}
	for _, inv := range s.Invariants {
		switch {
		case inv.Skipped:
			iSkip++
		case !inv.Passed:
			iFail++
		}
	}
	parts := []string{}
	if n := len(s.Expectations); n > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d expectations met", n-eFail, n))
	} else {
		parts = append(parts, "no expectations")
	}
	if n := len(s.Invariants); n > 0 {
		t := fmt.Sprintf("%d of %d invariants hold", n-iFail-iSkip, n)
		if iSkip > 0 {
			t += fmt.Sprintf(" (%d skipped)", iSkip)
		}
		parts = append(parts, t)
	}
	v := verdict{Class: "pass", Text: "PASS"}
	switch {
	case s.Interrupted:
		v = verdict{Class: "warn", Text: "INTERRUPTED"}
	case eFail+iFail > 0:
		v = verdict{Class: "fail", Text: "FAIL"}
	}
	v.Text += ": " + strings.Join(parts, ", ")
	if s.Interrupted {
		v.Text += "; a signal stopped the run, its numbers are partial"
	}
	return v
}

func expectRows(s *results.Summary) []expectRow {
	var out []expectRow
	for _, e := range s.Expectations {
		r := expectRow{Verdict: e, RequiredText: formatNumber(e.Required), MeasuredText: "—"}
		if e.Measured != nil {
			r.MeasuredText = groupThousands(strconv.FormatFloat(*e.Measured, 'g', 6, 64))
		} else if e.Error != "" {
			r.MeasuredText = e.Error
		}
		out = append(out, r)
	}
	return out
}

// seriesJSON is the interactive chart's data: per variant, x seconds and
// each quantity (null where a latency is not defined: nothing ended).
func seriesJSON(r *results.Run) (template.JS, error) {
	type variant struct {
		Name                                       string
		T, Offered, Succeeded, Failed, P50, P99, X []*float64 `json:",omitempty"`
	}
	var vs []variant
	f := func(x float64) *float64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return &x
	}
	for _, name := range r.Variants() {
		v := variant{Name: name}
		for _, row := range r.Series[name] {
			v.T = append(v.T, f(float64(row.Second)))
			v.Offered = append(v.Offered, f(row.Offered))
			v.Succeeded = append(v.Succeeded, f(row.Succeeded))
			v.Failed = append(v.Failed, f(row.Failed))
			v.P50 = append(v.P50, f(row.P50MS))
			v.P99 = append(v.P99, f(row.P99MS))
		}
		if len(v.T) > 0 {
			vs = append(vs, v)
		}
	}
	b, err := json.Marshal(vs)
	if err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	return template.JS(b), nil
}

func newPage(r *results.Run, rf runFiles, plots []Plot) (*page, error) {
	names, rows, err := summaryRows(&r.Summary)
	if err != nil {
		return nil, err
	}
	series, err := seriesJSON(r)
	if err != nil {
		return nil, err
	}
	return &page{Title: r.Summary.Profile, Kind: "run", Info: rf.Info, Verdict: pageVerdict(&r.Summary), Names: names, Rows: rows,
		Expect: expectRows(&r.Summary), Invar: r.Summary.Invariants, Phases: rf.Phases, Profile: rf.Profile, Plots: plots,
		Series: series, UplotJS: template.JS(uplotJS), UplotCSS: template.CSS(uplotCSS)}, nil
}

// WriteIndex writes index.html: the verdict, the tables, the interactive
// time series, the plots and the profile.
func WriteIndex(r *results.Run, plots []Plot) error {
	rf, err := readRunFiles(r.Dir)
	if err != nil {
		return err
	}
	p, err := newPage(r, rf, plots)
	if err != nil {
		return err
	}
	p.Subtitle = fmt.Sprintf("seed %d", r.Summary.Seed)
	p.Files = runFileList(r.Dir)
	return writePage(filepath.Join(r.Dir, "index.html"), p)
}

func runFileList(dir string) []string {
	var out []string
	for _, f := range []string{"summary.json", "timeseries.csv", "run-info.json", "profile.yaml", "registrations.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			out = append(out, f)
		}
	}
	return out
}

func writePage(path string, p *page) error {
	var b bytes.Buffer
	if err := indexTmpl.Execute(&b, p); err != nil {
		return fmt.Errorf("report: rendering %s: %w", filepath.Base(path), err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// Render re-renders the plots and index.html of a run directory from its
// saved files.
func Render(dir string) (*results.Run, []Plot, error) {
	r, err := results.LoadRun(dir)
	if err != nil {
		return nil, nil, err
	}
	rf, err := readRunFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	plots, err := renderPlots(r, rf.Phases)
	if err != nil {
		return nil, nil, err
	}
	p, err := newPage(r, rf, plots)
	if err != nil {
		return nil, nil, err
	}
	p.Subtitle = fmt.Sprintf("seed %d", r.Summary.Seed)
	p.Files = runFileList(dir)
	if err := writePage(filepath.Join(dir, "index.html"), p); err != nil {
		return nil, nil, err
	}
	return r, plots, nil
}

// Capacity writes a capacity search's report into dir: the curve
// (capacity.png, capacity.svg) and index.html.
func Capacity(c *results.Capacity, dir string) error {
	if err := CapacityPlots(c, dir); err != nil {
		return err
	}
	p := &page{Title: "capacity of " + c.Profile, Kind: "capacity", Capacity: c,
		Subtitle: fmt.Sprintf("variant %s, seed %d; %g s per step; inadequate = failed or slower than %s ms; limit %g %%",
			c.Variant, c.Seed, c.DurationS, formatNumber(c.ThresholdMS), 100*c.Limit),
		UplotJS: template.JS(uplotJS), UplotCSS: template.CSS(uplotCSS), Files: []string{"capacity.json"}}
	p.Verdict = verdict{Class: "pass", Text: "design objective capacity: " + formatNumber(c.Capacity) + " registrations/s"}
	if !c.Bounded() {
		p.Verdict.Text = "design objective capacity: at least " + formatNumber(c.Capacity) + " registrations/s (every step passed)"
	}
	if len(c.Steps) > 0 && !c.Steps[0].Pass {
		p.Verdict = verdict{Class: "fail", Text: "no capacity found: even the first step misses the limit"}
	}
	if len(c.Steps) > 0 {
		p.Plots = []Plot{{Name: "capacity", Title: "Capacity search"}}
	}
	for _, s := range c.Steps {
		v := "pass"
		if !s.Pass {
			v = "FAIL"
		}
		p.CapRows = append(p.CapRows, []string{formatNumber(s.Rate), groupThousands(fmt.Sprintf("%.1f", s.OfferedPerS)), groupThousands(fmt.Sprintf("%.1f", s.AchievedPerS)),
			groupThousands(strconv.FormatUint(s.Attempted, 10)), groupThousands(strconv.FormatUint(s.Succeeded, 10)),
			groupThousands(strconv.FormatUint(s.Failed, 10)), groupThousands(strconv.FormatUint(s.Slow, 10)),
			fmt.Sprintf("%.3f %%", 100*s.Inadequate), groupThousands(fmt.Sprintf("%.1f", s.P99OKMS)),
			groupThousands(fmt.Sprintf("%.1f", s.P99AllMS)), v})
	}
	return writePage(filepath.Join(dir, "index.html"), p)
}
