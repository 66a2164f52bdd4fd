package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Store holds the collectors of the store's ability to write.
type Store struct {
	// WriteFailures counts store writes (publishes, KV and object puts)
	// that failed because JetStream could not store them, or that were
	// refused at once because the store was already known not to, by
	// reason: disk_full, insufficient_resources, write_error, timeout,
	// jetstream_disabled.
	WriteFailures *prometheus.CounterVec
	// Writable is 1 while the store takes writes and 0 while it is
	// degraded (/healthz then names the reason).
	Writable prometheus.Gauge
}

// NewStore creates the store collectors and registers them on reg.
func NewStore(reg prometheus.Registerer) *Store {
	m := &Store{
		WriteFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "updraft_store_write_failures_total",
			Help: "Store writes that failed or were refused because JetStream could not store them, by reason.",
		}, []string{"reason"}),
		Writable: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "updraft_store_writable",
			Help: "1 while the store accepts writes, 0 while it is degraded (see /healthz).",
		}),
	}
	m.Writable.Set(1)
	reg.MustRegister(m.WriteFailures, m.Writable)
	return m
}
