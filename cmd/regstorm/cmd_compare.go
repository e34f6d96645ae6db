package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/regstorm/regstorm/report"
	"github.com/regstorm/regstorm/results"
)

// cmdCompare compares two run directories.
func cmdCompare(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setUsage(fs, "regstorm compare DIR_A DIR_B [flags]")
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
	// Which runs these are: on stdout for the text format, on stderr
	// where stdout is for tools.
	names := stdout
	if *format != "text" {
		names = stderr
	}
	for i, r := range []*results.Run{a, b} {
		fmt.Fprintf(names, "%c: %s (profile %s, seed %d)\n", 'A'+i, pos[i], r.Summary.Profile, r.Summary.Seed)
	}
	if w := profileDifference(pos[0], pos[1]); w != "" {
		fmt.Fprintln(stderr, "regstorm compare: warning:", w)
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
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return fmt.Errorf("creating --out: %w", err)
		}
		if _, err := report.Compare(a, b, c, *out); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "overlay plots and index.html written to %s\n", *out)
	}
	return nil
}

// profileDifference says how the profiles two run directories were made
// from differ (their profile.yaml, every default filled in; the seed
// aside), or "" when
// they are the same or a directory has none (runs of older versions).
func profileDifference(a, b string) string {
	pa, errA := os.ReadFile(filepath.Join(a, "profile.yaml"))
	pb, errB := os.ReadFile(filepath.Join(b, "profile.yaml"))
	switch {
	case errA != nil && errB != nil:
		return ""
	case errA != nil || errB != nil:
		return "only one of the runs records its profile (profile.yaml); they may differ"
	}
	la, lb := strings.Split(string(pa), "\n"), strings.Split(string(pb), "\n")
	// Seeds are compared on purpose (the header names them): not a
	// difference of the profiles.
	for _, l := range [][]string{la, lb} {
		for i, s := range l {
			if strings.HasPrefix(s, "seed: ") {
				l[i] = "seed:"
			}
		}
	}
	n, first := 0, 0
	for i := 0; i < max(len(la), len(lb)); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			if n == 0 {
				first = i + 1
			}
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("the runs' profiles differ in %d line(s) of profile.yaml, the first at line %d: differences may come from the load, not the change", n, first)
}
