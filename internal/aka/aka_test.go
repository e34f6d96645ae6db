package aka

import (
	"bytes"
	mathrand "math/rand/v2"

	"encoding/hex"
	"encoding/json"
	wmilenage "github.com/wmnsk/milenage"
	"os"
	"testing"
)

type testSet struct {
	K, RAND, SQN, AMF, OP, OPc string
	MACA                       string `json:"f1_MAC_A"`
	MACS                       string `json:"f1star_MAC_S"`
	RES                        string `json:"f2_RES"`
	CK                         string `json:"f3_CK"`
	IK                         string `json:"f4_IK"`
	AK                         string `json:"f5_AK"`
	AKS                        string `json:"f5star_AKS"`
	AUTN                       string
	Nonce                      string `json:"ims_nonce_base64"`
}

func loadSet1(t testing.TB) (testSet, Keys, [RandLen]byte, uint64, uint16) {
	t.Helper()
	b, err := os.ReadFile("testdata/milenage-ts35208-set1.json")
	if err != nil {
		t.Fatal(err)
	}
	var ts testSet
	if err := json.Unmarshal(b, &ts); err != nil {
		t.Fatal(err)
	}
	var keys Keys
	var rand [RandLen]byte
	copy(keys.K[:], mustHex(t, ts.K))
	copy(keys.OPc[:], mustHex(t, ts.OPc))
	copy(rand[:], mustHex(t, ts.RAND))
	sqn := sqnFromBytes(mustHex(t, ts.SQN))
	amfb := mustHex(t, ts.AMF)
	return ts, keys, rand, sqn, uint16(amfb[0])<<8 | uint16(amfb[1])
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTS35208Set1Vector(t *testing.T) {
	ts, keys, rand, sqn, amf := loadSet1(t)
	v, err := GenerateVector(&keys, rand, sqn, amf)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got []byte, want string) {
		if hex.EncodeToString(got) != want {
			t.Errorf("%s = %x, want %s", name, got, want)
		}
	}
	check("AUTN", v.AUTN[:], ts.AUTN)
	check("XRES (f2)", v.XRES[:], ts.RES)
	check("CK (f3)", v.CK[:], ts.CK)
	check("IK (f4)", v.IK[:], ts.IK)
	check("MAC-A (f1)", v.AUTN[8:], ts.MACA)
	if got := v.NonceBase64(); got != ts.Nonce {
		t.Errorf("nonce = %s, want %s", got, ts.Nonce)
	}
}

func TestTS35208Set1USIM(t *testing.T) {
	ts, keys, rand, sqn, amf := loadSet1(t)
	v, _ := GenerateVector(&keys, rand, sqn, amf)
	n := v.Nonce()
	r, err := Verify(&keys, n[:])
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(r.RES[:]) != ts.RES || r.SQN != sqn || r.AMF != amf {
		t.Fatalf("USIM derived RES %x SQN %x AMF %x", r.RES, r.SQN, r.AMF)
	}
	n[20] ^= 1 // corrupt SQN⊕AK: MAC must fail
	if _, err := Verify(&keys, n[:]); err != ErrMACFailure {
		t.Fatalf("corrupted AUTN: err = %v, want ErrMACFailure", err)
	}
}

func TestTS35208Set1Resync(t *testing.T) {
	ts, keys, rand, sqn, _ := loadSet1(t)
	auts, err := GenerateAUTS(&keys, rand[:], sqn)
	if err != nil {
		t.Fatal(err)
	}
	// AUTS = SQN⊕AK* ‖ MAC-S where MAC-S uses AMF=0, so only AK* can be
	// checked against the set directly; the round trip checks MAC-S.
	aks := mustHex(t, ts.AKS)
	sq := mustHex(t, ts.SQN)
	for i := 0; i < SQNLen; i++ {
		if auts[i] != sq[i]^aks[i] {
			t.Fatalf("AUTS[%d] = %02x, want SQN⊕AK* %02x", i, auts[i], sq[i]^aks[i])
		}
	}
	got, err := VerifyAUTS(&keys, rand[:], auts[:])
	if err != nil || got != sqn {
		t.Fatalf("VerifyAUTS = %x, %v; want %x", got, err, sqn)
	}
	auts[10] ^= 0x80
	if _, err := VerifyAUTS(&keys, rand[:], auts[:]); err != ErrAUTSMAC {
		t.Fatalf("corrupted AUTS: err = %v", err)
	}
}

// RFC 2617 §3.5 example, the reference for the digest arithmetic.
func TestRFC2617Example(t *testing.T) {
	p := DigestParams{Username: "Mufasa", Realm: "testrealm@host.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
		Method: "GET", URI: "/dir/index.html", QOP: "auth", NC: "00000001", CNonce: "0a4f113b"}
	got := Response(HA1MD5(p.Username, p.Realm, []byte("Circle Of Life")), &p)
	if got != "6629fae49393a05397450978507c4ef1" {
		t.Fatalf("response = %s", got)
	}
}

func TestDeriveKeysStable(t *testing.T) {
	a, b := DeriveKeys(1, 7), DeriveKeys(1, 7)
	if a != b || a == DeriveKeys(1, 8) || a == DeriveKeys(2, 7) || a.K == a.OPc {
		t.Fatal("DeriveKeys must be a pure function of (seed, index) and separate K from OPc")
	}
}

func BenchmarkGenerateVector(b *testing.B) {
	_, keys, rand, sqn, amf := loadSet1(b)
	for b.Loop() {
		if _, err := GenerateVector(&keys, rand, sqn, amf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	_, keys, rand, sqn, amf := loadSet1(b)
	v, _ := GenerateVector(&keys, rand, sqn, amf)
	n := v.Nonce()
	for b.Loop() {
		if _, err := Verify(&keys, n[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// The project's Milenage agrees with github.com/wmnsk/milenage on random
// keys, RANDs, SQNs and AMFs (f1, f1*, f2, f3, f4, f5, f5*).
func TestMilenageAgreesWithLibrary(t *testing.T) {
	r := mathrand.New(mathrand.NewPCG(1, 2))
	for n := 0; n < 500; n++ {
		var keys Keys
		var rnd [RandLen]byte
		for i := 0; i < 16; i++ {
			keys.K[i], keys.OPc[i], rnd[i] = byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())
		}
		sqn, amf := r.Uint64()&(1<<48-1), uint16(r.Uint32())
		lib := wmilenage.NewWithOPc(keys.K[:], keys.OPc[:], rnd[:], sqn, amf)
		if err := lib.ComputeAll(); err != nil {
			t.Fatal(err)
		}
		autn, _ := lib.GenerateAUTN()
		v, err := GenerateVector(&keys, rnd, sqn, amf)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(v.AUTN[:], autn) || !bytes.Equal(v.XRES[:], lib.RES) || !bytes.Equal(v.CK[:], lib.CK) || !bytes.Equal(v.IK[:], lib.IK) {
			t.Fatalf("vector %d differs from the library", n)
		}
		m, _ := newMilenage(&keys, rnd[:])
		_, macS := m.f1(lib.SQN, lib.AMF)
		if aks := m.f5star(); !bytes.Equal(aks[:], lib.AKS) || !bytes.Equal(macS[:], lib.MACS) {
			t.Fatalf("f1*/f5* %d differ from the library", n)
		}
	}
}
