package main

import (
	"fmt"
	"slices"
	"time"
)

// series is one measure over interleaved rounds: the floor's figure and
// updraft's of each round, taken one after the other, so a round's ratio
// compares two figures measured under the same load. A shared machine's
// load moves between rounds, which the spread of the ratios shows.
type series struct {
	floor, updraft []float64
}

// add records one round.
func (s *series) add(floor, updraft float64) {
	s.floor = append(s.floor, floor)
	s.updraft = append(s.updraft, updraft)
}

// rounds is the number of rounds recorded.
func (s *series) rounds() int { return len(s.floor) }

// medians are the medians of the floor's and updraft's figures.
func (s *series) medians() (floor, updraft float64) {
	return median(s.floor), median(s.updraft)
}

// ratios returns the median of the rounds' updraft/floor ratios and the
// smallest and largest of them.
func (s *series) ratios() (med, lo, hi float64) {
	r := make([]float64, len(s.floor))
	for i := range s.floor {
		r[i] = s.updraft[i] / s.floor[i]
	}
	if len(r) == 0 {
		return 0, 0, 0
	}
	return median(r), slices.Min(r), slices.Max(r)
}

// median is the middle value of xs (the mean of the two middle ones for
// an even count), or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// The table: a measure, the floor's figure, updraft's, their ratio, then
// the ratio's range over the rounds.
const (
	rowName = "%-40s"
	header  = rowName + " %12s %12s %8s  %s\n"
)

// printHeader prints the table's header and how to read it.
func printHeader(rounds int) {
	fmt.Printf(header, "measure", "floor", "updraft", "ratio", "ratio range")
	fmt.Printf("    floor and updraft: medians over %d interleaved rounds; ratio: the median of the rounds' ratios, then their range\n", rounds)
}

// durRow prints a row of durations (stored as nanoseconds).
func durRow(name string, s *series) {
	if s.rounds() == 0 {
		fmt.Printf(rowName+" no round succeeded (see its errors)\n", name)
		return
	}
	f, u := s.medians()
	med, lo, hi := s.ratios()
	fmt.Printf(rowName+" %12s %12s %7.2fx  [%.2f–%.2fx]\n", name, fmtDur(time.Duration(f)), fmtDur(time.Duration(u)), med, lo, hi)
}

// rateRow prints a row of rates per second, the ratio in percent.
func rateRow(name string, s *series) {
	if s.rounds() == 0 {
		fmt.Printf(rowName+" no round succeeded (see its errors)\n", name)
		return
	}
	f, u := s.medians()
	med, lo, hi := s.ratios()
	fmt.Printf(rowName+" %10.0f/s %10.0f/s %7.0f%%  [%.0f–%.0f%%]\n", name, f, u, 100*med, 100*lo, 100*hi)
}

// cpuRow prints a row of CPU times per request (stored as nanoseconds),
// in microseconds.
func cpuRow(name string, s *series) {
	if s.rounds() == 0 {
		fmt.Printf(rowName+" no round succeeded (see its errors)\n", name)
		return
	}
	f, u := s.medians()
	med, lo, hi := s.ratios()
	fmt.Printf(rowName+" %10.1fµs %10.1fµs %7.2fx  [%.2f–%.2fx]\n", name, f/1e3, u/1e3, med, lo, hi)
}

// errRow prints a phase's failures under its row, if there were any.
func errRow(what string, e *errCount) {
	if s := e.String(); s != "" {
		fmt.Printf("    %s: %s\n", what, s)
	}
}

func fmtDur(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/1e6) }

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }
