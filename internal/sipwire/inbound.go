package sipwire

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/regstorm/regstorm/internal/sipmsg"
)

// Source is where a message came from: the transport it arrived on and
// the packet's source address (RFC 3261 §18.2.1 "received", RFC 3581 §4
// "rport").
type Source struct {
	Transport string // "UDP" or "TCP"
	Addr      netip.AddrPort
}

// Kind classifies what a server does with a received message.
type Kind uint8

// Kinds of Verdict.
const (
	// KindRegister: a well-formed REGISTER for the core (Verdict.Request).
	KindRegister Kind = iota + 1
	// KindReject: answer here with Verdict.Code and Reason (Verdict.Reply
	// renders it); the core never sees the request.
	KindReject
	// KindCancel: a CANCEL (RFC 3261 §9.2); the server answers 200 when it
	// matches a transaction it holds (Verdict.TxnKey), else 481.
	KindCancel
	// KindIgnore: an ACK; it is never answered (RFC 3261 §17.2.1, §8.2.5
	// nuance: a UAS sends no response to an ACK).
	KindIgnore
	// KindResponse: a response; a server that sends no requests drops it as
	// stray (RFC 3261 §18.1.2 hands it to a client transaction there is not).
	KindResponse
	// KindDrop: not answerable (not SIP, or no usable Via to answer along,
	// RFC 3261 §18.2.2); Verdict.Cause says why.
	KindDrop
)

// Verdict is what Inspect made of one message.
type Verdict struct {
	Kind    Kind
	Request *sipmsg.Request // KindRegister
	// Code and Reason: the response to send (KindReject); Reason is always
	// the project's own text, never network bytes.
	Code   int
	Reason string
	// Cause is a stable identifier of what was wrong (KindReject,
	// KindDrop), e.g. "missing_call_id", "cseq_method_mismatch",
	// "unparseable", "no_via": the suffix of the server's counters.
	Cause string
	// Extra header fields of the reject, e.g. "Allow: REGISTER" (RFC 3261
	// §8.2.1) or "Unsupported: foo" (§8.2.2.3).
	Extra []string
	// Echo is what an answer copies from the request (KindReject,
	// KindCancel, and KindRegister through Request.Echo).
	Echo *sipmsg.Echo
	// Method is the request's method (a token) as received.
	Method string
	// TxnKey identifies the transaction of a REGISTER or the one a CANCEL
	// names (RFC 3261 §17.2.3, §9.2): top Via branch and sent-by.
	TxnKey string
}

// Reply renders the answer to a rejected request or a CANCEL with the
// request's Via, From, To (with toTag added unless it had one), Call-ID and
// CSeq (RFC 3261 §8.2.6.2) and Content-Length 0.
func (v *Verdict) Reply(code int, reason, toTag string) []byte {
	return renderReply(v.Echo, code, reason, toTag, v.Extra)
}

func renderReply(e *sipmsg.Echo, code int, reason, toTag string, extra []string) []byte {
	b := make([]byte, 0, 512)
	b = append(b, "SIP/2.0 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, reason...)
	b = append(b, "\r\n"...)
	hdr := func(name, value string) {
		if value != "" {
			b = append(b, name...)
			b = append(b, ": "...)
			b = append(b, value...)
			b = append(b, "\r\n"...)
		}
	}
	if e != nil {
		for _, via := range e.Via {
			hdr("Via", via)
		}
		hdr("From", e.From)
		to := e.To
		if to != "" && !e.ToTagged && toTag != "" {
			to += ";tag=" + toTag
		}
		hdr("To", to)
		hdr("Call-ID", e.CallID)
		hdr("CSeq", e.CSeq)
	}
	for _, x := range extra {
		b = append(b, x...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "Content-Length: 0\r\n\r\n"...)
	return b
}

// Header field identities the inspection reads; the compact forms of RFC
// 3261 §7.3.3 map onto them.
const (
	hOther = iota
	hVia
	hFrom
	hTo
	hCallID
	hCSeq
	hContact
	hContentLength
	hExpires
	hMaxForwards
	hRequire
	hAuthorization
)

func headerID(name string) int {
	if len(name) == 1 {
		switch name[0] | 0x20 {
		case 'v':
			return hVia
		case 'f':
			return hFrom
		case 't':
			return hTo
		case 'i':
			return hCallID
		case 'm':
			return hContact
		case 'l':
			return hContentLength
		}
		return hOther
	}
	for _, k := range [...]struct {
		name string
		id   int
	}{{"Via", hVia}, {"From", hFrom}, {"To", hTo}, {"Call-ID", hCallID}, {"CSeq", hCSeq}, {"Contact", hContact},
		{"Content-Length", hContentLength}, {"Expires", hExpires}, {"Max-Forwards", hMaxForwards}, {"Require", hRequire},
		{"Authorization", hAuthorization}} {
		if len(k.name) == len(name) && strings.EqualFold(k.name, name) {
			return k.id
		}
	}
	return hOther
}

type field struct {
	id    int
	value string // unfolded (CRLF and the following WSP as one SP), trimmed
}

// scanned is a message split into start line, header fields and body.
type scanned struct {
	start    string
	fields   []field
	body     string
	noBlank  bool   // no empty line ended the header section
	badField string // cause of the first malformed header line, if any
}

// scan splits a message (RFC 3261 §7: start-line, message-headers, CRLF,
// body); header lines are unfolded (§7.3.1). Malformed lines are noted,
// not fatal, so that the message can still be answered.
func scan(s string) scanned {
	var m scanned
	head := s
	if i := strings.Index(s, "\r\n\r\n"); i >= 0 {
		head, m.body = s[:i+2], s[i+4:]
	} else {
		m.noBlank = true
		if !strings.HasSuffix(head, "\r\n") {
			head += "\r\n"
		}
	}
	i := strings.Index(head, "\r\n")
	m.start, head = head[:i], head[i+2:]
	for head != "" {
		i := strings.Index(head, "\r\n")
		line := head[:i]
		head = head[i+2:]
		// RFC 3261 §7.3.1: a line starting with SP or HTAB continues the
		// previous header field value.
		for head != "" && (head[0] == ' ' || head[0] == '\t') {
			j := strings.Index(head, "\r\n")
			line += " " + strings.Trim(head[:j], " \t")
			head = head[j+2:]
		}
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			m.setBad("malformed_header") // continuation without a field
			continue
		}
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			m.setBad("malformed_header")
			continue
		}
		// RFC 3261 §7.3.1, §25.1: field-name is a token; HCOLON allows WSP
		// before the colon.
		name := strings.TrimRight(line[:colon], " \t")
		if !isToken(name) {
			m.setBad("malformed_header")
			continue
		}
		m.fields = append(m.fields, field{id: headerID(name), value: strings.Trim(line[colon+1:], " \t")})
	}
	return m
}

func (m *scanned) setBad(cause string) {
	if m.badField == "" {
		m.badField = cause
	}
}

// values returns the values of one header field, in order.
func (m *scanned) values(id int) []string {
	var out []string
	for _, f := range m.fields {
		if f.id == id {
			out = append(out, f.value)
		}
	}
	return out
}

// single returns the value of a header field that must appear at most
// once (n is how many times it appears, counting comma-separated values
// where the grammar allows no list).
func (m *scanned) single(id int) (v string, n int) {
	for _, f := range m.fields {
		if f.id == id {
			v = f.value
			n++
		}
	}
	return v, n
}

// RFC 3261 §25.1 character classes.
func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isWord is RFC 3261 §25.1 word (Call-ID = word [ "@" word ]).
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isTokenChar(c) && strings.IndexByte("()<>:\\\"/[]?{}", c) < 0 {
			return false
		}
	}
	return true
}

func isCTL(c byte) bool { return c < 0x20 && c != '\t' || c == 0x7f }

// plainText reports whether a value has no control characters (HTAB aside):
// header fields without quoted-string in their grammar.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if isCTL(s[i]) {
			return false
		}
	}
	return true
}

// quotedText checks a value whose grammar has quoted strings: control
// characters may appear only as quoted-pairs inside them (RFC 3261 §25.1
// qdtext, quoted-pair); balanced reports that every quote is closed.
func quotedText(s string) (ok, balanced bool) {
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case in && c == '\\':
			i++
			if i >= len(s) {
				return true, false
			}
		case c == '"':
			in = !in
		case isCTL(c):
			return false, !in
		}
	}
	return true, !in
}

// splitOutside splits s at sep where sep is outside quoted strings (and,
// with angles, outside <...>), trimming SP and HTAB around each piece.
func splitOutside(s string, sep byte, angles bool) []string {
	var out []string
	in, angle, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case angles && !in && c == '<':
			angle = true
		case angles && !in && c == '>':
			angle = false
		case !in && !angle && c == sep:
			out = append(out, strings.Trim(s[start:i], " \t"))
			start = i + 1
		}
	}
	return append(out, strings.Trim(s[start:], " \t"))
}

// splitList splits a header field value at the commas that separate list
// elements (RFC 3261 §7.3.1), not those inside quoted strings or <...>.
func splitList(s string) []string { return splitOutside(s, ',', true) }

// param is one ";name[=value]" of a header field or Via.
type param struct{ name, value, raw string }

// splitParams splits ";"-separated parameters (outside quoted strings);
// EQUAL allows LWS on both sides (RFC 3261 §25.1 SWS "=" SWS).
func splitParams(s string) []param {
	raws := splitOutside(s, ';', false)
	out := make([]param, 0, len(raws))
	for _, raw := range raws {
		p := param{raw: raw, name: raw}
		if eq := strings.IndexByte(raw, '='); eq >= 0 {
			p.name, p.value = strings.TrimRight(raw[:eq], " \t"), strings.TrimLeft(raw[eq+1:], " \t")
		}
		out = append(out, p)
	}
	return out
}

// validParams checks generic-param = token [ EQUAL gen-value ], gen-value =
// token / host / quoted-string (RFC 3261 §25.1).
func validParams(ps []param) bool {
	for _, p := range ps {
		if !isToken(p.name) {
			return false
		}
		if p.name != p.raw && !validGenValue(p.value) {
			return false
		}
	}
	return true
}

func validGenValue(v string) bool {
	if v == "" {
		return false
	}
	if v[0] == '"' {
		ok, balanced := quotedText(v)
		return ok && balanced && len(v) >= 2 && v[len(v)-1] == '"'
	}
	if v[0] == '[' { // IPv6reference
		return v[len(v)-1] == ']' && len(v) > 2
	}
	return isToken(v)
}

// via is a parsed via-parm (RFC 3261 §20.42, §25.1).
type via struct {
	protocol  string // e.g. "SIP/2.0"
	transport string
	host      string // as received (IPv6 with brackets)
	port      int    // 0 when absent
	head      string // sent-protocol LWS sent-by, as received
	params    []param
	paramsOK  bool
}

// parseVia reads "SIP / 2.0 / UDP host[:port] *(;params)"; LWS is allowed
// around the slashes (RFC 3261 §25.1 SLASH = SWS "/" SWS). ok is false
// when the sent-protocol or sent-by is unusable.
func parseVia(s string) (v via, ok bool) {
	rest := s
	var parts [3]string
	for i := 0; i < 3; i++ {
		rest = strings.TrimLeft(rest, " \t")
		j := 0
		for j < len(rest) && isTokenChar(rest[j]) {
			j++
		}
		parts[i] = rest[:j]
		rest = strings.TrimLeft(rest[j:], " \t")
		if i < 2 {
			if rest == "" || rest[0] != '/' {
				return v, false
			}
			rest = rest[1:]
		}
	}
	if !isToken(parts[0]) || !isToken(parts[1]) || !isToken(parts[2]) {
		return v, false
	}
	v.protocol, v.transport = parts[0]+"/"+parts[1], strings.ToUpper(parts[2])
	// sent-by = host [ COLON port ], then *( SEMI via-params ).
	end := strings.IndexByte(rest, ';')
	sentBy := rest
	if end >= 0 {
		sentBy = rest[:end]
	}
	sentBy = strings.TrimRight(sentBy, " \t")
	host, port, ok := splitHostPort(sentBy)
	if !ok {
		return v, false
	}
	v.host, v.port = host, port
	v.head = strings.TrimRight(s[:len(s)-len(rest)+len(sentBy)], " \t")
	v.paramsOK = true
	if end >= 0 {
		v.params = splitParams(rest[end+1:])
		v.paramsOK = validParams(v.params)
	}
	return v, true
}

// splitHostPort reads host [ ":" port ] (RFC 3261 §25.1: hostname,
// IPv4address or IPv6reference; port 1*DIGIT, here 1..65535).
func splitHostPort(s string) (host string, port int, ok bool) {
	s = strings.TrimSpace(s)
	hostPart, portPart := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, false
		}
		if _, err := netip.ParseAddr(s[1:end]); err != nil {
			return "", 0, false
		}
		hostPart = s[:end+1]
		if rest := s[end+1:]; rest != "" {
			if rest[0] != ':' {
				return "", 0, false
			}
			portPart = rest[1:]
		}
	} else {
		if i := strings.IndexByte(s, ':'); i >= 0 {
			hostPart, portPart = s[:i], s[i+1:]
		}
		if !isHostname(hostPart) {
			return "", 0, false
		}
	}
	if portPart != "" || strings.HasSuffix(s, ":") {
		p, err := strconv.Atoi(portPart)
		if err != nil || p < 1 || p > 65535 || portPart[0] == '+' || portPart[0] == '-' {
			return "", 0, false
		}
		port = p
	}
	return hostPart, port, true
}

// isHostname accepts hostname and IPv4address (RFC 3261 §25.1: labels of
// alphanum and "-", dot-separated, an optional final dot).
func isHostname(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return !strings.Contains(s, "..") && s[0] != '.' && s[0] != '-'
}

// validURIHost checks a SIP URI's host as sipgo parsed it (RFC 3261 §25.1
// host: hostname, IPv4address or IPv6reference, the brackets optional).
func validURIHost(h string) bool {
	if isHostname(h) {
		return true
	}
	_, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
	return err == nil && h != ""
}

// param value of name (case-insensitive), and whether it is present.
func paramOf(ps []param, name string) (string, bool) {
	for _, p := range ps {
		if strings.EqualFold(p.name, name) {
			return p.value, true
		}
	}
	return "", false
}

// knownMethods are the methods of RFC 3261 and its extensions a registrar
// may be sent but does not serve: they get 405 with Allow (RFC 3261
// §8.2.1); other methods get 501 (§21.5.2).
var knownMethods = []string{"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", // RFC 3261
	"PRACK", "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"} // RFC 3262, 6665, 3903, 6086, 3515, 3428, 3311

// Supported lists the option tags the registrar model accepts in Require
// (RFC 3327 path); others get 420 (RFC 3261 §8.2.2.3).
var supportedTags = []string{"path"}

// Limits bounds what Inspect accepts.
type Limits struct {
	// MaxMessage is the largest message in bytes (RFC 3261 §18.1.1: 65,535
	// over UDP); 0 means 65,535.
	MaxMessage int
}

// DefaultMaxMessage is the largest SIP message accepted by default
// (RFC 3261 §18.1.1: a UDP datagram of up to 65,535 bytes).
const DefaultMaxMessage = 65535

// Inspect reads one message received from src (a whole datagram over UDP,
// one framed message over TCP) and decides what a registrar does with it:
// the checks of RFC 3261 §8.2 (method §8.2.1, header fields §8.2.2, the
// mandatory fields of §8.1.1), §18.3 (Content-Length), §10.3 (REGISTER),
// with the RFC 4475 torture cases in mind. It never panics and never
// allocates beyond a small multiple of len(b).
func Inspect(b []byte, src Source) Verdict {
	return inspect(string(b), src)
}

func reject(code int, reason, cause string) Verdict {
	return Verdict{Kind: KindReject, Code: code, Reason: reason, Cause: cause}
}

func inspect(s string, src Source) Verdict {
	if len(s) > DefaultMaxMessage {
		return Verdict{Kind: KindDrop, Cause: "oversize"}
	}
	if src.Transport == "TCP" {
		// RFC 3261 §7.5: CRLFs before the start line are ignored on streams.
		for strings.HasPrefix(s, "\r\n") {
			s = s[2:]
		}
	}
	m := scan(s)
	// The start line: a response, a request, or not SIP at all.
	line := m.start
	if len(line) >= 4 && strings.EqualFold(line[:4], "SIP/") {
		return Verdict{Kind: KindResponse}
	}
	trimmed := strings.TrimRight(line, " \t")
	first, last := strings.IndexAny(trimmed, " \t"), strings.LastIndexAny(trimmed, " \t")
	if first < 0 || !plainText(line) {
		return Verdict{Kind: KindDrop, Cause: "unparseable"}
	}
	method, version := trimmed[:first], trimmed[last+1:]
	if len(version) < 4 || !strings.EqualFold(version[:4], "SIP/") || !isToken(method) {
		return Verdict{Kind: KindDrop, Cause: "unparseable"}
	}
	// RFC 3261 §17.2.1 (and §8.2.5, §17.1.1.3): no element answers an ACK.
	if method == "ACK" {
		return Verdict{Kind: KindIgnore, Method: method, Cause: "ack"}
	}
	v := Verdict{Method: method}
	e, topVia, cause := echoOf(&m, src)
	if e == nil {
		// RFC 3261 §18.2.2 routes a response by the top Via; without a
		// usable one (and §8.2.6.2 a response that could copy it) the
		// request cannot be answered.
		return Verdict{Kind: KindDrop, Method: method, Cause: cause}
	}
	v.Echo = e
	fail := func(code int, reason, cause string) Verdict {
		r := reject(code, reason, cause)
		r.Echo, r.Method = e, method
		return r
	}
	// RFC 3261 §7.1: SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT, case-insensitive;
	// §21.5.6 (§8.2.2 by extension): a version other than 2.0 gets 505.
	if major, minor, ok := strings.Cut(version[4:], "."); !ok || !allDigits(major) || !allDigits(minor) {
		return fail(400, "Bad Request - malformed SIP-Version", "malformed_request_line")
	} else if strings.TrimLeft(major, "0") != "2" || strings.TrimLeft(minor, "0") != "" {
		return fail(505, "Version Not Supported", "version")
	}
	// RFC 3261 §25.1: Request-Line = Method SP Request-URI SP SIP-Version
	// CRLF, single SP separators (RFC 4475 §3.1.2.8-10: embedded LWS,
	// extra or trailing SP are malformed).
	if first == last {
		return fail(400, "Bad Request - malformed Request-Line", "malformed_request_line")
	}
	ruri := trimmed[first+1 : last]
	if trimmed != line || trimmed[first] != ' ' || trimmed[last] != ' ' || ruri == "" || strings.ContainsAny(ruri, " \t") {
		return fail(400, "Bad Request - malformed Request-Line", "malformed_request_line")
	}
	if ruri[0] == '<' { // RFC 4475 §3.1.2.7: Request-URI is never in <>
		return fail(400, "Bad Request - Request-URI in <>", "malformed_request_uri")
	}
	if !hasScheme(ruri) {
		return fail(400, "Bad Request - malformed Request-URI", "malformed_request_uri")
	}
	if m.noBlank {
		return fail(400, "Bad Request - no empty line after the header fields", "malformed_header")
	}
	if m.badField != "" {
		return fail(400, "Bad Request - malformed header field", m.badField)
	}
	// Mandatory header fields (RFC 3261 §8.1.1) and their syntax.
	if r, bad := checkHeaders(&m, method, topVia); bad {
		r.Echo, r.Method = e, method
		return r
	}
	// RFC 3261 §18.3: over UDP a Content-Length larger than the datagram
	// is an error (400); octets beyond it are discarded. Over a stream the
	// framing already cut the message at Content-Length.
	cl, n := m.single(hContentLength)
	switch {
	case n > 1:
		return fail(400, "Bad Request - more than one Content-Length", "duplicate_content_length")
	case n == 1:
		l, ok := ParseDeltaSeconds(cl) // 1*DIGIT, as delta-seconds
		if !ok {
			return fail(400, "Bad Request - malformed Content-Length", "malformed_content_length")
		}
		if l > int64(len(m.body)) {
			return fail(400, "Bad Request - Content-Length larger than the message", "content_length_mismatch")
		}
		m.body = m.body[:l]
	case src.Transport == "TCP":
		return fail(400, "Bad Request - no Content-Length on a stream", "missing_content_length")
	}
	// RFC 3261 §8.2.1: methods the registrar does not serve.
	if method != "REGISTER" {
		switch {
		case method == "CANCEL":
			// RFC 3261 §9.2: matched by the top Via as in §17.2.3.
			v.Kind, v.TxnKey = KindCancel, txnKey(topVia)
			return v
		case isKnownMethod(method):
			r := fail(405, "Method Not Allowed", "method_not_allowed")
			r.Extra = []string{"Allow: REGISTER"}
			return r
		}
		return fail(501, "Not Implemented", "unknown_method")
	}
	req, r := register(&m, ruri, topVia, e)
	if req == nil {
		r.Echo, r.Method = e, method
		return r
	}
	return Verdict{Kind: KindRegister, Request: req, Echo: e, Method: method, TxnKey: txnKey(topVia)}
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isKnownMethod(m string) bool {
	for _, k := range knownMethods {
		if k == m {
			return true
		}
	}
	return false
}

// hasScheme checks absoluteURI's scheme ":" (RFC 3261 §25.1: scheme = ALPHA
// *( ALPHA / DIGIT / "+" / "-" / "." )).
func hasScheme(u string) bool {
	i := strings.IndexByte(u, ':')
	if i < 1 || i == len(u)-1 {
		return false
	}
	for j := 0; j < i; j++ {
		c := u[j] | 0x20
		if !(c >= 'a' && c <= 'z' || j > 0 && (u[j] >= '0' && u[j] <= '9' || u[j] == '+' || u[j] == '-' || u[j] == '.')) {
			return false
		}
	}
	return true
}

// txnKey is the RFC 3261 §17.2.3 key of a request: branch and sent-by.
func txnKey(v *via) string {
	b, _ := paramOf(v.params, "branch")
	return b + " " + sentByOf(v)
}

// sentByOf normalises a Via's transport and sent-by for comparison: host
// lower-cased, the default port explicit (RFC 3261 §18.2.2, §19.1.4: 5060,
// 5061 for TLS).
func sentByOf(v *via) string {
	port := v.port
	if port == 0 {
		port = 5060
		if v.transport == "TLS" {
			port = 5061
		}
	}
	return v.transport + " " + strings.ToLower(v.host) + ":" + strconv.Itoa(port)
}

// echoOf collects what a response copies (RFC 3261 §8.2.6.2) and checks
// that the top Via is usable; nil with a cause when it is not.
func echoOf(m *scanned, src Source) (*sipmsg.Echo, *via, string) {
	vias := m.values(hVia)
	if len(vias) == 0 {
		return nil, nil, "no_via"
	}
	for _, v := range vias {
		if ok, _ := quotedText(v); !ok {
			return nil, nil, "no_via" // a control character would break the answer
		}
	}
	first := splitList(vias[0])[0] // a prefix of vias[0]
	top, ok := parseVia(first)
	if !ok {
		return nil, nil, "no_via"
	}
	e := &sipmsg.Echo{Via: vias, SentBy: sentByOf(&top)}
	e.Via[0] = withReceived(first, &top, src) + vias[0][len(first):]
	// The other fields are copied only when they are single and free of
	// control characters outside quoted strings: the answer must not carry
	// bytes that would break its own framing.
	copyOne := func(id int, quoted bool) string {
		v, n := m.single(id)
		if n != 1 {
			return ""
		}
		if quoted {
			if ok, _ := quotedText(v); !ok {
				return ""
			}
		} else if !plainText(v) {
			return ""
		}
		return v
	}
	e.From, e.To = copyOne(hFrom, true), copyOne(hTo, true)
	e.CallID, e.CSeq = copyOne(hCallID, false), copyOne(hCSeq, false)
	if e.To != "" {
		if _, params, ok := nameAddr(e.To); ok {
			_, e.ToTagged = paramOf(params, "tag")
		}
	}
	return e, &top, ""
}

// withReceived adds "received" to the top Via when the sent-by host is not
// the packet's source address (RFC 3261 §18.2.1), and with "rport" present
// without a value fills in the source port and adds received (RFC 3581
// §4). Otherwise the value is returned unchanged.
func withReceived(raw string, v *via, src Source) string {
	if !src.Addr.IsValid() {
		return raw
	}
	ip := src.Addr.Addr().Unmap()
	host := strings.Trim(v.host, "[]")
	hostIP, err := netip.ParseAddr(host)
	sameHost := err == nil && hostIP.Unmap() == ip
	rportEmpty := false
	for _, p := range v.params {
		if strings.EqualFold(p.name, "rport") && p.raw == p.name {
			rportEmpty = true
		}
	}
	if sameHost && !rportEmpty || !v.paramsOK {
		return raw
	}
	var b strings.Builder
	b.WriteString(v.head)
	for _, p := range v.params {
		switch {
		case strings.EqualFold(p.name, "received"):
			continue // replaced below
		case strings.EqualFold(p.name, "rport") && p.raw == p.name:
			b.WriteString(";rport=" + strconv.Itoa(int(src.Addr.Port())))
		default:
			b.WriteString(";" + p.raw)
		}
	}
	b.WriteString(";received=" + ip.String())
	return b.String()
}

// nameAddr reads ( name-addr / addr-spec ) *( SEMI params ) of From, To
// and Contact (RFC 3261 §20.10, §20.20, §20.39): the URI and the header
// parameters; ok is false when malformed (unbalanced quotes, a display
// name that is not tokens or a quoted string, a missing ">", an addr-spec
// containing ",", "?" or ";" in its URI part: RFC 3261 §20).
func nameAddr(s string) (uri string, params []param, ok bool) {
	s = strings.Trim(s, " \t")
	if qok, balanced := quotedText(s); !qok || !balanced {
		return "", nil, false
	}
	rest := ""
	if lt := indexOutsideQuotes(s, '<'); lt >= 0 {
		display := strings.Trim(s[:lt], " \t")
		if display != "" && !validDisplayName(display) {
			return "", nil, false
		}
		gt := strings.IndexByte(s[lt:], '>')
		if gt < 0 {
			return "", nil, false
		}
		uri, rest = s[lt+1:lt+gt], strings.TrimLeft(s[lt+gt+1:], " \t")
		if rest != "" && rest[0] != ';' {
			return "", nil, false
		}
	} else {
		uri, rest = s, ""
		if i := strings.IndexByte(s, ';'); i >= 0 {
			uri, rest = s[:i], s[i:]
		}
		uri = strings.TrimRight(uri, " \t")
		// RFC 3261 §20: a URI with a comma, question mark or semicolon
		// must be in <>; a quoted display name needs <> too.
		if strings.ContainsAny(uri, "?,\" \t") {
			return "", nil, false
		}
	}
	// RFC 3261 §25.1: no URI contains "<", ">", DQUOTE or whitespace.
	if !hasScheme(uri) || strings.ContainsAny(uri, " \t<>\"") {
		return "", nil, false
	}
	if rest != "" {
		params = splitParams(rest[1:])
		if !validParams(params) {
			return "", nil, false
		}
	}
	return uri, params, true
}

func indexOutsideQuotes(s string, c byte) int {
	in := false
	for i := 0; i < len(s); i++ {
		switch {
		case in && s[i] == '\\':
			i++
		case s[i] == '"':
			in = !in
		case !in && s[i] == c:
			return i
		}
	}
	return -1
}

// validDisplayName: display-name = *(token LWS) / quoted-string.
func validDisplayName(d string) bool {
	if d[0] == '"' {
		if len(d) < 2 || d[len(d)-1] != '"' {
			return false
		}
		inner := d[1 : len(d)-1]
		for i := 0; i < len(inner); i++ {
			switch inner[i] {
			case '\\':
				i++ // quoted-pair
				if i >= len(inner) {
					return false // the closing quote was escaped
				}
			case '"':
				return false
			}
		}
		return true
	}
	for _, w := range strings.FieldsFunc(d, func(r rune) bool { return r == ' ' || r == '\t' }) {
		if !isToken(w) {
			return false
		}
	}
	return true
}

// checkHeaders checks the mandatory header fields of RFC 3261 §8.1.1 (To,
// From, CSeq, Call-ID, Via; Max-Forwards is tolerated when absent, as for
// RFC 2543 peers) and their syntax; the returned Verdict is the 400.
func checkHeaders(m *scanned, method string, top *via) (Verdict, bool) {
	// Every Via: sent-protocol, sent-by and well-formed parameters; a
	// branch of only the magic cookie identifies nothing (RFC 4475 §3.2.1).
	for _, raw := range m.values(hVia) {
		for _, one := range splitList(raw) {
			vv, ok := parseVia(one)
			if qok, balanced := quotedText(one); !ok || !vv.paramsOK || !qok || !balanced {
				return reject(400, "Bad Request - malformed Via", "malformed_via"), true
			}
		}
	}
	if b, ok := paramOf(top.params, "branch"); ok && (b == "z9hG4bK" || b == "") {
		return reject(400, "Bad Request - Via branch without a transaction identifier", "malformed_via"), true
	}
	for _, h := range [...]struct {
		id   int
		name string
		slug string
	}{{hFrom, "From", "from"}, {hTo, "To", "to"}, {hCallID, "Call-ID", "call_id"}, {hCSeq, "CSeq", "cseq"}} {
		vals := m.values(h.id)
		n := 0
		for _, v := range vals {
			if h.id == hFrom || h.id == hTo {
				n += len(splitList(v))
			} else {
				n++
			}
		}
		switch {
		case n == 0:
			return reject(400, "Bad Request - missing "+h.name, "missing_"+h.slug), true
		case n > 1:
			return reject(400, "Bad Request - more than one "+h.name, "duplicate_"+h.slug), true
		}
		v := vals[0]
		switch h.id {
		case hFrom, hTo:
			if _, _, ok := nameAddr(v); !ok {
				return reject(400, "Bad Request - malformed "+h.name, "malformed_"+h.slug), true
			}
		case hCallID:
			if !isCallID(v) {
				return reject(400, "Bad Request - malformed Call-ID", "malformed_call_id"), true
			}
		case hCSeq:
			num, meth, ok := cutLWS(v)
			// RFC 3261 §8.1.1.5: the sequence number is below 2^31.
			if !ok || !allDigits(num) || len(strings.TrimLeft(num, "0")) > 10 {
				return reject(400, "Bad Request - malformed CSeq", "malformed_cseq"), true
			}
			if n, _ := strconv.ParseUint(num, 10, 64); n > 1<<31-1 {
				return reject(400, "Bad Request - CSeq number out of range", "malformed_cseq"), true
			}
			// RFC 3261 §8.1.1.5, RFC 4475 §3.1.2.17: the method matches.
			if meth != method {
				return reject(400, "Bad Request - CSeq method does not match the request", "cseq_method_mismatch"), true
			}
		}
	}
	// RFC 3261 §20.22: Max-Forwards is an integer 0-255.
	if mf, n := m.single(hMaxForwards); n > 1 {
		return reject(400, "Bad Request - more than one Max-Forwards", "duplicate_max_forwards"), true
	} else if n == 1 && (!allDigits(mf) || len(strings.TrimLeft(mf, "0")) > 3 || mustAtoi(strings.TrimLeft(mf, "0")) > 255) {
		return reject(400, "Bad Request - malformed Max-Forwards", "malformed_max_forwards"), true
	}
	// Every header field: control characters only as quoted-pairs
	// (RFC 3261 §25.1 TEXT-UTF8, qdtext, quoted-pair).
	for _, f := range m.fields {
		switch f.id {
		case hCallID, hCSeq, hContentLength, hExpires, hMaxForwards:
			if !plainText(f.value) {
				return reject(400, "Bad Request - control character in a header field", "control_character"), true
			}
		default:
			if ok, _ := quotedText(f.value); !ok {
				return reject(400, "Bad Request - control character in a header field", "control_character"), true
			}
		}
	}
	return Verdict{}, false
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// cutLWS splits "a LWS b" (CSeq = 1*DIGIT LWS Method).
func cutLWS(s string) (a, b string, ok bool) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return "", "", false
	}
	a, b = s[:i], strings.TrimLeft(s[i:], " \t")
	return a, b, a != "" && isToken(b)
}

// isCallID: callid = word [ "@" word ] (RFC 3261 §25.1).
func isCallID(s string) bool {
	a, b, found := strings.Cut(s, "@")
	return isWord(a) && (!found || isWord(b))
}

// register applies the REGISTER rules of RFC 3261 §10.3 the model needs
// and builds the Request; on a failure the Verdict is the answer.
func register(m *scanned, ruri string, top *via, e *sipmsg.Echo) (*sipmsg.Request, Verdict) {
	// RFC 3261 §8.2.2.1 (§10.3 step 1): a Request-URI scheme the
	// registrar does not serve gets 416; §19.1.1: no headers in a
	// Request-URI (RFC 4475 §3.1.2.11).
	var ru sip.Uri
	scheme := strings.ToLower(ruri[:strings.IndexByte(ruri, ':')])
	if scheme != "sip" && scheme != "sips" {
		return nil, reject(416, "Unsupported URI Scheme", "unsupported_uri_scheme")
	}
	if strings.ContainsRune(ruri, '?') || sip.ParseUri(ruri, &ru) != nil || !validURIHost(ru.Host) {
		return nil, reject(400, "Bad Request - malformed Request-URI", "malformed_request_uri")
	}
	// RFC 3261 §8.2.2.3: option tags in Require the registrar does not
	// support get 420 listing them in Unsupported (Proxy-Require is for
	// proxies, §20.29, and is ignored by a UAS).
	var unsupported []string
	for _, raw := range m.values(hRequire) {
		for _, tag := range splitList(raw) {
			if !isToken(tag) {
				return nil, reject(400, "Bad Request - malformed Require", "malformed_require")
			}
			known := false
			for _, s := range supportedTags {
				known = known || strings.EqualFold(s, tag)
			}
			if !known {
				unsupported = append(unsupported, tag)
			}
		}
	}
	if len(unsupported) > 0 {
		r := reject(420, "Bad Extension", "bad_extension")
		r.Extra = []string{"Unsupported: " + strings.Join(unsupported, ", ")}
		return nil, r
	}
	from, _ := m.single(hFrom)
	to, _ := m.single(hTo)
	_, fromParams, _ := nameAddr(from)
	toURI, _, _ := nameAddr(to)
	// RFC 3261 §10.3 step 5: the address-of-record is the To URI; one that
	// is not a SIP URI is not valid for the domain (404).
	var aor sip.Uri
	if s := strings.ToLower(toURI[:strings.IndexByte(toURI, ':')]); s != "sip" && s != "sips" {
		return nil, reject(404, "Not Found - To is not a SIP URI", "to_not_sip")
	}
	if sip.ParseUri(toURI, &aor) != nil || !validURIHost(aor.Host) {
		return nil, reject(400, "Bad Request - malformed To", "malformed_to")
	}
	callID, _ := m.single(hCallID)
	cseq, _ := m.single(hCSeq)
	num, _, _ := cutLWS(cseq)
	branch, _ := paramOf(top.params, "branch")
	fromTag, _ := paramOf(fromParams, "tag")
	req := &sipmsg.Request{CallID: callID, Branch: branch, FromTag: fromTag, CSeq: uint32(mustAtoi(strings.TrimLeft(num, "0"))),
		RequestURI: ruri, AOR: uriString(&aor), Expires: -1, Echo: e}
	// RFC 3261 §20.19: Expires = delta-seconds; larger than 2^32-1 is
	// taken as 2^32-1 (ParseDeltaSeconds).
	if ex, n := m.single(hExpires); n > 1 {
		return nil, reject(400, "Bad Request - more than one Expires", "duplicate_expires")
	} else if n == 1 {
		d, ok := ParseDeltaSeconds(ex)
		if !ok {
			return nil, reject(400, "Bad Request - Expires is not delta-seconds", "malformed_expires")
		}
		req.Expires = d
	}
	// Contact (RFC 3261 §10.2.1, §20.10): the model binds one contact, the
	// first; "*" only alone and with Expires: 0 (§10.3 step 6).
	var contacts []string
	for _, raw := range m.values(hContact) {
		contacts = append(contacts, splitList(raw)...)
	}
	for i, c := range contacts {
		if c == "*" {
			if len(contacts) > 1 || req.Expires != 0 {
				return nil, reject(400, "Bad Request - wildcard Contact needs Expires: 0 and no other contact", "malformed_contact")
			}
			req.Contact = "*"
			continue
		}
		uri, params, ok := nameAddr(c)
		var cu sip.Uri
		if !ok || sip.ParseUri(uri, &cu) != nil {
			return nil, reject(400, "Bad Request - malformed Contact", "malformed_contact")
		}
		if i == 0 {
			req.Contact = uri
			// RFC 3261 §10.2.1.1: the contact's expires parameter takes
			// precedence over the Expires header field.
			if ev, has := paramOf(params, "expires"); has {
				d, ok := ParseDeltaSeconds(ev)
				if !ok {
					return nil, reject(400, "Bad Request - contact expires is not delta-seconds", "malformed_expires")
				}
				req.Expires = d
			}
		}
	}
	// Authorization (RFC 3261 §22.4, RFC 2617 §3.2.2): Digest credentials
	// are read; another scheme is not understood, so the request counts as
	// unauthenticated and is challenged (RFC 4475 §3.3.7 regaut01).
	for _, a := range m.values(hAuthorization) {
		scheme := a
		if i := strings.IndexAny(a, " \t"); i >= 0 {
			scheme = a[:i]
		}
		if !strings.EqualFold(scheme, "Digest") {
			continue
		}
		p, err := parseDigest(a)
		if _, balanced := quotedText(a); err != nil || !balanced {
			return nil, reject(400, "Bad Request - malformed Authorization", "malformed_authorization")
		}
		req.Auth = &sipmsg.Credentials{Username: p["username"], Realm: p["realm"], Nonce: p["nonce"], URI: p["uri"],
			Response: p["response"], Algorithm: p["algorithm"], QOP: p["qop"], NC: p["nc"], CNonce: p["cnonce"], AUTS: p["auts"]}
		break
	}
	return req, Verdict{}
}

// ReplyTo renders an answer to a message of which only the header section
// is known (one a stream framer refused: too large, or without a usable
// Content-Length), nil when it has no usable Via.
func ReplyTo(header []byte, src Source, code int, reason, toTag string) []byte {
	s := string(header)
	if !strings.HasSuffix(s, "\r\n\r\n") {
		s += "\r\n\r\n"
	}
	m := scan(s)
	e, _, _ := echoOf(&m, src)
	if e == nil {
		return nil
	}
	return renderReply(e, code, reason, toTag, nil)
}
