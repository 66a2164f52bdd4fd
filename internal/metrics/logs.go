package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Logs holds the collectors of the function log pipeline. Lambda has no
// CloudWatch metric for lost log lines (its Telemetry API reports
// platform.logsDropped to extensions); these are updraft's own.
//
// They are labelled by function, like every lambda_* family: the number
// of series grows with the number of functions that lost lines (times the
// three reasons), not with traffic, and an operator needs to know which
// function is flooding its logs.
type Logs struct {
	// DroppedLines counts function log lines that were not stored, by
	// function and reason: "buffer" (the function wrote faster than the
	// store took its lines; its share of the buffer was full), "store"
	// (JetStream refused them or did not acknowledge them in time) or
	// "closed" (the server was stopping).
	DroppedLines *prometheus.CounterVec
	// DroppedBytes counts the bytes of text of those lines.
	DroppedBytes *prometheus.CounterVec
}

// NewLogs creates the log collectors and registers them on reg.
func NewLogs(reg prometheus.Registerer) *Logs {
	labels := []string{"function", "reason"}
	m := &Logs{
		DroppedLines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "updraft_function_log_dropped_lines_total", Help: "Function log lines not stored, by reason (buffer: written faster than stored; store: refused by JetStream; closed: server stopping).",
		}, labels),
		DroppedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "updraft_function_log_dropped_bytes_total", Help: "Bytes of text of the function log lines not stored, by reason.",
		}, labels),
	}
	reg.MustRegister(m.DroppedLines, m.DroppedBytes)
	return m
}

// LogLinesDropped counts lines of function lost for reason; it satisfies
// fnlog.DropObserver.
func (m *Logs) LogLinesDropped(function, reason string, lines, bytes int) {
	m.DroppedLines.WithLabelValues(function, reason).Add(float64(lines))
	m.DroppedBytes.WithLabelValues(function, reason).Add(float64(bytes))
}
