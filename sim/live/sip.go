package live

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/sim"
)

// SIPClient connects a core (the UE fleet) to one SIP target over UDP: the
// core's requests are rendered with sipgo (internal/sipmsg) and sent from
// one local socket; responses are parsed and posted into the node's loop.
// Many UEs share the socket; the Call-ID routes a response to its UE.
type SIPClient struct {
	Node   *Node
	conn   *net.UDPConn
	tcp    net.Conn
	target *net.UDPAddr
	peer   sim.NodeID
	ep     sipmsg.Endpoint

	// Errors counts datagrams that did not parse.
	BadMessages atomic.Uint64 // unparseable datagrams or stream messages
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
	c.ep = sipmsg.Endpoint{Transport: "UDP", Host: la.IP.String(), Port: la.Port}
	c.peer = c.Node.AddPeer(c.send)
	go c.read()
	return c.peer, nil
}

// LocalAddr is the socket's address (Via and Contact host).
func (c *SIPClient) LocalAddr() string { return net.JoinHostPort(c.ep.Host, strconv.Itoa(c.ep.Port)) }

// Close closes the socket.
func (c *SIPClient) Close() error {
	if c.tcp != nil {
		return c.tcp.Close()
	}
	return c.conn.Close()
}

func (c *SIPClient) send(msg sim.Message) error {
	b, err := sipmsg.Marshal(msg, c.ep)
	if err != nil {
		return err
	}
	if _, err := c.conn.WriteToUDP(b, c.target); err != nil {
		return fmt.Errorf("live: SIP send to %s: %w", c.target, err)
	}
	return nil
}

func (c *SIPClient) read() {
	buf := make([]byte, 65535)
	for {
		n, _, err := c.conn.ReadFromUDP(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				c.Node.report(fmt.Errorf("live: SIP read: %w", err))
			}
			return
		}
		m, err := sipmsg.Unmarshal(append([]byte(nil), buf[:n]...))
		if err != nil {
			c.BadMessages.Add(1)
			c.Node.report(err)
			continue
		}
		if r, ok := m.(*sipmsg.Response); ok {
			c.Node.Deliver(c.peer, r)
		}
	}
}
