package sim

import (
	"math/rand/v2"
	"time"
)

// NodeID addresses a node (one core instance) in a runtime.
type NodeID uint32

// NoNode is the zero NodeID; valid nodes start at 1.
const NoNode NodeID = 0

// Message is whatever a core sends; cores define their own compact types
// (internal/sipmsg, hss/cx). The runtime never inspects it.
type Message any

// TimerKey names a timer: a core-defined kind and a reference (a UE index, a
// transaction label...). Keys are values, so arming a timer allocates nothing
// and a trace can print what fired.
type TimerKey struct {
	Kind uint32
	Ref  uint64
}

// TimerID identifies one armed timer for CancelTimer. The zero TimerID is
// never issued, so it can mean "no timer".
type TimerID uint64

// EventKind tells a handler what happened.
type EventKind uint8

const (
	// EvMessage: Msg arrived from From.
	EvMessage EventKind = iota + 1
	// EvTimer: the timer Timer (id TimerID) fired.
	EvTimer
)

// Event is delivered to a Handler.
type Event struct {
	Kind  EventKind
	From  NodeID
	Msg   Message
	Timer TimerKey
	ID    TimerID
}

// Env is everything a core may use. Its methods are valid only during the
// Handle call they were passed to.
type Env interface {
	// Now is the current time since the start of the run; it never decreases.
	Now() time.Duration
	// Self is the node being handled.
	Self() NodeID
	// Send delivers msg to node to after the link's latency.
	Send(to NodeID, msg Message)
	// SendAfter sends msg once d has passed, as a timer armed now whose
	// handler sends msg would, without the timer's event: a core's own
	// processing delay before an answer leaves (the HSS's injected latency).
	SendAfter(d time.Duration, to NodeID, msg Message)
	// SetTimer arms a timer that fires after d (d < 0 is treated as 0).
	SetTimer(d time.Duration, key TimerKey) TimerID
	// CancelTimer disarms a timer; a fired, cancelled or zero id is a no-op.
	CancelTimer(id TimerID)
	// Rand is this node's deterministic random stream.
	Rand() *rand.Rand
}

// Handler is a core: a state machine stepped by events.
type Handler interface {
	Handle(env Env, ev Event)
}
