package ue

import (
	"time"

	"github.com/regstorm/regstorm/internal/fielderr"
	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim"
)

// Arrivals yields the intended start times of registrations in
// non-decreasing order; UE i starts at the i-th time.
type Arrivals interface {
	Next() (at time.Duration, ok bool)
}

// Config parameterises the fleet.
type Config struct {
	Population subscriber.Population
	SCSCF      sim.NodeID
	Arrivals   Arrivals
	// ThinkTime is the delay between receiving a 401 and sending the
	// answering REGISTER.
	ThinkTime sim.Dist
	// TimerF is the non-INVITE transaction timeout, 64·T1 (RFC 3261 §17.1.2.2).
	TimerF time.Duration
	// UDP enables Timer E retransmissions, starting at T1 and doubling up
	// to T2 (RFC 3261 §17.1.2.2); over TCP nothing is retransmitted.
	UDP    bool
	T1, T2 time.Duration
	// Expires requested in REGISTER (TS 24.229 §5.1.1.2.1: 600000).
	Expires   int32
	Collector *results.Collector

	// Reregister refreshes a registration before it expires (TS 24.229
	// §5.1.1.4): 600 s before expiry when the granted expiry exceeds
	// 1200 s, otherwise at half of it.
	Reregister bool
	// Retry after a failed registration with the backoff of RFC 5626 §4.5:
	// wait min(RetryMax, RetryBase·2^failures), drawn in [50 %, 100 %] of
	// it, or the Retry-After of the response. RetryAttempts > 0 caps the
	// attempts of one registration.
	Retry         bool
	RetryBase     time.Duration
	RetryMax      time.Duration
	RetryAttempts int
	// DeregisterAt, when > 0, de-registers every registered UE (Expires: 0)
	// at that virtual time plus a uniform draw in [0, DeregisterSpread).
	DeregisterAt     time.Duration
	DeregisterSpread time.Duration
	// Algorithm is the digest the UE asks for in its REGISTER: AKAv1-MD5
	// (RFC 3310, default), AKAv2-MD5 (RFC 4169) or MD5 (RFC 2617, with the
	// password aka.DigestPassword).
	Algorithm string
	// Concurrency > 0 makes the arrival process a closed loop: that many
	// registrations are in progress at any time; a UE starts when another
	// finishes (the Arrivals are then unused).
	Concurrency int
	// Steady starts every UE registered, its next re-registration drawn
	// uniformly within SteadyInterval (a population in its busy hour).
	Steady         bool
	SteadyInterval time.Duration
}

// Digest algorithms a UE may ask for ("" is AKAv1-MD5, the S-CSCF's default).
const (
	AKAv1MD5 = "AKAv1-MD5"
	AKAv2MD5 = "AKAv2-MD5"
	MD5      = "MD5"
)

// MaxRetransmits bounds Timer E's retransmissions of one request (the
// per-UE counter is a byte).
const MaxRetransmits = 254

// Defaults returns RFC 3261's timers (T1 500 ms, T2 4 s, Timer F 64·T1),
// TS 24.229's requested expiry (600000 s), a 10 ms think time, UDP,
// AKAv1-MD5 and RFC 5626 §4.5's backoff (base 30 s, max 1800 s, retry off).
func Defaults() Config {
	return Config{
		ThinkTime: sim.Constant{D: 10 * time.Millisecond},
		TimerF:    32 * time.Second,
		UDP:       true,
		T1:        500 * time.Millisecond,
		T2:        4 * time.Second,
		Expires:   600000,
		RetryBase: 30 * time.Second,
		RetryMax:  1800 * time.Second,
		Algorithm: AKAv1MD5,
	}
}

// Validate checks the configuration. Each problem of a setting is a
// *fielderr.Error keyed by its name in a profile's ue section.
func (c *Config) Validate() error {
	var l fielderr.List
	if c.Arrivals == nil || c.ThinkTime == nil {
		l.Addf("", "ue: arrivals and think time are required")
	}
	if c.Steady && (c.SteadyInterval <= 0 || !c.Reregister) {
		l.Addf("", "ue: a steady population needs re-registration and an interval")
	}
	if c.SCSCF == sim.NoNode {
		l.Addf("", "ue: S-CSCF node not set")
	}
	if c.Population.Count == 0 {
		l.Addf("", "ue: empty population")
	}
	l.Add("", c.ValidateSettings())
	return l.Err()
}

// ValidateSettings checks the settings a profile gives (not the wiring:
// population, peer, arrivals, collector).
func (c *Config) ValidateSettings() error {
	var l fielderr.List
	if c.TimerF <= 0 {
		l.Addf("timer_f", "must be positive")
	}
	if c.UDP && (c.T1 <= 0 || c.T2 < c.T1) {
		l.Addf("t1", "udp needs 0 < t1 <= t2")
	} else if c.UDP && c.TimerF > 0 && sipmsg.MaxRetransmits(c.T1, c.T2, c.TimerF) > MaxRetransmits {
		l.Addf("timer_f", "with t1 %v and t2 %v, timer_f %v means more than %d retransmissions", c.T1, c.T2, c.TimerF, MaxRetransmits)
	}
	switch c.Algorithm {
	case "", AKAv1MD5, AKAv2MD5, MD5:
	default:
		l.Addf("algorithm", "want %s, %s or %s, got %q", AKAv1MD5, AKAv2MD5, MD5, c.Algorithm)
	}
	if c.Retry && (c.RetryBase <= 0 || c.RetryMax < c.RetryBase || c.RetryAttempts < 0) {
		l.Addf("retry", "retry needs 0 < base <= max and max_attempts >= 0")
	}
	if c.DeregisterAt < 0 || c.DeregisterSpread < 0 {
		l.Addf("deregister", "at and spread must be >= 0")
	}
	if c.Expires < 0 {
		l.Addf("expires", "must be in [0, 2^31)")
	}
	if c.Concurrency < 0 {
		l.Addf("concurrency", "must be >= 0")
	}
	return l.Err()
}
