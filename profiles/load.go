package profiles

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"go.yaml.in/yaml/v3"
)

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
