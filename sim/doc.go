// Package sim is regstorm's virtual runtime: a discrete-event simulator that
// drives the deterministic cores (ue, scscf, hss) through the narrow Env
// interface.
//
// Events are ordered by (virtual time, insertion sequence). The queue is a
// 4-ary heap of the events due within the current 4 ms bucket, a calendar
// wheel of 16,384 such buckets for the next 65.5 s, and a heap beyond it;
// entries are pointer-free 48-byte values (a message in flight waits in a
// slab), so ties are broken deterministically, the hot path does not
// allocate and the garbage collector never scans the queue. Timers are typed
// keys (kind + reference) rather than closures, identified by a
// generation-checked slot: a timer cancelled in the wheel leaves at once, one
// cancelled in a heap is dropped when it comes up. Each node owns one PCG
// random stream derived from (run seed, node name), so adding a node does not
// perturb the others. Links between nodes carry a latency distribution.
//
// A runtime can be partitioned (cluster.go): each group of nodes gets its own
// queue and network stream, and the groups advance in windows as long as the
// smallest latency between them (conservative parallel simulation), on as
// many threads as there are cores. The outcome depends on the seed and the
// partition, never on the threads or their timing.
//
// The wall-clock runtime (sim/live) implements the same Env; a core cannot
// tell which one it runs in.
package sim
