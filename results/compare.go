package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Delta is one metric of one variant in two runs.
type Delta struct {
	Variant string  `json:"variant"`
	Metric  string  `json:"metric"`
	A       float64 `json:"a"`
	B       float64 `json:"b"`
	Delta   float64 `json:"delta"`
	// Relative is Delta/A; 0 when A is 0.
	Relative float64 `json:"relative"`
}

// Comparison pairs the variants of two runs.
type Comparison struct {
	A, B   string  `json:"-"`
	Deltas []Delta `json:"deltas"`
}

// flatten lists a variant's numeric metrics by JSON path, sorted.
func flatten(v *VariantSummary) (map[string]float64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	out := map[string]float64{}
	var walk func(prefix string, n any)
	walk = func(prefix string, n any) {
		switch x := n.(type) {
		case float64:
			out[prefix] = x
		case map[string]any:
			for k, c := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, c)
			}
		}
	}
	walk("", root)
	return out, nil
}

// pairs matches variants by name, or by position when the names differ
// (two builds whose variants were named differently).
func pairs(a, b *Summary) [][2]*VariantSummary {
	var out [][2]*VariantSummary
	byName := map[string]*VariantSummary{}
	for i := range b.Variants {
		byName[b.Variants[i].Name] = &b.Variants[i]
	}
	for i := range a.Variants {
		if vb, ok := byName[a.Variants[i].Name]; ok {
			out = append(out, [2]*VariantSummary{&a.Variants[i], vb})
		}
	}
	if len(out) == 0 {
		for i := 0; i < min(len(a.Variants), len(b.Variants)); i++ {
			out = append(out, [2]*VariantSummary{&a.Variants[i], &b.Variants[i]})
		}
	}
	return out
}

// Compare computes the deltas of every numeric metric of paired variants.
func Compare(a, b *Run) (*Comparison, error) {
	c := &Comparison{A: a.Dir, B: b.Dir}
	ps := pairs(&a.Summary, &b.Summary)
	if len(ps) == 0 {
		return nil, fmt.Errorf("no variants to compare: %s has %v, %s has %v", a.Dir, a.Variants(), b.Dir, b.Variants())
	}
	for _, p := range ps {
		fa, err := flatten(p[0])
		if err != nil {
			return nil, err
		}
		fb, err := flatten(p[1])
		if err != nil {
			return nil, err
		}
		keys := map[string]bool{}
		for k := range fa {
			keys[k] = true
		}
		for k := range fb {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		name := p[0].Name
		if p[1].Name != name {
			name += "/" + p[1].Name
		}
		for _, k := range sorted {
			d := Delta{Variant: name, Metric: k, A: fa[k], B: fb[k], Delta: fb[k] - fa[k]}
			if d.A != 0 {
				d.Relative = d.Delta / math.Abs(d.A)
			}
			c.Deltas = append(c.Deltas, d)
		}
	}
	return c, nil
}

// WriteText prints the deltas; with changedOnly, unchanged metrics are
// left out and their count is reported.
func (c *Comparison) WriteText(w io.Writer, changedOnly bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "variant\tmetric\tA\tB\tdelta\tdelta %%\t\n")
	same := 0
	for _, d := range c.Deltas {
		if changedOnly && d.Delta == 0 {
			same++
			continue
		}
		rel := ""
		if d.A != 0 {
			rel = strconv.FormatFloat(100*d.Relative, 'f', 2, 64) + "%"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", d.Variant, d.Metric, num(d.A), num(d.B), num(d.Delta), rel)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if changedOnly {
		_, err := fmt.Fprintf(w, "%d metrics changed, %d unchanged (A = %s, B = %s)\n", len(c.Deltas)-same, same, c.A, c.B)
		return err
	}
	return nil
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', 7, 64) }

// WriteJSON prints the comparison deterministically.
func (c *Comparison) WriteJSON(w io.Writer) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// benchMetrics are the metrics printed in Go benchmark format, with their
// benchstat unit names: "all" is every outcome's latency, "ok" the
// successes' only.
var benchMetrics = []struct{ path, unit string }{
	{"latency_ms.registration.all.p50", "reg-all-p50-ms"}, {"latency_ms.registration.all.p95", "reg-all-p95-ms"},
	{"latency_ms.registration.all.p99", "reg-all-p99-ms"}, {"latency_ms.registration.all.p999", "reg-all-p99.9-ms"},
	{"latency_ms.registration.ok.p50", "reg-ok-p50-ms"}, {"latency_ms.registration.ok.p99", "reg-ok-p99-ms"},
	{"latency_ms.registration.ok.p999", "reg-ok-p99.9-ms"}, {"latency_ms.challenge.ok.p50", "challenge-p50-ms"},
	{"latency_ms.challenge.ok.p99", "challenge-p99-ms"}, {"callbacks.mar.completion_rate", "mar-completion"},
	{"callbacks.sar.completion_rate", "sar-completion"}, {"registrations.succeeded", "succeeded"},
	{"registrations.failed", "failed"}, {"registrations.share.succeeded", "success-share"},
	{"throughput_per_s.offered.mean", "offered-per-s"}, {"throughput_per_s.achieved.mean", "achieved-per-s"},
	{"throughput_per_s.achieved.peak", "achieved-peak-per-s"}, {"throughput_per_s.failed.mean", "failed-per-s"},
}

// WriteBench prints a run in Go benchmark format, one line per variant, so
// benchstat can compare runs of many seeds:
//
//	regstorm report --format bench DIR >> old.txt; benchstat old.txt new.txt
//
// label, if set, is added to the name as /run=label (benchstat -col /run).
func WriteBench(w io.Writer, s *Summary, label string) error {
	for i := range s.Variants {
		v := &s.Variants[i]
		name := "BenchmarkRegstorm/profile=" + benchName(s.Profile) + "/variant=" + benchName(v.Name)
		if label != "" {
			name += "/run=" + benchName(label)
		}
		var b strings.Builder
		b.WriteString(name + " 1")
		for _, m := range benchMetrics {
			if v.notMeasured(m.path) {
				continue
			}
			x, err := v.Metric(m.path)
			if err != nil {
				return err
			}
			b.WriteString(" " + strconv.FormatFloat(x, 'g', -1, 64) + " " + m.unit)
		}
		b.WriteString("\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

func benchName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '/' || r == '=' {
			return '_'
		}
		return r
	}, s)
}

// Overlay builds a run whose variants are both runs' variants, named
// "A: x" and "B: x", for plots that overlay before and after.
func Overlay(a, b *Run, dir string) *Run {
	o := &Run{Dir: dir, Hists: map[string]map[string]*hdr.Histogram{}, Series: map[string][]SeriesRow{}}
	o.Summary = Summary{Profile: a.Summary.Profile + " vs " + b.Summary.Profile, Seed: a.Summary.Seed}
	for _, r := range []struct {
		tag string
		run *Run
	}{{"A", a}, {"B", b}} {
		for _, v := range r.run.Summary.Variants {
			name := r.tag + ": " + v.Name
			vv := v
			vv.Name = name
			o.Summary.Variants = append(o.Summary.Variants, vv)
			o.Hists[name] = r.run.Hists[v.Name]
			o.Series[name] = r.run.Series[v.Name]
		}
	}
	return o
}
