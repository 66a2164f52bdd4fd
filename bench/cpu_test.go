package main

import (
	"encoding/binary"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    uint64
		wantErr bool
	}{
		{"a plain command name", "4242 (updraft) S 1 4242 4242 0 -1 4194560 1000 0 0 0 150 75 0 0 20 0 12 0", 225, false},
		{"a name with spaces and parentheses", "7 (a) b (c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0", 7, false},
		{"no command name", "4242 updraft S 1", 0, true},
		{"too few fields", "4242 (updraft) S 1 2 3", 0, true},
		{"a field that is not a number", "4242 (updraft) S 1 4242 4242 0 -1 4194560 1000 0 0 0 x 75 0", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU(tc.stat)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseStatCPU error %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("parseStatCPU = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestAuxvClockTicks(t *testing.T) {
	vec := func(pairs ...uint64) []byte {
		b := make([]byte, 8*len(pairs))
		for i, v := range pairs {
			binary.LittleEndian.PutUint64(b[8*i:], v)
		}
		return b
	}
	tests := []struct {
		name string
		auxv []byte
		want uint64
	}{
		{"AT_CLKTCK among other entries", vec(6, 4096, 17, 250, 0, 0), 250},
		{"no AT_CLKTCK falls back to 100", vec(6, 4096, 0, 0), 100},
		{"entries after AT_NULL are ignored", vec(0, 0, 17, 250), 100},
		{"a truncated vector falls back to 100", vec(17)[:8], 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := auxvClockTicks(tc.auxv); got != tc.want {
				t.Errorf("auxvClockTicks = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestProcessCPUFollowsRusage burns CPU until getrusage says this process
// used 200 ms more, and checks that /proc/self/stat saw the same within
// its clock-tick resolution.
func TestProcessCPUFollowsRusage(t *testing.T) {
	rusage := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	r0 := rusage()
	deadline := time.Now().Add(30 * time.Second)
	for rusage()-r0 < 200*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatal("did not get 200 ms of CPU within 30 s")
		}
	}
	used := rusage() - r0
	after, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	tick := time.Second / time.Duration(clockTicks())
	if got := after - before; got < used-3*tick || got > used+3*tick {
		t.Errorf("/proc/self/stat counted %s, getrusage %s (tick %s)", got, used, tick)
	}
}
