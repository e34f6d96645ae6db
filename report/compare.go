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
	// Names and Rows are both runs' tables merged: per variant, A's
	// column then B's.
	Names []string
	Rows  []mergedRow
}

type mergedRow struct {
	Label  string
	Indent bool
	Cells  []mergedCell
}

type mergedCell struct {
	Text string
	Diff bool // B's value differs from A's
}

// mergeTables puts both runs' summary tables into one, a row per label
// (within its group), columns A: v, B: v per variant.
func mergeTables(a, b side) ([]string, []mergedRow) {
	type col struct {
		side, idx int
	}
	var names []string
	var cols []col
	inB := map[string]int{}
	for i, n := range b.Names {
		inB[n] = i
	}
	usedB := map[int]bool{}
	for i, n := range a.Names {
		names, cols = append(names, "A: "+n), append(cols, col{0, i})
		if j, ok := inB[n]; ok {
			names, cols = append(names, "B: "+n), append(cols, col{1, j})
			usedB[j] = true
		}
	}
	for j, n := range b.Names {
		if !usedB[j] {
			names, cols = append(names, "B: "+n), append(cols, col{1, j})
		}
	}
	key := func(rows []tableRow) []string {
		var keys []string
		group := ""
		seen := map[string]int{}
		for _, r := range rows {
			if !r.Indent {
				group = r.Label
			}
			k := group + "\x00" + r.Label
			seen[k]++
			keys = append(keys, fmt.Sprintf("%s\x00%d", k, seen[k]))
		}
		return keys
	}
	ka, kb := key(a.Rows), key(b.Rows)
	rowB := map[string]tableRow{}
	for i, k := range kb {
		rowB[k] = b.Rows[i]
	}
	var order []string
	rowA := map[string]tableRow{}
	for i, k := range ka {
		rowA[k] = a.Rows[i]
		order = append(order, k)
	}
	// B's rows A lacks go after the row B has before them.
	for i, k := range kb {
		if _, ok := rowA[k]; ok {
			continue
		}
		at := 0
		if i > 0 {
			for j, o := range order {
				if o == kb[i-1] {
					at = j + 1
				}
			}
		}
		order = append(order[:at], append([]string{k}, order[at:]...)...)
		rowA[k] = tableRow{Label: b.Rows[i].Label, Indent: b.Rows[i].Indent}
	}
	var out []mergedRow
	for _, k := range order {
		ra, rb := rowA[k], rowB[k]
		mr := mergedRow{Label: ra.Label, Indent: ra.Indent}
		if len(ra.Cells) == 0 && len(rb.Cells) == 0 {
			out = append(out, mr)
			continue
		}
		cell := func(r tableRow, i int) string {
			if i < len(r.Cells) {
				return r.Cells[i]
			}
			return ""
		}
		for _, c := range cols {
			if c.side == 0 {
				mr.Cells = append(mr.Cells, mergedCell{Text: cell(ra, c.idx)})
				continue
			}
			t := cell(rb, c.idx)
			diff := true
			if ai, ok := indexOf(a.Names, b.Names[c.idx]); ok {
				diff = cell(ra, ai) != t
			}
			mr.Cells = append(mr.Cells, mergedCell{Text: t, Diff: diff})
		}
		out = append(out, mr)
	}
	return names, out
}

func indexOf(s []string, v string) (int, bool) {
	for i, x := range s {
		if x == v {
			return i, true
		}
	}
	return 0, false
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
	for _, d := range c.Deltas {
		if d.Delta == 0 {
			continue
		}
		row := deltaRow{Variant: d.Variant, Metric: d.Metric, A: num(d.A), B: num(d.B), Delta: num(d.Delta), Class: deltaClass(d.Metric, d.Delta)}
		if d.Delta > 0 {
			row.Delta = "+" + row.Delta
		}
		if d.A != 0 && !math.IsInf(d.Relative, 0) {
			row.Relative = fmt.Sprintf("%+.1f %%", 100*d.Relative)
		}
		cp.Deltas = append(cp.Deltas, row)
	}
	cp.Names, cp.Rows = mergeTables(cp.A, cp.B)
	p.Verdict = verdict{Class: "neutral", Text: fmt.Sprintf("%d of %d metrics changed", len(cp.Deltas), len(c.Deltas))}
	p.Compare = cp
	p.Subtitle = fmt.Sprintf("A: %s (profile %s, seed %d) · B: %s (profile %s, seed %d)", a.Dir, a.Summary.Profile, a.Summary.Seed,
		b.Dir, b.Summary.Profile, b.Summary.Seed)
	if err := writePage(filepath.Join(dir, "index.html"), p); err != nil {
		return nil, err
	}
	return plots, nil
}
