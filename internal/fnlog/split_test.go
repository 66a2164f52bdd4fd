package fnlog

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// split feeds writes to a splitter of the given max and returns the lines
// emitted before the final flush, and the flushed rest.
func split(max int, writes ...string) (lines []string, rest string) {
	s := splitter{max: max}
	emit := func(b []byte) { lines = append(lines, string(b)) }
	for _, w := range writes {
		s.write([]byte(w), emit)
	}
	var tail []string
	s.flush(func(b []byte) { tail = append(tail, string(b)) })
	return lines, strings.Join(tail, "")
}

func TestSplitter(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		writes []string
		lines  []string
		rest   string
	}{
		{"one line per write", 64, []string{"a\n", "b\n"}, []string{"a", "b"}, ""},
		{"several lines in one write", 64, []string{"a\nb\nc\n"}, []string{"a", "b", "c"}, ""},
		{"a line across writes", 64, []string{"he", "ll", "o\nwor", "ld\n"}, []string{"hello", "world"}, ""},
		{"empty lines are kept", 64, []string{"\n\na\n"}, []string{"", "", "a"}, ""},
		{"a partial last line waits for flush", 64, []string{"a\nbc"}, []string{"a"}, "bc"},
		{"carriage returns are data", 64, []string{"a\r\n"}, []string{"a\r"}, ""},
		{"a line of exactly max is one line", 4, []string{"abcd\n"}, []string{"abcd"}, ""},
		{"a line of max across writes is one line", 4, []string{"ab", "cd", "\n"}, []string{"abcd"}, ""},
		{"a longer line is cut at max", 4, []string{"abcdefghij\n"}, []string{"abcd", "efgh", "ij"}, ""},
		{"a longer line across writes is cut at max", 4, []string{"abc", "defgh", "ij\n"}, []string{"abcd", "efgh", "ij"}, ""},
		{"a cut does not split a rune", 5, []string{"abcd€f\n"}, []string{"abcd", "€f"}, ""},
		{"a full buffer is cut when the line goes on", 4, []string{"abcd", "e"}, []string{"abcd"}, "e"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines, rest := split(tc.max, tc.writes...)
			if !slices.Equal(lines, tc.lines) || rest != tc.rest {
				t.Errorf("got lines %q rest %q, want %q rest %q", lines, rest, tc.lines, tc.rest)
			}
		})
	}
}

func TestSplitterLongLine(t *testing.T) {
	line := strings.Repeat("x", MaxLineSize*2+10)
	lines, rest := split(MaxLineSize, line[:1000], line[1000:]+"\n")
	if rest != "" || len(lines) != 3 || len(lines[0]) != MaxLineSize || len(lines[1]) != MaxLineSize || len(lines[2]) != 10 {
		t.Errorf("got %d lines, rest %d bytes", len(lines), len(rest))
	}
}

// referenceSplit is the splitter's contract written plainly: every line,
// terminated or not (an empty unterminated rest is no line), cut into pieces
// of at most max bytes, each cut moved back before a rune it would split.
func referenceSplit(data []byte, max int) []string {
	var out []string
	lines := bytes.Split(data, []byte{'\n'})
	for i, line := range lines {
		if i == len(lines)-1 && len(line) == 0 {
			break
		}
		for len(line) > max {
			c := cutPoint(line[:max])
			out = append(out, string(line[:c]))
			line = line[c:]
		}
		out = append(out, string(line))
	}
	return out
}

// FuzzLineSplitter checks that however the input is cut into writes, the
// splitter emits the pieces of referenceSplit, no piece exceeds max or holds
// a newline, joining them rebuilds the input, and valid UTF-8 stays valid.
func FuzzLineSplitter(f *testing.F) {
	f.Add([]byte("hello\nworld\n"), uint8(3), uint8(4))
	f.Add([]byte("no newline"), uint8(1), uint8(0))
	f.Add([]byte("€€€€€\n\n€a"), uint8(2), uint8(1))
	f.Add([]byte("\xe2\x82\n\xff\xfe"), uint8(5), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, step, maxExtra uint8) {
		max := utf8.UTFMax + int(maxExtra%32)
		s := splitter{max: max}
		var pieces []string
		emit := func(b []byte) {
			if len(b) > max {
				t.Fatalf("piece of %d bytes > max %d", len(b), max)
			}
			if bytes.IndexByte(b, '\n') >= 0 {
				t.Fatalf("piece %q holds a newline", b)
			}
			pieces = append(pieces, string(b))
		}
		n := int(step)%17 + 1
		for p := data; len(p) > 0; {
			k := min(n, len(p))
			s.write(p[:k], emit)
			p = p[k:]
		}
		s.flush(emit)

		if want := referenceSplit(data, max); !slices.Equal(pieces, want) {
			t.Fatalf("writes of %d bytes of %q gave %q, want %q", n, data, pieces, want)
		}
		if joined := strings.Join(pieces, ""); joined != string(bytes.ReplaceAll(data, []byte{'\n'}, nil)) {
			t.Fatalf("pieces %q do not rebuild %q", pieces, data)
		}
		if utf8.Valid(data) {
			for _, pc := range pieces {
				if !utf8.ValidString(pc) {
					t.Fatalf("valid input gave invalid piece %q", pc)
				}
			}
		}
	})
}
