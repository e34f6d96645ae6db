package live

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/internal/sipwire"
	"github.com/regstorm/regstorm/sim"
)

// SIPClient connects a core (the UE fleet) to one SIP target over UDP or
// TCP: the core's requests are rendered with sipgo (internal/sipwire) and
// sent from one local socket or connection; responses are parsed and posted
// into the node's loop. Many UEs share the socket; the Call-ID routes a
// response to its UE. What it reads is bounded (MaxMessage; over TCP the
// project's framer, RFC 3261 §18.3) and what it cannot use is counted
// (Counters).
type SIPClient struct {
	Node *Node
	// MaxMessage is the largest message accepted, in bytes (default and
	// upper bound 65,535, RFC 3261 §18.1.1).
	MaxMessage int

	conn   *net.UDPConn
	target *net.UDPAddr
	peer   sim.NodeID
	ep     sipwire.Endpoint

	// TCP (siptcp.go)
	tcpMu     sync.Mutex
	tcp       net.Conn
	tcpTarget string
	closed    bool

	counters causeCounts
	rep      sipReporter

	// BadMessages counts messages that did not parse (also in Counters as
	// sip.dropped.unparseable).
	BadMessages atomic.Uint64
}

// Counters returns the client's counters by cause, with stable keys:
// sip.dropped.unparseable, sip.dropped.oversize, sip.dropped.request (the
// fleet serves no requests), sip.tcp.framing_error, sip.tcp.reconnects,
// sip.reports_suppressed. Zero counters are absent.
func (c *SIPClient) Counters() map[string]uint64 { return c.counters.snapshot() }

func (c *SIPClient) maxMessage() int {
	if c.MaxMessage <= 0 || c.MaxMessage > sipwire.DefaultMaxMessage {
		return sipwire.DefaultMaxMessage
	}
	return c.MaxMessage
}

// DialUDP opens a loopback (or given) local socket towards target
// ("host:port") and returns the peer id the core sends to.
func (c *SIPClient) DialUDP(local, target string) (sim.NodeID, error) {
	taddr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		return 0, fmt.Errorf("live: SIP target %q: %w", target, err)
	}
	laddr, err := net.ResolveUDPAddr("udp", local)
	if err != nil {
		return 0, fmt.Errorf("live: SIP local address %q: %w", local, err)
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return 0, fmt.Errorf("live: SIP socket: %w", err)
	}
	if err := conn.SetReadBuffer(4 << 20); err != nil {
		conn.Close()
		return 0, fmt.Errorf("live: SIP socket buffer: %w", err)
	}
	c.conn, c.target = conn, taddr
	la := conn.LocalAddr().(*net.UDPAddr)
	c.ep = sipwire.Endpoint{Transport: "UDP", Host: la.IP.String(), Port: la.Port}
	c.peer = c.Node.AddPeer(c.send)
	go c.read()
	return c.peer, nil
}

// LocalAddr is the socket's address (Via and Contact host).
func (c *SIPClient) LocalAddr() string {
	c.tcpMu.Lock()
	defer c.tcpMu.Unlock()
	return net.JoinHostPort(c.ep.Host, strconv.Itoa(c.ep.Port))
}

// Close closes the socket or connection.
func (c *SIPClient) Close() error {
	c.tcpMu.Lock()
	c.closed = true
	tcp := c.tcp
	c.tcpMu.Unlock()
	if tcp != nil {
		return tcp.Close()
	}
	if c.conn != nil {
		return c.conn.Close()
	}
	return nil
}

func (c *SIPClient) send(msg sim.Message) error {
	b, err := sipwire.Marshal(msg, c.ep)
	if err != nil {
		return err
	}
	if _, err := c.conn.WriteToUDP(b, c.target); err != nil {
		return fmt.Errorf("live: SIP send to %s: %w", c.target, err)
	}
	return nil
}

func (c *SIPClient) read() {
	// One byte more than the largest datagram shows one over the limit.
	buf := make([]byte, sipwire.DefaultMaxMessage+1)
	for {
		n, src, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				c.Node.report(fmt.Errorf("live: SIP read: %w", err))
			}
			return
		}
		if n > c.maxMessage() {
			c.counters.add("sip.dropped.oversize")
			c.rep.report(c.Node, &c.counters, "live: SIP from udp %s: datagram of %d bytes over the limit, dropped", src, n)
			continue
		}
		c.deliver(buf[:n], "udp", src.String())
	}
}

// deliver parses one message and posts a response into the loop.
func (c *SIPClient) deliver(b []byte, network, src string) {
	m, err := sipwire.Unmarshal(append([]byte(nil), b...))
	if err != nil {
		c.BadMessages.Add(1)
		c.counters.add("sip.dropped.unparseable")
		c.rep.report(c.Node, &c.counters, "live: SIP from %s %s: %w", network, src, err) // sipmsg errors quote network text escaped and bounded
		return
	}
	r, ok := m.(*sipmsg.Response)
	if !ok {
		c.counters.add("sip.dropped.request")
		c.rep.report(c.Node, &c.counters, "live: SIP from %s %s: a request to the UE fleet, dropped", network, src)
		return
	}
	c.Node.Deliver(c.peer, r)
}
