package ue

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/regstorm/regstorm/internal/aka"
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

// StartKey is the timer the runtime arms at time 0 to start the arrivals.
var StartKey = sim.TimerKey{Kind: TimerArrival}

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

// First returns the time of the first arrival; the runtime arms StartKey
// at it (sim.Runtime.ArmTimer) to bootstrap the fleet.
func (f *Fleet) First() (time.Duration, bool) {
	if len(f.ues) == 0 {
		return 0, false
	}
	return f.cfg.Arrivals.Next()
}

// arrive starts the next UE at its intended time (now) and arms the
// following arrival; in a closed loop it starts the first Concurrency UEs.
func (f *Fleet) arrive(env sim.Env) {
	if f.cfg.Steady {
		for i := range f.ues {
			u := &f.ues[i]
			u.callTag = env.Rand().Uint32()
			u.cseq = 2
			u.state = Registered
			u.proc = procRegister
			f.schedule(env, uint32(i), TimerReregister, time.Duration(env.Rand().Int64N(int64(f.cfg.SteadyInterval))))
		}
		f.next = uint32(len(f.ues))
		return
	}
	if f.cfg.Concurrency > 0 {
		for n := 0; n < f.cfg.Concurrency && f.next < uint32(len(f.ues)); n++ {
			f.start(env, f.next)
			f.next++
		}
		return
	}
	if f.next >= uint32(len(f.ues)) {
		return
	}
	f.start(env, f.next)
	f.next++
	if f.next >= uint32(len(f.ues)) {
		return
	}
	if at, ok := f.cfg.Arrivals.Next(); ok {
		env.SetTimer(at-env.Now(), StartKey)
	}
}

func (f *Fleet) start(env sim.Env, i uint32) {
	u := &f.ues[i]
	u.callTag = env.Rand().Uint32()
	f.Stats.Started++
	f.begin(env, i, procRegister)
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

func (f *Fleet) algorithm() string {
	if f.cfg.Algorithm == "AKAv1-MD5" {
		return "" // the S-CSCF's default (registration_default_algorithm)
	}
	return f.cfg.Algorithm
}

// schedule arms the UE's next procedure after d.
func (f *Fleet) schedule(env sim.Env, i uint32, kind uint32, d time.Duration) {
	u := &f.ues[i]
	if !u.scheduled {
		u.scheduled = true
		f.scheduled++
	}
	u.timer = env.SetTimer(d, sim.TimerKey{Kind: kind, Ref: uint64(i)})
}

// wake runs a scheduled re-registration, retry or de-registration.
func (f *Fleet) wake(env sim.Env, i uint32, kind uint32, id sim.TimerID) {
	u := &f.ues[i]
	if u.timer != id || !u.scheduled {
		return
	}
	u.scheduled = false
	f.scheduled--
	u.timer = 0
	switch kind {
	case TimerReregister:
		f.Stats.Reregistrations++
		f.begin(env, i, procReregister)
	case TimerRetry:
		f.Stats.Retries++
		f.begin(env, i, u.proc)
	case TimerDeregister:
		f.Stats.Deregistrations++
		f.begin(env, i, procDeregister)
	}
}

func (f *Fleet) send(env sim.Env, i uint32, cr *sipmsg.Credentials) { f.sendAfter(env, i, nil, cr) }

// sendAfter sends a REGISTER following the response prev (nil for none).
// When a simulated S-CSCF sent prev (it carries Sub), its To and Call-ID
// are the very strings the UE sent before (its AOR and its Call-ID, which
// stay the same): the UE reuses them, so no new string is made and the
// S-CSCF's comparison with its record is a pointer check. Live responses
// are not adopted.
func (f *Fleet) sendAfter(env sim.Env, i uint32, prev *sipmsg.Response, cr *sipmsg.Credentials) {
	var aor, callID string
	if prev != nil && prev.Sub != 0 {
		aor, callID = prev.To, prev.CallID
	} else {
		aor, callID = f.cfg.Population.IMPUOf(i), f.callID(i)
	}
	u := &f.ues[i]
	u.cseq++
	r := env.Rand()
	// Each string is built in its own statement: conversions inside one
	// composite literal may be evaluated after every append to a shared
	// buffer has run.
	var buf [48]byte
	branch := string(strconv.AppendUint(append(buf[:0], "z9hG4bK"...), r.Uint64(), 36))
	fromTag := strconv.FormatUint(uint64(r.Uint32()), 36)
	contact := string(append(strconv.AppendUint(append(buf[:0], "sip:ue"...), uint64(i), 10), "@127.0.0.1"...))
	req := &sipmsg.Request{
		CallID:     callID,
		Branch:     branch,
		FromTag:    fromTag,
		CSeq:       u.cseq,
		RequestURI: f.uri,
		AOR:        aor,
		Contact:    contact,
		Expires:    int64(f.cfg.Expires),
		Auth:       cr,
		Sub:        i + 1,
	}
	if u.proc == procDeregister {
		req.Expires = 0
	}
	env.Send(f.cfg.SCSCF, req)
	u.req = req
	u.retx = 0
	f.armTransaction(env, u, i)
}

// eInterval is Timer E after n retransmissions: min(2^n·T1, T2) (RFC 3261
// §17.1.2.2).
func (f *Fleet) eInterval(n uint8) time.Duration {
	return sipmsg.TimerE(f.cfg.T1, f.cfg.T2, int(n))
}

// armTransaction arms the client transaction's one timer: over UDP Timer
// E's next retransmission, or Timer F when it comes first (Timer F wins a
// tie, as it was armed first); over TCP Timer F alone (RFC 3261
// §17.1.2.2). The time since the request was first sent follows from the
// retransmission count, so Timer F needs no timer of its own while E runs.
func (f *Fleet) armTransaction(env sim.Env, u *ue, i uint32) {
	var elapsed time.Duration
	for n := uint8(0); n < u.retx; n++ {
		elapsed += f.eInterval(n)
	}
	if f.cfg.UDP {
		if next := f.eInterval(u.retx); elapsed+next < f.cfg.TimerF {
			u.timer = env.SetTimer(next, sim.TimerKey{Kind: TimerE, Ref: uint64(i)})
			return
		}
	}
	u.timer = env.SetTimer(f.cfg.TimerF-elapsed, sim.TimerKey{Kind: TimerF, Ref: uint64(i)})
}

// retransmit is Timer E: send the same request again (same branch).
func (f *Fleet) retransmit(env sim.Env, i uint32, id sim.TimerID) {
	u := &f.ues[i]
	if u.timer != id || (u.state != Registering && u.state != Answering) {
		return
	}
	f.Stats.Retransmits++
	u.retx++
	env.Send(f.cfg.SCSCF, u.req)
	f.armTransaction(env, u, i)
}

// endTransaction stops the client transaction's timer.
func (f *Fleet) endTransaction(env sim.Env, u *ue) {
	env.CancelTimer(u.timer)
	u.timer, u.req = 0, nil
}

// callID is "<index>-<tag>@regstorm": the UE keeps one Call-ID for all its
// registrations (RFC 3261 §10.2), and the index lets the fleet route a
// response to its UE without a lookup table.
func (f *Fleet) callID(i uint32) string {
	var buf [40]byte
	b := append(strconv.AppendUint(buf[:0], uint64(i), 10), '-')
	return string(append(strconv.AppendUint(b, uint64(f.ues[i].callTag), 16), "@regstorm"...))
}

func parseCallID(id string) (uint32, bool) {
	dash := strings.IndexByte(id, '-')
	if dash <= 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(id[:dash], 10, 32)
	return uint32(n), err == nil
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

// timeout is Timer F: the transaction failed; RFC 3261 §8.1.3.1 treats it
// as a 408.
func (f *Fleet) timeout(env sim.Env, i uint32, id sim.TimerID) {
	u := &f.ues[i]
	if u.timer != id || (u.state != Registering && u.state != Answering) {
		return
	}
	f.Stats.TimerFExpiry++
	f.endTransaction(env, u)
	o := results.Outcome{Code: 408, TimerF: true, Reason: "Timer F expired at the UE"}
	if c := f.cfg.Collector; c != nil && (u.state == Registering || u.resync) {
		c.ChallengeDone(env.Now(), o, false, env.Now()-u.intended)
	}
	u.state = Failed
	f.done(env, i, o, env.Now()-u.intended)
	f.failed(env, i, 0)
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

// registered follows a 2xx: a de-registration ends the UE's life;
// otherwise the refresh (or the configured de-registration) is scheduled.
func (f *Fleet) registered(env sim.Env, i uint32, granted int64) {
	u := &f.ues[i]
	u.failures = 0
	if u.proc == procDeregister {
		u.state = Deregistered
		f.closedLoopNext(env)
		return
	}
	next := time.Duration(-1)
	if f.cfg.Reregister && granted > 0 {
		next = reregisterAfter(granted)
	}
	if f.cfg.DeregisterAt > 0 {
		at := f.cfg.DeregisterAt
		if f.cfg.DeregisterSpread > 0 {
			at += time.Duration(env.Rand().Int64N(int64(f.cfg.DeregisterSpread)))
		}
		if at-env.Now() >= 0 && (next < 0 || at-env.Now() <= next) {
			f.schedule(env, i, TimerDeregister, at-env.Now())
			f.closedLoopNext(env)
			return
		}
	}
	if next >= 0 {
		f.schedule(env, i, TimerReregister, next)
	}
	f.closedLoopNext(env)
}

// failed schedules a retry with the RFC 5626 §4.5 backoff, or a 503/500's
// Retry-After when it has one.
func (f *Fleet) failed(env sim.Env, i uint32, retryAfter int32) {
	u := &f.ues[i]
	defer f.closedLoopNext(env)
	if !f.cfg.Retry {
		return
	}
	if u.failures < 255 {
		u.failures++
	}
	if f.cfg.RetryAttempts > 0 && int(u.failures) >= f.cfg.RetryAttempts {
		f.Stats.GaveUp++
		return
	}
	var wait time.Duration
	if retryAfter > 0 {
		wait = time.Duration(retryAfter) * time.Second
	} else {
		w := f.cfg.RetryBase << min(u.failures, 30)
		if w <= 0 || w > f.cfg.RetryMax {
			w = f.cfg.RetryMax
		}
		wait = w/2 + time.Duration(env.Rand().Int64N(int64(w/2)+1))
	}
	if f.cfg.Collector != nil {
		f.cfg.Collector.Retry(u.code)
	}
	f.schedule(env, i, TimerRetry, wait)
}

// closedLoopNext starts the next UE when a procedure ends in a closed loop.
func (f *Fleet) closedLoopNext(env sim.Env) {
	if f.cfg.Concurrency > 0 && f.next < uint32(len(f.ues)) {
		f.start(env, f.next)
		f.next++
	}
}

// ReregisterInterval is when a UE refreshes a registration granted for
// expires seconds (TS 24.229 §5.1.1.4.1: 600 s before expiry when the
// expiry exceeds 1200 s, otherwise at half of it).
func ReregisterInterval(expires int32) time.Duration { return reregisterAfter(int64(expires)) }

// reregisterAfter is ReregisterInterval for any granted delta-seconds (at
// most 2^32-1, RFC 3261 §20.19: no overflow of time.Duration).
func reregisterAfter(expires int64) time.Duration {
	e := time.Duration(expires) * time.Second
	if e > 1200*time.Second {
		return e - 600*time.Second
	}
	return e / 2
}

// respond is the request-digest of an answering REGISTER (RFC 2617
// §3.2.2.1; RFC 3310 §3.4 for AKA, where the password is RES).
func respond(impi, realm string, password []byte, p *aka.DigestParams) string {
	ha1 := aka.HA1Hex(impi, realm, password)
	h := aka.ResponseHex(ha1[:], p)
	return h.String()
}
