package aka

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
)

// DigestParams are the inputs of an RFC 2617 §3.2.2 request-digest.
type DigestParams struct {
	Username string // the IMPI
	Realm    string
	Nonce    string // as sent in the challenge (base64 for AKA)
	Method   string
	URI      string // digest-uri
	QOP      string // "auth" or "" (RFC 2069 compatibility)
	NC       string // 8 hex digits
	CNonce   string
}

// Hex is a digest as 32 lowercase hex digits, built without allocating.
type Hex [2 * md5.Size]byte

func (h *Hex) String() string { return string(h[:]) }

func sumHex(b []byte) (h Hex) {
	sum := md5.Sum(b)
	hex.Encode(h[:], sum[:])
	return h
}

// HA1Hex is MD5(username:realm:password) (RFC 2617 §3.2.2.2).
// In Digest-AKAv1-MD5 the password is the raw RES bytes (RFC 3310 §3.4).
func HA1Hex(username, realm string, password []byte) Hex {
	var buf [256]byte
	b := append(buf[:0], username...)
	b = append(append(b, ':'), realm...)
	b = append(append(b, ':'), password...)
	return sumHex(b)
}

// HA1MD5 is HA1Hex as a string.
func HA1MD5(username, realm string, password []byte) string {
	h := HA1Hex(username, realm, password)
	return h.String()
}

// ResponseHex computes request-digest from HA1 (RFC 2617 §3.2.2.1), for
// qop=auth or no qop. HA2 = MD5(method:digest-uri).
func ResponseHex(ha1 []byte, p *DigestParams) Hex {
	var buf [512]byte
	b := append(buf[:0], p.Method...)
	b = append(append(b, ':'), p.URI...)
	ha2 := sumHex(b)
	b = append(buf[:0], ha1...)
	b = append(append(b, ':'), p.Nonce...)
	if p.QOP != "" {
		b = append(append(b, ':'), p.NC...)
		b = append(append(b, ':'), p.CNonce...)
		b = append(append(b, ':'), p.QOP...)
	}
	b = append(append(b, ':'), ha2[:]...)
	return sumHex(b)
}

// Response is ResponseHex as a string.
func Response(ha1 string, p *DigestParams) string {
	var buf [2 * md5.Size]byte
	h := ResponseHex(append(buf[:0], ha1...), p)
	return h.String()
}

// AKAv1ResponseHex is the Digest-AKAv1-MD5 response for a RES (RFC 3310 §3.4).
func AKAv1ResponseHex(res []byte, p *DigestParams) Hex {
	ha1 := HA1Hex(p.Username, p.Realm, res)
	return ResponseHex(ha1[:], p)
}

// AKAv1Response is AKAv1ResponseHex as a string.
func AKAv1Response(res []byte, p *DigestParams) string {
	h := AKAv1ResponseHex(res, p)
	return h.String()
}

// AKAv2Password is the Digest-AKAv2-MD5 password (RFC 4169 §3):
// base64(PRF(RES‖IK‖CK, "http-digest-akav2-password")) with PRF = HMAC-MD5.
func AKAv2Password(res []byte, ik, ck [KeyLen]byte) string {
	key := make([]byte, 0, len(res)+2*KeyLen)
	key = append(append(append(key, res...), ik[:]...), ck[:]...)
	mac := hmac.New(md5.New, key)
	mac.Write([]byte("http-digest-akav2-password"))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// DigestPassword is a subscriber's plain Digest-MD5 password: the hex of
// its K, so the HSS (which hands out H(A1)) and the UE agree without a
// stored password.
func DigestPassword(keys *Keys) string { return hex.EncodeToString(keys.K[:]) }
