// Package scenario wires a profile into a virtual runtime: it builds the UE
// fleet, the S-CSCF and the HSS for each variant, runs them on the same
// seed, and returns the summary. cmd/regstorm and the tests call it; the live
// runtime will wire the same cores to sockets.
package scenario

import (
	"fmt"
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
	// Log receives Kamailio-style lines from the S-CSCF of each variant.
	Log func(variant string, at time.Duration, line string)
	// Parallel runs variants concurrently (they are independent runtimes).
	Parallel bool
	// OnStart sees the wired variants before they run (signal handling).
	OnStart func([]*Variant)
}

// Variant is one wired, runnable variant.
type Variant struct {
	Spec      profiles.Variant
	Runtime   *sim.Runtime
	Fleet     *ue.Fleet
	SCSCF     *scscf.SCSCF
	HSS       *hss.HSS
	Collector *results.Collector
	Nodes     struct{ UE, SCSCF, HSS sim.NodeID }
	deadline  time.Duration
}

// Population builds the subscriber population of a profile.
func Population(p *profiles.Profile) (subscriber.Population, error) {
	impi, err := subscriber.ParseTemplate(p.Subscribers.IMPI)
	if err != nil {
		return subscriber.Population{}, err
	}
	impu, err := subscriber.ParseTemplate(p.Subscribers.IMPU)
	if err != nil {
		return subscriber.Population{}, err
	}
	amf, err := profiles.ParseAMF(p.Subscribers.AMF)
	if err != nil {
		return subscriber.Population{}, err
	}
	return subscriber.Population{Count: uint32(p.UEs), Realm: p.Subscribers.Realm, IMPI: impi, IMPU: impu,
		AMF: amf, KeySeed: p.Seed}, nil
}

// SCSCFConfig maps a profile and variant to the S-CSCF configuration.
func SCSCFConfig(p *profiles.Profile, v *profiles.Variant) (scscf.Config, error) {
	c := scscf.Defaults()
	s := &p.SCSCF
	c.Realm = p.Subscribers.Realm
	c.FRTimer, c.MaxNonInvLifetime, c.WTTimer, c.TMTick = s.FRTimer.D(), s.MaxNonInvLifetime.D(), s.WTTimer.D(), s.TMTick.D()
	c.CDPTimeout, c.CDPPhase, c.AVTimeout = s.CDPTimeout.D(), s.CDPPhase.D(), s.AVTimeout.D()
	c.DefaultExpires, c.MinExpires, c.MaxExpires = uint32(s.DefaultExpires), uint32(s.MinExpires), uint32(s.MaxExpires)
	var err error
	if c.MARResume, err = scscf.ParseStrategy(v.MARResume); err != nil {
		return c, err
	}
	if c.SAROKResume, err = scscf.ParseStrategy(v.SAROKResume); err != nil {
		return c, err
	}
	if c.SARErrResume, err = scscf.ParseStrategy(v.SARErrResume); err != nil {
		return c, err
	}
	return c, nil
}

// Build wires one variant of a validated profile.
func Build(p *profiles.Profile, v profiles.Variant, opts Options) (*Variant, error) {
	pop, err := Population(p)
	if err != nil {
		return nil, err
	}
	dists := map[string]sim.Dist{}
	for name, d := range map[string]*profiles.Dist{
		"ue_scscf": &p.Network.UESCSCF, "scscf_hss": &p.Network.SCSCFHSS, "think": &p.UE.ThinkTime,
		"mar": &p.HSS.MARLatency, "sar": &p.HSS.SARLatency,
	} {
		if dists[name], err = d.Build(); err != nil {
			return nil, fmt.Errorf("scenario: %s: %w", name, err)
		}
	}
	out := &Variant{Spec: v, Runtime: sim.New(p.Seed), Collector: results.NewCollector(), deadline: p.Duration.D()}
	rt := out.Runtime
	// Nodes are added before their cores exist so that each config can name
	// its peers; the cores are attached once built.
	out.Nodes.UE = rt.AddNode(NodeUE, nil)
	out.Nodes.SCSCF = rt.AddNode(NodeSCSCF, nil)
	out.Nodes.HSS = rt.AddNode(NodeHSS, nil)

	scfg, err := SCSCFConfig(p, &v)
	if err != nil {
		return nil, err
	}
	scfg.HSS = out.Nodes.HSS
	scfg.Collector = out.Collector
	if opts.Log != nil {
		name := v.Name
		scfg.Log = func(at time.Duration, line string) { opts.Log(name, at, line) }
	}
	if out.SCSCF, err = scscf.New(scfg); err != nil {
		return nil, err
	}
	if out.HSS, err = hss.New(hss.Config{OriginHost: "hss." + pop.Realm, OriginRealm: pop.Realm, Population: pop,
		MARLatency: dists["mar"], SARLatency: dists["sar"]}); err != nil {
		return nil, err
	}
	arrivals := p.Arrival.Pacer(p.UEs, sim.NewStream(p.Seed, "arrivals"))
	if out.Fleet, err = ue.New(ue.Config{Population: pop, SCSCF: out.Nodes.SCSCF, Arrivals: arrivals,
		ThinkTime: dists["think"], TimerF: p.UE.TimerF.D(), Expires: int32(p.UE.Expires), Collector: out.Collector}); err != nil {
		return nil, err
	}
	rt.SetHandler(out.Nodes.UE, out.Fleet)
	rt.SetHandler(out.Nodes.SCSCF, out.SCSCF)
	rt.SetHandler(out.Nodes.HSS, out.HSS)

	rt.SetLink(out.Nodes.UE, out.Nodes.SCSCF, dists["ue_scscf"], 0)
	rt.SetLink(out.Nodes.SCSCF, out.Nodes.UE, dists["ue_scscf"], 0)
	rt.SetLink(out.Nodes.SCSCF, out.Nodes.HSS, dists["scscf_hss"], 0)
	rt.SetLink(out.Nodes.HSS, out.Nodes.SCSCF, dists["scscf_hss"], 0)
	if at, ok := out.Fleet.First(); ok {
		rt.ArmTimer(out.Nodes.UE, at, ue.StartKey)
	}
	return out, nil
}

// Run runs the variant to its deadline or until no work is left, and
// summarises it.
func (v *Variant) Run() results.VariantSummary {
	st := v.Runtime.Run(v.deadline)
	return v.Collector.Summarize(v.Spec.Name, v.Spec.MARResume, st.Reached, st.Events)
}

// Run runs every variant of a profile on its seed.
func Run(p *profiles.Profile, opts Options) (*results.Summary, []*Variant, error) {
	vs := make([]*Variant, len(p.Variants))
	for i, spec := range p.Variants {
		v, err := Build(p, spec, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("variant %s: %w", spec.Name, err)
		}
		vs[i] = v
	}
	if opts.OnStart != nil {
		opts.OnStart(vs)
	}
	sum := &results.Summary{Profile: p.Name, Seed: p.Seed, Variants: make([]results.VariantSummary, len(vs))}
	if opts.Parallel && opts.Log == nil {
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
			sum.Variants[i] = v.Run()
		}
	}
	return sum, vs, nil
}
