package report

import (
	"fmt"
	"path/filepath"

	"github.com/regstorm/regstorm/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// CapacityPlots draws a capacity search's curve into dir (capacity.png,
// capacity.svg).
func CapacityPlots(c *results.Capacity, dir string) error {
	ihs := newPlot(fmt.Sprintf("Capacity search: %s / %s (design objective capacity %.0f/s)", c.Profile, c.Variant, c.Capacity),
		"offered registrations per second", "inadequately handled (%)")
	lat := newPlot("Registration latency by offered rate", "offered registrations per second", "p99 latency (ms)")
	thr := newPlot("Achieved against offered rate", "offered registrations per second", "registrations per second")
	var pts, p99, p99all, offered, achieved plotter.XYs
	for _, s := range c.Steps {
		pts = append(pts, plotter.XY{X: s.Rate, Y: 100 * s.Inadequate})
		p99 = append(p99, plotter.XY{X: s.Rate, Y: s.P99OKMS})
		p99all = append(p99all, plotter.XY{X: s.Rate, Y: s.P99AllMS})
		offered = append(offered, plotter.XY{X: s.Rate, Y: s.OfferedPerS})
		achieved = append(achieved, plotter.XY{X: s.Rate, Y: s.AchievedPerS})
	}
	if len(pts) == 0 {
		return nil
	}
	l, sc, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	l.Color, sc.Color = variantColor(0), variantColor(0)
	ihs.Add(l, sc)
	ihs.Legend.Add("inadequately handled", l, sc)
	lim, err := plotter.NewLine(plotter.XYs{{X: c.Steps[0].Rate, Y: 100 * c.Limit}, {X: c.Steps[len(c.Steps)-1].Rate, Y: 100 * c.Limit}})
	if err != nil {
		return err
	}
	lim.Color, lim.Dashes = variantColor(1), []vg.Length{vg.Points(5), vg.Points(3)}
	ihs.Add(lim)
	ihs.Legend.Add(fmt.Sprintf("limit %g %%", 100*c.Limit), lim)
	ihs.Legend.Left = true
	l2, sc2, err := plotter.NewLinePoints(p99)
	if err != nil {
		return err
	}
	l2.Color, sc2.Color = variantColor(2), variantColor(2)
	lat.Add(l2, sc2)
	lat.Legend.Add("p99, successes only", l2, sc2)
	l3, sc3, err := plotter.NewLinePoints(p99all)
	if err != nil {
		return err
	}
	l3.Color, sc3.Color, l3.Dashes = variantColor(3), variantColor(3), []vg.Length{vg.Points(5), vg.Points(3)}
	lat.Add(l3, sc3)
	lat.Legend.Add("p99, every outcome", l3, sc3)
	lat.Legend.Left = true
	for i, s := range []struct {
		xy    plotter.XYs
		label string
	}{{offered, "offered (measured)"}, {achieved, "achieved (succeeded)"}} {
		l, sc, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return err
		}
		l.Color, sc.Color = variantColor(i), variantColor(i)
		thr.Add(l, sc)
		thr.Legend.Add(s.label, l, sc)
	}
	thr.Legend.Left = true
	return saveStack(filepath.Join(dir, "capacity"), []*plot.Plot{ihs, lat, thr}, 8*vg.Inch, 11*vg.Inch)
}
