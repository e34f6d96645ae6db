package profiles

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/scscf"
)

// validator collects problems with their source lines.
type validator struct {
	dir      string // the profile file's directory, for relative paths
	where    string
	root     *yaml.Node
	problems []string
}

// lineOf finds the line of the key at a dotted path: "" and set=false when
// the path is not in the document (a default), set=true when --set wrote it.
func (v *validator) lineOf(p string) (line string, set bool) {
	n := v.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	l := 0
	for _, part := range strings.Split(p, ".") {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == part {
					next = n.Content[j+1]
					l = n.Content[j].Line
				}
			}
		case yaml.SequenceNode:
			if idx, err := strconv.Atoi(part); err == nil && idx < len(n.Content) {
				next = n.Content[idx]
				l = next.Line
			}
		}
		if next == nil {
			return "", false
		}
		if next.Line == 0 || l == 0 {
			return "", true
		}
		n = next
	}
	return strconv.Itoa(l), false
}

func (v *validator) addf(key, format string, args ...any) {
	loc := v.where
	switch l, set := v.lineOf(key); {
	case l != "":
		loc += ":" + l
	case set:
		loc = "--set " + key
	default:
		loc += " (default)"
	}
	v.problems = append(v.problems, fmt.Sprintf("%s: %s: %s", loc, key, fmt.Sprintf(format, args...)))
}

func (v *validator) dist(key string, d *Dist) {
	d.dir = v.dir
	if _, err := d.Build(); err != nil {
		v.addf(key, "%v", err)
	}
}

func (v *validator) validate(p *Profile) {
	if p.Name == "" {
		v.addf("name", "must be set")
	}
	uesOK := v.checkUEs(p)
	if len(p.Variants) > MaxVariants {
		v.addf("variants", "%d variants, more than the %d a run may compare", len(p.Variants), MaxVariants)
	}
	v.checkDurations("", reflect.ValueOf(p).Elem())
	if p.Fidelity != "struct" && p.Fidelity != "wire" {
		v.addf("fidelity", "want struct or wire, got %q", p.Fidelity)
	}
	if p.Duration < 0 {
		v.addf("duration", "must be >= 0 (0 runs until no work is left)")
	}
	a := &p.Arrival
	switch a.Shape {
	case "uniform", "poisson", "storm", "steady":
	case "constant", "ramp", "staircase":
		v.checkRates(p)
	case "closed":
		if a.Concurrency <= 0 {
			v.addf("arrival.concurrency", "a closed loop needs concurrency > 0")
		}
	default:
		v.addf("arrival.shape", "unknown shape %q (want uniform, poisson, constant, ramp, staircase, storm, closed or steady)", a.Shape)
	}
	if a.Shape == "steady" && !p.UE.Reregister {
		v.addf("arrival.shape", "steady needs ue.reregister: true")
	}
	if p.UE.Reregister && p.Duration == 0 {
		v.addf("ue.reregister", "re-registering UEs never stop: set duration")
	}
	if p.Arrival.Window < 0 || p.Arrival.Start < 0 {
		v.addf("arrival.window", "start and window must be >= 0")
	}
	for _, t := range []struct{ key, val string }{{"subscribers.impi", p.Subscribers.IMPI}, {"subscribers.impu", p.Subscribers.IMPU}} {
		if _, err := subscriber.ParseTemplate(t.val); err != nil {
			v.addf(t.key, "%v", err)
		}
	}
	p.Subscribers.dir, p.Subscribers.rows = v.dir, p.UEs
	// The file is read up to ues rows, so not before ues is known good.
	if uesOK {
		if t, err := p.Subscribers.Table(); err != nil {
			v.addf("subscribers.file", "%v", err)
		} else if t != nil && int64(len(t.Entries)) < p.UEs {
			v.addf("subscribers.file", "%d subscribers in the file, fewer than ues (%d)", len(t.Entries), p.UEs)
		}
	}
	if p.Subscribers.Realm == "" {
		v.addf("subscribers.realm", "must be set")
	}
	if _, err := ParseAMF(p.Subscribers.AMF); err != nil {
		v.addf("subscribers.amf", "%v", err)
	}
	v.dist("network.ue_scscf", &p.Network.UESCSCF)
	v.dist("network.scscf_hss", &p.Network.SCSCFHSS)
	v.dist("ue.think_time", &p.UE.ThinkTime)
	v.dist("hss.mar_latency", &p.HSS.MARLatency)
	v.dist("hss.sar_latency", &p.HSS.SARLatency)
	if p.UE.Transport != "udp" && p.UE.Transport != "tcp" {
		v.addf("ue.transport", "want udp or tcp, got %q", p.UE.Transport)
	}
	v.dist("hss.service", &p.HSS.Service)
	if _, err := scscf.LookupPreset(p.SCSCF.Preset); err != nil {
		v.addf("scscf.preset", "%v", err)
	}
	v.dist("scscf.sip_service", &p.SCSCF.SIPService)
	v.dist("scscf.cdp_service", &p.SCSCF.CDPService)
	if m := p.SCSCF.MaxExpires; m < -1 || m > 1<<32-1 {
		v.addf("scscf.max_expires", "must be in [0, 2^32), or -1 for the preset's")
	}
	v.validateCores(p)
	if len(p.Variants) == 0 {
		v.addf("variants", "list at least one variant")
	}
	seen := map[string]bool{}
	for _, vr := range p.Variants {
		seen[vr.Name] = true
	}
	for i, e := range p.Expect {
		k := "expect." + strconv.Itoa(i)
		if err := results.ValidMetric(e.Metric); err != nil {
			v.addf(k+".metric", "%v", err)
		}
		if !slices.Contains(results.Ops, e.Op) {
			v.addf(k+".op", "want one of %s, got %q", strings.Join(results.Ops, " "), e.Op)
		}
		if e.Variant != "" && !seen[e.Variant] {
			v.addf(k+".variant", "no variant named %q", e.Variant)
		}
	}
	seen = map[string]bool{}
	for i, vr := range p.Variants {
		k := "variants." + strconv.Itoa(i)
		if vr.Name == "" {
			v.addf(k+".name", "must be set")
		} else if seen[vr.Name] {
			v.addf(k+".name", "duplicate variant name %q", vr.Name)
		}
		seen[vr.Name] = true
		if vr.Preset != "" {
			if _, err := scscf.LookupPreset(vr.Preset); err != nil {
				v.addf(k+".preset", "%v", err)
			}
		}
		for j, set := range vr.Set {
			if _, _, ok := strings.Cut(set, "="); !ok {
				v.addf(k+".set."+strconv.Itoa(j), "want key.path=value, got %q", set)
			}
		}
		for _, st := range []struct{ key, val string }{{".mar_resume", vr.MARResume}, {".sar_ok_resume", vr.SAROKResume}, {".sar_error_resume", vr.SARErrResume}} {
			if st.val == "" {
				continue
			}
			if _, err := scscf.ParseStrategy(st.val); err != nil {
				v.addf(k+st.key, "%v", err)
			}
		}
	}
}
