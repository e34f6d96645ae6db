// Package sipmsg holds the compact, typed SIP registration messages the cores
// exchange (RFC 3261 REGISTER and its responses, with the RFC 2617/3310
// digest headers). The virtual runtime passes them as values; conversion to
// and from sipgo's *sip.Request/*sip.Response happens at the edge, in
// internal/sipwire (live mode and the wire-fidelity simulation), so the
// cores never depend on a codec: this package imports only the standard
// library.
package sipmsg
