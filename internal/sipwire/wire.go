package sipwire

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/regstorm/regstorm/internal/sipmsg"
)

// Endpoint is where a message says it comes from: the Via sent-by and the
// Contact host (RFC 3261 §18.2.1, §20.10).
type Endpoint struct {
	Transport string // "UDP" or "TCP"
	Host      string
	Port      int
}

// DefaultEndpoint is used when the simulation renders messages: no real
// socket stands behind it.
var DefaultEndpoint = Endpoint{Transport: "UDP", Host: "ue.invalid", Port: 5060}

// ErrBadMessage is wrapped by every parse failure.
var ErrBadMessage = errors.New("sipmsg: bad SIP message")

// RequestToSIP renders a REGISTER as a sipgo request (RFC 3261 §10.2, TS 24.229
// §5.1.1.2).
func RequestToSIP(r *sipmsg.Request, ep Endpoint) (*sip.Request, error) {
	var ruri sip.Uri
	if err := sip.ParseUri(r.RequestURI, &ruri); err != nil {
		return nil, fmt.Errorf("sipmsg: Request-URI %s: %w", Excerpt(r.RequestURI), err)
	}
	var aor sip.Uri
	if err := sip.ParseUri(r.AOR, &aor); err != nil {
		return nil, fmt.Errorf("sipmsg: AOR %s: %w", Excerpt(r.AOR), err)
	}
	req := sip.NewRequest(sip.REGISTER, ruri)
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: ep.Transport, Host: ep.Host, Port: ep.Port, Params: sip.NewParams()}
	via.Params.Add("branch", r.Branch)
	req.AppendHeader(via)
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.FromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	cid := sip.CallIDHeader(r.CallID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.CSeq, MethodName: sip.REGISTER})
	if r.Contact != "" {
		req.AppendHeader(sip.NewHeader("Contact", "<"+r.Contact+">"))
	}
	if r.Expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.FormatInt(r.Expires, 10)))
	}
	if r.Auth != nil {
		req.AppendHeader(sip.NewHeader("Authorization", r.Auth.String()))
	}
	req.AppendHeader(sip.NewHeader("Supported", "path"))
	cl := sip.ContentLengthHeader(0)
	req.AppendHeader(&cl)
	return req, nil
}

// ResponseToSIP renders a response to a REGISTER (RFC 3261 §10.3). With an Echo
// the response carries the request's Via, From, To, Call-ID and CSeq as
// received (RFC 3261 §8.2.6.2); without one (the simulation) they are built
// from the response's fields, the Via naming ep.
func ResponseToSIP(r *sipmsg.Response, ep Endpoint) (*sip.Response, error) {
	res := sip.NewResponse(r.Code, r.Reason)
	if e := r.Echo; e != nil {
		// RFC 3261 §8.2.6.2: the Via header field values in the same order,
		// From, Call-ID and CSeq equal to the request's; To equal, with a
		// tag added when the request had none.
		for _, v := range e.Via {
			res.AppendHeader(sip.NewHeader("Via", v))
		}
		if e.From != "" {
			res.AppendHeader(sip.NewHeader("From", e.From))
		}
		if e.To != "" {
			to := e.To
			if !e.ToTagged && r.ToTag != "" {
				to += ";tag=" + r.ToTag
			}
			res.AppendHeader(sip.NewHeader("To", to))
		}
		if e.CallID != "" {
			res.AppendHeader(sip.NewHeader("Call-ID", e.CallID))
		}
		if e.CSeq != "" {
			res.AppendHeader(sip.NewHeader("CSeq", e.CSeq))
		}
	} else {
		via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: ep.Transport, Host: ep.Host, Port: ep.Port, Params: sip.NewParams()}
		via.Params.Add("branch", r.Branch)
		res.AppendHeader(via)
		var to sip.Uri
		if r.To != "" {
			if err := sip.ParseUri(r.To, &to); err != nil {
				return nil, fmt.Errorf("sipmsg: To %s: %w", Excerpt(r.To), err)
			}
		}
		from := &sip.FromHeader{Address: to, Params: sip.NewParams()}
		from.Params.Add("tag", r.FromTag)
		res.AppendHeader(from)
		toh := &sip.ToHeader{Address: to, Params: sip.NewParams()}
		if r.ToTag != "" {
			toh.Params.Add("tag", r.ToTag)
		}
		res.AppendHeader(toh)
		cid := sip.CallIDHeader(r.CallID)
		res.AppendHeader(&cid)
		res.AppendHeader(&sip.CSeqHeader{SeqNo: r.CSeq, MethodName: sip.REGISTER})
	}
	if r.Challenge != nil {
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", r.Challenge.String()))
	}
	if r.Code >= 200 && r.Code < 300 {
		if r.Contact != "" {
			res.AppendHeader(sip.NewHeader("Contact", "<"+r.Contact+">;expires="+strconv.FormatInt(r.Expires, 10)))
		} else if r.Expires >= 0 {
			res.AppendHeader(sip.NewHeader("Expires", strconv.FormatInt(r.Expires, 10)))
		}
	}
	if r.AssociatedURI != "" {
		res.AppendHeader(sip.NewHeader("P-Associated-URI", "<"+r.AssociatedURI+">"))
	}
	if r.ServiceRoute != "" {
		res.AppendHeader(sip.NewHeader("Service-Route", r.ServiceRoute))
	}
	if r.RegistrarError != "" {
		res.AppendHeader(sip.NewHeader("P-Registrar-Error", r.RegistrarError))
	}
	if r.RetryAfter > 0 {
		res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(int(r.RetryAfter))))
	}
	cl := sip.ContentLengthHeader(0)
	res.AppendHeader(&cl)
	return res, nil
}

// Marshal renders a Request or Response to wire bytes.
func Marshal(m any, ep Endpoint) ([]byte, error) {
	switch m := m.(type) {
	case *sipmsg.Request:
		r, err := RequestToSIP(m, ep)
		if err != nil {
			return nil, err
		}
		return []byte(r.String()), nil
	case *sipmsg.Response:
		r, err := ResponseToSIP(m, ep)
		if err != nil {
			return nil, err
		}
		return []byte(r.String()), nil
	}
	return nil, fmt.Errorf("sipmsg: cannot marshal %T", m)
}

// Unmarshal parses wire bytes into a Request (REGISTER only) or Response.
func Unmarshal(b []byte) (any, error) {
	msg, err := sip.ParseMessage(b)
	if err != nil {
		// sipgo's error texts may quote network bytes: escaped and bounded.
		return nil, fmt.Errorf("%w: %s", ErrBadMessage, Excerpt(err.Error()))
	}
	return FromSIP(msg)
}

func common(m interface {
	Via() *sip.ViaHeader
	From() *sip.FromHeader
	To() *sip.ToHeader
	CallID() *sip.CallIDHeader
	CSeq() *sip.CSeqHeader
}) (branch, fromTag, callID string, cseq uint32, to *sip.ToHeader, err error) {
	via, from, cid, cs := m.Via(), m.From(), m.CallID(), m.CSeq()
	to = m.To()
	switch {
	case via == nil:
		return "", "", "", 0, nil, fmt.Errorf("%w: no Via", ErrBadMessage)
	case from == nil || to == nil:
		return "", "", "", 0, nil, fmt.Errorf("%w: no From or To", ErrBadMessage)
	case cid == nil || *cid == "":
		return "", "", "", 0, nil, fmt.Errorf("%w: no Call-ID", ErrBadMessage)
	case cs == nil:
		return "", "", "", 0, nil, fmt.Errorf("%w: no CSeq", ErrBadMessage)
	}
	branch, _ = via.Params.Get("branch")
	fromTag, _ = from.Params.Get("tag")
	return branch, fromTag, string(*cid), cs.SeqNo, to, nil
}

// FromSIPRequest reads a REGISTER.
func FromSIPRequest(m *sip.Request) (*sipmsg.Request, error) {
	if m.Method != sip.REGISTER {
		return nil, fmt.Errorf("%w: method %s, only REGISTER is handled", ErrBadMessage, Excerpt(string(m.Method)))
	}
	branch, fromTag, callID, cseq, to, err := common(m)
	if err != nil {
		return nil, err
	}
	r := &sipmsg.Request{CallID: callID, Branch: branch, FromTag: fromTag, CSeq: cseq, RequestURI: m.Recipient.String(),
		AOR: uriString(&to.Address), Expires: -1}
	if e := m.GetHeader("Expires"); e != nil {
		n, ok := ParseDeltaSeconds(strings.TrimSpace(e.Value()))
		if !ok {
			return nil, fmt.Errorf("%w: Expires %s is not delta-seconds", ErrBadMessage, Excerpt(e.Value()))
		}
		r.Expires = n
	}
	if c := m.GetHeader("Contact"); c != nil {
		v := c.Value()
		r.Contact = strings.Trim(strings.SplitN(v, ";", 2)[0], "<> ")
		// RFC 3261 §10.2.1.1: the contact's expires parameter takes
		// precedence over the Expires header field.
		if i := strings.Index(v, "expires="); i >= 0 {
			n, ok := ParseDeltaSeconds(strings.TrimSpace(strings.SplitN(v[i+8:], ";", 2)[0]))
			if !ok {
				return nil, fmt.Errorf("%w: contact expires %s is not delta-seconds", ErrBadMessage, Excerpt(v[i+8:]))
			}
			r.Expires = n
		}
	}
	if a := m.GetHeader("Authorization"); a != nil {
		p, err := parseDigest(a.Value())
		if err != nil {
			return nil, fmt.Errorf("%w: Authorization: %w", ErrBadMessage, err)
		}
		r.Auth = &sipmsg.Credentials{Username: p["username"], Realm: p["realm"], Nonce: p["nonce"], URI: p["uri"],
			Response: p["response"], Algorithm: p["algorithm"], QOP: p["qop"], NC: p["nc"], CNonce: p["cnonce"], AUTS: p["auts"]}
	}
	return r, nil
}

// FromSIPResponse reads a response to a REGISTER.
func FromSIPResponse(m *sip.Response) (*sipmsg.Response, error) {
	branch, fromTag, callID, cseq, to, err := common(m)
	if err != nil {
		return nil, err
	}
	r := &sipmsg.Response{Code: m.StatusCode, Reason: m.Reason, CallID: callID, Branch: branch, FromTag: fromTag, CSeq: cseq,
		To: uriString(&to.Address), Expires: -1}
	r.ToTag, _ = to.Params.Get("tag")
	if w := m.GetHeader("WWW-Authenticate"); w != nil {
		p, err := parseDigest(w.Value())
		if err != nil {
			return nil, fmt.Errorf("%w: WWW-Authenticate: %w", ErrBadMessage, err)
		}
		r.Challenge = &sipmsg.Challenge{Realm: p["realm"], Nonce: p["nonce"], Algorithm: p["algorithm"], QOP: p["qop"], CK: p["ck"], IK: p["ik"]}
	}
	if c := m.GetHeader("Contact"); c != nil {
		v := c.Value()
		r.Contact = strings.Trim(strings.SplitN(v, ";", 2)[0], "<> ")
		if i := strings.Index(v, "expires="); i >= 0 {
			if n, ok := ParseDeltaSeconds(strings.TrimSpace(strings.SplitN(v[i+8:], ";", 2)[0])); ok {
				r.Expires = n
			}
		}
	} else if e := m.GetHeader("Expires"); e != nil {
		if n, ok := ParseDeltaSeconds(strings.TrimSpace(e.Value())); ok {
			r.Expires = n
		}
	}
	if h := m.GetHeader("P-Associated-URI"); h != nil {
		r.AssociatedURI = strings.Trim(strings.SplitN(h.Value(), ",", 2)[0], "<> ")
	}
	if h := m.GetHeader("Service-Route"); h != nil {
		r.ServiceRoute = h.Value()
	}
	if h := m.GetHeader("P-Registrar-Error"); h != nil {
		r.RegistrarError = h.Value()
	}
	if h := m.GetHeader("Retry-After"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(h.Value(), ";", 2)[0]))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: Retry-After %s", ErrBadMessage, Excerpt(h.Value()))
		}
		r.RetryAfter = int32(n)
	}
	return r, nil
}

func uriString(u *sip.Uri) string {
	s := u.Scheme
	if s == "" {
		s = "sip"
	}
	out := s + ":"
	if u.User != "" {
		out += u.User + "@"
	}
	out += u.Host
	if u.Port != 0 {
		out += ":" + strconv.Itoa(u.Port)
	}
	return out
}

// parseDigest reads the parameters of a Digest challenge or credentials
// (RFC 2617 §3.2.1-3.2.2): "Digest" then comma-separated name=value,
// values optionally quoted (quoted values may contain commas).
func parseDigest(v string) (map[string]string, error) {
	v = strings.TrimSpace(v)
	if len(v) < 6 || !strings.EqualFold(v[:6], "Digest") {
		return nil, fmt.Errorf("scheme is not Digest in %s", Excerpt(v))
	}
	p := map[string]string{}
	s := v[6:]
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return p, nil
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("parameter without value in %s", Excerpt(s))
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in parameter %s", Excerpt(name))
			}
			val, s = s[1:1+end], s[2+end:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		p[name] = val
	}
}

// FromSIP converts a parsed sipgo message.
func FromSIP(m sip.Message) (any, error) {
	switch m := m.(type) {
	case *sip.Request:
		return FromSIPRequest(m)
	case *sip.Response:
		return FromSIPResponse(m)
	}
	return nil, fmt.Errorf("%w: neither request nor response", ErrBadMessage)
}

// ParseDeltaSeconds reads delta-seconds, 1*DIGIT (RFC 3261 §25.1); values
// above 2^32-1 are taken as 2^32-1 (RFC 3261 §20.19, RFC 4475 §3.1.2.4),
// never wrapped.
func ParseDeltaSeconds(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < sipmsg.MaxExpires {
			n = n*10 + int64(c-'0')
		}
	}
	return min(n, sipmsg.MaxExpires), true
}

// excerptMax bounds the network text an error or log line may quote.
const excerptMax = 80

// Excerpt quotes at most the first 80 bytes of network text (Go syntax,
// control characters escaped), so that text from a peer cannot forge log
// lines or flood them; a longer text is marked with its length.
func Excerpt(s string) string {
	if len(s) <= excerptMax {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:excerptMax]) + "..." + "(" + strconv.Itoa(len(s)) + " bytes)"
}
