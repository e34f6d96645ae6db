package subscriber

import (
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/regstorm/regstorm/internal/aka"
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
// imsi,impi,impu,k,opc,amf,sqn (K and OPc 32 hex digits, AMF 4, SQN up to
// 12; a header line naming the columns is optional). Errors name the file
// and line.
func LoadCSV(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening subscriber file: %w", err)
	}
	defer f.Close()
	return ReadCSV(f, path)
}

// ReadCSV is LoadCSV on a reader named where.
func ReadCSV(r io.Reader, where string) (*Table, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = len(csvColumns)
	cr.TrimLeadingSpace = true
	t := &Table{byIMPI: map[string]uint32{}, byIMPU: map[string]uint32{}}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: %v (want %s)", where, pe.Line, pe.Err, strings.Join(csvColumns, ","))
			}
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if len(t.Entries) == 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "imsi") {
			continue // header
		}
		e, err := parseEntry(rec)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", where, line, err)
		}
		if _, dup := t.byIMPI[e.IMPI]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate impi %q", where, line, e.IMPI)
		}
		if _, dup := t.byIMPU[e.IMPU]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate impu %q", where, line, e.IMPU)
		}
		t.byIMPI[e.IMPI] = uint32(len(t.Entries))
		t.byIMPU[e.IMPU] = uint32(len(t.Entries))
		t.Entries = append(t.Entries, e)
	}
	if len(t.Entries) == 0 {
		return nil, fmt.Errorf("%s: no subscribers", where)
	}
	return t, nil
}

func parseEntry(rec []string) (Entry, error) {
	var e Entry
	e.IMSI, e.IMPI, e.IMPU = strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])
	if e.IMPI == "" || !strings.Contains(e.IMPU, ":") {
		return e, fmt.Errorf("impi must be set and impu must be a URI, got %q and %q", e.IMPI, e.IMPU)
	}
	for _, k := range []struct {
		name string
		val  string
		dst  []byte
	}{{"k", rec[3], e.Keys.K[:]}, {"opc", rec[4], e.Keys.OPc[:]}} {
		b, err := hex.DecodeString(strings.TrimSpace(k.val))
		if err != nil || len(b) != aka.KeyLen {
			return e, fmt.Errorf("%s must be 32 hex digits, got %q", k.name, k.val)
		}
		copy(k.dst, b)
	}
	amf, err := strconv.ParseUint(strings.TrimSpace(rec[5]), 16, 16)
	if err != nil || len(strings.TrimSpace(rec[5])) != 4 {
		return e, fmt.Errorf("amf must be 4 hex digits, got %q", rec[5])
	}
	e.AMF = uint16(amf)
	sqn, err := strconv.ParseUint(strings.TrimSpace(rec[6]), 16, 48)
	if err != nil {
		return e, fmt.Errorf("sqn must be up to 12 hex digits, got %q", rec[6])
	}
	e.SQN = sqn
	return e, nil
}
