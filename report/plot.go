package report

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"sort"
	"strings"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/regstorm/regstorm/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
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

// metricShort is a metric's title inside a figure, short enough for its
// width (the page's caption has the long one).
var metricShort = map[string]string{
	"registration.all": "Registration latency, every outcome",
	"registration.ok":  "Registration latency, successes only",
	"challenge.ok":     "Challenge latency (to the 401)",
	"mar_rtt":          "MAR round trip at the S-CSCF",
	"sar_rtt":          "SAR round trip at the S-CSCF",
	"hss_mar":          "HSS MAR latency",
	"hss_queue":        "HSS queue wait",
}

// latencyPlots are the percentile figures: file name suffix and metric.
var latencyPlots = []struct{ name, metric string }{
	{"registration", "registration.all"}, {"registration-ok", "registration.ok"}, {"challenge", "challenge.ok"},
	{"mar_rtt", "mar_rtt"},
}

// histogramMetrics are the latency histograms: file name suffix, title
// and metric.
var histogramMetrics = []struct{ name, metric string }{
	{"challenge", "challenge.ok"}, {"mar_rtt", "mar_rtt"},
}

const panelHeight = 4.5 * vg.Inch

// RenderPlots writes every figure of a run as PNG and SVG into its
// directory and returns them in display order.
func RenderPlots(r *results.Run) ([]Plot, error) {
	rf, err := readRunFiles(r.Dir)
	if err != nil {
		return nil, err
	}
	return renderPlots(r, rf.Phases)
}

func renderPlots(r *results.Run, phases []phase) ([]Plot, error) {
	var out []Plot
	save := func(name, title string, panels []*panel, h vg.Length) error {
		w := narrowWidth
		if len(panels) > 1 {
			w = wideWidth
		}
		if _, err := saveFigure(filepath.Join(r.Dir, name), panels, w, h); err != nil {
			return err
		}
		out = append(out, Plot{Name: name, Title: title})
		return nil
	}
	if ts := timeseriesPanels(r, phases); ts != nil {
		if err := save("timeseries", "Time series per virtual second: throughput, in flight, latency", ts, 3.4*vg.Inch*vg.Length(len(ts))); err != nil {
			return nil, err
		}
	}
	if anyCount(r, "registration.all") {
		pn, err := outcomeHistogram(r)
		if err != nil {
			return nil, err
		}
		if err := save("latency-registration", "Registration latency (intended send to final response): histogram of successes and of failures",
			[]*panel{pn}, panelHeight); err != nil {
			return nil, err
		}
	}
	for _, lp := range latencyPlots {
		m := lp.metric
		if !anyCount(r, m) || m == "registration.ok" && !someFailed(r) {
			continue // successes only is every outcome when nothing failed
		}
		pn, err := percentilePanel(r, m)
		if err != nil {
			return nil, err
		}
		if err := save("percentiles-"+lp.name, metricTitle[m]+": percentiles", []*panel{pn}, panelHeight); err != nil {
			return nil, err
		}
	}
	for _, hm := range histogramMetrics {
		if !anyCount(r, hm.metric) {
			continue
		}
		pn, err := histogramPanel(r, hm.metric)
		if err != nil {
			return nil, err
		}
		if err := save("latency-"+hm.name, metricTitle[hm.metric]+": histogram", []*panel{pn}, panelHeight); err != nil {
			return nil, err
		}
	}
	pn, err := callbackPanel(r)
	if err != nil {
		return nil, err
	}
	if err := save("callbacks", pn.p.Title.Text, []*panel{pn}, panelHeight); err != nil {
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

// perDecade is the histograms' resolution: log-spaced bins, 10 a decade.
const perDecade = 10

// logBins adds a histogram's counts into log-spaced bins (key k covers
// [10^(k/10), 10^((k+1)/10)) ms); sign -1 subtracts them.
func logBins(bins map[int]float64, h *hdr.Histogram, sign float64) {
	if h == nil {
		return
	}
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		mid := (float64(b.From) + float64(b.To)) / 2 / 1000 // ms
		if mid <= 0 {
			mid = 0.001
		}
		bins[int(math.Floor(math.Log10(mid)*perDecade))] += sign * float64(b.Count)
	}
}

// stepLine draws bins as a step line of the share of total per bin.
func stepLine(bins map[int]float64, total float64, c color.Color, w vg.Length, dash []vg.Length) (*plotter.Line, error) {
	lo, hi := math.MaxInt, math.MinInt
	for k, n := range bins {
		if n > 0 {
			lo, hi = min(lo, k), max(hi, k)
		}
	}
	if lo > hi || total <= 0 {
		return nil, nil
	}
	var pts plotter.XYs
	for k := lo; k <= hi+1; k++ {
		pts = append(pts, plotter.XY{X: math.Pow(10, float64(k)/perDecade), Y: 100 * max(0, bins[k]) / total})
	}
	l, err := line(pts, c, w, dash)
	if err != nil {
		return nil, err
	}
	l.StepStyle = plotter.PostStep
	return l, nil
}

func logXPanel(title, y string) *panel {
	pn := newPanel(title, "latency (ms, log scale)", y)
	pn.p.X.Scale = plot.LogScale{}
	pn.p.X.Tick.Marker = logTicks{}
	pn.p.Y.Min = 0
	return pn
}

// outcomeHistogram is the registration latency of successes and of
// failures by final code (every code but 2xx, and the UE's Timer F), each
// as a share of all registrations, per variant. A run directory without
// per-code histograms (older runs) shows the failures as one curve.
func outcomeHistogram(r *results.Run) (*panel, error) {
	pn := logXPanel("Registration latency: successes, failures by final code", "share of registrations per bin (%)")
	for i, name := range r.Variants() {
		all, ok := r.Hists[name]["registration.all"], r.Hists[name]["registration.ok"]
		if all == nil || all.TotalCount() == 0 {
			continue
		}
		total := float64(all.TotalCount())
		okBins, failBins := map[int]float64{}, map[int]float64{}
		logBins(okBins, ok, 1)
		logBins(failBins, all, 1)
		logBins(failBins, ok, -1)
		l, err := stepLine(okBins, total, variantColor(i), variantWidth(i), variantDashes(i))
		if err != nil {
			return nil, err
		}
		if l != nil {
			pn.add(name+": succeeded", l)
		}
		// Failures: the same colour, a darker shade and dotted, so the
		// outcomes of a variant read as a group; one curve per final code.
		dashes := [][]vg.Length{{vg.Points(1.5), vg.Points(2)}, {vg.Points(6), vg.Points(2), vg.Points(1.5), vg.Points(2)},
			{vg.Points(4), vg.Points(4)}, {vg.Points(1), vg.Points(4)}}
		var codes []string
		for m := range r.Hists[name] {
			if code, ok := strings.CutPrefix(m, results.CodeMetric); ok && !strings.HasPrefix(code, "2") {
				codes = append(codes, code)
			}
		}
		sort.Strings(codes)
		if len(codes) == 0 {
			failed := r.Summary.Variants[i].Registrations.Failed
			l, err = stepLine(failBins, total, darker(variantColor(i)), variantWidth(i), dashes[i%2])
			if err != nil {
				return nil, err
			}
			if l != nil {
				pn.add(fmt.Sprintf("%s: failed (%s)", name, failedCodes(&r.Summary.Variants[i], failed)), l)
			}
			continue
		}
		for k, code := range codes {
			bins := map[int]float64{}
			logBins(bins, r.Hists[name][results.CodeMetric+code], 1)
			l, err = stepLine(bins, total, darker(variantColor(i)), variantWidth(i), dashes[(k+i)%len(dashes)])
			if err != nil {
				return nil, err
			}
			if l != nil {
				pn.add(fmt.Sprintf("%s: failed %s", name, strings.ReplaceAll(code, "_", " ")), l)
			}
		}
	}
	return pn, nil
}

// failedCodes names a variant's failure codes: "500, 408".
func failedCodes(v *results.VariantSummary, failed uint64) string {
	var codes []string
	for code := range v.Registrations.ByFinalCode {
		if len(code) > 0 && code[0] != '2' {
			codes = append(codes, code)
		}
	}
	sort.Strings(codes)
	s := ""
	for i, c := range codes {
		if i > 0 {
			s += ", "
		}
		if i == 3 {
			s += "…"
			break
		}
		s += c
	}
	if s == "" {
		return formatNumber(float64(failed))
	}
	return s
}

func darker(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{uint8(r >> 9), uint8(g >> 9), uint8(b >> 9), 0xff}
}

// histogramPanel draws a latency distribution with log-spaced bins, a
// step line per variant so variants overlay.
func histogramPanel(r *results.Run, metric string) (*panel, error) {
	pn := logXPanel(metricShort[metric], "share of samples per bin (%)")
	for i, name := range r.Variants() {
		h := r.Hists[name][metric]
		if h == nil || h.TotalCount() == 0 {
			continue
		}
		bins := map[int]float64{}
		logBins(bins, h, 1)
		l, err := stepLine(bins, float64(h.TotalCount()), variantColor(i), variantWidth(i), variantDashes(i))
		if err != nil {
			return nil, err
		}
		if l != nil {
			pn.add(name, l)
		}
	}
	return pn, nil
}

// percentilePoints is HdrHistogram's percentile distribution as points
// (1/(1-q), ms), up to the data's resolution: the largest value sits at
// 1 - 1/n, not at a 99.9999 % the samples cannot resolve.
func percentilePoints(h *hdr.Histogram) plotter.XYs {
	n := float64(h.TotalCount())
	var pts plotter.XYs
	for _, b := range h.CumulativeDistributionWithTicks(5) {
		x := 1 / (1 - b.Quantile/100)
		if b.Quantile >= 100 || x > n {
			x = max(n, 1)
		}
		y := float64(b.ValueAt) / 1000
		if k := len(pts); k > 0 && pts[k-1].X >= x {
			pts[k-1].Y = max(pts[k-1].Y, y)
			continue
		}
		pts = append(pts, plotter.XY{X: x, Y: y})
	}
	return pts
}

// percentilePanel is latency against percentile, 1/(1-q) on a log axis
// so the tail gets the room.
func percentilePanel(r *results.Run, metric string) (*panel, error) {
	pn := newPanel(metricShort[metric]+": percentiles", "percentile", "latency (ms, log scale)")
	pn.p.X.Scale = plot.LogScale{}
	pn.p.X.Tick.Marker = percentileTicks{}
	pn.p.Y.Scale = plot.LogScale{}
	pn.p.Y.Tick.Marker = logTicks{}
	pn.p.X.Min = 1
	for i, name := range r.Variants() {
		h := r.Hists[name][metric]
		if h == nil || h.TotalCount() == 0 {
			continue
		}
		pts := percentilePoints(h)
		for k := range pts {
			pts[k].Y = max(pts[k].Y, 0.001) // a log axis has no 0
		}
		l, err := line(pts, variantColor(i), variantWidth(i), variantDashes(i))
		if err != nil {
			return nil, err
		}
		pn.add(fmt.Sprintf("%s (n = %s)", name, formatNumber(float64(h.TotalCount()))), l)
	}
	return pn, nil
}

// seriesStyle is one quantity of the time series: how to read it and its
// dash (the variant gives the colour).
type seriesStyle struct {
	label string
	get   func(r *results.SeriesRow) float64
	dash  []vg.Length
}

var (
	solid  []vg.Length
	dashed = []vg.Length{vg.Points(6), vg.Points(3)}
	dotted = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
)

// timeseriesPanels stacks throughput, what is in flight and latency per
// virtual second, variants overlaid, the profile's fault phases shaded; a
// second in which nothing ended has no latency, and the latency lines
// break there instead of dropping to 0.
func timeseriesPanels(r *results.Run, phases []phase) []*panel {
	thr := newPanel("Procedures per virtual second", "virtual time (s)", "per second")
	inf := newPanel("In flight (most in the second)", "virtual time (s)", "transactions / queued requests")
	lat := newPanel("Latency of the procedures that ended in the second", "virtual time (s)", "latency (ms, log scale)")
	lat.p.Y.Scale = plot.LogScale{}
	lat.p.Y.Tick.Marker = logTicks{}
	panels := []*panel{thr, inf, lat}
	for _, pn := range panels {
		pn.add("", &shade{phases: phases})
	}
	any := false
	for i, name := range r.Variants() {
		rows := r.Series[name]
		if len(rows) == 0 {
			continue
		}
		any = true
		c, w := variantColor(i), variantWidth(i)
		if i > 0 {
			w = vg.Points(1.4)
		}
		for _, g := range []struct {
			pn *panel
			ss []seriesStyle
		}{
			{thr, []seriesStyle{
				{"offered", func(r *results.SeriesRow) float64 { return r.Offered }, dotted},
				{"succeeded", func(r *results.SeriesRow) float64 { return r.Succeeded }, solid},
				{"failed", func(r *results.SeriesRow) float64 { return r.Failed }, dashed},
			}},
			{inf, []seriesStyle{
				{"S-CSCF suspended", func(r *results.SeriesRow) float64 { return r.Suspended }, solid},
				{"S-CSCF on WAIT", func(r *results.SeriesRow) float64 { return r.OnWait }, dashed},
				{"HSS queue", func(r *results.SeriesRow) float64 { return r.HSSQueue }, dotted},
			}},
			{lat, []seriesStyle{
				{"p99", func(r *results.SeriesRow) float64 { return r.P99MS }, solid},
				{"p50", func(r *results.SeriesRow) float64 { return r.P50MS }, dashed},
				{"p99, successes", func(r *results.SeriesRow) float64 { return r.OKP99MS }, dotted},
			}},
		} {
			for _, s := range g.ss {
				if g.pn == inf && s.label == "HSS queue" && allZero(rows, s.get) {
					continue
				}
				addSegments(g.pn, rows, s.get, name+": "+s.label, c, w, s.dash, g.pn == lat)
			}
		}
	}
	if !any {
		return nil
	}
	if !anyLatency(r) {
		panels = panels[:2] // nothing ended: no latency to draw on a log axis
	}
	// One time axis for every panel, from 0 to the last second.
	end := 0.0
	for _, rows := range r.Series {
		if len(rows) > 0 {
			end = max(end, float64(rows[len(rows)-1].Second+1))
		}
	}
	for _, pn := range panels {
		pn.p.X.Min, pn.p.X.Max = 0, end
		if len(phases) > 0 {
			pn.addEntry("HSS fault phase (shaded)", shadeThumb{})
		}
	}
	return panels
}

func anyLatency(r *results.Run) bool {
	for _, rows := range r.Series {
		for _, row := range rows {
			if row.P99MS > 0 || row.P50MS > 0 || row.OKP99MS > 0 {
				return true
			}
		}
	}
	return false
}

func allZero(rows []results.SeriesRow, get func(r *results.SeriesRow) float64) bool {
	for i := range rows {
		if get(&rows[i]) != 0 {
			return false
		}
	}
	return true
}

// addSegments draws a per-second value as lines over the runs of
// consecutive seconds that have one (NaN and missing seconds break it); a
// lone second is a point. positive drops values ≤ 0 (a log axis).
func addSegments(pn *panel, rows []results.SeriesRow, get func(r *results.SeriesRow) float64, label string, c color.Color,
	w vg.Length, dash []vg.Length, positive bool) {
	var seg plotter.XYs
	legend := false
	flush := func() {
		if len(seg) == 0 {
			return
		}
		l, err := line(seg, c, w, dash)
		if err != nil {
			seg = nil
			return
		}
		ps := []plot.Plotter{l}
		if len(seg) == 1 {
			if sc, err := plotter.NewScatter(seg); err == nil {
				sc.Color, sc.Radius = c, w
				ps = append(ps, sc)
			}
		}
		if !legend {
			pn.add(label, ps...)
			legend = true
		} else {
			pn.add("", ps...)
		}
		seg = nil
	}
	prev := -2
	for i := range rows {
		y := get(&rows[i])
		bad := math.IsNaN(y) || positive && y <= 0
		if bad || rows[i].Second != prev+1 {
			flush()
		}
		prev = rows[i].Second
		if !bad {
			seg = append(seg, plotter.XY{X: float64(rows[i].Second) + 0.5, Y: y})
		}
	}
	flush()
}

// shade draws the fault phases as grey bands over the whole data area,
// each labelled at its top.
type shade struct{ phases []phase }

var shadeColor = color.NRGBA{R: 0xD5, G: 0x5E, B: 0x00, A: 0x28}

func (s *shade) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, ph := range s.phases {
		x0, x1 := max(trX(ph.From), c.Min.X), min(trX(ph.To), c.Max.X)
		if x1 <= x0 {
			continue
		}
		var path vg.Path
		path.Move(vg.Point{X: x0, Y: c.Min.Y})
		path.Line(vg.Point{X: x1, Y: c.Min.Y})
		path.Line(vg.Point{X: x1, Y: c.Max.Y})
		path.Line(vg.Point{X: x0, Y: c.Max.Y})
		path.Close()
		c.SetColor(shadeColor)
		c.Fill(path)
		sty := p.X.Tick.Label
		sty.Color = color.NRGBA{R: 0x80, G: 0x30, B: 0x00, A: 0xff}
		sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
		c.FillText(sty, vg.Point{X: x0 + vg.Points(3), Y: c.Max.Y - vg.Points(3)}, ph.Label)
	}
}

// shadeThumb is a fault phase's legend entry.
type shadeThumb struct{}

func (shadeThumb) Thumbnail(c *draw.Canvas) {
	c.SetColor(color.NRGBA{R: 0xD5, G: 0x5E, B: 0x00, A: 0x60})
	c.Fill(c.Rectangle.Path())
}

// callbackLayer names a callback outcome for people.
func callbackLayer(reason string) string {
	if reason == "" {
		return "reply route ran"
	}
	return "route not run: " + reason
}

// callbackPanel stacks, per variant and callback, the callbacks whose
// route ran and those that did not, by reason.
func callbackPanel(r *results.Run) (*panel, error) {
	pn := newPanel("Diameter callbacks: did the reply route run?", "", "callbacks")
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
				cols = append(cols, col{k.name + "\n" + v.Name, k.cb})
			}
		}
	}
	reasons := map[string]bool{}
	for _, c := range cols {
		for k := range c.cb.NotExecuted {
			reasons[k] = true
		}
	}
	layers := append([]string{""}, sortedKeys(reasons)...)
	var below *plotter.BarChart
	width := vg.Points(math.Min(45, 260/float64(max(1, len(cols)))))
	others := []color.Color{palette[3], palette[1], palette[4], palette[5], palette[6]}
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
			return nil, fmt.Errorf("report: %w", err)
		}
		b.Color = palette[2]
		if li > 0 {
			b.Color = others[(li-1)%len(others)]
		}
		b.LineStyle.Width = 0
		if below != nil {
			b.StackOn(below)
		}
		below = b
		pn.add(callbackLayer(layer), b)
	}
	var names []string
	for _, c := range cols {
		names = append(names, c.label)
	}
	pn.p.NominalX(names...)
	pn.p.X.Tick.Label.Font.Size = vg.Points(10)
	pn.p.Y.Min = 0
	return pn, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
