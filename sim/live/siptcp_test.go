package live

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/internal/sipwire"
	"github.com/regstorm/regstorm/sim"
)

// echoCore answers every REGISTER with a 200 carrying the request's keys.
type echoCore struct{}

func (echoCore) Handle(env sim.Env, ev sim.Event) {
	if r, ok := ev.Msg.(*sipmsg.Request); ok {
		env.Send(ev.From, &sipmsg.Response{Code: 200, Reason: "OK", CallID: r.CallID, Branch: r.Branch,
			FromTag: r.FromTag, To: r.AOR, ToTag: "t1", CSeq: r.CSeq, Contact: r.Contact, Expires: r.Expires, Echo: r.Echo})
	}
}

func register(t *testing.T, i int) []byte {
	t.Helper()
	b, err := sipwire.Marshal(&sipmsg.Request{CallID: "c" + itoa(uint64(i)), Branch: "z9hG4bK" + itoa(uint64(i)), FromTag: "f",
		CSeq: uint32(i), RequestURI: "sip:ims.test", AOR: "sip:user@ims.test", Contact: "sip:user@127.0.0.1:5070", Expires: 600},
		sipwire.Endpoint{Transport: "TCP", Host: "127.0.0.1", Port: 5070})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 3261 §18.3: over a stream, messages are framed by Content-Length;
// two REGISTERs in one segment and one split across segments all reach the
// core, each answered on the same connection; garbage is counted and closes
// the connection.
func TestSIPServerTCPFraming(t *testing.T) {
	node := NewNode("scscf", 1, echoCore{})
	go node.Run()
	defer node.Stop()
	srv := &SIPServer{Node: node}
	addr, err := srv.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	one, two, three := register(t, 1), register(t, 2), register(t, 3)
	conn.Write(append(one, two...))
	conn.Write(three[:len(three)/2])
	time.Sleep(50 * time.Millisecond)
	conn.Write(three[len(three)/2:])
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	rd := bufio.NewReader(conn)
	for i := 1; i <= 3; i++ {
		status, err := rd.ReadString('\n')
		if err != nil || !strings.HasPrefix(status, "SIP/2.0 200") {
			t.Fatalf("response %d: %q %v", i, status, err)
		}
		length := -1
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if line == "\r\n" {
				break
			}
			if strings.HasPrefix(strings.ToLower(line), "call-id:") && strings.TrimSpace(line[8:]) != "c"+itoa(uint64(i)) {
				t.Fatalf("response %d has %q", i, line)
			}
			if strings.HasPrefix(strings.ToLower(line), "content-length:") {
				length = 0
			}
		}
		if length < 0 {
			t.Fatalf("response %d has no Content-Length", i)
		}
	}
	conn.Write([]byte("NOT SIP AT ALL\r\n\r\n"))
	if _, err := rd.ReadByte(); err == nil {
		t.Fatal("connection stays open after garbage")
	}
	waitCounter(t, srv.Counters, "sip.tcp.framing_error", 1)
}

// Over UDP each datagram is one message: a REGISTER is answered to its
// source address, a garbage datagram is counted and the server keeps
// serving.
func TestSIPServerUDP(t *testing.T) {
	node := NewNode("scscf", 1, echoCore{})
	go node.Run()
	defer node.Stop()
	srv := &SIPServer{Node: node}
	addr, err := srv.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	conn, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("GARBAGE\r\n\r\n"))
	conn.Write(register(t, 7))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") || !strings.Contains(string(buf[:n]), "c7") {
		for len(node.Errors) > 0 {
			t.Log(<-node.Errors)
		}
		t.Fatalf("answer %q %v", buf[:n], err)
	}
	if got := srv.Counters()["sip.dropped.unparseable"]; got != 1 {
		t.Fatalf("unparseable %d, want 1: %v", got, srv.Counters())
	}
}
