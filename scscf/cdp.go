package scscf

import (
	"time"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim"
)

// cdpTrans is a cdp transaction (cdp transaction.c cdp_add_trans).
type cdpTrans struct {
	label uint64
	kind  results.CallbackKind
	timer sim.TimerID
	sent  time.Duration
}

// cdpTimeoutAt is when cdp_trans_timer fires for a request sent at now:
// expires = time(0) + TransactionTimeout in integer seconds, and the scan,
// running once a second at CDPPhase, fires when time(0) > expires
// (strictly). The first such scan is at floor(now)+T+1 s + phase, a delay in
// (T, T+2] s (KAMAILIO-MODEL.md §3.1, §6.4). Arming one timer per
// transaction at that instant is equivalent to the scan and costs nothing
// while idle.
func (s *SCSCF) cdpTimeoutAt(now time.Duration) time.Duration {
	sec := now / time.Second * time.Second
	return sec + s.cfg.CDPTimeout + time.Second + s.cfg.CDPPhase
}

// sendDiameter is AAASendMessage with a callback. When the peer is down the
// message is dropped and no transaction is created: no callback ever
// arrives (the cxdx_send_* callers ignore the return value, §3.1).
func (s *SCSCF) sendDiameter(env sim.Env, t *txn, kind results.CallbackKind, h *cx.Header, msg sim.Message) {
	s.nextHBH++
	h.HopByHop = s.nextHBH
	h.EndToEnd = s.nextHBH
	h.SessionID = s.cfg.OriginHost + ";" + toTag(t.label) + ";" + toTag(uint64(s.nextHBH))
	h.OriginHost, h.OriginRealm, h.DestRealm = s.cfg.OriginHost, s.cfg.OriginRealm, s.cfg.Realm
	if s.PeerDown {
		s.Stats.PeerDownDrops++
		if s.cfg.Log != nil {
			s.log(env, "ERROR: cdp [peerstatemachine.c]: AAASendMessage(): Peer not connected to "+s.cfg.Realm)
		}
		return
	}
	now := env.Now()
	ct := &cdpTrans{label: t.label, kind: kind, sent: now}
	ct.timer = env.SetTimer(s.cdpTimeoutAt(now)-now, sim.TimerKey{Kind: TimerCDP, Ref: uint64(s.nextHBH)})
	s.cdp[s.nextHBH] = ct
	env.Send(s.cfg.HSS, msg)
}

// answer is cdp's api_process: cdp_take_trans, then the callback; an answer
// without a transaction (it already timed out) is dropped silently.
func (s *SCSCF) answer(env sim.Env, hbh uint32, msg sim.Message) {
	ct, ok := s.cdp[hbh]
	if !ok {
		s.Stats.LateAnswers++
		return
	}
	delete(s.cdp, hbh)
	env.CancelTimer(ct.timer)
	if s.cfg.Log != nil && env.Now()-ct.sent > 500*time.Millisecond {
		s.log(env, "ERROR: cdp [api_process.c]: Received diameter response outside of threshold (500) - "+
			itoa((env.Now()-ct.sent).Milliseconds()))
	}
	s.callback(env, ct, msg)
}

func (s *SCSCF) cdpTimeout(env sim.Env, hbh uint32) {
	ct, ok := s.cdp[hbh]
	if !ok {
		return
	}
	delete(s.cdp, hbh)
	s.Stats.CDPTimeouts++
	s.callback(env, ct, nil)
}

func (s *SCSCF) callback(env sim.Env, ct *cdpTrans, msg sim.Message) {
	switch ct.kind {
	case results.CallbackMAR:
		maa, _ := msg.(*cx.MAA)
		s.marCallback(env, ct.label, maa)
	case results.CallbackSAR:
		saa, _ := msg.(*cx.SAA)
		s.sarCallback(env, ct.label, saa)
	}
}
