package results

import (
	"io"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Second is one virtual second of the time series. Offered counts the
// procedures whose intended send time falls in the second; the outcome
// counts, the procedures that completed in it.
type Second struct {
	Offered, Succeeded, Failed int64
	// Failures by class: a final 4xx, 5xx, the UE's own Timer F, anything
	// else (3xx, 6xx).
	Failed4xx, Failed5xx, FailedTimerF, FailedOther int64
	Suspended, OnWait                               int32 // the most seen in the second
	HSSQueue                                        int32
}

// Series is a variant's time series per virtual second.
type Series struct {
	S []Second
}

func (s *Series) at(now time.Duration) *Second {
	sec := int(now / time.Second)
	if sec < 0 || sec >= maxGaugeSeconds {
		return nil
	}
	if len(s.S) <= sec {
		if cap(s.S) > sec {
			s.S = s.S[:sec+1]
		} else {
			n := make([]Second, sec+1, max(2*cap(s.S), sec+1, 64))
			copy(n, s.S)
			s.S = n
		}
	}
	return &s.S[sec]
}

// TimeseriesHeader documents timeseries.csv in its first line (a comment:
// readers that take '#' lines as comments, such as encoding/csv with
// Comment '#', pandas' comment='#' or gnuplot, skip it).
const TimeseriesHeader = "# one row per variant and virtual second [second, second+1): offered counts the procedures whose intended " +
	"send time falls in the second; completed, succeeded, failed and failed_* count the procedures that ended in it; " +
	"latencies (ms, intended send to final response) are of the procedures that ended in it, p* of every outcome, ok_p* of " +
	"successes only, from HdrHistograms of that second (3 significant figures); a latency field is empty when nothing ended " +
	"in the second; *_max are the most seen in the second"

// timeseriesColumns are the columns of timeseries.csv.
var timeseriesColumns = []string{"second", "variant", "offered", "completed", "succeeded", "failed", "failed_4xx", "failed_5xx",
	"failed_timer_f", "failed_other", "suspended_max", "on_wait_max", "hss_queue_max", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
	"max_ms", "ok_p50_ms", "ok_p99_ms"}

// secondLatency merges second s of the procedures' all (or ok) timelines
// into scratch and returns it, or nil when nothing ended in the second.
func secondLatency(c *Collector, s int, ok bool, scratch *hdr.PackedHistogram) *hdr.PackedHistogram {
	var only *hdr.PackedHistogram
	n := 0
	for p := Procedure(0); p < numProcedures; p++ {
		t := &c.procs[p].all
		if ok {
			t = &c.procs[p].ok
		}
		if h := t.second(s); h != nil && h.TotalCount() > 0 {
			if n == 0 {
				only = h
			} else {
				if n == 1 {
					scratch.Reset()
					scratch.Merge(only)
				}
				scratch.Merge(h)
			}
			n++
		}
	}
	if n > 1 {
		return scratch
	}
	return only
}

// WriteTimeseriesCSV writes every variant's series: a comment line, the
// header, then one row per second.
func WriteTimeseriesCSV(w io.Writer, names []string, cols []*Collector) error {
	var b strings.Builder
	b.WriteString(TimeseriesHeader + "\n")
	b.WriteString(strings.Join(timeseriesColumns, ",") + "\n")
	scratch := newPacked()
	ms := func(us int64) string { return strconv.FormatFloat(float64(us)/1000, 'f', 3, 64) }
	num := func(n int64) { b.WriteByte(','); b.WriteString(strconv.FormatInt(n, 10)) }
	for i, c := range cols {
		for sec, x := range c.Series.S {
			b.WriteString(strconv.Itoa(sec))
			b.WriteByte(',')
			b.WriteString(names[i])
			for _, n := range []int64{x.Offered, x.Succeeded + x.Failed, x.Succeeded, x.Failed, x.Failed4xx, x.Failed5xx,
				x.FailedTimerF, x.FailedOther, int64(x.Suspended), int64(x.OnWait), int64(x.HSSQueue)} {
				num(n)
			}
			if h := secondLatency(c, sec, false, scratch); h != nil {
				for _, v := range valuesAtPercentiles(h, []float64{50, 90, 95, 99}) {
					b.WriteString("," + ms(v))
				}
				b.WriteString("," + ms(h.Max()))
			} else {
				b.WriteString(",,,,,")
			}
			if h := secondLatency(c, sec, true, scratch); h != nil {
				for _, v := range valuesAtPercentiles(h, []float64{50, 99}) {
					b.WriteString("," + ms(v))
				}
			} else {
				b.WriteString(",,")
			}
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
