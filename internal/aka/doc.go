// Package aka implements the 3GPP AKA pieces regstorm needs on both sides of a
// registration: Milenage f1-f5* vectors (TS 35.205/35.206, through
// github.com/wmnsk/milenage), AUTN construction and verification (TS 33.102
// §6.3), AUTS for resynchronisation (TS 33.102 §6.3.3), the IMS nonce
// (base64(RAND‖AUTN), RFC 3310 §3.2), and the HTTP digest computations of
// Digest-AKAv1-MD5 (RFC 3310) and MD5 digest (RFC 2617).
//
// It also derives a subscriber's K and OPc from (seed, index), so a population
// of a million subscribers needs no stored keys: the HSS and the UE derive the
// same keys independently.
//
// The package is pure: no clock, no I/O, no global randomness.
package aka
