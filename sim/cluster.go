package sim

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A partitioned run splits the nodes into parts, each with its own event
// queue, sequence numbers and network stream, and advances them in
// windows of conservative parallel discrete-event simulation (Chandy and
// Misra; the window form is Lubachevsky's bounded lag): a window starts at
// the earliest pending event t of any part and covers [t, t+L), where the
// lookahead L is the smallest latency a message between two parts can
// take. Nothing sent in a window can arrive in it, so the parts run the
// window independently, in parallel; messages between parts wait in the
// sender's outbox and join the receiver's queue when it starts the next
// window, in a fixed order (by sending part, then in sending order). The
// outcome is a function of the seed and the partition alone: the same
// whatever the number of threads or their timing. Between two windows the
// coordinator only takes a minimum: each part takes in its messages and
// finds its next event inside its own (parallel) window.

// remote is a message for a node of another part, held until the window
// ends.
type remote struct {
	at       time.Duration
	from, to NodeID
	msg      Message
}

// Partition splits the runtime into parts, one per group of nodes, for
// Run to advance in parallel. lookahead must be positive and no larger
// than the smallest latency of a link between two groups (see Floor); a
// message arriving sooner is a programming error and panics. Pending
// events move to their parts (timers are re-armed with new ids), so call
// it after wiring and bootstrapping, before any timer id is handed out.
func (rt *Runtime) Partition(groups [][]NodeID, lookahead time.Duration) error {
	switch {
	case rt.parts != nil:
		return errors.New("sim: runtime already partitioned")
	case lookahead <= 0:
		return fmt.Errorf("sim: partition lookahead %v, want > 0", lookahead)
	case len(groups) < 2 || len(groups) > math.MaxUint8:
		return fmt.Errorf("sim: %d partitions, want 2 to 255", len(groups))
	}
	owner := make([]uint8, len(rt.nodes))
	for gi, g := range groups {
		for _, n := range g {
			if n == NoNode || int(n) >= len(rt.nodes) {
				return fmt.Errorf("sim: partition %d: no node %d", gi, n)
			}
			if owner[n] != 0 {
				return fmt.Errorf("sim: node %s is in partitions %d and %d", rt.Name(n), owner[n]-1, gi)
			}
			owner[n] = uint8(gi + 1)
		}
	}
	for n := 1; n < len(rt.nodes); n++ {
		if owner[n] == 0 {
			return fmt.Errorf("sim: node %s is in no partition", rt.Name(NodeID(n)))
		}
	}
	parts := make([]*Runtime, len(groups))
	for i := range parts {
		parts[i] = &Runtime{seed: rt.seed, now: rt.now, nodes: rt.nodes, q: newQueue(), links: rt.links, loss: rt.loss,
			netRand: NewStream(rt.seed, "sim/network/"+strconv.Itoa(i)), DefaultLink: rt.DefaultLink,
			owner: owner, part: i + 1, out: [2][][]remote{make([][]remote, len(groups)), make([][]remote, len(groups))},
			outMin: [2]time.Duration{never, never}}
	}
	for {
		h := rt.q.top()
		if h == nil {
			break
		}
		e := h.pop()
		if e.kind == EvTimer {
			if rt.retire(e.id) {
				parts[owner[e.to]-1].ArmTimer(NodeID(e.to), e.at, TimerKey{Kind: e.keyKind, Ref: e.ref})
			}
			continue
		}
		rt.inFlight--
		parts[owner[e.to]-1].Deliver(e.at, NodeID(e.from), NodeID(e.to), rt.unpark(e.msg))
	}
	rt.parts, rt.owner, rt.lookahead = parts, owner, lookahead
	rt.lastEnd, rt.wbuf = rt.now, 1 // as if a window had just written buffer 1 (empty)
	return nil
}

// Partitioned reports whether Run advances parts in windows.
func (rt *Runtime) Partitioned() bool { return rt.parts != nil }

// Threads is the number of threads Run uses: 1 unless partitioned, then
// at most one per part, bounded by Workers (0: GOMAXPROCS).
func (rt *Runtime) Threads() int {
	if rt.parts == nil || rt.Trace != nil {
		return 1
	}
	w := rt.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return max(1, min(w, len(rt.parts)))
}

// earliest is the time of the part's next live event (stale timers are
// dropped on the way).
func (rt *Runtime) earliest() (time.Duration, bool) {
	for {
		h := rt.q.top()
		if h == nil {
			return 0, false
		}
		if t := &h.e[0]; t.kind == EvTimer && !rt.armed(t.id) {
			h.pop()
			rt.stats.Stale++
			continue
		}
		return h.e[0].at, true
	}
}

// runUntil delivers the part's events before end.
func (rt *Runtime) runUntil(end time.Duration) {
	for {
		at, ok := rt.earliest()
		if !ok || at >= end {
			return
		}
		rt.deliver(rt.q.top().pop())
	}
}

// never is a time no event reaches.
const never = time.Duration(math.MaxInt64)

// window is one part's share of a window: take in the messages the other
// parts sent in the window before (buffer 1-wbuf), run the events before
// end, and note the next event.
func (rt *Runtime) window(parts []*Runtime, prevEnd, end time.Duration) {
	rt.ingest(parts, 1-rt.wbuf, prevEnd)
	rt.outMin[rt.wbuf] = never
	rt.runUntil(end)
	rt.next, rt.hasNext = rt.earliest()
}

// ingest moves the messages other parts wrote to buffer b for this part
// into its queue.
func (rt *Runtime) ingest(parts []*Runtime, b int, windowEnd time.Duration) {
	me := rt.part - 1
	for _, src := range parts {
		box := src.out[b][me]
		for i := range box {
			r := &box[i]
			if r.at < windowEnd {
				panic(fmt.Sprintf("sim: message %s -> %s arrives at %v, inside the window ending %v: the partition lookahead exceeds the link's latency",
					rt.Name(r.from), rt.Name(r.to), r.at, windowEnd))
			}
			rt.push(event{at: r.at, to: uint16(r.to), from: uint16(r.from), kind: EvMessage, msg: rt.park(r.msg)})
			r.msg = nil
		}
		src.out[b][me] = box[:0]
	}
}

// runParts is Run for a partitioned runtime: windows until no work is left,
// the deadline, StopWhen (checked between windows) or an interrupt.
func (rt *Runtime) runParts(deadline time.Duration) Stats {
	for _, p := range rt.parts {
		p.Trace = rt.Trace
	}
	// A trace sees events in one deterministic order: the parts run one
	// after another in each window. Otherwise they run on threads.
	var c *crew
	if w := rt.Threads(); w > 1 {
		c = newCrew(rt.parts, w)
		defer c.stop()
	}
	lastProgress := rt.Stats().Events >> 16
	for _, p := range rt.parts {
		p.next, p.hasNext = p.earliest()
	}
	// A run may resume one that stopped at a deadline: the window state
	// (the last window's end, the outbox buffer it wrote) carries over.
	end, pb := rt.lastEnd, rt.wbuf
	defer func() { rt.lastEnd, rt.wbuf = end, pb }()
	for {
		if rt.interrupted.Load() {
			return rt.Stats()
		}
		t, any := never, false
		for _, p := range rt.parts {
			if p.hasNext && p.next < t {
				t, any = p.next, true
			}
			if p.outMin[pb] < t {
				t, any = p.outMin[pb], true
			}
		}
		if !any {
			break
		}
		if deadline > 0 && t > deadline {
			rt.now = max(rt.now, deadline)
			return rt.Stats()
		}
		prevEnd := end
		end = t + rt.lookahead
		if deadline > 0 {
			end = min(end, deadline+1)
		}
		rt.now = t
		pb = 1 - pb
		for _, p := range rt.parts {
			p.wbuf = pb
		}
		if c != nil {
			c.window(prevEnd, end)
		} else {
			for _, p := range rt.parts {
				p.window(rt.parts, prevEnd, end)
			}
		}
		if rt.WindowDone != nil {
			rt.WindowDone()
		}
		if rt.Progress != nil {
			if ev := rt.Stats().Events; ev>>16 != lastProgress {
				lastProgress = ev >> 16
				rt.Progress(t, ev)
			}
		}
		if rt.StopWhen != nil && rt.StopWhen() {
			break
		}
	}
	for _, p := range rt.parts {
		rt.now = max(rt.now, p.now)
	}
	st := rt.Stats()
	st.Exhausted = true
	rt.stats.Exhausted = true
	return st
}

// crew runs the parts of each window on worker goroutines and the caller.
// Windows are short (a lookahead of half a millisecond of virtual time is
// some hundred events), so workers spin for the next one before they
// sleep; the threads claim parts in different orders (see work), so a
// worker that wakes late still finds the parts the caller has not reached.
type crew struct {
	parts   []*Runtime
	prevEnd time.Duration
	end     time.Duration
	claimed []atomic.Bool
	left    atomic.Int32 // parts of the window not finished
	gen     atomic.Uint64
	quit    atomic.Bool
	mu      sync.Mutex
	cond    *sync.Cond
	workers sync.WaitGroup
}

func newCrew(parts []*Runtime, threads int) *crew {
	c := &crew{parts: parts, claimed: make([]atomic.Bool, len(parts))}
	c.cond = sync.NewCond(&c.mu)
	for i := 1; i < threads; i++ {
		c.workers.Add(1)
		go c.worker()
	}
	return c
}

// workerSpins is how long an idle worker polls for the next window before
// it sleeps: some hundreds of microseconds, more than the gap between two
// windows of a busy run.
const workerSpins = 1 << 18

func (c *crew) worker() {
	defer c.workers.Done()
	var seen uint64
	for {
		for spins := 0; c.gen.Load() == seen; spins++ {
			if c.quit.Load() {
				return
			}
			if spins < workerSpins {
				if spins%1024 == 1023 {
					runtime.Gosched() // let the collector's workers in
				}
				continue
			}
			c.mu.Lock()
			for c.gen.Load() == seen && !c.quit.Load() {
				c.cond.Wait()
			}
			c.mu.Unlock()
		}
		seen = c.gen.Load()
		c.work(false)
	}
}

// work claims and runs parts of the current window until none is left.
// The caller takes the first part (the heaviest: Partition's callers put
// it first), then the others from the last back; workers take them from
// the second on, and the first last. So each thread starts on a part of
// its own however late a worker wakes, and the parts in the middle go to
// whichever thread is free first.
func (c *crew) work(caller bool) {
	n := len(c.parts)
	for k := 0; k < n; k++ {
		var i int
		switch {
		case caller && k == 0:
			i = 0
		case caller:
			i = n - k
		default:
			i = (k + 1) % n
		}
		if c.claimed[i].Load() || !c.claimed[i].CompareAndSwap(false, true) {
			continue
		}
		c.parts[i].window(c.parts, c.prevEnd, c.end)
		c.left.Add(-1)
	}
}

// window runs every part's window and returns when all are done.
func (c *crew) window(prevEnd, end time.Duration) {
	c.prevEnd, c.end = prevEnd, end
	c.left.Store(int32(len(c.parts)))
	for i := range c.claimed {
		c.claimed[i].Store(false)
	}
	c.mu.Lock()
	c.gen.Add(1)
	c.cond.Broadcast()
	c.mu.Unlock()
	c.work(true)
	for spins := 0; c.left.Load() > 0; spins++ {
		if spins%256 == 255 {
			runtime.Gosched()
		}
	}
}

func (c *crew) stop() {
	c.mu.Lock()
	c.quit.Store(true)
	c.cond.Broadcast()
	c.mu.Unlock()
	c.workers.Wait()
}
