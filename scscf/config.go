package scscf

import (
	"errors"
	"fmt"
	"time"

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
	return 0, fmt.Errorf("unknown resume strategy %q (want t_continue or t_continue_skip_timer)", s)
}

// Config parameterises the S-CSCF. Defaults (Defaults) follow
// KAMAILIO-MODEL.md §4 for Kamailio 5.6.3.
type Config struct {
	Name        string // scscf_name, sent as Server-Name
	Realm       string // digest realm (the To domain, "$td")
	OriginHost  string
	OriginRealm string
	HSS         sim.NodeID

	// tm (KAMAILIO-MODEL.md §1, §4)
	FRTimer           time.Duration // fr_timer
	MaxNonInvLifetime time.Duration // max_noninv_lifetime
	WTTimer           time.Duration // wt_timer
	TMTick            time.Duration // timer tick (1/16 s); 0 disables quantisation

	// cdp (§3.1)
	CDPTimeout time.Duration // TransactionTimeout, whole seconds
	CDPPhase   time.Duration // phase of the 1 s timeout scan, in [0, 1s)
	CDPTc      time.Duration // Tc: reconnect attempts to a lost peer (peerstatemachine)
	// RealPeer: the runtime reports the real state of the Diameter
	// connection (live mode), so a reconnection takes effect at once
	// instead of after a simulated Tc wait.
	RealPeer bool

	// ims_auth (§4, §5.1-5.2, §9)
	AVTimeout         time.Duration // auth_vector_timeout (SENT vectors)
	AVUsedTimeout     time.Duration // auth_used_vector_timeout (USED vectors, nonce reuse)
	AVPurgeInterval   time.Duration // the vector purge timer period (10 s)
	AVPurgePhase      time.Duration // its phase, in [0, AVPurgeInterval)
	AVStoreDelay      time.Duration // time between the 401 leaving and the vector being stored (§9 race)
	AVRequestAtOnce   uint32        // av_request_at_once: vectors per MAR
	MaxNonceReuse     uint32        // max_nonce_reuse
	QOP               string        // registration_qop
	ResyncEnabled     bool          // the config handles AUTS with ims_www_resync_auth (Kamailio sample)
	FailureRoute      bool          // t_on_failure armed before suspending (the sample does not)
	RechallengeOnRetx bool          // no t_check_trans(): each retransmission re-runs ims_www_challenge (§6.3)

	// Resume strategies (§6.1 version table).
	MARResume    Strategy
	SAROKResume  Strategy
	SARErrResume Strategy

	// ims_registrar_scscf (§4)
	DefaultExpires       uint32 // seconds
	MinExpires           uint32
	MaxExpires           uint32 // 0 = unlimited (5.6.3)
	ExpiresBufferPercent uint32
	RetryAfter           uint32 // ims_registrar_scscf retry_after: Retry-After on SAR failures (0: none)

	// Processes (Kamailio children, cdp workers): service time per message
	// and bounded receive queues. Children == 0 (or CDPWorkers == 0)
	// disables the model: messages are handled at once at no cost.
	Children     int
	SIPService   sim.Dist
	SIPQueue     int // receive queue (UDP socket buffer) in messages; overflow is dropped
	CDPWorkers   int
	CDPService   sim.Dist
	CDPQueue     int
	LogLine      string // file:line of the "active transaction not found" warning, per version
	LogLevelWarn string // its level: WARNING, or ERROR in 5.1.10, 5.2.5-5.2.6, 5.3.0-5.3.2

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

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.HSS == sim.NoNode {
		errs = append(errs, errors.New("scscf: HSS node not set"))
	}
	if c.FRTimer <= 0 || c.MaxNonInvLifetime <= 0 || c.WTTimer <= 0 {
		errs = append(errs, errors.New("scscf: fr_timer, max_noninv_lifetime and wt_timer must be positive"))
	}
	if c.CDPTimeout < time.Second || c.CDPTimeout%time.Second != 0 {
		errs = append(errs, fmt.Errorf("scscf: cdp transaction timeout %v must be a whole number of seconds >= 1s", c.CDPTimeout))
	}
	if c.CDPTc <= 0 {
		errs = append(errs, errors.New("scscf: cdp Tc must be positive"))
	}
	if c.CDPPhase < 0 || c.CDPPhase >= time.Second {
		errs = append(errs, fmt.Errorf("scscf: cdp phase %v must be in [0, 1s)", c.CDPPhase))
	}
	if c.TMTick < 0 || c.AVTimeout <= 0 {
		errs = append(errs, errors.New("scscf: tm tick must be >= 0 and auth_vector_timeout positive"))
	}
	for _, s := range []Strategy{c.MARResume, c.SAROKResume, c.SARErrResume} {
		if s != Filter && s != NoFilter {
			errs = append(errs, errors.New("scscf: every resume strategy must be t_continue or t_continue_skip_timer"))
			break
		}
	}
	if c.AVPurgeInterval <= 0 || c.AVPurgePhase < 0 || c.AVPurgePhase >= c.AVPurgeInterval || c.AVStoreDelay < 0 || c.AVUsedTimeout <= 0 {
		errs = append(errs, errors.New("scscf: vector purge interval must be positive with phase in [0, interval), store delay >= 0"))
	}
	if c.AVRequestAtOnce == 0 || c.AVRequestAtOnce > 16 {
		errs = append(errs, errors.New("scscf: av_request_at_once must be in 1..16"))
	}
	if c.Children < 0 || c.CDPWorkers < 0 || c.SIPQueue < 0 || c.CDPQueue < 0 {
		errs = append(errs, errors.New("scscf: process counts and queue sizes must be >= 0"))
	}
	if (c.Children > 0 && c.SIPService == nil) || (c.CDPWorkers > 0 && c.CDPService == nil) {
		errs = append(errs, errors.New("scscf: a process pool needs a service time distribution"))
	}
	if c.ExpiresBufferPercent > 100 {
		errs = append(errs, errors.New("scscf: expires_buffer_percent must be <= 100"))
	}
	return errors.Join(errs...)
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

// LookupPreset finds a preset by name.
func LookupPreset(name string) (Preset, error) {
	var names []string
	for _, p := range Presets {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Preset{}, fmt.Errorf("unknown Kamailio preset %q (want one of %v)", name, names)
}

// Apply sets the preset's strategies and version defaults on c.
func (p Preset) Apply(c *Config) {
	c.MARResume, c.SAROKResume, c.SARErrResume = p.MAR, p.SAROK, p.SARErr
	c.MaxExpires = p.MaxExpires
	c.LogLine, c.LogLevelWarn = p.LogLine, p.LogLevelWarn
}
