// Package cx holds the typed Diameter Cx messages exchanged between the
// S-CSCF and the HSS (3GPP TS 29.228 and TS 29.229, application 16777216,
// vendor 10415): MAR/MAA and SAR/SAA. The cores pass these structs; their
// go-diameter encoding lives here too once the wire is needed (live mode and
// the wire-fidelity simulation).
package cx
