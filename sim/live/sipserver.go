package live

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/sim"
)

// SIPServer serves SIP over UDP for a core (the S-CSCF model): each
// datagram is parsed with sipgo (internal/sipmsg) and posted into the
// node's loop; each remote address is a peer, so the core's replies go back
// to the sender (RFC 3261 §18.2.2, the Via's received address).
type SIPServer struct {
	Node *Node
	conn *net.UDPConn
	ln   net.Listener
	ep   sipmsg.Endpoint

	mu    sync.Mutex
	peers map[string]sim.NodeID

	BadMessages atomic.Uint64 // unparseable datagrams or stream messages
}

// ListenUDP binds addr and starts reading.
func (s *SIPServer) ListenUDP(addr string) (net.Addr, error) {
	la, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("live: SIP listen address %q: %w", addr, err)
	}
	conn, err := net.ListenUDP("udp", la)
	if err != nil {
		return nil, fmt.Errorf("live: SIP listen: %w", err)
	}
	conn.SetReadBuffer(4 << 20)
	s.conn = conn
	a := conn.LocalAddr().(*net.UDPAddr)
	s.ep = sipmsg.Endpoint{Transport: "UDP", Host: a.IP.String(), Port: a.Port}
	s.peers = map[string]sim.NodeID{}
	go s.read()
	return a, nil
}

// Close stops the server.
func (s *SIPServer) Close() error {
	if s.ln != nil {
		return s.ln.Close()
	}
	return s.conn.Close()
}

func (s *SIPServer) peer(addr *net.UDPAddr) sim.NodeID {
	key := addr.String()
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.peers[key]; ok {
		return id
	}
	to := *addr
	id := s.Node.AddPeer(func(msg sim.Message) error {
		b, err := sipmsg.Marshal(msg, s.ep)
		if err != nil {
			return err
		}
		if _, err := s.conn.WriteToUDP(b, &to); err != nil {
			return fmt.Errorf("live: SIP send to %s: %w", key, err)
		}
		return nil
	})
	s.peers[key] = id
	return id
}

func (s *SIPServer) read() {
	buf := make([]byte, 65535)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.Node.report(fmt.Errorf("live: SIP read: %w", err))
			}
			return
		}
		m, err := sipmsg.Unmarshal(append([]byte(nil), buf[:n]...))
		if err != nil {
			s.BadMessages.Add(1)
			s.Node.report(fmt.Errorf("live: SIP from %s: %w", from, err))
			continue
		}
		if r, ok := m.(*sipmsg.Request); ok {
			s.Node.Deliver(s.peer(from), r)
		}
	}
}
