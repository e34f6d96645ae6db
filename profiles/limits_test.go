package profiles

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// withMemory makes the machine have b bytes for the test.
func withMemory(t *testing.T, b uint64) {
	t.Helper()
	old := machineMemory
	machineMemory = func() (uint64, string) { return b, "this machine has " + gib(float64(b)) }
	t.Cleanup(func() { machineMemory = old })
}

// loadErr loads body as p.yaml (in its own directory, with files beside
// it) and returns the joined problems; it fails the test if loading takes
// more than 10 s (every refusal comes before anything big is read or
// allocated).
func loadErr(t *testing.T, body string, files map[string]string, sets ...string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() {
		_, err := Load(path, sets)
		ch <- err
	}()
	select {
	case err := <-ch:
		if err == nil {
			return path, ""
		}
		return path, err.Error()
	case <-time.After(10 * time.Second):
		t.Fatalf("loading %s takes more than 10 s", path)
	}
	return path, ""
}

const oneVariant = "variants:\n  - {name: a}\n"

func TestUEsBoundedByMemory(t *testing.T) {
	withMemory(t, 23<<30)
	for _, c := range []struct{ body, want string }{
		{"name: x\nues: 2147483648\n" + oneVariant, ":2: ues: 2147483648 is more than the 1000000000 UEs a run may have (it would need about 6144 GiB; this machine has 23 GiB)"},
		{"name: x\nues: 9223372036854775807\n" + oneVariant, ":2: ues: 9223372036854775807 is more than the 1000000000 UEs"},
		{"name: x\nues: 100000000\n" + oneVariant, ":2: ues: 100000000 needs about 286 GiB; this machine has 23 GiB"},
		{"name: x\nues: 0\n" + oneVariant, ":2: ues: must be a positive number of UEs, got 0"},
	} {
		path, err := loadErr(t, c.body, nil)
		if !strings.Contains(err, path+c.want) {
			t.Errorf("%q: %q, want %q", c.body, err, c.want)
		}
	}
	// What fits is accepted: storm-1m on a 4 GiB machine.
	withMemory(t, 4<<30)
	if _, err := Load("storm-1m", nil); err != nil {
		t.Errorf("storm-1m on 4 GiB: %v", err)
	}
	withMemory(t, 1<<30)
	if _, err := Load("storm-1m", nil); err == nil || !strings.Contains(err.Error(), "builtin:storm-1m:9: ues: 1000000 needs about 2.9 GiB; this machine has 1.0 GiB") {
		t.Errorf("storm-1m on 1 GiB: %v", err)
	}
	// --set names itself.
	if _, err := Load("default", []string{"ues=5000000"}); err == nil || !strings.Contains(err.Error(), "--set ues: ues: 5000000 needs about 14 GiB") {
		t.Errorf("--set ues: %v", err)
	}
}

func TestVariantsBounded(t *testing.T) {
	withMemory(t, 8<<30)
	var b strings.Builder
	b.WriteString("name: x\nues: 10\nvariants:\n")
	for i := range 2000 {
		b.WriteString("  - {name: v" + strconv.Itoa(i) + ", set: [ue.expires=600]}\n")
	}
	path, err := loadErr(t, b.String(), nil)
	if !strings.Contains(err, path+":3: variants: 2000 variants, more than the 64 a run may compare") {
		t.Errorf("2000 variants: %q", err)
	}
	// Four variants of a million UEs on 8 GiB: too much side by side,
	// enough one after another (more variants than cores).
	body := "name: x\nues: 1000000\nvariants:\n  - {name: a}\n  - {name: b}\n  - {name: c}\n  - {name: d, set: [ues=2000000]}\n"
	path, err = loadErr(t, body, nil)
	if runtime.GOMAXPROCS(0) >= 4 {
		if !strings.Contains(err, path+":3: variants: 4 variants of 5000000 UEs in all, run side by side, need about 14 GiB; this machine has 8.0 GiB") {
			t.Errorf("4 variants side by side: %q", err)
		}
	} else if err != "" {
		t.Errorf("4 variants one after another: %q", err)
	}
	withMemory(t, 6<<30)
	if _, err = loadErr(t, body, nil); runtime.GOMAXPROCS(0) < 4 && !strings.Contains(err, ":3: variants: 4 variants of 5000000 UEs in all, run one after another (more variants than the "+strconv.Itoa(runtime.GOMAXPROCS(0))+" cores), need about 7.9 GiB; this machine has 6.0 GiB") {
		t.Errorf("4 variants one after another on 6 GiB: %q", err)
	}
	body = "name: x\nues: 1000000\nvariants:\n  - {name: a}\n  - {name: b}\n"
	withMemory(t, 5<<30)
	if _, err = loadErr(t, body, nil); runtime.GOMAXPROCS(0) >= 2 && !strings.Contains(err, ":3: variants: 2 variants of 1000000 UEs each, run side by side, need about 5.8 GiB; this machine has 5.0 GiB") {
		t.Errorf("2 variants: %q", err)
	}
	// A variant's own ues is checked on its own.
	body = "name: x\nues: 10\nvariants:\n  - {name: a, set: [ues=4000000000]}\n"
	if _, err = loadErr(t, body, nil); !strings.Contains(err, "variant a: --set ues: ues: 4000000000 is more than the 1000000000 UEs") {
		t.Errorf("variant ues: %q", err)
	}
}

// CheckMemory follows the threads a run is given: variants side by side
// when there are as many threads, else one after another.
func TestCheckMemoryThreads(t *testing.T) {
	withMemory(t, 64<<30)
	path, err := loadErr(t, "name: x\nues: 1000000\nvariants:\n  - {name: a}\n  - {name: b, set: [ues=2000000]}\n", nil)
	if err != "" {
		t.Fatal(err)
	}
	p, lerr := Load(path, nil)
	if lerr != nil {
		t.Fatal(lerr)
	}
	withMemory(t, 8<<30)
	if err := p.CheckMemory(1); err != nil {
		t.Errorf("one thread: %v", err)
	}
	if err := p.CheckMemory(2); err == nil || !strings.Contains(err.Error(), path+":3: variants: 2 variants of 3000000 UEs in all, run side by side, need about 8.6 GiB; this machine has 8.0 GiB") {
		t.Errorf("two threads: %v", err)
	}
}

func TestRatesBounded(t *testing.T) {
	withMemory(t, 1<<40)
	for _, c := range []struct{ arrival, want string }{
		{"{shape: constant, rate: 1e-12}", ":3: arrival.rate: a constant rate needs rate >= 0.001 per second, got 1e-12"},
		{"{shape: constant, rate: .inf}", ":3: arrival.rate: a constant rate needs rate >= 0.001 per second, got +Inf"},
		{"{shape: constant, rate: .nan}", ":3: arrival.rate: a constant rate needs rate >= 0.001 per second, got NaN"},
		{"{shape: constant}", " (default): arrival.rate: a constant rate needs rate >= 0.001"}, // no rate key: the default 0
		{"{shape: ramp, from: 1e-9, to: 10, window: 10s}", ":3: arrival.from: a ramp starts at from = 0 or from >= 0.001 per second, got 1e-09"},
		{"{shape: ramp, from: 0, to: 0.0001, window: 10s}", ":3: arrival.to: a ramp needs to >= 0.001 per second, got 0.0001"},
		{"{shape: ramp, from: 0, to: 10, window: 0s}", ":3: arrival.window: a ramp needs a window > 0"},
		{"{shape: staircase, steps: [{rate: 10, for: 1s}, {rate: 0.0001, for: 1s}]}", ":3: arrival.steps.1.rate: each step needs rate >= 0.001 per second, got 0.0001"},
		{"{shape: staircase, steps: [{rate: 10, for: 0s}]}", ":3: arrival.steps.0.for: each step needs for > 0"},
		{"{shape: staircase}", " (default): arrival.steps: a staircase needs steps"},
	} {
		path, err := loadErr(t, "name: x\nues: 10\narrival: "+c.arrival+"\n"+oneVariant, nil)
		if !strings.Contains(err, path+c.want) {
			t.Errorf("%s: %q, want %q", c.arrival, err, c.want)
		}
	}
	// At the lowest rate a long run fits, a too long one does not.
	path, err := loadErr(t, "name: x\nues: 10000000\narrival: {shape: constant, rate: 0.001}\n"+oneVariant, nil)
	if !strings.Contains(err, path+":3: arrival.rate: the last of 10000000 UEs would arrive after 316.9 years, beyond the 100 years a run's virtual clock may reach; raise the rate") {
		t.Errorf("constant horizon: %q", err)
	}
	if _, err := loadErr(t, "name: x\nues: 1000000\narrival: {shape: constant, rate: 0.001}\n"+oneVariant, nil); err != "" {
		t.Errorf("a million UEs at 0.001/s (31.7 years): %q", err)
	}
	path, err = loadErr(t, "name: x\nues: 10000000\narrival: {shape: ramp, from: 0, to: 0.001, window: 1s}\n"+oneVariant, nil)
	if !strings.Contains(err, path+":3: arrival.to: the last of 10000000 UEs would arrive after") {
		t.Errorf("ramp horizon: %q", err)
	}
	path, err = loadErr(t, "name: x\nues: 10000000\narrival:\n  shape: staircase\n  steps: [{rate: 100, for: 1s}, {rate: 0.001, for: 1s}]\n"+oneVariant, nil)
	if !strings.Contains(err, path+":5: arrival.steps.1.rate: the last of 10000000 UEs would arrive after") {
		t.Errorf("staircase horizon: %q", err)
	}
}

// The pacers never wrap: past what a duration holds they saturate, and a
// ramp from 0 that is nearly flat still rises.
func TestPacersOverflowSafe(t *testing.T) {
	ts := times(t, Arrival{Shape: "constant", Rate: 1e-12}, 3)
	if ts[0] != 0 || ts[1] != math.MaxInt64 || ts[2] != math.MaxInt64 {
		t.Errorf("constant 1e-12/s: %v", ts)
	}
	ts = times(t, Arrival{Shape: "ramp", From: 0, To: 0.005, Window: Duration(MaxVirtualTime)}, 4)
	for i := 1; i < len(ts); i++ {
		if !(ts[i] > ts[i-1]) || ts[i] < 0 {
			t.Errorf("nearly flat ramp from 0: %v", ts)
		}
	}
	if got := virtual(math.NaN()); got != math.MaxInt64 {
		t.Errorf("virtual(NaN) = %v", got)
	}
}

func TestDurationsBounded(t *testing.T) {
	withMemory(t, 1<<40)
	for _, c := range []struct{ body, want string }{
		{"name: x\nues: 10\nduration: 2000000h\n" + oneVariant, ":3: duration: 2000000h0m0s is longer than the 100 years a run's virtual clock may reach"},
		{"name: x\nues: 10\narrival: {shape: uniform, window: 1000000h}\n" + oneVariant, ":3: arrival.window: 1000000h0m0s is longer than the 100 years"},
		{"name: x\nues: 10\nhss:\n  mar_latency: {dist: lognormal, p50: 1ms, p99: 2000000h}\n" + oneVariant, ":4: hss.mar_latency.p99: 2000000h0m0s is longer"},
		{"name: x\nues: 10\nhss:\n  mar_latency:\n    dist: mixture\n    of:\n      - {weight: 1, dist: constant, value: 2000000h}\n" + oneVariant,
			":7: hss.mar_latency.of.0.value: 2000000h0m0s is longer"},
		{"name: x\nues: 10\nhss:\n  faults: [{at: 1000000h, for: 1000000h, kind: outage}]\n" + oneVariant, ":4: hss.faults.0.at: 1000000h0m0s is longer"},
		{"name: x\nues: 10\nduration: 10000000000h\n" + oneVariant, `:3: duration: "10000000000h" is not a duration`},
	} {
		path, err := loadErr(t, c.body, nil)
		if !strings.Contains(err, path+c.want) {
			t.Errorf("%q: %q, want %q", c.body, err, c.want)
		}
	}
}

func TestDistributionParametersBounded(t *testing.T) {
	withMemory(t, 1<<40)
	for _, c := range []struct{ dist, want string }{
		{"{dist: pareto, scale: 1ms, alpha: .inf}", "pareto needs scale > 0 and alpha > 0"},
		{"{dist: pareto, scale: 1ms, alpha: 0}", "pareto needs scale > 0 and alpha > 0"},
		{"{dist: pareto, scale: 1ms, alpha: -1}", "pareto needs scale > 0 and alpha > 0"},
		{"{dist: normal, mean: 1ms, stddev: -1ms}", "normal needs mean >= 0 and stddev >= 0"},
		{"{dist: lognormal, p50: 10ms, p99: 1ms}", "lognormal needs 0 < p50 <= p99"},
		{"{dist: lognormal, p50: 0s, p99: 1ms}", "lognormal needs 0 < p50 <= p99"},
		{"{dist: uniform, min: 2ms, max: 1ms}", "uniform needs 0 <= min <= max"},
		{"{dist: exponential, mean: 0s}", "exponential needs mean > 0"},
		{"{dist: constant, value: -1ms}", "value must be >= 0"},
		{"{dist: mixture, of: [{weight: 0, dist: constant, value: 1ms}]}", "component 0: a weight > 0 (and finite) is needed, got 0"},
		{"{dist: mixture, of: [{dist: constant, value: 1ms}, {dist: constant, value: 2ms}]}", "component 0: a weight > 0"},
		{"{dist: mixture, of: [{weight: .inf, dist: constant, value: 1ms}]}", "component 0: a weight > 0 (and finite) is needed, got +Inf"},
		{"{dist: mixture, of: [{weight: 1e308, dist: constant, value: 1ms}, {weight: 1e308, dist: constant, value: 1ms}]}", "mixture weights add up to more than a float holds"},
	} {
		path, err := loadErr(t, "name: x\nues: 10\nhss:\n  mar_latency: "+c.dist+"\n"+oneVariant, nil)
		if !strings.Contains(err, path+":4: hss.mar_latency: "+c.want) {
			t.Errorf("%s: %q, want %q", c.dist, err, c.want)
		}
	}
	path, err := loadErr(t, "name: x\nues: 10\nhss:\n  faults: [{at: 1s, for: 1s, kind: latency, multiplier: 1e7}]\n"+oneVariant, nil)
	if !strings.Contains(err, path+":4: hss.faults.0.multiplier: a latency fault needs 0 < multiplier <= 1e+06, got 1e+07") {
		t.Errorf("multiplier: %q", err)
	}
	// Wide distributions sample inside the range instead of wrapping.
	for _, body := range []string{"{dist: lognormal, p50: 1ns, p99: 876000h}", "{dist: exponential, mean: 876000h}",
		"{dist: normal, mean: 876000h, stddev: 876000h}", "{dist: pareto, scale: 876000h, alpha: 1e-300}"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "p.yaml")
		os.WriteFile(path, []byte("name: x\nues: 10\nhss:\n  mar_latency: "+body+"\n"+oneVariant), 0o600)
		p, err := Load(path, nil)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		d, _ := p.HSS.MARLatency.Build()
		r := rand.New(rand.NewPCG(1, 2))
		for range 10000 {
			if v := d.Sample(r); v < 0 || v > math.MaxInt64/2 {
				t.Fatalf("%s: sample %d", body, v)
			}
		}
	}
}

// The bad input files of issue 11, through a profile: each refused with
// the profile's file:line and key and the data file's line, quickly, and
// without repeating what the file holds.
func TestBadInputFiles(t *testing.T) {
	withMemory(t, 1<<40)
	const secret = "s3cr3tmarker"
	shadow := "root:$6$" + secret + ":19000:0:99999:7:::\n" + secret + ":x:1000:1000::/home/" + secret + ":/bin/sh\n"
	key := "deadbeefdeadbeefdeadbeefdeadbeeg"
	subs := "imsi,impi,impu,k,opc,amf,sqn\n001010000000001," + secret + "@ims.test,sip:" + secret + "@ims.test," + key + ",cd63cb71954a9f4e48a5994e37a02baf,8000,0\n"
	files := map[string]string{"shadow": shadow, "subs.csv": subs}
	cases := []struct{ body, want string }{
		{"name: x\nues: 1\nsubscribers:\n  file: subs.csv\n" + oneVariant, ":4: subscribers.file: DIR/subs.csv:2: k: not 32 hex digits"},
		{"name: x\nues: 1\nhss:\n  mar_latency: {dist: empirical, file: shadow}\n" + oneVariant, ":4: hss.mar_latency: DIR/shadow:2: first column: not a latency"},
		{"name: x\nues: 1\nhss:\n  mar_latency: {dist: empirical, file: shadow.hlog}\n" + oneVariant, ":4: hss.mar_latency: latency file: stat DIR/shadow.hlog"},
		{"name: x\nues: 1\nsubscribers:\n  file: .\n" + oneVariant, ":4: subscribers.file: DIR: subscriber file must be a regular file, this is a directory"},
	}
	if runtime.GOOS == "linux" {
		cases = append(cases,
			struct{ body, want string }{"name: x\nues: 1\nsubscribers:\n  file: /dev/zero\n" + oneVariant, ":4: subscribers.file: /dev/zero: subscriber file must be a regular file, this is a device"},
			struct{ body, want string }{"name: x\nues: 1\nhss:\n  sar_latency: {dist: empirical, file: /dev/zero}\n" + oneVariant, ":4: hss.sar_latency: /dev/zero: latency file must be a regular file, this is a device"})
	}
	for _, c := range cases {
		path, err := loadErr(t, c.body, files)
		want := path + strings.ReplaceAll(c.want, "DIR", filepath.Dir(path))
		if !strings.Contains(err, want) {
			t.Errorf("%q: %q, want %q", c.body, err, want)
		}
		for _, leak := range []string{secret, "deadbeef", "root"} {
			if strings.Contains(err, leak) {
				t.Errorf("%q: error %q repeats %q", c.body, err, leak)
			}
		}
	}
	// A subscriber file is read only as far as ues: the bad row after it
	// is never reached.
	good := "imsi,impi,impu,k,opc,amf,sqn\n001010000000001,a@ims.test,sip:a@ims.test,465b5ce8b199b49faa5f0a2ee238a6bc,cd63cb71954a9f4e48a5994e37a02baf,8000,0\n"
	files["subs.csv"] = good + "garbage\n"
	if _, err := loadErr(t, "name: x\nues: 1\nsubscribers:\n  file: subs.csv\n"+oneVariant, files); err != "" {
		t.Errorf("one row used: %q", err)
	}
	if path, err := loadErr(t, "name: x\nues: 2\nsubscribers:\n  file: subs.csv\n"+oneVariant, files); !strings.Contains(err, path+":4: subscribers.file: "+filepath.Dir(path)+"/subs.csv:3: 1 fields, want 7") {
		t.Errorf("two rows: %q", err)
	}
}

// A profile file is read up to MaxProfileBytes: /dev/zero ends there.
func TestProfileFileBounded(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/zero")
	}
	ch := make(chan error, 1)
	go func() {
		_, err := Load("/dev/zero", nil)
		ch <- err
	}()
	select {
	case err := <-ch:
		if err == nil || !strings.Contains(err.Error(), `profile "/dev/zero" is neither a built-in`) || !strings.Contains(err.Error(), "larger than the 4 MiB a profile may be") {
			t.Errorf("err %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading /dev/zero as a profile does not end")
	}
}

func TestMemoryFigures(t *testing.T) {
	b, what := readMachineMemory()
	t.Logf("%d bytes: %s", b, what)
	if b == 0 || what == "" {
		t.Error("no memory figure")
	}
	for n, want := range map[float64]string{300 << 20: "300 MiB", 1.5 * (1 << 30): "1.5 GiB", 23.4 * (1 << 30): "23 GiB", 6144 * (1 << 30): "6144 GiB"} {
		if got := gib(n); got != want {
			t.Errorf("gib(%g) = %q, want %q", n, got, want)
		}
	}
	// storm-1m: 1M UEs, 1 variant, about 1.5 GB measured, 2.9 GiB estimated
	// (the estimate covers denser runs, up to 4 GB measured).
	if got := gib(memoryNeed([]int64{1_000_000}, 2, false)); got != "2.9 GiB" {
		t.Errorf("storm-1m estimate %s", got)
	}
}
