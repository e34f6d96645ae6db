package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/regstorm/regstorm/profiles"
)

func cmdProfiles(args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "show" {
		if len(args) != 2 {
			return badInput("usage: regstorm profiles show NAME|FILE")
		}
		p, err := profiles.Load(args[1], nil)
		if err != nil {
			return usageError{err}
		}
		b, err := p.YAML()
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	}
	if len(args) > 0 {
		return badInput("usage: regstorm profiles [show NAME|FILE]")
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
