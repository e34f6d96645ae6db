// Package live runs regstorm's cores on the wall clock over real sockets:
// the same ue, scscf and hss code the simulation steps, now fed by real
// messages and real timers. Each core runs in one event-loop goroutine
// (a Node); timers are time.AfterFunc posting into that loop; transports
// (Diameter Cx over go-diameter, SIP over sipgo) turn socket traffic into
// events and the core's Send calls into bytes.
//
// SIP: SIPServer (the S-CSCF model as a server) owns its UDP and TCP
// sockets, frames TCP by Content-Length (RFC 3261 §18.3) within bounds,
// checks every message at the edge (internal/sipwire Inspect: what it can
// answer without the core, 400/405/501/505 and the rest, is answered
// there) and parses with sipgo; the cores keep their own transaction
// logic. SIPClient (the UE fleet: many UEs over one socket) owns its
// socket the same way, because sipgo's client side picks a connection per
// request from the Via and destination, while the fleet multiplexes every
// UE on one local address.
//
// Diameter: DiameterServer and DiameterClient run regstorm's own
// connections (diamconn.go): framing checked before go-diameter decodes,
// CER/CEA, DWR/DWA, DPR/DPA, RFC 6733 §7 error answers and the RFC 3539
// watchdog; go-diameter encodes and decodes the messages themselves.
//
// Every transport counts what it rejected, dropped, timed out and closed,
// by cause (Counters), for the commands to print.
//
// The cores cannot tell: they see sim.Env. Determinism is lost by nature
// here (the network decides the order); the node's random stream is still
// derived from the seed.
package live
