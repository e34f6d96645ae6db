package scscf

import (
	"strconv"
	"time"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim"
)

// callbackKind says which module callback a cdp transaction belongs to.
type callbackKind uint8

const (
	cbMAR callbackKind = iota + 1
	cbResync
	cbSAR
	cbSARTimeoutDereg // usrloc's TIMEOUT_DEREGISTRATION: no SIP transaction
)

func (k callbackKind) result() results.CallbackKind {
	switch k {
	case cbResync:
		return results.CallbackResync
	case cbSAR:
		return results.CallbackSAR
	}
	return results.CallbackMAR
}

// cdpTrans is a cdp transaction (cdp transaction.c cdp_add_trans).
type cdpTrans struct {
	hbh   uint32
	label uint64
	kind  callbackKind
	timer sim.TimerID
	sent  time.Duration
}

// cdpJob is a Diameter answer in the cdp task queue.
type cdpJob struct {
	hbh uint32
	msg sim.Message
	ct  cdpTrans // taken at dequeue; hbh 0 if the transaction timed out
	t   *txn     // looked up (referenced) by the callback
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
func (s *SCSCF) sendDiameter(env sim.Env, t *txn, kind callbackKind, h *cx.Header, msg sim.Message) {
	s.nextHBH++
	h.HopByHop = s.nextHBH
	h.EndToEnd = s.nextHBH
	var buf [64]byte
	h.SessionID = string(strconv.AppendUint(append(append(buf[:0], s.cfg.OriginHost...), ';'), uint64(s.nextHBH), 10))
	h.OriginHost, h.OriginRealm, h.DestRealm = s.cfg.OriginHost, s.cfg.OriginRealm, s.cfg.Realm
	if s.PeerDown {
		s.Stats.PeerDownDrops++
		if s.cfg.Log != nil { // the text is built only when logging
			s.logf(env, t, "ERROR", "cdp [routing.c]", "get_routing_peer(): Can't find a suitable connected peer in the routing table for realm "+s.cfg.Realm)
		}
		return
	}
	now := env.Now()
	var label uint64
	if t != nil {
		label = t.label
	}
	if s.nextHBH == 0 {
		s.nextHBH = 1 // wrapped: 0 marks an empty cdp slot
		h.HopByHop, h.EndToEnd = 1, 1
	}
	ct := cdpTrans{hbh: s.nextHBH, label: label, kind: kind, sent: now}
	ct.timer = env.SetTimer(s.cdpTimeoutAt(now)-now, sim.TimerKey{Kind: TimerCDP, Ref: uint64(s.nextHBH)})
	s.cdp.put(ct)
	env.Send(s.cfg.HSS, msg)
}

// answerArrived queues a Diameter answer for the cdp workers.
func (s *SCSCF) answerArrived(env sim.Env, hbh uint32, msg sim.Message) {
	if c := s.cfg.Collector; c != nil {
		if ct, ok := s.cdp.get(uint64(hbh)); ok {
			switch ct.kind {
			case cbMAR, cbResync:
				c.Record(c.MARRTT, env.Now()-ct.sent)
			case cbSAR:
				c.Record(c.SARRTT, env.Now()-ct.sent)
			}
		}
	}
	j, now, ok := s.cdw.Submit(env, cdpJob{hbh: hbh, msg: msg})
	if !ok {
		s.Stats.CDPQueueDrops++
		return
	}
	if now {
		s.cdpFinish(env, j)
	}
}

// cdpTake runs when a cdp worker picks the answer: cdp_take_trans removes
// the transaction (an answer without one is dropped silently, §3.1), and
// the module callback's lookup takes a reference on the SIP transaction.
func (s *SCSCF) cdpTake(env sim.Env, j *cdpJob) {
	ct, ok := s.cdp.get(uint64(j.hbh))
	if !ok {
		s.Stats.LateAnswers++
		return
	}
	s.cdp.del(uint64(j.hbh))
	env.CancelTimer(ct.timer)
	j.ct = ct
	if t, _ := s.txns.get(ct.label); t != nil && !t.deleted {
		t.refs++
		j.t = t
	}
}

// cdpFinish runs the module callback when the worker's service ends.
func (s *SCSCF) cdpFinish(env sim.Env, j cdpJob) {
	if j.ct.hbh == 0 {
		return
	}
	if d := env.Now() - j.ct.sent; d > 500*time.Millisecond {
		if s.cfg.Log != nil { // the text is built only when logging
			s.logf(env, j.t, "ERROR", "cdp [api_process.c]", "api_callback(): Received diameter response outside of threshold (500) - "+
				itoa(d.Milliseconds()))
		}
	}
	s.callback(env, j.ct, j.t, j.msg)
	if j.t != nil {
		j.t.refs--
	}
}

// cdpTimeout is cdp_trans_timer firing for one transaction: the callback
// runs in the cdp timer process with is_timeout set.
func (s *SCSCF) cdpTimeout(env sim.Env, hbh uint32) {
	ct, ok := s.cdp.get(uint64(hbh))
	if !ok {
		return
	}
	s.cdp.del(uint64(hbh))
	s.Stats.CDPTimeouts++
	var t *txn
	if c, _ := s.txns.get(ct.label); c != nil && !c.deleted {
		t = c
	}
	s.callback(env, ct, t, nil)
}

func (s *SCSCF) callback(env sim.Env, ct cdpTrans, t *txn, msg sim.Message) {
	switch ct.kind {
	case cbMAR, cbResync:
		maa, _ := msg.(*cx.MAA)
		s.marCallback(env, ct.kind, ct.label, t, maa)
	case cbSAR:
		saa, _ := msg.(*cx.SAA)
		s.sarCallback(env, ct.label, t, saa)
	case cbSARTimeoutDereg:
		if saa, ok := msg.(*cx.SAA); !ok || saa.ResultCode != cx.DiameterSuccess {
			s.logf(env, nil, "ERROR", "ims_registrar_scscf [cxdx_sar.c]", "async_cdp_callback(): SAR (TIMEOUT_DEREGISTRATION) failed")
		}
	}
}
