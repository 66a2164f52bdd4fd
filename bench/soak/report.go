package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// report collects the figures of a soak and the guarantees it saw broken.
type report struct {
	mu sync.Mutex
	// All fields are guarded by mu while the soak runs.
	kills  []killReport
	fills  []fillReport
	floods []connReport

	// Figures of the end.
	eventFinal, eventSucceeded       int
	eventFailed                      map[string]int
	queueSeen, streamSeen            int
	queueDeliveries, streamDelivered int
	unacceptedProcessed              map[string]int
	drainTook                        time.Duration

	baseline, end, afterStop resources
	rssBound                 int64
	rssMax                   int64
	rssIncarnation           int

	violations []string
}

// killReport is one SIGKILL and restart.
type killReport struct {
	pid           int
	restart       time.Duration // SIGKILL done → the new server healthy
	ready         time.Duration // exec → listening, of the new server
	spooledAtKill []string      // spool files of the upload in flight
	spoolLeft     []string      // of those, still there after the restart
	note          string
}

// fillReport is one full data-dir file system.
type fillReport struct {
	filled       int64
	fillTook     time.Duration
	healthDuring []string
	recovered    bool
	recoverTook  time.Duration
	stillFailing []string
}

// connReport is one connection flood.
type connReport struct {
	opened, idle, slowHeader, slowBody int
	dialErrors                         int
	dialExample                        string
	closedByServer                     int
	probes                             []time.Duration
	probeFailures                      []string
}

func (r *report) violate(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

// print writes every figure and violation.
func (r *report) print(w io.Writer, cfg config, ledgers map[string]*ledger, srv *server) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(w, "\n== soak: %s of load at %.0f/s per kind; %d kills, %d full disks, %d connection floods ==\n",
		cfg.duration, cfg.rate, len(r.kills), len(r.fills), len(r.floods))
	fmt.Fprintf(w, "%-7s %7s %9s %7s %8s %10s %11s\n", "load", "sent", "accepted", "errors", "skipped", "processed", "deliveries")
	for _, k := range kinds {
		l := ledgers[k]
		l.mu.Lock()
		processed, deliveries := "-", "-"
		switch k {
		case "sync":
			processed = fmt.Sprint(len(l.accepted) - len(l.wrong))
		case "event":
			processed = fmt.Sprintf("%d final", r.eventFinal)
		case "queue":
			processed, deliveries = fmt.Sprint(r.queueSeen), fmt.Sprint(r.queueDeliveries)
		case "stream":
			processed, deliveries = fmt.Sprint(r.streamSeen), fmt.Sprint(r.streamDelivered)
		}
		nerr := 0
		for _, m := range l.errs {
			for _, c := range m {
				nerr += c
			}
		}
		fmt.Fprintf(w, "%-7s %7d %9d %7d %8d %10s %11s\n", k, l.sent, len(l.accepted), nerr, l.skipped, processed, deliveries)
		l.mu.Unlock()
	}
	fmt.Fprintf(w, "event records: %d SUCCEEDED, failed %v; drain after the load: %s\n", r.eventSucceeded, r.eventFailed, r.drainTook.Round(time.Millisecond))
	if len(r.unacceptedProcessed) > 0 {
		fmt.Fprintf(w, "processed although the client saw an error (allowed: at least once): %v\n", r.unacceptedProcessed)
	}
	fmt.Fprintln(w, "errors (refused requests are allowed during faults; every class is listed):")
	for _, k := range kinds {
		l := ledgers[k]
		l.mu.Lock()
		for _, ph := range slices.Sorted(maps.Keys(l.errs)) {
			for _, class := range slices.Sorted(maps.Keys(l.errs[ph])) {
				fmt.Fprintf(w, "  %-6s %-16s %5d × %s  (e.g. %s)\n", k, ph, l.errs[ph][class], class, shorten(l.examples[class], 160))
			}
		}
		var slow []string
		for _, ph := range slices.Sorted(maps.Keys(l.slowest)) {
			slow = append(slow, fmt.Sprintf("%s %s", ph, l.slowest[ph].Round(time.Millisecond)))
		}
		fmt.Fprintf(w, "  %-6s slowest answer by phase: %s\n", k, strings.Join(slow, ", "))
		l.mu.Unlock()
	}
	for i, k := range r.kills {
		fmt.Fprintf(w, "kill %d: SIGKILL pid %d; healthy again after %s (exec → listening %s); spooled upload at the kill: %v; left after restart: %v %s\n",
			i+1, k.pid, k.restart.Round(time.Millisecond), k.ready.Round(time.Millisecond), k.spooledAtKill, k.spoolLeft, k.note)
	}
	for i, f := range r.fills {
		rec := "NOT recovered: " + strings.Join(f.stillFailing, "; ")
		if f.recovered {
			rec = "recovered without restart after " + f.recoverTook.Round(time.Millisecond).String()
		}
		fmt.Fprintf(w, "full disk %d: filled %d MiB in %s; /healthz while full: %s; %s\n",
			i+1, f.filled>>20, f.fillTook.Round(time.Millisecond), summarize(f.healthDuring), rec)
	}
	for i, c := range r.floods {
		p50, worst := percentile(c.probes, 50), percentile(c.probes, 100)
		fmt.Fprintf(w, "connections %d: opened %d at a cap of %d (%d idle keep-alive, %d slow headers, %d slow bodies; %d dial errors %s); closed by the server while held: %d; new clients' invokes: %d, %d failed, p50 %s, max %s\n",
			i+1, c.opened, cfg.maxConnections, c.idle, c.slowHeader, c.slowBody, c.dialErrors, c.dialExample, c.closedByServer,
			len(c.probes), len(c.probeFailures), p50.Round(time.Millisecond), worst.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "server RSS: max %d MiB (incarnation %d), bound %d MiB\n", r.rssMax>>20, r.rssIncarnation, r.rssBound>>20)
	fmt.Fprintf(w, "resources    %12s %12s %12s\n", "baseline", "end", "after stop")
	fmt.Fprintf(w, "  processes  %12d %12d %12d\n", len(r.baseline.children), len(r.end.children), len(r.afterStop.children))
	fmt.Fprintf(w, "  orphans    %12d %12d %12d\n", len(r.baseline.orphans), len(r.end.orphans), len(r.afterStop.orphans))
	fmt.Fprintf(w, "  cgroups    %12d %12d %12d\n", sum(r.baseline.cgroups), sum(r.end.cgroups), sum(r.afterStop.cgroups))
	fmt.Fprintf(w, "  fds        %12d %12d %12s   %s\n", r.baseline.fds, r.end.fds, "-", fdGrowth(r.baseline.fdKinds, r.end.fdKinds))
	fmt.Fprintf(w, "  spool      %12d %12d %12d\n", len(r.baseline.spool), len(r.end.spool), len(r.afterStop.spool))
	fmt.Fprintf(w, "  RSS MiB    %12d %12d %12s\n", r.baseline.rss>>20, r.end.rss>>20, "-")
	fmt.Fprintf(w, "  envs       %12d %12d %12s\n", r.baseline.envs, r.end.envs, "-")
	for _, inc := range srv.incarnations() {
		srv.mu.Lock()
		fmt.Fprintf(w, "server %d: pid %d, max RSS %d MiB, %d ERROR log lines", inc.n, inc.pid, inc.maxRSS>>20, inc.errorLines)
		for _, e := range inc.firstErrors {
			fmt.Fprintf(w, "\n    %s", shorten(e, 300))
		}
		fmt.Fprintln(w)
		srv.mu.Unlock()
	}
	if len(r.violations) == 0 {
		fmt.Fprintln(w, "soak: PASS, no violation")
		return
	}
	fmt.Fprintf(w, "soak: FAIL, %d violations:\n", len(r.violations))
	for _, v := range r.violations {
		fmt.Fprintf(w, "  - %s\n", v)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// summarize counts equal strings, in order of first appearance.
func summarize(ss []string) string {
	var order []string
	n := map[string]int{}
	for _, s := range ss {
		if n[s] == 0 {
			order = append(order, s)
		}
		n[s]++
	}
	var parts []string
	for _, s := range order {
		parts = append(parts, fmt.Sprintf("%d× %q", n[s], shorten(s, 200)))
	}
	return strings.Join(parts, ", ")
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s) - 1) * p / 100
	return s[i]
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
