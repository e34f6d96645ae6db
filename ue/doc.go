// Package ue is the fleet of simulated IMS user equipment: one compact state
// machine per UE (TS 24.229 §5.1.1 registration), all driven by one node so
// that a million UEs cost a few dozen bytes each. Identities and keys derive
// from (seed, index) on demand (internal/subscriber, internal/aka).
//
// A UE sends REGISTER at its intended arrival time, verifies the 401's AUTN
// with Milenage (TS 33.102 §6.3.3), answers with Digest-AKAv1-MD5 (RFC 3310)
// after a think time, and is registered on 200 OK. Every procedure is
// measured from its intended send time. A non-INVITE client transaction
// ends at Timer F (RFC 3261 §17.1.2.2).
//
// The core is deterministic: time, timers, randomness and delivery come from
// sim.Env.
package ue
