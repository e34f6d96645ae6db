package live

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regstorm/regstorm/hss"
	"github.com/regstorm/regstorm/internal/aka"
	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/internal/sipwire"
	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/scscf"
	"github.com/regstorm/regstorm/sim"
	"github.com/regstorm/regstorm/ue"
)

// sipLab is a live S-CSCF (the scscf core behind a SIPServer on UDP and TCP)
// with regstorm's own HSS on loopback.
type sipLab struct {
	t        *testing.T
	srv      *SIPServer
	udp, tcp string
	pop      subscriber.Population

	mu   sync.Mutex
	errs []string
}

const sipLabDomain = "ims.test"

func sipLabPopulation(t testing.TB) subscriber.Population {
	impi, err := subscriber.ParseTemplate("user{n}@" + sipLabDomain)
	if err != nil {
		t.Fatal(err)
	}
	impu, _ := subscriber.ParseTemplate("sip:user{n}@" + sipLabDomain)
	return subscriber.Population{Count: 200, Realm: sipLabDomain, IMPI: impi, IMPU: impu, AMF: 0x8000, KeySeed: 11}
}

// drainErrors keeps a node's reports for the test log (and keeps the
// channel from filling).
func (l *sipLab) drainErrors(n *Node, done chan struct{}) {
	for {
		select {
		case err := <-n.Errors:
			l.mu.Lock()
			if len(l.errs) < 200 {
				l.errs = append(l.errs, err.Error())
			}
			l.mu.Unlock()
		case <-done:
			return
		}
	}
}

func (l *sipLab) reports() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}

// startSIPLab starts the HSS, the S-CSCF node with its Cx client and the
// SIP server (mut sets its limits before it listens), and waits until the
// S-CSCF challenges a REGISTER (the Cx connection is up).
func startSIPLab(t *testing.T, mut func(*SIPServer)) *sipLab {
	t.Helper()
	l := &sipLab{t: t, pop: sipLabPopulation(t)}
	done := make(chan struct{})
	hcore, err := hss.New(hss.Config{OriginHost: "hss." + sipLabDomain, OriginRealm: sipLabDomain, Population: l.pop,
		MARLatency: sim.Constant{}, SARLatency: sim.Constant{}})
	if err != nil {
		t.Fatal(err)
	}
	hnode := NewNode("hss", 1, hcore)
	go hnode.Run()
	go l.drainErrors(hnode, done)
	hsrv := &DiameterServer{Node: hnode, OriginHost: "hss." + sipLabDomain, OriginRealm: sipLabDomain}
	haddr, err := hsrv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := scscf.Defaults()
	cfg.Realm, cfg.OriginRealm, cfg.OriginHost, cfg.RealPeer = sipLabDomain, sipLabDomain, "scscf."+sipLabDomain, true
	cfg.Collector = results.NewCollector()
	node := NewNode("scscf", 1, nil)
	go l.drainErrors(node, done)
	dc := &DiameterClient{Node: node, OriginHost: cfg.OriginHost, OriginRealm: cfg.OriginRealm, Tc: 200 * time.Millisecond}
	cfg.HSS = dc.Start(haddr.String())
	core, err := scscf.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	core.PeerDown = true // until the Cx connection is open
	node.SetCore(core)
	l.srv = &SIPServer{Node: node}
	if mut != nil {
		mut(l.srv)
	}
	ua, err := l.srv.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ta, err := l.srv.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.udp, l.tcp = ua.String(), ta.String()
	go node.Run()
	t.Cleanup(func() {
		l.srv.Close()
		dc.Close()
		node.Stop()
		hsrv.Close()
		hnode.Stop()
		close(done)
		if t.Failed() {
			for _, e := range l.reports() {
				t.Log("report:", e)
			}
		}
	})
	// The Cx link is up once a REGISTER is challenged.
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		resp := udpExchange(t, l.udp, []byte(l.register(0, "z9hG4bKwarm"+strconv.Itoa(i), "")), 100*time.Millisecond)
		if statusOf(resp) == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the live S-CSCF does not challenge: %q", resp)
		}
	}
	return l
}

// register renders a REGISTER of subscriber n (without credentials beyond
// the username, so it is challenged) with extra header lines.
func (l *sipLab) register(n uint32, branch string, extra string) string {
	return "REGISTER sip:" + sipLabDomain + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5099;branch=" + branch + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <" + l.pop.IMPU.Format(n) + ">;tag=f" + branch + "\r\n" +
		"To: <" + l.pop.IMPU.Format(n) + ">\r\n" +
		"Call-ID: " + branch + "@regstorm.test\r\n" +
		"CSeq: 1 REGISTER\r\n" +
		"Contact: <sip:ue" + strconv.Itoa(int(n)) + "@127.0.0.1:5099>\r\n" +
		`Authorization: Digest username="` + l.pop.IMPI.Format(n) + `", realm="` + sipLabDomain + `", nonce="", uri="sip:` + sipLabDomain + `", response=""` + "\r\n" +
		"Expires: 600000\r\n" + extra +
		"Content-Length: 0\r\n\r\n"
}

// udpExchange sends one datagram from a fresh socket and returns the first
// answer, nil after wait.
func udpExchange(t testing.TB, addr string, msg []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	return readUDP(c, wait)
}

func readUDP(c net.Conn, wait time.Duration) []byte {
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65536)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// tcpExchange sends bytes on a fresh connection and returns the first
// framed answer (nil after wait or when the server closes first) and
// whether the server closed the connection within wait after it.
func tcpExchange(t testing.TB, addr string, msg []byte, wait time.Duration) (resp []byte, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(msg); err != nil {
		return nil, true
	}
	return readTCP(c, wait)
}

func readTCP(c net.Conn, wait time.Duration) (resp []byte, closed bool) {
	c.SetReadDeadline(time.Now().Add(wait))
	var f sipwire.Framer
	buf := make([]byte, 65536)
	for {
		n, err := c.Read(buf)
		f.Write(buf[:n])
		if resp == nil {
			if m, _ := f.Next(); m != nil {
				resp = m
				c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)) // a close right after the answer?
			}
		}
		if err != nil {
			ne, ok := err.(net.Error)
			return resp, !(ok && ne.Timeout())
		}
	}
}

func statusOf(resp []byte) int {
	if !bytes.HasPrefix(resp, []byte("SIP/2.0 ")) || len(resp) < 11 {
		return 0
	}
	n, _ := strconv.Atoi(string(resp[8:11]))
	return n
}

// headerLines returns the values of every header line named name (or its
// compact form) in a message, in order.
func headerLines(msg []byte, names ...string) []string {
	var out []string
	head, _, _ := strings.Cut(string(msg), "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n")[1:] {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, n := range names {
			if strings.EqualFold(strings.TrimSpace(name), n) {
				out = append(out, strings.TrimSpace(value))
			}
		}
	}
	return out
}

// waitCounter waits until a counter reaches want (the server counts after
// it has acted).
func waitCounter(t testing.TB, counters func() map[string]uint64, key string, want uint64) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for counters()[key] < want {
		if time.Now().After(deadline) {
			t.Fatalf("counter %s = %d, want %d; counters %v", key, counters()[key], want, counters())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// RFC 3261 §8.2.6.2: a REGISTER's 401 carries the request's Via header
// fields, all of them, in order, with branch and sent-by unchanged (a
// header field listing two via-parms comes back as it was), and its
// From, To (plus a tag), Call-ID and CSeq; over UDP and over TCP.
func TestSIPServerRFC3261_8_2_6_2_ResponseCopiesRequest(t *testing.T) {
	l := startSIPLab(t, nil)
	for _, transport := range []string{"UDP", "TCP"} {
		branch := "z9hG4bKcopy" + transport
		vias := "Via: SIP/2.0/" + transport + " 127.0.0.1:5099;branch=" + branch + ";x-param=1\r\n" +
			"Via: SIP/2.0/UDP pcscf.ims.test:5070;branch=z9hG4bKpcscf1;received=192.0.2.7\r\n" +
			"Via: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKue1, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKue0\r\n"
		msg := strings.Replace(l.register(7, branch, ""), "Via: SIP/2.0/UDP 127.0.0.1:5099;branch="+branch+"\r\n", vias, 1)
		msg = strings.Replace(msg, "From: <sip:user7@ims.test>;tag=f"+branch, `From: "User Seven" <sip:user7@ims.test>;tag=f7;x=y`, 1)
		var resp []byte
		if transport == "UDP" {
			resp = udpExchange(t, l.udp, []byte(msg), 3*time.Second)
		} else {
			resp, _ = tcpExchange(t, l.tcp, []byte(msg), 3*time.Second)
		}
		if statusOf(resp) != 401 {
			t.Fatalf("%s: answer %q, want 401", transport, resp)
		}
		want := []string{"SIP/2.0/" + transport + " 127.0.0.1:5099;branch=" + branch + ";x-param=1",
			"SIP/2.0/UDP pcscf.ims.test:5070;branch=z9hG4bKpcscf1;received=192.0.2.7",
			"SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKue1, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKue0"}
		if got := headerLines(resp, "Via", "v"); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: Via\n got %q\nwant %q", transport, got, want)
		}
		if got := headerLines(resp, "From", "f"); len(got) != 1 || got[0] != `"User Seven" <sip:user7@ims.test>;tag=f7;x=y` {
			t.Errorf("%s: From %q", transport, got)
		}
		if got := headerLines(resp, "To", "t"); len(got) != 1 || !strings.HasPrefix(got[0], "<sip:user7@ims.test>;tag=") {
			t.Errorf("%s: To %q, want the request's with a tag", transport, got)
		}
		if got := headerLines(resp, "Call-ID", "i"); len(got) != 1 || got[0] != branch+"@regstorm.test" {
			t.Errorf("%s: Call-ID %q", transport, got)
		}
		if got := headerLines(resp, "CSeq"); len(got) != 1 || got[0] != "1 REGISTER" {
			t.Errorf("%s: CSeq %q", transport, got)
		}
	}
}

// RFC 3261 §18.2.1: when the top Via's sent-by is not the packet's source
// the server adds received; RFC 3581 §4: an empty rport gets the source
// port. The answer still goes to the source address.
func TestSIPServerRFC3261_18_2_1_Received(t *testing.T) {
	l := startSIPLab(t, nil)
	msg := strings.Replace(l.register(8, "z9hG4bKrcv", ""), "Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKrcv",
		"Via: SIP/2.0/UDP ue8.invalid:5099;rport;branch=z9hG4bKrcv", 1)
	c, err := net.Dial("udp", l.udp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(msg))
	resp := readUDP(c, 3*time.Second)
	port := c.LocalAddr().(*net.UDPAddr).Port
	want := "SIP/2.0/UDP ue8.invalid:5099;rport=" + strconv.Itoa(port) + ";branch=z9hG4bKrcv;received=127.0.0.1"
	if got := headerLines(resp, "Via"); statusOf(resp) != 401 || len(got) != 1 || got[0] != want {
		t.Fatalf("answer %d Via %q, want 401 with %q", statusOf(resp), got, want)
	}
}

// RFC 3261 §8.2.1: OPTIONS (known, not served) gets 405 with Allow; an
// unknown method 501; §21.5.6: SIP/7.0 gets 505; an ACK nothing; a CANCEL
// matching nothing 481 (§9.2) and one matching a REGISTER 200.
func TestSIPServerMethodsAndVersion(t *testing.T) {
	l := startSIPLab(t, nil)
	options := "OPTIONS sip:" + sipLabDomain + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKopt\r\nMax-Forwards: 70\r\n" +
		"From: <sip:user1@ims.test>;tag=1\r\nTo: <sip:" + sipLabDomain + ">\r\nCall-ID: opt@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	resp := udpExchange(t, l.udp, []byte(options), 3*time.Second)
	if statusOf(resp) != 405 || strings.Join(headerLines(resp, "Allow"), ",") != "REGISTER" ||
		strings.Join(headerLines(resp, "CSeq"), "") != "1 OPTIONS" {
		t.Errorf("OPTIONS answered %q, want 405 with Allow: REGISTER", resp)
	}
	unknown := strings.ReplaceAll(options, "OPTIONS", "FROBNICATE")
	if resp := udpExchange(t, l.udp, []byte(unknown), 3*time.Second); statusOf(resp) != 501 {
		t.Errorf("FROBNICATE answered %q, want 501", resp)
	}
	v7 := strings.Replace(l.register(2, "z9hG4bKv7", ""), "REGISTER sip:ims.test SIP/2.0", "REGISTER sip:ims.test SIP/7.0", 1)
	if resp := udpExchange(t, l.udp, []byte(v7), 3*time.Second); statusOf(resp) != 505 {
		t.Errorf("SIP/7.0 answered %q, want 505", resp)
	}
	ack := strings.ReplaceAll(options, "OPTIONS", "ACK")
	if resp := udpExchange(t, l.udp, []byte(ack), 200*time.Millisecond); resp != nil {
		t.Errorf("ACK answered %q", resp)
	}
	waitCounter(t, l.srv.Counters, "sip.ignored.ack", 1)
	cancel := strings.ReplaceAll(options, "OPTIONS", "CANCEL")
	if resp := udpExchange(t, l.udp, []byte(cancel), 3*time.Second); statusOf(resp) != 481 {
		t.Errorf("CANCEL for nothing answered %q, want 481", resp)
	}
	reg := l.register(3, "z9hG4bKtocancel", "")
	udpExchange(t, l.udp, []byte(reg), 3*time.Second)
	cancel = strings.Replace(strings.Replace(reg, "REGISTER sip:", "CANCEL sip:", 1), "CSeq: 1 REGISTER", "CSeq: 1 CANCEL", 1)
	if resp := udpExchange(t, l.udp, []byte(cancel), 3*time.Second); statusOf(resp) != 200 {
		t.Errorf("CANCEL of a REGISTER answered %q, want 200", resp)
	}
	c := l.srv.Counters()
	if c["sip.rejected.405"] != 1 || c["sip.rejected.501"] != 1 || c["sip.rejected.505"] != 1 || c["sip.rejected.481"] != 1 ||
		c["sip.answered.cancel"] != 1 {
		t.Errorf("counters %v", c)
	}
}

// akaAnswer computes the authenticated REGISTER of subscriber n for a 401
// (RFC 3310 §3.4) with extra header lines.
func (l *sipLab) akaAnswer(t *testing.T, n uint32, resp []byte, branch, expires, extra string) string {
	t.Helper()
	var nonce, realm string
	for _, w := range headerLines(resp, "WWW-Authenticate") {
		for _, part := range strings.Split(w[len("Digest "):], ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch k {
			case "nonce":
				nonce = strings.Trim(v, `"`)
			case "realm":
				realm = strings.Trim(v, `"`)
			}
		}
	}
	raw, err := base64.StdEncoding.DecodeString(nonce)
	if err != nil {
		t.Fatalf("nonce %q: %v", nonce, err)
	}
	keys := l.pop.KeysOf(n)
	res, err := aka.Verify(&keys, raw)
	if err != nil {
		t.Fatal(err)
	}
	p := aka.DigestParams{Username: l.pop.IMPI.Format(n), Realm: realm, Nonce: nonce, Method: "REGISTER", URI: "sip:" + sipLabDomain,
		QOP: "auth", NC: "00000001", CNonce: "0a1b2c"}
	auth := fmt.Sprintf(`Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=AKAv1-MD5, qop=auth, nc=00000001, cnonce="0a1b2c"`,
		p.Username, realm, nonce, p.URI, aka.AKAv1Response(res.RES[:], &p))
	msg := strings.Replace(l.register(n, branch, extra), "Expires: 600000", "Expires: "+expires, 1)
	msg = strings.Replace(msg, "CSeq: 1 REGISTER", "CSeq: 2 REGISTER", 1)
	lines := strings.Split(msg, "\r\n")
	for i, line := range lines {
		if strings.HasPrefix(line, "Authorization:") {
			lines[i] = auth
		}
	}
	return strings.Join(lines, "\r\n")
}

// RFC 3261 §20.19 (RFC 4475 §3.1.2.4): Expires: 4294967296 is taken as
// 2^32-1, never wrapped to 0: the registration succeeds with a positive
// expires (max_expires 0 in 5.6: unlimited); the same for a contact
// expires parameter.
func TestSIPServerHugeExpiresIsNotADeregistration(t *testing.T) {
	l := startSIPLab(t, nil)
	for i, c := range []struct{ expires, contactParam string }{{"4294967296", ""}, {"600", "99999999999999999999"}} {
		n := uint32(20 + i)
		ch := udpExchange(t, l.udp, []byte(l.register(n, "z9hG4bKbig"+strconv.Itoa(i), "")), 3*time.Second)
		if statusOf(ch) != 401 {
			t.Fatalf("challenge %q", ch)
		}
		msg := l.akaAnswer(t, n, ch, "z9hG4bKbig2"+strconv.Itoa(i), c.expires, "")
		if c.contactParam != "" {
			msg = strings.Replace(msg, "@127.0.0.1:5099>", "@127.0.0.1:5099>;expires="+c.contactParam, 1)
		}
		ok := udpExchange(t, l.udp, []byte(msg), 3*time.Second)
		contact := headerLines(ok, "Contact")
		if statusOf(ok) != 200 || len(contact) != 1 {
			t.Fatalf("%+v: answer %q, want 200", c, ok)
		}
		_, e, _ := strings.Cut(contact[0], ";expires=")
		if got, err := strconv.ParseInt(e, 10, 64); err != nil || got <= 0 || got > sipmsg.MaxExpires {
			t.Errorf("%+v: 200 OK contact %q: want a positive expires of at most 2^32-1", c, contact[0])
		}
	}
}

// RFC 3261 §18.1.1: a UDP datagram of up to 65,535 bytes is accepted: a
// 60,000-byte REGISTER is answered.
func TestSIPServerLargeUDPDatagram(t *testing.T) {
	l := startSIPLab(t, nil)
	msg := l.register(4, "z9hG4bKlarge", "X-Padding: "+strings.Repeat("p", 60000-800)+"\r\n")
	for len(msg) < 60000 {
		msg = strings.Replace(msg, "X-Padding: ", "X-Padding: p", 1)
	}
	if len(msg) > 60100 {
		t.Fatalf("message of %d bytes", len(msg))
	}
	if resp := udpExchange(t, l.udp, []byte(msg), 3*time.Second); statusOf(resp) != 401 {
		t.Fatalf("a %d-byte REGISTER answered %q, want 401", len(msg), resp)
	}
}

// A TCP message over the 65,535-byte limit is refused: answered 413 when
// its header section is complete, the connection closed, counted.
func TestSIPServerOversizeTCPMessage(t *testing.T) {
	l := startSIPLab(t, nil)
	body := strings.Repeat("b", 70000)
	msg := strings.Replace(l.register(5, "z9hG4bKhuge", ""), "Content-Length: 0\r\n\r\n", "Content-Type: text/plain\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body, 1)
	resp, closed := tcpExchange(t, l.tcp, []byte(msg), 3*time.Second)
	if statusOf(resp) != 413 || !closed {
		t.Fatalf("a %d-byte message answered %q (closed %v), want 413 and a close", len(msg), resp, closed)
	}
	// Headers alone over the limit: closed without an answer.
	resp, closed = tcpExchange(t, l.tcp, []byte("REGISTER sip:ims.test SIP/2.0\r\nX-Long: "+strings.Repeat("h", 70000)), 3*time.Second)
	if resp != nil || !closed {
		t.Fatalf("an endless header answered %q (closed %v), want a close", resp, closed)
	}
	waitCounter(t, l.srv.Counters, "sip.dropped.oversize", 2)
}

// Slowloris: connections that send a partial header section and then
// trickle are closed at the header timeout; a connection that says nothing
// at the idle timeout; each counted.
func TestSIPServerTCPTimeouts(t *testing.T) {
	l := startSIPLab(t, func(s *SIPServer) {
		s.HeaderTimeout, s.IdleTimeout, s.BodyTimeout = 300*time.Millisecond, 600*time.Millisecond, 300*time.Millisecond
	})
	const slow = 5
	var conns []net.Conn
	for i := 0; i < slow; i++ {
		c, err := net.Dial("tcp", l.tcp)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("REGISTER sip:ims.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKslow\r\n"))
		conns = append(conns, c)
	}
	idle, err := net.Dial("tcp", l.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	body, err := net.Dial("tcp", l.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	body.Write([]byte(strings.Replace(l.register(6, "z9hG4bKbody", ""), "Content-Length: 0", "Content-Length: 10", 1) + "12345"))
	start := time.Now()
	for time.Since(start) < 200*time.Millisecond { // trickle: a byte every 20 ms does not extend the deadline
		for _, c := range conns {
			c.Write([]byte("X"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, c := range conns {
		if _, closed := readTCP(c, 2*time.Second); !closed {
			t.Fatalf("slow connection %d still open after %v", i, time.Since(start))
		}
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("slow connections closed after %v, header timeout 300 ms", d)
	}
	if _, closed := readTCP(body, 2*time.Second); !closed {
		t.Fatal("a connection stuck in a body stays open")
	}
	if _, closed := readTCP(idle, 3*time.Second); !closed {
		t.Fatal("an idle connection stays open")
	}
	waitCounter(t, l.srv.Counters, "sip.tcp.header_timeout", slow)
	waitCounter(t, l.srv.Counters, "sip.tcp.body_timeout", 1)
	waitCounter(t, l.srv.Counters, "sip.tcp.idle_timeout", 1)
	// The server still answers.
	if resp, _ := tcpExchange(t, l.tcp, []byte(l.register(6, "z9hG4bKafter", "")), 3*time.Second); statusOf(resp) != 401 {
		t.Fatalf("after the timeouts: %q", resp)
	}
}

// Connections beyond MaxConns are refused (closed at once) and counted;
// once some close, new ones are served.
func TestSIPServerMaxConns(t *testing.T) {
	l := startSIPLab(t, func(s *SIPServer) { s.MaxConns = 4 })
	var held []net.Conn
	for i := 0; i < 4; i++ {
		c, err := net.Dial("tcp", l.tcp)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	waitCounter(t, l.srv.Counters, "sip.tcp.accepted", 4)
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", l.tcp)
		if err != nil {
			t.Fatal(err)
		}
		if _, closed := readTCP(c, 2*time.Second); !closed {
			t.Fatalf("connection %d beyond the cap stays open", 5+i)
		}
		c.Close()
	}
	waitCounter(t, l.srv.Counters, "sip.tcp.refused_max_conns", 3)
	for _, c := range held {
		c.Close()
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		resp, _ := tcpExchange(t, l.tcp, []byte(l.register(9, "z9hG4bKcap", "")), time.Second)
		if statusOf(resp) == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no service after the held connections closed: %q", resp)
		}
	}
}

// runFleet registers n UEs of the lab's population with the real UE fleet
// over transport and reports the successes.
func (l *sipLab) runFleet(t *testing.T, transport string, n int) (succeeded uint64) {
	t.Helper()
	pop := l.pop
	pop.Count = uint32(n)
	col := results.NewCollector()
	unode := NewNode("ue", 3, nil)
	done := make(chan struct{})
	defer close(done)
	go l.drainErrors(unode, done)
	cli := &SIPClient{Node: unode}
	var peer sim.NodeID
	var err error
	if transport == "tcp" {
		peer, err = cli.DialTCP(l.tcp)
	} else {
		peer, err = cli.DialUDP("127.0.0.1:0", l.udp)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	fleet, err := ue.New(ue.Config{Population: pop, SCSCF: peer, Arrivals: &evenArrivals{n: n, gap: 2 * time.Millisecond},
		ThinkTime: sim.Constant{}, TimerF: 32 * time.Second, UDP: transport == "udp", T1: 500 * time.Millisecond, T2: 4 * time.Second,
		Expires: 600000, Collector: col})
	if err != nil {
		t.Fatal(err)
	}
	var ok atomic.Uint64
	unode.SetCore(watchSucceeded{fleet, col, &ok})
	unode.Idle = fleet.Idle
	if at, ok := fleet.First(); ok {
		unode.Arm(at, ue.StartKey)
	}
	go unode.Run()
	defer unode.Stop()
	select {
	case <-unode.Done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the fleet over %s did not finish", transport)
	}
	if c := cli.Counters(); len(c) != 0 {
		t.Errorf("client counters over %s: %v", transport, c)
	}
	return ok.Load()
}

// watchSucceeded publishes the collector's successes after every event (the
// collector belongs to the loop goroutine).
type watchSucceeded struct {
	sim.Handler
	col *results.Collector
	ok  *atomic.Uint64
}

func (w watchSucceeded) Handle(env sim.Env, ev sim.Event) {
	w.Handler.Handle(env, ev)
	w.ok.Store(w.col.Succeeded)
}

type evenArrivals struct {
	n, i int
	gap  time.Duration
}

func (a *evenArrivals) Next() (time.Duration, bool) {
	if a.i >= a.n {
		return 0, false
	}
	a.i++
	return time.Duration(a.i) * a.gap, true
}

// A small UE fleet completes AKA registrations over UDP and TCP.
func TestSIPServerFleetRegisters(t *testing.T) {
	l := startSIPLab(t, nil)
	for _, tr := range []string{"udp", "tcp"} {
		if got := l.runFleet(t, tr, 30); got != 30 {
			t.Errorf("over %s %d of 30 registrations succeeded", tr, got)
		}
	}
}

// Network text in reports is escaped and bounded: a datagram full of
// control characters and line breaks cannot forge a log line.
func TestSIPServerReportsAreEscaped(t *testing.T) {
	l := startSIPLab(t, nil)
	evil := "FAKE\x1b[31m sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKevil\r\n\r\n"
	udpExchange(t, l.udp, []byte(evil), 100*time.Millisecond)
	evil2 := "ACK\nregstorm scscf: forged line " + strings.Repeat("A", 500) + "\r\n\r\n"
	udpExchange(t, l.udp, []byte(evil2), 100*time.Millisecond)
	waitCounter(t, l.srv.Counters, "sip.dropped.unparseable", 2)
	time.Sleep(50 * time.Millisecond)
	for _, r := range l.reports() {
		if strings.ContainsAny(r, "\n\r\x1b") || len(r) > 400 || strings.Contains(r, "forged") {
			t.Errorf("report carries raw network text: %q", r)
		}
	}
}

// Responses arriving at the server are stray: counted and dropped.
func TestSIPServerStrayResponse(t *testing.T) {
	l := startSIPLab(t, nil)
	resp := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKstray\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\n" +
		"Call-ID: stray@x\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
	if got := udpExchange(t, l.udp, []byte(resp), 200*time.Millisecond); got != nil {
		t.Fatalf("a response was answered: %q", got)
	}
	waitCounter(t, l.srv.Counters, "sip.dropped.stray_response", 1)
}
