package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/regstorm/regstorm/internal/sipwire"
	"github.com/regstorm/regstorm/sim/live"
)

// diameterFlags registers the Diameter connection limits on a command's
// flags; the defaults shown are live.DiameterLimits' own.
func diameterFlags(fs *flag.FlagSet) func() live.DiameterLimits {
	def := live.DiameterLimits{}.Defaults()
	maxMsg := fs.Int("diameter-max-message", def.MaxMessage, "largest Diameter Message-Length accepted, bytes (a longer one closes the connection unread)")
	maxConns := fs.Int("diameter-max-conns", def.MaxConns, "most Diameter connections held at once (server side)")
	cer := fs.Duration("diameter-cer-timeout", def.CERTimeout, "time from connect to a completed CER/CEA")
	msg := fs.Duration("diameter-message-timeout", def.MessageTimeout, "time a Diameter message may take from its first byte to its last")
	tw := fs.Duration("watchdog", def.Watchdog, "Diameter watchdog interval Tw (RFC 3539): DWR after Tw of silence, peer down after 3 Tw")
	return func() live.DiameterLimits {
		return live.DiameterLimits{MaxMessage: *maxMsg, MaxConns: *maxConns, CERTimeout: *cer, MessageTimeout: *msg,
			WriteTimeout: def.WriteTimeout, Watchdog: *tw}.Defaults()
	}
}

// sipServerFlags registers the SIP server's limits (regstorm scscf); the
// defaults shown are live.SIPServer's own.
func sipServerFlags(fs *flag.FlagSet) func(s *live.SIPServer) {
	maxMsg := fs.Int("sip-max-message", sipwire.DefaultMaxMessage, "largest SIP message, bytes (a UDP datagram or one TCP message; at most 65535, RFC 3261 §18.1.1)")
	header := fs.Duration("sip-header-timeout", live.DefaultSIPHeaderTimeout, "a TCP message's header section must arrive within this from its first byte")
	body := fs.Duration("sip-body-timeout", live.DefaultSIPBodyTimeout, "a TCP message's body must arrive within this after its header section")
	idle := fs.Duration("sip-idle-timeout", live.DefaultSIPIdleTimeout, "a TCP connection silent this long between messages is closed")
	conns := fs.Int("sip-max-conns", live.DefaultSIPMaxConns, "most SIP TCP connections held at once")
	peers := fs.Int("sip-max-udp-peers", live.DefaultSIPMaxUDPPeers, "most UDP source addresses remembered for replies")
	return func(s *live.SIPServer) {
		s.MaxMessage, s.HeaderTimeout, s.BodyTimeout, s.IdleTimeout = *maxMsg, *header, *body, *idle
		s.MaxConns, s.MaxUDPPeers = *conns, *peers
	}
}

// printErrors copies a node's error reports to w, escaped: network text
// inside an error can neither forge log lines nor flood the log.
func printErrors(w io.Writer, prefix string, node *live.Node) {
	go func() {
		for err := range node.Errors {
			fmt.Fprintln(w, prefix, escapeLog(err.Error(), 400))
		}
	}()
}

// escapeLog renders s with control characters, non-UTF-8 bytes and
// backslashes escaped, cut to at most max bytes of input.
func escapeLog(s string, max int) string {
	var b strings.Builder
	cut := false
	if len(s) > max {
		s, cut = s[:max], true
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	if cut {
		b.WriteString("…")
	}
	return b.String()
}

// printCounters writes a transport's counters, one "name value" per line,
// sorted; nothing when every one is zero.
func printCounters(w io.Writer, prefix string, counters ...map[string]uint64) {
	all := map[string]uint64{}
	for _, c := range counters {
		for k, v := range c {
			all[k] += v
		}
	}
	keys := live.SortedKeys(all)
	if len(keys) == 0 {
		fmt.Fprintf(w, "%s transport: nothing rejected, dropped or timed out\n", prefix)
		return
	}
	for _, k := range keys {
		fmt.Fprintf(w, "%s transport: %s %d\n", prefix, k, all[k])
	}
}
