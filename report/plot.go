package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/regstorm/regstorm/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Plot is one rendered figure: its files (without extension) and title.
type Plot struct {
	Name  string // file name without extension; .png and .svg are written
	Title string
}

// metricTitle names a latency metric for people.
var metricTitle = map[string]string{
	"registration.all": "Registration latency, every outcome (intended send to final response)",
	"registration.ok":  "Registration latency, successes only (intended send to 2xx)",
	"challenge.ok":     "Challenge latency (intended send to 401)",
	"mar_rtt":          "MAR round trip at the S-CSCF",
	"sar_rtt":          "SAR round trip at the S-CSCF",
	"hss_mar":          "HSS MAR latency (arrival to answer)",
	"hss_queue":        "HSS queue wait",
}

// latencyPlots are the latency figures: file name suffix and metric.
var latencyPlots = []struct{ name, metric string }{
	{"registration", "registration.all"}, {"registration-ok", "registration.ok"}, {"challenge", "challenge.ok"},
	{"mar_rtt", "mar_rtt"},
}

func variantColor(i int) color.Color { return plotutil.Color(i) }

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

// RenderPlots writes every figure of a run as PNG and SVG into its
// directory and returns them in display order.
func RenderPlots(r *results.Run) ([]Plot, error) {
	var out []Plot
	save := func(name, title string, p *plot.Plot, w, h vg.Length) error {
		for _, ext := range []string{".png", ".svg"} {
			if err := p.Save(w, h, filepath.Join(r.Dir, name+ext)); err != nil {
				return fmt.Errorf("report: saving %s%s: %w", name, ext, err)
			}
		}
		out = append(out, Plot{Name: name, Title: title})
		return nil
	}
	for _, lp := range latencyPlots {
		m := lp.metric
		if !anyCount(r, m) || m == "registration.ok" && !someFailed(r) {
			continue // successes only is every outcome when nothing failed
		}
		p, err := histogramPlot(r, m)
		if err != nil {
			return nil, err
		}
		if err := save("latency-"+lp.name, p.Title.Text, p, 8*vg.Inch, 4.5*vg.Inch); err != nil {
			return nil, err
		}
		p, err = percentilePlot(r, m)
		if err != nil {
			return nil, err
		}
		if err := save("percentiles-"+lp.name, p.Title.Text, p, 8*vg.Inch, 4.5*vg.Inch); err != nil {
			return nil, err
		}
	}
	if err := timeseriesFigure(r, &out); err != nil {
		return nil, err
	}
	p, err := callbackPlot(r)
	if err != nil {
		return nil, err
	}
	if err := save("callbacks", p.Title.Text, p, 8*vg.Inch, 4.5*vg.Inch); err != nil {
		return nil, err
	}
	return out, nil
}

// someFailed reports whether a variant's registrations saw a failure.
func someFailed(r *results.Run) bool {
	for _, v := range r.Summary.Variants {
		if l := v.LatencyMS.Registration; l.OK.Count != l.All.Count {
			return true
		}
	}
	return false
}

func anyCount(r *results.Run, metric string) bool {
	for _, v := range r.Variants() {
		if h := r.Hists[v][metric]; h != nil && h.TotalCount() > 0 {
			return true
		}
	}
	return false
}

// histogramPlot draws the latency distribution with log-spaced bins (10
// per decade), as a step line per variant so variants overlay.
func histogramPlot(r *results.Run, metric string) (*plot.Plot, error) {
	p := newPlot(metricTitle[metric]+": histogram", "latency (ms, log scale)", "share of samples per bin (%)")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	const perDecade = 10
	for i, name := range r.Variants() {
		h := r.Hists[name][metric]
		if h == nil || h.TotalCount() == 0 {
			continue
		}
		bins := map[int]float64{}
		lo, hi := math.MaxInt, math.MinInt
		for _, b := range h.Distribution() {
			if b.Count == 0 {
				continue
			}
			mid := (float64(b.From) + float64(b.To)) / 2 / 1000 // ms
			if mid <= 0 {
				mid = 0.001
			}
			k := int(math.Floor(math.Log10(mid) * perDecade))
			bins[k] += float64(b.Count)
			lo, hi = min(lo, k), max(hi, k)
		}
		total := float64(h.TotalCount())
		var pts plotter.XYs
		for k := lo; k <= hi+1; k++ {
			x := math.Pow(10, float64(k)/perDecade)
			pts = append(pts, plotter.XY{X: x, Y: 100 * bins[k] / total})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PostStep
		l.Color = variantColor(i)
		l.Width = vg.Points(2.2 - 0.6*float64(i%2))
		l.Dashes = variantDashes(i)
		p.Add(l)
		p.Legend.Add(name, l)
	}
	return p, nil
}

// percentilePlot is HdrHistogram's percentile distribution: latency against
// 1/(1-q) on a log axis, so the tail gets the room.
func percentilePlot(r *results.Run, metric string) (*plot.Plot, error) {
	p := newPlot(metricTitle[metric]+": percentiles", "percentile", "latency (ms)")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = percentileTicks{}
	for i, name := range r.Variants() {
		h := r.Hists[name][metric]
		if h == nil || h.TotalCount() == 0 {
			continue
		}
		var pts plotter.XYs
		for _, b := range h.CumulativeDistributionWithTicks(5) {
			q := b.Quantile / 100
			if q >= 1 {
				q = 1 - 1e-6
			}
			pts = append(pts, plotter.XY{X: 1 / (1 - q), Y: float64(b.ValueAt) / 1000})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.Color = variantColor(i)
		l.Width = vg.Points(2.2 - 0.6*float64(i%2))
		l.Dashes = variantDashes(i)
		p.Add(l)
		p.Legend.Add(name, l)
	}
	p.Legend.Top, p.Legend.Left = true, true
	return p, nil
}

// percentileTicks labels 1/(1-q) as percentiles: 0 %, 90 %, 99 %, ...
type percentileTicks struct{}

func (percentileTicks) Ticks(min, max float64) []plot.Tick {
	ts := []plot.Tick{{Value: 1, Label: "0%"}}
	label := "9"
	for x := 10.0; x <= max*1.0001; x *= 10 {
		text := label + "%"
		if len(label) > 2 {
			text = label[:2] + "." + label[2:] + "%"
		}
		ts = append(ts, plot.Tick{Value: x, Label: text})
		label += "9"
	}
	return ts
}

// variantDashes tells overlapping variants apart: identical curves (the
// point of an A/B run that changes only a route) stay visible.
func variantDashes(i int) []vg.Length {
	switch i % 3 {
	case 1:
		return []vg.Length{vg.Points(6), vg.Points(3)}
	case 2:
		return []vg.Length{vg.Points(2), vg.Points(2)}
	}
	return nil
}

// timeseriesFigure stacks throughput, transactions in flight and p99
// latency per virtual second, variants overlaid; a second in which nothing
// ended has no latency, and the latency lines break there.
func timeseriesFigure(r *results.Run, out *[]Plot) error {
	thr := newPlot("Registrations per virtual second", "virtual time (s)", "per second")
	inf := newPlot("S-CSCF transactions in flight", "virtual time (s)", "transactions (max in the second)")
	lat := newPlot("Registration latency per second of completion", "virtual time (s)", "p99 latency (ms)")
	any := false
	for i, name := range r.Variants() {
		rows := r.Series[name]
		if len(rows) == 0 {
			continue
		}
		any = true
		var off, ok, fail, susp, wait plotter.XYs
		for _, row := range rows {
			x := float64(row.Second)
			off = append(off, plotter.XY{X: x, Y: row.Offered})
			ok = append(ok, plotter.XY{X: x, Y: row.Succeeded})
			fail = append(fail, plotter.XY{X: x, Y: row.Failed})
			susp = append(susp, plotter.XY{X: x, Y: row.Suspended})
			wait = append(wait, plotter.XY{X: x, Y: row.OnWait})
		}
		c := variantColor(i)
		width := vg.Points(2.2 - 0.8*float64(i%2))
		for _, s := range []struct {
			p     *plot.Plot
			xy    plotter.XYs
			label string
			dash  []vg.Length
		}{
			{thr, ok, name + " succeeded", nil}, {thr, off, name + " offered", []vg.Length{vg.Points(2), vg.Points(2)}},
			{thr, fail, name + " failed", []vg.Length{vg.Points(6), vg.Points(2)}},
			{inf, susp, name + " suspended", nil}, {inf, wait, name + " on WAIT", []vg.Length{vg.Points(4), vg.Points(2)}},
		} {
			l, err := plotter.NewLine(s.xy)
			if err != nil {
				return err
			}
			l.Color, l.Width, l.Dashes = c, width, s.dash
			s.p.Add(l)
			s.p.Legend.Add(s.label, l)
		}
		for _, s := range []struct {
			get   func(r *results.SeriesRow) float64
			label string
			dash  []vg.Length
		}{
			{func(r *results.SeriesRow) float64 { return r.P99MS }, name + " p99, every outcome", nil},
			{func(r *results.SeriesRow) float64 { return r.OKP99MS }, name + " p99, successes only", []vg.Length{vg.Points(4), vg.Points(2)}},
		} {
			if err := addSegments(lat, rows, s.get, s.label, c, width, s.dash); err != nil {
				return err
			}
		}
	}
	if !any {
		return nil
	}
	if err := saveStack(filepath.Join(r.Dir, "timeseries"), []*plot.Plot{thr, inf, lat}, 9*vg.Inch, 10*vg.Inch); err != nil {
		return err
	}
	*out = append(*out, Plot{Name: "timeseries", Title: "Time series: throughput, transactions in flight, p99 latency"})
	return nil
}

// addSegments draws a per-second value as lines over the runs of
// consecutive seconds that have one (NaN and missing seconds break it); a
// lone second is a point.
func addSegments(p *plot.Plot, rows []results.SeriesRow, get func(r *results.SeriesRow) float64, label string, c color.Color, w vg.Length, dash []vg.Length) error {
	var seg plotter.XYs
	legend := false
	flush := func() error {
		if len(seg) == 0 {
			return nil
		}
		l, err := plotter.NewLine(seg)
		if err != nil {
			return err
		}
		l.Color, l.Width, l.Dashes = c, w, dash
		p.Add(l)
		if len(seg) == 1 {
			sc, err := plotter.NewScatter(seg)
			if err != nil {
				return err
			}
			sc.Color, sc.Radius = c, w
			p.Add(sc)
		}
		if !legend {
			p.Legend.Add(label, l)
			legend = true
		}
		seg = nil
		return nil
	}
	prev := -2
	for i := range rows {
		y := get(&rows[i])
		if math.IsNaN(y) || rows[i].Second != prev+1 {
			if err := flush(); err != nil {
				return err
			}
		}
		prev = rows[i].Second
		if !math.IsNaN(y) {
			seg = append(seg, plotter.XY{X: float64(rows[i].Second), Y: y})
		}
	}
	return flush()
}

func writeTo(path string, w func(f io.Writer) (int64, error)) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := w(f); err != nil {
		f.Close()
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	return f.Close()
}

// callbackPlot stacks, per variant and callback, the callbacks whose route
// ran and those that did not, by reason.
func callbackPlot(r *results.Run) (*plot.Plot, error) {
	p := newPlot("Diameter callbacks: did the reply route run?", "", "callbacks")
	p.X.Tick.Label.Rotation = 0
	type col struct {
		label string
		cb    results.CallbackSummary
	}
	var cols []col
	for _, v := range r.Summary.Variants {
		for _, k := range []struct {
			name string
			cb   results.CallbackSummary
		}{{"MAR", v.Callbacks.MAR}, {"SAR", v.Callbacks.SAR}, {"resync", v.Callbacks.Resync}} {
			if k.cb.Invoked > 0 || k.name != "resync" {
				cols = append(cols, col{v.Name + "\n" + k.name, k.cb})
			}
		}
	}
	reasons := map[string]bool{}
	for _, c := range cols {
		for k := range c.cb.NotExecuted {
			reasons[k] = true
		}
	}
	layers := append([]string{"route executed"}, sortedKeys(reasons)...)
	var below *plotter.BarChart
	width := vg.Points(math.Min(60, 360/float64(max(1, len(cols)))))
	for li, layer := range layers {
		vals := make(plotter.Values, len(cols))
		for i, c := range cols {
			if li == 0 {
				vals[i] = float64(c.cb.RouteExecuted)
			} else {
				vals[i] = float64(c.cb.NotExecuted[layer])
			}
		}
		b, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, err
		}
		b.Color = plotutil.Color(li + 1)
		if li == 0 {
			b.Color = color.NRGBA{R: 44, G: 160, B: 44, A: 255}
		}
		b.LineStyle.Width = 0
		if below != nil {
			b.StackOn(below)
		}
		below = b
		p.Add(b)
		label := layer
		if li > 0 {
			label = "not run: " + layer
		}
		p.Legend.Add(label, b)
	}
	var names []string
	for _, c := range cols {
		names = append(names, strings.ReplaceAll(c.label, "\n", " "))
	}
	p.NominalX(names...)
	if len(cols) > 4 {
		p.X.Tick.Label.Rotation = math.Pi / 8
		p.X.Tick.Label.XAlign = draw.XRight
	}
	p.Legend.Top, p.Legend.Left = true, false
	p.Y.Min = 0
	p.Y.Max *= 1.35 // room for the legend above the bars
	p.Y.Tick.Marker = countTicks{}
	return p, nil
}

// countTicks puts 4-6 round, integer-labelled ticks on a count axis.
type countTicks struct{}

func (countTicks) Ticks(min, max float64) []plot.Tick {
	if max <= min {
		return nil
	}
	step := math.Pow(10, math.Floor(math.Log10((max-min)/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if (max-min)/(step*m) <= 6 {
			step *= m
			break
		}
	}
	var ts []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ts
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// saveStack draws plots stacked vertically, aligned, into path.png and
// path.svg.
func saveStack(path string, plots []*plot.Plot, w, h vg.Length) error {
	grid := make([][]*plot.Plot, len(plots))
	for i, p := range plots {
		grid[i] = []*plot.Plot{p}
	}
	for _, ext := range []string{".png", ".svg"} {
		var c draw.Canvas
		var write func(path string) error
		if ext == ".png" {
			img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96))
			c = draw.New(img)
			write = func(path string) error { return writeTo(path, vgimg.PngCanvas{Canvas: img}.WriteTo) }
		} else {
			svg := vgsvg.New(w, h)
			c = draw.New(svg)
			write = func(path string) error { return writeTo(path, svg.WriteTo) }
		}
		canv := plot.Align(grid, draw.Tiles{Rows: len(plots), Cols: 1, PadY: vg.Points(12), PadTop: vg.Points(4), PadBottom: vg.Points(4)}, c)
		for i := range grid {
			grid[i][0].Draw(canv[i][0])
		}
		if err := write(path + ext); err != nil {
			return err
		}
	}
	return nil
}
