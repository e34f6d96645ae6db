package subscriber

import "testing"

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
