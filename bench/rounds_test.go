package main

import (
	"errors"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"no values give zero", nil, 0},
		{"one value is its own median", []float64{3}, 3},
		{"an odd count takes the middle after sorting", []float64{5, 1, 3}, 3},
		{"an even count takes the mean of the middle two", []float64{4, 1, 3, 2}, 2.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float64(nil), tc.in...)
			if got := median(tc.in); got != tc.want {
				t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
			}
			for i := range in {
				if in[i] != tc.in[i] {
					t.Fatalf("median reordered its input: %v, was %v", tc.in, in)
				}
			}
		})
	}
}

func TestSeriesRatiosAreTheMedianOfEachRoundsRatio(t *testing.T) {
	var s series
	// The medians of each side (2.5 and 7) would give 2.8x; the rounds'
	// own ratios are 2x, 4x, 5x and 0.06x, whose median is 3x.
	s.add(1, 2)
	s.add(2, 8)
	s.add(3, 15)
	s.add(100, 6)
	if s.rounds() != 4 {
		t.Fatalf("rounds = %d, want 4", s.rounds())
	}
	f, u := s.medians()
	if f != 2.5 || u != 7 {
		t.Errorf("medians = %v, %v; want 2.5, 7", f, u)
	}
	med, lo, hi := s.ratios()
	if med != 3 || lo != 0.06 || hi != 5 {
		t.Errorf("ratios = %v [%v, %v]; want 3 [0.06, 5]", med, lo, hi)
	}
}

func TestErrCountKeepsTheFirstError(t *testing.T) {
	var e errCount
	if e.String() != "" {
		t.Fatalf("no errors printed %q, want nothing", e.String())
	}
	first := errors.New("status 429 TooManyRequestsException")
	e.add(first)
	e.add(errors.New("connection reset"))
	if e.count() != 2 || !errors.Is(e.firstErr(), first) {
		t.Fatalf("count %d first %v; want 2 and %v", e.count(), e.firstErr(), first)
	}
	if got := e.String(); !strings.HasPrefix(got, "2 errors") || !strings.Contains(got, "429") {
		t.Errorf("String() = %q, want the count and the first error", got)
	}
}

func TestParseOnly(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{"empty selects every phase", "", phases, false},
		{"one phase", "c64", []string{"c64"}, false},
		{"a list with spaces", "latency, cold", []string{"latency", "cold"}, false},
		{"an unknown phase is refused", "c65", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseOnly(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseOnly(%q) error %v, want error %v", tc.in, err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("parseOnly(%q) = %v, want %v", tc.in, got, tc.want)
			}
			for _, p := range tc.want {
				if !got[p] {
					t.Errorf("parseOnly(%q) lacks %s", tc.in, p)
				}
			}
		})
	}
}
