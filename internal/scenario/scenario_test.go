package scenario_test

import (
	"bytes"
	"testing"

	"github.com/regstorm/regstorm/internal/scenario"
	"github.com/regstorm/regstorm/profiles"
	"github.com/regstorm/regstorm/results"
)

func load(t testing.TB, name string, sets ...string) *profiles.Profile {
	t.Helper()
	p, err := profiles.Load(name, sets)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runJSON(t testing.TB, p *profiles.Profile, parallel bool) ([]byte, *results.Summary) {
	t.Helper()
	sum, _, err := scenario.Run(p, scenario.Options{Parallel: parallel})
	if err != nil {
		t.Fatal(err)
	}
	js, err := sum.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return js, sum
}

// The default profile: every registration succeeds under both strategies;
// the MAR route never runs with t_continue (KAMAILIO-MODEL.md §0) and
// always runs with t_continue_skip_timer; the SAR route always runs.
func TestDefaultProfileOutcomes(t *testing.T) {
	_, sum := runJSON(t, load(t, "default"), true)
	if len(sum.Variants) != 2 {
		t.Fatalf("variants %d", len(sum.Variants))
	}
	for _, v := range sum.Variants {
		r := v.Registrations
		if r.Attempted != 10000 || r.Succeeded != 10000 || r.Failed != 0 || r.ByFinalCode["200"] != 10000 {
			t.Errorf("%s: registrations %+v", v.Name, r)
		}
		wantMAR := map[string]float64{"t_continue": 0, "t_continue_skip_timer": 1}[v.MARResume]
		if v.Callbacks.MAR.Invoked != 10000 || v.Callbacks.MAR.CompletionRate != wantMAR {
			t.Errorf("%s: MAR callbacks %+v, want completion %v", v.Name, v.Callbacks.MAR, wantMAR)
		}
		if wantMAR == 0 && v.Callbacks.MAR.NotExecuted["active transaction not found"] != 10000 {
			t.Errorf("%s: not-executed reasons %v", v.Name, v.Callbacks.MAR.NotExecuted)
		}
		if v.Callbacks.SAR.CompletionRate != 1 || v.Callbacks.SAR.Invoked != 10000 {
			t.Errorf("%s: SAR callbacks %+v", v.Name, v.Callbacks.SAR)
		}
		if v.LatencyMS.Registration.Count != 10000 || v.LatencyMS.Challenge.P50 <= 0 ||
			v.LatencyMS.Registration.P99 < v.LatencyMS.Registration.P50 {
			t.Errorf("%s: latency %+v", v.Name, v.LatencyMS)
		}
	}
}

// ARCHITECTURE.md §6: the same seed gives a byte-identical summary, whether
// the variants run in parallel or in sequence; another seed changes the
// latencies but not the outcome of this profile.
func TestDeterminism(t *testing.T) {
	p := load(t, "default", "ues=3000")
	a, _ := runJSON(t, p, true)
	b, _ := runJSON(t, load(t, "default", "ues=3000"), false)
	if !bytes.Equal(a, b) {
		t.Fatalf("same seed, different summaries:\n%s\n---\n%s", a, b)
	}
	c, sc := runJSON(t, load(t, "default", "ues=3000", "seed=2"), true)
	if bytes.Equal(a, c) {
		t.Fatal("seed 2 gave the same summary as seed 1")
	}
	_, sa := runJSON(t, p, true)
	va, vc := sa.Variants[0], sc.Variants[0]
	if va.LatencyMS.Registration == vc.LatencyMS.Registration {
		t.Error("another seed left registration latencies unchanged")
	}
	if va.Registrations.Succeeded != vc.Registrations.Succeeded {
		t.Error("another seed changed the outcome counts of a no-fault profile")
	}
}

// Variants share the seed: UE, network and HSS draws are identical, so two
// variants that differ only in a strategy the UE cannot see have identical
// latency distributions.
func TestVariantsShareTheSeed(t *testing.T) {
	_, sum := runJSON(t, load(t, "default", "ues=2000"), true)
	if sum.Variants[0].LatencyMS != sum.Variants[1].LatencyMS {
		t.Errorf("latencies differ between variants: %+v vs %+v", sum.Variants[0].LatencyMS, sum.Variants[1].LatencyMS)
	}
}

// A slow HSS under the default cdp timeout: MARs that take longer than the
// cdp timeout make the route run with -2 under both strategies and reply
// 500 "MAR failed" (KAMAILIO-MODEL.md §6.6 row 3).
func TestSlowHSSGivesMARFailed(t *testing.T) {
	_, sum := runJSON(t, load(t, "default", "ues=500", "hss.mar_latency.dist=constant", "hss.mar_latency.value=9s"), true)
	for _, v := range sum.Variants {
		if v.Registrations.ByFinalCode["500"] != 500 || v.Callbacks.MAR.CompletionRate != 1 {
			t.Errorf("%s: %+v %+v", v.Name, v.Registrations, v.Callbacks.MAR)
		}
	}
}

func BenchmarkDefaultProfile(b *testing.B) {
	p := load(b, "default")
	var regs, events uint64
	for b.Loop() {
		sum, _, err := scenario.Run(p, scenario.Options{Parallel: true})
		if err != nil {
			b.Fatal(err)
		}
		for _, v := range sum.Variants {
			regs += v.Registrations.Succeeded
			events += v.Events
		}
	}
	b.ReportMetric(float64(regs)/b.Elapsed().Seconds(), "regs/s")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
