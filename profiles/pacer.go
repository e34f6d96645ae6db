package profiles

import (
	"math"
	"math/rand/v2"
	"time"
)

// Pacer yields arrival times; it implements ue.Arrivals. Each shape is a
// type of its own, chosen once (Arrival.Pacer), and a pure function of the
// arrival index (vegeta's Pace), except poisson, whose gaps come from its
// stream.
type Pacer interface {
	Next() (at time.Duration, ok bool)
}

// Pacer returns the arrival process for n UEs; r feeds the Poisson gaps.
func (a *Arrival) Pacer(n int64, r *rand.Rand) Pacer {
	c := count{n: n, start: float64(a.Start.D()), w: float64(a.Window.D())}
	switch a.Shape {
	case "poisson":
		return &poissonPacer{count: c, at: c.start, r: r}
	case "constant":
		return &constantPacer{count: c, rate: a.Rate}
	case "ramp":
		return &rampPacer{count: c, from: a.From, to: a.To}
	case "staircase":
		return &stairPacer{count: c, steps: a.Steps}
	case "storm":
		if a.FrontLoaded {
			return &frontLoadedPacer{count: c}
		}
	}
	// uniform, an evenly spread storm, steady and closed (whose arrivals
	// the fleet does not use)
	return &uniformPacer{count: c}
}

// count hands out the arrival indices 0..n-1 and holds what every shape
// reads: the start and the window, in nanoseconds.
type count struct {
	n, i     int64
	start, w float64
}

// next returns the next index, or false after the n-th.
func (c *count) next() (float64, bool) {
	if c.i >= c.n {
		return 0, false
	}
	c.i++
	return float64(c.i - 1), true
}

// uniformPacer spreads the arrivals evenly over the window.
type uniformPacer struct{ count }

func (p *uniformPacer) Next() (time.Duration, bool) {
	i, ok := p.next()
	if !ok {
		return 0, false
	}
	return virtual(p.start + p.w*i/float64(p.n)), true
}

// poissonPacer is a Poisson process of rate n/window.
type poissonPacer struct {
	count
	at float64
	r  *rand.Rand
}

func (p *poissonPacer) Next() (time.Duration, bool) {
	i, ok := p.next()
	if !ok {
		return 0, false
	}
	if i > 0 {
		p.at += p.r.ExpFloat64() * p.w / float64(p.n)
	}
	return virtual(p.at), true
}

// constantPacer starts rate UEs per second.
type constantPacer struct {
	count
	rate float64
}

func (p *constantPacer) Next() (time.Duration, bool) {
	i, ok := p.next()
	if !ok {
		return 0, false
	}
	return virtual(p.start + i*1e9/p.rate), true
}

// rampPacer's rate rises linearly from `from` to `to` over the window.
type rampPacer struct {
	count
	from, to float64
}

func (p *rampPacer) Next() (time.Duration, bool) {
	i, ok := p.next()
	if !ok {
		return 0, false
	}
	return virtual(p.start + rampTime(i, p.from, p.to, p.w/1e9)*1e9), true
}

// stairPacer holds each step's rate for its duration, the last one on.
type stairPacer struct {
	count
	steps []Step
}

func (p *stairPacer) Next() (time.Duration, bool) {
	i, ok := p.next()
	if !ok {
		return 0, false
	}
	return virtual(p.start + stairTime(i, p.steps)*1e9), true
}

// frontLoadedPacer is a storm with most UEs early: the density falls
// linearly to 0 at the end of the window.
type frontLoadedPacer struct{ count }

func (p *frontLoadedPacer) Next() (time.Duration, bool) {
	i, ok := p.next()
	if !ok {
		return 0, false
	}
	return virtual(p.start + p.w*(1-math.Sqrt(1-i/float64(p.n)))), true
}

// rampTime solves from·t + (to-from)·t²/(2W) = k for t (seconds); past W the
// rate stays at `to`.
func rampTime(k, from, to, W float64) float64 {
	atW := (from + to) / 2 * W
	if k >= atW {
		return W + (k-atW)/to
	}
	a := (to - from) / (2 * W)
	if math.Abs(a) < 1e-12 && from > 0 {
		return k / from // a flat ramp (from 0 the quadratic below holds for any a > 0)
	}
	return (-from + math.Sqrt(from*from+4*a*k)) / (2 * a)
}

// stairTime finds when the k-th arrival falls in a staircase.
func stairTime(k float64, steps []Step) float64 {
	t := 0.0
	for i, s := range steps {
		d := s.For.D().Seconds()
		if n := s.Rate * d; k < n || i == len(steps)-1 {
			return t + k/s.Rate
		} else {
			k -= n
		}
		t += d
	}
	return t
}
