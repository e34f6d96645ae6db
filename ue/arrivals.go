package ue

import (
	"time"

	"github.com/regstorm/regstorm/sim"
)

// Arrivals: starting UEs at the pacer's times, or as a closed loop.

// StartKey is the timer the runtime arms at time 0 to start the arrivals.
var StartKey = sim.TimerKey{Kind: TimerArrival}

// First returns the time of the first arrival; the runtime arms StartKey
// at it (sim.Runtime.ArmTimer) to bootstrap the fleet.
func (f *Fleet) First() (time.Duration, bool) {
	if len(f.ues) == 0 {
		return 0, false
	}
	return f.cfg.Arrivals.Next()
}

// arrive starts the next UE at its intended time (now) and arms the
// following arrival; in a closed loop it starts the first Concurrency UEs.
func (f *Fleet) arrive(env sim.Env) {
	if f.cfg.Steady {
		for i := range f.ues {
			u := &f.ues[i]
			u.callTag = env.Rand().Uint32()
			u.cseq = 2
			u.state = Registered
			u.proc = procRegister
			f.schedule(env, uint32(i), TimerReregister, time.Duration(env.Rand().Int64N(int64(f.cfg.SteadyInterval))))
		}
		f.next = uint32(len(f.ues))
		return
	}
	if f.cfg.Concurrency > 0 {
		for n := 0; n < f.cfg.Concurrency && f.next < uint32(len(f.ues)); n++ {
			f.start(env, f.next)
			f.next++
		}
		return
	}
	if f.next >= uint32(len(f.ues)) {
		return
	}
	f.start(env, f.next)
	f.next++
	if f.next >= uint32(len(f.ues)) {
		return
	}
	if at, ok := f.cfg.Arrivals.Next(); ok {
		env.SetTimer(at-env.Now(), StartKey)
	}
}

func (f *Fleet) start(env sim.Env, i uint32) {
	u := &f.ues[i]
	u.callTag = env.Rand().Uint32()
	f.Stats.Started++
	f.begin(env, i, procRegister)
}

// closedLoopNext starts the next UE when a procedure ends in a closed loop.
func (f *Fleet) closedLoopNext(env sim.Env) {
	if f.cfg.Concurrency > 0 && f.next < uint32(len(f.ues)) {
		f.start(env, f.next)
		f.next++
	}
}
