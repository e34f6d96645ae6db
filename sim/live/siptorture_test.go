package live

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regstorm/regstorm/internal/sipwire"
)

// The RFC 4475 torture messages, written for this project from the RFC's
// descriptions (§3.1.1 valid, §3.1.2 invalid, §3.2 transaction layer, §3.3
// application layer, §3.4 backward compatibility), adapted to what a
// registrar serves: where the RFC's message is an INVITE or OPTIONS whose
// point is a REGISTER's business (headers, URIs, expires), it is a REGISTER
// of a lab subscriber here, so it reaches the S-CSCF core and is challenged
// (401) when valid. Each message has its expected answer, or the counter
// of its drop, over UDP and over TCP.
//
// Notation (after RFC 4475 §2.2): lines end in "\n", sent as CRLF; "<%XX>"
// is the octet 0xXX; "Content-Length: AUTO" is filled in with the body's
// length.

// outcome is the expected result of one message on one transport: the
// status code of the answer (0: none), a second answer's in any order
// (0: none), and a counter that must grow by one.
type outcome struct {
	code    int
	counter string
	second  int
}

type tortureCase struct {
	name, rfc string
	msg       string
	udp, tcp  outcome
}

func both(code int, counter string) (outcome, outcome) {
	return outcome{code, counter, 0}, outcome{code, counter, 0}
}

// authz is the Authorization of a lab subscriber's first REGISTER (the
// S-CSCF takes the IMPI from it and challenges).
func authz(n int) string {
	u := "user" + strconv.Itoa(n) + "@" + sipLabDomain
	return `Authorization: Digest username="` + u + `", realm="ims.test", nonce="", uri="sip:ims.test", response=""`
}

// wire turns the notation into bytes.
func wire(s string) string {
	s = strings.ReplaceAll(s, "\n", "\r\n")
	for {
		i := strings.Index(s, "<%")
		if i < 0 || i+5 > len(s) || s[i+4] != '>' {
			break
		}
		b, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
		if err != nil {
			break
		}
		s = s[:i] + string([]byte{byte(b)}) + s[i+5:]
	}
	if i := strings.Index(s, "Content-Length: AUTO\r\n"); i >= 0 {
		if end := strings.Index(s, "\r\n\r\n"); end >= 0 {
			body := len(s) - end - 4
			s = strings.Replace(s, "Content-Length: AUTO", "Content-Length: "+strconv.Itoa(body), 1)
		}
	}
	return s
}

func tortureCases() []tortureCase {
	var cs []tortureCase
	add := func(name, rfc string, msg string, udp, tcp outcome) {
		cs = append(cs, tortureCase{name, rfc, wire(msg), udp, tcp})
	}
	reg := func(n int, lines string) string { // a well-formed REGISTER of user n with extra lines
		u := "sip:user" + strconv.Itoa(n) + "@" + sipLabDomain
		return "REGISTER sip:ims.test SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKt" + strconv.Itoa(n) + "\n" +
			"Max-Forwards: 70\nFrom: <" + u + ">;tag=t" + strconv.Itoa(n) + "\nTo: <" + u + ">\nCall-ID: torture" + strconv.Itoa(n) + "@192.0.2.10\n" +
			"CSeq: 1 REGISTER\nContact: <sip:ue@192.0.2.10>\n" + authz(n) + "\n" + lines + "Content-Length: AUTO\n\n"
	}

	// §3.1.1.1 wsinv: unusual but legal whitespace, line folding, compact
	// and mixed-case names, LWS around Via's slashes, escaped quotes in a
	// display name, empty and odd extension values. Valid: challenged.
	u, d := 101, strconv.Itoa(101)
	udp, tcp := both(401, "sip.accepted.register")
	add("wsinv", "3.1.1.1", "REGISTER sip:ims.test;unknownparam SIP/2.0\n"+
		"TO :\n sip:user"+d+"@ims.test ;   tag    = 1918181833n\n"+
		"from   : \"J Rosenberg \\\\\\\"\"       <sip:user"+d+"@ims.test>\n  ;\n  tag = 98asjd8\n"+
		"MaX-fOrWaRdS: 0068\n"+
		"Call-ID: wsinv.ndaksdj@192.0.2.1\n"+
		"Content-Length   : AUTO\n"+
		"cseq: 0009\n  REGISTER\n"+
		"Via  : SIP  /   2.0\n /UDP\n    192.0.2.2;branch=390skdjuw\n"+
		"s :\n"+
		"NewFangledHeader:   newfangled value\n continued newfangled value\n"+
		"UnknownHeaderWithUnusualValue: ;;,,;;,;\n"+
		"Route:\n <sip:services.example.com;lr;unknownwith=value;unknown-no-value>\n"+
		"v:  SIP  / 2.0  / TCP     spindle.example.com   ;\n  branch  =   z9hG4bK9ikj8  ,\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\n z9hG4bK30239\n"+
		"m:\"Quoted string \\\"\\\"\" <sip:ue"+d+"@192.0.2.2> ; newparam =\n      newvalue ;\n  secondparam ; q = 0.33\n"+
		authz(u)+"\n\n", udp, tcp)
	cs[len(cs)-1].msg = strings.Replace(cs[len(cs)-1].msg, "Content-Length   : AUTO", "Content-Length   : 0", 1)

	// §3.1.1.2 intmeth: an unknown method made of every token character,
	// escaped control characters in a quoted display name, a Call-ID of
	// every word character, UTF-8 in an extension header. Valid, and an
	// unknown method: 501.
	udp, tcp = both(501, "sip.rejected.501")
	add("intmeth", "3.1.1.2", "!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0\n"+
		"Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\n"+
		"To: \"BEL:\\<%07> NUL:\\<%00> DEL:\\<%7F>\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>\n"+
		"From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\";tag=_token~1'+`*%!-.\n"+
		"Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\n"+
		"CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~\n"+
		"Max-Forwards: 255\n"+
		"extensionHeader-!.%*+_`'~: \xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb\n"+
		"Content-Length: 0\n\n", udp, tcp)

	// §3.1.1.3 esc01: %-escapes in URIs (From, Contact with escaped
	// parameter names and values). Valid: challenged.
	udp, tcp = both(401, "sip.accepted.register")
	add("esc01", "3.1.1.3", "REGISTER sip:ims.test SIP/2.0\nVia: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw\nMax-Forwards: 70\n"+
		"To: sip:user102@ims.test\nFrom: <sip:I%20have%20spaces@example.net>;tag=938\nCall-ID: esc01.239409asdfakjkn23onasd0-3234\n"+
		"CSeq: 234234 REGISTER\nContact: <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>\n"+authz(102)+"\nContent-Length: AUTO\n\n", udp, tcp)

	// §3.1.1.4 escnull: escaped NULs in URIs; two contacts.
	add("escnull", "3.1.1.4", "REGISTER sip:ims.test SIP/2.0\nTo: sip:user103@ims.test\nFrom: sip:null-%00-null@ims.test;tag=839923423\n"+
		"Max-Forwards: 70\nCall-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd\nCSeq: 14398234 REGISTER\n"+
		"Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw\nContact: <sip:%00@host5.example.com>\nContact: <sip:%00%00@host5.example.com>\n"+
		authz(103)+"\nL:0\n\n", udp, tcp)

	// §3.1.1.5 esc02: "%" that is no escape: the method "RE%47IST%45R" is a
	// token, but not REGISTER: an unknown method, 501.
	udp, tcp = both(501, "sip.rejected.501")
	add("esc02", "3.1.1.5", "RE%47IST%45R sip:registrar.example.com SIP/2.0\nTo: \"%Z%45\" <sip:resource@example.com>\n"+
		"From: \"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23\nCall-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf\n"+
		"Via: SIP/2.0/TCP host.example.com;rport;branch=z9hG4bK209793\nCSeq: 1 RE%47IST%45R\nMax-Forwards: 70\n"+
		"Contact: <sip:alias1@host1.example.com>, <sip:alias%32@host2.example.com>\nContent-Length: 0\n\n", udp, tcp)

	// §3.1.1.6 lwsdisp: no LWS between display name and "<".
	udp, tcp = both(401, "sip.accepted.register")
	add("lwsdisp", "3.1.1.6", "REGISTER sip:ims.test SIP/2.0\nTo: sip:user104@ims.test\nFrom: caller<sip:user104@ims.test>;tag=323\n"+
		"Max-Forwards: 70\nCall-ID: lwsdisp.1234abcd@funky.example.com\nCSeq: 60 REGISTER\nVia: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw\n"+
		authz(104)+"\nl: 0\n\n", udp, tcp)

	// §3.1.1.7 longreq: long values everywhere: display name, tags,
	// Call-ID, 40 Via header fields, a long Contact.
	long := strings.Repeat("longlonglong", 40)
	var vias strings.Builder
	for i := 0; i < 40; i++ {
		vias.WriteString("Via: SIP/2.0/TCP sip" + strconv.Itoa(i) + ".example.com;branch=z9hG4bK" + long + strconv.Itoa(i) + ";received=192.0.2." + strconv.Itoa(i+1) + "\n")
	}
	add("longreq", "3.1.1.7", "REGISTER sip:ims.test SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.11;branch=z9hG4bKlong"+long+"\n"+vias.String()+
		"To: \""+long+long+"\" <sip:user105@ims.test>\nFrom: sip:user105@ims.test;tag="+long+"\nCall-ID: longreq."+long+"@example.com\n"+
		"CSeq: 3882340 REGISTER\nMax-Forwards: 70\nContact: <sip:amazinglylongcallername"+long+"@host5.example.net>\n"+
		"X-Long-Header: "+long+long+long+"\n"+authz(105)+"\nContent-Length: 0\n\n", udp, tcp)

	// §3.1.1.8 dblreq: extra octets after Content-Length in a datagram are
	// discarded (RFC 3261 §18.3): only the REGISTER is answered. On a
	// stream they are the next message (an INVITE: 405).
	add("dblreq", "3.1.1.8", strings.Replace(reg(106, ""), "Content-Length: AUTO", "Content-Length: 0", 1)+"INVITE sip:joe@example.com SIP/2.0\nTo: sip:joe@example.com\nFrom: sip:caller@example.net;tag=141334\n"+
		"Max-Forwards: 8\nCall-ID: dblreq.0ha0isnda977644900765@192.0.2.15\nCSeq: 8 INVITE\nVia: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234\n"+
		"Content-Length: 0\n\n", outcome{401, "sip.accepted.register", 0}, outcome{401, "sip.rejected.405", 405})

	// §3.1.1.9 semiuri: ";" in the user part of a Request-URI; OPTIONS: 405.
	udp, tcp = both(405, "sip.rejected.405")
	add("semiuri", "3.1.1.9", "OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0\nTo: sip:j_user@example.com\nFrom: sip:caller@example.org;tag=33242\n"+
		"Max-Forwards: 3\nCall-ID: semiuri.0ha0isndaksdj\nCSeq: 8 OPTIONS\nAccept: application/sdp, application/pkcs7-mime,\n multipart/mixed, multipart/signed,\n message/sip, message/sipfrag\n"+
		"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw\nl: 0\n\n", udp, tcp)

	// §3.1.1.10 transports: Vias with SCTP, TLS and unknown transports.
	add("transports", "3.1.1.10", "OPTIONS sip:user@example.com SIP/2.0\nTo: sip:user@example.com\nFrom: <sip:caller@example.com>;tag=323\n"+
		"Max-Forwards: 70\nCall-ID: transports.kijh4akdnaqjkwendsasfdj\nAccept: application/sdp\nCSeq: 60 OPTIONS\n"+
		"Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw\nVia: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf\n"+
		"Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj\nVia: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en\n"+
		"Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee\nl: 0\n\n", udp, tcp)

	// §3.1.1.11 mpart01: a multipart body with a binary part (here on a
	// REGISTER, which may carry a body).
	udp, tcp = both(401, "sip.accepted.register")
	add("mpart01", "3.1.1.11", "REGISTER sip:ims.test SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.12;branch=z9hG4bKmpart\nMax-Forwards: 70\n"+
		"From: <sip:user107@ims.test>;tag=2342\nTo: <sip:user107@ims.test>\nCall-ID: mpart01.kjadf@192.0.2.12\nCSeq: 1 REGISTER\n"+
		authz(107)+"\nMIME-Version: 1.0\nContent-Type: multipart/mixed;boundary=\"----=_1_outer\"\nContent-Length: AUTO\n\n"+
		"------=_1_outer\nContent-Type: text/plain\n\nhello\n------=_1_outer\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: binary\n\n"+
		"<%00><%01><%02><%ff><%fe>\x80\x81binary\n------=_1_outer--\n", udp, tcp)

	// §3.1.1.12 unreason, §3.1.1.13 noreason: responses (UTF-8 reason,
	// empty reason): valid, but stray at a registrar that sends nothing.
	udp, tcp = both(0, "sip.dropped.stray_response")
	add("unreason", "3.1.1.12", "SIP/2.0 200 = 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\xd0\xbe \xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f\xd0\xbd\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe\n"+
		"Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923\nCall-ID: unreason.1234ksdfak3j2erwedfsASdf\nCSeq: 35 INVITE\n"+
		"From: sip:user@example.com;tag=11141343\nTo: sip:user@example.edu;tag=2229\nContent-Length: 0\n\n", udp, tcp)
	add("noreason", "3.1.1.13", "SIP/2.0 100 \nVia: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\nCall-ID: noreason.asndj203insdf99223ndf\n"+
		"CSeq: 35 INVITE\nFrom: <sip:user@example.com>;tag=39ansfi3\nTo: <sip:user@example.edu>;tag=902jndnke3\nContent-Length: 0\n\n", udp, tcp)

	// §3.1.2.1 badinv01: empty parameters in Via and Contact: 400.
	udp, tcp = both(400, "sip.rejected.400.malformed_via")
	add("badinv01", "3.1.2.1", "REGISTER sip:ims.test SIP/2.0\nTo: sip:user108@ims.test\nFrom: sip:user108@ims.test;tag=134161461246\n"+
		"Max-Forwards: 7\nCall-ID: badinv01.0ha0isndaksdjasdf3234nas\nCSeq: 8 REGISTER\nVia: SIP/2.0/UDP 192.0.2.15;;,;,,\n"+
		"Contact: \"Joe\" <sip:joe@example.org>;;;;\n"+authz(108)+"\nContent-Length: 0\n\n", udp, tcp)

	// §3.1.2.2 clerr: Content-Length larger than the message: over UDP a
	// 400 (RFC 3261 §18.3); on a stream the server waits for the rest of
	// the body until the body timeout.
	add("clerr", "3.1.2.2", "REGISTER sip:ims.test SIP/2.0\nMax-Forwards: 80\nTo: sip:user109@ims.test\nFrom: sip:user109@ims.test;tag=93942939o2\n"+
		"Contact: <sip:ue@host9.example.com>\nCall-ID: clerr.0ha0isndaksdjweiafasdk3\nCSeq: 8 REGISTER\nVia: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523\n"+
		authz(109)+"\nContent-Type: text/plain\nContent-Length: 9999\n\nshort body\n",
		outcome{400, "sip.rejected.400.content_length_mismatch", 0}, outcome{0, "sip.tcp.body_timeout", 0})

	// §3.1.2.3 ncl: a negative Content-Length: 400 (on a stream the message
	// cannot be framed: 400 and the connection closes).
	add("ncl", "3.1.2.3", reg(110, "")+"", outcome{400, "sip.rejected.400.malformed_content_length", 0}, outcome{400, "sip.tcp.framing_error", 0})
	cs[len(cs)-1].msg = strings.Replace(cs[len(cs)-1].msg, "Content-Length: 0", "Content-Length: -999", 1)

	// §3.1.2.4 scalar02: overlarge CSeq (over 2^31-1), Max-Forwards (over
	// 255), Expires and contact expires: 400 (for the CSeq).
	udp, tcp = both(400, "sip.rejected.400.malformed_cseq")
	add("scalar02", "3.1.2.4", "REGISTER sip:ims.test SIP/2.0\nVia: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3\n"+
		"To: <sip:user111@ims.test>\nFrom: <sip:user111@ims.test>;tag=239232jh3\nCSeq: 36893488147419103232 REGISTER\n"+
		"Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32\nMax-Forwards: 300\nExpires: 1"+strings.Repeat("0", 30)+"\n"+
		"Contact: <sip:user@host129.example.com>;expires=280297596632815\n"+authz(111)+"\nContent-Length: 0\n\n", udp, tcp)
	// Max-Forwards alone out of range.
	udp, tcp = both(400, "sip.rejected.400.malformed_max_forwards")
	add("scalar02-maxforwards", "3.1.2.4", strings.Replace(reg(112, ""), "Max-Forwards: 70", "Max-Forwards: 300", 1), udp, tcp)

	// §3.1.2.5 scalarlg: a response with overlarge values: stray here.
	udp, tcp = both(0, "sip.dropped.stray_response")
	add("scalarlg", "3.1.2.5", "SIP/2.0 503 Service Unavailable\nVia: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129\n"+
		"To: <sip:user@example.com>\nFrom: <sip:other@example.net>;tag=2easdjfejw\nCSeq: 9292394834772304023312 OPTIONS\n"+
		"Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r\nRetry-After: 949302838503028349304023988\n"+
		"Warning: 1812 overture \"In Progress\"\nContent-Length: 0\n\n", udp, tcp)

	// §3.1.2.6 quotbal: an unterminated quoted string in To: 400.
	udp, tcp = both(400, "sip.rejected.400.malformed_to")
	add("quotbal", "3.1.2.6", strings.Replace(reg(113, ""), "To: <sip:user113@ims.test>", "To: \"Mr. J. User <sip:user113@ims.test>", 1), udp, tcp)

	// §3.1.2.7 ltgtruri: the Request-URI in <>: 400.
	udp, tcp = both(400, "sip.rejected.400.malformed_request_uri")
	add("ltgtruri", "3.1.2.7", strings.Replace(reg(114, ""), "REGISTER sip:ims.test SIP/2.0", "REGISTER <sip:ims.test> SIP/2.0", 1), udp, tcp)

	// §3.1.2.8 lwsruri, §3.1.2.9 lwsstart, §3.1.2.10 trws: LWS inside the
	// Request-URI, several SP between the elements, SP at the end: 400.
	udp, tcp = both(400, "sip.rejected.400.malformed_request_line")
	add("lwsruri", "3.1.2.8", strings.Replace(reg(115, ""), "REGISTER sip:ims.test SIP/2.0", "REGISTER sip:ims.test; lr SIP/2.0", 1), udp, tcp)
	add("lwsstart", "3.1.2.9", strings.Replace(reg(116, ""), "REGISTER sip:ims.test SIP/2.0", "REGISTER  sip:ims.test   SIP/2.0", 1), udp, tcp)
	add("trws", "3.1.2.10", strings.Replace(reg(117, ""), "REGISTER sip:ims.test SIP/2.0", "REGISTER sip:ims.test SIP/2.0 ", 1), udp, tcp)

	// §3.1.2.11 escruri: escaped headers in the Request-URI: 400.
	udp, tcp = both(400, "sip.rejected.400.malformed_request_uri")
	add("escruri", "3.1.2.11", strings.Replace(reg(118, ""), "REGISTER sip:ims.test SIP/2.0", "REGISTER sip:ims.test?Route=%3Csip:example.com%3E SIP/2.0", 1), udp, tcp)

	// §3.1.2.12 baddate: a Date the registrar does not read: processed.
	udp, tcp = both(401, "sip.accepted.register")
	add("baddate", "3.1.2.12", reg(119, "Date: Fri, 01 Jan 2010 16:00:00 EST\n"), udp, tcp)

	// §3.1.2.13 regbadct: a Contact URI with headers not in <>: 400.
	udp, tcp = both(400, "sip.rejected.400.malformed_contact")
	add("regbadct", "3.1.2.13", strings.Replace(reg(120, ""), "Contact: <sip:ue@192.0.2.10>", "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E", 1), udp, tcp)

	// §3.1.2.14 badaspec: spaces inside <addr-spec>: 400.
	udp, tcp = both(400, "sip.rejected.400.malformed_to")
	add("badaspec", "3.1.2.14", strings.Replace(reg(121, ""), "To: <sip:user121@ims.test>", "To: \"Watson, Thomas\" < sip:user121@ims.test >", 1), udp, tcp)

	// §3.1.2.15 baddn: a display name with non-token characters (a comma)
	// unquoted: two From values: 400.
	udp, tcp = both(400, "sip.rejected.400.duplicate_from")
	add("baddn", "3.1.2.15", strings.Replace(reg(122, ""), "From: <sip:user122@ims.test>;tag=t122", "From:    Bell, Alexander <sip:user122@ims.test>;tag=43", 1), udp, tcp)

	// §3.1.2.16 badvers: SIP/7.0: 505.
	udp, tcp = both(505, "sip.rejected.505")
	add("badvers", "3.1.2.16", strings.Replace(strings.Replace(reg(123, ""), "REGISTER sip:ims.test SIP/2.0", "REGISTER sip:ims.test SIP/7.0", 1),
		"Via: SIP/2.0/UDP", "Via: SIP/7.0/UDP", 1), udp, tcp)

	// §3.1.2.17 mismatch01: the CSeq method is not the request's: 400.
	udp, tcp = both(400, "sip.rejected.400.cseq_method_mismatch")
	add("mismatch01", "3.1.2.17", strings.Replace(reg(124, ""), "CSeq: 1 REGISTER", "CSeq: 8 INVITE", 1), udp, tcp)
	// §3.1.2.18 mismatch02: an unknown method and a mismatched CSeq: 400
	// (the RFC accepts 400 or 501).
	add("mismatch02", "3.1.2.18", "NEWMETHOD sip:user@example.com SIP/2.0\nTo: sip:j.user@example.com\nFrom: sip:caller@example.net;tag=34525\n"+
		"Max-Forwards: 6\nCall-ID: mismatch02.secondaries98y8ip3\nCSeq: 8 INVITE\nContact: <sip:caller@host.example.net>\n"+
		"Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw\nContent-Type: application/sdp\nl: 0\n\n", udp, tcp)

	// §3.1.2.19 bigcode: a response with an overlarge status code: not a
	// response a registrar takes (stray).
	udp, tcp = both(0, "sip.dropped.stray_response")
	add("bigcode", "3.1.2.19", "SIP/2.0 4294967301 better not break the receiver\nVia: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\n"+
		"Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i\nCSeq: 353494 INVITE\nFrom: <sip:user@example.com>;tag=39ansfi3\n"+
		"To: <sip:user@example.edu>;tag=902jndnke3\nContent-Length: 0\n\n", udp, tcp)

	// §3.2.1 badbranch: a branch of only the magic cookie: 400.
	udp, tcp = both(400, "sip.rejected.400.malformed_via")
	add("badbranch", "3.2.1", strings.Replace(reg(125, ""), "branch=z9hG4bKt125", "branch=z9hG4bK", 1), udp, tcp)

	// §3.3.1 insuf: Call-ID, From and To missing: 400.
	udp, tcp = both(400, "sip.rejected.400.missing_from")
	add("insuf", "3.3.1", "REGISTER sip:ims.test SIP/2.0\nCSeq: 193942 REGISTER\nVia: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\n"+authz(126)+"\nContent-Length: 0\n\n", udp, tcp)
	// A missing Call-ID alone.
	udp, tcp = both(400, "sip.rejected.400.missing_call_id")
	add("insuf-callid", "3.3.1", strings.Replace(reg(127, ""), "Call-ID: torture127@192.0.2.10\n", "", 1), udp, tcp)

	// §3.3.2 unkscm: a Request-URI of an unknown scheme: a REGISTER gets
	// 416 (RFC 3261 §8.2.2.1); §3.3.3 novelsc on OPTIONS: 405 (the method
	// is checked first, §8.2.1).
	udp, tcp = both(416, "sip.rejected.416")
	add("unkscm", "3.3.2", strings.Replace(reg(128, ""), "REGISTER sip:ims.test SIP/2.0", "REGISTER nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0", 1), udp, tcp)
	udp, tcp = both(405, "sip.rejected.405")
	add("novelsc", "3.3.3", "OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0\nTo: sip:user@example.org\nFrom: sip:caller@example.net;tag=384\n"+
		"Max-Forwards: 3\nCall-ID: novelsc.asdfasser0q239nwsdfasdkl34\nCSeq: 3923423 OPTIONS\nVia: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234\n"+
		"Content-Length: 0\n\n", udp, tcp)

	// §3.3.4 unksm2: an address-of-record of an unknown scheme: not valid
	// for the domain (RFC 3261 §10.3 step 5): 404.
	udp, tcp = both(404, "sip.rejected.404")
	add("unksm2", "3.3.4", strings.Replace(reg(129, ""), "To: <sip:user129@ims.test>", "To: isbn:2983792873", 1), udp, tcp)

	// §3.3.5 bext01: an option tag in Require the registrar does not
	// support: 420 with Unsupported (RFC 3261 §8.2.2.3); Proxy-Require is
	// for proxies.
	udp, tcp = both(420, "sip.rejected.420")
	add("bext01", "3.3.5", reg(130, "Require: nothingSupportedHere\nProxy-Require: noProxiesSupportThis, nothingSupportedHere\n"), udp, tcp)
	udp, tcp = both(401, "sip.accepted.register")
	add("bext01-path", "3.3.5", reg(131, "Require: path\nProxy-Require: noProxiesSupportThis\n"), udp, tcp)

	// §3.3.7 regaut01-like: an Authorization of an unknown scheme is not
	// understood and does not stop the challenge.
	add("regaut01", "3.3.7", strings.Replace(reg(132, ""), authz(132), "Authorization: NoOneKnowsThisScheme opaque-data=here\n"+authz(132), 1), udp, tcp)

	// §3.3.8 multi01: more than one value of single-value fields: 400.
	udp, tcp = both(400, "sip.rejected.400.duplicate_call_id")
	add("multi01", "3.3.8", strings.Replace(reg(133, ""), "CSeq: 1 REGISTER\n", "CSeq: 1 REGISTER\nCall-ID: multi01.98asdh@192.0.2.2\n", 1), udp, tcp)
	udp, tcp = both(400, "sip.rejected.400.duplicate_to")
	add("multi01-to", "3.3.8", strings.Replace(reg(134, ""), "To: <sip:user134@ims.test>", "To: <sip:user134@ims.test>, sip:user134@example.net", 1), udp, tcp)

	// §3.3.9 mcl01: two Content-Length values: 400 (on a stream the
	// message cannot be framed: 400 and a close).
	add("mcl01", "3.3.9", strings.Replace(reg(135, ""), "Content-Length: AUTO\n", "Content-Length: 0\nContent-Length: 0\n", 1),
		outcome{400, "sip.rejected.400.duplicate_content_length", 0}, outcome{400, "sip.tcp.framing_error", 0})

	// §3.3.10 bcast-like: a top Via naming the broadcast address: answered
	// to the packet's source (with received), never to the Via.
	udp, tcp = both(401, "sip.accepted.register")
	add("bcast", "3.3.10", strings.Replace(reg(136, ""), "192.0.2.10:5060;branch", "255.255.255.255:5060;branch", 1), udp, tcp)

	// §3.3.11 zeromf: Max-Forwards 0 at the registrar (the UAS): processed.
	add("zeromf", "3.3.11", strings.Replace(reg(137, ""), "Max-Forwards: 70", "Max-Forwards: 0", 1), udp, tcp)

	// §3.3.12-13 cparam01/02: contact parameters and a quoted display name.
	add("cparam", "3.3.12", strings.Replace(reg(138, ""), "Contact: <sip:ue@192.0.2.10>",
		"Contact: \"Quoted name\" <sip:+19725552222@gw1.example.net;unknownparam>;expires=3600;q=0.5;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"", 1), udp, tcp)

	// §3.3.14 regescrt: an escaped header in a bracketed Contact URI.
	add("regescrt", "3.3.14", strings.Replace(reg(139, ""), "Contact: <sip:ue@192.0.2.10>", "Contact: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>", 1), udp, tcp)

	// §3.4.1 inv2543: an RFC 2543 INVITE (no branch, no Max-Forwards): 405.
	udp, tcp = both(405, "sip.rejected.405")
	add("inv2543", "3.4.1", "INVITE sip:UserB@example.com SIP/2.0\nVia: SIP/2.0/UDP iftgw.example.com\nFrom: <sip:+13035551111@ift.client.example.net;user=phone>\n"+
		"Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>\nTo: sip:+16505552222@ss1.example.net;user=phone\nCall-ID: inv2543.1717@ift.client.example.com\n"+
		"CSeq: 56 INVITE\nContent-Type: application/sdp\nContent-Length: 0\n\n", udp, tcp)

	// Beyond RFC 4475: the registrar's own checks.
	udp, tcp = both(400, "sip.rejected.400.malformed_expires")
	add("expires-soon", "RFC 3261 §20.19", strings.Replace(reg(140, ""), "CSeq: 1 REGISTER\n", "CSeq: 1 REGISTER\nExpires: soon\n", 1), udp, tcp)
	add("contact-expires-soon", "RFC 3261 §10.2.1.1", strings.Replace(reg(141, ""), "Contact: <sip:ue@192.0.2.10>", "Contact: <sip:ue@192.0.2.10>;expires=soon", 1), udp, tcp)
	udp, tcp = both(400, "sip.rejected.400.malformed_contact")
	add("wildcard-contact", "RFC 3261 §10.3 step 6", strings.Replace(reg(142, ""), "Contact: <sip:ue@192.0.2.10>", "Contact: *", 1), udp, tcp)
	udp, tcp = both(0, "sip.ignored.ack")
	add("ack", "RFC 3261 §17.2.1", "ACK sip:ims.test SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKack\nFrom: <sip:a@ims.test>;tag=1\n"+
		"To: <sip:a@ims.test>;tag=2\nCall-ID: ack@x\nCSeq: 1 ACK\nContent-Length: 0\n\n", udp, tcp)
	udp, tcp = both(0, "sip.dropped.no_via")
	add("no-via", "RFC 3261 §18.2.2", strings.Replace(reg(143, ""), "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKt143\n", "", 1), udp, tcp)
	add("bad-top-via", "RFC 3261 §18.2.2", strings.Replace(reg(144, ""), "Via: SIP/2.0/UDP 192.0.2.10:5060;", "Via: garbage;", 1), udp, tcp)
	add("not-sip", "RFC 3261 §7", "NOT SIP AT ALL\n\n", outcome{0, "sip.dropped.unparseable", 0}, outcome{0, "sip.tcp.framing_error", 0})
	add("binary", "RFC 3261 §7", "<%00><%01><%02>\x80\xff REGISTER\n\n", outcome{0, "sip.dropped.unparseable", 0}, outcome{0, "sip.tcp.framing_error", 0})
	add("ctl-in-header", "RFC 3261 §25.1", reg(145, "X-Evil: a<%1b>[31mred\n"), outcome{400, "sip.rejected.400.control_character", 0}, outcome{400, "sip.rejected.400.control_character", 0})
	return cs
}

// The RFC 4475 torture messages over UDP and over TCP, each on its own
// socket or connection, get their expected answer or counted drop; the
// server then registers a UE fleet normally. Each transport has its own
// S-CSCF: the same message over both would otherwise be, rightly, a
// retransmission of the first (RFC 3261 §17.2.3: same branch and sent-by).
func TestSIPServerRFC4475Torture(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			l := startSIPLab(t, func(s *SIPServer) { s.BodyTimeout = 300 * time.Millisecond })
			for _, c := range tortureCases() {
				want := c.udp
				if transport == "tcp" {
					want = c.tcp
				}
				runTorture(t, l, transport, &c, want)
			}
			if got := l.runFleet(t, transport, 20); got != 20 {
				t.Errorf("after the torture, over %s %d of 20 registrations succeeded", transport, got)
			}
			t.Logf("counters after the torture and the fleet: %v", l.srv.Counters())
		})
	}
}

func runTorture(t *testing.T, l *sipLab, transport string, c *tortureCase, want outcome) {
	t.Helper()
	before := l.srv.Counters()[want.counter]
	wait := 3 * time.Second
	if want.code == 0 {
		wait = 150 * time.Millisecond
		if want.counter == "sip.tcp.body_timeout" {
			wait = 1500 * time.Millisecond
		}
	}
	var answers [][]byte
	if transport == "udp" {
		if r := udpExchange(t, l.udp, []byte(c.msg), wait); r != nil {
			answers = append(answers, r)
		}
	} else {
		answers = tcpAnswers(t, l.tcp, []byte(c.msg), wait, 1+min(want.second, 1))
	}
	var codes []int
	for _, a := range answers {
		codes = append(codes, statusOf(a))
	}
	ok := len(codes) == 0 && want.code == 0 || len(codes) == 1 && want.second == 0 && codes[0] == want.code ||
		len(codes) == 2 && (codes[0] == want.code && codes[1] == want.second || codes[1] == want.code && codes[0] == want.second)
	if !ok {
		t.Errorf("%s over %s (RFC 4475 §%s): answers %v, want %d (and %d)\n%.300q", c.name, transport, c.rfc, codes, want.code, want.second, answers)
		return
	}
	if len(answers) > 0 && c.name != "dblreq" {
		checkEchoed(t, c.name+" over "+transport, []byte(c.msg), answers[0])
	}
	if want.counter != "" {
		waitCounter(t, l.srv.Counters, want.counter, before+1)
	}
}

// tcpAnswers sends bytes on a fresh connection and collects up to n framed
// answers within wait (fewer when the server closes the connection).
func tcpAnswers(t testing.TB, addr string, msg []byte, wait time.Duration, n int) [][]byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(msg)
	c.SetReadDeadline(time.Now().Add(wait))
	var f sipwire.Framer
	var out [][]byte
	buf := make([]byte, 65536)
	for len(out) < n {
		k, err := c.Read(buf)
		f.Write(buf[:k])
		for {
			m, _ := f.Next()
			if m == nil {
				break
			}
			out = append(out, m)
		}
		if err != nil {
			break
		}
	}
	return out
}

// checkEchoed: an answer carries the request's top Via branch and its
// Call-ID (RFC 3261 §8.2.6.2), when the request had them.
func checkEchoed(t *testing.T, name string, req, resp []byte) {
	t.Helper()
	reqVia, respVia := headerLines(req, "Via", "v"), headerLines(resp, "Via", "v")
	if len(reqVia) == 0 || len(respVia) == 0 {
		t.Errorf("%s: Via request %q answer %q", name, reqVia, respVia)
		return
	}
	top := strings.SplitN(reqVia[0], ",", 2)[0]
	if i := strings.Index(strings.ToLower(top), "branch"); i >= 0 {
		b := strings.TrimLeft(top[i+len("branch"):], " =")
		b = strings.SplitN(b, ";", 2)[0]
		if !strings.Contains(respVia[0], strings.TrimSpace(b)) {
			t.Errorf("%s: answer's top Via %q lacks the branch %q", name, respVia[0], b)
		}
	}
	if rc, ac := headerLines(req, "Call-ID", "i"), headerLines(resp, "Call-ID", "i"); len(rc) == 1 && (len(ac) != 1 || ac[0] != rc[0]) {
		t.Errorf("%s: Call-ID %q answered with %q", name, rc, ac)
	}
}
