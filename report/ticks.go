package report

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// formatNumber writes x with the digits it needs (no "50000.00") and
// thousands separators: 50,000, 2.5, 0.02.
func formatNumber(x float64) string {
	if x == 0 {
		return "0"
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if a := math.Abs(x); a >= 1e-3 && a < 1 {
		s = strconv.FormatFloat(x, 'g', 3, 64)
	} else if a >= 1 {
		s = strconv.FormatFloat(x, 'f', max(0, 3-int(math.Floor(math.Log10(a)))-1), 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
	}
	return groupThousands(s)
}

// groupThousands puts a comma between every three digits of the integer
// runs of s that are not a fraction: "10000 (100.0%)" → "10,000 (100.0%)".
func groupThousands(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] < '0' || s[i] > '9' {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		digits := s[i:j]
		fraction := i > 0 && s[i-1] == '.'
		// A run followed by letters is a name (kamailio-5.6, t_continue,
		// 4205): left alone, as are fractions.
		name := j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] == '_' || s[j] == '-') ||
			i > 0 && (s[i-1] >= 'a' && s[i-1] <= 'z' || s[i-1] >= 'A' && s[i-1] <= 'Z' || s[i-1] == '_' || s[i-1] == '-')
		if fraction || name || len(digits) < 4 {
			b.WriteString(digits)
		} else {
			for k, d := range digits {
				if k > 0 && (len(digits)-k)%3 == 0 {
					b.WriteByte(',')
				}
				b.WriteRune(d)
			}
		}
		i = j
	}
	return b.String()
}

// linearTicks puts 4 to 8 round, labelled ticks on a linear axis, and
// unlabelled ones between them.
type linearTicks struct{}

func (linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []plot.Tick{{Value: lo, Label: formatNumber(lo)}}
	}
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/5)))
	minor := step / 2
	for _, m := range []float64{1, 2, 5, 10} {
		if (hi-lo)/(step*m) <= 7 {
			minor = step * m / 5
			if m == 1 || m == 10 {
				minor = step * m / 2
			}
			step *= m
			break
		}
	}
	var ts []plot.Tick
	for v := math.Ceil(lo/minor) * minor; v <= hi+minor*1e-9; v += minor {
		if math.Abs(v) < minor*1e-9 {
			v = 0
		}
		k := math.Round(v / step)
		if math.Abs(v-k*step) < minor*1e-6 {
			ts = append(ts, plot.Tick{Value: k * step, Label: formatNumber(k * step)})
		} else {
			ts = append(ts, plot.Tick{Value: v})
		}
	}
	return ts
}

// logTicks labels a log axis: every decade, 2 and 5 between them when the
// axis spans two decades or less, 5 when it spans three; the other
// integers of each decade are unlabelled minor ticks.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 {
		lo = hi / 1e3
	}
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: formatNumber(lo)}}
	}
	d0, d1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	labelled := map[int]bool{1: true}
	switch {
	case d1-d0 <= 2:
		labelled[2], labelled[5] = true, true
	case d1-d0 == 3:
		labelled[5] = true
	}
	ticks := func() []plot.Tick {
		var ts []plot.Tick
		for d := d0; d <= d1; d++ {
			base := math.Pow(10, float64(d))
			for m := 1; m <= 9; m++ {
				v := float64(m) * base
				if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
					continue
				}
				t := plot.Tick{Value: v}
				if labelled[m] {
					t.Label = formatNumber(v)
				}
				ts = append(ts, t)
			}
		}
		return ts
	}
	ts := ticks()
	n := 0
	for _, t := range ts {
		if t.Label != "" {
			n++
		}
	}
	if n < 3 {
		// A narrow axis (56 to 155 ms): label every integer of the
		// decade, 60, 70, ... 100.
		for m := 1; m <= 9; m++ {
			labelled[m] = true
		}
		ts = ticks()
	}
	return ts
}

// niceLogRange widens a log axis's range to the 1, 2, 5 steps around its
// data, so both ends have a labelled tick near them.
func niceLogRange(a *plot.Axis) {
	if !(a.Min > 0) || !(a.Max > a.Min) {
		return
	}
	steps := []float64{1, 2, 5, 10}
	d := math.Pow(10, math.Floor(math.Log10(a.Max)))
	for _, m := range steps {
		if m*d >= a.Max*(1-1e-9) {
			a.Max = m * d
			break
		}
	}
	d = math.Pow(10, math.Floor(math.Log10(a.Min)))
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i]*d <= a.Min*(1+1e-9) {
			a.Min = steps[i] * d
			break
		}
	}
}

// percentileTicks labels the axis of 1/(1-q) as percentiles: 0 %, 50 %,
// 90 %, 99 %, 99.9 %, ... up to max, the data's resolution (a run of n
// samples resolves percentiles up to 1 - 1/n).
type percentileTicks struct{}

func (percentileTicks) Ticks(lo, hi float64) []plot.Tick {
	// 0 % and 50 % are 0.3 decades apart: both labelled only while the
	// axis spans four decades or less.
	ts := []plot.Tick{{Value: 1, Label: "0%"}, {Value: 2, Label: "50%"}}
	if hi > 1e4*(1+1e-9) {
		ts[0].Label = ""
	}
	for nines := 1; ; nines++ {
		x := math.Pow(10, float64(nines))
		if x > hi*(1+1e-9) {
			break
		}
		ts = append(ts, plot.Tick{Value: x, Label: percentileLabel(nines)})
		if 5*x <= hi*(1+1e-9) {
			ts = append(ts, plot.Tick{Value: 5 * x}) // 98 %, 99.8 %: unlabelled
		}
	}
	return ts
}

// percentileLabel is the percentile with n nines: 90%, 99%, 99.9%, 99.99%.
func percentileLabel(n int) string {
	if n == 1 {
		return "90%"
	}
	return "99" + func() string {
		if n == 2 {
			return ""
		}
		return "." + strings.Repeat("9", n-2)
	}() + "%"
}

// withTick adds a labelled tick at v to another ticker's (the capacity
// found, on its axis).
type withTick struct {
	plot.Ticker
	v     float64
	label string
}

func (w withTick) Ticks(lo, hi float64) []plot.Tick {
	ts := w.Ticker.Ticks(lo, hi)
	out := ts[:0]
	for _, t := range ts {
		// Drop a label that would collide with the added one.
		if t.Label != "" && math.Abs(t.Value-w.v) < (hi-lo)/25 {
			t.Label = ""
		}
		out = append(out, t)
	}
	if w.v >= lo && w.v <= hi {
		out = append(out, plot.Tick{Value: w.v, Label: w.label})
	}
	return out
}
