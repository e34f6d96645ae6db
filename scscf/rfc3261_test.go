package scscf_test

import (
	"strings"
	"testing"
	"time"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/internal/sipwire"
	"github.com/regstorm/regstorm/scscf"
)

func withEcho(r *sipmsg.Request, sentBy string) *sipmsg.Request {
	c := *r
	c.Echo = &sipmsg.Echo{Via: []string{"SIP/2.0/UDP " + sentBy + ";branch=" + r.Branch}, From: "<" + r.AOR + ">;tag=" + r.FromTag,
		To: "<" + r.AOR + ">", CallID: r.CallID, CSeq: itoa(r.CSeq) + " REGISTER", SentBy: "UDP " + sentBy}
	return &c
}

// RFC 3261 §17.2.3: a request matches a server transaction when the branch
// AND the top Via's sent-by are equal; the same branch from another
// sent-by is a new transaction (a second MAR), from the same sent-by a
// retransmission (absorbed).
func TestRFC3261_17_2_3_MatchingUsesSentBy(t *testing.T) {
	h := newHarness(t, nil, 2*time.Second)
	req := h.request(3, "z9hG4bKsame")
	h.rt.Deliver(0, h.nUE, h.nS, withEcho(req, "192.0.2.1:5060"))
	h.rt.Deliver(100*time.Millisecond, h.nUE, h.nS, withEcho(req, "192.0.2.1:5060"))  // retransmission
	h.rt.Deliver(200*time.Millisecond, h.nUE, h.nS, withEcho(req, "192.0.2.99:5060")) // another sender, same branch
	h.rt.Run(0)
	if h.s.Stats.Retransmissions != 1 || h.s.Stats.Transactions != 2 {
		t.Errorf("retransmissions %d transactions %d, want 1 and 2", h.s.Stats.Retransmissions, h.s.Stats.Transactions)
	}
	if h.h.Stats.MAR != 2 {
		t.Errorf("MARs %d, want 2 (one per transaction)", h.h.Stats.MAR)
	}
}

// RFC 3261 §17.2.3, RFC 2543 compatibility: without the magic cookie a
// retransmission is recognised by Call-ID, CSeq, From tag, Request-URI and
// top Via; a new CSeq is a new transaction.
func TestRFC3261_17_2_3_RFC2543Matching(t *testing.T) {
	h := newHarness(t, nil, 2*time.Second)
	base := h.request(3, "")
	h.rt.Deliver(0, h.nUE, h.nS, withEcho(base, "192.0.2.1:5060"))
	h.rt.Deliver(100*time.Millisecond, h.nUE, h.nS, withEcho(base, "192.0.2.1:5060"))
	next := *base
	next.CSeq = 2
	h.rt.Deliver(200*time.Millisecond, h.nUE, h.nS, withEcho(&next, "192.0.2.1:5060"))
	h.rt.Run(0)
	if h.s.Stats.Retransmissions != 1 || h.s.Stats.Transactions != 2 {
		t.Errorf("retransmissions %d transactions %d, want 1 and 2", h.s.Stats.Retransmissions, h.s.Stats.Transactions)
	}
}

// RFC 3261 §8.2.6.2: the response carries the request's Echo (its Via,
// From, To, Call-ID and CSeq as received) and a To tag of the core's.
func TestRFC3261_8_2_6_2_ResponseCopiesEcho(t *testing.T) {
	h := newHarness(t, nil, 20*time.Millisecond)
	req := withEcho(h.request(3, "z9hG4bKx"), "192.0.2.1:5070")
	h.rt.Deliver(0, h.nUE, h.nS, req)
	h.rt.Run(0)
	r := h.only().resp
	if r.Code != 401 || r.Echo != req.Echo || r.ToTag == "" {
		t.Fatalf("401 %+v: want the request's Echo and a To tag", r)
	}
	b, err := sipwire.Marshal(r, sipwire.DefaultEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKx\r\n", "To: <sip:user3@ims.example.org>;tag=" + r.ToTag + "\r\n",
		"From: <sip:user3@ims.example.org>;tag=f\r\n", "Call-ID: c3\r\n", "CSeq: 1 REGISTER\r\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("401 lacks %q:\n%s", want, b)
		}
	}
}

// request is an initial REGISTER of subscriber n with the given branch,
// not delivered.
func (h *harness) request(n uint32, branch string) *sipmsg.Request {
	return &sipmsg.Request{CallID: "c" + itoa(n), Branch: branch, FromTag: "f", CSeq: 1, RequestURI: "sip:ims.example.org",
		AOR: h.pop.IMPU.Format(n), Expires: 600000,
		Auth: &sipmsg.Credentials{Username: h.pop.IMPI.Format(n), Realm: "ims.example.org", URI: "sip:ims.example.org"}}
}

// RFC 3261 §20.19: Expires above 2^32-1 arrives clamped to 2^32-1 (the
// parser's job); the registrar grants it (max_expires 0: unlimited in
// 5.6) or caps it at max_expires (600000 in 6.x), never a de-registration,
// and the 200's expires is computed without 32-bit overflow.
func TestRFC3261_20_19_HugeExpiresIsNotADeregistration(t *testing.T) {
	for _, c := range []struct {
		preset string
		want   int64
	}{{"kamailio-5.6", sipmsg.MaxExpires - sipmsg.MaxExpires*10/100}, {"kamailio-6.1", 540000}} {
		p, _ := scscf.LookupPreset(c.preset)
		h := newHarness(t, func(cfg *scscf.Config) { p.Apply(cfg) }, 20*time.Millisecond)
		h.register(0, 3)
		h.rt.Run(time.Second)
		req := h.answerChallenge(3, h.ue.got[0].resp.Challenge, false)
		req.Expires = sipmsg.MaxExpires
		h.rt.Deliver(time.Second, h.nUE, h.nS, req)
		h.rt.Run(2 * time.Second)
		ok := h.ue.got[len(h.ue.got)-1].resp
		if ok.Code != 200 || ok.Expires != c.want || h.s.Registered() != 1 {
			t.Errorf("%s: %d expires %d registered %d, want 200 expires %d", c.preset, ok.Code, ok.Expires, h.s.Registered(), c.want)
		}
	}
}
