package live

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/regstorm/regstorm/hss/cx"
)

// FuzzDiameterConn feeds a byte stream into the live Diameter server's
// real connection path (framing, CER/CEA, the base protocol, error
// answers, Cx decoding, the HSS core) over an in-memory connection: no
// input may panic, hang past the message timeout or keep the connection
// open after the peer is gone. The issue 11 inputs are seeds.
func FuzzDiameterConn(f *testing.F) {
	cer, _ := cerMessage("scscf.ims.test", cx.AppID).Serialize()
	mar := marBytes(f, 7)
	dwr := append([]byte(nil), mar[:20]...)
	dwr[3], dwr[5], dwr[6], dwr[7] = 20, 0, 1, 24 // DWR header, no AVPs
	dwr[8], dwr[9], dwr[10], dwr[11] = 0, 0, 0, 0
	for _, seed := range [][]byte{
		shortHeader, zeroAVP, cer, mar,
		append(append([]byte(nil), cer...), shortHeader...),
		append(append([]byte(nil), cer...), zeroAVP...),
		append(append(append([]byte(nil), cer...), mar...), dwr...),
		append(append([]byte(nil), cer...), mar[:len(mar)-3]...),
	} {
		f.Add(seed)
	}
	srv, _ := hssServer(f, DiameterLimits{CERTimeout: 50 * time.Millisecond, MessageTimeout: 50 * time.Millisecond, Watchdog: time.Hour})
	f.Fuzz(func(t *testing.T, in []byte) {
		client, server := net.Pipe()
		go io.Copy(io.Discard, client)
		go func() {
			client.Write(in)
			client.Close()
		}()
		d := newDiamConn(server, srv.lim, "localhost", "ims.test", &srv.counts, func(error) {})
		done := make(chan struct{})
		go func() {
			srv.serveConn(d)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("the connection is still served 5 s after the peer closed")
		}
		if d.reason() == "" {
			t.Fatal("served to its end but not closed")
		}
	})
}
