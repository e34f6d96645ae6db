// Package hss is the simulated Home Subscriber Server: a deterministic core
// that answers Cx requests (TS 29.228/29.229) from the S-CSCF. Subscribers
// are derived from (seed, index) by internal/subscriber and internal/aka, so
// no per-subscriber key is stored; only the SQN of each subscriber is kept
// (TS 33.102 Annex C). Every answer is delayed by a latency drawn from the
// configured distribution of its command, from the node's own random stream.
//
// The core never reads the clock, sleeps, starts goroutines or does I/O: the
// runtime (sim or sim/live) delivers requests and fires its timers.
package hss
