package hss

import (
	"strings"
	"time"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/internal/fielderr"
	"github.com/regstorm/regstorm/sim"
)

// Fault kinds: a phase of HSS misbehaviour from At for For.
const (
	FaultLatency  = "latency"   // injected latency multiplied by Multiplier
	FaultOutage   = "outage"    // requests get no answer at all
	FaultErrors   = "errors"    // with probability Rate, answer with one of Codes
	FaultDrop     = "drop"      // answers lost with probability Probability
	FaultPeerDown = "peer_down" // the Diameter connection closes: peers see it, in-flight answers are lost
)

// Fault is one phase; a profile gives it as an entry of hss.faults, with
// the fields' profile tags as keys.
type Fault struct {
	At          time.Duration `profile:"at"`
	For         time.Duration `profile:"for"`
	Kind        string        `profile:"kind"`
	Multiplier  float64       `profile:"multiplier"`
	Rate        float64       `profile:"rate"`
	Codes       []uint32      `profile:"codes"` // Result-Code (3xxx, 5012) or Experimental-Result-Code (5001..5011)
	Probability float64       `profile:"probability"`
}

// MaxLatencyMultiplier bounds a latency fault's multiplier (stacked
// phases saturate; a larger one is a mistake).
const MaxLatencyMultiplier = 1e6

// FaultKinds are the kinds a fault may have, in the order messages list them.
var FaultKinds = []string{FaultLatency, FaultOutage, FaultErrors, FaultDrop, FaultPeerDown}

// Validate checks a fault phase. Each problem is a *fielderr.Error keyed
// by the setting's name in a profile's fault entry (at, for, kind,
// multiplier, rate, codes, probability).
func (f *Fault) Validate() error {
	var l fielderr.List
	if f.At < 0 || f.For <= 0 {
		l.Addf("for", "a fault needs at >= 0 and for > 0")
	}
	switch f.Kind {
	case FaultLatency:
		if !(f.Multiplier > 0 && f.Multiplier <= MaxLatencyMultiplier) {
			l.Addf("multiplier", "a latency fault needs 0 < multiplier <= %g, got %g", float64(MaxLatencyMultiplier), f.Multiplier)
		}
	case FaultErrors:
		if !(f.Rate > 0 && f.Rate <= 1) || len(f.Codes) == 0 {
			l.Addf("rate", "an errors fault needs rate in (0, 1] and codes (e.g. [5012, 3004, 5001])")
		}
		for _, c := range f.Codes {
			if c < 3000 || c > 5999 {
				l.Addf("codes", "%d is not a Diameter 3xxx-5xxx code", c)
			}
		}
	case FaultDrop:
		if !(f.Probability > 0 && f.Probability <= 1) {
			l.Addf("probability", "a drop fault needs probability in (0, 1]")
		}
	case FaultOutage, FaultPeerDown:
	default:
		last := len(FaultKinds) - 1
		l.Addf("kind", "unknown fault kind %q (want %s or %s)", f.Kind, strings.Join(FaultKinds[:last], ", "), FaultKinds[last])
	}
	return l.Err()
}

func (f *Fault) active(now time.Duration) bool { return now >= f.At && now < f.At+f.For }

// StartKey is armed by the runtime at time 0 when faults are configured,
// so the HSS can schedule its peer_down transitions.
var StartKey = sim.TimerKey{Kind: TimerStart}

// FaultStats counts what the faults did.
type FaultStats struct {
	OutageDrops, Errors, AnswerDrops, PeerDownLosses uint64
}

func (h *HSS) start(env sim.Env) {
	for i, f := range h.cfg.Faults {
		if f.Kind == FaultPeerDown {
			env.SetTimer(f.At-env.Now(), sim.TimerKey{Kind: TimerFault, Ref: uint64(2 * i)})
			env.SetTimer(f.At+f.For-env.Now(), sim.TimerKey{Kind: TimerFault, Ref: uint64(2*i + 1)})
		}
	}
}

// faultEdge runs at a peer_down phase's start (even ref) or end (odd).
func (h *HSS) faultEdge(env sim.Env, ref uint64) {
	up := ref%2 == 1
	if !up {
		h.down++
		if h.down > 1 {
			return
		}
		// The connection is gone: answers waiting for their latency are lost.
		for _, k := range sortedKeys(h.pending) {
			delete(h.pending, k)
			h.Stats.Faults.PeerDownLosses++
		}
	} else {
		h.down--
		if h.down > 0 {
			return
		}
	}
	for _, p := range h.cfg.Peers {
		env.Send(p, &cx.PeerEvent{Up: up})
	}
	if !up {
		// Live: every connection closes (sim/live DiameterServer); the
		// peers reconnect on their own (cdp's Tc, RFC 6733 §2.1).
		for _, p := range h.connected {
			env.Send(p, &cx.PeerEvent{Up: false})
		}
		h.connected = h.connected[:0]
	}
}

// notePeer records a requester that is not a configured peer; while a
// peer_down phase is in force its connection is closed at once, as a
// down HSS accepts no Diameter traffic.
func (h *HSS) notePeer(env sim.Env, from sim.NodeID) {
	for _, p := range h.cfg.Peers {
		if p == from {
			return
		}
	}
	if h.down > 0 {
		env.Send(from, &cx.PeerEvent{Up: false})
		return
	}
	for _, p := range h.connected {
		if p == from {
			return
		}
	}
	h.connected = append(h.connected, from)
}

// requestFault decides what an arriving request suffers: dropped (outage
// or connection down), or nothing.
func (h *HSS) requestDropped(env sim.Env) bool {
	if h.down > 0 {
		h.Stats.Faults.PeerDownLosses++
		return true
	}
	for i := range h.cfg.Faults {
		if f := &h.cfg.Faults[i]; f.Kind == FaultOutage && f.active(env.Now()) {
			h.Stats.Faults.OutageDrops++
			return true
		}
	}
	return false
}

// answerFaults applies the errors, drop and latency phases to an answer.
// It returns the latency multiplier, whether the answer is lost, and an
// error code to answer with instead (0 for none).
func (h *HSS) answerFaults(env sim.Env) (mult float64, lost bool, code uint32) {
	mult = 1
	now := env.Now()
	for i := range h.cfg.Faults {
		f := &h.cfg.Faults[i]
		if !f.active(now) {
			continue
		}
		switch f.Kind {
		case FaultLatency:
			mult *= f.Multiplier
		case FaultDrop:
			if env.Rand().Float64() < f.Probability {
				lost = true
			}
		case FaultErrors:
			if code == 0 && env.Rand().Float64() < f.Rate {
				code = f.Codes[env.Rand().IntN(len(f.Codes))]
			}
		}
	}
	return mult, lost, code
}

func sortedKeys(m map[uint64]pending) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ { // insertion sort: the map is small when it matters
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// errorAnswer turns an answer into an error answer with code: base
// Result-Code for 3xxx and 5012 (RFC 6733 §7.1), Experimental-Result for
// the Cx codes 5001-5011 (TS 29.229 §6.2).
func errorAnswer(msg sim.Message, code uint32) {
	rc, exp := code, uint32(0)
	if code >= 5001 && code <= 5011 {
		rc, exp = 0, code
	}
	switch m := msg.(type) {
	case *cx.MAA:
		m.ResultCode, m.ExperimentalResult, m.Items = rc, exp, nil
	case *cx.SAA:
		m.ResultCode, m.ExperimentalResult, m.UserData = rc, exp, nil
	}
}
