package subscriber

import (
	"strings"
	"testing"
)

func TestTemplate(t *testing.T) {
	tp, err := ParseTemplate("sip:user{n}@ims.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if got := tp.Format(42); got != "sip:user42@ims.example.org" {
		t.Fatalf("Format = %s", got)
	}
	for id, want := range map[string]int64{"sip:user42@ims.example.org": 42, "sip:user@ims.example.org": -1,
		"sip:userx@ims.example.org": -1, "tel:+1": -1, "sip:user99999999999@ims.example.org": -1} {
		n, ok := tp.Index(id)
		if (want < 0) == ok || (ok && int64(n) != want) {
			t.Errorf("Index(%q) = %d %v", id, n, ok)
		}
	}
	for _, bad := range []string{"user@x", "{n}{n}"} {
		if _, err := ParseTemplate(bad); err == nil {
			t.Errorf("template %q accepted", bad)
		}
	}
	p := Population{Count: 10, IMPI: tp, IMPU: tp}
	if _, ok := p.LookupIMPI("sip:user10@ims.example.org"); ok {
		t.Error("index beyond the population accepted")
	}
}

func TestLoadCSV(t *testing.T) {
	good := "imsi,impi,impu,k,opc,amf,sqn\n" +
		"001010000000001,alice@ims.test,sip:alice@ims.test,465b5ce8b199b49faa5f0a2ee238a6bc,cd63cb71954a9f4e48a5994e37a02baf,b9b9,ff9bb4d0b607\n" +
		"# a comment\n" +
		"001010000000002,bob@ims.test,sip:bob@ims.test,00000000000000000000000000000001,00000000000000000000000000000002,8000,0\n"
	tb, err := ReadCSV(strings.NewReader(good), "subs.csv")
	if err != nil {
		t.Fatal(err)
	}
	p := Population{Count: 2, Table: tb}
	if i, ok := p.LookupIMPI("bob@ims.test"); !ok || i != 1 || p.IMPUOf(1) != "sip:bob@ims.test" || p.AMFOf(0) != 0xb9b9 || p.InitialSQN(0) != 0xff9bb4d0b607 {
		t.Fatalf("table %+v", tb.Entries)
	}
	if !p.Matches("alice@ims.test", "sip:alice@ims.test") || p.Matches("alice@ims.test", "sip:bob@ims.test") {
		t.Error("Matches")
	}
	for body, want := range map[string]string{
		"imsi,impi\n": "subs.csv:1: 2 fields, want 7",
		"1,a@b,sip:a@b,zz,00000000000000000000000000000002,8000,0\n":                                                                                                                       "subs.csv:1: k: not 32 hex digits",
		"1,a@b,sip:a@b,00000000000000000000000000000001,00000000000000000000000000000002,80,0\n":                                                                                           "subs.csv:1: amf: not 4 hex digits",
		"1,a@b,sip:a@b,00000000000000000000000000000001,00000000000000000000000000000002,8000,0\n1,a@b,sip:c@b,00000000000000000000000000000001,00000000000000000000000000000002,8000,0\n": "subs.csv:2: impi: the same as on line 1",
		"": "no subscribers",
	} {
		if _, err := ReadCSV(strings.NewReader(body), "subs.csv"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}
