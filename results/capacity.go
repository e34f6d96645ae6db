package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// CapacityStep is one offered rate of a capacity search. Rate is the
// step's nominal rate; OfferedPerS and AchievedPerS are what the step
// measured over its active window (first intended send to last
// completion: throughput_per_s.offered.mean and .achieved.mean of its
// summary).
type CapacityStep struct {
	Rate         float64 `json:"rate_per_s"`
	OfferedPerS  float64 `json:"offered_per_s"`
	AchievedPerS float64 `json:"achieved_per_s"`
	Attempted    uint64  `json:"attempted"`
	Succeeded    uint64  `json:"succeeded"`
	Failed       uint64  `json:"failed"`
	Slow         uint64  `json:"slow"`
	Inadequate   float64 `json:"inadequate_share"`
	// P99OKMS is the successes' p99 latency, P99AllMS every outcome's.
	P99OKMS  float64 `json:"registration_ok_p99_ms"`
	P99AllMS float64 `json:"registration_all_p99_ms"`
	Pass     bool    `json:"pass"`
}

// Capacity is the result of a search: the design objective capacity and
// the curve.
type Capacity struct {
	Profile     string         `json:"profile"`
	Variant     string         `json:"variant"`
	Seed        uint64         `json:"seed"`
	Limit       float64        `json:"limit"`
	ThresholdMS float64        `json:"threshold_ms"`
	DurationS   float64        `json:"step_duration_s"`
	Capacity    float64        `json:"design_objective_capacity_per_s"`
	Steps       []CapacityStep `json:"steps"`
}

// CountAbove counts the recorded values above d (µs histogram).
func CountAbove(h *hdr.Histogram, d time.Duration) uint64 {
	limit := d.Microseconds()
	var n int64
	for _, b := range h.Distribution() {
		if b.Count > 0 && b.From > limit {
			n += b.Count
		}
	}
	return uint64(n)
}

// WriteText prints the curve and the verdict.
func (c *Capacity) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "capacity search: profile %s, variant %s, seed %d; %g s per step; inadequate = failed or slower than %g ms; limit %g %%\n",
		c.Profile, c.Variant, c.Seed, c.DurationS, c.ThresholdMS, 100*c.Limit)
	fmt.Fprintf(&b, "%10s %10s %10s %10s %10s %8s %8s %11s %10s %10s  %s\n", "rate/s", "offered/s", "achieved/s", "attempted",
		"succeeded", "failed", "slow", "inadequate", "ok p99 ms", "all p99 ms", "")
	for _, s := range c.Steps {
		v := "pass"
		if !s.Pass {
			v = "FAIL"
		}
		fmt.Fprintf(&b, "%10.1f %10.1f %10.1f %10d %10d %8d %8d %10.3f%% %10.1f %10.1f  %s\n", s.Rate, s.OfferedPerS, s.AchievedPerS,
			s.Attempted, s.Succeeded, s.Failed, s.Slow, 100*s.Inadequate, s.P99OKMS, s.P99AllMS, v)
	}
	fmt.Fprintf(&b, "design objective capacity: %.1f registrations/s\n", c.Capacity)
	_, err := w.Write(b.Bytes())
	return err
}

// Write stores capacity.json and the curve (capacity.png, capacity.svg).
func (c *Capacity) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	js, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "capacity.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("results: writing capacity.json: %w", err)
	}
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
