package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// NewStream returns the PCG stream of a node: its two seeds are the first 16
// bytes of SHA-256(run seed ‖ name). Streams of different names are
// independent, and a node's stream does not depend on which other nodes
// exist.
func NewStream(seed uint64, name string) *rand.Rand {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h := sha256.New()
	h.Write(b[:])
	h.Write([]byte(name))
	sum := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16])))
}
