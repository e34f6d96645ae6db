// Command regstorm simulates and load-tests IMS registration: simulated UEs,
// a Kamailio-faithful S-CSCF model and a latency-injecting HSS on a virtual
// clock.
//
//	regstorm run [PROFILE-FILE|BUILTIN-NAME] [--seed N] [--out DIR] [--set key=value ...]
//	regstorm profiles [show NAME|FILE]
//	regstorm version
//
// Exit status: 0 success, 1 an expectation of the profile failed, 2 bad
// usage or bad input.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/regstorm/regstorm/profiles"
)

// Exit codes.
const (
	exitOK       = 0
	exitExpect   = 1
	exitBadInput = 2
)

// usageError marks bad usage or bad input (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func badInput(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

const usage = `regstorm simulates and load-tests IMS registration.

Usage:
  regstorm run [PROFILE-FILE|BUILTIN-NAME] [--seed N] [--out DIR] [--set key=value ...]
               [--trace FILE] [--trace-filter TEXT]
  regstorm report DIR [--format text|bench]
                                    re-render the table, plots and index.html of a run
  regstorm compare DIR_A DIR_B [--format text|json|bench] [--all] [--out DIR]
                                    deltas between two runs, overlay plots
  regstorm capacity PROFILE [--from R --step R --steps N --duration D --limit F --threshold D --out DIR]
                                    search the design objective capacity (ETSI TS 186 008 style)
  regstorm hss [--listen 127.0.0.1:3868] [--origin-host H] [--origin-realm R] [PROFILE]
                                    serve the profile's HSS over Diameter Cx for a real S-CSCF
  regstorm live PROFILE --scscf udp:HOST:PORT [--hss-listen ADDR] [--kamailio-log FILE] [--out DIR]
                                    the profile's UEs and HSS on the wall clock against a real S-CSCF
  regstorm scscf [--listen udp:127.0.0.1:5060] [--hss 127.0.0.1:3868] [--preset kamailio-5.6] [PROFILE]
                                    the S-CSCF model on real sockets, for UEs and SIPp
  regstorm ue --target udp:HOST:PORT [PROFILE] [--out DIR]
                                    the profile's UE fleet on the wall clock (live without an HSS)
  regstorm profiles                 list the built-in profiles
  regstorm profiles show NAME|FILE  print a profile with every default filled in
  regstorm version

Run "regstorm run -h" for the flags of run.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadInput
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "report":
		err = cmdReport(args[1:], stdout, stderr)
	case "compare":
		err = cmdCompare(args[1:], stdout, stderr)
	case "capacity":
		err = cmdCapacity(args[1:], stdout, stderr)
	case "hss":
		err = cmdHSS(args[1:], stdout, stderr)
	case "live":
		err = cmdLive(args[1:], stdout, stderr)
	case "scscf":
		err = cmdSCSCF(args[1:], stdout, stderr)
	case "ue":
		err = cmdUE(args[1:], stdout, stderr)
	case "profiles":
		err = cmdProfiles(args[1:], stdout)
	case "version":
		err = cmdVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = badInput("unknown command %q\n\n%s", args[0], usage)
	}
	var ue usageError
	var ee *expectationError
	var ie *interruptedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ie):
		fmt.Fprintln(stderr, "regstorm:", err)
		return ie.code()
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ee):
		fmt.Fprintln(stderr, err)
		return exitExpect
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "regstorm:", err)
		return exitBadInput
	default:
		fmt.Fprintln(stderr, "regstorm:", err)
		return exitBadInput
	}
}

// expectationError lists failed expectations (exit 1), or another
// failure of what was measured (title).
type expectationError struct {
	title    string
	failures []string
}

func (e *expectationError) Error() string {
	s := e.title
	if s == "" {
		s = "expectations failed:"
	}
	for _, f := range e.failures {
		s += "\n  " + f
	}
	return s
}

// parseInterleaved parses flags that may appear before, between or after
// positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// multiFlag collects a repeated string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// loadProfile loads the profile named by the one optional positional
// argument (the embedded default without one) with the --set overrides;
// seed, when not "", overrides the profile's seed. Every error is a usage
// error (exit 2) naming what is wrong.
func loadProfile(pos []string, seed string, sets []string) (*profiles.Profile, error) {
	name := "default"
	switch len(pos) {
	case 0:
	case 1:
		name = pos[0]
	default:
		return nil, badInput("one profile at most, got %d: %v", len(pos), pos)
	}
	if seed != "" {
		if _, err := strconv.ParseUint(seed, 10, 64); err != nil {
			return nil, badInput("--seed %q: want an unsigned integer", seed)
		}
		sets = append(sets[:len(sets):len(sets)], "seed="+seed)
	}
	p, err := profiles.Load(name, sets)
	if err != nil {
		return nil, usageError{err}
	}
	return p, nil
}

// setUsage makes -h print the command's usage line, then its flags.
func setUsage(fs *flag.FlagSet, line string) {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n\nflags:\n", line)
		fs.PrintDefaults()
	}
}
