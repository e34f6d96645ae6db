package live

import (
	"testing"
	"time"

	"github.com/fiorix/go-diameter/v4/diam"
	"github.com/fiorix/go-diameter/v4/diam/avp"
	"github.com/fiorix/go-diameter/v4/diam/datatype"
	"github.com/fiorix/go-diameter/v4/diam/sm"

	"github.com/regstorm/regstorm/hss"
	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/internal/aka"
	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/sim"
)

// startHSS runs the HSS core live on a loopback port.
func startHSS(t testing.TB, marLatency time.Duration, faults ...hss.Fault) (string, subscriber.Population) {
	t.Helper()
	impi, _ := subscriber.ParseTemplate("user{n}@ims.test")
	impu, _ := subscriber.ParseTemplate("sip:user{n}@ims.test")
	pop := subscriber.Population{Count: 10, Realm: "ims.test", IMPI: impi, IMPU: impu, AMF: 0x8000, KeySeed: 9}
	core, err := hss.New(hss.Config{OriginHost: "localhost", OriginRealm: "ims.test", Population: pop,
		MARLatency: sim.Constant{D: marLatency}, SARLatency: sim.Constant{}, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	node := NewNode("hss", 1, core)
	if len(faults) > 0 {
		node.Arm(0, hss.StartKey)
	}
	go node.Run()
	t.Cleanup(node.Stop)
	srv := &DiameterServer{Node: node, OriginHost: "localhost", OriginRealm: "ims.test"}
	addr, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return addr.String(), pop
}

// cxClient connects a go-diameter client (CER/CEA) whose MAAs and SAAs
// arrive on the returned channel.
func cxClient(t testing.TB, addr string) (<-chan struct{}, diam.Conn, chan *diam.Message) {
	t.Helper()
	answers := make(chan *diam.Message, 1024)
	mux := sm.New(&sm.Settings{OriginHost: "scscf.ims.test", OriginRealm: "ims.test", VendorID: cx.VendorID,
		ProductName: "regstorm-test", Dict: cx.Dict()})
	for _, code := range []uint32{cx.CmdMultimediaAuth, cx.CmdServerAssignment} {
		mux.HandleIdx(diam.CommandIndex{AppID: cx.AppID, Code: code, Request: false},
			diam.HandlerFunc(func(c diam.Conn, m *diam.Message) { answers <- m }))
	}
	cli := &sm.Client{Dict: cx.Dict(), Handler: mux, MaxRetransmits: 1, RetransmitInterval: time.Second,
		VendorSpecificApplicationID: []*diam.AVP{diam.NewAVP(avp.VendorSpecificApplicationID, avp.Mbit, 0, &diam.GroupedAVP{AVP: []*diam.AVP{
			diam.NewAVP(avp.AuthApplicationID, avp.Mbit, 0, datatype.Unsigned32(cx.AppID)),
			diam.NewAVP(avp.VendorID, avp.Mbit, 0, datatype.Unsigned32(cx.VendorID))}})}}
	conn, err := cli.DialNetwork("tcp", addr)
	if err != nil {
		t.Fatalf("CER/CEA with the live HSS: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	// Asked before any read blocks: go-diameter swaps in its close
	// detector between reads.
	return conn.(diam.CloseNotifier).CloseNotify(), conn, answers
}

func sendMAR(t *testing.T, conn diam.Conn, hbh uint32) {
	t.Helper()
	req, _ := cx.Encode(&cx.MAR{Header: cx.Header{SessionID: "s;" + itoa(uint64(hbh)), HopByHop: hbh, EndToEnd: hbh, OriginHost: "scscf.ims.test",
		OriginRealm: "ims.test", DestRealm: "ims.test"}, UserName: "user3@ims.test", PublicIdentity: "sip:user3@ims.test",
		ServerName: "sip:scscf.ims.test:6060", NumAuthItems: 1, Scheme: cx.SchemeAKAv1})
	req.WriteTo(conn)
}

func closed(gone <-chan struct{}, within time.Duration) bool {
	select {
	case <-gone:
		return true
	case <-time.After(within):
		return false
	}
}

// writeFails reports whether the peer has closed conn: after the peer's
// close the first write draws a RST and a later one fails.
func writeFails(conn diam.Conn) bool {
	for i := 0; i < 20; i++ {
		if _, err := conn.Write([]byte{1, 0, 0, 20, 0x80, 0, 1, 24, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 9}); err != nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// A peer_down fault phase closes the live HSS's Diameter connections at
// its start, closes any connection that sends a request during it (the
// request is lost), and the HSS answers again once it ends.
func TestLiveHSSPeerDown(t *testing.T) {
	addr, _ := startHSS(t, 0, hss.Fault{Kind: hss.FaultPeerDown, At: 400 * time.Millisecond, For: 600 * time.Millisecond})
	start := time.Now()
	gone, conn, answers := cxClient(t, addr)
	sendMAR(t, conn, 1)
	select {
	case <-answers:
	case <-time.After(2 * time.Second):
		t.Fatal("no MAA before the fault")
	}
	if !closed(gone, 2*time.Second) {
		t.Fatal("the connection survives peer_down")
	}
	if d := time.Since(start); d < 350*time.Millisecond {
		t.Fatalf("closed after %v, the phase starts at 400 ms", d)
	}
	gone, conn, answers = cxClient(t, addr) // CER/CEA still works: the socket accepts
	sendMAR(t, conn, 2)
	if !closed(gone, 300*time.Millisecond) && !writeFails(conn) {
		t.Fatal("a request during peer_down leaves its connection open")
	}
	select {
	case <-answers:
		t.Fatal("answered during peer_down")
	default:
	}
	time.Sleep(time.Until(start.Add(1100 * time.Millisecond)))
	_, conn, answers = cxClient(t, addr)
	sendMAR(t, conn, 3)
	select {
	case m := <-answers:
		if maa, err := cx.Decode(m); err != nil || maa.(*cx.MAA).ResultCode != cx.DiameterSuccess {
			t.Fatalf("MAA after the fault: %+v %v", maa, err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no MAA after the fault")
	}
}

// A go-diameter client (CER/CEA through the state machine) gets a real
// Milenage vector in the MAA, after the injected latency, and a 2001 SAA.
func TestLiveHSSOverTCP(t *testing.T) {
	addr, pop := startHSS(t, 50*time.Millisecond)
	_, conn, answers := cxClient(t, addr)
	req, _ := cx.Encode(&cx.MAR{Header: cx.Header{SessionID: "s;1", HopByHop: 77, EndToEnd: 78, OriginHost: "scscf.ims.test",
		OriginRealm: "ims.test", DestRealm: "ims.test"}, UserName: "user3@ims.test", PublicIdentity: "sip:user3@ims.test",
		ServerName: "sip:scscf.ims.test:6060", NumAuthItems: 1, Scheme: cx.SchemeAKAv1})
	sent := time.Now()
	if _, err := req.WriteTo(conn); err != nil {
		t.Fatal(err)
	}
	var ans *diam.Message
	select {
	case ans = <-answers:
	case <-time.After(5 * time.Second):
		t.Fatal("no MAA")
	}
	if took := time.Since(sent); took < 50*time.Millisecond {
		t.Errorf("MAA after %v, injected latency 50 ms", took)
	}
	m, err := cx.Decode(ans)
	if err != nil {
		t.Fatal(err)
	}
	maa := m.(*cx.MAA)
	keys := pop.KeysOf(3)
	if _, err := aka.Verify(&keys, maa.Items[0].Authenticate); err != nil || maa.ResultCode != cx.DiameterSuccess || maa.HopByHop != 77 {
		t.Fatalf("MAA %+v: %v", maa, err)
	}
	req, _ = cx.Encode(&cx.SAR{Header: cx.Header{SessionID: "s;2", HopByHop: 79, EndToEnd: 80, OriginHost: "scscf.ims.test",
		OriginRealm: "ims.test", DestRealm: "ims.test"}, UserName: "user3@ims.test", PublicIdentity: "sip:user3@ims.test",
		ServerName: "sip:scscf.ims.test:6060", AssignmentType: cx.Registration})
	req.WriteTo(conn)
	select {
	case ans = <-answers:
	case <-time.After(5 * time.Second):
		t.Fatal("no SAA")
	}
	m, err = cx.Decode(ans)
	if saa, ok := m.(*cx.SAA); err != nil || !ok || saa.ResultCode != cx.DiameterSuccess || len(saa.UserData) == 0 {
		t.Fatalf("SAA %+v %v", m, err)
	}
}

// BenchmarkLiveHSSMAA measures the live HSS's MAR→MAA rate on one Diameter
// connection (loopback, 64 requests in flight, no injected latency; client
// and server share the 2 cores).
func BenchmarkLiveHSSMAA(b *testing.B) {
	addr, _ := startHSS(b, 0)
	_, conn, answers := cxClient(b, addr)
	const window = 64
	sent := 0
	send := func() {
		sent++
		req, _ := cx.Encode(&cx.MAR{Header: cx.Header{SessionID: "s", HopByHop: uint32(sent), EndToEnd: uint32(sent), OriginHost: "scscf.ims.test",
			OriginRealm: "ims.test", DestRealm: "ims.test"}, UserName: "user3@ims.test", PublicIdentity: "sip:user3@ims.test",
			ServerName: "sip:s", NumAuthItems: 1, Scheme: cx.SchemeAKAv1})
		req.WriteTo(conn)
	}
	b.ResetTimer()
	for i := 0; i < min(window, b.N); i++ {
		send()
	}
	for got := 0; got < b.N; got++ {
		<-answers
		if sent < b.N {
			send()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "MAA/s")
}
