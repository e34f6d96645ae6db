package sim

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

type recorder struct {
	fn func(env Env, ev Event)
}

func (r *recorder) Handle(env Env, ev Event) {
	if r.fn != nil {
		r.fn(env, ev)
	}
}

func TestQueueOrdersByTimeThenSequence(t *testing.T) {
	q := newQueue()
	r := rand.New(rand.NewPCG(1, 2))
	var want []event
	for i := 0; i < 5000; i++ {
		e := event{at: time.Duration(r.IntN(50)) * 3 * time.Second, seq: uint64(i + 1)} // both heaps
		q.push(e)
		want = append(want, e)
	}
	sort.SliceStable(want, func(i, j int) bool { return want[i].at < want[j].at })
	for i := range want {
		got := q.pop()
		if got.at != want[i].at || got.seq != want[i].seq {
			t.Fatalf("pop %d = (%v,%d), want (%v,%d)", i, got.at, got.seq, want[i].at, want[i].seq)
		}
	}
	if q.len() != 0 {
		t.Fatal("queue not empty")
	}
}

func TestTimersFireInOrderAndCancel(t *testing.T) {
	rt := New(1)
	var fired []uint64
	var cancelMe TimerID
	h := &recorder{}
	n := rt.AddNode("n", h)
	h.fn = func(env Env, ev Event) {
		fired = append(fired, ev.Timer.Ref)
		if ev.Timer.Ref == 0 {
			env.SetTimer(3*time.Second, TimerKey{Ref: 3})
			cancelMe = env.SetTimer(2*time.Second, TimerKey{Ref: 2})
			env.SetTimer(1*time.Second, TimerKey{Ref: 1})
			env.SetTimer(1*time.Second, TimerKey{Ref: 11}) // same time: insertion order
		}
		if ev.Timer.Ref == 1 {
			env.CancelTimer(cancelMe)
			env.CancelTimer(cancelMe) // double cancel is a no-op
		}
	}
	rt.ArmTimer(n, 0, TimerKey{Ref: 0})
	st := rt.Run(0)
	want := []uint64{0, 1, 11, 3}
	if len(fired) != len(want) {
		t.Fatalf("fired %v, want %v", fired, want)
	}
	for i := range want {
		if fired[i] != want[i] {
			t.Fatalf("fired %v, want %v", fired, want)
		}
	}
	if st.Reached != 3*time.Second || st.Stale != 0 || !st.Exhausted || rt.Pending() != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCancelAfterSlotReuseDoesNotHitNewTimer(t *testing.T) {
	rt := New(1)
	var fired []uint64
	h := &recorder{}
	n := rt.AddNode("n", h)
	h.fn = func(env Env, ev Event) {
		fired = append(fired, ev.Timer.Ref)
		if ev.Timer.Ref == 0 {
			old := env.SetTimer(time.Second, TimerKey{Ref: 1})
			env.CancelTimer(old)
			env.SetTimer(2*time.Second, TimerKey{Ref: 2}) // reuses the slot
			env.CancelTimer(old)                          // stale id must not cancel Ref 2
		}
	}
	rt.ArmTimer(n, 0, TimerKey{Ref: 0})
	rt.Run(0)
	if len(fired) != 2 || fired[1] != 2 {
		t.Fatalf("fired %v, want [0 2]", fired)
	}
}

func TestDeadlineStopsRun(t *testing.T) {
	rt := New(1)
	h := &recorder{}
	n := rt.AddNode("n", h)
	h.fn = func(env Env, ev Event) { env.SetTimer(time.Second, ev.Timer) } // runs forever
	rt.ArmTimer(n, 0, TimerKey{})
	st := rt.Run(10 * time.Second)
	if st.Exhausted || st.Events != 11 || rt.Now() != 10*time.Second {
		t.Fatalf("stats %+v now %v", st, rt.Now())
	}
}

func TestLinksDelayAndStreamsAreIndependent(t *testing.T) {
	rt := New(42)
	var arrivedAt time.Duration
	a := &recorder{}
	b := &recorder{fn: func(env Env, ev Event) { arrivedAt = env.Now() }}
	na := rt.AddNode("a", a)
	nb := rt.AddNode("b", b)
	a.fn = func(env Env, ev Event) { env.Send(nb, "hello") }
	rt.SetLink(na, nb, Constant{D: 7 * time.Millisecond}, 0)
	rt.ArmTimer(na, time.Second, TimerKey{})
	rt.Run(0)
	if arrivedAt != time.Second+7*time.Millisecond {
		t.Fatalf("arrived at %v", arrivedAt)
	}
	// A node's stream depends only on (seed, name).
	x := NewStream(42, "b").Uint64()
	rt2 := New(42)
	rt2.AddNode("zzz", &recorder{})
	id := rt2.AddNode("b", &recorder{})
	if rt2.nodes[id].rng.Uint64() != x {
		t.Fatal("stream of node b changed when another node was added")
	}
}

func TestLogNormalQuantiles(t *testing.T) {
	d, err := NewLogNormal(20*time.Millisecond, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	r := NewStream(1, "x")
	const n = 200000
	s := make([]time.Duration, n)
	for i := range s {
		s[i] = d.Sample(r)
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	p50, p99 := s[n/2], s[n*99/100]
	if p50 < 19*time.Millisecond || p50 > 21*time.Millisecond || p99 < 190*time.Millisecond || p99 > 210*time.Millisecond {
		t.Fatalf("p50 %v p99 %v, want about 20ms and 200ms", p50, p99)
	}
	if _, err := NewLogNormal(0, time.Second); err == nil {
		t.Fatal("p50 = 0 accepted")
	}
}

// BenchmarkHold is the classic discrete-event "hold" model: Q pending timers,
// each event re-arms itself at now + Exp(1 s).
func BenchmarkHold(b *testing.B) {
	for _, q := range []int{10_000, 1_000_000} {
		b.Run(itoa(q), func(b *testing.B) {
			rt := New(1)
			h := &recorder{}
			n := rt.AddNode("n", h)
			exp := Exponential{Mean: time.Second}
			h.fn = func(env Env, ev Event) { env.SetTimer(exp.Sample(env.Rand()), ev.Timer) }
			r := NewStream(2, "init")
			for i := 0; i < q; i++ {
				rt.ArmTimer(n, exp.Sample(r), TimerKey{Ref: uint64(i)})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				e := rt.q.pop()
				rt.retire(e.id)
				rt.now = e.at
				rt.cur = NodeID(e.to)
				rt.nodes[e.to].handler.Handle(rt, Event{Kind: e.kind, Timer: TimerKey{Kind: e.keyKind, Ref: e.ref}, ID: e.id})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func itoa(n int) string {
	switch {
	case n >= 1_000_000:
		return "Q=1M"
	default:
		return "Q=10k"
	}
}

func quantiles(d Dist, n int) (p50, p99 time.Duration, mean float64) {
	r := NewStream(3, "q")
	s := make([]time.Duration, n)
	for i := range s {
		s[i] = d.Sample(r)
		mean += float64(s[i])
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[n/2], s[n*99/100], mean / float64(n)
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol*math.Abs(want) }

func TestMoreDistributions(t *testing.T) {
	// Pareto: median = Xm·2^(1/α), p99 = Xm·100^(1/α).
	_, p99, _ := quantiles(Pareto{Xm: time.Millisecond, Alpha: 2}, 200000)
	if !near(float64(p99), float64(10*time.Millisecond), 0.05) {
		t.Errorf("pareto p99 %v, want 10ms", p99)
	}
	p50, _, mean := quantiles(Normal{Mean: 10 * time.Millisecond, Stddev: 2 * time.Millisecond}, 200000)
	if !near(float64(p50), 10e6, 0.02) || !near(mean, 10e6, 0.02) {
		t.Errorf("normal p50 %v mean %v", p50, time.Duration(mean))
	}
	// Truncation: never negative.
	r := NewStream(1, "n")
	for i := 0; i < 10000; i++ {
		if (Normal{Mean: 0, Stddev: time.Second}).Sample(r) < 0 {
			t.Fatal("negative normal draw")
		}
	}
	m, err := NewMixture([]float64{99, 1}, []Dist{Constant{D: time.Millisecond}, Constant{D: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, mean = quantiles(m, 100000)
	if want := 0.99*1e6 + 0.01*1e9; !near(mean, want, 0.1) {
		t.Errorf("mixture mean %v, want %v", time.Duration(mean), time.Duration(want))
	}
	e, err := NewEmpirical("t", []time.Duration{0, 10 * time.Millisecond}, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}, []float64{3, 1})
	if err != nil {
		t.Fatal(err)
	}
	p50, _, _ = quantiles(e, 100000)
	if !near(float64(p50), float64(6667*time.Microsecond), 0.03) {
		t.Errorf("empirical p50 %v, want 6.67ms", p50)
	}
	if _, err := NewEmpirical("x", nil, nil, nil); err == nil {
		t.Error("empty empirical accepted")
	}
	if _, err := NewMixture([]float64{0}, []Dist{Constant{}}); err == nil {
		t.Error("zero weight accepted")
	}
}
