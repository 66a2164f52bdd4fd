// Package metrics defines updraft's Prometheus collectors, named after
// Lambda's CloudWatch metrics (Invocations, Errors, Throttles, Duration,
// ConcurrentExecutions) so dashboards read the same. Collectors live on a
// registry the daemon owns; nothing here is global.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Invoke holds the collectors of the invoke path.
type Invoke struct {
	Invocations          *prometheus.CounterVec
	Errors               *prometheus.CounterVec
	Throttles            *prometheus.CounterVec
	Duration             *prometheus.HistogramVec
	ConcurrentExecutions *prometheus.GaugeVec
	ColdStarts           *prometheus.CounterVec
	InitDuration         *prometheus.HistogramVec
}

// NewRegistry returns a registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// NewInvoke creates the invoke collectors and registers them on reg.
func NewInvoke(reg prometheus.Registerer) *Invoke {
	labels := []string{"function", "version"}
	buckets := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900}
	m := &Invoke{
		Invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_invocations_total", Help: "Invocations that ran the function (Lambda's Invocations), successful or not.",
		}, labels),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_errors_total", Help: "Invocations that ended in a function error (Lambda's Errors).",
		}, labels),
		Throttles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_throttles_total", Help: "Invocations refused with TooManyRequestsException (Lambda's Throttles).",
		}, labels),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lambda_duration_seconds", Help: "Time the function spent on an invocation (Lambda's Duration).", Buckets: buckets,
		}, labels),
		ConcurrentExecutions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lambda_concurrent_executions", Help: "Invocations in progress (Lambda's ConcurrentExecutions).",
		}, []string{"function"}),
		ColdStarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_cold_starts_total", Help: "Execution environments created for an invocation.",
		}, labels),
		InitDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lambda_init_duration_seconds", Help: "Init phase of new execution environments.", Buckets: buckets,
		}, labels),
	}
	reg.MustRegister(m.Invocations, m.Errors, m.Throttles, m.Duration, m.ConcurrentExecutions, m.ColdStarts, m.InitDuration)
	return m
}

// ColdStart records a new environment; it satisfies pool.Observer.
func (m *Invoke) ColdStart(function, version string, init time.Duration) {
	m.ColdStarts.WithLabelValues(function, version).Inc()
	m.InitDuration.WithLabelValues(function, version).Observe(init.Seconds())
}

// Concurrency records busy environments of a function; it satisfies
// pool.Observer.
func (m *Invoke) Concurrency(function string, busy int) {
	m.ConcurrentExecutions.WithLabelValues(function).Set(float64(busy))
}
