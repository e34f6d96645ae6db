package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Summary is the summary.json contract: deterministic content only (no wall
// clock, host names or timestamps), fields in a fixed order, map keys sorted
// by encoding/json.
type Summary struct {
	Profile  string           `json:"profile"`
	Seed     uint64           `json:"seed"`
	Variants []VariantSummary `json:"variants"`
}

// VariantSummary is one variant's results.
type VariantSummary struct {
	Name            string            `json:"name"`
	Preset          string            `json:"preset,omitempty"`
	MARResume       string            `json:"mar_resume"`
	SAROKResume     string            `json:"sar_ok_resume,omitempty"`
	SARErrResume    string            `json:"sar_error_resume,omitempty"`
	Registrations   Registrations     `json:"registrations"`
	Callbacks       CallbackSummaries `json:"callbacks"`
	LatencyMS       LatencySummaries  `json:"latency_ms"`
	VirtualDuration float64           `json:"virtual_duration_s"`
	Events          uint64            `json:"events"`
	Counters        map[string]uint64 `json:"counters,omitempty"`
}

// Registrations counts procedures by outcome.
type Registrations struct {
	Attempted   uint64            `json:"attempted"`
	Succeeded   uint64            `json:"succeeded"`
	Failed      uint64            `json:"failed"`
	InProgress  uint64            `json:"in_progress"` // cut by the deadline or an interrupt
	ByFinalCode map[string]uint64 `json:"by_final_code"`
	ByCause     map[string]uint64 `json:"by_cause"`          // final code and reason phrase
	Retries     map[string]uint64 `json:"retries,omitempty"` // retries scheduled, by the final code that caused them
}

// CallbackSummaries holds both callbacks.
type CallbackSummaries struct {
	MAR    CallbackSummary `json:"mar"`
	SAR    CallbackSummary `json:"sar"`
	Resync CallbackSummary `json:"resync"`
}

// CallbackSummary is one callback's completion.
type CallbackSummary struct {
	Invoked        uint64            `json:"invoked"`
	RouteExecuted  uint64            `json:"route_executed"`
	CompletionRate float64           `json:"completion_rate"`
	NotExecuted    map[string]uint64 `json:"not_executed"`
}

// LatencySummaries holds both latency metrics.
type LatencySummaries struct {
	Registration Percentiles `json:"registration"`
	Challenge    Percentiles `json:"challenge"`
	MARRTT       Percentiles `json:"mar_rtt"`
	SARRTT       Percentiles `json:"sar_rtt"`
	HSSMAR       Percentiles `json:"hss_mar"`
	HSSQueue     Percentiles `json:"hss_queue"`
}

// Percentiles of one histogram, in milliseconds.
type Percentiles struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

func percentiles(h *hdr.Histogram) Percentiles {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	return Percentiles{
		Count: uint64(h.TotalCount()),
		P50:   ms(h.ValueAtQuantile(50)),
		P90:   ms(h.ValueAtQuantile(90)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
	}
}

func callbackSummary(s *CallbackStats) CallbackSummary {
	out := CallbackSummary{Invoked: s.Invoked, RouteExecuted: s.RouteExecuted, NotExecuted: map[string]uint64{}}
	if s.Invoked > 0 {
		out.CompletionRate = float64(s.RouteExecuted) / float64(s.Invoked)
	}
	for k, v := range s.NotExecuted {
		out.NotExecuted[k] = v
	}
	return out
}

// Summarize turns a collector into a variant summary.
func (c *Collector) Summarize(name, marResume string, reached time.Duration, events uint64) VariantSummary {
	v := VariantSummary{
		Name:      name,
		MARResume: marResume,
		Registrations: Registrations{
			Attempted: c.Attempted, Succeeded: c.Succeeded, Failed: c.Failed,
			InProgress:  c.Attempted - c.Succeeded - c.Failed,
			ByFinalCode: map[string]uint64{},
			ByCause:     map[string]uint64{},
		},
		Callbacks: CallbackSummaries{
			MAR:    callbackSummary(&c.Callbacks[CallbackMAR]),
			SAR:    callbackSummary(&c.Callbacks[CallbackSAR]),
			Resync: callbackSummary(&c.Callbacks[CallbackResync]),
		},
		LatencyMS: LatencySummaries{
			Registration: percentiles(c.Registration),
			Challenge:    percentiles(c.Challenge),
			MARRTT:       percentiles(c.MARRTT),
			SARRTT:       percentiles(c.SARRTT),
			HSSMAR:       percentiles(c.HSSMAR),
			HSSQueue:     percentiles(c.HSSQueue),
		},
		VirtualDuration: reached.Seconds(),
		Events:          events,
	}
	for code, n := range c.ByCode {
		v.Registrations.ByFinalCode[strconv.Itoa(code)] = n
	}
	for cause, n := range c.ByCause {
		v.Registrations.ByCause[cause] = n
	}
	if len(c.Retries) > 0 {
		v.Registrations.Retries = map[string]uint64{}
		for code, n := range c.Retries {
			v.Registrations.Retries[strconv.Itoa(code)] = n
		}
	}
	return v
}

// JSON renders the summary deterministically, indented, with a final newline.
func (s *Summary) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("results: encoding summary: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteTable prints the human summary: one column per variant.
func (s *Summary) WriteTable(w io.Writer) error {
	names := make([]string, len(s.Variants))
	for i, v := range s.Variants {
		names[i] = v.Name
	}
	rows := [][]string{append([]string{""}, names...)}
	add := func(label string, f func(v *VariantSummary) string) {
		r := []string{label}
		for i := range s.Variants {
			r = append(r, f(&s.Variants[i]))
		}
		rows = append(rows, r)
	}
	num := func(n uint64) string { return strconv.FormatUint(n, 10) }
	ms := func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }
	pct := func(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) + "%" }
	add("preset", func(v *VariantSummary) string { return v.Preset })
	add("MAR resume", func(v *VariantSummary) string { return v.MARResume })
	add("registrations attempted", func(v *VariantSummary) string { return num(v.Registrations.Attempted) })
	add("  succeeded", func(v *VariantSummary) string { return num(v.Registrations.Succeeded) })
	add("  failed", func(v *VariantSummary) string { return num(v.Registrations.Failed) })
	if anyInProgress(s.Variants) {
		add("  in progress at the end", func(v *VariantSummary) string { return num(v.Registrations.InProgress) })
	}
	for _, cause := range unionKeys(s.Variants, func(v *VariantSummary) map[string]uint64 { return v.Registrations.ByCause }) {
		add("  final "+cause, func(v *VariantSummary) string { return num(v.Registrations.ByCause[cause]) })
	}
	for _, code := range unionKeys(s.Variants, func(v *VariantSummary) map[string]uint64 { return v.Registrations.Retries }) {
		add("  retried after "+code, func(v *VariantSummary) string { return num(v.Registrations.Retries[code]) })
	}
	for _, cb := range []struct {
		name string
		get  func(v *VariantSummary) *CallbackSummary
	}{
		{"MAR", func(v *VariantSummary) *CallbackSummary { return &v.Callbacks.MAR }},
		{"SAR", func(v *VariantSummary) *CallbackSummary { return &v.Callbacks.SAR }},
		{"resync", func(v *VariantSummary) *CallbackSummary { return &v.Callbacks.Resync }},
	} {
		if cb.name == "resync" && !anyInvoked(s.Variants, cb.get) {
			continue
		}
		add(cb.name+" callbacks", func(v *VariantSummary) string { return num(cb.get(v).Invoked) })
		add("  route executed", func(v *VariantSummary) string {
			c := cb.get(v)
			return num(c.RouteExecuted) + " (" + pct(c.CompletionRate) + ")"
		})
		for _, reason := range unionKeys(s.Variants, func(v *VariantSummary) map[string]uint64 { return cb.get(v).NotExecuted }) {
			add("  not run: "+reason, func(v *VariantSummary) string { return num(cb.get(v).NotExecuted[reason]) })
		}
	}
	for _, l := range []struct {
		name string
		get  func(v *VariantSummary) *Percentiles
	}{
		{"registration", func(v *VariantSummary) *Percentiles { return &v.LatencyMS.Registration }},
		{"challenge", func(v *VariantSummary) *Percentiles { return &v.LatencyMS.Challenge }},
		{"MAR round trip", func(v *VariantSummary) *Percentiles { return &v.LatencyMS.MARRTT }},
		{"HSS queue wait", func(v *VariantSummary) *Percentiles { return &v.LatencyMS.HSSQueue }},
	} {
		if l.name == "HSS queue wait" && l.get(&s.Variants[0]).Max == 0 {
			continue
		}
		add(l.name+" latency ms p50", func(v *VariantSummary) string { return ms(l.get(v).P50) })
		add("  p90 / p99", func(v *VariantSummary) string { return ms(l.get(v).P90) + " / " + ms(l.get(v).P99) })
		add("  p99.9 / max", func(v *VariantSummary) string { return ms(l.get(v).P999) + " / " + ms(l.get(v).Max) })
	}
	for _, k := range unionKeys(s.Variants, func(v *VariantSummary) map[string]uint64 { return v.Counters }) {
		if !anyNonZero(s.Variants, k) {
			continue
		}
		add(k, func(v *VariantSummary) string { return num(v.Counters[k]) })
	}
	add("virtual duration s", func(v *VariantSummary) string { return strconv.FormatFloat(v.VirtualDuration, 'f', 3, 64) })
	add("events", func(v *VariantSummary) string { return num(v.Events) })

	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "profile %s, seed %d\n", s.Profile, s.Seed)
	for _, r := range rows {
		for i, c := range r {
			if i == 0 {
				fmt.Fprintf(&b, "%-*s", widths[i], c)
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

func anyInvoked(vs []VariantSummary, get func(v *VariantSummary) *CallbackSummary) bool {
	for i := range vs {
		if get(&vs[i]).Invoked > 0 {
			return true
		}
	}
	return false
}

func anyNonZero(vs []VariantSummary, key string) bool {
	for i := range vs {
		if vs[i].Counters[key] != 0 {
			return true
		}
	}
	return false
}

func anyInProgress(vs []VariantSummary) bool {
	for i := range vs {
		if vs[i].Registrations.InProgress != 0 {
			return true
		}
	}
	return false
}
