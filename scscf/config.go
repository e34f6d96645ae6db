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

	// ims_auth (§4)
	AVTimeout time.Duration // auth_vector_timeout
	QOP       string        // registration_qop

	// Resume strategies (§6.1 version table).
	MARResume    Strategy
	SAROKResume  Strategy
	SARErrResume Strategy

	// ims_registrar_scscf (§4)
	DefaultExpires       uint32 // seconds
	MinExpires           uint32
	MaxExpires           uint32 // 0 = unlimited (5.6.3)
	ExpiresBufferPercent uint32

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
		AVTimeout:            60 * time.Second,
		QOP:                  "auth",
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
	if c.ExpiresBufferPercent > 100 {
		errs = append(errs, errors.New("scscf: expires_buffer_percent must be <= 100"))
	}
	return errors.Join(errs...)
}
