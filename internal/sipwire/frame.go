package sipwire

import (
	"bytes"
	"errors"
)

// Framing errors: the stream cannot be cut into messages any more and the
// connection has to close (RFC 3261 §18.3).
var (
	// ErrTooLarge: the header section or the whole message (headers plus
	// Content-Length) exceeds the framer's maximum.
	ErrTooLarge = errors.New("sipmsg: message exceeds the size limit")
	// ErrNoContentLength: a message on a stream without Content-Length
	// (RFC 3261 §18.3: it MUST be present on stream transports).
	ErrNoContentLength = errors.New("sipmsg: no Content-Length on a stream")
	// ErrBadContentLength: Content-Length is not 1*DIGIT or is repeated.
	ErrBadContentLength = errors.New("sipmsg: malformed Content-Length on a stream")
)

// Framer cuts a byte stream into SIP messages by the end of the header
// section and Content-Length (RFC 3261 §18.3), holding at most Max bytes of
// an incomplete message (plus what one Write adds). CRLFs between messages
// are skipped (RFC 3261 §7.5; RFC 5626 §3.5.1 keep-alives). It does not
// parse beyond Content-Length: Inspect does.
type Framer struct {
	// Max is the largest message in bytes; 0 means DefaultMaxMessage.
	Max int

	buf     []byte
	scanned int // bytes of buf searched for the header end without success
	hdrEnd  int // > 0: offset of the body, the header section is complete
	total   int // message length once hdrEnd is known
	err     error
}

// Write appends bytes read from the stream.
func (f *Framer) Write(p []byte) { f.buf = append(f.buf, p...) }

// Pending reports whether a message has started (bytes other than the
// CRLFs between messages are buffered).
func (f *Framer) Pending() bool {
	f.skipCRLF()
	return len(f.buf) > 0
}

// HeadersDone reports whether the pending message's header section is
// complete (only its body is still arriving).
func (f *Framer) HeadersDone() bool { return f.hdrEnd > 0 }

// Header is the pending message's header section once it is complete
// (valid until the next Write or Next), for answering a message the
// framer refuses.
func (f *Framer) Header() []byte {
	if f.hdrEnd == 0 {
		return nil
	}
	return f.buf[:f.hdrEnd]
}

func (f *Framer) max() int {
	if f.Max > 0 {
		return f.Max
	}
	return DefaultMaxMessage
}

func (f *Framer) skipCRLF() {
	if f.hdrEnd > 0 {
		return
	}
	i := 0
	for i+1 < len(f.buf) && f.buf[i] == '\r' && f.buf[i+1] == '\n' {
		i += 2
	}
	if i > 0 {
		f.consume(i)
	}
}

func (f *Framer) consume(n int) {
	rest := copy(f.buf, f.buf[n:])
	f.buf = f.buf[:rest]
	if cap(f.buf) > 4*f.max() && rest < f.max() {
		f.buf = append([]byte(nil), f.buf...) // give back a grown buffer
	}
	f.scanned, f.hdrEnd, f.total = 0, 0, 0
}

// Next returns the next complete message (a copy), nil when more bytes
// are needed, or a framing error, after which the framer stays failed.
func (f *Framer) Next() ([]byte, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.skipCRLF()
	if len(f.buf) == 1 && f.buf[0] == '\r' {
		return nil, nil // half of a CRLF
	}
	if f.hdrEnd == 0 {
		from := max(f.scanned-3, 0)
		i := bytes.Index(f.buf[from:], []byte("\r\n\r\n"))
		if i < 0 {
			f.scanned = len(f.buf)
			if len(f.buf) > f.max() {
				f.err = ErrTooLarge
				return nil, f.err
			}
			return nil, nil
		}
		if from+i+4 > f.max() {
			// The same verdict however the bytes arrived: a header
			// section over the limit is refused unread.
			f.err = ErrTooLarge
			return nil, f.err
		}
		f.hdrEnd = from + i + 4
		cl, err := contentLength(f.buf[:f.hdrEnd])
		if err != nil {
			f.err = err
			return nil, err
		}
		if cl > int64(f.max()-f.hdrEnd) {
			f.err = ErrTooLarge
			return nil, f.err
		}
		f.total = f.hdrEnd + int(cl)
	}
	if len(f.buf) < f.total {
		if len(f.buf) > f.max() { // unreachable: total <= max
			f.err = ErrTooLarge
			return nil, f.err
		}
		return nil, nil
	}
	msg := append([]byte(nil), f.buf[:f.total]...)
	f.consume(f.total)
	return msg, nil
}

// contentLength reads the one Content-Length ("l" in compact form, RFC
// 3261 §7.3.3) of a header section; folded lines are joined first.
func contentLength(head []byte) (int64, error) {
	var (
		n     int64
		found bool
	)
	lines := bytes.Split(head, []byte("\r\n"))
	for i := 1; i < len(lines); i++ { // lines[0] is the start line
		line := lines[i]
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		for i+1 < len(lines) && len(lines[i+1]) > 0 && (lines[i+1][0] == ' ' || lines[i+1][0] == '\t') {
			i++
			line = append(append(append([]byte(nil), line...), ' '), bytes.Trim(lines[i], " \t")...)
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		name := bytes.TrimRight(line[:colon], " \t")
		if !bytes.EqualFold(name, []byte("Content-Length")) && !bytes.EqualFold(name, []byte("l")) {
			continue
		}
		if found {
			return 0, ErrBadContentLength
		}
		v, ok := ParseDeltaSeconds(string(bytes.Trim(line[colon+1:], " \t")))
		if !ok {
			return 0, ErrBadContentLength
		}
		n, found = v, true
	}
	if !found {
		return 0, ErrNoContentLength
	}
	return n, nil
}
