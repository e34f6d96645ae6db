package sipmsg

// Request is a REGISTER (RFC 3261 §10.2) reduced to what registration logic
// reads. Branch is the top Via branch, the transaction key of RFC 3261
// §17.2.3; a retransmission carries the same Branch.
type Request struct {
	CallID     string
	Branch     string
	FromTag    string
	CSeq       uint32
	RequestURI string // e.g. "sip:ims.example.org"
	AOR        string // To and From URI: the IMPU being registered
	Contact    string // contact URI
	Expires    int32  // Expires / contact expires; -1 when absent
	Auth       *Credentials
	// Sub is simulation-only and never on the wire: 1 + the sending UE's
	// subscriber index, 0 when unknown (live traffic). A core may use it
	// to find its state for the AOR without hashing, and must check that
	// the state it finds is the AOR's.
	Sub uint32
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
	CSeq      uint32
	Challenge *Challenge // WWW-Authenticate on 401
	Contact   string     // the registered contact on 200
	Expires   int32      // granted contact expires on 200; -1 otherwise
	// AssociatedURI is P-Associated-URI (RFC 3455 §4.1) on a 200.
	AssociatedURI string
	// ServiceRoute is Service-Route (RFC 3608) on a 200.
	ServiceRoute string
	// RegistrarError is P-Registrar-Error (Kamailio ims_registrar_scscf).
	RegistrarError string
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
