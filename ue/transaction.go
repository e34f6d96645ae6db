package ue

import (
	"strconv"
	"strings"
	"time"

	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim"
)

// The client transaction of a REGISTER: sending, Call-ID routing, Timer E
// retransmissions over UDP and Timer F (RFC 3261 §17.1.2).

func (f *Fleet) send(env sim.Env, i uint32, cr *sipmsg.Credentials) { f.sendAfter(env, i, nil, cr) }

// sendAfter sends a REGISTER following the response prev (nil for none).
// When a simulated S-CSCF sent prev (it carries Sub), its To and Call-ID
// are the very strings the UE sent before (its AOR and its Call-ID, which
// stay the same): the UE reuses them, so no new string is made and the
// S-CSCF's comparison with its record is a pointer check. Live responses
// are not adopted.
func (f *Fleet) sendAfter(env sim.Env, i uint32, prev *sipmsg.Response, cr *sipmsg.Credentials) {
	var aor, callID string
	if prev != nil && prev.Sub != 0 {
		aor, callID = prev.To, prev.CallID
	} else {
		aor, callID = f.cfg.Population.IMPUOf(i), f.callID(i)
	}
	u := &f.ues[i]
	u.cseq++
	r := env.Rand()
	// Each string is built in its own statement: conversions inside one
	// composite literal may be evaluated after every append to a shared
	// buffer has run.
	var buf [48]byte
	branch := string(strconv.AppendUint(append(buf[:0], "z9hG4bK"...), r.Uint64(), 36))
	fromTag := strconv.FormatUint(uint64(r.Uint32()), 36)
	contact := string(append(strconv.AppendUint(append(buf[:0], "sip:ue"...), uint64(i), 10), "@127.0.0.1"...))
	req := &sipmsg.Request{
		CallID:     callID,
		Branch:     branch,
		FromTag:    fromTag,
		CSeq:       u.cseq,
		RequestURI: f.uri,
		AOR:        aor,
		Contact:    contact,
		Expires:    int64(f.cfg.Expires),
		Auth:       cr,
		Sub:        i + 1,
	}
	if u.proc == procDeregister {
		req.Expires = 0
	}
	env.Send(f.cfg.SCSCF, req)
	u.req = req
	u.retx = 0
	f.armTransaction(env, u, i)
}

// eInterval is Timer E after n retransmissions: min(2^n·T1, T2) (RFC 3261
// §17.1.2.2).
func (f *Fleet) eInterval(n uint8) time.Duration {
	return sipmsg.TimerE(f.cfg.T1, f.cfg.T2, int(n))
}

// armTransaction arms the client transaction's one timer: over UDP Timer
// E's next retransmission, or Timer F when it comes first (Timer F wins a
// tie, as it was armed first); over TCP Timer F alone (RFC 3261
// §17.1.2.2). The time since the request was first sent follows from the
// retransmission count, so Timer F needs no timer of its own while E runs.
func (f *Fleet) armTransaction(env sim.Env, u *ue, i uint32) {
	var elapsed time.Duration
	for n := uint8(0); n < u.retx; n++ {
		elapsed += f.eInterval(n)
	}
	if f.cfg.UDP {
		if next := f.eInterval(u.retx); elapsed+next < f.cfg.TimerF {
			u.timer = env.SetTimer(next, sim.TimerKey{Kind: TimerE, Ref: uint64(i)})
			return
		}
	}
	u.timer = env.SetTimer(f.cfg.TimerF-elapsed, sim.TimerKey{Kind: TimerF, Ref: uint64(i)})
}

// retransmit is Timer E: send the same request again (same branch).
func (f *Fleet) retransmit(env sim.Env, i uint32, id sim.TimerID) {
	u := &f.ues[i]
	if u.timer != id || (u.state != Registering && u.state != Answering) {
		return
	}
	f.Stats.Retransmits++
	u.retx++
	env.Send(f.cfg.SCSCF, u.req)
	f.armTransaction(env, u, i)
}

// endTransaction stops the client transaction's timer.
func (f *Fleet) endTransaction(env sim.Env, u *ue) {
	env.CancelTimer(u.timer)
	u.timer, u.req = 0, nil
}

// callID is "<index>-<tag>@regstorm": the UE keeps one Call-ID for all its
// registrations (RFC 3261 §10.2), and the index lets the fleet route a
// response to its UE without a lookup table.
func (f *Fleet) callID(i uint32) string {
	var buf [40]byte
	b := append(strconv.AppendUint(buf[:0], uint64(i), 10), '-')
	return string(append(strconv.AppendUint(b, uint64(f.ues[i].callTag), 16), "@regstorm"...))
}

func parseCallID(id string) (uint32, bool) {
	dash := strings.IndexByte(id, '-')
	if dash <= 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(id[:dash], 10, 32)
	return uint32(n), err == nil
}

// timeout is Timer F: the transaction failed; RFC 3261 §8.1.3.1 treats it
// as a 408.
func (f *Fleet) timeout(env sim.Env, i uint32, id sim.TimerID) {
	u := &f.ues[i]
	if u.timer != id || (u.state != Registering && u.state != Answering) {
		return
	}
	f.Stats.TimerFExpiry++
	f.endTransaction(env, u)
	o := results.Outcome{Code: 408, TimerF: true, Reason: "Timer F expired at the UE"}
	if c := f.cfg.Collector; c != nil && (u.state == Registering || u.resync) {
		c.ChallengeDone(env.Now(), o, false, env.Now()-u.intended)
	}
	u.state = Failed
	f.done(env, i, o, env.Now()-u.intended)
	f.failed(env, i, 0)
}
