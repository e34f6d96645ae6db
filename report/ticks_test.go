package report

import (
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

func labels(ts []plot.Tick) string {
	var out []string
	for _, t := range ts {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return strings.Join(out, " ")
}

// The percentile axis labels 50 %, 90 %, 99 %, 99.9 % ... and stops at the
// data's resolution: a run of 2,000 samples ends between 99.9 % and 99.99 %.
func TestPercentileTicks(t *testing.T) {
	for _, c := range []struct {
		max  float64
		want string
	}{
		{2000, "0% 50% 90% 99% 99.9%"},
		{10_000, "0% 50% 90% 99% 99.9% 99.99%"},
		{1_000_000, "50% 90% 99% 99.9% 99.99% 99.999% 99.9999%"},
		{50, "0% 50% 90%"},
	} {
		if got := labels(percentileTicks{}.Ticks(1, c.max)); got != c.want {
			t.Errorf("up to %g: %q, want %q", c.max, got, c.want)
		}
	}
}

func TestLogTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   string
	}{
		{20, 250, "20 50 100 200"},
		{15, 6000, "50 100 500 1,000 5,000"},
		{0.5, 30_000, "1 10 100 1,000 10,000"},
		{1000, 3000, "1,000 2,000 3,000"},
		{56, 155, "60 70 80 90 100"},
	} {
		if got := labels(logTicks{}.Ticks(c.lo, c.hi)); got != c.want {
			t.Errorf("%g..%g: %q, want %q", c.lo, c.hi, got, c.want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	for x, want := range map[float64]string{50000: "50,000", 2.5: "2.5", 0.02: "0.02", 1234.5678: "1,235", 12.345: "12.3", 0: "0"} {
		if got := formatNumber(x); got != want {
			t.Errorf("formatNumber(%g) = %q, want %q", x, got, want)
		}
	}
	if got := groupThousands("10000 (100.0%) kamailio-5.6 4205 t_continue 1.23456"); got != "10,000 (100.0%) kamailio-5.6 4,205 t_continue 1.23456" {
		t.Errorf("groupThousands: %q", got)
	}
}
