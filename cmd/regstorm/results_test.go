package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is understood, rewrite it with go test ./cmd/regstorm -run Golden -update\ngot:\n%s", name, got)
	}
}

// A small fixed run: its text table and summary.json are golden files.
func TestGoldenTableAndSummary(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI(t, "run", "kamailio-4205", "--set", "ues=400", "--out", dir, "--no-plots")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	golden(t, "kamailio-4205-400.table.txt", []byte(out))
	js, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	golden(t, "kamailio-4205-400.summary.json", js)
}

func runWithPlots(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if code, _, errs := runCLI(t, "run", "kamailio-4205", "--set", "ues=2000", "--out", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	return dir
}

// Every plot is a valid PNG and a valid SVG with the expected title.
func TestPlotFiles(t *testing.T) {
	dir := runWithPlots(t)
	want := map[string]string{
		"latency-registration": "Registration latency", "percentiles-registration": "percentiles",
		"latency-challenge": "Challenge latency", "timeseries": "Procedures per virtual second",
		"callbacks": "did the reply route run?", "percentiles-mar_rtt": "MAR round trip",
	}
	for name, title := range want {
		f, err := os.Open(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() < 1200 {
			t.Errorf("%s.png: %v, %d px wide (want 1,200 or more)", name, err, img.Bounds().Dx())
		}
		svg, err := os.ReadFile(filepath.Join(dir, name+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(svg, new(struct{})); err != nil {
			t.Errorf("%s.svg is not XML: %v", name, err)
		}
		// gonum/plot's SVG writes text as glyph paths or <text>; the title is
		// checked in index.html's captions and the PNG by size, and here in
		// the SVG when present as text.
		if bytes.Contains(svg, []byte("<text")) && !bytes.Contains(svg, []byte(title)) {
			t.Errorf("%s.svg lacks its title %q", name, title)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	for name := range want {
		if !bytes.Contains(html, []byte(`src="`+name+`.png"`)) {
			t.Errorf("index.html does not show %s.png", name)
		}
	}
}

// compare of a run against itself shows no delta; against another seed,
// latencies change and completion rates do not.
func TestCompare(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for i, dir := range []string{a, b} {
		seed := []string{"4205", "77"}[i]
		if code, _, errs := runCLI(t, "run", "kamailio-4205", "--set", "ues=3000", "--seed", seed, "--out", dir, "--no-plots"); code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
	}
	code, out, errs := runCLI(t, "compare", a, a)
	if code != 0 || !strings.Contains(out, "0 metrics changed") {
		t.Fatalf("self compare: exit %d %s%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "compare", a, b, "--format", "json")
	var cmp struct {
		Deltas []struct {
			Variant, Metric string
			Delta           float64
		}
	}
	if err := json.Unmarshal([]byte(out), &cmp); code != 0 || err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	latencyMoved := false
	for _, d := range cmp.Deltas {
		if strings.HasPrefix(d.Metric, "latency_ms.registration.") && d.Delta != 0 {
			latencyMoved = true
		}
		if strings.HasSuffix(d.Metric, "completion_rate") && d.Delta != 0 {
			t.Errorf("%s %s changed by %g with the seed", d.Variant, d.Metric, d.Delta)
		}
	}
	if !latencyMoved {
		t.Error("another seed left every registration latency unchanged")
	}
	code, out, _ = runCLI(t, "compare", a, b)
	if code != 0 || !regexp.MustCompile(`kamailio-5.6\s+latency_ms.registration.all.p99`).MatchString(out) ||
		strings.Contains(out, "completion_rate") {
		t.Errorf("other seed: latency deltas expected, completion rates unchanged:\n%s", out)
	}
	odir := t.TempDir()
	code, out, _ = runCLI(t, "compare", a, b, "--format", "bench", "--out", odir)
	if code != 0 || strings.Count(out, "BenchmarkRegstorm/") != 4 || !strings.Contains(out, "/run=B 1 ") {
		t.Errorf("bench format:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(odir, "percentiles-registration.png")); err != nil {
		t.Errorf("overlay plots: %v", err)
	}
	if code, _, _ := runCLI(t, "report", a); code != 0 {
		t.Error("report failed")
	}
	if _, err := os.Stat(filepath.Join(a, "index.html")); err != nil {
		t.Errorf("report did not render: %v", err)
	}
}

// --records writes one line per registration procedure.
func TestRecords(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := runCLI(t, "run", "--set", "ues=120", "--out", dir, "--records", "--no-plots"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(filepath.Join(dir, "registrations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 241 || lines[0] != "variant,ue,intended_s,end_s,latency_ms,final_code,reason,cseq" || !strings.Contains(lines[1], ",200,OK,2") {
		t.Fatalf("registrations.csv: %d lines, %q %q", len(lines), lines[0], lines[1])
	}
}

// regstorm capacity prints a design objective capacity and writes its plot.
func TestCapacityCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI(t, "capacity", "hss-overload", "--from", "1000", "--step", "1000", "--steps", "4", "--duration", "3s", "--out", dir)
	if code != 0 || !strings.Contains(out, "design objective capacity:") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	for _, f := range []string{"capacity.json", "capacity.png", "capacity.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if code, _, _ := runCLI(t, "capacity", "hss-overload", "--variant", "nope"); code != exitBadInput {
		t.Errorf("unknown variant: exit %d", code)
	}
}
