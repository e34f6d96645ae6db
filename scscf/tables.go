package scscf

// keyed is an entry of a seqTable: its key, 0 for an empty slot.
type keyed interface{ tableKey() uint64 }

// seqTable holds entries under sequentially issued keys (tm labels, cdp
// hop-by-hop ids) in a ring indexed by key modulo its size, so a lookup is
// one index instead of a hash probe over a million-entry map. The ring
// doubles when a new key would land on a live older entry; with keys issued
// in order and entries living for bounded times (WAIT at most
// TM_LIFETIME_LIMIT, cdp at most its timeout), its size follows the number
// of keys issued within an entry's lifetime.
type seqTable[V keyed] struct {
	ring []V
	n    int
}

func (t *seqTable[V]) get(k uint64) (V, bool) {
	var zero V
	if len(t.ring) == 0 || k == 0 {
		return zero, false
	}
	v := t.ring[k&uint64(len(t.ring)-1)]
	if v.tableKey() != k {
		return zero, false
	}
	return v, true
}

func (t *seqTable[V]) put(v V) {
	k := v.tableKey()
	for {
		if len(t.ring) > 0 {
			slot := &t.ring[k&uint64(len(t.ring)-1)]
			if (*slot).tableKey() == 0 {
				*slot = v
				t.n++
				return
			}
		}
		t.grow()
	}
}

func (t *seqTable[V]) del(k uint64) {
	if len(t.ring) == 0 || k == 0 {
		return
	}
	slot := &t.ring[k&uint64(len(t.ring)-1)]
	if (*slot).tableKey() == k {
		var zero V
		*slot = zero
		t.n--
	}
}

// grow doubles the ring until every live entry has a slot of its own.
func (t *seqTable[V]) grow() {
	size := max(1024, 2*len(t.ring))
	for {
		ring := make([]V, size)
		ok := true
		for _, v := range t.ring {
			k := v.tableKey()
			if k == 0 {
				continue
			}
			slot := &ring[k&uint64(size-1)]
			if (*slot).tableKey() != 0 {
				ok = false
				break
			}
			*slot = v
		}
		if ok {
			t.ring = ring
			return
		}
		size *= 2
	}
}

func (t *txn) tableKey() uint64 {
	if t == nil {
		return 0
	}
	return t.label
}

func (c cdpTrans) tableKey() uint64 { return uint64(c.hbh) }

// user is what the S-CSCF holds for one public identity, found with one
// lookup per message: tm's transactions for it (the hash entry a REGISTER
// and its retransmissions meet), ims_auth's vectors (auth_userdata of an
// (IMPI, IMPU) pair, authorize.h), and usrloc's record (ims_usrloc_scscf
// impurecord with its contact).
type user struct {
	inUse bool // the slot holds a record (free slots are zero)
	impu  string
	txns  *txn         // live transactions, newest first (txn.nextOfUser)
	avs   []authVector // vectors of every IMPI registering this IMPU
	bound bool         // usrloc holds a contact
	b     binding
}

// empty reports whether the record holds nothing and can go.
func (u *user) empty() bool { return u.txns == nil && len(u.avs) == 0 && !u.bound }

// users is the S-CSCF's per-IMPU state: records in a slab of fixed-size
// chunks (stable addresses, no copying as it grows; the expiry heap names a
// user by index), found by IMPU through a map, or through the simulated
// UE's subscriber index (sipmsg.Request.Sub) checked against the IMPU.
//
// While every record came with a hint (a simulated fleet: one AOR, one
// Sub), the map stays empty and a hint never seen means a new AOR: a
// million first REGISTERs cost no hashing. The first record without a hint
// (live traffic, wire fidelity, a preloaded population), or a hint naming
// another AOR's record, puts every record in the map for good.
type users struct {
	byIMPU     map[string]uint32
	hintedOnly bool     // no record is in byIMPU: all came with a hint
	bySub      []uint32 // Sub -> 1 + index; 0 unknown
	chunks     [][]user
	n          uint32 // slots handed out
	free       []uint32
	bound      int
}

const userChunk = 1 << 12

func (us *users) at(i uint32) *user { return &us.chunks[i/userChunk][i%userChunk] }

// find returns the user of impu, or nil.
func (us *users) find(impu string, sub uint32) (*user, uint32) {
	if sub != 0 && int(sub) < len(us.bySub) {
		if j := us.bySub[sub]; j != 0 {
			if u := us.at(j - 1); u.inUse && u.impu == impu {
				return u, j - 1
			} else if u.inUse {
				us.index() // the hint names another AOR's record
			}
		}
	}
	if us.hintedOnly {
		if sub != 0 {
			return nil, 0 // a hinted AOR always comes with its hint
		}
		us.index()
	}
	i, ok := us.byIMPU[impu]
	if !ok {
		return nil, 0
	}
	us.noteSub(sub, i)
	return us.at(i), i
}

func (us *users) noteSub(sub, i uint32) {
	if sub == 0 {
		return
	}
	for int(sub) >= len(us.bySub) {
		us.bySub = append(us.bySub, make([]uint32, max(1024, len(us.bySub)))...)
	}
	us.bySub[sub] = i + 1
}

// get returns the user of impu, creating it.
func (us *users) get(impu string, sub uint32) (*user, uint32) {
	if u, i := us.find(impu, sub); u != nil {
		return u, i
	}
	var i uint32
	if n := len(us.free); n > 0 {
		i = us.free[n-1]
		us.free = us.free[:n-1]
	} else {
		if us.n%userChunk == 0 {
			us.chunks = append(us.chunks, make([]user, userChunk))
		}
		i = us.n
		us.n++
	}
	u := us.at(i)
	*u = user{inUse: true, impu: impu}
	if sub == 0 && us.hintedOnly {
		us.index()
	}
	if !us.hintedOnly {
		us.byIMPU[impu] = i
	}
	us.noteSub(sub, i)
	return u, i
}

// index puts every live record in the map and keeps it complete from then
// on.
func (us *users) index() {
	if !us.hintedOnly {
		return
	}
	us.hintedOnly = false
	us.byIMPU = make(map[string]uint32, int(us.n)-len(us.free))
	for i := uint32(0); i < us.n; i++ {
		if u := us.at(i); u.inUse {
			us.byIMPU[u.impu] = i
		}
	}
}

// release drops the user at index i if it holds nothing any more.
func (us *users) release(i uint32) {
	u := us.at(i)
	if !u.empty() {
		return
	}
	if !us.hintedOnly {
		delete(us.byIMPU, u.impu)
	}
	*u = user{}
	us.free = append(us.free, i)
}

// setBound stores u's usrloc contact; unbind removes it.
func (us *users) setBound(u *user, b binding) {
	if !u.bound {
		us.bound++
	}
	u.bound, u.b = true, b
}

func (us *users) unbind(u *user) {
	if u.bound {
		us.bound--
	}
	u.bound, u.b = false, binding{}
}
