package scscf_test

import (
	"strings"
	"testing"
	"time"

	"github.com/regstorm/regstorm/hss"
	"github.com/regstorm/regstorm/internal/aka"
	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/scscf"
	"github.com/regstorm/regstorm/sim"
)

// got is a SIP response seen by the probe UE.
type got struct {
	at   time.Duration
	resp *sipmsg.Response
}

// probe is a scripted UE: it records every response with its arrival time.
type probe struct{ got []got }

func (p *probe) Handle(env sim.Env, ev sim.Event) {
	if r, ok := ev.Msg.(*sipmsg.Response); ok {
		p.got = append(p.got, got{env.Now(), r})
	}
}

// harness runs the real S-CSCF core against the real HSS core on the
// virtual runtime with zero link latency, so every time in a test is the
// model's own.
type harness struct {
	t         *testing.T
	rt        *sim.Runtime
	ue        *probe
	s         *scscf.SCSCF
	h         *hss.HSS
	col       *results.Collector
	pop       subscriber.Population
	logs      []logLine
	freed     []time.Duration // WAIT timer expiries (transaction freed)
	nUE, nS   sim.NodeID
	nH        sim.NodeID
	cseq      uint32
	finals    map[string]int // branch -> final responses seen
	requested map[string]bool
}

type logLine struct {
	at   time.Duration
	text string
}

func population(t testing.TB) subscriber.Population {
	impi, err := subscriber.ParseTemplate("user{n}@ims.example.org")
	if err != nil {
		t.Fatal(err)
	}
	impu, _ := subscriber.ParseTemplate("sip:user{n}@ims.example.org")
	return subscriber.Population{Count: 100, Realm: "ims.example.org", IMPI: impi, IMPU: impu, AMF: 0x8000, KeySeed: 7}
}

// newHarness builds the pair; mut edits the S-CSCF config, marLatency is
// the HSS's constant MAA delay.
func newHarness(t *testing.T, mut func(*scscf.Config), marLatency time.Duration) *harness {
	t.Helper()
	h := &harness{t: t, rt: sim.New(1), ue: &probe{}, col: results.NewCollector(), pop: population(t),
		finals: map[string]int{}, requested: map[string]bool{}}
	h.nUE = h.rt.AddNode("ue", h.ue)
	h.nS = h.rt.AddNode("scscf", nil)
	h.nH = h.rt.AddNode("hss", nil)
	nH := h.nH
	cfg := scscf.Defaults()
	cfg.HSS = nH
	cfg.Collector = h.col
	cfg.Log = func(at time.Duration, line string) { h.logs = append(h.logs, logLine{at, line}) }
	if mut != nil {
		mut(&cfg)
	}
	var err error
	if h.s, err = scscf.New(cfg); err != nil {
		t.Fatal(err)
	}
	if h.h, err = hss.New(hss.Config{OriginHost: "hss", OriginRealm: "ims.example.org", Population: h.pop,
		MARLatency: sim.Constant{D: marLatency}, SARLatency: sim.Constant{D: 10 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	h.rt.SetHandler(h.nS, h.s)
	h.rt.SetHandler(nH, h.h)
	h.rt.Trace = func(at time.Duration, to sim.NodeID, ev *sim.Event) {
		if to == h.nS && ev.Kind == sim.EvTimer && ev.Timer.Kind == scscf.TimerWait {
			h.freed = append(h.freed, at)
		}
		if to == h.nUE {
			if r, ok := ev.Msg.(*sipmsg.Response); ok && r.Final() {
				h.finals[r.Branch]++
			}
		}
		if to == h.nS {
			if r, ok := ev.Msg.(*sipmsg.Request); ok {
				h.requested[r.Branch] = true
			}
		}
	}
	return h
}

// register delivers an initial REGISTER for subscriber n at time at.
func (h *harness) register(at time.Duration, n uint32) *sipmsg.Request {
	h.cseq++
	req := &sipmsg.Request{CallID: "c" + itoa(n), Branch: "z9hG4bK" + itoa(h.cseq), FromTag: "f", CSeq: h.cseq,
		RequestURI: "sip:ims.example.org", AOR: h.pop.IMPU.Format(n), Expires: 600000,
		Auth: &sipmsg.Credentials{Username: h.pop.IMPI.Format(n), Realm: "ims.example.org", URI: "sip:ims.example.org"}}
	h.rt.Deliver(at, h.nUE, h.nS, req)
	return req
}

// answerChallenge builds the authenticated REGISTER for a 401 (RFC 3310).
func (h *harness) answerChallenge(n uint32, ch *sipmsg.Challenge, tamper bool) *sipmsg.Request {
	keys := aka.DeriveKeys(h.pop.KeySeed, n)
	nonce, err := decodeB64(ch.Nonce)
	if err != nil {
		h.t.Fatal(err)
	}
	r, err := aka.Verify(&keys, nonce)
	if err != nil {
		h.t.Fatalf("UE rejects the S-CSCF's challenge: %v", err)
	}
	if tamper {
		r.RES[0] ^= 1
	}
	p := aka.DigestParams{Username: h.pop.IMPI.Format(n), Realm: ch.Realm, Nonce: ch.Nonce, Method: "REGISTER",
		URI: "sip:ims.example.org", QOP: "auth", NC: "00000001", CNonce: "abcdef"}
	h.cseq++
	return &sipmsg.Request{CallID: "c" + itoa(n), Branch: "z9hG4bK" + itoa(h.cseq), FromTag: "f", CSeq: h.cseq,
		RequestURI: "sip:ims.example.org", AOR: h.pop.IMPU.Format(n), Expires: 600000,
		Auth: &sipmsg.Credentials{Username: p.Username, Realm: p.Realm, Nonce: p.Nonce, URI: p.URI,
			Response: aka.AKAv1Response(r.RES[:], &p), Algorithm: "AKAv1-MD5", QOP: "auth", NC: p.NC, CNonce: p.CNonce}}
}

func (h *harness) run() { h.rt.Run(0); h.checkInvariants() }

// checkInvariants: every REGISTER that reached the S-CSCF got exactly one
// final response (re-sent replies to retransmissions aside), and nothing is
// left suspended or alive once the run has drained.
func (h *harness) checkInvariants() {
	h.t.Helper()
	for br := range h.requested {
		if h.finals[br] != 1 {
			h.t.Errorf("invariant: REGISTER %s got %d final responses, want 1", br, h.finals[br])
		}
	}
	if err := h.s.Invariants(); err != nil {
		h.t.Error(err)
	}
}

// only returns the single response the probe got.
func (h *harness) only() got {
	h.t.Helper()
	if len(h.ue.got) != 1 {
		h.t.Fatalf("UE got %d responses, want 1: %+v", len(h.ue.got), h.ue.got)
	}
	return h.ue.got[0]
}

func (h *harness) expectReply(g got, code int, reason string, at time.Duration) {
	h.t.Helper()
	if g.resp.Code != code || (reason != "" && g.resp.Reason != reason) || g.at != at {
		h.t.Errorf("reply %d %q at %v, want %d %q at %v", g.resp.Code, g.resp.Reason, g.at, code, reason, at)
	}
}

func (h *harness) expectMAR(invoked, ran uint64, reason string) {
	h.t.Helper()
	c := h.col.Callbacks[results.CallbackMAR]
	if c.Invoked != invoked || c.RouteExecuted != ran {
		h.t.Errorf("MAR callbacks invoked %d route ran %d, want %d and %d (not run: %v)", c.Invoked, c.RouteExecuted, invoked, ran, c.NotExecuted)
	}
	if reason != "" && c.NotExecuted[reason] != invoked-ran {
		h.t.Errorf("MAR not-run reasons %v, want %d x %q", c.NotExecuted, invoked-ran, reason)
	}
}

func (h *harness) expectFreed(at ...time.Duration) {
	h.t.Helper()
	if len(h.freed) != len(at) {
		h.t.Fatalf("transactions freed at %v, want %v", h.freed, at)
	}
	for i := range at {
		if h.freed[i] != at[i] {
			h.t.Errorf("transaction freed at %v, want %v", h.freed[i], at[i])
		}
	}
}

// expectLog checks that a log line containing text was printed at at.
func (h *harness) expectLog(at time.Duration, text string) {
	h.t.Helper()
	for _, l := range h.logs {
		if l.at == at && strings.Contains(l.text, text) {
			return
		}
	}
	h.t.Errorf("no log %q at %v; logs:\n%s", text, at, h.dumpLogs())
}

func (h *harness) expectNoLog(text string) {
	h.t.Helper()
	for _, l := range h.logs {
		if strings.Contains(l.text, text) {
			h.t.Errorf("unexpected log at %v: %s", l.at, l.text)
		}
	}
}

func (h *harness) dumpLogs() string {
	var b strings.Builder
	for _, l := range h.logs {
		b.WriteString("  " + l.at.String() + " " + l.text + "\n")
	}
	return b.String()
}
