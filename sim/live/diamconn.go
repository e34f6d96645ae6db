package live

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/fiorix/go-diameter/v4/diam"
	"github.com/fiorix/go-diameter/v4/diam/datatype"

	"github.com/regstorm/regstorm/hss/cx"
)

// DiameterLimits bound one side's Diameter connections: what a peer may
// make this process buffer, wait for or hold open. The zero value of a
// field takes its default (Defaults); the defaults are written here only.
type DiameterLimits struct {
	// MaxMessage is the largest Message-Length read (RFC 6733 §3); a
	// longer one closes the connection before its body is read.
	MaxMessage int
	// MaxConns is the most connections a server holds at once; more are
	// closed at accept.
	MaxConns int
	// CERTimeout is the time from connect to a completed CER/CEA (RFC 6733
	// §5.3): a server closes a connection that sends no CER within it, a
	// client gives up waiting for the CEA.
	CERTimeout time.Duration
	// MessageTimeout is the time a message may take from its first byte
	// to its last: a peer that stops mid-message is closed.
	MessageTimeout time.Duration
	// WriteTimeout bounds one write; a peer that does not read is closed.
	WriteTimeout time.Duration
	// Watchdog is Tw of RFC 3539 §3.4.1 (jittered by up to ±2 s, at most
	// a tenth of Tw): after Tw without a message from the peer a DWR is
	// sent; after a second Tw still without one the peer is suspect, after
	// a third it is down and the connection closes.
	Watchdog time.Duration
}

// Defaults returns the limits with every zero field set to its default:
// 64 KiB messages, 256 connections, 10 s to CER/CEA, 10 s per message,
// 10 s per write, Tw 30 s (RFC 3539 §3.4.1's default).
func (l DiameterLimits) Defaults() DiameterLimits {
	if l.MaxMessage <= 0 {
		l.MaxMessage = 64 << 10
	}
	l.MaxMessage = min(l.MaxMessage, 1<<24-1) // the 24-bit Message-Length field
	if l.MaxConns <= 0 {
		l.MaxConns = 256
	}
	if l.CERTimeout <= 0 {
		l.CERTimeout = 10 * time.Second
	}
	if l.MessageTimeout <= 0 {
		l.MessageTimeout = 10 * time.Second
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = 10 * time.Second
	}
	if l.Watchdog <= 0 {
		l.Watchdog = 30 * time.Second
	}
	return l
}

// causeCounts counts what a transport rejected, dropped, timed out or
// closed, by cause; the commands print them at the end of a run.
type causeCounts struct {
	mu sync.Mutex
	m  map[string]uint64
}

func (c *causeCounts) add(key string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]uint64{}
	}
	c.m[key]++
	c.mu.Unlock()
}

func (c *causeCounts) snapshot() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]uint64, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// SortedKeys returns a counter map's keys in order (for printing).
func SortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Base protocol command codes and AVPs (RFC 6733 §3.1, §4.5).
const (
	cmdCE = 257
	cmdDW = 280
	cmdDP = 282

	avpHostIPAddress     = 257
	avpAuthAppID         = 258
	avpAcctAppID         = 259
	avpVendorSpecAppID   = 260
	avpSessionID         = 263
	avpOriginHost        = 264
	avpSupportedVendorID = 265
	avpVendorID          = 266
	avpResultCode        = 268
	avpProductName       = 269
	avpDisconnectCause   = 273
	avpOriginStateID     = 278
	avpOriginRealm       = 296
	relayAppID           = 0xffffffff
	diameterSuccess      = 2001
	unableToComply       = 5012
)

// originStateID is this process's Origin-State-Id (RFC 6733 §8.16): it
// grows with every restart.
var originStateID = uint32(time.Now().Unix())

// errWatchdog closes a connection whose peer stopped answering.
var errWatchdog = errors.New("live: Diameter peer silent for three watchdog intervals (RFC 3539 §3.4.1)")

// diamConn is one Diameter connection past accept or dial: framing before
// go-diameter decodes anything (hss/cx CheckHeader, CheckFrame), the base
// protocol's answers (DWR/DWA, DPR/DPA, RFC 6733 §5.4, §5.5; error answers
// of §7), and the RFC 3539 watchdog. go-diameter's own connection and
// state machine (diam.Server, sm) are not used: its reader allocates
// whatever Message-Length says, its decoder panics on bad AVP lengths,
// and sm's watchdog loses a DWA that arrives before it waits for one
// (an unbuffered channel written with a non-blocking send), which
// dropped healthy peers.
type diamConn struct {
	c      net.Conn
	br     *bufio.Reader
	lim    DiameterLimits
	host   string // local Origin-Host, Origin-Realm
	realm  string
	counts *causeCounts
	report func(error)

	wmu sync.Mutex // one writer at a time

	mu        sync.Mutex
	closed    bool
	why       string
	done      chan struct{}
	wd        *time.Timer
	lastHeard time.Time
	pending   bool // a DWR is out and nothing was heard since
	suspect   bool
	nextHBH   uint32
}

func newDiamConn(c net.Conn, lim DiameterLimits, host, realm string, counts *causeCounts, report func(error)) *diamConn {
	return &diamConn{c: c, br: bufio.NewReaderSize(c, 4096), lim: lim, host: host, realm: realm, counts: counts,
		report: report, done: make(chan struct{}), nextHBH: rand.Uint32()}
}

// close closes the connection once, counting why.
func (d *diamConn) close(why string) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed, d.why = true, why
	if d.wd != nil {
		d.wd.Stop()
	}
	d.mu.Unlock()
	d.counts.add("diameter.closed." + why)
	d.c.Close()
	close(d.done)
}

// reason is why the connection closed ("" while open).
func (d *diamConn) reason() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.why
}

// errPartial marks a read that failed inside a message (not between two).
type errPartial struct{ err error }

func (e errPartial) Error() string { return e.err.Error() }
func (e errPartial) Unwrap() error { return e.err }

// readMessage reads one message. It waits for the message's first byte
// until idle (zero: for ever; the watchdog ends a silent peer), then gives
// the rest MessageTimeout. The header is checked before the body is read,
// so no peer makes it buffer more than MaxMessage bytes; the body's AVPs
// are checked before anything decodes them. A non-fatal *cx.FrameError
// comes with the message's bytes, so the request can be answered.
func (d *diamConn) readMessage(idle time.Time) ([]byte, cx.MessageHeader, error) {
	var h cx.MessageHeader
	d.c.SetReadDeadline(idle)
	if _, err := d.br.Peek(1); err != nil {
		return nil, h, err
	}
	deadline := time.Now().Add(d.lim.MessageTimeout)
	if !idle.IsZero() && idle.Before(deadline) {
		deadline = idle
	}
	d.c.SetReadDeadline(deadline)
	var hb [cx.HeaderLen]byte
	if _, err := io.ReadFull(d.br, hb[:]); err != nil {
		return nil, h, errPartial{err}
	}
	h = cx.ParseHeader(hb[:])
	if fe := cx.CheckHeader(&h, d.lim.MaxMessage); fe != nil {
		return hb[:], h, fe
	}
	raw := make([]byte, h.Length) // go-diameter keeps slices of it: one per message
	copy(raw, hb[:])
	if _, err := io.ReadFull(d.br, raw[cx.HeaderLen:]); err != nil {
		return nil, h, errPartial{err}
	}
	if fe := cx.CheckFrame(raw, d.lim.MaxMessage); fe != nil {
		return raw, h, fe
	}
	return raw, h, nil
}

// readFailed counts and closes after a failed read; it reports whether
// the failure was a frame error that still lets the stream go on.
func (d *diamConn) readFailed(raw []byte, h cx.MessageHeader, err error, phase string) (goOn bool) {
	var fe *cx.FrameError
	if errors.As(err, &fe) {
		d.counts.add("diameter.rejected." + fe.Cause)
		d.report(fmt.Errorf("live: Diameter from %s: %w", d.c.RemoteAddr(), fe))
		if h.Request() && fe.ResultCode != 0 {
			d.answerError(raw, h, fe.ResultCode)
		}
		if fe.Fatal {
			d.close("frame_error")
			return false
		}
		return true
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		var p errPartial
		if errors.As(err, &p) {
			d.counts.add("diameter.timeout.message")
			d.close("message_timeout")
		} else {
			d.counts.add("diameter.timeout." + phase)
			d.close(phase + "_timeout")
		}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		var p errPartial
		if errors.As(err, &p) {
			d.counts.add("diameter.rejected.truncated")
		}
		d.close("by_peer")
	case errors.Is(err, net.ErrClosed):
		d.close("local")
	default:
		d.close("read_error")
	}
	return false
}

// decode runs go-diameter's decoder on framed bytes (cx.Read recovers a
// panic all the same).
func decode(raw []byte) (*diam.Message, error) {
	return cx.Read(bytes.NewReader(raw))
}

// write sends a message within WriteTimeout; a failed write closes.
func (d *diamConn) write(m *diam.Message) error {
	b, err := m.Serialize()
	if err != nil {
		return fmt.Errorf("live: serializing Diameter command %d: %w", m.Header.CommandCode, err)
	}
	return d.writeBytes(b)
}

func (d *diamConn) writeBytes(b []byte) error {
	d.wmu.Lock()
	d.c.SetWriteDeadline(time.Now().Add(d.lim.WriteTimeout))
	_, err := d.c.Write(b)
	d.wmu.Unlock()
	if err != nil {
		d.close("write_error")
		return fmt.Errorf("live: writing to Diameter peer %s: %w", d.c.RemoteAddr(), err)
	}
	return nil
}

// base starts a base-protocol message with Origin-Host and Origin-Realm.
func (d *diamConn) base(cmd uint32, flags uint8, hbh, e2e uint32) *diam.Message {
	m := diam.NewMessage(cmd, flags, 0, hbh, e2e, cx.Dict())
	return m
}

func (d *diamConn) origin(m *diam.Message) {
	m.NewAVP(avpOriginHost, 0x40, 0, datatype.DiameterIdentity(d.host))
	m.NewAVP(avpOriginRealm, 0x40, 0, datatype.DiameterIdentity(d.realm))
}

func (d *diamConn) hbh() uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nextHBH++
	return d.nextHBH
}

// answerError answers a request that cannot be served (RFC 6733 §7.2):
// the request's command, application and identifiers, its Session-Id when
// one can be found, the E bit for protocol errors (3xxx).
func (d *diamConn) answerError(raw []byte, h cx.MessageHeader, rc uint32) {
	flags := h.Flags & cx.FlagProxiable
	if rc >= 3000 && rc < 4000 {
		flags |= cx.FlagError
	}
	m := diam.NewMessage(h.Command, flags, h.AppID, h.HopByHop, h.EndToEnd, cx.Dict())
	if sid, ok := cx.TopLevelAVP(raw, avpSessionID); ok && len(sid) <= 1024 {
		m.NewAVP(avpSessionID, 0x40, 0, datatype.UTF8String(sid))
	}
	d.origin(m)
	m.NewAVP(avpResultCode, 0x40, 0, datatype.Unsigned32(rc))
	d.counts.add(fmt.Sprintf("diameter.answered.%d", rc))
	if err := d.write(m); err != nil {
		d.report(err)
	}
}

// capabilities adds the AVPs of CER and CEA (RFC 6733 §5.3.1, §5.3.2):
// this host, vendor 3GPP, Cx as a vendor-specific auth application.
func (d *diamConn) capabilities(m *diam.Message) {
	d.origin(m)
	ip := net.IPv4(127, 0, 0, 1)
	if a, ok := d.c.LocalAddr().(*net.TCPAddr); ok && a.IP != nil {
		ip = a.IP
	}
	m.NewAVP(avpHostIPAddress, 0x40, 0, datatype.Address(ip))
	m.NewAVP(avpVendorID, 0x40, 0, datatype.Unsigned32(cx.VendorID))
	m.NewAVP(avpProductName, 0, 0, datatype.UTF8String("regstorm"))
	m.NewAVP(avpOriginStateID, 0x40, 0, datatype.Unsigned32(originStateID))
	m.NewAVP(avpSupportedVendorID, 0x40, 0, datatype.Unsigned32(cx.VendorID))
	m.NewAVP(avpVendorSpecAppID, 0x40, 0, &diam.GroupedAVP{AVP: []*diam.AVP{
		diam.NewAVP(avpVendorID, 0x40, 0, datatype.Unsigned32(cx.VendorID)),
		diam.NewAVP(avpAuthAppID, 0x40, 0, datatype.Unsigned32(cx.AppID))}})
}

// supportsCx reports whether a CER or CEA advertises Cx or the relay
// application (RFC 6733 §5.3: otherwise DIAMETER_NO_COMMON_APPLICATION).
func supportsCx(m *diam.Message) bool {
	var walk func(avps []*diam.AVP, depth int) bool
	walk = func(avps []*diam.AVP, depth int) bool {
		for _, a := range avps {
			switch a.Code {
			case avpAuthAppID, avpAcctAppID:
				if v, ok := a.Data.(datatype.Unsigned32); ok && (uint32(v) == cx.AppID || uint32(v) == relayAppID) {
					return true
				}
			case avpVendorSpecAppID:
				if g, ok := a.Data.(*diam.GroupedAVP); ok && depth == 0 && walk(g.AVP, 1) {
					return true
				}
			}
		}
		return false
	}
	return walk(m.AVP, 0)
}

func findString(m *diam.Message, code uint32) string {
	for _, a := range m.AVP {
		if a.Code == code && a.VendorID == 0 {
			switch v := a.Data.(type) {
			case datatype.DiameterIdentity:
				return string(v)
			case datatype.UTF8String:
				return string(v)
			case datatype.OctetString:
				return string(v)
			}
		}
	}
	return ""
}

func findU32(m *diam.Message, code uint32) (uint32, bool) {
	for _, a := range m.AVP {
		if a.Code == code && a.VendorID == 0 {
			if v, ok := a.Data.(datatype.Unsigned32); ok {
				return uint32(v), true
			}
		}
	}
	return 0, false
}

// acceptCER is the responder's side of the capabilities exchange (RFC 6733
// §5.3, §5.6 Wait-CER): the first message must be a CER within
// CERTimeout; one without Origin-Host and Origin-Realm is answered 5005,
// one without Cx 5010, and the connection closes; otherwise CEA 2001.
func (d *diamConn) acceptCER() (peerHost string, ok bool) {
	raw, h, err := d.readMessage(time.Now().Add(d.lim.CERTimeout))
	if err != nil {
		d.readFailed(raw, h, err, "cer")
		d.close("no_cer")
		return "", false
	}
	if h.AppID != 0 || h.Command != cmdCE || !h.Request() {
		d.counts.add("diameter.rejected.not_cer")
		d.close("no_cer")
		return "", false
	}
	m, err := decode(raw)
	if err != nil {
		d.counts.add("diameter.rejected.undecodable")
		d.report(fmt.Errorf("live: CER from %s: %w", d.c.RemoteAddr(), err))
		d.answerError(raw, h, cx.InvalidAVPValue)
		d.close("bad_cer")
		return "", false
	}
	peerHost = findString(m, avpOriginHost)
	rc := uint32(diameterSuccess)
	switch {
	case peerHost == "" || findString(m, avpOriginRealm) == "":
		rc = cx.MissingAVP
	case !supportsCx(m):
		rc = cx.NoCommonApplication
	}
	a := d.base(cmdCE, 0, h.HopByHop, h.EndToEnd)
	a.NewAVP(avpResultCode, 0x40, 0, datatype.Unsigned32(rc))
	d.capabilities(a)
	if err := d.write(a); err != nil {
		d.report(err)
		return "", false
	}
	if rc != diameterSuccess {
		d.counts.add(fmt.Sprintf("diameter.rejected.cer_%d", rc))
		d.close("bad_cer")
		return "", false
	}
	return peerHost, true
}

// connectCER is the initiator's side (RFC 6733 §5.3, §5.6 Wait-I-CEA):
// CER, then a CEA with 2001 within CERTimeout.
func (d *diamConn) connectCER() (peerHost string, err error) {
	hbh := d.hbh()
	m := d.base(cmdCE, cx.FlagRequest, hbh, hbh)
	d.capabilities(m)
	if err := d.write(m); err != nil {
		return "", err
	}
	deadline := time.Now().Add(d.lim.CERTimeout)
	for {
		raw, h, err := d.readMessage(deadline)
		if err != nil {
			if d.readFailed(raw, h, err, "cea") {
				continue
			}
			return "", fmt.Errorf("live: no CEA from %s: %w", d.c.RemoteAddr(), err)
		}
		if h.AppID != 0 || h.Command != cmdCE || h.Request() {
			d.counts.add("diameter.dropped.before_cea")
			continue
		}
		a, err := decode(raw)
		if err != nil {
			d.counts.add("diameter.rejected.undecodable")
			d.close("bad_cea")
			return "", fmt.Errorf("live: CEA from %s: %w", d.c.RemoteAddr(), err)
		}
		if rc, _ := findU32(a, avpResultCode); rc != diameterSuccess {
			d.counts.add(fmt.Sprintf("diameter.rejected.cea_%d", rc))
			d.close("bad_cea")
			return "", fmt.Errorf("live: CEA from %s with Result-Code %d", d.c.RemoteAddr(), rc)
		}
		return findString(a, avpOriginHost), nil
	}
}

// Watchdog (RFC 3539 §3.4.1). The timer is not reset on every message:
// it fires every Tw (jittered) and looks at when the peer was last heard.

func (d *diamConn) tw() time.Duration {
	tw := d.lim.Watchdog
	j := min(2*time.Second, tw/10)
	if j > 0 {
		tw += time.Duration(rand.Int64N(int64(2*j+1))) - j
	}
	return tw
}

func (d *diamConn) startWatchdog() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.lastHeard = time.Now()
	d.wd = time.AfterFunc(d.tw(), d.watchdogFired)
}

// heard notes a message from the peer: any message shows it alive (RFC
// 3539 §3.4.1 "SetWatchdog on receipt"), a DWA answers the pending DWR,
// whenever it arrives.
func (d *diamConn) heard() {
	d.mu.Lock()
	d.lastHeard = time.Now()
	if d.suspect {
		d.suspect = false
		d.counts.add("diameter.watchdog.recovered")
	}
	d.pending = false
	d.mu.Unlock()
}

func (d *diamConn) watchdogFired() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	tw := d.tw()
	if quiet := time.Since(d.lastHeard); quiet < tw {
		d.wd.Reset(tw - quiet) // heard within Tw: nothing to do yet
		d.mu.Unlock()
		return
	}
	var sendDWR bool
	switch {
	case d.suspect:
		d.mu.Unlock()
		d.counts.add("diameter.watchdog.down")
		d.report(fmt.Errorf("%w: %s", errWatchdog, d.c.RemoteAddr()))
		d.close("watchdog")
		return
	case d.pending:
		d.suspect = true
		d.counts.add("diameter.watchdog.suspect")
	default:
		d.pending, sendDWR = true, true
	}
	d.wd.Reset(tw)
	d.mu.Unlock()
	if sendDWR {
		hbh := d.hbh()
		m := d.base(cmdDW, cx.FlagRequest, hbh, hbh)
		d.origin(m)
		m.NewAVP(avpOriginStateID, 0x40, 0, datatype.Unsigned32(originStateID))
		d.counts.add("diameter.watchdog.dwr_sent")
		if err := d.write(m); err != nil {
			d.report(err)
		}
	}
}

// disconnect sends DPR (RFC 6733 §5.4, Disconnect-Cause REBOOTING) and
// waits up to a second for the DPA before closing.
func (d *diamConn) disconnect() {
	hbh := d.hbh()
	m := d.base(cmdDP, cx.FlagRequest, hbh, hbh)
	d.origin(m)
	m.NewAVP(avpDisconnectCause, 0x40, 0, datatype.Enumerated(0))
	if d.write(m) == nil {
		select {
		case <-d.done:
		case <-time.After(time.Second):
		}
	}
	d.close("local")
}

// serve reads messages in the open state until the connection closes:
// the base protocol is answered here, Cx messages go to cx when their
// direction is the one this side serves (requests at a server, answers
// at a client); anything else gets its RFC 6733 §7 answer or is counted.
func (d *diamConn) serve(requests bool, onCx func(m *diam.Message, raw []byte, h cx.MessageHeader)) {
	for {
		raw, h, err := d.readMessage(time.Time{})
		if err != nil {
			if d.readFailed(raw, h, err, "idle") {
				d.heard()
				continue
			}
			return
		}
		d.heard()
		switch {
		case h.AppID == 0 && h.Command == cmdDW:
			if h.Request() {
				a := d.base(cmdDW, 0, h.HopByHop, h.EndToEnd)
				a.NewAVP(avpResultCode, 0x40, 0, datatype.Unsigned32(diameterSuccess))
				d.origin(a)
				a.NewAVP(avpOriginStateID, 0x40, 0, datatype.Unsigned32(originStateID))
				if err := d.write(a); err != nil {
					d.report(err)
				}
			}
		case h.AppID == 0 && h.Command == cmdDP:
			if h.Request() {
				a := d.base(cmdDP, 0, h.HopByHop, h.EndToEnd)
				a.NewAVP(avpResultCode, 0x40, 0, datatype.Unsigned32(diameterSuccess))
				d.origin(a)
				d.write(a)
				d.close("dpr_from_peer")
			} else {
				d.close("local_dpr") // the DPA to our DPR
			}
			return
		case h.AppID == 0 && h.Command == cmdCE:
			// RFC 6733 §5.6: a CER on an open connection (no election
			// here: one connection per peer).
			d.counts.add("diameter.rejected.cer_when_open")
			if h.Request() {
				d.answerError(raw, h, unableToComply)
			}
		case h.AppID == cx.AppID && h.Command >= cx.CmdUserAuthorization && h.Command <= cx.CmdMultimediaAuth && h.Request() == requests:
			m, err := decode(raw)
			if err != nil {
				d.counts.add("diameter.rejected.undecodable")
				d.report(fmt.Errorf("live: Diameter from %s: %w", d.c.RemoteAddr(), err))
				if h.Request() {
					d.answerError(raw, h, cx.InvalidAVPValue)
				}
				continue
			}
			onCx(m, raw, h)
		case !h.Request():
			d.counts.add("diameter.dropped.unexpected_answer")
		case h.AppID == 0 || h.AppID == cx.AppID:
			d.answerError(raw, h, cx.CommandUnsupported) // RFC 6733 §7.1.3
		default:
			d.answerError(raw, h, cx.ApplicationUnsupported)
		}
	}
}
