package sipwire

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/regstorm/regstorm/internal/sipmsg"
)

var udpSrc = Source{Transport: "UDP", Addr: netip.MustParseAddrPort("192.0.2.1:5070")}

// reg is a well-formed REGISTER from 192.0.2.1:5070 with lines spliced in
// before Content-Length.
func reg(lines string) string {
	return "REGISTER sip:ims.example.org SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:u1@ims.example.org>;tag=f1\r\n" +
		"To: <sip:u1@ims.example.org>\r\n" +
		"Call-ID: c1@ue\r\n" +
		"CSeq: 7 REGISTER\r\n" +
		"Contact: <sip:ue1@192.0.2.1:5070>\r\n" +
		`Authorization: Digest username="u1@ims.example.org", realm="ims.example.org", nonce="", uri="sip:ims.example.org", response=""` + "\r\n" +
		lines + "Content-Length: 0\r\n\r\n"
}

func TestInspectRegister(t *testing.T) {
	v := Inspect([]byte(reg("Expires: 600000\r\n")), udpSrc)
	if v.Kind != KindRegister {
		t.Fatalf("verdict %+v", v)
	}
	r := v.Request
	if r.CallID != "c1@ue" || r.Branch != "z9hG4bK1" || r.FromTag != "f1" || r.CSeq != 7 || r.AOR != "sip:u1@ims.example.org" ||
		r.Contact != "sip:ue1@192.0.2.1:5070" || r.Expires != 600000 || r.RequestURI != "sip:ims.example.org" ||
		r.Auth == nil || r.Auth.Username != "u1@ims.example.org" {
		t.Errorf("request %+v", r)
	}
	e := r.Echo
	if e == nil || len(e.Via) != 1 || e.Via[0] != "SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1" || e.From != "<sip:u1@ims.example.org>;tag=f1" ||
		e.To != "<sip:u1@ims.example.org>" || e.ToTagged || e.CallID != "c1@ue" || e.CSeq != "7 REGISTER" || e.SentBy != "UDP 192.0.2.1:5070" {
		t.Errorf("echo %+v", e)
	}
	if v.TxnKey != "z9hG4bK1 UDP 192.0.2.1:5070" {
		t.Errorf("txn key %q", v.TxnKey)
	}
}

// RFC 3261 §10.2.1.1 and §20.19: the contact's expires parameter wins over
// the Expires header field; values above 2^32-1 are 2^32-1.
func TestInspectExpires(t *testing.T) {
	for _, c := range []struct {
		lines   string
		contact string
		want    int64
	}{
		{"", "", -1},
		{"Expires: 0\r\n", "", 0},
		{"Expires: 4294967295\r\n", "", sipmsg.MaxExpires},
		{"Expires: 4294967296\r\n", "", sipmsg.MaxExpires},
		{"Expires: 99999999999999999999999999\r\n", "", sipmsg.MaxExpires},
		{"Expires: 600\r\n", ";expires=4294967296", sipmsg.MaxExpires},
		{"Expires: 600\r\n", ";expires=30", 30},
		{"Expires: 0600\r\n", "", 600},
	} {
		msg := strings.Replace(reg(c.lines), "<sip:ue1@192.0.2.1:5070>", "<sip:ue1@192.0.2.1:5070>"+c.contact, 1)
		v := Inspect([]byte(msg), udpSrc)
		if v.Kind != KindRegister || v.Request.Expires != c.want {
			t.Errorf("%q %q: %+v expires %v, want %d", c.lines, c.contact, v, v.Request, c.want)
		}
	}
	for _, bad := range []string{"Expires: soon\r\n", "Expires: -1\r\n", "Expires: 1.5\r\n", "Expires: \r\n", "Expires: 1\r\nExpires: 2\r\n"} {
		if v := Inspect([]byte(reg(bad)), udpSrc); v.Kind != KindReject || v.Code != 400 {
			t.Errorf("%q: %+v, want 400", bad, v)
		}
	}
}

func TestInspectVerdicts(t *testing.T) {
	options := strings.NewReplacer("REGISTER sip:ims", "OPTIONS sip:ims", "7 REGISTER", "7 OPTIONS").Replace(reg(""))
	for _, c := range []struct {
		name  string
		msg   string
		kind  Kind
		code  int
		cause string
	}{
		{"OPTIONS", options, KindReject, 405, "method_not_allowed"},
		{"unknown method", strings.ReplaceAll(options, "OPTIONS", "FOO"), KindReject, 501, "unknown_method"},
		{"lower-case register is another method", strings.NewReplacer("REGISTER sip:ims", "register sip:ims", "7 REGISTER", "7 register").Replace(reg("")), KindReject, 501, "unknown_method"},
		{"ACK", strings.ReplaceAll(options, "OPTIONS", "ACK"), KindIgnore, 0, "ack"},
		{"CANCEL", strings.ReplaceAll(options, "OPTIONS", "CANCEL"), KindCancel, 0, ""},
		{"SIP/7.0", strings.Replace(reg(""), "SIP/2.0\r\n", "SIP/7.0\r\n", 1), KindReject, 505, "version"},
		{"sip/2.0 is 2.0", strings.Replace(reg(""), "SIP/2.0\r\n", "sip/2.0\r\n", 1), KindRegister, 0, ""},
		{"SIP/2.x", strings.Replace(reg(""), "SIP/2.0\r\n", "SIP/2.x\r\n", 1), KindReject, 400, "malformed_request_line"},
		{"response", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n", KindResponse, 0, ""},
		{"garbage", "hello world\r\n\r\n", KindDrop, 0, "unparseable"},
		{"empty", "", KindDrop, 0, "unparseable"},
		{"no Via", strings.Replace(reg(""), "Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1\r\n", "", 1), KindDrop, 0, "no_via"},
		{"Via without host", strings.Replace(reg(""), "192.0.2.1:5070;branch", ";branch", 1), KindDrop, 0, "no_via"},
		{"Via port out of range", strings.Replace(reg(""), "192.0.2.1:5070;branch", "192.0.2.1:70000;branch", 1), KindDrop, 0, "no_via"},
		{"missing To", strings.Replace(reg(""), "To: <sip:u1@ims.example.org>\r\n", "", 1), KindReject, 400, "missing_to"},
		{"missing CSeq", strings.Replace(reg(""), "CSeq: 7 REGISTER\r\n", "", 1), KindReject, 400, "missing_cseq"},
		{"CSeq method mismatch", strings.Replace(reg(""), "7 REGISTER", "7 INVITE", 1), KindReject, 400, "cseq_method_mismatch"},
		{"CSeq 2^31", strings.Replace(reg(""), "7 REGISTER", "2147483648 REGISTER", 1), KindReject, 400, "malformed_cseq"},
		{"Call-ID with space", strings.Replace(reg(""), "c1@ue", "c1 @ue", 1), KindReject, 400, "malformed_call_id"},
		{"Content-Length too large (UDP)", strings.Replace(reg(""), "Content-Length: 0", "Content-Length: 5", 1), KindReject, 400, "content_length_mismatch"},
		{"Content-Length shorter: rest dropped", strings.Replace(reg(""), "\r\n\r\n", "\r\n\r\ntrailing junk", 1), KindRegister, 0, ""},
		{"Require unknown", reg("Require: foo, path\r\n"), KindReject, 420, "bad_extension"},
		{"tel Request-URI", strings.Replace(reg(""), "REGISTER sip:ims.example.org", "REGISTER tel:+1234", 1), KindReject, 416, "unsupported_uri_scheme"},
		{"non-SIP To", strings.Replace(reg(""), "To: <sip:u1@ims.example.org>", "To: <mailto:u1@ims.example.org>", 1), KindReject, 404, "to_not_sip"},
		{"Contact URI with >", strings.Replace(reg(""), "Contact: <sip:ue1@192.0.2.1:5070>", "Contact: A:>", 1), KindReject, 400, "malformed_contact"},
		{"To host *", strings.Replace(reg(""), "To: <sip:u1@ims.example.org>", "To: <sip:*>", 1), KindReject, 400, "malformed_to"},
		{"unknown auth scheme ignored", strings.Replace(reg(""), "Authorization: Digest", "Authorization: Basic x, Digest", 1), KindRegister, 0, ""},
		{"broken Digest", strings.Replace(reg(""), `username="u1@ims.example.org"`, `username="u1`, 1), KindReject, 400, "malformed_authorization"},
		{"continuation without a field", strings.Replace(reg(""), "SIP/2.0\r\n", "SIP/2.0\r\n bogus\r\n", 1), KindReject, 400, "malformed_header"},
		{"continuation joins the Via", strings.Replace(reg(""), "\r\nMax-Forwards", "\r\n bogus\r\nMax-Forwards", 1), KindReject, 400, "malformed_via"},
		{"header without colon", strings.Replace(reg(""), "Max-Forwards: 70", "Max-Forwards 70", 1), KindReject, 400, "malformed_header"},
		{"NUL in a header", reg("X-A: a\x00b\r\n"), KindReject, 400, "control_character"},
		{"bare LF", reg("X-A: a\nb\r\n"), KindReject, 400, "control_character"},
	} {
		v := Inspect([]byte(c.msg), udpSrc)
		if v.Kind != c.kind || v.Code != c.code || v.Cause != c.cause {
			t.Errorf("%s: kind %d code %d cause %q, want %d %d %q", c.name, v.Kind, v.Code, v.Cause, c.kind, c.code, c.cause)
		}
		if v.Kind == KindReject {
			if b := v.Reply(v.Code, v.Reason, "t1"); !strings.HasPrefix(string(b), "SIP/2.0 ") || !strings.Contains(string(b), "\r\nVia: ") {
				t.Errorf("%s: reply %q", c.name, b)
			}
		}
	}
	v := Inspect([]byte(strings.ReplaceAll(options, "OPTIONS", "FOO")), udpSrc)
	if v.Method != "FOO" {
		t.Errorf("method %q", v.Method)
	}
	v = Inspect([]byte(options), udpSrc)
	if len(v.Extra) != 1 || v.Extra[0] != "Allow: REGISTER" {
		t.Errorf("405 extra %q", v.Extra)
	}
}

// RFC 3261 §18.2.1, RFC 3581 §4: received is added when the sent-by is not
// the source address; an empty rport is filled in (and received added);
// otherwise the top Via is copied unchanged.
func TestInspectReceived(t *testing.T) {
	for _, c := range []struct{ via, want string }{
		{"SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1", "SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1"},
		{"SIP/2.0/UDP ue.example.org:5070;branch=z9hG4bK1", "SIP/2.0/UDP ue.example.org:5070;branch=z9hG4bK1;received=192.0.2.1"},
		{"SIP/2.0/UDP 192.0.2.1:5070;rport;branch=z9hG4bK1", "SIP/2.0/UDP 192.0.2.1:5070;rport=5070;branch=z9hG4bK1;received=192.0.2.1"},
		{"SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1;received=1.2.3.4", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1;received=192.0.2.1"},
		{"SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK0", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1;received=192.0.2.1, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK0"},
	} {
		msg := strings.Replace(reg(""), "SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1", c.via, 1)
		v := Inspect([]byte(msg), udpSrc)
		if v.Kind != KindRegister || v.Echo.Via[0] != c.want {
			t.Errorf("%q: %+v, echo %+v, want %q", c.via, v, v.Echo, c.want)
		}
	}
}

func TestParseDeltaSeconds(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "1": 1, "4294967295": sipmsg.MaxExpires, "4294967296": sipmsg.MaxExpires, "18446744073709551617": sipmsg.MaxExpires,
		"000000000000000000000000000000000000000005": 5} {
		if got, ok := ParseDeltaSeconds(s); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-1", "+1", "1e3", " 1", "soon", "0x10"} {
		if _, ok := ParseDeltaSeconds(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

// RFC 3261 §18.3 framing: messages split across writes and pipelined in
// one are cut at Content-Length; CRLFs between them skipped (§7.5).
func TestFramer(t *testing.T) {
	one, two := reg(""), strings.Replace(reg(""), "Content-Length: 0\r\n\r\n", "Content-Length: 4\r\n\r\nbody", 1)
	stream := "\r\n\r\n" + one + "\r\n" + two + one
	for chunk := 1; chunk <= len(stream); chunk = chunk*2 + 1 {
		var f Framer
		var got []string
		for i := 0; i < len(stream); i += chunk {
			f.Write([]byte(stream[i:min(i+chunk, len(stream))]))
			for {
				m, err := f.Next()
				if err != nil {
					t.Fatalf("chunk %d: %v", chunk, err)
				}
				if m == nil {
					break
				}
				got = append(got, string(m))
			}
		}
		if len(got) != 3 || got[0] != one || got[1] != two || got[2] != one || f.Pending() {
			t.Fatalf("chunk %d: %d messages %q", chunk, len(got), got)
		}
	}
}

func TestFramerErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		in      string
		max     int
		err     error
		headers bool
	}{
		{"no Content-Length", "REGISTER sip:a SIP/2.0\r\nVia: x\r\n\r\n", 0, ErrNoContentLength, true},
		{"negative", "R sip:a SIP/2.0\r\nContent-Length: -1\r\n\r\n", 0, ErrBadContentLength, true},
		{"two", "R sip:a SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nx", 0, ErrBadContentLength, true},
		{"body over the limit", "R sip:a SIP/2.0\r\nContent-Length: 70000\r\n\r\n", 0, ErrTooLarge, true},
		{"headers over the limit", "R sip:a SIP/2.0\r\nX: " + strings.Repeat("x", 200), 100, ErrTooLarge, false},
		{"folded Content-Length", "R sip:a SIP/2.0\r\nContent-Length:\r\n 2\r\n\r\nxy", 0, nil, true},
	} {
		f := Framer{Max: c.max}
		f.Write([]byte(c.in))
		m, err := f.Next()
		if !errors.Is(err, c.err) || (f.Header() != nil) != c.headers && c.err != nil {
			t.Errorf("%s: %q %v (headers %v), want %v", c.name, m, err, f.Header() != nil, c.err)
		}
		if c.err == nil && m == nil {
			t.Errorf("%s: no message", c.name)
		}
	}
}

// A framer holds no more than its limit of an incomplete message plus one
// write, however the bytes trickle in.
func TestFramerBounded(t *testing.T) {
	f := Framer{Max: 1000}
	for i := 0; i < 2000; i++ {
		f.Write([]byte("a"))
		if _, err := f.Next(); err != nil {
			if !errors.Is(err, ErrTooLarge) || i < 1000 {
				t.Fatalf("after %d bytes: %v", i+1, err)
			}
			return
		}
	}
	t.Fatal("never refused")
}

func TestExcerpt(t *testing.T) {
	if got := Excerpt("a\r\nb\x1b"); got != `"a\r\nb\x1b"` {
		t.Errorf("Excerpt = %s", got)
	}
	if got := Excerpt(strings.Repeat("x", 500)); len(got) > 110 || !strings.Contains(got, "(500 bytes)") {
		t.Errorf("Excerpt of 500 bytes = %s", got)
	}
}

// BenchmarkInspectRegister: the live server's per-REGISTER inspection
// (scan, RFC 3261 checks, URIs through sipgo, digest parameters).
func BenchmarkInspectRegister(b *testing.B) {
	msg := []byte(reg("Expires: 600000\r\n"))
	b.ReportAllocs()
	for b.Loop() {
		if v := Inspect(msg, udpSrc); v.Kind != KindRegister {
			b.Fatal(v)
		}
	}
}
