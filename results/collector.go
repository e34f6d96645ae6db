package results

import (
	"math/bits"
	"strconv"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// CallbackKind names the asynchronous Diameter callbacks of the S-CSCF.
type CallbackKind uint8

const (
	// CallbackMAR is ims_auth's MAA callback (route REG_MAR_REPLY).
	CallbackMAR CallbackKind = iota
	// CallbackSAR is ims_registrar_scscf's SAA callback (PRE_REG_SAR_REPLY / REG_SAR_REPLY).
	CallbackSAR
	// CallbackResync is ims_auth's MAA callback of a resynchronisation MAR (REG_RESYNC_REPLY).
	CallbackResync
	numCallbackKinds
)

func (k CallbackKind) String() string {
	switch k {
	case CallbackMAR:
		return "mar"
	case CallbackSAR:
		return "sar"
	case CallbackResync:
		return "resync"
	}
	return "?"
}

// CallbackStats counts one kind of callback.
type CallbackStats struct {
	Invoked       uint64
	RouteExecuted uint64
	NotExecuted   map[string]uint64 // reason -> count
}

// Procedure is a registration procedure of a UE (TS 24.229 §5.1.1).
type Procedure uint8

const (
	// ProcRegistration is an initial registration (§5.1.1.2), or a retry of
	// one after a failure (RFC 5626 §4.5).
	ProcRegistration Procedure = iota
	// ProcReregistration refreshes a registration before it expires (§5.1.1.4).
	ProcReregistration
	// ProcDeregistration is a REGISTER with Expires: 0 (§5.1.1.6).
	ProcDeregistration
	numProcedures
)

// procChallenge is the slot of the challenge leg: from the intended send of
// a REGISTER without credentials (initial, or carrying AUTS) to the final
// response to it, a 401 with a challenge when it goes well.
const procChallenge = numProcedures

// procNames are the summary.json names of the procedures and the leg.
var procNames = [numProcedures + 1]string{"registration", "reregistration", "deregistration", "challenge"}

func (p Procedure) String() string {
	if p <= procChallenge {
		return procNames[p]
	}
	return "?"
}

// Code slots: a final SIP code 100..699 (RFC 3261 §7.2) is slot code-100;
// the UE's own Timer F and codes outside that range have a slot each.
const (
	slotTimerF   = 600
	slotOther    = 601
	numCodeSlots = 602
)

func codeSlot(code int, timerF bool) int {
	switch {
	case timerF:
		return slotTimerF
	case code >= 100 && code < 700:
		return code - 100
	}
	return slotOther
}

// slotKey names a code slot in latency_ms.<procedure>.by_code: the code,
// "timer_f" or "other".
func slotKey(slot int) string {
	switch slot {
	case slotTimerF:
		return "timer_f"
	case slotOther:
		return "other"
	}
	return strconv.Itoa(slot + 100)
}

// outcomes is what one procedure (or the challenge leg) measured.
type outcomes struct {
	attempted, succeeded, failed uint64
	// all holds every outcome's latency, ok the successes' (2xx; for the
	// challenge leg a 401 with a challenge).
	all, ok timeline
	// byCode, allocated at the first outcome, holds a histogram per code
	// slot, allocated at its first value.
	byCode []*hdr.PackedHistogram
}

func (o *outcomes) record(now time.Duration, slot int, ok bool, us int64) {
	o.all.record(now, us)
	if ok {
		o.ok.record(now, us)
	}
	if o.byCode == nil {
		o.byCode = make([]*hdr.PackedHistogram, numCodeSlots)
	}
	h := o.byCode[slot]
	if h == nil {
		h = newPacked()
		o.byCode[slot] = h
	}
	_ = h.RecordValue(us)
}

func (o *outcomes) merge(x *outcomes) {
	o.attempted += x.attempted
	o.succeeded += x.succeeded
	o.failed += x.failed
	o.all.merge(&x.all)
	o.ok.merge(&x.ok)
	for slot, h := range x.byCode {
		if h == nil {
			continue
		}
		if o.byCode == nil {
			o.byCode = make([]*hdr.PackedHistogram, numCodeSlots)
		}
		if o.byCode[slot] == nil {
			o.byCode[slot] = newPacked()
		}
		o.byCode[slot].Merge(h)
	}
}

// cause counts the outcomes of one code slot by reason phrase; a slot
// sees one or two reasons, so a linear scan (whose string comparison
// short-cuts on the shared pointer of a reason the cores reuse) beats a map
// with a built key.
type causes struct {
	reasons []string
	counts  []uint64
}

func (c *causes) add(reason string, n uint64) {
	for i, r := range c.reasons {
		if r == reason {
			c.counts[i] += n
			return
		}
	}
	c.reasons = append(c.reasons, reason)
	c.counts = append(c.counts, n)
}

// Collector aggregates the measurements of one variant. It is not safe for
// concurrent use; the live runtime gives each event loop its own and merges.
//
// Every per-registration path is free of allocations once the run's
// structures exist: outcomes are indexed by procedure and code slot, the
// per-second histograms grow geometrically.
type Collector struct {
	// Attempted, Succeeded and Failed count procedures of every kind.
	Attempted uint64
	Succeeded uint64
	Failed    uint64
	ByCode    map[int]uint64 // final SIP code (the UE's Timer F as 408, RFC 3261 §8.1.3.1) -> procedures
	Retries   map[int]uint64 // retries scheduled, by the final code that caused them
	// Records, when non-nil, receives one record per procedure (--records).
	Records   []Record
	Callbacks [numCallbackKinds]CallbackStats

	MARRTT   *hdr.Histogram // S-CSCF: MAR sent -> MAA arrived
	SARRTT   *hdr.Histogram // S-CSCF: SAR sent -> SAA arrived
	HSSMAR   *hdr.Histogram // HSS: MAR arrived -> MAA sent (queueing, service, injected latency)
	HSSQueue *hdr.Histogram // HSS: wait for a worker
	clamped  uint64

	procs   [numProcedures + 1]outcomes
	causes  [numCodeSlots]causes
	codeOf  [numCodeSlots]int // the SIP code of a slot as counted in ByCode
	cores   [numCoreMetrics]timeline
	clocked bool          // Tick was called: Record knows the time
	now     time.Duration // the time of the event being handled (Tick)

	// The active window: the first intended send and the last completion.
	first, last time.Duration
	started     bool

	// ues and registered are bit sets over UE indices: a procedure was
	// attempted; a registration or re-registration succeeded.
	ues, registered []uint64

	// Series holds the per-second time series.
	Series Series
}

// Core metrics: the S-CSCF's and the HSS's histograms, recorded through
// Record with the time Tick last set.
const (
	coreMARRTT = iota
	coreSARRTT
	coreHSSMAR
	coreHSSQueue
	numCoreMetrics
)

// Gauges records the S-CSCF's transaction gauges at now (called on change).
func (c *Collector) Gauges(now time.Duration, suspended, onWait int) {
	if s := c.Series.at(now); s != nil {
		s.Suspended = max(s.Suspended, int32(suspended))
		s.OnWait = max(s.OnWait, int32(onWait))
	}
}

// HSSQueueDepth records the HSS's request queue depth at now (called on change).
func (c *Collector) HSSQueueDepth(now time.Duration, depth int) {
	if s := c.Series.at(now); s != nil {
		s.HSSQueue = max(s.HSSQueue, int32(depth))
	}
}

// NewCollector returns an empty collector.
func NewCollector() *Collector {
	c := &Collector{ByCode: map[int]uint64{}, Retries: map[int]uint64{},
		MARRTT: newHist(), SARRTT: newHist(), HSSMAR: newHist(), HSSQueue: newHist()}
	for i := range c.Callbacks {
		c.Callbacks[i].NotExecuted = map[string]uint64{}
	}
	c.cores[coreMARRTT].total, c.cores[coreSARRTT].total = c.MARRTT, c.SARRTT
	c.cores[coreHSSMAR].total, c.cores[coreHSSQueue].total = c.HSSMAR, c.HSSQueue
	return c
}

// Tick tells the collector the virtual time of the event being handled, so
// that Record can put a measurement in its second. The simulation calls it
// before each event of the node the collector belongs to; without it,
// Record's measurements count in the run's totals only.
func (c *Collector) Tick(now time.Duration) {
	c.now = now
	c.clocked = true
}

func (c *Collector) micros(d time.Duration) int64 {
	us := d.Microseconds()
	if us > histHighest {
		us = histHighest
		c.clamped++
	}
	return max(us, 0)
}

// Attempt counts the start of procedure proc by UE ue at now, its intended
// send time (the time series buckets offered load by it).
func (c *Collector) Attempt(now time.Duration, ue uint32, proc Procedure) {
	c.Attempted++
	c.procs[proc].attempted++
	if !c.started || now < c.first {
		c.first, c.started = now, true
	}
	setBit(&c.ues, ue)
	if s := c.Series.at(now); s != nil {
		s.Offered++
	}
}

// Outcome is how a procedure or the challenge leg ended.
type Outcome struct {
	// Code is the final SIP status code; the UE's own Timer F counts as 408
	// (RFC 3261 §8.1.3.1).
	Code int
	// TimerF is set when no final response came: Timer F fired at the UE
	// (RFC 3261 §17.1.2.2).
	TimerF bool
	// Reason is the reason phrase, or what the UE concluded on its own.
	Reason string
}

// Done ends procedure proc of UE ue at now with its outcome; latency runs
// from the intended send time of its first REGISTER.
func (c *Collector) Done(now time.Duration, ue uint32, proc Procedure, o Outcome, latency time.Duration) {
	slot := codeSlot(o.Code, o.TimerF)
	c.ByCode[o.Code]++
	c.causes[slot].add(o.Reason, 1)
	c.codeOf[slot] = o.Code
	c.last = max(c.last, now)
	ok := o.Code >= 200 && o.Code < 300 && !o.TimerF
	p := &c.procs[proc]
	p.record(now, slot, ok, c.micros(latency))
	s := c.Series.at(now)
	if ok {
		c.Succeeded++
		p.succeeded++
		if proc != ProcDeregistration {
			setBit(&c.registered, ue)
		}
		if s != nil {
			s.Succeeded++
		}
		return
	}
	c.Failed++
	p.failed++
	if s == nil {
		return
	}
	s.Failed++
	switch {
	case o.TimerF:
		s.FailedTimerF++
	case o.Code >= 400 && o.Code < 500:
		s.Failed4xx++
	case o.Code >= 500 && o.Code < 600:
		s.Failed5xx++
	default:
		s.FailedOther++
	}
}

// ChallengeDone ends the challenge leg at now: the final response to a
// REGISTER without credentials (or with AUTS), challenged when it was a 401
// carrying a challenge, or Timer F; latency runs from the procedure's
// intended send time.
func (c *Collector) ChallengeDone(now time.Duration, o Outcome, challenged bool, latency time.Duration) {
	c.procs[procChallenge].record(now, codeSlot(o.Code, o.TimerF), challenged, c.micros(latency))
}

// Record adds a duration to one of the collector's histograms (MARRTT,
// SARRTT, HSSMAR, HSSQueue), in the second Tick last set.
func (c *Collector) Record(h *hdr.Histogram, d time.Duration) {
	us := c.micros(d)
	_ = h.RecordValue(us) // in range by construction
	if !c.clocked {
		return
	}
	for i := range c.cores {
		if c.cores[i].total == h {
			c.cores[i].recordSecond(c.now, us)
			return
		}
	}
}

// Retry counts a retry scheduled after a failure with code.
func (c *Collector) Retry(code uint16) { c.Retries[int(code)]++ }

// Callback counts one callback and whether its route ran; reason says why
// not (a Kamailio log text).
func (c *Collector) Callback(kind CallbackKind, ran bool, reason string) {
	s := &c.Callbacks[kind]
	s.Invoked++
	if ran {
		s.RouteExecuted++
	} else {
		s.NotExecuted[reason]++
	}
}

func setBit(set *[]uint64, i uint32) {
	w := int(i / 64)
	switch {
	case w < len(*set):
	case w < cap(*set):
		*set = (*set)[:w+1] // the words past the length are still zero
	default:
		n := make([]uint64, w+1, max(2*cap(*set), w+1, 16))
		copy(n, *set)
		*set = n
	}
	(*set)[w] |= 1 << (i % 64)
}

func popCount(set []uint64) uint64 {
	var n int
	for _, w := range set {
		n += bits.OnesCount64(w)
	}
	return uint64(n)
}

func orBits(dst *[]uint64, src []uint64) {
	for len(*dst) < len(src) {
		*dst = append(*dst, 0)
	}
	for i, w := range src {
		(*dst)[i] |= w
	}
}

// Record is one registration procedure (registrations.csv).
type Record struct {
	UE       uint32
	Intended time.Duration // when the schedule wanted the first REGISTER sent
	End      time.Duration // final response (or Timer F)
	Code     int
	Reason   string
	CSeq     uint32 // 1: ended at the initial REGISTER; 2: at the answer to the challenge
}

// Merge adds o's measurements to c: counts and histograms add up, the
// per-second gauges keep the larger value. A partitioned simulation gives
// each core a collector of its own (cores run on different threads) and
// merges them once the run is over; records are the UE fleet's alone and
// are appended in o's order.
func (c *Collector) Merge(o *Collector) {
	c.Attempted += o.Attempted
	c.Succeeded += o.Succeeded
	c.Failed += o.Failed
	for k, v := range o.ByCode {
		c.ByCode[k] += v
	}
	for k, v := range o.Retries {
		c.Retries[k] += v
	}
	if o.Records != nil {
		c.Records = append(c.Records, o.Records...)
	}
	for i := range c.Callbacks {
		a, b := &c.Callbacks[i], &o.Callbacks[i]
		a.Invoked += b.Invoked
		a.RouteExecuted += b.RouteExecuted
		for k, v := range b.NotExecuted {
			a.NotExecuted[k] += v
		}
	}
	for i := range c.procs {
		c.procs[i].merge(&o.procs[i])
	}
	for slot := range o.causes {
		x := &o.causes[slot]
		for i, r := range x.reasons {
			c.causes[slot].add(r, x.counts[i])
			c.codeOf[slot] = o.codeOf[slot]
		}
	}
	for i := range c.cores {
		// The totals are the exported histograms; the seconds merge alone.
		c.cores[i].total.Merge(o.cores[i].total) // same range: nothing is dropped
		mergeSeconds(&c.cores[i].secs, o.cores[i].secs)
	}
	c.clamped += o.clamped
	c.clocked = c.clocked || o.clocked
	if o.started {
		if !c.started || o.first < c.first {
			c.first = o.first
		}
		c.started = true
	}
	c.last = max(c.last, o.last)
	orBits(&c.ues, o.ues)
	orBits(&c.registered, o.registered)
	for sec := range o.Series.S {
		x := &o.Series.S[sec]
		s := c.Series.at(time.Duration(sec) * time.Second)
		s.Offered += x.Offered
		s.Succeeded += x.Succeeded
		s.Failed += x.Failed
		s.Failed4xx += x.Failed4xx
		s.Failed5xx += x.Failed5xx
		s.FailedTimerF += x.FailedTimerF
		s.FailedOther += x.FailedOther
		s.Suspended = max(s.Suspended, x.Suspended)
		s.OnWait = max(s.OnWait, x.OnWait)
		s.HSSQueue = max(s.HSSQueue, x.HSSQueue)
	}
}

// SuccessLatency is the histogram of a procedure's successes (µs), for
// callers that count values above a threshold (the capacity search).
func (c *Collector) SuccessLatency(p Procedure) *hdr.Histogram {
	if h := c.procs[p].ok.total; h != nil {
		return h
	}
	return newHist()
}
