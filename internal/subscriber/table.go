package subscriber

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/regstorm/regstorm/internal/aka"
	"github.com/regstorm/regstorm/internal/inputfile"
)

// Bounds on a subscriber file. It holds key material and may be any file
// the user names, so reading it stays bounded in memory and time, and an
// error names the file, the line and the column but never repeats what the
// line holds (no identity, no K or OPc).
const (
	// MaxFileBytes caps the file: 1 GiB is about 8 million subscribers
	// of 130-byte rows, more than fit a run beside them (a row costs
	// about 250 bytes loaded, the run about 3 KiB per UE).
	MaxFileBytes = 1 << 30
	// MaxLineBytes caps one row: seven fields of which the longest, the
	// identities, are at most MaxIdentityBytes each.
	MaxLineBytes = 4 << 10
	// MaxIdentityBytes caps an IMPI or IMPU (an NAI, RFC 7542 §2.2,
	// needs 253 octets; a SIP URI rarely more).
	MaxIdentityBytes = 1024
	// maxIMSIDigits: an IMSI is at most 15 digits (ITU-T E.212 §6.2).
	maxIMSIDigits = 15
)

// Entry is one explicitly listed subscriber.
type Entry struct {
	IMSI, IMPI, IMPU string
	Keys             aka.Keys
	AMF              uint16
	SQN              uint64
}

// Table is a list of subscribers imported from a file.
type Table struct {
	Entries        []Entry
	byIMPI, byIMPU map[string]uint32
}

var csvColumns = []string{"imsi", "impi", "impu", "k", "opc", "amf", "sqn"}

// LoadCSV reads subscribers from a CSV file with the columns
// imsi,impi,impu,k,opc,amf,sqn (one subscriber per line; IMSI up to 15
// digits, K and OPc 32 hex digits, AMF 4, SQN up to 12; a header line
// naming the columns in this order is optional; # comments and blank
// lines are skipped; a field may be quoted as in RFC 4180). Only the first
// maxRows subscribers are read (maxRows <= 0: all of them). The file must
// be a regular file of at most MaxFileBytes with lines of at most
// MaxLineBytes. Errors name the file, line and column, never the values.
func LoadCSV(path string, maxRows int64) (*Table, error) {
	f, err := inputfile.Open(path, "subscriber file", MaxFileBytes)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCSV(inputfile.Capped(f, path, MaxFileBytes), path, maxRows)
}

// ReadCSV is LoadCSV on a reader named where, reading every row (at most
// MaxFileBytes of it).
func ReadCSV(r io.Reader, where string) (*Table, error) {
	return readCSV(r, where, 0)
}

// capReader fails once more than MaxFileBytes have been read (a file
// that grows while read, or a reader that never ends).
type capReader struct {
	r    io.Reader
	left int64
}

var errTooBig = fmt.Errorf("more than the %d GiB a subscriber file may hold", MaxFileBytes>>30)

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errTooBig
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func readCSV(r io.Reader, where string, maxRows int64) (*Table, error) {
	sc := bufio.NewScanner(&capReader{r: r, left: MaxFileBytes})
	sc.Buffer(make([]byte, 0, MaxLineBytes+2), MaxLineBytes+2) // the line, \r and \n
	t := &Table{byIMPI: map[string]uint32{}, byIMPU: map[string]uint32{}}
	var lineOf []int // the line of each entry, for duplicate errors
	var rec []string
	line := 0
	for (maxRows <= 0 || int64(len(t.Entries)) < maxRows) && sc.Scan() {
		line++
		b := sc.Bytes()
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
		if len(b) > MaxLineBytes {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes", where, line, MaxLineBytes)
		}
		text := strings.TrimSpace(string(b))
		if text == "" || text[0] == '#' {
			continue
		}
		var err error
		if rec, err = splitRecord(text, rec[:0]); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", where, line, err)
		}
		if len(rec) != len(csvColumns) {
			return nil, fmt.Errorf("%s:%d: %d fields, want %d (%s)", where, line, len(rec), len(csvColumns), strings.Join(csvColumns, ","))
		}
		if len(t.Entries) == 0 && strings.EqualFold(rec[0], "imsi") {
			for i, c := range csvColumns {
				if !strings.EqualFold(rec[i], c) {
					return nil, fmt.Errorf("%s:%d: header: want the columns %s in this order", where, line, strings.Join(csvColumns, ","))
				}
			}
			continue
		}
		e, err := parseEntry(rec)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", where, line, err)
		}
		if i, dup := t.byIMPI[e.IMPI]; dup {
			return nil, fmt.Errorf("%s:%d: impi: the same as on line %d", where, line, lineOf[i])
		}
		if i, dup := t.byIMPU[e.IMPU]; dup {
			return nil, fmt.Errorf("%s:%d: impu: the same as on line %d", where, line, lineOf[i])
		}
		if uint64(len(t.Entries)) >= 1<<32-1 { // indices are uint32
			return nil, fmt.Errorf("%s:%d: more than %d subscribers", where, line, uint32(1<<32-1))
		}
		t.byIMPI[e.IMPI] = uint32(len(t.Entries))
		t.byIMPU[e.IMPU] = uint32(len(t.Entries))
		t.Entries = append(t.Entries, e)
		lineOf = append(lineOf, line)
	}
	if err := sc.Err(); err != nil {
		switch {
		case errors.Is(err, bufio.ErrTooLong):
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes", where, line+1, MaxLineBytes)
		case errors.Is(err, errTooBig):
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		return nil, fmt.Errorf("%s: reading: %w", where, err)
	}
	if len(t.Entries) == 0 {
		return nil, fmt.Errorf("%s: no subscribers", where)
	}
	return t, nil
}

// splitRecord splits one line into fields separated by commas, each
// trimmed of spaces; a field in double quotes may hold commas, and "" for
// a quote (RFC 4180 §2), but a record never spans lines. Errors name the
// column, not its text.
func splitRecord(s string, dst []string) ([]string, error) {
	for {
		s = strings.TrimLeft(s, " \t")
		col := len(dst)
		if !strings.HasPrefix(s, `"`) {
			i := strings.IndexByte(s, ',')
			f := s
			if i >= 0 {
				f = s[:i]
			}
			if strings.ContainsRune(f, '"') {
				return nil, fmt.Errorf("%s: a quote inside an unquoted field", column(col))
			}
			dst = append(dst, strings.TrimSpace(f))
			if i < 0 {
				return dst, nil
			}
			s = s[i+1:]
			continue
		}
		var f strings.Builder
		s = s[1:]
		for {
			i := strings.IndexByte(s, '"')
			if i < 0 {
				return nil, fmt.Errorf("%s: a quoted field not closed on its line", column(col))
			}
			f.WriteString(s[:i])
			s = s[i+1:]
			if strings.HasPrefix(s, `"`) {
				f.WriteByte('"')
				s = s[1:]
				continue
			}
			break
		}
		dst = append(dst, f.String())
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return dst, nil
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("%s: text after a closing quote", column(col))
		}
		s = s[1:]
	}
}

// column names field i.
func column(i int) string {
	if i < len(csvColumns) {
		return csvColumns[i]
	}
	return "field " + strconv.Itoa(i+1)
}

// visible reports whether s is non-empty printable ASCII without spaces
// and without the characters in not: an identity is written into SIP
// headers as it is (RFC 3261 §25.1: a quoted username, a URI in <>).
func visible(s, not string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(not, c) >= 0 {
			return false
		}
	}
	return true
}

// uriScheme reports whether s starts with an RFC 3986 §3.1 scheme and a
// colon followed by something.
func uriScheme(s string) bool {
	i := strings.IndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		letter := c|0x20 >= 'a' && c|0x20 <= 'z'
		if !letter && (j == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseEntry(rec []string) (Entry, error) {
	var e Entry
	imsi, impi, impu := rec[0], rec[1], rec[2]
	if imsi == "" || len(imsi) > maxIMSIDigits || !allDigits(imsi) {
		return e, fmt.Errorf("imsi: not 1 to %d decimal digits", maxIMSIDigits)
	}
	if len(impi) > MaxIdentityBytes || !visible(impi, `"\`) {
		return e, fmt.Errorf("impi: want 1 to %d printable characters without spaces, quotes or backslashes", MaxIdentityBytes)
	}
	if len(impu) > MaxIdentityBytes || !visible(impu, `"<>\`) || !uriScheme(impu) {
		return e, fmt.Errorf("impu: want a URI (sip:, tel:) of at most %d printable characters without spaces, quotes or <>", MaxIdentityBytes)
	}
	for _, k := range []struct {
		name string
		val  string
		dst  []byte
	}{{"k", rec[3], e.Keys.K[:]}, {"opc", rec[4], e.Keys.OPc[:]}} {
		if len(k.val) != 2*aka.KeyLen {
			return e, fmt.Errorf("%s: not %d hex digits", k.name, 2*aka.KeyLen)
		}
		if _, err := hex.Decode(k.dst, []byte(k.val)); err != nil {
			return e, fmt.Errorf("%s: not %d hex digits", k.name, 2*aka.KeyLen)
		}
	}
	amf, err := strconv.ParseUint(rec[5], 16, 16)
	if err != nil || len(rec[5]) != 4 {
		return e, fmt.Errorf("amf: not 4 hex digits")
	}
	e.AMF = uint16(amf)
	sqn, err := strconv.ParseUint(rec[6], 16, 48)
	if err != nil || len(rec[6]) > 12 {
		return e, fmt.Errorf("sqn: not 1 to 12 hex digits")
	}
	e.SQN = sqn
	// One allocation for the three identities; the line (with its key
	// hex) is not kept.
	ids := imsi + impi + impu
	e.IMSI, e.IMPI, e.IMPU = ids[:len(imsi)], ids[len(imsi):len(imsi)+len(impi)], ids[len(imsi)+len(impi):]
	return e, nil
}
