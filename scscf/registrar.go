package scscf

import (
	"strconv"
	"time"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim"
)

// binding is a usrloc contact of an IMPU (ims_usrloc_scscf).
type binding struct {
	impi      string
	contact   string
	expiresAt time.Duration
	id        uint64 // its entry in the expiry heap
}

// save is ims_registrar_scscf save() (save.c, §5.2-5.4): choose the
// Server-Assignment-Type, suspend, send the SAR.
func (s *SCSCF) save(env sim.Env, t *txn) {
	t.returnAVP = -2
	req := t.req
	registered := s.userOf(t).bound
	t.expires = s.grantExpires(req.Expires)
	avail := uint32(0)
	switch {
	case t.expires == 0:
		t.sarType = cx.UserDeregistration
		avail = 1
	case registered:
		t.sarType = cx.ReRegistration
		avail = 1
	default:
		t.sarType = cx.Registration
	}
	if !s.suspend(env, t) {
		return
	}
	s.Stats.SARs++
	m := &cx.SAR{UserName: t.impi, PublicIdentity: req.AOR, ServerName: s.cfg.Name,
		AssignmentType: t.sarType, UserDataAvailable: avail}
	s.sendDiameter(env, t, cbSAR, &m.Header, m)
}

// grantExpires applies default/min/max expires (registrar §4): min_expires
// raises low values (no 423), max_expires 0 means unlimited. A request
// carries delta-seconds of at most 2^32-1 (sipmsg.MaxExpires, RFC 3261
// §20.19); larger values are taken as that, never wrapped.
func (s *SCSCF) grantExpires(requested int64) uint32 {
	if requested == 0 {
		return 0
	}
	e := s.cfg.DefaultExpires
	if requested > 0 {
		e = uint32(min(requested, sipmsg.MaxExpires))
	}
	e = max(e, s.cfg.MinExpires)
	if s.cfg.MaxExpires > 0 {
		e = min(e, s.cfg.MaxExpires)
	}
	return e
}

// returnedExpires is the expires of the 200 OK: the granted expiry minus
// expires_buffer_percent, computed in 64 bits (a granted 2^32-1 times the
// percentage does not fit 32).
func (s *SCSCF) returnedExpires(granted uint32) int64 {
	g := uint64(granted)
	return int64(g - g*uint64(s.cfg.ExpiresBufferPercent)/100)
}

// sarCallback is ims_registrar_scscf cxdx_sar.c async_cdp_callback (§3.3,
// §6.5): the lookup comes first; errors reply 500 and resume with the
// error strategy, success replies 200 and resumes with the success one.
func (s *SCSCF) sarCallback(env sim.Env, label uint64, t *txn, saa *cx.SAA) {
	if t == nil || t.deleted {
		s.logf(env, nil, "ERROR", "ims_registrar_scscf [cxdx_sar.c]", "async_cdp_callback(): t_continue: transaction not found and t is now pointing to 0")
		s.resume(env, results.CallbackSAR, label, Filter, s.routeSARReply)
		return
	}
	if saa == nil {
		s.logf(env, t, "ERROR", "ims_registrar_scscf [cxdx_sar.c]", "async_cdp_callback(): Transaction timeout - did not get SAA")
	}
	if saa == nil || saa.ResultCode != cx.DiameterSuccess || (t.sarType == cx.Registration && len(saa.UserData) == 0) {
		t.returnAVP = -2
		if t.sarType != cx.UnregisteredUser {
			s.reply(env, t, &sipmsg.Response{Code: 500, Reason: "Server Internal Error", RegistrarError: "SAR failed", Expires: -1,
				RetryAfter: int32(s.cfg.RetryAfter)})
		}
		s.resume(env, results.CallbackSAR, label, s.cfg.SARErrResume, s.routeSARReply)
		return
	}
	var granted int64
	if t.expires == 0 {
		s.users.unbind(s.userOf(t))
	} else {
		s.bind(env, t)
		granted = s.returnedExpires(t.expires)
	}
	if t.sarType != cx.UnregisteredUser {
		s.reply(env, t, &sipmsg.Response{Code: 200, Reason: "OK", Expires: granted, Contact: t.req.Contact,
			AssociatedURI: t.req.AOR, ServiceRoute: s.serviceRoute})
	}
	t.returnAVP = 1
	if s.cfg.Log != nil { // the text is built only when logging
		s.logf(env, t, "INFO", "ims_registrar_scscf [cxdx_sar.c]", "create_return_code(): created AVP successfully : [saa_return_code] - ["+
			strconv.Itoa(t.returnAVP)+"]")
	}
	s.resume(env, results.CallbackSAR, label, s.cfg.SAROKResume, s.routeSARReply)
}

// bind stores the contact in usrloc. Expiry is kept in a min-heap of
// (expiry, binding id) values with a single timer on its earliest entry;
// a refreshed binding leaves its old entry behind, skipped when it comes
// up (ims_usrloc_scscf checks expiry from its timer, not per contact).
func (s *SCSCF) bind(env sim.Env, t *txn) {
	s.nextBind++
	d := time.Duration(t.expires) * time.Second
	b := binding{impi: t.impi, contact: t.req.Contact, expiresAt: env.Now() + d, id: s.nextBind}
	s.users.setBound(s.userOf(t), b)
	s.expiry.push(expiryEntry{at: b.expiresAt, id: b.id, user: t.user})
	s.armExpiry(env)
}

// armExpiry keeps one usrloc timer on the earliest pending expiry.
func (s *SCSCF) armExpiry(env sim.Env) {
	if len(s.expiry) == 0 {
		return
	}
	at := s.expiry[0].at
	if s.expiryTimer != 0 && s.expiryAt <= at {
		return
	}
	env.CancelTimer(s.expiryTimer)
	s.expiryAt = at
	s.expiryTimer = env.SetTimer(at-env.Now(), sim.TimerKey{Kind: TimerUsrloc})
}

// contactsExpired is usrloc's expiry of the last contact of an IMPU: the
// record goes and a SAR TIMEOUT_DEREGISTRATION is sent with no SIP
// transaction; its answer is only logged (§5.4).
func (s *SCSCF) contactsExpired(env sim.Env) {
	s.expiryTimer = 0
	for len(s.expiry) > 0 && s.expiry[0].at <= env.Now() {
		e := s.expiry.pop()
		u := s.users.at(e.user)
		if !u.bound || u.b.id != e.id {
			continue // refreshed or removed since (binding ids are never reused)
		}
		impi, impu := u.b.impi, u.impu
		s.users.unbind(u)
		s.users.release(e.user)
		s.Stats.TimeoutDeregs++
		s.Stats.SARs++
		m := &cx.SAR{UserName: impi, PublicIdentity: impu, ServerName: s.cfg.Name, AssignmentType: cx.TimeoutDeregistration, UserDataAvailable: 1}
		s.sendDiameter(env, nil, cbSARTimeoutDereg, &m.Header, m)
	}
	s.armExpiry(env)
}

// expiryEntry is a pointer-free usrloc expiry record.
type expiryEntry struct {
	at   time.Duration
	id   uint64 // binding id
	user uint32 // index of the IMPU's record
}

// expiryHeap is a binary min-heap of expiry entries ordered by (at, id).
type expiryHeap []expiryEntry

func (h expiryHeap) less(i, j int) bool {
	return h[i].at < h[j].at || h[i].at == h[j].at && h[i].id < h[j].id
}

func (h *expiryHeap) push(e expiryEntry) {
	*h = append(*h, e)
	x := *h
	for i := len(x) - 1; i > 0; {
		p := (i - 1) / 2
		if !x.less(i, p) {
			break
		}
		x[i], x[p] = x[p], x[i]
		i = p
	}
}

func (h *expiryHeap) pop() expiryEntry {
	x := *h
	top := x[0]
	n := len(x) - 1
	x[0] = x[n]
	x = x[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && x.less(l, m) {
			m = l
		}
		if l+1 < n && x.less(l+1, m) {
			m = l + 1
		}
		if m == i {
			break
		}
		x[i], x[m] = x[m], x[i]
		i = m
	}
	*h = x
	return top
}

// routeSARReply is route[PRE_REG_SAR_REPLY].
func (s *SCSCF) routeSARReply(env sim.Env, t *txn) {
	if s.cfg.Log != nil { // the text is built only when logging
		s.logf(env, t, "ALERT", "<script>", "SAR_REPLY_ROUTE_EXECUTED "+strconv.Itoa(t.returnAVP))
	}
	if t.returnAVP == 1 {
		return
	}
	s.reply(env, t, &sipmsg.Response{Code: 500, Reason: "SAR failed", Expires: -1})
}

// GrantedExpires is the expiry the registrar grants a requested one, and
// the expires it returns in the 200 OK (minus expires_buffer_percent).
func (s *SCSCF) GrantedExpires(requested int32) (stored uint32, returned int32) {
	e := s.grantExpires(int64(requested))
	return e, int32(min(s.returnedExpires(e), 1<<31-1))
}

// Preload stores a binding registered before the run (a steady-state
// population); it expires at expiresAt unless refreshed (the expiry timer
// is armed with the first registration of the run).
func (s *SCSCF) Preload(impu, impi, contact string, expiresAt time.Duration) {
	s.nextBind++
	u, i := s.users.get(impu, 0)
	s.users.setBound(u, binding{impi: impi, contact: contact, expiresAt: expiresAt, id: s.nextBind})
	s.expiry.push(expiryEntry{at: expiresAt, id: s.nextBind, user: i})
}
