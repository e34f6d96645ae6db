package results

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	c := NewCollector()
	for i := 0; i < 100; i++ {
		c.Attempt(0, uint32(i), ProcRegistration)
		c.ChallengeDone(0, Outcome{Code: 401, Reason: "Unauthorized"}, true, time.Duration(i+1)*time.Millisecond)
		c.Done(time.Second, uint32(i), ProcRegistration, Outcome{Code: 200, Reason: "OK"}, time.Duration(i+1)*10*time.Millisecond)
		c.Callback(CallbackMAR, i%4 == 0, "active transaction not found")
		c.Callback(CallbackSAR, true, "")
	}
	c.Attempt(0, 7, ProcRegistration) // a retry of UE 7
	c.Done(time.Minute, 7, ProcRegistration, Outcome{Code: 408, TimerF: true, Reason: "Timer F"}, time.Minute)
	v := c.Summarize("x", "t_continue", 15*time.Second, 1234)
	r := v.Registrations
	if r.Attempted != 101 || r.Succeeded != 100 || r.Failed != 1 || r.ByFinalCode["408"] != 1 || r.ByFinalCode["200"] != 100 ||
		r.UEs != 100 || r.UEsRegistered != 100 || r.ByCause["408 Timer F"] != 1 || r.ByCause["200 OK"] != 100 ||
		r.Share.Succeeded != 100.0/101 || r.Share.ByCause["408 Timer F"] != 1.0/101 || r.ByProcedure.Registration.Attempted != 101 {
		t.Errorf("registrations %+v", r)
	}
	if v.Callbacks.MAR.CompletionRate != 0.25 || v.Callbacks.MAR.NotExecuted["active transaction not found"] != 75 ||
		v.Callbacks.SAR.CompletionRate != 1 {
		t.Errorf("callbacks %+v", v.Callbacks)
	}
	// Failed procedures are in every outcome's latency, not in the
	// successes'; Timer F has its own code slot.
	l := v.LatencyMS.Registration
	if ok := l.OK; ok.Count != 100 || ok.P50 < 499 || ok.P50 > 501 || ok.Max < 999 || ok.Max > 1001 || ok.P99 < 989 {
		t.Errorf("registration latency, successes %+v", ok)
	}
	if all := l.All; all.Count != 101 || all.Max < 59_900 || all.P99 > 1001 {
		t.Errorf("registration latency, every outcome %+v", all)
	}
	if l.ByCode["timer_f"].Count != 1 || l.ByCode["200"].Count != 100 || len(l.ByCode) != 2 {
		t.Errorf("by code %+v", l.ByCode)
	}
	if tp := v.Throughput; tp.WindowS != 60 || tp.Offered.Peak != 101 || tp.Achieved.Peak != 100 || tp.Failed.Peak != 1 ||
		tp.Achieved.Mean != round3(100.0/60) {
		t.Errorf("throughput %+v", tp)
	}
	s := Summary{Profile: "p", Seed: 3, Variants: []VariantSummary{v}}
	js, err := s.JSON()
	if err != nil || !bytes.HasPrefix(js, []byte("{\n  \"profile\": \"p\",\n  \"seed\": 3,\n  \"variants\": [")) {
		t.Errorf("JSON %s %v", js, err)
	}
	var tb strings.Builder
	if err := s.WriteTable(&tb); err != nil || !strings.Contains(tb.String(), "not run: active transaction not found") ||
		!strings.Contains(tb.String(), "Timer F at the UE") || !strings.Contains(tb.String(), "successes only") {
		t.Errorf("table:\n%s", tb.String())
	}
	for path, want := range map[string]float64{"latency_ms.registration.all.count": 101, "latency_ms.registration.count": 101,
		"latency_ms.registration.ok.count": 100, "latency_ms.registration.by_code.timer_f.count": 1,
		"latency_ms.registration.by_code.500.p99": 0, "registrations.share.by_final_code.503": 0, "throughput_per_s.offered.peak": 101,
		"registrations.ues_registered": 100} {
		if got, err := v.Metric(path); err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", path, got, err, want)
		}
		if err := ValidMetric(path); err != nil {
			t.Errorf("ValidMetric(%s): %v", path, err)
		}
	}
	for _, bad := range []string{"latency_ms.registration.p98", "latency_ms.registration.by_code.500", "latency_ms.registraton.all.p99"} {
		if err := ValidMetric(bad); err == nil {
			t.Errorf("ValidMetric(%s) accepted", bad)
		}
	}
}

// A metric a live command did not measure prints n/a and fails an
// expectation rather than reading 0.
func TestNotMeasured(t *testing.T) {
	c := NewCollector()
	c.Attempt(0, 0, ProcRegistration)
	c.Done(time.Second, 0, ProcRegistration, Outcome{Code: 200, Reason: "OK"}, time.Second)
	v := c.Summarize("live", "", 2*time.Second, 0)
	v.MarkNotMeasured("callbacks.mar", "callbacks.sar", "latency_ms.mar_rtt")
	s := Summary{Profile: "p", Variants: []VariantSummary{v}}
	var tb strings.Builder
	if err := s.WriteTable(&tb); err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{"MAR callbacks", "SAR callbacks", "MAR round trip latency ms"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(row) + `\s+n/a$`).MatchString(tb.String()) {
			t.Errorf("no %q n/a row:\n%s", row, tb.String())
		}
	}
	if strings.Contains(tb.String(), "route executed") {
		t.Errorf("rows under an unmeasured callback:\n%s", tb.String())
	}
	fails := s.Check([]Expectation{{Metric: "callbacks.mar.completion_rate", Op: ">=", Value: 0}})
	if len(fails) != 1 || !strings.Contains(fails[0].Err, "not measured") {
		t.Errorf("expectation on an unmeasured metric: %+v", fails)
	}
	var bench strings.Builder
	if err := WriteBench(&bench, &s, ""); err != nil || strings.Contains(bench.String(), "mar-completion") {
		t.Errorf("bench: %v\n%s", err, bench.String())
	}
}

// An HdrHistogram interval log written here reads back as the same
// latency distribution (the format other HdrHistogram tools read).
func TestHlogRoundTrip(t *testing.T) {
	h := newHist()
	for i := 1; i <= 1000; i++ {
		h.RecordValue(int64(i * 100)) // 0.1 .. 100 ms in µs
	}
	path := t.TempDir() + "/hss.hlog"
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteHlog(f, h, "test"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, err := LoadLatencyFile(path, "us")
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, c := range b.Count {
		n += c
	}
	if n != 1000 || b.Lo[0] > 101*time.Microsecond || b.Hi[len(b.Hi)-1] < 99*time.Millisecond {
		t.Fatalf("bins: %d, total %v, first %v, last %v", len(b.Lo), n, b.Lo[0], b.Hi[len(b.Hi)-1])
	}
	if _, err := LoadLatencyFile(path, "weeks"); err == nil {
		t.Error("unknown unit accepted")
	}
}
