package interop

import (
	"context"
	"encoding/json"
	"fmt"
	wmilenage "github.com/wmnsk/milenage"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regstorm/regstorm/results"
)

func freeAddr(t testing.TB, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "regstorm")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(projectDir(t), "cmd", "regstorm")).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// regstorm ue -> regstorm scscf -> regstorm hss, three processes over real
// sockets: every UE registers with AKA, and the S-CSCF model counts the
// callbacks of its preset (kamailio-5.6: MAR route never, SAR route always).
func TestRegstormEndToEndOverSockets(t *testing.T) {
	need(t, "go")
	bin := build(t)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) { endToEnd(t, bin, transport) })
	}
}

func endToEnd(t *testing.T, bin, transport string) {
	sipAddr, hssAddr := freeAddr(t, transport), freeAddr(t, "tcp")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	work := t.TempDir()
	profile := fleetProfile(t, work, "e2e", 30, "1s")
	startHSS(t, ctx, bin, profile, "--listen", hssAddr, "--origin-host", "hss.ims.example.org")
	sc := start(t, ctx, bin, "scscf", profile, "--listen", transport+":"+sipAddr, "--hss", hssAddr, "--log")
	select {
	case <-sc.waitFor("Peer hss State I_Open"):
	case <-time.After(20 * time.Second):
		t.Fatalf("regstorm scscf did not connect to regstorm hss:\n%s", sc)
	}
	out := filepath.Join(work, "out")
	cmd := exec.CommandContext(ctx, bin, "ue", profile, "--target", transport+":"+sipAddr, "--timeout", "60s", "--out", out)
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("regstorm ue: %v\n%s\nscscf:\n%s", err, res, sc)
	}
	b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	var s results.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if r := s.Variants[0].Registrations; r.Succeeded != 30 {
		t.Fatalf("registrations %+v\n%s\nscscf:\n%s", r, res, sc)
	}
	time.Sleep(200 * time.Millisecond)
	logs := sc.String()
	if strings.Count(logs, "active transaction not found") != 30 || strings.Count(logs, "SAR_REPLY_ROUTE_EXECUTED 1") != 30 {
		t.Fatalf("S-CSCF model log:\n%s", logs)
	}
}

// SIPp against regstorm scscf and regstorm hss: SIPp's initial REGISTERs
// are challenged (the S-CSCF model over real UDP, the HSS over real Cx).
func TestSIPpAgainstRegstormSCSCF(t *testing.T) {
	need(t, "sipp", "go")
	bin := build(t)
	sipAddr, hssAddr := freeAddr(t, "udp"), freeAddr(t, "tcp")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	startHSS(t, ctx, bin, "--listen", hssAddr, "--origin-host", "hss.ims.test", "--origin-realm", "ims.test",
		"--set", "subscribers.realm=ims.test", "--set", "subscribers.impi=user{n}@ims.test", "--set", "subscribers.impu=sip:user{n}@ims.test")
	sc := start(t, ctx, bin, "scscf", "--listen", "udp:"+sipAddr, "--hss", hssAddr, "--set", "subscribers.realm=ims.test",
		"--set", "scscf.cdp_tc=1s", "--preset", "kamailio-6.1", "--log")
	select {
	case <-sc.waitFor("Peer hss State I_Open"):
	case <-time.After(20 * time.Second):
		t.Fatalf("regstorm scscf did not connect to the HSS:\n%s", sc)
	}
	const n = 20
	users := "SEQUENTIAL\n"
	for i := 1; i <= n; i++ {
		users += fmt.Sprintf("user%d\n", i)
	}
	work := t.TempDir()
	csv := filepath.Join(work, "users.csv")
	os.WriteFile(csv, []byte(users), 0o644)
	cmd := exec.CommandContext(ctx, "sipp", "-sf", filepath.Join(projectDir(t), "interop", "kamailio", "sipp-register-401.xml"), "-inf", csv,
		"-i", "127.0.0.1", "-p", strings.Split(freeAddr(t, "udp"), ":")[1], "-m", fmt.Sprint(n), "-r", "20", "-nostdin", "-timeout", "30s", sipAddr)
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sipp: %v\n%s\nscscf:\n%s", err, out, sc)
	}
	if m := regexp.MustCompile(`Successful call\s+\|\s+\d+\s+\|\s+(\d+)`).FindSubmatch(out); m == nil || string(m[1]) != fmt.Sprint(n) {
		t.Fatalf("SIPp: want %d challenged REGISTERs:\n%s\nscscf:\n%s", n, out, sc)
	}
	// kamailio-6.1: the MAR route runs for every MAA.
	time.Sleep(200 * time.Millisecond)
	if got := strings.Count(sc.String(), "MAR_REPLY_ROUTE_EXECUTED 1"); got != n {
		t.Fatalf("MAR route ran %d times, want %d:\n%s", got, n, sc)
	}
}

// Killing and restarting regstorm hss during a live run is survived: the
// S-CSCF reconnects (Tc), registrations in the gap fail and are counted
// (408 at fr_timer: no Cx peer, no callback, KAMAILIO-MODEL.md §3.1), the
// others succeed, and no registration is missing from the results.
func TestHSSRestartDuringLiveRun(t *testing.T) {
	need(t, "go")
	bin := build(t)
	sipAddr, hssAddr := freeAddr(t, "udp"), freeAddr(t, "tcp")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	work := t.TempDir()
	profile := filepath.Join(work, "p.yaml")
	os.WriteFile(profile, []byte(`name: restart
ues: 300
arrival: {shape: uniform, window: 9s}
ue: {think_time: {dist: constant, value: 10ms}}
hss: {mar_latency: {dist: constant, value: 5ms}, sar_latency: {dist: constant, value: 2ms}}
scscf: {cdp_tc: 1s, fr_timer: 2s}
variants:
  - {name: v, preset: kamailio-5.6}
`), 0o644)
	hctx, hcancel := context.WithCancel(ctx)
	hss := exec.CommandContext(hctx, bin, "hss", profile, "--listen", hssAddr, "--origin-host", "hss.ims.example.org")
	if err := hss.Start(); err != nil {
		t.Fatal(err)
	}
	sc := start(t, ctx, bin, "scscf", profile, "--listen", "udp:"+sipAddr, "--hss", hssAddr, "--log")
	select {
	case <-sc.waitFor("Peer hss State I_Open"):
	case <-time.After(20 * time.Second):
		t.Fatalf("regstorm scscf did not connect:\n%s", sc)
	}
	out := filepath.Join(work, "out")
	ue := exec.CommandContext(ctx, bin, "ue", profile, "--target", "udp:"+sipAddr, "--timeout", "60s", "--out", out)
	var ueOut strings.Builder
	ue.Stdout, ue.Stderr = &ueOut, &ueOut
	if err := ue.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	hcancel() // kill -9 the HSS
	hss.Wait()
	time.Sleep(2 * time.Second)
	restarted := start(t, ctx, bin, "hss", profile, "--listen", hssAddr, "--origin-host", "hss.ims.example.org")
	select {
	case <-restarted.waitFor("serving Cx"):
	case <-time.After(20 * time.Second):
		t.Fatalf("regstorm hss did not restart:\n%s", restarted)
	}
	if err := ue.Wait(); err != nil {
		t.Fatalf("regstorm ue: %v\n%s", err, ueOut.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s results.Summary
	json.Unmarshal(b, &s)
	r := s.Variants[0].Registrations
	if r.Attempted != 300 || r.InProgress != 0 || r.Succeeded+r.Failed != 300 || r.Failed == 0 || r.Succeeded < 150 ||
		r.ByFinalCode["408"] == 0 {
		t.Fatalf("registrations %+v\n%s\nscscf:\n%s", r, ueOut.String(), sc)
	}
	if logs := sc.String(); !strings.Contains(logs, "peer hss closed the connection") || strings.Count(logs, "Peer hss State I_Open") < 2 {
		t.Fatalf("the S-CSCF did not see the loss and the reconnection:\n%s", logs)
	}
	t.Logf("after an HSS restart: %+v", r.ByCause)
}

// SIPp registering with AKA (raw-byte keys, OBSERVED.md items 12-13)
// against regstorm scscf + regstorm hss: 401, SIPp's Digest-AKAv1-MD5
// answer verified by the S-CSCF model, SAR, 200 OK.
func TestSIPpAKAAgainstRegstormSCSCF(t *testing.T) {
	need(t, "sipp", "go")
	bin := build(t)
	sipAddr, hssAddr := freeAddr(t, "udp"), freeAddr(t, "tcp")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	work := t.TempDir()
	k, op := []byte("0123456789abcdef"), []byte("fedcba9876543210")
	opc, err := wmilenage.ComputeOPc(k, op)
	if err != nil {
		t.Fatal(err)
	}
	subs := filepath.Join(work, "subs.csv")
	os.WriteFile(subs, []byte(fmt.Sprintf("imsi,impi,impu,k,opc,amf,sqn\n001010000000006,akauser6@ims.test,sip:akauser6@ims.test,%x,%x,5a5a,0\n", k, opc)), 0o644)
	sets := []string{"--set", "ues=1", "--set", "subscribers.realm=ims.test", "--set", "subscribers.file=" + subs}
	startHSS(t, ctx, bin, append([]string{"--listen", hssAddr, "--origin-host", "hss.ims.test", "--origin-realm", "ims.test",
		"--fixed-rand", "00000000000000000000000011223344"}, sets...)...)
	sc := start(t, ctx, bin, append([]string{"scscf", "--listen", "udp:" + sipAddr, "--hss", hssAddr, "--set", "scscf.cdp_tc=1s", "--log"}, sets...)...)
	select {
	case <-sc.waitFor("Peer hss State I_Open"):
	case <-time.After(20 * time.Second):
		t.Fatalf("regstorm scscf did not connect:\n%s", sc)
	}
	csv := filepath.Join(work, "aka.csv")
	os.WriteFile(csv, []byte("SEQUENTIAL\nakauser6\n"), 0o644)
	cmd := exec.CommandContext(ctx, "sipp", "-sf", filepath.Join(projectDir(t), "interop", "kamailio", "sipp-register-aka.xml"), "-inf", csv,
		"-au", "akauser6@ims.test", "-i", "127.0.0.1", "-p", strings.Split(freeAddr(t, "udp"), ":")[1], "-m", "1", "-nostdin", "-timeout", "30s", sipAddr)
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sipp: %v\n%s\nscscf:\n%s", err, out, sc)
	}
	if m := regexp.MustCompile(`Successful call\s+\|\s+\d+\s+\|\s+(\d+)`).FindSubmatch(out); m == nil || string(m[1]) != "1" {
		t.Fatalf("SIPp: want 1 registration:\n%s\nscscf:\n%s", out, sc)
	}
	time.Sleep(200 * time.Millisecond)
	if !strings.Contains(sc.String(), "SAR_REPLY_ROUTE_EXECUTED 1") {
		t.Fatalf("S-CSCF model log:\n%s", sc)
	}
}

// fleetProfile writes a small profile for the live tests: ues UEs within
// 1 s, 10 ms think time, a fast HSS, cdp's reconnect interval cdpTc,
// one kamailio-5.6 variant.
func fleetProfile(t *testing.T, dir, name string, ues int, cdpTc string) string {
	t.Helper()
	path := filepath.Join(dir, name+".yaml")
	err := os.WriteFile(path, []byte(fmt.Sprintf(`name: %s
ues: %d
arrival: {shape: uniform, window: 1s}
ue: {think_time: {dist: constant, value: 10ms}}
hss: {mar_latency: {dist: constant, value: 5ms}, sar_latency: {dist: constant, value: 2ms}}
scscf: {cdp_tc: %s}
variants:
  - {name: v, preset: kamailio-5.6}
`, name, ues, cdpTc)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return path
}
