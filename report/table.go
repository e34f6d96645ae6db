package report

import (
	"bytes"
	"strings"

	"github.com/regstorm/regstorm/results"
)

// tableRow is one row of the summary table: its label, its indent (a row
// under the one above) and a cell per variant (none for a heading row).
type tableRow struct {
	Label  string
	Indent bool
	Cells  []string
}

// summaryRows reads the summary's text table (results' WriteTable, the
// table the command prints) into rows, so the page and the terminal show
// the same figures. Its layout: a label column padded to its width, then
// per variant two spaces and the value right-aligned to the column width;
// the first row names the variants.
func summaryRows(s *results.Summary) ([]string, []tableRow, error) {
	var b bytes.Buffer
	if err := s.WriteTable(&b); err != nil {
		return nil, nil, err
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	names := make([]string, len(s.Variants))
	for i, v := range s.Variants {
		names[i] = v.Name
	}
	if len(lines) == 0 || len(names) == 0 {
		return names, nil, nil
	}
	// The header row (after the "profile P, seed N" line) starts blank
	// and names the variants; each name ends its column.
	h := 0
	for h < len(lines) && !(strings.HasPrefix(lines[h], " ") && strings.HasSuffix(lines[h], names[len(names)-1])) {
		h++
	}
	if h == len(lines) {
		return names, nil, nil
	}
	head := []rune(lines[h])
	ends := make([]int, len(names))
	pos := len(head)
	for k := len(names) - 1; k >= 0; k-- {
		i := strings.LastIndex(string(head[:pos]), names[k])
		if i < 0 {
			return names, nil, nil
		}
		start := len([]rune(string(head[:pos])[:i]))
		ends[k], pos = start+len([]rune(names[k])), start
	}
	var rows []tableRow
	for _, l := range lines[h+1:] {
		rs := []rune(l)
		indent := strings.HasPrefix(l, "  ")
		body := strings.TrimLeft(l, " ")
		off := len(rs) - len([]rune(body))
		labelEnd := strings.Index(body, "  ")
		if labelEnd < 0 || len(rs) < ends[len(ends)-1] {
			rows = append(rows, tableRow{Label: strings.TrimSpace(body), Indent: indent})
			continue
		}
		labelEnd = off + len([]rune(body[:labelEnd]))
		row := tableRow{Label: strings.TrimSpace(string(rs[:labelEnd])), Indent: indent}
		from := labelEnd
		for _, e := range ends {
			if e > len(rs) || from > e {
				row.Cells = append(row.Cells, "")
				continue
			}
			row.Cells = append(row.Cells, groupThousands(strings.TrimSpace(string(rs[from:e]))))
			from = e
		}
		rows = append(rows, row)
	}
	return names, rows, nil
}
