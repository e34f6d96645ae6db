package results

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Expectation is a pass/fail threshold on a metric of the summary.
type Expectation struct {
	Variant string // "" applies to every variant
	Metric  string // dotted path into a variant's summary, e.g. callbacks.mar.completion_rate
	Op      string // <, <=, >, >=, ==, !=
	Value   float64
}

// Ops are the comparison operators an expectation may use.
var Ops = []string{"<", "<=", ">", ">=", "==", "!="}

// Failure is an expectation that did not hold.
type Failure struct {
	Expectation
	Variant  string
	Measured float64
	Err      string // the metric could not be read
}

func (f Failure) String() string {
	if f.Err != "" {
		return fmt.Sprintf("%s: %s %s %g: %s", f.Variant, f.Metric, f.Op, f.Value, f.Err)
	}
	return fmt.Sprintf("%s: %s = %s, required %s %g", f.Variant, f.Metric, strconv.FormatFloat(f.Measured, 'g', 6, 64), f.Op, f.Value)
}

func compare(a float64, op string, b float64) bool {
	switch op {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "==":
		return a == b
	case "!=":
		return a != b
	}
	return false
}

// Check evaluates expectations against a summary; an expectation naming
// a variant the run does not have fails.
func (s *Summary) Check(exps []Expectation) []Failure {
	var out []Failure
	for _, e := range exps {
		matched := false
		for i := range s.Variants {
			v := &s.Variants[i]
			if e.Variant != "" && e.Variant != v.Name {
				continue
			}
			matched = true
			got, err := v.Metric(e.Metric)
			if err != nil {
				out = append(out, Failure{Expectation: e, Variant: v.Name, Err: err.Error()})
				continue
			}
			if !compare(got, e.Op, e.Value) {
				out = append(out, Failure{Expectation: e, Variant: v.Name, Measured: got})
			}
		}
		if !matched {
			out = append(out, Failure{Expectation: e, Variant: e.Variant, Err: "no such variant in this run"})
		}
	}
	return out
}

// Metric reads a number from the variant's summary by its JSON path, e.g.
// "latency_ms.registration.p99", "registrations.by_final_code.500" or
// "counters.scscf.cdp_timeouts" (keys may contain dots). A count that is
// absent from a map (no 500s) reads as 0.
func (v *VariantSummary) Metric(path string) (float64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	var root any
	if err := json.Unmarshal(b, &root); err != nil {
		return 0, err
	}
	return lookup(root, path, path)
}

// countMaps are summary maps whose absent keys are zero counts.
var countMaps = []string{"registrations.by_final_code.", "registrations.by_cause.", "registrations.retries.", "counters.", "callbacks.mar.not_executed.",
	"callbacks.sar.not_executed.", "callbacks.resync.not_executed."}

func lookup(node any, rest, full string) (float64, error) {
	if rest == "" {
		switch x := node.(type) {
		case float64:
			return x, nil
		case bool:
			if x {
				return 1, nil
			}
			return 0, nil
		}
		return 0, fmt.Errorf("metric %q is not a number; its keys are %s", full, keysOf(node))
	}
	m, ok := node.(map[string]any)
	if !ok {
		return 0, fmt.Errorf("metric %q: %q goes below a number", full, rest)
	}
	// The longest key that prefixes rest wins: counter names contain dots.
	best := ""
	for k := range m {
		if (rest == k || strings.HasPrefix(rest, k+".")) && len(k) > len(best) {
			best = k
		}
	}
	if best == "" {
		for _, p := range countMaps {
			if strings.HasPrefix(full, p) && strings.HasSuffix(full, rest) && len(full)-len(rest) == len(p) {
				return 0, nil
			}
		}
		return 0, fmt.Errorf("metric %q: no %q; known here: %s", full, strings.SplitN(rest, ".", 2)[0], keysOf(node))
	}
	return lookup(m[best], strings.TrimPrefix(strings.TrimPrefix(rest, best), "."), full)
}

func keysOf(node any) string {
	m, ok := node.(map[string]any)
	if !ok {
		return "(none)"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// ValidMetric checks a metric path against the summary's shape without a
// run (for profile validation).
func ValidMetric(path string) error {
	v := VariantSummary{Registrations: Registrations{ByFinalCode: map[string]uint64{}}, Counters: map[string]uint64{},
		Callbacks: CallbackSummaries{MAR: CallbackSummary{NotExecuted: map[string]uint64{}}, SAR: CallbackSummary{NotExecuted: map[string]uint64{}},
			Resync: CallbackSummary{NotExecuted: map[string]uint64{}}}}
	for _, p := range countMaps {
		if strings.HasPrefix(path, p) && len(path) > len(p) {
			return nil
		}
	}
	_, err := v.Metric(path)
	return err
}
