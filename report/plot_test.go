package report

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/regstorm/regstorm/results"
	"gonum.org/v1/plot/vg"
)

// fakeRun is a run of two variants with the same samples: n lognormal-ish
// latencies, failures at 5 s, one second in which nothing ended.
func fakeRun(t *testing.T, n int) *results.Run {
	t.Helper()
	r := &results.Run{Dir: t.TempDir(), Hists: map[string]map[string]*hdr.Histogram{}, Series: map[string][]results.SeriesRow{}}
	r.Summary.Profile = "fake"
	for _, name := range []string{"A", "B"} {
		v := results.VariantSummary{Name: name}
		v.Registrations.Attempted, v.Registrations.Succeeded, v.Registrations.Failed = uint64(n), uint64(n-n/10), uint64(n/10)
		v.Registrations.ByFinalCode = map[string]uint64{"200": uint64(n - n/10), "500": uint64(n / 10)}
		v.LatencyMS.Registration.All.Count, v.LatencyMS.Registration.OK.Count = uint64(n), uint64(n-n/10)
		v.Callbacks.MAR = results.CallbackSummary{Invoked: uint64(n), RouteExecuted: uint64(n / 2),
			NotExecuted: map[string]uint64{"active transaction not found": uint64(n / 2)}}
		v.Callbacks.SAR = results.CallbackSummary{Invoked: uint64(n), RouteExecuted: uint64(n)}
		r.Summary.Variants = append(r.Summary.Variants, v)
		all, ok := hdr.New(1, 3_600_000_000, 3), hdr.New(1, 3_600_000_000, 3)
		for i := 0; i < n; i++ {
			us := int64(20_000 * math.Exp(2*float64(i)/float64(n)))
			all.RecordValue(us)
			if i%10 != 0 {
				ok.RecordValue(us)
			} else {
				all.RecordValue(5_000_000) // a failure after 5 s
			}
		}
		r.Hists[name] = map[string]*hdr.Histogram{"registration.all": all, "registration.ok": ok, "mar_rtt": ok}
		var rows []results.SeriesRow
		for s := 0; s < 20; s++ {
			row := results.SeriesRow{Second: s, Offered: 100, Succeeded: 95, Failed: 5, Suspended: 10, P50MS: 30, P99MS: 200, OKP99MS: 150}
			if s == 7 {
				row.Succeeded, row.Failed, row.P50MS, row.P99MS, row.OKP99MS = 0, 0, math.NaN(), math.NaN(), math.NaN()
			}
			rows = append(rows, row)
		}
		r.Series[name] = rows
	}
	return r
}

// The percentile axis reads 50 %, 90 %, 99 %, 99.9 % and stops where the
// samples do: 2,000 samples resolve 99.95 %, not 99.9999 %.
func TestPercentilePlotTicks(t *testing.T) {
	r := fakeRun(t, 2000)
	pn, err := percentilePanel(r, "registration.ok")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := saveFigure(filepath.Join(r.Dir, "p"), []*panel{pn}, narrowWidth, panelHeight); err != nil {
		t.Fatal(err)
	}
	got := labels(pn.p.X.Tick.Marker.Ticks(pn.p.X.Min, pn.p.X.Max))
	if got != "0% 50% 90% 99% 99.9%" {
		t.Errorf("percentile labels %q", got)
	}
	if pn.p.X.Max > 2000 {
		t.Errorf("the axis runs to 1/(1-q) = %g, beyond the 1,800 samples' resolution", pn.p.X.Max)
	}
}

func overlaps(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}

// No legend covers data: each legend sits beside every panel's data area,
// inside the figure.
func TestLegendsOutsideData(t *testing.T) {
	r := fakeRun(t, 1000)
	phases := []phase{{From: 3, To: 6, Label: "HSS outage"}}
	check := func(name string, panels []*panel, w, h vg.Length) {
		t.Helper()
		lay, err := saveFigure(filepath.Join(r.Dir, name), panels, w, h)
		if err != nil {
			t.Fatal(err)
		}
		fig := vg.Rectangle{Max: vg.Point{X: w, Y: h}}
		for i, l := range lay.Legend {
			if l == (vg.Rectangle{}) {
				t.Errorf("%s panel %d: no legend", name, i)
				continue
			}
			if l.Min.X < fig.Min.X || l.Max.X > fig.Max.X+0.5 || l.Min.Y < fig.Min.Y || l.Max.Y > fig.Max.Y {
				t.Errorf("%s panel %d: legend %v outside the figure %v", name, i, l, fig)
			}
			for j, d := range lay.Data {
				if overlaps(l, d) {
					t.Errorf("%s: legend %d %v overlaps the data area of panel %d %v", name, i, l, j, d)
				}
			}
		}
	}
	check("timeseries", timeseriesPanels(r, phases), wideWidth, 10*vg.Inch)
	for _, m := range []string{"registration.all", "registration.ok"} {
		pn, err := percentilePanel(r, m)
		if err != nil {
			t.Fatal(err)
		}
		check("percentiles", []*panel{pn}, narrowWidth, panelHeight)
	}
	pn, err := outcomeHistogram(r)
	if err != nil {
		t.Fatal(err)
	}
	check("histogram", []*panel{pn}, narrowWidth, panelHeight)
	pn, err = callbackPanel(r)
	if err != nil {
		t.Fatal(err)
	}
	check("callbacks", []*panel{pn}, narrowWidth, panelHeight)
	c := &results.Capacity{Profile: "p", Variant: "v", Limit: 0.001, Capacity: 2000, Steps: []results.CapacityStep{
		{Rate: 1000, OfferedPerS: 1000, AchievedPerS: 1000, P99OKMS: 100, P99AllMS: 100, Pass: true},
		{Rate: 2000, OfferedPerS: 2000, AchievedPerS: 1990, P99OKMS: 300, P99AllMS: 400, Pass: true, Inadequate: 0.0005},
		{Rate: 3000, OfferedPerS: 3000, AchievedPerS: 2100, P99OKMS: 3000, P99AllMS: 9000, Inadequate: 0.2}}}
	cps, err := capacityPanels(c)
	if err != nil {
		t.Fatal(err)
	}
	check("capacity", cps, wideWidth, 11*vg.Inch)
	// The capacity found is a labelled tick of the rate axis.
	if got := labels(cps[0].p.X.Tick.Marker.Ticks(1000, 3000)); !strings.Contains(got, "2,000") {
		t.Errorf("capacity axis labels %q lack 2,000", got)
	}
}

// near counts the pixels within a small distance of c.
func near(img image.Image, c color.NRGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			d := math.Abs(float64(r>>8)-float64(c.R)) + math.Abs(float64(g>>8)-float64(c.G)) + math.Abs(float64(bl>>8)-float64(c.B))
			if d < 40 {
				n++
			}
		}
	}
	return n
}

// Two variants with the same samples draw the same curve: both colours
// still show (the first wide and solid, the second narrow and dashed on
// top), in the data area, not only in the legend.
func TestIdenticalVariantsBothVisible(t *testing.T) {
	r := fakeRun(t, 3000)
	for _, name := range []string{"percentiles", "histogram"} {
		var pn *panel
		var err error
		if name == "percentiles" {
			pn, err = percentilePanel(r, "registration.all")
		} else {
			pn, err = histogramPanel(r, "mar_rtt")
		}
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(r.Dir, name)
		lay, err := saveFigure(path, []*panel{pn}, narrowWidth, panelHeight)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path + ".png")
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Crop to the data area (vg's y axis points up, the image's down).
		scale := float64(img.Bounds().Dx()) / float64(narrowWidth)
		d := lay.Data[0]
		h := float64(img.Bounds().Dy())
		rect := image.Rect(int(float64(d.Min.X)*scale), int(h-float64(d.Max.Y)*scale), int(float64(d.Max.X)*scale), int(h-float64(d.Min.Y)*scale))
		data := img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(rect)
		a, b := near(data, palette[0]), near(data, palette[1])
		if a < 200 || b < 200 {
			t.Errorf("%s: variant A has %d pixels of its colour in the data area, B %d: one hides the other", name, a, b)
		}
	}
}

// The summary table of the page has the text table's rows and figures,
// with thousands separators.
func TestSummaryRows(t *testing.T) {
	r := fakeRun(t, 12000)
	names, rows, err := summaryRows(&r.Summary)
	if err != nil || len(names) != 2 || len(rows) < 5 {
		t.Fatalf("names %v, %d rows, %v", names, len(rows), err)
	}
	found := false
	for _, row := range rows {
		if row.Label == "procedures attempted" {
			found = true
			if len(row.Cells) != 2 || row.Cells[0] != "12,000" || row.Cells[1] != "12,000" {
				t.Errorf("procedures attempted: %q", row.Cells)
			}
		}
	}
	if !found {
		t.Errorf("no procedures attempted row: %+v", rows)
	}
}
