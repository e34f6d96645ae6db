package scscf

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim"
)

// Stats are the S-CSCF's own counters.
type Stats struct {
	Requests        uint64 // REGISTERs received
	SIPQueueDrops   uint64 // REGISTERs lost to a full receive queue
	Retransmissions uint64 // REGISTERs matching a live transaction
	Transactions    uint64
	Replies         uint64
	RefusedReplies  uint64 // "can't generate ... when a final ... was sent out"
	FRTimeouts      uint64
	CDPTimeouts     uint64
	CDPQueueDrops   uint64 // Diameter answers lost to a full cdp task queue
	LateAnswers     uint64 // answers after their cdp transaction timed out
	PeerDownDrops   uint64
	WaitPostponed   uint64 // WAIT expiries postponed by a held reference
	FreedSuspended  uint64 // freed by WAIT while still flagged suspended
	AuthFailures    uint64
	AVRaces         uint64 // authenticated REGISTERs that arrived before their vector was stored
	Resyncs         uint64
	DirectChallenge uint64 // 401s from an UNUSED vector, without a MAR
	TimeoutDeregs   uint64 // usrloc contact expiries (SAR TIMEOUT_DEREGISTRATION)
	MARs, SARs      uint64
	PeerLosses      uint64 // the HSS connection closed
	Reconnects      uint64
	LateFinals      uint64 // finals sent for a suspended transaction after its FR time (must stay 0)
}

// Invariants checks, once a run has drained, that every transaction got
// exactly one final response and none outlived its FR timer suspended.
func (s *SCSCF) Invariants() error {
	var errs []string
	if s.Live() != 0 || s.suspended != 0 || s.onWait != 0 {
		errs = append(errs, fmt.Sprintf("%d transactions alive (%d suspended, %d on WAIT) after the run", s.Live(), s.suspended, s.onWait))
	}
	if s.Stats.Replies != s.Stats.Transactions {
		errs = append(errs, fmt.Sprintf("%d final replies for %d transactions", s.Stats.Replies, s.Stats.Transactions))
	}
	if s.Stats.LateFinals != 0 {
		errs = append(errs, fmt.Sprintf("%d final replies sent after the FR timer of a suspended transaction", s.Stats.LateFinals))
	}
	if len(errs) > 0 {
		return fmt.Errorf("scscf invariants: %s", strings.Join(errs, "; "))
	}
	return nil
}

// sipJob is a REGISTER waiting for or held by a SIP worker.
type sipJob struct {
	from sim.NodeID
	req  *sipmsg.Request
}

// SCSCF is the core. It implements sim.Handler.
type SCSCF struct {
	cfg         Config
	txns        seqTable[*txn]     // tm's cells by label
	cdp         seqTable[cdpTrans] // cdp transactions by hop-by-hop id
	users       users              // per IMPU: tm hash entry, auth vectors, usrloc record
	expiry      expiryHeap         // pending contact expiries
	expiryAt    time.Duration
	expiryTimer sim.TimerID
	nextLabel   uint64
	nextHBH     uint32
	nextBind    uint64
	suspended   int
	onWait      int

	sip sim.Pool[sipJob] // Kamailio children
	cdw sim.Pool[cdpJob] // cdp workers

	// PeerDown, when set, makes every Diameter send fail as if the HSS peer
	// were not connected (fault injection and tests).
	PeerDown      bool
	peerReachable bool
	serviceRoute  string // "<scscf_name;lr>" for 200 OKs (RFC 3608)
	Stats         Stats
}

// Timer kinds of the S-CSCF.
const (
	// TimerFR is the blind UAC's final-response timer (Ref = label).
	TimerFR uint32 = iota + 1
	// TimerWait is the transaction's WAIT timer (Ref = label).
	TimerWait
	// TimerCDP is a cdp transaction timeout (Ref = hop-by-hop id).
	TimerCDP
	// TimerSIPWorker ends a SIP worker's service (Ref = pool slot).
	TimerSIPWorker
	// TimerCDPWorker ends a cdp worker's service (Ref = pool slot).
	TimerCDPWorker
	// TimerUsrloc runs usrloc's expiry of the earliest contacts.
	TimerUsrloc
	// TimerReconnect is cdp's next connection attempt to a lost peer.
	TimerReconnect
)

// TimerName names a timer kind for traces.
func TimerName(kind uint32) string {
	switch kind {
	case TimerFR:
		return "tm.fr"
	case TimerWait:
		return "tm.wait"
	case TimerCDP:
		return "cdp.timeout"
	case TimerSIPWorker:
		return "sip.worker"
	case TimerCDPWorker:
		return "cdp.worker"
	case TimerUsrloc:
		return "usrloc.expiry"
	case TimerReconnect:
		return "cdp.reconnect"
	}
	return "scscf.?"
}

// New returns an S-CSCF.
func New(cfg Config) (*SCSCF, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &SCSCF{
		cfg:   cfg,
		users: users{hintedOnly: true},
		sip:   sim.Pool[sipJob]{Kind: TimerSIPWorker, Servers: cfg.Children, QueueCap: cfg.SIPQueue, Service: cfg.SIPService},
		cdw:   sim.Pool[cdpJob]{Kind: TimerCDPWorker, Servers: cfg.CDPWorkers, QueueCap: cfg.CDPQueue, Service: cfg.CDPService},
	}
	s.cdw.OnStart = s.cdpTake
	s.serviceRoute = "<" + cfg.Name + ";lr>"
	return s, nil
}

// Suspended is the number of transactions flagged T_ASYNC_SUSPENDED.
func (s *SCSCF) Suspended() int { return s.suspended }

// OnWait is the number of transactions on their WAIT timer.
func (s *SCSCF) OnWait() int { return s.onWait }

// Live is the number of transactions still in the hash table.
func (s *SCSCF) Live() int { return s.txns.n }

// Idle reports whether no transaction, Diameter request or queued message
// is left (usrloc contacts may remain).
func (s *SCSCF) Idle() bool {
	return s.txns.n == 0 && s.cdp.n == 0 && s.sip.Busy() == 0 && s.sip.Queued() == 0 &&
		s.cdw.Busy() == 0 && s.cdw.Queued() == 0
}

// Registered is the number of IMPUs with a usrloc contact.
func (s *SCSCF) Registered() int { return s.users.bound }

// SIPPool and CDPPool expose the process pools' counters.
func (s *SCSCF) SIPPool() sim.PoolStats { return s.sip.Stats }
func (s *SCSCF) CDPPool() sim.PoolStats { return s.cdw.Stats }

// Handle implements sim.Handler.
func (s *SCSCF) Handle(env sim.Env, ev sim.Event) {
	switch ev.Kind {
	case sim.EvMessage:
		switch m := ev.Msg.(type) {
		case *sipmsg.Request:
			s.Stats.Requests++
			if j, now, ok := s.sip.Submit(env, sipJob{ev.From, m}); !ok {
				s.Stats.SIPQueueDrops++
			} else if now {
				s.register(env, j.from, j.req)
			}
		case *cx.MAA:
			s.answerArrived(env, m.HopByHop, m)
		case *cx.SAA:
			s.answerArrived(env, m.HopByHop, m)
		case *cx.PeerEvent:
			s.peerEvent(env, m.Up)
		}
	case sim.EvTimer:
		switch ev.Timer.Kind {
		case TimerFR:
			if t, _ := s.txns.get(ev.Timer.Ref); t != nil && t.fr == ev.ID {
				s.frFired(env, t)
			}
		case TimerWait:
			if t, _ := s.txns.get(ev.Timer.Ref); t != nil && t.wait == ev.ID {
				s.waitFired(env, t)
			}
		case TimerCDP:
			s.cdpTimeout(env, uint32(ev.Timer.Ref))
		case TimerSIPWorker:
			if j, ok := s.sip.Done(env, ev); ok {
				s.register(env, j.from, j.req)
			}
		case TimerCDPWorker:
			if j, ok := s.cdw.Done(env, ev); ok {
				s.cdpFinish(env, j)
			}
		case TimerUsrloc:
			if ev.ID == s.expiryTimer {
				s.contactsExpired(env)
			}
		case TimerReconnect:
			if s.PeerDown && s.peerReachable {
				s.PeerDown = false
				s.Stats.Reconnects++
				s.logf(env, nil, "INFO", "cdp [peerstatemachine.c]", "sm_process(): Peer hss State I_Open (reconnected)")
			}
		}
	}
}

// register is route[REGISTER] of the modelled configuration.
func (s *SCSCF) register(env sim.Env, from sim.NodeID, req *sipmsg.Request) {
	u, ui := s.users.get(req.AOR, req.Sub)
	t := u.liveByBranch(req)
	if t != nil {
		s.Stats.Retransmissions++
		// t_check_trans() / t_newtran() on a retransmission: the stored
		// reply, if any, is sent again (t_retransmit_reply).
		if t.reply != nil {
			env.Send(t.from, t.reply)
		}
		if !s.cfg.RechallengeOnRetx {
			return // absorbed: the sample configuration exits here
		}
		// Without t_check_trans() the route runs again on the existing
		// transaction (§6.3 "custom configs").
	} else {
		t = s.newTxn(env, from, req, u, ui)
	}
	cr := req.Auth
	if cr == nil || cr.Response == "" && cr.AUTS == "" {
		s.challenge(env, t)
		return
	}
	switch s.authenticate(env, t) {
	case authOK:
		s.save(env, t)
	case authResync:
		s.resyncAuth(env, t)
	default:
		s.Stats.AuthFailures++
		if s.cfg.Log != nil { // the text is built only when logging
			s.logf(env, t, "WARNING", "<script>", "AUTH_FAILED to="+req.AOR)
		}
		s.reply(env, t, &sipmsg.Response{Code: 403, Reason: "Forbidden - authentication failed", Expires: -1})
	}
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

func (s *SCSCF) gauges(env sim.Env) {
	if s.cfg.Collector != nil {
		s.cfg.Collector.Gauges(env.Now(), s.suspended, s.onWait)
	}
}

// logf emits a Kamailio-style line, "{Call-ID CSeq method To} LEVEL:
// module [file]: text", the braces standing for a log_prefix such as
// "{$ci $cs $rm $tu} ", so one registration's lines can be picked out.
func (s *SCSCF) logf(env sim.Env, t *txn, level, where, text string) {
	if s.cfg.Log == nil {
		return
	}
	prefix := "{-} "
	if t != nil {
		prefix = "{" + t.req.CallID + " " + strconv.FormatUint(uint64(t.req.CSeq), 10) + " REGISTER " + t.req.AOR + "} "
	}
	s.cfg.Log(env.Now(), prefix+level+": "+where+": "+text)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// peerEvent is cdp's peer state machine seeing the connection to the HSS
// close, or the HSS accept connections again: cdp retries every Tc, so the
// peer is back at the next attempt, a uniform time within Tc. Pending cdp
// transactions are not failed on disconnect; they time out.
func (s *SCSCF) peerEvent(env sim.Env, up bool) {
	s.peerReachable = up
	if !up {
		if !s.PeerDown {
			s.Stats.PeerLosses++
			s.logf(env, nil, "ERROR", "cdp [receiver.c]", "receive_loop(): peer hss closed the connection")
		}
		s.PeerDown = true
		return
	}
	if s.cfg.RealPeer {
		if s.PeerDown {
			s.PeerDown = false
			s.Stats.Reconnects++
			s.logf(env, nil, "INFO", "cdp [peerstatemachine.c]", "sm_process(): Peer hss State I_Open")
		}
		return
	}
	env.SetTimer(time.Duration(env.Rand().Int64N(int64(s.cfg.CDPTc))), sim.TimerKey{Kind: TimerReconnect})
}
