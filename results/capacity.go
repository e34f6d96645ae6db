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

// CapacityStep is one offered rate of a capacity search.
type CapacityStep struct {
	Rate       float64 `json:"rate_per_s"`
	Attempted  uint64  `json:"attempted"`
	Succeeded  uint64  `json:"succeeded"`
	Failed     uint64  `json:"failed"`
	Slow       uint64  `json:"slow"`
	Inadequate float64 `json:"inadequate_share"`
	P99MS      float64 `json:"registration_p99_ms"`
	Pass       bool    `json:"pass"`
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
	fmt.Fprintf(&b, "%12s %10s %10s %8s %8s %12s %10s  %s\n", "rate/s", "attempted", "succeeded", "failed", "slow", "inadequate", "p99 ms", "")
	for _, s := range c.Steps {
		v := "pass"
		if !s.Pass {
			v = "FAIL"
		}
		fmt.Fprintf(&b, "%12.1f %10d %10d %8d %8d %11.3f%% %10.1f  %s\n", s.Rate, s.Attempted, s.Succeeded, s.Failed, s.Slow, 100*s.Inadequate, s.P99MS, v)
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
	var pts, p99 plotter.XYs
	for _, s := range c.Steps {
		pts = append(pts, plotter.XY{X: s.Rate, Y: 100 * s.Inadequate})
		p99 = append(p99, plotter.XY{X: s.Rate, Y: s.P99MS})
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
	lat.Legend.Add("p99", l2, sc2)
	lat.Legend.Left = true
	return saveStack(filepath.Join(dir, "capacity"), []*plot.Plot{ihs, lat}, 8*vg.Inch, 8*vg.Inch)
}
