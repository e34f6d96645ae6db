package results

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// table builds the text table: one column per variant.
type table struct {
	vs   []VariantSummary
	rows [][]string
}

// add appends a row; path, when set, is the metric the row shows: a variant
// that did not measure it prints "n/a".
func (t *table) add(label, path string, f func(v *VariantSummary) string) {
	r := []string{label}
	for i := range t.vs {
		v := &t.vs[i]
		if path != "" && v.notMeasured(path) {
			r = append(r, "n/a")
		} else {
			r = append(r, f(v))
		}
	}
	t.rows = append(t.rows, r)
}

// any reports whether f holds for a variant that measured path.
func (t *table) any(path string, f func(v *VariantSummary) bool) bool {
	for i := range t.vs {
		if v := &t.vs[i]; !v.notMeasured(path) && f(v) {
			return true
		}
	}
	return false
}

func (t *table) allNotMeasured(path string) bool {
	for i := range t.vs {
		if !t.vs[i].notMeasured(path) {
			return false
		}
	}
	return len(t.vs) > 0
}

func countText(n uint64) string { return strconv.FormatUint(n, 10) }

func msText(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

func pctText(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) + "%" }

func rateText(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// percentileRows adds the two rows of a latency: p50 / p90 / p95, then
// p99 / p99.9 / max.
func (t *table) percentileRows(label, path string, get func(v *VariantSummary) *Percentiles) {
	t.add(label+" p50 / p90 / p95", path, func(v *VariantSummary) string {
		p := get(v)
		return msText(p.P50) + " / " + msText(p.P90) + " / " + msText(p.P95)
	})
	t.add("  p99 / p99.9 / max", path, func(v *VariantSummary) string {
		p := get(v)
		return msText(p.P99) + " / " + msText(p.P999) + " / " + msText(p.Max)
	})
}

// procLatency describes a procedure's latency block in the table.
type procLatency struct {
	label, key, okLabel string
	get                 func(v *VariantSummary) *OutcomeLatency
}

var procLatencies = []procLatency{
	{"registration", "registration", "successes only", func(v *VariantSummary) *OutcomeLatency { return &v.LatencyMS.Registration }},
	{"re-registration", "reregistration", "successes only", func(v *VariantSummary) *OutcomeLatency { return &v.LatencyMS.Reregistration }},
	{"de-registration", "deregistration", "successes only", func(v *VariantSummary) *OutcomeLatency { return &v.LatencyMS.Deregistration }},
	{"challenge", "challenge", "401 challenges only", func(v *VariantSummary) *OutcomeLatency { return &v.LatencyMS.Challenge }},
}

// outcomeRows adds a procedure's latency: every outcome; when some
// outcome was not a success, the successes only and each final code.
func (t *table) outcomeRows(p procLatency) {
	path := "latency_ms." + p.key
	if p.key != "registration" && !t.any(path, func(v *VariantSummary) bool { return p.get(v).All.Count > 0 }) {
		return
	}
	t.percentileRows(p.label+" latency ms, every outcome:", path+".all", func(v *VariantSummary) *Percentiles { return &p.get(v).All })
	if !t.any(path, func(v *VariantSummary) bool { return p.get(v).OK.Count != p.get(v).All.Count }) {
		return
	}
	t.percentileRows("  "+p.okLabel+":", path+".ok", func(v *VariantSummary) *Percentiles { return &p.get(v).OK })
	codes := unionKeys(t.vs, func(v *VariantSummary) map[string]uint64 {
		m := map[string]uint64{}
		for k, x := range p.get(v).ByCode {
			m[k] = x.Count
		}
		return m
	})
	for _, code := range codes {
		label := "  final " + code
		if code == "timer_f" {
			label = "  Timer F at the UE"
		}
		t.add(label+": n, p50 / p99 / max", path+".by_code", func(v *VariantSummary) string {
			x, ok := p.get(v).ByCode[code]
			if !ok {
				return "-"
			}
			return countText(x.Count) + ", " + msText(x.P50) + " / " + msText(x.P99) + " / " + msText(x.Max)
		})
	}
}

// counterGroups name the counters' prefixes in the table.
var counterGroups = []struct{ prefix, label string }{
	{"ue.", "UE counters"}, {"scscf.", "S-CSCF counters"}, {"hss.", "HSS counters"}, {"wire.", "wire fidelity counters"},
}

// WriteTable prints the human summary: one column per variant.
func (s *Summary) WriteTable(w io.Writer) error {
	t := &table{vs: s.Variants}
	names := []string{""}
	for _, v := range s.Variants {
		names = append(names, v.Name)
	}
	t.rows = append(t.rows, names)
	t.add("preset", "", func(v *VariantSummary) string { return v.Preset })
	t.add("MAR resume", "", func(v *VariantSummary) string { return v.MARResume })

	t.add("UEs that attempted", "registrations.ues", func(v *VariantSummary) string { return countText(v.Registrations.UEs) })
	t.add("  registered at least once", "registrations.ues_registered", func(v *VariantSummary) string {
		return countText(v.Registrations.UEsRegistered)
	})
	t.add("procedures attempted", "registrations.attempted", func(v *VariantSummary) string { return countText(v.Registrations.Attempted) })
	t.add("  succeeded", "registrations.succeeded", func(v *VariantSummary) string {
		return countText(v.Registrations.Succeeded) + " (" + pctText(v.Registrations.Share.Succeeded) + ")"
	})
	t.add("  failed", "registrations.failed", func(v *VariantSummary) string {
		return countText(v.Registrations.Failed) + " (" + pctText(v.Registrations.Share.Failed) + ")"
	})
	if t.any("registrations", func(v *VariantSummary) bool { return v.Registrations.InProgress != 0 }) {
		t.add("  in progress at the end", "registrations.in_progress", func(v *VariantSummary) string { return countText(v.Registrations.InProgress) })
	}
	for _, cause := range unionKeys(s.Variants, func(v *VariantSummary) map[string]uint64 { return v.Registrations.ByCause }) {
		t.add("  final "+cause, "registrations.by_cause", func(v *VariantSummary) string { return countText(v.Registrations.ByCause[cause]) })
	}
	for _, code := range unionKeys(s.Variants, func(v *VariantSummary) map[string]uint64 { return v.Registrations.Retries }) {
		t.add("  retried after "+code, "registrations.retries", func(v *VariantSummary) string { return countText(v.Registrations.Retries[code]) })
	}
	if t.any("registrations", func(v *VariantSummary) bool {
		p := &v.Registrations.ByProcedure
		return p.Reregistration.Attempted+p.Deregistration.Attempted > 0
	}) {
		for _, p := range []struct {
			label string
			get   func(v *VariantSummary) *Counts
		}{
			{"initial", func(v *VariantSummary) *Counts { return &v.Registrations.ByProcedure.Registration }},
			{"re-registrations", func(v *VariantSummary) *Counts { return &v.Registrations.ByProcedure.Reregistration }},
			{"de-registrations", func(v *VariantSummary) *Counts { return &v.Registrations.ByProcedure.Deregistration }},
		} {
			t.add("  "+p.label+": attempted / ok / failed", "registrations.by_procedure", func(v *VariantSummary) string {
				c := p.get(v)
				return countText(c.Attempted) + " / " + countText(c.Succeeded) + " / " + countText(c.Failed)
			})
		}
	}

	rate := func(label, path string, get func(v *VariantSummary) *Rate) {
		t.add(label, path, func(v *VariantSummary) string { r := get(v); return rateText(r.Mean) + " / " + rateText(r.Peak) })
	}
	rate("procedures per s offered: mean / peak", "throughput_per_s.offered", func(v *VariantSummary) *Rate { return &v.Throughput.Offered })
	rate("  achieved (succeeded)", "throughput_per_s.achieved", func(v *VariantSummary) *Rate { return &v.Throughput.Achieved })
	if t.any("throughput_per_s", func(v *VariantSummary) bool { return v.Registrations.Failed > 0 }) {
		rate("  failed", "throughput_per_s.failed", func(v *VariantSummary) *Rate { return &v.Throughput.Failed })
	}
	t.add("  active window s", "throughput_per_s.window_s", func(v *VariantSummary) string {
		return strconv.FormatFloat(v.Throughput.WindowS, 'f', 3, 64)
	})

	for _, cb := range []struct {
		name, path string
		get        func(v *VariantSummary) *CallbackSummary
	}{
		{"MAR", "callbacks.mar", func(v *VariantSummary) *CallbackSummary { return &v.Callbacks.MAR }},
		{"SAR", "callbacks.sar", func(v *VariantSummary) *CallbackSummary { return &v.Callbacks.SAR }},
		{"resync", "callbacks.resync", func(v *VariantSummary) *CallbackSummary { return &v.Callbacks.Resync }},
	} {
		if cb.name == "resync" && !t.any(cb.path, func(v *VariantSummary) bool { return cb.get(v).Invoked > 0 }) {
			continue
		}
		t.add(cb.name+" callbacks", cb.path, func(v *VariantSummary) string { return countText(cb.get(v).Invoked) })
		if t.allNotMeasured(cb.path) {
			continue
		}
		t.add("  route executed", cb.path, func(v *VariantSummary) string {
			c := cb.get(v)
			return countText(c.RouteExecuted) + " (" + pctText(c.CompletionRate) + ")"
		})
		for _, reason := range unionKeys(s.Variants, func(v *VariantSummary) map[string]uint64 { return cb.get(v).NotExecuted }) {
			t.add("  not run: "+reason, cb.path, func(v *VariantSummary) string { return countText(cb.get(v).NotExecuted[reason]) })
		}
	}

	for _, p := range procLatencies {
		t.outcomeRows(p)
	}
	for _, l := range []struct {
		name, path string
		get        func(v *VariantSummary) *Percentiles
	}{
		{"MAR round trip latency ms", "latency_ms.mar_rtt", func(v *VariantSummary) *Percentiles { return &v.LatencyMS.MARRTT }},
		{"HSS queue wait ms", "latency_ms.hss_queue", func(v *VariantSummary) *Percentiles { return &v.LatencyMS.HSSQueue }},
	} {
		if l.path == "latency_ms.hss_queue" && !t.any(l.path, func(v *VariantSummary) bool { return l.get(v).Max > 0 }) {
			continue
		}
		if t.allNotMeasured(l.path) {
			t.add(l.name, l.path, nil)
			continue
		}
		t.percentileRows(l.name, l.path, l.get)
	}

	for _, g := range counterGroups {
		var keys []string
		for _, k := range unionKeys(s.Variants, func(v *VariantSummary) map[string]uint64 { return v.Counters }) {
			if strings.HasPrefix(k, g.prefix) && t.any("counters."+k, func(v *VariantSummary) bool { return v.Counters[k] != 0 }) {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			continue
		}
		t.rows = append(t.rows, []string{g.label})
		for _, k := range keys {
			t.add("  "+strings.TrimPrefix(k, g.prefix), "counters."+k, func(v *VariantSummary) string { return countText(v.Counters[k]) })
		}
	}
	var other []string
	for _, k := range unionKeys(s.Variants, func(v *VariantSummary) map[string]uint64 { return v.Counters }) {
		grouped := false
		for _, g := range counterGroups {
			grouped = grouped || strings.HasPrefix(k, g.prefix)
		}
		if !grouped && t.any("counters."+k, func(v *VariantSummary) bool { return v.Counters[k] != 0 }) {
			other = append(other, k)
		}
	}
	for _, k := range other {
		t.add(k, "counters."+k, func(v *VariantSummary) string { return countText(v.Counters[k]) })
	}
	t.add("virtual duration s", "virtual_duration_s", func(v *VariantSummary) string { return strconv.FormatFloat(v.VirtualDuration, 'f', 3, 64) })
	t.add("events", "events", func(v *VariantSummary) string { return countText(v.Events) })

	widths := make([]int, len(t.rows[0]))
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "profile %s, seed %d\n", s.Profile, s.Seed)
	for _, r := range t.rows {
		for i, c := range r {
			if i == 0 {
				if len(r) == 1 {
					b.WriteString(c)
				} else {
					fmt.Fprintf(&b, "%-*s", widths[i], c)
				}
			} else {
				fmt.Fprintf(&b, "  %*s", widths[i], c)
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func unionKeys(vs []VariantSummary, get func(v *VariantSummary) map[string]uint64) []string {
	seen := map[string]bool{}
	var keys []string
	for i := range vs {
		for k := range get(&vs[i]) {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}
