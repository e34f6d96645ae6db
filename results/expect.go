package results

import (
	"encoding/json"
	"fmt"
	"slices"
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

// Check evaluates expectations against a summary and returns those that
// did not hold (Evaluate gives every verdict); an expectation naming a
// variant the run does not have fails.
func (s *Summary) Check(exps []Expectation) []Failure {
	var out []Failure
	for _, v := range s.Evaluate(exps) {
		if v.Passed {
			continue
		}
		f := Failure{Expectation: Expectation{Variant: v.Variant, Metric: v.Metric, Op: v.Op, Value: v.Required}, Variant: v.Variant, Err: v.Error}
		if v.Measured != nil {
			f.Measured = *v.Measured
		}
		out = append(out, f)
	}
	return out
}

// Metric reads a number from the variant's summary by its JSON path, e.g.
// "latency_ms.registration.all.p99", "registrations.by_final_code.500" or
// "counters.scscf.cdp_timeouts" (keys may contain dots). A count that is
// absent from a map (no 500s) reads as 0, and so does a percentile of a
// final code that never occurred (latency_ms.registration.by_code.500.p99).
// A path the run did not measure (VariantSummary.NotMeasured) is an error.
//
// A procedure's percentile without an outcome, the name these metrics had
// before every outcome was measured (latency_ms.registration.p99), reads as
// every outcome's (latency_ms.registration.all.p99).
func (v *VariantSummary) Metric(path string) (float64, error) {
	path = canonicalMetric(path)
	if v.notMeasured(path) {
		return 0, fmt.Errorf("metric %q is not measured by this run", path)
	}
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

// outcomeProcedures are the latency_ms entries split by outcome.
var outcomeProcedures = []string{"registration", "reregistration", "deregistration", "challenge"}

// percentileFields are the fields of a Percentiles.
var percentileFields = []string{"count", "p50", "p90", "p95", "p99", "p999", "max"}

// canonicalMetric rewrites latency_ms.<procedure>.<field> to
// latency_ms.<procedure>.all.<field>.
func canonicalMetric(path string) string {
	rest, ok := strings.CutPrefix(path, "latency_ms.")
	if !ok {
		return path
	}
	proc, field, ok := strings.Cut(rest, ".")
	if ok && slices.Contains(outcomeProcedures, proc) && slices.Contains(percentileFields, field) {
		return "latency_ms." + proc + ".all." + field
	}
	return path
}

// absentByCode reports whether full names a percentile field of a final
// code absent from a latency_ms.<procedure>.by_code map, where the lookup
// stopped with rest left: such a code never occurred, its percentiles are 0.
func absentByCode(full, rest string) bool {
	for _, proc := range outcomeProcedures {
		p := "latency_ms." + proc + ".by_code."
		if strings.HasPrefix(full, p) && len(full)-len(rest) == len(p) {
			i := strings.LastIndexByte(rest, '.')
			return i > 0 && slices.Contains(percentileFields, rest[i+1:])
		}
	}
	return false
}

// countMaps are summary maps whose absent keys are zero counts (or shares).
var countMaps = []string{"registrations.by_final_code.", "registrations.by_cause.", "registrations.retries.",
	"registrations.share.by_final_code.", "registrations.share.by_cause.", "counters.", "callbacks.mar.not_executed.",
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
		if absentByCode(full, rest) {
			return 0, nil
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
	path = canonicalMetric(path)
	if i := strings.Index(path, ".by_code."); i >= 0 && absentByCode(path, path[i+len(".by_code."):]) {
		return nil
	}
	_, err := v.Metric(path)
	return err
}
