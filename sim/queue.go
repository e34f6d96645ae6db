package sim

import "time"

// event is the queue entry: 64 bytes, stored by value.
type event struct {
	at   time.Duration
	seq  uint64
	to   NodeID
	from NodeID
	kind EventKind
	key  TimerKey
	id   TimerID // timers only; its low 32 bits are the slot
	msg  Message
}

func (a *event) before(b *event) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// farHorizon splits the queue: events due more than this far ahead (contact
// expiries, re-registration timers of a million idle UEs) wait in a second
// heap, so the heap that every message and short timer goes through stays
// small and cache-resident. Order is unaffected: pop takes the earlier of
// the two tops.
const farHorizon = 64 * time.Second

// queue is two 4-ary min-heaps of events ordered by (at, seq). A 4-ary heap
// halves the depth of a binary heap and measured fastest for bulk loads
// (LIBRARIES.md, "Discrete-event queue"). Timer events are indexed by slot,
// so a cancelled timer leaves its heap at once instead of lingering until
// its time (a cancelled 30 s FR timer would otherwise occupy the heap for
// 30 s; at 10k registrations/s that is most of the heap).
type queue struct {
	h   [2]heap4
	pos []int32 // timer slot -> heap<<30 | index, or -1
	now time.Duration
}

type heap4 struct {
	e  []event
	id int32 // 0 near, 1 far
}

const posHeapShift = 30

func (q *queue) len() int { return len(q.h[0].e) + len(q.h[1].e) }

func (q *queue) setPos(h *heap4, i int) {
	if e := &h.e[i]; e.kind == EvTimer {
		q.pos[uint32(e.id)] = h.id<<posHeapShift | int32(i)
	}
}

func (q *queue) swap(h *heap4, i, j int) {
	h.e[i], h.e[j] = h.e[j], h.e[i]
	q.setPos(h, i)
	q.setPos(h, j)
}

func (q *queue) push(e event) {
	if e.kind == EvTimer {
		slot := int(uint32(e.id))
		for len(q.pos) <= slot {
			q.pos = append(q.pos, -1)
		}
	}
	h := &q.h[0]
	if e.at-q.now > farHorizon {
		h = &q.h[1]
	}
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
		q.pos[uint32(e.id)] = -1
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

// top returns the heap holding the earliest event.
func (q *queue) top() *heap4 {
	n, f := &q.h[0], &q.h[1]
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

func (q *queue) pop() event {
	e := q.removeAt(q.top(), 0)
	q.now = e.at
	return e
}

// cancel removes the timer of a slot, if it is queued.
func (q *queue) cancel(slot uint32) {
	if int(slot) < len(q.pos) {
		if p := q.pos[slot]; p >= 0 {
			q.removeAt(&q.h[p>>posHeapShift], int(p&(1<<posHeapShift-1)))
		}
	}
}

func (q *queue) peekAt() time.Duration { return q.top().e[0].at }
