package interop

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fiorix/go-diameter/v4/diam"
	"github.com/fiorix/go-diameter/v4/diam/datatype"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/results"
)

// The two Diameter inputs of issue 11: a Message-Length below 20 (go-diameter
// v4.1.0 allocates about 4 GiB for it) and a MAR whose AVP has length 0 (a
// nil-pointer panic in go-diameter's (*AVP).Len).
var (
	hostileShort, _ = hex.DecodeString("010000108000012f0100000000000001000000010000000000000000")
	hostileZero, _  = hex.DecodeString("0100001c8000012f0100000000000001000000010000000000000000")
)

// proc is a regstorm process the test signals itself, to read its last lines.
type proc struct {
	cmd *exec.Cmd
	log *logBuffer
}

// startLimited starts bin under `ulimit -v kb` (virtual memory in KiB).
func startLimited(t testing.TB, ctx context.Context, kb string, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", `ulimit -v ` + kb + ` && exec "$0" "$@"`, bin}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: &logBuffer{}}
	done := make(chan struct{})
	go func() { p.log.pump(out); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		cmd.Wait()
	})
	return p
}

// stop sends SIGINT and returns the whole output once the process exits.
func (p *proc) stop(t testing.TB) string {
	t.Helper()
	p.cmd.Process.Signal(os.Interrupt)
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, p.log)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no exit 10 s after SIGINT:\n%s", p.log)
	}
	time.Sleep(100 * time.Millisecond) // the last lines through the pipe
	return p.log.String()
}

func cerBytes(t *testing.T) []byte {
	m := diam.NewRequest(257, 0, cx.Dict())
	m.NewAVP(264, 0x40, 0, datatype.DiameterIdentity("hostile.ims.example.org"))
	m.NewAVP(296, 0x40, 0, datatype.DiameterIdentity("ims.example.org"))
	m.NewAVP(257, 0x40, 0, datatype.Address(net.IPv4(127, 0, 0, 1)))
	m.NewAVP(266, 0x40, 0, datatype.Unsigned32(cx.VendorID))
	m.NewAVP(269, 0, 0, datatype.UTF8String("hostile"))
	m.NewAVP(258, 0x40, 0, datatype.Unsigned32(cx.AppID))
	b, err := m.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readFrame reads one Diameter message's bytes.
func readFrame(r io.Reader) ([]byte, error) {
	var h [20]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(h[:4]) & 0xffffff)
	if n < 20 || n > 1<<20 {
		return nil, io.ErrUnexpectedEOF
	}
	b := make([]byte, n)
	copy(b, h[:])
	_, err := io.ReadFull(r, b[20:])
	return b, err
}

// hostileProxy forwards Cx between the S-CSCF and the HSS; on its first
// `hostile` connections it sends the S-CSCF, right after the CEA, the
// malformed request 100 times and then a Message-Length below 20.
func hostileProxy(t *testing.T, hssAddr string, hostile int) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for n := 1; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", hssAddr)
			if err != nil {
				c.Close()
				continue
			}
			evil := n <= hostile
			go func() {
				io.Copy(up, c)
				up.Close()
			}()
			go func() {
				defer c.Close()
				var wmu sync.Mutex
				for first := true; ; first = false {
					b, err := readFrame(up)
					if err != nil {
						return
					}
					wmu.Lock()
					c.Write(b)
					if first && evil {
						for i := 0; i < 100; i++ {
							c.Write(hostileZero)
						}
						c.Write(hostileShort)
					}
					wmu.Unlock()
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// regstorm hss under `ulimit -v 3000000` survives the two inputs of issue
// 11 sent 100 times each (on fresh connections and on one past CER/CEA);
// regstorm scscf, also under the limit, survives an HSS side that sends it
// the same inputs 100 times on each of its first 3 connections; then a UE
// fleet registers through both, and each prints what it rejected.
func TestHostileDiameterPeers(t *testing.T) {
	need(t, "go", "sh")
	bin := build(t)
	work := t.TempDir()
	profile := fleetProfile(t, work, "hostile", 50, "200ms")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hssAddr, sipAddr := freeAddr(t, "tcp"), freeAddr(t, "udp")
	h := startLimited(t, ctx, "3000000", bin, "hss", profile, "--listen", hssAddr, "--origin-host", "hss.ims.example.org")
	select {
	case <-h.log.waitFor("serving Cx"):
	case <-time.After(20 * time.Second):
		t.Fatalf("regstorm hss did not start:\n%s", h.log)
	}
	send := func(c net.Conn, b []byte) {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		c.Write(b)
	}
	for i := 0; i < 100; i++ {
		for _, in := range [][]byte{hostileShort, hostileZero} {
			c, err := net.Dial("tcp", hssAddr)
			if err != nil {
				t.Fatalf("input %d: regstorm hss is gone: %v\n%s", i, err, h.log)
			}
			send(c, in)
			c.Read(make([]byte, 64))
			c.Close()
		}
	}
	c, err := net.Dial("tcp", hssAddr)
	if err != nil {
		t.Fatal(err)
	}
	send(c, cerBytes(t))
	if _, err := readFrame(c); err != nil {
		t.Fatalf("no CEA: %v\n%s", err, h.log)
	}
	for i := 0; i < 100; i++ {
		send(c, hostileZero)
		b, err := readFrame(c)
		if err != nil {
			t.Fatalf("no answer to malformed request %d: %v", i, err)
		}
		if rc, _ := cx.TopLevelAVP(b, 268); len(rc) != 4 || binary.BigEndian.Uint32(rc) != cx.InvalidAVPLength {
			t.Fatalf("answer %x", b)
		}
	}
	send(c, hostileShort)
	c.Close()

	proxy := hostileProxy(t, hssAddr, 3)
	sc := startLimited(t, ctx, "3000000", bin, "scscf", profile, "--listen", "udp:"+sipAddr, "--hss", proxy, "--log")
	// Three hostile connections, then a clean one.
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(sc.log.String(), "Peer hss State I_Open") < 4 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := strings.Count(sc.log.String(), "Peer hss State I_Open"); n < 4 {
		t.Fatalf("the S-CSCF opened the Cx connection %d times, want 4:\n%s", n, sc.log)
	}
	out := filepath.Join(work, "out")
	res, err := exec.CommandContext(ctx, bin, "ue", profile, "--target", "udp:"+sipAddr, "--timeout", "60s", "--out", out).CombinedOutput()
	if err != nil {
		t.Fatalf("regstorm ue: %v\n%s\nscscf:\n%s", err, res, sc.log)
	}
	b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	var s results.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if r := s.Variants[0].Registrations; r.Succeeded != 50 {
		t.Fatalf("registrations %+v\n%s\nscscf:\n%s", r, res, sc.log)
	}
	scOut, hOut := sc.stop(t), h.stop(t)
	for _, want := range []string{"transport: diameter.answered.5014 300", "transport: diameter.rejected.short_length 3", "transport: diameter.connected 4", "transport: diameter.peer_down 3"} {
		if !strings.Contains(scOut, want) {
			t.Errorf("regstorm scscf does not print %q:\n%s", want, scOut)
		}
	}
	for _, l := range strings.Split(scOut+hOut, "\n") {
		if strings.Contains(l, "transport:") {
			t.Log(l)
		}
	}
	for _, want := range []string{"transport: diameter.rejected.short_length 101", "transport: diameter.answered.5014 200"} {
		if !strings.Contains(hOut, want) {
			t.Errorf("regstorm hss does not print %q:\n%s", want, hOut)
		}
	}
}
