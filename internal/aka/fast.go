package aka

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
)

// milenage computes the Milenage functions of TS 35.206 §4.1 with one AES
// key schedule per call. github.com/wmnsk/milenage (kept for the
// conformance tests) expands the key again for every block, which made
// vector generation the largest cost of a million-UE run; this follows the
// specification directly:
//
//	TEMP = E_K(RAND ⊕ OPc)
//	OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, r1) ⊕ c1) ⊕ OPc, IN1 = SQN‖AMF‖SQN‖AMF
//	OUTi = E_K(rot(TEMP ⊕ OPc, ri) ⊕ ci) ⊕ OPc, i = 2..5
//
// with r1..r5 = 64, 0, 32, 64, 96 bits and c1..c5 = 0, 1, 2, 4, 8 (in the
// last bit positions).
type milenage struct {
	block     cipher.Block
	opc       [16]byte
	temp      [16]byte
	bin, bout [16]byte // the cipher's buffers: slices of a value already on the heap, so Encrypt through the interface allocates nothing
}

// enc returns E_K(x).
func (m *milenage) enc(x [16]byte) [16]byte {
	m.bin = x
	m.block.Encrypt(m.bout[:], m.bin[:])
	return m.bout
}

func newMilenage(keys *Keys, rand []byte) (*milenage, error) {
	b, err := aes.NewCipher(keys.K[:])
	if err != nil {
		return nil, err
	}
	m := &milenage{block: b, opc: keys.OPc}
	var in [16]byte
	for i := range in {
		in[i] = rand[i] ^ m.opc[i]
	}
	m.temp = m.enc(in)
	return m, nil
}

// rotl rotates a 128-bit block left by r bits (r a multiple of 8).
func rotl(x [16]byte, r int) [16]byte {
	var out [16]byte
	n := r / 8
	for i := range out {
		out[i] = x[(i+n)%16]
	}
	return out
}

// f1 returns MAC-A and MAC-S (f1*) for SQN and AMF.
func (m *milenage) f1(sqn []byte, amf []byte) (macA, macS [8]byte) {
	var in1 [16]byte
	copy(in1[0:6], sqn)
	copy(in1[6:8], amf)
	copy(in1[8:14], sqn)
	copy(in1[14:16], amf)
	for i := range in1 {
		in1[i] ^= m.opc[i]
	}
	r := rotl(in1, 64)
	for i := range r {
		r[i] ^= m.temp[i] // c1 = 0
	}
	out := m.enc(r)
	for i := range out {
		out[i] ^= m.opc[i]
	}
	copy(macA[:], out[0:8])
	copy(macS[:], out[8:16])
	return macA, macS
}

// out computes OUTi for rotation r (bits) and constant c (last byte).
func (m *milenage) out(r int, c byte) [16]byte {
	var x [16]byte
	for i := range x {
		x[i] = m.temp[i] ^ m.opc[i]
	}
	x = rotl(x, r)
	x[15] ^= c
	o := m.enc(x)
	for i := range o {
		o[i] ^= m.opc[i]
	}
	return o
}

// f2345 returns RES (f2), CK (f3), IK (f4) and AK (f5).
func (m *milenage) f2345() (res [8]byte, ck, ik [16]byte, ak [6]byte) {
	o2 := m.out(0, 1)
	copy(res[:], o2[8:16])
	copy(ak[:], o2[0:6])
	ck = m.out(32, 2)
	ik = m.out(64, 4)
	return res, ck, ik, ak
}

// f5star returns AK* (f5*, resynchronisation).
func (m *milenage) f5star() (aks [6]byte) {
	o5 := m.out(96, 8)
	copy(aks[:], o5[0:6])
	return aks
}

func putSQN(b []byte, sqn uint64) {
	var full [8]byte
	binary.BigEndian.PutUint64(full[:], sqn)
	copy(b, full[2:])
}
