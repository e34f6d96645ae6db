package report

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/regstorm/regstorm/results"
)

// comparePage is the part of a compare report the run page lacks.
type comparePage struct {
	A, B   side
	Deltas []deltaRow
}

// Sides are A and B, in this order.
func (c *comparePage) Sides() []side { return []side{c.A, c.B} }

type side struct {
	Tag, Dir string
	Info     *runInfo
	Verdict  verdict
	Names    []string
	Rows     []tableRow
}

type deltaRow struct {
	Variant, Metric string
	A, B, Delta     string
	Relative        string
	Class           string // better, worse or neutral
}

// direction says whether a metric is better higher (+1), lower (-1) or
// neither (0), from its path.
func direction(metric string) int {
	m := strings.ToLower(metric)
	switch {
	case strings.HasPrefix(m, "latency_ms."), strings.Contains(m, "failed"), strings.Contains(m, "in_progress"),
		strings.Contains(m, "timer_f"), strings.Contains(m, "retries"), strings.Contains(m, "not_executed"),
		strings.Contains(m, "timeout"), strings.Contains(m, "retransmission"), strings.Contains(m, "dropped"):
		return -1
	case strings.Contains(m, "by_final_code.2"), strings.Contains(m, "by_cause.2"):
		return 1
	case strings.Contains(m, "by_final_code."), strings.Contains(m, "by_cause."):
		return -1
	case strings.Contains(m, "succeeded"), strings.Contains(m, "achieved"), strings.Contains(m, "completion_rate"),
		strings.Contains(m, "route_executed"), strings.Contains(m, "ues_registered"):
		return 1
	}
	return 0
}

func deltaClass(metric string, delta float64) string {
	d := direction(metric)
	switch {
	case delta == 0 || d == 0:
		return "neutral"
	case delta*float64(d) > 0:
		return "better"
	}
	return "worse"
}

func num(x float64) string { return groupThousands(strconv.FormatFloat(x, 'g', 6, 64)) }

// Compare writes the report of two runs into dir: both runs' tables side
// by side, every metric that changed with its delta coloured by direction
// (better, worse, neither), and the plots of both runs overlaid (variants
// named "A: x" and "B: x").
func Compare(a, b *results.Run, c *results.Comparison, dir string) ([]Plot, error) {
	o := results.Overlay(a, b, dir)
	ra, err := readRunFiles(a.Dir)
	if err != nil {
		return nil, err
	}
	rb, err := readRunFiles(b.Dir)
	if err != nil {
		return nil, err
	}
	phases := ra.Phases
	if len(phases) == 0 {
		phases = rb.Phases
	}
	plots, err := renderPlots(o, phases)
	if err != nil {
		return nil, err
	}
	p, err := newPage(o, runFiles{Phases: phases}, plots)
	if err != nil {
		return nil, err
	}
	p.Kind = "compare"
	p.Title = fmt.Sprintf("compare %s and %s", a.Summary.Profile, b.Summary.Profile)
	p.Rows, p.Names, p.Expect, p.Invar = nil, nil, nil, nil
	cp := &comparePage{}
	for i, r := range []*results.Run{a, b} {
		names, rows, err := summaryRows(&r.Summary)
		if err != nil {
			return nil, err
		}
		s := side{Tag: string(rune('A' + i)), Dir: r.Dir, Info: []runFiles{ra, rb}[i].Info, Verdict: pageVerdict(&r.Summary),
			Names: names, Rows: rows}
		if i == 0 {
			cp.A = s
		} else {
			cp.B = s
		}
	}
	p.Verdict = verdict{Class: "neutral", Text: fmt.Sprintf("%d metrics changed", len(c.Deltas))}
	for _, d := range c.Deltas {
		row := deltaRow{Variant: d.Variant, Metric: d.Metric, A: num(d.A), B: num(d.B), Delta: num(d.Delta), Class: deltaClass(d.Metric, d.Delta)}
		if d.Delta > 0 {
			row.Delta = "+" + row.Delta
		}
		if d.A != 0 && !math.IsInf(d.Relative, 0) {
			row.Relative = fmt.Sprintf("%+.1f %%", 100*d.Relative)
		}
		cp.Deltas = append(cp.Deltas, row)
	}
	p.Compare = cp
	p.Subtitle = fmt.Sprintf("A: %s (profile %s, seed %d) · B: %s (profile %s, seed %d)", a.Dir, a.Summary.Profile, a.Summary.Seed,
		b.Dir, b.Summary.Profile, b.Summary.Seed)
	if err := writePage(filepath.Join(dir, "index.html"), p); err != nil {
		return nil, err
	}
	return plots, nil
}
