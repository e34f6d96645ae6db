package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/regstorm/regstorm/internal/scenario"
	"github.com/regstorm/regstorm/profiles"
	"github.com/regstorm/regstorm/report"
	"github.com/regstorm/regstorm/results"
)

// cmdCapacity searches the design objective capacity of a profile.
func cmdCapacity(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("capacity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setUsage(fs, "regstorm capacity PROFILE [flags]")
	variant := fs.String("variant", "", "variant to load (default: the first)")
	from := fs.Float64("from", 500, "first offered rate, registrations per second")
	step := fs.Float64("step", 500, "rate increase per step")
	steps := fs.Int("steps", 20, "at most this many steps")
	duration := fs.Duration("duration", 20*time.Second, "virtual time each step offers load")
	limit := fs.Float64("limit", 0.001, "tolerated share of inadequately handled registrations (0.001 = 0.1 %)")
	threshold := fs.Duration("threshold", 2*time.Second, "a registration slower than this is inadequately handled")
	out := fs.String("out", "", "write capacity.json, the curve (capacity.png, capacity.svg) and index.html to DIR")
	var sets multiFlag
	fs.Var(&sets, "set", "override a profile key (repeatable)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if len(pos) != 1 {
		return badInput("usage: regstorm capacity PROFILE [--variant NAME] [--from R] [--step R] [--steps N] [--duration D] [--limit F] [--threshold D] [--out DIR]")
	}
	p, err := profiles.Load(pos[0], sets)
	if err != nil {
		return usageError{err}
	}
	opts := scenario.CapacityOptions{Variant: *variant, From: *from, Step: *step, Steps: *steps, Duration: *duration,
		Limit: *limit, Threshold: *threshold}
	if isTerminal(stderr) {
		opts.OnStep = func(s results.CapacityStep) {
			fmt.Fprintf(stderr, "  %.0f/s: offered %.1f/s, achieved %.1f/s, %.3f %% inadequate\n", s.Rate, s.OfferedPerS, s.AchievedPerS, 100*s.Inadequate)
		}
	}
	c, err := scenario.Capacity(p, opts)
	if err != nil {
		return usageError{err}
	}
	if err := c.WriteText(stdout); err != nil {
		return err
	}
	if *out != "" {
		if err := c.Write(*out); err != nil {
			return err
		}
		if err := report.Capacity(c, *out); err != nil {
			return err
		}
	}
	if len(c.Steps) > 0 && !c.Steps[0].Pass {
		return &expectationError{title: "no capacity found:", failures: []string{fmt.Sprintf(
			"even the first step (%g registrations/s) misses the limit: the capacity is below it; start lower with --from", c.Steps[0].Rate)}}
	}
	return nil
}
