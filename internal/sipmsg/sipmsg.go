package sipmsg

// Request is a REGISTER (RFC 3261 §10.2) reduced to what registration logic
// reads. Branch is the top Via branch, the transaction key of RFC 3261
// §17.2.3; a retransmission carries the same Branch.
type Request struct {
	CallID     string
	Branch     string
	FromTag    string
	RequestURI string // e.g. "sip:ims.example.org"
	AOR        string // To URI: the IMPU being registered
	Contact    string // contact URI
	Auth       *Credentials
	// Echo is what a response to this request copies from it (RFC 3261
	// §8.2.6.2) and the top Via's sent-by (§17.2.3); nil in the
	// simulation, set by the live server from the bytes it received.
	Echo *Echo
	// Expires is the requested expiry in delta-seconds (RFC 3261 §10.2.1.1:
	// the contact's expires parameter, else the Expires header field),
	// clamped to MaxExpires; -1 when absent.
	Expires int64
	CSeq    uint32
	// Sub is simulation-only and never on the wire: 1 + the sending UE's
	// subscriber index, 0 when unknown (live traffic). A core may use it
	// to find its state for the AOR without hashing, and must check that
	// the state it finds is the AOR's.
	Sub uint32
}

// MaxExpires is the largest delta-seconds value: RFC 3261 §20.19 and
// §10.2.1.1 (and RFC 4475 §3.1.2.4) have larger values taken as 2^32-1.
const MaxExpires = 1<<32 - 1

// Echo holds the header field values of a request that its responses
// carry unchanged (RFC 3261 §8.2.6.2: every Via in order, From, To, Call-ID
// and CSeq), as the live server received them, and the top Via's sent-by
// for transaction matching (RFC 3261 §17.2.3). A response carrying an Echo
// renders these values instead of the ones it would build itself. Cores
// copy the pointer, never the contents; the simulation leaves it nil.
type Echo struct {
	// Via holds the Via header field values, top first, as received (a
	// value may list several via-parms; folded lines are joined by one
	// space); the top via-parm has received and rport filled in by the
	// server (RFC 3261 §18.2.1, RFC 3581 §4).
	Via    []string
	From   string
	To     string
	CallID string
	CSeq   string
	// ToTagged: the request's To already has a tag, so the response's
	// To is the request's unchanged (RFC 3261 §8.2.6.2).
	ToTagged bool
	// SentBy is the top Via's transport and sent-by, normalised ("UDP
	// host:port", host lower-cased, the default port made explicit).
	SentBy string
}

// SameSentBy reports whether two requests' top Vias have the same sent-by
// (RFC 3261 §17.2.3); two requests without Echo (the simulation) match.
func SameSentBy(a, b *Echo) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.SentBy == b.SentBy
}

// Credentials is an Authorization header (RFC 2617 §3.2.2, RFC 3310 §3.3).
type Credentials struct {
	Username  string // IMPI
	Realm     string
	Nonce     string
	URI       string
	Response  string
	Algorithm string
	QOP       string
	NC        string
	CNonce    string
	AUTS      string // base64, resynchronisation (RFC 3310 §3.4)
}

// Response is a response to a REGISTER.
type Response struct {
	Code      int
	Reason    string
	CallID    string
	Branch    string
	FromTag   string
	To        string // the To URI (the IMPU), copied from the request
	ToTag     string
	Contact   string     // the registered contact on 200
	Challenge *Challenge // WWW-Authenticate on 401
	// Echo, when set, is the request's (see Echo): the response carries
	// the request's Via, From, To (with ToTag added unless it had one),
	// Call-ID and CSeq as received.
	Echo *Echo
	// Expires is the granted contact expires on a 200 (delta-seconds, at
	// most MaxExpires); -1 otherwise.
	Expires int64
	// AssociatedURI is P-Associated-URI (RFC 3455 §4.1) on a 200.
	AssociatedURI string
	// ServiceRoute is Service-Route (RFC 3608) on a 200.
	ServiceRoute string
	// RegistrarError is P-Registrar-Error (Kamailio ims_registrar_scscf).
	RegistrarError string
	CSeq           uint32
	// RetryAfter is Retry-After in seconds (RFC 3261 §20.33); 0 = absent.
	RetryAfter int32
	// Sub is the request's Sub, returned (simulation-only, never on the
	// wire): the UE fleet finds the UE without parsing the Call-ID, and
	// checks the Call-ID.
	Sub uint32
}

// Challenge is a WWW-Authenticate header (RFC 2617 §3.2.1, RFC 3310 §3.2).
// CK and IK are hex, for the P-CSCF (TS 33.203 §7.2).
type Challenge struct {
	Realm     string
	Nonce     string
	Algorithm string
	QOP       string
	CK, IK    string
}

// Final reports whether the response ends a transaction (RFC 3261 §17.1.2).
func (r *Response) Final() bool { return r.Code >= 200 }
