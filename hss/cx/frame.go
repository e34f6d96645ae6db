package cx

import (
	"encoding/binary"
	"fmt"
)

// HeaderLen is the length of a Diameter header (RFC 6733 §3).
const HeaderLen = 20

// Header flags (RFC 6733 §3) and AVP flags (§4.1).
const (
	FlagRequest   = 0x80
	FlagProxiable = 0x40
	FlagError     = 0x20
	FlagRetrans   = 0x10
)

// Result-Codes of RFC 6733 §7.1 that a framing or dispatch fault is
// answered with.
const (
	CommandUnsupported     = 3001
	ApplicationUnsupported = 3007
	InvalidHdrBits         = 3008
	InvalidAVPValue        = 5004
	MissingAVP             = 5005
	NoCommonApplication    = 5010
	UnsupportedVersion     = 5011
	InvalidAVPLength       = 5014
	InvalidMessageLength   = 5015
)

// FrameError is a fault in a Diameter message's framing, found before any
// decoder sees it. Cause is a short stable name (a counter key); ResultCode
// is the RFC 6733 §7.1 code an answer to a request carries, 0 when no
// answer applies; Fatal means the stream cannot continue past it (the
// message's boundary is unknown, or not worth trusting).
type FrameError struct {
	Cause      string
	ResultCode uint32
	Fatal      bool
	Detail     string
}

func (e *FrameError) Error() string { return ErrMalformed.Error() + ": " + e.Detail }

// Unwrap makes a FrameError an ErrMalformed.
func (e *FrameError) Unwrap() error { return ErrMalformed }

func frameErr(cause string, rc uint32, fatal bool, format string, args ...any) *FrameError {
	return &FrameError{Cause: cause, ResultCode: rc, Fatal: fatal, Detail: fmt.Sprintf(format, args...)}
}

// MessageHeader is the fixed header of a Diameter message (RFC 6733 §3).
type MessageHeader struct {
	Version  uint8
	Length   int
	Flags    uint8
	Command  uint32
	AppID    uint32
	HopByHop uint32
	EndToEnd uint32
}

// Request reports whether the R bit is set.
func (h *MessageHeader) Request() bool { return h.Flags&FlagRequest != 0 }

// ParseHeader reads the header at the start of b (at least HeaderLen bytes).
func ParseHeader(b []byte) MessageHeader {
	return MessageHeader{Version: b[0], Length: int(binary.BigEndian.Uint32(b[0:4]) & 0xffffff),
		Flags: b[4], Command: binary.BigEndian.Uint32(b[4:8]) & 0xffffff,
		AppID: binary.BigEndian.Uint32(b[8:12]), HopByHop: binary.BigEndian.Uint32(b[12:16]),
		EndToEnd: binary.BigEndian.Uint32(b[16:20])}
}

// CheckHeader validates a header before the rest of its message is read:
// version 1 (RFC 6733 §3), a Message-Length of at least a header and at
// most maxLen (a bound of the reader's, so a peer cannot make it buffer or
// allocate more), and a length that is a multiple of 4 (every AVP is
// padded, §4). A length outside the bounds is fatal: the stream cannot be
// trusted past it.
func CheckHeader(h *MessageHeader, maxLen int) *FrameError {
	switch {
	case h.Version != 1:
		return frameErr("bad_version", UnsupportedVersion, true, "version %d", h.Version)
	case h.Length < HeaderLen:
		return frameErr("short_length", 0, true, "Message-Length %d is shorter than a header", h.Length)
	case h.Length > maxLen:
		return frameErr("too_long", 0, true, "Message-Length %d is above the limit of %d bytes", h.Length, maxLen)
	case h.Length%4 != 0:
		// RFC 6733 §7.1.5 DIAMETER_INVALID_MESSAGE_LENGTH.
		return frameErr("unaligned_length", InvalidMessageLength, true, "Message-Length %d is not a multiple of 4", h.Length)
	}
	return nil
}

// CheckFrame validates a whole message (its header included) before it
// reaches go-diameter's decoder, which trusts every length it reads: the
// header as CheckHeader does it, header bits (RFC 6733 §3, §7.1.3: no E
// bit on a request, 3008; reserved bits are ignored, as §3 says), and AVPs,
// including those inside the dictionary's grouped AVPs, whose lengths fit
// their container (§4.1, §7.1.5: 5014).
func CheckFrame(b []byte, maxLen int) *FrameError {
	if len(b) < HeaderLen {
		return frameErr("short_length", 0, true, "%d bytes, shorter than a header", len(b))
	}
	h := ParseHeader(b)
	if err := CheckHeader(&h, maxLen); err != nil {
		return err
	}
	if h.Length != len(b) {
		return frameErr("length_mismatch", InvalidMessageLength, true, "Message-Length %d, have %d bytes", h.Length, len(b))
	}
	if h.Request() && h.Flags&FlagError != 0 {
		return frameErr("bad_header_bits", InvalidHdrBits, false, "header flags %#02x", h.Flags)
	}
	return checkAVPs(b[HeaderLen:], HeaderLen, 0)
}

// checkFrame is CheckFrame for a message read whole (no length bound
// beyond the 24-bit field).
func checkFrame(b []byte) error {
	if err := CheckFrame(b, 1<<24); err != nil {
		return err
	}
	return nil
}

// groupedAVPs are the grouped AVPs of the dictionary, by (code, vendor).
var groupedAVPs = map[[2]uint32]bool{
	{260, 0}: true, {279, 0}: true, {284, 0}: true, {297, 0}: true,
	{603, VendorID}: true, {612, VendorID}: true, {615, VendorID}: true, {618, VendorID}: true,
	{628, VendorID}: true, {632, VendorID}: true, {635, VendorID}: true,
}

// maxNesting bounds grouped-AVP depth; Cx nests at most two levels.
const maxNesting = 8

func checkAVPs(b []byte, base, depth int) *FrameError {
	if depth > maxNesting {
		return frameErr("nesting", InvalidAVPValue, false, "grouped AVPs nested deeper than %d", maxNesting)
	}
	for off := 0; off < len(b); {
		if len(b)-off < 8 {
			return frameErr("bad_avp_length", InvalidAVPLength, false, "%d trailing bytes at offset %d", len(b)-off, base+off)
		}
		code := binary.BigEndian.Uint32(b[off:])
		flags := b[off+4]
		l := int(binary.BigEndian.Uint32(b[off+4:]) & 0xffffff)
		hl := 8
		var vendor uint32
		if flags&vbit != 0 {
			hl = 12
			if len(b)-off < 12 {
				return frameErr("bad_avp_length", InvalidAVPLength, false, "AVP %d header cut at offset %d", code, base+off)
			}
			vendor = binary.BigEndian.Uint32(b[off+8:])
		}
		padded := (l + 3) &^ 3
		if l < hl || off+padded > len(b) {
			return frameErr("bad_avp_length", InvalidAVPLength, false, "AVP %d length %d at offset %d does not fit", code, l, base+off)
		}
		if groupedAVPs[[2]uint32{code, vendor}] {
			if err := checkAVPs(b[off+hl:off+l], base+off+hl, depth+1); err != nil {
				return err
			}
		}
		off += padded
	}
	return nil
}

// TopLevelAVP returns the data of the first top-level AVP with code (and
// vendor 0) in a message whose AVP lengths may not have been checked; it
// stops at the first AVP whose length does not fit. Error answers use it to
// echo a request's Session-Id (RFC 6733 §7.2) without a decoder.
func TopLevelAVP(b []byte, code uint32) ([]byte, bool) {
	if len(b) < HeaderLen {
		return nil, false
	}
	b = b[HeaderLen:]
	for off := 0; len(b)-off >= 8; {
		c := binary.BigEndian.Uint32(b[off:])
		flags := b[off+4]
		l := int(binary.BigEndian.Uint32(b[off+4:]) & 0xffffff)
		hl := 8
		if flags&vbit != 0 {
			hl = 12
		}
		if l < hl || off+l > len(b) {
			return nil, false
		}
		if c == code && hl == 8 {
			return b[off+hl : off+l], true
		}
		off += (l + 3) &^ 3
	}
	return nil, false
}
