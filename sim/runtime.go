package sim

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

type node struct {
	name    string
	handler Handler
	rng     *rand.Rand
}

// Stats are the runtime's own counters.
type Stats struct {
	Events    uint64        // events delivered to handlers
	Stale     uint64        // cancelled timers skipped at pop time
	Sent      uint64        // messages sent
	Dropped   uint64        // messages lost on links
	Reached   time.Duration // virtual time of the last delivered event
	Exhausted bool          // true if the run ended because no work was left
}

// TraceFunc, when set, sees every delivered event before its handler.
type TraceFunc func(at time.Duration, to NodeID, ev *Event)

// Runtime is the virtual-time runtime. Its methods are not safe for
// concurrent use (Interrupt excepted): a partitioned runtime runs its parts
// on threads of its own inside Run (cluster.go), and independent runtimes
// (variants, seeds) run side by side.
type Runtime struct {
	seed  uint64
	now   time.Duration
	seq   uint64
	q     queue
	nodes []node // index = NodeID; 0 unused
	cur   NodeID

	links   [][]Dist // [from][to]; nil entry = DefaultLink
	loss    [][]float64
	netRand *rand.Rand

	// DefaultLink is the latency of links without their own distribution.
	DefaultLink Dist

	gens []uint32 // timer slot generations
	free []uint32 // free timer slots

	msgs     []Message // messages in flight, by slot (event.msg - 1)
	freeMsgs []uint32  // free message slots

	stats  Stats
	Trace  TraceFunc
	traced Event
	// Progress, when set, is called every 65,536 events (a long run's
	// progress report; it must not touch the runtime).
	Progress func(now time.Duration, events uint64)
	// WindowDone, when set, is called after each window of a partitioned
	// run, between windows (a trace puts the window's lines in order).
	WindowDone func()
	// StopWhen, when set, is checked after every event; Run returns as soon
	// as it is true (the scenario's "all work done", which ignores timers
	// that only keep state alive, such as contact expiries).
	StopWhen func() bool

	interrupted atomic.Bool
	inFlight    int

	// Partitioned runs (cluster.go): a coordinator holds parts; a part
	// knows each node's owner (part index + 1) and holds messages for
	// other parts in an outbox until the window ends. Outboxes alternate
	// between windows: a part writes out[wbuf] while the receivers take in
	// what it wrote in the window before.
	parts     []*Runtime
	owner     []uint8
	part      int
	out       [2][][]remote    // by buffer, by destination part
	outMin    [2]time.Duration // earliest arrival in each buffer
	wbuf      int              // the buffer this window writes (coordinator: the last window's)
	lastEnd   time.Duration    // coordinator: the last window's end
	next      time.Duration    // the part's next event after its window
	hasNext   bool
	lookahead time.Duration
	// Workers bounds the threads of a partitioned run (0: GOMAXPROCS).
	Workers int
}

// InFlight is the number of messages sent and not yet delivered.
func (rt *Runtime) InFlight() int {
	n := rt.inFlight
	for _, p := range rt.parts {
		n += p.inFlight
	}
	return n
}

// Interrupt asks a running Run to return soon (within a few thousand
// events); it is the one method safe to call from another goroutine, for
// SIGINT handling that still flushes results.
func (rt *Runtime) Interrupt() { rt.interrupted.Store(true) }

// Interrupted reports whether Interrupt was called.
func (rt *Runtime) Interrupted() bool { return rt.interrupted.Load() }

// New returns a runtime whose node streams derive from seed.
func New(seed uint64) *Runtime {
	return &Runtime{
		seed:        seed,
		nodes:       make([]node, 1),
		q:           newQueue(),
		links:       [][]Dist{{nil}},
		loss:        [][]float64{{0}},
		netRand:     NewStream(seed, "sim/network"),
		DefaultLink: Constant{},
	}
}

// AddNode registers a core under a unique name and returns its id. The
// node's random stream derives from (seed, name).
func (rt *Runtime) AddNode(name string, h Handler) NodeID {
	for _, n := range rt.nodes[1:] {
		if n.name == name {
			panic(fmt.Sprintf("sim: duplicate node name %q", name)) // programming error in wiring
		}
	}
	if len(rt.nodes) > 1<<16-1 {
		panic("sim: more than 65,535 nodes") // events carry node ids in 16 bits
	}
	rt.nodes = append(rt.nodes, node{name: name, handler: h, rng: NewStream(rt.seed, name)})
	id := NodeID(len(rt.nodes) - 1)
	for i := range rt.links {
		rt.links[i] = append(rt.links[i], nil)
		rt.loss[i] = append(rt.loss[i], 0)
	}
	rt.links = append(rt.links, make([]Dist, len(rt.nodes)))
	rt.loss = append(rt.loss, make([]float64, len(rt.nodes)))
	return id
}

// SetHandler attaches (or replaces) the core of a node, so that nodes can be
// added first and cores built with each other's ids.
func (rt *Runtime) SetHandler(id NodeID, h Handler) { rt.nodes[id].handler = h }

// Name returns a node's name.
func (rt *Runtime) Name(id NodeID) string {
	if int(id) >= len(rt.nodes) || id == NoNode {
		return "?"
	}
	return rt.nodes[id].name
}

// SetLink sets the one-way latency and loss probability from a to b.
func (rt *Runtime) SetLink(a, b NodeID, latency Dist, loss float64) {
	rt.links[a][b] = latency
	rt.loss[a][b] = loss
}

// Stats returns the counters so far.
func (rt *Runtime) Stats() Stats {
	if rt.parts == nil {
		return rt.stats
	}
	st := rt.stats
	for _, p := range rt.parts {
		st.Events += p.stats.Events
		st.Stale += p.stats.Stale
		st.Sent += p.stats.Sent
		st.Dropped += p.stats.Dropped
		st.Reached = max(st.Reached, p.stats.Reached)
	}
	return st
}

// Pending is the number of queued events, stale timers included.
func (rt *Runtime) Pending() int {
	n := rt.q.len()
	for _, p := range rt.parts {
		n += p.q.len()
		for _, buf := range p.out {
			for _, o := range buf {
				n += len(o)
			}
		}
	}
	return n
}

func (rt *Runtime) push(e event) {
	rt.seq++
	e.seq = rt.seq
	rt.q.push(e)
}

// ArmTimer arms a timer on node n at absolute virtual time at, from outside
// any handler (bootstrapping a run, or a test firing a timer by name).
func (rt *Runtime) ArmTimer(n NodeID, at time.Duration, key TimerKey) TimerID {
	if rt.parts != nil {
		return rt.parts[rt.owner[n]-1].ArmTimer(n, at, key)
	}
	id := rt.newTimerID()
	rt.push(event{at: max(at, rt.now), to: uint16(n), kind: EvTimer, keyKind: key.Kind, ref: key.Ref, id: id})
	return id
}

// Deliver schedules msg to arrive at node to at absolute time at, as if sent
// by from (tests and adapters).
func (rt *Runtime) Deliver(at time.Duration, from, to NodeID, msg Message) {
	if rt.parts != nil {
		rt.parts[rt.owner[to]-1].Deliver(at, from, to, msg)
		return
	}
	rt.inFlight++
	rt.push(event{at: max(at, rt.now), to: uint16(to), from: uint16(from), kind: EvMessage, msg: rt.park(msg)})
}

func (rt *Runtime) newTimerID() TimerID {
	var slot uint32
	if n := len(rt.free); n > 0 {
		slot = rt.free[n-1]
		rt.free = rt.free[:n-1]
	} else {
		rt.gens = append(rt.gens, 1)
		slot = uint32(len(rt.gens) - 1)
	}
	return TimerID(uint64(rt.gens[slot])<<32 | uint64(slot))
}

// armed reports whether id is a timer armed and not yet fired or cancelled.
func (rt *Runtime) armed(id TimerID) bool {
	slot := uint32(id)
	return id != 0 && int(slot) < len(rt.gens) && rt.gens[slot] == uint32(id>>32)
}

// retire ends timer id (fired or cancelled) and frees its slot; it reports
// whether id was armed.
func (rt *Runtime) retire(id TimerID) bool {
	if !rt.armed(id) {
		return false
	}
	slot := uint32(id)
	rt.gens[slot]++
	if rt.gens[slot] == 0 {
		rt.gens[slot] = 1
	}
	rt.free = append(rt.free, slot)
	return true
}

// Run delivers events in (time, sequence) order until the queue is empty or
// the next event lies beyond deadline (deadline <= 0 means no deadline).
func (rt *Runtime) Run(deadline time.Duration) Stats {
	if rt.parts != nil {
		return rt.runParts(deadline)
	}
	for {
		if rt.stats.Events&4095 == 0 {
			if rt.interrupted.Load() {
				return rt.stats
			}
			if rt.Progress != nil && rt.stats.Events&65535 == 0 {
				rt.Progress(rt.now, rt.stats.Events)
			}
		}
		h := rt.q.top()
		if h == nil {
			break
		}
		if t := &h.e[0]; t.kind == EvTimer && !rt.armed(t.id) {
			h.pop() // cancelled while in a heap
			rt.stats.Stale++
			continue
		}
		if deadline > 0 && h.e[0].at > deadline {
			rt.now = max(rt.now, deadline)
			return rt.stats
		}
		rt.deliver(h.pop())
		if rt.StopWhen != nil && rt.StopWhen() {
			rt.stats.Exhausted = true
			return rt.stats
		}
	}
	rt.stats.Exhausted = true
	return rt.stats
}

// deliver hands a popped live event to its node's handler.
func (rt *Runtime) deliver(e event) {
	if e.kind == EvTimer {
		rt.retire(e.id)
	} else {
		rt.inFlight--
	}
	rt.now = e.at
	rt.stats.Events++
	rt.stats.Reached = e.at
	ev := Event{Kind: e.kind, From: NodeID(e.from), Timer: TimerKey{Kind: e.keyKind, Ref: e.ref}, ID: e.id}
	if e.msg != 0 {
		ev.Msg = rt.unpark(e.msg)
	}
	to := NodeID(e.to)
	if rt.Trace != nil {
		// The trace sees a copy held by the runtime: taking ev's address
		// would move every event to the heap.
		rt.traced = ev
		rt.Trace(e.at, to, &rt.traced)
		ev = rt.traced
		rt.traced = Event{}
	}
	rt.cur = to
	rt.nodes[to].handler.Handle(rt, ev)
	rt.cur = NoNode
}

// Env implementation; valid while a handler runs.

func (rt *Runtime) Now() time.Duration { return rt.now }
func (rt *Runtime) Self() NodeID       { return rt.cur }
func (rt *Runtime) Rand() *rand.Rand   { return rt.nodes[rt.cur].rng }

func (rt *Runtime) Send(to NodeID, msg Message) { rt.SendAfter(0, to, msg) }

func (rt *Runtime) SendAfter(d time.Duration, to NodeID, msg Message) {
	from := rt.cur
	rt.stats.Sent++
	if p := rt.loss[from][to]; p > 0 && rt.netRand.Float64() < p {
		rt.stats.Dropped++
		return
	}
	l := rt.links[from][to]
	if l == nil {
		l = rt.DefaultLink
	}
	rt.inFlight++
	at := rt.now + max(0, d) + max(0, l.Sample(rt.netRand))
	if rt.owner != nil && int(rt.owner[to]) != rt.part {
		// Another partition's node: it sees the message after this window
		// (at >= now + lookahead by the choice of lookahead).
		dst, b := rt.owner[to]-1, rt.wbuf
		rt.out[b][dst] = append(rt.out[b][dst], remote{at: at, from: from, to: to, msg: msg})
		rt.outMin[b] = min(rt.outMin[b], at)
		return
	}
	rt.push(event{at: at, to: uint16(to), from: uint16(from), kind: EvMessage, msg: rt.park(msg)})
}

// park stores a message in flight in the slab and returns its reference.
func (rt *Runtime) park(msg Message) uint32 {
	if n := len(rt.freeMsgs); n > 0 {
		slot := rt.freeMsgs[n-1]
		rt.freeMsgs = rt.freeMsgs[:n-1]
		rt.msgs[slot] = msg
		return slot + 1
	}
	rt.msgs = append(rt.msgs, msg)
	return uint32(len(rt.msgs))
}

// unpark takes a message out of the slab at delivery.
func (rt *Runtime) unpark(ref uint32) Message {
	slot := ref - 1
	msg := rt.msgs[slot]
	rt.msgs[slot] = nil
	rt.freeMsgs = append(rt.freeMsgs, slot)
	return msg
}

func (rt *Runtime) SetTimer(d time.Duration, key TimerKey) TimerID {
	id := rt.newTimerID()
	rt.push(event{at: rt.now + max(0, d), to: uint16(rt.cur), kind: EvTimer, keyKind: key.Kind, ref: key.Ref, id: id})
	return id
}

func (rt *Runtime) CancelTimer(id TimerID) {
	if rt.retire(id) {
		rt.q.cancel(id)
	}
}

var _ Env = (*Runtime)(nil)
