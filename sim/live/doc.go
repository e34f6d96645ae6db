// Package live runs regstorm's cores on the wall clock over real sockets:
// the same ue, scscf and hss code the simulation steps, now fed by real
// messages and real timers. Each core runs in one event-loop goroutine
// (a Node); timers are time.AfterFunc posting into that loop; transports
// (Diameter Cx over go-diameter, SIP over sipgo) turn socket traffic into
// events and the core's Send calls into bytes.
//
// SIP: SIPServer (the S-CSCF model as a server) uses sipgo's transport
// layer for UDP and TCP (its sockets, connection pool and stream framing)
// and sipgo's parser; no sipgo transaction layer, the cores keep their own
// transaction logic. SIPClient (the UE fleet: many UEs over one socket)
// owns its socket and uses sipgo's parser and stream parser, because
// sipgo's client side picks a connection per request from the Via and
// destination, while the fleet multiplexes every UE on one local address.
//
// The cores cannot tell: they see sim.Env. Determinism is lost by nature
// here (the network decides the order); the node's random stream is still
// derived from the seed.
package live
