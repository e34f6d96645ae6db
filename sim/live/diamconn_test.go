package live

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/fiorix/go-diameter/v4/diam"
	"github.com/fiorix/go-diameter/v4/diam/datatype"

	"github.com/regstorm/regstorm/hss"
	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/sim"
)

// The two inputs of issue 11: a header whose Message-Length is below 20
// (go-diameter v4.1.0 allocates about 4 GiB for it), and a MAR whose
// only AVP has length 0 (go-diameter panics in (*AVP).Len).
var (
	shortHeader = mustHex("010000108000012f01000000000000010000000100000000")[:20]
	zeroAVP     = mustHex("0100001c8000012f0100000000000001000000010000000000000000")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// hssServer runs the HSS core behind a DiameterServer with the given limits.
func hssServer(t testing.TB, lim DiameterLimits) (*DiameterServer, string) {
	t.Helper()
	impi, _ := subscriber.ParseTemplate("user{n}@ims.test")
	impu, _ := subscriber.ParseTemplate("sip:user{n}@ims.test")
	pop := subscriber.Population{Count: 10, Realm: "ims.test", IMPI: impi, IMPU: impu, AMF: 0x8000, KeySeed: 9}
	core, err := hss.New(hss.Config{OriginHost: "localhost", OriginRealm: "ims.test", Population: pop,
		MARLatency: sim.Constant{}, SARLatency: sim.Constant{}})
	if err != nil {
		t.Fatal(err)
	}
	node := NewNode("hss", 1, core)
	go node.Run()
	go func() {
		for range node.Errors {
		}
	}()
	t.Cleanup(node.Stop)
	srv := &DiameterServer{Node: node, OriginHost: "localhost", OriginRealm: "ims.test", Limits: lim}
	addr, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, addr.String()
}

// rawPeer is a test peer that writes bytes of its choosing and reads whole
// answers (framed by their header, decoded with go-diameter).
type rawPeer struct {
	t testing.TB
	c net.Conn
}

func dialRaw(t testing.TB, addr string) *rawPeer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{t: t, c: c}
}

func cerMessage(host string, app uint32) *diam.Message {
	m := diam.NewRequest(cmdCE, 0, cx.Dict())
	m.NewAVP(avpOriginHost, 0x40, 0, datatype.DiameterIdentity(host))
	m.NewAVP(avpOriginRealm, 0x40, 0, datatype.DiameterIdentity("ims.test"))
	m.NewAVP(avpHostIPAddress, 0x40, 0, datatype.Address(net.IPv4(127, 0, 0, 1)))
	m.NewAVP(avpVendorID, 0x40, 0, datatype.Unsigned32(cx.VendorID))
	m.NewAVP(avpProductName, 0, 0, datatype.UTF8String("test"))
	m.NewAVP(avpAuthAppID, 0x40, 0, datatype.Unsigned32(app))
	return m
}

func (p *rawPeer) write(b []byte) error {
	p.c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, err := p.c.Write(b)
	return err
}

func (p *rawPeer) send(m *diam.Message) {
	p.t.Helper()
	b, err := m.Serialize()
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.write(b); err != nil {
		p.t.Fatal(err)
	}
}

// read returns the next message within d, or the read error.
func (p *rawPeer) read(d time.Duration) (*diam.Message, error) {
	b, err := p.readRaw(d)
	if err != nil {
		return nil, err
	}
	return cx.Read(&byteReader{b: b})
}

// readRaw returns the next message's bytes.
func (p *rawPeer) readRaw(d time.Duration) ([]byte, error) {
	p.c.SetReadDeadline(time.Now().Add(d))
	var h [20]byte
	if _, err := io.ReadFull(p.c, h[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(h[:4]) & 0xffffff)
	if n < 20 || n > 1<<16 {
		p.t.Fatalf("the server sent Message-Length %d", n)
	}
	b := make([]byte, n)
	copy(b, h[:])
	if _, err := io.ReadFull(p.c, b[20:]); err != nil {
		return nil, err
	}
	return b, nil
}

type byteReader struct{ b []byte }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// closedWithin reports whether the server closes the connection within d
// (messages it sends first are skipped).
func (p *rawPeer) closedWithin(d time.Duration) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		_, err := p.read(time.Until(end))
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return false
		}
		if err != nil {
			return true
		}
	}
	return false
}

func (p *rawPeer) handshake() {
	p.t.Helper()
	p.send(cerMessage("scscf.ims.test", cx.AppID))
	a, err := p.read(2 * time.Second)
	if err != nil {
		p.t.Fatalf("no CEA: %v", err)
	}
	if rc, _ := findU32(a, avpResultCode); rc != diameterSuccess || a.Header.CommandCode != cmdCE {
		p.t.Fatalf("CEA %v", a)
	}
}

func marBytes(t testing.TB, hbh uint32) []byte {
	b, err := cx.Marshal(&cx.MAR{Header: cx.Header{SessionID: "s;1", HopByHop: hbh, EndToEnd: hbh, OriginHost: "scscf.ims.test",
		OriginRealm: "ims.test", DestRealm: "ims.test"}, UserName: "user3@ims.test", PublicIdentity: "sip:user3@ims.test",
		ServerName: "sip:scscf.ims.test", NumAuthItems: 1, Scheme: cx.SchemeAKAv1})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// expectMAA reads until the MAA for hbh (DWRs from the server are skipped).
func (p *rawPeer) expectMAA(hbh uint32) {
	p.t.Helper()
	for {
		m, err := p.read(3 * time.Second)
		if err != nil {
			p.t.Fatalf("no MAA %d: %v", hbh, err)
		}
		if m.Header.CommandCode == cx.CmdMultimediaAuth && m.Header.HopByHopID == hbh {
			if rc, _ := findU32(m, avpResultCode); rc != diameterSuccess {
				p.t.Fatalf("MAA %d with Result-Code %d", hbh, rc)
			}
			return
		}
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// The two hostile inputs sent 100 times each, on fresh connections and on
// an open one: no panic, no allocation beyond the message cap, each
// counted; a short Message-Length closes its connection, a bad AVP length
// is answered 5014 (RFC 6733 §7.1.5) and the connection goes on; the HSS
// answers a MAR afterwards.
func TestDiameterServerHostileInputs(t *testing.T) {
	srv, addr := hssServer(t, DiameterLimits{})
	before := heapInUse()
	var allocs runtime.MemStats
	runtime.ReadMemStats(&allocs)
	total0 := allocs.TotalAlloc
	for i := 0; i < 100; i++ {
		p := dialRaw(t, addr)
		p.handshake()
		p.write(shortHeader)
		if !p.closedWithin(2 * time.Second) {
			t.Fatal("a Message-Length below 20 leaves the connection open")
		}
		p.c.Close()
	}
	open := dialRaw(t, addr)
	open.handshake()
	for i := 0; i < 100; i++ {
		open.write(zeroAVP)
		a, err := open.read(2 * time.Second)
		if err != nil {
			t.Fatalf("input %d: no answer: %v", i, err)
		}
		rc, _ := findU32(a, avpResultCode)
		if rc != cx.InvalidAVPLength || a.Header.CommandCode != cx.CmdMultimediaAuth || a.Header.HopByHopID != 1 || a.Header.CommandFlags&cx.FlagRequest != 0 {
			t.Fatalf("answer to a zero-length AVP: %v", a)
		}
	}
	for i := 0; i < 100; i++ { // and before any CER
		p := dialRaw(t, addr)
		p.write(zeroAVP)
		if !p.closedWithin(2 * time.Second) {
			t.Fatal("a malformed message instead of CER leaves the connection open")
		}
		p.c.Close()
	}
	open.write(marBytes(t, 500))
	open.expectMAA(500)
	runtime.ReadMemStats(&allocs)
	if grown := allocs.TotalAlloc - total0; grown > 64<<20 {
		t.Errorf("300 hostile messages allocated %d MB", grown>>20)
	}
	if after := heapInUse(); after > before+16<<20 {
		t.Errorf("heap grew from %d to %d bytes", before, after)
	}
	c := srv.Counters()
	if c["diameter.rejected.short_length"] != 100 || c["diameter.rejected.bad_avp_length"] != 200 || c["diameter.answered.5014"] != 200 {
		t.Errorf("counters %v", c)
	}
}

// Bounds: a Message-Length of 16 MB is refused before its body is read; a
// connection without CER closes at CERTimeout, one that stops
// mid-message at MessageTimeout; connections above MaxConns are refused.
func TestDiameterServerLimits(t *testing.T) {
	srv, addr := hssServer(t, DiameterLimits{CERTimeout: 300 * time.Millisecond, MessageTimeout: 300 * time.Millisecond, MaxConns: 4})

	p := dialRaw(t, addr)
	p.handshake()
	big := append([]byte(nil), marBytes(t, 1)[:20]...)
	binary.BigEndian.PutUint32(big[0:4], 1<<24-4)
	big[0] = 1
	p.write(big)
	if !p.closedWithin(2 * time.Second) {
		t.Fatal("a 16 MB Message-Length is accepted")
	}
	p.c.Close()

	start := time.Now()
	silent := dialRaw(t, addr)
	if !silent.closedWithin(3 * time.Second) {
		t.Fatal("a connection that never sends CER stays open")
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("closed after %v, before the CER timeout", d)
	}
	silent.c.Close()

	half := dialRaw(t, addr)
	half.handshake()
	half.write(marBytes(t, 2)[:30])
	start = time.Now()
	if !half.closedWithin(3 * time.Second) {
		t.Fatal("a connection that stops mid-message stays open")
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("closed after %v, before the message timeout", d)
	}
	half.c.Close()

	time.Sleep(50 * time.Millisecond) // the closed connections are gone from the table
	var held []*rawPeer
	for i := 0; i < 4; i++ {
		q := dialRaw(t, addr)
		q.handshake()
		held = append(held, q)
	}
	extra := dialRaw(t, addr)
	if !extra.closedWithin(2 * time.Second) {
		t.Fatal("a fifth connection is held with MaxConns 4")
	}
	held[0].write(marBytes(t, 3))
	held[0].expectMAA(3)

	c := srv.Counters()
	for _, k := range []string{"diameter.rejected.too_long", "diameter.timeout.cer", "diameter.timeout.message", "diameter.refused.max_conns"} {
		if c[k] != 1 {
			t.Errorf("%s = %d, want 1 (all: %v)", k, c[k], c)
		}
	}
}

// RFC 6733 §7.1.3: a request of an unknown command gets 3001, of an
// unknown application 3007, both with the E bit; a CER without Cx 5010.
func TestDiameterServerUnsupported(t *testing.T) {
	_, addr := hssServer(t, DiameterLimits{})
	p := dialRaw(t, addr)
	p.handshake()
	for _, tc := range []struct {
		app, cmd uint32
		rc       uint32
	}{{cx.AppID, 305, cx.CommandUnsupported}, {0, 274, cx.CommandUnsupported}, {16777217, 306, cx.ApplicationUnsupported}} {
		m := diam.NewMessage(tc.cmd, cx.FlagRequest|cx.FlagProxiable, tc.app, 42, 43, cx.Dict())
		m.NewAVP(avpSessionID, 0x40, 0, datatype.UTF8String("sess;42"))
		m.NewAVP(avpOriginHost, 0x40, 0, datatype.DiameterIdentity("scscf.ims.test"))
		p.send(m)
		b, err := p.readRaw(2 * time.Second) // go-diameter cannot decode an unknown command
		if err != nil {
			t.Fatal(err)
		}
		h := cx.ParseHeader(b)
		rc, _ := cx.TopLevelAVP(b, avpResultCode)
		sid, _ := cx.TopLevelAVP(b, avpSessionID)
		if len(rc) != 4 || binary.BigEndian.Uint32(rc) != tc.rc || h.Flags&cx.FlagError == 0 || h.Request() || h.Command != tc.cmd ||
			h.AppID != tc.app || h.HopByHop != 42 || string(sid) != "sess;42" {
			t.Fatalf("app %d command %d: answer %x", tc.app, tc.cmd, b)
		}
	}
	q := dialRaw(t, addr)
	q.send(cerMessage("other", 4))
	a, err := q.read(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if rc, _ := findU32(a, avpResultCode); rc != cx.NoCommonApplication || !q.closedWithin(2*time.Second) {
		t.Fatalf("CER without Cx: %v", a)
	}
}

// A client and a server, both watching with Tw = 40 ms, exchange DWR/DWA
// for 2 s without either declaring the other down, however early each DWA
// arrives; a server that stops answering is declared down after three Tw.
func TestDiameterWatchdog(t *testing.T) {
	srv, addr := hssServer(t, DiameterLimits{Watchdog: 40 * time.Millisecond})
	node := NewNode("scscf", 1, sinkCore{})
	go node.Run()
	defer node.Stop()
	go func() {
		for range node.Errors {
		}
	}()
	dc := &DiameterClient{Node: node, OriginHost: "scscf.ims.test", OriginRealm: "ims.test", Tc: 50 * time.Millisecond,
		Limits: DiameterLimits{Watchdog: 40 * time.Millisecond}}
	dc.Start(addr)
	time.Sleep(2 * time.Second)
	c, s := dc.Counters(), srv.Counters()
	if c["diameter.connected"] != 1 || c["diameter.peer_down"] != 0 || c["diameter.watchdog.suspect"] != 0 || s["diameter.watchdog.suspect"] != 0 {
		t.Fatalf("healthy pair: client %v, server %v", c, s)
	}
	if c["diameter.watchdog.dwr_sent"] < 10 || s["diameter.watchdog.dwr_sent"] < 10 {
		t.Fatalf("too few DWRs: client %v, server %v", c, s)
	}
	dc.Close()
	if s := srv.Counters(); s["diameter.closed.dpr_from_peer"] != 1 {
		t.Errorf("the client's close is not a DPR: %v", s)
	}

	// A peer that completes CER/CEA and then reads but never answers.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				d := newDiamConn(c, DiameterLimits{}.Defaults(), "mute", "ims.test", &causeCounts{}, func(error) {})
				if _, ok := d.acceptCER(); ok {
					io.Copy(io.Discard, c)
				}
			}()
		}
	}()
	dc2 := &DiameterClient{Node: node, OriginHost: "scscf.ims.test", OriginRealm: "ims.test", Tc: time.Hour,
		Limits: DiameterLimits{Watchdog: 100 * time.Millisecond}}
	dc2.Start(ln.Addr().String())
	defer dc2.Close()
	time.Sleep(200 * time.Millisecond)
	if c := dc2.Counters(); c["diameter.peer_down"] != 0 {
		t.Fatalf("down after 200 ms: %v", c)
	}
	time.Sleep(500 * time.Millisecond)
	if c := dc2.Counters(); c["diameter.peer_down"] != 1 || c["diameter.watchdog.down"] != 1 || c["diameter.watchdog.suspect"] != 1 {
		t.Fatalf("a mute peer after 700 ms (Tw 100 ms): %v", c)
	}
}

type sinkCore struct{}

func (sinkCore) Handle(sim.Env, sim.Event) {}

// The S-CSCF's client side facing a hostile HSS: after CEA the HSS sends
// the two inputs of issue 11, 100 times each; the client answers the
// malformed request 5014 and stays connected, drops the connection on a
// short Message-Length and reconnects; no panic, bounded memory.
func TestDiameterClientHostileHSS(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	answers := make(chan uint32, 200)
	sessions := make(chan int, 200)
	go func() {
		n := 0
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n++
			first := n == 1
			go func() {
				defer c.Close()
				d := newDiamConn(c, DiameterLimits{}.Defaults(), "evil", "ims.test", &causeCounts{}, func(error) {})
				if _, ok := d.acceptCER(); !ok {
					return
				}
				sessions <- 1
				if first {
					for i := 0; i < 100; i++ {
						d.writeBytes(zeroAVP)
						raw, h, err := d.readMessage(time.Now().Add(2 * time.Second))
						if err != nil {
							return
						}
						m, _ := decode(raw)
						rc, _ := findU32(m, avpResultCode)
						if h.Command == cx.CmdMultimediaAuth {
							answers <- rc
						}
					}
				}
				d.writeBytes(shortHeader)
				io.Copy(io.Discard, c)
			}()
		}
	}()
	node := NewNode("scscf", 1, sinkCore{})
	go node.Run()
	defer node.Stop()
	go func() {
		for range node.Errors {
		}
	}()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	total0 := ms.TotalAlloc
	dc := &DiameterClient{Node: node, OriginHost: "scscf.ims.test", OriginRealm: "ims.test", Tc: 5 * time.Millisecond}
	dc.Start(ln.Addr().String())
	defer dc.Close()
	for i := 0; i < 100; i++ {
		select {
		case rc := <-answers:
			if rc != cx.InvalidAVPLength {
				t.Fatalf("answer %d: Result-Code %d", i, rc)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("answer %d missing; counters %v", i, dc.Counters())
		}
	}
	for i := 0; i < 100; i++ {
		select {
		case <-sessions:
		case <-time.After(3 * time.Second):
			t.Fatalf("session %d missing; counters %v", i, dc.Counters())
		}
	}
	runtime.ReadMemStats(&ms)
	if grown := ms.TotalAlloc - total0; grown > 64<<20 {
		t.Errorf("the hostile HSS made the client allocate %d MB", grown>>20)
	}
	if c := dc.Counters(); c["diameter.rejected.short_length"] < 99 || c["diameter.answered.5014"] != 100 {
		t.Errorf("counters %v", c)
	}
}
