package results

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// sketchBuckets spans 10 µs · 2^(i/4): 120 buckets reach about 10^4 s, each
// about 19 % wide, enough for a p50/p99 per second in a time series.
const sketchBuckets = 120

// sketch is a small log-bucket histogram for one second of the series.
type sketch [sketchBuckets]uint32

func sketchIndex(d time.Duration) int {
	us := float64(d) / 1e3
	if us <= 10 {
		return 0
	}
	i := int(4 * math.Log2(us/10))
	return min(i, sketchBuckets-1)
}

func sketchValue(i int) time.Duration { // upper edge of bucket i
	return time.Duration(10 * math.Pow(2, float64(i+1)/4) * 1e3)
}

func (s *sketch) quantile(q float64) time.Duration {
	var n uint64
	for _, c := range s {
		n += uint64(c)
	}
	if n == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(n)))
	var acc uint64
	for i, c := range s {
		acc += uint64(c)
		if acc >= want {
			return sketchValue(i)
		}
	}
	return sketchValue(sketchBuckets - 1)
}

// Second is one virtual second of the time series.
type Second struct {
	Offered, Succeeded, Failed int64
	Suspended, OnWait          int32 // the most seen in the second
	HSSQueue                   int32
	lat                        *sketch // registration latency of the procedures completed in the second
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
	for len(s.S) <= sec {
		s.S = append(s.S, Second{})
	}
	return &s.S[sec]
}

// WriteTimeseriesCSV writes every variant's series: one row per second.
func WriteTimeseriesCSV(w io.Writer, names []string, series []*Series) error {
	var b strings.Builder
	b.WriteString("second,variant,offered,succeeded,failed,suspended_max,on_wait_max,hss_queue_max,p50_ms,p99_ms\n")
	for i, s := range series {
		for sec, x := range s.S {
			var p50, p99 float64
			if x.lat != nil {
				p50, p99 = float64(x.lat.quantile(0.5))/1e6, float64(x.lat.quantile(0.99))/1e6
			}
			fmt.Fprintf(&b, "%d,%s,%d,%d,%d,%d,%d,%d,%.3f,%.3f\n", sec, names[i], x.Offered, x.Succeeded, x.Failed,
				x.Suspended, x.OnWait, x.HSSQueue, p50, p99)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
