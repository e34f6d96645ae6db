package live

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/regstorm/regstorm/internal/sipwire"
	"github.com/regstorm/regstorm/sim"
)

// sipClientWriteTimeout bounds one write of the UE fleet over TCP: a
// target that stops reading fails the send instead of stalling the loop.
const sipClientWriteTimeout = 5 * time.Second

// DialTCP connects the client to a SIP target over TCP (no Timer E: RFC
// 3261 §17.1.2.2 retransmits only over unreliable transports). When the
// target closes the connection (an idle timeout, say), the next request
// opens a new one (RFC 3261 §18.1.1: a client may open a connection for a
// request), counted as sip.tcp.reconnects.
func (c *SIPClient) DialTCP(target string) (sim.NodeID, error) {
	c.tcpTarget = target
	c.tcpMu.Lock()
	err := c.dialLocked()
	c.tcpMu.Unlock()
	if err != nil {
		return 0, err
	}
	c.peer = c.Node.AddPeer(c.sendTCP)
	return c.peer, nil
}

func (c *SIPClient) dialLocked() error {
	conn, err := net.DialTimeout("tcp", c.tcpTarget, 5*time.Second)
	if err != nil {
		return fmt.Errorf("live: SIP over TCP to %s: %w", c.tcpTarget, err)
	}
	la := conn.LocalAddr().(*net.TCPAddr)
	c.ep = sipwire.Endpoint{Transport: "TCP", Host: la.IP.String(), Port: la.Port}
	c.tcp = conn
	go c.readTCP(conn)
	return nil
}

func (c *SIPClient) sendTCP(msg sim.Message) error {
	c.tcpMu.Lock()
	defer c.tcpMu.Unlock()
	if c.closed {
		return fmt.Errorf("live: SIP send over TCP: %w", net.ErrClosed)
	}
	if c.tcp == nil {
		if err := c.dialLocked(); err != nil {
			return err
		}
		c.counters.add("sip.tcp.reconnects")
	}
	b, err := sipwire.Marshal(msg, c.ep)
	if err != nil {
		return err
	}
	c.tcp.SetWriteDeadline(time.Now().Add(sipClientWriteTimeout))
	if _, err := c.tcp.Write(b); err != nil {
		c.tcp.Close()
		c.tcp = nil
		return fmt.Errorf("live: SIP send over TCP: %w", err)
	}
	return nil
}

// readTCP frames responses (RFC 3261 §18.3) with the project's bounded
// framer; a framing error closes the connection.
func (c *SIPClient) readTCP(conn net.Conn) {
	defer func() {
		conn.Close()
		c.tcpMu.Lock()
		if c.tcp == conn {
			c.tcp = nil
		}
		c.tcpMu.Unlock()
	}()
	f := sipwire.Framer{Max: c.maxMessage()}
	buf := make([]byte, 16<<10)
	src := conn.RemoteAddr().String()
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			f.Write(buf[:n])
			for {
				msg, ferr := f.Next()
				if ferr != nil {
					if errors.Is(ferr, sipwire.ErrTooLarge) {
						c.counters.add("sip.dropped.oversize")
					} else {
						c.counters.add("sip.tcp.framing_error")
					}
					c.BadMessages.Add(1)
					c.rep.report(c.Node, &c.counters, "live: SIP stream from %s: %w, connection closed", src, ferr)
					return
				}
				if msg == nil {
					break
				}
				c.deliver(msg, "tcp", src)
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.rep.report(c.Node, &c.counters, "live: SIP read from %s: %w", src, err)
			}
			return
		}
	}
}
