package main

import (
	"bufio"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fiorix/go-diameter/v4/diam"
	"github.com/fiorix/go-diameter/v4/diam/avp"
	"github.com/fiorix/go-diameter/v4/diam/datatype"
	"github.com/fiorix/go-diameter/v4/diam/sm"

	"github.com/regstorm/regstorm/hss/cx"
)

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// buildBinary builds regstorm once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "regstorm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// regstorm hss serves Cx on loopback: a go-diameter peer completes CER/CEA,
// gets an MAA for a known user and 5001 for an unknown one, and SIGINT
// stops the server cleanly with its counts.
func TestHSSCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	addr := freePort(t)
	cmd := exec.Command(bin, "hss", "--listen", addr, "--set", "hss.mar_latency.dist=constant", "--set", "hss.mar_latency.value=5ms")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.Contains(lines.Text(), "serving Cx on "+addr) {
		t.Fatalf("first line %q", lines.Text())
	}
	answers := make(chan *diam.Message, 4)
	mux := sm.New(&sm.Settings{OriginHost: "scscf.ims.example.org", OriginRealm: "ims.example.org", VendorID: cx.VendorID,
		ProductName: "test", Dict: cx.Dict()})
	mux.HandleIdx(diam.CommandIndex{AppID: cx.AppID, Code: cx.CmdMultimediaAuth}, diam.HandlerFunc(func(c diam.Conn, m *diam.Message) { answers <- m }))
	cli := &sm.Client{Dict: cx.Dict(), Handler: mux, MaxRetransmits: 1, RetransmitInterval: time.Second,
		// As Kamailio's cdp does: Cx as a vendor-specific auth application.
		VendorSpecificApplicationID: []*diam.AVP{diam.NewAVP(avp.VendorSpecificApplicationID, avp.Mbit, 0, &diam.GroupedAVP{AVP: []*diam.AVP{
			diam.NewAVP(avp.AuthApplicationID, avp.Mbit, 0, datatype.Unsigned32(cx.AppID)),
			diam.NewAVP(avp.VendorID, avp.Mbit, 0, datatype.Unsigned32(cx.VendorID))}})}}
	conn, err := cli.DialNetwork("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	for i, user := range []string{"user5", "nobody"} {
		req, _ := cx.Encode(&cx.MAR{Header: cx.Header{SessionID: "s", HopByHop: uint32(10 + i), EndToEnd: 1, OriginHost: "scscf.ims.example.org",
			OriginRealm: "ims.example.org", DestRealm: "ims.example.org"}, UserName: user + "@ims.example.org",
			PublicIdentity: "sip:" + user + "@ims.example.org", ServerName: "sip:scscf", NumAuthItems: 1, Scheme: cx.SchemeAKAv1})
		req.WriteTo(conn)
		select {
		case a := <-answers:
			m, err := cx.Decode(a)
			if err != nil {
				t.Fatal(err)
			}
			maa := m.(*cx.MAA)
			if user == "user5" && (maa.ResultCode != cx.DiameterSuccess || len(maa.Items) != 1) ||
				user == "nobody" && maa.ExperimentalResult != cx.ErrorUserUnknown {
				t.Errorf("%s: MAA %+v", user, maa)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no MAA", user)
		}
	}
	conn.Close()
	cmd.Process.Signal(syscall.SIGINT)
	// Read the output to its end before Wait, which closes the pipe.
	restc := make(chan string, 1)
	go func() {
		var b strings.Builder
		for lines.Scan() {
			b.WriteString(lines.Text() + "\n")
		}
		restc <- b.String()
	}()
	var rest string
	select {
	case rest = <-restc:
	case <-time.After(5 * time.Second):
		t.Fatal("regstorm hss did not stop on SIGINT")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if !regexp.MustCompile(`stopped; MAR 2, .* unknown users 1`).MatchString(rest) {
		t.Errorf("last output %q", rest)
	}
}
