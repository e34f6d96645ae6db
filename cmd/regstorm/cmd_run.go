package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/regstorm/regstorm/internal/scenario"
	"github.com/regstorm/regstorm/results"
)

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.String("seed", "", "run seed (overrides the profile's)")
	out := fs.String("out", "", "write a run directory: summary.json, timeseries.csv, <variant>.<metric>.hlog, run-info.json, "+
		"the plots (PNG, SVG) and index.html, with --records registrations.csv; written aside and put in place when complete")
	junit := fs.String("junit", "", "write the expectations and invariants as JUnit XML to this file")
	trace := fs.String("trace", "", "write a one-line-per-event trace with Kamailio log lines to FILE")
	traceFilter := fs.String("trace-filter", "", "keep only trace lines containing TEXT (e.g. user42@)")
	records := fs.Bool("records", false, "with --out, write registrations.csv: one line per registration procedure")
	noPlots := fs.Bool("no-plots", false, "with --out, skip the plots and index.html (regstorm report renders them later)")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the run to FILE")
	memProfile := fs.String("memprofile", "", "write a Go heap profile at the end of the run to FILE")
	threads := fs.Int("threads", 0, "simulation threads (0: every core); the results do not depend on it")
	var sets multiFlag
	fs.Var(&sets, "set", "override a profile key, e.g. --set hss.mar_latency.p50=30ms (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: regstorm run [PROFILE-FILE|BUILTIN-NAME] [--seed N] [--out DIR] [--set key=value ...]")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if len(pos) > 1 {
		return badInput("run takes one profile, got %d: %v", len(pos), pos)
	}
	p, err := loadProfile(pos, *seed, sets)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := results.CheckReplaceable(*out); err != nil {
			return usageError{err}
		}
	}

	if *threads < 0 {
		return badInput("--threads %d: want 0 (every core) or more", *threads)
	}
	if *threads > 0 {
		// More threads may run more variants side by side than the
		// profile's own check assumed.
		if err := p.CheckMemory(*threads); err != nil {
			return usageError{err}
		}
	}
	stop := &signalStop{}
	opts := scenario.Options{Parallel: true, Threads: *threads, TraceFilter: *traceFilter, Records: *records && *out != "", OnStart: func(vs []*scenario.Variant) {
		stop.watch(func() {
			for _, v := range vs {
				v.Runtime.Interrupt()
			}
		})
	}}
	if isTerminal(stderr) {
		opts.Progress = newProgress(stderr, len(p.Variants)).update
	}
	if *trace != "" {
		f, err := os.Create(*trace)
		if err != nil {
			return fmt.Errorf("creating trace file: %w", err)
		}
		defer f.Close()
		opts.Trace = f
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("creating CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("starting CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	sum, vs, err := scenario.Run(p, opts)
	if *memProfile != "" {
		if err := writeHeapProfile(*memProfile); err != nil {
			return err
		}
	}
	if err != nil {
		return usageError{err}
	}
	wall := time.Since(start)
	interrupted := false
	for _, v := range vs {
		interrupted = interrupted || v.Runtime.Interrupted()
	}
	sum.Interrupted = interrupted
	sum.Expectations = sum.Evaluate(p.Expectations())
	for _, v := range vs {
		sum.Invariants = append(sum.Invariants, variantInvariants(v.Spec.Name, v)...)
	}
	if err := sum.WriteTable(stdout); err != nil {
		return err
	}
	if interrupted {
		fmt.Fprintln(stderr, "regstorm: interrupted; results are partial")
	}
	if *out != "" {
		var names []string
		var cols []*results.Collector
		for _, v := range vs {
			names = append(names, v.Spec.Name)
			cols = append(cols, v.Collector)
		}
		source := "default"
		if len(pos) == 1 {
			source = pos[0]
		}
		py, err := p.YAML()
		if err != nil {
			return err
		}
		if err := writeRunDir(*out, sum, names, cols, runInfo(p.Name, source, wall, interrupted), py, !*noPlots); err != nil {
			return err
		}
	}
	if *junit != "" {
		if err := writeJUnit(*junit, sum); err != nil {
			return err
		}
	}
	var events uint64
	for _, v := range sum.Variants {
		events += v.Events
	}
	used := 0
	for _, v := range vs {
		used = max(used, v.Runtime.Threads())
	}
	fmt.Fprintf(stderr, "wall %.2fs, %d events (%.0f events/s), %d thread(s) per variant\n", wall.Seconds(), events, float64(events)/wall.Seconds(), used)
	return verdict(stdout, sum, len(p.Expectations()), stop)
}

// variantInvariants checks what every run must satisfy once it drained:
// the S-CSCF's tables are consistent (scscf.Invariants) and no
// registration is left in progress. A run cut by its deadline or an
// interrupt has work in flight by design: skipped.
func variantInvariants(name string, v *scenario.Variant) []results.Invariant {
	if !v.Runtime.Stats().Exhausted {
		why := "the run ended at its deadline or an interrupt, with work in flight"
		return []results.Invariant{{Variant: name, Name: "scscf_tables", Skipped: true, Detail: why},
			{Variant: name, Name: "every_registration_ended", Skipped: true, Detail: why}}
	}
	out := []results.Invariant{{Variant: name, Name: "scscf_tables", Passed: true}}
	if err := v.Invariants(); err != nil {
		out[0].Passed, out[0].Detail = false, err.Error()
	}
	left := v.Collector.Attempted - v.Collector.Succeeded - v.Collector.Failed
	inv := results.Invariant{Variant: name, Name: "every_registration_ended", Passed: left == 0}
	if left != 0 {
		inv.Detail = fmt.Sprintf("%d registrations still in progress after the run drained", left)
	}
	return append(out, inv)
}

func runInfo(profile, source string, wall time.Duration, interrupted bool) []byte {
	host, _ := os.Hostname()
	return fmt.Appendf(nil, "{\n  \"profile\": %q,\n  \"source\": %q,\n  \"commit\": %q,\n  \"go\": %q,\n  \"host\": %q,\n  \"started\": %q,\n  \"wall_s\": %.3f,\n  \"interrupted\": %t\n}\n",
		profile, source, commit(), runtime.Version(), host, time.Now().Add(-wall).UTC().Format(time.RFC3339), wall.Seconds(), interrupted)
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating heap profile: %w", err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		return fmt.Errorf("writing heap profile: %w", err)
	}
	return nil
}
