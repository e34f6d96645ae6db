// Package scenario wires a profile into a virtual runtime: it builds the UE
// fleet, the S-CSCF and the HSS for each variant, runs them on the same
// seed, and returns the summary. cmd/regstorm and the tests call it; the live
// runtime will wire the same cores to sockets.
package scenario

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/regstorm/regstorm/hss"
	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/profiles"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/scscf"
	"github.com/regstorm/regstorm/sim"
	"github.com/regstorm/regstorm/ue"
)

// Node names; each node's random stream derives from (seed, name).
const (
	NodeUE    = "ue"
	NodeSCSCF = "scscf"
	NodeHSS   = "hss"
)

// Options adjust a run beyond the profile.
type Options struct {
	// Trace, when set, receives one line per event and every Kamailio log
	// line of the S-CSCF, with virtual timestamps. Variants then run one
	// after the other.
	Trace io.Writer
	// TraceFilter keeps only trace lines containing it (e.g. "user42@").
	TraceFilter string
	// Parallel runs variants concurrently (they are independent runtimes).
	Parallel bool
	// OnStart sees the wired variants before they run (signal handling).
	OnStart func([]*Variant)
	// Records keeps one record per registration procedure.
	Records bool
	// Threads bounds the simulation's threads (0: every core). Variants
	// run side by side share them; with fewer threads than variants they
	// run one after another. Results do not depend on it.
	Threads int
	// Progress, when set, is called from the running variant every 64k
	// events with its virtual time, events and procedures completed.
	Progress func(variant string, now time.Duration, events uint64, done uint64)
}

// Variant is one wired, runnable variant.
type Variant struct {
	Spec      profiles.Variant
	Profile   *profiles.Profile // as this variant sees it
	SCSCFConf scscf.Config
	Runtime   *sim.Runtime
	Fleet     *ue.Fleet
	SCSCF     *scscf.SCSCF
	HSS       *hss.HSS
	// Collector holds the variant's measurements: during the run the UE
	// fleet's; the S-CSCF and the HSS record into their own (the cores of
	// a partitioned run are on different threads), merged in by Run.
	Collector *results.Collector
	coreCols  []*results.Collector
	Nodes     struct{ UE, SCSCF, HSS sim.NodeID }
	Wire      *WireStats // fidelity: wire only
	deadline  time.Duration
	tracer    *tracer
}

// Population builds the subscriber population of a profile
// (profiles.Profile.Population).
func Population(p *profiles.Profile) (subscriber.Population, error) { return p.Population() }

// SCSCFConfig maps a profile and variant to the S-CSCF configuration
// (profiles.Profile.SCSCFConfig).
func SCSCFConfig(p *profiles.Profile, v *profiles.Variant) (scscf.Config, error) {
	return p.SCSCFConfig(v)
}

// minLookahead is the shortest window worth running the cores in parallel.
const minLookahead = 100 * time.Microsecond

// Build wires variant i of a validated profile.
func Build(base *profiles.Profile, i int, opts Options) (*Variant, error) {
	p, err := base.ForVariant(i)
	if err != nil {
		return nil, err
	}
	v := p.Variants[i]
	pop, err := Population(p)
	if err != nil {
		return nil, err
	}
	dists := map[string]sim.Dist{}
	for name, d := range map[string]*profiles.Dist{
		"ue_scscf": &p.Network.UESCSCF, "scscf_hss": &p.Network.SCSCFHSS, "think": &p.UE.ThinkTime,
		"mar": &p.HSS.MARLatency, "sar": &p.HSS.SARLatency, "hss_service": &p.HSS.Service,
	} {
		if dists[name], err = d.Build(); err != nil {
			return nil, fmt.Errorf("scenario: %s: %w", name, err)
		}
	}
	out := &Variant{Spec: v, Profile: p, Runtime: sim.New(p.Seed), Collector: results.NewCollector(), deadline: p.Duration.D()}
	if opts.Records {
		out.Collector.Records = []results.Record{}
	}
	if opts.Progress != nil {
		col, name := out.Collector, v.Name
		out.Runtime.Progress = func(now time.Duration, events uint64) {
			opts.Progress(name, now, events, col.Succeeded+col.Failed)
		}
	}
	rt := out.Runtime
	// Nodes are added before their cores exist so that each config can name
	// its peers; the cores are attached once built.
	out.Nodes.UE = rt.AddNode(NodeUE, nil)
	out.Nodes.SCSCF = rt.AddNode(NodeSCSCF, nil)
	out.Nodes.HSS = rt.AddNode(NodeHSS, nil)

	if out.SCSCFConf, err = SCSCFConfig(p, &v); err != nil {
		return nil, err
	}
	out.SCSCFConf.HSS = out.Nodes.HSS
	out.coreCols = []*results.Collector{results.NewCollector(), results.NewCollector()}
	out.SCSCFConf.Collector = out.coreCols[0]
	if opts.Trace != nil {
		out.tracer = &tracer{w: opts.Trace, filter: opts.TraceFilter, variant: v.Name, rt: rt}
		out.SCSCFConf.Log = out.tracer.log
		rt.Trace = out.tracer.event
	}
	if out.SCSCF, err = scscf.New(out.SCSCFConf); err != nil {
		return nil, err
	}
	hcfg, err := HSSConfig(p)
	if err != nil {
		return nil, err
	}
	hcfg.Peers, hcfg.Collector = []sim.NodeID{out.Nodes.SCSCF}, out.coreCols[1]
	if out.HSS, err = hss.New(hcfg); err != nil {
		return nil, err
	}
	faults := hcfg.Faults
	// A steady population was registered before the run: the S-CSCF and
	// the HSS hold its bindings, and each UE's next refresh falls
	// uniformly within one re-registration interval.
	steady := p.Arrival.Shape == "steady"
	var interval time.Duration
	if steady {
		stored, returned := out.SCSCF.GrantedExpires(int32(p.UE.Expires))
		interval = ue.ReregisterInterval(returned)
		for i := uint32(0); i < pop.Count; i++ {
			// The binding outlives every UE's first refresh (which falls
			// within one interval, shorter than the stored expiry); a UE
			// that fails to refresh expires at the stored expiry.
			out.SCSCF.Preload(pop.IMPUOf(i), pop.IMPIOf(i), "sip:ue"+strconv.FormatUint(uint64(i), 10)+"@127.0.0.1",
				time.Duration(stored)*time.Second)
			out.HSS.Preload(i, out.SCSCFConf.Name)
		}
	}
	ucfg, err := UEConfig(p)
	if err != nil {
		return nil, err
	}
	ucfg.SCSCF, ucfg.Collector, ucfg.Steady, ucfg.SteadyInterval = out.Nodes.SCSCF, out.Collector, steady, interval
	if out.Fleet, err = ue.New(ucfg); err != nil {
		return nil, err
	}
	// The S-CSCF's and the HSS's collectors learn each event's time, so
	// their round trips and queue waits land in per-second histograms.
	var ueH, scscfH, hssH sim.Handler = out.Fleet, Clocked(out.SCSCF, out.coreCols[0]), Clocked(out.HSS, out.coreCols[1])
	if p.Fidelity == "wire" {
		out.Wire = &WireStats{}
		ueH, scscfH, hssH = &wire{ueH, out.Wire}, &wire{scscfH, out.Wire}, &wire{hssH, out.Wire}
	}
	rt.SetHandler(out.Nodes.UE, ueH)
	rt.SetHandler(out.Nodes.SCSCF, scscfH)
	rt.SetHandler(out.Nodes.HSS, hssH)

	rt.SetLink(out.Nodes.UE, out.Nodes.SCSCF, dists["ue_scscf"], 0)
	rt.SetLink(out.Nodes.SCSCF, out.Nodes.UE, dists["ue_scscf"], 0)
	rt.SetLink(out.Nodes.SCSCF, out.Nodes.HSS, dists["scscf_hss"], 0)
	rt.SetLink(out.Nodes.HSS, out.Nodes.SCSCF, dists["scscf_hss"], 0)
	f, sc, h := out.Fleet, out.SCSCF, out.HSS
	rt.StopWhen = func() bool { return rt.InFlight() == 0 && f.Idle() && sc.Idle() && h.Idle() }
	if len(faults) > 0 {
		rt.ArmTimer(out.Nodes.HSS, 0, hss.StartKey)
	}
	if at, ok := out.Fleet.First(); ok {
		rt.ArmTimer(out.Nodes.UE, at, ue.StartKey)
	}
	// Each core in a partition of its own when every link between them
	// has a minimum latency of at least minLookahead: the cores then
	// advance in parallel windows as long as that minimum (sim.Partition).
	// Shorter windows would hold too few events to pay for the threads'
	// meeting at their ends. The S-CSCF comes first, as the largest share
	// of the work.
	if la := min(sim.Floor(dists["ue_scscf"]), sim.Floor(dists["scscf_hss"])); la >= minLookahead {
		if err := rt.Partition([][]sim.NodeID{{out.Nodes.SCSCF}, {out.Nodes.UE}, {out.Nodes.HSS}}, la); err != nil {
			return nil, fmt.Errorf("scenario: %w", err)
		}
		if out.tracer != nil {
			out.tracer.hold = true
			rt.WindowDone = out.tracer.windowDone
		}
	}
	return out, nil
}

// clocked tells a collector the time of every event before its core
// handles it (results.Collector.Tick).
type clocked struct {
	inner sim.Handler
	col   *results.Collector
}

func (c *clocked) Handle(env sim.Env, ev sim.Event) {
	c.col.Tick(env.Now())
	c.inner.Handle(env, ev)
}

// Clocked wraps a core whose collector records measurements without their
// time (the S-CSCF's and the HSS's Record calls) so that the collector
// learns each event's time first: its histograms then have per-second
// intervals. The live commands wrap their cores the same way.
func Clocked(h sim.Handler, c *results.Collector) sim.Handler {
	if c == nil {
		return h
	}
	return &clocked{inner: h, col: c}
}

// Run runs the variant to its deadline or until no work is left, and
// summarises it.
func (v *Variant) Run() results.VariantSummary {
	st := v.Runtime.Run(v.deadline)
	if v.tracer != nil {
		v.tracer.flush()
	}
	for _, c := range v.coreCols {
		v.Collector.Merge(c)
	}
	v.coreCols = nil
	sum := v.Collector.Summarize(v.Spec.Name, v.SCSCFConf.MARResume.String(), st.Reached, st.Events)
	sum.Preset = v.Spec.Preset
	sum.SAROKResume, sum.SARErrResume = v.SCSCFConf.SAROKResume.String(), v.SCSCFConf.SARErrResume.String()
	sum.Counters = v.counters()
	return sum
}

// Invariants checks the S-CSCF's invariants after a run that drained (not
// cut by its deadline or an interrupt).
func (v *Variant) Invariants() error {
	if !v.Runtime.Stats().Exhausted {
		return nil
	}
	return v.SCSCF.Invariants()
}

// counters gathers the cores' own counts for the summary.
func (v *Variant) counters() map[string]uint64 {
	f, s, h := v.Fleet.Stats, v.SCSCF.Stats, v.HSS.Stats
	c := map[string]uint64{
		"ue.retransmissions":            f.Retransmits,
		"ue.timer_f_expiries":           f.TimerFExpiry,
		"ue.aka_mac_failures":           f.MACFailures,
		"ue.aka_sqn_failures":           f.SQNFailures,
		"ue.stray_responses":            f.Stray,
		"scscf.requests":                s.Requests,
		"scscf.retransmissions":         s.Retransmissions,
		"scscf.sip_queue_drops":         s.SIPQueueDrops,
		"scscf.mar_sent":                s.MARs,
		"scscf.sar_sent":                s.SARs,
		"scscf.cdp_timeouts":            s.CDPTimeouts,
		"scscf.cdp_late_answers":        s.LateAnswers,
		"scscf.cdp_queue_drops":         s.CDPQueueDrops,
		"scscf.fr_timeouts":             s.FRTimeouts,
		"scscf.replies_refused":         s.RefusedReplies,
		"scscf.auth_failures":           s.AuthFailures,
		"scscf.av_store_races":          s.AVRaces,
		"scscf.wait_postponed":          s.WaitPostponed,
		"scscf.timeout_deregistrations": s.TimeoutDeregs,
		"hss.mar":                       h.MAR,
		"hss.sar":                       h.SAR,
		"hss.too_busy":                  h.Busy,
		"hss.dropped":                   h.Dropped,
		"hss.fault_outage_drops":        h.Faults.OutageDrops,
		"hss.fault_errors":              h.Faults.Errors,
		"hss.fault_answer_drops":        h.Faults.AnswerDrops,
		"hss.fault_peer_down_losses":    h.Faults.PeerDownLosses,
		"scscf.peer_losses":             s.PeerLosses,
		"scscf.peer_down_drops":         s.PeerDownDrops,
		"scscf.reconnects":              s.Reconnects,
		"hss.queue_max":                 uint64(v.HSS.Pool().MaxQueue),
		"hss.queue_wait_ms_total":       uint64(v.HSS.Pool().Wait.Milliseconds()),
	}
	if v.Wire != nil {
		c["wire.messages"], c["wire.bytes"], c["wire.errors"] = v.Wire.Messages, v.Wire.Bytes, v.Wire.Errors
	}
	return c
}

// Run runs every variant of a profile on its seed.
func Run(p *profiles.Profile, opts Options) (*results.Summary, []*Variant, error) {
	vs := make([]*Variant, len(p.Variants))
	for i := range p.Variants {
		v, err := Build(p, i, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("variant %s: %w", p.Variants[i].Name, err)
		}
		vs[i] = v
	}
	if opts.OnStart != nil {
		opts.OnStart(vs)
	}
	sum := &results.Summary{Profile: p.Name, Seed: p.Seed, Variants: make([]results.VariantSummary, len(vs))}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if opts.Parallel && opts.Trace == nil && threads >= len(vs) {
		// Variants side by side share the cores with their partitions'
		// threads: each gets its share, so no thread spins for a core.
		for _, v := range vs {
			v.Runtime.Workers = max(1, threads/len(vs))
		}
		var wg sync.WaitGroup
		for i, v := range vs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sum.Variants[i] = v.Run()
			}()
		}
		wg.Wait()
	} else {
		for i, v := range vs {
			v.Runtime.Workers = threads
			sum.Variants[i] = v.Run()
		}
	}
	return sum, vs, nil
}

// HSSConfig maps a profile to the HSS configuration (the simulation and
// `regstorm hss` use the same; profiles.Profile.HSSConfig).
func HSSConfig(p *profiles.Profile) (hss.Config, error) { return p.HSSConfig() }

// UEConfig maps a profile to the UE fleet's configuration (the simulation
// and the live fleet use the same; profiles.Profile.UEConfig); the caller
// sets the S-CSCF peer and the collector.
func UEConfig(p *profiles.Profile) (ue.Config, error) { return p.UEConfig() }
