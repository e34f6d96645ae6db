package hss

import (
	"errors"
	"testing"
	"time"

	"github.com/regstorm/regstorm/internal/fielderr"
)

// Fault.Validate names the setting at fault by its profile key, so a
// profile reports it at that key's line.
func TestFaultValidateFields(t *testing.T) {
	for _, c := range []struct {
		f     Fault
		field string
	}{
		{Fault{At: -time.Second, For: time.Second, Kind: FaultOutage}, "for"},
		{Fault{At: 0, For: time.Second, Kind: FaultLatency, Multiplier: 2 * MaxLatencyMultiplier}, "multiplier"},
		{Fault{At: 0, For: time.Second, Kind: FaultErrors}, "rate"},
		{Fault{At: 0, For: time.Second, Kind: FaultErrors, Rate: 1, Codes: []uint32{200}}, "codes"},
		{Fault{At: 0, For: time.Second, Kind: FaultDrop, Probability: 2}, "probability"},
		{Fault{At: 0, For: time.Second, Kind: "flood"}, "kind"},
	} {
		var fe *fielderr.Error
		if err := c.f.Validate(); !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: %v, want a problem of field %q", c.f, err, c.field)
		}
	}
	for _, k := range FaultKinds {
		f := Fault{For: time.Second, Kind: k, Multiplier: 2, Rate: 1, Codes: []uint32{5012}, Probability: 1}
		if err := f.Validate(); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	c := Defaults()
	c.Faults = []Fault{{For: time.Second, Kind: FaultDrop}}
	var keys []string
	fielderr.Walk(c.ValidateSettings(), func(field, _ string) { keys = append(keys, field) })
	if len(keys) != 1 || keys[0] != "faults.0.probability" {
		t.Errorf("config problems at %v, want [faults.0.probability]", keys)
	}
}
