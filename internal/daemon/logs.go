package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/api"
	"github.com/updraft/updraft/internal/fnlog"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// logReader serves function logs from the log stream.
type logReader struct{ js jetstream.JetStream }

// WriteLogs writes NDJSON records; see api.LogReader.
func (l *logReader) WriteLogs(ctx context.Context, w io.Writer, function string, q api.LogQuery) error {
	var since time.Time
	if q.Since != "" {
		if d, err := time.ParseDuration(q.Since); err == nil {
			since = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339, q.Since); err == nil {
			since = t
		} else {
			return lambdaerr.InvalidParameterValue("since must be RFC 3339 or a duration such as 10m")
		}
	}
	enc := json.NewEncoder(w)
	if q.Follow {
		// The last Limit records first, then the new ones, like tail -f.
		return fnlog.ReadThenFollow(ctx, l.js, function, fnlog.ReadOptions{Since: since, Limit: q.Limit},
			func(r fnlog.Record) error { return enc.Encode(r) })
	}
	recs, err := fnlog.Read(ctx, l.js, function, fnlog.ReadOptions{Since: since, Limit: q.Limit})
	if err != nil {
		return fmt.Errorf("daemon: read logs: %w", err)
	}
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}
