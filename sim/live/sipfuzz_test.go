package live

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/internal/sipwire"
)

// FuzzSIPServerInput drives the SIP server's input path without sockets:
// the bytes as one UDP datagram (sipwire.Inspect), and as a TCP stream cut
// into writes of chunk bytes (sipwire.Framer, then Inspect per message, or
// the answer to a refused message). Nothing may panic; every answer the
// server would send is a well-formed response carrying the request's top
// Via and a reason phrase of printable ASCII; an accepted REGISTER renders
// and parses back (the core's replies are built from it); the framer gives
// the same messages however the stream is cut, and holds no more than its
// limit plus one write. Seeds: the RFC 4475 torture messages.
//
//	go test -run XX -fuzz FuzzSIPServerInput -fuzztime 60s ./sim/live/
func FuzzSIPServerInput(f *testing.F) {
	for _, c := range tortureCases() {
		f.Add([]byte(c.msg), uint8(7))
	}
	l := &sipLab{pop: sipLabPopulation(f)}
	f.Add([]byte(l.register(1, "z9hG4bKseed", "")), uint8(0))
	f.Add([]byte("\r\n\r\n"+l.register(2, "z9hG4bKseed2", "")+l.register(3, "z9hG4bKseed3", "")), uint8(13))
	// Found by the fuzzer: an AOR of host "*" was accepted.
	f.Add([]byte("REGISTER sip:0 SIP/2.0\r\nV:0/0/0 0\r\nF:A:0\r\nT:sip:*\r\nCAll-ID:0\r\nCSeq:0 REGISTER\r\n\r\n"), uint8(3))
	// And a Contact URI with ">" in it.
	f.Add([]byte("REGISTER sip:0 SIP/2.0\r\nV:0/0/0 0\r\nF:A:0\r\nT:<sip:0>\r\nCAll-ID:0\r\nCSeq:0 REGISTER\r\nContACt:A:>\r\n\r\n"), uint8(7))
	udp := sipwire.Source{Transport: "UDP", Addr: netip.MustParseAddrPort("192.0.2.1:5060")}
	tcp := sipwire.Source{Transport: "TCP", Addr: netip.MustParseAddrPort("[2001:db8::7]:40000")}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		v := sipwire.Inspect(data, udp)
		checkVerdict(t, &v, udp)

		// As a stream, whole and in chunks: the same messages.
		whole := frameAll(t, data, len(data)+1, tcp)
		cut := frameAll(t, data, int(chunk)+1, tcp)
		if len(whole) != len(cut) {
			t.Fatalf("framing depends on the cut: %d messages whole, %d in chunks of %d", len(whole), len(cut), int(chunk)+1)
		}
		for i := range whole {
			if !bytes.Equal(whole[i], cut[i]) {
				t.Fatalf("message %d differs with chunks of %d", i, int(chunk)+1)
			}
		}
	})
}

// frameAll runs the stream path and returns what was framed, the last
// element being the refused message's answer when the framer failed.
func frameAll(t *testing.T, data []byte, chunk int, src sipwire.Source) [][]byte {
	fr := sipwire.Framer{Max: 4096} // a small limit, so the fuzzer reaches it
	var out [][]byte
	for i := 0; i < len(data); i += chunk {
		fr.Write(data[i:min(i+chunk, len(data))])
		for {
			msg, err := fr.Next()
			if err != nil {
				if h := fr.Header(); h != nil {
					if b := sipwire.ReplyTo(h, src, 400, "Bad Request", "t"); b != nil {
						checkResponse(t, b, 400)
						out = append(out, b)
					}
				}
				return out
			}
			if msg == nil {
				break
			}
			if len(msg) > 4096 {
				t.Fatalf("framed %d bytes over the limit of 4096", len(msg))
			}
			v := sipwire.Inspect(msg, src)
			checkVerdict(t, &v, src)
			out = append(out, msg)
		}
		// An incomplete message: the buffer is bounded by the limit plus
		// the write (Next fails beyond it).
	}
	return out
}

func checkVerdict(t *testing.T, v *sipwire.Verdict, src sipwire.Source) {
	switch v.Kind {
	case sipwire.KindRegister:
		r := v.Request
		if r == nil || r.Echo == nil || len(r.Echo.Via) == 0 || r.CallID == "" || !strings.HasPrefix(r.AOR, "sip") {
			t.Fatalf("accepted REGISTER %+v", r)
		}
		if r.Expires < -1 || r.Expires > sipmsg.MaxExpires {
			t.Fatalf("expires %d out of range", r.Expires)
		}
		// The core's 401 to it, as the live server renders it.
		res := &sipmsg.Response{Code: 401, Reason: "Unauthorized", CallID: r.CallID, Branch: r.Branch, FromTag: r.FromTag, To: r.AOR,
			ToTag: "tm1", CSeq: r.CSeq, Expires: -1, Echo: r.Echo}
		b, err := sipwire.Marshal(res, sipwire.DefaultEndpoint)
		if err != nil {
			t.Fatalf("the core's answer cannot be rendered: %v", err)
		}
		checkResponse(t, b, 401)
		// The request without its Echo, as the simulation renders it, parses
		// back with the same identity (the UE side's codec agrees).
		plain := *r
		plain.Echo, plain.Auth = nil, nil
		if raw, err := sipwire.Marshal(&plain, sipwire.DefaultEndpoint); err == nil {
			back, err := sipwire.Unmarshal(raw)
			if err != nil {
				t.Fatalf("accepted REGISTER re-rendered does not parse: %v\n%q", err, raw)
			}
			if q := back.(*sipmsg.Request); q.CallID != r.CallID || q.CSeq != r.CSeq || q.AOR != r.AOR {
				t.Fatalf("re-rendered REGISTER reads back as %+v, was %+v", q, r)
			}
		}
	case sipwire.KindReject, sipwire.KindCancel:
		code := v.Code
		if v.Kind == sipwire.KindCancel {
			code = 481
		}
		if code < 400 || code > 599 || v.Echo == nil || (v.Kind == sipwire.KindReject && v.Cause == "") {
			t.Fatalf("reject %+v", v)
		}
		checkResponse(t, v.Reply(code, v.Reason, rejectTag(v.Echo)), code)
	case sipwire.KindDrop:
		if v.Cause == "" {
			t.Fatal("a drop without a cause")
		}
	case sipwire.KindIgnore, sipwire.KindResponse:
	default:
		t.Fatalf("verdict kind %d", v.Kind)
	}
}

// checkResponse: an answer is one response of the code, with a printable
// reason, at least one Via, ending its header section once (it cannot
// smuggle a second message), and reads back as a response.
func checkResponse(t *testing.T, b []byte, code int) {
	line, rest, ok := bytes.Cut(b, []byte("\r\n"))
	if !ok || !bytes.HasPrefix(line, []byte("SIP/2.0 "+strconv.Itoa(code)+" ")) {
		t.Fatalf("answer starts %q", line)
	}
	for _, c := range line {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("reason phrase %q", line)
		}
	}
	if i := bytes.Index(b, []byte("\r\n\r\n")); i < 0 || i+4 != len(b) {
		t.Fatalf("answer's header section ends at %d of %d", i, len(b))
	}
	if !bytes.Contains(rest, []byte("Via: ")) {
		t.Fatalf("answer without Via: %q", b)
	}
	if v := sipwire.Inspect(b, sipwire.Source{Transport: "UDP"}); v.Kind != sipwire.KindResponse {
		t.Fatalf("answer reads back as kind %d", v.Kind)
	}
	var fr sipwire.Framer
	fr.Write(b)
	if m, err := fr.Next(); err != nil || !bytes.Equal(m, b) {
		t.Fatalf("answer does not frame as one message: %v", err)
	}
}
