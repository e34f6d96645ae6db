package cx

import (
	"encoding/binary"
	"fmt"
)

// groupedAVPs are the grouped AVPs of the dictionary, by (code, vendor).
var groupedAVPs = map[[2]uint32]bool{
	{260, 0}: true, {279, 0}: true, {284, 0}: true, {297, 0}: true,
	{603, VendorID}: true, {612, VendorID}: true, {615, VendorID}: true, {618, VendorID}: true,
	{628, VendorID}: true, {632, VendorID}: true, {635, VendorID}: true,
}

// maxNesting bounds grouped-AVP depth; Cx nests at most two levels.
const maxNesting = 8

// checkFrame validates the framing of a Diameter message (RFC 6733 §3 and
// §4.1) before it reaches go-diameter's decoder: version 1, a message
// length that matches, and AVPs (including those inside grouped AVPs)
// whose lengths fit their container. go-diameter trusts these lengths.
func checkFrame(b []byte) error {
	if len(b) < 20 {
		return fmt.Errorf("%w: %d bytes, shorter than a header", ErrMalformed, len(b))
	}
	if b[0] != 1 {
		return fmt.Errorf("%w: version %d", ErrMalformed, b[0])
	}
	n := int(binary.BigEndian.Uint32(b[0:4]) & 0xffffff)
	if n != len(b) || n%4 != 0 {
		return fmt.Errorf("%w: header length %d, have %d bytes", ErrMalformed, n, len(b))
	}
	return checkAVPs(b[20:], 0)
}

func checkAVPs(b []byte, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("%w: grouped AVPs nested deeper than %d", ErrMalformed, maxNesting)
	}
	for off := 0; off < len(b); {
		if len(b)-off < 8 {
			return fmt.Errorf("%w: %d trailing bytes at offset %d", ErrMalformed, len(b)-off, off)
		}
		code := binary.BigEndian.Uint32(b[off:])
		flags := b[off+4]
		l := int(binary.BigEndian.Uint32(b[off+4:]) & 0xffffff)
		hl := 8
		var vendor uint32
		if flags&vbit != 0 {
			hl = 12
			if len(b)-off < 12 {
				return fmt.Errorf("%w: AVP %d header cut at offset %d", ErrMalformed, code, off)
			}
			vendor = binary.BigEndian.Uint32(b[off+8:])
		}
		padded := (l + 3) &^ 3
		if l < hl || off+padded > len(b) {
			return fmt.Errorf("%w: AVP %d length %d at offset %d does not fit %d bytes", ErrMalformed, code, l, off, len(b))
		}
		if groupedAVPs[[2]uint32{code, vendor}] {
			if err := checkAVPs(b[off+hl:off+l], depth+1); err != nil {
				return err
			}
		}
		off += padded
	}
	return nil
}
