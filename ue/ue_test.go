package ue

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim"
)

// registrar is a scripted peer: it answers each REGISTER with reply (or
// not at all when reply is nil).
type registrar struct {
	reqs  []*sipmsg.Request
	reply func(r *sipmsg.Request) *sipmsg.Response
}

func (s *registrar) Handle(env sim.Env, ev sim.Event) {
	r := ev.Msg.(*sipmsg.Request)
	s.reqs = append(s.reqs, r)
	if s.reply != nil {
		if resp := s.reply(r); resp != nil {
			resp.CallID, resp.CSeq, resp.Branch = r.CallID, r.CSeq, r.Branch
			env.Send(ev.From, resp)
		}
	}
}

type steps struct{ at []time.Duration }

func (s *steps) Next() (time.Duration, bool) {
	if len(s.at) == 0 {
		return 0, false
	}
	a := s.at[0]
	s.at = s.at[1:]
	return a, true
}

func fleet(t *testing.T, n uint32, reg *registrar, arrivals ...time.Duration) (*sim.Runtime, *Fleet, *results.Collector) {
	t.Helper()
	impi, _ := subscriber.ParseTemplate("user{n}@ims.example.org")
	impu, _ := subscriber.ParseTemplate("sip:user{n}@ims.example.org")
	rt := sim.New(1)
	nu := rt.AddNode("ue", nil)
	ns := rt.AddNode("scscf", reg)
	col := results.NewCollector()
	f, err := New(Config{Population: subscriber.Population{Count: n, Realm: "ims.example.org", IMPI: impi, IMPU: impu},
		SCSCF: ns, Arrivals: &steps{arrivals}, ThinkTime: sim.Constant{D: 5 * time.Millisecond}, TimerF: 32 * time.Second,
		Expires: 600000, Collector: col})
	if err != nil {
		t.Fatal(err)
	}
	rt.SetHandler(nu, f)
	if at, ok := f.First(); ok {
		rt.ArmTimer(nu, at, StartKey)
	}
	return rt, f, col
}

// TS 24.229 §5.1.1.2.1: the initial REGISTER carries the IMPI in an
// Authorization header with an empty response, and UEs start at their
// intended times.
func TestInitialRegisterAndArrivals(t *testing.T) {
	reg := &registrar{}
	rt, f, _ := fleet(t, 3, reg, 0, time.Second, 2500*time.Millisecond)
	rt.Run(3 * time.Second)
	if len(reg.reqs) != 3 || f.Stats.Started != 3 {
		t.Fatalf("requests %d started %d", len(reg.reqs), f.Stats.Started)
	}
	r := reg.reqs[1]
	if r.AOR != "sip:user1@ims.example.org" || r.Auth == nil || r.Auth.Username != "user1@ims.example.org" ||
		r.Auth.Response != "" || r.Expires != 600000 || r.CSeq != 1 {
		t.Fatalf("REGISTER %+v %+v", r, r.Auth)
	}
	if id, ok := parseCallID(r.CallID); !ok || id != 1 {
		t.Fatalf("Call-ID %q does not route back to UE 1", r.CallID)
	}
}

// RFC 3261 §17.1.2.2 / §8.1.3.1: no answer ends the transaction at Timer F
// (64·T1 = 32 s) as a 408, measured from the intended send time.
func TestTimerF(t *testing.T) {
	rt, f, col := fleet(t, 1, &registrar{}, time.Second)
	rt.Run(0)
	if f.State(0) != Failed || col.ByCode[408] != 1 || f.Stats.TimerFExpiry != 1 || rt.Now() != 33*time.Second {
		t.Fatalf("state %v codes %v stats %+v at %v", f.State(0), col.ByCode, f.Stats, rt.Now())
	}
}

// TS 33.102 §6.3.3: a challenge whose AUTN does not verify is not answered.
func TestBadAUTNNotAnswered(t *testing.T) {
	reg := &registrar{reply: func(r *sipmsg.Request) *sipmsg.Response {
		return &sipmsg.Response{Code: 401, Challenge: &sipmsg.Challenge{Realm: "ims.example.org", QOP: "auth",
			Nonce: base64.StdEncoding.EncodeToString(make([]byte, 32))}}
	}}
	rt, f, col := fleet(t, 1, reg, 0)
	rt.Run(0)
	if len(reg.reqs) != 1 || f.Stats.MACFailures != 1 || col.Failed != 1 || col.ByCode[401] != 1 {
		t.Fatalf("requests %d stats %+v codes %v", len(reg.reqs), f.Stats, col.ByCode)
	}
}

// Final responses other than 401/2xx end the procedure with their code;
// responses that match no outstanding request are counted as stray.
func TestFailureAndStrayResponses(t *testing.T) {
	reg := &registrar{reply: func(r *sipmsg.Request) *sipmsg.Response { return &sipmsg.Response{Code: 503} }}
	rt, f, col := fleet(t, 2, reg, 0, 0)
	rt.Run(0)
	if col.ByCode[503] != 2 || col.Failed != 2 {
		t.Fatalf("codes %v", col.ByCode)
	}
	rt.Deliver(rt.Now(), 2, 1, &sipmsg.Response{Code: 200, CallID: reg.reqs[0].CallID, CSeq: 1})
	rt.Deliver(rt.Now(), 2, 1, &sipmsg.Response{Code: 200, CallID: "garbage"})
	rt.Run(0)
	if f.Stats.Stray != 2 || col.Succeeded != 0 {
		t.Fatalf("stray %d succeeded %d", f.Stats.Stray, col.Succeeded)
	}
}

// RFC 3261 §17.1.2.2 over UDP: Timer E retransmits at 0.5, 1.5, 3.5, 7.5,
// 11.5, 15.5 ... s (T1 = 500 ms doubling to T2 = 4 s) and Timer F gives up
// at 32 s.
func TestTimerESchedule(t *testing.T) {
	reg := &registrar{}
	rt, f, col := fleet(t, 1, reg, 0)
	f.cfg.UDP, f.cfg.T1, f.cfg.T2 = true, 500*time.Millisecond, 4*time.Second
	var sent []time.Duration
	rt.Trace = func(at time.Duration, to sim.NodeID, ev *sim.Event) {
		if ev.Kind == sim.EvMessage {
			sent = append(sent, at)
		}
	}
	rt.Run(0)
	want := []time.Duration{0, 500 * time.Millisecond, 1500 * time.Millisecond, 3500 * time.Millisecond, 7500 * time.Millisecond,
		11500 * time.Millisecond, 15500 * time.Millisecond, 19500 * time.Millisecond, 23500 * time.Millisecond,
		27500 * time.Millisecond, 31500 * time.Millisecond}
	if len(sent) != len(want) {
		t.Fatalf("sent at %v, want %v", sent, want)
	}
	for i := range want {
		if sent[i] != want[i] {
			t.Fatalf("sent at %v, want %v", sent, want)
		}
	}
	for _, r := range reg.reqs[1:] {
		if r != reg.reqs[0] {
			t.Fatal("a retransmission is not the same request (branch)")
		}
	}
	if col.ByCode[408] != 1 || rt.Now() != 32*time.Second || f.Stats.Retransmits != 10 {
		t.Fatalf("codes %v at %v, retransmits %d", col.ByCode, rt.Now(), f.Stats.Retransmits)
	}
}

// A final response stops Timer E.
func TestFinalResponseStopsRetransmissions(t *testing.T) {
	reg := &registrar{}
	reg.reply = func(r *sipmsg.Request) *sipmsg.Response {
		if len(reg.reqs) == 3 {
			return &sipmsg.Response{Code: 503}
		}
		return nil
	}
	rt, f, _ := fleet(t, 1, reg, 0)
	f.cfg.UDP, f.cfg.T1, f.cfg.T2 = true, 500*time.Millisecond, 4*time.Second
	rt.Run(0)
	if len(reg.reqs) != 3 || rt.Now() != 1500*time.Millisecond {
		t.Fatalf("requests %d, run ended at %v", len(reg.reqs), rt.Now())
	}
}

// TestRequestIdentifiers checks what a REGISTER carries: a unique RFC 3261
// branch per request, the UE's own contact and Call-ID, and its index as
// Sub (strings are built from a shared buffer, so a mix-up would show).
func TestRequestIdentifiers(t *testing.T) {
	reg := &registrar{reply: func(*sipmsg.Request) *sipmsg.Response { return &sipmsg.Response{Code: 403, Reason: "Forbidden"} }}
	at := make([]time.Duration, 50)
	for i := range at {
		at[i] = time.Duration(i) * time.Millisecond
	}
	rt, _, _ := fleet(t, 50, reg, at...)
	rt.Run(0)
	if len(reg.reqs) != 50 {
		t.Fatalf("%d requests, want 50", len(reg.reqs))
	}
	branches := map[string]bool{}
	for _, r := range reg.reqs {
		i := r.Sub - 1
		if r.Sub == 0 || !strings.HasPrefix(r.CallID, strconv.Itoa(int(i))+"-") || !strings.HasSuffix(r.CallID, "@regstorm") {
			t.Fatalf("request Sub %d Call-ID %q", r.Sub, r.CallID)
		}
		if want := "sip:ue" + strconv.Itoa(int(i)) + "@127.0.0.1"; r.Contact != want {
			t.Fatalf("UE %d contact %q, want %q", i, r.Contact, want)
		}
		if !strings.HasPrefix(r.Branch, "z9hG4bK") || len(r.Branch) < 10 || branches[r.Branch] {
			t.Fatalf("UE %d branch %q (repeated or malformed)", i, r.Branch)
		}
		branches[r.Branch] = true
	}
}
