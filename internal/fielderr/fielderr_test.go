package fielderr

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestListAndWalk(t *testing.T) {
	var inner List
	inner.Addf("multiplier", "must be > %d", 0)
	inner.Addf("", "wiring")
	var l List
	l.Addf("fr_timer", "must be positive")
	l.Add("faults.0", inner.Err())
	l.Add("", errors.New("plain"))
	l.Add("", nil)
	var got []string
	Walk(fmt.Errorf("wrapped: %w", l.Err()), func(field, msg string) { got = append(got, field+"|"+msg) })
	want := []string{"fr_timer|must be positive", "faults.0.multiplier|must be > 0", "faults.0|wiring", "|plain"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if (List{}).Err() != nil {
		t.Error("an empty list is an error")
	}
	if s := New("t1", "udp needs 0 < t1 <= t2").Error(); s != "t1: udp needs 0 < t1 <= t2" {
		t.Errorf("Error() = %q", s)
	}
}
