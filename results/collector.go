package results

import (
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

// Histogram range: 1 µs .. 1 h at 3 significant figures (LIBRARIES.md §3).
const (
	histLowest  = 1
	histHighest = 3_600_000_000
	histSigFigs = 3
)

func newHist() *hdr.Histogram { return hdr.New(histLowest, histHighest, histSigFigs) }

// Collector aggregates the measurements of one variant. It is not safe for
// concurrent use; the live runtime gives each event loop its own and merges.
type Collector struct {
	Attempted uint64
	Succeeded uint64
	Failed    uint64
	ByCode    map[int]uint64
	ByCause   map[string]uint64 // "code reason"
	Retries   map[int]uint64    // retries scheduled, by the final code that caused them
	// Records, when non-nil, receives one record per procedure (--records).
	Records   []Record
	Callbacks [numCallbackKinds]CallbackStats

	Registration *hdr.Histogram // intended send -> 200 OK, µs
	Challenge    *hdr.Histogram // intended send -> 401, µs
	MARRTT       *hdr.Histogram // S-CSCF: MAR sent -> MAA arrived
	SARRTT       *hdr.Histogram // S-CSCF: SAR sent -> SAA arrived
	HSSMAR       *hdr.Histogram // HSS: MAR arrived -> MAA sent (queueing, service, injected latency)
	HSSQueue     *hdr.Histogram // HSS: wait for a worker
	clamped      uint64

	// Series holds the per-second time series.
	Series Series
}

// maxGaugeSeconds bounds the gauge series (about 11.6 days of virtual time).
const maxGaugeSeconds = 1 << 20

// Gauges records the S-CSCF's transaction gauges at now (called on change).
func (c *Collector) Gauges(now time.Duration, suspended, onWait int) {
	if s := c.Series.at(now); s != nil {
		s.Suspended = max(s.Suspended, int32(suspended))
		s.OnWait = max(s.OnWait, int32(onWait))
	}
}

// HSSQueue records the HSS's request queue depth at now (called on change).
func (c *Collector) HSSQueueDepth(now time.Duration, depth int) {
	if s := c.Series.at(now); s != nil {
		s.HSSQueue = max(s.HSSQueue, int32(depth))
	}
}

// NewCollector returns an empty collector.
func NewCollector() *Collector {
	c := &Collector{ByCode: map[int]uint64{}, ByCause: map[string]uint64{}, Retries: map[int]uint64{}, Registration: newHist(), Challenge: newHist(),
		MARRTT: newHist(), SARRTT: newHist(), HSSMAR: newHist(), HSSQueue: newHist()}
	for i := range c.Callbacks {
		c.Callbacks[i].NotExecuted = map[string]uint64{}
	}
	return c
}

func (c *Collector) record(h *hdr.Histogram, d time.Duration) {
	us := d.Microseconds()
	if us > histHighest {
		us = histHighest
		c.clamped++
	}
	if us < 0 {
		us = 0
	}
	_ = h.RecordValue(us) // in range by construction
}

// Attempt counts the start of a registration procedure at now.
func (c *Collector) Attempt(now time.Duration) {
	c.Attempted++
	if s := c.Series.at(now); s != nil {
		s.Offered++
	}
}

// Done ends a registration procedure with its final SIP code; latency runs
// from the intended send time of its first REGISTER.
func (c *Collector) Done(now time.Duration, code int, reason string, latency time.Duration) {
	c.ByCode[code]++
	c.ByCause[strconv.Itoa(code)+" "+reason]++
	s := c.Series.at(now)
	if code >= 200 && code < 300 {
		c.Succeeded++
		c.record(c.Registration, latency)
		if s != nil {
			s.Succeeded++
			if s.lat == nil {
				s.lat = &sketch{}
			}
			s.lat[sketchIndex(latency)]++
		}
	} else {
		c.Failed++
		if s != nil {
			s.Failed++
		}
	}
}

// Record adds a duration to one of the collector's histograms.
func (c *Collector) Record(h *hdr.Histogram, d time.Duration) { c.record(h, d) }

// Retry counts a retry scheduled after a failure with code.
func (c *Collector) Retry(code uint16) { c.Retries[int(code)]++ }

// Challenged records the latency from intended send to the 401.
func (c *Collector) Challenged(latency time.Duration) { c.record(c.Challenge, latency) }

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
	for k, v := range o.ByCause {
		c.ByCause[k] += v
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
	for _, h := range [...][2]*hdr.Histogram{{c.Registration, o.Registration}, {c.Challenge, o.Challenge},
		{c.MARRTT, o.MARRTT}, {c.SARRTT, o.SARRTT}, {c.HSSMAR, o.HSSMAR}, {c.HSSQueue, o.HSSQueue}} {
		h[0].Merge(h[1]) // same range: nothing is dropped
	}
	c.clamped += o.clamped
	for sec := range o.Series.S {
		x := &o.Series.S[sec]
		s := c.Series.at(time.Duration(sec) * time.Second)
		s.Offered += x.Offered
		s.Succeeded += x.Succeeded
		s.Failed += x.Failed
		s.Suspended = max(s.Suspended, x.Suspended)
		s.OnWait = max(s.OnWait, x.OnWait)
		s.HSSQueue = max(s.HSSQueue, x.HSSQueue)
		if x.lat != nil {
			if s.lat == nil {
				s.lat = &sketch{}
			}
			for i, n := range x.lat {
				s.lat[i] += n
			}
		}
	}
}
