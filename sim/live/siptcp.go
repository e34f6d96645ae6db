package live

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/sim"
)

// readStream reads SIP messages from a TCP stream (framed by
// Content-Length, RFC 3261 §18.3) with sipgo's stream parser and passes
// each to deliver; it returns when the connection closes.
func readStream(conn net.Conn, node *Node, bad *atomic.Uint64, deliver func(m any)) {
	p := sip.NewParser().NewSIPStream()
	buf := make([]byte, 64<<10)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			perr := p.ParseSIPStream(buf[:n], func(msg sip.Message) {
				m, err := sipmsg.FromSIP(msg)
				if err != nil {
					bad.Add(1)
					node.report(err)
					return
				}
				deliver(m)
			})
			if perr != nil && !errors.Is(perr, sip.ErrParseSipPartial) {
				bad.Add(1)
				node.report(fmt.Errorf("live: SIP stream from %s: %w", conn.RemoteAddr(), perr))
				conn.Close()
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				node.report(fmt.Errorf("live: SIP read from %s: %w", conn.RemoteAddr(), err))
			}
			return
		}
	}
}

// DialTCP connects the client to a SIP target over TCP (no Timer E: RFC
// 3261 §17.1.2.2 retransmits only over unreliable transports).
func (c *SIPClient) DialTCP(target string) (sim.NodeID, error) {
	conn, err := net.Dial("tcp", target)
	if err != nil {
		return 0, fmt.Errorf("live: SIP over TCP to %s: %w", target, err)
	}
	la := conn.LocalAddr().(*net.TCPAddr)
	c.ep = sipmsg.Endpoint{Transport: "TCP", Host: la.IP.String(), Port: la.Port}
	var mu sync.Mutex
	c.peer = c.Node.AddPeer(func(msg sim.Message) error {
		b, err := sipmsg.Marshal(msg, c.ep)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if _, err := conn.Write(b); err != nil {
			return fmt.Errorf("live: SIP send over TCP: %w", err)
		}
		return nil
	})
	c.tcp = conn
	go readStream(conn, c.Node, &c.BadMessages, func(m any) {
		if r, ok := m.(*sipmsg.Response); ok {
			c.Node.Deliver(c.peer, r)
		}
	})
	return c.peer, nil
}
