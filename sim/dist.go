package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Dist is a distribution of durations, sampled from a node's stream.
type Dist interface {
	Sample(r *rand.Rand) time.Duration
	String() string
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
	return time.Duration(r.ExpFloat64() * float64(e.Mean))
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
	return time.Duration(math.Exp(l.mu + l.sigma*r.NormFloat64()))
}
func (l LogNormal) String() string { return fmt.Sprintf("lognormal(p50 %v, p99 %v)", l.P50, l.P99) }
