package scscf

import (
	"strconv"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim"
)

// Stats are the S-CSCF's own counters.
type Stats struct {
	Requests        uint64 // REGISTERs received
	Retransmissions uint64 // absorbed by t_check_trans()
	Transactions    uint64
	Replies         uint64
	FRTimeouts      uint64
	CDPTimeouts     uint64
	LateAnswers     uint64 // answers after their cdp transaction timed out
	PeerDownDrops   uint64
	FreedSuspended  uint64 // freed by WAIT while still flagged suspended
	AuthFailures    uint64
}

// SCSCF is the core. It implements sim.Handler.
type SCSCF struct {
	cfg       Config
	txns      map[uint64]*txn
	byBranch  map[string]uint64
	cdp       map[uint32]*cdpTrans
	avs       map[string][]authVector // by IMPI
	bindings  map[string]binding      // usrloc, by IMPU
	nextLabel uint64
	nextHBH   uint32
	suspended int

	// PeerDown, when set, makes every Diameter send fail as if the HSS peer
	// were not connected (fault injection and tests).
	PeerDown bool
	Stats    Stats
}

// New returns an S-CSCF.
func New(cfg Config) (*SCSCF, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &SCSCF{
		cfg:      cfg,
		txns:     map[uint64]*txn{},
		byBranch: map[string]uint64{},
		cdp:      map[uint32]*cdpTrans{},
		avs:      map[string][]authVector{},
		bindings: map[string]binding{},
	}, nil
}

// Suspended is the number of transactions flagged T_ASYNC_SUSPENDED.
func (s *SCSCF) Suspended() int { return s.suspended }

// Live is the number of transactions still in the hash table.
func (s *SCSCF) Live() int { return len(s.txns) }

// Handle implements sim.Handler.
func (s *SCSCF) Handle(env sim.Env, ev sim.Event) {
	switch ev.Kind {
	case sim.EvMessage:
		switch m := ev.Msg.(type) {
		case *sipmsg.Request:
			s.register(env, ev.From, m)
		case *cx.MAA:
			s.answer(env, m.HopByHop, m)
		case *cx.SAA:
			s.answer(env, m.HopByHop, m)
		}
	case sim.EvTimer:
		switch ev.Timer.Kind {
		case TimerFR:
			if t := s.txns[ev.Timer.Ref]; t != nil && t.fr == ev.ID {
				s.frFired(env, t)
			}
		case TimerWait:
			if t := s.txns[ev.Timer.Ref]; t != nil && t.wait == ev.ID {
				s.waitFired(t)
			}
		case TimerCDP:
			s.cdpTimeout(env, uint32(ev.Timer.Ref))
		}
	}
}

// register is route[REGISTER] of the modelled configuration.
func (s *SCSCF) register(env sim.Env, from sim.NodeID, req *sipmsg.Request) {
	s.Stats.Requests++
	// t_check_trans(): a retransmission of a live transaction is absorbed;
	// if a final reply was already sent, tm re-sends it.
	if label, ok := s.byBranch[req.Branch]; ok {
		if t := s.txns[label]; t != nil && !t.deleted {
			s.Stats.Retransmissions++
			if t.reply != nil {
				env.Send(t.from, t.reply)
			}
			return
		}
	}
	t := s.newTxn(env, from, req)
	if req.Auth == nil || req.Auth.Response == "" {
		s.challenge(env, t)
		return
	}
	if !s.authenticate(env, t) {
		s.Stats.AuthFailures++
		s.reply(env, t, &sipmsg.Response{Code: 403, Reason: "Forbidden - authentication failed", Expires: -1})
		return
	}
	s.save(env, t)
}

// challenge is ims_www_challenge() (ims_auth authorize.c ims_challenge):
// maa_return_code = -2, suspend, send MAR.
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
	if !s.suspend(env, t) {
		return
	}
	t.waiting = waitMAA
	m := &cx.MAR{UserName: impi, PublicIdentity: t.req.AOR, ServerName: s.cfg.Name, NumAuthItems: 1, Scheme: cx.SchemeAKAv1}
	s.sendDiameter(env, t, results.CallbackMAR, &m.Header, m)
}

// marCallback is ims_auth cxdx_mar.c async_cdp_callback (§3.2, §6.5).
func (s *SCSCF) marCallback(env sim.Env, label uint64, maa *cx.MAA) {
	if maa == nil {
		if s.cfg.Log != nil {
			s.log(env, "ERROR: ims_auth [cxdx_mar.c]: async_cdp_callback(): Transaction timeout - did not get MAA")
		}
		s.resume(env, results.CallbackMAR, label, s.cfg.MARResume, s.routeMARReply)
		return
	}
	t := s.txns[label] // unfiltered t_lookup_ident
	if t == nil || t.deleted {
		if s.cfg.Log != nil {
			s.log(env, "ERROR: ims_auth [cxdx_mar.c]: async_cdp_callback(): t_continue: transaction not found")
		}
		s.record(results.CallbackMAR, false, ReasonFreed)
		return
	}
	code, reason := classifyMAA(maa)
	if code == 401 {
		item := firstItem(maa.Items)
		ch := &sipmsg.Challenge{Realm: s.cfg.Realm, Nonce: encodeNonce(item.Authenticate), Algorithm: "AKAv1-MD5",
			QOP: s.cfg.QOP, CK: hexs(item.CK), IK: hexs(item.IK)}
		s.reply(env, t, &sipmsg.Response{Code: 401, Reason: "Unauthorized - Challenging the UE", Challenge: ch, Expires: -1})
		// The vector is stored at the done: label, after the reply (§9).
		s.storeAV(env, t.impi, ch.Nonce, item.Authorization)
		t.returnAVP = 1
	} else {
		s.reply(env, t, &sipmsg.Response{Code: code, Reason: reason, Expires: -1})
		t.returnAVP = -1
	}
	if s.cfg.Log != nil {
		s.log(env, "INFO: ims_auth [cxdx_mar.c]: create_return_code(): created AVP successfully : [maa_return_code] - ["+
			strconv.Itoa(t.returnAVP)+"]")
	}
	s.resume(env, results.CallbackMAR, label, s.cfg.MARResume, s.routeMARReply)
}

// classifyMAA maps an MAA to the SIP reply ims_auth sends (§5.1 step 4).
func classifyMAA(m *cx.MAA) (int, string) {
	switch {
	case m.ResultCode == cx.DiameterSuccess:
		if len(m.Items) == 0 || len(firstItem(m.Items).Authenticate) == 0 {
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

// firstItem returns the vector with the lowest SIP-Item-Number (ims_auth
// sorts them).
func firstItem(items []cx.AuthItem) *cx.AuthItem {
	best := &items[0]
	for i := range items {
		if items[i].ItemNumber < best.ItemNumber {
			best = &items[i]
		}
	}
	return best
}

// routeMARReply is route[REG_MAR_REPLY]: nothing to do when the module
// already replied (1, -1); 500 "MAR failed" otherwise.
func (s *SCSCF) routeMARReply(env sim.Env, t *txn) {
	if s.cfg.Log != nil {
		s.log(env, "ALERT: <script>: MAR_REPLY_ROUTE_EXECUTED "+strconv.Itoa(t.returnAVP))
	}
	if t.returnAVP == 1 || t.returnAVP == -1 {
		return
	}
	s.reply(env, t, &sipmsg.Response{Code: 500, Reason: "MAR failed", Expires: -1})
}

// resume runs t_continue / t_continue_skip_timer and records the outcome.
func (s *SCSCF) resume(env sim.Env, kind results.CallbackKind, label uint64, st Strategy, route func(sim.Env, *txn)) {
	ret, reason := s.cont(env, label, st, route)
	s.record(kind, ret == ContRouteRan, reason)
}

func (s *SCSCF) record(kind results.CallbackKind, ran bool, reason string) {
	if s.cfg.Collector != nil {
		s.cfg.Collector.Callback(kind, ran, reason)
	}
}

func (s *SCSCF) log(env sim.Env, line string) {
	s.cfg.Log(env.Now(), line)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
