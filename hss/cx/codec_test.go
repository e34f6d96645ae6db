package cx

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fiorix/go-diameter/v4/diam"
	"github.com/fiorix/go-diameter/v4/diam/datatype"
)

func hdr(hbh uint32) Header {
	return Header{SessionID: "scscf.ims.example.org;1;" + string(rune('a'+hbh%26)), HopByHop: hbh, EndToEnd: hbh + 1000,
		OriginHost: "scscf.ims.example.org", OriginRealm: "ims.example.org", DestRealm: "ims.example.org"}
}

func ans(hbh uint32) Header { h := hdr(hbh); h.DestRealm = ""; return h }

// Every Cx message survives encode -> bytes -> decode unchanged.
func TestRoundTrip(t *testing.T) {
	msgs := []any{
		&MAR{Header: hdr(1), UserName: "user1@ims.example.org", PublicIdentity: "sip:user1@ims.example.org",
			ServerName: "sip:scscf.ims.example.org:6060", NumAuthItems: 1, Scheme: SchemeAKAv1},
		&MAR{Header: hdr(2), UserName: "u@r", PublicIdentity: "sip:u@r", ServerName: "sip:s", NumAuthItems: 1,
			Scheme: SchemeAKAv1, Authorization: bytes.Repeat([]byte{7}, 30)},
		&MAA{Header: ans(3), ResultCode: DiameterSuccess, UserName: "u@r", PublicIdentity: "sip:u@r", Items: []AuthItem{
			{ItemNumber: 1, Scheme: SchemeAKAv1, Authenticate: bytes.Repeat([]byte{1}, 32), Authorization: bytes.Repeat([]byte{2}, 8),
				CK: bytes.Repeat([]byte{3}, 16), IK: bytes.Repeat([]byte{4}, 16)},
			{ItemNumber: 2, Scheme: SchemeAKAv1, Authenticate: bytes.Repeat([]byte{5}, 32), Authorization: bytes.Repeat([]byte{6}, 8),
				CK: bytes.Repeat([]byte{7}, 16), IK: bytes.Repeat([]byte{8}, 16)}}},
		&MAA{Header: ans(4), ExperimentalResult: ErrorUserUnknown, UserName: "u@r"},
		&MAA{Header: ans(14), ResultCode: DiameterSuccess, UserName: "u@r", PublicIdentity: "sip:u@r", Items: []AuthItem{
			{ItemNumber: 1, Scheme: SchemeMD5, Digest: &DigestAuth{Realm: "r", QoP: "auth", HA1: "0123456789abcdef0123456789abcdef", Algorithm: "MD5"}}}},
		&MAA{Header: ans(5), ResultCode: DiameterTooBusy},
		&SAR{Header: hdr(6), UserName: "u@r", PublicIdentity: "sip:u@r", ServerName: "sip:s", AssignmentType: Registration},
		&SAR{Header: hdr(7), PublicIdentity: "sip:u@r", ServerName: "sip:s", AssignmentType: TimeoutDeregistration, UserDataAvailable: 1},
		&SAA{Header: ans(8), ResultCode: DiameterSuccess, UserName: "u@r", UserData: []byte("<IMSSubscription/>")},
		&SAA{Header: ans(9), ExperimentalResult: ErrorIdentitiesDontMatch},
		&UAR{Header: hdr(10), UserName: "u@r", PublicIdentity: "sip:u@r", VisitedNetwork: []byte("ims.example.org"), AuthorizationType: 0},
		&UAA{Header: ans(11), ExperimentalResult: FirstRegistration, ServerName: "sip:s"},
		&LIR{Header: hdr(12), PublicIdentity: "sip:u@r"},
		&LIA{Header: ans(13), ResultCode: DiameterSuccess, ServerName: "sip:s"},
	}
	for _, m := range msgs {
		b, err := Marshal(m)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip of %T:\n got %+v\nwant %+v", m, got, m)
		}
	}
}

// The AVP layout a real Kamailio 5.6.3 accepted (shared/kamailio/README.md):
// Session-Id first, base Result-Code 2001, User-Name and Public-Identity
// echoed, SIP-Number-Auth-Items, grouped SIP-Auth-Data-Item with M and V.
func TestMAALayout(t *testing.T) {
	d, err := Encode(&MAA{Header: ans(1), ResultCode: DiameterSuccess, UserName: "u@r", PublicIdentity: "sip:u@r",
		Items: []AuthItem{{ItemNumber: 1, Scheme: SchemeAKAv1, Authenticate: make([]byte, 32), Authorization: make([]byte, 8), CK: make([]byte, 16), IK: make([]byte, 16)}}})
	if err != nil {
		t.Fatal(err)
	}
	var codes []uint32
	for _, a := range d.AVP {
		codes = append(codes, a.Code)
	}
	want := []uint32{263, 260, 277, 264, 296, 268, 1, 601, 607, 612}
	if !reflect.DeepEqual(codes, want) {
		t.Fatalf("AVP order %v, want %v", codes, want)
	}
	if d.Header.CommandFlags&diam.RequestFlag != 0 || d.Header.CommandCode != 303 || d.Header.ApplicationID != 16777216 {
		t.Fatalf("header %+v", d.Header)
	}
	for _, a := range d.AVP[6:] {
		if (a.Code >= 600) != (a.VendorID == VendorID && a.Flags&0xc0 == 0xc0) {
			t.Errorf("AVP %d flags %x vendor %d", a.Code, a.Flags, a.VendorID)
		}
	}
}

// TS 35.208 Test Set 1 through an MAA: the SIP-Authenticate of the vector
// is the IMS nonce I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M= (RFC 3310).
func TestTestSet1NonceInMAA(t *testing.T) {
	rand, _ := hex.DecodeString("23553cbe9637a89d218ae64dae47bf35")
	autn, _ := hex.DecodeString("55f328b43577b9b94a9ffac354dfafb3")
	xres, _ := hex.DecodeString("a54211d5e3ba50bf")
	b, err := Marshal(&MAA{Header: ans(1), ResultCode: DiameterSuccess, UserName: "u@r", PublicIdentity: "sip:u@r",
		Items: []AuthItem{{ItemNumber: 1, Scheme: SchemeAKAv1, Authenticate: append(rand, autn...), Authorization: xres}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	nonce := base64.StdEncoding.EncodeToString(m.(*MAA).Items[0].Authenticate)
	if nonce != "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=" {
		t.Fatalf("nonce %s", nonce)
	}
}

// Bad input gets an error naming what is wrong, never a panic.
func TestDecodeErrors(t *testing.T) {
	// An MAR without its Public-Identity.
	d := request(CmdMultimediaAuth, &Header{SessionID: "s", OriginHost: "h", OriginRealm: "r", DestRealm: "r"})
	str(d, avpUserName, 0, "u@r")
	b, _ := d.Serialize()
	if _, err := Unmarshal(b); err == nil || !strings.Contains(err.Error(), "missing AVP 601") {
		t.Errorf("MAR without Public-Identity: %v", err)
	}
	// An answer with neither Result-Code nor Experimental-Result.
	a := diam.NewMessage(CmdServerAssignment, 0, AppID, 1, 1, Dict())
	common(a, &Header{SessionID: "s", OriginHost: "h", OriginRealm: "r"})
	b, _ = a.Serialize()
	if _, err := Unmarshal(b); err == nil || !strings.Contains(err.Error(), "without Result-Code") {
		t.Errorf("SAA without result: %v", err)
	}
	// A string AVP carrying the wrong type.
	w := request(CmdLocationInfo, &Header{SessionID: "s", OriginHost: "h", OriginRealm: "r", DestRealm: "r"})
	w.AddAVP(diam.NewAVP(avpPublicIdentity, mv, VendorID, datatype.Unsigned32(5)))
	if _, err := Decode(w); err == nil {
		t.Error("Public-Identity as Unsigned32 accepted")
	}
	// Another application.
	o := diam.NewMessage(316, diam.RequestFlag, 16777251, 1, 1, Dict())
	if _, err := Decode(o); !errors.Is(err, ErrNotCx) {
		t.Errorf("S6a message: %v", err)
	}
	for _, junk := range [][]byte{nil, {1}, bytes.Repeat([]byte{0xff}, 40), make([]byte, 20)} {
		if _, err := Unmarshal(junk); err == nil {
			t.Errorf("junk %x decoded", junk)
		}
	}
}

// FuzzUnmarshal: arbitrary bytes never panic the decoder, and whatever
// decodes re-encodes to a message that decodes to the same value.
// Run for a minute with: go test -run XX -fuzz FuzzUnmarshal -fuzztime 60s ./hss/cx/
func FuzzUnmarshal(f *testing.F) {
	for _, m := range []any{
		&MAR{Header: hdr(1), UserName: "u@r", PublicIdentity: "sip:u@r", ServerName: "sip:s", NumAuthItems: 1, Scheme: SchemeAKAv1},
		&MAA{Header: ans(2), ResultCode: DiameterSuccess, UserName: "u@r", PublicIdentity: "sip:u@r",
			Items: []AuthItem{{ItemNumber: 1, Scheme: SchemeAKAv1, Authenticate: make([]byte, 32), Authorization: make([]byte, 8)}}},
		&SAA{Header: ans(3), ExperimentalResult: ErrorUserUnknown},
	} {
		b, err := Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			return
		}
		again, err := Marshal(m)
		if err != nil {
			t.Fatalf("decoded %T does not re-encode: %v", m, err)
		}
		m2, err := Unmarshal(again)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-encoded %T decodes differently: %v\n%+v\n%+v", m, err, m, m2)
		}
	})
}

func BenchmarkMAAEncode(b *testing.B) {
	m := &MAA{Header: ans(3), ResultCode: DiameterSuccess, UserName: "user1@ims.example.org", PublicIdentity: "sip:user1@ims.example.org",
		Items: []AuthItem{{ItemNumber: 1, Scheme: SchemeAKAv1, Authenticate: make([]byte, 32), Authorization: make([]byte, 8), CK: make([]byte, 16), IK: make([]byte, 16)}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMAADecode(b *testing.B) {
	raw, _ := Marshal(&MAA{Header: ans(3), ResultCode: DiameterSuccess, UserName: "user1@ims.example.org", PublicIdentity: "sip:user1@ims.example.org",
		Items: []AuthItem{{ItemNumber: 1, Scheme: SchemeAKAv1, Authenticate: make([]byte, 32), Authorization: make([]byte, 8), CK: make([]byte, 16), IK: make([]byte, 16)}}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(raw); err != nil {
			b.Fatal(err)
		}
	}
}
