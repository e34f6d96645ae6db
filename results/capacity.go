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

// Bounded reports whether the search found the limit: some step missed it.
// When every step passed, the capacity is a lower bound (the last step's
// rate): the search should go higher (--steps, --step).
func (c *Capacity) Bounded() bool {
	for _, s := range c.Steps {
		if !s.Pass {
			return true
		}
	}
	return false
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
	if c.Bounded() || len(c.Steps) == 0 {
		fmt.Fprintf(&b, "design objective capacity: %.1f registrations/s\n", c.Capacity)
	} else {
		fmt.Fprintf(&b, "design objective capacity: at least %.1f registrations/s (every step passed; search higher with --steps or --step)\n", c.Capacity)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Write stores capacity.json in dir (package report draws the curve).
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
	return nil
}
