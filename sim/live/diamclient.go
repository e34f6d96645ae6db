package live

import (
	"fmt"
	"sync"
	"time"

	"github.com/fiorix/go-diameter/v4/diam"
	"github.com/fiorix/go-diameter/v4/diam/avp"
	"github.com/fiorix/go-diameter/v4/diam/datatype"
	"github.com/fiorix/go-diameter/v4/diam/sm"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/sim"
)

// DiameterClient is the S-CSCF's Cx peer connection (what Kamailio's cdp
// does for it): it dials the HSS with CER/CEA, keeps it alive with DWR, and
// reconnects every Tc after losing it; the core sends requests to its peer
// id and receives the answers, and cx.PeerEvent when the connection goes or
// comes back (a request sent while it is down is dropped, as cdp does).
type DiameterClient struct {
	Node        *Node
	OriginHost  string
	OriginRealm string
	Tc          time.Duration // reconnect interval (cdp Tc)

	mu   sync.Mutex
	conn diam.Conn
	peer sim.NodeID
	stop chan struct{}
}

// Start connects to addr (host:port) in the background and returns the
// peer id the core sends Cx requests to.
func (c *DiameterClient) Start(addr string) sim.NodeID {
	if c.Tc <= 0 {
		c.Tc = 5 * time.Second
	}
	c.stop = make(chan struct{})
	c.peer = c.Node.AddPeer(c.send)
	go c.loop(addr)
	return c.peer
}

// Close stops reconnecting and closes the connection.
func (c *DiameterClient) Close() {
	close(c.stop)
	c.mu.Lock()
	if c.conn != nil {
		c.conn.Close()
	}
	c.mu.Unlock()
}

func (c *DiameterClient) send(msg sim.Message) error {
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn == nil {
		return fmt.Errorf("live: Cx peer not connected; %T dropped", msg)
	}
	d, err := cx.Encode(msg)
	if err != nil {
		return err
	}
	if _, err := d.WriteTo(conn); err != nil {
		return fmt.Errorf("live: writing %T to the HSS: %w", msg, err)
	}
	return nil
}

func (c *DiameterClient) loop(addr string) {
	mux := sm.New(&sm.Settings{OriginHost: datatype.DiameterIdentity(c.OriginHost), OriginRealm: datatype.DiameterIdentity(c.OriginRealm),
		VendorID: cx.VendorID, ProductName: "regstorm", Dict: cx.Dict()})
	for _, code := range []uint32{cx.CmdUserAuthorization, cx.CmdServerAssignment, cx.CmdLocationInfo, cx.CmdMultimediaAuth} {
		mux.HandleIdx(diam.CommandIndex{AppID: cx.AppID, Code: code, Request: false}, diam.HandlerFunc(func(conn diam.Conn, m *diam.Message) {
			msg, err := cx.Decode(m)
			if err != nil {
				c.Node.report(fmt.Errorf("live: bad Cx answer: %w", err))
				return
			}
			c.Node.Deliver(c.peer, msg)
		}))
	}
	go func() {
		for range mux.ErrorReports() {
		}
	}()
	cli := &sm.Client{Dict: cx.Dict(), Handler: mux, MaxRetransmits: 1, RetransmitInterval: time.Second,
		EnableWatchdog: true, WatchdogInterval: 10 * time.Second,
		VendorSpecificApplicationID: []*diam.AVP{diam.NewAVP(avp.VendorSpecificApplicationID, avp.Mbit, 0, &diam.GroupedAVP{AVP: []*diam.AVP{
			diam.NewAVP(avp.AuthApplicationID, avp.Mbit, 0, datatype.Unsigned32(cx.AppID)),
			diam.NewAVP(avp.VendorID, avp.Mbit, 0, datatype.Unsigned32(cx.VendorID))}})}}
	for {
		conn, err := cli.DialNetwork("tcp", addr)
		if err == nil {
			c.mu.Lock()
			c.conn = conn
			c.mu.Unlock()
			c.Node.Deliver(c.peer, &cx.PeerEvent{Up: true})
			select {
			case <-conn.(diam.CloseNotifier).CloseNotify():
			case <-c.stop:
				return
			}
			c.mu.Lock()
			c.conn = nil
			c.mu.Unlock()
			c.Node.Deliver(c.peer, &cx.PeerEvent{Up: false})
		}
		select {
		case <-time.After(c.Tc):
		case <-c.stop:
			return
		}
	}
}
