package scscf

import (
	"strconv"
	"time"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim"
)

// binding is a usrloc contact of an IMPU.
type binding struct {
	contact   string
	expiresAt time.Duration
}

// save is ims_registrar_scscf save() (save.c, §5.2-5.4): choose the
// Server-Assignment-Type, suspend, send the SAR.
func (s *SCSCF) save(env sim.Env, t *txn) {
	t.returnAVP = -2
	req := t.req
	b, registered := s.bindings[req.AOR]
	registered = registered && b.expiresAt > env.Now()
	t.expires = s.grantExpires(req.Expires)
	avail := uint32(0)
	switch {
	case req.Expires == 0:
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
	t.waiting = waitSAA
	m := &cx.SAR{UserName: t.impi, PublicIdentity: req.AOR, ServerName: s.cfg.Name,
		AssignmentType: t.sarType, UserDataAvailable: avail}
	s.sendDiameter(env, t, results.CallbackSAR, &m.Header, m)
}

// grantExpires applies default/min/max expires (registrar §4).
func (s *SCSCF) grantExpires(requested int32) uint32 {
	if requested == 0 {
		return 0
	}
	e := s.cfg.DefaultExpires
	if requested > 0 {
		e = uint32(requested)
	}
	e = max(e, s.cfg.MinExpires)
	if s.cfg.MaxExpires > 0 {
		e = min(e, s.cfg.MaxExpires)
	}
	return e
}

// sarCallback is ims_registrar_scscf cxdx_sar.c async_cdp_callback (§3.3,
// §6.5): the lookup comes first; errors reply 500 and resume with the
// error strategy, success replies 200 and resumes with the success one.
func (s *SCSCF) sarCallback(env sim.Env, label uint64, saa *cx.SAA) {
	t := s.txns[label]
	if t == nil || t.deleted {
		if s.cfg.Log != nil {
			s.log(env, "ERROR: ims_registrar_scscf [cxdx_sar.c]: async_cdp_callback(): t_continue: transaction not found")
		}
		s.resume(env, results.CallbackSAR, label, Filter, s.routeSARReply)
		return
	}
	if saa == nil && s.cfg.Log != nil {
		s.log(env, "ERROR: ims_registrar_scscf [cxdx_sar.c]: async_cdp_callback(): Transaction timeout - did not get SAA")
	}
	if saa == nil || saa.ResultCode != cx.DiameterSuccess || (t.sarType == cx.Registration && len(saa.UserData) == 0) {
		t.returnAVP = -2
		if t.sarType != cx.UnregisteredUser {
			s.reply(env, t, &sipmsg.Response{Code: 500, Reason: "Server Internal Error", RegistrarError: "SAR failed", Expires: -1})
		}
		s.resume(env, results.CallbackSAR, label, s.cfg.SARErrResume, s.routeSARReply)
		return
	}
	var granted int32
	if t.expires == 0 {
		delete(s.bindings, t.req.AOR)
	} else {
		s.bindings[t.req.AOR] = binding{contact: t.req.Contact, expiresAt: env.Now() + time.Duration(t.expires)*time.Second}
		granted = int32(t.expires - t.expires*s.cfg.ExpiresBufferPercent/100)
	}
	if t.sarType != cx.UnregisteredUser {
		s.reply(env, t, &sipmsg.Response{Code: 200, Reason: "OK", Expires: granted,
			AssociatedURI: t.req.AOR, ServiceRoute: "<" + s.cfg.Name + ";lr>"})
	}
	t.returnAVP = 1
	if s.cfg.Log != nil {
		s.log(env, "INFO: ims_registrar_scscf [cxdx_sar.c]: create_return_code(): created AVP successfully : [saa_return_code] - ["+
			strconv.Itoa(t.returnAVP)+"]")
	}
	s.resume(env, results.CallbackSAR, label, s.cfg.SAROKResume, s.routeSARReply)
}

// routeSARReply is route[PRE_REG_SAR_REPLY].
func (s *SCSCF) routeSARReply(env sim.Env, t *txn) {
	if s.cfg.Log != nil {
		s.log(env, "ALERT: <script>: SAR_REPLY_ROUTE_EXECUTED "+strconv.Itoa(t.returnAVP))
	}
	if t.returnAVP == 1 {
		return
	}
	s.reply(env, t, &sipmsg.Response{Code: 500, Reason: "SAR failed", Expires: -1})
}
