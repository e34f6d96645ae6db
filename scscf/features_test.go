package scscf_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/regstorm/regstorm/internal/aka"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/scscf"
	"github.com/regstorm/regstorm/sim"
)

// §9 (observed on 5.6.3): cxdx_mar.c sends the 401 before add_auth_vector,
// so a UE answering faster than that finds no vector and gets 403.
func TestAVStoreRace(t *testing.T) {
	for _, c := range []struct {
		name  string
		after time.Duration
		code  int
	}{{"UE faster than the store", 500 * time.Microsecond, 403}, {"UE slower", 2 * time.Millisecond, 200}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(cfg *scscf.Config) { cfg.AVStoreDelay = time.Millisecond }, 20*time.Millisecond)
			challengeAndAnswer(t, h, 3, 20*time.Millisecond+c.after, false)
			if got := h.ue.got[1].resp.Code; got != c.code {
				t.Fatalf("answer %v after the 401: got %d, want %d", c.after, got, c.code)
			}
			if c.code == 403 && h.s.Stats.AVRaces != 1 {
				t.Errorf("AV races %d, want 1", h.s.Stats.AVRaces)
			}
		})
	}
}

// av_request_at_once > 1: the extra vectors are stored UNUSED and the next
// challenge is answered from them at once, without a MAR (§5.1 step 2).
func TestUnusedVectorsChallengeWithoutMAR(t *testing.T) {
	h := newHarness(t, func(c *scscf.Config) { c.AVRequestAtOnce = 3 }, 20*time.Millisecond)
	challengeAndAnswer(t, h, 3, time.Second, false)
	h.register(10*time.Second, 3)
	h.rt.Run(11 * time.Second)
	last := h.ue.got[len(h.ue.got)-1]
	h.expectReply(last, 401, "Unauthorized - Challenging the UE", 10*time.Second)
	if h.h.Stats.MAR != 1 || h.s.Stats.DirectChallenge != 1 || h.h.Stats.Vectors != 3 {
		t.Fatalf("MARs at the HSS %d, direct challenges %d, vectors %d", h.h.Stats.MAR, h.s.Stats.DirectChallenge, h.h.Stats.Vectors)
	}
	if last.resp.Challenge.Nonce == h.ue.got[0].resp.Challenge.Nonce {
		t.Fatal("the cached challenge reused the first nonce")
	}
}

// max_nonce_reuse > 0: a USED vector authenticates again with nc+1,
// without a new challenge (§5.3).
func TestNonceReuse(t *testing.T) {
	h := newHarness(t, func(c *scscf.Config) { c.MaxNonceReuse = 20 }, 20*time.Millisecond)
	challengeAndAnswer(t, h, 3, time.Second, false)
	req := h.answerChallenge(3, h.ue.got[0].resp.Challenge, false)
	p := aka.DigestParams{Username: req.Auth.Username, Realm: req.Auth.Realm, Nonce: req.Auth.Nonce, Method: "REGISTER",
		URI: req.Auth.URI, QOP: "auth", NC: "00000002", CNonce: "x2"}
	keys := aka.DeriveKeys(h.pop.KeySeed, 3)
	nonce, _ := base64.StdEncoding.DecodeString(req.Auth.Nonce)
	r, _ := aka.Verify(&keys, nonce)
	req.Auth.NC, req.Auth.CNonce, req.Auth.Response = p.NC, p.CNonce, aka.AKAv1Response(r.RES[:], &p)
	h.rt.Deliver(20*time.Second, h.nUE, h.nS, req)
	h.rt.Run(25 * time.Second)
	last := h.ue.got[len(h.ue.got)-1]
	h.expectReply(last, 200, "OK", 20*time.Second+10*time.Millisecond)
	if h.h.Stats.MAR != 1 {
		t.Errorf("MARs %d, want 1", h.h.Stats.MAR)
	}
}

// TS 33.102 §6.3.5 through the S-CSCF (Kamailio sample REG_RESYNC_REPLY):
// the UE's AUTS goes to the HSS in a MAR; the resync callback runs the
// route under both strategies (the module did not reply), which
// challenges from the fresh vectors; the UE then registers.
func TestResyncRoundTrip(t *testing.T) {
	for _, st := range []scscf.Strategy{scscf.Filter, scscf.NoFilter} {
		t.Run(st.String(), func(t *testing.T) {
			h := newHarness(t, withMAR(st), 20*time.Millisecond)
			h.register(0, 3)
			h.rt.Run(time.Second)
			ch := h.ue.got[0].resp.Challenge
			keys := aka.DeriveKeys(h.pop.KeySeed, 3)
			nonce, _ := base64.StdEncoding.DecodeString(ch.Nonce)
			sqnMS := uint64(1000) << 5 // the USIM is ahead of the HSS
			auts, err := aka.GenerateAUTS(&keys, nonce[:16], sqnMS)
			if err != nil {
				t.Fatal(err)
			}
			req := h.answerChallenge(3, ch, false)
			req.Auth.Response = ""
			req.Auth.AUTS = base64.StdEncoding.EncodeToString(auts[:])
			h.rt.Deliver(time.Second, h.nUE, h.nS, req)
			h.rt.Run(2 * time.Second)
			last := h.ue.got[len(h.ue.got)-1]
			h.expectReply(last, 401, "Unauthorized - Challenging the UE", time.Second+20*time.Millisecond)
			fresh, _ := base64.StdEncoding.DecodeString(last.resp.Challenge.Nonce)
			r, err := aka.Verify(&keys, fresh)
			if err != nil || r.SQN <= sqnMS {
				t.Fatalf("vector after resync: SQN %x (USIM at %x), err %v", r.SQN, sqnMS, err)
			}
			c := h.col.Callbacks[results.CallbackResync]
			if c.Invoked != 1 || c.RouteExecuted != 1 {
				t.Errorf("resync callback %+v: the route runs under both strategies", c)
			}
			ok := h.answerChallenge(3, last.resp.Challenge, false)
			h.rt.Deliver(3*time.Second, h.nUE, h.nS, ok)
			h.rt.Run(4 * time.Second)
			h.expectReply(h.ue.got[len(h.ue.got)-1], 200, "OK", 3*time.Second+10*time.Millisecond)
		})
	}
}

// §6.3/§9 without t_check_trans(): each UDP retransmission of the
// suspended REGISTER re-runs the challenge: another blind UAC and another
// MAR. The first MAA's 401 wins; later MAAs hit "can't generate 401 reply
// when a final 401 was sent out" and then "active transaction not found"
// (t_continue) or "transaction is not suspended" (t_continue_skip_timer).
func TestRetransmissionsRechallenge(t *testing.T) {
	for _, st := range []scscf.Strategy{scscf.Filter, scscf.NoFilter} {
		t.Run(st.String(), func(t *testing.T) {
			h := newHarness(t, func(c *scscf.Config) { c.RechallengeOnRetx = true; c.MARResume = st }, 2*time.Second)
			req := h.register(0, 3)
			h.rt.Deliver(500*time.Millisecond, h.nUE, h.nS, req)
			h.rt.Deliver(1500*time.Millisecond, h.nUE, h.nS, req)
			h.rt.Run(0)
			if h.h.Stats.MAR != 3 {
				t.Fatalf("MARs %d, want 3", h.h.Stats.MAR)
			}
			h.expectReply(h.ue.got[0], 401, "", 2*time.Second)
			h.expectLog(2500*time.Millisecond, "can't generate 401 reply when a final 401 was sent out")
			h.expectLog(3500*time.Millisecond, "can't generate 401 reply when a final 401 was sent out")
			c := h.col.Callbacks[results.CallbackMAR]
			if st == scscf.Filter {
				h.expectMAR(3, 0, scscf.ReasonNotFound)
			} else if c.RouteExecuted != 1 || c.NotExecuted[scscf.ReasonNotSuspended] != 2 {
				t.Errorf("MAR callbacks %+v, want 1 route run and 2 x not suspended", c)
			}
		})
	}
}

// tm wait_handler: a reference held by a callback in progress postpones the
// removal of a transaction on WAIT. fr 1 s: 408 at 1 s, WAIT due at 6 s;
// the MAA is taken by a cdp worker at 0.5 s and processed for 7 s, so at
// 6 s the removal is postponed to 11 s; the late 401 is refused at 7.5 s.
func TestWaitPostponedByReference(t *testing.T) {
	for _, st := range []scscf.Strategy{scscf.Filter, scscf.NoFilter} {
		t.Run(st.String(), func(t *testing.T) {
			h := newHarness(t, func(c *scscf.Config) {
				c.FRTimer = time.Second
				c.CDPService = sim.Constant{D: 7 * time.Second}
				c.MARResume = st
			}, 500*time.Millisecond)
			h.register(0, 3)
			h.run()
			h.expectReply(h.only(), 408, "Request Timeout", time.Second)
			h.expectLog(7500*time.Millisecond, "can't generate 401 reply when a final 408 was sent out")
			h.expectFreed(6*time.Second, 11*time.Second) // the first WAIT expiry is postponed
			if h.s.Stats.WaitPostponed != 1 {
				t.Errorf("postponed %d", h.s.Stats.WaitPostponed)
			}
			want := map[scscf.Strategy]string{scscf.Filter: scscf.ReasonNotFound, scscf.NoFilter: scscf.ReasonSilent}[st]
			h.expectMAR(1, 0, want)
		})
	}
}

// A cdp worker queue holds answers: while they wait, the cdp timeout can
// fire, and the answer is then dropped when a worker takes it.
func TestCDPQueueWaitLetsTimeoutWin(t *testing.T) {
	h := newHarness(t, func(c *scscf.Config) { c.CDPWorkers = 1; c.CDPService = sim.Constant{D: 7 * time.Second} }, 100*time.Millisecond)
	h.register(0, 1)
	h.register(0, 2)
	h.run()
	// MAA 1 is taken at 0.1 s and served until 7.1 s; MAA 2 waits in the
	// queue, its cdp timeout fires at 6 s (route: 500 "MAR failed"), and
	// it is dropped when the worker takes it at 7.1 s.
	if len(h.ue.got) != 2 {
		t.Fatalf("responses %+v", h.ue.got)
	}
	h.expectReply(h.ue.got[0], 500, "MAR failed", 6*time.Second)
	h.expectReply(h.ue.got[1], 401, "", 7100*time.Millisecond)
	if h.s.Stats.LateAnswers != 1 || h.s.Stats.CDPTimeouts != 1 {
		t.Errorf("stats %+v", h.s.Stats)
	}
}

// Kamailio children with a bounded receive queue: overflow is dropped.
func TestSIPWorkerQueueOverflow(t *testing.T) {
	h := newHarness(t, func(c *scscf.Config) {
		c.Children = 1
		c.SIPQueue = 2
		c.SIPService = sim.Constant{D: 100 * time.Millisecond}
	}, 10*time.Millisecond)
	for i := uint32(0); i < 5; i++ {
		h.register(0, i)
	}
	h.rt.Run(0)
	if h.s.Stats.SIPQueueDrops != 2 || len(h.ue.got) != 3 {
		t.Fatalf("drops %d responses %d", h.s.Stats.SIPQueueDrops, len(h.ue.got))
	}
	// Served at 0.1, 0.2, 0.3 s, MAA 10 ms later.
	for i, g := range h.ue.got {
		if want := time.Duration(i+1)*100*time.Millisecond + 10*time.Millisecond; g.at != want {
			t.Errorf("reply %d at %v, want %v", i, g.at, want)
		}
	}
}

// usrloc: a contact that is not refreshed expires; the S-CSCF sends SAR
// TIMEOUT_DEREGISTRATION with no SIP transaction (§5.4).
func TestContactExpiryDeregisters(t *testing.T) {
	h := newHarness(t, nil, 20*time.Millisecond)
	h.register(0, 3)
	h.rt.Run(time.Second)
	req := h.answerChallenge(3, h.ue.got[0].resp.Challenge, false)
	req.Expires = 30 // below min_expires: raised to 60
	h.rt.Deliver(time.Second, h.nUE, h.nS, req)
	h.rt.Run(2 * time.Second)
	if got := h.ue.got[1].resp.Expires; got != 54 {
		t.Fatalf("granted expires %d, want 60 - 10 %% = 54", got)
	}
	if h.s.Registered() != 1 {
		t.Fatal("not registered")
	}
	h.rt.Run(0)
	if h.s.Registered() != 0 || h.s.Stats.TimeoutDeregs != 1 || h.h.Stats.SAR != 2 {
		t.Fatalf("registered %d timeout deregs %d SARs at HSS %d", h.s.Registered(), h.s.Stats.TimeoutDeregs, h.h.Stats.SAR)
	}
}

// KAMAILIO-MODEL.md §6.1: the resume strategies of each version.
func TestPresets(t *testing.T) {
	F, N := scscf.Filter, scscf.NoFilter
	want := map[string][3]scscf.Strategy{
		"kamailio-5.3": {F, F, F}, "kamailio-5.6": {F, N, F}, "kamailio-5.8": {F, N, F},
		"kamailio-6.0.2": {F, N, F}, "kamailio-6.0.3": {N, N, F}, "kamailio-6.1": {N, N, F},
	}
	for name, w := range want {
		p, err := scscf.LookupPreset(name)
		if err != nil {
			t.Fatal(err)
		}
		c := scscf.Defaults()
		p.Apply(&c)
		if [3]scscf.Strategy{c.MARResume, c.SAROKResume, c.SARErrResume} != w {
			t.Errorf("%s: MAR %v SAR ok %v SAR err %v", name, c.MARResume, c.SAROKResume, c.SARErrResume)
		}
		if (name >= "kamailio-6") != (c.MaxExpires == 600000) {
			t.Errorf("%s: max_expires %d", name, c.MaxExpires)
		}
	}
	if len(scscf.Presets) != len(want) {
		t.Errorf("%d presets, %d tested", len(scscf.Presets), len(want))
	}
	if _, err := scscf.LookupPreset("kamailio-9"); err == nil {
		t.Error("unknown preset accepted")
	}
}
