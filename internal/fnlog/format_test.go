package fnlog

import (
	"regexp"
	"testing"
	"time"
)

func TestFormatReport(t *testing.T) {
	const id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
	tests := []struct {
		name string
		r    Report
		want string
	}{
		{
			name: "a cold start shows Init Duration after Max Memory Used",
			r: Report{RequestID: id, Duration: 12340 * time.Microsecond, MemorySizeMB: 128,
				MaxMemoryUsedMB: 20, InitDuration: 4560 * time.Microsecond},
			want: "REPORT RequestId: " + id + "\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tInit Duration: 4.56 ms\t",
		},
		{
			name: "a warm start omits Init Duration",
			r:    Report{RequestID: id, Duration: 237170 * time.Microsecond, MemorySizeMB: 128, MaxMemoryUsedMB: 26},
			want: "REPORT RequestId: " + id + "\tDuration: 237.17 ms\tBilled Duration: 238 ms\tMemory Size: 128 MB\tMax Memory Used: 26 MB\t",
		},
		{
			name: "a whole millisecond is billed as is",
			r:    Report{RequestID: "a", Duration: 5 * time.Millisecond, MemorySizeMB: 256, MaxMemoryUsedMB: 30},
			want: "REPORT RequestId: a\tDuration: 5.00 ms\tBilled Duration: 5 ms\tMemory Size: 256 MB\tMax Memory Used: 30 MB\t",
		},
		{
			name: "a nanosecond past a millisecond bills the next one",
			r:    Report{RequestID: "a", Duration: time.Millisecond + 1, MemorySizeMB: 128, MaxMemoryUsedMB: 1},
			want: "REPORT RequestId: a\tDuration: 1.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB\t",
		},
		{
			name: "a zero duration bills the 1 ms minimum",
			r:    Report{RequestID: "a", MemorySizeMB: 128},
			want: "REPORT RequestId: a\tDuration: 0.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 0 MB\t",
		},
		{
			name: "a timeout adds Status after Init Duration",
			r: Report{RequestID: "a", Duration: 3000 * time.Millisecond, MemorySizeMB: 128, MaxMemoryUsedMB: 50,
				InitDuration: 150 * time.Millisecond, Status: "timeout"},
			want: "REPORT RequestId: a\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\tInit Duration: 150.00 ms\tStatus: timeout\t",
		},
		{
			name: "a crash adds Status and Error Type",
			r: Report{RequestID: "a", Duration: 10 * time.Millisecond, MemorySizeMB: 128, MaxMemoryUsedMB: 128,
				Status: "error", ErrorType: "Runtime.ExitError"},
			want: "REPORT RequestId: a\tDuration: 10.00 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.ExitError\t",
		},
		{
			name: "dropped lines come last",
			r: Report{RequestID: "a", Duration: 10 * time.Millisecond, MemorySizeMB: 128, MaxMemoryUsedMB: 128,
				Status: "timeout", DroppedLines: 12345},
			want: "REPORT RequestId: a\tDuration: 10.00 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: timeout\tDropped Log Lines: 12345\t",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatReport(tc.r); got != tc.want {
				t.Errorf("FormatReport:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestFramingLines(t *testing.T) {
	const id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"START names the version", StartLine(id, "$LATEST"), "START RequestId: " + id + " Version: $LATEST"},
		{"START of a published version", StartLine(id, "7"), "START RequestId: " + id + " Version: 7"},
		{"END has only the request ID", EndLine(id), "END RequestId: " + id},
		{
			"the timeout line has a UTC millisecond timestamp and two decimals",
			TimeoutLine(time.Date(2026, 11, 23, 1, 2, 3, 456789000, time.UTC), id, 3*time.Second),
			"2026-11-23T01:02:03.456Z " + id + " Task timed out after 3.00 seconds",
		},
		{
			"the timeout line converts the time to UTC",
			TimeoutLine(time.Date(2026, 11, 23, 3, 2, 3, 0, time.FixedZone("x", 2*3600)), id, 1500*time.Millisecond),
			"2026-11-23T01:02:03.000Z " + id + " Task timed out after 1.50 seconds",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestStreamName(t *testing.T) {
	now := time.Date(2026, 11, 23, 23, 59, 0, 0, time.FixedZone("x", -3600))
	re := regexp.MustCompile(`^2026/11/24/\[\$LATEST\][0-9a-f]{32}$`)
	a, b := StreamName(now, "$LATEST"), StreamName(now, "$LATEST")
	if !re.MatchString(a) {
		t.Errorf("StreamName = %q, want match of %s", a, re)
	}
	if a == b {
		t.Errorf("two stream names are equal: %q", a)
	}
	if got := StreamName(now, "3"); !regexp.MustCompile(`^2026/11/24/\[3\][0-9a-f]{32}$`).MatchString(got) {
		t.Errorf("StreamName for version 3 = %q", got)
	}
}

func TestSubject(t *testing.T) {
	tests := []struct{ function, want string }{
		{"my-func_1", "my-func__1"},
		{"MyFunc", "_my_func"},
		{"a.b*c>d", "a_0b_c_d"},
		{"", "_"},
	}
	for _, tc := range tests {
		if got := Subject(tc.function); got != "updraft.fnlogs."+tc.want {
			t.Errorf("Subject(%q) = %q, want updraft.fnlogs.%s", tc.function, got, tc.want)
		}
		if got := StreamOf(tc.function); got != "UPDRAFT_LOGS_"+tc.want {
			t.Errorf("StreamOf(%q) = %q, want UPDRAFT_LOGS_%s", tc.function, got, tc.want)
		}
	}
}
