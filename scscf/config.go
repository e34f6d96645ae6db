package scscf

import (
	"fmt"
	"strings"
	"time"

	"github.com/regstorm/regstorm/internal/fielderr"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim"
)

// Strategy is how a Diameter callback resumes its suspended transaction.
type Strategy uint8

const (
	// Filter is t_continue(): the lookup skips transactions on their WAIT
	// timer (tm t_lookup.c t_lookup_ident_filter, filter=1).
	Filter Strategy = iota + 1
	// NoFilter is t_continue_skip_timer(): the same helper with filter=0.
	NoFilter
)

func (s Strategy) String() string {
	switch s {
	case Filter:
		return "t_continue"
	case NoFilter:
		return "t_continue_skip_timer"
	}
	return "?"
}

// ParseStrategy reads "t_continue" or "t_continue_skip_timer".
func ParseStrategy(s string) (Strategy, error) {
	switch s {
	case "t_continue":
		return Filter, nil
	case "t_continue_skip_timer":
		return NoFilter, nil
	}
	return 0, fmt.Errorf("want t_continue or t_continue_skip_timer, got %q", s)
}

// Config parameterises the S-CSCF. Defaults (Defaults) follow
// KAMAILIO-MODEL.md §4 for Kamailio 5.6.3. A field tagged profile:"key" is
// a setting a profile's scscf section gives under that key (Kamailio's
// parameter name); profiles copies it by the tag, Validate names it by the
// key.
type Config struct {
	Name        string // scscf_name, sent as Server-Name
	Realm       string // digest realm (the To domain, "$td")
	OriginHost  string
	OriginRealm string
	HSS         sim.NodeID

	// tm (KAMAILIO-MODEL.md §1, §4)
	FRTimer           time.Duration `profile:"fr_timer"`
	MaxNonInvLifetime time.Duration `profile:"max_noninv_lifetime"`
	WTTimer           time.Duration `profile:"wt_timer"`
	TMTick            time.Duration `profile:"tm_tick"` // timer tick (1/16 s); 0 disables quantisation

	// cdp (§3.1)
	CDPTimeout time.Duration `profile:"cdp_transaction_timeout"` // TransactionTimeout, whole seconds
	CDPPhase   time.Duration `profile:"cdp_phase"`               // phase of the 1 s timeout scan, in [0, 1s)
	CDPTc      time.Duration `profile:"cdp_tc"`                  // Tc: reconnect attempts to a lost peer (peerstatemachine)
	// RealPeer: the runtime reports the real state of the Diameter
	// connection (live mode), so a reconnection takes effect at once
	// instead of after a simulated Tc wait.
	RealPeer bool

	// ims_auth (§4, §5.1-5.2, §9)
	AVTimeout         time.Duration `profile:"auth_vector_timeout"`      // auth_vector_timeout (SENT vectors)
	AVUsedTimeout     time.Duration `profile:"auth_used_vector_timeout"` // auth_used_vector_timeout (USED vectors, nonce reuse)
	AVPurgeInterval   time.Duration // the vector purge timer period (10 s)
	AVPurgePhase      time.Duration `profile:"auth_vector_purge_phase"` // its phase, in [0, AVPurgeInterval)
	AVStoreDelay      time.Duration `profile:"auth_vector_store_delay"` // time between the 401 leaving and the vector being stored (§9 race)
	AVRequestAtOnce   uint32        `profile:"av_request_at_once"`      // av_request_at_once: vectors per MAR
	MaxNonceReuse     uint32        `profile:"max_nonce_reuse"`         // max_nonce_reuse
	QOP               string        // registration_qop
	ResyncEnabled     bool          `profile:"resync"`        // the config handles AUTS with ims_www_resync_auth (Kamailio sample)
	FailureRoute      bool          `profile:"failure_route"` // t_on_failure armed before suspending (the sample does not)
	RechallengeOnRetx bool          // no t_check_trans(): each retransmission re-runs ims_www_challenge (§6.3)

	// Resume strategies (§6.1 version table).
	MARResume    Strategy
	SAROKResume  Strategy
	SARErrResume Strategy

	// ims_registrar_scscf (§4)
	DefaultExpires       uint32 `profile:"default_expires"` // seconds
	MinExpires           uint32 `profile:"min_expires"`
	MaxExpires           uint32 // 0 = unlimited (5.6.3)
	ExpiresBufferPercent uint32 `profile:"expires_buffer_percent"`
	RetryAfter           uint32 // ims_registrar_scscf retry_after: Retry-After on SAR failures (0: none)

	// Processes (Kamailio children, cdp workers): service time per message
	// and bounded receive queues. Children == 0 (or CDPWorkers == 0)
	// disables the model: messages are handled at once at no cost.
	Children     int      `profile:"children"`
	SIPService   sim.Dist `profile:"sip_service"`
	SIPQueue     int      `profile:"sip_queue"` // receive queue (UDP socket buffer) in messages; overflow is dropped
	CDPWorkers   int      `profile:"cdp_workers"`
	CDPService   sim.Dist `profile:"cdp_service"`
	CDPQueue     int      `profile:"cdp_queue"`
	LogLine      string   // file:line of the "active transaction not found" warning, per version
	LogLevelWarn string   // its level: WARNING, or ERROR in 5.1.10, 5.2.5-5.2.6, 5.3.0-5.3.2

	// Collector receives callback outcomes; may be nil.
	Collector *results.Collector
	// Log receives Kamailio-style log lines; nil disables logging.
	Log func(at time.Duration, line string)
}

// Defaults returns the Kamailio 5.6.3 module defaults with the resume
// strategies of 5.6.x (MAR t_continue, SAR ok skip_timer, SAR error
// t_continue) and the project config's registration_qop "auth".
func Defaults() Config {
	return Config{
		Name:                 "sip:scscf.ims.example.org:6060",
		Realm:                "ims.example.org",
		OriginHost:           "scscf.ims.example.org",
		OriginRealm:          "ims.example.org",
		FRTimer:              30 * time.Second,
		MaxNonInvLifetime:    32 * time.Second,
		WTTimer:              5 * time.Second,
		TMTick:               62500 * time.Microsecond,
		CDPTimeout:           5 * time.Second,
		CDPTc:                30 * time.Second,
		AVTimeout:            60 * time.Second,
		AVUsedTimeout:        3600 * time.Second,
		AVPurgeInterval:      10 * time.Second,
		AVRequestAtOnce:      1,
		QOP:                  "auth",
		ResyncEnabled:        true,
		Children:             8,
		SIPService:           sim.Constant{},
		SIPQueue:             2048,
		CDPWorkers:           4,
		CDPService:           sim.Constant{},
		CDPQueue:             1024,
		LogLine:              "t_suspend.c:197",
		LogLevelWarn:         "WARNING",
		MARResume:            Filter,
		SAROKResume:          NoFilter,
		SARErrResume:         Filter,
		DefaultExpires:       3600,
		MinExpires:           60,
		MaxExpires:           0,
		ExpiresBufferPercent: 10,
	}
}

// Ranges of the settings (Kamailio's own bounds, and the model's where
// Kamailio has none: a pool or queue larger than these is a mistake).
const (
	MaxAVRequestAtOnce = 16      // ims_auth: vectors per MAR
	MaxNonceReuseLimit = 1 << 20 // max_nonce_reuse
	MaxProcesses       = 1 << 16 // children, cdp_workers
	MaxQueue           = 1 << 30 // sip_queue, cdp_queue
)

// Validate checks the configuration. Each problem is a *fielderr.Error
// keyed by the setting's Kamailio parameter name (as a profile's scscf
// section spells it), joined with errors.Join.
func (c *Config) Validate() error {
	var l fielderr.List
	if c.HSS == sim.NoNode {
		l.Addf("", "scscf: HSS node not set")
	}
	l.Add("", c.ValidateSettings())
	return l.Err()
}

// ValidateSettings checks the settings alone (not the wiring: peers,
// collector, log), as a profile loader does before any node exists.
func (c *Config) ValidateSettings() error {
	var l fielderr.List
	for _, d := range []struct {
		key string
		val time.Duration
	}{{"fr_timer", c.FRTimer}, {"max_noninv_lifetime", c.MaxNonInvLifetime}, {"wt_timer", c.WTTimer}, {"auth_vector_timeout", c.AVTimeout}} {
		if d.val <= 0 {
			l.Addf(d.key, "must be positive")
		}
	}
	if c.TMTick < 0 {
		l.Addf("tm_tick", "must be >= 0 (0 disables tick quantisation)")
	}
	if c.CDPTimeout < time.Second || c.CDPTimeout%time.Second != 0 {
		l.Addf("cdp_transaction_timeout", "cdp counts whole seconds: must be 1s, 2s, ..., got %v", c.CDPTimeout)
	}
	if c.CDPTc <= 0 {
		l.Addf("cdp_tc", "must be positive")
	}
	if c.CDPPhase < 0 || c.CDPPhase >= time.Second {
		l.Addf("cdp_phase", "must be in [0, 1s)")
	}
	for _, s := range []struct {
		key string
		val Strategy
	}{{"mar_resume", c.MARResume}, {"sar_ok_resume", c.SAROKResume}, {"sar_error_resume", c.SARErrResume}} {
		if s.val != Filter && s.val != NoFilter {
			l.Addf(s.key, "want t_continue or t_continue_skip_timer")
		}
	}
	if c.AVPurgeInterval <= 0 {
		l.Addf("auth_vector_purge_interval", "must be positive")
	} else if c.AVPurgePhase < 0 || c.AVPurgePhase >= c.AVPurgeInterval || c.AVStoreDelay < 0 || c.AVUsedTimeout <= 0 {
		l.Addf("auth_vector_purge_phase", "purge phase in [0, %v), store delay >= 0, used-vector timeout > 0", c.AVPurgeInterval)
	}
	for _, n := range []struct {
		key    string
		val    int64
		lo, hi int64
	}{{"av_request_at_once", int64(c.AVRequestAtOnce), 1, MaxAVRequestAtOnce}, {"max_nonce_reuse", int64(c.MaxNonceReuse), 0, MaxNonceReuseLimit},
		{"expires_buffer_percent", int64(c.ExpiresBufferPercent), 0, 100}, {"children", int64(c.Children), 0, MaxProcesses},
		{"sip_queue", int64(c.SIPQueue), 0, MaxQueue}, {"cdp_workers", int64(c.CDPWorkers), 0, MaxProcesses}, {"cdp_queue", int64(c.CDPQueue), 0, MaxQueue}} {
		if n.val < n.lo || n.val > n.hi {
			l.Addf(n.key, "must be in [%d, %d], got %d", n.lo, n.hi, n.val)
		}
	}
	if c.Children > 0 && c.SIPService == nil {
		l.Addf("sip_service", "a process pool needs a service time distribution")
	}
	if c.CDPWorkers > 0 && c.CDPService == nil {
		l.Addf("cdp_service", "a process pool needs a service time distribution")
	}
	return l.Err()
}

// Preset is a Kamailio version: the resume strategy of each callback
// (KAMAILIO-MODEL.md §6.1) and the version-dependent defaults (§4, §6.7).
type Preset struct {
	Name         string
	Describe     string
	MAR          Strategy
	SAROK        Strategy
	SARErr       Strategy
	MaxExpires   uint32
	LogLine      string
	LogLevelWarn string
}

// Presets, oldest first. Sources: KAMAILIO-MODEL.md §0 (fix status), §6.1
// (version switch), §4 (max_expires 0 in 5.x, 600000 from 6.0), §6.7 (log
// line numbers: 192 in 5.3.x-5.5.x, 197 in 5.6.3, 199 in master; 5.8.x
// and 6.x are taken as master's).
var Presets = []Preset{
	{"kamailio-5.3", "5.3.3+: the WAIT filter on every callback (SAR success too)", Filter, Filter, Filter, 0, "t_suspend.c:192", "WARNING"},
	{"kamailio-5.6", "5.6.3 (Debian bookworm): MAR t_continue, SAR success t_continue_skip_timer", Filter, NoFilter, Filter, 0, "t_suspend.c:197", "WARNING"},
	{"kamailio-5.8", "5.8.x: as 5.6 (the #4205 fix was not backported)", Filter, NoFilter, Filter, 0, "t_suspend.c:199", "WARNING"},
	{"kamailio-6.0.2", "6.0.0-6.0.2: as 5.6, max_expires 600000", Filter, NoFilter, Filter, 600000, "t_suspend.c:199", "WARNING"},
	{"kamailio-6.0.3", "6.0.3: #4205 fixed, MAR t_continue_skip_timer", NoFilter, NoFilter, Filter, 600000, "t_suspend.c:199", "WARNING"},
	{"kamailio-6.1", "6.1.x: #4205 fixed, MAR t_continue_skip_timer", NoFilter, NoFilter, Filter, 600000, "t_suspend.c:199", "WARNING"},
}

// DefaultPreset is the version a profile runs unless it names another
// (Debian bookworm's, the one Defaults models).
const DefaultPreset = "kamailio-5.6"

// PresetNames lists the presets' names, oldest first.
func PresetNames() []string {
	names := make([]string, len(Presets))
	for i, p := range Presets {
		names[i] = p.Name
	}
	return names
}

// LookupPreset finds a preset by name.
func LookupPreset(name string) (Preset, error) {
	for _, p := range Presets {
		if p.Name == name {
			return p, nil
		}
	}
	return Preset{}, fmt.Errorf("unknown preset %q (want one of %s)", name, strings.Join(PresetNames(), ", "))
}

// Apply sets the preset's strategies and version defaults on c.
func (p Preset) Apply(c *Config) {
	c.MARResume, c.SAROKResume, c.SARErrResume = p.MAR, p.SAROK, p.SARErr
	c.MaxExpires = p.MaxExpires
	c.LogLine, c.LogLevelWarn = p.LogLine, p.LogLevelWarn
}
