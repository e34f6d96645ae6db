package scenario

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/regstorm/regstorm/hss"
	"github.com/regstorm/regstorm/hss/cx"
	"github.com/regstorm/regstorm/internal/sipmsg"
	"github.com/regstorm/regstorm/scscf"
	"github.com/regstorm/regstorm/sim"
	"github.com/regstorm/regstorm/ue"
)

// tracer writes the one-line-per-event trace: virtual time, variant, and
// either a message delivery ("ue -> scscf REGISTER ..."), a timer, or a
// Kamailio log line from the S-CSCF.
type tracer struct {
	w       io.Writer
	bw      *bufio.Writer
	filter  string
	variant string
	rt      *sim.Runtime
	// held: a partitioned run's lines of the current window. The parts
	// run one after another, so the lines of one window come part by
	// part; they are put in time order when the window ends (lines of
	// different windows are in order already).
	held []heldLine
	hold bool
}

type heldLine struct {
	at   time.Duration
	text string
}

func (t *tracer) line(at time.Duration, text string) {
	if t.filter != "" && !strings.Contains(text, t.filter) {
		return
	}
	if t.hold {
		t.held = append(t.held, heldLine{at, text})
		return
	}
	t.write(at, text)
}

func (t *tracer) write(at time.Duration, text string) {
	if t.bw == nil {
		t.bw = bufio.NewWriterSize(t.w, 1<<16)
	}
	fmt.Fprintf(t.bw, "%12.6f [%s] %s\n", at.Seconds(), t.variant, text)
}

// windowDone writes the held lines of a window in time order (stable: the
// lines of one part keep their order).
func (t *tracer) windowDone() {
	sort.SliceStable(t.held, func(i, j int) bool { return t.held[i].at < t.held[j].at })
	for _, l := range t.held {
		t.write(l.at, l.text)
	}
	clear(t.held)
	t.held = t.held[:0]
}

func (t *tracer) flush() {
	t.windowDone()
	if t.bw != nil {
		t.bw.Flush()
	}
}

func (t *tracer) log(at time.Duration, line string) { t.line(at, "scscf: "+line) }

func (t *tracer) event(at time.Duration, to sim.NodeID, ev *sim.Event) {
	switch ev.Kind {
	case sim.EvMessage:
		if t.filter != "" && !mentions(ev.Msg, t.filter) {
			return // skip the formatting: most events of a filtered trace
		}
		t.line(at, t.rt.Name(ev.From)+" -> "+t.rt.Name(to)+" "+describe(ev.Msg))
	case sim.EvTimer:
		if t.filter != "" {
			return // timer lines name no user, so a filter never keeps them
		}
		var name string
		switch t.rt.Name(to) {
		case NodeUE:
			name = ue.TimerName(ev.Timer.Kind)
		case NodeSCSCF:
			name = scscf.TimerName(ev.Timer.Kind)
		case NodeHSS:
			name = "hss." + map[uint32]string{hss.TimerAnswer: "answer", hss.TimerWorker: "worker"}[ev.Timer.Kind]
		}
		if name == "ue.arrival" || name == "sip.worker" || name == "cdp.worker" || name == "hss.worker" || name == "hss.answer" {
			return // their effects show as messages
		}
		t.line(at, fmt.Sprintf("%s timer %s ref %d", t.rt.Name(to), name, ev.Timer.Ref))
	}
}

func describe(m sim.Message) string {
	switch m := m.(type) {
	case *sipmsg.Request:
		s := fmt.Sprintf("REGISTER %s cseq %d branch %s call-id %s", m.AOR, m.CSeq, m.Branch, m.CallID)
		if m.Auth != nil && m.Auth.Response != "" {
			s += " (with credentials)"
		}
		if m.Auth != nil && m.Auth.AUTS != "" {
			s += " (AUTS)"
		}
		return s
	case *sipmsg.Response:
		return fmt.Sprintf("%d %s to %s cseq %d call-id %s", m.Code, m.Reason, m.To, m.CSeq, m.CallID)
	case *cx.MAR:
		return fmt.Sprintf("MAR hbh %d user %s impu %s", m.HopByHop, m.UserName, m.PublicIdentity)
	case *cx.MAA:
		return fmt.Sprintf("MAA hbh %d result %d exp %d user %s vectors %d", m.HopByHop, m.ResultCode, m.ExperimentalResult, m.UserName, len(m.Items))
	case *cx.SAR:
		return fmt.Sprintf("SAR hbh %d impu %s type %d", m.HopByHop, m.PublicIdentity, m.AssignmentType)
	case *cx.SAA:
		return fmt.Sprintf("SAA hbh %d result %d exp %d user %s", m.HopByHop, m.ResultCode, m.ExperimentalResult, m.UserName)
	}
	return fmt.Sprintf("%T", m)
}

// mentions reports whether any identity field of m contains text.
func mentions(m sim.Message, text string) bool {
	has := func(fields ...string) bool {
		for _, f := range fields {
			if strings.Contains(f, text) {
				return true
			}
		}
		return false
	}
	switch m := m.(type) {
	case *sipmsg.Request:
		return has(m.AOR, m.CallID, m.Branch)
	case *sipmsg.Response:
		return has(m.To, m.CallID, m.Reason)
	case *cx.MAR:
		return has(m.UserName, m.PublicIdentity)
	case *cx.MAA:
		return has(m.UserName, m.PublicIdentity)
	case *cx.SAR:
		return has(m.UserName, m.PublicIdentity)
	case *cx.SAA:
		return has(m.UserName)
	}
	return true
}
