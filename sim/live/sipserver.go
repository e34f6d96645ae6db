package live

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/internal/sipwire"
	"github.com/regstorm/regstorm/sim"
)

// SIPServer serves SIP for a core (the S-CSCF model) on its own UDP and TCP
// sockets. Every received message goes through sipwire.Inspect (RFC 3261
// §8.2 checks for a registrar): well-formed REGISTERs reach the core, which
// keeps its own transaction logic; malformed requests are answered here
// (400 with a reason, 405 with Allow, 420, 481, 501, 505) and never reach
// it; what cannot be answered is dropped. Everything is counted by cause
// (Counters). TCP is framed by the project's own bounded framer (RFC 3261
// §18.3) with header, body, idle and write timeouts and a connection cap.
//
// Replies go back to where the request came from: over UDP to the packet's
// source address and port (RFC 3261 §18.2.2 with the received address;
// RFC 3581 §4 rport), over TCP on the same connection (§18.2.2). Each
// remote address (UDP) or connection (TCP) is one peer of the node.
//
// The limits are read when the first socket opens; zero means the default.
type SIPServer struct {
	Node *Node

	// MaxMessage is the largest message in bytes, a UDP datagram or one
	// TCP message (default and upper bound 65,535: RFC 3261 §18.1.1).
	MaxMessage int
	// HeaderTimeout: a TCP message's header section must be complete
	// within it from the message's first byte (default 10 s); counted as
	// sip.tcp.header_timeout, the connection is closed.
	HeaderTimeout time.Duration
	// BodyTimeout: its body must be complete within it once the header
	// section is (default 10 s; sip.tcp.body_timeout).
	BodyTimeout time.Duration
	// IdleTimeout: a TCP connection that sends no byte for this long
	// between messages is closed (default 120 s, Kamailio's
	// tcp_connection_lifetime; CRLF keep-alives, RFC 5626 §4.4.1, count as
	// traffic; sip.tcp.idle_timeout).
	IdleTimeout time.Duration
	// WriteTimeout bounds one TCP write (default 10 s;
	// sip.tcp.write_timeout); a connection whose peer does not read is
	// closed, the node's loop never blocks on it.
	WriteTimeout time.Duration
	// MaxConns caps concurrent TCP connections (default 1024); one more is
	// accepted and closed at once (sip.tcp.refused_max_conns).
	MaxConns int
	// MaxUDPPeers caps the UDP source addresses remembered for replies
	// (default 65,536); addresses silent for udpPeerTTL are forgotten when
	// the table is full, a request from a new address while it stays full
	// is dropped (sip.dropped.peer_table_full).
	MaxUDPPeers int

	once sync.Once
	mu   sync.Mutex
	// guarded by mu
	closers  []func() error
	conns    map[*sipConn]struct{}
	udpPeers map[netip.AddrPort]*udpPeer
	swept    time.Time
	closed   bool

	recent   recentTxns
	counters causeCounts
	rep      sipReporter
	wg       sync.WaitGroup
}

// Default limits of SIPServer.
const (
	DefaultSIPHeaderTimeout = 10 * time.Second
	DefaultSIPBodyTimeout   = 10 * time.Second
	DefaultSIPIdleTimeout   = 120 * time.Second
	DefaultSIPWriteTimeout  = 10 * time.Second
	DefaultSIPMaxConns      = 1024
	DefaultSIPMaxUDPPeers   = 65536
)

// udpPeerTTL: a UDP source silent this long may be forgotten. A reply of
// the core comes within a transaction's lifetime (max_noninv_lifetime 32 s,
// WAIT 5 s, a held cell at most tm's 90 s lifetime limit) of a request.
const udpPeerTTL = 3 * time.Minute

// tcpSendQueue bounds the replies waiting for one TCP connection's writer.
const tcpSendQueue = 256

// Counters returns the server's counters by cause, with stable keys:
// sip.accepted.register (REGISTERs passed to the core), sip.rejected.<code>
// (answered here: 400, 404, 405, 413, 416, 420, 481, 501, 505),
// sip.rejected.400.<cause> (e.g. missing_call_id, cseq_method_mismatch,
// malformed_expires, content_length_mismatch), sip.answered.cancel (200
// to a CANCEL, RFC 3261 §9.2), sip.ignored.ack, sip.dropped.<cause>
// (unparseable, no_via, stray_response, oversize, peer_table_full,
// send_queue_full), sip.tcp.accepted, sip.tcp.refused_max_conns,
// sip.tcp.header_timeout, sip.tcp.body_timeout, sip.tcp.idle_timeout,
// sip.tcp.write_timeout, sip.tcp.framing_error, sip.reports_suppressed.
// Zero counters are absent.
func (s *SIPServer) Counters() map[string]uint64 { return s.counters.snapshot() }

func (s *SIPServer) init() {
	s.once.Do(func() {
		if s.MaxMessage <= 0 || s.MaxMessage > sipwire.DefaultMaxMessage {
			s.MaxMessage = sipwire.DefaultMaxMessage
		}
		if s.HeaderTimeout <= 0 {
			s.HeaderTimeout = DefaultSIPHeaderTimeout
		}
		if s.BodyTimeout <= 0 {
			s.BodyTimeout = DefaultSIPBodyTimeout
		}
		if s.IdleTimeout <= 0 {
			s.IdleTimeout = DefaultSIPIdleTimeout
		}
		if s.WriteTimeout <= 0 {
			s.WriteTimeout = DefaultSIPWriteTimeout
		}
		if s.MaxConns <= 0 {
			s.MaxConns = DefaultSIPMaxConns
		}
		if s.MaxUDPPeers <= 0 {
			s.MaxUDPPeers = DefaultSIPMaxUDPPeers
		}
		s.conns = map[*sipConn]struct{}{}
		s.udpPeers = map[netip.AddrPort]*udpPeer{}
	})
}

func (s *SIPServer) addCloser(c func() error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.closers = append(s.closers, c)
	return true
}

// ListenUDP binds addr and serves it.
func (s *SIPServer) ListenUDP(addr string) (net.Addr, error) {
	s.init()
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("live: SIP listen on udp %s: %w", addr, err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("live: SIP listen on udp %s: %w", addr, err)
	}
	conn.SetReadBuffer(4 << 20)
	if !s.addCloser(conn.Close) {
		conn.Close()
		return nil, fmt.Errorf("live: SIP listen on udp %s: %w", addr, net.ErrClosed)
	}
	// Two readers: a datagram's inspection runs on its reader, so the
	// parsing of one does not hold up the next (2-core machines).
	for i := 0; i < 2; i++ {
		s.wg.Add(1)
		go s.serveUDP(conn)
	}
	return conn.LocalAddr(), nil
}

// ListenTCP binds addr and serves SIP over TCP.
func (s *SIPServer) ListenTCP(addr string) (net.Addr, error) {
	s.init()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("live: SIP listen on tcp %s: %w", addr, err)
	}
	if !s.addCloser(ln.Close) {
		ln.Close()
		return nil, fmt.Errorf("live: SIP listen on tcp %s: %w", addr, net.ErrClosed)
	}
	s.wg.Add(1)
	go s.acceptTCP(ln)
	return ln.Addr(), nil
}

// Close stops listening, closes every connection and waits for the
// server's goroutines.
func (s *SIPServer) Close() error {
	s.init()
	s.mu.Lock()
	s.closed = true
	closers := s.closers
	s.closers = nil
	conns := make([]*sipConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var first error
	for _, c := range closers {
		if err := c(); err != nil && first == nil {
			first = err
		}
	}
	for _, c := range conns {
		c.close()
	}
	s.wg.Wait()
	return first
}

func (s *SIPServer) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *SIPServer) reportf(format string, args ...any) {
	s.rep.report(s.Node, &s.counters, format, args...)
}

// UDP

// udpPeer is a remote UDP address the core can answer.
type udpPeer struct {
	id   sim.NodeID
	last time.Time // guarded by SIPServer.mu
}

func (s *SIPServer) serveUDP(conn *net.UDPConn) {
	defer s.wg.Done()
	// RFC 3261 §18.1.1: a datagram may be up to 65,535 bytes; one byte more
	// of buffer shows a datagram that would not fit.
	buf := make([]byte, sipwire.DefaultMaxMessage+1)
	for {
		n, src, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isClosed() {
				return
			}
			s.reportf("live: SIP read on udp: %w", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if n > s.MaxMessage {
			s.counters.add("sip.dropped.oversize")
			s.reportf("live: SIP from udp %s: datagram of %d bytes over the limit of %d, dropped", src, n, s.MaxMessage)
			continue
		}
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		v := sipwire.Inspect(buf[:n], sipwire.Source{Transport: "UDP", Addr: src})
		s.act(&v, "udp", src, func(b []byte) {
			if _, err := conn.WriteToUDPAddrPort(b, src); err != nil {
				s.reportf("live: SIP send to udp %s: %w", src, err)
			}
		}, func() (sim.NodeID, bool) { return s.peerFor(conn, src) })
	}
}

// peerFor returns the node peer for a UDP source address, adding it (and
// forgetting silent ones when the table is full, at most once a second).
func (s *SIPServer) peerFor(conn *net.UDPConn, src netip.AddrPort) (sim.NodeID, bool) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.udpPeers[src]; ok {
		p.last = now
		return p.id, true
	}
	if len(s.udpPeers) >= s.MaxUDPPeers {
		if now.Sub(s.swept) < time.Second {
			return 0, false
		}
		s.swept = now
		for a, p := range s.udpPeers { // removal only: the order decides nothing
			if now.Sub(p.last) > udpPeerTTL {
				s.Node.RemovePeer(p.id)
				delete(s.udpPeers, a)
			}
		}
		if len(s.udpPeers) >= s.MaxUDPPeers {
			return 0, false
		}
	}
	ep := sipwire.Endpoint{Transport: "UDP", Host: src.Addr().String(), Port: int(src.Port())}
	id := s.Node.AddPeer(func(msg sim.Message) error {
		b, err := sipwire.Marshal(msg, ep)
		if err != nil {
			return err
		}
		if _, err := conn.WriteToUDPAddrPort(b, src); err != nil {
			return fmt.Errorf("live: SIP send to udp %s: %w", src, err)
		}
		return nil
	})
	s.udpPeers[src] = &udpPeer{id: id, last: now}
	return id, true
}

// act carries out a verdict: deliver a REGISTER to the core, answer a
// reject or CANCEL, count everything.
func (s *SIPServer) act(v *sipwire.Verdict, network string, src netip.AddrPort, reply func([]byte), peer func() (sim.NodeID, bool)) {
	switch v.Kind {
	case sipwire.KindRegister:
		id, ok := peer()
		if !ok {
			s.counters.add("sip.dropped.peer_table_full")
			s.reportf("live: SIP from %s %s: REGISTER dropped, the peer table is full", network, src)
			return
		}
		s.recent.add(v.TxnKey, time.Now())
		s.counters.add("sip.accepted.register")
		s.Node.Deliver(id, v.Request)
	case sipwire.KindReject:
		s.counters.add("sip.rejected." + strconv.Itoa(v.Code))
		if v.Code == 400 {
			s.counters.add("sip.rejected.400." + v.Cause)
		}
		reply(v.Reply(v.Code, v.Reason, rejectTag(v.Echo)))
		s.reportf("live: SIP %s from %s %s: answered %d %s", sipwire.Excerpt(v.Method), network, src, v.Code, v.Reason)
	case sipwire.KindCancel:
		// RFC 3261 §9.2: a CANCEL matching a transaction is answered 200
		// (it has no effect on a non-INVITE one); otherwise 481.
		if s.recent.has(v.TxnKey, time.Now()) {
			s.counters.add("sip.answered.cancel")
			reply(v.Reply(200, "OK", rejectTag(v.Echo)))
			return
		}
		s.counters.add("sip.rejected.481")
		reply(v.Reply(481, "Call/Transaction Does Not Exist", rejectTag(v.Echo)))
	case sipwire.KindIgnore:
		s.counters.add("sip.ignored.ack")
	case sipwire.KindResponse:
		// The model sends no requests: a response matches no client
		// transaction (RFC 3261 §18.1.2) and is dropped.
		s.counters.add("sip.dropped.stray_response")
		s.reportf("live: SIP from %s %s: stray response dropped", network, src)
	default:
		s.counters.add("sip.dropped." + v.Cause)
		s.reportf("live: SIP from %s %s: dropped (%s)", network, src, v.Cause)
	}
}

// rejectTag is the To tag of a response made here (RFC 3261 §8.2.6.2): a
// hash of the request's identity, so a retransmission gets the same one.
func rejectTag(e *sipmsg.Echo) string {
	h := fnv.New64a()
	if e != nil {
		h.Write([]byte(e.CallID))
		h.Write([]byte{0})
		h.Write([]byte(e.From))
		h.Write([]byte{0})
		if len(e.Via) > 0 {
			h.Write([]byte(e.Via[0]))
		}
	}
	return "rs" + strconv.FormatUint(h.Sum64(), 36)
}

// recentTxns remembers the keys (branch, sent-by) of the last REGISTERs
// passed to the core for a transaction's lifetime, so that a CANCEL can be
// matched (RFC 3261 §9.2) without asking the core; bounded.
type recentTxns struct {
	mu   sync.Mutex
	ring [4096]struct {
		key string
		at  time.Time
	}
	next int
	idx  map[string]int
}

// recentTTL is a non-INVITE transaction's lifetime (64·T1, RFC 3261
// §17.2.2 Timer J over UDP).
const recentTTL = 32 * time.Second

func (r *recentTxns) add(key string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.idx == nil {
		r.idx = map[string]int{}
	}
	old := &r.ring[r.next]
	if i, ok := r.idx[old.key]; ok && i == r.next {
		delete(r.idx, old.key)
	}
	old.key, old.at = key, now
	r.idx[key] = r.next
	r.next = (r.next + 1) % len(r.ring)
}

func (r *recentTxns) has(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.idx[key]
	return ok && now.Sub(r.ring[i].at) <= recentTTL
}

// TCP

func (s *SIPServer) acceptTCP(ln net.Listener) {
	defer s.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isClosed() {
				return
			}
			// Out of descriptors and the like: retry after a pause, as
			// net/http does, rather than spin or stop serving.
			s.reportf("live: SIP accept on tcp: %w", err)
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		s.mu.Lock()
		if s.closed || len(s.conns) >= s.MaxConns {
			closed := s.closed
			s.mu.Unlock()
			c.Close()
			if !closed {
				s.counters.add("sip.tcp.refused_max_conns")
				s.reportf("live: SIP over tcp: connection from %s refused, %d open", c.RemoteAddr(), s.MaxConns)
			}
			continue
		}
		sc := &sipConn{s: s, c: c, out: make(chan []byte, tcpSendQueue), done: make(chan struct{})}
		if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			ap := ta.AddrPort()
			sc.src = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
		s.conns[sc] = struct{}{}
		s.wg.Add(2)
		s.mu.Unlock()
		s.counters.add("sip.tcp.accepted")
		go sc.read()
		go sc.write()
	}
}

// sipConn is one accepted TCP connection: a reader that frames and
// inspects, a writer that drains a bounded queue with a write deadline.
type sipConn struct {
	s    *SIPServer
	c    net.Conn
	src  netip.AddrPort
	out  chan []byte // nil entry: close once the queue is written
	done chan struct{}
	once sync.Once

	peerMu sync.Mutex
	peer   sim.NodeID
}

func (sc *sipConn) close() {
	sc.once.Do(func() {
		close(sc.done)
		sc.c.Close()
		sc.peerMu.Lock()
		if sc.peer != 0 {
			sc.s.Node.RemovePeer(sc.peer)
		}
		sc.peerMu.Unlock()
		sc.s.mu.Lock()
		delete(sc.s.conns, sc)
		sc.s.mu.Unlock()
	})
}

// enqueue hands bytes to the writer without blocking; a full queue closes
// the connection (its peer does not read).
func (sc *sipConn) enqueue(b []byte) bool {
	select {
	case sc.out <- b:
		return true
	case <-sc.done:
		return false
	default:
		sc.s.counters.add("sip.dropped.send_queue_full")
		sc.s.reportf("live: SIP to tcp %s: send queue full, connection closed", sc.src)
		sc.close()
		return false
	}
}

func (sc *sipConn) write() {
	defer sc.s.wg.Done()
	for {
		select {
		case b := <-sc.out:
			if b == nil {
				sc.close()
				return
			}
			sc.c.SetWriteDeadline(time.Now().Add(sc.s.WriteTimeout))
			if _, err := sc.c.Write(b); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					sc.s.counters.add("sip.tcp.write_timeout")
					sc.s.reportf("live: SIP to tcp %s: write timed out, connection closed", sc.src)
				}
				sc.close()
				return
			}
		case <-sc.done:
			return
		}
	}
}

// peerID is the connection's node peer, added with its first REGISTER.
func (sc *sipConn) peerID() (sim.NodeID, bool) {
	sc.peerMu.Lock()
	defer sc.peerMu.Unlock()
	select {
	case <-sc.done:
		return 0, false
	default:
	}
	if sc.peer == 0 {
		ep := sipwire.Endpoint{Transport: "TCP", Host: sc.src.Addr().String(), Port: int(sc.src.Port())}
		sc.peer = sc.s.Node.AddPeer(func(msg sim.Message) error {
			b, err := sipwire.Marshal(msg, ep)
			if err != nil {
				return err
			}
			if !sc.enqueue(b) {
				return fmt.Errorf("live: SIP send to tcp %s: %w", sc.src, net.ErrClosed)
			}
			return nil
		})
	}
	return sc.peer, true
}

// read frames messages (RFC 3261 §18.3) under the header, body and idle
// timeouts and inspects each.
func (sc *sipConn) read() {
	defer sc.s.wg.Done()
	s := sc.s
	f := sipwire.Framer{Max: s.MaxMessage}
	buf := make([]byte, 16<<10)
	var msgStart, headersAt time.Time
	last := time.Now()
	for {
		var deadline time.Time
		var expiry string
		switch {
		case !f.Pending():
			deadline, expiry = last.Add(s.IdleTimeout), "sip.tcp.idle_timeout"
		case !f.HeadersDone():
			deadline, expiry = msgStart.Add(s.HeaderTimeout), "sip.tcp.header_timeout"
		default:
			deadline, expiry = headersAt.Add(s.BodyTimeout), "sip.tcp.body_timeout"
		}
		sc.c.SetReadDeadline(deadline)
		n, err := sc.c.Read(buf)
		if n > 0 {
			last = time.Now()
			f.Write(buf[:n])
			if msgStart.IsZero() && f.Pending() {
				msgStart = last
			}
			for {
				msg, ferr := f.Next()
				if ferr != nil {
					sc.framingError(&f, ferr)
					return
				}
				if msg == nil {
					break
				}
				msgStart, headersAt = time.Time{}, time.Time{}
				if f.Pending() {
					msgStart = last
				}
				v := sipwire.Inspect(msg, sipwire.Source{Transport: "TCP", Addr: sc.src})
				s.act(&v, "tcp", sc.src, func(b []byte) { sc.enqueue(b) }, sc.peerID)
			}
			if f.HeadersDone() && headersAt.IsZero() {
				headersAt = last
			}
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				s.counters.add(expiry)
				s.reportf("live: SIP over tcp from %s: %s, connection closed", sc.src, expiry[len("sip.tcp."):])
			}
			sc.close()
			return
		}
	}
}

// framingError: the stream cannot be cut into messages any more. When the
// header section is complete it is answered (413 for a message over the
// limit, RFC 3261 §21.4.11; 400 for a missing or malformed Content-Length,
// §18.3), then the connection closes once the answer is written.
func (sc *sipConn) framingError(f *sipwire.Framer, err error) {
	s := sc.s
	code, reason := 400, "Bad Request - no usable Content-Length on a stream"
	if errors.Is(err, sipwire.ErrTooLarge) {
		code, reason = 413, "Request Entity Too Large"
		s.counters.add("sip.dropped.oversize")
	} else {
		s.counters.add("sip.tcp.framing_error")
	}
	s.reportf("live: SIP over tcp from %s: %w, connection closed", sc.src, err)
	if h := f.Header(); h != nil {
		src := sipwire.Source{Transport: "TCP", Addr: sc.src}
		if b := sipwire.ReplyTo(h, src, code, reason, "rs"+strconv.Itoa(code)); b != nil {
			s.counters.add("sip.rejected." + strconv.Itoa(code))
			if code == 400 {
				s.counters.add("sip.rejected.400.framing")
			}
			if sc.enqueue(b) && sc.enqueue(nil) {
				return // the writer closes after the answer
			}
		}
	}
	sc.close()
}
