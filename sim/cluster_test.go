package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// pingNet is three nodes passing messages around with random latencies
// and timers, recording what each sees: a partitioned run must give the
// same log whatever the number of threads.
func pingNet(t *testing.T, workers int, partition bool) ([]string, Stats) {
	t.Helper()
	rt := New(7)
	var log []string
	logs := make([][]string, 4)
	var ids [4]NodeID
	for i := 1; i <= 3; i++ {
		h := &recorder{}
		ids[i] = rt.AddNode(fmt.Sprintf("n%d", i), h)
		me := i
		h.fn = func(env Env, ev Event) {
			logs[me] = append(logs[me], fmt.Sprintf("%v %d %d %v", env.Now(), ev.Kind, ev.Timer.Ref, ev.Msg))
			if ev.Kind == EvTimer && ev.Timer.Ref < 2000 {
				env.SetTimer(time.Duration(env.Rand().IntN(3000))*time.Microsecond, TimerKey{Ref: ev.Timer.Ref + 1})
				env.Send(ids[1+(me%3)], ev.Timer.Ref)
			}
			if ev.Kind == EvMessage {
				if n := ev.Msg.(uint64); n%3 == 0 {
					env.SendAfter(time.Millisecond, ids[1+((me+1)%3)], n+1)
				}
			}
		}
	}
	for i := 1; i <= 3; i++ {
		for j := 1; j <= 3; j++ {
			if i != j {
				rt.SetLink(ids[i], ids[j], Uniform{Min: time.Millisecond, Max: 4 * time.Millisecond}, 0.01)
			}
		}
		rt.ArmTimer(ids[i], time.Duration(i)*time.Millisecond, TimerKey{Ref: 0})
	}
	if partition {
		if err := rt.Partition([][]NodeID{{ids[1]}, {ids[2]}, {ids[3]}}, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		rt.Workers = workers
	}
	st := rt.Run(0)
	for i := 1; i <= 3; i++ {
		log = append(log, strings.Join(logs[i], "\n"))
	}
	return log, st
}

func TestPartitionedRunIsIndependentOfThreads(t *testing.T) {
	one, st1 := pingNet(t, 1, true)
	two, st2 := pingNet(t, 2, true)
	if st1 != st2 || st1.Events < 6000 || !st1.Exhausted {
		t.Fatalf("stats differ or too few events: %+v vs %+v", st1, st2)
	}
	for i := range one {
		if one[i] != two[i] {
			t.Fatalf("node %d saw different events with 1 and 2 threads", i+1)
		}
	}
	// The sequential runtime delivers the same number of timer events
	// (each node's own timer chain does not depend on the network).
	seq, st := pingNet(t, 1, false)
	if st.Events == 0 || len(seq) != 3 {
		t.Fatalf("sequential run: %+v", st)
	}
}

func TestPartitionChecks(t *testing.T) {
	rt := New(1)
	a := rt.AddNode("a", &recorder{})
	b := rt.AddNode("b", &recorder{})
	for _, c := range []struct {
		groups [][]NodeID
		la     time.Duration
	}{
		{[][]NodeID{{a}, {b}}, 0},
		{[][]NodeID{{a, b}}, time.Millisecond},
		{[][]NodeID{{a}, {a, b}}, time.Millisecond},
		{[][]NodeID{{a}, {9}}, time.Millisecond},
	} {
		if err := rt.Partition(c.groups, c.la); err == nil {
			t.Errorf("Partition(%v, %v) accepted", c.groups, c.la)
		}
	}
}

// A link faster than the lookahead breaks the window guarantee: the run
// stops with a message naming the link instead of reordering time.
func TestPartitionLookaheadViolationPanics(t *testing.T) {
	rt := New(1)
	h := &recorder{}
	a := rt.AddNode("a", h)
	b := rt.AddNode("b", &recorder{})
	h.fn = func(env Env, ev Event) { env.Send(b, "x") }
	rt.SetLink(a, b, Constant{D: 100 * time.Microsecond}, 0)
	rt.ArmTimer(a, 0, TimerKey{})
	if err := rt.Partition([][]NodeID{{a}, {b}}, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "a -> b") {
			t.Fatalf("recovered %v", r)
		}
	}()
	rt.Run(0)
}

func TestFloor(t *testing.T) {
	m, _ := NewMixture([]float64{1, 1}, []Dist{Uniform{Min: 2 * time.Millisecond, Max: 5 * time.Millisecond}, Constant{D: time.Millisecond}})
	for _, c := range []struct {
		d    Dist
		want time.Duration
	}{
		{Constant{D: time.Second}, time.Second},
		{Uniform{Min: time.Millisecond, Max: 2 * time.Millisecond}, time.Millisecond},
		{Exponential{Mean: time.Second}, 0},
		{Pareto{Xm: 3 * time.Millisecond, Alpha: 2}, 3 * time.Millisecond},
		{m, time.Millisecond},
	} {
		if got := Floor(c.d); got != c.want {
			t.Errorf("Floor(%v) = %v, want %v", c.d, got, c.want)
		}
	}
}

// A partitioned run stopped at deadlines and resumed sees the same events
// as one run to the end (messages between parts wait across the stops).
func TestPartitionedRunResumes(t *testing.T) {
	build := func() (*Runtime, *[]string) {
		rt := New(3)
		var log []string
		var ids [3]NodeID
		for i := 1; i <= 2; i++ {
			h := &recorder{}
			ids[i] = rt.AddNode(fmt.Sprintf("n%d", i), h)
			me := i
			h.fn = func(env Env, ev Event) {
				log = append(log, fmt.Sprintf("%d %v %v", me, env.Now(), ev.Msg))
				n := 0
				if ev.Kind == EvMessage {
					n = ev.Msg.(int)
				}
				if n < 300 {
					env.Send(ids[3-me], n+1)
				}
			}
		}
		rt.SetLink(ids[1], ids[2], Uniform{Min: time.Millisecond, Max: 3 * time.Millisecond}, 0)
		rt.SetLink(ids[2], ids[1], Uniform{Min: time.Millisecond, Max: 3 * time.Millisecond}, 0)
		rt.ArmTimer(ids[1], 0, TimerKey{})
		if err := rt.Partition([][]NodeID{{ids[1]}, {ids[2]}}, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		rt.Workers = 1
		return rt, &log
	}
	whole, wlog := build()
	whole.Run(0)
	steps, slog := build()
	for d := 7 * time.Millisecond; !steps.Stats().Exhausted; d += 7 * time.Millisecond {
		steps.Run(d)
	}
	if len(*wlog) != 301 || strings.Join(*wlog, "\n") != strings.Join(*slog, "\n") {
		t.Fatalf("resumed run differs: %d vs %d events", len(*wlog), len(*slog))
	}
}
