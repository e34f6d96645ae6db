package live

import (
	"fmt"
	"sync"
	"time"
)

// reportsPerSecond bounds the error reports a SIP transport posts on the
// node's Errors channel: a peer sending garbage must not flood stderr. The
// rest are counted under "sip.reports_suppressed".
const reportsPerSecond = 10

// sipReporter posts rate-limited reports. Texts from the network reach it only
// through sipwire.Excerpt (escaped, at most 80 bytes).
type sipReporter struct {
	mu  sync.Mutex
	sec int64
	n   int
}

func (r *sipReporter) report(node *Node, c *causeCounts, format string, args ...any) {
	now := time.Now().Unix()
	r.mu.Lock()
	if now != r.sec {
		r.sec, r.n = now, 0
	}
	r.n++
	ok := r.n <= reportsPerSecond
	r.mu.Unlock()
	if !ok {
		c.add("sip.reports_suppressed")
		return
	}
	node.report(fmt.Errorf(format, args...))
}
