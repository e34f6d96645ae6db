package cx

// Application and vendor of Cx (TS 29.229 §6.1, §6.3).
const (
	AppID    = 16777216
	VendorID = 10415
)

// Command codes (TS 29.229 §6.1).
const (
	CmdUserAuthorization = 300
	CmdServerAssignment  = 301
	CmdLocationInfo      = 302
	CmdMultimediaAuth    = 303
)

// Base Result-Code values (RFC 6733 §7.1).
const (
	DiameterSuccess       = 2001
	DiameterUnableToDeliv = 3002
	DiameterTooBusy       = 3004
	DiameterUnableToComp  = 5012
)

// Experimental-Result-Code values (TS 29.229 §6.2).
const (
	ErrorUserUnknown             = 5001
	ErrorIdentitiesDontMatch     = 5002
	ErrorIdentityNotRegistered   = 5003
	ErrorRoamingNotAllowed       = 5004
	ErrorAuthSchemeNotSupported  = 5006
	ErrorInAssignmentType        = 5007
	FirstRegistration            = 2001
	SubsequentRegistration       = 2002
	SuccessServerNameNotStored   = 2004
	ErrorIdentityAlreadyRegisted = 5005
)

// Server-Assignment-Type (TS 29.229 §6.3.15).
const (
	NoAssignment                = 0
	Registration                = 1
	ReRegistration              = 2
	UnregisteredUser            = 3
	TimeoutDeregistration       = 4
	UserDeregistration          = 5
	TimeoutDeregStoreServerName = 6
	UserDeregStoreServerName    = 7
)

// Authentication schemes (TS 29.229 §6.3.9).
const (
	SchemeAKAv1 = "Digest-AKAv1-MD5"
	SchemeAKAv2 = "Digest-AKAv2-MD5"
	SchemeMD5   = "Digest-MD5"
)

// Header carries the Diameter header fields and base AVPs every Cx message
// has (RFC 6733 §3, §6).
type Header struct {
	SessionID   string
	HopByHop    uint32
	EndToEnd    uint32
	OriginHost  string
	OriginRealm string
	DestRealm   string
}

// MAR is a Multimedia-Auth-Request (TS 29.229 §6.1.7).
type MAR struct {
	Header
	UserName       string // IMPI
	PublicIdentity string // IMPU
	ServerName     string
	NumAuthItems   uint32
	Scheme         string
	// Authorization is RAND‖AUTS in a resynchronisation request
	// (SIP-Authorization inside SIP-Auth-Data-Item, TS 29.229 §6.3.14).
	Authorization []byte
}

// AuthItem is a SIP-Auth-Data-Item (TS 29.229 §6.3.13).
type AuthItem struct {
	ItemNumber    uint32
	Scheme        string
	Authenticate  []byte // RAND‖AUTN
	Authorization []byte // XRES
	CK, IK        []byte
	// Digest holds SIP-Digest-Authenticate for the Digest-MD5 scheme
	// (TS 29.229 §6.3.36, RFC 4740 Digest-* AVPs).
	Digest *DigestAuth
}

// DigestAuth is SIP-Digest-Authenticate: the HSS hands the S-CSCF H(A1)
// instead of an AKA vector.
type DigestAuth struct {
	Realm, QoP, HA1, Algorithm string
}

// MAA is a Multimedia-Auth-Answer (TS 29.229 §6.1.8). Exactly one of
// ResultCode and ExperimentalResult is non-zero in a well-formed answer.
type MAA struct {
	Header
	ResultCode         uint32
	ExperimentalResult uint32
	UserName           string
	PublicIdentity     string
	Items              []AuthItem
}

// SAR is a Server-Assignment-Request (TS 29.229 §6.1.3).
type SAR struct {
	Header
	UserName          string
	PublicIdentity    string
	ServerName        string
	AssignmentType    uint32
	UserDataAvailable uint32 // 0 USER_DATA_NOT_AVAILABLE, 1 ALREADY_AVAILABLE
}

// SAA is a Server-Assignment-Answer (TS 29.229 §6.1.4).
type SAA struct {
	Header
	ResultCode         uint32
	ExperimentalResult uint32
	UserName           string
	UserData           []byte // IMS subscription XML (TS 29.228 Annex E)
}

// PeerEvent tells a Diameter peer that the connection went down or came
// back (in live mode: the TCP connection closed, or a new one completed
// CER/CEA). It is transport state, not a Cx message.
type PeerEvent struct {
	Up bool
}
