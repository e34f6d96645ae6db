package report

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"

	"github.com/regstorm/regstorm/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// CapacityPlots draws a capacity search's curve into dir (capacity.png,
// capacity.svg), the design objective capacity marked on every panel.
func CapacityPlots(c *results.Capacity, dir string) error {
	panels, err := capacityPanels(c)
	if err != nil || panels == nil {
		return err
	}
	_, err = saveFigure(filepath.Join(dir, "capacity"), panels, wideWidth, 11*vg.Inch)
	return err
}

func capacityPanels(c *results.Capacity) ([]*panel, error) {
	if len(c.Steps) == 0 {
		return nil, nil
	}
	const x = "offered registrations per second (step rate)"
	ihs := newPanel(fmt.Sprintf("Capacity search: %s / %s", c.Profile, c.Variant), x, "inadequately handled (%)")
	lat := newPanel("Registration p99 latency by offered rate", x, "p99 latency (ms, log scale)")
	lat.p.Y.Scale = plot.LogScale{}
	lat.p.Y.Tick.Marker = logTicks{}
	thr := newPanel("Achieved against offered rate", x, "registrations per second")
	var pts, p99, p99all, offered, achieved plotter.XYs
	for _, s := range c.Steps {
		pts = append(pts, plotter.XY{X: s.Rate, Y: 100 * s.Inadequate})
		p99 = append(p99, plotter.XY{X: s.Rate, Y: max(s.P99OKMS, 0.001)})
		p99all = append(p99all, plotter.XY{X: s.Rate, Y: max(s.P99AllMS, 0.001)})
		offered = append(offered, plotter.XY{X: s.Rate, Y: s.OfferedPerS})
		achieved = append(achieved, plotter.XY{X: s.Rate, Y: s.AchievedPerS})
	}
	label := "design objective capacity " + formatNumber(c.Capacity) + "/s"
	for _, pn := range []*panel{ihs, lat, thr} {
		pn.add("", &vline{x: c.Capacity, label: label})
		pn.p.X.Tick.Marker = withTick{Ticker: linearTicks{}, v: c.Capacity, label: formatNumber(c.Capacity)}
	}
	add := func(pn *panel, xy plotter.XYs, label string, i int, dash []vg.Length) error {
		l, sc, err := plotter.NewLinePoints(xy)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		l.Color, sc.Color, l.Width, l.Dashes = variantColor(i), variantColor(i), vg.Points(2), dash
		sc.Shape = draw.CircleGlyph{}
		pn.add(label, l, sc)
		return nil
	}
	if err := add(ihs, pts, "inadequately handled", 0, nil); err != nil {
		return nil, err
	}
	lim, err := line(plotter.XYs{{X: c.Steps[0].Rate, Y: 100 * c.Limit}, {X: c.Steps[len(c.Steps)-1].Rate, Y: 100 * c.Limit}},
		variantColor(3), vg.Points(1.5), []vg.Length{vg.Points(5), vg.Points(3)})
	if err != nil {
		return nil, err
	}
	ihs.add(fmt.Sprintf("limit %g %%", 100*c.Limit), lim)
	ihs.p.Y.Min = 0
	if err := add(lat, p99, "p99, successes only", 0, nil); err != nil {
		return nil, err
	}
	if err := add(lat, p99all, "p99, every outcome", 1, []vg.Length{vg.Points(5), vg.Points(3)}); err != nil {
		return nil, err
	}
	if err := add(thr, offered, "offered (measured)", 0, nil); err != nil {
		return nil, err
	}
	if err := add(thr, achieved, "achieved (succeeded)", 1, []vg.Length{vg.Points(5), vg.Points(3)}); err != nil {
		return nil, err
	}
	for _, pn := range []*panel{ihs, lat, thr} {
		pn.addEntry(label, vlineThumb{})
	}
	return []*panel{ihs, lat, thr}, nil
}

// vline marks an x value across the data area, labelled at its top.
type vline struct {
	x     float64
	label string
}

var markColor = color.NRGBA{R: 0x20, G: 0x20, B: 0x20, A: 0xff}

func (v *vline) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x := trX(v.x)
	if x < c.Min.X || x > c.Max.X {
		return
	}
	c.StrokeLine2(draw.LineStyle{Color: markColor, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}},
		x, c.Min.Y, x, c.Max.Y)
	sty := p.X.Tick.Label
	sty.Color = markColor
	sty.YAlign = draw.YTop
	sty.XAlign = draw.XRight
	at := x - vg.Points(4)
	if x-c.Min.X < sty.Width(v.label)+vg.Points(8) {
		sty.XAlign, at = draw.XLeft, x+vg.Points(4)
	}
	c.FillText(sty, vg.Point{X: at, Y: c.Max.Y - vg.Points(3)}, v.label)
}

// DataRange keeps the marked value in the x range.
func (v *vline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return v.x, v.x, math.Inf(1), math.Inf(-1)
}

type vlineThumb struct{}

func (vlineThumb) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(draw.LineStyle{Color: markColor, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}},
		x, c.Min.Y, x, c.Max.Y)
}
