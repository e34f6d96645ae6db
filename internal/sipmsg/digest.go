package sipmsg

import "strings"

// String renders the Authorization header value (RFC 2617 §3.2.2, RFC
// 3310 §3.3).
func (c *Credentials) String() string {
	var b strings.Builder
	b.WriteString(`Digest username="` + c.Username + `", realm="` + c.Realm + `", nonce="` + c.Nonce + `", uri="` + c.URI +
		`", response="` + c.Response + `"`)
	if c.Algorithm != "" {
		b.WriteString(", algorithm=" + c.Algorithm)
	}
	if c.QOP != "" {
		b.WriteString(", qop=" + c.QOP + ", nc=" + c.NC + `, cnonce="` + c.CNonce + `"`)
	}
	if c.AUTS != "" {
		b.WriteString(`, auts="` + c.AUTS + `"`)
	}
	return b.String()
}

// String renders the WWW-Authenticate header value (RFC 3310 §3.2; ck and
// ik as ims_auth adds them for the P-CSCF).
func (c *Challenge) String() string {
	s := `Digest realm="` + c.Realm + `", nonce="` + c.Nonce + `", algorithm=` + c.Algorithm
	if c.QOP != "" {
		s += `, qop="` + c.QOP + `"`
	}
	if c.CK != "" {
		s += `, ck="` + c.CK + `", ik="` + c.IK + `"`
	}
	return s
}
