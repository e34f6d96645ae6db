// Package scscf is regstorm's model of a Kamailio IMS S-CSCF handling
// REGISTER: tm transactions with t_suspend and its blind UAC (FR timer capped
// by max_noninv_lifetime, on the 62.5 ms tm tick), final replies arming the
// WAIT timer, the t_continue / t_continue_skip_timer lookup filter, the cdp
// Diameter client (integer-second expiry scanned once a second; late answers
// dropped), ims_auth's MAR callback (module reply first, then continue),
// digest authentication against XRES, and ims_registrar_scscf's SAR callback.
//
// The behaviour follows design/KAMAILIO-MODEL.md, itself read from the
// Kamailio source (tm t_suspend.c, t_lookup.c, t_reply.c, timer.c; cdp
// transaction.c; ims_auth cxdx_mar.c, authorize.c; ims_registrar_scscf
// cxdx_sar.c, save.c). The configuration routes modelled are those of the
// project's Kamailio S-CSCF config (route[REGISTER], route[REG_MAR_REPLY],
// route[PRE_REG_SAR_REPLY]).
//
// The core is deterministic: time, timers, randomness and message delivery
// come from sim.Env.
package scscf
