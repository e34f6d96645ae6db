package hss

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
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
	if err != nil || r.SQN != nextSQN(sqnMS) || r.SQN>>5 != sqnMS>>5+1 || h.Stats.Resyncs != 1 {
		t.Fatalf("after resync SQN %x (want SEQ+1: %x), err %v, stats %+v", r.SQN, nextSQN(sqnMS), err, h.Stats)
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

// TS 33.102 Annex C.3.2: SEQ advances by one per vector and IND cycles
// through its 32 values.
func TestSQNAnnexC(t *testing.T) {
	sqn := uint64(0)
	for i := 1; i <= 70; i++ {
		sqn = nextSQN(sqn)
		if seq, ind := sqn>>5, sqn&31; seq != uint64(i) || ind != uint64(i%32) {
			t.Fatalf("vector %d: SEQ %d IND %d", i, seq, ind)
		}
	}
	if nextSQN(1<<48-1)>>5 != 0 {
		t.Error("SEQ does not wrap at 43 bits")
	}
}

// TS 29.228 §6.1.1-6.1.4: UAR and LIR follow the S-CSCF assignment made by
// SAR; deregistration clears it.
func TestUARAndLIR(t *testing.T) {
	rt, _, s, from, to, _ := setup(t)
	send := func(m sim.Message) any {
		rt.Deliver(rt.Now(), from, to, m)
		rt.Run(0)
		return s.got[len(s.got)-1]
	}
	uar := &cx.UAR{UserName: "user1@ims.example.org", PublicIdentity: "sip:user1@ims.example.org"}
	lir := &cx.LIR{PublicIdentity: "sip:user1@ims.example.org"}
	if a := send(uar).(*cx.UAA); a.ExperimentalResult != cx.FirstRegistration {
		t.Fatalf("UAR before registration: %+v", a)
	}
	if a := send(lir).(*cx.LIA); a.ExperimentalResult != cx.ErrorIdentityNotRegistered {
		t.Fatalf("LIR before registration: %+v", a)
	}
	send(&cx.SAR{UserName: "user1@ims.example.org", PublicIdentity: "sip:user1@ims.example.org", ServerName: "sip:scscf1", AssignmentType: cx.Registration})
	if a := send(uar).(*cx.UAA); a.ExperimentalResult != cx.SubsequentRegistration || a.ServerName != "sip:scscf1" {
		t.Fatalf("UAR after registration: %+v", a)
	}
	if a := send(lir).(*cx.LIA); a.ResultCode != cx.DiameterSuccess || a.ServerName != "sip:scscf1" {
		t.Fatalf("LIR after registration: %+v", a)
	}
	send(&cx.SAR{PublicIdentity: "sip:user1@ims.example.org", ServerName: "sip:scscf1", AssignmentType: cx.UserDeregistration})
	if a := send(lir).(*cx.LIA); a.ExperimentalResult != cx.ErrorIdentityNotRegistered {
		t.Fatalf("LIR after deregistration: %+v", a)
	}
	if a := send(&cx.UAR{UserName: "nobody@x", PublicIdentity: "sip:nobody@x"}).(*cx.UAA); a.ExperimentalResult != cx.ErrorUserUnknown {
		t.Fatalf("UAR for an unknown user: %+v", a)
	}
}

// TS 35.208 Test Set 1 through the HSS path: a subscriber with the set's K,
// OPc and AMF whose next SQN is the set's, answered with the set's RAND,
// gives an MAA whose SIP-Authenticate is the IMS nonce
// I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M= and whose XRES is f2.
func TestTestSet1ThroughHSS(t *testing.T) {
	sqn := uint64(0xff9bb4d0b607)
	prev := ((sqn>>5)-1)<<5 | ((sqn - 1) & 31)
	csv := fmt.Sprintf("imsi,impi,impu,k,opc,amf,sqn\n001010000000001,ts1@ims.test,sip:ts1@ims.test,465b5ce8b199b49faa5f0a2ee238a6bc,cd63cb71954a9f4e48a5994e37a02baf,b9b9,%x\n", prev)
	tb, err := subscriber.ReadCSV(strings.NewReader(csv), "ts1.csv")
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Population: subscriber.Population{Count: 1, Table: tb}, MARLatency: sim.Constant{}, SARLatency: sim.Constant{}})
	if err != nil {
		t.Fatal(err)
	}
	var rand [16]byte
	r, _ := hex.DecodeString("23553cbe9637a89d218ae64dae47bf35")
	copy(rand[:], r)
	h.fixedRAND = &rand
	rt := sim.New(1)
	s := &sink{}
	from := rt.AddNode("scscf", s)
	to := rt.AddNode("hss", h)
	rt.Deliver(0, from, to, &cx.MAR{UserName: "ts1@ims.test", PublicIdentity: "sip:ts1@ims.test", NumAuthItems: 1, Scheme: cx.SchemeAKAv1})
	rt.Run(0)
	it := s.got[0].(*cx.MAA).Items[0]
	if got := base64.StdEncoding.EncodeToString(it.Authenticate); got != "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=" {
		t.Fatalf("nonce %s", got)
	}
	if hex.EncodeToString(it.Authorization) != "a54211d5e3ba50bf" || hex.EncodeToString(it.CK) != "b40ba9a3c58b2a05bbf0d987b21bf8cb" {
		t.Fatalf("XRES %x CK %x", it.Authorization, it.CK)
	}
}

// TS 29.229 §6.3.13/§6.3.36: the scheme asked for selects what the MAA
// carries: an AKA vector for Digest-AKAv1/v2-MD5 (scheme echoed), H(A1)
// for Digest-MD5.
func TestMARSchemes(t *testing.T) {
	rt, _, s, from, to, pop := setup(t)
	for _, sch := range []string{cx.SchemeAKAv2, cx.SchemeMD5} {
		rt.Deliver(rt.Now(), from, to, &cx.MAR{UserName: "user1@ims.example.org", PublicIdentity: "sip:user1@ims.example.org", NumAuthItems: 1, Scheme: sch})
	}
	rt.Run(0)
	v2, md5 := s.got[0].(*cx.MAA), s.got[1].(*cx.MAA)
	if v2.Items[0].Scheme != cx.SchemeAKAv2 || len(v2.Items[0].Authenticate) != 32 {
		t.Errorf("AKAv2 item %+v", v2.Items[0])
	}
	keys := pop.KeysOf(1)
	want := aka.HA1MD5("user1@ims.example.org", "ims.example.org", []byte(DigestPassword(&keys)))
	if d := md5.Items[0].Digest; d == nil || d.HA1 != want || md5.Items[0].Scheme != cx.SchemeMD5 || len(md5.Items[0].Authenticate) != 0 {
		t.Errorf("Digest-MD5 item %+v", md5.Items[0])
	}
}
