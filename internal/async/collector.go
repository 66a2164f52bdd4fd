package async

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	depthDesc = prometheus.NewDesc("lambda_async_queue_depth",
		"Asynchronous events of a function not finished yet (waiting, waiting out a retry delay, or running).", []string{"function"}, nil)
	ageDesc = prometheus.NewDesc("lambda_async_event_age_seconds",
		"Age of the oldest unfinished asynchronous event of a function (Lambda's AsyncEventAge).", []string{"function"}, nil)
)

// Collector returns a Prometheus collector of queue depth and oldest
// event age per function, read from JetStream at scrape time, so every
// node reports the shared queue.
func (e *Engine) Collector() prometheus.Collector { return collector{e} }

type collector struct{ e *Engine }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- ageDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lister := c.e.stream.ListConsumers(ctx)
	for info := range lister.Info() {
		fn, ok := functionOfConsumer(info.Name)
		if !ok {
			continue
		}
		depth := float64(info.NumPending) + float64(info.NumAckPending)
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, depth, fn)
		age := 0.0
		if depth > 0 {
			msg, err := c.e.stream.GetMsg(ctx, info.AckFloor.Stream+1, jetstream.WithGetMsgSubject(subjectFor(fn)))
			if err == nil {
				if ns, err := strconv.ParseInt(msg.Header.Get(hdrReceived), 10, 64); err == nil {
					age = time.Since(time.Unix(0, ns)).Seconds()
				}
			}
		}
		ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, age, fn)
	}
}

// functionOfConsumer returns the function whose events consumer name
// reads (see consumerFor).
func functionOfConsumer(name string) (string, bool) {
	fn, ok := strings.CutPrefix(name, "async_")
	return fn, ok && fn != ""
}
