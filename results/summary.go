package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
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
	// Interrupted: SIGINT or SIGTERM stopped the run; its numbers are
	// partial.
	Interrupted bool `json:"interrupted"`
	// Expectations are the profile's expectations as evaluated (verdict.go).
	Expectations []Verdict `json:"expectations,omitempty"`
	// Invariants are the properties every run must have, per variant.
	Invariants []Invariant `json:"invariants,omitempty"`
}

// VariantSummary is one variant's results.
type VariantSummary struct {
	Name            string            `json:"name"`
	Preset          string            `json:"preset,omitempty"`
	MARResume       string            `json:"mar_resume"`
	SAROKResume     string            `json:"sar_ok_resume,omitempty"`
	SARErrResume    string            `json:"sar_error_resume,omitempty"`
	Registrations   Registrations     `json:"registrations"`
	Throughput      Throughput        `json:"throughput_per_s"`
	Callbacks       CallbackSummaries `json:"callbacks"`
	LatencyMS       LatencySummaries  `json:"latency_ms"`
	VirtualDuration float64           `json:"virtual_duration_s"`
	Events          uint64            `json:"events"`
	Counters        map[string]uint64 `json:"counters,omitempty"`
	// NotMeasured lists the parts of the summary the run could not
	// measure, as metric paths or their prefixes ("callbacks.mar",
	// "latency_ms.mar_rtt", "counters.scscf", "events"): a live command
	// that sees only the UEs cannot know what the S-CSCF's callbacks did.
	// The table prints "n/a" for them, and an expectation on them fails
	// with "not measured" instead of comparing a zero.
	NotMeasured []string `json:"not_measured,omitempty"`
}

// MarkNotMeasured adds metric paths (or prefixes) the run did not measure.
func (v *VariantSummary) MarkNotMeasured(paths ...string) {
	for _, p := range paths {
		if !v.notMeasured(p) {
			v.NotMeasured = append(v.NotMeasured, p)
		}
	}
	sort.Strings(v.NotMeasured)
}

// notMeasured reports whether path is, or lies below, a NotMeasured entry.
func (v *VariantSummary) notMeasured(path string) bool {
	for _, p := range v.NotMeasured {
		if path == p || strings.HasPrefix(path, p+".") {
			return true
		}
	}
	return false
}

// Registrations counts procedures by outcome. A procedure is an initial
// registration (or a retry of one), a re-registration or a de-registration;
// Attempted, Succeeded, Failed and the maps count all of them.
type Registrations struct {
	// UEs is the number of distinct UEs that attempted a procedure;
	// UEsRegistered, of those with at least one successful registration
	// or re-registration.
	UEs           uint64            `json:"ues"`
	UEsRegistered uint64            `json:"ues_registered"`
	Attempted     uint64            `json:"attempted"`
	Succeeded     uint64            `json:"succeeded"`
	Failed        uint64            `json:"failed"`
	InProgress    uint64            `json:"in_progress"`       // cut by the deadline or an interrupt
	ByFinalCode   map[string]uint64 `json:"by_final_code"`     // the UE's own Timer F counts as 408 (RFC 3261 §8.1.3.1)
	ByCause       map[string]uint64 `json:"by_cause"`          // final code and reason phrase
	Retries       map[string]uint64 `json:"retries,omitempty"` // retries scheduled, by the final code that caused them
	ByProcedure   ProcedureCounts   `json:"by_procedure"`
	// Share is each count divided by Attempted (0 when nothing was
	// attempted): succeeded + failed + in_progress = 1.
	Share Shares `json:"share"`
}

// ProcedureCounts splits the counts by procedure.
type ProcedureCounts struct {
	Registration   Counts `json:"registration"`
	Reregistration Counts `json:"reregistration"`
	Deregistration Counts `json:"deregistration"`
}

// Counts are one procedure's outcomes.
type Counts struct {
	Attempted  uint64 `json:"attempted"`
	Succeeded  uint64 `json:"succeeded"`
	Failed     uint64 `json:"failed"`
	InProgress uint64 `json:"in_progress"`
}

// Shares are outcome counts as fractions of the procedures attempted.
type Shares struct {
	Succeeded   float64            `json:"succeeded"`
	Failed      float64            `json:"failed"`
	InProgress  float64            `json:"in_progress"`
	ByFinalCode map[string]float64 `json:"by_final_code"`
	ByCause     map[string]float64 `json:"by_cause"`
}

// Throughput is the rate of procedures per second. The means are over the
// active window, from the first intended send to the last completion; the
// peaks are the busiest virtual second [s, s+1) (offered by intended send
// time, the others by completion time).
type Throughput struct {
	WindowS float64 `json:"window_s"`
	Offered Rate    `json:"offered"`
	// Achieved counts the procedures that succeeded (2xx).
	Achieved Rate `json:"achieved"`
	Failed   Rate `json:"failed"`
	// Completed is achieved plus failed.
	Completed Rate `json:"completed"`
}

// Rate is a mean and a peak per second.
type Rate struct {
	Mean float64 `json:"mean"`
	Peak float64 `json:"peak"`
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

// LatencySummaries holds the latency metrics. The procedures' latencies run
// from the intended send time of the first REGISTER to the final response
// (or Timer F), split by outcome; the others are single histograms.
type LatencySummaries struct {
	Registration   OutcomeLatency `json:"registration"`
	Reregistration OutcomeLatency `json:"reregistration"`
	Deregistration OutcomeLatency `json:"deregistration"`
	// Challenge is the first leg: intended send to the final response to
	// the REGISTER without credentials (ok: a 401 with a challenge).
	Challenge OutcomeLatency `json:"challenge"`
	MARRTT    Percentiles    `json:"mar_rtt"`
	SARRTT    Percentiles    `json:"sar_rtt"`
	HSSMAR    Percentiles    `json:"hss_mar"`
	HSSQueue  Percentiles    `json:"hss_queue"`
}

// OutcomeLatency is a procedure's latency for every outcome (All), for
// successes only (OK), and by final code (ByCode: "200", "408", "500",
// ..., "timer_f" for the UE's own Timer F, "other" for codes outside
// 100-699); the ByCode counts add up to All's.
type OutcomeLatency struct {
	All    Percentiles            `json:"all"`
	OK     Percentiles            `json:"ok"`
	ByCode map[string]Percentiles `json:"by_code"`
}

// Percentiles of one histogram, in milliseconds, selected as the Java and
// JavaScript HdrHistogram select them (countAtPercentile).
type Percentiles struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

var summaryPercentiles = []float64{50, 90, 95, 99, 99.9}

func ms(us int64) float64 { return float64(us) / 1000 }

func percentilesPacked(h *hdr.PackedHistogram) Percentiles {
	if h == nil || h.TotalCount() == 0 {
		return Percentiles{}
	}
	v := valuesAtPercentiles(h, summaryPercentiles)
	return Percentiles{Count: uint64(h.TotalCount()), P50: ms(v[0]), P90: ms(v[1]), P95: ms(v[2]), P99: ms(v[3]),
		P999: ms(v[4]), Max: ms(h.Max())}
}

func percentiles(h *hdr.Histogram) Percentiles {
	if h == nil || h.TotalCount() == 0 {
		return Percentiles{}
	}
	return percentilesPacked(packedOf(h))
}

func outcomeLatency(o *outcomes) OutcomeLatency {
	out := OutcomeLatency{All: percentiles(o.all.total), OK: percentiles(o.ok.total), ByCode: map[string]Percentiles{}}
	for slot, h := range o.byCode {
		if h != nil && h.TotalCount() > 0 {
			out.ByCode[slotKey(slot)] = percentilesPacked(h)
		}
	}
	return out
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

func counts(o *outcomes) Counts {
	return Counts{Attempted: o.attempted, Succeeded: o.succeeded, Failed: o.failed,
		InProgress: o.attempted - min(o.attempted, o.succeeded+o.failed)}
}

// round3 keeps rates readable (three decimals) and deterministic.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// throughput computes the rates over the active window and the series.
func (c *Collector) throughput() Throughput {
	var t Throughput
	if c.started && c.last > c.first {
		t.WindowS = (c.last - c.first).Seconds()
	}
	mean := func(n uint64) float64 {
		if t.WindowS <= 0 {
			return 0
		}
		return round3(float64(n) / t.WindowS)
	}
	t.Offered.Mean, t.Achieved.Mean, t.Failed.Mean = mean(c.Attempted), mean(c.Succeeded), mean(c.Failed)
	t.Completed.Mean = mean(c.Succeeded + c.Failed)
	for _, s := range c.Series.S {
		t.Offered.Peak = max(t.Offered.Peak, float64(s.Offered))
		t.Achieved.Peak = max(t.Achieved.Peak, float64(s.Succeeded))
		t.Failed.Peak = max(t.Failed.Peak, float64(s.Failed))
		t.Completed.Peak = max(t.Completed.Peak, float64(s.Succeeded+s.Failed))
	}
	return t
}

// Summarize turns a collector into a variant summary.
func (c *Collector) Summarize(name, marResume string, reached time.Duration, events uint64) VariantSummary {
	v := VariantSummary{
		Name:      name,
		MARResume: marResume,
		Registrations: Registrations{
			UEs: popCount(c.ues), UEsRegistered: popCount(c.registered),
			Attempted: c.Attempted, Succeeded: c.Succeeded, Failed: c.Failed,
			InProgress:  c.Attempted - min(c.Attempted, c.Succeeded+c.Failed),
			ByFinalCode: map[string]uint64{},
			ByCause:     map[string]uint64{},
			ByProcedure: ProcedureCounts{Registration: counts(&c.procs[ProcRegistration]),
				Reregistration: counts(&c.procs[ProcReregistration]), Deregistration: counts(&c.procs[ProcDeregistration])},
			Share: Shares{ByFinalCode: map[string]float64{}, ByCause: map[string]float64{}},
		},
		Throughput: c.throughput(),
		Callbacks: CallbackSummaries{
			MAR:    callbackSummary(&c.Callbacks[CallbackMAR]),
			SAR:    callbackSummary(&c.Callbacks[CallbackSAR]),
			Resync: callbackSummary(&c.Callbacks[CallbackResync]),
		},
		LatencyMS: LatencySummaries{
			Registration:   outcomeLatency(&c.procs[ProcRegistration]),
			Reregistration: outcomeLatency(&c.procs[ProcReregistration]),
			Deregistration: outcomeLatency(&c.procs[ProcDeregistration]),
			Challenge:      outcomeLatency(&c.procs[procChallenge]),
			MARRTT:         percentiles(c.MARRTT),
			SARRTT:         percentiles(c.SARRTT),
			HSSMAR:         percentiles(c.HSSMAR),
			HSSQueue:       percentiles(c.HSSQueue),
		},
		VirtualDuration: reached.Seconds(),
		Events:          events,
	}
	r := &v.Registrations
	for code, n := range c.ByCode {
		r.ByFinalCode[strconv.Itoa(code)] = n
	}
	for slot := range c.causes {
		cs := &c.causes[slot]
		for i, reason := range cs.reasons {
			r.ByCause[strconv.Itoa(c.codeOf[slot])+" "+reason] += cs.counts[i]
		}
	}
	if len(c.Retries) > 0 {
		r.Retries = map[string]uint64{}
		for code, n := range c.Retries {
			r.Retries[strconv.Itoa(code)] = n
		}
	}
	if r.Attempted > 0 {
		share := func(n uint64) float64 { return float64(n) / float64(r.Attempted) }
		r.Share.Succeeded, r.Share.Failed, r.Share.InProgress = share(r.Succeeded), share(r.Failed), share(r.InProgress)
		for k, n := range r.ByFinalCode {
			r.Share.ByFinalCode[k] = share(n)
		}
		for k, n := range r.ByCause {
			r.Share.ByCause[k] = share(n)
		}
	}
	return v
}

// JSON renders the summary deterministically, indented, with a final newline.
func (s *Summary) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // operators read "<", not "\u003c"
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("results: encoding summary: %w", err)
	}
	return buf.Bytes(), nil
}
