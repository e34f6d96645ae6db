package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README documents every flag of every command: each flag that
// `regstorm CMD -h` lists appears in the README as --flag, and every
// command is in its Commands block.
func TestREADMEListsEveryFlag(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	flagLine := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)
	for _, cmd := range []string{"run", "report", "compare", "capacity", "hss", "live", "scscf", "ue"} {
		if !strings.Contains(readme, "    regstorm "+cmd+" ") {
			t.Errorf("the README's Commands block lacks regstorm %s", cmd)
		}
		_, _, errs := runCLI(t, cmd, "-h")
		names := flagLine.FindAllStringSubmatch(errs, -1)
		if len(names) == 0 {
			t.Fatalf("regstorm %s -h lists no flags:\n%s", cmd, errs)
		}
		for _, m := range names {
			if !strings.Contains(readme, "--"+m[1]) {
				t.Errorf("regstorm %s --%s is not in the README", cmd, m[1])
			}
		}
	}
}
