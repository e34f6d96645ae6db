package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/regstorm/regstorm/profiles"
)

func cmdProfiles(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return badInput("profiles takes no arguments")
	}
	bs, err := profiles.Builtins()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, b := range bs {
		fmt.Fprintf(tw, "%s\t%s\n", b.Name, b.Description)
	}
	return tw.Flush()
}
