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

// HA1MD5 is MD5(username:realm:password) (RFC 2617 §3.2.2.2).
// In Digest-AKAv1-MD5 the password is the raw RES bytes (RFC 3310 §3.4).
func HA1MD5(username, realm string, password []byte) string {
	h := md5.New()
	h.Write([]byte(username))
	h.Write([]byte{':'})
	h.Write([]byte(realm))
	h.Write([]byte{':'})
	h.Write(password)
	var sum [md5.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// Response computes request-digest from HA1 (RFC 2617 §3.2.2.1), for
// qop=auth or no qop. HA2 = MD5(method:digest-uri).
func Response(ha1 string, p *DigestParams) string {
	ha2 := md5hex(p.Method + ":" + p.URI)
	if p.QOP == "" {
		return md5hex(ha1 + ":" + p.Nonce + ":" + ha2)
	}
	return md5hex(ha1 + ":" + p.Nonce + ":" + p.NC + ":" + p.CNonce + ":" + p.QOP + ":" + ha2)
}

// AKAv1Response is the Digest-AKAv1-MD5 response for a RES (RFC 3310 §3.4).
func AKAv1Response(res []byte, p *DigestParams) string {
	return Response(HA1MD5(p.Username, p.Realm, res), p)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
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
