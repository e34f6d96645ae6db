package live

import (
	"fmt"
	"sync"
	"time"
)

// sipCounters counts events of a SIP transport by stable key ("sip.
// rejected.400", "sip.tcp.header_timeout", ...).
type sipCounters struct {
	mu sync.Mutex
	m  map[string]uint64
}

func (c *sipCounters) add(key string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]uint64{}
	}
	c.m[key]++
	c.mu.Unlock()
}

func (c *sipCounters) get(key string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

// snapshot copies the counters; zero entries are never present.
func (c *sipCounters) snapshot() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]uint64, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// reportsPerSecond bounds the error reports a SIP transport posts on the
// node's Errors channel: a peer sending garbage must not flood stderr. The
// rest are counted under "sip.reports_suppressed".
const reportsPerSecond = 10

// sipReporter posts rate-limited reports. Texts from the network reach it only
// through sipmsg.Excerpt (escaped, at most 80 bytes).
type sipReporter struct {
	mu  sync.Mutex
	sec int64
	n   int
}

func (r *sipReporter) report(node *Node, c *sipCounters, format string, args ...any) {
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
