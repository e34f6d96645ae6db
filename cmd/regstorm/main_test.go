package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunDefaultWritesSummary(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI(t, "run", "--out", dir, "--set", "ues=2000")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"t_continue", "t_continue_skip_timer", "route executed", "active transaction not found"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Profile  string
		Seed     uint64
		Variants []struct {
			Name      string
			MARResume string `json:"mar_resume"`
			Callbacks struct {
				MAR struct {
					CompletionRate float64 `json:"completion_rate"`
				} `json:"mar"`
			}
		}
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Profile != "default" || s.Seed != 1 || len(s.Variants) != 2 || s.Variants[0].Callbacks.MAR.CompletionRate != 0 ||
		s.Variants[1].Callbacks.MAR.CompletionRate != 1 {
		t.Errorf("summary %+v", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "run-info.json")); err != nil {
		t.Error(err)
	}
}

func TestRunSameSeedSameBytes(t *testing.T) {
	var sums [3][]byte
	for i, seed := range []string{"7", "7", "8"} {
		dir := t.TempDir()
		if code, _, errs := runCLI(t, "run", "default", "--seed", seed, "--out", dir, "--set", "ues=1500"); code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		sums[i], _ = os.ReadFile(filepath.Join(dir, "summary.json"))
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Error("same seed, different summary.json")
	}
	if bytes.Equal(sums[0], sums[2]) {
		t.Error("different seeds, same summary.json")
	}
}

// --threads changes how the run is spread over cores, never its result:
// one thread (variants one after another, parts in turn) and four (the two
// variants side by side, each with two threads for its three partitions).
func TestRunThreadsSameBytes(t *testing.T) {
	var sums [2][]byte
	for i, threads := range []string{"1", "4"} {
		dir := t.TempDir()
		code, _, errs := runCLI(t, "run", "hss-overload", "--threads", threads, "--out", dir, "--no-plots", "--set", "ues=5000")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if want := "thread(s) per variant"; !strings.Contains(errs, want) {
			t.Errorf("stderr %q lacks %q", errs, want)
		}
		sums[i], _ = os.ReadFile(filepath.Join(dir, "summary.json"))
	}
	if len(sums[0]) == 0 || !bytes.Equal(sums[0], sums[1]) {
		t.Error("--threads 1 and --threads 4 gave different summary.json")
	}
	if code, _, _ := runCLI(t, "run", "--threads", "-2"); code != 2 {
		t.Errorf("--threads -2: exit %d, want 2", code)
	}
}

func TestBadInputExitsTwo(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.yaml")
	os.WriteFile(typo, []byte("name: t\nues: 10\narrival:\n  shpe: uniform\nvariants:\n  - {name: a, mar_resume: t_continue}\n"), 0o644)
	neg := filepath.Join(dir, "neg.yaml")
	os.WriteFile(neg, []byte("name: t\nues: -3\nvariants:\n  - {name: a, mar_resume: t_continue}\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", typo}, typo + `:4: unknown key "shpe" in arrival`},
		{[]string{"run", neg}, neg + ":2: ues: must be a positive number of UEs, got -3"},
		{[]string{"run", "--seed", "x"}, `--seed "x"`},
		{[]string{"run", "a", "b"}, "one profile"},
		{[]string{"run", "--nosuchflag"}, "flag provided but not defined"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{nil, "Usage"},
	} {
		code, _, errs := runCLI(t, c.args...)
		if code != exitBadInput || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}

func TestProfilesAndVersion(t *testing.T) {
	code, out, _ := runCLI(t, "profiles")
	if code != 0 || !strings.Contains(out, "default") {
		t.Errorf("profiles: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "regstorm ") {
		t.Errorf("version: %d %q", code, out)
	}
}

// "go run ./cmd/regstorm run kamailio-4205" shows MAR route completion 0
// under kamailio-5.6 and 1 under kamailio-6.1, with the reason.
func TestRunKamailio4205(t *testing.T) {
	code, out, errs := runCLI(t, "run", "kamailio-4205", "--set", "ues=2000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"kamailio-5.6", "kamailio-6.1", "0 (0.0%)", "2000 (100.0%)", "not run: active transaction not found"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestProfilesShowAndTrace(t *testing.T) {
	code, out, _ := runCLI(t, "profiles", "show", "kamailio-4205")
	if code != 0 || !strings.Contains(out, "fr_timer: 10s") || !strings.Contains(out, "preset: kamailio-6.1") || !strings.Contains(out, "cdp_workers: 4") {
		t.Errorf("profiles show: %d\n%s", code, out)
	}
	if code, _, _ := runCLI(t, "profiles", "show", "nosuch"); code != exitBadInput {
		t.Errorf("profiles show nosuch: exit %d", code)
	}
	trace := filepath.Join(t.TempDir(), "trace.log")
	if code, _, errs := runCLI(t, "run", "--set", "ues=50", "--trace", trace, "--trace-filter", "user7@"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, _ := os.ReadFile(trace)
	if !strings.Contains(string(b), "WARNING: tm [t_suspend.c:197]: t_continue_helper(): active transaction not found") ||
		!strings.Contains(string(b), "scscf -> ue 200 OK to sip:user7@") {
		t.Errorf("trace:\n%s", b)
	}
}

// Expectations: met exits 0; missed exits 1 listing measured and required
// values; a metric that does not exist is bad input (exit 2, file:line).
func TestExpectations(t *testing.T) {
	dir := t.TempDir()
	write := func(name, expect string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("name: e\nues: 300\nvariants:\n  - {name: old, preset: kamailio-5.6}\n  - {name: new, preset: kamailio-6.1}\nexpect:\n"+expect), 0o644)
		return p
	}
	pass := write("pass.yaml", "  - {variant: new, metric: callbacks.mar.completion_rate, op: \">=\", value: 0.999}\n")
	if code, out, errs := runCLI(t, "run", pass); code != exitOK || !strings.Contains(out, "all 1 expectations met") {
		t.Errorf("passing expectation: exit %d\n%s%s", code, out, errs)
	}
	fail := write("fail.yaml", "  - {metric: callbacks.mar.completion_rate, op: \">=\", value: 0.999}\n  - {metric: latency_ms.registration.p99, op: \"<\", value: 1}\n")
	code, _, errs := runCLI(t, "run", fail)
	if code != exitExpect || !strings.Contains(errs, "old: callbacks.mar.completion_rate = 0, required >= 0.999") ||
		strings.Contains(errs, "new: callbacks.mar") || !strings.Contains(errs, "new: latency_ms.registration.p99 = ") {
		t.Errorf("failing expectations: exit %d\n%s", code, errs)
	}
	bad := write("bad.yaml", "  - {metric: latency_ms.registraton.p99, op: \"<\", value: 1}\n")
	if code, _, errs := runCLI(t, "run", bad); code != exitBadInput || !strings.Contains(errs, bad+":7: expect.0.metric") {
		t.Errorf("bad metric: exit %d\n%s", code, errs)
	}
}
