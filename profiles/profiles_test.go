package profiles

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeProfile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func problems(t *testing.T, err error) []string {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *profiles.Error", err)
	}
	return pe.Problems
}

func TestBuiltinsLoadAndValidate(t *testing.T) {
	bs, err := Builtins()
	if err != nil || len(bs) == 0 {
		t.Fatalf("builtins: %v %v", bs, err)
	}
	for _, b := range bs {
		p, err := Load(b.Name, nil)
		if err != nil {
			t.Errorf("%s: %v", b.Name, err)
			continue
		}
		if p.Name != b.Name || b.Description == "" {
			t.Errorf("%s: name %q, description %q", b.Name, p.Name, b.Description)
		}
	}
	p, _ := Load("default", nil)
	if p.UEs != 10000 || p.Arrival.Window.D() != 10*time.Second || len(p.Variants) != 2 ||
		p.Variants[0].MARResume != "t_continue" || p.Variants[1].MARResume != "t_continue_skip_timer" {
		t.Errorf("default profile: %+v", p)
	}
}

func TestUnknownKeyNamesFileLineAndKey(t *testing.T) {
	path := writeProfile(t, "name: x\nues: 10\narrival:\n  shape: uniform\n  windw: 10s\nvariants:\n  - {name: a, mar_resume: t_continue}\n")
	_, err := Load(path, nil)
	ps := problems(t, err)
	if len(ps) != 1 || ps[0] != path+`:5: unknown key "windw" in arrival` {
		t.Fatalf("problems %q", ps)
	}
}

func TestNegativeUECountNamesFileLineAndKey(t *testing.T) {
	path := writeProfile(t, "name: x\nues: -5\nvariants:\n  - {name: a, mar_resume: t_continue}\n")
	_, err := Load(path, nil)
	ps := problems(t, err)
	if len(ps) != 1 || !strings.HasPrefix(ps[0], path+":2: ues: must be a positive number") {
		t.Fatalf("problems %q", ps)
	}
}

func TestEveryProblemIsListed(t *testing.T) {
	path := writeProfile(t, `name: x
ues: lots
scscf:
  fr_timer: 10 seconds
variants:
  - {name: a, mar_resume: t_continue}
`)
	_, err := Load(path, nil)
	ps := problems(t, err)
	want := []string{path + ":2: ues: cannot unmarshal", path + `:4: scscf.fr_timer: "10 seconds" is not a duration`}
	if len(ps) != len(want) {
		t.Fatalf("problems %q", ps)
	}
	for i := range want {
		if !strings.HasPrefix(ps[i], want[i]) {
			t.Errorf("problem %q, want prefix %q", ps[i], want[i])
		}
	}

	path = writeProfile(t, `name: x
ues: 10
hss:
  mar_latency: {dist: lognormal, p50: 50ms, p99: 10ms}
  sar_latency: {dist: gamma}
scscf:
  cdp_transaction_timeout: 2500ms
variants:
  - {name: a, mar_resume: t_contine}
  - {name: a, mar_resume: t_continue}
`)
	_, err = Load(path, nil)
	ps = problems(t, err)
	for _, w := range []string{":4: hss.mar_latency: lognormal needs 0 < p50 <= p99", `:5: hss.sar_latency: unknown dist "gamma"`,
		":7: scscf.cdp_transaction_timeout: cdp counts whole seconds", `:9: variants.0.mar_resume: want t_continue or t_continue_skip_timer, got "t_contine"`,
		`:10: variants.1.name: duplicate variant name "a"`} {
		found := false
		for _, p := range ps {
			found = found || strings.HasPrefix(p, path+w)
		}
		if !found {
			t.Errorf("no problem %q in %q", w, ps)
		}
	}
}

func TestSetOverrides(t *testing.T) {
	p, err := Load("default", []string{"ues=123", "hss.mar_latency.p50=30ms", "variants.1.name=fixed", "seed=9"})
	if err != nil {
		t.Fatal(err)
	}
	if p.UEs != 123 || p.HSS.MARLatency.P50.D() != 30*time.Millisecond || p.Variants[1].Name != "fixed" || p.Seed != 9 {
		t.Fatalf("overrides not applied: %+v", p)
	}
	for set, want := range map[string]string{
		"hss.bogus=1":          `--set hss.bogus=1: unknown key "bogus" in hss`,
		"ues=x":                "--set ues=x: cannot unmarshal",
		"ues=-1":               "--set ues: ues: must be a positive number",
		"variants.7.name=x":    `--set variants.7.name=x: "7" is not an index of a list of 2 items`,
		"noequals":             "--set noequals: want key.path=value",
		"scscf.fr_timer=fast":  `--set scscf.fr_timer=fast: "fast" is not a duration`,
		"ue.think_time.dist=x": `builtin:default`,
	} {
		_, err := Load("default", []string{set})
		ps := problems(t, err)
		if len(ps) == 0 || !strings.Contains(ps[0], want) {
			t.Errorf("--set %s: problems %q, want %q", set, ps, want)
		}
	}
}

func TestUnknownProfile(t *testing.T) {
	_, err := Load("nosuch", nil)
	if err == nil || !strings.Contains(err.Error(), "neither a built-in (default") {
		t.Fatalf("err %v", err)
	}
}

func TestPacers(t *testing.T) {
	a := Arrival{Shape: "uniform", Window: Duration(10 * time.Second)}
	p := a.Pacer(4, nil)
	for i, want := range []time.Duration{0, 2500 * time.Millisecond, 5 * time.Second, 7500 * time.Millisecond} {
		got, ok := p.Next()
		if !ok || got != want {
			t.Fatalf("uniform arrival %d at %v, want %v", i, got, want)
		}
	}
	if _, ok := p.Next(); ok {
		t.Fatal("more arrivals than UEs")
	}
}

func TestDistributionKinds(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "lat.csv"), []byte("latency_ms\n5\n7.5\n# comment\n\n12ms\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.csv"), []byte("5\nfast\n"), 0o644)
	path := filepath.Join(dir, "p.yaml")
	os.WriteFile(path, []byte(`name: x
ues: 10
hss:
  mar_latency:
    dist: mixture
    of:
      - {weight: 0.99, dist: lognormal, p50: 10ms, p99: 50ms}
      - {weight: 0.01, dist: pareto, scale: 1s, alpha: 1.5}
  sar_latency: {dist: empirical, file: lat.csv}
  service: {dist: normal, mean: 1ms, stddev: 300us}
variants:
  - {name: a, preset: kamailio-6.1}
`), 0o644)
	p, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Dist{&p.HSS.MARLatency, &p.HSS.SARLatency, &p.HSS.Service} {
		if _, err := d.Build(); err != nil {
			t.Fatalf("%s: %v", d.Dist, err)
		}
	}
	y, err := p.YAML()
	if err != nil || !strings.Contains(string(y), "weight: 0.99") || !strings.Contains(string(y), "file: lat.csv") {
		t.Fatalf("rendering: %v\n%s", err, y)
	}
	for body, want := range map[string]string{
		"{dist: empirical, file: bad.csv}":      "bad.csv:2: first column: not a latency",
		"{dist: empirical, file: missing.csv}":  "missing.csv",
		"{dist: mixture, of: []}":               "mixture needs components",
		"{dist: pareto, scale: 1ms}":            "pareto needs scale > 0 and alpha > 0",
		"{dist: normal, mean: 1ms, stdev: 1ms}": `unknown key "stdev"`,
	} {
		os.WriteFile(path, []byte("name: x\nues: 10\nhss:\n  sar_latency: "+body+"\nvariants:\n  - {name: a}\n"), 0o644)
		_, err := Load(path, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}

func times(t *testing.T, a Arrival, n int64) []time.Duration {
	t.Helper()
	p := a.Pacer(n, nil)
	var out []time.Duration
	for {
		at, ok := p.Next()
		if !ok {
			return out
		}
		out = append(out, at)
	}
}

func TestLoadShapes(t *testing.T) {
	sec := func(x float64) time.Duration { return time.Duration(x * 1e9) }
	// constant: 4/s
	if ts := times(t, Arrival{Shape: "constant", Rate: 4}, 5); ts[4] != sec(1) {
		t.Errorf("constant: %v", ts)
	}
	// ramp 0 -> 10/s over 10 s: 50 arrivals in the window, the k-th at
	// sqrt(2k) s; then 10/s.
	ts := times(t, Arrival{Shape: "ramp", From: 0, To: 10, Window: Duration(10 * time.Second)}, 60)
	if d := ts[8] - sec(4); d < -time.Millisecond || d > time.Millisecond { // sqrt(16)
		t.Errorf("ramp arrival 8 at %v, want 4 s", ts[8])
	}
	if d := ts[59] - sec(10.9); d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("ramp arrival 59 at %v, want 10.9 s", ts[59])
	}
	// staircase: 10/s for 2 s, then 100/s.
	ts = times(t, Arrival{Shape: "staircase", Steps: []Step{{Rate: 10, For: Duration(2 * time.Second)}, {Rate: 100, For: Duration(time.Second)}}}, 40)
	if ts[19] != sec(1.9) || ts[20] != sec(2) || ts[39] != sec(2.19) {
		t.Errorf("staircase: %v %v %v", ts[19], ts[20], ts[39])
	}
	// front-loaded storm: half the UEs in the first 29 % of the window.
	ts = times(t, Arrival{Shape: "storm", FrontLoaded: true, Window: Duration(100 * time.Second)}, 1000)
	if ts[500] < sec(28) || ts[500] > sec(30) || ts[999] >= sec(100) {
		t.Errorf("front-loaded storm: median at %v, last at %v", ts[500], ts[999])
	}
	for i := 1; i < len(ts); i++ {
		if ts[i] < ts[i-1] {
			t.Fatal("arrivals out of order")
		}
	}
}
