package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Async holds the collectors of asynchronous invocation, named after
// Lambda's AsyncEventsReceived, AsyncEventsDropped, DeadLetterErrors and
// DestinationDeliveryFailures.
type Async struct {
	// EventsReceived counts events accepted (202) per function.
	EventsReceived *prometheus.CounterVec
	// EventsDropped counts events that ended without reaching a DLQ or
	// destination, by reason (EventAgeExceeded, RetriesExhausted,
	// FunctionDeleted, ZeroConcurrency, ...).
	EventsDropped *prometheus.CounterVec
	// Retries counts events put back for another attempt, by reason
	// (FunctionError, Throttled, ServiceError).
	Retries *prometheus.CounterVec
	// Deliveries counts records delivered, by kind (OnSuccess, OnFailure,
	// DeadLetter); DeliveryFailures counts failed delivery attempts.
	Deliveries       *prometheus.CounterVec
	DeliveryFailures *prometheus.CounterVec
	// StartDelay is the time from acceptance to the first attempt.
	StartDelay *prometheus.HistogramVec
}

// NewAsync creates the async collectors and registers them on reg.
func NewAsync(reg prometheus.Registerer) *Async {
	m := &Async{
		EventsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_async_events_received_total", Help: "Asynchronous events accepted (Lambda's AsyncEventsReceived).",
		}, []string{"function"}),
		EventsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_async_events_dropped_total", Help: "Asynchronous events that ended in failure, by reason (Lambda's AsyncEventsDropped counts those with no destination).",
		}, []string{"function", "reason"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_async_retries_total", Help: "Asynchronous events put back for another attempt, by reason.",
		}, []string{"function", "reason"}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_async_deliveries_total", Help: "Records delivered to a destination or dead-letter queue, by kind.",
		}, []string{"function", "kind"}),
		DeliveryFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_async_delivery_failures_total", Help: "Failed deliveries to a destination or dead-letter queue, by kind (Lambda's DestinationDeliveryFailures and DeadLetterErrors); each is retried.",
		}, []string{"function", "kind"}),
		StartDelay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lambda_async_start_delay_seconds", Help: "Time from accepting an event to its first attempt.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30, 60, 300},
		}, []string{"function"}),
	}
	reg.MustRegister(m.EventsReceived, m.EventsDropped, m.Retries, m.Deliveries, m.DeliveryFailures, m.StartDelay)
	return m
}
