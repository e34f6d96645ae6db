package results

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// equivalentRange agrees with the library's buckets over the whole range.
func TestEquivalentRange(t *testing.T) {
	h := newHist()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		h.RecordValue(int64(math.Exp(r.Float64() * math.Log(histHighest))))
	}
	for _, b := range h.Distribution() {
		for _, v := range []int64{b.From, b.To, (b.From + b.To) / 2} {
			if lo, hi := equivalentRange(v); lo != b.From || hi != b.To {
				t.Fatalf("equivalentRange(%d) = %d..%d, the library's bucket %d..%d", v, lo, hi, b.From, b.To)
			}
		}
	}
}

// The rank is the Java/JS one, ceil(p/100·n): p99 of 1,060 values is the
// 1,050th value, where the Go library takes the 1,049th.
func TestPercentileRankAsJavaAndJS(t *testing.T) {
	d, p := newHist(), newPacked()
	for v := int64(1); v <= 1060; v++ {
		d.RecordValue(v)
		p.RecordValue(v)
	}
	if got := valueAtPercentile(p, 99); got != 1050 {
		t.Errorf("p99 of 1..1060 = %d, want 1050", got)
	}
	if lib := d.ValueAtQuantile(99); lib != 1049 {
		t.Logf("the Go library now answers %d (it answered 1049)", lib)
	}
	for _, c := range []struct {
		p    float64
		want int64
	}{{0, 1}, {50, 530}, {99.9, 1059}, {100, 1060}, {1e-9, 1}} {
		if got := valueAtPercentile(p, c.p); got != c.want {
			t.Errorf("p%g = %d, want %d", c.p, got, c.want)
		}
	}
	// 1000·0.999 is 999.0000000000001 in floating point: the ulp keeps the
	// rank at 999 (Java and JS do the same).
	if n := countAtPercentile(99.9, 1000); n != 999 {
		t.Errorf("rank of p99.9 of 1000 = %d", n)
	}
	if got := valueAtPercentile(newPacked(), 50); got != 0 {
		t.Errorf("empty: %d", got)
	}
}

// The collector's per-registration calls allocate nothing once the run's
// structures exist (the hot path of a million-UE storm).
func TestCollectorAllocationFree(t *testing.T) {
	c := NewCollector()
	c.Records = nil
	ue := uint32(0)
	step := func() {
		now := 3*time.Second + time.Duration(ue%1000)*time.Millisecond
		c.Attempt(now, ue%5000, ProcRegistration)
		c.ChallengeDone(now, Outcome{Code: 401, Reason: "Unauthorized - Challenging the UE"}, true, time.Duration(ue%97)*time.Millisecond)
		if ue%10 == 0 {
			c.Done(now, ue%5000, ProcRegistration, Outcome{Code: 500, Reason: "MAR failed"}, 5*time.Second)
		} else {
			c.Done(now, ue%5000, ProcRegistration, Outcome{Code: 200, Reason: "OK"}, time.Duration(ue%89)*time.Millisecond)
		}
		c.Tick(now)
		c.Record(c.MARRTT, time.Duration(ue%83)*time.Millisecond)
		ue++
	}
	for i := 0; i < 20000; i++ { // every bucket and slot the loop reaches exists
		step()
	}
	if n := testing.AllocsPerRun(10000, step); n != 0 {
		t.Errorf("%v allocations per registration", n)
	}
}

func BenchmarkCollectorRegistration(b *testing.B) {
	c := NewCollector()
	ue := uint32(0)
	for b.Loop() {
		now := time.Duration(ue) * 50 * time.Microsecond
		c.Attempt(now, ue, ProcRegistration)
		c.ChallengeDone(now, Outcome{Code: 401, Reason: "Unauthorized - Challenging the UE"}, true, time.Duration(ue%97)*time.Millisecond)
		c.Done(now, ue, ProcRegistration, Outcome{Code: 200, Reason: "OK"}, time.Duration(ue%89)*time.Millisecond)
		ue++
	}
}

// A timeline whose per-second histograms miss values merged into its
// total alone is written as one interval spanning the run.
func TestIntervalLogFallback(t *testing.T) {
	c := NewCollector()
	other := NewCollector()
	other.Record(other.HSSMAR, 20*time.Millisecond) // no Tick: total only
	c.HSSMAR.Merge(other.HSSMAR)
	var b bytes.Buffer
	if err := writeIntervalLog(&b, c.timeline("hss_mar"), 2500*time.Millisecond, "test"); err != nil {
		t.Fatal(err)
	}
	ivs, err := ReadIntervalLog(&b)
	if err != nil || len(ivs) != 1 || ivs[0].Length != 2.5 || ivs[0].Hist.TotalCount() != 1 {
		t.Fatalf("%v %+v", err, ivs)
	}
	c2 := NewCollector()
	c2.Tick(1500 * time.Millisecond)
	c2.Record(c2.HSSMAR, 20*time.Millisecond)
	b.Reset()
	if err := writeIntervalLog(&b, c2.timeline("hss_mar"), 2500*time.Millisecond, "test"); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	if ivs, err = ReadIntervalLog(&b); err != nil || len(ivs) != 3 || ivs[1].Hist.TotalCount() != 1 || ivs[2].Length != 0.5 {
		t.Fatalf("%v %+v", err, ivs)
	}
	if !strings.Contains(text, "#[StartTime: 0.000 (seconds since epoch), 1970-01-01T00:00:00Z]") {
		t.Error("no StartTime line")
	}
}
