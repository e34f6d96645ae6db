package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/regstorm/regstorm/hss"
	"github.com/regstorm/regstorm/internal/scenario"
	"github.com/regstorm/regstorm/sim/live"
)

// cmdHSS serves the HSS of a profile over Diameter Cx (TCP) for a real
// S-CSCF, with the profile's latency, capacity and fault injection.
func cmdHSS(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hss", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setUsage(fs, "regstorm hss [PROFILE] [flags]")
	listen := fs.String("listen", "127.0.0.1:3868", "TCP address to serve Diameter on (loopback unless told otherwise)")
	host := fs.String("origin-host", "localhost", "Origin-Host; must match the S-CSCF's peer FQDN (Kamailio cdp <Peer FQDN>)")
	realm := fs.String("origin-realm", "", "Origin-Realm (default: the profile's realm)")
	seed := fs.String("seed", "", "seed (keys derive from it, as in the simulation)")
	fixedRAND := fs.String("fixed-rand", "", "32 hex digits: use this RAND in every vector (conformance sets; SIPp, whose RES handling stops at a zero byte)")
	limits := diameterFlags(fs)
	var sets multiFlag
	fs.Var(&sets, "set", "override a profile key (repeatable)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if len(pos) > 1 {
		return badInput("usage: regstorm hss [--listen ADDR] [--origin-host H] [--origin-realm R] [PROFILE]")
	}
	p, err := loadProfile(pos, *seed, sets)
	if err != nil {
		return err
	}
	cfg, err := scenario.HSSConfig(p)
	if err != nil {
		return usageError{err}
	}
	cfg.OriginHost = *host
	if *realm != "" {
		cfg.OriginRealm = *realm
	}
	core, err := hss.New(cfg)
	if err != nil {
		return usageError{err}
	}
	if *fixedRAND != "" {
		b, err := hex.DecodeString(*fixedRAND)
		if err != nil || len(b) != 16 {
			return badInput("--fixed-rand %q: want 32 hex digits", *fixedRAND)
		}
		var r [16]byte
		copy(r[:], b)
		core.UseFixedRAND(r)
	}
	node := live.NewNode("hss", p.Seed, core)
	srv := &live.DiameterServer{Node: node, OriginHost: cfg.OriginHost, OriginRealm: cfg.OriginRealm, Limits: limits()}
	addr, err := srv.Listen(*listen)
	if err != nil {
		return err
	}
	if len(cfg.Faults) > 0 {
		node.Arm(0, hss.StartKey)
	}
	fmt.Fprintf(stdout, "regstorm hss: serving Cx on %s as %s (realm %s), %d subscribers of profile %s\n",
		addr, cfg.OriginHost, cfg.OriginRealm, cfg.Population.Count, p.Name)
	go node.Run()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, sigterm)
	printErrors(stderr, "regstorm hss:", node)
	<-sig
	srv.Close()
	node.Stop() // waits for the loop: the core's counts are final
	st := core.Stats
	fmt.Fprintf(stdout, "regstorm hss: stopped; MAR %d, SAR %d, UAR %d, LIR %d, vectors %d, resyncs %d, unknown users %d, busy %d, dropped %d\n",
		st.MAR, st.SAR, st.UAR, st.LIR, st.Vectors, st.Resyncs, st.UnknownUser, st.Busy, st.Dropped)
	printCounters(stdout, "regstorm hss:", srv.Counters(), map[string]uint64{"log.reports_dropped": node.Dropped.Load()})
	return nil
}
