package metrics

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Values are read back with Gather rather than prometheus/testutil, whose
// diff dependency is not in go.sum.

// gather returns the registry's metric families by name.
func gather(t *testing.T, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := make(map[string]*dto.MetricFamily, len(fams))
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// series returns the metric of family name whose labels are exactly
// labels, or nil.
func series(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	f := gather(t, g)[name]
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if maps.Equal(got, labels) {
			return m
		}
	}
	return nil
}

// seriesCount is the number of series of family name.
func seriesCount(t *testing.T, g prometheus.Gatherer, name string) int {
	t.Helper()
	if f := gather(t, g)[name]; f != nil {
		return len(f.GetMetric())
	}
	return 0
}

func counterValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	m := series(t, g, name, labels)
	if m == nil || m.GetCounter() == nil {
		t.Fatalf("no counter %s%v", name, labels)
	}
	return m.GetCounter().GetValue()
}

func gaugeValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	m := series(t, g, name, labels)
	if m == nil || m.GetGauge() == nil {
		t.Fatalf("no gauge %s%v", name, labels)
	}
	return m.GetGauge().GetValue()
}

func fnv(function, version string) map[string]string {
	return map[string]string{"function": function, "version": version}
}

func TestNewInvokeRegistersTheDocumentedFamilies(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewInvoke(reg)
	// Vectors have no series until used; touch one of each.
	m.Invocations.WithLabelValues("f", "1").Inc()
	m.Errors.WithLabelValues("f", "1").Inc()
	m.Throttles.WithLabelValues("f", "1").Inc()
	m.Duration.WithLabelValues("f", "1").Observe(0.01)
	m.Concurrency("f", 1)
	m.ColdStart("f", "1", time.Millisecond)

	want := map[string]dto.MetricType{
		"lambda_invocations_total":     dto.MetricType_COUNTER,
		"lambda_errors_total":          dto.MetricType_COUNTER,
		"lambda_throttles_total":       dto.MetricType_COUNTER,
		"lambda_duration_seconds":      dto.MetricType_HISTOGRAM,
		"lambda_concurrent_executions": dto.MetricType_GAUGE,
		"lambda_cold_starts_total":     dto.MetricType_COUNTER,
		"lambda_init_duration_seconds": dto.MetricType_HISTOGRAM,
	}
	fams := gather(t, reg)
	if got := slices.Sorted(maps.Keys(fams)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Fatalf("families = %q, want %q", got, slices.Sorted(maps.Keys(want)))
	}
	for name, typ := range want {
		f := fams[name]
		if f.GetType() != typ {
			t.Errorf("%s is a %v, want %v", name, f.GetType(), typ)
		}
		if f.GetHelp() == "" {
			t.Errorf("%s has no help text", name)
		}
		var labels []string
		for _, lp := range f.GetMetric()[0].GetLabel() {
			labels = append(labels, lp.GetName())
		}
		wantLabels := []string{"function", "version"}
		if name == "lambda_concurrent_executions" {
			wantLabels = []string{"function"}
		}
		if !slices.Equal(labels, wantLabels) {
			t.Errorf("%s labels = %q, want %q", name, labels, wantLabels)
		}
	}
}

func TestNewInvokeOnSeparateRegistriesKeepsThemApart(t *testing.T) {
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	a := NewInvoke(regA)
	b := NewInvoke(regB) // must not panic: nothing is registered globally
	a.Invocations.WithLabelValues("fn", "$LATEST").Add(3)
	b.Invocations.WithLabelValues("fn", "$LATEST").Inc()

	if got := counterValue(t, regA, "lambda_invocations_total", fnv("fn", "$LATEST")); got != 3 {
		t.Errorf("registry A invocations = %v, want 3", got)
	}
	if got := counterValue(t, regB, "lambda_invocations_total", fnv("fn", "$LATEST")); got != 1 {
		t.Errorf("registry B invocations = %v, want 1", got)
	}
}

func TestNewInvokeTwiceOnOneRegistryPanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewInvoke(reg)
	defer func() {
		if recover() == nil {
			t.Error("second NewInvoke on the same registry did not panic; duplicate collectors would be silently lost")
		}
	}()
	NewInvoke(reg)
}

func TestNewRegistryHasGoAndProcessCollectors(t *testing.T) {
	reg := NewRegistry()
	fams := gather(t, reg)
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("NewRegistry lacks %s", name)
		}
	}
	if got := seriesCount(t, reg, "lambda_invocations_total"); got != 0 {
		t.Errorf("NewRegistry already has lambda_invocations_total series: %d", got)
	}
	// A second registry is independent of the first.
	NewInvoke(reg)
	NewInvoke(NewRegistry())
}

func TestColdStartCountsAndObservesTheInitDuration(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewInvoke(reg)

	m.ColdStart("fn", "$LATEST", 250*time.Millisecond)
	m.ColdStart("fn", "$LATEST", 2*time.Second)
	m.ColdStart("fn", "3", 4*time.Millisecond)

	if got := counterValue(t, reg, "lambda_cold_starts_total", fnv("fn", "$LATEST")); got != 2 {
		t.Errorf("cold starts of fn:$LATEST = %v, want 2", got)
	}
	if got := counterValue(t, reg, "lambda_cold_starts_total", fnv("fn", "3")); got != 1 {
		t.Errorf("cold starts of fn:3 = %v, want 1", got)
	}
	h := series(t, reg, "lambda_init_duration_seconds", fnv("fn", "$LATEST")).GetHistogram()
	if h.GetSampleCount() != 2 {
		t.Errorf("init duration samples = %d, want 2", h.GetSampleCount())
	}
	if got, want := h.GetSampleSum(), 2.25; got != want {
		t.Errorf("init duration sum = %v s, want %v s", got, want)
	}
	// Buckets are cumulative and inclusive: 0.25 s falls in le=0.25.
	wantCum := map[float64]uint64{0.1: 0, 0.25: 1, 1: 1, 2.5: 2, 900: 2}
	for _, b := range h.GetBucket() {
		if want, ok := wantCum[b.GetUpperBound()]; ok && b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%v count = %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	if got := seriesCount(t, reg, "lambda_invocations_total"); got != 0 {
		t.Errorf("ColdStart touched lambda_invocations_total (%d series); a cold start is not an invocation", got)
	}
}

func TestConcurrencySetsTheGaugeOfOneFunction(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewInvoke(reg)

	m.Concurrency("a", 3)
	m.Concurrency("b", 7)
	m.Concurrency("a", 1) // a gauge: the latest count, not a sum

	if got := gaugeValue(t, reg, "lambda_concurrent_executions", map[string]string{"function": "a"}); got != 1 {
		t.Errorf("concurrency of a = %v, want 1", got)
	}
	if got := gaugeValue(t, reg, "lambda_concurrent_executions", map[string]string{"function": "b"}); got != 7 {
		t.Errorf("concurrency of b = %v, want 7", got)
	}
	m.Concurrency("b", 0)
	if got := gaugeValue(t, reg, "lambda_concurrent_executions", map[string]string{"function": "b"}); got != 0 {
		t.Errorf("concurrency of b after it went idle = %v, want 0", got)
	}
	if got := seriesCount(t, reg, "lambda_concurrent_executions"); got != 2 {
		t.Errorf("concurrency series = %d, want 2 (one per function, no version label)", got)
	}
}

func TestLogLinesDroppedCountsLinesAndBytesPerFunctionAndReason(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewLogs(reg)

	m.LogLinesDropped("loud", "buffer", 1, 100)
	m.LogLinesDropped("loud", "buffer", 3, 50)
	m.LogLinesDropped("loud", "store", 2, 20)
	m.LogLinesDropped("quiet", "closed", 1, 5)

	checks := []struct {
		function, reason string
		lines, bytes     float64
	}{
		{"loud", "buffer", 4, 150},
		{"loud", "store", 2, 20},
		{"quiet", "closed", 1, 5},
	}
	for _, c := range checks {
		labels := map[string]string{"function": c.function, "reason": c.reason}
		if got := counterValue(t, reg, "updraft_function_log_dropped_lines_total", labels); got != c.lines {
			t.Errorf("dropped lines %v = %v, want %v", labels, got, c.lines)
		}
		if got := counterValue(t, reg, "updraft_function_log_dropped_bytes_total", labels); got != c.bytes {
			t.Errorf("dropped bytes %v = %v, want %v", labels, got, c.bytes)
		}
	}
	if got := seriesCount(t, reg, "updraft_function_log_dropped_lines_total"); got != 3 {
		t.Errorf("dropped lines series = %d, want 3", got)
	}
}

// TestStorageReadsStatsAtScrape checks that the storage metrics report
// what the stats function says at the time of each scrape, by "where".
func TestStorageReadsStatsAtScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	stats := StorageStats{UnpackedBytes: 241 << 20, UnpackedDirs: 2, BlobBytes: 245 << 10, Blobs: 3, ReclaimedUnpackedBytes: 7, ReclaimedBlobBytes: 9}
	NewStorage(reg, func() StorageStats { return stats })
	tests := []struct {
		name, where string
		gauge       bool
		want        float64
	}{
		{"updraft_code_bytes", "unpacked", true, 241 << 20},
		{"updraft_code_bytes", "store", true, 245 << 10},
		{"updraft_code_objects", "unpacked", true, 2},
		{"updraft_code_objects", "store", true, 3},
		{"updraft_code_reclaimed_bytes_total", "unpacked", false, 7},
		{"updraft_code_reclaimed_bytes_total", "store", false, 9},
	}
	for _, tc := range tests {
		m := series(t, reg, tc.name, map[string]string{"where": tc.where})
		if m == nil {
			t.Fatalf("%s{where=%q} missing", tc.name, tc.where)
		}
		got := m.GetCounter().GetValue()
		if tc.gauge {
			got = m.GetGauge().GetValue()
		}
		if got != tc.want {
			t.Errorf("%s{where=%q} = %v, want %v", tc.name, tc.where, got, tc.want)
		}
	}
	stats.UnpackedBytes = 0
	if m := series(t, reg, "updraft_code_bytes", map[string]string{"where": "unpacked"}); m.GetGauge().GetValue() != 0 {
		t.Errorf("after the stats changed, unpacked bytes = %v, want 0", m.GetGauge().GetValue())
	}
}
