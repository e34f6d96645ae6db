package sipmsg

import (
	"testing"
	"time"
)

// RFC 3261 §17.1.2.2 with T1 500 ms, T2 4 s: retransmissions at 0.5, 1.5,
// 3.5, 7.5, 11.5, …, 31.5 s, ten before Timer F at 32 s.
func TestTimerE(t *testing.T) {
	t1, t2 := 500*time.Millisecond, 4*time.Second
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
	for n, w := range want {
		if got := TimerE(t1, t2, n); got != w {
			t.Errorf("TimerE after %d = %v, want %v", n, got, w)
		}
	}
	if n := MaxRetransmits(t1, t2, 32*time.Second); n != 10 {
		t.Errorf("MaxRetransmits = %d, want 10", n)
	}
	if n := MaxRetransmits(time.Millisecond, time.Millisecond, time.Hour); n != 255 {
		t.Errorf("MaxRetransmits saturates at %d, want 255", n)
	}
}
