package profiles

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/regstorm/regstorm/hss"
	"github.com/regstorm/regstorm/internal/fielderr"
	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/scscf"
	"github.com/regstorm/regstorm/sim"
	"github.com/regstorm/regstorm/ue"
)

// The cores own their settings: each one's Defaults gives the default
// values and its ValidateSettings the ranges, keyed by the setting's name
// in the core's section of a profile. This file maps the profile's
// sections onto the cores' configurations and back; nothing here repeats a
// default or a range.

// coreDefaults are the profile's ue, scscf and hss sections as the cores'
// defaults have them.
func coreDefaults() (UE, SCSCF, HSS) {
	u, s, h := ue.Defaults(), scscf.Defaults(), hss.Defaults()
	transport := "tcp"
	if u.UDP {
		transport = "udp"
	}
	return UE{
		ThinkTime: distOf(u.ThinkTime), Transport: transport, Algorithm: u.Algorithm,
		T1: Duration(u.T1), T2: Duration(u.T2), TimerF: Duration(u.TimerF), Expires: u.Expires,
		Reregister: u.Reregister,
		Retry:      Retry{Enabled: u.Retry, Base: Duration(u.RetryBase), Max: Duration(u.RetryMax), MaxAttempts: int64(u.RetryAttempts)},
		Deregister: Deregister{At: Duration(u.DeregisterAt), Spread: Duration(u.DeregisterSpread)},
	}, scscfSection(s), hssSection(h)
}

// distOf writes a core's default distribution as a profile's.
func distOf(d sim.Dist) Dist {
	switch d := d.(type) {
	case sim.Constant:
		return Dist{Dist: "constant", Value: Duration(d.D)}
	case sim.Uniform:
		return Dist{Dist: "uniform", Min: Duration(d.Min), Max: Duration(d.Max)}
	case sim.Exponential:
		return Dist{Dist: "exponential", Mean: Duration(d.Mean)}
	case sim.Normal:
		return Dist{Dist: "normal", Mean: Duration(d.Mean), Stddev: Duration(d.Stddev)}
	case sim.LogNormal:
		return Dist{Dist: "lognormal", P50: Duration(d.P50), P99: Duration(d.P99)}
	}
	panic(fmt.Sprintf("profiles: a core's default distribution %v has no profile form", d))
}

// Population builds the subscriber population of a validated profile.
func (p *Profile) Population() (subscriber.Population, error) {
	impi, err := subscriber.ParseTemplate(p.Subscribers.IMPI)
	if err != nil {
		return subscriber.Population{}, err
	}
	impu, err := subscriber.ParseTemplate(p.Subscribers.IMPU)
	if err != nil {
		return subscriber.Population{}, err
	}
	amf, err := ParseAMF(p.Subscribers.AMF)
	if err != nil {
		return subscriber.Population{}, err
	}
	table, err := p.Subscribers.Table()
	if err != nil {
		return subscriber.Population{}, err
	}
	return subscriber.Population{Count: uint32(p.UEs), Realm: p.Subscribers.Realm, IMPI: impi, IMPU: impu,
		AMF: amf, KeySeed: p.Seed, Table: table}, nil
}

// scscfSection is the scscf section of the core's configuration c: every
// field tagged profile:"key" copied to the section's field of that key,
// then the settings the profile spells its own way.
func scscfSection(c scscf.Config) SCSCF {
	s := SCSCF{Preset: scscf.DefaultPreset, MaxExpires: -1, CheckTrans: !c.RechallengeOnRetx}
	copyTagged(reflect.ValueOf(&s).Elem(), reflect.ValueOf(&c).Elem(), false)
	return s
}

// apply sets the section's settings on c (its preset and strategies
// aside): the fields tagged profile:"key" from the section's field of that
// key, check_trans as its inverse, max_expires unless -1 (c's, the
// preset's). The service distributions are the built ones, or constant 0
// when one does not build (validation reports it).
func (s *SCSCF) apply(c *scscf.Config) {
	copyTagged(reflect.ValueOf(s).Elem(), reflect.ValueOf(c).Elem(), true)
	c.RechallengeOnRetx = !s.CheckTrans
	if s.MaxExpires >= 0 {
		c.MaxExpires = uint32(s.MaxExpires)
	}
}

// copyTagged copies between a core's configuration (a struct whose
// settings carry a profile:"key" tag) and a profile section (a struct with
// yaml:"key" tags): to the core when toCore, else to the section. Numbers
// and durations convert by kind; a distribution is built (constant 0 when
// it does not build) or written back (distOf). A tagged field without a
// section field of its key panics: the schema lacks the setting
// (TestCoreSettingsInTheSchema).
func copyTagged(section, core reflect.Value, toCore bool) {
	st := section.Type()
	keys := make(map[string]int, st.NumField())
	for i := range st.NumField() {
		k, _, _ := strings.Cut(st.Field(i).Tag.Get("yaml"), ",")
		keys[k] = i
	}
	ct := core.Type()
	for i := range ct.NumField() {
		key, ok := ct.Field(i).Tag.Lookup("profile")
		if !ok {
			continue
		}
		j, ok := keys[key]
		if !ok {
			panic(fmt.Sprintf("profiles: %s.%s (profile key %q) has no field in profiles.%s", ct, ct.Field(i).Name, key, st.Name()))
		}
		cf, sf := core.Field(i), section.Field(j)
		switch d := sf.Addr().Interface().(type) {
		case *Dist:
			if toCore {
				cf.Set(reflect.ValueOf(builtOr(d)))
			} else {
				*d = distOf(cf.Interface().(sim.Dist))
			}
			continue
		}
		if toCore {
			cf.Set(sf.Convert(cf.Type()))
		} else {
			sf.Set(cf.Convert(sf.Type()))
		}
	}
}

// builtOr returns the built distribution, or constant 0 if it does not build.
func builtOr(d *Dist) sim.Dist {
	if b, err := d.Build(); err == nil {
		return b
	}
	return sim.Constant{}
}

// SCSCFConfig maps the profile and variant v to the S-CSCF's
// configuration: the variant's preset, then its strategy overrides, then
// the profile's settings (max_expires -1 keeps the preset's).
func (p *Profile) SCSCFConfig(v *Variant) (scscf.Config, error) {
	c := scscf.Defaults()
	preset, err := scscf.LookupPreset(v.Preset)
	if err != nil {
		return c, err
	}
	preset.Apply(&c)
	for _, o := range []struct {
		val string
		dst *scscf.Strategy
	}{{v.MARResume, &c.MARResume}, {v.SAROKResume, &c.SAROKResume}, {v.SARErrResume, &c.SARErrResume}} {
		if o.val == "" {
			continue
		}
		if *o.dst, err = scscf.ParseStrategy(o.val); err != nil {
			return c, err
		}
	}
	s := &p.SCSCF
	c.Realm = p.Subscribers.Realm
	s.apply(&c)
	if c.SIPService, err = s.SIPService.Build(); err != nil {
		return c, err
	}
	if c.CDPService, err = s.CDPService.Build(); err != nil {
		return c, err
	}
	return c, nil
}

// settings maps the section onto the HSS's configuration, the
// distributions built or constant 0 (validation reports them).
func (h *HSS) settings() hss.Config {
	c := hss.Defaults()
	copyTagged(reflect.ValueOf(h).Elem(), reflect.ValueOf(&c).Elem(), true)
	c.Faults = nil
	for i := range h.Faults {
		var f hss.Fault
		copyTagged(reflect.ValueOf(&h.Faults[i]).Elem(), reflect.ValueOf(&f).Elem(), true)
		c.Faults = append(c.Faults, f)
	}
	return c
}

// hssSection is the hss section of the core's configuration c (its
// faults aside: a profile starts with none).
func hssSection(c hss.Config) HSS {
	var h HSS
	copyTagged(reflect.ValueOf(&h).Elem(), reflect.ValueOf(&c).Elem(), false)
	return h
}

// HSSConfig maps the profile to the HSS's configuration (the simulation
// and `regstorm hss` use the same); the caller sets the peers and the
// collector.
func (p *Profile) HSSConfig() (hss.Config, error) {
	pop, err := p.Population()
	if err != nil {
		return hss.Config{}, err
	}
	c := p.HSS.settings()
	c.OriginHost, c.OriginRealm, c.Population = "hss."+pop.Realm, pop.Realm, pop
	for _, d := range []struct {
		dst *sim.Dist
		src *Dist
	}{{&c.MARLatency, &p.HSS.MARLatency}, {&c.SARLatency, &p.HSS.SARLatency}, {&c.Service, &p.HSS.Service}} {
		if *d.dst, err = d.src.Build(); err != nil {
			return c, fmt.Errorf("profiles: hss: %w", err)
		}
	}
	return c, nil
}

// settings maps the ue section (and the closed loop's concurrency) onto
// the fleet's configuration, the think time built or constant 0.
func (p *Profile) ueSettings() ue.Config {
	u := &p.UE
	conc := 0
	if p.Arrival.Shape == "closed" {
		conc = int(p.Arrival.Concurrency)
	}
	return ue.Config{ThinkTime: builtOr(&u.ThinkTime), TimerF: u.TimerF.D(), UDP: u.Transport == "udp", T1: u.T1.D(), T2: u.T2.D(),
		Expires: u.Expires, Reregister: u.Reregister, Retry: u.Retry.Enabled, RetryBase: u.Retry.Base.D(),
		RetryMax: u.Retry.Max.D(), RetryAttempts: int(u.Retry.MaxAttempts), DeregisterAt: u.Deregister.At.D(),
		DeregisterSpread: u.Deregister.Spread.D(), Concurrency: conc, Algorithm: u.Algorithm}
}

// UEConfig maps the profile to the UE fleet's configuration (the
// simulation and the live fleet use the same); the caller sets the S-CSCF
// peer and the collector.
func (p *Profile) UEConfig() (ue.Config, error) {
	pop, err := p.Population()
	if err != nil {
		return ue.Config{}, err
	}
	c := p.ueSettings()
	if c.ThinkTime, err = p.UE.ThinkTime.Build(); err != nil {
		return ue.Config{}, fmt.Errorf("profiles: ue.think_time: %w", err)
	}
	c.Population, c.Arrivals = pop, p.Arrival.Pacer(p.UEs, sim.NewStream(p.Seed, "arrivals"))
	return c, nil
}

// coreKeys are the profile keys of core settings that do not live in the
// core's own section.
var coreKeys = map[string]string{"ue.concurrency": "arrival.concurrency"}

// core reports a core's setting problems at the lines of their keys in
// the profile's section.
func (v *validator) core(section string, err error) {
	fielderr.Walk(err, func(field, msg string) {
		key := section
		if field != "" {
			key += "." + field
		}
		if k, ok := coreKeys[key]; ok {
			key = k
		}
		v.addf(key, "%s", msg)
	})
}

// validateCores checks the ue, scscf and hss sections with the cores' own
// rules.
func (v *validator) validateCores(p *Profile) {
	u := p.ueSettings()
	v.core("ue", u.ValidateSettings())
	c := scscf.Defaults()
	p.SCSCF.apply(&c)
	v.core("scscf", c.ValidateSettings())
	h := p.HSS.settings()
	v.core("hss", h.ValidateSettings())
}
