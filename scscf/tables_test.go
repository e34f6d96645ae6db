package scscf

import "testing"

// A long-lived entry among many short-lived ones makes the ring grow past
// the span of live keys instead of overwriting it; deleted keys are gone.
func TestSeqTableKeepsOldEntries(t *testing.T) {
	var tab seqTable[cdpTrans]
	tab.put(cdpTrans{hbh: 1, label: 100})
	for k := uint32(2); k < 50_000; k++ {
		tab.put(cdpTrans{hbh: k, label: uint64(k)})
		if k > 10 {
			tab.del(uint64(k - 5))
		}
	}
	if c, ok := tab.get(1); !ok || c.label != 100 {
		t.Fatalf("entry 1 lost: %+v %v", c, ok)
	}
	if _, ok := tab.get(20); ok {
		t.Fatal("deleted entry 20 still found")
	}
	if c, ok := tab.get(49_999); !ok || c.label != 49_999 {
		t.Fatalf("newest entry: %+v %v", c, ok)
	}
	if tab.n != 10 { // 1..5 (never deleted) and the last five
		t.Fatalf("%d live entries", tab.n)
	}
	if _, ok := tab.get(0); ok {
		t.Fatal("key 0 found")
	}
}

// A Sub hint that names another IMPU's record is ignored: the record is
// found (or made) by IMPU.
func TestUsersSubHintIsChecked(t *testing.T) {
	us := users{byIMPU: map[string]uint32{}}
	a, ia := us.get("sip:a@x", 7)
	a.bound = true
	b, ib := us.get("sip:b@x", 7) // same hint, other IMPU
	if ia == ib || b.bound {
		t.Fatal("hint 7 returned A's record for B")
	}
	if u, i := us.find("sip:a@x", 7); u == nil || i != ia || !u.bound {
		t.Fatal("A not found by IMPU after the hint moved to B")
	}
	if u, i := us.find("sip:b@x", 0); u == nil || i != ib {
		t.Fatal("B not found without a hint")
	}
	us.release(ib)
	if u, _ := us.find("sip:b@x", 7); u != nil {
		t.Fatal("released record still found through its hint")
	}
	if c, ic := us.get("sip:c@x", 0); ic != ib || c.impu != "sip:c@x" {
		t.Fatalf("freed slot not reused: %d", ic)
	}
	if u, _ := us.find("sip:b@x", 7); u != nil {
		t.Fatal("hint 7 led to C's record for B")
	}
	// A released record is not found through its hint, even for the empty
	// AOR a zeroed slot would otherwise match.
	e, ie := us.get("", 9)
	if e == nil {
		t.Fatal("no record for the empty AOR")
	}
	us.release(ie)
	if u, _ := us.find("", 9); u != nil {
		t.Fatal("released slot found for the empty AOR")
	}
}

// While every record came with a hint the map stays empty; the first
// request without one, or a hint naming another AOR, indexes every record,
// so no AOR ever gets a second record.
func TestUsersHintedOnlyMode(t *testing.T) {
	us := users{hintedOnly: true}
	a, ia := us.get("sip:a@x", 1)
	a.bound = true
	us.get("sip:b@x", 2)
	if !us.hintedOnly || len(us.byIMPU) != 0 {
		t.Fatal("hinted records went to the map")
	}
	if u, i := us.find("sip:a@x", 1); u == nil || i != ia {
		t.Fatal("A not found through its hint")
	}
	if u, _ := us.find("sip:c@x", 3); u != nil || !us.hintedOnly {
		t.Fatal("an unseen hint did not mean a new AOR")
	}
	// No hint: every record is indexed, and A is found, not made again.
	if u, i := us.get("sip:a@x", 0); i != ia || !u.bound || us.hintedOnly || len(us.byIMPU) != 2 {
		t.Fatalf("A without a hint: index %d (want %d), map %d", i, ia, len(us.byIMPU))
	}

	us = users{hintedOnly: true}
	us.get("sip:a@x", 1)
	_, ib := us.get("sip:b@x", 2)
	// B arrives with A's hint: the map takes over and finds B.
	if u, i := us.get("sip:b@x", 1); i != ib || u.impu != "sip:b@x" || us.hintedOnly {
		t.Fatalf("B under A's hint: index %d, want %d", i, ib)
	}
	if us.n != 2 {
		t.Fatalf("%d records for two AORs", us.n)
	}
}
