package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// processCPU is the user+system time process pid has spent so far, all
// its threads, from /proc/PID/stat (fields 14 and 15, in clock ticks).
// Its children, the functions' processes, are not in it.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu of %d: %w", pid, err)
	}
	ticks, err := parseStatCPU(string(b))
	if err != nil {
		return 0, fmt.Errorf("cpu of %d: %w", pid, err)
	}
	return time.Duration(ticks) * time.Second / time.Duration(clockTicks()), nil
}

// parseStatCPU returns utime+stime of a /proc/PID/stat line. The command
// name (field 2) is in parentheses and may hold spaces and parentheses
// itself, so the fields are counted from the last ')'.
func parseStatCPU(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime 15.
	const utime = 14 - 3
	if len(f) <= utime+1 {
		return 0, fmt.Errorf("stat: %d fields after the command name, want at least %d", len(f), utime+2)
	}
	u, err := strconv.ParseUint(f[utime], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat: utime: %w", err)
	}
	s, err := strconv.ParseUint(f[utime+1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat: stime: %w", err)
	}
	return u + s, nil
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat times,
// from the AT_CLKTCK entry of this process's auxiliary vector (what
// sysconf(_SC_CLK_TCK) reads); 100, Linux's value on every common
// architecture, when that cannot be read.
func clockTicks() uint64 {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	return auxvClockTicks(b)
}

// auxvClockTicks finds AT_CLKTCK in a 64-bit little-endian auxiliary
// vector, or returns 100.
func auxvClockTicks(auxv []byte) uint64 {
	const atClkTck = 17
	for i := 0; i+16 <= len(auxv); i += 16 {
		key, val := binary.LittleEndian.Uint64(auxv[i:]), binary.LittleEndian.Uint64(auxv[i+8:])
		if key == 0 {
			break
		}
		if key == atClkTck && val > 0 {
			return val
		}
	}
	return 100
}
