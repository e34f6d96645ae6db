package live

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/sim"
)

// SIPServer serves SIP for a core (the S-CSCF model) through sipgo's
// transport layer: sipgo owns the sockets, the TCP connection pool and
// Content-Length framing (RFC 3261 §18.3) and parses every message; the
// core keeps its own transaction logic (no sipgo transaction layer). Each
// remote transport address is a peer, so the core's replies go back to the
// sender (RFC 3261 §18.2.2, the Via's received address; RFC 3581 rport).
type SIPServer struct {
	Node *Node

	once sync.Once
	tp   *sip.TransportLayer
	ep   sipmsg.Endpoint

	mu      sync.Mutex
	peers   map[string]sim.NodeID
	closers []func() error

	// BadMessages counts what could not be used: sipgo parse failures
	// (a TCP framing error also closes that connection) and well-formed
	// SIP that is not a REGISTER the model understands.
	BadMessages atomic.Uint64
}

func (s *SIPServer) init() {
	s.once.Do(func() {
		s.peers = map[string]sim.NodeID{}
		s.tp = sip.NewTransportLayer(net.DefaultResolver, sip.NewParser(), nil,
			sip.WithTransportLayerLogger(slog.New(&sipgoLog{s: s})))
		s.tp.OnMessage(s.handle)
	})
}

// ListenUDP binds addr and serves it.
func (s *SIPServer) ListenUDP(addr string) (net.Addr, error) {
	s.init()
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("live: SIP listen on udp %s: %w", addr, err)
	}
	if u, ok := conn.(*net.UDPConn); ok {
		u.SetReadBuffer(4 << 20)
	}
	a := conn.LocalAddr().(*net.UDPAddr)
	s.serve("UDP", a.IP, a.Port, conn.Close, func() error { return s.tp.ServeUDP(conn) })
	return a, nil
}

// ListenTCP binds addr and serves SIP over TCP: each connection's remote
// address is a peer.
func (s *SIPServer) ListenTCP(addr string) (net.Addr, error) {
	s.init()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("live: SIP listen on tcp %s: %w", addr, err)
	}
	a := ln.Addr().(*net.TCPAddr)
	s.serve("TCP", a.IP, a.Port, ln.Close, func() error { return s.tp.ServeTCP(ln) })
	return a, nil
}

func (s *SIPServer) serve(transport string, ip net.IP, port int, closer func() error, run func() error) {
	s.mu.Lock()
	s.ep = sipmsg.Endpoint{Transport: transport, Host: ip.String(), Port: port}
	s.closers = append(s.closers, closer)
	s.mu.Unlock()
	go func() {
		if err := run(); err != nil && !strings.Contains(err.Error(), "use of closed") {
			s.Node.report(fmt.Errorf("live: SIP %s server: %w", transport, err))
		}
	}()
}

// Close stops listening and closes every connection.
func (s *SIPServer) Close() error {
	s.mu.Lock()
	closers := s.closers
	s.closers = nil
	s.mu.Unlock()
	var first error
	for _, c := range closers {
		if err := c(); err != nil && first == nil {
			first = err
		}
	}
	if s.tp != nil {
		s.tp.Close()
	}
	return first
}

// handle runs on sipgo's reader goroutine: convert and post into the loop.
func (s *SIPServer) handle(msg sip.Message) {
	req, ok := msg.(*sip.Request)
	if !ok {
		return // the S-CSCF model sends no requests; a response is stray
	}
	m, err := sipmsg.FromSIPRequest(req)
	if err != nil {
		s.BadMessages.Add(1)
		s.Node.report(fmt.Errorf("live: SIP from %s %s: %w", req.Transport(), req.Source(), err))
		return
	}
	s.Node.Deliver(s.peer(req.Transport(), req.Source()), m)
}

func (s *SIPServer) peer(network, addr string) sim.NodeID {
	key := network + " " + addr
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.peers[key]; ok {
		return id
	}
	ep := s.ep
	ep.Transport = strings.ToUpper(network)
	id := s.Node.AddPeer(func(msg sim.Message) error {
		r, ok := msg.(*sipmsg.Response)
		if !ok {
			return fmt.Errorf("live: SIP server cannot send %T", msg)
		}
		res, err := r.ToSIP(ep)
		if err != nil {
			return err
		}
		res.SetTransport(network)
		res.SetDestination(addr) // RFC 3581 §4: back to the source address
		if err := s.tp.WriteMsgTo(res, addr, network); err != nil {
			return fmt.Errorf("live: SIP send to %s %s: %w", network, addr, err)
		}
		return nil
	})
	s.peers[key] = id
	return id
}

// sipgoLog turns sipgo's transport log into the node's error reports:
// parse failures are counted as bad messages, other errors reported.
type sipgoLog struct {
	s     *SIPServer
	attrs []slog.Attr
}

func (h *sipgoLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *sipgoLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "data" { // the whole datagram: keep reports short
			return true
		}
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	if r.Message == "failed to parse" {
		h.s.BadMessages.Add(1)
	}
	h.s.Node.report(fmt.Errorf("live: sipgo: %s", b.String()))
	return nil
}

func (h *sipgoLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &sipgoLog{s: h.s, attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

func (h *sipgoLog) WithGroup(string) slog.Handler { return h }
