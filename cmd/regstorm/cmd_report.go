package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/regstorm/regstorm/report"
	"github.com/regstorm/regstorm/results"
)

// cmdReport re-renders the table, plots and index.html of a run directory
// from its saved files; --format bench prints Go benchmark lines instead.
func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setUsage(fs, "regstorm report DIR [flags]")
	format := fs.String("format", "text", "text (table, plots, index.html) or bench (Go benchmark lines for benchstat)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if len(pos) != 1 {
		return badInput("usage: regstorm report DIR [--format text|bench]")
	}
	switch *format {
	case "bench":
		r, err := results.LoadRun(pos[0])
		if err != nil {
			return usageError{err}
		}
		return results.WriteBench(stdout, &r.Summary, "")
	case "text":
	default:
		return badInput("--format %q: want text or bench", *format)
	}
	r, plots, err := report.Render(pos[0])
	if err != nil {
		return usageError{err}
	}
	if err := r.Summary.WriteTable(stdout); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%d plots and index.html written to %s\n", len(plots), pos[0])
	return err
}
