package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
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
	out := fs.String("out", "", "directory for summary.json, transactions.csv and run-info.json")
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
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return fmt.Errorf("creating --out directory: %w", err)
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
	opts := scenario.Options{Parallel: true, Threads: *threads, TraceFilter: *traceFilter, Records: *records && *out != "", OnStart: func(vs []*scenario.Variant) {
		stopOnSignal(vs)
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
		if err := results.WriteRun(*out, sum, names, cols); err != nil {
			return err
		}
		source := "default"
		if len(pos) == 1 {
			source = pos[0]
		}
		info := runInfo(p.Name, source, wall, interrupted)
		if err := os.WriteFile(filepath.Join(*out, "run-info.json"), info, 0o644); err != nil {
			return fmt.Errorf("writing run info: %w", err)
		}
		if !*noPlots {
			if _, _, err := results.Render(*out); err != nil {
				return err
			}
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
	if exps := p.Expectations(); len(exps) > 0 {
		if fails := sum.Check(exps); len(fails) > 0 {
			ee := &expectationError{}
			for _, f := range fails {
				ee.failures = append(ee.failures, f.String())
			}
			return ee
		}
		fmt.Fprintf(stdout, "all %d expectations met\n", len(exps))
	}
	return nil
}

// stopOnSignal interrupts the runtimes on SIGINT/SIGTERM; the partial
// results are still written.
func stopOnSignal(vs []*scenario.Variant) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, sigterm)
	go func() {
		<-ch
		for _, v := range vs {
			v.Runtime.Interrupt()
		}
	}()
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
