package cx

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/fiorix/go-diameter/v4/diam"
	"github.com/fiorix/go-diameter/v4/diam/datatype"
	"github.com/fiorix/go-diameter/v4/diam/dict"
)

//go:embed cx.xml
var dictionaryXML []byte

var (
	dictOnce sync.Once
	dictP    *dict.Parser
	dictErr  error
)

// Dict returns regstorm's private go-diameter dictionary (base subset and
// Cx), loaded once. It is never dict.Default, whose SWx application shares
// Cx's short command names.
func Dict() *dict.Parser {
	dictOnce.Do(func() {
		dictP, dictErr = dict.NewParser()
		if dictErr == nil {
			dictErr = dictP.Load(bytes.NewReader(dictionaryXML))
		}
	})
	if dictErr != nil {
		panic(fmt.Sprintf("cx: embedded dictionary does not load: %v", dictErr)) // a build defect, caught by every test
	}
	return dictP
}

// AVP codes used here (RFC 6733 §4.5; TS 29.229 §6.3).
const (
	avpUserName                    = 1
	avpAuthApplicationID           = 258
	avpVendorSpecificApplicationID = 260
	avpSessionID                   = 263
	avpOriginHost                  = 264
	avpVendorID                    = 266
	avpResultCode                  = 268
	avpAuthSessionState            = 277
	avpDestinationRealm            = 283
	avpDestinationHost             = 293
	avpOriginRealm                 = 296
	avpExperimentalResult          = 297
	avpExperimentalResultCode      = 298
	avpVisitedNetworkIdentifier    = 600
	avpPublicIdentity              = 601
	avpServerName                  = 602
	avpUserData                    = 606
	avpSIPNumberAuthItems          = 607
	avpSIPAuthenticationScheme     = 608
	avpSIPAuthenticate             = 609
	avpSIPAuthorization            = 610
	avpSIPAuthDataItem             = 612
	avpSIPItemNumber               = 613
	avpServerAssignmentType        = 614
	avpUserAuthorizationType       = 623
	avpUserDataAlreadyAvailable    = 624
	avpConfidentialityKey          = 625
	avpIntegrityKey                = 626
	avpSIPDigestAuthenticate       = 635
	avpDigestRealm                 = 104
	avpDigestQoP                   = 110
	avpDigestAlgorithm             = 111
	avpDigestHA1                   = 121
)

const (
	mbit  = 0x40
	vbit  = 0x80
	mv    = mbit | vbit
	noSt  = 1 // Auth-Session-State NO_STATE_MAINTAINED
	flagR = diam.RequestFlag | diam.ProxiableFlag
	flagA = diam.ProxiableFlag
)

// UAR is a User-Authorization-Request (TS 29.229 §6.1.1).
type UAR struct {
	Header
	UserName          string
	PublicIdentity    string
	VisitedNetwork    []byte
	AuthorizationType uint32 // 0 REGISTRATION, 1 DE_REGISTRATION, 2 REGISTRATION_AND_CAPABILITIES
}

// UAA is a User-Authorization-Answer (TS 29.229 §6.1.2).
type UAA struct {
	Header
	ResultCode         uint32
	ExperimentalResult uint32
	ServerName         string
}

// LIR is a Location-Info-Request (TS 29.229 §6.1.5).
type LIR struct {
	Header
	PublicIdentity string
}

// LIA is a Location-Info-Answer (TS 29.229 §6.1.6).
type LIA struct {
	Header
	ResultCode         uint32
	ExperimentalResult uint32
	ServerName         string
}

// Encode renders a typed Cx message as a go-diameter message.
func Encode(m any) (*diam.Message, error) {
	switch m := m.(type) {
	case *MAR:
		d := request(CmdMultimediaAuth, &m.Header)
		str(d, avpUserName, 0, m.UserName)
		str(d, avpPublicIdentity, mv, m.PublicIdentity)
		u32(d, avpSIPNumberAuthItems, mv, m.NumAuthItems)
		item := []*diam.AVP{}
		if m.Scheme != "" {
			item = append(item, diam.NewAVP(avpSIPAuthenticationScheme, mv, VendorID, datatype.UTF8String(m.Scheme)))
		}
		if len(m.Authorization) > 0 {
			item = append(item, diam.NewAVP(avpSIPAuthorization, mv, VendorID, datatype.OctetString(m.Authorization)))
		}
		d.AddAVP(diam.NewAVP(avpSIPAuthDataItem, mv, VendorID, &diam.GroupedAVP{AVP: item}))
		str(d, avpServerName, mv, m.ServerName)
		return d, nil
	case *MAA:
		d := answer(CmdMultimediaAuth, &m.Header, m.ResultCode, m.ExperimentalResult)
		strOpt(d, avpUserName, 0, m.UserName)
		strOpt(d, avpPublicIdentity, mv, m.PublicIdentity)
		if m.ResultCode == DiameterSuccess || len(m.Items) > 0 {
			u32(d, avpSIPNumberAuthItems, mv, uint32(len(m.Items)))
		}
		for _, it := range m.Items {
			g := []*diam.AVP{diam.NewAVP(avpSIPItemNumber, mv, VendorID, datatype.Unsigned32(it.ItemNumber))}
			if it.Scheme != "" {
				g = append(g, diam.NewAVP(avpSIPAuthenticationScheme, mv, VendorID, datatype.UTF8String(it.Scheme)))
			}
			for _, o := range []struct {
				code uint32
				b    []byte
			}{{avpSIPAuthenticate, it.Authenticate}, {avpSIPAuthorization, it.Authorization}, {avpConfidentialityKey, it.CK}, {avpIntegrityKey, it.IK}} {
				if len(o.b) > 0 {
					g = append(g, diam.NewAVP(o.code, mv, VendorID, datatype.OctetString(o.b)))
				}
			}
			if da := it.Digest; da != nil {
				dg := []*diam.AVP{diam.NewAVP(avpDigestRealm, mbit, 0, datatype.UTF8String(da.Realm))}
				if da.Algorithm != "" {
					dg = append(dg, diam.NewAVP(avpDigestAlgorithm, mbit, 0, datatype.UTF8String(da.Algorithm)))
				}
				dg = append(dg, diam.NewAVP(avpDigestQoP, mbit, 0, datatype.UTF8String(da.QoP)),
					diam.NewAVP(avpDigestHA1, mbit, 0, datatype.UTF8String(da.HA1)))
				g = append(g, diam.NewAVP(avpSIPDigestAuthenticate, mv, VendorID, &diam.GroupedAVP{AVP: dg}))
			}
			d.AddAVP(diam.NewAVP(avpSIPAuthDataItem, mv, VendorID, &diam.GroupedAVP{AVP: g}))
		}
		return d, nil
	case *SAR:
		d := request(CmdServerAssignment, &m.Header)
		strOpt(d, avpUserName, 0, m.UserName)
		strOpt(d, avpPublicIdentity, mv, m.PublicIdentity)
		str(d, avpServerName, mv, m.ServerName)
		d.AddAVP(diam.NewAVP(avpServerAssignmentType, mv, VendorID, datatype.Enumerated(int32(m.AssignmentType))))
		d.AddAVP(diam.NewAVP(avpUserDataAlreadyAvailable, mv, VendorID, datatype.Enumerated(int32(m.UserDataAvailable))))
		return d, nil
	case *SAA:
		d := answer(CmdServerAssignment, &m.Header, m.ResultCode, m.ExperimentalResult)
		strOpt(d, avpUserName, 0, m.UserName)
		if len(m.UserData) > 0 {
			d.AddAVP(diam.NewAVP(avpUserData, mv, VendorID, datatype.OctetString(m.UserData)))
		}
		return d, nil
	case *UAR:
		d := request(CmdUserAuthorization, &m.Header)
		str(d, avpUserName, 0, m.UserName)
		str(d, avpPublicIdentity, mv, m.PublicIdentity)
		d.AddAVP(diam.NewAVP(avpVisitedNetworkIdentifier, mv, VendorID, datatype.OctetString(m.VisitedNetwork)))
		d.AddAVP(diam.NewAVP(avpUserAuthorizationType, mv, VendorID, datatype.Enumerated(int32(m.AuthorizationType))))
		return d, nil
	case *UAA:
		d := answer(CmdUserAuthorization, &m.Header, m.ResultCode, m.ExperimentalResult)
		strOpt(d, avpServerName, mv, m.ServerName)
		return d, nil
	case *LIR:
		d := request(CmdLocationInfo, &m.Header)
		str(d, avpPublicIdentity, mv, m.PublicIdentity)
		return d, nil
	case *LIA:
		d := answer(CmdLocationInfo, &m.Header, m.ResultCode, m.ExperimentalResult)
		strOpt(d, avpServerName, mv, m.ServerName)
		return d, nil
	}
	return nil, fmt.Errorf("cx: cannot encode %T", m)
}

// request starts a Cx request with the AVPs every one carries, in the
// order Kamailio's cdp sends them (Session-Id first, RFC 6733 §8.8).
func request(cmd uint32, h *Header) *diam.Message {
	d := diam.NewMessage(cmd, flagR, AppID, h.HopByHop, h.EndToEnd, Dict())
	common(d, h)
	d.AddAVP(diam.NewAVP(avpDestinationRealm, mbit, 0, datatype.DiameterIdentity(h.DestRealm)))
	return d
}

func answer(cmd uint32, h *Header, rc, exp uint32) *diam.Message {
	d := diam.NewMessage(cmd, flagA, AppID, h.HopByHop, h.EndToEnd, Dict())
	common(d, h)
	// Kamailio accepts success only as a base Result-Code (KAMAILIO-MODEL.md §5.5).
	if rc != 0 {
		d.AddAVP(diam.NewAVP(avpResultCode, mbit, 0, datatype.Unsigned32(rc)))
	}
	if exp != 0 {
		d.AddAVP(diam.NewAVP(avpExperimentalResult, mbit, 0, &diam.GroupedAVP{AVP: []*diam.AVP{
			diam.NewAVP(avpVendorID, mbit, 0, datatype.Unsigned32(VendorID)),
			diam.NewAVP(avpExperimentalResultCode, mbit, 0, datatype.Unsigned32(exp)),
		}}))
	}
	return d
}

func common(d *diam.Message, h *Header) {
	// go-diameter draws random ids when given 0 (global randomness):
	// the ids are always the caller's (ARCHITECTURE.md §6).
	d.Header.HopByHopID, d.Header.EndToEndID = h.HopByHop, h.EndToEnd
	d.AddAVP(diam.NewAVP(avpSessionID, mbit, 0, datatype.UTF8String(h.SessionID)))
	d.AddAVP(diam.NewAVP(avpVendorSpecificApplicationID, mbit, 0, &diam.GroupedAVP{AVP: []*diam.AVP{
		diam.NewAVP(avpVendorID, mbit, 0, datatype.Unsigned32(VendorID)),
		diam.NewAVP(avpAuthApplicationID, mbit, 0, datatype.Unsigned32(AppID)),
	}}))
	d.AddAVP(diam.NewAVP(avpAuthSessionState, mbit, 0, datatype.Enumerated(noSt)))
	d.AddAVP(diam.NewAVP(avpOriginHost, mbit, 0, datatype.DiameterIdentity(h.OriginHost)))
	d.AddAVP(diam.NewAVP(avpOriginRealm, mbit, 0, datatype.DiameterIdentity(h.OriginRealm)))
}

func str(d *diam.Message, code uint32, flags uint8, v string) {
	vendor := uint32(0)
	if flags&vbit != 0 {
		vendor = VendorID
	}
	d.AddAVP(diam.NewAVP(code, flags|mbit, vendor, datatype.UTF8String(v)))
}

func strOpt(d *diam.Message, code uint32, flags uint8, v string) {
	if v != "" {
		str(d, code, flags, v)
	}
}

func u32(d *diam.Message, code uint32, flags uint8, v uint32) {
	d.AddAVP(diam.NewAVP(code, flags, VendorID, datatype.Unsigned32(v)))
}

// Marshal encodes a typed Cx message to wire bytes.
func Marshal(m any) ([]byte, error) {
	d, err := Encode(m)
	if err != nil {
		return nil, err
	}
	b, err := d.Serialize()
	if err != nil {
		return nil, fmt.Errorf("cx: serializing %T: %w", m, err)
	}
	return b, nil
}

// Unmarshal decodes wire bytes into a typed Cx message.
func Unmarshal(b []byte) (any, error) {
	if err := checkFrame(b); err != nil {
		return nil, err
	}
	d, err := Read(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return Decode(d)
}

// ErrMalformed wraps a decoder failure on malformed bytes.
var ErrMalformed = errors.New("cx: malformed Diameter message")

// Read reads one Diameter message with the Cx dictionary. go-diameter
// v4.1.0 panics on some malformed AVP layouts (found by FuzzUnmarshal, see
// testdata/fuzz); Read turns that into ErrMalformed so bad input from a
// peer is an error, never a crash.
func Read(r io.Reader) (d *diam.Message, err error) {
	defer func() {
		if p := recover(); p != nil {
			d, err = nil, fmt.Errorf("%w: decoder panicked: %v", ErrMalformed, p)
		}
	}()
	d, err = diam.ReadMessage(r, Dict())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return d, nil
}

// ErrNotCx is returned for a message of another application or command.
var ErrNotCx = errors.New("cx: not a Cx message")

// Decode turns a go-diameter message into a typed Cx message, checking
// the AVPs each one must carry.
func Decode(d *diam.Message) (any, error) {
	if d.Header.ApplicationID != AppID {
		return nil, fmt.Errorf("%w: application %d, command %d", ErrNotCx, d.Header.ApplicationID, d.Header.CommandCode)
	}
	r := reader{d: d}
	h := Header{HopByHop: d.Header.HopByHopID, EndToEnd: d.Header.EndToEndID,
		SessionID: r.str(avpSessionID, 0, true), OriginHost: r.str(avpOriginHost, 0, true),
		OriginRealm: r.str(avpOriginRealm, 0, true)}
	isReq := d.Header.CommandFlags&diam.RequestFlag != 0
	if isReq {
		h.DestRealm = r.str(avpDestinationRealm, 0, true)
	}
	var out any
	switch cmd := d.Header.CommandCode; {
	case cmd == CmdMultimediaAuth && isReq:
		m := &MAR{Header: h, UserName: r.str(avpUserName, 0, true), PublicIdentity: r.str(avpPublicIdentity, VendorID, true),
			ServerName: r.str(avpServerName, VendorID, true), NumAuthItems: r.u32(avpSIPNumberAuthItems, VendorID, true)}
		if g := r.group(avpSIPAuthDataItem, VendorID, true); g != nil {
			m.Scheme = g.str(avpSIPAuthenticationScheme, VendorID, false)
			m.Authorization = g.bytes(avpSIPAuthorization, VendorID, false)
			if g.err != nil {
				r.fail("SIP-Auth-Data-Item: %w", g.err)
			}
		}
		out = m
	case cmd == CmdMultimediaAuth:
		m := &MAA{Header: h, UserName: r.str(avpUserName, 0, false), PublicIdentity: r.str(avpPublicIdentity, VendorID, false)}
		m.ResultCode, m.ExperimentalResult = r.result()
		for _, a := range r.all(avpSIPAuthDataItem, VendorID) {
			g := r.sub(a)
			m.Items = append(m.Items, AuthItem{ItemNumber: g.u32(avpSIPItemNumber, VendorID, false),
				Scheme:        g.str(avpSIPAuthenticationScheme, VendorID, false),
				Authenticate:  g.bytes(avpSIPAuthenticate, VendorID, false),
				Authorization: g.bytes(avpSIPAuthorization, VendorID, false),
				CK:            g.bytes(avpConfidentialityKey, VendorID, false),
				IK:            g.bytes(avpIntegrityKey, VendorID, false)})
			if dg := g.group(avpSIPDigestAuthenticate, VendorID, false); dg != nil {
				m.Items[len(m.Items)-1].Digest = &DigestAuth{Realm: dg.str(avpDigestRealm, 0, true), QoP: dg.str(avpDigestQoP, 0, true),
					HA1: dg.str(avpDigestHA1, 0, true), Algorithm: dg.str(avpDigestAlgorithm, 0, false)}
				if dg.err != nil {
					r.fail("SIP-Digest-Authenticate: %w", dg.err)
				}
			}
			if g.err != nil {
				r.fail("SIP-Auth-Data-Item: %w", g.err)
			}
		}
		out = m
	case cmd == CmdServerAssignment && isReq:
		out = &SAR{Header: h, UserName: r.str(avpUserName, 0, false), PublicIdentity: r.str(avpPublicIdentity, VendorID, false),
			ServerName: r.str(avpServerName, VendorID, true), AssignmentType: r.u32(avpServerAssignmentType, VendorID, true),
			UserDataAvailable: r.u32(avpUserDataAlreadyAvailable, VendorID, true)}
	case cmd == CmdServerAssignment:
		m := &SAA{Header: h, UserName: r.str(avpUserName, 0, false), UserData: r.bytes(avpUserData, VendorID, false)}
		m.ResultCode, m.ExperimentalResult = r.result()
		out = m
	case cmd == CmdUserAuthorization && isReq:
		out = &UAR{Header: h, UserName: r.str(avpUserName, 0, true), PublicIdentity: r.str(avpPublicIdentity, VendorID, true),
			VisitedNetwork: r.bytes(avpVisitedNetworkIdentifier, VendorID, true), AuthorizationType: r.u32(avpUserAuthorizationType, VendorID, false)}
	case cmd == CmdUserAuthorization:
		m := &UAA{Header: h, ServerName: r.str(avpServerName, VendorID, false)}
		m.ResultCode, m.ExperimentalResult = r.result()
		out = m
	case cmd == CmdLocationInfo && isReq:
		out = &LIR{Header: h, PublicIdentity: r.str(avpPublicIdentity, VendorID, true)}
	case cmd == CmdLocationInfo:
		m := &LIA{Header: h, ServerName: r.str(avpServerName, VendorID, false)}
		m.ResultCode, m.ExperimentalResult = r.result()
		out = m
	default:
		return nil, fmt.Errorf("%w: command %d", ErrNotCx, cmd)
	}
	if r.err != nil {
		return nil, fmt.Errorf("cx: command %d (hop-by-hop %d): %w", d.Header.CommandCode, d.Header.HopByHopID, r.err)
	}
	return out, nil
}

// reader extracts AVPs, remembering the first problem.
type reader struct {
	d    *diam.Message
	avps []*diam.AVP // of a grouped AVP; nil for the message
	err  error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *reader) all(code, vendor uint32) []*diam.AVP {
	var out []*diam.AVP
	list := r.avps
	if list == nil && r.d != nil {
		list = r.d.AVP
	}
	for _, a := range list {
		if a.Code == code && a.VendorID == vendor {
			out = append(out, a)
		}
	}
	return out
}

func (r *reader) one(code, vendor uint32, required bool) *diam.AVP {
	as := r.all(code, vendor)
	if len(as) == 0 {
		if required {
			r.fail("missing AVP %d (vendor %d)", code, vendor)
		}
		return nil
	}
	return as[0]
}

func (r *reader) str(code, vendor uint32, required bool) string {
	a := r.one(code, vendor, required)
	if a == nil {
		return ""
	}
	switch v := a.Data.(type) {
	case datatype.UTF8String:
		return string(v)
	case datatype.DiameterIdentity:
		return string(v)
	case datatype.OctetString:
		return string(v)
	}
	r.fail("AVP %d has type %T, want a string", code, a.Data)
	return ""
}

func (r *reader) bytes(code, vendor uint32, required bool) []byte {
	a := r.one(code, vendor, required)
	if a == nil {
		return nil
	}
	if v, ok := a.Data.(datatype.OctetString); ok {
		return []byte(v)
	}
	r.fail("AVP %d has type %T, want OctetString", code, a.Data)
	return nil
}

func (r *reader) u32(code, vendor uint32, required bool) uint32 {
	a := r.one(code, vendor, required)
	if a == nil {
		return 0
	}
	switch v := a.Data.(type) {
	case datatype.Unsigned32:
		return uint32(v)
	case datatype.Enumerated:
		return uint32(v)
	}
	r.fail("AVP %d has type %T, want Unsigned32", code, a.Data)
	return 0
}

func (r *reader) sub(a *diam.AVP) *reader {
	g, ok := a.Data.(*diam.GroupedAVP)
	if !ok {
		r.fail("AVP %d is not grouped (%T)", a.Code, a.Data)
		return &reader{avps: []*diam.AVP{}}
	}
	return &reader{avps: append([]*diam.AVP{}, g.AVP...), err: nil}
}

func (r *reader) group(code, vendor uint32, required bool) *reader {
	a := r.one(code, vendor, required)
	if a == nil {
		return nil
	}
	return r.sub(a)
}

// result reads Result-Code and Experimental-Result (one of them required).
func (r *reader) result() (rc, exp uint32) {
	rc = r.u32(avpResultCode, 0, false)
	if g := r.group(avpExperimentalResult, 0, false); g != nil {
		exp = g.u32(avpExperimentalResultCode, 0, true)
		if g.err != nil {
			r.fail("Experimental-Result: %w", g.err)
		}
	}
	if rc == 0 && exp == 0 {
		r.fail("answer without Result-Code or Experimental-Result")
	}
	return rc, exp
}
