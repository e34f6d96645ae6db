package scscf_test

import (
	"testing"
	"time"

	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/scscf"
)

// challengeAndAnswer runs REGISTER -> 401, then sends the authenticated
// REGISTER at answerAt, and drains the run.
func challengeAndAnswer(t *testing.T, h *harness, n uint32, answerAt time.Duration, tamper bool) {
	t.Helper()
	h.register(0, n)
	h.rt.Run(answerAt - time.Nanosecond)
	if len(h.ue.got) != 1 || h.ue.got[0].resp.Code != 401 {
		t.Fatalf("want a 401 first, got %+v", h.ue.got)
	}
	req := h.answerChallenge(n, h.ue.got[0].resp.Challenge, tamper)
	h.rt.Deliver(answerAt, h.nUE, h.nS, req)
	// Not h.run(): that would also drain the usrloc expiry of the binding.
	h.rt.Run(answerAt + 6*time.Second)
}

// TS 24.229 §5.4.1.2 / RFC 3310: the UE's Digest-AKAv1-MD5 response over
// RES verifies against XRES at the S-CSCF; SAR REGISTRATION follows and the
// 200 OK grants the Contact expiry minus expires_buffer_percent.
func TestRegister_DigestAKARoundTrip(t *testing.T) {
	h := newHarness(t, nil, 20*time.Millisecond)
	challengeAndAnswer(t, h, 3, time.Second, false)
	if len(h.ue.got) != 2 {
		t.Fatalf("responses %+v", h.ue.got)
	}
	ok := h.ue.got[1]
	// SAA after 10 ms.
	h.expectReply(ok, 200, "OK", time.Second+10*time.Millisecond)
	// 5.6.3: max_expires 0 (unlimited): 600000 - 10 % = 540000.
	if ok.resp.Expires != 540000 || ok.resp.AssociatedURI != "sip:user3@ims.example.org" || ok.resp.ServiceRoute == "" {
		t.Errorf("200 OK expires %d P-Associated-URI %q Service-Route %q", ok.resp.Expires, ok.resp.AssociatedURI, ok.resp.ServiceRoute)
	}
	c := h.col.Callbacks[results.CallbackSAR]
	if c.Invoked != 1 || c.RouteExecuted != 1 {
		t.Errorf("SAR callback %+v: the SAR route runs after t_continue_skip_timer", c)
	}
	h.expectLog(ok.at, "SAR_REPLY_ROUTE_EXECUTED 1")
}

// RFC 2617 §3.2.2: a wrong response is refused with the route's 403.
func TestRegister_WrongResponseForbidden(t *testing.T) {
	h := newHarness(t, nil, 20*time.Millisecond)
	challengeAndAnswer(t, h, 3, time.Second, true)
	h.expectReply(h.ue.got[1], 403, "Forbidden - authentication failed", time.Second)
	if h.col.Callbacks[results.CallbackSAR].Invoked != 0 {
		t.Error("a SAR was sent after a failed authentication")
	}
}

// ims_auth: a SENT vector expires auth_vector_timeout (60 s) after the
// challenge and is removed by the purge timer that runs every 10 s, so it
// is usable for 60-70 s (§4). Stored at 20 ms, it goes at the 70 s purge.
func TestRegister_NonceLifetimeIsTimeoutPlusPurge(t *testing.T) {
	h := newHarness(t, nil, 20*time.Millisecond)
	challengeAndAnswer(t, h, 3, 69*time.Second, false)
	h.expectReply(h.ue.got[1], 200, "OK", 69*time.Second+10*time.Millisecond)
	h = newHarness(t, nil, 20*time.Millisecond)
	challengeAndAnswer(t, h, 3, 70*time.Second, false)
	h.expectReply(h.ue.got[1], 403, "Forbidden - authentication failed", 70*time.Second)
}

// A vector is used once (max_nonce_reuse = 0): replaying the same
// authenticated REGISTER in a new transaction is refused.
func TestRegister_NonceReplayForbidden(t *testing.T) {
	h := newHarness(t, nil, 20*time.Millisecond)
	h.register(0, 3)
	h.rt.Run(time.Second)
	req := h.answerChallenge(3, h.ue.got[0].resp.Challenge, false)
	h.rt.Deliver(time.Second, h.nUE, h.nS, req)
	replay := *req
	replay.Branch += "x"
	h.rt.Deliver(2*time.Second, h.nUE, h.nS, &replay)
	h.run()
	if len(h.ue.got) != 3 || h.ue.got[1].resp.Code != 200 || h.ue.got[2].resp.Code != 403 {
		t.Fatalf("got %+v, want 401, 200, 403", h.ue.got)
	}
}

// A re-REGISTER of a registered IMPU is a RE_REGISTRATION (no User-Data
// requested), and Expires: 0 a USER_DEREGISTRATION with 200 and expires 0.
func TestRegister_ReRegistrationAndDeregistration(t *testing.T) {
	h := newHarness(t, nil, 20*time.Millisecond)
	challengeAndAnswer(t, h, 3, time.Second, false)
	for i, expires := range []int64{3600, 0} {
		at := time.Duration(10*(i+1)) * time.Second
		h.register(at, 3)
		h.rt.Run(at + time.Second)
		ch := h.ue.got[len(h.ue.got)-1].resp
		if ch.Code != 401 {
			t.Fatalf("re-REGISTER not challenged: %d", ch.Code)
		}
		req := h.answerChallenge(3, ch.Challenge, false)
		req.Expires = expires
		h.rt.Deliver(at+time.Second, h.nUE, h.nS, req)
		h.rt.Run(at + 5*time.Second)
		last := h.ue.got[len(h.ue.got)-1].resp
		want := int64(3240) // 3600 - 10 %
		if expires == 0 {
			want = 0
		}
		if last.Code != 200 || last.Expires != want {
			t.Fatalf("expires %d: got %d expires %d, want 200 expires %d", expires, last.Code, last.Expires, want)
		}
	}
	if h.col.Callbacks[results.CallbackSAR].Invoked != 3 {
		t.Errorf("SAR callbacks %d, want 3", h.col.Callbacks[results.CallbackSAR].Invoked)
	}
}

// A SAR that times out: 500 "Server Internal Error" with P-Registrar-Error,
// then t_continue on a transaction on WAIT: the route never runs
// (cxdx_sar.c error path, §3.3).
func TestRegister_SARTimeout(t *testing.T) {
	h := newHarness(t, nil, 20*time.Millisecond)
	h.register(0, 3)
	h.rt.Run(time.Second)
	req := h.answerChallenge(3, h.ue.got[0].resp.Challenge, false)
	h.rt.Deliver(time.Second, h.nUE, h.nS, req)
	// Make the HSS silent for the SAR: take it off the network by dropping
	// every message it sends from now on.
	h.rt.SetLink(h.nH, h.nS, nil, 1)
	h.run()
	last := h.ue.got[len(h.ue.got)-1]
	// sent at 1 s: cdp timeout at 1 + 5 + 1 = 7 s.
	h.expectReply(last, 500, "Server Internal Error", 7*time.Second)
	if last.resp.RegistrarError != "SAR failed" {
		t.Errorf("P-Registrar-Error %q", last.resp.RegistrarError)
	}
	c := h.col.Callbacks[results.CallbackSAR]
	if c.Invoked != 1 || c.RouteExecuted != 0 || c.NotExecuted[scscf.ReasonNotFound] != 1 {
		t.Errorf("SAR callback %+v", c)
	}
}

// t_check_trans(): a retransmission of a suspended REGISTER is absorbed (no
// second MAR); one of a completed transaction gets the stored reply again.
func TestRegister_RetransmissionsAbsorbed(t *testing.T) {
	h := newHarness(t, nil, 2*time.Second)
	req := h.register(0, 3)
	h.rt.Deliver(500*time.Millisecond, h.nUE, h.nS, req)
	h.rt.Deliver(1500*time.Millisecond, h.nUE, h.nS, req)
	h.rt.Deliver(2500*time.Millisecond, h.nUE, h.nS, req)
	h.rt.Run(0)
	if h.h.Stats.MAR != 1 {
		t.Errorf("MARs %d, want 1", h.h.Stats.MAR)
	}
	if len(h.ue.got) != 2 || h.ue.got[0].at != 2*time.Second || h.ue.got[1].at != 2500*time.Millisecond {
		t.Errorf("responses %+v: want the 401 at 2 s and its re-send at 2.5 s", h.ue.got)
	}
	if h.s.Stats.Retransmissions != 3 {
		t.Errorf("retransmissions %d", h.s.Stats.Retransmissions)
	}
}
