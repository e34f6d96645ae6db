package profiles

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/regstorm/regstorm/internal/subscriber"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/scscf"
	"github.com/regstorm/regstorm/sim"
)

// Duration is a time.Duration written as "10s", "62.5ms".
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		// A TypeError lets the decoder go on and report every problem.
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a duration (write e.g. 500ms, 10s, 1m30s)", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Profile is one scenario.
type Profile struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Seed        uint64   `yaml:"seed"`
	Duration    Duration `yaml:"duration"` // virtual deadline; 0 runs until no work is left
	UEs         int64    `yaml:"ues"`
	// Fidelity: struct passes messages as values; wire renders every SIP
	// and Cx message to bytes and parses it back (slower; proves the bytes).
	Fidelity    string      `yaml:"fidelity"`
	Arrival     Arrival     `yaml:"arrival"`
	Subscribers Subscribers `yaml:"subscribers"`
	Network     Network     `yaml:"network"`
	UE          UE          `yaml:"ue"`
	SCSCF       SCSCF       `yaml:"scscf"`
	HSS         HSS         `yaml:"hss"`
	Variants    []Variant   `yaml:"variants"`
	// Expect lists pass/fail thresholds; a run that misses one exits 1.
	Expect []Expect `yaml:"expect,omitempty"`

	src   []byte   // the document, for per-variant overrides
	where string   // its name in messages
	sets  []string // the command line's overrides
	// variantUEs are the variants' ues (a variant's set may change it).
	variantUEs []int64
}

// Arrival is when registrations start (the load shape):
//   - uniform: ues evenly spaced over window; poisson: a Poisson process of
//     rate ues/window;
//   - constant: rate per second (window unused);
//   - ramp: the rate rises linearly from `from` to `to` over window, then
//     stays at `to`;
//   - staircase: steps of {rate, for} (ETSI TS 186 008), the last one held;
//   - storm: ues within window, evenly or front_loaded (a network coming
//     back: most UEs early, the density falling linearly to 0);
//   - closed: a closed loop of `concurrency` registrations in progress;
//   - steady: the population starts registered, expiries spread uniformly,
//     so re-registrations arrive at the busy-hour rate (ue.reregister on).
type Arrival struct {
	Shape       string   `yaml:"shape"`
	Start       Duration `yaml:"start"`
	Window      Duration `yaml:"window"`
	Rate        float64  `yaml:"rate,omitempty"`
	From        float64  `yaml:"from,omitempty"`
	To          float64  `yaml:"to,omitempty"`
	Steps       []Step   `yaml:"steps,omitempty"`
	FrontLoaded bool     `yaml:"front_loaded,omitempty"`
	Concurrency int64    `yaml:"concurrency,omitempty"`
}

// Step is one stair of a staircase.
type Step struct {
	Rate float64  `yaml:"rate"`
	For  Duration `yaml:"for"`
}

// Subscribers describes the population (identities from templates).
type Subscribers struct {
	Realm string `yaml:"realm"`
	IMPI  string `yaml:"impi"`
	IMPU  string `yaml:"impu"`
	AMF   string `yaml:"amf"` // 4 hex digits
	// File imports subscribers from a CSV (imsi,impi,impu,k,opc,amf,sqn)
	// instead of deriving them; the templates are then unused.
	File string `yaml:"file,omitempty"`

	table *subscriber.Table
	dir   string
	rows  int64 // rows of the file to read (ues), 0 for all
}

// Table loads (once) the subscriber file, relative to the profile: its
// first ues rows (the ones a run uses; validation sets how many), or all.
func (s *Subscribers) Table() (*subscriber.Table, error) {
	if s.File == "" || s.table != nil {
		return s.table, nil
	}
	path := s.File
	if !filepath.IsAbs(path) && s.dir != "" {
		path = filepath.Join(s.dir, path)
	}
	t, err := subscriber.LoadCSV(path, s.rows)
	if err != nil {
		return nil, err
	}
	s.table = t
	return t, nil
}

// Network gives one-way link latencies.
type Network struct {
	UESCSCF  Dist `yaml:"ue_scscf"`
	SCSCFHSS Dist `yaml:"scscf_hss"`
}

// UE settings.
type UE struct {
	ThinkTime Dist `yaml:"think_time"`
	// Reregister refreshes registrations before they expire (TS 24.229
	// §5.1.1.4); runs then need a duration.
	Reregister bool       `yaml:"reregister"`
	Retry      Retry      `yaml:"retry"`
	Deregister Deregister `yaml:"deregister"`
	Transport  string     `yaml:"transport"` // udp (Timer E retransmissions) or tcp
	// Algorithm: AKAv1-MD5 (RFC 3310), AKAv2-MD5 (RFC 4169) or MD5.
	Algorithm string   `yaml:"algorithm"`
	T1        Duration `yaml:"t1"`
	T2        Duration `yaml:"t2"`
	TimerF    Duration `yaml:"timer_f"`
	Expires   int32    `yaml:"expires"`
}

// Retry after a failed registration (RFC 5626 §4.5 backoff).
type Retry struct {
	Enabled     bool     `yaml:"enabled"`
	Base        Duration `yaml:"base"`
	Max         Duration `yaml:"max"`
	MaxAttempts int64    `yaml:"max_attempts"` // 0 = no limit
}

// Deregister sends Expires: 0 at a virtual time (plus a uniform spread).
type Deregister struct {
	At     Duration `yaml:"at"` // 0 = never
	Spread Duration `yaml:"spread"`
}

// SCSCF settings (Kamailio parameter names). Each key but preset,
// t_check_trans and max_expires is a scscf.Config field's profile tag: the
// core owns its default (scscf.Defaults) and range (Validate); this is the
// key's syntax.
type SCSCF struct {
	Preset               string   `yaml:"preset"` // default for variants
	FRTimer              Duration `yaml:"fr_timer"`
	MaxNonInvLifetime    Duration `yaml:"max_noninv_lifetime"`
	WTTimer              Duration `yaml:"wt_timer"`
	TMTick               Duration `yaml:"tm_tick"`
	CDPTimeout           Duration `yaml:"cdp_transaction_timeout"`
	CDPPhase             Duration `yaml:"cdp_phase"`
	CDPTc                Duration `yaml:"cdp_tc"`
	AVTimeout            Duration `yaml:"auth_vector_timeout"`
	AVUsedTimeout        Duration `yaml:"auth_used_vector_timeout"`
	AVPurgePhase         Duration `yaml:"auth_vector_purge_phase"`
	AVStoreDelay         Duration `yaml:"auth_vector_store_delay"`
	AVRequestAtOnce      uint32   `yaml:"av_request_at_once"`
	MaxNonceReuse        uint32   `yaml:"max_nonce_reuse"`
	Resync               bool     `yaml:"resync"`
	FailureRoute         bool     `yaml:"failure_route"` // t_on_failure armed before suspending
	CheckTrans           bool     `yaml:"t_check_trans"` // absorb retransmissions (false: re-challenge)
	DefaultExpires       uint32   `yaml:"default_expires"`
	MinExpires           uint32   `yaml:"min_expires"`
	MaxExpires           int64    `yaml:"max_expires"` // -1: the preset's
	ExpiresBufferPercent uint32   `yaml:"expires_buffer_percent"`
	Children             int64    `yaml:"children"`
	SIPService           Dist     `yaml:"sip_service"`
	SIPQueue             int64    `yaml:"sip_queue"`
	CDPWorkers           int64    `yaml:"cdp_workers"`
	CDPService           Dist     `yaml:"cdp_service"`
	CDPQueue             int64    `yaml:"cdp_queue"`
}

// HSS settings; each key but faults is a hss.Config field's profile tag
// (defaults hss.Defaults, ranges hss.Config.Validate).
type HSS struct {
	MARLatency Dist    `yaml:"mar_latency"`
	SARLatency Dist    `yaml:"sar_latency"`
	Workers    int64   `yaml:"workers"` // 0 = unlimited capacity
	Service    Dist    `yaml:"service"`
	Queue      int64   `yaml:"queue"`
	Overflow   string  `yaml:"overflow"` // busy (3004) or drop
	Faults     []Fault `yaml:"faults,omitempty"`
}

// Expect is one threshold: metric (a dotted path into a variant's
// summary.json entry) op (<, <=, >, >=, ==, !=) value, for one variant or
// (variant empty) for all.
type Expect struct {
	Variant string  `yaml:"variant,omitempty"`
	Metric  string  `yaml:"metric"`
	Op      string  `yaml:"op"`
	Value   float64 `yaml:"value"`
}

// Expectations converts the profile's thresholds.
func (p *Profile) Expectations() []results.Expectation {
	var out []results.Expectation
	for _, e := range p.Expect {
		out = append(out, results.Expectation{Variant: e.Variant, Metric: e.Metric, Op: e.Op, Value: e.Value})
	}
	return out
}

// Fault is a phase of HSS misbehaviour from at for a duration; the kinds
// and what each reads are the HSS's (hss.FaultKinds, hss.Fault.Validate).
type Fault struct {
	At          Duration `yaml:"at"`
	For         Duration `yaml:"for"`
	Kind        string   `yaml:"kind"`
	Multiplier  float64  `yaml:"multiplier,omitempty"`
	Rate        float64  `yaml:"rate,omitempty"`
	Codes       []uint32 `yaml:"codes,omitempty"`
	Probability float64  `yaml:"probability,omitempty"`
}

// Variant is one arm of the comparison.
type Variant struct {
	Name string `yaml:"name"`
	// Preset is a Kamailio version (see Presets); it fixes the three
	// resume strategies, which the fields below may override one by one.
	Preset       string `yaml:"preset"`
	MARResume    string `yaml:"mar_resume,omitempty"`
	SAROKResume  string `yaml:"sar_ok_resume,omitempty"`
	SARErrResume string `yaml:"sar_error_resume,omitempty"`
	// Set overrides profile keys for this variant only ("key.path=value").
	Set []string `yaml:"set,omitempty"`
}

// Presets are the Kamailio versions the S-CSCF model knows (scscf.Presets).
var Presets = scscf.PresetNames()

// Dist is a latency distribution: dist is constant (value), uniform (min,
// max), normal (mean, stddev; truncated at 0), exponential (mean),
// lognormal (p50, p99), pareto (scale, alpha), mixture (of: components
// with a weight each) or empirical (file: an HdrHistogram .hlog or a CSV
// of measured latencies, unit for plain numbers).
type Dist struct {
	Dist   string   `yaml:"dist"`
	Value  Duration `yaml:"value,omitempty"`
	Min    Duration `yaml:"min,omitempty"`
	Max    Duration `yaml:"max,omitempty"`
	Mean   Duration `yaml:"mean,omitempty"`
	Stddev Duration `yaml:"stddev,omitempty"`
	P50    Duration `yaml:"p50,omitempty"`
	P99    Duration `yaml:"p99,omitempty"`
	Scale  Duration `yaml:"scale,omitempty"`
	Alpha  float64  `yaml:"alpha,omitempty"`
	Weight float64  `yaml:"weight,omitempty"` // in a mixture's component
	Of     []Dist   `yaml:"of,omitempty"`
	File   string   `yaml:"file,omitempty"`
	Unit   string   `yaml:"unit,omitempty"`

	dir   string // the profile's directory, for a relative file
	built sim.Dist
}

// distKeys are the keys each distribution reads.
var distKeys = map[string][]string{
	"constant": {"value"}, "uniform": {"min", "max"}, "exponential": {"mean"}, "lognormal": {"p50", "p99"},
	"normal": {"mean", "stddev"}, "pareto": {"scale", "alpha"}, "mixture": {"of"}, "empirical": {"file", "unit"},
}

// UnmarshalYAML decodes a distribution as a whole, so a profile's
// distribution replaces the default one instead of merging with it; unknown
// keys are errors (the decoder's strict mode does not reach inside a custom
// unmarshaler).
func (d *Dist) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a distribution is a mapping such as {dist: lognormal, p50: 20ms, p99: 200ms}", n.Line)}}
	}
	var errs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i].Value; k {
		case "dist", "value", "min", "max", "mean", "stddev", "p50", "p99", "scale", "alpha", "weight", "of", "file", "unit":
		default:
			errs = append(errs, fmt.Sprintf("line %d: field %s not found in type profiles.Dist", n.Content[i].Line, k))
		}
	}
	type plain Dist
	var p plain
	if err := n.Decode(&p); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			errs = append(errs, te.Errors...)
		} else {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	*d = Dist(p)
	return nil
}

// MarshalYAML writes only the keys the distribution reads.
func (d Dist) MarshalYAML() (any, error) {
	m := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	add := func(k, v string) {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
	}
	if d.Weight != 0 {
		add("weight", strconv.FormatFloat(d.Weight, 'g', -1, 64))
	}
	add("dist", d.Dist)
	vals := map[string]Duration{"value": d.Value, "min": d.Min, "max": d.Max, "mean": d.Mean, "stddev": d.Stddev,
		"p50": d.P50, "p99": d.P99, "scale": d.Scale}
	for _, k := range distKeys[d.Dist] {
		switch k {
		case "alpha":
			add(k, strconv.FormatFloat(d.Alpha, 'g', -1, 64))
		case "file":
			add(k, d.File)
		case "unit":
			if d.Unit != "" {
				add(k, d.Unit)
			}
		case "of":
			seq := &yaml.Node{Kind: yaml.SequenceNode}
			for _, c := range d.Of {
				n := &yaml.Node{}
				if err := n.Encode(c); err != nil {
					return nil, err
				}
				seq.Content = append(seq.Content, n)
			}
			m.Style = 0
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "of"}, seq)
		default:
			add(k, vals[k].D().String())
		}
	}
	return m, nil
}

// Build returns the sampler (an empirical file is read once).
func (d *Dist) Build() (sim.Dist, error) {
	if d.built != nil {
		return d.built, nil
	}
	b, err := d.build()
	if err == nil && d.Dist == "empirical" {
		d.built = b
	}
	return b, err
}

func (d *Dist) build() (sim.Dist, error) {
	switch d.Dist {
	case "constant":
		if d.Value < 0 {
			return nil, fmt.Errorf("value must be >= 0")
		}
		return sim.Constant{D: d.Value.D()}, nil
	case "uniform":
		if d.Min < 0 || d.Max < d.Min {
			return nil, fmt.Errorf("uniform needs 0 <= min <= max, got min=%v max=%v", d.Min.D(), d.Max.D())
		}
		return sim.Uniform{Min: d.Min.D(), Max: d.Max.D()}, nil
	case "exponential":
		if d.Mean <= 0 {
			return nil, fmt.Errorf("exponential needs mean > 0")
		}
		return sim.Exponential{Mean: d.Mean.D()}, nil
	case "normal":
		if d.Mean < 0 || d.Stddev < 0 {
			return nil, fmt.Errorf("normal needs mean >= 0 and stddev >= 0")
		}
		return sim.Normal{Mean: d.Mean.D(), Stddev: d.Stddev.D()}, nil
	case "lognormal":
		return sim.NewLogNormal(d.P50.D(), d.P99.D())
	case "pareto":
		if d.Scale <= 0 || !(d.Alpha > 0) || math.IsInf(d.Alpha, 0) {
			return nil, fmt.Errorf("pareto needs scale > 0 and alpha > 0")
		}
		return sim.Pareto{Xm: d.Scale.D(), Alpha: d.Alpha}, nil
	case "mixture":
		if len(d.Of) == 0 {
			return nil, fmt.Errorf("mixture needs components under of:, each with a weight")
		}
		var ws []float64
		var ds []sim.Dist
		total := 0.0
		for i := range d.Of {
			c := &d.Of[i]
			if !(c.Weight > 0) || math.IsInf(c.Weight, 0) {
				return nil, fmt.Errorf("component %d: a weight > 0 (and finite) is needed, got %g", i, c.Weight)
			}
			if total += c.Weight; math.IsInf(total, 0) {
				return nil, fmt.Errorf("mixture weights add up to more than a float holds")
			}
			if c.Dist == "mixture" {
				return nil, fmt.Errorf("component %d: mixtures do not nest", i)
			}
			c.dir = d.dir
			cd, err := c.Build()
			if err != nil {
				return nil, fmt.Errorf("component %d: %w", i, err)
			}
			ws, ds = append(ws, c.Weight), append(ds, cd)
		}
		return sim.NewMixture(ws, ds)
	case "empirical":
		if d.File == "" {
			return nil, fmt.Errorf("empirical needs file: (an .hlog or a CSV of latencies)")
		}
		path := d.File
		if !filepath.IsAbs(path) && d.dir != "" {
			path = filepath.Join(d.dir, path)
		}
		bins, err := results.LoadLatencyFile(path, d.Unit)
		if err != nil {
			return nil, err
		}
		return sim.NewEmpirical(d.File, bins.Lo, bins.Hi, bins.Count)
	case "":
		return nil, fmt.Errorf("missing dist (constant, uniform, normal, exponential, lognormal, pareto, mixture or empirical)")
	}
	return nil, fmt.Errorf("unknown dist %q (want constant, uniform, normal, exponential, lognormal, pareto, mixture or empirical)", d.Dist)
}

// Defaults is the profile every document is decoded over: the ue, scscf
// and hss sections are the cores' own defaults (ue.Defaults: RFC 3261
// timers, TS 24.229 expiry; scscf.Defaults: Kamailio 5.6.3 module
// defaults, KAMAILIO-MODEL.md §4; hss.Defaults).
func Defaults() Profile {
	u, sc, h := coreDefaults()
	return Profile{
		Seed:     1,
		Fidelity: "struct",
		Arrival:  Arrival{Shape: "uniform", Window: Duration(10 * time.Second)},
		Subscribers: Subscribers{
			Realm: "ims.example.org",
			IMPI:  "user{n}@ims.example.org",
			IMPU:  "sip:user{n}@ims.example.org",
			AMF:   "8000",
		},
		Network: Network{
			UESCSCF:  Dist{Dist: "constant", Value: Duration(time.Millisecond)},
			SCSCFHSS: Dist{Dist: "constant", Value: Duration(500 * time.Microsecond)},
		},
		UE:    u,
		SCSCF: sc,
		HSS:   h,
	}
}

// ParseAMF reads the 4-hex-digit AMF.
func ParseAMF(s string) (uint16, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 16)
	if err != nil || len(strings.TrimPrefix(s, "0x")) != 4 {
		return 0, fmt.Errorf("amf %q must be 4 hex digits", s)
	}
	return uint16(v), nil
}
