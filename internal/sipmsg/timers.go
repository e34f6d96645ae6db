package sipmsg

import "time"

// TimerE is the interval before the next retransmission of a non-INVITE
// request over UDP after n retransmissions: min(2^n·T1, T2) (RFC 3261
// §17.1.2.2).
func TimerE(t1, t2 time.Duration, n int) time.Duration {
	if n >= 16 {
		return t2
	}
	return min(t1<<n, t2)
}

// MaxRetransmits is how many times Timer E fires before Timer F ends a
// UDP transaction (10 with the RFC 3261 defaults T1 500 ms, T2 4 s, F
// 32 s); it stops counting at 255.
func MaxRetransmits(t1, t2, timerF time.Duration) int {
	var elapsed time.Duration
	n := 0
	for ; n < 255; n++ {
		next := TimerE(t1, t2, n)
		if elapsed+next >= timerF {
			break
		}
		elapsed += next
	}
	return n
}
