package ue

import (
	"runtime"

	"github.com/regstorm/regstorm/internal/subscriber"
	"testing"
	"time"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/sim"
)

// TS 24.229 §5.1.1.4.1: a registration granted 600 s is refreshed at 300 s
// (half); one granted 3600 s at 3000 s (600 s before expiry).
func TestReregistrationTiming(t *testing.T) {
	for _, c := range []struct {
		granted int32
		want    time.Duration
	}{{600, 300 * time.Second}, {3600, 3000 * time.Second}, {1200, 600 * time.Second}, {1201, 601 * time.Second}} {
		reg := &registrar{reply: func(r *sipmsg.Request) *sipmsg.Response {
			return &sipmsg.Response{Code: 200, Reason: "OK", Expires: int64(c.granted)}
		}}
		rt, f, col := fleet(t, 1, reg, 0)
		f.cfg.Reregister = true
		rt.Run(c.want + time.Second/2)
		if len(reg.reqs) != 2 || col.Attempted != 2 || f.Stats.Reregistrations != 1 {
			t.Fatalf("granted %d: %d REGISTERs, stats %+v", c.granted, len(reg.reqs), f.Stats)
		}
		if got := ReregisterInterval(c.granted); got != c.want {
			t.Errorf("granted %d: refresh after %v, want %v", c.granted, got, c.want)
		}
		if reg.reqs[1].CSeq != 2 || reg.reqs[1].CallID != reg.reqs[0].CallID {
			t.Error("a refresh keeps the Call-ID and increments CSeq (RFC 3261 §10.2.4)")
		}
	}
}

// RFC 5626 §4.5: after consecutive 503s (no Retry-After) the UE waits a
// random time between 50 % and 100 % of min(max, base·2^failures):
// 30-60 s, 60-120 s, 120-240 s, ... capped at 1800 s.
func TestBackoffAfterRepeated503(t *testing.T) {
	reg := &registrar{reply: func(r *sipmsg.Request) *sipmsg.Response {
		return &sipmsg.Response{Code: 503, Reason: "Service Unavailable"}
	}}
	rt, f, col := fleet(t, 1, reg, 0)
	f.cfg.Retry, f.cfg.RetryBase, f.cfg.RetryMax, f.cfg.RetryAttempts = true, 15*time.Second, 1800*time.Second, 9
	var sent []time.Duration
	rt.Trace = func(at time.Duration, to sim.NodeID, ev *sim.Event) {
		if ev.Kind == sim.EvMessage {
			if _, ok := ev.Msg.(*sipmsg.Request); ok {
				sent = append(sent, at)
			}
		}
	}
	rt.Run(0)
	if len(sent) != 9 || f.Stats.GaveUp != 1 || col.Retries[503] != 8 {
		t.Fatalf("sent %v, stats %+v, retries %v", sent, f.Stats, col.Retries)
	}
	for k := 1; k < len(sent); k++ {
		full := min(1800*time.Second, 15*time.Second<<k)
		gap := sent[k] - sent[k-1]
		if gap < full/2 || gap > full {
			t.Errorf("retry %d after %v, want within [%v, %v]", k, gap, full/2, full)
		}
	}
}

// A Retry-After on the response decides the wait.
func TestRetryAfter(t *testing.T) {
	reg := &registrar{}
	reg.reply = func(r *sipmsg.Request) *sipmsg.Response {
		if len(reg.reqs) == 1 {
			return &sipmsg.Response{Code: 500, Reason: "Server Internal Error", RetryAfter: 42}
		}
		return &sipmsg.Response{Code: 200, Reason: "OK", Expires: 600}
	}
	rt, f, col := fleet(t, 1, reg, 0)
	f.cfg.Retry, f.cfg.RetryBase, f.cfg.RetryMax = true, 30*time.Second, 1800*time.Second
	rt.Run(0)
	if len(reg.reqs) != 2 || col.Succeeded != 1 || col.Failed != 1 || rt.Now() != 42*time.Second {
		t.Fatalf("%d REGISTERs, %d ok %d failed, ended at %v", len(reg.reqs), col.Succeeded, col.Failed, rt.Now())
	}
}

// De-registration: Expires: 0 at the configured time; the UE ends
// Deregistered.
func TestDeregistration(t *testing.T) {
	reg := &registrar{reply: func(r *sipmsg.Request) *sipmsg.Response {
		return &sipmsg.Response{Code: 200, Reason: "OK", Expires: 600}
	}}
	rt, f, _ := fleet(t, 1, reg, 0)
	f.cfg.Reregister, f.cfg.DeregisterAt = true, 100*time.Second
	rt.Run(0)
	if len(reg.reqs) != 2 || reg.reqs[1].Expires != 0 || f.State(0) != Deregistered || rt.Now() != 100*time.Second {
		t.Fatalf("REGISTERs %d, last Expires %d, state %v, ended %v", len(reg.reqs), reg.reqs[len(reg.reqs)-1].Expires, f.State(0), rt.Now())
	}
}

// A closed loop keeps Concurrency registrations in progress.
func TestClosedLoop(t *testing.T) {
	inflight, most := 0, 0
	reg := &registrar{}
	reg.reply = func(r *sipmsg.Request) *sipmsg.Response { return nil }
	rt, f, col := fleet(t, 10, reg, 0)
	f.cfg.Concurrency = 3
	rt.Trace = func(at time.Duration, to sim.NodeID, ev *sim.Event) {
		if _, ok := ev.Msg.(*sipmsg.Request); ok {
			inflight++
			most = max(most, f.Active())
		}
	}
	rt.Run(0)
	_ = inflight
	if col.Attempted != 10 || most != 3 || col.ByCode[408] != 10 {
		t.Fatalf("attempted %d, most in flight %d, codes %v", col.Attempted, most, col.ByCode)
	}
}

// BenchmarkIdleUEBytes measures the heap a registered idle UE costs: the
// fleet's per-UE state, with identities, keys and URIs derived on demand.
// Target (issue 5): at most 128 bytes.
func BenchmarkIdleUEBytes(b *testing.B) {
	const n = 1_000_000
	impi, _ := subscriber.ParseTemplate("user{n}@ims.example.org")
	impu, _ := subscriber.ParseTemplate("sip:user{n}@ims.example.org")
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f, err := New(Config{Population: subscriber.Population{Count: n, Realm: "ims.example.org", IMPI: impi, IMPU: impu},
			SCSCF: 1, Arrivals: &steps{}, ThinkTime: sim.Constant{}, TimerF: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		for i := range f.ues { // registered and idle
			f.ues[i].state, f.ues[i].cseq, f.ues[i].lastSQN = Registered, 2, 1<<20
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per := float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(f)
		b.ReportMetric(per, "bytes/UE")
		if per > 128 {
			b.Fatalf("%.1f bytes per idle registered UE, target 128", per)
		}
	}
}
