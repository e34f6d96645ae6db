package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Dist is a distribution of durations, sampled from a node's stream.
type Dist interface {
	Sample(r *rand.Rand) time.Duration
	String() string
}

// maxSample is where the unbounded distributions saturate, as Pareto
// does: half of time.Duration's range, so that a sample added to any
// virtual time a profile allows (profiles.MaxVirtualTime) cannot overflow.
// Go leaves the conversion of an out-of-range float to an integer
// implementation-defined (math.MinInt64 on amd64: a negative latency).
const maxSample = time.Duration(math.MaxInt64 / 2)

// saturate converts nanoseconds to a duration of at most maxSample.
func saturate(ns float64) time.Duration {
	if !(ns < float64(maxSample)) {
		return maxSample
	}
	return time.Duration(ns)
}

// Constant always returns D.
type Constant struct{ D time.Duration }

func (c Constant) Sample(*rand.Rand) time.Duration { return c.D }
func (c Constant) String() string                  { return fmt.Sprintf("constant(%v)", c.D) }

// Uniform is uniform on [Min, Max].
type Uniform struct{ Min, Max time.Duration }

func (u Uniform) Sample(r *rand.Rand) time.Duration {
	if u.Max <= u.Min {
		return u.Min
	}
	return u.Min + time.Duration(r.Int64N(int64(u.Max-u.Min)+1))
}
func (u Uniform) String() string { return fmt.Sprintf("uniform(%v..%v)", u.Min, u.Max) }

// Exponential has the given mean.
type Exponential struct{ Mean time.Duration }

func (e Exponential) Sample(r *rand.Rand) time.Duration {
	return saturate(r.ExpFloat64() * float64(e.Mean))
}
func (e Exponential) String() string { return fmt.Sprintf("exponential(mean %v)", e.Mean) }

// z99 is the standard normal quantile at 0.99.
const z99 = 2.3263478740408408

// LogNormal is given by its median and 99th percentile, the two figures an
// operator reads off a latency dashboard: mu = ln(p50), sigma =
// (ln(p99) - ln(p50)) / z0.99.
type LogNormal struct {
	P50, P99  time.Duration
	mu, sigma float64
}

// NewLogNormal checks 0 < p50 <= p99.
func NewLogNormal(p50, p99 time.Duration) (LogNormal, error) {
	if p50 <= 0 || p99 < p50 {
		return LogNormal{}, fmt.Errorf("lognormal needs 0 < p50 <= p99, got p50=%v p99=%v", p50, p99)
	}
	mu := math.Log(float64(p50))
	return LogNormal{P50: p50, P99: p99, mu: mu, sigma: (math.Log(float64(p99)) - mu) / z99}, nil
}

func (l LogNormal) Sample(r *rand.Rand) time.Duration {
	return saturate(math.Exp(l.mu + l.sigma*r.NormFloat64()))
}
func (l LogNormal) String() string { return fmt.Sprintf("lognormal(p50 %v, p99 %v)", l.P50, l.P99) }

// Normal is a normal distribution truncated at 0: negative draws are
// drawn again (a latency is never negative).
type Normal struct{ Mean, Stddev time.Duration }

func (n Normal) Sample(r *rand.Rand) time.Duration {
	for i := 0; i < 64; i++ {
		if v := float64(n.Mean) + float64(n.Stddev)*r.NormFloat64(); v >= 0 {
			return saturate(v)
		}
	}
	return 0 // a mean far below 0: the truncated mass sits at 0
}
func (n Normal) String() string {
	return fmt.Sprintf("normal(mean %v, stddev %v, truncated at 0)", n.Mean, n.Stddev)
}

// Pareto has scale Xm (the minimum) and shape Alpha: P(X > x) = (Xm/x)^Alpha.
type Pareto struct {
	Xm    time.Duration
	Alpha float64
}

func (p Pareto) Sample(r *rand.Rand) time.Duration {
	u := 1 - r.Float64() // (0, 1]
	v := float64(p.Xm) / math.Pow(u, 1/p.Alpha)
	if v > float64(math.MaxInt64/2) {
		return time.Duration(math.MaxInt64 / 2)
	}
	return time.Duration(v)
}
func (p Pareto) String() string { return fmt.Sprintf("pareto(scale %v, alpha %g)", p.Xm, p.Alpha) }

// Mixture draws from component i with probability Weights[i]/sum.
type Mixture struct {
	Weights []float64
	Dists   []Dist
	cum     []float64
}

// NewMixture checks weights > 0 and matching lengths.
func NewMixture(weights []float64, dists []Dist) (*Mixture, error) {
	if len(weights) == 0 || len(weights) != len(dists) {
		return nil, fmt.Errorf("a mixture needs components with a weight each")
	}
	m := &Mixture{Weights: weights, Dists: dists}
	total := 0.0
	for _, w := range weights {
		if !(w > 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("mixture weights must be > 0 and finite, got %g", w)
		}
		total += w
		m.cum = append(m.cum, total)
	}
	for i := range m.cum {
		m.cum[i] /= total
	}
	return m, nil
}

func (m *Mixture) Sample(r *rand.Rand) time.Duration {
	u := r.Float64()
	for i, c := range m.cum {
		if u < c {
			return m.Dists[i].Sample(r)
		}
	}
	return m.Dists[len(m.Dists)-1].Sample(r)
}

func (m *Mixture) String() string {
	s := "mixture("
	for i, d := range m.Dists {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%g %v", m.Weights[i], d)
	}
	return s + ")"
}

// Empirical replays measured latencies: bins [Lo, Hi) with a count each
// (an HdrHistogram's buckets, or single values with Lo == Hi), sampled by
// inverse CDF with a uniform draw inside the bin.
type Empirical struct {
	lo, hi []time.Duration
	cum    []float64
	source string
}

// NewEmpirical builds the sampler; bins with a zero count are skipped.
func NewEmpirical(source string, lo, hi []time.Duration, counts []float64) (*Empirical, error) {
	e := &Empirical{source: source}
	total := 0.0
	for i := range lo {
		if counts[i] <= 0 {
			continue
		}
		if lo[i] < 0 || hi[i] < lo[i] {
			return nil, fmt.Errorf("empirical %s: bad bin [%v, %v]", source, lo[i], hi[i])
		}
		total += counts[i]
		e.lo, e.hi, e.cum = append(e.lo, lo[i]), append(e.hi, hi[i]), append(e.cum, total)
	}
	if total == 0 {
		return nil, fmt.Errorf("empirical %s: no samples", source)
	}
	for i := range e.cum {
		e.cum[i] /= total
	}
	return e, nil
}

func (e *Empirical) Sample(r *rand.Rand) time.Duration {
	u := r.Float64()
	i := sort.SearchFloat64s(e.cum, u)
	if i >= len(e.cum) {
		i = len(e.cum) - 1
	}
	if e.hi[i] == e.lo[i] {
		return e.lo[i]
	}
	return e.lo[i] + time.Duration(r.Int64N(int64(e.hi[i]-e.lo[i])))
}
func (e *Empirical) String() string {
	return fmt.Sprintf("empirical(%s, %d bins)", e.source, len(e.cum))
}

// Floor is the smallest value d can draw, 0 when unknown or unbounded
// below. A partitioned run uses the floors of the links between its
// partitions as its lookahead (Runtime.Partition).
func Floor(d Dist) time.Duration {
	switch x := d.(type) {
	case Constant:
		return max(x.D, 0)
	case Uniform:
		return max(x.Min, 0)
	case Pareto:
		return max(x.Xm, 0)
	case *Mixture:
		m := time.Duration(math.MaxInt64)
		for _, c := range x.Dists {
			m = min(m, Floor(c))
		}
		return m
	case *Empirical:
		m := time.Duration(math.MaxInt64)
		for _, lo := range x.lo {
			m = min(m, lo)
		}
		return m
	}
	return 0
}
