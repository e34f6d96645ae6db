package results

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	c := NewCollector()
	for i := 0; i < 100; i++ {
		c.Attempt(0)
		c.Challenged(time.Duration(i+1) * time.Millisecond)
		c.Done(time.Second, 200, "OK", time.Duration(i+1)*10*time.Millisecond)
		c.Callback(CallbackMAR, i%4 == 0, "active transaction not found")
		c.Callback(CallbackSAR, true, "")
	}
	c.Attempt(0)
	c.Done(time.Minute, 408, "Timer F", time.Minute)
	v := c.Summarize("x", "t_continue", 15*time.Second, 1234)
	if v.Registrations.Attempted != 101 || v.Registrations.Succeeded != 100 || v.Registrations.Failed != 1 ||
		v.Registrations.ByFinalCode["408"] != 1 || v.Registrations.ByFinalCode["200"] != 100 {
		t.Errorf("registrations %+v", v.Registrations)
	}
	if v.Callbacks.MAR.CompletionRate != 0.25 || v.Callbacks.MAR.NotExecuted["active transaction not found"] != 75 ||
		v.Callbacks.SAR.CompletionRate != 1 {
		t.Errorf("callbacks %+v", v.Callbacks)
	}
	// Failed procedures do not enter the success latency histogram.
	r := v.LatencyMS.Registration
	if r.Count != 100 || r.P50 < 499 || r.P50 > 501 || r.Max < 999 || r.Max > 1001 || r.P99 < 989 {
		t.Errorf("registration latency %+v", r)
	}
	s := Summary{Profile: "p", Seed: 3, Variants: []VariantSummary{v}}
	js, err := s.JSON()
	if err != nil || !bytes.HasPrefix(js, []byte("{\n  \"profile\": \"p\",\n  \"seed\": 3,\n  \"variants\": [")) {
		t.Errorf("JSON %s %v", js, err)
	}
	var tb strings.Builder
	if err := s.WriteTable(&tb); err != nil || !strings.Contains(tb.String(), "not run: active transaction not found") {
		t.Errorf("table:\n%s", tb.String())
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
