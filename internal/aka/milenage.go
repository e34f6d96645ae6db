package aka

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
)

// Sizes of the AKA parameters (TS 33.102 §6.3.7).
const (
	KeyLen   = 16
	RandLen  = 16
	AUTNLen  = 16
	AUTSLen  = 14
	SQNLen   = 6
	RESLen   = 8
	NonceLen = RandLen + AUTNLen
)

// Keys are the long-term secrets of one subscriber, shared by the USIM and
// the HSS.
type Keys struct {
	K   [KeyLen]byte
	OPc [KeyLen]byte
}

// DeriveKeys returns the keys of subscriber index under the given seed:
// K = SHA-256("regstorm K" ‖ seed ‖ index)[:16], OPc likewise with "OPc".
// Both ends compute it, so nothing is stored per subscriber.
func DeriveKeys(seed uint64, index uint32) Keys {
	var k Keys
	var buf [12 + 8 + 4]byte
	copy(buf[:], "regstorm K  ")
	binary.BigEndian.PutUint64(buf[12:], seed)
	binary.BigEndian.PutUint32(buf[20:], index)
	h := sha256.Sum256(buf[:])
	copy(k.K[:], h[:KeyLen])
	copy(buf[:], "regstorm OPc")
	h = sha256.Sum256(buf[:])
	copy(k.OPc[:], h[:KeyLen])
	return k
}

// Vector is one authentication vector as the HSS hands it to the S-CSCF
// (TS 33.102 §6.3.2; Cx SIP-Auth-Data-Item, TS 29.229 §6.3.13).
type Vector struct {
	RAND [RandLen]byte
	AUTN [AUTNLen]byte
	XRES [RESLen]byte
	CK   [KeyLen]byte
	IK   [KeyLen]byte
}

// Nonce returns RAND‖AUTN, the raw bytes of the SIP-Authenticate AVP and of
// the digest nonce before base64 (RFC 3310 §3.2).
func (v *Vector) Nonce() [NonceLen]byte {
	var n [NonceLen]byte
	copy(n[:RandLen], v.RAND[:])
	copy(n[RandLen:], v.AUTN[:])
	return n
}

// NonceBase64 is the nonce parameter of the WWW-Authenticate challenge.
func (v *Vector) NonceBase64() string {
	n := v.Nonce()
	return base64.StdEncoding.EncodeToString(n[:])
}

func sqnFromBytes(b []byte) uint64 {
	var full [8]byte
	copy(full[2:], b[:SQNLen])
	return binary.BigEndian.Uint64(full[:])
}

// GenerateVector computes the vector for RAND, SQN and AMF as the HSS does
// (TS 33.102 §6.3.2: AUTN = SQN⊕AK ‖ AMF ‖ MAC-A).
func GenerateVector(keys *Keys, rand [RandLen]byte, sqn uint64, amf uint16) (Vector, error) {
	var v Vector
	m, err := newMilenage(keys, rand[:])
	if err != nil {
		return v, fmt.Errorf("aka: %w", err)
	}
	var sqnb [SQNLen]byte
	putSQN(sqnb[:], sqn)
	var amfb [2]byte
	binary.BigEndian.PutUint16(amfb[:], amf)
	macA, _ := m.f1(sqnb[:], amfb[:])
	res, ck, ik, ak := m.f2345()
	for i := 0; i < SQNLen; i++ {
		v.AUTN[i] = sqnb[i] ^ ak[i]
	}
	copy(v.AUTN[6:8], amfb[:])
	copy(v.AUTN[8:], macA[:])
	v.RAND, v.XRES, v.CK, v.IK = rand, res, ck, ik
	return v, nil
}

// ErrMACFailure means AUTN's MAC-A did not verify: the network is not
// authentic (TS 33.102 §6.3.3, the UE answers with an authentication failure).
var ErrMACFailure = errors.New("aka: AUTN MAC-A mismatch")

// Result is what the USIM derives from a verified challenge.
type Result struct {
	RES [RESLen]byte
	CK  [KeyLen]byte
	IK  [KeyLen]byte
	SQN uint64
	AMF uint16
}

// Verify runs the USIM side of TS 33.102 §6.3.3 on a nonce (RAND‖AUTN):
// recover SQN with AK = f5(RAND), check MAC-A = f1(SQN, RAND, AMF), and
// compute RES, CK, IK. SQN freshness is the caller's decision (see
// SQNInRange).
func Verify(keys *Keys, nonce []byte) (Result, error) {
	var r Result
	if len(nonce) != NonceLen {
		return r, fmt.Errorf("aka: nonce is %d bytes, want %d (RAND‖AUTN)", len(nonce), NonceLen)
	}
	rand, autn := nonce[:RandLen], nonce[RandLen:]
	m, err := newMilenage(keys, rand)
	if err != nil {
		return r, fmt.Errorf("aka: %w", err)
	}
	res, ck, ik, ak := m.f2345()
	var sqnb [SQNLen]byte
	for i := range sqnb {
		sqnb[i] = autn[i] ^ ak[i]
	}
	macA, _ := m.f1(sqnb[:], autn[6:8])
	if subtle.ConstantTimeCompare(macA[:], autn[8:16]) != 1 {
		return r, ErrMACFailure
	}
	r.RES, r.CK, r.IK = res, ck, ik
	r.SQN = sqnFromBytes(sqnb[:])
	r.AMF = binary.BigEndian.Uint16(autn[6:8])
	return r, nil
}

// GenerateAUTS builds the resynchronisation token the USIM sends when SQN is
// out of range: AUTS = SQN_MS⊕AK* ‖ MAC-S, with MAC-S = f1*(SQN_MS, RAND,
// AMF=0) (TS 33.102 §6.3.3).
func GenerateAUTS(keys *Keys, rand []byte, sqnMS uint64) ([AUTSLen]byte, error) {
	var out [AUTSLen]byte
	if len(rand) != RandLen {
		return out, fmt.Errorf("aka: RAND is %d bytes", len(rand))
	}
	m, err := newMilenage(keys, rand)
	if err != nil {
		return out, fmt.Errorf("aka: %w", err)
	}
	var sqnb [SQNLen]byte
	putSQN(sqnb[:], sqnMS)
	_, macS := m.f1(sqnb[:], []byte{0, 0})
	aks := m.f5star()
	for i := 0; i < SQNLen; i++ {
		out[i] = sqnb[i] ^ aks[i]
	}
	copy(out[SQNLen:], macS[:])
	return out, nil
}

// ErrAUTSMAC means the MAC-S in an AUTS did not verify at the HSS.
var ErrAUTSMAC = errors.New("aka: AUTS MAC-S mismatch")

// VerifyAUTS is the HSS side of resynchronisation (TS 33.102 §6.3.5):
// recover SQN_MS with AK* = f5*(RAND) and check MAC-S = f1*(SQN_MS, RAND, 0).
func VerifyAUTS(keys *Keys, rand []byte, auts []byte) (uint64, error) {
	if len(rand) != RandLen || len(auts) != AUTSLen {
		return 0, fmt.Errorf("aka: resync needs RAND (16 bytes) and AUTS (14 bytes), got %d and %d", len(rand), len(auts))
	}
	m, err := newMilenage(keys, rand)
	if err != nil {
		return 0, fmt.Errorf("aka: %w", err)
	}
	aks := m.f5star()
	var sqnb [SQNLen]byte
	for i := range sqnb {
		sqnb[i] = auts[i] ^ aks[i]
	}
	_, macS := m.f1(sqnb[:], []byte{0, 0})
	if subtle.ConstantTimeCompare(macS[:], auts[SQNLen:]) != 1 {
		return 0, ErrAUTSMAC
	}
	return sqnFromBytes(sqnb[:]), nil
}
