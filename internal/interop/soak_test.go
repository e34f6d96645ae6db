package interop

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/regstorm/regstorm/results"
)

var (
	soakFor  = flag.Duration("soak", 10*time.Minute, "BenchmarkLiveSoak: how long the fleet registers")
	soakRate = flag.Int("soak-rate", 1, "BenchmarkLiveSoak: registrations per second")
	soakTw   = flag.Duration("soak-watchdog", 500*time.Millisecond, "BenchmarkLiveSoak: Diameter watchdog Tw on both sides")
)

// counter reads "PREFIX transport: NAME N" from a command's output.
func counter(out, name string) uint64 {
	m := regexp.MustCompile(`transport: ` + regexp.QuoteMeta(name) + ` (\d+)`).FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	return n
}

// BenchmarkLiveSoak is the reliability soak of issue 11: regstorm ue ->
// regstorm scscf -> regstorm hss over loopback at a low constant rate
// (-soak-rate, 1 registration a second) for -soak (10 minutes), with a
// watchdog Tw of -soak-watchdog (500 ms) on both sides of the Cx
// connection: a DWR goes out after Tw without traffic (RFC 3539 §3.4.1),
// so each side sends one in nearly every gap between registrations. It reports registrations, failures and Cx peer drops
// (the target is 0 and 0), and fails when either is not zero.
//
//	go test -run XX -bench LiveSoak -benchtime 1x -timeout 30m ./internal/interop/
func BenchmarkLiveSoak(b *testing.B) {
	if _, err := exec.LookPath("go"); err != nil {
		b.Skip("needs go")
	}
	bin := filepath.Join(b.TempDir(), "regstorm")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/regstorm").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for i := 0; i < b.N; i++ {
		soak(b, bin)
	}
}

func soak(b *testing.B, bin string) {
	work := b.TempDir()
	ues := int(soakFor.Seconds()) * *soakRate
	profile := filepath.Join(work, "soak.yaml")
	os.WriteFile(profile, []byte(fmt.Sprintf(`name: soak
ues: %d
arrival: {shape: constant, rate: %d}
ue: {think_time: {dist: constant, value: 10ms}}
hss: {mar_latency: {dist: constant, value: 5ms}, sar_latency: {dist: constant, value: 2ms}}
variants:
  - {name: v, preset: kamailio-5.6}
`, ues, *soakRate)), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), *soakFor+5*time.Minute)
	defer cancel()
	hssAddr, sipAddr := freeAddr(b, "tcp"), freeAddr(b, "udp")
	tw := soakTw.String()
	h := startLimited(b, ctx, "unlimited", bin, "hss", profile, "--listen", hssAddr, "--origin-host", "hss.ims.example.org", "--watchdog", tw)
	select {
	case <-h.log.waitFor("serving Cx"):
	case <-time.After(20 * time.Second):
		b.Fatalf("regstorm hss did not start:\n%s", h.log)
	}
	sc := startLimited(b, ctx, "unlimited", bin, "scscf", profile, "--listen", "udp:"+sipAddr, "--hss", hssAddr, "--watchdog", tw)
	select {
	case <-sc.log.waitFor("regstorm scscf: SIP on"):
	case <-time.After(20 * time.Second):
		b.Fatalf("regstorm scscf did not start:\n%s", sc.log)
	}
	time.Sleep(time.Second) // CER/CEA
	out := filepath.Join(work, "out")
	b.ResetTimer()
	start := time.Now()
	ue := exec.CommandContext(ctx, bin, "ue", profile, "--target", "udp:"+sipAddr, "--timeout", (*soakFor + 2*time.Minute).String(),
		"--out", out)
	ue.Cancel = func() error { return ue.Process.Signal(syscall.SIGQUIT) } // a stuck fleet shows its goroutines
	ue.WaitDelay = 10 * time.Second
	res, err := ue.CombinedOutput()
	wall := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatalf("regstorm ue: %v\n%s", err, res)
	}
	scOut, hOut := sc.stop(b), h.stop(b)
	raw, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	var s results.Summary
	if err := json.Unmarshal(raw, &s); err != nil {
		b.Fatal(err)
	}
	r := s.Variants[0].Registrations
	drops := counter(scOut, "diameter.peer_down") + counter(hOut, "diameter.closed.watchdog")
	b.ReportMetric(wall.Seconds(), "s")
	b.ReportMetric(float64(r.Succeeded), "registered")
	b.ReportMetric(float64(r.Failed), "failed")
	b.ReportMetric(float64(drops), "peer-drops")
	b.ReportMetric(float64(counter(scOut, "diameter.watchdog.dwr_sent")+counter(hOut, "diameter.watchdog.dwr_sent")), "DWRs")
	if r.Failed != 0 || r.Succeeded != uint64(ues) || drops != 0 {
		b.Fatalf("soak: registrations %+v, peer drops %d\nscscf:\n%s\nhss:\n%s", r, drops, scOut, hOut)
	}
}
