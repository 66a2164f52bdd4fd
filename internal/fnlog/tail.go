package fnlog

// ring keeps the last TailSize bytes written to it.
type ring struct {
	buf  [TailSize]byte
	pos  int  // next write position
	full bool // buf has wrapped at least once
}

// reset empties the ring.
func (r *ring) reset() { r.pos, r.full = 0, false }

// writeString appends s, forgetting what falls out of the window.
func (r *ring) writeString(s string) {
	if len(s) >= len(r.buf) {
		copy(r.buf[:], s[len(s)-len(r.buf):])
		r.pos, r.full = 0, true
		return
	}
	n := copy(r.buf[r.pos:], s)
	if n < len(s) {
		r.pos = copy(r.buf[:], s[n:])
		r.full = true
		return
	}
	r.pos += n
	if r.pos == len(r.buf) {
		r.pos, r.full = 0, true
	}
}

// bytes returns a copy of the window, oldest byte first.
func (r *ring) bytes() []byte {
	if !r.full {
		return append([]byte(nil), r.buf[:r.pos]...)
	}
	out := make([]byte, 0, len(r.buf))
	out = append(out, r.buf[r.pos:]...)
	return append(out, r.buf[:r.pos]...)
}
