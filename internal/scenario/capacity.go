package scenario

import (
	"fmt"
	"strconv"
	"time"

	"github.com/regstorm/regstorm/profiles"
	"github.com/regstorm/regstorm/results"
)

// CapacityOptions drive a capacity search (ETSI TS 186 008-1 style: the
// offered load rises in steps; each step runs the profile at one constant
// registration rate).
type CapacityOptions struct {
	Variant   string        // the variant to load; "" is the first
	From      float64       // first rate, registrations per second
	Step      float64       // rate increase per step
	Steps     int           // at most this many steps
	Duration  time.Duration // virtual time each step offers load
	Limit     float64       // tolerated share of inadequately handled registrations (0.001 = 0.1 %)
	Threshold time.Duration // a registration slower than this is inadequately handled
	// OnStep sees each step as it completes.
	OnStep func(results.CapacityStep)
}

// Capacity runs the search and returns the curve and the design objective
// capacity: the highest rate whose inadequately handled share stayed within
// the limit, before the first step that exceeded it.
func Capacity(base *profiles.Profile, o CapacityOptions) (*results.Capacity, error) {
	idx := 0
	if o.Variant != "" {
		idx = -1
		for i, v := range base.Variants {
			if v.Name == o.Variant {
				idx = i
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("capacity: no variant %q in profile %s", o.Variant, base.Name)
		}
	}
	if o.From <= 0 || o.Step <= 0 || o.Steps <= 0 || o.Duration <= 0 || o.Limit < 0 || o.Threshold <= 0 {
		return nil, fmt.Errorf("capacity: from, step, steps, duration and threshold must be positive, limit >= 0")
	}
	out := &results.Capacity{Profile: base.Name, Variant: base.Variants[idx].Name, Seed: base.Seed, Limit: o.Limit,
		ThresholdMS: float64(o.Threshold) / 1e6, DurationS: o.Duration.Seconds()}
	for s := 0; s < o.Steps; s++ {
		rate := o.From + float64(s)*o.Step
		ues := int64(rate * o.Duration.Seconds())
		if ues < 1 {
			continue
		}
		sets := []string{"ues=" + strconv.FormatInt(ues, 10), "arrival.shape=uniform", "arrival.start=0s",
			"arrival.window=" + o.Duration.String(), "duration=0s"}
		p, err := base.WithSets(sets)
		if err != nil {
			return nil, fmt.Errorf("capacity step %d: %w", s+1, err)
		}
		v, err := Build(p, idx, Options{})
		if err != nil {
			return nil, fmt.Errorf("capacity step %d: %w", s+1, err)
		}
		sum := v.Run()
		// Slow successes: failures count as inadequate whatever their latency.
		slow := results.CountAbove(v.Collector.SuccessLatency(results.ProcRegistration), o.Threshold)
		r := sum.Registrations
		bad := r.Failed + r.InProgress + slow
		step := results.CapacityStep{Rate: rate, OfferedPerS: sum.Throughput.Offered.Mean, AchievedPerS: sum.Throughput.Achieved.Mean,
			Attempted: r.Attempted, Failed: r.Failed + r.InProgress, Slow: slow,
			Inadequate: float64(bad) / float64(max(r.Attempted, 1)), P99OKMS: sum.LatencyMS.Registration.OK.P99,
			P99AllMS: sum.LatencyMS.Registration.All.P99, Succeeded: r.Succeeded}
		step.Pass = step.Inadequate <= o.Limit
		out.Steps = append(out.Steps, step)
		if o.OnStep != nil {
			o.OnStep(step)
		}
		if !step.Pass {
			break
		}
		out.Capacity = rate
	}
	return out, nil
}
