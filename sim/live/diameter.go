package live

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/fiorix/go-diameter/v4/diam"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/sim"
)

// DiameterServer serves Cx (TS 29.229) for a core, typically the HSS, over
// TCP: each connection is framed and checked before go-diameter decodes
// it, completes CER/CEA, is kept under the RFC 3539 watchdog (diamConn),
// and becomes one node peer; every Cx request is decoded into the typed
// messages of hss/cx and posted into the node's loop, and the core's
// answers are encoded and written back on the connection the request came
// from (answers carry the request's hop-by-hop id, set by the core).
type DiameterServer struct {
	Node        *Node
	OriginHost  string
	OriginRealm string
	Limits      DiameterLimits // zero fields take DiameterLimits.Defaults

	counts causeCounts
	mu     sync.Mutex
	ln     net.Listener
	conns  map[*diamConn]struct{}
	wg     sync.WaitGroup
	lim    DiameterLimits
}

// Listen binds addr and serves until Close; it returns once listening.
func (s *DiameterServer) Listen(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("live: Diameter listen on %s: %w", addr, err)
	}
	s.mu.Lock()
	s.ln, s.conns, s.lim = ln, map[*diamConn]struct{}{}, s.Limits.Defaults()
	s.mu.Unlock()
	s.wg.Add(1)
	go s.accept(ln)
	return ln.Addr(), nil
}

func (s *DiameterServer) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.Node.report(fmt.Errorf("live: Diameter accept: %w", err))
			}
			return
		}
		d := newDiamConn(c, s.lim, s.OriginHost, s.OriginRealm, &s.counts, s.Node.report)
		s.mu.Lock()
		full := len(s.conns) >= s.lim.MaxConns
		if !full {
			s.conns[d] = struct{}{}
		}
		s.mu.Unlock()
		if full {
			s.counts.add("diameter.refused.max_conns")
			c.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(d)
			s.mu.Lock()
			delete(s.conns, d)
			s.mu.Unlock()
		}()
	}
}

// Close stops accepting, closes every connection and waits for their
// readers to end.
func (s *DiameterServer) Close() error {
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	conns := make([]*diamConn, 0, len(s.conns))
	for d := range s.conns {
		conns = append(conns, d)
	}
	s.mu.Unlock()
	var err error
	if ln != nil {
		err = ln.Close()
	}
	for _, d := range conns {
		d.close("local")
	}
	s.wg.Wait()
	return err
}

// Counters returns what the server rejected, dropped, timed out and
// closed, by cause (keys "diameter.<what>.<cause>").
func (s *DiameterServer) Counters() map[string]uint64 { return s.counts.snapshot() }

// serveConn runs one accepted connection to its end.
func (s *DiameterServer) serveConn(d *diamConn) {
	defer d.close("local")
	if _, ok := d.acceptCER(); !ok {
		return
	}
	id := s.Node.AddPeer(func(msg sim.Message) error {
		if ev, ok := msg.(*cx.PeerEvent); ok {
			if !ev.Up {
				d.close("peer_down_fault") // a peer_down fault closes the connection
			}
			return nil
		}
		m, err := cx.Encode(msg)
		if err != nil {
			return err
		}
		return d.write(m)
	})
	defer s.Node.RemovePeer(id)
	d.startWatchdog()
	d.serve(true, func(m *diam.Message, raw []byte, h cx.MessageHeader) {
		msg, err := cx.Decode(m)
		if err != nil {
			s.counts.add("diameter.rejected.bad_cx_request")
			s.Node.report(fmt.Errorf("live: bad Cx request from %s: %w", d.c.RemoteAddr(), err))
			// RFC 6733 §7.1.5: a request missing a required AVP is
			// answered 5005 DIAMETER_MISSING_AVP.
			d.answerError(raw, h, cx.MissingAVP)
			return
		}
		s.Node.Deliver(id, msg)
	})
}
