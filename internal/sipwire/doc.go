// Package sipwire is the SIP edge: it renders internal/sipmsg's compact
// registration messages to bytes and parses them back with sipgo (the
// live runtime and the wire-fidelity simulation), inspects every message a
// server receives before a core sees it (Inspect: RFC 3261 conformance at
// the edge, with the answer to send when it fails), and frames messages on
// a stream (Framer). The cores exchange sipmsg values and never import this
// package, so they do not link sipgo.
package sipwire
