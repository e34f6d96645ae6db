// Package results aggregates what a run measured: registration outcomes by
// final SIP code, Diameter callback outcomes (did the reply route run, and if
// not, why), and HDR histograms of latency measured from the intended send
// time, so queueing never hides latency (coordinated omission). It renders
// the deterministic summary.json contract and the text table.
//
// Aggregation is online: no per-registration record is kept unless asked
// for, so a million-UE run costs a few histograms.
package results
