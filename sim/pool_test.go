package sim

import (
	"testing"
	"time"
)

type poolCore struct {
	p    Pool[int]
	done []int
	at   []time.Duration
}

func (c *poolCore) Handle(env Env, ev Event) {
	switch ev.Kind {
	case EvMessage:
		if _, now, _ := c.p.Submit(env, ev.Msg.(int)); now {
			c.done = append(c.done, ev.Msg.(int))
			c.at = append(c.at, env.Now())
		}
	case EvTimer:
		if j, ok := c.p.Done(env, ev); ok {
			c.done = append(c.done, j)
			c.at = append(c.at, env.Now())
		}
	}
}

func TestPoolFIFOAndOverflow(t *testing.T) {
	rt := New(1)
	c := &poolCore{p: Pool[int]{Kind: 9, Servers: 2, QueueCap: 2, Service: Constant{D: time.Second}}}
	n := rt.AddNode("pool", c)
	for i := 0; i < 6; i++ {
		rt.Deliver(0, NoNode, n, i)
	}
	rt.Run(0)
	// 2 in service, 2 queued, 2 dropped; FIFO: 0,1 at 1 s, 2,3 at 2 s.
	want := []int{0, 1, 2, 3}
	wantAt := []time.Duration{time.Second, time.Second, 2 * time.Second, 2 * time.Second}
	if len(c.done) != 4 {
		t.Fatalf("done %v", c.done)
	}
	for i := range want {
		if c.done[i] != want[i] || c.at[i] != wantAt[i] {
			t.Fatalf("done %v at %v", c.done, c.at)
		}
	}
	st := c.p.Stats
	if st.Dropped != 2 || st.Completed != 4 || st.MaxQueue != 2 || st.Wait != 2*time.Second || c.p.Busy() != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPoolDisabledRunsAtOnce(t *testing.T) {
	rt := New(1)
	c := &poolCore{}
	n := rt.AddNode("pool", c)
	rt.Deliver(time.Second, NoNode, n, 7)
	rt.Run(0)
	if len(c.done) != 1 || c.at[0] != time.Second {
		t.Fatalf("done %v at %v", c.done, c.at)
	}
}
