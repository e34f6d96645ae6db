package sipwire

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/regstorm/regstorm/internal/sipmsg"
)

func TestRoundTrip(t *testing.T) {
	msgs := []any{
		&sipmsg.Request{CallID: "42-abc@regstorm", Branch: "z9hG4bK1", FromTag: "f1", CSeq: 1, RequestURI: "sip:ims.example.org",
			AOR: "sip:user42@ims.example.org", Contact: "sip:ue42@127.0.0.1:5070", Expires: 600000,
			Auth: &sipmsg.Credentials{Username: "user42@ims.example.org", Realm: "ims.example.org", URI: "sip:ims.example.org"}},
		&sipmsg.Request{CallID: "c", Branch: "z9hG4bK2", FromTag: "f", CSeq: 2, RequestURI: "sip:ims.example.org", AOR: "sip:u@r",
			Contact: "sip:ue@127.0.0.1", Expires: 0, Auth: &sipmsg.Credentials{Username: "u@r", Realm: "r", Nonce: "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=",
				URI: "sip:ims.example.org", Response: "0123456789abcdef0123456789abcdef", Algorithm: "AKAv1-MD5", QOP: "auth", NC: "00000001", CNonce: "x,y"}},
		&sipmsg.Request{CallID: "c", Branch: "z9hG4bK3", FromTag: "f", CSeq: 3, RequestURI: "sip:r", AOR: "sip:u@r", Expires: -1,
			Auth: &sipmsg.Credentials{Username: "u@r", Realm: "r", Nonce: "n", URI: "sip:r", AUTS: "AAECAwQFBgcICQoLDA0="}},
		&sipmsg.Response{Code: 401, Reason: "Unauthorized - Challenging the UE", CallID: "c", Branch: "z9hG4bK1", FromTag: "f", To: "sip:u@r",
			ToTag: "tm1", CSeq: 1, Expires: -1, Challenge: &sipmsg.Challenge{Realm: "r", Nonce: "n+/=", Algorithm: "AKAv1-MD5", QOP: "auth", CK: "00ff", IK: "ff00"}},
		&sipmsg.Response{Code: 200, Reason: "OK", CallID: "c", Branch: "b", FromTag: "f", To: "sip:u@r", ToTag: "t", CSeq: 2,
			Contact: "sip:ue@127.0.0.1:5070", Expires: 540000, AssociatedURI: "sip:u@r", ServiceRoute: "<sip:scscf.ims.example.org:6060;lr>"},
		&sipmsg.Response{Code: 500, Reason: "Server Internal Error", CallID: "c", Branch: "b", FromTag: "f", To: "sip:u@r", ToTag: "t", CSeq: 2,
			Expires: -1, RegistrarError: "SAR failed", RetryAfter: 30},
	}
	for _, m := range msgs {
		b, err := Marshal(m, DefaultEndpoint)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("%T: %v\n%s", m, err, b)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip:\n got %+v\nwant %+v\n%s", got, m, b)
		}
	}
}

func TestRegisterRendering(t *testing.T) {
	b, err := Marshal(&sipmsg.Request{CallID: "c", Branch: "z9hG4bKx", FromTag: "f", CSeq: 1, RequestURI: "sip:ims.example.org", AOR: "sip:u@r",
		Contact: "sip:ue@127.0.0.1:5070", Expires: 600000, Auth: &sipmsg.Credentials{Username: "u@r", Realm: "r", URI: "sip:ims.example.org"}},
		Endpoint{Transport: "UDP", Host: "127.0.0.1", Port: 5070})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"REGISTER sip:ims.example.org SIP/2.0\r\n", "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx\r\n",
		"CSeq: 1 REGISTER\r\n", `Authorization: Digest username="u@r", realm="r", nonce="", uri="sip:ims.example.org", response=""`,
		"Expires: 600000\r\n", "Content-Length: 0\r\n\r\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("REGISTER lacks %q:\n%s", want, s)
		}
	}
}

func TestBadMessages(t *testing.T) {
	for _, raw := range []string{
		"",
		"garbage\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:r SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:r SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nAuthorization: Basic abc\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:r SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nExpires: soon\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:r SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nAuthorization: Digest username=\"u\r\nContent-Length: 0\r\n\r\n",
	} {
		if _, err := Unmarshal([]byte(raw)); err == nil || !errors.Is(err, ErrBadMessage) {
			t.Errorf("%q: err %v", raw, err)
		}
	}
}

// FuzzUnmarshal: no input panics the parser; what parses re-renders and
// parses to the same value. Run: go test -run XX -fuzz FuzzUnmarshal -fuzztime 60s ./internal/sipwire/
func FuzzUnmarshal(f *testing.F) {
	b, _ := Marshal(&sipmsg.Request{CallID: "c", Branch: "z9hG4bK1", FromTag: "f", CSeq: 1, RequestURI: "sip:r", AOR: "sip:u@r", Expires: 5,
		Auth: &sipmsg.Credentials{Username: "u", Realm: "r", Nonce: "n", URI: "sip:r", Response: "x", QOP: "auth", NC: "00000001", CNonce: "c"}}, DefaultEndpoint)
	f.Add(b)
	b, _ = Marshal(&sipmsg.Response{Code: 401, Reason: "Unauthorized", CallID: "c", Branch: "b", To: "sip:u@r", CSeq: 1, Expires: -1,
		Challenge: &sipmsg.Challenge{Realm: "r", Nonce: "n", Algorithm: "AKAv1-MD5", QOP: "auth"}}, DefaultEndpoint)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Unmarshal(b)
	})
}

func BenchmarkRegisterMarshal(b *testing.B) {
	r := &sipmsg.Request{CallID: "42-abc@regstorm", Branch: "z9hG4bK1", FromTag: "f1", CSeq: 2, RequestURI: "sip:ims.example.org",
		AOR: "sip:user42@ims.example.org", Contact: "sip:ue42@127.0.0.1:5070", Expires: 600000,
		Auth: &sipmsg.Credentials{Username: "user42@ims.example.org", Realm: "ims.example.org", Nonce: "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=",
			URI: "sip:ims.example.org", Response: "0123456789abcdef0123456789abcdef", Algorithm: "AKAv1-MD5", QOP: "auth", NC: "00000001", CNonce: "abc"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(r, DefaultEndpoint); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRegisterUnmarshal(b *testing.B) {
	raw, _ := Marshal(&sipmsg.Request{CallID: "42-abc@regstorm", Branch: "z9hG4bK1", FromTag: "f1", CSeq: 2, RequestURI: "sip:ims.example.org",
		AOR: "sip:user42@ims.example.org", Contact: "sip:ue42@127.0.0.1:5070", Expires: 600000,
		Auth: &sipmsg.Credentials{Username: "user42@ims.example.org", Realm: "ims.example.org", Nonce: "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=",
			URI: "sip:ims.example.org", Response: "0123456789abcdef0123456789abcdef", Algorithm: "AKAv1-MD5", QOP: "auth", NC: "00000001", CNonce: "abc"}}, DefaultEndpoint)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(raw); err != nil {
			b.Fatal(err)
		}
	}
}
