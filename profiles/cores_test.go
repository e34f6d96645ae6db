package profiles

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/regstorm/regstorm/hss"
	"github.com/regstorm/regstorm/scscf"
	"github.com/regstorm/regstorm/sim"
	"github.com/regstorm/regstorm/ue"
)

// A core's field error is reported at the line of the profile key it
// names, with the core's own message.
func TestCoreFieldErrorsAtTheirLines(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"name: x\nues: 10\nscscf:\n  preset: kamailio-6.1\n  fr_timer: 0s\n" + oneVariant, ":5: scscf.fr_timer: must be positive"},
		{"name: x\nues: 10\nscscf:\n  av_request_at_once: 17\n" + oneVariant, ":4: scscf.av_request_at_once: must be in [1, 16], got 17"},
		{"name: x\nues: 10\nscscf:\n  cdp_workers: 70000\n" + oneVariant, ":4: scscf.cdp_workers: must be in [0, 65536], got 70000"},
		{"name: x\nues: 10\nscscf:\n  auth_vector_purge_phase: 11s\n" + oneVariant, ":4: scscf.auth_vector_purge_phase: purge phase in [0, 10s)"},
		{"name: x\nues: 10\nue:\n  algorithm: SHA\n" + oneVariant, `:4: ue.algorithm: want AKAv1-MD5, AKAv2-MD5 or MD5, got "SHA"`},
		{"name: x\nues: 10\nue:\n  t1: 5s\n  t2: 1s\n" + oneVariant, ":4: ue.t1: udp needs 0 < t1 <= t2"},
		{"name: x\nues: 10\nhss:\n  faults:\n    - {at: 1s, for: 1s, kind: errors, rate: 0.5, codes: [200]}\n" + oneVariant, ":5: hss.faults.0.codes: 200 is not a Diameter 3xxx-5xxx code"},
		{"name: x\nues: 10\nhss:\n  faults:\n    - {at: 1s, for: 1s, kind: flood}\n" + oneVariant, `:5: hss.faults.0.kind: unknown fault kind "flood" (want latency, outage, `},
		{"name: x\nues: 10\nhss:\n  overflow: queue\n" + oneVariant, `:4: hss.overflow: want busy (answer 3004) or drop, got "queue"`},
		{"name: x\nues: 10\nscscf:\n  preset: kamailio-9\n" + oneVariant, `:4: scscf.preset: unknown preset "kamailio-9" (want one of kamailio-5.3, kamailio-5.6,`},
	} {
		path, err := loadErr(t, c.body, nil)
		if !strings.Contains(err, path+c.want) {
			t.Errorf("%q:\n%s\nwant %q", c.body, err, c.want)
		}
	}
	// Through --set, the key names where the value came from.
	if _, err := Load("default", []string{"scscf.fr_timer=0s"}); err == nil || !strings.Contains(err.Error(), "--set scscf.fr_timer: scscf.fr_timer: must be positive") {
		t.Errorf("--set: %v", err)
	}
}

// The profile's ue, scscf and hss defaults are the cores' own: the
// configurations a default profile fills equal the cores' Defaults where
// the profile does not set a value of its own (realm, population, arrivals).
func TestDefaultsAreTheCores(t *testing.T) {
	p, err := Load("default", nil)
	if err != nil {
		t.Fatal(err)
	}
	q := Defaults()
	q.Variants = []Variant{{Name: "v", Preset: scscf.DefaultPreset}}
	sc, err := q.SCSCFConfig(&q.Variants[0])
	if err != nil {
		t.Fatal(err)
	}
	want := scscf.Defaults()
	want.Realm = q.Subscribers.Realm
	if sc.FRTimer != want.FRTimer || sc.AVRequestAtOnce != want.AVRequestAtOnce || sc.MaxExpires != want.MaxExpires ||
		sc.CDPQueue != want.CDPQueue || sc.RechallengeOnRetx != want.RechallengeOnRetx || sc.MARResume != want.MARResume ||
		sc.SIPService != want.SIPService || sc.ExpiresBufferPercent != want.ExpiresBufferPercent {
		t.Errorf("scscf config from the default profile %+v, want the core's defaults %+v", sc, want)
	}
	u, hd := ue.Defaults(), hss.Defaults()
	if p.UE.T1.D() != u.T1 || p.UE.TimerF.D() != u.TimerF || p.UE.Expires != u.Expires || p.UE.Retry.Max.D() != u.RetryMax ||
		q.UE.ThinkTime.Value.D() != 10*time.Millisecond {
		t.Errorf("ue section %+v, core defaults %+v", p.UE, u)
	}
	if h := q.HSS.settings(); h.QueueCap != hd.QueueCap || h.Overflow != hd.Overflow || h.MARLatency != hd.MARLatency || h.SARLatency != hd.SARLatency {
		t.Errorf("hss settings %+v, core defaults %+v", h, hd)
	}
	if strings.Join(Presets, ",") != strings.Join(scscf.PresetNames(), ",") {
		t.Errorf("presets %v", Presets)
	}
}

// Every setting the S-CSCF and the HSS tag profile:"key" has a field of
// that key in the profile's section, and every key of the section reaches
// the core (tagged, or one the profile spells its own way).
func TestCoreSettingsInTheSchema(t *testing.T) {
	_ = scscfSection(scscf.Defaults()) // panics on a tagged field the schema lacks
	_ = hssSection(hss.Defaults())
	_ = (&HSS{Faults: []Fault{{}}}).settings()
	for _, c := range []struct {
		core, section reflect.Type
		own           []string // keys the profile spells its own way
	}{
		{reflect.TypeFor[scscf.Config](), reflect.TypeFor[SCSCF](), []string{"preset", "max_expires", "t_check_trans"}},
		{reflect.TypeFor[hss.Config](), reflect.TypeFor[HSS](), []string{"faults"}},
		{reflect.TypeFor[hss.Fault](), reflect.TypeFor[Fault](), nil},
	} {
		tagged := map[string]bool{}
		for _, k := range c.own {
			tagged[k] = true
		}
		for i := range c.core.NumField() {
			if k, ok := c.core.Field(i).Tag.Lookup("profile"); ok {
				tagged[k] = true
			}
		}
		for i := range c.section.NumField() {
			if k, _, _ := strings.Cut(c.section.Field(i).Tag.Get("yaml"), ","); !tagged[k] {
				t.Errorf("%s: key %s is in the profile schema but no %s field is tagged profile:%q", c.section, k, c.core, k)
			}
		}
	}
	// A changed setting reaches the core.
	p, err := Load("default", []string{"scscf.max_nonce_reuse=3", "scscf.t_check_trans=false", "scscf.cdp_service.dist=uniform",
		"scscf.cdp_service.max=2ms", "scscf.max_expires=7"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.SCSCFConfig(&p.Variants[0])
	if err != nil || c.MaxNonceReuse != 3 || !c.RechallengeOnRetx || c.MaxExpires != 7 || c.CDPService != (sim.Uniform{Max: 2 * time.Millisecond}) {
		t.Errorf("%v: %+v", err, c)
	}
}
