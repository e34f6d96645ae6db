package scenario

import (
	"fmt"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/internal/sipwire"
	"github.com/regstorm/regstorm/sim"
)

// wire is the fidelity: wire mode: every SIP and Cx message a node receives
// is rendered to bytes (sipgo, go-diameter) and parsed back before the core
// sees it, so each run proves the encoding of every message it exchanged.
type wire struct {
	inner sim.Handler
	stats *WireStats
}

// WireStats counts the round trips of a variant.
type WireStats struct {
	Messages, Bytes, Errors uint64
	FirstError              string
}

func (w *wire) Handle(env sim.Env, ev sim.Event) {
	if ev.Kind == sim.EvMessage {
		m, n, err := roundTrip(ev.Msg)
		if err != nil {
			w.stats.Errors++
			if w.stats.FirstError == "" {
				w.stats.FirstError = err.Error()
			}
			return // a message that cannot be encoded is lost, and counted
		}
		w.stats.Messages++
		w.stats.Bytes += uint64(n)
		ev.Msg = m
	}
	w.inner.Handle(env, ev)
}

func roundTrip(m sim.Message) (sim.Message, int, error) {
	switch m.(type) {
	case *sipmsg.Request, *sipmsg.Response:
		b, err := sipwire.Marshal(m, sipwire.DefaultEndpoint)
		if err != nil {
			return nil, 0, err
		}
		out, err := sipwire.Unmarshal(b)
		return out, len(b), err
	case *cx.PeerEvent:
		return m, 0, nil // transport state, not bytes
	}
	b, err := cx.Marshal(m)
	if err != nil {
		return nil, 0, fmt.Errorf("encoding %T: %w", m, err)
	}
	out, err := cx.Unmarshal(b)
	return out, len(b), err
}
