package main

import (
	"fmt"
	"io"

	"github.com/regstorm/regstorm/results"
)

// cmdReport re-renders the table, plots and index.html of a run directory
// from its saved files.
func cmdReport(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return badInput("usage: regstorm report DIR")
	}
	r, plots, err := results.Render(args[0])
	if err != nil {
		return usageError{err}
	}
	if err := r.Summary.WriteTable(stdout); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%d plots and index.html written to %s\n", len(plots), args[0])
	return err
}
