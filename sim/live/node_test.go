package live

import (
	"testing"
	"time"

	"github.com/regstorm/regstorm/sim"
)

type sendLater struct{ to sim.NodeID }

func (s *sendLater) Handle(env sim.Env, ev sim.Event) {
	if ev.Kind == sim.EvTimer {
		env.SendAfter(50*time.Millisecond, s.to, "late")
		env.SendAfter(0, s.to, "now")
	}
}

// SendAfter on the wall clock: the message leaves from the node's loop once
// its delay has passed; a zero delay sends at once.
func TestNodeSendAfter(t *testing.T) {
	core := &sendLater{}
	n := NewNode("n", 1, core)
	type got struct {
		msg string
		at  time.Duration
	}
	out := make(chan got, 2)
	core.to = n.AddPeer(func(m sim.Message) error {
		out <- got{m.(string), n.Now()}
		return nil
	})
	go n.Run()
	defer n.Stop()
	n.Arm(0, sim.TimerKey{Kind: 1})
	first, second := <-out, <-out
	if first.msg != "now" || second.msg != "late" {
		t.Fatalf("order %q, %q", first.msg, second.msg)
	}
	if d := second.at - first.at; d < 45*time.Millisecond {
		t.Fatalf("the delayed message left %v after the other, want about 50ms", d)
	}
}
