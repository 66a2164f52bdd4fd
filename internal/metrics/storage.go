package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// StorageStats is what code storage holds and has given back, as the
// registry counts it (see registry.StorageStats).
type StorageStats struct {
	// UnpackedBytes and UnpackedDirs: this node's unpacked code and
	// merged-layer directories.
	UnpackedBytes, UnpackedDirs int64
	// BlobBytes and Blobs: the code and layer zips in the object store,
	// which every node shares.
	BlobBytes, Blobs int64
	// ReclaimedUnpackedBytes and ReclaimedBlobBytes: what this node has
	// removed since it started.
	ReclaimedUnpackedBytes, ReclaimedBlobBytes int64
}

// Label values of the storage metrics' "where" label.
const (
	whereUnpacked = "unpacked"
	whereStore    = "store"
)

// storageCollector reads StorageStats at each scrape.
type storageCollector struct {
	stats                     func() StorageStats
	bytes, objects, reclaimed *prometheus.Desc
}

// NewStorage registers on reg the collectors of code storage, read from
// stats at each scrape (stats must be quick: the registry answers from
// counters its reclaimer keeps):
//
//	updraft_code_bytes{where="unpacked"|"store"}            bytes held
//	updraft_code_objects{where="unpacked"|"store"}          directories / zips held
//	updraft_code_reclaimed_bytes_total{where=...}           bytes removed by this node
func NewStorage(reg prometheus.Registerer, stats func() StorageStats) {
	where := []string{"where"}
	reg.MustRegister(&storageCollector{
		stats: stats,
		bytes: prometheus.NewDesc("updraft_code_bytes",
			"Code and layers held: unpacked on this node's disk (where=unpacked; file sizes) or as zips in the object store that all nodes share (where=store).", where, nil),
		objects: prometheus.NewDesc("updraft_code_objects",
			"Unpacked code and merged-layer directories on this node (where=unpacked) or zips in the object store (where=store).", where, nil),
		reclaimed: prometheus.NewDesc("updraft_code_reclaimed_bytes_total",
			"Bytes of code and layers this node removed because no version or environment used them any more.", where, nil),
	})
}

// Describe implements prometheus.Collector.
func (c *storageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.bytes
	ch <- c.objects
	ch <- c.reclaimed
}

// Collect implements prometheus.Collector.
func (c *storageCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	gauge := func(d *prometheus.Desc, v int64, where string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), where)
	}
	counter := func(d *prometheus.Desc, v int64, where string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), where)
	}
	gauge(c.bytes, s.UnpackedBytes, whereUnpacked)
	gauge(c.bytes, s.BlobBytes, whereStore)
	gauge(c.objects, s.UnpackedDirs, whereUnpacked)
	gauge(c.objects, s.Blobs, whereStore)
	counter(c.reclaimed, s.ReclaimedUnpackedBytes, whereUnpacked)
	counter(c.reclaimed, s.ReclaimedBlobBytes, whereStore)
}
