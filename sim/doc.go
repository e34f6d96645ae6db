// Package sim is regstorm's virtual runtime: a single-threaded discrete-event
// simulator that drives the deterministic cores (ue, scscf, hss) through the
// narrow Env interface.
//
// Events are ordered by (virtual time, insertion sequence) in a 4-ary heap of
// value structs, so ties are broken deterministically and the hot path does
// not allocate. Timers are typed keys (kind + reference) rather than
// closures; cancellation is lazy through a generation-checked slot table.
// Each node owns one PCG random stream derived from (run seed, node name), so
// adding a node does not perturb the others. Links between nodes carry a
// latency distribution.
//
// The wall-clock runtime (sim/live) implements the same Env; a core cannot
// tell which one it runs in.
package sim
