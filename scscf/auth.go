package scscf

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/regstorm/regstorm/internal/aka"
	"github.com/regstorm/regstorm/sim"
)

// avState is the state of a stored auth vector (ims_auth authorize.h).
type avState uint8

const (
	avSent avState = iota + 1
	avUnused
)

// authVector is one stored vector: the challenge's nonce and XRES.
type authVector struct {
	nonce   string
	xres    [aka.RESLen]byte
	xresLen uint8
	state   avState
	expires time.Duration
}

// storeAV is add_auth_vector in SENT state with expiry now +
// auth_vector_timeout. Expired vectors of the user are purged here (ims_auth
// purges them every 10 s; doing it on insert keeps memory bounded with the
// same observable effect on authentication).
func (s *SCSCF) storeAV(env sim.Env, impi, nonce string, xres []byte) {
	now := env.Now()
	list := s.avs[impi][:0:0]
	for _, av := range s.avs[impi] {
		if av.expires > now {
			list = append(list, av)
		}
	}
	av := authVector{nonce: nonce, state: avSent, expires: now + s.cfg.AVTimeout}
	av.xresLen = uint8(copy(av.xres[:], xres))
	s.avs[impi] = append(list, av)
}

// authenticate is ims_www_authenticate() (authorize.c ims_authenticate,
// §5.2): find the SENT vector with this nonce, check qop/nc, compare the MD5
// digest computed with XRES as password. A match uses the vector up
// (max_nonce_reuse = 0); a mismatch makes it useless.
func (s *SCSCF) authenticate(env sim.Env, t *txn) bool {
	cr := t.req.Auth
	list := s.avs[cr.Username]
	now := env.Now()
	for i := range list {
		av := &list[i]
		if av.nonce != cr.Nonce || av.state != avSent || av.expires <= now {
			continue
		}
		ok := cr.QOP == "" || (cr.QOP == "auth" && cr.NC == "00000001")
		if ok {
			want := aka.AKAv1Response(av.xres[:av.xresLen], &aka.DigestParams{
				Username: cr.Username, Realm: cr.Realm, Nonce: cr.Nonce, Method: "REGISTER",
				URI: cr.URI, QOP: cr.QOP, NC: cr.NC, CNonce: cr.CNonce})
			ok = subtle.ConstantTimeCompare([]byte(want), []byte(cr.Response)) == 1
		}
		s.avs[cr.Username] = append(list[:i], list[i+1:]...)
		if len(s.avs[cr.Username]) == 0 {
			delete(s.avs, cr.Username)
		}
		if ok {
			t.impi = cr.Username
		}
		return ok
	}
	return false
}

func encodeNonce(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
func hexs(b []byte) string        { return hex.EncodeToString(b) }
