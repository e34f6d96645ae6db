package hss

import (
	"testing"
	"time"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/internal/aka"
	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/sim"
)

type sink struct {
	got []sim.Message
	at  []time.Duration
}

func (s *sink) Handle(env sim.Env, ev sim.Event) {
	if len(s.got) > 1000 {
		s.got, s.at = s.got[:0], s.at[:0]
	}
	s.got = append(s.got, ev.Msg)
	s.at = append(s.at, env.Now())
}

func setup(t *testing.T) (*sim.Runtime, *HSS, *sink, sim.NodeID, sim.NodeID, subscriber.Population) {
	t.Helper()
	impi, _ := subscriber.ParseTemplate("user{n}@ims.example.org")
	impu, _ := subscriber.ParseTemplate("sip:user{n}@ims.example.org")
	pop := subscriber.Population{Count: 10, Realm: "ims.example.org", IMPI: impi, IMPU: impu, AMF: 0x8000, KeySeed: 3}
	h, err := New(Config{OriginHost: "hss", OriginRealm: "ims.example.org", Population: pop,
		MARLatency: sim.Constant{D: 20 * time.Millisecond}, SARLatency: sim.Constant{D: 7 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	rt := sim.New(1)
	s := &sink{}
	from := rt.AddNode("scscf", s)
	to := rt.AddNode("hss", h)
	return rt, h, s, from, to, pop
}

// TS 33.102 §6.3.2-6.3.3: the vectors in an MAA verify at the USIM of the
// same subscriber, with SEQ advancing per vector (Annex C.3.2); the answer
// leaves after the injected latency.
func TestMARVectorsVerifyAtTheUSIM(t *testing.T) {
	rt, _, s, from, to, pop := setup(t)
	rt.Deliver(0, from, to, &cx.MAR{Header: cx.Header{HopByHop: 9}, UserName: "user4@ims.example.org",
		PublicIdentity: "sip:user4@ims.example.org", NumAuthItems: 3, Scheme: cx.SchemeAKAv1})
	rt.Run(0)
	maa := s.got[0].(*cx.MAA)
	if s.at[0] != 20*time.Millisecond || maa.ResultCode != cx.DiameterSuccess || maa.HopByHop != 9 || len(maa.Items) != 3 {
		t.Fatalf("MAA %+v at %v", maa, s.at[0])
	}
	keys := aka.DeriveKeys(pop.KeySeed, 4)
	var last uint64
	for i, it := range maa.Items {
		r, err := aka.Verify(&keys, it.Authenticate)
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		if string(r.RES[:]) != string(it.Authorization) || r.SQN <= last || r.AMF != 0x8000 || it.ItemNumber != uint32(i+1) {
			t.Fatalf("item %d: SQN %x after %x, RES/XRES %x/%x", i, r.SQN, last, r.RES, it.Authorization)
		}
		last = r.SQN
	}
}

func TestMARErrors(t *testing.T) {
	rt, _, s, from, to, _ := setup(t)
	rt.Deliver(0, from, to, &cx.MAR{UserName: "user99@ims.example.org", PublicIdentity: "sip:user99@ims.example.org"})
	rt.Deliver(0, from, to, &cx.MAR{UserName: "user1@ims.example.org", PublicIdentity: "sip:user2@ims.example.org"})
	rt.Deliver(0, from, to, &cx.MAR{UserName: "user1@ims.example.org", PublicIdentity: "sip:user1@ims.example.org", Scheme: "NASS-Bundled"})
	rt.Run(0)
	for i, want := range []uint32{cx.ErrorUserUnknown, cx.ErrorIdentitiesDontMatch, cx.ErrorAuthSchemeNotSupported} {
		if got := s.got[i].(*cx.MAA); got.ExperimentalResult != want || got.ResultCode != 0 {
			t.Errorf("answer %d: %+v, want experimental %d", i, got, want)
		}
	}
}

// TS 33.102 §6.3.5: an AUTS carrying SQN_MS resets the HSS's SQN; the next
// vector's SQN is fresh for the USIM.
func TestResync(t *testing.T) {
	rt, h, s, from, to, pop := setup(t)
	keys := aka.DeriveKeys(pop.KeySeed, 2)
	rand := make([]byte, 16)
	sqnMS := uint64(5000) << 5
	auts, err := aka.GenerateAUTS(&keys, rand, sqnMS)
	if err != nil {
		t.Fatal(err)
	}
	rt.Deliver(0, from, to, &cx.MAR{UserName: "user2@ims.example.org", PublicIdentity: "sip:user2@ims.example.org",
		NumAuthItems: 1, Authorization: append(rand, auts[:]...)})
	rt.Run(0)
	maa := s.got[0].(*cx.MAA)
	r, err := aka.Verify(&keys, maa.Items[0].Authenticate)
	if err != nil || r.SQN != sqnMS+32 || h.Stats.Resyncs != 1 {
		t.Fatalf("after resync SQN %x (want %x), err %v, stats %+v", r.SQN, sqnMS+32, err, h.Stats)
	}
	auts[13] ^= 1
	rt.Deliver(rt.Now(), from, to, &cx.MAR{UserName: "user2@ims.example.org", PublicIdentity: "sip:user2@ims.example.org",
		NumAuthItems: 1, Authorization: append(rand, auts[:]...)})
	rt.Run(0)
	if got := s.got[1].(*cx.MAA); got.ResultCode != cx.DiameterUnableToComp || h.Stats.ResyncFailures != 1 {
		t.Fatalf("bad AUTS answered %+v", got)
	}
}

func TestSAR(t *testing.T) {
	rt, _, s, from, to, _ := setup(t)
	rt.Deliver(0, from, to, &cx.SAR{UserName: "user1@ims.example.org", PublicIdentity: "sip:user1@ims.example.org", AssignmentType: cx.Registration})
	rt.Deliver(0, from, to, &cx.SAR{UserName: "user1@ims.example.org", PublicIdentity: "sip:user1@ims.example.org", AssignmentType: cx.ReRegistration, UserDataAvailable: 1})
	rt.Deliver(0, from, to, &cx.SAR{PublicIdentity: "sip:nobody@ims.example.org", AssignmentType: cx.Registration})
	rt.Run(0)
	a0, a1, a2 := s.got[0].(*cx.SAA), s.got[1].(*cx.SAA), s.got[2].(*cx.SAA)
	if a0.ResultCode != cx.DiameterSuccess || len(a0.UserData) == 0 || s.at[0] != 7*time.Millisecond {
		t.Errorf("REGISTRATION answer %+v", a0)
	}
	if a1.ResultCode != cx.DiameterSuccess || len(a1.UserData) != 0 {
		t.Errorf("RE_REGISTRATION with data available should carry no User-Data: %+v", a1)
	}
	if a2.ExperimentalResult != cx.ErrorUserUnknown {
		t.Errorf("unknown IMPU answered %+v", a2)
	}
}

// BenchmarkMAR is one MAR through the HSS core on the runtime: Milenage
// vector, answer built, latency timer, delivery.
func BenchmarkMAR(b *testing.B) {
	rt, _, _, from, to, _ := setup(&testing.T{})
	m := &cx.MAR{UserName: "user1@ims.example.org", PublicIdentity: "sip:user1@ims.example.org", NumAuthItems: 1}
	b.ReportAllocs()
	for b.Loop() {
		rt.Deliver(rt.Now(), from, to, m)
		rt.Run(0)
	}
}

// Capacity: c workers with a bounded queue; overflow is answered 3004.
func TestWorkersQueueAndTooBusy(t *testing.T) {
	impi, _ := subscriber.ParseTemplate("user{n}@ims.example.org")
	impu, _ := subscriber.ParseTemplate("sip:user{n}@ims.example.org")
	pop := subscriber.Population{Count: 10, Realm: "ims.example.org", IMPI: impi, IMPU: impu}
	for _, overflow := range []string{OverflowBusy, OverflowDrop} {
		h, err := New(Config{Population: pop, MARLatency: sim.Constant{}, SARLatency: sim.Constant{},
			Workers: 2, Service: sim.Constant{D: 10 * time.Millisecond}, QueueCap: 2, Overflow: overflow})
		if err != nil {
			t.Fatal(err)
		}
		rt := sim.New(1)
		s := &sink{}
		from := rt.AddNode("scscf", s)
		to := rt.AddNode("hss", h)
		for i := 0; i < 6; i++ {
			rt.Deliver(0, from, to, &cx.SAR{Header: cx.Header{HopByHop: uint32(i)}, PublicIdentity: "sip:user1@ims.example.org", AssignmentType: cx.Registration})
		}
		rt.Run(0)
		var busy, ok int
		for i, m := range s.got {
			a := m.(*cx.SAA)
			switch {
			case a.ResultCode == cx.DiameterTooBusy && s.at[i] == 0:
				busy++
			case a.ResultCode == cx.DiameterSuccess:
				ok++
			}
		}
		wantBusy := map[string]int{OverflowBusy: 2, OverflowDrop: 0}[overflow]
		if ok != 4 || busy != wantBusy || h.Pool().Wait != 20*time.Millisecond {
			t.Errorf("%s: ok %d busy %d wait %v stats %+v", overflow, ok, busy, h.Pool().Wait, h.Stats)
		}
	}
}
