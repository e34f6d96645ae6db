package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/regstorm/regstorm/results"
)

// cmdCompare compares two run directories.
func cmdCompare(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "text, json or bench (Go benchmark lines for benchstat)")
	all := fs.Bool("all", false, "text: list unchanged metrics too")
	out := fs.String("out", "", "write overlay plots of both runs and an index.html to DIR")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if len(pos) != 2 {
		return badInput("usage: regstorm compare DIR_A DIR_B [--format text|json|bench] [--all] [--out DIR]")
	}
	a, err := results.LoadRun(pos[0])
	if err != nil {
		return usageError{err}
	}
	b, err := results.LoadRun(pos[1])
	if err != nil {
		return usageError{err}
	}
	c, err := results.Compare(a, b)
	if err != nil {
		return usageError{err}
	}
	switch *format {
	case "text":
		err = c.WriteText(stdout, !*all)
	case "json":
		err = c.WriteJSON(stdout)
	case "bench":
		if err = results.WriteBench(stdout, &a.Summary, "A"); err == nil {
			err = results.WriteBench(stdout, &b.Summary, "B")
		}
	default:
		return badInput("--format %q: want text, json or bench", *format)
	}
	if err != nil {
		return err
	}
	if *out != "" {
		o := results.Overlay(a, b, *out)
		plots, err := results.RenderPlots(o)
		if err != nil {
			return err
		}
		if err := results.WriteIndex(o, plots); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "overlay plots written to %s\n", *out)
	}
	return nil
}
