package main

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/regstorm/regstorm/results"
)

// --junit writes valid JUnit XML: one test case per expectation and
// variant, one per invariant and variant; a failed expectation is a
// <failure> with the measured value, and the run exits 1. summary.json
// carries the same verdicts.
func TestJUnitAndVerdicts(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "p.yaml")
	os.WriteFile(prof, []byte(`name: verdicts
ues: 500
arrival: {shape: uniform, window: 2s}
expect:
  - {metric: registrations.share.succeeded, op: ">=", value: 0.99}
  - {variant: fixed, metric: latency_ms.registration.all.p99, op: "<", value: 1}
variants:
  - {name: base, preset: kamailio-5.6}
  - {name: fixed, preset: kamailio-6.1}
`), 0o644)
	xmlPath, out := filepath.Join(dir, "verdicts.xml"), filepath.Join(dir, "out")
	code, _, errs := runCLI(t, "run", prof, "--out", out, "--no-plots", "--junit", xmlPath)
	if code != exitExpect || !strings.Contains(errs, "fixed: latency_ms.registration.all.p99 = ") {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	b, err := os.ReadFile(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Tests int    `xml:"tests,attr"`
			Cases []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Out string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b)
	}
	// 2 variants x the first expectation + the second on one variant; 2
	// invariants x 2 variants.
	if doc.Tests != 7 || doc.Failures != 1 || len(doc.Suites) != 2 || doc.Suites[0].Tests != 3 || doc.Suites[1].Tests != 4 {
		t.Fatalf("counts: %+v\n%s", doc, b)
	}
	failed := doc.Suites[0].Cases[2]
	if failed.Failure == nil || failed.Classname != "regstorm.verdicts.fixed" || !strings.HasPrefix(failed.Out, "measured ") ||
		!strings.Contains(failed.Failure.Message, "required < 1") {
		t.Fatalf("failing case %+v", failed)
	}
	for _, c := range doc.Suites[1].Cases {
		if c.Failure != nil {
			t.Fatalf("invariant %s failed: %s", c.Name, c.Failure.Message)
		}
	}
	var sum results.Summary
	raw, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Expectations) != 3 || sum.Expectations[2].Passed || sum.Expectations[2].Measured == nil || !sum.Expectations[0].Passed ||
		sum.Interrupted || len(sum.Invariants) != 4 {
		t.Fatalf("verdicts in summary.json: %+v %+v", sum.Expectations, sum.Invariants)
	}
}

// exitCode runs the binary and sends sig after delay; it returns the exit
// status.
func exitCode(t *testing.T, cmd *exec.Cmd, sig syscall.Signal, delay time.Duration) int {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(delay)
	cmd.Process.Signal(sig)
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// SIGINT stops a run with exit 130, SIGTERM with 143; the partial results
// are written with interrupted: true in summary.json.
func TestSignalExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, tc := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		out := filepath.Join(t.TempDir(), "out")
		cmd := exec.Command(bin, "run", "storm-1m", "--set", "ues=300000", "--out", out, "--no-plots")
		if code := exitCode(t, cmd, tc.sig, 700*time.Millisecond); code != tc.want {
			t.Fatalf("%v: exit %d, want %d", tc.sig, code, tc.want)
		}
		var sum results.Summary
		raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err != nil {
			t.Fatalf("%v: %v", tc.sig, err)
		}
		if err := json.Unmarshal(raw, &sum); err != nil || !sum.Interrupted {
			t.Fatalf("%v: interrupted %v (%v)", tc.sig, sum.Interrupted, err)
		}
		for _, inv := range sum.Invariants {
			if !inv.Skipped {
				t.Fatalf("an interrupted run checks invariant %s", inv.Name)
			}
		}
	}
}

// A run killed (SIGKILL) at any moment while it writes over an old run
// directory leaves a directory regstorm report reads: the old run or the
// new one, never a mix; and --out refuses a directory that is not a run's.
func TestKilledRunLeavesOldDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	out := filepath.Join(t.TempDir(), "out")
	if b, err := exec.Command(bin, "run", "--set", "ues=3000", "--seed", "7", "--out", out).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	old, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	var newSum []byte
	for i, delay := range []time.Duration{50, 150, 250, 350, 450, 550, 700, 900, 1200} {
		cmd := exec.Command(bin, "run", "--set", "ues=20000", "--seed", "8", "--out", out)
		exitCode(t, cmd, syscall.SIGKILL, delay*time.Millisecond)
		got, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err != nil {
			t.Fatalf("kill %d after %v: %v", i, delay, err)
		}
		if string(got) != string(old) {
			if newSum == nil {
				newSum = got
			}
			if string(got) != string(newSum) {
				t.Fatalf("kill %d: summary.json is neither the old run's nor the new one's", i)
			}
		}
		if b, err := exec.Command(bin, "report", out).CombinedOutput(); err != nil {
			t.Fatalf("kill %d after %v: report: %v\n%s", i, delay, err, b)
		}
		t.Logf("kill %d after %v: new run in place: %v", i, delay*time.Millisecond, newSum != nil && string(got) == string(newSum))
		if newSum != nil && string(got) == string(newSum) {
			// A complete new run is in place: everything of it is there.
			for _, f := range []string{"timeseries.csv", "run-info.json", "index.html"} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Fatalf("kill %d: the new run lacks %s", i, f)
				}
			}
		}
	}
	if newSum == nil {
		t.Log("every kill came before the new run was in place")
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	for _, e := range entries {
		if e.Name() != "out" && !strings.Contains(e.Name(), ".regstorm-tmp-") {
			t.Errorf("unexpected %s beside the run", e.Name())
		}
	}
	// A directory with other files is never replaced.
	mine := t.TempDir()
	os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("mine"), 0o644)
	if code, _, errs := runCLI(t, "run", "--set", "ues=100", "--out", mine); code != exitBadInput || !strings.Contains(errs, "neither empty nor a regstorm output directory") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(mine, "notes.txt")); string(b) != "mine" {
		t.Fatal("the user's file is gone")
	}
}

// compare names each run (directory, profile, seed), warns when their
// profiles differ, and creates --out; capacity exits 1 when even its first
// step misses the limit.
func TestCompareNamesRunsAndCapacityFirstStep(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	for _, r := range []struct {
		out  string
		args []string
	}{{a, []string{"--seed", "3"}}, {b, []string{"--seed", "4"}}, {c, []string{"--seed", "3", "--set", "hss.mar_latency.p50=30ms"}}} {
		if code, _, errs := runCLI(t, append([]string{"run", "--set", "ues=300", "--no-plots", "--out", r.out}, r.args...)...); code != exitOK {
			t.Fatalf("run: %d %s", code, errs)
		}
	}
	code, out, errs := runCLI(t, "compare", a, b, "--out", filepath.Join(dir, "new", "overlay"))
	if code != exitOK || !strings.Contains(out, "A: "+a+" (profile default, seed 3)") || !strings.Contains(out, "B: "+b+" (profile default, seed 4)") ||
		strings.Contains(errs, "warning") {
		t.Fatalf("compare a b: %d\n%s\n%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "new", "overlay", "index.html")); err != nil {
		t.Fatal(err)
	}
	if _, _, errs := runCLI(t, "compare", a, c); !strings.Contains(errs, "warning: the runs' profiles differ") {
		t.Fatalf("no warning for different profiles: %s", errs)
	}
	code, out, errs = runCLI(t, "capacity", "hss-overload", "--from", "20000", "--steps", "1", "--duration", "1s")
	if code != exitExpect || !strings.Contains(errs, "even the first step") {
		t.Fatalf("capacity of hss-overload from 20000/s: exit %d\n%s\n%s", code, out, errs)
	}
}
