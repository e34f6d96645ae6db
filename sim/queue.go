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

// queue is a 4-ary min-heap of events ordered by (at, seq). A 4-ary heap
// halves the depth of a binary heap and measured fastest for bulk loads
// (LIBRARIES.md, "Discrete-event queue"). Timer events are indexed by
// slot, so a cancelled timer leaves the heap at once instead of lingering
// until its time (a cancelled 30 s FR timer would otherwise occupy the heap
// for 30 s; at 10k registrations/s that is most of the heap).
type queue struct {
	h   []event
	pos []int32 // timer slot -> index in h, or -1
}

func (q *queue) len() int { return len(q.h) }

func (q *queue) setPos(i int) {
	if e := &q.h[i]; e.kind == EvTimer {
		q.pos[uint32(e.id)] = int32(i)
	}
}

func (q *queue) swap(i, j int) {
	q.h[i], q.h[j] = q.h[j], q.h[i]
	q.setPos(i)
	q.setPos(j)
}

func (q *queue) push(e event) {
	if e.kind == EvTimer {
		slot := int(uint32(e.id))
		for len(q.pos) <= slot {
			q.pos = append(q.pos, -1)
		}
	}
	q.h = append(q.h, e)
	i := len(q.h) - 1
	q.setPos(i)
	q.up(i)
}

func (q *queue) up(i int) {
	for i > 0 {
		p := (i - 1) / 4
		if !q.h[i].before(&q.h[p]) {
			break
		}
		q.swap(i, p)
		i = p
	}
}

func (q *queue) down(i int) {
	n := len(q.h)
	for {
		c := 4*i + 1
		if c >= n {
			return
		}
		m := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if q.h[j].before(&q.h[m]) {
				m = j
			}
		}
		if !q.h[m].before(&q.h[i]) {
			return
		}
		q.swap(i, m)
		i = m
	}
}

// removeAt takes the event at index i out of the heap.
func (q *queue) removeAt(i int) event {
	e := q.h[i]
	if e.kind == EvTimer {
		q.pos[uint32(e.id)] = -1
	}
	n := len(q.h) - 1
	if i != n {
		q.h[i] = q.h[n]
		q.setPos(i)
	}
	q.h[n] = event{} // drop the Message reference for the GC
	q.h = q.h[:n]
	if i < n {
		q.down(i)
		q.up(i)
	}
	return e
}

func (q *queue) pop() event { return q.removeAt(0) }

// cancel removes the timer of a slot, if it is queued.
func (q *queue) cancel(slot uint32) {
	if int(slot) < len(q.pos) {
		if i := q.pos[slot]; i >= 0 {
			q.removeAt(int(i))
		}
	}
}

func (q *queue) peekAt() time.Duration { return q.h[0].at }
