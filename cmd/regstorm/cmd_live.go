package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/regstorm/regstorm/hss"
	"github.com/regstorm/regstorm/internal/scenario"
	"github.com/regstorm/regstorm/profiles"
	"github.com/regstorm/regstorm/results"
	"github.com/regstorm/regstorm/sim/live"
	"github.com/regstorm/regstorm/ue"
)

// cmdLive runs a profile's UE fleet and HSS on the wall clock against an
// external S-CSCF, writing the same results as run.
func cmdLive(args []string, stdout, stderr io.Writer) error {
	return liveCommand("live", args, stdout, stderr)
}

// cmdUE runs only the UE fleet against a target: live with an external HSS.
func cmdUE(args []string, stdout, stderr io.Writer) error {
	return liveCommand("ue", args, stdout, stderr)
}

// liveCommand is live, or ue: the same run, with the target named --target
// and no HSS of its own unless --hss-listen is given.
func liveCommand(name string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	targetFlag, hssDefault := "scscf", "127.0.0.1:3868"
	usage := "usage: regstorm live [PROFILE] --scscf udp|tcp:HOST:PORT [--hss-listen ADDR] [--kamailio-log FILE] [--out DIR] (regstorm live -h for every flag)"
	if name == "ue" {
		targetFlag, hssDefault = "target", ""
		usage = "usage: regstorm ue [PROFILE] --target udp|tcp:HOST:PORT [--timeout D] [--out DIR] (regstorm ue -h for every flag)"
	}
	setUsage(fs, "regstorm "+name+" [PROFILE] --"+targetFlag+" udp|tcp:HOST:PORT [flags]")
	target := fs.String(targetFlag, "", "the S-CSCF: udp:HOST:PORT or tcp:HOST:PORT (required)")
	local := fs.String("bind", "127.0.0.1:0", "local UDP address of the UE fleet")
	hssListen := fs.String("hss-listen", hssDefault, "serve the profile's HSS on this TCP address; \"\" to use an external HSS")
	host := fs.String("origin-host", "localhost", "the HSS's Origin-Host (the S-CSCF's cdp peer FQDN)")
	realm := fs.String("origin-realm", "", "the HSS's Origin-Realm (default: the profile's realm)")
	kamLog := fs.String("kamailio-log", "", "Kamailio's log of the run: count the reply routes (MAR_REPLY_ROUTE_EXECUTED, SAR_REPLY_ROUTE_EXECUTED markers and \"active transaction not found\")")
	timeout := fs.Duration("timeout", 10*time.Minute, "stop the run after this long")
	wait := fs.Duration("wait-peer", 0, "wait this long for the S-CSCF to connect to the HSS before starting")
	settle := fs.Duration("settle", 2*time.Second, "with --kamailio-log: wait this long after the last registration for Kamailio's last log lines (a reply route runs after its reply is sent)")
	out := fs.String("out", "", "results directory, as for run (written aside, put in place when complete)")
	junit := fs.String("junit", "", "write the expectations (those naming no variant) as JUnit XML to this file")
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
	if len(pos) > 1 || !strings.HasPrefix(*target, "udp:") && !strings.HasPrefix(*target, "tcp:") {
		return badInput("%s", usage)
	}
	if len(pos) == 0 {
		pos = []string{"default"}
	}
	p, err := profiles.Load(pos[0], sets)
	if err != nil {
		return usageError{err}
	}
	if *out != "" {
		if err := results.CheckReplaceable(*out); err != nil {
			return usageError{err}
		}
	}
	var hcore *hss.HSS
	var hnode *live.Node
	var hsrv *live.DiameterServer
	hcol := results.NewCollector()
	if *hssListen != "" {
		cfg, err := scenario.HSSConfig(p)
		if err != nil {
			return usageError{err}
		}
		cfg.OriginHost, cfg.Collector = *host, hcol
		if *realm != "" {
			cfg.OriginRealm = *realm
		}
		if hcore, err = hss.New(cfg); err != nil {
			return usageError{err}
		}
		// Clocked: the HSS's measurements go into per-second intervals.
		hnode = live.NewNode("hss", p.Seed, scenario.Clocked(hcore, hcol))
		hsrv = &live.DiameterServer{Node: hnode, OriginHost: cfg.OriginHost, OriginRealm: cfg.OriginRealm, Limits: limits()}
		addr, err := hsrv.Listen(*hssListen)
		if err != nil {
			return err
		}
		defer hsrv.Close()
		if len(cfg.Faults) > 0 {
			hnode.Arm(0, hss.StartKey) // schedules the peer_down phases
		}
		printErrors(stderr, "regstorm live: HSS:", hnode)
		go hnode.Run()
		defer hnode.Stop()
		fmt.Fprintf(stderr, "regstorm live: HSS serving Cx on %s as %s\n", addr, cfg.OriginHost)
		if *wait > 0 {
			time.Sleep(*wait)
		}
	}
	ucfg, err := scenario.UEConfig(p)
	if err != nil {
		return usageError{err}
	}
	col := results.NewCollector()
	ucfg.Collector = col
	var fleet *ue.Fleet
	unode := live.NewNode("ue", p.Seed, nil)
	sip := &live.SIPClient{Node: unode}
	if strings.HasPrefix(*target, "tcp:") {
		ucfg.UDP = false // no Timer E over a reliable transport
		ucfg.SCSCF, err = sip.DialTCP(strings.TrimPrefix(*target, "tcp:"))
	} else {
		ucfg.SCSCF, err = sip.DialUDP(*local, strings.TrimPrefix(*target, "udp:"))
	}
	if err != nil {
		return err
	}
	defer sip.Close()
	if fleet, err = ue.New(ucfg); err != nil {
		return usageError{err}
	}
	unode.SetCore(fleet)
	unode.Idle = fleet.Idle
	start := time.Now()
	if at, ok := fleet.First(); ok {
		unode.Arm(at, ue.StartKey)
	}
	printErrors(stderr, "regstorm live:", unode)
	go unode.Run()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, sigterm)
	var stoppedBy os.Signal
	partial := false
	select {
	case <-unode.Done:
	case stoppedBy = <-sig:
		partial = true
	case <-time.After(*timeout):
		partial = true
	}
	unode.Stop() // waits for the loop: the fleet's state is final
	wall := time.Since(start)
	v := col.Summarize("live", "", wall, 0)
	hcounters := false
	v.Counters = map[string]uint64{"ue.retransmissions": fleet.Stats.Retransmits, "ue.timer_f_expiries": fleet.Stats.TimerFExpiry,
		"ue.stray_responses": fleet.Stats.Stray, "ue.bad_messages": sip.BadMessages.Load()}
	for k, n := range sip.Counters() {
		v.Counters["ue."+k] = n
	}
	v.Counters["ue.log.reports_dropped"] = unode.Dropped.Load()
	ucounters := v.Counters
	if hcore != nil {
		// Stop the HSS before reading its measurements and counts.
		hsrv.Close()
		hnode.Stop()
		col.Merge(hcol)
		v = col.Summarize("live", "", wall, 0)
		v.Counters, hcounters = ucounters, true
		v.Counters["hss.mar"], v.Counters["hss.sar"] = hcore.Stats.MAR, hcore.Stats.SAR
		for k, n := range hsrv.Counters() {
			v.Counters["hss."+k] = n
		}
		v.Counters["hss.log.reports_dropped"] = hnode.Dropped.Load()
	}
	// What a fleet facing an external S-CSCF cannot see reads "n/a".
	v.MarkNotMeasured("latency_ms.mar_rtt", "latency_ms.sar_rtt", "counters.scscf", "events", "callbacks.resync")
	if !hcounters {
		v.MarkNotMeasured("latency_ms.hss_mar", "latency_ms.hss_queue", "counters.hss")
	}
	if *kamLog == "" {
		v.MarkNotMeasured("callbacks.mar", "callbacks.sar")
	}
	transport := map[string]uint64{}
	for k, n := range v.Counters {
		if strings.Contains(k, ".sip.") || strings.Contains(k, ".diameter.") || strings.Contains(k, ".log.") {
			transport[k] = n
		}
	}
	printCounters(stderr, "regstorm live:", transport)
	if *kamLog != "" {
		time.Sleep(*settle)
		if err := kamailioCallbacks(*kamLog, &v); err != nil {
			return err
		}
	}
	sum := &results.Summary{Profile: p.Name, Seed: p.Seed, Variants: []results.VariantSummary{v}, Interrupted: stoppedBy != nil}
	// The profile's expectations that name no variant apply to the live run.
	var exps []results.Expectation
	for _, e := range p.Expectations() {
		if e.Variant == "" {
			exps = append(exps, e)
		}
	}
	sum.Expectations = sum.Evaluate(exps)
	if err := sum.WriteTable(stdout); err != nil {
		return err
	}
	if partial {
		fmt.Fprintln(stderr, "regstorm live: stopped before every registration ended; results are partial")
	}
	if *out != "" {
		py, err := p.YAML()
		if err != nil {
			return err
		}
		if err := writeRunDir(*out, sum, []string{"live"}, []*results.Collector{col}, runInfo(p.Name, pos[0], wall, partial), py, true); err != nil {
			return err
		}
	}
	if *junit != "" {
		if err := writeJUnit(*junit, sum); err != nil {
			return err
		}
	}
	if stoppedBy != nil {
		return &interruptedError{stoppedBy}
	}
	if fails := sum.Failed(); len(fails) > 0 {
		return &expectationError{failures: fails}
	}
	return nil
}

// kamailioCallbacks counts the reply routes in a Kamailio log written with
// the project's configuration (log_prefix "{$mt $hdr(CSeq) $ci} ", marker
// lines MAR_REPLY_ROUTE_EXECUTED / SAR_REPLY_ROUTE_EXECUTED): a warning
// "active transaction not found" on CSeq 1 belongs to a MAR callback, on
// CSeq 2 to a SAR one (regstorm UEs send CSeq 1, then 2).
func kamailioCallbacks(path string, v *results.VariantSummary) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading the Kamailio log: %w", err)
	}
	defer f.Close()
	mar := results.CallbackSummary{NotExecuted: map[string]uint64{}}
	sar := results.CallbackSummary{NotExecuted: map[string]uint64{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, "MAR_REPLY_ROUTE_EXECUTED"):
			mar.RouteExecuted++
		case strings.Contains(line, "SAR_REPLY_ROUTE_EXECUTED"):
			sar.RouteExecuted++
		case strings.Contains(line, "active transaction not found"):
			if strings.Contains(line, " 2 REGISTER ") {
				sar.NotExecuted["active transaction not found"]++
			} else {
				mar.NotExecuted["active transaction not found"]++
			}
		}
	}
	for _, c := range []*results.CallbackSummary{&mar, &sar} {
		c.Invoked = c.RouteExecuted
		for _, n := range c.NotExecuted {
			c.Invoked += n
		}
		if c.Invoked > 0 {
			c.CompletionRate = float64(c.RouteExecuted) / float64(c.Invoked)
		}
	}
	v.Callbacks.MAR, v.Callbacks.SAR = mar, sar
	return sc.Err()
}
