package subscriber

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	goodK   = "465b5ce8b199b49faa5f0a2ee238a6bc"
	goodOPc = "cd63cb71954a9f4e48a5994e37a02baf"
	// secret marks text a file holds that no error may repeat.
	secret = "s3cr3tmarker"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadQuickly runs LoadCSV with a deadline: every refusal must come
// without reading (or waiting for) the whole of an endless input.
func loadQuickly(t *testing.T, path string, maxRows int64) (*Table, error) {
	t.Helper()
	type res struct {
		t   *Table
		err error
	}
	ch := make(chan res, 1)
	go func() {
		tb, err := LoadCSV(path, maxRows)
		ch <- res{tb, err}
	}()
	select {
	case r := <-ch:
		return r.t, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("LoadCSV(%s) still reading after 10 s", path)
	}
	return nil, nil
}

func TestLoadCSVRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{dir: "this is a directory"}
	if runtime.GOOS == "linux" {
		cases["/dev/zero"] = "/dev/zero: subscriber file must be a regular file, this is a device"
	}
	for path, want := range cases {
		_, err := loadQuickly(t, path, 10)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if _, err := loadQuickly(t, filepath.Join(dir, "missing.csv"), 10); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("missing file: %v", err)
	}
}

// A file over the cap is refused from its size, before a byte is read (a
// sparse file: no disk is used).
func TestLoadCSVRefusesAFileOverTheCap(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.csv")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileBytes + 1); err != nil {
		f.Close()
		t.Skipf("no sparse file here: %v", err)
	}
	f.Close()
	_, err = loadQuickly(t, p, 10)
	if err == nil || !strings.Contains(err.Error(), "larger than the 1 GiB limit") {
		t.Fatalf("err %v", err)
	}
}

// A line longer than MaxLineBytes stops the reading there: 16 MiB of
// zero bytes (no newline) or of a repeated secret give an error naming the
// line, not its text.
func TestLoadCSVBoundsLines(t *testing.T) {
	for name, body := range map[string]string{
		"zeros.csv":  strings.Repeat("\x00", 16<<20),
		"secret.csv": "imsi,impi,impu,k,opc,amf,sqn\n# a comment\n" + strings.Repeat(secret, 2<<20),
		"exact.csv":  "imsi,impi,impu,k,opc,amf,sqn\n" + strings.Repeat("x", MaxLineBytes+1) + "\n",
	} {
		p := writeFile(t, name, body)
		_, err := loadQuickly(t, p, 10)
		line := map[string]string{"zeros.csv": ":1:", "secret.csv": ":3:", "exact.csv": ":2:"}[name]
		if err == nil || !strings.Contains(err.Error(), p+line+" line longer than 4096 bytes") || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A line of exactly MaxLineBytes is read (and refused for its fields).
	p := writeFile(t, "max.csv", strings.Repeat("1", MaxLineBytes)+"\r\n")
	if _, err := loadQuickly(t, p, 10); err == nil || !strings.Contains(err.Error(), ":1: 1 fields, want 7") {
		t.Errorf("a line of %d bytes: %v", MaxLineBytes, err)
	}
}

// No error repeats what the file holds: every field of a bad row carries
// the secret marker (or is a key with it in hex), and the message names
// only the file, the line and the column.
func TestLoadCSVErrorsNeverEchoContents(t *testing.T) {
	hexSecret := "5ec2e75ec2e75ec2e75ec2e75ec2e75z" // 31 hex digits and a z: a bad K
	row := func(imsi, impi, impu, k, opc, amf, sqn string) string {
		return strings.Join([]string{imsi, impi, impu, k, opc, amf, sqn}, ",") + "\n"
	}
	good := row("001010000000001", secret+"1@ims.test", "sip:"+secret+"1@ims.test", goodK, goodOPc, "8000", "0")
	for _, c := range []struct{ body, want string }{
		{row("001010000000002", secret+"@x", "sip:"+secret+"@x", hexSecret, goodOPc, "8000", "0"), ":2: k: not 32 hex digits"},
		{row("001010000000002", secret+"@x", "sip:"+secret+"@x", goodK, hexSecret, "8000", "0"), ":2: opc: not 32 hex digits"},
		{row("001010000000002", secret+"@x", "sip:"+secret+"@x", goodK+"00", goodOPc, "8000", "0"), ":2: k: not 32 hex digits"},
		{row(secret, secret+"@x", "sip:"+secret+"@x", goodK, goodOPc, "8000", "0"), ":2: imsi: not 1 to 15 decimal digits"},
		{row("0010100000000021", secret+"@x", "sip:"+secret+"@x", goodK, goodOPc, "8000", "0"), ":2: imsi: not 1 to 15"},
		{row("001010000000002", secret+" x@x", "sip:"+secret+"@x", goodK, goodOPc, "8000", "0"), ":2: impi: want 1 to 1024 printable"},
		{row("001010000000002", secret+"@x", secret+"@x", goodK, goodOPc, "8000", "0"), ":2: impu: want a URI"},
		{row("001010000000002", secret+"@x", "sip:<"+secret+">", goodK, goodOPc, "8000", "0"), ":2: impu: want a URI"},
		{row("001010000000002", secret+"@x", "sip:"+secret+"@x", goodK, goodOPc, secret, "0"), ":2: amf: not 4 hex digits"},
		{row("001010000000002", secret+"@x", "sip:"+secret+"@x", goodK, goodOPc, "8000", secret), ":2: sqn: not 1 to 12 hex digits"},
		{row("001010000000002", secret+"@x", "sip:"+secret+"@x", goodK, goodOPc, "8000", "1000000000000"), ":2: sqn: not 1 to 12"},
		{row("001010000000002", secret+"1@ims.test", "sip:"+secret+"2@x", goodK, goodOPc, "8000", "0"), ":2: impi: the same as on line 1"},
		{row("001010000000002", secret+"2@ims.test", "sip:"+secret+"1@ims.test", goodK, goodOPc, "8000", "0"), ":2: impu: the same as on line 1"},
		{secret + "," + secret + "\n", ":2: 2 fields, want 7"},
		{`"` + secret + ",x\n", `:2: imsi: a quoted field not closed on its line`},
		{`1,a"` + secret + `,x` + "\n", `:2: impi: a quote inside an unquoted field`},
		{`1,"a"` + secret + `,x` + "\n", `:2: impi: text after a closing quote`},
	} {
		p := writeFile(t, "subs.csv", good+c.body)
		_, err := loadQuickly(t, p, 0)
		if err == nil || !strings.Contains(err.Error(), p+c.want) {
			t.Errorf("%q: %v, want %q", c.body, err, c.want)
			continue
		}
		for _, leak := range []string{secret, "5ec2e7", goodK, goodOPc, "ims.test"} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("%q: error %q repeats %q from the file", c.body, err, leak)
			}
		}
	}
}

func TestLoadCSVHeaderQuotesAndRows(t *testing.T) {
	body := "IMSI, impi, impu, k, opc, amf, sqn\r\n" +
		"  # indented comment\n" +
		`001010000000001, "alice@ims.test" ,"sip:alice@ims.test",` + goodK + "," + goodOPc + ",b9b9,ff9bb4d0b607\r\n" +
		"\n" +
		"001010000000002,bob@ims.test,sip:bob@ims.test," + goodK + "," + goodOPc + ",8000,0\n" +
		"001010000000003,carol@ims.test,sip:carol@ims.test,not-a-key,x,8000,0\n"
	p := writeFile(t, "subs.csv", body)
	// Only the first ues rows are read: carol's bad row is never reached.
	tb, err := loadQuickly(t, p, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Entries) != 2 || tb.Entries[0].IMPI != "alice@ims.test" || tb.Entries[0].IMSI != "001010000000001" ||
		tb.Entries[0].IMPU != "sip:alice@ims.test" || tb.Entries[0].SQN != 0xff9bb4d0b607 || tb.Entries[1].AMF != 0x8000 {
		t.Fatalf("entries %+v", tb.Entries)
	}
	if _, err := loadQuickly(t, p, 0); err == nil || !strings.Contains(err.Error(), p+":6: k: not 32 hex digits") {
		t.Errorf("all rows: %v", err)
	}
	p = writeFile(t, "swapped.csv", "imsi,impi,impu,opc,k,amf,sqn\n")
	if _, err := loadQuickly(t, p, 0); err == nil || !strings.Contains(err.Error(), p+":1: header: want the columns imsi,impi,impu,k,opc,amf,sqn in this order") {
		t.Errorf("swapped header: %v", err)
	}
	for _, body := range []string{"", "imsi,impi,impu,k,opc,amf,sqn\n", "# nothing\n\n"} {
		p = writeFile(t, "empty.csv", body)
		if _, err := loadQuickly(t, p, 0); err == nil || !strings.Contains(err.Error(), p+": no subscribers") {
			t.Errorf("%q: %v", body, err)
		}
	}
}

// What a loaded row costs, for profiles' memory estimate (memPerTableRow,
// 320 bytes): about 230 bytes with the identities of a typical row.
func TestTableBytesPerRow(t *testing.T) {
	const n = 100_000
	var b strings.Builder
	for i := range n {
		b.WriteString("0010100" + strings.Repeat("0", 8-len(strconv.Itoa(i))) + strconv.Itoa(i) + ",user" + strconv.Itoa(i) + "@ims.example.org,sip:user" + strconv.Itoa(i) +
			"@ims.example.org," + goodK + "," + goodOPc + ",8000,0\n")
	}
	src := b.String()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tb, err := ReadCSV(strings.NewReader(src), "gen.csv")
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	runtime.KeepAlive(tb)
	runtime.KeepAlive(src)
	t.Logf("%.0f bytes per subscriber row", per)
	if per > 320 {
		t.Errorf("%.0f bytes per row, more than profiles' memPerTableRow (320)", per)
	}
}
