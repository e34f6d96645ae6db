package ue

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/regstorm/regstorm/internal/aka"
	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim"
)

// Answering a challenge: AUTN check, think time, Digest-AKAv1/v2-MD5 or
// MD5 response, and resynchronisation with AUTS (TS 33.102, RFC 3310,
// RFC 4169, RFC 2617).

func (f *Fleet) algorithm() string {
	if f.cfg.Algorithm == "AKAv1-MD5" {
		return "" // the S-CSCF's default (registration_default_algorithm)
	}
	return f.cfg.Algorithm
}

// challenged verifies AUTN (TS 33.102 §6.3.3) and starts the think time.
func (f *Fleet) challenged(env sim.Env, i uint32, r *sipmsg.Response) {
	u := &f.ues[i]
	u.state = Challenged
	u.challenge = r
	u.timer = env.SetTimer(f.cfg.ThinkTime.Sample(env.Rand()), sim.TimerKey{Kind: TimerThink, Ref: uint64(i)})
}

// answer computes the digest response and sends the authenticated
// REGISTER: for AKA, verify AUTN (TS 33.102 §6.3.3), answering an SQN out
// of range with AUTS, then Digest-AKAv1-MD5 (RFC 3310 §3.4: password RES)
// or -AKAv2-MD5 (RFC 4169 §3: password from RES, IK, CK); for MD5 the
// subscriber's password.
func (f *Fleet) answer(env sim.Env, i uint32, id sim.TimerID) {
	u := &f.ues[i]
	if u.state != Challenged || u.timer != id {
		return
	}
	r401 := u.challenge
	ch := r401.Challenge
	u.challenge = nil
	pop := &f.cfg.Population
	keys := pop.KeysOf(i)
	impi := pop.IMPIOf(i)
	var password []byte
	if ch.Algorithm == "MD5" {
		password = []byte(aka.DigestPassword(&keys))
	} else {
		var nb [aka.NonceLen]byte
		nonce, err := decodeNonce(&nb, ch.Nonce)
		var res aka.Result
		if err == nil {
			res, err = aka.Verify(&keys, nonce)
		}
		if err != nil {
			// A real UE answers an unverifiable challenge with an empty
			// response (TS 24.229 §5.1.1.5.3); the procedure has failed here.
			f.Stats.MACFailures++
			u.state = Failed
			f.done(env, i, results.Outcome{Code: 401, Reason: "AUTN rejected by the UE (MAC)"}, env.Now()-u.intended)
			f.failed(env, i, 0)
			return
		}
		// TS 33.102 Annex C: the SEQ must be newer than the last accepted,
		// and not absurdly far ahead (Δ = 2^28) of it; a USIM that has
		// accepted nothing yet (lastSQN 0) has no reference for Δ.
		seq, last := res.SQN>>5, u.lastSQN>>5
		if seq <= last || u.lastSQN != 0 && seq-last > 1<<28 {
			f.resync(env, i, ch, nonce[:aka.RandLen])
			return
		}
		u.lastSQN = res.SQN
		password = res.RES[:]
		if ch.Algorithm == "AKAv2-MD5" {
			password = []byte(aka.AKAv2Password(res.RES[:], res.IK, res.CK))
		}
	}
	qop := ""
	if hasToken(ch.QOP, "auth") {
		qop = "auth"
	}
	p := aka.DigestParams{Username: impi, Realm: ch.Realm, Nonce: ch.Nonce, Method: "REGISTER", URI: f.uri, QOP: qop}
	if qop != "" {
		p.NC = "00000001"
		p.CNonce = strconv.FormatUint(env.Rand().Uint64(), 16)
	}
	u.state = Answering
	f.sendAfter(env, i, r401, &sipmsg.Credentials{Username: p.Username, Realm: p.Realm, Nonce: p.Nonce, URI: p.URI,
		Response: respond(impi, ch.Realm, password, &p), Algorithm: ch.Algorithm, QOP: qop, NC: p.NC, CNonce: p.CNonce})
}

// resync answers a challenge whose SQN is out of range with AUTS (TS 33.102
// §6.3.3, RFC 3310 §3.4): SQN_MS is the last SQN the USIM accepted.
func (f *Fleet) resync(env sim.Env, i uint32, ch *sipmsg.Challenge, rand []byte) {
	u := &f.ues[i]
	keys := f.cfg.Population.KeysOf(i)
	auts, err := aka.GenerateAUTS(&keys, rand, u.lastSQN)
	if err != nil {
		u.state = Failed
		f.done(env, i, results.Outcome{Code: 401, Reason: "AUTS could not be computed"}, env.Now()-u.intended)
		return
	}
	f.Stats.SQNFailures++
	f.Stats.Resyncs++
	u.state = Answering
	u.resync = true
	f.send(env, i, &sipmsg.Credentials{Username: f.cfg.Population.IMPIOf(i), Realm: ch.Realm, Nonce: ch.Nonce, URI: f.uri,
		Algorithm: ch.Algorithm, AUTS: base64.StdEncoding.EncodeToString(auts[:])})
}

// SetLastSQN sets the SQN a UE's USIM last accepted (tests, and
// populations whose USIMs are ahead of the HSS).
func (f *Fleet) SetLastSQN(i uint32, sqn uint64) { f.ues[i].lastSQN = sqn }

func hasToken(list, tok string) bool {
	for list != "" {
		var t string
		t, list, _ = strings.Cut(list, ",")
		if strings.TrimSpace(t) == tok {
			return true
		}
	}
	return false
}

// decodeNonce decodes a base64 nonce into buf when it fits (no allocation).
func decodeNonce(buf *[aka.NonceLen]byte, s string) ([]byte, error) {
	if base64.StdEncoding.DecodedLen(len(s)) > len(buf) {
		return base64.StdEncoding.DecodeString(s)
	}
	n, err := base64.StdEncoding.Decode(buf[:], []byte(s))
	return buf[:n], err
}

// respond is the request-digest of an answering REGISTER (RFC 2617
// §3.2.2.1; RFC 3310 §3.4 for AKA, where the password is RES).
func respond(impi, realm string, password []byte, p *aka.DigestParams) string {
	ha1 := aka.HA1Hex(impi, realm, password)
	h := aka.ResponseHex(ha1[:], p)
	return h.String()
}
