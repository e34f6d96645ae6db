package ue

import (
	"time"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim"
)

// Timer kinds of the fleet.
const (
	// TimerArrival starts the next scheduled registration (Ref unused).
	TimerArrival uint32 = iota + 1
	// TimerThink ends the think time before answering a challenge (Ref = UE).
	TimerThink
	// TimerF is the client transaction timeout (Ref = UE).
	TimerF
	// TimerE retransmits a REGISTER over UDP (Ref = UE).
	TimerE
	// TimerReregister starts a re-registration before expiry (Ref = UE).
	TimerReregister
	// TimerRetry starts a new attempt after a failure (Ref = UE).
	TimerRetry
	// TimerDeregister starts a de-registration (Ref = UE).
	TimerDeregister
)

// TimerName names a timer kind for traces.
func TimerName(kind uint32) string {
	switch kind {
	case TimerArrival:
		return "ue.arrival"
	case TimerThink:
		return "ue.think"
	case TimerF:
		return "ue.timer_f"
	case TimerE:
		return "ue.timer_e"
	case TimerReregister:
		return "ue.reregister"
	case TimerRetry:
		return "ue.retry"
	case TimerDeregister:
		return "ue.deregister"
	}
	return "ue.?"
}

// State of one UE.
type State uint8

const (
	Idle        State = iota // not started
	Registering              // initial REGISTER sent
	Challenged               // 401 received, thinking
	Answering                // REGISTER with credentials sent
	Registered
	Failed
	Deregistered
)

// Procedures a UE runs.
const (
	procRegister   uint8 = iota // initial registration, or a retry of it
	procReregister              // refresh before expiry
	procDeregister              // Expires: 0
)

// procKinds name the procedures for the collector.
var procKinds = [...]results.Procedure{procRegister: results.ProcRegistration, procReregister: results.ProcReregistration,
	procDeregister: results.ProcDeregistration}

// ue is one terminal: 56 bytes.
type ue struct {
	intended  time.Duration    // intended send time of the procedure
	timer     sim.TimerID      // Timer E or F of the transaction, think, re-registration or retry timer
	lastSQN   uint64           // highest SQN accepted (TS 33.102 C.2)
	challenge *sipmsg.Response // the 401, while thinking
	req       *sipmsg.Request  // outstanding request, for retransmission
	cseq      uint32
	callTag   uint32
	state     State
	retx      uint8  // retransmissions of the outstanding request
	code      uint16 // final code of the last procedure
	proc      uint8  // the procedure in progress or last run
	failures  uint8  // consecutive failed attempts (RFC 5626 §4.5)
	scheduled bool   // a re-registration, retry or de-registration timer is armed
	resync    bool   // an AUTS was sent: one more challenge is expected
}

// Stats are the fleet's own counters.
type Stats struct {
	Started                                           uint64
	Responses                                         uint64
	Stray                                             uint64 // responses matching no outstanding request
	MACFailures                                       uint64
	SQNFailures                                       uint64
	TimerFExpiry                                      uint64
	Retransmits                                       uint64
	Reregistrations, Retries, Deregistrations, GaveUp uint64
	Resyncs                                           uint64 // AUTS sent (TS 33.102 §6.3.3)
}

// Fleet is the UE core. It implements sim.Handler.
type Fleet struct {
	cfg       Config
	ues       []ue
	next      uint32 // next UE to start
	active    int    // procedures in progress
	scheduled int    // UEs with a re-registration, retry or de-registration armed
	uri       string // Request-URI: sip:<realm>
	Stats     Stats
}

// New returns a fleet of cfg.Population.Count UEs.
func New(cfg Config) (*Fleet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Fleet{cfg: cfg, ues: make([]ue, cfg.Population.Count), uri: "sip:" + cfg.Population.Realm}, nil
}

// Idle reports whether every UE has started and no procedure is in
// progress.
func (f *Fleet) Idle() bool {
	return f.next >= uint32(len(f.ues)) && f.active == 0 && f.scheduled == 0
}

// Active is the number of registration procedures in progress.
func (f *Fleet) Active() int { return f.active }

// Outcome returns the final code of UE i's last procedure and the CSeq of
// the request that got it (1: the initial REGISTER, 2: the answer to the
// challenge).
func (f *Fleet) Outcome(i uint32) (code int, cseq uint32) {
	return int(f.ues[i].code), f.ues[i].cseq
}

// State returns the state of UE i.
func (f *Fleet) State(i uint32) State { return f.ues[i].state }

// Handle implements sim.Handler.
func (f *Fleet) Handle(env sim.Env, ev sim.Event) {
	switch ev.Kind {
	case sim.EvTimer:
		switch ev.Timer.Kind {
		case TimerArrival:
			f.arrive(env)
		case TimerThink:
			f.answer(env, uint32(ev.Timer.Ref), ev.ID)
		case TimerF:
			f.timeout(env, uint32(ev.Timer.Ref), ev.ID)
		case TimerE:
			f.retransmit(env, uint32(ev.Timer.Ref), ev.ID)
		case TimerReregister, TimerRetry, TimerDeregister:
			f.wake(env, uint32(ev.Timer.Ref), ev.Timer.Kind, ev.ID)
		}
	case sim.EvMessage:
		if r, ok := ev.Msg.(*sipmsg.Response); ok {
			f.response(env, r)
		}
	}
}

// begin starts a procedure now: its latency counts from now, the time the
// schedule (arrival, re-registration, retry or de-registration timer)
// wanted it.
func (f *Fleet) begin(env sim.Env, i uint32, proc uint8) {
	u := &f.ues[i]
	f.active++
	if f.cfg.Collector != nil {
		f.cfg.Collector.Attempt(env.Now(), i, procKinds[proc])
	}
	u.intended = env.Now()
	u.state = Registering
	u.proc = proc
	impi := f.cfg.Population.IMPIOf(i)
	// TS 24.229 §5.1.1.2.1: the REGISTER carries an Authorization header
	// with the private identity and empty nonce and response.
	f.send(env, i, &sipmsg.Credentials{Username: impi, Realm: f.cfg.Population.Realm, URI: f.uri, Algorithm: f.algorithm()})
}

func (f *Fleet) response(env sim.Env, r *sipmsg.Response) {
	f.Stats.Responses++
	i, ok := r.Sub-1, r.Sub != 0
	if !ok {
		i, ok = parseCallID(r.CallID)
	}
	if !ok || i >= uint32(len(f.ues)) {
		f.Stats.Stray++
		return
	}
	u := &f.ues[i]
	if (u.state != Registering && u.state != Answering) || r.CSeq != u.cseq || u.req == nil || r.CallID != u.req.CallID {
		f.Stats.Stray++ // a re-sent final reply, or a reply after Timer F
		return
	}
	if !r.Final() {
		return
	}
	f.endTransaction(env, u)
	latency := env.Now() - u.intended
	// The challenge leg ends with the final response to a REGISTER without
	// credentials (or with AUTS), whatever it is.
	leg := u.state == Registering || u.state == Answering && u.resync
	o := results.Outcome{Code: r.Code, Reason: r.Reason}
	challenge := r.Code == 401 && r.Challenge != nil && leg
	if c := f.cfg.Collector; c != nil && leg {
		c.ChallengeDone(env.Now(), o, challenge, latency)
	}
	switch {
	case challenge:
		u.resync = false
		f.challenged(env, i, r)
	case r.Code >= 200 && r.Code < 300:
		u.state = Registered
		f.done(env, i, o, latency)
		f.registered(env, i, r.Expires)
	default:
		u.state = Failed
		f.done(env, i, o, latency)
		f.failed(env, i, r.RetryAfter)
	}
}

func (f *Fleet) done(env sim.Env, i uint32, o results.Outcome, latency time.Duration) {
	f.active--
	u := &f.ues[i]
	u.code = uint16(o.Code)
	if c := f.cfg.Collector; c != nil {
		c.Done(env.Now(), i, procKinds[u.proc], o, latency)
		if c.Records != nil {
			c.Records = append(c.Records, results.Record{UE: i, Intended: u.intended, End: env.Now(), Code: o.Code,
				Reason: o.Reason, CSeq: u.cseq})
		}
	}
}
