package sim

import "time"

// event is the queue entry, stored by value and free of pointers: the
// message waits in the runtime's slab (msg is its slot + 1), so moving
// events in the heaps needs no write barriers and the garbage collector
// never scans the queue.
type event struct {
	at   time.Duration
	seq  uint64
	to   NodeID
	from NodeID
	kind EventKind
	key  TimerKey
	id   TimerID // timers only; its low 32 bits are the slot
	msg  uint32
}

func (a *event) before(b *event) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// The queue has three parts, so that the heap every event goes through
// stays small and cache-resident however many timers are pending:
//
//   - near: a 4-ary min-heap (LIBRARIES.md: fastest for this load) of the
//     events due within the current bucket;
//   - wheel: a calendar of buckets bucketWidth wide covering the next
//     wheelSpan; a bucket is an unordered list, moved into the heap when
//     time reaches it, so arming and cancelling a pending FR, WAIT, cdp or
//     Timer F timer is O(1);
//   - far: a second heap for events beyond the wheel (contact expiries and
//     re-registrations of an idle population).
//
// Order is exactly (at, seq): a bucket joins the heap before any event at
// or after its start is popped. Timers are indexed by slot, so a cancelled
// timer leaves the queue at once.
const (
	bucketWidth = 16 * time.Millisecond
	wheelSize   = 4096 // buckets: a span of 65.5 s
	wheelSpan   = bucketWidth * wheelSize
)

// where a timer slot's event is: heap (near or far) and index, or bucket
// and index.
const (
	inNone uint8 = iota
	inNear
	inFar
	inWheel
)

type loc struct {
	in     uint8
	bucket uint16
	idx    int32
}

type queue struct {
	near, far heap4
	wheel     [wheelSize][]event
	inWheel   int
	cursor    time.Duration // start of the earliest bucket not yet moved to near
	pos       []loc         // timer slot -> location
}

type heap4 struct {
	e  []event
	in uint8
}

func newQueue() queue { return queue{near: heap4{in: inNear}, far: heap4{in: inFar}} }

func (q *queue) len() int { return len(q.near.e) + len(q.far.e) + q.inWheel }

func (q *queue) track(e *event, l loc) {
	if e.kind == EvTimer {
		q.pos[uint32(e.id)] = l
	}
}

func (q *queue) setPos(h *heap4, i int) { q.track(&h.e[i], loc{in: h.in, idx: int32(i)}) }

func (q *queue) swap(h *heap4, i, j int) {
	h.e[i], h.e[j] = h.e[j], h.e[i]
	q.setPos(h, i)
	q.setPos(h, j)
}

func bucketOf(at time.Duration) int { return int((at / bucketWidth) % wheelSize) }

func (q *queue) push(e event) {
	if e.kind == EvTimer {
		slot := int(uint32(e.id))
		for len(q.pos) <= slot {
			q.pos = append(q.pos, loc{})
		}
	}
	switch {
	case e.at < q.cursor:
		q.pushHeap(&q.near, e)
	case e.at < q.cursor+wheelSpan:
		b := bucketOf(e.at)
		q.wheel[b] = append(q.wheel[b], e)
		q.inWheel++
		q.track(&e, loc{in: inWheel, bucket: uint16(b), idx: int32(len(q.wheel[b]) - 1)})
	default:
		q.pushHeap(&q.far, e)
	}
}

func (q *queue) pushHeap(h *heap4, e event) {
	h.e = append(h.e, e)
	i := len(h.e) - 1
	q.setPos(h, i)
	q.up(h, i)
}

func (q *queue) up(h *heap4, i int) {
	for i > 0 {
		p := (i - 1) / 4
		if !h.e[i].before(&h.e[p]) {
			break
		}
		q.swap(h, i, p)
		i = p
	}
}

func (q *queue) down(h *heap4, i int) {
	n := len(h.e)
	for {
		c := 4*i + 1
		if c >= n {
			return
		}
		m := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if h.e[j].before(&h.e[m]) {
				m = j
			}
		}
		if !h.e[m].before(&h.e[i]) {
			return
		}
		q.swap(h, i, m)
		i = m
	}
}

// removeAt takes the event at index i out of heap h.
func (q *queue) removeAt(h *heap4, i int) event {
	e := h.e[i]
	if e.kind == EvTimer {
		q.pos[uint32(e.id)] = loc{}
	}
	n := len(h.e) - 1
	if i != n {
		h.e[i] = h.e[n]
		q.setPos(h, i)
	}
	h.e[n] = event{} // drop the Message reference for the GC
	h.e = h.e[:n]
	if i < n {
		q.down(h, i)
		q.up(h, i)
	}
	return e
}

// removeBucket takes entry i out of bucket b (swap with the last).
func (q *queue) removeBucket(b int, i int) {
	list := q.wheel[b]
	n := len(list) - 1
	if i != n {
		list[i] = list[n]
		q.track(&list[i], loc{in: inWheel, bucket: uint16(b), idx: int32(i)})
	}
	list[n] = event{}
	q.wheel[b] = list[:n]
	q.inWheel--
}

// settle moves buckets into the near heap until the earliest event is in a
// heap: a bucket moves when its start is not after the earliest heap event.
func (q *queue) settle() {
	for q.inWheel > 0 {
		limit := time.Duration(1<<63 - 1)
		if len(q.near.e) > 0 {
			limit = q.near.e[0].at
		}
		if len(q.far.e) > 0 && q.far.e[0].at < limit {
			limit = q.far.e[0].at
		}
		if q.cursor > limit {
			return
		}
		b := bucketOf(q.cursor)
		for _, e := range q.wheel[b] {
			q.pushHeap(&q.near, e)
		}
		q.inWheel -= len(q.wheel[b])
		if cap(q.wheel[b]) > 1024 {
			q.wheel[b] = nil // a burst's bucket: give the memory back
		} else {
			clear(q.wheel[b])
			q.wheel[b] = q.wheel[b][:0]
		}
		q.cursor += bucketWidth
	}
	if q.inWheel == 0 && len(q.near.e) == 0 && len(q.far.e) > 0 {
		// Nothing near: jump the wheel to the far heap's time.
		if at := q.far.e[0].at; at >= q.cursor+bucketWidth {
			q.cursor = at / bucketWidth * bucketWidth
		}
	}
}

// top returns the heap holding the earliest event, after settling.
func (q *queue) top() *heap4 {
	q.settle()
	n, f := &q.near, &q.far
	switch {
	case len(f.e) == 0:
		return n
	case len(n.e) == 0:
		return f
	case f.e[0].before(&n.e[0]):
		return f
	}
	return n
}

func (q *queue) pop() event { return q.removeAt(q.top(), 0) }

// cancel removes the timer of a slot, if it is queued.
func (q *queue) cancel(slot uint32) {
	if int(slot) >= len(q.pos) {
		return
	}
	switch l := q.pos[slot]; l.in {
	case inNear:
		q.removeAt(&q.near, int(l.idx))
	case inFar:
		q.removeAt(&q.far, int(l.idx))
	case inWheel:
		q.pos[slot] = loc{}
		q.removeBucket(int(l.bucket), int(l.idx))
	}
}

func (q *queue) peekAt() time.Duration { return q.top().e[0].at }
