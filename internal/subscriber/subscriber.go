// Package subscriber describes a population of IMS subscribers by templates
// (IMPI/IMPU with an {n} placeholder), so that identities derive from an
// index on demand and a million subscribers cost no stored strings. Both the
// HSS and the UE fleet use it: they agree on identities and keys without
// sharing state.
package subscriber

import (
	"fmt"
	"unsafe"

	"github.com/regstorm/regstorm/internal/aka"
	"strconv"
	"strings"
)

// Template is an identity pattern with one {n} placeholder.
type Template struct {
	prefix, suffix string
	raw            string
}

// ParseTemplate checks that s contains exactly one {n}.
func ParseTemplate(s string) (Template, error) {
	i := strings.Index(s, "{n}")
	if i < 0 || strings.Count(s, "{n}") != 1 {
		return Template{}, fmt.Errorf("identity template %q must contain {n} exactly once", s)
	}
	return Template{prefix: s[:i], suffix: s[i+3:], raw: s}, nil
}

// Format returns the identity of index n.
func (t Template) Format(n uint32) string {
	var buf [24]byte
	d := strconv.AppendUint(buf[:0], uint64(n), 10)
	b := make([]byte, 0, len(t.prefix)+len(d)+len(t.suffix))
	b = append(append(append(b, t.prefix...), d...), t.suffix...)
	return unsafeString(b)
}

// Index recovers n from an identity, without allocating.
func (t Template) Index(id string) (uint32, bool) {
	if len(id) <= len(t.prefix)+len(t.suffix) || !strings.HasPrefix(id, t.prefix) || !strings.HasSuffix(id, t.suffix) {
		return 0, false
	}
	v, err := strconv.ParseUint(id[len(t.prefix):len(id)-len(t.suffix)], 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

func (t Template) String() string { return t.raw }

// Population is Count subscribers with identities IMPI(i), IMPU(i), i in
// [0, Count): from the templates and KeySeed, or from a Table loaded from
// a file.
type Population struct {
	Count uint32
	Realm string
	IMPI  Template
	IMPU  Template
	AMF   uint16
	// KeySeed seeds K and OPc (aka.DeriveKeys).
	KeySeed uint64
	// Table, when set, lists the subscribers explicitly.
	Table *Table
}

// IMPIOf is the private identity of subscriber i.
func (p *Population) IMPIOf(i uint32) string {
	if p.Table != nil {
		return p.Table.Entries[i].IMPI
	}
	return p.IMPI.Format(i)
}

// IMPUOf is the public identity of subscriber i.
func (p *Population) IMPUOf(i uint32) string {
	if p.Table != nil {
		return p.Table.Entries[i].IMPU
	}
	return p.IMPU.Format(i)
}

// KeysOf returns subscriber i's K and OPc.
func (p *Population) KeysOf(i uint32) aka.Keys {
	if p.Table != nil {
		return p.Table.Entries[i].Keys
	}
	return aka.DeriveKeys(p.KeySeed, i)
}

// AMFOf returns subscriber i's AMF.
func (p *Population) AMFOf(i uint32) uint16 {
	if p.Table != nil {
		return p.Table.Entries[i].AMF
	}
	return p.AMF
}

// InitialSQN is the SQN the HSS holds for subscriber i before any vector.
func (p *Population) InitialSQN(i uint32) uint64 {
	if p.Table != nil {
		return p.Table.Entries[i].SQN
	}
	return 0
}

// LookupIMPI returns the index of an IMPI in the population.
func (p *Population) LookupIMPI(impi string) (uint32, bool) {
	if p.Table != nil {
		n, ok := p.Table.byIMPI[impi]
		return n, ok && n < p.Count
	}
	n, ok := p.IMPI.Index(impi)
	return n, ok && n < p.Count
}

// LookupIMPU returns the index of an IMPU in the population.
func (p *Population) LookupIMPU(impu string) (uint32, bool) {
	if p.Table != nil {
		n, ok := p.Table.byIMPU[impu]
		return n, ok && n < p.Count
	}
	n, ok := p.IMPU.Index(impu)
	return n, ok && n < p.Count
}

// Matches reports whether impi and impu belong to the same subscriber.
func (p *Population) Matches(impi, impu string) bool {
	a, ok1 := p.LookupIMPI(impi)
	b, ok2 := p.LookupIMPU(impu)
	return ok1 && ok2 && a == b
}

// unsafeString returns b as a string without copying; b must not change
// afterwards (it is a fresh buffer nobody else holds).
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
