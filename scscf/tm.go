package scscf

import (
	"strconv"
	"strings"
	"time"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/sim"
)

// Continue return codes of tm t_continue_helper (t_suspend.c).
const (
	ContRouteRan     = 0
	ContSilent       = 1  // blind branch already timed out or continued
	ContNotFound     = -1 // "active transaction not found"
	ContNotSuspended = -2 // "transaction is not suspended"
)

// Reasons a callback's route did not run, as Kamailio logs them.
const (
	ReasonNotFound     = "active transaction not found"
	ReasonNotSuspended = "transaction is not suspended"
	ReasonSilent       = "blind branch already timed out (silent return 1)"
	ReasonFreed        = "t_continue: transaction not found"
)

// tmLifetimeLimit bounds WAIT postponement while a reference is held
// (tm TM_LIFETIME_LIMIT, timer.c wait_handler).
const tmLifetimeLimit = 90 * time.Second

// txn is a tm cell (KAMAILIO-MODEL.md §6.2).
type txn struct {
	label     uint64
	from      sim.NodeID
	req       *sipmsg.Request
	createdAt time.Duration
	eol       time.Duration // createdAt + max_noninv_lifetime

	uasStatus int // 0 none, else last code sent
	reply     *sipmsg.Response
	suspended bool // T_ASYNC_SUSPENDED
	blindLast int  // last_received of the latest blind branch: 0, 408 or 500

	fr        sim.TimerID
	frAt      time.Duration // 0 = no FR timer armed
	wait      sim.TimerID
	waitAt    time.Duration // 0 = not on WAIT (t_on_wait false)
	firstWait time.Duration
	refs      int // references held by callbacks in progress
	deleted   bool

	user       uint32 // index of the IMPU's record
	nextOfUser *txn   // the IMPU's next older live transaction

	impi      string
	sarType   uint32
	expires   uint32 // granted registration expiry, seconds
	returnAVP int    // maa_return_code / saa_return_code
}

// tmExpiry quantises a tm timer: armed from the integer tick at arming time
// with its timeout rounded up to ticks, so it can fire up to one tick early
// (timer_ticks.h TIMER_TICKS_HZ = 16; timer.h _set_fr_retr).
func (s *SCSCF) tmExpiry(now, timeout time.Duration) time.Duration {
	t := s.cfg.TMTick
	if t <= 0 {
		return now + timeout
	}
	return (now/t)*t + ((timeout+t-1)/t)*t
}

// liveByBranch is t_lookup_request (t_lookup.c) for a REGISTER: the
// newest live transaction of this IMPU that the request matches by RFC
// 3261 §17.2.3 (sameTransaction).
func (u *user) liveByBranch(req *sipmsg.Request) *txn {
	for t := u.txns; t != nil; t = t.nextOfUser {
		if !t.deleted && t.req.Branch == req.Branch && sameTransaction(t.req, req) {
			return t
		}
	}
	return nil
}

// sameTransaction is RFC 3261 §17.2.3 once the branches are equal: the
// top Via's sent-by matches too (the method is REGISTER on both: only
// REGISTERs reach the core). A branch without the magic cookie "z9hG4bK"
// comes from an RFC 2543 peer, whose requests match by Request-URI, From
// tag, Call-ID, CSeq and top Via instead (the To tag is absent on an
// initial REGISTER). In the simulation (no Echo) branches are unique, so
// the first comparison decides.
func sameTransaction(a, b *sipmsg.Request) bool {
	if !sipmsg.SameSentBy(a.Echo, b.Echo) {
		return false
	}
	if strings.HasPrefix(a.Branch, "z9hG4bK") {
		return true
	}
	return a.CallID == b.CallID && a.CSeq == b.CSeq && a.FromTag == b.FromTag && a.RequestURI == b.RequestURI &&
		(a.Echo == nil || topVia(a.Echo) == topVia(b.Echo) && a.Echo.To == b.Echo.To)
}

func topVia(e *sipmsg.Echo) string {
	if len(e.Via) == 0 {
		return ""
	}
	return e.Via[0]
}

// newTxn is t_newtran().
func (s *SCSCF) newTxn(env sim.Env, from sim.NodeID, req *sipmsg.Request, u *user, ui uint32) *txn {
	s.nextLabel++
	now := env.Now()
	t := &txn{label: s.nextLabel, from: from, req: req, createdAt: now, eol: now + s.cfg.MaxNonInvLifetime,
		user: ui, nextOfUser: u.txns}
	u.txns = t
	s.txns.put(t)
	s.Stats.Transactions++
	return t
}

// unlinkTxn takes a freed transaction off its IMPU's list.
func (s *SCSCF) unlinkTxn(t *txn) {
	u := s.users.at(t.user)
	for p := &u.txns; *p != nil; p = &(*p).nextOfUser {
		if *p == t {
			*p = t.nextOfUser
			break
		}
	}
	t.nextOfUser = nil
	s.users.release(t.user)
}

// suspend is t_suspend() with add_blind_uac(): only the FR timer of the
// blind branch is armed, at min(now + fr_timer, end_of_life) (t_suspend.c,
// t_fwd.c add_blind_uac, t_lookup.c end_of_life). A second suspend of the
// same transaction adds another blind branch; the transaction completes
// when its latest branch does, so the FR timer moves to the new branch.
func (s *SCSCF) suspend(env sim.Env, t *txn) bool {
	if t.uasStatus >= 200 {
		s.logf(env, t, "ERROR", "tm [t_suspend.c]", "t_suspend(): final reply already sent, cannot suspend (-3)")
		return false
	}
	if !t.suspended {
		s.suspended++
	}
	t.suspended = true
	t.blindLast = 0
	s.stopFR(env, t)
	at := min(s.tmExpiry(env.Now(), s.cfg.FRTimer), t.eol)
	t.frAt = at
	t.fr = env.SetTimer(at-env.Now(), sim.TimerKey{Kind: TimerFR, Ref: t.label})
	s.gauges(env)
	return true
}

// reply is t_reply()/_reply_light() for a final response: refused when a
// final reply was already sent; otherwise sent, the blind FR timer stopped
// (cleanup_uac_timers) and the WAIT timer armed (put_on_wait).
func (s *SCSCF) reply(env sim.Env, t *txn, r *sipmsg.Response) bool {
	if t.uasStatus >= 200 {
		s.Stats.RefusedReplies++
		if s.cfg.Log != nil { // the text is built only when logging
			s.logf(env, t, "INFO", "tm [t_reply.c]", "_reply_light(): can't generate "+strconv.Itoa(r.Code)+
				" reply when a final "+strconv.Itoa(t.uasStatus)+" was sent out")
		}
		return false
	}
	r.CallID, r.Branch, r.FromTag, r.CSeq, r.To = t.req.CallID, t.req.Branch, t.req.FromTag, t.req.CSeq, t.req.AOR
	r.Echo = t.req.Echo // RFC 3261 §8.2.6.2: Via, From, To, Call-ID, CSeq as received (live only)
	r.ToTag = toTag(t.label)
	r.Sub = t.req.Sub
	if t.suspended && t.frAt != 0 && env.Now() > t.frAt {
		s.Stats.LateFinals++ // impossible by construction; checked by Invariants
	}
	env.Send(t.from, r)
	s.Stats.Replies++
	t.uasStatus = r.Code
	t.reply = r
	s.stopFR(env, t)
	s.putOnWait(env, t)
	return true
}

func (s *SCSCF) stopFR(env sim.Env, t *txn) {
	if t.frAt != 0 {
		env.CancelTimer(t.fr)
		t.frAt = 0
	}
}

func (s *SCSCF) putOnWait(env sim.Env, t *txn) {
	if t.waitAt == 0 {
		t.waitAt = s.tmExpiry(env.Now(), s.cfg.WTTimer)
		t.firstWait = env.Now()
		t.wait = env.SetTimer(t.waitAt-env.Now(), sim.TimerKey{Kind: TimerWait, Ref: t.label})
		s.onWait++
		s.gauges(env)
	}
}

// frFired is final_response_handler (timer.c) for the blind branch: a faked
// 408 is relayed upstream (no failure_route is armed for REGISTER in the
// modelled config) and the transaction goes on WAIT. T_ASYNC_SUSPENDED stays
// set.
func (s *SCSCF) frFired(env sim.Env, t *txn) {
	t.frAt = 0
	t.blindLast = 408
	s.Stats.FRTimeouts++
	if s.cfg.FailureRoute && t.suspended {
		// The failure_route runs on the faked 408 and clears
		// T_ASYNC_SUSPENDED (t_reply.c); the modelled route does not reply,
		// so tm relays the 408.
		t.suspended = false
		s.suspended--
		s.gauges(env)
		s.logf(env, t, "ALERT", "<script>", "FAILURE_ROUTE_EXECUTED 408")
	}
	s.reply(env, t, &sipmsg.Response{Code: 408, Reason: "Request Timeout", Expires: -1})
}

// waitFired is wait_handler (timer.c): the cell leaves the hash table,
// unless a callback still holds a reference, which postpones removal by
// whole WAIT periods up to TM_LIFETIME_LIMIT.
func (s *SCSCF) waitFired(env sim.Env, t *txn) {
	if t.refs > 0 && env.Now()-t.firstWait < tmLifetimeLimit {
		s.Stats.WaitPostponed++
		t.waitAt = env.Now() + s.cfg.WTTimer
		t.wait = env.SetTimer(s.cfg.WTTimer, sim.TimerKey{Kind: TimerWait, Ref: t.label})
		return
	}
	t.deleted = true
	t.waitAt = 0
	s.onWait--
	if t.suspended {
		t.suspended = false
		s.suspended--
		s.Stats.FreedSuspended++
	}
	s.txns.del(t.label)
	s.unlinkTxn(t)
	s.gauges(env)
}

// lookup is t_lookup_ident_filter (t_lookup.c): a transaction on its WAIT
// timer is "not found" when filtering.
func (s *SCSCF) lookup(label uint64, filter Strategy) *txn {
	t, _ := s.txns.get(label)
	if t == nil || t.deleted {
		return nil
	}
	if filter == Filter && t.waitAt != 0 {
		return nil
	}
	return t
}

// cont is t_continue_helper (t_suspend.c) for a request-route suspension.
// route runs as a FAILURE_ROUTE; it returns the helper's return code and,
// when the route did not run, the reason.
func (s *SCSCF) cont(env sim.Env, label uint64, filter Strategy, route func(env sim.Env, t *txn)) (int, string) {
	t := s.lookup(label, filter)
	if t == nil {
		var ctx *txn
		if c, _ := s.txns.get(label); c != nil {
			ctx = c
		}
		if s.cfg.Log != nil { // the text is built only when logging
			s.logf(env, ctx, s.cfg.LogLevelWarn, "tm ["+s.cfg.LogLine+"]", "t_continue_helper(): active transaction not found")
		}
		return ContNotFound, ReasonNotFound
	}
	if !t.suspended {
		if s.cfg.Log != nil { // the text is built only when logging
			s.logf(env, t, "WARNING", "tm [t_suspend.c]", "t_continue_helper(): transaction is not suspended [0:"+
				strconv.FormatUint(t.label, 10)+"]")
		}
		return ContNotSuspended, ReasonNotSuspended
	}
	t.suspended = false
	s.suspended--
	s.gauges(env)
	s.stopFR(env, t)
	if t.blindLast != 0 {
		return ContSilent, ReasonSilent
	}
	t.blindLast = 500
	route(env, t)
	if t.uasStatus < 200 {
		// kill_trans: nobody replied.
		s.reply(env, t, &sipmsg.Response{Code: 500, Reason: "I'm terribly sorry, server error occurred (1/TM)", Expires: -1})
	}
	return ContRouteRan, ""
}

func toTag(label uint64) string {
	var buf [24]byte
	return string(strconv.AppendUint(append(buf[:0], "tm"...), label, 16))
}
