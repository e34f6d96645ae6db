package live

import (
	"fmt"
	"net"
	"sync"

	"github.com/fiorix/go-diameter/v4/diam"
	"github.com/fiorix/go-diameter/v4/diam/datatype"
	"github.com/fiorix/go-diameter/v4/diam/sm"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/sim"
)

// DiameterServer serves Cx (TS 29.229) for a core, typically the HSS, over
// TCP with go-diameter: its state machine answers CER/CEA and DWR/DWA;
// every Cx request is decoded into the typed messages of hss/cx and posted
// into the node's loop; the core's answers are encoded and written back on
// the connection the request came from (answers carry the request's
// hop-by-hop id, set by the core).
type DiameterServer struct {
	Node        *Node
	OriginHost  string
	OriginRealm string

	mu    sync.Mutex
	conns map[string]sim.NodeID // remote address -> peer id
	srv   *diam.Server
	ln    net.Listener
}

// Listen binds addr and serves until Close; it returns once listening.
func (s *DiameterServer) Listen(addr string) (net.Addr, error) {
	mux := sm.New(&sm.Settings{
		OriginHost:  datatype.DiameterIdentity(s.OriginHost),
		OriginRealm: datatype.DiameterIdentity(s.OriginRealm),
		VendorID:    cx.VendorID,
		ProductName: "regstorm",
		Dict:        cx.Dict(),
	})
	for _, code := range []uint32{cx.CmdUserAuthorization, cx.CmdServerAssignment, cx.CmdLocationInfo, cx.CmdMultimediaAuth} {
		mux.HandleIdx(diam.CommandIndex{AppID: cx.AppID, Code: code, Request: true}, diam.HandlerFunc(s.request))
	}
	go func() {
		for range mux.ErrorReports() { // drained; connection errors are reported per send
		}
	}()
	s.conns = map[string]sim.NodeID{}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("live: Diameter listen on %s: %w", addr, err)
	}
	s.ln = ln
	s.srv = &diam.Server{Handler: mux, Dict: cx.Dict()}
	go s.srv.Serve(ln)
	return ln.Addr(), nil
}

// Close stops accepting connections.
func (s *DiameterServer) Close() error {
	if s.ln != nil {
		return s.ln.Close()
	}
	return nil
}

// peer returns the node peer id of a connection, creating it.
func (s *DiameterServer) peer(c diam.Conn) sim.NodeID {
	key := c.RemoteAddr().String()
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.conns[key]; ok {
		return id
	}
	id := s.Node.AddPeer(func(msg sim.Message) error {
		if ev, ok := msg.(*cx.PeerEvent); ok {
			if !ev.Up {
				c.Close() // a peer_down fault closes the connection
			}
			return nil
		}
		d, err := cx.Encode(msg)
		if err != nil {
			return err
		}
		if _, err := d.WriteTo(c); err != nil {
			return fmt.Errorf("live: writing %T to %s: %w", msg, key, err)
		}
		return nil
	})
	s.conns[key] = id
	go func() {
		<-c.(diam.CloseNotifier).CloseNotify()
		s.mu.Lock()
		delete(s.conns, key)
		s.mu.Unlock()
		s.Node.RemovePeer(id)
	}()
	return id
}

func (s *DiameterServer) request(c diam.Conn, m *diam.Message) {
	msg, err := cx.Decode(m)
	if err != nil {
		s.Node.report(fmt.Errorf("live: bad Cx request from %s: %w", c.RemoteAddr(), err))
		// RFC 6733 §7.1.5: a request missing a required AVP is answered
		// 5005 DIAMETER_MISSING_AVP.
		a := m.Answer(5005)
		a.WriteTo(c)
		return
	}
	s.Node.Deliver(s.peer(c), msg)
}
