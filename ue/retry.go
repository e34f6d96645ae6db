package ue

import (
	"time"

	"github.com/regstorm/regstorm/sim"
)

// After a procedure: re-registration before expiry (TS 24.229 §5.1.1.4),
// retry with backoff (RFC 5626 §4.5), de-registration.

// schedule arms the UE's next procedure after d.
func (f *Fleet) schedule(env sim.Env, i uint32, kind uint32, d time.Duration) {
	u := &f.ues[i]
	if !u.scheduled {
		u.scheduled = true
		f.scheduled++
	}
	u.timer = env.SetTimer(d, sim.TimerKey{Kind: kind, Ref: uint64(i)})
}

// wake runs a scheduled re-registration, retry or de-registration.
func (f *Fleet) wake(env sim.Env, i uint32, kind uint32, id sim.TimerID) {
	u := &f.ues[i]
	if u.timer != id || !u.scheduled {
		return
	}
	u.scheduled = false
	f.scheduled--
	u.timer = 0
	switch kind {
	case TimerReregister:
		f.Stats.Reregistrations++
		f.begin(env, i, procReregister)
	case TimerRetry:
		f.Stats.Retries++
		f.begin(env, i, u.proc)
	case TimerDeregister:
		f.Stats.Deregistrations++
		f.begin(env, i, procDeregister)
	}
}

// registered follows a 2xx: a de-registration ends the UE's life;
// otherwise the refresh (or the configured de-registration) is scheduled.
func (f *Fleet) registered(env sim.Env, i uint32, granted int64) {
	u := &f.ues[i]
	u.failures = 0
	if u.proc == procDeregister {
		u.state = Deregistered
		f.closedLoopNext(env)
		return
	}
	next := time.Duration(-1)
	if f.cfg.Reregister && granted > 0 {
		next = reregisterAfter(granted)
	}
	if f.cfg.DeregisterAt > 0 {
		at := f.cfg.DeregisterAt
		if f.cfg.DeregisterSpread > 0 {
			at += time.Duration(env.Rand().Int64N(int64(f.cfg.DeregisterSpread)))
		}
		if at-env.Now() >= 0 && (next < 0 || at-env.Now() <= next) {
			f.schedule(env, i, TimerDeregister, at-env.Now())
			f.closedLoopNext(env)
			return
		}
	}
	if next >= 0 {
		f.schedule(env, i, TimerReregister, next)
	}
	f.closedLoopNext(env)
}

// failed schedules a retry with the RFC 5626 §4.5 backoff, or a 503/500's
// Retry-After when it has one.
func (f *Fleet) failed(env sim.Env, i uint32, retryAfter int32) {
	u := &f.ues[i]
	defer f.closedLoopNext(env)
	if !f.cfg.Retry {
		return
	}
	if u.failures < 255 {
		u.failures++
	}
	if f.cfg.RetryAttempts > 0 && int(u.failures) >= f.cfg.RetryAttempts {
		f.Stats.GaveUp++
		return
	}
	var wait time.Duration
	if retryAfter > 0 {
		wait = time.Duration(retryAfter) * time.Second
	} else {
		w := f.cfg.RetryBase << min(u.failures, 30)
		if w <= 0 || w > f.cfg.RetryMax {
			w = f.cfg.RetryMax
		}
		wait = w/2 + time.Duration(env.Rand().Int64N(int64(w/2)+1))
	}
	if f.cfg.Collector != nil {
		f.cfg.Collector.Retry(u.code)
	}
	f.schedule(env, i, TimerRetry, wait)
}

// ReregisterInterval is when a UE refreshes a registration granted for
// expires seconds (TS 24.229 §5.1.1.4.1: 600 s before expiry when the
// expiry exceeds 1200 s, otherwise at half of it).
func ReregisterInterval(expires int32) time.Duration { return reregisterAfter(int64(expires)) }

// reregisterAfter is ReregisterInterval for any granted delta-seconds (at
// most 2^32-1, RFC 3261 §20.19: no overflow of time.Duration).
func reregisterAfter(expires int64) time.Duration {
	e := time.Duration(expires) * time.Second
	if e > 1200*time.Second {
		return e - 600*time.Second
	}
	return e / 2
}
