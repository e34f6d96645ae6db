package live

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regstorm/regstorm/sim"
)

// Outbound carries a core's message to a peer (a transport's writer).
type Outbound func(msg sim.Message) error

// Node runs one core on the wall clock in its own event loop.
type Node struct {
	name    string
	core    sim.Handler
	rng     *rand.Rand
	start   time.Time
	events  chan sim.Event
	done    chan struct{}
	exited  chan struct{} // closed when Run returns
	running atomic.Bool
	inLoop  atomic.Bool // a core handler is running (Stop from there must not wait)
	stopped sync.Once

	mu    sync.Mutex
	peers map[sim.NodeID]Outbound
	next  sim.NodeID

	// loop-goroutine state
	armed  map[sim.TimerID]*time.Timer
	nextID sim.TimerID

	// Idle, when set, is checked after every event; Done is closed the
	// first time it is true (the work of a live run is over).
	Idle func() bool
	Done chan struct{}
	idle bool

	// Errors receives send failures (a peer gone, an encoding error); it
	// is buffered and drops when full, counting in Dropped.
	Errors  chan error
	Dropped atomic.Uint64
}

// NewNode prepares a node; Run starts its loop.
func NewNode(name string, seed uint64, core sim.Handler) *Node {
	return &Node{name: name, core: core, rng: sim.NewStream(seed, name), start: time.Now(), Done: make(chan struct{}),
		events: make(chan sim.Event, 4096), done: make(chan struct{}), exited: make(chan struct{}), peers: map[sim.NodeID]Outbound{},
		armed: map[sim.TimerID]*time.Timer{}, Errors: make(chan error, 64)}
}

// SetCore attaches the core before Run (when the core needs the node's
// peer ids to be built).
func (n *Node) SetCore(core sim.Handler) { n.core = core }

// AddPeer registers a transport endpoint and returns the id the core sees
// as a message's From and uses in Send.
func (n *Node) AddPeer(out Outbound) sim.NodeID {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.next++
	n.peers[n.next] = out
	return n.next
}

// RemovePeer forgets an endpoint (its connection closed).
func (n *Node) RemovePeer(id sim.NodeID) {
	n.mu.Lock()
	delete(n.peers, id)
	n.mu.Unlock()
}

// Deliver posts a message from a peer into the loop; it blocks while the
// loop's queue is full (backpressure onto the socket reader).
func (n *Node) Deliver(from sim.NodeID, msg sim.Message) {
	select {
	case n.events <- sim.Event{Kind: sim.EvMessage, From: from, Msg: msg}:
	case <-n.done:
	}
}

// Arm posts a timer from outside the loop (bootstrapping, e.g. a start key).
func (n *Node) Arm(after time.Duration, key sim.TimerKey) {
	time.AfterFunc(after, func() {
		select {
		case n.events <- sim.Event{Kind: sim.EvTimer, Timer: key}:
		case <-n.done:
		}
	})
}

// Run processes events until Stop.
func (n *Node) Run() {
	n.running.Store(true)
	defer close(n.exited)
	for {
		select {
		case ev := <-n.events:
			if ev.Kind == evSend {
				n.Send(ev.From, ev.Msg)
				continue
			}
			if ev.Kind == sim.EvTimer && ev.ID != 0 {
				if _, ok := n.armed[ev.ID]; !ok {
					continue // cancelled after it fired
				}
				delete(n.armed, ev.ID)
			}
			n.inLoop.Store(true)
			n.core.Handle(n, ev)
			n.inLoop.Store(false)
			if n.Idle != nil && !n.idle && n.Idle() {
				n.idle = true
				close(n.Done)
			}
		case <-n.done:
			return
		}
	}
}

// Stop ends the loop and its timers, and returns once the loop has
// returned (so the caller may read the core's state), unless Stop is
// called from inside the loop or Run never started.
func (n *Node) Stop() {
	n.stopped.Do(func() { close(n.done) })
	if n.running.Load() && !n.inLoop.Load() {
		<-n.exited
	}
}

// sim.Env, valid inside the loop.

func (n *Node) Now() time.Duration { return time.Since(n.start) }
func (n *Node) Self() sim.NodeID   { return 0 }
func (n *Node) Rand() *rand.Rand   { return n.rng }

func (n *Node) Send(to sim.NodeID, msg sim.Message) {
	n.mu.Lock()
	out := n.peers[to]
	n.mu.Unlock()
	if out == nil {
		n.report(errPeerGone{to})
		return
	}
	if err := out(msg); err != nil {
		n.report(err)
	}
}

// evSend is the loop's own event: a SendAfter whose delay has passed
// (From is the destination).
const evSend sim.EventKind = 255

func (n *Node) SendAfter(d time.Duration, to sim.NodeID, msg sim.Message) {
	if d <= 0 {
		n.Send(to, msg)
		return
	}
	time.AfterFunc(d, func() {
		select {
		case n.events <- sim.Event{Kind: evSend, From: to, Msg: msg}:
		case <-n.done:
		}
	})
}

func (n *Node) report(err error) {
	select {
	case n.Errors <- err:
	default:
		n.Dropped.Add(1)
	}
}

func (n *Node) SetTimer(d time.Duration, key sim.TimerKey) sim.TimerID {
	n.nextID++
	id := n.nextID
	n.armed[id] = time.AfterFunc(max(d, 0), func() {
		select {
		case n.events <- sim.Event{Kind: sim.EvTimer, Timer: key, ID: id}:
		case <-n.done:
		}
	})
	return id
}

func (n *Node) CancelTimer(id sim.TimerID) {
	if t, ok := n.armed[id]; ok {
		t.Stop()
		delete(n.armed, id)
	}
}

type errPeerGone struct{ id sim.NodeID }

func (e errPeerGone) Error() string { return "live: peer " + itoa(uint64(e.id)) + " is gone" }

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

var _ sim.Env = (*Node)(nil)
