package scscf_test

import (
	"testing"
	"time"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/scscf"
)

// BenchmarkSCSCFRegistration measures full registrations through the S-CSCF
// model on the runtime (REGISTER -> MAR -> MAA -> 401, REGISTER -> digest
// check -> SAR -> SAA -> 200, with the FR, cdp, WAIT and usrloc timers).
// The HSS core runs too (its Milenage vector is ~2 µs, see hss
// BenchmarkMAR). All challenges are timed, then the UE-side AKA answers are
// computed untimed, then all answers are timed, in batches of 100 users:
// ns/op is per registration.
func BenchmarkSCSCFRegistration(b *testing.B) {
	for _, st := range []scscf.Strategy{scscf.Filter, scscf.NoFilter} {
		b.Run(st.String(), func(b *testing.B) {
			h := newHarness(&testing.T{}, func(c *scscf.Config) { c.MARResume = st; c.Log = nil }, 0)
			h.rt.Trace = nil
			const users = 100 // one batch: each user holds one vector at a time
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += users {
				batch := min(users, b.N-done)
				for i := 0; i < batch; i++ {
					h.rt.Deliver(h.rt.Now(), h.nUE, h.nS, &sipmsg.Request{CallID: "c", Branch: "a" + itoa(uint32(done+i)), CSeq: 1,
						AOR: h.pop.IMPU.Format(uint32(i)), Expires: 600000, Auth: &sipmsg.Credentials{Username: h.pop.IMPI.Format(uint32(i)), Realm: "ims.example.org"}})
				}
				h.rt.Run(h.rt.Now() + time.Second)
				b.StopTimer()
				answers := make([]*sipmsg.Request, 0, batch)
				for i, g := range h.ue.got {
					a := h.answerChallenge(uint32(i), g.resp.Challenge, false)
					a.Branch = "b" + itoa(uint32(done+i))
					answers = append(answers, a)
				}
				h.ue.got = h.ue.got[:0]
				b.StartTimer()
				for _, a := range answers {
					h.rt.Deliver(h.rt.Now(), h.nUE, h.nS, a)
				}
				h.rt.Run(h.rt.Now() + time.Second)
				if len(h.ue.got) != batch || h.ue.got[batch-1].resp.Code != 200 {
					b.Fatalf("%d answers, last %+v", len(h.ue.got), h.ue.got)
				}
				h.ue.got = h.ue.got[:0]
			}
		})
	}
}
