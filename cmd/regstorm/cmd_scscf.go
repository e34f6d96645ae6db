package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/regstorm/regstorm/internal/scenario"
	"github.com/regstorm/regstorm/profiles"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/scscf"
	"github.com/regstorm/regstorm/sim/live"
)

// cmdSCSCF serves the Kamailio-faithful S-CSCF model on real sockets: SIP
// over UDP for UEs and SIPp, Diameter Cx towards an HSS.
func cmdSCSCF(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scscf", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setUsage(fs, "regstorm scscf [PROFILE] [flags]")
	listen := fs.String("listen", "udp:127.0.0.1:5060", "SIP address, udp:HOST:PORT or tcp:HOST:PORT (loopback unless told otherwise)")
	hssAddr := fs.String("hss", "127.0.0.1:3868", "the HSS's Diameter address")
	preset := fs.String("preset", "", "Kamailio version to model (default: the profile's first variant)")
	host := fs.String("origin-host", "scscf.ims.example.org", "Diameter Origin-Host")
	logLines := fs.Bool("log", false, "print the Kamailio log lines of the model on stderr")
	limits := diameterFlags(fs)
	sipLimits := sipServerFlags(fs)
	var sets multiFlag
	fs.Var(&sets, "set", "override a profile key (repeatable)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if len(pos) > 1 || !strings.HasPrefix(*listen, "udp:") && !strings.HasPrefix(*listen, "tcp:") {
		return badInput("usage: regstorm scscf [--listen udp|tcp:HOST:PORT] [--hss HOST:PORT] [--preset kamailio-5.6] [PROFILE]")
	}
	p, err := loadProfile(pos, "", sets)
	if err != nil {
		return err
	}
	v := p.Variants[0]
	if *preset != "" {
		if _, err := scscf.LookupPreset(*preset); err != nil {
			return badInput("%v", err)
		}
		v = profiles.Variant{Name: *preset, Preset: *preset}
	}
	cfg, err := scenario.SCSCFConfig(p, &v)
	if err != nil {
		return usageError{err}
	}
	col := results.NewCollector()
	cfg.Collector, cfg.OriginHost, cfg.RealPeer = col, *host, true
	if *logLines {
		cfg.Log = func(at time.Duration, line string) {
			fmt.Fprintf(stderr, "%12.6f %s\n", at.Seconds(), escapeLog(line, 2000))
		}
	}
	node := live.NewNode("scscf", p.Seed, nil)
	dc := &live.DiameterClient{Node: node, OriginHost: *host, OriginRealm: cfg.Realm, Tc: cfg.CDPTc, Limits: limits()}
	cfg.HSS = dc.Start(*hssAddr)
	core, err := scscf.New(cfg)
	if err != nil {
		return usageError{err}
	}
	core.PeerDown = true // until the connection to the HSS is open
	node.SetCore(core)
	sip := &live.SIPServer{Node: node}
	sipLimits(sip)
	var addr net.Addr
	if strings.HasPrefix(*listen, "tcp:") {
		addr, err = sip.ListenTCP(strings.TrimPrefix(*listen, "tcp:"))
	} else {
		addr, err = sip.ListenUDP(strings.TrimPrefix(*listen, "udp:"))
	}
	if err != nil {
		return err
	}
	printErrors(stderr, "regstorm scscf:", node)
	go node.Run()
	fmt.Fprintf(stdout, "regstorm scscf: SIP on %s:%s, Cx to %s, modelling %s (MAR %s, SAR ok %s, SAR error %s)\n",
		strings.SplitN(*listen, ":", 2)[0], addr, *hssAddr, v.Preset, cfg.MARResume, cfg.SAROKResume, cfg.SARErrResume)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, sigterm)
	<-sig
	sip.Close()
	dc.Close()
	node.Stop() // waits for the loop: the core's counts are final
	mar, sar := col.Callbacks[results.CallbackMAR], col.Callbacks[results.CallbackSAR]
	fmt.Fprintf(stdout, "regstorm scscf: stopped; REGISTERs %d, MAR callbacks %d (route ran %d), SAR callbacks %d (route ran %d), cdp timeouts %d\n",
		core.Stats.Requests, mar.Invoked, mar.RouteExecuted, sar.Invoked, sar.RouteExecuted, core.Stats.CDPTimeouts)
	printCounters(stdout, "regstorm scscf:", sip.Counters(), dc.Counters(), map[string]uint64{"log.reports_dropped": node.Dropped.Load()})
	return nil
}
