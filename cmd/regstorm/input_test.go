package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// inputSecret marks text a data file holds that no message may repeat.
const inputSecret = "s3cr3tmarker"

// The bad inputs of issue 11 (item 5): each profile or file is refused
// with exit 2 and a message naming the profile's file:line and key (and
// the data file's line), within bounded time and memory, and the message
// repeats nothing the files hold.
func TestBadInputsAreBounded(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const variant = "variants:\n  - {name: a}\n"
	badK := "deadbeefdeadbeefdeadbeefdeadbeeg" // 31 hex digits and a g
	subs := write("subs.csv", "imsi,impi,impu,k,opc,amf,sqn\n001010000000001,"+inputSecret+"@ims.test,sip:"+inputSecret+"@ims.test,"+
		badK+",cd63cb71954a9f4e48a5994e37a02baf,8000,0\n")
	shadow := write("shadow", "root:$6$"+inputSecret+":19000:0:99999:7:::\n"+inputSecret+":x:1000:1000::/home/"+inputSecret+":/bin/sh\n")
	var many strings.Builder
	many.WriteString("name: many\nues: 10\nvariants:\n")
	for i := range 2000 {
		many.WriteString("  - {name: v" + strconv.Itoa(i) + "}\n")
	}
	type tc struct {
		name string
		args []string
		want string
	}
	profile := func(name, body string) string { return write(name, body) }
	cases := []tc{
		{"ues 2^31", []string{"run", profile("big.yaml", "name: big\nues: 2147483648\n"+variant)},
			":2: ues: 2147483648 is more than the 1000000000 UEs a run may have (it would need about 6144 GiB; "},
		{"ues beyond memory", []string{"run", profile("mem.yaml", "name: mem\nues: 900000000\n"+variant)},
			":2: ues: 900000000 needs about 2575 GiB; "},
		{"2000 variants", []string{"run", profile("many.yaml", many.String())},
			":3: variants: 2000 variants, more than the 64 a run may compare"},
		{"bad K", []string{"run", profile("subs.yaml", "name: s\nues: 1\nsubscribers:\n  file: subs.csv\n"+variant)},
			":4: subscribers.file: " + subs + ":2: k: not 32 hex digits"},
		{"latency file not a latency file", []string{"run", profile("lat.yaml", "name: l\nues: 1\nhss:\n  mar_latency: {dist: empirical, file: shadow}\n"+variant)},
			":4: hss.mar_latency: " + shadow + ":2: first column: not a latency"},
		{"rate 1e-12", []string{"run", profile("rate.yaml", "name: r\nues: 10\narrival: {shape: constant, rate: 1e-12}\n"+variant)},
			":3: arrival.rate: a constant rate needs rate >= 0.001 per second, got 1e-12"},
		{"--set rate", []string{"run", "default", "--set", "arrival.shape=constant", "--set", "arrival.rate=1e-12"},
			"--set arrival.rate: arrival.rate: a constant rate needs rate >= 0.001 per second, got 1e-12"},
		{"rate too slow for the UEs", []string{"run", profile("slow.yaml", "name: s\nues: 10000000\narrival: {shape: constant, rate: 0.001}\n"+variant)},
			":3: arrival.rate: the last of 10000000 UEs would arrive after 316.9 years, beyond the 100 years a run's virtual clock may reach"},
	}
	if runtime.GOOS == "linux" {
		cases = append(cases,
			tc{"subscribers from /dev/zero", []string{"run", profile("zero.yaml", "name: z\nues: 1\nsubscribers:\n  file: /dev/zero\n"+variant)},
				":4: subscribers.file: /dev/zero: subscriber file must be a regular file, this is a device"},
			tc{"latencies from /dev/zero", []string{"run", profile("zlat.yaml", "name: z\nues: 1\nhss:\n  sar_latency: {dist: empirical, file: /dev/zero}\n"+variant)},
				":4: hss.sar_latency: /dev/zero: latency file must be a regular file, this is a device"},
			tc{"profile /dev/zero", []string{"run", "/dev/zero"}, "larger than the 4 MiB a profile may be"})
	}
	for _, c := range cases {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		code, _, errs := runCLI(t, c.args...)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		want := c.want
		if strings.HasPrefix(want, ":") {
			want = c.args[1] + want
		}
		if code != exitBadInput || !strings.Contains(errs, want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", c.name, code, errs, want)
		}
		for _, leak := range []string{inputSecret, "deadbeef", "root:"} {
			if strings.Contains(errs, leak) {
				t.Errorf("%s: stderr %q repeats %q from a file", c.name, errs, leak)
			}
		}
		if took > 10*time.Second {
			t.Errorf("%s: took %v", c.name, took)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
			t.Errorf("%s: allocated %d MiB to refuse the input", c.name, alloc>>20)
		}
	}
}
