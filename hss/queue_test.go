package hss

import (
	"math"
	"testing"
	"time"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/sim"
)

// poisson sends n SARs with exponential gaps of the given mean.
type poisson struct {
	hss  sim.NodeID
	gap  time.Duration
	left int
	req  *cx.SAR
}

func (p *poisson) Handle(env sim.Env, ev sim.Event) {
	if ev.Kind != sim.EvTimer || p.left == 0 {
		return
	}
	p.left--
	env.Send(p.hss, p.req)
	env.SetTimer(time.Duration(env.Rand().ExpFloat64()*float64(p.gap)), sim.TimerKey{})
}

// erlangC is the probability of waiting in M/M/c with offered load a = λ/μ.
func erlangC(c int, a float64) float64 {
	sum, term := 0.0, 1.0
	for k := 0; k < c; k++ {
		if k > 0 {
			term *= a / float64(k)
		}
		sum += term
	}
	last := term * a / float64(c) // a^c / c!
	rho := a / float64(c)
	top := last / (1 - rho)
	return top / (sum + top)
}

// Queueing is right: with c workers, exponential service and Poisson
// arrivals, the HSS's measured mean wait agrees with M/M/c (Erlang C):
// Wq = C(c, a) / (cμ - λ), within 10 % at 50 % and 90 % utilisation.
func TestQueueingMatchesMMc(t *testing.T) {
	impi, _ := subscriber.ParseTemplate("user{n}@r")
	impu, _ := subscriber.ParseTemplate("sip:user{n}@r")
	const c = 4
	const svc = time.Millisecond
	for _, rho := range []float64{0.5, 0.9} {
		h, err := New(Config{Population: subscriber.Population{Count: 1, IMPI: impi, IMPU: impu},
			MARLatency: sim.Constant{}, SARLatency: sim.Constant{}, Workers: c, Service: sim.Exponential{Mean: svc}, QueueCap: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		rt := sim.New(11)
		lambda := rho * c / svc.Seconds() // per second
		src := &poisson{gap: time.Duration(float64(time.Second) / lambda), left: 400000,
			req: &cx.SAR{PublicIdentity: "sip:user0@r", AssignmentType: cx.ReRegistration, UserDataAvailable: 1}}
		n := rt.AddNode("src", src)
		src.hss = rt.AddNode("hss", h)
		rt.ArmTimer(n, 0, sim.TimerKey{})
		rt.Run(0)
		st := h.Pool()
		got := st.Wait.Seconds() / float64(st.Started)
		a := lambda * svc.Seconds()
		want := erlangC(c, a) / (c/svc.Seconds() - lambda)
		if math.Abs(got-want) > 0.1*want {
			t.Errorf("ρ=%.1f: mean wait %.4f ms, M/M/%d predicts %.4f ms", rho, got*1e3, c, want*1e3)
		} else {
			t.Logf("ρ=%.1f: mean wait %.4f ms, M/M/%d predicts %.4f ms", rho, got*1e3, c, want*1e3)
		}
	}
}
