package sim

import "time"

// Pool models a resource of identical servers with a bounded FIFO queue:
// Kamailio's SIP worker processes and cdp workers, or an HSS's threads. A
// job waits in the queue until a server is free, then holds it for a
// service time drawn from Service; overflow of the queue is dropped and
// counted (a UDP socket buffer that overflows).
//
// A Pool lives inside a core: Submit is called from Handle, and the core
// routes timers of kind Kind back to Done. Servers == 0 disables the model:
// Submit hands the job back at once (infinite capacity, zero cost); so does
// a constant zero service time.
type Pool[J any] struct {
	Kind     uint32 // timer kind of service completions
	Servers  int
	QueueCap int // jobs waiting beyond the busy servers; < 0 means unbounded
	Service  Dist
	// OnStart, when set, sees a job as its service begins (after its
	// wait in the queue), e.g. to take a transaction at dequeue time. It
	// must not submit to the same pool.
	OnStart func(env Env, j *J)
	scratch J // the job OnStart sees on the disabled path (a pointer into the pool, so no job escapes to the heap)

	queue   []queued[J] // ring buffer
	head, n int
	slots   []queued[J] // in service, by slot
	free    []uint32
	busy    int

	Stats PoolStats
}

type queued[J any] struct {
	job J
	at  time.Duration
}

// PoolStats counts a pool's traffic.
type PoolStats struct {
	Submitted, Started, Completed, Dropped uint64
	MaxQueue                               int
	Wait                                   time.Duration // total time jobs spent queued
}

// Queued is the number of waiting jobs.
func (p *Pool[J]) Queued() int { return p.n }

// Busy is the number of servers in service.
func (p *Pool[J]) Busy() int { return p.busy }

// Enabled reports whether the pool models capacity at all: it needs
// servers and a service time that is not constantly zero (a zero service
// time never delays anything, so the pool is skipped).
func (p *Pool[J]) Enabled() bool {
	if p.Servers <= 0 || p.Service == nil {
		return false
	}
	c, ok := p.Service.(Constant)
	return !ok || c.D > 0
}

// Submit offers a job. When the pool is disabled it returns the job (as
// OnStart left it) with now=true: the caller finishes it at once. ok=false
// means the queue overflowed and the job was dropped. Otherwise the job is
// returned later by Done.
func (p *Pool[J]) Submit(env Env, j J) (job J, now, ok bool) {
	p.Stats.Submitted++
	if !p.Enabled() {
		p.Stats.Started++
		p.Stats.Completed++
		if p.OnStart != nil {
			p.scratch = j
			p.OnStart(env, &p.scratch)
			j = p.scratch
			var zero J
			p.scratch = zero
		}
		return j, true, true
	}
	if p.busy < p.Servers {
		p.start(env, queued[J]{j, env.Now()})
		return job, false, true
	}
	if p.QueueCap >= 0 && p.n >= p.QueueCap {
		p.Stats.Dropped++
		return job, false, false
	}
	if p.n == len(p.queue) {
		p.grow()
	}
	p.queue[(p.head+p.n)%len(p.queue)] = queued[J]{j, env.Now()}
	p.n++
	p.Stats.MaxQueue = max(p.Stats.MaxQueue, p.n)
	return job, false, true
}

func (p *Pool[J]) grow() {
	nq := make([]queued[J], max(16, 2*len(p.queue)))
	for i := 0; i < p.n; i++ {
		nq[i] = p.queue[(p.head+i)%len(p.queue)]
	}
	p.queue, p.head = nq, 0
}

func (p *Pool[J]) start(env Env, q queued[J]) {
	var slot uint32
	if k := len(p.free); k > 0 {
		slot = p.free[k-1]
		p.free = p.free[:k-1]
	} else {
		p.slots = append(p.slots, queued[J]{})
		slot = uint32(len(p.slots) - 1)
	}
	p.Stats.Wait += env.Now() - q.at
	q.at = env.Now()
	p.slots[slot] = q
	if p.OnStart != nil {
		p.OnStart(env, &p.slots[slot].job)
	}
	p.busy++
	p.Stats.Started++
	env.SetTimer(p.Service.Sample(env.Rand()), TimerKey{Kind: p.Kind, Ref: uint64(slot)})
}

// Done ends the service whose timer fired, starts the next queued job, and
// returns the finished job with the time it waited in the queue.
func (p *Pool[J]) Done(env Env, ev Event) (J, bool) {
	var zero J
	slot := uint32(ev.Timer.Ref)
	if int(slot) >= len(p.slots) {
		return zero, false
	}
	q := p.slots[slot]
	p.slots[slot] = queued[J]{}
	p.free = append(p.free, slot)
	p.busy--
	p.Stats.Completed++
	if p.n > 0 {
		next := p.queue[p.head]
		p.queue[p.head] = queued[J]{}
		p.head = (p.head + 1) % len(p.queue)
		p.n--
		p.start(env, next)
	}
	return q.job, true
}
