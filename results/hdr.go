package results

import (
	"math"
	"math/bits"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: 1 µs .. 1 h at 3 significant figures (LIBRARIES.md §3).
// Every histogram of the package, dense or packed, whole-run or per second,
// has this geometry, so any two can be merged bucket by bucket.
const (
	histLowest  = 1
	histHighest = 3_600_000_000
	histSigFigs = 3
)

// The geometry HdrHistogram derives from (histLowest, histSigFigs): unit
// magnitude 0 (histLowest is 1), sub-buckets of 2^11 = 2048 covering
// 2·10^3 values at unit resolution (AbstractHistogram's
// largestValueWithSingleUnitResolution), the upper half of each of 1024.
const (
	subBucketHalfCountMagnitude = 10
	subBucketMask               = 1<<(subBucketHalfCountMagnitude+1) - 1
)

func newHist() *hdr.Histogram { return hdr.New(histLowest, histHighest, histSigFigs) }

// newPacked is a sparse histogram of the same geometry: its storage grows
// with the buckets populated (a few KB for a second of latencies instead of
// the 184 KB of a dense one), at the cost of a binary search per value.
func newPacked() *hdr.PackedHistogram { return hdr.NewPacked(histLowest, histHighest, histSigFigs) }

// equivalentRange is the range of values that share v's bucket:
// HdrHistogram's lowestEquivalentValue and highestEquivalentValue for this
// package's geometry (bucket index from the position of v's highest bit
// above the sub-bucket mask, bucket width 2^index).
func equivalentRange(v int64) (lo, hi int64) {
	if v < 0 {
		v = 0
	}
	idx := bits.Len64(uint64(v)|subBucketMask) - (subBucketHalfCountMagnitude + 1)
	size := int64(1) << idx
	lo = v &^ (size - 1)
	return lo, lo + size - 1
}

// ulp is the JavaScript HdrHistogram's unit in the last place
// (hdr-histogram-js src/ulp.ts: 2^(floor(log2 x) - 52)), used as it uses it.
func ulp(x float64) float64 {
	if x <= 0 {
		return 0
	}
	return math.Pow(2, math.Floor(math.Log2(x))-52)
}

// countAtPercentile is the rank HdrHistogram selects for a percentile: the
// Java AbstractHistogram.getValueAtPercentile (2.1.12) and hdr-histogram-js
// JsHistogram.getValueAtPercentile compute max(1, ceil(p/100·n − ulp)),
// rounding the count up so that at least p % of the values are at or below
// the answer; the ulp absorbs the floating-point error of p/100·n. The Go
// library (hdrhistogram-go v1.4.0 percentileRank) rounds half up instead,
// which selects a lower rank whenever the fraction is below one half: p99
// of 1,060 values is rank 1,050 here (1,049.4 rounded up) but 1,049 there.
func countAtPercentile(percentile float64, total int64) int64 {
	p := min(percentile, 100)
	fp := p / 100 * float64(total)
	return max(int64(math.Ceil(fp-ulp(fp))), 1)
}

// valueAtPercentile is HdrHistogram's getValueAtPercentile over a packed
// histogram: the highest value equivalent to the bucket at which the
// cumulative count reaches countAtPercentile (the lowest one for the 0th
// percentile); 0 when empty.
func valueAtPercentile(h *hdr.PackedHistogram, percentile float64) int64 {
	vs := valuesAtPercentiles(h, []float64{percentile})
	return vs[0]
}

// valuesAtPercentiles is valueAtPercentile for ascending percentiles, in
// one pass over the populated buckets.
func valuesAtPercentiles(h *hdr.PackedHistogram, ps []float64) []int64 {
	out := make([]int64, len(ps))
	total := h.TotalCount()
	if total == 0 {
		return out
	}
	i := 0
	want := countAtPercentile(ps[0], total)
	var acc int64
	h.ForEachBucket(func(value, count int64) bool {
		acc += count
		for i < len(ps) && acc >= want {
			lo, hi := equivalentRange(value)
			if ps[i] == 0 {
				out[i] = lo
			} else {
				out[i] = hi
			}
			i++
			if i < len(ps) {
				want = countAtPercentile(ps[i], total)
			}
		}
		return i < len(ps)
	})
	return out
}

// packedOf copies a dense histogram into a packed one (for the percentile
// walk over populated buckets only).
func packedOf(h *hdr.Histogram) *hdr.PackedHistogram {
	p := newPacked()
	if h != nil && h.TotalCount() > 0 {
		p.MergeFrom(h)
	}
	return p
}

// maxSeconds bounds every per-second series (about 12 days of virtual
// time); a measurement after it counts in the run's totals only.
const maxSeconds = 1 << 20

// maxGaugeSeconds is the bound of the gauge series.
const maxGaugeSeconds = maxSeconds

// timeline is one latency metric: a dense histogram of the whole run and a
// packed one per virtual second in which a measurement was recorded (nil
// for the others), so each second's percentiles are exact to the
// histogram's precision and the .hlog holds one real interval per second.
type timeline struct {
	total *hdr.Histogram
	secs  []*hdr.PackedHistogram
}

// record adds a value in µs recorded at virtual time now.
func (t *timeline) record(now time.Duration, us int64) {
	if t.total == nil {
		t.total = newHist()
	}
	_ = t.total.RecordValue(us) // in range by construction (clamped)
	t.recordSecond(now, us)
}

// recordSecond adds a value to now's second only (the total is kept
// elsewhere).
func (t *timeline) recordSecond(now time.Duration, us int64) {
	sec := int(now / time.Second)
	if sec < 0 || sec >= maxSeconds {
		return
	}
	if len(t.secs) <= sec {
		if cap(t.secs) > sec {
			t.secs = t.secs[:sec+1]
		} else {
			n := make([]*hdr.PackedHistogram, sec+1, max(2*cap(t.secs), sec+1, 64))
			copy(n, t.secs)
			t.secs = n
		}
	}
	p := t.secs[sec]
	if p == nil {
		p = newPacked()
		t.secs[sec] = p
	}
	_ = p.RecordValue(us)
}

// count is the number of values recorded.
func (t *timeline) count() int64 {
	if t.total == nil {
		return 0
	}
	return t.total.TotalCount()
}

// second returns second s's histogram, or nil.
func (t *timeline) second(s int) *hdr.PackedHistogram {
	if s < 0 || s >= len(t.secs) {
		return nil
	}
	return t.secs[s]
}

// perSecondCount is the number of values the per-second histograms hold.
func (t *timeline) perSecondCount() int64 {
	var n int64
	for _, p := range t.secs {
		if p != nil {
			n += p.TotalCount()
		}
	}
	return n
}

// merge adds o's values to t.
func (t *timeline) merge(o *timeline) {
	if o.total != nil {
		if t.total == nil {
			t.total = newHist()
		}
		t.total.Merge(o.total)
	}
	mergeSeconds(&t.secs, o.secs)
}

func mergeSeconds(dst *[]*hdr.PackedHistogram, src []*hdr.PackedHistogram) {
	for s, p := range src {
		if p == nil || p.TotalCount() == 0 {
			continue
		}
		for len(*dst) <= s {
			*dst = append(*dst, nil)
		}
		if (*dst)[s] == nil {
			(*dst)[s] = newPacked()
		}
		(*dst)[s].Merge(p)
	}
}
