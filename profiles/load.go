package profiles

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/scscf"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtin is an embedded profile.
type Builtin struct {
	Name        string
	Description string
	Source      []byte
}

// Builtins lists the embedded profiles by name.
func Builtins() ([]Builtin, error) {
	entries, err := builtinFS.ReadDir("builtin")
	if err != nil {
		return nil, fmt.Errorf("profiles: reading built-ins: %w", err)
	}
	var out []Builtin
	for _, e := range entries {
		b, err := builtinFS.ReadFile(path.Join("builtin", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("profiles: reading %s: %w", e.Name(), err)
		}
		var head struct {
			Description string `yaml:"description"`
		}
		_ = yaml.Unmarshal(b, &head) // validated by tests; the description is cosmetic here
		out = append(out, Builtin{Name: strings.TrimSuffix(e.Name(), ".yaml"), Description: head.Description, Source: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Error lists every problem found in a profile, each as "where: what".
type Error struct {
	Problems []string
}

func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }

// Load reads a profile by built-in name or file path, applies overrides of
// the form key.path=value (e.g. hss.mar_latency.p50=30ms, variants.0.name=x)
// and validates it. Problems are reported as *Error with file:line.
func Load(nameOrPath string, sets []string) (*Profile, error) {
	src, where, err := read(nameOrPath)
	if err != nil {
		return nil, err
	}
	return Parse(src, where, sets)
}

func read(nameOrPath string) ([]byte, string, error) {
	if b, err := builtinFS.ReadFile(path.Join("builtin", nameOrPath+".yaml")); err == nil && !strings.ContainsAny(nameOrPath, "/\\.") {
		return b, "builtin:" + nameOrPath, nil
	}
	b, err := readProfile(nameOrPath)
	if err != nil {
		names := []string{}
		if bs, e := Builtins(); e == nil {
			for _, x := range bs {
				names = append(names, x.Name)
			}
		}
		return nil, "", fmt.Errorf("profile %q is neither a built-in (%s) nor a readable file: %w",
			nameOrPath, strings.Join(names, ", "), err)
	}
	return b, nameOrPath, nil
}

// readProfile reads a profile file of at most MaxProfileBytes (a pipe
// such as <(...) is fine; /dev/zero ends at the cap).
func readProfile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxProfileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxProfileBytes {
		return nil, fmt.Errorf("larger than the %d MiB a profile may be", MaxProfileBytes>>20)
	}
	return b, nil
}

var lineRE = regexp.MustCompile(`^line (\d+): (.*)$`)
var fieldRE = regexp.MustCompile(`^field (\S+) not found in type profiles\.(\w+)$`)

// section names the YAML section a Go type decodes.
var section = map[string]string{
	"Profile": "the top level", "Arrival": "arrival", "Subscribers": "subscribers", "Network": "network",
	"UE": "ue", "SCSCF": "scscf", "HSS": "hss", "Variant": "a variant", "Dist": "a distribution",
}

// keyAtLine returns the dotted path of the key on a line ("" if none).
func keyAtLine(n *yaml.Node, line int, prefix string) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if k := keyAtLine(c, line, prefix); k != "" {
				return k
			}
		}
	case yaml.MappingNode:
		for j := 0; j+1 < len(n.Content); j += 2 {
			path := n.Content[j].Value
			if prefix != "" {
				path = prefix + "." + path
			}
			if n.Content[j].Line == line && n.Content[j+1].Kind == yaml.ScalarNode && n.Content[j+1].Line == line {
				return path
			}
			if k := keyAtLine(n.Content[j+1], line, path); k != "" {
				return k
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if k := keyAtLine(c, line, prefix+"."+strconv.Itoa(i)); k != "" {
				return k
			}
		}
	}
	return ""
}

// yamlProblems turns yaml.v3 errors into "where:line: message" lines; root,
// when known, names the key of a mistyped value.
func yamlProblems(err error, where string, root ...*yaml.Node) []string {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var out []string
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		if g := lineRE.FindStringSubmatch(m); g != nil {
			msg := g[2]
			if f := fieldRE.FindStringSubmatch(msg); f != nil {
				msg = fmt.Sprintf("unknown key %q in %s", f[1], section[f[2]])
			}
			msg = strings.ReplaceAll(msg, "profiles.", "")
			if len(root) > 0 && !strings.HasPrefix(msg, "unknown key") {
				if l, err := strconv.Atoi(g[1]); err == nil {
					if k := keyAtLine(root[0], l, ""); k != "" {
						msg = k + ": " + msg
					}
				}
			}
			out = append(out, where+":"+g[1]+": "+msg)
			continue
		}
		out = append(out, where+": "+m)
	}
	return out
}

// Parse decodes src (named where in messages) over Defaults, applies sets
// and validates.
func Parse(src []byte, where string, sets []string) (*Profile, error) {
	return parse(src, where, sets, true)
}

func parse(src []byte, where string, sets []string, variants bool) (*Profile, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, &Error{yamlProblems(err, where)}
	}
	if root.Kind == 0 {
		return nil, &Error{[]string{where + ": empty profile"}}
	}
	p := Defaults()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, &Error{yamlProblems(err, where, &root)}
	}
	for _, set := range sets {
		if err := applySet(&root, set); err != nil {
			return nil, &Error{[]string{"--set " + set + ": " + err.Error()}}
		}
		// Re-decode after each override so a bad one is named.
		out, err := yaml.Marshal(&root)
		if err != nil {
			return nil, fmt.Errorf("profiles: re-encoding after --set: %w", err)
		}
		p = Defaults()
		dec := yaml.NewDecoder(bytes.NewReader(out))
		dec.KnownFields(true)
		if err := dec.Decode(&p); err != nil {
			var msgs []string
			for _, m := range yamlProblems(err, "") {
				m = strings.TrimPrefix(m, ":")
				if g := lineRE.FindStringSubmatch(m); g != nil {
					m = g[2]
				} else if i := strings.Index(m, ": "); i >= 0 && strings.Trim(m[:i], "0123456789") == "" {
					m = m[i+2:]
				}
				msgs = append(msgs, "--set "+set+": "+m)
			}
			return nil, &Error{msgs}
		}
	}
	v := validator{where: where, root: &root}
	if !strings.HasPrefix(where, "builtin:") {
		v.dir = filepath.Dir(where)
	}
	v.validate(&p)
	if len(v.problems) > 0 {
		return nil, &Error{v.problems}
	}
	fill(&p)
	p.src, p.where, p.sets = src, where, sets
	if !variants {
		return &p, nil
	}
	ues := make([]int64, len(p.Variants))
	for i := range p.Variants {
		ues[i] = p.UEs
		if len(p.Variants[i].Set) > 0 {
			q, err := p.ForVariant(i)
			if err != nil {
				return nil, err
			}
			ues[i] = q.UEs
		}
	}
	p.variantUEs = ues
	v.checkVariantsMemory(&p, ues, runtime.GOMAXPROCS(0))
	if len(v.problems) > 0 {
		return nil, &Error{v.problems}
	}
	return &p, nil
}

// ForVariant returns the profile as variant i sees it: the document with
// the command line's overrides and then the variant's own set list.
func (p *Profile) ForVariant(i int) (*Profile, error) {
	v := p.Variants[i]
	if len(v.Set) == 0 {
		return p, nil
	}
	if p.src == nil {
		return nil, fmt.Errorf("profiles: variant %s has overrides but the profile has no source", v.Name)
	}
	for _, set := range v.Set {
		if strings.HasPrefix(set, "variants") {
			return nil, &Error{[]string{fmt.Sprintf("%s: variant %s: set %q may not change the variants", p.where, v.Name, set)}}
		}
	}
	q, err := parse(p.src, p.where, append(append([]string(nil), p.sets...), v.Set...), false)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			for j := range pe.Problems {
				pe.Problems[j] = "variant " + v.Name + ": " + pe.Problems[j]
			}
		}
		return nil, err
	}
	q.Variants = p.Variants
	return q, nil
}

// fill completes per-variant defaults: a variant without a preset takes
// the profile's.
func fill(p *Profile) {
	for i := range p.Variants {
		if p.Variants[i].Preset == "" {
			p.Variants[i].Preset = p.SCSCF.Preset
		}
	}
}

// applySet sets a scalar at a dotted path in a YAML document tree, creating
// mapping keys as needed; numeric components index sequences.
func applySet(root *yaml.Node, set string) error {
	key, val, ok := strings.Cut(set, "=")
	if !ok || key == "" {
		return errors.New("want key.path=value")
	}
	n := root
	if n.Kind == yaml.DocumentNode {
		n = n.Content[0]
	}
	parts := strings.Split(key, ".")
	for i, part := range parts {
		last := i == len(parts)-1
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == part {
					next = n.Content[j+1]
				}
			}
			if next == nil {
				next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: part}, next)
			}
			if last {
				*next = yaml.Node{Kind: yaml.ScalarNode, Value: val}
			}
			n = next
		case yaml.SequenceNode:
			idx, err := strconv.Atoi(part)
			if err != nil || idx < 0 || idx >= len(n.Content) {
				return fmt.Errorf("%q is not an index of a list of %d items", part, len(n.Content))
			}
			if last {
				*n.Content[idx] = yaml.Node{Kind: yaml.ScalarNode, Value: val}
			}
			n = n.Content[idx]
		default:
			return fmt.Errorf("%q is inside a scalar", part)
		}
	}
	return nil
}

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

// YAML renders the profile with every default filled in, so it can be
// copied and edited; Parse reads it back to the same profile.
func (p *Profile) YAML() ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# %s, every default filled in (regstorm profiles show)\n", p.where)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("profiles: rendering %s: %w", p.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("profiles: rendering %s: %w", p.Name, err)
	}
	return buf.Bytes(), nil
}

// WithSets returns the profile re-read with more overrides (its own
// command-line overrides first).
func (p *Profile) WithSets(sets []string) (*Profile, error) {
	if p.src == nil {
		return nil, fmt.Errorf("profiles: %s has no source to re-read", p.Name)
	}
	return Parse(p.src, p.where, append(append([]string(nil), p.sets...), sets...))
}
