package metrics

import "github.com/prometheus/client_golang/prometheus"

// Workflows holds the collectors of workflow executions, named after
// Step Functions' CloudWatch metrics (ExecutionsStarted,
// ExecutionsSucceeded, ExecutionsFailed, ExecutionsTimedOut,
// ExecutionsAborted, ExecutionTime), labelled by state machine.
type Workflows struct {
	// Started counts executions started.
	Started *prometheus.CounterVec
	// Ended counts executions that ended, by status (SUCCEEDED, FAILED,
	// TIMED_OUT, ABORTED).
	Ended *prometheus.CounterVec
	// ExecutionTime is the time from start to end.
	ExecutionTime *prometheus.HistogramVec
	// Transitions counts state transitions.
	Transitions *prometheus.CounterVec
	// StateTime is the time spent in a state, by state type.
	StateTime *prometheus.HistogramVec
}

// NewWorkflows creates the workflow collectors and registers them on reg.
func NewWorkflows(reg prometheus.Registerer) *Workflows {
	buckets := []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600}
	m := &Workflows{
		Started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "states_executions_started_total", Help: "Workflow executions started (Step Functions' ExecutionsStarted).",
		}, []string{"state_machine"}),
		Ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "states_executions_ended_total", Help: "Workflow executions ended, by status (ExecutionsSucceeded, ExecutionsFailed, ExecutionsTimedOut, ExecutionsAborted).",
		}, []string{"state_machine", "status"}),
		ExecutionTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "states_execution_time_seconds", Help: "Time from an execution's start to its end (ExecutionTime).", Buckets: buckets,
		}, []string{"state_machine"}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "states_state_transitions_total", Help: "State transitions of workflow executions.",
		}, []string{"state_machine"}),
		StateTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "states_state_time_seconds", Help: "Time spent in a state, from entering to leaving it, by state type.", Buckets: buckets,
		}, []string{"state_machine", "type"}),
	}
	reg.MustRegister(m.Started, m.Ended, m.ExecutionTime, m.Transitions, m.StateTime)
	return m
}
