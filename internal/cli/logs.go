package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// logTimeFormat is how `updraft logs` prints times: UTC, milliseconds.
const logTimeFormat = "2006-01-02T15:04:05.000Z"

// logLine is one NDJSON line of GET /updraft/v1/functions/{name}/logs.
type logLine struct {
	Time      string `json:"time"`
	Function  string `json:"function"`
	Version   string `json:"version"`
	Stream    string `json:"stream"`
	RequestID string `json:"requestId"`
	Message   string `json:"message"`
}

// logsFlags are the flags of `updraft logs`.
type logsFlags struct {
	follow bool
	limit  int
	since  string
	raw    bool
	json   bool
}

func logsCommand(e *env) *cobra.Command {
	var f logsFlags
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print a function's logs, and follow new ones",
		Long: `Print the log lines of a function (what it wrote to stdout and stderr, with
the START, END and REPORT lines of each invocation), oldest first.

Each line is printed as

  TIME  REQUESTID  MESSAGE

with TIME in UTC (2006-01-02T15:04:05.000Z) and "-" for a line written
outside any invocation (during init, say). --raw prints only the messages,
as the function wrote them; --json prints the server's NDJSON lines as
received ({"time","function","version","stream","requestId","message"}).

--limit is how many of the most recent lines to print first (like tail -n);
--since keeps only lines from that point on: a duration before now (90s,
10m, 2h, 1d) or a time (RFC 3339, or a date such as 2025-01-31).
--follow keeps the connection open and prints new lines as they arrive,
until interrupted.`,
		Example: `  updraft logs hello
  updraft logs hello --follow
  updraft logs hello --since 10m --limit 500
  updraft logs hello --raw --since 2025-01-31T09:00:00Z`,
		Args: nameArg,
	}
	e.bindConnectionFlags(cmd)
	fl := cmd.Flags()
	fl.BoolVarP(&f.follow, "follow", "f", false, "keep printing new lines as they are written")
	fl.IntVarP(&f.limit, "limit", "n", 100, "print at most this many of the latest lines first (0: the server's default)")
	fl.StringVar(&f.since, "since", "", "only lines from this time on: a duration before now (10m, 2h, 1d) or an RFC 3339 time")
	fl.BoolVar(&f.raw, "raw", false, "print only the messages")
	fl.BoolVar(&f.json, "json", false, "print the server's NDJSON lines as they are")
	cmd.MarkFlagsMutuallyExclusive("raw", "json")
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		return e.runLogs(cmd.Context(), args[0], f, time.Now())
	})
	return cmd
}

func (e *env) runLogs(ctx context.Context, name string, f logsFlags, now time.Time) error {
	path, err := logsPath(name, f, now)
	if err != nil {
		return err
	}
	c, err := e.client()
	if err != nil {
		return err
	}
	resp, err := c.Do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return fmt.Errorf("logs of %s: %w", name, err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if werr := e.printLogLine(line, f); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted while following: a normal way to stop
			}
			return fmt.Errorf("logs of %s: read: %w", name, err)
		}
	}
}

// logsPath builds the request path and query for the flags.
func logsPath(name string, f logsFlags, now time.Time) (string, error) {
	q := url.Values{}
	if f.limit < 0 {
		return "", fmt.Errorf("--limit %d: want 0 or more", f.limit)
	}
	if f.limit > 0 {
		q.Set("limit", strconv.Itoa(f.limit))
	}
	if f.follow {
		q.Set("follow", "true")
	}
	if f.since != "" {
		t, err := parseSince(f.since, now)
		if err != nil {
			return "", err
		}
		q.Set("since", t.UTC().Format(time.RFC3339))
	}
	path := "/updraft/v1/functions/" + url.PathEscape(name) + "/logs"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return path, nil
}

// parseSince reads --since: a Go duration (10m, 1h30m) or a number of
// days (1d) before now, an RFC 3339 time, or a date (UTC midnight).
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration before now (90s, 10m, 2h, 1d) or a time (2025-01-31T09:00:00Z, 2025-01-31)", s)
}

// printLogLine prints one NDJSON line in the chosen format. A line that is
// not the expected JSON is printed as it came rather than dropped.
func (e *env) printLogLine(line []byte, f logsFlags) error {
	var out string
	var l logLine
	switch {
	case f.json:
		out = string(bytes.TrimRight(line, "\r\n"))
	case json.Unmarshal(line, &l) != nil:
		out = string(bytes.TrimRight(line, "\r\n"))
	case f.raw:
		out = strings.TrimRight(l.Message, "\r\n")
	default:
		ts := l.Time
		if t, err := time.Parse(time.RFC3339Nano, l.Time); err == nil {
			ts = t.UTC().Format(logTimeFormat)
		}
		id := l.RequestID
		if id == "" {
			id = "-"
		}
		out = ts + "  " + id + "  " + strings.TrimRight(l.Message, "\r\n")
	}
	if _, err := io.WriteString(e.stdout, out+"\n"); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
