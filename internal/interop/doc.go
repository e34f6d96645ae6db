// Package interop holds no code: its tests start real peers on loopback
// (Kamailio's IMS S-CSCF from Debian, SIPp, the regstorm binary) and check
// regstorm against them. They skip when a peer binary is missing unless
// REGSTORM_REQUIRE_INTEROP is set, as .ci/run does.
package interop
