package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A small outage, re-registrations and a de-registration: the table of a
// run with failures of two kinds (500 MAR failed, the UE's Timer F) and
// every procedure is a golden file, and the run directory renders (plots
// with seconds in which nothing ended) and compares.
const outageCLIProfile = `name: outage-small
seed: 3
ues: 1500
duration: 200s
arrival: {shape: poisson, window: 15s}
ue:
  expires: 120
  reregister: true
  deregister: {at: 150s, spread: 5s}
hss:
  mar_latency: {dist: lognormal, p50: 20ms, p99: 200ms}
  faults:
    - {at: 5s, for: 4s, kind: outage}
    - {at: 60s, for: 40s, kind: drop, probability: 0.02}
variants:
  - {name: kamailio-5.6, preset: kamailio-5.6}
  - {name: kamailio-6.1, preset: kamailio-6.1}
expect:
  - {metric: latency_ms.registration.all.p99, op: "<", value: 2000}
  - {metric: latency_ms.registration.ok.p99, op: "<", value: 2000}
`

func TestGoldenOutageTable(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "outage.yaml")
	if err := os.WriteFile(prof, []byte(outageCLIProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	code, table, errs := runCLI(t, "run", prof, "--out", out)
	if code != exitExpect || !strings.Contains(errs, "latency_ms.registration.all.p99 = ") ||
		strings.Contains(errs, "latency_ms.registration.ok.p99") {
		t.Fatalf("exit %d, want %d with the every-outcome expectation failing alone:\n%s", code, exitExpect, errs)
	}
	golden(t, "outage-small.table.txt", []byte(table))
	for _, want := range []string{"successes only", "final 500", "re-registration latency ms", "de-registration latency ms"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	ts, err := os.ReadFile(filepath.Join(out, "timeseries.csv"))
	if err != nil || !strings.HasPrefix(string(ts), "# one row per variant and virtual second") || !strings.Contains(string(ts), ",,,,,") {
		t.Errorf("timeseries.csv: %v\n%.600s", err, ts)
	}
	for _, f := range []string{"percentiles-registration-ok.png", "timeseries.png", "index.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if code, _, errs := runCLI(t, "report", out); code != 0 {
		t.Errorf("report: exit %d %s", code, errs)
	}
	if code, b, errs := runCLI(t, "report", out, "--format", "bench"); code != 0 || !strings.Contains(b, " reg-all-p99-ms ") ||
		!strings.Contains(b, " achieved-per-s ") {
		t.Errorf("bench: exit %d %s%s", code, b, errs)
	}
}
