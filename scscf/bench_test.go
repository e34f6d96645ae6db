package scscf_test

import (
	"testing"
	"time"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/scscf"
)

// BenchmarkSCSCFRegistration measures one full registration through the
// S-CSCF model (REGISTER -> MAR -> MAA -> 401, REGISTER -> digest check ->
// SAR -> SAA -> 200, FR, cdp and WAIT timers) on the runtime. The HSS core
// runs too (its Milenage vector is ~2 µs, see hss BenchmarkMAR); the UE's
// AKA computation is excluded with StopTimer.
func BenchmarkSCSCFRegistration(b *testing.B) {
	for _, st := range []scscf.Strategy{scscf.Filter, scscf.NoFilter} {
		b.Run(st.String(), func(b *testing.B) {
			h := newHarness(&testing.T{}, func(c *scscf.Config) { c.MARResume = st; c.Log = nil }, 0)
			h.rt.Trace = nil
			reqs := make([]*sipmsg.Request, 0, 64)
			for i := uint32(0); i < 64; i++ {
				reqs = append(reqs, &sipmsg.Request{CallID: "c", Branch: "b" + itoa(i), CSeq: 1, AOR: h.pop.IMPU.Format(i),
					Expires: 600000, Auth: &sipmsg.Credentials{Username: h.pop.IMPI.Format(i), Realm: "ims.example.org"}})
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				i := uint32(n % 64)
				n++
				r := *reqs[i]
				r.Branch += "-" + itoa(uint32(n))
				h.rt.Deliver(h.rt.Now(), h.nUE, h.nS, &r)
				h.rt.Run(h.rt.Now() + time.Second)
				ch := h.ue.got[len(h.ue.got)-1].resp
				h.ue.got = h.ue.got[:0]
				b.StopTimer()
				a := h.answerChallenge(i, ch.Challenge, false)
				b.StartTimer()
				a.Branch += "-" + itoa(uint32(n))
				h.rt.Deliver(h.rt.Now(), h.nUE, h.nS, a)
				h.rt.Run(h.rt.Now() + time.Second)
				h.ue.got = h.ue.got[:0]
			}
		})
	}
}
