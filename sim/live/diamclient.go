package live

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/fiorix/go-diameter/v4/diam"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/sim"
)

// DiameterClient is the S-CSCF's Cx peer connection (what Kamailio's cdp
// does for it): it dials the HSS, completes CER/CEA, keeps the connection
// under the RFC 3539 watchdog (diamConn) and reconnects every Tc after
// losing it; the core sends requests to its peer id and receives the
// answers, and cx.PeerEvent when the connection goes or comes back (a
// request sent while it is down is dropped, as cdp does).
type DiameterClient struct {
	Node        *Node
	OriginHost  string
	OriginRealm string
	Tc          time.Duration  // reconnect interval (cdp Tc)
	Limits      DiameterLimits // zero fields take DiameterLimits.Defaults

	counts causeCounts
	mu     sync.Mutex
	conn   *diamConn // open (past CER/CEA)
	cur    *diamConn // any phase, for Close
	peer   sim.NodeID
	stop   chan struct{}
	ended  chan struct{}
	closed sync.Once
}

// Start connects to addr (host:port) in the background and returns the
// peer id the core sends Cx requests to.
func (c *DiameterClient) Start(addr string) sim.NodeID {
	if c.Tc <= 0 {
		c.Tc = 5 * time.Second
	}
	c.stop, c.ended = make(chan struct{}), make(chan struct{})
	c.peer = c.Node.AddPeer(c.send)
	go c.loop(addr, c.Limits.Defaults())
	return c.peer
}

// Close stops reconnecting, says goodbye (DPR) and closes the connection.
func (c *DiameterClient) Close() {
	c.closed.Do(func() {
		close(c.stop)
		c.mu.Lock()
		d, cur := c.conn, c.cur
		c.mu.Unlock()
		if d != nil {
			d.disconnect()
		} else if cur != nil {
			cur.close("local") // still dialling or in CER/CEA
		}
		<-c.ended
	})
}

// Counters returns what the client rejected, dropped, timed out and
// closed, by cause, with the connections made and lost.
func (c *DiameterClient) Counters() map[string]uint64 { return c.counts.snapshot() }

func (c *DiameterClient) send(msg sim.Message) error {
	c.mu.Lock()
	d := c.conn
	c.mu.Unlock()
	if d == nil {
		c.counts.add("diameter.dropped.peer_not_connected")
		return fmt.Errorf("live: Cx peer not connected; %T dropped", msg)
	}
	m, err := cx.Encode(msg)
	if err != nil {
		return err
	}
	return d.write(m)
}

func (c *DiameterClient) loop(addr string, lim DiameterLimits) {
	defer close(c.ended)
	dialer := net.Dialer{Timeout: lim.CERTimeout}
	for {
		if nc, err := dialer.Dial("tcp", addr); err != nil {
			c.counts.add("diameter.connect_failed")
			c.Node.report(fmt.Errorf("live: connecting to the HSS: %w", err))
		} else {
			d := newDiamConn(nc, lim, c.OriginHost, c.OriginRealm, &c.counts, c.Node.report)
			c.mu.Lock()
			c.cur = d
			c.mu.Unlock()
			select {
			case <-c.stop:
				d.close("local")
			default:
				c.session(d)
			}
		}
		select {
		case <-time.After(c.Tc):
		case <-c.stop:
			return
		}
	}
}

// session runs one connection from CER to its close.
func (c *DiameterClient) session(d *diamConn) {
	defer d.close("local")
	if _, err := d.connectCER(); err != nil {
		c.counts.add("diameter.cea_failed")
		c.Node.report(err)
		return
	}
	select {
	case <-c.stop:
		return
	default:
	}
	c.mu.Lock()
	c.conn = d
	c.mu.Unlock()
	c.counts.add("diameter.connected")
	c.Node.Deliver(c.peer, &cx.PeerEvent{Up: true})
	d.startWatchdog()
	d.serve(false, func(m *diam.Message, _ []byte, _ cx.MessageHeader) {
		msg, err := cx.Decode(m)
		if err != nil {
			c.counts.add("diameter.rejected.bad_cx_answer")
			c.Node.report(fmt.Errorf("live: bad Cx answer: %w", err))
			return
		}
		c.Node.Deliver(c.peer, msg)
	})
	c.mu.Lock()
	c.conn = nil
	c.mu.Unlock()
	why := d.reason()
	if why != "local" && why != "local_dpr" {
		c.counts.add("diameter.peer_down")
		c.Node.report(fmt.Errorf("live: Cx connection to the HSS lost (%s); reconnecting every %v", why, c.Tc))
	}
	c.Node.Deliver(c.peer, &cx.PeerEvent{Up: false})
}
