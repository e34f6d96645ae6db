package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// isTerminal reports whether w is a character device (a terminal): the
// progress line is shown there and never in CI logs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress prints one status line on stderr, at most five times a second:
// virtual time reached, procedures completed, events per second.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	start   time.Time
	last    time.Time
	now     map[string]time.Duration
	events  map[string]uint64
	done    map[string]uint64
	variant []string
}

func newProgress(w io.Writer, variants int) *progress {
	return &progress{w: w, start: time.Now(), now: map[string]time.Duration{}, events: map[string]uint64{}, done: map[string]uint64{}}
}

func (p *progress) update(variant string, now time.Duration, events, done uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.now[variant]; !ok {
		p.variant = append(p.variant, variant)
	}
	p.now[variant], p.events[variant], p.done[variant] = now, events, done
	if time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	var ev, dn uint64
	var vt time.Duration
	for _, v := range p.variant {
		ev += p.events[v]
		dn += p.done[v]
		vt = max(vt, p.now[v])
	}
	fmt.Fprintf(p.w, "\r  virtual %8.1f s   %9d registrations done   %5.2f M events/s ", vt.Seconds(), dn,
		float64(ev)/time.Since(p.start).Seconds()/1e6)
}
