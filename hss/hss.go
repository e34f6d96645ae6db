package hss

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"

	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/internal/aka"
	"github.com/regstorm/regstorm/internal/fielderr"
	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim"
)

// Timer kinds of the HSS.
const (
	// TimerAnswer sends the pending answer Ref after its injected latency.
	TimerAnswer uint32 = iota + 1
	// TimerWorker ends a worker's service (Ref = pool slot).
	TimerWorker
	// TimerStart schedules the fault phases.
	TimerStart
	// TimerFault is a peer_down phase edge (Ref = 2·index, +1 for its end).
	TimerFault
)

// Overflow policies of a full request queue.
const (
	OverflowBusy = "busy" // answer 3004 DIAMETER_TOO_BUSY at once
	OverflowDrop = "drop" // no answer
)

// SQN layout of TS 33.102 Annex C.3.2: SQN = SEQ ‖ IND with a 5-bit IND.
const (
	indBits = 5
	// seqStep advances SEQ by one, keeping IND.
	seqStep = 1 << indBits
)

// Config parameterises the HSS. A field tagged profile:"key" is a setting
// a profile's hss section gives under that key; profiles copies it by the
// tag, Validate names it by the key.
type Config struct {
	OriginHost  string
	OriginRealm string
	Population  subscriber.Population
	// MARLatency and SARLatency delay each answer after its service.
	MARLatency sim.Dist `profile:"mar_latency"`
	SARLatency sim.Dist `profile:"sar_latency"`
	// Workers serve requests one at a time for a Service time each, from a
	// FIFO queue of QueueCap; Workers == 0 means unlimited capacity.
	Workers  int      `profile:"workers"`
	Service  sim.Dist `profile:"service"`
	QueueCap int      `profile:"queue"`
	Overflow string   `profile:"overflow"` // OverflowBusy or OverflowDrop
	// Collector receives the HSS's latency measurements; may be nil.
	Collector *results.Collector
	// Faults are phases of misbehaviour over time (a profile's
	// hss.faults, each entry's keys the Fault fields' profile tags).
	Faults []Fault
	// Peers are told when a peer_down phase closes and reopens the
	// connection.
	Peers []sim.NodeID
}

// Defaults returns the HSS's default settings: lognormal answer latencies
// (MAR p50 15 ms / p99 80 ms, SAR 10 ms / 60 ms), unlimited workers with
// no service time, a queue of 1000 and DIAMETER_TOO_BUSY on overflow.
func Defaults() Config {
	mar, _ := sim.NewLogNormal(15*time.Millisecond, 80*time.Millisecond)
	sar, _ := sim.NewLogNormal(10*time.Millisecond, 60*time.Millisecond)
	return Config{MARLatency: mar, SARLatency: sar, Service: sim.Constant{}, QueueCap: 1000, Overflow: OverflowBusy}
}

// Validate checks the configuration. Each problem of a setting is a
// *fielderr.Error keyed by its name in a profile's hss section
// (faults.<i>.<key> for a fault phase's).
func (c *Config) Validate() error {
	var l fielderr.List
	if c.MARLatency == nil {
		l.Addf("mar_latency", "hss: a MAR latency distribution is required")
	}
	if c.SARLatency == nil {
		l.Addf("sar_latency", "hss: a SAR latency distribution is required")
	}
	if c.Population.Count == 0 {
		l.Addf("", "hss: empty subscriber population")
	}
	l.Add("", c.ValidateSettings())
	return l.Err()
}

// ValidateSettings checks the settings a profile gives (not the
// population, the distributions' presence or the peers).
func (c *Config) ValidateSettings() error {
	var l fielderr.List
	if c.Workers < 0 || c.QueueCap < 0 {
		l.Addf("workers", "workers and queue must be >= 0")
	}
	if c.Workers > 0 && c.Service == nil {
		l.Addf("service", "workers need a service time")
	}
	for i := range c.Faults {
		l.Add("faults."+strconv.Itoa(i), c.Faults[i].Validate())
	}
	if c.Overflow != "" && c.Overflow != OverflowBusy && c.Overflow != OverflowDrop {
		l.Addf("overflow", "want %s (answer 3004) or %s, got %q", OverflowBusy, OverflowDrop, c.Overflow)
	}
	return l.Err()
}

type pending struct {
	to      sim.NodeID
	msg     sim.Message
	arrived time.Duration
	mar     bool
}

// Stats are the HSS's own counters.
type Stats struct {
	MAR, SAR       uint64
	UAR, LIR       uint64
	Busy, Dropped  uint64 // queue overflows answered 3004 / dropped
	Vectors        uint64
	Resyncs        uint64
	UnknownUser    uint64
	ResyncFailures uint64
	Faults         FaultStats
}

// HSS is the core. It implements sim.Handler.
type HSS struct {
	cfg     Config
	sqn     []uint64 // last SQN issued per subscriber; 0 = none yet
	pending map[uint64]pending
	next    uint64
	pool    sim.Pool[request]
	down    int // peer_down phases in force
	// connected are requesters outside cfg.Peers (live: one per Diameter
	// connection) in order of first request, so a peer_down phase closes
	// them too; tracked only when a peer_down fault is configured.
	connected   []sim.NodeID
	hasPeerDown bool
	reg         []regState        // per subscriber: registration state and assigned S-CSCF
	names       []string          // interned S-CSCF names; 0 = none
	nameIdx     map[string]uint16 // name -> index in names
	// fixedRAND replaces the drawn RAND (conformance tests with 3GPP sets).
	fixedRAND *[aka.RandLen]byte
	Stats     Stats
}

// request is a Cx request waiting for or held by a worker.
type request struct {
	from    sim.NodeID
	msg     sim.Message
	arrived time.Duration
}

// New returns an HSS for the population.
func New(cfg Config) (*HSS, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &HSS{cfg: cfg, sqn: make([]uint64, cfg.Population.Count), pending: map[uint64]pending{},
		reg: make([]regState, cfg.Population.Count), names: []string{""}, nameIdx: map[string]uint16{"": 0}}
	for i := range h.sqn {
		h.sqn[i] = cfg.Population.InitialSQN(uint32(i))
	}
	for _, f := range cfg.Faults {
		h.hasPeerDown = h.hasPeerDown || f.Kind == FaultPeerDown
	}
	h.pool = sim.Pool[request]{Kind: TimerWorker, Servers: cfg.Workers, QueueCap: cfg.QueueCap, Service: cfg.Service}
	if c := cfg.Collector; c != nil {
		h.pool.OnStart = func(env sim.Env, r *request) { c.Record(c.HSSQueue, env.Now()-r.arrived) }
	}
	return h, nil
}

// Pool returns the worker pool's counters (queueing delay, drops).
func (h *HSS) Pool() sim.PoolStats { return h.pool.Stats }

// Idle reports whether no request is queued, in service or awaiting its
// injected latency.
func (h *HSS) Idle() bool { return len(h.pending) == 0 && h.pool.Busy() == 0 && h.pool.Queued() == 0 }

// Queued is the number of requests waiting for a worker.
func (h *HSS) Queued() int { return h.pool.Queued() }

// Handle implements sim.Handler.
func (h *HSS) Handle(env sim.Env, ev sim.Event) {
	switch ev.Kind {
	case sim.EvMessage:
		if h.hasPeerDown {
			h.notePeer(env, ev.From)
		}
		if h.requestDropped(env) {
			return
		}
		r := request{ev.From, ev.Msg, env.Now()}
		j, now, ok := h.pool.Submit(env, r)
		if c := h.cfg.Collector; c != nil && h.pool.Queued() > 0 {
			c.HSSQueueDepth(env.Now(), h.pool.Queued())
		}
		switch {
		case !ok:
			h.overflow(env, r)
		case now:
			h.serve(env, j)
		}
	case sim.EvTimer:
		switch ev.Timer.Kind {
		case TimerStart:
			h.start(env)
		case TimerFault:
			h.faultEdge(env, ev.Timer.Ref)
		}
		if ev.Timer.Kind == TimerWorker {
			if j, ok := h.pool.Done(env, ev); ok {
				h.serve(env, j)
			}
		}
		if ev.Timer.Kind == TimerAnswer {
			p, ok := h.pending[ev.Timer.Ref]
			if ok {
				delete(h.pending, ev.Timer.Ref)
				if h.down > 0 {
					h.Stats.Faults.PeerDownLosses++
					return
				}
				env.Send(p.to, p.msg)
				if c := h.cfg.Collector; c != nil && p.mar {
					c.Record(c.HSSMAR, env.Now()-p.arrived)
				}
			}
		}
	}
}

// serve answers a request whose service ended.
func (h *HSS) serve(env sim.Env, r request) {
	switch m := r.msg.(type) {
	case *cx.MAR:
		h.Stats.MAR++
		h.answerAfter(env, r, h.mar(env, m), h.cfg.MARLatency, true)
	case *cx.SAR:
		h.Stats.SAR++
		h.answerAfter(env, r, h.sar(m), h.cfg.SARLatency, false)
	case *cx.UAR:
		h.Stats.UAR++
		h.answerAfter(env, r, h.uar(m), h.cfg.SARLatency, false)
	case *cx.LIR:
		h.Stats.LIR++
		h.answerAfter(env, r, h.lir(m), h.cfg.SARLatency, false)
	}
}

// overflow handles a request the full queue refused: 3004 TOO_BUSY (RFC
// 6733 §7.1.3) or silence.
func (h *HSS) overflow(env sim.Env, r request) {
	if h.cfg.Overflow == OverflowDrop {
		h.Stats.Dropped++
		return
	}
	h.Stats.Busy++
	switch m := r.msg.(type) {
	case *cx.MAR:
		env.Send(r.from, &cx.MAA{Header: h.answerHeader(&m.Header), ResultCode: cx.DiameterTooBusy, UserName: m.UserName, PublicIdentity: m.PublicIdentity})
	case *cx.SAR:
		env.Send(r.from, &cx.SAA{Header: h.answerHeader(&m.Header), ResultCode: cx.DiameterTooBusy, UserName: m.UserName})
	}
}

func (h *HSS) answerAfter(env sim.Env, r request, msg sim.Message, d sim.Dist, mar bool) {
	delay := d.Sample(env.Rand())
	if len(h.cfg.Faults) > 0 {
		mult, lost, code := h.answerFaults(env)
		if code != 0 {
			h.Stats.Faults.Errors++
			errorAnswer(msg, code)
		}
		if lost {
			h.Stats.Faults.AnswerDrops++
			return
		}
		// Stacked latency phases multiply: saturate instead of wrapping
		// past time.Duration's range.
		if f := float64(delay) * mult; f < float64(math.MaxInt64/2) {
			delay = time.Duration(f)
		} else {
			delay = math.MaxInt64 / 2
		}
	}
	if !h.hasPeerDown {
		// Nothing can stop the answer once it is made: it leaves after
		// its latency without a timer of its own.
		delay = max(delay, 0)
		env.SendAfter(delay, r.from, msg)
		if c := h.cfg.Collector; c != nil && mar {
			c.Record(c.HSSMAR, env.Now()+delay-r.arrived)
		}
		return
	}
	// A peer_down phase loses the answers still held when it starts.
	h.next++
	h.pending[h.next] = pending{to: r.from, msg: msg, arrived: r.arrived, mar: mar}
	env.SetTimer(delay, sim.TimerKey{Kind: TimerAnswer, Ref: h.next})
}

func (h *HSS) answerHeader(req *cx.Header) cx.Header {
	return cx.Header{SessionID: req.SessionID, HopByHop: req.HopByHop, EndToEnd: req.EndToEnd,
		OriginHost: h.cfg.OriginHost, OriginRealm: h.cfg.OriginRealm}
}

// mar answers a Multimedia-Auth-Request (TS 29.228 §6.3, TS 29.229 §6.1.7).
func (h *HSS) mar(env sim.Env, m *cx.MAR) *cx.MAA {
	a := &cx.MAA{Header: h.answerHeader(&m.Header), UserName: m.UserName, PublicIdentity: m.PublicIdentity}
	p := &h.cfg.Population
	idx, ok := p.LookupIMPI(m.UserName)
	if !ok {
		h.Stats.UnknownUser++
		a.ExperimentalResult = cx.ErrorUserUnknown
		return a
	}
	if !p.Matches(m.UserName, m.PublicIdentity) {
		a.ExperimentalResult = cx.ErrorIdentitiesDontMatch
		return a
	}
	scheme := cx.SchemeAKAv1
	switch m.Scheme {
	case "", cx.SchemeAKAv1, "AKAv1-MD5":
	case cx.SchemeAKAv2, "AKAv2-MD5":
		scheme = cx.SchemeAKAv2
	case cx.SchemeMD5, "MD5", "HTTP_DIGEST_MD5":
		// TS 29.229 §6.3.36: H(A1) instead of a vector; the password is
		// derived from the subscriber's keys (DigestPassword).
		keys := p.KeysOf(idx)
		impi := p.IMPIOf(idx)
		a.Items = []cx.AuthItem{{ItemNumber: 1, Scheme: cx.SchemeMD5, Digest: &cx.DigestAuth{Realm: p.Realm, QoP: "auth",
			Algorithm: "MD5", HA1: aka.HA1MD5(impi, p.Realm, []byte(DigestPassword(&keys)))}}}
		a.ResultCode = cx.DiameterSuccess
		return a
	default:
		a.ExperimentalResult = cx.ErrorAuthSchemeNotSupported
		return a
	}
	keys := p.KeysOf(idx)
	if len(m.Authorization) > 0 {
		// Resynchronisation (TS 33.102 §6.3.5): RAND‖AUTS.
		if len(m.Authorization) != aka.RandLen+aka.AUTSLen {
			a.ResultCode = cx.DiameterUnableToComp
			return a
		}
		sqnMS, err := aka.VerifyAUTS(&keys, m.Authorization[:aka.RandLen], m.Authorization[aka.RandLen:])
		if err != nil {
			h.Stats.ResyncFailures++
			a.ResultCode = cx.DiameterUnableToComp
			return a
		}
		h.Stats.Resyncs++
		// TS 33.102 §6.3.5: SQN_HE is reset to SQN_MS; the next vector
		// advances from there.
		h.sqn[idx] = sqnMS
	}
	n := max(1, min(m.NumAuthItems, 16))
	a.Items = make([]cx.AuthItem, 0, n)
	for i := uint32(0); i < n; i++ {
		h.sqn[idx] = nextSQN(h.sqn[idx])
		var rand [aka.RandLen]byte
		binary.BigEndian.PutUint64(rand[:8], env.Rand().Uint64())
		binary.BigEndian.PutUint64(rand[8:], env.Rand().Uint64())
		if h.fixedRAND != nil {
			rand = *h.fixedRAND
		}
		v, err := aka.GenerateVector(&keys, rand, h.sqn[idx], p.AMFOf(idx))
		if err != nil { // key sizes are fixed, so this cannot happen; answer as a real HSS would
			a.Items = nil
			a.ResultCode = cx.DiameterUnableToComp
			return a
		}
		h.Stats.Vectors++
		nonce := v.Nonce()
		a.Items = append(a.Items, cx.AuthItem{
			ItemNumber:    i + 1,
			Scheme:        scheme,
			Authenticate:  nonce[:],
			Authorization: v.XRES[:],
			CK:            v.CK[:],
			IK:            v.IK[:],
		})
	}
	a.ResultCode = cx.DiameterSuccess
	return a
}

// nextSQN is TS 33.102 Annex C.3.2 with a 5-bit IND: SEQ advances by one
// and IND by one modulo 32 for each new vector, so a USIM that keeps one
// SEQ per IND slot accepts vectors used out of order.
func nextSQN(sqn uint64) uint64 {
	seq := (sqn >> indBits) + 1
	ind := (sqn + 1) & (seqStep - 1)
	return (seq<<indBits | ind) & (1<<48 - 1)
}

// sar answers a Server-Assignment-Request (TS 29.228 §6.1.2).
func (h *HSS) sar(m *cx.SAR) *cx.SAA {
	a := &cx.SAA{Header: h.answerHeader(&m.Header), UserName: m.UserName}
	p := &h.cfg.Population
	idx, ok := p.LookupIMPU(m.PublicIdentity)
	if !ok {
		a.ExperimentalResult = cx.ErrorUserUnknown
		return a
	}
	if m.UserName != "" && !p.Matches(m.UserName, m.PublicIdentity) {
		a.ExperimentalResult = cx.ErrorIdentitiesDontMatch
		return a
	}
	a.ResultCode = cx.DiameterSuccess
	switch m.AssignmentType {
	case cx.Registration, cx.ReRegistration, cx.UnregisteredUser:
		st := registered
		if m.AssignmentType == cx.UnregisteredUser {
			st = unregistered
		}
		h.reg[idx] = regState{state: st, server: h.intern(m.ServerName)}
		if m.UserDataAvailable == 0 {
			a.UserData = UserData(p.IMPIOf(idx), m.PublicIdentity)
		}
	case cx.TimeoutDeregistration, cx.UserDeregistration, 8 /* ADMINISTRATIVE */ :
		h.reg[idx] = regState{}
	case cx.TimeoutDeregStoreServerName, cx.UserDeregStoreServerName:
		h.reg[idx].state = unregistered
	case cx.NoAssignment:
		if m.UserDataAvailable == 0 {
			a.UserData = UserData(p.IMPIOf(idx), m.PublicIdentity)
		}
	default:
		a.ResultCode, a.ExperimentalResult = 0, cx.ErrorInAssignmentType
	}
	return a
}

// UserData renders a minimal IMS subscription (TS 29.228 Annex E): the
// private identity and one service profile with the public identity.
func UserData(impi, impu string) []byte {
	const (
		head = `<?xml version="1.0" encoding="UTF-8"?><IMSSubscription><PrivateID>`
		mid  = `</PrivateID><ServiceProfile><PublicIdentity><Identity>`
		tail = `</Identity></PublicIdentity></ServiceProfile></IMSSubscription>`
	)
	b := make([]byte, 0, len(head)+len(impi)+len(mid)+len(impu)+len(tail))
	return append(append(append(append(append(b, head...), impi...), mid...), impu...), tail...)
}

// Registration states of a public identity (TS 29.228 §6.1.2, §6.2).
const (
	notRegistered uint8 = iota
	registered
	unregistered // unregistered, with an S-CSCF assigned (services for unregistered users)
)

// regState is 3 bytes per subscriber.
type regState struct {
	state  uint8
	server uint16
}

func (h *HSS) intern(name string) uint16 {
	if i, ok := h.nameIdx[name]; ok {
		return i
	}
	if len(h.names) >= 1<<16-1 {
		return 0
	}
	h.names = append(h.names, name)
	h.nameIdx[name] = uint16(len(h.names) - 1)
	return uint16(len(h.names) - 1)
}

// uar answers a User-Authorization-Request (TS 29.228 §6.1.1, §6.3): the
// I-CSCF asks which S-CSCF serves the user.
func (h *HSS) uar(m *cx.UAR) *cx.UAA {
	a := &cx.UAA{Header: h.answerHeader(&m.Header)}
	p := &h.cfg.Population
	idx, ok := p.LookupIMPI(m.UserName)
	if !ok {
		a.ExperimentalResult = cx.ErrorUserUnknown
		return a
	}
	if !p.Matches(m.UserName, m.PublicIdentity) {
		a.ExperimentalResult = cx.ErrorIdentitiesDontMatch
		return a
	}
	st := h.reg[idx]
	a.ServerName = h.names[st.server]
	switch {
	case m.AuthorizationType == 1 && st.state == notRegistered: // DE_REGISTRATION
		a.ExperimentalResult, a.ServerName = cx.ErrorIdentityNotRegistered, ""
	case m.AuthorizationType == 1:
		a.ResultCode = cx.DiameterSuccess
	case st.state == registered:
		a.ExperimentalResult = cx.SubsequentRegistration
	case st.state == unregistered:
		a.ExperimentalResult = UnregisteredService
	default:
		a.ExperimentalResult = cx.FirstRegistration
	}
	return a
}

// UnregisteredService is DIAMETER_UNREGISTERED_SERVICE (TS 29.229 §6.2.1.3).
const UnregisteredService = 2003

// lir answers a Location-Info-Request (TS 29.228 §6.1.4): the S-CSCF
// serving a public identity.
func (h *HSS) lir(m *cx.LIR) *cx.LIA {
	a := &cx.LIA{Header: h.answerHeader(&m.Header)}
	idx, ok := h.cfg.Population.LookupIMPU(m.PublicIdentity)
	if !ok {
		a.ExperimentalResult = cx.ErrorUserUnknown
		return a
	}
	st := h.reg[idx]
	if st.state == notRegistered {
		a.ExperimentalResult = cx.ErrorIdentityNotRegistered
		return a
	}
	a.ResultCode, a.ServerName = cx.DiameterSuccess, h.names[st.server]
	return a
}

// DigestPassword is the Digest-MD5 password of a subscriber (aka.DigestPassword).
func DigestPassword(keys *aka.Keys) string { return aka.DigestPassword(keys) }

// Preload marks subscriber idx registered at serverName before the run (a
// steady-state population).
func (h *HSS) Preload(idx uint32, serverName string) {
	h.reg[idx] = regState{state: registered, server: h.intern(serverName)}
}

// UseFixedRAND makes every vector use rand (3GPP conformance sets, e.g.
// TS 35.208 Test Set 1, where RAND is given).
func (h *HSS) UseFixedRAND(rand [aka.RandLen]byte) { h.fixedRAND = &rand }
