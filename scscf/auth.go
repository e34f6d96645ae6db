package scscf

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strconv"
	"time"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/internal/aka"
	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/sim"
)

// avState is the state of a stored auth vector (ims_auth authorize.h).
type avState uint8

const (
	avUnused avState = iota + 1 // fetched, not yet sent
	avSent                      // sent in a challenge
	avUsed                      // authenticated once; reusable with max_nonce_reuse
)

// authVector is one stored vector (ims_auth auth_vector).
type authVector struct {
	impi      string // the pair is (impi, the user's IMPU)
	nonce     string // base64(RAND‖AUTN)
	xres      [16]byte
	xresLen   uint8
	ck, ik    [16]byte
	alg       uint8  // algAKAv1, algAKAv2, algMD5
	ha1       string // Digest-MD5: H(A1) from the HSS
	state     avState
	validFrom time.Duration // when add_auth_vector ran (§9 race)
	expires   time.Duration
	useNB     uint32
}

// authResult of ims_www_authenticate (authorize.c).
type authResult int8

const (
	authOK     authResult = 1
	authError  authResult = -1 // no vector for this nonce (stale / unknown)
	authBad    authResult = -2 // AUTH_INVALID_PASSWORD
	authResync authResult = -9 // AUTH_RESYNC_REQUESTED
)

// purgedAt is when the vector purge timer (every AVPurgeInterval at
// AVPurgePhase) removes a vector that expires at e: the first tick after e.
func (s *SCSCF) purgedAt(e time.Duration) time.Duration {
	iv, ph := s.cfg.AVPurgeInterval, s.cfg.AVPurgePhase
	k := (e - ph) / iv
	at := k*iv + ph
	for at <= e {
		at += iv
	}
	return at
}

func (s *SCSCF) avLive(av *authVector, now time.Duration) bool {
	return now >= av.validFrom && now < s.purgedAt(av.expires)
}

// userOf is the IMPU record of a transaction.
func (s *SCSCF) userOf(t *txn) *user { return s.users.at(t.user) }

// prune drops the purged vectors of (impi, u) (the purge timer's effect)
// and returns u's vector list; callers pick the entries of impi.
func (s *SCSCF) prune(u *user, impi string, now time.Duration) []authVector {
	return s.keepAVs(u, impi, func(av *authVector) bool { return now < s.purgedAt(av.expires) })
}

// keepAVs keeps the vectors of (impi, u) for which keep is true, and every
// vector of another IMPI, and returns u's list.
func (s *SCSCF) keepAVs(u *user, impi string, keep func(*authVector) bool) []authVector {
	list := u.avs
	out := list[:0]
	for i := range list {
		if list[i].impi != impi || keep(&list[i]) {
			out = append(out, list[i])
		}
	}
	if len(out) == 0 {
		out = nil
	}
	u.avs = out
	return out
}

// challenge is ims_www_challenge() (authorize.c ims_challenge, §5.1):
// maa_return_code = -2; a cached UNUSED vector is sent at once; otherwise
// suspend and send a MAR for av_request_at_once vectors.
func (s *SCSCF) challenge(env sim.Env, t *txn) {
	t.returnAVP = -2
	impi := ""
	if t.req.Auth != nil {
		impi = t.req.Auth.Username
	}
	if impi == "" || t.req.AOR == "" {
		s.reply(env, t, &sipmsg.Response{Code: 403, Reason: "Forbidden - Private/Public identity not found", Expires: -1})
		return
	}
	t.impi = impi
	if s.challengeFromCache(env, t) {
		return
	}
	if !s.suspend(env, t) {
		return
	}
	s.Stats.MARs++
	m := &cx.MAR{UserName: impi, PublicIdentity: t.req.AOR, ServerName: s.cfg.Name, NumAuthItems: s.cfg.AVRequestAtOnce, Scheme: schemeFor(t.req.Auth)}
	s.sendDiameter(env, t, cbMAR, &m.Header, m)
}

// challengeFromCache sends a 401 from an UNUSED vector without a MAR.
func (s *SCSCF) challengeFromCache(env sim.Env, t *txn) bool {
	now := env.Now()
	list := s.prune(s.userOf(t), t.impi, now)
	for i := range list {
		av := &list[i]
		if av.state == avUnused && av.impi == t.impi && s.avLive(av, now) {
			s.Stats.DirectChallenge++
			av.state = avSent
			av.expires = now + s.cfg.AVTimeout
			s.reply(env, t, s.challengeReply(av))
			return true
		}
	}
	return false
}

func (s *SCSCF) challengeReply(av *authVector) *sipmsg.Response {
	ch := &sipmsg.Challenge{Realm: s.cfg.Realm, Nonce: av.nonce, Algorithm: algNames[av.alg], QOP: s.cfg.QOP}
	if av.alg != algMD5 {
		ch.CK, ch.IK = hex.EncodeToString(av.ck[:]), hex.EncodeToString(av.ik[:])
	}
	return &sipmsg.Response{Code: 401, Reason: "Unauthorized - Challenging the UE", Expires: -1, Challenge: ch}
}

// Digest algorithms (ims_auth registration_default_algorithm, or the
// algorithm of the REGISTER's Authorization header).
const (
	algAKAv1 uint8 = iota
	algAKAv2
	algMD5
)

var algNames = [...]string{"AKAv1-MD5", "AKAv2-MD5", "MD5"}

// schemeFor maps the algorithm a UE asks for to the Cx authentication
// scheme of the MAR (TS 29.229 §6.3.9).
func schemeFor(cr *sipmsg.Credentials) string {
	if cr != nil {
		switch cr.Algorithm {
		case "AKAv2-MD5":
			return cx.SchemeAKAv2
		case "MD5":
			return cx.SchemeMD5
		}
	}
	return cx.SchemeAKAv1
}

// marCallback is ims_auth cxdx_mar.c async_cdp_callback (§3.2, §6.5). t is
// the transaction its unfiltered lookup found (nil if freed).
func (s *SCSCF) marCallback(env sim.Env, kind callbackKind, label uint64, t *txn, maa *cx.MAA) {
	route := s.routeMARReply
	if kind == cbResync {
		route = s.routeResyncReply
	}
	if maa == nil {
		s.logf(env, t, "ERROR", "ims_auth [cxdx_mar.c]", "async_cdp_callback(): Transaction timeout - did not get MAA")
		s.resume(env, kind.result(), label, s.cfg.MARResume, route)
		return
	}
	if t == nil || t.deleted {
		s.logf(env, nil, "ERROR", "ims_auth [cxdx_mar.c]", "async_cdp_callback(): t_continue: transaction not found")
		s.record(kind.result(), false, ReasonFreed)
		return
	}
	code, reason := classifyMAA(maa)
	now := env.Now()
	if code == 401 {
		items := maa.Items
		if len(items) > 1 {
			items = append([]cx.AuthItem(nil), items...)
			sort.SliceStable(items, func(i, j int) bool { return items[i].ItemNumber < items[j].ItemNumber })
		}
		if kind == cbResync {
			// Resync: every vector is stored UNUSED, no reply; the route
			// challenges from the cache.
			for i := range items {
				s.addAV(env, t, &items[i], avUnused, now, now)
			}
		} else {
			for i := 1; i < len(items); i++ {
				s.addAV(env, t, &items[i], avUnused, now, now) // stored before the reply
			}
			av := s.newAV(env, t, &items[0], avSent, now, now)
			s.reply(env, t, s.challengeReply(&av))
			// add_auth_vector at the done: label runs after the 401 left,
			// even when the reply was refused (§6.5, §9).
			av.validFrom = now + s.cfg.AVStoreDelay
			av.expires = now + s.cfg.AVTimeout
			u := s.userOf(t)
			u.avs = append(s.prune(u, t.impi, now), av)
		}
		t.returnAVP = 1
	} else {
		if kind != cbResync {
			s.reply(env, t, &sipmsg.Response{Code: code, Reason: reason, Expires: -1})
		}
		t.returnAVP = -1
	}
	if s.cfg.Log != nil { // the text is built only when logging
		s.logf(env, t, "INFO", "ims_auth [cxdx_mar.c]", "create_return_code(): created AVP successfully : [maa_return_code] - ["+
			strconv.Itoa(t.returnAVP)+"]")
	}
	s.resume(env, kind.result(), label, s.cfg.MARResume, route)
}

func (s *SCSCF) newAV(env sim.Env, t *txn, it *cx.AuthItem, st avState, from, now time.Duration) authVector {
	av := authVector{impi: t.impi, state: st, validFrom: from, expires: now + s.cfg.AVTimeout}
	switch {
	case it.Digest != nil:
		// Digest-MD5: the S-CSCF makes the nonce (16 random bytes).
		var n [16]byte
		binary.BigEndian.PutUint64(n[:8], env.Rand().Uint64())
		binary.BigEndian.PutUint64(n[8:], env.Rand().Uint64())
		av.nonce, av.alg, av.ha1 = base64.StdEncoding.EncodeToString(n[:]), algMD5, it.Digest.HA1
	default:
		av.nonce = base64.StdEncoding.EncodeToString(it.Authenticate)
		copy(av.ck[:], it.CK)
		copy(av.ik[:], it.IK)
		av.xresLen = uint8(copy(av.xres[:], it.Authorization))
		if it.Scheme == cx.SchemeAKAv2 {
			av.alg = algAKAv2
		}
	}
	return av
}

func (s *SCSCF) addAV(env sim.Env, t *txn, it *cx.AuthItem, st avState, from, now time.Duration) {
	u := s.userOf(t)
	u.avs = append(s.prune(u, t.impi, now), s.newAV(env, t, it, st, from, now))
}

// classifyMAA maps an MAA to the SIP reply ims_auth sends (§5.1 step 4).
func classifyMAA(m *cx.MAA) (int, string) {
	switch {
	case m.ResultCode == cx.DiameterSuccess:
		if m.UserName == "" {
			return 403, "Forbidden - Private identity not found (Authorization: username)"
		}
		if m.PublicIdentity == "" {
			return 403, "Forbidden - Public identity not found (To:)"
		}
		if len(m.Items) == 0 || m.Items[0].Digest == nil && (len(m.Items[0].Authenticate) == 0 || len(m.Items[0].Authorization) == 0) {
			return 403, "Forbidden - HSS returned no authentication vectors"
		}
		return 401, ""
	case m.ResultCode == cx.DiameterUnableToComp:
		return 403, "Forbidden - HSS Unable to comply"
	case m.ResultCode != 0:
		return 403, "Forbidden - HSS responded with unknown Result Code"
	}
	switch m.ExperimentalResult {
	case cx.ErrorUserUnknown:
		return 403, "Forbidden - HSS User Unknown"
	case cx.ErrorIdentitiesDontMatch:
		return 403, "Forbidden - HSS Identities don't match"
	case cx.ErrorAuthSchemeNotSupported:
		return 403, "Forbidden - HSS Authentication Scheme Unsupported"
	}
	return 403, "Forbidden - HSS responded with unknown Experimental Result Code"
}

// routeMARReply is route[REG_MAR_REPLY]: nothing to do when the module
// already replied (1, -1); 500 "MAR failed" otherwise.
func (s *SCSCF) routeMARReply(env sim.Env, t *txn) {
	if s.cfg.Log != nil { // the text is built only when logging
		s.logf(env, t, "ALERT", "<script>", "MAR_REPLY_ROUTE_EXECUTED "+strconv.Itoa(t.returnAVP))
	}
	if t.returnAVP == 1 || t.returnAVP == -1 {
		return
	}
	s.reply(env, t, &sipmsg.Response{Code: 500, Reason: "MAR failed", Expires: -1})
}

// routeResyncReply is route[REG_RESYNC_REPLY] of the Kamailio sample: on
// success, challenge again (from the vectors the resync fetched).
func (s *SCSCF) routeResyncReply(env sim.Env, t *txn) {
	if s.cfg.Log != nil { // the text is built only when logging
		s.logf(env, t, "ALERT", "<script>", "RESYNC_REPLY_ROUTE_EXECUTED "+strconv.Itoa(t.returnAVP))
	}
	if t.returnAVP == 1 && s.challengeFromCache(env, t) {
		return
	}
	s.reply(env, t, &sipmsg.Response{Code: 500, Reason: "MAR failed", Expires: -1})
}

// authenticate is ims_www_authenticate() (authorize.c ims_authenticate,
// §5.2).
func (s *SCSCF) authenticate(env sim.Env, t *txn) authResult {
	cr := t.req.Auth
	now := env.Now()
	u := s.userOf(t)
	impi := cr.Username
	list := s.prune(u, impi, now)
	t.impi = impi
	if s.cfg.MaxNonceReuse > 0 {
		for i := range list {
			av := &list[i]
			if av.impi == impi && av.state == avUsed && av.nonce == cr.Nonce {
				ok := s.digestOK(av, cr, av.useNB+1)
				if ok {
					av.useNB++
					if av.useNB >= s.cfg.MaxNonceReuse {
						s.removeAV(u, i)
					}
					return authOK
				}
				s.removeAV(u, i)
				return authBad
			}
		}
	}
	// Every USED vector becomes USELESS before a SENT one is looked up.
	list = s.dropState(u, impi, avUsed)
	for i := range list {
		av := &list[i]
		if av.impi != impi || av.state != avSent || av.nonce != cr.Nonce {
			continue
		}
		if now < av.validFrom {
			break // sent but not stored yet (§9): not found
		}
		if s.digestOK(av, cr, 1) {
			if s.cfg.MaxNonceReuse > 0 {
				av.state = avUsed
				av.useNB = 1
				av.expires = now + s.cfg.AVUsedTimeout
			} else {
				s.removeAV(u, i)
			}
			return authOK
		}
		s.removeAV(u, i)
		if cr.AUTS != "" && s.cfg.ResyncEnabled {
			return authResync
		}
		return authBad
	}
	if cr.AUTS != "" && s.cfg.ResyncEnabled {
		return authResync
	}
	for i := range list {
		if list[i].impi == impi && list[i].nonce == cr.Nonce && now < list[i].validFrom {
			s.Stats.AVRaces++
		}
	}
	return authError
}

// digestOK checks qop/nc and the MD5 digest with XRES as password.
func (s *SCSCF) digestOK(av *authVector, cr *sipmsg.Credentials, wantNC uint32) bool {
	if cr.QOP != "" {
		nc, err := strconv.ParseUint(cr.NC, 16, 32)
		if cr.QOP != "auth" || err != nil || uint32(nc) != wantNC {
			return false
		}
	}
	p := &aka.DigestParams{Username: cr.Username, Realm: cr.Realm,
		Nonce: cr.Nonce, Method: "REGISTER", URI: cr.URI, QOP: cr.QOP, NC: cr.NC, CNonce: cr.CNonce}
	var want aka.Hex
	switch av.alg {
	case algMD5:
		var buf [len(aka.Hex{})]byte
		want = aka.ResponseHex(append(buf[:0], av.ha1...), p)
	case algAKAv2:
		ha1 := aka.HA1Hex(cr.Username, cr.Realm, []byte(aka.AKAv2Password(av.xres[:av.xresLen], av.ik, av.ck)))
		want = aka.ResponseHex(ha1[:], p)
	default:
		want = aka.AKAv1ResponseHex(av.xres[:av.xresLen], p)
	}
	return subtle.ConstantTimeCompare(want[:], []byte(cr.Response)) == 1
}

func (s *SCSCF) removeAV(u *user, i int) {
	u.avs = append(u.avs[:i], u.avs[i+1:]...)
	if len(u.avs) == 0 {
		u.avs = nil
	}
}

func (s *SCSCF) dropState(u *user, impi string, st avState) []authVector {
	return s.keepAVs(u, impi, func(av *authVector) bool { return av.state != st })
}

// resyncAuth is ims_www_resync_auth("REG_RESYNC_REPLY") (authorize.c,
// TS 33.203 §6.1.2): suspend and send a MAR carrying RAND‖AUTS.
func (s *SCSCF) resyncAuth(env sim.Env, t *txn) {
	cr := t.req.Auth
	nonce, err1 := base64.StdEncoding.DecodeString(cr.Nonce)
	auts, err2 := base64.StdEncoding.DecodeString(cr.AUTS)
	if err1 != nil || err2 != nil || len(nonce) < aka.RandLen || len(auts) != aka.AUTSLen {
		s.Stats.AuthFailures++
		s.reply(env, t, &sipmsg.Response{Code: 400, Reason: "Bad Request - invalid resync data", Expires: -1})
		return
	}
	t.returnAVP = -2
	if !s.suspend(env, t) {
		return
	}
	s.Stats.Resyncs++
	s.Stats.MARs++
	m := &cx.MAR{UserName: cr.Username, PublicIdentity: t.req.AOR, ServerName: s.cfg.Name, NumAuthItems: 1,
		Scheme: cx.SchemeAKAv1, Authorization: append(append([]byte(nil), nonce[:aka.RandLen]...), auts...)}
	s.sendDiameter(env, t, cbResync, &m.Header, m)
}
