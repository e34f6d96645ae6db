package scscf_test

import (
	"encoding/base64"
	"strconv"
	"testing"
	"time"

	"github.com/regstorm/regstorm/scscf"
)

func itoa(n uint32) string               { return strconv.FormatUint(uint64(n), 10) }
func decodeB64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
func strategy(filter bool) scscf.Strategy {
	return map[bool]scscf.Strategy{true: scscf.Filter, false: scscf.NoFilter}[filter]
}
func withMAR(st scscf.Strategy) func(*scscf.Config) {
	return func(c *scscf.Config) { c.MARResume = st }
}

const s = time.Second
const ms = time.Millisecond

// KAMAILIO-MODEL.md §6.6, row 1 and worked example 1: MAA success at 50 ms.
func TestOutcome_MAASuccessBeforeFRAndTimeout(t *testing.T) {
	for _, filter := range []bool{true, false} {
		t.Run(strategy(filter).String(), func(t *testing.T) {
			h := newHarness(t, withMAR(strategy(filter)), 50*ms)
			h.register(0, 1)
			h.run()
			g := h.only()
			h.expectReply(g, 401, "Unauthorized - Challenging the UE", 50*ms)
			if g.resp.Challenge == nil || g.resp.Challenge.Algorithm != "AKAv1-MD5" {
				t.Fatalf("401 without an AKA challenge: %+v", g.resp.Challenge)
			}
			if filter {
				h.expectMAR(1, 0, scscf.ReasonNotFound)
				h.expectLog(50*ms, "t_continue_helper(): active transaction not found")
				h.expectNoLog("MAR_REPLY_ROUTE_EXECUTED")
			} else {
				h.expectMAR(1, 1, "")
				h.expectLog(50*ms, "MAR_REPLY_ROUTE_EXECUTED 1")
			}
			// WAIT armed from the 50 ms reply on the 62.5 ms tick: 0 + 5 s.
			h.expectFreed(5 * s)
		})
	}
}

// §6.6 row 2 and worked example 4: Experimental-Result 5001 (user unknown).
func TestOutcome_MAAErrorUserUnknown(t *testing.T) {
	for _, filter := range []bool{true, false} {
		t.Run(strategy(filter).String(), func(t *testing.T) {
			h := newHarness(t, withMAR(strategy(filter)), 200*ms)
			h.register(0, 5000) // outside the population of 100
			h.run()
			h.expectReply(h.only(), 403, "Forbidden - HSS User Unknown", 200*ms)
			if filter {
				h.expectMAR(1, 0, scscf.ReasonNotFound)
			} else {
				h.expectMAR(1, 1, "")
				h.expectLog(200*ms, "MAR_REPLY_ROUTE_EXECUTED -1")
			}
			h.expectFreed(5*s + 187500*time.Microsecond) // 200 ms lies in tick 3 (187.5 ms)
		})
	}
}

// §6.6 rows 3-4 and worked example 2: the HSS answers after the cdp timeout.
// The timeout fires at floor(send)+T+1 s + phase = 6 s; the route runs with
// maa_return_code -2 under both strategies and sends 500 "MAR failed"; the
// late answer is dropped silently.
func TestOutcome_CDPTimeoutThenLateAnswer(t *testing.T) {
	for _, filter := range []bool{true, false} {
		t.Run(strategy(filter).String(), func(t *testing.T) {
			h := newHarness(t, withMAR(strategy(filter)), 8*s)
			h.register(0, 1)
			h.run()
			h.expectReply(h.only(), 500, "MAR failed", 6*s)
			h.expectMAR(1, 1, "")
			h.expectLog(6*s, "Transaction timeout - did not get MAA")
			h.expectLog(6*s, "MAR_REPLY_ROUTE_EXECUTED -2")
			if h.s.Stats.LateAnswers != 1 {
				t.Errorf("late answers %d, want 1 (dropped silently)", h.s.Stats.LateAnswers)
			}
			h.expectFreed(11 * s)
		})
	}
}

// The cdp phase and the send second move the timeout within (T, T+2] s.
func TestOutcome_CDPTimeoutPhase(t *testing.T) {
	h := newHarness(t, func(c *scscf.Config) { c.CDPPhase = 400 * ms }, 30*s)
	h.register(700*ms, 1)
	h.run()
	// sent at 0.7 s: expires = 0 + 5; first scan with time(0) > 5 is at 6.4 s.
	h.expectReply(h.only(), 500, "MAR failed", 6400*ms)
}

// §6.6 row 5 and worked example 3: the Diameter peer is down when the MAR
// is sent: no callback ever; 408 at fr_timer (30 s), freed 5 s later.
func TestOutcome_PeerDownAtSend(t *testing.T) {
	for _, filter := range []bool{true, false} {
		t.Run(strategy(filter).String(), func(t *testing.T) {
			h := newHarness(t, withMAR(strategy(filter)), 50*ms)
			h.s.PeerDown = true
			h.register(0, 1)
			h.run()
			h.expectReply(h.only(), 408, "Request Timeout", 30*s)
			h.expectMAR(0, 0, "")
			h.expectFreed(35 * s)
		})
	}
}

// Worked example 3 with the sample configuration's fr_timer of 10 s.
func TestOutcome_PeerDownSampleFRTimer(t *testing.T) {
	h := newHarness(t, func(c *scscf.Config) { c.FRTimer = 10 * s }, 50*ms)
	h.s.PeerDown = true
	h.register(0, 1)
	h.run()
	h.expectReply(h.only(), 408, "Request Timeout", 10*s)
	h.expectFreed(15 * s)
}

// §6.6 row 6 and worked example 5: fr_timer 3 s, MAA at 4 s. 408 at 3 s; the
// 401 is refused at 4 s; FILTER: "active transaction not found", NOFILTER:
// silent return 1. Freed at 8 s.
func TestOutcome_AnswerAfterFRWithinWait(t *testing.T) {
	for _, filter := range []bool{true, false} {
		t.Run(strategy(filter).String(), func(t *testing.T) {
			h := newHarness(t, func(c *scscf.Config) { c.FRTimer = 3 * s; c.MARResume = strategy(filter) }, 4*s)
			h.register(0, 1)
			h.run()
			h.expectReply(h.only(), 408, "Request Timeout", 3*s)
			h.expectLog(4*s, "can't generate 401 reply when a final 408 was sent out")
			if filter {
				h.expectMAR(1, 0, scscf.ReasonNotFound)
				h.expectLog(4*s, "active transaction not found")
			} else {
				h.expectMAR(1, 0, scscf.ReasonSilent)
				h.expectNoLog("active transaction not found")
			}
			h.expectFreed(8 * s)
		})
	}
}

// §6.6 row 7: the answer comes after the transaction was freed (fr 1 s,
// wt 1 s, MAA at 3 s < cdp timeout 6 s): ERR "t_continue: transaction not
// found" and no continue.
func TestOutcome_AnswerAfterWait(t *testing.T) {
	for _, filter := range []bool{true, false} {
		t.Run(strategy(filter).String(), func(t *testing.T) {
			h := newHarness(t, func(c *scscf.Config) { c.FRTimer = s; c.WTTimer = s; c.MARResume = strategy(filter) }, 3*s)
			h.register(0, 1)
			h.run()
			h.expectReply(h.only(), 408, "Request Timeout", s)
			h.expectMAR(1, 0, scscf.ReasonFreed)
			h.expectLog(3*s, "async_cdp_callback(): t_continue: transaction not found")
			h.expectNoLog("t_continue_helper()")
			h.expectFreed(2 * s)
		})
	}
}

// §6.6 row 8: the cdp timeout comes after FR (fr 3 s, HSS silent): 408 at
// 3 s; the timeout callback at 6 s finds the transaction on WAIT.
func TestOutcome_TimeoutAfterFR(t *testing.T) {
	for _, filter := range []bool{true, false} {
		t.Run(strategy(filter).String(), func(t *testing.T) {
			h := newHarness(t, func(c *scscf.Config) { c.FRTimer = 3 * s; c.MARResume = strategy(filter) }, 60*s)
			h.register(0, 1)
			h.run()
			h.expectReply(h.only(), 408, "Request Timeout", 3*s)
			if filter {
				h.expectMAR(1, 0, scscf.ReasonNotFound)
			} else {
				h.expectMAR(1, 0, scscf.ReasonSilent)
			}
			h.expectLog(6*s, "Transaction timeout - did not get MAA")
			h.expectFreed(8 * s)
		})
	}
}

// §9, observed on Kamailio 5.6.3: MAA delayed 40 s with TransactionTimeout
// 10 s: the route runs with -2 and 500 "MAR failed" at 10-11 s.
func TestObserved_MAA40sTimeout10s(t *testing.T) {
	h := newHarness(t, func(c *scscf.Config) { c.CDPTimeout = 10 * s }, 40*s)
	h.register(0, 1)
	h.run()
	g := h.only()
	if g.resp.Code != 500 || g.resp.Reason != "MAR failed" || g.at < 10*s || g.at > 11*s {
		t.Fatalf("got %d %q at %v, want 500 MAR failed within 10-11 s", g.resp.Code, g.resp.Reason, g.at)
	}
	h.expectMAR(1, 1, "")
	h.expectLog(g.at, "MAR_REPLY_ROUTE_EXECUTED -2")
}

// §9: with TransactionTimeout 60 s the FR timer (30 s) answers 408 and the
// late MAA at 40 s finds no transaction.
func TestObserved_MAA40sTimeout60s(t *testing.T) {
	h := newHarness(t, func(c *scscf.Config) { c.CDPTimeout = 60 * s }, 40*s)
	h.register(0, 1)
	h.run()
	h.expectReply(h.only(), 408, "Request Timeout", 30*s)
	h.expectMAR(1, 0, scscf.ReasonFreed)
	h.expectLog(40*s, "t_continue: transaction not found")
}

// The blind UAC's FR timer is capped at t_created + max_noninv_lifetime
// (t_lookup.c end_of_life): with fr_timer 40 s the 408 still comes at 32 s.
func TestFRCappedByMaxNonInvLifetime(t *testing.T) {
	h := newHarness(t, func(c *scscf.Config) { c.FRTimer = 40 * s }, 50*ms)
	h.s.PeerDown = true
	h.register(0, 1)
	h.run()
	h.expectReply(h.only(), 408, "Request Timeout", 32*s)
}

// The tm tick: a timer armed mid-tick fires up to one tick early.
func TestFRTickQuantisation(t *testing.T) {
	h := newHarness(t, nil, 50*ms)
	h.s.PeerDown = true
	h.register(100*ms, 1) // tick 1 starts at 62.5 ms
	h.run()
	h.expectReply(h.only(), 408, "Request Timeout", 30*s+62500*time.Microsecond)
}

// KAMAILIO-MODEL.md §2 table, row 4: the FR timer fired and a failure_route
// ran (clearing T_ASYNC_SUSPENDED); a late MAA within WAIT then gets
// "active transaction not found" (t_continue) or "transaction is not
// suspended" -2 (t_continue_skip_timer).
func TestOutcome_FailureRouteThenLateAnswer(t *testing.T) {
	for _, filter := range []bool{true, false} {
		t.Run(strategy(filter).String(), func(t *testing.T) {
			h := newHarness(t, func(c *scscf.Config) { c.FRTimer = 3 * s; c.FailureRoute = true; c.MARResume = strategy(filter) }, 4*s)
			h.register(0, 1)
			h.run()
			h.expectReply(h.only(), 408, "Request Timeout", 3*s)
			h.expectLog(3*s, "FAILURE_ROUTE_EXECUTED 408")
			if filter {
				h.expectMAR(1, 0, scscf.ReasonNotFound)
			} else {
				h.expectMAR(1, 0, scscf.ReasonNotSuspended)
				h.expectLog(4*s, "transaction is not suspended")
			}
			h.expectFreed(8 * s)
		})
	}
}
