// Package report draws a run directory for people: the plots (PNG and SVG,
// gonum/plot) and index.html, for a run, for the comparison of two runs and
// for a capacity search. It reads what package results wrote (summary.json,
// timeseries.csv, the .hlog files, run-info.json, profile.yaml) and writes
// nothing that summary.json depends on, so the cores, which import results,
// never link the plotting libraries.
package report
