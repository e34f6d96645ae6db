package sim

import "time"

// event is the queue entry, stored by value and free of pointers: the
// message waits in the runtime's slab (msg is its slot + 1), so moving
// events in the heaps needs no write barriers and the garbage collector
// never scans the queue. Fields are ordered for a 48-byte entry.
type event struct {
	at      time.Duration
	seq     uint64
	id      TimerID // timers only; its low 32 bits are the slot
	ref     uint64  // TimerKey.Ref
	keyKind uint32  // TimerKey.Kind
	msg     uint32
	to      uint16
	from    uint16
	kind    EventKind
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
// or after its start is popped. A timer cancelled while in the wheel leaves
// it at once (its slot indexes its place); one cancelled in a heap (due
// within the current bucket, or beyond the wheel) stays there and is
// dropped when it comes up, since its slot generation no longer matches.
// Heap moves therefore touch only the heap, not a per-timer index.
const (
	bucketWidth = 4 * time.Millisecond
	wheelSize   = 16384 // buckets: a span of 65.5 s
	wheelSpan   = bucketWidth * wheelSize
	spareMin    = 1 << 16 // events of drained bucket capacity always kept for reuse
)

// loc is where a timer slot's event sits in the wheel.
type loc struct {
	bucket uint16
	idx    int32 // -1: not in the wheel
}

type queue struct {
	near, far heap4
	wheel     [wheelSize][]event
	inWheel   int
	cursor    time.Duration // start of the earliest bucket not yet moved to near
	pos       []loc         // timer slot -> place in the wheel
	spare     [][]event     // drained bucket arrays, for reuse
	spareCap  int           // their total capacity, at most max(inWheel, spareMin)
}

type heap4 struct{ e []event }

func newQueue() queue { return queue{} }

func (q *queue) len() int { return len(q.near.e) + len(q.far.e) + q.inWheel }

func bucketOf(at time.Duration) int { return int((at / bucketWidth) % wheelSize) }

func (q *queue) push(e event) {
	switch {
	case e.at < q.cursor:
		q.near.push(e)
	case e.at < q.cursor+wheelSpan:
		b := bucketOf(e.at)
		list := q.wheel[b]
		if cap(list) == 0 {
			if n := len(q.spare); n > 0 {
				list = q.spare[n-1][:0]
				q.spare[n-1] = nil
				q.spare = q.spare[:n-1]
				q.spareCap -= cap(list)
			}
		}
		list = append(list, e)
		q.wheel[b] = list
		q.inWheel++
		if e.kind == EvTimer {
			slot := int(uint32(e.id))
			for len(q.pos) <= slot {
				q.pos = append(q.pos, loc{idx: -1})
			}
			q.pos[slot] = loc{bucket: uint16(b), idx: int32(len(list) - 1)}
		}
	default:
		q.far.push(e)
	}
}

func (h *heap4) push(e event) {
	h.e = append(h.e, e)
	x := h.e
	i := len(x) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !e.before(&x[p]) {
			break
		}
		x[i] = x[p]
		i = p
	}
	x[i] = e
}

// pop removes the earliest event (the heap is not empty).
func (h *heap4) pop() event {
	x := h.e
	top := x[0]
	n := len(x) - 1
	last := x[n]
	x = x[:n]
	h.e = x
	if n == 0 {
		return top
	}
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if x[j].before(&x[m]) {
				m = j
			}
		}
		if !x[m].before(&last) {
			break
		}
		x[i] = x[m]
		i = m
	}
	x[i] = last
	return top
}

// removeBucket takes entry i out of bucket b (swap with the last).
func (q *queue) removeBucket(b int, i int) {
	list := q.wheel[b]
	n := len(list) - 1
	if i != n {
		list[i] = list[n]
		if list[i].kind == EvTimer {
			q.pos[uint32(list[i].id)].idx = int32(i)
		}
	}
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
		list := q.wheel[b]
		for i := range list {
			if list[i].kind == EvTimer {
				q.pos[uint32(list[i].id)].idx = -1
			}
			q.near.push(list[i])
		}
		q.inWheel -= len(list)
		q.wheel[b] = nil
		// Keep the array for a later bucket while spares hold no more than
		// the wheel itself (a burst's memory is given back as it drains).
		if c := cap(list); c > 0 && q.spareCap+c <= max(q.inWheel, spareMin) {
			q.spare = append(q.spare, list[:0])
			q.spareCap += c
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

// top returns the heap holding the earliest event, after settling, or nil
// when the queue is empty.
func (q *queue) top() *heap4 {
	q.settle()
	n, f := &q.near, &q.far
	switch {
	case len(f.e) == 0:
		if len(n.e) == 0 {
			return nil
		}
		return n
	case len(n.e) == 0:
		return f
	case f.e[0].before(&n.e[0]):
		return f
	}
	return n
}

func (q *queue) pop() event { return q.top().pop() }

// cancel removes the timer id from the wheel if it waits there; elsewhere
// it stays, stale, until it comes up.
func (q *queue) cancel(id TimerID) {
	slot := uint32(id)
	if int(slot) >= len(q.pos) {
		return
	}
	l := q.pos[slot]
	if l.idx < 0 {
		return
	}
	list := q.wheel[l.bucket]
	if int(l.idx) < len(list) && list[l.idx].id == id && list[l.idx].kind == EvTimer {
		q.removeBucket(int(l.bucket), int(l.idx))
	}
	q.pos[slot].idx = -1
}
