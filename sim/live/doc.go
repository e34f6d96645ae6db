// Package live runs regstorm's cores on the wall clock over real sockets:
// the same ue, scscf and hss code the simulation steps, now fed by real
// messages and real timers. Each core runs in one event-loop goroutine
// (a Node); timers are time.AfterFunc posting into that loop; transports
// (Diameter Cx over go-diameter, SIP over sipgo) turn socket traffic into
// events and the core's Send calls into bytes.
//
// The cores cannot tell: they see sim.Env. Determinism is lost by nature
// here (the network decides the order); the node's random stream is still
// derived from the seed.
package live
